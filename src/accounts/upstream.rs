//! Sign-in with another identity provider (an "upstream"): OpenID Connect providers found by
//! discovery and plain OAuth 2 providers with a userinfo URL (`config::UpstreamProvider`).
//!
//! Towards the upstream: a random single-use `state` bound to the browser by a cookie and kept
//! in a ticket object (`objects::identity`, taken atomically at the callback), a `nonce`
//! checked in the ID token, PKCE S256, and RFC 9207's `iss` checked when present (required
//! when the upstream's metadata says it sends it). The ID token is verified here: RS256 by the
//! upstream's JWKS (the project's RSA kernel), `iss`, `aud` (and `azp`), `exp`, `iat`, `nonce`.
//!
//! Accounts: an identity signs in to the account it is linked to (`idlink:`). A first sign-in
//! makes an account when its email has none (no password; the tenant's people quota applies),
//! and links to an existing account only when the upstream says the email is verified and the
//! person proves they own that account (its password, or being signed in as it already).
//! Every failure is a page for the person, never a 500; the upstream's words are shown escaped.

use super::{normalise_email, password};
use crate::config::{UpstreamKind, UpstreamProvider};
use crate::crypto::{app_keys, jwt};
use crate::error::{Error, ErrorCode, Result};
use crate::http::params::{encode_form, Params};
use crate::http::{Request, Response};
use crate::objects::account::{self, AccountRecord};
use crate::objects::identity::{self, LinkRecord, TicketRecord};
use crate::objects::user::Profile;
use crate::platform::{random_token, Platform};
use crate::util::{b64url, ct_eq, sha256};
use serde_json::Value;

/// How long a sign-in may take at the upstream (the state ticket's and cookie's life).
pub const STATE_TTL: i64 = 600;
/// Clock skew tolerated for the ID token's `exp` and `iat`.
pub const SKEW: i64 = 120;
/// The title of every page of this flow.
pub const TITLE: &str = "Sign in";

/// The cookie that binds a sign-in to the browser that started it.
pub fn cookie_name(req: &Request) -> &'static str {
    if req.origin.starts_with("https://") {
        "__Host-portcullis_upstream"
    } else {
        "portcullis_upstream"
    }
}

/// The SHA-256 of the browser's binding cookie, if it has one of the right shape.
pub fn browser(req: &Request) -> Option<String> {
    let v = super::cookies::get(req, cookie_name(req))?;
    (v.len() == 43
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then(|| b64url(&sha256(v.as_bytes())))
}

pub fn provider<'a>(p: &'a impl Platform, id: &str) -> Result<&'a UpstreamProvider> {
    p.config().upstreams.iter().find(|u| u.id == id).ok_or_else(|| {
        let misconfigured = p
            .config()
            .upstream_problems
            .iter()
            .any(|m| !id.is_empty() && m.contains(&format!("(id '{id}')")));
        if misconfigured {
            Error::page(
                ErrorCode::TemporarilyUnavailable,
                TITLE,
                "This sign-in option is not configured correctly. Ask the service's operator.",
            )
        } else {
            Error::page(ErrorCode::NotFound, TITLE, "There is no such sign-in option.")
        }
    })
}

/// Printable upstream text for a page: control characters dropped, at most 200 characters
/// (maud escapes it when rendered).
pub fn shown(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// The upstream failed or refused: a page saying so, in its words where it gave some.
fn refused(prov: &UpstreamProvider, what: impl AsRef<str>) -> Error {
    Error::page(
        ErrorCode::AccessDenied,
        TITLE,
        format!(
            "Signing in with {} did not work: {}. Try again, or log in another way.",
            prov.name,
            what.as_ref()
        ),
    )
}

fn unavailable(prov: &UpstreamProvider, what: impl AsRef<str>) -> Error {
    Error::page(
        ErrorCode::TemporarilyUnavailable,
        TITLE,
        format!(
            "{} could not be reached ({}). Try again in a moment, or log in another way.",
            prov.name,
            what.as_ref()
        ),
    )
}

/// Where a provider's endpoints are (configured, or from its discovery document).
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub issuer: Option<String>,
    pub authorization: String,
    pub token: String,
    pub userinfo: Option<String>,
    pub jwks: Option<String>,
    /// RFC 9207: the upstream says it sends `iss` with every authorization response.
    pub iss_parameter: bool,
}

