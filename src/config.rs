//! Server configuration, read once per isolate from Worker vars (see README "Configuration").

pub const DEFAULT_SCOPES: &str = "public email subscriptions:read subscriptions:write subscriptions_batch:write custom_attributes:read custom_attributes:write users:read users:read_by_email users:change_email users:write newsletter_subscriptions:write openid profile offline_access";

#[derive(Debug, Clone)]
pub struct Config {
    /// `ISSUER`; when unset the server is in development mode and the issuer is the request origin.
    pub issuer: Option<String>,
    /// `ENVIRONMENT`: `production` (wrangler.toml's default, so a deploy is production) or
    /// `development` (what scripts/serve.sh and scripts/dev.sh set). Unset: development, as
    /// before the setting existed. Any other value is taken for production and reported.
    /// Production refuses to serve until [`Config::production_problems`] is empty.
    pub production: bool,
    /// An `ENVIRONMENT` value that is neither (reported by `production_problems`).
    pub environment_invalid: bool,
    /// `SCOPES`: the catalogue every app's scopes come from.
    pub scopes: Vec<String>,
    /// `SELF_SERVICE_SCOPES` (default `public`): the only scopes a self-service app (RFC 7591,
    /// the registration page, `/apps`) may hold until an operator approves it.
    pub self_service_scopes: Vec<String>,
    /// `SCOPE_DESCRIPTIONS`: a JSON object of scope → what it lets an app do, in words, shown
    /// on the consent page (for custom scopes, or to reword a built-in one). Entries that are
    /// not a scope token with a description of 1 to 200 printable characters are left out.
    pub scope_descriptions: Vec<(String, String)>,
    /// `AUTH_FAILURE_LIMIT` (default 10): failed client authentications per minute from one
    /// address for one client, counted apart from the client's successful calls.
    pub auth_failure_limit: u32,
    /// `ACCESS_TOKEN_AUDIENCE`: `aud` of access tokens when no `resource` is asked for (default: the issuer).
    pub audience: Option<String>,
    /// `RESOURCES`: RFC 8707 resource indicators a client may ask for.
    pub resources: Vec<String>,
    /// `MAX_APPS_PER_OWNER` (default 1000).
    pub max_apps_per_owner: u32,
    /// `CLIENT_CREDENTIALS_TTL` seconds (default 7200), unless the app sets its own.
    pub client_credentials_ttl: u64,
    /// `APP_TOKEN_TTL` seconds (default 3600), for `/application/token` and jwt-bearer.
    pub app_token_ttl: u64,
    /// `ACCESS_TOKEN_TTL` seconds (default 3600) for tokens acting for people.
    pub access_token_ttl: u64,
    /// `ID_TOKEN_TTL` seconds (default 3600): how long an OpenID Connect ID token is valid.
    pub id_token_ttl: u64,
    /// `CODE_TTL` seconds (default 60, at most 600).
    pub code_ttl: u64,
    /// `REFRESH_TOKEN_TTL` seconds (default 30 days); each rotation starts a new one.
    pub refresh_token_ttl: u64,
    /// `GRANT_MAX_TTL` seconds (default 90 days): no refresh outlives its grant.
    pub grant_max_ttl: u64,
    /// `SESSION_TTL` seconds (default 12 h).
    pub session_ttl: u64,
    /// `RECENT_LOGIN_SECONDS`: a shorter window than `rules::recent_login::MAX_AGE` for the
    /// actions that need a recent log-in (it can only make it stricter).
    pub recent_login_seconds: Option<u64>,
    /// `CONSOLE_SESSION_SECONDS`: a shorter console session than `rules::console_session::TTL`
    /// (it can only make it stricter).
    pub console_session_seconds: Option<u64>,
    /// `AUDIT_RETENTION_DAYS`: how long audit events are kept (default 90, 1 to 3650).
    pub audit_retention_days: u64,
    /// `LOGIN_LIMIT_ACCOUNT` / `LOGIN_LIMIT_ADDRESS`: failed log-ins per minute (default 10 / 30).
    pub login_limit_account: u32,
    pub login_limit_address: u32,
    /// `REGISTRATION_POLICY` for RFC 7591: `open`, `token` (initial access token) or `off`.
    /// Default: `open` in development, `token` in production.
    pub registration_policy: String,
    /// `PUBLIC_CLIENT_REGISTRATION` (`on`/`off`, default on): may RFC 7591 register public clients?
    pub public_client_registration: bool,
    /// `INITIAL_ACCESS_TOKEN` secret for the `token` policy (the admin token is also accepted).
    pub initial_access_token: Option<Secret>,
    /// `GATEWAY_ROUTES`: JSON array of protected routes (see `gateway.rs`).
    pub gateway_routes: Vec<Route>,
    /// Set when `GATEWAY_ROUTES` does not parse; every request then answers 503 saying so.
    pub gateway_error: Option<String>,
    /// `GATEWAY_CACHE_SECONDS` (default 30): how long the gateway trusts a liveness answer.
    pub gateway_cache_seconds: u64,
    /// `TOKEN_RATE_LIMIT`: client-authenticated requests per client per minute (default 6000).
    pub token_rate_limit: u32,
    /// `APP_SHARDS`: over how many of its objects (1-8, default 8) one app's client
    /// authentication and limits are spread, and on how many its access tokens are minted
    /// (issue 17, `apps::replicas`). Changing it is safe at any time.
    pub app_shards: u32,
    /// `REGISTRATION_RATE_LIMIT`: registrations per client address per minute (default 10).
    pub registration_rate_limit: u32,
    /// `ADMIN_TOKEN` secret; admin routes answer 503 without it.
    pub admin_token: Option<Secret>,
    /// `ACCESS_TOKEN_ALG`: `RS256` (default) or `EdDSA` (Ed25519). An unknown value is refused
    /// when the keys are loaded (see [`AccessTokenAlg::from_var`]).
    pub access_token_alg: AccessTokenAlg,
    /// `ORG_DOMAIN` (e.g. `auth.example.com`, `localhost` locally): when set, `<label>.<ORG_DOMAIN>`
    /// is the organisation `<label>` and hosts other than these name no tenant (see
    /// [`crate::rules::tenant`]). Unset: one tenant, as before.
    pub org_domain: Option<String>,
    /// `PASSWORD_GRANT` (`on`/`off`, default on): may apps that opted in use the password grant?
    /// An organisation's policy sets it per tenant.
    pub password_grant: bool,
    /// `REQUIRE_PAR=on`: every authorization request must be pushed first (RFC 9126 §5); off by
    /// default, when only apps registered with `require_pushed_authorization_requests` must.
    pub require_par: bool,
    /// Tenant-wide quotas, counted atomically (`None`: no limit). Unset for the default tenant
    /// unless `MAX_APPS` / `MAX_PEOPLE` are set; an organisation's
    /// come from its record (`objects::org`).
    pub quotas: TenantQuotas,
    /// What the pages show as the service's name, colour and logo (per tenant).
    pub brand: Brand,
    /// SHA-256 of each operator token of this tenant, besides `ADMIN_TOKEN` (an organisation's
    /// operators; `ADMIN_TOKEN` itself is the platform operator's and is not set in an
    /// organisation's configuration).
    pub operator_token_hashes: Vec<String>,
    /// `PAIRWISE_SECRET` (a secret): what pairwise subject identifiers are derived from
    /// (`rules::subject`). Without it pairwise subjects are not offered, except in development,
    /// where a fixed development secret stands in (anyone can compute those subjects).
    pub pairwise_secret: Option<Secret>,
    /// The tenant pairwise subjects are derived in: `""` for the default tenant, the
    /// organisation's label for one (`tenancy::config_for`), so no two tenants share a subject.
    pub pairwise_context: String,
    /// `UPSTREAM_PROVIDERS`: the identity providers people may sign in with (see
    /// [`UpstreamProvider`]); entries that do not parse are left out and listed in
    /// `upstream_problems` (logged, and shown by their start route as a 503 page).
    pub upstreams: Vec<UpstreamProvider>,
    pub upstream_problems: Vec<String>,
    /// How email goes out (`MAIL_*`, see [`MailConfig`]).
    pub mail: MailConfig,
    /// The documents made from this configuration alone (`crate::prepared`): empty in a clone.
    pub prepared: crate::prepared::Prepared,
}

