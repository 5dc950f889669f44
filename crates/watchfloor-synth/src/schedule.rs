//! The time-ordered generator: flows arrive (benign ones at an adaptive rate, attacks as
//! planned), each active flow sits in a priority queue keyed by the time of its next
//! packet, and packets are written strictly in time order.

use crate::apps::App;
use crate::attacks::{self, AttackKind, Planned};
use crate::net::{
    Addrs, FrameBuf, Link, Path, Tags, L4, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP,
};
use crate::office::{self, Host, PortAlloc};
use crate::rng::Rng;
use crate::summary::{AppProto, FlowTruth, Summary};
use crate::tcp::{Dir, Mode, TcpConn, TcpParams};
use crate::tls::CertCache;
use crate::writer::CapWriter;
use crate::{SynthConfig, SynthError, Target};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;

enum Transport {
    Tcp(TcpConn),
    Udp,
    Echo { id: u16 },
}

struct Flow {
    fwd: Path,
    rev: Path,
    sport: u16,
    dport: u16,
    transport: Transport,
    app: App,
    rng: Rng,
    msg: Vec<u8>,
    /// Datagram flows: direction of the message waiting in `msg`.
    pending: Option<Dir>,
    ip_id: [u16; 2],
    truth: FlowTruth,
}

/// How a flow's two ends appear on the wire where the sensor listens.
struct Ends {
    addrs: Addrs,
    client_mac: [u8; 6],
    server_mac: [u8; 6],
    client_ttl: u8,
    server_ttl: u8,
    /// The internal host whose segment decides the VLAN.
    local: Host,
}

struct Spec {
    ends: Ends,
    ip_proto: u8,
    sport: u16,
    dport: u16,
    app: App,
    app_proto: AppProto,
    attack: Option<AttackKind>,
    wan: bool,
    mode: Mode,
    client_windows: bool,
}

fn lan(client: Host, server: Host, v6: bool) -> Ends {
    let same = client.same_segment(&server);
    Ends {
        addrs: if v6 {
            Addrs::V6(client.v6(), server.v6())
        } else {
            Addrs::V4(client.v4(), server.v4())
        },
        client_mac: client.mac(),
        server_mac: if same {
            server.mac()
        } else {
            client.gateway_mac()
        },
        client_ttl: client.ttl(),
        server_ttl: server.ttl() - u8::from(!same),
        local: client,
    }
}

fn remote_ttl(rng: &mut Rng) -> u8 {
    let initial = *rng.pick(&[64u8, 64, 64, 128, 255]);
    initial - rng.range(6, 22) as u8
}

fn outbound(client: Host, name: &str, v6: bool, rng: &mut Rng) -> Ends {
    Ends {
        addrs: if v6 {
            Addrs::V6(client.v6(), office::external_v6(name))
        } else {
            Addrs::V4(client.v4(), office::external_v4(name))
        },
        client_mac: client.mac(),
        server_mac: client.gateway_mac(),
        client_ttl: client.ttl(),
        server_ttl: remote_ttl(rng),
        local: client,
    }
}

fn inbound(server: Host, client_v4: [u8; 4], v6: bool, rng: &mut Rng) -> Ends {
    Ends {
        addrs: if v6 {
            Addrs::V6(office::public_client_v6(rng), server.v6())
        } else {
            Addrs::V4(client_v4, server.v4())
        },
        client_mac: server.gateway_mac(),
        server_mac: server.mac(),
        client_ttl: remote_ttl(rng),
        server_ttl: server.ttl(),
        local: server,
    }
}

fn ephemeral(rng: &mut Rng) -> u16 {
    rng.range(1024, 65_535) as u16
}

pub(crate) struct Generator<'a, W: Write> {
    cfg: &'a SynthConfig,
    rng: Rng,
    out: CapWriter<W>,
    frame: FrameBuf,
    heap: BinaryHeap<Reverse<(i64, u64, u32)>>,
    slab: Vec<Option<Box<Flow>>>,
    free: Vec<u32>,
    pool: Vec<Vec<u8>>,
    ports: PortAlloc,
    certs: CertCache,
    sum: Summary,
    last_ts: i64,
    order: u64,
    plan: Vec<Planned>,
    plan_at: usize,
    next_benign: i64,
    end_ts: i64,
    started: u64,
    done_flows: u64,
    done_bytes: u64,
    size_cap: usize,
}

