//! Cursor-paged listings (`{"<items>": [...], "next_cursor": …}`): one page, or every page.

use crate::args::Page;
use crate::client::{Body, Client};
use crate::error::{Error, Result};
use serde_json::Value;

pub struct Listing {
    pub key: &'static str,
    pub items: Vec<Value>,
    pub next_cursor: Option<String>,
}

impl Listing {
    pub fn to_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        m.insert(self.key.to_owned(), Value::Array(self.items.clone()));
        m.insert("next_cursor".to_owned(), self.next_cursor.clone().into());
        Value::Object(m)
    }
}

/// Pages followed at most with `--all` (a server that keeps answering a cursor is not followed
/// for ever).
const MAX_PAGES: usize = 10_000;

pub fn fetch(
    c: &Client,
    segments: &[&str],
    filters: Vec<(&'static str, Option<String>)>,
    key: &'static str,
    page: &Page,
) -> Result<Listing> {
    let mut items = Vec::new();
    let mut cursor = page.cursor.clone();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..MAX_PAGES {
        let mut q = filters.clone();
        q.push(("limit", page.limit.map(|l| l.to_string())));
        q.push(("cursor", cursor.clone()));
        let v = c.admin("GET", segments, &q, Body::None)?.unwrap_or(Value::Null);
        let got = v.get(key).and_then(Value::as_array).ok_or_else(|| {
            Error::Network(format!(
                "{} answered without a `{key}` list; is it a Portcullis server of this version?",
                c.server
            ))
        })?;
        items.extend(got.iter().cloned());
        let next = v
            .get("next_cursor")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        match next {
            Some(n) if page.all && seen.insert(n.clone()) => cursor = Some(n),
            Some(_) if page.all => return Err(Error::Network(format!("{} repeated a cursor", c.server))),
            next => {
                return Ok(Listing {
                    key,
                    items,
                    next_cursor: next,
                })
            }
        }
    }
    Ok(Listing {
        key,
        items,
        next_cursor: cursor,
    })
}
