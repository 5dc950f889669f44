//! The HTTPS transport against a small in-test HTTPS server (rustls, a self-signed
//! certificate): trust options, headers and body, every status of the API contract, odd
//! replies, timeouts, and the shipper splitting a batch the hub finds too large.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use watchfloor_ship::batch::{decompress, parse_ndjson};
use watchfloor_ship::http::{fingerprint_hex, parse_fingerprint};
use watchfloor_ship::{
    BatchBuilder, BatchConfig, HttpConfig, HttpTransport, Shipper, ShipperConfig, Spool, Step,
    SystemClock, Transport, Trust,
};

#[derive(Debug, Clone, Default)]
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

enum Reply {
    Status {
        code: u16,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    },
    /// Close the connection without a word.
    Hangup,
    /// Say nothing for this long, then close.
    Stall(Duration),
}

fn json(code: u16, body: &str) -> Reply {
    Reply::Status {
        code,
        headers: vec![("Content-Type", "application/json".into())],
        body: body.as_bytes().to_vec(),
    }
}

type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

struct Stub {
    url: String,
    cert_der: Vec<u8>,
    cert_pem: String,
    seen: Arc<Mutex<Vec<Request>>>,
}

fn stub(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Stub {
    let ck =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert_der = ck.cert.der().to_vec();
    let cert_pem = ck.cert.pem();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.key_pair.serialize_der()));
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![CertificateDer::from(cert_der.clone())], key)
    .unwrap();
    let cfg = Arc::new(cfg);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let handler: Handler = Arc::new(handler);
    let seen2 = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(tcp) = conn else { continue };
            let (cfg, handler, seen) = (cfg.clone(), handler.clone(), seen2.clone());
            std::thread::spawn(move || serve(tcp, cfg, handler, seen));
        }
    });
    Stub {
        url: format!("https://localhost:{port}"),
        cert_der,
        cert_pem,
        seen,
    }
}

fn serve(
    tcp: TcpStream,
    cfg: Arc<rustls::ServerConfig>,
    handler: Handler,
    seen: Arc<Mutex<Vec<Request>>>,
) {
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(conn) = rustls::ServerConnection::new(cfg) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let mut r = BufReader::new(&mut tls);
    let mut req = Request::default();
    let mut line = String::new();
    if r.read_line(&mut line).unwrap_or(0) == 0 {
        return; // handshake refused by the client, or nothing sent
    }
    let mut parts = line.split_whitespace();
    req.method = parts.next().unwrap_or("").into();
    req.path = parts.next().unwrap_or("").into();
    let mut len = 0usize;
    loop {
        line.clear();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
            req.headers.push((k.trim().into(), v.trim().into()));
        }
    }
    req.body = vec![0; len];
    if r.read_exact(&mut req.body).is_err() {
        return;
    }
    drop(r);
    let reply = handler(&req);
    seen.lock().unwrap().push(req);
    match reply {
        Reply::Hangup => {}
        Reply::Stall(d) => std::thread::sleep(d),
        Reply::Status {
            code,
            headers,
            body,
        } => {
            let mut out = format!("HTTP/1.1 {code} X\r\nConnection: close\r\n");
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
            let _ = tls.write_all(out.as_bytes());
            let _ = tls.write_all(&body);
            let _ = tls.flush();
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    }
}

fn fp_trust(s: &Stub) -> Trust {
    Trust::Fingerprint(parse_fingerprint(&fingerprint_hex(&s.cert_der)).unwrap())
}

fn transport(s: &Stub, trust: Trust) -> HttpTransport {
    let mut cfg = HttpConfig::new(&s.url, "wfs_1_secret", trust);
    cfg.timeout = Duration::from_secs(2);
    cfg.connect_timeout = Duration::from_secs(2);
    HttpTransport::new(&cfg).unwrap()
}

fn batch(n: u64) -> watchfloor_ship::Batch {
    let es: Vec<_> = (1..=n)
        .map(|seq| watchfloor_ship::Entry::Record {
            seq,
            payload: format!(
                r#"{{"timestamp":"2024-11-05T06:00:00.000000+0000","event_type":"flow","n":{seq}}}"#
            )
            .into_bytes(),
        })
        .collect();
    BatchBuilder::new("7", BatchConfig::default())
        .build(&es)
        .unwrap()
        .unwrap()
}

