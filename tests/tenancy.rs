//! Organisations end to end: one `wrangler dev` with `ORG_DOMAIN=localhost` serves the tenants
//! `acme.localhost` and `beta.localhost` (the requests go to 127.0.0.1 with those `Host`
//! headers, as a browser resolving `*.localhost` would send them). An app and its token of
//! one organisation are refused by the other. The platform operator creates both first (on
//! `localhost`, the platform's host), then suspends, resumes and deletes them.
//!
//! Then issue 15: every credential of one organisation (access, refresh and app tokens,
//! authorization codes, session and CSRF cookies, accounts, registration access tokens) is
//! tried for real at another organisation and at the platform's host, and refused; the same
//! request in its own organisation succeeds, so each refusal is the tenancy's doing. These
//! tests share one server ([`s`]); each makes its own pair of organisations.

#[path = "browser/mod.rs"]
mod browser;
mod common;
use browser::*;
use common::*;
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::OnceLock;

#[test]
fn an_app_and_its_token_are_refused_by_another_organisation() {
    let s = Server::start_with(&[("ORG_DOMAIN", "localhost")]);
    let admin = bearer(s.admin_token.as_deref().unwrap());
    let acme = format!("acme.localhost:{}", s.port);
    let beta = format!("beta.localhost:{}", s.port);
    let platform = format!("localhost:{}", s.port);
    let json_h = |host: &str| [("host", host.to_owned()), ("authorization", admin.clone()), ("content-type", "application/json".to_owned())];
    let post_json = |host: &str, path: &str, body: &str| {
        let h = json_h(host);
        let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        s.post_raw(path, &h, body.as_bytes())
    };
    // Before it is created, acme is no organisation.
    s.get_with("/.well-known/oauth-authorization-server", &[("host", &acme)])
        .expect_error(404, "not_found");
    // The platform operator creates both organisations on the platform's own host.
    for label in ["acme", "beta"] {
        let body = json!({"label": label, "name": format!("{label} Ltd")}).to_string();
        let org = post_json(&platform, "/admin/orgs", &body).expect_json(201);
        assert_eq!(org["status"], "active");
    }
    post_json(&platform, "/admin/orgs", &json!({"label": "acme", "name": "Again"}).to_string())
        .expect_error(409, "limit_reached");
    // The registry does not exist on an organisation's host.
    post_json(&acme, "/admin/orgs", &json!({"label": "evil", "name": "Evil"}).to_string())
        .expect_error(404, "not_found");
    // Each organisation's metadata names its own issuer (the Host the worker saw).
    let issuer = |host: &str| {
        s.get_with("/.well-known/oauth-authorization-server", &[("host", host)])
            .expect_json(200)["issuer"]
            .clone()
    };
    assert_eq!(issuer(&acme), json!(format!("http://{acme}")));
    assert_eq!(issuer(&beta), json!(format!("http://{beta}")));
    // An app created in acme.
    let body = json!({"name": "Acme", "scopes": ["public"], "grant_types": ["client_credentials"], "trusted": true}).to_string();
    let r = s.post_raw(
        "/admin/apps",
        &[("host", &acme), ("authorization", &admin), ("content-type", "application/json")],
        body.as_bytes(),
    );
    let app = r.expect_json(201);
    let id = app["client_id"].as_str().unwrap();
    let secret = app["client_secret"].as_str().unwrap();
    let cc = [("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)];
    let t = s.post_form_with("/oauth/token", &cc, &[("host", &acme)]).expect_json(200);
    let access = t["access_token"].as_str().unwrap();
    // Unknown at beta.
    s.post_form_with("/oauth/token", &cc, &[("host", &beta)])
        .expect_error(401, "invalid_client");
    // The token is active at acme and not at beta.
    let active = |host: &str| {
        s.post_form_with("/oauth/introspect", &[("token", access)], &[("host", host), ("authorization", &admin)])
            .expect_json(200)["active"]
            .clone()
    };
    assert_eq!(active(&acme), json!(true));
    assert_eq!(active(&beta), json!(false));
    // 127.0.0.1 names no organisation.
    let r = s.get("/.well-known/oauth-authorization-server");
    r.expect_error(404, "not_found");
    let r = s.get("/");
    assert_eq!(r.status, 404);
    assert!(r.text().contains("No organisation at this address"));
    // Suspended, acme is refused whole; beta is still served; resumed, acme is served again.
    let org = post_json(&platform, "/admin/orgs/acme/suspend", "").expect_json(200);
    assert_eq!(org["status"], "suspended");
    s.post_form_with("/oauth/token", &cc, &[("host", &acme)])
        .expect_error(403, "access_denied");
    assert_eq!(issuer(&beta), json!(format!("http://{beta}")));
    post_json(&platform, "/admin/orgs/acme/resume", "").expect_json(200);
    assert_eq!(active(&acme), json!(true));
    // Deleted, beta is no organisation any more (the same 404 as an unknown host).
    let h = [("host", platform.as_str()), ("authorization", admin.as_str())];
    let r = s.request("DELETE", "/admin/orgs/beta", Req { headers: &h, body: None, chunked: false });
    assert_eq!(r.status, 204);
    s.get_with("/.well-known/oauth-authorization-server", &[("host", &beta)])
        .expect_error(404, "not_found");
}

// ---------------------------------------------------------------------------------------------
// Issue 15: one organisation's credentials are refused by every other
// ---------------------------------------------------------------------------------------------

/// What the origin received: (request line, lower-cased headers), in order.
static SEEN: std::sync::Mutex<Vec<(String, Vec<(String, String)>)>> = std::sync::Mutex::new(Vec::new());

/// A one-thread HTTP/1.1 origin behind the gateway: records each request in [`SEEN`] and
/// answers 200 "from origin".
fn origin() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut headers = Vec::new();
            let mut length = 0usize;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                if let Some((k, v)) = h.trim_end().split_once(':') {
                    let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_owned());
                    if k == "content-length" {
                        length = v.parse().unwrap_or(0);
                    }
                    headers.push((k, v));
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            SEEN.lock().unwrap().push((line.trim_end().to_owned(), headers));
            let mut s = stream;
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 11\r\nconnection: close\r\n\r\nfrom origin");
        }
    });
    port
}

