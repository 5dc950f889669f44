#![no_main]
//! Arbitrary bytes through the DNS UDP parser, the TCP framer (split at
//! fuzz-chosen points, both directions) and the EVE builder (v3 and v2).

use libfuzzer_sys::fuzz_target;
use watchfloor_applayer::dns::{
    eve_dns, parse_message, probe_tcp, probe_udp, DnsConfig, DnsEveOptions, DnsEveVersion, DnsState,
};
use watchfloor_applayer::Direction;

fuzz_target!(|data: &[u8]| {
    // First byte: split stride for the TCP feed; the rest is the payload.
    let Some((&stride, payload)) = data.split_first() else {
        return;
    };
    let _ = parse_message(payload);
    let _ = probe_udp(payload);
    let _ = probe_tcp(payload);

    let v3 = DnsEveOptions::default();
    let v2 = DnsEveOptions {
        version: DnsEveVersion::V2,
        ..DnsEveOptions::default()
    };

    let mut udp = DnsState::new(DnsConfig::default());
    let _ = udp.parse_udp(Direction::ToServer, payload);
    let _ = udp.parse_udp(Direction::ToClient, payload);

    let mut tcp = DnsState::new(DnsConfig {
        tcp_buffer_cap: 4096,
        ..DnsConfig::default()
    });
    let step = usize::from(stride).max(1);
    for (i, chunk) in payload.chunks(step).enumerate() {
        let dir = if i % 3 == 2 { Direction::ToClient } else { Direction::ToServer };
        if stride == 0xff && i == 1 {
            tcp.tcp_gap(dir);
        }
        let _ = tcp.parse_tcp(dir, chunk);
    }

    for st in [&mut udp, &mut tcp] {
        let _ = st.take_orphan_events();
        for tx in st.drain() {
            for v in eve_dns(&tx, &v3).iter().chain(eve_dns(&tx, &v2).iter()) {
                let _ = v.to_string();
            }
        }
    }
});
