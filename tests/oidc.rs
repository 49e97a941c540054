//! OpenID Connect end to end against `wrangler dev`: discovery, a whole code flow with a nonce
//! driven as a browser drives it, the ID token verified as a relying party verifies it (the key
//! of its `kid` from the discovered `jwks_uri`, with `jsonwebtoken`), userinfo by scope (GET
//! and POST), a refresh with a new ID token, an oversized nonce sent back as an error, and
//! `prompt` (none without a session; login with one, giving a new `auth_time`).

#[path = "browser/mod.rs"]
mod browser;
mod common;

use browser::*;
use common::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use sha2::Digest;
use std::sync::OnceLock;

fn s() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| Server::start_with(&roomy_vars()))
}

fn discovery(s: &Server) -> Value {
    let r = s.get("/.well-known/openid-configuration");
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    r.expect_json(200)
}

/// The path part of an endpoint URL the discovery document names.
fn path_of(s: &Server, url: &Value) -> String {
    url.as_str().unwrap().strip_prefix(s.issuer()).unwrap().to_owned()
}

/// Verifies an ID token with the key its `kid` names in the discovered JWKS; the claims.
#[track_caller]
fn verify_id_token(s: &Server, d: &Value, client_id: &str, token: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"), "an ID token is not an at+jwt");
    let kid = header.kid.expect("kid");
    let jwks = s.get(&path_of(s, &d["jwks_uri"])).expect_json(200);
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap_or_else(|| panic!("kid {kid} not in {jwks}"));
    let key = DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap()).unwrap();
    let mut v = Validation::new(Algorithm::RS256);
    v.set_issuer(&[d["issuer"].as_str().unwrap()]);
    v.set_audience(&[client_id]);
    v.leeway = 5;
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .unwrap_or_else(|e| panic!("ID token refused ({e}): {token}"))
        .claims
}

fn at_hash(access_token: &str) -> String {
    b64url(&sha2::Sha256::digest(access_token.as_bytes())[..16])
}

#[test]
fn discovery_is_the_rfc8414_metadata_plus_openid_connect() {
    let s = s();
    let d = discovery(s);
    let oauth = s.get("/.well-known/oauth-authorization-server").expect_json(200);
    assert_eq!(d["issuer"], oauth["issuer"]);
    assert_eq!(d["issuer"], s.issuer());
    assert_eq!(d["authorization_endpoint"], oauth["authorization_endpoint"]);
    assert_eq!(d["token_endpoint"], oauth["token_endpoint"]);
    assert_eq!(d["response_types_supported"], json!(["code"]));
    assert_eq!(d["subject_types_supported"], json!(["public", "pairwise"]), "development offers pairwise");
    assert_eq!(d["id_token_signing_alg_values_supported"], json!(["RS256"]));
    let scopes = d["scopes_supported"].as_array().unwrap();
    for sc in ["openid", "profile", "email", "offline_access"] {
        assert!(scopes.contains(&json!(sc)), "{sc}");
    }
    assert_eq!(d["request_parameter_supported"], json!(false));
    assert_eq!(d["request_uri_parameter_supported"], json!(false));
    assert_eq!(d["claims_parameter_supported"], json!(true));
    assert_eq!(
        d["acr_values_supported"],
        json!(["phr", "urn:portcullis:acr:mfa", "urn:portcullis:acr:password", "urn:portcullis:acr:federated"])
    );
    s.get(&path_of(s, &d["jwks_uri"])).expect(200);
    s.get(&path_of(s, &d["userinfo_endpoint"])).expect_error(401, "invalid_token");
}

