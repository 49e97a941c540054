//! Email verification, password reset, password change and email change: the flows behind
//! `/verify`, `/forgot`, `/reset`, `/account/password` and `/account/email` (pages in
//! `pages::recovery`). Every emailed link carries a ticket: 32 random bytes whose SHA-256 names
//! a `ticket:` object (`objects::ticket`), single-use and short-lived (`MAIL_TOKEN_TTL`).
//!
//! What is answered never tells which emails have accounts: sign-up sends "verify" to a new
//! account and "you already have an account" to an existing one; `/forgot` sends a reset link
//! to an account and "there is no account with this email" to any other address; an email
//! change sends a link, or "this email already has an account", to the new address. The page
//! is the same in each pair; only the mailbox's owner learns which it was.

use super::{mail, normalise_email, password};
use crate::error::{Error, ErrorCode, Result};
use crate::objects::account::{self, AccountRecord};
use crate::objects::session::SessionRecord;
use crate::objects::ticket::{self, Purpose, TicketRecord};
use crate::objects::{counter, user};
use crate::platform::{random_token, Deferred, Platform};
use crate::util::sha256_hex;

/// Tokens in links are 32 random bytes, base64url (43 characters).
const TOKEN_BYTES: usize = 32;

/// The ticket named by a token from a link, if the token has the right shape.
fn ticket_name(token: &str) -> Option<crate::objects::Name<ticket::Ticket>> {
    let shaped = token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    shaped.then(|| ticket::object(&sha256_hex(token)))
}

/// The answer for a link that is expired, used already, or was never one.
pub fn link_dead() -> Error {
    Error::new(ErrorCode::InvalidGrant, "this link has expired or was already used")
}

async fn issue(p: &impl Platform, purpose: Purpose, user_id: &str, email: &str) -> Result<String> {
    let token = random_token(p, TOKEN_BYTES)?;
    let record = TicketRecord {
        purpose,
        user_id: user_id.to_owned(),
        email: email.to_owned(),
        expires_at: p.now() + p.config().mail.token_ttl as i64,
    };
    p.call(&ticket::object(&sha256_hex(&token)), ticket::Create { record }).await?;
    Ok(token)
}

fn minutes(p: &impl Platform) -> u64 {
    p.config().mail.token_ttl / 60
}

/// Counts one emailed request from the client's address (`MAIL_LIMIT_ADDRESS` a minute).
pub async fn count_request(p: &impl Platform, address: &str) -> Result<()> {
    let limit = p.config().mail.limit_address;
    p.call(&counter::mail_address(address), counter::Reserve { limit }).await
}

/// After a sign-up: the verification link to a new account, or "you already have an account"
/// to the owner of an existing one (`created` is `None`).
pub async fn after_sign_up(p: &impl Platform, issuer: &str, email: &str, created: Option<&user::Profile>) -> Result<()> {
    let email = normalise_email(email);
    match created {
        Some(profile) => send_verification(p, issuer, &profile.id, &email).await,
        None => {
            let id = random_token(p, 16)?;
            let body = format!(
                "Someone (perhaps you) tried to sign up with this email address, but it already has an account.\n\n\
                 Log in: {issuer}/login\nForgot your password? Reset it: {issuer}/forgot\n\n\
                 If it was not you, you can ignore this message."
            );
            let m = mail::compose(p, issuer, &id, &email, "You already have an account", &body);
            mail::send(p, mail::Kind::AlreadyHaveAccount, &m).await
        }
    }
}

/// Sends a verification link for the account of `user_id` at `email`.
pub async fn send_verification(p: &impl Platform, issuer: &str, user_id: &str, email: &str) -> Result<()> {
    let token = issue(p, Purpose::Verify, user_id, email).await?;
    let body = format!(
        "Confirm that this is your email address by opening this link (it works once, for {} minutes):\n\n{issuer}/verify?token={token}\n\n\
         If you did not sign up, you can ignore this message.",
        minutes(p)
    );
    let m = mail::compose(p, issuer, &sha256_hex(&token), email, "Verify your email", &body);
    mail::send(p, mail::Kind::Verify, &m).await
}

