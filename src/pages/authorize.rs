//! The pages of the authorization endpoint (`GET`/`POST /oauth/authorize`): the log-in
//! redirect, the consent page and the person's decision. The protocol rules they apply
//! (request validation, codes, consent records) are `oauth::authorize`.

use super::{consent, select_account, Csrf};
use crate::accounts::{self, cookies};
use crate::error::{Error, ErrorCode, Result};
use crate::http::params::{encode_form, Params};
use crate::http::{Request, Response};
use crate::oauth::authorize::{consent_record, consented, issue_code, meets_acr, use_up, validate, Authz, Interaction, CANNOT};
use crate::objects::session::SessionRecord;
use crate::objects::user;
use crate::platform::Platform;
use crate::rules::prompt::{self, Signed, Step};

/// Parameters of the authorization request carried through the consent form (a pushed
/// request's are `client_id` and `request_uri` only: the rest stays where it was pushed).
const CARRIED: [&str; 12] = [
    "request_uri",
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "resource",
    "nonce",
    "claims",
    "acr_values",
];

/// The parameter of the log-in page's way back that marks when the endpoint sent the person to
/// log in (seconds): a log-in after it was made for this request (`rules::prompt::fresh`).
pub const LOGIN_MARKER: &str = "login_after";

/// This request again (`path?…`) without its log-in marker, `prompt` kept
/// (`prompt` is `None`), dropped (`Some(None)`) or replaced (`Some(Some(v))`), and marked
/// with `login_after` if given.
fn again(path: &str, q: &Params, prompt: Option<Option<&str>>, login_after: Option<&str>) -> String {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for (k, v) in q.iter() {
        match (k, prompt) {
            (LOGIN_MARKER, _) => {}
            // The consent form's own fields are not the request's.
            ("csrf" | "decision", _) => {}
            ("prompt", Some(None)) => {}
            ("prompt", Some(Some(p))) => pairs.push((k, p)),
            _ => pairs.push((k, v)),
        }
    }
    // A replaced prompt the request did not send (a pushed request's) is added.
    if let Some(Some(p)) = prompt {
        if !q.contains("prompt") {
            pairs.push(("prompt", p));
        }
    }
    if let Some(t) = login_after {
        pairs.push((LOGIN_MARKER, t));
    }
    format!("{path}?{}", encode_form(&pairs))
}

/// The log-in page's address, coming back to this request, its email prefilled with
/// `login_hint`. When the request asks for a fresh log-in (`prompt=login`, `max_age`,
/// `select_account`, `id_token_hint`) the way back is marked with the time the person was sent
/// there, so the new log-in satisfies it once (no loop); otherwise it is the request as sent.
/// Where the log-in page comes back to: this request (by GET), marked with the time the
/// person was sent when the request needs a fresh log-in.
fn back_address(p: &impl Platform, req: &Request, q: &Params, i: &Interaction) -> String {
    let marked = i.prompt.login || i.prompt.select_account || i.max_age.is_some() || i.hint_sub.is_some();
    if marked {
        again(&req.path, q, None, Some(&p.now().to_string()))
    } else if req.method == "POST" || q.contains("request_uri") {
        // A POSTed authorization request comes back as the same request by GET; a pushed one
        // as its client_id and request_uri (what else the browser sent is not carried).
        again(&req.path, q, None, None)
    } else if req.query.is_empty() {
        req.path.clone()
    } else {
        format!("{}?{}", req.path, req.query)
    }
}

fn login_address(p: &impl Platform, req: &Request, q: &Params, i: &Interaction) -> String {
    let back = back_address(p, req, q, i);
    let mut pairs = vec![("return_to", back.as_str())];
    if let Some(h) = &i.login_hint {
        pairs.push(("login_hint", h));
    }
    format!("/login?{}", encode_form(&pairs))
}

fn login_redirect(p: &impl Platform, req: &Request, q: &Params, i: &Interaction) -> Response {
    Response::empty(303)
        .header("location", login_address(p, req, q, i))
        .no_store()
}

