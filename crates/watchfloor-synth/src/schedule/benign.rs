//! The benign mix. By flows about 45 % DNS, 36 % TLS, 10 % HTTP and a few % NTP and ICMP;
//! by bytes mostly TLS, then SMB/backup bulk and HTTP.

use super::{ephemeral, inbound, lan, outbound, Spec};
use crate::apps::{App, BulkApp, DnsApp, EchoApp, NtpApp, SmbApp};
use crate::dns;
use crate::http::{HttpApp, HttpKind};
use crate::net::{PROTO_ICMP, PROTO_TCP, PROTO_UDP};
use crate::office::{self, Host, PortAlloc, Role};
use crate::rng::Rng;
use crate::summary::AppProto;
use crate::tcp::Mode;
use crate::tls::{Profile, TlsApp};

const RESOLVERS: &[&str] = &["dns.quad9.net", "one.one.one.one", "dns.google"];

fn tcp(
    ends: super::Ends,
    sport: u16,
    dport: u16,
    app: App,
    app_proto: AppProto,
    wan: bool,
    client_windows: bool,
) -> Spec {
    Spec {
        ends,
        ip_proto: PROTO_TCP,
        sport,
        dport,
        app,
        app_proto,
        attack: None,
        wan,
        mode: Mode::Normal,
        client_windows,
    }
}

fn dns_question(office: u8, rng: &mut Rng) -> (String, u16, u8) {
    if rng.chance(0.04) {
        // Typical NXDOMAINs: WPAD probes, stale internal names, typos.
        let name = match rng.below(3) {
            0 => format!("wpad.county{}.local", office + 1),
            1 => format!("printer-{:02x}.county{}.local", rng.below(256), office + 1),
            _ => rng
                .pick(&[
                    "outlok.office365.com",
                    "gogle.com",
                    "electons.state.example.gov",
                ])
                .to_string(),
        };
        return (name, dns::A, dns::NXDOMAIN);
    }
    let qtype = [dns::A, dns::AAAA, dns::PTR, dns::MX, dns::TXT][rng.weighted(&[60, 25, 6, 3, 4])];
    let name = match qtype {
        dns::PTR => dns::reverse_name([
            10,
            office,
            *rng.pick(&[10u8, 20, 30]),
            rng.range(10, 60) as u8,
        ]),
        dns::MX | dns::TXT => {
            let n = office::pick_web_name(rng);
            n.split_once('.').map_or(n, |(_, rest)| rest).to_string()
        }
        _ => office::pick_web_name(rng).to_string(),
    };
    (name, qtype, dns::NOERROR)
}

