//! The EVE `dns` object, as Suricata 8 writes it (`rust/src/dns/log.rs`,
//! `src/output-json-dns.c`).
//!
//! v3 (the default): one record per transaction, `"type":"request"` or
//! `"response"`, questions under `queries`, answers under `answers` and/or
//! `grouped`. v2 (deprecated, `version: 2` or `SURICATA_EVE_DNS_VERSION=2`):
//! one `"type":"query"` record per question of a request, one
//! `"type":"answer"` record per response with the first question at the top.
//!
//! The records serialise straight from the transaction ([`DnsEveRecord`]
//! borrows it); [`eve_dns`] is the `serde_json::Value` convenience.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::message::{DnsMessage, Name, RData, Record};
use super::state::DnsTransaction;
use super::types::{rcode_string, rrtype_from_config, rrtype_name, rrtype_string};

#[path = "eve_values.rs"]
mod values;
use values::{address_text, OptList, SoaObj, SrvObj, SshfpObj, Text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DnsEveVersion {
    V2,
    #[default]
    V3,
}

impl DnsEveVersion {
    /// Suricata's choice: the eve `version` option, else the
    /// `SURICATA_EVE_DNS_VERSION` environment value, else 3; 2 selects v2,
    /// anything else (1, garbage) falls back to v3.
    pub fn select(config: Option<&str>, env: Option<&str>) -> DnsEveVersion {
        match config.or(env).map(str::trim) {
            Some("2") => DnsEveVersion::V2,
            _ => DnsEveVersion::V3,
        }
    }
}

/// The eve-log `dns` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsEveOptions {
    pub version: DnsEveVersion,
    /// `requests`: log messages going to the server.
    pub requests: bool,
    /// `responses`: log messages going to the client.
    pub responses: bool,
    /// `types`: log only messages asking for one of these types; `None`
    /// logs all. Build it with [`DnsEveOptions::set_types`].
    pub types: Option<Vec<u16>>,
    /// `formats: [detailed]`: the `answers` array.
    pub detailed: bool,
    /// `formats: [grouped]`: the `grouped` object.
    pub grouped: bool,
}

impl Default for DnsEveOptions {
    fn default() -> Self {
        DnsEveOptions {
            version: DnsEveVersion::V3,
            requests: true,
            responses: true,
            types: None,
            detailed: true,
            grouped: true,
        }
    }
}

impl DnsEveOptions {
    /// `types: [a, mx, ...]`; names Suricata does not know are ignored, as
    /// it ignores them.
    pub fn set_types<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        self.types = Some(names.into_iter().filter_map(rrtype_from_config).collect());
    }

    /// `formats: [detailed, grouped]`, case-insensitive. Unknown values are
    /// ignored and a list with no valid value keeps the defaults.
    pub fn set_formats<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        let (mut d, mut g) = (false, false);
        for n in names {
            d |= n.eq_ignore_ascii_case("detailed");
            g |= n.eq_ignore_ascii_case("grouped");
        }
        if d || g {
            self.detailed = d;
            self.grouped = g;
        }
    }

    /// Whether the sensor should fill the envelope's addresses in flow
    /// direction (client first) rather than in packet direction. Suricata's
    /// v2 records do; v3 response records carry the server as `src_ip`.
    pub fn envelope_follows_flow(&self) -> bool {
        self.version == DnsEveVersion::V2
    }

    /// Suricata keeps every option in one bit set and only treats "all bits
    /// set" as "every type": any non-default option also narrows logging to
    /// the types in its table. Mirrored so the same records come out.
    fn type_enabled(&self, t: u16) -> bool {
        match &self.types {
            Some(ts) => ts.contains(&t),
            None if self.requests && self.responses && self.detailed && self.grouped => true,
            None => rrtype_name(t).is_some(),
        }
    }

    fn any_question_enabled(&self, m: &DnsMessage) -> bool {
        m.questions.iter().any(|q| self.type_enabled(q.rrtype))
    }
}

