//! Authentication Context Class References (OpenID Connect Core 1.0 §2 `acr`, §3.1.2.1
//! `acr_values`, §5.5.1.1 `acr` in the `claims` parameter): which class a log-in was, from the
//! methods it used (the session's RFC 8176 `amr`, [`of`]), and whether a class meets what a
//! request asks ([`check`], [`meets`]).
//!
//! The classes, strongest first:
//!
//! | class | log-in | `amr` |
//! |---|---|---|
//! | [`PHR`] `phr` | any passkey with user verification (a synced one or a device-bound one) | `swk`/`hwk` + `mfa` |
//! | [`MFA`] | a password and a second factor (an authenticator code or a recovery code) | `pwd` + `mfa` |
//! | [`PASSWORD`] | one factor this server checked: the password | `pwd` (and anything of one factor) |
//! | [`FEDERATED`] | an upstream identity provider's log-in alone (its own methods are not taken on) | `fed` without `pwd` |
//!
//! `phr` and `phrh` are the values of OpenID Connect Extended Authentication Profile (EAP) ACR
//! Values 1.0, registered in the IANA "Level of Assurance (LoA) Profiles" registry (RFC 6711):
//! `phr` is "phishing-resistant" authentication (a key bound to the origin, as WebAuthn's is:
//! it signs over the RP ID and origin, so a look-alike site gets nothing usable), `phrh` is
//! phishing-resistant with the key in hardware. This provider never states `phrh`: passkeys are
//! registered without attestation (`"attestation": "none"`), so "the key cannot leave its
//! authenticator" is the authenticator's own unverified claim (its backup-eligible flag), which a
//! software authenticator can make; it still shows in `amr` (`hwk`), which describes, but the
//! class, which relying parties enforce, stops at `phr`. An essential `phrh` is therefore a class
//! this provider does not have (`access_denied`). A user-verified passkey is also multi-factor
//! (the key, and the PIN or biometric that unlocks it), which both EAP values presume. These
//! are the values relying parties (and oidc-provider, Keycloak, Okta) already know, so an app
//! can ask for a passkey log-in by name. The two lower classes have no registered value; they
//! are this provider's own absolute URIs (as §2 recommends). `mfa` of a passkey without user
//! verification never happens (`rules::webauthn` requires UV); such a log-in would be
//! [`PASSWORD`]'s class (one factor), never a stronger one.
//!
//! `acr_values` is a voluntary request (§3.1.2.1): it never fails an authorization and the ID
//! token states the class the log-in really had. An *essential* `acr` asked through `claims`
//! (§5.5.1.1) must be met: naming no class this provider has is a failed authentication
//! (`access_denied`, by redirect, before any page); a session whose class does not meet it is
//! sent to log in again once (it may use a passkey this time), and if the fresh log-in still
//! does not meet it, `access_denied`. A class meets a value equal to it or to a weaker class
//! of the chain `password` < `mfa` < `phr` < `phrh` ([`meets`]); `federated` meets only itself.

use crate::error::{Error, ErrorCode, Result};
use crate::rules::claims_request::AcrAsk;

/// A passkey log-in with user verification whose key cannot leave its authenticator (EAP
/// ACR Values 1.0 "phishing-resistant hardware-protected").
pub const PHRH: &str = "phrh";
/// A passkey log-in with user verification (EAP ACR Values 1.0 "phishing-resistant").
pub const PHR: &str = "phr";
/// A password and a second factor (TOTP or a recovery code).
pub const MFA: &str = "urn:portcullis:acr:mfa";
/// A password log-in (one factor).
pub const PASSWORD: &str = "urn:portcullis:acr:password";
/// An upstream identity provider's log-in, not confirmed by this server's password.
pub const FEDERATED: &str = "urn:portcullis:acr:federated";

/// The classes this provider states (`acr_values_supported`), strongest first. Not [`PHRH`]:
/// without attestation the hardware is the authenticator's unverified claim (module docs).
pub const SUPPORTED: [&str; 4] = [PHR, MFA, PASSWORD, FEDERATED];

/// `acr_values`: a space-separated list, at most this long.
pub const MAX_ACR_VALUES: usize = 2000;

/// The class of a log-in that used the methods `amr` (RFC 8176 values; empty: a session or
/// grant made before they were kept, which were password log-ins).
pub fn of<S: AsRef<str>>(amr: &[S]) -> &'static str {
    let has = |m: &str| amr.iter().any(|a| a.as_ref() == m);
    if has("mfa") && (has("hwk") || has("swk")) {
        PHR
    } else if has("mfa") {
        MFA
    } else if has("fed") && !has("pwd") {
        FEDERATED
    } else {
        PASSWORD
    }
}

/// The place of a class in the chain of [`meets`]; `None` for [`FEDERATED`] and unknown values.
fn rank(class: &str) -> Option<u8> {
    match class {
        PASSWORD => Some(1),
        MFA => Some(2),
        PHR => Some(3),
        PHRH => Some(4),
        _ => None,
    }
}

