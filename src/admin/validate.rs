//! Field rules for app metadata, shared by the admin API and (later) self-service registration.

use crate::oauth::error::{Error, Result};

pub const GRANT_TYPES: [&str; 5] = [
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "password",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
];
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

pub fn email(field: &str, s: &str, required: bool) -> Result<()> {
    if s.is_empty() && !required {
        return Ok(());
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
