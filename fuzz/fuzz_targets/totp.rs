//! The second factor's parsers (`rules::totp`, `rules::recovery_code`) on arbitrary text: never
//! panic; a code `verify` accepts is six ASCII digits equal to the secret's code of the step it
//! names, within one step of now and after the last one used; base32 that decodes encodes back
//! (case aside); a recovery code's canonical form is stable and is what gets hashed.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis::rules::{recovery_code, totp};

const SECRET: &[u8; 20] = b"12345678901234567890";
const NOW: i64 = 1_795_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let current = totp::step_of(NOW).unwrap();
    for last in [None, Some(current - 1), Some(current), Some(current + 1)] {
        if let Some(step) = totp::verify(SECRET, s, NOW, last) {
            let code = totp::normalise_code(s).expect("an accepted code is well formed");
            assert_eq!(code, totp::code_at(SECRET, step));
            assert!((current - 1..=current + 1).contains(&step));
            assert!(last.is_none_or(|l| step > l));
        }
    }
    if let Some(code) = totp::normalise_code(s) {
        assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()));
    }
    if let Some(bytes) = totp::base32_decode(s) {
        assert!(totp::base32_encode(&bytes).eq_ignore_ascii_case(s));
    }
    match recovery_code::normalise(s) {
        Some(c) => {
            assert_eq!(recovery_code::normalise(&c).as_deref(), Some(c.as_str()));
            assert_eq!(recovery_code::hash(s), recovery_code::hash(&c));
            assert!(totp::normalise_code(s).is_none());
        }
        None => assert!(recovery_code::hash(s).is_none()),
    }
});
