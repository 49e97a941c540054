//! `quota`: the tenant-wide quotas of apps and people (`MAX_APPS`, `MAX_PEOPLE`, or an
//! organisation's record), counted in one object per tenant so racing creations cannot overrun
//! a limit. The tenant-bound platform names the object per tenant (`org:<label>:quota`), so
//! there is one fixed name here, as for `issuer`.
//!
//! Each counted member (an app's client id, a person's user id) has its own key, next to a
//! count per resource: reserving a member twice or releasing it twice changes nothing. Every
//! app and person is counted, limit or not, so a limit set later counts what exists; the
//! members are also the tenant's inventory when an organisation's data is erased ([`Members`]).

use super::kv::Kv;
use super::protocol::{kind, op, Kind, Name};
use crate::error::{Error, ErrorCode, Result};
use serde::{Deserialize, Serialize};

kind!(Quota = "quota");

/// The tenant's quota object (renamed per tenant by `platform::tenant::Scoped`).
pub fn object() -> Name<Quota> {
    Name::raw(Quota::PREFIX.to_owned())
}

/// What a quota counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    Apps,
    People,
}

impl Resource {
    fn key(self) -> &'static str {
        match self {
            Resource::Apps => "apps",
            Resource::People => "people",
        }
    }
    fn count_key(self) -> String {
        format!("count:{}", self.key())
    }
    fn member_key(self, member: &str) -> String {
        format!("{}:{member}", self.key())
    }
    fn noun(self, n: u32) -> &'static str {
        match (self, n) {
            (Resource::Apps, 1) => "app",
            (Resource::Apps, _) => "apps",
            (Resource::People, 1) => "person",
            (Resource::People, _) => "people",
        }
    }
}

fn count(kv: &dyn Kv, resource: Resource) -> Result<u32> {
    Ok(kv
        .get(&resource.count_key())?
        .and_then(|c| c.parse().ok())
        .unwrap_or(0))
}

/// How many members of `resource` are counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub used: u32,
}

op! {
    /// Counts `member` (an app's client id, a person's user id) against `limit`, checking and
    /// counting in one step: `limit_reached` (409) when `limit` members are counted already.
    /// A member counted already is not counted again (a retried reservation).
    Reserve in Quota => () {
        pub resource: Resource,
        pub member: String,
        pub limit: u32,
        /// Kept with the member (a person's normalised email, so erasure finds their account).
        #[serde(default)]
        pub note: String,
    }
    |cmd, kv, _now| {
        let key = cmd.resource.member_key(&cmd.member);
        if kv.get(&key)?.is_some() {
            return Ok(());
        }
        let n = count(kv, cmd.resource)?;
        if n >= cmd.limit {
            return Err(Error::new(
                ErrorCode::LimitReached,
                format!(
                    "this service already has {n} {}; its limit is {}",
                    cmd.resource.noun(n),
                    cmd.limit
                ),
            ));
        }
        kv.put(&key, &cmd.note, None)?;
        kv.put(&cmd.resource.count_key(), &n.saturating_add(1).to_string(), None)
    }
}

op! {
    /// Gives `member`'s place back (it was removed, or its creation failed); releasing a member
    /// that is not counted changes nothing.
    Release in Quota => () {
        pub resource: Resource,
        pub member: String,
    }
    |cmd, kv, _now| {
        let key = cmd.resource.member_key(&cmd.member);
        if kv.get(&key)?.is_some() {
            kv.delete(&key)?;
            let n = count(kv, cmd.resource)?;
            kv.put(&cmd.resource.count_key(), &n.saturating_sub(1).to_string(), None)?;
        }
        Ok(())
    }
}

op! {
    /// How many members of `resource` are counted.
    Used in Quota => Usage {
        pub resource: Resource,
    }
    |cmd, kv, _now| {
        Ok(Usage { used: count(kv, cmd.resource)? })
    }
}

/// One page of members, in key order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberPage {
    /// (member, note)
    pub members: Vec<(String, String)>,
    pub next: Option<String>,
}

op! {
    /// The members of `resource` after `after`, at most `limit`.
    Members in Quota => MemberPage {
        pub resource: Resource,
        pub after: Option<String>,
        pub limit: usize,
    }
    |cmd, kv, _now| {
        let prefix = cmd.resource.member_key("");
        let after = cmd.after.map(|a| cmd.resource.member_key(&a));
        let rows = kv.list(&prefix, after.as_deref(), cmd.limit.saturating_add(1))?;
        let mut members: Vec<(String, String)> = rows
            .into_iter()
            .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|m| (m.to_owned(), v)))
            .collect();
        let next = if members.len() > cmd.limit {
            members.truncate(cmd.limit);
            members.last().map(|(m, _)| m.clone())
        } else {
            None
        };
        Ok(MemberPage { members, next })
    }
}
