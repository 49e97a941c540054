//! Issue 6 end to end against `wrangler dev`: the interactive registration page
//! (`/oauth/register`, `/oauth/register.php`), RFC 7591/7592 dynamic registration under each
//! policy (open, initial access token, off; public clients switched off), the `/apps`
//! management page, and the per-owner app limit on the registration page.

#[path = "browser/mod.rs"]
mod browser;
mod common;

use browser::*;
use common::*;
use std::sync::OnceLock;
use std::time::Duration;

/// Development defaults: registration policy `open`.
fn s() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| Server::start_with(&roomy_vars()))
}

const IAT: &str = "e2e-initial-access-token-0123456789";

fn registration_fields(redirect_uri: &str) -> Vec<(&'static str, String)> {
    vec![
        ("name", "My <b>App</b> & co".into()),
        ("description", "Made by \"the\" e2e tests".into()),
        ("homepage", "https://dev.example/home?a=1&b=2".into()),
        ("image_uri", "https://dev.example/logo.png".into()),
        ("email", "dev@dev.example".into()),
        ("phone", "+1 (555) 010-9999".into()),
        ("redirect_uri", redirect_uri.into()),
        ("api", "systemapi".into()),
        ("state", "st <&> ü".into()),
    ]
}

fn as_pairs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// A fresh redirect URI and the interactive registration page for `registration_fields` of it,
/// as `b` sees it.
fn registration_page(b: &Browser) -> (String, Resp) {
    let uri = redirect_uri();
    let page = b.get(&format!("/oauth/register?{}", form(&as_pairs(&registration_fields(&uri)))));
    (uri, page)
}

fn redirect_uri() -> String {
    format!("https://dev-{}.example/registered", rand_hex(3))
}

