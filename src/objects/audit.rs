//! `audit:<day>` and `audit_days`: a tenant's audit events as data (issue 19).
//!
//! One object per tenant per UTC day (`audit:<days since the epoch>`, renamed per tenant by
//! `platform::tenant::Scoped`) holds that day's events, newest first in key order, with three
//! indexes (by app, by person, by type) so a filtered query reads only matching rows. Every row
//! expires with its event (`exp` = the event's time + the retention), so a read never sees an
//! event past the retention and the object deletes them by itself (`Kv::purge_expired`). One
//! object per day bounds each object (at most [`MAX_EVENTS_PER_DAY`] events) and spreads the
//! write load of a busy tenant over days; one command appends one event.
//!
//! `audit_days` (one per tenant) lists the days that have events, so a query visits only those
//! and the first event of a day erases the day objects that fell out of the retention (a day
//! object past its retention gets no more commands, so its own purge would never run).

#[cfg(test)]
use super::kv::Kv;
use super::protocol::{kind, load, op, save, Kind, Name};
use crate::error::Error;
use serde::{Deserialize, Serialize};

kind!(AuditDay = "audit");
kind!(AuditDays = "audit_days");

/// The object of one UTC day of audit events (`day` = days since the Unix epoch).
pub fn day_object(day: i64) -> Name<AuditDay> {
    Name::of(&day.to_string())
}

/// The tenant's index of days with audit events.
pub fn days_object() -> Name<AuditDays> {
    Name::raw(AuditDays::PREFIX.to_owned())
}

/// The UTC day of a time (unix seconds).
pub fn day_of(at: i64) -> i64 {
    at.div_euclid(86_400)
}

/// Events kept per tenant per day; past it an event is still logged, not stored.
pub const MAX_EVENTS_PER_DAY: u32 = 200_000;
/// Rows one query command reads at most (the rest is the next page's).
pub const SCAN: usize = 500;

/// What happened. The words (`type` in the API and the log) are written once, in `as_str`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "app.create")]
    AppCreate,
    #[serde(rename = "app.update")]
    AppUpdate,
    #[serde(rename = "app.delete")]
    AppDelete,
    #[serde(rename = "app.secret.regenerate")]
    AppSecretRegenerate,
    #[serde(rename = "app.key.add")]
    AppKeyAdd,
    #[serde(rename = "app.key.remove")]
    AppKeyRemove,
    /// A registration: RFC 7591, the registration page or `/apps` (`detail` says which).
    #[serde(rename = "app.register")]
    AppRegister,
    #[serde(rename = "org.create")]
    OrgCreate,
    #[serde(rename = "org.update")]
    OrgUpdate,
    #[serde(rename = "org.keys.rotate")]
    OrgKeysRotate,
    #[serde(rename = "org.operator.add")]
    OrgOperatorAdd,
    #[serde(rename = "org.operator.remove")]
    OrgOperatorRemove,
    #[serde(rename = "org.domain.add")]
    OrgDomainAdd,
    #[serde(rename = "org.domain.remove")]
    OrgDomainRemove,
    #[serde(rename = "org.suspend")]
    OrgSuspend,
    #[serde(rename = "org.resume")]
    OrgResume,
    #[serde(rename = "org.delete")]
    OrgDelete,
    #[serde(rename = "org.erase")]
    OrgErase,
    #[serde(rename = "consent.given")]
    ConsentGiven,
    #[serde(rename = "consent.withdrawn")]
    ConsentWithdrawn,
    #[serde(rename = "token.revoke")]
    TokenRevoke,
    #[serde(rename = "login.limited")]
    LoginLimited,
    #[serde(rename = "refresh.reuse")]
    RefreshReuse,
    #[serde(rename = "code.replay")]
    CodeReplay,
    #[serde(rename = "password.reset")]
    PasswordReset,
    #[serde(rename = "password.change")]
    PasswordChange,
    #[serde(rename = "2fa.enable")]
    TwoFactorEnable,
    #[serde(rename = "2fa.disable")]
    TwoFactorDisable,
    #[serde(rename = "2fa.recovery.regenerate")]
    TwoFactorRecoveryRegenerate,
    #[serde(rename = "session.end")]
    SessionEnd,
    #[serde(rename = "account.delete")]
    AccountDelete,
    #[serde(rename = "user.disable")]
    UserDisable,
    #[serde(rename = "user.enable")]
    UserEnable,
    #[serde(rename = "user.delete")]
    UserDelete,
    #[serde(rename = "user.password.reset")]
    UserPasswordReset,
    #[serde(rename = "user.sessions.end")]
    UserSessionsEnd,
    #[serde(rename = "backup.export")]
    BackupExport,
    #[serde(rename = "backup.import")]
    BackupImport,
}

