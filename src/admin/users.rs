//! `/admin/users`: the operator's view of the tenant's people (issue 19). The listing reads the
//! tenant's people index (`objects::people`, the members the people quota counts); every action
//! is on one person by user id, and is an audit event.
//!
//! | route | what |
//! |---|---|
//! | `GET /admin/users?email=&status=&cursor=&limit=` | people by user id, filtered by email prefix and status |
//! | `GET /admin/users/{id}` | one person |
//! | `POST /admin/users/{id}/disable`, `/enable` | a disabled person starts no session and gets no grant; their sessions and grants end |
//! | `POST /admin/users/{id}/reset-password` | the password stops working, sessions and grants end, a reset link is emailed |
//! | `POST /admin/users/{id}/end-sessions` | every session ends (back-channel logout after the response) |
//! | `DELETE /admin/users/{id}` | what the account page's deletion does (without the password) |
//!
//! An app's bot user (`bot_<client_id>`) is the app's: these routes refuse it with a clear
//! error rather than a 404.

use super::page_limit;
use crate::accounts::{self, manage};
use crate::error::{Error, ErrorCode, Result};
use crate::http::params::Params;
use crate::http::{Request, Response};
use crate::objects::account;
use crate::objects::audit::{Event, EventType, Outcome};
use crate::objects::people::{self, Status};
use crate::objects::quota;
use crate::objects::user::{self, Profile};
use crate::platform::{Deferred, Platform};

/// The start of the password hash of an account whose password an operator made unusable
/// until it is reset: `!reset-required:` and 24 random bytes (not an argon2id string, so
/// `password::verify` never accepts anything). Random per reset, so each forced reset has its
/// own password tag: only the link it mailed works, never an earlier one.
pub const UNUSABLE_PREFIX: &str = "!reset-required:";

/// The audit actor of the `/admin` API's principal: `admin-token` for a bearer operator token
/// (`accounts::operators::Principal` says `token`), else `operator:<id>` (a console session).
pub fn actor_of(principal_actor: &str) -> String {
    match principal_actor {
        "token" | "" => "admin-token".to_owned(),
        id => format!("operator:{id}"),
    }
}

/// Checks a user id from the path: what `random_token` makes (base64url), at most 128 bytes; a
/// bot user's id is refused with the way to manage it.
pub fn check_id(id: &str) -> Result<&str> {
    if id.starts_with("bot_") {
        return Err(Error::invalid_request(
            "this is an app's bot user: it belongs to its app; disable or remove the app (/admin/apps/{client_id}) instead",
        ));
    }
    if id.is_empty()
        || id.len() > 128
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::invalid_request("not a user id"));
    }
    Ok(id)
}

/// What a listing asks: email prefix, status, the id to go on after, page size.
pub type ListQuery = (Option<String>, Option<Status>, Option<String>, usize);

/// The query of the listing, checked: unknown parameters, an unknown status and an email prefix
/// over 254 bytes are refused.
pub fn parse_list(q: &Params) -> Result<ListQuery> {
    const KNOWN: [&str; 4] = ["email", "status", "cursor", "limit"];
    if let Some((k, _)) = q.iter().find(|(k, _)| !KNOWN.contains(k)) {
        return Err(Error::invalid_request(format!(
            "unknown parameter '{}'; the filters are email, status, cursor, limit",
            k.chars().take(40).collect::<String>()
        )));
    }
    let email = match q.get("email") {
        Some(e) if e.len() > 254 => {
            return Err(Error::invalid_request("email is a prefix of at most 254 bytes"))
        }
        Some(e) => Some(accounts::normalise_email(e)),
        None => None,
    };
    let status = match q.get("status") {
        Some(s) => {
            Some(Status::parse(s).ok_or_else(|| Error::invalid_request("status is active or disabled"))?)
        }
        None if q.sent_empty("status") => return Err(Error::invalid_request("status is active or disabled")),
        None => None,
    };
    let cursor = match q.get("cursor") {
        Some(c) => Some(
            check_id(c)
                .map_err(|_| Error::invalid_request("the cursor is not one this server gave"))?
                .to_owned(),
        ),
        None if q.sent_empty("cursor") => return Err(Error::invalid_request("cursor must not be empty")),
        None => None,
    };
    Ok((email, status, cursor, page_limit(q)?))
}

/// `GET /admin/users`.
pub async fn list(p: &impl Platform, req: &Request) -> Result<Response> {
    let (email_prefix, status, after, limit) = parse_list(&Params::from_query(req)?)?;
    let page = find(p, email_prefix, None, status, after, limit).await?;
    let mut body = serde_json::json!({ "users": page.people });
    if let Some(n) = page.next {
        crate::util::set(&mut body, "next_cursor", n);
    }
    Ok(Response::json(200, &body).no_store())
}

