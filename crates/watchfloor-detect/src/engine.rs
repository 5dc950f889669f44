//! The engine: rules sorted into groups by where they run, each group with
//! its prefilters; and the entry points the sensor calls for a packet, for
//! in-order stream data and for a finished transaction.

use crate::addr::{AddrMatch, IpOnlyIndex};
use crate::compile::{BufKey, Class, CompiledSig, SigCompileError};
use crate::eval::{self, Data};
use crate::inspect::{self, Env};
use crate::intern::Interner;
use crate::prefilter::{Marks, Mpm, MpmBuilder};
use crate::state::{FlowDetect, Thresholds};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use watchfloor_decode::Packet;
use watchfloor_rules::{Action, Buffer, Check, FlowDir, Sig};

/// The flow a packet belongs to, as detection needs to know it.
#[derive(Debug, Clone, Copy)]
pub struct FlowInfo<'a> {
    pub flow_id: u64,
    /// Direction of the data being inspected.
    pub dir: FlowDir,
    /// TCP: three-way handshake seen (or picked up midstream); others:
    /// packets seen both ways.
    pub established: bool,
    pub app_proto: Option<&'a str>,
    /// Bytes the client and the server sent so far (stream payload).
    pub stream_bytes: [u64; 2],
    /// Protocol detection finished with the packet being inspected.
    pub proto_detected_now: bool,
}

/// What is being inspected, with the addresses as the rule header sees
/// them (the data's direction, not necessarily the current packet's).
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub ts_ns: i64,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sp: u16,
    pub dp: u16,
    pub proto: u8,
    pub ip_version: u8,
    /// The packet, when the inspection is for one.
    pub pkt: Option<&'a Packet<'a>>,
    pub flow: Option<FlowInfo<'a>>,
    /// Stream events the current packet raised (Suricata names without the
    /// `stream.` prefix).
    pub stream_events: &'a [&'static str],
    /// The packet's raw IP and layer-4 headers, for `ipv4.hdr`, `tcp.hdr`...
    pub hdrs: Option<Headers<'a>>,
    /// For a transaction: the bytes of the packet or stream chunk that
    /// completed it, which payload contents of an app-layer rule inspect
    /// (`alert dns ... content:"..."; dns.query; ...`).
    pub payload: &'a [u8],
}

/// Raw header bytes of a packet.
#[derive(Debug, Clone, Copy)]
pub struct Headers<'a> {
    /// The IP header (IPv6: with extension headers).
    pub l3: &'a [u8],
    /// The layer-4 header (ICMP: the whole message, as its length depends
    /// on the type).
    pub l4: &'a [u8],
}

impl<'a> Headers<'a> {
    /// Finds the headers of `pkt` inside the frame it was decoded from.
    /// `None` when the packet does not borrow the frame (a reassembled
    /// datagram) or has no IP layer.
    pub fn locate(frame: &'a [u8], pkt: &Packet<'_>) -> Option<Headers<'a>> {
        let ip = pkt.ip?;
        let base = frame.as_ptr() as usize;
        let p = pkt.payload.as_ptr() as usize;
        if p < base || p > base + frame.len() {
            return None;
        }
        let payload_off = p - base;
        let payload_end = payload_off + pkt.payload.len();
        let hdr_len = usize::from(ip.hdr_len);
        let is_icmp = matches!(
            pkt.l4,
            watchfloor_decode::L4::Icmpv4(_) | watchfloor_decode::L4::Icmpv6(_)
        );
        // The datagram ends where its payload ends, so its start is that
        // end less its total length; checked against the version nibble in
        // case a capture cut the packet short.
        let from_end = payload_end
            .checked_sub(ip.total_len as usize)
            .filter(|s| frame.get(*s).is_some_and(|b| b >> 4 == ip.version));
        let (l3_start, l4_start) = match from_end {
            Some(s) => (s, s + hdr_len),
            None => {
                let l4_len = match pkt.l4 {
                    watchfloor_decode::L4::Tcp(t) => usize::from(t.hdr_len),
                    watchfloor_decode::L4::Udp(_) => 8,
                    _ if is_icmp => 8,
                    _ => 0,
                };
                let l4 = payload_off.checked_sub(l4_len)?;
                (l4.checked_sub(hdr_len)?, l4)
            }
        };
        // ICMP: the whole message, as its header length depends on the type.
        let l4_end = if is_icmp { payload_end } else { payload_off };
        Some(Headers {
            l3: frame.get(l3_start..l4_start)?,
            l4: frame.get(l4_start..l4_end.max(l4_start).min(frame.len()))?,
        })
    }
}

