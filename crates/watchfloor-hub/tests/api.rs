//! Every API path over real HTTPS against SQLite: success, replay, each error answer.

mod common;

use common::fault::{Faults, FaultyStore};
use common::*;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

#[test]
fn batch_is_stored_and_replay_is_acknowledged_without_duplicates() {
    let hub = TestHub::start();
    let (sensor, token) = hub.enroll("pa-phl-01");
    assert_eq!(hub.acked(&token), 0);
    let body = batch(&sensor.id.to_string(), 1..=500);
    let r = hub.ingest(&token, body.clone());
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().unwrap();
    assert_eq!(
        v,
        serde_json::json!({"acked_seq": 500, "stored": 500, "duplicates": 0})
    );
    let r = hub.ingest(&token, body);
    let v: serde_json::Value = r.json().unwrap();
    assert_eq!(
        v,
        serde_json::json!({"acked_seq": 500, "stored": 0, "duplicates": 500})
    );
    assert_eq!(hub.count_events(&sensor), 500);
    assert_eq!(hub.acked(&token), 500);
    // The envelope may name the sensor by its enrolled name too.
    let r = hub.ingest(&token, batch("pa-phl-01", 501..=510));
    assert_eq!(r.status(), 200);
    assert_eq!(hub.acked(&token), 510);
}

#[test]
fn ack_reports_sensor_identity_and_gaps_hold_the_watermark() {
    let hub = TestHub::start();
    let (sensor, token) = hub.enroll("s1");
    let id = sensor.id.to_string();
    let r = hub.ingest(&token, batch(&id, 5..=9));
    let v: serde_json::Value = r.json().unwrap();
    assert_eq!(v["acked_seq"], 0, "1..=4 missing");
    assert_eq!(v["stored"], 5);
    let r = hub
        .client
        .get(hub.url("/api/v1/ack"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    let v: serde_json::Value = r.json().unwrap();
    assert_eq!(
        v,
        serde_json::json!({"acked_seq": 0, "sensor_id": sensor.id, "sensor": "s1"})
    );
    hub.ingest(&token, batch(&id, 1..=4));
    assert_eq!(hub.acked(&token), 9);
}

#[test]
fn missing_bad_and_revoked_tokens_are_401() {
    let hub = TestHub::start();
    let (sensor, token) = hub.enroll("s1");
    let body = batch(&sensor.id.to_string(), 1..=3);
    let r = hub
        .client
        .post(hub.url("/api/v1/ingest"))
        .header("Content-Type", "application/x-ndjson")
        .header("Content-Encoding", "zstd")
        .body(body.clone())
        .send()
        .unwrap();
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    let (status, v) = error_of(r);
    assert_eq!(status, 401, "{v}");
    for bad in [
        "nonsense",
        "wfs_1_00",
        &format!("{}0", &token[..token.len() - 1]),
    ] {
        let (status, v) = error_of(hub.ingest(bad, body.clone()));
        assert_eq!(status, 401, "{bad}: {v}");
    }
    let r = hub.client.get(hub.url("/api/v1/ack")).send().unwrap();
    assert_eq!(r.status(), 401);
    let r = hub
        .client
        .post(hub.url("/api/v1/heartbeat"))
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    hub.rt
        .block_on(hub.store.revoke_sensor_token(sensor.id))
        .unwrap();
    let (status, v) = error_of(hub.ingest(&token, body));
    assert_eq!(status, 401, "{v}");
    assert_eq!(v["error"], "unknown or revoked token");
    assert_eq!(hub.count_events(&sensor), 0);
}

#[test]
fn another_sensors_envelope_is_403_with_its_line() {
    let hub = TestHub::start();
    let (a, token_a) = hub.enroll("a");
    let (b, _) = hub.enroll("b");
    let mut ndjson = Vec::new();
    let own = watchfloor_ship::EnvelopeWriter::new(&a.id.to_string());
    let other = watchfloor_ship::EnvelopeWriter::new(&b.id.to_string());
    own.write(1, &record(1), &mut ndjson).unwrap();
    own.write(2, &record(2), &mut ndjson).unwrap();
    other.write(3, &record(3), &mut ndjson).unwrap();
    let (status, v) = error_of(hub.ingest(&token_a, zstd_of(&ndjson)));
    assert_eq!(status, 403, "{v}");
    assert_eq!(v["line"], 3);
    assert_eq!(hub.count_events(&a), 0);
    assert_eq!(hub.count_events(&b), 0);
}

#[test]
fn malformed_zstd_is_400() {
    let hub = TestHub::start();
    let (_, token) = hub.enroll("s1");
    let (status, v) = error_of(hub.ingest(&token, b"definitely not zstd".to_vec()));
    assert_eq!(status, 400, "{v}");
    assert!(v["error"].as_str().unwrap().contains("zstd"), "{v}");
    assert!(v.get("line").is_none());
}

#[test]
fn malformed_ndjson_is_400_with_line_and_nothing_is_stored() {
    let hub = TestHub::start();
    let (sensor, token) = hub.enroll("s1");
    let w = watchfloor_ship::EnvelopeWriter::new(&sensor.id.to_string());
    let mut ndjson = Vec::new();
    w.write(1, &record(1), &mut ndjson).unwrap();
    w.write(2, &record(2), &mut ndjson).unwrap();
    ndjson.extend_from_slice(b"{\"sensor\":\"x\",\"seq\":\n");
    w.write(4, &record(4), &mut ndjson).unwrap();
    let (status, v) = error_of(hub.ingest(&token, zstd_of(&ndjson)));
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["line"], 3);
    assert!(v["error"].as_str().unwrap().starts_with("line 3:"), "{v}");

    // An envelope that parses but carries an invalid EVE record (no event_type): the store
    // refuses it with its line.
    let mut ndjson = Vec::new();
    w.write(1, &record(1), &mut ndjson).unwrap();
    w.write(
        2,
        br#"{"timestamp":"2024-11-05T06:00:00.000000+0000"}"#,
        &mut ndjson,
    )
    .unwrap();
    let (status, v) = error_of(hub.ingest(&token, zstd_of(&ndjson)));
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["line"], 2);
    assert_eq!(hub.count_events(&sensor), 0);
    assert_eq!(hub.acked(&token), 0);

    let (status, _) = error_of(hub.ingest(&token, zstd_of(b"")));
    assert_eq!(status, 400);
}

