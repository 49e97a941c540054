//! What the Durable Objects do. Each object (a "shard") is named by what it guards:
//!
//! | shard name        | holds                                                         |
//! |-------------------|---------------------------------------------------------------|
//! | `app:<client_id>` | the [`AppRecord`] (secret hash, status, epoch), used assertion `jti`s, revoked access-token `jti`s |
//! | `owner:<owner>`   | the ids of the owner's apps (the 1000-app limit is counted here) |
//! | `issuer`          | the development signing key, when no `SIGNING_KEYS` secret is set |
//!
//! `apply` runs one [`Command`] against one shard's [`Kv`] without awaiting anything, so in
//! workerd (synchronous SQLite inside the object) each command is atomic: racing redemptions,
//! replays and counter increments are serialised by the object.

use super::kv::Kv;
use crate::model::{App, AppRecord, Status};
use crate::oauth::error::{Error, ErrorCode, Result};
use crate::util::ct_eq;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Command {
    // --- app:<client_id> ---
    CreateApp {
        record: AppRecord,
    },
    GetApp,
    UpdateApp {
        app: App,
    },
    DeleteApp,
    RotateSecret {
        secret_hash: String,
    },
    AddKey {
        jwk: serde_json::Value,
    },
    RemoveKey {
        kid: String,
    },
    /// Client authentication: by secret hash, or (public clients) by id alone.
    Authenticate {
        secret_hash: Option<String>,
    },
    /// Accepts a signed assertion once: the key must still be registered, the `jti` unseen.
    UseAssertion {
        jti: String,
        exp: i64,
        kid: String,
    },
    /// Is an access token minted under `epoch` (with assertion key `kid`) still alive?
    CheckToken {
        jti: String,
        epoch: u64,
        kid: Option<String>,
    },
    RevokeJti {
        jti: String,
        exp: i64,
    },
    // --- owner:<owner> ---
    Reserve {
        app_id: String,
        limit: u32,
    },
    Release {
        app_id: String,
    },
    ListOwned {
        after: Option<String>,
        limit: usize,
    },
    // --- issuer ---
    /// Returns the stored development key, storing `candidate` first if there is none.
    DevKey {
        candidate: Option<String>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "r", rename_all = "snake_case")]
pub enum Reply {
    Ok,
    Client {
        app: App,
        epoch: u64,
    },
    Active {
        active: bool,
    },
    Ids {
        ids: Vec<String>,
        next: Option<String>,
    },
    Key {
        pem: Option<String>,
    },
    Err {
        code: ErrorCode,
        description: String,
    },
}

impl Reply {
    pub fn into_result(self) -> Result<Reply> {
        match self {
            Reply::Err { code, description } => Err(Error::new(code, description)),
            r => Ok(r),
        }
    }
}

impl From<Error> for Reply {
    fn from(e: Error) -> Self {
        Reply::Err {
            code: e.code,
            description: e.description,
        }
    }
}

const RECORD: &str = "record";
const COUNT: &str = "count";
const DEV_KEY: &str = "dev_key";
/// Compared against when a client has no secret, so both paths cost the same.
const DUMMY_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub fn apply(kv: &mut dyn Kv, now: i64, cmd: Command) -> Reply {
    match run(kv, now, cmd) {
        Ok(r) => r,
        Err(e) => e.into(),
    }
}

fn load(kv: &dyn Kv) -> Result<Option<AppRecord>> {
    match kv.get(RECORD)? {
        None => Ok(None),
        Some(s) => serde_json::from_str(&s)
            .map(Some)
            .map_err(|_| Error::server("stored app record is unreadable")),
    }
}

fn save(kv: &mut dyn Kv, rec: &AppRecord) -> Result<()> {
    let s = serde_json::to_string(rec).map_err(|_| Error::server("cannot encode app record"))?;
    kv.put(RECORD, &s, None)
}

fn live(kv: &dyn Kv) -> Result<AppRecord> {
    match load(kv)? {
        Some(r) if r.app.status != Status::Deleted => Ok(r),
        _ => Err(Error::not_found("no such app")),
    }
}

fn client(rec: &AppRecord) -> Reply {
    Reply::Client {
        app: rec.app.clone(),
        epoch: rec.epoch,
    }
}