/// The buffers and properties of one app-layer transaction.
pub trait TxSource {
    /// Calls `f` with each instance of `buffer` (most buffers have one;
    /// `dns.query` has one per question) until `f` returns true. Returns
    /// whether it did. A buffer the transaction lacks has no instance.
    fn each(&self, buffer: Buffer, dir: FlowDir, f: &mut dyn FnMut(&[u8]) -> bool) -> bool;
    /// App-layer checks (`tls.version`, `dns.opcode`...); `None` when the
    /// check does not apply to this protocol.
    fn check(&self, check: &Check, dir: FlowDir) -> Option<bool>;
    /// Whether the transaction raised the app-layer event (`layer`, `name`).
    fn has_event(&self, layer: &str, name: &str) -> bool;
}

/// A rule that matched and may alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alert {
    /// Index of the rule in [`Engine::sig`].
    pub rule: u32,
    pub tx_id: Option<u64>,
}

/// A rule that did not make it into the engine.
#[derive(Debug)]
pub struct BuildError {
    pub sig: Box<Sig>,
    pub error: SigCompileError,
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: sid {}: {}",
            self.sig.file.as_deref().unwrap_or("<rules>"),
            self.sig.line,
            self.sig.sid,
            self.error
        )
    }
}

/// A set of rules sharing a prefilter.
#[derive(Debug, Default)]
struct Group {
    mpms: Vec<(BufKey, Mpm, usize)>,
    /// Rules without a fast pattern: always candidates.
    always: Vec<u32>,
}

#[derive(Debug, Default)]
struct GroupBuilder {
    mpms: HashMap<BufKey, MpmBuilder>,
    always: Vec<u32>,
}

impl GroupBuilder {
    fn add(&mut self, cs: &CompiledSig) {
        self.add_if(cs, |_| true)
    }
    /// Prefilters the rule when `scannable` says its fast pattern's buffer
    /// is scanned for this group; otherwise it is always a candidate.
    fn add_if(&mut self, cs: &CompiledSig, scannable: impl Fn(&BufKey) -> bool) {
        match &cs.fast {
            Some(f) if scannable(&f.key) => self
                .mpms
                .entry(f.key.clone())
                .or_default()
                .add(&f.pattern, cs.num),
            _ => self.always.push(cs.num),
        }
    }
    fn build(self, next_base: &mut usize) -> Group {
        let mut mpms = Vec::new();
        let mut keys: Vec<_> = self.mpms.into_iter().collect();
        keys.sort_by_key(|k| k.0.buffer);
        for (k, b) in keys {
            if let Ok(m) = b.build() {
                let base = *next_base;
                *next_base += m.pattern_count();
                mpms.push((k, m, base));
            }
        }
        Group {
            mpms,
            always: self.always,
        }
    }
}

/// Counters of what the engine holds.
#[derive(Debug, Default, Clone)]
pub struct EngineStats {
    pub rules: usize,
    pub ip_only: usize,
    pub packet: usize,
    pub payload: usize,
    pub stream: usize,
    pub tx: usize,
    pub events: usize,
    pub prefilter_patterns: usize,
    pub prefilter_bytes: usize,
}

pub struct Engine {
    sigs: Vec<CompiledSig>,
    iponly: IpOnlyIndex,
    packet: Vec<u32>,
    decode_event: Vec<u32>,
    stream_event: Vec<u32>,
    /// Packet payload rules by IP protocol class (tcp, udp, other).
    pkt_payload: [Group; 3],
    /// Stream rules by direction.
    stream: [Group; 2],
    /// Tx rules by (app protocol, direction).
    tx: HashMap<(String, usize), Group>,
    pub(crate) bits: Interner,
    pub(crate) ints: Interner,
    pub(crate) thresholds: Mutex<Thresholds>,
    pub(crate) xbits: Mutex<crate::state::Xbits>,
    max_vars: usize,
    /// Unique per built engine, so flow state of an earlier rule set is
    /// recognised after a reload.
    id: u64,
    /// Bytes of stream kept per flow direction for split patterns: the
    /// longest floating stream fast pattern minus one (capped).
    stream_window: usize,
    stats: EngineStats,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("stats", &self.stats)
            .finish()
    }
}

