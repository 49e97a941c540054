//! Sign-in with another identity provider, against a scripted upstream (`MemPlatform::upstream`):
//! an OpenID Connect provider found by discovery (ID tokens signed by a test key, its JWKS),
//! and a GitHub-style OAuth 2 provider with a userinfo URL. The happy paths, then every way
//! the answer can be wrong: replayed or foreign state, nonce, `iss`, `aud`, expiry, signature,
//! the upstream's own errors, a broken token endpoint; and the account rules: a new account
//! under the people quota, linking to an existing one only with a verified email and its
//! password (or its session).

use super::support::*;
use crate::config::Config;
use crate::http::{Request, Response};
use crate::platform::memory::MemPlatform;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::Rc;

const IDP: &str = "https://idp.example";
const CLIENT: &str = "portcullis-at-idp";

/// What the scripted upstream answers; tests change it between steps.
#[derive(Default)]
struct Idp {
    /// The ID token's claims (signed by `test_key(signer)` under key 0's kid).
    claims: Value,
    signer: usize,
    /// Overrides the token endpoint's answer (`Some(None)`: no answer).
    token_answer: Option<Option<Response>>,
    userinfo: Value,
    /// The PKCE challenge of the last authorization request.
    challenge: String,
    discovery_extra: Value,
    /// Sent instead of a signed ID token.
    raw_id_token: Option<String>,
    /// Overrides the JWKS answer.
    jwks_answer: Option<Response>,
}

fn json_resp(status: u16, v: &Value) -> Response {
    Response::json(status, v)
}

fn script(idp: Rc<RefCell<Idp>>) -> Box<crate::platform::memory::UpstreamScript> {
    Box::new(move |url: &str, req: &Request| {
        let s = idp.borrow();
        let key = test_key(0);
        match url {
            "https://idp.example/.well-known/openid-configuration" => {
                let mut doc = json!({
                    "issuer": IDP,
                    "authorization_endpoint": "https://idp.example/auth",
                    "token_endpoint": "https://idp.example/token",
                    "userinfo_endpoint": "https://idp.example/me",
                    "jwks_uri": "https://idp.example/jwks",
                });
                if let (Some(d), Some(extra)) = (doc.as_object_mut(), s.discovery_extra.as_object()) {
                    d.extend(extra.clone());
                }
                Some(json_resp(200, &doc))
            }
            "https://idp.example/jwks" => {
                if let Some(a) = &s.jwks_answer {
                    return Some(a.clone());
                }
                let mut jwk = key.public_jwk();
                jwk["kid"] = json!(key.kid);
                jwk["use"] = json!("sig");
                Some(json_resp(200, &json!({"keys": [jwk]})))
            }
            "https://idp.example/token" | "https://gh.example/token" => {
                if let Some(a) = &s.token_answer {
                    return a.clone();
                }
                let f = crate::http::params::Params::parse_form(&req.body).unwrap();
                let verifier = f.get("code_verifier").unwrap_or("");
                let ok = crate::util::b64url(&crate::util::sha256(verifier.as_bytes())) == s.challenge
                    && f.get("code") == Some("the-code")
                    && f.get("grant_type") == Some("authorization_code");
                if !ok {
                    return Some(json_resp(400, &json!({"error": "invalid_grant"})));
                }
                let id_token = s.raw_id_token.clone().unwrap_or_else(|| {
                    test_key(s.signer).sign_alg(jsonwebtoken::Algorithm::RS256, &s.claims, Some(&key.kid))
                });
                Some(json_resp(
                    200,
                    &json!({"access_token": "at-1", "token_type": "Bearer", "id_token": id_token}),
                ))
            }
            "https://idp.example/me" | "https://gh.example/user" => {
                (req.header("authorization") == Some("Bearer at-1")).then(|| json_resp(200, &s.userinfo))
            }
            _ => None,
        }
    })
}

