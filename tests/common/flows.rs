//! Admin API and OAuth flows as the tests drive them: apps, client credentials, introspection,
//! app tokens and the jwt-bearer grant.

use super::*;

impl Server {
    // --- Admin API ------------------------------------------------------------------------

    /// A request with `Authorization: Bearer <token>` and, when given, a JSON body.
    #[track_caller]
    pub fn with_bearer(&self, method: &str, path: &str, token: &str, body: Option<&Value>) -> Resp {
        let auth = bearer(token);
        let text = body.map(|b| b.to_string());
        let mut headers = vec![("authorization", auth.as_str())];
        if text.is_some() {
            headers.push(("content-type", "application/json"));
        }
        self.request(
            method,
            path,
            Req {
                headers: &headers,
                body: text.as_deref().map(str::as_bytes),
                ..Default::default()
            },
        )
    }

    /// An admin API request with the server's admin token (and a JSON body when given).
    #[track_caller]
    pub fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> Resp {
        self.with_bearer(method, path, self.admin_token.as_deref().unwrap_or(""), body)
    }

    /// The client_ids of every app of `owner`, paging through the admin listing (asserting
    /// that it lists no other owner's app).
    #[track_caller]
    pub fn owned_ids(&self, owner: &str) -> Vec<String> {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                None => format!("/admin/apps?owner={owner}&limit=100"),
                Some(c) => format!("/admin/apps?owner={owner}&limit=100&cursor={}", form_encode(c)),
            };
            let v = self.admin("GET", &path, None).expect_json(200);
            for a in v["apps"].as_array().unwrap() {
                assert_eq!(a["owner"], owner, "listing by owner returned another owner's app");
                ids.push(a["client_id"].as_str().unwrap().to_owned());
            }
            match v["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return ids,
            }
        }
    }

    /// `POST /admin/apps` with `body`, whatever the answer.
    #[track_caller]
    pub fn post_app(&self, body: &Value) -> Resp {
        self.admin("POST", "/admin/apps", Some(body))
    }

    /// Creates an app (asserting 201) and returns what the server answered.
    #[track_caller]
    pub fn create_app(&self, body: Value) -> App {
        let r = self.admin("POST", "/admin/apps", Some(&body));
        let v = r.expect_json(201);
        App::from_json(v)
    }

    /// A trusted confidential app (client_credentials allowed) with the given scopes.
    #[track_caller]
    pub fn trusted_app(&self, scopes: &[&str]) -> App {
        self.create_app(json!({
            "name": format!("e2e trusted {}", rand_hex(3)),
            "owner": owner("t"),
            "trusted": true,
            "scopes": scopes,
        }))
    }

    /// An app with `key` registered as its public key (for app tokens and private_key_jwt).
    #[track_caller]
    pub fn keyed_app(&self, key: &TestKey, extra: Value) -> App {
        let mut body = json!({
            "name": format!("e2e keyed {}", rand_hex(3)),
            "owner": owner("k"),
            "public_key": key.public_jwk(),
        });
        if let Value::Object(m) = extra {
            for (k, v) in m {
                body[k] = v;
            }
        }
        self.create_app(body)
    }

    #[track_caller]
    pub fn get_app(&self, id: &str) -> Value {
        self.admin("GET", &format!("/admin/apps/{id}"), None)
            .expect_json(200)
    }

    #[track_caller]
    pub fn patch_app(&self, id: &str, body: Value) -> Resp {
        self.admin("PATCH", &format!("/admin/apps/{id}"), Some(&body))
    }

    // --- OAuth ----------------------------------------------------------------------------

    /// client_credentials with client_secret_basic (form body).
    #[track_caller]
    pub fn cc_basic(&self, id: &str, secret: &str, scope: Option<&str>) -> Resp {
        let pairs = with_scope(&[("grant_type", "client_credentials")], scope);
        self.post_form_basic("/oauth/token", &pairs, id, secret)
    }

    /// client_credentials with client_secret_post (form body).
    #[track_caller]
    pub fn cc_post(&self, id: &str, secret: &str, scope: Option<&str>) -> Resp {
        let pairs = [("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)];
        self.post_form("/oauth/token", &with_scope(&pairs, scope))
    }

    /// A form POST authenticated with client_secret_basic as `id`/`secret`.
    #[track_caller]
    pub fn post_form_basic(&self, path: &str, pairs: &[(&str, &str)], id: &str, secret: &str) -> Resp {
        self.post_form_with(path, pairs, &[("authorization", &basic(id, secret))])
    }

    /// A client_credentials access token for a trusted app (asserting success).
    #[track_caller]
    pub fn cc_token(&self, app: &App) -> String {
        let v = self.cc_basic(&app.id, app.secret(), None).expect_json(200);
        v["access_token"].as_str().unwrap().to_owned()
    }

    /// Introspects with the admin token; returns the JSON (asserting 200).
    #[track_caller]
    pub fn introspect(&self, token: &str) -> Value {
        let auth = bearer(self.admin_token.as_deref().expect("no admin token"));
        self.post_form_with(
            "/oauth/introspect",
            &[("token", token)],
            &[("authorization", &auth)],
        )
        .expect_no_store()
        .expect_json(200)
    }

    #[track_caller]
    pub fn is_active(&self, token: &str) -> bool {
        let v = self.introspect(token);
        match v["active"] {
            Value::Bool(b) => b,
            _ => panic!("introspection without a boolean 'active': {v}"),
        }
    }

    /// `POST /application/token` with the app JWT as bearer, no body.
    #[track_caller]
    pub fn app_token(&self, jwt: &str) -> Resp {
        self.with_bearer("POST", "/application/token", jwt, None)
    }

    /// The jwt-bearer grant at the token endpoint.
    #[track_caller]
    pub fn jwt_bearer(&self, assertion: &str) -> Resp {
        self.post_form(
            "/oauth/token",
            &[("grant_type", JWT_BEARER), ("assertion", assertion)],
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Apps
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct App {
    pub id: String,
    pub secret: Option<String>,
    pub private_key: Option<String>,
    pub json: Value,
}

impl App {
    #[track_caller]
    pub fn from_json(v: Value) -> App {
        let id = v["client_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no client_id in {v}"))
            .to_owned();
        App {
            id,
            secret: v["client_secret"].as_str().map(str::to_owned),
            private_key: v["private_key"].as_str().map(str::to_owned),
            json: v,
        }
    }

    #[track_caller]
    pub fn secret(&self) -> &str {
        self.secret.as_deref().expect("app has no client_secret")
    }
}

// ---------------------------------------------------------------------------------------------
