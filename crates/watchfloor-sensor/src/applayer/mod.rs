//! The sensor's side of the application layer: find a flow's protocol by
//! content, feed its parser (UDP payloads, reassembled TCP bytes), and turn
//! transactions into EVE records. Parsers themselves live in
//! `watchfloor-applayer`, one folder per protocol.

mod http;
mod tls;

use crate::detect::Emit;
use std::net::IpAddr;
use watchfloor_applayer::dns::{self, DnsConfig, DnsEveOptions, DnsEveVersion, DnsState};
use watchfloor_applayer::{AppEvent, Direction as AppDir};
use watchfloor_eve::{EtherInfo, EveRecord, EventBody, Proto, Timestamp};
use watchfloor_flow::{Direction, Flow};

pub use http::{http_settings, HttpFlow, HttpSettings};
pub use tls::{TlsFlow, TlsSettings};

/// DNS caps from `app-layer.protocols.dns.*` (Watchfloor's names; Suricata's
/// memcaps are global, these bound one flow).
pub fn dns_config(c: &crate::SensorConfig) -> DnsConfig {
    let mut cfg = DnsConfig::default();
    let Some(t) = c.app_layer.protocols.get("dns") else {
        return cfg;
    };
    let num = |k: &str| -> Option<usize> {
        match t.get(k)? {
            toml::Value::Integer(i) => usize::try_from(*i).ok(),
            toml::Value::String(s) => {
                crate::config::parse_size(s).and_then(|v| usize::try_from(v).ok())
            }
            _ => None,
        }
    };
    if let Some(v) = num("tcp-buffer-cap") {
        cfg.tcp_buffer_cap = v;
    }
    if let Some(v) = num("max-transactions") {
        cfg.max_transactions = v.max(1);
    }
    if let Some(v) = num("max-pending-requests") {
        cfg.max_pending_requests = v.max(1);
    }
    cfg
}

/// TLS settings from the config: `app-layer.protocols.tls.*` and the eve `tls` type.
pub fn tls_settings(c: &crate::SensorConfig) -> TlsSettings {
    let proto = c.app_layer.protocols.get("tls");
    let enabled = !matches!(
        proto.and_then(|t| t.get("enabled")),
        Some(toml::Value::Boolean(false))
    ) && !matches!(
        proto
            .and_then(|t| t.get("enabled"))
            .and_then(toml::Value::as_str),
        Some("no" | "false" | "off")
    );
    let eve = &c.outputs.eve_log;
    TlsSettings {
        enabled,
        config: tls::tls_config(proto),
        eve: eve.enabled("tls").then(|| {
            let opts = eve
                .types
                .get("tls")
                .and_then(|t| serde_json::to_value(t).ok())
                .unwrap_or(serde_json::Value::Null);
            watchfloor_applayer::tls::TlsEveOptions::from_config(&opts)
        }),
    }
}

/// Bytes of a TCP direction kept while the protocol is still unknown.
const PROBE_LIMIT: usize = 4096;

/// App-layer settings resolved from the config once per run.
#[derive(Debug, Clone)]
pub struct AppSettings {
    pub dns_udp: bool,
    pub dns_tcp: bool,
    /// Per-flow DNS caps (`app-layer.protocols.dns.{tcp-buffer-cap, max-transactions, max-pending-requests}`).
    pub dns_config: DnsConfig,
    /// `None` when dns records are not logged.
    pub dns_eve: Option<DnsEveOptions>,
    pub tls: TlsSettings,
    pub http: HttpSettings,
    pub anomaly_applayer: bool,
}

/// What the sensor knows of a flow's application protocol.
#[derive(Debug, Default)]
pub enum AppState {
    #[default]
    Unknown,
    Probing(Box<Probing>),
    Dns(Box<DnsState>),
    Tls(Box<TlsFlow>),
    Http(Box<HttpFlow>),
    /// Every parser Watchfloor has rejected the flow.
    Failed,
}

impl AppState {
    /// Payload inspection is over for this flow: TLS application data has
    /// started and `encryption-handling` is not `full` (Suricata's default
    /// `track-only` stops content inspection of encrypted sessions).
    pub fn no_inspection(&self) -> bool {
        match self {
            AppState::Tls(t) => {
                let st = &t.state;
                st.config().encryption_handling
                    != watchfloor_applayer::tls::EncryptionHandling::Full
                    && (st.client.app_data_records > 0 || st.server.app_data_records > 0)
            }
            _ => false,
        }
    }
}

