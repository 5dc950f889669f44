//! Application-layer parsing: recognise a protocol by content, turn a flow's
//! bytes into transactions, expose the buffers rules inspect and build the
//! protocol's EVE object.
//!
//! One folder per protocol with the same rooms (`parser`, `state`, `buffers`,
//! `eve`); this file holds what every protocol shares.

pub mod dns;
pub mod http;
pub mod tls;

/// The conformance replays' shared capture reader (also used by tests/).
#[cfg(test)]
#[path = "../tests/support/pcap.rs"]
mod test_pcap;

use watchfloor_eve::AnomalyInfo;

/// The application protocol of a flow, named as Suricata writes `app_proto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppProto {
    Dns,
    Http,
    Tls,
    /// Detection ran and recognised nothing.
    Failed,
}

impl AppProto {
    pub fn name(self) -> &'static str {
        match self {
            AppProto::Dns => "dns",
            AppProto::Http => "http",
            AppProto::Tls => "tls",
            AppProto::Failed => "failed",
        }
    }
}

impl serde::Serialize for AppProto {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Direction of data within a flow, relative to the flow's initiator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    ToServer,
    ToClient,
}

impl Direction {
    /// Index for per-direction arrays (`[to_server, to_client]`).
    pub fn index(self) -> usize {
        match self {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        }
    }

    /// As EVE writes it in alerts (`"to_server"` / `"to_client"`).
    pub fn name(self) -> &'static str {
        match self {
            Direction::ToServer => "to_server",
            Direction::ToClient => "to_client",
        }
    }

    pub fn reverse(self) -> Direction {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }
}

/// An app-layer anomaly, named as in Suricata's `app-layer-event:` keyword
/// (`dns.malformed_data` is `AppEvent { proto: Dns, name: "malformed_data" }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AppEvent {
    pub proto: AppProto,
    pub name: &'static str,
}

impl AppEvent {
    /// The name a rule uses: `<proto>.<event>`.
    pub fn rule_name(&self) -> String {
        format!("{}.{}", self.proto.name(), self.name)
    }

    /// The `anomaly` object of the EVE record Suricata writes for this event:
    /// `{"type":"applayer","event":"malformed_data","layer":"proto_parser","app_proto":"dns"}`.
    /// The sensor adds the envelope and the top-level `tx_id` when the event
    /// belongs to a transaction.
    pub fn anomaly(&self) -> AnomalyInfo {
        AnomalyInfo {
            kind: "applayer",
            event: self.name,
            app_proto: Some(self.proto.name().to_string()),
            layer: Some("proto_parser"),
        }
    }
}

/// Does this UDP payload look like a DNS message (either direction)?
pub fn probe_dns_udp(payload: &[u8]) -> bool {
    dns::probe_udp(payload).is_some()
}

/// Does the start of this TCP stream look like a length-prefixed DNS message?
/// A prefix too short to decide answers `false`; see [`dns::probe_tcp`] to
/// tell "not DNS" from "need more bytes".
pub fn probe_dns_tcp(stream_start: &[u8]) -> bool {
    matches!(dns::probe_tcp(stream_start), dns::Probe::Dns(_))
}

/// Does the start of this TCP stream (either direction) look like TLS: a
/// ClientHello or ServerHello record, or an SSLv2 ClientHello? A prefix too
/// short to decide answers `false`; see [`tls::probe`] to tell "not TLS"
/// from "need more bytes".
pub fn probe_tls(stream_start: &[u8]) -> bool {
    matches!(tls::probe(stream_start), tls::Probe::Tls(_))
}