/// Email (verification, password reset, email change). `MAIL_FROM` is the sender; the
/// transport is an HTTP email API when `MAIL_API_URL` and the `MAIL_API_TOKEN` secret are both
/// set, else Cloudflare's `send_email` binding named by `MAIL_BINDING`, else none: in
/// development the messages go to the outbox (`/dev/outbox`), in production sending fails and
/// the pages say so.
#[derive(Debug, Clone, Default)]
pub struct MailConfig {
    /// `MAIL_FROM` (default `no-reply@<the issuer's host>` is the caller's; see
    /// [`MailConfig::from_address`]).
    pub from: Option<String>,
    pub transport: Option<MailTransport>,
    /// `MAIL_TOKEN_TTL` seconds (default 1800, 5 min to 24 h): how long a link sent by email
    /// (verification, reset, email change) works.
    pub token_ttl: u64,
    /// `MAIL_LIMIT_ADDRESS` (default 10) / `MAIL_LIMIT_RECIPIENT` (default 3): emails asked for
    /// per minute from one client address, and sent per minute to one email address.
    pub limit_address: u32,
    pub limit_recipient: u32,
}

#[derive(Debug, Clone)]
pub enum MailTransport {
    /// A `send_email` binding of this name (`[[send_email]]` in wrangler.toml).
    Binding(String),
    /// A JSON POST (`{"from","to","subject","text"}`) with `Authorization: Bearer <token>` and an
    /// `Idempotency-Key` (Resend and Postmark-style APIs).
    Api { url: String, token: Secret },
}