pub(super) fn spec(office: u8, v6: bool, rng: &mut Rng, ports: &mut PortAlloc, cap: usize) -> Spec {
    let kind = rng.weighted(&[870, 20, 720, 200, 60, 60, 10, 2]);
    match kind {
        // DNS over UDP: clients to the office resolver, the resolver to the Internet.
        0 | 1 => {
            let over_tcp = kind == 1;
            let (name, qtype, rcode) = dns_question(office, rng);
            let app = App::Dns(DnsApp::new(name, qtype, rcode, over_tcp, rng));
            let (ends, sport, windows, wan) = if !over_tcp && rng.chance(0.15) {
                let server = Host::new(office, Role::DnsServer);
                let resolver = *rng.pick(RESOLVERS);
                (
                    outbound(server, resolver, v6, rng),
                    ports.take(&server),
                    true,
                    true,
                )
            } else {
                let client = Host::random_client(office, rng);
                (
                    lan(client, Host::new(office, Role::DnsServer), v6),
                    ports.take(&client),
                    client.windows(),
                    false,
                )
            };
            if over_tcp {
                tcp(ends, sport, 53, app, AppProto::Dns, wan, windows)
            } else {
                Spec {
                    ends,
                    ip_proto: PROTO_UDP,
                    sport,
                    dport: 53,
                    app,
                    app_proto: AppProto::Dns,
                    attack: None,
                    wan,
                    mode: Mode::Normal,
                    client_windows: windows,
                }
            }
        }
        2 => {
            let r = rng.below(100);
            if r < 70 {
                let client = Host::random_client(office, rng);
                let sni = if matches!(client.role, Role::PollBook(_)) && rng.chance(0.6) {
                    "api.pollbook-vendor.example.com"
                } else {
                    office::pick_web_name(rng)
                };
                let profile = if client.windows() {
                    Profile::pick(rng)
                } else {
                    Profile::OpenSsl
                };
                let app = App::Tls(TlsApp::new(profile, sni.to_string(), rng, cap));
                let sport = ports.take(&client);
                tcp(
                    outbound(client, sni, v6, rng),
                    sport,
                    443,
                    app,
                    AppProto::Tls,
                    true,
                    client.windows(),
                )
            } else if r < 90 {
                let server = Host::new(
                    office,
                    if rng.chance(0.6) {
                        Role::ResultsSite
                    } else {
                        Role::Portal
                    },
                );
                let sni = office::dmz_name(&server);
                let profile = *rng.pick(&[
                    Profile::Chrome,
                    Profile::Chrome,
                    Profile::Firefox,
                    Profile::Schannel,
                ]);
                let app = App::Tls(TlsApp::new(profile, sni, rng, cap));
                let client_v4 = office::public_client_v4(rng);
                let windows = rng.chance(0.5);
                tcp(
                    inbound(server, client_v4, v6, rng),
                    ephemeral(rng),
                    443,
                    app,
                    AppProto::Tls,
                    true,
                    windows,
                )
            } else {
                let client = Host::random_workstation(office, rng);
                let sni = format!("vrapp.county{}.example.gov", office + 1);
                let app = App::Tls(TlsApp::new(Profile::pick(rng), sni, rng, cap));
                let sport = ports.take(&client);
                tcp(
                    lan(client, Host::new(office, Role::VrApp), v6),
                    sport,
                    443,
                    app,
                    AppProto::Tls,
                    false,
                    true,
                )
            }
        }
        3 => {
            let k = rng.weighted(&[25, 10, 2, 25, 15, 20]);
            match k {
                0..=2 => {
                    let client = Host::random_workstation(office, rng);
                    let (kind, host) = match k {
                        0 => (HttpKind::Browse, office::pick_web_name(rng)),
                        1 => (HttpKind::Ncsi, "www.msftconnecttest.com"),
                        _ => (HttpKind::Download, "download.windowsupdate.com"),
                    };
                    let app = App::Http(HttpApp::new(kind, host.to_string(), rng, cap));
                    let sport = ports.take(&client);
                    tcp(
                        outbound(client, host, v6, rng),
                        sport,
                        80,
                        app,
                        AppProto::Http,
                        true,
                        true,
                    )
                }
                3 | 4 => {
                    let (client, kind, port) = if k == 3 {
                        (
                            Host::new(
                                office,
                                Role::PollBook(rng.below(office::POLLBOOKS as u64) as u8),
                            ),
                            HttpKind::PollbookSync,
                            8080,
                        )
                    } else {
                        (
                            Host::random_workstation(office, rng),
                            HttpKind::VrLookup,
                            80,
                        )
                    };
                    let host = format!("vrapp.county{}.local", office + 1);
                    let app = App::Http(HttpApp::new(kind, host, rng, cap));
                    let sport = ports.take(&client);
                    tcp(
                        lan(client, Host::new(office, Role::VrApp), v6),
                        sport,
                        port,
                        app,
                        AppProto::Http,
                        false,
                        client.windows(),
                    )
                }
                _ => {
                    let server = Host::new(office, Role::ResultsSite);
                    let app = App::Http(HttpApp::new(
                        HttpKind::Results,
                        office::dmz_name(&server),
                        rng,
                        cap,
                    ));
                    let client_v4 = office::public_client_v4(rng);
                    tcp(
                        inbound(server, client_v4, v6, rng),
                        ephemeral(rng),
                        80,
                        app,
                        AppProto::Http,
                        true,
                        rng.chance(0.5),
                    )
                }
            }
        }
        4 => {
            let (ends, sport, wan) = if rng.chance(0.2) {
                let server = Host::new(office, Role::NtpServer);
                (outbound(server, "0.pool.ntp.org", v6, rng), 123, true)
            } else {
                let client = Host::random_client(office, rng);
                let sport = if client.windows() {
                    123
                } else {
                    ports.take(&client)
                };
                (
                    lan(client, Host::new(office, Role::NtpServer), v6),
                    sport,
                    false,
                )
            };
            let rtt = if wan {
                rng.range(10_000_000, 60_000_000)
            } else {
                rng.range(150_000, 800_000)
            } as i64;
            Spec {
                ends,
                ip_proto: PROTO_UDP,
                sport,
                dport: 123,
                app: App::Ntp(NtpApp::new(rng, rtt)),
                app_proto: AppProto::Ntp,
                attack: None,
                wan,
                mode: Mode::Normal,
                client_windows: false,
            }
        }
        5 => {
            let client = Host::random_client(office, rng);
            let (ends, rtt) = if rng.chance(0.3) {
                (
                    outbound(client, "dns.google", v6, rng),
                    rng.range(8_000_000, 40_000_000),
                )
            } else {
                let target = *rng.pick(&[
                    Role::DnsServer,
                    Role::FileServer,
                    Role::VrApp,
                    Role::ResultsSite,
                ]);
                (
                    lan(client, Host::new(office, target), v6),
                    rng.range(150_000, 900_000),
                )
            };
            Spec {
                ends,
                ip_proto: PROTO_ICMP,
                sport: 0,
                dport: 0,
                app: App::Echo(EchoApp::new(rng, client.windows(), rtt as i64)),
                app_proto: AppProto::Icmp,
                attack: None,
                wan: false,
                mode: Mode::Normal,
                client_windows: client.windows(),
            }
        }
        6 => {
            let client = Host::random_workstation(office, rng);
            let sport = ports.take(&client);
            let app = App::Smb(SmbApp::new(rng, cap));
            tcp(
                lan(client, Host::new(office, Role::FileServer), v6),
                sport,
                445,
                app,
                AppProto::Smb,
                false,
                true,
            )
        }
        _ => {
            let client = Host::new(office, Role::FileServer);
            let sport = ports.take(&client);
            let app = App::Bulk(BulkApp::new(rng, cap));
            tcp(
                lan(client, Host::new(office, Role::BackupServer), v6),
                sport,
                2500,
                app,
                AppProto::Backup,
                false,
                true,
            )
        }
    }
}