fn dir_index(d: FlowDir) -> usize {
    match d {
        FlowDir::ToServer => 0,
        FlowDir::ToClient => 1,
    }
}

fn action_order(a: Action) -> u8 {
    match a {
        Action::Config => 0,
        Action::Pass => 1,
        Action::Drop => 2,
        Action::Reject | Action::RejectSrc | Action::RejectDst | Action::RejectBoth => 3,
        Action::Alert => 4,
    }
}

static NEXT_ENGINE_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// At most this much of each stream direction is kept for patterns split
/// across segments; longer patterns still match within one chunk.
const MAX_STREAM_WINDOW: usize = 128;

/// Per-worker scratch space, so inspection allocates nothing per packet.
pub struct Scratch {
    marks: Marks,
    cands: Vec<u32>,
    pub(crate) env: Env,
    pub(crate) tbuf: Vec<u8>,
    matched: Vec<u32>,
    stream_buf: Vec<u8>,
}

impl Engine {
    /// Compiles the rules. Rules that cannot be compiled are returned with
    /// the reason; the others run.
    pub fn build(sigs: Vec<Sig>) -> (Engine, Vec<BuildError>) {
        let mut bits = Interner::default();
        let ints = Interner::default();
        let mut compiled = Vec::with_capacity(sigs.len());
        let mut errors = Vec::new();
        for sig in sigs {
            let keep = sig.clone();
            match CompiledSig::compile(sig, &mut bits) {
                Ok(c) => compiled.push(c),
                Err(error) => errors.push(BuildError {
                    sig: Box::new(keep),
                    error,
                }),
            }
        }
        // Suricata's order: action, then flowbit setters before readers,
        // then priority, then sid.
        compiled.sort_by_key(|c| {
            (
                action_order(c.sig.header.action),
                c.flowbits_order(),
                c.sig.priority,
                c.sig.sid,
            )
        });
        let mut ints = ints;
        for (i, c) in compiled.iter_mut().enumerate() {
            c.num = i as u32;
            for ch in &c.sig.checks {
                if let Check::Flowint(fi) = ch {
                    ints.id(&fi.name);
                }
            }
        }
        let mut stats = EngineStats {
            rules: compiled.len(),
            ..EngineStats::default()
        };
        let mut iponly_rules: Vec<(u32, &AddrMatch, &AddrMatch, bool)> = Vec::new();
        let mut packet = Vec::new();
        let mut decode_event = Vec::new();
        let mut stream_event = Vec::new();
        let mut pkt_payload: [GroupBuilder; 3] = Default::default();
        let mut stream: [GroupBuilder; 2] = Default::default();
        let mut tx: HashMap<(String, usize), GroupBuilder> = HashMap::new();
        let mut max_vars = 0;
        for c in &compiled {
            max_vars = max_vars.max(c.sig.vars.len());
            match c.class {
                Class::IpOnly => {
                    stats.ip_only += 1;
                    iponly_rules.push((c.num, &c.src, &c.dst, c.sig.header.bidirectional));
                }
                Class::Packet => {
                    stats.packet += 1;
                    packet.push(c.num)
                }
                Class::DecodeEvent => {
                    stats.events += 1;
                    decode_event.push(c.num)
                }
                Class::StreamEvent => {
                    stats.events += 1;
                    stream_event.push(c.num)
                }
                Class::PacketPayload => {
                    stats.payload += 1;
                    for i in eval::proto_classes(&c.sig.header.proto) {
                        pkt_payload[*i].add_if(c, is_raw_payload);
                    }
                }
                Class::Stream => {
                    stats.stream += 1;
                    // `alert dns ... (content:...)`: on UDP the datagram is
                    // the payload.
                    if matches!(c.sig.header.proto, watchfloor_rules::Proto::App(_)) {
                        pkt_payload[1].add_if(c, is_raw_payload);
                    }
                    match c.flow.dir {
                        Some(d) => stream[dir_index(d)].add_if(c, is_raw_payload),
                        None => {
                            stream[0].add_if(c, is_raw_payload);
                            stream[1].add_if(c, is_raw_payload);
                        }
                    }
                }
                Class::Tx => {
                    stats.tx += 1;
                    let app = c.app.clone().unwrap_or_default();
                    match c.tx_dir {
                        Some(d) => tx.entry((app, dir_index(d))).or_default().add(c),
                        None => {
                            tx.entry((app.clone(), 0)).or_default().add(c);
                            tx.entry((app, 1)).or_default().add(c);
                        }
                    }
                }
            }
        }
        let stream_window = compiled
            .iter()
            .filter(|c| c.stream_window)
            .filter_map(|c| c.fast.as_ref().map(|f| f.pattern.len().saturating_sub(1)))
            .max()
            .unwrap_or(0)
            .min(MAX_STREAM_WINDOW);
        let iponly = IpOnlyIndex::build(&iponly_rules);
        let mut base = 0usize;
        let [p0, p1, p2] = pkt_payload;
        let pkt_payload = [
            p0.build(&mut base),
            p1.build(&mut base),
            p2.build(&mut base),
        ];
        let [s0, s1] = stream;
        let stream = [s0.build(&mut base), s1.build(&mut base)];
        let tx: HashMap<_, _> = tx
            .into_iter()
            .map(|(k, g)| (k, g.build(&mut base)))
            .collect();
        let groups = pkt_payload.iter().chain(stream.iter()).chain(tx.values());
        for g in groups {
            for (_, m, _) in &g.mpms {
                stats.prefilter_patterns += m.pattern_count();
                stats.prefilter_bytes += m.memory_usage();
            }
        }
        (
            Engine {
                sigs: compiled,
                iponly,
                packet,
                decode_event,
                stream_event,
                pkt_payload,
                stream,
                tx,
                bits,
                ints,
                thresholds: Mutex::new(Thresholds::default()),
                xbits: Mutex::new(crate::state::Xbits::default()),
                max_vars,
                id: NEXT_ENGINE_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                stream_window,
                stats,
            },
            errors,
        )
    }

