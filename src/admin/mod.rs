//! The operator's API under `/admin/`, authorised by the `ADMIN_TOKEN` secret.

pub mod apps;
pub mod orgs;

use crate::error::{Error, Result};
use crate::http::params::Params;

/// A listing's `limit` query parameter: 1 to 100, 100 when absent.
fn page_limit(q: &Params) -> Result<usize> {
    match q.get("limit") {
        None => Ok(100),
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=100).contains(l))
            .ok_or_else(|| Error::invalid_request("limit must be 1 to 100")),
    }
}