impl<'a, W: Write> Generator<'a, W> {
    pub fn new(cfg: &'a SynthConfig, out: W) -> Result<Self, SynthError> {
        let mut rng = Rng::new(cfg.seed);
        let start = cfg.start_ns - cfg.start_ns.rem_euclid(1000);
        let plan = if cfg.attacks {
            attacks::plan(
                &cfg.attack_kinds,
                cfg.offices,
                start,
                cfg.duration_ns,
                &mut rng,
            )
        } else {
            Vec::new()
        };
        let size_cap = match cfg.target {
            Target::Bytes(t) => (t / 16).clamp(64 << 10, 64 << 20) as usize,
            Target::Flows(_) => 8 << 20,
        };
        Ok(Generator {
            cfg,
            ports: PortAlloc::new(cfg.offices, &mut rng),
            rng,
            out: CapWriter::new(out, cfg.format, cfg.link.linktype(), cfg.snaplen)?,
            frame: FrameBuf::new(cfg.link),
            heap: BinaryHeap::new(),
            slab: Vec::new(),
            free: Vec::new(),
            pool: Vec::new(),
            certs: CertCache::default(),
            sum: Summary::default(),
            last_ts: start - 1000,
            order: 0,
            plan,
            plan_at: 0,
            next_benign: start,
            end_ts: start + cfg.duration_ns,
            started: 0,
            done_flows: 0,
            done_bytes: 0,
            size_cap,
        })
    }

    pub fn run(mut self) -> Result<Summary, SynthError> {
        loop {
            let flow_ts = self.heap.peek().map(|Reverse((t, _, _))| *t);
            let plan_ts = self.plan.get(self.plan_at).map(|p| p.ts);
            let arrival = plan_ts.map_or(self.next_benign, |p| p.min(self.next_benign));
            let open = arrival < self.end_ts
                && match self.cfg.target {
                    Target::Bytes(t) => self.out.written() < t,
                    Target::Flows(n) => self.started < n,
                };
            if open && flow_ts.is_none_or(|f| arrival <= f) {
                if plan_ts == Some(arrival) {
                    let p = self.plan[self.plan_at];
                    self.plan_at += 1;
                    let mut frng = self.rng.fork();
                    let spec = self.attack(&p, &mut frng);
                    self.open(arrival, spec, frng);
                } else {
                    let mut frng = self.rng.fork();
                    let spec = self.benign(&mut frng);
                    self.open(arrival, spec, frng);
                    self.next_benign = arrival + self.arrival_gap(arrival);
                }
            } else if let Some(Reverse((ts, _, slot))) = self.heap.pop() {
                self.step(ts, slot)?;
            } else {
                break;
            }
        }
        let mut sum = self.sum;
        sum.file_bytes = self.out.finish()?;
        sum.truth.sort_by_key(|t| t.id);
        Ok(sum)
    }

    /// Mean time to the next benign flow, so the byte target lands near the end.
    fn arrival_gap(&mut self, now: i64) -> i64 {
        let duration = self.cfg.duration_ns as f64;
        let mean = match self.cfg.target {
            Target::Flows(n) => duration / n as f64,
            Target::Bytes(t) => {
                // The observed mean flow size, pulled towards the mix's expected size
                // while few flows have finished.
                const PRIOR_BYTES: f64 = 15_000.0;
                const PRIOR_FLOWS: f64 = 50.0;
                let avg = (self.done_bytes as f64 + PRIOR_BYTES * PRIOR_FLOWS)
                    / (self.done_flows as f64 + PRIOR_FLOWS);
                let active = (self.started - self.done_flows) as f64;
                let committed = self.out.written() as f64 + active * avg;
                let remaining = (t as f64 - committed).max(avg);
                let time_left = ((self.end_ts - now) as f64).max(1e6);
                time_left * avg / remaining
            }
        };
        (self.rng.exp(mean) as i64).max(1000)
    }

    /// Strictly increasing microsecond timestamps.
    fn stamp(&mut self, sched: i64) -> i64 {
        let t = (sched - sched.rem_euclid(1000)).max(self.last_ts + 1000);
        self.last_ts = t;
        t
    }

    fn tags(&mut self, local: &Host) -> Tags {
        if self.cfg.link != Link::Ethernet || !self.rng.chance(self.cfg.vlan_ratio) {
            return Tags::None;
        }
        let vid = local.vlan();
        if self.rng.chance(self.cfg.qinq_ratio) {
            Tags::QinQ {
                outer: 1000 + local.office as u16,
                inner: vid,
            }
        } else {
            Tags::Single(vid)
        }
    }

