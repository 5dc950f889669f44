//! `expires=` values: RFC 3339 date-times or plain dates, to Unix seconds.

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp as i64 + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Parses `2026-11-03T20:00:00Z`, `2026-11-03T15:00:00-05:00`,
/// `2026-11-03 20:00:00.5Z` or a plain date `2026-11-03`. A plain date
/// means the end of that day in UTC (the next midnight), so
/// `expires=2026-11-03` is still live all of election day.
pub(crate) fn parse_expires(s: &str) -> Result<i64, String> {
    let bad = || {
        format!(
            "bad expires '{s}': want RFC 3339 like 2026-11-03T20:00:00Z or a date like 2026-11-03"
        )
    };
    if !s.is_ascii() || s.len() < 10 {
        return Err(bad());
    }
    let (date, rest) = s.split_at(10);
    let b = date.as_bytes();
    if b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let y = num(&date[..4]).ok_or_else(bad)? as i64;
    let m = num(&date[5..7]).ok_or_else(bad)?;
    let d = num(&date[8..10]).ok_or_else(bad)?;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return Err(bad());
    }
    let day = days_from_civil(y, m, d) * 86_400;
    if rest.is_empty() {
        return Ok(day + 86_400);
    }
    let rb = rest.as_bytes();
    if !matches!(rb[0], b'T' | b't' | b' ') || rest.len() < 9 {
        return Err(bad());
    }
    let t = &rest[1..];
    let tb = t.as_bytes();
    if tb[2] != b':' || tb[5] != b':' {
        return Err(bad());
    }
    let hh = num(&t[..2]).ok_or_else(bad)?;
    let mm = num(&t[3..5]).ok_or_else(bad)?;
    let ss = num(&t[6..8]).ok_or_else(bad)?;
    if hh > 23 || mm > 59 || ss > 60 {
        return Err(bad());
    }
    let mut z = &t[8..];
    if let Some(frac) = z.strip_prefix('.') {
        let n = frac.bytes().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return Err(bad());
        }
        z = &frac[n..];
    }
    let offset: i64 = match z {
        "Z" | "z" => 0,
        _ if z.len() == 6 && (z.starts_with('+') || z.starts_with('-')) && &z[3..4] == ":" => {
            let oh = num(&z[1..3]).ok_or_else(bad)?;
            let om = num(&z[4..6]).ok_or_else(bad)?;
            if oh > 23 || om > 59 {
                return Err(bad());
            }
            let o = (oh * 3600 + om * 60) as i64;
            if z.starts_with('-') {
                -o
            } else {
                o
            }
        }
        _ => return Err(bad()),
    };
    Ok(day + (hh * 3600 + mm * 60 + ss) as i64 - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(parse_expires("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_expires("2026-11-03T20:00:00Z"), Ok(1_793_736_000));
        assert_eq!(
            parse_expires("2026-11-03T15:00:00-05:00"),
            Ok(1_793_736_000)
        );
        assert_eq!(parse_expires("2026-11-03 20:00:00.123Z"), Ok(1_793_736_000));
        assert_eq!(parse_expires("2026-11-03"), Ok(1_793_750_400));
        assert_eq!(parse_expires("2024-02-29"), Ok(1_709_251_200));
        for bad in [
            "",
            "2026-13-01",
            "2025-02-29",
            "2026-11-03T25:00:00Z",
            "2026-11-03T20:00:00",
            "2026-11-03T20:00:00+0500",
            "2026-11-03T20:00:00.Z",
            "tomorrow",
            "2026-11-03T20:00:00Zjunk",
            "２０２６-11-03",
        ] {
            assert!(parse_expires(bad).is_err(), "{bad}");
        }
    }
}
