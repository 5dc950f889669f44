//! Fault injection with real processes: `watchfloor hub` and `watchfloor sensor --hub`, a TCP
//! proxy between them that can cut, stall and hold connections, kill -9 of either side, a
//! full spool and a damaged spool segment. After each, the hub's stored events (read from its
//! SQLite file through `watchfloor_store`) are compared with what the sensor wrote: the same
//! (sensor, seq) set, the same bytes, no loss, no duplicate.
//!
//! Skipped, with the reason printed, when this build has no `watchfloor hub` command.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_watchfloor");

/// The scenarios start servers and sensors; one at a time keeps 2 shared cores predictable.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn hub_available() -> bool {
    let ok = Command::new(BIN)
        .args(["hub", "--help"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "SKIP: this build of watchfloor has no `hub` command (watchfloor-hub not wired in)"
        );
    }
    ok
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run_ok(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "watchfloor {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Hub {
    child: Child,
    data: PathBuf,
    port: u16,
    fingerprint: String,
}

impl Hub {
    fn start(data: &Path, port: u16) -> Hub {
        let mut child = Command::new(BIN)
            .args(["hub", "--data-dir"])
            .arg(data)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(f) = line.strip_prefix("certificate SHA-256 fingerprint ") {
                    let _ = tx.send(f.trim().to_string());
                }
            }
        });
        let fingerprint = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the hub printed no certificate fingerprint");
        // Listening once it accepts a connection.
        let t0 = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(t0.elapsed() < Duration::from_secs(30), "hub never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
        Hub {
            child,
            data: data.to_path_buf(),
            port,
            fingerprint,
        }
    }

    fn kill9(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }

    fn restart(&mut self) {
        self.kill9();
        *self = Hub::start(&self.data.clone(), self.port);
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// An organisation and one sensor; returns the sensor's token.
fn enrol(data: &Path) -> String {
    let d = data.to_str().unwrap();
    run_ok(&[
        "admin",
        "org",
        "add",
        "--data-dir",
        d,
        "--name",
        "PA",
        "--state",
        "PA",
    ]);
    let out = run_ok(&[
        "admin",
        "sensor",
        "add",
        "--data-dir",
        d,
        "--org",
        "PA",
        "--name",
        "s1",
    ]);
    out.lines()
        .find(|l| l.starts_with("wfs_"))
        .expect("no token printed")
        .trim()
        .to_string()
}

/// Every event the hub stores for sensor 1, by sequence, read from its SQLite file.
fn hub_events(data: &Path) -> BTreeMap<u64, Vec<u8>> {
    use watchfloor_store::{EventFilter, StoreConfig};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let cfg = StoreConfig::Sqlite(watchfloor_store::sqlite::SqliteConfig {
            path: data.join("hub.db"),
            ..Default::default()
        });
        let store = watchfloor_store::open(&cfg).await.unwrap();
        let mut out = BTreeMap::new();
        let mut dups = 0;
        let mut cursor = None;
        loop {
            let page = store
                .query_events(EventFilter {
                    sensor: Some(1),
                    limit: Some(EventFilter::MAX_LIMIT),
                    cursor,
                    ..Default::default()
                })
                .await
                .unwrap();
            for e in page.events {
                if out.insert(e.seq, e.record).is_some() {
                    dups += 1;
                }
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(dups, 0, "the hub stores some sequences twice");
        out
    })
}

fn lines(p: &Path) -> Vec<Vec<u8>> {
    std::fs::read(p)
        .unwrap()
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// The hub holds exactly `want` as sequences `first..`, byte for byte.
fn assert_run_stored(hub: &BTreeMap<u64, Vec<u8>>, first: u64, want: &[Vec<u8>]) {
    for (i, w) in want.iter().enumerate() {
        let seq = first + i as u64;
        let got = hub
            .get(&seq)
            .unwrap_or_else(|| panic!("seq {seq} missing at the hub"));
        assert!(
            got == w,
            "seq {seq} differs:\n hub {}\n eve {}",
            String::from_utf8_lossy(got),
            String::from_utf8_lossy(w)
        );
    }
}

/// Missing sequences in 1..=n, as ranges.
fn missing(got: &BTreeMap<u64, Vec<u8>>, n: usize) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for s in 1..=n as u64 {
        if !got.contains_key(&s) {
            match out.last_mut() {
                Some(r) if r.1 + 1 == s => r.1 = s,
                _ => out.push((s, s)),
            }
        }
    }
    out
}

fn synth(dir: &Path, size: &str) -> PathBuf {
    let p = dir.join(format!("s-{size}.pcap"));
    run_ok(&["synth", "-q", "-o", p.to_str().unwrap(), "--size", size]);
    p
}

/// A capture with no packets (pcap header only): a sensor run that only ships its spool.
fn empty_pcap(dir: &Path) -> PathBuf {
    let p = dir.join("empty.pcap");
    let mut h = Vec::new();
    h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&4u16.to_le_bytes());
    h.extend_from_slice(&[0; 8]);
    h.extend_from_slice(&65535u32.to_le_bytes());
    h.extend_from_slice(&1u32.to_le_bytes());
    std::fs::write(&p, h).unwrap();
    p
}

