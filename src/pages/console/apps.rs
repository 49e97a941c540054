//! The console's apps: the list (search by name, filter by owner, status and grant type; cursor
//! paging: `apps::Filter`, `apps::list`), an app's page (its fields, permissions, bot user and
//! keys), the create and edit forms (every field of VoipNow's "Add App" form, scopes and grant
//! types), and the actions: a new secret, a generated key (private PEM shown once, as a
//! download) or an uploaded public key, disable/enable, approval for machine grants, removal.
//! Every change goes through the admin API's functions and rules (`admin::apps`).

use super::{change, form, method, page, when};
use crate::accounts::operators::Session;
use crate::admin::apps::{self as admin_apps, AppInput};
use crate::apps;
use crate::error::{Error, Result};
use crate::http::params::{percent_encode, Params};
use crate::http::{Request, Response};
use crate::model::{App, GrantType, Status};
use crate::platform::Platform;
use crate::rules::operator_roles::{self, Action};
use base64::Engine;
use maud::{html, Markup};
use serde_json::{json, Value};

const PAGE_SIZE: usize = 50;

pub async fn route(p: &impl Platform, req: &Request, s: &Session, rest: &[&str]) -> Result<Response> {
    match rest {
        [] | [""] => {
            method(req, &["GET", "POST"])?;
            if req.method == "GET" {
                list(p, req, s).await
            } else {
                create(p, req, s).await
            }
        }
        ["new"] => {
            method(req, &["GET"])?;
            operator_roles::require(s.account.role, Action::ManageApps)?;
            Ok(form_page(p, s, None, &Params::default(), None))
        }
        [id] => {
            method(req, &["GET"])?;
            let app = apps::authoritative(p, id).await?;
            let q = Params::from_query(req)?;
            Ok(app_page(p, s, &app, q.get("done"), Once::default(), 200))
        }
        [id, "edit"] => {
            method(req, &["GET", "POST"])?;
            let app = apps::authoritative(p, id).await?;
            if req.method == "GET" {
                operator_roles::require(s.account.role, Action::ManageApps)?;
                Ok(form_page(p, s, Some(&app), &Params::default(), None))
            } else {
                edit(p, req, s, app).await
            }
        }
        [id, action @ ("secret" | "keys" | "status" | "approve" | "remove")] => {
            method(req, &["POST"])?;
            act(p, req, s, id, action).await
        }
        [id, "keys", kid, "remove"] => {
            method(req, &["POST"])?;
            let f = form(req)?;
            change(req, s, &f, Action::ManageApps)?;
            apps::remove_key(p, id, kid, &s.account.id).await?;
            Ok(done(id, "key-removed"))
        }
        _ => Err(Error::not_found("no such console page")),
    }
}

fn done(id: &str, what: &str) -> Response {
    Response::see_other(&format!("/admin/console/apps/{}?done={what}", percent_encode(id))).no_store()
}

fn notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "saved" => "Saved.",
        "disabled" => "The app is disabled: it gets no tokens, and its tokens stop working.",
        "enabled" => "The app is enabled again.",
        "approved" => "Approved: the app may use machine grants and every scope of the catalogue.",
        "unapproved" => "Approval withdrawn: the app is back to self-service limits.",
        "key-removed" => "The key is removed.",
        "key-added" => "The public key is added.",
        _ => return None,
    })
}

fn status_badge(s: Status) -> Markup {
    match s {
        Status::Active => html! { span class="badge active" { "active" } },
        Status::Disabled => html! { span class="badge disabled" { "disabled" } },
        Status::Deleted => html! { span class="badge warn" { "removed" } },
    }
}

fn grant_label(g: &str) -> &str {
    match g {
        crate::model::JWT_BEARER => "jwt-bearer",
        other => other,
    }
}