fn consent_page(p: &impl Platform, req: &Request, q: &Params, a: &Authz, s: &SessionRecord) -> Result<Response> {
    let hidden: Vec<(&str, &str)> = CARRIED.iter().filter_map(|k| q.get(k).map(|v| (*k, v))).collect();
    // "Not you?": the log-in page, whose new session replaces this one, coming back here.
    let switch = format!("/login?{}", encode_form(&[("return_to", back_address(p, req, q, &a.interaction).as_str())]));
    let dest = super::app_card::host_of(&a.redirect_uri);
    Ok(consent::render(p.config(), &a.app, &a.scopes, &a.claims.beyond, &hidden, s, &Csrf::for_request(p, req)?, dest.as_deref(), &switch))
}

/// `GET /oauth/authorize`: log in, choose an account, consent, or a code, as
/// `rules::prompt::next_step` says; with `prompt=none` never a page, only a redirect.
pub async fn get(p: &impl Platform, issuer: &str, req: &Request) -> Result<Response> {
    let q = Params::from_query(req).map_err(|e| Error::page(ErrorCode::InvalidRequest, CANNOT, e.description))?;
    request(p, issuer, req, q).await
}

/// An authorization request, from the query of a GET or the form of a POST (OpenID Connect
/// Core 1.0 §3.1.2.1: both are supported, with the same meaning).
async fn request(p: &impl Platform, issuer: &str, req: &Request, q: Params) -> Result<Response> {
    let a = validate(p, issuer, &q).await?;
    // A pushed request travels as its client_id and request_uri only (with the pages' own
    // prompt and log-in marker): what else the browser sent is not the request, nor carried on.
    let q = match &a.pushed {
        Some(_) => Params::from_pairs(
            q.iter()
                .filter(|(k, _)| matches!(*k, "client_id" | "request_uri" | "prompt" | LOGIN_MARKER))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )?,
        None => q,
    };
    let i = &a.interaction;
    let session = accounts::current_session(p, req).await?;
    let now = p.now();
    // RFC 8252 §8.6: a public client's redirect can be claimed by any app on the device
    // (any loopback port), so remembered consent never issues its codes silently.
    let remembered = match &session {
        Some(s) => !a.app.is_public() && consented(p, &s.user_id, &a).await?,
        None => false,
    };
    let signed = session.as_ref().map(|s| {
        let auth_time = s.auth_time(p.config().session_ttl, now);
        Signed {
            auth_time,
            // A fresh log-in is only ever made by sending the person to log in, which prompt=none
            // never does: a marker on such a request is not ours.
            fresh: !i.prompt.none && prompt::fresh(q.get(LOGIN_MARKER), auth_time, now),
            // A `sub` named by the unsigned `claims` parameter is compared only once the
            // person has allowed the app (else any client could ask "is the visitor X?"
            // without consent); until then it asks for consent like any request. A signed
            // `id_token_hint` is an ID token this client already got for that person.
            // Compared with the subject this app knows the person by (`oauth::subject`).
            hint_mismatch: (i.hint_signed || remembered)
                && i.hint_sub.as_deref().is_some_and(|sub| sub != crate::oauth::subject::of(p.config(), &a.app, &s.user_id)),
        }
    });
    let fresh = signed.as_ref().is_some_and(|s| s.fresh);
    let step = prompt::next_step(i.prompt, i.max_age, signed, remembered, now)
        .map_err(|e| e.redirected(&a.redirect_uri, a.state.as_deref(), issuer))?;
    let Some(session) = session else {
        return Ok(login_redirect(p, req, &q, i));
    };
    match step {
        Step::LogIn => Ok(login_redirect(p, req, &q, i)),
        Step::SelectAccount => {
            // "Continue" is this request without select_account; "another account" logs in.
            // A pushed request's prompt is the pushed one: "Continue" names it without
            // select_account, even when that leaves it empty (`rules::par::prompt`).
            let sent = match &a.pushed {
                Some(pu) => pu.prompt.as_deref(),
                None => q.get("prompt"),
            };
            let rest: Vec<&str> = sent
                .unwrap_or("")
                .split(' ')
                .filter(|v| !v.is_empty() && *v != "select_account")
                .collect();
            let rest = rest.join(" ");
            let go_on = match &a.pushed {
                Some(_) => again(&req.path, &q, Some(Some(rest.as_str())), None),
                None => again(&req.path, &q, Some((!rest.is_empty()).then_some(rest.as_str())), None),
            };
            let other = login_address(p, req, &q, i);
            Ok(select_account::render(&p.config().brand, &a.app, &session, &go_on, &other))
        }
        // An essential `acr` this session's log-in does not meet (`rules::acr`): one new
        // log-in, which may use a stronger method (a passkey); a fresh one that still does not
        // meet it, or `prompt=none`, ends in `access_denied` (`issue_code`).
        Step::Consent | Step::Proceed if !meets_acr(&a, &session) && !i.prompt.none && !fresh => {
            Ok(login_redirect(p, req, &q, i))
        }
        Step::Consent if !meets_acr(&a, &session) => issue_code(p, issuer, &a, &session).await,
        Step::Consent => consent_page(p, req, &q, &a, &session),
        Step::Proceed => issue_code(p, issuer, &a, &session).await,
    }
}

