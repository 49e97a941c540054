//! The backup format (issue 19): what `GET /admin/export` writes and `POST /admin/import`
//! reads, as pure rules over bytes. The records' meaning (an app's fields, a password hash) is
//! checked by `admin::backup` with the rules every creation uses; here: the frame.
//!
//! A file is NDJSON (one JSON object a line, UTF-8):
//!
//! ```text
//! {"format":"portcullis-export","version":1,"tenant":"acme","issuer":"https://…","exported_at":1796000000}
//! {"kind":"app","tenant":"acme","id":"<client id>","data":{…},"sha256":"<hex of the data's JSON>"}
//! {"kind":"person",…}  {"kind":"operator",…}  {"kind":"settings",…}
//! {"end":{"records":3}}
//! ```
//!
//! An import request is the header line and at most [`MAX_RECORDS`] record lines (the CLI sends
//! a file in such batches; the trailer is the CLI's check that the file is whole). The header
//! must name this format, a version this server reads ([`VERSION`]) and the importing tenant;
//! each record must name that tenant too, carry a checksum that matches its data (a damaged or
//! hand-edited record is refused, not guessed at), an id of its kind's form, and appear once.

use crate::error::{Error, ErrorCode, Result};
use crate::util::sha256_hex;
use serde::{Deserialize, Serialize};

/// The `format` every header names.
pub const FORMAT: &str = "portcullis-export";
/// The one version this server writes and reads.
pub const VERSION: u32 = 1;
/// Record lines per import request (each costs a few object calls; a request's subrequest
/// budget must hold them).
pub const MAX_RECORDS: usize = 50;
/// One line's bytes at most (a record of an app with ten RSA keys is ~5 KB).
pub const MAX_LINE: usize = 32 * 1024;

/// The tenant's word in a file: `default`, or the organisation's label.
pub fn tenant_word(label: Option<&str>) -> String {
    label.unwrap_or("default").to_owned()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub format: String,
    pub version: u32,
    pub tenant: String,
    #[serde(default)]
    pub issuer: String,
    #[serde(default)]
    pub exported_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Settings,
    Operator,
    App,
    Person,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Settings => "settings",
            Kind::Operator => "operator",
            Kind::App => "app",
            Kind::Person => "person",
        }
    }
}

/// One record line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    pub kind: Kind,
    pub tenant: String,
    pub id: String,
    pub data: serde_json::Value,
    pub sha256: String,
}

/// The checksum of a record's data: SHA-256 (hex) of its JSON as serde_json writes it.
pub fn digest(data: &serde_json::Value) -> String {
    sha256_hex(&data.to_string())
}

impl Line {
    /// A record of `kind` for `tenant`, its checksum computed.
    pub fn new(kind: Kind, tenant: &str, id: &str, data: serde_json::Value) -> Line {
        Line {
            kind,
            tenant: tenant.to_owned(),
            id: id.to_owned(),
            sha256: digest(&data),
            data,
        }
    }
}

/// A well-formed id of its kind: client ids and user ids are base64url-ish tokens, operators'
/// ids too, settings' id is the tenant's word.
pub fn id_ok(kind: Kind, id: &str) -> bool {
    let token = |max: usize| {
        !id.is_empty()
            && id.len() <= max
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    match kind {
        Kind::App => crate::model::valid_client_id(id),
        Kind::Person => token(128) && !id.starts_with("bot_"),
        Kind::Operator => token(128),
        Kind::Settings => token(63),
    }
}

/// What became of one record line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// 1-based line number in the request (the header is line 1).
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub error: String,
}

/// A parsed import request: its header, and each record line either read or refused.
#[derive(Debug)]
pub struct Batch {
    pub header: Header,
    pub lines: Vec<std::result::Result<(usize, Line), Refusal>>,
}

