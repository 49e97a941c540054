//! `user:<user id>`: one person's profile and the scopes they consented to, per app.

use super::protocol::{kind, load, op, save};
use serde::{Deserialize, Serialize};

kind!(User = "user", object);

const PROFILE: &str = "profile";

fn consent_key(client_id: &str) -> String {
    format!("consent:{client_id}")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub id: String,
    pub email: String,
    pub name: String,
    pub created_at: i64,
    /// The account's email is verified (see `account::AccountRecord::email_verified`); OpenID
    /// Connect's `email_verified`.
    #[serde(default)]
    pub email_verified: bool,
}

op! {
    PutProfile in User => () {
        pub profile: Profile,
    }
    |cmd, kv, _now| {
        save(kv, PROFILE, &cmd.profile, None)
    }
}

op! {
    GetProfile in User => Option<Profile> {}
    |_, kv, _now| {
        load(kv, PROFILE)
    }
}

op! {
    /// The scopes the person consented to for `client_id` (empty when none).
    GetConsent in User => Vec<String> {
        pub client_id: String,
    }
    |cmd, kv, _now| {
        Ok(load(kv, &consent_key(&cmd.client_id))?.unwrap_or_default())
    }
}

op! {
    SaveConsent in User => () {
        pub client_id: String,
        pub scopes: Vec<String>,
    }
    |cmd, kv, now| {
        // When, for the account page's connected apps (consents saved before have no date).
        save(kv, &consented_at_key(&cmd.client_id), &now, None)?;
        save(kv, &consent_key(&cmd.client_id), &cmd.scopes, None)
    }
}

/// The person's live sessions (at most [`MAX_SESSIONS`]), so that they can be listed and ended
/// everywhere at once (sign-out everywhere, a password reset, account deletion).
const SESSIONS: &str = "sessions";

/// Sessions kept per person; a log-in beyond it ends the oldest session.
pub const MAX_SESSIONS: usize = 30;

/// One session as the person's index knows it: its object (the SHA-256 of its cookie), never
/// the cookie.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionEntry {
    pub hash: String,
    pub started_at: i64,
    pub expires_at: i64,
    #[serde(default)]
    pub amr: Vec<String>,
    /// The browser's `User-Agent`, shortened (shown on the account page only).
    #[serde(default)]
    pub agent: String,
}

/// Which sessions [`ForgetSessions`] takes out of the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Which {
    /// The one session of this hash.
    One(String),
    /// Every session but the one of this hash (all when `None`).
    AllBut(Option<String>),
}

fn live_sessions(kv: &dyn super::kv::Kv, now: i64) -> crate::error::Result<Vec<SessionEntry>> {
    let all: Vec<SessionEntry> = load(kv, SESSIONS)?.unwrap_or_default();
    Ok(all.into_iter().filter(|s| s.expires_at > now).collect())
}

fn save_sessions(kv: &mut dyn super::kv::Kv, list: &[SessionEntry]) -> crate::error::Result<()> {
    match list.iter().map(|s| s.expires_at).max() {
        Some(last) => save(kv, SESSIONS, &list, Some(last)),
        None => kv.delete(SESSIONS),
    }
}

op! {
    /// Adds a new session to the index; answers the sessions it pushed out (the oldest, beyond
    /// [`MAX_SESSIONS`]), which the caller ends.
    TrackSession in User => Vec<String> {
        pub entry: SessionEntry,
    }
    |cmd, kv, now| {
        super::people::refuse_disabled(kv)?;
        let mut list = live_sessions(kv, now)?;
        list.retain(|s| s.hash != cmd.entry.hash);
        list.push(cmd.entry);
        let over = list.len().saturating_sub(MAX_SESSIONS);
        let evicted: Vec<String> = list.drain(..over).map(|s| s.hash).collect();
        save_sessions(kv, &list)?;
        Ok(evicted)
    }
}

op! {
    /// The person's live sessions, oldest first.
    ListSessions in User => Vec<SessionEntry> {}
    |_, kv, now| {
        live_sessions(kv, now)
    }
}

op! {
    /// Takes sessions out of the index and answers them; the caller ends their objects.
    ForgetSessions in User => Vec<SessionEntry> {
        pub which: Which,
    }
    |cmd, kv, now| {
        let list = live_sessions(kv, now)?;
        let (gone, kept): (Vec<SessionEntry>, Vec<SessionEntry>) = list.into_iter().partition(|s| match &cmd.which {
            Which::One(h) => &s.hash == h,
            Which::AllBut(keep) => keep.as_deref() != Some(s.hash.as_str()),
        });
        save_sessions(kv, &kept)?;
        Ok(gone)
    }
}

