//! The operator's API under `/admin/`, authorised by the `ADMIN_TOKEN` secret.

pub mod apps;
pub mod orgs;
