//! A parsed rule turned into what the engine runs: compiled address and
//! port sets, compiled inspection programs, interned flowbit names, the
//! chosen fast pattern, and the rule's class (where the engine runs it).

use crate::addr::{AddrMatch, PortMatch};
use crate::inspect::{CompileError, Program};
use crate::intern::Interner;
use watchfloor_rules::{
    Action, Buffer, BufferKind, Check, FlowDir, FlowOpts, FlowbitCmd, Item, Proto, Sig, Transform,
};

/// Where the engine runs a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Addresses (and maybe flowbits set) only: once per flow direction.
    IpOnly,
    /// Header checks on every packet (no payload, no app-layer buffer).
    Packet,
    /// `decode-event` rules: only packets that raised an event.
    DecodeEvent,
    /// `stream-event` rules: only packets that raised a stream event.
    StreamEvent,
    /// Payload content on packets (UDP, ICMP, IP, `tcp-pkt`, or rules
    /// that need the packet such as `dsize`).
    PacketPayload,
    /// Payload content on reassembled TCP data.
    Stream,
    /// App-layer buffers or checks of one protocol's transactions.
    Tx,
}

/// The key of a prefilter: a buffer and the transforms applied to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BufKey {
    pub buffer: Buffer,
    pub transforms: Vec<Transform>,
}

/// The pattern a rule is prefiltered on.
#[derive(Debug, Clone)]
pub struct FastPattern {
    pub key: BufKey,
    /// Lowercased (the prefilter is case-insensitive; the full match checks case).
    pub pattern: Vec<u8>,
}

#[derive(Debug)]
pub struct CompiledFlowbits {
    pub cmd: FlowbitCmd,
    pub ids: Vec<u32>,
    pub any: bool,
}

