//! Decode: raw frames to typed packets. Zero-copy: a [`Packet`] borrows the
//! frame (or, for a reassembled fragment train, the decoder's buffer).
//! Malformed input never panics: it yields a [`DecodeEvent`] with Suricata's
//! event name and the packet goes on as far as it could be decoded.

mod packet;
pub use packet::*;
mod events;
pub use events::DecodeEvent;
