//! OpenID Connect over the code flow: discovery, ID tokens (verified with the JWKS by
//! `jsonwebtoken`, an independent JOSE implementation), refresh, claims by scope at userinfo,
//! per tenant, and hostile nonces.

use super::support::*;
use super::tenancy::{create_org, send_at};
use crate::config::{Config, Secret};
use crate::platform::memory::MemPlatform;
use crate::util::{b64url, sha256, sha256_hex};
use serde_json::{json, Value};

const ACME: &str = "http://acme.localhost:8787";
const BETA: &str = "http://beta.localhost:8787";
pub(super) const CB: &str = "https://rp.example/cb";

/// A confidential relying party at `origin` holding `scopes` (the OIDC ones are implied).
pub(super) fn rp_at(p: &MemPlatform, origin: &str, scopes: &[&str]) -> (String, String) {
    let body = json!({"name": "RP", "redirect_uris": [CB], "scopes": scopes});
    let r = send_at(p, origin, json_req("POST", "/admin/apps", Some("admin-secret"), &body));
    assert_eq!(r.status, 201, "{}", text(&r));
    credentials(&json(&r))
}

pub(super) fn authz_url(client_id: &str, scope: &str, nonce: Option<&str>) -> String {
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CB),
        ("scope", scope),
        ("state", "st"),
    ];
    if let Some(n) = nonce {
        pairs.push(("nonce", n));
    }
    format!("/oauth/authorize?{}", form(&pairs))
}

/// Runs the authorization request (consenting when asked); the redirect to the client.
pub(super) fn authorize(p: &MemPlatform, origin: &str, b: &mut Browser, url: &str) -> String {
    let r = get_at(p, origin, b, url);
    let r = if r.status == 200 {
        let (_, query) = url.split_once('?').unwrap();
        let body = format!("{query}&{}", form(&[("csrf", &csrf_of(&r)), ("decision", "allow")]));
        post_at(p, origin, b, "/oauth/authorize", &body)
    } else {
        r
    };
    assert_eq!(r.status, 302, "{}", text(&r));
    let loc = r.get_header("location").unwrap().to_owned();
    assert!(loc.starts_with(CB), "{loc}");
    loc
}

pub(super) fn redeem(p: &MemPlatform, origin: &str, (id, secret): &(String, String), code: &str) -> Value {
    let pairs = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", CB)];
    let h = [("content-type", "application/x-www-form-urlencoded"), ("authorization", &basic(id, secret))];
    let r = send_at(p, origin, req("POST", "/oauth/token", &h, form(&pairs)));
    expect_json(&r, 200)
}

pub(super) fn refresh(p: &MemPlatform, origin: &str, (id, secret): &(String, String), token: &str) -> Value {
    let pairs = [("grant_type", "refresh_token"), ("refresh_token", token)];
    let h = [("content-type", "application/x-www-form-urlencoded"), ("authorization", &basic(id, secret))];
    expect_json(&send_at(p, origin, req("POST", "/oauth/token", &h, form(&pairs))), 200)
}

fn jwks_at(p: &MemPlatform, origin: &str) -> Value {
    expect_json(&send_at(p, origin, req("GET", "/.well-known/jwks.json", &[], "")), 200)
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

/// Verifies an ID token as a relying party does: the key named by `kid` in the issuer's JWKS,
/// RS256, `typ: JWT`, `iss` and `aud`; returns the header's kid and the claims.
pub(super) fn verify(p: &MemPlatform, origin: &str, client_id: &str, id_token: &str) -> (String, Value) {
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    let kid = header.kid.unwrap();
    let jwks = jwks_at(p, origin);
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).expect("kid in the JWKS");
    let key = jsonwebtoken::DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap()).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[client_id]);
    v.set_issuer(&[origin]);
    // The memory platform's clock is not the wall clock: exp is checked against it below.
    v.validate_exp = false;
    let claims = jsonwebtoken::decode::<Value>(id_token, &key, &v).unwrap().claims;
    assert!(claims["exp"].as_i64().unwrap() > now(p));
    (kid, claims)
}

/// `at_hash` computed here, apart from the server: left half of SHA-256, base64url.
fn at_hash(access_token: &str) -> String {
    b64url(&sha256(access_token.as_bytes())[..16])
}

