//! `clientDataJSON` (WebAuthn §5.8.1): what the browser says it asked the authenticator to
//! sign. Read as JSON (a field given twice is refused), at most [`MAX_LEN`] bytes.

use serde::Deserialize;

pub const MAX_LEN: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientData {
    pub kind: String,
    /// The challenge, decoded from base64url.
    pub challenge: Vec<u8>,
    pub origin: String,
    pub cross_origin: bool,
    pub top_origin: Option<String>,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "type")]
    kind: String,
    challenge: String,
    origin: String,
    #[serde(rename = "crossOrigin", default)]
    cross_origin: Option<bool>,
    #[serde(rename = "topOrigin", default)]
    top_origin: Option<String>,
}

/// `None` when it is not a client data object we can read: too long, not JSON, a field
/// missing or of another type, or a challenge that is not base64url of 16 to 64 bytes.
pub fn parse(bytes: &[u8]) -> Option<ClientData> {
    if bytes.len() > MAX_LEN {
        return None;
    }
    let raw: Raw = serde_json::from_slice(bytes).ok()?;
    let challenge = crate::util::b64url_decode(&raw.challenge)?;
    if !(16..=64).contains(&challenge.len()) {
        return None;
    }
    Some(ClientData {
        kind: raw.kind,
        challenge,
        origin: raw.origin,
        cross_origin: raw.cross_origin.unwrap_or(false),
        top_origin: raw.top_origin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_browsers_send_and_nothing_else() {
        let c = parse(br#"{"type":"webauthn.get","challenge":"AAAAAAAAAAAAAAAAAAAAAA","origin":"https://as.example","crossOrigin":false,"other_keys_can_be_added_here":"do not compare clientDataJSON against a template. See https://goo.gl/yabPex"}"#).unwrap();
        assert_eq!((c.kind.as_str(), c.challenge.len(), c.origin.as_str(), c.cross_origin), ("webauthn.get", 16, "https://as.example", false));
        for bad in [
            &br#"{"type":"webauthn.get","challenge":"AAAAAAAAAAAAAAAAAAAAAA"}"#[..],
            br#"{"type":"webauthn.get","challenge":"AAAA","origin":"https://as.example"}"#,
            br#"{"type":"webauthn.get","challenge":"AAAAAAAAAAAAAAAAAAAAAA==","origin":"https://as.example"}"#,
            br#"{"type":"webauthn.get","challenge":"AAAAAAAAAAAAAAAAAAAAAA","origin":"https://as.example","origin":"https://evil.example"}"#,
            br#"{"type":1,"challenge":"AAAAAAAAAAAAAAAAAAAAAA","origin":"https://as.example"}"#,
            br#"{"type":"webauthn.get","challenge":"AAAAAAAAAAAAAAAAAAAAAA","origin":"https://as.example","crossOrigin":"no"}"#,
            br#"[]"#,
            b"\xff\xfe",
        ] {
            assert_eq!(parse(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        let long = format!(r#"{{"type":"webauthn.get","challenge":"AAAAAAAAAAAAAAAAAAAAAA","origin":"https://as.example","x":"{}"}}"#, "a".repeat(MAX_LEN));
        assert_eq!(parse(long.as_bytes()), None);
    }
}
