//! Redirect URIs: what may be registered, and whether a requested URI matches a registered one.
//!
//! Registered URIs are absolute, fragment-free and either `https` with a host, `http` on a
//! loopback host (RFC 8252 §7.3), or a private-use scheme with a dot in it (RFC 8252 §7.1,
//! `com.example.app:/cb`). Userinfo (`https://good@evil`) is refused outright. Matching is exact
//! string comparison, except that loopback URIs match on any port.
//!
//! Two layers check a URI for registration: the raw-string rules below, then the WHATWG URL
//! parser (`url`, what browsers follow a redirect with), which must read the same scheme, host
//! and port as written, no userinfo, no fragment and (for https) no segment removed as a dot
//! segment. WHATWG normalises what the raw rules refuse (`https:///cb` has host `cb`,
//! `https://@host` empty userinfo, `\` is `/`, hosts are case-folded, `..` and `%2e%2e`
//! resolved, an empty port dropped), so a URI it would read differently is refused. Matching
//! stays on the registered string.

use crate::error::{Error, ErrorCode, Result};

const MAX_LEN: usize = 2000;
const LOOPBACK_HOSTS: [&str; 3] = ["127.0.0.1", "[::1]", "localhost"];

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidRedirectUri, msg)
}

struct Parts<'a> {
    scheme: &'a str,
    /// `host[:port]` for hierarchical URIs, empty otherwise.
    authority: &'a str,
    rest: &'a str,
}

fn split(uri: &str) -> Option<Parts<'_>> {
    let (scheme, after) = uri.split_once(':')?;
    let first = scheme.chars().next()?;
    if !first.is_ascii_alphabetic()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return None;
    }
    if let Some(h) = after.strip_prefix("//") {
        let end = h.find(['/', '?']).unwrap_or(h.len());
        let (authority, rest) = h.split_at_checked(end)?;
        Some(Parts {
            scheme,
            authority,
            rest,
        })
    } else {
        Some(Parts {
            scheme,
            authority: "",
            rest: after,
        })
    }
}

fn host_of(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority
            .split_once(']')
            .and_then(|(h, _)| authority.get(..h.len() + 1))
            .unwrap_or(authority);
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

fn is_loopback_http(p: &Parts<'_>) -> bool {
    p.scheme == "http" && LOOPBACK_HOSTS.contains(&host_of(p.authority))
}

/// Validates a URI for registration. `https_only` is the rule of the interactive registration page.
pub fn validate(uri: &str, https_only: bool) -> Result<()> {
    validate_raw(uri, https_only)?;
    check_structure(uri)
}

/// The WHATWG reading of `uri` (already valid by the raw rules) must agree with the raw one.
fn check_structure(uri: &str) -> Result<()> {
    let p = split(uri).ok_or_else(|| invalid("redirect URI must be absolute"))?;
    let url = url::Url::parse(uri).map_err(|e| invalid(format!("redirect URI is not a valid URL ({e})")))?;
    let host = host_of(p.authority);
    let port = p.authority.get(host.len()..).and_then(|rest| rest.strip_prefix(':'));
    let port_agrees = match port {
        None => url.port().is_none(),
        Some(digits) => digits.parse::<u16>().ok().is_some_and(|n| url.port_or_known_default() == Some(n)),
    };
    if url.scheme() != p.scheme
        || !url.username().is_empty()
        || url.password().is_some()
        || url.fragment().is_some()
        || url.host_str().unwrap_or("") != host
        || !port_agrees
    {
        return Err(invalid(
            "redirect URI must read the same as a URL (WHATWG): scheme, host and port as written, no user information or fragment",
        ));
    }
    if p.scheme == "https" {
        // WHATWG drops `.` and `..` segments, percent-encoded (`%2e`) ones too: a segment fewer
        // than written means the browser would go elsewhere.
        let path = p.rest.split('?').next().unwrap_or("");
        let written = path.strip_prefix('/').unwrap_or(path).split('/').count();
        let dot = |seg: &str| {
            let seg = seg.to_ascii_lowercase().replace("%2e", ".");
            seg == "." || seg == ".."
        };
        if url.path_segments().map_or(0, Iterator::count) != written || path.split('/').any(dot) {
            return Err(invalid("redirect URI path must not contain dot segments"));
        }
    }
    Ok(())
}

fn validate_raw(uri: &str, https_only: bool) -> Result<()> {
    if uri.is_empty() || uri.len() > MAX_LEN {
        return Err(invalid("redirect URI must be 1 to 2000 characters"));
    }
    if uri
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
    {
        return Err(invalid(
            "redirect URI must be ASCII without spaces (percent-encode anything else)",
        ));
    }
    if uri.contains('#') {
        return Err(invalid("redirect URI must not contain a fragment"));
    }
    if uri.contains('\\') {
        return Err(invalid("redirect URI must not contain backslashes"));
    }
    let p = split(uri).ok_or_else(|| invalid("redirect URI must be absolute"))?;
    if p.scheme.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(invalid("redirect URI scheme must be lower case"));
    }
    if p.authority.contains('@') {
        return Err(invalid("redirect URI must not contain user information"));
    }
    if !p.authority.is_empty() && !valid_port(p.authority) {
        return Err(invalid("redirect URI port must be 1 to 5 digits after ':'"));
    }
    // Hosts are never percent-encoded; `%40` would be userinfo in disguise.
    if p.authority.contains('%') {
        return Err(invalid("redirect URI host must not be percent-encoded"));
    }
    match p.scheme {
        "https" => {
            let host = host_of(p.authority);
            if host.is_empty() || host.ends_with('.') || host.bytes().any(|b| b.is_ascii_uppercase()) {
                return Err(invalid(
                    "https redirect URI needs a lower-case host without a trailing dot",
                ));
            }
            if p.rest
                .split(['?'])
                .next()
                .unwrap_or("")
                .split('/')
                .any(|seg| seg == ".." || seg == ".")
            {
                return Err(invalid("redirect URI path must not contain dot segments"));
            }
            Ok(())
        }
        "http" if !https_only && is_loopback_http(&p) => Ok(()),
        "http" => Err(invalid(
            "redirect URI must use https (http only on loopback: 127.0.0.1, [::1], localhost)",
        )),
        _ if https_only => Err(invalid("redirect URI must use https")),
        "javascript" | "data" | "file" | "vbscript" | "blob" | "about" | "ftp" | "ws" | "wss" => {
            Err(invalid(format!("the '{}' scheme is not allowed", p.scheme)))
        }
        s if s.contains('.') && !p.rest.is_empty() => Ok(()),
        _ => Err(invalid(
            "custom schemes must be reverse-domain names such as com.example.app:/callback",
        )),
    }
}