pub(super) fn userinfo(p: &MemPlatform, access: &str) -> Value {
    expect_json(&with_bearer(p, "GET", "/oauth/userinfo", access), 200)
}

#[test]
fn the_code_flow_with_openid_returns_a_verifiable_id_token() {
    let p = platform();
    let rp = rp_at(&p, ORIGIN, &["public", "email"]);
    let mut b = signed_in_at(&p, ORIGIN, "ann@example.com");
    let login_time = now(&p);
    p.advance(5);
    let nonce = "n-0S6_WzA2Mj <&>\"é";
    let loc = authorize(&p, ORIGIN, &mut b, &authz_url(&rp.0, "openid profile email", Some(nonce)));
    assert_eq!(query_param(&loc, "state").as_deref(), Some("st"));
    let t = redeem(&p, ORIGIN, &rp, &query_param(&loc, "code").unwrap());
    assert_eq!(t["scope"], "openid profile email");
    // OpenID Connect without offline_access: no refresh token (node oidc-provider's default).
    assert!(t.get("refresh_token").is_none(), "{t}");
    let access = t["access_token"].as_str().unwrap();
    let (kid, c) = verify(&p, ORIGIN, &rp.0, t["id_token"].as_str().unwrap());
    assert_eq!(kid, p.keys.current_kid());
    assert_eq!(c["iss"], ORIGIN);
    assert_eq!(c["aud"], rp.0.as_str());
    assert_eq!(c["azp"], rp.0.as_str());
    assert_eq!(c["nonce"], nonce, "the nonce is echoed exactly");
    assert_eq!(c["at_hash"], at_hash(access));
    assert_eq!(c["amr"], json!(["pwd"]));
    let iat = c["iat"].as_i64().unwrap();
    assert_eq!(iat, now(&p));
    assert_eq!(c["exp"].as_i64().unwrap() - iat, 3600);
    assert_eq!(c["auth_time"].as_i64().unwrap(), login_time, "auth_time is the log-in");
    assert!(c["auth_time"].as_i64().unwrap() <= iat);
    // sid: present, neither the session cookie nor its hash.
    let sid = c["sid"].as_str().unwrap();
    let (_, cookie) = b.cookies.iter().find(|(n, _)| n.contains("session")).unwrap();
    assert!(sid.len() >= 16 && sid != cookie && sid != sha256_hex(cookie));
    // sub is the person's stable id: userinfo's, and the same in a second flow.
    let info = userinfo(&p, access);
    assert_eq!(c["sub"], info["sub"]);
    assert_eq!(info, json!({"sub": c["sub"], "name": "Ann", "email": "ann@example.com", "email_verified": false}));
    let loc = authorize(&p, ORIGIN, &mut b, &authz_url(&rp.0, "openid", Some("other")));
    let t2 = redeem(&p, ORIGIN, &rp, &query_param(&loc, "code").unwrap());
    let (_, c2) = verify(&p, ORIGIN, &rp.0, t2["id_token"].as_str().unwrap());
    assert_eq!((&c2["sub"], &c2["sid"], &c2["nonce"]), (&c["sub"], &c["sid"], &json!("other")));
    // Another person has another sub.
    let mut other = signed_in_at(&p, ORIGIN, "bob@example.com");
    let loc = authorize(&p, ORIGIN, &mut other, &authz_url(&rp.0, "openid", None));
    let t3 = redeem(&p, ORIGIN, &rp, &query_param(&loc, "code").unwrap());
    let (_, c3) = verify(&p, ORIGIN, &rp.0, t3["id_token"].as_str().unwrap());
    assert_ne!(c3["sub"], c["sub"]);
    assert_ne!(c3["sid"], c["sid"]);
    // An ID token is not an access token.
    let r = with_bearer(&p, "GET", "/oauth/userinfo", t["id_token"].as_str().unwrap());
    assert_eq!(r.status, 401);
}

