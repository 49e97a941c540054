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
/// `public` (no pairwise subjects); `default_max_age`: at most [`MAX_AGE_MAX`].
/// `require_auth_time` is always satisfied (every ID token carries `auth_time`).
pub fn validate(app: &App, algs: &[&str]) -> Result<()> {
    if let Some(alg) = &app.id_token_signed_response_alg {
        if !algs.contains(&alg.as_str()) {
            return Err(bad(format!(
                "id_token_signed_response_alg must be one of {} (what this server signs ID tokens with), not '{alg}'",
                algs.join(", ")
            )));
        }
    }
    if let Some(t) = &app.subject_type {
        if t != "public" {
            return Err(bad(format!("subject_type must be public (no pairwise subjects here), not '{t}'")));
        }
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
        assert!(validate(&app, &["RS256"]).is_ok());
        app.id_token_signed_response_alg = Some("RS256".into());
        app.subject_type = Some("public".into());
        app.default_max_age = Some(3600);
        app.require_auth_time = true;
        assert!(validate(&app, &["RS256"]).is_ok());
        // EdDSA only where the keys can sign it.
        app.id_token_signed_response_alg = Some("EdDSA".into());
        assert!(validate(&app, &["RS256", "EdDSA"]).is_ok());
        assert!(validate(&app, &["RS256"]).is_err());
        app.id_token_signed_response_alg = Some("RS256".into());
        for (alg, sub, age) in [("none", "public", 0), ("HS256", "public", 0), ("eddsa", "public", 0), ("RS256", "pairwise", 0), ("RS256", "public", MAX_AGE_MAX + 1)] {
            let mut a = app.clone();
            a.id_token_signed_response_alg = Some(alg.into());
            a.subject_type = Some(sub.into());
            a.default_max_age = Some(age);
            assert_eq!(validate(&a, &["RS256", "EdDSA"]).unwrap_err().code, ErrorCode::InvalidClientMetadata, "{alg} {sub} {age}");
        }
    }
}