/// The headers the origin received with the request for `path`.
#[track_caller]
fn seen(path: &str) -> Vec<(String, String)> {
    let seen = SEEN.lock().unwrap();
    seen.iter()
        .find(|(line, _)| line.split(' ').nth(1) == Some(path))
        .unwrap_or_else(|| panic!("the origin never received {path}"))
        .1
        .clone()
}

/// The server of the issue-15 tests: organisations on `*.localhost`, the per-address limits
/// out of the way (every request comes from 127.0.0.1), and a gateway route to [`origin`].
fn s() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| {
        let routes = format!(
            r#"[{{"prefix":"/api/users","scopes":["users:read"],"origin":"http://127.0.0.1:{}"}}]"#,
            origin()
        );
        let mut vars = roomy_vars();
        vars.push(("ORG_DOMAIN", "localhost"));
        vars.push(("GATEWAY_ROUTES", &routes));
        vars.push(("GATEWAY_CACHE_SECONDS", "0"));
        Server::start_with(&vars)
    })
}

/// Two new organisations, `acme-…` and `beta-…`, on the shared server.
fn two_orgs(s: &Server) -> (Host<'_>, Host<'_>) {
    let tag = rand_hex(3);
    (
        s.create_org(&format!("acme-{tag}")),
        s.create_org(&format!("beta-{tag}")),
    )
}

/// A browser on one host: its own cookie jar (host-only cookies, as a browser keeps them),
/// `Host` on every request and the host's own `Origin` on every form POST.
struct Tab<'a> {
    b: Browser,
    h: &'a Host<'a>,
}

impl<'a> Tab<'a> {
    fn new(h: &'a Host<'a>) -> Tab<'a> {
        Tab {
            b: Browser::new(h.s),
            h,
        }
    }

    #[track_caller]
    fn get(&self, path: &str) -> Resp {
        self.b.request("GET", path, &[("host", &self.h.host)], None)
    }

    /// A form POST with `origin` as its `Origin` header.
    #[track_caller]
    fn post_from(&self, path: &str, fields: &[(String, String)], origin: &str) -> Resp {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let headers = [
            ("host", self.h.host.as_str()),
            ("origin", origin),
            ("content-type", "application/x-www-form-urlencoded"),
        ];
        self.b
            .request("POST", path, &headers, Some(form(&pairs).as_bytes()))
    }

    /// The page's form posting to `action`, its hidden fields plus `extra`, sent from `origin`.
    #[track_caller]
    fn submit_from(&self, page: &Resp, action: &str, extra: &[(&str, &str)], origin: &str) -> Resp {
        let mut fields = form_fields(page, action);
        for (k, v) in extra {
            fields.retain(|(n, _)| n != k);
            fields.push((k.to_string(), v.to_string()));
        }
        self.post_from(action, &fields, origin)
    }

    /// [`Tab::submit_from`] from this host's own origin.
    #[track_caller]
    fn submit(&self, page: &Resp, action: &str, extra: &[(&str, &str)]) -> Resp {
        self.submit_from(page, action, extra, &self.h.issuer())
    }

    /// Signs up through the page; asserts the "signed up" answer (which starts no session).
    #[track_caller]
    fn sign_up(&self, p: &Person) {
        let page = self.get("/signup");
        page.expect(200);
        let r = self.submit(
            &page,
            "/signup",
            &[("name", &p.name), ("email", &p.email), ("password", &p.password)],
        );
        r.expect(200);
        assert!(r.text().contains("id=\"signed-up\""), "{}", r.text());
    }

    /// A log-in through the page, whatever the answer.
    #[track_caller]
    fn log_in_raw(&self, email: &str, password: &str) -> Resp {
        let page = self.get("/login");
        page.expect(200);
        self.submit(&page, "/login", &[("email", email), ("password", password)])
    }

    /// Logs in (asserting the 303 to `/`); returns the answer (with its `Set-Cookie`).
    #[track_caller]
    fn log_in(&self, p: &Person) -> Resp {
        let r = self.log_in_raw(&p.email, &p.password);
        r.expect(303);
        assert_eq!(r.header("location"), Some("/"));
        assert!(
            self.b.cookie(SESSION_COOKIE).is_some(),
            "log-in set no session cookie"
        );
        r
    }

    /// The home page's "Signed in as …" line, if the host sees this browser signed in.
    #[track_caller]
    fn signed_in_as(&self) -> Option<String> {
        let home = self.get("/");
        home.expect(200);
        let html = home.text();
        let at = html.find("Signed in as")?;
        Some(html_unescape(
            &html[at..html[at..].find("</p>").map_or(html.len(), |e| at + e)],
        ))
    }

    /// A code for the signed-in person (consenting when asked, PKCE S256), checking that the
    /// redirect names this host's issuer; returns the code and its verifier.
    #[track_caller]
    fn code(&self, c: &WebClient, scope: &str) -> (String, String) {
        let (verifier, challenge) = pkce();
        let path = c.authorize_path(scope, &challenge);
        let r = self.get(&path);
        let r = if r.status == 200 {
            assert!(
                r.text().contains("wants to access your account"),
                "not a consent page: {}",
                r.text()
            );
            self.submit(&r, "/oauth/authorize", &[("decision", "allow")])
        } else {
            r
        };
        r.expect(302);
        let loc = r.header("location").unwrap().to_owned();
        assert!(loc.starts_with(&format!("{}?code=", c.redirect_uri)), "{loc}");
        assert_eq!(query_param(&loc, "iss"), Some(self.h.issuer()), "{loc}");
        (query_param(&loc, "code").unwrap(), verifier)
    }
}

/// A confidential web client of one organisation (client_secret_basic).
struct WebClient {
    app: App,
    redirect_uri: String,
}

impl WebClient {
    #[track_caller]
    fn new(h: &Host, redirect_uri: &str) -> WebClient {
        let app = h.create_app(json!({
            "name": format!("Web app {}", rand_hex(3)),
            "owner": owner("web"),
            "redirect_uris": [redirect_uri],
            "scopes": ["public", "users:read"],
        }));
        WebClient {
            app,
            redirect_uri: redirect_uri.to_owned(),
        }
    }

    fn id(&self) -> &str {
        &self.app.id
    }

    fn authorize_path(&self, scope: &str, challenge: &str) -> String {
        let state = format!("st-{}", rand_hex(4));
        authorize_path(&[
            ("response_type", "code"),
            ("client_id", self.id()),
            ("redirect_uri", &self.redirect_uri),
            ("scope", scope),
            ("state", &state),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ])
    }

