//! The fields Suricata extracts from the first certificate of a chain,
//! decoded with `x509-parser` (the parser Suricata itself uses, so names
//! print the same way: `C=US, O=Let's Encrypt, CN=R3`).

use x509_parser::error::X509Error;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;

use super::error::TlsEvent;

/// Subject alternative names kept per certificate; more raise
/// `too_many_subject_alternative_names` and are dropped.
pub const MAX_SANS: usize = 256;

/// What EVE and the rule buffers need from a certificate; strings are
/// rendered once, at parse time, so buffers can be borrowed slices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    /// Raw serial bytes as colon-separated upper-case hex (`00:97:E6:...`).
    pub serial: String,
    /// SHA-1 of the DER, colon-separated lower-case hex.
    pub fingerprint: String,
    /// Unix seconds (negative before 1970).
    pub not_before: i64,
    pub not_after: i64,
    /// DNS names of the subjectAltName extension.
    pub sans: Vec<String>,
}

/// Decodes one DER certificate. On failure returns the event Suricata
/// raises for that kind of fault.
pub fn decode(der: &[u8], events: &mut Vec<TlsEvent>) -> Option<CertInfo> {
    let cert = match x509_parser::certificate::X509Certificate::from_der(der) {
        Ok((_, c)) => c,
        Err(e) => {
            events.push(error_event(&e));
            return None;
        }
    };
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            if let GeneralName::DNSName(n) = name {
                if sans.len() == MAX_SANS {
                    events.push(TlsEvent::TooManySubjectAlternativeNames);
                    break;
                }
                sans.push((*n).to_string());
            }
        }
    }
    let validity = cert.validity();
    Some(CertInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: hex_sep(cert.raw_serial(), true),
        fingerprint: hex_sep(&sha1_smol::Sha1::from(der).digest().bytes(), false),
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
        sans,
    })
}

fn error_event(e: &x509_parser::nom::Err<X509Error>) -> TlsEvent {
    use x509_parser::nom::Err;
    match e {
        Err::Incomplete(_) => TlsEvent::CertificateInvalidLength,
        Err::Error(e) | Err::Failure(e) => match e {
            X509Error::InvalidVersion => TlsEvent::CertificateInvalidVersion,
            X509Error::InvalidSerial => TlsEvent::CertificateInvalidSerial,
            X509Error::InvalidAlgorithmIdentifier => {
                TlsEvent::CertificateInvalidAlgorithmidentifier
            }
            X509Error::InvalidX509Name => TlsEvent::CertificateInvalidX509name,
            X509Error::InvalidDate => TlsEvent::CertificateInvalidDate,
            X509Error::InvalidExtensions => TlsEvent::CertificateInvalidExtensions,
            X509Error::Der(_) => TlsEvent::CertificateInvalidDer,
            _ => TlsEvent::InvalidCertificate,
        },
    }
}

/// Bytes as two-digit hex joined by `:`.
pub fn hex_sep(bytes: &[u8], upper: bool) -> String {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push(char::from(digits[usize::from(b >> 4)]));
        s.push(char::from(digits[usize::from(b & 0xf)]));
    }
    s
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SS` (UTC), as Suricata prints
/// certificate validity; proleptic Gregorian, so dates before 1970 work.
pub fn format_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (H. Hinnant): eras of 400 years starting in March.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Standard base64 with padding, for the `certificate` and `chain` fields.
pub fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = u32::from(c[0]) << 16
            | u32::from(*c.get(1).unwrap_or(&0)) << 8
            | u32::from(*c.get(2).unwrap_or(&0));
        let sextet = |i: u32| char::from(A[((n >> (18 - 6 * i)) & 63) as usize]);
        s.push(sextet(0));
        s.push(sextet(1));
        s.push(if c.len() > 1 { sextet(2) } else { '=' });
        s.push(if c.len() > 2 { sextet(3) } else { '=' });
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_format() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00");
        assert_eq!(format_time(1_423_764_447), "2015-02-12T18:07:27");
        assert_eq!(format_time(-86_400), "1969-12-31T00:00:00");
        assert_eq!(format_time(951_782_400), "2000-02-29T00:00:00");
        assert_eq!(format_time(2_177_367_003), "2038-12-31T00:10:03");
    }

    #[test]
    fn hex_and_base64() {
        assert_eq!(hex_sep(&[0x00, 0x97, 0xe6], true), "00:97:E6");
        assert_eq!(hex_sep(&[0x3a, 0x0b], false), "3a:0b");
        assert_eq!(hex_sep(&[0x55], true), "55");
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn garbage_is_an_event() {
        let mut ev = Vec::new();
        assert!(decode(&[0x30, 0x03, 0x02, 0x01], &mut ev).is_none());
        assert_eq!(ev.len(), 1);
        assert!(decode(&[], &mut ev).is_none());
        assert_eq!(ev.len(), 2);
    }
}
