//! `byte_test`, `byte_jump`, `byte_extract`, `byte_math`, `base64_decode`
//! and `asn1`: keywords that read numbers or structures at a position of
//! the current buffer.

use super::{need, parts, Builder};
use crate::error::{PResult, Perr};
use crate::num::{inum, num, parse_u64};
use crate::sig::{
    Base64Decode, ByteExtract, ByteJump, ByteMath, ByteOp, ByteTest, Endian, Item, MathOp,
    NumFormat,
};

pub(super) fn apply(b: &mut Builder<'_>, name: &str, v: Option<&str>) -> PResult<bool> {
    let item = match name {
        "byte_test" => Item::ByteTest(byte_test(b, need(name, v)?)?),
        "byte_jump" => Item::ByteJump(byte_jump(b, need(name, v)?)?),
        "byte_extract" => Item::ByteExtract(byte_extract(b, need(name, v)?)?),
        "byte_math" => Item::ByteMath(byte_math(b, need(name, v)?)?),
        "base64_decode" => {
            b.seen_base64_decode = true;
            Item::Base64Decode(base64_decode(v.unwrap_or(""))?)
        }
        "asn1" => Item::Asn1(asn1(need(name, v)?)?),
        _ => return Ok(false),
    };
    let l = b.cur_list();
    b.push_item(l, item);
    Ok(true)
}

/// Number format options shared by the byte keywords.
#[derive(Default)]
struct Fmt {
    endian: Option<Endian>,
    string: bool,
    base: Option<u32>,
    dce: bool,
}

impl Fmt {
    /// Consumes `p` if it is a format option.
    fn take(&mut self, p: &str) -> bool {
        match p {
            "big" => self.endian = Some(Endian::Big),
            "little" => self.endian = Some(Endian::Little),
            "string" => self.string = true,
            "hex" => self.base = Some(16),
            "dec" => self.base = Some(10),
            "oct" => self.base = Some(8),
            "dce" => self.dce = true,
            _ => return false,
        }
        true
    }
    fn finish(&self, kw: &str, nbytes: u8) -> PResult<NumFormat> {
        if self.base.is_some() && !self.string {
            return Err(Perr::invalid(format!("{kw}: hex/dec/oct need 'string'")));
        }
        if self.string {
            if self.dce || self.endian.is_some() {
                return Err(Perr::invalid(format!(
                    "{kw}: 'string' cannot be combined with an endianness or dce"
                )));
            }
            // ET Open ships `byte_test:0,=,0,0,string,dec`, which Suricata
            // loads; 0 reads no digits.
            if nbytes > 32 {
                return Err(Perr::invalid(format!(
                    "{kw}: string of {nbytes} bytes is not supported"
                )));
            }
            return Ok(NumFormat::String(self.base.unwrap_or(10)));
        }
        if nbytes > 8 {
            return Err(Perr::invalid(format!(
                "{kw}: {nbytes} bytes is not supported for a binary number (0 to 8)"
            )));
        }
        if self.dce {
            if self.endian.is_some() {
                return Err(Perr::invalid(format!(
                    "{kw}: 'dce' cannot be combined with an endianness"
                )));
            }
            return Ok(NumFormat::Dce);
        }
        Ok(NumFormat::Binary(self.endian.unwrap_or(Endian::Big)))
    }
}

fn bitmask(p: &str) -> Option<PResult<u64>> {
    let r = p.strip_prefix("bitmask")?;
    Some(parse_u64(r).ok_or_else(|| Perr::syntax(format!("invalid bitmask '{}'", r.trim()))))
}

fn arity(p: &[&str], n: usize, kw: &str) -> PResult<()> {
    if p.len() < n || p[..n].iter().any(|x| x.is_empty()) {
        return Err(Perr::syntax(format!("{kw} needs at least {n} arguments")));
    }
    Ok(())
}

