//! Driver tests: keyword semantics from Suricata's documentation, run
//! through [`Program`], plus Suricata's backtracking behaviour.

use super::*;
use watchfloor_rules::{
    Base64Decode, ByteExtract, ByteJump, ByteMath, ByteOp, ByteTest, Content, Endian, FastPattern,
    IsDataAt, MathOp, NumFormat, Pcre, Transform,
};

// ---- builders -------------------------------------------------------------

fn c(p: &str) -> Content {
    Content {
        pattern: p.as_bytes().to_vec(),
        negated: false,
        nocase: false,
        offset: None,
        depth: None,
        distance: None,
        within: None,
        startswith: false,
        endswith: false,
        fast_pattern: FastPattern::default(),
        rawbytes: false,
    }
}

trait ContentExt {
    fn offset(self, v: i64) -> Self;
    fn depth(self, v: i64) -> Self;
    fn distance(self, v: i64) -> Self;
    fn within(self, v: i64) -> Self;
    fn neg(self) -> Self;
    fn nocase(self) -> Self;
    fn item(self) -> Item;
}

impl ContentExt for Content {
    fn offset(mut self, v: i64) -> Self {
        self.offset = Some(Val::Lit(v));
        self
    }
    fn depth(mut self, v: i64) -> Self {
        self.depth = Some(Val::Lit(v));
        self
    }
    fn distance(mut self, v: i64) -> Self {
        self.distance = Some(Val::Lit(v));
        self
    }
    fn within(mut self, v: i64) -> Self {
        self.within = Some(Val::Lit(v));
        self
    }
    fn neg(mut self) -> Self {
        self.negated = true;
        self
    }
    fn nocase(mut self) -> Self {
        self.nocase = true;
        self
    }
    fn item(self) -> Item {
        Item::Content(Box::new(self))
    }
}

fn pcre(p: &str) -> Pcre {
    Pcre {
        pattern: p.to_string(),
        negated: false,
        caseless: false,
        multiline: false,
        dotall: false,
        extended: false,
        anchored: false,
        dollar_endonly: false,
        ungreedy: false,
        relative: false,
        no_limits: false,
        captures: vec![],
    }
}

fn pcre_r(p: &str) -> Item {
    let mut x = pcre(p);
    x.relative = true;
    Item::Pcre(Box::new(x))
}

fn prog(items: Vec<Item>) -> Program {
    prog_t(vec![], items)
}

fn prog_t(transforms: Vec<Transform>, items: Vec<Item>) -> Program {
    Program::compile(&Inspection {
        buffer: Buffer::Payload,
        transforms,
        items,
    })
    .expect("compiles")
}

fn run(items: Vec<Item>, buf: &[u8]) -> bool {
    prog(items).run(buf, &mut Env::new(4))
}

fn bt(nbytes: u8, op: ByteOp, value: i64, offset: i64, relative: bool, format: NumFormat) -> Item {
    Item::ByteTest(ByteTest {
        nbytes,
        op,
        negated: false,
        value: Val::Lit(value),
        offset: Val::Lit(offset),
        relative,
        format,
        bitmask: None,
    })
}

fn isdataat(offset: i64, relative: bool, negated: bool) -> Item {
    Item::IsDataAt(IsDataAt {
        negated,
        offset: Val::Lit(offset),
        relative,
        rawbytes: false,
    })
}

const BIG: NumFormat = NumFormat::Binary(Endian::Big);
const DEC: NumFormat = NumFormat::String(10);

// ---- content --------------------------------------------------------------

#[test]
fn content_basic_and_nocase() {
    assert!(run(vec![c("Mozilla").item()], b"User-Agent: Mozilla/5.0"));
    assert!(!run(vec![c("mozilla").item()], b"User-Agent: Mozilla/5.0"));
    assert!(run(
        vec![c("mozilla").nocase().item()],
        b"User-Agent: MOZILLA/5.0"
    ));
    assert!(run(vec![c("a|00|b").item()], b"xa|00|b"));
    let mut hex = c("");
    hex.pattern = vec![0x61, 0x00, 0x62];
    assert!(run(vec![hex.item()], b"xa\x00b"));
    assert!(!run(vec![c("abc").item()], b""));
    assert!(Program::compile(&Inspection {
        buffer: Buffer::Payload,
        transforms: vec![],
        items: vec![c("").item()]
    })
    .is_err());
}

