//! The console's operators of this tenant: the list (every operator may view it), and for
//! owners: add an operator (email, name, role, initial password), change a role, remove one
//! (never the last owner: `objects::operator`).

use super::{change, form, method, page, when};
use crate::accounts::operators::{self as ops, Session};
use crate::error::{Error, Result};
use crate::http::params::percent_encode;
use crate::http::{Request, Response};
use crate::platform::Platform;
use crate::rules::operator_roles::{self, Action, Role};
use maud::html;

pub async fn route(p: &impl Platform, req: &Request, s: &Session, rest: &[&str]) -> Result<Response> {
    match rest {
        [] | [""] => {
            method(req, &["GET", "POST"])?;
            if req.method == "GET" {
                let q = crate::http::params::Params::from_query(req)?;
                list(p, s, q.get("done"), None, 200).await
            } else {
                add(p, req, s).await
            }
        }
        [id, action @ ("role" | "remove")] => {
            method(req, &["POST"])?;
            let f = form(req)?;
            change(req, s, &f, Action::ManageOperators)?;
            if *action == "role" {
                let role = f.get("role").and_then(Role::parse).ok_or_else(|| Error::invalid_request("role must be owner, admin or read_only"))?;
                ops::set_role(p, &s.account.id, id, role).await?;
                Ok(Response::see_other("/admin/console/operators?done=role").no_store())
            } else {
                ops::remove(p, &s.account.id, id).await?;
                Ok(Response::see_other("/admin/console/operators?done=removed").no_store())
            }
        }
        _ => Err(Error::not_found("no such console page")),
    }
}

async fn add(p: &impl Platform, req: &Request, s: &Session) -> Result<Response> {
    let f = form(req)?;
    change(req, s, &f, Action::ManageOperators)?;
    let role = f.get("role").and_then(Role::parse).ok_or_else(|| Error::invalid_request("role must be owner, admin or read_only"));
    let made = match role {
        Ok(role) => ops::add(p, &s.account.id, f.get("email").unwrap_or(""), f.get("name").unwrap_or(""), role, f.get("password").unwrap_or("")).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(_) => Ok(Response::see_other("/admin/console/operators?done=added").no_store()),
        Err(e) if matches!(e.status(), 400 | 409) => list(p, s, None, Some(&e.description), e.status()).await,
        Err(e) => Err(e),
    }
}

async fn list(p: &impl Platform, s: &Session, done: Option<&str>, error: Option<&str>, status: u16) -> Result<Response> {
    let all = ops::list(p).await?;
    let owner = operator_roles::allows(s.account.role, Action::ManageOperators);
    let csrf = &s.record.csrf;
    let notice = match done {
        Some("added") => Some("The operator is added. Give them their email and password; they sign in at /admin."),
        Some("role") => Some("The role is changed; it applies from their next request."),
        Some("removed") => Some("The operator is removed; their session ends at their next request."),
        _ => None,
    };
    let body = html! {
        h1 { "Operators" }
        @if let Some(n) = notice { p class="notice" role="status" { (n) } }
        @if let Some(e) = error { p class="error" role="alert" id="form-error" { (e) } }
        p class="muted" { "Owners manage operators; admins manage everything else; read-only operators see everything and change nothing." }
        table id="operators" {
            thead { tr { th { "Name" } th { "Email" } th { "Role" } th { "Since" } @if owner { th { "Change" } } } }
            tbody {
                @for a in &all {
                    tr {
                        td { (a.name) @if a.id == s.account.id { " " span class="badge" { "you" } } }
                        td { (a.email) }
                        td { span class="badge info" { (a.role.label()) } }
                        td class="muted" { (when(a.created_at)) }
                        @if owner {
                            td {
                                div class="actions" {
                                    form method="post" action={ "/admin/console/operators/" (percent_encode(&a.id)) "/role" } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        select name="role" aria-label={ "Role of " (a.email) } {
                                            @for r in Role::ALL { option value=(r.as_str()) selected[r == a.role] { (r.label()) } }
                                        }
                                        " "
                                        button type="submit" class="secondary" { "Set role" }
                                    }
                                    form method="post" action={ "/admin/console/operators/" (percent_encode(&a.id)) "/remove" } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        button type="submit" class="danger" aria-label={ "Remove " (a.email) } { "Remove" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if owner {
            h2 { "Add an operator" }
            form method="post" action="/admin/console/operators" id="add-operator" {
                input type="hidden" name="csrf" value=(csrf);
                fieldset {
                    div class="grid2" {
                        div { label for="op-name" { "Name" } input type="text" id="op-name" name="name" required maxlength="100"; }
                        div { label for="op-email" { "Email" } input type="email" id="op-email" name="email" required; }
                        div { label for="op-role" { "Role" }
                            select id="op-role" name="role" { @for r in Role::ALL { option value=(r.as_str()) selected[r == Role::ReadOnly] { (r.label()) } } } }
                        div { label for="op-password" { "Initial password " span class="hint" { "(8 characters or more)" } } input type="password" id="op-password" name="password" autocomplete="new-password" required; }
                    }
                    div class="actions" { button type="submit" id="add" { "Add operator" } }
                }
            }
        }
    };
    Ok(page(p, status, "Operators", Some(s), "Operators", body))
}