    /// A token request at `at` authenticated as this client.
    #[track_caller]
    fn token(&self, at: &Host, pairs: &[(&str, &str)]) -> Resp {
        at.post_form(
            "/oauth/token",
            pairs,
            &[("authorization", &basic(self.id(), self.app.secret()))],
        )
    }

    #[track_caller]
    fn redeem(&self, at: &Host, code: &str, verifier: &str) -> Resp {
        self.token(
            at,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &self.redirect_uri),
                ("code_verifier", verifier),
            ],
        )
    }

    #[track_caller]
    fn refresh(&self, at: &Host, refresh_token: &str) -> Resp {
        self.token(
            at,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)],
        )
    }
}

/// Issue 15 items 1 and 8: a client_credentials access token of acme is refused by beta and by
/// the platform at introspection, userinfo, revocation and the gateway (and acme's client is
/// no client there); each organisation's metadata names its own issuer, and tokens carry it.
#[test]
fn an_access_token_of_one_organisation_is_refused_by_every_other() {
    let s = s();
    let (acme, beta) = two_orgs(s);
    let platform = s.platform_host();
    for h in [&acme, &beta, &platform] {
        let m = h.metadata();
        let iss = h.issuer();
        assert_eq!(m["issuer"], iss.as_str(), "{m}");
        assert_eq!(m["jwks_uri"], format!("{iss}/.well-known/jwks.json"), "{m}");
        for (k, v) in m.as_object().unwrap() {
            if k.ends_with("_endpoint") {
                let url = v.as_str().unwrap_or_default();
                assert!(
                    url.starts_with(&format!("{iss}/")),
                    "{}: {k} = {v} is not under {iss}",
                    h.host
                );
            }
        }
        assert!(!h.jwks()["keys"].as_array().unwrap().is_empty());
    }
    assert_ne!(acme.metadata()["issuer"], beta.metadata()["issuer"]);

    let a_app = acme.trusted_app(&["public", "users:read"]);
    let b_app = beta.trusted_app(&["public", "users:read"]);
    let at = acme.cc_token(&a_app);
    let bt = beta.cc_token(&b_app);
    // Tokens carry their organisation's issuer (and audience), verified with its JWKS.
    let claims = verify_with_jwks(&acme.jwks(), &at, &acme.issuer());
    assert_eq!(claims["client_id"], a_app.id.as_str());
    let claims = verify_with_jwks(&beta.jwks(), &bt, &beta.issuer());
    assert_eq!(claims["client_id"], b_app.id.as_str());

    // acme's client is no client at beta or on the platform.
    beta.cc(&a_app.id, a_app.secret())
        .expect_error(401, "invalid_client");
    platform
        .cc(&a_app.id, a_app.secret())
        .expect_error(401, "invalid_client");

    // Introspection (the admin token sees every token of its host's tenant).
    assert!(acme.is_active(&at));
    assert!(!beta.is_active(&at), "acme's token is active at beta");
    assert!(!platform.is_active(&at), "acme's token is active on the platform");
    assert!(beta.is_active(&bt));
    assert!(!acme.is_active(&bt), "beta's token is active at acme");
    // Even a beta client allowed to introspect every token sees acme's as inactive; acme's
    // client cannot authenticate at beta's introspection.
    let snoop = beta.create_app(json!({
        "name": "Snoop", "owner": owner("snoop"), "trusted": true, "introspection": true,
    }));
    let snoop_auth = basic(&snoop.id, snoop.secret());
    let introspect_as = |h: &Host, token: &str, auth: &str| {
        h.post_form(
            "/oauth/introspect",
            &[("token", token)],
            &[("authorization", auth)],
        )
    };
    assert_eq!(
        introspect_as(&beta, &bt, &snoop_auth).expect_json(200)["active"],
        true
    );
    assert_eq!(
        introspect_as(&beta, &at, &snoop_auth).expect_json(200)["active"],
        false
    );
    let a_auth = basic(&a_app.id, a_app.secret());
    assert_eq!(
        introspect_as(&acme, &at, &a_auth).expect_json(200)["active"],
        true
    );
    introspect_as(&beta, &at, &a_auth).expect_error(401, "invalid_client");

    // Userinfo: acme recognises its token (and says it acts for no person: a client
    // credentials token); beta and the platform do not recognise it at all.
    let own = acme.userinfo(&at).expect_error(401, "invalid_token");
    assert!(
        own["error_description"]
            .as_str()
            .unwrap()
            .contains("acts for a client"),
        "{own}"
    );
    for h in [&beta, &platform] {
        let e = h.userinfo(&at).expect_error(401, "invalid_token");
        assert!(
            e["error_description"]
                .as_str()
                .unwrap()
                .contains("invalid, expired or revoked"),
            "{}: {e}",
            h.host
        );
    }

    // The gateway (GATEWAY_ROUTES serve every host): acme's token passes at acme only.
    let gw = |h: &Host, token: &str| h.with_bearer("GET", "/api/users/1", token, None);
    let r = gw(&acme, &at);
    r.expect(200);
    assert_eq!(r.text(), "from origin");
    let r = gw(&beta, &at);
    r.expect(401);
    assert!(
        r.header("www-authenticate")
            .is_some_and(|c| c.contains("invalid_token")),
        "{:?}",
        r.headers
    );
    gw(&platform, &at).expect(401);
    gw(&beta, &bt).expect(200);
    gw(&acme, &bt).expect(401);

    // Revocation at beta: beta's client "revokes" acme's token (200, as RFC 7009 answers for
    // a token it does not know) and acme's client cannot authenticate there; either way the
    // token lives on at acme.
    let b_auth = basic(&b_app.id, b_app.secret());
    beta.post_form("/oauth/revoke", &[("token", &at)], &[("authorization", &b_auth)])
        .expect(200);
    beta.post_form("/oauth/revoke", &[("token", &at)], &[("authorization", &a_auth)])
        .expect_error(401, "invalid_client");
    assert!(acme.is_active(&at), "a revocation at beta revoked acme's token");
    gw(&acme, &at).expect(200);

    // The admin API of beta (and of the platform) does not see acme's app: it can neither
    // read, change nor delete it, nor list it.
    let path = format!("/admin/apps/{}", a_app.id);
    for h in [&beta, &platform] {
        h.admin("GET", &path, None).expect(404);
        h.admin("PATCH", &path, Some(&json!({"name": "Stolen"})))
            .expect(404);
        h.admin("DELETE", &path, None).expect(404);
        h.admin("POST", &format!("{path}/secret"), None).expect(404);
    }
    let a_owner = a_app.json["owner"].as_str().unwrap();
    let listing = format!("/admin/apps?owner={a_owner}&limit=100");
    let listed = |h: &Host| -> Vec<Value> {
        h.admin("GET", &listing, None).expect_json(200)["apps"]
            .as_array()
            .unwrap()
            .clone()
    };
    assert!(listed(&beta).is_empty(), "beta lists acme's app");
    assert!(listed(&platform).is_empty(), "the platform lists acme's app");
    assert_eq!(listed(&acme).len(), 1);
    let got = acme.admin("GET", &path, None).expect_json(200);
    assert_eq!(got["name"], a_app.json["name"], "beta renamed acme's app");
    // acme's secret was not regenerated by beta, and the app and token still work.
    acme.cc_token(&a_app);
    assert!(acme.is_active(&at));

    // The same revocation in its own organisation does revoke it.
    acme.post_form("/oauth/revoke", &[("token", &at)], &[("authorization", &a_auth)])
        .expect(200);
    assert!(!acme.is_active(&at));
    gw(&acme, &at).expect(401);
}