#[derive(Debug)]
pub struct CompiledSig {
    /// Index of the rule in the engine's order.
    pub num: u32,
    pub sig: Sig,
    pub class: Class,
    /// The app-layer protocol of a Tx rule (`http`, `dns`, `tls`, ...), or
    /// the header's app protocol for payload rules limited to it.
    pub app: Option<String>,
    /// Direction a Tx rule inspects (from `flow:` or its buffers).
    pub tx_dir: Option<FlowDir>,
    pub src: AddrMatch,
    pub dst: AddrMatch,
    pub sp: PortMatch,
    pub dp: PortMatch,
    pub flow: FlowOpts,
    /// Inspection programs in rule order.
    pub programs: Vec<Program>,
    pub flowbits: Vec<CompiledFlowbits>,
    pub fast: Option<FastPattern>,
    /// Whether the rule only updates state (never alerts).
    pub noalert: bool,
    /// A stream rule whose payload patterns float (no offset, depth,
    /// startswith, absolute isdataat, byte_* or pcre anchors) and that has a
    /// payload fast pattern: it is inspected over the tail of the previous
    /// chunk plus the new one, so a pattern split across segments matches.
    pub stream_window: bool,
    /// threshold.config `suppress` entries for this rule: `None` suppresses
    /// every alert, `Some` those whose tracked address is in the set.
    pub suppress: Vec<Option<(watchfloor_rules::SuppressTrack, AddrMatch)>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SigCompileError {
    #[error("{0}")]
    Inspect(#[from] CompileError),
    #[error("rule mixes buffers of different protocols ({0} and {1})")]
    MixedApp(String, String),
    #[error("rule inspects to-server and to-client buffers that cannot be in one direction ({0})")]
    MixedDir(&'static str),
}

fn tx_check_app(c: &Check) -> Option<&'static str> {
    match c {
        Check::TlsVersion(_)
        | Check::SslVersion { .. }
        | Check::TlsCertChainLen(_)
        | Check::TlsCertValidity { .. }
        | Check::TlsCertExpired(_)
        | Check::SslState { .. } => Some("tls"),
        Check::DnsOpcode { .. } | Check::DnsRcode(_) | Check::DnsRrtype(_) => Some("dns"),
        Check::AppLayerEvent(e) => match e.layer.as_str() {
            "http" | "http1" | "tls" | "dns" => Some(static_app(&e.layer)),
            _ => None,
        },
        _ => None,
    }
}

fn static_app(s: &str) -> &'static str {
    match s {
        "http" | "http1" => "http",
        "tls" => "tls",
        "dns" => "dns",
        "ssh" => "ssh",
        _ => "other",
    }
}

impl CompiledSig {
    pub fn compile(sig: Sig, bits: &mut Interner) -> Result<CompiledSig, SigCompileError> {
        let mut programs = Vec::with_capacity(sig.inspections.len());
        let mut app: Option<String> = None;
        let mut tx_dir: Option<FlowDir> = None;
        let mut has_payload = false;
        let mut has_tx_buffer = false;
        for insp in &sig.inspections {
            match insp.buffer.kind() {
                BufferKind::App(proto, dir) => {
                    has_tx_buffer = true;
                    if let Some(a) = &app {
                        if a != proto && !(a == "http" && proto == "http") {
                            return Err(SigCompileError::MixedApp(a.clone(), proto.into()));
                        }
                    }
                    app = Some(proto.to_string());
                    if let Some(d) = dir {
                        // A rule with request and response buffers is
                        // inspected once the response is in.
                        tx_dir = match tx_dir {
                            Some(FlowDir::ToClient) => Some(FlowDir::ToClient),
                            _ => Some(d),
                        };
                    }
                }
                BufferKind::Payload => has_payload = true,
                BufferKind::Packet | BufferKind::Derived => {}
            }
            programs.push(Program::compile(insp)?);
        }
        for c in &sig.checks {
            if let Some(a) = tx_check_app(c) {
                has_tx_buffer = true;
                if app.is_none() {
                    app = Some(a.to_string());
                }
            }
            // Certificate properties exist only in the server's direction.
            if matches!(
                c,
                Check::TlsCertChainLen(_)
                    | Check::TlsCertValidity { .. }
                    | Check::TlsCertExpired(_)
            ) {
                tx_dir = Some(FlowDir::ToClient);
            }
        }
        let flow = sig.flow().copied().unwrap_or_default();
        if let Some(d) = flow.dir {
            // `flow:to_client` on a rule with only both-way buffers
            // (`file.data`, `http.header`) picks the response side.
            if tx_dir.is_none() || has_tx_buffer {
                tx_dir = Some(d);
            }
        }
        let header_app = match &sig.header.proto {
            Proto::App(a) => Some(normalise_app(a)),
            _ => None,
        };
        if app.is_none() {
            app = header_app.clone();
        }
        let checks_only_addr = sig.checks.iter().all(|c| {
            matches!(c, Check::Flowbits(f) if matches!(f.cmd, FlowbitCmd::Set | FlowbitCmd::Unset | FlowbitCmd::Toggle | FlowbitCmd::NoAlert))
        });
        let has_decode_ev = sig
            .checks
            .iter()
            .any(|c| matches!(c, Check::DecodeEvent(_)));
        let has_stream_ev = sig
            .checks
            .iter()
            .any(|c| matches!(c, Check::StreamEvent(_)));
        let needs_packet = sig.checks.iter().any(|c| matches!(c, Check::Dsize(_)))
            || flow.no_stream
            || matches!(sig.header.proto, Proto::TcpPkt);
        let needs_header_buffer = sig
            .inspections
            .iter()
            .any(|i| matches!(i.buffer.kind(), BufferKind::Packet));
        let class = if has_tx_buffer {
            Class::Tx
        } else if has_decode_ev {
            Class::DecodeEvent
        } else if has_stream_ev {
            Class::StreamEvent
        } else if has_payload {
            let tcp_like = matches!(
                sig.header.proto,
                Proto::Tcp | Proto::TcpStream | Proto::App(_)
            );
            if tcp_like && !needs_packet {
                Class::Stream
            } else {
                Class::PacketPayload
            }
        } else if header_app.is_some() && !needs_header_buffer {
            // `alert dns any any -> any any (msg:...; sid:1;)`: per transaction.
            Class::Tx
        } else if sig.inspections.is_empty()
            && checks_only_addr
            && matches!(
                sig.header.proto,
                Proto::Ip
                    | Proto::Ipv4
                    | Proto::Ipv6
                    | Proto::Tcp
                    | Proto::Udp
                    | Proto::Icmp
                    | Proto::Icmpv4
                    | Proto::Icmpv6
                    | Proto::Sctp
            )
            && sig.header.src_ports.is_any()
            && sig.header.dst_ports.is_any()
        {
            Class::IpOnly
        } else {
            Class::Packet
        };
        let mut flowbits = Vec::new();
        for c in &sig.checks {
            if let Check::Flowbits(f) = c {
                flowbits.push(CompiledFlowbits {
                    cmd: f.cmd.clone(),
                    ids: f.names.iter().map(|n| bits.id(n)).collect(),
                    any: f.any,
                });
            }
        }
        let noalert = sig.noalert
            || sig
                .checks
                .iter()
                .any(|c| matches!(c, Check::Flowbits(f) if f.cmd == FlowbitCmd::NoAlert))
            || sig.header.action == Action::Config
            || sig.header.action == Action::Pass;
        let fast = choose_fast_pattern(&sig);
        let stream_window = class == Class::Stream
            && fast
                .as_ref()
                .is_some_and(|f| f.key.buffer == Buffer::Payload && f.key.transforms.is_empty())
            && sig
                .inspections
                .iter()
                .filter(|i| i.buffer == Buffer::Payload)
                .all(|i| i.items.iter().all(floating));
        Ok(CompiledSig {
            stream_window,
            suppress: Vec::new(),
            num: 0,
            src: AddrMatch::new(&sig.header.src),
            dst: AddrMatch::new(&sig.header.dst),
            sp: PortMatch::new(&sig.header.src_ports),
            dp: PortMatch::new(&sig.header.dst_ports),
            class,
            app,
            tx_dir,
            flow,
            programs,
            flowbits,
            fast,
            noalert,
            sig,
        })
    }

