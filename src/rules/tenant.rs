//! Which tenant a request is for, from the host it was sent to (`ORG_DOMAIN`).
//!
//! Without `ORG_DOMAIN` every host is the default tenant (one tenant per deployment). With it,
//! `ORG_DOMAIN` itself is the default (platform) tenant, `<label>.<ORG_DOMAIN>` is the
//! organisation `<label>` (one DNS label: 1-63 of `[a-z0-9-]`, no leading or trailing `-`, not
//! punycode), and any other host is no tenant at all. Hosts compare case-insensitively, ports
//! are ignored.

use crate::model::Tenant;

/// The tenant of a request to `host` (`name`, `name:port` or `[v6]:port`); `None` when the
/// host names no tenant of this deployment.
pub fn resolve(org_domain: Option<&str>, host: &str) -> Option<Tenant> {
    let Some(domain) = org_domain else {
        return Some(Tenant::Default);
    };
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let host = strip_port(host).trim_end_matches('.').to_ascii_lowercase();
    if domain.is_empty() || host.is_empty() {
        return None;
    }
    if host == domain {
        return Some(Tenant::Default);
    }
    let label = host.strip_suffix(&domain)?.strip_suffix('.')?;
    is_label(label).then(|| Tenant::Org(label.to_owned()))
}

/// The host of an origin (`scheme://host[:port]`), or the origin itself when it has no scheme.
pub fn host_of(origin: &str) -> &str {
    origin.split_once("://").map_or(origin, |(_, rest)| rest).trim_end_matches('/')
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // An IPv6 literal is never a tenant's host; keep it whole so it matches nothing.
        return host;
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// The most custom domains one organisation maps to itself.
pub const MAX_DOMAINS: usize = 10;

/// A host that may be an organisation's custom domain (Cloudflare for SaaS custom hostnames
/// arrive the same way: the worker reads the host), normalised: lowercase, no port, no
/// trailing dot. At least two DNS labels of `[a-z0-9-]` (no punycode), at most 253 characters,
/// not an IP address, and neither `ORG_DOMAIN` nor a name under it (those are the platform's).
pub fn custom_domain(org_domain: &str, host: &str) -> Option<String> {
    let domain = org_domain.trim_end_matches('.').to_ascii_lowercase();
    let host = strip_port(host).trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    let valid = host.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| is_label(l))
        // The last label of a name is never all digits (RFC 3696 §2): this also refuses IPv4.
        && labels.last().is_some_and(|l| !l.bytes().all(|b| b.is_ascii_digit()))
        && host != domain
        && !host.ends_with(&format!(".{domain}"));
    valid.then_some(host)
}

/// One DNS label an organisation may be named by.
pub fn is_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
        && !label.starts_with("xn--")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(l: &str) -> Option<Tenant> {
        Some(Tenant::Org(l.to_owned()))
    }

    #[test]
    fn without_org_domain_every_host_is_the_default_tenant() {
        for host in ["auth.example.com", "acme.auth.example.com", "", "[::1]:8787", "x:1"] {
            assert_eq!(resolve(None, host), Some(Tenant::Default), "{host}");
        }
    }

    #[test]
    fn hosts_resolve_to_their_tenant() {
        let d = Some("auth.example.com");
        let long = "a".repeat(63);
        let too_long = "a".repeat(64);
        let table: Vec<(String, Option<Tenant>)> = vec![
            ("auth.example.com".into(), Some(Tenant::Default)),
            ("AUTH.Example.COM".into(), Some(Tenant::Default)),
            ("auth.example.com:443".into(), Some(Tenant::Default)),
            ("auth.example.com.".into(), Some(Tenant::Default)),
            ("acme.auth.example.com".into(), org("acme")),
            ("ACME.auth.example.com:8443".into(), org("acme")),
            ("a-1.auth.example.com".into(), org("a-1")),
            ("9.auth.example.com".into(), org("9")),
            (format!("{long}.auth.example.com"), org(&long)),
            (format!("{too_long}.auth.example.com"), None),
            ("x.acme.auth.example.com".into(), None),
            (".auth.example.com".into(), None),
            ("-acme.auth.example.com".into(), None),
            ("acme-.auth.example.com".into(), None),
            ("ac_me.auth.example.com".into(), None),
            ("ac me.auth.example.com".into(), None),
            ("xn--bcher-kva.auth.example.com".into(), None),
            ("bücher.auth.example.com".into(), None),
            ("acmeauth.example.com".into(), None),
            ("example.com".into(), None),
            ("auth.example.com.evil.test".into(), None),
            ("evil.test".into(), None),
            ("".into(), None),
            (":8787".into(), None),
            ("[::1]:8787".into(), None),
            ("127.0.0.1:8787".into(), None),
        ];
        for (host, want) in table {
            assert_eq!(resolve(d, &host), want, "{host}");
        }
    }

    #[test]
    fn custom_domains_are_plain_host_names_outside_org_domain() {
        let d = "auth.example.com";
        let long = format!("{}.com", "a.".repeat(125));
        for (host, want) in [
            ("login.acme.com", Some("login.acme.com")),
            ("LOGIN.Acme.com.:443", Some("login.acme.com")),
            ("acme.com", Some("acme.com")),
            ("auth.example.com", None),
            ("acme.auth.example.com", None),
            ("x.acme.auth.example.com", None),
            ("com", None),
            ("127.0.0.1", None),
            ("127.0.0.1:8787", None),
            ("[::1]", None),
            ("a..com", None),
            ("-a.com", None),
            ("xn--bcher-kva.com", None),
            ("bücher.com", None),
            ("a_b.com", None),
            ("", None),
            (long.as_str(), None),
        ] {
            assert_eq!(custom_domain(d, host).as_deref(), want, "{host}");
        }
        // Evil look-alikes of the platform's domain are ordinary names, not the platform's.
        assert_eq!(custom_domain(d, "auth.example.com.evil.test").as_deref(), Some("auth.example.com.evil.test"));
        assert_eq!(custom_domain(d, "evilauth.example.com").as_deref(), Some("evilauth.example.com"));
    }

    #[test]
    fn localhost_serves_tenants_for_local_development() {
        let d = Some("localhost");
        assert_eq!(resolve(d, "localhost:8787"), Some(Tenant::Default));
        assert_eq!(resolve(d, "acme.localhost:8787"), org("acme"));
        assert_eq!(resolve(d, "beta.localhost"), org("beta"));
        assert_eq!(resolve(d, "a.b.localhost:8787"), None);
        assert_eq!(resolve(d, "127.0.0.1:8787"), None);
        assert_eq!(host_of("http://acme.localhost:8787"), "acme.localhost:8787");
        assert_eq!(host_of("acme.localhost"), "acme.localhost");
    }
}
