//! Audit events as data (issue 19): what a request recorded becomes jobs stored after the
//! response ([`jobs`]), and `GET /admin/audit` reads them back ([`list`]) — per tenant, since
//! the day objects are the tenant's (`platform::tenant::Scoped` names them).
//!
//! A query walks the tenant's days newest first (`objects::audit::Days` lists the days that
//! have events), at most [`DAYS_PER_PAGE`] day objects per request; the cursor says which day
//! and which key to go on after, so a page is a bounded number of object calls however long
//! the range.

use super::page_limit;
use crate::error::{Error, Result};
use crate::http::params::Params;
use crate::http::{Request, Response};
use crate::model::Tenant;
use crate::objects::audit::{self, Event, EventType, Filter, Outcome};
use crate::platform::deferred::AuditJob;
use crate::platform::{random_token, Platform};
use crate::util::b64url;

/// Day objects one page reads at most (each is one object call).
pub const DAYS_PER_PAGE: usize = 8;

/// Seconds in the retention (`AUDIT_RETENTION_DAYS`).
pub fn retention_s(p: &impl Platform) -> i64 {
    (p.config().audit_retention_days as i64).saturating_mul(86_400)
}

/// The events a request recorded, completed (id, time, the request's client address and id,
/// the organisation) as jobs to store once the response is sent.
pub fn jobs(p: &impl Platform, tenant: &Tenant, req: &Request, events: Vec<Event>) -> Vec<AuditJob> {
    let now = p.now();
    let keep = retention_s(p);
    let oldest_day = audit::day_of(now.saturating_sub(keep));
    events
        .into_iter()
        .filter_map(|mut e| {
            // No id (a broken generator): the event was logged already; it is not stored.
            e.id = random_token(p, 12).ok()?;
            if e.at == 0 {
                e.at = now;
            }
            if e.address.is_none() && !req.remote_addr.is_empty() {
                e.address = Some(req.remote_addr.chars().take(64).collect());
            }
            if e.request_id.is_none() {
                e.request_id = req.header("x-request-id").map(|r| r.chars().take(64).collect());
            }
            if let (None, Tenant::Org(label)) = (&e.org, tenant) {
                e.org = Some(label.clone());
            }
            Some(AuditJob {
                tenant: tenant.clone(),
                keep_until: e.at.saturating_add(keep),
                oldest_day,
                event: e,
            })
        })
        .collect()
}

/// A query's cursor: the day to go on in, and the key after which (none: the day's start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub day: i64,
    pub after: Option<String>,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let key = self
            .after
            .as_deref()
            .map(|k| b64url(k.as_bytes()))
            .unwrap_or_default();
        format!("{}.{key}", self.day)
    }
    pub fn decode(s: &str) -> Result<Cursor> {
        let bad = || Error::invalid_request("the cursor is not one this server gave");
        let (day, key) = s.split_once('.').ok_or_else(bad)?;
        if day.is_empty() || day.len() > 8 || !day.bytes().all(|b| b.is_ascii_digit()) || key.len() > 1024 {
            return Err(bad());
        }
        let day = day.parse::<i64>().map_err(|_| bad())?;
        let after = if key.is_empty() {
            None
        } else {
            let bytes = crate::util::b64url_decode(key).ok_or_else(bad)?;
            Some(String::from_utf8(bytes).map_err(|_| bad())?)
        };
        Ok(Cursor { day, after })
    }
}

/// The filters of `GET /admin/audit`, checked: unknown parameters, an unknown type, times that
/// are not unix seconds and ids that cannot be ids are refused (400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub filter: Filter,
    pub cursor: Option<Cursor>,
    pub limit: usize,
}

const PARAMS: [&str; 7] = ["app", "person", "type", "since", "until", "cursor", "limit"];

fn id_param(q: &Params, name: &str) -> Result<Option<String>> {
    if q.sent_empty(name) {
        return Err(Error::invalid_request(format!("{name} must not be empty")));
    }
    match q.get(name) {
        None => Ok(None),
        Some(v) if v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic() && b != b':') => {
            Ok(Some(v.to_owned()))
        }
        Some(_) => Err(Error::invalid_request(format!("{name} is not an id"))),
    }
}

