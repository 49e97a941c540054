//! The sans-IO OAuth core. One rule, one file: PKCE in `pkce.rs`, redirect URIs in
//! `redirect_uri.rs`, each grant in `grants/<grant>.rs`, and so on.

pub mod assertion;
pub mod authorize;
pub mod client_auth;
pub mod discovery;
pub mod endpoint;
pub mod grants;
pub mod introspect;
pub mod mint;
pub mod register;
pub mod resource;
pub mod revoke;
pub mod token;
pub mod userinfo;
