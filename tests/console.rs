//! The operator console (`/admin/console/…`) and operator accounts, end to end under `wrangler
//! dev`, speaking HTTP as a browser does: cookies kept from `Set-Cookie`, forms posted with the
//! CSRF token read from the page. One server with `ORG_DOMAIN=localhost`, so the platform's own
//! host and two organisations' hosts are tried against each other.

mod common;
use common::*;
use std::cell::RefCell;

/// A browser on one host: a cookie jar and form posts.
struct Browser<'a> {
    h: Host<'a>,
    jar: RefCell<Vec<(String, String)>>,
}

impl<'a> Browser<'a> {
    fn new(h: Host<'a>) -> Self {
        Browser { h, jar: RefCell::new(Vec::new()) }
    }
    fn cookie_header(&self) -> String {
        self.jar.borrow().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }
    fn keep(&self, r: &Resp) {
        for (k, v) in &r.headers {
            if k != "set-cookie" {
                continue;
            }
            let first = v.split(';').next().unwrap();
            let (name, value) = first.split_once('=').unwrap();
            let mut jar = self.jar.borrow_mut();
            jar.retain(|(n, _)| n != name);
            if !v.contains("Max-Age=0") {
                jar.push((name.to_owned(), value.to_owned()));
            }
        }
    }
    fn cookie(&self, name: &str) -> Option<String> {
        self.jar.borrow().iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }
    fn set_cookie(&self, name: &str, value: &str) {
        let mut jar = self.jar.borrow_mut();
        jar.retain(|(n, _)| n != name);
        jar.push((name.to_owned(), value.to_owned()));
    }
    #[track_caller]
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Resp {
        let c = self.cookie_header();
        let mut h: Vec<(&str, &str)> = headers.to_vec();
        if !c.is_empty() {
            h.push(("cookie", c.as_str()));
        }
        let r = self.h.request(method, path, &h, body);
        self.keep(&r);
        r
    }
    #[track_caller]
    fn get(&self, path: &str) -> Resp {
        self.send("GET", path, &[], None)
    }
    #[track_caller]
    fn post(&self, path: &str, pairs: &[(&str, &str)]) -> Resp {
        let body = form(pairs);
        self.send("POST", path, &[("content-type", "application/x-www-form-urlencoded")], Some(body.as_bytes()))
    }
    /// Posts the form with the page's CSRF token added.
    #[track_caller]
    fn submit(&self, page_path: &str, action: &str, pairs: &[(&str, &str)]) -> Resp {
        let page = self.get(page_path);
        page.expect(200);
        let csrf = csrf_of(&page.text());
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(pairs);
        self.post(action, &all)
    }
    /// A JSON request to the admin API with this browser's cookies (and `x-csrf-token`).
    #[track_caller]
    fn api(&self, method: &str, path: &str, csrf: Option<&str>, body: Option<&Value>) -> Resp {
        let text = body.map(|b| b.to_string());
        let mut h = vec![("content-type", "application/json")];
        if let Some(c) = csrf {
            h.push(("x-csrf-token", c));
        }
        self.send(method, path, &h, text.as_deref().map(str::as_bytes))
    }
    /// The CSRF token of the signed-in pages.
    fn csrf(&self) -> String {
        csrf_of(&self.get("/admin/console/apps").expect(200).text())
    }
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").unwrap_or_else(|| panic!("no csrf field in {html}"));
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

const CONSOLE: &str = "portcullis_console";
const PASSWORD: &str = "correct horse battery staple";

#[track_caller]
fn assert_login_redirect(r: &Resp) {
    r.expect(303);
    assert_eq!(r.header("location"), Some("/admin/console/login"), "{:?}", r.headers);
}

/// Sets up the first owner of the browser's tenant with `token`.
#[track_caller]
fn bootstrap(b: &Browser, token: &str, email: &str) -> Resp {
    b.submit("/admin/console/login", "/admin/console/setup", &[("token", token), ("name", "First Owner"), ("email", email), ("password", PASSWORD)])
}

#[track_caller]
fn sign_in(b: &Browser, email: &str, password: &str) -> Resp {
    b.submit("/admin/console/login", "/admin/console/login", &[("email", email), ("password", password)])
}

fn app_id_of(html: &str) -> String {
    let at = html.find("id=\"client-id\">").unwrap_or_else(|| panic!("no client id in {html}"));
    let rest = &html[at + "id=\"client-id\">".len()..];
    rest[..rest.find('<').unwrap()].to_owned()
}

#[test]
fn operators_roles_sessions_and_tenants() {
    let s = Server::start_with(&[("ORG_DOMAIN", "localhost")]);
    let admin_token = s.admin_token.clone().unwrap();
    s.create_org("acme");
    s.create_org("beta");

    // --- Bootstrap on the platform's host --------------------------------------------------
    let owner = Browser::new(s.platform_host());
    let r = owner.get("/admin");
    assert_login_redirect(&r);
    let login = owner.get("/admin/console/login");
    login.expect(200).expect_no_store();
    assert!(login.text().contains("Set up the console"), "{}", login.text());
    let csp = login.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    // A wrong token sets nothing up; a weak password is refused.
    let r = bootstrap(&owner, "not-the-token", "owner@example.com");
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(owner.cookie(CONSOLE).is_none());
    let r = owner.submit("/admin/console/login", "/admin/console/setup", &[("token", &admin_token), ("name", "O"), ("email", "owner@example.com"), ("password", "password")]);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(owner.cookie(CONSOLE).is_none());
    // Without the page's CSRF token, the set-up is refused.
    let r = owner.post("/admin/console/setup", &[("token", &admin_token), ("name", "O"), ("email", "owner@example.com"), ("password", PASSWORD)]);
    r.expect(403);
    let r = bootstrap(&owner, &admin_token, "Owner@Example.com");
    r.expect(303);
    let set = r.headers.iter().find(|(k, v)| k == "set-cookie" && v.starts_with(CONSOLE)).map(|(_, v)| v.clone()).unwrap();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Max-Age=1800"), "{set}");
    let apps = owner.get("/admin/console/apps");
    apps.expect(200).expect_no_store();
    assert!(apps.text().contains("First Owner") && apps.text().contains("Owner"), "{}", apps.text());
    // Once set up, the set-up is over, for everyone.
    let other = Browser::new(s.platform_host());
    assert!(other.get("/admin/console/login").text().contains("Sign in"));
    let r = bootstrap(&other, &admin_token, "second@example.com");
    assert_eq!(r.status, 403, "{}", r.text());
    // The owner's account is in the API (no hash), email normalised.
    let list = s.platform_host().admin("GET", "/admin/operators", None).expect_json(200);
    assert_eq!(list["operators"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["operators"][0]["email"], "owner@example.com");
    assert_eq!(list["operators"][0]["role"], "owner");
    assert!(list["operators"][0].get("password_hash").is_none(), "{list}");

    // --- Sign-in ---------------------------------------------------------------------------
    let r = sign_in(&other, "owner@example.com", "wrong password!");
    assert_eq!(r.status, 401, "{}", r.text());
    let r = sign_in(&other, "nobody@example.com", PASSWORD);
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(other.cookie(CONSOLE).is_none());
    sign_in(&other, "OWNER@example.com", PASSWORD).expect(303);
    other.get("/admin/console/apps").expect(200);
    // Signing out ends the session; its cookie is refused after.
    let old = other.cookie(CONSOLE).unwrap();
    let csrf = other.csrf();
    other.post("/admin/console/logout", &[("csrf", &csrf)]).expect(303);
    other.set_cookie(CONSOLE, &old);
    assert_login_redirect(&other.get("/admin/console/apps"));
    other.post("/admin/console/apps", &[("csrf", &csrf), ("name", "x")]).expect(403);
    other.api("GET", "/admin/apps", None, None).expect_error(401, "invalid_token");

    // --- Forged sessions -------------------------------------------------------------------
    for forged in ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "x", "", "%FF%FE", &format!("{old}x")] {
        let f = Browser::new(s.platform_host());
        f.set_cookie(CONSOLE, forged);
        assert_login_redirect(&f.get("/admin/console/apps"));
        f.post("/admin/console/apps", &[("csrf", &csrf), ("name", "x")]).expect(403);
        f.api("POST", "/admin/apps", Some(&csrf), Some(&json!({"name": "x"}))).expect(401);
    }

    // --- The owner creates an app through the form ------------------------------------------
    let r = owner.submit(
        "/admin/console/apps/new",
        "/admin/console/apps",
        &[
            ("name", "Billing <script>"),
            ("description", "Sends invoices"),
            ("homepage", "https://billing.example"),
            ("image_uri", "https://billing.example/logo.png"),
            ("admin_email", "ops@billing.example"),
            ("admin_phone", "+40 21 000 0000"),
            ("redirect_uris", "https://billing.example/cb\nhttps://billing.example/cb2"),
            ("scope.public", "on"),
            ("grant.authorization_code", "on"),
            ("grant.client_credentials", "on"),
            ("trusted", "on"),
            ("token_endpoint_auth_method", "client_secret_basic"),
            ("key_mode", "generate"),
        ],
    );
    r.expect(201);
    let html = r.text();
    assert!(html.contains("Billing &lt;script&gt;") && !html.contains("Billing <script>"), "{html}");
    assert!(html.contains("id=\"client-secret\"") && html.contains("BEGIN PRIVATE KEY") && html.contains("download=\""), "{html}");
    let id = app_id_of(&html);
    let app = s.platform_host().admin("GET", &format!("/admin/apps/{id}"), None).expect_json(200);
    assert_eq!(app["name"], "Billing <script>");
    assert_eq!(app["redirect_uris"], json!(["https://billing.example/cb", "https://billing.example/cb2"]));
    assert_eq!(app["admin_phone"], "+40 21 000 0000");
    assert_eq!(app["trusted"], true);
    assert_eq!(app["keys"].as_array().unwrap().len(), 1);
    // Shown once: the app's page has neither the secret nor the key again.
    let page = owner.get(&format!("/admin/console/apps/{id}")).expect(200).text();
    assert!(!page.contains("client-secret") && !page.contains("PRIVATE KEY"), "{page}");
    assert!(page.contains(&format!("bot_{id}")), "{page}");
    // The admin API's rules decide the form too: a bad redirect URL is refused with the API's words.
    let r = owner.submit("/admin/console/apps/new", "/admin/console/apps", &[("name", "Bad"), ("redirect_uris", "javascript:alert(1)"), ("scope.public", "on")]);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("id=\"form-error\""), "{}", r.text());
    // The list finds it by name; a filter that does not match shows nothing.
    assert!(owner.get("/admin/console/apps?name=billing").text().contains(&id));
    assert!(!owner.get("/admin/console/apps?name=zzz-nothing").text().contains(&id));
    assert!(owner.get("/admin/console/apps?grant_type=client_credentials&status=active").text().contains(&id));
    assert!(!owner.get("/admin/console/apps?status=disabled").text().contains(&id));
    assert_eq!(owner.get("/admin/console/apps?status=bogus").status, 400);

