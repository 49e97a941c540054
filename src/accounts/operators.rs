//! Operator accounts of the console (`objects::operator`), per tenant: the first owner's set-up
//! with an operator token, adding operators, roles, sign-in (argon2id, `accounts::password`;
//! the password policy, `rules::password_policy`; failed sign-ins limited per email in the
//! operators object) and console sessions (`rules::console_session`).
//!
//! Who an operator is, for the console and the `/admin` API alike: [`Principal`]. A bearer
//! operator token (`ADMIN_TOKEN`, an organisation's operator token) is an owner of the tenant it
//! is valid in; a console session is its operator, with the role the operators object holds now
//! (a changed role or a removed operator takes effect on the next request).

use super::{cookies, normalise_email, password};
use crate::error::{Error, ErrorCode, Result};
use crate::http::Request;
use crate::objects::operator::{self, ConsoleRecord, OperatorAccount};
use crate::platform::{random_token, Platform};
use crate::rules::console_session as rules;
use crate::rules::operator_roles::Role;
use crate::rules::{fields, password_policy};
use crate::util::sha256_hex;

/// Longest operator name.
pub const NAME_MAX: usize = 100;

/// Who is acting, and as what.
#[derive(Debug, Clone)]
pub struct Principal {
    pub role: Role,
    /// The operator's id, or `token` for a bearer operator token.
    pub actor: String,
    /// The console session, when it is one (its CSRF token guards changes).
    pub session: Option<Session>,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub account: OperatorAccount,
    pub record: ConsoleRecord,
    /// SHA-256 of the cookie (the session object's name).
    pub hash: String,
}

fn secure(req: &Request) -> bool {
    req.origin.starts_with("https://")
}

/// The console session cookie's value, if well formed.
fn cookie(req: &Request) -> Option<&str> {
    cookies::get(req, rules::cookie_name(secure(req))).filter(|v| rules::well_formed(v))
}

/// Whether the request carries a console cookie at all (well formed or not).
pub fn has_cookie(req: &Request) -> bool {
    cookies::get(req, rules::cookie_name(secure(req))).is_some()
}

/// An email and name as operators are kept (email lower case, name trimmed), checked.
fn checked(email: &str, name: &str, password: &str) -> Result<(String, String)> {
    let email = normalise_email(email);
    fields::email("email", &email, true)?;
    let name = name.trim();
    fields::name("name", name, NAME_MAX)?;
    password_policy::check(password, &email)?;
    Ok((email, name.to_owned()))
}

fn new_account(p: &impl Platform, email: String, name: String, role: Role, pw: &str) -> Result<OperatorAccount> {
    let mut salt = [0u8; 16];
    p.fill_random(&mut salt)?;
    Ok(OperatorAccount {
        id: random_token(p, 12)?,
        email,
        name,
        role,
        created_at: p.now(),
        password_hash: password::hash(pw, &salt)?,
    })
}

/// Whether the tenant has any operator account (the console offers the set-up until then).
pub async fn any(p: &impl Platform) -> Result<bool> {
    Ok(!p.call(&operator::operators(), operator::List {}).await?.is_empty())
}

pub async fn list(p: &impl Platform) -> Result<Vec<OperatorAccount>> {
    p.call(&operator::operators(), operator::List {}).await
}

/// Sets up the tenant's first operator, an owner, with an operator token valid here
/// (`ADMIN_TOKEN`, or an organisation's operator token on its host). Refused once any operator
/// exists.
pub async fn bootstrap(p: &impl Platform, token: &str, email: &str, name: &str, pw: &str) -> Result<OperatorAccount> {
    if token.is_empty() || !p.config().is_operator_token(token) {
        return Err(Error::new(ErrorCode::AccessDenied, "that is not this server's admin token"));
    }
    let (email, name) = checked(email, name, pw)?;
    if any(p).await? {
        return Err(Error::new(ErrorCode::AccessDenied, "this console is already set up: sign in"));
    }
    let account = new_account(p, email, name, Role::Owner, pw)?;
    p.call(&operator::operators(), operator::Bootstrap { account: account.clone() }).await?;
    p.audit(&serde_json::json!({"audit": "operator_bootstrap", "actor": "token", "operator": account.id, "at": p.now()}));
    Ok(account.shown())
}

/// Adds an operator (the caller has checked `ManageOperators`).
pub async fn add(p: &impl Platform, actor: &str, email: &str, name: &str, role: Role, pw: &str) -> Result<OperatorAccount> {
    let (email, name) = checked(email, name, pw)?;
    let account = new_account(p, email, name, role, pw)?;
    p.call(&operator::operators(), operator::Add { account: account.clone() }).await?;
    p.audit(&serde_json::json!({"audit": "operator_add", "actor": actor, "operator": account.id, "role": role.as_str(), "at": p.now()}));
    Ok(account.shown())
}

fn check_id(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(Error::not_found("no such operator"));
    }
    Ok(())
}

pub async fn get(p: &impl Platform, id: &str) -> Result<OperatorAccount> {
    check_id(id)?;
    p.call(&operator::operators(), operator::Get { id: id.to_owned() })
        .await?
        .ok_or_else(|| Error::not_found("no such operator"))
}

