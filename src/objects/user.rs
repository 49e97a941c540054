//! `user:<user id>`: one person's profile and the scopes they consented to, per app.

use super::kv::Kv;
use super::protocol::{kind, load, save, Op};
use crate::error::Result;
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

#[derive(Debug, Serialize, Deserialize)]
pub struct PutProfile {
    pub profile: Profile,
}
impl Op for PutProfile {
    type Kind = User;
    type Reply = ();
    fn apply(self, kv: &mut dyn Kv, _now: i64) -> Result<()> {
        save(kv, PROFILE, &self.profile, None)
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct GetProfile {}
impl Op for GetProfile {
    type Kind = User;
    type Reply = Option<Profile>;
    fn apply(self, kv: &mut dyn Kv, _now: i64) -> Result<Option<Profile>> {
        load(kv, PROFILE)
    }
}

/// The scopes the person consented to for `client_id` (empty when none).
#[derive(Debug, Serialize, Deserialize)]
pub struct GetConsent {
    pub client_id: String,
}
impl Op for GetConsent {
    type Kind = User;
    type Reply = Vec<String>;
    fn apply(self, kv: &mut dyn Kv, _now: i64) -> Result<Vec<String>> {
        Ok(load(kv, &consent_key(&self.client_id))?.unwrap_or_default())
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SaveConsent {
    pub client_id: String,
    pub scopes: Vec<String>,
}
impl Op for SaveConsent {
    type Kind = User;
    type Reply = ();
    fn apply(self, kv: &mut dyn Kv, _now: i64) -> Result<()> {
        save(kv, &consent_key(&self.client_id), &self.scopes, None)
    }
}
