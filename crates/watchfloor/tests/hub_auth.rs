//! The real binary: `admin init` creates the national organisation and its first admin (the
//! password from a file, never argv), `hub` starts, the admin signs in over HTTPS, `admin
//! user add|list|disable`, `admin token list|revoke` and `admin audit verify` work on the
//! same store.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn run(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_watchfloor"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn ok(data: &Path, args: &[&str]) -> String {
    let out = run(data, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{args:?}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn admin_init_sign_in_users_and_audit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let cfg = dir.path().join("hub.toml");
    std::fs::write(&cfg, "listen = \"127.0.0.1:0\"\n").unwrap();
    let cfg = cfg.to_str().unwrap();
    let pw_file = dir.path().join("pw");
    std::fs::write(&pw_file, "correct horse battery staple\n").unwrap();
    let pw = pw_file.to_str().unwrap();

    let out = ok(
        &data,
        &[
            "admin",
            "-c",
            cfg,
            "init",
            "--email",
            "ops@hub.example",
            "--org",
            "National Hub",
            "--password-file",
            pw,
        ],
    );
    assert!(
        out.contains("national organisation") && out.contains("ops@hub.example"),
        "{out}"
    );
    let again = run(
        &data,
        &[
            "admin",
            "-c",
            cfg,
            "init",
            "--email",
            "x@hub.example",
            "--org",
            "Other",
            "--password-file",
            pw,
        ],
    );
    assert!(!again.status.success(), "init runs once");
    ok(
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
    let out = ok(
        &data,
        &[
            "admin",
            "-c",
            cfg,
            "user",
            "add",
            "--org",
            "Pennsylvania",
            "--email",
            "ann@pa.example",
            "--role",
            "analyst",
            "--password-file",
            pw,
        ],
    );
    assert!(
        out.contains("ann@pa.example") && out.contains("analyst"),
        "{out}"
    );
    let list = ok(&data, &["admin", "-c", cfg, "user", "list"]);
    assert!(
        list.contains("ops@hub.example") && list.contains("ann@pa.example"),
        "{list}"
    );
    assert!(!list.contains("correct horse"), "{list}");

    let mut hub = Command::new(env!("CARGO_BIN_EXE_watchfloor"))
        .args(["hub", "-c", cfg, "--data-dir"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(hub.stdout.take().unwrap()).lines();
    let started = Instant::now();
    let url = loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "hub did not start"
        );
        let Some(Ok(line)) = lines.next() else {
            panic!("hub exited early: {:?}", hub.wait());
        };
        if let Some(u) = line.strip_prefix("watchfloor hub listening on ") {
            break u.to_string();
        }
    };
    let pem = std::fs::read(data.join("tls/hub-cert.pem")).unwrap();
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    let sign_in = |email: &str| {
        client
            .post(format!("{url}/api/v1/session"))
            .header("Content-Type", "application/json")
            .body(format!(
                r#"{{"email":"{email}","password":"correct horse battery staple"}}"#
            ))
            .send()
            .unwrap()
    };
    let r = sign_in("ops@hub.example");
    assert_eq!(r.status(), 201);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let me: serde_json::Value = serde_json::from_str(
        &client
            .get(format!("{url}/api/v1/me"))
            .header("Cookie", &cookie)
            .send()
            .unwrap()
            .text()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(me["role"], "admin");
    assert_eq!(me["org"]["kind"], "national");

    let out = ok(
        &data,
        &["admin", "-c", cfg, "user", "disable", "ann@pa.example"],
    );
    assert!(out.contains("disabled"), "{out}");
    assert_eq!(sign_in("ann@pa.example").status(), 401);
    let bad = run(&data, &["admin", "-c", cfg, "token", "revoke", "999"]);
    assert!(!bad.status.success());
    ok(&data, &["admin", "-c", cfg, "token", "list"]);
    let out = ok(&data, &["admin", "-c", cfg, "audit", "verify"]);
    assert!(out.starts_with("audit log intact: "), "{out}");
    // org.create x2, user.create x2, session.create, session.create_failed, user.disable
    let rows: u64 = out["audit log intact: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(rows >= 7, "{out}");
    hub.kill().unwrap();
    let _ = hub.wait();
}
