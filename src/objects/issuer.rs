//! `issuer` and `issuer:ed25519`: the development signing keys, made on first use when no
//! `SIGNING_KEYS` secret is set. Racing isolates agree: the object keeps only the first
//! candidate it is offered.

use super::kv::Kv;
use super::protocol::{kind, Kind, Name, Op};
use crate::error::Result;
use serde::{Deserialize, Serialize};

kind!(Issuer = "issuer");

/// The object holding the development RSA key (RS256).
pub fn rsa() -> Name<Issuer> {
    Name::raw(Issuer::PREFIX.to_owned())
}

/// The object holding the development Ed25519 key (`ACCESS_TOKEN_ALG=EdDSA`).
pub fn ed25519() -> Name<Issuer> {
    Name::of("ed25519")
}

const DEV_KEY: &str = "dev_key";

/// Returns the stored development key (PKCS#8 PEM), storing `candidate` first if there is none.
#[derive(Debug, Serialize, Deserialize)]
pub struct DevKey {
    pub candidate: Option<String>,
}
impl Op for DevKey {
    type Kind = Issuer;
    type Reply = Option<String>;
    fn apply(self, kv: &mut dyn Kv, _now: i64) -> Result<Option<String>> {
        if let Some(pem) = kv.get(DEV_KEY)? {
            return Ok(Some(pem));
        }
        if let Some(pem) = &self.candidate {
            kv.put(DEV_KEY, pem, None)?;
        }
        Ok(self.candidate)
    }
}
