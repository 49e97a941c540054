//! People: sign-up, log-in (with failed-attempt limits), sessions and profiles.

pub mod cookies;
pub mod password;

use crate::http::Request;
use crate::oauth::error::{Error, ErrorCode, Result};
use crate::store::platform::random_token;
use crate::store::shard::{AccountRecord, Command, Profile, Reply, SessionRecord};
use crate::store::Platform;
use crate::util::sha256_hex;

pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn email_shard(email: &str) -> String {
    format!("email:{}", normalise_email(email))
}

fn address_shard(req: &Request) -> String {
    let addr = if req.remote_addr.is_empty() {
        "unknown"
    } else {
        req.remote_addr.as_str()
    };
    format!("ip:{}", addr.chars().take(64).collect::<String>())
}

/// Counts a registration from the request's address; 429 once over `REGISTRATION_RATE_LIMIT`.
pub async fn count_registration(p: &impl Platform, req: &Request) -> Result<()> {
    let shard = format!("reg:{}", &address_shard(req)[3..]);
    p.shard(
        &shard,
        Command::RateStatus {
            limit: p.config().registration_rate_limit,
        },
    )
    .await?;
    p.shard(&shard, Command::RateFail).await?;
    Ok(())
}

pub fn check_password_rules(password: &str) -> Result<()> {
    let n = password.chars().count();
    if n < 8 {
        return Err(Error::invalid_request(
            "the password must be at least 8 characters",
        ));
    }
    if n > 256 {
        return Err(Error::invalid_request(
            "the password must be at most 256 characters",
        ));
    }
    Ok(())
}

/// Creates an account; the email shard makes the email unique even under racing sign-ups.
pub async fn sign_up(p: &impl Platform, email: &str, password: &str, name: &str) -> Result<Profile> {
    crate::admin::validate::email("email", email.trim(), true)?;
    crate::admin::validate::text("name", name, 100, true)?;
    check_password_rules(password)?;
    let mut salt = [0u8; 16];
    p.fill_random(&mut salt);
    let password_hash = password::hash(password, &salt)?;
    let user_id = random_token(p, 16);
    let email = normalise_email(email);
    let record = AccountRecord {
        user_id: user_id.clone(),
        email: email.clone(),
        name: name.trim().to_owned(),
        password_hash,
        created_at: p.now(),
    };
    p.shard(&email_shard(&email), Command::CreateAccount { record })
        .await?;
    let profile = Profile {
        id: user_id.clone(),
        email,
        name: name.trim().to_owned(),
        created_at: p.now(),
    };
    p.shard(
        &format!("user:{user_id}"),
        Command::PutProfile {
            profile: profile.clone(),
        },
    )
    .await?;
    Ok(profile)
}

/// Checks email and password under the per-account and per-address failure limits. The answer
/// is the same for an unknown email and a wrong password, and costs the same KDF run.
pub async fn log_in(p: &impl Platform, req: &Request, email: &str, password: &str) -> Result<Profile> {
    let cfg = p.config();
    let ip = address_shard(req);
    p.shard(
        &ip,
        Command::RateStatus {
            limit: cfg.login_limit_address,
        },
    )
    .await?;
    let email_key = email_shard(email);
    let account = match p
        .shard(
            &email_key,
            Command::GetAccount {
                limit: cfg.login_limit_account,
            },
        )
        .await?
    {
        Reply::Account { account } => account,
        _ => None,
    };
    let ok = match &account {
        Some(a) => password::verify(password, &a.password_hash),
        None => {
            password::burn(password);
            false
        }
    };
    match (ok, account) {
        (true, Some(a)) => Ok(Profile {
            id: a.user_id,
            email: a.email,
            name: a.name,
            created_at: a.created_at,
        }),
        _ => {
            p.shard(&ip, Command::RateFail).await?;
            if email.len() <= 254 {
                p.shard(&email_key, Command::RateFail).await?;
            }
            Err(Error::new(
                ErrorCode::AccessDenied,
                "the email or password is wrong",
            ))
        }
    }
}

/// Starts a session; returns the cookie value (only its hash is stored).
pub async fn start_session(p: &impl Platform, profile: &Profile) -> Result<String> {
    let token = random_token(p, 32);
    let record = SessionRecord {
        user_id: profile.id.clone(),
        email: profile.email.clone(),
        name: profile.name.clone(),
        expires_at: p.now() + p.config().session_ttl as i64,
    };
    p.shard(
        &format!("session:{}", sha256_hex(&token)),
        Command::CreateSession { record },
    )
    .await?;
    Ok(token)
}

/// The session the request's cookie names, if it is live.
pub async fn current_session(p: &impl Platform, req: &Request) -> Result<Option<SessionRecord>> {
    let Some(token) = cookies::get(req, &cookies::session_name(req)) else {
        return Ok(None);
    };
    if token.len() != 43 {
        return Ok(None);
    }
    match p
        .shard(&format!("session:{}", sha256_hex(token)), Command::GetSession)
        .await?
    {
        Reply::Session { session } => Ok(session),
        _ => Ok(None),
    }
}

pub async fn end_session(p: &impl Platform, req: &Request) -> Result<()> {
    if let Some(token) = cookies::get(req, &cookies::session_name(req)) {
        p.shard(&format!("session:{}", sha256_hex(token)), Command::DeleteSession)
            .await?;
    }
    Ok(())
}

pub async fn profile(p: &impl Platform, user_id: &str) -> Result<Option<Profile>> {
    match p.shard(&format!("user:{user_id}"), Command::GetProfile).await? {
        Reply::Profile { profile } => Ok(profile),
        _ => Ok(None),
    }
}
