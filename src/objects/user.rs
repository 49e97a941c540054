//! `user:<user id>`: one person's profile and the scopes they consented to, per app.

use super::protocol::{kind, load, op, save};
use serde::{Deserialize, Serialize};

kind!(User = "user", object);

const PROFILE: &str = "profile";

fn consent_key(client_id: &str) -> String {
    format!("consent:{client_id}")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub id: String,
    pub email: String,
    pub name: String,
    pub created_at: i64,
    /// The account's email is verified (see `account::AccountRecord::email_verified`); OpenID
    /// Connect's `email_verified`.
    #[serde(default)]
    pub email_verified: bool,
}

op! {
    PutProfile in User => () {
        pub profile: Profile,
    }
    |cmd, kv, _now| {
        save(kv, PROFILE, &cmd.profile, None)
    }
}

op! {
    GetProfile in User => Option<Profile> {}
    |_, kv, _now| {
        load(kv, PROFILE)
    }
}

op! {
    /// The scopes the person consented to for `client_id` (empty when none).
    GetConsent in User => Vec<String> {
        pub client_id: String,
    }
    |cmd, kv, _now| {
        Ok(load(kv, &consent_key(&cmd.client_id))?.unwrap_or_default())
    }
}

op! {
    SaveConsent in User => () {
        pub client_id: String,
        pub scopes: Vec<String>,
    }
    |cmd, kv, _now| {
        save(kv, &consent_key(&cmd.client_id), &cmd.scopes, None)
    }
}

/// The person's live sessions (at most [`MAX_SESSIONS`]), so that they can be listed and ended
/// everywhere at once (sign-out everywhere, a password reset, account deletion).
const SESSIONS: &str = "sessions";

/// Sessions kept per person; a log-in beyond it ends the oldest session.
pub const MAX_SESSIONS: usize = 30;

/// One session as the person's index knows it: its object (the SHA-256 of its cookie), never
/// the cookie.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionEntry {
    pub hash: String,
    pub started_at: i64,
    pub expires_at: i64,
    #[serde(default)]
    pub amr: Vec<String>,
    /// The browser's `User-Agent`, shortened (shown on the account page only).
    #[serde(default)]
    pub agent: String,
}

/// Which sessions [`ForgetSessions`] takes out of the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Which {
    /// The one session of this hash.
    One(String),
    /// Every session but the one of this hash (all when `None`).
    AllBut(Option<String>),
}

fn live_sessions(kv: &dyn super::kv::Kv, now: i64) -> crate::error::Result<Vec<SessionEntry>> {
    let all: Vec<SessionEntry> = load(kv, SESSIONS)?.unwrap_or_default();
    Ok(all.into_iter().filter(|s| s.expires_at > now).collect())
}

fn save_sessions(kv: &mut dyn super::kv::Kv, list: &[SessionEntry]) -> crate::error::Result<()> {
    match list.iter().map(|s| s.expires_at).max() {
        Some(last) => save(kv, SESSIONS, &list, Some(last)),
        None => kv.delete(SESSIONS),
    }
}

op! {
    /// Adds a new session to the index; answers the sessions it pushed out (the oldest, beyond
    /// [`MAX_SESSIONS`]), which the caller ends.
    TrackSession in User => Vec<String> {
        pub entry: SessionEntry,
    }
    |cmd, kv, now| {
        let mut list = live_sessions(kv, now)?;
        list.retain(|s| s.hash != cmd.entry.hash);
        list.push(cmd.entry);
        let over = list.len().saturating_sub(MAX_SESSIONS);
        let evicted: Vec<String> = list.drain(..over).map(|s| s.hash).collect();
        save_sessions(kv, &list)?;
        Ok(evicted)
    }
}

op! {
    /// The person's live sessions, oldest first.
    ListSessions in User => Vec<SessionEntry> {}
    |_, kv, now| {
        live_sessions(kv, now)
    }
}

op! {
    /// Takes sessions out of the index and answers them; the caller ends their objects.
    ForgetSessions in User => Vec<SessionEntry> {
        pub which: Which,
    }
    |cmd, kv, now| {
        let list = live_sessions(kv, now)?;
        let (gone, kept): (Vec<SessionEntry>, Vec<SessionEntry>) = list.into_iter().partition(|s| match &cmd.which {
            Which::One(h) => &s.hash == h,
            Which::AllBut(keep) => keep.as_deref() != Some(s.hash.as_str()),
        });
        save_sessions(kv, &kept)?;
        Ok(gone)
    }
}
