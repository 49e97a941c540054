//! `POST /oauth/par` (RFC 9126): a client pushes its authorization request and gets a
//! `request_uri` to send the person's browser to the authorization endpoint with. The client
//! authenticates as at the token endpoint (`client_auth`: a public client names itself with
//! `client_id`); the request is validated as the authorization endpoint would validate it
//! (`oauth::authorize::validate_pushing`), and its refusals are JSON here, never a redirect.
//! What a `request_uri` looks like and how long it lasts is `rules::par`; where it is kept,
//! `objects::pushed`.

use crate::error::{Error, ErrorCode, Result, Shown};
use crate::http::params::Params;
use crate::http::{Request, Response};
use crate::oauth::authorize;
use crate::oauth::client_auth;
use crate::oauth::endpoint::Endpoint;
use crate::objects::pushed::{self, PushedRecord};
use crate::platform::{random_token, Platform};
use crate::rules::par;
use crate::util::sha256_hex;

pub async fn handle(p: &impl Platform, ep: &Endpoint, req: &Request) -> Result<Response> {
    // RFC 9126 §2.1: the request is form-encoded, as the authorization endpoint's query is.
    if req.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(Error::new(
            ErrorCode::UnsupportedMediaType,
            "push the authorization request as application/x-www-form-urlencoded",
        ));
    }
    let params = Params::parse_form(&req.body)?;
    let creds = client_auth::presented(req, &params)?
        .ok_or_else(|| Error::invalid_client("client authentication is required (or client_id for a public client)"))?;
    let client = client_auth::authenticate(p, req, creds, &ep.audiences()).await?;
    if params.contains("request_uri") {
        return Err(Error::invalid_request("a pushed request cannot carry request_uri"));
    }
    // The request as the authorization endpoint will see it: the client authentication's own
    // parameters removed, and the authenticated client's id (a Basic or assertion client may
    // leave it out of the body; one that names another was refused above).
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| !par::NOT_CARRIED.contains(k) && *k != "client_id")
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    pairs.push(("client_id".to_owned(), client.app.client_id.clone()));
    let request = Params::from_pairs(pairs.clone())?;
    authorize::validate_pushing(p, &ep.issuer, &request)
        .await
        .map_err(|e| Error { shown: Shown::Json, ..e })?;
    let reference = random_token(p, 32)?;
    let record = PushedRecord {
        client_id: client.app.client_id.clone(),
        params: pairs,
        expires_at: p.now().saturating_add(par::EXPIRES_IN),
        opened: false,
    };
    p.call(&pushed::object(&sha256_hex(&reference)), pushed::Create { record }).await?;
    let body = serde_json::json!({
        "request_uri": format!("{}{reference}", par::PREFIX),
        "expires_in": par::EXPIRES_IN,
    });
    Ok(Response::json(201, &body)
        .no_store()
        .client(Some(&client.app.client_id)))
}
