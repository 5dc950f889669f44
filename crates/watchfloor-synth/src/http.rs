//! HTTP/1.1 conversations over one keep-alive connection: page loads, JSON poll-book sync,
//! voter lookups, downloads, plus the malicious variants (SQL injection, scanner user
//! agents, credential stuffing). Bodies are sometimes chunked and sometimes gzip'd (stored
//! deflate blocks: valid gzip without a compressor).

use crate::rng::Rng;
use crate::tcp::{Dir, Next};
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpKind {
    /// A workstation browsing an external site over plain HTTP.
    Browse,
    /// Windows network connectivity status indicator probe.
    Ncsi,
    /// Large binary download (updates, ballot PDFs).
    Download,
    /// A poll book posting check-ins to the voter-registration app.
    PollbookSync,
    /// Voter lookups against the voter-registration app.
    VrLookup,
    /// The public fetching results from the DMZ site.
    Results,
    Sqli,
    ScannerUa,
    CredStuffing,
}

struct Pending {
    status: u16,
    body: Body,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Body {
    Html,
    Json,
    Binary(usize),
    Text(&'static str),
    Empty,
}

pub struct HttpApp {
    kind: HttpKind,
    host: String,
    left: u32,
    seq: u32,
    pending: Option<Pending>,
    /// Largest body this flow may produce (keeps small targets from one huge flow).
    size_cap: usize,
    scratch: Vec<u8>,
}

const BROWSER_UAS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1",
];

const SQLI_PATHS: &[&str] = &[
    "/results/contest?id=1%27%20OR%20%271%27%3D%271",
    "/results/contest?id=1' OR '1'='1",
    "/search?q=1%20UNION%20SELECT%20username,password%20FROM%20users--",
    "/results/precinct?p=12 UNION SELECT NULL,table_name FROM information_schema.tables--",
    "/results/county?c=3;DROP%20TABLE%20ballots--",
    "/api/results?id=1%20AND%20SLEEP(5)",
];

const SCANNER_PATHS: &[&str] = &[
    "/.env",
    "/.git/config",
    "/phpmyadmin/",
    "/wp-login.php",
    "/admin/",
    "/server-status",
    "/cgi-bin/test.cgi",
    "/backup.zip",
    "/config.php.bak",
];

const SCANNER_UAS: &[&str] = &[
    "sqlmap/1.8.2#stable (https://sqlmap.org)",
    "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000114)",
];

const WORDS: &[&str] = &[
    "election",
    "results",
    "precinct",
    "county",
    "ballot",
    "turnout",
    "contest",
    "official",
    "canvass",
    "registration",
    "polling",
    "place",
    "hours",
    "absentee",
    "provisional",
    "voter",
];

fn put(b: &mut Vec<u8>, args: std::fmt::Arguments) {
    // Writing into a Vec cannot fail.
    let _ = b.write_fmt(args);
}

/// RFC 7231 IMF-fixdate for a Unix time.
pub fn http_date(unix_s: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix_s.div_euclid(86_400);
    let secs = unix_s.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        d,
        MONTHS[(m - 1) as usize],
        y,
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

const fn crc_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static CRC_TABLE: [u32; 256] = crc_table();

pub fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c = CRC_TABLE[((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

/// gzip member holding `data` in stored deflate blocks.
pub fn gzip_stored(data: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&[0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]);
    let mut chunks = data.chunks(65_535).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
    }
    while let Some(c) = chunks.next() {
        out.push(u8::from(chunks.peek().is_none()));
        let len = c.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(c);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
}

impl HttpApp {
    pub fn new(kind: HttpKind, host: String, rng: &mut Rng, size_cap: usize) -> HttpApp {
        let left = match kind {
            HttpKind::Browse => rng.range(1, 4),
            HttpKind::Ncsi => 1,
            HttpKind::Download => 1,
            HttpKind::PollbookSync => rng.range(1, 4),
            HttpKind::VrLookup => rng.range(1, 8),
            HttpKind::Results => rng.range(1, 6),
            HttpKind::Sqli => rng.range(4, 12),
            HttpKind::ScannerUa => rng.range(6, 20),
            HttpKind::CredStuffing => rng.range(20, 40),
        } as u32;
        HttpApp {
            kind,
            host,
            left,
            seq: 0,
            pending: None,
            size_cap: size_cap.max(4096),
            scratch: Vec::new(),
        }
    }

    pub fn next(&mut self, rng: &mut Rng, now_ns: i64, b: &mut Vec<u8>) -> Option<Next> {
        if let Some(p) = self.pending.take() {
            self.response(rng, now_ns, p, b);
            return Some(Next {
                dir: Dir::ToClient,
                gap_ns: rng.log_range(150_000, 40_000_000) as i64,
            });
        }
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        self.seq += 1;
        let gap_ns = if self.seq == 1 {
            0
        } else {
            match self.kind {
                HttpKind::CredStuffing | HttpKind::ScannerUa | HttpKind::Sqli => {
                    rng.range(30_000_000, 400_000_000) as i64
                }
                _ => rng.log_range(20_000_000, 4_000_000_000) as i64,
            }
        };
        self.request(rng, b);
        Some(Next {
            dir: Dir::ToServer,
            gap_ns,
        })
    }

    fn request(&mut self, rng: &mut Rng, b: &mut Vec<u8>) {
        let host = &self.host;
        let ua = *rng.pick(BROWSER_UAS);
        let (status, body) = match self.kind {
            HttpKind::Browse => {
                let path = *rng.pick(&["/", "/index.html", "/news", "/elections/2024", "/faq"]);
                put(b, format_args!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {ua}\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Encoding: gzip, deflate\r\nAccept-Language: en-US,en;q=0.9\r\nConnection: keep-alive\r\n\r\n"));
                (200, Body::Html)
            }
            HttpKind::Ncsi => {
                put(b, format_args!("GET /connecttest.txt HTTP/1.1\r\nConnection: Close\r\nUser-Agent: Microsoft NCSI\r\nHost: {host}\r\n\r\n"));
                (200, Body::Text("Microsoft Connect Test"))
            }
            HttpKind::Download => {
                let n = rng.log_range(20_000, 1_000_000) as usize;
                put(b, format_args!("GET /downloads/pkg-{:08x}.bin HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Microsoft-Delivery-Optimization/10.0\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n", rng.next_u32()));
                (200, Body::Binary(n.min(self.size_cap)))
            }
            HttpKind::PollbookSync => {
                self.scratch.clear();
                let n = rng.range(1, 25);
                put(
                    &mut self.scratch,
                    format_args!(
                        "{{\"device\":\"PB-{:03}\",\"batch\":{},\"checkins\":[",
                        rng.below(1000),
                        self.seq
                    ),
                );
                for i in 0..n {
                    put(&mut self.scratch, format_args!("{}{{\"voter_id\":\"V{:09}\",\"precinct\":{},\"method\":\"{}\",\"ts\":\"2024-11-05T{:02}:{:02}:{:02}Z\"}}", if i > 0 { "," } else { "" }, rng.below(1_000_000_000), rng.range(1, 60), rng.pick(&["in_person", "provisional", "same_day_reg"]), rng.range(6, 20), rng.below(60), rng.below(60)));
                }
                self.scratch.extend_from_slice(b"]}");
                put(b, format_args!("POST /api/pollbook/sync HTTP/1.1\r\nHost: {host}\r\nUser-Agent: PollbookSync/4.2.1 (Linux)\r\nContent-Type: application/json\r\nAuthorization: Bearer {:032x}\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\r\n", rng.next_u64() as u128 * 0x1_0000_0001, self.scratch.len()));
                b.extend_from_slice(&self.scratch);
                (200, Body::Json)
            }
            HttpKind::VrLookup => {
                put(b, format_args!("GET /vr/lookup?last=SMITH{}&dob=19{:02}-{:02}-{:02} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {ua}\r\nAccept: application/json\r\nConnection: keep-alive\r\n\r\n", rng.below(100), rng.range(40, 99), rng.range(1, 12), rng.range(1, 28)));
                (200, Body::Json)
            }
            HttpKind::Results => {
                let path = *rng.pick(&[
                    "/",
                    "/results/summary.json",
                    "/results/contest/1.json",
                    "/results/precincts.json",
                    "/static/app.js",
                    "/static/style.css",
                ]);
                put(b, format_args!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {ua}\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate, br\r\nConnection: keep-alive\r\n\r\n"));
                (
                    200,
                    if path.ends_with(".json") {
                        Body::Json
                    } else {
                        Body::Html
                    },
                )
            }
            HttpKind::Sqli => {
                let path = *rng.pick(SQLI_PATHS);
                put(b, format_args!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {ua}\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n"));
                (*rng.pick(&[400u16, 500, 200, 403]), Body::Html)
            }
            HttpKind::ScannerUa => {
                let path = *rng.pick(SCANNER_PATHS);
                let sua = *rng.pick(SCANNER_UAS);
                put(b, format_args!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {sua}\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n"));
                (404, Body::Html)
            }
            HttpKind::CredStuffing => {
                self.scratch.clear();
                put(
                    &mut self.scratch,
                    format_args!(
                        "username={}{}%40example.com&password={}{}",
                        rng.pick(WORDS),
                        rng.below(10_000),
                        rng.pick(&[
                            "Summer2024!",
                            "password1",
                            "Welcome123",
                            "qwerty!23",
                            "Election2024"
                        ]),
                        rng.below(100)
                    ),
                );
                put(b, format_args!("POST /login HTTP/1.1\r\nHost: {host}\r\nUser-Agent: python-requests/2.31.0\r\nAccept: */*\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\r\n", self.scratch.len()));
                b.extend_from_slice(&self.scratch);
                (401, Body::Json)
            }
        };
        let body = if matches!(self.kind, HttpKind::Browse | HttpKind::Results) && rng.chance(0.05)
        {
            // Cache revalidation answered without a body.
            self.pending = Some(Pending {
                status: 304,
                body: Body::Empty,
            });
            return;
        } else {
            body
        };
        self.pending = Some(Pending { status, body });
    }

    fn fill_body(&mut self, rng: &mut Rng, body: Body, status: u16) -> &'static str {
        let s = &mut self.scratch;
        s.clear();
        match body {
            Body::Html => {
                let target = rng.log_range(400, 30_000).min(self.size_cap as u64) as usize;
                put(s, format_args!("<!DOCTYPE html><html><head><title>{status} County Elections</title></head><body>"));
                while s.len() < target {
                    put(
                        s,
                        format_args!(
                            "<p>{} {} {} {}.</p>\n",
                            rng.pick(WORDS),
                            rng.pick(WORDS),
                            rng.pick(WORDS),
                            rng.below(10_000)
                        ),
                    );
                }
                s.extend_from_slice(b"</body></html>\n");
                "text/html; charset=utf-8"
            }
            Body::Json if status == 401 => {
                s.extend_from_slice(b"{\"error\":\"invalid_credentials\"}");
                "application/json"
            }
            Body::Json => {
                let n = rng.range(1, 40);
                put(
                    s,
                    format_args!(
                        "{{\"status\":\"ok\",\"precincts_reporting\":{},\"items\":[",
                        rng.below(120)
                    ),
                );
                for i in 0..n {
                    put(
                        s,
                        format_args!(
                            "{}{{\"id\":{},\"name\":\"{} {}\",\"votes\":{}}}",
                            if i > 0 { "," } else { "" },
                            i,
                            rng.pick(WORDS),
                            rng.pick(WORDS),
                            rng.below(50_000)
                        ),
                    );
                }
                s.extend_from_slice(b"]}");
                "application/json"
            }
            Body::Binary(n) => {
                rng.extend(s, n);
                "application/octet-stream"
            }
            Body::Text(t) => {
                s.extend_from_slice(t.as_bytes());
                "text/plain"
            }
            Body::Empty => "text/html",
        }
    }

    fn response(&mut self, rng: &mut Rng, now_ns: i64, p: Pending, b: &mut Vec<u8>) {
        let ctype = self.fill_body(rng, p.body, p.status);
        let reason = match p.status {
            200 => "OK",
            304 => "Not Modified",
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            _ => "Internal Server Error",
        };
        let date = http_date(now_ns.div_euclid(1_000_000_000));
        let server = *rng.pick(&[
            "nginx/1.24.0",
            "Apache/2.4.58 (Ubuntu)",
            "Microsoft-IIS/10.0",
        ]);
        put(
            b,
            format_args!(
                "HTTP/1.1 {} {reason}\r\nDate: {date}\r\nServer: {server}\r\n",
                p.status
            ),
        );
        if p.status == 401 {
            b.extend_from_slice(b"WWW-Authenticate: Bearer realm=\"portal\"\r\n");
        }
        if p.body == Body::Empty {
            b.extend_from_slice(b"Connection: keep-alive\r\n\r\n");
            return;
        }
        let textual = !matches!(p.body, Body::Binary(_));
        let gzip = textual && self.scratch.len() > 400 && rng.chance(0.4);
        let chunked = rng.chance(0.15);
        put(
            b,
            format_args!("Content-Type: {ctype}\r\nConnection: keep-alive\r\n"),
        );
        let mut gz = Vec::new();
        let body: &[u8] = if gzip {
            gzip_stored(&self.scratch, &mut gz);
            b.extend_from_slice(b"Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n");
            &gz
        } else {
            &self.scratch
        };
        if chunked {
            b.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
            let mut rest = body;
            while !rest.is_empty() {
                let n = (rng.range(512, 8192) as usize).min(rest.len());
                put(b, format_args!("{n:x}\r\n"));
                b.extend_from_slice(&rest[..n]);
                b.extend_from_slice(b"\r\n");
                rest = &rest[n..];
            }
            b.extend_from_slice(b"0\r\n\r\n");
        } else {
            put(b, format_args!("Content-Length: {}\r\n\r\n", body.len()));
            b.extend_from_slice(body);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_format() {
        assert_eq!(http_date(1_730_786_400), "Tue, 05 Nov 2024 06:00:00 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn crc_and_gzip() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        let mut g = vec![];
        gzip_stored(b"hello", &mut g);
        assert_eq!(&g[..3], &[0x1F, 0x8B, 8]);
        assert_eq!(g.len(), 10 + 5 + 5 + 8);
    }

    #[test]
    fn conversation_alternates() {
        let mut rng = Rng::new(2);
        for kind in [
            HttpKind::Browse,
            HttpKind::PollbookSync,
            HttpKind::CredStuffing,
            HttpKind::Sqli,
        ] {
            let mut app = HttpApp::new(kind, "h.example".into(), &mut rng, 1 << 20);
            let mut expect = Dir::ToServer;
            let mut b = vec![];
            while let Some(n) = app.next(&mut rng, 1_730_786_400_000_000_000, &mut b) {
                assert_eq!(n.dir, expect);
                let text = String::from_utf8_lossy(&b);
                if expect == Dir::ToClient {
                    assert!(text.starts_with("HTTP/1.1 "));
                    if kind == HttpKind::CredStuffing {
                        assert!(text.starts_with("HTTP/1.1 401"));
                    }
                } else if kind == HttpKind::CredStuffing {
                    assert!(text.starts_with("POST /login "));
                }
                expect = expect.flip();
                b.clear();
            }
        }
    }
}
