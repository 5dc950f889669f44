//! Load and lookup speed of indicator sets at feed scale.
//!
//! `cargo run --release -p watchfloor-indicators --example bench`
//!
//! Builds one indicator file of 100k IP/CIDR, 100k domain, 10k URL and 10k
//! hash/fingerprint indicators, loads it, then times 10M lookups of each
//! kind over 1M pre-generated queries (about half hits, half misses).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use watchfloor_indicators::{load_str, IndicatorSet};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const LOOKUPS: usize = 10_000_000;
const QUERIES: usize = 1 << 20;

fn word(r: &mut Rng, n: usize) -> String {
    (0..n).map(|_| (b'a' + r.below(26) as u8) as char).collect()
}

fn hex(r: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| b"0123456789abcdef"[r.below(16) as usize] as char)
        .collect()
}

const TLDS: [&str; 6] = ["com", "net", "org", "info", "us", "gov"];

fn time<T>(what: &str, queries: &[T], mut f: impl FnMut(&T) -> bool) {
    let t = Instant::now();
    let mut hits = 0usize;
    for i in 0..LOOKUPS {
        if f(&queries[i & (QUERIES - 1)]) {
            hits += 1;
        }
    }
    let ns = t.elapsed().as_nanos() as f64 / LOOKUPS as f64;
    println!(
        "{what:<28} {ns:>7.1} ns/lookup   hits {:>5.1}%",
        100.0 * hits as f64 / LOOKUPS as f64
    );
}

