//! An app's OpenID Connect client metadata (OpenID Connect Dynamic Client Registration 1.0 §2):
//! only what this provider really does is accepted, so a client never believes it gets what it
//! asked for when it does not.

use crate::error::{Error, ErrorCode, Result};
use crate::model::App;

/// The longest `default_max_age`: ten years, in seconds.
pub const MAX_AGE_MAX: u64 = 10 * 365 * 86_400;

fn bad(msg: String) -> Error {
    Error::new(ErrorCode::InvalidClientMetadata, msg)
}

/// `id_token_signed_response_alg`: one of `algs`, the algorithms the tenant's keys sign ID
/// tokens with (`RS256` always; `EdDSA` when an Ed25519 key is configured); `subject_type`:
/// `public`, or `pairwise` where `pairwise` is offered (a `PAIRWISE_SECRET`) and the app's
/// redirect URIs share one host, its sector (`rules::subject`); `default_max_age`: at most
/// [`MAX_AGE_MAX`]. `require_auth_time` is always satisfied (every ID token carries `auth_time`).
pub fn validate(app: &App, algs: &[&str], pairwise: bool) -> Result<()> {
    if let Some(alg) = &app.id_token_signed_response_alg {
        if !algs.contains(&alg.as_str()) {
            return Err(bad(format!(
                "id_token_signed_response_alg must be one of {} (what this server signs ID tokens with), not '{alg}'",
                algs.join(", ")
            )));
        }
    }
    match app.subject_type.as_deref() {
        None | Some("public") => {}
        Some("pairwise") if !pairwise => {
            return Err(bad("subject_type pairwise is not offered here (no PAIRWISE_SECRET)".into()));
        }
        Some("pairwise") if crate::rules::subject::sector(&app.redirect_uris).is_none() => {
            return Err(bad(
                "subject_type pairwise needs redirect_uris on one host (the sector; sector_identifier_uri is not supported)".into(),
            ));
        }
        Some("pairwise") => {}
        Some(t) => return Err(bad(format!("subject_type must be public or pairwise, not '{t}'"))),
    }
    if app.default_max_age.is_some_and(|a| a > MAX_AGE_MAX) {
        return Err(bad(format!("default_max_age is at most {MAX_AGE_MAX} seconds")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_the_provider_does_is_accepted() {
        let mut app = App::new("c".into(), "o", 0);
        assert!(validate(&app, &["RS256"], false).is_ok());
        app.id_token_signed_response_alg = Some("RS256".into());
        app.subject_type = Some("public".into());
        app.default_max_age = Some(3600);
        app.require_auth_time = true;
        assert!(validate(&app, &["RS256"], false).is_ok());
        // Pairwise where offered, with one sector only.
        let mut pw = app.clone();
        pw.subject_type = Some("pairwise".into());
        pw.redirect_uris = vec!["https://a.example/cb".into(), "https://a.example/2".into()];
        assert!(validate(&pw, &["RS256"], true).is_ok());
        assert!(validate(&pw, &["RS256"], false).is_err());
        pw.redirect_uris.push("https://b.example/cb".into());
        assert!(validate(&pw, &["RS256"], true).is_err());
        pw.redirect_uris.clear();
        assert!(validate(&pw, &["RS256"], true).is_err());
        // EdDSA only where the keys can sign it.
        app.id_token_signed_response_alg = Some("EdDSA".into());
        assert!(validate(&app, &["RS256", "EdDSA"], false).is_ok());
        assert!(validate(&app, &["RS256"], false).is_err());
        app.id_token_signed_response_alg = Some("RS256".into());
        for (alg, sub, age) in [("none", "public", 0), ("HS256", "public", 0), ("eddsa", "public", 0), ("RS256", "pairwise", 0), ("RS256", "Public", 0), ("RS256", "public", MAX_AGE_MAX + 1)] {
            let mut a = app.clone();
            a.id_token_signed_response_alg = Some(alg.into());
            a.subject_type = Some(sub.into());
            a.default_max_age = Some(age);
            assert_eq!(validate(&a, &["RS256", "EdDSA"], false).unwrap_err().code, ErrorCode::InvalidClientMetadata, "{alg} {sub} {age}");
        }
    }
}
