//! Suricata's transforms, applied in rule order to a sticky buffer before
//! inspection. As in Suricata, an empty buffer is left as it is by every
//! transform (so `dotprefix` or a hash of an empty buffer stays empty).

use std::borrow::Cow;

use md5::Digest as _;
use pcre2::bytes::Regex;
use watchfloor_rules::Transform;

use super::{base64, CompileError, Env};

/// One compiled transform: the model's transform plus its compiled regex
/// (for `pcrexform`).
#[derive(Debug)]
pub struct Xform {
    t: Transform,
    re: Option<Regex>,
}

/// A compiled transform chain.
#[derive(Debug, Default)]
pub struct Transforms(Vec<Xform>);

/// Two reusable buffers the chain ping-pongs between.
#[derive(Debug, Default, Clone)]
pub struct Scratch {
    a: Vec<u8>,
    b: Vec<u8>,
}

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Compile a `pcrexform` pattern.
pub fn compile_pcrexform(p: &str) -> Result<Regex, CompileError> {
    super::pcre::build(p, false, false, false, false)
}

impl Xform {
    pub fn compile(t: &Transform) -> Result<Xform, CompileError> {
        let re = match t {
            Transform::Xor(k) if k.is_empty() => {
                return Err(CompileError::Transform("xor: empty key".into()))
            }
            Transform::Pcrexform(p) => Some(compile_pcrexform(p)?),
            _ => None,
        };
        Ok(Xform { t: t.clone(), re })
    }
}

/// Apply one transform to a non-empty `input`, writing into `out` (cleared
/// first). Returns false when the transform leaves the buffer unchanged
/// (then `out` is unspecified). `re` is the compiled `pcrexform` regex (a
/// pcrexform without one leaves the buffer unchanged).
pub(crate) fn apply_one(
    t: &Transform,
    re: Option<&Regex>,
    input: &[u8],
    out: &mut Vec<u8>,
) -> bool {
    out.clear();
    match t {
        // `case_insensitive_hash` is not a Suricata transform we know of; it
        // is treated as an ASCII case fold.
        Transform::ToLowercase | Transform::CaseInsensitiveHash => {
            out.extend(input.iter().map(u8::to_ascii_lowercase))
        }
        Transform::ToUppercase => out.extend(input.iter().map(u8::to_ascii_uppercase)),
        Transform::StripWhitespace => out.extend(input.iter().copied().filter(|&c| !is_c_space(c))),
        Transform::CompressWhitespace => {
            let mut space = false;
            for &c in input {
                if !is_c_space(c) {
                    out.push(c);
                    space = false;
                } else if !space {
                    out.push(c);
                    space = true;
                }
            }
        }
        Transform::UrlDecode => url_decode(input, out),
        Transform::Dotprefix => {
            out.reserve(input.len() + 1);
            out.push(b'.');
            out.extend_from_slice(input);
        }
        Transform::ToMd5 => out.extend_from_slice(&md5::Md5::digest(input)),
        Transform::ToSha1 => out.extend_from_slice(&sha1_smol::Sha1::from(input).digest().bytes()),
        Transform::ToSha256 => out.extend_from_slice(&sha2::Sha256::digest(input)),
        Transform::HeaderLowercase => {
            let mut in_value = false;
            for &c in input {
                if in_value {
                    out.push(c);
                    if c == b'\n' {
                        in_value = false;
                    }
                } else {
                    if c == b':' {
                        in_value = true;
                    }
                    out.push(c.to_ascii_lowercase());
                }
            }
        }
        Transform::StripPseudoHeaders => {
            for line in input.split_inclusive(|&c| c == b'\n') {
                if line.first() != Some(&b':') {
                    out.extend_from_slice(line);
                }
            }
        }
        Transform::FromBase64 {
            offset,
            bytes,
            mode,
        } => {
            let off = *offset as usize;
            if off >= input.len() {
                return false;
            }
            let mut data = &input[off..];
            if let Some(n) = bytes {
                if *n > 0 {
                    data = &data[..data.len().min(*n as usize)];
                }
            }
            if base64::decode(data, *mode, out) == 0 {
                return false;
            }
        }
        Transform::Xor(key) => {
            if key.is_empty() {
                return false;
            }
            out.extend(input.iter().zip(key.iter().cycle()).map(|(a, k)| a ^ k))
        }
        Transform::Pcrexform(_) => {
            let Some(re) = re else {
                return false;
            };
            let mut locs = re.capture_locations();
            match re.captures_read(&mut locs, input) {
                Ok(Some(_)) => {
                    // Suricata copies substring `rc - 1`: the highest group
                    // that took part (the whole match when none did).
                    let g = (0..locs.len())
                        .rev()
                        .find(|&i| locs.get(i).is_some())
                        .unwrap_or(0);
                    match locs.get(g) {
                        Some((s, e)) => out.extend_from_slice(&input[s..e]),
                        None => return false,
                    }
                }
                _ => return false,
            }
        }
    }
    true
}