/// Whether a log-in of `class` satisfies one of `wanted` (none: anything does): equal, or
/// stronger in the chain `password` < `mfa` < `phr` < `phrh`.
pub fn meets(class: &str, wanted: &[String]) -> bool {
    wanted.is_empty()
        || wanted.iter().any(|w| {
            w == class || matches!((rank(class), rank(w)), (Some(c), Some(w)) if c >= w)
        })
}

/// Checks what the request asks of the class: `acr_values` (voluntary; bounded, never fails
/// otherwise) and an `acr` entry of `claims`. Answers the values an essential `acr` asks for
/// (empty: nothing is essential, or any class will do); `access_denied` when they name no
/// class of this provider's.
pub fn check(acr_values: Option<&str>, ask: Option<&AcrAsk>) -> Result<Vec<String>> {
    if acr_values.is_some_and(|v| v.len() > MAX_ACR_VALUES || v.chars().any(char::is_control)) {
        return Err(Error::invalid_request("acr_values is too long or holds control characters"));
    }
    let Some(a) = ask.filter(|a| a.essential && !a.values.is_empty()) else {
        return Ok(Vec::new());
    };
    if !SUPPORTED.iter().any(|c| meets(c, &a.values)) {
        return Err(Error::new(
            ErrorCode::AccessDenied,
            "the essential acr asked for cannot be met: see acr_values_supported",
        ));
    }
    Ok(a.values.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(essential: bool, values: &[&str]) -> AcrAsk {
        AcrAsk { essential, values: values.iter().map(|v| v.to_string()).collect() }
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn the_class_follows_the_methods_used() {
        let none: [&str; 0] = [];
        assert_eq!(of(&none), PASSWORD, "sessions from before amr were password log-ins");
        assert_eq!(of(&["pwd"]), PASSWORD);
        assert_eq!(of(&["pwd", "otp", "mfa"]), MFA);
        assert_eq!(of(&["pwd", "mfa"]), MFA, "a recovery code is a second factor too");
        assert_eq!(of(&["hwk", "user", "mfa"]), PHR, "hardware is unattested: never phrh");
        assert_eq!(of(&["swk", "user", "mfa"]), PHR);
        // A key without user verification is one factor: never phishing-resistant MFA.
        assert_eq!(of(&["hwk", "user"]), PASSWORD);
        assert_eq!(of(&["swk"]), PASSWORD);
        assert_eq!(of(&["fed"]), FEDERATED);
        assert_eq!(of(&["fed", "pwd"]), PASSWORD, "a link confirmed by the password");
        // An upstream's mfa is never taken on (pages::upstream), but were it present with
        // nothing else it would still not be a passkey class.
        assert_eq!(of(&["fed", "mfa"]), MFA);
        for c in SUPPORTED {
            assert!(c.len() < 64 && !c.contains(' '), "{c}: one acr_values token");
        }
    }

    #[test]
    fn stronger_classes_meet_weaker_asks_and_federated_only_itself() {
        assert!(meets(PASSWORD, &[]));
        assert!(meets(PHRH, &s(&[PHR])));
        assert!(meets(PHR, &s(&[PHR])));
        assert!(meets(PHR, &s(&[MFA])));
        assert!(meets(MFA, &s(&[PASSWORD])));
        assert!(!meets(MFA, &s(&[PHR])));
        assert!(!meets(PHR, &s(&[PHRH])));
        assert!(!meets(PASSWORD, &s(&[MFA, PHR])));
        assert!(meets(PASSWORD, &s(&["urn:gold", PASSWORD])));
        assert!(!meets(FEDERATED, &s(&[PASSWORD])));
        assert!(!meets(PHRH, &s(&[FEDERATED])));
        assert!(meets(FEDERATED, &s(&[FEDERATED])));
        assert!(!meets(PHRH, &s(&["urn:gold"])));
        // Case matters (values are compared as strings).
        assert!(!meets(PHR, &s(&["PHR"])));
    }

    #[test]
    fn only_an_essential_class_we_cannot_meet_fails() {
        assert!(check(None, None).unwrap().is_empty());
        // Voluntary requests never fail, whatever they name.
        assert!(check(Some("urn:mace:incommon:iap:silver"), None).unwrap().is_empty());
        assert!(check(Some("phrh"), None).unwrap().is_empty());
        assert!(check(None, Some(&ask(false, &["gold"]))).unwrap().is_empty());
        // Essential without values: any class satisfies it.
        assert!(check(None, Some(&ask(true, &[]))).unwrap().is_empty());
        assert_eq!(check(None, Some(&ask(true, &["gold", PASSWORD]))).unwrap(), s(&["gold", PASSWORD]));
        assert_eq!(check(None, Some(&ask(true, &[PHR]))).unwrap(), s(&[PHR]));
        assert_eq!(check(None, Some(&ask(true, &[PHRH]))).unwrap_err().code, ErrorCode::AccessDenied, "never stated");
        let e = check(None, Some(&ask(true, &["gold"]))).unwrap_err();
        assert_eq!(e.code, ErrorCode::AccessDenied);
        assert!(!e.description.contains('\n'));
        assert_eq!(check(Some(&"a".repeat(MAX_ACR_VALUES + 1)), None).unwrap_err().code, ErrorCode::InvalidRequest);
        assert!(check(Some("a\nb"), None).is_err());
    }
}
