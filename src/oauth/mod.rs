//! The OAuth endpoints' protocol. One rule, one file: each grant in `grants/<grant>.rs`, client
//! authentication in `client_auth.rs`, and so on; the pure rules they share (PKCE, redirect
//! URIs, scopes) are in `rules/`.

pub mod assertion;
pub mod authorize;
pub mod client_auth;
pub mod discovery;
pub mod end_session;
pub mod endpoint;
pub mod grants;
pub mod id_token;
pub mod id_token_hint;
pub mod introspect;
pub mod logout_token;
pub mod mint;
pub mod openid_configuration;
pub mod par;
pub mod register;
pub mod resource;
pub mod revoke;
pub mod subject;
pub mod token;
pub mod userinfo;
