//! The flow table: finds or creates the flow of each packet, runs the TCP
//! state machine and reassembly, and ends flows on timeout, memory pressure
//! or shutdown. Packet time drives everything; there is no wall clock.

use crate::config::{FlowConfig, FlowConfigError};
use crate::flow::{EndReason, Flow, FlowState};
use crate::key::{has_ports, Direction, FlowKey};
use crate::stats::FlowStats;
use crate::tcp_state::{self, TcpState};
use rustc_hash::FxBuildHasher;
use std::collections::HashMap;
use watchfloor_decode::{tcp_flags, Packet, TcpHdr, L4};
use watchfloor_stream::{Reassembler, StreamConfig, StreamCtx, StreamEvent, StreamSink};

/// Receives what the table learns, packet by packet. Every callback gets the
/// flow mutably so the layers above can keep their state in `flow.user`.
pub trait FlowSink<U> {
    /// Called for every packet that belongs to a flow, after the flow's
    /// counters, TCP state and stream were updated for it.
    fn on_packet(&mut self, _flow: &mut Flow<U>, _dir: Direction, _pkt: &Packet<'_>) {}
    /// In-order TCP payload of one direction. (While this runs,
    /// `flow.stream(..)` is `None`: the reassembler is busy delivering.)
    fn on_stream_data(&mut self, _flow: &mut Flow<U>, _dir: Direction, _data: &[u8]) {}
    /// `len` bytes of one direction's stream were lost.
    fn on_stream_gap(&mut self, _flow: &mut Flow<U>, _dir: Direction, _len: u64) {}
    /// A `stream.*` anomaly in `dir`.
    fn on_stream_event(&mut self, _flow: &mut Flow<U>, _dir: Direction, _ev: StreamEvent) {}
    /// The flow ends; it is dropped when this returns. Remaining stream data
    /// was delivered just before.
    fn on_flow_end(&mut self, flow: &mut Flow<U>, reason: EndReason);
}

/// Feeds one flow's reassembler output to a [`FlowSink`].
struct Adapter<'a, U, S> {
    flow: &'a mut Flow<U>,
    sink: &'a mut S,
    dir: Direction,
}

impl<U, S: FlowSink<U>> StreamSink for Adapter<'_, U, S> {
    fn data(&mut self, bytes: &[u8]) {
        self.sink.on_stream_data(self.flow, self.dir, bytes);
    }
    fn gap(&mut self, len: u64) {
        self.sink.on_stream_gap(self.flow, self.dir, len);
    }
    fn event(&mut self, ev: StreamEvent) {
        self.sink.on_stream_event(self.flow, self.dir, ev);
    }
}

/// Flow table of one worker. Not shared between threads: shard packets by
/// flow (e.g. on [`FlowKey`]'s hash) and merge [`FlowStats`].
/// Smallest table worth keeping: below this, shrinking saves nothing.
const MIN_CAPACITY: usize = 1024;

pub struct FlowTable<U> {
    config: FlowConfig,
    map: HashMap<FlowKey, Flow<U>, FxBuildHasher>,
    stream: StreamCtx,
    stats: FlowStats,
    now_ns: i64,
    next_expire_ns: i64,
    emergency: bool,
    flow_size: u64,
}

/// Suricata's flow id layout: start time in the high bits, key hash in the
/// low 32, reduced to 51 bits so JSON consumers keep every digit.
fn make_flow_id(hash: u32, ts_ns: i64) -> u64 {
    let secs = ts_ns.div_euclid(1_000_000_000) as u64;
    let usecs = (ts_ns.rem_euclid(1_000_000_000) / 1_000) as u64;
    let id =
        ((secs & 0xffff) << 48 | (usecs & 0xffff) << 32 | u64::from(hash)) & 0x7_ffff_ffff_ffff;
    id.max(1)
}

