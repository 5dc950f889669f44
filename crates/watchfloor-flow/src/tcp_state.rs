//! The TCP session state machine, after Suricata's stream-tcp.
//!
//! State names follow Suricata, which names the closing states from the
//! server's side: a FIN from the client moves an established session to
//! `close_wait`, a FIN from the server to `fin_wait1`.
//!
//! What is modelled: 3-way and 4-way (simultaneous open) handshakes, TFO data
//! on the SYN (kept only if the SYN/ACK acknowledges it), RST, FIN teardown in
//! both orders, midstream pick-up (`stream.midstream`, SYN/ACK first reverses
//! the flow as Suricata does), one-sided sessions (`stream.async-oneside`),
//! and port reuse after close. What is not: window and timestamp validation
//! (so out-of-window and PAWS events are never raised).

use crate::flow::FlowState;
use crate::key::Direction;
use watchfloor_decode::{tcp_flags, TcpHdr};
use watchfloor_stream::{Reassembler, StreamConfig, StreamCtx, StreamEvent};

/// Suricata's TCP session states (`tcp.state` in EVE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpState {
    None,
    SynSent,
    SynRecv,
    Established,
    FinWait1,
    FinWait2,
    TimeWait,
    LastAck,
    CloseWait,
    Closing,
    Closed,
}

impl TcpState {
    pub fn as_str(self) -> &'static str {
        match self {
            TcpState::None => "none",
            TcpState::SynSent => "syn_sent",
            TcpState::SynRecv => "syn_recv",
            TcpState::Established => "established",
            TcpState::FinWait1 => "fin_wait1",
            TcpState::FinWait2 => "fin_wait2",
            TcpState::TimeWait => "time_wait",
            TcpState::LastAck => "last_ack",
            TcpState::CloseWait => "close_wait",
            TcpState::Closing => "closing",
            TcpState::Closed => "closed",
        }
    }

    /// The flow state Suricata derives from a TCP state change.
    fn flow_state(self) -> Option<FlowState> {
        match self {
            TcpState::Established
            | TcpState::FinWait1
            | TcpState::FinWait2
            | TcpState::Closing
            | TcpState::CloseWait => Some(FlowState::Established),
            TcpState::LastAck | TcpState::TimeWait | TcpState::Closed => Some(FlowState::Closed),
            TcpState::None | TcpState::SynSent | TcpState::SynRecv => None,
        }
    }
}

const MIDSTREAM: u8 = 0x01;
const MIDSTREAM_SYNACK: u8 = 0x02;
const ASYNC: u8 = 0x04;
const FOUR_WHS: u8 = 0x08;
const CLIENT_SYN: u8 = 0x10;

/// TCP session of a flow. Index 0 is the client (toserver) side.
#[derive(Debug, Clone)]
pub struct TcpSession {
    state: TcpState,
    flags: u8,
    tcp_flags: [u8; 2],
    isn: [u32; 2],
    /// ACK value that acknowledges each side's FIN.
    fin_end: [Option<u32>; 2],
    fin_acked: [bool; 2],
    closer: Option<Direction>,
    syn_data: Option<Box<[u8]>>,
}

impl TcpSession {
    fn new(state: TcpState, flags: u8) -> Self {
        TcpSession {
            state,
            flags,
            tcp_flags: [0; 2],
            isn: [0; 2],
            fin_end: [None; 2],
            fin_acked: [false; 2],
            closer: None,
            syn_data: None,
        }
    }
    pub fn state(&self) -> TcpState {
        self.state
    }
    /// OR of the TCP flags seen in `dir` since the session began.
    pub fn flags(&self, dir: Direction) -> u8 {
        self.tcp_flags[dir.index()]
    }
    pub fn is_midstream(&self) -> bool {
        self.flags & MIDSTREAM != 0
    }
    pub fn is_async(&self) -> bool {
        self.flags & ASYNC != 0
    }
    pub(crate) fn add_flags(&mut self, dir: Direction, flags: u8) {
        self.tcp_flags[dir.index()] |= flags;
    }
    pub(crate) fn isn(&self, dir: Direction) -> u32 {
        self.isn[dir.index()]
    }
    pub(crate) fn swap(&mut self) {
        self.tcp_flags.swap(0, 1);
        self.isn.swap(0, 1);
        self.fin_end.swap(0, 1);
        self.fin_acked.swap(0, 1);
        self.closer = self.closer.map(Direction::reverse);
    }
}

fn seq_geq(a: u32, b: u32) -> bool {
    a.wrapping_sub(b) as i32 >= 0
}

/// What one packet did to the session, for the table to act on.
#[derive(Debug, Default)]
pub(crate) struct Step {
    /// The packet's data may enter the stream.
    pub accept_data: bool,
    /// The session swapped direction: the packet's direction flipped.
    pub swapped: bool,
    /// TFO data held from the SYN was acknowledged: deliver it.
    pub tfo: Option<Box<[u8]>>,
    pub events: Vec<StreamEvent>,
    pub new_session: bool,
    pub midstream: bool,
}

type Streams = Option<Box<[Reassembler; 2]>>;

