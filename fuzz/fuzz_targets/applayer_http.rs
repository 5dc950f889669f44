#![no_main]
//! Arbitrary bytes through the HTTP probe, the per-flow state (split at
//! fuzz-chosen points, both directions, gaps and closes) and the EVE and
//! buffer builders.

use libfuzzer_sys::fuzz_target;
use watchfloor_applayer::http::{buffers, eve_http, probe, HttpConfig, HttpEveOptions, HttpState};
use watchfloor_applayer::Direction;

fuzz_target!(|data: &[u8]| {
    // First byte: split stride and mode; the rest is the stream.
    let Some((&ctl, payload)) = data.split_first() else {
        return;
    };
    let _ = probe(payload);
    let mut st = HttpState::new(HttpConfig {
        request_body_limit: 4096,
        response_body_limit: 4096,
        raw_body_limit: 1024,
        head_limit: 8192,
        field_limit: 2048,
        compression_bomb_limit: 256 * 1024,
        max_transactions: 64,
        ..HttpConfig::default()
    });
    let step = usize::from(ctl & 0x3f).max(1);
    // Mode bit: the stream is a request stream followed by a response
    // stream split at a '\0', or directions alternate per chunk.
    if ctl & 0x80 != 0 {
        let mut parts = payload.splitn(2, |&b| b == 0);
        let req = parts.next().unwrap_or(&[]);
        let resp = parts.next().unwrap_or(&[]);
        for c in req.chunks(step) {
            st.parse(Direction::ToServer, c);
        }
        for c in resp.chunks(step) {
            st.parse(Direction::ToClient, c);
        }
    } else {
        for (i, c) in payload.chunks(step).enumerate() {
            let dir = if i % 3 == 2 {
                Direction::ToClient
            } else {
                Direction::ToServer
            };
            if ctl & 0x40 != 0 && i == 2 {
                let _ = st.gap(dir, 7);
            }
            st.parse(dir, c);
        }
    }
    let _ = st.handover();
    let mut txs = st.take_complete();
    st.close(Direction::ToServer);
    st.close(Direction::ToClient);
    txs.extend(st.drain());
    let _ = st.take_orphan_events();
    let ext = HttpEveOptions::default();
    let mut all = HttpEveOptions::default();
    all.extended = false;
    all.dump_request_headers = true;
    all.dump_response_headers = true;
    all.set_custom(["accept"]);
    for tx in &txs {
        let _ = eve_http(tx, &ext).to_string();
        let _ = eve_http(tx, &all).to_string();
        for d in [Direction::ToServer, Direction::ToClient] {
            let _ = buffers::header(tx, d);
            let _ = buffers::header_names(tx, d);
            let _ = buffers::start(tx, d);
            let _ = buffers::header_items(tx, d).count();
        }
        let _ = buffers::uri(tx);
        let _ = buffers::host_raw(tx);
    }
});