fn end_flow<U, S: FlowSink<U>>(
    flow: &mut Flow<U>,
    reason: EndReason,
    now_ns: i64,
    emergency: bool,
    stream: &mut StreamCtx,
    stats: &mut FlowStats,
    sink: &mut S,
) {
    flow.end_ns = now_ns.max(flow.last_ns);
    flow.emergency = emergency;
    if let Some(mut streams) = flow.streams.take() {
        for dir in [Direction::ToServer, Direction::ToClient] {
            let mut a = Adapter {
                flow: &mut *flow,
                sink: &mut *sink,
                dir,
            };
            streams[dir.index()].flush(stream, &mut a);
        }
        flow.streams = Some(streams);
    }
    match reason {
        EndReason::Timeout => stats.ended_timeout += 1,
        EndReason::Shutdown => stats.ended_shutdown += 1,
        EndReason::Forced => stats.ended_forced += 1,
        EndReason::TcpReuse => stats.ended_tcp_reuse += 1,
    }
    sink.on_flow_end(flow, reason);
}

impl<U: Default> FlowTable<U> {
    pub fn new(config: FlowConfig, stream: StreamConfig) -> Result<Self, FlowConfigError> {
        config.validate()?;
        // `hash-size` is only a hint: timeout scans walk every bucket, so an
        // oversized table costs on every scan while holding few flows.
        let map =
            HashMap::with_capacity_and_hasher(config.hash_size.min(MIN_CAPACITY), FxBuildHasher);
        let flow_size = (std::mem::size_of::<(FlowKey, Flow<U>)>()
            + std::mem::size_of::<[Reassembler; 2]>()) as u64;
        Ok(FlowTable {
            config,
            map,
            stream: StreamCtx::new(stream),
            stats: FlowStats::default(),
            now_ns: i64::MIN,
            next_expire_ns: i64::MIN,
            emergency: false,
            flow_size,
        })
    }

