//! The authorization endpoint's protocol (RFC 6749 §4.1, RFC 9700): `validate` checks a
//! request (client, exact redirect URI, `state`, `response_type`, scopes, PKCE, resource), and
//! until the redirect URI is known to be registered every refusal is a page; after, errors go
//! back to the client with `iss` (RFC 9207). For OpenID Connect it also reads what the request
//! asks of the interaction ([`Interaction`]: `prompt`, `max_age`, `id_token_hint`,
//! `login_hint`), the claims it asks for one by one (`claims`, `rules::claims_request`) and the
//! class of authentication (`acr_values`, an `acr` claim: `rules::acr`); `ui_locales`,
//! `display`, `claims_locales` and unknown parameters are ignored; request objects (`request`,
//! a `request_uri` not of ours) are refused. A `request_uri` of ours names a pushed request
//! (RFC 9126, `oauth::par`): its parameters, and only them, are the request, validated here as
//! any other, and the code issued from it uses it up. Allow issues a
//! single-use code bound to client, redirect URI, scopes, user and PKCE challenge. The pages
//! that drive it are `pages::authorize`.

use crate::http::params::{encode_form, Params};
use crate::http::Response;
use crate::model::App;
use crate::model::valid_client_id;
use crate::error::{Error, ErrorCode, Result};
use crate::oauth::resource;
use crate::rules::prompt::{self, Prompt};
use crate::rules::{acr, claims_request, login_hint, nonce, par, pkce, redirect_uri, scope};
use crate::objects::grants::{Authn, CodeRecord};
use crate::objects::pushed;
use crate::util::sha256_hex;
use crate::objects::session::SessionRecord;
use crate::objects::user;
use crate::platform::Platform;

/// A validated authorization request.
pub struct Authz {
    pub app: App,
    pub redirect_uri: String,
    pub redirect_uri_sent: bool,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub challenge: Option<String>,
    pub method: Option<&'static str>,
    pub aud: String,
    /// OpenID Connect `nonce` (checked by `rules::nonce`), carried into the code.
    pub nonce: Option<String>,
    /// What an OpenID Connect request asks of the interaction (nothing for plain OAuth).
    pub interaction: Interaction,
    /// The person's claims the `claims` parameter asked for that the app may have
    /// (`rules::claims_request::permitted`).
    pub claims: AskedClaims,
    /// The classes an essential `acr` asks for (`rules::acr::check`); empty: any will do.
    pub acr_essential: Vec<String>,
    /// The pushed request this one came from (RFC 9126), if any.
    pub pushed: Option<Pushed>,
}

/// A request that came by `request_uri` from the PAR endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// Its object's name (the reference's SHA-256).
    pub object: String,
    /// Its `prompt` as in force (`rules::par::prompt`): the pages' "Continue" narrows it.
    pub prompt: Option<String>,
}

/// How a request reached [`check`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    /// At the authorization endpoint, as sent.
    Direct,
    /// At the PAR endpoint, being pushed.
    Pushing,
}

/// The claims an OpenID Connect request asked for one by one, at the userinfo endpoint and in
/// the ID token; `beyond` those of them the granted scopes do not release, which need consent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AskedClaims {
    pub userinfo: Vec<String>,
    pub id_token: Vec<String>,
    pub beyond: Vec<String>,
}

impl AskedClaims {
    /// The consent markers (`claim <name>`) the person's consent must hold besides the scopes.
    pub fn consent_markers(&self) -> Vec<String> {
        self.beyond.iter().map(|c| claims_request::consent_marker(c)).collect()
    }
}

/// What an OpenID Connect authentication request asks of the interaction (Core 1.0 §3.1.2.1);
/// what the endpoint then does is `rules::prompt::next_step`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interaction {
    pub prompt: Prompt,
    /// Seconds a log-in may be old (`max_age`).
    pub max_age: Option<u64>,
    /// The `sub` of a valid `id_token_hint`, or else the `sub` the `claims` parameter names.
    pub hint_sub: Option<String>,
    /// Whether `hint_sub` came from a signed `id_token_hint` (one of our ID tokens for this
    /// client), not from the unsigned `claims` parameter.
    pub hint_signed: bool,
    /// `login_hint`, to prefill the log-in page.
    pub login_hint: Option<String>,
}

