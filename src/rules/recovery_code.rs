//! Recovery codes: the one-time codes a person with a second factor keeps (printed, in a
//! password manager) for when their authenticator is gone. Ten are made at enrolment and shown
//! once; each is usable once, instead of a TOTP code. A code is 10 characters of the base32
//! alphabet in lower case (50 random bits), shown as two groups of five, `abcde-fghij`. Typed
//! back, case, spaces and hyphens do not matter; only the SHA-256 of the canonical form is kept.

use crate::rules::totp::base32_encode;
use crate::util::sha256_hex;

/// Codes made at once.
pub const COUNT: usize = 10;
/// Characters of a code (without its hyphen).
pub const LEN: usize = 10;
/// Random bytes a code is made from (56 bits; the first 50 are used).
pub const RANDOM_BYTES: usize = 7;

/// The code made from 7 random bytes, as shown: `abcde-fghij`.
pub fn from_random(bytes: &[u8; RANDOM_BYTES]) -> String {
    let s: String = base32_encode(bytes).to_ascii_lowercase().chars().take(LEN).collect();
    let (a, b) = s.split_at(s.len().min(LEN / 2));
    format!("{a}-{b}")
}

/// A typed code in canonical form (10 lower-case base32 characters), or `None` when it cannot
/// be one. Bounded before anything is copied.
pub fn normalise(input: &str) -> Option<String> {
    if input.len() > 40 {
        return None;
    }
    let s: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (s.len() == LEN && s.bytes().all(|b| matches!(b, b'a'..=b'z' | b'2'..=b'7'))).then_some(s)
}

/// What is stored of a code: the SHA-256 (hex) of its canonical form. `None` if `input` is
/// not a code.
pub fn hash(input: &str) -> Option<String> {
    normalise(input).map(|c| sha256_hex(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_codes_hash_alike_however_typed() {
        let code = from_random(&[0xff, 0, 0x55, 0xaa, 1, 2, 3]);
        assert_eq!(code.len(), LEN + 1);
        assert_eq!(code.as_bytes().get(5), Some(&b'-'));
        let h = hash(&code).unwrap();
        assert_eq!(hash(&code.to_uppercase()), Some(h.clone()));
        assert_eq!(hash(&code.replace('-', "")), Some(h.clone()));
        assert_eq!(hash(&format!(" {} ", code.replace('-', " - "))), Some(h.clone()));
        assert_eq!(h.len(), 64);
        assert_ne!(hash("aaaaa-aaaab"), hash("aaaaa-aaaaa"));
    }

    #[test]
    fn what_is_not_a_code() {
        for bad in [
            "",
            "abcde-fghi",
            "abcde-fghijk",
            "abcde-fgh1j", // 1 is not base32
            "abcde-fgh0j",
            "abcde_fghij",
            "abcdé-fghij",
            "ａｂｃｄｅ-ｆｇｈｉｊ",
            "123456",
            &"a".repeat(41),
            &format!("{}abcdefghij", "-".repeat(35)),
        ] {
            assert_eq!(normalise(bad), None, "{bad:?}");
            assert_eq!(hash(bad), None, "{bad:?}");
        }
        // A TOTP code is never a recovery code (digits 0, 1, 8, 9 and the length differ).
        assert_eq!(normalise("287082"), None);
    }
}