fn time_param(q: &Params, name: &str) -> Result<Option<i64>> {
    if q.sent_empty(name) {
        return Err(Error::invalid_request(format!("{name} must not be empty")));
    }
    match q.get(name) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|t| (0..=99_999_999_999).contains(t) && v.len() <= 12)
            .map(Some)
            .ok_or_else(|| Error::invalid_request(format!("{name} must be a time in unix seconds"))),
    }
}

/// Reads the query of `GET /admin/audit` at time `now` with retention `keep` (seconds): the
/// range is clamped to what is kept.
pub fn parse_query(q: &Params, now: i64, keep: i64) -> Result<Query> {
    if let Some((k, _)) = q.iter().find(|(k, _)| !PARAMS.contains(k)) {
        return Err(Error::invalid_request(format!(
            "unknown parameter '{}'; the filters are {}",
            k.chars().take(40).collect::<String>(),
            PARAMS.join(", ")
        )));
    }
    let kind = match q.get("type") {
        None if q.sent_empty("type") => return Err(Error::invalid_request("type must not be empty")),
        None => None,
        Some(t) => Some(EventType::parse(t).ok_or_else(|| {
            Error::invalid_request(format!(
                "unknown event type '{}'",
                t.chars().take(40).collect::<String>()
            ))
        })?),
    };
    let since = time_param(q, "since")?.unwrap_or(0).max(now.saturating_sub(keep));
    let until = time_param(q, "until")?.unwrap_or(now).min(now);
    let cursor = match q.get("cursor") {
        Some(c) => Some(Cursor::decode(c)?),
        None if q.sent_empty("cursor") => return Err(Error::invalid_request("cursor must not be empty")),
        None => None,
    };
    Ok(Query {
        filter: Filter {
            app: id_param(q, "app")?,
            person: id_param(q, "person")?,
            kind,
            since,
            until,
        },
        cursor,
        limit: page_limit(q)?,
    })
}

/// `GET /admin/audit`: the tenant's events matching the filters, newest first, with a cursor
/// to the next page (`next_cursor`, absent at the end). A page may hold fewer than `limit`
/// events and still have a next one (the days it may read are bounded).
pub async fn list(p: &impl Platform, req: &Request) -> Result<Response> {
    let q = parse_query(&Params::from_query(req)?, p.now(), retention_s(p))?;
    let (events, next) = find(p, &q).await?;
    let mut body = serde_json::json!({ "events": events });
    if let Some(c) = next {
        crate::util::set(&mut body, "next_cursor", c.encode());
    }
    Ok(Response::json(200, &body).no_store())
}

/// One page of the tenant's events for a checked query (the API's and the console's): the
/// events, newest first, and the cursor of the next page.
pub async fn find(p: &impl Platform, q: &Query) -> Result<(Vec<Event>, Option<Cursor>)> {
    let from = audit::day_of(q.filter.since);
    let mut to = audit::day_of(q.filter.until);
    let mut after = None;
    if let Some(c) = &q.cursor {
        to = to.min(c.day);
        after = c.after.clone();
    }
    let mut events: Vec<Event> = Vec::new();
    let mut next = None;
    if q.filter.since <= q.filter.until && from <= to {
        let days = p
            .call(
                &audit::days_object(),
                audit::Days {
                    from,
                    to,
                    limit: DAYS_PER_PAGE + 1,
                },
            )
            .await?;
        for (visited, day) in days.into_iter().enumerate() {
            if visited == DAYS_PER_PAGE {
                next = Some(Cursor { day, after: None });
                break;
            }
            let resume = if q.cursor.as_ref().is_some_and(|c| c.day == day) {
                after.take()
            } else {
                None
            };
            let want = q.limit.saturating_sub(events.len());
            let cmd = audit::Query {
                filter: q.filter.clone(),
                after: resume,
                limit: want,
            };
            let page = p.call(&audit::day_object(day), cmd).await?;
            events.extend(page.events);
            if let Some(k) = page.next {
                next = Some(Cursor { day, after: Some(k) });
                break;
            }
            if events.len() >= q.limit {
                // The day is done; go on with the days before it.
                next = (day > from).then(|| Cursor {
                    day: day - 1,
                    after: None,
                });
                break;
            }
        }
    }
    Ok((events, next))
}

