//! State detection keeps between packets: per flow (flowbits, flowints,
//! whether the IP-only rules ran) and per engine (thresholds, xbits).

use std::collections::HashMap;
use std::net::IpAddr;
use watchfloor_rules::{Threshold, ThresholdKind, Track};

/// Per-flow detection state. Lives in the flow's user data.
#[derive(Debug, Default, Clone)]
pub struct FlowDetect {
    /// Set flowbits, sorted.
    bits: Vec<u32>,
    /// Flowints (id, value).
    ints: Vec<(u32, u32)>,
    /// IP-only rules already ran for this direction (to server, to client).
    pub(crate) iponly_done: [bool; 2],
    /// (transaction, rule, direction) that matched: a rule matches a
    /// transaction once per direction, as Suricata keeps detection state
    /// per direction of a transaction.
    tx_matched: Vec<(u64, u32, u8)>,
    /// The last bytes of each direction's stream, for patterns that
    /// straddle two chunks (to server, to client).
    pub(crate) stream_tail: [Vec<u8>; 2],
    /// The engine this state belongs to; another engine (rules reloaded)
    /// starts the flow's detection state afresh, as its names differ.
    pub(crate) engine: u64,
    /// Transactions a `config` rule said not to log (kept so a DNS answer
    /// is silenced with its question).
    unlogged: Vec<u64>,
}

impl FlowDetect {
    pub fn is_set(&self, bit: u32) -> bool {
        self.bits.binary_search(&bit).is_ok()
    }
    pub fn set(&mut self, bit: u32) {
        if let Err(i) = self.bits.binary_search(&bit) {
            self.bits.insert(i, bit);
        }
    }
    pub fn unset(&mut self, bit: u32) {
        if let Ok(i) = self.bits.binary_search(&bit) {
            self.bits.remove(i);
        }
    }
    pub fn toggle(&mut self, bit: u32) {
        match self.bits.binary_search(&bit) {
            Ok(i) => {
                self.bits.remove(i);
            }
            Err(i) => self.bits.insert(i, bit),
        }
    }
    pub(crate) fn tx_done(&self, tx: u64, rule: u32, dir: u8) -> bool {
        self.tx_matched.contains(&(tx, rule, dir))
    }
    pub(crate) fn mark_tx(&mut self, tx: u64, rule: u32, dir: u8) {
        // Old transactions are finished with; keep the list short.
        if self.tx_matched.len() >= 64 {
            let newest = self
                .tx_matched
                .iter()
                .map(|(t, _, _)| *t)
                .max()
                .unwrap_or(0);
            self.tx_matched.retain(|(t, _, _)| t + 8 > newest);
        }
        self.tx_matched.push((tx, rule, dir));
    }
    /// Records that transaction `tx` must not be logged.
    pub fn mark_unlogged(&mut self, tx: u64) {
        if self.unlogged.len() >= 64 {
            self.unlogged.remove(0);
        }
        self.unlogged.push(tx);
    }

    pub fn is_unlogged(&self, tx: u64) -> bool {
        self.unlogged.contains(&tx)
    }

