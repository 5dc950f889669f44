//! EVE timestamps, written exactly as Suricata writes them:
//! `2024-11-05T06:00:00.000000+0000` (microseconds, numeric UTC offset).

use serde::{Serialize, Serializer};
use std::fmt::Write as _;

/// Nanoseconds since the Unix epoch (packet time, not wall-clock time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const fn from_secs_micros(secs: i64, micros: i64) -> Self {
        Timestamp(secs * 1_000_000_000 + micros * 1_000)
    }
    pub const fn secs(self) -> i64 {
        self.0.div_euclid(1_000_000_000)
    }
    pub const fn subsec_micros(self) -> i64 {
        self.0.rem_euclid(1_000_000_000) / 1_000
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = String::with_capacity(32);
        format_timestamp(*self, &mut buf);
        s.serialize_str(&buf)
    }
}

/// Appends `YYYY-MM-DDTHH:MM:SS.uuuuuu+0000` to `out`.
pub fn format_timestamp(ts: Timestamp, out: &mut String) {
    let secs = ts.secs();
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}+0000",
        y,
        m,
        d,
        sod / 3600,
        (sod / 60) % 60,
        sod % 60,
        ts.subsec_micros()
    );
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(ts: Timestamp) -> String {
        let mut s = String::new();
        format_timestamp(ts, &mut s);
        s
    }

    #[test]
    fn election_day_morning() {
        // 2024-11-05T06:00:00Z is 1730786400.
        assert_eq!(
            fmt(Timestamp::from_secs_micros(1_730_786_400, 42)),
            "2024-11-05T06:00:00.000042+0000"
        );
    }

    #[test]
    fn epoch_and_leap_day() {
        assert_eq!(fmt(Timestamp(0)), "1970-01-01T00:00:00.000000+0000");
        // 2024-02-29T23:59:59.999999Z
        assert_eq!(
            fmt(Timestamp::from_secs_micros(1_709_251_199, 999_999)),
            "2024-02-29T23:59:59.999999+0000"
        );
    }

    #[test]
    fn before_epoch_is_still_a_valid_date() {
        assert_eq!(fmt(Timestamp(-1_000)), "1969-12-31T23:59:59.999999+0000");
    }
}