    /// Evaluation order class for flowbits: rules that set bits run before
    /// rules that read them in the same packet, as Suricata orders them.
    pub fn flowbits_order(&self) -> u8 {
        let set = self.flowbits.iter().any(|f| {
            matches!(
                f.cmd,
                FlowbitCmd::Set | FlowbitCmd::Unset | FlowbitCmd::Toggle
            )
        });
        let read = self
            .flowbits
            .iter()
            .any(|f| matches!(f.cmd, FlowbitCmd::IsSet | FlowbitCmd::IsNotSet));
        match (set, read) {
            (true, false) => 0,
            (true, true) => 1,
            (false, true) => 2,
            (false, false) => 3,
        }
    }
}

/// An item whose meaning does not depend on where the buffer starts.
fn floating(item: &Item) -> bool {
    match item {
        Item::Content(c) => c.offset.is_none() && c.depth.is_none() && !c.startswith && !c.endswith,
        Item::Pcre(p) => !p.anchored && !p.pattern.starts_with('^'),
        Item::IsDataAt(i) => i.relative,
        _ => false,
    }
}

/// `http1`, `http2` rules inspect the HTTP parser's transactions.
pub fn normalise_app(a: &str) -> String {
    match a {
        "http1" => "http".into(),
        other => other.to_string(),
    }
}

/// Suricata's choice: an explicit `fast_pattern`, else the longest positive
/// content (after a `fast_pattern:o,l` chop) of the rule.
fn choose_fast_pattern(sig: &Sig) -> Option<FastPattern> {
    let mut best: Option<(usize, FastPattern, bool)> = None;
    for insp in &sig.inspections {
        if insp.buffer == Buffer::Base64Data {
            continue;
        }
        for item in &insp.items {
            let Item::Content(c) = item else { continue };
            if c.negated || c.pattern.is_empty() {
                continue;
            }
            let mut pat: &[u8] = &c.pattern;
            if let Some((o, l)) = c.fast_pattern.chop {
                let o = usize::from(o).min(pat.len());
                let e = (o + usize::from(l)).min(pat.len());
                pat = &pat[o..e];
            }
            if pat.is_empty() {
                continue;
            }
            let explicit = c.fast_pattern.explicit;
            let cand = FastPattern {
                key: BufKey {
                    buffer: insp.buffer,
                    transforms: insp.transforms.clone(),
                },
                pattern: pat.to_ascii_lowercase(),
            };
            let better = match &best {
                None => true,
                Some((len, _, was_explicit)) => {
                    (explicit && !was_explicit) || (explicit == *was_explicit && pat.len() > *len)
                }
            };
            if better {
                best = Some((pat.len(), cand, explicit));
            }
        }
    }
    best.map(|(_, f, _)| f)
}