    pub fn int(&self, id: u32) -> Option<u32> {
        self.ints.iter().find(|(i, _)| *i == id).map(|(_, v)| *v)
    }
    pub fn set_int(&mut self, id: u32, v: u32) {
        match self.ints.iter_mut().find(|(i, _)| *i == id) {
            Some(e) => e.1 = v,
            None => self.ints.push((id, v)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum TrackKey {
    Ip(IpAddr),
    Pair(IpAddr, IpAddr),
    Rule,
    Flow(u64),
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start_ns: i64,
    count: u32,
    /// Alerts already given in this window (for `limit`/`both`).
    alerted: u32,
}

/// `xbits`: bits kept per host or host pair (not per flow), with an
/// optional expiry in packet time. Shared by the engine's workers.
#[derive(Debug, Default)]
pub struct Xbits {
    bits: HashMap<(String, XbitKey), i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum XbitKey {
    Ip(IpAddr),
    Pair(IpAddr, IpAddr),
}

impl Xbits {
    fn key(track: Track, src: IpAddr, dst: IpAddr) -> XbitKey {
        match track {
            Track::ByDst => XbitKey::Ip(dst),
            // A pair is the same whichever way the packet travels.
            Track::IpPair | Track::ByBoth => {
                if src <= dst {
                    XbitKey::Pair(src, dst)
                } else {
                    XbitKey::Pair(dst, src)
                }
            }
            _ => XbitKey::Ip(src),
        }
    }

    pub fn is_set(&self, name: &str, track: Track, src: IpAddr, dst: IpAddr, now: i64) -> bool {
        self.bits
            .get(&(name.to_string(), Self::key(track, src, dst)))
            .is_some_and(|exp| *exp > now)
    }

    /// Sets the bit until `now + expire` seconds (Suricata's default 30 s).
    pub fn set(
        &mut self,
        name: &str,
        track: Track,
        src: IpAddr,
        dst: IpAddr,
        now: i64,
        expire: Option<u32>,
    ) {
        let until =
            now.saturating_add(i64::from(expire.unwrap_or(30)).saturating_mul(1_000_000_000));
        // Keep the table bounded: drop expired bits now and then.
        if self.bits.len() > 65_536 {
            self.bits.retain(|_, e| *e > now);
        }
        self.bits
            .insert((name.to_string(), Self::key(track, src, dst)), until);
    }

    pub fn unset(&mut self, name: &str, track: Track, src: IpAddr, dst: IpAddr) {
        self.bits
            .remove(&(name.to_string(), Self::key(track, src, dst)));
    }
}

/// Thresholds and detection filters, shared by the engine's workers.
#[derive(Debug, Default)]
pub struct Thresholds {
    windows: HashMap<(u32, TrackKey), Window>,
}

/// What a packet offers for threshold tracking.
#[derive(Debug, Clone, Copy)]
pub struct TrackCtx {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub flow_id: Option<u64>,
    pub ts_ns: i64,
}

impl Thresholds {
    /// Counts a match of rule `num` and says whether it may alert.
    pub fn allow(&mut self, num: u32, t: &Threshold, ctx: &TrackCtx) -> bool {
        let key = match t.track {
            Track::BySrc => TrackKey::Ip(ctx.src),
            Track::ByDst => TrackKey::Ip(ctx.dst),
            Track::ByRule => TrackKey::Rule,
            Track::ByBoth | Track::IpPair => TrackKey::Pair(ctx.src, ctx.dst),
            Track::ByFlow => TrackKey::Flow(ctx.flow_id.unwrap_or(0)),
        };
        let period = i64::from(t.seconds).saturating_mul(1_000_000_000);
        let w = self.windows.entry((num, key)).or_insert(Window {
            start_ns: ctx.ts_ns,
            count: 0,
            alerted: 0,
        });
        let windowless = matches!(t.kind, ThresholdKind::Backoff { .. });
        if !windowless && ctx.ts_ns.saturating_sub(w.start_ns) >= period {
            *w = Window {
                start_ns: ctx.ts_ns,
                count: 0,
                alerted: 0,
            };
        }
        w.count = w.count.saturating_add(1);
        let c = t.count.max(1);
        match t.kind {
            // The first `count` matches of each period alert.
            ThresholdKind::Limit => {
                if w.alerted < c {
                    w.alerted += 1;
                    true
                } else {
                    false
                }
            }
            // Every `count`-th match alerts; the window restarts after it.
            ThresholdKind::Threshold => {
                if w.count >= c {
                    w.count = 0;
                    true
                } else {
                    false
                }
            }
            // Once per period, after `count` matches.
            ThresholdKind::Both => {
                if w.count >= c && w.alerted == 0 {
                    w.alerted = 1;
                    true
                } else {
                    false
                }
            }
            // Every match past the `count`-th in the period.
            ThresholdKind::DetectionFilter => w.count > c,
            ThresholdKind::Rate => true,
            // Alert at the count-th match, then at count*m, count*m*m, ...
            ThresholdKind::Backoff { multiplier } => {
                let next = u64::from(c)
                    .saturating_mul(u64::from(multiplier.max(1)).saturating_pow(w.alerted));
                if u64::from(w.count) == next {
                    w.alerted += 1;
                    true
                } else {
                    false
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(ts: i64) -> TrackCtx {
        TrackCtx {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            flow_id: Some(1),
            ts_ns: ts * 1_000_000_000,
        }
    }

    fn t(kind: ThresholdKind, count: u32, seconds: u32) -> Threshold {
        Threshold {
            kind,
            track: Track::BySrc,
            count,
            seconds,
        }
    }

    #[test]
    fn limit_threshold_both_and_detection_filter() {
        let mut th = Thresholds::default();
        let lim = t(ThresholdKind::Limit, 2, 60);
        let r: Vec<bool> = (0..4).map(|i| th.allow(1, &lim, &ctx(i))).collect();
        assert_eq!(r, vec![true, true, false, false]);
        assert!(th.allow(1, &lim, &ctx(61)), "a new period starts");

        let thr = t(ThresholdKind::Threshold, 3, 60);
        let r: Vec<bool> = (0..7).map(|i| th.allow(2, &thr, &ctx(i))).collect();
        assert_eq!(r, vec![false, false, true, false, false, true, false]);

        let both = t(ThresholdKind::Both, 2, 60);
        let r: Vec<bool> = (0..4).map(|i| th.allow(3, &both, &ctx(i))).collect();
        assert_eq!(r, vec![false, true, false, false]);

        let df = t(ThresholdKind::DetectionFilter, 2, 60);
        let r: Vec<bool> = (0..4).map(|i| th.allow(4, &df, &ctx(i))).collect();
        assert_eq!(r, vec![false, false, true, true]);
    }

    #[test]
    fn flowbits_and_ints() {
        let mut f = FlowDetect::default();
        f.set(3);
        f.set(1);
        assert!(f.is_set(1) && f.is_set(3) && !f.is_set(2));
        f.toggle(3);
        assert!(!f.is_set(3));
        f.unset(1);
        assert!(!f.is_set(1));
        f.set_int(7, 5);
        assert_eq!(f.int(7), Some(5));
        assert_eq!(f.int(8), None);
    }
}
