//! The operator's API under `/admin/`, authorised by the `ADMIN_TOKEN` secret.

pub mod apps;
pub mod audit;
pub mod backup;
pub mod operators;
pub mod orgs;
pub mod users;

use crate::error::{Error, Result};
use crate::http::params::Params;

/// A listing's `limit` query parameter: 1 to 100, 100 when absent (an empty `limit=` is not a
/// number: refused, not taken for absent).
fn page_limit(q: &Params) -> Result<usize> {
    if q.sent_empty("limit") {
        return Err(Error::invalid_request("limit must be 1 to 100"));
    }
    match q.get("limit") {
        None => Ok(100),
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=100).contains(l))
            .ok_or_else(|| Error::invalid_request("limit must be 1 to 100")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_is_a_number_from_1_to_100_and_empty_is_not_absent() {
        let q = |s: &str| Params::parse_form(s.as_bytes()).unwrap();
        assert_eq!(page_limit(&q("")).unwrap(), 100);
        assert_eq!(page_limit(&q("limit=7")).unwrap(), 7);
        for bad in ["limit=", "limit=0", "limit=101", "limit=x", "limit=-1"] {
            assert!(page_limit(&q(bad)).is_err(), "{bad}");
        }
        // Other parameters sent empty stay as omitted (RFC 6749 §3.1's one rule).
        assert!(!q("cursor=").contains("cursor") && q("cursor=").sent_empty("cursor"));
    }
}
