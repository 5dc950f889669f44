//! One worker: decode → flow table (with TCP streams) → EVE records. Owns all
//! its state, so workers never share a lock on the packet path.

use crate::applayer::{
    dns_eve_options, http_settings, tls_settings, AppSettings, AppState, Envelope,
};
use crate::config::{ChecksumMode, SensorConfig, Timeouts as CfgTimeouts};
use crate::detect::{self, DetectHandle, DetectSettings, DetectWorker, Emit};
use crate::output::{EveBuffer, EveFile};
use crate::stats::{AppStats, RunStats};
use crate::SensorError;
use std::sync::Arc;
use watchfloor_capture::RawPacket;
use watchfloor_decode::{DecodeConfig, Decoder, Packet, L4};
use watchfloor_eve::{AnomalyInfo, EveRecord, EventBody, Proto, Timestamp};
use watchfloor_flow::{
    Direction, EndReason, Flow, FlowConfig, FlowRecorder, FlowSink, FlowTable, StreamConfig,
    StreamEvent, Timeouts,
};

/// Everything a worker needs to know, resolved once from the config.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub decode: DecodeConfig,
    pub flow: FlowConfig,
    pub stream: StreamConfig,
    pub recorder: FlowRecorder,
    pub eve_flow: bool,
    pub eve_stats: bool,
    pub anomaly_decode: bool,
    pub anomaly_stream: bool,
    pub app: AppSettings,
    /// The rules, when the sensor runs any.
    pub detect: Option<Arc<DetectHandle>>,
}

fn timeouts(t: &CfgTimeouts, base: Timeouts) -> Timeouts {
    let c = |v: u64| v.min(u32::MAX as u64) as u32;
    Timeouts {
        new: c(t.new),
        established: c(t.established),
        closed: c(t.closed),
        emergency_new: c(t.emergency_new),
        emergency_established: c(t.emergency_established),
        emergency_closed: c(t.emergency_closed),
        ..base
    }
}

fn yes(v: Option<&toml::Value>) -> Option<bool> {
    match v? {
        toml::Value::Boolean(b) => Some(*b),
        // Suricata also accepts `detection-only`, which still detects.
        toml::Value::String(s) => Some(!matches!(s.as_str(), "no" | "false" | "off")),
        _ => None,
    }
}

/// `app-layer.protocols.<name>.<transport>.enabled`, falling back to
/// `app-layer.protocols.<name>.enabled`, then yes — as Suricata reads them.
fn protocol_enabled(c: &SensorConfig, name: &str, transport: &str) -> bool {
    let Some(p) = c.app_layer.protocols.get(name) else {
        return true;
    };
    let per_transport = p
        .get(transport)
        .and_then(toml::Value::as_table)
        .and_then(|t| yes(t.get("enabled")));
    per_transport.or(yes(p.get("enabled"))).unwrap_or(true)
}