#[test]
fn code_flow_with_nonce_id_token_userinfo_and_refresh() {
    let s = s();
    let d = discovery(s);
    let c = Client::web(s, &["public", "email"]);
    let (b, person) = Browser::signed_up(s, "oidc");
    let (verifier, challenge) = pkce();
    let nonce = format!("n-{}", rand_hex(8));
    let path = authorize_path(&[
        ("response_type", "code"),
        ("client_id", c.id()),
        ("redirect_uri", c.redirect_uri.as_str()),
        ("scope", "openid profile email offline_access"),
        ("state", "st-oidc"),
        ("nonce", nonce.as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]);
    let code = b.code(s, &path);
    let t = c.redeem(s, &code, Some(&verifier)).expect_json(200);
    assert_eq!(t["scope"], "openid profile email offline_access");
    let access = t["access_token"].as_str().unwrap();
    let claims = verify_id_token(s, &d, c.id(), t["id_token"].as_str().expect("an id_token"));
    assert_eq!(claims["nonce"], nonce.as_str());
    assert_eq!(claims["azp"], c.id());
    assert_eq!(claims["at_hash"], at_hash(access));
    assert_eq!(claims["amr"], json!(["pwd"]));
    let (iat, auth_time) = (claims["iat"].as_i64().unwrap(), claims["auth_time"].as_i64().unwrap());
    assert!(auth_time <= iat && iat - auth_time < 600, "auth_time {auth_time}, iat {iat}");
    let sid = claims["sid"].as_str().expect("sid");
    let cookie = b.cookie(SESSION_COOKIE).expect("session cookie");
    assert!(sid != cookie && !cookie.contains(sid));
    // The access token is the same person; userinfo by scope, GET and POST.
    assert_eq!(s.verify_access_token(access)["sub"], claims["sub"]);
    let expected = json!({"sub": claims["sub"], "name": person.name, "email": person.email.to_lowercase(), "email_verified": false});
    assert_eq!(userinfo(s, access).expect_json(200), expected);
    let r = s.post_form("/oauth/userinfo", &[("access_token", access)]);
    assert_eq!(r.expect_json(200), expected);
    // Refresh (offline_access granted): a new ID token, same sub and auth_time, no nonce.
    let rt = t["refresh_token"].as_str().expect("offline_access gives a refresh token");
    let t2 = c.refresh(s, rt, None).expect_json(200);
    let again = verify_id_token(s, &d, c.id(), t2["id_token"].as_str().expect("a new id_token"));
    assert_eq!(again["sub"], claims["sub"]);
    assert_eq!(again["auth_time"], claims["auth_time"]);
    assert!(again.get("nonce").is_none(), "{again}");
    assert_eq!(again["at_hash"], at_hash(t2["access_token"].as_str().unwrap()));
    // openid alone: only sub; no refresh token without offline_access.
    let (verifier, challenge) = pkce();
    let path = authorize_path(&[
        ("response_type", "code"),
        ("client_id", c.id()),
        ("redirect_uri", c.redirect_uri.as_str()),
        ("scope", "openid"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]);
    let t = c.redeem(s, &b.code(s, &path), Some(&verifier)).expect_json(200);
    assert!(t.get("refresh_token").is_none(), "{t}");
    let plain = verify_id_token(s, &d, c.id(), t["id_token"].as_str().unwrap());
    assert!(plain.get("nonce").is_none());
    let me = userinfo(s, t["access_token"].as_str().unwrap()).expect_json(200);
    assert_eq!(me, json!({"sub": claims["sub"]}));
}

#[test]
fn the_claims_parameter_releases_single_claims_after_consent_and_acr_is_stated() {
    let s = s();
    let d = discovery(s);
    let c = Client::web(s, &["public", "email"]);
    let (b, person) = Browser::signed_up(s, "claims");
    let (verifier, challenge) = pkce();
    let claims = r#"{"userinfo":{"email":{"essential":true}},"id_token":{"name":null,"acr":{"values":["urn:portcullis:acr:password"]}}}"#;
    let path = authorize_path(&[
        ("response_type", "code"),
        ("client_id", c.id()),
        ("redirect_uri", c.redirect_uri.as_str()),
        ("scope", "openid"),
        ("claims", claims),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]);
    let t = c.redeem(s, &b.code(s, &path), Some(&verifier)).expect_json(200);
    assert_eq!(t["scope"], "openid");
    let id = verify_id_token(s, &d, c.id(), t["id_token"].as_str().unwrap());
    assert_eq!(id["name"], person.name.as_str());
    assert_eq!(id["acr"], "urn:portcullis:acr:password");
    assert!(id.get("email").is_none(), "{id}");
    let me = userinfo(s, t["access_token"].as_str().unwrap()).expect_json(200);
    assert_eq!(me, json!({"sub": id["sub"], "email": person.email.to_lowercase()}));
    // Malformed claims: back to the client, no code.
    let path = authorize_path(&[
        ("response_type", "code"),
        ("client_id", c.id()),
        ("redirect_uri", c.redirect_uri.as_str()),
        ("scope", "openid"),
        ("state", "st"),
        ("claims", "{\"userinfo\":"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]);
    let r = b.get(&path);
    r.expect(302);
    let loc = r.header("location").unwrap();
    assert_eq!(query_param(loc, "error").as_deref(), Some("invalid_request"), "{loc}");
    assert!(query_param(loc, "code").is_none(), "{loc}");
}

#[test]
fn an_oversized_nonce_goes_back_to_the_client_as_invalid_request() {
    let s = s();
    let c = Client::web(s, &["public"]);
    let (b, _) = Browser::signed_up(s, "nonce");
    let long = "n".repeat(513);
    let path = authorize_path(&[
        ("response_type", "code"),
        ("client_id", c.id()),
        ("redirect_uri", c.redirect_uri.as_str()),
        ("scope", "openid"),
        ("state", "st-n"),
        ("nonce", long.as_str()),
    ]);
    let r = b.get(&path);
    r.expect(302);
    let loc = r.header("location").unwrap();
    assert!(loc.starts_with(&c.redirect_uri), "{loc}");
    assert_eq!(query_param(loc, "error").as_deref(), Some("invalid_request"));
    assert_eq!(query_param(loc, "state").as_deref(), Some("st-n"));
    assert!(query_param(loc, "code").is_none());
}

#[test]
fn prompt_none_without_a_session_and_prompt_login_with_one() {
    let s = s();
    let d = discovery(s);
    let c = Client::web(s, &["public"]);
    let path = |extra: &[(&str, &str)]| {
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", c.id()),
            ("redirect_uri", c.redirect_uri.as_str()),
            ("scope", "openid"),
            ("state", "st-p"),
        ];
        pairs.extend_from_slice(extra);
        authorize_path(&pairs)
    };
    // prompt=none without a session: never a page, login_required back to the client.
    let r = Browser::new(s).get(&path(&[("prompt", "none")]));
    r.expect(302);
    let loc = r.header("location").unwrap();
    assert!(loc.starts_with(&c.redirect_uri), "{loc}");
    assert_eq!(query_param(loc, "error").as_deref(), Some("login_required"));
    assert_eq!(query_param(loc, "state").as_deref(), Some("st-p"));
    assert_eq!(query_param(loc, "iss").as_deref(), Some(s.issuer()));
    assert!(query_param(loc, "code").is_none());
    // A first flow (consent remembered), then prompt=login with the session: the log-in page,
    // and after logging in anew, a code whose ID token has the new auth_time.
    let (b, person) = Browser::signed_up(s, "prompt");
    let first = c.redeem(s, &b.code(s, &path(&[])), None).expect_json(200);
    let first = verify_id_token(s, &d, c.id(), first["id_token"].as_str().unwrap());
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let login = b.redirected(&path(&[("prompt", "login")]));
    assert!(login.starts_with("/login?"), "{login}");
    let page = b.get(&login);
    page.expect(200);
    assert!(page.text().contains("name=\"password\""), "{}", page.text());
    let r = b.submit(&page, "/login", &[("email", &person.email), ("password", &person.password)]);
    r.expect(303);
    let back = r.header("location").unwrap().to_owned();
    assert!(back.starts_with("/oauth/authorize?"), "{back}");
    let r = b.get(&back);
    r.expect(302);
    let loc = r.header("location").unwrap();
    assert_eq!(query_param(loc, "state").as_deref(), Some("st-p"));
    let code = query_param(loc, "code").unwrap_or_else(|| panic!("no code in {loc}"));
    let t = c.redeem(s, &code, None).expect_json(200);
    let again = verify_id_token(s, &d, c.id(), t["id_token"].as_str().unwrap());
    assert_eq!(again["sub"], first["sub"]);
    assert!(
        again["auth_time"].as_i64().unwrap() >= first["auth_time"].as_i64().unwrap() + 2,
        "a new auth_time: {} after {}",
        again["auth_time"],
        first["auth_time"]
    );
}
