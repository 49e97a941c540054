//! Where a token-endpoint-family request arrived, and the token response every grant sends.

use crate::http::Response;

/// Where a request arrived: the issuer and the URL of the endpoint (both valid as `aud`).
pub struct Endpoint {
    pub issuer: String,
    pub url: String,
}

impl Endpoint {
    pub fn audiences(&self) -> Vec<String> {
        vec![
            self.issuer.clone(),
            self.url.clone(),
            format!("{}/oauth/token", self.issuer),
        ]
    }
}

/// A token response: JSON, `no-store`, and the signing time as `Server-Timing`.
pub fn bearer_response(body: serde_json::Value, sign_ms: f64) -> Response {
    Response::json(200, &body)
        .no_store()
        .header("server-timing", format!("sign;dur={sign_ms:.2}"))
}
