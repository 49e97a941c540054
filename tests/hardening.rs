//! Issue 8 end to end against `wrangler dev`: races (64 concurrent redemptions of one code,
//! refreshes of one refresh token, app-token requests with one `jti`, app creations at the
//! per-owner limit), durability across SIGINT and SIGKILL restarts, a table of hostile inputs
//! over every endpoint, and where CORS is (and is not) allowed.

#[path = "browser/mod.rs"]
mod browser;
mod common;

use browser::*;
use common::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

fn s() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| Server::start_with(&roomy_vars()))
}

fn statuses(v: &[Resp]) -> Vec<u16> {
    v.iter().map(|r| r.status).collect()
}

// ---------------------------------------------------------------------------------------------
// Races
// ---------------------------------------------------------------------------------------------

#[test]
fn sixty_four_concurrent_redemptions_of_one_code_give_one_token() {
    let s = s();
    for c in Client::both(s) {
        let (code, verifier) = c.code_for_new_person(s, "race64");
        let results = concurrently(64, |_| c.redeem(s, &code, Some(&verifier)));
        let ok: Vec<&Resp> = results.iter().filter(|r| r.status == 200).collect();
        assert_eq!(ok.len(), 1, "exactly one redemption: {:?}", statuses(&results));
        for r in results.iter().filter(|r| r.status != 200) {
            r.expect_error(400, "invalid_grant");
        }
        // The 63 others replayed a used code, which revokes what the code gave.
        let t = ok[0].json();
        assert!(!s.is_active(t["access_token"].as_str().unwrap()));
        userinfo(s, t["access_token"].as_str().unwrap()).expect(401);
        c.refresh(s, t["refresh_token"].as_str().unwrap(), None)
            .expect_error(400, "invalid_grant");
    }
}

#[test]
fn sixty_four_concurrent_refreshes_with_one_token_give_one_pair() {
    let s = s();
    let c = Client::web(s, &["public", "users:read"]);
    let (b, _) = Browser::signed_up(s, "refresh64");
    let (access, refresh, _) = c.tokens(s, &b, "public users:read");
    let results = concurrently(64, |_| c.refresh(s, &refresh, None));
    let ok: Vec<&Resp> = results.iter().filter(|r| r.status == 200).collect();
    assert_eq!(ok.len(), 1, "exactly one new pair: {:?}", statuses(&results));
    for r in results.iter().filter(|r| r.status != 200) {
        r.expect_error(400, "invalid_grant");
    }
    let winner = ok[0].json();
    assert!(winner["access_token"].is_string() && winner["refresh_token"].is_string());
    assert_ne!(winner["refresh_token"], refresh.as_str());
    // The grant is consistent: it ended as a whole. Whichever request the shard served first
    // rotated the token; each of the 63 others then presented a rotated-out refresh token,
    // which is exactly what RFC 9700 §4.14.2 calls reuse, so the shard revoked the grant. The
    // winner's new pair is therefore dead too, as is every token from the grant; nothing is
    // half-alive. (Tolerating concurrent duplicates would also be defensible; this server
    // chose reuse detection, and this test pins that choice.)
    let new_access = winner["access_token"].as_str().unwrap();
    let new_refresh = winner["refresh_token"].as_str().unwrap();
    assert!(
        !s.is_active(new_access),
        "reuse detection revoked the grant the winner's pair came from"
    );
    assert!(!s.is_active(&access));
    c.refresh(s, new_refresh, None).expect_error(400, "invalid_grant");
    c.refresh(s, &refresh, None).expect_error(400, "invalid_grant");
    // Another grant of the same person and client lives on.
    let (a2, r2, _) = c.tokens(s, &b, "public");
    assert!(s.is_active(&a2));
    c.refresh(s, &r2, None).expect_json(200);
}

#[test]
fn sixty_four_concurrent_app_token_requests_with_one_jti_give_one_token() {
    let s = s();
    let key = test_key(0);
    let app = s.keyed_app(key, json!({"scopes": ["public"]}));
    let jwt = key.sign(&app_claims(&app.id, None));
    let results = concurrently(64, |_| s.app_token(&jwt));
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 1, "one jti, one token: {:?}", statuses(&results));
    for r in results.iter().filter(|r| r.status != 200) {
        r.expect_error(401, "invalid_token");
    }
    // The same through the RFC 7523 grant.
    let assertion = key.sign(&app_claims(&app.id, Some(&format!("{}/oauth/token", s.issuer()))));
    let results = concurrently(64, |_| s.jwt_bearer(&assertion));
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 1, "one jti, one token: {:?}", statuses(&results));
    for r in results.iter().filter(|r| r.status != 200) {
        r.expect_error(400, "invalid_grant");
    }
}

#[test]
fn sixty_four_concurrent_app_creations_at_990_of_1000_give_exactly_10() {
    let s = s();
    let o = owner("limit");
    let started = Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..16 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= 990 {
                    return;
                }
                s.post_app(&json!({"name": format!("fill {i}"), "owner": o}))
                    .expect(201);
            });
        }
    });
    let filled = started.elapsed();
    let results = concurrently(64, |i| {
        s.post_app(&json!({"name": format!("race {i}"), "owner": o}))
    });
    let created = results.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        created,
        10,
        "exactly 10 of 64 fit under 1000: {:?}",
        statuses(&results)
    );
    for r in results.iter().filter(|r| r.status != 201) {
        r.expect_error(409, "limit_reached");
    }
    // 1000 listed, and one more is still refused.
    assert_eq!(s.owned_ids(&o).len(), 1000);
    s.post_app(&json!({"name": "one more", "owner": o}))
        .expect_error(409, "limit_reached");
    eprintln!(
        "[limit] 990 apps created at concurrency 16 in {:.1} s; the race of 64 and the listing in {:.1} s",
        filled.as_secs_f64(),
        (started.elapsed() - filled).as_secs_f64()
    );
}

// ---------------------------------------------------------------------------------------------
// Durability across restarts
// ---------------------------------------------------------------------------------------------

/// What was acknowledged before a stop, to be found again after it.
struct Acknowledged {
    jwks: Value,
    keyed: App,
    keyed_json: Value,
    revoked_token: String,
    web: Client,
    person: Person,
    session: String,
    grant_access: String,
    grant_refresh: String,
    revoked_grant_access: String,
    revoked_grant_refresh: String,
    used_code: (String, String),
    dcr: Value,
}

fn acknowledge(s: &Server) -> Acknowledged {
    let key = test_key(1);
    let keyed = s.create_app(json!({
        "name": "Durable keyed app",
        "owner": owner("durable"),
        "trusted": true,
        "public_key": key.public_jwk(),
        "scopes": ["public"],
    }));
    let keyed_json = s.get_app(&keyed.id);
    assert_eq!(
        keyed_json["keys"].as_array().map(|k| k.len()),
        Some(1),
        "{keyed_json}"
    );
    let revoked_token = s.cc_token(&keyed);
    s.post_form_basic("/oauth/revoke", &[("token", &revoked_token)], &keyed.id, keyed.secret())
        .expect(200);
    assert!(!s.is_active(&revoked_token));
    s.app_token(&key.sign(&app_claims(&keyed.id, None))).expect(200);

    let web = Client::web(s, &["public", "users:read"]);
    let (b, person) = Browser::signed_up(s, "durable");
    let session = b.cookie(SESSION_COOKIE).unwrap();
    let (grant_access, grant_refresh, _) = web.tokens(s, &b, "public users:read");
    let (revoked_grant_access, revoked_grant_refresh, _) = web.tokens(s, &b, "public");
    s.post_form_basic("/oauth/revoke", &[("token", &revoked_grant_refresh)], web.id(), web.app.secret())
        .expect(200);
    assert!(!s.is_active(&revoked_grant_access));
    let (code, verifier) = web.code(s, &b, "public");
    web.redeem(s, &code, Some(&verifier)).expect(200);
    let dcr = s
        .post_json(
            "/oauth/register",
            &json!({"redirect_uris": ["https://durable.example/cb"], "client_name": "Durable DCR"}),
        )
        .expect_json(201);
    Acknowledged {
        jwks: s.jwks(),
        keyed,
        keyed_json,
        revoked_token,
        web,
        person,
        session,
        grant_access,
        grant_refresh,
        revoked_grant_access,
        revoked_grant_refresh,
        used_code: (code, verifier),
        dcr,
    }
}

