//! People over real HTTPS: sign-in, cookies, lockout, rate limit, expiry, CSRF, personal
//! tokens and their scopes, admin-only user management, share lists, the audit trail.

mod common;

use common::*;
use reqwest::blocking::Response;
use serde_json::{json, Value};
use std::time::Duration;
use watchfloor_store::{
    password, verify_audit, AuditVerification, NewOrg, NewUser, Org, OrgKind, Role, User,
};

const PW: &str = "correct horse battery staple";

fn org(hub: &TestHub, name: &str, kind: OrgKind, state: Option<&str>) -> Org {
    hub.rt
        .block_on(hub.store.create_org(NewOrg {
            name: name.into(),
            kind,
            state: state.map(Into::into),
            county_fips: None,
            parent: None,
        }))
        .unwrap()
}

fn user(hub: &TestHub, org: &Org, email: &str, role: Role) -> User {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = HASH.get_or_init(|| password::hash(PW).unwrap()).clone();
    hub.rt
        .block_on(hub.store.access().create_user(NewUser {
            org_id: org.id,
            email: email.into(),
            name: email.into(),
            role,
            password_hash: hash,
        }))
        .unwrap()
}

fn sign_in(hub: &TestHub, email: &str, pw: &str) -> Response {
    hub.client
        .post(hub.url("/api/v1/session"))
        .json(&json!({"email": email, "password": pw}))
        .send()
        .unwrap()
}

/// A signed-in session: the cookie pair to send back and the CSRF token.
struct Sess {
    cookie: String,
    csrf: String,
    set_cookie: String,
}

fn session(hub: &TestHub, email: &str) -> Sess {
    let r = sign_in(hub, email, PW);
    assert_eq!(r.status(), 201);
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let v: Value = r.json().unwrap();
    Sess {
        cookie,
        csrf: v["csrf_token"].as_str().unwrap().to_string(),
        set_cookie,
    }
}

fn get(hub: &TestHub, path: &str, s: &Sess) -> Response {
    hub.client
        .get(hub.url(path))
        .header("Cookie", &s.cookie)
        .send()
        .unwrap()
}

fn audit_actions(hub: &TestHub) -> Vec<String> {
    hub.rt
        .block_on(hub.store.access().list_audit(0, 10_000))
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect()
}