async fn list(p: &impl Platform, req: &Request, s: &Session) -> Result<Response> {
    let q = Params::from_query(req)?;
    let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
    let cursor = get("cursor");
    if cursor.is_some_and(|c| c.len() > 512) {
        return Err(Error::invalid_request("cursor is too long"));
    }
    let filter = apps::Filter::parse(get("name"), get("status"), get("grant_type"))?;
    let (found, next) = apps::list(p, get("owner"), &filter, cursor, PAGE_SIZE).await?;
    let next_link = next.map(|c| {
        let mut pairs = vec![("cursor", c.clone())];
        for k in ["name", "owner", "status", "grant_type"] {
            if let Some(v) = get(k) {
                pairs.push((k, v.to_owned()));
            }
        }
        let qs: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", percent_encode(v))).collect();
        format!("/admin/console/apps?{}", qs.join("&"))
    });
    let can_manage = operator_roles::allows(s.account.role, Action::ManageApps);
    let body = html! {
        div class="bar" {
            h1 class="grow" { "Apps" }
            @if can_manage { a class="button" href="/admin/console/apps/new" id="new-app" { "Create app" } }
        }
        form class="filters" method="get" action="/admin/console/apps" role="search" {
            div { label for="f-name" { "Name" } input type="search" id="f-name" name="name" value=(get("name").unwrap_or("")) placeholder="contains…"; }
            div { label for="f-owner" { "Owner" } input type="text" id="f-owner" name="owner" value=(get("owner").unwrap_or("")) placeholder="exact owner"; }
            div { label for="f-status" { "Status" }
                select id="f-status" name="status" {
                    option value="" { "any" }
                    @for st in ["active", "disabled"] { option value=(st) selected[get("status") == Some(st)] { (st) } }
                }
            }
            div { label for="f-grant" { "Grant type" }
                select id="f-grant" name="grant_type" {
                    option value="" { "any" }
                    @for g in GrantType::ALL { option value=(g.as_str()) selected[get("grant_type") == Some(g.as_str())] { (grant_label(g.as_str())) } }
                }
            }
            button type="submit" class="secondary" { "Search" }
            a href="/admin/console/apps" { "Clear" }
        }
        @if found.is_empty() {
            p class="empty" id="no-apps" { "No app matches." }
        } @else {
            table id="apps" {
                thead { tr { th { "Name" } th { "Client ID" } th { "Owner" } th { "Status" } th { "Grant types" } th { "Created" } } }
                tbody {
                    @for a in &found {
                        tr {
                            td { a href={ "/admin/console/apps/" (percent_encode(&a.client_id)) } { (display_name(a)) }
                                @if a.self_service && !a.approved { " " span class="badge" title="self-service, not approved for machine grants" { "self-service" } }
                                @if a.trusted { " " span class="badge info" { "trusted" } } }
                            td { code { (a.client_id) } }
                            td { (a.owner) }
                            td { (status_badge(a.status)) }
                            td { (a.grant_types.iter().map(|g| grant_label(g)).collect::<Vec<_>>().join(", ")) }
                            td class="muted" { (when(a.created_at)) }
                        }
                    }
                }
            }
        }
        @if let Some(link) = &next_link { p class="pager" { a href=(link) id="next-page" { "Next page →" } } }
    };
    Ok(page(p, 200, "Apps", Some(s), "Apps", body))
}

fn display_name(a: &App) -> &str {
    if a.name.trim().is_empty() {
        "(no name)"
    } else {
        &a.name
    }
}

/// What a change showed once (a secret, a generated private key).
#[derive(Default)]
struct Once {
    secret: Option<String>,
    private_key: Option<(String, String)>,
}

fn once_box(app: &App, once: &Once) -> Markup {
    html! {
        @if let Some(secret) = &once.secret {
            div class="once" id="secret-once" role="status" {
                strong { "Client secret — copy it now, it is shown only once." }
                pre id="client-secret" { (secret) }
            }
        }
        @if let Some((kid, pem)) = &once.private_key {
            div class="once" id="key-once" role="status" {
                strong { "Private key of " code { (kid) } " — download it now, it is shown only once and never kept here." }
                p { a class="button" id="download-key" download={ (app.client_id) ".pem" }
                    href={ "data:application/x-pem-file;base64," (base64::engine::general_purpose::STANDARD.encode(pem.as_bytes())) } { "Download PEM" } }
                pre id="private-key" { (pem) }
            }
        }
    }
}