/// One GET of a JSON object from the upstream.
async fn get_json(
    p: &impl Platform,
    prov: &UpstreamProvider,
    url: &str,
    bearer: Option<&str>,
) -> Result<Value> {
    let mut headers = vec![
        ("accept".to_owned(), "application/json".to_owned()),
        ("user-agent".to_owned(), "Portcullis".to_owned()),
    ];
    if let Some(b) = bearer {
        headers.push(("authorization".to_owned(), format!("Bearer {b}")));
    }
    let req = Request {
        method: "GET".into(),
        headers,
        ..Default::default()
    };
    let resp = p
        .fetch_upstream(req, url)
        .await
        .map_err(|e| unavailable(prov, e.description))?;
    if resp.status != 200 {
        return Err(unavailable(prov, format!("it answered HTTP {}", resp.status)));
    }
    match serde_json::from_slice::<Value>(&resp.body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(unavailable(prov, "its answer is not a JSON object")),
    }
}

pub async fn endpoints(p: &impl Platform, prov: &UpstreamProvider) -> Result<Endpoints> {
    match &prov.kind {
        UpstreamKind::OAuth2 {
            authorization_endpoint,
            token_endpoint,
            userinfo_endpoint,
            issuer,
            ..
        } => Ok(Endpoints {
            issuer: issuer.clone(),
            authorization: authorization_endpoint.clone(),
            token: token_endpoint.clone(),
            userinfo: Some(userinfo_endpoint.clone()),
            jwks: None,
            iss_parameter: false,
        }),
        UpstreamKind::Oidc { issuer } => {
            let base = issuer.trim_end_matches('/');
            let doc = get_json(p, prov, &format!("{base}/.well-known/openid-configuration"), None).await?;
            let s = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_owned);
            let found = s("issuer").unwrap_or_default();
            if found.trim_end_matches('/') != base {
                return Err(unavailable(prov, "its discovery document names another issuer"));
            }
            let url = |k: &str| s(k).filter(|u| crate::config::upstream_url_ok(u));
            let (Some(authorization), Some(token), Some(jwks)) = (
                url("authorization_endpoint"),
                url("token_endpoint"),
                url("jwks_uri"),
            ) else {
                return Err(unavailable(
                    prov,
                    "its discovery document lacks a usable endpoint",
                ));
            };
            Ok(Endpoints {
                issuer: Some(found),
                authorization,
                token,
                userinfo: url("userinfo_endpoint"),
                jwks: Some(jwks),
                iss_parameter: doc.get("authorization_response_iss_parameter_supported")
                    == Some(&Value::Bool(true)),
            })
        }
    }
}

pub fn redirect_uri(issuer: &str, prov: &UpstreamProvider) -> String {
    format!("{issuer}/login/upstream/{}/callback", prov.id)
}

/// `GET /login/upstream/<id>`: a new state ticket, and the browser sent to the upstream.
/// `return_to` is already made safe (`pages::safe_return_to`).
pub async fn start(
    p: &impl Platform,
    issuer: &str,
    req: &Request,
    id: &str,
    return_to: String,
) -> Result<Response> {
    let prov = provider(p, id)?;
    let ep = endpoints(p, prov).await?;
    let (state, nonce, verifier) = (random_token(p, 32)?, random_token(p, 32)?, random_token(p, 32)?);
    // The binding cookie is kept across sign-ins (several tabs may sign in at once).
    let existing = super::cookies::get(req, cookie_name(req)).filter(|_| browser(req).is_some());
    let cookie = match existing {
        Some(c) => c.to_owned(),
        None => random_token(p, 32)?,
    };
    let record = TicketRecord::State {
        provider: prov.id.clone(),
        nonce: nonce.clone(),
        verifier: verifier.clone(),
        browser: b64url(&sha256(cookie.as_bytes())),
        return_to,
    };
    let expires_at = p.now() + STATE_TTL;
    p.call(
        &identity::ticket(&state),
        identity::PutTicket { record, expires_at },
    )
    .await?;
    let challenge = b64url(&sha256(verifier.as_bytes()));
    let redirect = redirect_uri(issuer, prov);
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", prov.client_id.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("state", state.as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    if !prov.scope.is_empty() {
        params.push(("scope", prov.scope.as_str()));
    }
    if matches!(prov.kind, UpstreamKind::Oidc { .. }) {
        params.push(("nonce", nonce.as_str()));
    }
    let sep = if ep.authorization.contains('?') { '&' } else { '?' };
    let location = format!("{}{sep}{}", ep.authorization, encode_form(&params));
    Ok(Response::empty(303)
        .header("location", location)
        .header(
            "set-cookie",
            super::cookies::set(req, cookie_name(req), &cookie, STATE_TTL as u64),
        )
        .header("cache-control", "no-store"))
}

