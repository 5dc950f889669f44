//! One line of a batch: `{"sensor":"<id>","seq":N,"v":1,"event":<EVE record verbatim>}`.
//!
//! The record is spliced in as raw bytes, never re-serialised: the hub must store exactly
//! what Suricata-compatible output wrote (key order, number formatting, escapes).

use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use thiserror::Error;

/// The envelope schema this crate writes.
pub const VERSION: u32 = 1;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("record is not one JSON value: {0}")]
    NotJson(String),
    #[error(
        "record has whitespace around its JSON value; the envelope carries it byte for byte, \
         so strip the line's newline first"
    )]
    Whitespace,
    #[error("record contains a raw line break, which would split the NDJSON line")]
    LineBreak,
    #[error("envelope is malformed: {0}")]
    Malformed(String),
    #[error("envelope seq must be at least 1")]
    ZeroSeq,
    #[error("envelope version {0} is not supported (this hub reads version {VERSION})")]
    Version(u32),
    #[error("envelope sensor id is empty")]
    EmptySensor,
}

/// Checks that `record` can travel verbatim: exactly one JSON value, on one line.
pub fn validate_record(record: &[u8]) -> Result<(), EnvelopeError> {
    if record.iter().any(|&b| b == b'\n' || b == b'\r') {
        return Err(EnvelopeError::LineBreak);
    }
    let raw: &RawValue =
        serde_json::from_slice(record).map_err(|e| EnvelopeError::NotJson(e.to_string()))?;
    if raw.get().len() != record.len() {
        return Err(EnvelopeError::Whitespace);
    }
    Ok(())
}

/// The cheap check made on every record a batch carries: one line (no control byte at all,
/// so no raw line break), valid UTF-8, and an object's braces at both ends with no
/// surrounding whitespace. That is what keeps the NDJSON framing intact whatever the record
/// holds; it does not prove the record is JSON. The sensor's own writer produces the records
/// (and the spool's CRC proves they are the bytes it wrote), so the full parse of
/// [`validate_record`] is left to the hub, which names a bad line; a batch the hub refuses
/// is then checked in full and its invalid records shipped as loss markers (see the shipper).
/// A record failing this check gets the full check's verdict instead, so whatever the full
/// check accepts still travels.
pub fn check_framing(record: &[u8]) -> Result<(), EnvelopeError> {
    let framed = record.first() == Some(&b'{') && record.last() == Some(&b'}');
    // Branch-free over 32-byte blocks so it vectorises: a control byte anywhere.
    let control = record
        .chunks(32)
        .any(|c| c.iter().fold(false, |a, &b| a | (b < 0x20)));
    if framed && !control && std::str::from_utf8(record).is_ok() {
        return Ok(());
    }
    // Rare (never for the sensor's own records): the full check decides, as before.
    validate_record(record)
}

/// Writes the envelope's opening once per sensor, so each line costs the record's copy and a
/// number.
#[derive(Debug, Clone)]
pub struct EnvelopeWriter {
    prefix: Vec<u8>,
    /// `,"v":1,"event":`
    middle: Vec<u8>,
}

impl EnvelopeWriter {
    pub fn new(sensor: &str) -> Self {
        let mut prefix = b"{\"sensor\":".to_vec();
        // Serialising a &str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut prefix, sensor);
        prefix.extend_from_slice(b",\"seq\":");
        let middle = format!(",\"v\":{VERSION},\"event\":").into_bytes();
        EnvelopeWriter { prefix, middle }
    }

    /// Appends one envelope line (with its trailing `\n`) after validating `record`.
    pub fn write(&self, seq: u64, record: &[u8], out: &mut Vec<u8>) -> Result<(), EnvelopeError> {
        validate_record(record)?;
        self.write_unchecked(seq, record, out);
        Ok(())
    }

    /// Like `write`, with the cheap [`check_framing`] instead of a full parse.
    pub fn write_framed(
        &self,
        seq: u64,
        record: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), EnvelopeError> {
        check_framing(record)?;
        self.write_unchecked(seq, record, out);
        Ok(())
    }

    /// For records already known valid (the loss markers this crate builds itself).
    pub(crate) fn write_unchecked(&self, seq: u64, record: &[u8], out: &mut Vec<u8>) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut n = seq;
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        out.reserve(self.prefix.len() + 20 + self.middle.len() + record.len() + 2);
        out.extend_from_slice(&self.prefix);
        out.extend_from_slice(&digits[i..]);
        out.extend_from_slice(&self.middle);
        out.extend_from_slice(record);
        out.extend_from_slice(b"}\n");
    }
}