    /// Applies threshold.config: `threshold`/`event_filter` lines replace a
    /// rule's own threshold, `suppress` lines silence its alerts (all, or by
    /// address). gid and sid 0 mean every rule, as in Suricata. Returns how
    /// many (entry, rule) pairs applied. `rate_filter` changes actions only
    /// inline and is not applied by an IDS.
    pub fn apply_threshold_config(&mut self, cfg: &watchfloor_rules::ThresholdConfig) -> usize {
        use watchfloor_rules::ThresholdEntry;
        let mut applied = 0;
        let hits = |c: &CompiledSig, gid: u32, sid: u32| {
            (gid == 0 || c.sig.gid == gid) && (sid == 0 || c.sig.sid == sid)
        };
        for e in &cfg.entries {
            match e {
                ThresholdEntry::Threshold {
                    gid,
                    sid,
                    threshold,
                } => {
                    for c in self.sigs.iter_mut().filter(|c| hits(c, *gid, *sid)) {
                        c.sig.threshold = Some(*threshold);
                        applied += 1;
                    }
                }
                ThresholdEntry::Suppress { gid, sid, track } => {
                    for c in self.sigs.iter_mut().filter(|c| hits(c, *gid, *sid)) {
                        c.suppress
                            .push(track.as_ref().map(|(t, set)| (*t, AddrMatch::new(set))));
                        applied += 1;
                    }
                }
                ThresholdEntry::RateFilter { .. } => {}
            }
        }
        applied
    }

    pub fn stats(&self) -> &EngineStats {
        &self.stats
    }

    pub fn len(&self) -> usize {
        self.sigs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sigs.is_empty()
    }

    /// The rule an [`Alert`] refers to.
    pub fn sig(&self, rule: u32) -> &Sig {
        &self.sigs[rule as usize].sig
    }

    /// Whether any rule inspects this app-layer protocol's transactions.
    pub fn wants_tx(&self, app: &str) -> bool {
        self.tx.keys().any(|(a, _)| a == app)
    }