/// Everything in `a` is still there after a restart. Consumes the grant's refresh token
/// (rotation) and the used code's grant (replay), so it runs once per `Acknowledged`.
fn check_acknowledged(s: &Server, a: &Acknowledged) {
    // The signing key: same JWKS, and tokens from before still verify.
    assert_eq!(s.jwks(), a.jwks, "the development signing key survived");
    s.verify_access_token(&a.grant_access);
    // The app, its secret and its key.
    assert_eq!(s.get_app(&a.keyed.id), a.keyed_json);
    s.cc_basic(&a.keyed.id, a.keyed.secret(), None).expect(200);
    s.app_token(&test_key(1).sign(&app_claims(&a.keyed.id, None)))
        .expect(200);
    // The revocation.
    assert!(!s.is_active(&a.revoked_token));
    // The person: password and session.
    let b = Browser::new(s);
    b.log_in(&a.person, None);
    let old = Browser::new(s);
    old.set_cookie(SESSION_COOKIE, &a.session);
    assert!(
        old.get("/").text().contains("Signed in as"),
        "the session survived"
    );
    // The consent: no consent page this time.
    let r = old.get(&a.web.authorize_path("public users:read", None));
    assert_eq!(r.status, 302, "the consent survived: {}", r.text());
    // The grant: its tokens live, its refresh token rotates.
    assert!(s.is_active(&a.grant_access));
    a.web.refresh(s, &a.grant_refresh, None).expect_json(200);
    // The revoked grant stays revoked.
    assert!(!s.is_active(&a.revoked_grant_access));
    a.web
        .refresh(s, &a.revoked_grant_refresh, None)
        .expect_error(400, "invalid_grant");
    // The used code stays used.
    a.web
        .redeem(s, &a.used_code.0, Some(&a.used_code.1))
        .expect_error(400, "invalid_grant");
    // The RFC 7591 registration and its access token.
    let path = a.dcr["registration_client_uri"]
        .as_str()
        .unwrap()
        .strip_prefix(s.issuer())
        .unwrap()
        .to_owned();
    let rat = bearer(a.dcr["registration_access_token"].as_str().unwrap());
    let got = s.get_with(&path, &[("authorization", &rat)]).expect_json(200);
    assert_eq!(got["client_name"], "Durable DCR");
}

#[test]
fn restart_after_sigint_and_after_sigkill_mid_load_keeps_everything_acknowledged() {
    let mut s = Server::start_with(&roomy_vars());

    // 1. A graceful stop (SIGINT, as Ctrl-C in a terminal), then a restart on the same state.
    let a = acknowledge(&s);
    let t = Instant::now();
    signal_server(&s, libc::SIGINT);
    s.restart();
    eprintln!(
        "[restart] SIGINT stop and restart: {:.1} s",
        t.elapsed().as_secs_f64()
    );
    check_acknowledged(&s, &a);

    // 2. SIGKILL while a client is busy issuing and revoking tokens and creating apps.
    let a = acknowledge(&s);
    let trusted = s.trusted_app(&["public"]);
    let load_owner = owner("kill");
    let stop = AtomicBool::new(false);
    let acked_apps: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
    let acked_revocations: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let acked_tokens = std::sync::atomic::AtomicUsize::new(0);
    let base = s.base.clone();
    let admin = bearer(s.admin_token.as_deref().unwrap());
    std::thread::scope(|scope| {
        let load = scope.spawn(|| {
            let agent = browser::agent();
            let auth = basic(&trusted.id, trusted.secret());
            let form_ct = ("content-type", "application/x-www-form-urlencoded");
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                // Issue a token…
                let Ok(r) = try_send(
                    &agent,
                    "POST",
                    &format!("{base}/oauth/token"),
                    &[("authorization", &auth), form_ct],
                    Some(b"grant_type=client_credentials"),
                ) else {
                    break;
                };
                // A proxy answering for a worker that is already gone: the stop has begun.
                if r.status >= 500 {
                    break;
                }
                assert_eq!(r.status, 200, "{}", r.text());
                acked_tokens.fetch_add(1, Ordering::SeqCst);
                let tok = r.json()["access_token"].as_str().unwrap().to_owned();
                // …revoke every other one…
                if i % 2 == 0 {
                    let body = form(&[("token", &tok)]);
                    match try_send(
                        &agent,
                        "POST",
                        &format!("{base}/oauth/revoke"),
                        &[("authorization", &auth), form_ct],
                        Some(body.as_bytes()),
                    ) {
                        Ok(r) if r.status == 200 => acked_revocations.lock().unwrap().push(tok),
                        Ok(r) if r.status >= 500 => break,
                        Ok(r) => panic!("revocation failed: {} {}", r.status, r.text()),
                        Err(_) => break,
                    }
                }
                // …and create an app now and then.
                if i % 3 == 0 {
                    let body = json!({"name": format!("kill load {i}"), "owner": load_owner}).to_string();
                    match try_send(
                        &agent,
                        "POST",
                        &format!("{base}/admin/apps"),
                        &[("authorization", &admin), ("content-type", "application/json")],
                        Some(body.as_bytes()),
                    ) {
                        Ok(r) if r.status == 201 => {
                            let v = r.json();
                            acked_apps.lock().unwrap().push((
                                v["client_id"].as_str().unwrap().to_owned(),
                                v["client_secret"].as_str().unwrap().to_owned(),
                            ));
                        }
                        Ok(r) if r.status >= 500 => break,
                        Ok(r) => panic!("app creation failed: {} {}", r.status, r.text()),
                        Err(_) => break,
                    }
                }
            }
        });
        // Let the load run, then kill the whole group without warning.
        let deadline = Instant::now() + Duration::from_secs(20);
        while acked_apps.lock().unwrap().len() < 5 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        signal_server(&s, libc::SIGKILL);
        stop.store(true, Ordering::SeqCst);
        load.join().unwrap();
    });
    let apps = acked_apps.into_inner().unwrap();
    let revocations = acked_revocations.into_inner().unwrap();
    assert!(
        apps.len() >= 5,
        "the load created too little before the kill: {}",
        apps.len()
    );
    let t = Instant::now();
    s.restart();
    eprintln!(
        "[restart] SIGKILL during load ({} tokens, {} revocations, {} apps acknowledged); restart: {:.1} s",
        acked_tokens.load(Ordering::SeqCst),
        revocations.len(),
        apps.len(),
        t.elapsed().as_secs_f64()
    );
    check_acknowledged(&s, &a);
    for tok in &revocations {
        assert!(!s.is_active(tok), "an acknowledged revocation was lost");
    }
    for (id, secret) in &apps {
        assert_eq!(s.get_app(id)["owner"], load_owner.as_str());
        // The secret that was handed out works (client authentication at the revocation endpoint).
        s.post_form_basic("/oauth/revoke", &[("token", "x")], id, secret)
            .expect(200);
    }
    // Nothing half-written: every listed app is whole; at most the one in flight is extra.
    let listed: Vec<String> = s
        .admin("GET", &format!("/admin/apps?owner={load_owner}&limit=100"), None)
        .expect_json(200)["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["client_id"].as_str().unwrap().to_owned())
        .collect();
    for (id, _) in &apps {
        assert!(listed.contains(id), "acknowledged app {id} is not listed");
    }
    assert!(
        listed.len() <= apps.len() + 1,
        "{} listed, {} acknowledged",
        listed.len(),
        apps.len()
    );
    for id in &listed {
        let app = s.get_app(id);
        assert_eq!(app["status"], "active", "{app}");
    }
    // And the server works.
    let fresh = s.trusted_app(&["public"]);
    assert!(s.is_active(&s.cc_token(&fresh)));
    Browser::signed_up(&s, "after-kill");
}

// ---------------------------------------------------------------------------------------------
// Hostile input
// ---------------------------------------------------------------------------------------------

