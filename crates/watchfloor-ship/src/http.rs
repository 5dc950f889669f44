//! The HTTPS transport to the hub: a blocking `ureq` client over rustls (ring).
//!
//! API (see the hub's `openapi.json`): `POST /api/v1/ingest` with a batch body,
//! `GET /api/v1/ack`, `POST /api/v1/heartbeat`, each with `Authorization: Bearer <token>`.
//! Statuses map to the shipper's terms: 200 is an [`Ack`]; 401, 403, 400, 415 and other 4xx
//! are permanent; 413 is permanent but `too_large` (the shipper splits the batch); 429 and
//! 503 are transient with their `Retry-After`; other 5xx, timeouts and network errors are
//! transient. An odd reply (a 200 without a readable `acked_seq`) is transient: resending is
//! harmless, ingest is idempotent.
//!
//! Trust: the system's roots, a PEM file (a CA, or the hub's own certificate), or a pinned
//! SHA-256 fingerprint of the hub's certificate for self-signed hubs.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::batch::Batch;
use crate::shipper::{Ack, Transport, TransportError};

/// How the hub's certificate is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// The operating system's trusted roots.
    System,
    /// A PEM file: CA certificates to trust, or the hub's own certificate (matched exactly).
    Pem(PathBuf),
    /// SHA-256 of the hub certificate's DER; names and dates are not checked (self-signed).
    Fingerprint([u8; 32]),
}

#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// The hub's base URL, e.g. `https://hub.example:8443` (a path prefix is kept).
    pub url: String,
    pub token: String,
    pub trust: Trust,
    pub connect_timeout: Duration,
    /// For a whole request, upload and answer included.
    pub timeout: Duration,
}

impl HttpConfig {
    pub fn new(url: impl Into<String>, token: impl Into<String>, trust: Trust) -> Self {
        HttpConfig {
            url: url.into(),
            token: token.into(),
            trust,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Error)]
pub enum HttpError {
    #[error("hub URL {0:?} must start with https:// (or http:// for a local test hub)")]
    Url(String),
    #[error("hub token is empty or has characters a header cannot carry")]
    Token,
    #[error(
        "hub fingerprint {0:?} is not a SHA-256 (64 hex digits, colons allowed, \
         optional sha256: prefix)"
    )]
    Fingerprint(String),
    #[error("cannot read the hub CA/certificate file {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("TLS setup: {0}")]
    Tls(String),
}

/// Parses `AB:CD:...`, `abcd...` or `sha256:...` / `SHA256=...` into 32 bytes.
pub fn parse_fingerprint(s: &str) -> Result<[u8; 32], HttpError> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let body = lower
        .strip_prefix("sha256:")
        .or_else(|| lower.strip_prefix("sha256="))
        .or_else(|| lower.strip_prefix("sha-256:"))
        .unwrap_or(&lower);
    let hex: Vec<u8> = body.bytes().filter(|&b| b != b':' && b != b' ').collect();
    if hex.len() != 64 {
        return Err(HttpError::Fingerprint(s.to_string()));
    }
    let mut out = [0u8; 32];
    for (i, pair) in hex.chunks(2).enumerate() {
        let d = |c: u8| (c as char).to_digit(16);
        match (d(pair[0]), d(pair[1])) {
            (Some(h), Some(l)) => out[i] = (h * 16 + l) as u8,
            _ => return Err(HttpError::Fingerprint(s.to_string())),
        }
    }
    Ok(out)
}

/// SHA-256 of a certificate's DER as colon-separated upper-case hex (what `openssl x509
/// -fingerprint -sha256` prints).
pub fn fingerprint_hex(der: &[u8]) -> String {
    let d = Sha256::digest(der);
    let mut s = String::with_capacity(95);
    for (i, b) in d.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push_str(&format!("{b:02X}"));
    }
    s
}

/// The hub's endpoints over one connection pool.
#[derive(Clone)]
pub struct HttpTransport {
    agent: ureq::Agent,
    ingest: String,
    ack: String,
    heartbeat: String,
    auth: String,
}

/// What `GET /api/v1/ack` says.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AckInfo {
    pub acked_seq: u64,
    /// The hub's id for this sensor, what envelopes carry (older hubs may not say).
    #[serde(default)]
    pub sensor_id: Option<i64>,
    #[serde(default)]
    pub sensor: Option<String>,
}

#[derive(Deserialize)]
struct IngestReply {
    acked_seq: u64,
}

#[derive(Deserialize)]
struct ErrorReply {
    error: Option<String>,
    line: Option<u64>,
}