#[test]
fn content_offset_depth() {
    // docs: depth:3 on "abcdef" — "def" is not in the first 3 bytes
    assert!(run(vec![c("abc").depth(3).item()], b"abcdef"));
    assert!(!run(vec![c("def").depth(3).item()], b"abcdef"));
    // offset:3 — starts looking at byte 3
    assert!(run(vec![c("def").offset(3).item()], b"abcdef"));
    assert!(!run(vec![c("abc").offset(3).item()], b"abcdef"));
    // offset and depth combined: bytes 3..6 ("def")
    assert!(run(vec![c("def").offset(3).depth(3).item()], b"abcdefghi"));
    assert!(!run(vec![c("efg").offset(3).depth(3).item()], b"abcdefghi"));
    // depth larger than the buffer is clamped
    assert!(run(vec![c("ghi").depth(100).item()], b"abcdefghi"));
    // offset beyond the buffer
    assert!(!run(vec![c("a").offset(100).item()], b"abc"));
}

#[test]
fn content_distance_within() {
    // docs example: content:"abc"; content:"def"; distance:0; — "def" after "abc"
    assert!(run(
        vec![c("abc").item(), c("def").distance(0).item()],
        b"abcdef"
    ));
    assert!(!run(
        vec![c("abc").item(), c("def").distance(0).item()],
        b"defabc"
    ));
    // distance:1 needs one byte between
    assert!(!run(
        vec![c("abc").item(), c("def").distance(1).item()],
        b"abcdef"
    ));
    assert!(run(
        vec![c("abc").item(), c("def").distance(1).item()],
        b"abcxdef"
    ));
    // within:3 — "def" must end within 3 bytes after "abc"
    assert!(run(
        vec![c("abc").item(), c("def").within(3).item()],
        b"abcdef"
    ));
    assert!(!run(
        vec![c("abc").item(), c("def").within(3).item()],
        b"abcxdef"
    ));
    // distance + within: window starts 1 after, is 4 long
    // (within counts from where distance puts the window start)
    assert!(run(
        vec![c("abc").item(), c("def").distance(1).within(4).item()],
        b"abcxdef"
    ));
    assert!(run(
        vec![c("abc").item(), c("def").distance(1).within(4).item()],
        b"abcxxdef"
    ));
    assert!(!run(
        vec![c("abc").item(), c("def").distance(1).within(4).item()],
        b"abcxxxdef"
    ));
    // negative distance: look back
    assert!(run(
        vec![c("def").item(), c("bc").distance(-5).within(3).item()],
        b"abcdef"
    ));
    assert!(run(
        vec![c("def").item(), c("abc").distance(-100).item()],
        b"abcdef"
    ));
}

#[test]
fn content_backtracking() {
    // content:"a"; content:"b"; distance:0; within:1; on "a a ab"
    assert!(run(
        vec![c("a").item(), c("b").distance(0).within(1).item()],
        b"a a ab"
    ));
    assert!(!run(
        vec![c("a").item(), c("b").distance(0).within(1).item()],
        b"a a a b"
    ));
    // three levels
    let items = vec![
        c("a").item(),
        c("b").distance(0).within(1).item(),
        c("c").distance(0).within(1).item(),
    ];
    assert!(run(items.clone(), b"ab ab abx abc"));
    assert!(!run(items, b"ab ab abx ab c"));
    // retry on later relative pcre / byte_test / isdataat failure
    assert!(run(vec![c("id=").item(), pcre_r("^\\d+")], b"id=x id=7"));
    assert!(run(
        vec![c("n=").item(), bt(1, ByteOp::Eq, b'9' as i64, 0, true, BIG)],
        b"n=1 n=9"
    ));
    // a failing relative isdataat is final (Suricata: no_match_discontinue)
    assert!(!run(
        vec![c("ab").item(), isdataat(4, true, false)],
        b"ab ab"
    ));
    assert!(run(
        vec![c("ab").item(), isdataat(3, true, false)],
        b"ab ab"
    ));
    assert!(run(
        vec![c("ab").item(), isdataat(2, true, false)],
        b"abxab"
    ));
}

#[test]
fn content_distance_only_next_does_not_retry() {
    // Suricata only retries a content when the next one uses `within`:
    // with distance alone a later occurrence cannot help.
    assert!(run(vec![c("a").item(), c("b").distance(0).item()], b"a b"));
    assert!(!run(vec![c("b").item(), c("a").distance(0).item()], b"b"));
}