impl EventType {
    /// The event type's word (`app.create`, …).
    pub fn as_str(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(s)) => s,
            _ => String::new(),
        }
    }
    /// The event type of a word; `None` for anything else.
    pub fn parse(word: &str) -> Option<EventType> {
        serde_json::from_value(serde_json::Value::String(word.to_owned())).ok()
    }
}

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    /// Refused by a rule (a limit, a replay, a wrong password).
    Refused,
}

/// One audit event. `actor` is who acted: `operator` (`ADMIN_TOKEN`), `operator:<id>` (a
/// console operator), `admin-token` (a bearer operator token on `/admin/users`),
/// `person:<user id>`, `app:<client id>`, `anonymous`, `system`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub id: String,
    /// Unix seconds.
    pub at: i64,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub actor: String,
    pub outcome: Outcome,
    /// The app it was about (client id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// The person it was about (user id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    /// The organisation it was about (label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// The client address of the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The request's id (`x-request-id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// A short, non-secret detail (which registration path, which key id, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Event {
    /// An event of `kind` by `actor`, to be completed (id, time, address, request id) by the
    /// router when the request ends.
    pub fn new(kind: EventType, actor: impl Into<String>, outcome: Outcome) -> Event {
        Event {
            id: String::new(),
            at: 0,
            kind,
            actor: actor.into(),
            outcome,
            app: None,
            person: None,
            org: None,
            address: None,
            request_id: None,
            detail: None,
        }
    }
    pub fn app(mut self, id: impl Into<String>) -> Event {
        self.app = Some(id.into());
        self
    }
    pub fn person(mut self, id: impl Into<String>) -> Event {
        self.person = Some(id.into());
        self
    }
    pub fn org(mut self, label: impl Into<String>) -> Event {
        self.org = Some(label.into());
        self
    }
    pub fn detail(mut self, d: impl Into<String>) -> Event {
        self.detail = Some(d.into().chars().take(200).collect());
        self
    }
    /// The structured log line of the event (`{"audit": "<type>", …}`).
    pub fn log_line(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let serde_json::Value::Object(m) = &mut v {
            m.remove("type");
            m.insert("audit".into(), self.kind.as_str().into());
        }
        v
    }
}

/// The greatest time a key can order (year 2286); keys hold `MAX_AT - at`, so key order is
/// newest first.
const MAX_AT: i64 = 9_999_999_999;

fn inverted(at: i64) -> String {
    format!("{:010}", MAX_AT.saturating_sub(at.clamp(0, MAX_AT)))
}

fn at_of(inv: &str) -> Option<i64> {
    inv.parse::<i64>().ok().map(|i| MAX_AT - i)
}

const COUNT: &str = "n";
/// Set once the days index has acknowledged this day ([`MarkNoted`]).
const NOTED: &str = "noted";

/// What a query asks of one day: every filter that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    pub app: Option<String>,
    pub person: Option<String>,
    pub kind: Option<EventType>,
    /// Inclusive bounds, unix seconds.
    pub since: i64,
    pub until: i64,
}

impl Filter {
    /// The index a query reads: the most selective filter that is set.
    fn index(&self) -> String {
        match (&self.app, &self.person, self.kind) {
            (Some(a), _, _) => format!("a:{a}:"),
            (None, Some(p), _) => format!("p:{p}:"),
            (None, None, Some(k)) => format!("t:{}:", k.as_str()),
            (None, None, None) => "e:".to_owned(),
        }
    }
    pub fn matches(&self, e: &Event) -> bool {
        self.app.as_ref().is_none_or(|a| e.app.as_ref() == Some(a))
            && self.person.as_ref().is_none_or(|p| e.person.as_ref() == Some(p))
            && self.kind.is_none_or(|k| e.kind == k)
            && e.at >= self.since
            && e.at <= self.until
    }
}

/// What appending answered: whether it was the day's first event (then the days index is told).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appended {
    pub first: bool,
    pub stored: bool,
}

