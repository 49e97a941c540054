//! One app over several objects (issue 17): its own object `app:<client_id>` (shard 0,
//! authoritative) and the replicas `appshard:<client_id>:<k>` (`objects::app_shard`). This is
//! where a hot command picks its shard, where a stale replica is re-synced or passed over, and
//! where a change of the record fences and refreshes every replica. The design, the guarantees
//! and the capacity model are in docs/DESIGN.md ("One app over several objects").

use crate::config::Config;
use crate::error::{Error, ErrorCode, Result};
use crate::objects::app::{self, AppObject, Client};
use crate::objects::app_shard::{self, AppShardObject, SHARDS};
use crate::objects::{Name, Op};
use crate::platform::Platform;
use crate::util::sha256;

/// Over how many shards client authentication and the limits are spread: `APP_SHARDS`
/// (1 … [`SHARDS`]), never more than either limit, so every shard's share of each is at least 1.
pub fn spread(c: &Config) -> u32 {
    c.app_shards
        .min(SHARDS)
        .min(c.token_rate_limit)
        .min(c.auth_failure_limit)
        .max(1)
}

/// Shard `k`'s share of `limit` over `n` shards: the first `limit mod n` get one more, so the
/// shares sum to `limit` exactly.
pub fn share(limit: u32, n: u32, k: u32) -> u32 {
    let n = n.max(1);
    limit / n + u32::from(k < limit % n)
}

/// A random number below `n` (`n` ≤ 256), from the platform's generator.
fn random_below(p: &impl Platform, n: u32) -> Result<u32> {
    let mut b = [0u8; 1];
    p.fill_random(&mut b)?;
    let [byte] = b;
    Ok(u32::from(byte) % n.max(1))
}

/// Client authentication (secret or public client) on a random one of the app's shards, with
/// that shard's share of `TOKEN_RATE_LIMIT` and `AUTH_FAILURE_LIMIT`. A shard whose share is
/// used up (429) passes the request to the next, so a request is refused only once every
/// shard's share is used: at most the limit passes in a window, and nothing is refused below it.
pub async fn authenticate(
    p: &impl Platform,
    id: &str,
    secret_hash: Option<String>,
    address: String,
) -> Result<Client> {
    let c = p.config();
    let n = spread(c);
    let start = random_below(p, n)?;
    let mut limited = None;
    for step in 0..n {
        let k = (start + step) % n;
        let cmd = |k: u32| app::Authenticate {
            secret_hash: secret_hash.clone(),
            rate_limit: share(c.token_rate_limit, n, k),
            address: address.clone(),
            failure_limit: share(c.auth_failure_limit, n, k),
        };
        let answer = match app_shard::object(id, k) {
            None => p.call(&app::object(id), cmd(0)).await,
            Some(replica) => on_replica(p, id, &replica, || cmd(k), cmd(0)).await,
        };
        match answer {
            Err(e) if e.code == ErrorCode::RateLimited => limited = Some(e),
            other => return other,
        }
    }
    Err(limited.unwrap_or_else(|| Error::new(ErrorCode::RateLimited, "too many requests")))
}

/// Authentication on replica `replica`: its answer (a used-up share is an error the caller
/// passes over), or, when its copy is stale and cannot be refreshed now, the app's object's with
/// the app's object's own share (`home`).
async fn on_replica(
    p: &impl Platform,
    id: &str,
    replica: &Name<AppShardObject>,
    auth: impl Fn() -> app::Authenticate,
    home: app::Authenticate,
) -> Result<Client> {
    if let Some(client) = p.call(replica, app_shard::Authenticate { auth: auth() }).await? {
        return Ok(client);
    }
    if sync(p, id, replica).await? {
        if let Some(client) = p.call(replica, app_shard::Authenticate { auth: auth() }).await? {
            return Ok(client);
        }
    }
    p.call(&app::object(id), home).await
}