impl MailConfig {
    /// The sender: `MAIL_FROM`, or `no-reply@<host of issuer>`.
    pub fn from_address(&self, issuer: &str) -> String {
        if let Some(f) = &self.from {
            return f.clone();
        }
        let host = crate::rules::tenant::host_of(issuer);
        let host = host.split(':').next().unwrap_or("localhost");
        format!("no-reply@{}", if host.is_empty() { "localhost" } else { host })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantQuotas {
    pub max_apps: Option<u32>,
    pub max_people: Option<u32>,
    pub max_requests_per_minute: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brand {
    /// Shown in every page's title and header (default `Portcullis`).
    pub name: String,
    /// A CSS colour for buttons and links, `#rgb` or `#rrggbb` only.
    pub color: Option<String>,
    /// An `https:` image URL shown above every page's heading.
    pub logo_url: Option<String>,
    /// `https:` links to the terms of service and the privacy policy, and an address people
    /// can write to for help: in every page's footer (and every email's).
    pub terms_url: Option<String>,
    pub privacy_url: Option<String>,
    pub support_email: Option<String>,
}

impl Default for Brand {
    fn default() -> Self {
        Brand {
            name: "Portcullis".to_owned(),
            color: None,
            logo_url: None,
            terms_url: None,
            privacy_url: None,
            support_email: None,
        }
    }
}

/// The JWS algorithm of the access tokens we sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccessTokenAlg {
    #[default]
    Rs256,
    EdDsa,
}

impl AccessTokenAlg {
    /// Parses `ACCESS_TOKEN_ALG` (case-insensitive; `Ed25519` is taken for `EdDSA`). `None`
    /// for anything else: the caller must refuse it rather than sign with an unexpected key.
    pub fn from_var(value: Option<&str>) -> Option<Self> {
        match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("rs256") => Some(AccessTokenAlg::Rs256),
            Some("eddsa") | Some("ed25519") => Some(AccessTokenAlg::EdDsa),
            Some(_) => None,
        }
    }

    /// The JWS `alg` value.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessTokenAlg::Rs256 => "RS256",
            AccessTokenAlg::EdDsa => "EdDSA",
        }
    }
}

/// `SCOPE_DESCRIPTIONS` (see [`Config::scope_descriptions`]): what does not parse is left out.
pub fn parse_scope_descriptions(json: &str) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(json) else {
        return Vec::new();
    };
    m.into_iter()
        .filter_map(|(k, v)| {
            let d = v.as_str()?.trim().to_owned();
            let scope_ok = crate::rules::scope::parse(&k).is_ok_and(|s| s.len() == 1);
            let text_ok = (1..=200).contains(&d.chars().count()) && !d.chars().any(char::is_control);
            (scope_ok && text_ok).then_some((k, d))
        })
        .collect()
}