/// Issue 15 item 7: an app token (an RS256 JWT signed by the app's key, `iss` = the app) of an
/// acme app is refused by beta and the platform, at `/application/token` and through the
/// jwt-bearer grant, even when its `aud` names beta; acme accepts the very same JWT after.
#[test]
fn an_app_token_of_one_organisation_is_refused_by_every_other() {
    let s = s();
    let (acme, beta) = two_orgs(s);
    let platform = s.platform_host();
    let key = test_key(0);
    let keyed = |h: &Host| {
        h.create_app(json!({
            "name": format!("e2e keyed {}", rand_hex(3)),
            "owner": owner("k"),
            "public_key": key.public_jwk(),
            "scopes": ["public", "users:read"],
        }))
    };
    let a_app = keyed(&acme);
    let app_door = |h: &Host, jwt: &str| h.with_bearer("POST", "/application/token", jwt, None);
    let grant = |h: &Host, jwt: &str| {
        h.post_form(
            "/oauth/token",
            &[("grant_type", JWT_BEARER), ("assertion", jwt)],
            &[],
        )
    };

    // No aud: refused at beta and on the platform; then acme accepts the same JWT (its jti
    // was not spent by the refusals).
    let jwt = key.sign(&app_claims(&a_app.id, None));
    app_door(&beta, &jwt).expect_error(401, "invalid_token");
    app_door(&platform, &jwt).expect_error(401, "invalid_token");
    let v = app_door(&acme, &jwt).expect_json(200);
    let bot = v["access_token"].as_str().unwrap().to_owned();
    assert_eq!(jwt_claims(&bot)["iss"], acme.issuer().as_str());
    let me = acme.userinfo(&bot).expect_json(200);
    assert_eq!(me["bot"], true, "{me}");
    assert_eq!(me["client_id"], a_app.id.as_str());
    beta.userinfo(&bot).expect_error(401, "invalid_token");
    assert!(!beta.is_active(&bot));

    // aud = beta's issuer: beta still does not know the app (both doors)...
    let to_beta = || key.sign(&app_claims(&a_app.id, Some(&beta.issuer())));
    app_door(&beta, &to_beta()).expect_error(401, "invalid_token");
    grant(&beta, &to_beta()).expect_error(400, "invalid_grant");
    // ...and acme refuses an assertion meant for beta.
    app_door(&acme, &to_beta()).expect_error(401, "invalid_token");
    grant(&acme, &to_beta()).expect_error(400, "invalid_grant");
    // aud = acme's issuer: acme's grant accepts it, beta's refuses the very same assertion.
    let to_acme = key.sign(&app_claims(&a_app.id, Some(&acme.issuer())));
    grant(&beta, &to_acme).expect_error(400, "invalid_grant");
    let t = grant(&acme, &to_acme).expect_json(200);
    assert_eq!(
        jwt_claims(t["access_token"].as_str().unwrap())["iss"],
        acme.issuer().as_str()
    );

    // The same key registered by a beta app: beta accepts its own app's JWT, never acme's.
    let b_app = keyed(&beta);
    app_door(&beta, &key.sign(&app_claims(&b_app.id, None))).expect_json(200);
    app_door(&beta, &key.sign(&app_claims(&a_app.id, None))).expect_error(401, "invalid_token");
    app_door(&acme, &key.sign(&app_claims(&b_app.id, None))).expect_error(401, "invalid_token");

    // private_key_jwt client authentication: an assertion for acme's token endpoint is refused
    // by beta's (where the client is unknown, and by acme's own client of the same key there)
    // and one for beta's is refused by acme's; acme accepts its own.
    let pk = acme.create_app(json!({
        "name": "e2e pkjwt", "owner": owner("pk"), "public_key": key.public_jwk(), "trusted": true,
        "token_endpoint_auth_method": "private_key_jwt", "scopes": ["public"],
    }));
    let cc = |h: &Host, aud: &str| {
        let a = key.sign(&client_assertion_claims(&pk.id, aud));
        let pairs = [
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", a.as_str()),
        ];
        h.post_form("/oauth/token", &pairs, &[])
    };
    let token_url = |h: &Host| format!("{}/oauth/token", h.issuer());
    cc(&beta, &token_url(&acme)).expect_error(401, "invalid_client");
    cc(&beta, &token_url(&beta)).expect_error(401, "invalid_client");
    cc(&platform, &token_url(&platform)).expect_error(401, "invalid_client");
    cc(&acme, &token_url(&beta)).expect_error(401, "invalid_client");
    cc(&acme, &beta.issuer()).expect_error(401, "invalid_client");
    let t = cc(&acme, &token_url(&acme)).expect_json(200);
    assert_eq!(
        jwt_claims(t["access_token"].as_str().unwrap())["iss"],
        acme.issuer().as_str()
    );
}