impl WorkerSettings {
    pub fn from_config(c: &SensorConfig) -> Result<WorkerSettings, SensorError> {
        let mut decode = DecodeConfig {
            checksum_validation: c.checksum_checks == ChecksumMode::All,
            ..DecodeConfig::default()
        };
        decode.defrag.memcap_bytes = usize::try_from(c.defrag.memcap).unwrap_or(usize::MAX);
        decode.defrag.timeout_ns = (c.defrag.timeout.min(i64::MAX as u64 / 1_000_000_000) as i64)
            .saturating_mul(1_000_000_000);
        let eve = &c.outputs.eve_log;
        let flow = FlowConfig {
            memcap: c.flow.memcap,
            hash_size: c.flow.hash_size.max(1) as usize,
            emergency_recovery: c.flow.emergency_recovery.min(100) as u8,
            default_timeouts: timeouts(&c.flow_timeouts.default, Timeouts::DEFAULT),
            tcp: timeouts(&c.flow_timeouts.tcp, Timeouts::TCP),
            udp: timeouts(&c.flow_timeouts.udp, Timeouts::UDP),
            icmp: timeouts(&c.flow_timeouts.icmp, Timeouts::ICMP),
            track_macs: eve.ethernet,
            ..FlowConfig::default()
        };
        let stream = StreamConfig {
            depth: c.stream.reassembly.depth,
            memcap: c.stream.reassembly.memcap,
            midstream: c.stream.midstream,
            async_oneside: c.stream.async_oneside,
            // `-k none` turns off every checksum check, the stream's included.
            checksum_validation: c.stream.checksum_validation
                && c.checksum_checks == ChecksumMode::All,
            ..StreamConfig::default()
        };
        Ok(WorkerSettings {
            decode,
            flow,
            stream,
            recorder: FlowRecorder {
                community_id_seed: eve.community_id.then_some(eve.community_id_seed),
                ethernet: eve.ethernet,
            },
            eve_flow: eve.enabled("flow"),
            eve_stats: eve.enabled("stats"),
            anomaly_decode: eve.anomaly_enabled("decode"),
            anomaly_stream: eve.anomaly_enabled("stream"),
            app: AppSettings {
                dns_udp: protocol_enabled(c, "dns", "udp"),
                dns_tcp: protocol_enabled(c, "dns", "tcp"),
                dns_config: crate::applayer::dns_config(c),
                dns_eve: eve.enabled("dns").then(|| {
                    let empty = toml::Table::new();
                    let opts = eve.types.get("dns").unwrap_or(&empty);
                    dns_eve_options(opts, c.env_var("SURICATA_EVE_DNS_VERSION").as_deref())
                }),
                tls: tls_settings(c),
                http: http_settings(c, protocol_enabled(c, "http", "tcp")),
                anomaly_applayer: eve.anomaly_enabled("applayer"),
            },
            detect: None,
        })
    }
}

/// Per-flow state the sensor keeps beside the flow table's own. The app layer
/// hangs its parsers here.
#[derive(Debug, Default)]
pub struct FlowUser {
    pub stream_bytes: [u64; 2],
    pub app: AppState,
    pub detect: watchfloor_detect::FlowDetect,
    /// The flow's addresses were checked against the indicator sets.
    pub ioc_checked: bool,
}

/// The flow table's callbacks: where records are rendered.
struct Sink<'a> {
    settings: &'a WorkerSettings,
    out: &'a mut EveBuffer,
    pcap_cnt: u64,
    now_ns: i64,
    /// (source, destination) MACs of the packet being handled, when logged.
    macs: Option<([u8; 6], [u8; 6])>,
    app_stats: &'a mut AppStats,
    det: Option<&'a mut DetectWorker>,
    /// The frame of the packet being handled (for header rules).
    frame: &'a [u8],
    /// The packet being handled (stream rules check its header too).
    pkt: Option<&'a Packet<'a>>,
    linktype: u32,
    /// Stream reassembly handed on bytes while this packet was handled.
    delivered: bool,
    /// The app layer recognised the flow's protocol with this packet.
    proto_detected: bool,
}

impl<'a> Sink<'a> {
    /// The output for app-layer code, with detection when rules run.
    fn emit<'b>(
        &'b mut self,
        fd: &'b mut watchfloor_detect::FlowDetect,
        sb: [u64; 2],
        payload: &'b [u8],
    ) -> Emit<'b> {
        Emit {
            eve: self.out,
            detect: self.det.as_deref_mut(),
            flow_detect: Some(fd),
            stream_bytes: sb,
            alerted: false,
            payload,
        }
    }

    fn envelope(&self, pkt_dir: Direction) -> Envelope {
        Envelope {
            ts_ns: self.now_ns,
            pcap_cnt: self.pcap_cnt,
            pkt_dir,
            macs: self.macs,
            community_seed: self.settings.recorder.community_id_seed,
            ethernet: self.settings.recorder.ethernet,
        }
    }
}