fn stream_init(streams: &mut Streams, ctx: &mut StreamCtx, dir: Direction, seq: u32, syn: bool) {
    let s = streams.get_or_insert_with(Default::default);
    let r = &mut s[dir.index()];
    r.clear(ctx);
    if syn {
        r.init(seq);
    } else {
        r.init_at(seq);
    }
}

/// Runs the state machine for one packet of a flow that has no session yet:
/// decides whether it starts one (SYN, or a pick-up when allowed).
pub(crate) fn start(
    tcp: &mut Option<TcpSession>,
    streams: &mut Streams,
    dir: Direction,
    th: &TcpHdr,
    payload_len: usize,
    payload: &[u8],
    ctx: &mut StreamCtx,
) -> Step {
    let cfg = ctx.config;
    let f = th.flags;
    let (syn, ack, rst, fin) = (
        f & tcp_flags::SYN != 0,
        f & tcp_flags::ACK != 0,
        f & tcp_flags::RST != 0,
        f & tcp_flags::FIN != 0,
    );
    let mut step = Step::default();
    if rst {
        step.events.push(StreamEvent::RstButNoSession);
        return step;
    }
    if syn && !ack {
        // The SYN sender is the client, whatever came before it.
        let client = Direction::ToServer;
        step.swapped = dir == Direction::ToClient;
        let mut s = TcpSession::new(TcpState::SynSent, CLIENT_SYN);
        s.isn[client.index()] = th.seq;
        if payload_len > 0 {
            // Held until the SYN/ACK says whether the server took it (TFO).
            s.syn_data = Some(payload.into());
        }
        stream_init(streams, ctx, client, th.seq, true);
        *tcp = Some(s);
        step.new_session = true;
        return step;
    }
    if syn && ack {
        if !cfg.midstream && !cfg.async_oneside {
            return step;
        }
        // Suricata reverses the flow: the SYN/ACK came from the server.
        step.swapped = dir == Direction::ToServer;
        let server = Direction::ToClient;
        let mut flags = MIDSTREAM | MIDSTREAM_SYNACK;
        if cfg.async_oneside {
            flags |= ASYNC;
        }
        let mut s = TcpSession::new(TcpState::SynRecv, flags);
        s.isn[server.index()] = th.seq;
        stream_init(streams, ctx, server, th.seq, true);
        stream_init(streams, ctx, server.reverse(), th.ack, false);
        *tcp = Some(s);
        step.new_session = true;
        step.midstream = true;
        return step;
    }
    if fin && !cfg.midstream {
        step.events.push(StreamEvent::FinButNoSession);
        return step;
    }
    if cfg.midstream && ack {
        let mut s = TcpSession::new(TcpState::Established, MIDSTREAM);
        stream_init(streams, ctx, dir, th.seq, false);
        stream_init(streams, ctx, dir.reverse(), th.ack, false);
        close_progress(&mut s, dir, th, payload_len);
        *tcp = Some(s);
        step.new_session = true;
        step.midstream = true;
        step.accept_data = true;
    }
    step
}

