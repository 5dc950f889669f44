//! IPv4/IPv6 fragment reassembly with Suricata's overlap policies, timeout
//! and memory cap. Only fragments reach this code; the per-packet fast path
//! never touches its hash map.

use crate::checksum;
use crate::config::{DefragConfig, OverlapPolicy};
use crate::events::DecodeEvent;
use crate::packet::Events;
use crate::stats::DecodeStats;
use std::collections::HashMap;
use std::net::IpAddr;

/// What a tracker costs besides its fragment bytes, for the memcap.
const TRACKER_OVERHEAD: usize = 256;
const IPV4_MAXPACKET_LEN: usize = 65535;

/// Identifies one datagram's fragments (RFC 791 / RFC 8200), VLANs included
/// so that the same addresses on different VLANs do not mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FragKey {
    v6: bool,
    src: [u8; 16],
    dst: [u8; 16],
    id: u32,
    proto: u8,
    vlan: [u16; 3],
}

fn addr16(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

impl FragKey {
    pub fn new(src: IpAddr, dst: IpAddr, id: u32, proto: u8, vlans: &[u16]) -> FragKey {
        let mut vlan = [0u16; 3];
        for (slot, v) in vlan.iter_mut().zip(vlans) {
            *slot = *v;
        }
        FragKey {
            v6: src.is_ipv6(),
            src: addr16(src),
            dst: addr16(dst),
            id,
            proto,
            vlan,
        }
    }
}

/// One fragment as the IP decoders hand it over.
pub(crate) struct FragIn<'f> {
    pub key: FragKey,
    pub ts_ns: i64,
    /// Byte offset of `data` in the datagram.
    pub offset: usize,
    pub more_frags: bool,
    /// IPv4: the header. IPv6: the header plus the unfragmentable extension
    /// headers before the fragment header.
    pub header: &'f [u8],
    /// IPv6: where in `header` the next-header byte pointing at the fragment
    /// header is, and the value it must take once that header is gone.
    pub nh_patch: Option<(usize, u8)>,
    pub data: &'f [u8],
}

#[derive(Debug, Clone, Copy)]
struct Frag {
    offset: u32,
    len: u32,
    /// Start of the bytes in the tracker's arena.
    at: u32,
}

impl Frag {
    fn end(&self) -> u32 {
        self.offset + self.len
    }
}

#[derive(Debug, Default)]
struct Tracker {
    deadline_ns: i64,
    /// In arrival order: the overlap policies depend on it.
    frags: Vec<Frag>,
    arena: Vec<u8>,
    /// Byte ranges received so far, sorted and merged.
    coverage: Vec<(u32, u32)>,
    seen_last: bool,
    header: Vec<u8>,
    nh_patch: Option<(usize, u8)>,
    mem: usize,
}

impl Tracker {
    fn overlaps(&self, start: u32, end: u32) -> bool {
        let i = self.coverage.partition_point(|r| r.1 <= start);
        i < self.coverage.len() && self.coverage[i].0 < end
    }

    fn cover(&mut self, start: u32, end: u32) {
        // Ranges that touch or overlap [start, end) fold into one.
        let lo = self.coverage.partition_point(|r| r.1 < start);
        let hi = self.coverage.partition_point(|r| r.0 <= end);
        let (mut s, mut e) = (start, end);
        if lo < hi {
            s = s.min(self.coverage[lo].0);
            e = e.max(self.coverage[hi - 1].1);
        }
        self.coverage.splice(lo..hi, [(s, e)]);
    }

    /// Length of the datagram's data once it is complete.
    fn complete_len(&self) -> Option<usize> {
        match self.coverage.as_slice() {
            [(0, end)] if self.seen_last && !self.header.is_empty() => Some(*end as usize),
            _ => None,
        }
    }
}

/// Whether bytes of `new` (arrived later) replace those of `old` under `policy`.
fn new_wins(policy: OverlapPolicy, new: &Frag, old: &Frag) -> bool {
    match policy {
        OverlapPolicy::First => false,
        OverlapPolicy::Last => true,
        OverlapPolicy::Bsd => new.offset < old.offset,
        OverlapPolicy::Linux => new.offset <= old.offset,
        OverlapPolicy::Windows => new.offset < old.offset && new.end() > old.end(),
        OverlapPolicy::Solaris => new.offset < old.offset && new.end() >= old.end(),
    }
}

