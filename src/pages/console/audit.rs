//! The console's audit events of this tenant: filters by type, app (client id), person (user
//! id) and a UTC day/time range, newest first, cursor paging — the `/admin/audit` API's own
//! query (`admin::audit::parse_query`, `admin::audit::find`), so the filters have its rules.
//! Each row: time, type, actor (an operator's id shown with their name), target (app, person,
//! organisation), client address, outcome and detail. A filter that is not one (an unknown
//! type, a malformed id, time or cursor, an oversized field) shows the page again with what was
//! wrong (400), never an error of the server.

use super::{method, page, when};
use crate::accounts::operators::{self as ops, Session};
use crate::admin::audit::{self as admin_audit, Cursor};
use crate::error::{Error, Result};
use crate::http::params::{percent_encode, Params};
use crate::http::{Request, Response};
use crate::objects::audit::{Event, EventType, Outcome};
use crate::platform::Platform;
use crate::rules::operator_roles::{self, Action};
use maud::{html, Markup};

const PAGE_SIZE: usize = 50;
/// The console's filter fields.
const FIELDS: [&str; 6] = ["type", "app", "person", "from", "to", "cursor"];

/// Every event type, for the filter's list.
const TYPES: [EventType; 36] = [
    EventType::AppCreate,
    EventType::AppUpdate,
    EventType::AppDelete,
    EventType::AppSecretRegenerate,
    EventType::AppKeyAdd,
    EventType::AppKeyRemove,
    EventType::AppRegister,
    EventType::OrgCreate,
    EventType::OrgUpdate,
    EventType::OrgKeysRotate,
    EventType::OrgOperatorAdd,
    EventType::OrgOperatorRemove,
    EventType::OrgDomainAdd,
    EventType::OrgDomainRemove,
    EventType::OrgSuspend,
    EventType::OrgResume,
    EventType::OrgDelete,
    EventType::OrgErase,
    EventType::ConsentGiven,
    EventType::ConsentWithdrawn,
    EventType::TokenRevoke,
    EventType::LoginLimited,
    EventType::RefreshReuse,
    EventType::CodeReplay,
    EventType::PasswordReset,
    EventType::PasswordChange,
    EventType::TwoFactorEnable,
    EventType::TwoFactorDisable,
    EventType::TwoFactorRecoveryRegenerate,
    EventType::SessionEnd,
    EventType::AccountDelete,
    EventType::UserDisable,
    EventType::UserEnable,
    EventType::UserDelete,
    EventType::UserPasswordReset,
    EventType::UserSessionsEnd,
];

pub async fn route(p: &impl Platform, req: &Request, s: &Session, rest: &[&str]) -> Result<Response> {
    operator_roles::require(s.account.role, Action::ViewAudit)?;
    match rest {
        [] | [""] => {
            method(req, &["GET", "HEAD"])?;
            let q = match Params::from_query(req) {
                Ok(q) => q,
                Err(e) if e.status() == 400 => {
                    return Ok(audit_page(
                        p,
                        s,
                        &Params::default(),
                        &[],
                        None,
                        &[],
                        Some(&e.description),
                    ))
                }
                Err(e) => return Err(e),
            };
            match query_of(&q, p.now(), admin_audit::retention_s(p)) {
                Ok(query) => {
                    let (events, next) = admin_audit::find(p, &query).await?;
                    let names = operator_names(p).await?;
                    Ok(audit_page(p, s, &q, &events, next.as_ref(), &names, None))
                }
                Err(e) if e.status() == 400 => Ok(audit_page(p, s, &q, &[], None, &[], Some(&e.description))),
                Err(e) => Err(e),
            }
        }
        _ => Err(Error::not_found("no such console page")),
    }
}

/// The tenant's operators (id, name), to show who an `operator:<id>` actor is.
async fn operator_names(p: &impl Platform) -> Result<Vec<(String, String)>> {
    Ok(ops::list(p).await?.into_iter().map(|a| (a.id, a.name)).collect())
}

