//! `Params::parse_form` (form bodies and query strings): never panics; what it accepts has no
//! repeated names, no empty values, no control characters but tab; and it round-trips through
//! `encode_form`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis::http::params::{encode_form, Params};
use portcullis::http::Request;

fuzz_target!(|data: &[u8]| {
    let Ok(p) = Params::parse_form(data) else {
        return;
    };
    let pairs: Vec<(&str, &str)> = p.iter().collect();
    for (i, (k, v)) in pairs.iter().enumerate() {
        assert!(!v.is_empty(), "an empty value was kept for {k:?}");
        assert!(
            !k.chars().chain(v.chars()).any(|c| c.is_control() && c != '\t'),
            "a control character got through: {k:?}={v:?}"
        );
        assert!(
            pairs[..i].iter().all(|(k2, _)| k2 != k),
            "parameter {k:?} is repeated"
        );
        assert_eq!(p.get(k), Some(*v));
    }
    let again = Params::parse_form(encode_form(&pairs).as_bytes()).expect("re-encoded form parses");
    // The kept parameters round-trip (keys sent empty are not re-encoded: they were omitted).
    assert_eq!(again.iter().collect::<Vec<_>>(), pairs, "form parameters do not round-trip");
    // The body path of every endpoint gives the same answer.
    let req = Request {
        method: "POST".into(),
        headers: vec![(
            "content-type".into(),
            "application/x-www-form-urlencoded; charset=UTF-8".into(),
        )],
        body: data.to_vec(),
        ..Default::default()
    };
    assert_eq!(Params::from_body(&req).ok(), Some(p));
});
