//! Content inspection: one compiled inspection list ([`Program`]) run over
//! one buffer, with Suricata's semantics (`DetectEngineContentInspection`).
//!
//! Items run in rule order. Each keeps a "current position" (Suricata's
//! `buffer_offset`): the end of the last content/pcre match, or where
//! `byte_jump`/`byte_extract`/`byte_math` left it. Relative items work from
//! it. When a later item fails and depends on an earlier content or pcre, the
//! earlier one is retried at its next occurrence (from one byte after its
//! last match start), as Suricata does, bounded by a recursion limit (3000, Suricata's
//! `detect.inspection-recursion-limit` default). The result is exactly
//! Suricata's, including its quirks (e.g. a failing absolute content or
//! relative `isdataat` stops the whole list).
//!
//! Nothing here allocates per run in the common path: searchers are
//! precompiled, pcre uses the crate's cached match data, and transforms
//! write into scratch vectors kept in [`Env`].

mod asn1;
mod base64;
mod bytes;
mod content;
#[doc(hidden)]
pub mod fuzzgen;
mod pcre;
mod transform;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use watchfloor_rules::{Buffer, Inspection, Item, NumCmp, Val, VarScope};

pub use self::asn1::Asn1Op;
pub use self::base64::decode as base64_decode;
pub use self::bytes::{read_binary, read_string};
pub use self::content::Searcher;
pub use self::transform::{apply_transforms, transform_standalone, Scratch, Transforms, Xform};

/// Suricata's default `detect.inspection-recursion-limit`.
pub const RECURSION_LIMIT: u32 = 3000;

#[derive(thiserror::Error, Debug)]
pub enum CompileError {
    #[error("bad pcre {pattern:?}: {message}")]
    Pcre { pattern: String, message: String },
    #[error("content: empty pattern")]
    EmptyContent,
    #[error("{keyword}: cannot read {nbytes} bytes{how}")]
    Nbytes {
        keyword: &'static str,
        nbytes: u8,
        how: &'static str,
    },
    #[error("asn1: {0}")]
    Asn1(String),
    #[error("transform: {0}")]
    Transform(String),
}

/// One pcre capture stored by a match: `pkt`/`flow`/`tx` variable name and
/// the captured bytes (at most 64 KiB).
#[derive(Debug, Clone)]
pub struct Capture {
    pub scope: VarScope,
    pub name: Arc<str>,
    pub value: Vec<u8>,
}

/// Per-evaluation state shared by the lists of one rule: `byte_extract` /
/// `byte_math` variables, the last `base64_decode` output, pcre captures,
/// and scratch space. Reuse one `Env` per thread: [`Env::reset`] keeps the
/// allocations.
#[derive(Debug)]
pub struct Env {
    /// Variable values by index ([`Val::Var`]), as Suricata's
    /// `byte_values[]` (u64 stored bit for bit).
    pub vars: Vec<i64>,
    b64: Vec<u8>,
    b64_set: bool,
    scratch: Scratch,
    /// Compiled `pcrexform` regexes for [`apply_transforms`].
    pcrexform: Vec<(String, Option<pcre2::bytes::Regex>)>,
    captures: Vec<Capture>,
    ncaptures: usize,
    /// Inspection recursion limit (each item evaluation counts one).
    pub recursion_limit: u32,
    /// Item evaluations done by the last [`Program::run`].
    pub last_recursion: u32,
}

impl Env {
    pub fn new(nvars: usize) -> Env {
        Env {
            vars: vec![0; nvars],
            b64: Vec::new(),
            b64_set: false,
            scratch: Scratch::default(),
            pcrexform: Vec::new(),
            captures: Vec::new(),
            ncaptures: 0,
            recursion_limit: RECURSION_LIMIT,
            last_recursion: 0,
        }
    }