#[derive(Debug)]
pub(crate) struct Defrag {
    cfg: DefragConfig,
    trackers: HashMap<FragKey, Tracker>,
    memuse: usize,
    /// The last reassembled datagram; `Packet`s borrow it.
    out: Vec<u8>,
    /// Scratch: which fragment (index + 1) each datagram byte came from.
    owner: Vec<u32>,
}

impl Defrag {
    pub fn new(cfg: DefragConfig) -> Defrag {
        Defrag {
            cfg,
            trackers: HashMap::new(),
            memuse: 0,
            out: Vec::new(),
            owner: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.trackers.is_empty()
    }

    pub fn trackers(&self) -> usize {
        self.trackers.len()
    }

    pub fn memuse(&self) -> usize {
        self.memuse
    }

    pub fn expire(&mut self, now_ns: i64, stats: &mut DecodeStats) {
        let memuse = &mut self.memuse;
        self.trackers.retain(|k, t| {
            if t.deadline_ns >= now_ns {
                return true;
            }
            *memuse -= t.mem;
            if k.v6 {
                stats.defrag_ipv6_timeouts += 1;
            } else {
                stats.defrag_ipv4_timeouts += 1;
            }
            false
        });
    }

    fn remove(&mut self, key: &FragKey) {
        if let Some(t) = self.trackers.remove(key) {
            self.memuse -= t.mem;
        }
    }

    /// Add a fragment. Returns the reassembled datagram (IP header first)
    /// when this fragment completed it.
    pub fn insert<'s>(
        &'s mut self,
        stats: &mut DecodeStats,
        events: &mut Events,
        f: &FragIn<'_>,
    ) -> Option<&'s [u8]> {
        let v6 = f.key.v6;
        let ignored = if v6 {
            DecodeEvent::Ipv6FragIgnored
        } else {
            DecodeEvent::Ipv4FragIgnored
        };
        if let Some(t) = self.trackers.get(&f.key) {
            if f.ts_ns > t.deadline_ns {
                // A stale train with the same id: it timed out, start over.
                if v6 {
                    stats.defrag_ipv6_timeouts += 1;
                } else {
                    stats.defrag_ipv4_timeouts += 1;
                }
                self.remove(&f.key);
            }
        }
        let is_new = !self.trackers.contains_key(&f.key);
        let keep_header = f.offset == 0;
        let need = f.data.len()
            + std::mem::size_of::<Frag>()
            + if keep_header { f.header.len() } else { 0 }
            + if is_new { TRACKER_OVERHEAD } else { 0 };
        if self.memuse + need > self.cfg.memcap_bytes {
            stats.defrag_memcap_drops += 1;
            events.push(ignored);
            return None;
        }
        let t = self.trackers.entry(f.key).or_default();
        if t.frags.len() >= self.cfg.max_frags {
            stats.defrag_max_frags_reached += 1;
            events.push(ignored);
            return None;
        }
        t.deadline_ns = f.ts_ns.saturating_add(self.cfg.timeout_ns);
        let start = f.offset as u32;
        let end = start + f.data.len() as u32;
        let overlap = !f.data.is_empty() && t.overlaps(start, end);
        if !f.data.is_empty() {
            t.frags.push(Frag {
                offset: start,
                len: f.data.len() as u32,
                at: t.arena.len() as u32,
            });
            t.arena.extend_from_slice(f.data);
            t.cover(start, end);
        }
        if keep_header && t.header.is_empty() {
            t.header.extend_from_slice(f.header);
            t.nh_patch = f.nh_patch;
        }
        if !f.more_frags {
            t.seen_last = true;
        }
        t.mem += need;
        self.memuse += need;
        if overlap {
            events.push(if v6 {
                DecodeEvent::Ipv6FragOverlap
            } else {
                DecodeEvent::Ipv4FragOverlap
            });
        }

