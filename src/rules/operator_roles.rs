//! Operator roles × actions: the one table that decides what an operator may do, in the console
//! (`pages::console`) and in the `/admin` API (`routes`) alike.
//!
//! | action            | read-only | admin | owner |
//! |-------------------|-----------|-------|-------|
//! | every `View*`     | yes       | yes   | yes   |
//! | `ManageApps`      | no        | yes   | yes   |
//! | `ManagePeople`    | no        | yes   | yes   |
//! | `RotateKeys`      | no        | yes   | yes   |
//! | `ManageOperators` | no        | no    | yes   |
//! | `Backup`          | no        | no    | yes   |
//!
//! A bearer token (`ADMIN_TOKEN`, an organisation's operator token) acts as an owner of the
//! tenant it is valid in.

use crate::error::{Error, ErrorCode, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    ReadOnly,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Admin, Role::ReadOnly];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::ReadOnly => "read_only",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// How the console names the role.
    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::ReadOnly => "Read-only",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ViewApps,
    ManageApps,
    ViewOperators,
    ManageOperators,
    ViewPeople,
    ManagePeople,
    ViewAudit,
    RotateKeys,
    /// `GET /admin/export`, `POST /admin/import`: a backup holds every password hash and
    /// secret hash of the tenant, and a restore writes them, so an owner's alone (even reading).
    Backup,
}

impl Action {
    pub const ALL: [Action; 9] = [
        Action::ViewApps,
        Action::ManageApps,
        Action::ViewOperators,
        Action::ManageOperators,
        Action::ViewPeople,
        Action::ManagePeople,
        Action::ViewAudit,
        Action::RotateKeys,
        Action::Backup,
    ];
}

/// The matrix. Written out in full (no wildcard) so a new action or role must be placed in it.
pub fn allows(role: Role, action: Action) -> bool {
    use Action::*;
    match (role, action) {
        (_, ViewApps | ViewOperators | ViewPeople | ViewAudit) => true,
        (Role::Owner, ManageApps | ManagePeople | RotateKeys | ManageOperators | Backup) => true,
        (Role::Admin, ManageApps | ManagePeople | RotateKeys) => true,
        (Role::Admin, ManageOperators | Backup) => false,
        (Role::ReadOnly, ManageApps | ManagePeople | RotateKeys | ManageOperators | Backup) => false,
    }
}

/// `Ok` when `role` may do `action`, else `access_denied` (403) saying what is missing.
pub fn require(role: Role, action: Action) -> Result<()> {
    if allows(role, action) {
        return Ok(());
    }
    let why = match role {
        // Before the role: a read-only operator may read everything but a backup.
        _ if action == Action::Backup => "only an owner exports or imports backups",
        Role::ReadOnly => "a read-only operator can change nothing",
        _ => "only an owner manages operators",
    };
    Err(Error::new(ErrorCode::AccessDenied, why))
}

/// The action of an `/admin` API request, by its method and path: every `GET`/`HEAD` views, every
/// other method changes. `path` is what follows `/admin/`.
pub fn api_action(method: &str, path: &str) -> Action {
    let read = matches!(method, "GET" | "HEAD");
    let first = path.split('/').next().unwrap_or_default();
    match (first, read) {
        // Reading too: an export holds every hash of the tenant.
        ("export" | "import", _) => Action::Backup,
        ("operators", true) => Action::ViewOperators,
        ("operators", false) => Action::ManageOperators,
        ("users", true) => Action::ViewPeople,
        ("users", false) => Action::ManagePeople,
        ("audit", _) if read => Action::ViewAudit,
        ("keys", false) => Action::RotateKeys,
        (_, true) => Action::ViewApps,
        // Anything else that changes (apps, and any path not known yet) needs ManageApps:
        // never less than a change.
        (_, false) => Action::ManageApps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every action × every role, spelled out.
    #[test]
    fn the_matrix_every_action_and_role() {
        use Action::*;
        let expected = |role: Role, action: Action| -> bool {
            match role {
                Role::Owner => true,
                Role::Admin => !matches!(action, ManageOperators | Backup),
                Role::ReadOnly => matches!(action, ViewApps | ViewOperators | ViewPeople | ViewAudit),
            }
        };
        let mut checked = 0;
        for role in Role::ALL {
            for action in Action::ALL {
                assert_eq!(allows(role, action), expected(role, action), "{role:?} {action:?}");
                assert_eq!(require(role, action).is_ok(), expected(role, action));
                if let Err(e) = require(role, action) {
                    assert_eq!(e.code, ErrorCode::AccessDenied);
                    assert_eq!(action == Backup, e.description.contains("only an owner exports"));
                    assert_eq!(e.status(), 403);
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 27);
    }

    #[test]
    fn api_requests_map_to_actions() {
        use Action::*;
        let cases = [
            ("GET", "apps", ViewApps),
            ("HEAD", "apps/x", ViewApps),
            ("POST", "apps", ManageApps),
            ("PATCH", "apps/x", ManageApps),
            ("DELETE", "apps/x/keys/k", ManageApps),
            ("POST", "apps/x/secret", ManageApps),
            ("GET", "apps/x/keys", ViewApps),
            ("GET", "operators", ViewOperators),
            ("POST", "operators", ManageOperators),
            ("PATCH", "operators/x", ManageOperators),
            ("DELETE", "operators/x", ManageOperators),
            ("GET", "users", ViewPeople),
            ("POST", "users/x/disable", ManagePeople),
            ("GET", "audit", ViewAudit),
            ("POST", "audit", ManageApps),
            ("POST", "keys", RotateKeys),
            ("PUT", "anything/new", ManageApps),
            ("OPTIONS", "apps", ManageApps),
            ("GET", "export", Backup),
            ("POST", "import", Backup),
        ];
        for (m, p, a) in cases {
            assert_eq!(api_action(m, p), a, "{m} {p}");
        }
        // A read-only operator: every GET passes, no other method does.
        for (m, p, a) in cases {
            let read = matches!(m, "GET" | "HEAD") && a != Backup;
            assert_eq!(allows(Role::ReadOnly, api_action(m, p)), read, "{m} {p}");
        }
    }

    #[test]
    fn roles_have_one_word_each() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        for bad in ["", "Owner", "root", "read-only", "admin "] {
            assert_eq!(Role::parse(bad), None, "{bad}");
        }
    }
}
