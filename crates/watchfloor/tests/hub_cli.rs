//! The real binary end to end: `admin` enrols a sensor and prints its token once, `hub`
//! starts on a free port with a generated certificate, a batch posted with that token lands,
//! `admin sensor list` shows it, SIGTERM stops the hub cleanly.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use watchfloor_ship::{BatchBuilder, BatchConfig, Entry};

fn watchfloor(data: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_watchfloor"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{args:?}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn admin_enrols_hub_ingests() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let cfg = dir.path().join("hub.toml");
    std::fs::write(
        &cfg,
        "listen = \"127.0.0.1:0\"\n[retention]\nkeep_days = 0\n",
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();

    let out = watchfloor(
        &data,
        &[
            "admin",
            "-c",
            cfg,
            "org",
            "add",
            "--name",
            "Pennsylvania",
            "--kind",
            "state",
            "--state",
            "PA",
        ],
    );
    assert!(out.contains("Pennsylvania"), "{out}");
    let out = watchfloor(
        &data,
        &[
            "admin",
            "-c",
            cfg,
            "sensor",
            "add",
            "--org",
            "Pennsylvania",
            "--name",
            "pa-phl-01",
        ],
    );
    let token = out
        .lines()
        .find(|l| l.starts_with("wfs_"))
        .unwrap_or_else(|| panic!("no token in {out}"))
        .to_string();
    let sensor_id: String = out
        .strip_prefix("sensor ")
        .unwrap()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();

    let mut hub = Command::new(env!("CARGO_BIN_EXE_watchfloor"))
        .args(["hub", "-c", cfg, "--data-dir"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(hub.stdout.take().unwrap()).lines();
    let mut url = None;
    let mut fingerprint = None;
    let started = Instant::now();
    while url.is_none() || fingerprint.is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "hub did not start"
        );
        let Some(Ok(line)) = lines.next() else {
            panic!("hub exited early: {:?}", hub.wait());
        };
        if let Some(u) = line.strip_prefix("watchfloor hub listening on ") {
            url = Some(u.to_string());
        }
        if let Some(f) = line.strip_prefix("certificate SHA-256 fingerprint ") {
            fingerprint = Some(f.to_string());
        }
    }
    let (url, fingerprint) = (url.unwrap(), fingerprint.unwrap());
    assert_eq!(fingerprint.len(), 95, "{fingerprint}");

    let pem = std::fs::read(data.join("tls/hub-cert.pem")).unwrap();
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    let entries: Vec<Entry> = (1..=100)
        .map(|seq| Entry::Record {
            seq,
            payload: format!(r#"{{"timestamp":"2024-11-05T06:00:{:02}.000000+0000","event_type":"flow","n":{seq}}}"#, seq % 60).into_bytes(),
        })
        .collect();
    let batch = BatchBuilder::new(&sensor_id, BatchConfig::default())
        .build(&entries)
        .unwrap()
        .unwrap();
    let r = client
        .post(format!("{url}/api/v1/ingest"))
        .bearer_auth(&token)
        .header("Content-Type", "application/x-ndjson")
        .header("Content-Encoding", "zstd")
        .body(batch.body)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.text().unwrap(),
        r#"{"acked_seq":100,"stored":100,"duplicates":0}"#
    );
    let r = client
        .post(format!("{url}/api/v1/heartbeat"))
        .bearer_auth(&token)
        .body(r#"{"packets":1}"#)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);

    // admin reads the same store while the hub runs.
    let out = watchfloor(&data, &["admin", "-c", cfg, "sensor", "list"]);
    let row = out.lines().find(|l| l.ends_with("pa-phl-01")).unwrap();
    assert!(row.contains(" ok ") && row.contains(" 100 "), "{out}");

    let status = Command::new("kill")
        .args(["-TERM", &hub.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|l| l == "watchfloor hub stopped"),
        "{rest:?}"
    );
    assert!(hub.wait().unwrap().success());

    // The certificate is reused on the next start (same fingerprint), revocation works.
    let out = watchfloor(
        &data,
        &["admin", "-c", cfg, "sensor", "revoke", "pa-phl-01"],
    );
    assert!(out.contains("1 token(s) revoked"), "{out}");
}