    /// Forget the previous evaluation (keeps allocations).
    pub fn reset(&mut self) {
        self.vars.iter_mut().for_each(|v| *v = 0);
        self.b64.clear();
        self.b64_set = false;
        self.ncaptures = 0;
        self.last_recursion = 0;
    }

    /// The output of the last successful `base64_decode`, if any.
    pub fn base64_data(&self) -> Option<&[u8]> {
        self.b64_set.then_some(self.b64.as_slice())
    }

    /// Captures stored by matching pcre items of this evaluation.
    pub fn captures(&self) -> &[Capture] {
        &self.captures[..self.ncaptures]
    }

    fn push_capture(&mut self, scope: VarScope, name: &Arc<str>, bytes: &[u8]) {
        if self.ncaptures == self.captures.len() {
            self.captures.push(Capture {
                scope,
                name: name.clone(),
                value: Vec::new(),
            });
        }
        let c = &mut self.captures[self.ncaptures];
        c.scope = scope;
        if !Arc::ptr_eq(&c.name, name) {
            c.name = name.clone();
        }
        c.value.clear();
        c.value.extend_from_slice(bytes);
        self.ncaptures += 1;
    }
}

/// A compiled `content`.
#[derive(Debug)]
struct ContentOp {
    len: u32,
    searcher: content::Searcher,
    negated: bool,
    /// distance or within given (Suricata: relative content).
    relative: bool,
    distance: Option<Val>,
    within: Option<Val>,
    /// Absolute offset (literal) or a variable.
    offset: Option<Val>,
    /// Literal depth made absolute (offset + depth), or a variable (then
    /// relative to the offset, as Suricata).
    depth: Option<Val>,
    endswith: bool,
    /// A later item relates to this match with `within` (or is a relative
    /// non-content item): retry at the next occurrence on failure.
    within_next: bool,
    /// Any later relative item anchors here.
    relative_next: bool,
}

#[derive(Debug, Clone, Copy)]
struct IsDataAtOp {
    negated: bool,
    offset: Val,
    relative: bool,
}

#[derive(Debug, Clone, Copy)]
struct Base64Op {
    bytes: u32,
    offset: u32,
    relative: bool,
}

#[derive(Debug)]
enum Op {
    Content(Box<ContentOp>),
    Pcre(Box<pcre::PcreOp>),
    ByteTest(watchfloor_rules::ByteTest),
    ByteJump(watchfloor_rules::ByteJump),
    ByteExtract(watchfloor_rules::ByteExtract),
    ByteMath(watchfloor_rules::ByteMath),
    IsDataAt(IsDataAtOp),
    Bsize(NumCmp),
    Urilen(NumCmp),
    Base64Decode(Base64Op),
    Asn1(Asn1Op),
}

/// One compiled inspection list.
#[derive(Debug)]
pub struct Program {
    buffer: Buffer,
    transforms: Transforms,
    ops: Vec<Op>,
}

/// Suricata's tri-state: 1 match, 0 no match, -1 no match and stop.
type R = i8;
const MATCH: R = 1;
const NO_MATCH: R = 0;
const DISCONTINUE: R = -1;

struct State {
    /// Suricata's `det_ctx->buffer_offset`.
    off: u32,
    /// Suricata's `det_ctx->pcre_match_start_offset`.
    pcre_start: u32,
    count: u32,
    limit: u32,
}

fn check_nbytes(
    keyword: &'static str,
    nbytes: u8,
    format: watchfloor_rules::NumFormat,
) -> Result<(), CompileError> {
    use watchfloor_rules::NumFormat;
    // 0 is accepted as Suricata does (ET rules use it): see `extract`.
    let ok = match format {
        NumFormat::String(_) => (0..=bytes::MAX_STRING_BYTES as u8).contains(&nbytes),
        NumFormat::Binary(_) | NumFormat::Dce => (0..=8).contains(&nbytes),
    };
    if ok {
        Ok(())
    } else {
        Err(CompileError::Nbytes {
            keyword,
            nbytes,
            how: match format {
                NumFormat::String(_) => " as a string (0..=23)",
                _ => " (0..=8)",
            },
        })
    }
}