/// Who the upstream says the person is.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub sub: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    /// The ID token's `amr`, if it had one (else the log-in is `fed`).
    pub amr: Vec<String>,
}

fn verified(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Bool(true))) || v.and_then(Value::as_str) == Some("true")
}

fn text_claim(v: Option<&Value>, max: usize) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= max && !s.chars().any(char::is_control))
        .map(str::to_owned)
}

/// Verifies an upstream ID token: RS256 by a key of `jwks` (the header's `kid` when it names
/// one), `iss` exactly `issuer`, `aud` naming `client_id` (and `azp` equal to it when there
/// are several audiences or it is present), `exp` in the future, `iat` not in it, `nonce`.
/// The reason, when refused, is for the person's page (it names no key).
pub fn verify_id_token(
    token: &str,
    jwks: &Value,
    issuer: &str,
    client_id: &str,
    nonce: &str,
    now: i64,
) -> std::result::Result<Identity, &'static str> {
    let t = jwt::decode(token).map_err(|_| "its ID token is not a JWT")?;
    if t.header.alg != "RS256" {
        return Err("its ID token is not signed with RS256");
    }
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("its key set is unreadable")?;
    let signed = keys
        .iter()
        .take(50)
        .filter(|k| k.get("use").and_then(Value::as_str).is_none_or(|u| u == "sig"))
        .filter(|k| k.get("alg").and_then(Value::as_str).is_none_or(|a| a == "RS256"))
        .filter(|k| t.header.kid.is_none() || k.get("kid").and_then(Value::as_str) == t.header.kid.as_deref())
        .filter_map(app_keys::to_public_key)
        .filter(|k| rsa::traits::PublicKeyParts::n(k).bits() >= 2048)
        .any(|k| t.verify_rs256(&k));
    if !signed {
        return Err("its ID token's signature does not verify");
    }
    if t.str_claim("iss") != Some(issuer) {
        return Err("its ID token is from another issuer");
    }
    let aud_ok = match t.claims.get("aud") {
        Some(Value::String(a)) => a == client_id,
        Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(client_id)),
        _ => false,
    };
    let several = matches!(t.claims.get("aud"), Some(Value::Array(a)) if a.len() > 1);
    let azp = t.claims.get("azp");
    if !aud_ok || ((several || azp.is_some()) && azp.and_then(Value::as_str) != Some(client_id)) {
        return Err("its ID token is for another client");
    }
    let exp = t
        .time_claim("exp")
        .ok()
        .flatten()
        .ok_or("its ID token has no expiry")?;
    if exp.saturating_add(SKEW) <= now {
        return Err("its ID token has expired");
    }
    if t.time_claim("iat")
        .ok()
        .flatten()
        .is_some_and(|iat| iat > now.saturating_add(SKEW))
    {
        return Err("its ID token is issued in the future");
    }
    let n = t.str_claim("nonce").ok_or("its ID token has no nonce")?;
    if !ct_eq(n.as_bytes(), nonce.as_bytes()) {
        return Err("its ID token is for another sign-in (nonce)");
    }
    let sub = text_claim(t.claims.get("sub"), 255).ok_or("its ID token has no subject")?;
    let amr = t
        .claims
        .get("amr")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|m| text_claim(Some(m), 32))
                .filter(|m| m.bytes().all(|b| b.is_ascii_graphic()))
                .take(10)
                .collect()
        })
        .unwrap_or_default();
    Ok(Identity {
        sub,
        email: text_claim(t.claims.get("email"), 254),
        email_verified: verified(t.claims.get("email_verified")),
        name: text_claim(t.claims.get("name"), 200),
        amr,
    })
}

