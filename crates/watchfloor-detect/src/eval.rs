//! Full evaluation of one candidate rule: header, flow, checks, then the
//! inspection programs on their buffers; and what a match changes.

use crate::compile::CompiledSig;
use crate::engine::{Ctx, Engine, Scratch, TxSource};
use crate::state::{FlowDetect, TrackCtx};
use watchfloor_decode::{Packet, L4};
use watchfloor_rules::{
    Buffer, BufferKind, Check, EventMatch, FlagsMod, FlowDir, FlowbitCmd, FlowintOp, FlowintVal,
    Proto, StreamSide,
};

/// The data an inspection runs on.
#[derive(Clone, Copy)]
pub enum Data<'a> {
    /// The current packet's payload.
    Packet,
    /// In-order stream bytes: `all` is the kept tail of earlier data
    /// followed by the new bytes, which start at `new_start`.
    Stream { all: &'a [u8], new_start: usize },
    /// One transaction of the flow's app layer.
    Tx { tx: &'a dyn TxSource, dir: FlowDir },
}

/// Payload prefilter groups a header protocol belongs to (tcp, udp, other).
pub fn proto_classes(p: &Proto) -> &'static [usize] {
    match p {
        Proto::Tcp | Proto::TcpPkt | Proto::TcpStream => &[0],
        Proto::Udp => &[1],
        Proto::App(_) => &[0, 1],
        Proto::Ip | Proto::Ipv4 | Proto::Ipv6 | Proto::Pkthdr => &[0, 1, 2],
        Proto::Icmp | Proto::Icmpv4 | Proto::Icmpv6 | Proto::Sctp | Proto::Igmp => &[2],
    }
}

fn proto_ok(cs: &CompiledSig, ctx: &Ctx<'_>) -> bool {
    match &cs.sig.header.proto {
        Proto::Ip | Proto::Pkthdr => true,
        Proto::Ipv4 => ctx.ip_version == 4,
        Proto::Ipv6 => ctx.ip_version == 6,
        Proto::Tcp | Proto::TcpPkt | Proto::TcpStream => ctx.proto == 6,
        Proto::Udp => ctx.proto == 17,
        Proto::Icmp => ctx.proto == 1 || ctx.proto == 58,
        Proto::Icmpv4 => ctx.proto == 1,
        Proto::Icmpv6 => ctx.proto == 58,
        Proto::Sctp => ctx.proto == 132,
        Proto::Igmp => ctx.proto == 2,
        Proto::App(_) => {
            let want = cs.app.as_deref().unwrap_or("");
            ctx.flow
                .and_then(|f| f.app_proto)
                .is_some_and(|a| a == want || (want == "http" && a == "http2"))
        }
    }
}

fn addrs_ok(cs: &CompiledSig, ctx: &Ctx<'_>) -> bool {
    let fwd = cs.src.contains(ctx.src)
        && cs.dst.contains(ctx.dst)
        && cs.sp.contains(ctx.sp)
        && cs.dp.contains(ctx.dp);
    fwd || (cs.sig.header.bidirectional
        && cs.src.contains(ctx.dst)
        && cs.dst.contains(ctx.src)
        && cs.sp.contains(ctx.dp)
        && cs.dp.contains(ctx.sp))
}

fn flow_ok(cs: &CompiledSig, ctx: &Ctx<'_>, data: Data<'_>) -> bool {
    let f = &cs.flow;
    if let Some(d) = f.dir {
        match ctx.flow {
            Some(fi) if fi.dir == d => {}
            _ => return false,
        }
    }
    if f.established && !ctx.flow.is_some_and(|fi| fi.established) {
        return false;
    }
    if f.not_established && ctx.flow.is_some_and(|fi| fi.established) {
        return false;
    }
    let is_stream = matches!(data, Data::Stream { .. });
    if f.only_stream && !is_stream {
        return false;
    }
    if f.no_stream && is_stream {
        return false;
    }
    let frag = ctx
        .pkt
        .is_some_and(|p| p.ip.is_some_and(|ip| ip.reassembled));
    if f.only_frag && !frag {
        return false;
    }
    if f.no_frag && frag {
        return false;
    }
    true
}