/// A protocol a TCP probe recognised, and the direction its first message
/// travels (a request or ClientHello goes to the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    Dns(AppDir),
    Tls(AppDir),
    Http(AppDir),
}

enum Verdict {
    Found(Found),
    Rejected,
    NeedMore,
}

#[derive(Debug, Default)]
pub struct Probing {
    /// TCP bytes seen so far per direction, in flow order.
    tcp: [Vec<u8>; 2],
    /// Every probe has rejected this TCP direction: stop buffering it.
    tcp_rejected: [bool; 2],
    /// A UDP payload in this direction was not DNS.
    udp_rejected: [bool; 2],
}

/// Where a record is written from: the packet or stream event being handled.
pub struct Envelope {
    pub ts_ns: i64,
    pub pcap_cnt: u64,
    /// Direction of the packet being handled, and its (source, destination)
    /// MACs when `ethernet: yes` asks for them.
    pub pkt_dir: Direction,
    pub macs: Option<([u8; 6], [u8; 6])>,
    /// `community-id: yes`: its seed.
    pub community_seed: Option<u16>,
    /// `ethernet: yes`: records written without a packet (at flow end) take
    /// the MACs the flow saw.
    pub ethernet: bool,
}

/// The `ether` object of a record: source and destination MACs.
pub(crate) fn ether_info(src: [u8; 6], dst: [u8; 6]) -> EtherInfo {
    EtherInfo {
        src_mac: Some(mac_str(&src)),
        dest_mac: Some(mac_str(&dst)),
        ..EtherInfo::default()
    }
}

