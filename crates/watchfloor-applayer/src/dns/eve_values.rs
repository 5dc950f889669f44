//! Leaf values of the EVE `dns` object, formatted as Suricata formats them.

use std::borrow::Cow;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::name_entry;
use crate::dns::message::{DnsMessage, Name, Opt, Soa};

/// Bytes as Suricata's JSON builder writes them: the UTF-8 text when valid,
/// otherwise ASCII kept and every other byte as a literal `\xNN`.
pub(super) struct Text<'a>(pub(super) &'a [u8]);

impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(self.0) {
            Ok(t) => s.serialize_str(t),
            Err(_) => {
                let mut out = String::with_capacity(self.0.len() * 2);
                for &b in self.0 {
                    if b.is_ascii() {
                        out.push(char::from(b));
                    } else {
                        out.push_str(&format!("\\x{b:02x}"));
                    }
                }
                s.serialize_str(&out)
            }
        }
    }
}

/// A/AAAA rdata as Suricata prints it: dotted quad, or eight groups of four
/// hex digits without `::` compression; any other length is `""`.
pub(super) fn address_text(b: &[u8]) -> Cow<'static, str> {
    match b.len() {
        4 => format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3]).into(),
        16 => {
            let mut out = String::with_capacity(39);
            for (i, pair) in b.chunks_exact(2).enumerate() {
                if i > 0 {
                    out.push(':');
                }
                out.push_str(&format!("{:02x}{:02x}", pair[0], pair[1]));
            }
            out.into()
        }
        _ => "".into(),
    }
}

fn hex(b: &[u8], sep: &str) -> String {
    let mut out = String::with_capacity(b.len() * 3);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(&format!("{x:02x}"));
    }
    out
}

pub(super) struct SoaObj<'a> {
    pub(super) m: &'a DnsMessage,
    pub(super) soa: &'a Soa,
}

impl Serialize for SoaObj<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let soa = self.soa;
        let mut map = s.serialize_map(None)?;
        name_entry(&mut map, self.m, "mname", &soa.mname)?;
        name_entry(&mut map, self.m, "rname", &soa.rname)?;
        map.serialize_entry("serial", &soa.serial)?;
        map.serialize_entry("refresh", &soa.refresh)?;
        map.serialize_entry("retry", &soa.retry)?;
        map.serialize_entry("expire", &soa.expire)?;
        map.serialize_entry("minimum", &soa.minimum)?;
        map.end()
    }
}

pub(super) struct SrvObj<'a> {
    pub(super) m: &'a DnsMessage,
    pub(super) priority: u16,
    pub(super) weight: u16,
    pub(super) port: u16,
    pub(super) target: &'a Name,
}

impl Serialize for SrvObj<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("priority", &self.priority)?;
        map.serialize_entry("weight", &self.weight)?;
        map.serialize_entry("port", &self.port)?;
        map.serialize_entry("name", &Text(self.m.name(self.target)))?;
        map.end()
    }
}

pub(super) struct SshfpObj<'a> {
    pub(super) fingerprint: &'a [u8],
    pub(super) algo: u8,
    pub(super) fp_type: u8,
}

impl Serialize for SshfpObj<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("fingerprint", &hex(self.fingerprint, ":"))?;
        map.serialize_entry("algo", &self.algo)?;
        map.serialize_entry("type", &self.fp_type)?;
        map.end()
    }
}

pub(super) struct OptList<'a> {
    pub(super) m: &'a DnsMessage,
    pub(super) o: &'a Opt,
}

impl Serialize for OptList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for (code, data) in self.m.opt_options(self.o) {
            seq.serialize_element(&OptObj { code, data })?;
        }
        seq.end()
    }
}

struct OptObj<'a> {
    code: u16,
    data: &'a [u8],
}

impl Serialize for OptObj<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("code", &self.code)?;
        map.serialize_entry("data", &hex(self.data, ""))?;
        map.end()
    }
}
