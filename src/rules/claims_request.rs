//! The `claims` authorization request parameter (OpenID Connect Core 1.0 §5.5): which claims
//! about the person a client asks for one by one, at the userinfo endpoint (`userinfo`) or in
//! the ID token (`id_token`). What this provider does with it:
//!
//! - the parameter must be a JSON object of at most [`MAX_BYTES`]; its `userinfo` and
//!   `id_token` members, when present, objects whose values are `null` or an object with an
//!   optional boolean `essential`, a `value` and a `values` array; anything else is
//!   `invalid_request` (nothing is stored);
//! - of the person's claims ([`PERSON_CLAIMS`]) a claim asked for is released only if the app may
//!   hold a scope that releases it (`rules::claims`), so the parameter never reaches past what the
//!   operator allows the app; a claim the granted scopes do not already release needs the
//!   person's consent, shown on the consent page and remembered as `claim <name>`
//!   ([`consent_marker`]: with a space, which no scope token can hold, so no scope is ever
//!   taken for a claim's consent);
//! - `sub` with a `value` in `id_token` names the person the client expects (as an
//!   `id_token_hint` does); `acr` is `rules::acr`'s; every other claim name is ignored, as the
//!   specification allows (§5.5: "the OP MAY choose not to return some Claims").

use crate::error::{Error, Result};
use serde_json::{Map, Value};

/// The largest `claims` parameter read.
pub const MAX_BYTES: usize = 4096;

/// The claims about a person that can be asked for one by one.
pub const PERSON_CLAIMS: [&str; 4] = ["name", "email", "email_verified", "created_at"];

/// What an `acr` entry asks (§5.5.1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcrAsk {
    pub essential: bool,
    /// `value`, or the members of `values` (strings only).
    pub values: Vec<String>,
}

/// A parsed `claims` parameter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimsRequest {
    /// Person claims asked for at the userinfo endpoint, each once, in [`PERSON_CLAIMS`] order.
    pub userinfo: Vec<String>,
    /// Person claims asked for in the ID token.
    pub id_token: Vec<String>,
    /// `id_token.sub.value`: the person the client expects.
    pub sub: Option<String>,
    /// `id_token.acr` (or `userinfo.acr`).
    pub acr: Option<AcrAsk>,
}

fn bad(msg: &str) -> Error {
    Error::invalid_request(format!("claims: {msg}"))
}

/// One member (`userinfo` or `id_token`): its person claims, and its `sub`/`acr` entries.
fn member(m: &Map<String, Value>, out: &mut Vec<String>, sub: &mut Option<String>, acr: &mut Option<AcrAsk>, is_id_token: bool) -> Result<()> {
    for (name, entry) in m {
        let entry = match entry {
            Value::Null => None,
            Value::Object(o) => Some(o),
            _ => return Err(bad("each requested claim is null or an object")),
        };
        let mut values = Vec::new();
        let mut essential = false;
        if let Some(o) = entry {
            match o.get("essential") {
                None | Some(Value::Null) => {}
                Some(Value::Bool(b)) => essential = *b,
                Some(_) => return Err(bad("essential is true or false")),
            }
            match o.get("values") {
                None | Some(Value::Null) => {}
                Some(Value::Array(a)) => values.extend(a.iter().filter_map(Value::as_str).map(str::to_owned)),
                Some(_) => return Err(bad("values is an array")),
            }
            if let Some(v) = o.get("value") {
                if o.contains_key("values") {
                    return Err(bad("a claim has value or values, not both"));
                }
                if let Some(s) = v.as_str() {
                    values.push(s.to_owned());
                }
            }
        }
        match name.as_str() {
            "sub" if is_id_token => {
                if let Some(o) = entry {
                    match o.get("value") {
                        None => {}
                        Some(Value::String(s)) if !s.is_empty() && s.len() <= 255 => *sub = Some(s.clone()),
                        Some(_) => return Err(bad("sub's value is a subject identifier")),
                    }
                }
            }
            "acr" => {
                let ask = acr.get_or_insert_with(AcrAsk::default);
                ask.essential |= essential;
                ask.values.extend(values);
            }
            n => {
                if PERSON_CLAIMS.contains(&n) && !out.iter().any(|c| c == n) {
                    out.push(n.to_owned());
                }
            }
        }
    }
    out.sort_by_key(|c| PERSON_CLAIMS.iter().position(|p| p == c));
    Ok(())
}

/// Parses the `claims` parameter; `None` when absent or empty.
pub fn parse(raw: Option<&str>) -> Result<Option<ClaimsRequest>> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(None);
    };
    if raw.len() > MAX_BYTES {
        return Err(bad(&format!("the parameter is longer than {MAX_BYTES} bytes")));
    }
    let v: Value = serde_json::from_str(raw).map_err(|_| bad("the parameter is not valid JSON"))?;
    let Value::Object(top) = v else {
        return Err(bad("the parameter is a JSON object"));
    };
    let mut r = ClaimsRequest::default();
    for (key, is_id_token) in [("userinfo", false), ("id_token", true)] {
        match top.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                let out = if is_id_token { &mut r.id_token } else { &mut r.userinfo };
                member(m, out, &mut r.sub, &mut r.acr, is_id_token)?;
            }
            Some(_) => return Err(bad(&format!("{key} is a JSON object"))),
        }
    }
    Ok(Some(r))
}

