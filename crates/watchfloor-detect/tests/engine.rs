//! The engine end to end on hand-built packets, from Suricata's documented
//! semantics: rules parsed by `watchfloor-rules`, packets decoded by
//! `watchfloor-decode`, inspected by `Engine::inspect_packet`,
//! `inspect_stream` and `inspect_tx`.

mod frames;

use frames::{Frame, L4Spec};
use std::net::IpAddr;
use watchfloor_capture::{LinkType, RawPacket};
use watchfloor_decode::{DecodeConfig, Decoder};
use watchfloor_detect::{Ctx, Engine, FlowDetect, FlowInfo, Headers, Scratch, TxSource};
use watchfloor_rules::{parse_rule, Buffer, Check, Classifications, FlowDir, Vars};

const S: i64 = 1_000_000_000;
/// 2024-11-05T06:00:00Z, an arbitrary packet time origin.
const T0: i64 = 1_730_786_400 * S;

fn engine(rules: &[&str]) -> Engine {
    let vars = Vars::default();
    let classes = Classifications::builtin();
    let sigs = rules
        .iter()
        .map(|r| parse_rule(r, &vars, &classes).unwrap_or_else(|e| panic!("{r}: {e}")))
        .collect();
    let (e, errors) = Engine::build(sigs);
    assert!(
        errors.is_empty(),
        "rules failed to build: {:?}",
        errors.iter().map(ToString::to_string).collect::<Vec<_>>()
    );
    e
}

/// The flow a packet is inspected in, as the sensor would describe it.
#[derive(Clone, Copy)]
struct FlowSpec {
    id: u64,
    dir: FlowDir,
    established: bool,
    app: Option<&'static str>,
}

const TO_SERVER: FlowSpec = FlowSpec {
    id: 7,
    dir: FlowDir::ToServer,
    established: true,
    app: None,
};

impl FlowSpec {
    fn dir(self, dir: FlowDir) -> FlowSpec {
        FlowSpec { dir, ..self }
    }
    fn established(self, established: bool) -> FlowSpec {
        FlowSpec {
            established,
            ..self
        }
    }
    fn app(self, app: &'static str) -> FlowSpec {
        FlowSpec {
            app: Some(app),
            ..self
        }
    }
    fn info(self) -> FlowInfo<'static> {
        FlowInfo {
            flow_id: self.id,
            dir: self.dir,
            established: self.established,
            app_proto: self.app,
            stream_bytes: [0, 0],
            proto_detected_now: false,
        }
    }
}

struct Harness {
    engine: Engine,
    scratch: Scratch,
    decoder: Decoder,
}

impl Harness {
    fn new(rules: &[&str]) -> Harness {
        let engine = engine(rules);
        let scratch = engine.scratch();
        Harness {
            engine,
            scratch,
            decoder: Decoder::new(DecodeConfig::default()),
        }
    }

    fn sids(&self, alerts: &[watchfloor_detect::Alert]) -> Vec<u32> {
        let mut v: Vec<u32> = alerts.iter().map(|a| self.engine.sig(a.rule).sid).collect();
        v.sort_unstable();
        v
    }

    /// Decodes `bytes` (an Ethernet frame) and runs the packet rules.
    fn raw_packet(
        &mut self,
        bytes: &[u8],
        ts_ns: i64,
        flow: Option<(FlowSpec, &mut FlowDetect)>,
    ) -> Vec<u32> {
        let raw = RawPacket {
            ts_ns,
            linktype: LinkType::Ethernet,
            data: bytes,
            orig_len: bytes.len() as u32,
            offset: 0,
            interface: 0,
        };
        let pkt = self.decoder.decode(&raw);
        let unspecified = IpAddr::from([0u8, 0, 0, 0]);
        let (src, dst, proto, ver) = match pkt.ip {
            Some(ip) => (ip.src, ip.dst, ip.proto, ip.version),
            None => (unspecified, unspecified, 0, 4),
        };
        let (sp, dp) = pkt.l4.ports();
        let (fi, fd) = match flow {
            Some((f, d)) => (Some(f.info()), Some(d)),
            None => (None, None),
        };
        let ctx = Ctx {
            ts_ns,
            src,
            dst,
            sp,
            dp,
            proto,
            ip_version: ver,
            pkt: Some(&pkt),
            flow: fi,
            stream_events: &[],
            hdrs: Headers::locate(bytes, &pkt),
            payload: &[],
        };
        let mut out = Vec::new();
        self.engine
            .inspect_packet(&ctx, fd, &mut self.scratch, &mut out);
        self.sids(&out)
    }

    fn packet(&mut self, f: &Frame, flow: Option<(FlowSpec, &mut FlowDetect)>) -> Vec<u32> {
        self.raw_packet(&f.bytes(), f.ts_ns, flow)
    }

    /// A packet outside any flow.
    fn lone(&mut self, f: &Frame) -> Vec<u32> {
        self.packet(f, None)
    }