op! {
    /// Appends one event, every row of it kept until `keep_until`. Appending an id twice (a
    /// retried job) stores it once.
    Append in AuditDay => Appended {
        pub event: Event,
        pub keep_until: i64,
    }
    |cmd, kv, _now| {
        let e = cmd.event;
        let n: u32 = kv.get(COUNT)?.and_then(|c| c.parse().ok()).unwrap_or(0);
        let suffix = format!("{}:{}", inverted(e.at), e.id);
        let key = format!("e:{suffix}");
        if kv.get(&key)?.is_some() {
            return Ok(Appended { first: false, stored: true });
        }
        if n >= MAX_EVENTS_PER_DAY {
            return Ok(Appended { first: false, stored: false });
        }
        let exp = Some(cmd.keep_until);
        save(kv, &key, &e, exp)?;
        if let Some(a) = &e.app {
            kv.put(&format!("a:{a}:{suffix}"), "", exp)?;
        }
        if let Some(p) = &e.person {
            kv.put(&format!("p:{p}:{suffix}"), "", exp)?;
        }
        kv.put(&format!("t:{}:{suffix}", e.kind.as_str()), "", exp)?;
        kv.put(COUNT, &n.saturating_add(1).to_string(), exp)?;
        // Until the days index has acknowledged the day, every append asks for it to be noted:
        // one failed `NoteDay` must not leave a day no query visits.
        Ok(Appended { first: kv.get(NOTED)?.is_none(), stored: true })
    }
}

op! {
    /// The days index has noted this day: later appends no longer ask for it.
    MarkNoted in AuditDay => () {}
    |_, kv, _now| {
        kv.put(NOTED, "1", None)
    }
}

/// One day's page of a query: the events (newest first) and, when the day may hold more, the
/// key to go on after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayPage {
    pub events: Vec<Event>,
    pub next: Option<String>,
}

op! {
    /// The day's events matching `filter`, newest first, strictly after the key `after` (a
    /// previous page's `next`), at most `limit`, reading at most [`SCAN`] rows.
    Query in AuditDay => DayPage {
        pub filter: Filter,
        pub after: Option<String>,
        pub limit: usize,
    }
    |cmd, kv, _now| {
        let prefix = cmd.filter.index();
        // Newest first: start at the query's `until` (keys hold the inverted time).
        let start = match cmd.after {
            Some(a) if a.starts_with(&prefix) => a,
            Some(_) => return Err(Error::invalid_request("the cursor is not one of this query")),
            None => format!("{prefix}{}", inverted(cmd.filter.until.saturating_add(1))),
        };
        let rows = kv.list(&prefix, Some(&start), SCAN)?;
        let full = rows.len() == SCAN;
        let mut events = Vec::new();
        let mut last = None;
        for (k, v) in rows {
            let Some(rest) = k.strip_prefix(&prefix) else { continue };
            let at = rest.split(':').next().and_then(at_of);
            if at.is_some_and(|at| at < cmd.filter.since) {
                return Ok(DayPage { events, next: None });
            }
            let event: Option<Event> = if prefix == "e:" {
                serde_json::from_str(&v).ok()
            } else {
                load(kv, &format!("e:{rest}"))?
            };
            last = Some(k.clone());
            if let Some(e) = event.filter(|e| cmd.filter.matches(e)) {
                events.push(e);
                if events.len() >= cmd.limit {
                    return Ok(DayPage { events, next: last });
                }
            }
        }
        Ok(DayPage { events, next: if full { last } else { None } })
    }
}

fn day_key(day: i64) -> String {
    format!("d:{:08}", day.max(0))
}

op! {
    /// Notes that `day` has events and answers the days before `oldest` that still were noted
    /// (now past the retention: the caller erases their objects), forgetting them.
    NoteDay in AuditDays => Vec<i64> {
        pub day: i64,
        pub oldest: i64,
    }
    |cmd, kv, _now| {
        kv.put(&day_key(cmd.day), "", None)?;
        let old = kv.list("d:", None, 1000)?;
        let mut gone = Vec::new();
        for (k, _) in old {
            let Some(d) = k.strip_prefix("d:").and_then(|d| d.parse::<i64>().ok()) else { continue };
            if d >= cmd.oldest {
                break;
            }
            kv.delete(&k)?;
            gone.push(d);
        }
        Ok(gone)
    }
}

