//! DNS wire format to typed messages. No I/O, no transport framing.
//!
//! What counts as malformed follows Suricata 8 (`rust/src/dns/parser.rs`) so
//! that the same packets raise the same events: names are decoded up to 255
//! segments and 1025 bytes, forward pointers are allowed, an unterminated
//! name at the end of its data is accepted, a record with empty rdata is kept
//! but marked [`RData::Empty`], and a bad authority or additional section
//! is dropped with a flag rather than failing the message.

use super::error::{ParseError, Section};
use super::message::{
    be16, be32, DnsMessage, Header, Name, NameFlags, Opt, Question, RData, Record, Soa, Span, Srv,
    HEADER_LEN,
};
use super::types::rrtype;

/// Suricata keeps names up to 1025 bytes (dnsmasq's limit), longer ones are
/// truncated and flagged.
pub const MAX_NAME_LEN: usize = 1025;
/// Labels plus pointers followed per name; also what stops pointer cycles.
pub const MAX_NAME_SEGMENTS: u32 = 255;

/// Parses one DNS message (no TCP length prefix), header check included.
pub fn parse_message(input: &[u8]) -> Result<DnsMessage, ParseError> {
    let header = Header::parse(input)?;
    header.check(input.len())?;
    parse_body(input, header)
}

struct Ctx<'a> {
    msg: &'a [u8],
    buf: Vec<u8>,
    flags: NameFlags,
    section: Section,
}

fn parse_body(msg: &[u8], header: Header) -> Result<DnsMessage, ParseError> {
    // Room for the names as well: compression makes them longer than the
    // wire bytes, but rarely by more than that.
    let mut buf = Vec::with_capacity(msg.len() * 2);
    buf.extend_from_slice(msg);
    let mut cx = Ctx {
        msg,
        buf,
        flags: NameFlags::default(),
        section: Section::Question,
    };
    // The header check bounds each count by the message length; the minimum
    // sizes below bound the allocation by what can really be present.
    let room = msg.len().saturating_sub(HEADER_LEN);
    let mut questions = Vec::with_capacity(usize::from(header.qdcount).min(room / 5));
    let mut pos = HEADER_LEN;
    for _ in 0..header.qdcount {
        let (name, p) = parse_name(&mut cx, pos, msg.len())?;
        let (Some(rrtype), Some(rrclass)) = (be16(msg, p), be16(msg, p + 2)) else {
            return Err(ParseError::Truncated {
                section: Section::Question,
                offset: p,
            });
        };
        questions.push(Question {
            name,
            rrtype,
            rrclass,
        });
        pos = p + 4;
    }

    let n_rr =
        usize::from(header.ancount) + usize::from(header.nscount) + usize::from(header.arcount);
    let mut records = Vec::with_capacity(n_rr.min(room / 11));
    cx.section = Section::Answer;
    pos = parse_section(&mut cx, &mut records, pos, header.ancount)?;
    let answers_end = records.len();

    let mut invalid_authorities = false;
    let mut invalid_additionals = false;
    cx.section = Section::Authority;
    match parse_section(&mut cx, &mut records, pos, header.nscount) {
        Ok(p) => {
            pos = p;
        }
        Err(_) => {
            records.truncate(answers_end);
            invalid_authorities = true;
        }
    }
    let authorities_end = records.len();
    if !invalid_authorities {
        cx.section = Section::Additional;
        if parse_section(&mut cx, &mut records, pos, header.arcount).is_err() {
            records.truncate(authorities_end);
            invalid_additionals = true;
        }
    }

    Ok(DnsMessage {
        header,
        buf: cx.buf,
        wire_len: msg.len(),
        questions,
        records,
        answers_end,
        authorities_end,
        invalid_authorities,
        invalid_additionals,
        name_flags: cx.flags,
    })
}

