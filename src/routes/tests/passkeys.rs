//! Passkeys through `routes::handle`: a software authenticator (P-256, Ed25519 and RSA keys
//! made here; CBOR written by the test writer) registers from `/account/passkeys` and logs in
//! at `/login/passkey`, and hostile answers are refused: another origin, another RP ID, a
//! replayed or foreign challenge, a bad signature, malformed CBOR, a counter that went back
//! (a cloned authenticator), no user verification, another person's user handle.

use super::support::*;
use crate::platform::memory::MemPlatform;
use crate::rules::webauthn::auth_data::{self, FLAG_AT, FLAG_BE, FLAG_UP, FLAG_UV};
use crate::rules::webauthn::cbor::{write::encode, Value};
use crate::rules::webauthn::cose::{self, CoseKey};
use crate::util::{b64url, b64url_decode, sha256};
use serde_json::{json, Value as Json};

enum Key {
    Es256(p256::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
    Rs256(rsa::RsaPrivateKey),
}

/// A software authenticator with one credential.
struct Authenticator {
    key: Key,
    id: Vec<u8>,
    count: u32,
    /// Flags of its answers (UP | UV by default).
    flags: u8,
    /// The user handle it keeps (the user id it was registered with).
    user_handle: Vec<u8>,
}

impl Authenticator {
    fn new(alg: i64) -> Authenticator {
        let key = match alg {
            cose::ES256 => Key::Es256(p256::ecdsa::SigningKey::from_slice(&rand_bytes(32)).unwrap()),
            cose::EDDSA => Key::Ed25519(ed25519_dalek::SigningKey::from_bytes(&rand_bytes(32).try_into().unwrap())),
            _ => {
                use rsa::pkcs8::DecodePrivateKey;
                Key::Rs256(rsa::RsaPrivateKey::from_pkcs8_pem(crate::crypto::keys::tests::test_pem()).unwrap())
            }
        };
        Authenticator {
            key,
            id: rand_bytes(32),
            count: 0,
            flags: FLAG_UP | FLAG_UV,
            user_handle: Vec::new(),
        }
    }

    fn cose(&self) -> Vec<u8> {
        let k = match &self.key {
            Key::Es256(k) => {
                let p = k.verifying_key().to_encoded_point(false);
                CoseKey::Es256 {
                    x: p.x().unwrap()[..].try_into().unwrap(),
                    y: p.y().unwrap()[..].try_into().unwrap(),
                }
            }
            Key::Ed25519(k) => CoseKey::Ed25519 { x: k.verifying_key().to_bytes() },
            Key::Rs256(k) => {
                use rsa::traits::PublicKeyParts;
                CoseKey::Rs256 { n: k.n().to_bytes_be(), e: k.e().to_bytes_be() }
            }
        };
        cose::encode(&k)
    }

    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        match &self.key {
            Key::Es256(k) => {
                use p256::ecdsa::signature::Signer;
                let s: p256::ecdsa::Signature = k.sign(msg);
                s.to_der().as_bytes().to_vec()
            }
            Key::Ed25519(k) => ed25519_dalek::Signer::sign(k, msg).to_bytes().to_vec(),
            Key::Rs256(k) => crate::crypto::rs256::Signer::new(k).sign(msg),
        }
    }

    /// `navigator.credentials.create` at `origin`, for RP ID `rp_id`, over `options`.
    fn create(&mut self, options: &Json, origin: &str, rp_id: &str) -> Json {
        let pk = &options["publicKey"];
        self.user_handle = b64url_decode(pk["user"]["id"].as_str().unwrap()).unwrap();
        let cd = client_data("webauthn.create", pk["challenge"].as_str().unwrap(), origin);
        let auth = auth_data::encode(&sha256(rp_id.as_bytes()), self.flags | FLAG_AT, self.count, Some((&[0; 16], &self.id, &self.cose())));
        let obj = attestation_object("none", &auth);
        json!({"id": b64url(&self.id), "rawId": b64url(&self.id), "type": "public-key",
               "response": {"clientDataJSON": b64url(cd.as_bytes()), "attestationObject": b64url(&obj), "transports": ["internal"]}})
    }

