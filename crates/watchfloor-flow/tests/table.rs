mod common;

use common::*;
use watchfloor_decode::tcp_flags::{ACK, SYN};
use watchfloor_decode::InnerTuple;
use watchfloor_flow::{
    Direction, EndReason, FlowConfig, FlowRecorder, FlowState, FlowTable, StreamConfig,
};

fn table() -> FlowTable<()> {
    FlowTable::new(FlowConfig::default(), StreamConfig::default()).unwrap()
}

#[test]
fn udp_both_directions() {
    let mut t = table();
    let mut r = Rec::default();
    t.process(&udp(T0, "10.0.0.1", 5353, "10.0.0.53", 53, b"q"), &mut r);
    assert_eq!(t.iter().next().unwrap().state(), FlowState::New);
    t.process(
        &udp(T0 + SEC / 2, "10.0.0.53", 53, "10.0.0.1", 5353, b"answer"),
        &mut r,
    );
    assert_eq!(t.len(), 1);
    assert_eq!(t.iter().next().unwrap().state(), FlowState::Established);
    assert_eq!(r.packets[0].1, Direction::ToServer);
    assert_eq!(r.packets[1].1, Direction::ToClient);
    assert_eq!(r.packets[0].0, r.packets[1].0);
    t.flush_all(&mut r);
    let v = r.json(0);
    assert_eq!(v["proto"], "UDP");
    assert_eq!(v["flow"]["bytes_toserver"], 14 + 20 + 8 + 1);
    assert_eq!(v["flow"]["bytes_toclient"], 14 + 20 + 8 + 6);
    assert_eq!(v["flow"]["state"], "established");
    assert!(v.get("tcp").is_none());
}

#[test]
fn icmp_echo_request_and_reply_share_a_flow() {
    let mut t = table();
    let mut r = Rec::default();
    t.process(&icmp(T0, "10.0.0.1", "10.0.0.2", 8, 0, None), &mut r);
    t.process(&icmp(T0 + 1000, "10.0.0.2", "10.0.0.1", 0, 0, None), &mut r);
    assert_eq!(t.len(), 1);
    t.flush_all(&mut r);
    let v = r.json(0);
    assert_eq!(v["proto"], "ICMP");
    assert_eq!(v["icmp_type"], 8);
    assert_eq!(v["icmp_code"], 0);
    assert_eq!(v["response_icmp_type"], 0);
    assert_eq!(v["response_icmp_code"], 0);
    assert!(v.get("src_port").is_none());
    assert_eq!(v["flow"]["pkts_toclient"], 1);
}

#[test]
fn icmp_unreachable_joins_the_flow_it_quotes() {
    let mut t = table();
    let mut r = Rec::default();
    t.process(&udp(T0, "10.0.0.1", 4000, "10.0.0.9", 53, b"q"), &mut r);
    let inner = InnerTuple {
        src: ip("10.0.0.1"),
        dst: ip("10.0.0.9"),
        proto: 17,
        sport: 4000,
        dport: 53,
    };
    t.process(
        &icmp(T0, "192.168.1.1", "10.0.0.1", 3, 3, Some(inner)),
        &mut r,
    );
    assert_eq!(t.len(), 1);
    assert_eq!(r.packets[1], (r.packets[0].0, Direction::ToClient));
    assert_eq!(t.stats().icmp_errors_attached, 1);
}

#[test]
fn vlan_separates_flows() {
    let mut t = table();
    let mut r = Rec::default();
    let mut a = udp(T0, "10.0.0.1", 1, "10.0.0.2", 2, b"");
    a.vlan = [10, 0, 0];
    a.vlan_count = 1;
    let mut b = udp(T0, "10.0.0.1", 1, "10.0.0.2", 2, b"");
    b.vlan = [20, 0, 0];
    b.vlan_count = 1;
    t.process(&a, &mut r);
    t.process(&b, &mut r);
    assert_eq!(t.len(), 2);
    assert_ne!(r.packets[0].0, r.packets[1].0);
    t.flush_all(&mut r);
    let mut vlans: Vec<_> = (0..2).map(|i| r.json(i)["vlan"].clone()).collect();
    vlans.sort_by_key(|v| v[0].as_u64());
    assert_eq!(
        vlans,
        vec![serde_json::json!([10]), serde_json::json!([20])]
    );
}

#[test]
fn timeouts_follow_packet_time() {
    let mut t = table();
    let mut r = Rec::default();
    t.process(&udp(T0, "10.0.0.1", 1, "10.0.0.2", 2, b""), &mut r);
    t.process(
        &tcp(T0, "10.0.0.1", 3, "10.0.0.2", 4, SYN, 0, 0, b""),
        &mut r,
    );
    // UDP new: 30 s; TCP new: 60 s.
    assert_eq!(t.expire(T0 + 29 * SEC, &mut r), 0);
    assert_eq!(t.expire(T0 + 30 * SEC, &mut r), 1);
    assert_eq!(r.ended[0].0, EndReason::Timeout);
    assert_eq!(r.json(0)["proto"], "UDP");
    assert_eq!(r.json(0)["flow"]["reason"], "timeout");
    // A packet 61 s later drives the check by itself.
    t.process(
        &udp(T0 + 61 * SEC, "10.0.0.7", 1, "10.0.0.8", 2, b""),
        &mut r,
    );
    assert_eq!(r.ended.len(), 2);
    assert_eq!(r.json(1)["proto"], "TCP");
    assert_eq!(t.len(), 1);
    let st = t.stats();
    assert_eq!(st.ended_timeout, 2);
    assert_eq!(st.active, 1);
}

