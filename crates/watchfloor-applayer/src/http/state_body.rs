//! Body bytes of the per-flow state: framing, chunk decoding and the
//! content-coding decoders feeding the transaction's body.

use super::*;
use crate::http::body::parse_codings;

impl HttpState {
    pub(super) fn body_bytes(&mut self, dir: Direction, data: &[u8]) -> usize {
        let i = dir.index();
        let Phase::Body(framing) = &mut self.sides[i].phase else {
            return 0;
        };
        match framing {
            Framing::UntilClose => {
                self.feed_body(dir, data);
                self.count_wire(dir, data.len() as u64);
                data.len()
            }
            Framing::Length(rem) => {
                let take = usize::try_from(*rem).unwrap_or(usize::MAX).min(data.len());
                *rem -= take as u64;
                let done = *rem == 0;
                self.feed_body(dir, &data[..take]);
                self.count_wire(dir, take as u64);
                if done {
                    self.message_done(dir);
                }
                take
            }
            Framing::Chunked(_) => self.chunked_bytes(dir, data),
        }
    }

    fn chunked_bytes(&mut self, dir: Direction, data: &[u8]) -> usize {
        let i = dir.index();
        let lim = self.limits(dir);
        let side = &mut self.sides[i];
        let Phase::Body(Framing::Chunked(ch)) = &mut side.phase else {
            return 0;
        };
        let mut wire = 0u64;
        let mut events = Vec::new();
        let tx = side.tx.and_then(|id| find_mut(&mut self.txs, id));
        let outcome = match tx {
            Some(t) => {
                let body = body_mut(t, dir);
                let dec = &mut side.decoder;
                let mut ev2 = Vec::new();
                let o = ch.feed(data, dir, &mut events, &mut wire, &mut |d| {
                    push_body(body, dec, d, lim, &mut ev2)
                });
                body.message_len += wire;
                events.extend(ev2);
                for e in events.drain(..) {
                    t.push_event(e);
                }
                o
            }
            None => ch.feed(data, dir, &mut events, &mut wire, &mut |_| {}),
        };
        match outcome {
            ChunkOutcome::More => data.len(),
            ChunkOutcome::Done { consumed } => {
                self.message_done(dir);
                consumed
            }
            ChunkOutcome::Invalid { line, consumed } => {
                self.sides[i].phase = Phase::Body(Framing::UntilClose);
                self.feed_body(dir, &line);
                self.count_wire(dir, line.len() as u64);
                let rest = data.get(consumed..).unwrap_or(&[]);
                consumed + self.body_bytes(dir, rest)
            }
        }
    }

    pub(super) fn feed_body(&mut self, dir: Direction, data: &[u8]) {
        let lim = self.limits(dir);
        let side = &mut self.sides[dir.index()];
        let Some(t) = side.tx.and_then(|id| find_mut(&mut self.txs, id)) else {
            return;
        };
        let mut events = Vec::new();
        push_body(body_mut(t, dir), &mut side.decoder, data, lim, &mut events);
        for e in events {
            t.push_event(e);
        }
    }

    fn count_wire(&mut self, dir: Direction, n: u64) {
        if let Some(t) = self.sides[dir.index()]
            .tx
            .and_then(|id| find_mut(&mut self.txs, id))
        {
            body_mut(t, dir).message_len += n;
        }
    }
}

pub(super) fn decoder_for(
    tx: &mut HttpTx,
    dir: Direction,
    enabled: bool,
    layer_limit: usize,
) -> Option<Decoder> {
    if !enabled {
        return None;
    }
    let head = match dir {
        Direction::ToServer => &tx.request.as_ref()?.head,
        Direction::ToClient => &tx.response.as_ref()?.head,
    };
    let ce = head.header("content-encoding")?;
    match parse_codings(ce) {
        Ok(c) if c.is_empty() => None,
        Ok(c) => {
            let n = c.len();
            if n > layer_limit {
                tx.push_event(HttpEvent::TooManyEncodingLayers);
            }
            // The outermost `layer_limit` codings are undone.
            Some(Decoder::new(&c[n.saturating_sub(layer_limit.max(1))..]))
        }
        Err(()) => {
            tx.push_event(HttpEvent::AbnormalCeHeader);
            None
        }
    }
}
