//! Whether a grant acting for a person gets a refresh token. Plain OAuth (no `openid`): when
//! the app may use the refresh grant, as always. OpenID Connect (`openid` granted): only with
//! `offline_access` too, as node `oidc-provider` does by default (`issueRefreshToken`:
//! `client.grantTypeAllowed('refresh_token') && scopes.has('offline_access')`, Core §11).

pub fn issued(app_allows_refresh: bool, scopes: &[String]) -> bool {
    let has = |s: &str| scopes.iter().any(|g| g == s);
    app_allows_refresh && (!has("openid") || has("offline_access"))
}

#[cfg(test)]
mod tests {
    use super::issued;

    #[test]
    fn openid_needs_offline_access_for_a_refresh_token() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(issued(true, &v(&["public"])));
        assert!(!issued(false, &v(&["public"])));
        assert!(!issued(true, &v(&["openid", "profile"])));
        assert!(issued(true, &v(&["openid", "offline_access"])));
        assert!(!issued(false, &v(&["openid", "offline_access"])));
    }
}
