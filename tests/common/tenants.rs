//! Organisations on one deployment (`ORG_DOMAIN=localhost`): requests go to 127.0.0.1 with the
//! `Host` of the tenant they are for (`<label>.localhost:PORT`, or `localhost:PORT` for the
//! platform), as a browser resolving `*.localhost` sends them. [`Host`] binds every request it
//! makes to one such host; [`Server::create_org`] makes an organisation through the platform
//! operator's `POST /admin/orgs`.

use super::*;

/// One tenant's host on a server: every request it sends carries `Host: <host>`.
pub struct Host<'a> {
    pub s: &'a Server,
    /// `acme.localhost:PORT` (what the `Host` header says).
    pub host: String,
}

impl Server {
    /// The host of the organisation `label` (whether or not it exists).
    pub fn org_host(&self, label: &str) -> Host<'_> {
        Host {
            s: self,
            host: format!("{label}.localhost:{}", self.port),
        }
    }

    /// The platform's own host (the default tenant: `localhost:PORT`).
    pub fn platform_host(&self) -> Host<'_> {
        Host {
            s: self,
            host: format!("localhost:{}", self.port),
        }
    }

    /// `POST /admin/orgs` on the platform's host, whatever the answer.
    #[track_caller]
    pub fn post_org(&self, label: &str) -> Resp {
        let body = json!({"label": label, "name": format!("{label} Ltd")});
        self.platform_host().admin("POST", "/admin/orgs", Some(&body))
    }

    /// Creates the organisation `label` (asserting 201, active) and returns its host.
    #[track_caller]
    pub fn create_org(&self, label: &str) -> Host<'_> {
        let org = self.post_org(label).expect_json(201);
        assert_eq!(org["label"], label, "{org}");
        assert_eq!(org["status"], "active", "{org}");
        self.org_host(label)
    }

    /// Every organisation label the platform lists, paging through `GET /admin/orgs`.
    #[track_caller]
    pub fn org_labels(&self) -> Vec<String> {
        let p = self.platform_host();
        let mut labels = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                None => "/admin/orgs?limit=100".to_owned(),
                Some(c) => format!("/admin/orgs?limit=100&cursor={}", form_encode(c)),
            };
            let v = p.admin("GET", &path, None).expect_json(200);
            for o in v["orgs"].as_array().expect("no orgs array") {
                labels.push(o["label"].as_str().unwrap().to_owned());
            }
            match v["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return labels,
            }
        }
    }
}

impl Host<'_> {
    /// The issuer of this host in development: its origin.
    pub fn issuer(&self) -> String {
        format!("http://{}", self.host)
    }

    /// Any request to this host (the harness fails it on a 5xx).
    #[track_caller]
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Resp {
        let mut h = vec![("host", self.host.as_str())];
        h.extend_from_slice(headers);
        self.s.request(
            method,
            path,
            Req {
                headers: &h,
                body,
                chunked: false,
            },
        )
    }

    #[track_caller]
    pub fn get(&self, path: &str) -> Resp {
        self.request("GET", path, &[], None)
    }

    #[track_caller]
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        self.request("GET", path, headers, None)
    }

    #[track_caller]
    pub fn post_form(&self, path: &str, pairs: &[(&str, &str)], headers: &[(&str, &str)]) -> Resp {
        let mut h = vec![("content-type", "application/x-www-form-urlencoded")];
        h.extend_from_slice(headers);
        self.request("POST", path, &h, Some(form(pairs).as_bytes()))
    }

    /// A request with `Authorization: Bearer <token>` and, when given, a JSON body.
    #[track_caller]
    pub fn with_bearer(&self, method: &str, path: &str, token: &str, body: Option<&Value>) -> Resp {
        let auth = bearer(token);
        let text = body.map(|b| b.to_string());
        let mut h = vec![("authorization", auth.as_str())];
        if text.is_some() {
            h.push(("content-type", "application/json"));
        }
        self.request(method, path, &h, text.as_deref().map(str::as_bytes))
    }

    /// An admin API request on this host with the server's admin token.
    #[track_caller]
    pub fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> Resp {
        self.with_bearer(method, path, self.s.admin_token.as_deref().unwrap_or(""), body)
    }

    /// Creates an app in this tenant (asserting 201).
    #[track_caller]
    pub fn create_app(&self, body: Value) -> App {
        App::from_json(self.admin("POST", "/admin/apps", Some(&body)).expect_json(201))
    }

    /// A trusted confidential app of this tenant (client_credentials allowed).
    #[track_caller]
    pub fn trusted_app(&self, scopes: &[&str]) -> App {
        self.create_app(json!({
            "name": format!("e2e trusted {}", rand_hex(3)),
            "owner": owner("t"),
            "trusted": true,
            "scopes": scopes,
        }))
    }

    /// client_credentials with client_secret_basic at this host, whatever the answer.
    #[track_caller]
    pub fn cc(&self, id: &str, secret: &str) -> Resp {
        let auth = basic(id, secret);
        self.post_form(
            "/oauth/token",
            &[("grant_type", "client_credentials")],
            &[("authorization", &auth)],
        )
    }

    /// A client_credentials access token of `app` at this host (asserting success).
    #[track_caller]
    pub fn cc_token(&self, app: &App) -> String {
        let v = self.cc(&app.id, app.secret()).expect_json(200);
        v["access_token"].as_str().unwrap().to_owned()
    }

    /// `active` of the token's introspection at this host with the admin token.
    #[track_caller]
    pub fn is_active(&self, token: &str) -> bool {
        let auth = bearer(self.s.admin_token.as_deref().expect("no admin token"));
        let v = self
            .post_form(
                "/oauth/introspect",
                &[("token", token)],
                &[("authorization", &auth)],
            )
            .expect_json(200);
        match v["active"] {
            Value::Bool(b) => b,
            _ => panic!("introspection without a boolean 'active': {v}"),
        }
    }

    /// `GET /oauth/userinfo` with the token as bearer.
    #[track_caller]
    pub fn userinfo(&self, token: &str) -> Resp {
        self.with_bearer("GET", "/oauth/userinfo", token, None)
    }

    /// This host's authorization-server metadata (asserting 200).
    #[track_caller]
    pub fn metadata(&self) -> Value {
        self.get("/.well-known/oauth-authorization-server")
            .expect_json(200)
    }

    /// This host's JWKS (asserting 200).
    #[track_caller]
    pub fn jwks(&self) -> Value {
        self.get("/.well-known/jwks.json").expect_json(200)
    }
}

/// The claims of a JWT, read without verifying it (to look at `iss` and `aud`).
#[track_caller]
pub fn jwt_claims(token: &str) -> Value {
    let payload = token
        .split('.')
        .nth(1)
        .unwrap_or_else(|| panic!("not a JWT: {token}"));
    serde_json::from_slice(&b64url_decode(payload))
        .unwrap_or_else(|e| panic!("JWT claims unreadable ({e}): {token}"))
}