/// Issue 15 items 2 and 3: acme's authorization code and refresh token are refused at beta's
/// token endpoint, by acme's client (unknown there: invalid_client) and by a beta client with
/// the same redirect URI (invalid_grant); neither attempt spends them: acme redeems the code and
/// rotates the refresh token afterwards. acme's person's access token is refused at beta.
#[test]
fn a_code_and_a_refresh_token_of_one_organisation_are_refused_by_another() {
    let s = s();
    let (acme, beta) = two_orgs(s);
    let platform = s.platform_host();
    let uri = format!("https://web-{}.example/cb", rand_hex(3));
    let a_c = WebClient::new(&acme, &uri);
    let b_c = WebClient::new(&beta, &uri);
    let tab = Tab::new(&acme);
    let person = Person::new("xcode");
    tab.sign_up(&person);
    tab.log_in(&person);
    let (code, verifier) = tab.code(&a_c, "public users:read");

    a_c.redeem(&beta, &code, &verifier)
        .expect_error(401, "invalid_client");
    a_c.redeem(&platform, &code, &verifier)
        .expect_error(401, "invalid_client");
    b_c.redeem(&beta, &code, &verifier)
        .expect_error(400, "invalid_grant");
    // Nor at beta's legacy token endpoint.
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let b_auth = basic(b_c.id(), b_c.app.secret());
    beta.post_form("/oauth/v2/access_token", &pairs, &[("authorization", &b_auth)])
        .expect_error(400, "invalid_grant");
    // Not spent by those: acme redeems it now (a replay would be invalid_grant and revoke).
    let t = a_c.redeem(&acme, &code, &verifier).expect_json(200);
    let access = t["access_token"].as_str().unwrap().to_owned();
    let refresh = t["refresh_token"].as_str().unwrap().to_owned();
    let claims = verify_with_jwks(&acme.jwks(), &access, &acme.issuer());
    assert_eq!(claims["client_id"], a_c.id());

    // The person's access token: acme's userinfo knows them; beta's and the platform's refuse.
    let me = acme.userinfo(&access).expect_json(200);
    assert_eq!(me["sub"], claims["sub"]);
    assert_eq!(me["name"], person.name.as_str());
    beta.userinfo(&access).expect_error(401, "invalid_token");
    platform.userinfo(&access).expect_error(401, "invalid_token");
    assert!(!beta.is_active(&access));
    let v2 = format!("/oauth/v2/user?client_id={}", a_c.id());
    assert_eq!(
        acme.with_bearer("GET", &v2, &access, None).expect_json(200)["sub"],
        claims["sub"]
    );
    beta.with_bearer("GET", &v2, &access, None).expect(401);

    // The refresh token: refused at beta by either client, on the platform; still good at acme.
    a_c.refresh(&beta, &refresh).expect_error(401, "invalid_client");
    b_c.refresh(&beta, &refresh).expect_error(400, "invalid_grant");
    a_c.refresh(&platform, &refresh)
        .expect_error(401, "invalid_client");
    assert!(acme.is_active(&access), "an attempt at beta revoked acme's grant");
    let t2 = a_c.refresh(&acme, &refresh).expect_json(200);
    assert_ne!(t2["refresh_token"], refresh.as_str());
    let access2 = t2["access_token"].as_str().unwrap();
    assert_eq!(acme.userinfo(access2).expect_json(200)["sub"], claims["sub"]);

    // beta's own client gets nowhere with acme's tokens, and its own flow works at beta.
    let btab = Tab::new(&beta);
    let other = Person::new("xcode-b");
    btab.sign_up(&other);
    btab.log_in(&other);
    let (bcode, bverifier) = btab.code(&b_c, "public");
    a_c.redeem(&acme, &bcode, &bverifier)
        .expect_error(400, "invalid_grant");
    let bt = b_c.redeem(&beta, &bcode, &bverifier).expect_json(200);
    let baccess = bt["access_token"].as_str().unwrap();
    assert_eq!(jwt_claims(baccess)["iss"], beta.issuer().as_str());
    acme.userinfo(baccess).expect_error(401, "invalid_token");
    assert_eq!(
        beta.userinfo(baccess).expect_json(200)["name"],
        other.name.as_str()
    );
}