        let len = t.complete_len()?;
        let t = self.trackers.remove(&f.key)?;
        self.memuse -= t.mem;
        if !self.build(&t, len, v6) {
            events.push(if v6 {
                DecodeEvent::Ipv6FragPktTooLarge
            } else {
                DecodeEvent::Ipv4FragPktTooLarge
            });
            return None;
        }
        Some(&self.out)
    }

    /// Lay the fragments out per the overlap policy and fix up the header.
    fn build(&mut self, t: &Tracker, len: usize, v6: bool) -> bool {
        let hlen = t.header.len();
        if v6 {
            if hlen < 40 || hlen - 40 + len > IPV4_MAXPACKET_LEN {
                return false;
            }
        } else if hlen < 20 || hlen + len > IPV4_MAXPACKET_LEN {
            return false;
        }
        self.out.clear();
        self.out.extend_from_slice(&t.header);
        self.out.resize(hlen + len, 0);
        self.owner.clear();
        self.owner.resize(len, 0);
        let policy = self.cfg.overlap_policy;
        for (i, fr) in t.frags.iter().enumerate() {
            let src = &t.arena[fr.at as usize..(fr.at + fr.len) as usize];
            let base = fr.offset as usize;
            for (j, &b) in src.iter().enumerate() {
                let pos = base + j;
                let cur = self.owner[pos];
                let wins = cur == 0 || new_wins(policy, fr, &t.frags[cur as usize - 1]);
                if wins {
                    self.out[hlen + pos] = b;
                    self.owner[pos] = i as u32 + 1;
                }
            }
        }
        if v6 {
            let plen = (hlen - 40 + len) as u16;
            self.out[4..6].copy_from_slice(&plen.to_be_bytes());
            if let Some((pos, nh)) = t.nh_patch {
                if let Some(b) = self.out.get_mut(pos) {
                    *b = nh;
                }
            }
        } else {
            let total = (hlen + len) as u16;
            self.out[2..4].copy_from_slice(&total.to_be_bytes());
            self.out[6] = 0;
            self.out[7] = 0;
            self.out[10] = 0;
            self.out[11] = 0;
            let c = checksum::compute(&self.out[..hlen]);
            self.out[10..12].copy_from_slice(&c.to_be_bytes());
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use crate::{DecodeConfig, DecodeEvent, Decoder, DefragConfig, OverlapPolicy, L4};
    use watchfloor_capture::LinkType;

    const SEC: i64 = 1_000_000_000;

    fn decoder(policy: OverlapPolicy) -> Decoder {
        Decoder::new(DecodeConfig {
            checksum_validation: true,
            defrag: DefragConfig {
                overlap_policy: policy,
                ..DefragConfig::default()
            },
        })
    }

    /// UDP datagram with a 24-byte payload split in three 8+8+16 fragments.
    fn udp_frags() -> (Vec<u8>, Vec<Vec<u8>>) {
        let seg = udp_segment_v4(b"0123456789abcdefghijklmn");
        let frags = vec![
            ipv4_frag(17, 0x1234, 0, true, &seg[0..8]),
            ipv4_frag(17, 0x1234, 8, true, &seg[8..16]),
            ipv4_frag(17, 0x1234, 16, false, &seg[16..]),
        ];
        (seg, frags)
    }

    #[test]
    fn in_order_and_out_of_order() {
        for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0], [2, 1, 0]] {
            let (_, frags) = udp_frags();
            let mut d = Decoder::default();
            for (n, &i) in order.iter().enumerate() {
                let frame = eth(0x0800, &frags[i]);
                let p = d.decode(&rawt(LinkType::Ethernet, &frame, n as i64));
                assert!(p.fragment);
                if n < 2 {
                    assert!(matches!(p.l4, L4::None));
                    assert!(!p.ip.unwrap().reassembled);
                    assert!(p.payload.is_empty());
                } else {
                    let ip = p.ip.unwrap();
                    assert!(ip.reassembled, "{order:?}");
                    assert_eq!(ip.checksum_ok, Some(true));
                    assert_eq!(ip.total_len, 20 + 32);
                    let L4::Udp(u) = p.l4 else {
                        panic!("{order:?} {:?}", p.events)
                    };
                    assert_eq!(u.checksum_ok, Some(true));
                    assert_eq!(p.payload, b"0123456789abcdefghijklmn");
                    assert_eq!(p.captured_len, 14 + 20 + 32);
                    assert!(p.events.is_empty(), "{:?}", p.events);
                }
            }
            let s = d.stats();
            assert_eq!(s.defrag_ipv4_fragments, 3);
            assert_eq!(s.defrag_ipv4_reassembled, 1);
            assert_eq!(d.pending_fragment_trains(), 0);
            assert_eq!(d.defrag_memuse(), 0);
        }
    }

    /// Fragments A (offset 0..16), B (8..24) overlapping A's second half,
    /// then the tail; returns which bytes won at offsets 8..16.
    fn overlap_winner(policy: OverlapPolicy, b_first: bool) -> Vec<u8> {
        let seg = udp_segment_v4(&[0u8; 24]);
        let mut a = seg[0..16].to_vec();
        a[8..16].copy_from_slice(b"AAAAAAAA");
        let b = b"BBBBBBBBBBBBBBBB".to_vec();
        let fa = ipv4_frag(17, 7, 0, true, &a);
        let fb = ipv4_frag(17, 7, 8, true, &b);
        let tail = ipv4_frag(17, 7, 24, false, &seg[24..]);
        let mut d = decoder(policy);
        let order = if b_first {
            [&fb, &fa, &tail]
        } else {
            [&fa, &fb, &tail]
        };
        let mut saw_overlap = false;
        for (i, f) in order.iter().enumerate() {
            let p = d.decode(&rawt(LinkType::Raw, f, i as i64));
            saw_overlap |= p.events.contains(DecodeEvent::Ipv4FragOverlap);
            if i == 2 {
                assert!(saw_overlap);
                assert!(p.ip.unwrap().reassembled, "{:?}", p.events);
                // Offsets 8..16 of the datagram are payload bytes 0..8.
                return p.payload[0..8].to_vec();
            }
        }
        unreachable!()
    }

    #[test]
    fn overlap_policies() {
        use OverlapPolicy::*;
        // B arrives second and starts later than A: only "last" lets it win.
        for (pol, want) in [
            (First, b"AAAAAAAA"),
            (Last, b"BBBBBBBB"),
            (Bsd, b"AAAAAAAA"),
        ] {
            assert_eq!(overlap_winner(pol, false), want, "{pol}");
        }
        for pol in [Linux, Windows, Solaris] {
            assert_eq!(overlap_winner(pol, false), b"AAAAAAAA", "{pol}");
        }
        // A arrives second and starts earlier: BSD and Linux prefer the
        // lower offset, first/windows/solaris keep B.
        for (pol, want) in [
            (First, b"BBBBBBBB"),
            (Last, b"AAAAAAAA"),
            (Bsd, b"AAAAAAAA"),
            (Linux, b"AAAAAAAA"),
            (Windows, b"BBBBBBBB"),
            (Solaris, b"BBBBBBBB"),
        ] {
            assert_eq!(overlap_winner(pol, true), want, "{pol} (b first)");
        }
    }

    #[test]
    fn timeout_and_expire() {
        let (_, frags) = udp_frags();
        let mut d = Decoder::default();
        d.decode(&rawt(LinkType::Raw, &frags[0], 0));
        assert_eq!(d.pending_fragment_trains(), 1);
        d.expire(30 * SEC);
        assert_eq!(d.pending_fragment_trains(), 1);
        d.expire(61 * SEC);
        assert_eq!(d.pending_fragment_trains(), 0);
        assert_eq!(d.stats().defrag_ipv4_timeouts, 1);
        assert_eq!(d.defrag_memuse(), 0);
        // A late fragment of a timed-out train starts a new one instead of
        // completing the old.
        d.decode(&rawt(LinkType::Raw, &frags[0], 100 * SEC));
        d.decode(&rawt(LinkType::Raw, &frags[1], 100 * SEC));
        let p = d.decode(&rawt(LinkType::Raw, &frags[2], 200 * SEC));
        assert!(!p.ip.unwrap().reassembled);
        assert_eq!(d.stats().defrag_ipv4_timeouts, 2);
    }

    #[test]
    fn memcap_and_max_frags() {
        let (_, frags) = udp_frags();
        let mut d = Decoder::new(DecodeConfig {
            checksum_validation: true,
            defrag: DefragConfig {
                memcap_bytes: 300,
                ..DefragConfig::default()
            },
        });
        let p = d.decode(&rawt(LinkType::Raw, &frags[0], 0));
        assert!(p.events.is_empty());
        let other = ipv4_frag(17, 99, 0, true, &[0; 8]);
        let p = d.decode(&rawt(LinkType::Raw, &other, 0));
        assert!(p.events.contains(DecodeEvent::Ipv4FragIgnored));
        assert_eq!(d.stats().defrag_memcap_drops, 1);
        assert!(d.defrag_memuse() <= 300);

        let mut d = Decoder::new(DecodeConfig {
            checksum_validation: true,
            defrag: DefragConfig {
                max_frags: 2,
                ..DefragConfig::default()
            },
        });
        d.decode(&rawt(LinkType::Raw, &frags[0], 0));
        d.decode(&rawt(LinkType::Raw, &frags[1], 0));
        let p = d.decode(&rawt(LinkType::Raw, &frags[2], 0));
        assert!(p.events.contains(DecodeEvent::Ipv4FragIgnored));
        assert_eq!(d.stats().defrag_max_frags_reached, 1);
    }

    #[test]
    fn too_large_fragment() {
        let f = ipv4_frag(17, 5, 65528, false, &[0u8; 16]);
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Raw, &f));
        assert!(p.events.contains(DecodeEvent::Ipv4FragPktTooLarge));
        assert_eq!(d.pending_fragment_trains(), 0);
    }

    #[test]
    fn vlans_keep_trains_apart() {
        let (_, frags) = udp_frags();
        let mut d = Decoder::default();
        d.decode(&raw(
            LinkType::Ethernet,
            &eth_vlans(&[(0x8100, 1)], 0x0800, &frags[0]),
        ));
        d.decode(&raw(
            LinkType::Ethernet,
            &eth_vlans(&[(0x8100, 2)], 0x0800, &frags[1]),
        ));
        let p = d.decode(&raw(
            LinkType::Ethernet,
            &eth_vlans(&[(0x8100, 1)], 0x0800, &frags[2]),
        ));
        assert!(!p.ip.unwrap().reassembled);
        assert_eq!(d.pending_fragment_trains(), 2);
    }

    #[test]
    fn ipv6_fragments_with_unfragmentable_header() {
        let seg = udp_segment_v6(b"0123456789abcdefghijklmn");
        let mk = |off: u16, more: bool, data: &[u8]| {
            // Hop-by-hop (unfragmentable) then the fragment header.
            let mut body = vec![44, 0, 1, 4, 0, 0, 0, 0];
            body.extend_from_slice(&[17, 0]);
            body.extend_from_slice(&(off | u16::from(more)).to_be_bytes());
            body.extend_from_slice(&0xabcdu32.to_be_bytes());
            body.extend_from_slice(data);
            ipv6(0, &body)
        };
        let f1 = mk(0, true, &seg[..16]);
        let f2 = mk(16, false, &seg[16..]);
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Ipv6, &f2));
        assert!(p.fragment);
        assert_eq!(p.ip.unwrap().proto, 44);
        assert_eq!(p.ip.unwrap().id, 0xabcd);
        let p = d.decode(&raw(LinkType::Ipv6, &f1));
        let ip = p.ip.unwrap();
        assert!(ip.reassembled, "{:?}", p.events);
        assert_eq!(ip.proto, 17);
        assert_eq!(ip.hdr_len, 48);
        let L4::Udp(u) = p.l4 else {
            panic!("{:?}", p.events)
        };
        assert_eq!(u.checksum_ok, Some(true));
        assert_eq!(p.payload, b"0123456789abcdefghijklmn");
        assert_eq!(d.stats().defrag_ipv6_reassembled, 1);
        assert_eq!(d.stats().defrag_ipv6_fragments, 2);
    }

    #[test]
    fn ipv6_fragment_length_and_overlap() {
        let mk = |off: u16, more: bool, data: &[u8]| {
            let mut body = vec![17, 0];
            body.extend_from_slice(&(off | u16::from(more)).to_be_bytes());
            body.extend_from_slice(&7u32.to_be_bytes());
            body.extend_from_slice(data);
            ipv6(44, &body)
        };
        let mut d = Decoder::default();
        let p = d.decode(&raw(LinkType::Ipv6, &mk(0, true, &[0; 10])));
        assert!(p.events.contains(DecodeEvent::Ipv6FragInvalidLength));
        let p = d.decode(&raw(LinkType::Ipv6, &mk(8, true, &[0; 8])));
        assert!(p.events.contains(DecodeEvent::Ipv6FragOverlap));
        let p = d.decode(&raw(LinkType::Ipv6, &mk(65528, false, &[0; 16])));
        assert!(p.events.contains(DecodeEvent::Ipv6FragPktTooLarge));
    }
}
