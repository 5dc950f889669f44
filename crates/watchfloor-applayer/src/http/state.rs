//! Per-flow HTTP/1.x state: stream bytes of each direction in, one
//! [`HttpTx`] per request/response exchange out.
//!
//! Responses pair with requests in order (pipelining): the n-th response of
//! the flow answers the n-th request. A response with no request waiting
//! still gets a transaction, as libhtp gives it one. After `CONNECT` + 2xx or
//! a `101 Switching Protocols` nothing more is parsed: the flow is handed
//! over ([`HttpState::handover`]), as Suricata does.

use std::collections::VecDeque;

use super::body::{push_body, Body, BodyLimits, ChunkOutcome, Decoder, Framing};
use super::error::{HttpError, HttpEvent};
use super::parser::{
    self, chomp, looks_like_status_line, parse_request_line, parse_status_line, Head, HeaderLimits,
    RequestLine, Span, Version,
};
use super::tx::{finish_request, finish_response, HttpTx, Request, Response};
use crate::Direction;

pub use super::config::{Handover, HttpConfig, TunnelKind};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Between messages; blank lines are skipped.
    Idle,
    Head,
    Body(Framing),
    /// Request side after a CONNECT, until its response says what follows.
    ConnectWait,
    /// Tunnel, failure or close: bytes are ignored.
    Stopped,
}

#[derive(Debug)]
struct Side {
    phase: Phase,
    /// Transaction of the message in progress.
    tx: Option<u64>,
    head: Head,
    line_start: usize,
    line_seen: usize,
    line_blank: bool,
    start_line: Option<usize>,
    over_limit: bool,
    decoder: Option<Decoder>,
    /// Request bytes held while a CONNECT waits for its answer.
    held: Vec<u8>,
    events: Vec<HttpEvent>,
}

impl Side {
    fn new() -> Side {
        Side {
            phase: Phase::Idle,
            tx: None,
            head: Head::default(),
            line_start: 0,
            line_seen: 0,
            line_blank: true,
            start_line: None,
            over_limit: false,
            decoder: None,
            held: Vec::new(),
            events: Vec::new(),
        }
    }

    fn reset_head(&mut self) {
        self.head = Head::default();
        self.line_start = 0;
        self.line_seen = 0;
        self.line_blank = true;
        self.start_line = None;
        self.over_limit = false;
    }
}

/// Events kept for the sensor when no transaction is left to carry them.
const MAX_ORPHAN_EVENTS: usize = 64;

#[derive(Debug)]
pub struct HttpState {
    config: HttpConfig,
    next_tx_id: u64,
    /// Id of the transaction the next response answers.
    next_resp_tx: u64,
    txs: VecDeque<HttpTx>,
    sides: [Side; 2],
    handover: Option<Handover>,
    failed: [bool; 2],
    orphan_events: Vec<HttpEvent>,
}

impl HttpState {
    pub fn new(config: HttpConfig) -> HttpState {
        HttpState {
            config,
            next_tx_id: 0,
            next_resp_tx: 0,
            txs: VecDeque::new(),
            sides: [Side::new(), Side::new()],
            handover: None,
            failed: [false; 2],
            orphan_events: Vec::new(),
        }
    }

    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// In-order stream bytes of one direction, any segmentation. Anomalies
    /// become events on the transactions; nothing here fails on content.
    pub fn parse(&mut self, dir: Direction, data: &[u8]) {
        if let Some(h) = &mut self.handover {
            let buf = &mut h.pending[dir.index()];
            let room = self.config.handover_limit.saturating_sub(buf.len());
            buf.extend_from_slice(&data[..room.min(data.len())]);
            return;
        }
        let mut data = data;
        while !data.is_empty() {
            let n = self.step(dir, data);
            data = data.get(n..).unwrap_or(&[]);
            if let Some(h) = &mut self.handover {
                let buf = &mut h.pending[dir.index()];
                let room = self.config.handover_limit.saturating_sub(buf.len());
                buf.extend_from_slice(&data[..room.min(data.len())]);
                return;
            }
            if n == 0 {
                break;
            }
        }
    }

