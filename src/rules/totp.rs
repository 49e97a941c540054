//! Time-based one-time passwords: RFC 6238 over RFC 4226's HOTP, as every authenticator app
//! computes them — HMAC-SHA1, 6 digits, 30-second steps from the Unix epoch — and the
//! `otpauth://` URI those apps read from a QR code. Pure rules: the secret and the last
//! accepted step are kept by the caller (`objects::two_factor`), which runs [`verify`] inside
//! one Durable Object command, so a step accepted once is never accepted again.
//!
//! - A code is accepted for the current step and one step either side ([`WINDOW`]): a clock up
//!   to ~30 s off, or a code typed just as it changed, still works (RFC 6238 §5.2 and §6).
//! - Only a step *after* the last accepted one counts (§5.2: "the verifier MUST NOT accept the
//!   second attempt of the OTP after the successful validation"), so a code seen over a
//!   shoulder or replayed from a log cannot be used again, nor an older one of the window.
//! - Codes are compared in constant time, every step of the window each time.
//! - A code is exactly 6 ASCII digits; spaces between them are allowed (apps show `123 456`),
//!   anything else (letters, other scripts' digits, signs) is malformed.

use crate::util::ct_eq;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Seconds in one time step (RFC 6238 `X`).
pub const STEP: i64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Steps accepted either side of the current one.
pub const WINDOW: i64 = 1;
/// Bytes of a secret (160 bits: RFC 4226 §4 R6 recommends this length for HMAC-SHA1).
pub const SECRET_BYTES: usize = 20;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 §6 base32, upper case, without padding (as `otpauth://` URIs carry it).
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(symbol((buf >> bits) & 31));
        }
        buf &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(symbol((buf << (5 - bits)) & 31));
    }
    out
}

fn symbol(v: u32) -> char {
    BASE32.get(v as usize).map_or('A', |c| *c as char)
}

/// Base32 without padding, either case; `None` for any other character, for a length no
/// encoding has, or for non-zero bits after the last byte.
pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    if matches!(s.len() % 8, 1 | 3 | 6) {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = BASE32.iter().position(|&b| b == c.to_ascii_uppercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
        buf &= (1 << bits) - 1;
    }
    (buf == 0).then_some(out)
}

/// RFC 4226 HOTP: HMAC-SHA1 of the 8-byte big-endian counter, dynamically truncated to
/// `digits` decimal digits (at most 9).
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return 0; // HMAC takes keys of any length: never reached
    };
    mac.update(&counter.to_be_bytes());
    let h: [u8; 20] = mac.finalize().into_bytes().into();
    // §5.3: the low 4 bits of the last byte pick 4 bytes; the top bit is masked off.
    let offset = usize::from(h.last().copied().unwrap_or(0) & 0x0f);
    let word = [0usize, 1, 2, 3].map(|i| h.get(offset + i).copied().unwrap_or(0));
    let binary = u32::from_be_bytes(word) & 0x7fff_ffff;
    binary % 10u32.pow(digits.min(9))
}

/// The time step of `now` (Unix seconds); `None` before the epoch.
pub fn step_of(now: i64) -> Option<i64> {
    (now >= 0).then(|| now.div_euclid(STEP))
}

/// The 6-digit code of `step`, zero-padded.
pub fn code_at(secret: &[u8], step: i64) -> String {
    format!("{:06}", hotp(secret, step.max(0) as u64, DIGITS))
}