fn mac_str(m: &[u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

pub(crate) fn app_dir(d: Direction) -> AppDir {
    match d {
        Direction::ToServer => AppDir::ToServer,
        Direction::ToClient => AppDir::ToClient,
    }
}

impl AppSettings {
    /// UDP payload of a flow.
    pub fn on_udp<U>(
        &self,
        flow: &mut Flow<U>,
        state: &mut AppState,
        dir: Direction,
        payload: &[u8],
        env: &Envelope,
        out: &mut Emit<'_>,
    ) {
        if payload.is_empty() || !self.dns_udp {
            return;
        }
        if matches!(state, AppState::Unknown | AppState::Probing(_)) {
            if dns::probe_udp(payload).is_some() && !is_netbios_name_service(payload) {
                *state = AppState::Dns(Box::new(DnsState::new(self.dns_config.clone())));
                flow.app_proto = Some("dns");
            } else {
                let p = match state {
                    AppState::Probing(p) => p,
                    _ => {
                        *state = AppState::Probing(Box::default());
                        let AppState::Probing(p) = state else { return };
                        p
                    }
                };
                p.udp_rejected[dir.index()] = true;
                if p.udp_rejected.iter().all(|r| *r) {
                    *state = AppState::Failed;
                    flow.app_proto = Some("failed");
                }
                return;
            }
        }
        if let AppState::Dns(s) = state {
            // Errors are also raised as events on the transaction; nothing
            // more to do with them here.
            let _ = s.parse_udp(app_dir(dir), payload);
            self.emit_dns(flow, s, env, out);
        }
    }

    /// In-order TCP bytes of a flow.
    #[allow(clippy::too_many_arguments)]
    pub fn on_tcp<U>(
        &self,
        flow: &mut Flow<U>,
        state: &mut AppState,
        dir: Direction,
        data: &[u8],
        env: &Envelope,
        out: &mut Emit<'_>,
    ) {
        if data.is_empty() {
            return;
        }
        if matches!(state, AppState::Unknown) {
            *state = AppState::Probing(Box::default());
        }
        if let AppState::Probing(p) = state {
            if p.tcp_rejected[dir.index()] {
                return;
            }
            let buf = &mut p.tcp[dir.index()];
            let room = PROBE_LIMIT.saturating_sub(buf.len());
            buf.extend_from_slice(&data[..data.len().min(room)]);
            match self.probe_tcp(buf) {
                Verdict::Found(found) => {
                    let held = std::mem::take(&mut p.tcp);
                    self.start_tcp(flow, state, dir, found, held, env, out);
                }
                Verdict::Rejected => {
                    p.tcp_rejected[dir.index()] = true;
                    p.tcp[dir.index()] = Vec::new();
                    if p.tcp_rejected.iter().all(|r| *r) {
                        *state = AppState::Failed;
                        flow.app_proto = Some("failed");
                    }
                }
                Verdict::NeedMore => {}
            }
            return;
        }
        match state {
            AppState::Dns(s) => {
                let _ = s.parse_tcp(app_dir(dir), data);
                self.emit_dns(flow, s, env, out);
            }
            AppState::Tls(t) => {
                self.tls
                    .on_data(flow, t, dir, data, env, out, self.anomaly_applayer)
            }
            AppState::Http(h) => {
                self.http
                    .on_data(flow, h, dir, data, env, out, self.anomaly_applayer)
            }
            _ => {}
        }
    }

    /// Every enabled TCP probe on one direction's first bytes.
    fn probe_tcp(&self, buf: &[u8]) -> Verdict {
        let mut need_more = false;
        if self.tls.enabled {
            match watchfloor_applayer::tls::probe(buf) {
                watchfloor_applayer::tls::Probe::Tls(d) => return Verdict::Found(Found::Tls(d)),
                watchfloor_applayer::tls::Probe::NeedMore => need_more = true,
                watchfloor_applayer::tls::Probe::NotTls => {}
            }
        }
        if self.http.enabled {
            match watchfloor_applayer::http::probe(buf) {
                watchfloor_applayer::http::Probe::Yes(d) => return Verdict::Found(Found::Http(d)),
                watchfloor_applayer::http::Probe::NeedMore => need_more = true,
                watchfloor_applayer::http::Probe::No => {}
            }
        }
        if self.dns_tcp {
            match probe_dns_tcp(buf) {
                dns::Probe::Dns(d) => return Verdict::Found(Found::Dns(d)),
                dns::Probe::NeedMore => need_more = true,
                dns::Probe::NotDns => {}
            }
        }
        if need_more && buf.len() < PROBE_LIMIT {
            Verdict::NeedMore
        } else {
            Verdict::Rejected
        }
    }

    /// A probe recognised the flow: set up the parser and replay what was
    /// held back, client side first.
    #[allow(clippy::too_many_arguments)]
    fn start_tcp<U>(
        &self,
        flow: &mut Flow<U>,
        state: &mut AppState,
        dir: Direction,
        found: Found,
        mut held: [Vec<u8>; 2],
        env: &Envelope,
        out: &mut Emit<'_>,
    ) {
        let msg_dir = match found {
            Found::Dns(d) | Found::Tls(d) | Found::Http(d) => d,
        };
        // The first message says who the client is: one travelling "to
        // client" in what the flow calls the client's direction means a
        // midstream pick-up got the flow backwards, and it is swapped after
        // this packet (as Suricata does).
        let backwards = msg_dir != app_dir(dir) && flow.tcp_state().is_some();
        if backwards {
            flow.request_swap();
            held.swap(0, 1);
        }
        match found {
            Found::Dns(_) => {
                let mut s = Box::new(DnsState::new(self.dns_config.clone()));
                for d in [Direction::ToServer, Direction::ToClient] {
                    let bytes = std::mem::take(&mut held[d.index()]);
                    if !bytes.is_empty() {
                        let _ = s.parse_tcp(app_dir(d), &bytes);
                    }
                }
                flow.app_proto = Some("dns");
                self.emit_dns(flow, &mut s, env, out);
                *state = AppState::Dns(s);
            }
            Found::Tls(_) => {
                let mut t = Box::new(self.tls.new_flow());
                flow.app_proto = Some("tls");
                for d in [Direction::ToServer, Direction::ToClient] {
                    let bytes = std::mem::take(&mut held[d.index()]);
                    if !bytes.is_empty() {
                        self.tls
                            .on_data(flow, &mut t, d, &bytes, env, out, self.anomaly_applayer);
                    }
                }
                *state = AppState::Tls(t);
            }
            Found::Http(_) => {
                let mut h = Box::new(self.http.new_flow());
                flow.app_proto = Some("http");
                for d in [Direction::ToServer, Direction::ToClient] {
                    let bytes = std::mem::take(&mut held[d.index()]);
                    if !bytes.is_empty() {
                        self.http
                            .on_data(flow, &mut h, d, &bytes, env, out, self.anomaly_applayer);
                    }
                }
                *state = AppState::Http(h);
            }
        }
    }

    pub fn on_tcp_gap(&self, state: &mut AppState, dir: Direction, len: u64) {
        match state {
            AppState::Dns(s) => s.tcp_gap(app_dir(dir)),
            AppState::Tls(t) => t.state.gap(app_dir(dir)),
            AppState::Http(h) => self.http.on_gap(h, dir, len),
            _ => {}
        }
    }

    /// Flow end: a UDP flow rejected in the only direction that carried data
    /// has failed detection.
    pub fn on_flow_end<U>(
        &self,
        flow: &mut Flow<U>,
        state: &mut AppState,
        env: &Envelope,
        out: &mut Emit<'_>,
    ) {
        match state {
            AppState::Probing(p) => {
                let rejected = if flow.proto() == 17 {
                    &p.udp_rejected
                } else {
                    &p.tcp_rejected
                };
                if rejected.iter().any(|r| *r) {
                    flow.app_proto = Some("failed");
                }
            }
            AppState::Tls(t) => self.tls.on_end(flow, t, env, out),
            AppState::Http(h) => self.http.on_end(flow, h, env, out, self.anomaly_applayer),
            _ => {}
        }
    }

    fn emit_dns<U>(&self, flow: &Flow<U>, s: &mut DnsState, env: &Envelope, out: &mut Emit<'_>) {
        let txs: Vec<_> = s.drain().collect();
        for tx in &txs {
            // A config rule that silenced the question silences its answer.
            let mut log = !tx
                .reply_to
                .is_some_and(|q| out.flow_detect.as_deref().is_some_and(|f| f.is_unlogged(q)));
            if out.detect.is_some() {
                let dir = tx_dir(tx.direction);
                // An alert carries the transaction's v3 `dns` object.
                let obj = || {
                    let opts = DnsEveOptions::default();
                    dns::eve_dns_records(tx, &opts)
                        .into_iter()
                        .next()
                        .and_then(|o| serde_json::value::to_raw_value(&o).ok())
                        .map(|v| ("dns", v))
                };
                log &= out.tx(
                    flow,
                    "dns",
                    dir,
                    tx.tx_id,
                    &crate::detect::tx::DnsSrc(tx),
                    env,
                    &obj,
                );
            }
            if let (Some(opts), true) = (&self.dns_eve, log) {
                let packet_dir = match tx.direction {
                    AppDir::ToServer => Direction::ToServer,
                    AppDir::ToClient => Direction::ToClient,
                };
                let addr_dir = if opts.envelope_follows_flow() {
                    Direction::ToServer
                } else {
                    packet_dir
                };
                for obj in dns::eve_dns_records(tx, opts) {
                    let mut rec =
                        envelope(flow, addr_dir, env, EventBody::app_serialize("dns", &obj));
                    rec.pkt_src = Some("wire/pcap");
                    out.push(&rec);
                }
            }
            if self.anomaly_applayer {
                for ev in tx.app_events() {
                    let mut rec = anomaly(flow, tx_dir(tx.direction), env, ev);
                    rec.tx_id = Some(tx.tx_id);
                    out.push(&rec);
                }
            }
        }
        if self.anomaly_applayer {
            for ev in s.take_orphan_events() {
                let rec = anomaly(flow, Direction::ToServer, env, ev.into());
                out.push(&rec);
            }
        }
    }
}

/// NetBIOS name service (UDP 137) reuses DNS's message format, so a content
/// probe accepts it; its questions give it away: first-level-encoded names
/// (32 letters A–P) asking for NB (32) or NBSTAT (33) records.
fn is_netbios_name_service(payload: &[u8]) -> bool {
    let Ok(m) = dns::parse_message(payload) else {
        return false;
    };
    !m.questions.is_empty()
        && m.questions.iter().all(|q| {
            let name = m.name(&q.name);
            let first = name.split(|b| *b == b'.').next().unwrap_or(&[]);
            matches!(q.rrtype, 32 | 33)
                && first.len() == 32
                && first.iter().all(|b| (b'A'..=b'P').contains(b))
        })
}

/// DNS over TCP by content: only a complete first message that parses counts.
/// A plausible header alone is not enough on TCP: the first bytes of a TLS
/// record or a binary protocol often pass as one.
fn probe_dns_tcp(buf: &[u8]) -> dns::Probe {
    let Some(len) = buf
        .get(..2)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
    else {
        return dns::Probe::NeedMore;
    };
    if len < 12 || len + 2 > PROBE_LIMIT {
        return dns::Probe::NotDns;
    }
    if buf.len() < len + 2 {
        return dns::Probe::NeedMore;
    }
    dns::probe_tcp(&buf[..len + 2])
}

fn tx_dir(d: AppDir) -> Direction {
    match d {
        AppDir::ToServer => Direction::ToServer,
        AppDir::ToClient => Direction::ToClient,
    }
}

pub(crate) fn anomaly<U>(
    flow: &Flow<U>,
    dir: Direction,
    env: &Envelope,
    ev: AppEvent,
) -> EveRecord {
    let mut rec = envelope(
        flow,
        dir,
        env,
        EventBody::Anomaly {
            anomaly: ev.anomaly(),
        },
    );
    rec.pkt_src = Some("wire/pcap");
    rec
}

/// The common head of a flow-bound record, addresses as seen in `dir`.
pub fn envelope<U>(flow: &Flow<U>, dir: Direction, env: &Envelope, body: EventBody) -> EveRecord {
    // `dir` is in the flow's final orientation; until a requested swap happens
    // the flow's fields (and the packet's direction) are still the old way round.
    let dir = if flow.swap_pending() {
        dir.reverse()
    } else {
        dir
    };
    let mut rec = EveRecord::new(Timestamp(env.ts_ns), body);
    rec.flow_id = Some(flow.flow_id());
    if env.pcap_cnt > 0 {
        rec.pcap_cnt = Some(env.pcap_cnt);
    }
    rec.vlan = flow.vlans().to_vec();
    let (src, dst, sp, dp): (IpAddr, IpAddr, u16, u16) = match dir {
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
    rec.src_ip = Some(src);
    rec.dest_ip = Some(dst);
    rec.ip_v = Some(if src.is_ipv4() { 4 } else { 6 });
    if matches!(flow.proto(), 6 | 17 | 132) {
        rec.src_port = Some(sp);
        rec.dest_port = Some(dp);
    }
    rec.proto = Some(Proto(flow.proto()));
    let macs = match env.macs {
        // The record may face the other way from the packet that produced it
        // (a v2 DNS answer is written client first): the MACs follow the addresses.
        Some((s, d)) if dir == env.pkt_dir => Some((s, d)),
        Some((s, d)) => Some((d, s)),
        None if env.ethernet => flow.macs().and_then(|m| {
            let (s, d) = (*m.src.first()?, *m.dst.first()?);
            Some(if dir == Direction::ToServer {
                (s, d)
            } else {
                (d, s)
            })
        }),
        None => None,
    };
    if let Some((s, d)) = macs {
        rec.ether = Some(ether_info(s, d));
    }
    if let Some(seed) = env.community_seed {
        let (sp, dp) = match flow.icmp() {
            Some((t, c)) => (u16::from(t), u16::from(c)),
            None => (flow.src_port(), flow.dst_port()),
        };
        rec.community_id = Some(watchfloor_flow::community_id(
            seed,
            flow.src_ip(),
            flow.dst_ip(),
            sp,
            dp,
            flow.proto(),
        ));
    }
    rec
}

/// Reads the eve `dns` options (`version`, `requests`, `responses`, `types`,
/// `formats`) the way Suricata does; `env_version` is SURICATA_EVE_DNS_VERSION.
pub fn dns_eve_options(opts: &toml::Table, env_version: Option<&str>) -> DnsEveOptions {
    let mut o = DnsEveOptions::default();
    let version = opts.get("version").map(|v| match v {
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::String(s) => s.clone(),
        toml::Value::Float(f) => f.to_string(),
        _ => String::new(),
    });
    o.version = DnsEveVersion::select(version.as_deref(), env_version);
    if let Some(b) = opts.get("requests").and_then(toml::Value::as_bool) {
        o.requests = b;
    }
    if let Some(b) = opts.get("responses").and_then(toml::Value::as_bool) {
        o.responses = b;
    }
    if let Some(t) = opts.get("types").and_then(toml::Value::as_array) {
        o.set_types(t.iter().filter_map(toml::Value::as_str));
    }
    if let Some(f) = opts.get("formats").and_then(toml::Value::as_array) {
        o.set_formats(f.iter().filter_map(toml::Value::as_str));
    }
    o
}