    fn ctx_for(f: &Frame, flow: FlowSpec) -> Ctx<'static> {
        let (sp, dp) = f.ports();
        Ctx {
            ts_ns: f.ts_ns,
            src: IpAddr::from(f.src),
            dst: IpAddr::from(f.dst),
            sp,
            dp,
            proto: f.proto(),
            ip_version: 4,
            pkt: None,
            flow: Some(flow.info()),
            stream_events: &[],
            hdrs: None,
            payload: &[],
        }
    }

    /// Runs the stream rules on in-order data travelling as `f` does.
    fn stream(&mut self, f: &Frame, flow: FlowSpec, fd: &mut FlowDetect, data: &[u8]) -> Vec<u32> {
        let ctx = Self::ctx_for(f, flow);
        let mut out = Vec::new();
        self.engine
            .inspect_stream(&ctx, data, Some(fd), &mut self.scratch, &mut out);
        self.sids(&out)
    }

    /// Runs the app-layer rules on a transaction; `f` gives the addresses
    /// as the data of `flow.dir` travels.
    fn tx(
        &mut self,
        f: &Frame,
        flow: FlowSpec,
        tx_id: u64,
        tx: &TestTx,
        fd: Option<&mut FlowDetect>,
    ) -> Vec<u32> {
        let ctx = Self::ctx_for(f, flow);
        let mut out = Vec::new();
        self.engine.inspect_tx(
            &ctx,
            flow.app.expect("a tx flow has an app proto"),
            flow.dir,
            tx_id,
            tx,
            fd,
            &mut self.scratch,
            &mut out,
        );
        for a in &out {
            assert_eq!(a.tx_id, Some(tx_id), "alert carries its transaction id");
        }
        self.sids(&out)
    }
}

fn udp(src: [u8; 4], sp: u16, dst: [u8; 4], dp: u16, payload: &[u8]) -> Frame {
    Frame::new(src, dst, L4Spec::Udp { sp, dp }, payload)
}

/// 10.0.0.1:40000 → 8.8.8.8:53 with `payload`.
fn u(payload: &[u8]) -> Frame {
    udp([10, 0, 0, 1], 40000, [8, 8, 8, 8], 53, payload)
}

fn tcp(src: [u8; 4], sp: u16, dst: [u8; 4], dp: u16, payload: &[u8]) -> Frame {
    Frame::new(
        src,
        dst,
        L4Spec::Tcp {
            sp,
            dp,
            flags: 0x18,
            seq: 1000,
            ack: 2000,
        },
        payload,
    )
}

const NONE: &[u32] = &[];

// ---------------------------------------------------------------- payload

#[test]
fn content_depth_offset_distance_within_nocase() {
    let mut h = Harness::new(&[
        r#"alert udp any any -> any any (msg:"depth"; content:"abc"; depth:3; sid:1;)"#,
        r#"alert udp any any -> any any (msg:"offset"; content:"xyz"; offset:2; sid:2;)"#,
        r#"alert udp any any -> any any (msg:"dist/within"; content:"foo"; content:"bar"; distance:2; within:5; sid:3;)"#,
        r#"alert udp any any -> any any (msg:"nocase"; content:"MiXeD"; nocase; sid:4;)"#,
        r#"alert udp any any -> any any (msg:"case"; content:"MiXeD"; sid:5;)"#,
    ]);
    // depth 3: "abc" must end within the first 3 bytes.
    assert_eq!(h.lone(&u(b"abcdef")), [1]);
    assert_eq!(h.lone(&u(b"_abcdef")), NONE);
    // offset 2: the search starts at byte 2.
    assert_eq!(h.lone(&u(b"..xyz")), [2]);
    assert_eq!(h.lone(&u(b"xyz..")), NONE);
    assert_eq!(h.lone(&u(b"..xyz")), [2], "inspection is stateless");
    assert_eq!(h.lone(&u(b"xyz.xyz")), [2], "a later occurrence counts");
    // distance 2 from the end of "foo", and "bar" must end within 5 bytes of it.
    assert_eq!(h.lone(&u(b"foo12bar")), [3]);
    assert_eq!(h.lone(&u(b"foobar")), NONE, "distance 2 not respected");
    // Suricata counts `within` from where `distance` puts the search start
    // (prev end + distance + within): "bar" may end up to 7 bytes after "foo".
    assert_eq!(h.lone(&u(b"foo1234bar")), [3]);
    assert_eq!(
        h.lone(&u(b"foo12345bar")),
        NONE,
        "outside distance 2 + within 5"
    );
    assert_eq!(h.lone(&u(b"bar12foo")), NONE, "order matters");
    // the second "foo" satisfies the relative match (backtracking).
    assert_eq!(h.lone(&u(b"foo------foo12bar")), [3]);
    // nocase.
    assert_eq!(h.lone(&u(b"..mixed..")), [4]);
    assert_eq!(h.lone(&u(b"..MiXeD..")), [4, 5]);
    assert_eq!(h.lone(&u(b"..MIXED..")), [4]);
}

#[test]
fn negated_content_and_isdataat_and_pcre() {
    let mut h = Harness::new(&[
        r#"alert udp any any -> any any (msg:"neg"; content:"GET"; content:!"evil"; sid:1;)"#,
        r#"alert udp any any -> any any (msg:"only neg"; content:!"zzz"; sid:2;)"#,
        r#"alert udp any any -> any any (msg:"isdataat"; content:"hdr"; isdataat:4,relative; sid:3;)"#,
        r#"alert udp any any -> any any (msg:"pcre"; pcre:"/^id=\d{3}$/"; sid:4;)"#,
    ]);
    assert_eq!(h.lone(&u(b"GET /good")), [1, 2]);
    assert_eq!(
        h.lone(&u(b"GET /evil")),
        [2],
        "the negated content vetoes sid 1"
    );
    assert_eq!(h.lone(&u(b"zzz GET")), [1]);
    assert_eq!(h.lone(&u(b"zzz hdr12345")), [3]);
    assert_eq!(
        h.lone(&u(b"zzz hdr123")),
        NONE,
        "isdataat 4 needs a 5th byte"
    );
    assert_eq!(h.lone(&u(b"id=123")), [2, 4]);
    assert_eq!(h.lone(&u(b"id=1234")), [2]);
}

// ------------------------------------------------------- header matching