/// What a hostile request must get.
#[derive(Clone, Copy, Debug)]
enum Want {
    /// A JSON error (`error` and `error_description`) with one of these 4xx statuses.
    Json(&'static [u16]),
    /// An HTML page with the page security headers and one of these 4xx statuses, no redirect.
    Html(&'static [u16]),
    /// Refused before any page or endpoint code runs (body too large, wrong method): a JSON
    /// error or an HTML page with one of these statuses.
    Early(&'static [u16]),
    /// Introspection: 200 `{"active": false}`.
    Inactive,
    /// RFC 7009 revocation of something that is not a live token: 200, nothing revoked.
    Ok200,
    /// A redirect to the registered URI only (for CR/LF in `state`).
    RegisteredRedirect(&'static str),
    /// 303 to a local path starting with this (log-in first).
    SeeOther(&'static str),
}

struct Case {
    name: String,
    method: &'static str,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    want: Want,
}

fn case(name: impl Into<String>, method: &'static str, path: impl Into<String>, want: Want) -> Case {
    Case {
        name: name.into(),
        method,
        path: path.into(),
        headers: Vec::new(),
        body: None,
        want,
    }
}

impl Case {
    fn header(mut self, k: &str, v: impl Into<String>) -> Case {
        self.headers.push((k.to_owned(), v.into()));
        self
    }
    fn form(self, body: impl Into<Vec<u8>>) -> Case {
        let mut c = self.header("content-type", "application/x-www-form-urlencoded");
        c.body = Some(body.into());
        c
    }
    fn json(self, body: impl Into<Vec<u8>>) -> Case {
        let mut c = self.header("content-type", "application/json");
        c.body = Some(body.into());
        c
    }
    fn raw(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Case {
        self = self.header("content-type", content_type);
        self.body = Some(body.into());
        self
    }
}

const E400: &[u16] = &[400];
const E401: &[u16] = &[401];
const E400_401: &[u16] = &[400, 401];
const E400_403: &[u16] = &[400, 403];
const E404: &[u16] = &[404];
const E405: &[u16] = &[405];
const E413: &[u16] = &[413];
const E415: &[u16] = &[415];

/// Checks one answer; returns a description of what is wrong, if anything.
fn judge(c: &Case, r: &Resp) -> Option<String> {
    let fail = |why: String| {
        Some(format!(
            "{} ({} {}): {why} — got {} {:?} {}",
            c.name,
            c.method,
            c.path.chars().take(120).collect::<String>(),
            r.status,
            r.header("content-type"),
            r.text().chars().take(300).collect::<String>()
        ))
    };
    if r.status >= 500 {
        return fail("server error".into());
    }
    // Header injection: nothing a request smuggled in shows up as a response header.
    for (k, v) in &r.headers {
        if k.contains("injected") || v.to_ascii_lowercase().contains("injected=1") {
            return fail(format!("injected header {k}: {v}"));
        }
    }
    match c.want {
        Want::Json(allowed) => {
            if !allowed.contains(&r.status) {
                return fail(format!("expected one of {allowed:?}"));
            }
            if !r
                .header("content-type")
                .is_some_and(|t| t.starts_with("application/json"))
            {
                return fail("not JSON".into());
            }
            let Ok(v) = serde_json::from_slice::<Value>(&r.body) else {
                return fail("body is not JSON".into());
            };
            if !v["error"].is_string() || !v["error_description"].is_string() {
                return fail("not an RFC 6749 error body".into());
            }
        }
        Want::Html(allowed) => {
            if !allowed.contains(&r.status) {
                return fail(format!("expected one of {allowed:?}"));
            }
            if !r
                .header("content-type")
                .is_some_and(|t| t.starts_with("text/html"))
            {
                return fail("not HTML".into());
            }
            if !r
                .header("content-security-policy")
                .is_some_and(|h| h.contains("frame-ancestors 'none'"))
            {
                return fail("HTML without the page CSP".into());
            }
            if r.header("location").is_some() {
                return fail("an error page must not redirect".into());
            }
        }
        Want::Early(allowed) => {
            if !allowed.contains(&r.status) {
                return fail(format!("expected one of {allowed:?}"));
            }
            let ct = r.header("content-type").unwrap_or("");
            let json_error = ct.starts_with("application/json")
                && serde_json::from_slice::<Value>(&r.body).is_ok_and(|v| v["error"].is_string());
            let page = ct.starts_with("text/html")
                && r.header("content-security-policy")
                    .is_some_and(|h| h.contains("frame-ancestors 'none'"));
            if !json_error && !page {
                return fail("neither a JSON error nor an HTML page".into());
            }
        }
        Want::Inactive => {
            if r.status != 200 || r.json()["active"] != false {
                return fail("expected {\"active\": false}".into());
            }
        }
        Want::Ok200 => {
            if r.status != 200 {
                return fail("expected 200".into());
            }
        }
        Want::SeeOther(prefix) => {
            if r.status != 303 || !r.header("location").is_some_and(|l| l.starts_with(prefix)) {
                return fail(format!("expected 303 to {prefix}"));
            }
        }
        Want::RegisteredRedirect(uri) => {
            let loc = r.header("location").unwrap_or("");
            if r.status != 302 || !loc.starts_with(&format!("{uri}?")) {
                return fail(format!("expected a redirect to {uri}"));
            }
            if loc.contains('\r') || loc.contains('\n') {
                return fail("raw CR/LF in Location".into());
            }
        }
    }
    None
}

/// Base64url JSON of a JWT part.
fn part(v: &Value) -> String {
    b64url(v.to_string().as_bytes())
}

fn hs256(secret: &[u8], header: &Value, claims: &Value) -> String {
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    let mut h = Header::new(Algorithm::HS256);
    h.typ = header["typ"].as_str().map(str::to_owned);
    h.kid = header["kid"].as_str().map(str::to_owned);
    encode(&h, claims, &EncodingKey::from_secret(secret)).unwrap()
}

/// Forged variants of a JWT: altered header, payload and signature, `alg: none`, HS256 signed
/// with the verification key's public bytes (`keys`: JWK JSON, PEM…), `kid` path tricks.
fn forgeries(token: &str, keys: &[(&str, Vec<u8>)], forger: &TestKey) -> Vec<(String, String)> {
    let parts: Vec<&str> = token.split('.').collect();
    let header: Value = serde_json::from_slice(&b64url_decode(parts[0])).unwrap();
    let mut claims: Value = serde_json::from_slice(&b64url_decode(parts[1])).unwrap();
    let mut out = Vec::new();
    let mut h = header.clone();
    h["kid"] = "another-kid".into();
    out.push((
        "altered header (kid)".into(),
        format!("{}.{}.{}", part(&h), parts[1], parts[2]),
    ));
    let mut h = header.clone();
    h["alg"] = "RS512".into();
    out.push((
        "altered header (alg RS512)".into(),
        format!("{}.{}.{}", part(&h), parts[1], parts[2]),
    ));
    let mut c = claims.clone();
    c["scope"] = "public users:write".into();
    c["sub"] = "someone-else".into();
    out.push((
        "altered payload".into(),
        format!("{}.{}.{}", parts[0], part(&c), parts[2]),
    ));
    let mut sig = b64url_decode(parts[2]);
    sig[10] ^= 1;
    out.push((
        "altered signature".into(),
        format!("{}.{}.{}", parts[0], parts[1], b64url(&sig)),
    ));
    out.push(("no signature".into(), format!("{}.{}.", parts[0], parts[1])));
    out.push(("two parts".into(), format!("{}.{}", parts[0], parts[1])));
    out.push(("four parts".into(), format!("{token}.{}", parts[2])));
    out.push((
        "not base64".into(),
        format!("{}.{}!.{}", parts[0], parts[1], parts[2]),
    ));
    let mut h = header.clone();
    h["alg"] = "none".into();
    out.push(("alg none".into(), format!("{}.{}.", part(&h), parts[1])));
    h["alg"] = "None".into();
    out.push(("alg None".into(), format!("{}.{}.", part(&h), parts[1])));
    for (what, bytes) in keys {
        out.push((
            format!("alg confusion: HS256 keyed with the {what}"),
            hs256(bytes, &header, &claims),
        ));
    }
    // Fresh jti so that a replay rule is not what refuses them.
    if claims.get("jti").is_some() {
        claims["jti"] = rand_hex(12).into();
    }
    for kid in [
        "../../etc/passwd",
        "/dev/zero",
        "..%2F..%2Fetc%2Fpasswd",
        "kid\u{0}nul",
        "file:///etc/passwd",
        &"k".repeat(10_000),
    ] {
        let signed = forger.sign_alg(jsonwebtoken::Algorithm::RS256, &claims, Some(kid));
        // Keep the original typ: re-encode the header with it.
        let sp: Vec<&str> = signed.split('.').collect();
        let mut h: Value = serde_json::from_slice(&b64url_decode(sp[0])).unwrap();
        if let Some(t) = header.get("typ") {
            h["typ"] = t.clone();
        }
        let retyped = format!("{}.{}.{}", part(&h), sp[1], sp[2]);
        out.push((
            format!(
                "kid {:?} signed by another key",
                kid.chars().take(20).collect::<String>()
            ),
            retyped,
        ));
    }
    out
}

fn public_pem(n: &str, e: &str) -> String {
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    let key = rsa::RsaPublicKey::new(
        rsa::BigUint::from_bytes_be(&b64url_decode(n)),
        rsa::BigUint::from_bytes_be(&b64url_decode(e)),
    )
    .unwrap();
    key.to_public_key_pem(LineEnding::LF).unwrap()
}

fn nested_json(depth: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(depth * 2 + 32);
    v.extend_from_slice(b"{\"a\":");
    v.extend(std::iter::repeat_n(b'[', depth));
    v.extend(std::iter::repeat_n(b']', depth));
    v.push(b'}');
    v
}

/// Redirect URIs no client may register or use.
fn hostile_uris() -> [&'static str; 20] {
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "https://good.example@evil.example/cb",
        "https://good.example/cb/../../evil",
        "https://good.example/./cb",
        "HTTPS://good.example/cb",
        "https://Good.Example/cb",
        "https://good.example./cb",
        "https://gооd.example/cb", // Cyrillic о
        "https://good.example/cb\u{202e}",
        "https://good.example/cb#frag",
        "https://good.example\\@evil.example/cb",
        "//evil.example/cb",
        "https:evil.example",
        "http://evil.example/cb",
        "https://good.example/cb\r\nX-Injected: 1",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "",
    ]
}

const GOOD: &str = "https://good.example/cb";

/// What the hostile cases aim at, and its state before them: a trusted app with a key and a
/// redirect URI, a private_key_jwt app, an RFC 7591 client, a signed-in person with tokens.
/// Each hostile test makes its own, runs its cases, and checks that none of it changed.
struct Hostile {
    admin: String,
    target: App,
    pkjwt: App,
    dcr: Value,
    dcr_path: String,
    rat: String,
    b: Browser,
    person: Person,
    access: String,
    before_target: Value,
    before_dcr: Value,
    created_owner: String,
    target_auth: String,
}

impl Hostile {
    fn new(s: &Server) -> Hostile {
        let admin = bearer(s.admin_token.as_deref().unwrap());
        let good = GOOD;
        // The targets whose stored state must not change.
        let key = test_key(2);
        let target = s.create_app(json!({
            "name": "Hostile target",
            "owner": owner("hostile"),
            "redirect_uris": [good],
            "trusted": true,
            "public_key": key.public_jwk(),
            "scopes": ["public", "users:read"],
        }));
        let pkjwt = s.create_app(json!({
            "name": "Hostile pkjwt",
            "owner": owner("hostile"),
            "token_endpoint_auth_method": "private_key_jwt",
            "public_key": key.public_jwk(),
            "trusted": true,
        }));
        let dcr = s
            .post_json(
                "/oauth/register",
                &json!({"redirect_uris": [good], "client_name": "Hostile DCR"}),
            )
            .expect_json(201);
        let dcr_path = format!("/oauth/register/{}", dcr["client_id"].as_str().unwrap());
        let rat = bearer(dcr["registration_access_token"].as_str().unwrap());
        let client = Client {
            app: target.clone(),
            redirect_uri: good.into(),
            public: false,
        };
        let (b, person) = Browser::signed_up(s, "hostile");
        let (access, _refresh, _) = client.tokens(s, &b, "public users:read");
        let before_target = s.get_app(&target.id);
        let before_dcr = s.get_with(&dcr_path, &[("authorization", &rat)]).expect_json(200);
        let created_owner = owner("hostile-created");
        let id = target.id.clone();
        let target_auth = basic(&id, target.secret());
        Hostile {
            admin,
            target,
            pkjwt,
            dcr,
            dcr_path,
            rat,
            b,
            person,
            access,
            before_target,
            before_dcr,
            created_owner,
            target_auth,
        }
    }

    fn id(&self) -> &str {
        &self.target.id
    }

    /// Runs the cases (8 at a time), then checks that nothing changed and nothing panicked.
    fn run(&self, s: &Server, cases: Vec<Case>) {
        let Hostile { target, dcr_path, rat, b, person, access, before_target, before_dcr, created_owner, .. } = self;
        let id = self.id();
        let started = Instant::now();
        let agent = browser::agent();
        let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
        let next = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(c) = cases.get(i) else { return };
                    let headers: Vec<(&str, &str)> =
                        c.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    let url = format!("{}{}", s.base, c.path);
                    match try_send(&agent, c.method, &url, &headers, c.body.as_deref()) {
                        Ok(r) => {
                            if let Some(why) = judge(c, &r) {
                                failures.lock().unwrap().push(why);
                            }
                        }
                        Err(e) => failures
                            .lock()
                            .unwrap()
                            .push(format!("{}: transport error {e}", c.name)),
                    }
                });
            }
        });
        eprintln!(
            "[hostile] {} cases in {:.1} s",
            cases.len(),
            started.elapsed().as_secs_f64()
        );

        // Nothing changed.
        let after_target = s.get_app(&target.id);
        let after_dcr = s.get_with(&dcr_path, &[("authorization", &rat)]).expect_json(200);
        let mut failures = failures.into_inner().unwrap();
        if after_target != *before_target {
            failures.push(format!(
                "the target app changed:\nbefore {before_target}\nafter  {after_target}"
            ));
        }
        if after_dcr != *before_dcr {
            failures.push(format!(
                "the registered client changed:\nbefore {before_dcr}\nafter  {after_dcr}"
            ));
        }
        let created = s
            .admin("GET", &format!("/admin/apps?owner={created_owner}"), None)
            .expect_json(200);
        if !created["apps"].as_array().unwrap().is_empty() {
            failures.push(format!("hostile creations stored apps: {created}"));
        }
        if !s.is_active(&access) {
            failures.push("a forged token's revocation revoked the real access token".into());
        }
        s.cc_basic(id, target.secret(), None).expect(200);
        b.log_in(&person, None);
        let log = s.log();
        if log.contains("panicked") {
            failures.push(format!(
                "the worker panicked:\n{}",
                log.lines()
                    .filter(|l| l.contains("panicked"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
        assert!(
            failures.is_empty(),
            "{} of {} hostile cases failed:\n{}",
            failures.len(),
            cases.len(),
            failures.join("\n")
        );
    }
}

/// Every JSON/API endpoint: the body rules (size, encoding, duplicates, types, depth, media type,
/// method), then the token endpoint's specifics.
#[test]
fn hostile_api_bodies_get_protocol_errors_and_change_nothing() {
    let s = s();
    let fx = Hostile::new(s);
    let admin = &fx.admin;
    let target_auth = &fx.target_auth;
    let good = GOOD;
    let id = fx.id();
    let mib = vec![b'a'; 1 << 20];
    let deep = nested_json(10_000);
    let mut cases: Vec<Case> = Vec::new();
    type Endpoint<'a> = (&'a str, &'a str, Vec<(String, String)>);
    let api_posts: Vec<Endpoint> = vec![
        ("token", "/oauth/token", vec![]),
        ("token v2", "/oauth/v2/access_token", vec![]),
        (
            "revoke",
            "/oauth/revoke",
            vec![("authorization".into(), target_auth.clone())],
        ),
        (
            "introspect",
            "/oauth/introspect",
            vec![("authorization".into(), admin.clone())],
        ),
    ];
    for (name, path, auth) in &api_posts {
        let with = |c: Case| auth.iter().fold(c, |c, (k, v)| c.header(k, v.clone()));
        cases.push(with(
            case(format!("{name}: 1 MiB form"), "POST", *path, Want::Json(E413)).form(mib.clone()),
        ));
        cases.push(with(
            case(format!("{name}: 1 MiB JSON"), "POST", *path, Want::Json(E413)).json(mib.clone()),
        ));
        cases.push(with(
            case(
                format!("{name}: non-UTF-8 escape"),
                "POST",
                *path,
                Want::Json(E400),
            )
            .form("grant_type=client_credentials&token=%FF%FE&scope=%C3%28"),
        ));
        cases.push(with(
            case(format!("{name}: raw non-UTF-8"), "POST", *path, Want::Json(E400))
                .form(b"grant_type=client_credentials&token=\xff\xfe".to_vec()),
        ));
        cases.push(with(
            case(format!("{name}: NUL"), "POST", *path, Want::Json(E400))
                .form("grant_type=client_credentials&token=a%00b&scope=public%00"),
        ));
        cases.push(with(
            case(format!("{name}: duplicated"), "POST", *path, Want::Json(E400))
                .form("grant_type=client_credentials&grant_type=password&token=a&token=b"),
        ));
        cases.push(with(
            case(format!("{name}: bad escape"), "POST", *path, Want::Json(E400))
                .form("grant_type=%zz&token=%4"),
        ));
        cases.push(with(
            case(
                format!("{name}: JSON wrong types"),
                "POST",
                *path,
                Want::Json(E400),
            )
            .json(r#"{"grant_type":["client_credentials"],"token":{"a":1}}"#),
        ));
        cases.push(with(
            case(format!("{name}: JSON array"), "POST", *path, Want::Json(E400)).json("[1,2,3]"),
        ));
        cases.push(with(
            case(
                format!("{name}: JSON 10000 deep"),
                "POST",
                *path,
                Want::Json(E400),
            )
            .json(deep.clone()),
        ));
        cases.push(with(
            case(format!("{name}: JSON NUL"), "POST", *path, Want::Json(E400))
                .json(r#"{"grant_type":"client_credentials\u0000","token":"a\u0000"}"#),
        ));
        cases.push(with(
            case(format!("{name}: text/plain"), "POST", *path, Want::Json(E415))
                .raw("text/plain", "grant_type=client_credentials"),
        ));
        cases.push(with(case(
            format!("{name}: wrong method"),
            "GET",
            *path,
            Want::Json(E405),
        )));
    }
    // Token endpoint specifics.
    let t = "/oauth/token";
    cases.push(case("token: empty body", "POST", t, Want::Json(E400)).form(""));
    cases.push(case("token: empty grant_type", "POST", t, Want::Json(E400)).form("grant_type="));
    cases.push(case("token: unknown grant", "POST", t, Want::Json(E400)).form("grant_type=implicit"));
    cases.push(
        case("token: grant_type CR/LF", "POST", t, Want::Json(E400))
            .form("grant_type=client_credentials%0D%0ASet-Cookie:%20injected=1"),
    );
    cases.push(
        case("token: client_id CR/LF", "POST", t, Want::Json(E400_401)).form(format!(
            "grant_type=client_credentials&client_id={id}%0D%0AX-Injected:%201&client_secret=x"
        )),
    );
    cases.push(
        case("token: 30 KB Basic", "POST", t, Want::Json(E400_401))
            .form("grant_type=client_credentials")
            .header("authorization", format!("Basic {}", "QUFB".repeat(7_500))),
    );
    cases.push(
        case("token: Basic not base64", "POST", t, Want::Json(E400_401))
            .form("grant_type=client_credentials")
            .header("authorization", "Basic ***"),
    );
    cases.push(
        case("token: Basic and post", "POST", t, Want::Json(E400_401))
            .form(format!(
                "grant_type=client_credentials&client_id={id}&client_secret=x"
            ))
            .header("authorization", target_auth.clone()),
    );
    cases.push(
        case("token: wrong code type", "POST", t, Want::Json(E400)).json(format!(
            r#"{{"grant_type":"authorization_code","code":["a"],"client_id":"{id}"}}"#
        )),
    );
    cases.push(
        case("token: 300-char code", "POST", t, Want::Json(E400))
            .form(format!(
                "grant_type=authorization_code&code={}&redirect_uri={}",
                "c".repeat(300),
                form_encode(good)
            ))
            .header("authorization", target_auth.clone()),
    );
    cases.push(
        case("token: upper-case path", "POST", "/OAUTH/TOKEN", Want::Json(E404))
            .form("grant_type=client_credentials"),
    );
    cases.push(
        case("token: trailing slash", "POST", "/oauth/token/", Want::Json(E404))
            .form("grant_type=client_credentials"),
    );
    cases.push(case("jwks: POST", "POST", "/.well-known/jwks.json", Want::Json(E405)).form("a=b"));
    cases.push(case(
        "metadata: DELETE",
        "DELETE",
        "/.well-known/oauth-authorization-server",
        Want::Json(E405),
    ));
    fx.run(s, cases);
}

/// RFC 7591/7592 and the admin API: hostile metadata (redirect URIs, types, depth, control
/// characters, sizes, tokens, traversal).
#[test]
fn hostile_metadata_gets_protocol_errors_and_changes_nothing() {
    let s = s();
    let fx = Hostile::new(s);
    let admin = &fx.admin;
    let rat = &fx.rat;
    let dcr_path = &fx.dcr_path;
    let good = GOOD;
    let id = fx.id();
    let created_owner = &fx.created_owner;
    let dcr = &fx.dcr;
    let mib = vec![b'a'; 1 << 20];
    let hostile_uris = hostile_uris();
    let mut cases: Vec<Case> = Vec::new();
    for u in hostile_uris {
        let tag: String = u.escape_debug().to_string().chars().take(40).collect();
        cases.push(
            case(
                format!("DCR redirect_uris {tag}"),
                "POST",
                "/oauth/register",
                Want::Json(E400),
            )
            .json(json!({"redirect_uris": [u], "client_name": "evil"}).to_string()),
        );
        cases.push(
            case(
                format!("RFC 7592 PUT redirect_uris {tag}"),
                "PUT",
                dcr_path.clone(),
                Want::Json(E400),
            )
            .header("authorization", rat.clone())
            .json(
                json!({"client_id": dcr["client_id"], "redirect_uris": [u], "client_name": "evil"})
                    .to_string(),
            ),
        );
        cases.push(
            case(
                format!("admin create redirect_uris {tag}"),
                "POST",
                "/admin/apps",
                Want::Json(E400),
            )
            .header("authorization", admin.clone())
            .json(json!({"name": "evil", "owner": created_owner, "redirect_uris": [u]}).to_string()),
        );
        cases.push(
            case(
                format!("admin PATCH redirect_uris {tag}"),
                "PATCH",
                format!("/admin/apps/{id}"),
                Want::Json(E400),
            )
            .header("authorization", admin.clone())
            .json(json!({"redirect_uris": [u]}).to_string()),
        );
    }
    for (name, body) in [
        (
            "wrong types",
            r#"{"name": 5, "redirect_uris": "https://a.example/cb", "trusted": "yes"}"#.to_string(),
        ),
        (
            "scopes object",
            format!(r#"{{"name":"x","owner":"{created_owner}","scopes":{{"a":1}}}}"#),
        ),
        ("10000 deep", String::from_utf8(nested_json(10_000)).unwrap()),
        (
            "NUL in name",
            format!(r#"{{"name":"a\u0000b","owner":"{created_owner}"}}"#),
        ),
        (
            "CR/LF in name",
            format!(r#"{{"name":"a\r\nX-Injected: 1","owner":"{created_owner}"}}"#),
        ),
        (
            "owner path",
            r#"{"name":"x","owner":"../../etc/passwd"}"#.to_string(),
        ),
        ("not JSON", "{name:".to_string()),
    ] {
        cases.push(
            case(
                format!("admin create: {name}"),
                "POST",
                "/admin/apps",
                Want::Json(E400),
            )
            .header("authorization", admin.clone())
            .json(body.clone()),
        );
        cases.push(
            case(
                format!("admin PATCH: {name}"),
                "PATCH",
                format!("/admin/apps/{id}"),
                Want::Json(E400),
            )
            .header("authorization", admin.clone())
            .json(body.clone()),
        );
        cases.push(
            case(
                format!("DCR: {name}"),
                "POST",
                "/oauth/register",
                Want::Json(E400),
            )
            .json(body.clone()),
        );
        cases.push(
            case(
                format!("RFC 7592 PUT: {name}"),
                "PUT",
                dcr_path.clone(),
                Want::Json(E400),
            )
            .header("authorization", rat.clone())
            .json(body),
        );
    }
    cases.push(
        case("admin create: non-UTF-8", "POST", "/admin/apps", Want::Json(E400))
            .header("authorization", admin.clone())
            .json(b"{\"name\":\"\xff\xfe\",\"owner\":\"x\"}".to_vec()),
    );
    cases.push(
        case("DCR: non-UTF-8", "POST", "/oauth/register", Want::Json(E400))
            .json(b"{\"redirect_uris\":[\"https://a.example/\xff\"]}".to_vec()),
    );
    cases.push(
        case("admin create: 1 MiB", "POST", "/admin/apps", Want::Json(E413))
            .header("authorization", admin.clone())
            .json(mib.clone()),
    );
    cases.push(case("DCR: 1 MiB", "POST", "/oauth/register", Want::Json(E413)).json(mib.clone()));
    cases.push(
        case("RFC 7592 PUT: 1 MiB", "PUT", dcr_path.clone(), Want::Json(E413))
            .header("authorization", rat.clone())
            .json(mib.clone()),
    );
    cases.push(case(
        "admin: no token",
        "GET",
        format!("/admin/apps/{id}"),
        Want::Json(E401),
    ));
    cases.push(
        case(
            "admin: 30 KB token",
            "GET",
            format!("/admin/apps/{id}"),
            Want::Json(E401),
        )
        .header("authorization", format!("Bearer {}", "a".repeat(30_000))),
    );
    cases.push(
        case(
            "admin: traversal",
            "GET",
            "/admin/apps/..%2F..%2Fetc%2Fpasswd",
            Want::Json(&[400, 404]),
        )
        .header("authorization", admin.clone()),
    );
    cases.push(
        case(
            "admin: traversal keys",
            "DELETE",
            format!("/admin/apps/{id}/keys/..%2F..%2Fetc%2Fpasswd"),
            Want::Json(&[400, 404]),
        )
        .header("authorization", admin.clone()),
    );
    cases.push(
        case(
            "RFC 7592: traversal",
            "GET",
            "/oauth/register/..%2F..%2Fadmin%2Fapps",
            Want::Json(E401),
        )
        .header("authorization", admin.clone()),
    );
    cases.push(
        case(
            "RFC 7592: other client's token",
            "GET",
            format!("/oauth/register/{id}"),
            Want::Json(E401),
        )
        .header("authorization", rat.clone()),
    );
    cases.push(
        case("RFC 7592: 30 KB token", "GET", dcr_path.clone(), Want::Json(E401))
            .header("authorization", format!("Bearer {}", "r".repeat(30_000))),
    );
    cases.push(
        case(
            "RFC 7592: PUT wrong client_id",
            "PUT",
            dcr_path.clone(),
            Want::Json(E400),
        )
        .header("authorization", rat.clone())
        .json(json!({"client_id": id, "redirect_uris": [good]}).to_string()),
    );
    cases.push(
        case("RFC 7592: POST", "POST", dcr_path.clone(), Want::Json(E405))
            .header("authorization", rat.clone())
            .json("{}"),
    );
    fx.run(s, cases);
}

/// Tokens: forged access tokens at userinfo, introspection and revocation, and forged app
/// assertions at both doors and as private_key_jwt client assertions.
#[test]
fn forged_tokens_and_assertions_get_protocol_errors_and_change_nothing() {
    let s = s();
    let fx = Hostile::new(s);
    let admin = &fx.admin;
    let target_auth = &fx.target_auth;
    let id = fx.id();
    let key = test_key(2);
    let access = &fx.access;
    let pkjwt = &fx.pkjwt;
    let mut cases: Vec<Case> = Vec::new();
    let jwks = s.jwks();
    let jwk = &jwks["keys"][0];
    let server_keys = vec![
        ("JWKS key as JSON", jwk.to_string().into_bytes()),
        ("JWKS key's n", b64url_decode(jwk["n"].as_str().unwrap())),
        (
            "JWKS key as PEM",
            public_pem(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap()).into_bytes(),
        ),
    ];
    for (what, forged) in forgeries(&access, &server_keys, test_key(3)) {
        let auth = bearer(&forged);
        cases.push(
            case(
                format!("userinfo: {what}"),
                "GET",
                "/oauth/userinfo",
                Want::Json(E401),
            )
            .header("authorization", auth.clone()),
        );
        cases.push(
            case(
                format!("v2 user: {what}"),
                "GET",
                format!("/oauth/v2/user?client_id={id}"),
                Want::Json(E401),
            )
            .header("authorization", auth),
        );
        cases.push(
            case(
                format!("introspect: {what}"),
                "POST",
                "/oauth/introspect",
                Want::Inactive,
            )
            .header("authorization", admin.clone())
            .form(form(&[("token", &forged)])),
        );
        cases.push(
            case(format!("revoke: {what}"), "POST", "/oauth/revoke", Want::Ok200)
                .header("authorization", target_auth.clone())
                .form(form(&[("token", &forged)])),
        );
    }
    cases.push(
        case(
            "userinfo: 30 KB bearer",
            "GET",
            "/oauth/userinfo",
            Want::Json(E401),
        )
        .header("authorization", format!("Bearer {}", "t".repeat(30_000))),
    );
    cases.push(case(
        "userinfo: token in query",
        "GET",
        format!("/oauth/userinfo?access_token={access}"),
        Want::Json(E400),
    ));
    cases.push(
        case(
            "userinfo: duplicated client_id",
            "GET",
            format!("/oauth/v2/user?client_id={id}&client_id={id}"),
            Want::Json(E400),
        )
        .header("authorization", bearer(&access)),
    );
    cases.push(
        case(
            "userinfo: NUL client_id",
            "GET",
            "/oauth/v2/user?client_id=a%00b",
            Want::Json(E400),
        )
        .header("authorization", bearer(&access)),
    );

    let app_keys = vec![
        (
            "app's public key as JSON",
            key.public_jwk().to_string().into_bytes(),
        ),
        ("app's public key as PEM", key.public_pem().into_bytes()),
    ];
    let aud = format!("{}/oauth/token", s.issuer());
    let assertion = key.sign(&app_claims(id, Some(&aud)));
    for (what, forged) in forgeries(&assertion, &app_keys, test_key(3)) {
        cases.push(
            case(
                format!("app token: {what}"),
                "POST",
                "/application/token",
                Want::Json(E401),
            )
            .header("authorization", bearer(&forged)),
        );
        cases.push(
            case(
                format!("jwt-bearer: {what}"),
                "POST",
                "/oauth/token",
                Want::Json(E400),
            )
            .form(form(&[("grant_type", JWT_BEARER), ("assertion", &forged)])),
        );
    }
    let client_assertion = key.sign(&client_assertion_claims(&pkjwt.id, &aud));
    for (what, forged) in forgeries(&client_assertion, &app_keys, test_key(3)) {
        cases.push(
            case(
                format!("private_key_jwt: {what}"),
                "POST",
                "/oauth/token",
                Want::Json(E400_401),
            )
            .form(form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &pkjwt.id),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &forged),
            ])),
        );
    }
    cases.push(
        case(
            "app token: a body",
            "POST",
            "/application/token",
            Want::Json(E400_401),
        )
        .header("authorization", bearer(&assertion))
        .form("a=b"),
    );
    cases.push(
        case(
            "app token: 30 KB bearer",
            "POST",
            "/application/token",
            Want::Json(E401),
        )
        .header("authorization", format!("Bearer {}", "j".repeat(30_000))),
    );
    fx.run(s, cases);
}

/// The authorization endpoint and the pages (HTML): hostile queries, redirect URIs, forms,
/// cookies and paths.
#[test]
fn hostile_authorize_and_page_inputs_get_protocol_errors_and_change_nothing() {
    let s = s();
    let fx = Hostile::new(s);
    let admin = &fx.admin;
    let good = GOOD;
    let id = fx.id();
    let person = &fx.person;
    let mib = vec![b'a'; 1 << 20];
    let hostile_uris = hostile_uris();
    let mut cases: Vec<Case> = Vec::new();
    let az = |q: &str| format!("/oauth/authorize?{q}");
    for (name, q) in [
        ("missing client_id", "response_type=code".to_string()),
        ("empty client_id", "response_type=code&client_id=".to_string()),
        (
            "duplicated client_id",
            format!("response_type=code&client_id={id}&client_id={id}"),
        ),
        (
            "duplicated redirect_uri",
            format!(
                "response_type=code&client_id={id}&redirect_uri={0}&redirect_uri={0}",
                form_encode(good)
            ),
        ),
        (
            "non-UTF-8",
            format!("response_type=code&client_id={id}&state=%FF"),
        ),
        ("NUL", format!("response_type=code&client_id={id}%00")),
        (
            "bad escape",
            format!("response_type=code&client_id={id}&scope=%G1"),
        ),
        (
            "client_id path",
            "response_type=code&client_id=..%2F..%2Fetc%2Fpasswd".to_string(),
        ),
        (
            "huge client_id",
            format!("response_type=code&client_id={}", "c".repeat(20_000)),
        ),
    ] {
        cases.push(case(
            format!("authorize: {name}"),
            "GET",
            az(&q),
            Want::Html(E400),
        ));
    }
    for u in hostile_uris.iter().chain(
        [
            "https://good.example/cb?x=1",
            "https://good.example/cb/",
            "https://good.example/CB",
            "https://good.example:443/cb",
            "https://good.example/cb%2F..%2Fevil",
        ]
        .iter(),
    ) {
        let tag: String = u.escape_debug().to_string().chars().take(40).collect();
        if u.is_empty() {
            continue; // empty = absent: the single registered URI is used
        }
        cases.push(case(
            format!("authorize: redirect_uri {tag}"),
            "GET",
            az(&form(&[
                ("response_type", "code"),
                ("client_id", id),
                ("redirect_uri", u),
                ("state", "s"),
            ])),
            Want::Html(E400),
        ));
    }
    cases.push(case(
        "authorize: CR/LF in state",
        "GET",
        az(&form(&[
            ("response_type", "token"),
            ("client_id", id),
            ("redirect_uri", good),
            ("state", "a\r\nSet-Cookie: injected=1"),
        ])),
        Want::Html(E400),
    ));
    // CR/LF in a state that is otherwise fine for a redirect: refused as a page (control
    // characters never reach a Location header).
    cases.push(case(
        "authorize: encoded CR/LF after an error",
        "GET",
        az(&form(&[
            ("response_type", "token"),
            ("client_id", id),
            ("redirect_uri", good),
            ("state", "a%0D%0ASet-Cookie:%20injected=1"),
        ])),
        Want::RegisteredRedirect(good),
    ));
    cases.push(case("authorize: PUT", "PUT", az(""), Want::Early(E405)));
    cases.push(
        case(
            "consent POST: 1 MiB",
            "POST",
            "/oauth/authorize",
            Want::Early(E413),
        )
        .form(mib.clone()),
    );
    cases.push(case("apps: 1 MiB", "POST", "/apps", Want::Early(E413)).form(mib.clone()));
    cases.push(
        case(
            "registration page: 1 MiB",
            "POST",
            "/oauth/register",
            Want::Early(E413),
        )
        .form(mib.clone()),
    );
    let consent_post = |name: &str, body: Vec<u8>, want: Want| {
        case(format!("consent POST: {name}"), "POST", "/oauth/authorize", want).form(body)
    };
    cases.push(consent_post(
        "non-UTF-8",
        b"client_id=\xff".to_vec(),
        Want::Html(E400),
    ));
    cases.push(consent_post(
        "no csrf",
        form(&[
            ("response_type", "code"),
            ("client_id", id),
            ("decision", "allow"),
        ])
        .into_bytes(),
        Want::Html(&[403]),
    ));
    cases.push(consent_post(
        "duplicated decision",
        format!("client_id={id}&decision=allow&decision=allow").into_bytes(),
        Want::Html(E400),
    ));
    cases.push(
        case("consent POST: JSON", "POST", "/oauth/authorize", Want::Html(E415))
            .json(format!(r#"{{"client_id":"{id}","decision":"allow"}}"#)),
    );
    cases.push(
        case(
            "consent POST: 30 KB cookie",
            "POST",
            "/oauth/authorize",
            Want::Html(&[403]),
        )
        .form(form(&[
            ("response_type", "code"),
            ("client_id", id),
            ("decision", "allow"),
            ("csrf", &"c".repeat(43)),
        ]))
        .header(
            "cookie",
            format!(
                "portcullis_csrf={}; portcullis_session={}",
                "d".repeat(15_000),
                "e".repeat(15_000)
            ),
        ),
    );
    for (path, name) in [
        ("/login", "log-in"),
        ("/signup", "sign-up"),
        ("/logout", "log-out"),
        ("/oauth/register/confirm", "registration confirm"),
    ] {
        cases.push(
            case(format!("{name}: non-UTF-8"), "POST", path, Want::Html(E400))
                .form(b"email=\xff&csrf=\xfe".to_vec()),
        );
        cases.push(
            case(format!("{name}: NUL"), "POST", path, Want::Html(E400_403)).form("email=a%00b&csrf=c%00"),
        );
        cases.push(
            case(format!("{name}: duplicated"), "POST", path, Want::Html(E400)).form("csrf=a&csrf=b&email=x"),
        );
        cases.push(
            case(format!("{name}: no csrf"), "POST", path, Want::Html(E400_403))
                .form(form(&[("email", &person.email), ("password", &person.password)])),
        );
        cases.push(
            case(format!("{name}: JSON"), "POST", path, Want::Html(&[400, 415])).json(r#"{"email":"x"}"#),
        );
        cases.push(case(format!("{name}: PUT"), "PUT", path, Want::Early(E405)));
        cases.push(case(format!("{name}: 1 MiB"), "POST", path, Want::Early(E413)).form(mib.clone()));
    }
    cases.push(
        case(
            "log-in: CR/LF in return_to",
            "POST",
            "/login",
            Want::Html(E400_403),
        )
        .form(form(&[
            ("return_to", "/x\r\nSet-Cookie: injected=1"),
            ("email", "a@b.example"),
            ("password", "12345678"),
        ])),
    );
    cases.push(case(
        "registration page: non-UTF-8",
        "GET",
        "/oauth/register?name=%FF",
        Want::Html(E400),
    ));
    cases.push(case(
        "registration page: NUL",
        "GET",
        "/oauth/register?name=a%00",
        Want::Html(E400),
    ));
    cases.push(case(
        "registration page: duplicated",
        "GET",
        "/oauth/register?name=a&name=b",
        Want::Html(E400),
    ));
    cases.push(
        case(
            "registration page: form non-UTF-8",
            "POST",
            "/oauth/register",
            Want::Html(E400),
        )
        .form(b"name=\xff".to_vec()),
    );
    cases.push(case(
        "registration page: CR/LF in state",
        "GET",
        format!(
            "/oauth/register?{}",
            form(&[
                ("name", "n"),
                ("homepage", "https://a.example"),
                ("email", "a@a.example"),
                ("redirect_uri", "https://a.example/cb"),
                ("state", "x\r\nSet-Cookie: injected=1")
            ])
        ),
        Want::Html(E400),
    ));
    cases.push(
        case("apps: add non-UTF-8", "POST", "/apps", Want::Html(E400))
            .header("authorization", admin.clone())
            .form(b"name=\xff".to_vec()),
    );
    cases.push(
        case(
            "apps: traversal",
            "POST",
            "/apps/..%2F..%2Fetc%2Fpasswd/regenerate",
            Want::Html(&[400, 404]),
        )
        .header("authorization", admin.clone())
        .form("confirm=yes"),
    );
    cases.push(
        case(
            "apps: unknown action",
            "POST",
            format!("/apps/{id}/delete"),
            Want::Json(E404),
        )
        .header("authorization", admin.clone())
        .form("confirm=yes"),
    );
    cases.push(
        case(
            "apps: not signed in",
            "POST",
            format!("/apps/{id}/remove"),
            Want::SeeOther("/login?"),
        )
        .form("confirm=yes"),
    );
    cases.push(case("unknown path", "GET", "/etc/passwd", Want::Json(E404)));
    cases.push(case(
        "unknown path traversal",
        "GET",
        "/%2e%2e/%2e%2e/etc/passwd",
        Want::Json(E404),
    ));
    fx.run(s, cases);
}

/// A percent-encoded `@` in the host (`https://good.example%40evil.example/cb`) is refused like
/// the plain userinfo form: no browser can navigate to such a URI (the WHATWG URL parser
/// decodes the host and fails on `@`), and a URL parser that decodes before splitting sees
/// `good.example` as userinfo and `evil.example` as the host.
#[test]
fn percent_encoded_userinfo_in_redirect_uris_is_refused() {
    let s = s();
    let uri = "https://good.example%40evil.example/cb";
    let mut problems = Vec::new();
    let r = s.post_app(&json!({"name": "pct", "owner": owner("pct"), "redirect_uris": [uri]}));
    if r.status != 400 || r.error() != "invalid_redirect_uri" {
        problems.push(format!("admin create: {} {}", r.status, r.text()));
    }
    let r = s.post_json("/oauth/register", &json!({"redirect_uris": [uri]}));
    if r.status != 400 || r.error() != "invalid_redirect_uri" {
        problems.push(format!("RFC 7591: {} {}", r.status, r.text()));
    }
    let (b, _) = Browser::signed_up(s, "pct");
    let page = b.get(&format!(
        "/oauth/register?{}",
        form(&[
            ("name", "n"),
            ("homepage", "https://a.example"),
            ("email", "a@a.example"),
            ("redirect_uri", uri)
        ])
    ));
    if page.status != 400 || !page.text().contains("redirect URI") {
        problems.push(format!("registration page: {} {}", page.status, page.text()));
    }
    assert!(
        problems.is_empty(),
        "{uri} was accepted as a redirect URI:\n{}",
        problems.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// CORS
// ---------------------------------------------------------------------------------------------

/// CORS is allowed on the API endpoints (token, revocation, metadata, JWKS, JSON registration,
/// userinfo) and their preflights.
#[test]
fn cors_on_api_endpoints_and_their_preflights() {
    let s = s();
    let origin = ("origin", "https://spa.example");
    let app = s.trusted_app(&["public"]);
    let c = Client::web(s, &["public"]);
    let (b, _) = Browser::signed_up(s, "cors");
    let (access, _, _) = c.tokens(s, &b, "public");
    let acao = |r: &Resp| r.header("access-control-allow-origin").map(str::to_owned);

    // Allowed: token, revocation, metadata, JWKS, JSON registration, userinfo; preflights too.
    let auth = basic(&app.id, app.secret());
    let allowed = [
        s.post_form_with(
            "/oauth/token",
            &[("grant_type", "client_credentials")],
            &[("authorization", &auth), origin],
        ),
        s.post_form_with("/oauth/token", &[("grant_type", "client_credentials")], &[origin]),
        s.post_form_with(
            "/oauth/v2/access_token",
            &[("grant_type", "client_credentials")],
            &[("authorization", &auth), origin],
        ),
        s.post_form_with(
            "/oauth/revoke",
            &[("token", "x")],
            &[("authorization", &auth), origin],
        ),
        s.get_with("/.well-known/oauth-authorization-server", &[origin]),
        s.get_with("/.well-known/jwks.json", &[origin]),
        s.post_json_with(
            "/oauth/register",
            &json!({"redirect_uris": ["https://spa.example/cb"]}),
            &[origin],
        ),
        s.post_json_with(
            "/oauth/register",
            &json!({"redirect_uris": ["http://spa.example/cb"]}),
            &[origin],
        ),
        s.get_with("/oauth/userinfo", &[("authorization", &bearer(&access)), origin]),
    ];
    for r in &allowed {
        assert_eq!(
            acao(r).as_deref(),
            Some("*"),
            "{}: CORS must be allowed ({})",
            r.what,
            r.status
        );
    }
    for path in [
        "/oauth/token",
        "/oauth/revoke",
        "/oauth/register",
        "/.well-known/jwks.json",
    ] {
        let r = s.request(
            "OPTIONS",
            path,
            Req {
                headers: &[
                    origin,
                    ("access-control-request-method", "POST"),
                    ("access-control-request-headers", "authorization, content-type"),
                ],
                ..Default::default()
            },
        );
        assert!(
            r.status == 204 || r.status == 200,
            "preflight {path}: {}",
            r.status
        );
        assert_eq!(acao(&r).as_deref(), Some("*"), "preflight {path}");
        let methods = r.header("access-control-allow-methods").unwrap_or("");
        assert!(methods.contains("POST"), "preflight {path}: {methods}");
        assert!(r
            .header("access-control-allow-headers")
            .unwrap_or("")
            .contains("authorization"));
    }
}

/// CORS is never allowed on the authorization endpoint (any answer), the HTML pages or the
/// admin API.
#[test]
fn cors_never_on_authorize_pages_or_admin() {
    let s = s();
    let origin = ("origin", "https://spa.example");
    let c = Client::web(s, &["public"]);
    let (b, _) = Browser::signed_up(s, "cors-never");
    let acao = |r: &Resp| r.header("access-control-allow-origin").map(str::to_owned);

    // Never: the authorization endpoint (any answer) and the HTML pages, nor the admin API.
    let never = [
        b.get(&c.authorize_path("public", None)),
        s.get_with(&c.authorize_path("public", None), &[origin]),
        s.get_with(&authorize_path(&[("client_id", &"x".repeat(32))]), &[origin]),
        s.post_form_with("/oauth/authorize", &[("client_id", c.id())], &[origin]),
        s.get_with("/login", &[origin]),
        s.get_with("/signup", &[origin]),
        s.get_with("/", &[origin]),
        b.get("/apps"),
        s.get_with("/oauth/register?name=x", &[origin]),
        s.post_form_with("/oauth/register", &[("name", "x")], &[origin]),
        s.post_form_with("/login", &[("email", "x")], &[origin]),
        s.admin("GET", "/admin/apps", None),
        s.request(
            "OPTIONS",
            "/oauth/authorize",
            Req {
                headers: &[origin, ("access-control-request-method", "GET")],
                ..Default::default()
            },
        ),
        s.request(
            "OPTIONS",
            "/login",
            Req {
                headers: &[origin, ("access-control-request-method", "POST")],
                ..Default::default()
            },
        ),
        s.request(
            "OPTIONS",
            "/oauth/register",
            Req {
                headers: &[origin, ("access-control-request-method", "POST")],
                ..Default::default()
            },
        ),
    ];
    // (An OPTIONS preflight for /oauth/register is allowed: the JSON form is CORS-enabled, and a
    // preflight cannot tell which form will follow. The form POST itself gets no CORS header.)
    for r in never.iter().take(never.len() - 1) {
        assert!(
            acao(r).is_none(),
            "{} ({}): no CORS here: {:?}",
            r.what,
            r.status,
            r.headers
        );
        assert!(r.header("access-control-allow-credentials").is_none());
    }
}
