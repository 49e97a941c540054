//! Records the server keeps. `App` is what KV holds (public metadata, may be stale);
//! `AppRecord` adds what only the app's Durable Object holds (secret hash, epoch).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Disabled,
    Deleted,
}

/// The app's bot user: who its app tokens act as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotUser {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct App {
    pub client_id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub homepage: String,
    #[serde(default)]
    pub image_uri: String,
    #[serde(default)]
    pub admin_email: String,
    #[serde(default)]
    pub admin_phone: String,
    pub owner: String,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// OpenID Connect RP-Initiated Logout: where the end-session endpoint may send the person
    /// back to (exact match, the rules of redirect URIs: `rules::post_logout_redirect_uri`).
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// OpenID Connect Back-Channel Logout: where a `logout_token` is POSTed when a session in
    /// which the app got an ID token ends (`rules::backchannel_logout_uri`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// Back-Channel Logout §2.2: the app needs `sid` in the logout token (it always has it).
    #[serde(default)]
    pub backchannel_logout_session_required: bool,
    /// OpenID Connect Registration §2 (`rules::oidc_client`): the ID token's algorithm (`RS256`,
    /// the one ID tokens are signed with), the subject type (`public`), the default `max_age`
    /// of its authorization requests, and whether it needs `auth_time` (always sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_signed_response_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_max_age: Option<u64>,
    #[serde(default)]
    pub require_auth_time: bool,
    /// Its authorization requests must be pushed first (RFC 9126 §6 client metadata).
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    pub grant_types: Vec<String>,
    /// The app's permissions: every scope it may be granted.
    pub scopes: Vec<String>,
    /// Granted when a request names no scope; defaults to `scopes`.
    #[serde(default)]
    pub default_scopes: Option<Vec<String>>,
    /// Set by operators only: the app may use client_credentials.
    #[serde(default)]
    pub trusted: bool,
    /// Created through self-service (RFC 7591, the registration page, a person on `/apps`):
    /// limited to `SELF_SERVICE_SCOPES` and without machine grants (client_credentials, bot
    /// tokens) until an operator approves it.
    #[serde(default)]
    pub self_service: bool,
    /// Set by operators only: a self-service app may have machine grants and any catalogue scope.
    #[serde(default)]
    pub approved: bool,
    /// Set by operators only: may introspect tokens issued to other clients (RFC 7662 §4).
    #[serde(default)]
    pub introspection: bool,
    /// Which API the app was registered for (`unifiedapi` or `systemapi`), when registered
    /// through the public registration page.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api: String,
    /// Access-token lifetime in seconds; `None` uses the server default for the grant.
    #[serde(default)]
    pub token_lifetime: Option<u64>,
    /// `client_secret_basic`, `client_secret_post`, `private_key_jwt` or `none`.
    pub token_endpoint_auth_method: String,
    /// Public keys (JWK, RSA) for app tokens and `private_key_jwt`.
    #[serde(default)]
    pub keys: Vec<serde_json::Value>,
    pub bot_user: BotUser,
    pub status: Status,
    pub created_at: i64,
    pub updated_at: i64,
}

impl App {
    pub fn is_public(&self) -> bool {
        self.token_endpoint_auth_method == "none"
    }
    /// Only `client_secret_basic`/`client_secret_post` apps have a secret.
    pub fn uses_secret(&self) -> bool {
        matches!(
            self.token_endpoint_auth_method.as_str(),
            "client_secret_basic" | "client_secret_post"
        )
    }
    /// Machine grants (client_credentials, app tokens and jwt-bearer bot tokens) need an
    /// operator: apps an operator created, or self-service apps an operator approved.
    pub fn operator_vetted(&self) -> bool {
        !self.self_service || self.approved
    }
    pub fn allows_grant(&self, grant: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant)
    }
    pub fn default_scopes(&self) -> &[String] {
        self.default_scopes.as_deref().unwrap_or(&self.scopes)
    }
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys
            .iter()
            .filter_map(|k| k.get("kid").and_then(|v| v.as_str()))
    }
}

