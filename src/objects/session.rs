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
    /// When the person logged in (OpenID Connect `auth_time`); absent in sessions made before
    /// it was kept (see [`SessionRecord::auth_time`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logged_in_at: Option<i64>,
    /// A random session id for OpenID Connect (`sid`): neither the cookie nor its hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// How the person logged in (RFC 8176 values, e.g. `pwd`, `otp`, `mfa`, `hwk`); empty in
    /// sessions made before it was kept, which were password log-ins (see [`SessionRecord::amr`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
}

impl SessionRecord {
    /// When the person logged in; for a session made before that was kept, when it was made
    /// as far as its expiry tells (`ttl` the session lifetime), never later than `now`.
    pub fn auth_time(&self, ttl: u64, now: i64) -> i64 {
        self.logged_in_at
            .unwrap_or_else(|| self.expires_at.saturating_sub(ttl as i64))
            .min(now)
    }

    /// The session's authentication methods: `["pwd"]` for a session that predates them.
    pub fn amr(&self) -> Vec<String> {
        if self.amr.is_empty() {
            vec!["pwd".to_owned()]
        } else {
            self.amr.clone()
        }
    }
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
    /// Ends the session and answers what it was, if it was live (one step: a session ended
    /// everywhere is read and deleted at once).
    Take in Session => Option<SessionRecord> {}
    |_, kv, now| {
        let s = load::<SessionRecord>(kv, SESSION)?.filter(|s| s.expires_at > now);
        kv.delete(SESSION)?;
        Ok(s)
    }
}

op! {
    Delete in Session => () {}
    |_, kv, _now| {
        kv.delete(SESSION)
    }
}