/// The code exchanged at the upstream's token endpoint: its JSON answer.
async fn exchange(
    p: &impl Platform,
    prov: &UpstreamProvider,
    ep: &Endpoints,
    redirect: &str,
    code: &str,
    verifier: &str,
) -> Result<Value> {
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect),
        ("code_verifier", verifier),
    ];
    let mut headers = vec![
        (
            "content-type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        ),
        ("accept".to_owned(), "application/json".to_owned()),
        ("user-agent".to_owned(), "Portcullis".to_owned()),
    ];
    let secret = prov.client_secret.as_ref().map(|s| s.0.as_str()).unwrap_or("");
    match prov.token_auth.as_str() {
        "client_secret_basic" => {
            use base64::Engine;
            // RFC 6749 §2.3.1: each part form-encoded before base64.
            let part = |s: &str| encode_form(&[("x", s)]).trim_start_matches("x=").to_owned();
            let creds = format!("{}:{}", part(&prov.client_id), part(secret));
            headers.push((
                "authorization".to_owned(),
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(creds)
                ),
            ));
        }
        "client_secret_post" => {
            pairs.push(("client_id", &prov.client_id));
            pairs.push(("client_secret", secret));
        }
        _ => pairs.push(("client_id", &prov.client_id)),
    }
    let req = Request {
        method: "POST".into(),
        headers,
        body: encode_form(&pairs).into_bytes(),
        ..Default::default()
    };
    let resp = p
        .fetch_upstream(req, &ep.token)
        .await
        .map_err(|e| unavailable(prov, e.description))?;
    let body = serde_json::from_slice::<Value>(&resp.body)
        .ok()
        .filter(Value::is_object);
    match (resp.status, body) {
        (200, Some(v)) => Ok(v),
        (200, None) => Err(unavailable(
            prov,
            "its token endpoint answered something that is not JSON",
        )),
        (400..=499, Some(v)) if v.get("error").and_then(Value::as_str).is_some() => {
            let error = v
                .get("error")
                .and_then(Value::as_str)
                .map(shown)
                .unwrap_or_default();
            let description = v.get("error_description").and_then(Value::as_str).map(shown);
            Err(refused(
                prov,
                match description {
                    Some(d) => format!("it refused the sign-in ({error}: {d})"),
                    None => format!("it refused the sign-in ({error})"),
                },
            ))
        }
        (status, _) => Err(unavailable(
            prov,
            format!("its token endpoint answered HTTP {status}"),
        )),
    }
}

/// The identity of a plain OAuth 2 upstream, from its userinfo JSON.
pub fn from_userinfo(info: &Value, prov: &UpstreamProvider) -> Option<Identity> {
    let UpstreamKind::OAuth2 {
        id_field,
        email_field,
        email_verified_field,
        name_field,
        ..
    } = &prov.kind
    else {
        return None;
    };
    let sub = match info.get(id_field.as_str()) {
        Some(Value::Number(n)) => Some(n.to_string()),
        v => text_claim(v, 255),
    }?;
    Some(Identity {
        sub,
        email: text_claim(info.get(email_field.as_str()), 254),
        email_verified: email_verified_field
            .as_ref()
            .is_some_and(|f| verified(info.get(f.as_str()))),
        name: text_claim(info.get(name_field.as_str()), 200),
        amr: Vec::new(),
    })
}

/// What the callback ends in.
pub enum Outcome {
    /// Signed in as this person, by these methods.
    LoggedIn {
        profile: Profile,
        amr: Vec<String>,
        return_to: String,
    },
    /// The email has an account: the person must confirm with its password (a ticket).
    Confirm {
        ticket: String,
        email: String,
        return_to: String,
    },
}

