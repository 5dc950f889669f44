//! Detection in the sensor: building the engine's view of packets, stream
//! data and transactions, and rendering its matches as EVE `alert` records.

pub mod alert;
pub mod indicators;
pub mod tx;

use crate::applayer::Envelope;
use crate::output::EveBuffer;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use watchfloor_decode::Packet;
use watchfloor_detect::{Alert, Ctx, Engine, FlowDetect, FlowInfo, Scratch, TxSource};
use watchfloor_eve::EveRecord;
use watchfloor_flow::{Direction, Flow};
use watchfloor_rules::FlowDir;

/// The rules a sensor runs and how its alerts are written.
#[derive(Debug, Clone)]
pub struct DetectSettings {
    pub engine: Arc<Engine>,
    /// classtype → description (`alert.category`).
    pub categories: Arc<HashMap<String, String>>,
    pub alert: alert::AlertOptions,
    /// Indicator sets (IP, domain, URL, JA3/JA4...), when any are loaded.
    pub indicators: Option<Arc<watchfloor_indicators::IndicatorSet>>,
}

/// The rules in force, replaceable while the sensor runs (SIGHUP). Workers
/// check the generation before each packet and pick up a new engine
/// between packets, so no packet is lost or half inspected by two engines.
#[derive(Debug)]
pub struct DetectHandle {
    current: RwLock<Arc<DetectSettings>>,
    generation: AtomicU64,
}

impl DetectHandle {
    pub fn new(s: DetectSettings) -> Arc<DetectHandle> {
        Arc::new(DetectHandle {
            current: RwLock::new(Arc::new(s)),
            generation: AtomicU64::new(0),
        })
    }

    /// Puts new rules in force for every packet workers take from now on.
    pub fn replace(&self, s: DetectSettings) {
        if let Ok(mut cur) = self.current.write() {
            *cur = Arc::new(s);
        }
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// How many times the rules were replaced.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn current(&self) -> Arc<DetectSettings> {
        match self.current.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

/// A worker's detection scratch space.
pub struct DetectWorker {
    /// The rules this worker runs now.
    pub settings: Arc<DetectSettings>,
    handle: Arc<DetectHandle>,
    generation: u64,
    pub scratch: Scratch,
    pub alerts: Vec<Alert>,
    /// Stream events of the packet being handled.
    pub stream_events: Vec<&'static str>,
    pub alert_count: u64,
}

impl DetectWorker {
    pub fn new(h: &Arc<DetectHandle>) -> DetectWorker {
        let generation = h.generation();
        let settings = h.current();
        DetectWorker {
            scratch: settings.engine.scratch(),
            settings,
            handle: h.clone(),
            generation,
            alerts: Vec::new(),
            stream_events: Vec::new(),
            alert_count: 0,
        }
    }

    /// Takes up replaced rules, if any (between packets). Flow state built
    /// by the old engine (flowbits, flowints) is dropped by the new one.
    pub fn refresh(&mut self) {
        let g = self.handle.generation();
        if g != self.generation {
            self.generation = g;
            self.settings = self.handle.current();
            self.scratch = self.settings.engine.scratch();
        }
    }
}

pub fn flow_dir(d: Direction) -> FlowDir {
    match d {
        Direction::ToServer => FlowDir::ToServer,
        Direction::ToClient => FlowDir::ToClient,
    }
}

/// What the engine needs to know of a flow, for data travelling in `dir`.
pub fn flow_info<U>(flow: &Flow<U>, dir: Direction, stream_bytes: [u64; 2]) -> FlowInfo<'static> {
    FlowInfo {
        flow_id: flow.flow_id(),
        dir: flow_dir(dir),
        established: flow.pkt_established(),
        app_proto: flow.app_proto,
        stream_bytes,
        proto_detected_now: false,
    }
}

/// The addresses as the data in `dir` travels.
pub fn ctx_for<'a, U>(
    flow: &Flow<U>,
    dir: Direction,
    ts_ns: i64,
    pkt: Option<&'a Packet<'a>>,
    stream_bytes: [u64; 2],
    stream_events: &'a [&'static str],
) -> Ctx<'a> {
    // Until a requested swap happens the flow's fields are the old way round.
    let eff = if flow.swap_pending() {
        dir.reverse()
    } else {
        dir
    };
    let (src, dst, sp, dp) = match eff {
        Direction::ToServer => (
            flow.src_ip(),
            flow.dst_ip(),
            flow.src_port(),
            flow.dst_port(),
        ),
        Direction::ToClient => (
            flow.dst_ip(),
            flow.src_ip(),
            flow.dst_port(),
            flow.src_port(),
        ),
    };
    Ctx {
        ts_ns,
        src,
        dst,
        sp,
        dp,
        proto: flow.proto(),
        ip_version: if src.is_ipv4() { 4 } else { 6 },
        pkt,
        flow: Some(flow_info(flow, dir, stream_bytes)),
        stream_events,
        hdrs: None,
        payload: &[],
    }
}