op! {
    /// The noted days from `to` down to `from` (inclusive), newest first, at most `limit`.
    Days in AuditDays => Vec<i64> {
        pub from: i64,
        pub to: i64,
        pub limit: usize,
    }
    |cmd, kv, _now| {
        let after = day_key(cmd.from.saturating_sub(1));
        let rows = kv.list("d:", Some(&after), 4000)?;
        let mut days: Vec<i64> = rows
            .into_iter()
            .filter_map(|(k, _)| k.strip_prefix("d:").and_then(|d| d.parse::<i64>().ok()))
            .filter(|d| *d >= cmd.from && *d <= cmd.to)
            .collect();
        days.reverse();
        days.truncate(cmd.limit);
        Ok(days)
    }
}

/// A day's count of events (tests).
#[cfg(test)]
pub fn count(kv: &dyn Kv) -> u32 {
    kv.get(COUNT)
        .ok()
        .flatten()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::kv::MemKv;
    use crate::objects::protocol::Op;

    fn ev(id: &str, at: i64, kind: EventType, app: Option<&str>, person: Option<&str>) -> Event {
        let mut e = Event::new(kind, "operator", Outcome::Success);
        e.id = id.into();
        e.at = at;
        e.app = app.map(Into::into);
        e.person = person.map(Into::into);
        e
    }

    fn put(kv: &mut MemKv, e: Event) -> Appended {
        Append {
            event: e,
            keep_until: 10_000,
        }
        .apply(kv, 0)
        .unwrap()
    }

    fn all() -> Filter {
        Filter {
            since: 0,
            until: 9_000,
            ..Filter::default()
        }
    }

    #[test]
    fn types_have_one_word_each_both_ways() {
        for t in [
            EventType::AppCreate,
            EventType::TwoFactorEnable,
            EventType::UserPasswordReset,
            EventType::LoginLimited,
        ] {
            assert_eq!(EventType::parse(&t.as_str()), Some(t));
        }
        assert_eq!(EventType::AppCreate.as_str(), "app.create");
        assert_eq!(EventType::parse("app.nope"), None);
        assert_eq!(EventType::parse(""), None);
    }

    #[test]
    fn a_day_asks_to_be_noted_until_the_days_index_acknowledged_it() {
        let mut kv = MemKv::default();
        assert!(put(&mut kv, ev("a", 100, EventType::AppCreate, Some("c1"), None)).first);
        // The NoteDay after it failed: the next append asks again.
        assert!(put(&mut kv, ev("b", 110, EventType::AppCreate, Some("c1"), None)).first);
        MarkNoted {}.apply(&mut kv, 0).unwrap();
        assert!(!put(&mut kv, ev("c", 120, EventType::AppCreate, Some("c1"), None)).first);
    }

    #[test]
    fn an_event_is_stored_once_newest_first_and_found_by_each_index() {
        let mut kv = MemKv::default();
        assert!(put(&mut kv, ev("a", 100, EventType::AppCreate, Some("c1"), None)).first);
        MarkNoted {}.apply(&mut kv, 0).unwrap();
        assert!(
            !put(
                &mut kv,
                ev("b", 200, EventType::ConsentGiven, Some("c1"), Some("u1"))
            )
            .first
        );
        put(
            &mut kv,
            ev("c", 150, EventType::ConsentGiven, Some("c2"), Some("u1")),
        );
        // A retried append stores nothing twice.
        put(
            &mut kv,
            ev("c", 150, EventType::ConsentGiven, Some("c2"), Some("u1")),
        );
        assert_eq!(count(&kv), 3);
        let q = |kv: &mut MemKv, f: Filter| -> Vec<String> {
            Query {
                filter: f,
                after: None,
                limit: 10,
            }
            .apply(kv, 0)
            .unwrap()
            .events
            .into_iter()
            .map(|e| e.id)
            .collect()
        };
        assert_eq!(q(&mut kv, all()), ["b", "c", "a"]);
        assert_eq!(
            q(
                &mut kv,
                Filter {
                    app: Some("c1".into()),
                    ..all()
                }
            ),
            ["b", "a"]
        );
        assert_eq!(
            q(
                &mut kv,
                Filter {
                    person: Some("u1".into()),
                    ..all()
                }
            ),
            ["b", "c"]
        );
        assert_eq!(
            q(
                &mut kv,
                Filter {
                    kind: Some(EventType::AppCreate),
                    ..all()
                }
            ),
            ["a"]
        );
        assert_eq!(
            q(
                &mut kv,
                Filter {
                    app: Some("c2".into()),
                    person: Some("u1".into()),
                    ..all()
                }
            ),
            ["c"]
        );
        assert_eq!(
            q(
                &mut kv,
                Filter {
                    app: Some("c2".into()),
                    kind: Some(EventType::AppCreate),
                    ..all()
                }
            ),
            Vec::<String>::new()
        );
        // Time range, inclusive at both ends.
        assert_eq!(
            q(
                &mut kv,
                Filter {
                    since: 150,
                    until: 199,
                    ..all()
                }
            ),
            ["c"]
        );
        assert_eq!(
            q(
                &mut kv,
                Filter {
                    since: 100,
                    until: 150,
                    ..all()
                }
            ),
            ["c", "a"]
        );
        // An app id that is a prefix of another's does not match it.
        put(&mut kv, ev("d", 160, EventType::AppCreate, Some("c1:x"), None));
        assert_eq!(
            q(
                &mut kv,
                Filter {
                    app: Some("c1".into()),
                    ..all()
                }
            ),
            ["b", "a"]
        );
    }

    #[test]
    fn pages_go_on_after_the_last_key_and_end() {
        let mut kv = MemKv::default();
        for i in 0..5 {
            put(
                &mut kv,
                ev(&format!("e{i}"), 100 + i, EventType::AppUpdate, Some("c"), None),
            );
        }
        let mut after = None;
        let mut seen = Vec::new();
        loop {
            let page = Query {
                filter: all(),
                after: after.clone(),
                limit: 2,
            }
            .apply(&mut kv, 0)
            .unwrap();
            seen.extend(page.events.into_iter().map(|e| e.id));
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        assert_eq!(seen, ["e4", "e3", "e2", "e1", "e0"]);
        // A cursor of another index is refused, not read.
        let bad = Query {
            filter: Filter {
                app: Some("c".into()),
                ..all()
            },
            after: Some("e:0".into()),
            limit: 2,
        };
        assert!(bad.apply(&mut kv, 0).is_err());
    }

    #[test]
    fn events_past_their_retention_are_gone() {
        let mut kv = MemKv::default();
        Append {
            event: ev("old", 100, EventType::AppCreate, Some("c"), None),
            keep_until: 500,
        }
        .apply(&mut kv, 0)
        .unwrap();
        Append {
            event: ev("new", 200, EventType::AppCreate, Some("c"), None),
            keep_until: 900,
        }
        .apply(&mut kv, 0)
        .unwrap();
        kv.purge_expired(600).unwrap();
        let page = Query {
            filter: all(),
            after: None,
            limit: 10,
        }
        .apply(&mut kv, 600)
        .unwrap();
        assert_eq!(
            page.events.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
            ["new"]
        );
        assert!(kv.list("a:c:", None, 10).unwrap().len() == 1);
    }

    #[test]
    fn the_days_index_hands_back_days_past_the_retention_once() {
        let mut kv = MemKv::default();
        for d in [10, 11, 15, 20] {
            NoteDay { day: d, oldest: 0 }.apply(&mut kv, 0).unwrap();
        }
        assert_eq!(
            Days {
                from: 11,
                to: 20,
                limit: 10
            }
            .apply(&mut kv, 0)
            .unwrap(),
            [20, 15, 11]
        );
        assert_eq!(
            Days {
                from: 0,
                to: 100,
                limit: 2
            }
            .apply(&mut kv, 0)
            .unwrap(),
            [20, 15]
        );
        assert_eq!(
            NoteDay { day: 21, oldest: 15 }.apply(&mut kv, 0).unwrap(),
            [10, 11]
        );
        assert_eq!(
            NoteDay { day: 21, oldest: 15 }.apply(&mut kv, 0).unwrap(),
            Vec::<i64>::new()
        );
        assert_eq!(
            Days {
                from: 0,
                to: 100,
                limit: 10
            }
            .apply(&mut kv, 0)
            .unwrap(),
            [21, 20, 15]
        );
    }

    #[test]
    fn the_log_line_names_the_type_as_audit() {
        let e = ev("x", 5, EventType::RefreshReuse, Some("c"), None);
        let line = e.log_line();
        assert_eq!(line["audit"], "refresh.reuse");
        assert!(line.get("type").is_none() && line.get("person").is_none());
        // The wire form reads back as it was.
        let back: Event = serde_json::from_value(serde_json::to_value(&e).unwrap()).unwrap();
        assert_eq!(back, e);
    }
}
