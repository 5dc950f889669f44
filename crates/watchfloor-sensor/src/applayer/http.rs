//! HTTP in the sensor: one EVE `http` record per transaction, written when
//! both sides of it are complete (or the flow ends), as Suricata does.

use super::{anomaly, app_dir, envelope, Envelope};
use crate::detect::Emit;
use watchfloor_applayer::http::{self, HttpConfig, HttpEveOptions, HttpState, HttpTx};
use watchfloor_applayer::Direction as AppDir;
use watchfloor_eve::EventBody;
use watchfloor_flow::{Direction, Flow};

#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub enabled: bool,
    pub config: HttpConfig,
    /// `None` when http records are not logged.
    pub eve: Option<HttpEveOptions>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            enabled: true,
            config: HttpConfig::default(),
            eve: Some(HttpEveOptions::default()),
        }
    }
}

#[derive(Debug)]
pub struct HttpFlow {
    pub state: HttpState,
    /// Requests whose to-server rules have run (tx ids below this).
    requests_inspected: u64,
    /// Transactions a `config` rule said not to log.
    unlogged: Vec<u64>,
}

impl HttpSettings {
    pub fn new_flow(&self) -> HttpFlow {
        HttpFlow {
            state: HttpState::new(self.config.clone()),
            requests_inspected: 0,
            unlogged: Vec::new(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn on_data<U>(
        &self,
        flow: &Flow<U>,
        h: &mut HttpFlow,
        dir: Direction,
        data: &[u8],
        env: &Envelope,
        out: &mut Emit<'_>,
        anomalies: bool,
    ) {
        // After CONNECT or an upgrade the bytes are another protocol's.
        if h.state.handover().is_some() {
            return;
        }
        h.state.parse(app_dir(dir), data);
        if out.detect.is_some() {
            self.inspect_requests(flow, h, env, out);
        }
        let done = h.state.take_complete();
        self.emit(
            flow,
            &done,
            h.requests_inspected,
            &mut h.unlogged,
            env,
            out,
            anomalies,
        );
        if anomalies {
            self.emit_orphans(flow, h, env, out);
        }
    }

    /// To-server rules run on a request as soon as it is complete (as
    /// Suricata inspects per direction), not when its response is in.
    fn inspect_requests<U>(
        &self,
        flow: &Flow<U>,
        h: &mut HttpFlow,
        env: &Envelope,
        out: &mut Emit<'_>,
    ) {
        for tx in h.state.transactions() {
            if tx.tx_id < h.requests_inspected || !tx.request_complete {
                continue;
            }
            if tx.tx_id != h.requests_inspected {
                break;
            }
            h.requests_inspected = tx.tx_id + 1;
            let obj = || self.alert_obj(tx);
            let src = crate::detect::tx::HttpSrc(tx);
            if !out.tx(flow, "http", Direction::ToServer, tx.tx_id, &src, env, &obj) {
                h.unlogged.push(tx.tx_id);
            }
        }
    }

    fn alert_obj(&self, tx: &HttpTx) -> Option<(&'static str, Box<serde_json::value::RawValue>)> {
        let dflt;
        let opts = match &self.eve {
            Some(o) => o,
            None => {
                dflt = http::HttpEveOptions::default();
                &dflt
            }
        };
        serde_json::value::to_raw_value(&http::HttpEveRecord { tx, opts })
            .ok()
            .map(|v| ("http", v))
    }

    pub fn on_gap(&self, h: &mut HttpFlow, dir: Direction, len: u64) {
        // A gap the parser cannot recover from marks that direction failed;
        // nothing else to do here.
        let _ = h.state.gap(app_dir(dir), len);
    }

    pub fn on_end<U>(
        &self,
        flow: &Flow<U>,
        h: &mut HttpFlow,
        env: &Envelope,
        out: &mut Emit<'_>,
        anomalies: bool,
    ) {
        h.state.close(AppDir::ToServer);
        h.state.close(AppDir::ToClient);
        let rest: Vec<HttpTx> = h.state.drain().collect();
        self.emit(
            flow,
            &rest,
            h.requests_inspected,
            &mut h.unlogged,
            env,
            out,
            anomalies,
        );
        if anomalies {
            self.emit_orphans(flow, h, env, out);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn emit<U>(
        &self,
        flow: &Flow<U>,
        txs: &[HttpTx],
        requests_inspected: u64,
        unlogged: &mut Vec<u64>,
        env: &Envelope,
        out: &mut Emit<'_>,
        anomalies: bool,
    ) {
        for tx in txs {
            let mut log = true;
            if let Some(i) = unlogged.iter().position(|t| *t == tx.tx_id) {
                unlogged.swap_remove(i);
                log = false;
            }
            if out.detect.is_some() {
                let obj = || self.alert_obj(tx);
                let src = crate::detect::tx::HttpSrc(tx);
                // To-server rules ran when the request completed, unless it
                // completed only now (flow end).
                if tx.tx_id >= requests_inspected {
                    log &= out.tx(flow, "http", Direction::ToServer, tx.tx_id, &src, env, &obj);
                }
                log &= out.tx(flow, "http", Direction::ToClient, tx.tx_id, &src, env, &obj);
            }
            if let (Some(opts), true) = (&self.eve, log) {
                // An HTTP record describes the exchange: addresses in flow direction.
                let mut rec = envelope(
                    flow,
                    Direction::ToServer,
                    env,
                    EventBody::app_serialize("http", &http::HttpEveRecord { tx, opts }),
                );
                rec.tx_id = Some(tx.tx_id);
                rec.pkt_src = Some("wire/pcap");
                out.push(&rec);
            }
            if anomalies {
                for ev in tx.app_events() {
                    let mut rec = anomaly(flow, Direction::ToServer, env, ev);
                    rec.tx_id = Some(tx.tx_id);
                    out.push(&rec);
                }
            }
        }
    }

    fn emit_orphans<U>(
        &self,
        flow: &Flow<U>,
        h: &mut HttpFlow,
        env: &Envelope,
        out: &mut Emit<'_>,
    ) {
        for ev in h.state.take_orphan_events() {
            out.push(&anomaly(flow, Direction::ToServer, env, ev.into()));
        }
    }
}

/// HTTP settings from `app-layer.protocols.http.*` and the eve `http` type.
pub fn http_settings(c: &crate::SensorConfig, enabled: bool) -> HttpSettings {
    let eve = &c.outputs.eve_log;
    HttpSettings {
        enabled,
        config: http_config(c),
        eve: eve.enabled("http").then(|| {
            let opts = eve
                .types
                .get("http")
                .and_then(|t| serde_json::to_value(t).ok())
                .unwrap_or(serde_json::Value::Null);
            HttpEveOptions::from_config(&opts)
        }),
    }
}

/// `app-layer.protocols.http.libhtp.default-config.*`, the memory caps a
/// Suricata user already sets: body limits (sizes such as `1mb`) and the
/// decompression layer limit.
fn http_config(c: &crate::SensorConfig) -> HttpConfig {
    let mut cfg = HttpConfig::default();
    let Some(dc) = c
        .app_layer
        .protocols
        .get("http")
        .and_then(|t| t.get("libhtp"))
        .and_then(toml::Value::as_table)
        .and_then(|t| t.get("default-config"))
        .and_then(toml::Value::as_table)
    else {
        return cfg;
    };
    let size = |k: &str| -> Option<usize> {
        match dc.get(k)? {
            toml::Value::Integer(i) => usize::try_from(*i).ok(),
            toml::Value::String(s) => {
                crate::config::parse_size(s).and_then(|v| usize::try_from(v).ok())
            }
            _ => None,
        }
    };
    if let Some(v) = size("request-body-limit") {
        cfg.request_body_limit = v;
    }
    if let Some(v) = size("response-body-limit") {
        cfg.response_body_limit = v;
    }
    if let Some(v) = size("response-body-decompress-layer-limit") {
        cfg.decompress_layer_limit = v;
    }
    cfg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suricata_body_limits_are_read() {
        let mut c = crate::SensorConfig::from_toml(
            "[app-layer.protocols.http.libhtp.default-config]\nrequest-body-limit = \"64kb\"\nresponse-body-limit = 1000\n",
        )
        .unwrap();
        let cfg = http_config(&c);
        assert_eq!(cfg.request_body_limit, 65_536);
        assert_eq!(cfg.response_body_limit, 1000);
        c.apply_set("app-layer.protocols.http.libhtp.default-config.response-body-limit=1mb")
            .unwrap();
        assert_eq!(http_config(&c).response_body_limit, 1 << 20);
        assert!(!http_settings(&c, false).enabled);
    }
}