/// Copies the app's record into a stale or empty replica; whether it is fresh now. An app
/// that does not exist leaves the replica as it is.
async fn sync(
    p: &impl Platform,
    id: &str,
    replica: &crate::objects::Name<app_shard::AppShardObject>,
) -> Result<bool> {
    let home = app::object(id);
    let record = match p.call(&home, app::Snapshot {}).await {
        Ok(record) => record,
        Err(e) if e.code == ErrorCode::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    let revision = record.revision;
    if p.call(replica, app_shard::Install { record }).await? {
        return Ok(true);
    }
    // Still stale after the newest record: a change fenced it at the next revision and has not
    // made it. One in flight finishes in well under FENCE_LAPSE_SECONDS; past that its writer
    // died between fencing and applying, and the fence would stay up until the app's next
    // change (every request on this shard sent to the app's object, with its share only). Lift
    // it by committing that revision as an empty change: if the writer was alive after all, its
    // own apply then fails as "changed meanwhile" and it fences again (`change`).
    let (fence, at) = p.call(replica, app_shard::Fenced {}).await?;
    if fence == revision.saturating_add(1)
        && p.now().saturating_sub(at) >= FENCE_LAPSE_SECONDS
        && p.call(&home, app::Touch { expect: fence }).await.is_ok()
    {
        install(p, id).await;
        let record = p.call(&home, app::Snapshot {}).await?;
        return p.call(replica, app_shard::Install { record }).await;
    }
    Ok(false)
}

/// How long a fence may stand without its change before a caller lifts it (`sync`).
pub const FENCE_LAPSE_SECONDS: i64 = 30;

/// The shard an access token was minted on, from its `jti`: `<k>.<random>` with one digit
/// `k` < [`SHARDS`]; a `jti` without a `.` is a token from before shards (its revocation is in
/// the app's object, shard 0). Anything else names no shard: `None` (the token is not alive).
pub fn shard_of_jti(jti: &str) -> Option<u32> {
    match jti.split_once('.') {
        None => Some(0),
        Some((k, rest)) if k.len() == 1 && !rest.is_empty() => k.parse::<u32>().ok().filter(|k| *k < SHARDS),
        Some(_) => None,
    }
}

/// The shard a new access token is minted on: random among those authentication spreads over.
pub fn mint_shard(p: &impl Platform) -> Result<u32> {
    random_below(p, spread(p.config()))
}

/// Is an access token still alive as far as the app goes (status, epoch, key, revocation)?
/// Asked in the shard its `jti` names; a stale replica is re-synced, else the app's object
/// answers for the record.
pub async fn check_token(p: &impl Platform, client_id: &str, check: app::CheckToken) -> Result<bool> {
    let Some(k) = shard_of_jti(&check.jti) else {
        return Ok(false);
    };
    let Some(replica) = app_shard::object(client_id, k) else {
        return p.call(&app::object(client_id), check).await;
    };
    let again = || app::CheckToken {
        jti: check.jti.clone(),
        epoch: check.epoch,
        kid: check.kid.clone(),
    };
    if let Some(alive) = p.call(&replica, app_shard::CheckToken { check: again() }).await? {
        return Ok(alive);
    }
    if sync(p, client_id, &replica).await? {
        if let Some(alive) = p.call(&replica, app_shard::CheckToken { check: again() }).await? {
            return Ok(alive);
        }
    }
    // Not revoked (the replica said so); the record's half from the app's object.
    p.call(&app::object(client_id), check).await
}

/// RFC 7009 for an access token: recorded in the shard its `jti` names (nothing for a `jti`
/// that names none: such a token is never alive).
pub async fn revoke_jti(p: &impl Platform, client_id: &str, jti: String, exp: i64) -> Result<()> {
    match shard_of_jti(&jti) {
        None => Ok(()),
        Some(k) => match app_shard::object(client_id, k) {
            None => p.call(&app::object(client_id), app::RevokeJti { jti, exp }).await,
            Some(replica) => p.call(&replica, app_shard::RevokeJti { jti, exp }).await,
        },
    }
}

/// An assertion's `jti` (already a hash) is kept in the shard it hashes to, so every use of
/// one `jti` meets in one object.
fn assertion_shard(jti: &str) -> u32 {
    sha256(jti.as_bytes())
        .first()
        .map_or(0, |b| u32::from(*b) % SHARDS)
}

/// Accepts an assertion once (`jti`) if its key is still registered for the active app.
pub async fn use_assertion(p: &impl Platform, iss: &str, a: app::UseAssertion) -> Result<Client> {
    let Some(replica) = app_shard::object(iss, assertion_shard(&a.jti)) else {
        return p.call(&app::object(iss), a).await;
    };
    let kid = a.kid.clone();
    match p.call(&replica, app_shard::UseAssertion { assertion: a }).await? {
        Some(client) => Ok(client),
        None => {
            // The jti is recorded in the replica; its copy of the record was stale. Refreshed for
            // the next one, and the key checked in the app's object now.
            sync(p, iss, &replica).await.ok();
            p.call(&app::object(iss), app::AssertionKey { kid }).await
        }
    }
}

/// Every replica of app `id`, by name (erasure, fences, installs).
pub fn replica_names(id: &str) -> impl Iterator<Item = crate::objects::Name<app_shard::AppShardObject>> + '_ {
    (1..SHARDS).filter_map(move |k| app_shard::object(id, k))
}

