//! The admin API calls of `users` and `audit`, in one place. Written against the shapes issue
//! 19 describes, before those endpoints were on main; adjust here if they land otherwise:
//!
//! - `GET /admin/users?cursor=&limit=` → `{"users": [...], "next_cursor": string|null}`
//! - `GET /admin/users/{id}` → the person
//! - `POST /admin/users/{id}/reset-password` → 202 and the person
//! - `POST /admin/users/{id}/disable` → the person (or 204)
//! - `DELETE /admin/users/{id}` → 204
//! - `GET /admin/audit?app=&person=&type=&since=&until=&cursor=&limit=` →
//!   `{"events": [...], "next_cursor": string|null}`

use crate::args::{AuditArgs, Page};
use crate::client::{Body, Client};
use crate::error::Result;
use crate::listing::{self, Listing};
use serde_json::Value;

/// The columns `users list` shows (fields missing from an item show as `-`).
pub const USER_COLUMNS: &[(&str, &str)] = &[
    ("ID", "id"),
    ("EMAIL", "email"),
    ("NAME", "name"),
    ("STATUS", "status"),
];
/// The columns `audit` shows.
pub const AUDIT_COLUMNS: &[(&str, &str)] = &[
    ("TIME", "time"),
    ("TYPE", "type"),
    ("ACTOR", "actor"),
    ("TARGET", "target"),
    ("OUTCOME", "outcome"),
];

pub fn list_users(c: &Client, page: &Page) -> Result<Listing> {
    listing::fetch(c, &["admin", "users"], vec![], "users", page)
}

pub fn get_user(c: &Client, id: &str) -> Result<Option<Value>> {
    c.admin("GET", &["admin", "users", id], &[], Body::None)
}

/// `POST /admin/users/{id}/reset-password` → 202 and the person.
pub fn reset_user(c: &Client, id: &str) -> Result<Option<Value>> {
    c.admin("POST", &["admin", "users", id, "reset-password"], &[], Body::None)
}

pub fn disable_user(c: &Client, id: &str) -> Result<Option<Value>> {
    c.admin("POST", &["admin", "users", id, "disable"], &[], Body::None)
}

pub fn remove_user(c: &Client, id: &str) -> Result<Option<Value>> {
    c.admin("DELETE", &["admin", "users", id], &[], Body::None)
}

pub fn audit(c: &Client, a: &AuditArgs) -> Result<Listing> {
    let q = vec![
        ("app", a.app.clone()),
        ("person", a.person.clone()),
        ("type", a.kind.clone()),
        ("since", a.since.clone()),
        ("until", a.until.clone()),
    ];
    listing::fetch(c, &["admin", "audit"], q, "events", &a.page)
}
