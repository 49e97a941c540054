//! PKCE (RFC 7636): what a challenge may look like at the authorization endpoint, and whether a
//! verifier at the token endpoint matches. S256 and plain; no challenge method means plain.

use crate::error::{Error, Result};
use crate::util::{b64url, ct_eq, sha256};

/// 43–128 characters of `[A-Za-z0-9-._~]` (RFC 7636 §4.1): the rule for verifiers, and for
/// challenges (an S256 challenge is 43 base64url characters, a plain one is the verifier).
pub fn well_formed(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// Validates the authorization request's challenge; returns the method to store.
pub fn check_challenge(
    challenge: Option<&str>,
    method: Option<&str>,
    public_client: bool,
) -> Result<Option<&'static str>> {
    let Some(c) = challenge else {
        if method.is_some() {
            return Err(Error::invalid_request(
                "code_challenge_method without code_challenge",
            ));
        }
        if public_client {
            return Err(Error::invalid_request(
                "public clients must use PKCE (code_challenge)",
            ));
        }
        return Ok(None);
    };
    let method = match method.unwrap_or("plain") {
        "S256" => "S256",
        "plain" => "plain",
        _ => {
            return Err(Error::invalid_request(
                "code_challenge_method must be S256 or plain",
            ))
        }
    };
    if !well_formed(c) || (method == "S256" && c.len() != 43) {
        return Err(Error::invalid_request("code_challenge is malformed"));
    }
    Ok(Some(method))
}

/// Checks the token request's verifier against what the code was issued with. A verifier for
/// a code issued without a challenge is refused (downgrade protection, RFC 9700 §2.1.1).
pub fn verify(challenge: Option<&str>, method: Option<&str>, verifier: Option<&str>) -> Result<()> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(Error::invalid_grant(
            "code_verifier sent for a code issued without a code_challenge",
        )),
        (Some(_), None) => Err(Error::invalid_grant("code_verifier is required")),
        (Some(c), Some(v)) => {
            if !well_formed(v) {
                return Err(Error::invalid_grant("code_verifier is malformed"));
            }
            let computed = match method {
                Some("S256") => b64url(&sha256(v.as_bytes())),
                _ => v.to_owned(),
            };
            if ct_eq(computed.as_bytes(), c.as_bytes()) {
                Ok(())
            } else {
                Err(Error::invalid_grant(
                    "code_verifier does not match the code_challenge",
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verify(Some(c), Some("S256"), Some(v)).is_ok());
        assert!(verify(Some(c), Some("S256"), Some(&v.replace('d', "e"))).is_err());
        assert!(verify(Some(v), Some("plain"), Some(v)).is_ok());
        assert!(verify(Some(v), None, Some(v)).is_ok());
    }

    #[test]
    fn downgrade_and_missing_verifier_fail() {
        let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(verify(None, None, Some(v)).is_err());
        assert!(verify(Some(v), Some("plain"), None).is_err());
        assert!(verify(None, None, None).is_ok());
    }

    #[test]
    fn challenge_rules() {
        let c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(
            check_challenge(Some(c), Some("S256"), true).unwrap(),
            Some("S256")
        );
        assert_eq!(check_challenge(Some(c), None, true).unwrap(), Some("plain"));
        assert!(check_challenge(None, None, true).is_err());
        assert_eq!(check_challenge(None, None, false).unwrap(), None);
        assert!(check_challenge(Some(c), Some("S512"), false).is_err());
        assert!(check_challenge(Some("short"), Some("plain"), false).is_err());
        assert!(check_challenge(Some(&"a".repeat(129)), Some("plain"), false).is_err());
        assert!(check_challenge(Some(&"a".repeat(48)), Some("S256"), false).is_err());
        // Letters-and-digits verifiers of 48–127 characters are inside the rule.
        assert!(well_formed(&"A1".repeat(24)) && well_formed(&"z".repeat(127)));
    }
}
