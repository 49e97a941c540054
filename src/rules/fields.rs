//! Field rules for app metadata, shared by the admin API, RFC 7591 registration and the pages.

use crate::error::{Error, Result};

pub const AUTH_METHODS: [&str; 4] = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    "none",
];

fn no_controls(field: &str, s: &str) -> Result<()> {
    if s.chars().any(char::is_control) {
        return Err(Error::invalid_request(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(())
}

pub fn text(field: &str, s: &str, max: usize, required: bool) -> Result<()> {
    if required && s.trim().is_empty() {
        return Err(Error::invalid_request(format!("{field} is required")));
    }
    if s.chars().count() > max {
        return Err(Error::invalid_request(format!(
            "{field} is longer than {max} characters"
        )));
    }
    no_controls(field, s)
}

/// An absolute http(s) URL for display (homepage, image); empty is allowed.
pub fn web_url(field: &str, s: &str) -> Result<()> {
    if s.is_empty() {
        return Ok(());
    }
    let ok = s.len() <= 2000
        && (s.starts_with("https://") || s.starts_with("http://"))
        && s.split_once("://")
            .is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'))
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>');
    if !ok {
        return Err(Error::invalid_request(format!(
            "{field} must be an absolute http(s) URL"
        )));
    }
    Ok(())
}

/// Characters that display as nothing or reorder what is around them: zero-width and format
/// characters, bidi embeddings, overrides and isolates, soft hyphen, BOM. Two names that differ
/// only in these look the same on a page (consent-page spoofing), so names and emails refuse them.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}' | '\u{E0000}'..='\u{E0FFF}')
}

/// A display name (app or person): the text rules plus no invisible or bidi control characters.
pub fn name(field: &str, s: &str, max: usize) -> Result<()> {
    text(field, s, max, true)?;
    if s.chars().any(is_invisible) {
        return Err(Error::invalid_request(format!(
            "{field} must not contain invisible or bidirectional control characters"
        )));
    }
    Ok(())
}

/// One form of an identifier: trimmed, NFKC-normalised (fullwidth and composed/decomposed
/// forms become one), lower-cased. Every lookup and every limit uses this form.
pub fn normalise_identifier(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.trim().nfkc().collect::<String>().to_lowercase()
}

pub fn email(field: &str, s: &str, required: bool) -> Result<()> {
    if s.is_empty() && !required {
        return Ok(());
    }
    if s.chars().any(is_invisible) {
        return Err(Error::invalid_request(format!(
            "{field} must not contain invisible or bidirectional control characters"
        )));
    }
    let ok = s.len() <= 254
        && s.split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'))
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"(),;:\\[]".contains(c));
    if !ok {
        return Err(Error::invalid_request(format!(
            "{field} must be an email address"
        )));
    }
    Ok(())
}

pub fn phone(s: &str) -> Result<()> {
    if s.len() > 32 || !s.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)) {
        return Err(Error::invalid_request(
            "admin_phone must be digits, spaces and + - ( ) .",
        ));
    }
    Ok(())
}

pub fn owner(s: &str) -> Result<()> {
    if s.is_empty()
        || s.len() > 128
        || !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._@:-+".contains(&b))
    {
        return Err(Error::invalid_request(
            "owner must be 1 to 128 characters of letters, digits and . _ @ : - +",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13 item 4: names that would display like another refuse invisible and bidi
    /// control characters; identifiers fold to one form.
    #[test]
    fn names_refuse_invisible_and_bidi_characters() {
        for bad in ["Pay\u{200b}Pal", "\u{202e}lapyap", "Goo\u{2066}gle\u{2069}", "A\u{00ad}pp", "\u{feff}Bank"] {
            assert!(name("name", bad, 100).is_err(), "{bad:?}");
            assert!(email("email", &format!("{bad}@x.example"), true).is_err(), "{bad:?}");
        }
        assert!(name("name", "Café Crème 😀", 100).is_ok());
        assert_eq!(normalise_identifier("  Ｅve@Example.COM "), "eve@example.com");
        // NFD and NFC spellings of one address are one identifier.
        assert_eq!(normalise_identifier("re\u{301}my@x.example"), normalise_identifier("r\u{e9}my@x.example"));
    }
}
