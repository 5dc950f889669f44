//! Turns a planned attack into a flow specification.

use super::{ephemeral, inbound, lan, outbound, Generator, Spec};
use crate::apps::{App, DnsApp};
use crate::attacks::{AttackKind, Planned};
use crate::dns;
use crate::http::{HttpApp, HttpKind};
use crate::net::{Addrs, PROTO_TCP, PROTO_UDP};
use crate::office::{self, Host, PortAlloc, Role};
use crate::rng::Rng;
use crate::summary::AppProto;
use crate::tcp::Mode;
use crate::tls::{Profile, TlsApp};
use std::io::Write;

impl<W: Write> Generator<'_, W> {
    pub(super) fn attack(&mut self, p: &Planned, rng: &mut Rng) -> Spec {
        let office = p.office;
        let http = |kind: HttpKind, role: Role, rng: &mut Rng, cap: usize| {
            let server = Host::new(office, role);
            let name = office::dmz_name(&server);
            Spec {
                ends: inbound(server, p.attacker, false, rng),
                ip_proto: PROTO_TCP,
                sport: ephemeral(rng),
                dport: 80,
                app: App::Http(HttpApp::new(kind, name, rng, cap)),
                app_proto: AppProto::Http,
                attack: Some(p.kind),
                wan: true,
                mode: Mode::Normal,
                client_windows: false,
            }
        };
        let dns_spec = |name: String, rcode: u8, ports: &mut PortAlloc, rng: &mut Rng| {
            let client = Host::random_workstation(office, rng);
            Spec {
                ends: lan(client, Host::new(office, Role::DnsServer), false),
                ip_proto: PROTO_UDP,
                sport: ports.take(&client),
                dport: 53,
                app: App::Dns(DnsApp::new(name, dns::A, rcode, false, rng)),
                app_proto: AppProto::Dns,
                attack: Some(p.kind),
                wan: false,
                mode: Mode::Normal,
                client_windows: true,
            }
        };
        match p.kind {
            AttackKind::PortScan => {
                let server = Host::new(office, Role::ResultsSite);
                Spec {
                    ends: inbound(server, p.attacker, false, rng),
                    ip_proto: PROTO_TCP,
                    sport: p.sport,
                    dport: p.dport,
                    app: App::None,
                    app_proto: AppProto::Tcp,
                    attack: Some(p.kind),
                    wan: true,
                    mode: if p.dport == 80 || p.dport == 443 {
                        Mode::ScanOpen
                    } else {
                        Mode::ScanClosed
                    },
                    client_windows: false,
                }
            }
            AttackKind::Sqli => http(HttpKind::Sqli, Role::ResultsSite, rng, self.size_cap),
            AttackKind::ScannerUa => {
                http(HttpKind::ScannerUa, Role::ResultsSite, rng, self.size_cap)
            }
            AttackKind::CredStuffing => {
                http(HttpKind::CredStuffing, Role::Portal, rng, self.size_cap)
            }
            AttackKind::DgaDns => dns_spec(dns::dga_name(rng), dns::NXDOMAIN, &mut self.ports, rng),
            AttackKind::SuspiciousDns => {
                let name = rng.pick(dns::SUSPICIOUS_NAMES).to_string();
                dns_spec(name, dns::NOERROR, &mut self.ports, rng)
            }
            AttackKind::Beacon => {
                let client = Host::new(0, Role::Workstation(office::BEACON_WORKSTATION));
                let mut ends = outbound(client, office::BEACON_SNI, false, rng);
                ends.addrs = Addrs::V4(client.v4(), office::BEACON_IP);
                Spec {
                    ends,
                    ip_proto: PROTO_TCP,
                    sport: self.ports.take(&client),
                    dport: 443,
                    app: App::Tls(TlsApp::new(
                        Profile::Beacon,
                        office::BEACON_SNI.to_string(),
                        rng,
                        4096,
                    )),
                    app_proto: AppProto::Tls,
                    attack: Some(p.kind),
                    wan: true,
                    mode: Mode::Normal,
                    client_windows: true,
                }
            }
        }
    }
}