/// The event of an operator's action on the registry of organisations (`/admin/orgs…`), from
/// what was asked and how it ended; `None` for reads and failures before anything changed.
pub fn org_event(req: &Request, resp: &Result<Response>) -> Option<Event> {
    let ok = matches!(resp, Ok(r) if (200..300).contains(&r.status));
    if !ok || req.method == "GET" {
        return None;
    }
    let parts: Vec<&str> = req.path.trim_start_matches("/admin/").split('/').collect();
    let (kind, label, detail) = match (req.method.as_str(), parts.as_slice()) {
        ("POST", ["orgs"] | ["orgs", ""]) => {
            let label = resp
                .as_ref()
                .ok()
                .and_then(|r| serde_json::from_slice::<serde_json::Value>(&r.body).ok())
                .and_then(|v| v.get("label").and_then(|l| l.as_str()).map(str::to_owned))?;
            (EventType::OrgCreate, label, None)
        }
        ("PATCH", ["orgs", l]) => (EventType::OrgUpdate, (*l).to_owned(), None),
        ("DELETE", ["orgs", l]) => (EventType::OrgDelete, (*l).to_owned(), None),
        ("POST", ["orgs", l, "keys"]) => (EventType::OrgKeysRotate, (*l).to_owned(), None),
        ("POST", ["orgs", l, "operators"]) => (EventType::OrgOperatorAdd, (*l).to_owned(), None),
        ("DELETE", ["orgs", l, "operators", id]) => {
            (EventType::OrgOperatorRemove, (*l).to_owned(), Some(*id))
        }
        ("POST", ["orgs", l, "erase"]) => (EventType::OrgErase, (*l).to_owned(), None),
        ("POST", ["orgs", l, "domains"]) => (EventType::OrgDomainAdd, (*l).to_owned(), None),
        ("DELETE", ["orgs", l, "domains", host]) => {
            (EventType::OrgDomainRemove, (*l).to_owned(), Some(*host))
        }
        ("POST", ["orgs", l, "suspend"]) => (EventType::OrgSuspend, (*l).to_owned(), None),
        ("POST", ["orgs", l, "resume"]) => (EventType::OrgResume, (*l).to_owned(), None),
        _ => return None,
    };
    let mut e = Event::new(kind, "operator", Outcome::Success).org(label);
    if let Some(d) = detail {
        e = e.detail(d);
    }
    Some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Result<Query> {
        Params::parse_form(s.as_bytes()).and_then(|p| parse_query(&p, 1_000_000, 90 * 86_400))
    }

    #[test]
    fn filters_are_read_strictly() {
        let all = q("").unwrap();
        assert_eq!(all.filter.since, 0);
        assert_eq!(all.filter.until, 1_000_000);
        assert_eq!(all.limit, 100);
        let f = q("app=c1&person=u1&type=consent.given&since=10&until=20&limit=5").unwrap();
        assert_eq!(f.filter.app.as_deref(), Some("c1"));
        assert_eq!(f.filter.person.as_deref(), Some("u1"));
        assert_eq!(f.filter.kind, Some(EventType::ConsentGiven));
        assert_eq!((f.filter.since, f.filter.until, f.limit), (10, 20, 5));
        // The future is now; the range never reaches past the retention.
        assert_eq!(q("until=99999999").unwrap().filter.until, 1_000_000);
        let kept = parse_query(&Params::parse_form(b"since=5").unwrap(), 10_000_000, 86_400).unwrap();
        assert_eq!(kept.filter.since, 10_000_000 - 86_400);
        for bad in [
            "colour=red",
            "type=app.nope",
            "type=",
            "since=yesterday",
            "since=-1",
            "until=1e9",
            "since=",
            "app=",
            "app=a:b",
            "app=a%20b",
            "person=%00",
            "cursor=",
            "cursor=x",
            "cursor=1.%%%",
            "cursor=123456789.",
            "cursor=1.____",
            "limit=0",
            "limit=1000",
        ] {
            assert!(q(bad).is_err(), "{bad}");
        }
        let long = format!("app={}", "a".repeat(129));
        assert!(q(&long).is_err());
    }

    #[test]
    fn a_cursor_reads_back_as_it_was_made() {
        for c in [
            Cursor {
                day: 20_000,
                after: None,
            },
            Cursor {
                day: 3,
                after: Some("a:c1:0000000001:xyz".into()),
            },
        ] {
            assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        }
        // Not UTF-8 inside.
        assert!(Cursor::decode(&format!("1.{}", b64url(&[0xff, 0xfe]))).is_err());
    }
}