/// One envelope as the hub reads it; `event` borrows the exact bytes that were sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub sensor: Cow<'a, str>,
    pub seq: u64,
    pub v: u32,
    pub event: &'a [u8],
}

#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(borrow)]
    sensor: Cow<'a, str>,
    seq: u64,
    v: u32,
    #[serde(borrow)]
    event: &'a RawValue,
}

/// Parses one line (without its `\n`). Unknown fields are ignored so a newer sensor can add
/// some; a different `v` is refused because the meaning of the known ones may have changed.
pub fn parse(line: &[u8]) -> Result<Envelope<'_>, EnvelopeError> {
    let w: Wire<'_> =
        serde_json::from_slice(line).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
    if w.v != VERSION {
        return Err(EnvelopeError::Version(w.v));
    }
    if w.seq == 0 {
        return Err(EnvelopeError::ZeroSeq);
    }
    if w.sensor.is_empty() {
        return Err(EnvelopeError::EmptySensor);
    }
    Ok(Envelope {
        sensor: w.sensor,
        seq: w.seq,
        v: w.v,
        event: w.event.get().as_bytes(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testrng::Rng;

    fn round_trip(sensor: &str, seq: u64, record: &[u8]) {
        let mut line = Vec::new();
        EnvelopeWriter::new(sensor)
            .write(seq, record, &mut line)
            .unwrap();
        assert_eq!(line.last(), Some(&b'\n'));
        let env = parse(&line[..line.len() - 1]).unwrap();
        assert_eq!(env.sensor, sensor);
        assert_eq!((env.seq, env.v), (seq, VERSION));
        assert_eq!(env.event, record, "{}", String::from_utf8_lossy(record));
    }

    #[test]
    fn eve_record_round_trips() {
        let rec = br#"{"timestamp":"2024-11-05T06:00:00.000000+0000","flow_id":1234567890123,"event_type":"dns","src_ip":"10.0.0.2","dns":{"rrname":"vote.example.gov","ttl":3.0e2,"x":"\u00e9\"\\/"}}"#;
        round_trip("42", 7, rec);
        round_trip("sensör \"q\"", u64::MAX >> 1, rec);
    }

    #[test]
    fn rejects_what_cannot_travel_verbatim() {
        let w = EnvelopeWriter::new("1");
        let mut out = Vec::new();
        assert_eq!(
            w.write(1, b"{\"a\":1}\n", &mut out),
            Err(EnvelopeError::LineBreak)
        );
        assert_eq!(
            w.write(1, b" {\"a\":1}", &mut out),
            Err(EnvelopeError::Whitespace)
        );
        assert!(matches!(
            w.write(1, b"{\"a\":1} {}", &mut out),
            Err(EnvelopeError::NotJson(_))
        ));
        assert!(matches!(
            w.write(1, b"{\"a\":", &mut out),
            Err(EnvelopeError::NotJson(_))
        ));
        assert!(out.is_empty());
    }

    #[test]
    fn parse_names_what_is_wrong() {
        let e = parse(br#"{"sensor":"1","v":1,"event":{}}"#).unwrap_err();
        assert!(e.to_string().contains("missing field `seq`"), "{e}");
        assert_eq!(
            parse(br#"{"sensor":"1","seq":1,"v":2,"event":{}}"#),
            Err(EnvelopeError::Version(2))
        );
        assert_eq!(
            parse(br#"{"sensor":"1","seq":0,"v":1,"event":{}}"#),
            Err(EnvelopeError::ZeroSeq)
        );
        assert_eq!(
            parse(br#"{"sensor":"","seq":3,"v":1,"event":{}}"#),
            Err(EnvelopeError::EmptySensor)
        );
        let e = parse(br#"{"sensor":"1","seq":-1,"v":1,"event":{}}"#).unwrap_err();
        assert!(e.to_string().contains("malformed"), "{e}");
        assert!(parse(br#"{"sensor":"1","seq":1,"v":1,"event":{},"extra":[1]}"#).is_ok());
    }

    /// Property: every single-line JSON value survives the envelope byte for byte.
    #[test]
    fn any_json_round_trips_byte_for_byte() {
        let mut rng = Rng::new(0x5eed);
        for i in 0..3000 {
            let mut rec = Vec::new();
            rng.json(&mut rec, 0);
            validate_record(&rec).unwrap_or_else(|e| panic!("case {i}: {e}: {rec:?}"));
            round_trip(&format!("s{i}"), 1 + rng.below(1 << 40), &rec);
        }
    }
}