/// A secret string whose `Debug` never shows it.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Config {
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Self {
        let get = |k: &str| get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let num = |k: &str, d: u64| get(k).and_then(|v| v.parse().ok()).unwrap_or(d);
        let list = |k: &str, d: &str| -> Vec<String> {
            get(k)
                .unwrap_or_else(|| d.to_owned())
                .split_whitespace()
                .map(str::to_owned)
                .collect()
        };
        let gateway = match get("GATEWAY_ROUTES") {
            Some(json) => parse_routes(&json),
            None => Ok(Vec::new()),
        };
        let upstreams = match get("UPSTREAM_PROVIDERS") {
            Some(json) => parse_upstreams(&json, get),
            None => (Vec::new(), Vec::new()),
        };
        Config {
            issuer: get("ISSUER").map(|s| s.trim_end_matches('/').to_owned()),
            production: !matches!(get("ENVIRONMENT").as_deref(), None | Some("development")),
            environment_invalid: !matches!(get("ENVIRONMENT").as_deref(), None | Some("development") | Some("production")),
            scopes: list("SCOPES", DEFAULT_SCOPES),
            self_service_scopes: list("SELF_SERVICE_SCOPES", "public"),
            scope_descriptions: get("SCOPE_DESCRIPTIONS").map(|j| parse_scope_descriptions(&j)).unwrap_or_default(),
            auth_failure_limit: num("AUTH_FAILURE_LIMIT", 10).clamp(1, 1_000_000) as u32,
            audience: get("ACCESS_TOKEN_AUDIENCE"),
            resources: list("RESOURCES", ""),
            max_apps_per_owner: num("MAX_APPS_PER_OWNER", 1000).min(u32::MAX as u64) as u32,
            client_credentials_ttl: num("CLIENT_CREDENTIALS_TTL", 7200).clamp(60, 86_400),
            app_token_ttl: num("APP_TOKEN_TTL", 3600).clamp(60, 86_400),
            access_token_ttl: num("ACCESS_TOKEN_TTL", 3600).clamp(60, 86_400),
            id_token_ttl: num("ID_TOKEN_TTL", 3600).clamp(60, 86_400),
            code_ttl: num("CODE_TTL", 60).clamp(10, 600),
            refresh_token_ttl: num("REFRESH_TOKEN_TTL", 30 * 86_400).clamp(60, 365 * 86_400),
            grant_max_ttl: num("GRANT_MAX_TTL", 90 * 86_400).clamp(60, 3 * 365 * 86_400),
            session_ttl: num("SESSION_TTL", 12 * 3600).clamp(60, 30 * 86_400),
            recent_login_seconds: get("RECENT_LOGIN_SECONDS").and_then(|v| v.trim().parse().ok()),
            console_session_seconds: get("CONSOLE_SESSION_SECONDS").and_then(|v| v.trim().parse().ok()),
            audit_retention_days: num("AUDIT_RETENTION_DAYS", 90).clamp(1, 3650),
            login_limit_account: num("LOGIN_LIMIT_ACCOUNT", 10).clamp(1, 1_000_000) as u32,
            login_limit_address: num("LOGIN_LIMIT_ADDRESS", 30).clamp(1, 1_000_000) as u32,
            registration_policy: match get("REGISTRATION_POLICY").as_deref() {
                Some(p @ ("open" | "token" | "off")) => p.to_owned(),
                _ if get("ISSUER").is_none() => "open".to_owned(),
                _ => "token".to_owned(),
            },
            public_client_registration: get("PUBLIC_CLIENT_REGISTRATION").as_deref() != Some("off"),
            initial_access_token: get("INITIAL_ACCESS_TOKEN").map(Secret),
            gateway_routes: gateway.clone().unwrap_or_default(),
            gateway_error: gateway.err(),
            gateway_cache_seconds: num("GATEWAY_CACHE_SECONDS", 30).min(300),
            token_rate_limit: num("TOKEN_RATE_LIMIT", 6000).clamp(1, 10_000_000) as u32,
            app_shards: num("APP_SHARDS", 8).clamp(1, 8) as u32,
            registration_rate_limit: num("REGISTRATION_RATE_LIMIT", 10).clamp(1, 1_000_000) as u32,
            admin_token: get("ADMIN_TOKEN").map(Secret),
            access_token_alg: AccessTokenAlg::from_var(get("ACCESS_TOKEN_ALG").as_deref())
                .unwrap_or_default(),
            org_domain: get("ORG_DOMAIN").map(|d| d.trim_end_matches('.').to_ascii_lowercase()),
            password_grant: get("PASSWORD_GRANT").as_deref() != Some("off"),
            require_par: get("REQUIRE_PAR").as_deref() == Some("on"),
            quotas: TenantQuotas {
                max_apps: get("MAX_APPS").and_then(|v| v.parse().ok()),
                max_people: get("MAX_PEOPLE").and_then(|v| v.parse().ok()),
                // Counted on an organisation's host only (its registry object is called anyway).
                max_requests_per_minute: None,
            },
            brand: Brand {
                name: get("BRAND_NAME").unwrap_or_else(|| "Portcullis".to_owned()),
                // Checked again by the pages when they render (`pages::brand::shown`): a value
                // that fails `rules::brand` is left out, never shown as it is.
                color: get("BRAND_COLOR").filter(|v| !v.is_empty()),
                logo_url: get("BRAND_LOGO_URL").filter(|v| !v.is_empty()),
                terms_url: get("BRAND_TERMS_URL").filter(|v| !v.is_empty()),
                privacy_url: get("BRAND_PRIVACY_URL").filter(|v| !v.is_empty()),
                support_email: get("BRAND_SUPPORT_EMAIL").filter(|v| !v.is_empty()),
            },
            operator_token_hashes: Vec::new(),
            pairwise_secret: get("PAIRWISE_SECRET").filter(|s| !s.is_empty()).map(Secret),
            pairwise_context: String::new(),
            upstreams: upstreams.0,
            upstream_problems: upstreams.1,
            mail: MailConfig {
                from: get("MAIL_FROM"),
                transport: match (get("MAIL_API_URL"), get("MAIL_API_TOKEN"), get("MAIL_BINDING")) {
                    (Some(url), Some(token), _) => Some(MailTransport::Api { url, token: Secret(token) }),
                    (_, _, Some(b)) => Some(MailTransport::Binding(b)),
                    _ => None,
                },
                token_ttl: num("MAIL_TOKEN_TTL", 1800).clamp(300, 86_400),
                limit_address: num("MAIL_LIMIT_ADDRESS", 10).clamp(1, 1_000_000) as u32,
                limit_recipient: num("MAIL_LIMIT_RECIPIENT", 3).clamp(1, 1_000_000) as u32,
            },
            prepared: Default::default(),
        }
    }

    /// The secret pairwise subjects are derived from, if pairwise subjects are offered here.
    pub fn pairwise_key(&self) -> Option<&str> {
        match &self.pairwise_secret {
            Some(s) => Some(s.0.as_str()),
            None if self.dev() => Some("portcullis development pairwise secret (not for production)"),
            None => None,
        }
    }

    /// Whether `given` is an operator's token here: `ADMIN_TOKEN` (the platform operator's, valid
    /// in every tenant) or one of this tenant's operators' (kept as SHA-256 hex). Constant time
    /// in where the tokens differ.
    pub fn is_operator_token(&self, given: &str) -> bool {
        use crate::util::{ct_eq, sha256, sha256_hex};
        let admin = self
            .admin_token
            .as_ref()
            .is_some_and(|t| ct_eq(&sha256(given.as_bytes()), &sha256(t.0.as_bytes())));
        let hashed = sha256_hex(given);
        let operator = self
            .operator_token_hashes
            .iter()
            .fold(false, |found, h| found | ct_eq(hashed.as_bytes(), h.as_bytes()));
        admin | operator
    }

    pub fn dev(&self) -> bool {
        self.issuer.is_none() && !self.production
    }

    /// Why a production deployment must not serve yet (empty: it may): `ISSUER`, signing keys
    /// (`signing_keys`: whether `SIGNING_KEYS` is set; the development key is refused) and an
    /// admin credential (`ADMIN_TOKEN`) are required, and `ENVIRONMENT` must be a known value.
    /// In development: nothing, unless `host` (the request's) is a deployed `*.workers.dev`
    /// host, which must never run in development mode (issuer from the Host header, a
    /// development key, development routes).
    pub fn production_problems(&self, signing_keys: bool, host: &str) -> Vec<&'static str> {
        let mut out = Vec::new();
        if !self.production {
            let host = host.split(':').next().unwrap_or(host).trim_end_matches('.').to_ascii_lowercase();
            if host.ends_with(".workers.dev") {
                out.push("ENVIRONMENT is development on a deployed workers.dev host: set ENVIRONMENT = \"production\"");
            }
            return out;
        }
        if self.environment_invalid {
            out.push("ENVIRONMENT must be production or development");
        }
        if self.issuer.is_none() {
            out.push("ISSUER is not set (the issuer URL, e.g. https://auth.example.com)");
        }
        if !signing_keys {
            out.push("SIGNING_KEYS is not set (the development key is never used in production)");
        }
        if self.admin_token.is_none() {
            out.push("ADMIN_TOKEN is not set (the operators' credential)");
        }
        out
    }

    /// The issuer identifier for a request that arrived at `origin`.
    pub fn issuer_for(&self, origin: &str) -> String {
        self.issuer
            .clone()
            .unwrap_or_else(|| origin.trim_end_matches('/').to_owned())
    }

    /// The issuer of `tenant` for a request that arrived at `origin`. The default tenant's is
    /// [`Config::issuer_for`]; an organisation's is `<scheme>://<label>.<ORG_DOMAIN>`, the scheme
    /// taken from `ISSUER`; in development (no `ISSUER`) it is the origin, which the tenant's
    /// host already names (its port kept, so `http://acme.localhost:8787` works locally).
    pub fn issuer_in(&self, tenant: &crate::model::Tenant, origin: &str) -> String {
        match (tenant.label(), &self.issuer, &self.org_domain) {
            (Some(label), Some(issuer), Some(domain)) => {
                let scheme = issuer.split_once("://").map_or("https", |(s, _)| s);
                format!("{scheme}://{label}.{domain}")
            }
            (Some(_), None, _) => origin.trim_end_matches('/').to_ascii_lowercase(),
            _ => self.issuer_for(origin),
        }
    }
}

