//! The one error type of the server. Every failure, whatever layer it starts in, ends as one of
//! these and is rendered once, by `routes::render`: as RFC 6749 §5.2 JSON with the right status
//! and, where the spec asks for one, a `WWW-Authenticate` challenge; as a page for a person; or
//! as an RFC 6749 §4.1.2.1 error redirect to a registered redirect URI ([`Shown`]). Why a
//! request was refused is an enum where callers branch on it ([`AssertionRejection`]), mapped
//! to its words here, once.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedTokenType,
    InvalidScope,
    InvalidTarget,
    AccessDenied,
    UnsupportedResponseType,
    InvalidToken,
    InsufficientScope,
    InvalidRedirectUri,
    InvalidClientMetadata,
    /// A page needs a signed-in person (OpenID Connect's `login_required`).
    LoginRequired,
    /// OpenID Connect `prompt=none` and the person has not consented (Core 1.0 §3.1.2.6).
    ConsentRequired,
    /// OpenID Connect `prompt=none` and a page other than log-in or consent is needed.
    InteractionRequired,
    /// A request object (`request`) was sent; discovery says they are not supported (Core §6).
    RequestNotSupported,
    /// A request object by reference (`request_uri`), likewise.
    RequestUriNotSupported,
    /// A `request_uri` of ours that expired, was used, or is another client's (RFC 9101 §7,
    /// RFC 9126 §4).
    InvalidRequestUri,
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    UnsupportedMediaType,
    LimitReached,
    RateLimited,
    ServerError,
    TemporarilyUnavailable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidRequest | PayloadTooLarge | UnsupportedMediaType => "invalid_request",
            InvalidClient => "invalid_client",
            InvalidGrant => "invalid_grant",
            UnauthorizedClient => "unauthorized_client",
            UnsupportedGrantType => "unsupported_grant_type",
            UnsupportedTokenType => "unsupported_token_type",
            InvalidScope => "invalid_scope",
            InvalidTarget => "invalid_target",
            AccessDenied => "access_denied",
            UnsupportedResponseType => "unsupported_response_type",
            InvalidToken => "invalid_token",
            InsufficientScope => "insufficient_scope",
            InvalidRedirectUri => "invalid_redirect_uri",
            InvalidClientMetadata => "invalid_client_metadata",
            LoginRequired => "login_required",
            ConsentRequired => "consent_required",
            InteractionRequired => "interaction_required",
            RequestNotSupported => "request_not_supported",
            RequestUriNotSupported => "request_uri_not_supported",
            InvalidRequestUri => "invalid_request_uri",
            NotFound => "not_found",
            MethodNotAllowed => "method_not_allowed",
            LimitReached => "limit_reached",
            RateLimited => "rate_limited",
            ServerError => "server_error",
            TemporarilyUnavailable => "temporarily_unavailable",
        }
    }

    pub fn status(self) -> u16 {
        use ErrorCode::*;
        match self {
            InvalidClient | InvalidToken | LoginRequired => 401,
            InsufficientScope | AccessDenied => 403,
            NotFound => 404,
            MethodNotAllowed => 405,
            LimitReached => 409,
            PayloadTooLarge => 413,
            UnsupportedMediaType => 415,
            RateLimited => 429,
            ServerError => 500,
            TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

/// Which `WWW-Authenticate` challenge a 401/403 carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// The client tried HTTP Basic (RFC 6749 §5.2).
    Basic,
    /// A bearer token was missing or bad (RFC 6750 §3); `scope` names what was needed.
    Bearer { scope: Option<String> },
}

/// How an error reaches the client.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Shown {
    /// RFC 6749 §5.2 JSON (APIs).
    #[default]
    Json,
    /// A page for a person in a browser, titled `title`, saying the description.
    Page { title: &'static str },
    /// Back to the client at its registered `uri` with `error`, `error_description`, `state`
    /// and `iss` (RFC 9207). Only ever made with a URI that matched the app's registration.
    Redirect {
        uri: String,
        state: Option<String>,
        issuer: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    pub description: String,
    pub challenge: Option<Challenge>,
    /// Extra response headers, e.g. `Allow` on 405 or `Retry-After` on 429.
    pub headers: Vec<(&'static str, String)>,
    pub shown: Shown,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Error {
            code,
            description: description.into(),
            challenge: None,
            headers: Vec::new(),
            shown: Shown::Json,
        }
    }
    /// An error for a person: rendered as a page titled `title`.
    pub fn page(code: ErrorCode, title: &'static str, message: impl Into<String>) -> Self {
        Error {
            shown: Shown::Page { title },
            ..Self::new(code, message)
        }
    }
    /// This error (its code and headers, e.g. `Retry-After`) as a page saying `message`.
    pub fn on_page(self, title: &'static str, message: impl Into<String>) -> Self {
        Error {
            shown: Shown::Page { title },
            description: message.into(),
            ..self
        }
    }
    /// This error, sent back to the client's registered redirect URI (RFC 6749 §4.1.2.1).
    pub fn redirected(self, uri: &str, state: Option<&str>, issuer: &str) -> Self {
        Error {
            shown: Shown::Redirect {
                uri: uri.to_owned(),
                state: state.map(str::to_owned),
                issuer: issuer.to_owned(),
            },
            ..self
        }
    }
    /// An assertion refused for `reason`, as the endpoint's error `code`.
    pub fn assertion(code: ErrorCode, reason: AssertionRejection) -> Self {
        Self::new(code, reason.describe())
    }
    pub fn with_challenge(mut self, c: Challenge) -> Self {
        self.challenge = Some(c);
        self
    }
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, d)
    }
    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidClient, d)
    }
    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, d)
    }
    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidScope, d)
    }
    pub fn unauthorized_client(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::UnauthorizedClient, d)
    }
    pub fn invalid_token(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidToken, d).with_challenge(Challenge::Bearer { scope: None })
    }
    pub fn not_found(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, d)
    }
    pub fn server(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::ServerError, d)
    }
    /// 405 with the `Allow` header listing `allowed`.
    pub fn method_not_allowed(allowed: &[String]) -> Self {
        let allow = allowed.join(", ");
        Self::new(ErrorCode::MethodNotAllowed, format!("use {allow}")).with_header("allow", allow)
    }
    pub fn unavailable(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::TemporarilyUnavailable, d)
    }
    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// The `WWW-Authenticate` value, if this error carries a challenge.
    pub fn www_authenticate(&self) -> Option<String> {
        let realm = "realm=\"portcullis\"";
        match &self.challenge {
            None => None,
            Some(Challenge::Basic) => Some(format!("Basic {realm}, charset=\"UTF-8\"")),
            Some(Challenge::Bearer { scope }) => {
                let mut v = format!("Bearer {realm}");
                // RFC 6750 §3.1: a request without any credentials gets no error code.
                if self.code != ErrorCode::InvalidRequest || !self.description.is_empty() {
                    v.push_str(&format!(", error=\"{}\"", self.code.as_str()));
                    v.push_str(&format!(
                        ", error_description=\"{}\"",
                        header_safe(&self.description)
                    ));
                }
                if let Some(s) = scope {
                    v.push_str(&format!(", scope=\"{}\"", header_safe(s)));
                }
                Some(v)
            }
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::json!({"error": self.code.as_str(), "error_description": self.description_wire()}).to_string()
    }

    /// `error_description` as it may travel (RFC 6749 §5.2: `%x20-21 / %x23-5B / %x5D-7E`):
    /// no CR, LF, TAB or other control, no quote or backslash, ASCII only; anything else
    /// becomes `'`, whatever input the description quotes.
    pub fn description_wire(&self) -> String {
        header_safe(&self.description)
    }
}