impl FlowSink<FlowUser> for Sink<'_> {
    fn on_packet(&mut self, flow: &mut Flow<FlowUser>, dir: Direction, pkt: &Packet<'_>) {
        if let L4::Udp(_) = pkt.l4 {
            let mut app = std::mem::take(&mut flow.user.app);
            let mut fd = std::mem::take(&mut flow.user.detect);
            let env = self.envelope(dir);
            let sb = flow.user.stream_bytes;
            let settings = self.settings;
            let undetected = flow.app_proto.is_none();
            let mut out = self.emit(&mut fd, sb, pkt.payload);
            settings
                .app
                .on_udp(flow, &mut app, dir, pkt.payload, &env, &mut out);
            let alerted = out.alerted;
            if undetected && flow.app_proto.is_some() {
                self.proto_detected = true;
            }
            if alerted {
                flow.alerted = true;
            }
            flow.user.app = app;
            flow.user.detect = fd;
        }
        let env = self.envelope(dir);
        if let Some(w) = self.det.as_deref_mut() {
            let s = w.settings.clone();
            let s = &*s;
            let sb = flow.user.stream_bytes;
            let events = std::mem::take(&mut w.stream_events);
            let mut ctx = detect::ctx_for(flow, dir, pkt.ts_ns, Some(pkt), sb, &events);
            ctx.hdrs = watchfloor_detect::Headers::locate(self.frame, pkt);
            if let Some(fi) = ctx.flow.as_mut() {
                fi.proto_detected_now = self.proto_detected;
            }
            let mut alerts = std::mem::take(&mut w.alerts);
            s.engine.inspect_packet(
                &ctx,
                Some(&mut flow.user.detect),
                &mut w.scratch,
                &mut alerts,
            );
            // TCP payload the stream engine did not take (SYN data, an
            // untracked session) meets the stream rules as a packet.
            // (A TCP Fast Open SYN's data is the stream's: it arrives there.)
            let tfo_syn = matches!(pkt.l4, L4::Tcp(t) if t.flags & 0x02 != 0 && t.options.tfo);
            if matches!(pkt.l4, L4::Tcp(_))
                && !pkt.payload.is_empty()
                && !self.delivered
                && !tfo_syn
            {
                s.engine.inspect_unreassembled(
                    &ctx,
                    Some(&mut flow.user.detect),
                    &mut w.scratch,
                    &mut alerts,
                );
            }
            w.alerts = alerts;
            let ev = detect::alert::Evidence {
                payload: pkt.payload,
                frame: Some((self.frame, pkt.linktype.number())),
                stream: false,
                ip_v: pkt.ip.map(|i| i.version),
            };
            detect::write_alerts(s, w, Some(flow), dir, &env, self.out, &ev, &|| {
                EveRecord::new(
                    Timestamp(0),
                    EventBody::Multi {
                        event_type: "alert",
                        fields: Default::default(),
                    },
                )
            });
            let mut events = events;
            events.clear();
            w.stream_events = events;
            if let (Some(set), false) = (&s.indicators, flow.user.ioc_checked) {
                flow.user.ioc_checked = true;
                if set.has(watchfloor_indicators::Kind::Ip) {
                    let hits: Vec<_> = set
                        .match_ip(flow.src_ip())
                        .chain(set.match_ip(flow.dst_ip()))
                        .collect();
                    if !hits.is_empty() && s.alert.enabled {
                        let ev = detect::alert::Evidence {
                            payload: pkt.payload,
                            frame: Some((self.frame, pkt.linktype.number())),
                            stream: false,
                            ip_v: None,
                        };
                        for ind in hits {
                            self.out.push(&detect::alert::render_indicator(
                                s, ind, flow, dir, &env, None, &ev,
                            ));
                            w.alert_count += 1;
                        }
                        flow.alerted = true;
                    }
                }
            }
        }
    }

    fn on_stream_data(&mut self, flow: &mut Flow<FlowUser>, dir: Direction, data: &[u8]) {
        flow.user.stream_bytes[dir.index()] += data.len() as u64;
        self.delivered = true;
        let env = self.envelope(dir);
        // The app layer first, so alerts know the protocol the data started.
        let mut app = std::mem::take(&mut flow.user.app);
        let mut fd = std::mem::take(&mut flow.user.detect);
        let sb = flow.user.stream_bytes;
        let settings = self.settings;
        let undetected = flow.app_proto.is_none();
        let mut out = self.emit(&mut fd, sb, data);
        settings
            .app
            .on_tcp(flow, &mut app, dir, data, &env, &mut out);
        let alerted = out.alerted;
        if undetected && flow.app_proto.is_some() {
            self.proto_detected = true;
        }
        if alerted {
            flow.alerted = true;
        }
        flow.user.app = app;
        flow.user.detect = fd;
        if flow.user.app.no_inspection() {
            return;
        }
        if let Some(w) = self.det.as_deref_mut() {
            let s = w.settings.clone();
            let s = &*s;
            let sb = flow.user.stream_bytes;
            // The packet whose arrival delivered the bytes (bytes are handed
            // on as they arrive, so it travels their way): header keywords
            // such as `flags` apply to it. None when flushed at flow end.
            let ctx = detect::ctx_for(flow, dir, self.now_ns, self.pkt, sb, &[]);
            let mut alerts = std::mem::take(&mut w.alerts);
            s.engine.inspect_stream(
                &ctx,
                data,
                Some(&mut flow.user.detect),
                &mut w.scratch,
                &mut alerts,
            );
            w.alerts = alerts;
            let ev = detect::alert::Evidence {
                payload: data,
                frame: (!self.frame.is_empty()).then_some((self.frame, self.linktype)),
                stream: true,
                ip_v: Some(if flow.src_ip().is_ipv4() { 4 } else { 6 }),
            };
            detect::write_alerts(s, w, Some(flow), dir, &env, self.out, &ev, &|| {
                EveRecord::new(
                    Timestamp(0),
                    EventBody::Multi {
                        event_type: "alert",
                        fields: Default::default(),
                    },
                )
            });
        }
    }

    fn on_stream_gap(&mut self, flow: &mut Flow<FlowUser>, dir: Direction, len: u64) {
        self.settings.app.on_tcp_gap(&mut flow.user.app, dir, len);
    }

    fn on_stream_event(&mut self, flow: &mut Flow<FlowUser>, dir: Direction, ev: StreamEvent) {
        if let Some(w) = self.det.as_deref_mut() {
            w.stream_events.push(ev.name());
        }
        if !self.settings.anomaly_stream {
            return;
        }
        let mut rec = EveRecord::new(
            Timestamp(self.now_ns),
            EventBody::Anomaly {
                anomaly: AnomalyInfo {
                    kind: "stream",
                    event: ev.name(),
                    app_proto: None,
                    layer: None,
                },
            },
        );
        rec.flow_id = Some(flow.flow_id());
        rec.pcap_cnt = Some(self.pcap_cnt);
        let (src, dst, sp, dp) = match dir {
            Direction::ToServer => (
                flow.src_ip(),
                flow.dst_ip(),
                flow.src_port(),
                flow.dst_port(),
            ),
            Direction::ToClient => (
                flow.dst_ip(),
                flow.src_ip(),
                flow.dst_port(),
                flow.src_port(),
            ),
        };
        rec.vlan = flow.vlans().to_vec();
        rec.src_ip = Some(src);
        rec.dest_ip = Some(dst);
        rec.ip_v = Some(if dst.is_ipv4() { 4 } else { 6 });
        rec.src_port = Some(sp);
        rec.dest_port = Some(dp);
        rec.proto = Some(Proto(flow.proto()));
        rec.pkt_src = Some("wire/pcap");
        self.out.push(&rec);
    }

    fn on_flow_end(&mut self, flow: &mut Flow<FlowUser>, reason: EndReason) {
        let mut app = std::mem::take(&mut flow.user.app);
        let mut fd = std::mem::take(&mut flow.user.detect);
        let env = self.envelope(Direction::ToServer);
        let sb = flow.user.stream_bytes;
        let settings = self.settings;
        let mut out = self.emit(&mut fd, sb, &[]);
        settings.app.on_flow_end(flow, &mut app, &env, &mut out);
        if out.alerted {
            flow.alerted = true;
        }
        self.app_stats
            .count_flow(flow.proto(), flow.app_proto, &app);
        if self.settings.eve_flow {
            let rec = self.settings.recorder.flow_record(flow, reason);
            self.out.push(&rec);
        }
    }
}