/// A typed code in its canonical form (6 ASCII digits), or `None` if it is not one: spaces
/// between digits are dropped, nothing else is accepted. Bounded before anything is copied.
pub fn normalise_code(input: &str) -> Option<String> {
    if input.len() > 32 {
        return None;
    }
    let code: String = input.chars().filter(|c| *c != ' ').collect();
    (code.len() == DIGITS as usize && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// Checks `input` against the steps around `now`, accepting only a step after `last_step`.
/// Answers the step it matched (to keep as the new last step), or `None`. Every step of the
/// window is computed and compared in constant time whichever matches.
pub fn verify(secret: &[u8], input: &str, now: i64, last_step: Option<i64>) -> Option<i64> {
    let code = normalise_code(input)?;
    let current = step_of(now)?;
    let mut matched = None;
    for step in current.saturating_sub(WINDOW)..=current.saturating_add(WINDOW) {
        let fresh = last_step.is_none_or(|last| step > last);
        if ct_eq(code_at(secret, step).as_bytes(), code.as_bytes()) && fresh && matched.is_none() {
            matched = Some(step);
        }
    }
    matched
}

/// Percent-encodes everything but RFC 3986 unreserved characters (for the label and issuer).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The key URI authenticator apps read (Google Authenticator's `otpauth://` format):
/// `otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`.
/// The issuer and account are percent-encoded, so a `:` or `&` in either cannot change the URI.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let issuer = encode(issuer);
    format!(
        "otpauth://totp/{issuer}:{}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        encode(account),
        base32_encode(secret)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4226 Appendix D: the secret "12345678901234567890" and counters 0–9.
    #[test]
    fn rfc4226_vectors() {
        let secret = b"12345678901234567890";
        let expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, want) in expected.iter().enumerate() {
            assert_eq!(hotp(secret, counter as u64, 6), *want, "counter {counter}");
        }
    }

    /// RFC 6238 Appendix B, the SHA-1 rows (8 digits, the 20-byte ASCII seed).
    #[test]
    fn rfc6238_vectors() {
        let secret = b"12345678901234567890";
        let table: [(i64, i64, u32); 6] = [
            (59, 0x1, 94287082),
            (1111111109, 0x23523EC, 7081804),
            (1111111111, 0x23523ED, 14050471),
            (1234567890, 0x273EF07, 89005924),
            (2000000000, 0x3F940AA, 69279037),
            (20000000000, 0x27BC86AA, 65353130),
        ];
        for (time, step, want) in table {
            assert_eq!(step_of(time), Some(step), "T at {time}");
            assert_eq!(hotp(secret, step as u64, 8), want, "code at {time}");
            // The 6-digit code is the same number's last six digits.
            assert_eq!(code_at(secret, step), format!("{:06}", want % 1_000_000));
        }
    }

    #[test]
    fn base32_round_trips_and_rfc4648_vectors() {
        for (raw, enc) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32_encode(raw.as_bytes()), enc);
            assert_eq!(base32_decode(enc).unwrap(), raw.as_bytes());
            assert_eq!(base32_decode(&enc.to_lowercase()).unwrap(), raw.as_bytes());
        }
        assert_eq!(
            base32_encode(b"12345678901234567890"),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
        // Padding, other alphabets, impossible lengths, stray bits, non-ASCII: refused.
        for bad in ["MY======", "MZXW6YQ=", "0O18", "M", "MZX", "MZXW6Y", "MZ", "MÿXQ", "MZ XQ"] {
            assert_eq!(base32_decode(bad), None, "{bad}");
        }
        let secret: Vec<u8> = (0..=255u8).collect();
        assert_eq!(base32_decode(&base32_encode(&secret)).unwrap(), secret);
    }

    #[test]
    fn window_accepts_one_step_either_side_only() {
        let secret = b"12345678901234567890";
        let now = 1_234_567_890;
        let step = step_of(now).unwrap();
        for (offset, accepted) in [(-2, false), (-1, true), (0, true), (1, true), (2, false)] {
            let code = code_at(secret, step + offset);
            assert_eq!(
                verify(secret, &code, now, None),
                accepted.then_some(step + offset),
                "offset {offset}"
            );
        }
        // The first and last second of a step see the same window.
        let start = step * STEP;
        let code = code_at(secret, step - 1);
        assert_eq!(verify(secret, &code, start, None), Some(step - 1));
        assert_eq!(verify(secret, &code, start + STEP - 1, None), Some(step - 1));
        assert_eq!(verify(secret, &code, start + STEP, None), None);
        // Another secret's code is not this one's.
        assert_eq!(verify(b"another secret......", &code_at(secret, step), now, None), None);
    }

    #[test]
    fn a_step_is_used_once_and_older_steps_stay_refused() {
        let secret = b"12345678901234567890";
        let now = 2_000_000_000;
        let step = step_of(now).unwrap();
        let code = code_at(secret, step);
        let last = verify(secret, &code, now, None).unwrap();
        // Replay of the same code: refused, also a few seconds later within the step.
        assert_eq!(verify(secret, &code, now, Some(last)), None);
        assert_eq!(verify(secret, &code, now + 5, Some(last)), None);
        // The previous step's code is older than the last accepted: refused too.
        assert_eq!(verify(secret, &code_at(secret, step - 1), now, Some(last)), None);
        // The next step's is new.
        assert_eq!(
            verify(secret, &code_at(secret, step + 1), now + STEP, Some(last)),
            Some(step + 1)
        );
        // A code accepted early (the next step's) blocks the current step's code afterwards.
        let early = verify(secret, &code_at(secret, step + 1), now, None).unwrap();
        assert_eq!(verify(secret, &code, now, Some(early)), None);
    }

    #[test]
    fn malformed_codes_are_refused() {
        let secret = b"12345678901234567890";
        let now = 59;
        let good = code_at(secret, 1); // 287082
        assert_eq!(good, "287082");
        assert_eq!(verify(secret, "287082", now, None), Some(1));
        assert_eq!(verify(secret, "287 082", now, None), Some(1));
        assert_eq!(verify(secret, " 287082 ", now, None), Some(1));
        for bad in [
            "",
            "28708",
            "2870820",
            "94287082", // the 8-digit form
            "28708a",
            "+28708",
            "-287082",
            "287-082",
            "287\t082",
            "287082\n",
            "２８７０８２",   // fullwidth digits
            "٢٨٧٠٨٢",   // Arabic-Indic digits
            "287082\u{200b}",
            "0x4616A",
            &"2".repeat(1000),
            &format!("{}287082", " ".repeat(40)),
        ] {
            assert_eq!(normalise_code(bad), None, "{bad:?}");
            assert_eq!(verify(secret, bad, now, None), None, "{bad:?}");
        }
        // Before the epoch there is no step.
        assert_eq!(step_of(-1), None);
        assert_eq!(verify(secret, "755224", -1, None), None);
        // Extreme times do not overflow.
        assert!(verify(secret, "000000", i64::MAX, Some(i64::MAX)).is_none());
    }

    /// The fuzz target's properties (fuzz/fuzz_targets/totp.rs) over generated near-codes:
    /// digits, spaces, look-alikes and base32 characters mixed, with a deterministic generator.
    #[test]
    fn generated_inputs_keep_the_properties() {
        let secret = b"12345678901234567890";
        let now = 1_795_000_000;
        let current = step_of(now).unwrap();
        let right = code_at(secret, current);
        let pieces = ["0", "7", " ", "-", "a", "Z", "２", "٢", "\u{0}", "é", &right, "MZXW6", "="];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let mut s = String::new();
            for _ in 0..(x % 9) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.push_str(pieces[(x % pieces.len() as u64) as usize]);
            }
            x = x.wrapping_add(1);
            if let Some(step) = verify(secret, &s, now, None) {
                assert_eq!(normalise_code(&s).unwrap(), code_at(secret, step), "{s:?}");
                assert!((current - 1..=current + 1).contains(&step));
            }
            if let Some(b) = base32_decode(&s) {
                assert!(base32_encode(&b).eq_ignore_ascii_case(&s), "{s:?}");
            }
            if let Some(c) = crate::rules::recovery_code::normalise(&s) {
                assert!(normalise_code(&s).is_none(), "{s:?}");
                assert_eq!(crate::rules::recovery_code::normalise(&c), Some(c.clone()));
            }
        }
    }

    #[test]
    fn the_key_uri_encodes_issuer_and_account() {
        let uri = otpauth_uri("Acme Inc.", "ann@example.com", b"12345678901234567890");
        assert_eq!(
            uri,
            "otpauth://totp/Acme%20Inc.:ann%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Inc.&algorithm=SHA1&digits=6&period=30"
        );
        let uri = otpauth_uri("a:b&c=d", "x?y#z", b"k");
        assert!(uri.starts_with("otpauth://totp/a%3Ab%26c%3Dd:x%3Fy%23z?secret=NM&issuer=a%3Ab%26c%3Dd&"), "{uri}");
        let uri = otpauth_uri("Café", "é@x", b"k");
        assert!(uri.starts_with("otpauth://totp/Caf%C3%A9:%C3%A9%40x?"), "{uri}");
    }
}