/// `POST /oauth/authorize`: the consent form's Allow or Deny, or (a form without `decision`
/// and `csrf`) an authorization request sent by POST, answered as the same request by GET.
pub async fn decide(p: &impl Platform, issuer: &str, req: &Request) -> Result<Response> {
    if req.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(Error::page(
            ErrorCode::UnsupportedMediaType,
            CANNOT,
            "Submit the consent form from this site.",
        ));
    }
    let f = Params::parse_form(&req.body).map_err(|e| Error::page(ErrorCode::InvalidRequest, CANNOT, e.description))?;
    if !f.contains("decision") && !f.contains("csrf") {
        return request(p, issuer, req, f).await;
    }
    let a = validate(p, issuer, &f).await?;
    if !cookies::csrf_ok(req, f.get("csrf")) {
        return Err(Error::page(
            ErrorCode::AccessDenied,
            CANNOT,
            "The form expired or came from another site. Start again from the application.",
        ));
    }
    let Some(session) = accounts::current_session(p, req).await? else {
        return Err(Error::page(
            ErrorCode::LoginRequired,
            CANNOT,
            "You are no longer signed in. Start again from the application.",
        ));
    };
    // The request names a person (`claims` sub) who is not the one signed in: no code for
    // this one, and nothing saved; the person logs in (as the one named, Core §5.5.1).
    let me = crate::oauth::subject::of(p.config(), &a.app, &session.user_id);
    if a.interaction.hint_sub.as_deref().is_some_and(|sub| sub != me) {
        return Ok(login_redirect(p, req, &f, &a.interaction));
    }
    match f.get("decision") {
        Some("allow") => {
            let cmd = user::SaveConsent {
                client_id: a.app.client_id.clone(),
                scopes: consent_record(&a),
            };
            p.call(&user::object(&session.user_id), cmd).await?;
            {
                use crate::objects::audit::{Event, EventType, Outcome};
                let who = format!("person:{}", session.user_id);
                p.record(Event::new(EventType::ConsentGiven, who, Outcome::Success)
                    .app(a.app.client_id.clone())
                    .person(session.user_id.clone()));
            }
            issue_code(p, issuer, &a, &session).await
        }
        Some("deny") => {
            // A denied pushed request is over too: it cannot be allowed from another tab.
            use_up(p, &a).await?;
            Err(Error::new(ErrorCode::AccessDenied, "the person denied access")
                .redirected(&a.redirect_uri, a.state.as_deref(), issuer))
        }
        _ => Err(Error::page(ErrorCode::InvalidRequest, CANNOT, "Choose Allow or Deny.")),
    }
}
