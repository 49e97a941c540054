//! `pushed:<sha256 of the reference>`: one pushed authorization request (RFC 9126; the rules
//! are `rules::par`). It holds the request's parameters as the client pushed them and the client
//! it belongs to. [`Open`] reads it for the authorization endpoint (each page of the interaction
//! reads it again; the first read binds it to the interaction's longer deadline), [`Take`] uses
//! it up when a code is issued or the person denies: two racing uses get it once.

use super::protocol::{kind, load, op, save};
use crate::error::{Error, ErrorCode};
use crate::rules::par;
use serde::{Deserialize, Serialize};

kind!(Pushed = "pushed",
    /// The object of a pushed request's reference's SHA-256 (hex).
    object);

const REQUEST: &str = "request";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedRecord {
    pub client_id: String,
    /// The authorization request's parameters, as pushed (client authentication removed).
    pub params: Vec<(String, String)>,
    /// Until when it can be used: `EXPIRES_IN` after the push, then `INTERACTION` after the
    /// browser first arrived with it.
    pub expires_at: i64,
    /// Whether the browser arrived with it already.
    #[serde(default)]
    pub opened: bool,
}

op! {
    /// Stores a new pushed request; a reference collision (never, with 32 random bytes) is refused.
    Create in Pushed => () {
        pub record: PushedRecord,
    }
    |cmd, kv, _now| {
        if kv.get(REQUEST)?.is_some() {
            return Err(Error::new(ErrorCode::ServerError, "pushed request exists"));
        }
        let exp = cmd.record.expires_at;
        save(kv, REQUEST, &cmd.record, Some(exp))
    }
}

op! {
    /// The request's parameters for `client_id` while it lasts, left in place; the first read
    /// moves its deadline to the interaction's. Another client's reference reads as none.
    Open in Pushed => Option<Vec<(String, String)>> {
        pub client_id: String,
    }
    |cmd, kv, now| {
        let Some(mut r) = load::<PushedRecord>(kv, REQUEST)?.filter(|r| par::alive(r.expires_at, now)) else {
            return Ok(None);
        };
        if r.client_id != cmd.client_id {
            return Ok(None);
        }
        if !r.opened {
            r.opened = true;
            r.expires_at = now.saturating_add(par::INTERACTION);
            let exp = r.expires_at;
            save(kv, REQUEST, &r, Some(exp))?;
        }
        Ok(Some(r.params))
    }
}

op! {
    /// Uses the request up: answers whether it was there (for `client_id`, alive) and deletes it
    /// in one step.
    Take in Pushed => bool {
        pub client_id: String,
    }
    |cmd, kv, now| {
        let Some(r) = load::<PushedRecord>(kv, REQUEST)?.filter(|r| par::alive(r.expires_at, now)) else {
            kv.delete(REQUEST)?;
            return Ok(false);
        };
        if r.client_id != cmd.client_id {
            return Ok(false);
        }
        kv.delete(REQUEST)?;
        Ok(true)
    }
}
