//! A structure-aware input builder shared by the `detect_inspect` fuzz
//! target and the randomized smoke test: fuzz bytes choose a small
//! inspection list (items, flags, hostile offsets, transforms) and the rest
//! is the buffer it runs on.

use watchfloor_rules::{
    Base64Decode, Base64Mode, Buffer, ByteExtract, ByteJump, ByteMath, ByteOp, ByteTest, Content,
    Endian, FastPattern, Inspection, IsDataAt, Item, MathOp, NumCmp, NumFormat, Pcre, Transform,
    Val,
};

use super::{apply_transforms, Env, Program};

/// Builds an inspection list from fuzz bytes: the first bytes choose items
/// and their parameters, the rest is the buffer.
struct Rd<'a>(&'a [u8]);

impl Rd<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, r)) => {
                self.0 = r;
                *b
            }
            None => 0,
        }
    }
    /// True with probability 1/n.
    fn one_in(&mut self, n: u8) -> bool {
        self.u8().checked_rem(n) == Some(0)
    }
    fn i16(&mut self) -> i64 {
        i64::from(i16::from_le_bytes([self.u8(), self.u8()]))
    }
    fn small(&mut self) -> i64 {
        // mostly small values, sometimes extreme ones
        match self.u8() % 8 {
            0 => self.i16(),
            1 => [i64::MIN, i64::MAX, -1, u32::MAX as i64, i32::MIN as i64]
                [usize::from(self.u8() % 5)],
            n => i64::from(n) - 3 + i64::from(self.u8() % 16),
        }
    }
    fn val(&mut self) -> Val {
        if self.one_in(5) {
            Val::Var(self.u8() % 3)
        } else {
            Val::Lit(self.small())
        }
    }
    fn opt_val(&mut self) -> Option<Val> {
        if self.one_in(2) {
            None
        } else {
            Some(self.val())
        }
    }
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = 1 + usize::from(self.u8()) % max;
        (0..n)
            .map(|_| b"ab\x00A.=Z9 /"[usize::from(self.u8() % 10)])
            .collect()
    }
    fn format(&mut self) -> NumFormat {
        match self.u8() % 6 {
            0 => NumFormat::Binary(Endian::Little),
            1 => NumFormat::Dce,
            2 => NumFormat::String(10),
            3 => NumFormat::String(16),
            4 => NumFormat::String(8),
            _ => NumFormat::Binary(Endian::Big),
        }
    }
    fn nbytes(&mut self) -> u8 {
        self.u8() % 12
    }
    fn bitmask(&mut self) -> Option<u64> {
        match self.u8() % 4 {
            0 => Some(u64::from(self.u8()) << (self.u8() % 60)),
            _ => None,
        }
    }
}