    fn open(&mut self, ts: i64, spec: Spec, mut rng: Rng) {
        let tags = self.tags(&spec.ends.local);
        let fwd = Path {
            addrs: spec.ends.addrs,
            src_mac: spec.ends.client_mac,
            dst_mac: spec.ends.server_mac,
            ttl: spec.ends.client_ttl,
            tags,
            flow_label: rng.next_u32() & 0xF_FFFF,
            outgoing: true,
        };
        let rev = fwd.reverse(spec.ends.server_ttl);
        let v6 = spec.ends.addrs.is_v6();
        let (rtt_ns, ns_per_byte) = if spec.wan {
            (
                rng.log_range(8_000_000, 120_000_000) as i64,
                rng.range(10, 80) as i64,
            )
        } else {
            (rng.range(150_000, 900_000) as i64, 8)
        };
        let transport = match spec.ip_proto {
            PROTO_TCP => Transport::Tcp(TcpConn::new(
                TcpParams {
                    mode: spec.mode,
                    mss: if v6 { 1440 } else { 1460 },
                    timestamps: spec.mode == Mode::Normal && !spec.client_windows,
                    client_wscale: if spec.client_windows { 8 } else { 7 },
                    server_wscale: rng.range(7, 10) as u8,
                    rtt_ns,
                    ns_per_byte,
                    retx_ratio: self.cfg.retransmit_ratio,
                    ooo_ratio: self.cfg.out_of_order_ratio,
                    start_ns: self.cfg.start_ns,
                },
                &mut rng,
            )),
            PROTO_UDP => Transport::Udp,
            _ => Transport::Echo {
                id: rng.next_u32() as u16,
            },
        };
        let (vlan, outer_vlan) = match tags {
            Tags::None => (None, None),
            Tags::Single(v) => (Some(v), None),
            Tags::QinQ { outer, inner } => (Some(inner), Some(outer)),
        };
        let icmp_id = match transport {
            Transport::Echo { id } => id,
            _ => 0,
        };
        let tls13 = matches!(&spec.app, App::Tls(t) if t.is_v13());
        let truth = FlowTruth {
            id: self.started,
            ip_proto: match spec.ip_proto {
                PROTO_ICMP if v6 => PROTO_ICMPV6,
                p => p,
            },
            src: spec.ends.addrs.src(),
            src_port: spec.sport,
            dst: spec.ends.addrs.dst(),
            dst_port: spec.dport,
            icmp_id,
            app: spec.app_proto,
            attack: spec.attack,
            vlan,
            outer_vlan,
            tls13,
            pkts_toserver: 0,
            pkts_toclient: 0,
            bytes_toserver: 0,
            bytes_toclient: 0,
            first_ts_ns: 0,
            last_ts_ns: 0,
            retransmissions: 0,
            out_of_order: 0,
        };
        self.started += 1;
        let mut flow = Box::new(Flow {
            fwd,
            rev,
            sport: spec.sport,
            dport: spec.dport,
            transport,
            app: spec.app,
            ip_id: [rng.next_u32() as u16, rng.next_u32() as u16],
            rng,
            msg: self.pool.pop().unwrap_or_default(),
            pending: None,
            truth,
        });
        if !matches!(flow.transport, Transport::Tcp(_)) {
            let f = &mut *flow;
            f.msg.clear();
            match f.app.next(&mut f.rng, ts, &mut self.certs, &mut f.msg) {
                Some(n) => f.pending = Some(n.dir),
                None => {
                    self.finish(flow);
                    return;
                }
            }
        }
        let slot = match self.free.pop() {
            Some(s) => {
                self.slab[s as usize] = Some(flow);
                s
            }
            None => {
                self.slab.push(Some(flow));
                (self.slab.len() - 1) as u32
            }
        };
        self.order += 1;
        self.heap.push(Reverse((ts, self.order, slot)));
    }

    fn finish(&mut self, mut flow: Box<Flow>) {
        if let Transport::Tcp(c) = &flow.transport {
            flow.truth.retransmissions = c.retransmissions;
            flow.truth.out_of_order = c.out_of_order;
        }
        let t = &flow.truth;
        self.done_flows += 1;
        self.done_bytes +=
            t.bytes_toserver + t.bytes_toclient + 16 * (t.pkts_toserver + t.pkts_toclient);
        if t.pkts_toserver + t.pkts_toclient > 0 {
            self.sum.add_flow(t, self.cfg.ground_truth);
        }
        let mut msg = std::mem::take(&mut flow.msg);
        // Keep pooled buffers modest; a rare multi-megabyte message is not kept around.
        if msg.capacity() <= 1 << 20 && self.pool.len() < 256 {
            msg.clear();
            self.pool.push(msg);
        }
    }