/// Run a chain over `input` with the two scratch vectors; returns which
/// holds the result: 0 = `input`, 1 = `a`, 2 = `b`.
fn chain<'t>(
    steps: impl Iterator<Item = (&'t Transform, Option<&'t Regex>)>,
    input: &[u8],
    a: &mut Vec<u8>,
    b: &mut Vec<u8>,
) -> u8 {
    let mut cur = 0u8;
    for (t, re) in steps {
        let (src, dst, next): (&[u8], &mut Vec<u8>, u8) = match cur {
            0 => (input, &mut *a, 1),
            1 => (a.as_slice(), &mut *b, 2),
            _ => (b.as_slice(), &mut *a, 1),
        };
        if src.is_empty() {
            continue;
        }
        if apply_one(t, re, src, dst) {
            cur = next;
        }
    }
    cur
}

fn url_decode(input: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    out.reserve(input.len());
    while i < input.len() {
        let c = input[i];
        if c == b'%' {
            match (input.get(i + 1).copied(), input.get(i + 2).copied()) {
                (Some(h), Some(l)) if hex_val(h).is_some() && hex_val(l).is_some() => {
                    out.push((hex_val(h).unwrap_or(0) << 4) | hex_val(l).unwrap_or(0));
                    i += 3;
                }
                (Some(h), Some(l)) if hex_val(h).is_some() => {
                    // "%4Z": kept as written
                    out.extend_from_slice(&[b'%', h, l]);
                    i += 3;
                }
                (Some(h), None) => {
                    out.extend_from_slice(&[b'%', h]);
                    i += 2;
                }
                (Some(h), _) => {
                    // "%Z": kept as written
                    out.extend_from_slice(&[b'%', h]);
                    i += 2;
                }
                (None, _) => {
                    out.push(b'%');
                    i += 1;
                }
            }
        } else {
            out.push(if c == b'+' { b' ' } else { c });
            i += 1;
        }
    }
}