    // --- Operators: a read-only one and an admin --------------------------------------------
    for (email, role) in [("ro@example.com", "read_only"), ("adm@example.com", "admin")] {
        owner.submit("/admin/console/operators", "/admin/console/operators", &[("name", role), ("email", email), ("role", role), ("password", PASSWORD)]).expect(303);
    }
    // An email is one operator.
    let r = owner.submit("/admin/console/operators", "/admin/console/operators", &[("name", "dup"), ("email", "RO@example.com"), ("role", "admin"), ("password", PASSWORD)]);
    assert_eq!(r.status, 409, "{}", r.text());
    // The last owner is not removed.
    let ops = s.platform_host().admin("GET", "/admin/operators", None).expect_json(200);
    let id_of = |email: &str| ops["operators"].as_array().unwrap().iter().find(|o| o["email"] == email).unwrap()["id"].as_str().unwrap().to_owned();
    let owner_id = id_of("owner@example.com");
    let ro_id = id_of("ro@example.com");
    let r = owner.submit("/admin/console/operators", &format!("/admin/console/operators/{owner_id}/remove"), &[]);
    assert_eq!(r.status, 409, "{}", r.text());
    s.platform_host().admin("DELETE", &format!("/admin/operators/{owner_id}"), None).expect_error(409, "limit_reached");