fn main() {
    let mut r = Rng(0x1234_5678_9abc_def1);
    let mut text = String::new();
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    // 100k IP indicators: 80k IPv4 (70% /32, the rest /16../28), 20k IPv6.
    for i in 0..100_000 {
        if i % 5 == 4 {
            let a = (0x2001_0db8u128 << 96) | ((r.next() as u128) << 32) & !((1u128 << 64) - 1);
            let len = if r.below(2) == 0 {
                128
            } else {
                48 + r.below(17) as u32
            };
            let net = if len == 128 {
                a | r.below(1000) as u128
            } else {
                a & (u128::MAX << (128 - len))
            };
            v6.push(net);
            text.push_str(&format!("ip {}/{len} source=feed-a\n", Ipv6Addr::from(net)));
        } else {
            let a = r.next() as u32;
            let len = if r.below(10) < 7 {
                32
            } else {
                16 + r.below(13) as u32
            };
            let net = a & (u32::MAX << (32 - len));
            v4.push(net);
            text.push_str(&format!("ip {}/{len} source=feed-a\n", Ipv4Addr::from(net)));
        }
    }
    // 100k domains: 70% exact, 30% suffix.
    let mut doms = Vec::new();
    for _ in 0..100_000 {
        let n = 5 + r.below(10) as usize;
        let d = format!("{}.{}", word(&mut r, n), TLDS[r.below(6) as usize]);
        if r.below(10) < 7 {
            text.push_str(&format!("domain {d} source=feed-b\n"));
        } else {
            text.push_str(&format!("domain-suffix {d} source=feed-b severity=1\n"));
        }
        doms.push(d);
    }
    let mut urls = Vec::new();
    for _ in 0..10_000 {
        let host = format!("{}.com", word(&mut r, 8));
        let path = format!(
            "/{}/{}.php?id={}",
            word(&mut r, 6),
            word(&mut r, 5),
            r.below(1000)
        );
        text.push_str(&format!("url http://{host}{path} source=feed-c\n"));
        urls.push((host, path));
    }
    let mut hashes = Vec::new();
    for i in 0..10_000 {
        let (k, h) = match i % 4 {
            0 => ("md5", hex(&mut r, 32)),
            1 => ("sha1", hex(&mut r, 40)),
            2 => ("sha256", hex(&mut r, 64)),
            _ => ("ja3", hex(&mut r, 32)),
        };
        text.push_str(&format!("{k} {h} source=feed-d\n"));
        hashes.push(h);
    }
    println!(
        "indicator file: {} lines, {:.1} MiB",
        text.lines().count(),
        text.len() as f64 / 1048576.0
    );

    let t = Instant::now();
    let (set, report) = load_str(&text, "bench.ioc");
    let load = t.elapsed();
    assert!(report.errors.is_empty(), "{:?}", &report.errors[..1]);
    let st = set.stats();
    println!(
        "load + build: {:.0} ms for {} indicators ({} IPv4 + {} IPv6 prefixes, {} names, {} URLs, {} digests)",
        load.as_secs_f64() * 1000.0,
        st.indicators,
        st.ipv4_prefixes,
        st.ipv6_prefixes,
        st.domain_names,
        st.urls,
        st.digests
    );
    println!(
        "memory (approx): matchers {:.1} MiB, indicators {:.1} MiB",
        st.matcher_bytes as f64 / 1048576.0,
        st.indicator_bytes as f64 / 1048576.0
    );
    drop(text);

    // Queries: half drawn from the indicators, half random.
    let ipq: Vec<IpAddr> = (0..QUERIES)
        .map(|i| {
            let hit = i % 2 == 0;
            if i % 5 == 4 {
                let base = if hit {
                    v6[r.below(v6.len() as u64) as usize]
                } else {
                    (0x2001_0db9u128 << 96) | r.next() as u128
                };
                IpAddr::V6(Ipv6Addr::from(base))
            } else {
                let base = if hit {
                    v4[r.below(v4.len() as u64) as usize]
                } else {
                    r.next() as u32
                };
                IpAddr::V4(Ipv4Addr::from(base))
            }
        })
        .collect();
    let v4q: Vec<Ipv4Addr> = (0..QUERIES)
        .map(|_| Ipv4Addr::from(r.next() as u32))
        .collect();
    let domq: Vec<Vec<u8>> = (0..QUERIES)
        .map(|i| {
            let d = if i % 2 == 0 {
                doms[r.below(doms.len() as u64) as usize].clone()
            } else {
                format!("{}.{}", word(&mut r, 9), TLDS[r.below(6) as usize])
            };
            // Realistic names have a few labels in front.
            match r.below(3) {
                0 => d.into_bytes(),
                1 => format!("www.{d}").into_bytes(),
                _ => format!("cdn-{}.static.{d}", r.below(100)).into_bytes(),
            }
        })
        .collect();
    let urlq: Vec<(Vec<u8>, Vec<u8>)> = (0..QUERIES)
        .map(|i| {
            let (h, p) = &urls[r.below(urls.len() as u64) as usize];
            if i % 2 == 0 {
                (h.clone().into_bytes(), p.clone().into_bytes())
            } else {
                (h.clone().into_bytes(), format!("{p}&x=1").into_bytes())
            }
        })
        .collect();
    let hashq: Vec<Vec<u8>> = (0..QUERIES)
        .map(|i| {
            if i % 2 == 0 {
                hashes[r.below(hashes.len() as u64) as usize]
                    .to_uppercase()
                    .into_bytes()
            } else {
                let n = [32, 40, 64][r.below(3) as usize];
                hex(&mut r, n).into_bytes()
            }
        })
        .collect();

    let s: &IndicatorSet = &set;
    let mut r = Rng(99);
    println!("{LOOKUPS} lookups each, over {QUERIES} distinct queries:");
    time("baseline: read domain query", &domq, |q| {
        black_box(q.first().copied().unwrap_or(0) ^ q.last().copied().unwrap_or(0)) == 7
    });
    time("baseline: read hash query", &hashq, |q| {
        black_box(q.first().copied().unwrap_or(0) ^ q.last().copied().unwrap_or(0)) == 7
    });
    time("ip (v4+v6, ~50% hits)", &ipq, |q| {
        !black_box(s.match_ip(*q)).is_empty()
    });
    time("ipv4 (uniform random)", &v4q, |q| {
        !black_box(s.match_ipv4(*q)).is_empty()
    });
    time("domain (1-3 extra labels)", &domq, |q| {
        !black_box(s.match_domain(q)).is_empty()
    });
    let (dom_hit, dom_miss): (Vec<Vec<u8>>, Vec<Vec<u8>>) = domq
        .iter()
        .cloned()
        .partition(|q| !s.match_domain(q).is_empty());
    let cycle =
        |v: Vec<Vec<u8>>| -> Vec<Vec<u8>> { v.iter().cycle().take(QUERIES).cloned().collect() };
    let (dom_hit, dom_miss) = (cycle(dom_hit), cycle(dom_miss));
    time("domain, hits only", &dom_hit, |q| {
        !black_box(s.match_domain(q)).is_empty()
    });
    time("domain, misses only", &dom_miss, |q| {
        !black_box(s.match_domain(q)).is_empty()
    });
    let hot_miss = cycle(dom_miss[..1000].to_vec());
    time("domain, misses, 1k distinct", &hot_miss, |q| {
        !black_box(s.match_domain(q)).is_empty()
    });
    let rand_miss: Vec<Vec<u8>> = (0..QUERIES)
        .map(|_| format!("host{}.{}.example", r.below(1000), word(&mut r, 7)).into_bytes())
        .collect();
    time("domain, unrelated names", &rand_miss, |q| {
        !black_box(s.match_domain(q)).is_empty()
    });
    time("domain + iterate hits", &domq, |q| {
        black_box(s.match_domain(q)).count() > 0
    });
    time("url (host, uri)", &urlq, |q| {
        !black_box(s.match_url(&q.0, &q.1)).is_empty()
    });
    time("file hash (hex)", &hashq, |q| {
        !black_box(s.match_file_hash(q)).is_empty()
    });
    time("ja3 (hex)", &hashq, |q| {
        !black_box(s.match_ja3(q)).is_empty()
    });
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        for l in status.lines().filter(|l| l.starts_with("VmHWM")) {
            println!(
                "process peak RSS (incl. queries and file text): {}",
                l.split_whitespace().nth(1).unwrap_or("?").to_owned() + " kB"
            );
        }
    }
}
