//! `appshard:<client_id>:<k>` (k = 1 … [`SHARDS`] − 1): the replicas of an app's object
//! (issue 17). The app's own object `app:<client_id>` is shard 0 and stays authoritative; each
//! replica holds a copy of its record and serves the hot commands with it — client
//! authentication with its share of the limits, access-token liveness and revocation for the
//! tokens minted on it, assertion `jti`s that hash to it — so one app's token load spreads over
//! [`SHARDS`] objects.
//!
//! A copy is served only while it is *fresh*: its revision is at least the replica's fence.
//! A change of the record fences every replica at the revision it will make before it is
//! applied, and installs the new record after (`apps::replicas::change`), so a replica never
//! answers from a record older than a change that was acknowledged: it answers `None`
//! ("stale") and the caller asks the app's object instead. A fence that is never lifted costs
//! speed, never safety.

use super::app::{self, Client};
use super::kv::Kv;
use super::protocol::{kind, load, op, save, Name};
use crate::error::Result;
use crate::model::AppRecord;

kind!(AppShardObject = "appshard");

/// Objects per app: the app's own and `SHARDS − 1` replicas. Fixed: access tokens name the
/// shard that holds their revocation (`oauth::mint`), so a token's shard always exists.
pub const SHARDS: u32 = 8;

/// Replica `k` of app `client_id`; `None` for 0 (the app's own object) and anything out of
/// range, which no command can reach.
pub fn object(client_id: &str, k: u32) -> Option<Name<AppShardObject>> {
    (1..SHARDS)
        .contains(&k)
        .then(|| Name::of(&format!("{client_id}:{k}")))
}

const FENCE: &str = "fence";
/// When the fence was last raised (unix seconds).
const FENCE_AT: &str = "fence_at";
const RECORD: &str = "record";

/// The copy of the record, if fresh.
fn fresh(kv: &dyn Kv) -> Result<Option<AppRecord>> {
    let fence = load::<u64>(kv, FENCE)?.unwrap_or(0);
    Ok(app::record(kv)?.filter(|r| r.revision >= fence))
}

op! {
    /// No copy older than `revision` is served from now on (a change is about to make it).
    Fence in AppShardObject => () {
        pub revision: u64,
    }
    |cmd, kv, now| {
        let fence = load::<u64>(kv, FENCE)?.unwrap_or(0);
        if cmd.revision > fence {
            save(kv, FENCE_AT, &now, None)?;
        }
        save(kv, FENCE, &fence.max(cmd.revision), None)
    }
}

op! {
    /// The fence and when it was raised (0: never).
    Fenced in AppShardObject => (u64, i64) {}
    |_, kv, _now| {
        Ok((load::<u64>(kv, FENCE)?.unwrap_or(0), load::<i64>(kv, FENCE_AT)?.unwrap_or(0)))
    }
}

op! {
    /// Keeps `record` if it is newer than the copy held; answers whether the copy is now fresh.
    Install in AppShardObject => bool {
        pub record: AppRecord,
    }
    |cmd, kv, _now| {
        let held = app::record(kv)?.map(|r| r.revision);
        if held.is_none_or(|h| cmd.record.revision > h) {
            save(kv, RECORD, &cmd.record, None)?;
        }
        Ok(fresh(kv)?.is_some())
    }
}

op! {
    /// [`app::Authenticate`] with this replica's share of the limits; `None` when the copy is
    /// stale (nothing is counted then).
    Authenticate in AppShardObject => Option<Client> {
        pub auth: app::Authenticate,
    }
    |cmd, kv, now| {
        match fresh(kv)? {
            Some(rec) => app::authenticate(kv, now, Some(rec), &cmd.auth).map(Some),
            None => Ok(None),
        }
    }
}

op! {
    /// [`app::CheckToken`] for a token minted on this shard: `Some(false)` if it was revoked
    /// here, else what the fresh copy says; `None` when the copy is stale (the app's object
    /// answers for the record then; the revocation was checked here).
    CheckToken in AppShardObject => Option<bool> {
        pub check: app::CheckToken,
    }
    |cmd, kv, _now| {
        if app::revoked(kv, &cmd.check.jti)? {
            return Ok(Some(false));
        }
        Ok(fresh(kv)?.map(|r| app::token_fits(&r, &cmd.check)))
    }
}

op! {
    /// RFC 7009: the access token `jti` (minted on this shard) is dead until it would have
    /// expired anyway.
    RevokeJti in AppShardObject => () {
        pub jti: String,
        pub exp: i64,
    }
    |cmd, kv, _now| {
        kv.put(&app::revoked_key(&cmd.jti), "1", Some(cmd.exp))
    }
}

op! {
    /// [`app::UseAssertion`] for an assertion whose `jti` hashes to this shard: the `jti` is
    /// recorded first (a replay is refused here, under races too), then the key is checked
    /// against the fresh copy; `None` when the copy is stale (the app's object checks the key
    /// then, `app::AssertionKey`).
    UseAssertion in AppShardObject => Option<Client> {
        pub assertion: app::UseAssertion,
    }
    |cmd, kv, _now| {
        let a = cmd.assertion;
        let Some(rec) = fresh(kv)? else {
            app::use_jti(kv, &a.jti, a.exp)?;
            return Ok(None);
        };
        let client = app::active_client(&rec)?;
        app::assertion_key(&rec, &a.kid)?;
        app::use_jti(kv, &a.jti, a.exp)?;
        Ok(Some(client))
    }
}
