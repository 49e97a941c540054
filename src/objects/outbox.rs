//! `outbox`: development only. Where email goes when no mail transport is configured and the
//! server is in development mode (no `ISSUER`): kept here so a person trying the server
//! locally, and the tests, can read it at `/dev/outbox` and `/dev/outbox.json`. One message per
//! idempotency key (`Mail::id`): the same message is never kept twice. The newest
//! [`KEPT`] messages are kept, each for a day.

use super::protocol::{kind, load, op, save};
use crate::platform::Mail;
use serde::{Deserialize, Serialize};

kind!(Outbox = "outbox");

/// The tenant's one outbox (its name is tenant-scoped like every other object).
pub fn object() -> super::Name<Outbox> {
    use super::Kind;
    super::Name::raw(Outbox::PREFIX.to_owned())
}

const MESSAGES: &str = "messages";

/// Messages kept; older ones go first.
pub const KEPT: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kept {
    #[serde(flatten)]
    pub mail: Mail,
    pub sent_at: i64,
}

op! {
    /// Keeps one message; answers `false` (and keeps nothing) when a message of the same id is
    /// already kept.
    Put in Outbox => bool {
        pub mail: Mail,
    }
    |cmd, kv, now| {
        let mut list: Vec<Kept> = load(kv, MESSAGES)?.unwrap_or_default();
        list.retain(|k| k.sent_at > now - 86_400);
        if list.iter().any(|k| k.mail.id == cmd.mail.id) {
            return Ok(false);
        }
        list.push(Kept { mail: cmd.mail, sent_at: now });
        let over = list.len().saturating_sub(KEPT);
        list.drain(..over);
        save(kv, MESSAGES, &list, Some(now + 86_400))?;
        Ok(true)
    }
}

op! {
    /// The kept messages, oldest first.
    List in Outbox => Vec<Kept> {}
    |_, kv, now| {
        let list: Vec<Kept> = load(kv, MESSAGES)?.unwrap_or_default();
        Ok(list.into_iter().filter(|k| k.sent_at > now - 86_400).collect())
    }
}