#[test]
fn ports_addresses_negation_and_vars() {
    let mut h = Harness::new(&[
        r#"alert udp $HOME_NET any -> $EXTERNAL_NET 53 (msg:"home to ext dns"; content:"q"; sid:1;)"#,
        r#"alert udp !10.0.0.0/8 any -> any any (msg:"not ten"; content:"q"; sid:2;)"#,
        r#"alert udp any [1024:] -> any ![53,5353] (msg:"high to not dns"; content:"q"; sid:3;)"#,
        r#"alert udp [10.0.0.0/24,!10.0.0.5] any -> any [80,8000:8080] (msg:"list"; content:"q"; sid:4;)"#,
    ]);
    assert_eq!(
        h.lone(&udp([10, 1, 2, 3], 5000, [8, 8, 8, 8], 53, b"q")),
        [1]
    );
    assert_eq!(
        h.lone(&udp([192, 168, 1, 1], 5000, [172, 16, 0, 1], 53, b"q")),
        [2],
        "172.16/12 is HOME_NET, not EXTERNAL_NET: no sid 1"
    );
    assert_eq!(
        h.lone(&udp([172, 31, 255, 255], 5000, [172, 32, 0, 1], 53, b"q")),
        [1, 2],
        "172.31.255.255 is home, 172.32.0.1 external"
    );
    assert_eq!(
        h.lone(&udp([8, 8, 4, 4], 5000, [1, 1, 1, 1], 53, b"q")),
        [2],
        "external source: only the negated-address rule"
    );
    assert_eq!(
        h.lone(&udp([8, 8, 4, 4], 5000, [1, 1, 1, 1], 123, b"q")),
        [2, 3]
    );
    assert_eq!(
        h.lone(&udp([8, 8, 4, 4], 1023, [1, 1, 1, 1], 123, b"q")),
        [2]
    );
    assert_eq!(
        h.lone(&udp([8, 8, 4, 4], 5000, [1, 1, 1, 1], 5353, b"q")),
        [2]
    );
    assert_eq!(
        h.lone(&udp([10, 0, 0, 4], 1000, [1, 1, 1, 1], 8080, b"q")),
        [4]
    );
    assert_eq!(
        h.lone(&udp([10, 0, 0, 4], 1000, [1, 1, 1, 1], 8000, b"q")),
        [4]
    );
    assert_eq!(
        h.lone(&udp([10, 0, 0, 4], 1000, [1, 1, 1, 1], 8081, b"q")),
        NONE
    );
    assert_eq!(
        h.lone(&udp([10, 0, 0, 5], 1000, [1, 1, 1, 1], 80, b"q")),
        NONE,
        "10.0.0.5 is excluded from the list"
    );
    assert_eq!(
        h.lone(&udp([10, 0, 1, 4], 1000, [1, 1, 1, 1], 80, b"q")),
        NONE
    );
    // A TCP packet never matches a udp rule.
    assert_eq!(
        h.lone(&tcp([8, 8, 4, 4], 5000, [1, 1, 1, 1], 123, b"q")),
        NONE
    );
}

#[test]
fn bidirectional_rules_match_both_ways_only_between_their_ends() {
    let mut h = Harness::new(&[
        r#"alert udp 10.0.0.1 any <> 8.8.8.8 53 (msg:"bidir"; content:"x"; sid:1;)"#,
        r#"alert udp 10.0.0.1 any -> 8.8.8.8 53 (msg:"one way"; content:"x"; sid:2;)"#,
    ]);
    assert_eq!(
        h.lone(&udp([10, 0, 0, 1], 4000, [8, 8, 8, 8], 53, b"x")),
        [1, 2]
    );
    assert_eq!(
        h.lone(&udp([8, 8, 8, 8], 53, [10, 0, 0, 1], 4000, b"x")),
        [1]
    );
    assert_eq!(
        h.lone(&udp([8, 8, 8, 8], 4000, [10, 0, 0, 1], 53, b"x")),
        NONE,
        "port 53 belongs to 8.8.8.8's side"
    );
    assert_eq!(
        h.lone(&udp([10, 0, 0, 2], 4000, [8, 8, 8, 8], 53, b"x")),
        NONE
    );
}

#[test]
fn flow_direction_and_state() {
    let mut h = Harness::new(&[
        r#"alert udp any any -> any any (msg:"ts est"; flow:to_server,established; content:"x"; sid:1;)"#,
        r#"alert udp any any -> any any (msg:"tc"; flow:to_client; content:"x"; sid:2;)"#,
        r#"alert udp any any -> any any (msg:"not est"; flow:not_established; content:"x"; sid:3;)"#,
    ]);
    let p = u(b"x");
    let mut fd = FlowDetect::default();
    assert_eq!(h.packet(&p, Some((TO_SERVER, &mut fd))), [1]);
    assert_eq!(
        h.packet(&p, Some((TO_SERVER.established(false), &mut fd))),
        [3]
    );
    assert_eq!(
        h.packet(&p, Some((TO_SERVER.dir(FlowDir::ToClient), &mut fd))),
        [2]
    );
    assert_eq!(h.lone(&p), [3], "no flow: not established, no direction");
}

// ------------------------------------------------------ per-flow state

