//! `organisation:<label>` and `organisations`: the registry of organisations (tenancy). One
//! object per organisation holds its record (so creating a label is atomic and each request's
//! lookup goes to that organisation's own object); the `organisations` index holds the labels,
//! for listing. Both live in the default (platform) tenant.

use super::protocol::{kind, load, op, save, Kind, Name};
use crate::error::{Error, ErrorCode, Result};
use serde::{Deserialize, Serialize};

kind!(Org = "organisation",
    /// The registry object of the organisation `label`.
    object);
kind!(OrgIndex = "organisations");

/// The index of every organisation's label.
pub fn index() -> Name<OrgIndex> {
    Name::raw(OrgIndex::PREFIX.to_owned())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgStatus {
    Active,
    Suspended,
    /// Marked deleted: its host answers 404; its label stays taken (its data is not removed yet).
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quotas {
    pub max_apps: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgRecord {
    pub label: String,
    pub name: String,
    pub status: OrgStatus,
    pub created_at: i64,
    pub quotas: Quotas,
}

const RECORD: &str = "org";

fn no_such_org() -> Error {
    Error::not_found("no such organisation")
}

op! {
    /// Records a new organisation; `limit_reached` (409) when its label is taken (also by a
    /// deleted organisation, whose data is not removed yet).
    Create in Org => OrgRecord {
        pub record: OrgRecord,
    }
    |cmd, kv, now| {
        if load::<OrgRecord>(kv, RECORD)?.is_some() {
            return Err(Error::new(
                ErrorCode::LimitReached,
                format!("the label '{}' is already taken", cmd.record.label),
            ));
        }
        let record = OrgRecord { created_at: now, ..cmd.record };
        save(kv, RECORD, &record, None)?;
        Ok(record)
    }
}

op! {
    /// The organisation's record, deleted or not.
    Get in Org => Option<OrgRecord> {}
    |_, kv, _now| { load(kv, RECORD) }
}

fn set_status(kv: &mut dyn super::kv::Kv, status: OrgStatus) -> Result<OrgRecord> {
    let mut record: OrgRecord = load(kv, RECORD)?
        .filter(|r: &OrgRecord| r.status != OrgStatus::Deleted)
        .ok_or_else(no_such_org)?;
    record.status = status;
    save(kv, RECORD, &record, None)?;
    Ok(record)
}

op! {
    /// Suspends an organisation: its host answers 403 until it is resumed.
    Suspend in Org => OrgRecord {}
    |_, kv, _now| { set_status(kv, OrgStatus::Suspended) }
}

op! {
    /// Serves a suspended organisation again.
    Resume in Org => OrgRecord {}
    |_, kv, _now| { set_status(kv, OrgStatus::Active) }
}

op! {
    /// Marks an organisation deleted: its host answers 404 (its data stays, for now).
    Delete in Org => OrgRecord {}
    |_, kv, _now| { set_status(kv, OrgStatus::Deleted) }
}

fn label_key(label: &str) -> String {
    format!("label:{label}")
}

op! {
    /// Adds a label to the index (idempotent).
    IndexAdd in OrgIndex => () {
        pub label: String,
    }
    |cmd, kv, _now| { kv.put(&label_key(&cmd.label), "1", None) }
}

/// One page of labels, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    pub labels: Vec<String>,
    pub next: Option<String>,
}

op! {
    /// The labels after `after`, at most `limit`.
    IndexList in OrgIndex => Page {
        pub after: Option<String>,
        pub limit: usize,
    }
    |cmd, kv, _now| {
        let after = cmd.after.map(|a| label_key(&a));
        let rows = kv.list("label:", after.as_deref(), cmd.limit.saturating_add(1))?;
        let mut labels: Vec<String> = rows
            .into_iter()
            .filter_map(|(k, _)| k.strip_prefix("label:").map(str::to_owned))
            .collect();
        let next = if labels.len() > cmd.limit {
            labels.truncate(cmd.limit);
            labels.last().cloned()
        } else {
            None
        };
        Ok(Page { labels, next })
    }
}
