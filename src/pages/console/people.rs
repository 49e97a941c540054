//! The console's people of this tenant: the list (search by a part of the email, filter by
//! status, cursor paging over the people index: `admin::users::find`), a person's page (id,
//! email and whether it is verified, created, status, password, sessions, passkeys, second
//! factor, connected apps), and the actions: disable/enable, force a password reset, end every
//! session, delete (after a confirmation page). Every action is the `/admin/users` API's own
//! function (`admin::users`), with the signed-in operator as the audit actor (`operator:<id>`).
//!
//! The tenant-bound platform names every object, so a person of another organisation does not
//! exist here: their page and actions are 404, as any unknown id.

use super::{change, form, method, page, when};
use crate::accounts::operators::Session;
use crate::accounts::{self, manage, passkeys, two_factor};
use crate::admin::users;
use crate::error::{Error, Result};
use crate::http::params::{percent_encode, Params};
use crate::http::{Request, Response};
use crate::objects::account;
use crate::objects::people::{self, Person, Status};
use crate::objects::user::{self, Profile};
use crate::platform::Platform;
use crate::rules::operator_roles::{self, Action};
use maud::{html, Markup};

const PAGE_SIZE: usize = 50;
/// Longest search text (an email is at most 254 bytes).
const SEARCH_MAX: usize = 254;

/// `issuer`: this tenant's, for the back-channel logouts of ended sessions.
pub async fn route(
    p: &impl Platform,
    req: &Request,
    s: &Session,
    issuer: &str,
    rest: &[&str],
) -> Result<Response> {
    operator_roles::require(s.account.role, Action::ViewPeople)?;
    match rest {
        [] | [""] => {
            method(req, &["GET", "HEAD"])?;
            list(p, req, s).await
        }
        [id] => {
            method(req, &["GET", "HEAD"])?;
            let profile = users::profile_of(p, id).await?;
            let q = Params::from_query(req)?;
            person_page(p, s, &profile, q.get("done")).await
        }
        [id, "delete"] => {
            method(req, &["GET", "POST"])?;
            let profile = users::profile_of(p, id).await?;
            if req.method == "GET" {
                operator_roles::require(s.account.role, Action::ManagePeople)?;
                return Ok(confirm_page(p, s, &profile));
            }
            let f = form(req)?;
            change(req, s, &f, Action::ManagePeople)?;
            if f.get("confirm") != Some("yes") {
                return Err(Error::invalid_request("confirm the deletion on its page first"));
            }
            let jobs = users::remove(p, issuer, &actor(s), &profile).await?;
            Ok(Response::see_other("/admin/console/people?done=deleted")
                .no_store()
                .then(jobs))
        }
        [id, action @ ("disable" | "enable" | "reset-password" | "end-sessions")] => {
            method(req, &["POST"])?;
            let f = form(req)?;
            change(req, s, &f, Action::ManagePeople)?;
            let profile = users::profile_of(p, id).await?;
            let actor = actor(s);
            let (jobs, word) = match *action {
                "disable" => (
                    users::disable(p, issuer, &actor, &profile, true).await?,
                    "disabled",
                ),
                "enable" => (
                    users::disable(p, issuer, &actor, &profile, false).await?,
                    "enabled",
                ),
                "reset-password" => match users::force_reset(p, issuer, &actor, &profile).await? {
                    (jobs, true) => (jobs, "reset"),
                    (jobs, false) => (jobs, "reset-unsent"),
                },
                _ => (
                    users::end_all_sessions(p, issuer, &actor, &profile).await?,
                    "signed-out",
                ),
            };
            Ok(done(&profile.id, word).then(jobs))
        }
        _ => Err(Error::not_found("no such console page")),
    }
}

/// The audit actor of a console session.
pub fn actor(s: &Session) -> String {
    format!("operator:{}", s.account.id)
}

fn base(id: &str) -> String {
    format!("/admin/console/people/{}", percent_encode(id))
}

fn done(id: &str, what: &str) -> Response {
    Response::see_other(&format!("{}?done={what}", base(id))).no_store()
}

