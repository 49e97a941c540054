//! Tenancy under hostile hosts and paths: the platform serves `ORG_DOMAIN=as.example` with the
//! organisations `acme` (custom domain `login.acme.test`, one operator) and `gone` (deleted).
//! Input: a choice byte for the host (a fixed list, or the input's own bytes as the host), one for
//! the method, one for the path family and one for the credentials; then the path tail, a NUL,
//! and the body.
//!
//! Checked on every response: no 500; JSON errors are RFC 6749 `{error, error_description}`; the
//! security headers are there; a request for an unknown, deleted or malformed host never
//! touches storage beyond the registry lookup (nothing is written under another name); the
//! registry API answers only on the platform's host.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis::config::{Config, Secret};
use portcullis::http::Request;
use portcullis::platform::memory::{block_on, MemPlatform};
use portcullis::routes as router;
use std::cell::OnceCell;

const ADMIN: &str = "fuzz-admin-token";
const HOSTS: [&str; 8] = [
    "as.example",
    "acme.as.example",
    "gone.as.example",
    "nobody.as.example",
    "login.acme.test",
    "ACME.as.example.:443",
    "a.acme.as.example",
    "127.0.0.1:8787",
];
const METHODS: [&str; 5] = ["GET", "POST", "PATCH", "DELETE", "PUT"];
const PATHS: [&str; 10] = [
    "/admin/orgs",
    "/admin/orgs/acme",
    "/admin/orgs/acme/",
    "/admin/orgs/",
    "/admin/keys",
    "/admin/apps",
    "/.well-known/jwks.json",
    "/oauth/token",
    "/login",
    "/",
];

struct Fx {
    p: MemPlatform,
    operator: String,
    shards: std::collections::HashMap<String, portcullis::objects::kv::MemKv>,
    kv: std::collections::BTreeMap<String, portcullis::model::App>,
    domains: std::collections::HashMap<String, String>,
}

thread_local! {
    static FIXTURE: OnceCell<Fx> = const { OnceCell::new() };
}

fn send(p: &MemPlatform, host: &str, method: &str, path: &str, auth: Option<&str>, body: &[u8]) -> portcullis::http::Response {
    let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
    if let Some(a) = auth {
        headers.push(("authorization".into(), format!("Bearer {a}")));
    }
    let req = Request {
        method: method.into(),
        path: path.into(),
        query: String::new(),
        headers,
        body: body.to_vec(),
        origin: format!("https://{host}"),
        remote_addr: "192.0.2.1".into(),
    };
    block_on(router::handle(p, &req))
}

fn fixture() -> Fx {
    let cfg = Config {
        issuer: Some("https://as.example".into()),
        admin_token: Some(Secret(ADMIN.into())),
        org_domain: Some("as.example".into()),
        ..Config::default()
    };
    let p = MemPlatform::new(cfg, portcullis_fuzz::signing_keys());
    for label in ["acme", "gone"] {
        let body = format!(r#"{{"label":"{label}","name":"{label}"}}"#);
        assert_eq!(send(&p, "as.example", "POST", "/admin/orgs", Some(ADMIN), body.as_bytes()).status, 201);
    }
    let r = send(&p, "as.example", "POST", "/admin/orgs/acme/domains", Some(ADMIN), br#"{"domain":"login.acme.test"}"#);
    assert_eq!(r.status, 201);
    let r = send(&p, "as.example", "POST", "/admin/orgs/acme/operators", Some(ADMIN), br#"{"name":"ops"}"#);
    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("operator JSON");
    let operator = v["token"].as_str().unwrap_or_default().to_owned();
    assert_eq!(send(&p, "as.example", "DELETE", "/admin/orgs/gone", Some(ADMIN), b"").status, 204);
    // acme's keys are made on its first request: make them now, once.
    assert_eq!(send(&p, "acme.as.example", "GET", "/.well-known/jwks.json", None, b"").status, 200);
    let shards = p.shards.borrow().clone();
    let kv = p.kv.borrow().clone();
    let domains = p.domains.borrow().clone();
    Fx { p, operator, shards, kv, domains }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let (choice, rest) = data.split_at(4);
    let mut parts = rest.splitn(2, |b| *b == 0);
    let Ok(tail) = std::str::from_utf8(parts.next().unwrap_or_default()) else {
        return;
    };
    let body = parts.next().unwrap_or_default();
    // Key generation costs ~100 ms: keep rotation out of the hot loop.
    if tail.len() > 2048 || String::from_utf8_lossy(body).contains("keys") || tail.contains("keys") {
        return;
    }
    let host = match choice[0] as usize % (HOSTS.len() + 1) {
        i if i < HOSTS.len() => HOSTS[i].to_owned(),
        _ => tail.chars().take(300).collect(),
    };
    let method = METHODS[choice[1] as usize % METHODS.len()];
    let path = format!("{}{}", PATHS[choice[2] as usize % PATHS.len()], if choice[0] as usize % (HOSTS.len() + 1) < HOSTS.len() { tail } else { "" });
    if path.contains("/keys") {
        return;
    }
    FIXTURE.with(|f| {
        let fx = f.get_or_init(fixture);
        *fx.p.shards.borrow_mut() = fx.shards.clone();
        *fx.p.kv.borrow_mut() = fx.kv.clone();
        *fx.p.domains.borrow_mut() = fx.domains.clone();
        fx.p.tenants.clear();
        let auth = match choice[3] % 4 {
            1 => Some(ADMIN),
            2 => Some(fx.operator.as_str()),
            3 => Some("wrong"),
            _ => None,
        };
        let r = send(&fx.p, &host, method, &path, auth, body);
        assert!(r.status < 500, "{method} {host} {path}: {} {}", r.status, String::from_utf8_lossy(&r.body));
        for (k, v) in &r.headers {
            assert!(!k.contains(['\r', '\n']) && !v.contains(['\r', '\n']), "header injection: {k}: {v:?}");
        }
        assert_eq!(r.get_header("x-content-type-options"), Some("nosniff"));
        let ct = r.get_header("content-type").unwrap_or("");
        if ct.starts_with("application/json") && r.status >= 400 {
            let v: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON error bodies parse");
            assert!(v["error"].is_string() && v["error_description"].is_string(), "{v}");
        }
        // The registry answers only on the platform's own host.
        let platform_host = portcullis::rules::tenant::resolve(Some("as.example"), &host)
            == Some(portcullis::model::Tenant::Default);
        if path.starts_with("/admin/orgs") && !platform_host {
            assert!(r.status == 404 || r.status == 401 || r.status == 403 || r.status == 405 || r.status == 429, "{host} {path}: {}", r.status);
        }
        // Nothing is ever stored under the names of the deleted organisation or of no tenant.
        use portcullis::objects::kv::Kv;
        for (name, kv) in fx.p.shards.borrow().iter() {
            let foreign = name.starts_with("org:gone:") || name.starts_with("org:nobody:");
            assert!(!foreign || kv.list("", None, 1).map(|l| l.is_empty()).unwrap_or(false), "{name}");
        }
    });
});