impl Transforms {
    pub fn compile(ts: &[Transform]) -> Result<Transforms, CompileError> {
        ts.iter()
            .map(Xform::compile)
            .collect::<Result<Vec<_>, _>>()
            .map(Transforms)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Run the chain over `input`; the result is `input` itself or one of
    /// the scratch buffers.
    pub fn apply<'a>(&self, input: &'a [u8], scratch: &'a mut Scratch) -> &'a [u8] {
        let Scratch { a, b } = scratch;
        match chain(self.0.iter().map(|x| (&x.t, x.re.as_ref())), input, a, b) {
            0 => input,
            1 => a.as_slice(),
            _ => b.as_slice(),
        }
    }
}

/// Apply `transforms` (the model's, uncompiled) to `input`; the result is
/// `input` itself or `out`. `pcrexform` regexes are compiled once per
/// [`Env`] and cached there; an invalid one leaves the buffer unchanged
/// (rules with one fail [`Program::compile`](super::Program::compile)).
pub fn apply_transforms<'a>(
    transforms: &[Transform],
    input: &'a [u8],
    out: &'a mut Vec<u8>,
    env: &mut Env,
) -> &'a [u8] {
    if transforms.is_empty() || input.is_empty() {
        return input;
    }
    for t in transforms {
        if let Transform::Pcrexform(p) = t {
            if !env.pcrexform.iter().any(|(q, _)| q == p) {
                let re = compile_pcrexform(p).ok();
                env.pcrexform.push((p.clone(), re));
            }
        }
    }
    let Env {
        pcrexform, scratch, ..
    } = env;
    let cache: &[(String, Option<Regex>)] = pcrexform;
    let steps = transforms.iter().map(|t| {
        let re = match t {
            Transform::Pcrexform(p) => cache
                .iter()
                .find(|(q, _)| q == p)
                .and_then(|(_, r)| r.as_ref()),
            _ => None,
        };
        (t, re)
    });
    let Scratch { a, .. } = scratch;
    match chain(steps, input, out, a) {
        0 => input,
        1 => out.as_slice(),
        _ => {
            // The result is in the env's scratch: swap it into `out`.
            std::mem::swap(out, a);
            out.as_slice()
        }
    }
}