#[test]
fn flowbits_set_isset_isnotset_and_noalert() {
    let mut h = Harness::new(&[
        r#"alert udp any any -> any any (msg:"login"; content:"login"; flowbits:set,logged_in; flowbits:noalert; sid:10;)"#,
        r#"alert udp any any -> any any (msg:"secret after login"; content:"secret"; flowbits:isset,logged_in; sid:11;)"#,
        r#"alert udp any any -> any any (msg:"secret without login"; content:"secret"; flowbits:isnotset,logged_in; sid:12;)"#,
        r#"alert udp any any -> any any (msg:"logout"; content:"logout"; flowbits:unset,logged_in; noalert; sid:13;)"#,
    ]);
    let mut fd = FlowDetect::default();
    let f = |h: &mut Harness, fd: &mut FlowDetect, p: &[u8]| h.packet(&u(p), Some((TO_SERVER, fd)));
    assert_eq!(f(&mut h, &mut fd, b"secret"), [12]);
    assert_eq!(
        f(&mut h, &mut fd, b"login"),
        NONE,
        "noalert: the setter is silent"
    );
    assert_eq!(f(&mut h, &mut fd, b"secret"), [11]);
    let mut other = FlowDetect::default();
    assert_eq!(
        f(&mut h, &mut other, b"secret"),
        [12],
        "bits belong to one flow"
    );
    assert_eq!(f(&mut h, &mut fd, b"logout"), NONE);
    assert_eq!(f(&mut h, &mut fd, b"secret"), [12]);
}

#[test]
fn flowbit_setters_run_before_readers_on_the_same_packet() {
    // The reader has the lower sid and would run first in sid order.
    let mut h = Harness::new(&[
        r#"alert udp any any -> any any (msg:"reader"; content:"both"; flowbits:isset,b; sid:1;)"#,
        r#"alert udp any any -> any any (msg:"setter"; content:"both"; flowbits:set,b; sid:2;)"#,
        r#"alert udp any any -> any any (msg:"isnotset reader"; content:"both"; flowbits:isnotset,b; sid:3;)"#,
    ]);
    let mut fd = FlowDetect::default();
    assert_eq!(h.packet(&u(b"both"), Some((TO_SERVER, &mut fd))), [1, 2]);
}

#[test]
fn flowbits_or_lists() {
    let mut h = Harness::new(&[
        r#"alert udp any any -> any any (msg:"set a"; content:"A"; flowbits:set,a; noalert; sid:1;)"#,
        r#"alert udp any any -> any any (msg:"set b"; content:"B"; flowbits:set,b; noalert; sid:2;)"#,
        r#"alert udp any any -> any any (msg:"a or b"; content:"Z"; flowbits:isset,a|b; sid:3;)"#,
        r#"alert udp any any -> any any (msg:"a and b"; content:"Z"; flowbits:isset,a&b; sid:4;)"#,
    ]);
    let mut fd = FlowDetect::default();
    assert_eq!(h.packet(&u(b"Z"), Some((TO_SERVER, &mut fd))), NONE);
    assert_eq!(h.packet(&u(b"A"), Some((TO_SERVER, &mut fd))), NONE);
    assert_eq!(h.packet(&u(b"Z"), Some((TO_SERVER, &mut fd))), [3]);
    assert_eq!(h.packet(&u(b"B"), Some((TO_SERVER, &mut fd))), NONE);
    assert_eq!(h.packet(&u(b"Z"), Some((TO_SERVER, &mut fd))), [3, 4]);
}

#[test]
fn flowint_counts_per_flow() {
    let mut h = Harness::new(&[
        r#"alert udp any any -> any any (msg:"count"; content:"x"; flowint:hits,+,1; noalert; sid:1;)"#,
        r#"alert udp any any -> any any (msg:"third"; content:"x"; flowint:hits,==,3; sid:2;)"#,
        r#"alert udp any any -> any any (msg:"more than 3"; content:"x"; flowint:hits,>,3; sid:3;)"#,
        r#"alert udp any any -> any any (msg:"never counted"; content:"y"; flowint:hits,notset; sid:4;)"#,
        r#"alert udp any any -> any any (msg:"counted"; content:"y"; flowint:hits,isset; sid:5;)"#,
    ]);
    let mut fd = FlowDetect::default();
    assert_eq!(h.packet(&u(b"y"), Some((TO_SERVER, &mut fd))), [4]);
    let r: Vec<Vec<u32>> = (0..5)
        .map(|_| h.packet(&u(b"x"), Some((TO_SERVER, &mut fd))))
        .collect();
    assert_eq!(r, vec![vec![], vec![], vec![2], vec![3], vec![3]]);
    assert_eq!(h.packet(&u(b"y"), Some((TO_SERVER, &mut fd))), [5]);
    let mut other = FlowDetect::default();
    assert_eq!(h.packet(&u(b"x"), Some((TO_SERVER, &mut other))), NONE);
}

#[test]
fn ip_only_rules_fire_once_per_flow_direction() {
    let mut h = Harness::new(&[
        r#"alert ip $HOME_NET any -> any any (msg:"from home"; sid:1;)"#,
        r#"alert ip any any -> 10.0.0.1 any (msg:"to the client"; sid:2;)"#,
    ]);
    let to_server = u(b"a");
    let to_client = udp([8, 8, 8, 8], 53, [10, 0, 0, 1], 40000, b"b");
    let mut fd = FlowDetect::default();
    assert_eq!(h.packet(&to_server, Some((TO_SERVER, &mut fd))), [1]);
    assert_eq!(h.packet(&to_server, Some((TO_SERVER, &mut fd))), NONE);
    let tc = TO_SERVER.dir(FlowDir::ToClient);
    assert_eq!(h.packet(&to_client, Some((tc, &mut fd))), [2]);
    assert_eq!(h.packet(&to_client, Some((tc, &mut fd))), NONE);
    let mut fresh = FlowDetect::default();
    assert_eq!(h.packet(&to_server, Some((TO_SERVER, &mut fresh))), [1]);
    // Without a flow every packet is inspected.
    assert_eq!(h.lone(&to_server), [1]);
    assert_eq!(h.lone(&to_server), [1]);
}