/// Sets the profile's `email` and `email_verified` as the account now has them.
async fn sync_profile(p: &impl Platform, a: &AccountRecord) -> Result<()> {
    let obj = user::object(&a.user_id);
    if let Some(mut profile) = p.call(&obj, user::GetProfile {}).await? {
        profile.email = a.email.clone();
        profile.email_verified = a.email_verified;
        p.call(&obj, user::PutProfile { profile }).await?;
    }
    Ok(())
}

/// A ticket of the right purpose, left in place (the page that shows the form).
pub async fn peek(p: &impl Platform, token: &str) -> Result<TicketRecord> {
    let name = ticket_name(token).ok_or_else(link_dead)?;
    p.call(&name, ticket::Peek {}).await?.ok_or_else(link_dead)
}

/// Uses a ticket: answers it once, and never again.
async fn take(p: &impl Platform, token: &str) -> Result<TicketRecord> {
    let name = ticket_name(token).ok_or_else(link_dead)?;
    p.call(&name, ticket::Take {}).await?.ok_or_else(link_dead)
}

/// `/verify`: marks the account's email verified. The email it was sent to must still be the
/// account's.
pub async fn verify(p: &impl Platform, token: &str) -> Result<AccountRecord> {
    let t = take(p, token).await?;
    if t.purpose != Purpose::Verify {
        return Err(link_dead());
    }
    let a = p
        .call(&account::object(&t.email), account::MarkVerified { user_id: t.user_id })
        .await
        .map_err(|_| link_dead())?;
    sync_profile(p, &a).await?;
    Ok(a)
}

/// `/forgot`: a reset link to the account of `email`, or "no account with this email" to any
/// other address; the same answer either way. Counted per client address and per recipient.
pub async fn forgot(p: &impl Platform, issuer: &str, address: &str, email: &str) -> Result<()> {
    let email = normalise_email(email);
    crate::rules::fields::email("email", &email, true)?;
    count_request(p, address).await?;
    match p.call(&account::object(&email), account::Peek {}).await? {
        Some(a) => {
            let purpose = Purpose::Reset { password_tag: account::password_tag(&a) };
            let token = issue(p, purpose, &a.user_id, &email).await?;
            let body = format!(
                "To choose a new password, open this link (it works once, for {} minutes):\n\n{issuer}/reset?token={token}\n\n\
                 Setting a new password signs you out everywhere else. If you did not ask for this, you can ignore this message: your password stays as it is.",
                minutes(p)
            );
            let m = mail::compose(p, issuer, &sha256_hex(&token), &email, "Reset your password", &body);
            mail::send(p, mail::Kind::Reset, &m).await
        }
        None => {
            let id = random_token(p, 16)?;
            let body = format!(
                "Someone (perhaps you) asked to reset the password of an account with this email address, but there is no such account.\n\n\
                 Sign up: {issuer}/signup\n\nIf it was not you, you can ignore this message."
            );
            let m = mail::compose(p, issuer, &id, &email, "Password reset", &body);
            mail::send(p, mail::Kind::NoAccount, &m).await
        }
    }
}

/// After an operator's forced reset (`admin::users::force_reset`): a reset link to the
/// account's email that says what happened — the old password no longer works, the person was
/// signed out everywhere, their passkeys and authenticator app stay. The link's ticket names the
/// unusable password the reset set, so it works once, and no earlier link does. Under the mail
/// port's per-recipient limits (not the operator's address: an operator acts for many people).
pub async fn after_forced_reset(p: &impl Platform, issuer: &str, email: &str) -> Result<()> {
    let Some(a) = p.call(&account::object(email), account::Peek {}).await? else {
        return Err(Error::not_found("this person has no account to reset"));
    };
    let purpose = Purpose::Reset { password_tag: account::password_tag(&a) };
    let token = issue(p, purpose, &a.user_id, &a.email).await?;
    let body = format!(
        "An operator of this service reset the password of your account. Your old password no longer works, and you were signed out everywhere.\n\n\
         To choose a new password, open this link (it works once, for {} minutes):\n\n{issuer}/reset?token={token}\n\n\
         Your passkeys and two-factor authentication stay as they were. If the link has expired, ask for a new one at {issuer}/forgot.",
        minutes(p)
    );
    let m = mail::compose(p, issuer, &sha256_hex(&token), &a.email, "Your password was reset", &body);
    mail::send(p, mail::Kind::Reset, &m).await
}

