//! Operator accounts of the console and their sessions, per tenant (the platform's own
//! operators in the default tenant's `operators`, an organisation's in `org:<label>:operators`:
//! the tenant-bound platform prefixes the name, so an operator of one organisation is nothing
//! at another).
//!
//! `operators` holds `accounts` (every operator: id, email, name, role, password hash; at most
//! [`MAX_OPERATORS`]) and `fail:<email>` (failed sign-ins in the current window). The rules that
//! must hold under races hold here, in one command each: the first owner is made only while
//! there is no operator ([`Bootstrap`]), an email is one operator, the last owner is never
//! removed or demoted ([`SetRole`], [`Remove`]).
//!
//! `console:<sha256 of the cookie>` is one console session (operator id, CSRF token, end).

use super::protocol::{kind, load, op, save};
use crate::error::{Error, ErrorCode, Result};
use crate::rules::operator_roles::Role;
use serde::{Deserialize, Serialize};

kind!(Operators = "operators");
kind!(ConsoleSession = "console",
    /// The console session of a cookie value's SHA-256 (hex).
    object);

/// The tenant's one operators object.
pub fn operators() -> super::Name<Operators> {
    use super::Kind;
    super::Name::raw(Operators::PREFIX.to_owned())
}

const ACCOUNTS: &str = "accounts";
const SESSION: &str = "session";

/// Operators per tenant.
pub const MAX_OPERATORS: usize = 50;
/// Failed sign-ins per email and window before sign-in is refused for the rest of it.
pub const MAX_FAILURES: u32 = 10;
/// The failure window (seconds).
pub const FAILURE_WINDOW: i64 = 15 * 60;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperatorAccount {
    pub id: String,
    /// Lower case, trimmed.
    pub email: String,
    pub name: String,
    pub role: Role,
    pub created_at: i64,
    /// argon2id (`accounts::password`); empty in what is shown.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password_hash: String,
}

impl OperatorAccount {
    /// Without the password hash.
    pub fn shown(&self) -> OperatorAccount {
        OperatorAccount { password_hash: String::new(), ..self.clone() }
    }
}

fn accounts(kv: &dyn super::kv::Kv) -> Result<Vec<OperatorAccount>> {
    Ok(load(kv, ACCOUNTS)?.unwrap_or_default())
}

fn owners(list: &[OperatorAccount]) -> usize {
    list.iter().filter(|a| a.role == Role::Owner).count()
}

fn no_such_operator() -> Error {
    Error::not_found("no such operator")
}

fn last_owner() -> Error {
    Error::new(ErrorCode::LimitReached, "the last owner cannot be removed or demoted; make another owner first")
}

fn add(kv: &mut dyn super::kv::Kv, account: OperatorAccount) -> Result<()> {
    let mut list = accounts(kv)?;
    if list.iter().any(|a| a.email == account.email) {
        return Err(Error::new(ErrorCode::LimitReached, "an operator with this email already exists"));
    }
    if list.len() >= MAX_OPERATORS {
        return Err(Error::new(ErrorCode::LimitReached, format!("at most {MAX_OPERATORS} operators")));
    }
    list.push(account);
    save(kv, ACCOUNTS, &list, None)
}

op! {
    /// Makes the first operator, an owner, only while there is none (two racing set-ups: one
    /// wins, the other is refused).
    Bootstrap in Operators => () {
        pub account: OperatorAccount,
    }
    |cmd, kv, _now| {
        if !accounts(kv)?.is_empty() {
            return Err(Error::new(ErrorCode::AccessDenied, "this console is already set up: sign in"));
        }
        add(kv, OperatorAccount { role: Role::Owner, ..cmd.account })
    }
}

op! {
    /// Adds an operator; refused for an email that has one, or beyond [`MAX_OPERATORS`].
    Add in Operators => () {
        pub account: OperatorAccount,
    }
    |cmd, kv, _now| { add(kv, cmd.account) }
}

op! {
    /// Every operator, without password hashes.
    List in Operators => Vec<OperatorAccount> {}
    |_, kv, _now| { Ok(accounts(kv)?.iter().map(OperatorAccount::shown).collect()) }
}

op! {
    /// One operator, without its password hash.
    Get in Operators => Option<OperatorAccount> {
        pub id: String,
    }
    |cmd, kv, _now| { Ok(accounts(kv)?.iter().find(|a| a.id == cmd.id).map(OperatorAccount::shown)) }
}

