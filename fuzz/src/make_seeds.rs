//! Writes the seed corpora (`seeds/<target>/<name>`): valid tokens signed with the fuzz key,
//! and the shapes each parser is meant for, so the fuzzers start from deep inside.
//! `cargo run --release --example make_seeds [-- DIR]` (default DIR: `seeds`).

use portcullis_fuzz::{kid, sign, CLIENT_ID, CSRF, ISSUER, NOW};
use serde_json::json;
use std::path::{Path, PathBuf};

fn write(dir: &Path, target: &str, name: &str, data: impl AsRef<[u8]>) {
    let d = dir.join(target);
    std::fs::create_dir_all(&d).expect("mkdir");
    std::fs::write(d.join(name), data).expect("write seed");
}

fn at_header() -> serde_json::Value {
    json!({"alg": "RS256", "typ": "at+jwt", "kid": kid()})
}

fn access_claims() -> serde_json::Value {
    json!({
        "iss": ISSUER, "sub": "user0001", "aud": ISSUER, "client_id": CLIENT_ID,
        "scope": "public", "jti": "jti0001", "iat": NOW - 10, "exp": NOW + 3600, "ep": 0
    })
}

fn assertion_claims() -> serde_json::Value {
    json!({
        "iss": CLIENT_ID, "sub": CLIENT_ID, "aud": ISSUER, "iat": NOW,
        "exp": NOW + 300, "jti": "assertion-1"
    })
}