fn parse_section(
    cx: &mut Ctx<'_>,
    out: &mut Vec<Record>,
    mut pos: usize,
    count: u16,
) -> Result<usize, ParseError> {
    for _ in 0..count {
        let (name, p) = parse_name(cx, pos, cx.msg.len())?;
        let truncated = ParseError::Truncated {
            section: cx.section,
            offset: p,
        };
        let (Some(rrtype), Some(rrclass), Some(ttl), Some(rdlen)) = (
            be16(cx.msg, p),
            be16(cx.msg, p + 2),
            be32(cx.msg, p + 4),
            be16(cx.msg, p + 8),
        ) else {
            return Err(truncated);
        };
        let start = p + 10;
        let end = start + usize::from(rdlen);
        if end > cx.msg.len() {
            return Err(truncated);
        }
        let rdata = parse_rdata(cx, rrtype, rrclass, ttl, start, end)?;
        out.push(Record {
            name,
            rrtype,
            rrclass,
            ttl,
            rdata,
        });
        pos = end;
    }
    Ok(pos)
}

fn parse_rdata(
    cx: &mut Ctx<'_>,
    t: u16,
    class: u16,
    ttl: u32,
    start: usize,
    end: usize,
) -> Result<RData, ParseError> {
    if start == end {
        return Ok(RData::Empty);
    }
    let span = Span::new(start, end);
    let bad = ParseError::BadRdata {
        section: cx.section,
        offset: start,
        rrtype: t,
    };
    let msg = cx.msg;
    let rd = match t {
        rrtype::A | rrtype::AAAA => RData::Address(span),
        rrtype::CNAME | rrtype::NS | rrtype::PTR => RData::Name(parse_name(cx, start, end)?.0),
        rrtype::MX => {
            let preference = be16(msg, start).filter(|_| start + 2 <= end).ok_or(bad)?;
            let (exchange, _) = parse_name(cx, start + 2, end)?;
            RData::Mx {
                preference,
                exchange,
            }
        }
        rrtype::SOA => {
            let (mname, p) = parse_name(cx, start, end)?;
            let (rname, p) = parse_name(cx, p, end)?;
            if p + 20 > end {
                return Err(bad);
            }
            let n = |i: usize| be32(msg, p + 4 * i).ok_or(bad);
            RData::Soa(Soa {
                mname,
                rname,
                serial: n(0)?,
                refresh: n(1)?,
                retry: n(2)?,
                expire: n(3)?,
                minimum: n(4)?,
            })
        }
        rrtype::SRV => {
            if start + 6 > end {
                return Err(bad);
            }
            let f = |i: usize| be16(msg, start + 2 * i).ok_or(bad);
            let (priority, weight, port) = (f(0)?, f(1)?, f(2)?);
            let (target, _) = parse_name(cx, start + 6, end)?;
            RData::Srv(Srv {
                priority,
                weight,
                port,
                target,
            })
        }
        rrtype::TXT => {
            // Suricata keeps the strings up to the first malformed one but
            // needs at least one.
            let mut p = start;
            while let Some(&len) = msg.get(p).filter(|_| p < end) {
                let next = p + 1 + usize::from(len);
                if next > end {
                    break;
                }
                p = next;
            }
            if p == start {
                return Err(bad);
            }
            RData::Txt(Span::new(start, p))
        }
        rrtype::NULL => RData::Null(span),
        rrtype::SSHFP => {
            if start + 2 > end {
                return Err(bad);
            }
            RData::Sshfp {
                algo: msg[start],
                fp_type: msg[start + 1],
                fingerprint: Span::new(start + 2, end),
            }
        }
        rrtype::OPT => {
            let mut p = start;
            while let Some(len) = be16(msg, p + 2).filter(|_| p + 4 <= end) {
                let next = p + 4 + usize::from(len);
                if next > end {
                    break;
                }
                p = next;
            }
            RData::Opt(Opt {
                udp_size: class,
                ext_rcode: (ttl >> 24) as u8,
                version: (ttl >> 16) as u8,
                flags: ttl as u16,
                options: Span::new(start, p),
            })
        }
        // Suricata 8 keeps these raw and never fails on them; decoding is a
        // bonus, so a bad one falls back to raw instead of failing the section.
        rrtype::DNAME => match parse_name_quiet(cx, start, end) {
            Some((n, _)) => RData::Dname(n),
            None => RData::Unknown(span),
        },
        rrtype::SVCB | rrtype::HTTPS => {
            let parsed = be16(msg, start)
                .filter(|_| start + 2 <= end)
                .and_then(|prio| parse_name_quiet(cx, start + 2, end).map(|(n, p)| (prio, n, p)));
            match parsed {
                Some((priority, target, p)) => RData::Svcb {
                    priority,
                    target,
                    params: Span::new(p, end),
                },
                None => RData::Unknown(span),
            }
        }
        _ => RData::Unknown(span),
    };
    Ok(rd)
}

