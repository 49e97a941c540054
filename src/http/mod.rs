//! Plain HTTP types the core speaks. The worker layer converts workers-rs requests into these
//! and these responses back, so routing and every endpoint are testable natively.

pub mod log;
pub mod params;
pub mod target;
pub mod response;

pub use response::Response;

/// Bodies above this are refused with 413 before they are parsed.
pub const MAX_BODY: usize = 64 * 1024;

#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    /// Path without the query, as received (percent-encoding left alone).
    pub path: String,
    /// Raw query string without `?`.
    pub query: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// `scheme://host[:port]` the request was made to; the issuer in development.
    pub origin: String,
    /// Client address (`CF-Connecting-IP`), for rate limits and logs.
    pub remote_addr: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Media type of the body without parameters, lower-cased.
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type")
            .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
    }

    /// The bearer token of an `Authorization: Bearer` header, if that is the scheme used.
    pub fn bearer(&self) -> Option<&str> {
        let v = self.header("authorization")?;
        let (scheme, rest) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
    }
}
