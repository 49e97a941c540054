//! Scopes (RFC 6749 §3.3): parsing a requested scope string and deciding what is granted.

use crate::error::{Error, Result};

/// Splits a scope string on spaces. Tokens are `%x21 / %x23-5B / %x5D-7E` (no quotes or
/// backslashes); runs of spaces are tolerated, any other whitespace is not. Duplicates collapse.
pub fn parse(s: &str) -> Result<Vec<String>> {
    if s.len() > 2048 {
        return Err(Error::invalid_scope("scope is too long"));
    }
    let mut out: Vec<String> = Vec::new();
    for tok in s.split(' ').filter(|t| !t.is_empty()) {
        if !tok
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
        {
            return Err(Error::invalid_scope(
                "scope contains characters outside RFC 6749 §3.3 scope tokens",
            ));
        }
        if !out.iter().any(|o| o == tok) {
            out.push(tok.to_owned());
        }
    }
    Ok(out)
}

/// The scopes to grant: the requested ones if all are allowed, else `invalid_scope`;
/// nothing requested → the defaults.
pub fn resolve(requested: Option<&str>, allowed: &[String], default: &[String]) -> Result<Vec<String>> {
    let Some(req) = requested else {
        return Ok(default.to_vec());
    };
    let wanted = parse(req)?;
    if wanted.is_empty() {
        return Ok(default.to_vec());
    }
    if let Some(bad) = wanted.iter().find(|w| !allowed.contains(w)) {
        return Err(Error::invalid_scope(format!(
            "scope '{bad}' is not allowed for this client"
        )));
    }
    Ok(wanted)
}

/// The OpenID Connect scopes every app doing the code flow may be granted without holding them
/// (when the catalogue has them): they release only who the person is (`sub`) and their name,
/// which the person consents to, and `offline_access` a refresh token. `email` is not among
/// them: it was a scope before OIDC and an app must hold it (an operator's grant), as before.
pub const OIDC_IMPLIED: [&str; 3] = ["openid", "profile", "offline_access"];

/// Every scope `app` may be granted for a person: its own, plus [`OIDC_IMPLIED`] when it does
/// the code flow and the catalogue has them. What the app holds by default is unchanged.
pub fn allowed_for(app: &crate::model::App, catalogue: &[String]) -> Vec<String> {
    let mut all = live(&app.scopes, catalogue);
    if app.allows_grant("authorization_code") {
        for s in OIDC_IMPLIED {
            if catalogue.iter().any(|c| c == s) && !all.iter().any(|a| a == s) {
                all.push(s.to_owned());
            }
        }
    }
    all
}

/// Checks that every scope of an app exists in the server's catalogue.
pub fn check_catalogue(scopes: &[String], catalogue: &[String]) -> Result<()> {
    check_catalogue_keeping(scopes, catalogue, &[])
}

/// As [`check_catalogue`], but the scopes the app already `held` may stay after the catalogue
/// dropped them (retired: reported, never granted, see [`live`]); only a scope being added must
/// be in the catalogue. So a catalogue change never makes an app uneditable.
pub fn check_catalogue_keeping(scopes: &[String], catalogue: &[String], held: &[String]) -> Result<()> {
    match scopes.iter().find(|s| !catalogue.contains(s) && !held.contains(s)) {
        Some(bad) => Err(Error::invalid_request(format!("unknown scope '{bad}'"))),
        None => Ok(()),
    }
}

/// The app's scopes the catalogue no longer has (retired): kept on the app until an operator
/// drops them, shown in its admin view, never granted.
pub fn retired(scopes: &[String], catalogue: &[String]) -> Vec<String> {
    scopes.iter().filter(|s| !catalogue.contains(s)).cloned().collect()
}

/// The app's scopes that may be granted today: those still in the catalogue.
pub fn live(scopes: &[String], catalogue: &[String]) -> Vec<String> {
    within(scopes, catalogue)
}

/// The scopes of `granted` the app still has (`allowed`), in granted order.
pub fn within(granted: &[String], allowed: &[String]) -> Vec<String> {
    granted.iter().filter(|s| allowed.contains(s)).cloned().collect()
}

/// The scopes granted when a person-acting request names none: the app's explicit defaults,
/// else `public` if the app has it. Always within the app's scopes; nothing → `invalid_scope`.
pub fn person_default(app: &crate::model::App) -> Result<Vec<String>> {
    let d: Vec<String> = match &app.default_scopes {
        Some(d) => within(d, &app.scopes),
        None => within(&["public".to_owned()], &app.scopes),
    };
    if d.is_empty() {
        return Err(Error::invalid_scope(
            "name the scopes you need: this app has no default scope",
        ));
    }
    Ok(d)
}

pub fn join(scopes: &[String]) -> String {
    scopes.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    /// Issue 13 items 8 and 14: what is minted stays within the app's current scopes, and a
    /// request without `scope` never gets a default outside them.
    #[test]
    fn mints_and_defaults_stay_within_the_app() {
        assert_eq!(within(&v(&["public", "users:read"]), &v(&["public"])), v(&["public"]));
        assert!(within(&v(&["users:read"]), &v(&["public"])).is_empty());
        let mut app = crate::model::App::example();
        app.scopes = v(&["users:read"]);
        app.default_scopes = None;
        assert!(person_default(&app).is_err(), "public is not the app's");
        app.scopes = v(&["users:read", "public"]);
        assert_eq!(person_default(&app).unwrap(), v(&["public"]));
        app.default_scopes = Some(v(&["users:read"]));
        assert_eq!(person_default(&app).unwrap(), v(&["users:read"]));
    }

    #[test]
    fn oidc_scopes_are_implied_for_code_flow_apps_only() {
        let catalogue = v(&["public", "email", "openid", "profile", "offline_access"]);
        let mut app = crate::model::App::example();
        app.scopes = v(&["public"]);
        assert_eq!(
            allowed_for(&app, &catalogue),
            v(&["public", "openid", "profile", "offline_access"])
        );
        // Not `email`; not for an app without the code flow; not outside the catalogue.
        app.grant_types = v(&["client_credentials"]);
        assert_eq!(allowed_for(&app, &catalogue), v(&["public"]));
        app.grant_types = v(&["authorization_code"]);
        assert_eq!(allowed_for(&app, &v(&["public", "openid"])), v(&["public", "openid"]));
        // The defaults stay the app's own.
        assert_eq!(app.default_scopes(), v(&["public"]).as_slice());
    }

    #[test]
    fn resolve_subset_default_and_unknown() {
        let allowed = v(&["users:read", "users:write", "public"]);
        let default = v(&["public"]);
        assert_eq!(
            resolve(Some("users:read  users:write "), &allowed, &default).unwrap(),
            v(&["users:read", "users:write"])
        );
        assert_eq!(resolve(None, &allowed, &default).unwrap(), default);
        assert_eq!(resolve(Some("   "), &allowed, &default).unwrap(), default);
        assert!(resolve(Some("admin"), &allowed, &default).is_err());
        assert!(resolve(Some("users:read\tusers:write"), &allowed, &default).is_err());
        assert!(resolve(Some("\"x\""), &allowed, &default).is_err());
    }
}
