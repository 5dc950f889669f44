//! Splitting a rule into header and options, and decoding quoted values.
//!
//! Options end at an unescaped `;`. A value that begins with a quote (after
//! an optional `!`) is scanned to its closing quote first, so that an
//! unescaped `;` inside it is reported as such instead of producing a
//! confusing half-option; Suricata rejects those rules either way.

use crate::error::{PResult, Perr};

/// One `name[:value];` option, borrowing from the rule text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Opt<'a> {
    pub name: &'a str,
    /// Trimmed; `None` for `nocase;`.
    pub value: Option<&'a str>,
}

/// Splits `action proto ... (opts)` into the header text and the text
/// between the outer parentheses.
pub(crate) fn split_rule(text: &str) -> PResult<(&str, &str)> {
    let open = text
        .find('(')
        .ok_or_else(|| Perr::syntax("no option list: expected '(' after the header"))?;
    let rest = text[open + 1..].trim_end();
    let body = rest
        .strip_suffix(')')
        .ok_or_else(|| Perr::syntax("option list does not end with ')'"))?;
    Ok((text[..open].trim(), body))
}

/// Splits the option list. Fails on the first malformed option.
pub(crate) fn split_options(body: &str) -> PResult<Vec<Opt<'_>>> {
    let b = body.as_bytes();
    let mut out = Vec::with_capacity(24);
    let mut i = 0;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            return Ok(out);
        }
        let name_start = i;
        while i < b.len() && b[i] != b':' && b[i] != b';' {
            i += 1;
        }
        let name = body[name_start..i].trim();
        if name.is_empty() {
            return Err(Perr::syntax("empty option name"));
        }
        if !name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
        {
            return Err(Perr::syntax(format!("invalid option name '{name}'")));
        }
        if i >= b.len() {
            return Err(Perr::syntax(format!(
                "option '{name}' has no terminating ';'"
            )));
        }
        if b[i] == b';' {
            out.push(Opt { name, value: None });
            i += 1;
            continue;
        }
        // b[i] == ':'
        i += 1;
        let vstart = i;
        let mut j = i;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if j < b.len() && b[j] == b'!' {
            j += 1;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
        }
        if j < b.len() && b[j] == b'"' {
            j += 1;
            let mut esc = false;
            loop {
                if j >= b.len() {
                    return Err(Perr::syntax(format!(
                        "unterminated quoted value of '{name}'"
                    )));
                }
                let c = b[j];
                j += 1;
                if esc {
                    esc = false;
                } else if c == b'\\' {
                    esc = true;
                } else if c == b'"' {
                    break;
                } else if c == b';' {
                    return Err(Perr::syntax(format!(
                        "unescaped ';' in the quoted value of '{name}'"
                    )));
                }
            }
        }
        let mut esc = false;
        while j < b.len() {
            let c = b[j];
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b';' {
                break;
            }
            j += 1;
        }
        if j >= b.len() {
            return Err(Perr::syntax(format!(
                "option '{name}' has no terminating ';'"
            )));
        }
        out.push(Opt {
            name,
            value: Some(body[vstart..j].trim()),
        });
        i = j + 1;
    }
}

/// Strips one pair of surrounding double quotes, if present.
pub(crate) fn unquote(v: &str) -> &str {
    let t = v.trim();
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        &t[1..t.len() - 1]
    } else {
        t
    }
}

/// `msg`-style text: quotes removed, `\x` becomes `x`.
pub(crate) fn unescape_text(v: &str) -> String {
    let s = unquote(v);
    let mut out = String::with_capacity(s.len());
    let mut esc = false;
    for c in s.chars() {
        if esc {
            out.push(c);
            esc = false;
        } else if c == '\\' {
            esc = true;
        } else {
            out.push(c);
        }
    }
    if esc {
        out.push('\\');
    }
    out
}