/// Replies are small; more than this is not read (and not needed).
const REPLY_MAX: u64 = 64 << 10;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl HttpTransport {
    pub fn new(cfg: &HttpConfig) -> Result<HttpTransport, HttpError> {
        let base = cfg.url.trim().trim_end_matches('/');
        let https = base.starts_with("https://");
        if !(https || base.starts_with("http://")) || base.len() <= "https://".len() {
            return Err(HttpError::Url(cfg.url.clone()));
        }
        let token = cfg.token.trim();
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(HttpError::Token);
        }
        let tls = Arc::new(client_config(&cfg.trust)?);
        let agent = ureq::AgentBuilder::new()
            .tls_config(tls)
            .timeout_connect(cfg.connect_timeout)
            .timeout(cfg.timeout)
            .user_agent(concat!("watchfloor-sensor/", env!("CARGO_PKG_VERSION")))
            .max_idle_connections_per_host(2)
            .build();
        Ok(HttpTransport {
            agent,
            ingest: format!("{base}/api/v1/ingest"),
            ack: format!("{base}/api/v1/ack"),
            heartbeat: format!("{base}/api/v1/heartbeat"),
            auth: format!("Bearer {token}"),
        })
    }

    /// Where the hub stands for this sensor.
    pub fn ack(&self) -> Result<AckInfo, TransportError> {
        let r = self
            .agent
            .get(&self.ack)
            .set("Authorization", &self.auth)
            .call();
        let resp = reply(r)?;
        let status = resp.status();
        let body = read_reply(resp)?;
        serde_json::from_slice::<AckInfo>(&body).map_err(|e| {
            TransportError::transient(format!(
                "hub answered GET /api/v1/ack with HTTP {status} but no readable acked_seq \
                 ({e}): {}",
                snippet(&body)
            ))
        })
    }

    /// Sends the sensor's counters (a JSON object); the hub answers 204.
    pub fn heartbeat(&self, counters: &serde_json::Value) -> Result<(), TransportError> {
        let body = serde_json::to_vec(counters).unwrap_or_else(|_| b"{}".to_vec());
        let r = self
            .agent
            .post(&self.heartbeat)
            .set("Authorization", &self.auth)
            .set("Content-Type", "application/json")
            .send_bytes(&body);
        reply(r).map(|_| ())
    }
}

impl Transport for HttpTransport {
    fn send(&mut self, batch: &Batch) -> Result<Ack, TransportError> {
        let r = self
            .agent
            .post(&self.ingest)
            .set("Authorization", &self.auth)
            .set("Content-Type", "application/x-ndjson")
            .set("Content-Encoding", "zstd")
            .send_bytes(&batch.body);
        let resp = reply(r)?;
        let status = resp.status();
        let body = read_reply(resp)?;
        match serde_json::from_slice::<IngestReply>(&body) {
            Ok(r) => Ok(Ack {
                highest_stored: r.acked_seq,
            }),
            Err(e) => Err(TransportError::transient(format!(
                "hub answered the batch {}..={} with HTTP {status} but no readable acked_seq \
                 ({e}): {}",
                batch.first_seq,
                batch.last_seq,
                snippet(&body)
            ))),
        }
    }
}

/// A 2xx response, or the error it maps to.
fn reply(r: Result<ureq::Response, ureq::Error>) -> Result<ureq::Response, TransportError> {
    match r {
        Ok(resp) if (200..300).contains(&resp.status()) => Ok(resp),
        Ok(resp) => Err(status_error(resp.status(), resp)),
        Err(ureq::Error::Status(code, resp)) => Err(status_error(code, resp)),
        Err(ureq::Error::Transport(t)) => Err(TransportError::transient(format!(
            "cannot reach the hub: {t}"
        ))),
    }
}

fn read_reply(resp: ureq::Response) -> Result<Vec<u8>, TransportError> {
    let mut body = Vec::new();
    resp.into_reader()
        .take(REPLY_MAX)
        .read_to_end(&mut body)
        .map_err(|e| TransportError::transient(format!("reading the hub's reply: {e}")))?;
    Ok(body)
}

fn status_error(code: u16, resp: ureq::Response) -> TransportError {
    let retry_after = resp.header("Retry-After").and_then(parse_retry_after);
    let mut body = Vec::new();
    // The reason is a courtesy: a reply that cannot be read still has its status.
    let _ = resp.into_reader().take(REPLY_MAX).read_to_end(&mut body);
    let detail = match serde_json::from_slice::<ErrorReply>(&body) {
        Ok(ErrorReply {
            error: Some(e),
            line,
        }) => match line {
            Some(l) => format!("{e} (line {l})"),
            None => e,
        },
        _ => snippet(&body),
    };
    let what = match code {
        401 => "the hub refused the sensor's token (unknown or revoked)",
        403 => "the hub refused records not of this sensor",
        400 => "the hub refused the batch as malformed",
        413 => "the batch is larger than the hub accepts",
        415 => "the hub refused the content type or encoding",
        429 => "the hub is busy",
        503 => "the hub is unavailable",
        500..=599 => "the hub failed",
        _ => "unexpected answer from the hub",
    };
    let transient = matches!(code, 408 | 429) || (500..=599).contains(&code);
    TransportError {
        retry_after: if transient { retry_after } else { None },
        permanent: !transient,
        too_large: code == 413,
        message: format!("{what} (HTTP {code}): {detail}"),
    }
}