/// Issue 15 items 4 and 5: acme's session cookie sent to beta's host (or the platform's) is no
/// session there, and beta's log-out with it does not end it at acme; cookies are host-only; a
/// form posted from acme's origin to beta is refused. A person of acme has no account at beta;
/// the same email signs up at beta separately: two people, two passwords, two `sub`s.
#[test]
fn sessions_cookies_and_people_of_one_organisation_are_unknown_to_another() {
    let s = s();
    let (acme, beta) = two_orgs(s);
    let platform = s.platform_host();
    let uri = format!("https://web-{}.example/cb", rand_hex(3));
    let a_c = WebClient::new(&acme, &uri);
    let b_c = WebClient::new(&beta, &uri);

    let tab = Tab::new(&acme);
    let person = Person {
        name: format!("Acme Person {}", rand_hex(2)),
        ..Person::new("xsess")
    };
    let page = tab.get("/signup");
    for (k, v) in page.headers.iter().chain(
        tab.log_in_raw("x@people.example", "wrong-password")
            .headers
            .iter(),
    ) {
        if k == "set-cookie" {
            assert!(
                !v.to_ascii_lowercase().contains("domain="),
                "a cookie with a Domain: {v}"
            );
        }
    }
    tab.sign_up(&person);
    let r = tab.log_in(&person);
    let set: Vec<&str> = r
        .headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.as_str())
        .collect();
    assert!(set.iter().any(|c| c.starts_with(SESSION_COOKIE)), "{set:?}");
    for c in &set {
        // Host-only: a browser sends it back to acme's host alone, never to a sibling.
        assert!(
            !c.to_ascii_lowercase().contains("domain="),
            "a cookie with a Domain: {c}"
        );
    }
    assert!(tab.signed_in_as().is_some_and(|l| l.contains(&person.name)));
    let session = tab.b.cookie(SESSION_COOKIE).unwrap();
    let csrf = tab.b.cookie(CSRF_COOKIE).unwrap();

    // The same cookies in a browser on beta's host, and on the platform's: signed out.
    for h in [&beta, &platform] {
        let t = Tab::new(h);
        t.b.set_cookie(SESSION_COOKIE, &session);
        t.b.set_cookie(CSRF_COOKIE, &csrf);
        assert_eq!(
            t.signed_in_as(),
            None,
            "{}: acme's session cookie signs in",
            h.host
        );
        let r = t.get("/apps");
        r.expect(303);
        assert!(
            r.header("location").unwrap().starts_with("/login"),
            "{:?}",
            r.header("location")
        );
    }
    let stolen = Tab::new(&beta);
    stolen.b.set_cookie(SESSION_COOKIE, &session);
    stolen.b.set_cookie(CSRF_COOKIE, &csrf);
    let (_, challenge) = pkce();
    let r = stolen.get(&b_c.authorize_path("public", &challenge));
    r.expect(303);
    assert!(
        r.header("location").unwrap().starts_with("/login?"),
        "{:?}",
        r.header("location")
    );
    // The same cookie on acme's own host is the session (so the refusals above are beta's).
    let replay = Tab::new(&acme);
    replay.b.set_cookie(SESSION_COOKIE, &session);
    assert!(replay.signed_in_as().is_some_and(|l| l.contains(&person.name)));

    // Log-out at beta with acme's cookie ends nothing at acme. (The CSRF check is a
    // double-submit pair bound to no host: beta keeps the CSRF cookie acme set, and the pair
    // passes. What keeps acme's cookies from beta is that they are host-only, above, and that
    // a POST from acme's origin is refused, below.)
    let page = stolen.get("/login");
    let token = stolen.b.cookie(CSRF_COOKIE).unwrap();
    assert_eq!(token, csrf);
    let r = stolen.post_from("/logout", &[("csrf".into(), token)], &beta.issuer());
    r.expect(303);
    assert!(
        tab.signed_in_as().is_some(),
        "beta's log-out ended acme's session"
    );

    // A form posted to beta from acme's origin is refused, even with a matching CSRF pair.
    let r = stolen.submit_from(
        &page,
        "/login",
        &[("email", &person.email), ("password", &person.password)],
        &acme.issuer(),
    );
    r.expect(403);

    // acme's person has no account at beta: the same email and password fail there...
    let btab = Tab::new(&beta);
    let r = btab.log_in_raw(&person.email, &person.password);
    assert_eq!(r.status, 401, "acme's person logs in at beta");
    assert!(btab.b.cookie(SESSION_COOKIE).is_none());
    assert_eq!(
        platform_log_in(&platform, &person),
        401,
        "acme's person logs in on the platform"
    );
    // Nor through the password grant of a beta app that allows it (acme's app does).
    let pw_app = |h: &Host| {
        h.create_app(json!({
            "name": "Password app", "owner": owner("pw"),
            "grant_types": ["password", "refresh_token"], "scopes": ["public"],
        }))
    };
    let (a_pw, b_pw) = (pw_app(&acme), pw_app(&beta));
    let pw = |h: &Host, app: &App| {
        let pairs = [
            ("grant_type", "password"),
            ("username", person.email.as_str()),
            ("password", &person.password),
        ];
        h.post_form(
            "/oauth/token",
            &pairs,
            &[("authorization", &basic(&app.id, app.secret()))],
        )
    };
    pw(&beta, &b_pw).expect_error(400, "invalid_grant");
    pw(&beta, &a_pw).expect_error(401, "invalid_client");
    let t = pw(&acme, &a_pw).expect_json(200);
    assert_eq!(
        jwt_claims(t["access_token"].as_str().unwrap())["iss"],
        acme.issuer().as_str()
    );
    // ...and the same email signs up at beta as another person, with another password.
    let twin = Person {
        email: person.email.to_uppercase(),
        password: format!("pw-beta-{}", rand_hex(8)),
        name: format!("Beta Person {}", rand_hex(2)),
    };
    btab.sign_up(&twin);
    // Log-in at beta never sends the browser on to acme's host, whatever return_to says.
    for target in [format!("{}/apps", acme.issuer()), format!("//{}/apps", acme.host)] {
        let page = btab.get(&format!("/login?{}", form(&[("return_to", &target)])));
        page.expect(200);
        let r = btab.submit(
            &page,
            "/login",
            &[("email", &twin.email), ("password", &twin.password)],
        );
        r.expect(303);
        assert_eq!(r.header("location"), Some("/"), "return_to {target}");
    }
    let line = btab.signed_in_as().unwrap();
    assert!(
        line.contains(&twin.name) && !line.contains(&person.name),
        "{line}"
    );
    assert_eq!(
        Tab::new(&beta).log_in_raw(&person.email, &person.password).status,
        401
    );
    assert_eq!(
        Tab::new(&acme).log_in_raw(&twin.email, &twin.password).status,
        401
    );
    Tab::new(&acme).log_in(&person);
    assert!(tab.signed_in_as().is_some_and(|l| l.contains(&person.name)));

    // Two people: each organisation's userinfo names its own, with different `sub`s.
    let (code, v) = tab.code(&a_c, "public");
    let a_access = a_c.redeem(&acme, &code, &v).expect_json(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, v) = btab.code(&b_c, "public");
    let b_access = b_c.redeem(&beta, &code, &v).expect_json(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let a_me = acme.userinfo(&a_access).expect_json(200);
    let b_me = beta.userinfo(&b_access).expect_json(200);
    assert_eq!(a_me["name"], person.name.as_str());
    assert_eq!(b_me["name"], twin.name.as_str());
    assert_ne!(a_me["sub"], b_me["sub"], "one person in two organisations");

    // An authorization request at beta naming acme's client: beta does not know it, and sends
    // nothing to its redirect URI (the same URI beta's own client has).
    let r = btab.get(&a_c.authorize_path("public", &challenge));
    r.expect(400);
    assert!(r.header("location").is_none(), "{:?}", r.headers);
}

/// A log-in on the platform's host; returns its status.
fn platform_log_in(platform: &Host, p: &Person) -> u16 {
    Tab::new(platform).log_in_raw(&p.email, &p.password).status
}