#[test]
fn address_only_rules_keep_their_protocol() {
    let mut h = Harness::new(&[
        r#"alert udp 10.0.0.1 any -> any any (msg:"udp from .1"; sid:1;)"#,
        r#"alert tcp 10.0.0.1 any -> any any (msg:"tcp from .1"; sid:2;)"#,
    ]);
    let mut fd = FlowDetect::default();
    assert_eq!(h.packet(&u(b"x"), Some((TO_SERVER, &mut fd))), [1]);
    let mut fd = FlowDetect::default();
    let t = tcp([10, 0, 0, 1], 40000, [8, 8, 8, 8], 80, b"");
    assert_eq!(h.packet(&t, Some((TO_SERVER, &mut fd))), [2]);
    assert_eq!(
        h.packet(&t, Some((TO_SERVER, &mut fd))),
        NONE,
        "once per direction"
    );
}

// --------------------------------------------------------- thresholds

fn at(secs: i64, f: Frame) -> Frame {
    Frame {
        ts_ns: T0 + secs * S,
        ..f
    }
}

/// Which of the packets at `times` (seconds) alerted.
fn alerting_times(h: &mut Harness, src: [u8; 4], times: &[i64]) -> Vec<i64> {
    times
        .iter()
        .copied()
        .filter(|t| {
            !h.lone(&at(*t, udp(src, 4000, [8, 8, 8, 8], 53, b"hit")))
                .is_empty()
        })
        .collect()
}

#[test]
fn threshold_limit() {
    let mut h = Harness::new(&[
        r#"alert udp any any -> any any (msg:"limit"; content:"hit"; threshold:type limit, track by_src, count 2, seconds 60; sid:1;)"#,
    ]);
    let a = [10, 0, 0, 1];
    assert_eq!(
        alerting_times(&mut h, a, &[0, 1, 2, 3, 59, 61, 62, 63]),
        [0, 1, 61, 62]
    );
    assert_eq!(
        alerting_times(&mut h, [10, 0, 0, 2], &[64, 65, 66]),
        [64, 65],
        "by_src: another source has its own count"
    );
}

#[test]
fn threshold_threshold() {
    let mut h = Harness::new(&[
        r#"alert udp any any -> any any (msg:"threshold"; content:"hit"; threshold:type threshold, track by_src, count 3, seconds 60; sid:1;)"#,
    ]);
    assert_eq!(
        alerting_times(&mut h, [10, 0, 0, 1], &[0, 1, 2, 3, 4, 5, 6, 100, 101, 170]),
        [2, 5],
        "every 3rd match in the window; the window after 60 s starts afresh"
    );
}

#[test]
fn threshold_both() {
    let mut h = Harness::new(&[
        r#"alert udp any any -> any any (msg:"both"; content:"hit"; threshold:type both, track by_src, count 2, seconds 60; sid:1;)"#,
    ]);
    assert_eq!(
        alerting_times(&mut h, [10, 0, 0, 1], &[0, 1, 2, 3, 70, 71, 72]),
        [1, 71],
        "once per window, at the 2nd match"
    );
}

#[test]
fn detection_filter() {
    let mut h = Harness::new(&[
        r#"alert udp any any -> any any (msg:"df"; content:"hit"; detection_filter:track by_src, count 2, seconds 60; sid:1;)"#,
    ]);
    assert_eq!(
        alerting_times(&mut h, [10, 0, 0, 1], &[0, 1, 2, 3, 100, 101, 102]),
        [2, 3, 102],
        "every match after the 2nd within the window"
    );
}

#[test]
fn threshold_by_dst_and_by_rule() {
    let mut h = Harness::new(&[
        r#"alert udp any any -> any any (msg:"by dst"; content:"hit"; threshold:type limit, track by_dst, count 1, seconds 60; sid:1;)"#,
        r#"alert udp any any -> any any (msg:"by rule"; content:"hit"; threshold:type limit, track by_rule, count 1, seconds 60; sid:2;)"#,
    ]);
    let p = |src: [u8; 4], dst: [u8; 4]| at(0, udp(src, 4000, dst, 53, b"hit"));
    assert_eq!(h.lone(&p([10, 0, 0, 1], [8, 8, 8, 8])), [1, 2]);
    assert_eq!(
        h.lone(&p([10, 0, 0, 2], [8, 8, 8, 8])),
        NONE,
        "same destination, same rule"
    );
    assert_eq!(h.lone(&p([10, 0, 0, 2], [8, 8, 4, 4])), [1]);
}

// ------------------------------------------------------------- events

#[test]
fn decode_event_rule_fires_on_a_truncated_packet() {
    let mut h = Harness::new(&[
        r#"alert pkthdr any any -> any any (msg:"ipv4 trunc"; decode-event:ipv4.trunc_pkt; sid:1;)"#,
        r#"alert ip any any -> any any (msg:"any ip"; ttl:64; sid:2;)"#,
    ]);
    let good = u(b"hello world");
    assert_eq!(h.lone(&good), [2]);
    // Cut the frame inside the UDP payload: IPv4 total length says more.
    let mut bytes = good.bytes();
    bytes.truncate(14 + 20 + 8 + 3);
    assert_eq!(h.raw_packet(&bytes, T0, None), [1]);
}

// ------------------------------------------------------------- stream