/// `Retry-After` in seconds; an HTTP date (rare from our hub) falls back to the backoff.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The start of a reply for an error message, printable and short.
fn snippet(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(&body[..body.len().min(200)]);
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.trim().is_empty() {
        "(empty reply)".into()
    } else {
        s.trim().to_string()
    }
}

fn client_config(trust: &Trust) -> Result<ClientConfig, HttpError> {
    let p = provider();
    let algs = p.signature_verification_algorithms;
    let builder = ClientConfig::builder_with_provider(p.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| HttpError::Tls(e.to_string()))?;
    let cfg = match trust {
        Trust::System => {
            let mut roots = RootCertStore::empty();
            let found = rustls_native_certs::load_native_certs();
            for c in found.certs {
                let _ = roots.add(c);
            }
            if roots.is_empty() {
                return Err(HttpError::Tls(format!(
                    "no trusted root certificates found on this system ({} errors); give \
                     --hub-ca or --hub-fingerprint",
                    found.errors.len()
                )));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::Pem(path) => {
            let certs = read_pem(path)?;
            let mut roots = RootCertStore::empty();
            for c in &certs {
                // A leaf that is not a CA may refuse to be an anchor; it still matches exactly.
                let _ = roots.add(c.clone());
            }
            let webpki = if roots.is_empty() {
                None
            } else {
                Some(
                    rustls::client::WebPkiServerVerifier::builder_with_provider(
                        Arc::new(roots),
                        p.clone(),
                    )
                    .build()
                    .map_err(|e| HttpError::Tls(e.to_string()))?,
                )
            };
            let exact = certs.iter().map(|c| c.as_ref().to_vec()).collect();
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(FileVerifier {
                    exact,
                    webpki,
                    algs,
                }))
                .with_no_client_auth()
        }
        Trust::Fingerprint(fp) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinVerifier { sha256: *fp, algs }))
            .with_no_client_auth(),
    };
    Ok(cfg)
}

fn read_pem(path: &Path) -> Result<Vec<CertificateDer<'static>>, HttpError> {
    let err = |reason: String| HttpError::CaFile {
        path: path.display().to_string(),
        reason,
    };
    let data = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut data.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|e| err(format!("not PEM: {e}")))?;
    if certs.is_empty() {
        return Err(err("no CERTIFICATE block in it".into()));
    }
    Ok(certs)
}

/// Accepts exactly one certificate, by its SHA-256.
#[derive(Debug)]
struct PinVerifier {
    sha256: [u8; 32],
    algs: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let got: [u8; 32] = Sha256::digest(end_entity.as_ref()).into();
        if got == self.sha256 {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "the hub's certificate has SHA-256 {}, not the pinned fingerprint",
                fingerprint_hex(end_entity.as_ref())
            )))
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// A PEM file's certificates: the hub's own certificate matches exactly (self-signed hubs);
/// otherwise they are CAs and the usual chain and name checks apply.
#[derive(Debug)]
struct FileVerifier {
    exact: Vec<Vec<u8>>,
    webpki: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    algs: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for FileVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self
            .exact
            .iter()
            .any(|c| c.as_slice() == end_entity.as_ref())
        {
            return Ok(ServerCertVerified::assertion());
        }
        match &self.webpki {
            Some(v) => {
                v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Err(rustls::Error::General(
                "the hub's certificate is not in the given file".into(),
            )),
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_in_common_spellings() {
        let hex = "AB".repeat(32);
        let colons = vec!["ab"; 32].join(":");
        for s in [
            hex.clone(),
            colons.clone(),
            format!("sha256:{hex}"),
            format!("SHA256={colons}"),
        ] {
            assert_eq!(parse_fingerprint(&s).unwrap(), [0xab; 32], "{s}");
        }
        for bad in ["", "abc", &"zz".repeat(32), &"ab".repeat(33)] {
            assert!(parse_fingerprint(bad).is_err(), "{bad}");
        }
        assert!(fingerprint_hex(b"x").len() == 95);
    }

    #[test]
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn bad_settings_are_refused() {
        let t = Trust::Fingerprint([0; 32]);
        assert!(matches!(
            HttpTransport::new(&HttpConfig::new("ftp://x", "t", t.clone())),
            Err(HttpError::Url(_))
        ));
        assert!(matches!(
            HttpTransport::new(&HttpConfig::new("https://x", " ", t.clone())),
            Err(HttpError::Token)
        ));
        assert!(matches!(
            HttpTransport::new(&HttpConfig::new(
                "https://x",
                "t",
                Trust::Pem("/nonexistent.pem".into())
            )),
            Err(HttpError::CaFile { .. })
        ));
        assert!(HttpTransport::new(&HttpConfig::new("https://x:1/", "t", t)).is_ok());
    }
}