/// Reads `prompt`, `max_age` (else the app's registered `default_max_age`), `id_token_hint`
/// (or the `sub` the `claims` parameter names) and `login_hint` of an OpenID Connect request.
fn interaction(p: &impl Platform, issuer: &str, app: &App, q: &Params, claims_sub: Option<&str>) -> Result<Interaction> {
    let client_id = app.client_id.as_str();
    let hint_sub = match q.get("id_token_hint") {
        Some(hint) => Some(crate::oauth::id_token_hint::subject(p.keys(), issuer, client_id, hint)?),
        None => None,
    };
    let hint_signed = hint_sub.is_some();
    let hint_sub = match (hint_sub, claims_sub) {
        (Some(h), Some(c)) if h != c => {
            return Err(Error::invalid_request("the claims parameter names another sub than id_token_hint"))
        }
        (h, c) => h.or_else(|| c.map(str::to_owned)),
    };
    Ok(Interaction {
        prompt: prompt::parse_prompt(q.get("prompt"))?,
        max_age: prompt::parse_max_age(q.get("max_age"))?.or(app.default_max_age),
        login_hint: login_hint::check(q.get("login_hint"))?,
        hint_sub,
        hint_signed,
    })
}

/// Appends query parameters to a registered redirect URI.
pub fn redirect_with(uri: &str, pairs: &[(&str, &str)]) -> String {
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{}", encode_form(pairs))
}

/// The error redirect of RFC 6749 §4.1.2.1 with RFC 9207's `iss` (rendered by `routes::render`
/// for errors made with [`Error::redirected`]).
pub fn error_redirect(issuer: &str, uri: &str, state: Option<&str>, e: &Error) -> Response {
    let description = e.description_wire();
    let mut pairs = vec![
        ("error", e.code.as_str()),
        ("error_description", description.as_str()),
    ];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    pairs.push(("iss", issuer));
    Response::redirect(&redirect_with(uri, &pairs))
}

pub const CANNOT: &str = "Cannot continue";

/// Validates an authorization request. Until the redirect URI is known to be registered, a
/// refusal is a page for the person; after, it goes back to the client (RFC 6749 §4.1.2.1).
/// A `request_uri` of ours is replaced by the pushed request it names.
pub async fn validate(p: &impl Platform, issuer: &str, q: &Params) -> Result<Authz> {
    match expand(p, q).await? {
        Some((object, params)) => {
            let mut a = check(p, issuer, &params, Via::Pushing).await?;
            a.pushed = Some(Pushed { object, prompt: params.get("prompt").map(str::to_owned) });
            Ok(a)
        }
        None => check(p, issuer, q, Via::Direct).await,
    }
}

/// Validates a request being pushed (RFC 9126 §2.1: "as it would an authorization request
/// sent to the authorization endpoint"); the PAR endpoint answers its refusals as JSON.
pub async fn validate_pushing(p: &impl Platform, issuer: &str, q: &Params) -> Result<Authz> {
    check(p, issuer, q, Via::Pushing).await
}

/// The pushed request a `request_uri` of ours names, for the `client_id` beside it: its
/// object's name and its parameters (with `prompt` as `rules::par::prompt` allows the browser to
/// narrow it). `None`: no `request_uri` of ours (another kind is refused by [`check`]).
async fn expand(p: &impl Platform, q: &Params) -> Result<Option<(String, Params)>> {
    let Some(reference) = q.get("request_uri").and_then(par::reference) else {
        return Ok(None);
    };
    let page = |code: ErrorCode, msg: &str| Error::page(code, CANNOT, msg);
    let client_id = q
        .get("client_id")
        .ok_or_else(|| page(ErrorCode::InvalidRequest, "The request has no client_id."))?;
    if !valid_client_id(client_id) {
        return Err(page(ErrorCode::InvalidRequest, "The application is not known here."));
    }
    let object = sha256_hex(reference);
    let open = pushed::Open { client_id: client_id.to_owned() };
    let Some(stored) = p.call(&pushed::object(&object), open).await? else {
        return Err(page(
            ErrorCode::InvalidRequestUri,
            "This sign-in request has expired or was already used. Start again from the application.",
        ));
    };
    let stored_prompt = stored.iter().find(|(k, _)| k == "prompt").map(|(_, v)| v.clone());
    // `prompt=` (sent empty) is the pages' "Continue" having dropped every word.
    let outer = if q.sent_empty("prompt") { Some("") } else { q.get("prompt") };
    let mut pairs: Vec<(String, String)> = stored.into_iter().filter(|(k, _)| k != "prompt").collect();
    if let Some(pr) = par::prompt(stored_prompt.as_deref(), outer) {
        pairs.push(("prompt".to_owned(), pr));
    }
    let params = Params::from_pairs(pairs)
        .map_err(|_| page(ErrorCode::InvalidRequestUri, "This sign-in request cannot be read. Start again from the application."))?;
    Ok(Some((object, params)))
}