#[test]
fn stream_rules_inspect_reassembled_data_in_their_direction() {
    let mut h = Harness::new(&[
        r#"alert tcp any any -> any 80 (msg:"stream"; flow:to_server,established; content:"evil"; sid:1;)"#,
        r#"alert tcp any 80 -> any any (msg:"reply"; flow:to_client; content:"200 OK"; sid:2;)"#,
    ]);
    let c2s = tcp([10, 0, 0, 1], 40000, [93, 184, 216, 34], 80, b"");
    let s2c = tcp([93, 184, 216, 34], 80, [10, 0, 0, 1], 40000, b"");
    let tc = TO_SERVER.dir(FlowDir::ToClient);
    let mut fd = FlowDetect::default();
    assert_eq!(
        h.stream(&c2s, TO_SERVER, &mut fd, b"GET /evil HTTP/1.1"),
        [1]
    );
    assert_eq!(
        h.stream(&c2s, TO_SERVER, &mut fd, b"GET /good HTTP/1.1"),
        NONE
    );
    assert_eq!(h.stream(&s2c, tc, &mut fd, b"HTTP/1.1 200 OK evil"), [2]);
    assert_eq!(
        h.stream(&c2s, TO_SERVER.established(false), &mut fd, b"evil"),
        NONE
    );
}

#[test]
fn stream_content_split_across_chunks_matches() {
    let mut h = Harness::new(&[
        r#"alert tcp any any -> any 80 (msg:"stream"; flow:to_server,established; content:"evil"; sid:1;)"#,
    ]);
    let c2s = tcp([10, 0, 0, 1], 40000, [93, 184, 216, 34], 80, b"");
    let mut fd = FlowDetect::default();
    let mut got = h.stream(&c2s, TO_SERVER, &mut fd, b"GET /ev");
    got.extend(h.stream(&c2s, TO_SERVER, &mut fd, b"il HTTP/1.1"));
    assert_eq!(got, [1]);
}

#[test]
fn stream_window_does_not_alert_twice_on_kept_bytes() {
    let mut h = Harness::new(&[
        r#"alert tcp any any -> any 80 (msg:"stream"; flow:to_server,established; content:"evil"; sid:1;)"#,
        r#"alert tcp any any -> any 80 (msg:"anchored"; flow:to_server,established; content:"GET"; depth:3; sid:2;)"#,
    ]);
    let c2s = tcp([10, 0, 0, 1], 40000, [93, 184, 216, 34], 80, b"");
    let mut fd = FlowDetect::default();
    // "evil" wholly in the first chunk: one alert, not a second when the
    // next chunk is inspected with the first one's tail in front of it.
    let mut got = h.stream(&c2s, TO_SERVER, &mut fd, b"GET /evil");
    got.extend(h.stream(&c2s, TO_SERVER, &mut fd, b" HTTP/1.1"));
    got.sort_unstable();
    assert_eq!(got, [1, 2]);
    // An anchored pattern is judged on each chunk alone: "GET" at the start
    // of a later chunk matches, a "GET" straddling two chunks does not.
    let mut fd = FlowDetect::default();
    let mut got = h.stream(&c2s, TO_SERVER, &mut fd, b"xxG");
    got.extend(h.stream(&c2s, TO_SERVER, &mut fd, b"ET /"));
    assert!(got.is_empty(), "{got:?}");
    assert_eq!(h.stream(&c2s, TO_SERVER, &mut fd, b"GET /"), [2]);
}

// ----------------------------------------------------------------- tx

/// A transaction as a list of (buffer, direction or both, instance).
#[derive(Default)]
struct TestTx {
    bufs: Vec<(Buffer, Option<FlowDir>, Vec<u8>)>,
}

impl TestTx {
    fn with(mut self, b: Buffer, dir: Option<FlowDir>, v: &str) -> TestTx {
        self.bufs.push((b, dir, v.as_bytes().to_vec()));
        self
    }
}

impl TxSource for TestTx {
    fn each(&self, buffer: Buffer, dir: FlowDir, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        for (b, d, v) in &self.bufs {
            if *b == buffer && d.is_none_or(|d| d == dir) && f(v) {
                return true;
            }
        }
        false
    }
    fn check(&self, _check: &Check, _dir: FlowDir) -> Option<bool> {
        None
    }
    fn has_event(&self, _layer: &str, _name: &str) -> bool {
        false
    }
}

fn http_c2s() -> Frame {
    tcp([10, 0, 0, 1], 40000, [93, 184, 216, 34], 80, b"")
}

fn http_req(method: &str, uri: &str) -> TestTx {
    TestTx::default()
        .with(Buffer::HttpMethod, Some(FlowDir::ToServer), method)
        .with(Buffer::HttpUri, Some(FlowDir::ToServer), uri)
}

#[test]
fn http_uri_and_method_on_a_transaction() {
    let mut h = Harness::new(&[
        r#"alert http any any -> any any (msg:"login post"; flow:established,to_server; http.method; content:"POST"; http.uri; content:"/login"; startswith; classtype:trojan-activity; sid:1;)"#,
        r#"alert http any any -> any any (msg:"uri only"; http.uri; content:"admin"; nocase; sid:2;)"#,
    ]);
    let f = TO_SERVER.app("http");
    let c = http_c2s();
    assert_eq!(h.tx(&c, f, 0, &http_req("POST", "/login?u=x"), None), [1]);
    assert_eq!(h.tx(&c, f, 1, &http_req("GET", "/login"), None), NONE);
    assert_eq!(
        h.tx(&c, f, 2, &http_req("POST", "/api/login"), None),
        NONE,
        "startswith"
    );
    assert_eq!(
        h.tx(&c, f, 3, &http_req("post", "/login"), None),
        NONE,
        "case"
    );
    assert_eq!(h.tx(&c, f, 4, &http_req("GET", "/ADMIN/"), None), [2]);
    assert_eq!(
        h.tx(&c, f.app("dns"), 5, &http_req("POST", "/login"), None),
        NONE,
        "http rules do not run on other protocols' transactions"
    );
}