pub async fn set_role(p: &impl Platform, actor: &str, id: &str, role: Role) -> Result<OperatorAccount> {
    check_id(id)?;
    let a = p.call(&operator::operators(), operator::SetRole { id: id.to_owned(), role }).await?;
    p.audit(&serde_json::json!({"audit": "operator_role", "actor": actor, "operator": id, "role": role.as_str(), "at": p.now()}));
    Ok(a)
}

pub async fn remove(p: &impl Platform, actor: &str, id: &str) -> Result<()> {
    check_id(id)?;
    p.call(&operator::operators(), operator::Remove { id: id.to_owned() }).await?;
    p.audit(&serde_json::json!({"audit": "operator_remove", "actor": actor, "operator": id, "at": p.now()}));
    Ok(())
}

/// Checks an operator's email and password: one answer for an unknown email and a wrong
/// password (with the same KDF work), `rate_limited` after too many failures for the email.
pub async fn sign_in(p: &impl Platform, email: &str, pw: &str) -> Result<OperatorAccount> {
    let email = normalise_email(email);
    let wrong = || Error::new(ErrorCode::AccessDenied, "wrong email or password");
    if fields::email("email", &email, true).is_err() || pw.is_empty() || pw.chars().count() > 256 {
        return Err(wrong());
    }
    let found = p.call(&operator::operators(), operator::BeginSignIn { email: email.clone() }).await?;
    let Some(account) = found else {
        password::burn(pw);
        p.audit(&serde_json::json!({"audit": "operator_sign_in_failed", "at": p.now()}));
        return Err(wrong());
    };
    if !password::verify(pw, &account.password_hash) {
        p.audit(&serde_json::json!({"audit": "operator_sign_in_failed", "operator": account.id, "at": p.now()}));
        return Err(wrong());
    }
    p.call(&operator::operators(), operator::SignedIn { email }).await?;
    p.audit(&serde_json::json!({"audit": "operator_sign_in", "operator": account.id, "at": p.now()}));
    Ok(account.shown())
}

/// A new console session for `account`: answers the `Set-Cookie` value.
pub async fn start_session(p: &impl Platform, req: &Request, account: &OperatorAccount) -> Result<String> {
    let token = random_token(p, 32)?;
    let now = p.now();
    let ttl = rules::ttl(p.config().console_session_seconds);
    let record = ConsoleRecord {
        operator_id: account.id.clone(),
        csrf: random_token(p, 32)?,
        created_at: now,
        expires_at: now + ttl,
    };
    p.call(&operator::object(&sha256_hex(&token)), operator::CreateSession { record }).await?;
    Ok(rules::set_cookie(secure(req), &token, ttl))
}

/// The request's console session and its operator as they are now; `None` for no cookie, a
/// forged or ended one, an expired session, or an operator removed since.
pub async fn current(p: &impl Platform, req: &Request) -> Result<Option<Session>> {
    let Some(token) = cookie(req) else { return Ok(None) };
    let hash = sha256_hex(token);
    let Some(record) = p.call(&operator::object(&hash), operator::GetSession {}).await? else {
        return Ok(None);
    };
    let Some(account) = p.call(&operator::operators(), operator::Get { id: record.operator_id.clone() }).await? else {
        return Ok(None);
    };
    Ok(Some(Session { account, record, hash }))
}

/// Ends the request's console session (if any) and answers the cookie that clears it.
pub async fn end_session(p: &impl Platform, req: &Request) -> Result<String> {
    if let Some(token) = cookie(req) {
        p.call(&operator::object(&sha256_hex(token)), operator::EndSession {}).await?;
    }
    Ok(rules::set_cookie(secure(req), "", 0))
}

/// A change made by a console session: its CSRF token (`presented`), from this origin.
pub fn check_change(req: &Request, s: &Session, presented: Option<&str>) -> Result<()> {
    rules::check_change(
        &s.record.csrf,
        &rules::ChangeRequest {
            origin: &req.origin,
            origin_header: req.header("origin"),
            fetch_site: req.header("sec-fetch-site"),
            presented,
        },
    )
}

/// Who calls the `/admin` API: a bearer operator token (an owner), else a console session
/// (whose changes must carry its CSRF token in `x-csrf-token`), else 401.
pub async fn api_principal(p: &impl Platform, req: &Request) -> Result<Principal> {
    let cfg = p.config();
    let denied = || {
        Error::new(ErrorCode::InvalidToken, "a valid admin token is required")
            .with_challenge(crate::error::Challenge::Bearer { scope: None })
    };
    let off = cfg.admin_token.is_none() && cfg.operator_token_hashes.is_empty();
    if let Some(token) = req.bearer() {
        if off {
            return Err(Error::unavailable("the admin API is off: set the ADMIN_TOKEN secret"));
        }
        return if cfg.is_operator_token(token) {
            Ok(Principal { role: Role::Owner, actor: "token".to_owned(), session: None })
        } else {
            Err(denied())
        };
    }
    if has_cookie(req) {
        let Some(s) = current(p, req).await? else {
            return Err(Error::new(ErrorCode::InvalidToken, "the console session has ended; sign in again")
                .with_challenge(crate::error::Challenge::Bearer { scope: None }));
        };
        if !matches!(req.method.as_str(), "GET" | "HEAD") {
            check_change(req, &s, req.header("x-csrf-token"))?;
        }
        return Ok(Principal { role: s.account.role, actor: s.account.id.clone(), session: Some(s) });
    }
    if off {
        return Err(Error::unavailable("the admin API is off: set the ADMIN_TOKEN secret"));
    }
    Err(denied())
}
