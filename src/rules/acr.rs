//! Authentication Context Class References (OpenID Connect Core 1.0 §2 `acr`, §3.1.2.1
//! `acr_values`, §5.5.1.1 `acr` in the `claims` parameter). Every log-in here is one password
//! check ([`PASSWORD`], `amr: ["pwd"]`), so that is the one class this provider states
//! (`acr_values_supported`) and puts in every ID token. `acr_values` is a voluntary request: it
//! never fails the authorization. An *essential* `acr` asked through `claims` that the provider
//! cannot meet is a failed authentication (§5.5.1.1): `access_denied`, by redirect.

use crate::error::{Error, ErrorCode, Result};
use crate::rules::claims_request::AcrAsk;

/// The class of a password log-in (an absolute URI, as §2 recommends).
pub const PASSWORD: &str = "urn:portcullis:acr:password";

/// The classes this provider can meet.
pub const SUPPORTED: [&str; 1] = [PASSWORD];

/// `acr_values`: a space-separated list, at most this long.
pub const MAX_ACR_VALUES: usize = 2000;

/// Checks what the request asks of the class: `acr_values` (voluntary; bounded) and an `acr`
/// entry of `claims`. Returns the class the ID token will state.
pub fn check(acr_values: Option<&str>, ask: Option<&AcrAsk>) -> Result<&'static str> {
    if acr_values.is_some_and(|v| v.len() > MAX_ACR_VALUES || v.chars().any(char::is_control)) {
        return Err(Error::invalid_request("acr_values is too long or holds control characters"));
    }
    if let Some(a) = ask.filter(|a| a.essential && !a.values.is_empty()) {
        if !a.values.iter().any(|v| SUPPORTED.contains(&v.as_str())) {
            return Err(Error::new(
                ErrorCode::AccessDenied,
                "the essential acr asked for cannot be met: this provider authenticates with urn:portcullis:acr:password only",
            ));
        }
    }
    Ok(PASSWORD)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(essential: bool, values: &[&str]) -> AcrAsk {
        AcrAsk { essential, values: values.iter().map(|v| v.to_string()).collect() }
    }

    #[test]
    fn only_an_essential_class_we_cannot_meet_fails() {
        assert_eq!(check(None, None).unwrap(), PASSWORD);
        // Voluntary requests never fail, whatever they name.
        assert_eq!(check(Some("urn:mace:incommon:iap:silver"), None).unwrap(), PASSWORD);
        assert_eq!(check(None, Some(&ask(false, &["gold"]))).unwrap(), PASSWORD);
        // Essential without values: any class satisfies it.
        assert_eq!(check(None, Some(&ask(true, &[]))).unwrap(), PASSWORD);
        assert_eq!(check(None, Some(&ask(true, &["gold", PASSWORD]))).unwrap(), PASSWORD);
        let e = check(None, Some(&ask(true, &["gold"]))).unwrap_err();
        assert_eq!(e.code, ErrorCode::AccessDenied);
        assert!(!e.description.contains('\n'));
        assert_eq!(check(Some(&"a".repeat(MAX_ACR_VALUES + 1)), None).unwrap_err().code, ErrorCode::InvalidRequest);
        assert!(check(Some("a\nb"), None).is_err());
    }
}