fn is_relative(it: &Item) -> bool {
    match it {
        Item::Content(c) => c.is_relative(),
        Item::Pcre(p) => p.relative,
        Item::ByteTest(b) => b.relative,
        Item::ByteJump(b) => b.relative,
        Item::ByteExtract(b) => b.relative,
        Item::ByteMath(b) => b.relative,
        Item::IsDataAt(i) => i.relative,
        Item::Base64Decode(b) => b.relative,
        _ => false,
    }
}

impl Program {
    pub fn compile(insp: &Inspection) -> Result<Program, CompileError> {
        let transforms = Transforms::compile(&insp.transforms)?;
        let mut ops = Vec::with_capacity(insp.items.len());
        for it in &insp.items {
            ops.push(match it {
                Item::Content(c) => {
                    if c.pattern.is_empty() {
                        return Err(CompileError::EmptyContent);
                    }
                    let len = u32::try_from(c.pattern.len()).unwrap_or(u32::MAX);
                    let (mut distance, mut within, mut offset, mut depth) =
                        (c.distance, c.within, c.offset, c.depth);
                    if c.startswith {
                        if c.is_relative() {
                            distance.get_or_insert(Val::Lit(0));
                            within.get_or_insert(Val::Lit(i64::from(len)));
                        } else {
                            offset.get_or_insert(Val::Lit(0));
                            depth = Some(Val::Lit(i64::from(len)));
                        }
                    }
                    // Literal depth counts from the offset: store it absolute.
                    if let Some(Val::Lit(d)) = depth {
                        let base = match offset {
                            Some(Val::Lit(o)) => o.max(0),
                            _ => 0,
                        };
                        depth = Some(Val::Lit(d.max(0).saturating_add(base)));
                    }
                    Op::Content(Box::new(ContentOp {
                        len,
                        searcher: content::Searcher::new(&c.pattern, c.nocase),
                        negated: c.negated,
                        relative: distance.is_some() || within.is_some(),
                        distance,
                        within,
                        offset,
                        depth,
                        endswith: c.endswith,
                        within_next: false,
                        relative_next: false,
                    }))
                }
                Item::Pcre(p) => Op::Pcre(Box::new(pcre::PcreOp::compile(p)?)),
                Item::ByteTest(b) => {
                    check_nbytes("byte_test", b.nbytes, b.format)?;
                    Op::ByteTest(*b)
                }
                Item::ByteJump(b) => {
                    check_nbytes("byte_jump", b.nbytes, b.format)?;
                    Op::ByteJump(*b)
                }
                Item::ByteExtract(b) => {
                    check_nbytes("byte_extract", b.nbytes, b.format)?;
                    Op::ByteExtract(*b)
                }
                Item::ByteMath(b) => {
                    check_nbytes("byte_math", b.nbytes, b.format)?;
                    Op::ByteMath(*b)
                }
                Item::IsDataAt(i) => Op::IsDataAt(IsDataAtOp {
                    negated: i.negated,
                    offset: i.offset,
                    relative: i.relative,
                }),
                Item::Bsize(n) => Op::Bsize(*n),
                Item::Urilen(n) => Op::Urilen(*n),
                Item::Base64Decode(b) => Op::Base64Decode(Base64Op {
                    bytes: b.bytes.unwrap_or(0),
                    offset: b.offset,
                    relative: b.relative,
                }),
                Item::Asn1(s) => Op::Asn1(Asn1Op::parse(s)?),
            });
        }
        // Which earlier match does each relative item depend on? (Suricata
        // sets *_NEXT flags on it at rule load.)
        for j in 0..insp.items.len() {
            let it = &insp.items[j];
            let startswith_rel = matches!(it, Item::Content(c) if c.startswith && c.is_relative());
            if !is_relative(it) {
                continue;
            }
            let anchor = if let Item::Content(_) = it {
                (0..j)
                    .rev()
                    .find(|&k| matches!(insp.items[k], Item::Content(_) | Item::Pcre(_)))
            } else {
                (0..j).rev().find(|&k| {
                    matches!(
                        insp.items[k],
                        Item::Content(_)
                            | Item::Pcre(_)
                            | Item::ByteTest(_)
                            | Item::ByteJump(_)
                            | Item::ByteExtract(_)
                            | Item::ByteMath(_)
                            | Item::IsDataAt(_)
                    )
                })
            };
            let Some(k) = anchor else { continue };
            let within = match it {
                Item::Content(c) => c.within.is_some() || startswith_rel,
                _ => true,
            };
            match &mut ops[k] {
                Op::Content(c) => {
                    c.relative_next = true;
                    c.within_next |= within;
                }
                Op::Pcre(p) => p.relative_next = true,
                _ => {}
            }
        }
        Ok(Program {
            buffer: insp.buffer,
            transforms,
            ops,
        })
    }