/// One page of the people index (the API's listing and the console's search).
pub async fn find(
    p: &impl Platform,
    email_prefix: Option<String>,
    email_contains: Option<String>,
    status: Option<Status>,
    after: Option<String>,
    limit: usize,
) -> Result<people::PeoplePage> {
    let cmd = people::List {
        after,
        limit,
        email_prefix,
        status,
        email_contains,
    };
    p.call(&quota::object(), cmd).await
}

/// The person of a user id from the path (checked); 404 when this tenant has no such person.
pub async fn profile_of(p: &impl Platform, id: &str) -> Result<Profile> {
    accounts::profile(p, check_id(id)?)
        .await?
        .ok_or_else(|| Error::not_found("no such person"))
}

fn view(profile: &Profile, disabled: bool, sessions: usize) -> serde_json::Value {
    serde_json::json!({
        "id": profile.id,
        "email": profile.email,
        "name": profile.name,
        "created_at": profile.created_at,
        "email_verified": profile.email_verified,
        "status": if disabled { "disabled" } else { "active" },
        "sessions": sessions,
    })
}

async fn show(p: &impl Platform, profile: &Profile) -> Result<Response> {
    let disabled = p.call(&user::object(&profile.id), people::Disabled {}).await?;
    let sessions = accounts::sessions(p, &profile.id).await?.len();
    Ok(Response::json(200, &view(profile, disabled, sessions)).no_store())
}

/// `GET /admin/users/{id}`.
pub async fn get(p: &impl Platform, id: &str) -> Result<Response> {
    let profile = profile_of(p, id).await?;
    show(p, &profile).await
}

/// Ends every grant and every session of the person; answers the back-channel notifications.
async fn end_access(p: &impl Platform, issuer: &str, user_id: &str) -> Result<Vec<Deferred>> {
    manage::end_every_grant(p, user_id).await?;
    crate::pages::logout::ended_everywhere(p, issuer, user_id, None).await
}

fn event(kind: EventType, actor: &str, user_id: &str) -> Event {
    Event::new(kind, actor, Outcome::Success).person(user_id)
}

/// `POST /admin/users/{id}/disable` and `/enable`. `actor` is the audit actor ([`actor_of`]).
pub async fn set_disabled(
    p: &impl Platform,
    issuer: &str,
    actor: &str,
    id: &str,
    disabled: bool,
) -> Result<Response> {
    let profile = profile_of(p, id).await?;
    let jobs = disable(p, issuer, actor, &profile, disabled).await?;
    Ok(show(p, &profile).await?.then(jobs))
}

/// Disables (or enables) a person: refused first (no new session or grant from here on), then
/// what was given ends, then the listing's status. Answers the back-channel notifications.
pub async fn disable(
    p: &impl Platform,
    issuer: &str,
    actor: &str,
    profile: &Profile,
    disabled: bool,
) -> Result<Vec<Deferred>> {
    p.call(&user::object(&profile.id), people::SetDisabled { disabled })
        .await?;
    let status = if disabled {
        Status::Disabled
    } else {
        Status::Active
    };
    // What was given ends before anything else can fail: a person the flag now refuses keeps
    // no session or refresh token.
    let jobs = if disabled {
        end_access(p, issuer, &profile.id).await?
    } else {
        Vec::new()
    };
    // The listing's status. A person who signed up before the people index counted everyone is
    // not in it (not found): the flag above is what refuses them, so that is no failure.
    let listed = p
        .call(
            &quota::object(),
            people::SetStatus {
                member: profile.id.clone(),
                status,
            },
        )
        .await;
    match listed {
        Err(e) if e.code != crate::error::ErrorCode::NotFound => return Err(e),
        _ => {}
    }
    let kind = if disabled {
        EventType::UserDisable
    } else {
        EventType::UserEnable
    };
    p.record(event(kind, actor, &profile.id));
    Ok(jobs)
}

/// `POST /admin/users/{id}/end-sessions`.
pub async fn end_sessions(p: &impl Platform, issuer: &str, actor: &str, id: &str) -> Result<Response> {
    let profile = profile_of(p, id).await?;
    let jobs = end_all_sessions(p, issuer, actor, &profile).await?;
    Ok(show(p, &profile).await?.then(jobs))
}

/// Ends every session of the person (their grants stay).
pub async fn end_all_sessions(
    p: &impl Platform,
    issuer: &str,
    actor: &str,
    profile: &Profile,
) -> Result<Vec<Deferred>> {
    let live = accounts::sessions(p, &profile.id).await?.len();
    let jobs = crate::pages::logout::ended_everywhere(p, issuer, &profile.id, None).await?;
    p.record(event(EventType::UserSessionsEnd, actor, &profile.id).detail(format!("{live} sessions")));
    Ok(jobs)
}