/// `GET /login/upstream/<id>/callback`: the state ticket taken, the upstream's answer checked,
/// the identity resolved to an account.
pub async fn callback(p: &impl Platform, issuer: &str, req: &Request, id: &str) -> Result<Outcome> {
    let prov = provider(p, id)?;
    let bad = |m: &str| Error::page(ErrorCode::InvalidRequest, TITLE, m.to_owned());
    let q = Params::from_query(req).map_err(|e| bad(&e.description))?;
    let Some(state) = q.get("state").filter(|s| !s.is_empty() && s.len() <= 200) else {
        return Err(bad(
            "This sign-in has no state. Start again from the log-in page.",
        ));
    };
    // Taken at once, whatever follows: a state is used once.
    let ticket = p.call(&identity::ticket(state), identity::TakeTicket {}).await?;
    let Some(TicketRecord::State {
        provider: pid,
        nonce,
        verifier,
        browser: bound,
        return_to,
    }) = ticket
    else {
        return Err(bad(
            "This sign-in has expired or was already used. Start again from the log-in page.",
        ));
    };
    if pid != prov.id {
        return Err(bad(
            "This sign-in was started with another provider. Start again from the log-in page.",
        ));
    }
    let same_browser = browser(req).is_some_and(|b| ct_eq(b.as_bytes(), bound.as_bytes()));
    if !same_browser {
        return Err(bad("This sign-in was started in another browser (or its cookie was lost). Start again from the log-in page in this browser."));
    }
    if let Some(error) = q.get("error") {
        let description = q.get("error_description").map(shown).filter(|d| !d.is_empty());
        let why = match (error, description) {
            ("access_denied", None) => "access was denied".to_owned(),
            (e, None) => format!("it answered {}", shown(e)),
            (e, Some(d)) => format!("it answered {} ({d})", shown(e)),
        };
        return Err(refused(prov, why));
    }
    let ep = endpoints(p, prov).await?;
    match (q.get("iss"), &ep.issuer) {
        (Some(iss), Some(expected)) if iss == expected => {}
        (Some(_), _) => return Err(refused(prov, "the answer came from another issuer (iss)")),
        (None, _) if ep.iss_parameter => {
            return Err(refused(prov, "the answer did not name its issuer (iss)"))
        }
        (None, _) => {}
    }
    let Some(code) = q.get("code").filter(|c| !c.is_empty() && c.len() <= 2048) else {
        return Err(refused(prov, "it sent no authorization code"));
    };
    let redirect = redirect_uri(issuer, prov);
    let tokens = exchange(p, prov, &ep, &redirect, code, &verifier).await?;
    let access_token = tokens.get("access_token").and_then(Value::as_str);
    let identity = match (&prov.kind, &ep.jwks, &ep.issuer) {
        (UpstreamKind::Oidc { .. }, Some(jwks_uri), Some(iss)) => {
            let id_token = tokens
                .get("id_token")
                .and_then(Value::as_str)
                .ok_or_else(|| refused(prov, "it sent no ID token"))?;
            let jwks = get_json(p, prov, jwks_uri, None).await?;
            let mut who = verify_id_token(id_token, &jwks, iss, &prov.client_id, &nonce, p.now())
                .map_err(|why| refused(prov, why))?;
            // Claims the ID token left out (the upstream may give them at userinfo only).
            if let (None, Some(url), Some(at)) = (&who.email, &ep.userinfo, access_token) {
                let info = get_json(p, prov, url, Some(at)).await?;
                if info.get("sub").and_then(Value::as_str) == Some(who.sub.as_str()) {
                    who.email = text_claim(info.get("email"), 254);
                    who.email_verified = verified(info.get("email_verified"));
                    who.name = who.name.or_else(|| text_claim(info.get("name"), 200));
                }
            }
            who
        }
        _ => {
            let (Some(url), Some(at)) = (&ep.userinfo, access_token) else {
                return Err(refused(prov, "it sent no access token"));
            };
            let info = get_json(p, prov, url, Some(at)).await?;
            from_userinfo(&info, prov)
                .ok_or_else(|| refused(prov, "its user information names no user id"))?
        }
    };
    resolve(p, req, prov, identity, return_to).await
}

/// How a federated log-in is stated here: `fed` alone (not an RFC 8176 value). The upstream's
/// own `amr` is not taken on: this server never checked those methods, and an `mfa` there must
/// not stand in for this server's second factor (`two_factor::needs_second_step`).
fn amr_of(_who: &Identity) -> Vec<String> {
    vec!["fed".to_owned()]
}