fn providers() -> String {
    json!([
        {"id": "idp", "name": "Test IdP", "type": "oidc", "issuer": IDP, "client_id": CLIENT},
        {"id": "gh", "name": "Hub", "type": "oauth2", "client_id": "gh-client", "token_auth": "client_secret_post",
         "authorization_endpoint": "https://gh.example/authorize", "token_endpoint": "https://gh.example/token",
         "userinfo_endpoint": "https://gh.example/user",
         "fields": {"id": "id", "email": "email", "email_verified": "email_verified", "name": "login"}}
    ])
    .to_string()
}

fn setup_with(max_people: Option<&str>) -> (MemPlatform, Rc<RefCell<Idp>>) {
    let json = providers();
    let cfg = Config::from_vars(|k| match k {
        "UPSTREAM_PROVIDERS" => Some(json.clone()),
        "UPSTREAM_IDP_CLIENT_SECRET" => Some("idp-secret".into()),
        "UPSTREAM_GH_CLIENT_SECRET" => Some("gh-secret".into()),
        "MAX_PEOPLE" => max_people.map(str::to_owned),
        _ => None,
    });
    assert!(cfg.upstream_problems.is_empty(), "{:?}", cfg.upstream_problems);
    let p = platform_with(cfg);
    let idp = Rc::new(RefCell::new(Idp::default()));
    *p.upstream.borrow_mut() = Some(script(idp.clone()));
    (p, idp)
}

fn setup() -> (MemPlatform, Rc<RefCell<Idp>>) {
    setup_with(None)
}

