//! Framing of DNS over TCP (RFC 1035 4.2.2): a 2-byte length before each
//! message, several messages per stream, messages split across segments.

use super::error::DnsError;

/// Messages larger than this keep their buffer afterwards; beyond it the
/// buffer is released so an idle flow does not pin 64 KiB.
const KEEP_CAPACITY: usize = 4096;

/// One direction's partial message. Complete messages inside one segment
/// are handed on straight from the segment; only a message split across
/// segments is copied, and only until it is complete.
#[derive(Debug, Default)]
pub struct TcpFramer {
    buf: Vec<u8>,
}

impl TcpFramer {
    /// Bytes held back waiting for the rest of a message.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Drops any partial message (after a gap or an error).
    pub fn reset(&mut self) {
        self.buf = Vec::new();
    }

    /// Feeds in-order stream bytes. `on_msg` gets each complete message
    /// without its length prefix; its error stops the feed. A message whose
    /// length (prefix included) exceeds `cap` is an error: that bounds the
    /// memory one direction can hold.
    pub fn feed(
        &mut self,
        mut data: &[u8],
        cap: usize,
        mut on_msg: impl FnMut(&[u8]) -> Result<(), DnsError>,
    ) -> Result<(), DnsError> {
        if !self.buf.is_empty() {
            if self.buf.len() < 2 {
                let take = (2 - self.buf.len()).min(data.len());
                self.buf.extend_from_slice(&data[..take]);
                data = &data[take..];
                if self.buf.len() < 2 {
                    return Ok(());
                }
            }
            let need = 2 + usize::from(u16::from_be_bytes([self.buf[0], self.buf[1]]));
            if need > cap {
                self.reset();
                return Err(DnsError::TcpMessageTooLarge { need, cap });
            }
            let take = (need - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() < need {
                return Ok(());
            }
            // Empty messages carry nothing; Suricata skips them too.
            let r = match self.buf.get(2..need) {
                Some(msg) if !msg.is_empty() => on_msg(msg),
                _ => Ok(()),
            };
            if self.buf.capacity() > KEEP_CAPACITY {
                self.buf = Vec::new();
            } else {
                self.buf.clear();
            }
            r?;
        }

        while !data.is_empty() {
            let [hi, lo, ..] = *data else {
                self.buf.extend_from_slice(data);
                break;
            };
            let need = 2 + usize::from(u16::from_be_bytes([hi, lo]));
            if need == 2 {
                data = &data[2..];
                continue;
            }
            if need > cap {
                return Err(DnsError::TcpMessageTooLarge { need, cap });
            }
            match data.get(2..need) {
                Some(msg) => {
                    on_msg(msg)?;
                    data = &data[need..];
                }
                None => {
                    self.buf.reserve_exact(need);
                    self.buf.extend_from_slice(data);
                    break;
                }
            }
        }
        Ok(())
    }
}
