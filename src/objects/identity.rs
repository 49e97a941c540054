//! Sign-in with another identity provider (`accounts::upstream`):
//!
//! - `idlink:<provider>:<sha256 of sub>`: which account an upstream identity signs in to. One
//!   object per identity makes "one account per identity" atomic under racing first sign-ins.
//! - `upstream:<sha256 of a random ticket>`: a single-use ticket of one sign-in in progress:
//!   the `state` sent to the upstream (with its nonce, PKCE verifier and the browser it is bound
//!   to), or a pending link to an existing account awaiting the person's confirmation. Taken
//!   atomically ([`TakeTicket`]), so a replayed `state` finds nothing.

use super::protocol::{kind, load, op, save};
use crate::error::{Error, ErrorCode};
use crate::util::{b64url, sha256};
use serde::{Deserialize, Serialize};

kind!(IdLink = "idlink");
kind!(Ticket = "upstream");

/// The link object of the identity `sub` at provider `provider` (the subject hashed: it is the
/// upstream's string, of any shape).
pub fn link(provider: &str, sub: &str) -> super::Name<IdLink> {
    super::Name::of(&format!("{provider}:{}", b64url(&sha256(sub.as_bytes()))))
}

/// The ticket object of a random ticket value (`state`, a confirmation token).
pub fn ticket(value: &str) -> super::Name<Ticket> {
    super::Name::of(&b64url(&sha256(value.as_bytes())))
}

const LINK: &str = "link";
const TICKET: &str = "ticket";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkRecord {
    pub user_id: String,
    /// The email the upstream gave when linked, and whether it said it was verified.
    pub email: String,
    pub email_verified: bool,
    pub linked_at: i64,
}

/// What a ticket holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum TicketRecord {
    /// A sign-in sent to the upstream: answered at its callback.
    State {
        provider: String,
        nonce: String,
        verifier: String,
        /// SHA-256 (base64url) of the browser's binding cookie.
        browser: String,
        return_to: String,
    },
    /// An upstream identity whose verified email has an account here: linked once the person
    /// proves they own that account (its password).
    Confirm {
        provider: String,
        sub: String,
        email: String,
        user_id: String,
        amr: Vec<String>,
        browser: String,
        return_to: String,
    },
}

op! {
    /// The identity's link, if it has one.
    GetLink in IdLink => Option<LinkRecord> {}
    |_, kv, _now| {
        load(kv, LINK)
    }
}

op! {
    /// Links the identity to `record.user_id` unless it is linked already; answers the link
    /// that holds (the first one, under races).
    CreateLink in IdLink => LinkRecord {
        pub record: LinkRecord,
    }
    |cmd, kv, _now| {
        if let Some(existing) = load::<LinkRecord>(kv, LINK)? {
            return Ok(existing);
        }
        save(kv, LINK, &cmd.record, None)?;
        Ok(cmd.record)
    }
}

op! {
    /// Keeps a ticket until `expires_at`; refuses to overwrite one (ticket values are random).
    PutTicket in Ticket => () {
        pub record: TicketRecord,
        pub expires_at: i64,
    }
    |cmd, kv, _now| {
        if kv.get(TICKET)?.is_some() {
            return Err(Error::new(ErrorCode::LimitReached, "ticket already exists"));
        }
        save(kv, TICKET, &cmd.record, Some(cmd.expires_at))
    }
}

op! {
    /// The ticket while it lasts, left in place (a confirmation page shown again).
    GetTicket in Ticket => Option<TicketRecord> {}
    |_, kv, _now| {
        load(kv, TICKET)
    }
}

op! {
    /// Takes the ticket: answers it once, then it is gone (a replay answers `None`).
    TakeTicket in Ticket => Option<TicketRecord> {}
    |_, kv, _now| {
        let t = load(kv, TICKET)?;
        kv.delete(TICKET)?;
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::kv::MemKv;
    use crate::objects::protocol::{decode, encode, run};

    fn call<O: crate::objects::Op>(kv: &mut MemKv, now: i64, op: O) -> crate::error::Result<O::Reply> {
        decode(&run(kv, now, encode(op).unwrap().as_bytes()))
    }

    #[test]
    fn a_ticket_is_taken_once_and_expires() {
        let mut kv = MemKv::default();
        let record = TicketRecord::State {
            provider: "p".into(),
            nonce: "n".into(),
            verifier: "v".into(),
            browser: "b".into(),
            return_to: "/".into(),
        };
        call(
            &mut kv,
            100,
            PutTicket {
                record: record.clone(),
                expires_at: 200,
            },
        )
        .unwrap();
        assert!(call(
            &mut kv,
            100,
            PutTicket {
                record: record.clone(),
                expires_at: 200
            }
        )
        .is_err());
        assert_eq!(call(&mut kv, 150, GetTicket {}).unwrap(), Some(record.clone()));
        assert_eq!(call(&mut kv, 150, TakeTicket {}).unwrap(), Some(record.clone()));
        assert_eq!(call(&mut kv, 150, TakeTicket {}).unwrap(), None);
        let mut kv = MemKv::default();
        call(
            &mut kv,
            100,
            PutTicket {
                record,
                expires_at: 200,
            },
        )
        .unwrap();
        assert_eq!(call(&mut kv, 201, TakeTicket {}).unwrap(), None);
    }

    #[test]
    fn the_first_link_holds() {
        let mut kv = MemKv::default();
        let rec = |u: &str| LinkRecord {
            user_id: u.into(),
            email: "a@b.c".into(),
            email_verified: true,
            linked_at: 1,
        };
        assert_eq!(
            call(&mut kv, 1, CreateLink { record: rec("u1") })
                .unwrap()
                .user_id,
            "u1"
        );
        assert_eq!(
            call(&mut kv, 1, CreateLink { record: rec("u2") })
                .unwrap()
                .user_id,
            "u1"
        );
        assert_eq!(call(&mut kv, 1, GetLink {}).unwrap().unwrap().user_id, "u1");
        assert_ne!(link("p", "a").as_str(), link("p", "b").as_str());
        assert!(link("p", "x").as_str().starts_with("idlink:p:"));
    }
}