async fn check(p: &impl Platform, issuer: &str, q: &Params, via: Via) -> Result<Authz> {
    let page = |msg: &str| Error::page(ErrorCode::InvalidRequest, CANNOT, msg);
    let client_id = q
        .get("client_id")
        .ok_or_else(|| page("The request has no client_id."))?;
    if !valid_client_id(client_id) {
        return Err(page("The application is not known here."));
    }
    let app = match p.app_meta(client_id).await {
        Ok(Some(app)) => app,
        Ok(None) => return Err(page("The application is not known here.")),
        Err(e) => return Err(Error::page(ErrorCode::TemporarilyUnavailable, "Unavailable", e.description)),
    };
    let sent = q.get("redirect_uri");
    let Some(uri) = redirect_uri::select(&app.redirect_uris, sent) else {
        return Err(page("The redirect URI is not registered for this application."));
    };
    let uri = uri.to_owned();
    let state = q.get("state").map(str::to_owned);
    let fail = |e: Error| e.redirected(&uri, state.as_deref(), issuer);
    if state.as_deref().is_some_and(|s| s.len() > 2000) {
        return Err(fail(Error::invalid_request("state is too long")));
    }
    // Discovery says request objects are not supported (Core 1.0 §6): refused, not ignored,
    // since what they carry would silently not apply.
    if q.contains("request") {
        return Err(fail(Error::new(ErrorCode::RequestNotSupported, "request objects are not supported")));
    }
    if q.contains("request_uri") {
        return Err(fail(Error::new(
            ErrorCode::RequestUriNotSupported,
            "request_uri is not supported",
        )));
    }
    // RFC 9126 §5: a deployment or an app that requires pushed requests refuses any other.
    if via == Via::Direct && par::required(p.config().require_par, app.require_pushed_authorization_requests) {
        return Err(fail(Error::invalid_request(
            "authorization requests of this client must be pushed first (PAR, RFC 9126)",
        )));
    }
    match q.get("response_type") {
        Some("code") => {}
        Some(_) => {
            return Err(fail(Error::new(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            )))
        }
        None => return Err(fail(Error::invalid_request("missing parameter 'response_type'"))),
    }
    if !app.allows_grant("authorization_code") {
        return Err(fail(Error::unauthorized_client(
            "this client may not use the authorization code flow",
        )));
    }
    let allowed = scope::allowed_for(&app, &p.config().scopes);
    let scopes = scope::resolve(q.get("scope"), &allowed, &scope::within(app.default_scopes(), &allowed)).map_err(&fail)?;
    let method = pkce::check_challenge(
        q.get("code_challenge"),
        q.get("code_challenge_method"),
        app.is_public(),
    )
    .map_err(&fail)?;
    let aud = resource::audience(p, issuer, q.get("resource")).map_err(&fail)?;
    let nonce = nonce::check(q.get("nonce")).map_err(&fail)?;
    let (interaction, claims, acr_essential) = if scopes.iter().any(|s| s == "openid") {
        let asked = claims_request::parse(q.get("claims")).map_err(&fail)?.unwrap_or_default();
        let essential = acr::check(q.get("acr_values"), asked.acr.as_ref()).map_err(&fail)?;
        let i = interaction(p, issuer, &app, q, asked.sub.as_deref()).map_err(&fail)?;
        let userinfo = claims_request::permitted(&asked.userinfo, &allowed);
        let id_token = claims_request::permitted(&asked.id_token, &allowed);
        let mut both = userinfo.clone();
        both.extend(id_token.iter().filter(|c| !userinfo.contains(c)).cloned());
        let beyond = claims_request::beyond_scopes(&both, &scopes);
        (i, AskedClaims { userinfo, id_token, beyond }, essential)
    } else {
        (Interaction::default(), AskedClaims::default(), Vec::new())
    };
    Ok(Authz {
        nonce,
        interaction,
        claims,
        acr_essential,
        pushed: None,
        redirect_uri_sent: sent.is_some(),
        redirect_uri: uri.clone(),
        scopes,
        challenge: q.get("code_challenge").map(str::to_owned),
        method,
        aud,
        state,
        app,
    })
}

