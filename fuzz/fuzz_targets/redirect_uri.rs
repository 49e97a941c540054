//! `oauth::redirect_uri::{validate, matches, select}`. Input: one flag byte (bit 0: the
//! https-only rule of the registration page), then the registered URI, a NUL, the requested
//! URI. Checked against an independent WHATWG URL parser (what a browser does with the
//! redirect):
//! - a URI that validates carries no user information and no fragment once a browser parses it;
//! - a requested URI that matches a valid registered one validates too, and (when it is not
//!   the same string) a browser sends it to the same scheme, host, path and query: only the
//!   loopback port may differ (RFC 8252 §7.3).
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis::rules::redirect_uri::{matches, select, validate};

fn browser_view(uri: &str) -> Option<url::Url> {
    url::Url::parse(uri).ok()
}

fn check_valid(uri: &str) {
    if let Some(u) = browser_view(uri) {
        assert!(
            u.username().is_empty() && u.password().is_none(),
            "{uri:?} validates but a browser sees user information"
        );
        assert!(u.fragment().is_none(), "{uri:?} validates but has a fragment");
        if matches!(u.scheme(), "http" | "https") {
            assert!(u.host().is_some(), "{uri:?} validates without a host");
        }
    }
}

/// With `FUZZ_SKIP_KNOWN=1`, inputs that hit an already reported bug are skipped so a long run
/// can look for others: `matches` takes `http://[::1]X8080/cb` (any character X, e.g. `@`)
/// for a port of a registered `http://[::1]/cb`, because `valid_port` never checks that the
/// port starts with `:` (`http://[::1]@8080/cb` is host 0.0.31.144 to a browser).
fn skip_known() -> bool {
    static SKIP: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SKIP.get_or_init(|| std::env::var_os("FUZZ_SKIP_KNOWN").is_some_and(|v| v == "1"))
}

fn known_bracket_port(uri: &str) -> bool {
    uri.split_once("://")
        .and_then(|(_, rest)| rest.split_once(']'))
        .is_some_and(|(_, after)| !after.is_empty() && !after.starts_with([':', '/', '?']))
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let https_only = flags & 1 != 0;
    let mut parts = rest.splitn(2, |b| *b == 0);
    let Ok(registered) = std::str::from_utf8(parts.next().unwrap_or_default()) else {
        return;
    };
    let Ok(requested) = std::str::from_utf8(parts.next().unwrap_or_default()) else {
        return;
    };

    assert!(matches(registered, registered));
    let reg_ok = validate(registered, https_only).is_ok();
    if reg_ok {
        check_valid(registered);
        if https_only {
            assert!(registered.starts_with("https://"));
        }
    }
    if validate(requested, https_only).is_ok() {
        check_valid(requested);
    }
    if skip_known() && known_bracket_port(requested) {
        return;
    }
    let m = matches(registered, requested);
    let list = vec![registered.to_owned()];
    assert_eq!(select(&list, Some(requested)).is_some(), m);
    assert_eq!(select(&list, None), Some(registered));
    if m && reg_ok {
        assert!(
            validate(requested, https_only).is_ok(),
            "{requested:?} matches valid {registered:?} but does not validate"
        );
        if requested != registered {
            let (Some(r), Some(q)) = (browser_view(registered), browser_view(requested)) else {
                return;
            };
            assert_eq!(r.scheme(), "http", "only loopback http matches inexactly");
            assert_eq!(
                (r.scheme(), r.host_str(), r.path(), r.query()),
                (q.scheme(), q.host_str(), q.path(), q.query()),
                "{requested:?} matched {registered:?} but a browser goes elsewhere"
            );
        }
    }
});