fn event_name_matches(name: &str, e: &EventMatch) -> bool {
    let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let want_full = if e.layer.is_empty() {
        e.event.clone()
    } else {
        format!("{}.{}", e.layer, e.event)
    };
    eq(name, &want_full)
        || name
            .strip_prefix("decoder.")
            .is_some_and(|n| eq(n, &want_full) || eq(n, &e.event))
        || name
            .strip_prefix("stream.")
            .is_some_and(|n| eq(n, &want_full) || eq(n, &e.event))
        || eq(name, &e.event)
}

fn tcp_flags_ok(flags: u8, want: u8, ignore: u8, m: FlagsMod) -> bool {
    let f = flags & !ignore;
    match m {
        FlagsMod::Exact => f == want,
        FlagsMod::Plus => f & want == want,
        FlagsMod::Any => f & want != 0,
        FlagsMod::Not => f & want == 0,
    }
}

fn pkt_check(c: &Check, p: &Packet<'_>, ctx: &Ctx<'_>) -> bool {
    let ip = p.ip;
    match c {
        Check::Dsize(op) => op.matches(p.payload.len() as u64),
        Check::Ttl(op) => ip.is_some_and(|i| op.matches(u64::from(i.ttl))),
        Check::Itype(op) => match p.l4 {
            L4::Icmpv4(i) | L4::Icmpv6(i) => op.matches(u64::from(i.icmp_type)),
            _ => false,
        },
        Check::Icode(op) => match p.l4 {
            L4::Icmpv4(i) | L4::Icmpv6(i) => op.matches(u64::from(i.code)),
            _ => false,
        },
        Check::IcmpId(v) => matches!(p.l4, L4::Icmpv4(i) | L4::Icmpv6(i) if i.id == *v),
        Check::IcmpSeq(v) => matches!(p.l4, L4::Icmpv4(i) | L4::Icmpv6(i) if i.seq == *v),
        Check::IpProto { negated, op } => {
            ip.is_some_and(|i| op.matches(u64::from(i.proto)) != *negated)
        }
        Check::IpId(v) => ip.is_some_and(|i| i.version == 4 && i.id == u32::from(*v)),
        Check::Tos { negated, value } => ip.is_some_and(|i| (i.tos == *value) != *negated),
        Check::TcpFlags(t) => match p.l4 {
            L4::Tcp(th) => tcp_flags_ok(th.flags, t.flags, t.ignore, t.modifier),
            _ => false,
        },
        Check::Seq(v) => matches!(p.l4, L4::Tcp(th) if th.seq == *v),
        Check::Ack(v) => matches!(p.l4, L4::Tcp(th) if th.ack == *v),
        Check::Window { negated, value } => {
            matches!(p.l4, L4::Tcp(th) if (th.window == *value) != *negated)
        }
        Check::SameIp => ip.is_some_and(|i| i.src == i.dst),
        Check::DecodeEvent(e) => p.events.iter().any(|ev| event_name_matches(ev.name(), e)),
        Check::StreamEvent(e) => ctx.stream_events.iter().any(|n| event_name_matches(n, e)),
        Check::VlanId { op, layer } => {
            let v = p.vlans();
            match layer {
                // No layer (or `any`/`all`): any of the packet's VLAN ids.
                None => v.iter().any(|id| op.matches(u64::from(*id))),
                Some(l) if *l >= 0 => v
                    .get(*l as usize)
                    .is_some_and(|id| op.matches(u64::from(*id))),
                Some(l) => {
                    let back = l.unsigned_abs() as usize;
                    back <= v.len() && back > 0 && op.matches(u64::from(v[v.len() - back]))
                }
            }
        }
        Check::VlanLayers(op) => op.matches(p.vlans().len() as u64),
        // The MTU of an ICMPv6 Packet Too Big message (type 2).
        Check::Icmpv6Mtu(op) => match (p.l4, ctx.hdrs) {
            (L4::Icmpv6(i), Some(h)) if i.icmp_type == 2 => {
                h.l4.get(4..8)
                    .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                    .is_some_and(|mtu| op.matches(u64::from(mtu)))
            }
            _ => false,
        },
        Check::Checksum { layer, valid } => {
            let ok = match layer.as_str() {
                "ipv4-csum" | "ipv4" => ip.and_then(|i| i.checksum_ok),
                "tcpv4-csum" | "tcpv6-csum" | "tcpv4" | "tcpv6" => match p.l4 {
                    L4::Tcp(t) => t.checksum_ok,
                    _ => None,
                },
                "udpv4-csum" | "udpv6-csum" | "udpv4" | "udpv6" => match p.l4 {
                    L4::Udp(u) => u.checksum_ok,
                    _ => None,
                },
                "icmpv4-csum" | "icmpv6-csum" | "icmpv4" | "icmpv6" => match p.l4 {
                    L4::Icmpv4(i) | L4::Icmpv6(i) => i.checksum_ok,
                    _ => None,
                },
                _ => None,
            };
            // Unvalidated (`-k none`) counts as valid, as Suricata does.
            ok.unwrap_or(true) == *valid
        }
        _ => false,
    }
}