fn list_or_none(v: &[String]) -> Markup {
    html! {
        @if v.is_empty() { span class="muted" { "none" } }
        @else { @for (i, u) in v.iter().enumerate() { @if i > 0 { br; } code { (u) } } }
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn app_page(p: &impl Platform, s: &Session, app: &App, done: Option<&str>, once: Once, status: u16) -> Response {
    let can = operator_roles::allows(s.account.role, Action::ManageApps);
    let id = percent_encode(&app.client_id);
    let base = format!("/admin/console/apps/{id}");
    let csrf = &s.record.csrf;
    let retired = crate::rules::scope::retired(&app.scopes, &p.config().scopes);
    let machine = app.operator_vetted();
    let body = html! {
        div class="crumbs" { a href="/admin/console/apps" { "Apps" } " / " (app.client_id) }
        div class="bar" {
            h1 class="grow" id="app-name" { (display_name(app)) " " (status_badge(app.status)) }
            @if can { a class="button secondary" href={ (base) "/edit" } id="edit" { "Edit" } }
        }
        @if let Some(n) = notice(done) { p class="notice" role="status" { (n) } }
        (once_box(app, &once))
        h2 { "Details" }
        dl class="props" id="details" {
            dt { "Client ID" } dd { code id="client-id" { (app.client_id) } }
            dt { "Owner" } dd { (app.owner) }
            dt { "Description" } dd { @if app.description.is_empty() { span class="muted" { "none" } } @else { (app.description) } }
            dt { "Homepage" } dd { @if app.homepage.is_empty() { span class="muted" { "none" } } @else { a href=(app.homepage) rel="noopener noreferrer" { (app.homepage) } } }
            dt { "Image" } dd { @if app.image_uri.is_empty() { span class="muted" { "none" } } @else { code { (app.image_uri) } } }
            dt { "Admin email" } dd { (app.admin_email) }
            dt { "Admin phone" } dd { (app.admin_phone) }
            dt { "Redirect URLs" } dd { (list_or_none(&app.redirect_uris)) }
            dt { "Post-logout redirect URLs" } dd { (list_or_none(&app.post_logout_redirect_uris)) }
            dt { "Client authentication" } dd { code { (app.token_endpoint_auth_method) } }
            dt { "Created / updated" } dd { (when(app.created_at)) " / " (when(app.updated_at)) }
        }
        h2 { "Permissions" }
        dl class="props" id="permissions" {
            dt { "Scopes" } dd { (app.scopes.join(" "))
                @if !retired.is_empty() { " " span class="badge warn" title="no longer in the scope catalogue; never granted" { "retired: " (retired.join(" ")) } } }
            dt { "Grant types" } dd { (app.grant_types.iter().map(|g| grant_label(g)).collect::<Vec<_>>().join(", ")) }
            dt { "Trusted" } dd { (yes_no(app.trusted)) span class="hint" { " — may use client_credentials" } }
            dt { "Self-service" } dd { (yes_no(app.self_service))
                @if app.self_service { " · approved for machine grants: " strong id="approved" { (yes_no(app.approved)) } } }
            dt { "Introspection" } dd { (yes_no(app.introspection)) span class="hint" { " — may introspect other apps' tokens" } }
            dt { "Token lifetime" } dd { @match app.token_lifetime { Some(t) => { (t) " s" }, None => span class="muted" { "server default" } } }
        }
        h2 { "Bot user" }
        dl class="props" id="bot-user" {
            dt { "ID" } dd { code { (app.bot_user.id) } }
            dt { "Name" } dd { @if app.bot_user.name.is_empty() { span class="muted" { "(none)" } } @else { (app.bot_user.name) } }
            dt { "Acts with" } dd {
                @if !machine { span class="badge warn" { "no machine grants until approved" } }
                @else if app.keys.is_empty() { "the app's scopes (" (app.scopes.join(" ")) ") once the app has a key for app tokens" }
                @else { "the app's scopes: " (app.scopes.join(" ")) " (app tokens signed with its keys)" }
            }
        }
        h2 { "Keys" }
        @if app.keys.is_empty() { p class="muted" id="no-keys" { "No public key: the app cannot sign app tokens or private_key_jwt assertions." } }
        @else {
            table id="keys" {
                thead { tr { th { "Key ID" } th { "Type" } th { "Algorithm" } @if can { th {} } } }
                tbody {
                    @for k in &app.keys {
                        @let kid = k.get("kid").and_then(Value::as_str).unwrap_or("");
                        tr {
                            td { code { (kid) } }
                            td { (k.get("kty").and_then(Value::as_str).unwrap_or("")) }
                            td { (k.get("alg").and_then(Value::as_str).unwrap_or("RS256")) }
                            @if can { td { form method="post" action={ (base) "/keys/" (percent_encode(kid)) "/remove" } {
                                input type="hidden" name="csrf" value=(csrf);
                                button type="submit" class="danger" { "Remove" } } } }
                        }
                    }
                }
            }
        }
        @if can {
            form method="post" action={ (base) "/keys" } id="add-key" {
                input type="hidden" name="csrf" value=(csrf);
                div class="actions" {
                    button type="submit" name="key" value="generate" id="generate-key" { "Generate RSA key" }
                }
                label for="public_key" { "Or upload a public key " span class="hint" { "(PEM, or an RSA JWK as JSON)" } }
                textarea id="public_key" name="public_key" {}
                div class="actions" { button type="submit" class="secondary" name="key" value="upload" id="upload-key" { "Upload public key" } }
            }
            h2 { "Actions" }
            div class="actions" {
                @if app.uses_secret() {
                    form method="post" action={ (base) "/secret" } { input type="hidden" name="csrf" value=(csrf); button type="submit" class="secondary" id="regenerate" { "Regenerate secret" } }
                }
                form method="post" action={ (base) "/status" } {
                    input type="hidden" name="csrf" value=(csrf);
                    @if app.status == Status::Active { input type="hidden" name="status" value="disabled"; button type="submit" class="secondary" id="disable" { "Disable" } }
                    @else { input type="hidden" name="status" value="active"; button type="submit" class="secondary" id="enable" { "Enable" } }
                }
                @if app.self_service {
                    form method="post" action={ (base) "/approve" } {
                        input type="hidden" name="csrf" value=(csrf);
                        @if app.approved { input type="hidden" name="approved" value="false"; button type="submit" class="secondary" id="unapprove" { "Withdraw approval" } }
                        @else { input type="hidden" name="approved" value="true"; button type="submit" id="approve" { "Approve for machine grants" } }
                    }
                }
                form method="post" action={ (base) "/remove" } {
                    input type="hidden" name="csrf" value=(csrf);
                    label class="hint confirm" { input type="checkbox" name="confirm" value="yes" required; " I mean it" }
                    " "
                    button type="submit" class="danger" id="remove" { "Remove app" }
                }
            }
        }
    };
    page(p, status, display_name(app), Some(s), "Apps", body)
}

/// The form's fields as the admin API's input. Checkbox groups arrive as `scope.<name>` and
/// `grant.<type>` (the parser refuses repeated fields); text areas hold one URL a line.
fn input_from(f: &Params, creating: bool) -> Result<AppInput> {
    let text = |k: &str| f.get(k).unwrap_or("").to_owned();
    let lines = |k: &str| -> Vec<String> {
        f.get(k).unwrap_or("").lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
    };
    let picked = |prefix: &str| -> Vec<String> {
        f.iter().filter_map(|(k, _)| k.strip_prefix(prefix)).map(str::to_owned).collect()
    };
    let check = |k: &str| f.get(k) == Some("on");
    let mut v = json!({
        "name": text("name"),
        "description": text("description"),
        "homepage": text("homepage"),
        "image_uri": text("image_uri"),
        "admin_email": text("admin_email"),
        "admin_phone": text("admin_phone"),
        "redirect_uris": lines("redirect_uris"),
        "post_logout_redirect_uris": lines("post_logout_redirect_uris"),
        "scopes": picked("scope."),
        "trusted": check("trusted"),
        "approved": check("approved"),
        "introspection": check("introspection"),
    });
    let grants = picked("grant.");
    if !(creating && grants.is_empty()) {
        crate::util::set(&mut v, "grant_types", grants);
    }
    if let Some(m) = f.get("token_endpoint_auth_method") {
        crate::util::set(&mut v, "token_endpoint_auth_method", m);
    }
    if creating {
        if let Some(o) = f.get("owner") {
            crate::util::set(&mut v, "owner", o.trim());
        }
        match f.get("key_mode") {
            Some("generate") => crate::util::set(&mut v, "key", "generate"),
            Some("upload") => crate::util::set(&mut v, "public_key", public_key_value(f.get("public_key").unwrap_or(""))?),
            None | Some("none") => {}
            Some(_) => return Err(Error::invalid_request("key must be none, generate or upload")),
        }
    }
    serde_json::from_value(v).map_err(|_| Error::invalid_request("the form's fields are not an app"))
}

/// An uploaded public key: a JWK (JSON object) or PEM text, as the admin API takes it.
fn public_key_value(text: &str) -> Result<Value> {
    let t = text.trim();
    if t.is_empty() {
        return Err(Error::invalid_request("paste a public key (PEM or JWK)"));
    }
    if t.starts_with('{') {
        serde_json::from_str(t).map_err(|_| Error::invalid_request("the public key is not valid JSON"))
    } else {
        Ok(Value::String(t.to_owned()))
    }
}

fn form_page(p: &impl Platform, s: &Session, app: Option<&App>, sent: &Params, error: Option<&str>) -> Response {
    let fresh = App::new(String::new(), "operator", 0);
    let a = app.unwrap_or(&fresh);
    // What the form shows: what was sent (after an error), else the app's values.
    let resent = error.is_some();
    let val = |k: &str, current: &str| -> String {
        if resent {
            sent.get(k).unwrap_or("").to_owned()
        } else {
            current.to_owned()
        }
    };
    let checked = |k: &str, current: bool| if resent { sent.get(k) == Some("on") } else { current };
    let mut catalogue: Vec<String> = p.config().scopes.clone();
    for held in &a.scopes {
        if !catalogue.contains(held) {
            catalogue.push(held.clone());
        }
    }
    let editing = app.is_some();
    let action = match app {
        Some(a) => format!("/admin/console/apps/{}/edit", percent_encode(&a.client_id)),
        None => "/admin/console/apps".to_owned(),
    };
    let title = if editing { "Edit app" } else { "Create app" };
    let body = html! {
        div class="crumbs" { a href="/admin/console/apps" { "Apps" } @if let Some(a) = app { " / " a href={ "/admin/console/apps/" (percent_encode(&a.client_id)) } { (a.client_id) } } }
        h1 { (title) }
        @if let Some(e) = error { p class="error" role="alert" id="form-error" { (e) } }
        form method="post" action=(action) id="app-form" {
            input type="hidden" name="csrf" value=(s.record.csrf);
            fieldset {
                legend { "App" }
                div class="grid2" {
                    div { label for="name" { "Name" } input type="text" id="name" name="name" required maxlength="100" value=(val("name", &a.name)); }
                    @if !editing { div { label for="owner" { "Owner " span class="hint" { "(default: operator)" } } input type="text" id="owner" name="owner" value=(if resent { sent.get("owner").unwrap_or("") } else { "" }); } }
                    @else { div { label { "Owner" } input type="text" value=(a.owner) disabled; } }
                }
                label for="description" { "Description" }
                textarea id="description" name="description" { (val("description", &a.description)) }
                div class="grid2" {
                    div { label for="homepage" { "Homepage" } input type="url" id="homepage" name="homepage" value=(val("homepage", &a.homepage)) placeholder="https://"; }
                    div { label for="image_uri" { "Image URL" } input type="url" id="image_uri" name="image_uri" value=(val("image_uri", &a.image_uri)) placeholder="https://"; }
                    div { label for="admin_email" { "Admin email" } input type="email" id="admin_email" name="admin_email" value=(val("admin_email", &a.admin_email)); }
                    div { label for="admin_phone" { "Admin phone" } input type="tel" id="admin_phone" name="admin_phone" value=(val("admin_phone", &a.admin_phone)); }
                }
            }
            fieldset {
                legend { "Sign-in" }
                label for="redirect_uris" { "Redirect URLs " span class="hint" { "(one a line)" } }
                textarea id="redirect_uris" name="redirect_uris" { (val("redirect_uris", &a.redirect_uris.join("\n"))) }
                label for="post_logout_redirect_uris" { "Post-logout redirect URLs " span class="hint" { "(one a line)" } }
                textarea id="post_logout_redirect_uris" name="post_logout_redirect_uris" { (val("post_logout_redirect_uris", &a.post_logout_redirect_uris.join("\n"))) }
                label for="auth" { "Client authentication" }
                select id="auth" name="token_endpoint_auth_method" {
                    @for m in ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"] {
                        option value=(m) selected[val("token_endpoint_auth_method", &a.token_endpoint_auth_method) == m] { (m) }
                    }
                }
            }
            fieldset {
                legend { "Permissions" }
                label { "Scopes" }
                div class="checks" id="scopes" {
                    @for sc in &catalogue {
                        @let k = format!("scope.{sc}");
                        label { input type="checkbox" name=(k) checked[checked(&k, a.scopes.contains(sc))]; (sc) }
                    }
                }
                label { "Grant types" }
                div class="checks" id="grants" {
                    @for g in GrantType::ALL {
                        @let k = format!("grant.{}", g.as_str());
                        label { input type="checkbox" name=(k) checked[checked(&k, a.grant_types.iter().any(|x| x == g.as_str()))]; (grant_label(g.as_str())) }
                    }
                }
                @if !editing { p class="hint" { "None ticked: the defaults for the app's kind." } }
                div class="checks" {
                    label { input type="checkbox" name="trusted" checked[checked("trusted", a.trusted)]; "Trusted " span class="hint" { "(client_credentials)" } }
                    label { input type="checkbox" name="approved" checked[checked("approved", a.approved)]; "Approved " span class="hint" { "(a self-service app's machine grants)" } }
                    label { input type="checkbox" name="introspection" checked[checked("introspection", a.introspection)]; "Introspection" }
                }
            }
            @if !editing {
                fieldset {
                    legend { "Key" }
                    div class="checks" {
                        @for (v, l) in [("none", "No key"), ("generate", "Generate an RSA key (private key shown once)"), ("upload", "Upload a public key")] {
                            label { input type="radio" name="key_mode" value=(v) checked[(if resent { sent.get("key_mode").unwrap_or("none") } else { "none" }) == v]; (l) }
                        }
                    }
                    label for="public_key" { "Public key " span class="hint" { "(PEM or JWK, for upload)" } }
                    textarea id="public_key" name="public_key" { (if resent { sent.get("public_key").unwrap_or("") } else { "" }) }
                }
            }
            div class="actions" {
                button type="submit" id="save" { @if editing { "Save" } @else { "Create app" } }
                a class="button secondary" href=(if let Some(a) = app { format!("/admin/console/apps/{}", percent_encode(&a.client_id)) } else { "/admin/console/apps".to_owned() }) { "Cancel" }
            }
        }
    };
    page(p, if resent { 400 } else { 200 }, title, Some(s), "Apps", body)
}

async fn create(p: &impl Platform, req: &Request, s: &Session) -> Result<Response> {
    let f = form(req)?;
    change(req, s, &f, Action::ManageApps)?;
    let made = match input_from(&f, true) {
        Ok(input) => admin_apps::create_from(p, input, &s.account.id).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(made) => {
            let kid = made.app.key_ids().next().unwrap_or("").to_owned();
            let once = Once { secret: made.secret, private_key: made.private_key.map(|pem| (kid, pem)) };
            Ok(app_page(p, s, &made.app, Some("saved"), once, 201))
        }
        Err(e) if e.status() == 400 => Ok(form_page(p, s, None, &f, Some(&e.description))),
        Err(e) => Err(e),
    }
}

async fn edit(p: &impl Platform, req: &Request, s: &Session, app: App) -> Result<Response> {
    let f = form(req)?;
    change(req, s, &f, Action::ManageApps)?;
    let changed = match input_from(&f, false) {
        Ok(input) => admin_apps::update_from(p, &app.client_id, input, &s.account.id).await,
        Err(e) => Err(e),
    };
    match changed {
        Ok(a) => Ok(done(&a.client_id, "saved")),
        Err(e) if e.status() == 400 => Ok(form_page(p, s, Some(&app), &f, Some(&e.description))),
        Err(e) => Err(e),
    }
}

async fn act(p: &impl Platform, req: &Request, s: &Session, id: &str, action: &str) -> Result<Response> {
    let f = form(req)?;
    change(req, s, &f, Action::ManageApps)?;
    let actor = s.account.id.as_str();
    match action {
        "secret" => {
            let secret = apps::regenerate_secret(p, id, actor).await?;
            let app = apps::authoritative(p, id).await?;
            Ok(app_page(p, s, &app, None, Once { secret: Some(secret), private_key: None }, 200))
        }
        "keys" => {
            let input: AppInput = match f.get("key") {
                Some("generate") => serde_json::from_value(json!({"key": "generate"})),
                Some("upload") => serde_json::from_value(json!({"public_key": public_key_value(f.get("public_key").unwrap_or(""))?})),
                _ => return Err(Error::invalid_request("generate a key or upload one")),
            }
            .map_err(|_| Error::invalid_request("not a key"))?;
            let (jwk, pem) = admin_apps::add_key_from(p, id, input, actor).await?;
            let app = apps::authoritative(p, id).await?;
            match pem {
                Some(pem) => {
                    let kid = jwk.get("kid").and_then(Value::as_str).unwrap_or("").to_owned();
                    Ok(app_page(p, s, &app, None, Once { secret: None, private_key: Some((kid, pem)) }, 200))
                }
                None => Ok(done(id, "key-added")),
            }
        }
        "status" => {
            let (status, word) = match f.get("status") {
                Some("active") => ("active", "enabled"),
                Some("disabled") => ("disabled", "disabled"),
                _ => return Err(Error::invalid_request("status must be active or disabled")),
            };
            let input: AppInput = serde_json::from_value(json!({"status": status})).map_err(|_| Error::invalid_request("bad status"))?;
            admin_apps::update_from(p, id, input, actor).await?;
            Ok(done(id, word))
        }
        "approve" => {
            let approved = match f.get("approved") {
                Some("true") => true,
                Some("false") => false,
                _ => return Err(Error::invalid_request("approved must be true or false")),
            };
            let input: AppInput = serde_json::from_value(json!({"approved": approved})).map_err(|_| Error::invalid_request("bad approval"))?;
            admin_apps::update_from(p, id, input, actor).await?;
            Ok(done(id, if approved { "approved" } else { "unapproved" }))
        }
        _ => {
            if f.get("confirm") != Some("yes") {
                return Err(Error::invalid_request("tick \"I mean it\" to remove the app"));
            }
            apps::delete(p, id, actor).await?;
            Ok(Response::see_other("/admin/console/apps").no_store())
        }
    }
}
