//! A small deterministic generator for property tests (keeps proptest out of the tree).

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// SplitMix64.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn ws(&mut self, out: &mut Vec<u8>) {
        const WS: [&[u8]; 4] = [b"", b"", b" ", b" \t "];
        out.extend_from_slice(WS[self.below(4) as usize]);
    }

    fn string(&mut self, out: &mut Vec<u8>) {
        const PIECES: [&str; 10] = [
            "a",
            "vote",
            "\\\"",
            "\\\\",
            "\\/",
            "\\n",
            "\\u00e9",
            "\\ud83d\\ude00",
            "é",
            "日本",
        ];
        out.push(b'"');
        for _ in 0..self.below(6) {
            out.extend_from_slice(PIECES[self.below(PIECES.len() as u64) as usize].as_bytes());
        }
        out.push(b'"');
    }

    /// A random JSON value, formatted in varied (valid, single-line) ways.
    pub fn json(&mut self, out: &mut Vec<u8>, depth: u32) {
        let kind = if depth > 3 {
            self.below(5)
        } else {
            self.below(7)
        };
        match kind {
            0 => out.extend_from_slice([&b"null"[..], b"true", b"false"][self.below(3) as usize]),
            1 => {
                const NUMS: [&str; 8] = [
                    "0",
                    "-0",
                    "12",
                    "-7",
                    "3.25",
                    "1e5",
                    "2.50E-3",
                    "18446744073709551615",
                ];
                out.extend_from_slice(NUMS[self.below(8) as usize].as_bytes());
            }
            2..=4 => self.string(out),
            5 => {
                out.push(b'[');
                let n = self.below(4);
                for i in 0..n {
                    self.ws(out);
                    self.json(out, depth + 1);
                    self.ws(out);
                    if i + 1 < n {
                        out.push(b',');
                    }
                }
                out.push(b']');
            }
            _ => {
                out.push(b'{');
                let n = self.below(5);
                for i in 0..n {
                    self.ws(out);
                    self.string(out);
                    self.ws(out);
                    out.push(b':');
                    self.ws(out);
                    self.json(out, depth + 1);
                    if i + 1 < n {
                        out.push(b',');
                    }
                }
                out.push(b'}');
            }
        }
    }
}
