//! The OpenID Connect authorization request parameters: `rules::prompt::{parse_prompt,
//! parse_max_age, fresh}`, `rules::login_hint::{check, usable}` and
//! `oauth::id_token_hint::subject`, `rules::claims_request::parse`, `rules::acr::check` and
//! the pushed requests' `rules::par::{reference, prompt}`, each against a model of what it must
//! accept. Input: a
//! selector byte, then UTF-8 text. Selector 5 splices the text into a valid ID token (signed
//! with the fuzz key) at the position the text's first byte names.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis::crypto::jwt;
use portcullis::oauth::id_token_hint::subject;
use portcullis::rules::{acr, claims_request, login_hint, par, prompt};
use portcullis_fuzz::{signing_keys, CLIENT_ID, ISSUER, NOW};
use std::sync::OnceLock;

fn keys() -> &'static portcullis::crypto::keys::SigningKeys {
    static K: OnceLock<portcullis::crypto::keys::SigningKeys> = OnceLock::new();
    K.get_or_init(signing_keys)
}

fn valid_hint() -> &'static str {
    static T: OnceLock<String> = OnceLock::new();
    T.get_or_init(|| {
        let claims = serde_json::json!({"iss": ISSUER, "sub": "fuzz-sub", "aud": CLIENT_ID, "exp": NOW - 10, "iat": NOW - 3600});
        keys().sign_id_token(&claims).expect("signs")
    })
}

/// What an accepted hint must be: ours, an ID token, this issuer, for the client, its `sub`.
fn check_hint(token: &str) {
    let Ok(sub) = subject(keys(), ISSUER, CLIENT_ID, token) else {
        return;
    };
    let t = jwt::decode(token).expect("an accepted hint decodes");
    assert_eq!(t.header.typ.as_deref(), Some("JWT"));
    assert!(keys().verify(&t), "an accepted hint verifies");
    assert_eq!(t.str_claim("iss"), Some(ISSUER));
    assert_eq!(t.str_claim("sub"), Some(sub.as_str()));
    let aud = &t.claims["aud"];
    assert!(aud == CLIENT_ID || aud.as_array().is_some_and(|a| a.iter().any(|v| v == CLIENT_ID)));
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(s) = std::str::from_utf8(rest) else {
        return;
    };
    match selector % 9 {
        0 => {
            let tokens: Vec<&str> = s.split(' ').filter(|t| !t.is_empty()).collect();
            let known = ["none", "login", "consent", "select_account"];
            let mut seen = std::collections::HashSet::new();
            let model = tokens.iter().all(|t| known.contains(t) && seen.insert(*t))
                && (!seen.contains("none") || seen.len() == 1);
            let got = prompt::parse_prompt(Some(s));
            assert_eq!(got.is_ok(), model, "{s:?}");
            if let Ok(p) = got {
                assert_eq!(
                    (p.none, p.login, p.consent, p.select_account),
                    (seen.contains("none"), seen.contains("login"), seen.contains("consent"), seen.contains("select_account"))
                );
            }
        }
        1 => {
            let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            let trimmed = s.trim_start_matches('0');
            let model = digits
                && (trimmed.is_empty()
                    || (trimmed.len() <= 16 && trimmed.parse::<u64>().is_ok_and(|n| n <= prompt::MAX_MAX_AGE)));
            let got = prompt::parse_max_age(Some(s));
            assert_eq!(got.is_ok(), model, "{s:?}");
            if let Ok(Some(n)) = got {
                assert_eq!(n.to_string(), if trimmed.is_empty() { "0" } else { trimmed });
            }
        }
        2 => {
            let auth_time = NOW - 10;
            let model = !s.is_empty()
                && s.len() <= 12
                && s.bytes().all(|b| b.is_ascii_digit())
                && s.parse::<i64>().is_ok_and(|t| t <= auth_time && NOW - t <= prompt::FRESH_WINDOW);
            assert_eq!(prompt::fresh(Some(s), auth_time, NOW), model, "{s:?}");
        }
        3 => {
            let model = s.is_empty() || (s.chars().count() <= login_hint::MAX_CHARS && !s.chars().any(char::is_control));
            let got = login_hint::check(Some(s));
            assert_eq!(got.is_ok(), model, "{s:?}");
            assert_eq!(login_hint::usable(Some(s)).is_some(), model && !s.is_empty());
            if let Ok(Some(h)) = got {
                assert_eq!(h, s);
            }
        }
        4 => check_hint(s),
        6 => {
            // The `claims` parameter: refused unless a JSON object within the size limit; what
            // it yields is only known person claims, each once, and a bounded `sub`.
            let got = claims_request::parse(Some(s));
            let is_object = serde_json::from_str::<serde_json::Value>(s).is_ok_and(|v| v.is_object());
            if s.trim().is_empty() {
                assert_eq!(got.as_ref().ok(), Some(&None));
            } else if !is_object || s.len() > claims_request::MAX_BYTES {
                assert!(got.is_err(), "{s:?}");
            }
            if let Ok(Some(r)) = got {
                for list in [&r.userinfo, &r.id_token] {
                    assert!(list.iter().all(|c| claims_request::PERSON_CLAIMS.contains(&c.as_str())));
                    let mut d = list.clone();
                    d.dedup();
                    assert_eq!(&d, list);
                }
                assert!(r.sub.as_ref().is_none_or(|v| !v.is_empty() && v.len() <= 255));
            }
        }
        7 => {
            // acr_values is voluntary: refused only when too long or with control characters.
            let model = s.len() <= acr::MAX_ACR_VALUES && !s.chars().any(char::is_control);
            assert_eq!(acr::check(Some(s), None).is_ok(), model, "{s:?}");
        }
        8 => {
            // A request_uri is ours only as the URN prefix and 43 base64url characters; the
            // browser's prompt beside it can only drop select_account from the pushed one.
            let model = s.strip_prefix(par::PREFIX).is_some_and(|r| {
                r.len() == 43 && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
            assert_eq!(par::reference(s).is_some(), model, "{s:?}");
            let (pushed, outer) = s.split_once('|').unwrap_or((s, ""));
            let got = par::prompt(Some(pushed), Some(outer));
            let words = |v: &str| v.split(' ').filter(|w| !w.is_empty()).map(str::to_owned).collect::<Vec<_>>();
            let pw = words(pushed);
            let got_words = got.as_deref().map(words).unwrap_or_default();
            let narrowed: Vec<String> = pw.iter().filter(|w| *w != "select_account").cloned().collect();
            assert!(got_words == pw || got_words == narrowed, "{s:?} -> {got:?}");
        }
        _ => {
            let valid = valid_hint();
            let at = s.bytes().next().map_or(0, |b| b as usize * valid.len() / 256);
            let spliced = format!("{}{}{}", &valid[..at], s.get(1..).unwrap_or(""), &valid[at..]);
            check_hint(&spliced);
            if spliced == valid {
                assert_eq!(subject(keys(), ISSUER, CLIENT_ID, &spliced).ok().as_deref(), Some("fuzz-sub"));
            }
        }
    }
});