    fn step(&mut self, sched: i64, slot: u32) -> Result<(), SynthError> {
        let Some(mut flow) = self.slab.get_mut(slot as usize).and_then(Option::take) else {
            return Ok(());
        };
        let ts = self.stamp(sched);
        let f = &mut *flow;
        let next = match &mut f.transport {
            Transport::Tcp(conn) => {
                let seg = conn.step(ts, &mut f.rng);
                let (path, sport, dport) = match seg.dir {
                    Dir::ToServer => (&f.fwd, f.sport, f.dport),
                    Dir::ToClient => (&f.rev, f.dport, f.sport),
                };
                let l4 = L4::Tcp {
                    sport,
                    dport,
                    seq: seg.seq,
                    ack: seg.ack,
                    flags: seg.flags,
                    win: seg.win,
                    opts: seg.opts(),
                };
                let payload = f.msg.get(seg.payload.clone()).unwrap_or(&[]);
                let id = &mut f.ip_id[seg.dir.idx()];
                *id = id.wrapping_add(1);
                let frame = self.frame.build(path, *id, &l4, payload);
                self.out.packet(ts, frame)?;
                let len = frame.len() as u64;
                account(&mut f.truth, &mut self.sum, seg.dir, len, ts);
                if seg.last {
                    None
                } else {
                    let mut n = ts + seg.next_in_ns.max(1000);
                    if conn.wants_message() {
                        f.msg.clear();
                        let nx = f.app.next(&mut f.rng, n, &mut self.certs, &mut f.msg);
                        n += conn.set_message(nx, f.msg.len(), &mut f.rng);
                    }
                    Some(n)
                }
            }
            Transport::Udp | Transport::Echo { .. } => {
                let dir = f.pending.take().unwrap_or(Dir::ToServer);
                let (path, sport, dport) = match dir {
                    Dir::ToServer => (&f.fwd, f.sport, f.dport),
                    Dir::ToClient => (&f.rev, f.dport, f.sport),
                };
                let v6 = path.addrs.is_v6();
                let l4 = match f.transport {
                    Transport::Echo { id } => {
                        let seq = if let App::Echo(e) = &f.app {
                            e.seq()
                        } else {
                            0
                        };
                        let typ = match (dir, v6) {
                            (Dir::ToServer, false) => 8,
                            (Dir::ToClient, false) => 0,
                            (Dir::ToServer, true) => 128,
                            (Dir::ToClient, true) => 129,
                        };
                        L4::Echo { typ, id, seq }
                    }
                    _ => L4::Udp { sport, dport },
                };
                let id = &mut f.ip_id[dir.idx()];
                *id = id.wrapping_add(1);
                let frame = self.frame.build(path, *id, &l4, &f.msg);
                self.out.packet(ts, frame)?;
                let len = frame.len() as u64;
                account(&mut f.truth, &mut self.sum, dir, len, ts);
                f.msg.clear();
                f.app
                    .next(&mut f.rng, ts, &mut self.certs, &mut f.msg)
                    .map(|n| {
                        f.pending = Some(n.dir);
                        ts + n.gap_ns.max(1000)
                    })
            }
        };
        match next {
            Some(n) => {
                if let Some(s) = self.slab.get_mut(slot as usize) {
                    *s = Some(flow);
                }
                self.order += 1;
                self.heap.push(Reverse((n, self.order, slot)));
            }
            None => {
                self.finish(flow);
                self.free.push(slot);
            }
        }
        Ok(())
    }
}

fn account(t: &mut FlowTruth, sum: &mut Summary, dir: Dir, len: u64, ts: i64) {
    if t.pkts_toserver + t.pkts_toclient == 0 {
        t.first_ts_ns = ts;
        if sum.packets == 0 {
            sum.first_ts_ns = ts;
        }
    }
    t.last_ts_ns = ts;
    sum.last_ts_ns = ts;
    match dir {
        Dir::ToServer => {
            t.pkts_toserver += 1;
            t.bytes_toserver += len;
        }
        Dir::ToClient => {
            t.pkts_toclient += 1;
            t.bytes_toclient += len;
        }
    }
    sum.packets += 1;
    sum.bytes += len;
    let p = &mut sum.by_proto[t.app as usize];
    p.packets += 1;
    p.bytes += len;
}

/// Ordinary, benign traffic.
mod benign;
/// Flows for the planned attacks.
mod malicious;

impl<W: Write> Generator<'_, W> {
    fn benign(&mut self, rng: &mut Rng) -> Spec {
        let office = rng.below(self.cfg.offices as u64) as u8;
        let v6 = rng.chance(self.cfg.ipv6_ratio);
        benign::spec(office, v6, rng, &mut self.ports, self.size_cap)
    }
}