    pub fn buffer(&self) -> Buffer {
        self.buffer
    }

    /// Whether this list transforms its buffer first.
    pub fn has_transforms(&self) -> bool {
        !self.transforms.is_empty()
    }

    /// Apply this list's transforms (if any) to `buf`, then run the items.
    /// True when the whole list matches. `env` carries byte_extract /
    /// byte_math variables across lists of the same rule evaluation, and
    /// base64_decode output (for a later `Buffer::Base64Data` list).
    pub fn run(&self, buf: &[u8], env: &mut Env) -> bool {
        self.run_with(buf, env, None)
    }

    /// Like [`run`](Self::run), with the rule's `base64_data` list: as in
    /// Suricata, a successful `base64_decode` then inspects the decoded
    /// bytes with `base64_data` inline (retrying earlier matches if it
    /// fails), and the base64_data list's match ends the evaluation with a
    /// match. Without it (`run`), `base64_decode` matches when it decoded
    /// something and the next items continue.
    pub fn run_with(&self, buf: &[u8], env: &mut Env, base64_data: Option<&Program>) -> bool {
        let mut scratch = std::mem::take(&mut env.scratch);
        let data = if self.transforms.is_empty() {
            buf
        } else {
            self.transforms.apply(buf, &mut scratch)
        };
        let mut st = State {
            off: 0,
            pcre_start: 0,
            count: 0,
            limit: env.recursion_limit,
        };
        let r = if self.ops.is_empty() {
            // An empty list: only its buffer existing is asked for.
            MATCH
        } else {
            self.inspect(0, data, &mut st, env, base64_data)
        };
        env.last_recursion = st.count;
        env.scratch = scratch;
        r == MATCH
    }

    /// Run this list (normally a `Buffer::Base64Data` one) over the output of
    /// the last `base64_decode` kept in `env`. False when nothing was decoded.
    pub fn run_base64_data(&self, env: &mut Env) -> bool {
        if !env.b64_set {
            return false;
        }
        let data = std::mem::take(&mut env.b64);
        let r = self.run(&data, env);
        env.b64 = data;
        env.b64_set = true;
        r
    }

    /// `goto match`: continue with the next item, or report the final match.
    #[inline]
    fn next(
        &self,
        i: usize,
        buf: &[u8],
        st: &mut State,
        env: &mut Env,
        b64: Option<&Program>,
    ) -> R {
        if i + 1 < self.ops.len() {
            self.inspect(i + 1, buf, st, env, b64)
        } else {
            MATCH
        }
    }