#[test]
fn sign_in_sets_a_strict_cookie_rotates_and_signs_out() {
    let hub = TestHub::start();
    let nat = org(&hub, "National", OrgKind::National, None);
    let u = user(&hub, &nat, "Ops@Hub.example", Role::Admin);
    let s = session(&hub, "ops@hub.example");
    for flag in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/",
        "Max-Age=43200",
    ] {
        assert!(s.set_cookie.contains(flag), "{}", s.set_cookie);
    }
    assert!(s.cookie.starts_with("__Host-wf_session="));
    assert_eq!(
        s.cookie.len(),
        "__Host-wf_session=".len() + 64,
        "256-bit id"
    );
    assert_eq!(s.csrf.len(), 64);
    // The store keeps neither the session id nor the CSRF token in clear.
    let id = &s.cookie["__Host-wf_session=".len()..];
    let stored = hub
        .rt
        .block_on(
            hub.store
                .access()
                .get_session(watchfloor_store::secret::hash(id)),
        )
        .unwrap()
        .unwrap();
    assert_ne!(&stored.csrf_hash[..], s.csrf.as_bytes());

    let r = get(&hub, "/api/v1/me", &s);
    assert_eq!(r.status(), 200);
    let me: Value = r.json().unwrap();
    assert_eq!(me["user"]["id"], u.id);
    assert_eq!(me["user"]["email"], "ops@hub.example");
    assert_eq!(me["org"]["kind"], "national");
    assert_eq!(me["role"], "admin");
    assert_eq!(me["auth"], "session");
    assert!(me.to_string().find("password").is_none(), "{me}");
    let r = hub.client.get(hub.url("/api/v1/me")).send().unwrap();
    assert_eq!(r.status(), 401);

    // Signing in again with the old cookie ends the old session (rotation).
    let r = hub
        .client
        .post(hub.url("/api/v1/session"))
        .header("Cookie", &s.cookie)
        .json(&json!({"email": "ops@hub.example", "password": PW}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let new_cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert_ne!(new_cookie, s.cookie);
    assert_eq!(
        get(&hub, "/api/v1/me", &s).status(),
        401,
        "old session ended"
    );
    let s2 = Sess {
        cookie: new_cookie,
        csrf: r.json::<Value>().unwrap()["csrf_token"]
            .as_str()
            .unwrap()
            .into(),
        set_cookie: String::new(),
    };
    assert_eq!(get(&hub, "/api/v1/me", &s2).status(), 200);

    // Sign-out is state-changing: it needs the CSRF token.
    let r = hub
        .client
        .delete(hub.url("/api/v1/session"))
        .header("Cookie", &s2.cookie)
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = hub
        .client
        .delete(hub.url("/api/v1/session"))
        .header("Cookie", &s2.cookie)
        .header("X-CSRF-Token", &s2.csrf)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(get(&hub, "/api/v1/me", &s2).status(), 401);

    let actions = audit_actions(&hub);
    assert_eq!(actions.iter().filter(|a| *a == "session.create").count(), 2);
    assert!(actions.contains(&"session.delete".to_string()));
    assert!(matches!(
        hub.rt.block_on(verify_audit(hub.store.access())).unwrap(),
        AuditVerification::Intact { .. }
    ));
}

#[test]
fn failures_are_uniform_and_lock_the_account() {
    let hub = TestHub::with(
        |c| {
            c.auth.max_failures = 3;
            c.auth.lockout_secs = 2;
        },
        |s| s,
    );
    let nat = org(&hub, "National", OrgKind::National, None);
    user(&hub, &nat, "a@hub.example", Role::Analyst);
    let unknown = sign_in(&hub, "nobody@hub.example", PW);
    let (status, unknown_body) = error_of(unknown);
    assert_eq!(status, 401);
    for _ in 0..3 {
        let (status, body) = error_of(sign_in(&hub, "a@hub.example", "wrong password!!"));
        assert_eq!(status, 401);
        assert_eq!(
            body, unknown_body,
            "no difference between unknown and wrong"
        );
    }
    // Locked: even the right password fails, with the same answer.
    let (status, body) = error_of(sign_in(&hub, "a@hub.example", PW));
    assert_eq!((status, &body), (401, &unknown_body));
    std::thread::sleep(Duration::from_millis(2_200));
    assert_eq!(
        sign_in(&hub, "A@hub.example", PW).status(),
        201,
        "lock over"
    );
    let actions = audit_actions(&hub);
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "session.create_failed")
            .count(),
        5
    );
    assert!(actions.contains(&"user.locked".to_string()));
    // Malformed bodies are 400, not 500.
    let r = hub
        .client
        .post(hub.url("/api/v1/session"))
        .body("{")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[test]