#[test]
fn ingest_sends_the_contract_and_reads_the_ack() {
    let s = stub(|req| match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/api/v1/ingest") => json(200, r#"{"acked_seq":3,"stored":3,"duplicates":0}"#),
        ("GET", "/api/v1/ack") => json(200, r#"{"acked_seq":3,"sensor_id":7,"sensor":"office-1"}"#),
        ("POST", "/api/v1/heartbeat") => Reply::Status {
            code: 204,
            headers: vec![],
            body: vec![],
        },
        _ => json(404, r#"{"error":"no such route"}"#),
    });
    let mut t = transport(&s, fp_trust(&s));
    let b = batch(3);
    assert_eq!(t.send(&b).unwrap().highest_stored, 3);
    let info = t.ack().unwrap();
    assert_eq!(
        (info.acked_seq, info.sensor_id, info.sensor.as_deref()),
        (3, Some(7), Some("office-1"))
    );
    t.heartbeat(&serde_json::json!({"packets": 12, "spool_depth": 0}))
        .unwrap();
    let seen = s.seen.lock().unwrap();
    let ingest = &seen[0];
    assert_eq!(ingest.header("authorization"), Some("Bearer wfs_1_secret"));
    assert_eq!(ingest.header("content-type"), Some("application/x-ndjson"));
    assert_eq!(ingest.header("content-encoding"), Some("zstd"));
    assert_eq!(ingest.body, b.body);
    let envs = parse_ndjson(&decompress(&ingest.body, 1 << 20).unwrap())
        .unwrap()
        .len();
    assert_eq!(envs, 3);
    assert_eq!(seen[1].header("authorization"), Some("Bearer wfs_1_secret"));
    let hb: serde_json::Value = serde_json::from_slice(&seen[2].body).unwrap();
    assert_eq!(hb["packets"], 12);
    assert_eq!(seen[2].header("content-type"), Some("application/json"));
}

#[test]
fn trust_by_pem_file_and_refusal_of_other_certificates() {
    let s = stub(|_| json(200, r#"{"acked_seq":1}"#));
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("hub.pem");
    std::fs::write(&pem, &s.cert_pem).unwrap();
    let mut t = transport(&s, Trust::Pem(pem));
    assert_eq!(t.send(&batch(1)).unwrap().highest_stored, 1);

    // Another certificate pinned: the TLS handshake fails, transiently (an operator may
    // fix the hub's certificate; the spool keeps everything meanwhile).
    let mut t = transport(&s, Trust::Fingerprint([7; 32]));
    let e = t.send(&batch(1)).unwrap_err();
    assert!(!e.permanent, "{e:?}");
    assert!(e.message.contains("pinned"), "{}", e.message);

    // The system's roots do not know a self-signed hub.
    if let Ok(mut t) = HttpTransport::new(&HttpConfig::new(&s.url, "t", Trust::System)) {
        let e = t.send(&batch(1)).unwrap_err();
        assert!(!e.permanent && e.message.contains("cannot reach"), "{e:?}");
    }
    // Only the first request got through the handshake.
    assert_eq!(s.seen.lock().unwrap().len(), 1);
}

#[test]
fn statuses_map_to_permanent_transient_and_retry_after() {
    // (status, Retry-After, permanent, too_large, wait)
    type Case = (u16, Option<&'static str>, bool, bool, Option<u64>);
    let cases: [Case; 9] = [
        (401, None, true, false, None),
        (403, None, true, false, None),
        (400, None, true, false, None),
        (413, None, true, true, None),
        (415, None, true, false, None),
        (404, None, true, false, None),
        (429, Some("7"), false, false, Some(7)),
        (503, Some("2"), false, false, Some(2)),
        (500, None, false, false, None),
    ];
    for (code, ra, permanent, too_large, wait) in cases {
        let ra = ra.map(str::to_string);
        let s = stub(move |_| Reply::Status {
            code,
            headers: ra
                .iter()
                .map(|v| ("Retry-After", v.clone()))
                .chain([("Content-Type", "application/json".into())])
                .collect(),
            body: br#"{"error":"because","line":4}"#.to_vec(),
        });
        let mut t = transport(&s, fp_trust(&s));
        let e = t.send(&batch(2)).unwrap_err();
        assert_eq!(
            (e.permanent, e.too_large, e.retry_after),
            (permanent, too_large, wait.map(Duration::from_secs)),
            "HTTP {code}: {e:?}"
        );
        assert!(e.message.contains(&format!("HTTP {code}")), "{}", e.message);
        assert!(e.message.contains("because (line 4)"), "{}", e.message);
    }
}

#[test]
fn odd_replies_are_transient_never_a_panic() {
    let bodies: [&[u8]; 5] = [
        b"",
        b"garbage\x00\xff",
        br#"{"acked_seq":-1}"#,
        br#"{"acked_seq":"12"}"#,
        br#"[1,2,3]"#,
    ];
    for body in bodies {
        let body = body.to_vec();
        let s = stub(move |_| Reply::Status {
            code: 200,
            headers: vec![],
            body: body.clone(),
        });
        let mut t = transport(&s, fp_trust(&s));
        let e = t.send(&batch(1)).unwrap_err();
        assert!(
            !e.permanent && e.message.contains("no readable acked_seq"),
            "{e:?}"
        );
        assert!(t.ack().is_err());
    }
    // A hub that hangs up, or says nothing until the timeout.
    let s = stub(|_| Reply::Hangup);
    let e = transport(&s, fp_trust(&s)).send(&batch(1)).unwrap_err();
    assert!(!e.permanent, "{e:?}");
    let s = stub(|_| Reply::Stall(Duration::from_secs(5)));
    let t0 = Instant::now();
    let e = transport(&s, fp_trust(&s)).send(&batch(1)).unwrap_err();
    assert!(!e.permanent, "{e:?}");
    assert!(t0.elapsed() < Duration::from_secs(4), "{:?}", t0.elapsed());
    // Nobody listening.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut t = HttpTransport::new(&HttpConfig::new(
        format!("https://127.0.0.1:{port}"),
        "t",
        Trust::Fingerprint([0; 32]),
    ))
    .unwrap();
    let e = t.send(&batch(1)).unwrap_err();
    assert!(!e.permanent && e.message.contains("cannot reach"), "{e:?}");
}

#[test]
fn shipper_splits_a_batch_the_hub_finds_too_large() {
    // The hub takes at most 300 records a batch and stores idempotently.
    let stored = Arc::new(Mutex::new(std::collections::BTreeMap::<u64, Vec<u8>>::new()));
    let st = stored.clone();
    let s = stub(move |req| {
        let Ok(raw) = decompress(&req.body, 64 << 20) else {
            return json(400, r#"{"error":"bad zstd"}"#);
        };
        let Ok(envs) = parse_ndjson(&raw) else {
            return json(400, r#"{"error":"bad ndjson"}"#);
        };
        if envs.len() > 300 {
            return json(413, r#"{"error":"batch of too many records"}"#);
        }
        let mut st = st.lock().unwrap();
        for e in &envs {
            st.entry(e.seq).or_insert_with(|| e.event.to_vec());
        }
        let mut w = 0;
        while st.contains_key(&(w + 1)) {
            w += 1;
        }
        json(200, &format!(r#"{{"acked_seq":{w}}}"#))
    });
    let dir = tempfile::tempdir().unwrap();
    let spool = Mutex::new(Spool::open(dir.path(), Default::default()).unwrap());
    let mut want = Vec::new();
    for i in 0..1000u64 {
        let rec = format!(
            r#"{{"timestamp":"2024-11-05T06:00:00.000000+0000","event_type":"dns","i":{i}}}"#
        );
        spool.lock().unwrap().append(rec.as_bytes()).unwrap();
        want.push(rec.into_bytes());
    }
    let cfg = ShipperConfig {
        jitter_seed: Some(1),
        backoff_base: Duration::from_millis(1),
        ..Default::default()
    };
    let mut sh = Shipper::new(
        "7",
        transport(&s, fp_trust(&s)),
        SystemClock,
        BatchConfig::default(),
        cfg,
    );
    let mut steps = 0;
    while sh.step_shared(&spool).unwrap() != Step::Idle {
        steps += 1;
        assert!(steps < 50);
    }
    let st = stored.lock().unwrap();
    assert_eq!(st.len(), 1000);
    assert!(st.values().eq(want.iter()));
    assert_eq!(spool.lock().unwrap().stats().depth_records, 0);

    // A single record the hub refuses as too large: stop, report, trim nothing.
    let s = stub(|_| json(413, r#"{"error":"record too large"}"#));
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(dir.path(), Default::default()).unwrap();
    spool
        .append(br#"{"timestamp":"2024-11-05T06:00:00.000000+0000","event_type":"x"}"#)
        .unwrap();
    let mut sh = Shipper::new(
        "7",
        transport(&s, fp_trust(&s)),
        SystemClock,
        BatchConfig::default(),
        ShipperConfig::default(),
    );
    let e = sh.step(&mut spool).unwrap_err();
    assert!(e.to_string().contains("refused batch 1..=1"), "{e}");
    assert_eq!(spool.stats().depth_records, 1);
}