    /// Bytes of one direction were lost. Inside a body of known length or
    /// one that runs to the close they are skipped; anywhere else that
    /// direction stops being parsed.
    pub fn gap(&mut self, dir: Direction, len: u64) -> Result<(), HttpError> {
        let i = dir.index();
        let side = &mut self.sides[i];
        let tx_id = side.tx;
        let tx = tx_id.and_then(|id| find_mut(&mut self.txs, id));
        let phase = std::mem::replace(&mut side.phase, Phase::Stopped);
        let body = |tx: Option<&mut HttpTx>| {
            if let Some(t) = tx {
                let b = body_mut(t, dir);
                b.message_len += len;
                b.gap = true;
            }
        };
        match phase {
            Phase::Idle => {
                side.phase = Phase::Idle;
                Ok(())
            }
            Phase::Body(Framing::UntilClose) => {
                body(tx);
                side.phase = Phase::Body(Framing::UntilClose);
                side.decoder = None;
                Ok(())
            }
            Phase::Body(Framing::Length(rem)) if len <= rem => {
                body(tx);
                side.decoder = None;
                side.phase = Phase::Body(Framing::Length(rem - len));
                if rem == len {
                    self.message_done(dir);
                }
                Ok(())
            }
            Phase::Head => {
                self.failed[i] = true;
                self.close(dir);
                self.sides[i].phase = Phase::Stopped;
                Err(HttpError::GapInHeaders { dir })
            }
            _ => {
                self.failed[i] = true;
                if let Some(t) = tx {
                    complete(t, dir);
                }
                Err(HttpError::GapInBody { dir })
            }
        }
    }

    /// The direction closed (FIN/RST or end of input): a body that runs to
    /// the close ends, a head cut short is parsed as far as it got.
    pub fn close(&mut self, dir: Direction) {
        let i = dir.index();
        match self.sides[i].phase {
            Phase::Head => self.head_done(dir, true),
            Phase::Body(_) => self.message_done(dir),
            _ => {}
        }
        if let Some(id) = self.sides[i].tx {
            if let Some(t) = find_mut(&mut self.txs, id) {
                complete(t, dir);
            }
        }
        self.sides[i].phase = Phase::Stopped;
        self.sides[i].tx = None;
    }

    /// A protocol switch stopped HTTP parsing of the flow.
    pub fn handover(&self) -> Option<&Handover> {
        self.handover.as_ref()
    }

    pub fn is_tunnel(&self) -> bool {
        self.handover.is_some()
    }

    /// A gap stopped parsing of this direction.
    pub fn is_failed(&self, dir: Direction) -> bool {
        self.failed[dir.index()]
    }

    /// Transactions not drained yet, oldest first.
    pub fn transactions(&self) -> impl Iterator<Item = &HttpTx> {
        self.txs.iter()
    }

    pub fn get(&self, tx_id: u64) -> Option<&HttpTx> {
        self.txs.iter().find(|t| t.tx_id == tx_id)
    }

    /// Transaction ids handed out so far.
    pub fn tx_count(&self) -> u64 {
        self.next_tx_id
    }

    /// Hands over the transactions complete in both directions, oldest
    /// first, stopping at the first one still in progress (so transactions
    /// are logged in id order).
    pub fn take_complete(&mut self) -> Vec<HttpTx> {
        let n = self.txs.iter().take_while(|t| t.is_complete()).count();
        self.txs.drain(..n).collect()
    }