fn hash_new(p: &impl Platform, new_password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    p.fill_random(&mut salt)?;
    password::hash(new_password, &salt)
}

/// `/reset`: sets the new password (the policy applies; a refused password leaves the link
/// usable), uses the ticket, marks the email verified (the link proved the mailbox), ends
/// every grant and every session of the person, and on an account that was never verified
/// erases its passkeys and second factor. Answers the back-channel logout notifications.
pub async fn reset(p: &impl Platform, issuer: &str, token: &str, new_password: &str) -> Result<Vec<Deferred>> {
    let t = peek(p, token).await?;
    let Purpose::Reset { password_tag } = &t.purpose else {
        return Err(link_dead());
    };
    crate::rules::password_policy::check(new_password, &t.email)?;
    let password_hash = hash_new(p, new_password)?;
    let t = take(p, token).await?;
    let Purpose::Reset { password_tag: taken_tag } = &t.purpose else {
        return Err(link_dead());
    };
    if taken_tag != password_tag {
        return Err(link_dead());
    }
    let cmd = account::SetPassword {
        user_id: t.user_id.clone(),
        expect_tag: Some(password_tag.clone()),
        password_hash,
        verified: true,
    };
    let obj = account::object(&t.email);
    // Whether the mailbox was ever proved before this link: if not, whoever made the account
    // (anyone can sign up with any email) may have set up its other ways in.
    let was_verified = p.call(&obj, account::Peek {}).await?.is_some_and(|a| a.user_id == t.user_id && a.email_verified);
    p.call(&obj, cmd).await.map_err(|_| link_dead())?;
    if let Some(a) = p.call(&obj, account::Peek {}).await? {
        sync_profile(p, &a).await?;
    }
    // A reset takes back every access given before it: the apps' grants (refresh tokens and
    // the access tokens checked against them) and, on an account never verified before, the
    // passkeys and second factor someone else may have added (the mailbox's owner now holds it).
    super::manage::end_every_grant(p, &t.user_id).await?;
    if !was_verified {
        use crate::objects::erase;
        p.call(&erase::any(&crate::objects::passkey::object(&t.user_id)), erase::Erase {}).await?;
        p.call(&erase::any(&crate::objects::totp::object(&t.user_id)), erase::Erase {}).await?;
    }
    {
        use crate::objects::audit::{Event, EventType, Outcome};
        p.record(Event::new(EventType::PasswordReset, format!("person:{}", t.user_id), Outcome::Success).person(t.user_id.clone()));
    }
    crate::pages::logout::ended_everywhere(p, issuer, &t.user_id, None).await
}

/// Checks the signed-in person's current password, under the log-in limits.
async fn check_current(p: &impl Platform, s: &SessionRecord, current: &str) -> Result<AccountRecord> {
    // The profile's email: a session started before an email change still names the old one.
    let email = match super::profile(p, &s.user_id).await? {
        Some(profile) => profile.email,
        None => s.email.clone(),
    };
    let obj = account::object(&email);
    let a = p.call(&obj, account::Get { limit: p.config().login_limit_account }).await?;
    match a {
        Some(a) if a.user_id == s.user_id && password::verify(current, &a.password_hash) => {
            p.call(&obj, account::ReleaseLogin {}).await?;
            Ok(a)
        }
        Some(_) => Err(Error::new(ErrorCode::AccessDenied, "the current password is wrong")),
        None => {
            password::burn(current);
            Err(Error::new(ErrorCode::AccessDenied, "the current password is wrong"))
        }
    }
}

/// `/account/password`: the current password and a new one (the policy applies); every other
/// session of the person ends (`except` is this session's hash).
pub async fn change_password(
    p: &impl Platform,
    issuer: &str,
    s: &SessionRecord,
    except: Option<&str>,
    current: &str,
    new_password: &str,
) -> Result<Vec<Deferred>> {
    let a = check_current(p, s, current).await?;
    crate::rules::password_policy::check(new_password, &a.email)?;
    let cmd = account::SetPassword {
        user_id: a.user_id.clone(),
        expect_tag: Some(account::password_tag(&a)),
        password_hash: hash_new(p, new_password)?,
        verified: false,
    };
    p.call(&account::object(&a.email), cmd).await?;
    {
        use crate::objects::audit::{Event, EventType, Outcome};
        p.record(Event::new(EventType::PasswordChange, format!("person:{}", a.user_id), Outcome::Success).person(a.user_id.clone()));
    }
    crate::pages::logout::ended_everywhere(p, issuer, &a.user_id, except).await
}