/// A UTC time as the form gives it: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` (an `<input
/// type="datetime-local">`), with `:SS` or a space instead of `T`; or unix seconds. A day or a
/// minute is its first second, or with `end` its last. `None` for anything else.
pub fn parse_time(s: &str, end: bool) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    let (date, time) = match s.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let num = |t: &str, len: usize| -> Option<i64> {
        (t.len() == len && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let mut d = date.split('-');
    let (y, m, day) = (num(d.next()?, 4)?, num(d.next()?, 2)?, num(d.next()?, 2)?);
    if d.next().is_some() || !(1..=12).contains(&m) || !(1..=days_in(y, m)).contains(&day) {
        return None;
    }
    let (secs, span) = match time {
        None => (0, 86_399),
        Some(t) => {
            let mut parts = t.split(':');
            let h = num(parts.next()?, 2)?;
            let min = num(parts.next()?, 2)?;
            let (sec, span) = match parts.next() {
                Some(x) => (num(x, 2)?, 0),
                None => (0, 59),
            };
            if parts.next().is_some() || h > 23 || min > 59 || sec > 59 {
                return None;
            }
            (h * 3600 + min * 60 + sec, span)
        }
    };
    let t = days_from_civil(y, m, day) * 86_400 + secs;
    Some(if end { t + span } else { t })
}

fn days_in(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's days-from-civil (the inverse of `util::rfc3339`'s).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The console's filters as the API's query (`admin::audit::parse_query`: the same checks):
/// empty fields are absent, `from`/`to` are UTC days or times ([`parse_time`]), 50 a page.
pub fn query_of(q: &Params, now: i64, keep: i64) -> Result<admin_audit::Query> {
    if let Some((k, _)) = q.iter().find(|(k, _)| !FIELDS.contains(k)) {
        return Err(Error::invalid_request(format!(
            "unknown filter '{}': the filters are type, app, person, from and to",
            k.chars().take(40).collect::<String>()
        )));
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    for k in ["type", "app", "person", "cursor"] {
        if let Some(v) = q.get(k).map(str::trim).filter(|v| !v.is_empty()) {
            if v.len() > 1100 {
                return Err(Error::invalid_request(format!("{k} is too long")));
            }
            pairs.push((k.to_owned(), v.to_owned()));
        }
    }
    for (k, api, end) in [("from", "since", false), ("to", "until", true)] {
        if let Some(v) = q.get(k).filter(|v| !v.trim().is_empty()) {
            let t = parse_time(v, end).ok_or_else(|| {
                Error::invalid_request(format!(
                    "{k} must be a UTC day (2026-12-04) or time (2026-12-04T09:30)"
                ))
            })?;
            pairs.push((api.to_owned(), t.to_string()));
        }
    }
    pairs.push(("limit".to_owned(), PAGE_SIZE.to_string()));
    admin_audit::parse_query(&Params::from_pairs(pairs)?, now, keep)
}

fn outcome_badge(o: Outcome) -> Markup {
    match o {
        Outcome::Success => html! { span class="badge active" { "success" } },
        Outcome::Refused => html! { span class="badge warn" { "refused" } },
    }
}

fn actor_cell(actor: &str, names: &[(String, String)]) -> Markup {
    if let Some(id) = actor.strip_prefix("operator:") {
        let name = names.iter().find(|(i, _)| i == id).map(|(_, n)| n.as_str());
        return html! { @if let Some(n) = name { (n) " " } span class="muted" { code { (actor) } } };
    }
    if let Some(id) = actor.strip_prefix("person:") {
        return html! { a href={ "/admin/console/people/" (percent_encode(id)) } { code { (actor) } } };
    }
    html! { code { (actor) } }
}

fn target_cell(e: &Event) -> Markup {
    html! {
        @if let Some(a) = &e.app { div { "app " a href={ "/admin/console/apps/" (percent_encode(a)) } { code { (a) } } } }
        @if let Some(u) = &e.person { div { "person " a href={ "/admin/console/people/" (percent_encode(u)) } { code { (u) } } } }
        @if let Some(o) = &e.org { div { "org " code { (o) } } }
    }
}

fn audit_page(
    p: &impl Platform,
    s: &Session,
    q: &Params,
    events: &[Event],
    next: Option<&Cursor>,
    names: &[(String, String)],
    error: Option<&str>,
) -> Response {
    // What the form shows again: the sent text, cut to what a field holds.
    let sent = |k: &str| -> String { q.get(k).unwrap_or("").chars().take(128).collect() };
    let next_link = next.map(|c| {
        let mut pairs = vec![format!("cursor={}", percent_encode(&c.encode()))];
        for k in ["type", "app", "person", "from", "to"] {
            if let Some(v) = q.get(k).filter(|v| !v.is_empty()) {
                pairs.push(format!("{k}={}", percent_encode(v)));
            }
        }
        format!("/admin/console/audit?{}", pairs.join("&"))
    });
    let body = html! {
        div class="bar" { h1 class="grow" { "Audit" } }
        @if let Some(e) = error { p class="error" role="alert" id="filter-error" { (e) } }
        form class="filters" method="get" action="/admin/console/audit" role="search" {
            div { label for="f-type" { "Type" }
                select id="f-type" name="type" {
                    option value="" { "any" }
                    @for t in TYPES { @let w = t.as_str(); option value=(w) selected[q.get("type") == Some(w.as_str())] { (w) } }
                }
            }
            div { label for="f-app" { "App" } input type="text" id="f-app" name="app" value=(sent("app")) placeholder="client ID" maxlength="128" size="14"; }
            div { label for="f-person" { "Person" } input type="text" id="f-person" name="person" value=(sent("person")) placeholder="user ID" maxlength="128" size="14"; }
            div { label for="f-from" { "From (UTC)" } input type="text" id="f-from" name="from" value=(sent("from")) placeholder="YYYY-MM-DD" title="a UTC day, or a time as 2026-12-04T09:30" maxlength="19" size="14"; }
            div { label for="f-to" { "To (UTC)" } input type="text" id="f-to" name="to" value=(sent("to")) placeholder="YYYY-MM-DD" title="a UTC day, or a time as 2026-12-04T17:00" maxlength="19" size="14"; }
            button type="submit" class="secondary" { "Filter" }
            a href="/admin/console/audit" { "Clear" }
        }
        @if events.is_empty() {
            @if error.is_none() { p class="empty" id="no-events" { "No event matches." } }
        } @else {
            table id="events" {
                thead { tr { th { "Time (UTC)" } th { "Type" } th { "Actor" } th { "Target" } th { "Address" } th { "Outcome" } } }
                tbody {
                    @for e in events {
                        tr {
                            td class="muted" title=(crate::util::rfc3339(e.at)) { (when(e.at)) }
                            td { code { (e.kind.as_str()) } @if let Some(d) = &e.detail { div class="hint" { (d) } } }
                            td { (actor_cell(&e.actor, names)) }
                            td { (target_cell(e)) }
                            td { @if let Some(a) = &e.address { code { (a) } } @else { span class="muted" { "—" } } }
                            td { (outcome_badge(e.outcome)) }
                        }
                    }
                }
            }
        }
        @if let Some(link) = &next_link { p class="pager" { a href=(link) id="next-page" { "Next page →" } } }
        p class="hint" { "Newest first. Events are kept for " (p.config().audit_retention_days) " days." }
    };
    page(
        p,
        if error.is_some() { 400 } else { 200 },
        "Audit",
        Some(s),
        "Audit",
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_days_or_minutes_and_nothing_else() {
        assert_eq!(parse_time("1970-01-01", false), Some(0));
        assert_eq!(parse_time("1970-01-01", true), Some(86_399));
        assert_eq!(parse_time("2026-12-04T09:30", false), Some(1_796_376_600));
        assert_eq!(parse_time("2026-12-04T09:30", true), Some(1_796_376_659));
        assert_eq!(parse_time("2026-12-04 09:30:15", true), Some(1_796_376_615));
        assert_eq!(
            parse_time("2024-02-29", false)
                .map(crate::util::rfc3339)
                .as_deref(),
            Some("2024-02-29T00:00:00Z")
        );
        assert_eq!(parse_time("1796376600", false), Some(1_796_376_600));
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-02-30",
            "2025-02-29",
            "2026-1-01",
            "2026-12-04T25:00",
            "2026-12-04T09",
            "2026-12-04T09:30:00:00",
            "2026-12-04Z",
            "١٢٣٤-١٢-٠٤",
            &"9".repeat(20),
        ] {
            assert_eq!(parse_time(bad, false), None, "{bad}");
        }
    }

    #[test]
    fn the_consoles_filters_become_the_apis_query() {
        let q =
            |s: &str| Params::parse_form(s.as_bytes()).and_then(|p| query_of(&p, 1_800_000_000, 90 * 86_400));
        let f = q("type=user.disable&app=&person=u1&from=2026-12-04&to=2026-12-04&cursor=").unwrap();
        assert_eq!(f.filter.kind, Some(EventType::UserDisable));
        assert_eq!(
            (f.filter.app.as_deref(), f.filter.person.as_deref()),
            (None, Some("u1"))
        );
        assert_eq!(
            (f.filter.since, f.filter.until - f.filter.since, f.limit),
            (1_796_342_400, 86_399, 50)
        );
        for bad in [
            "type=nope",
            "from=tomorrow",
            "person=a%20b",
            "cursor=x",
            "colour=red",
            "limit=5",
        ] {
            assert_eq!(q(bad).err().map(|e| e.status()), Some(400), "{bad}");
        }
        assert!(q(&format!("app={}", "a".repeat(5000))).is_err());
        assert_eq!(
            TYPES.len(),
            TYPES
                .iter()
                .map(|t| t.as_str())
                .collect::<std::collections::HashSet<_>>()
                .len()
        );
    }
}
