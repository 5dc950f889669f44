//! Typed errors of the TLS parser and the anomaly events it raises.

/// The TLS anomalies Suricata raises, with its names
/// (`app-layer-event:tls.<name>`, `rules/tls-events.rules`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsEvent {
    InvalidSslv2Header,
    InvalidTlsHeader,
    InvalidRecordVersion,
    InvalidRecordType,
    InvalidRecordLength,
    InvalidHandshakeMessage,
    HeartbeatMessage,
    InvalidHeartbeatMessage,
    OverflowHeartbeatMessage,
    DataleakHeartbeatMismatch,
    HandshakeInvalidLength,
    MultipleSniExtensions,
    InvalidSniType,
    InvalidSniLength,
    TooManyRecordsInPacket,
    InvalidAlertMessage,
    InvalidCertificate,
    CertificateInvalidLength,
    CertificateInvalidVersion,
    CertificateInvalidSerial,
    CertificateInvalidAlgorithmidentifier,
    CertificateInvalidX509name,
    CertificateInvalidDate,
    CertificateInvalidExtensions,
    CertificateInvalidDer,
    CertificateInvalidSubject,
    CertificateInvalidIssuer,
    CertificateInvalidValidity,
    ErrorMessageEncountered,
    TooManySubjectAlternativeNames,
    /// Suricata's catch-all for records that make no sense.
    InvalidSslRecord,
}

impl TlsEvent {
    pub fn name(self) -> &'static str {
        use TlsEvent::*;
        match self {
            InvalidSslv2Header => "invalid_sslv2_header",
            InvalidTlsHeader => "invalid_tls_header",
            InvalidRecordVersion => "invalid_record_version",
            InvalidRecordType => "invalid_record_type",
            InvalidRecordLength => "invalid_record_length",
            InvalidHandshakeMessage => "invalid_handshake_message",
            HeartbeatMessage => "heartbeat_message",
            InvalidHeartbeatMessage => "invalid_heartbeat_message",
            OverflowHeartbeatMessage => "overflow_heartbeat_message",
            DataleakHeartbeatMismatch => "dataleak_heartbeat_mismatch",
            HandshakeInvalidLength => "handshake_invalid_length",
            MultipleSniExtensions => "multiple_sni_extensions",
            InvalidSniType => "invalid_sni_type",
            InvalidSniLength => "invalid_sni_length",
            TooManyRecordsInPacket => "too_many_records_in_packet",
            InvalidAlertMessage => "invalid_alert_message",
            InvalidCertificate => "invalid_certificate",
            CertificateInvalidLength => "certificate_invalid_length",
            CertificateInvalidVersion => "certificate_invalid_version",
            CertificateInvalidSerial => "certificate_invalid_serial",
            CertificateInvalidAlgorithmidentifier => "certificate_invalid_algorithmidentifier",
            CertificateInvalidX509name => "certificate_invalid_x509name",
            CertificateInvalidDate => "certificate_invalid_date",
            CertificateInvalidExtensions => "certificate_invalid_extensions",
            CertificateInvalidDer => "certificate_invalid_der",
            CertificateInvalidSubject => "certificate_invalid_subject",
            CertificateInvalidIssuer => "certificate_invalid_issuer",
            CertificateInvalidValidity => "certificate_invalid_validity",
            ErrorMessageEncountered => "error_message_encountered",
            TooManySubjectAlternativeNames => "too_many_subject_alternative_names",
            InvalidSslRecord => "invalid_ssl_record",
        }
    }
}

impl From<TlsEvent> for crate::AppEvent {
    fn from(e: TlsEvent) -> crate::AppEvent {
        crate::AppEvent {
            proto: crate::AppProto::Tls,
            name: e.name(),
        }
    }
}

/// Why parsing of a flow stopped. Every error has also raised its event
/// (see [`TlsError::event`]); the state stays readable for logging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TlsError {
    #[error("record type {0} is not a TLS content type")]
    InvalidRecordType(u8),
    #[error("record version {0:#06x} is not an SSL/TLS version")]
    InvalidRecordVersion(u16),
    #[error("record length {0} is zero or above the 17408-byte maximum")]
    InvalidRecordLength(usize),
    #[error("handshake record of {0} bytes is shorter than a message header")]
    ShortHandshakeRecord(usize),
    #[error("handshake message of {len} bytes exceeds the {cap}-byte buffer")]
    HandshakeTooLarge { len: usize, cap: usize },
    #[error("unknown handshake message type {0}")]
    UnknownHandshakeType(u8),
    #[error("malformed SSLv2 record")]
    InvalidSslv2,
    #[error("alert record shorter than 2 bytes")]
    InvalidAlert,
    #[error("more records in one call than its bytes can hold")]
    TooManyRecords,
    #[error("malformed heartbeat")]
    InvalidHeartbeat(TlsEvent),
}

impl TlsError {
    /// The event this error raised.
    pub fn event(&self) -> TlsEvent {
        match self {
            TlsError::InvalidRecordType(_) => TlsEvent::InvalidRecordType,
            TlsError::InvalidRecordVersion(_) => TlsEvent::InvalidRecordVersion,
            TlsError::InvalidRecordLength(_) => TlsEvent::InvalidRecordLength,
            TlsError::ShortHandshakeRecord(_) | TlsError::UnknownHandshakeType(_) => {
                TlsEvent::InvalidSslRecord
            }
            TlsError::HandshakeTooLarge { .. } => TlsEvent::HandshakeInvalidLength,
            TlsError::InvalidSslv2 => TlsEvent::InvalidSslRecord,
            TlsError::InvalidAlert => TlsEvent::InvalidAlertMessage,
            TlsError::TooManyRecords => TlsEvent::TooManyRecordsInPacket,
            TlsError::InvalidHeartbeat(e) => *e,
        }
    }
}