fn notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "disabled" => "The person is disabled: they cannot sign in, and their sessions and app grants have ended.",
        "enabled" => "The person is enabled again.",
        "reset" => "The password is reset: it no longer works, every session and app grant has ended, and a link to choose a new one was emailed. Passkeys and two-factor authentication remain.",
        "reset-unsent" => "The password is reset: it no longer works and every session and app grant has ended, but the email with a link to choose a new one could not be sent (see the log). The person can ask for one at the log-in page's \"Forgot your password?\". Passkeys and two-factor authentication remain.",
        "signed-out" => "Every session of the person has ended.",
        "deleted" => "The person is deleted.",
        _ => return None,
    })
}

fn status_badge(st: Status) -> Markup {
    match st {
        Status::Active => html! { span class="badge active" { "active" } },
        Status::Disabled => html! { span class="badge disabled" { "disabled" } },
    }
}

/// The list's filters, checked: `q` (a part of the email, at most 254 bytes), `status`
/// (`active`, `disabled` or empty), `cursor` (a user id this list gave). Empty fields are
/// absent (a GET form sends every field).
pub struct ListFilter {
    pub q: Option<String>,
    pub status: Option<Status>,
    pub cursor: Option<String>,
}

pub fn parse_filter(q: &Params) -> Result<ListFilter> {
    let get = |k: &str| q.get(k).map(str::trim).filter(|v| !v.is_empty());
    if let Some((k, _)) = q
        .iter()
        .find(|(k, _)| !["q", "status", "cursor", "done"].contains(k))
    {
        return Err(Error::invalid_request(format!(
            "unknown filter '{}': search with q (a part of the email) and status",
            k.chars().take(40).collect::<String>()
        )));
    }
    let search = match get("q") {
        Some(t) if t.len() > SEARCH_MAX => {
            return Err(Error::invalid_request(
                "the search is at most 254 bytes (an email's length)",
            ))
        }
        Some(t) => Some(accounts::normalise_email(t)),
        None => None,
    };
    let status = match get("status") {
        Some(w) => {
            Some(Status::parse(w).ok_or_else(|| Error::invalid_request("status is active or disabled"))?)
        }
        None => None,
    };
    let cursor = match get("cursor") {
        Some(c) => Some(
            users::check_id(c)
                .map_err(|_| {
                    Error::invalid_request(
                        "the cursor is not one this page gave; start again from the first page",
                    )
                })?
                .to_owned(),
        ),
        None => None,
    };
    Ok(ListFilter {
        q: search,
        status,
        cursor,
    })
}

async fn list(p: &impl Platform, req: &Request, s: &Session) -> Result<Response> {
    let q = match Params::from_query(req) {
        Ok(q) => q,
        Err(e) if e.status() == 400 => {
            return Ok(list_page(
                p,
                s,
                &Params::default(),
                &[],
                None,
                None,
                Some(&e.description),
            ))
        }
        Err(e) => return Err(e),
    };
    let done = q.get("done").map(str::to_owned);
    match parse_filter(&q) {
        Ok(f) => {
            let page = users::find(p, None, f.q.clone(), f.status, f.cursor.clone(), PAGE_SIZE).await?;
            Ok(list_page(
                p,
                s,
                &q,
                &page.people,
                page.next.as_deref(),
                done.as_deref(),
                None,
            ))
        }
        Err(e) if e.status() == 400 => Ok(list_page(p, s, &q, &[], None, None, Some(&e.description))),
        Err(e) => Err(e),
    }
}