// ---------------------------------------------------------------------------------------------
// Connected apps: the person's grants per app (the account page lists and revokes them)
// ---------------------------------------------------------------------------------------------

const CONSENT_PREFIX: &str = "consent:";
const GRANTS_PREFIX: &str = "grants:";

fn consented_at_key(client_id: &str) -> String {
    format!("consented_at:{client_id}")
}

fn grants_key(client_id: &str) -> String {
    format!("{GRANTS_PREFIX}{client_id}")
}

/// Grants kept per app in the index; recording one beyond it ends the app's oldest grant.
pub const MAX_GRANTS_PER_APP: usize = 64;

/// Apps kept in the index; recording a grant of a new app beyond it ends every grant of the
/// app used least recently.
pub const MAX_APPS: usize = 64;

/// One grant as the person's index knows it: its id, and when it ends at the latest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrantEntry {
    pub gid: String,
    pub expires_at: i64,
}

/// One app's grants in the index (`grants:<client_id>`; the key expires with its last grant).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct AppGrants {
    /// The scopes of the app's latest grant.
    scopes: Vec<String>,
    first_at: i64,
    last_at: i64,
    gids: Vec<GrantEntry>,
}

fn load_app(kv: &dyn super::kv::Kv, key: &str, now: i64) -> crate::error::Result<Option<AppGrants>> {
    Ok(load::<AppGrants>(kv, key)?
        .map(|mut a| {
            a.gids.retain(|g| g.expires_at > now);
            a
        })
        .filter(|a| !a.gids.is_empty()))
}

fn save_app(kv: &mut dyn super::kv::Kv, key: &str, a: &AppGrants) -> crate::error::Result<()> {
    match a.gids.iter().map(|g| g.expires_at).max() {
        Some(last) => save(kv, key, a, Some(last)),
        None => kv.delete(key),
    }
}

/// Every key of `prefix` in the object (listed in pages of 500).
fn all_keys(kv: &dyn super::kv::Kv, prefix: &str) -> crate::error::Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    loop {
        let after = out.last().map(|(k, _)| k.clone());
        let page = kv.list(prefix, after.as_deref(), 500)?;
        if page.is_empty() {
            return Ok(out);
        }
        out.extend(page);
    }
}

op! {
    /// Records grant `gid` of `client_id` (drawn when its code is minted, or made by the password
    /// grant), before the grant's object is written: every grant of the person is in the index
    /// (a gid whose code is never redeemed is harmless). Answers the grants it pushed out
    /// (`(client_id, gid)`: beyond [`MAX_GRANTS_PER_APP`], or every grant of the least recently
    /// used app beyond [`MAX_APPS`]), which the caller ends.
    TrackGrant in User => Vec<(String, String)> {
        pub client_id: String,
        pub gid: String,
        pub scopes: Vec<String>,
        pub expires_at: i64,
    }
    |cmd, kv, now| {
        super::people::refuse_disabled(kv)?;
        let key = grants_key(&cmd.client_id);
        let mut evicted = Vec::new();
        let mut app = match load_app(kv, &key, now)? {
            Some(a) => a,
            None => {
                let others: Vec<(String, AppGrants)> = kv
                    .list(GRANTS_PREFIX, None, MAX_APPS + 1)?
                    .into_iter()
                    .filter_map(|(k, v)| serde_json::from_str::<AppGrants>(&v).ok().map(|a| (k, a)))
                    .filter(|(k, a)| *k != key && a.gids.iter().any(|g| g.expires_at > now))
                    .collect();
                if others.len() >= MAX_APPS {
                    if let Some((old_key, old)) = others.into_iter().min_by_key(|(_, a)| a.last_at) {
                        let client = old_key.strip_prefix(GRANTS_PREFIX).unwrap_or_default().to_owned();
                        evicted.extend(old.gids.into_iter().map(|g| (client.clone(), g.gid)));
                        kv.delete(&old_key)?;
                    }
                }
                AppGrants { first_at: now, ..AppGrants::default() }
            }
        };
        app.gids.retain(|g| g.gid != cmd.gid);
        app.gids.push(GrantEntry { gid: cmd.gid, expires_at: cmd.expires_at });
        let over = app.gids.len().saturating_sub(MAX_GRANTS_PER_APP);
        evicted.extend(app.gids.drain(..over).map(|g| (cmd.client_id.clone(), g.gid)));
        app.scopes = cmd.scopes;
        app.last_at = now;
        save_app(kv, &key, &app)?;
        Ok(evicted)
    }
}