#[test]
fn content_negated() {
    // docs: content:!"Mozilla" — matches if absent
    assert!(run(vec![c("Mozilla").neg().item()], b"User-Agent: curl"));
    assert!(!run(
        vec![c("Mozilla").neg().item()],
        b"User-Agent: Mozilla"
    ));
    // negated with depth: only the window counts
    assert!(run(vec![c("abc").neg().depth(3).item()], b"xxxabc"));
    assert!(!run(vec![c("abc").neg().depth(4).item()], b"xabcxx"));
    // relative negation: "b" not right after "a"
    let items = vec![c("a").item(), c("b").neg().distance(0).within(1).item()];
    assert!(run(items.clone(), b"ac"));
    assert!(!run(items.clone(), b"ab"));
    // ... backtracks to another "a"
    assert!(run(items, b"ab ac"));
    // negated content on an empty buffer
    assert!(run(vec![c("x").neg().item()], b""));
}

#[test]
fn content_startswith_endswith() {
    let mut s = c("GET");
    s.startswith = true;
    assert!(run(vec![s.clone().item()], b"GET /"));
    assert!(!run(vec![s.item()], b" GET /"));
    let mut e = c(".exe");
    e.endswith = true;
    assert!(run(vec![e.clone().item()], b"/a.exe"));
    assert!(!run(vec![e.clone().item()], b"/a.exe?x"));
    // endswith looks for a later occurrence
    assert!(run(vec![e.clone().item()], b"/a.exe/b.exe"));
    // startswith + endswith: the whole buffer
    let mut both = c("abc");
    both.startswith = true;
    both.endswith = true;
    assert!(run(vec![both.clone().item()], b"abc"));
    assert!(!run(vec![both.item()], b"abcabc"));
    // negated endswith
    let mut ne = c(".exe");
    ne.endswith = true;
    ne.negated = true;
    assert!(run(vec![ne.clone().item()], b"/a.exe?x"));
    assert!(!run(vec![ne.item()], b"/a.exe"));
}

#[test]
fn content_vars() {
    // byte_extract:1,0,len; content:"x"; distance:0; within:len  (within from a variable)
    let be = Item::ByteExtract(ByteExtract {
        nbytes: 1,
        offset: 0,
        relative: false,
        format: DEC,
        multiplier: 1,
        align: 0,
        bitmask: None,
        var: 0,
    });
    let mut x = c("x");
    x.distance = Some(Val::Lit(0));
    x.within = Some(Val::Var(0));
    assert!(run(vec![be.clone(), x.clone().item()], b"3abx"));
    assert!(!run(vec![be.clone(), x.item()], b"2abx"));
    // offset from a variable (absolute content), depth relative to it
    let mut y = c("y");
    y.offset = Some(Val::Var(0));
    y.depth = Some(Val::Lit(1));
    assert!(run(vec![be.clone(), y.clone().item()], b"4abcy"));
    assert!(!run(vec![be, y.item()], b"3abcy"));
}

// ---- isdataat -------------------------------------------------------------

#[test]
fn isdataat_cases() {
    // docs: isdataat:512 — at least 513 bytes
    assert!(run(vec![isdataat(512, false, false)], &[0u8; 513]));
    assert!(!run(vec![isdataat(512, false, false)], &[0u8; 512]));
    assert!(run(vec![isdataat(512, false, true)], &[0u8; 512]));
    // docs: content:"HTTP"; isdataat:!1,relative — nothing after HTTP
    let items = vec![c("HTTP").item(), isdataat(1, true, true)];
    assert!(run(items.clone(), b"GET / HTTP"));
    assert!(!run(items.clone(), b"GET / HTTP/1.1"));
    // backtracks to a later "HTTP" at the end
    assert!(run(items, b"HTTP x HTTP"));
    // relative: data at offset relative to the match end
    assert!(run(vec![c("ab").item(), isdataat(2, true, false)], b"abcd"));
    assert!(!run(
        vec![c("ab").item(), isdataat(3, true, false)],
        b"abcd"
    ));
}

// ---- pcre -----------------------------------------------------------------