pub struct Worker {
    settings: Arc<WorkerSettings>,
    decoder: Decoder,
    table: FlowTable<FlowUser>,
    out: EveBuffer,
    eve: Option<Arc<EveFile>>,
    stats: RunStats,
    next_defrag_expire: i64,
    /// Packet time as the whole capture has reached it (other workers'
    /// packets included), so that every worker times flows out when a
    /// single worker would.
    clock: Option<i64>,
    det: Option<DetectWorker>,
}

/// Packet-time interval between defragmentation timeout sweeps.
const DEFRAG_SWEEP_NS: i64 = 1_000_000_000;

impl Worker {
    pub fn new(
        settings: Arc<WorkerSettings>,
        eve: Option<Arc<EveFile>>,
    ) -> Result<Worker, SensorError> {
        let table = FlowTable::new(settings.flow.clone(), settings.stream)
            .map_err(|e| SensorError::Config(e.to_string()))?;
        Ok(Worker {
            det: settings.detect.as_ref().map(DetectWorker::new),
            decoder: Decoder::new(settings.decode.clone()),
            table,
            settings,
            out: EveBuffer::default(),
            eve,
            stats: RunStats::default(),
            next_defrag_expire: i64::MIN,
            clock: None,
        })
    }

    /// Packet time moved on because of another worker's packet: run the
    /// flow timeouts this worker would have run had it seen that packet.
    pub fn tick(&mut self, ts_ns: i64) -> Result<(), SensorError> {
        self.clock = Some(self.clock.map_or(ts_ns, |c| c.max(ts_ns)));
        let mut sink = Sink {
            settings: &self.settings,
            out: &mut self.out,
            app_stats: &mut self.stats.app,
            det: self.det.as_mut(),
            frame: &[],
            pkt: None,
            linktype: 0,
            delivered: false,
            proto_detected: false,
            pcap_cnt: 0,
            now_ns: ts_ns,
            macs: None,
        };
        self.table.expire(ts_ns, &mut sink);
        self.out.drain_to(self.eve.as_deref(), false)?;
        Ok(())
    }