fn sensor_cmd(
    pcap: &Path,
    log: &Path,
    url: &str,
    token: &str,
    fp: &str,
    extra: &[&str],
) -> Command {
    let mut c = Command::new(BIN);
    c.args(["sensor", "-q", "--threads", "1", "-r"])
        .arg(pcap)
        .arg("-l")
        .arg(log)
        .args(["--hub", url, "--hub-fingerprint", fp, "--heartbeat", "1"])
        .env("WATCHFLOOR_HUB_TOKEN", token)
        .args(extra);
    c
}

fn show(o: &Output) -> String {
    format!(
        "status {:?}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    )
}

// ---------------------------------------------------------------------------------------
// A TCP proxy that can pass, cut (drop every connection, refuse new ones), stall (accept
// and hold without forwarding) and stall once N bytes have gone to the hub.

const PASS: u8 = 0;
const CUT: u8 = 1;
const STALL: u8 = 2;

struct Proxy {
    port: u16,
    mode: Arc<AtomicU8>,
    /// Stall the client→hub direction once this many bytes went through (u64::MAX: never).
    stall_after: Arc<AtomicU64>,
    up_bytes: Arc<AtomicU64>,
    stalled: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(upstream: u16) -> Proxy {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let p = Proxy {
            port,
            mode: Arc::new(AtomicU8::new(PASS)),
            stall_after: Arc::new(AtomicU64::new(u64::MAX)),
            up_bytes: Arc::new(AtomicU64::new(0)),
            stalled: Arc::new(AtomicBool::new(false)),
            conns: Arc::new(Mutex::new(Vec::new())),
        };
        let (mode, stall_after, up, stalled, conns) = (
            p.mode.clone(),
            p.stall_after.clone(),
            p.up_bytes.clone(),
            p.stalled.clone(),
            p.conns.clone(),
        );
        std::thread::spawn(move || {
            for c in l.incoming() {
                let Ok(client) = c else { continue };
                match mode.load(Ordering::SeqCst) {
                    CUT => {
                        let _ = client.shutdown(Shutdown::Both);
                        continue;
                    }
                    STALL => {
                        conns.lock().unwrap().push(client);
                        continue;
                    }
                    _ => {}
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                {
                    let mut cs = conns.lock().unwrap();
                    cs.push(client.try_clone().unwrap());
                    cs.push(server.try_clone().unwrap());
                }
                let ctx = (
                    mode.clone(),
                    stall_after.clone(),
                    up.clone(),
                    stalled.clone(),
                );
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || pump(client, server, Some(ctx)));
                std::thread::spawn(move || pump(s2, c2, None));
            }
        });
        p
    }

    fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
        if mode == CUT {
            for c in self.conns.lock().unwrap().drain(..) {
                let _ = c.shutdown(Shutdown::Both);
            }
        }
        if mode == PASS {
            self.stall_after.store(u64::MAX, Ordering::SeqCst);
            // Held connections go: their clients reconnect and pass.
            for c in self.conns.lock().unwrap().drain(..) {
                let _ = c.shutdown(Shutdown::Both);
            }
        }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

type PumpCtx = (
    Arc<AtomicU8>,
    Arc<AtomicU64>,
    Arc<AtomicU64>,
    Arc<AtomicBool>,
);

fn pump(mut from: TcpStream, mut to: TcpStream, up: Option<PumpCtx>) {
    let mut buf = [0u8; 4096];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut sent = 0;
        if let Some((mode, stall_after, total, stalled)) = &up {
            let limit = stall_after.load(Ordering::SeqCst);
            let before = total.fetch_add(n as u64, Ordering::SeqCst);
            if before + n as u64 > limit {
                // Forward up to the limit, then hold: the hub has part of a request.
                let part = limit.saturating_sub(before) as usize;
                let _ = to.write_all(&buf[..part.min(n)]);
                stalled.store(true, Ordering::SeqCst);
                while mode.load(Ordering::SeqCst) != PASS
                    || stall_after.load(Ordering::SeqCst) != u64::MAX
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
                // Released: this connection's request is broken; close it.
                break;
            }
        }
        while sent < n {
            match to.write(&buf[sent..n]) {
                Ok(0) | Err(_) => {
                    let _ = from.shutdown(Shutdown::Both);
                    return;
                }
                Ok(k) => sent += k,
            }
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

// ---------------------------------------------------------------------------------------

#[test]
fn hub_killed_mid_batch_and_restarted() {
    if !hub_available() {
        return;
    }
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let token = enrol(&data);
    let mut hub = Hub::start(&data, free_port());
    let proxy = Proxy::start(hub.port);
    // Hold a batch half-way into the hub (a few batches have gone through by then).
    proxy.stall_after.store(40_000, Ordering::SeqCst);
    let pcap = synth(dir.path(), "8M");
    let log = dir.path().join("out");
    let fp = hub.fingerprint.clone();
    let child = sensor_cmd(
        &pcap,
        &log,
        &proxy.url(),
        &token,
        &fp,
        &[
            "--hub-batch",
            "200",
            "--hub-drain-timeout",
            "90",
            "--hub-timeout",
            "5",
        ],
    )
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let t0 = Instant::now();
    while !proxy.stalled.load(Ordering::SeqCst) {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "no batch reached the proxy"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let before = hub_events(&data).len();
    hub.kill9();
    hub.restart();
    assert_eq!(
        hub.fingerprint, fp,
        "the restarted hub has another certificate"
    );
    proxy.set(PASS);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let want = lines(&log.join("eve.json"));
    let got = hub_events(&data);
    assert!(
        before < want.len(),
        "the hub had everything before it was killed"
    );
    assert_eq!(
        got.len(),
        want.len(),
        "{} (missing {:?}, {before} stored before the kill)",
        show(&out),
        missing(&got, want.len())
    );
    assert_run_stored(&got, 1, &want);
}

#[test]
fn sensor_killed_mid_file_resumes_from_the_spool() {
    if !hub_available() {
        return;
    }
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let token = enrol(&data);
    let hub = Hub::start(&data, free_port());
    let pcap = synth(dir.path(), "32M");
    let bytes = std::fs::read(&pcap).unwrap();
    let log = dir.path().join("out");
    let spool = log.join("spool");
    // Run 1 reads standard input and cannot reach the hub (nothing listens there): all it
    // spools must come from the spool in run 2.
    let dead = format!("https://127.0.0.1:{}", free_port());
    let mut run1 = sensor_cmd(Path::new("-"), &log, &dead, &token, &hub.fingerprint, &[])
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = run1.stdin.take().unwrap();
    stdin.write_all(&bytes[..bytes.len() * 3 / 4]).unwrap();
    stdin.flush().unwrap();
    let spooled_bytes = || -> u64 {
        std::fs::read_dir(&spool)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".seg"))
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    };
    let t0 = Instant::now();
    while spooled_bytes() < 100_000 {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "run 1 spooled nothing"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    run1.kill().unwrap(); // SIGKILL mid-file
    let _ = run1.wait();
    drop(stdin);

    // Run 2: the whole file, the real hub.
    let out = sensor_cmd(
        &pcap,
        &log,
        &format!("https://127.0.0.1:{}", hub.port),
        &token,
        &hub.fingerprint,
        &[],
    )
    .arg("--sensor-id")
    .arg("1")
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("left spooled by an earlier run"), "{err}");
    let run2 = lines(&log.join("eve.json"));
    let got = hub_events(&data);
    let k = got.len() - run2.len();
    assert!(k > 0, "nothing of run 1 reached the hub");
    // Run 1 wrote a prefix of what run 2 wrote (one thread, packet time: deterministic).
    assert_run_stored(&got, 1, &run2[..k]);
    assert_run_stored(&got, k as u64 + 1, &run2);
    assert_eq!(
        got.keys().copied().collect::<Vec<_>>(),
        (1..=got.len() as u64).collect::<Vec<_>>()
    );
}

#[test]
fn network_cut_stalled_and_restored() {
    if !hub_available() {
        return;
    }
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let token = enrol(&data);
    let hub = Hub::start(&data, free_port());
    let proxy = Proxy::start(hub.port);
    proxy.set(CUT);
    let pcap = synth(dir.path(), "8M");
    let log = dir.path().join("out");
    let child = sensor_cmd(
        &pcap,
        &log,
        &proxy.url(),
        &token,
        &hub.fingerprint,
        &[
            "--hub-batch",
            "300",
            "--hub-drain-timeout",
            "90",
            "--hub-timeout",
            "2",
        ],
    )
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(hub_events(&data).is_empty(), "events crossed a cut network");
    // Connections are accepted and held: the sensor's requests time out.
    proxy.set(STALL);
    std::thread::sleep(Duration::from_millis(3000));
    proxy.set(PASS);
    // Half-way through, cut once more, mid-batch.
    let t0 = Instant::now();
    while hub_events(&data).len() < 600 && t0.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(5));
    }
    proxy.set(CUT);
    std::thread::sleep(Duration::from_millis(800));
    proxy.set(PASS);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let want = lines(&log.join("eve.json"));
    let got = hub_events(&data);
    assert_eq!(got.len(), want.len(), "{}", show(&out));
    assert_run_stored(&got, 1, &want);
}

/// A 1 MiB tmpfs when this test runs as root (and may mount), else the spool's own size cap.
struct SmallDisk {
    path: PathBuf,
    mounted: bool,
}

impl SmallDisk {
    fn new(dir: &Path) -> SmallDisk {
        let path = dir.join("small");
        std::fs::create_dir_all(&path).unwrap();
        let mounted = std::env::var_os("WATCHFLOOR_NO_TMPFS").is_none()
            && Command::new("mount")
                .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
                .arg(&path)
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!(
                "note: no tmpfs (not root?); the spool's --spool-max 1m stands for a full disk"
            );
        }
        SmallDisk { path, mounted }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg(&self.path).status();
        }
    }
}