/// Checks a header against the importing tenant: the format, the version, the tenant.
pub fn check_header(h: &Header, tenant: &str) -> Result<()> {
    if h.format != FORMAT {
        return Err(Error::invalid_request(format!(
            "not a Portcullis export (format must be \"{FORMAT}\")"
        )));
    }
    if h.version != VERSION {
        return Err(Error::invalid_request(format!(
            "export format version {} is not one this server reads (it reads version {VERSION})",
            h.version
        )));
    }
    if h.tenant != tenant {
        return Err(Error::new(
            ErrorCode::AccessDenied,
            format!(
                "this export is of tenant '{}', not of this one ('{tenant}'): import it on its own organisation's host",
                short(&h.tenant)
            ),
        ));
    }
    Ok(())
}

fn short(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(64).collect()
}

/// Reads an import request's body for `tenant`. The request as a whole is refused (an error)
/// when it is not UTF-8, has no valid header, names another format, version or tenant, or holds
/// more than [`MAX_RECORDS`] records; a bad record line is refused alone (its [`Refusal`]).
pub fn parse(body: &[u8], tenant: &str) -> Result<Batch> {
    let text = std::str::from_utf8(body).map_err(|_| Error::invalid_request("the body is not UTF-8"))?;
    let mut lines = text
        .split('\n')
        .enumerate()
        .map(|(i, l)| (i.saturating_add(1), l.strip_suffix('\r').unwrap_or(l)));
    let (_, first) = lines.find(|(_, l)| !l.trim().is_empty()).ok_or_else(|| {
        Error::invalid_request("the body is empty: send the export's header line and records")
    })?;
    let header: Header = serde_json::from_str(first).map_err(|_| {
        Error::invalid_request("the first line is not an export header (format, version, tenant)")
    })?;
    check_header(&header, tenant)?;
    let mut out = Vec::new();
    let mut seen: std::collections::HashSet<(Kind, String)> = std::collections::HashSet::new();
    for (n, raw) in lines {
        if raw.trim().is_empty() {
            continue;
        }
        if out.len() >= MAX_RECORDS {
            return Err(Error::new(
                ErrorCode::PayloadTooLarge,
                format!("at most {MAX_RECORDS} records per import request; send the rest in another"),
            ));
        }
        out.push(read_line(n, raw, tenant, &mut seen));
    }
    Ok(Batch { header, lines: out })
}