    pub fn handle(&mut self, raw: &RawPacket<'_>, pcap_cnt: u64) -> Result<(), SensorError> {
        self.clock = Some(self.clock.map_or(raw.ts_ns, |c| c.max(raw.ts_ns)));
        let st = &mut self.stats;
        st.packets += 1;
        st.bytes += raw.data.len() as u64;
        if st.first_ts.is_none() {
            st.first_ts = Some(raw.ts_ns);
        }
        st.last_ts = Some(st.last_ts.map_or(raw.ts_ns, |t| t.max(raw.ts_ns)));
        if raw.ts_ns >= self.next_defrag_expire {
            self.decoder.expire(raw.ts_ns);
            self.next_defrag_expire = raw.ts_ns.saturating_add(DEFRAG_SWEEP_NS);
        }
        if let Some(d) = self.det.as_mut() {
            d.refresh();
        }
        let pkt = self.decoder.decode(raw);
        if self.settings.anomaly_decode && !pkt.events.is_empty() {
            decode_anomalies(&pkt, pcap_cnt, &mut self.out);
        }
        let macs = if self.settings.recorder.ethernet {
            pkt.ether.map(|e| (e.src, e.dst))
        } else {
            None
        };
        let mut sink = Sink {
            settings: &self.settings,
            out: &mut self.out,
            app_stats: &mut self.stats.app,
            det: self.det.as_mut(),
            frame: raw.data,
            pkt: Some(&pkt),
            linktype: raw.linktype.number(),
            delivered: false,
            proto_detected: false,
            pcap_cnt,
            now_ns: raw.ts_ns,
            macs,
        };
        let in_flow = self.table.process(&pkt, &mut sink).is_some();
        if !in_flow {
            if let Some(w) = self.det.as_mut() {
                let s = w.settings.clone();
                let ethernet = self.settings.recorder.ethernet;
                detect_flowless(&s, w, &mut self.out, raw.data, &pkt, pcap_cnt, ethernet);
            }
        }
        self.out.drain_to(self.eve.as_deref(), false)?;
        Ok(())
    }

    /// End of input: every flow still open ends with reason "shutdown".
    pub fn finish(mut self) -> Result<RunStats, SensorError> {
        let now = self.clock.unwrap_or(0);
        let mut sink = Sink {
            settings: &self.settings,
            out: &mut self.out,
            app_stats: &mut self.stats.app,
            det: self.det.as_mut(),
            frame: &[],
            pkt: None,
            linktype: 0,
            delivered: false,
            proto_detected: false,
            pcap_cnt: 0,
            now_ns: now,
            macs: None,
        };
        self.table.flush_all(&mut sink);
        self.out.drain_to(self.eve.as_deref(), true)?;
        self.stats.decode = self.decoder.stats().clone();
        self.stats.flow = self.table.stats();
        self.stats.record_counts = std::mem::take(&mut self.out.counts);
        Ok(self.stats)
    }
}