impl Config {
    /// The issuer of an organisation served on its custom domain `domain` (already
    /// normalised): `<scheme>://<domain>`, the scheme taken from `ISSUER`; in development (no
    /// `ISSUER`) the origin itself, port kept.
    pub fn issuer_at_domain(&self, domain: &str, origin: &str) -> String {
        match &self.issuer {
            Some(issuer) => {
                let scheme = issuer.split_once("://").map_or("https", |(s, _)| s);
                format!("{scheme}://{domain}")
            }
            None => origin.trim_end_matches('/').to_ascii_lowercase(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::from_vars(|_| None)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn production_needs_issuer_keys_and_admin_and_development_never_runs_on_workers_dev() {
        let cfg = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            Config::from_vars(move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
        };
        // Unset and development: no problem on a local host; never on workers.dev.
        for c in [cfg(&[]), cfg(&[("ENVIRONMENT", "development")])] {
            assert!(!c.production && c.production_problems(false, "127.0.0.1:8787").is_empty());
            assert_eq!(c.production_problems(false, "portcullis.acme.WORKERS.dev.").len(), 1);
        }
        let bare = cfg(&[("ENVIRONMENT", "production")]);
        assert!(bare.production && !bare.dev());
        let p = bare.production_problems(false, "auth.example.com");
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(p.iter().any(|m| m.starts_with("ISSUER")) && p.iter().any(|m| m.starts_with("SIGNING_KEYS")) && p.iter().any(|m| m.starts_with("ADMIN_TOKEN")));
        let full = cfg(&[("ENVIRONMENT", "production"), ("ISSUER", "https://auth.example.com"), ("ADMIN_TOKEN", "t")]);
        assert!(full.production_problems(true, "auth.example.com").is_empty());
        assert_eq!(full.production_problems(false, "auth.example.com").len(), 1);
        // Another value is production, and reported.
        let odd = cfg(&[("ENVIRONMENT", "Production "), ("ISSUER", "https://a.example"), ("ADMIN_TOKEN", "t")]);
        assert!(odd.production);
        assert_eq!(odd.production_problems(true, "a.example"), ["ENVIRONMENT must be production or development"]);
    }

    use super::*;

    #[test]
    fn access_token_alg_parses_and_defaults() {
        assert_eq!(AccessTokenAlg::from_var(None), Some(AccessTokenAlg::Rs256));
        assert_eq!(
            AccessTokenAlg::from_var(Some(" rs256 ")),
            Some(AccessTokenAlg::Rs256)
        );
        assert_eq!(
            AccessTokenAlg::from_var(Some("EdDSA")),
            Some(AccessTokenAlg::EdDsa)
        );
        assert_eq!(
            AccessTokenAlg::from_var(Some("Ed25519")),
            Some(AccessTokenAlg::EdDsa)
        );
        assert_eq!(AccessTokenAlg::from_var(Some("HS256")), None);
        let cfg = Config::from_vars(|k| (k == "ACCESS_TOKEN_ALG").then(|| "EdDSA".to_owned()));
        assert_eq!(cfg.access_token_alg, AccessTokenAlg::EdDsa);
        assert_eq!(Config::default().access_token_alg, AccessTokenAlg::Rs256);
        let meta = crate::oauth::discovery::metadata(&cfg, "https://i");
        assert_eq!(
            meta["access_token_signing_alg_values_supported"],
            serde_json::json!(["EdDSA"])
        );
    }

    #[test]
    fn gateway_origins_are_plain_http_urls() {
        let route = |origin: &str| {
            parse_routes(&serde_json::json!([{"prefix": "/api", "origin": origin}]).to_string())
        };
        for ok in [
            "https://origin.example",
            "https://origin.example/base",
            "http://127.0.0.1:9000",
            "https://[::1]:8443/v1",
        ] {
            assert!(route(ok).is_ok(), "{ok} was refused");
        }
        for bad in [
            "ftp://origin.example",
            "https://",
            "https://user:pw@origin.example",
            "https://@origin.example",
            "https://origin.example\\@evil.example",
            "https://origin.example/?q=1",
            "https://origin.example/#frag",
            "https://origin.example:99999",
            "https://exa mple.com",
            "//origin.example",
            "origin.example",
        ] {
            assert!(route(bad).is_err(), "{bad} was accepted");
        }
        assert!(parse_routes(r#"[{"prefix": "/", "origin": "https://o.example"}]"#).is_err());
    }
}

/// A protected route of the gateway (`GATEWAY_ROUTES`, see `gateway.rs`).
#[derive(Debug, Clone, serde::Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Path prefix, matched on segment boundaries (`/api` matches `/api` and `/api/x`, not `/apix`).
    pub prefix: String,
    #[serde(default)]
    pub methods: Vec<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Origin base URL; the request path and query are appended.
    pub origin: String,
}

/// An origin the gateway may forward to: an absolute http(s) URL (WHATWG, the `url` crate) with
/// a host, and no userinfo, query or fragment that a forwarded path would be glued onto. `@` and
/// `\` are refused as written too: WHATWG parsing drops an empty userinfo and reads `\` as `/`.
fn origin_is_plain(origin: &str) -> bool {
    (origin.starts_with("https://") || origin.starts_with("http://"))
        && !origin.contains(['@', '\\'])
        && url::Url::parse(origin).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some_and(|h| !h.is_empty())
                && u.username().is_empty()
                && u.password().is_none()
                && u.query().is_none()
                && u.fragment().is_none()
        })
}

/// Parses `GATEWAY_ROUTES` (a JSON array); bad entries are an error the operator sees at start.
pub fn parse_routes(json: &str) -> std::result::Result<Vec<Route>, String> {
    let routes: Vec<Route> = serde_json::from_str(json).map_err(|e| format!("GATEWAY_ROUTES: {e}"))?;
    for r in &routes {
        if !r.prefix.starts_with('/') || r.prefix.len() < 2 {
            return Err(format!(
                "GATEWAY_ROUTES: prefix '{}' must start with / and not be /",
                r.prefix
            ));
        }
        if !origin_is_plain(&r.origin) {
            return Err(format!(
                "GATEWAY_ROUTES: origin '{}' must be an http(s) URL with a host and no user, query or fragment",
                r.origin
            ));
        }
    }
    Ok(routes)
}

/// One identity provider people may sign in with (`UPSTREAM_PROVIDERS`, a JSON array; its
/// client secret is the secret `UPSTREAM_<ID>_CLIENT_SECRET`, the id upper-cased with `-` as
/// `_`). See README "Configuration" and docs/DEPLOY.md.
#[derive(Debug, Clone)]
pub struct UpstreamProvider {
    /// `[a-z0-9-]{1,32}`: in the paths `/login/upstream/<id>` and in link objects.
    pub id: String,
    /// Shown on the button: "Continue with <name>".
    pub name: String,
    pub kind: UpstreamKind,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    /// The scopes asked for (default `openid email profile` for OpenID Connect).
    pub scope: String,
    /// How the client authenticates at the token endpoint: `client_secret_basic` (default) or
    /// `client_secret_post`; `none` when there is no secret (PKCE alone).
    pub token_auth: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum UpstreamKind {
    /// OpenID Connect by discovery: `<issuer>/.well-known/openid-configuration`, then its JWKS.
    Oidc { issuer: String },
    /// Plain OAuth 2 with a userinfo URL (GitHub style): where the person's id, email and
    /// whether the email is verified are in the userinfo JSON (top-level member names).
    OAuth2 {
        authorization_endpoint: String,
        token_endpoint: String,
        userinfo_endpoint: String,
        /// RFC 9207 `iss` the upstream sends back, if it does.
        issuer: Option<String>,
        id_field: String,
        email_field: String,
        /// No field: the upstream never vouches for the email (it is never linked).
        email_verified_field: Option<String>,
        name_field: String,
    },
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderEntry {
    id: String,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    client_id: String,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    token_auth: Option<String>,
    #[serde(default)]
    issuer: Option<String>,
    #[serde(default)]
    authorization_endpoint: Option<String>,
    #[serde(default)]
    token_endpoint: Option<String>,
    #[serde(default)]
    userinfo_endpoint: Option<String>,
    #[serde(default)]
    fields: Option<ProviderFields>,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ProviderFields {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// An upstream's URL: `https:` with a host, no userinfo or fragment; `http:` only to a loopback
/// host (a local upstream in development and tests).
pub fn upstream_url_ok(s: &str) -> bool {
    !s.contains(['@', '\\'])
        && url::Url::parse(s).is_ok_and(|u| {
            let loopback = matches!(
                u.host(),
                Some(url::Host::Domain("localhost"))
                    | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
                    | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
            );
            (u.scheme() == "https" || (u.scheme() == "http" && loopback))
                && u.host_str().is_some_and(|h| !h.is_empty())
                && u.username().is_empty()
                && u.password().is_none()
                && u.fragment().is_none()
        })
}

/// The name of a provider's client-secret secret: `UPSTREAM_<ID>_CLIENT_SECRET`.
pub fn upstream_secret_name(id: &str) -> String {
    format!("UPSTREAM_{}_CLIENT_SECRET", id.to_ascii_uppercase().replace('-', "_"))
}

/// Parses `UPSTREAM_PROVIDERS`: the providers that are usable, and one line per entry that is
/// not (the operator's to fix; that entry is left out, the others work). Never panics.
pub fn parse_upstreams(
    json: &str,
    secret: impl Fn(&str) -> Option<String>,
) -> (Vec<UpstreamProvider>, Vec<String>) {
    let entries: Vec<serde_json::Value> = match serde_json::from_str(json) {
        Ok(serde_json::Value::Array(a)) => a,
        Ok(_) => return (Vec::new(), vec!["UPSTREAM_PROVIDERS: must be a JSON array".into()]),
        Err(e) => return (Vec::new(), vec![format!("UPSTREAM_PROVIDERS: {e}")]),
    };
    let mut ok: Vec<UpstreamProvider> = Vec::new();
    let mut problems = Vec::new();
    for (i, v) in entries.into_iter().enumerate() {
        // Named by its id where it has a printable one, so its start route can say it is broken.
        let id: String = v.get("id").and_then(|x| x.as_str()).unwrap_or("").chars().take(32).filter(|c| !c.is_control()).collect();
        let at = format!("UPSTREAM_PROVIDERS[{i}] (id '{id}')");
        if i >= 20 {
            problems.push(format!("{at}: at most 20 providers"));
            continue;
        }
        match upstream_entry(v, &secret) {
            Ok(p) if ok.iter().any(|o| o.id == p.id) => problems.push(format!("{at}: the id is used twice")),
            Ok(p) => ok.push(p),
            Err(e) => problems.push(format!("{at}: {e}")),
        }
    }
    (ok, problems)
}

fn upstream_entry(
    v: serde_json::Value,
    secret: &impl Fn(&str) -> Option<String>,
) -> std::result::Result<UpstreamProvider, String> {
    let e: ProviderEntry = serde_json::from_value(v).map_err(|e| e.to_string())?;
    let id_ok = (1..=32).contains(&e.id.len())
        && e.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !id_ok {
        return Err("id must be 1 to 32 of a-z, 0-9 and -".into());
    }
    let name = e.name.trim();
    if name.is_empty() || name.chars().count() > 40 || name.chars().any(char::is_control) {
        return Err("name must be 1 to 40 printable characters".into());
    }
    if e.client_id.is_empty() || e.client_id.len() > 256 || e.client_id.chars().any(char::is_control) {
        return Err("client_id must be 1 to 256 printable characters".into());
    }
    let url = |field: &str, v: Option<String>| -> std::result::Result<String, String> {
        let v = v.ok_or_else(|| format!("{field} is required"))?;
        if upstream_url_ok(&v) {
            Ok(v)
        } else {
            Err(format!("{field} must be an https URL (http only to a loopback host)"))
        }
    };
    let fields = e.fields.unwrap_or_default();
    let (kind, scope) = match e.kind.as_str() {
        "oidc" => {
            let issuer = url("issuer", e.issuer)?;
            if e.authorization_endpoint.is_some() || e.token_endpoint.is_some() || e.userinfo_endpoint.is_some() {
                return Err("an oidc provider's endpoints come from its discovery document".into());
            }
            (UpstreamKind::Oidc { issuer }, e.scope.unwrap_or_else(|| "openid email profile".into()))
        }
        "oauth2" => {
            let issuer = match e.issuer {
                Some(i) => Some(url("issuer", Some(i))?),
                None => None,
            };
            let kind = UpstreamKind::OAuth2 {
                authorization_endpoint: url("authorization_endpoint", e.authorization_endpoint)?,
                token_endpoint: url("token_endpoint", e.token_endpoint)?,
                userinfo_endpoint: url("userinfo_endpoint", e.userinfo_endpoint)?,
                issuer,
                id_field: fields.id.unwrap_or_else(|| "id".into()),
                email_field: fields.email.unwrap_or_else(|| "email".into()),
                email_verified_field: fields.email_verified,
                name_field: fields.name.unwrap_or_else(|| "name".into()),
            };
            (kind, e.scope.unwrap_or_default())
        }
        other => return Err(format!("type '{other}' is not oidc or oauth2")),
    };
    if scope.len() > 500 || scope.chars().any(char::is_control) {
        return Err("scope must be at most 500 printable characters".into());
    }
    let client_secret = secret(&upstream_secret_name(&e.id)).filter(|s| !s.is_empty()).map(Secret);
    let token_auth = match (e.token_auth.as_deref(), &client_secret) {
        (_, None) => "none".to_owned(),
        (None | Some("client_secret_basic"), Some(_)) => "client_secret_basic".to_owned(),
        (Some("client_secret_post"), Some(_)) => "client_secret_post".to_owned(),
        (Some(other), _) => return Err(format!("token_auth '{other}' is not client_secret_basic or client_secret_post")),
    };
    Ok(UpstreamProvider {
        id: e.id,
        name: name.to_owned(),
        kind,
        client_id: e.client_id,
        client_secret,
        scope,
        token_auth,
    })
}

#[cfg(test)]
mod upstream_tests {
    use super::*;

    #[test]
    fn providers_parse_and_bad_entries_are_reported() {
        let json = serde_json::json!([
            {"id": "google", "name": "Google", "type": "oidc", "issuer": "https://accounts.google.com", "client_id": "g"},
            {"id": "gh", "name": "GitHub", "type": "oauth2", "client_id": "c",
             "authorization_endpoint": "https://github.com/login/oauth/authorize",
             "token_endpoint": "https://github.com/login/oauth/access_token",
             "userinfo_endpoint": "https://api.github.com/user", "token_auth": "client_secret_post",
             "fields": {"id": "id", "email": "email", "name": "login"}},
            {"id": "Bad", "name": "x", "type": "oidc", "issuer": "https://a.example", "client_id": "c"},
            {"id": "plain", "name": "x", "type": "oidc", "issuer": "http://a.example", "client_id": "c"},
            {"id": "local", "name": "Local", "type": "oidc", "issuer": "http://127.0.0.1:9000", "client_id": "c"},
            {"id": "google", "name": "Again", "type": "oidc", "issuer": "https://a.example", "client_id": "c"},
            {"id": "saml", "name": "x", "type": "saml", "client_id": "c"},
            {"id": "extra", "name": "x", "type": "oidc", "issuer": "https://a.example", "client_id": "c", "what": 1},
            {"id": "nourl", "name": "x", "type": "oauth2", "client_id": "c"},
            {"id": "userinfo", "name": "x", "type": "oidc", "issuer": "https://u@a.example", "client_id": "c"},
            5
        ])
        .to_string();
        let (ok, problems) = parse_upstreams(&json, |k| (k == "UPSTREAM_GH_CLIENT_SECRET").then(|| "s".into()));
        let ids: Vec<&str> = ok.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["google", "gh", "local"]);
        assert_eq!(problems.len(), 8, "{problems:?}");
        assert_eq!(ok[0].token_auth, "none");
        assert_eq!(ok[0].scope, "openid email profile");
        assert_eq!(ok[1].token_auth, "client_secret_post");
        assert!(format!("{:?}", ok[1]).contains("Secret(…)"));
        for bad in ["", "{", "{}", "null", "[[]]"] {
            let (ok, problems) = parse_upstreams(bad, |_| None);
            assert!(ok.is_empty());
            assert!(!problems.is_empty() || bad == "[[]]");
        }
        assert_eq!(upstream_secret_name("my-idp"), "UPSTREAM_MY_IDP_CLIENT_SECRET");
    }
}