/// Issue 15 item 6: an RFC 7591 client registered at acme cannot be read, updated or deleted
/// through beta's (or the platform's) `/oauth/register/{id}` with its registration access
/// token; at acme the token manages it.
#[test]
fn a_registered_client_is_managed_only_in_its_organisation() {
    let s = s();
    let (acme, beta) = two_orgs(s);
    let platform = s.platform_host();
    let uri = format!("https://dyn-{}.example/cb", rand_hex(3));
    let register = |h: &Host, name: &str| {
        let body = json!({"redirect_uris": [uri], "client_name": name}).to_string();
        h.request(
            "POST",
            "/oauth/register",
            &[("content-type", "application/json")],
            Some(body.as_bytes()),
        )
        .expect_json(201)
    };
    let reg = register(&acme, "Acme dyn");
    let id = reg["client_id"].as_str().unwrap().to_owned();
    let rat = reg["registration_access_token"].as_str().unwrap().to_owned();
    let path = format!("/oauth/register/{id}");
    assert_eq!(reg["registration_client_uri"], format!("{}{path}", acme.issuer()));
    let update = json!({"client_id": id, "redirect_uris": [uri], "client_name": "Stolen"});

    for h in [&beta, &platform] {
        h.with_bearer("GET", &path, &rat, None)
            .expect_error(401, "invalid_token");
        h.with_bearer("PUT", &path, &rat, Some(&update))
            .expect_error(401, "invalid_token");
        h.with_bearer("DELETE", &path, &rat, None)
            .expect_error(401, "invalid_token");
    }
    // beta's own registration token does not manage acme's client at acme either.
    let b_reg = register(&beta, "Beta dyn");
    let b_rat = b_reg["registration_access_token"].as_str().unwrap();
    acme.with_bearer("GET", &path, b_rat, None)
        .expect_error(401, "invalid_token");
    let b_path = format!("/oauth/register/{}", b_reg["client_id"].as_str().unwrap());
    acme.with_bearer("GET", &b_path, b_rat, None)
        .expect_error(401, "invalid_token");
    beta.with_bearer("GET", &b_path, b_rat, None).expect_json(200);
    // acme's client is untouched and its token manages it at acme.
    let got = acme.with_bearer("GET", &path, &rat, None).expect_json(200);
    assert_eq!(got["client_name"], "Acme dyn");
    let mut renamed = update.clone();
    renamed["client_name"] = "Acme renamed".into();
    let put = acme
        .with_bearer("PUT", &path, &rat, Some(&renamed))
        .expect_json(200);
    assert_eq!(put["client_name"], "Acme renamed");
    acme.with_bearer("DELETE", &path, &rat, None).expect(204);
    acme.with_bearer("GET", &path, &rat, None)
        .expect_error(401, "invalid_token");
    beta.with_bearer("GET", &b_path, b_rat, None).expect_json(200);
}

/// Issue 15 item 9: eight concurrent creations of one new label make exactly one organisation;
/// the others are 409 `limit_reached`, and the listing shows the label once.
#[test]
fn concurrent_creations_of_one_label_make_one_organisation() {
    let s = s();
    let label = format!("race-{}", rand_hex(4));
    let results = concurrently(8, |_| s.post_org(&label));
    let created: Vec<&Resp> = results.iter().filter(|r| r.status == 201).collect();
    assert_eq!(
        created.len(),
        1,
        "{:?}",
        results.iter().map(|r| (r.status, r.text())).collect::<Vec<_>>()
    );
    for r in results.iter().filter(|r| r.status != 201) {
        r.expect_error(409, "limit_reached");
    }
    let n = s.org_labels().iter().filter(|l| **l == label).count();
    assert_eq!(n, 1, "the listing shows {label} {n} times");
    let org = s
        .platform_host()
        .admin("GET", &format!("/admin/orgs/{label}"), None)
        .expect_json(200);
    assert_eq!(org["status"], "active");
    let h = s.org_host(&label);
    assert_eq!(h.metadata()["issuer"], h.issuer().as_str());
    // The registry is the platform's: an organisation's host has none (even with the token).
    h.admin("GET", "/admin/orgs", None).expect_error(404, "not_found");
    h.admin("GET", &format!("/admin/orgs/{label}"), None)
        .expect_error(404, "not_found");
    h.admin("POST", &format!("/admin/orgs/{label}/suspend"), None)
        .expect_error(404, "not_found");
    h.admin("DELETE", &format!("/admin/orgs/{label}"), None)
        .expect_error(404, "not_found");
    // Deleted, its label stays taken (its data is not removed: a new organisation under the
    // same label would inherit its apps, people and live tokens), and its host is a 404.
    let app = h.trusted_app(&["public"]);
    let t = h.cc_token(&app);
    let platform = s.platform_host();
    platform
        .admin("DELETE", &format!("/admin/orgs/{label}"), None)
        .expect(204);
    s.post_org(&label).expect_error(409, "limit_reached");
    h.cc(&app.id, app.secret()).expect_error(404, "not_found");
    h.userinfo(&t).expect_error(404, "not_found");
    h.get("/.well-known/oauth-authorization-server")
        .expect_error(404, "not_found");
}

/// Failed log-ins are counted per organisation: ten wrong passwords for an email at beta lock
/// beta's account of that email (429 even for the right password), and acme's person with the
/// same email still logs in.
#[test]
fn failed_log_ins_at_one_organisation_do_not_lock_the_same_email_at_another() {
    let s = s();
    let (acme, beta) = two_orgs(s);
    let person = Person::new("xlock");
    let twin = Person {
        password: format!("pw-beta-{}", rand_hex(8)),
        ..person.clone()
    };
    Tab::new(&acme).sign_up(&person);
    Tab::new(&beta).sign_up(&twin);
    // The ten failures and the check must fall in one 60 s window.
    at_start_of_a_window(std::time::Duration::from_secs(15));
    let b = Tab::new(&beta);
    for i in 0..10 {
        let r = b.log_in_raw(&twin.email, &format!("wrong-password-{i}"));
        assert_eq!(r.status, 401, "failure {i}: {}", r.status);
    }
    let r = b.log_in_raw(&twin.email, &twin.password);
    assert_eq!(
        r.status, 429,
        "beta's account is not locked after ten failures: {}",
        r.status
    );
    Tab::new(&acme).log_in(&person);
}

