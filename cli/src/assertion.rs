//! App keys and app assertions: RSA key pairs made here (the private key never leaves this
//! machine), and the RS256 JWT an app signs for `POST /application/token`
//! (docs/guides/app-tokens.md): `iss` = the app id, `iat`, `exp` = `iat` + 600, a random `jti`.

use crate::error::{Error, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use sha2::Sha256;
use std::path::Path;

/// The longest assertion the server accepts (`exp - iat`, src/oauth/assertion.rs).
pub const LIFETIME: i64 = 600;

/// A new RSA key pair: (PKCS#8 private PEM, SPKI public PEM).
pub fn generate(bits: usize) -> Result<(String, String)> {
    if !(2048..=4096).contains(&bits) {
        return Err(Error::usage("--bits must be 2048 to 4096 (the server's range)"));
    }
    let mut rng = rand_core::OsRng;
    let key =
        RsaPrivateKey::new(&mut rng, bits).map_err(|e| Error::usage(format!("cannot make a key: {e}")))?;
    let private = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| Error::usage(format!("cannot encode the key: {e}")))?;
    let public = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| Error::usage(format!("cannot encode the key: {e}")))?;
    Ok((private.to_string(), public))
}

/// A private key file: PKCS#8 (`BEGIN PRIVATE KEY`, what `apps key generate` and `openssl
/// genpkey` write) or PKCS#1 (`BEGIN RSA PRIVATE KEY`).
pub fn read_private_key(path: &Path) -> Result<RsaPrivateKey> {
    let pem = std::fs::read_to_string(path).map_err(|e| Error::file(path, "read the key file", e))?;
    RsaPrivateKey::from_pkcs8_pem(pem.trim())
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem.trim()))
        .map_err(|_| {
            Error::File(format!(
                "{} is not an RSA private key in PEM (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)",
                path.display()
            ))
        })
}

/// The signed assertion (compact JWS).
pub fn sign(
    key: &RsaPrivateKey,
    app_id: &str,
    kid: Option<&str>,
    aud: Option<&str>,
    now: i64,
) -> Result<String> {
    let mut header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
    if let Some(kid) = kid {
        header["kid"] = kid.into();
    }
    let mut jti = [0u8; 16];
    rand_core::RngCore::try_fill_bytes(&mut rand_core::OsRng, &mut jti)
        .map_err(|e| Error::usage(format!("no randomness for the jti: {e}")))?;
    let mut claims = serde_json::json!({
        "iss": app_id,
        "iat": now,
        "exp": now + LIFETIME,
        "jti": URL_SAFE_NO_PAD.encode(jti),
    });
    if let Some(aud) = aud {
        claims["aud"] = aud.into();
    }
    let enc = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap_or_default());
    let input = format!("{}.{}", enc(&header), enc(&claims));
    let signer = SigningKey::<Sha256>::new(key.clone());
    let sig = signer
        .try_sign(input.as_bytes())
        .map_err(|e| Error::usage(format!("cannot sign: {e}")))?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;

    #[test]
    fn an_assertion_verifies_with_the_public_key_and_carries_the_claims() {
        let (private, public) = generate(2048).unwrap();
        assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
        let dir = std::env::temp_dir().join(format!("portcullis-cli-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("k.pem");
        std::fs::write(&path, &private).unwrap();
        let key = read_private_key(&path).unwrap();
        let jwt = sign(&key, "app123", Some("kid1"), None, 1_000).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "app123");
        assert_eq!(claims["iat"], 1_000);
        assert_eq!(claims["exp"], 1_600);
        assert_eq!(claims["jti"].as_str().unwrap().len(), 22);
        assert!(claims.get("aud").is_none());
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["kid"], "kid1");
        let vk = VerifyingKey::<Sha256>::new(rsa::RsaPublicKey::from_public_key_pem(&public).unwrap());
        let sig = Signature::try_from(URL_SAFE_NO_PAD.decode(parts[2]).unwrap().as_slice()).unwrap();
        vk.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .unwrap();
        // Two assertions never share a jti.
        assert_ne!(
            jwt.split('.').nth(1),
            sign(&key, "app123", None, None, 1_000).unwrap().split('.').nth(1)
        );
        // Not a key: a file error (exit 4), naming the file.
        std::fs::write(&path, "hello").unwrap();
        let e = read_private_key(&path).unwrap_err();
        assert_eq!(e.exit_code(), 4);
        assert!(e.to_string().contains("k.pem"));
        assert_eq!(
            read_private_key(&dir.join("missing.pem"))
                .unwrap_err()
                .exit_code(),
            4
        );
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(generate(1024).unwrap_err().exit_code(), 1);
    }
}
