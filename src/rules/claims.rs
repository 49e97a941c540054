//! Which claims about a person each granted scope releases (OpenID Connect Core 1.0 §5.4), at
//! the userinfo endpoint; nothing beyond them. `sub` always. The OIDC scopes: `profile` → `name`
//! (the only profile data an account has), `email` → `email` and `email_verified`. The scopes
//! Portcullis had before OIDC keep what they released: `public` → `name` and `created_at`,
//! `users:read_by_email` → `email`.

/// The claim names released by `granted`, each once, `sub` first.
pub fn released(granted: &[&str]) -> Vec<&'static str> {
    let mut out = vec!["sub"];
    for scope in granted {
        let claims: &[&'static str] = match *scope {
            "profile" => &["name"],
            "email" => &["email", "email_verified"],
            "public" => &["name", "created_at"],
            "users:read_by_email" => &["email"],
            _ => &[],
        };
        for c in claims {
            if !out.contains(c) {
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::released;

    #[test]
    fn claims_follow_the_scopes_strictly() {
        assert_eq!(released(&["openid"]), ["sub"]);
        assert_eq!(released(&[]), ["sub"]);
        assert_eq!(released(&["openid", "profile"]), ["sub", "name"]);
        assert_eq!(released(&["openid", "email"]), ["sub", "email", "email_verified"]);
        assert_eq!(released(&["public", "profile"]), ["sub", "name", "created_at"]);
        assert_eq!(released(&["users:read_by_email", "email"]), ["sub", "email", "email_verified"]);
        assert_eq!(released(&["offline_access", "users:read"]), ["sub"]);
    }
}