fn check_ok(
    e: &Engine,
    cs_prefilter: bool,
    c: &Check,
    ctx: &Ctx<'_>,
    data: Data<'_>,
    flow: Option<&FlowDetect>,
) -> bool {
    match c {
        Check::Flow(_) => true,
        Check::Flowbits(fb) => {
            let Some(f) = flow else {
                return matches!(fb.cmd, FlowbitCmd::IsNotSet)
                    || !matches!(fb.cmd, FlowbitCmd::IsSet);
            };
            let ids = fb.names.iter().map(|n| e.bits.get(n));
            match fb.cmd {
                FlowbitCmd::IsSet => {
                    let mut it = ids.map(|id| id.is_some_and(|id| f.is_set(id)));
                    if fb.any {
                        it.any(|x| x)
                    } else {
                        it.all(|x| x)
                    }
                }
                FlowbitCmd::IsNotSet => {
                    let mut it = ids.map(|id| !id.is_some_and(|id| f.is_set(id)));
                    if fb.any {
                        it.any(|x| x)
                    } else {
                        it.all(|x| x)
                    }
                }
                _ => true,
            }
        }
        Check::Flowint(fi) => {
            let val_of = |f: &FlowDetect, v: &Option<FlowintVal>| -> Option<u32> {
                match v {
                    Some(FlowintVal::Lit(x)) => Some(*x),
                    Some(FlowintVal::Var(n)) => e.ints.get(n).and_then(|id| f.int(id)),
                    None => None,
                }
            };
            let cur = flow.and_then(|f| e.ints.get(&fi.name).and_then(|id| f.int(id)));
            match fi.op {
                FlowintOp::Set | FlowintOp::Add | FlowintOp::Sub => true,
                FlowintOp::IsSet => cur.is_some(),
                FlowintOp::IsNotSet => cur.is_none(),
                op => {
                    let (Some(f), Some(a)) = (flow, cur) else {
                        return false;
                    };
                    let Some(b) = val_of(f, &fi.value) else {
                        return false;
                    };
                    match op {
                        FlowintOp::Lt => a < b,
                        FlowintOp::Le => a <= b,
                        FlowintOp::Eq => a == b,
                        FlowintOp::Ne => a != b,
                        FlowintOp::Ge => a >= b,
                        FlowintOp::Gt => a > b,
                        _ => false,
                    }
                }
            }
        }
        Check::Xbits(x) => match x.cmd {
            FlowbitCmd::IsSet | FlowbitCmd::IsNotSet => {
                let set = e
                    .xbits
                    .lock()
                    .is_ok_and(|b| b.is_set(&x.name, x.track, ctx.src, ctx.dst, ctx.ts_ns));
                set == (x.cmd == FlowbitCmd::IsSet)
            }
            _ => true,
        },
        Check::StreamSize { side, op } => {
            let Some(fi) = ctx.flow else { return false };
            let [client, server] = fi.stream_bytes;
            match side {
                StreamSide::Client => op.matches(client),
                StreamSide::Server => op.matches(server),
                StreamSide::Both => op.matches(client) && op.matches(server),
                StreamSide::Either => op.matches(client) || op.matches(server),
            }
        }
        Check::AppLayerProtocol { negated, proto } => {
            let cur = ctx.flow.and_then(|f| f.app_proto);
            // As a prefilter it fires on the packet that completed protocol
            // detection only (Suricata's app-layer-protocol prefilter).
            if cs_prefilter && !ctx.flow.is_some_and(|f| f.proto_detected_now) {
                return false;
            }
            // Until protocol detection has decided, neither `http` nor
            // `!http` holds (as in Suricata).
            if cur.is_none() && proto != "unknown" {
                return false;
            }
            let is = match proto.as_str() {
                "unknown" => cur.is_none(),
                "failed" => cur == Some("failed"),
                // Watchfloor's `http` parser is HTTP/1: `http1` names it too.
                "http1" => cur == Some("http"),
                p => cur.is_some_and(|c| c == p),
            };
            is != *negated
        }
        Check::AppLayerEvent(ev) => match data {
            Data::Tx { tx, .. } => tx.has_event(&ev.layer, &ev.event),
            _ => false,
        },
        Check::TlsVersion(_)
        | Check::SslVersion { .. }
        | Check::TlsCertChainLen(_)
        | Check::TlsCertValidity { .. }
        | Check::TlsCertExpired(_)
        | Check::SslState { .. }
        | Check::DnsOpcode { .. }
        | Check::DnsRcode(_)
        | Check::DnsRrtype(_) => match data {
            Data::Tx { tx, dir, .. } => tx.check(c, dir).unwrap_or(false),
            _ => false,
        },
        other => match ctx.pkt {
            Some(p) => pkt_check(other, p, ctx),
            None => false,
        },
    }
}

