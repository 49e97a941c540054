//! The CLI's one error type and its exit codes (documented in `portcullis --help` and README).

use std::fmt;

/// Exit codes: each kind of failure has its own, so scripts can tell them apart.
pub const EXIT_OK: i32 = 0;
/// Bad arguments or configuration: a usage error, not logged in, an `http://` non-local server.
pub const EXIT_USAGE: i32 = 1;
/// The server answered and refused (any non-2xx answer; its error code is shown).
pub const EXIT_REFUSED: i32 = 2;
/// The server could not be reached (connection refused, DNS, TLS, timeout) or answered garbage.
pub const EXIT_NETWORK: i32 = 3;
/// A local file could not be read or written (key file, output file, config file).
pub const EXIT_FILE: i32 = 4;

#[derive(Debug)]
pub enum Error {
    Usage(String),
    /// The server's answer: HTTP status, RFC 6749 `error` and `error_description` when sent.
    Refused {
        status: u16,
        code: Option<String>,
        description: Option<String>,
        body: String,
        /// What to do about it, when the caller knows (e.g. log in again after a 401).
        hint: Option<&'static str>,
    },
    Network(String),
    File(String),
    /// The server answered, but refused part of the work (an import's refused records).
    Partial(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn usage(m: impl Into<String>) -> Error {
        Error::Usage(m.into())
    }

    pub fn file(path: &std::path::Path, what: &str, e: impl fmt::Display) -> Error {
        Error::File(format!("cannot {what} {}: {e}", path.display()))
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => EXIT_USAGE,
            Error::Refused { .. } | Error::Partial(_) => EXIT_REFUSED,
            Error::Network(_) => EXIT_NETWORK,
            Error::File(_) => EXIT_FILE,
        }
    }

    /// Machine form for `--json` (printed on stderr).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Error::Refused {
                status,
                code,
                description,
                ..
            } => serde_json::json!({
                "kind": "refused", "status": status, "error": code, "error_description": description,
            }),
            Error::Usage(m) => serde_json::json!({"kind": "usage", "message": m}),
            Error::Network(m) => serde_json::json!({"kind": "network", "message": m}),
            Error::File(m) => serde_json::json!({"kind": "file", "message": m}),
            Error::Partial(m) => serde_json::json!({"kind": "partial", "message": m}),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) | Error::Network(m) | Error::File(m) | Error::Partial(m) => f.write_str(m),
            Error::Refused {
                status,
                code,
                description,
                body,
                hint,
            } => {
                write!(f, "the server refused ({status}")?;
                if let Some(c) = code {
                    write!(f, " {c}")?;
                }
                f.write_str(")")?;
                match description {
                    Some(d) => write!(f, ": {d}"),
                    None if !body.trim().is_empty() => {
                        let short: String = body.trim().chars().take(300).collect();
                        write!(f, ": {short}")
                    }
                    None => Ok(()),
                }?;
                match hint {
                    Some(h) => write!(f, "\n  hint: {h}"),
                    None => Ok(()),
                }
            }
        }
    }
}