fn list_page(
    p: &impl Platform,
    s: &Session,
    q: &Params,
    found: &[Person],
    next: Option<&str>,
    done: Option<&str>,
    error: Option<&str>,
) -> Response {
    // What the form shows again: the sent text, cut to what a field holds.
    let sent = |k: &str| -> String { q.get(k).unwrap_or("").chars().take(SEARCH_MAX).collect() };
    let next_link = next.map(|c| {
        let mut pairs = vec![format!("cursor={}", percent_encode(c))];
        for k in ["q", "status"] {
            if let Some(v) = q.get(k).filter(|v| !v.is_empty()) {
                pairs.push(format!("{k}={}", percent_encode(v)));
            }
        }
        format!("/admin/console/people?{}", pairs.join("&"))
    });
    let body = html! {
        div class="bar" { h1 class="grow" { "People" } }
        @if let Some(n) = notice(done) { p class="notice" role="status" { (n) } }
        @if let Some(e) = error { p class="error" role="alert" id="filter-error" { (e) } }
        form class="filters" method="get" action="/admin/console/people" role="search" {
            div { label for="f-q" { "Email" } input type="search" id="f-q" name="q" value=(sent("q")) placeholder="contains…" maxlength="254"; }
            div { label for="f-status" { "Status" }
                select id="f-status" name="status" {
                    option value="" { "any" }
                    @for st in ["active", "disabled"] { option value=(st) selected[q.get("status") == Some(st)] { (st) } }
                }
            }
            button type="submit" class="secondary" { "Search" }
            a href="/admin/console/people" { "Clear" }
        }
        @if found.is_empty() {
            @if error.is_none() { p class="empty" id="no-people" { "No person matches." } }
        } @else {
            table id="people" {
                thead { tr { th { "Email" } th { "User ID" } th { "Status" } } }
                tbody {
                    @for person in found {
                        tr {
                            td { a href=(base(&person.id)) { (person.email) } }
                            td { code { (person.id) } }
                            td { (status_badge(person.status)) }
                        }
                    }
                }
            }
        }
        @if let Some(link) = &next_link { p class="pager" { a href=(link) id="next-page" { "Next page →" } } }
        p class="hint" { "The search matches a part of the email (the people index holds emails, not names). People are listed by user ID." }
    };
    page(
        p,
        if error.is_some() { 400 } else { 200 },
        "People",
        Some(s),
        "People",
        body,
    )
}

/// What the person's page shows besides the profile, each from its own object.
struct Facts {
    disabled: bool,
    sessions: usize,
    passkeys: usize,
    two_factor: bool,
    /// `None`: no password account (another provider only); `Some(true)`: reset pending.
    reset_pending: Option<bool>,
    apps: Vec<user::Connected>,
}

async fn facts(p: &impl Platform, profile: &Profile) -> Result<Facts> {
    let disabled = p.call(&user::object(&profile.id), people::Disabled {}).await?;
    let sessions = accounts::sessions(p, &profile.id).await?.len();
    let passkeys = passkeys::list(p, &profile.id).await?.len();
    let two_factor = two_factor::status(p, &profile.id).await?.enrolled;
    let reset_pending = p
        .call(&account::object(&profile.email), account::Peek {})
        .await?
        .filter(|a| a.user_id == profile.id)
        .map(|a| a.password_hash.starts_with(users::UNUSABLE_PREFIX));
    let apps = manage::connected_apps(p, &profile.id).await?;
    Ok(Facts {
        disabled,
        sessions,
        passkeys,
        two_factor,
        reset_pending,
        apps,
    })
}