#[test]
fn dns_query_is_a_multi_buffer() {
    let mut h = Harness::new(&[
        r#"alert dns any any -> any any (msg:"evil"; dns.query; content:"evil.example"; sid:1;)"#,
        r#"alert dns any any -> any any (msg:"two in one"; dns.query; content:"good"; content:"evil"; distance:0; sid:2;)"#,
        r#"alert dns any any -> any any (msg:"dotprefix"; dns.query; dotprefix; content:".example.com"; endswith; sid:3;)"#,
    ]);
    let f = TO_SERVER.app("dns");
    let c = u(b"");
    let q = |names: &[&str]| {
        names.iter().fold(TestTx::default(), |t, n| {
            t.with(Buffer::DnsQuery, Some(FlowDir::ToServer), n)
        })
    };
    assert_eq!(
        h.tx(&c, f, 0, &q(&["good.test", "evil.example"]), None),
        [1]
    );
    assert_eq!(
        h.tx(&c, f, 1, &q(&["good.test", "evil.test"]), None),
        NONE,
        "contents of one rule must match within one instance"
    );
    assert_eq!(h.tx(&c, f, 2, &q(&["good-evil.test"]), None), [2]);
    assert_eq!(h.tx(&c, f, 3, &q(&["example.com"]), None), [3]);
    assert_eq!(h.tx(&c, f, 4, &q(&["a", "www.example.com"]), None), [3]);
    assert_eq!(
        h.tx(&c, f, 5, &q(&["badexample.com"]), None),
        NONE,
        "dotprefix: a label boundary is required"
    );
    assert_eq!(
        h.tx(&c, f, 6, &q(&["example.com.evil"]), None),
        NONE,
        "endswith"
    );
}

#[test]
/// Suricata keeps detection state per transaction and direction: a rule on
/// a both-way buffer may alert once for the request side and once for the
/// response side, never twice for the same side.
fn a_tx_rule_alerts_once_per_transaction_and_direction() {
    let mut h = Harness::new(&[
        r#"alert http any any -> any any (msg:"keep-alive"; http.header; content:"keep-alive"; sid:1;)"#,
        r#"alert http any any -> any any (msg:"response only"; flow:to_client; http.header; content:"keep-alive"; sid:2;)"#,
    ]);
    let tx = TestTx::default().with(Buffer::HttpHeader, None, "Connection: keep-alive\r\n");
    let ts = TO_SERVER.app("http");
    let tc = ts.dir(FlowDir::ToClient);
    let c = http_c2s();
    let s = tcp([93, 184, 216, 34], 80, [10, 0, 0, 1], 40000, b"");
    let mut fd = FlowDetect::default();
    assert_eq!(h.tx(&c, ts, 0, &tx, Some(&mut fd)), [1]);
    assert_eq!(
        h.tx(&c, ts, 0, &tx, Some(&mut fd)),
        NONE,
        "request side done"
    );
    assert_eq!(h.tx(&s, tc, 0, &tx, Some(&mut fd)), [1, 2]);
    assert_eq!(h.tx(&s, tc, 0, &tx, Some(&mut fd)), NONE, "tx 0 is done");
    assert_eq!(
        h.tx(&c, ts, 1, &tx, Some(&mut fd)),
        [1],
        "a new transaction"
    );
    assert_eq!(h.tx(&s, tc, 1, &tx, Some(&mut fd)), [1, 2]);
}

#[test]
fn a_tx_rule_can_read_flowbits_set_by_a_packet_rule() {
    let mut h = Harness::new(&[
        r#"alert udp any any -> any 53 (msg:"mark"; content:"MARK"; flowbits:set,marked; noalert; sid:1;)"#,
        r#"alert dns any any -> any any (msg:"marked query"; flowbits:isset,marked; dns.query; content:"x.test"; sid:2;)"#,
    ]);
    let f = TO_SERVER.app("dns");
    let tx = TestTx::default().with(Buffer::DnsQuery, Some(FlowDir::ToServer), "x.test");
    let mut fd = FlowDetect::default();
    assert_eq!(h.tx(&u(b""), f, 0, &tx, Some(&mut fd)), NONE);
    assert_eq!(h.packet(&u(b"..MARK.."), Some((f, &mut fd))), NONE);
    assert_eq!(h.tx(&u(b""), f, 1, &tx, Some(&mut fd)), [2]);
}

// ---------------------------------------------------------- prefilter

#[test]
fn prefilter_never_lets_through_a_rule_whose_fast_pattern_is_absent() {
    let mut h = Harness::new(&[
        r#"alert udp any any -> any any (msg:"two"; content:"abc"; content:"longer-pattern"; sid:1;)"#,
        r#"alert udp any any -> any any (msg:"explicit fp"; content:"needle"; fast_pattern; content:"a-much-longer-string"; sid:2;)"#,
    ]);
    assert_eq!(h.lone(&u(b"abc only")), NONE);
    assert_eq!(h.lone(&u(b"abc and the longer-pattern")), [1]);
    assert_eq!(h.lone(&u(b"a-much-longer-string")), NONE);
    assert_eq!(h.lone(&u(b"needle a-much-longer-string")), [2]);
    assert_eq!(h.lone(&u(b"a-much-longer-string needle")), [2]);
}