    // --- Read-only changes nothing -------------------------------------------------------------
    let ro = Browser::new(s.platform_host());
    sign_in(&ro, "ro@example.com", PASSWORD).expect(303);
    let list = ro.get("/admin/console/apps").expect(200).text();
    assert!(list.contains(&id) && !list.contains("id=\"new-app\""), "{list}");
    let page = ro.get(&format!("/admin/console/apps/{id}")).expect(200).text();
    assert!(!page.contains("id=\"edit\"") && !page.contains("/secret"), "{page}");
    ro.get("/admin/console/operators").expect(200);
    assert_eq!(ro.get("/admin/console/apps/new").status, 403);
    let csrf = ro.csrf();
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("/admin/console/apps".into(), vec![("name", "RO app"), ("scope.public", "on")]),
        (format!("/admin/console/apps/{id}/edit"), vec![("name", "renamed"), ("scope.public", "on")]),
        (format!("/admin/console/apps/{id}/secret"), vec![]),
        (format!("/admin/console/apps/{id}/keys"), vec![("key", "generate")]),
        (format!("/admin/console/apps/{id}/status"), vec![("status", "disabled")]),
        (format!("/admin/console/apps/{id}/approve"), vec![("approved", "true")]),
        (format!("/admin/console/apps/{id}/remove"), vec![("confirm", "yes")]),
        (format!("/admin/console/apps/{id}/keys/anything/remove"), vec![]),
        ("/admin/console/operators".into(), vec![("name", "x"), ("email", "x@example.com"), ("role", "owner"), ("password", PASSWORD)]),
        (format!("/admin/console/operators/{ro_id}/role"), vec![("role", "owner")]),
        (format!("/admin/console/operators/{owner_id}/remove"), vec![]),
    ];
    for (path, fields) in &posts {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        let r = ro.post(path, &all);
        assert_eq!(r.status, 403, "read-only POST {path}: {}", r.text());
    }
    // …and the admin API refuses its writes too (with the right CSRF header), reads pass.
    ro.api("GET", "/admin/apps", None, None).expect(200);
    ro.api("GET", &format!("/admin/apps/{id}"), None, None).expect(200);
    ro.api("GET", "/admin/operators", None, None).expect(200);
    ro.api("POST", "/admin/apps", Some(&csrf), Some(&json!({"name": "x"}))).expect_error(403, "access_denied");
    ro.api("PATCH", &format!("/admin/apps/{id}"), Some(&csrf), Some(&json!({"name": "x"}))).expect_error(403, "access_denied");
    ro.api("POST", &format!("/admin/apps/{id}/secret"), Some(&csrf), None).expect_error(403, "access_denied");
    ro.api("DELETE", &format!("/admin/apps/{id}"), Some(&csrf), None).expect_error(403, "access_denied");
    ro.api("POST", "/admin/operators", Some(&csrf), Some(&json!({"email": "y@example.com", "name": "y", "role": "owner", "password": PASSWORD}))).expect_error(403, "access_denied");
    let after = s.platform_host().admin("GET", &format!("/admin/apps/{id}"), None).expect_json(200);
    assert_eq!(after["name"], "Billing <script>");
    assert_eq!(after["status"], "active");
    assert_eq!(after["keys"].as_array().unwrap().len(), 1);
    assert_eq!(s.platform_host().admin("GET", "/admin/operators", None).expect_json(200)["operators"].as_array().unwrap().len(), 3);

    // --- An admin manages apps, not operators --------------------------------------------------
    let adm = Browser::new(s.platform_host());
    sign_in(&adm, "adm@example.com", PASSWORD).expect(303);
    let r = adm.submit(&format!("/admin/console/apps/{id}/edit"), &format!("/admin/console/apps/{id}/edit"), &[
        ("name", "Billing v2"), ("redirect_uris", "https://billing.example/cb"), ("scope.public", "on"),
        ("grant.authorization_code", "on"), ("admin_email", "ops@billing.example"), ("token_endpoint_auth_method", "client_secret_basic"),
    ]);
    r.expect(303);
    assert_eq!(s.platform_host().admin("GET", &format!("/admin/apps/{id}"), None).expect_json(200)["name"], "Billing v2");
    let r = adm.submit(&format!("/admin/console/apps/{id}"), &format!("/admin/console/apps/{id}/status"), &[("status", "disabled")]);
    r.expect(303);
    assert_eq!(s.platform_host().admin("GET", &format!("/admin/apps/{id}"), None).expect_json(200)["status"], "disabled");
    let csrf = adm.csrf();
    adm.post("/admin/console/operators", &[("csrf", &csrf), ("name", "x"), ("email", "x@example.com"), ("role", "owner"), ("password", PASSWORD)]).expect(403);
    adm.post(&format!("/admin/console/operators/{ro_id}/role"), &[("csrf", &csrf), ("role", "owner")]).expect(403);
    adm.post(&format!("/admin/console/operators/{ro_id}/remove"), &[("csrf", &csrf)]).expect(403);
    adm.api("POST", "/admin/operators", Some(&csrf), Some(&json!({"email": "y@example.com", "name": "y", "role": "owner", "password": PASSWORD}))).expect_error(403, "access_denied");
    adm.api("PATCH", &format!("/admin/operators/{ro_id}"), Some(&csrf), Some(&json!({"role": "owner"}))).expect_error(403, "access_denied");
    adm.api("GET", "/admin/operators", None, None).expect(200);
    // The admin API with a session: a write needs the session's CSRF token in x-csrf-token.
    adm.api("PATCH", &format!("/admin/apps/{id}"), None, Some(&json!({"status": "active"}))).expect_error(403, "access_denied");
    adm.api("PATCH", &format!("/admin/apps/{id}"), Some("wrong-token-wrong-token-wrong-token-wrong-t"), Some(&json!({"status": "active"}))).expect_error(403, "access_denied");
    adm.api("PATCH", &format!("/admin/apps/{id}"), Some(&csrf), Some(&json!({"status": "active"}))).expect(200);

    // --- CSRF on every signed-in form ----------------------------------------------------------
    let csrf = owner.csrf();
    for path in [format!("/admin/console/apps/{id}/status"), "/admin/console/operators".to_owned(), "/admin/console/apps".to_owned()] {
        owner.post(&path, &[("status", "disabled"), ("name", "x")]).expect(403);
        owner.post(&path, &[("csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), ("status", "disabled"), ("name", "x")]).expect(403);
        // Another browser's token is not this session's.
        owner.post(&path, &[("csrf", &adm.csrf()), ("status", "disabled"), ("name", "x")]).expect(403);
        let body = form(&[("csrf", &csrf), ("status", "disabled")]);
        let r = owner.send("POST", &path, &[("content-type", "application/x-www-form-urlencoded"), ("origin", "https://evil.example")], Some(body.as_bytes()));
        r.expect(403);
    }
    assert_eq!(s.platform_host().admin("GET", &format!("/admin/apps/{id}"), None).expect_json(200)["status"], "active");

    // --- Hostile input on every form ---------------------------------------------------------
    let big = vec![b'a'; 70 * 1024];
    let forms = ["/admin/console/login", "/admin/console/setup", "/admin/console/apps", &format!("/admin/console/apps/{id}/edit"), &format!("/admin/console/apps/{id}/keys"), "/admin/console/operators", "/admin/console/logout"];
    for path in forms {
        let bad_utf8 = format!("csrf={csrf}&name=%FF%FE");
        let r = owner.send("POST", path, &[("content-type", "application/x-www-form-urlencoded")], Some(bad_utf8.as_bytes()));
        assert_eq!(r.status, 400, "{path} non-UTF-8: {}", r.text());
        let r = owner.send("POST", path, &[("content-type", "application/json")], Some(b"{\"name\":\"x\"}"));
        assert_eq!(r.status, 415, "{path} JSON: {}", r.text());
        let r = owner.send("POST", path, &[("content-type", "text/plain")], Some(b"csrf=x"));
        assert_eq!(r.status, 415, "{path} text: {}", r.text());
        let r = owner.send("POST", path, &[("content-type", "application/x-www-form-urlencoded")], Some(&big));
        assert_eq!(r.status, 413, "{path} oversized");
        let dup = format!("csrf={csrf}&csrf={csrf}");
        let r = owner.send("POST", path, &[("content-type", "application/x-www-form-urlencoded")], Some(dup.as_bytes()));
        assert_eq!(r.status, 400, "{path} repeated field: {}", r.text());
    }
    // An oversized field inside a valid form: the API's length rules.
    let long = "n".repeat(5000);
    let r = owner.post("/admin/console/apps", &[("csrf", &csrf), ("name", &long), ("scope.public", "on")]);
    assert_eq!(r.status, 400, "{}", r.text());
    // The operators API: JSON only, its fields only.
    let p = s.platform_host();
    p.with_bearer("POST", "/admin/operators", &admin_token, None).expect(415);
    p.request("POST", "/admin/operators", &[("authorization", &bearer(&admin_token)), ("content-type", "application/json")], Some(b"\xff\xfe")).expect_error(400, "invalid_request");
    p.admin("POST", "/admin/operators", Some(&json!({"email": "z@example.com", "name": "z", "role": "root", "password": PASSWORD}))).expect_error(400, "invalid_request");
    p.admin("POST", "/admin/operators", Some(&json!({"email": "z@example.com", "name": "z", "role": "admin", "password": PASSWORD, "extra": 1}))).expect_error(400, "invalid_request");
    p.admin("POST", "/admin/operators", Some(&json!({"email": "not an email", "name": "z", "role": "admin", "password": PASSWORD}))).expect_error(400, "invalid_request");
    p.admin("PATCH", "/admin/operators/%FF", Some(&json!({"role": "admin"}))).expect(404);
    let made = p.admin("POST", "/admin/operators", Some(&json!({"email": "z@example.com", "name": "z", "role": "admin", "password": PASSWORD}))).expect_json(201);
    assert_eq!(made["role"], "admin");
    let zid = made["id"].as_str().unwrap().to_owned();
    p.admin("PATCH", &format!("/admin/operators/{zid}"), Some(&json!({"role": "read_only"}))).expect_json(200);
    p.admin("DELETE", &format!("/admin/operators/{zid}"), None).expect(204);
    p.admin("GET", &format!("/admin/operators/{zid}"), None).expect(404);

    // --- A removed operator's session ends ------------------------------------------------------
    let csrf = owner.csrf();
    owner.post(&format!("/admin/console/operators/{ro_id}/remove"), &[("csrf", &csrf)]).expect(303);
    assert_login_redirect(&ro.get("/admin/console/apps"));
    ro.api("GET", "/admin/apps", None, None).expect_error(401, "invalid_token");

    // --- Organisations: one tenant's operators are nothing at another -------------------------
    let acme = Browser::new(s.org_host("acme"));
    bootstrap(&acme, &admin_token, "acme-owner@example.com").expect(303);
    let beta_app = s.org_host("beta").create_app(json!({"name": "Beta secret app", "scopes": ["public"]}));
    let acme_list = acme.get("/admin/console/apps").expect(200).text();
    assert!(!acme_list.contains(&beta_app.id) && !acme_list.contains(&id), "{acme_list}");
    assert_eq!(acme.get(&format!("/admin/console/apps/{}", beta_app.id)).status, 404);
    // acme's cookie at beta's host (and the platform's): no session there.
    let stolen = acme.cookie(CONSOLE).unwrap();
    for host in [s.org_host("beta"), s.platform_host()] {
        let b = Browser::new(host);
        b.set_cookie(CONSOLE, &stolen);
        assert_login_redirect(&b.get("/admin/console/apps"));
        b.api("GET", "/admin/apps", None, None).expect_error(401, "invalid_token");
    }
    // beta has no operators yet: its console offers the set-up; acme's owner cannot sign in there.
    let beta = Browser::new(s.org_host("beta"));
    assert!(beta.get("/admin/console/login").text().contains("Set up the console"));
    assert_eq!(sign_in(&beta, "acme-owner@example.com", PASSWORD).status, 401);
    // An organisation's own operator token sets up its console, and only there.
    let token = s.platform_host().admin("POST", "/admin/orgs/beta/operators", Some(&json!({"name": "beta ops"}))).expect_json(201)["token"].as_str().unwrap().to_owned();
    let plat = Browser::new(s.platform_host());
    assert_eq!(sign_in(&plat, "beta-owner@example.com", PASSWORD).status, 401);
    bootstrap(&beta, &token, "beta-owner@example.com").expect(303);
    assert!(beta.get("/admin/console/apps").expect(200).text().contains(&beta_app.id));
    assert_eq!(s.org_host("acme").admin("GET", "/admin/operators", None).expect_json(200)["operators"].as_array().unwrap().len(), 1);
}

/// A person signed up on the browser's host; their user id (from the host's users API).
#[track_caller]
fn person(s: &Server, org: Option<&str>, email: &str) -> String {
    let host = || match org { Some(l) => s.org_host(l), None => s.platform_host() };
    let b = Browser::new(host());
    let h = host();
    let r = b.submit("/signup", "/signup", &[("email", email), ("password", "plum-kettle-42"), ("name", "Pat")]);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = h.admin("GET", &format!("/admin/users?email={}", email.replace('@', "%40")), None).expect_json(200);
    v["users"][0]["id"].as_str().unwrap_or_else(|| panic!("{v}")).to_owned()
}

#[track_caller]
fn status_of(h: &Host<'_>, id: &str) -> String {
    h.admin("GET", &format!("/admin/users/{id}"), None).expect_json(200)["status"].as_str().unwrap().to_owned()
}

#[test]
fn people_and_audit_pages_roles_tenants_and_hostile_input() {
    let s = Server::start_with(&[("ORG_DOMAIN", "localhost")]);
    let admin_token = s.admin_token.clone().unwrap();
    s.create_org("acme");
    let plat = s.platform_host();
    let owner = Browser::new(s.platform_host());
    bootstrap(&owner, &admin_token, "owner@example.com").expect(303);
    for (email, role) in [("ro@example.com", "read_only"), ("adm@example.com", "admin")] {
        owner.submit("/admin/console/operators", "/admin/console/operators", &[("name", role), ("email", email), ("role", role), ("password", PASSWORD)]).expect(303);
    }
    let ro = Browser::new(s.platform_host());
    sign_in(&ro, "ro@example.com", PASSWORD).expect(303);
    let adm = Browser::new(s.platform_host());
    sign_in(&adm, "adm@example.com", PASSWORD).expect(303);
    let ann = person(&s, None, "ann@example.com");
    let bob = person(&s, None, "bob@example.com");
    // Another organisation's person.
    let acme_host = s.org_host("acme");
    let eve = person(&s, Some("acme"), "eve@example.com");

    // --- Every role sees the pages; only owner and admin get the buttons ---------------------
    for b in [&owner, &adm, &ro] {
        let nav = b.get("/admin/console/apps").expect(200).text();
        assert!(nav.contains("href=\"/admin/console/people\"") && nav.contains("href=\"/admin/console/audit\""), "{nav}");
        let list = b.get("/admin/console/people").expect(200).text();
        assert!(list.contains("ann@example.com") && list.contains("bob@example.com") && !list.contains("eve@example.com"), "{list}");
        let found = b.get("/admin/console/people?q=ann").expect(200).text();
        assert!(found.contains("ann@example.com") && !found.contains("bob@example.com"), "{found}");
        b.get("/admin/console/audit").expect(200).expect_no_store();
        // The other organisation's person: not found, not forbidden.
        assert_eq!(b.get(&format!("/admin/console/people/{eve}")).status, 404);
    }
    let page = ro.get(&format!("/admin/console/people/{ann}")).expect(200).text();
    assert!(page.contains(&ann) && !page.contains("id=\"person-actions\""), "{page}");
    let page = adm.get(&format!("/admin/console/people/{ann}")).expect(200).text();
    assert!(page.contains("id=\"person-actions\"") && page.contains("id=\"reset-password\""), "{page}");

    // --- Read-only: every action refused, nothing changed ----------------------------------
    let csrf = ro.csrf();
    for action in ["disable", "enable", "reset-password", "end-sessions", "delete"] {
        let r = ro.post(&format!("/admin/console/people/{ann}/{action}"), &[("csrf", &csrf), ("confirm", "yes")]);
        assert_eq!(r.status, 403, "read-only {action}: {}", r.text());
    }
    assert_eq!(ro.get(&format!("/admin/console/people/{ann}/delete")).status, 403);
    ro.api("POST", &format!("/admin/users/{ann}/disable"), Some(&csrf), None).expect_error(403, "access_denied");
    assert_eq!(status_of(&plat, &ann), "active");

    // --- CSRF missing, wrong, another session's, cross-origin: refused, nothing changed ------
    let csrf = adm.csrf();
    let path = format!("/admin/console/people/{ann}/disable");
    adm.post(&path, &[]).expect(403);
    adm.post(&path, &[("csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]).expect(403);
    adm.post(&path, &[("csrf", &owner.csrf())]).expect(403);
    let body = form(&[("csrf", &csrf)]);
    adm.send("POST", &path, &[("content-type", "application/x-www-form-urlencoded"), ("origin", "https://evil.example")], Some(body.as_bytes())).expect(403);
    assert_eq!(status_of(&plat, &ann), "active");

    // --- An admin acts; every action an event with the operator as actor ----------------------
    let ops = plat.admin("GET", "/admin/operators", None).expect_json(200);
    let adm_id = ops["operators"].as_array().unwrap().iter().find(|o| o["email"] == "adm@example.com").unwrap()["id"].as_str().unwrap().to_owned();
    adm.post(&path, &[("csrf", &csrf)]).expect(303);
    assert_eq!(status_of(&plat, &ann), "disabled");
    adm.post(&format!("/admin/console/people/{ann}/enable"), &[("csrf", &csrf)]).expect(303);
    adm.post(&format!("/admin/console/people/{ann}/end-sessions"), &[("csrf", &csrf)]).expect(303);
    adm.post(&format!("/admin/console/people/{ann}/reset-password"), &[("csrf", &csrf)]).expect(303);
    let page = adm.get(&format!("/admin/console/people/{ann}?done=reset")).expect(200).text();
    assert!(page.contains("reset: waiting for a new one") && page.contains("Passkeys and two-factor authentication remain"), "{page}");
    // The other organisation's person: 404 on every action, and untouched.
    for action in ["disable", "reset-password", "end-sessions", "delete"] {
        let r = adm.post(&format!("/admin/console/people/{eve}/{action}"), &[("csrf", &csrf), ("confirm", "yes")]);
        assert_eq!(r.status, 404, "{action}: {}", r.text());
    }
    assert_eq!(status_of(&acme_host, &eve), "active");
    // Delete needs its confirmation.
    adm.get(&format!("/admin/console/people/{bob}/delete")).expect(200);
    adm.post(&format!("/admin/console/people/{bob}/delete"), &[("csrf", &csrf)]).expect(400);
    plat.admin("GET", &format!("/admin/users/{bob}"), None).expect(200);
    adm.post(&format!("/admin/console/people/{bob}/delete"), &[("csrf", &csrf), ("confirm", "yes")]).expect(303);
    plat.admin("GET", &format!("/admin/users/{bob}"), None).expect(404);
    // The bearer token's actions are the admin token's.
    plat.admin("POST", &format!("/admin/users/{ann}/end-sessions"), None).expect(200);
    let ev = plat.admin("GET", &format!("/admin/audit?person={ann}"), None).expect_json(200);
    let mut actors: Vec<(String, String)> = ev["events"].as_array().unwrap().iter()
        .filter(|e| e["type"].as_str().unwrap().starts_with("user."))
        .map(|e| (e["type"].as_str().unwrap().to_owned(), e["actor"].as_str().unwrap().to_owned())).collect();
    let me = format!("operator:{adm_id}");
    // Events of one second are in no order of their own: compared as a set.
    actors.sort();
    let mut want = vec![
        ("user.sessions.end".to_owned(), "admin-token".to_owned()),
        ("user.password.reset".to_owned(), me.clone()),
        ("user.sessions.end".to_owned(), me.clone()),
        ("user.enable".to_owned(), me.clone()),
        ("user.disable".to_owned(), me.clone()),
    ];
    want.sort();
    assert_eq!(actors, want, "{ev}");
    // The audit page shows them, filtered, with the operator's name; acme sees none of it.
    let audit = ro.get(&format!("/admin/console/audit?person={ann}&type=user.disable")).expect(200).text();
    assert_eq!(audit.matches("<code>user.disable</code>").count(), 1, "{audit}");
    assert!(audit.contains(&me) && audit.contains(">admin "), "{audit}");
    let acme = Browser::new(s.org_host("acme"));
    bootstrap(&acme, &admin_token, "acme-owner@example.com").expect(303);
    let theirs = acme.get("/admin/console/audit").expect(200).text();
    assert!(!theirs.contains(&ann) && !theirs.contains("user.disable</code>"), "{theirs}");
    assert_eq!(acme.get(&format!("/admin/console/people/{ann}")).status, 404);

    // --- Expired or forged session cookies ----------------------------------------------------
    let old = ro.cookie(CONSOLE).unwrap();
    ro.post("/admin/console/logout", &[("csrf", &ro.csrf())]).expect(303);
    for cookie in [old.as_str(), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "%FF"] {
        let f = Browser::new(s.platform_host());
        f.set_cookie(CONSOLE, cookie);
        assert_login_redirect(&f.get("/admin/console/people"));
        assert_login_redirect(&f.get("/admin/console/audit"));
        f.post(&path, &[("csrf", &csrf)]).expect(403);
    }

    // --- Hostile input -------------------------------------------------------------------------
    let big = vec![b'a'; 70 * 1024];
    for path in [format!("/admin/console/people/{ann}/disable"), format!("/admin/console/people/{ann}/delete")] {
        let r = adm.send("POST", &path, &[("content-type", "application/x-www-form-urlencoded")], Some(format!("csrf={csrf}&x=%FF%FE").as_bytes()));
        assert_eq!(r.status, 400, "{path} non-UTF-8");
        for ct in ["application/json", "text/plain", "multipart/form-data; boundary=x"] {
            assert_eq!(adm.send("POST", &path, &[("content-type", ct)], Some(b"csrf=x")).status, 415, "{path} {ct}");
        }
        assert_eq!(adm.send("POST", &path, &[("content-type", "application/x-www-form-urlencoded")], Some(&big)).status, 413, "{path} oversized");
        let dup = format!("csrf={csrf}&csrf={csrf}");
        assert_eq!(adm.send("POST", &path, &[("content-type", "application/x-www-form-urlencoded")], Some(dup.as_bytes())).status, 400, "{path} repeated");
    }
    let long = "a".repeat(4000);
    for q in ["q=%FF%FE".to_owned(), "q=a&q=b".into(), format!("q={long}"), "status=gone".into(), "cursor=%00".into()] {
        let r = adm.get(&format!("/admin/console/people?{q}"));
        assert_eq!(r.status, 400, "people ?{q}: {}", r.text());
        assert!(r.text().contains("id=\"filter-error\""), "{q}");
    }
    for q in ["type=nope".to_owned(), "from=yesterday".into(), "to=2026-13-01".into(), "app=%FF".into(), "person=a&person=b".into(), format!("app={long}"), "cursor=1.%%%".into()] {
        let r = adm.get(&format!("/admin/console/audit?{q}"));
        assert_eq!(r.status, 400, "audit ?{q}: {}", r.text());
        assert!(r.text().contains("id=\"filter-error\""), "{q}");
    }
    assert_eq!(status_of(&plat, &ann), "active");
}

/// A console session ends at its time (`CONSOLE_SESSION_SECONDS`, which can only shorten the
/// 30 minutes): after it, pages send to the sign-in, and a change posted with the old cookie
/// and its CSRF token is refused and changes nothing.
#[test]
fn an_expired_console_session_is_refused_and_changes_nothing() {
    let s = Server::start_with(&[("CONSOLE_SESSION_SECONDS", "3")]);
    let admin_token = s.admin_token.clone().unwrap();
    let b = Browser::new(s.platform_host());
    let r = bootstrap(&b, &admin_token, "owner@example.com");
    r.expect(303);
    let set = r.headers.iter().find(|(k, v)| k == "set-cookie" && v.starts_with(CONSOLE)).map(|(_, v)| v.clone()).unwrap();
    assert!(set.contains("Max-Age=3"), "the cookie says the shorter life: {set}");
    let csrf = b.csrf();
    let before = s.platform_host().admin("GET", "/admin/apps", None).expect_json(200);
    // Kept alive by use? No: a session is never extended.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    b.get("/admin/console/apps").expect(200);
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let cookie = b.cookie(CONSOLE).expect("the browser still sends the old cookie");
    assert_login_redirect(&b.get("/admin/console/apps"));
    b.set_cookie(CONSOLE, &cookie);
    b.post("/admin/console/apps", &[("csrf", &csrf), ("name", "made after expiry")]).expect(403);
    b.set_cookie(CONSOLE, &cookie);
    b.api("POST", "/admin/apps", Some(&csrf), Some(&json!({"name": "made after expiry"}))).expect(401);
    let after = s.platform_host().admin("GET", "/admin/apps", None).expect_json(200);
    assert_eq!(before, after, "nothing was made");
    // Signing in again starts a new session.
    sign_in(&b, "owner@example.com", PASSWORD).expect(303);
    b.get("/admin/console/apps").expect(200);
}
