//! Reading the indexed columns out of an EVE record, and validating it, before any write.
//!
//! Only `timestamp` and `event_type` are required. Other fields of an unexpected type are
//! stored as NULL columns rather than rejected: the record itself is kept byte for byte, and a
//! sensor of a newer version must not have its data refused over a field we only index.

use crate::model::{UnixMicros, MICROS_PER_DAY, MICROS_PER_SEC};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

/// The indexed columns of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventColumns {
    pub ts: UnixMicros,
    pub event_type: String,
    pub signature_id: Option<i64>,
    pub src_ip: Option<String>,
    pub dest_ip: Option<String>,
    pub src_port: Option<i32>,
    pub dest_port: Option<i32>,
    pub proto: Option<String>,
    pub flow_id: Option<i64>,
    pub app_proto: Option<String>,
}

/// Why a record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("not valid JSON: {0}")]
    Json(String),
    #[error("missing \"timestamp\"")]
    MissingTimestamp,
    #[error("bad \"timestamp\" {0:?} (expected like 2024-11-05T06:00:00.000000+0000)")]
    BadTimestamp(String),
    #[error("missing \"event_type\"")]
    MissingEventType,
}

pub fn parse_record(bytes: &[u8]) -> Result<EventColumns, RecordError> {
    let head: Head<'_> =
        serde_json::from_slice(bytes).map_err(|e| RecordError::Json(e.to_string()))?;
    let ts = match head.timestamp {
        Scalar::Str(s) => parse_timestamp(&s).ok_or_else(|| RecordError::BadTimestamp(s.into()))?,
        Scalar::Missing => return Err(RecordError::MissingTimestamp),
        _ => return Err(RecordError::BadTimestamp("<not a string>".into())),
    };
    let event_type = match head.event_type {
        Scalar::Str(s) if !s.is_empty() => s.into_owned(),
        _ => return Err(RecordError::MissingEventType),
    };
    Ok(EventColumns {
        ts,
        event_type,
        signature_id: head.alert.and_then(|a| a.signature_id.int()),
        src_ip: head.src_ip.string(),
        dest_ip: head.dest_ip.string(),
        src_port: head.src_port.port(),
        dest_port: head.dest_port.port(),
        proto: head.proto.string(),
        flow_id: head.flow_id.int(),
        app_proto: head.app_proto.string(),
    })
}

#[derive(Deserialize)]
struct Head<'a> {
    #[serde(borrow, default)]
    timestamp: Scalar<'a>,
    #[serde(borrow, default)]
    event_type: Scalar<'a>,
    #[serde(borrow, default)]
    src_ip: Scalar<'a>,
    #[serde(borrow, default)]
    dest_ip: Scalar<'a>,
    #[serde(borrow, default)]
    src_port: Scalar<'a>,
    #[serde(borrow, default)]
    dest_port: Scalar<'a>,
    #[serde(borrow, default)]
    proto: Scalar<'a>,
    #[serde(borrow, default)]
    flow_id: Scalar<'a>,
    #[serde(borrow, default)]
    app_proto: Scalar<'a>,
    #[serde(borrow, default)]
    alert: Option<AlertHead<'a>>,
}

#[derive(Deserialize)]
struct AlertHead<'a> {
    #[serde(borrow, default)]
    signature_id: Scalar<'a>,
}

/// Any JSON value, keeping only what an indexed column can use; objects and arrays are
/// skipped (still validated by the parser).
#[derive(Default)]
enum Scalar<'a> {
    #[default]
    Missing,
    Str(Cow<'a, str>),
    Int(i64),
    Other,
}

impl Scalar<'_> {
    fn string(self) -> Option<String> {
        match self {
            Scalar::Str(s) => Some(s.into_owned()),
            _ => None,
        }
    }
    fn int(&self) -> Option<i64> {
        match self {
            Scalar::Int(i) => Some(*i),
            _ => None,
        }
    }
    fn port(&self) -> Option<i32> {
        self.int()
            .filter(|p| (0..=65_535).contains(p))
            .map(|p| p as i32)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        // Suricata's flow_id fits 63 bits; anything larger keeps its bits, reinterpreted.
        Ok(Scalar::Int(v as i64))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Scalar::Other)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}

