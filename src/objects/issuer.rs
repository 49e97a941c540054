//! `issuer` and `issuer:ed25519`: the development signing keys, made on first use when no
//! `SIGNING_KEYS` secret is set. Racing isolates agree: the object keeps only the first
//! candidate it is offered.

use super::protocol::{kind, op, Kind, Name};

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

op! {
    /// Returns the stored development key (PKCS#8 PEM), storing `candidate` first if there is none.
    DevKey in Issuer => Option<String> {
        pub candidate: Option<String>,
    }
    |cmd, kv, _now| {
        if let Some(pem) = kv.get(DEV_KEY)? {
            return Ok(Some(pem));
        }
        if let Some(pem) = &cmd.candidate {
            kv.put(DEV_KEY, pem, None)?;
        }
        Ok(cmd.candidate)
    }
}