/// Whether the rule matches what is being inspected.
pub fn matches(
    e: &Engine,
    cs: &CompiledSig,
    ctx: &Ctx<'_>,
    data: Data<'_>,
    flow: Option<&mut FlowDetect>,
    s: &mut Scratch,
) -> bool {
    if !proto_ok(cs, ctx) || !addrs_ok(cs, ctx) || !flow_ok(cs, ctx, data) {
        return false;
    }
    let flow = flow.as_deref();
    if !cs
        .sig
        .checks
        .iter()
        .all(|c| check_ok(e, cs.sig.prefilter, c, ctx, data, flow))
    {
        return false;
    }
    if cs.programs.is_empty() {
        return true;
    }
    s.env.reset();
    let mut i = 0;
    while i < cs.programs.len() {
        let p = &cs.programs[i];
        // `base64_decode` checks its `base64_data` list in place (and
        // backtracks on failure), as Suricata does.
        let b64 = cs
            .programs
            .get(i + 1)
            .filter(|n| n.buffer() == Buffer::Base64Data);
        i += if b64.is_some() { 2 } else { 1 };
        let run = |buf: &[u8], env: &mut crate::inspect::Env| match b64 {
            Some(n) => p.run_with(buf, env, Some(n)),
            None => p.run(buf, env),
        };
        let ok = match p.buffer() {
            Buffer::Payload => {
                let buf: &[u8] = match data {
                    Data::Packet => ctx.pkt.map_or(&[], |p| p.payload),
                    // A floating pattern may straddle the previous chunk;
                    // anchored ones (offset, depth, startswith) see only the
                    // new bytes, as each chunk is its own buffer.
                    Data::Stream { all, new_start } => {
                        if cs.stream_window {
                            all
                        } else {
                            all.get(new_start..).unwrap_or(&[])
                        }
                    }
                    // Payload contents of an app-layer rule: the bytes
                    // that completed the transaction.
                    Data::Tx { .. } => ctx.payload,
                };
                run(buf, &mut s.env)
            }
            Buffer::Base64Data => p.run_base64_data(&mut s.env),
            Buffer::Ipv4Hdr
            | Buffer::Ipv6Hdr
            | Buffer::TcpHdr
            | Buffer::UdpHdr
            | Buffer::Icmpv4Hdr
            | Buffer::Icmpv6Hdr => {
                let Some(h) = ctx.hdrs else { return false };
                let buf = match p.buffer() {
                    Buffer::Ipv4Hdr if ctx.ip_version == 4 => h.l3,
                    // The fixed header and its extension headers.
                    Buffer::Ipv6Hdr if ctx.ip_version == 6 => h.l3,
                    Buffer::TcpHdr if ctx.proto == 6 => h.l4,
                    Buffer::UdpHdr if ctx.proto == 17 => h.l4,
                    Buffer::Icmpv4Hdr if ctx.proto == 1 => h.l4,
                    Buffer::Icmpv6Hdr if ctx.proto == 58 => h.l4,
                    _ => return false,
                };
                run(buf, &mut s.env)
            }
            b => match (b.kind(), data) {
                (BufferKind::App(..), Data::Tx { tx, dir }) => {
                    let env = &mut s.env;
                    tx.each(b, dir, &mut |buf| run(buf, env))
                }
                _ => false,
            },
        };
        if !ok {
            return false;
        }
    }
    true
}

