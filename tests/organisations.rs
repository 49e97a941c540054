//! What each organisation has of its own, end to end under `wrangler dev` (`ORG_DOMAIN=localhost`,
//! requests to 127.0.0.1 with the organisation's `Host`): signing keys made on first use in its
//! object, kept across a restart and rotated by its own operator; an operator token valid on its
//! host only; a custom domain; a per-minute request quota; a policy.

mod common;
use common::*;
use serde_json::{json, Value};

struct Orgs<'a> {
    s: &'a Server,
    admin: String,
}

impl Orgs<'_> {
    fn host(&self, label: &str) -> String {
        match label {
            "" => format!("localhost:{}", self.s.port),
            l if l.contains('.') => format!("{l}:{}", self.s.port),
            l => format!("{l}.localhost:{}", self.s.port),
        }
    }
    fn call(&self, label: &str, method: &str, path: &str, token: &str, body: Option<&Value>) -> Resp {
        let host = self.host(label);
        let auth = bearer(token);
        let text = body.map(|b| b.to_string());
        let h = [("host", host.as_str()), ("authorization", auth.as_str()), ("content-type", "application/json")];
        self.s.request(method, path, Req { headers: &h, body: text.as_deref().map(str::as_bytes), ..Req::default() })
    }
    fn platform(&self, method: &str, path: &str, body: Option<&Value>) -> Resp {
        self.call("", method, path, &self.admin, body)
    }
    fn kids(&self, label: &str) -> Vec<String> {
        let host = self.host(label);
        let jwks = self.s.get_with("/.well-known/jwks.json", &[("host", &host)]).expect_json(200);
        jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
    }
    fn cc_token(&self, label: &str, token: &str) -> String {
        let body = json!({"name": "M", "scopes": ["public"], "grant_types": ["client_credentials"], "trusted": true});
        let app = self.call(label, "POST", "/admin/apps", token, Some(&body)).expect_json(201);
        let (id, secret) = (app["client_id"].as_str().unwrap(), app["client_secret"].as_str().unwrap());
        let host = self.host(label);
        let pairs = [("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)];
        let t = self.s.post_form_with("/oauth/token", &pairs, &[("host", &host)]).expect_json(200);
        t["access_token"].as_str().unwrap().to_owned()
    }
}

fn kid_of(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&b64url_decode(header)).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

#[test]
fn organisations_have_their_own_keys_operators_domains_and_quotas() {
    let mut s = Server::start_with(&[("ORG_DOMAIN", "localhost")]);
    let admin = s.admin_token.clone().unwrap();
    {
        let o = Orgs { s: &s, admin: admin.clone() };
        for label in ["acme", "beta"] {
            o.platform("POST", "/admin/orgs", Some(&json!({"label": label, "name": label}))).expect_json(201);
        }
        // Keys: one per organisation, made on first use, none shared with the platform's.
        let (acme, beta, platform) = (o.kids("acme"), o.kids("beta"), o.kids(""));
        assert_eq!((acme.len(), beta.len()), (1, 1));
        assert!(acme != beta && !platform.contains(&acme[0]) && !platform.contains(&beta[0]));
        let t = o.cc_token("acme", &admin);
        assert_eq!(kid_of(&t), acme[0]);
    }
    // Kept by the organisation's object across a restart.
    let acme_before = Orgs { s: &s, admin: admin.clone() }.kids("acme");
    s.restart();
    let o = Orgs { s: &s, admin: admin.clone() };
    assert_eq!(o.kids("acme"), acme_before);

    // An operator of acme: its token manages acme's apps and rotates acme's keys, nothing else.
    let op = o.platform("POST", "/admin/orgs/acme/operators", Some(&json!({"name": "Acme IT"}))).expect_json(201);
    let op_token = op["token"].as_str().unwrap().to_owned();
    let old = o.cc_token("acme", &op_token);
    let rotated = o.call("acme", "POST", "/admin/keys", &op_token, None).expect_json(200);
    let kids = o.kids("acme");
    assert_eq!((kids.len(), json!(kids[0])), (2, rotated["signing_kid"].clone()));
    let new = o.cc_token("acme", &op_token);
    assert_eq!((kid_of(&old), kid_of(&new)), (acme_before[0].clone(), kids[0].clone()));
    let active = |label: &str, token: &str| {
        let host = o.host(label);
        let auth = bearer(&admin);
        let r = s.post_form_with("/oauth/introspect", &[("token", token)], &[("host", &host), ("authorization", &auth)]);
        r.expect_json(200)["active"].clone()
    };
    assert_eq!((active("acme", &old), active("acme", &new)), (json!(true), json!(true)));
    assert_eq!(active("beta", &new), json!(false));
    for label in ["beta", ""] {
        o.call(label, "GET", "/admin/apps", &op_token, None).expect_error(401, "invalid_token");
    }
    o.call("", "GET", "/admin/orgs", &op_token, None).expect_error(401, "invalid_token");

    // A custom domain serves acme with its own issuer; removed, it is a 404 at once.
    o.platform("POST", "/admin/orgs/acme/domains", Some(&json!({"domain": "login.acme.test"}))).expect_json(201);
    let custom = o.host("login.acme.test");
    let meta = s.get_with("/.well-known/oauth-authorization-server", &[("host", &custom)]).expect_json(200);
    assert_eq!(meta["issuer"], json!(format!("http://{custom}")));
    assert_eq!(o.kids("login.acme.test"), o.kids("acme"));
    o.platform("POST", "/admin/orgs/beta/domains", Some(&json!({"domain": "login.acme.test"}))).expect_error(409, "limit_reached");
    let r = o.platform("DELETE", "/admin/orgs/acme/domains/login.acme.test", None);
    assert_eq!(r.status, 204, "{}", r.text());
    s.get_with("/.well-known/oauth-authorization-server", &[("host", &custom)]).expect_error(404, "not_found");

    // A policy: no password grant at beta (its metadata says so).
    o.platform("PATCH", "/admin/orgs/beta", Some(&json!({"policies": {"password_grant": false}}))).expect_json(200);
    let beta_host = o.host("beta");
    let meta = s.get_with("/.well-known/oauth-authorization-server", &[("host", &beta_host)]).expect_json(200);
    assert!(!meta["grant_types_supported"].as_array().unwrap().contains(&json!("password")));

    // A quota of requests per minute at beta, counted across connections; acme is not affected.
    o.platform("PATCH", "/admin/orgs/beta", Some(&json!({"quotas": {"max_requests_per_minute": 5}}))).expect_json(200);
    let before = now();
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| s.get_with("/.well-known/jwks.json", &[("host", &beta_host)]).status))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(ok + limited, 8, "{statuses:?}");
    if now() / 60 == before / 60 {
        // One window: exactly the quota passed, racing or not.
        assert_eq!((ok, limited), (5, 3), "{statuses:?}");
        let r = s.get_with("/.well-known/jwks.json", &[("host", &beta_host)]);
        r.expect_error(429, "rate_limited");
        assert!(r.header("retry-after").is_some());
    }
    assert_eq!(s.get_with("/.well-known/jwks.json", &[("host", &o.host("acme"))]).status, 200);
}