    pub fn config(&self) -> &FlowConfig {
        &self.config
    }
    pub fn stream_config(&self) -> &StreamConfig {
        &self.stream.config
    }
    /// Counters, with the reassembly counters folded in.
    pub fn stats(&self) -> FlowStats {
        let mut s = self.stats;
        s.active = self.map.len() as u64;
        s.stream = self.stream.stats;
        s
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    pub fn in_emergency(&self) -> bool {
        self.emergency
    }
    pub fn get(&self, key: &FlowKey) -> Option<&Flow<U>> {
        self.map.get(key)
    }
    pub fn get_mut(&mut self, key: &FlowKey) -> Option<&mut Flow<U>> {
        self.map.get_mut(key)
    }
    pub fn iter(&self) -> impl Iterator<Item = &Flow<U>> {
        self.map.values()
    }

    /// Handles one packet; returns its flow's id, or `None` when the packet
    /// belongs to no flow (not IP, or layer 4 undecodable). Runs the timeout
    /// check first when packet time has moved past the next check.
    pub fn process<S: FlowSink<U>>(&mut self, pkt: &Packet<'_>, sink: &mut S) -> Option<u64> {
        self.stats.pkts += 1;
        let Some(ip) = pkt.ip else {
            self.stats.no_flow += 1;
            return None;
        };
        if matches!(pkt.l4, L4::None) {
            self.stats.no_flow += 1;
            return None;
        }
        self.expire(pkt.ts_ns, sink);
        let mut vlan = [0u16; 3];
        let vl = pkt.vlans();
        vlan[..vl.len().min(3)].copy_from_slice(&vl[..vl.len().min(3)]);
        let (sp, dp) = if has_ports(ip.proto) {
            pkt.l4.ports()
        } else {
            (0, 0)
        };

        if let L4::Icmpv4(ic) = pkt.l4 {
            if let (3, Some(inner)) = (ic.icmp_type, ic.inner) {
                let k = FlowKey::new(
                    inner.src,
                    inner.dst,
                    inner.sport,
                    inner.dport,
                    inner.proto,
                    vlan,
                );
                if let Some(flow) = self.map.get_mut(&k) {
                    self.stats.icmp_errors_attached += 1;
                    let dir = if ip.src == flow.src {
                        Direction::ToServer
                    } else {
                        Direction::ToClient
                    };
                    count_packet(flow, dir, pkt, self.config.track_macs);
                    sink.on_packet(flow, dir, pkt);
                    return Some(flow.flow_id);
                }
            }
        }

        let key = FlowKey::new(ip.src, ip.dst, sp, dp, ip.proto, vlan);
        // Only a bare SYN can reuse a tuple; checking first keeps the common
        // case at one table lookup.
        let syn_only = matches!(&pkt.l4, L4::Tcp(th)
            if th.flags & (tcp_flags::SYN | tcp_flags::ACK | tcp_flags::RST) == tcp_flags::SYN);
        if let (true, L4::Tcp(th)) = (syn_only, &pkt.l4) {
            let reused = self
                .map
                .get(&key)
                .and_then(|f| f.tcp.as_ref())
                .is_some_and(|s| tcp_state::is_reuse(s, th));
            if reused {
                if let Some(mut old) = self.map.remove(&key) {
                    self.stats.memuse = self.stats.memuse.saturating_sub(self.flow_size);
                    let now = self.now_ns;
                    end_flow(
                        &mut old,
                        EndReason::TcpReuse,
                        now,
                        false,
                        &mut self.stream,
                        &mut self.stats,
                        sink,
                    );
                }
            }
        }

        let mut created = false;
        let FlowTable {
            config,
            map,
            stream,
            stats,
            ..
        } = self;
        let flow = map.entry(key).or_insert_with(|| {
            created = true;
            new_flow(key, pkt, sp, dp, vlan)
        });
        if created {
            match ip.proto {
                6 => stats.created_tcp += 1,
                17 => stats.created_udp += 1,
                1 => stats.created_icmpv4 += 1,
                58 => stats.created_icmpv6 += 1,
                _ => stats.created_other += 1,
            }
        }
        let mut dir = flow.direction_of(ip.src, sp);
        count_packet(flow, dir, pkt, config.track_macs);
        flow.pkt_established = flow.state != FlowState::New;
        if let L4::Tcp(th) = &pkt.l4 {
            if flow.state != FlowState::Bypassed {
                dir = handle_tcp(flow, dir, th, pkt.payload, stream, stats, sink);
            }
        } else if flow.state == FlowState::New && flow.pkts[0] > 0 && flow.pkts[1] > 0 {
            flow.state = FlowState::Established;
        }
        sink.on_packet(flow, dir, pkt);
        if flow.swap_pending {
            flow.swap_pending = false;
            flow.swap();
        }
        let id = flow.flow_id;

        if created {
            self.stats.memuse += self.flow_size;
            self.stats.memuse_peak = self.stats.memuse_peak.max(self.stats.memuse);
            if self.stats.memuse > self.config.memcap {
                self.relieve_memory(sink);
            }
        }
        Some(id)
    }

    /// Ends flows whose timeout has passed at `now_ns` (packet time). Cheap
    /// to call for every packet: it only scans once per manager interval.
    /// Returns the number of flows ended.
    pub fn expire<S: FlowSink<U>>(&mut self, now_ns: i64, sink: &mut S) -> usize {
        self.now_ns = self.now_ns.max(now_ns);
        if now_ns < self.next_expire_ns {
            return 0;
        }
        self.next_expire_ns = now_ns.saturating_add(self.config.manager_interval_ns);
        let n = self.scan_timeouts(now_ns, sink);
        if self.emergency {
            let recovery = u64::from(self.config.emergency_recovery);
            if self.stats.memuse < self.config.memcap / 100 * (100 - recovery) {
                self.emergency = false;
                self.stats.emergency_mode_over += 1;
            }
        }
        n
    }

    fn scan_timeouts<S: FlowSink<U>>(&mut self, now_ns: i64, sink: &mut S) -> usize {
        let FlowTable {
            config,
            map,
            stream,
            stats,
            emergency,
            flow_size,
            ..
        } = self;
        let mut ended = 0usize;
        map.retain(|_, flow| {
            let t = config
                .timeouts(flow.proto)
                .for_state(flow.state, *emergency);
            if now_ns < flow.last_ns.saturating_add(t) {
                return true;
            }
            end_flow(
                flow,
                EndReason::Timeout,
                now_ns,
                *emergency,
                stream,
                stats,
                sink,
            );
            ended += 1;
            false
        });
        stats.memuse = stats.memuse.saturating_sub(ended as u64 * *flow_size);
        // A burst can leave a huge, mostly empty table; give the space back so
        // later scans stay proportional to the flows actually held.
        if map.capacity() > 8 * map.len().max(MIN_CAPACITY) {
            map.shrink_to(2 * map.len().max(MIN_CAPACITY));
        }
        ended
    }

    /// Memcap hit: enter emergency mode, apply the emergency timeouts, and if
    /// that frees too little evict the least recently active flows. Evicting
    /// a batch (down to 15/16 of the cap) keeps this off the per-packet path.
    fn relieve_memory<S: FlowSink<U>>(&mut self, sink: &mut S) {
        if !self.emergency {
            self.emergency = true;
            self.stats.emergency_mode_entered += 1;
        }
        let now = self.now_ns;
        self.scan_timeouts(now, sink);
        self.next_expire_ns = now.saturating_add(self.config.manager_interval_ns);
        let cap = self.config.memcap;
        let target = cap - cap / 16;
        if self.stats.memuse <= target {
            return;
        }
        let excess = self.stats.memuse - target;
        let n = (excess.div_ceil(self.flow_size) as usize).min(self.map.len());
        if n == 0 {
            return;
        }
        let mut ages: Vec<(i64, u64, FlowKey)> = self
            .map
            .iter()
            .map(|(k, f)| (f.last_ns, f.flow_id, *k))
            .collect();
        if n < ages.len() {
            ages.select_nth_unstable(n - 1);
            ages.truncate(n);
        }
        ages.sort_unstable();
        for (_, _, k) in ages {
            if let Some(mut flow) = self.map.remove(&k) {
                end_flow(
                    &mut flow,
                    EndReason::Timeout,
                    now,
                    true,
                    &mut self.stream,
                    &mut self.stats,
                    sink,
                );
                self.stats.emergency_evictions += 1;
                self.stats.memuse = self.stats.memuse.saturating_sub(self.flow_size);
            }
        }
    }

    /// End of input: ends every flow with reason `shutdown`, oldest first.
    pub fn flush_all<S: FlowSink<U>>(&mut self, sink: &mut S) -> usize {
        let mut flows: Vec<Flow<U>> = self.map.drain().map(|(_, f)| f).collect();
        flows.sort_unstable_by_key(|f| (f.start_ns, f.flow_id));
        let now = self.now_ns;
        let n = flows.len();
        for mut f in flows {
            end_flow(
                &mut f,
                EndReason::Shutdown,
                now,
                false,
                &mut self.stream,
                &mut self.stats,
                sink,
            );
        }
        self.stats.memuse = 0;
        n
    }
}

fn new_flow<U: Default>(
    key: FlowKey,
    pkt: &Packet<'_>,
    sp: u16,
    dp: u16,
    vlan: [u16; 3],
) -> Flow<U> {
    let (src, dst, proto) = match pkt.ip {
        Some(ip) => (ip.src, ip.dst, ip.proto),
        None => (
            std::net::Ipv4Addr::UNSPECIFIED.into(),
            std::net::Ipv4Addr::UNSPECIFIED.into(),
            0,
        ),
    };
    let icmp = match pkt.l4 {
        L4::Icmpv4(ic) | L4::Icmpv6(ic) => Some((ic.icmp_type, ic.code)),
        _ => None,
    };
    Flow {
        key,
        src,
        dst,
        sp,
        dp,
        proto,
        vlan,
        vlan_count: pkt.vlan_count.min(3),
        flow_id: make_flow_id(key.stable_hash(), pkt.ts_ns),
        start_ns: pkt.ts_ns,
        last_ns: pkt.ts_ns,
        end_ns: 0,
        pkts: [0; 2],
        bytes: [0; 2],
        state: FlowState::New,
        tcp: None,
        streams: None,
        icmp,
        icmp_response: None,
        macs: None,
        emergency: false,
        bad_checksums: 0,
        swap_pending: false,
        pkt_established: false,
        alerted: false,
        app_proto: None,
        user: U::default(),
    }
}

fn count_packet<U>(flow: &mut Flow<U>, dir: Direction, pkt: &Packet<'_>, track_macs: bool) {
    let d = dir.index();
    flow.pkts[d] += 1;
    flow.bytes[d] += u64::from(pkt.captured_len);
    flow.last_ns = flow.last_ns.max(pkt.ts_ns);
    if dir == Direction::ToClient && flow.icmp_response.is_none() {
        if let L4::Icmpv4(ic) | L4::Icmpv6(ic) = pkt.l4 {
            flow.icmp_response = Some((ic.icmp_type, ic.code));
        }
    }
    if track_macs {
        if let Some(e) = pkt.ether {
            flow.macs
                .get_or_insert_with(Default::default)
                .add(dir, e.src, e.dst);
        }
    }
}

/// TCP part of a packet: state machine, then reassembly. Returns the
/// packet's direction, which changes when the session reversed the flow.
fn handle_tcp<U, S: FlowSink<U>>(
    flow: &mut Flow<U>,
    mut dir: Direction,
    th: &TcpHdr,
    payload: &[u8],
    stream: &mut StreamCtx,
    stats: &mut FlowStats,
    sink: &mut S,
) -> Direction {
    if stream.config.checksum_validation && th.checksum_ok == Some(false) {
        flow.bad_checksums += 1;
        stats.invalid_checksum += 1;
        return dir;
    }
    let step = match flow.tcp.as_mut() {
        Some(s) => tcp_state::advance(s, &mut flow.streams, dir, th, payload.len(), stream),
        None => tcp_state::start(
            &mut flow.tcp,
            &mut flow.streams,
            dir,
            th,
            payload.len(),
            payload,
            stream,
        ),
    };
    if step.swapped {
        flow.swap_endpoints();
        dir = dir.reverse();
    }
    if step.new_session {
        stats.tcp_sessions += 1;
        if step.midstream {
            stats.midstream_pickups += 1;
        }
    }
    let Some(s) = flow.tcp.as_mut() else {
        for ev in step.events {
            sink.on_stream_event(flow, dir, ev);
        }
        return dir;
    };
    s.add_flags(dir, th.flags);
    let tcp = s.state();
    let client_isn = s.isn(Direction::ToServer);
    flow.state = tcp_state::flow_state_after(tcp, flow.state);
    for ev in step.events {
        sink.on_stream_event(flow, dir, ev);
    }
    let Some(mut streams) = flow.streams.take() else {
        return dir;
    };
    let syn = u32::from(th.flags & tcp_flags::SYN != 0);
    if let Some(data) = step.tfo {
        let mut a = Adapter {
            flow: &mut *flow,
            sink: &mut *sink,
            dir: Direction::ToServer,
        };
        streams[0].segment(client_isn.wrapping_add(1), &data, stream, &mut a);
    }
    if step.accept_data && !payload.is_empty() {
        let mut a = Adapter {
            flow: &mut *flow,
            sink: &mut *sink,
            dir,
        };
        streams[dir.index()].segment(th.seq.wrapping_add(syn), payload, stream, &mut a);
    }
    if th.flags & tcp_flags::ACK != 0 && !matches!(tcp, TcpState::None | TcpState::SynSent) {
        let other = dir.reverse();
        let mut a = Adapter {
            flow: &mut *flow,
            sink: &mut *sink,
            dir: other,
        };
        streams[other.index()].ack(th.ack, stream, &mut a);
    }
    if th.flags & tcp_flags::FIN != 0 {
        let fin_seq = th.seq.wrapping_add(syn).wrapping_add(payload.len() as u32);
        streams[dir.index()].fin(fin_seq);
    }
    flow.streams = Some(streams);
    dir
}