/// One app the person allowed or that holds a grant of theirs (the account page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connected {
    pub client_id: String,
    /// The scopes remembered in the consent, else those of the latest grant.
    pub scopes: Vec<String>,
    /// Whether the consent is remembered (the next authorization asks nothing).
    pub consented: bool,
    /// Live grants in the index (some may be codes never redeemed).
    pub grants: usize,
    /// When the app was first allowed or granted, when known.
    pub since: Option<i64>,
    /// When the app last got a grant.
    pub last_at: Option<i64>,
}

op! {
    /// Every app holding a live grant of the person or a remembered consent, by client id.
    ConnectedApps in User => Vec<Connected> {}
    |_, kv, now| {
        let mut out: std::collections::BTreeMap<String, Connected> = std::collections::BTreeMap::new();
        for (k, _) in all_keys(kv, GRANTS_PREFIX)? {
            let Some(a) = load_app(kv, &k, now)? else { continue };
            let client_id = k.strip_prefix(GRANTS_PREFIX).unwrap_or_default().to_owned();
            out.insert(client_id.clone(), Connected {
                client_id,
                scopes: a.scopes,
                consented: false,
                grants: a.gids.len(),
                since: Some(a.first_at),
                last_at: Some(a.last_at),
            });
        }
        for (k, v) in all_keys(kv, CONSENT_PREFIX)? {
            let client_id = k.strip_prefix(CONSENT_PREFIX).unwrap_or_default().to_owned();
            let scopes: Vec<String> = serde_json::from_str(&v).unwrap_or_default();
            let at: Option<i64> = load(kv, &consented_at_key(&client_id))?;
            let e = out.entry(client_id.clone()).or_insert_with(|| Connected {
                client_id,
                scopes: Vec::new(),
                consented: false,
                grants: 0,
                since: None,
                last_at: None,
            });
            e.consented = true;
            // Claim markers (`claim <name>`) are not scopes.
            e.scopes = scopes.into_iter().filter(|s| !s.contains(' ')).collect();
            e.since = match (e.since, at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        Ok(out.into_values().collect())
    }
}

op! {
    /// The live grant ids of `client_id` in the index (all apps' when `None`), as
    /// `(client_id, gid)`.
    GrantIds in User => Vec<(String, String)> {
        pub client_id: Option<String>,
    }
    |cmd, kv, now| {
        let keys = match &cmd.client_id {
            Some(c) => vec![grants_key(c)],
            None => all_keys(kv, GRANTS_PREFIX)?.into_iter().map(|(k, _)| k).collect(),
        };
        let mut out = Vec::new();
        for k in keys {
            let client = k.strip_prefix(GRANTS_PREFIX).unwrap_or_default().to_owned();
            if let Some(a) = load_app(kv, &k, now)? {
                out.extend(a.gids.into_iter().map(|g| (client.clone(), g.gid)));
            }
        }
        Ok(out)
    }
}

op! {
    /// After the grants `gids` of `client_id` were ended: takes them out of the index and
    /// forgets the consent, so the next authorization asks again. A grant recorded meanwhile
    /// (not in `gids`) stays listed.
    ForgetApp in User => () {
        pub client_id: String,
        pub gids: Vec<String>,
    }
    |cmd, kv, now| {
        let key = grants_key(&cmd.client_id);
        if let Some(mut a) = load_app(kv, &key, now)? {
            a.gids.retain(|g| !cmd.gids.contains(&g.gid));
            save_app(kv, &key, &a)?;
        } else {
            kv.delete(&key)?;
        }
        kv.delete(&consent_key(&cmd.client_id))?;
        kv.delete(&consented_at_key(&cmd.client_id))
    }
}

op! {
    /// Changes the display name in the profile only (the email and the rest stay as they are,
    /// whatever else changed them meanwhile); answers the profile, `None` when there is none.
    SetName in User => Option<Profile> {
        pub name: String,
    }
    |cmd, kv, _now| {
        let Some(mut profile) = load::<Profile>(kv, PROFILE)? else {
            return Ok(None);
        };
        profile.name = cmd.name;
        save(kv, PROFILE, &profile, None)?;
        Ok(Some(profile))
    }
}