#[test]
fn pcre_cases() {
    assert!(run(
        vec![Item::Pcre(Box::new(pcre("^GET /\\w+\\.php")))],
        b"GET /index.php"
    ));
    assert!(!run(vec![Item::Pcre(Box::new(pcre("^GET")))], b" GET"));
    let mut n = pcre("evil");
    n.negated = true;
    assert!(run(vec![Item::Pcre(Box::new(n.clone()))], b"good"));
    assert!(!run(vec![Item::Pcre(Box::new(n))], b"so evil"));
    // R: relative to the previous match end; ^ anchors there
    assert!(run(vec![c("id=").item(), pcre_r("^\\d+")], b"id=42"));
    assert!(!run(vec![c("id=").item(), pcre_r("^\\d+")], b"id= 42"));
    // content relative to the pcre match end
    assert!(run(
        vec![
            Item::Pcre(Box::new(pcre("a+"))),
            c("b").distance(0).within(1).item()
        ],
        b"aab"
    ));
    // pcre retried at its next match when the relative content fails
    assert!(run(
        vec![
            Item::Pcre(Box::new(pcre("k\\d"))),
            c("!").distance(0).within(1).item()
        ],
        b"k1 k2!"
    ));
    // caseless via i
    let mut i = pcre("mozilla");
    i.caseless = true;
    assert!(run(vec![Item::Pcre(Box::new(i))], b"MOZILLA"));
}

#[test]
fn pcre_captures_into_env() {
    let mut p = pcre("user=(?P<flow_user>\\w+)");
    p.captures = vec![(VarScope::Flow, "user".into())];
    let prog = prog(vec![c("login").item(), Item::Pcre(Box::new(p))]);
    let mut env = Env::new(0);
    assert!(prog.run(b"login user=alice", &mut env));
    assert_eq!(env.captures().len(), 1);
    assert_eq!(&*env.captures()[0].name, "user");
    assert_eq!(env.captures()[0].value, b"alice");
    env.reset();
    assert!(env.captures().is_empty());
}

#[test]
fn pcre_bad_pattern_is_compile_error() {
    let e = Program::compile(&Inspection {
        buffer: Buffer::Payload,
        transforms: vec![],
        items: vec![Item::Pcre(Box::new(pcre("(unclosed")))],
    })
    .unwrap_err();
    assert!(matches!(e, CompileError::Pcre { .. }));
}

// ---- byte_* ---------------------------------------------------------------

#[test]
fn byte_test_in_lists() {
    // docs: byte_test:2,=,0x01,0; etc.
    assert!(run(vec![bt(2, ByteOp::Eq, 1, 0, false, BIG)], b"\x00\x01"));
    assert!(!run(vec![bt(2, ByteOp::Eq, 1, 0, false, BIG)], b"\x01\x00"));
    assert!(run(
        vec![bt(
            2,
            ByteOp::Eq,
            1,
            0,
            false,
            NumFormat::Binary(Endian::Little)
        )],
        b"\x01\x00"
    ));
    // content:"|00 04 93 F3|"; byte_test:4,>,1000,20,relative;
    let mut p = b"\x00\x04\x93\xf3".to_vec();
    p.extend_from_slice(&[0u8; 20]);
    p.extend_from_slice(&2000u32.to_be_bytes());
    let mut head = c("");
    head.pattern = b"\x00\x04\x93\xf3".to_vec();
    assert!(run(
        vec![head.clone().item(), bt(4, ByteOp::Gt, 1000, 20, true, BIG)],
        &p
    ));
    assert!(!run(
        vec![head.item(), bt(4, ByteOp::Gt, 3000, 20, true, BIG)],
        &p
    ));
    // string,dec
    assert!(run(
        vec![c("len=").item(), bt(3, ByteOp::Gt, 99, 0, true, DEC)],
        b"len=123"
    ));
}

#[test]
fn byte_jump_moves_position() {
    // content:"|00|"; byte_jump:1,0,relative; content:"X"; within:1 — X right after the skipped field
    let bj = Item::ByteJump(ByteJump {
        nbytes: 1,
        offset: Val::Lit(0),
        relative: true,
        format: BIG,
        multiplier: 1,
        align: false,
        from_beginning: false,
        from_end: false,
        post_offset: 0,
        bitmask: None,
    });
    let mut zero = c("");
    zero.pattern = vec![0];
    let items = vec![zero.item(), bj, c("X").within(1).item()];
    assert!(run(items.clone(), b"\x00\x03abcX"));
    assert!(!run(items.clone(), b"\x00\x02abcX"));
    // jump then isdataat:!1,relative — jumped exactly to the last byte
    let bj_end = Item::ByteJump(ByteJump {
        nbytes: 1,
        offset: Val::Lit(0),
        relative: false,
        format: BIG,
        multiplier: 1,
        align: false,
        from_beginning: true,
        from_end: false,
        post_offset: 0,
        bitmask: None,
    });
    // relative isdataat:N holds while position + N <= length
    assert!(run(
        vec![bj_end.clone(), isdataat(2, true, false)],
        b"\x02abc"
    ));
    assert!(!run(
        vec![bj_end.clone(), isdataat(3, true, false)],
        b"\x02abc"
    ));
    assert!(run(vec![bj_end, isdataat(3, true, true)], b"\x02abc"));
}

