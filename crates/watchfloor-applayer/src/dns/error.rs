//! Typed errors of the DNS parser and of the per-flow state.

use std::fmt;

/// Which part of the message an error was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Header,
    Question,
    Answer,
    Authority,
    Additional,
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Section::Header => "header",
            Section::Question => "question section",
            Section::Answer => "answer section",
            Section::Authority => "authority section",
            Section::Additional => "additional section",
        })
    }
}

/// Why a header is not believed to start a DNS message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderProblem {
    /// Each record needs at least 2 bytes; the counts ask for more than the message has.
    CountsExceedLength,
    /// No records announced, yet bytes follow the header.
    TrailingDataWithoutRecords,
    /// A query must ask something.
    RequestWithoutQuestion,
}

impl fmt::Display for HeaderProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HeaderProblem::CountsExceedLength => "record counts exceed the message length",
            HeaderProblem::TrailingDataWithoutRecords => "data after a header with no records",
            HeaderProblem::RequestWithoutQuestion => "query without a question",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("message of {len} bytes is shorter than the 12-byte header")]
    ShortHeader { len: usize },
    #[error("implausible header: {0}")]
    InvalidHeader(HeaderProblem),
    #[error("{section} truncated at offset {offset}")]
    Truncated { section: Section, offset: usize },
    #[error("reserved label type in {section} at offset {offset}")]
    BadLabel { section: Section, offset: usize },
    #[error("compression pointer in {section} at offset {offset} points past the message")]
    PointerOutOfRange { section: Section, offset: usize },
    #[error("compression pointer in {section} at offset {offset} points to itself")]
    InfiniteLoop { section: Section, offset: usize },
    #[error("name in {section} at offset {offset} has more than 255 segments")]
    TooManyLabels { section: Section, offset: usize },
    #[error("malformed rdata of type {rrtype} in {section} at offset {offset}")]
    BadRdata {
        section: Section,
        offset: usize,
        rrtype: u16,
    },
}

impl ParseError {
    /// The header failed the plausibility test: the bytes are probably not
    /// DNS at all (Suricata ignores such UDP payloads without an event).
    pub fn is_header(&self) -> bool {
        matches!(
            self,
            ParseError::ShortHeader { .. } | ParseError::InvalidHeader(_)
        )
    }
}

/// Why the flow state rejected a message or stopped parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("response (QR set) in the to-server direction")]
    NotRequest,
    #[error("TCP DNS message of {need} bytes exceeds the {cap}-byte stream buffer")]
    TcpMessageTooLarge { need: usize, cap: usize },
}

/// The DNS anomalies Suricata raises, with its names (`app-layer-event:dns.<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DnsEvent {
    MalformedData,
    NotRequest,
    NotResponse,
    ZFlagSet,
    InvalidOpcode,
    NameTooLong,
    InfiniteLoop,
    TooManyLabels,
    InvalidAdditionals,
    InvalidAuthorities,
}

impl DnsEvent {
    pub fn name(self) -> &'static str {
        match self {
            DnsEvent::MalformedData => "malformed_data",
            DnsEvent::NotRequest => "not_request",
            DnsEvent::NotResponse => "not_response",
            DnsEvent::ZFlagSet => "z_flag_set",
            DnsEvent::InvalidOpcode => "invalid_opcode",
            DnsEvent::NameTooLong => "name_too_long",
            DnsEvent::InfiniteLoop => "infinite_loop",
            DnsEvent::TooManyLabels => "too_many_labels",
            DnsEvent::InvalidAdditionals => "invalid_additionals",
            DnsEvent::InvalidAuthorities => "invalid_authorities",
        }
    }
}

impl From<DnsEvent> for crate::AppEvent {
    fn from(e: DnsEvent) -> crate::AppEvent {
        crate::AppEvent {
            proto: crate::AppProto::Dns,
            name: e.name(),
        }
    }
}