#[test]
fn oversize_batches_are_413() {
    let hub = TestHub::with(
        |c| {
            c.limits.max_compressed_bytes = 4096;
            c.limits.max_decompressed_bytes = 64 << 10;
            c.limits.max_records = 100;
        },
        |s| s,
    );
    let (sensor, token) = hub.enroll("s1");
    let id = sensor.id.to_string();
    // Over the compressed limit: random-ish bytes do not compress.
    let mut big = Vec::new();
    let mut x: u64 = 1;
    for _ in 0..10_000 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        big.push((x >> 56) as u8);
    }
    let (status, v) = error_of(hub.ingest(&token, big));
    assert_eq!(status, 413, "{v}");
    // Over the decompressed limit (a compressible batch).
    let (status, v) = error_of(hub.ingest(&token, zstd_of(&vec![b' '; 200 << 10])));
    assert_eq!(status, 413, "{v}");
    assert!(v["error"].as_str().unwrap().contains("decompresses"), "{v}");
    // Over the record limit.
    let (status, v) = error_of(hub.ingest(&token, batch(&id, 1..=101)));
    assert_eq!(status, 413, "{v}");
    // Without Content-Length (chunked), the body is still cut at the limit.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..8).map(|_| Ok(vec![0u8; 1024])).collect();
    let r = hub
        .client
        .post(hub.url("/api/v1/ingest"))
        .bearer_auth(&token)
        .header("Content-Type", "application/x-ndjson")
        .header("Content-Encoding", "zstd")
        .body(reqwest::blocking::Body::new(ChunkReader(
            chunks.into_iter(),
            Vec::new(),
        )))
        .send();
    // The hub answers as soon as the limit is passed and closes; the client may still be
    // sending and then sees the connection go instead of the answer.
    match r {
        Ok(r) => assert_eq!(r.status(), 413),
        Err(e) => assert!(e.is_body() || e.is_request(), "{e:?}"),
    }
    assert_eq!(hub.count_events(&sensor), 0);
    // At the limits it goes through.
    let r = hub.ingest(&token, batch(&id, 1..=100));
    assert_eq!(r.status(), 200);
}

/// A reader of unknown length, so reqwest sends the body chunked.
struct ChunkReader(std::vec::IntoIter<Result<Vec<u8>, std::io::Error>>, Vec<u8>);

impl std::io::Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.1.is_empty() {
            match self.0.next() {
                Some(Ok(c)) => self.1 = c,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.1.len());
        buf[..n].copy_from_slice(&self.1[..n]);
        self.1.drain(..n);
        Ok(n)
    }
}

