//! What a tenant's brand may be: the name every page shows, a colour for its buttons and links,
//! and a logo. An operator's brand is checked with these when it is set, and the pages check it
//! again when they render (anything that fails is left out, never shown as it is).

use super::fields;
use crate::error::{Error, Result};

pub const NAME_MAX: usize = 100;
pub const LOGO_URL_MAX: usize = 2000;

/// 1 to 100 characters, not blank, no control, invisible or bidirectional control characters
/// (the display-name rule of [`fields::name`]: a brand is a name people trust on a log-in page).
pub fn name(s: &str) -> Result<()> {
    fields::name("brand.name", s, NAME_MAX)
}

/// `#rgb` or `#rrggbb` (hex digits, either case) and nothing else: it goes into a stylesheet.
pub fn color(s: &str) -> Result<()> {
    match rgb(s) {
        Some(_) => Ok(()),
        None => Err(Error::invalid_request(
            "brand.color must be a hex colour, #rgb or #rrggbb",
        )),
    }
}

/// The red, green and blue of a colour [`color`] accepts; `None` for anything else.
pub fn rgb(s: &str) -> Option<[u8; 3]> {
    let hex = s.strip_prefix('#')?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let digit = |i: usize| hex.get(i..=i).and_then(|d| u8::from_str_radix(d, 16).ok());
    let pair = |i: usize| hex.get(i..i + 2).and_then(|d| u8::from_str_radix(d, 16).ok());
    match hex.len() {
        3 => Some([digit(0)? * 17, digit(1)? * 17, digit(2)? * 17]),
        6 => Some([pair(0)?, pair(2)?, pair(4)?]),
        _ => None,
    }
}

/// An absolute URL written `https://host…` (lower-case scheme) of at most 2000 characters,
/// that the `url` crate parses, with a host and no user name or password, written as it is meant (no spaces, quotes, angle brackets or control characters,
/// which a URL parser would silently drop or encode).
pub fn logo_url(s: &str) -> Result<()> {
    link_url("brand.logo_url", s)
}

/// A support address: an email [`fields::email`] accepts.
pub fn support_email(s: &str) -> Result<()> {
    fields::email("brand.support_email", s, true)
}

/// A link of the brand (`field`: its name in errors): the rule of [`logo_url`].
pub fn link_url(field: &str, s: &str) -> Result<()> {
    let refuse = |why: &str| Err(Error::invalid_request(format!("{field} {why}")));
    if s.len() > LOGO_URL_MAX {
        return refuse("is longer than 2000 characters");
    }
    if s.chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | '\\'))
    {
        return refuse("must not contain spaces, quotes, angle brackets, backslashes or control characters");
    }
    // Written out in full: the parser also takes `https:x` and `https:///x` as `https://x/`.
    let written_in_full = s
        .strip_prefix("https://")
        .is_some_and(|rest| !rest.starts_with('/'));
    let Some(u) = written_in_full.then(|| url::Url::parse(s).ok()).flatten() else {
        return refuse("must be an absolute https: URL");
    };
    if u.scheme() != "https" || u.host_str().is_none_or(str::is_empty) {
        return refuse("must be an absolute https: URL");
    }
    if !u.username().is_empty() || u.password().is_some() {
        return refuse("must not hold a user name or password");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_three_or_six_hex_digits() {
        assert_eq!(rgb("#0a0"), Some([0, 0xaa, 0]));
        assert_eq!(rgb("#FFF"), Some([255, 255, 255]));
        assert_eq!(rgb("#1A2b3C"), Some([0x1a, 0x2b, 0x3c]));
        for good in ["#000", "#abc", "#ABCDEF", "#123456"] {
            assert!(color(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "#",
            "abc",
            "#ab",
            "#abcd",
            "#abcde",
            "#abcdefa",
            "#abcdef00",
            "#ggg",
            "#12345g",
            "red",
            "#abc;",
            "#abc}body{",
            "#abc ",
            " #abc",
            "##abc",
            "#+1a",
            "#１２３",
            "#ééé",
            "rgb(1,2,3)",
            "#abc\n",
        ] {
            assert!(color(bad).is_err(), "{bad:?}");
            assert_eq!(rgb(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn logo_urls_are_https_without_credentials() {
        for good in [
            "https://cdn.example/logo.png",
            "https://cdn.example:8443/a/b.svg?v=2#x",
            "https://xn--bcher-kva.example/l.png",
        ] {
            assert!(logo_url(good).is_ok(), "{good}");
        }
        let long = format!("https://cdn.example/{}", "a".repeat(LOGO_URL_MAX));
        for bad in [
            "",
            "http://cdn.example/logo.png",
            "data:image/png;base64,AAAA",
            "javascript:alert(1)",
            "//cdn.example/logo.png",
            "/logo.png",
            "https:logo.png",
            "https:///cdn.example/logo.png",
            "HTTPS://cdn.example/logo.png",
            "https://",
            "https://user@cdn.example/logo.png",
            "https://user:pw@cdn.example/logo.png",
            "https://:pw@cdn.example/logo.png",
            "https://cdn.example/a b.png",
            "https://cdn.example/\"onerror=\"x",
            "https://cdn.example/<x>",
            "https://cdn.example/\tx",
            "https://cdn.example\\x",
            long.as_str(),
        ] {
            assert!(logo_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_are_one_to_a_hundred_visible_characters() {
        assert!(name("Acme").is_ok());
        assert!(
            name("<script>alert(1)</script>").is_ok(),
            "escaped when shown, not refused"
        );
        assert!(name(&"é".repeat(NAME_MAX)).is_ok());
        for bad in ["", "   ", "A\u{0}B", "Acme\n", "Ac\u{202e}me", "Ac\u{200b}me"] {
            assert!(name(bad).is_err(), "{bad:?}");
        }
        assert!(name(&"x".repeat(NAME_MAX + 1)).is_err());
    }
}
