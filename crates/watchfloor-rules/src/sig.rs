//! The typed form of one Suricata rule: what the parser produces and the
//! detection engine compiles. Nothing here matches packets; it only says,
//! precisely, what the rule asks for.
//!
//! The shape follows Suricata's own: a header (action, protocol, addresses,
//! ports, direction), per-rule metadata, non-payload checks, and one
//! *inspection list* per buffer the rule looks into (the packet/stream
//! payload, or a sticky buffer such as `http.uri`), each an ordered list of
//! content-like items whose relative modifiers chain within that list.

use std::net::IpAddr;

/// What Suricata does on a match. An IDS only alerts; `drop`/`reject` rules
/// still alert (with `action: blocked` only inline), `pass` stops inspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Alert,
    Pass,
    Drop,
    Reject,
    RejectSrc,
    RejectDst,
    RejectBoth,
    /// `config` rules change settings (e.g. `config dns any any -> any any
    /// (dns.query; content:"x"; config: logging disable, type tx, scope tx;)`).
    Config,
}

/// The protocol field of the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proto {
    /// `ip`: every IP packet (v4 and v6).
    Ip,
    Ipv4,
    Ipv6,
    /// `tcp`: TCP packets and reassembled stream data.
    Tcp,
    /// `tcp-pkt`: TCP packets only.
    TcpPkt,
    /// `tcp-stream`: reassembled stream data only.
    TcpStream,
    Udp,
    /// `icmp`: ICMPv4 and ICMPv6.
    Icmp,
    Icmpv4,
    Icmpv6,
    Sctp,
    Igmp,
    /// `pkthdr`: any packet, even one that failed to decode past layer 2/3
    /// (used by decoder-event rules).
    Pkthdr,
    /// An application-layer protocol (`http`, `dns`, `tls`, `smb`, ...):
    /// matches flows the app layer identified as that protocol. The name is
    /// Suricata's (`http` also covers `http1`/`http2` per Suricata 8 rules:
    /// `http` = either, `http1` = HTTP/1 only).
    App(String),
}

/// An inclusive range of addresses of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpRange {
    V4(u32, u32),
    V6(u128, u128),
}

impl IpRange {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self, ip) {
            (IpRange::V4(a, b), IpAddr::V4(x)) => {
                let x = u32::from(x);
                *a <= x && x <= *b
            }
            (IpRange::V6(a, b), IpAddr::V6(x)) => {
                let x = u128::from(x);
                *a <= x && x <= *b
            }
            _ => false,
        }
    }
}

/// A resolved address expression (variables expanded, groups flattened,
/// negations applied): an address matches when it is in `include` (or
/// `include` is `None`, meaning `any`) and not in `exclude`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddrSet {
    /// `None` = any.
    pub include: Option<Vec<IpRange>>,
    pub exclude: Vec<IpRange>,
}

impl AddrSet {
    pub fn any() -> AddrSet {
        AddrSet::default()
    }
    pub fn is_any(&self) -> bool {
        self.include.is_none() && self.exclude.is_empty()
    }
    pub fn contains(&self, ip: IpAddr) -> bool {
        let inc = match &self.include {
            None => true,
            Some(v) => v.iter().any(|r| r.contains(ip)),
        };
        inc && !self.exclude.iter().any(|r| r.contains(ip))
    }
}

/// A resolved port expression, like [`AddrSet`] with inclusive port ranges.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PortSet {
    /// `None` = any.
    pub include: Option<Vec<(u16, u16)>>,
    pub exclude: Vec<(u16, u16)>,
}