    fn inspect(
        &self,
        i: usize,
        buf: &[u8],
        st: &mut State,
        env: &mut Env,
        b64: Option<&Program>,
    ) -> R {
        st.count += 1;
        if st.count >= st.limit {
            return DISCONTINUE;
        }
        // Buffers longer than 4 GiB are inspected in their first 4 GiB.
        let buf = &buf[..buf.len().min(u32::MAX as usize)];
        let len = buf.len() as u32;
        match &self.ops[i] {
            Op::Content(c) => self.content(i, c, buf, st, env, b64),
            Op::Pcre(p) => self.pcre(i, p, buf, st, env, b64),
            Op::ByteTest(t) => {
                if bytes::byte_test(t, buf, st.off, &env.vars) {
                    self.next(i, buf, st, env, b64)
                } else {
                    NO_MATCH
                }
            }
            Op::ByteJump(j) => match bytes::byte_jump(j, buf, st.off, &env.vars) {
                Some(p) => {
                    st.off = p;
                    self.next(i, buf, st, env, b64)
                }
                None => NO_MATCH,
            },
            Op::ByteExtract(e) => match bytes::byte_extract(e, buf, st.off) {
                Some((v, p)) => {
                    if let Some(slot) = env.vars.get_mut(usize::from(e.var)) {
                        *slot = v as i64;
                    }
                    st.off = p;
                    self.next(i, buf, st, env, b64)
                }
                None => NO_MATCH,
            },
            Op::ByteMath(m) => match bytes::byte_math(m, buf, st.off, &env.vars) {
                Some((v, p)) => {
                    if let Some(slot) = env.vars.get_mut(usize::from(m.result)) {
                        *slot = v as i64;
                    }
                    st.off = p;
                    self.next(i, buf, st, env, b64)
                }
                None => NO_MATCH,
            },
            Op::IsDataAt(d) => {
                let is_var = matches!(d.offset, Val::Var(_));
                let dataat: u64 = match d.offset {
                    Val::Lit(x) => x.clamp(0, i64::from(u32::MAX)) as u64,
                    Val::Var(v) => {
                        let x = env.vars.get(usize::from(v)).copied().unwrap_or(0) as u64;
                        if x >= 100_000_000 {
                            return if d.negated {
                                self.next(i, buf, st, env, b64)
                            } else {
                                NO_MATCH
                            };
                        }
                        x
                    }
                };
                let fail = if is_var { NO_MATCH } else { DISCONTINUE };
                if d.relative {
                    if u64::from(st.off) + dataat > u64::from(len) {
                        if d.negated {
                            self.next(i, buf, st, env, b64)
                        } else {
                            fail
                        }
                    } else if d.negated {
                        NO_MATCH
                    } else {
                        self.next(i, buf, st, env, b64)
                    }
                } else if dataat < u64::from(len) {
                    if d.negated {
                        fail
                    } else {
                        self.next(i, buf, st, env, b64)
                    }
                } else if d.negated {
                    self.next(i, buf, st, env, b64)
                } else {
                    fail
                }
            }
            Op::Bsize(n) => {
                if n.matches(u64::from(len)) {
                    self.next(i, buf, st, env, b64)
                } else {
                    DISCONTINUE
                }
            }
            Op::Urilen(n) => {
                if n.matches(u64::from(len.min(u32::from(u16::MAX)))) {
                    self.next(i, buf, st, env, b64)
                } else {
                    DISCONTINUE
                }
            }
            Op::Base64Decode(b) => self.base64_decode(i, b, buf, st, env, b64),
            Op::Asn1(a) => {
                if a.matches(buf, st.off) {
                    self.next(i, buf, st, env, b64)
                } else {
                    NO_MATCH
                }
            }
        }
    }