fn main() {
    let dir: PathBuf = std::env::args().nth(1).unwrap_or_else(|| "seeds".into()).into();

    // Body parsers.
    for (i, s) in [
        "grant_type=client_credentials&scope=public+users%3Aread",
        "grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Fclient.example%2Fcb&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        "a=1+2&b=%41%2b&c=&d",
        "a=%ff&b=%0&c=%zz",
        "state=a%20b%26c%3Dd%2F%C3%A9&x=%09tab",
        "a=1&a=2",
        "&&=&==&%3D=%26",
        "token=x&token_type_hint=refresh_token",
    ]
    .iter()
    .enumerate()
    {
        write(&dir, "params_form", &format!("form{i}"), s);
    }
    for (i, s) in [
        r#"{"grant_type":"client_credentials","scope":"public"}"#,
        r#"{"a":"x","n":5,"t":true,"z":null,"f":1.5e3}"#,
        r#"{"a":{"b":1}}"#,
        r#"{"scope":["a","b"]}"#,
        r#"["a"]"#,
        r#"{"a":"\u0000","b":"\t","c":"\ud83d\ude00"}"#,
        r#"{"a":"1","a":"2"}"#,
        r#"{"n":123456789012345678901234567890,"m":-0.0,"e":1e308}"#,
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    ]
    .iter()
    .enumerate()
    {
        write(&dir, "params_json", &format!("json{i}"), s);
    }

    // Tokens: the server's access tokens and the app's assertions, good and bad.
    let good = sign(&at_header(), &access_claims());
    let mut tokens = vec![
        ("access", good.clone()),
        (
            "access_nokid",
            sign(&json!({"alg": "RS256", "typ": "at+jwt"}), &access_claims()),
        ),
        ("access_gid", {
            let mut c = access_claims();
            c["gid"] = "grant1".into();
            sign(&at_header(), &c)
        }),
        ("access_bot", {
            let mut c = access_claims();
            c["bot"] = true.into();
            c["akid"] = kid().into();
            sign(&at_header(), &c)
        }),
        ("access_expired", {
            let mut c = access_claims();
            c["exp"] = (NOW - 1).into();
            sign(&at_header(), &c)
        }),
        ("access_other_iss", {
            let mut c = access_claims();
            c["iss"] = "https://other.example".into();
            sign(&at_header(), &c)
        }),
        (
            "access_typ_jwt",
            sign(
                &json!({"alg": "RS256", "typ": "JWT", "kid": kid()}),
                &access_claims(),
            ),
        ),
        (
            "access_crit",
            sign(
                &json!({"alg": "RS256", "typ": "at+jwt", "crit": ["exp"]}),
                &access_claims(),
            ),
        ),
        (
            "kid_path",
            sign(
                &json!({"alg": "RS256", "typ": "at+jwt", "kid": "../../../etc/passwd"}),
                &access_claims(),
            ),
        ),
        ("alg_none", {
            let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
            parts[0] = portcullis::util::b64url(br#"{"alg":"none","typ":"at+jwt"}"#);
            parts[2].clear();
            parts.join(".")
        }),
        ("alg_hs256", {
            let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
            parts[0] = portcullis::util::b64url(br#"{"alg":"HS256","typ":"at+jwt"}"#);
            parts.join(".")
        }),
        (
            "assertion",
            sign(&json!({"alg": "RS256", "kid": kid()}), &assertion_claims()),
        ),
        ("assertion_nojti", {
            let mut c = assertion_claims();
            c.as_object_mut().unwrap().remove("jti");
            sign(&json!({"alg": "RS256"}), &c)
        }),
        ("assertion_aud_array", {
            let mut c = assertion_claims();
            c["aud"] = json!(["https://x.example", format!("{ISSUER}/oauth/token")]);
            c["nbf"] = (NOW - 5).into();
            sign(&json!({"alg": "RS256", "typ": "JWT"}), &c)
        }),
        ("assertion_float_times", {
            let mut c = assertion_claims();
            c["exp"] = json!((NOW + 100) as f64 + 0.5);
            c["iat"] = json!(NOW as f64 - 0.25);
            sign(&json!({"alg": "RS256"}), &c)
        }),
        ("assertion_noaud", {
            let mut c = assertion_claims();
            c.as_object_mut().unwrap().remove("aud");
            sign(&json!({"alg": "RS256"}), &c)
        }),
    ];
    // Upstream ID tokens (sign-in with another provider): valid, and one claim off each.
    let id_claims = || json!({"iss": "https://idp.example", "aud": "fuzz-rp", "sub": "person-1", "nonce": "nonce-0",
        "email": "p@example.com", "email_verified": true, "iat": NOW, "exp": NOW + 300, "amr": ["pwd"]});
    let id_header = json!({"alg": "RS256", "kid": kid()});
    for (name, change) in [("valid", json!({})), ("nonce", json!({"nonce": "x"})), ("aud_list", json!({"aud": ["fuzz-rp", "x"], "azp": "fuzz-rp"})), ("expired", json!({"exp": NOW - 600}))] {
        let mut c = id_claims();
        if let (Some(c), Some(ch)) = (c.as_object_mut(), change.as_object()) {
            c.extend(ch.clone());
        }
        write(&dir, "upstream_id_token", &format!("id_token_{name}"), sign(&id_header, &c));
    }
    write(&dir, "upstream_id_token", "providers", r#"[{"id":"idp","name":"IdP","type":"oidc","issuer":"https://idp.example","client_id":"c"},{"id":"gh","name":"GH","type":"oauth2","client_id":"c","authorization_endpoint":"https://gh.example/a","token_endpoint":"https://gh.example/t","userinfo_endpoint":"https://gh.example/u","fields":{"email_verified":"v"}}]"#);
    tokens.push(("two_dots", "a.b".into()));
    for (name, t) in &tokens {
        write(&dir, "jwt_verify", name, t);
        write(&dir, "access_token_validate", name, t);
        for flags in [0u8, 7] {
            let mut data = vec![flags];
            data.extend_from_slice(t.as_bytes());
            write(&dir, "assertion_verify", &format!("{name}_{flags}"), data);
        }
    }

    // RSA kernel: the fuzz key's modulus with e = 65537 and a real signature, a 4096-bit-ish
    // modulus, small ones.
    {
        use rsa::traits::PublicKeyParts;
        let public = portcullis_fuzz::private_key().to_public_key();
        let n = public.n().to_bytes_be();
        let sig = portcullis_fuzz::rs256_reference_sign(portcullis_fuzz::private_key(), b"seed");
        let mut data = vec![(n.len() / 2) as u8, 0x80 | 0x01, 0x00, 0x01];
        data.extend_from_slice(&n);
        data.extend_from_slice(&sig);
        write(&dir, "rsa_kernel", "fuzz_key_e65537", &data);
        write(&dir, "rs256_sign", "empty", b"");
        write(
            &dir,
            "rs256_sign",
            "jws_input",
            b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0",
        );
        let mut big = vec![255u8, 0x80, 0x00, 0x03];
        big.extend(std::iter::repeat_n(0xa5u8, 510 + 510));
        write(&dir, "rsa_kernel", "big_e3", &big);
        let mut small = vec![1u8, 0x00, 0x00, 0x03, 0x0b, 0x05];
        write(&dir, "rsa_kernel", "small", &small);
        small[0] = 2;
        small.extend_from_slice(&[0xff, 0xfd, 0x00, 0x07]);
        write(&dir, "rsa_kernel", "small2", &small);
    }

    // Redirect URIs: registered NUL requested.
    let pairs = [
        ("https://client.example/cb", "https://client.example/cb"),
        ("https://client.example/cb", "https://client.example/cb/"),
        (
            "https://client.example/cb?x=1",
            "https://client.example/cb?x=1&y=2",
        ),
        ("http://127.0.0.1/cb", "http://127.0.0.1:53121/cb"),
        ("http://[::1]:80/cb", "http://[::1]:8080/cb"),
        ("http://localhost:3000/callback", "http://localhost:1/callback"),
        ("http://127.0.0.1/cb", "http://127.0.0.1:80@evil.example/cb"),
        ("http://127.0.0.1/cb", "http://127.0.0.1:8080#@evil.example/cb"),
        (
            "com.example.app:/oauth2redirect",
            "com.example.app:/oauth2redirect",
        ),
        (
            "https://good.example@evil.example/cb",
            "https://good.example@evil.example/cb",
        ),
        ("https://app.example/../cb", "https://app.example/%2e%2e/cb"),
        ("https://APP.example./cb", "https://app.example/cb"),
        ("javascript:alert(1)", "data:text/html,hi"),
        ("https://\u{0430}pp.example/cb", "https://xn--pp-8kc.example/cb"),
        (
            "https://app.example\\@evil/",
            "https://app.example:443.evil.example/",
        ),
    ];
    for (i, (reg, req)) in pairs.iter().enumerate() {
        for flags in [0u8, 1] {
            let mut data = vec![flags];
            data.extend_from_slice(reg.as_bytes());
            data.push(0);
            data.extend_from_slice(req.as_bytes());
            write(&dir, "redirect_uri", &format!("pair{i}_{flags}"), data);
        }
    }

    // PKCE: flags, challenge NUL verifier NUL method.
    let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    for (i, (flags, ch, ve, m)) in [
        (0b0111u8, c, v, ""),
        (0b1011, v, v, ""),
        (0b0011, v, v, ""),
        (0b1111, c, v, "S512"),
        (0b10000, "", "", ""),
        (0b0010, "", v, ""),
        (0b0101, "short", v, ""),
    ]
    .iter()
    .enumerate()
    {
        let mut data = vec![*flags];
        data.extend_from_slice(format!("{ch}\0{ve}\0{m}").as_bytes());
        write(&dir, "pkce", &format!("pkce{i}"), data);
    }

    // Router: method, route, content type, credentials, cookies; query NUL body.
    // Indexes are those of the router target's tables.
    let route = |name: &str| -> u8 {
        const ROUTES: [&str; 32] = [
            "/.well-known/oauth-authorization-server",
            "/.well-known/jwks.json",
            "/.well-known/oauth-protected-resource",
            "/oauth/token",
            "/oauth/v2/access_token",
            "/application/token",
            "/oauth/authorize",
            "/oauth/v2/authorize",
            "/login",
            "/signup",
            "/logout",
            "/",
            "/oauth/register",
            "/oauth/register.php",
            "/oauth/register/confirm",
            "/oauth/register/{id}",
            "/apps",
            "/apps/{id}/regenerate",
            "/apps/{id}/remove",
            "/oauth/introspect",
            "/oauth/revoke",
            "/oauth/userinfo",
            "/oauth/v2/user",
            "/admin/apps",
            "/admin/apps/",
            "/admin/apps/{id}",
            "/admin/apps/{id}/secret",
            "/admin/apps/{id}/keys",
            "/admin/apps/{id}/keys/{kid}",
            "/admin",
            "/nowhere",
            "/apps/{id}/other",
        ];
        ROUTES.iter().position(|r| *r == name).expect("known route") as u8
    };
    // method: 0 GET 1 POST 2 PUT 3 DELETE 4 PATCH 5 HEAD 6 OPTIONS
    // content type: 0 none 1 form 2 json; credentials: 0 none 1 admin 2 basic client 4 bearer=query
    // cookies: 1 session 2 csrf 4 cross-site Origin
    let authz_q = format!(
        "response_type=code&client_id={CLIENT_ID}&redirect_uri=http%3A%2F%2F127.0.0.1%3A5555%2Fcb&scope=public&state=xyz&code_challenge={c}&code_challenge_method=S256"
    );
    let router_seeds: Vec<(&str, [u8; 5], String, String)> = vec![
        ("metadata", [0, route("/.well-known/oauth-authorization-server"), 0, 0, 0], String::new(), String::new()),
        ("jwks", [5, route("/.well-known/jwks.json"), 0, 0, 0], String::new(), String::new()),
        ("preflight", [6, route("/oauth/token"), 0, 0, 0], String::new(), String::new()),
        ("cc", [1, route("/oauth/token"), 1, 2, 0], String::new(), "grant_type=client_credentials&scope=public".into()),
        ("cc_json", [1, route("/oauth/token"), 2, 0, 0], String::new(), format!(r#"{{"grant_type":"client_credentials","client_id":"{CLIENT_ID}","client_secret":"fuzz-secret"}}"#)),
        ("code", [1, route("/oauth/token"), 1, 2, 0], String::new(), format!("grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Fclient.example%2Fcb&code_verifier={v}")),
        ("refresh", [1, route("/oauth/v2/access_token"), 1, 2, 0], String::new(), "grant_type=refresh_token&refresh_token=abc&scope=public".into()),
        ("jwt_bearer", [1, route("/oauth/token"), 1, 0, 0], String::new(), format!("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={}", tokens[11].1)),
        ("app_token", [1, route("/application/token"), 0, 4, 0], tokens[11].1.clone(), String::new()),
        ("authorize", [0, route("/oauth/authorize"), 0, 0, 1], authz_q.clone(), String::new()),
        ("authorize_nosession", [0, route("/oauth/v2/authorize"), 0, 0, 0], authz_q.clone(), String::new()),
        ("authorize_allow", [1, route("/oauth/authorize"), 1, 0, 3], String::new(), format!("{authz_q}&csrf={CSRF}&decision=allow")),
        ("authorize_deny", [1, route("/oauth/authorize"), 1, 0, 3], String::new(), format!("{authz_q}&csrf={CSRF}&decision=deny")),
        ("authorize_evil", [0, route("/oauth/authorize"), 0, 0, 1], format!("response_type=code&client_id={CLIENT_ID}&redirect_uri=https%3A%2F%2Fevil.example%2Fcb"), String::new()),
        ("login_page", [0, route("/login"), 0, 0, 0], "return_to=%2Foauth%2Fauthorize%3Fx%3D1".into(), String::new()),
        ("logout", [1, route("/logout"), 1, 0, 3], String::new(), format!("csrf={CSRF}")),
        ("home", [0, route("/"), 0, 0, 1], String::new(), String::new()),
        ("register_json", [1, route("/oauth/register"), 2, 0, 0], String::new(), r#"{"redirect_uris":["https://new.example/cb"],"client_name":"New","scope":"public"}"#.into()),
        ("register_page", [0, route("/oauth/register"), 0, 0, 1], "name=App&homepage=https%3A%2F%2Fnew.example&email=a%40new.example&redirect_uri=https%3A%2F%2Fnew.example%2Fcb&state=s".into(), String::new()),
        ("register_confirm", [1, route("/oauth/register/confirm"), 1, 0, 3], String::new(), format!("name=App&homepage=https%3A%2F%2Fnew.example&email=a%40new.example&redirect_uri=https%3A%2F%2Fnew.example%2Fcb&state=s&csrf={CSRF}&decision=register&grant_access=yes")),
        ("rfc7592", [0, route("/oauth/register/{id}"), 0, 4, 0], "registration-token".into(), String::new()),
        ("apps_add", [1, route("/apps"), 1, 0, 3], String::new(), format!("name=Mine&redirect_uri=https%3A%2F%2Fmine.example%2Fcb&trusted=yes&csrf={CSRF}")),
        ("apps_regenerate", [1, route("/apps/{id}/regenerate"), 1, 1, 0], String::new(), "confirm=yes".into()),
        ("apps_remove", [1, route("/apps/{id}/remove"), 1, 1, 0], String::new(), "confirm=no".into()),
        ("introspect_admin", [1, route("/oauth/introspect"), 1, 1, 0], String::new(), format!("token={}", tokens[0].1)),
        ("revoke", [1, route("/oauth/revoke"), 1, 2, 0], String::new(), format!("token={}&token_type_hint=access_token", tokens[0].1)),
        ("userinfo", [0, route("/oauth/userinfo"), 0, 4, 0], tokens[2].1.clone(), String::new()),
        ("admin_list", [0, route("/admin/apps"), 0, 1, 0], "limit=5&owner=operator".into(), String::new()),
        ("admin_create", [1, route("/admin/apps"), 2, 1, 0], String::new(), r#"{"name":"A","redirect_uris":"https://a.example/cb","scopes":["public"],"trusted":true}"#.into()),
        ("admin_patch", [4, route("/admin/apps/{id}"), 2, 1, 0], String::new(), r#"{"status":"disabled","token_lifetime":600}"#.into()),
        ("admin_delete_key", [3, route("/admin/apps/{id}/keys/{kid}"), 0, 1, 0], String::new(), String::new()),
        ("admin_secret", [1, route("/admin/apps/{id}/secret"), 0, 1, 0], String::new(), String::new()),
    ];
    for (name, choice, query, body) in router_seeds {
        let mut data = choice.to_vec();
        data.extend_from_slice(query.as_bytes());
        data.push(0);
        data.extend_from_slice(body.as_bytes());
        write(&dir, "router", name, data);
    }
    // OpenID Connect request parameters: a selector byte, then text (see the target).
    for (name, selector, text) in OIDC_REQUEST_SEEDS {
        let mut data = vec![*selector];
        data.extend_from_slice(text.as_bytes());
        write(&dir, "oidc_request", name, data);
    }
    webauthn_seeds(&dir);
    eprintln!("seeds written under {}", dir.display());
}

/// Seeds of `webauthn`: a mode byte (see the target), then a COSE key, authenticator data,
/// client data or an attestation object that passes.
fn webauthn_seeds(dir: &Path) {
    use portcullis::rules::webauthn::auth_data::{encode, FLAG_AT, FLAG_BE, FLAG_ED, FLAG_UP, FLAG_UV};
    use portcullis::rules::webauthn::cbor::{write, Value};
    use portcullis::rules::webauthn::cose::{encode as cose, CoseKey};
    use sha2::{Digest, Sha256};
    let rp: [u8; 32] = Sha256::digest(b"as.example").into();
    let keys = [
        CoseKey::Es256 { x: [1; 32], y: [2; 32] },
        CoseKey::Ed25519 { x: [3; 32] },
        CoseKey::Rs256 { n: vec![0xc5; 256], e: vec![1, 0, 1] },
    ];
    let seed = |mode: u8, bytes: &[u8]| [&[mode][..], bytes].concat();
    for (i, k) in keys.iter().enumerate() {
        write(dir, "webauthn", &format!("cose{i}"), seed(1, &cose(k)));
        let auth = encode(&rp, FLAG_UP | FLAG_UV | FLAG_AT | FLAG_BE, 0, Some((&[0; 16], &[7; 16], &cose(k))));
        write(dir, "webauthn", &format!("auth_data{i}"), seed(2, &auth));
        let obj = write::encode(&Value::Map(vec![
            (Value::Text("fmt"), Value::Text("none")),
            (Value::Text("attStmt"), Value::Map(vec![])),
            (Value::Text("authData"), Value::Bytes(&auth)),
        ]));
        write(dir, "webauthn", &format!("attestation{i}"), seed(4, &obj));
        write(dir, "webauthn", &format!("cbor{i}"), seed(0, &obj));
    }
    let mut ext = encode(&rp, FLAG_UP | FLAG_ED, 1, None);
    ext.extend_from_slice(&[0xa1, 0x63, b'u', b'v', b'm', 0x80]);
    write(dir, "webauthn", "auth_data_ext", seed(2, &ext));
    write(dir, "webauthn", "assertion", seed(5, &encode(&rp, FLAG_UP | FLAG_UV, 8, None)));
    write(dir, "webauthn", "assertion_counter", seed(5, &encode(&rp, FLAG_UP | FLAG_UV, 7, None)));
    let cd = r#"{"type":"webauthn.get","challenge":"AAAAAAAAAAAAAAAAAAAAAA","origin":"https://as.example","crossOrigin":false}"#;
    write(dir, "webauthn", "client_data", seed(3, cd.as_bytes()));
}

/// Seeds of `oidc_request`: (name, selector, text). Selector 5 with a first byte of 0 and
/// nothing after it is the valid ID token itself.
const OIDC_REQUEST_SEEDS: &[(&str, u8, &str)] = &[
    ("prompt_none", 0, "none"),
    ("prompt_login_consent", 0, "login consent"),
    ("prompt_none_login", 0, "none login"),
    ("prompt_select", 0, " select_account "),
    ("max_age", 1, "3600"),
    ("max_age_zero", 1, "000"),
    ("max_age_big", 1, "9007199254740992"),
    ("max_age_neg", 1, "-1"),
    ("marker", 2, "1794999500"),
    ("login_hint", 3, "ann@example.com"),
    ("login_hint_html", 3, "\"><script>x</script>"),
    ("hint_junk", 4, "eyJhbGciOiJub25lIn0.e30."),
    ("hint_valid", 5, "\u{0}"),
    ("hint_spliced", 5, "\u{80}x"),
];
