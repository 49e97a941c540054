//! RFC 8414 authorization server metadata: only what the server really does.

use crate::config::Config;

/// The grants served here: the password grant only where the policy allows it.
fn grant_types(cfg: &Config) -> Vec<&'static str> {
    ["authorization_code", "refresh_token", "client_credentials", "password", "urn:ietf:params:oauth:grant-type:jwt-bearer"]
        .into_iter()
        .filter(|g| cfg.password_grant || *g != "password")
        .collect()
}

pub fn metadata(cfg: &Config, issuer: &str) -> serde_json::Value {
    let mut m = serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth/authorize"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "introspection_endpoint": format!("{issuer}/oauth/introspect"),
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        "userinfo_endpoint": format!("{issuer}/oauth/userinfo"),
        // RFC 9126: pushed authorization requests (`oauth::par`), required of every client
        // where the deployment says so (else of the apps registered to require them).
        "pushed_authorization_request_endpoint": format!("{issuer}/oauth/par"),
        "require_pushed_authorization_requests": cfg.require_par,
        "grant_types_supported": grant_types(cfg),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "authorization_response_iss_parameter_supported": true,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "introspection_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "revocation_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "scopes_supported": cfg.scopes,
        "access_token_signing_alg_values_supported": [cfg.access_token_alg.as_str()],
        "service_documentation": format!("{issuer}/"),
    });
    if cfg.registration_policy != "off" {
        crate::util::set(&mut m, "registration_endpoint", format!("{issuer}/oauth/register"));
    }
    m
}