/// Rules on a packet that belongs to no flow (not IP, or undecodable
/// past layer 3): decoder-event and header rules.
fn detect_flowless(
    s: &DetectSettings,
    w: &mut DetectWorker,
    out: &mut EveBuffer,
    frame: &[u8],
    pkt: &Packet<'_>,
    pcap_cnt: u64,
    ethernet: bool,
) {
    let unspecified = std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
    let (sp, dp) = pkt.l4.ports();
    let ctx = watchfloor_detect::Ctx {
        ts_ns: pkt.ts_ns,
        src: pkt.ip.map_or(unspecified, |i| i.src),
        dst: pkt.ip.map_or(unspecified, |i| i.dst),
        sp,
        dp,
        proto: pkt.ip.map_or(0, |i| i.proto),
        ip_version: pkt.ip.map_or(0, |i| i.version),
        pkt: Some(pkt),
        flow: None,
        stream_events: &[],
        hdrs: watchfloor_detect::Headers::locate(frame, pkt),
        payload: &[],
    };
    let mut alerts = std::mem::take(&mut w.alerts);
    s.engine
        .inspect_packet(&ctx, None, &mut w.scratch, &mut alerts);
    w.alerts = alerts;
    let env = crate::applayer::Envelope {
        ts_ns: pkt.ts_ns,
        pcap_cnt,
        pkt_dir: Direction::ToServer,
        macs: None,
        community_seed: None,
        ethernet: false,
    };
    let ev = detect::alert::Evidence {
        payload: pkt.payload,
        frame: Some((frame, pkt.linktype.number())),
        stream: false,
        ip_v: pkt.ip.map(|i| i.version),
    };
    detect::write_alerts::<FlowUser>(s, w, None, Direction::ToServer, &env, out, &ev, &|| {
        let body = EventBody::Multi {
            event_type: "alert",
            fields: Default::default(),
        };
        let mut rec = packet_record(pkt, pcap_cnt, body);
        if ethernet {
            if let Some(e) = pkt.ether {
                rec.ether = Some(crate::applayer::ether_info(e.src, e.dst));
            }
        }
        rec
    });
}

/// A record about a packet alone (no flow): its time, VLANs, addresses,
/// ports or ICMP type/code as far as the packet decoded, and `body`.
fn packet_record(pkt: &Packet<'_>, pcap_cnt: u64, body: EventBody) -> EveRecord {
    let mut rec = EveRecord::new(Timestamp(pkt.ts_ns), body);
    rec.pcap_cnt = Some(pcap_cnt);
    rec.vlan = pkt.vlans().to_vec();
    if let Some(ip) = &pkt.ip {
        rec.src_ip = Some(ip.src);
        rec.dest_ip = Some(ip.dst);
        rec.ip_v = Some(ip.version);
        rec.proto = Some(Proto(ip.proto));
        match &pkt.l4 {
            L4::Tcp(_) | L4::Udp(_) => {
                let (sp, dp) = pkt.l4.ports();
                rec.src_port = Some(sp);
                rec.dest_port = Some(dp);
            }
            L4::Icmpv4(i) | L4::Icmpv6(i) => {
                rec.icmp_type = Some(i.icmp_type);
                rec.icmp_code = Some(i.code);
            }
            L4::None | L4::Other => {}
        }
    }
    rec.pkt_src = Some("wire/pcap");
    rec
}

/// One `anomaly` record per decoder event, as Suricata's anomaly logger writes
/// them: addresses when the packet got that far, `type: decode`.
fn decode_anomalies(pkt: &Packet<'_>, pcap_cnt: u64, out: &mut EveBuffer) {
    for ev in pkt.events.iter() {
        let body = EventBody::Anomaly {
            anomaly: AnomalyInfo {
                kind: "decode",
                event: ev.name(),
                app_proto: None,
                layer: None,
            },
        };
        out.push(&packet_record(pkt, pcap_cnt, body));
    }
}
