//! People: sign-up, log-in (with failed-attempt limits), sessions and profiles.

pub mod cookies;
pub mod manage;
pub mod operators;
pub mod passkeys;
pub mod mail;
pub mod recovery;
pub mod password;
pub mod upstream;
pub mod two_factor;

use crate::http::Request;
use crate::error::{Error, ErrorCode, Result};
use crate::platform::random_token;
use crate::objects::account::{self, AccountRecord};
use crate::objects::session::{self, SessionRecord};
use crate::objects::user::{self, Profile};
use crate::objects::counter;
use crate::objects::quota;
use crate::platform::Platform;
use crate::util::sha256_hex;

/// The one form of an email every lookup and limit uses (trim, NFKC, lower case).
pub fn normalise_email(email: &str) -> String {
    crate::rules::fields::normalise_identifier(email)
}

/// The client address as an object-name part (at most 64 characters, `unknown` when absent).
pub fn address(req: &Request) -> String {
    if req.remote_addr.is_empty() {
        "unknown".to_owned()
    } else {
        req.remote_addr.chars().take(64).collect()
    }
}

/// Counts a registration from the request's address; 429 once over `REGISTRATION_RATE_LIMIT`.
pub async fn count_registration(p: &impl Platform, req: &Request) -> Result<()> {
    p.call(
        &counter::registration_address(&address(req)),
        counter::Reserve {
            limit: p.config().registration_rate_limit,
        },
    )
    .await?;
    Ok(())
}

/// Creates an account; the email's object makes the email unique even under racing sign-ups.
/// `Ok(None)`: the email already has an account. Callers answer that exactly as they answer a
/// new account (sign-up must not tell anyone which emails have accounts), and the cost is the
/// same: the KDF runs before the email's object is asked. `limit_reached` when the tenant's
/// people quota is full (for every email alike).
pub async fn sign_up(p: &impl Platform, email: &str, password: &str, name: &str) -> Result<Option<Profile>> {
    let email = normalise_email(email);
    crate::rules::fields::email("email", &email, true)?;
    crate::rules::fields::name("name", name.trim(), 100)?;
    crate::rules::password_policy::check(password, &email)?;
    let user_id = random_token(p, 16)?;
    // The tenant's people quota (`MAX_PEOPLE` or the organisation's; counted with no limit too)
    // is counted first, in one atomic step, keyed by the new user id with the email noted (the
    // tenant's inventory of people, for erasure), before the KDF: a refused sign-up costs no
    // hashing. An email that already has an account, or a creation that fails, gives the place
    // back. When the quota is full every sign-up is refused alike, so the refusal says nothing
    // about which emails have accounts.
    reserve_person(p, &user_id, &email).await?;
    let mut salt = [0u8; 16];
    let hashed = p.fill_random(&mut salt).and_then(|()| password::hash(password, &salt));
    let record = hashed.map(|password_hash| AccountRecord {
        user_id: user_id.clone(),
        email: email.clone(),
        name: name.trim().to_owned(),
        password_hash,
        created_at: p.now(),
        email_verified: false,
    });
    create_reserved(p, &user_id, record).await
}

/// Counts a new person (`user_id`, its `email` noted: the tenant's inventory of people, for
/// erasure) against the tenant's people quota (`MAX_PEOPLE` or the organisation's; counted
/// with no limit too), in one atomic step: `limit_reached` when it is full.
pub(crate) async fn reserve_person(p: &impl Platform, user_id: &str, email: &str) -> Result<()> {
    let cmd = quota::Reserve {
        resource: quota::Resource::People,
        member: user_id.to_owned(),
        limit: p.config().quotas.max_people.unwrap_or(u32::MAX),
        note: email.to_owned(),
    };
    p.call(&quota::object(), cmd).await
}