    fn base64_decode(
        &self,
        i: usize,
        b: &Base64Op,
        buf: &[u8],
        st: &mut State,
        env: &mut Env,
        b64: Option<&Program>,
    ) -> R {
        let mut data = buf;
        if b.relative {
            data = data.get(st.off as usize..).unwrap_or(&[]);
        }
        if b.offset > 0 {
            if b.offset as usize >= data.len() {
                return NO_MATCH;
            }
            data = &data[b.offset as usize..];
        }
        if b.bytes > 0 {
            data = &data[..data.len().min(b.bytes as usize)];
        }
        let n = base64::decode(data, watchfloor_rules::Base64Mode::Rfc4648, &mut env.b64);
        env.b64_set = n > 0;
        if n == 0 {
            return NO_MATCH;
        }
        match b64 {
            None => self.next(i, buf, st, env, b64),
            Some(list) => {
                // Inspect the decoded data as a new buffer, inline.
                let decoded = std::mem::take(&mut env.b64);
                let mut sub = State {
                    off: 0,
                    pcre_start: 0,
                    count: st.count,
                    limit: st.limit,
                };
                let r = if list.ops.is_empty() {
                    MATCH
                } else if list.transforms.is_empty() {
                    list.inspect(0, &decoded, &mut sub, env, None)
                } else {
                    let mut s = Scratch::default();
                    let d = list.transforms.apply(&decoded, &mut s);
                    list.inspect(0, d, &mut sub, env, None)
                };
                st.count = sub.count;
                env.b64 = decoded;
                env.b64_set = true;
                if r == MATCH {
                    MATCH
                } else {
                    NO_MATCH
                }
            }
        }
    }

    fn content(
        &self,
        i: usize,
        c: &ContentOp,
        buf: &[u8],
        st: &mut State,
        env: &mut Env,
        b64: Option<&Program>,
    ) -> R {
        let len = buf.len() as u32;
        let var_u32 =
            |v: u8, env: &Env| env.vars.get(usize::from(v)).copied().unwrap_or(0) as u64 as u32;
        let lit_u32 = |x: i64| x.clamp(0, i64::from(u32::MAX)) as u32;
        let prev_buffer_offset = st.off;
        let mut prev_offset: u32 = 0;
        let is_var = matches!(c.offset, Some(Val::Var(_))) || matches!(c.depth, Some(Val::Var(_)));
        loop {
            let mut depth = len;
            let mut offset: u32;
            if c.relative {
                offset = prev_buffer_offset;
                let mut distance: i32 = 0;
                if let Some(d) = c.distance {
                    distance = bytes::val_i32(d, &env.vars);
                    if distance < 0 && distance.unsigned_abs() > offset {
                        offset = 0;
                    } else {
                        offset = offset.wrapping_add(distance as u32);
                    }
                }
                if let Some(w) = c.within {
                    let w = match w {
                        Val::Lit(x) => lit_u32(x),
                        Val::Var(v) => var_u32(v, env),
                    };
                    let lim = prev_buffer_offset
                        .wrapping_add(w)
                        .wrapping_add(distance as u32);
                    if (depth as i32) > (lim as i32) {
                        depth = lim;
                    }
                }
                match c.depth {
                    Some(Val::Var(v)) => {
                        let dv = env.vars.get(usize::from(v)).copied().unwrap_or(0) as u64;
                        if dv.wrapping_add(u64::from(prev_buffer_offset)) < u64::from(depth) {
                            depth = prev_buffer_offset.wrapping_add(dv as u32);
                        }
                    }
                    Some(Val::Lit(d)) => {
                        let d = lit_u32(d);
                        if d != 0 && u64::from(d) + u64::from(prev_buffer_offset) < u64::from(depth)
                        {
                            depth = prev_buffer_offset + d;
                        }
                    }
                    None => {}
                }
                match c.offset {
                    Some(Val::Var(v)) => {
                        let ov = env.vars.get(usize::from(v)).copied().unwrap_or(0) as u64;
                        if ov > u64::from(offset) {
                            offset = ov as u32;
                        }
                    }
                    Some(Val::Lit(o)) => {
                        let o = lit_u32(o);
                        if o > offset {
                            offset = o;
                        }
                    }
                    None => {}
                }
            } else {
                match c.depth {
                    Some(Val::Var(v)) => depth = var_u32(v, env),
                    Some(Val::Lit(d)) => {
                        let d = lit_u32(d);
                        if d != 0 {
                            depth = d;
                        }
                    }
                    None => {}
                }
                offset = match c.offset {
                    Some(Val::Var(v)) => var_u32(v, env),
                    Some(Val::Lit(o)) => lit_u32(o),
                    None => 0,
                };
            }
            if is_var {
                depth = depth.wrapping_add(offset);
            }
            if prev_offset != 0 {
                offset = prev_offset;
            }
            if depth > len {
                depth = len;
            }
            if offset > depth || depth == 0 {
                return if c.negated {
                    self.next(i, buf, st, env, b64)
                } else {
                    NO_MATCH
                };
            }
            let window = &buf[offset as usize..depth as usize];
            let found = if (c.endswith && depth < len) || c.len > depth - offset {
                None
            } else {
                c.searcher.find(window)
            };
            let Some(pos) = found else {
                if !c.negated {
                    return if c.relative { NO_MATCH } else { DISCONTINUE };
                }
                return self.next(i, buf, st, env, b64);
            };
            let match_offset = offset + pos as u32 + c.len;
            if c.negated {
                // Suricata compares the window length with the absolute end.
                if c.endswith && depth - offset != match_offset {
                    return self.next(i, buf, st, env, b64);
                }
                let single =
                    !(c.relative || c.relative_next || c.depth.is_some() || c.offset.is_some());
                return if single { DISCONTINUE } else { NO_MATCH };
            }
            st.off = match_offset;
            if !c.endswith || match_offset == len {
                if i + 1 == self.ops.len() {
                    return MATCH;
                }
                let r = self.inspect(i + 1, buf, st, env, b64);
                if r != NO_MATCH {
                    return r;
                }
                if !c.within_next {
                    return DISCONTINUE;
                }
            }
            // Look for the next occurrence, from this match's start + 1.
            prev_offset = match_offset - (c.len - 1);
        }
    }

