//! Every buffer keyword, canonical and legacy, in one table; plus the
//! canonical name and the origin ([`BufferKind`]) of each [`Buffer`].

use crate::sig::{Buffer, BufferKind, Proto};
use crate::FlowDir::{ToClient, ToServer};

/// How a buffer keyword acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BufKw {
    /// `http.uri;`: following payload keywords inspect this buffer.
    Sticky(Buffer),
    /// `content:"x"; http_uri;`: moves the content just before it (the
    /// pre-sticky-buffer syntax).
    Modifier(Buffer),
}

use BufKw::{Modifier as M, Sticky as S};

/// (keyword, action). Canonical names first; the engine-facing name of a
/// buffer is [`Buffer::name`].
const TABLE: &[(&str, BufKw)] = &[
    ("pkt_data", S(Buffer::Payload)),
    ("base64_data", S(Buffer::Base64Data)),
    ("ipv4.hdr", S(Buffer::Ipv4Hdr)),
    ("ipv6.hdr", S(Buffer::Ipv6Hdr)),
    ("tcp.hdr", S(Buffer::TcpHdr)),
    ("udp.hdr", S(Buffer::UdpHdr)),
    ("icmpv4.hdr", S(Buffer::Icmpv4Hdr)),
    ("icmpv6.hdr", S(Buffer::Icmpv6Hdr)),
    ("http.uri", S(Buffer::HttpUri)),
    ("http_uri", M(Buffer::HttpUri)),
    ("http.uri.raw", S(Buffer::HttpUriRaw)),
    ("http_raw_uri", M(Buffer::HttpUriRaw)),
    ("http.method", S(Buffer::HttpMethod)),
    ("http_method", M(Buffer::HttpMethod)),
    ("http.protocol", S(Buffer::HttpProtocol)),
    ("http_protocol", S(Buffer::HttpProtocol)),
    ("http.request_line", S(Buffer::HttpRequestLine)),
    ("http_request_line", S(Buffer::HttpRequestLine)),
    ("http.header", S(Buffer::HttpHeader)),
    ("http_header", M(Buffer::HttpHeader)),
    ("http.header.raw", S(Buffer::HttpHeaderRaw)),
    ("http_raw_header", M(Buffer::HttpHeaderRaw)),
    ("http.header_names", S(Buffer::HttpHeaderNames)),
    ("http_header_names", S(Buffer::HttpHeaderNames)),
    ("http.cookie", S(Buffer::HttpCookie)),
    ("http_cookie", M(Buffer::HttpCookie)),
    ("http.user_agent", S(Buffer::HttpUserAgent)),
    ("http_user_agent", M(Buffer::HttpUserAgent)),
    ("http.host", S(Buffer::HttpHost)),
    ("http_host", M(Buffer::HttpHost)),
    ("http.host.raw", S(Buffer::HttpHostRaw)),
    ("http_raw_host", M(Buffer::HttpHostRaw)),
    ("http.accept", S(Buffer::HttpAccept)),
    ("http_accept", S(Buffer::HttpAccept)),
    ("http.accept_enc", S(Buffer::HttpAcceptEnc)),
    ("http_accept_enc", S(Buffer::HttpAcceptEnc)),
    ("http.accept_lang", S(Buffer::HttpAcceptLang)),
    ("http_accept_lang", S(Buffer::HttpAcceptLang)),
    ("http.connection", S(Buffer::HttpConnection)),
    ("http_connection", S(Buffer::HttpConnection)),
    ("http.content_type", S(Buffer::HttpContentType)),
    ("http_content_type", S(Buffer::HttpContentType)),
    ("http.content_len", S(Buffer::HttpContentLen)),
    ("http_content_len", S(Buffer::HttpContentLen)),
    ("http.referer", S(Buffer::HttpReferer)),
    ("http_referer", S(Buffer::HttpReferer)),
    ("http.start", S(Buffer::HttpStart)),
    ("http_start", S(Buffer::HttpStart)),
    ("http.request_body", S(Buffer::HttpRequestBody)),
    ("http_client_body", M(Buffer::HttpRequestBody)),
    ("http.request_header", S(Buffer::HttpRequestHeader)),
    ("http.response_header", S(Buffer::HttpResponseHeader)),
    ("http.stat_code", S(Buffer::HttpStatCode)),
    ("http_stat_code", M(Buffer::HttpStatCode)),
    ("http.stat_msg", S(Buffer::HttpStatMsg)),
    ("http_stat_msg", M(Buffer::HttpStatMsg)),
    ("http.response_line", S(Buffer::HttpResponseLine)),
    ("http_response_line", S(Buffer::HttpResponseLine)),
    ("http.server", S(Buffer::HttpServer)),
    ("http_server", S(Buffer::HttpServer)),
    ("http.location", S(Buffer::HttpLocation)),
    ("http_location", S(Buffer::HttpLocation)),
    ("http.response_body", S(Buffer::HttpResponseBody)),
    ("http_server_body", M(Buffer::HttpResponseBody)),
    ("file.data", S(Buffer::FileData)),
    ("file_data", S(Buffer::FileData)),
    ("dns.query", S(Buffer::DnsQuery)),
    ("dns_query", S(Buffer::DnsQuery)),
    ("dns.queries.rrname", S(Buffer::DnsQueriesRrname)),
    ("dns.answers.rrname", S(Buffer::DnsAnswersRrname)),
    ("dns.response.rrname", S(Buffer::DnsResponseRrname)),
    ("dns.authorities.rrname", S(Buffer::DnsAuthoritiesRrname)),
    ("dns.additionals.rrname", S(Buffer::DnsAdditionalsRrname)),
    ("tls.sni", S(Buffer::TlsSni)),
    ("tls_sni", S(Buffer::TlsSni)),
    ("tls.cert_subject", S(Buffer::TlsCertSubject)),
    ("tls_cert_subject", S(Buffer::TlsCertSubject)),
    ("tls.cert_issuer", S(Buffer::TlsCertIssuer)),
    ("tls_cert_issuer", S(Buffer::TlsCertIssuer)),
    ("tls.cert_serial", S(Buffer::TlsCertSerial)),
    ("tls_cert_serial", S(Buffer::TlsCertSerial)),
    ("tls.cert_fingerprint", S(Buffer::TlsCertFingerprint)),
    ("tls_cert_fingerprint", S(Buffer::TlsCertFingerprint)),
    ("tls.certs", S(Buffer::TlsCerts)),
    ("tls.subjectaltname", S(Buffer::TlsSubjectAltName)),
    ("tls.alpn", S(Buffer::TlsAlpn)),
    ("tls.random", S(Buffer::TlsRandom)),
    ("tls.random_time", S(Buffer::TlsRandomTime)),
    ("tls.random_bytes", S(Buffer::TlsRandomBytes)),
    ("ja3.hash", S(Buffer::Ja3Hash)),
    ("ja3_hash", S(Buffer::Ja3Hash)),
    ("ja3.string", S(Buffer::Ja3String)),
    ("ja3_string", S(Buffer::Ja3String)),
    ("ja3s.hash", S(Buffer::Ja3sHash)),
    ("ja3s.string", S(Buffer::Ja3sString)),
    ("ja4.hash", S(Buffer::Ja4Hash)),
    ("ssh.proto", S(Buffer::SshProto)),
    ("ssh_proto", S(Buffer::SshProto)),
    ("ssh.software", S(Buffer::SshSoftware)),
    ("ssh_software", S(Buffer::SshSoftware)),
];