    /// `navigator.credentials.get` at `origin`: counts up and signs.
    fn get(&mut self, options: &Json, origin: &str, rp_id: &str) -> Json {
        self.count += 1;
        let cd = client_data("webauthn.get", options["publicKey"]["challenge"].as_str().unwrap(), origin);
        let auth = auth_data::encode(&sha256(rp_id.as_bytes()), self.flags, self.count, None);
        self.assertion(&cd, &auth)
    }

    fn assertion(&self, cd: &str, auth: &[u8]) -> Json {
        let mut signed = auth.to_vec();
        signed.extend_from_slice(&sha256(cd.as_bytes()));
        json!({"id": b64url(&self.id), "rawId": b64url(&self.id), "type": "public-key",
               "response": {"clientDataJSON": b64url(cd.as_bytes()), "authenticatorData": b64url(auth),
                            "signature": b64url(&self.sign(&signed)), "userHandle": b64url(&self.user_handle)}})
    }
}

fn rand_bytes(n: usize) -> Vec<u8> {
    use rand_core::RngCore;
    let mut b = vec![0u8; n];
    rand_core::OsRng.fill_bytes(&mut b);
    b
}

fn client_data(kind: &str, challenge: &str, origin: &str) -> String {
    json!({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false}).to_string()
}

fn attestation_object(fmt: &str, auth: &[u8]) -> Vec<u8> {
    encode(&Value::Map(vec![
        (Value::Text("fmt"), Value::Text(fmt)),
        (Value::Text("attStmt"), Value::Map(vec![])),
        (Value::Text("authData"), Value::Bytes(auth)),
    ]))
}

const RP_ID: &str = "127.0.0.1";

/// A JSON POST from browser `b` (its cookies, `Origin` of the page), with its CSRF token.
fn post_json(p: &MemPlatform, b: &mut Browser, target: &str, mut body: Json) -> crate::http::Response {
    if body.get("csrf").is_none() {
        body["csrf"] = csrf_cookie(b).into();
    }
    let c = b.headers();
    let h = [("cookie", c.as_str()), ("content-type", "application/json"), ("origin", ORIGIN)];
    let r = send(p, req("POST", target, &h, body.to_string()));
    b.take(&r);
    r
}

fn csrf_cookie(b: &Browser) -> String {
    b.cookies.iter().find(|(k, _)| k == "portcullis_csrf").map(|(_, v)| v.clone()).unwrap_or_default()
}

/// Registers `a` for the person signed in in `b` (asserting 201).
#[track_caller]
fn register(p: &MemPlatform, b: &mut Browser, a: &mut Authenticator, name: &str) -> Json {
    let options = expect_json(&post_json(p, b, "/account/passkeys/options", json!({})), 200);
    let credential = a.create(&options, ORIGIN, RP_ID);
    expect_json(&post_json(p, b, "/account/passkeys", json!({"name": name, "credential": credential})), 201)
}

/// A fresh browser that has seen the log-in page (it has a CSRF cookie) and its options.
fn login_options(p: &MemPlatform) -> (Browser, Json) {
    let mut b = Browser::default();
    let page = b.get(p, "/login?return_to=%2Fapps");
    assert_eq!(page.status, 200);
    let options = expect_json(&post_json(p, &mut b, "/login/passkey/options", json!({})), 200);
    (b, options)
}

fn person_with(p: &MemPlatform, email: &str, alg: i64) -> (Browser, Authenticator) {
    let mut b = signed_in(p, email);
    b.get(p, "/account/passkeys");
    let mut a = Authenticator::new(alg);
    register(p, &mut b, &mut a, "Laptop");
    (b, a)
}

