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
    |cmd, kv, _now| {
        save(kv, &consent_key(&cmd.client_id), &cmd.scopes, None)
    }
}