    /// Hands over every transaction, complete or not (end of flow).
    pub fn drain(&mut self) -> std::collections::vec_deque::Drain<'_, HttpTx> {
        self.txs.drain(..)
    }

    /// Events raised while no transaction was there to carry them.
    pub fn take_orphan_events(&mut self) -> Vec<HttpEvent> {
        std::mem::take(&mut self.orphan_events)
    }

    fn limits(&self, dir: Direction) -> BodyLimits {
        BodyLimits {
            inspect: match dir {
                Direction::ToServer => self.config.request_body_limit,
                Direction::ToClient => self.config.response_body_limit,
            },
            raw: self.config.raw_body_limit,
            bomb_limit: self.config.compression_bomb_limit,
            bomb_ratio: self.config.compression_bomb_ratio,
        }
    }

    /// Consumes a prefix of `data` in the current phase; returns its length.
    fn step(&mut self, dir: Direction, data: &[u8]) -> usize {
        let i = dir.index();
        match &self.sides[i].phase {
            Phase::Stopped => data.len(),
            Phase::ConnectWait => {
                let side = &mut self.sides[i];
                let room = self.config.handover_limit.saturating_sub(side.held.len());
                side.held.extend_from_slice(&data[..room.min(data.len())]);
                data.len()
            }
            Phase::Idle => {
                let skip = data
                    .iter()
                    .position(|&b| b != b'\r' && b != b'\n')
                    .unwrap_or(data.len());
                if skip == data.len() {
                    return skip;
                }
                self.start_message(dir);
                skip + self.step(dir, &data[skip..])
            }
            Phase::Head => self.head_bytes(dir, data),
            Phase::Body(_) => self.body_bytes(dir, data),
        }
    }

    fn start_message(&mut self, dir: Direction) {
        let i = dir.index();
        self.sides[i].reset_head();
        self.sides[i].phase = Phase::Head;
        match dir {
            Direction::ToServer => {
                let id = self.new_tx();
                self.sides[i].tx = Some(id);
            }
            Direction::ToClient => {
                if self.sides[i].tx.is_some() {
                    // Final response after an interim 1xx.
                    return;
                }
                let id = self.next_resp_tx;
                let paired = id < self.next_tx_id && find_mut(&mut self.txs, id).is_some();
                let id = if paired {
                    id
                } else {
                    let unmatched = id >= self.next_tx_id;
                    let id = self.new_tx();
                    if unmatched {
                        if let Some(t) = find_mut(&mut self.txs, id) {
                            t.push_event(HttpEvent::UnableToMatchResponseToRequest);
                        }
                    }
                    self.next_resp_tx = id;
                    id
                };
                self.sides[i].tx = Some(id);
                let simple = find_mut(&mut self.txs, id)
                    .and_then(|t| t.request.as_ref())
                    .is_some_and(|r| r.version == Version::V0_9);
                if simple {
                    // A simple request gets a bare body until close.
                    if let Some(t) = find_mut(&mut self.txs, id) {
                        t.response = Some(Response::simple());
                    }
                    self.sides[i].phase = Phase::Body(Framing::UntilClose);
                }
            }
        }
    }

    fn new_tx(&mut self) -> u64 {
        let id = self.next_tx_id;
        self.next_tx_id += 1;
        if self.txs.len() >= self.config.max_transactions.max(1) {
            self.txs.pop_front();
        }
        self.txs.push_back(HttpTx::new(id));
        id
    }

    fn head_bytes(&mut self, dir: Direction, data: &[u8]) -> usize {
        let (field_limit, head_limit) = (self.config.field_limit, self.config.head_limit);
        let side = &mut self.sides[dir.index()];
        let (end, complete) = match data.iter().position(|&b| b == b'\n') {
            Some(p) => (p + 1, true),
            None => (data.len(), false),
        };
        let seg = &data[..end];
        let content = if complete { &seg[..seg.len() - 1] } else { seg };
        if content.iter().any(|&b| b != b'\r') {
            side.line_blank = false;
        }
        let room = field_limit
            .saturating_sub(side.line_seen)
            .min(head_limit.saturating_sub(side.head.buf.len()));
        let take = room.min(content.len());
        if take < content.len() && !side.over_limit {
            side.over_limit = true;
            side.events.push(HttpEvent::sided(
                dir,
                HttpEvent::RequestFieldTooLong,
                HttpEvent::ResponseFieldTooLong,
            ));
        }
        side.head.buf.extend_from_slice(&content[..take]);
        side.line_seen += content.len();
        if !complete {
            return end;
        }
        if side.head.buf.len() < head_limit || side.line_blank {
            side.head.buf.push(b'\n');
        }
        let (ls, blank) = (side.line_start, side.line_blank);
        side.line_start = side.head.buf.len();
        side.line_seen = 0;
        side.line_blank = true;
        if side.start_line.is_none() {
            side.start_line = Some(side.head.buf.len());
            let line = chomp(&side.head.buf[ls..]).len();
            side.head.line = span(ls, ls + line);
            return end + self.start_line_done(dir);
        }
        if blank {
            self.head_done(dir, false);
        }
        end
    }

    /// Returns extra bytes consumed (none so far; kept for symmetry).
    fn start_line_done(&mut self, dir: Direction) -> usize {
        let i = dir.index();
        match dir {
            Direction::ToServer => {
                let side = &mut self.sides[i];
                let line = side.head.line.get(&side.head.buf);
                let rl = parse_request_line(line, &mut side.events);
                if rl.protocol.is_none() {
                    // A simple (0.9) request has no headers.
                    self.head_done(dir, false);
                }
            }
            Direction::ToClient => {
                let side = &mut self.sides[i];
                let line = side.head.line.get(&side.head.buf);
                if !looks_like_status_line(line) {
                    // libhtp takes a response that does not start with a
                    // status line as a body that runs to the close.
                    side.events.push(HttpEvent::ResponseInvalidProtocol);
                    let bytes = std::mem::take(&mut side.head.buf);
                    side.reset_head();
                    side.phase = Phase::Body(Framing::UntilClose);
                    if let Some(t) = side.tx.and_then(|id| find_mut(&mut self.txs, id)) {
                        t.response = Some(Response::simple());
                    }
                    self.flush_events(dir);
                    self.feed_body(dir, &bytes);
                    if let Some(t) = self.sides[i].tx.and_then(|id| find_mut(&mut self.txs, id)) {
                        t.response_body.message_len += bytes.len() as u64;
                    }
                }
            }
        }
        0
    }

    /// The blank line (or the close, when `cut`) ended the head.
    fn head_done(&mut self, dir: Direction, cut: bool) {
        let i = dir.index();
        let limits = HeaderLimits {
            max_headers: self.config.max_headers,
            max_repetitions: 64,
        };
        let side = &mut self.sides[i];
        let mut head = std::mem::take(&mut side.head);
        let hstart = side.start_line.unwrap_or(head.buf.len());
        head.raw_len = u32::try_from(head.buf.len()).unwrap_or(u32::MAX);
        head.raw_headers = span(hstart, head.buf.len());
        if side.start_line.is_none() {
            let line = chomp(&head.buf).len();
            head.line = span(0, line);
        }
        parser::parse_headers(&mut head, dir, limits, &mut side.events);
        side.reset_head();
        let id = side.tx;
        self.flush_events(dir);
        let Some(id) = id else { return };
        match dir {
            Direction::ToServer => self.request_head(id, head, cut),
            Direction::ToClient => self.response_head(id, head, cut),
        }
    }

    fn request_head(&mut self, id: u64, head: Head, cut: bool) {
        let dir = Direction::ToServer;
        let mut events = Vec::new();
        let rl: RequestLine = parse_request_line(head.line(), &mut Vec::new());
        let req = Request::new(head, rl);
        let decode = self.config.decompress_requests;
        let layer_limit = self.config.decompress_layer_limit;
        let Some(tx) = find_mut(&mut self.txs, id) else {
            return;
        };
        let framing = finish_request(tx, req, &mut events);
        for e in events {
            tx.push_event(e);
        }
        let connect = tx.request.as_ref().is_some_and(|r| r.is_connect());
        let side = &mut self.sides[dir.index()];
        if cut {
            return;
        }
        match framing {
            _ if connect => {
                complete(tx, dir);
                side.tx = None;
                side.phase = Phase::ConnectWait;
            }
            Some(f) => {
                side.decoder = decoder_for(tx, dir, decode, layer_limit);
                side.phase = Phase::Body(f);
                if side.phase == Phase::Body(Framing::Length(0)) {
                    self.message_done(dir);
                }
            }
            None => {
                complete(tx, dir);
                side.tx = None;
                side.phase = Phase::Idle;
            }
        }
    }

    fn response_head(&mut self, id: u64, head: Head, cut: bool) {
        let dir = Direction::ToClient;
        let mut events = Vec::new();
        let sl = parse_status_line(head.line(), &mut Vec::new());
        let resp = Response::new(head, sl);
        let decode = self.config.decompress_responses;
        let layer_limit = self.config.decompress_layer_limit;
        let Some(tx) = find_mut(&mut self.txs, id) else {
            return;
        };
        let outcome = finish_response(tx, resp, &mut events);
        for e in events {
            tx.push_event(e);
        }
        if cut {
            return;
        }
        let side = &mut self.sides[dir.index()];
        use super::tx::ResponseOutcome as R;
        match outcome {
            R::Interim => {
                side.phase = Phase::Idle;
            }
            R::Tunnel(kind) => {
                complete(tx, dir);
                side.tx = None;
                side.phase = Phase::Stopped;
                let mut pending: [Vec<u8>; 2] = Default::default();
                pending[0] = std::mem::take(&mut self.sides[0].held);
                self.sides[0].phase = Phase::Stopped;
                self.handover = Some(Handover {
                    kind,
                    tx_id: id,
                    pending,
                });
            }
            R::NoBody => self.message_done(dir),
            R::Body(f) => {
                side.decoder = decoder_for(tx, dir, decode, layer_limit);
                let empty = f == Framing::Length(0);
                side.phase = Phase::Body(f);
                if empty {
                    self.message_done(dir);
                }
            }
        }
    }

    /// The message of this direction is complete.
    fn message_done(&mut self, dir: Direction) {
        let i = dir.index();
        let side = &mut self.sides[i];
        side.decoder = None;
        side.phase = Phase::Idle;
        let Some(id) = side.tx.take() else { return };
        if let Some(t) = find_mut(&mut self.txs, id) {
            complete(t, dir);
        }
        if dir == Direction::ToClient {
            self.next_resp_tx = self.next_resp_tx.max(id + 1);
            if self.sides[0].phase == Phase::ConnectWait {
                // CONNECT refused: the held bytes are the next requests.
                self.sides[0].phase = Phase::Idle;
                let held = std::mem::take(&mut self.sides[0].held);
                self.parse(Direction::ToServer, &held);
            }
        }
    }

    /// Moves a side's pending events to its transaction.
    fn flush_events(&mut self, dir: Direction) {
        let side = &mut self.sides[dir.index()];
        if side.events.is_empty() {
            return;
        }
        let events = std::mem::take(&mut side.events);
        match side.tx.and_then(|id| find_mut(&mut self.txs, id)) {
            Some(t) => events.into_iter().for_each(|e| t.push_event(e)),
            None => {
                for e in events {
                    if self.orphan_events.len() < MAX_ORPHAN_EVENTS {
                        self.orphan_events.push(e);
                    }
                }
            }
        }
    }
}