/// A name whose anomalies must not raise events (rdata Suricata keeps raw).
fn parse_name_quiet(cx: &mut Ctx<'_>, start: usize, end: usize) -> Option<(Name, usize)> {
    let saved = cx.flags;
    let r = parse_name(cx, start, end).ok();
    cx.flags = saved;
    r
}

/// Decodes the name at `start` into the message buffer. `end` bounds the
/// bytes before the first pointer (the rdata end inside a record); after a
/// pointer the whole message is fair game. Returns the name and the offset
/// just after it in the original data.
fn parse_name(cx: &mut Ctx<'_>, start: usize, end: usize) -> Result<(Name, usize), ParseError> {
    let msg = cx.msg;
    let section = cx.section;
    let name_start = cx.buf.len();
    let mut pos = start;
    let mut limit = end;
    let mut pivot: Option<usize> = None;
    let mut segments = 0u32;
    let mut flags = NameFlags::default();

    let result = loop {
        let Some(&len) = msg.get(pos).filter(|_| pos < limit) else {
            // Ran out of data without a terminator: Suricata ends the name
            // here and lets the next field fail if something is missing.
            break Ok(());
        };
        match len & 0xc0 {
            0x00 if len == 0 => {
                pos += 1;
                break Ok(());
            }
            0x00 => {
                let label_end = pos + 1 + usize::from(len);
                if label_end > limit {
                    break Err(ParseError::Truncated {
                        section,
                        offset: pos,
                    });
                }
                if !flags.contains(NameFlags::TRUNCATED) {
                    if cx.buf.len() > name_start {
                        cx.buf.push(b'.');
                    }
                    cx.buf.extend_from_slice(&msg[pos + 1..label_end]);
                }
                pos = label_end;
            }
            0xc0 => {
                let Some(ptr) = be16(msg, pos).filter(|_| pos + 2 <= limit) else {
                    break Err(ParseError::Truncated {
                        section,
                        offset: pos,
                    });
                };
                let target = usize::from(ptr & 0x3fff);
                if target > msg.len() {
                    break Err(ParseError::PointerOutOfRange {
                        section,
                        offset: pos,
                    });
                }
                if target == pos {
                    flags.insert(NameFlags::INFINITE_LOOP);
                    // After a pointer we know where the name ends in the
                    // original data, so the part decoded so far can stand.
                    if pivot.is_some() {
                        break Ok(());
                    }
                    break Err(ParseError::InfiniteLoop {
                        section,
                        offset: pos,
                    });
                }
                pivot.get_or_insert(pos + 2);
                pos = target;
                limit = msg.len();
            }
            _ => {
                break Err(ParseError::BadLabel {
                    section,
                    offset: pos,
                })
            }
        }

        segments += 1;
        if segments > MAX_NAME_SEGMENTS {
            flags.insert(NameFlags::LABEL_LIMIT);
            if pivot.is_some() {
                flags.insert(NameFlags::TRUNCATED);
                break Ok(());
            }
            break Err(ParseError::TooManyLabels {
                section,
                offset: start,
            });
        }
        if cx.buf.len() - name_start > MAX_NAME_LEN {
            cx.buf.truncate(name_start + MAX_NAME_LEN);
            flags.insert(NameFlags::TRUNCATED);
            // Without a pointer the end of the name is still unknown, so
            // keep walking labels to find where the next field starts.
            if pivot.is_some() {
                break Ok(());
            }
        }
    };

    match result {
        Ok(()) => {
            cx.flags.insert(flags);
            let name = Name {
                span: Span::new(name_start, cx.buf.len()),
                flags,
            };
            Ok((name, pivot.unwrap_or(pos)))
        }
        Err(e) => {
            cx.buf.truncate(name_start);
            Err(e)
        }
    }
}

#[cfg(test)]
#[path = "parser_tests.rs"]
mod tests;