#[test]
fn prefilter_same_pattern_different_case_with_and_without_nocase() {
    let mut h = Harness::new(&[
        r#"alert udp any any -> any any (msg:"exact Upper"; content:"Needle"; sid:1;)"#,
        r#"alert udp any any -> any any (msg:"exact lower"; content:"needle"; sid:2;)"#,
        r#"alert udp any any -> any any (msg:"nocase"; content:"NEEDLE"; nocase; sid:3;)"#,
    ]);
    assert_eq!(h.lone(&u(b"xxNeedlexx")), [1, 3]);
    assert_eq!(h.lone(&u(b"xxneedlexx")), [2, 3]);
    assert_eq!(h.lone(&u(b"xxNEEDLExx")), [3]);
    assert_eq!(h.lone(&u(b"xxNeEdLexx")), [3]);
    assert_eq!(h.lone(&u(b"xxNeed")), NONE);
    assert_eq!(h.lone(&u(b"Needle needle")), [1, 2, 3]);
}

#[test]
fn many_rules_behind_one_prefilter() {
    // 200 rules with distinct patterns; each packet must alert exactly the
    // rules whose pattern it holds.
    let texts: Vec<String> = (0..200)
        .map(|i| {
            format!(
                r#"alert udp any any -> any any (msg:"r{i}"; content:"pat-{i:03}-x"; sid:{};)"#,
                1000 + i
            )
        })
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut h = Harness::new(&refs);
    assert_eq!(h.lone(&u(b"pat-007-x and pat-199-x")), [1007, 1199]);
    assert_eq!(h.lone(&u(b"pat-07-x pat-1999-x")), NONE);
    assert_eq!(h.lone(&u(b"PAT-100-X")), NONE, "case-sensitive content");
}

// --------------------------------------------------------- rule order

#[test]
fn pass_rules_run_first_and_stop_alerts() {
    let mut h = Harness::new(&[
        r#"alert udp any any -> any any (msg:"alert"; content:"ok"; sid:1;)"#,
        r#"pass udp any any -> any any (msg:"pass"; content:"ok"; sid:2;)"#,
        r#"alert udp any any -> any any (msg:"other"; content:"other"; sid:3;)"#,
    ]);
    assert_eq!(h.lone(&u(b"ok")), NONE);
    assert_eq!(h.lone(&u(b"other")), [3]);
}

#[test]
fn build_reports_rules_it_cannot_compile_and_keeps_the_others() {
    let vars = Vars::default();
    let classes = Classifications::builtin();
    let good = parse_rule(
        r#"alert udp any any -> any any (msg:"ok"; content:"x"; sid:1;)"#,
        &vars,
        &classes,
    )
    .unwrap();
    let mixed = parse_rule(
        r#"alert http any any -> any any (msg:"mixed"; http.uri; content:"a"; dns.query; content:"b"; sid:2;)"#,
        &vars,
        &classes,
    );
    let mut sigs = vec![good];
    let expect_error = mixed.is_ok();
    if let Ok(m) = mixed {
        sigs.push(m);
    }
    let (e, errors) = Engine::build(sigs);
    assert_eq!(e.len(), 1);
    if expect_error {
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().contains("sid 2"), "{}", errors[0]);
    }
}

// ----------------------------------------------------------- threshold.config

#[test]
fn threshold_config_suppresses_and_replaces_thresholds() {
    let mut h = Harness::new(&[
        r#"alert udp any any -> any any (msg:"a"; content:"x"; sid:1;)"#,
        r#"alert udp any any -> any any (msg:"b"; content:"x"; sid:2;)"#,
        r#"alert udp any any -> any any (msg:"c"; content:"x"; sid:3;)"#,
    ]);
    let cfg = watchfloor_rules::ThresholdConfig::parse(
        "suppress gen_id 1, sig_id 1\n\
         suppress gen_id 1, sig_id 2, track by_src, ip 10.0.0.1\n\
         threshold gen_id 1, sig_id 3, type limit, track by_src, count 1, seconds 60\n",
        "threshold.config",
        &Vars::default(),
    )
    .unwrap();
    assert_eq!(h.engine.apply_threshold_config(&cfg), 3);
    let from_suppressed = udp([10, 0, 0, 1], 1000, [10, 0, 0, 2], 53, b"x");
    let from_other = udp([10, 0, 0, 9], 1000, [10, 0, 0, 2], 53, b"x");
    // sid 1 never alerts; sid 2 not from 10.0.0.1; sid 3 once per source.
    assert_eq!(h.packet(&from_suppressed, None), [3]);
    assert_eq!(h.packet(&from_suppressed, None), Vec::<u32>::new());
    assert_eq!(h.packet(&from_other, None), [2, 3]);
    assert_eq!(h.packet(&from_other, None), [2]);
}

// --------------------------------------------------------------------- xbits

#[test]
fn xbits_follow_the_host_across_flows() {
    let mut h = Harness::new(&[
        r#"alert udp any any -> any 53 (msg:"mark"; content:"mark"; xbits:set,seen,track ip_src,expire 60; noalert; sid:1;)"#,
        r#"alert udp any any -> any 53 (msg:"again"; content:"again"; xbits:isset,seen,track ip_src; sid:2;)"#,
        r#"alert udp any any -> any 53 (msg:"first"; content:"again"; xbits:isnotset,seen,track ip_src; sid:3;)"#,
    ]);
    // Another host, no bit: only the isnotset rule.
    let other = udp([10, 0, 0, 9], 1000, [10, 0, 0, 2], 53, b"again");
    assert_eq!(h.packet(&other, None), [3]);
    // The host sets the bit in one flow and is recognised in another.
    let mark = udp([10, 0, 0, 1], 1000, [10, 0, 0, 2], 53, b"mark");
    assert_eq!(h.packet(&mark, None), Vec::<u32>::new());
    let again = udp([10, 0, 0, 1], 2000, [10, 0, 0, 3], 53, b"again");
    assert_eq!(h.packet(&again, None), [2]);
}
