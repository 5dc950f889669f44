//! Per-flow DNS state: messages in, transactions out.
//!
//! Suricata 8 makes every DNS message its own transaction (a request and its
//! response are two transactions with consecutive ids), so that is what the
//! EVE `tx_id` counts. On top of that a response is paired with the request
//! carrying the same DNS id ([`DnsTransaction::reply_to`]); an unanswered
//! request or an unsolicited response is still a transaction and is logged.

use std::collections::VecDeque;

use super::error::{DnsError, DnsEvent};
use super::message::{DnsMessage, NameFlags};
use super::parser::parse_message;
use super::tcp::TcpFramer;
use super::{probe_tcp, Probe};
use crate::{AppEvent, Direction};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

#[derive(Debug, Clone)]
pub struct DnsConfig {
    /// Largest TCP message (length prefix included) one direction may
    /// buffer; the protocol maximum is 65537.
    pub tcp_buffer_cap: usize,
    /// Requests remembered for pairing; the oldest is forgotten first.
    pub max_pending_requests: usize,
    /// Transactions kept until [`DnsState::drain`]; the oldest is dropped
    /// first, so a sensor that never drains cannot grow a flow unboundedly.
    pub max_transactions: usize,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            tcp_buffer_cap: 65537,
            max_pending_requests: 256,
            max_transactions: 1024,
        }
    }
}

/// One DNS message and what the flow knows about it.
#[derive(Debug, Clone)]
pub struct DnsTransaction {
    /// Per-flow id from 0, in message order: EVE's `tx_id`.
    pub tx_id: u64,
    /// `ToServer` for a request, `ToClient` for a response.
    pub direction: Direction,
    pub transport: Transport,
    pub message: DnsMessage,
    /// For a response: `tx_id` of the request with the same DNS id.
    pub reply_to: Option<u64>,
    /// Anomalies, in the order Suricata raises them.
    pub events: Vec<DnsEvent>,
}

impl DnsTransaction {
    pub fn is_request(&self) -> bool {
        self.direction == Direction::ToServer
    }

    /// The on-the-wire DNS id.
    pub fn dns_id(&self) -> u16 {
        self.message.header.id
    }

    pub fn app_events(&self) -> impl Iterator<Item = AppEvent> + '_ {
        self.events.iter().map(|&e| e.into())
    }

    fn push_event(&mut self, e: DnsEvent) {
        if !self.events.contains(&e) {
            self.events.push(e);
        }
    }
}

/// Events kept for the sensor when no transaction is left to carry them.
const MAX_ORPHAN_EVENTS: usize = 64;

#[derive(Debug)]
pub struct DnsState {
    config: DnsConfig,
    next_tx_id: u64,
    txs: VecDeque<DnsTransaction>,
    /// (DNS id, tx_id) of requests not yet answered, oldest first.
    pending: VecDeque<(u16, u64)>,
    framers: [TcpFramer; 2],
    gap: [bool; 2],
    failed: bool,
    orphan_events: Vec<DnsEvent>,
}

impl DnsState {
    pub fn new(config: DnsConfig) -> Self {
        DnsState {
            config,
            next_tx_id: 0,
            txs: VecDeque::new(),
            pending: VecDeque::new(),
            framers: Default::default(),
            gap: [false; 2],
            failed: false,
            orphan_events: Vec::new(),
        }
    }

    /// One UDP datagram's payload. An error is informational: the state
    /// keeps going (Suricata counts no parser errors for DNS over UDP), and
    /// malformed messages have already raised their event.
    pub fn parse_udp(&mut self, dir: Direction, payload: &[u8]) -> Result<(), DnsError> {
        self.handle_message(dir, Transport::Udp, payload)
    }

    /// In-order TCP stream bytes of one direction, any segmentation. As in
    /// Suricata, the first error stops DNS parsing of the flow for good
    /// (later calls return `Ok` and do nothing; see [`DnsState::is_failed`]).
    pub fn parse_tcp(&mut self, dir: Direction, data: &[u8]) -> Result<(), DnsError> {
        if self.failed || data.is_empty() {
            return Ok(());
        }
        let i = dir.index();
        if self.gap[i] {
            // Resynchronise only where a message plausibly starts.
            match probe_tcp(data) {
                Probe::Dns(_) | Probe::NeedMore => self.gap[i] = false,
                Probe::NotDns => return Ok(()),
            }
        }
        let cap = self.config.tcp_buffer_cap;
        let mut framer = std::mem::take(&mut self.framers[i]);
        let r = framer.feed(data, cap, |msg| {
            self.handle_message(dir, Transport::Tcp, msg)
        });
        self.framers[i] = framer;
        if r.is_err() {
            self.failed = true;
            self.framers.iter_mut().for_each(TcpFramer::reset);
        }
        r
    }