/// Stores a single-use code for the session's person bound to the request (and, for OpenID
/// Connect, to its `nonce` and the session's log-in); returns the code.
pub async fn mint_code(p: &impl Platform, a: &Authz, session: &SessionRecord) -> Result<String> {
    let authn = Authn {
        auth_time: session.auth_time(p.config().session_ttl, p.now()),
        sid: session.sid.clone(),
        userinfo: a.claims.userinfo.clone(),
        id_token: a.claims.id_token.clone(),
        consented: a.claims.beyond.clone(),
        amr: session.amr(),
    };
    let record = CodeRecord {
        user_id: session.user_id.clone(),
        nonce: a.nonce.clone(),
        authn: Some(authn),
        redirect_uri: a.redirect_uri.clone(),
        redirect_uri_sent: a.redirect_uri_sent,
        scopes: a.scopes.clone(),
        aud: a.aud.clone(),
        challenge: a.challenge.clone(),
        method: a.method.map(str::to_owned),
        expires_at: p.now() + p.config().code_ttl as i64,
        used: false,
        gid: None,
    };
    // Stored in the object of the grant the code will be redeemed into (`<gid>.<secret>`).
    crate::oauth::grants::store_code(p, &a.app, record).await
}

/// Whether the session's log-in meets the class an essential `acr` asks for (`rules::acr`).
pub fn meets_acr(a: &Authz, session: &SessionRecord) -> bool {
    acr::meets(acr::of(&session.amr()), &a.acr_essential)
}

/// Issues a code and sends the browser back to the client with it (and `state`, `iss`); a
/// log-in that does not meet an essential `acr` is a failed authentication (Core §5.5.1.1):
/// `access_denied` to the client instead.
pub async fn issue_code(p: &impl Platform, issuer: &str, a: &Authz, session: &SessionRecord) -> Result<Response> {
    if !meets_acr(a, session) {
        return Err(Error::new(ErrorCode::AccessDenied, "this log-in does not meet the essential acr asked for")
            .redirected(&a.redirect_uri, a.state.as_deref(), issuer));
    }
    // A pushed request yields one code (RFC 9126 §4): used up first, so two racing tabs get one.
    if !use_up(p, a).await? {
        return Err(Error::new(ErrorCode::InvalidRequestUri, "this pushed request was already used")
            .redirected(&a.redirect_uri, a.state.as_deref(), issuer));
    }
    let code = mint_code(p, a, session).await?;
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = &a.state {
        pairs.push(("state", s));
    }
    pairs.push(("iss", issuer));
    Ok(Response::redirect(&redirect_with(&a.redirect_uri, &pairs)).client(Some(&a.app.client_id)))
}

/// Uses up the pushed request `a` came from (if any): whether it was still there to use.
pub async fn use_up(p: &impl Platform, a: &Authz) -> Result<bool> {
    match &a.pushed {
        Some(pu) => {
            let take = pushed::Take { client_id: a.app.client_id.clone() };
            p.call(&pushed::object(&pu.object), take).await
        }
        None => Ok(true),
    }
}

/// Whether the person already consented to every scope asked for, and to every claim asked
/// for beyond them.
pub async fn consented(p: &impl Platform, user_id: &str, a: &Authz) -> Result<bool> {
    let cmd = user::GetConsent {
        client_id: a.app.client_id.clone(),
    };
    let given = p.call(&user::object(user_id), cmd).await?;
    Ok(a.scopes.iter().chain(a.claims.consent_markers().iter()).all(|s| given.contains(s)))
}

/// What the person's Allow records: the scopes and the claims beyond them.
pub fn consent_record(a: &Authz) -> Vec<String> {
    let mut v = a.scopes.clone();
    v.extend(a.claims.consent_markers());
    v
}

