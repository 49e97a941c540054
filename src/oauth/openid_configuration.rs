//! OpenID Connect Discovery 1.0 §3: `/.well-known/openid-configuration`. It is the RFC 8414
//! metadata ([`discovery::metadata`], the same issuer and endpoints, made by one function) plus
//! what an OpenID Provider states; only what the server really does.

use crate::crypto::keys::SigningKeys;
use crate::config::Config;
use crate::oauth::discovery;
use crate::util::set;

/// The claims an ID token or the userinfo endpoint may hold (see `oauth::id_token` and
/// `rules::claims`).
pub const CLAIMS_SUPPORTED: [&str; 16] = [
    "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid", "azp", "amr", "acr",
    "name", "email", "email_verified", "created_at",
];

pub fn document(cfg: &Config, keys: &SigningKeys, issuer: &str) -> serde_json::Value {
    let mut m = discovery::metadata(cfg, issuer);
    // Pairwise subjects where a `PAIRWISE_SECRET` is set (or in development): `oauth::subject`.
    let subjects = if cfg.pairwise_key().is_some() { serde_json::json!(["public", "pairwise"]) } else { serde_json::json!(["public"]) };
    set(&mut m, "subject_types_supported", subjects);
    // RS256 whenever there is an RSA key (the default), and EdDSA when an Ed25519 key is
    // configured: an app chooses with `id_token_signed_response_alg`.
    let algs: Vec<&str> = keys.id_token_algs().iter().map(|a| a.as_str()).collect();
    set(&mut m, "id_token_signing_alg_values_supported", serde_json::json!(algs));
    set(&mut m, "claims_supported", serde_json::json!(CLAIMS_SUPPORTED));
    set(&mut m, "claim_types_supported", serde_json::json!(["normal"]));
    // The `claims` parameter (`rules::claims_request`) and the classes of authentication
    // (`rules::acr`: passkey, password + second factor, password, upstream); not (yet) the
    // `request` parameter, nor a `request_uri` that points at a request object: the only
    // `request_uri` taken is one the PAR endpoint issued (RFC 9126).
    set(&mut m, "claims_parameter_supported", true);
    set(&mut m, "acr_values_supported", serde_json::json!(crate::rules::acr::SUPPORTED));
    set(&mut m, "request_parameter_supported", false);
    set(&mut m, "request_uri_parameter_supported", false);
    // RP-Initiated Logout 1.0 and Back-Channel Logout 1.0 (`oauth::end_session`,
    // `oauth::logout_token`); no front-channel logout.
    set(&mut m, "end_session_endpoint", format!("{issuer}/oauth/logout"));
    set(&mut m, "backchannel_logout_supported", true);
    set(&mut m, "backchannel_logout_session_supported", true);
    set(&mut m, "frontchannel_logout_supported", false);
    m
}