/// Why an app's signed JWT (app token, RFC 7523 grant, `private_key_jwt`) was refused. The
/// endpoint decides the code (`invalid_token`, `invalid_grant`, `invalid_client`); the words
/// are these, and none says which key was tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssertionRejection {
    TooLong,
    NotAJwt,
    NotRs256,
    Missing(&'static str),
    NotSeconds(&'static str),
    SubIsNotIss,
    Expired,
    IssuedInFuture,
    /// Lives longer than this many seconds.
    TooLongLived(i64),
    NotYetValid,
    ClockOutOfRange,
    WrongAudience,
    UnknownIssuer,
    NoKeyVerifies,
    BadJti,
    /// Refused by the app's object (replay, key removed, app disabled): its words.
    Refused(String),
}

impl AssertionRejection {
    pub fn describe(&self) -> String {
        use AssertionRejection::*;
        match self {
            TooLong => "the assertion is too long".into(),
            NotAJwt => "the assertion is not a JWT (three base64url parts with JSON header and claims)".into(),
            NotRs256 => "the assertion must be signed with RS256".into(),
            Missing(claim) => format!("the assertion has no '{claim}' claim"),
            NotSeconds(claim) => format!("'{claim}' must be a number of seconds"),
            SubIsNotIss => "'sub' must equal 'iss' (the client id)".into(),
            Expired => "the assertion has expired".into(),
            IssuedInFuture => "'iat' is in the future".into(),
            TooLongLived(max) => format!("the assertion lives longer than {max} seconds"),
            NotYetValid => "the assertion is not valid yet ('nbf' is in the future)".into(),
            ClockOutOfRange => "the clock is out of range".into(),
            WrongAudience => "'aud' does not name this server".into(),
            UnknownIssuer => "'iss' is not a known app".into(),
            NoKeyVerifies => "the signature does not verify with any key registered for the app".into(),
            BadJti => "'jti' must be a string of at most 256 characters".into(),
            Refused(words) => words.clone(),
        }
    }
}

/// RFC 6750 limits error_description to %x20-21 / %x23-5B / %x5D-7E.
fn header_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if (' '..='~').contains(&c) && c != '"' && c != '\\' {
                c
            } else {
                '\''
            }
        })
        .collect()
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_client_is_401_with_basic_challenge() {
        let e = Error::invalid_client("bad secret").with_challenge(Challenge::Basic);
        assert_eq!(e.status(), 401);
        assert!(e.www_authenticate().unwrap().starts_with("Basic "));
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(v["error"], "invalid_client");
        assert_eq!(v["error_description"], "bad secret");
    }

    #[test]
    fn bearer_challenge_never_carries_quotes_or_newlines() {
        let e = Error::invalid_token("bad \"x\"\r\nInjected: 1");
        let h = e.www_authenticate().unwrap();
        assert!(h.contains("error=\"invalid_token\""));
        assert!(!h.contains('\n') && !h.contains("\"x\""));
    }
}

#[cfg(test)]
mod wire_tests {
    use super::*;

    /// Whatever a description quotes (serde's messages quote the input), what travels holds
    /// only RFC 6749 §5.2's characters.
    #[test]
    fn error_descriptions_on_the_wire_carry_no_control_quote_or_non_ascii() {
        let e = Error::invalid_request("field `a\tb\r\nc` \"quoted\" \\ bücher \u{0}");
        let wire = e.description_wire();
        assert!(wire.chars().all(|c| matches!(c as u32, 0x20..=0x21 | 0x23..=0x5b | 0x5d..=0x7e)), "{wire:?}");
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(v["error_description"], wire);
        assert!(wire.starts_with("field `a'b''c` 'quoted'"), "{wire}");
    }
}