/// Makes the account of a person [`reserve_person`] counted, from `record` (an error: the
/// record could not be made), then its profile. `Ok(None)`: the email already has an account.
/// Any failure to create the account gives the quota's place back.
pub(crate) async fn create_reserved(p: &impl Platform, user_id: &str, record: Result<AccountRecord>) -> Result<Option<Profile>> {
    let created = match record {
        Ok(record) => {
            let profile = Profile {
                id: user_id.to_owned(),
                email: record.email.clone(),
                name: record.name.clone(),
                created_at: record.created_at,
                email_verified: record.email_verified,
            };
            p.call(&account::object(&record.email), account::Create { record }).await.map(|()| profile)
        }
        Err(e) => Err(e),
    };
    let profile = match created {
        Ok(profile) => profile,
        Err(e) => {
            let cmd = quota::Release {
                resource: quota::Resource::People,
                member: user_id.to_owned(),
            };
            p.call(&quota::object(), cmd).await.ok();
            return if e.code == ErrorCode::LimitReached { Ok(None) } else { Err(e) };
        }
    };
    p.call(&user::object(user_id), user::PutProfile { profile: profile.clone() }).await?;
    Ok(Some(profile))
}

/// Checks email and password under the per-account and per-address failure limits. The answer
/// is the same for an unknown email and a wrong password, and costs the same KDF run.
pub async fn log_in(p: &impl Platform, req: &Request, email: &str, password: &str) -> Result<Profile> {
    let cfg = p.config();
    let ip = counter::login_address(&address(req));
    // Each attempt is reserved before the password is checked (one atomic command per
    // counter), so racing guesses cannot overrun a limit; a success gives it back.
    p.call(
        &ip,
        counter::Reserve {
            limit: cfg.login_limit_address,
        },
    )
    .await
    .inspect_err(|e| note_limited(p, e, None, "address"))?;
    // The account limit counts the normalised email: padding or look-alike forms of one
    // address share one counter. Input that cannot be an email has no account to guess.
    let email = normalise_email(email);
    let email_key = account::object(&email);
    let valid = crate::rules::fields::email("email", &email, true).is_ok();
    let account = if valid {
        let cmd = account::Get {
            limit: cfg.login_limit_account,
        };
        p.call(&email_key, cmd).await.inspect_err(|e| note_limited(p, e, None, "account"))?
    } else {
        None
    };
    let ok = match &account {
        Some(a) => password::verify(password, &a.password_hash),
        None => {
            password::burn(password);
            false
        }
    };
    match (ok, account) {
        (true, Some(a)) => {
            p.call(&ip, counter::Release {}).await?;
            p.call(&email_key, account::ReleaseLogin {}).await?;
            Ok(Profile {
                id: a.user_id,
                email: a.email,
                name: a.name,
                created_at: a.created_at,
                email_verified: a.email_verified,
            })
        }
        _ => Err(Error::new(
            ErrorCode::AccessDenied,
            "the email or password is wrong",
        )),
    }
}

/// Records a log-in refused by a failure limit (`which`: `address` or `account`) as an audit
/// event; other errors are not events.
pub(crate) fn note_limited(p: &impl Platform, e: &Error, person: Option<&str>, which: &str) {
    if e.code != ErrorCode::RateLimited {
        return;
    }
    use crate::objects::audit::{Event, EventType, Outcome};
    let mut event = Event::new(EventType::LoginLimited, "anonymous", Outcome::Refused).detail(which);
    if let Some(u) = person {
        event = event.person(u);
    }
    p.record(event);
}

/// Starts a session for a person who just logged in by `amr` (RFC 8176 method values: `pwd`,
/// `otp`, `hwk`, ...); returns the cookie value (only its hash is stored). Every log-in method
/// ends here (`pages::login::finish_login`). The session is also listed in the person's index
/// (`user::TrackSession`), so it can be ended everywhere; a log-in beyond the index's size ends
/// the person's oldest session.
pub async fn start_session(p: &impl Platform, req: &Request, profile: &Profile, amr: &[&str]) -> Result<String> {
    let token = random_token(p, 32)?;
    let hash = sha256_hex(&token);
    let now = p.now();
    let amr: Vec<String> = amr.iter().map(|m| (*m).to_owned()).collect();
    let record = SessionRecord {
        user_id: profile.id.clone(),
        email: profile.email.clone(),
        name: profile.name.clone(),
        expires_at: now + p.config().session_ttl as i64,
        logged_in_at: Some(now),
        sid: Some(random_token(p, 16)?),
        amr: amr.clone(),
    };
    let entry = user::SessionEntry {
        hash: hash.clone(),
        started_at: now,
        expires_at: record.expires_at,
        amr,
        agent: req.header("user-agent").unwrap_or("").chars().filter(|c| !c.is_control()).take(120).collect(),
    };
    // The person's index first: it refuses a person an operator disabled (`objects::people`),
    // before any session exists.
    let evicted = p
        .call(&user::object(&profile.id), user::TrackSession { entry })
        .await
        .map_err(|e| match e.code {
            ErrorCode::AccessDenied => e.on_page("Sign in", "This account is disabled. Ask the service's operator."),
            _ => e,
        })?;
    p.call(&session::object(&hash), session::Create { record })
        .await?;
    for old in evicted {
        p.call(&session::object(&old), session::Delete {}).await?;
    }
    Ok(token)
}