impl App {
    /// A new app with the defaults every app starts from (scope `public`, client_secret_basic,
    /// active, nothing an operator must grant), its bot user named after the client id.
    pub fn new(client_id: String, owner: &str, now: i64) -> App {
        App {
            bot_user: BotUser {
                id: format!("bot_{client_id}"),
                name: String::new(),
            },
            client_id,
            name: String::new(),
            description: String::new(),
            homepage: String::new(),
            image_uri: String::new(),
            admin_email: String::new(),
            admin_phone: String::new(),
            owner: owner.to_owned(),
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
            id_token_signed_response_alg: None,
            subject_type: None,
            default_max_age: None,
            require_auth_time: false,
            require_pushed_authorization_requests: false,
            grant_types: Vec::new(),
            scopes: vec!["public".into()],
            default_scopes: None,
            trusted: false,
            self_service: false,
            approved: false,
            introspection: false,
            api: String::new(),
            token_lifetime: None,
            token_endpoint_auth_method: "client_secret_basic".into(),
            keys: Vec::new(),
            status: Status::Active,
            created_at: now,
            updated_at: now,
        }
    }

    /// A plain confidential app for rule tables.
    #[cfg(test)]
    pub fn example() -> App {
        App {
            name: "Example".into(),
            redirect_uris: vec!["https://a.example/cb".into()],
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            bot_user: BotUser {
                id: "bot".into(),
                name: "Example (bot)".into(),
            },
            ..App::new("c".repeat(32), "operator", 0)
        }
    }
}

/// The authoritative record in the app's Durable Object.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppRecord {
    pub app: App,
    /// SHA-256 (hex) of the client secret; `None` for public clients and deleted apps.
    pub secret_hash: Option<String>,
    /// Bumped by secret regeneration, disabling and deletion; tokens carry the epoch they were
    /// minted under and are dead once it moves on.
    pub epoch: u64,
    /// SHA-256 (hex) of the RFC 7592 registration access token, for dynamically registered apps.
    #[serde(default)]
    pub registration_hash: Option<String>,
    /// Bumped by every change of the record (`objects::app`); the app's replicas
    /// (`objects::app_shard`) serve a copy only while it is at least their fence (issue 17).
    /// Records stored before it read as 0.
    #[serde(default)]
    pub revision: u64,
}

/// Client ids we issue are 32 URL-safe characters; others (RFC 7591 may carry longer ones)
/// are limited to 64 so garbage never reaches storage.
pub fn valid_client_id(id: &str) -> bool {
    (16..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The grant types the token endpoint knows (RFC 6749 §4, RFC 7523).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
    Password,
    JwtBearer,
}

impl GrantType {
    pub const ALL: [GrantType; 5] = [
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::ClientCredentials,
        GrantType::Password,
        GrantType::JwtBearer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::Password => "password",
            GrantType::JwtBearer => JWT_BEARER,
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == s)
    }

    /// What `unauthorized_client` says when an app may not use this grant.
    pub fn refusal(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "this client may not use the authorization code grant",
            GrantType::RefreshToken => "this client may not use refresh tokens",
            GrantType::ClientCredentials => "this client may not use the client_credentials grant",
            GrantType::Password => "this client may not use the password grant",
            GrantType::JwtBearer => "this client may not use the jwt-bearer grant",
        }
    }
}

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Whose state a request may touch: the deployment's own (the default tenant, the only one
/// without `ORG_DOMAIN`) or one organisation's, named by its host label (`acme` of
/// `acme.<ORG_DOMAIN>`). Made by `rules::tenant::resolve`, so a label is always one
/// lower-case DNS label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tenant {
    Default,
    Org(String),
}

impl Tenant {
    /// The prefix of this tenant's storage names: empty for the default tenant (its names are
    /// today's), `org:<label>:` for an organisation.
    pub fn prefix(&self) -> String {
        match self {
            Tenant::Default => String::new(),
            Tenant::Org(label) => format!("org:{label}:"),
        }
    }

    /// The label of an organisation; `None` for the default tenant.
    pub fn label(&self) -> Option<&str> {
        match self {
            Tenant::Default => None,
            Tenant::Org(label) => Some(label),
        }
    }
}