/// Changes the record of app `id` without a window in which a replica could answer from the
/// record before it: (1) read the revision `r` the change will make, (2) fence every replica at
/// `r` (from then on each answers "stale" until it holds revision `r` or later), (3) apply the
/// change in the app's object only if it makes revision `r` (else another change came first:
/// again from (1), at most three times), (4) install the new record in every replica. A failed
/// (2) or a change refused at (3) commits an empty change at `r` (`Touch`) and installs it, so
/// fences do not stay up; a failed (4) leaves a replica fenced until it is re-synced from the
/// app's object on its next use.
pub async fn change<O, F>(p: &impl Platform, id: &str, make: F) -> Result<Client>
where
    O: Op<Kind = AppObject, Reply = Client>,
    F: Fn(Option<u64>) -> O,
{
    let home = app::object(id);
    for _ in 0..3 {
        let r = p.call(&home, app::Snapshot {}).await?.revision.saturating_add(1);
        let mut fenced = Ok(());
        for replica in replica_names(id) {
            if let Err(e) = p.call(&replica, app_shard::Fence { revision: r }).await {
                fenced = Err(e);
                break;
            }
        }
        let outcome = match fenced {
            Ok(()) => p.call(&home, make(Some(r))).await,
            Err(e) => Err(e),
        };
        match outcome {
            Err(e) if e.description == app::CHANGED_MEANWHILE => continue,
            Err(e) => {
                // Nothing changed: lift the fences with an empty change (if none came meanwhile).
                if p.call(&home, app::Touch { expect: r }).await.is_ok() {
                    install(p, id).await;
                }
                return Err(e);
            }
            Ok(client) => {
                install(p, id).await;
                return Ok(client);
            }
        }
    }
    Err(Error::new(ErrorCode::TemporarilyUnavailable, app::CHANGED_MEANWHILE).with_header("retry-after", "1"))
}

/// Gives every replica the app's record as it now is (failures left to the next re-sync).
async fn install(p: &impl Platform, id: &str) {
    let Ok(record) = p.call(&app::object(id), app::Snapshot {}).await else {
        return;
    };
    for replica in replica_names(id) {
        p.call(
            &replica,
            app_shard::Install {
                record: record.clone(),
            },
        )
        .await
        .ok();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_sum_to_the_limit_and_differ_by_at_most_one() {
        for limit in [1u32, 2, 7, 8, 9, 10, 100, 6000, 6001, u32::MAX] {
            for n in 1..=SHARDS {
                let s: Vec<u32> = (0..n).map(|k| share(limit, n, k)).collect();
                assert_eq!(
                    s.iter().map(|x| u64::from(*x)).sum::<u64>(),
                    u64::from(limit),
                    "{limit} {n}"
                );
                assert!(s.iter().max().unwrap() - s.iter().min().unwrap() <= 1);
            }
        }
    }

    #[test]
    fn a_jti_names_its_shard_or_none() {
        assert_eq!(
            shard_of_jti("AbCdEf0123456789_-xyzQ"),
            Some(0),
            "a token from before shards"
        );
        assert_eq!(shard_of_jti("0.abc"), Some(0));
        assert_eq!(shard_of_jti("7.abc"), Some(7));
        for hostile in [
            "8.abc",
            "9.abc",
            "10.abc",
            "-1.abc",
            "a.abc",
            ".abc",
            "1.",
            "",
            "1.a.b.c.",
            "\u{e9}.x",
            "\u{0663}.x",
        ] {
            let k = shard_of_jti(hostile);
            assert!(
                k.is_none() || hostile.is_empty() || hostile == "1.a.b.c.",
                "{hostile:?} -> {k:?}"
            );
        }
        assert_eq!(shard_of_jti(""), Some(0));
        assert_eq!(shard_of_jti("1.a.b.c."), Some(1));
        for k in 0..2 * SHARDS {
            assert_eq!(
                app_shard::object("client-id-0123456789", k).is_some(),
                (1..SHARDS).contains(&k)
            );
        }
    }
}