/// Parses Suricata's `2024-11-05T06:00:00.000000+0000`; also accepts `Z`, `+00:00`, and any
/// number of fraction digits (beyond microseconds they are dropped).
pub fn parse_timestamp(s: &str) -> Option<UnixMicros> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.iter().all(u8::is_ascii_digit) {
            Some(part.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
        } else {
            None
        }
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Year 0 has no PostgreSQL spelling (1 BC); no sensor clock is that wrong by accident.
    if y < 1
        || !(1..=12).contains(&mo)
        || d < 1
        || d > days_in_month(y, mo)
        || h > 23
        || mi > 59
        || sec > 60
    {
        return None;
    }
    let mut i = 19;
    let mut micros = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 6 {
                micros = micros * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        let digits = i - start;
        if digits == 0 {
            return None;
        }
        for _ in digits..6 {
            micros *= 10;
        }
    }
    let offset_secs = match &b[i..] {
        [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (oh, om) = match rest {
                [h1, h2, m1, m2] => (two(*h1, *h2)?, two(*m1, *m2)?),
                [h1, h2, b':', m1, m2] => (two(*h1, *h2)?, two(*m1, *m2)?),
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_secs;
    Some(secs * MICROS_PER_SEC + micros)
}

fn two(a: u8, b: u8) -> Option<i64> {
    if a.is_ascii_digit() && b.is_ascii_digit() {
        Some(i64::from(a - b'0') * 10 + i64::from(b - b'0'))
    } else {
        None
    }
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's days-from-civil (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of `days_from_civil`.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// The day bucket (days since the epoch, UTC) an event time falls in.
pub fn day_of(ts: UnixMicros) -> i64 {
    ts.div_euclid(MICROS_PER_DAY)
}

/// `events_20241105`: the name of a day's table (SQLite) or partition (PostgreSQL).
pub fn bucket_table(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("events_{y:04}{m:02}{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suricata_timestamps() {
        assert_eq!(
            parse_timestamp("2024-11-05T06:00:00.000000+0000"),
            Some(1_730_786_400_000_000)
        );
        assert_eq!(
            parse_timestamp("2024-11-05T06:00:00.000042+0000"),
            Some(1_730_786_400_000_042)
        );
        assert_eq!(
            parse_timestamp("2024-11-05T01:00:00.5-05:00"),
            Some(1_730_786_400_500_000)
        );
        assert_eq!(
            parse_timestamp("2024-11-05T06:00:00Z"),
            Some(1_730_786_400_000_000)
        );
        assert_eq!(parse_timestamp("2024-02-30T00:00:00Z"), None);
        assert_eq!(parse_timestamp("2024-11-05T06:00:00.+0000"), None);
        assert_eq!(parse_timestamp("2024-11-05T06:00:00"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn buckets() {
        let day = day_of(1_730_786_400_000_000);
        assert_eq!(bucket_table(day), "events_20241105");
        assert_eq!(civil_from_days(days_from_civil(2000, 2, 29)), (2000, 2, 29));
        assert_eq!(bucket_table(-1), "events_19691231");
    }

    #[test]
    fn columns() {
        let rec = br#"{"timestamp":"2024-11-05T06:00:00.000000+0000","flow_id":1234,"event_type":"alert","src_ip":"10.0.0.1","src_port":"x","dest_ip":"8.8.8.8","dest_port":53,"proto":"UDP","alert":{"signature_id":2000001,"signature":"x"},"app_proto":"dns"}"#;
        let c = parse_record(rec).unwrap();
        assert_eq!(c.event_type, "alert");
        assert_eq!(c.signature_id, Some(2_000_001));
        assert_eq!(c.src_port, None);
        assert_eq!(c.dest_port, Some(53));
        assert_eq!(c.flow_id, Some(1234));
        assert!(matches!(
            parse_record(br#"{"event_type":"flow"}"#),
            Err(RecordError::MissingTimestamp)
        ));
        assert!(matches!(
            parse_record(br#"{"timestamp":"2024-11-05T06:00:00Z"}"#),
            Err(RecordError::MissingEventType)
        ));
        assert!(matches!(
            parse_record(br#"{"timestamp": "#),
            Err(RecordError::Json(_))
        ));
        assert!(parse_record(b"[1,2]").is_err());
    }
}