op! {
    /// Changes an operator's role; the last owner keeps theirs.
    SetRole in Operators => OperatorAccount {
        pub id: String,
        pub role: Role,
    }
    |cmd, kv, _now| {
        let mut list = accounts(kv)?;
        let owners = owners(&list);
        let a = list.iter_mut().find(|a| a.id == cmd.id).ok_or_else(no_such_operator)?;
        if a.role == Role::Owner && cmd.role != Role::Owner && owners <= 1 {
            return Err(last_owner());
        }
        a.role = cmd.role;
        let shown = a.shown();
        save(kv, ACCOUNTS, &list, None)?;
        Ok(shown)
    }
}

op! {
    /// Removes an operator; never the last owner.
    Remove in Operators => () {
        pub id: String,
    }
    |cmd, kv, _now| {
        let mut list = accounts(kv)?;
        let owners = owners(&list);
        let role = list.iter().find(|a| a.id == cmd.id).map(|a| a.role).ok_or_else(no_such_operator)?;
        if role == Role::Owner && owners <= 1 {
            return Err(last_owner());
        }
        list.retain(|a| a.id != cmd.id);
        save(kv, ACCOUNTS, &list, None)
    }
}

op! {
    /// Every operator with its password hash: a backup's (`admin::backup`). Never shown.
    Export in Operators => Vec<OperatorAccount> {}
    |_, kv, _now| { accounts(kv) }
}

/// What restoring an operator did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Restored {
    Created,
    /// The same operator (id and every field) is here already.
    Unchanged,
}