    /// Bytes of one direction were lost: drop the partial message and wait
    /// for data that looks like the start of one.
    pub fn tcp_gap(&mut self, dir: Direction) {
        self.framers[dir.index()].reset();
        self.gap[dir.index()] = true;
    }

    /// A TCP error stopped parsing of this flow.
    pub fn is_failed(&self) -> bool {
        self.failed
    }

    /// Transactions not drained yet, oldest first.
    pub fn transactions(&self) -> impl Iterator<Item = &DnsTransaction> {
        self.txs.iter()
    }

    pub fn get(&self, tx_id: u64) -> Option<&DnsTransaction> {
        self.txs.iter().find(|t| t.tx_id == tx_id)
    }

    /// Hands over the transactions for logging; ids keep counting.
    pub fn drain(&mut self) -> std::collections::vec_deque::Drain<'_, DnsTransaction> {
        self.txs.drain(..)
    }

    /// Transaction ids handed out so far.
    pub fn tx_count(&self) -> u64 {
        self.next_tx_id
    }

    /// Requests still waiting for an answer: (DNS id, tx_id).
    pub fn unanswered(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.pending.iter().copied()
    }

    /// Events of messages that made no transaction while none was left in
    /// the state to carry them (Suricata would attach them to the newest
    /// transaction; once that is drained they are reported here).
    pub fn take_orphan_events(&mut self) -> Vec<DnsEvent> {
        std::mem::take(&mut self.orphan_events)
    }

    fn set_event(&mut self, e: DnsEvent) {
        match self.txs.back_mut() {
            Some(tx) => tx.push_event(e),
            None if self.orphan_events.len() < MAX_ORPHAN_EVENTS => self.orphan_events.push(e),
            None => {}
        }
    }

    fn handle_message(
        &mut self,
        dir: Direction,
        transport: Transport,
        bytes: &[u8],
    ) -> Result<(), DnsError> {
        let message = match parse_message(bytes) {
            Ok(m) => m,
            // Not DNS at all: Suricata skips it silently.
            Err(e) if e.is_header() => return Err(e.into()),
            Err(e) => {
                self.set_event(DnsEvent::MalformedData);
                return Err(e.into());
            }
        };
        let h = message.header;
        if dir == Direction::ToServer && h.qr() {
            self.set_event(DnsEvent::NotRequest);
            return Err(DnsError::NotRequest);
        }

        let mut events = Vec::new();
        if message.invalid_additionals {
            events.push(DnsEvent::InvalidAdditionals);
        }
        if message.invalid_authorities {
            events.push(DnsEvent::InvalidAuthorities);
        }
        if dir == Direction::ToClient && !h.qr() {
            events.push(DnsEvent::NotResponse);
        }
        if h.z() {
            events.push(DnsEvent::ZFlagSet);
        }
        if h.opcode() >= 7 {
            events.push(DnsEvent::InvalidOpcode);
        }
        let nf = message.name_flags;
        if nf.contains(NameFlags::TRUNCATED) {
            events.push(DnsEvent::NameTooLong);
        }
        if nf.contains(NameFlags::INFINITE_LOOP) {
            events.push(DnsEvent::InfiniteLoop);
        }
        if nf.contains(NameFlags::LABEL_LIMIT) {
            events.push(DnsEvent::TooManyLabels);
        }

        let tx_id = self.next_tx_id;
        self.next_tx_id += 1;
        let reply_to = match dir {
            Direction::ToServer => {
                if self.pending.len() >= self.config.max_pending_requests {
                    self.pending.pop_front();
                }
                self.pending.push_back((h.id, tx_id));
                None
            }
            Direction::ToClient => {
                let pos = self.pending.iter().position(|&(id, _)| id == h.id);
                pos.and_then(|p| self.pending.remove(p)).map(|(_, t)| t)
            }
        };
        if self.txs.len() >= self.config.max_transactions.max(1) {
            self.txs.pop_front();
        }
        self.txs.push_back(DnsTransaction {
            tx_id,
            direction: dir,
            transport,
            message,
            reply_to,
            events,
        });
        Ok(())
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
