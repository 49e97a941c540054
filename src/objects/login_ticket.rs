//! `login2fa:<sha256 of the ticket>`: a log-in halfway done. The password was right and the
//! person has a second factor, so no session started; the browser holds a random ticket (a
//! cookie, only its hash names the object) that carries them to `/login/2fa`. A ticket lives
//! five minutes ([`TTL`]), is used once ([`Take`]), and dies after [`MAX_TRIES`] codes.

use super::protocol::{kind, load, op, save};
use super::user::Profile;
use serde::{Deserialize, Serialize};

kind!(LoginTicket = "login2fa",
    /// The pending log-in whose ticket hashes (SHA-256, hex) to this.
    object);

const TICKET: &str = "ticket";

/// Seconds a ticket lasts.
pub const TTL: i64 = 300;
/// Codes one ticket may try; the next try finds it gone.
pub const MAX_TRIES: u32 = 5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketRecord {
    /// Who passed the first factor.
    pub profile: Profile,
    /// The methods of the first factor (RFC 8176 `amr` values, `["pwd"]`).
    pub amr: Vec<String>,
    /// Where to go once logged in (a local path, already checked).
    pub return_to: String,
    pub expires_at: i64,
    /// Codes tried so far.
    #[serde(default)]
    pub tries: u32,
}

op! {
    Create in LoginTicket => () {
        pub record: TicketRecord,
    }
    |cmd, kv, _now| {
        let exp = cmd.record.expires_at;
        save(kv, TICKET, &cmd.record, Some(exp))
    }
}

op! {
    /// The pending log-in while it lasts (for the page that asks for the code).
    Peek in LoginTicket => Option<TicketRecord> {}
    |_, kv, now| {
        Ok(load::<TicketRecord>(kv, TICKET)?.filter(|t| t.expires_at > now))
    }
}

op! {
    /// Counts one code tried with this ticket and answers the pending log-in (with the count),
    /// or `None` once it expired or had its [`MAX_TRIES`] (it is then deleted).
    Try in LoginTicket => Option<TicketRecord> {}
    |_, kv, now| {
        let Some(mut t) = load::<TicketRecord>(kv, TICKET)?.filter(|t| t.expires_at > now) else {
            return Ok(None);
        };
        if t.tries >= MAX_TRIES {
            kv.delete(TICKET)?;
            return Ok(None);
        }
        t.tries = t.tries.saturating_add(1);
        save(kv, TICKET, &t, Some(t.expires_at))?;
        Ok(Some(t))
    }
}

op! {
    /// Uses the ticket up: answers the pending log-in once, `None` ever after.
    Take in LoginTicket => Option<TicketRecord> {}
    |_, kv, now| {
        let t = load::<TicketRecord>(kv, TICKET)?.filter(|t| t.expires_at > now);
        kv.delete(TICKET)?;
        Ok(t)
    }
}
