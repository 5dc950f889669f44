//! Indicators end to end: `watchfloor sensor --indicators FILE` writes an
//! EVE `alert` naming the indicator and its source for each flow, name, URL
//! or TLS fingerprint that hits one, and nothing for the rest.

mod support;

use serde_json::Value;
use support::*;
use watchfloor_synth::{SynthConfig, Target};

fn alerts_for<'a>(records: &'a [Value], kind: &str) -> Vec<&'a Value> {
    of_type(records, "alert")
        .into_iter()
        .filter(|a| a["alert"]["metadata"]["indicator_kind"][0] == kind)
        .collect()
}

#[test]
fn indicator_hits_become_alerts_that_name_indicator_and_source() {
    let tmp = tempfile::tempdir().unwrap();
    let cap = tmp.path().join("office.pcap");
    synth(
        &SynthConfig {
            seed: 1,
            target: Target::Bytes(2 << 20),
            ..Default::default()
        },
        &cap,
    );
    // A first run without indicators: pick real values from the traffic.
    let plain = tmp.path().join("plain");
    sensor(&cap, &plain, &["--threads", "1"]).expect_code(0);
    let base = read_eve(&plain);
    let tls = of_type(&base, "tls");
    let beacon = tls
        .iter()
        .find(|t| t["tls"]["sni"] == "cdn-telemetry-sync.net")
        .expect("the synthesiser's beacon");
    let beacon_ip = beacon["dest_ip"].as_str().unwrap().to_string();
    let ja3 = tls
        .iter()
        .find_map(|t| t["tls"]["ja3"]["hash"].as_str())
        .expect("a JA3")
        .to_string();
    let flows_to_beacon = of_type(&base, "flow")
        .iter()
        .filter(|f| f["dest_ip"] == beacon_ip.as_str() || f["src_ip"] == beacon_ip.as_str())
        .count();
    let sni_sessions = tls
        .iter()
        .filter(|t| t["tls"]["sni"] == "cdn-telemetry-sync.net")
        .count();
    let ja3_sessions = tls
        .iter()
        .filter(|t| t["tls"]["ja3"]["hash"] == ja3.as_str())
        .count();

    let iocs = tmp.path().join("feed.txt");
    std::fs::write(
        &iocs,
        format!(
            "# a state feed\n\
             defaults source=state-isac tlp=amber\n\
             domain cdn-telemetry-sync.net severity=1 id=indicator--beacon\n\
             ip {beacon_ip}\n\
             ja3 {ja3}\n\
             domain never-seen.example\n\
             not-a-type x\n"
        ),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let r = sensor(
        &cap,
        &out,
        &["--threads", "1", "--indicators", iocs.to_str().unwrap()],
    );
    r.expect_no_panic().expect_code(0);
    assert!(
        r.stderr.contains("feed.txt:7:") && r.stderr.contains("indicator not loaded"),
        "the bad line is reported with file:line:\n{}",
        r.stderr
    );
    let records = read_eve(&out);

    let sni = alerts_for(&records, "domain");
    assert_eq!(
        sni.len(),
        sni_sessions,
        "one alert per session naming the beacon"
    );
    for a in &sni {
        assert_eq!(a["alert"]["signature_id"], 9_100_002);
        assert_eq!(a["alert"]["severity"], 1);
        assert_eq!(
            a["alert"]["metadata"]["indicator"][0],
            "cdn-telemetry-sync.net"
        );
        assert_eq!(a["alert"]["metadata"]["indicator_source"][0], "state-isac");
        assert_eq!(
            a["alert"]["metadata"]["indicator_id"][0],
            "indicator--beacon"
        );
        assert_eq!(a["alert"]["metadata"]["tlp"][0], "amber");
        assert!(a["alert"]["signature"]
            .as_str()
            .unwrap()
            .contains("state-isac"));
        assert_eq!(
            a["tls"]["sni"], "cdn-telemetry-sync.net",
            "the tls object rides along"
        );
    }
    let ip = alerts_for(&records, "ip");
    assert_eq!(
        ip.len(),
        flows_to_beacon,
        "one alert per flow with the address"
    );
    assert!(ip.iter().all(|a| a["alert"]["signature_id"] == 9_100_001));
    let j = alerts_for(&records, "ja3");
    assert_eq!(j.len(), ja3_sessions);
    // Every alert's flow says alerted; flows without a hit do not.
    let alerted: std::collections::BTreeSet<u64> = of_type(&records, "alert")
        .iter()
        .map(|a| a["flow_id"].as_u64().unwrap())
        .collect();
    for f in of_type(&records, "flow") {
        let id = f["flow_id"].as_u64().unwrap();
        assert_eq!(f["flow"]["alerted"].as_bool(), Some(alerted.contains(&id)));
    }
    if let Some(schema) = eve_schema() {
        assert_schema_valid(&schema, &records, "indicator alerts");
    }
}
