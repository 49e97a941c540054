//! Apps' public keys (for app tokens and `private_key_jwt`): accepted as an RSA JWK or a PEM
//! (SPKI or PKCS#1), stored as a normalised JWK whose `kid` is its RFC 7638 thumbprint.

use super::keys::{rsa_public_jwk, rsa_thumbprint};
use crate::error::{Error, Result};
use crate::util::b64url_decode;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPublicKey};

/// Normalises a submitted key (JWK object or PEM string) into the JWK we store.
pub fn normalise(input: &serde_json::Value) -> Result<serde_json::Value> {
    let key = match input {
        serde_json::Value::String(pem) => {
            let pem = pem.replace("\\n", "\n");
            RsaPublicKey::from_public_key_pem(&pem)
                .or_else(|_| RsaPublicKey::from_pkcs1_pem(&pem))
                .map_err(|_| Error::invalid_request("public_key is not an RSA public key in PEM"))?
        }
        serde_json::Value::Object(_) => {
            if input.get("d").is_some() || input.get("p").is_some() {
                return Err(Error::invalid_request(
                    "send the public key only, never the private key",
                ));
            }
            to_public_key(input)
                .ok_or_else(|| Error::invalid_request("public_key is not a usable RSA JWK"))?
        }
        _ => {
            return Err(Error::invalid_request(
                "public_key must be a JWK object or a PEM string",
            ))
        }
    };
    let bits = key.n().bits();
    if !(2048..=4096).contains(&bits) {
        return Err(Error::invalid_request("RSA keys must be 2048 to 4096 bits"));
    }
    Ok(rsa_public_jwk(&key, &rsa_thumbprint(&key)))
}

/// The RSA public key of a stored (or submitted) JWK.
pub fn to_public_key(jwk: &serde_json::Value) -> Option<RsaPublicKey> {
    if jwk.get("kty")?.as_str()? != "RSA" {
        return None;
    }
    let n = b64url_decode(jwk.get("n")?.as_str()?)?;
    let e = b64url_decode(jwk.get("e")?.as_str()?)?;
    if n.len() > 512 || e.len() > 8 {
        return None;
    }
    RsaPublicKey::new(BigUint::from_bytes_be(&n), BigUint::from_bytes_be(&e)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};

    #[test]
    fn pem_and_jwk_give_the_same_kid() {
        let private = rsa::RsaPrivateKey::from_pkcs8_pem(crate::crypto::keys::tests::test_pem()).unwrap();
        let pem = private.to_public_key().to_public_key_pem(LineEnding::LF).unwrap();
        let a = normalise(&serde_json::Value::String(pem)).unwrap();
        let b = normalise(&a).unwrap();
        assert_eq!(a["kid"], b["kid"]);
        assert!(normalise(&serde_json::json!({"kty":"RSA","n":"AQAB","e":"AQAB"})).is_err());
        assert!(normalise(&serde_json::json!(5)).is_err());
        let mut with_d = a.clone();
        with_d["d"] = "x".into();
        assert!(normalise(&with_d).is_err());
    }
}