/// `/account/email`: after the current password, a confirmation link to the new address, or
/// "this email already has an account" to it; the same answer either way.
pub async fn request_email_change(
    p: &impl Platform,
    issuer: &str,
    address: &str,
    s: &SessionRecord,
    current: &str,
    new_email: &str,
) -> Result<String> {
    let new_email = normalise_email(new_email);
    crate::rules::fields::email("email", &new_email, true)?;
    let a = check_current(p, s, current).await?;
    if new_email == a.email {
        return Err(Error::invalid_request("that is already your email"));
    }
    count_request(p, address).await?;
    match p.call(&account::object(&new_email), account::Peek {}).await? {
        None => {
            let purpose = Purpose::ChangeEmail { new_email: new_email.clone(), password_tag: Some(account::password_tag(&a)) };
            let token = issue(p, purpose, &a.user_id, &a.email).await?;
            let body = format!(
                "To make this the email address of your account, open this link (it works once, for {} minutes):\n\n{issuer}/account/email/confirm?token={token}\n\n\
                 If you did not ask for this, you can ignore this message.",
                minutes(p)
            );
            let m = mail::compose(p, issuer, &sha256_hex(&token), &new_email, "Confirm your new email", &body);
            mail::send(p, mail::Kind::ChangeEmail, &m).await?;
        }
        Some(_) => {
            let id = random_token(p, 16)?;
            let body = format!(
                "Someone asked to move their account to this email address, but it already has an account, so nothing changed.\n\n\
                 Log in: {issuer}/login\n\nIf it was not you, you can ignore this message."
            );
            let m = mail::compose(p, issuer, &id, &new_email, "This email already has an account", &body);
            mail::send(p, mail::Kind::EmailTaken, &m).await?;
        }
    }
    Ok(new_email)
}

/// The confirmation link of an email change: the new email's object takes the account first
/// (atomically refusing an email that has one: two accounts racing for one email cannot both
/// get it), then the old email's object lets it go, then the profile follows. The new email is
/// verified (the link reached it).
pub async fn confirm_email_change(p: &impl Platform, token: &str) -> Result<AccountRecord> {
    let t = take(p, token).await?;
    let Purpose::ChangeEmail { new_email, password_tag } = &t.purpose else {
        return Err(link_dead());
    };
    let old = account::object(&t.email);
    let current = match p.call(&old, account::Peek {}).await? {
        Some(a) if a.user_id == t.user_id => a,
        _ => return Err(link_dead()),
    };
    // A link made before the password changed (a forced reset among others) is dead: whoever
    // asked for it may have been the one the reset shut out.
    if password_tag.as_deref() != Some(account::password_tag(&current).as_str()) {
        return Err(link_dead());
    }
    let record = AccountRecord {
        email: new_email.clone(),
        email_verified: true,
        ..current
    };
    match p.call(&account::object(new_email), account::Create { record: record.clone() }).await {
        Ok(()) => {}
        Err(e) if e.code == ErrorCode::LimitReached => {
            return Err(Error::new(ErrorCode::LimitReached, "that email has an account now; nothing changed"));
        }
        Err(e) => return Err(e),
    }
    p.call(&old, account::Remove { user_id: t.user_id.clone() }).await?;
    sync_profile(p, &record).await?;
    // The operators' index of people (`objects::people`) lists and searches by email.
    // The change is made: a failure to update the index is logged, not the person's error (the
    // index only serves the operators' search).
    let cmd = crate::objects::people::SetEmail { member: t.user_id.clone(), email: new_email.clone() };
    if let Err(e) = p.call(&crate::objects::quota::object(), cmd).await {
        p.audit(&serde_json::json!({"audit": "people_index_not_updated", "user": t.user_id, "error": e.code.as_str()}));
    }
    Ok(record)
}
