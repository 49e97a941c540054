//! Where the server URL and admin token live: `<config dir>/portcullis/config.json` (mode
//! 0600, its directory 0700), or the file `--config`/`PORTCULLIS_CONFIG` names; and which
//! server and token a command uses (flags and `PORTCULLIS_SERVER`/`PORTCULLIS_TOKEN` first).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub server: String,
    pub token: String,
}

/// The config file: the explicit path, else the platform's config directory.
pub fn path(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    dirs::config_dir()
        .map(|d| d.join("portcullis").join("config.json"))
        .ok_or_else(|| {
            Error::usage(
                "no config directory is known for this user: pass --config FILE or set PORTCULLIS_CONFIG",
            )
        })
}

/// The stored configuration; `None` when there is no file yet.
pub fn load(path: &Path) -> Result<Option<Config>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::file(path, "read", e)),
    };
    serde_json::from_str(&text).map(Some).map_err(|e| {
        Error::file(
            path,
            "read",
            format!("not a portcullis config ({e}); run `portcullis login` again"),
        )
    })
}

/// Writes the file atomically (a fresh 0600 file renamed over the old one), so the token is
/// never readable by others, not even for a moment.
pub fn save(path: &Path, config: &Config) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir).map_err(|e| Error::file(dir, "create the directory", e))?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut f = crate::files::create_private(&tmp)?;
        let mut text = serde_json::to_string_pretty(config).unwrap_or_default();
        text.push('\n');
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::file(path, "write", e));
    }
    Ok(())
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Removes the stored configuration (`logout`); true when there was one.
pub fn remove(path: &Path) -> Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::file(path, "remove", e)),
    }
}

/// A server URL as the CLI accepts it: `https://host[:port][/path]`, or `http://` to this
/// machine only (localhost, 127.0.0.0/8, ::1) for development. No credentials, query or
/// fragment. Returned without a trailing slash.
pub fn check_server(raw: &str) -> Result<String> {
    let raw = raw.trim();
    let url = url::Url::parse(raw).map_err(|e| {
        Error::usage(format!(
            "the server URL {raw:?} is not a URL ({e}); example: https://auth.example.com"
        ))
    })?;
    let host = url.host();
    let local = match &host {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if local => {}
        "http" => {
            return Err(Error::usage(format!(
                "refusing plain http:// to {}: the admin token would cross the network unencrypted; use https:// (http:// is for localhost only)",
                url.host_str().unwrap_or("")
            )))
        }
        s => return Err(Error::usage(format!("the server URL must be https:// (not {s}:)"))),
    }
    if host.is_none() {
        return Err(Error::usage("the server URL has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::usage(
            "the server URL must not contain credentials; use `portcullis login`",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::usage("the server URL must not have a query or fragment"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// The server and token a command uses. The server: the flag or `PORTCULLIS_SERVER`, else the
/// stored one. The token: `PORTCULLIS_TOKEN`, else the stored one — but only for the stored
/// server, never sent to another one named on the command line.
pub fn resolve(
    server_override: Option<&str>,
    token_override: Option<&str>,
    stored: Option<&Config>,
) -> Result<(String, Option<String>)> {
    let server = match (server_override, stored) {
        (Some(s), _) => check_server(s)?,
        (None, Some(c)) => check_server(&c.server)?,
        (None, None) => return Err(Error::usage(
            "no server: run `portcullis login --server https://…` or pass --server / set PORTCULLIS_SERVER",
        )),
    };
    let token = match (token_override.filter(|t| !t.is_empty()), stored) {
        (Some(t), _) => Some(t.to_owned()),
        (None, Some(c)) if check_server(&c.server).ok().as_deref() == Some(server.as_str()) => {
            Some(c.token.clone())
        }
        _ => None,
    };
    Ok((server, token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_http_only_to_this_machine() {
        assert_eq!(
            check_server("https://auth.example.com/").unwrap(),
            "https://auth.example.com"
        );
        assert_eq!(
            check_server(" https://a.example:8443/base/ ").unwrap(),
            "https://a.example:8443/base"
        );
        for ok in [
            "http://localhost:8787",
            "http://127.0.0.1:1",
            "http://127.9.9.9",
            "http://[::1]:8787",
            "http://LOCALHOST",
        ] {
            assert!(check_server(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://auth.example.com",
            "http://10.0.0.1",
            "http://localhost.example.com",
            "http://127.0.0.1.nip.io",
            "ftp://auth.example.com",
            "auth.example.com",
            "https://user:pw@auth.example.com",
            "https://auth.example.com/?x=1",
            "https://auth.example.com/#f",
            "",
        ] {
            let e = check_server(bad).unwrap_err();
            assert_eq!(e.exit_code(), crate::error::EXIT_USAGE, "{bad}");
        }
        assert!(check_server("http://auth.example.com")
            .unwrap_err()
            .to_string()
            .contains("localhost only"));
    }

    #[test]
    fn the_stored_token_goes_only_to_the_stored_server() {
        let c = Config {
            server: "https://a.example".into(),
            token: "t".into(),
        };
        assert_eq!(
            resolve(None, None, Some(&c)).unwrap(),
            ("https://a.example".into(), Some("t".into()))
        );
        assert_eq!(
            resolve(Some("https://a.example/"), None, Some(&c))
                .unwrap()
                .1
                .as_deref(),
            Some("t")
        );
        assert_eq!(
            resolve(Some("https://b.example"), None, Some(&c)).unwrap().1,
            None
        );
        assert_eq!(
            resolve(Some("https://b.example"), Some("env"), Some(&c))
                .unwrap()
                .1
                .as_deref(),
            Some("env")
        );
        assert_eq!(resolve(None, Some(""), Some(&c)).unwrap().1.as_deref(), Some("t"));
        assert_eq!(resolve(None, None, None).unwrap_err().exit_code(), 1);
        let bad = Config {
            server: "http://evil.example".into(),
            token: "t".into(),
        };
        assert!(resolve(None, None, Some(&bad)).is_err());
    }

    #[test]
    fn saved_with_mode_0600_atomically_and_read_back() {
        let dir = std::env::temp_dir().join(format!("portcullis-cli-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let p = dir.join("sub").join("config.json");
        assert_eq!(load(&p).unwrap(), None);
        let c = Config {
            server: "https://a.example".into(),
            token: "secret".into(),
        };
        save(&p, &c).unwrap();
        save(&p, &c).unwrap(); // over an existing file
        assert_eq!(load(&p).unwrap(), Some(c));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
            assert_eq!(
                std::fs::metadata(p.parent().unwrap())
                    .unwrap()
                    .permissions()
                    .mode()
                    & 0o777,
                0o700
            );
        }
        std::fs::write(&p, "{not json").unwrap();
        assert_eq!(load(&p).unwrap_err().exit_code(), crate::error::EXIT_FILE);
        assert!(remove(&p).unwrap());
        assert!(!remove(&p).unwrap());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
