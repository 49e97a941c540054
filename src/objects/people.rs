//! The tenant's index of people for `/admin/users` (issue 19), kept in the `quota` object that
//! already counts every person (`people:<user id>` → the normalised email, written at sign-up
//! and upstream sign-in, released at deletion): listing reads the same members the people quota
//! counts, so the index and the quota cannot disagree. A disabled person also has
//! `status:<user id>` there (for the listing's status filter); what refuses their log-ins is
//! `disabled` in their own `user:<id>` object ([`SetDisabled`], checked by `user::TrackSession`
//! and `user::TrackGrant`, which every log-in and every new grant pass through).

use super::kv::Kv;
use super::protocol::op;
use super::quota::Quota;
use super::user::User;
use crate::error::{Error, ErrorCode, Result};
use serde::{Deserialize, Serialize};

/// Rows one listing command reads at most (the rest is the next page's).
pub const SCAN: usize = 1000;

const DISABLED: &str = "disabled";

/// A person's status in the listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Disabled,
}

impl Status {
    pub fn parse(word: &str) -> Option<Status> {
        match word {
            "active" => Some(Status::Active),
            "disabled" => Some(Status::Disabled),
            _ => None,
        }
    }
}

fn status_key(member: &str) -> String {
    format!("status:{member}")
}

/// One person of a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    pub email: String,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeoplePage {
    pub people: Vec<Person>,
    /// The user id to go on after, when there may be more.
    pub next: Option<String>,
}

op! {
    /// People after user id `after`, in user-id order, whose email starts with `email_prefix`
    /// (and contains `email_contains`, the console's search) and whose status is `status` (when
    /// given), at most `limit`, reading at most [`SCAN`].
    List in Quota => PeoplePage {
        pub after: Option<String>,
        pub limit: usize,
        pub email_prefix: Option<String>,
        pub status: Option<Status>,
        #[serde(default)]
        pub email_contains: Option<String>,
    }
    |cmd, kv, _now| {
        let after = cmd.after.map(|a| format!("people:{a}"));
        let rows = kv.list("people:", after.as_deref(), SCAN)?;
        let full = rows.len() == SCAN;
        let mut people = Vec::new();
        let mut last = None;
        for (k, email) in rows {
            let Some(id) = k.strip_prefix("people:") else { continue };
            last = Some(id.to_owned());
            let status = if kv.get(&status_key(id))?.is_some() { Status::Disabled } else { Status::Active };
            if cmd.email_prefix.as_ref().is_some_and(|p| !email.starts_with(p.as_str()))
                || cmd.email_contains.as_ref().is_some_and(|p| !email.contains(p.as_str()))
                || cmd.status.is_some_and(|s| s != status)
            {
                continue;
            }
            people.push(Person { id: id.to_owned(), email, status });
            if people.len() >= cmd.limit {
                return Ok(PeoplePage { people, next: last });
            }
        }
        Ok(PeoplePage { people, next: if full { last } else { None } })
    }
}

op! {
    /// Sets a counted person's status in the listing; `not_found` for someone not counted.
    /// Answers their email.
    SetStatus in Quota => String {
        pub member: String,
        pub status: Status,
    }
    |cmd, kv, _now| {
        let Some(email) = kv.get(&format!("people:{}", cmd.member))? else {
            return Err(Error::not_found("no such person"));
        };
        match cmd.status {
            Status::Disabled => kv.put(&status_key(&cmd.member), "", None)?,
            Status::Active => kv.delete(&status_key(&cmd.member))?,
        }
        Ok(email)
    }
}

op! {
    /// A counted person's email changed (a confirmed email change): the listing and its search
    /// follow. Nothing for someone not counted.
    SetEmail in Quota => () {
        pub member: String,
        pub email: String,
    }
    |cmd, kv, _now| {
        let key = format!("people:{}", cmd.member);
        if kv.get(&key)?.is_some() {
            kv.put(&key, &cmd.email, None)?;
        }
        Ok(())
    }
}

op! {
    /// Disables (or enables) the person of this object: a disabled person starts no session
    /// and gets no new grant ([`refuse_disabled`]).
    SetDisabled in User => () {
        pub disabled: bool,
    }
    |cmd, kv, _now| {
        if cmd.disabled {
            kv.put(DISABLED, "1", None)
        } else {
            kv.delete(DISABLED)
        }
    }
}

op! {
    /// Whether an operator disabled the person of this object.
    Disabled in User => bool {}
    |_, kv, _now| {
        Ok(kv.get(DISABLED)?.is_some())
    }
}

const RESET_AT: &str = "reset_at";

op! {
    /// An operator forced a password reset at `at`: a log-in whose first factor was passed
    /// before then (a pending second step, `objects::login_ticket`) no longer completes
    /// ([`StartedBeforeReset`]).
    MarkReset in User => () {
        pub at: i64,
    }
    |cmd, kv, _now| {
        kv.put(RESET_AT, &cmd.at.to_string(), None)
    }
}

op! {
    /// Whether a log-in whose first factor was passed at `started` began before (or in the same
    /// second as) the person's last forced reset.
    StartedBeforeReset in User => bool {
        pub started: i64,
    }
    |cmd, kv, _now| {
        let at = kv.get(RESET_AT)?.and_then(|v| v.parse::<i64>().ok());
        Ok(at.is_some_and(|at| cmd.started <= at))
    }
}