/// One EVE `dns` object, borrowing its transaction.
#[derive(Debug, Clone, Copy)]
pub enum DnsEveRecord<'a> {
    V3 {
        tx: &'a DnsTransaction,
        opts: &'a DnsEveOptions,
    },
    V2Query {
        tx: &'a DnsTransaction,
        index: usize,
    },
    V2Answer {
        tx: &'a DnsTransaction,
        opts: &'a DnsEveOptions,
    },
}

/// The `dns` objects to log for a transaction (none when the options filter
/// it out; several for a v2 request with several questions).
pub fn eve_dns_records<'a>(
    tx: &'a DnsTransaction,
    opts: &'a DnsEveOptions,
) -> Vec<DnsEveRecord<'a>> {
    let wanted = if tx.is_request() {
        opts.requests
    } else {
        opts.responses
    };
    if !wanted {
        return Vec::new();
    }
    let m = &tx.message;
    match (opts.version, tx.is_request()) {
        (DnsEveVersion::V3, _) | (DnsEveVersion::V2, false) => {
            if !opts.any_question_enabled(m) {
                return Vec::new();
            }
            if opts.version == DnsEveVersion::V3 {
                vec![DnsEveRecord::V3 { tx, opts }]
            } else {
                vec![DnsEveRecord::V2Answer { tx, opts }]
            }
        }
        // Suricata stops at the first question of a type not logged.
        (DnsEveVersion::V2, true) => m
            .questions
            .iter()
            .take_while(|q| opts.type_enabled(q.rrtype))
            .enumerate()
            .map(|(index, _)| DnsEveRecord::V2Query { tx, index })
            .collect(),
    }
}

/// [`eve_dns_records`] as JSON values, ready to go under `"dns"`.
pub fn eve_dns(tx: &DnsTransaction, opts: &DnsEveOptions) -> Vec<serde_json::Value> {
    eve_dns_records(tx, opts)
        .iter()
        .filter_map(|r| serde_json::to_value(r).ok())
        .collect()
}

impl Serialize for DnsEveRecord<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        match *self {
            DnsEveRecord::V3 { tx, opts } => {
                let m = &tx.message;
                map.serialize_entry("version", &3)?;
                let kind = if tx.is_request() {
                    "request"
                } else {
                    "response"
                };
                map.serialize_entry("type", kind)?;
                map.serialize_entry("tx_id", &tx.tx_id)?;
                map.serialize_entry("id", &m.header.id)?;
                header_fields(&mut map, m)?;
                map.serialize_entry("rcode", &rcode_string(m.header.flags))?;
                if !m.questions.is_empty() {
                    map.serialize_entry("queries", &Queries { m, opts })?;
                }
                sections(&mut map, m, opts)?;
            }
            DnsEveRecord::V2Query { tx, index } => {
                let m = &tx.message;
                let Some(q) = m.questions.get(index) else {
                    return map.end();
                };
                map.serialize_entry("version", &2)?;
                map.serialize_entry("type", "query")?;
                map.serialize_entry("id", &m.header.id)?;
                name_entry(&mut map, m, "rrname", &q.name)?;
                map.serialize_entry("rrtype", &rrtype_string(q.rrtype))?;
                map.serialize_entry("tx_id", &tx.tx_id)?;
                if m.header.z() {
                    map.serialize_entry("z", &true)?;
                }
                map.serialize_entry("opcode", &m.header.opcode())?;
            }
            DnsEveRecord::V2Answer { tx, opts } => {
                let m = &tx.message;
                map.serialize_entry("version", &2)?;
                map.serialize_entry("type", "answer")?;
                map.serialize_entry("id", &m.header.id)?;
                header_fields(&mut map, m)?;
                if let Some(q) = m.questions.first() {
                    name_entry(&mut map, m, "rrname", &q.name)?;
                    map.serialize_entry("rrtype", &rrtype_string(q.rrtype))?;
                }
                map.serialize_entry("rcode", &rcode_string(m.header.flags))?;
                sections(&mut map, m, opts)?;
            }
        }
        map.end()
    }
}

