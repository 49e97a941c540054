//! `ticket:<sha256 of the token>`: one link sent by email (verify an email, reset a password,
//! confirm a new email). The token is 32 random bytes in the link; only its SHA-256 names the
//! object, so what is stored cannot be turned back into a working link. A ticket is single-use
//! ([`Take`] reads and deletes it in one step) and short-lived (`MAIL_TOKEN_TTL`, 30 minutes by
//! default; expired tickets are purged).

use super::protocol::{kind, load, op, save};
use crate::error::{Error, ErrorCode};
use serde::{Deserialize, Serialize};

kind!(Ticket = "ticket",
    /// The ticket object of a token's SHA-256 (hex).
    object);

const TICKET: &str = "ticket";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "purpose")]
pub enum Purpose {
    /// Confirms that the account's email reaches its owner.
    Verify,
    /// Sets a new password. `password_tag` names the password the account had when the link was
    /// sent: once it changed (this reset or another), the link no longer works.
    Reset { password_tag: String },
    /// Moves the account to `new_email` (the link went to that address). `password_tag`, as
    /// for `Reset`: once the password changed (the person's own change, or an operator's forced
    /// reset), the link no longer works; a ticket without one (made before it was kept) never
    /// does.
    ChangeEmail {
        new_email: String,
        #[serde(default)]
        password_tag: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRecord {
    pub purpose: Purpose,
    pub user_id: String,
    /// The account's (normalised) email when the ticket was made.
    pub email: String,
    pub expires_at: i64,
}

op! {
    /// Stores a new ticket; a token collision (never, with 32 random bytes) is refused.
    Create in Ticket => () {
        pub record: TicketRecord,
    }
    |cmd, kv, _now| {
        if kv.get(TICKET)?.is_some() {
            return Err(Error::new(ErrorCode::ServerError, "ticket exists"));
        }
        let exp = cmd.record.expires_at;
        save(kv, TICKET, &cmd.record, Some(exp))
    }
}

op! {
    /// The ticket while it lasts, left in place (the page that asks for a new password).
    Peek in Ticket => Option<TicketRecord> {}
    |_, kv, now| {
        Ok(load::<TicketRecord>(kv, TICKET)?.filter(|t| t.expires_at > now))
    }
}

op! {
    /// Uses the ticket: answers it and deletes it in one step, so two racing uses get it once.
    Take in Ticket => Option<TicketRecord> {}
    |_, kv, now| {
        let t = load::<TicketRecord>(kv, TICKET)?.filter(|t| t.expires_at > now);
        kv.delete(TICKET)?;
        Ok(t)
    }
}