/// Does a requested redirect URI match a registered one?
pub fn matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    // RFC 8252 §7.3: native apps bind an ephemeral port, so loopback matches on any port.
    match (split(registered), split(requested)) {
        (Some(r), Some(q)) if is_loopback_http(&r) && is_loopback_http(&q) => {
            host_of(r.authority) == host_of(q.authority) && r.rest == q.rest && valid_port(q.authority) && port_fits(q.authority)
        }
        _ => false,
    }
}

fn valid_port(authority: &str) -> bool {
    let host = host_of(authority);
    let Some(port) = authority.get(host.len()..) else {
        return false;
    };
    match port.strip_prefix(':') {
        None => port.is_empty(),
        Some(digits) => (1..=5).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// Whether the authority's port (if any) is a port at all, at most 65535: the one thing about a
/// requested loopback URI that `valid_port`'s raw shape leaves to the URL layer, which a request
/// never reaches (found by the redirect_uri fuzz target: `http://127.0.0.1:98546/cb` matched).
fn port_fits(authority: &str) -> bool {
    let host = host_of(authority);
    match authority.get(host.len()..).and_then(|p| p.strip_prefix(':')) {
        Some(digits) => digits.parse::<u16>().is_ok(),
        None => true,
    }
}

/// The registered URI a request means: its `redirect_uri` if it matches one, or the only one.
pub fn select<'a>(registered: &'a [String], requested: Option<&'a str>) -> Option<&'a str> {
    match requested {
        Some(q) => registered.iter().any(|r| matches(r, q)).then_some(q),
        None => match registered {
            [only] => Some(only.as_str()),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loopback_port_beyond_65535_matches_nothing() {
        assert!(matches("http://127.0.0.1/cb", "http://127.0.0.1:65535/cb"));
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1:65536/cb"));
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1:98546/cb"));
        assert!(!matches("http://[::1]/cb", "http://[::1]:99999/cb"));
    }

    #[test]
    fn registration_rules() {
        for ok in [
            "https://app.example/cb",
            "https://app.example:8443/cb?x=1",
            "http://127.0.0.1/cb",
            "http://127.0.0.1:5000/cb",
            "http://[::1]:80/cb",
            "http://localhost:3000/callback",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(validate(ok, false).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/relative",
            "https://app.example/cb#frag",
            "http://app.example/cb",
            "https://good.example@evil.example/cb",
            "https://good.example%40evil.example/cb",
            "http://127.0.0.1:abc/cb",
            "https://a.example:443.evil.example/cb",
            "javascript:alert(1)",
            "data:text/html,hi",
            "https://app.example/../cb",
            "https://APP.example/cb",
            "HTTPS://app.example/cb",
            "https://app.example./cb",
            "https://аpp.example/cb",
            "https://app.example/c b",
            "https:///cb",
            "myapp:/cb",
            "https://app.example\\@evil/",
        ] {
            assert!(validate(bad, false).is_err(), "{bad}");
        }
        assert!(validate("http://127.0.0.1/cb", true).is_err());
        assert!(validate("com.example.app:/cb", true).is_err());
    }

    #[test]
    fn matching_is_exact_except_loopback_port() {
        assert!(matches("https://a.example/cb", "https://a.example/cb"));
        assert!(!matches("https://a.example/cb", "https://a.example/cb/"));
        assert!(!matches("https://a.example/cb", "https://a.example/CB"));
        assert!(matches("http://127.0.0.1/cb", "http://127.0.0.1:53121/cb"));
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1:53121/other"));
        assert!(!matches("http://127.0.0.1/cb", "http://localhost:53121/cb"));
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1:x/cb"));
        assert!(!matches("http://[::1]/cb", "http://[::1]@8080/cb"));
        assert!(!matches("http://[::1]/cb", "http://[::1]x8080/cb"));
        assert!(matches("http://[::1]/cb", "http://[::1]:8080/cb"));
        let one = vec!["https://a.example/cb".to_string()];
        assert_eq!(select(&one, None), Some("https://a.example/cb"));
        assert_eq!(select(&one, Some("https://evil.example/cb")), None);
    }

    #[test]
    fn whatwg_normalisations_are_refused_by_both_layers() {
        // What the raw rules already refuse, and the URL layer would too on its own.
        for bad in [
            "https:///cb",                 // WHATWG: host `cb`
            "https://@app.example/cb",     // empty userinfo
            "https://user:pw@app.example/cb",
            "https://app.example\\cb",     // `\` read as `/`
            "https://app.example\\@evil.example/",
            "https://APP.example/cb",      // case folded
            "HTTPS://app.example/cb",
            "https://app.example/a/../cb", // dot segments resolved
            "https://app.example/./cb",
            "https://app.example:/cb",     // empty port dropped
            "https://app.example/cb#x",
        ] {
            assert!(validate(bad, false).is_err(), "{bad}");
            assert!(check_structure(bad).is_err(), "structure alone: {bad}");
        }
    }

    #[test]
    fn what_only_the_url_layer_refuses() {
        for bad in [
            "https://app.example/a/%2e%2e/cb", // encoded dot segments: WHATWG resolves them too
            "https://app.example/a/%2E/cb",
            "https://app.example/a/.%2e/cb",
            "https://app.example/a/%2e",      // a trailing one: WHATWG reads /a/, same count
            "https://app.example/a/%2E%2e",
            "https://app.example:65536/cb",    // port out of range
            "https://app.example:99999/cb",
            "https://127.1/cb",                // IPv4 shorthand: WHATWG host 127.0.0.1
            "https://0x7f.0.0.1/cb",
            "https://2130706433/cb",
            "https://[0:0::1]/cb",             // IPv6 not in normal form ([::1])
            "https://a<b.example/cb",          // forbidden host code point
            "https://xn--a.example/cb",        // invalid punycode
            "http://127.0.0.1:70000/cb",
        ] {
            assert!(validate_raw(bad, false).is_ok(), "raw rules accept {bad}");
            assert!(validate(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_url_layer_accepts_what_it_reads_the_same() {
        for ok in [
            "https://app.example",
            "https://app.example?x=1",
            "https://app.example/",
            "https://app.example/a/b/",
            "https://app.example:443/cb",
            "https://app.example:8443/cb?x=1&y=%20",
            "https://1.2.3.4/cb",
            "https://[::1]/cb",
            "https://xn--80ak6aa92e.example/cb",
            "https://app.example/a..b/.c/%2ex",
            "http://localhost/cb",
            "http://[::1]/cb",
            "http://127.0.0.1:65535/cb",
            "com.example.app:/oauth2redirect",
            "com.example.app://callback/x",
            "com.example.app:cb",
        ] {
            assert!(validate(ok, false).is_ok(), "{ok}: {:?}", validate(ok, false).err());
        }
        // Matching is still on the registered string, not on its WHATWG form.
        assert!(!matches("https://app.example:443/cb", "https://app.example/cb"));
        assert!(!matches("https://app.example/cb", "https://app.example:443/cb"));
        assert!(!matches("https://app.example", "https://app.example/"));
    }
}