/// Splits off a leading `!` (with optional spaces around it).
pub(crate) fn negation(v: &str) -> (bool, &str) {
    let t = v.trim_start();
    match t.strip_prefix('!') {
        Some(r) => (true, r.trim_start()),
        None => (false, t),
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes a content string `"ab|41 42|c\;"` (the quotes included):
/// `|hex|` blocks, and the escapes Suricata allows (`\;` `\"` `\\` `\:`).
pub(crate) fn decode_content(v: &str, kw: &str) -> PResult<Vec<u8>> {
    let t = v.trim();
    if t.len() < 2 || !t.starts_with('"') || !t.ends_with('"') {
        return Err(Perr::syntax(format!("{kw} must be a quoted string")));
    }
    let s = &t.as_bytes()[1..t.len() - 1];
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    let mut in_hex = false;
    let mut nib: Option<u8> = None;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if in_hex {
            if c == b'|' {
                if nib.is_some() {
                    return Err(Perr::syntax(format!("odd number of hex digits in {kw}")));
                }
                in_hex = false;
            } else if c == b' ' || c == b'\t' {
                continue;
            } else if let Some(h) = hex_val(c) {
                match nib.take() {
                    Some(hi) => out.push(hi << 4 | h),
                    None => nib = Some(h),
                }
            } else {
                return Err(Perr::syntax(format!(
                    "invalid hex character '{}' in {kw}",
                    c as char
                )));
            }
            continue;
        }
        match c {
            b'|' => in_hex = true,
            b'\\' => {
                let n = *s
                    .get(i)
                    .ok_or_else(|| Perr::syntax(format!("trailing '\\' in {kw}")))?;
                if !matches!(n, b';' | b'"' | b'\\' | b':') {
                    return Err(Perr::syntax(format!(
                        "invalid escape '\\{}' in {kw}",
                        n as char
                    )));
                }
                out.push(n);
                i += 1;
            }
            b'"' => return Err(Perr::syntax(format!("unescaped '\"' in {kw}"))),
            b';' => return Err(Perr::syntax(format!("unescaped ';' in {kw}"))),
            _ => out.push(c),
        }
    }
    if in_hex {
        return Err(Perr::syntax(format!("unterminated hex block in {kw}")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_options() {
        let (h, b) = split_rule(
            r#"alert tcp any any -> any any (msg:"a \"q\" \; b"; content:!"x|3b|"; nocase; sid:1;)"#,
        )
        .unwrap();
        assert_eq!(h, "alert tcp any any -> any any");
        let o = split_options(b).unwrap();
        assert_eq!(o.len(), 4);
        assert_eq!(o[0].name, "msg");
        assert_eq!(o[0].value, Some(r#""a \"q\" \; b""#));
        assert_eq!(unescape_text(o[0].value.unwrap()), r#"a "q" ; b"#);
        assert_eq!(o[1].value, Some(r#"!"x|3b|""#));
        assert_eq!(
            o[2],
            Opt {
                name: "nocase",
                value: None
            }
        );
        assert_eq!(o[3].value, Some("1"));
    }

    #[test]
    fn option_errors() {
        assert!(split_options(r#"msg:"a; b"; sid:1;"#)
            .unwrap_err()
            .msg
            .contains("unescaped ';'"));
        assert!(split_options("sid:1")
            .unwrap_err()
            .msg
            .contains("no terminating"));
        assert!(split_options(r#"msg:"abc; "#).is_err());
        assert!(split_rule("alert tcp any any -> any any sid:1;").is_err());
        assert!(split_rule("alert tcp any any -> any any (sid:1;").is_err());
    }

    #[test]
    fn content_strings() {
        assert_eq!(
            decode_content(r#""A|42 43|D""#, "content").unwrap(),
            b"ABCD"
        );
        assert_eq!(
            decode_content(r#""a\;b\"c\\d\:""#, "content").unwrap(),
            b"a;b\"c\\d:"
        );
        assert_eq!(decode_content(r#""|0d0A|""#, "content").unwrap(), b"\r\n");
        assert!(decode_content(r#""|4|""#, "content").is_err());
        assert!(decode_content(r#""|4g|""#, "content").is_err());
        assert!(decode_content(r#""|41""#, "content").is_err());
        assert!(decode_content(r#""a"b""#, "content").is_err());
        assert!(decode_content(r#""a\nb""#, "content").is_err());
        assert!(decode_content("abc", "content").is_err());
    }
}