fn span(s: usize, e: usize) -> Span {
    Span {
        start: u32::try_from(s).unwrap_or(u32::MAX),
        len: u32::try_from(e.saturating_sub(s)).unwrap_or(0),
    }
}

fn find_mut(txs: &mut VecDeque<HttpTx>, id: u64) -> Option<&mut HttpTx> {
    // Ids are consecutive from the front, except after max_transactions
    // dropped some; the index guess is checked.
    let front = txs.front()?.tx_id;
    let idx = usize::try_from(id.checked_sub(front)?).ok()?;
    match txs.get(idx) {
        Some(t) if t.tx_id == id => txs.get_mut(idx),
        _ => txs.iter_mut().find(|t| t.tx_id == id),
    }
}

fn body_mut(t: &mut HttpTx, dir: Direction) -> &mut Body {
    match dir {
        Direction::ToServer => &mut t.request_body,
        Direction::ToClient => &mut t.response_body,
    }
}

fn complete(t: &mut HttpTx, dir: Direction) {
    match dir {
        Direction::ToServer => t.request_complete = true,
        Direction::ToClient => t.response_complete = true,
    }
}

#[path = "state_body.rs"]
mod state_body;
use state_body::decoder_for;

#[cfg(test)]
#[path = "tests_state.rs"]
mod tests;
