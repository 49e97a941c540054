//! `Params::parse_json` (JSON bodies at the token, introspection and revocation endpoints):
//! never panics (deep nesting, huge numbers, bad UTF-8); what it accepts is a flat map of
//! printable strings that round-trips.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis::http::params::Params;
use portcullis::http::Request;

fuzz_target!(|data: &[u8]| {
    let parsed = Params::parse_json(data);
    let req = Request {
        method: "POST".into(),
        headers: vec![("content-type".into(), "Application/JSON ; charset=utf-8".into())],
        body: data.to_vec(),
        ..Default::default()
    };
    assert_eq!(Params::from_body(&req).ok(), parsed.clone().ok());
    let Ok(p) = parsed else {
        return;
    };
    let mut object = serde_json::Map::new();
    for (k, v) in p.iter() {
        assert!(!v.is_empty(), "an empty value was kept for {k:?}");
        assert!(
            !k.chars().any(char::is_control) && !v.chars().any(|c| c.is_control() && c != '\t'),
            "a control character got through: {k:?}={v:?}"
        );
        assert!(
            object.insert(k.to_owned(), v.into()).is_none(),
            "parameter {k:?} is repeated"
        );
    }
    let text = serde_json::Value::Object(object).to_string();
    let again = Params::parse_json(text.as_bytes()).expect("re-encoded JSON parses");
    let mut a: Vec<_> = again.iter().collect();
    let mut b: Vec<_> = p.iter().collect();
    a.sort();
    b.sort();
    assert_eq!(a, b, "JSON parameters do not round-trip");
});
