//! `email:<normalised email>`: the account of one email address. One object per email makes
//! "one account per email" atomic, and holds that account's failed log-ins.

use super::counter::{self, FAIL};
use super::protocol::{kind, load, op, save};
use crate::error::{Error, ErrorCode};
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
    /// Whether the owner of the email proved it reaches them (the verification link, a password
    /// reset by email, a confirmed email change). Accounts made before this was kept: `false`.
    #[serde(default)]
    pub email_verified: bool,
}

/// A short name of the account's current password (a prefix of the SHA-256 of its stored
/// hash): a reset link names the password it may replace, so once the password changed the
/// link is dead. Says nothing about the password itself.
pub fn password_tag(record: &AccountRecord) -> String {
    crate::util::sha256_hex(&record.password_hash).chars().take(16).collect()
}

fn not_this_account() -> Error {
    Error::new(ErrorCode::NotFound, "the account of this email changed")
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

op! {
    /// The account, if any, without counting a log-in attempt (password reset, email change).
    Peek in Account => Option<AccountRecord> {}
    |_, kv, _now| {
        load(kv, ACCOUNT)
    }
}

op! {
    /// Sets a new password hash for the account of `user_id`; with `expect_tag`, only while the
    /// password is still the one of that tag ([`password_tag`]; a reset link's). Marks the
    /// email verified when `verified` (a reset proves the mailbox).
    SetPassword in Account => () {
        pub user_id: String,
        pub expect_tag: Option<String>,
        pub password_hash: String,
        pub verified: bool,
    }
    |cmd, kv, _now| {
        let mut a: AccountRecord = load(kv, ACCOUNT)?.ok_or_else(not_this_account)?;
        if a.user_id != cmd.user_id || cmd.expect_tag.as_ref().is_some_and(|t| *t != password_tag(&a)) {
            return Err(not_this_account());
        }
        a.password_hash = cmd.password_hash;
        a.email_verified |= cmd.verified;
        save(kv, ACCOUNT, &a, None)
    }
}

op! {
    /// Marks the email of the account of `user_id` verified.
    MarkVerified in Account => AccountRecord {
        pub user_id: String,
    }
    |cmd, kv, _now| {
        let mut a: AccountRecord = load(kv, ACCOUNT)?.ok_or_else(not_this_account)?;
        if a.user_id != cmd.user_id {
            return Err(not_this_account());
        }
        a.email_verified = true;
        save(kv, ACCOUNT, &a, None)?;
        Ok(a)
    }
}

op! {
    /// Removes the account of `user_id` from this email (the second step of an email change,
    /// once the new email's object holds it). Another person's account is left alone.
    Remove in Account => () {
        pub user_id: String,
    }
    |cmd, kv, _now| {
        match load::<AccountRecord>(kv, ACCOUNT)? {
            Some(a) if a.user_id == cmd.user_id => kv.delete(ACCOUNT),
            _ => Ok(()),
        }
    }
}
