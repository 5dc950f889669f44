//! TLS in the sensor: settings, and one EVE `tls` record per session, written
//! when the handshake is done (or the flow ends first), as Suricata does.

use super::{anomaly, app_dir, envelope, Envelope};
use crate::detect::Emit;
use watchfloor_applayer::tls::{self, EncryptionHandling, TlsConfig, TlsEveOptions, TlsState};
use watchfloor_eve::EventBody;
use watchfloor_flow::{Direction, Flow};

#[derive(Debug, Clone)]
pub struct TlsSettings {
    pub enabled: bool,
    pub config: TlsConfig,
    /// `None` when tls records are not logged.
    pub eve: Option<TlsEveOptions>,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            enabled: true,
            config: TlsConfig::default(),
            eve: Some(TlsEveOptions::default()),
        }
    }
}

/// A TLS session and whether its record was written.
#[derive(Debug)]
pub struct TlsFlow {
    pub state: TlsState,
    logged: bool,
    /// App-layer events already written as anomaly records.
    events_logged: usize,
}

/// Reads `app-layer.protocols.tls.*`: `ja3-fingerprints` / `ja4-fingerprints`
/// (yes, no, or auto — auto is off until rules ask for them, as in Suricata;
/// Watchfloor's default when unset is yes, because the hub's baselines learn
/// fingerprints) and `encryption-handling`.
pub fn tls_config(proto: Option<&toml::Table>) -> TlsConfig {
    let flag = |name: &str| match proto.and_then(|t| t.get(name)) {
        None => true,
        Some(toml::Value::Boolean(b)) => *b,
        Some(toml::Value::String(s)) => matches!(s.as_str(), "yes" | "true" | "on"),
        Some(_) => false,
    };
    let handling = match proto
        .and_then(|t| t.get("encryption-handling"))
        .and_then(toml::Value::as_str)
    {
        Some("bypass") => EncryptionHandling::Bypass,
        Some("full") => EncryptionHandling::Full,
        _ => EncryptionHandling::TrackOnly,
    };
    let mut cfg = TlsConfig {
        ja3_fingerprints: flag("ja3-fingerprints"),
        ja4_fingerprints: flag("ja4-fingerprints"),
        encryption_handling: handling,
        ..TlsConfig::default()
    };
    // Watchfloor's per-flow cap on one buffered handshake message.
    let cap = match proto.and_then(|t| t.get("max-handshake-message")) {
        Some(toml::Value::Integer(i)) => usize::try_from(*i).ok(),
        Some(toml::Value::String(s)) => {
            crate::config::parse_size(s).and_then(|v| usize::try_from(v).ok())
        }
        _ => None,
    };
    if let Some(v) = cap {
        cfg.max_handshake_message = v;
    }
    cfg
}

impl TlsSettings {
    pub fn new_flow(&self) -> TlsFlow {
        TlsFlow {
            state: TlsState::new(self.config.clone()),
            logged: false,
            events_logged: 0,
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn on_data<U>(
        &self,
        flow: &Flow<U>,
        t: &mut TlsFlow,
        dir: Direction,
        data: &[u8],
        env: &Envelope,
        out: &mut Emit<'_>,
        anomalies: bool,
    ) {
        // A parse error is also recorded as an event on the state.
        let _ = t.state.parse(app_dir(dir), data);
        if anomalies {
            self.emit_events(flow, t, dir, env, out);
        }
        if !t.logged && t.state.log_ready() {
            self.log(flow, t, env, out);
        }
    }

    pub fn on_end<U>(&self, flow: &Flow<U>, t: &mut TlsFlow, env: &Envelope, out: &mut Emit<'_>) {
        t.state.eof();
        if !t.logged {
            self.log(flow, t, env, out);
        }
    }

    fn log<U>(&self, flow: &Flow<U>, t: &mut TlsFlow, env: &Envelope, out: &mut Emit<'_>) {
        t.logged = true;
        if out.detect.is_some() {
            let state = &t.state;
            let obj = || {
                let dflt;
                let opts = match &self.eve {
                    Some(o) => o,
                    None => {
                        dflt = tls::TlsEveOptions::default();
                        &dflt
                    }
                };
                serde_json::value::to_raw_value(&tls::TlsEveRecord { state, opts })
                    .ok()
                    .map(|v| ("tls", v))
            };
            let src = crate::detect::tx::TlsSrc(state);
            let mut log = true;
            for dir in [Direction::ToServer, Direction::ToClient] {
                log &= out.tx(flow, "tls", dir, 0, &src, env, &obj);
            }
            if !log {
                return;
            }
        }
        let Some(opts) = &self.eve else { return };
        if !tls::eve::should_log(&t.state, opts) {
            return;
        }
        // A TLS record describes the session: addresses in flow direction.
        let mut rec = envelope(
            flow,
            Direction::ToServer,
            env,
            EventBody::app_serialize(
                "tls",
                &tls::TlsEveRecord {
                    state: &t.state,
                    opts,
                },
            ),
        );
        rec.pkt_src = Some("wire/pcap");
        out.push(&rec);
    }

    fn emit_events<U>(
        &self,
        flow: &Flow<U>,
        t: &mut TlsFlow,
        dir: Direction,
        env: &Envelope,
        out: &mut Emit<'_>,
    ) {
        let events: Vec<_> = t.state.app_events().skip(t.events_logged).collect();
        t.events_logged += events.len();
        for ev in events {
            out.push(&anomaly(flow, dir, env, ev));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_keys_are_read() {
        let c = crate::SensorConfig::from_toml(
            "[app-layer.protocols.tls]\nja3-fingerprints = \"auto\"\nencryption-handling = \"bypass\"\nmax-handshake-message = \"64kb\"\n",
        )
        .unwrap();
        let cfg = tls_config(c.app_layer.protocols.get("tls"));
        assert!(!cfg.ja3_fingerprints);
        assert!(cfg.ja4_fingerprints);
        assert_eq!(cfg.encryption_handling, EncryptionHandling::Bypass);
        assert_eq!(cfg.max_handshake_message, 65_536);
        let d = crate::applayer::dns_config(
            &crate::SensorConfig::from_toml(
                "[app-layer.protocols.dns]\ntcp-buffer-cap = \"16kb\"\nmax-transactions = 8\n",
            )
            .unwrap(),
        );
        assert_eq!(d.tcp_buffer_cap, 16_384);
        assert_eq!(d.max_transactions, 8);
    }
}
