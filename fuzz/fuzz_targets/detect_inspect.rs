//! Arbitrary bytes as a small inspection list (contents with hostile
//! offsets, pcre, byte_*, isdataat, base64_decode, asn1, transforms) plus
//! the buffer it runs on: inspection must never panic, must stay within the
//! recursion limit and must be deterministic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    watchfloor_detect::inspect::fuzzgen::fuzz_one(data);
});
