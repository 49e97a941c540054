//! `sid:<sid>`: the apps that got an ID token in one log-in session, named by the session's
//! OpenID Connect `sid` (the grant knows the `sid`, never the session's cookie or its hash).
//! Back-Channel Logout reads it once when the session ends ([`Take`]) and notifies each app.
//! Kept as long as the session can last; at most [`MAX_APPS`] apps (the oldest go first).

use super::protocol::{kind, load, op, save};

kind!(LoginApps = "sid",
    /// The apps of the session whose `sid` is `sid`.
    object);

const APPS: &str = "apps";
pub const MAX_APPS: usize = 50;

op! {
    /// Notes that `client_id` got an ID token in this session (once; `expires_at` the session's
    /// latest end).
    Add in LoginApps => () {
        pub client_id: String,
        pub expires_at: i64,
    }
    |cmd, kv, _now| {
        let mut apps: Vec<String> = load(kv, APPS)?.unwrap_or_default();
        if !apps.contains(&cmd.client_id) {
            apps.push(cmd.client_id);
            if apps.len() > MAX_APPS {
                apps.remove(0);
            }
        }
        save(kv, APPS, &apps, Some(cmd.expires_at))
    }
}

op! {
    /// The session's apps, forgotten as they are read: a session ends once.
    Take in LoginApps => Vec<String> {}
    |_, kv, _now| {
        let apps: Vec<String> = load(kv, APPS)?.unwrap_or_default();
        kv.delete(APPS)?;
        Ok(apps)
    }
}
