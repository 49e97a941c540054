//! `session:<sha256 of the cookie>`: one log-in session. The cookie's value is never stored.

use super::kv::Kv;
use super::protocol::{kind, load, save, Op};
use crate::error::Result;
use serde::{Deserialize, Serialize};

kind!(Session = "session",
    /// The session object of a cookie value's SHA-256 (hex).
    object);

const SESSION: &str = "session";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub expires_at: i64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Create {
    pub record: SessionRecord,
}
impl Op for Create {
    type Kind = Session;
    type Reply = ();
    fn apply(self, kv: &mut dyn Kv, _now: i64) -> Result<()> {
        let exp = self.record.expires_at;
        save(kv, SESSION, &self.record, Some(exp))
    }
}

/// The session while it lasts.
#[derive(Debug, Serialize, Deserialize)]
pub struct Get {}
impl Op for Get {
    type Kind = Session;
    type Reply = Option<SessionRecord>;
    fn apply(self, kv: &mut dyn Kv, now: i64) -> Result<Option<SessionRecord>> {
        Ok(load::<SessionRecord>(kv, SESSION)?.filter(|s| s.expires_at > now))
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Delete {}
impl Op for Delete {
    type Kind = Session;
    type Reply = ();
    fn apply(self, kv: &mut dyn Kv, _now: i64) -> Result<()> {
        kv.delete(SESSION)
    }
}