/// `POST /admin/users/{id}/reset-password`: [`force_reset`]. Answers 202: the person must
/// follow the link.
pub async fn reset_password(p: &impl Platform, issuer: &str, actor: &str, id: &str) -> Result<Response> {
    let profile = profile_of(p, id).await?;
    let (jobs, emailed) = force_reset(p, issuer, actor, &profile).await?;
    let disabled = p.call(&user::object(&profile.id), people::Disabled {}).await?;
    let mut body = view(&profile, disabled, 0);
    crate::util::set(&mut body, "reset_email_sent", emailed);
    Ok(Response::json(202, &body).no_store().then(jobs))
}

/// A forced password reset, as Keycloak's "reset credentials" does it for the password alone:
/// the password stops working at once (an unusable hash of its own, [`UNUSABLE_PREFIX`]), a
/// log-in halfway through its second step no longer completes (`people::MarkReset`), every
/// session and grant ends, and a reset link goes to the person's email
/// (`recovery::after_forced_reset`, saying so). Passkeys and the authenticator app stay: they
/// are other credentials, removed on their own (the person's account page). Answers the
/// back-channel logouts to send and whether the email went: the reset holds whatever the mail
/// transport does (an email not sent is logged; the person can still ask at `/forgot`).
pub async fn force_reset(
    p: &impl Platform,
    issuer: &str,
    actor: &str,
    profile: &Profile,
) -> Result<(Vec<Deferred>, bool)> {
    let marker = format!("{UNUSABLE_PREFIX}{}", crate::platform::random_token(p, 24)?);
    let cmd = account::SetPassword {
        user_id: profile.id.clone(),
        expect_tag: None,
        password_hash: marker,
        verified: false,
    };
    p.call(&account::object(&profile.email), cmd)
        .await
        .map_err(|e| match e.code {
            ErrorCode::NotFound => Error::not_found(
                "this person has no account to reset (signed up with another provider only?)",
            ),
            _ => e,
        })?;
    p.call(&user::object(&profile.id), people::MarkReset { at: p.now() })
        .await?;
    let jobs = end_access(p, issuer, &profile.id).await?;
    p.record(event(EventType::UserPasswordReset, actor, &profile.id));
    let emailed = match crate::accounts::recovery::after_forced_reset(p, issuer, &profile.email).await {
        Ok(()) => true,
        Err(e) => {
            p.audit(&serde_json::json!({"audit": "reset_email_not_sent", "user": profile.id, "error": e.code.as_str()}));
            false
        }
    };
    Ok((jobs, emailed))
}

/// `DELETE /admin/users/{id}`: [`remove`]. 204.
pub async fn delete(p: &impl Platform, issuer: &str, actor: &str, id: &str) -> Result<Response> {
    let profile = profile_of(p, id).await?;
    let jobs = remove(p, issuer, actor, &profile).await?;
    Ok(Response::empty(204).then(jobs))
}

/// What the account page's deletion does — every grant and session ends, the profile,
/// consents, passkeys and second factor are erased, the people quota gets the place back and
/// the email can sign up again.
pub async fn remove(
    p: &impl Platform,
    issuer: &str,
    actor: &str,
    profile: &Profile,
) -> Result<Vec<Deferred>> {
    let mut jobs = end_access(p, issuer, &profile.id).await?;
    p.call(
        &quota::object(),
        people::SetStatus {
            member: profile.id.clone(),
            status: Status::Active,
        },
    )
    .await
    .ok();
    manage::remove(p, profile).await?;
    // A log-in that raced the removal.
    jobs.extend(crate::pages::logout::ended_everywhere(p, issuer, &profile.id, None).await?);
    p.record(event(EventType::UserDelete, actor, &profile.id));
    Ok(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_listing_filters_are_checked() {
        assert!(check_id("abcDEF012-_").is_ok());
        for bad in ["", "a b", "a/b", "a%2F", "é", "bot_client", &"a".repeat(129)] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
        assert!(check_id("bot_x").unwrap_err().description.contains("bot user"));
        let q = |s: &str| Params::parse_form(s.as_bytes()).and_then(|p| parse_list(&p));
        let (e, s, c, l) = q("email=ANN&status=disabled&cursor=u1&limit=3").unwrap();
        assert_eq!(
            (e.as_deref(), s, c.as_deref(), l),
            (Some("ann"), Some(Status::Disabled), Some("u1"), 3)
        );
        for bad in [
            "status=gone",
            "status=",
            "cursor=",
            "cursor=a%20b",
            "sort=email",
            "limit=0",
        ] {
            assert!(q(bad).is_err(), "{bad}");
        }
        assert!(q(&format!("email={}", "a".repeat(255))).is_err());
    }
}
