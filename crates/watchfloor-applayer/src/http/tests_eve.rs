// Test-only module: compiled under #[cfg(test)] from its parent.
use serde_json::json;

use super::*;
use crate::http::{HttpConfig, HttpState};
use crate::Direction::{ToClient, ToServer};

fn exchange(req: &[u8], resp: &[u8]) -> HttpTx {
    let mut st = HttpState::new(HttpConfig::default());
    st.parse(ToServer, req);
    st.parse(ToClient, resp);
    st.close(ToClient);
    let tx = st.drain().next().unwrap();
    tx
}

const REQ: &[u8] = b"GET /blah/ HTTP/1.0\r\nUser-Agent: Wget/1.11.4\r\nAccept: */*\r\nHost: www.google.com\r\nReferer: http://r/\r\nCookie: a=b\r\n\r\n";
const RESP: &[u8] = b"HTTP/1.0 302 Found\r\nLocation: /next\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Range: bytes 0-9/100\r\nContent-Length: 10\r\n\r\n0123456789";

#[test]
fn extended_object() {
    let tx = exchange(REQ, RESP);
    assert_eq!(
        eve_http(&tx, &HttpEveOptions::default()),
        json!({"hostname":"www.google.com","url":"/blah/","http_user_agent":"Wget/1.11.4",
               "http_content_type":"text/html",
               "content_range":{"raw":"bytes 0-9/100","start":0,"end":9,"size":100},
               "http_refer":"http://r/","http_method":"GET","protocol":"HTTP/1.0",
               "status":302,"redirect":"/next","length":10})
    );
    let text = serde_json::to_string(&HttpEveRecord {
        tx: &tx,
        opts: &HttpEveOptions::default(),
    })
    .unwrap();
    assert!(
        text.starts_with(r#"{"hostname":"www.google.com","url":"/blah/","http_user_agent""#),
        "{text}"
    );
}

#[test]
fn basic_object_and_request_only() {
    let mut st = HttpState::new(HttpConfig::default());
    st.parse(
        ToServer,
        b"OPTIONS * HTTP/1.1\r\nHost: Example.com:8080\r\n\r\n",
    );
    let tx = st.drain().next().unwrap();
    let basic = HttpEveOptions::from_config(&serde_json::Value::Null);
    assert!(!basic.extended);
    assert_eq!(
        eve_http(&tx, &basic),
        json!({"hostname":"example.com","http_port":8080,"url":"*"})
    );
    assert_eq!(
        eve_http(&tx, &HttpEveOptions::default()),
        json!({"hostname":"example.com","http_port":8080,"url":"*","http_method":"OPTIONS",
               "protocol":"HTTP/1.1","length":0})
    );
}

#[test]
fn status_string_for_odd_status() {
    let tx = exchange(
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"HTTP/1.1 2XX Odd\r\nContent-Length: 0\r\n\r\n",
    );
    let v = eve_http(&tx, &HttpEveOptions::default());
    assert_eq!(v["status_string"], "2XX");
    assert!(v.get("status").is_none());
}

#[test]
fn header_dumps_and_custom() {
    let tx = exchange(REQ, RESP);
    let both = HttpEveOptions::from_config(&json!({"dump-all-headers": "both"}));
    let v = eve_http(&tx, &both);
    assert_eq!(v["request_headers"].as_array().unwrap().len(), 5);
    assert_eq!(
        v["request_headers"][0],
        json!({"name":"User-Agent","value":"Wget/1.11.4"})
    );
    assert_eq!(
        v["response_headers"][3],
        json!({"name":"Content-Length","value":"10"})
    );
    assert!(v.get("http_method").is_none(), "not extended");

    let req_only = HttpEveOptions::from_config(&json!({"dump-all-headers": "request"}));
    assert!(eve_http(&tx, &req_only).get("response_headers").is_none());

    let custom = HttpEveOptions::from_config(
        &json!({"extended": "yes", "custom": ["accept", "Location", "referer", "bogus"]}),
    );
    let v = eve_http(&tx, &custom);
    assert_eq!(
        v["request_headers"],
        json!([{"name":"Accept","value":"*/*"}])
    );
    assert_eq!(
        v["response_headers"],
        json!([{"name":"Location","value":"/next"}])
    );
    let custom_basic = HttpEveOptions::from_config(&json!({"custom": ["referer"]}));
    assert_eq!(
        eve_http(&tx, &custom_basic)["request_headers"],
        json!([{"name":"Referer","value":"http://r/"}])
    );
}

#[test]
fn non_utf8_and_long_values() {
    let mut req = b"GET /\xff HTTP/1.1\r\nHost: a\r\nX-Long: ".to_vec();
    req.extend(std::iter::repeat_n(b'v', 5000));
    req.extend_from_slice(b"\r\n\r\n");
    let tx = exchange(&req, b"");
    let v = eve_http(
        &tx,
        &HttpEveOptions::from_config(&json!({"dump-all-headers": "request"})),
    );
    assert_eq!(v["url"], "/\\xff");
    assert_eq!(
        v["request_headers"][1]["value"].as_str().unwrap().len(),
        2047
    );
}