/// The account of an upstream identity: its link, a new account, or a link to be confirmed.
async fn resolve(
    p: &impl Platform,
    req: &Request,
    prov: &UpstreamProvider,
    who: Identity,
    return_to: String,
) -> Result<Outcome> {
    let link = identity::link(&prov.id, &who.sub);
    let amr = amr_of(&who);
    if let Some(l) = p.call(&link, identity::GetLink {}).await? {
        let profile = super::profile(p, &l.user_id)
            .await?
            .ok_or_else(|| refused(prov, "the account it was linked to no longer exists"))?;
        return Ok(Outcome::LoggedIn {
            profile,
            amr,
            return_to,
        });
    }
    let email = who.email.as_deref().map(normalise_email).unwrap_or_default();
    if crate::rules::fields::email("email", &email, true).is_err() {
        return Err(refused(prov, "it did not share a usable email address"));
    }
    let name = who
        .name
        .clone()
        .map(|n| n.chars().take(100).collect::<String>())
        .filter(|n| crate::rules::fields::name("name", n, 100).is_ok())
        .unwrap_or_else(|| email.split('@').next().unwrap_or("").chars().take(100).collect());
    let existing = p.call(&account::object(&email), account::Peek {}).await?;
    // An account is made only for an email the upstream says is verified: else whoever holds
    // that upstream identity would hold an account for someone else's email, which its real
    // owner's password reset could never take back (the link stays).
    if existing.is_none() && !who.email_verified {
        return Err(Error::page(
            ErrorCode::AccessDenied,
            TITLE,
            format!(
                "{} does not say the email {email} is verified, so no account can be made with                  it here. Verify the email there and try again, or sign up with a password.",
                prov.name
            ),
        ));
    }
    let account = match existing {
        None => match create_account(p, &email, &name, who.email_verified).await? {
            Some(profile) => {
                let record = LinkRecord {
                    user_id: profile.id.clone(),
                    email: email.clone(),
                    email_verified: who.email_verified,
                    linked_at: p.now(),
                };
                let held = p.call(&link, identity::CreateLink { record }).await?;
                let profile = if held.user_id == profile.id {
                    profile
                } else {
                    super::profile(p, &held.user_id)
                        .await?
                        .ok_or_else(|| refused(prov, "its account is gone"))?
                };
                return Ok(Outcome::LoggedIn {
                    profile,
                    amr,
                    return_to,
                });
            }
            // Made by someone else meanwhile: an existing account, as below.
            None => p
                .call(&account::object(&email), account::Peek {})
                .await?
                .ok_or_else(|| Error::server("an account vanished while it was made"))?,
        },
        Some(a) => a,
    };
    if !who.email_verified {
        return Err(Error::page(
            ErrorCode::AccessDenied,
            TITLE,
            format!(
                "An account with the email {email} already exists here, and {} does not say this \
                 email is verified, so it cannot be connected to that account. Log in with your \
                 password instead; no account was changed.",
                prov.name
            ),
        ));
    }
    // Signed in as that account already: that is proof enough.
    let current = super::current_session(p, req).await?;
    if current.is_some_and(|s| s.user_id == account.user_id) {
        let record = LinkRecord {
            user_id: account.user_id.clone(),
            email,
            email_verified: true,
            linked_at: p.now(),
        };
        let held = p.call(&link, identity::CreateLink { record }).await?;
        let profile = super::profile(p, &held.user_id)
            .await?
            .ok_or_else(|| refused(prov, "its account is gone"))?;
        return Ok(Outcome::LoggedIn {
            profile,
            amr,
            return_to,
        });
    }
    let ticket = random_token(p, 32)?;
    let record = TicketRecord::Confirm {
        provider: prov.id.clone(),
        sub: who.sub,
        email: account.email.clone(),
        user_id: account.user_id,
        amr,
        browser: browser(req).unwrap_or_default(),
        return_to: return_to.clone(),
    };
    let expires_at = p.now() + STATE_TTL;
    p.call(
        &identity::ticket(&ticket),
        identity::PutTicket { record, expires_at },
    )
    .await?;
    Ok(Outcome::Confirm {
        ticket,
        email: account.email,
        return_to,
    })
}

