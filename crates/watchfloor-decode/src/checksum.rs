//! Internet checksum (RFC 1071) helpers. Only used with checksum validation on.

use std::net::IpAddr;

/// Ones-complement sum of `data` as big-endian 16-bit words, not folded.
///
/// The ones-complement sum commutes with byte swapping (RFC 1071 §2B), so the
/// bulk is summed as native-endian 32-bit halves of 64-bit loads — two adds
/// per eight bytes — and swapped once at the end. A u64 accumulator of 32-bit
/// values cannot overflow for anything a packet holds (2^32 of them).
pub(crate) fn sum(data: &[u8], acc: u64) -> u64 {
    let mut native: u64 = 0;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        native += (w & 0xffff_ffff) + (w >> 32);
    }
    let rest = chunks.remainder();
    let mut pairs = rest.chunks_exact(2);
    for c in &mut pairs {
        native += u64::from(u16::from_ne_bytes([c[0], c[1]]));
    }
    if let [last] = pairs.remainder() {
        // An odd final byte is the high byte of a zero-padded big-endian word.
        native += u64::from(u16::from_ne_bytes([*last, 0]));
    }
    acc + u64::from(u16::from_be(fold(native)))
}

pub(crate) fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// True when `data` (checksum field included) sums to all ones.
pub(crate) fn verify(data: &[u8]) -> bool {
    fold(sum(data, 0)) == 0xffff
}

/// The checksum to store in a header whose checksum field is zeroed.
pub(crate) fn compute(data: &[u8]) -> u16 {
    !fold(sum(data, 0))
}

/// Sum of the TCP/UDP/ICMPv6 pseudo-header.
pub(crate) fn pseudo_header(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> u64 {
    let mut acc = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => sum(&s.octets(), sum(&d.octets(), 0)),
        (IpAddr::V6(s), IpAddr::V6(d)) => sum(&s.octets(), sum(&d.octets(), 0)),
        // Mixed families never reach here; an impossible sum fails validation.
        _ => 1,
    };
    acc += u64::from(proto);
    acc += len as u64;
    acc
}

/// Verify a transport segment (checksum field included) with its pseudo-header.
pub(crate) fn verify_l4(src: IpAddr, dst: IpAddr, proto: u8, segment: &[u8]) -> bool {
    fold(sum(segment, pseudo_header(src, dst, proto, segment.len()))) == 0xffff
}

#[cfg(test)]
pub(crate) fn compute_l4(src: IpAddr, dst: IpAddr, proto: u8, segment: &[u8]) -> u16 {
    !fold(sum(segment, pseudo_header(src, dst, proto, segment.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // The worked example of RFC 1071 section 3: sum 0xddf2, checksum 0x220d.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(&data, 0)), 0xddf2);
        assert_eq!(compute(&data), 0x220d);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(fold(sum(&[0xab], 0)), 0xab00);
        let mut d = vec![0x12, 0x34, 0, 0, 0x56];
        let c = compute(&d);
        d[2..4].copy_from_slice(&c.to_be_bytes());
        assert!(verify(&d));
    }

    #[test]
    fn ipv4_header_checksum() {
        let hdr = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert!(verify(&hdr));
        let mut bad = hdr;
        bad[10] ^= 1;
        assert!(!verify(&bad));
    }

    #[test]
    fn fast_sum_equals_the_plain_big_endian_sum() {
        let mut x: u32 = 12345;
        for len in 0..200usize {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    (x >> 16) as u8
                })
                .collect();
            let mut plain: u64 = 7;
            for c in data.chunks(2) {
                let hi = u64::from(c[0]) << 8;
                plain += hi + c.get(1).map_or(0, |b| u64::from(*b));
            }
            assert_eq!(fold(sum(&data, 7)), fold(plain), "length {len}");
        }
    }
}