/// The buffer keyword `name` (canonical or legacy), if it is one.
pub(crate) fn lookup(name: &str) -> Option<BufKw> {
    TABLE.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

/// Every buffer keyword name.
pub(crate) fn keyword_names() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|(n, _)| *n)
}

impl Buffer {
    /// A buffer by any of its keyword names (`http.uri`, `http_uri`,
    /// `file_data`, ...).
    pub fn from_name(name: &str) -> Option<Buffer> {
        lookup(name).map(|k| match k {
            BufKw::Sticky(b) | BufKw::Modifier(b) => b,
        })
    }

    /// Suricata's canonical keyword for the buffer (`pkt_data` for the
    /// payload).
    pub fn name(&self) -> &'static str {
        match self {
            Buffer::Payload => "pkt_data",
            Buffer::Base64Data => "base64_data",
            Buffer::Ipv4Hdr => "ipv4.hdr",
            Buffer::Ipv6Hdr => "ipv6.hdr",
            Buffer::TcpHdr => "tcp.hdr",
            Buffer::UdpHdr => "udp.hdr",
            Buffer::Icmpv4Hdr => "icmpv4.hdr",
            Buffer::Icmpv6Hdr => "icmpv6.hdr",
            Buffer::HttpUri => "http.uri",
            Buffer::HttpUriRaw => "http.uri.raw",
            Buffer::HttpMethod => "http.method",
            Buffer::HttpProtocol => "http.protocol",
            Buffer::HttpRequestLine => "http.request_line",
            Buffer::HttpHeader => "http.header",
            Buffer::HttpHeaderRaw => "http.header.raw",
            Buffer::HttpHeaderNames => "http.header_names",
            Buffer::HttpCookie => "http.cookie",
            Buffer::HttpUserAgent => "http.user_agent",
            Buffer::HttpHost => "http.host",
            Buffer::HttpHostRaw => "http.host.raw",
            Buffer::HttpAccept => "http.accept",
            Buffer::HttpAcceptEnc => "http.accept_enc",
            Buffer::HttpAcceptLang => "http.accept_lang",
            Buffer::HttpConnection => "http.connection",
            Buffer::HttpContentType => "http.content_type",
            Buffer::HttpContentLen => "http.content_len",
            Buffer::HttpReferer => "http.referer",
            Buffer::HttpStart => "http.start",
            Buffer::HttpRequestBody => "http.request_body",
            Buffer::HttpRequestHeader => "http.request_header",
            Buffer::HttpResponseHeader => "http.response_header",
            Buffer::HttpStatCode => "http.stat_code",
            Buffer::HttpStatMsg => "http.stat_msg",
            Buffer::HttpResponseLine => "http.response_line",
            Buffer::HttpServer => "http.server",
            Buffer::HttpLocation => "http.location",
            Buffer::HttpResponseBody => "http.response_body",
            Buffer::FileData => "file.data",
            Buffer::DnsQuery => "dns.query",
            Buffer::DnsQueriesRrname => "dns.queries.rrname",
            Buffer::DnsAnswersRrname => "dns.answers.rrname",
            Buffer::DnsResponseRrname => "dns.response.rrname",
            Buffer::DnsAuthoritiesRrname => "dns.authorities.rrname",
            Buffer::DnsAdditionalsRrname => "dns.additionals.rrname",
            Buffer::TlsSni => "tls.sni",
            Buffer::TlsCertSubject => "tls.cert_subject",
            Buffer::TlsCertIssuer => "tls.cert_issuer",
            Buffer::TlsCertSerial => "tls.cert_serial",
            Buffer::TlsCertFingerprint => "tls.cert_fingerprint",
            Buffer::TlsCerts => "tls.certs",
            Buffer::TlsSubjectAltName => "tls.subjectaltname",
            Buffer::TlsVersion => "tls.version",
            Buffer::TlsAlpn => "tls.alpn",
            Buffer::TlsRandom => "tls.random",
            Buffer::TlsRandomTime => "tls.random_time",
            Buffer::TlsRandomBytes => "tls.random_bytes",
            Buffer::Ja3Hash => "ja3.hash",
            Buffer::Ja3String => "ja3.string",
            Buffer::Ja3sHash => "ja3s.hash",
            Buffer::Ja3sString => "ja3s.string",
            Buffer::Ja4Hash => "ja4.hash",
            Buffer::SshProto => "ssh.proto",
            Buffer::SshSoftware => "ssh.software",
        }
    }

    /// Where the buffer comes from. App buffers name the protocol whose
    /// transactions hold them ("http", "dns", "tls", "ssh") and the
    /// direction they exist in (`None`: both). `file.data` is reported as
    /// "http" (both directions) although Suricata also fills it from SMTP,
    /// SMB, FTP-DATA, NFS and HTTP/2 files; the header protocol says which.
    /// Buffers with one instance per item (DNS names, certificates,
    /// headers, ALPN entries): each use in a rule is matched per instance.
    pub fn is_multi(&self) -> bool {
        matches!(
            self,
            Buffer::DnsQuery
                | Buffer::DnsQueriesRrname
                | Buffer::DnsAnswersRrname
                | Buffer::DnsResponseRrname
                | Buffer::DnsAuthoritiesRrname
                | Buffer::DnsAdditionalsRrname
                | Buffer::TlsCerts
                | Buffer::TlsSubjectAltName
                | Buffer::TlsAlpn
                | Buffer::HttpRequestHeader
                | Buffer::HttpResponseHeader
        )
    }

    pub fn kind(&self) -> BufferKind {
        use BufferKind::App;
        match self {
            Buffer::Payload => BufferKind::Payload,
            Buffer::Base64Data => BufferKind::Derived,
            Buffer::Ipv4Hdr
            | Buffer::Ipv6Hdr
            | Buffer::TcpHdr
            | Buffer::UdpHdr
            | Buffer::Icmpv4Hdr
            | Buffer::Icmpv6Hdr => BufferKind::Packet,
            Buffer::HttpUri
            | Buffer::HttpUriRaw
            | Buffer::HttpMethod
            | Buffer::HttpRequestLine
            | Buffer::HttpUserAgent
            | Buffer::HttpHost
            | Buffer::HttpHostRaw
            | Buffer::HttpAccept
            | Buffer::HttpAcceptEnc
            | Buffer::HttpAcceptLang
            | Buffer::HttpReferer
            | Buffer::HttpRequestBody
            | Buffer::HttpRequestHeader => App("http", Some(ToServer)),
            Buffer::HttpStatCode
            | Buffer::HttpStatMsg
            | Buffer::HttpResponseLine
            | Buffer::HttpServer
            | Buffer::HttpLocation
            | Buffer::HttpResponseBody
            | Buffer::HttpResponseHeader => App("http", Some(ToClient)),
            Buffer::HttpProtocol
            | Buffer::HttpHeader
            | Buffer::HttpHeaderRaw
            | Buffer::HttpHeaderNames
            | Buffer::HttpCookie
            | Buffer::HttpConnection
            | Buffer::HttpContentType
            | Buffer::HttpContentLen
            | Buffer::HttpStart
            | Buffer::FileData => App("http", None),
            Buffer::DnsQuery => App("dns", Some(ToServer)),
            Buffer::DnsQueriesRrname => App("dns", None),
            Buffer::DnsAnswersRrname
            | Buffer::DnsResponseRrname
            | Buffer::DnsAuthoritiesRrname
            | Buffer::DnsAdditionalsRrname => App("dns", Some(ToClient)),
            Buffer::TlsSni | Buffer::Ja3Hash | Buffer::Ja3String | Buffer::Ja4Hash => {
                App("tls", Some(ToServer))
            }
            Buffer::TlsCertSubject
            | Buffer::TlsCertIssuer
            | Buffer::TlsCertSerial
            | Buffer::TlsCertFingerprint
            | Buffer::TlsCerts
            | Buffer::TlsSubjectAltName
            | Buffer::Ja3sHash
            | Buffer::Ja3sString => App("tls", Some(ToClient)),
            Buffer::TlsVersion
            | Buffer::TlsAlpn
            | Buffer::TlsRandom
            | Buffer::TlsRandomTime
            | Buffer::TlsRandomBytes => App("tls", None),
            Buffer::SshProto | Buffer::SshSoftware => App("ssh", None),
        }
    }

    /// Whether a rule whose header names `proto` can use this buffer
    /// (Suricata rejects `alert dns ... (http.uri; ...)`). Transport and IP
    /// protocols accept every buffer: the app layer narrows them.
    pub fn fits_proto(&self, proto: &Proto) -> bool {
        let app = match proto {
            Proto::App(a) => a.as_str(),
            _ => return true,
        };
        match self.kind() {
            BufferKind::Payload | BufferKind::Packet | BufferKind::Derived => true,
            BufferKind::App(owner, _) => {
                if *self == Buffer::FileData {
                    return matches!(
                        app,
                        "http"
                            | "http1"
                            | "http2"
                            | "smtp"
                            | "smb"
                            | "ftp"
                            | "ftp-data"
                            | "nfs"
                            | "pop3"
                            | "imap"
                            | "doh2"
                    );
                }
                match owner {
                    "http" => matches!(app, "http" | "http1" | "http2" | "doh2"),
                    "dns" => matches!(app, "dns" | "doh2" | "mdns"),
                    // JA3/JA4 and the SNI are also computed for QUIC.
                    "tls" => {
                        app == "tls"
                            || (app == "quic"
                                && matches!(
                                    self,
                                    Buffer::Ja3Hash
                                        | Buffer::Ja3String
                                        | Buffer::Ja4Hash
                                        | Buffer::TlsSni
                                ))
                    }
                    other => other == app,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_entry_round_trips_through_the_canonical_name() {
        for (name, kw) in TABLE {
            let b = match kw {
                BufKw::Sticky(b) | BufKw::Modifier(b) => *b,
            };
            assert_eq!(Buffer::from_name(b.name()), Some(b), "{name}");
        }
    }

    #[test]
    fn kinds_and_protocols() {
        assert_eq!(
            Buffer::HttpUri.kind(),
            BufferKind::App("http", Some(ToServer))
        );
        assert_eq!(
            Buffer::HttpStatCode.kind(),
            BufferKind::App("http", Some(ToClient))
        );
        assert_eq!(Buffer::HttpHeader.kind(), BufferKind::App("http", None));
        assert_eq!(Buffer::FileData.kind(), BufferKind::App("http", None));
        assert_eq!(lookup("http_uri"), Some(BufKw::Modifier(Buffer::HttpUri)));
        assert_eq!(lookup("ja3_hash"), Some(BufKw::Sticky(Buffer::Ja3Hash)));
        assert!(!Buffer::HttpUri.fits_proto(&Proto::App("dns".into())));
        assert!(Buffer::HttpUri.fits_proto(&Proto::App("http2".into())));
        assert!(Buffer::HttpUri.fits_proto(&Proto::Tcp));
        assert!(Buffer::FileData.fits_proto(&Proto::App("smtp".into())));
    }
}
