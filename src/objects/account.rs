//! `email:<normalised email>`: the account of one email address. One object per email makes
//! "one account per email" atomic, and holds that account's failed log-ins.

use super::counter::{self, FAIL};
use super::kv::Kv;
use super::protocol::{kind, load, save, Op};
use crate::error::{Error, ErrorCode, Result};
use serde::{Deserialize, Serialize};

kind!(Account = "email",
    /// The account object of an email, already normalised (`rules::fields::normalise_identifier`).
    object);

const ACCOUNT: &str = "account";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub user_id: String,
    pub email: String,
    pub name: String,
    /// `accounts::password` PHC-style string (argon2id).
    pub password_hash: String,
    pub created_at: i64,
}

/// Creates the account; `limit_reached` if the email already has one (internal only: sign-up
/// answers this exactly like a new account).
#[derive(Debug, Serialize, Deserialize)]
pub struct Create {
    pub record: AccountRecord,
}
impl Op for Create {
    type Kind = Account;
    type Reply = ();
    fn apply(self, kv: &mut dyn Kv, _now: i64) -> Result<()> {
        if kv.get(ACCOUNT)?.is_some() {
            return Err(Error::new(
                ErrorCode::LimitReached,
                "an account with this email already exists",
            ));
        }
        save(kv, ACCOUNT, &self.record, None)
    }
}

/// Reserves one log-in attempt against `limit` (429 once the window is full) and returns the
/// account, if any. Check and count are one step, so racing guesses cannot overrun the limit;
/// a successful log-in gives the attempt back ([`ReleaseLogin`]).
#[derive(Debug, Serialize, Deserialize)]
pub struct Get {
    pub limit: u32,
}
impl Op for Get {
    type Kind = Account;
    type Reply = Option<AccountRecord>;
    fn apply(self, kv: &mut dyn Kv, now: i64) -> Result<Option<AccountRecord>> {
        counter::reserve(kv, now, FAIL, self.limit)?;
        load(kv, ACCOUNT)
    }
}

/// Gives back the attempt a successful log-in reserved.
#[derive(Debug, Serialize, Deserialize)]
pub struct ReleaseLogin {}
impl Op for ReleaseLogin {
    type Kind = Account;
    type Reply = ();
    fn apply(self, kv: &mut dyn Kv, now: i64) -> Result<()> {
        counter::release(kv, now, FAIL)
    }
}