#[test]
fn a_nonce_less_flow_works_and_plain_oauth_is_unchanged() {
    let p = platform();
    let rp = rp_at(&p, ORIGIN, &["public"]);
    let mut b = signed_in_at(&p, ORIGIN, "ann@example.com");
    let loc = authorize(&p, ORIGIN, &mut b, &authz_url(&rp.0, "openid", None));
    let t = redeem(&p, ORIGIN, &rp, &query_param(&loc, "code").unwrap());
    let (_, c) = verify(&p, ORIGIN, &rp.0, t["id_token"].as_str().unwrap());
    assert!(c.get("nonce").is_none(), "{c}");
    // An empty nonce is no nonce.
    let loc = authorize(&p, ORIGIN, &mut b, &authz_url(&rp.0, "openid", Some("")));
    let t = redeem(&p, ORIGIN, &rp, &query_param(&loc, "code").unwrap());
    let (_, c) = verify(&p, ORIGIN, &rp.0, t["id_token"].as_str().unwrap());
    assert!(c.get("nonce").is_none(), "{c}");
    // openid only: only sub at userinfo.
    assert_eq!(userinfo(&p, t["access_token"].as_str().unwrap()), json!({"sub": c["sub"]}));
    // Without openid: no ID token, a refresh token as before.
    let loc = authorize(&p, ORIGIN, &mut b, &authz_url(&rp.0, "public", Some("n")));
    let t = redeem(&p, ORIGIN, &rp, &query_param(&loc, "code").unwrap());
    assert!(t.get("id_token").is_none() && t["refresh_token"].is_string(), "{t}");
    // `email` is not implied: an app must hold it.
    let r = get_at(&p, ORIGIN, &mut b, &authz_url(&rp.0, "openid email", None));
    assert_eq!(r.status, 302);
    assert_eq!(query_param(r.get_header("location").unwrap(), "error").as_deref(), Some("invalid_scope"));
}

#[test]
fn a_refresh_gives_a_new_id_token_with_the_same_sub_and_auth_time() {
    let p = platform();
    let rp = rp_at(&p, ORIGIN, &["public"]);
    let mut b = signed_in_at(&p, ORIGIN, "ann@example.com");
    let loc = authorize(&p, ORIGIN, &mut b, &authz_url(&rp.0, "openid profile offline_access", Some("n1")));
    let t = redeem(&p, ORIGIN, &rp, &query_param(&loc, "code").unwrap());
    let (_, first) = verify(&p, ORIGIN, &rp.0, t["id_token"].as_str().unwrap());
    let rt = t["refresh_token"].as_str().expect("offline_access gives a refresh token");
    p.advance(100);
    let t2 = refresh(&p, ORIGIN, &rp, rt);
    let (_, second) = verify(&p, ORIGIN, &rp.0, t2["id_token"].as_str().unwrap());
    assert_eq!(second["sub"], first["sub"]);
    assert_eq!(second["auth_time"], first["auth_time"]);
    assert_eq!(second["sid"], first["sid"]);
    assert_eq!(second["iat"].as_i64().unwrap(), first["iat"].as_i64().unwrap() + 100);
    assert_eq!(second["at_hash"], at_hash(t2["access_token"].as_str().unwrap()));
    assert!(second.get("nonce").is_none(), "no nonce on refresh: {second}");
    // Narrowed to drop openid: no ID token, the rotated refresh token still comes back.
    let t3 = refresh(&p, ORIGIN, &rp, t2["refresh_token"].as_str().unwrap());
    let pairs = [("grant_type", "refresh_token"), ("refresh_token", t3["refresh_token"].as_str().unwrap()), ("scope", "profile")];
    let h = [("content-type", "application/x-www-form-urlencoded"), ("authorization", &basic(&rp.0, &rp.1))];
    let t4 = expect_json(&send_at(&p, ORIGIN, req("POST", "/oauth/token", &h, form(&pairs))), 200);
    assert!(t4.get("id_token").is_none() && t4["refresh_token"].is_string(), "{t4}");
    // profile (without public): the name, nothing else.
    assert_eq!(userinfo(&p, t4["access_token"].as_str().unwrap()), json!({"sub": first["sub"], "name": "Ann"}));
}