fn read_line(
    n: usize,
    raw: &str,
    tenant: &str,
    seen: &mut std::collections::HashSet<(Kind, String)>,
) -> std::result::Result<(usize, Line), Refusal> {
    let refuse = |kind: Option<Kind>, id: Option<&str>, why: &str| Refusal {
        line: n,
        kind,
        id: id.map(short),
        error: why.to_owned(),
    };
    if raw.len() > MAX_LINE {
        return Err(refuse(None, None, "the line is too long"));
    }
    let line: Line = serde_json::from_str(raw)
        .map_err(|_| refuse(None, None, "not a record (kind, tenant, id, data, sha256)"))?;
    let (kind, id) = (Some(line.kind), Some(line.id.as_str()));
    if line.tenant != tenant {
        return Err(refuse(kind, id, "a record of another tenant"));
    }
    if !id_ok(line.kind, &line.id) {
        return Err(refuse(kind, None, "not an id of this kind of record"));
    }
    if !line.data.is_object() {
        return Err(refuse(kind, id, "the record's data is not an object"));
    }
    let expected = digest(&line.data);
    if !crate::util::ct_eq(expected.as_bytes(), line.sha256.as_bytes()) {
        return Err(refuse(
            kind,
            id,
            "the record's checksum does not match its data (changed or damaged)",
        ));
    }
    if !seen.insert((line.kind, line.id.clone())) {
        return Err(refuse(kind, id, "this record appears twice in the request"));
    }
    Ok((n, line))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn header(tenant: &str) -> String {
        serde_json::to_string(&Header {
            format: FORMAT.into(),
            version: VERSION,
            tenant: tenant.into(),
            issuer: "https://a.example".into(),
            exported_at: 1,
        })
        .unwrap()
    }

    fn rec(kind: Kind, tenant: &str, id: &str) -> String {
        serde_json::to_string(&Line::new(kind, tenant, id, json!({"x": id, "n": 1}))).unwrap()
    }

    fn body(lines: &[String]) -> Vec<u8> {
        lines.join("\n").into_bytes()
    }

    #[test]
    fn a_written_batch_reads_back() {
        let app = "c".repeat(32);
        let b = body(&[
            header("acme"),
            rec(Kind::App, "acme", &app),
            rec(Kind::Person, "acme", "u1"),
            String::new(),
        ]);
        let batch = parse(&b, "acme").unwrap();
        assert_eq!(batch.header.tenant, "acme");
        let ok: Vec<_> = batch
            .lines
            .iter()
            .map(|l| l.as_ref().unwrap().1.id.clone())
            .collect();
        assert_eq!(ok, [app, "u1".to_owned()]);
        // CRLF line ends read the same.
        let crlf = String::from_utf8(b).unwrap().replace('\n', "\r\n");
        assert_eq!(
            parse(crlf.as_bytes(), "acme")
                .unwrap()
                .lines
                .iter()
                .filter(|l| l.is_ok())
                .count(),
            2
        );
    }

    #[test]
    fn the_request_is_refused_for_format_version_tenant_encoding_and_size() {
        let err = |b: &[u8], t: &str| parse(b, t).unwrap_err();
        assert!(err(b"\xff\xfe{}", "default").description.contains("UTF-8"));
        assert!(err(b"", "default").description.contains("empty"));
        assert!(err(b"{\"format\":", "default").description.contains("header"));
        let v2 = header("default").replace("\"version\":1", "\"version\":2");
        let e = err(v2.as_bytes(), "default");
        assert!(e.description.contains("version 2"), "{}", e.description);
        let other = err(header("default").replace(FORMAT, "other").as_bytes(), "default");
        assert!(other.description.contains("not a Portcullis export"));
        let e = err(header("acme").as_bytes(), "beta");
        assert_eq!(e.code, ErrorCode::AccessDenied);
        // Unknown header fields are refused, not ignored.
        let extra = header("default").replace("{", "{\"signed\":true,");
        assert!(parse(extra.as_bytes(), "default").is_err());
        let mut many = vec![header("default")];
        for i in 0..=MAX_RECORDS {
            many.push(rec(Kind::Person, "default", &format!("u{i}")));
        }
        assert_eq!(err(&body(&many), "default").code, ErrorCode::PayloadTooLarge);
        many.pop();
        assert_eq!(parse(&body(&many), "default").unwrap().lines.len(), MAX_RECORDS);
    }

    #[test]
    fn bad_records_are_refused_one_by_one() {
        let good = rec(Kind::Person, "acme", "u1");
        let tampered = good.replace("\"n\":1", "\"n\":2");
        let foreign = rec(Kind::Person, "beta", "u2");
        let bad_id = rec(Kind::App, "acme", "short");
        let bot = rec(Kind::Person, "acme", "bot_x");
        let truncated = good.get(..good.len() - 5).unwrap().to_owned();
        let unknown_field = good.replacen("{", "{\"extra\":1,", 1);
        let not_object = serde_json::to_string(&Line::new(Kind::Person, "acme", "u3", json!([1]))).unwrap();
        let long = serde_json::to_string(&Line::new(
            Kind::Person,
            "acme",
            "u4",
            json!({"x": "a".repeat(MAX_LINE)}),
        ))
        .unwrap();
        let b = body(&[
            header("acme"),
            good.clone(),
            tampered,
            foreign,
            bad_id,
            bot,
            truncated,
            unknown_field,
            not_object,
            long,
            good,
        ]);
        let batch = parse(&b, "acme").unwrap();
        let why: Vec<String> = batch
            .lines
            .iter()
            .map(|l| match l {
                Ok(_) => "ok".to_owned(),
                Err(r) => r.error.clone(),
            })
            .collect();
        assert_eq!(why[0], "ok");
        assert!(why[1].contains("checksum"), "{why:?}");
        assert!(why[2].contains("another tenant"));
        assert!(why[3].contains("not an id"));
        assert!(why[4].contains("not an id"));
        assert!(why[5].contains("not a record"));
        assert!(why[6].contains("not a record"));
        assert!(why[7].contains("not an object"));
        assert!(why[8].contains("too long"));
        assert!(why[9].contains("twice"));
        // Line numbers count the header as line 1.
        assert_eq!(batch.lines[1].as_ref().unwrap_err().line, 3);
    }
}