fn byte_test(b: &Builder<'_>, v: &str) -> PResult<ByteTest> {
    let kw = "byte_test";
    let p: Vec<&str> = parts(v).collect();
    arity(&p, 4, kw)?;
    let nbytes: u8 = num(p[0], kw)?;
    let (negated, op) = match p[1].strip_prefix('!') {
        Some(r) => (true, r.trim()),
        None => (false, p[1]),
    };
    let op = match op {
        "<" => ByteOp::Lt,
        ">" => ByteOp::Gt,
        "<=" => ByteOp::Le,
        ">=" => ByteOp::Ge,
        "=" => ByteOp::Eq,
        "" if negated => ByteOp::Eq,
        "&" => ByteOp::And,
        "^" => ByteOp::Xor,
        o => return Err(Perr::syntax(format!("invalid byte_test operator '{o}'"))),
    };
    let value = b.val(p[2], kw)?;
    let offset = b.val(p[3], kw)?;
    let mut fmt = Fmt::default();
    let mut t = ByteTest {
        nbytes,
        op,
        negated,
        value,
        offset,
        relative: false,
        format: NumFormat::Binary(Endian::Big),
        bitmask: None,
    };
    for o in &p[4..] {
        if *o == "relative" {
            t.relative = true;
        } else if let Some(m) = bitmask(o) {
            t.bitmask = Some(m?);
        } else if !fmt.take(o) {
            return Err(Perr::syntax(format!("invalid byte_test option '{o}'")));
        }
    }
    t.format = fmt.finish(kw, nbytes)?;
    Ok(t)
}

fn byte_jump(b: &Builder<'_>, v: &str) -> PResult<ByteJump> {
    let kw = "byte_jump";
    let p: Vec<&str> = parts(v).collect();
    arity(&p, 2, kw)?;
    let nbytes: u8 = num(p[0], kw)?;
    let mut j = ByteJump {
        nbytes,
        offset: b.val(p[1], kw)?,
        relative: false,
        format: NumFormat::Binary(Endian::Big),
        multiplier: 1,
        align: false,
        from_beginning: false,
        from_end: false,
        post_offset: 0,
        bitmask: None,
    };
    let mut fmt = Fmt::default();
    for o in &p[2..] {
        match *o {
            "relative" => j.relative = true,
            "align" => j.align = true,
            "from_beginning" => j.from_beginning = true,
            "from_end" => j.from_end = true,
            _ => {
                if let Some(m) = o.strip_prefix("multiplier") {
                    j.multiplier = num(m, kw)?;
                } else if let Some(m) = o.strip_prefix("post_offset") {
                    j.post_offset = inum(m, kw)?;
                } else if let Some(m) = bitmask(o) {
                    j.bitmask = Some(m?);
                } else if !fmt.take(o) {
                    return Err(Perr::syntax(format!("invalid byte_jump option '{o}'")));
                }
            }
        }
    }
    if j.from_beginning && j.from_end {
        return Err(Perr::invalid(
            "byte_jump: from_beginning and from_end exclude each other",
        ));
    }
    j.format = fmt.finish(kw, nbytes)?;
    Ok(j)
}

fn byte_extract(b: &mut Builder<'_>, v: &str) -> PResult<ByteExtract> {
    let kw = "byte_extract";
    let p: Vec<&str> = parts(v).collect();
    arity(&p, 3, kw)?;
    let nbytes: u8 = num(p[0], kw)?;
    let offset: i32 = inum(p[1], kw)?;
    let mut e = ByteExtract {
        nbytes,
        offset,
        relative: false,
        format: NumFormat::Binary(Endian::Big),
        multiplier: 1,
        align: 0,
        bitmask: None,
        var: 0,
    };
    let mut fmt = Fmt::default();
    for o in &p[3..] {
        if *o == "relative" {
            e.relative = true;
        } else if let Some(m) = o.strip_prefix("multiplier") {
            e.multiplier = num(m, kw)?;
        } else if let Some(m) = o.strip_prefix("align") {
            e.align = num(m, kw)?;
            if e.align != 2 && e.align != 4 {
                return Err(Perr::invalid("byte_extract: align must be 2 or 4"));
            }
        } else if let Some(m) = bitmask(o) {
            e.bitmask = Some(m?);
        } else if !fmt.take(o) {
            return Err(Perr::syntax(format!("invalid byte_extract option '{o}'")));
        }
    }
    e.format = fmt.finish(kw, nbytes)?;
    e.var = b.new_var(p[2], kw)?;
    Ok(e)
}