#[test]
fn full_spool_stops_intake_clearly_and_keeps_what_is_spooled() {
    if !hub_available() {
        return;
    }
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let token = enrol(&data);
    let hub = Hub::start(&data, free_port());
    let disk = SmallDisk::new(dir.path());
    let spool = disk.path.join("spool");
    let pcap = synth(dir.path(), "8M");
    let log = dir.path().join("out");
    let cap: &[&str] = if disk.mounted {
        &[]
    } else {
        &["--spool-max", "1m"]
    };
    // Run 1: the hub is unreachable, the spool fills up.
    let dead = format!("https://127.0.0.1:{}", free_port());
    let mut args = vec![
        "--spool",
        spool.to_str().unwrap(),
        "--hub-drain-timeout",
        "1",
    ];
    args.extend_from_slice(cap);
    let out = sensor_cmd(&pcap, &log, &dead, &token, &hub.fingerprint, &args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        err.contains("spool intake stopped") && err.contains("is full"),
        "{err}"
    );
    let refused: usize = err
        .split("error: ")
        .find_map(|s| {
            s.split(" EVE records were refused")
                .next()?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no refusal count in: {err}"));
    let run1 = lines(&log.join("eve.json"));
    std::fs::rename(log.join("eve.json"), dir.path().join("run1.json")).unwrap();
    let kept = run1.len() - refused;
    assert!(kept > 0 && refused > 0, "{kept} kept, {refused} refused");

    // Run 2: the hub is there; what run 1 spooled ships. Its own stats record may find the
    // spool still full (space comes back only once acknowledged segments are trimmed) and is
    // then refused, loudly. Run 3's record finds room.
    let mut args = vec!["--spool", spool.to_str().unwrap()];
    args.extend_from_slice(cap);
    let hub_url = format!("https://127.0.0.1:{}", hub.port);
    let empty = empty_pcap(dir.path());
    let out = sensor_cmd(&empty, &log, &hub_url, &token, &hub.fingerprint, &args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success() || err.contains("were refused by the spool"),
        "{}",
        show(&out)
    );
    let got = hub_events(&data);
    assert!(
        got.len() >= kept,
        "{} of {kept} shipped; {}",
        got.len(),
        show(&out)
    );
    // The spool kept exactly the records before intake stopped, in order.
    assert_run_stored(&got, 1, &run1[..kept]);
    let out = sensor_cmd(&empty, &log, &hub_url, &token, &hub.fingerprint, &args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let run3 = lines(&log.join("eve.json"));
    let got = hub_events(&data);
    let n = got.len() as u64;
    assert_eq!(
        got.keys().copied().collect::<Vec<_>>(),
        (1..=n).collect::<Vec<_>>()
    );
    assert!(n as usize <= kept + 2);
    assert_run_stored(&got, n, &run3);
}

#[test]
fn corrupt_spool_segment_is_reported_and_skipped_not_silent() {
    if !hub_available() {
        return;
    }
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let token = enrol(&data);
    let hub = Hub::start(&data, free_port());
    let pcap = synth(dir.path(), "8M");
    let log = dir.path().join("out");
    let dead = format!("https://127.0.0.1:{}", free_port());
    let out = sensor_cmd(
        &pcap,
        &log,
        &dead,
        &token,
        &hub.fingerprint,
        &["--hub-drain-timeout", "1"],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("still spooled"));
    let run1 = lines(&log.join("eve.json"));
    // Flip bytes in the middle of the (only) segment: inside some record.
    let seg = std::fs::read_dir(log.join("spool"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "seg"))
        .unwrap();
    let mut b = std::fs::read(&seg).unwrap();
    let mid = b.len() / 2;
    for x in &mut b[mid..mid + 8] {
        *x ^= 0x5a;
    }
    std::fs::write(&seg, &b).unwrap();

    let out = sensor_cmd(
        &empty_pcap(dir.path()),
        &log,
        &format!("https://127.0.0.1:{}", hub.port),
        &token,
        &hub.fingerprint,
        &[],
    )
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        err.contains("spool damage at") && err.contains(".seg:"),
        "{err}"
    );
    let run2 = lines(&log.join("eve.json"));
    let got = hub_events(&data);
    assert_eq!(got.len(), run1.len() + run2.len(), "{err}");
    let mut lost = 0;
    for (i, w) in run1.iter().enumerate() {
        let g = &got[&(i as u64 + 1)];
        if g != w {
            let v: serde_json::Value = serde_json::from_slice(g).unwrap();
            assert_eq!(v["event_type"], "watchfloor_spool_loss", "{v}");
            assert!(
                v["spool_loss"]["location"]
                    .as_str()
                    .unwrap()
                    .contains(".seg:"),
                "{v}"
            );
            lost += 1;
        }
    }
    assert!(
        (1..=3).contains(&lost),
        "{lost} records replaced by loss markers"
    );
    assert_run_stored(&got, run1.len() as u64 + 1, &run2);
}

#[test]
fn a_reset_spool_is_refused_rather_than_replayed() {
    if !hub_available() {
        return;
    }
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let token = enrol(&data);
    let hub = Hub::start(&data, free_port());
    let pcap = synth(dir.path(), "8M");
    let log = dir.path().join("out");
    let url = format!("https://127.0.0.1:{}", hub.port);
    let out = sensor_cmd(&pcap, &log, &url, &token, &hub.fingerprint, &[])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let first = hub_events(&data);
    // The spool is lost (disk replaced, directory deleted): numbering would restart at 1 and
    // the hub would take every new event for a replay. The sensor must refuse, loudly.
    std::fs::remove_dir_all(log.join("spool")).unwrap();
    let out = sensor_cmd(
        &pcap,
        &log,
        &url,
        &token,
        &hub.fingerprint,
        &["--hub-drain-timeout", "5"],
    )
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        err.contains("was reset or belongs to another sensor"),
        "{err}"
    );
    assert!(err.contains("still spooled"), "{err}");
    assert_eq!(hub_events(&data), first);
}
