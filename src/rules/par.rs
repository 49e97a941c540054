//! Pushed authorization requests (RFC 9126): what a `request_uri` we issued looks like, how long
//! it lasts, which parameters a pushed request may not carry, and what the browser's later
//! requests may still say beside it.
//!
//! A client POSTs its authorization request to the PAR endpoint (authenticated as it would be at
//! the token endpoint) and gets `urn:ietf:params:oauth:request_uri:<reference>` back, which it
//! sends to the authorization endpoint with its `client_id` and nothing else. The reference is 32
//! random bytes (base64url); only its SHA-256 names the object that keeps the request
//! (`objects::pushed`), so what is stored cannot be turned back into a usable `request_uri`.
//!
//! Lifetimes: the client must send the person to the authorization endpoint within
//! [`EXPIRES_IN`] seconds (the `expires_in` it is told). The first visit binds the request to
//! that interaction for up to [`INTERACTION`] seconds (log-in, second factor, consent take
//! longer than a minute), and the code issued from it (or the person's Deny) uses it up: a
//! `request_uri` yields at most one code (RFC 9126 §4: "one-time use").

/// The URN prefix of the `request_uri` values this server issues (RFC 9126 §2.2).
pub const PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// Seconds a pushed request waits for the browser (RFC 9126 §2.2 `expires_in`; FAPI 2.0 asks
/// for less than 600).
pub const EXPIRES_IN: i64 = 60;

/// Seconds a pushed request lasts once the browser arrived with it: the interaction's time.
pub const INTERACTION: i64 = 600;

/// Parameters a pushed request may not carry: `request_uri` (RFC 9126 §2.1) and the client
/// authentication's own, which are not part of the authorization request.
pub const NOT_CARRIED: [&str; 4] = ["request_uri", "client_secret", "client_assertion", "client_assertion_type"];

/// The reference of a `request_uri` of ours: 43 base64url characters after [`PREFIX`]; anything
/// else (another server's URN, a URL, a forged value) is `None` and never reaches storage.
pub fn reference(request_uri: &str) -> Option<&str> {
    let r = request_uri.strip_prefix(PREFIX)?;
    (r.len() == 43 && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')).then_some(r)
}

/// Whether a stored request is still usable at `now`: before its deadline.
pub fn alive(expires_at: i64, now: i64) -> bool {
    now < expires_at
}

/// The `prompt` of a pushed request as the browser's later requests may narrow it: the consent
/// pages' "Continue" drops `select_account` (the person chose), and nothing else can change.
/// `outer` is the `prompt` beside the `request_uri`; what is not exactly the pushed prompt
/// without `select_account` is ignored (the pushed request alone counts).
pub fn prompt(pushed: Option<&str>, outer: Option<&str>) -> Option<String> {
    let pushed_words: Vec<&str> = pushed.unwrap_or("").split(' ').filter(|w| !w.is_empty()).collect();
    let narrowed: Vec<&str> = pushed_words.iter().copied().filter(|w| *w != "select_account").collect();
    let outer_words: Vec<&str> = outer.unwrap_or("").split(' ').filter(|w| !w.is_empty()).collect();
    let words = if outer.is_some() && pushed_words.contains(&"select_account") && outer_words == narrowed {
        narrowed
    } else {
        pushed_words
    };
    (!words.is_empty()).then(|| words.join(" "))
}

/// Whether the deployment or the app asks for every authorization request to be pushed
/// (RFC 9126 §5 `require_pushed_authorization_requests`).
pub fn required(deployment: bool, app: bool) -> bool {
    deployment || app
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_own_references_are_read() {
        let good = format!("{PREFIX}{}", "a".repeat(43));
        assert_eq!(reference(&good), Some("a".repeat(43).as_str()));
        assert_eq!(reference(&format!("{PREFIX}{}", "a".repeat(42))), None);
        assert_eq!(reference(&format!("{PREFIX}{}", "a".repeat(44))), None);
        assert_eq!(reference(&format!("{PREFIX}{}=", "a".repeat(42))), None);
        assert_eq!(reference(&format!("{PREFIX}{}é", "a".repeat(41))), None);
        assert_eq!(reference("https://client.example/request.jwt"), None);
        assert_eq!(reference("urn:ietf:params:oauth:request_uri:"), None);
        assert_eq!(reference(&format!("URN:IETF:PARAMS:OAUTH:REQUEST_URI:{}", "a".repeat(43))), None);
        assert_eq!(reference(""), None);
    }

    #[test]
    fn a_request_lasts_strictly_until_its_deadline() {
        assert!(alive(100, 99));
        assert!(!alive(100, 100));
        assert!(!alive(100, i64::MAX));
    }

    #[test]
    fn the_browser_can_only_drop_select_account() {
        // No prompt outside: the pushed one.
        assert_eq!(prompt(Some("select_account consent"), None).as_deref(), Some("select_account consent"));
        // "Continue" after choosing the account: select_account dropped, the rest kept.
        assert_eq!(prompt(Some("select_account consent"), Some("consent")).as_deref(), Some("consent"));
        assert_eq!(prompt(Some("select_account"), Some("")), None);
        // Anything else outside is ignored: no prompt can be added, widened or dropped.
        assert_eq!(prompt(Some("consent"), Some("none")).as_deref(), Some("consent"));
        assert_eq!(prompt(Some("login"), Some("")).as_deref(), Some("login"));
        assert_eq!(prompt(None, Some("login")), None);
        assert_eq!(prompt(Some("select_account login"), Some("none")).as_deref(), Some("select_account login"));
        assert_eq!(prompt(Some("select_account login"), Some("select_account")).as_deref(), Some("select_account login"));
    }

    #[test]
    fn pushing_is_required_by_either_side() {
        assert!(!required(false, false));
        assert!(required(true, false));
        assert!(required(false, true));
    }
}