fn byte_math(b: &mut Builder<'_>, v: &str) -> PResult<ByteMath> {
    let kw = "byte_math";
    let (mut nbytes, mut offset, mut op, mut rvalue, mut result) = (None, None, None, None, None);
    let mut relative = false;
    let mut bitmask_v = None;
    let mut fmt = Fmt::default();
    for o in parts(v) {
        let (k, a) = match o.split_once(char::is_whitespace) {
            Some((k, a)) => (k, a.trim()),
            None => (o, ""),
        };
        match k {
            "bytes" => nbytes = Some(num::<u8>(a, kw)?),
            "offset" => offset = Some(inum::<i32>(a, kw)?),
            "oper" => {
                op = Some(match a {
                    "+" => MathOp::Add,
                    "-" => MathOp::Sub,
                    "*" => MathOp::Mul,
                    "/" => MathOp::Div,
                    "<<" => MathOp::Shl,
                    ">>" => MathOp::Shr,
                    x => return Err(Perr::syntax(format!("invalid byte_math operator '{x}'"))),
                })
            }
            "rvalue" => rvalue = Some(b.val(a, kw)?),
            "result" => result = Some(a),
            "relative" => relative = true,
            "endian" => {
                if !fmt.take(a) {
                    return Err(Perr::syntax(format!("invalid byte_math endian '{a}'")));
                }
            }
            "string" => {
                fmt.string = true;
                if !a.is_empty() && !fmt.take(a) {
                    return Err(Perr::syntax(format!("invalid byte_math string base '{a}'")));
                }
            }
            "dce" => fmt.dce = true,
            "bitmask" => {
                bitmask_v = Some(
                    parse_u64(a).ok_or_else(|| Perr::syntax(format!("invalid bitmask '{a}'")))?,
                )
            }
            _ => return Err(Perr::syntax(format!("invalid byte_math option '{o}'"))),
        }
    }
    let missing = |w: &str| Perr::syntax(format!("byte_math needs '{w}'"));
    let nbytes = nbytes.ok_or_else(|| missing("bytes"))?;
    let m = ByteMath {
        nbytes,
        offset: offset.ok_or_else(|| missing("offset"))?,
        relative,
        format: fmt.finish(kw, nbytes)?,
        op: op.ok_or_else(|| missing("oper"))?,
        rvalue: rvalue.ok_or_else(|| missing("rvalue"))?,
        bitmask: bitmask_v,
        result: 0,
    };
    let r = result.ok_or_else(|| missing("result"))?;
    let result = b.new_var(r, kw)?;
    Ok(ByteMath { result, ..m })
}

fn base64_decode(v: &str) -> PResult<Base64Decode> {
    let mut d = Base64Decode::default();
    for o in parts(v).filter(|o| !o.is_empty()) {
        if o == "relative" {
            d.relative = true;
        } else if let Some(n) = o.strip_prefix("bytes") {
            let n: u32 = num(n, "base64_decode")?;
            if n == 0 {
                return Err(Perr::invalid("base64_decode: bytes must be greater than 0"));
            }
            d.bytes = Some(n);
        } else if let Some(n) = o.strip_prefix("offset") {
            d.offset = num(n, "base64_decode")?;
        } else {
            return Err(Perr::syntax(format!("invalid base64_decode option '{o}'")));
        }
    }
    Ok(d)
}

fn asn1(v: &str) -> PResult<String> {
    for o in parts(v) {
        let (k, a) = match o.split_once(char::is_whitespace) {
            Some((k, a)) => (k, a.trim()),
            None => (o, ""),
        };
        match k {
            "bitstring_overflow" | "double_overflow" if a.is_empty() => {}
            "oversize_length" | "absolute_offset" => {
                num::<u32>(a, "asn1")?;
            }
            "relative_offset" => {
                inum::<i32>(a, "asn1")?;
            }
            _ => return Err(Perr::syntax(format!("invalid asn1 option '{o}'"))),
        }
    }
    Ok(v.trim().to_string())
}