/// `flags` (hex), the set flag bits, `opcode`.
fn header_fields<M: SerializeMap>(map: &mut M, m: &DnsMessage) -> Result<(), M::Error> {
    let h = &m.header;
    map.serialize_entry("flags", &format_args!("{:x}", h.flags))?;
    for (set, key) in [
        (h.qr(), "qr"),
        (h.aa(), "aa"),
        (h.tc(), "tc"),
        (h.rd(), "rd"),
        (h.ra(), "ra"),
        (h.z(), "z"),
    ] {
        if set {
            map.serialize_entry(key, &true)?;
        }
    }
    map.serialize_entry("opcode", &h.opcode())
}

/// `answers`/`grouped`, `authorities`, `additionals`.
fn sections<M: SerializeMap>(
    map: &mut M,
    m: &DnsMessage,
    opts: &DnsEveOptions,
) -> Result<(), M::Error> {
    if m.answers().iter().any(Record::is_logged) {
        if opts.detailed {
            map.serialize_entry("answers", &Details { m, rs: m.answers() })?;
        }
        if opts.grouped {
            map.serialize_entry("grouped", &Grouped { m })?;
        }
    }
    if m.authorities().iter().any(Record::is_logged) {
        map.serialize_entry(
            "authorities",
            &Details {
                m,
                rs: m.authorities(),
            },
        )?;
    }
    // An OPT record without options says nothing worth a line.
    let shown =
        |r: &&Record| r.is_logged() && !matches!(r.rdata, RData::Opt(o) if o.options.is_empty());
    if m.additionals().iter().any(|r| shown(&r)) {
        map.serialize_entry("additionals", &Additionals { m })?;
    }
    Ok(())
}

fn name_entry<M: SerializeMap>(
    map: &mut M,
    m: &DnsMessage,
    key: &'static str,
    n: &Name,
) -> Result<(), M::Error> {
    map.serialize_entry(key, &Text(m.name(n)))?;
    if n.is_truncated() {
        let flag = match key {
            "rrname" => "rrname_truncated",
            "rdata" => "rdata_truncated",
            "mname" => "mname_truncated",
            _ => "rname_truncated",
        };
        map.serialize_entry(flag, &true)?;
    }
    Ok(())
}

struct Queries<'a> {
    m: &'a DnsMessage,
    opts: &'a DnsEveOptions,
}

impl Serialize for Queries<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for q in &self.m.questions {
            if self.opts.type_enabled(q.rrtype) {
                seq.serialize_element(&QueryObj { m: self.m, q })?;
            }
        }
        seq.end()
    }
}

struct QueryObj<'a> {
    m: &'a DnsMessage,
    q: &'a super::message::Question,
}

impl Serialize for QueryObj<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("rrname", &Text(self.m.name(&self.q.name)))?;
        map.serialize_entry("rrtype", &rrtype_string(self.q.rrtype))?;
        if self.q.name.is_truncated() {
            map.serialize_entry("rrname_truncated", &true)?;
        }
        map.end()
    }
}

/// A record section in detailed form: one object per record, one per
/// string for TXT (Suricata expands them).
struct Details<'a> {
    m: &'a DnsMessage,
    rs: &'a [Record],
}

impl Serialize for Details<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for r in self.rs.iter().filter(|r| r.is_logged()) {
            detail_elements(&mut seq, self.m, r)?;
        }
        seq.end()
    }
}

struct Additionals<'a> {
    m: &'a DnsMessage,
}

impl Serialize for Additionals<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for r in self.m.additionals().iter().filter(|r| r.is_logged()) {
            if matches!(r.rdata, RData::Opt(o) if o.options.is_empty()) {
                continue;
            }
            detail_elements(&mut seq, self.m, r)?;
        }
        seq.end()
    }
}

fn detail_elements<Q: SerializeSeq>(
    seq: &mut Q,
    m: &DnsMessage,
    r: &Record,
) -> Result<(), Q::Error> {
    match r.rdata {
        RData::Txt(span) => {
            for t in m.txt_strings(span) {
                seq.serialize_element(&Detail { m, r, txt: t })?;
            }
            Ok(())
        }
        _ => seq.serialize_element(&Detail { m, r, txt: &[] }),
    }
}

struct Detail<'a> {
    m: &'a DnsMessage,
    r: &'a Record,
    txt: &'a [u8],
}