pub fn build(data: &[u8]) -> (Inspection, Vec<u8>) {
    let mut r = Rd(data);
    let nitems = 1 + r.u8() % 6;
    let mut transforms = Vec::new();
    for _ in 0..r.u8() % 3 {
        transforms.push(match r.u8() % 14 {
            0 => Transform::ToLowercase,
            1 => Transform::ToUppercase,
            2 => Transform::StripWhitespace,
            3 => Transform::CompressWhitespace,
            4 => Transform::UrlDecode,
            5 => Transform::Dotprefix,
            6 => Transform::ToMd5,
            7 => Transform::HeaderLowercase,
            8 => Transform::StripPseudoHeaders,
            9 => Transform::FromBase64 {
                offset: u32::from(r.u8() % 8),
                bytes: Some(u32::from(r.u8())),
                mode: [Base64Mode::Rfc4648, Base64Mode::Rfc2045, Base64Mode::Strict]
                    [usize::from(r.u8() % 3)],
            },
            10 => Transform::Xor(r.bytes(3)),
            11 => Transform::Pcrexform("a(.)".into()),
            12 => Transform::ToSha1,
            _ => Transform::CaseInsensitiveHash,
        });
    }
    let mut items = Vec::new();
    for _ in 0..nitems {
        let it = match r.u8() % 12 {
            0..=3 => {
                let mut c = Content {
                    pattern: r.bytes(4),
                    negated: r.one_in(5),
                    nocase: r.one_in(3),
                    offset: None,
                    depth: None,
                    distance: None,
                    within: None,
                    startswith: r.one_in(9),
                    endswith: r.one_in(9),
                    fast_pattern: FastPattern::default(),
                    rawbytes: false,
                };
                if r.one_in(2) {
                    c.distance = r.opt_val();
                    c.within = r.opt_val();
                } else {
                    c.offset = r.opt_val();
                    c.depth = r.opt_val();
                }
                Item::Content(Box::new(c))
            }
            4 => Item::Pcre(Box::new(Pcre {
                pattern: ["a.", "(b+)", "^.", "\\d", "a$", "(?P<pkt_x>.)"][usize::from(r.u8() % 6)]
                    .into(),
                negated: r.one_in(4),
                caseless: r.one_in(2),
                multiline: r.one_in(2),
                dotall: r.one_in(2),
                extended: false,
                anchored: r.one_in(3),
                dollar_endonly: r.one_in(2),
                ungreedy: r.one_in(2),
                relative: r.one_in(2),
                no_limits: false,
                captures: vec![],
            })),
            5 => Item::ByteTest(ByteTest {
                nbytes: r.nbytes(),
                op: [
                    ByteOp::Lt,
                    ByteOp::Gt,
                    ByteOp::Le,
                    ByteOp::Ge,
                    ByteOp::Eq,
                    ByteOp::And,
                    ByteOp::Xor,
                ][usize::from(r.u8() % 7)],
                negated: r.one_in(2),
                value: r.val(),
                offset: r.val(),
                relative: r.one_in(2),
                format: r.format(),
                bitmask: r.bitmask(),
            }),
            6 => Item::ByteJump(ByteJump {
                nbytes: r.nbytes(),
                offset: r.val(),
                relative: r.one_in(2),
                format: r.format(),
                multiplier: u32::from(r.u8()),
                align: r.one_in(2),
                from_beginning: r.one_in(3),
                from_end: r.one_in(3),
                post_offset: r.small() as i32,
                bitmask: r.bitmask(),
            }),
            7 => Item::ByteExtract(ByteExtract {
                nbytes: r.nbytes(),
                offset: r.small() as i32,
                relative: r.one_in(2),
                format: r.format(),
                multiplier: u32::from(r.u8()),
                align: r.u8() % 5,
                bitmask: r.bitmask(),
                var: r.u8() % 4,
            }),
            8 => Item::ByteMath(ByteMath {
                nbytes: r.nbytes(),
                offset: r.small() as i32,
                relative: r.one_in(2),
                format: r.format(),
                op: [
                    MathOp::Add,
                    MathOp::Sub,
                    MathOp::Mul,
                    MathOp::Div,
                    MathOp::Shl,
                    MathOp::Shr,
                ][usize::from(r.u8() % 6)],
                rvalue: r.val(),
                bitmask: r.bitmask(),
                result: r.u8() % 4,
            }),
            9 => Item::IsDataAt(IsDataAt {
                negated: r.one_in(2),
                offset: r.val(),
                relative: r.one_in(2),
                rawbytes: false,
            }),
            10 => Item::Base64Decode(Base64Decode {
                bytes: (r.one_in(2)).then(|| u32::from(r.u8())),
                offset: u32::from(r.u8() % 8),
                relative: r.one_in(2),
            }),
            _ => match r.u8() % 3 {
                0 => Item::Bsize(NumCmp::Lt(u64::from(r.u8()))),
                1 => Item::Urilen(NumCmp::Gt(u64::from(r.u8()))),
                _ => Item::Asn1(
                    [
                        "bitstring_overflow",
                        "oversize_length 10, relative_offset 0",
                        "double_overflow, absolute_offset 1",
                    ][usize::from(r.u8() % 3)]
                    .into(),
                ),
            },
        };
        items.push(it);
    }
    (
        Inspection {
            buffer: Buffer::Payload,
            transforms,
            items,
        },
        r.0.to_vec(),
    )
}

/// Build an inspection from `data` and run it every way the API allows:
/// it must not panic, must stay within the recursion limit, and must be
/// deterministic.
pub fn fuzz_one(data: &[u8]) {
    let (insp, payload) = build(data);
    let Ok(prog) = Program::compile(&insp) else {
        return;
    };
    let b64 = Program::compile(&Inspection {
        buffer: Buffer::Base64Data,
        transforms: vec![],
        items: vec![Item::Content(Box::new(Content {
            pattern: b"a".to_vec(),
            negated: false,
            nocase: true,
            offset: None,
            depth: None,
            distance: None,
            within: None,
            startswith: false,
            endswith: false,
            fast_pattern: FastPattern::default(),
            rawbytes: false,
        }))],
    })
    .ok();
    let mut env = Env::new(3);
    let a = prog.run(&payload, &mut env);
    assert!(env.last_recursion <= env.recursion_limit);
    env.reset();
    let _ = prog.run_with(&payload, &mut env, b64.as_ref());
    let _ = prog.run_base64_data(&mut env);
    // deterministic
    env.reset();
    assert_eq!(a, prog.run(&payload, &mut env));
    let mut out = Vec::new();
    let _ = apply_transforms(&insp.transforms, &payload, &mut out, &mut env);
}

#[cfg(test)]
mod tests {
    /// Twenty thousand pseudo-random inputs (more with
    /// `INSPECT_SMOKE_ITERS`): no panics, bounded work, determinism.
    #[test]
    fn randomized_smoke() {
        let iters: usize = std::env::var("INSPECT_SMOKE_ITERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20_000);
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut buf = Vec::with_capacity(256);
        for _ in 0..iters {
            buf.clear();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = 16 + (x % 160) as usize;
            for _ in 0..n {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                buf.push((x >> 24) as u8);
            }
            super::fuzz_one(&buf);
        }
    }
}