/// Of the claims asked for (`asked`), those the app may have at all: released by one of the
/// scopes it may hold (`allowed`).
pub fn permitted(asked: &[String], allowed: &[String]) -> Vec<String> {
    let allowed: Vec<&str> = allowed.iter().map(String::as_str).collect();
    let reachable = super::claims::released(&allowed);
    asked.iter().filter(|c| reachable.contains(&c.as_str())).cloned().collect()
}

/// Of the permitted claims (`asked`), those the granted scopes do not already release: each
/// needs the person's consent.
pub fn beyond_scopes(asked: &[String], granted: &[String]) -> Vec<String> {
    let granted: Vec<&str> = granted.iter().map(String::as_str).collect();
    let released = super::claims::released(&granted);
    asked.iter().filter(|c| !released.contains(&c.as_str())).cloned().collect()
}

/// At a mint (code exchange or refresh): of the claims asked for (`asked`), those to release.
/// Each must still be within what the app may hold (`allowed`), and be either released by a
/// scope of this token (`minted`) or one the person allowed by itself (`consented`), so a
/// refresh that narrows the scope narrows the claims that came with the scope.
pub fn at_mint(asked: &[String], consented: &[String], minted: &[String], allowed: &[String]) -> Vec<String> {
    let minted: Vec<&str> = minted.iter().map(String::as_str).collect();
    let by_scope = super::claims::released(&minted);
    permitted(asked, allowed)
        .into_iter()
        .filter(|c| by_scope.contains(&c.as_str()) || consented.contains(c))
        .collect()
}

/// How the consent to one claim is remembered beside the scopes: `claim <name>`. A scope
/// token has no space (RFC 6749 §3.3), so a scope never reads as a claim's consent.
pub fn consent_marker(claim: &str) -> String {
    format!("claim {claim}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn the_parameter_is_read_strictly() {
        assert_eq!(parse(None).unwrap(), None);
        assert_eq!(parse(Some(" ")).unwrap(), None);
        let r = parse(Some(r#"{"userinfo":{"email":{"essential":true},"given_name":null,"name":null},
            "id_token":{"email_verified":null,"sub":{"value":"u-1"},"acr":{"essential":true,"values":["a","b"]}}}"#))
        .unwrap()
        .unwrap();
        // Known person claims only, in one order; unknown names ignored.
        assert_eq!(r.userinfo, s(&["name", "email"]));
        assert_eq!(r.id_token, s(&["email_verified"]));
        assert_eq!(r.sub.as_deref(), Some("u-1"));
        assert_eq!(r.acr, Some(AcrAsk { essential: true, values: s(&["a", "b"]) }));
        // Unknown top-level members are ignored (§5.5 allows extensions).
        assert_eq!(parse(Some(r#"{"x":1}"#)).unwrap(), Some(ClaimsRequest::default()));
        for bad_input in [
            "not json",
            "[]",
            "\"x\"",
            r#"{"userinfo":[]}"#,
            r#"{"id_token":"email"}"#,
            r#"{"userinfo":{"email":true}}"#,
            r#"{"userinfo":{"email":{"essential":"yes"}}}"#,
            r#"{"userinfo":{"email":{"values":"a"}}}"#,
            r#"{"id_token":{"acr":{"value":"a","values":["b"]}}}"#,
            r#"{"id_token":{"sub":{"value":5}}}"#,
            r#"{"id_token":{"sub":{"value":""}}}"#,
            "{\"userinfo\":{\"email\":null}",
        ] {
            let e = parse(Some(bad_input)).unwrap_err();
            assert_eq!(e.code, crate::error::ErrorCode::InvalidRequest, "{bad_input}");
            assert!(e.description.starts_with("claims: "), "{bad_input}");
        }
        let long = format!(r#"{{"userinfo":{{"name":null}},"pad":"{}"}}"#, "a".repeat(MAX_BYTES));
        assert!(parse(Some(&long)).is_err());
        // Deeply nested input is refused by the JSON reader, never a stack overflow.
        let deep = format!("{}{}", "[".repeat(2000), "]".repeat(2000));
        assert!(parse(Some(&deep)).is_err());
    }

    #[test]
    fn claims_stay_within_what_the_app_may_hold() {
        // An app allowed only `openid profile` cannot reach the email by asking for it.
        assert_eq!(permitted(&s(&["name", "email"]), &s(&["openid", "profile"])), s(&["name"]));
        assert_eq!(permitted(&s(&["email", "email_verified"]), &s(&["openid", "email"])), s(&["email", "email_verified"]));
        // What the granted scopes release needs no consent of its own.
        assert_eq!(beyond_scopes(&s(&["name", "email"]), &s(&["openid", "email"])), s(&["name"]));
        assert!(beyond_scopes(&s(&["name"]), &s(&["openid", "profile"])).is_empty());
        // A narrowed refresh keeps a claim allowed by itself, not one that came with a scope.
        let asked = s(&["name", "email"]);
        assert_eq!(at_mint(&asked, &s(&["name"]), &s(&["openid", "email"]), &s(&["openid", "profile", "email"])), asked);
        assert_eq!(at_mint(&asked, &s(&["name"]), &s(&["openid"]), &s(&["openid", "profile", "email"])), s(&["name"]));
        // Nor beyond what the app may hold today.
        assert!(at_mint(&asked, &asked, &s(&["openid"]), &s(&["openid"])).is_empty());
        assert_eq!(consent_marker("email"), "claim email");
        assert!(crate::rules::scope::parse(&consent_marker("email")).map_or(true, |v| v.len() != 1));
    }
}