#[test]
fn byte_extract_and_math_vars_across_lists() {
    // byte_extract:1,0,n,string,dec; byte_math:bytes 1,offset 1,oper +,rvalue n,result m
    let be = Item::ByteExtract(ByteExtract {
        nbytes: 1,
        offset: 0,
        relative: false,
        format: DEC,
        multiplier: 1,
        align: 0,
        bitmask: None,
        var: 0,
    });
    let bm = Item::ByteMath(ByteMath {
        nbytes: 1,
        offset: 0,
        relative: true,
        format: DEC,
        op: MathOp::Add,
        rvalue: Val::Var(0),
        bitmask: None,
        result: 1,
    });
    let p1 = prog(vec![be, bm]);
    let mut env = Env::new(2);
    assert!(p1.run(b"34", &mut env));
    assert_eq!(env.vars, vec![3, 7]);
    // A second list of the same rule uses the variable: byte_test ... = m
    let test = Item::ByteTest(ByteTest {
        nbytes: 1,
        op: ByteOp::Eq,
        negated: false,
        value: Val::Var(1),
        offset: Val::Lit(0),
        relative: false,
        format: BIG,
        bitmask: None,
    });
    let p2 = prog(vec![test]);
    assert!(p2.run(&[7], &mut env));
    assert!(!p2.run(&[8], &mut env));
}

// ---- bsize, urilen ---------------------------------------------------------

#[test]
fn bsize_urilen() {
    assert!(run(vec![Item::Bsize(NumCmp::Eq(3))], b"abc"));
    assert!(!run(vec![Item::Bsize(NumCmp::Eq(3))], b"abcd"));
    assert!(run(vec![Item::Bsize(NumCmp::Range(1, 5))], b"abcd"));
    assert!(run(vec![Item::Bsize(NumCmp::Eq(0))], b""));
    assert!(run(
        vec![c("ab").item(), Item::Bsize(NumCmp::Lt(10))],
        b"ab"
    ));
    assert!(run(vec![Item::Urilen(NumCmp::Gt(2))], b"/abc"));
    assert!(!run(vec![Item::Urilen(NumCmp::Gt(10))], b"/abc"));
    // bsize applies after transforms
    let p = prog_t(
        vec![Transform::StripWhitespace],
        vec![Item::Bsize(NumCmp::Eq(3))],
    );
    assert!(p.run(b"a b c", &mut Env::new(0)));
}

// ---- transforms -------------------------------------------------------------

#[test]
fn transforms_before_items() {
    // docs: dns.query; dotprefix; content:".microsoft.com"; endswith;
    let mut e = c(".microsoft.com");
    e.endswith = true;
    let p = prog_t(vec![Transform::Dotprefix], vec![e.item()]);
    let mut env = Env::new(0);
    assert!(p.run(b"windows.update.microsoft.com", &mut env));
    assert!(p.run(b"microsoft.com", &mut env));
    assert!(!p.run(b"evilmicrosoft.com", &mut env));
    // strip_whitespace; content:"javascript"
    let p = prog_t(
        vec![Transform::StripWhitespace],
        vec![c("javascript").item()],
    );
    assert!(p.run(b"java script", &mut env));
    // to_sha256 then content of the digest
    let mut d = c("");
    d.pattern = vec![0xba, 0x78, 0x16, 0xbf];
    d.startswith = true;
    let p = prog_t(vec![Transform::ToSha256], vec![d.item()]);
    assert!(p.run(b"abc", &mut env));
    // from_base64 then content
    let p = prog_t(
        vec![Transform::FromBase64 {
            offset: 0,
            bytes: None,
            mode: watchfloor_rules::Base64Mode::Rfc4648,
        }],
        vec![c("foobar").item()],
    );
    assert!(p.run(b"Zm9vYmFy", &mut env));
}

// ---- base64_decode / base64_data -------------------------------------------

