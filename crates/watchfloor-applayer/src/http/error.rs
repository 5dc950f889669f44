//! Typed errors of the HTTP state and the anomaly events it raises.

use crate::Direction;

/// Why a direction of the flow stopped being parsed. Informational: the
/// state keeps what it had, and the matching events are already raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("bytes lost in the {dir:?} header section: parsing of that direction stopped")]
    GapInHeaders { dir: Direction },
    #[error("bytes lost in a {dir:?} body of unknown length: parsing of that direction stopped")]
    GapInBody { dir: Direction },
}

/// The HTTP anomalies, named as Suricata's `app-layer-htp.c` names them
/// (`app-layer-event:http.<name>` matches case-insensitively; EVE `anomaly`
/// records carry the upper-case name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpEvent {
    UnknownError,
    GzipDecompressionFailed,
    RequestFieldMissingColon,
    ResponseFieldMissingColon,
    InvalidRequestChunkLen,
    InvalidResponseChunkLen,
    InvalidTransferEncodingValueInRequest,
    InvalidTransferEncodingValueInResponse,
    InvalidContentLengthFieldInRequest,
    InvalidContentLengthFieldInResponse,
    DuplicateContentLengthFieldInRequest,
    DuplicateContentLengthFieldInResponse,
    ContinueAlreadySeen,
    UnableToMatchResponseToRequest,
    InvalidServerPortInRequest,
    InvalidAuthorityPort,
    RequestHeaderInvalid,
    ResponseHeaderInvalid,
    MissingHostHeader,
    HostHeaderAmbiguous,
    InvalidRequestFieldFolding,
    InvalidResponseFieldFolding,
    RequestFieldTooLong,
    ResponseFieldTooLong,
    RequestLineInvalid,
    RequestBodyUnexpected,
    RequestServerPortTcpPortMismatch,
    RequestUriHostInvalid,
    RequestHeaderHostInvalid,
    UriDelimNonCompliant,
    MethodDelimNonCompliant,
    RequestLineLeadingWhitespace,
    TooManyEncodingLayers,
    AbnormalCeHeader,
    RequestHeaderRepetition,
    ResponseHeaderRepetition,
    ResponseAbnormalTransferEncoding,
    ResponseChunkedOldProto,
    ResponseInvalidProtocol,
    ResponseInvalidStatus,
    RequestLineIncomplete,
    DoubleEncodedUri,
    RequestLineMissingProtocol,
    RequestTooManyHeaders,
    ResponseTooManyHeaders,
    RequestChunkExtension,
    ResponseChunkExtension,
    CompressionBomb,
    FailedProtocolChange,
}

impl HttpEvent {
    pub fn name(self) -> &'static str {
        use HttpEvent::*;
        match self {
            UnknownError => "UNKNOWN_ERROR",
            GzipDecompressionFailed => "GZIP_DECOMPRESSION_FAILED",
            RequestFieldMissingColon => "REQUEST_FIELD_MISSING_COLON",
            ResponseFieldMissingColon => "RESPONSE_FIELD_MISSING_COLON",
            InvalidRequestChunkLen => "INVALID_REQUEST_CHUNK_LEN",
            InvalidResponseChunkLen => "INVALID_RESPONSE_CHUNK_LEN",
            InvalidTransferEncodingValueInRequest => "INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST",
            InvalidTransferEncodingValueInResponse => "INVALID_TRANSFER_ENCODING_VALUE_IN_RESPONSE",
            InvalidContentLengthFieldInRequest => "INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST",
            InvalidContentLengthFieldInResponse => "INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE",
            DuplicateContentLengthFieldInRequest => "DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST",
            DuplicateContentLengthFieldInResponse => "DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE",
            ContinueAlreadySeen => "100_CONTINUE_ALREADY_SEEN",
            UnableToMatchResponseToRequest => "UNABLE_TO_MATCH_RESPONSE_TO_REQUEST",
            InvalidServerPortInRequest => "INVALID_SERVER_PORT_IN_REQUEST",
            InvalidAuthorityPort => "INVALID_AUTHORITY_PORT",
            RequestHeaderInvalid => "REQUEST_HEADER_INVALID",
            ResponseHeaderInvalid => "RESPONSE_HEADER_INVALID",
            MissingHostHeader => "MISSING_HOST_HEADER",
            HostHeaderAmbiguous => "HOST_HEADER_AMBIGUOUS",
            InvalidRequestFieldFolding => "INVALID_REQUEST_FIELD_FOLDING",
            InvalidResponseFieldFolding => "INVALID_RESPONSE_FIELD_FOLDING",
            RequestFieldTooLong => "REQUEST_FIELD_TOO_LONG",
            ResponseFieldTooLong => "RESPONSE_FIELD_TOO_LONG",
            RequestLineInvalid => "REQUEST_LINE_INVALID",
            RequestBodyUnexpected => "REQUEST_BODY_UNEXPECTED",
            RequestServerPortTcpPortMismatch => "REQUEST_SERVER_PORT_TCP_PORT_MISMATCH",
            RequestUriHostInvalid => "REQUEST_URI_HOST_INVALID",
            RequestHeaderHostInvalid => "REQUEST_HEADER_HOST_INVALID",
            UriDelimNonCompliant => "URI_DELIM_NON_COMPLIANT",
            MethodDelimNonCompliant => "METHOD_DELIM_NON_COMPLIANT",
            RequestLineLeadingWhitespace => "REQUEST_LINE_LEADING_WHITESPACE",
            TooManyEncodingLayers => "TOO_MANY_ENCODING_LAYERS",
            AbnormalCeHeader => "ABNORMAL_CE_HEADER",
            RequestHeaderRepetition => "REQUEST_HEADER_REPETITION",
            ResponseHeaderRepetition => "RESPONSE_HEADER_REPETITION",
            ResponseAbnormalTransferEncoding => "RESPONSE_ABNORMAL_TRANSFER_ENCODING",
            ResponseChunkedOldProto => "RESPONSE_CHUNKED_OLD_PROTO",
            ResponseInvalidProtocol => "RESPONSE_INVALID_PROTOCOL",
            ResponseInvalidStatus => "RESPONSE_INVALID_STATUS",
            RequestLineIncomplete => "REQUEST_LINE_INCOMPLETE",
            DoubleEncodedUri => "DOUBLE_ENCODED_URI",
            RequestLineMissingProtocol => "REQUEST_LINE_MISSING_PROTOCOL",
            RequestTooManyHeaders => "REQUEST_TOO_MANY_HEADERS",
            ResponseTooManyHeaders => "RESPONSE_TOO_MANY_HEADERS",
            RequestChunkExtension => "REQUEST_CHUNK_EXTENSION",
            ResponseChunkExtension => "RESPONSE_CHUNK_EXTENSION",
            CompressionBomb => "COMPRESSION_BOMB",
            FailedProtocolChange => "FAILED_PROTOCOL_CHANGE",
        }
    }

    /// The request- or response-side variant of a two-sided event.
    pub(crate) fn sided(dir: Direction, req: HttpEvent, resp: HttpEvent) -> HttpEvent {
        match dir {
            Direction::ToServer => req,
            Direction::ToClient => resp,
        }
    }
}

impl From<HttpEvent> for crate::AppEvent {
    fn from(e: HttpEvent) -> crate::AppEvent {
        crate::AppEvent {
            proto: crate::AppProto::Http,
            name: e.name(),
        }
    }
}
