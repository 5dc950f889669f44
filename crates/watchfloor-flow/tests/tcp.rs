mod common;

use common::*;
use watchfloor_decode::tcp_flags::{ACK, FIN, PSH, RST, SYN};
use watchfloor_decode::L4;
use watchfloor_flow::{
    Direction, EndReason, FlowConfig, FlowState, FlowTable, StreamConfig, StreamEvent, TcpState,
};

const C: &str = "10.0.0.1";
const S: &str = "10.0.0.2";

fn table(stream: StreamConfig) -> FlowTable<()> {
    FlowTable::new(FlowConfig::default(), stream).unwrap()
}

#[test]
fn handshake_data_and_fin_teardown() {
    let mut t = table(StreamConfig::default());
    let mut r = Rec::default();
    let ts = |n: i64| T0 + n * 1000;
    t.process(&tcp(ts(0), C, 40000, S, 80, SYN, 100, 0, b""), &mut r);
    let id = r.packets[0].0;
    let key = *t.iter().next().unwrap().key();
    assert_eq!(t.get(&key).unwrap().tcp_state(), Some(TcpState::SynSent));
    t.process(
        &tcp(ts(1), S, 80, C, 40000, SYN | ACK, 500, 101, b""),
        &mut r,
    );
    assert_eq!(t.get(&key).unwrap().tcp_state(), Some(TcpState::SynRecv));
    t.process(&tcp(ts(2), C, 40000, S, 80, ACK, 101, 501, b""), &mut r);
    assert_eq!(
        t.get(&key).unwrap().tcp_state(),
        Some(TcpState::Established)
    );
    assert_eq!(t.get(&key).unwrap().state(), FlowState::Established);
    t.process(
        &tcp(
            ts(3),
            C,
            40000,
            S,
            80,
            PSH | ACK,
            101,
            501,
            b"GET / HTTP/1.0\r\n\r\n",
        ),
        &mut r,
    );
    t.process(
        &tcp(
            ts(4),
            S,
            80,
            C,
            40000,
            PSH | ACK,
            501,
            119,
            b"HTTP/1.0 200 OK\r\n\r\n",
        ),
        &mut r,
    );
    t.process(
        &tcp(ts(5), C, 40000, S, 80, FIN | ACK, 119, 520, b""),
        &mut r,
    );
    assert_eq!(t.get(&key).unwrap().tcp_state(), Some(TcpState::CloseWait));
    t.process(
        &tcp(ts(6), S, 80, C, 40000, FIN | ACK, 520, 120, b""),
        &mut r,
    );
    assert_eq!(t.get(&key).unwrap().tcp_state(), Some(TcpState::LastAck));
    assert_eq!(t.get(&key).unwrap().state(), FlowState::Closed);
    t.process(&tcp(ts(7), C, 40000, S, 80, ACK, 120, 521, b""), &mut r);
    assert_eq!(t.get(&key).unwrap().tcp_state(), Some(TcpState::Closed));
    assert!(r.packets.iter().all(|(i, _)| *i == id));

    assert_eq!(r.data[0], b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(r.data[1], b"HTTP/1.0 200 OK\r\n\r\n");
    assert!(r.gaps.is_empty(), "{:?}", r.gaps);
    let st = t.stats();
    assert_eq!(st.tcp_sessions, 1);
    assert_eq!(st.created_tcp, 1);

    t.flush_all(&mut r);
    let v = r.json(0);
    assert_eq!(v["event_type"], "flow");
    assert_eq!(v["src_ip"], C);
    assert_eq!(v["src_port"], 40000);
    assert_eq!(v["dest_port"], 80);
    assert_eq!(v["proto"], "TCP");
    assert_eq!(v["flow"]["pkts_toserver"], 5);
    assert_eq!(v["flow"]["pkts_toclient"], 3);
    assert_eq!(v["flow"]["bytes_toserver"], 4 * 54 + 54 + 18);
    assert_eq!(v["flow"]["state"], "closed");
    assert_eq!(v["flow"]["reason"], "shutdown");
    assert_eq!(v["flow"]["alerted"], false);
    assert_eq!(v["flow"]["age"], 0);
    assert_eq!(v["tcp"]["tcp_flags"], "1b");
    assert_eq!(v["tcp"]["tcp_flags_ts"], "1b");
    assert_eq!(v["tcp"]["tcp_flags_tc"], "1b");
    assert_eq!(v["tcp"]["state"], "closed");
    assert_eq!(v["tcp"]["syn"], true);
    assert_eq!(v["flow_id"].as_u64(), Some(id));
    assert!(id > 0 && id < (1u64 << 53));
}

#[test]
fn server_closes_first() {
    let mut t = table(StreamConfig::default());
    let mut r = Rec::default();
    t.process(&tcp(T0, C, 1, S, 2, SYN, 0, 0, b""), &mut r);
    t.process(&tcp(T0, S, 2, C, 1, SYN | ACK, 0, 1, b""), &mut r);
    t.process(&tcp(T0, C, 1, S, 2, ACK, 1, 1, b""), &mut r);
    let key = *t.iter().next().unwrap().key();
    let st = |t: &FlowTable<()>| t.get(&key).unwrap().tcp_state().unwrap();
    t.process(&tcp(T0, S, 2, C, 1, FIN | ACK, 1, 1, b""), &mut r);
    assert_eq!(st(&t), TcpState::FinWait1);
    t.process(&tcp(T0, C, 1, S, 2, ACK, 1, 2, b""), &mut r);
    assert_eq!(st(&t), TcpState::FinWait2);
    t.process(&tcp(T0, C, 1, S, 2, FIN | ACK, 1, 2, b""), &mut r);
    assert_eq!(st(&t), TcpState::TimeWait);
    t.process(&tcp(T0, S, 2, C, 1, ACK, 2, 2, b""), &mut r);
    assert_eq!(st(&t), TcpState::Closed);
}

#[test]
fn rst_closes() {
    let mut t = table(StreamConfig::default());
    let mut r = Rec::default();
    t.process(&tcp(T0, C, 1, S, 2, SYN, 0, 0, b""), &mut r);
    t.process(&tcp(T0, S, 2, C, 1, RST | ACK, 0, 1, b""), &mut r);
    let f = t.iter().next().unwrap();
    assert_eq!(f.tcp_state(), Some(TcpState::Closed));
    assert_eq!(f.state(), FlowState::Closed);
    t.flush_all(&mut r);
    assert_eq!(r.json(0)["tcp"]["rst"], true);
    assert_eq!(r.json(0)["tcp"]["tcp_flags_tc"], "14");
}

#[test]
fn rst_without_session_is_an_event() {
    let mut t = table(StreamConfig::default());
    let mut r = Rec::default();
    t.process(&tcp(T0, C, 1, S, 2, RST, 0, 0, b""), &mut r);
    assert_eq!(r.events, vec![StreamEvent::RstButNoSession]);
    t.flush_all(&mut r);
    let v = r.json(0);
    assert_eq!(v["tcp"]["tcp_flags"], "00");
    assert!(v["tcp"].get("state").is_none());
    assert_eq!(v["flow"]["state"], "new");
}

#[test]
fn synack_first_reverses_the_flow_with_midstream() {
    let mut t = table(StreamConfig {
        midstream: true,
        ..StreamConfig::default()
    });
    let mut r = Rec::default();
    t.process(&tcp(T0, S, 80, C, 40000, SYN | ACK, 500, 101, b""), &mut r);
    t.process(
        &tcp(T0 + 1000, S, 80, C, 40000, PSH | ACK, 501, 101, b"hello"),
        &mut r,
    );
    t.process(
        &tcp(T0 + 2000, S, 80, C, 40000, FIN | ACK, 506, 101, b""),
        &mut r,
    );
    assert_eq!(r.packets[0].1, Direction::ToClient);
    assert_eq!(r.data[1], b"hello");
    assert_eq!(t.stats().midstream_pickups, 1);
    t.flush_all(&mut r);
    let v = r.json(0);
    assert_eq!(v["src_ip"], C);
    assert_eq!(v["dest_port"], 80);
    assert_eq!(v["flow"]["pkts_toserver"], 0);
    assert_eq!(v["flow"]["pkts_toclient"], 3);
    assert_eq!(v["tcp"]["tcp_flags_tc"], "1b");
    assert_eq!(v["tcp"]["tcp_flags_ts"], "00");
    assert_eq!(v["tcp"]["state"], "fin_wait1");
    assert_eq!(v["flow"]["state"], "established");
}

#[test]
fn synack_first_without_midstream_keeps_direction_and_no_session() {
    let mut t = table(StreamConfig::default());
    let mut r = Rec::default();
    t.process(&tcp(T0, S, 80, C, 40000, SYN | ACK, 500, 101, b""), &mut r);
    t.process(
        &tcp(T0, C, 40000, S, 80, PSH | ACK, 101, 501, b"data"),
        &mut r,
    );
    assert!(r.data[0].is_empty());
    t.flush_all(&mut r);
    let v = r.json(0);
    assert_eq!(v["src_ip"], S);
    assert_eq!(v["flow"]["state"], "new");
    assert_eq!(v["tcp"]["tcp_flags"], "00");
}

#[test]
fn midstream_ack_pickup_and_client_fin() {
    let mut t = table(StreamConfig {
        midstream: true,
        ..StreamConfig::default()
    });
    let mut r = Rec::default();
    t.process(&tcp(T0, C, 5, S, 80, PSH | ACK, 1000, 9000, b"abc"), &mut r);
    t.process(&tcp(T0, C, 5, S, 80, FIN | ACK, 1003, 9000, b""), &mut r);
    assert_eq!(r.data[0], b"abc");
    let f = t.iter().next().unwrap();
    assert_eq!(f.tcp_state(), Some(TcpState::CloseWait));
    assert!(f.tcp().unwrap().is_midstream());
}

#[test]
fn async_client_only_session() {
    let mut t = table(StreamConfig {
        midstream: true,
        async_oneside: true,
        ..StreamConfig::default()
    });
    let mut r = Rec::default();
    t.process(&tcp(T0, C, 5, S, 80, SYN, 10, 0, b""), &mut r);
    t.process(&tcp(T0, C, 5, S, 80, ACK, 11, 700, b""), &mut r);
    t.process(&tcp(T0, C, 5, S, 80, PSH | ACK, 11, 700, b"GET"), &mut r);
    t.process(&tcp(T0, C, 5, S, 80, FIN | ACK, 14, 700, b""), &mut r);
    assert_eq!(r.data[0], b"GET");
    let f = t.iter().next().unwrap();
    // As Suricata: the one-sided client's FIN leaves the session established.
    assert_eq!(f.tcp_state(), Some(TcpState::Established));
    assert!(f.tcp().unwrap().is_async());

    // Without async-oneside the session never leaves syn_sent.
    let mut t = table(StreamConfig {
        midstream: true,
        ..StreamConfig::default()
    });
    t.process(&tcp(T0, C, 5, S, 80, SYN, 10, 0, b""), &mut r);
    t.process(&tcp(T0, C, 5, S, 80, PSH | ACK, 11, 700, b"GET"), &mut r);
    assert_eq!(
        t.iter().next().unwrap().tcp_state(),
        Some(TcpState::SynSent)
    );
    assert_eq!(t.iter().next().unwrap().state(), FlowState::New);
}

#[test]
fn four_way_handshake() {
    let mut t = table(StreamConfig::default());
    let mut r = Rec::default();
    t.process(&tcp(T0, C, 1, S, 2, SYN, 100, 0, b""), &mut r);
    t.process(&tcp(T0, S, 2, C, 1, SYN, 500, 0, b""), &mut r);
    t.process(&tcp(T0, C, 1, S, 2, SYN | ACK, 100, 501, b""), &mut r);
    t.process(&tcp(T0, S, 2, C, 1, ACK, 501, 101, b""), &mut r);
    t.process(&tcp(T0, C, 1, S, 2, PSH | ACK, 101, 501, b"x"), &mut r);
    assert_eq!(
        t.iter().next().unwrap().tcp_state(),
        Some(TcpState::Established)
    );
    assert_eq!(r.data[0], b"x");
}

#[test]
fn tfo_data_on_syn() {
    let mut t = table(StreamConfig::default());
    let mut r = Rec::default();
    t.process(&tcp(T0, C, 1, S, 2, SYN, 100, 0, b"early"), &mut r);
    assert!(r.data[0].is_empty());
    // The SYN/ACK acknowledges the data: it enters the stream.
    t.process(&tcp(T0, S, 2, C, 1, SYN | ACK, 500, 106, b""), &mut r);
    t.process(&tcp(T0, C, 1, S, 2, ACK, 106, 501, b""), &mut r);
    t.process(&tcp(T0, C, 1, S, 2, PSH | ACK, 106, 501, b"late"), &mut r);
    assert_eq!(r.data[0], b"earlylate");

    // Acknowledging only the SYN drops the data (the client will resend it).
    let mut t = table(StreamConfig::default());
    let mut r = Rec::default();
    t.process(&tcp(T0, C, 1, S, 2, SYN, 100, 0, b"early"), &mut r);
    t.process(&tcp(T0, S, 2, C, 1, SYN | ACK, 500, 101, b""), &mut r);
    t.process(&tcp(T0, C, 1, S, 2, PSH | ACK, 101, 501, b"early"), &mut r);
    assert_eq!(r.data[0], b"early");
    assert!(r
        .events
        .contains(&StreamEvent::ThreeWhsSynackTfoDataIgnored));
}

#[test]
fn stream_data_in_order_gaps_and_bad_checksums() {
    let mut t = table(StreamConfig::default());
    let mut r = Rec::default();
    t.process(&tcp(T0, C, 1, S, 2, SYN, 0, 0, b""), &mut r);
    t.process(&tcp(T0, S, 2, C, 1, SYN | ACK, 0, 1, b""), &mut r);
    t.process(&tcp(T0, C, 1, S, 2, ACK, 1, 1, b""), &mut r);
    t.process(&tcp(T0, C, 1, S, 2, ACK, 4, 1, b"def"), &mut r);
    t.process(&tcp(T0, C, 1, S, 2, ACK, 1, 1, b"abc"), &mut r);
    let mut bad = tcp(T0, C, 1, S, 2, ACK, 7, 1, b"BAD");
    if let L4::Tcp(th) = &mut bad.l4 {
        th.checksum_ok = Some(false);
    }
    t.process(&bad, &mut r);
    t.process(&tcp(T0, C, 1, S, 2, ACK, 10, 1, b"jkl"), &mut r);
    assert_eq!(r.data[0], b"abcdef");
    // The server acknowledges past the bad segment: a gap of 3.
    t.process(&tcp(T0, S, 2, C, 1, ACK, 1, 13, b""), &mut r);
    assert_eq!(r.data[0], b"abcdefjkl");
    assert_eq!(r.gaps, vec![(Direction::ToServer, 3)]);
    assert_eq!(t.stats().invalid_checksum, 1);
    t.flush_all(&mut r);
    let v = r.json(0);
    assert_eq!(v["tcp"]["ts_gap"], true);
    assert_eq!(v["flow"]["pkts_toserver"], 6);
}

#[test]
fn port_reuse_after_close_starts_a_new_flow() {
    let mut t = table(StreamConfig::default());
    let mut r = Rec::default();
    t.process(&tcp(T0, C, 1, S, 2, SYN, 0, 0, b""), &mut r);
    t.process(&tcp(T0, S, 2, C, 1, RST | ACK, 0, 1, b""), &mut r);
    t.process(&tcp(T0 + SEC, C, 1, S, 2, SYN, 5000, 0, b""), &mut r);
    assert_eq!(r.ended.len(), 1);
    assert_eq!(r.ended[0].0, EndReason::TcpReuse);
    assert_eq!(r.json(0)["flow"]["reason"], "tcp_reuse");
    assert_eq!(t.len(), 1);
    assert_eq!(
        t.iter().next().unwrap().tcp_state(),
        Some(TcpState::SynSent)
    );
}

#[test]
fn depth_reached_is_reported_once() {
    let mut t = table(StreamConfig {
        depth: 4,
        ..StreamConfig::default()
    });
    let mut r = Rec::default();
    t.process(&tcp(T0, C, 1, S, 2, SYN, 0, 0, b""), &mut r);
    t.process(&tcp(T0, S, 2, C, 1, SYN | ACK, 0, 1, b""), &mut r);
    t.process(&tcp(T0, C, 1, S, 2, ACK, 1, 1, b"abc"), &mut r);
    t.process(&tcp(T0, C, 1, S, 2, ACK, 4, 1, b"def"), &mut r);
    t.process(&tcp(T0, C, 1, S, 2, ACK, 7, 1, b"ghi"), &mut r);
    assert_eq!(r.data[0], b"abcd");
    let n = r
        .events
        .iter()
        .filter(|e| **e == StreamEvent::ReassemblyDepthReached)
        .count();
    assert_eq!(n, 1);
}