impl Serialize for Detail<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (m, r) = (self.m, self.r);
        let mut map = s.serialize_map(None)?;
        name_entry(&mut map, m, "rrname", &r.name)?;
        map.serialize_entry("rrtype", &rrtype_string(r.rrtype))?;
        map.serialize_entry("ttl", &r.ttl)?;
        match &r.rdata {
            RData::Address(span) => map.serialize_entry("rdata", &address_text(m.bytes(*span)))?,
            RData::Name(n) | RData::Mx { exchange: n, .. } => name_entry(&mut map, m, "rdata", n)?,
            RData::Txt(_) => map.serialize_entry("rdata", &Text(self.txt))?,
            RData::Null(span) => map.serialize_entry("rdata", &Text(m.bytes(*span)))?,
            RData::Soa(soa) => map.serialize_entry("soa", &SoaObj { m, soa })?,
            RData::Srv(srv) => map.serialize_entry(
                "srv",
                &SrvObj {
                    m,
                    priority: srv.priority,
                    weight: srv.weight,
                    port: srv.port,
                    target: &srv.target,
                },
            )?,
            RData::Sshfp {
                algo,
                fp_type,
                fingerprint,
            } => map.serialize_entry(
                "sshfp",
                &SshfpObj {
                    fingerprint: m.bytes(*fingerprint),
                    algo: *algo,
                    fp_type: *fp_type,
                },
            )?,
            RData::Opt(o) => map.serialize_entry("opt", &OptList { m, o })?,
            // Suricata keeps these raw and logs no rdata for them.
            RData::Dname(_) | RData::Svcb { .. } | RData::Unknown(_) | RData::Empty => {}
        }
        map.end()
    }
}

/// The `grouped` object: answer rdata by type name, types in order of first
/// appearance (Suricata's order is a hash map's, so any order is faithful).
struct Grouped<'a> {
    m: &'a DnsMessage,
}

fn groupable(r: &Record) -> bool {
    matches!(
        r.rdata,
        RData::Address(_)
            | RData::Name(_)
            | RData::Mx { .. }
            | RData::Txt(_)
            | RData::Null(_)
            | RData::Soa(_)
            | RData::Srv(_)
            | RData::Sshfp { .. }
    )
}

impl Serialize for Grouped<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut types: Vec<u16> = Vec::new();
        for r in self.m.answers().iter().filter(|r| groupable(r)) {
            if !types.contains(&r.rrtype) {
                types.push(r.rrtype);
            }
        }
        let mut map = s.serialize_map(Some(types.len()))?;
        for t in types {
            map.serialize_entry(&rrtype_string(t), &Group { m: self.m, t })?;
        }
        map.end()
    }
}

struct Group<'a> {
    m: &'a DnsMessage,
    t: u16,
}

impl Serialize for Group<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = self.m;
        let mut seq = s.serialize_seq(None)?;
        for r in m
            .answers()
            .iter()
            .filter(|r| r.rrtype == self.t && groupable(r))
        {
            match &r.rdata {
                RData::Address(span) => seq.serialize_element(&address_text(m.bytes(*span)))?,
                RData::Name(n) | RData::Mx { exchange: n, .. } => {
                    seq.serialize_element(&Text(m.name(n)))?
                }
                RData::Txt(span) => {
                    for t in m.txt_strings(*span) {
                        seq.serialize_element(&Text(t))?;
                    }
                }
                RData::Null(span) => seq.serialize_element(&Text(m.bytes(*span)))?,
                RData::Soa(soa) => seq.serialize_element(&SoaObj { m, soa })?,
                RData::Srv(srv) => seq.serialize_element(&SrvObj {
                    m,
                    priority: srv.priority,
                    weight: srv.weight,
                    port: srv.port,
                    target: &srv.target,
                })?,
                RData::Sshfp {
                    algo,
                    fp_type,
                    fingerprint,
                } => seq.serialize_element(&SshfpObj {
                    fingerprint: m.bytes(*fingerprint),
                    algo: *algo,
                    fp_type: *fp_type,
                })?,
                _ => {}
            }
        }
        seq.end()
    }
}

#[cfg(test)]
#[path = "eve_tests.rs"]
mod tests;
