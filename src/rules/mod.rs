//! The protocol's pure rules: no I/O, no platform, nothing above `error`, `util` and `model`.
//! One rule, one file: how PKCE is checked is all in `pkce.rs`, redirect URIs in
//! `redirect_uri.rs`, scopes in `scope.rs`, `prompt` and `max_age` in `prompt.rs`, the fields of apps and accounts in `fields.rs`, a
//! tenant's brand in `brand.rs`, the `claims` parameter in `claims_request.rs`, `acr` in `acr.rs`, which passwords may be chosen in `password_policy.rs`, how recent a log-in must be for the account's security actions in `recent_login.rs`.
//! The Durable Objects (`objects`) and every endpoint use them, so they sit below both.

pub mod acr;
pub mod backchannel_logout_uri;
pub mod brand;
pub mod claims;
pub mod claims_request;
pub mod fields;
pub mod login_hint;
pub mod mail_message;
pub mod nonce;
pub mod oidc_client;
pub mod operator_roles;
pub mod console_session;
pub mod par;
pub mod password_policy;
pub mod pkce;
pub mod recovery_code;
pub mod post_logout_redirect_uri;
pub mod prompt;
pub mod recent_login;
pub mod redirect_uri;
pub mod refresh;
pub mod scope;
pub mod subject;
pub mod tenant;
pub mod backup;
pub mod webauthn;
pub mod totp;
