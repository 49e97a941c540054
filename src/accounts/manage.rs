//! What a person does to their own account from the account page (`pages::account`): see and
//! revoke their connected apps, change their display name, prove it is them (the password), and
//! delete the account. The sessions side (listing, sign-out everywhere) is `accounts` itself.

use super::password;
use crate::error::{Error, ErrorCode, Result};
use crate::objects::account;
use crate::objects::erase;
use crate::objects::grants;
use crate::objects::quota;
use crate::objects::user::{self, Connected, Profile};
use crate::platform::Platform;

/// The apps holding a live grant of the person or a remembered consent.
pub async fn connected_apps(p: &impl Platform, user_id: &str) -> Result<Vec<Connected>> {
    p.call(&user::object(user_id), user::ConnectedApps {}).await
}

/// Ends the grants `(client_id, gid)` of `user_id`, each in its own object.
async fn end_grants(p: &impl Platform, user_id: &str, list: &[(String, String)]) -> Result<usize> {
    let mut ended = 0;
    for (client_id, gid) in list {
        let Some(obj) = grants::object_of_gid(gid) else { continue };
        let cmd = grants::EndGrant {
            client_id: client_id.clone(),
            gid: gid.clone(),
            user_id: user_id.to_owned(),
        };
        if p.call(&obj, cmd).await? {
            ended += 1;
        }
    }
    Ok(ended)
}

/// Revokes app `client_id` for the person: every grant of theirs it holds ends at once (refresh
/// tokens refused, access tokens inactive at introspection, userinfo and the gateway), then the
/// grants leave the index and the consent is forgotten, so the next authorization asks again.
/// The grants are ended before they are forgotten: a failure midway leaves them listed, to try
/// again. Answers how many grants ended.
pub async fn revoke_app(p: &impl Platform, user_id: &str, client_id: &str) -> Result<usize> {
    let me = user::object(user_id);
    let list = p.call(&me, user::GrantIds { client_id: Some(client_id.to_owned()) }).await?;
    let ended = end_grants(p, user_id, &list).await?;
    let gids = list.into_iter().map(|(_, g)| g).collect();
    p.call(&me, user::ForgetApp { client_id: client_id.to_owned(), gids }).await?;
    Ok(ended)
}

/// Ends every grant of the person, of every app (account deletion).
pub async fn end_every_grant(p: &impl Platform, user_id: &str) -> Result<usize> {
    let list = p.call(&user::object(user_id), user::GrantIds { client_id: None }).await?;
    end_grants(p, user_id, &list).await
}

/// Checks a display name as sign-up does (trimmed, 1–100 characters, no invisible characters).
pub fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    crate::rules::fields::name("name", name, 100)?;
    Ok(name.to_owned())
}

/// Changes the person's display name: the account record first (log-ins copy the name from it
/// into new sessions), then the profile (userinfo, ID tokens). Sessions already started keep the
/// name they were made with until the next log-in.
pub async fn rename(p: &impl Platform, user_id: &str, name: &str) -> Result<Profile> {
    let name = check_name(name)?;
    let profile = super::profile(p, user_id)
        .await?
        .ok_or_else(|| Error::not_found("no such account"))?;
    let cmd = account::Rename { user_id: user_id.to_owned(), name: name.clone() };
    if !p.call(&account::object(&profile.email), cmd).await? {
        return Err(Error::not_found("no such account"));
    }
    p.call(&user::object(user_id), user::SetName { name })
        .await?
        .ok_or_else(|| Error::not_found("no such account"))
}

/// Whether `password` is the person's (account deletion asks it again), under the account's
/// failed-attempt limit like a log-in: a stolen session cannot guess it faster. Only people
/// have an account record (`email:<email>`): an app's bot user has none, so nothing verifies
/// for it. `Ok(None)`: wrong password; `rate_limited` when over the limit.
pub async fn verify_password(p: &impl Platform, user_id: &str, pw: &str) -> Result<Option<Profile>> {
    let Some(profile) = super::profile(p, user_id).await? else {
        password::burn(pw);
        return Ok(None);
    };
    let obj = account::object(&profile.email);
    let record = p
        .call(&obj, account::Get { limit: p.config().login_limit_account })
        .await?
        .filter(|a| a.user_id == user_id);
    let ok = match &record {
        Some(a) => password::verify(pw, &a.password_hash),
        None => {
            password::burn(pw);
            false
        }
    };
    if !ok {
        return Ok(None);
    }
    p.call(&obj, account::ReleaseLogin {}).await?;
    Ok(Some(profile))
}

/// Deletes what the person's account holds, once its grants and sessions are ended
/// (`pages::account`): the user object (profile, consents, grant and session indexes) and the
/// passkeys and second-factor objects are erased, the tenant's people quota gets its place back, and the account record goes last, so
/// the email can sign up again. Each step can run again after a failure (the password still
/// verifies until the last one).
pub async fn remove(p: &impl Platform, profile: &Profile) -> Result<()> {
    p.call(&erase::any(&user::object(&profile.id)), erase::Erase {}).await?;
    // The person's passkeys (a passkey of a deleted account must sign nobody in).
    p.call(&erase::any(&crate::objects::passkey::object(&profile.id)), erase::Erase {}).await?;
    // The second factor's secret and recovery codes (kept, not hashed: they go with the person).
    p.call(&erase::any(&crate::objects::totp::object(&profile.id)), erase::Erase {}).await?;
    let cmd = quota::Release { resource: quota::Resource::People, member: profile.id.clone() };
    p.call(&quota::object(), cmd).await?;
    let cmd = account::Remove { user_id: profile.id.clone() };
    if !p.call(&account::object(&profile.email), cmd).await? {
        return Err(Error::new(ErrorCode::NotFound, "the account was already removed"));
    }
    Ok(())
}