#[test]
fn base64_decode_and_data() {
    // content:"Authorization: Basic "; base64_decode:relative; base64_data; content:"admin"
    let dec = Item::Base64Decode(Base64Decode {
        bytes: None,
        offset: 0,
        relative: true,
    });
    let p = prog(vec![c("Basic ").item(), dec.clone()]);
    let data = Program::compile(&Inspection {
        buffer: Buffer::Base64Data,
        transforms: vec![],
        items: vec![c("admin").item()],
    })
    .unwrap();
    let buf = b"Authorization: Basic YWRtaW46c2VjcmV0";
    let mut env = Env::new(0);
    assert!(p.run(buf, &mut env));
    assert_eq!(env.base64_data(), Some(&b"admin:secret"[..]));
    assert!(data.run_base64_data(&mut env));
    // inline, Suricata style
    env.reset();
    assert!(p.run_with(buf, &mut env, Some(&data)));
    env.reset();
    assert!(!p.run_with(b"Basic Z3Vlc3Q6eA==", &mut env, Some(&data)));
    // inline base64_data failure retries the earlier content
    env.reset();
    assert!(p.run_with(b"Basic Z3Vlc3Q6eA== Basic YWRtaW4=", &mut env, Some(&data)));
    // bytes / offset
    let d2 = Item::Base64Decode(Base64Decode {
        bytes: Some(4),
        offset: 2,
        relative: false,
    });
    let mut env = Env::new(0);
    assert!(prog(vec![d2]).run(b"xxYWRtaW4=", &mut env));
    assert_eq!(env.base64_data(), Some(&b"adm"[..]));
    // nothing decodable
    let d3 = Item::Base64Decode(Base64Decode::default());
    let mut env = Env::new(0);
    assert!(!prog(vec![d3]).run(b"$$$$", &mut env));
    assert_eq!(env.base64_data(), None);
}

// ---- asn1 -----------------------------------------------------------------

#[test]
fn asn1_item() {
    let mut hdr = c("");
    hdr.pattern = vec![0x03];
    let items2 = vec![
        hdr.item(),
        Item::Asn1("bitstring_overflow, relative_offset -1".into()),
    ];
    assert!(run(items2.clone(), &[0xff, 0x03, 0x01, 0x08]));
    assert!(!run(items2, &[0xff, 0x03, 0x02, 0x07, 0x80]));
    assert!(Program::compile(&Inspection {
        buffer: Buffer::Payload,
        transforms: vec![],
        items: vec![Item::Asn1("nonsense".into())]
    })
    .is_err());
}

// ---- limits / robustness ----------------------------------------------------

#[test]
fn recursion_limit_bounds_work() {
    // a^N with a chain that never completes: retries are bounded
    let items = vec![
        c("a").item(),
        c("a").distance(0).within(1).item(),
        c("a").distance(0).within(1).item(),
        c("b").distance(0).within(1).item(),
    ];
    let p = prog(items);
    let buf = vec![b'a'; 100_000];
    let mut env = Env::new(0);
    assert!(!p.run(&buf, &mut env));
    assert!(env.last_recursion <= RECURSION_LIMIT);
    // but a match within the limit is found
    let mut buf2 = vec![b'a'; 500];
    buf2.push(b'b');
    assert!(p.run(&buf2, &mut env));
}

#[test]
fn hostile_values_do_not_panic() {
    let buf = b"abcdef";
    for v in [i64::MIN, -1_000_000, -7, -1, 0, 1, 6, 7, 1 << 31, i64::MAX] {
        let mut x = c("c");
        x.offset = Some(Val::Lit(v));
        x.depth = Some(Val::Lit(v));
        let _ = run(vec![x.item()], buf);
        let _ = run(
            vec![c("b").item(), c("c").distance(v).within(v).item()],
            buf,
        );
        let _ = run(vec![c("b").item(), c("c").distance(v).item()], buf);
        let _ = run(vec![isdataat(v, true, false)], buf);
        let _ = run(vec![bt(4, ByteOp::Eq, v, v, true, BIG)], buf);
        let mut y = c("c");
        y.within = Some(Val::Var(0));
        y.distance = Some(Val::Var(1));
        let p = prog(vec![c("a").item(), y.item()]);
        let mut env = Env::new(2);
        env.vars = vec![v, v.wrapping_neg()];
        let _ = p.run(buf, &mut env);
        // out-of-range variable indices read as 0
        let mut z = c("c");
        z.offset = Some(Val::Var(200));
        let _ = prog(vec![z.item()]).run(buf, &mut Env::new(0));
    }
}