fn run(kv: &mut dyn Kv, now: i64, cmd: Command) -> Result<Reply> {
    kv.purge_expired(now)?;
    match cmd {
        Command::CreateApp { record } => {
            if load(kv)?.is_some() {
                return Err(Error::new(
                    ErrorCode::InvalidRequest,
                    "client_id already exists",
                ));
            }
            save(kv, &record)?;
            Ok(client(&record))
        }
        Command::GetApp => load(kv)?
            .map(|r| client(&r))
            .ok_or_else(|| Error::not_found("no such app")),
        Command::UpdateApp { app } => {
            let mut rec = live(kv)?;
            if app.client_id != rec.app.client_id {
                return Err(Error::invalid_request("client_id cannot change"));
            }
            if app.status != rec.app.status {
                // Disabling (or re-enabling) starts a new epoch: tokens from before stay dead.
                rec.epoch += 1;
            }
            rec.app = App {
                keys: rec.app.keys.clone(),
                updated_at: now,
                ..app
            };
            save(kv, &rec)?;
            Ok(client(&rec))
        }
        Command::DeleteApp => {
            let mut rec = live(kv)?;
            rec.app.status = Status::Deleted;
            rec.app.keys.clear();
            rec.app.updated_at = now;
            rec.secret_hash = None;
            rec.epoch += 1;
            save(kv, &rec)?;
            Ok(client(&rec))
        }
        Command::RotateSecret { secret_hash } => {
            let mut rec = live(kv)?;
            rec.secret_hash = Some(secret_hash);
            rec.epoch += 1;
            rec.app.updated_at = now;
            save(kv, &rec)?;
            Ok(client(&rec))
        }
        Command::AddKey { jwk } => {
            let mut rec = live(kv)?;
            let kid = jwk
                .get("kid")
                .and_then(|k| k.as_str())
                .unwrap_or_default()
                .to_owned();
            if rec.app.key_ids().any(|k| k == kid) {
                return Err(Error::invalid_request("this key is already registered"));
            }
            if rec.app.keys.len() >= 10 {
                return Err(Error::invalid_request("an app holds at most 10 keys"));
            }
            rec.app.keys.push(jwk);
            rec.app.updated_at = now;
            save(kv, &rec)?;
            Ok(client(&rec))
        }
        Command::RemoveKey { kid } => {
            let mut rec = live(kv)?;
            let before = rec.app.keys.len();
            rec.app
                .keys
                .retain(|k| k.get("kid").and_then(|v| v.as_str()) != Some(kid.as_str()));
            if rec.app.keys.len() == before {
                return Err(Error::not_found("no such key"));
            }
            rec.app.updated_at = now;
            save(kv, &rec)?;
            Ok(client(&rec))
        }
        Command::Authenticate { secret_hash } => {
            let rec = load(kv)?;
            let stored = rec
                .as_ref()
                .and_then(|r| r.secret_hash.as_deref())
                .unwrap_or(DUMMY_HASH);
            let presented = secret_hash.as_deref().unwrap_or("");
            let secret_ok = ct_eq(stored.as_bytes(), presented.as_bytes());
            let rec = match rec {
                Some(r) if r.app.status == Status::Active => r,
                Some(r) if r.app.status == Status::Disabled => {
                    return Err(Error::invalid_client("the client is disabled"))
                }
                _ => return Err(Error::invalid_client("unknown client")),
            };
            match secret_hash {
                Some(_) if rec.secret_hash.is_some() && secret_ok => Ok(client(&rec)),
                Some(_) => Err(Error::invalid_client("client authentication failed")),
                None if rec.app.is_public() => Ok(client(&rec)),
                None => Err(Error::invalid_client("client authentication is required")),
            }
        }
        Command::UseAssertion { jti, exp, kid } => {
            let rec = match load(kv)? {
                Some(r) if r.app.status == Status::Active => r,
                Some(r) if r.app.status == Status::Disabled => {
                    return Err(Error::invalid_client("the app is disabled"))
                }
                _ => return Err(Error::invalid_client("unknown app")),
            };
            if !rec.app.key_ids().any(|k| k == kid) {
                return Err(Error::invalid_client(
                    "the signing key is not registered for this app",
                ));
            }
            let key = format!("jti:{jti}");
            if kv.get(&key)?.is_some() {
                return Err(Error::invalid_client(
                    "the assertion was already used (jti replay)",
                ));
            }
            kv.put(&key, "1", Some(exp))?;
            Ok(client(&rec))
        }
        Command::CheckToken { jti, epoch, kid } => {
            let active = match load(kv)? {
                Some(r) => {
                    r.app.status == Status::Active
                        && r.epoch == epoch
                        && kid
                            .as_deref()
                            .is_none_or(|k| r.app.key_ids().any(|x| x == k))
                        && kv.get(&format!("rev:{jti}"))?.is_none()
                }
                None => false,
            };
            Ok(Reply::Active { active })
        }
        Command::RevokeJti { jti, exp } => {
            kv.put(&format!("rev:{jti}"), "1", Some(exp))?;
            Ok(Reply::Ok)
        }
        Command::Reserve { app_id, limit } => {
            let count: u32 = kv.get(COUNT)?.and_then(|c| c.parse().ok()).unwrap_or(0);
            if count >= limit {
                return Err(Error::new(
                    ErrorCode::LimitReached,
                    format!("this owner already has {count} apps; the limit is {limit}"),
                ));
            }
            kv.put(&format!("app:{app_id}"), "1", None)?;
            kv.put(COUNT, &(count + 1).to_string(), None)?;
            Ok(Reply::Ok)
        }
        Command::Release { app_id } => {
            let key = format!("app:{app_id}");
            if kv.get(&key)?.is_some() {
                kv.delete(&key)?;
                let count: u32 = kv.get(COUNT)?.and_then(|c| c.parse().ok()).unwrap_or(1);
                kv.put(COUNT, &count.saturating_sub(1).to_string(), None)?;
            }
            Ok(Reply::Ok)
        }
        Command::ListOwned { after, limit } => {
            let after = after.map(|a| format!("app:{a}"));
            let rows = kv.list("app:", after.as_deref(), limit + 1)?;
            let mut ids: Vec<String> = rows.into_iter().map(|(k, _)| k[4..].to_owned()).collect();
            let next = if ids.len() > limit {
                ids.truncate(limit);
                ids.last().cloned()
            } else {
                None
            };
            Ok(Reply::Ids { ids, next })
        }
        Command::DevKey { candidate } => {
            if let Some(pem) = kv.get(DEV_KEY)? {
                return Ok(Reply::Key { pem: Some(pem) });
            }
            if let Some(pem) = &candidate {
                kv.put(DEV_KEY, pem, None)?;
            }
            Ok(Reply::Key { pem: candidate })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::kv::MemKv;

    #[test]
    fn reserve_stops_at_the_limit_and_release_frees_a_slot() {
        let mut kv = MemKv::default();
        for i in 0..3 {
            assert!(matches!(
                apply(
                    &mut kv,
                    0,
                    Command::Reserve {
                        app_id: format!("a{i}"),
                        limit: 3
                    }
                ),
                Reply::Ok
            ));
        }
        let r = apply(
            &mut kv,
            0,
            Command::Reserve {
                app_id: "a3".into(),
                limit: 3,
            },
        );
        assert!(matches!(
            r,
            Reply::Err {
                code: ErrorCode::LimitReached,
                ..
            }
        ));
        apply(
            &mut kv,
            0,
            Command::Release {
                app_id: "a1".into(),
            },
        );
        apply(
            &mut kv,
            0,
            Command::Release {
                app_id: "a1".into(),
            },
        );
        assert!(matches!(
            apply(
                &mut kv,
                0,
                Command::Reserve {
                    app_id: "a3".into(),
                    limit: 3
                }
            ),
            Reply::Ok
        ));
        assert!(matches!(
            apply(
                &mut kv,
                0,
                Command::Reserve {
                    app_id: "a4".into(),
                    limit: 3
                }
            ),
            Reply::Err { .. }
        ));
    }

    #[test]
    fn list_owned_pages() {
        let mut kv = MemKv::default();
        for i in 0..5 {
            apply(
                &mut kv,
                0,
                Command::Reserve {
                    app_id: format!("a{i}"),
                    limit: 10,
                },
            );
        }
        let Reply::Ids { ids, next } = apply(
            &mut kv,
            0,
            Command::ListOwned {
                after: None,
                limit: 2,
            },
        ) else {
            panic!()
        };
        assert_eq!(ids, vec!["a0", "a1"]);
        let Reply::Ids { ids, next } = apply(
            &mut kv,
            0,
            Command::ListOwned {
                after: next,
                limit: 2,
            },
        ) else {
            panic!()
        };
        assert_eq!(ids, vec!["a2", "a3"]);
        let Reply::Ids { ids, next } = apply(
            &mut kv,
            0,
            Command::ListOwned {
                after: next,
                limit: 2,
            },
        ) else {
            panic!()
        };
        assert_eq!(ids, vec!["a4"]);
        assert!(next.is_none());
    }

    #[test]
    fn dev_key_is_stored_once() {
        let mut kv = MemKv::default();
        let Reply::Key { pem } = apply(&mut kv, 0, Command::DevKey { candidate: None }) else {
            panic!()
        };
        assert!(pem.is_none());
        let Reply::Key { pem } = apply(
            &mut kv,
            0,
            Command::DevKey {
                candidate: Some("A".into()),
            },
        ) else {
            panic!()
        };
        assert_eq!(pem.as_deref(), Some("A"));
        let Reply::Key { pem } = apply(
            &mut kv,
            0,
            Command::DevKey {
                candidate: Some("B".into()),
            },
        ) else {
            panic!()
        };
        assert_eq!(pem.as_deref(), Some("A"));
    }

    #[test]
    fn revoked_jti_expires_with_the_token() {
        let mut kv = MemKv::default();
        apply(
            &mut kv,
            100,
            Command::RevokeJti {
                jti: "j".into(),
                exp: 200,
            },
        );
        assert!(kv.get("rev:j").unwrap().is_some());
        apply(
            &mut kv,
            201,
            Command::RevokeJti {
                jti: "k".into(),
                exp: 300,
            },
        );
        assert!(kv.get("rev:j").unwrap().is_none());
    }
}
