//! Whether a grant acting for a person gets a refresh token. Plain OAuth: when the app may use
//! the refresh grant, as always. OpenID Connect (`oidc`: an ID token is issued, so `openid` was
//! granted in the code flow): only with `offline_access` too, as node `oidc-provider` does by
//! default (`issueRefreshToken`: `client.grantTypeAllowed('refresh_token') &&
//! scopes.has('offline_access')`; Core §11).

pub fn issued(app_allows_refresh: bool, oidc: bool, scopes: &[String]) -> bool {
    app_allows_refresh && (!oidc || scopes.iter().any(|g| g == "offline_access"))
}

#[cfg(test)]
mod tests {
    use super::issued;

    #[test]
    fn openid_needs_offline_access_for_a_refresh_token() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(issued(true, false, &v(&["public"])));
        assert!(!issued(false, false, &v(&["public"])));
        assert!(!issued(true, true, &v(&["openid", "profile"])));
        assert!(issued(true, true, &v(&["openid", "offline_access"])));
        assert!(!issued(false, true, &v(&["openid", "offline_access"])));
        // `openid` without an ID token (the password grant of an app holding it): as OAuth.
        assert!(issued(true, false, &v(&["openid"])));
    }
}