#[test]
fn wrong_content_type_or_encoding_is_415() {
    let hub = TestHub::start();
    let (sensor, token) = hub.enroll("s1");
    let body = batch(&sensor.id.to_string(), 1..=3);
    for (ct, ce) in [
        (Some("application/json"), Some("zstd")),
        (None, Some("zstd")),
        (Some("application/x-ndjson"), Some("gzip")),
        (Some("application/x-ndjson"), None),
    ] {
        let mut req = hub
            .client
            .post(hub.url("/api/v1/ingest"))
            .bearer_auth(&token)
            .body(body.clone());
        if let Some(ct) = ct {
            req = req.header("Content-Type", ct);
        }
        if let Some(ce) = ce {
            req = req.header("Content-Encoding", ce);
        }
        let (status, v) = error_of(req.send().unwrap());
        assert_eq!(status, 415, "{ct:?} {ce:?}: {v}");
    }
    // Parameters and case are tolerated.
    let r = hub
        .client
        .post(hub.url("/api/v1/ingest"))
        .bearer_auth(&token)
        .header("Content-Type", "Application/X-NDJSON; charset=utf-8")
        .header("Content-Encoding", "ZSTD")
        .body(body)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn saturated_ingest_is_429_with_retry_after() {
    let faults = Arc::new(Faults::default());
    let f = faults.clone();
    let hub = Arc::new(TestHub::with(
        |c| {
            c.limits.ingest_concurrency = 1;
            c.limits.retry_after_secs = 3;
        },
        move |inner| Arc::new(FaultyStore { inner, faults: f }),
    ));
    let (sensor, token) = hub.enroll("s1");
    let id = sensor.id.to_string();
    faults.ingest_delay_ms.store(1500, Ordering::SeqCst);
    let slow = {
        let (hub, token, body) = (hub.clone(), token.clone(), batch(&id, 1..=10));
        std::thread::spawn(move || hub.ingest(&token, body).status().as_u16())
    };
    // Wait until the slow one holds the only permit.
    let mut in_flight = false;
    for _ in 0..100 {
        let m = hub
            .client
            .get(hub.url("/metrics"))
            .send()
            .unwrap()
            .text()
            .unwrap();
        if m.contains("watchfloor_hub_ingest_in_flight 1\n") {
            in_flight = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(in_flight);
    let r = hub.ingest(&token, batch(&id, 11..=20));
    assert_eq!(r.headers()["retry-after"], "3");
    let (status, _) = error_of(r);
    assert_eq!(status, 429);
    assert_eq!(slow.join().unwrap(), 200);
    faults.ingest_delay_ms.store(0, Ordering::SeqCst);
    assert_eq!(hub.ingest(&token, batch(&id, 11..=20)).status(), 200);
    assert_eq!(hub.acked(&token), 20);
}

#[test]
fn transient_store_failure_is_503_with_retry_after_and_readyz_follows() {
    let faults = Arc::new(Faults::default());
    let f = faults.clone();
    let hub = TestHub::with(
        |_| {},
        move |inner| Arc::new(FaultyStore { inner, faults: f }),
    );
    let (sensor, token) = hub.enroll("s1");
    let body = batch(&sensor.id.to_string(), 1..=10);
    assert_eq!(
        hub.client.get(hub.url("/readyz")).send().unwrap().status(),
        200
    );
    faults.down.store(true, Ordering::SeqCst);
    let r = hub.ingest(&token, body.clone());
    assert_eq!(r.headers()["retry-after"], "1");
    let (status, v) = error_of(r);
    assert_eq!(status, 503, "{v}");
    let r = hub.client.get(hub.url("/readyz")).send().unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(
        hub.client.get(hub.url("/healthz")).send().unwrap().status(),
        200
    );
    faults.down.store(false, Ordering::SeqCst);
    assert_eq!(hub.ingest(&token, body).status(), 200);
    let m = hub
        .client
        .get(hub.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        m.contains("watchfloor_hub_ingest_requests_total{status=\"503\"} 1\n"),
        "{m}"
    );
    assert!(m.contains("watchfloor_hub_store_errors_total 2\n"), "{m}");
}

#[test]
fn heartbeat_marks_the_sensor_live() {
    let hub = TestHub::start();
    let (sensor, token) = hub.enroll("s1");
    let list = |hub: &TestHub| {
        hub.rt
            .block_on(
                hub.store
                    .list_sensors(None, now(), Duration::from_secs(180)),
            )
            .unwrap()
    };
    assert!(list(&hub)[0].stale, "never heard from");
    let counters = serde_json::json!({"packets": 10, "drops": 0, "decode_errors": 1, "flows": 3,
        "alerts": 0, "spool_depth": 5, "spool_bytes": 900, "rules_version": "et-2024-11-01", "uptime_s": 60});
    let r = hub
        .client
        .post(hub.url("/api/v1/heartbeat"))
        .bearer_auth(&token)
        .json(&counters)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let l = list(&hub);
    assert_eq!(l[0].sensor.id, sensor.id);
    assert!(!l[0].stale);
    assert_eq!(l[0].last_heartbeat.as_ref().unwrap().counters, counters);
    for (body, want) in [("[1,2]", 400), ("not json", 400)] {
        let r = hub
            .client
            .post(hub.url("/api/v1/heartbeat"))
            .bearer_auth(&token)
            .body(body)
            .send()
            .unwrap();
        assert_eq!(r.status(), want, "{body}");
    }
    let big = serde_json::json!({ "x": "y".repeat(70_000) });
    let r = hub
        .client
        .post(hub.url("/api/v1/heartbeat"))
        .bearer_auth(&token)
        .json(&big)
        .send()
        .unwrap();
    assert_eq!(r.status(), 413);
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
}

#[test]
fn metrics_parse_and_count() {
    let hub = TestHub::start();
    let (sensor, token) = hub.enroll("s1");
    let id = sensor.id.to_string();
    hub.ingest(&token, batch(&id, 1..=100));
    hub.ingest(&token, batch(&id, 51..=150));
    hub.ingest("bad", batch(&id, 1..=1));
    let r = hub.client.get(hub.url("/metrics")).send().unwrap();
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = r.text().unwrap();
    let mut samples = std::collections::HashMap::new();
    for line in text.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (name, value) = line.rsplit_once(' ').unwrap();
        let v: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad sample {line}"));
        samples.insert(name.to_string(), v);
    }
    let get = |k: &str| {
        *samples
            .get(k)
            .unwrap_or_else(|| panic!("no {k} in\n{text}"))
    };
    assert_eq!(
        get("watchfloor_hub_ingest_requests_total{status=\"200\"}"),
        2.0
    );
    assert_eq!(
        get("watchfloor_hub_ingest_requests_total{status=\"401\"}"),
        1.0
    );
    assert_eq!(get("watchfloor_hub_events_stored_total"), 150.0);
    assert_eq!(get("watchfloor_hub_events_duplicate_total"), 50.0);
    assert_eq!(get("watchfloor_hub_ingest_duration_seconds_count"), 3.0);
    assert_eq!(
        get("watchfloor_hub_ingest_duration_seconds_bucket{le=\"+Inf\"}"),
        3.0
    );
    assert!(get("watchfloor_hub_batch_bytes_compressed_total") > 0.0);
    assert!(
        get("watchfloor_hub_batch_bytes_decompressed_total")
            > get("watchfloor_hub_batch_bytes_compressed_total")
    );
    assert_eq!(get("watchfloor_hub_sensors"), 1.0);
    assert_eq!(get("watchfloor_hub_sensors_stale"), 1.0);
    assert_eq!(get("watchfloor_hub_build_info{version=\"0.1.0\"}"), 1.0);
}

#[test]
fn health_openapi_and_unknown_paths() {
    let hub = TestHub::start();
    let r = hub.client.get(hub.url("/healthz")).send().unwrap();
    assert_eq!(
        (r.status().as_u16(), r.text().unwrap()),
        (200, "ok".to_string())
    );
    assert_eq!(
        hub.client.get(hub.url("/readyz")).send().unwrap().status(),
        200
    );
    let r = hub.client.get(hub.url("/api/openapi.json")).send().unwrap();
    assert_eq!(r.status(), 200);
    let doc: serde_json::Value = r.json().unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/ingest",
        "/api/v1/ack",
        "/api/v1/heartbeat",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    for code in ["200", "400", "401", "403", "413", "415", "429", "503"] {
        assert!(
            doc["paths"]["/api/v1/ingest"]["post"]["responses"][code].is_object(),
            "{code}"
        );
    }
    let (status, _) = error_of(hub.client.get(hub.url("/nope")).send().unwrap());
    assert_eq!(status, 404);
    // GET on a POST endpoint.
    assert_eq!(
        hub.client
            .get(hub.url("/api/v1/ingest"))
            .send()
            .unwrap()
            .status(),
        405
    );
}

#[test]
fn graceful_shutdown_finishes_the_in_flight_request() {
    let faults = Arc::new(Faults::default());
    let f = faults.clone();
    let mut hub = TestHub::with(
        |_| {},
        move |inner| Arc::new(FaultyStore { inner, faults: f }),
    );
    let (sensor, token) = hub.enroll("s1");
    let body = batch(&sensor.id.to_string(), 1..=50);
    faults.ingest_delay_ms.store(1500, Ordering::SeqCst);
    let (client, url) = (hub.client.clone(), hub.url("/api/v1/ingest"));
    let tok = token.clone();
    let in_flight = std::thread::spawn(move || {
        client
            .post(url)
            .bearer_auth(tok)
            .header("Content-Type", "application/x-ndjson")
            .header("Content-Encoding", "zstd")
            .body(body)
            .send()
            .map(|r| (r.status().as_u16(), r.text().unwrap_or_default()))
    });
    std::thread::sleep(Duration::from_millis(500));
    hub.begin_shutdown();
    let (status, text) = in_flight.join().unwrap().unwrap();
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("\"acked_seq\":50"), "{text}");
    assert!(hub.wait_stopped(Duration::from_secs(10)));
    assert_eq!(hub.count_events(&sensor), 50);
    // No longer accepting.
    assert!(hub.client.get(hub.url("/healthz")).send().is_err());
}