/// Apply `transforms` to `input` standalone (compiles them on each call).
pub fn transform_standalone<'a>(
    transforms: &[Transform],
    input: &'a [u8],
) -> Result<Cow<'a, [u8]>, CompileError> {
    let t = Transforms::compile(transforms)?;
    let mut s = Scratch::default();
    let out = t.apply(input, &mut s);
    if std::ptr::eq(out.as_ptr(), input.as_ptr()) && out.len() == input.len() {
        Ok(Cow::Borrowed(input))
    } else {
        Ok(Cow::Owned(out.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use watchfloor_rules::Base64Mode;

    fn t(ts: &[Transform], input: &[u8]) -> Vec<u8> {
        let a = transform_standalone(ts, input).unwrap().into_owned();
        // the engine's entry point agrees
        let mut out = Vec::new();
        let mut env = Env::new(0);
        let b = apply_transforms(ts, input, &mut out, &mut env).to_vec();
        assert_eq!(a, b);
        a
    }

    #[test]
    fn case_and_whitespace() {
        assert_eq!(t(&[Transform::ToLowercase], b"AbC\xc9"), b"abc\xc9");
        assert_eq!(t(&[Transform::ToUppercase], b"AbC"), b"ABC");
        assert_eq!(
            t(&[Transform::StripWhitespace], b" a\tb\r\nc \x0b\x0c"),
            b"abc"
        );
        assert_eq!(
            t(&[Transform::CompressWhitespace], b" A B C D "),
            b" A B C D "
        );
        assert_eq!(t(&[Transform::CompressWhitespace], b"I  \t J"), b"I J");
        assert_eq!(t(&[Transform::CompressWhitespace], b"EFGH"), b"EFGH");
    }

    #[test]
    fn url_decode_cases() {
        assert_eq!(
            t(
                &[Transform::UrlDecode],
                b"Suricata%20is+%27%61wesome%21%27%25%30%30%ZZ%4"
            ),
            b"Suricata is 'awesome!'%00%ZZ%4"
        );
        assert_eq!(t(&[Transform::UrlDecode], b"%"), b"%");
        assert_eq!(t(&[Transform::UrlDecode], b"%4Z%2f"), b"%4Z/");
    }

    #[test]
    fn dotprefix_and_hashes() {
        assert_eq!(t(&[Transform::Dotprefix], b"google.com"), b".google.com");
        assert_eq!(t(&[Transform::Dotprefix], b""), b"", "empty stays empty");
        let md5 = t(&[Transform::ToMd5], b"abc");
        assert_eq!(
            md5,
            [
                0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2, 0x4f, 0xb0, 0xd6, 0x96, 0x3f, 0x7d, 0x28, 0xe1,
                0x7f, 0x72
            ]
        );
        let sha1 = t(&[Transform::ToSha1], b"abc");
        assert_eq!(&sha1[..4], &[0xa9, 0x99, 0x3e, 0x36]);
        assert_eq!(sha1.len(), 20);
        let sha256 = t(&[Transform::ToSha256], b"abc");
        assert_eq!(&sha256[..4], &[0xba, 0x78, 0x16, 0xbf]);
        assert_eq!(sha256.len(), 32);
    }

    #[test]
    fn headers() {
        assert_eq!(
            t(
                &[Transform::HeaderLowercase],
                b"Header1: Value1\nheader2:Value2\n"
            ),
            b"header1: Value1\nheader2:Value2\n"
        );
        assert_eq!(
            t(
                &[Transform::StripPseudoHeaders],
                b"Header1: Value1\n:method:get\nheader2:Value2\n"
            ),
            b"Header1: Value1\nheader2:Value2\n"
        );
        assert_eq!(t(&[Transform::StripPseudoHeaders], b":method:get"), b"");
        assert_eq!(
            t(
                &[Transform::StripPseudoHeaders],
                b":method:get\nheader2:Value2"
            ),
            b"header2:Value2"
        );
    }

    #[test]
    fn from_base64_modes() {
        let fb = |offset, bytes, mode| Transform::FromBase64 {
            offset,
            bytes,
            mode,
        };
        assert_eq!(
            t(&[fb(0, None, Base64Mode::Rfc4648)], b"Zm9vYmFy"),
            b"foobar"
        );
        assert_eq!(t(&[fb(0, None, Base64Mode::Rfc4648)], b"Zm 9v Ym Fy"), b"f");
        assert_eq!(
            t(&[fb(0, None, Base64Mode::Rfc2045)], b"Zm 9v Ym Fy"),
            b"foobar"
        );
        assert_eq!(
            t(&[fb(3, Some(4), Base64Mode::Rfc4648)], b"xxxZm9vYmFy"),
            b"foo"
        );
        // offset beyond the buffer, or nothing decoded: unchanged
        assert_eq!(t(&[fb(30, None, Base64Mode::Rfc4648)], b"Zm9v"), b"Zm9v");
        assert_eq!(t(&[fb(0, None, Base64Mode::Strict)], b"Zm9vY"), b"Zm9vY");
        assert_eq!(t(&[fb(0, None, Base64Mode::Rfc4648)], b"$$$"), b"$$$");
    }

    #[test]
    fn xor_and_pcrexform_and_chains() {
        assert_eq!(
            t(&[Transform::Xor(vec![0x0d, 0x0a])], b"\x0d\x0a\x0d\x0b\x00"),
            b"\x00\x00\x00\x01\x0d"
        );
        let px = Transform::Pcrexform("[a-zA-Z]+\\s+(.*)\\s+HTTP".into());
        assert_eq!(
            t(std::slice::from_ref(&px), b"GET /dropper.php HTTP/1.1"),
            b"/dropper.php"
        );
        assert_eq!(
            t(&[px], b"nothing here"),
            b"nothing here",
            "no match: unchanged"
        );
        // order matters
        assert_eq!(
            t(
                &[
                    Transform::StripWhitespace,
                    Transform::ToUppercase,
                    Transform::Dotprefix
                ],
                b"a b"
            ),
            b".AB"
        );
        assert!(transform_standalone(&[Transform::Pcrexform("(".into())], b"x").is_err());
        assert!(matches!(
            transform_standalone(&[Transform::ToLowercase], b"abc").unwrap(),
            Cow::Owned(_)
        ));
        assert!(matches!(
            transform_standalone(&[], b"abc").unwrap(),
            Cow::Borrowed(_)
        ));
        // an invalid pcrexform through the engine entry point: unchanged
        let mut out = Vec::new();
        let mut env = Env::new(0);
        assert_eq!(
            apply_transforms(
                &[Transform::Pcrexform("(".into())],
                b"x",
                &mut out,
                &mut env
            ),
            b"x"
        );
    }
}