#[test]
fn userinfo_takes_the_token_in_the_header_or_a_post_form_once() {
    let p = platform();
    let rp = rp_at(&p, ORIGIN, &["public", "email"]);
    let mut b = signed_in_at(&p, ORIGIN, "ann@example.com");
    let loc = authorize(&p, ORIGIN, &mut b, &authz_url(&rp.0, "openid email", None));
    let t = redeem(&p, ORIGIN, &rp, &query_param(&loc, "code").unwrap());
    let access = t["access_token"].as_str().unwrap();
    let sub = userinfo(&p, access)["sub"].clone();
    let expected = json!({"sub": sub, "email": "ann@example.com", "email_verified": false});
    assert_eq!(userinfo(&p, access), expected);
    assert_eq!(expect_json(&with_bearer(&p, "POST", "/oauth/userinfo", access), 200), expected);
    let r = post_form(&p, "/oauth/userinfo", &[("access_token", access)], &[]);
    assert_eq!(expect_json(&r, 200), expected);
    let r = post_form(&p, "/oauth/userinfo", &[("access_token", access)], &[("authorization", &bearer(access))]);
    expect_error(&r, 400, "invalid_request");
    let r = post_form(&p, "/oauth/userinfo", &[("access_token", "nope")], &[]);
    assert_eq!(r.status, 401);
    let r = post_form(&p, "/oauth/userinfo", &[], &[]);
    assert_eq!(r.status, 401);
}