fn sign_in_attempts_are_rate_limited_per_address() {
    let hub = TestHub::with(|c| c.auth.ip_max_attempts = 3, |s| s);
    for _ in 0..3 {
        assert_eq!(
            sign_in(&hub, "x@hub.example", "whatever at all").status(),
            401
        );
    }
    let r = sign_in(&hub, "x@hub.example", "whatever at all");
    assert_eq!(r.status(), 429);
    assert!(
        r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
}

#[test]
fn sessions_expire_when_idle_and_absolutely() {
    let hub = TestHub::with(|c| c.auth.idle_timeout_secs = 1, |s| s);
    let nat = org(&hub, "National", OrgKind::National, None);
    user(&hub, &nat, "a@hub.example", Role::Viewer);
    let s = session(&hub, "a@hub.example");
    assert_eq!(get(&hub, "/api/v1/me", &s).status(), 200);
    std::thread::sleep(Duration::from_millis(1_300));
    let (status, v) = error_of(get(&hub, "/api/v1/me", &s));
    assert_eq!(status, 401);
    assert!(v["error"].as_str().unwrap().contains("expired"), "{v}");

    let hub = TestHub::with(
        |c| {
            c.auth.idle_timeout_secs = 60;
            c.auth.absolute_timeout_secs = 2;
        },
        |s| s,
    );
    let nat = org(&hub, "National", OrgKind::National, None);
    user(&hub, &nat, "a@hub.example", Role::Viewer);
    let s = session(&hub, "a@hub.example");
    assert!(s.set_cookie.contains("Max-Age=2"));
    for _ in 0..4 {
        // Activity does not extend the absolute limit.
        assert_eq!(get(&hub, "/api/v1/me", &s).status(), 200);
        std::thread::sleep(Duration::from_millis(300));
    }
    std::thread::sleep(Duration::from_millis(1_000));
    assert_eq!(get(&hub, "/api/v1/me", &s).status(), 401);
}

fn create_token(hub: &TestHub, s: &Sess, scope: &str) -> (i64, String) {
    let r = hub
        .client
        .post(hub.url("/api/v1/tokens"))
        .header("Cookie", &s.cookie)
        .header("X-CSRF-Token", &s.csrf)
        .json(&json!({"name": format!("{scope} token"), "scope": scope}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().unwrap();
    (
        v["id"].as_i64().unwrap(),
        v["token"].as_str().unwrap().to_string(),
    )
}

#[test]
fn csrf_is_required_and_checked_for_cookie_writes() {
    let hub = TestHub::start();
    let nat = org(&hub, "National", OrgKind::National, None);
    user(&hub, &nat, "a@hub.example", Role::Member);
    let s = session(&hub, "a@hub.example");
    let other = session(&hub, "a@hub.example");
    let post = |csrf: Option<&str>| {
        let mut b = hub
            .client
            .post(hub.url("/api/v1/tokens"))
            .header("Cookie", &s.cookie)
            .json(&json!({"name": "t", "scope": "read"}));
        if let Some(c) = csrf {
            b = b.header("X-CSRF-Token", c);
        }
        b.send().unwrap()
    };
    assert_eq!(post(None).status(), 403, "missing");
    assert_eq!(post(Some("0".repeat(64).as_str())).status(), 403, "wrong");
    assert_eq!(post(Some(&other.csrf)).status(), 403, "another session's");
    assert_eq!(post(Some(&s.csrf)).status(), 201);
    let bad = hub
        .client
        .post(hub.url("/api/v1/tokens"))
        .header("Cookie", &s.cookie)
        .header("X-CSRF-Token", &s.csrf)
        .body(r#"{"name":"t","scope":"admin"}"#)
        .send()
        .unwrap();
    let (status, v) = error_of(bad);
    assert_eq!(status, 400, "{v}");
    // Reads need none.
    assert_eq!(get(&hub, "/api/v1/tokens", &s).status(), 200);
    // A bearer token is not sent by browsers on their own: no CSRF token needed.
    let (_, write) = create_token(&hub, &s, "write");
    let r = hub
        .client
        .post(hub.url("/api/v1/tokens"))
        .bearer_auth(&write)
        .json(&json!({"name": "from automation", "scope": "read"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
}

#[test]
fn personal_tokens_are_scoped_shown_once_and_revocable() {
    let hub = TestHub::start();
    let nat = org(&hub, "National", OrgKind::National, None);
    user(&hub, &nat, "a@hub.example", Role::Analyst);
    let s = session(&hub, "a@hub.example");
    let (read_id, read) = create_token(&hub, &s, "read");
    let (_, write) = create_token(&hub, &s, "write");
    assert!(read.starts_with("wfu_"));
    let listed = get(&hub, "/api/v1/tokens", &s).text().unwrap();
    assert!(!listed.contains(&read[8..]), "secrets are never listed");

    let me: Value = hub
        .client
        .get(hub.url("/api/v1/me"))
        .bearer_auth(&read)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        (me["auth"].as_str(), me["scope"].as_str()),
        (Some("token"), Some("read"))
    );
    let events = hub
        .client
        .get(hub.url("/api/v1/events"))
        .bearer_auth(&read)
        .send()
        .unwrap();
    assert_eq!(events.status(), 200);
    // A read token cannot change anything.
    let r = hub
        .client
        .post(hub.url("/api/v1/tokens"))
        .bearer_auth(&read)
        .json(&json!({"name": "x", "scope": "write"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = hub
        .client
        .delete(hub.url(&format!("/api/v1/tokens/{read_id}")))
        .bearer_auth(&write)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = hub
        .client
        .get(hub.url("/api/v1/me"))
        .bearer_auth(&read)
        .send()
        .unwrap();
    assert_eq!(r.status(), 401, "revoked");
    assert!(audit_actions(&hub).contains(&"token.revoke".to_string()));

    // Sensor and user credentials do not cross.
    let (_, sensor_token) = hub.enroll("s1");
    let r = hub
        .client
        .get(hub.url("/api/v1/me"))
        .bearer_auth(&sensor_token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = hub
        .client
        .get(hub.url("/api/v1/ack"))
        .bearer_auth(&write)
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    // Someone else's token is "not found" for a non-admin.
    let other = user(&hub, &nat, "b@hub.example", Role::Member);
    let theirs = hub
        .rt
        .block_on(hub.store.access().issue_user_token(
            other.id,
            "b".into(),
            watchfloor_store::TokenScope::Read,
        ))
        .unwrap();
    let r = hub
        .client
        .delete(hub.url(&format!("/api/v1/tokens/{}", theirs.token.id)))
        .bearer_auth(&write)
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[test]
fn only_admins_manage_people_and_shares() {
    let hub = TestHub::start();
    let pa = org(&hub, "Pennsylvania", OrgKind::State, Some("PA"));
    let oh = org(&hub, "Ohio", OrgKind::State, Some("OH"));
    user(&hub, &pa, "admin@pa.example", Role::Admin);
    user(&hub, &pa, "viewer@pa.example", Role::Viewer);
    let admin = session(&hub, "admin@pa.example");
    let viewer = session(&hub, "viewer@pa.example");
    let add = |s: &Sess, email: &str| {
        hub.client
            .post(hub.url("/api/v1/users"))
            .header("Cookie", &s.cookie)
            .header("X-CSRF-Token", &s.csrf)
            .json(&json!({"email": email, "name": "New", "role": "member", "password": PW}))
            .send()
            .unwrap()
    };
    assert_eq!(add(&viewer, "n1@pa.example").status(), 403);
    assert_eq!(get(&hub, "/api/v1/users", &viewer).status(), 403);
    let r = add(&admin, "n1@pa.example");
    assert_eq!(r.status(), 201);
    let created: Value = r.json().unwrap();
    assert_eq!(created["org_id"], pa.id);
    assert_eq!(add(&admin, "N1@pa.example").status(), 409);
    let r = hub
        .client
        .post(hub.url("/api/v1/users"))
        .header("Cookie", &admin.cookie)
        .header("X-CSRF-Token", &admin.csrf)
        .json(&json!({"email": "n2@pa.example", "name": "N", "role": "member", "password": PW, "org": oh.id}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 403, "a state admin manages only its own people");
    let newbie = session(&hub, "n1@pa.example");
    let users: Value = get(&hub, "/api/v1/users", &admin).json().unwrap();
    assert_eq!(users.as_array().unwrap().len(), 3);
    // Disabling signs the person out.
    let r = hub
        .client
        .post(hub.url(&format!("/api/v1/users/{}/disable", created["id"])))
        .header("Cookie", &admin.cookie)
        .header("X-CSRF-Token", &admin.csrf)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(get(&hub, "/api/v1/me", &newbie).status(), 401);
    assert_eq!(sign_in(&hub, "n1@pa.example", PW).status(), 401);

    // Share list: visible to every role, changed by admins only, audited.
    let share = |s: &Sess, method: reqwest::Method| {
        hub.client
            .request(method, hub.url(&format!("/api/v1/org/shares/{}", oh.id)))
            .header("Cookie", &s.cookie)
            .header("X-CSRF-Token", &s.csrf)
            .send()
            .unwrap()
    };
    assert_eq!(share(&viewer, reqwest::Method::PUT).status(), 403);
    assert_eq!(share(&admin, reqwest::Method::PUT).status(), 204);
    let v: Value = get(&hub, "/api/v1/org/shares", &viewer).json().unwrap();
    assert_eq!(v["shared_with"], json!([oh.id]));
    assert_eq!(share(&admin, reqwest::Method::DELETE).status(), 204);
    let v: Value = get(&hub, "/api/v1/org/shares", &viewer).json().unwrap();
    assert_eq!(v["shared_with"], json!([]));
    let actions = audit_actions(&hub);
    for a in [
        "user.create",
        "user.disable",
        "share.grant",
        "share.withdraw",
    ] {
        assert!(actions.contains(&a.to_string()), "{a} in {actions:?}");
    }
}

#[test]
fn openapi_describes_the_people_endpoints() {
    let hub = TestHub::start();
    let doc: Value = hub
        .client
        .get(hub.url("/api/openapi.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    for (path, methods) in [
        ("/api/v1/session", &["post", "delete"][..]),
        ("/api/v1/me", &["get"]),
        ("/api/v1/tokens", &["get", "post"]),
        ("/api/v1/tokens/{id}", &["delete"]),
        ("/api/v1/users", &["get", "post"]),
        ("/api/v1/users/{id}/disable", &["post"]),
        ("/api/v1/org/shares", &["get"]),
        ("/api/v1/org/shares/{org}", &["put", "delete"]),
        ("/api/v1/events", &["get"]),
    ] {
        for m in methods {
            assert!(doc["paths"][path][m].is_object(), "{m} {path} missing");
        }
    }
    for scheme in ["session", "personalToken", "sensorToken"] {
        assert!(doc["components"]["securitySchemes"][scheme].is_object());
    }
    // Every $ref points at a schema that exists.
    let text = doc.to_string();
    for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = part.split('"').next().unwrap();
        assert!(doc["components"]["schemas"][name].is_object(), "{name}");
    }
}