#[test]
fn a_passkey_registers_and_logs_in_with_each_algorithm() {
    let p = platform();
    for (i, alg) in [cose::ES256, cose::EDDSA, cose::RS256].into_iter().enumerate() {
        let email = format!("pk{i}@example.com");
        let mut b = signed_in(&p, &email);
        assert!(text(&b.get(&p, "/account/passkeys")).contains("You have no passkeys yet."));
        let mut a = Authenticator::new(alg);
        let kept = register(&p, &mut b, &mut a, "My <key>");
        assert_eq!(kept["id"], b64url(&a.id));
        let page = b.get(&p, "/account/passkeys");
        assert!(text(&page).contains("My &lt;key&gt;"), "{}", text(&page));

        // Options for the person's next registration exclude it.
        let options = expect_json(&post_json(&p, &mut b, "/account/passkeys/options", json!({})), 200);
        let pk = &options["publicKey"];
        assert_eq!(pk["excludeCredentials"][0]["id"], b64url(&a.id));
        assert_eq!(pk["rp"]["id"], RP_ID);
        assert_eq!(pk["authenticatorSelection"]["userVerification"], "required");
        assert_eq!(pk["attestation"], "none");

        // Log in from a new browser: no email, no password.
        let (mut fresh, options) = login_options(&p);
        assert_eq!(options["publicKey"]["rpId"], RP_ID);
        let answer = a.get(&options, ORIGIN, RP_ID);
        let r = post_json(&p, &mut fresh, "/login/passkey", json!({"credential": answer, "return_to": "/apps"}));
        let v = expect_json(&r, 200);
        assert_eq!(v["redirect_to"], "/apps");
        expect_no_store(&r);
        let home = fresh.get(&p, "/");
        assert!(text(&home).contains(&email), "{}", text(&home));
        // The counter and the last use were kept.
        assert!(text(&fresh.get(&p, "/account/passkeys")).contains("last used"));
    }
}