#[test]
fn discovery_states_what_the_provider_does() {
    let p = platform();
    let r = send(&p, req("GET", "/.well-known/openid-configuration", &[], ""));
    let d = expect_json(&r, 200);
    assert_eq!(r.get_header("access-control-allow-origin"), Some("*"));
    let oauth = expect_json(&send(&p, req("GET", "/.well-known/oauth-authorization-server", &[], "")), 200);
    assert_eq!(d["issuer"], oauth["issuer"]);
    assert_eq!(d["issuer"], ORIGIN);
    for same in ["authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint", "token_endpoint_auth_methods_supported", "grant_types_supported"] {
        assert_eq!(d[same], oauth[same], "{same}");
    }
    assert_eq!(d["userinfo_endpoint"], format!("{ORIGIN}/oauth/userinfo"));
    assert_eq!(d["jwks_uri"], format!("{ORIGIN}/.well-known/jwks.json"));
    let scopes: Vec<&str> = d["scopes_supported"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    for s in ["openid", "profile", "email", "offline_access"] {
        assert!(scopes.contains(&s), "{s} not in {scopes:?}");
    }
    assert_eq!(d["response_types_supported"], json!(["code"]));
    // Development (no ISSUER) offers pairwise subjects with its development secret.
    assert_eq!(d["subject_types_supported"], json!(["public", "pairwise"]));
    assert_eq!(d["id_token_signing_alg_values_supported"], json!(["RS256"]));
    for c in ["sub", "iss", "auth_time", "nonce", "name", "email", "email_verified", "sid"] {
        assert!(d["claims_supported"].as_array().unwrap().contains(&json!(c)), "{c}");
    }
    assert_eq!(d["request_parameter_supported"], json!(false));
    assert_eq!(d["request_uri_parameter_supported"], json!(false));
    assert_eq!(d["claims_parameter_supported"], json!(true));
    assert_eq!(d["acr_values_supported"], json!(["phr", "urn:portcullis:acr:mfa", "urn:portcullis:acr:password", "urn:portcullis:acr:federated"]));
    assert!(d["claims_supported"].as_array().unwrap().contains(&json!("acr")));
    // Every advertised endpoint exists.
    let path = |f: &str| d[f].as_str().unwrap()[ORIGIN.len()..].to_owned();
    assert_eq!(send(&p, req("GET", &path("jwks_uri"), &[], "")).status, 200);
    assert_eq!(send(&p, req("GET", &path("userinfo_endpoint"), &[], "")).status, 401);
    assert_eq!(send(&p, req("POST", "/.well-known/openid-configuration", &[], "")).status, 405);
}

#[test]
fn each_organisation_has_its_own_issuer_and_signs_with_its_own_keys() {
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    cfg.org_domain = Some("localhost".into());
    let p = platform_with(cfg);
    for label in ["acme", "beta"] {
        assert_eq!(create_org(&p, label).status, 201);
    }
    let discovery = |origin: &str| expect_json(&send_at(&p, origin, req("GET", "/.well-known/openid-configuration", &[], "")), 200);
    let (acme, beta) = (discovery(ACME), discovery(BETA));
    assert_eq!(acme["issuer"], ACME);
    assert_eq!(beta["issuer"], BETA);
    assert_eq!(acme["jwks_uri"], format!("{ACME}/.well-known/jwks.json"));
    let oauth = expect_json(&send_at(&p, ACME, req("GET", "/.well-known/oauth-authorization-server", &[], "")), 200);
    assert_eq!(acme["issuer"], oauth["issuer"]);

    let rp = rp_at(&p, ACME, &["public"]);
    let mut b = signed_in_at(&p, ACME, "ann@example.com");
    let loc = authorize(&p, ACME, &mut b, &authz_url(&rp.0, "openid", Some("n")));
    assert_eq!(query_param(&loc, "iss").as_deref(), Some(ACME));
    let t = redeem(&p, ACME, &rp, &query_param(&loc, "code").unwrap());
    let (kid, c) = verify(&p, ACME, &rp.0, t["id_token"].as_str().unwrap());
    assert_eq!(c["iss"], ACME);
    assert!(kids(&jwks_at(&p, ACME)).contains(&kid));
    assert!(!kids(&jwks_at(&p, BETA)).contains(&kid), "acme's key is not beta's");
    assert!(!kids(&jwks_at(&p, ORIGIN_PLATFORM)).contains(&kid), "nor the deployment's");
}

const ORIGIN_PLATFORM: &str = super::tenancy::PLATFORM;

#[test]
fn hostile_nonces_are_refused_back_to_the_client() {
    let p = platform();
    let rp = rp_at(&p, ORIGIN, &["public"]);
    let mut b = signed_in_at(&p, ORIGIN, "ann@example.com");
    let long = "n".repeat(513);
    // Back to the client with invalid_request: too long, a tab (the one control character
    // the parameter parser lets through).
    for bad in [long.as_str(), "a\tb"] {
        let r = get_at(&p, ORIGIN, &mut b, &authz_url(&rp.0, "openid", Some(bad)));
        assert_eq!(r.status, 302, "{bad:?}: {}", text(&r));
        let loc = r.get_header("location").unwrap();
        assert!(loc.starts_with(CB));
        assert_eq!(query_param(loc, "error").as_deref(), Some("invalid_request"), "{bad:?}");
        assert_eq!(query_param(loc, "state").as_deref(), Some("st"));
        assert!(query_param(loc, "code").is_none());
        let d = query_param(loc, "error_description").unwrap();
        assert!(d.contains("nonce") && !d.contains(['\r', '\n', '\t']), "{d:?}");
    }
    // Other control characters are refused by the parameter parser itself, as in any
    // parameter: a page (never a redirect), and no code.
    for bad in ["a\u{1}b", "a\nb", "a\rb", "\u{7f}", "\u{0}", "a\u{85}b"] {
        let r = get_at(&p, ORIGIN, &mut b, &authz_url(&rp.0, "openid", Some(bad)));
        assert_eq!(r.status, 400, "{bad:?}");
        assert!(r.get_header("location").is_none());
    }
    // The longest accepted nonce is echoed whole.
    let edge = "n".repeat(512);
    let loc = authorize(&p, ORIGIN, &mut b, &authz_url(&rp.0, "openid", Some(&edge)));
    let t = redeem(&p, ORIGIN, &rp, &query_param(&loc, "code").unwrap());
    assert_eq!(verify(&p, ORIGIN, &rp.0, t["id_token"].as_str().unwrap()).1["nonce"], edge.as_str());
}

#[test]
fn with_only_an_ed25519_key_id_tokens_are_eddsa_and_say_so() {
    use crate::config::AccessTokenAlg;
    use crate::crypto::keys::{generate_ed25519_pem, SigningKeys};
    use sha2::Digest;
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    cfg.access_token_alg = AccessTokenAlg::EdDsa;
    let keys = SigningKeys::from_pems_for(&generate_ed25519_pem().unwrap(), AccessTokenAlg::EdDsa, true).unwrap();
    let p = MemPlatform::new(cfg, keys);
    let d = expect_json(&send(&p, req("GET", "/.well-known/openid-configuration", &[], "")), 200);
    assert_eq!(d["id_token_signing_alg_values_supported"], json!(["EdDSA"]));
    let rp = rp_at(&p, ORIGIN, &["public"]);
    let mut b = signed_in_at(&p, ORIGIN, "ann@example.com");
    let loc = authorize(&p, ORIGIN, &mut b, &authz_url(&rp.0, "openid", Some("n")));
    let t = redeem(&p, ORIGIN, &rp, &query_param(&loc, "code").unwrap());
    let id = t["id_token"].as_str().unwrap();
    let decoded = crate::crypto::jwt::decode(id).unwrap();
    assert_eq!((decoded.header.alg.as_str(), decoded.header.typ.as_deref()), ("EdDSA", Some("JWT")));
    assert!(kids(&jwks_at(&p, ORIGIN)).contains(decoded.header.kid.as_ref().unwrap()));
    assert!(p.keys.verify(&decoded));
    // at_hash with SHA-512 for Ed25519 (as node oidc-provider).
    let access = t["access_token"].as_str().unwrap();
    let h = sha2::Sha512::digest(access.as_bytes());
    assert_eq!(decoded.claims["at_hash"], b64url(&h[..32]));
    assert_eq!(decoded.claims["nonce"], "n");
}

#[test]
fn with_both_keys_an_app_chooses_eddsa_id_tokens_and_others_keep_rs256() {
    use crate::config::AccessTokenAlg;
    use crate::crypto::keys::{generate_ed25519_pem, generate_pem, SigningKeys};
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    cfg.access_token_alg = AccessTokenAlg::EdDsa;
    let pems = format!("{}\n{}", generate_ed25519_pem().unwrap(), generate_pem().unwrap());
    let keys = SigningKeys::from_pems_for(&pems, AccessTokenAlg::EdDsa, true).unwrap();
    let p = MemPlatform::new(cfg, keys);
    let d = expect_json(&send(&p, req("GET", "/.well-known/openid-configuration", &[], "")), 200);
    assert_eq!(d["id_token_signing_alg_values_supported"], json!(["RS256", "EdDSA"]));
    let body = json!({"name": "Ed RP", "redirect_uris": [CB], "scopes": ["public"], "id_token_signed_response_alg": "EdDSA"});
    let r = send(&p, json_req("POST", "/admin/apps", Some("admin-secret"), &body));
    let ed_rp = credentials(&expect_json(&r, 201));
    let rs_rp = rp_at(&p, ORIGIN, &["public"]);
    let mut b = signed_in_at(&p, ORIGIN, "ann@example.com");
    for (rp, alg) in [(&ed_rp, "EdDSA"), (&rs_rp, "RS256")] {
        let loc = authorize(&p, ORIGIN, &mut b, &authz_url(&rp.0, "openid", None));
        let t = redeem(&p, ORIGIN, rp, &query_param(&loc, "code").unwrap());
        let decoded = crate::crypto::jwt::decode(t["id_token"].as_str().unwrap()).unwrap();
        assert_eq!(decoded.header.alg.as_str(), alg);
        assert!(kids(&jwks_at(&p, ORIGIN)).contains(decoded.header.kid.as_ref().unwrap()));
        assert!(p.keys.verify(&decoded));
        let access = t["access_token"].as_str().unwrap();
        let expected = crate::oauth::id_token::at_hash(if alg == "EdDSA" { AccessTokenAlg::EdDsa } else { AccessTokenAlg::Rs256 }, access);
        assert_eq!(decoded.claims["at_hash"], expected.as_str());
    }
    // A server without an Ed25519 key refuses EdDSA for ID tokens, by the registration error.
    let p = platform();
    let r = send(&p, json_req("POST", "/admin/apps", Some("admin-secret"), &body));
    expect_error(&r, 400, "invalid_client_metadata");
    let r = register(&p, None, &json!({"redirect_uris": [CB], "id_token_signed_response_alg": "EdDSA"}));
    expect_error(&r, 400, "invalid_client_metadata");
}