#[test]
fn memcap_enters_emergency_and_evicts_oldest() {
    let cfg = FlowConfig {
        memcap: 64 * 1024,
        ..FlowConfig::default()
    };
    let mut t: FlowTable<()> = FlowTable::new(cfg, StreamConfig::default()).unwrap();
    let mut r = Rec::default();
    for i in 0..2000u32 {
        let src = format!("10.{}.{}.1", i / 256, i % 256);
        t.process(
            &udp(T0 + i64::from(i) * 1000, &src, 1, "10.255.0.1", 2, b""),
            &mut r,
        );
    }
    let st = t.stats();
    assert!(t.in_emergency());
    assert_eq!(st.emergency_mode_entered, 1);
    assert!(st.emergency_evictions > 0);
    assert!(st.memuse <= 64 * 1024, "{}", st.memuse);
    // The oldest went first, flagged as emergency timeouts.
    let first = r.json(0);
    assert_eq!(first["src_ip"], "10.0.0.1");
    assert_eq!(first["flow"]["reason"], "timeout");
    assert_eq!(first["flow"]["emergency"], true);
    assert_eq!(st.created(), 2000);
    assert_eq!(r.ended.len() as u64 + st.active, 2000);
}

#[test]
fn flow_id_is_stable_and_shared_by_both_directions() {
    let run = || {
        let mut t = table();
        let mut r = Rec::default();
        t.process(
            &udp(T0 + 123_456_000, "10.0.0.1", 1, "10.0.0.2", 2, b""),
            &mut r,
        );
        t.process(
            &udp(T0 + 223_456_000, "10.0.0.2", 2, "10.0.0.1", 1, b""),
            &mut r,
        );
        (r.packets[0].0, r.packets[1].0)
    };
    let (a, b) = run();
    assert_eq!(a, b);
    assert_eq!(run(), (a, b));
    assert!(a != 0 && a <= i64::MAX as u64);
}

#[test]
fn community_id_matches_conformance_case() {
    // shared/conformance/cases/community-id-sameip: seed 1.
    let mut t = table();
    let mut r = Rec {
        recorder: FlowRecorder {
            community_id_seed: Some(1),
            ethernet: true,
        },
        ..Rec::default()
    };
    t.process(
        &tcp(
            T0,
            "192.168.0.254",
            56162,
            "192.168.0.254",
            3306,
            SYN,
            1,
            0,
            b"",
        ),
        &mut r,
    );
    let mut reply = tcp(
        T0,
        "192.168.0.254",
        3306,
        "192.168.0.254",
        56162,
        SYN | ACK,
        9,
        2,
        b"",
    );
    if let Some(e) = reply.ether.as_mut() {
        std::mem::swap(&mut e.src, &mut e.dst);
    }
    t.process(&reply, &mut r);
    assert_eq!(t.len(), 1);
    assert_eq!(r.packets[1].1, Direction::ToClient);
    t.flush_all(&mut r);
    let v = r.json(0);
    assert_eq!(v["community_id"], "1:IJQHtzXv/tXud3FtXIufkDsfEd4=");
    assert_eq!(v["src_port"], 56162);
    assert_eq!(v["flow"]["pkts_toclient"], 1);
    assert_eq!(
        v["ether"]["src_macs"],
        serde_json::json!(["02:00:00:00:00:01"])
    );
    assert_eq!(
        v["ether"]["dest_macs"],
        serde_json::json!(["02:00:00:00:00:02"])
    );
}

#[test]
fn single_syn_flow_record_matches_suricata() {
    // Shape of shared/conformance/cases/bug-6733-syn-packet-flow-output.
    let mut t = table();
    let mut r = Rec::default();
    let p = tcp(
        T0,
        "147.183.77.73",
        38212,
        "155.166.235.43",
        25,
        SYN,
        1,
        0,
        &[0; 12],
    );
    t.process(&p, &mut r);
    t.flush_all(&mut r);
    let v = r.json(0);
    assert_eq!(v["flow"]["bytes_toserver"], 66);
    assert_eq!(v["flow"]["pkts_toclient"], 0);
    assert_eq!(v["flow"]["state"], "new");
    assert_eq!(v["flow"]["reason"], "shutdown");
    assert_eq!(v["tcp"]["state"], "syn_sent");
    assert_eq!(v["tcp"]["tcp_flags"], "02");
    assert_eq!(v["tcp"]["tcp_flags_tc"], "00");
    assert_eq!(v["tcp"]["syn"], true);
}

#[test]
fn packets_without_flow_are_counted() {
    let mut t = table();
    let mut r = Rec::default();
    let mut p = udp(T0, "10.0.0.1", 1, "10.0.0.2", 2, b"");
    p.ip = None;
    assert_eq!(t.process(&p, &mut r), None);
    assert_eq!(t.stats().no_flow, 1);
}