/// Where records go, with the detection hook app-layer code calls when a
/// transaction is ready.
pub struct Emit<'a> {
    pub eve: &'a mut EveBuffer,
    pub detect: Option<&'a mut DetectWorker>,
    pub flow_detect: Option<&'a mut FlowDetect>,
    pub stream_bytes: [u64; 2],
    /// An alert was written for the flow (its record says `alerted`).
    pub alerted: bool,
    /// The bytes being handled (UDP payload or TCP stream chunk): payload
    /// contents of app-layer rules inspect them.
    pub payload: &'a [u8],
}

impl Emit<'_> {
    pub fn push(&mut self, rec: &EveRecord) {
        self.eve.push(rec);
    }

    /// Runs the app-layer rules on a transaction and writes their alerts.
    /// `app_obj` renders the transaction's EVE object for the alert.
    /// Returns false when a `config` rule (`config: logging disable, type
    /// tx, scope tx`) matched: the transaction's own record is not written.
    #[allow(clippy::too_many_arguments)]
    pub fn tx<U>(
        &mut self,
        flow: &Flow<U>,
        app: &'static str,
        dir: Direction,
        tx_id: u64,
        src: &dyn TxSource,
        env: &Envelope,
        app_obj: &dyn Fn() -> Option<(&'static str, Box<serde_json::value::RawValue>)>,
    ) -> bool {
        let Some(w) = self.detect.as_deref_mut() else {
            return true;
        };
        let s = w.settings.clone();
        let s = &*s;
        w.alerts.clear();
        let mut ctx = ctx_for(flow, dir, env.ts_ns, None, self.stream_bytes, &[]);
        ctx.payload = self.payload;
        let mut alerts = std::mem::take(&mut w.alerts);
        s.engine.inspect_tx(
            &ctx,
            app,
            flow_dir(dir),
            tx_id,
            src,
            self.flow_detect.as_deref_mut(),
            &mut w.scratch,
            &mut alerts,
        );
        let mut log_tx = true;
        let fd = &mut self.flow_detect;
        alerts.retain(|a| {
            let sig = s.engine.sig(a.rule);
            if sig.header.action == watchfloor_rules::Action::Config {
                if sig.config.as_deref().is_some_and(disables_tx_logging) {
                    log_tx = false;
                    if let Some(f) = fd.as_deref_mut() {
                        f.mark_unlogged(tx_id);
                    }
                }
                return false;
            }
            true
        });
        if !alerts.is_empty() && s.alert.enabled {
            let obj = app_obj();
            for a in &alerts {
                let ev = alert::Evidence {
                    ip_v: Some(if flow.src_ip().is_ipv4() { 4 } else { 6 }),
                    ..Default::default()
                };
                let rec = alert::render(s, a, flow, dir, env, obj.as_ref(), &ev);
                self.eve.push(&rec);
            }
            w.alert_count += alerts.len() as u64;
            self.alerted = true;
        }
        alerts.clear();
        w.alerts = alerts;
        if let Some(set) = &s.indicators {
            let mut hits: Vec<&watchfloor_indicators::Indicator> = Vec::new();
            indicators::tx_hits(set, app, flow_dir(dir), src, &mut hits);
            if !hits.is_empty() && s.alert.enabled {
                let obj = app_obj();
                let ev = alert::Evidence {
                    ip_v: None,
                    ..Default::default()
                };
                for ind in &hits {
                    let mut rec =
                        alert::render_indicator(s, ind, flow, dir, env, obj.as_ref(), &ev);
                    rec.tx_id = Some(tx_id);
                    self.eve.push(&rec);
                }
                w.alert_count += hits.len() as u64;
                self.alerted = true;
            }
        }
        log_tx
    }
}

/// `config: logging disable, type tx, scope tx` (the only config rule
/// Suricata implements): the transaction is not logged.
fn disables_tx_logging(cfg: &str) -> bool {
    let mut disable = false;
    let mut tx = false;
    for part in cfg.split(',').map(str::trim) {
        let mut kv = part.split_whitespace();
        match (kv.next(), kv.next()) {
            (Some("logging"), Some("disable")) => disable = true,
            (Some("type"), Some("tx")) => tx = true,
            _ => {}
        }
    }
    disable && tx
}

/// Writes the alerts a packet or stream inspection produced.
#[allow(clippy::too_many_arguments)]
pub fn write_alerts<U>(
    s: &DetectSettings,
    w: &mut DetectWorker,
    flow: Option<&mut Flow<U>>,
    dir: Direction,
    env: &Envelope,
    out: &mut EveBuffer,
    ev: &alert::Evidence<'_>,
    pkt_rec: &dyn Fn() -> EveRecord,
) {
    if w.alerts.is_empty() {
        return;
    }
    if !s.alert.enabled {
        if let Some(f) = flow {
            f.alerted = true;
        }
        w.alerts.clear();
        return;
    }
    w.alert_count += w.alerts.len() as u64;
    match flow {
        Some(flow) => {
            for a in &w.alerts {
                out.push(&alert::render(s, a, flow, dir, env, None, ev));
            }
            flow.alerted = true;
        }
        None => {
            for a in &w.alerts {
                let mut rec = pkt_rec();
                alert::fill(s, a, &mut rec, ev);
                out.push(&rec);
            }
        }
    }
    w.alerts.clear();
}
