//! The decoder: per-thread state (config, counters, defrag trackers) and the
//! link-layer dispatch every frame starts with.

use crate::config::DecodeConfig;
use crate::defrag::Defrag;
use crate::events::DecodeEvent;
use crate::packet::Packet;
use crate::stats::DecodeStats;
use crate::{ethernet, ipv4, ipv6, link, sll};
use watchfloor_capture::{LinkType, RawPacket};

/// Suricata's default `decoder.max-layers`.
const MAX_LAYERS: u8 = 16;

/// How often (in packet time) `decode` sweeps expired fragment trains on its own.
const EXPIRY_SWEEP_NS: i64 = 1_000_000_000;

/// Decodes frames into [`Packet`]s. One per thread: it owns the counters and
/// the fragment trackers, so it needs `&mut self` and no locking.
#[derive(Debug)]
pub struct Decoder {
    cfg: DecodeConfig,
    stats: DecodeStats,
    defrag: Defrag,
    next_sweep_ns: i64,
}

/// What one `decode` call threads through the layer decoders.
pub(crate) struct Cx<'a> {
    pub cfg: &'a DecodeConfig,
    pub stats: &'a mut DecodeStats,
    /// Taken (`Option::take`) by the fragment path: a reassembled datagram
    /// borrows the defragmenter's buffer for the rest of the call.
    pub defrag: Option<&'a mut Defrag>,
    /// The whole frame, to turn sub-slices back into offsets.
    pub frame: &'a [u8],
    layers: u8,
}

impl<'a> Cx<'a> {
    /// Suricata's `PacketIncreaseCheckLayers`: false once too many layers were
    /// decoded, which stops decoding.
    pub fn add_layer(&mut self, p: &mut Packet<'_>) -> bool {
        self.layers += 1;
        if self.layers >= MAX_LAYERS {
            self.stats.too_many_layers += 1;
            invalid(p, DecodeEvent::TooManyLayers);
            return false;
        }
        true
    }

    /// Byte offset of `sub` (a sub-slice of the frame) from the frame start.
    pub fn offset_of(&self, sub: &[u8]) -> usize {
        (sub.as_ptr() as usize).saturating_sub(self.frame.as_ptr() as usize)
    }
}

/// Record a warning event (Suricata's `ENGINE_SET_EVENT`).
pub(crate) fn event(p: &mut Packet<'_>, e: DecodeEvent) {
    p.events.push(e);
}

/// Record an event that makes the packet invalid (`ENGINE_SET_INVALID_EVENT`).
pub(crate) fn invalid(p: &mut Packet<'_>, e: DecodeEvent) {
    p.invalid = true;
    p.events.push(e);
}

impl Decoder {
    pub fn new(cfg: DecodeConfig) -> Decoder {
        let defrag = Defrag::new(cfg.defrag.clone());
        Decoder {
            cfg,
            stats: DecodeStats::default(),
            defrag,
            next_sweep_ns: i64::MIN,
        }
    }

    pub fn config(&self) -> &DecodeConfig {
        &self.cfg
    }

    pub fn stats(&self) -> &DecodeStats {
        &self.stats
    }

    /// Drop fragment trains whose timeout passed by `now_ns` (packet time),
    /// counting them in `defrag.ipv4/ipv6.timeouts`. `decode` also does this
    /// on its own about once a second of packet time.
    pub fn expire(&mut self, now_ns: i64) {
        self.defrag.expire(now_ns, &mut self.stats);
    }

    /// Fragment trains waiting for more fragments.
    pub fn pending_fragment_trains(&self) -> usize {
        self.defrag.trackers()
    }

    /// Bytes the pending fragment trains hold (compared against the memcap).
    pub fn defrag_memuse(&self) -> usize {
        self.defrag.memuse()
    }