impl PortSet {
    pub fn any() -> PortSet {
        PortSet::default()
    }
    pub fn is_any(&self) -> bool {
        self.include.is_none() && self.exclude.is_empty()
    }
    pub fn contains(&self, p: u16) -> bool {
        let inc = match &self.include {
            None => true,
            Some(v) => v.iter().any(|(a, b)| *a <= p && p <= *b),
        };
        inc && !self.exclude.iter().any(|(a, b)| *a <= p && p <= *b)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub action: Action,
    pub proto: Proto,
    pub src: AddrSet,
    pub src_ports: PortSet,
    pub dst: AddrSet,
    pub dst_ports: PortSet,
    /// `<>`: the rule also matches with source and destination exchanged.
    pub bidirectional: bool,
    /// `=>` (Suricata 8 transactional rules): the rule's buffers may come
    /// from both directions of one transaction (e.g. `ja3.hash` with
    /// `ja3s.hash`); addresses and ports are still those of client ->
    /// server. Never set together with `bidirectional`.
    pub transactional: bool,
}

/// A numeric comparison as `dsize`, `bsize`, `urilen`, `ttl`, `itype`,
/// `stream_size`, `tls.cert_chain_len`... write it: `N`, `<N`, `>N`, `<=N`,
/// `>=N`, `!N`, `N<>M` / `N-M` (exclusive range, as Suricata's uint logic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumCmp {
    Eq(u64),
    Ne(u64),
    Lt(u64),
    Le(u64),
    Gt(u64),
    Ge(u64),
    /// Strictly between the two bounds.
    Range(u64, u64),
    /// `!N<>M`: outside the open range.
    NotRange(u64, u64),
}

impl NumCmp {
    pub fn matches(&self, v: u64) -> bool {
        match *self {
            NumCmp::Eq(a) => v == a,
            NumCmp::Ne(a) => v != a,
            NumCmp::Lt(a) => v < a,
            NumCmp::Le(a) => v <= a,
            NumCmp::Gt(a) => v > a,
            NumCmp::Ge(a) => v >= a,
            NumCmp::Range(a, b) => a < v && v < b,
            NumCmp::NotRange(a, b) => !(a < v && v < b),
        }
    }
}

/// A value that is either written in the rule or taken from a
/// `byte_extract`/`byte_math` variable of the same rule, by index into
/// [`Sig::vars`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Val {
    Lit(i64),
    Var(u8),
}

/// `fast_pattern` options on a content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FastPattern {
    /// The rule asked for this content to be the fast pattern.
    pub explicit: bool,
    /// `fast_pattern:only` (legacy; Suricata treats it as plain fast_pattern).
    pub only: bool,
    /// `fast_pattern:offset,length`: only this slice goes to the prefilter.
    pub chop: Option<(u16, u16)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    /// The bytes, with `|hex|` and escapes decoded.
    pub pattern: Vec<u8>,
    pub negated: bool,
    pub nocase: bool,
    pub offset: Option<Val>,
    pub depth: Option<Val>,
    pub distance: Option<Val>,
    pub within: Option<Val>,
    /// `startswith`: the same as `depth:len; offset:0` (absolute) or
    /// `distance:0; within:len` after a previous content.
    pub startswith: bool,
    /// `endswith`: the match must end where the buffer ends.
    pub endswith: bool,
    pub fast_pattern: FastPattern,
    /// `rawbytes` (accepted, no effect in Suricata).
    pub rawbytes: bool,
}

impl Content {
    /// Whether any relative modifier ties this content to the previous match.
    pub fn is_relative(&self) -> bool {
        self.distance.is_some() || self.within.is_some()
    }
}

