//! The rule header: `action proto src sport -> dst dport`.

use std::collections::HashMap;

use crate::error::{PResult, Perr};
use crate::sig::{Action, AddrSet, Header, PortSet, Proto};
use crate::vars::Vars;

/// Application-layer protocol names Suricata accepts in the header.
pub(crate) const APP_PROTOS: &[&str] = &[
    "http",
    "http1",
    "http2",
    "dns",
    "tls",
    "smb",
    "ftp",
    "ftp-data",
    "smtp",
    "ssh",
    "dcerpc",
    "krb5",
    "ike",
    "ikev2",
    "mqtt",
    "modbus",
    "dnp3",
    "enip",
    "nfs",
    "ntp",
    "snmp",
    "sip",
    "rfb",
    "pgsql",
    "pop3",
    "imap",
    "ldap",
    "quic",
    "dhcp",
    "mdns",
    "websocket",
    "bittorrent-dht",
    "tftp",
    "irc",
    "rdp",
    "telnet",
    "doh2",
    "sdp",
    "template",
    "jabber",
    "msn",
    "failed",
];

/// Memoised address/port expressions: ET Open writes `$HOME_NET` and
/// `$EXTERNAL_NET` in nearly every rule, so each is resolved once.
#[derive(Debug, Default)]
pub(crate) struct HeaderCache {
    addrs: HashMap<String, AddrSet>,
    ports: HashMap<String, PortSet>,
}

impl HeaderCache {
    fn addr(&mut self, vars: &Vars, e: &str) -> PResult<AddrSet> {
        if let Some(a) = self.addrs.get(e) {
            return Ok(a.clone());
        }
        let a = vars.resolve_address(e)?;
        self.addrs.insert(e.to_string(), a.clone());
        Ok(a)
    }
    fn port(&mut self, vars: &Vars, e: &str) -> PResult<PortSet> {
        if let Some(p) = self.ports.get(e) {
            return Ok(p.clone());
        }
        let p = vars.resolve_port(e)?;
        self.ports.insert(e.to_string(), p.clone());
        Ok(p)
    }
}

pub(crate) fn parse_action(s: &str) -> Option<Action> {
    Some(match s {
        "alert" => Action::Alert,
        "pass" => Action::Pass,
        "drop" => Action::Drop,
        "reject" => Action::Reject,
        "rejectsrc" => Action::RejectSrc,
        "rejectdst" => Action::RejectDst,
        "rejectboth" => Action::RejectBoth,
        "config" => Action::Config,
        _ => return None,
    })
}

pub(crate) fn parse_proto(s: &str) -> Option<Proto> {
    let l = s.to_ascii_lowercase();
    Some(match l.as_str() {
        "ip" => Proto::Ip,
        "ipv4" | "ip4" => Proto::Ipv4,
        "ipv6" | "ip6" => Proto::Ipv6,
        "tcp" => Proto::Tcp,
        "tcp-pkt" => Proto::TcpPkt,
        "tcp-stream" => Proto::TcpStream,
        "udp" => Proto::Udp,
        "icmp" => Proto::Icmp,
        "icmpv4" => Proto::Icmpv4,
        "icmpv6" => Proto::Icmpv6,
        "sctp" => Proto::Sctp,
        "igmp" => Proto::Igmp,
        "pkthdr" => Proto::Pkthdr,
        a if APP_PROTOS.contains(&a) => Proto::App(match a {
            // Suricata's own alias: `ikev2` rules are `ike` rules.
            "ikev2" => "ike".to_string(),
            _ => l,
        }),
        _ => return None,
    })
}

/// Whitespace-separated fields, keeping `[a, b]` groups with spaces whole.
fn fields(h: &str) -> Vec<&str> {
    let mut out = Vec::with_capacity(7);
    let mut depth = 0i32;
    let mut start: Option<usize> = None;
    for (i, c) in h.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ => {}
        }
        if c.is_whitespace() && depth <= 0 {
            if let Some(s) = start.take() {
                out.push(&h[s..i]);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push(&h[s..]);
    }
    out
}

pub(crate) fn parse_header(h: &str, vars: &Vars, cache: &mut HeaderCache) -> PResult<Header> {
    let f = fields(h);
    if f.len() != 7 {
        return Err(Perr::syntax(format!(
            "header must be 'action proto src sport -> dst dport', got {} fields",
            f.len()
        )));
    }
    let action =
        parse_action(f[0]).ok_or_else(|| Perr::syntax(format!("unknown action '{}'", f[0])))?;
    let proto =
        parse_proto(f[1]).ok_or_else(|| Perr::invalid(format!("unknown protocol '{}'", f[1])))?;
    let (bidirectional, transactional) = match f[4] {
        "->" => (false, false),
        "<>" => (true, false),
        "=>" => (false, true),
        "<-" => {
            return Err(Perr::syntax(
                "direction '<-' is not supported: write the rule with '->'",
            ))
        }
        d => return Err(Perr::syntax(format!("invalid direction '{d}'"))),
    };
    let src = cache
        .addr(vars, f[2])
        .map_err(|e| Perr::invalid(format!("source address: {e}")))?;
    let src_ports = cache
        .port(vars, f[3])
        .map_err(|e| Perr::invalid(format!("source port: {e}")))?;
    let dst = cache
        .addr(vars, f[5])
        .map_err(|e| Perr::invalid(format!("destination address: {e}")))?;
    let dst_ports = cache
        .port(vars, f[6])
        .map_err(|e| Perr::invalid(format!("destination port: {e}")))?;
    Ok(Header {
        action,
        proto,
        src,
        src_ports,
        dst,
        dst_ports,
        bidirectional,
        transactional,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ph(s: &str) -> PResult<Header> {
        parse_header(s, &Vars::default(), &mut HeaderCache::default())
    }

    #[test]
    fn headers() {
        let h = ph("alert http $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS").unwrap();
        assert_eq!(h.action, Action::Alert);
        assert_eq!(h.proto, Proto::App("http".into()));
        assert!(h.dst_ports.contains(80) && !h.dst_ports.contains(81));
        let h = ph("drop tcp [1.2.3.4, 5.6.7.8] [80, 443] <> any any").unwrap();
        assert!(h.bidirectional);
        assert!(h.src_ports.contains(443));
        let h = ph("alert tls any any => any any").unwrap();
        assert!(h.transactional);
        assert_eq!(
            ph("alert tcp-pkt any any -> any any").unwrap().proto,
            Proto::TcpPkt
        );
        assert_eq!(
            ph("alert ikev2 any any -> any any").unwrap().proto,
            Proto::App("ike".into())
        );
    }

    #[test]
    fn header_errors() {
        assert!(ph("alert tcp any any <- any any")
            .unwrap_err()
            .msg
            .contains("'<-'"));
        assert!(ph("alert foo any any -> any any")
            .unwrap_err()
            .msg
            .contains("unknown protocol 'foo'"));
        assert!(ph("shout tcp any any -> any any")
            .unwrap_err()
            .msg
            .contains("unknown action"));
        assert!(ph("alert tcp any any -> any").is_err());
        assert!(ph("alert tcp $NOPE any -> any any")
            .unwrap_err()
            .msg
            .contains("unknown variable '$NOPE'"));
        assert!(ph("alert tcp any 99999 -> any any").is_err());
    }
}