/// An account without a password for `email` (`None` when the email has one already), under
/// the tenant's people quota, as `accounts::sign_up` counts it.
/// `email_verified` as the upstream said.
async fn create_account(
    p: &impl Platform,
    email: &str,
    name: &str,
    email_verified: bool,
) -> Result<Option<Profile>> {
    let user_id = random_token(p, 16)?;
    crate::accounts::reserve_person(p, &user_id, email).await.map_err(|e| match e.code {
        ErrorCode::LimitReached => e.on_page(
            TITLE,
            "No new accounts can be made here: this service has as many people as its limit \
             allows. If you already have an account, log in with it; otherwise ask the service's operator.",
        ),
        _ => e,
    })?;
    let record = AccountRecord {
        user_id: user_id.clone(),
        email: email.to_owned(),
        name: name.to_owned(),
        // No password: `password::verify` refuses every password against an empty hash.
        password_hash: String::new(),
        created_at: p.now(),
        email_verified,
    };
    debug_assert!(!password::verify("", &record.password_hash));
    crate::accounts::create_reserved(p, &user_id, Ok(record)).await
}

/// A confirmation awaiting the person's password: the existing account's email and id.
pub struct PendingConfirm {
    pub email: String,
    pub user_id: String,
}

/// The pending confirmation of ticket `ticket`, for provider `id` in this browser, while it lasts.
pub async fn pending(
    p: &impl Platform,
    req: &Request,
    id: &str,
    ticket: &str,
) -> Result<Option<PendingConfirm>> {
    if ticket.is_empty() || ticket.len() > 100 {
        return Ok(None);
    }
    let t = p.call(&identity::ticket(ticket), identity::GetTicket {}).await?;
    Ok(match t {
        Some(TicketRecord::Confirm {
            provider,
            browser: bound,
            email,
            user_id,
            ..
        }) if provider == id && browser(req).is_some_and(|b| ct_eq(b.as_bytes(), bound.as_bytes())) => {
            Some(PendingConfirm { email, user_id })
        }
        _ => None,
    })
}

/// The person proved they own the account (`user_id`, by its password): the ticket is taken
/// (once) and the identity linked. The methods of the log-in: the upstream's and `pwd`.
pub async fn confirm(
    p: &impl Platform,
    ticket: &str,
    user_id: &str,
) -> Result<Option<(Profile, Vec<String>, String)>> {
    let taken = p.call(&identity::ticket(ticket), identity::TakeTicket {}).await?;
    let Some(TicketRecord::Confirm {
        provider,
        sub,
        email,
        user_id: owner,
        mut amr,
        return_to,
        ..
    }) = taken
    else {
        return Ok(None);
    };
    if owner != user_id {
        return Ok(None);
    }
    let record = LinkRecord {
        user_id: owner,
        email,
        email_verified: true,
        linked_at: p.now(),
    };
    let held = p
        .call(&identity::link(&provider, &sub), identity::CreateLink { record })
        .await?;
    let Some(profile) = super::profile(p, &held.user_id).await? else {
        return Ok(None);
    };
    if !amr.iter().any(|m| m == "pwd") {
        amr.push("pwd".to_owned());
    }
    Ok(Some((profile, amr, return_to)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shown_text_is_printable_and_short() {
        assert_eq!(shown("a\u{0}b\nc"), "abc");
        assert_eq!(shown(&"x".repeat(500)).len(), 200);
    }

    #[test]
    fn userinfo_fields_map_to_an_identity() {
        let (ok, _) = crate::config::parse_upstreams(
            &json!([{"id": "gh", "name": "GH", "type": "oauth2", "client_id": "c",
                "authorization_endpoint": "https://a.example/a", "token_endpoint": "https://a.example/t",
                "userinfo_endpoint": "https://a.example/u", "fields": {"email_verified": "verified", "name": "login"}}])
            .to_string(),
            |_| None,
        );
        let prov = ok.first().unwrap();
        let who = from_userinfo(
            &json!({"id": 42, "email": "A@B.example", "verified": true, "login": "al"}),
            prov,
        )
        .unwrap();
        assert_eq!(
            (who.sub.as_str(), who.email_verified, who.name.as_deref()),
            ("42", true, Some("al"))
        );
        assert!(
            !from_userinfo(&json!({"id": "7", "verified": "yes"}), prov)
                .unwrap()
                .email_verified
        );
        assert!(from_userinfo(&json!({"id": ""}), prov).is_none());
        assert!(from_userinfo(&json!({"id": {"x": 1}}), prov).is_none());
        assert!(from_userinfo(&json!([]), prov).is_none());
    }
}