/// Where a `pcre` looks when it does not use a sticky buffer: its buffer
/// flags (`/U`, `/H`, ...) name a buffer the same way the legacy content
/// modifiers do. The parser resolves them to a [`Buffer`] on the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pcre {
    /// The pattern between the slashes, unescaped only as PCRE itself needs.
    pub pattern: String,
    pub negated: bool,
    /// `i`
    pub caseless: bool,
    /// `m`
    pub multiline: bool,
    /// `s`
    pub dotall: bool,
    /// `x`
    pub extended: bool,
    /// `A`
    pub anchored: bool,
    /// `E`
    pub dollar_endonly: bool,
    /// `G`
    pub ungreedy: bool,
    /// `R`: start where the previous item's match ended.
    pub relative: bool,
    /// `O`: overrides the engine's match limits (accepted, recorded).
    pub no_limits: bool,
    /// `pcre:"/(?P<pkt_name>...)/"` or `, flow:name` style captures into
    /// variables: (scope, name), in capture-group order.
    pub captures: Vec<(VarScope, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarScope {
    Pkt,
    Flow,
    Tx,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    Big,
    Little,
}

/// How `byte_test`/`byte_jump`/`byte_extract`/`byte_math` read a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumFormat {
    /// Binary integer of `nbytes` (1..=8) in `endian` order.
    Binary(Endian),
    /// `string,dec|hex|oct`: ASCII digits.
    String(u32),
    /// `dce`: endianness taken from the DCE/RPC header (little by default).
    Dce,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteOp {
    Lt,
    Gt,
    Le,
    Ge,
    Eq,
    /// `&`: any bit of the value set.
    And,
    /// `^`: value XOR operand is non-zero.
    Xor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteTest {
    pub nbytes: u8,
    pub op: ByteOp,
    /// `!` before the operator.
    pub negated: bool,
    pub value: Val,
    pub offset: Val,
    pub relative: bool,
    pub format: NumFormat,
    /// `bitmask 0x..`: applied (and right-shifted by its trailing zeros)
    /// before comparing.
    pub bitmask: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteJump {
    pub nbytes: u8,
    pub offset: Val,
    pub relative: bool,
    pub format: NumFormat,
    pub multiplier: u32,
    /// `align`: round the jump up to a multiple of 4.
    pub align: bool,
    /// `from_beginning`: jump from the buffer start, not the read position.
    pub from_beginning: bool,
    /// `from_end`: jump from the buffer end.
    pub from_end: bool,
    /// `post_offset N`: added after the jump.
    pub post_offset: i32,
    pub bitmask: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteExtract {
    pub nbytes: u8,
    pub offset: i32,
    pub relative: bool,
    pub format: NumFormat,
    pub multiplier: u32,
    pub align: u8,
    pub bitmask: Option<u64>,
    /// Index into [`Sig::vars`].
    pub var: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MathOp {
    Add,
    Sub,
    Mul,
    Div,
    Shl,
    Shr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteMath {
    pub nbytes: u8,
    pub offset: i32,
    pub relative: bool,
    pub format: NumFormat,
    pub op: MathOp,
    pub rvalue: Val,
    pub bitmask: Option<u64>,
    /// Index into [`Sig::vars`] receiving the result.
    pub result: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsDataAt {
    pub negated: bool,
    pub offset: Val,
    pub relative: bool,
    /// `rawbytes` (accepted).
    pub rawbytes: bool,
}

/// `base64_decode:bytes N, offset M, relative`: decodes part of the current
/// buffer; a following `base64_data` inspects the decoded bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Base64Decode {
    pub bytes: Option<u32>,
    pub offset: u32,
    pub relative: bool,
}

/// One step of an inspection list, in rule order.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Content(Box<Content>),
    Pcre(Box<Pcre>),
    ByteTest(ByteTest),
    ByteJump(ByteJump),
    ByteExtract(ByteExtract),
    ByteMath(ByteMath),
    IsDataAt(IsDataAt),
    /// `bsize`: the buffer's length.
    Bsize(NumCmp),
    /// `dsize` when written after payload contents is still a packet
    /// check; it is kept in [`Check`]. This is `urilen` on `http.uri(.raw)`.
    Urilen(NumCmp),
    Base64Decode(Base64Decode),
    /// `asn1` (accepted and evaluated as a structural check of BER data).
    Asn1(String),
}

/// Transformations applied to a sticky buffer before inspection, in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Transform {
    ToLowercase,
    ToUppercase,
    StripWhitespace,
    CompressWhitespace,
    UrlDecode,
    Dotprefix,
    ToMd5,
    ToSha1,
    ToSha256,
    HeaderLowercase,
    StripPseudoHeaders,
    /// `from_base64: bytes N, offset M, mode rfc4648|rfc2045|strict`.
    FromBase64 {
        offset: u32,
        bytes: Option<u32>,
        mode: Base64Mode,
    },
    /// `xor:"0d0ac8ff"`
    Xor(Vec<u8>),
    /// `pcrexform:"(capture)"`: the first capture replaces the buffer.
    Pcrexform(String),
    CaseInsensitiveHash,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Base64Mode {
    #[default]
    Rfc4648,
    Rfc2045,
    Strict,
}

/// The buffers a rule can inspect. `Payload` is the packet payload for
/// packet rules and the reassembled stream for stream rules; the others are
/// Suricata's sticky buffers (legacy modifiers such as `http_uri` map to the
/// same variant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Buffer {
    Payload,
    /// `base64_data`: the output of the last `base64_decode`.
    Base64Data,
    // Packet headers as buffers.
    Ipv4Hdr,
    Ipv6Hdr,
    TcpHdr,
    UdpHdr,
    Icmpv4Hdr,
    Icmpv6Hdr,
    // HTTP (request side unless noted).
    HttpUri,
    HttpUriRaw,
    HttpMethod,
    HttpProtocol,
    HttpRequestLine,
    HttpHeader,
    HttpHeaderRaw,
    HttpHeaderNames,
    HttpCookie,
    HttpUserAgent,
    HttpHost,
    HttpHostRaw,
    HttpAccept,
    HttpAcceptEnc,
    HttpAcceptLang,
    HttpConnection,
    HttpContentType,
    HttpContentLen,
    HttpReferer,
    HttpStart,
    HttpRequestBody,
    /// `http.request_header` (name: value lines, one buffer per header).
    HttpRequestHeader,
    HttpResponseHeader,
    // HTTP response side.
    HttpStatCode,
    HttpStatMsg,
    HttpResponseLine,
    HttpServer,
    HttpLocation,
    HttpResponseBody,
    /// `file.data` / `file_data`: the response body for HTTP (request body
    /// too, in Suricata 7+ for to_server rules).
    FileData,
    // DNS
    DnsQuery,
    /// `dns.queries.rrname`
    DnsQueriesRrname,
    /// `dns.answers.rrname`
    DnsAnswersRrname,
    /// `dns.response.rrname`
    DnsResponseRrname,
    /// `dns.authorities.rrname` (Suricata 8): names in the authority section.
    DnsAuthoritiesRrname,
    /// `dns.additionals.rrname` (Suricata 8): names in the additional section.
    DnsAdditionalsRrname,
    // TLS
    TlsSni,
    TlsCertSubject,
    TlsCertIssuer,
    TlsCertSerial,
    TlsCertFingerprint,
    TlsCerts,
    TlsSubjectAltName,
    TlsVersion,
    TlsAlpn,
    TlsRandom,
    TlsRandomTime,
    TlsRandomBytes,
    Ja3Hash,
    Ja3String,
    Ja3sHash,
    Ja3sString,
    Ja4Hash,
    // Others present in real rule sets.
    SshProto,
    SshSoftware,
}

/// Where a buffer comes from, for the engine's grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BufferKind {
    /// Packet or stream payload.
    Payload,
    /// A packet header.
    Packet,
    /// A transaction of this app-layer protocol, in this direction
    /// (`None` = the buffer exists in both directions).
    App(&'static str, Option<crate::FlowDir>),
    /// Derived from another buffer of the same rule (`base64_data`).
    Derived,
}

/// A buffer and what the rule does in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    pub buffer: Buffer,
    pub transforms: Vec<Transform>,
    pub items: Vec<Item>,
}

/// The `flow` keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlowOpts {
    /// `to_server`/`from_client` (Some(ToServer)), `to_client`/`from_server`.
    pub dir: Option<crate::FlowDir>,
    pub established: bool,
    pub not_established: bool,
    pub stateless: bool,
    pub only_stream: bool,
    pub no_stream: bool,
    pub only_frag: bool,
    pub no_frag: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowbitCmd {
    Set,
    Unset,
    Toggle,
    IsSet,
    IsNotSet,
    /// `flowbits:noalert` (the rule never alerts).
    NoAlert,
}

/// `flowbits:isset,a|b` (any) and `a&b` (all) group names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flowbits {
    pub cmd: FlowbitCmd,
    pub names: Vec<String>,
    /// `true` when the names were joined with `|` (any of them), else all.
    pub any: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowintOp {
    Set,
    Add,
    Sub,
    Lt,
    Le,
    Eq,
    Ne,
    Ge,
    Gt,
    IsSet,
    IsNotSet,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flowint {
    pub name: String,
    pub op: FlowintOp,
    /// A literal, or the name of another flowint.
    pub value: Option<FlowintVal>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowintVal {
    Lit(u32),
    Var(String),
}

/// `xbits:set|unset|toggle|isset|isnotset,name,track ip_src|ip_dst|ip_pair
/// [,expire N]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Xbits {
    pub cmd: FlowbitCmd,
    pub name: String,
    pub track: Track,
    pub expire: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Track {
    BySrc,
    ByDst,
    ByRule,
    ByBoth,
    ByFlow,
    /// xbits `ip_pair`.
    IpPair,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThresholdKind {
    Limit,
    Threshold,
    Both,
    /// `detection_filter`: alert only after `count` matches in `seconds`
    /// (every match past the count alerts).
    DetectionFilter,
    /// threshold.config `rate_filter` (accepted; alerts are not rate-changed
    /// in IDS mode beyond what `new_action alert` does).
    Rate,
    /// `threshold: type backoff, track by_flow, count N, multiplier M`
    /// (Suricata 7.0.?+): alert on the Nth match, then each time the match
    /// count reaches N*M, N*M*M, ... (`seconds` is 0: no time window).
    Backoff {
        multiplier: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    pub kind: ThresholdKind,
    pub track: Track,
    pub count: u32,
    pub seconds: u32,
}

/// `app-layer-event:`, `decode-event:`, `stream-event:`: (layer, event name)
/// e.g. ("http", "REQUEST_FIELD_TOO_LONG"), ("decoder", "ipv4.trunc_pkt"),
/// ("stream", "3whs_synack_in_wrong_direction"). Names are kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMatch {
    pub layer: String,
    pub event: String,
}

/// `tcp.flags`/`flags`: `[modifier]FLAGS[,IGNORED]` with F S R P A U C E
/// (and 1/2 for C/E, 0 for none). `+` all of these and maybe others, `*` any
/// of these, `!` none of these, no modifier: exactly these (after masking).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpFlags {
    pub flags: u8,
    pub ignore: u8,
    pub modifier: FlagsMod,
}

/// Bits of [`TcpFlags::flags`]/[`TcpFlags::ignore`]: the TCP header's
/// flag byte as on the wire (`1`/`C` = CWR, `2`/`E` = ECE).
pub const TCP_FIN: u8 = 0x01;
pub const TCP_SYN: u8 = 0x02;
pub const TCP_RST: u8 = 0x04;
pub const TCP_PSH: u8 = 0x08;
pub const TCP_ACK: u8 = 0x10;
pub const TCP_URG: u8 = 0x20;
pub const TCP_ECE: u8 = 0x40;
pub const TCP_CWR: u8 = 0x80;

/// Bits of [`Check::Fragbits`]: the high byte of the IPv4 flags/fragment
/// offset field (`(frag_field >> 8) & 0xe0`).
pub const FRAG_RESERVED: u8 = 0x80;
pub const FRAG_DONT: u8 = 0x40;
pub const FRAG_MORE: u8 = 0x20;

/// Bits of [`Check::SslState`] states.
pub const SSL_CLIENT_HELLO: u8 = 0x01;
pub const SSL_SERVER_HELLO: u8 = 0x02;
pub const SSL_CLIENT_KEYX: u8 = 0x04;
pub const SSL_SERVER_KEYX: u8 = 0x08;
pub const SSL_UNKNOWN: u8 = 0x10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagsMod {
    Exact,
    Plus,
    Any,
    Not,
}

/// Non-payload checks, each on the packet, flow or transaction as named.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    Flow(FlowOpts),
    Flowbits(Flowbits),
    Flowint(Flowint),
    Xbits(Xbits),
    Dsize(NumCmp),
    Ttl(NumCmp),
    Itype(NumCmp),
    Icode(NumCmp),
    IcmpId(u16),
    IcmpSeq(u16),
    IpProto {
        negated: bool,
        op: NumCmp,
    },
    /// `id` (IPv4 identification).
    IpId(u16),
    Tos {
        negated: bool,
        value: u8,
    },
    /// `ipopts:rr|eol|nop|ts|sec|esec|lsrr|ssrr|satid|any`.
    IpOpts(String),
    /// `fragbits:[+*!]MDR`: bits are [`FRAG_MORE`], [`FRAG_DONT`],
    /// [`FRAG_RESERVED`].
    Fragbits {
        bits: u8,
        modifier: FlagsMod,
    },
    Fragoffset {
        negated: bool,
        op: NumCmp,
    },
    TcpFlags(TcpFlags),
    Seq(u32),
    Ack(u32),
    Window {
        negated: bool,
        value: u16,
    },
    /// `stream_size:server|client|both|either,<op>,N`.
    StreamSize {
        side: StreamSide,
        op: NumCmp,
    },
    /// `ipv4-csum:valid|invalid` and the like: (layer, must be valid).
    Checksum {
        layer: String,
        valid: bool,
    },
    SameIp,
    AppLayerEvent(EventMatch),
    DecodeEvent(EventMatch),
    StreamEvent(EventMatch),
    /// `app-layer-protocol:[!]name[,final|original|either|to_server|to_client]`.
    AppLayerProtocol {
        negated: bool,
        proto: String,
    },
    /// `vlan.id:N[,layer]`.
    VlanId {
        op: NumCmp,
        layer: Option<i32>,
    },
    VlanLayers(NumCmp),
    /// `tls.version:1.2` etc. (and `ssl_version`), as the record's version number.
    TlsVersion(Vec<u16>),
    /// `ssl_version` with negated entries (`ssl_version:!tls1.3,tls1.2`):
    /// matches when the record version is one of `any`, or when `not` is
    /// non-empty and the version is none of `not`. Without `!` entries the
    /// parser emits [`Check::TlsVersion`] instead.
    SslVersion {
        any: Vec<u16>,
        not: Vec<u16>,
    },
    /// `tls.cert_chain_len`.
    TlsCertChainLen(NumCmp),
    /// `tls_cert_notbefore`/`notafter`: (`notafter`?, comparison, unix time).
    TlsCertValidity {
        not_after: bool,
        op: NumCmp,
    },
    /// `tls.cert_expired`, `tls.cert_valid`.
    TlsCertExpired(bool),
    /// `ssl_state:client_hello|server_hello,!unknown` (bit sets of
    /// [`SSL_CLIENT_HELLO`]...: the state must be one of `states`, and none
    /// of `negated`).
    SslState {
        states: u8,
        negated: u8,
    },
    /// `dns.opcode:[!]N`.
    DnsOpcode {
        negated: bool,
        op: NumCmp,
    },
    /// `dns.rcode`.
    DnsRcode(NumCmp),
    /// `dns.rrtype`.
    DnsRrtype(NumCmp),
    /// `ftpbounce`
    FtpBounce,
    /// `icmpv6.mtu`.
    Icmpv6Mtu(NumCmp),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamSide {
    Server,
    Client,
    Both,
    Either,
}

/// `target:src_ip|dest_ip`: which side of the alert is the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Src,
    Dst,
}

/// `tag:session|host,N,packets|seconds|bytes[,src|dst]` (recorded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub session: bool,
    pub count: u32,
    pub metric: String,
}

/// A parsed, validated rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Sig {
    pub header: Header,
    pub sid: u32,
    pub gid: u32,
    pub rev: u32,
    pub msg: String,
    pub classtype: Option<String>,
    /// The effective priority: `priority:` if given, else the classtype's,
    /// else 3 (Suricata's default).
    pub priority: u8,
    /// `reference:type,id`, as written.
    pub references: Vec<(String, String)>,
    /// `metadata:` key/value pairs in order (`key value`).
    pub metadata: Vec<(String, String)>,
    pub target: Option<Target>,
    /// `noalert`, or `flowbits:noalert`: matches update state but never alert.
    pub noalert: bool,
    pub checks: Vec<Check>,
    /// Inspection lists in rule order (a buffer may appear more than once if
    /// the rule returns to it; the engine treats each list on its own).
    pub inspections: Vec<Inspection>,
    /// `threshold:` / `detection_filter:` in the rule itself.
    pub threshold: Option<Threshold>,
    pub detection_filter: Option<Threshold>,
    pub tag: Option<Tag>,
    /// Names of `byte_extract`/`byte_math` variables, indexed by [`Val::Var`].
    pub vars: Vec<String>,
    /// `prefilter` keyword: the content it follows is the rule's prefilter.
    pub prefilter: bool,
    /// `config` rule options (`logging disable, type tx, scope tx`), raw.
    pub config: Option<String>,
    /// `requires:` (features/versions): the rule loads only when met; the
    /// parser rejects rules whose requirements are not.
    pub requires: Option<String>,
    /// Source position, for reports.
    pub file: Option<std::sync::Arc<str>>,
    pub line: usize,
    /// The rule text as written (joined continuation lines).
    pub raw: String,
}

impl Sig {
    /// The flow options of the rule, if it has a `flow` keyword.
    pub fn flow(&self) -> Option<&FlowOpts> {
        self.checks.iter().find_map(|c| match c {
            Check::Flow(f) => Some(f),
            _ => None,
        })
    }
}