async fn person_page(
    p: &impl Platform,
    s: &Session,
    profile: &Profile,
    done: Option<&str>,
) -> Result<Response> {
    let f = facts(p, profile).await?;
    let can = operator_roles::allows(s.account.role, Action::ManagePeople);
    let at = base(&profile.id);
    let csrf = &s.record.csrf;
    let body = html! {
        div class="crumbs" { a href="/admin/console/people" { "People" } " / " (profile.email) }
        div class="bar" {
            h1 class="grow" id="person-email" { (profile.email) " " (status_badge(if f.disabled { Status::Disabled } else { Status::Active })) }
            a class="button secondary" href={ "/admin/console/audit?person=" (percent_encode(&profile.id)) } id="person-audit" { "Audit events" }
        }
        @if let Some(n) = notice(done) { p class="notice" role="status" { (n) } }
        h2 { "Details" }
        dl class="props" id="details" {
            dt { "User ID" } dd { code id="user-id" { (profile.id) } }
            dt { "Email" } dd { (profile.email) " "
                @if profile.email_verified { span class="badge active" { "verified" } } @else { span class="badge warn" { "not verified" } } }
            dt { "Name" } dd { @if profile.name.is_empty() { span class="muted" { "none" } } @else { (profile.name) } }
            dt { "Created" } dd { (when(profile.created_at)) }
            dt { "Status" } dd id="status" { @if f.disabled { "disabled: cannot sign in" } @else { "active" } }
            dt { "Password" } dd id="password" {
                @match f.reset_pending {
                    None => span class="muted" { "none (signs in with another provider)" },
                    Some(true) => span class="badge warn" { "reset: waiting for a new one" },
                    Some(false) => { "set" },
                }
            }
            dt { "Sessions" } dd id="sessions" { (f.sessions) " live" }
            dt { "Passkeys" } dd id="passkeys" { @if f.passkeys == 0 { span class="muted" { "none" } } @else { (f.passkeys) } }
            dt { "Two-factor" } dd id="two-factor" { @if f.two_factor { span class="badge info" { "authenticator app" } } @else { span class="muted" { "off" } } }
        }
        h2 { "Connected apps" }
        @if f.apps.is_empty() { p class="muted" id="no-apps" { "No app holds a grant or a remembered consent." } }
        @else {
            table id="connected" {
                thead { tr { th { "Client ID" } th { "Scopes" } th { "Grants" } th { "Since" } } }
                tbody {
                    @for a in &f.apps {
                        tr {
                            td { a href={ "/admin/console/apps/" (percent_encode(&a.client_id)) } { code { (a.client_id) } } }
                            td { (a.scopes.join(" ")) }
                            td { (a.grants) @if a.consented { " " span class="badge" { "consent remembered" } } }
                            td class="muted" { @if let Some(t) = a.since { (when(t)) } }
                        }
                    }
                }
            }
        }
        @if can {
            h2 { "Actions" }
            div class="actions" id="person-actions" {
                form method="post" action={ (at) (if f.disabled { "/enable" } else { "/disable" }) } {
                    input type="hidden" name="csrf" value=(csrf);
                    @if f.disabled { button type="submit" class="secondary" id="enable" { "Enable" } }
                    @else { button type="submit" class="secondary" id="disable" { "Disable" } }
                }
                @if f.reset_pending.is_some() {
                    form method="post" action={ (at) "/reset-password" } {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" class="secondary" id="reset-password" { "Force password reset" }
                    }
                }
                form method="post" action={ (at) "/end-sessions" } {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" class="secondary" id="end-sessions" { "End all sessions" }
                }
                a class="button secondary danger" href={ (at) "/delete" } id="delete" { "Delete…" }
            }
            p class="hint" { "A forced reset makes the password stop working, ends every session and app grant, and emails a link to choose a new one. Passkeys and two-factor authentication remain (as Keycloak's credential reset leaves the other credentials), except on an email never verified: the link then removes them, as every reset does." }
        }
    };
    Ok(page(p, 200, &profile.email, Some(s), "People", body))
}

fn confirm_page(p: &impl Platform, s: &Session, profile: &Profile) -> Response {
    let at = base(&profile.id);
    let body = html! {
        div class="crumbs" { a href="/admin/console/people" { "People" } " / " a href=(at) { (profile.email) } " / delete" }
        h1 { "Delete " (profile.email) "?" }
        p class="error" role="alert" { "This erases the person's profile, consents, passkeys and second factor, ends every session and app grant, and frees the email to sign up again. It cannot be undone." }
        form method="post" action={ (at) "/delete" } id="confirm-delete" {
            input type="hidden" name="csrf" value=(s.record.csrf);
            input type="hidden" name="confirm" value="yes";
            div class="actions" {
                button type="submit" class="danger" id="confirm" { "Delete the person" }
                a class="button secondary" href=(at) { "Cancel" }
            }
        }
    };
    page(p, 200, "Delete a person", Some(s), "People", body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_filters_are_checked() {
        let q = |s: &str| Params::parse_form(s.as_bytes()).and_then(|p| parse_filter(&p));
        let f = q("q=ANN%40&status=disabled&cursor=u1").unwrap();
        assert_eq!(
            (f.q.as_deref(), f.status, f.cursor.as_deref()),
            (Some("ann@"), Some(Status::Disabled), Some("u1"))
        );
        let f = q("q=&status=&cursor=").unwrap();
        assert!(f.q.is_none() && f.status.is_none() && f.cursor.is_none());
        for bad in ["status=gone", "cursor=a%20b", "cursor=bot_x", "sort=email"] {
            assert_eq!(q(bad).err().map(|e| e.status()), Some(400), "{bad}");
        }
        assert!(q(&format!("q={}", "a".repeat(255))).is_err());
    }
}
