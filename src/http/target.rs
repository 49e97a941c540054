//! The origin, path and query of a request URL as the runtime hands it over (`request.url`,
//! already parsed and serialised by the WHATWG URL rules), read without parsing it again: a
//! serialised `http`/`https` URL is `scheme://[userinfo@]host[:port]/path[?query][#fragment]`,
//! with a non-empty path, the default port left out, the host lower-cased, and `?` and `#`
//! percent-encoded inside the path (the same reading workers-rs' `path_from_url` relies on).
//! Anything else (another scheme, no `/` after the host) answers `None`, and the caller parses.

/// Parts of a request URL, borrowed from it.
#[derive(Debug, PartialEq, Eq)]
pub struct Target<'a> {
    /// `scheme://host[:port]`, what `url::Url::origin().ascii_serialization()` gives.
    pub origin: String,
    pub path: &'a str,
    /// Without the `?`; empty when there is none.
    pub query: &'a str,
}

pub fn split(url: &str) -> Option<Target<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let path_at = rest.find('/')?;
    let authority = rest.get(..path_at)?;
    if authority.contains(['?', '#']) {
        return None;
    }
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.is_empty() {
        return None;
    }
    let tail = rest.get(path_at..)?;
    let tail = tail.split_once('#').map_or(tail, |(t, _)| t);
    let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
    let mut origin = String::with_capacity(scheme.len() + 3 + host_port.len());
    origin.push_str(scheme);
    origin.push_str("://");
    origin.push_str(host_port);
    Some(Target { origin, path, query })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What convert_request took from the url crate before.
    fn parsed(raw: &str) -> Target<'static> {
        let u = url::Url::parse(raw).unwrap();
        let path: &'static str = Box::leak(u.path().to_owned().into_boxed_str());
        let query: &'static str = Box::leak(u.query().unwrap_or("").to_owned().into_boxed_str());
        Target {
            origin: u.origin().ascii_serialization(),
            path,
            query,
        }
    }

    #[test]
    fn serialised_urls_split_as_the_url_crate_reads_them() {
        for raw in [
            "http://127.0.0.1:8787/.well-known/oauth-authorization-server",
            "https://auth.example.com/oauth/token",
            "https://auth.example.com/",
            "https://auth.example.com/oauth/authorize?client_id=a&state=x%20y&redirect_uri=https%3A%2F%2Fa%2Fcb",
            "https://auth.example.com/a?",
            "https://auth.example.com/a?b?c",
            "https://auth.example.com/a#frag",
            "https://auth.example.com/a?q=1#frag?x",
            "http://user:pass@example.com:8080/p%3Fq%23r?x=@/",
            "http://[::1]:8787/x/y/../z",
            "https://xn--bcher-kva.example/%E2%82%AC",
            "http://EXAMPLE.com:80/A/b/",
            "https://org.example.com:443/admin/apps/x",
        ] {
            // The runtime hands over serialised URLs: serialise first, as it does.
            let serialised = url::Url::parse(raw).unwrap().to_string();
            assert_eq!(split(&serialised), Some(parsed(&serialised)), "{serialised}");
        }
    }

    #[test]
    fn anything_else_is_left_to_the_parser() {
        for raw in ["ftp://example.com/a", "example.com/a", "http://example.com", "http:///a", "http://a?b/c"] {
            assert_eq!(split(raw), None, "{raw}");
        }
    }
}