op! {
    /// Restores an operator from a backup, as it was (its id, role and password hash): nothing
    /// if the same operator is here already; refused (409) when its id or email is another
    /// operator's, or beyond [`MAX_OPERATORS`]. Never changes an operator that exists. With
    /// `dry_run`, answers what it would do and writes nothing.
    Restore in Operators => Restored {
        pub account: OperatorAccount,
        #[serde(default)]
        pub dry_run: bool,
    }
    |cmd, kv, _now| {
        let list = accounts(kv)?;
        if let Some(a) = list.iter().find(|a| a.id == cmd.account.id) {
            return if *a == cmd.account {
                Ok(Restored::Unchanged)
            } else {
                Err(Error::new(ErrorCode::LimitReached, "an operator with this id exists and differs; it is left as it is"))
            };
        }
        if cmd.dry_run {
            if list.iter().any(|a| a.email == cmd.account.email) {
                return Err(Error::new(ErrorCode::LimitReached, "an operator with this email already exists"));
            }
            if list.len() >= MAX_OPERATORS {
                return Err(Error::new(ErrorCode::LimitReached, format!("at most {MAX_OPERATORS} operators")));
            }
            return Ok(Restored::Created);
        }
        add(kv, cmd.account)?;
        Ok(Restored::Created)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
struct Failures {
    count: u32,
    until: i64,
}

op! {
    /// Starts a sign-in as `email`: counts one attempt (refused with `rate_limited` once
    /// [`MAX_FAILURES`] failed in the window) and answers the operator with its password hash,
    /// if there is one. [`SignedIn`] takes the attempt back.
    BeginSignIn in Operators => Option<OperatorAccount> {
        pub email: String,
    }
    |cmd, kv, now| {
        let key = format!("fail:{}", cmd.email);
        let mut f: Failures = load(kv, &key)?.filter(|f: &Failures| f.until > now).unwrap_or_default();
        if f.count >= MAX_FAILURES {
            return Err(Error::new(ErrorCode::RateLimited, "too many failed sign-ins for this email; try again later")
                .with_header("retry-after", (f.until - now).max(1).to_string()));
        }
        if f.count == 0 {
            f.until = now + FAILURE_WINDOW;
        }
        f.count += 1;
        save(kv, &key, &f, Some(f.until))?;
        Ok(accounts(kv)?.into_iter().find(|a| a.email == cmd.email))
    }
}

op! {
    /// A sign-in as `email` succeeded: its failures are forgotten.
    SignedIn in Operators => () {
        pub email: String,
    }
    |cmd, kv, _now| { kv.delete(&format!("fail:{}", cmd.email)) }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsoleRecord {
    pub operator_id: String,
    /// This session's CSRF token (every form carries it).
    pub csrf: String,
    pub created_at: i64,
    pub expires_at: i64,
}

op! {
    CreateSession in ConsoleSession => () {
        pub record: ConsoleRecord,
    }
    |cmd, kv, _now| {
        let exp = cmd.record.expires_at;
        save(kv, SESSION, &cmd.record, Some(exp))
    }
}

op! {
    /// The session while it lasts (`rules::console_session::alive`).
    GetSession in ConsoleSession => Option<ConsoleRecord> {}
    |_, kv, now| {
        Ok(load::<ConsoleRecord>(kv, SESSION)?.filter(|s| crate::rules::console_session::alive(s.expires_at, now)))
    }
}

op! {
    EndSession in ConsoleSession => () {}
    |_, kv, _now| { kv.delete(SESSION) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::kv::{Kv, MemKv};
    use crate::objects::protocol::Op;

    fn acct(id: &str, role: Role) -> OperatorAccount {
        OperatorAccount {
            id: id.into(),
            email: format!("{id}@example.com"),
            name: id.into(),
            role,
            created_at: 0,
            password_hash: "h".into(),
        }
    }

    #[test]
    fn bootstrap_once_and_the_last_owner_stays() {
        let mut kv = MemKv::default();
        Bootstrap { account: acct("a", Role::ReadOnly) }.apply(&mut kv, 0).unwrap();
        // The first operator is an owner whatever was asked.
        let list = List {}.apply(&mut kv, 0).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].role, Role::Owner);
        assert_eq!(list[0].password_hash, "");
        let again = Bootstrap { account: acct("b", Role::Owner) }.apply(&mut kv, 0).unwrap_err();
        assert_eq!(again.status(), 403);
        // The last owner: not demoted, not removed.
        assert_eq!(SetRole { id: "a".into(), role: Role::Admin }.apply(&mut kv, 0).unwrap_err().status(), 409);
        assert_eq!(Remove { id: "a".into() }.apply(&mut kv, 0).unwrap_err().status(), 409);
        // With a second owner, either may go.
        Add { account: acct("b", Role::Owner) }.apply(&mut kv, 0).unwrap();
        assert_eq!(Add { account: acct("b", Role::Admin) }.apply(&mut kv, 0).unwrap_err().status(), 409);
        SetRole { id: "a".into(), role: Role::ReadOnly }.apply(&mut kv, 0).unwrap();
        assert_eq!(Remove { id: "b".into() }.apply(&mut kv, 0).unwrap_err().status(), 409);
        Remove { id: "a".into() }.apply(&mut kv, 0).unwrap();
        assert_eq!(Remove { id: "a".into() }.apply(&mut kv, 0).unwrap_err().status(), 404);
        assert!(Get { id: "b".into() }.apply(&mut kv, 0).unwrap().is_some());
    }

    #[test]
    fn failed_sign_ins_are_limited_per_window() {
        let mut kv = MemKv::default();
        Bootstrap { account: acct("a", Role::Owner) }.apply(&mut kv, 0).unwrap();
        let email = "a@example.com".to_owned();
        for _ in 0..MAX_FAILURES {
            let found = BeginSignIn { email: email.clone() }.apply(&mut kv, 10).unwrap();
            assert_eq!(found.unwrap().password_hash, "h");
        }
        let e = BeginSignIn { email: email.clone() }.apply(&mut kv, 11).unwrap_err();
        assert_eq!(e.status(), 429);
        // After the window, one may try again; a success clears the count.
        kv.purge_expired(10 + FAILURE_WINDOW + 1).unwrap();
        assert!(BeginSignIn { email: email.clone() }.apply(&mut kv, 10 + FAILURE_WINDOW + 1).is_ok());
        SignedIn { email: email.clone() }.apply(&mut kv, 0).unwrap();
        assert!(BeginSignIn { email: "nobody@example.com".into() }.apply(&mut kv, 0).unwrap().is_none());
    }

    #[test]
    fn a_session_ends_at_its_time() {
        let mut kv = MemKv::default();
        let record = ConsoleRecord { operator_id: "a".into(), csrf: "c".into(), created_at: 0, expires_at: 100 };
        CreateSession { record: record.clone() }.apply(&mut kv, 0).unwrap();
        assert_eq!(GetSession {}.apply(&mut kv, 99).unwrap(), Some(record));
        assert_eq!(GetSession {}.apply(&mut kv, 100).unwrap(), None);
        EndSession {}.apply(&mut kv, 0).unwrap();
        assert_eq!(GetSession {}.apply(&mut kv, 0).unwrap(), None);
    }
}
