//! `portcullis export` and `portcullis import`: a tenant's backup as one NDJSON file.
//!
//! - `GET /admin/export?cursor=` → `{"header": {...}, "records": [...], "next_cursor": …}`, page
//!   by page; the file is the header line, one line per record, and a trailer
//!   `{"end":{"records":N}}` (so a truncated file is noticed before anything is sent).
//! - `POST /admin/import[?dry_run=true]` (`application/x-ndjson`): the header line and at most
//!   [`BATCH_RECORDS`] records (and [`BATCH_BYTES`]) per request →
//!   `{"results": [...], "refused": [...], "counts": {...}}`.
//!
//! What is and is not in a backup: docs/DEPLOY.md, "Backups".

use crate::client::{Body, Client};
use crate::error::{Error, Result};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;

/// Records per import request (the server's limit, `rules::backup::MAX_RECORDS`).
const BATCH_RECORDS: usize = 50;
/// Bytes per import request, under the server's 64 KiB body limit.
const BATCH_BYTES: usize = 60 * 1024;
/// An export file larger than this is not one.
const MAX_FILE: u64 = 1 << 30;
/// Pages followed at most (a server that keeps answering a cursor is not followed for ever).
const MAX_PAGES: usize = 1_000_000;

/// Writes every page of the export into `path` (a new file, mode 0600); a failure part-way
/// removes it, so no partial backup is left looking whole.
pub fn export(c: &Client, path: &Path, json: bool, out: &mut String) -> Result<()> {
    let mut file = crate::files::create_private(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::file(
                path,
                "create",
                "the file exists (a backup is never written over another)",
            )
        } else {
            Error::file(path, "create", e)
        }
    })?;
    let written = write_pages(c, path, &mut file);
    let counts = match written {
        Ok(counts) => counts,
        Err(e) => {
            drop(file);
            let _ = std::fs::remove_file(path);
            return Err(e);
        }
    };
    let total: u64 = counts.values().filter_map(Value::as_u64).sum();
    let v = json!({"file": path, "records": total, "counts": counts});
    crate::emit(out, json, &v, |_| {
        format!(
            "exported {total} records to {} ({})\n",
            path.display(),
            ["app", "person", "operator", "settings"]
                .iter()
                .map(|k| format!("{} {k}", counts.get(*k).and_then(Value::as_u64).unwrap_or(0)))
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    crate::note(
        json,
        "keep it safe: it holds password and secret hashes. Not in it: signing keys (tokens issued before a restore stop verifying), TOTP secrets, sessions, grants, tokens (docs/DEPLOY.md, Backups)",
    );
    Ok(())
}

fn write_pages(c: &Client, path: &Path, file: &mut std::fs::File) -> Result<serde_json::Map<String, Value>> {
    let mut counts = serde_json::Map::new();
    let mut cursor: Option<String> = None;
    let mut seen = std::collections::HashSet::new();
    let mut total = 0u64;
    let mut buf = std::io::BufWriter::new(file);
    let werr = |e: std::io::Error| Error::file(path, "write", e);
    for page in 0..MAX_PAGES {
        let v = c
            .admin(
                "GET",
                &["admin", "export"],
                &[("cursor", cursor.clone())],
                Body::None,
            )?
            .unwrap_or(Value::Null);
        let (Some(header), Some(records)) = (v.get("header"), v.get("records").and_then(Value::as_array))
        else {
            return Err(Error::Network(format!(
                "{} answered an export page without header and records; is it a Portcullis server of this version?",
                c.server
            )));
        };
        if page == 0 {
            writeln!(buf, "{header}").map_err(werr)?;
        }
        for r in records {
            let kind = r.get("kind").and_then(Value::as_str).unwrap_or("?").to_owned();
            let n = counts.get(&kind).and_then(Value::as_u64).unwrap_or(0);
            counts.insert(kind, (n + 1).into());
            total += 1;
            writeln!(buf, "{r}").map_err(werr)?;
        }
        match v
            .get("next_cursor")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            Some(n) if seen.insert(n.to_owned()) => cursor = Some(n.to_owned()),
            Some(_) => return Err(Error::Network(format!("{} repeated a cursor", c.server))),
            None => {
                writeln!(buf, "{}", json!({"end": {"records": total}})).map_err(werr)?;
                buf.flush().map_err(werr)?;
                buf.get_ref().sync_all().map_err(werr)?;
                return Ok(counts);
            }
        }
    }
    Err(Error::Network(format!("{} kept answering cursors", c.server)))
}

/// A checked export file: its header line and its record lines with their line numbers.
#[derive(Debug)]
pub struct File {
    pub header: String,
    pub records: Vec<(usize, String)>,
}

/// Reads and checks an export file: UTF-8, a header line, record lines, and the trailer with
/// their count (a truncated or cut file is refused here, before anything is sent).
pub fn read(path: &Path) -> Result<File> {
    let meta = std::fs::metadata(path).map_err(|e| Error::file(path, "read", e))?;
    if !meta.is_file() {
        return Err(Error::file(path, "read", "not a file"));
    }
    if meta.len() > MAX_FILE {
        return Err(Error::file(path, "read", "larger than 1 GiB: not an export"));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::file(path, "read", e))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::file(path, "read", "it is not UTF-8 text: not an export file"))?;
    let bad = |why: String| Error::file(path, "import", why);
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or_else(|| bad("the file is empty".into()))?;
    let h: Value =
        serde_json::from_str(header).map_err(|_| bad("its first line is not an export header".into()))?;
    if h.get("format").and_then(Value::as_str) != Some("portcullis-export") {
        return Err(bad("its first line is not a Portcullis export header".into()));
    }
    let mut records = Vec::new();
    let mut end = None;
    for (i, l) in lines {
        if end.is_some() {
            return Err(bad(format!("line {}: lines after the end marker", i + 1)));
        }
        let v: Value = serde_json::from_str(l).map_err(|_| {
            bad(format!(
                "line {} is not JSON: the file is damaged or truncated",
                i + 1
            ))
        })?;
        match v.get("end") {
            Some(e) => end = Some(e.get("records").and_then(Value::as_u64)),
            None => records.push((i + 1, l.to_owned())),
        }
        if l.len() + header.len() + 2 > BATCH_BYTES {
            return Err(bad(format!(
                "line {} is longer than an import request may be",
                i + 1
            )));
        }
    }
    match end {
        None => Err(bad(
            "no end marker: the file is truncated (export it again)".into()
        )),
        Some(n) if n != Some(records.len() as u64) => Err(bad(format!(
            "the end marker counts {} records, the file holds {}: it is damaged",
            n.map_or("?".into(), |n| n.to_string()),
            records.len()
        ))),
        Some(_) => Ok(File {
            header: header.to_owned(),
            records,
        }),
    }
}

