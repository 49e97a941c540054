//! `email:<normalised email>`: the account of one email address. One object per email makes
//! "one account per email" atomic, and holds that account's failed log-ins.

use super::counter::{self, FAIL};
use super::protocol::{kind, load, op, save};
use crate::error::{Error, ErrorCode};
use serde::{Deserialize, Serialize};

kind!(Account = "email",
    /// The account object of an email, already normalised (`rules::fields::normalise_identifier`).
    object);

pub(super) const ACCOUNT: &str = "account";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub user_id: String,
    pub email: String,
    pub name: String,
    /// `accounts::password` PHC-style string (argon2id).
    pub password_hash: String,
    pub created_at: i64,
}

op! {
    /// Creates the account; `limit_reached` if the email already has one (internal only: sign-up
    /// answers this exactly like a new account).
    Create in Account => () {
        pub record: AccountRecord,
    }
    |cmd, kv, _now| {
        if kv.get(ACCOUNT)?.is_some() {
            return Err(Error::new(
                ErrorCode::LimitReached,
                "an account with this email already exists",
            ));
        }
        save(kv, ACCOUNT, &cmd.record, None)
    }
}

op! {
    /// Reserves one log-in attempt against `limit` (429 once the window is full) and returns the
    /// account, if any. Check and count are one step, so racing guesses cannot overrun the limit;
    /// a successful log-in gives the attempt back ([`ReleaseLogin`]).
    Get in Account => Option<AccountRecord> {
        pub limit: u32,
    }
    |cmd, kv, now| {
        counter::reserve(kv, now, FAIL, cmd.limit)?;
        load(kv, ACCOUNT)
    }
}

op! {
    /// Gives back the attempt a successful log-in reserved.
    ReleaseLogin in Account => () {}
    |_, kv, now| {
        counter::release(kv, now, FAIL)
    }
}