/// The hash (object name) of the session the request's cookie names, if it has one of the
/// right shape.
pub fn session_hash(req: &Request) -> Option<String> {
    let token = cookies::get(req, &cookies::session_name(req))?;
    (token.len() == 43).then(|| sha256_hex(token))
}

/// Ends every session of `user_id` but the one of hash `except` (all when `None`): for
/// sign-out everywhere, a password reset, account deletion. Answers the ended sessions (for
/// their back-channel logout notifications, `oauth::logout_token::for_ended_session`).
pub async fn end_sessions(p: &impl Platform, user_id: &str, except: Option<&str>) -> Result<Vec<SessionRecord>> {
    let which = user::Which::AllBut(except.map(str::to_owned));
    let gone = p.call(&user::object(user_id), user::ForgetSessions { which }).await?;
    let mut ended = Vec::new();
    for s in gone {
        if let Some(r) = p.call(&session::object(&s.hash), session::Take {}).await? {
            ended.push(r);
        }
    }
    Ok(ended)
}

/// The person's live sessions, oldest first (the account page).
pub async fn sessions(p: &impl Platform, user_id: &str) -> Result<Vec<user::SessionEntry>> {
    p.call(&user::object(user_id), user::ListSessions {}).await
}

/// The session the request's cookie names, if it is live.
pub async fn current_session(p: &impl Platform, req: &Request) -> Result<Option<SessionRecord>> {
    let Some(token) = cookies::get(req, &cookies::session_name(req)) else {
        return Ok(None);
    };
    if token.len() != 43 {
        return Ok(None);
    }
    // A session without `amr` was made before sessions were listed in the person's index
    // (`start_session`): sign-out everywhere, a reset or a deletion could not reach it, so it
    // is not honoured (the person logs in again once).
    Ok(p.call(&session::object(&sha256_hex(token)), session::Get {})
        .await?
        .filter(|s| !s.amr.is_empty()))
}

/// Whether the session's log-in is recent enough for the actions that change how the person
/// logs in (`rules::recent_login`: adding or removing a passkey, turning the second factor on
/// or off, new recovery codes). The log-in time is the session record's, written by
/// [`start_session`] in the session's own object: nothing the browser sends moves it.
pub fn recent_login(p: &impl Platform, s: &SessionRecord) -> bool {
    let rule = crate::rules::recent_login::window(p.config().recent_login_seconds);
    crate::rules::recent_login::is_recent(s.logged_in_at, p.now(), rule)
}

/// Ends the request's session (its object is deleted, and it leaves the person's index) and
/// answers what it was, when it was live: who, and its OpenID Connect `sid` for back-channel
/// logout (`oauth::logout_token`).
pub async fn end_session(p: &impl Platform, req: &Request) -> Result<Option<SessionRecord>> {
    let Some(hash) = session_hash(req) else {
        return Ok(None);
    };
    let ended = p.call(&session::object(&hash), session::Take {}).await?;
    if let Some(s) = &ended {
        p.call(&user::object(&s.user_id), user::ForgetSessions { which: user::Which::One(hash) })
            .await?;
    }
    Ok(ended)
}

pub async fn profile(p: &impl Platform, user_id: &str) -> Result<Option<Profile>> {
    p.call(&user::object(user_id), user::GetProfile {}).await
}