/// State changes of a matching rule (even one that will not alert).
pub fn on_match(e: &Engine, cs: &CompiledSig, ctx: &Ctx<'_>, flow: Option<&mut FlowDetect>) {
    for c in &cs.sig.checks {
        let Check::Xbits(x) = c else { continue };
        let Ok(mut b) = e.xbits.lock() else { continue };
        match x.cmd {
            FlowbitCmd::Set => b.set(&x.name, x.track, ctx.src, ctx.dst, ctx.ts_ns, x.expire),
            FlowbitCmd::Unset => b.unset(&x.name, x.track, ctx.src, ctx.dst),
            FlowbitCmd::Toggle => {
                if b.is_set(&x.name, x.track, ctx.src, ctx.dst, ctx.ts_ns) {
                    b.unset(&x.name, x.track, ctx.src, ctx.dst);
                } else {
                    b.set(&x.name, x.track, ctx.src, ctx.dst, ctx.ts_ns, x.expire);
                }
            }
            _ => {}
        }
    }
    let Some(f) = flow else { return };
    for fb in &cs.flowbits {
        for id in &fb.ids {
            match fb.cmd {
                FlowbitCmd::Set => f.set(*id),
                FlowbitCmd::Unset => f.unset(*id),
                FlowbitCmd::Toggle => f.toggle(*id),
                _ => {}
            }
        }
    }
    for c in &cs.sig.checks {
        let Check::Flowint(fi) = c else { continue };
        let Some(id) = e.ints.get(&fi.name) else {
            continue;
        };
        let v = match &fi.value {
            Some(FlowintVal::Lit(x)) => Some(*x),
            Some(FlowintVal::Var(n)) => e.ints.get(n).and_then(|i| f.int(i)),
            None => None,
        };
        match (fi.op, v) {
            (FlowintOp::Set, Some(v)) => f.set_int(id, v),
            (FlowintOp::Add, Some(v)) => f.set_int(id, f.int(id).unwrap_or(0).wrapping_add(v)),
            (FlowintOp::Sub, Some(v)) => f.set_int(id, f.int(id).unwrap_or(0).wrapping_sub(v)),
            _ => {}
        }
    }
}

/// threshold.config `suppress` lines of the rule.
pub fn suppressed(cs: &CompiledSig, ctx: &Ctx<'_>) -> bool {
    use watchfloor_rules::SuppressTrack;
    cs.suppress.iter().any(|s| match s {
        None => true,
        Some((SuppressTrack::BySrc, set)) => set.contains(ctx.src),
        Some((SuppressTrack::ByDst, set)) => set.contains(ctx.dst),
        Some((SuppressTrack::ByEither, set)) => set.contains(ctx.src) || set.contains(ctx.dst),
    })
}

/// `threshold` and `detection_filter` of the rule.
pub fn threshold_allows(e: &Engine, cs: &CompiledSig, ctx: &Ctx<'_>) -> bool {
    if cs.sig.threshold.is_none() && cs.sig.detection_filter.is_none() {
        return true;
    }
    let t = TrackCtx {
        src: ctx.src,
        dst: ctx.dst,
        flow_id: ctx.flow.map(|f| f.flow_id),
        ts_ns: ctx.ts_ns,
    };
    let Ok(mut th) = e.thresholds.lock() else {
        return true;
    };
    if let Some(df) = &cs.sig.detection_filter {
        if !th.allow(cs.num, df, &t) {
            return false;
        }
    }
    match &cs.sig.threshold {
        Some(tr) => th.allow(cs.num.wrapping_add(1 << 31), tr, &t),
        None => true,
    }
}