#[test]
fn pages_carry_the_script_only_where_it_is_used() {
    let p = platform();
    let mut b = Browser::default();
    let csp = |r: &crate::http::Response| r.get_header("content-security-policy").unwrap_or_default().to_owned();
    let login = b.get(&p, "/login");
    assert!(csp(&login).contains("script-src 'self'; connect-src 'self'"), "{}", csp(&login));
    let html = text(&login);
    assert!(html.contains(r#"<div id="passkey-login" hidden><button type="button" class="secondary">Sign in with a passkey</button></div>"#), "{html}");
    // The password form still works on its own (no JavaScript needed).
    assert!(html.contains(r#"<form method="post" action="/login">"#));
    let signup = b.get(&p, "/signup");
    assert!(!csp(&signup).contains("script-src"), "{}", csp(&signup));
    assert!(!text(&signup).contains("<script"));
    // Without a session the passkeys page sends you to log in.
    let r = b.get(&p, "/account/passkeys");
    assert_eq!(r.status, 303);
    assert_eq!(r.get_header("location"), Some("/login?return_to=%2Faccount%2Fpasskeys"));
    let js = b.get(&p, "/assets/passkeys.js");
    assert_eq!(js.status, 200);
    assert_eq!(js.get_header("content-type"), Some("text/javascript; charset=utf-8"));
    assert!(text(&js).contains("navigator.credentials.get"));
    let signed = signed_in(&p, "page@example.com");
    let mut signed = signed;
    let page = signed.get(&p, "/account/passkeys");
    assert!(csp(&page).contains("script-src 'self'"));
    assert!(text(&page).contains(r#"<form id="passkey-add" hidden>"#));
}

#[test]
fn hostile_registrations_are_refused() {
    let p = platform();
    let mut b = signed_in(&p, "reg@example.com");
    b.get(&p, "/account/passkeys");
    let mut a = Authenticator::new(cose::ES256);
    let attempt = |b: &mut Browser, a: &mut Authenticator, f: &dyn Fn(&mut Authenticator, &Json) -> Json| {
        let options = expect_json(&post_json(&p, b, "/account/passkeys/options", json!({})), 200);
        let credential = f(a, &options);
        post_json(&p, b, "/account/passkeys", json!({"credential": credential}))
    };
    // Another origin, another RP ID, no user verification, a `webauthn.get`.
    let r = attempt(&mut b, &mut a, &|a, o| a.create(o, "https://evil.example", RP_ID));
    assert!(expect_error(&r, 403, "access_denied")["error_description"].as_str().unwrap().contains("another site"));
    let r = attempt(&mut b, &mut a, &|a, o| a.create(o, ORIGIN, "evil.example"));
    assert!(expect_error(&r, 403, "access_denied")["error_description"].as_str().unwrap().contains("RP ID"));
    a.flags = FLAG_UP;
    let r = attempt(&mut b, &mut a, &|a, o| a.create(o, ORIGIN, RP_ID));
    assert!(expect_error(&r, 403, "access_denied")["error_description"].as_str().unwrap().contains("verify"));
    a.flags = FLAG_UP | FLAG_UV;
    // Malformed CBOR: a truncated attestation object, indefinite lengths, a none statement.
    for bad in [vec![0xa3u8, 0x63], vec![0xbf, 0xff], vec![0x9f, 0x00, 0xff], vec![]] {
        let r = attempt(&mut b, &mut a, &|a, o| {
            let mut c = a.create(o, ORIGIN, RP_ID);
            c["response"]["attestationObject"] = b64url(&bad).into();
            c
        });
        assert!(r.status == 400 || r.status == 403, "{}", text(&r));
        assert!(json(&r)["error"].is_string());
    }
    // A replayed registration: the same answer twice (the challenge is gone).
    let options = expect_json(&post_json(&p, &mut b, "/account/passkeys/options", json!({})), 200);
    let credential = a.create(&options, ORIGIN, RP_ID);
    expect_json(&post_json(&p, &mut b, "/account/passkeys", json!({"credential": credential.clone()})), 201);
    let r = post_json(&p, &mut b, "/account/passkeys", json!({"credential": credential}));
    assert!(expect_error(&r, 403, "access_denied")["error_description"].as_str().unwrap().contains("already used"));
    // The same credential again (fresh challenge): refused as already registered.
    let r = attempt(&mut b, &mut a, &|a, o| a.create(o, ORIGIN, RP_ID));
    expect_error(&r, 409, "limit_reached");
    // Another person's registration challenge cannot be answered by this person.
    let mut other = signed_in(&p, "other@example.com");
    other.get(&p, "/account/passkeys");
    let options = expect_json(&post_json(&p, &mut other, "/account/passkeys/options", json!({})), 200);
    let mut a2 = Authenticator::new(cose::EDDSA);
    let credential = a2.create(&options, ORIGIN, RP_ID);
    let r = post_json(&p, &mut b, "/account/passkeys", json!({"credential": credential}));
    expect_error(&r, 403, "access_denied");
    // No session, no CSRF token, a form body, another site's Origin.
    let mut anon = Browser::default();
    anon.get(&p, "/login");
    expect_error(&post_json(&p, &mut anon, "/account/passkeys/options", json!({})), 403, "access_denied");
    expect_error(&post_json(&p, &mut b, "/account/passkeys/options", json!({"csrf": "x".repeat(43)})), 403, "access_denied");
    let c = b.headers();
    let body = json!({"csrf": csrf_cookie(&b)}).to_string();
    let r = send(&p, req("POST", "/account/passkeys/options", &[("cookie", &c), ("content-type", "application/x-www-form-urlencoded")], &body));
    assert_eq!(r.status, 415);
    let r = send(&p, req("POST", "/account/passkeys/options", &[("cookie", &c), ("content-type", "application/json"), ("origin", "https://evil.example")], &body));
    expect_error(&r, 403, "access_denied");
    for junk in ["", "[]", "{", "\u{0}", "null"] {
        let r = send(&p, req("POST", "/account/passkeys", &[("cookie", &c), ("content-type", "application/json")], junk));
        assert!(r.status == 400 || r.status == 403, "{junk}: {}", text(&r));
    }
    // Structurally wrong credentials.
    for credential in [json!(null), json!({"id": "a", "rawId": "b", "type": "public-key", "response": {}}), json!({"id": "AAAA", "rawId": "AAAA", "type": "password", "response": {"clientDataJSON": ""}})] {
        let r = post_json(&p, &mut b, "/account/passkeys", json!({"credential": credential}));
        expect_error(&r, 400, "invalid_request");
    }
}

#[test]
fn hostile_log_ins_are_refused() {
    let p = platform();
    let (_, mut a) = person_with(&p, "login@example.com", cose::ES256);
    let login = |b: &mut Browser, answer: Json| post_json(&p, b, "/login/passkey", json!({"credential": answer}));
    let refused = |r: &crate::http::Response, words: &str| {
        let v = expect_error(r, 403, "access_denied");
        assert!(v["error_description"].as_str().unwrap().contains(words), "{v}");
        assert!(r.headers.iter().all(|(k, _)| k != "set-cookie"), "no session on a refusal");
    };

    // Another origin (a phishing site relaying the ceremony), and another RP ID.
    let (mut b, o) = login_options(&p);
    refused(&login(&mut b, a.get(&o, "https://127.0.0.1.evil.example", RP_ID)), "another site");
    let (mut b, o) = login_options(&p);
    refused(&login(&mut b, a.get(&o, ORIGIN, "evil.example")), "RP ID");

    // A bad signature.
    let (mut b, o) = login_options(&p);
    let mut answer = a.get(&o, ORIGIN, RP_ID);
    let mut sig = b64url_decode(answer["response"]["signature"].as_str().unwrap()).unwrap();
    let last = sig.len() - 3;
    sig[last] ^= 1;
    answer["response"]["signature"] = b64url(&sig).into();
    refused(&login(&mut b, answer), "signature");

    // Signed client data, then changed (the hash no longer matches).
    let (mut b, o) = login_options(&p);
    let mut answer = a.get(&o, ORIGIN, RP_ID);
    let changed = client_data("webauthn.get", o["publicKey"]["challenge"].as_str().unwrap(), ORIGIN).replace("false", "false,\"x\":1");
    answer["response"]["clientDataJSON"] = b64url(changed.as_bytes()).into();
    refused(&login(&mut b, answer), "signature");

    // A replay: a valid answer accepted once, then refused.
    let (mut b, o) = login_options(&p);
    let answer = a.get(&o, ORIGIN, RP_ID);
    expect_json(&login(&mut b, answer.clone()), 200);
    let (mut b2, _) = login_options(&p);
    refused(&login(&mut b2, answer.clone()), "already used");
    refused(&login(&mut b, answer), "already used");

    // A challenge issued to another browser.
    let (_, o) = login_options(&p);
    let (mut b, _) = login_options(&p);
    refused(&login(&mut b, a.get(&o, ORIGIN, RP_ID)), "already used");

    // An expired challenge.
    let (mut b, o) = login_options(&p);
    p.clock.set(p.clock.get() + crate::accounts::passkeys::CHALLENGE_TTL + 1);
    refused(&login(&mut b, a.get(&o, ORIGIN, RP_ID)), "expired");

    // A cloned authenticator: its twin signs with a counter the server has already seen.
    let (mut b, o) = login_options(&p);
    expect_json(&login(&mut b, a.get(&o, ORIGIN, RP_ID)), 200);
    a.count -= 1;
    let (mut b, o) = login_options(&p);
    refused(&login(&mut b, a.get(&o, ORIGIN, RP_ID)), "cloned");
    a.count += 5;
    let (mut b, o) = login_options(&p);
    expect_json(&login(&mut b, a.get(&o, ORIGIN, RP_ID)), 200);

    // No user verification; no user presence.
    a.flags = FLAG_UP;
    let (mut b, o) = login_options(&p);
    refused(&login(&mut b, a.get(&o, ORIGIN, RP_ID)), "verify");
    a.flags = FLAG_UV;
    let (mut b, o) = login_options(&p);
    refused(&login(&mut b, a.get(&o, ORIGIN, RP_ID)), "presence");
    a.flags = FLAG_UP | FLAG_UV;

    // Backup eligibility that changed since registration.
    a.flags = FLAG_UP | FLAG_UV | FLAG_BE;
    let (mut b, o) = login_options(&p);
    refused(&login(&mut b, a.get(&o, ORIGIN, RP_ID)), "backup");
    a.flags = FLAG_UP | FLAG_UV;

    // A registration ceremony's answer at the log-in; the log-in challenge used to register.
    let (mut b, o) = login_options(&p);
    let cd = client_data("webauthn.create", o["publicKey"]["challenge"].as_str().unwrap(), ORIGIN);
    a.count += 1;
    let auth = auth_data::encode(&sha256(RP_ID.as_bytes()), FLAG_UP | FLAG_UV, a.count, None);
    refused(&login(&mut b, a.assertion(&cd, &auth)), "another kind");

    // Another person's user handle: their passkeys do not hold this credential.
    let (_, victim) = person_with(&p, "victim@example.com", cose::EDDSA);
    let mut impostor = Authenticator::new(cose::ES256);
    impostor.user_handle = victim.user_handle.clone();
    let (mut b, o) = login_options(&p);
    refused(&login(&mut b, impostor.get(&o, ORIGIN, RP_ID)), "not registered");
    // The victim's credential id with the impostor's key: the signature fails.
    impostor.id = victim.id.clone();
    let (mut b, o) = login_options(&p);
    refused(&login(&mut b, impostor.get(&o, ORIGIN, RP_ID)), "signature");

    // Malformed: authenticator data that is not, a missing user handle, junk base64.
    let (mut b, o) = login_options(&p);
    let mut answer = a.get(&o, ORIGIN, RP_ID);
    answer["response"]["authenticatorData"] = b64url(&[0u8; 36]).into();
    let r = login(&mut b, answer);
    assert_eq!(r.status, 403, "{}", text(&r));
    let (mut b, o) = login_options(&p);
    let mut answer = a.get(&o, ORIGIN, RP_ID);
    answer["response"]["userHandle"] = Json::Null;
    refused(&login(&mut b, answer), "not registered");
    let (mut b, o) = login_options(&p);
    let mut answer = a.get(&o, ORIGIN, RP_ID);
    answer["response"]["signature"] = "not base64!".into();
    expect_error(&login(&mut b, answer), 400, "invalid_request");
    let (mut b, o) = login_options(&p);
    let mut answer = a.get(&o, ORIGIN, RP_ID);
    answer["response"]["clientDataJSON"] = b64url(b"\xff{").into();
    expect_error(&login(&mut b, answer), 400, "invalid_request");
    let _ = o;

    // After all that, the real authenticator still logs in.
    let (mut b, o) = login_options(&p);
    expect_json(&login(&mut b, a.get(&o, ORIGIN, RP_ID)), 200);
}

#[test]
fn a_removed_passkey_no_longer_logs_in() {
    let p = platform();
    let (mut b, mut a) = person_with(&p, "rm@example.com", cose::EDDSA);
    let page = b.get(&p, "/account/passkeys");
    let csrf = csrf_of(&page);
    // CSRF is checked; an unknown id is a 404 page.
    let r = b.post(&p, "/account/passkeys/remove", &form(&[("csrf", "x"), ("id", &b64url(&a.id))]));
    assert_eq!(r.status, 403);
    let r = b.post(&p, "/account/passkeys/remove", &form(&[("csrf", &csrf), ("id", "nope")]));
    assert_eq!(r.status, 404);
    let r = b.post(&p, "/account/passkeys/remove", &form(&[("csrf", &csrf), ("id", &b64url(&a.id))]));
    assert_eq!(r.status, 303);
    assert!(text(&b.get(&p, "/account/passkeys?removed=1")).contains("Passkey removed."));
    let (mut fresh, o) = login_options(&p);
    let r = post_json(&p, &mut fresh, "/login/passkey", json!({"credential": a.get(&o, ORIGIN, RP_ID)}));
    expect_error(&r, 403, "access_denied");
}

#[test]
fn a_passkey_of_one_organisation_is_not_one_of_another() {
    use crate::config::Config;
    let mut cfg = Config::default();
    cfg.admin_token = Some(crate::config::Secret("admin-secret".into()));
    cfg.org_domain = Some("localhost".into());
    let p = platform_with(cfg);
    for label in ["acme", "beta"] {
        let r = send_at(&p, "http://localhost:8787", json_req("POST", "/admin/orgs", Some("admin-secret"), &json!({"label": label, "name": label})));
        assert_eq!(r.status, 201, "{}", text(&r));
    }
    let (acme, beta) = ("http://acme.localhost:8787", "http://beta.localhost:8787");
    let mut b = signed_in_at(&p, acme, "org@example.com");
    get_at(&p, acme, &mut b, "/account/passkeys");
    let post = |b: &mut Browser, origin: &str, target: &str, mut body: Json| {
        body["csrf"] = csrf_cookie(b).into();
        let c = b.headers();
        let h = [("cookie", c.as_str()), ("content-type", "application/json"), ("origin", origin)];
        let r = send_at(&p, origin, req("POST", target, &h, body.to_string()));
        b.take(&r);
        r
    };
    let options = expect_json(&post(&mut b, acme, "/account/passkeys/options", json!({})), 200);
    assert_eq!(options["publicKey"]["rp"]["id"], "acme.localhost");
    let mut a = Authenticator::new(cose::ES256);
    let credential = a.create(&options, acme, "acme.localhost");
    expect_json(&post(&mut b, acme, "/account/passkeys", json!({"credential": credential})), 201);
    // At acme it logs in; at beta, even signed for beta's origin and RP ID, it is unknown.
    let mut fresh = Browser::default();
    get_at(&p, acme, &mut fresh, "/login");
    let o = expect_json(&post(&mut fresh, acme, "/login/passkey/options", json!({})), 200);
    expect_json(&post(&mut fresh, acme, "/login/passkey", json!({"credential": a.get(&o, acme, "acme.localhost")})), 200);
    let mut other = Browser::default();
    get_at(&p, beta, &mut other, "/login");
    let o = expect_json(&post(&mut other, beta, "/login/passkey/options", json!({})), 200);
    let r = post(&mut other, beta, "/login/passkey", json!({"credential": a.get(&o, acme, "acme.localhost")}));
    assert!(expect_error(&r, 403, "access_denied")["error_description"].as_str().unwrap().contains("not registered"));
    let o = expect_json(&post(&mut other, beta, "/login/passkey/options", json!({})), 200);
    let r = post(&mut other, beta, "/login/passkey", json!({"credential": a.get(&o, beta, "beta.localhost")}));
    assert!(expect_error(&r, 403, "access_denied")["error_description"].as_str().unwrap().contains("not registered"));
}

/// A passkey log-in ends where a password log-in does (`accounts::start_session`): its RFC 8176
/// methods are in the session, the person's session list and the ID token.
#[test]
fn a_passkey_log_in_states_its_methods_in_the_id_token() {
    use super::oidc::{authorize, authz_url, redeem, rp_at, verify};
    let p = platform();
    let rp = rp_at(&p, ORIGIN, &["public"]);
    let (_, mut a) = person_with(&p, "amr@example.com", cose::ES256);
    let (mut b, o) = login_options(&p);
    let r = post_json(&p, &mut b, "/login/passkey", json!({"credential": a.get(&o, ORIGIN, RP_ID), "return_to": "/"}));
    expect_json(&r, 200);
    let loc = authorize(&p, ORIGIN, &mut b, &authz_url(&rp.0, "openid", Some("n")));
    let t = redeem(&p, ORIGIN, &rp, &query_param(&loc, "code").unwrap());
    let (_, claims) = verify(&p, ORIGIN, &rp.0, t["id_token"].as_str().unwrap());
    assert_eq!(claims["amr"], json!(["hwk", "user", "mfa"]));
    // A user-verified passkey: phishing-resistant (rules::acr). Not phrh, although the key says
    // it cannot leave its authenticator: without attestation that is its own unverified claim.
    assert_eq!(claims["acr"], crate::rules::acr::PHR);
    // An essential acr of phr is met by it, with no new log-in.
    let phr = format!(r#"{{"id_token":{{"acr":{{"essential":true,"value":"{}"}}}}}}"#, crate::rules::acr::PHR);
    let u = format!("{}&{}", authz_url(&rp.0, "openid", None), form(&[("claims", phr.as_str())]));
    let loc = authorize(&p, ORIGIN, &mut b, &u);
    assert!(query_param(&loc, "code").is_some(), "{loc}");
    // A synced (backup-eligible) passkey is a software-secured key.
    let mut b2 = signed_in(&p, "synced@example.com");
    b2.get(&p, "/account/passkeys");
    let mut synced = Authenticator::new(cose::EDDSA);
    synced.flags = FLAG_UP | FLAG_UV | FLAG_BE;
    register(&p, &mut b2, &mut synced, "Phone");
    let (mut b, o) = login_options(&p);
    expect_json(&post_json(&p, &mut b, "/login/passkey", json!({"credential": synced.get(&o, ORIGIN, RP_ID)})), 200);
    let loc = authorize(&p, ORIGIN, &mut b, &authz_url(&rp.0, "openid", None));
    let t = redeem(&p, ORIGIN, &rp, &query_param(&loc, "code").unwrap());
    let (_, claims) = verify(&p, ORIGIN, &rp.0, t["id_token"].as_str().unwrap());
    assert_eq!(claims["amr"], json!(["swk", "user", "mfa"]));
    assert_eq!(claims["acr"], crate::rules::acr::PHR);
}

/// A person with a second factor (TOTP) who logs in with a passkey is not asked for it: the
/// passkey's user verification made the log-in multi-factor (`mfa`). Their password still is.
#[test]
fn a_passkey_log_in_is_not_sent_to_the_second_step() {
    use crate::rules::totp;
    let p = platform();
    let (mut b, mut a) = person_with(&p, "totp@example.com", cose::ES256);
    let post_2fa = |b: &mut Browser, pairs: &[(&str, &str)]| {
        let csrf = csrf_of(&b.get(&p, "/account/2fa"));
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(pairs);
        b.post(&p, "/account/2fa", &form(&all))
    };
    assert_eq!(post_2fa(&mut b, &[("action", "start")]).status, 303);
    let page = text(&b.get(&p, "/account/2fa"));
    let at = page.find(r#"<code id="secret">"#).unwrap() + r#"<code id="secret">"#.len();
    let secret = totp::base32_decode(&page[at..].split('<').next().unwrap().replace(' ', "")).unwrap();
    let code = totp::code_at(&secret, totp::step_of(now(&p)).unwrap());
    assert_eq!(post_2fa(&mut b, &[("action", "confirm"), ("code", &code)]).status, 200);

    let (mut fresh, o) = login_options(&p);
    let r = post_json(&p, &mut fresh, "/login/passkey", json!({"credential": a.get(&o, ORIGIN, RP_ID), "return_to": "/apps"}));
    assert_eq!(expect_json(&r, 200)["redirect_to"], "/apps");
    assert!(r.headers.iter().any(|(k, v)| k == "set-cookie" && v.starts_with("portcullis_session=")));
    assert!(text(&fresh.get(&p, "/")).contains("totp@example.com"));

    // The password alone is sent to the second step.
    let mut pw = Browser::default();
    let csrf = csrf_of(&pw.get(&p, "/login"));
    let r = pw.post(&p, "/login", &form(&[("csrf", &csrf), ("email", "totp@example.com"), ("password", "plum-kettle-42")]));
    assert_eq!(r.get_header("location"), Some("/login/2fa"));
}
