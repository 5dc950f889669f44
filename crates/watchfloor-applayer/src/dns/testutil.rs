//! Hand-built DNS messages for the tests.

/// Wire form of a dotted name, uncompressed; `""` is the root.
pub(crate) fn encode_name(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in name.split('.').filter(|l| !l.is_empty()) {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

pub(crate) fn rr(name: &[u8], t: u16, class: u16, ttl: u32, rdata: &[u8]) -> Vec<u8> {
    let mut out = name.to_vec();
    out.extend_from_slice(&t.to_be_bytes());
    out.extend_from_slice(&class.to_be_bytes());
    out.extend_from_slice(&ttl.to_be_bytes());
    out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    out.extend_from_slice(rdata);
    out
}

#[derive(Clone)]
pub(crate) struct MsgBuilder {
    id: u16,
    flags: u16,
    counts: [u16; 4],
    sections: [Vec<u8>; 4],
}

impl MsgBuilder {
    pub(crate) fn new(id: u16, flags: u16) -> Self {
        MsgBuilder {
            id,
            flags,
            counts: [0; 4],
            sections: Default::default(),
        }
    }

    pub(crate) fn query(id: u16, name: &str, qtype: u16) -> Self {
        Self::new(id, 0x0100).question(name, qtype)
    }

    pub(crate) fn response(id: u16, flags: u16, name: &str, qtype: u16) -> Self {
        Self::new(id, flags).question(name, qtype)
    }

    pub(crate) fn question(mut self, name: &str, qtype: u16) -> Self {
        let s = &mut self.sections[0];
        s.extend(encode_name(name));
        s.extend_from_slice(&qtype.to_be_bytes());
        s.extend_from_slice(&1u16.to_be_bytes());
        self.counts[0] += 1;
        self
    }

    /// A record in section 1 (answer), 2 (authority) or 3 (additional).
    pub(crate) fn record(mut self, sec: usize, name: &str, t: u16, ttl: u32, rdata: &[u8]) -> Self {
        self.sections[sec].extend(rr(&encode_name(name), t, 1, ttl, rdata));
        self.counts[sec] += 1;
        self
    }

    /// Raw bytes appended to a section with its count bumped by `n`.
    pub(crate) fn raw(mut self, sec: usize, n: u16, bytes: &[u8]) -> Self {
        self.sections[sec].extend_from_slice(bytes);
        self.counts[sec] += n;
        self
    }

    pub(crate) fn answer(self, name: &str, t: u16, ttl: u32, rdata: &[u8]) -> Self {
        self.record(1, name, t, ttl, rdata)
    }

    pub(crate) fn answer_a(self, name: &str, a: [u8; 4]) -> Self {
        self.answer(name, 1, 300, &a)
    }

    pub(crate) fn answer_cname(self, name: &str, target: &str) -> Self {
        self.answer(name, 5, 300, &encode_name(target))
    }

    pub(crate) fn authority_ns(self, name: &str, ns: &str) -> Self {
        self.record(2, name, 2, 3600, &encode_name(ns))
    }

    pub(crate) fn additional_a(self, name: &str, a: [u8; 4]) -> Self {
        self.record(3, name, 1, 3600, &a)
    }

    pub(crate) fn counts(mut self, counts: [u16; 4]) -> Self {
        self.counts = counts;
        self
    }

    pub(crate) fn build(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&self.flags.to_be_bytes());
        for c in self.counts {
            out.extend_from_slice(&c.to_be_bytes());
        }
        for s in &self.sections {
            out.extend_from_slice(s);
        }
        out
    }
}

/// TCP framing: each message behind its 2-byte length.
pub(crate) fn tcp_stream(msgs: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in msgs {
        out.extend_from_slice(&(m.len() as u16).to_be_bytes());
        out.extend_from_slice(m);
    }
    out
}