/// Hosts that name no organisation are a clean 404 (JSON for the API, a page for a person),
/// never a 5xx; labels the registry refuses are a 400. Hosts compare case-insensitively and a
/// trailing dot is the same name (src/rules/tenant.rs), so those reach the organisation itself.
///
/// Not here: a `Host` of a port alone (`:8787`). `tenant::resolve` makes it no tenant (its
/// native table), but under `wrangler dev` such a request never reaches the worker: the local
/// proxy fails to build its URL ("Invalid URL string") and answers 500 itself. Cloudflare's edge
/// routes by host and forwards no such request.
#[test]
fn hosts_of_no_organisation_are_a_clean_404() {
    let s = s();
    let label = format!("host-{}", rand_hex(3));
    let org = s.create_org(&label);
    let app = org.trusted_app(&["public"]);
    let port = s.port;
    let at = |host: String| Host { s, host };

    // Upper case: the same organisation, under its one (lower-case) issuer.
    let upper = at(format!("{}.LocalHost:{port}", label.to_uppercase()));
    assert_eq!(upper.metadata()["issuer"], org.issuer().as_str());
    let t = upper.cc_token(&app);
    assert!(
        org.is_active(&t),
        "a token minted at the upper-case host is not the organisation's"
    );
    // A trailing dot: the same organisation; in development the issuer is the origin the worker
    // saw, dot included, so a token minted there names that issuer and not the canonical one.
    let dotted = at(format!("{label}.localhost.:{port}"));
    assert_eq!(
        dotted.metadata()["issuer"],
        format!("http://{label}.localhost.:{port}")
    );
    let t = dotted.cc_token(&app);
    assert!(dotted.is_active(&t));
    assert!(!org.is_active(&t));

    let long = "a".repeat(64);
    let nowhere = [
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
        format!("xn--bcher-kva.localhost:{port}"),
        format!("{long}.localhost:{port}"),
        format!("{}.localhost:{port}", "a".repeat(63)),
        format!("a.{label}.localhost:{port}"),
        format!("{label}.localhost.evil.test:{port}"),
        format!("{label}x.localhost:{port}"),
        format!("-{label}.localhost:{port}"),
        format!("{label}_x.localhost:{port}"),
        format!("{label}localhost:{port}"),
        format!("localhost.{label}.localhost:{port}"),
    ];
    for host in nowhere {
        let h = at(host.clone());
        h.get("/.well-known/oauth-authorization-server")
            .expect_error(404, "not_found");
        h.get("/.well-known/jwks.json").expect_error(404, "not_found");
        h.cc(&app.id, app.secret()).expect_error(404, "not_found");
        let r = h.get("/");
        assert_eq!(r.status, 404, "{host}: {}", r.text());
        assert!(r.text().contains("No organisation at this address"), "{host}");
        let r = h.get("/login");
        assert_eq!(r.status, 404, "{host}");
    }
    // The registry refuses such labels outright.
    for bad in [
        "ACME",
        "xn--bcher-kva",
        long.as_str(),
        "a.b",
        "",
        "-a",
        "a-",
        "a_b",
        "ü",
    ] {
        let r = s.post_org(bad);
        r.expect_error(400, "invalid_request");
    }
}

/// With `ISSUER` set (production), an organisation's issuer is `<scheme>://<label>.<ORG_DOMAIN>`
/// whatever the `Host` spelled (case, trailing dot, port): a token minted at any spelling is
/// that organisation's, and still refused by the next organisation and by the platform (whose
/// issuer is `ISSUER`).
#[test]
fn with_an_issuer_each_organisation_has_one_canonical_issuer_of_its_own() {
    let s = Server::start_with(&[("ORG_DOMAIN", "localhost"), ("ISSUER", "http://localhost")]);
    let (acme, beta) = two_orgs(&s);
    let platform = s.platform_host();
    let label = acme.host.split('.').next().unwrap().to_owned();
    let canonical = format!("http://{label}.localhost");
    assert_eq!(acme.metadata()["issuer"], canonical.as_str());
    assert_eq!(
        beta.metadata()["issuer"],
        format!("http://{}.localhost", beta.host.split('.').next().unwrap())
    );
    assert_eq!(platform.metadata()["issuer"], "http://localhost");
    let app = acme.trusted_app(&["public"]);
    let spellings = [
        acme.host.clone(),
        format!("{}.LOCALHOST:{}", label.to_uppercase(), s.port),
        format!("{label}.localhost.:{}", s.port),
        format!("{label}.localhost:1"),
    ];
    for spelling in spellings {
        let h = Host {
            s: &s,
            host: spelling.clone(),
        };
        assert_eq!(h.metadata()["issuer"], canonical.as_str(), "{spelling}");
        let t = h.cc_token(&app);
        assert_eq!(jwt_claims(&t)["iss"], canonical.as_str(), "{spelling}");
        assert!(acme.is_active(&t), "{spelling}");
        assert!(!beta.is_active(&t), "{spelling}: acme's token is active at beta");
        assert!(
            !platform.is_active(&t),
            "{spelling}: acme's token is active on the platform"
        );
    }
    beta.cc(&app.id, app.secret()).expect_error(401, "invalid_client");
    let p_app = platform.trusted_app(&["public"]);
    let pt = platform.cc_token(&p_app);
    assert_eq!(jwt_claims(&pt)["iss"], "http://localhost");
    assert!(platform.is_active(&pt));
    assert!(!acme.is_active(&pt), "the platform's token is active at acme");
}

/// The gateway's routes are the deployment's, so acme's and beta's tokens reach the same
/// origin; each passes only at its own host (tested above). But the forwarded request names no
/// organisation: `Host` and `Authorization` are stripped and only `x-auth-subject`,
/// `x-auth-client-id` and `x-auth-scope` are added, so an origin serving several organisations
/// cannot tell whose person or app is calling, and whatever it grants by scope it grants to every
/// organisation's tokens alike.
#[test]
fn the_gateway_tells_the_origin_which_organisation_a_request_is_for() {
    let s = s();
    let (acme, beta) = two_orgs(s);
    for h in [&acme, &beta] {
        let app = h.trusted_app(&["users:read"]);
        let t = h.cc_token(&app);
        let path = format!("/api/users/{}", rand_hex(6));
        let r = h.with_bearer("GET", &path, &t, None);
        r.expect(200);
        assert_eq!(r.text(), "from origin");
        let headers = seen(&path);
        assert!(
            headers
                .iter()
                .any(|(k, v)| k == "x-auth-client-id" && *v == app.id),
            "{headers:?}"
        );
        let label = h.host.split('.').next().unwrap();
        let _ = label;
        assert!(
            headers.iter().any(|(k, v)| k == "x-auth-issuer" && *v == h.issuer()),
            "{}: nothing the origin received names the organisation: {headers:?}",
            h.host
        );
    }
}
