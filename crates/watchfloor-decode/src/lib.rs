//! Decode: raw frames to typed packets. Zero-copy: a [`Packet`] borrows the
//! frame (or, for a reassembled fragment train, the decoder's buffer).
//! Malformed input never panics: it yields a [`DecodeEvent`] with Suricata's
//! event name and the packet goes on as far as it could be decoded.
//!
//! ```
//! use watchfloor_capture::{LinkType, RawPacket};
//! use watchfloor_decode::{Decoder, DecodeConfig};
//!
//! let mut decoder = Decoder::new(DecodeConfig::default());
//! let frame = [0u8; 10];
//! let raw = RawPacket { ts_ns: 0, linktype: LinkType::Ethernet, data: &frame,
//!                       orig_len: 10, offset: 0, interface: 0 };
//! let p = decoder.decode(&raw);
//! assert!(p.is_invalid());
//! assert_eq!(p.events.iter().next().map(|e| e.name()), Some("decoder.ethernet.pkt_too_small"));
//! ```

mod checksum;
mod config;
mod decoder;
mod defrag;
mod ethernet;
mod events;
mod icmpv4;
mod icmpv6;
mod ipv4;
mod ipv6;
mod link;
mod packet;
mod shard;
mod sll;
mod stats;
mod tcp;
#[cfg(test)]
mod testutil;
mod udp;

pub use config::{DecodeConfig, DefragConfig, OverlapPolicy, UnknownPolicy};
pub use decoder::Decoder;
pub use events::DecodeEvent;
pub use packet::*;
pub use shard::shard_hash;
pub use stats::DecodeStats;
