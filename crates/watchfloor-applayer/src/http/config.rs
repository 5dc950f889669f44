//! Limits of the HTTP parser and what a protocol switch hands over.

#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Request body bytes kept for inspection (`request-body-limit`).
    pub request_body_limit: usize,
    /// Response body bytes kept for inspection (`response-body-limit`).
    pub response_body_limit: usize,
    /// De-chunked, still compressed body bytes kept per direction.
    pub raw_body_limit: usize,
    /// Longest start or header line kept (libhtp's field limit); longer
    /// lines are cut and raise `*_FIELD_TOO_LONG`.
    pub field_limit: usize,
    /// Largest head (start line and headers) kept per message.
    pub head_limit: usize,
    pub max_headers: usize,
    /// Undo gzip/deflate Content-Encoding of request bodies.
    pub decompress_requests: bool,
    /// Undo gzip/deflate Content-Encoding of response bodies.
    pub decompress_responses: bool,
    /// Stacked codings undone at most (`decompression-layer-limit`).
    pub decompress_layer_limit: usize,
    /// Decoded bytes after which the ratio is judged and decoding stops
    /// once inspection has what it wants (`compression-bomb-limit`).
    pub compression_bomb_limit: u64,
    /// Decoded/encoded ratio past which the body is a bomb. Suricata's 2048
    /// cannot be reached by one deflate layer (at most ~1032:1), so the
    /// default is lower to catch single-layer bombs too.
    pub compression_bomb_ratio: u64,
    /// Transactions kept until drained; the oldest is dropped first.
    pub max_transactions: usize,
    /// Bytes kept per direction for the protocol after a tunnel starts.
    pub handover_limit: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            request_body_limit: 100 * 1024,
            response_body_limit: 100 * 1024,
            raw_body_limit: 100 * 1024,
            field_limit: 18000,
            head_limit: 64 * 1024,
            max_headers: 1024,
            decompress_requests: true,
            decompress_responses: true,
            decompress_layer_limit: 2,
            compression_bomb_limit: 1024 * 1024,
            compression_bomb_ratio: 512,
            max_transactions: 512,
            handover_limit: 64 * 1024,
        }
    }
}

/// Why parsing stopped for a protocol switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TunnelKind {
    /// `CONNECT` answered with 2xx.
    Connect,
    /// `101 Switching Protocols`.
    Upgrade,
}

/// What the sensor needs to go on with the flow after a protocol switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    pub kind: TunnelKind,
    /// The transaction whose response switched protocols.
    pub tx_id: u64,
    /// Bytes of each direction (`[to_server, to_client]`) that arrived
    /// after the switch point in calls already made; later bytes are not
    /// taken. Feed them to protocol detection first.
    pub pending: [Vec<u8>; 2],
}