/// Runs the state machine for a packet of an existing session.
pub(crate) fn advance(
    s: &mut TcpSession,
    streams: &mut Streams,
    dir: Direction,
    th: &TcpHdr,
    payload_len: usize,
    ctx: &mut StreamCtx,
) -> Step {
    let cfg: StreamConfig = ctx.config;
    let f = th.flags;
    let (syn, ack, rst) = (
        f & tcp_flags::SYN != 0,
        f & tcp_flags::ACK != 0,
        f & tcp_flags::RST != 0,
    );
    let mut step = Step::default();
    if syn && rst {
        return step;
    }
    match s.state {
        TcpState::None => {}
        TcpState::SynSent => {
            if rst {
                s.state = TcpState::Closed;
            } else if dir == Direction::ToClient && syn && ack {
                let base = s.isn[0].wrapping_add(1);
                let tfo_len = s.syn_data.as_ref().map_or(0, |d| d.len() as u32);
                if tfo_len > 0 && th.ack == base.wrapping_add(tfo_len) {
                    step.tfo = s.syn_data.take();
                } else if th.ack == base {
                    if s.syn_data.take().is_some() {
                        step.events.push(StreamEvent::ThreeWhsSynackTfoDataIgnored);
                    }
                } else {
                    step.events.push(StreamEvent::ThreeWhsSynackWithWrongAck);
                    return step;
                }
                s.isn[1] = th.seq;
                stream_init(streams, ctx, Direction::ToClient, th.seq, true);
                s.state = TcpState::SynRecv;
            } else if dir == Direction::ToClient && syn {
                // Simultaneous open: the server answers SYN with SYN.
                s.isn[1] = th.seq;
                s.flags |= FOUR_WHS;
                stream_init(streams, ctx, Direction::ToClient, th.seq, true);
                s.state = TcpState::SynRecv;
            } else if dir == Direction::ToServer && syn && !ack {
                if th.seq != s.isn[0] {
                    s.isn[0] = th.seq;
                    stream_init(streams, ctx, Direction::ToServer, th.seq, true);
                }
            } else if dir == Direction::ToServer && ack && !syn && cfg.async_oneside {
                // Only the client side is visible: trust its ACK for the
                // server's sequence space.
                s.flags |= ASYNC;
                s.state = TcpState::Established;
                stream_init(streams, ctx, Direction::ToClient, th.ack, false);
                step.accept_data = true;
                close_progress(s, dir, th, payload_len);
            }
        }
        TcpState::SynRecv => {
            if rst {
                s.state = TcpState::Closed;
            } else if syn && ack {
                if s.flags & FOUR_WHS != 0 && dir == Direction::ToServer {
                    if th.ack != s.isn[1].wrapping_add(1) {
                        step.events.push(StreamEvent::FourWhsSynackWithWrongAck);
                    }
                } else if dir == Direction::ToServer {
                    step.events
                        .push(StreamEvent::ThreeWhsSynackInWrongDirection);
                } else if th.seq != s.isn[1] {
                    s.isn[1] = th.seq;
                    stream_init(streams, ctx, Direction::ToClient, th.seq, true);
                }
            } else if ack && !syn {
                let acker = if s.flags & FOUR_WHS != 0 {
                    Direction::ToClient
                } else {
                    Direction::ToServer
                };
                let one_sided = dir == Direction::ToClient
                    && (cfg.async_oneside || s.flags & MIDSTREAM_SYNACK != 0);
                if dir == acker || one_sided {
                    if one_sided && cfg.async_oneside {
                        s.flags |= ASYNC;
                    }
                    s.state = TcpState::Established;
                    step.accept_data = true;
                    close_progress(s, dir, th, payload_len);
                } else {
                    step.events.push(StreamEvent::ThreeWhsAckInWrongDir);
                }
            }
        }
        TcpState::Closed => {}
        _ => {
            if rst {
                s.state = TcpState::Closed;
                step.accept_data = true;
            } else if syn {
                step.events.push(match (dir, ack) {
                    (Direction::ToServer, true) => StreamEvent::EstSynackToserver,
                    (Direction::ToClient, false) => StreamEvent::EstSynToclient,
                    _ => StreamEvent::ShutdownSynResend,
                });
            } else {
                step.accept_data = true;
                close_progress(s, dir, th, payload_len);
            }
        }
    }
    step
}

/// FIN and ACK bookkeeping once a session is established; the closing state
/// follows from which side closed first and which FINs are acknowledged.
fn close_progress(s: &mut TcpSession, dir: Direction, th: &TcpHdr, payload_len: usize) {
    let other = dir.reverse();
    if th.flags & tcp_flags::ACK != 0 {
        if let Some(end) = s.fin_end[other.index()] {
            if seq_geq(th.ack, end) {
                s.fin_acked[other.index()] = true;
            }
        }
    }
    if th.flags & tcp_flags::FIN != 0 && s.fin_end[dir.index()].is_none() {
        // Suricata finds a one-sided client's FIN out of window (it has no
        // window from the server), so the session stays established.
        let async_client = s.flags & (ASYNC | CLIENT_SYN) == (ASYNC | CLIENT_SYN);
        if async_client && dir == Direction::ToServer {
            return;
        }
        let end = th.seq.wrapping_add(payload_len as u32).wrapping_add(1);
        s.fin_end[dir.index()] = Some(end);
        if s.closer.is_none() {
            s.closer = Some(dir);
        }
    }
    let Some(c) = s.closer else {
        return;
    };
    let o = c.reverse();
    let (c_acked, o_acked) = (s.fin_acked[c.index()], s.fin_acked[o.index()]);
    let o_fin = s.fin_end[o.index()].is_some();
    s.state = match (c, o_fin) {
        (Direction::ToServer, false) => TcpState::CloseWait,
        (Direction::ToServer, true) if o_acked => TcpState::Closed,
        (Direction::ToServer, true) => TcpState::LastAck,
        (Direction::ToClient, false) if c_acked => TcpState::FinWait2,
        (Direction::ToClient, false) => TcpState::FinWait1,
        (Direction::ToClient, true) => match (c_acked, o_acked) {
            (true, true) => TcpState::Closed,
            (true, false) => TcpState::TimeWait,
            (false, _) => TcpState::Closing,
        },
    };
}

/// True if this packet starts a new connection on the tuple of a finished
/// one (Suricata's TCP session reuse): the old flow ends, a new one begins.
pub(crate) fn is_reuse(s: &TcpSession, th: &TcpHdr) -> bool {
    th.flags & (tcp_flags::SYN | tcp_flags::ACK | tcp_flags::RST) == tcp_flags::SYN
        && matches!(
            s.state,
            TcpState::TimeWait | TcpState::Closed | TcpState::LastAck
        )
        && th.seq != s.isn[0]
}

/// The flow state after a TCP state change (never back to `new`).
pub(crate) fn flow_state_after(tcp: TcpState, current: FlowState) -> FlowState {
    if current == FlowState::Bypassed {
        return current;
    }
    tcp.flow_state().unwrap_or(current)
}