    /// Decode one frame. Never panics on malformed input: the packet carries
    /// the events and is decoded as far as its headers allowed.
    pub fn decode<'a>(&'a mut self, raw: &RawPacket<'a>) -> Packet<'a> {
        if raw.ts_ns >= self.next_sweep_ns {
            if !self.defrag.is_empty() {
                self.defrag.expire(raw.ts_ns, &mut self.stats);
            }
            self.next_sweep_ns = raw.ts_ns.saturating_add(EXPIRY_SWEEP_NS);
        }
        let Decoder {
            cfg, stats, defrag, ..
        } = self;
        let mut p = Packet::new(raw);
        let data = raw.data;
        stats.pkts += 1;
        stats.bytes += data.len() as u64;
        stats.max_pkt_size = stats.max_pkt_size.max(data.len() as u64);
        let mut cx = Cx {
            cfg,
            stats,
            defrag: Some(defrag),
            frame: data,
            layers: 0,
        };
        match raw.linktype {
            LinkType::Ethernet => ethernet::decode_ethernet(&mut cx, &mut p, data),
            LinkType::LinuxSll => sll::decode_sll(&mut cx, &mut p, data),
            LinkType::LinuxSll2 => sll::decode_sll2(&mut cx, &mut p, data),
            LinkType::Raw => link::decode_raw(&mut cx, &mut p, data),
            LinkType::Null => link::decode_null(&mut cx, &mut p, data),
            LinkType::Ipv4 => ipv4::decode_ipv4(&mut cx, &mut p, data),
            LinkType::Ipv6 => ipv6::decode_ipv6(&mut cx, &mut p, data),
            LinkType::Other(_) => {
                cx.stats.unknown_linktype += 1;
                p.invalid = true;
            }
        }
        if p.invalid {
            cx.stats.invalid += 1;
        }
        cx.stats.count_events(&p.events);
        p
    }
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DecodeConfig::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;
    use crate::{DefragConfig, OverlapPolicy};

    /// Deterministic mutation smoke test: corrupted versions of valid frames
    /// through every link type must never panic, and counters stay coherent.
    #[test]
    fn mutated_frames_never_panic() {
        let seeds: Vec<Vec<u8>> = vec![
            eth(0x0800, &ipv4_tcp_syn()),
            eth_vlans(&[(0x88a8, 1), (0x8100, 2)], 0x86dd, &ipv6_udp()),
            eth(0x0800, &ipv4(1, &icmp_msg(3, 1, [0; 4], &ipv4_udp(b"abc")))),
            eth(0x86dd, &ipv6(58, &icmp_msg(1, 0, [0; 4], &ipv6_udp()))),
            eth(0x0800, &ipv4_frag(17, 9, 8, true, &[0; 16])),
            eth(
                0x86dd,
                &ipv6(0, &[44, 0, 1, 4, 0, 0, 0, 0, 17, 0, 0, 1, 0, 0, 0, 5, 1, 2]),
            ),
        ];
        let links = [
            LinkType::Ethernet,
            LinkType::LinuxSll,
            LinkType::LinuxSll2,
            LinkType::Raw,
            LinkType::Null,
            LinkType::Ipv4,
            LinkType::Ipv6,
        ];
        let mut d = Decoder::new(DecodeConfig {
            checksum_validation: true,
            defrag: DefragConfig {
                overlap_policy: OverlapPolicy::Linux,
                memcap_bytes: 64 * 1024,
                ..DefragConfig::default()
            },
        });
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut frames = 0u64;
        for round in 0..6000u64 {
            let seed = &seeds[(next() % seeds.len() as u64) as usize];
            let mut f = seed.clone();
            for _ in 0..(next() % 6) {
                let i = (next() % f.len() as u64) as usize;
                f[i] = next() as u8;
            }
            let cut = (next() % (f.len() as u64 + 1)) as usize;
            f.truncate(cut.max(f.len() / 2));
            for lt in links {
                let skip = if lt == LinkType::Ethernet { 0 } else { 14 };
                let data = f.get(skip..).unwrap_or(&[]);
                let p = d.decode(&rawt(lt, data, round as i64 * 1_000_000));
                assert!(p.vlan_count <= 3);
                frames += 1;
            }
        }
        d.expire(i64::MAX);
        let s = d.stats();
        assert_eq!(s.pkts, frames);
        assert!(s.invalid <= frames);
        assert_eq!(d.defrag_memuse(), 0);
    }
}
