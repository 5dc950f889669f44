//! The buffers DNS rules inspect, as zero-copy slices into the message.
//!
//! Each multi-buffer is an iterator: a rule matches if any item matches.
//! Which messages feed which buffer follows Suricata 8 (`dns.rs` getters):
//! records Suricata drops (empty rdata) and empty names are skipped.

use super::message::{DnsMessage, Name, RData, Record};
use super::state::DnsTransaction;

fn non_empty(b: &[u8]) -> Option<&[u8]> {
    (!b.is_empty()).then_some(b)
}

fn record_names<'a>(m: &'a DnsMessage, rs: &'a [Record]) -> impl Iterator<Item = &'a [u8]> + 'a {
    rs.iter()
        .filter(|r| r.is_logged())
        .filter_map(move |r| non_empty(m.name(&r.name)))
}

/// The name in an rdata that Suricata treats as a domain name.
pub fn rdata_name(r: &Record) -> Option<&Name> {
    match &r.rdata {
        RData::Name(n) => Some(n),
        RData::Mx { exchange, .. } => Some(exchange),
        RData::Soa(soa) => Some(&soa.mname),
        _ => None,
    }
}

/// `dns.queries.rrname`: question names, in either direction.
pub fn query_names(tx: &DnsTransaction) -> impl Iterator<Item = &[u8]> + '_ {
    let m = &tx.message;
    m.questions
        .iter()
        .filter_map(move |q| non_empty(m.name(&q.name)))
}

/// `dns.query` (and legacy `dns_query`): question names of requests only.
pub fn query(tx: &DnsTransaction) -> impl Iterator<Item = &[u8]> + '_ {
    query_names(tx).filter(move |_| tx.is_request())
}

/// `dns.answers.rrname`: owner names of the answer section.
pub fn answer_names(tx: &DnsTransaction) -> impl Iterator<Item = &[u8]> + '_ {
    record_names(&tx.message, tx.message.answers())
}

/// `dns.authorities.rrname` (responses only).
pub fn authority_names(tx: &DnsTransaction) -> impl Iterator<Item = &[u8]> + '_ {
    let rs = if tx.is_request() {
        &[][..]
    } else {
        tx.message.authorities()
    };
    record_names(&tx.message, rs)
}

/// `dns.additionals.rrname` (responses only).
pub fn additional_names(tx: &DnsTransaction) -> impl Iterator<Item = &[u8]> + '_ {
    let rs = if tx.is_request() {
        &[][..]
    } else {
        tx.message.additionals()
    };
    record_names(&tx.message, rs)
}

/// Domain names inside rdata (CNAME, NS, PTR, MX exchange, SOA mname) of
/// all three record sections of a response.
pub fn rdata_names(tx: &DnsTransaction) -> impl Iterator<Item = &[u8]> + '_ {
    let m = &tx.message;
    let rs = if tx.is_request() {
        &[][..]
    } else {
        m.answers()
    };
    let all = rs
        .iter()
        .chain(if tx.is_request() {
            &[][..]
        } else {
            m.authorities()
        })
        .chain(if tx.is_request() {
            &[][..]
        } else {
            m.additionals()
        });
    all.filter(|r| r.is_logged())
        .filter_map(rdata_name)
        .filter_map(move |n| non_empty(m.name(n)))
}

/// `dns.response.rrname`: in a response, every question and record owner
/// name plus the domain names in rdata.
pub fn response_names(tx: &DnsTransaction) -> impl Iterator<Item = &[u8]> + '_ {
    let m = &tx.message;
    let resp = !tx.is_request();
    let (an, ns, ar) = if resp {
        (m.answers(), m.authorities(), m.additionals())
    } else {
        (&[][..], &[][..], &[][..])
    };
    query_names(tx)
        .filter(move |_| resp)
        .chain(record_names(m, an))
        .chain(record_names(m, ns))
        .chain(record_names(m, ar))
        .chain(rdata_names(tx))
}

/// `dns.opcode`.
pub fn opcode(tx: &DnsTransaction) -> u8 {
    tx.message.header.opcode()
}

/// `dns.rcode`: the response code of a response, 0 for a request (as
/// Suricata's transaction reports it).
pub fn rcode(tx: &DnsTransaction) -> u8 {
    if tx.is_request() {
        0
    } else {
        tx.message.header.rcode()
    }
}

/// `dns.rrtype`: the question types.
pub fn rrtypes(tx: &DnsTransaction) -> impl Iterator<Item = u16> + '_ {
    tx.message.questions.iter().map(|q| q.rrtype)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::testutil::MsgBuilder;
    use crate::dns::{DnsConfig, DnsState};
    use crate::Direction;

    fn one(dir: Direction, wire: &[u8]) -> DnsTransaction {
        let mut st = DnsState::new(DnsConfig::default());
        st.parse_udp(dir, wire).expect("valid message");
        let tx = st.drain().next().expect("one tx");
        tx
    }

    #[test]
    fn request_and_response_buffers() {
        let q = MsgBuilder::query(7, "www.example.org", 1).build();
        let tx = one(Direction::ToServer, &q);
        assert_eq!(
            query(&tx).collect::<Vec<_>>(),
            vec![&b"www.example.org"[..]]
        );
        assert_eq!(query_names(&tx).count(), 1);
        assert_eq!(response_names(&tx).count(), 0);
        assert_eq!(rcode(&tx), 0);
        assert_eq!(rrtypes(&tx).collect::<Vec<_>>(), vec![1]);

        let r = MsgBuilder::response(7, 0x8183, "www.example.org", 1)
            .answer_cname("www.example.org", "cdn.example.net")
            .authority_ns("example.org", "ns1.example.org")
            .additional_a("ns1.example.org", [192, 0, 2, 1])
            .build();
        let tx = one(Direction::ToClient, &r);
        assert_eq!(query(&tx).count(), 0, "dns.query is request-only");
        assert_eq!(query_names(&tx).count(), 1);
        assert_eq!(
            answer_names(&tx).collect::<Vec<_>>(),
            vec![&b"www.example.org"[..]]
        );
        assert_eq!(
            authority_names(&tx).collect::<Vec<_>>(),
            vec![&b"example.org"[..]]
        );
        assert_eq!(
            additional_names(&tx).collect::<Vec<_>>(),
            vec![&b"ns1.example.org"[..]]
        );
        let all: Vec<_> = response_names(&tx).collect();
        assert!(all.contains(&&b"cdn.example.net"[..]));
        assert!(all.contains(&&b"ns1.example.org"[..]));
        assert_eq!(all.len(), 6);
        assert_eq!(rcode(&tx), 3);
        assert_eq!(opcode(&tx), 0);
    }
}