    /// The flow's state, reset if an earlier engine built it.
    fn own<'f>(&self, f: Option<&'f mut FlowDetect>) -> Option<&'f mut FlowDetect> {
        let f = f?;
        if f.engine != self.id {
            *f = FlowDetect::default();
            f.engine = self.id;
        }
        Some(f)
    }

    pub fn scratch(&self) -> Scratch {
        Scratch {
            marks: Marks::default(),
            cands: Vec::new(),
            env: Env::new(self.max_vars),
            tbuf: Vec::new(),
            matched: Vec::new(),
            stream_buf: Vec::new(),
        }
    }

    /// Header rules, IP-only rules (first packet of each flow direction),
    /// decoder/stream-event rules and packet payload rules for one packet.
    pub fn inspect_packet(
        &self,
        ctx: &Ctx<'_>,
        flow: Option<&mut FlowDetect>,
        s: &mut Scratch,
        out: &mut Vec<Alert>,
    ) {
        let mut flow = self.own(flow);
        s.marks.next_round(self.sigs.len());
        s.cands.clear();
        let Some(pkt) = ctx.pkt else { return };
        let first_in_dir = match (&mut flow, ctx.flow) {
            (Some(f), Some(fi)) => {
                let d = dir_index(fi.dir);
                let first = !f.iponly_done[d];
                f.iponly_done[d] = true;
                first
            }
            _ => true,
        };
        if first_in_dir && pkt.ip.is_some() {
            let mut c = std::mem::take(&mut s.cands);
            self.iponly.candidates(ctx.src, ctx.dst, &mut c);
            for r in c.drain(..) {
                s.marks.add_rule(r, &mut s.cands);
            }
        }
        for r in &self.packet {
            s.marks.add_rule(*r, &mut s.cands);
        }
        if !pkt.events.is_empty() {
            for r in &self.decode_event {
                s.marks.add_rule(*r, &mut s.cands);
            }
        }
        if !ctx.stream_events.is_empty() {
            for r in &self.stream_event {
                s.marks.add_rule(*r, &mut s.cands);
            }
        }
        if pkt.ip.is_some() && !pkt.payload.is_empty() {
            let class = match ctx.proto {
                6 => 0,
                17 => 1,
                _ => 2,
            };
            let g = &self.pkt_payload[class];
            self.prefilter_payload(g, pkt.payload, s);
        }
        self.run_candidates(ctx, Data::Packet, flow, None, s, out);
    }

    /// Stream rules over newly reassembled, in-order data of one direction.
    pub fn inspect_stream(
        &self,
        ctx: &Ctx<'_>,
        data: &[u8],
        flow: Option<&mut FlowDetect>,
        s: &mut Scratch,
        out: &mut Vec<Alert>,
    ) {
        let mut flow = self.own(flow);
        let Some(fi) = ctx.flow else { return };
        let d = dir_index(fi.dir);
        s.marks.next_round(self.sigs.len());
        s.cands.clear();
        let g = &self.stream[d];
        // Prepend what is kept of the previous chunk when a pattern could
        // straddle the boundary; the prefilter only counts matches that end
        // in the new bytes, so nothing already seen alerts twice.
        let tail_len = match (&flow, self.stream_window) {
            (Some(f), w) if w > 0 => f.stream_tail[d].len(),
            _ => 0,
        };
        let mut joined = std::mem::take(&mut s.stream_buf);
        joined.clear();
        if tail_len > 0 {
            if let Some(f) = &flow {
                joined.extend_from_slice(&f.stream_tail[d]);
            }
            joined.extend_from_slice(data);
        }
        let all: &[u8] = if tail_len > 0 { &joined } else { data };
        for r in &g.always {
            s.marks.add_rule(*r, &mut s.cands);
        }
        for (_, mpm, base) in &g.mpms {
            mpm.scan_from(all, tail_len, &mut s.marks, *base, &mut s.cands);
        }
        self.run_candidates(
            ctx,
            Data::Stream {
                all,
                new_start: tail_len,
            },
            flow.as_deref_mut(),
            None,
            s,
            out,
        );
        if self.stream_window > 0 {
            if let Some(f) = flow {
                let keep = self.stream_window;
                let t = &mut f.stream_tail[d];
                if data.len() >= keep {
                    t.clear();
                    t.extend_from_slice(&data[data.len() - keep..]);
                } else {
                    t.extend_from_slice(data);
                    if t.len() > keep {
                        t.drain(..t.len() - keep);
                    }
                }
            }
        }
        s.stream_buf = joined;
    }

    /// Stream rules on the payload of a TCP packet that reassembly did not
    /// take (data on a SYN, or on a session the stream engine does not
    /// follow): Suricata inspects such payloads packet by packet.
    pub fn inspect_unreassembled(
        &self,
        ctx: &Ctx<'_>,
        flow: Option<&mut FlowDetect>,
        s: &mut Scratch,
        out: &mut Vec<Alert>,
    ) {
        let flow = self.own(flow);
        let (Some(fi), Some(pkt)) = (ctx.flow, ctx.pkt) else {
            return;
        };
        if pkt.payload.is_empty() {
            return;
        }
        s.marks.next_round(self.sigs.len());
        s.cands.clear();
        let g = &self.stream[dir_index(fi.dir)];
        self.prefilter_payload(g, pkt.payload, s);
        self.run_candidates(ctx, Data::Packet, flow, None, s, out);
    }

    /// App-layer rules on one transaction, in one direction, once that side
    /// of the transaction is complete.
    #[allow(clippy::too_many_arguments)]
    pub fn inspect_tx(
        &self,
        ctx: &Ctx<'_>,
        app: &str,
        dir: FlowDir,
        tx_id: u64,
        tx: &dyn TxSource,
        flow: Option<&mut FlowDetect>,
        s: &mut Scratch,
        out: &mut Vec<Alert>,
    ) {
        let flow = self.own(flow);
        let Some(g) = self.tx.get(&(app.to_string(), dir_index(dir))) else {
            return;
        };
        s.marks.next_round(self.sigs.len());
        s.cands.clear();
        for r in &g.always {
            s.marks.add_rule(*r, &mut s.cands);
        }
        for (key, mpm, base) in &g.mpms {
            let Scratch {
                marks,
                cands,
                tbuf,
                env,
                ..
            } = s;
            tx.each(key.buffer, dir, &mut |b| {
                if key.transforms.is_empty() {
                    mpm.scan(b, marks, *base, cands);
                } else {
                    let t = inspect::apply_transforms(&key.transforms, b, tbuf, env);
                    mpm.scan(t, marks, *base, cands);
                }
                false
            });
        }
        self.run_candidates(ctx, Data::Tx { tx, dir }, flow, Some(tx_id), s, out);
    }

    fn prefilter_payload(&self, g: &Group, data: &[u8], s: &mut Scratch) {
        for r in &g.always {
            s.marks.add_rule(*r, &mut s.cands);
        }
        for (_, mpm, base) in &g.mpms {
            mpm.scan(data, &mut s.marks, *base, &mut s.cands);
        }
    }

    fn run_candidates(
        &self,
        ctx: &Ctx<'_>,
        data: Data<'_>,
        mut flow: Option<&mut FlowDetect>,
        tx_id: Option<u64>,
        s: &mut Scratch,
        out: &mut Vec<Alert>,
    ) {
        if s.cands.is_empty() {
            return;
        }
        // Rule order decides who sees whose flowbits.
        s.cands.sort_unstable();
        let cands = std::mem::take(&mut s.cands);
        s.matched.clear();
        for &r in &cands {
            let cs = &self.sigs[r as usize];
            let dir = ctx.flow.map_or(0, |f| dir_index(f.dir) as u8);
            if let (Some(t), Some(f)) = (tx_id, flow.as_deref()) {
                if f.tx_done(t, r, dir) {
                    continue;
                }
            }
            if eval::matches(self, cs, ctx, data, flow.as_deref_mut(), s) {
                if let (Some(t), Some(f)) = (tx_id, flow.as_deref_mut()) {
                    f.mark_tx(t, r, dir);
                }
                eval::on_match(self, cs, ctx, flow.as_deref_mut());
                if cs.sig.header.action == Action::Pass {
                    break;
                }
                // `config` rules act on logging, not alerting: the caller
                // sees them and decides (e.g. `logging disable` of a tx).
                if cs.sig.header.action == Action::Config {
                    out.push(Alert { rule: r, tx_id });
                    continue;
                }
                if !cs.noalert
                    && !eval::suppressed(cs, ctx)
                    && eval::threshold_allows(self, cs, ctx)
                {
                    out.push(Alert { rule: r, tx_id });
                }
            }
        }
        s.cands = cands;
    }
}

fn is_raw_payload(k: &BufKey) -> bool {
    k.buffer == Buffer::Payload && k.transforms.is_empty()
}