/// Starts a sign-in; answers the `state` and `nonce` sent, and records the PKCE challenge.
fn start(p: &MemPlatform, idp: &Rc<RefCell<Idp>>, b: &mut Browser, id: &str) -> (String, String) {
    let r = b.get(p, &format!("/login/upstream/{id}?return_to=/after"));
    assert_eq!(r.status, 303, "{}", text(&r));
    let loc = r.get_header("location").unwrap().to_owned();
    assert_eq!(
        query_param(&loc, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(
        query_param(&loc, "redirect_uri").as_deref(),
        Some(format!("{ORIGIN}/login/upstream/{id}/callback").as_str())
    );
    idp.borrow_mut().challenge = query_param(&loc, "code_challenge").unwrap();
    (
        query_param(&loc, "state").unwrap(),
        query_param(&loc, "nonce").unwrap_or_default(),
    )
}

fn claims(p: &MemPlatform, nonce: &str, sub: &str, email: &str, verified: bool) -> Value {
    let now = now(p);
    json!({"iss": IDP, "aud": CLIENT, "sub": sub, "email": email, "email_verified": verified,
           "name": "Alice Upstream", "nonce": nonce, "iat": now, "exp": now + 300})
}

fn callback(p: &MemPlatform, b: &mut Browser, id: &str, state: &str, extra: &str) -> Response {
    b.get(
        p,
        &format!("/login/upstream/{id}/callback?code=the-code&state={state}{extra}"),
    )
}

/// A whole OIDC sign-in of `sub`/`email`, with the claims changed by `tweak`.
fn oidc_sign_in(
    p: &MemPlatform,
    idp: &Rc<RefCell<Idp>>,
    b: &mut Browser,
    sub: &str,
    email: &str,
    verified: bool,
    tweak: impl Fn(&mut Value),
) -> Response {
    let (state, nonce) = start(p, idp, b, "idp");
    let mut c = claims(p, &nonce, sub, email, verified);
    tweak(&mut c);
    idp.borrow_mut().claims = c;
    callback(p, b, "idp", &state, "")
}

fn signed_in_as(p: &MemPlatform, b: &mut Browser) -> String {
    text(&b.get(p, "/"))
}

/// The amr of every session the platform holds.
fn session_amrs(p: &MemPlatform) -> Vec<Value> {
    use crate::objects::kv::Kv;
    p.shards
        .borrow()
        .iter()
        .filter(|(k, _)| k.starts_with("session:"))
        .filter_map(|(_, kv)| kv.get("session").unwrap())
        .map(|s| serde_json::from_str::<Value>(&s).unwrap()["amr"].clone())
        .collect()
}

/// How many upstream identities are linked, and whether an email has an account (an object
/// called once exists in memory even when empty, so the keys inside are what count).
fn links(p: &MemPlatform) -> usize {
    use crate::objects::kv::Kv;
    p.shards
        .borrow()
        .iter()
        .filter(|(k, kv)| k.starts_with("idlink:") && kv.get("link").unwrap().is_some())
        .count()
}

fn has_account(p: &MemPlatform, email: &str) -> bool {
    use crate::objects::kv::Kv;
    p.shards
        .borrow()
        .get(&format!("email:{email}"))
        .is_some_and(|kv| kv.get("account").unwrap().is_some())
}

#[track_caller]
fn expect_page(r: &Response, status: u16, says: &str) -> String {
    let t = text(r);
    assert_eq!(r.status, status, "{t}");
    assert!(
        r.get_header("content-type").unwrap().starts_with("text/html"),
        "{t}"
    );
    assert!(t.contains(says), "page does not say {says:?}: {t}");
    assert!(
        r.get_header("set-cookie")
            .is_none_or(|c| !c.contains("portcullis_session=")),
        "a session started"
    );
    t
}

#[test]
fn login_page_offers_each_provider_keeping_return_to() {
    let (p, _) = setup();
    let r = send(
        &p,
        req("GET", "/login?return_to=/oauth/authorize%3Fx%3D1", &[], ""),
    );
    let t = text(&r);
    assert!(
        t.contains("Continue with Test IdP") && t.contains("Continue with Hub"),
        "{t}"
    );
    assert!(
        t.contains(r#"href="/login/upstream/idp?return_to=%2Foauth%2Fauthorize%3Fx%3D1""#),
        "{t}"
    );
    // The form shown again after a wrong password offers them too.
    let mut b = Browser::default();
    let csrf = csrf_of(&b.get(&p, "/login"));
    let r = b.post(&p, "/login", &form(&[("csrf", &csrf), ("email", "nobody@example.com"), ("password", "wrong-password-9"), ("return_to", "/account")]));
    assert_eq!(r.status, 401);
    assert!(text(&r).contains(r#"href="/login/upstream/idp?return_to=%2Faccount""#), "{}", text(&r));
    // No providers configured: no buttons.
    let plain = platform();
    assert!(!text(&send(&plain, req("GET", "/login", &[], ""))).contains("Continue with"));
    expect_page(
        &send(&plain, req("GET", "/login/upstream/idp", &[], "")),
        404,
        "no such sign-in option",
    );
    // An entry that did not load: left out, and its start route says it is misconfigured.
    let bad = json!([{"id": "broken", "name": "B", "type": "oidc", "issuer": "http://not-loopback.example", "client_id": "c"}]).to_string();
    let p = platform_with(Config::from_vars(|k| {
        (k == "UPSTREAM_PROVIDERS").then(|| bad.clone())
    }));
    assert_eq!(p.config.upstream_problems.len(), 1);
    assert!(!text(&send(&p, req("GET", "/login", &[], ""))).contains("Continue with"));
    expect_page(
        &send(&p, req("GET", "/login/upstream/broken", &[], "")),
        503,
        "not configured correctly",
    );
    expect_page(
        &send(&p, req("GET", "/login/upstream/broken/callback?state=x", &[], "")),
        503,
        "not configured correctly",
    );
    assert_eq!(
        send(&p, req("POST", "/login/upstream/idp/callback", &[], "")).status,
        405
    );
    assert_eq!(
        send(&p, req("GET", "/login/upstream/idp/other", &[], "")).status,
        404
    );
}

#[test]
fn oidc_happy_path_makes_an_account_then_signs_in_to_it() {
    let (p, idp) = setup();
    let mut b = Browser::default();
    let r = oidc_sign_in(&p, &idp, &mut b, "alice-sub", "Alice@Example.com", true, |_| {});
    assert_eq!(r.status, 303, "{}", text(&r));
    assert_eq!(r.get_header("location"), Some("/after"));
    assert!(signed_in_as(&p, &mut b).contains("alice@example.com"));
    assert_eq!(session_amrs(&p), vec![json!(["fed"])]);
    // The token request: the code, the verifier, the secret by client_secret_basic.
    let token_req = p
        .upstream_requests
        .borrow()
        .iter()
        .find(|(u, _)| u.ends_with("/token"))
        .unwrap()
        .1
        .clone();
    assert!(token_req.header("authorization").unwrap().starts_with("Basic "));
    // A second sign-in (another browser) reaches the same account. The upstream's own amr is
    // not taken on (an `mfa` there must not skip this server's second factor): `fed`.
    let mut b2 = Browser::default();
    let r = oidc_sign_in(&p, &idp, &mut b2, "alice-sub", "alice@example.com", true, |c| {
        c["amr"] = json!(["pwd", "mfa"])
    });
    assert_eq!(r.status, 303, "{}", text(&r));
    assert!(signed_in_as(&p, &mut b2).contains("alice@example.com"));
    assert!(!session_amrs(&p).contains(&json!(["pwd", "mfa"])));
    assert!(session_amrs(&p).iter().all(|a| *a == json!(["fed"])), "{:?}", session_amrs(&p));
    // The account has no password: no password logs in to it.
    let mut b3 = Browser::default();
    let csrf = csrf_of(&b3.get(&p, "/login"));
    let r = b3.post(
        &p,
        "/login",
        &form(&[("csrf", &csrf), ("email", "alice@example.com"), ("password", "")]),
    );
    assert_eq!(r.status, 401);
}

#[test]
fn oidc_claims_missing_from_the_id_token_come_from_userinfo() {
    let (p, idp) = setup();
    idp.borrow_mut().userinfo = json!({"sub": "bob-sub", "email": "bob@example.com", "email_verified": true});
    let mut b = Browser::default();
    let r = oidc_sign_in(&p, &idp, &mut b, "bob-sub", "", true, |c| {
        c.as_object_mut().unwrap().remove("email");
    });
    assert_eq!(r.status, 303, "{}", text(&r));
    assert!(signed_in_as(&p, &mut b).contains("bob@example.com"));
}

#[test]
fn oauth2_happy_path_with_a_userinfo_url() {
    let (p, idp) = setup();
    idp.borrow_mut().userinfo =
        json!({"id": 4242, "login": "octo", "email": "octo@example.com", "email_verified": true});
    let mut b = Browser::default();
    let (state, nonce) = start(&p, &idp, &mut b, "gh");
    assert!(nonce.is_empty(), "no nonce for plain OAuth 2");
    let r = callback(&p, &mut b, "gh", &state, "");
    assert_eq!(r.status, 303, "{}", text(&r));
    let page = signed_in_as(&p, &mut b);
    assert!(
        page.contains("octo@example.com") && page.contains("octo"),
        "{page}"
    );
    let token_req = p
        .upstream_requests
        .borrow()
        .iter()
        .find(|(u, _)| u == "https://gh.example/token")
        .unwrap()
        .1
        .clone();
    let f = crate::http::params::Params::parse_form(&token_req.body).unwrap();
    assert_eq!(
        (f.get("client_id"), f.get("client_secret")),
        (Some("gh-client"), Some("gh-secret"))
    );
    // No id: refused on a page.
    idp.borrow_mut().userinfo = json!({"login": "x"});
    let (state, _) = start(&p, &idp, &mut b, "gh");
    expect_page(&callback(&p, &mut b, "gh", &state, ""), 403, "names no user id");
}

#[test]
fn a_state_is_used_once_and_only_in_its_browser() {
    let (p, idp) = setup();
    let mut b = Browser::default();
    let (state, nonce) = start(&p, &idp, &mut b, "idp");
    idp.borrow_mut().claims = claims(&p, &nonce, "s1", "s1@example.com", true);
    // Another browser (the attacker's, or one without the cookie) cannot use it, and using it
    // there spends it.
    let mut other = Browser::default();
    other.get(&p, "/login");
    expect_page(
        &callback(&p, &mut other, "idp", &state, ""),
        400,
        "another browser",
    );
    expect_page(
        &callback(&p, &mut b, "idp", &state, ""),
        400,
        "expired or was already used",
    );
    // A fresh state works once; its replay does not.
    let (state, nonce) = start(&p, &idp, &mut b, "idp");
    idp.borrow_mut().claims = claims(&p, &nonce, "s1", "s1@example.com", true);
    assert_eq!(callback(&p, &mut b, "idp", &state, "").status, 303);
    let mut b2 = Browser {
        cookies: b.cookies.clone(),
    };
    expect_page(
        &callback(&p, &mut b2, "idp", &state, ""),
        400,
        "expired or was already used",
    );
    // No state, an unknown one, one of another provider, one past its life.
    expect_page(&b.get(&p, "/login/upstream/idp/callback?code=x"), 400, "no state");
    expect_page(
        &callback(&p, &mut b, "idp", "made-up", ""),
        400,
        "expired or was already used",
    );
    let (state, _) = start(&p, &idp, &mut b, "idp");
    expect_page(&callback(&p, &mut b, "gh", &state, ""), 400, "another provider");
    let (state, _) = start(&p, &idp, &mut b, "idp");
    p.advance(601);
    expect_page(
        &callback(&p, &mut b, "idp", &state, ""),
        400,
        "expired or was already used",
    );
}

#[test]
fn id_token_rules() {
    let (p, idp) = setup();
    let cases: Vec<(&str, Box<dyn Fn(&mut Value)>, &str)> = vec![
        (
            "wrong nonce",
            Box::new(|c| c["nonce"] = json!("another")),
            "nonce",
        ),
        (
            "no nonce",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("nonce");
            }),
            "no nonce",
        ),
        (
            "wrong iss",
            Box::new(|c| c["iss"] = json!("https://evil.example")),
            "another issuer",
        ),
        (
            "wrong aud",
            Box::new(|c| c["aud"] = json!("someone-else")),
            "another client",
        ),
        (
            "aud list, azp of another",
            Box::new(|c| {
                c["aud"] = json!([CLIENT, "x"]);
                c["azp"] = json!("x");
            }),
            "another client",
        ),
        (
            "expired",
            Box::new(|c| {
                c["exp"] = json!(c["iat"].as_i64().unwrap() - 600);
            }),
            "expired",
        ),
        (
            "no exp",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
            "no expiry",
        ),
        (
            "issued in the future",
            Box::new(|c| {
                c["iat"] = json!(c["iat"].as_i64().unwrap() + 3600);
            }),
            "future",
        ),
        (
            "no sub",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("sub");
            }),
            "no subject",
        ),
    ];
    for (what, tweak, says) in cases {
        let mut b = Browser::default();
        let r = oidc_sign_in(&p, &idp, &mut b, "t-sub", "t@example.com", true, tweak);
        let t = text(&r);
        assert_eq!(r.status, 403, "{what}: {t}");
        assert!(t.contains(says), "{what}: {t}");
    }
    // Signed by a key that is not in the upstream's JWKS (under its kid).
    idp.borrow_mut().signer = 1;
    let mut b = Browser::default();
    expect_page(
        &oidc_sign_in(&p, &idp, &mut b, "t-sub", "t@example.com", true, |_| {}),
        403,
        "signature does not verify",
    );
    idp.borrow_mut().signer = 0;
    // Nothing above made an account or a link.
    assert_eq!(links(&p), 0);
    assert!(!has_account(&p, "t@example.com"));
    let ok = oidc_sign_in(&p, &idp, &mut b, "t-sub", "t@example.com", true, |_| {});
    assert_eq!(ok.status, 303, "{}", text(&ok));
}

#[test]
fn iss_response_parameter() {
    let (p, idp) = setup();
    let mut b = Browser::default();
    let (state, nonce) = start(&p, &idp, &mut b, "idp");
    idp.borrow_mut().claims = claims(&p, &nonce, "i", "i@example.com", true);
    expect_page(
        &callback(&p, &mut b, "idp", &state, "&iss=https%3A%2F%2Fevil.example"),
        403,
        "another issuer (iss)",
    );
    let (state, nonce) = start(&p, &idp, &mut b, "idp");
    idp.borrow_mut().claims = claims(&p, &nonce, "i", "i@example.com", true);
    assert_eq!(
        callback(&p, &mut b, "idp", &state, "&iss=https%3A%2F%2Fidp.example").status,
        303
    );
    // The upstream says it always sends iss: its absence is refused.
    idp.borrow_mut().discovery_extra = json!({"authorization_response_iss_parameter_supported": true});
    let (state, nonce) = start(&p, &idp, &mut b, "idp");
    idp.borrow_mut().claims = claims(&p, &nonce, "i", "i@example.com", true);
    expect_page(
        &callback(&p, &mut b, "idp", &state, ""),
        403,
        "did not name its issuer",
    );
}

#[test]
fn the_upstreams_errors_are_shown_on_a_page() {
    let (p, idp) = setup();
    let mut b = Browser::default();
    let (state, _) = start(&p, &idp, &mut b, "idp");
    let r = b.get(
        &p,
        &format!("/login/upstream/idp/callback?state={state}&error=access_denied"),
    );
    expect_page(
        &r,
        403,
        "Signing in with Test IdP did not work: access was denied",
    );
    let (state, _) = start(&p, &idp, &mut b, "idp");
    let r = b.get(&p, &format!("/login/upstream/idp/callback?state={state}&error=server_error&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E"));
    let t = expect_page(&r, 403, "server_error (&lt;script&gt;alert(1)&lt;/script&gt;)");
    assert!(!t.contains("<script>"));
    // The token endpoint: a 500, something not JSON, an oversized answer, no answer, a refusal.
    let answers: Vec<(Option<Response>, u16, &str)> = vec![
        (
            Some(Response::new(500, "text/plain", "boom")),
            503,
            "answered HTTP 500",
        ),
        (Some(Response::new(200, "text/html", "<html>")), 503, "not JSON"),
        (
            Some(Response::new(200, "application/json", vec![b' '; 70_000])),
            503,
            "too large",
        ),
        (None, 503, "did not answer"),
        (
            Some(json_resp(
                400,
                &json!({"error": "invalid_grant", "error_description": "code <used>"}),
            )),
            403,
            "invalid_grant: code &lt;used&gt;",
        ),
        (
            Some(json_resp(200, &json!({"access_token": "at-1"}))),
            403,
            "no ID token",
        ),
    ];
    for (answer, status, says) in answers {
        idp.borrow_mut().token_answer = Some(answer);
        let (state, _) = start(&p, &idp, &mut b, "idp");
        let t = expect_page(&callback(&p, &mut b, "idp", &state, ""), status, says);
        assert!(!t.contains("internal"), "{t}");
    }
    // The upstream unreachable at the start: a page, not a 500.
    *p.upstream.borrow_mut() = None;
    expect_page(&b.get(&p, "/login/upstream/idp"), 503, "could not be reached");
}

#[test]
fn an_existing_account_is_linked_only_with_a_verified_email_and_its_password() {
    let (p, idp) = setup();
    let mut owner = signed_in(&p, "carol@example.com");
    // Unverified at the upstream: never linked, whoever asks.
    let mut b = Browser::default();
    let r = oidc_sign_in(&p, &idp, &mut b, "carol-sub", "carol@example.com", false, |_| {});
    expect_page(&r, 403, "does not say this email is verified");
    let r = oidc_sign_in(
        &p,
        &idp,
        &mut owner,
        "carol-sub",
        "carol@example.com",
        false,
        |_| {},
    );
    expect_page(&r, 403, "does not say this email is verified");
    assert_eq!(links(&p), 0);
    // Verified: the person must give the account's password.
    let r = oidc_sign_in(&p, &idp, &mut b, "carol-sub", "carol@example.com", true, |_| {});
    let t = expect_page(&r, 200, "already exists here");
    let ticket = t
        .split(r#"name="ticket" value=""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let csrf = csrf_of(&r);
    let wrong = b.post(
        &p,
        "/login/upstream/idp/link",
        &form(&[("csrf", &csrf), ("ticket", &ticket), ("password", "nope-nope")]),
    );
    expect_page(&wrong, 401, "The password is wrong");
    // Another browser cannot finish it.
    let mut other = Browser::default();
    let csrf_other = csrf_of(&other.get(&p, "/login"));
    let r = other.post(
        &p,
        "/login/upstream/idp/link",
        &form(&[
            ("csrf", &csrf_other),
            ("ticket", &ticket),
            ("password", "plum-kettle-42"),
        ]),
    );
    expect_page(&r, 400, "expired or was already used");
    let ok = b.post(
        &p,
        "/login/upstream/idp/link",
        &form(&[("csrf", &csrf), ("ticket", &ticket), ("password", "plum-kettle-42")]),
    );
    assert_eq!(ok.status, 303, "{}", text(&ok));
    assert_eq!(ok.get_header("location"), Some("/after"));
    assert!(signed_in_as(&p, &mut b).contains("carol@example.com"));
    let replay = b.post(
        &p,
        "/login/upstream/idp/link",
        &form(&[("csrf", &csrf), ("ticket", &ticket), ("password", "plum-kettle-42")]),
    );
    expect_page(&replay, 400, "expired or was already used");
    // From now on the identity signs in to that account directly.
    let mut b2 = Browser::default();
    let r = oidc_sign_in(&p, &idp, &mut b2, "carol-sub", "carol@example.com", true, |_| {});
    assert_eq!(r.status, 303, "{}", text(&r));
    assert!(signed_in_as(&p, &mut b2).contains("carol@example.com"));
}

#[test]
fn being_signed_in_as_the_account_is_proof_enough() {
    let (p, idp) = setup();
    let mut owner = signed_in(&p, "dave@example.com");
    let r = oidc_sign_in(&p, &idp, &mut owner, "dave-sub", "dave@example.com", true, |_| {});
    assert_eq!(r.status, 303, "{}", text(&r));
    let mut b = Browser::default();
    assert_eq!(
        oidc_sign_in(&p, &idp, &mut b, "dave-sub", "dave@example.com", true, |_| {}).status,
        303
    );
    assert!(signed_in_as(&p, &mut b).contains("dave@example.com"));
}

#[test]
fn the_people_quota_applies_to_new_accounts() {
    let (p, idp) = setup_with(Some("1"));
    signed_in(&p, "first@example.com");
    let mut b = Browser::default();
    let r = oidc_sign_in(&p, &idp, &mut b, "second-sub", "second@example.com", true, |_| {});
    expect_page(&r, 409, "No new accounts can be made here");
    assert_eq!(links(&p), 0);
    assert!(!has_account(&p, "second@example.com"));
}

#[test]
fn no_email_no_account() {
    let (p, idp) = setup();
    let mut b = Browser::default();
    let r = oidc_sign_in(&p, &idp, &mut b, "anon", "not an email", true, |_| {});
    expect_page(&r, 403, "did not share a usable email address");
}

#[test]
fn hostile_answers_and_callbacks() {
    let (p, idp) = setup();
    let mut b = Browser::default();
    // ID tokens that are not RS256 by the upstream's key: none, HS256 keyed with the public
    // key's bytes, garbage, a huge one.
    let key = test_key(0);
    let c = claims(&p, "n", "h", "h@example.com", true);
    let b64 = |v: &Value| crate::util::b64url(v.to_string().as_bytes());
    let none = format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&c));
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &c,
        &jsonwebtoken::EncodingKey::from_secret(key.public_pem().as_bytes()),
    )
    .unwrap();
    for (raw, says) in [
        (none, "not signed with RS256"),
        (hs, "not signed with RS256"),
        ("x.y.z".to_owned(), "not a JWT"),
        ("a".repeat(20_000), "not a JWT"),
    ] {
        idp.borrow_mut().raw_id_token = Some(raw);
        let r = oidc_sign_in(&p, &idp, &mut b, "h", "h@example.com", true, |_| {});
        expect_page(&r, 403, says);
    }
    idp.borrow_mut().raw_id_token = None;
    // A JWKS that is not JSON, or holds no usable key.
    for (jwks, status, says) in [
        (Response::new(200, "text/plain", "nope"), 503, "not a JSON object"),
        (
            json_resp(200, &json!({"keys": "x"})),
            403,
            "key set is unreadable",
        ),
        (
            json_resp(
                200,
                &json!({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": key.kid}]}),
            ),
            403,
            "signature does not verify",
        ),
        (json_resp(404, &json!({})), 503, "HTTP 404"),
    ] {
        idp.borrow_mut().jwks_answer = Some(jwks);
        expect_page(
            &oidc_sign_in(&p, &idp, &mut b, "h", "h@example.com", true, |_| {}),
            status,
            says,
        );
    }
    idp.borrow_mut().jwks_answer = None;
    // Callback parameters: not UTF-8, an oversized state, a long error description (cut).
    let (state, _) = start(&p, &idp, &mut b, "idp");
    let r = b.get(
        &p,
        &format!("/login/upstream/idp/callback?state={state}&code=%FF%FE"),
    );
    assert!(r.status == 400 || r.status == 403, "{}", text(&r));
    assert!(r.get_header("content-type").unwrap().starts_with("text/html"));
    let big = "s".repeat(5000);
    expect_page(
        &b.get(&p, &format!("/login/upstream/idp/callback?state={big}&code=x")),
        400,
        "no state",
    );
    let (state, _) = start(&p, &idp, &mut b, "idp");
    let long = "d".repeat(5000);
    let r = b.get(
        &p,
        &format!("/login/upstream/idp/callback?state={state}&error=x&error_description={long}"),
    );
    let t = expect_page(&r, 403, "did not work");
    assert!(!t.contains(&"d".repeat(201)));
    // The link form without its ticket, or posted as JSON.
    let csrf = csrf_of(&b.get(&p, "/login"));
    expect_page(
        &b.post(&p, "/login/upstream/idp/link", &form(&[("csrf", &csrf)])),
        400,
        "expired or was already used",
    );
    let r = send(
        &p,
        req(
            "POST",
            "/login/upstream/idp/link",
            &[("content-type", "application/json")],
            "{}",
        ),
    );
    assert_eq!(r.status, 415);
    // A discovery document naming another issuer, or pointing at plain http: refused.
    idp.borrow_mut().discovery_extra = json!({"issuer": "https://evil.example"});
    expect_page(&b.get(&p, "/login/upstream/idp"), 503, "names another issuer");
    idp.borrow_mut().discovery_extra = json!({"token_endpoint": "http://idp.example/token"});
    expect_page(&b.get(&p, "/login/upstream/idp"), 503, "lacks a usable endpoint");
}

/// Review: an account is made only for an email the upstream says is verified, else whoever
/// holds that upstream identity would hold an account for someone else's email.
#[test]
fn no_account_is_made_for_an_email_the_upstream_does_not_say_is_verified() {
    let (p, idp) = setup();
    let mut b = Browser::default();
    let r = oidc_sign_in(&p, &idp, &mut b, "mallory-sub", "victim@example.com", false, |_| {});
    expect_page(&r, 403, "does not say the email victim@example.com is verified");
    assert_eq!(links(&p), 0);
    assert!(!signed_in_as(&p, &mut b).contains("victim@example.com"));
    // The email's owner can still sign up (no account holds it).
    drop(signed_in(&p, "victim@example.com"));
}
