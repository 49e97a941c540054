//! `session:<sha256 of the cookie>`: one log-in session. The cookie's value is never stored.

use super::protocol::{kind, load, op, save};
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

op! {
    Create in Session => () {
        pub record: SessionRecord,
    }
    |cmd, kv, _now| {
        let exp = cmd.record.expires_at;
        save(kv, SESSION, &cmd.record, Some(exp))
    }
}

op! {
    /// The session while it lasts.
    Get in Session => Option<SessionRecord> {}
    |_, kv, now| {
        Ok(load::<SessionRecord>(kv, SESSION)?.filter(|s| s.expires_at > now))
    }
}

op! {
    Delete in Session => () {}
    |_, kv, _now| {
        kv.delete(SESSION)
    }
}