/// Sends the file in batches and reports every record's result; records refused or in
/// conflict make the exit code 2 (the server's answer), after the whole file was sent.
pub fn import(c: &Client, path: &Path, dry_run: bool, json: bool, out: &mut String) -> Result<()> {
    let f = read(path)?;
    let mut counts = serde_json::Map::new();
    let mut results = Vec::new();
    let mut batch: Vec<&(usize, String)> = Vec::new();
    let mut size = f.header.len() + 1;
    let mut send = |batch: &mut Vec<&(usize, String)>| -> Result<()> {
        let mut body = f.header.clone();
        for (_, l) in batch.iter() {
            body.push('\n');
            body.push_str(l);
        }
        let q = [("dry_run", dry_run.then(|| "true".to_owned()))];
        let v = c
            .admin(
                "POST",
                &["admin", "import"],
                &q,
                Body::Raw("application/x-ndjson", body.as_bytes()),
            )?
            .unwrap_or(Value::Null);
        for (k, n) in v.get("counts").and_then(Value::as_object).into_iter().flatten() {
            let had = counts.get(k).and_then(Value::as_u64).unwrap_or(0);
            counts.insert(k.clone(), (had + n.as_u64().unwrap_or(0)).into());
        }
        for list in ["results", "refused"] {
            for r in v.get(list).and_then(Value::as_array).into_iter().flatten() {
                let mut r = r.clone();
                // The request's line n (the header is 1) is the batch's record n - 2.
                let line = r
                    .get("line")
                    .and_then(Value::as_u64)
                    .and_then(|n| batch.get((n as usize).checked_sub(2)?))
                    .map(|(l, _)| *l);
                if let (Some(o), Some(l)) = (r.as_object_mut(), line) {
                    o.insert("line".into(), l.into());
                }
                results.push(r);
            }
        }
        batch.clear();
        Ok(())
    };
    for rec in &f.records {
        if batch.len() >= BATCH_RECORDS || size + rec.1.len() + 1 > BATCH_BYTES {
            send(&mut batch)?;
            size = f.header.len() + 1;
        }
        size += rec.1.len() + 1;
        batch.push(rec);
    }
    if !batch.is_empty() || f.records.is_empty() {
        send(&mut batch)?;
    }
    results.sort_by_key(|r| r.get("line").and_then(Value::as_u64).unwrap_or(0));
    let n = |k: &str| counts.get(k).and_then(Value::as_u64).unwrap_or(0);
    let (refused, conflict) = (n("refused"), n("conflict"));
    let v = json!({"file": path, "dry_run": dry_run, "counts": counts, "results": results});
    crate::emit(out, json, &v, |_| {
        let mut s = format!(
            "{} {}: {} {}, {} updated, {} unchanged, {conflict} conflicts, {refused} refused\n",
            if dry_run {
                "checked (dry run, nothing changed)"
            } else {
                "imported"
            },
            path.display(),
            n("created"),
            if dry_run { "to create" } else { "created" },
            n("updated"),
            n("unchanged"),
        );
        for r in &results {
            let word = r.get("result").and_then(Value::as_str).unwrap_or("?");
            let detail = r.get("detail").and_then(Value::as_str);
            if matches!(word, "created" | "unchanged" | "would_create") && detail.is_none() {
                continue;
            }
            s.push_str(&format!(
                "  line {}: {} {} {word}{}\n",
                crate::output::cell(r.get("line")),
                crate::output::cell(r.get("kind")),
                crate::output::cell(r.get("id")),
                detail.map(|d| format!(": {d}")).unwrap_or_default()
            ));
        }
        s
    });
    if refused + conflict > 0 {
        return Err(Error::Partial(format!(
            "{refused} records refused and {conflict} in conflict (listed above); nothing else was changed for them"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &[u8]) -> Result<File> {
        let dir =
            std::env::temp_dir().join(format!("portcullis-backup-{}-{}", std::process::id(), text.len()));
        std::fs::write(&dir, text).unwrap();
        let r = read(&dir);
        let _ = std::fs::remove_file(&dir);
        r
    }

    const H: &str = r#"{"format":"portcullis-export","version":1,"tenant":"default"}"#;

    #[test]
    fn a_whole_file_reads_and_a_damaged_one_does_not() {
        let ok =
            format!("{H}\n{{\"kind\":\"app\"}}\n{{\"kind\":\"person\"}}\n{{\"end\":{{\"records\":2}}}}\n");
        let f = file(ok.as_bytes()).unwrap();
        assert_eq!(f.records.iter().map(|r| r.0).collect::<Vec<_>>(), [2, 3]);
        let e = |t: &str| file(t.as_bytes()).unwrap_err().to_string();
        assert!(e(&format!("{H}\n{{\"kind\":\"app\"}}\n")).contains("truncated"));
        assert!(e(&format!("{H}\n{{\"kind\":\"app\"}}\n{{\"kind\":")).contains("line 3"));
        assert!(e(&format!("{H}\n{{\"end\":{{\"records\":2}}}}\n")).contains("damaged"));
        assert!(e("").contains("empty"));
        assert!(e("{\"format\":\"other\"}\n").contains("header"));
        assert!(file(b"\xff\xfe\n").unwrap_err().to_string().contains("UTF-8"));
        assert_eq!(file(b"\xff").unwrap_err().exit_code(), 4);
    }
}