/// The owner's apps (admin API), as client ids.
fn apps_of(s: &Server, owner: &str) -> Vec<String> {
    s.admin(
        "GET",
        &format!("/admin/apps?owner={}&limit=100", form_encode(owner)),
        None,
    )
    .expect_json(200)["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["client_id"].as_str().unwrap().to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Interactive registration
// ---------------------------------------------------------------------------------------------

#[test]
fn interactive_registration_lists_every_problem_and_never_redirects() {
    let s = s();
    let (b, _) = Browser::signed_up(s, "regerr");
    let long_state = "s".repeat(2001);
    let all_bad = [
        ("name", ""),
        ("description", &"d".repeat(1001) as &str),
        ("homepage", "/relative"),
        ("image_uri", "javascript:alert(1)"),
        ("email", "not-an-email"),
        ("phone", "call me"),
        ("redirect_uri", "http://dev.example/cb"),
        ("api", "otherapi"),
        ("state", &long_state),
    ];
    let expect_problems = |r: &Resp, words: &[&str]| {
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.header("location").is_none(), "a problem page never redirects");
        assert_page_headers(r);
        let html = r.text();
        for w in words {
            assert!(html.contains(w), "problem '{w}' not listed: {html}");
        }
        assert!(
            !html.contains("/oauth/register/confirm"),
            "no form on a problem page"
        );
    };
    let every = [
        "name is required",
        "description is longer than 1000",
        "homepage must be an absolute",
        "image_uri must be an absolute",
        "email must be an email address",
        "phone must be digits",
        "redirect URI must use https",
        "api must be unifiedapi or systemapi",
        "state is longer than 2000",
    ];
    for path in ["/oauth/register", "/oauth/register.php"] {
        let r = b.get(&format!("{path}?{}", form(&all_bad)));
        expect_problems(&r, &every);
        assert_eq!(
            r.text().matches("<li>").count(),
            every.len(),
            "one item per problem"
        );
        // The same as a form POST.
        let r = b.post(path, &all_bad);
        expect_problems(&r, &every);
    }
    // Nothing at all: each required field is named.
    expect_problems(
        &b.get("/oauth/register"),
        &[
            "name is required",
            "homepage is required",
            "email must be an email address",
            "redirect_uri is required",
        ],
    );
    // Hostile redirect URIs are problems too, never redirect targets.
    for bad in [
        "javascript:alert(1)",
        "data:text/html,hi",
        "https://good.example@evil.example/cb",
        "https://dev.example/a/../cb",
        "https://dev.example./cb",
        "https://DEV.example/cb",
        "https://dev.example/cb#frag",
        "https://dеv.example/cb", // Cyrillic е
        "com.example.app:/cb",
        "http://127.0.0.1/cb",
    ] {
        let mut fields = registration_fields(bad);
        fields.retain(|(k, _)| *k != "state");
        let r = b.get(&format!("/oauth/register?{}", form(&as_pairs(&fields))));
        expect_problems(&r, &["redirect"]);
    }
    // A confirmation posted with bad fields is refused the same way.
    let page = b.get(&format!(
        "/oauth/register?{}",
        form(&as_pairs(&registration_fields(&redirect_uri())))
    ));
    page.expect(200);
    let r = b.submit(
        &page,
        "/oauth/register/confirm",
        &[
            ("redirect_uri", "https://evil.example@x/cb"),
            ("decision", "register"),
        ],
    );
    expect_problems(&r, &["user information"]);
}

#[test]
fn interactive_register_redirects_with_every_parameter_and_the_credentials() {
    let s = s();
    let uri = redirect_uri();
    let fields = registration_fields(&uri);
    let start = format!("/oauth/register?{}", form(&as_pairs(&fields)));

    // Not signed in: the details (escaped), the credentials fields in the form (issue 18), and
    // links to sign up or log in another way.
    let anon = Browser::new(s);
    let page = anon.get(&start);
    page.expect(200);
    assert_page_headers(&page);
    let html = page.text();
    assert!(html.contains("My &lt;b&gt;App&lt;/b&gt; &amp; co"), "{html}");
    assert!(!html.contains("<b>App"), "{html}");
    assert!(html.contains("href=\"/login?return_to="), "{html}");
    assert!(html.contains("/oauth/register/confirm") && html.contains(r#"name="login_password""#));

    // Signed in (via that log-in link): the confirmation page.
    let (b, person) = Browser::signed_up(s, "register");
    let page = b.get(&start);
    page.expect(200);
    assert_page_headers(&page);
    let html = page.text();
    assert!(html.contains("My &lt;b&gt;App&lt;/b&gt; &amp; co") && !html.contains("<b>App"));
    assert!(html.contains(&person.email), "shows who is signed in");
    assert!(html.contains(r#"value="register""#) && html.contains(r#"value="deny""#));
    assert!(html.contains(r#"name="grant_access""#));
    // A form POST to the registration endpoint (and the .php alias) gives the same page.
    for path in ["/oauth/register", "/oauth/register.php"] {
        let p = b.post(path, &as_pairs(&fields));
        p.expect(200);
        assert_eq!(
            form_fields(&p, "/oauth/register/confirm").len(),
            form_fields(&page, "/oauth/register/confirm").len()
        );
    }
    // Without a valid CSRF field, nothing is registered.
    let r = b.submit(
        &page,
        "/oauth/register/confirm",
        &[("csrf", &"q".repeat(43)), ("decision", "register")],
    );
    assert_eq!(r.status, 403);
    assert!(r.header("location").is_none());

    let r = b.submit(&page, "/oauth/register/confirm", &[("decision", "register")]);
    r.expect(303);
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let loc = r.header("location").unwrap().to_owned();
    assert!(loc.starts_with(&format!("{uri}?")), "{loc}");
    let got = query_pairs(&loc);
    for (k, v) in &fields {
        assert_eq!(
            query_param(&loc, k).as_deref(),
            Some(v.as_str()),
            "{k} not echoed in {loc}"
        );
    }
    let id = query_param(&loc, "client_id").unwrap();
    let secret = query_param(&loc, "client_secret").unwrap();
    assert!(looks_like_client_id(&id), "{id}");
    assert!(
        looks_like_client_id(&secret),
        "client_secret: 32 characters: {secret}"
    );
    assert_ne!(id, secret);
    assert!(
        query_param(&loc, "code").is_none(),
        "no code unless Grant access was ticked"
    );
    assert_eq!(
        got.len(),
        fields.len() + 2,
        "exactly the received parameters plus the credentials: {got:?}"
    );

    // The app exists, owned by the person, with what was entered.
    let app = s.get_app(&id);
    assert_eq!(app["name"], "My <b>App</b> & co");
    assert_eq!(app["redirect_uris"], json!([uri]));
    assert_eq!(app["homepage"], "https://dev.example/home?a=1&b=2");
    assert_eq!(app["admin_email"], "dev@dev.example");
    let owner_id = app["owner"].as_str().unwrap().to_owned();
    assert_eq!(apps_of(s, &owner_id), vec![id.clone()]);
    // The secret works (client authentication at the revocation endpoint), a wrong one does not.
    s.post_form_basic("/oauth/revoke", &[("token", "x")], &id, &secret)
        .expect(200);
    s.post_form_basic("/oauth/revoke", &[("token", "x")], &id, &"w".repeat(32))
        .expect(401);
}

#[test]
fn interactive_deny_redirects_with_access_denied_and_creates_nothing() {
    let s = s();
    let (b, _) = Browser::signed_up(s, "deny");
    let (uri, page) = registration_page(&b);
    let r = b.submit(&page, "/oauth/register/confirm", &[("decision", "deny")]);
    r.expect(303);
    let loc = r.header("location").unwrap().to_owned();
    assert!(loc.starts_with(&format!("{uri}?")), "{loc}");
    assert_eq!(
        query_pairs(&loc),
        vec![
            ("error".to_string(), "access_denied".to_string()),
            ("state".into(), "st <&> ü".into())
        ],
        "exactly error and state: {loc}"
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // Register afterwards: that person then owns exactly one app (Deny created none).
    let r = b.submit(&page, "/oauth/register/confirm", &[("decision", "register")]);
    r.expect(303);
    let id = query_param(r.header("location").unwrap(), "client_id").unwrap();
    let owner_id = s.get_app(&id)["owner"].as_str().unwrap().to_owned();
    assert_eq!(apps_of(s, &owner_id), vec![id]);
}

/// Issue 18: the registration page as VoipNow describes it. Signed out, it holds the
/// credentials fields beside Register, Deny and Grant access; Deny needs no log-in; Register
/// logs in with the page's fields (a wrong password shows the page again and registers
/// nothing) and leaves the browser signed in.
#[test]
fn interactive_registration_signed_out_deny_and_register_with_the_pages_credentials() {
    let s = s();
    let (_, person) = Browser::signed_up(s, "inline");
    let b = Browser::new(s);
    let (uri, page) = registration_page(&b);
    page.expect(200);
    let t = page.text();
    for part in ["name=\"login_email\"", "name=\"login_password\"", "name=\"grant_access\"", "value=\"register\"", "value=\"deny\"", "/signup?return_to="] {
        assert!(t.contains(part), "{part} missing: {t}");
    }
    let r = b.submit(&page, "/oauth/register/confirm", &[("decision", "deny")]);
    r.expect(303);
    let loc = r.header("location").unwrap().to_owned();
    assert!(loc.starts_with(&format!("{uri}?")), "{loc}");
    assert_eq!(query_param(&loc, "error").as_deref(), Some("access_denied"));
    assert!(b.cookie(SESSION_COOKIE).is_none());
    let wrong = b.submit(
        &page,
        "/oauth/register/confirm",
        &[("decision", "register"), ("login_email", &person.email), ("login_password", "not-the-password-1")],
    );
    assert_eq!(wrong.status, 401);
    assert!(wrong.text().contains("The email or password is wrong."));
    assert!(wrong.header("location").is_none());
    let r = b.submit(
        &wrong,
        "/oauth/register/confirm",
        &[("decision", "register"), ("login_email", &person.email), ("login_password", &person.password), ("grant_access", "yes")],
    );
    r.expect(303);
    let loc = r.header("location").unwrap().to_owned();
    let id = query_param(&loc, "client_id").expect("credentials");
    assert!(query_param(&loc, "client_secret").is_some() && query_param(&loc, "code").is_some(), "{loc}");
    assert!(!loc.contains("login_"), "the log-in fields are not echoed: {loc}");
    assert!(b.cookie(SESSION_COOKIE).is_some(), "registering logged the browser in");
    let owner_id = s.get_app(&id)["owner"].as_str().unwrap().to_owned();
    assert_eq!(apps_of(s, &owner_id), vec![id]);
    let (_, again) = registration_page(&b);
    assert!(again.text().contains(&person.email) && !again.text().contains("login_password"));
}

#[test]
fn interactive_grant_access_gives_a_code_redeemable_with_the_new_secret() {
    let s = s();
    let (b, person) = Browser::signed_up(s, "grant");
    let (uri, page) = registration_page(&b);
    let r = b.submit(
        &page,
        "/oauth/register/confirm",
        &[("decision", "register"), ("grant_access", "yes")],
    );
    r.expect(303);
    let loc = r.header("location").unwrap().to_owned();
    let id = query_param(&loc, "client_id").unwrap();
    let secret = query_param(&loc, "client_secret").unwrap();
    let code = query_param(&loc, "code").expect("Grant access gives a code");
    assert_eq!(query_param(&loc, "state").as_deref(), Some("st <&> ü"));
    // Bound to the new app and its redirect URI.
    let redeem = |code: &str, id: &str, secret: &str| {
        token(
            s,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &uri),
            ],
            Some((id, secret)),
        )
    };
    redeem(&code, &id, &"x".repeat(32)).expect_error(401, "invalid_client");
    let t = redeem(&code, &id, &secret).expect_json(200);
    let claims = s.verify_access_token(t["access_token"].as_str().unwrap());
    assert_eq!(claims["client_id"], id.as_str());
    let me = userinfo(s, t["access_token"].as_str().unwrap()).expect_json(200);
    assert_eq!(me["name"], person.name);
    assert!(me.get("email").is_none(), "the email is released only with its scope: {me}");
    redeem(&code, &id, &secret).expect_error(400, "invalid_grant");
    // The app can go on with the normal flow: the consent was not stored, the person is asked.
    let path = authorize_path(&[
        ("response_type", "code"),
        ("client_id", &id),
        ("redirect_uri", &uri),
    ]);
    let code2 = b.code(s, &path);
    redeem(&code2, &id, &secret).expect_json(200);
}

// ---------------------------------------------------------------------------------------------
// RFC 7591 / 7592
// ---------------------------------------------------------------------------------------------

fn register_json(s: &Server, body: &Value, token: Option<&str>) -> Resp {
    match token {
        Some(t) => s.post_json_with("/oauth/register", body, &[("authorization", &bearer(t))]),
        None => s.post_json("/oauth/register", body),
    }
}

fn manage(s: &Server, method: &str, reg: &Value, token: &str, body: Option<&Value>) -> Resp {
    let uri = reg["registration_client_uri"].as_str().unwrap();
    let path = uri
        .strip_prefix(s.issuer())
        .expect("registration_client_uri under the issuer");
    s.with_bearer(method, path, token, body)
}

#[track_caller]
fn check_registered(s: &Server, reg: &Value, confidential: bool) {
    let id = reg["client_id"].as_str().unwrap();
    assert!(looks_like_client_id(id), "{reg}");
    assert!(
        (reg["client_id_issued_at"].as_i64().unwrap() - now()).abs() < 600,
        "{reg}"
    );
    assert_eq!(
        reg["registration_client_uri"],
        format!("{}/oauth/register/{id}", s.issuer()),
        "{reg}"
    );
    assert!(
        reg["registration_access_token"]
            .as_str()
            .is_some_and(|t| t.len() >= 32),
        "{reg}"
    );
    if confidential {
        assert!(
            looks_like_client_id(reg["client_secret"].as_str().unwrap()),
            "{reg}"
        );
        assert_eq!(reg["client_secret_expires_at"], 0, "{reg}");
    } else {
        assert!(
            reg.get("client_secret").is_none(),
            "a public client has no secret: {reg}"
        );
    }
}

/// Everything RFC 7591/7592 does under the open policy, and what invalid metadata gets.
#[test]
fn rfc7591_7592_round_trip_open_policy() {
    let s = s();
    let meta = s.get("/.well-known/oauth-authorization-server").expect_json(200);
    assert_eq!(
        meta["registration_endpoint"],
        format!("{}/oauth/register", s.issuer())
    );

    let uri = redirect_uri();
    let body = json!({
        "redirect_uris": [uri],
        "client_name": "Dynamic <app>",
        "client_uri": "https://dyn.example/",
        "logo_uri": "https://dyn.example/logo.png",
        "contacts": ["dev@dyn.example"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
        "scope": "public users:read",
        "software_id": "ignored-extension",
    });
    // Self-service registration holds only SELF_SERVICE_SCOPES (default `public`).
    let r = register_json(s, &body, None);
    r.expect_error(400, "invalid_client_metadata");
    let mut body = body;
    body["scope"] = "public".into();
    let r = register_json(s, &body, None);
    let reg = r.expect_json(201);
    r.expect_no_store();
    check_registered(s, &reg, true);
    for k in [
        "redirect_uris",
        "client_name",
        "client_uri",
        "logo_uri",
        "contacts",
        "grant_types",
        "response_types",
        "token_endpoint_auth_method",
    ] {
        assert_eq!(reg[k], body[k], "{k} in {reg}");
    }
    assert_eq!(reg["scope"], "public");
    let id = reg["client_id"].as_str().unwrap().to_owned();
    let secret = reg["client_secret"].as_str().unwrap().to_owned();
    let rat = reg["registration_access_token"].as_str().unwrap().to_owned();

    // RFC 7592 read.
    let got = manage(s, "GET", &reg, &rat, None);
    let got = got.expect_json(200);
    assert_eq!(got["client_name"], "Dynamic <app>");
    assert_eq!(got["client_id"], id.as_str());
    assert!(got.get("client_secret").is_none() || got["client_secret"] == secret.as_str());
    let denied = manage(s, "GET", &reg, "wrong-token", None);
    denied.expect_error(401, "invalid_token");
    assert!(denied
        .header("www-authenticate")
        .is_some_and(|h| h.starts_with("Bearer")));
    // Another client's registration token does not manage this one.
    let other = register_json(s, &json!({"redirect_uris": [redirect_uri()]}), None).expect_json(201);
    manage(
        s,
        "GET",
        &reg,
        other["registration_access_token"].as_str().unwrap(),
        None,
    )
    .expect(401);

    // The client works: a person's code flow with client_secret_basic.
    let client = Client {
        app: App::from_json(json!({"client_id": id, "client_secret": secret})),
        redirect_uri: uri.clone(),
        public: false,
    };
    let (b, _) = Browser::signed_up(s, "dcr");
    let (access, refresh, _) = client.tokens(s, &b, "public");

    // RFC 7592 update: the body's client_id must match.
    let mut upd = body.clone();
    upd["client_id"] = id.clone().into();
    upd["client_name"] = "Renamed".into();
    let put = manage(s, "PUT", &reg, &rat, Some(&upd)).expect_json(200);
    assert_eq!(put["client_name"], "Renamed");
    assert_eq!(
        manage(s, "GET", &reg, &rat, None).expect_json(200)["client_name"],
        "Renamed"
    );
    assert_eq!(s.get_app(&id)["name"], "Renamed");
    let mut wrong_id = upd.clone();
    wrong_id["client_id"] = other["client_id"].clone();
    manage(s, "PUT", &reg, &rat, Some(&wrong_id)).expect_error(400, "invalid_request");
    let mut bad_uri = upd.clone();
    bad_uri["redirect_uris"] = json!(["http://evil.example/cb"]);
    manage(s, "PUT", &reg, &rat, Some(&bad_uri)).expect_error(400, "invalid_redirect_uri");
    assert_eq!(
        manage(s, "GET", &reg, &rat, None).expect_json(200)["redirect_uris"],
        json!([uri])
    );
    assert!(s.is_active(&access), "updating metadata keeps tokens");

    // RFC 7592 delete: the app and its tokens end at once.
    manage(s, "DELETE", &reg, &rat, None).expect(204);
    assert!(
        !s.is_active(&access),
        "deleting a client invalidates its tokens at once"
    );
    client.refresh(s, &refresh, None).expect(401);
    manage(s, "GET", &reg, &rat, None).expect(401);
    s.admin("GET", &format!("/admin/apps/{id}"), None).expect(404);

    // The invalid-metadata rule table runs natively: src/routes/tests/registration.rs.
}

// The wrong-JSON-type rule table runs natively: src/routes/tests/registration.rs.

#[test]
fn rfc7591_public_native_client_and_private_key_jwt_client() {
    let s = s();
    // A public native client: no secret, PKCE with client_id alone.
    let reg = register_json(
        s,
        &json!({"redirect_uris": ["com.example.dyn:/cb"], "token_endpoint_auth_method": "none", "client_name": "Dyn native"}),
        None,
    )
    .expect_json(201);
    check_registered(s, &reg, false);
    assert_eq!(reg["token_endpoint_auth_method"], "none");
    let native = Client {
        app: App::from_json(reg.clone()),
        redirect_uri: "com.example.dyn:/cb".into(),
        public: true,
    };
    let (b, _) = Browser::signed_up(s, "dcrpub");
    let (code, verifier) = native.code(s, &b, "public");
    let t = native.redeem(s, &code, Some(&verifier)).expect_json(200);
    assert_eq!(
        s.verify_access_token(t["access_token"].as_str().unwrap())["client_id"],
        native.id()
    );
    assert!(
        t.get("refresh_token").is_none(),
        "grant_types defaults to authorization_code alone: {t}"
    );

    // private_key_jwt with the keys in jwks: the client authenticates with a signed assertion.
    let key = test_key(0);
    let uri = redirect_uri();
    let reg = register_json(
        s,
        &json!({"redirect_uris": [uri], "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [key.public_jwk()]}}),
        None,
    )
    .expect_json(201);
    check_registered(s, &reg, false);
    assert_eq!(reg["jwks"]["keys"][0]["n"], key.n.as_str());
    let id = reg["client_id"].as_str().unwrap();
    let (verifier, challenge) = pkce();
    let code = b.code(
        s,
        &authorize_path(&[
            ("response_type", "code"),
            ("client_id", id),
            ("redirect_uri", &uri),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ]),
    );
    let assertion = key.sign(&client_assertion_claims(
        id,
        &format!("{}/oauth/token", s.issuer()),
    ));
    let t = s
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &uri),
                ("code_verifier", &verifier),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &assertion),
            ],
        )
        .expect_json(200);
    assert_eq!(
        s.verify_access_token(t["access_token"].as_str().unwrap())["client_id"],
        id
    );
}

/// `REGISTRATION_POLICY=token` with `INITIAL_ACCESS_TOKEN`, public clients switched off, and a
/// registration limit of 3 a minute per address.
#[test]
fn rfc7591_initial_access_token_policy_public_clients_off_and_rate_limit() {
    let s = Server::start_with(&[
        ("REGISTRATION_POLICY", "token"),
        ("INITIAL_ACCESS_TOKEN", IAT),
        ("PUBLIC_CLIENT_REGISTRATION", "off"),
        ("REGISTRATION_RATE_LIMIT", "3"),
    ]);
    let meta = s.get("/.well-known/oauth-authorization-server").expect_json(200);
    assert_eq!(
        meta["registration_endpoint"],
        format!("{}/oauth/register", s.issuer())
    );
    let body = json!({"redirect_uris": [redirect_uri()], "client_name": "Needs a token"});
    at_start_of_a_window(Duration::from_secs(5));
    let r = register_json(&s, &body, None);
    r.expect_error(401, "invalid_token");
    assert!(r
        .header("www-authenticate")
        .is_some_and(|h| h.starts_with("Bearer")));
    register_json(&s, &body, Some("e2e-initial-access-token-0123456788")).expect_error(401, "invalid_token");
    let reg = register_json(&s, &body, Some(IAT)).expect_json(201);
    check_registered(&s, &reg, true);
    // The operator's admin token is accepted as an initial access token too.
    let admin = s.admin_token.clone().unwrap();
    let reg2 = register_json(&s, &body, Some(&admin)).expect_json(201);
    assert_ne!(reg2["client_id"], reg["client_id"]);
    // RFC 7592 still works with the registration access token (not the initial one).
    let rat = reg["registration_access_token"].as_str().unwrap();
    manage(&s, "GET", &reg, rat, None).expect(200);
    manage(&s, "GET", &reg, IAT, None).expect(401);
    // Public clients are switched off, whatever the token.
    let public = json!({"redirect_uris": ["com.example.app:/cb"], "token_endpoint_auth_method": "none"});
    let e = register_json(&s, &public, Some(IAT)).expect_error(400, "invalid_client_metadata");
    assert!(e["error_description"].as_str().unwrap().contains("public"), "{e}");
    // Three registrations counted this minute: the fourth is refused for a while.
    let r = register_json(&s, &body, Some(IAT));
    r.expect_error(429, "rate_limited");
    assert!(r
        .header("retry-after")
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|v| (1..=60).contains(&v)));
    // CORS on the JSON registration endpoint, errors included.
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
}

/// `REGISTRATION_POLICY=off` (with `MAX_APPS_PER_OWNER=3` for the limit test below).
fn limited() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| {
        let mut v = roomy_vars();
        v.push(("REGISTRATION_POLICY", "off"));
        v.push(("MAX_APPS_PER_OWNER", "3"));
        Server::start_with(&v)
    })
}

#[test]
fn rfc7591_policy_off() {
    let s = limited();
    let meta = s.get("/.well-known/oauth-authorization-server").expect_json(200);
    assert!(meta.get("registration_endpoint").is_none(), "{meta}");
    let body = json!({"redirect_uris": [redirect_uri()]});
    register_json(s, &body, None).expect_error(403, "access_denied");
    let admin = s.admin_token.clone().unwrap();
    register_json(s, &body, Some(&admin)).expect_error(403, "access_denied");
}

// ---------------------------------------------------------------------------------------------
// The per-owner limit on the registration page and /apps
// ---------------------------------------------------------------------------------------------

#[test]
fn per_owner_limit_on_the_registration_page_and_apps_page() {
    let s = limited();
    let (b, _) = Browser::signed_up(s, "limit");
    let mut ids = Vec::new();
    for i in 0..4 {
        let page = b.get(&format!(
            "/oauth/register?{}",
            form(&as_pairs(&registration_fields(&redirect_uri())))
        ));
        page.expect(200);
        let r = b.submit(&page, "/oauth/register/confirm", &[("decision", "register")]);
        if i < 3 {
            r.expect(303);
            ids.push(query_param(r.header("location").unwrap(), "client_id").unwrap());
        } else {
            assert_eq!(r.status, 409, "the fourth app is over the limit: {}", r.text());
            assert!(r.header("location").is_none(), "no redirect at the limit");
            assert_page_headers(&r);
            assert!(r.text().contains("cannot register more apps"), "{}", r.text());
        }
    }
    let owner_id = s.get_app(&ids[0])["owner"].as_str().unwrap().to_owned();
    assert_eq!(apps_of(s, &owner_id).len(), 3);
    // /apps says the same, as an error on the page.
    let page = b.get("/apps");
    let r = b.submit(&page, "/apps", &[("name", "One too many")]);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("role=\"alert\""), "{}", r.text());
    assert_eq!(apps_of(s, &owner_id).len(), 3);
    // Removing one makes room again.
    let page = b.get("/apps");
    let confirm = b.submit(&page, &format!("/apps/{}/remove", ids[0]), &[]);
    b.submit(&confirm, &format!("/apps/{}/remove", ids[0]), &[])
        .expect(303);
    let page = b.get(&format!(
        "/oauth/register?{}",
        form(&as_pairs(&registration_fields(&redirect_uri())))
    ));
    b.submit(&page, "/oauth/register/confirm", &[("decision", "register")])
        .expect(303);
    assert_eq!(apps_of(s, &owner_id).len(), 3);
}

/// The pages' CSP allows one stylesheet (`style-src 'sha256-…'`) and nothing else, so a
/// `style="…"` attribute is blocked by browsers (Chromium reports "Applying inline style
/// violates the following Content Security Policy directive" for /apps; tests/browser). No page
/// may rely on one.
#[test]
fn pages_have_no_style_attributes_their_csp_blocks() {
    let s = s();
    let (b, _) = Browser::signed_up(s, "csp");
    let page = b.get("/apps");
    let with_app = b.submit(
        &page,
        "/apps",
        &[("name", "Styled"), ("redirect_uri", "https://styled.example/cb")],
    );
    with_app.expect(200);
    let id = code_value(&with_app, "app-id").unwrap();
    let confirm = b.submit(&b.get("/apps"), &format!("/apps/{id}/remove"), &[]);
    let reg = b.get(&format!(
        "/oauth/register?{}",
        form(&as_pairs(&registration_fields(&redirect_uri())))
    ));
    let c = Client::web(s, &["public"]);
    let consent = b.get(&c.authorize_path("public", None));
    let mut offenders = Vec::new();
    for (name, r) in [
        ("/apps", &b.get("/apps")),
        ("/apps after adding", &with_app),
        ("/apps remove confirmation", &confirm),
        ("registration confirmation", &reg),
        ("consent", &consent),
        ("log-in", &Browser::new(s).get("/login")),
        ("sign-up", &Browser::new(s).get("/signup")),
        ("home", &b.get("/")),
    ] {
        let csp = r.header("content-security-policy").unwrap_or("");
        let allows_attributes = csp.contains("'unsafe-inline'") || csp.contains("'unsafe-hashes'");
        let n = r.text().matches(" style=\"").count();
        if n > 0 && !allows_attributes {
            offenders.push(format!("{name}: {n} style attribute(s) under `{csp}`"));
        }
    }
    assert!(
        offenders.is_empty(),
        "style attributes the page's own CSP blocks:\n{}",
        offenders.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// /apps
// ---------------------------------------------------------------------------------------------

/// `<code id="…">value</code>` from a page.
fn code_value(r: &Resp, id: &str) -> Option<String> {
    let html = r.text();
    let marker = format!(r#"<code id="{id}">"#);
    let at = html.find(&marker)? + marker.len();
    Some(html_unescape(html[at..].split('<').next()?))
}

#[test]
fn apps_page_add_see_regenerate_remove() {
    let s = s();
    // Not signed in: to the log-in page, and back.
    let anon = Browser::new(s);
    let r = anon.get("/apps");
    r.expect(303);
    assert!(r
        .header("location")
        .unwrap()
        .starts_with("/login?return_to=%2Fapps"));

    let (b, _) = Browser::signed_up(s, "apps");
    let page = b.get("/apps");
    page.expect(200);
    assert_page_headers(&page);
    assert!(page.text().contains("No apps yet"));
    for label in [
        "Name",
        "Description",
        "Homepage",
        "Image URL",
        "Admin email",
        "Admin phone",
        "Redirect URL",
    ] {
        assert!(page.text().contains(label), "the form has no '{label}' field");
    }
    // Only operators make apps trusted (issue 13 item 2): a person is not offered the box, and
    // sending it anyway is refused.
    assert!(!page.text().contains("App is trusted"));
    let r = b.submit(
        &page,
        "/apps",
        &[("name", "Sneaky"), ("trusted", "yes"), ("redirect_uri", "https://apps.example/cb")],
    );
    assert_eq!(r.status, 400);
    assert!(r.text().contains("only operators"), "{}", r.text());
    // Bad input: the page says what is wrong, nothing is created.
    let r = b.submit(
        &page,
        "/apps",
        &[("name", "Bad"), ("redirect_uri", "http://apps.example/cb")],
    );
    assert_eq!(r.status, 400);
    assert!(r.text().contains("https"), "{}", r.text());
    let r = b.submit(&page, "/apps", &[("name", "")]);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("name is required"), "{}", r.text());
    let r = b.submit(&page, "/apps", &[("csrf", &"z".repeat(43)), ("name", "Forged")]);
    assert_eq!(r.status, 403);

    let r = b.submit(
        &page,
        "/apps",
        &[
            ("name", "Mine <i>"),
            ("description", "An app"),
            ("homepage", "https://apps.example/"),
            ("image_uri", "https://apps.example/i.png"),
            ("admin_email", "admin@apps.example"),
            ("admin_phone", "+44 20 7946 0000"),
            ("redirect_uri", "https://apps.example/cb"),
        ],
    );
    r.expect(200);
    assert_page_headers(&r);
    let id = code_value(&r, "app-id").expect("App ID shown");
    let secret = code_value(&r, "app-secret").expect("App secret shown after creation");
    assert!(
        looks_like_client_id(&id) && looks_like_client_id(&secret),
        "{id} {secret}"
    );
    assert!(r.text().contains("Mine &lt;i&gt;") && !r.text().contains("Mine <i>"));
    let app = s.get_app(&id);
    assert_eq!((app["trusted"].clone(), app["self_service"].clone()), (json!(false), json!(true)));
    assert_eq!(app["admin_phone"], "+44 20 7946 0000");
    assert_eq!(app["redirect_uris"], json!(["https://apps.example/cb"]));
    // A person's app gets no machine grant until an operator approves it.
    s.cc_basic(&id, &secret, None).expect_error(400, "unauthorized_client");
    s.patch_app(&id, json!({"approved": true, "trusted": true})).expect(200);
    let me = App::from_json(json!({"client_id": id, "client_secret": secret}));
    let t = s.cc_token(&me);
    // A person's tokens for the app as well (it has a redirect URI, so the code flow).
    let web = Client {
        app: me.clone(),
        redirect_uri: "https://apps.example/cb".into(),
        public: false,
    };
    let (person_access, person_refresh, _) = web.tokens(s, &b, "public");

    // Listed later, the secret no longer shown.
    let list = b.get("/apps");
    assert!(list.text().contains(&id));
    assert!(
        !list.text().contains(&secret),
        "the secret is shown only right after creation"
    );
    assert!(code_value(&list, "app-secret").is_none());
    // The operator (admin token as bearer) sees it too; another person does not.
    let op = s.get_with(
        "/apps",
        &[("authorization", &bearer(s.admin_token.as_deref().unwrap()))],
    );
    op.expect(200);
    assert!(op.text().contains("Operator view") && op.text().contains(&id));
    let (other, _) = Browser::signed_up(s, "apps-other");
    let other_page = other.get("/apps");
    assert!(!other_page.text().contains(&id));
    let r = other.post(
        &format!("/apps/{id}/regenerate"),
        &[("csrf", csrf_of(&other_page).as_str()), ("confirm", "yes")],
    );
    assert_eq!(r.status, 404, "someone else's app");
    let r = other.post(
        &format!("/apps/{id}/remove"),
        &[("csrf", csrf_of(&other_page).as_str()), ("confirm", "yes")],
    );
    assert_eq!(r.status, 404);
    s.cc_basic(&id, &secret, None).expect(200);

    // Regenerate: a confirmation step first; nothing changes before it.
    let confirm = b.submit(&list, &format!("/apps/{id}/regenerate"), &[]);
    confirm.expect(200);
    assert!(confirm.text().contains("Please confirm"), "{}", confirm.text());
    assert!(s.is_active(&t), "nothing changed before confirmation");
    s.cc_basic(&id, &secret, None).expect(200);
    let r = b.submit(&confirm, &format!("/apps/{id}/regenerate"), &[]);
    r.expect(200);
    let new_secret = code_value(&r, "app-secret").expect("the new secret is shown");
    assert!(looks_like_client_id(&new_secret));
    assert_ne!(new_secret, secret);
    assert_eq!(code_value(&r, "app-id").as_deref(), Some(id.as_str()));
    assert!(
        !s.is_active(&t),
        "regenerate invalidates every access token the app holds"
    );
    s.cc_basic(&id, &secret, None).expect_error(401, "invalid_client");
    let t2 = s.cc_token(&App::from_json(
        json!({"client_id": id, "client_secret": new_secret}),
    ));
    assert!(s.is_active(&t2));
    assert!(
        !s.is_active(&person_access),
        "a person's tokens for the app end too"
    );
    let renewed = Client {
        app: App::from_json(json!({"client_id": id, "client_secret": new_secret})),
        ..web
    };
    renewed
        .refresh(s, &person_refresh, None)
        .expect_error(400, "invalid_grant");

    // Remove: confirm, then gone with its tokens.
    let list = b.get("/apps");
    let confirm = b.submit(&list, &format!("/apps/{id}/remove"), &[]);
    assert!(confirm.text().contains("Please confirm") && confirm.text().contains("cannot be undone"));
    s.get_app(&id);
    let r = b.submit(&confirm, &format!("/apps/{id}/remove"), &[]);
    r.expect(303);
    assert_eq!(r.header("location"), Some("/apps"));
    assert!(!b.get("/apps").text().contains(&id));
    s.admin("GET", &format!("/admin/apps/{id}"), None).expect(404);
    assert!(!s.is_active(&t2));
    s.cc_basic(&id, &new_secret, None).expect(401);
}