/// Inside a person's `user:` object: `access_denied` when an operator disabled them.
pub fn refuse_disabled(kv: &dyn Kv) -> Result<()> {
    if kv.get(DISABLED)?.is_some() {
        return Err(Error::new(
            ErrorCode::AccessDenied,
            "this account is disabled; ask the service's operator",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::kv::MemKv;
    use crate::objects::protocol::Op;
    use crate::objects::quota::{Reserve, Resource};

    fn add(kv: &mut MemKv, id: &str, email: &str) {
        Reserve {
            resource: Resource::People,
            member: id.into(),
            limit: 100,
            note: email.into(),
        }
        .apply(kv, 0)
        .unwrap();
    }

    #[test]
    fn listing_filters_by_email_prefix_and_status_and_pages() {
        let mut kv = MemKv::default();
        add(&mut kv, "u1", "ann@example.com");
        add(&mut kv, "u2", "bob@example.com");
        add(&mut kv, "u3", "anna@example.org");
        // Apps counted in the same object are not people.
        Reserve {
            resource: Resource::Apps,
            member: "c1".into(),
            limit: 100,
            note: String::new(),
        }
        .apply(&mut kv, 0)
        .unwrap();
        assert_eq!(
            SetStatus {
                member: "u3".into(),
                status: Status::Disabled
            }
            .apply(&mut kv, 0)
            .unwrap(),
            "anna@example.org"
        );
        assert!(SetStatus {
            member: "nobody".into(),
            status: Status::Disabled
        }
        .apply(&mut kv, 0)
        .is_err());
        let ids = |kv: &mut MemKv, email: Option<&str>, status: Option<Status>| -> Vec<String> {
            List {
                after: None,
                limit: 10,
                email_prefix: email.map(Into::into),
                status,
                email_contains: None,
            }
            .apply(kv, 0)
            .unwrap()
            .people
            .into_iter()
            .map(|p| p.id)
            .collect()
        };
        assert_eq!(ids(&mut kv, None, None), ["u1", "u2", "u3"]);
        assert_eq!(ids(&mut kv, Some("ann"), None), ["u1", "u3"]);
        assert_eq!(ids(&mut kv, Some("ann"), Some(Status::Active)), ["u1"]);
        assert_eq!(ids(&mut kv, None, Some(Status::Disabled)), ["u3"]);
        SetStatus {
            member: "u3".into(),
            status: Status::Active,
        }
        .apply(&mut kv, 0)
        .unwrap();
        assert_eq!(ids(&mut kv, None, Some(Status::Disabled)), Vec::<String>::new());
        let p1 = List {
            after: None,
            limit: 2,
            email_prefix: None,
            status: None,
            email_contains: None,
        }
        .apply(&mut kv, 0)
        .unwrap();
        assert_eq!(p1.people.len(), 2);
        let p2 = List {
            after: p1.next,
            limit: 2,
            email_prefix: None,
            status: None,
            email_contains: None,
        }
        .apply(&mut kv, 0)
        .unwrap();
        assert_eq!(
            p2.people.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
            ["u3"]
        );
        assert_eq!(p2.next, None);
    }

    #[test]
    fn an_email_change_follows_into_the_index_and_search_matches_a_part() {
        let mut kv = MemKv::default();
        add(&mut kv, "u1", "old@example.com");
        add(&mut kv, "u2", "bob@example.org");
        SetEmail { member: "u1".into(), email: "new@example.net".into() }.apply(&mut kv, 0).unwrap();
        // Someone not counted is not added.
        SetEmail { member: "ghost".into(), email: "g@example.com".into() }.apply(&mut kv, 0).unwrap();
        let find = |kv: &mut MemKv, prefix: Option<&str>, part: Option<&str>| -> Vec<String> {
            List { after: None, limit: 10, email_prefix: prefix.map(Into::into), status: None, email_contains: part.map(Into::into) }
                .apply(kv, 0)
                .unwrap()
                .people
                .into_iter()
                .map(|p| format!("{}={}", p.id, p.email))
                .collect()
        };
        assert_eq!(find(&mut kv, Some("new@"), None), ["u1=new@example.net"]);
        assert_eq!(find(&mut kv, Some("old@"), None), Vec::<String>::new());
        assert_eq!(find(&mut kv, None, Some("example.")), ["u1=new@example.net", "u2=bob@example.org"]);
        assert_eq!(find(&mut kv, None, Some(".org")), ["u2=bob@example.org"]);
    }

    #[test]
    fn a_forced_reset_voids_first_factors_passed_before_it() {
        let mut kv = MemKv::default();
        assert!(!StartedBeforeReset { started: 100 }.apply(&mut kv, 0).unwrap());
        MarkReset { at: 100 }.apply(&mut kv, 0).unwrap();
        assert!(StartedBeforeReset { started: 99 }.apply(&mut kv, 0).unwrap());
        assert!(StartedBeforeReset { started: 100 }.apply(&mut kv, 0).unwrap());
        assert!(!StartedBeforeReset { started: 101 }.apply(&mut kv, 0).unwrap());
    }

    #[test]
    fn a_disabled_person_is_refused_inside_their_object() {
        let mut kv = MemKv::default();
        assert!(refuse_disabled(&kv).is_ok());
        SetDisabled { disabled: true }.apply(&mut kv, 0).unwrap();
        assert_eq!(refuse_disabled(&kv).unwrap_err().code, ErrorCode::AccessDenied);
        SetDisabled { disabled: false }.apply(&mut kv, 0).unwrap();
        assert!(refuse_disabled(&kv).is_ok());
    }
}