    fn pcre(
        &self,
        i: usize,
        p: &pcre::PcreOp,
        buf: &[u8],
        st: &mut State,
        env: &mut Env,
        b64: Option<&Program>,
    ) -> R {
        let prev_buffer_offset = st.off;
        let cap_base = env.ncaptures;
        st.pcre_start = 0;
        loop {
            env.ncaptures = cap_base;
            if !self.pcre_match(p, buf, st, env) {
                return NO_MATCH;
            }
            if !p.relative_next {
                return self.next(i, buf, st, env, b64);
            }
            let prev_offset = st.pcre_start;
            let r = self.next(i, buf, st, env, b64);
            if r != NO_MATCH {
                return r;
            }
            if prev_offset == 0 {
                // negated pcre: nothing to retry
                return NO_MATCH;
            }
            st.off = prev_buffer_offset;
            st.pcre_start = prev_offset;
        }
    }

    /// Suricata's `DetectPcrePayloadMatch`.
    fn pcre_match(&self, p: &pcre::PcreOp, buf: &[u8], st: &mut State, env: &mut Env) -> bool {
        let base = if p.relative {
            (st.off as usize).min(buf.len())
        } else {
            0
        };
        let subject = &buf[base..];
        let start = if st.pcre_start != 0 {
            match (st.pcre_start as usize).checked_sub(base) {
                Some(s) => s,
                None => return false,
            }
        } else {
            0
        };
        let m = if p.negated || p.captures.is_empty() {
            p.find_at(subject, start)
        } else {
            p.captures_at(subject, start, |scope, name, bytes| {
                env.push_capture(scope, name, bytes)
            })
        };
        match m {
            None => p.negated,
            Some(_) if p.negated => false,
            Some((s, e)) => {
                st.off = (base + e) as u32;
                st.pcre_start = (base + s + 1) as u32;
                true
            }
        }
    }
}
