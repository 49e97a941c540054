//! `/apps`: a signed-in person manages their apps (the operator, with the admin token as a
//! bearer, sees and manages all): add, see App ID and secret (secret only right after creation
//! or regeneration), regenerate the secret, remove. Destructive actions ask for confirmation.

use super::{page, Csrf};
use crate::accounts::{self, cookies};
use crate::apps;
use crate::http::params::{encode_form, Params};
use crate::http::{Request, Response};
use crate::model::App;
use crate::error::{Error, ErrorCode, Result};
use crate::platform::Platform;
use maud::{html, Markup};

/// Who is acting: a person (owner = their user id) or the operator.
enum Actor {
    Person { user_id: String, name: String },
    Operator,
}

impl Actor {
    fn label(&self) -> String {
        match self {
            Actor::Person { user_id, .. } => format!("user:{user_id}"),
            Actor::Operator => "admin".into(),
        }
    }
    fn may_manage(&self, app: &App) -> bool {
        match self {
            Actor::Person { user_id, .. } => &app.owner == user_id,
            Actor::Operator => true,
        }
    }
}

async fn actor(p: &impl Platform, req: &Request, operator: bool) -> Result<Option<Actor>> {
    if operator {
        return Ok(Some(Actor::Operator));
    }
    Ok(accounts::current_session(p, req).await?.map(|s| Actor::Person {
        user_id: s.user_id,
        name: s.name,
    }))
}

fn login_redirect() -> Response {
    Response::see_other(&format!("/login?{}", encode_form(&[("return_to", "/apps")])))
}

fn add_form(csrf: &Csrf, error: Option<&str>, operator: bool) -> Markup {
    let field = |id: &str, label: &str, kind: &str, required: bool, maxlength: Option<&str>, pattern: Option<&str>| {
        html! {
            label for=(id) { (label) }
            input id=(id) name=(id) type=(kind) required[required] maxlength=[maxlength] pattern=[pattern];
        }
    };
    html! {
        h2 { "Add an app" }
        @if let Some(e) = error { p class="error" role="alert" { (e) } }
        form method="post" action="/apps" {
            (csrf.field())
            (field("name", "Name", "text", true, Some("100"), None))
            (field("description", "Description", "text", false, Some("1000"), None))
            (field("homepage", "Homepage", "url", false, None, None))
            (field("image_uri", "Image URL", "url", false, None, None))
            (field("admin_email", "Admin email", "email", false, None, None))
            (field("admin_phone", "Admin phone", "text", false, Some("32"), None))
            "\n"
            (field("redirect_uri", "Redirect URL (https)", "url", false, None, Some("https://.*")))
            @if operator {
                p {
                    input type="checkbox" id="trusted" name="trusted" value="yes";
                    " "
                    label for="trusted" class="inline" { "App is trusted (may use client_credentials without a person)" }
                }
            } @else {
                p class="hint" {
                    "Machine access (client credentials, bot tokens) and scopes beyond the basic ones need an operator's approval."
                }
            }
            button type="submit" { "Add app" }
        }
    }
}

fn app_row(app: &App, csrf: &Csrf) -> Markup {
    let form = |action: &str, label: &str| {
        html! {
            form method="post" action={ "/apps/" (app.client_id) "/" (action) } class="inline" {
                (csrf.field())
                button type="submit" class="secondary" { (label) }
            }
        }
    };
    html! {
        li {
            strong { (app.name) } br;
            "App ID: " code { (app.client_id) } br;
            "Redirect URL: " (app.redirect_uris.first().map(String::as_str).unwrap_or("—")) br;
            "Trusted: " (if app.trusted { "yes" } else { "no" }) br;
            @if !app.operator_vetted() {
                span class="approval" {
                    "Self-service: scopes and machine access beyond the basic ones wait for an operator's approval."
                }
                br;
            }
            (form("regenerate", "Regenerate secret"))
            (form("remove", "Remove"))
        }
    }
}

/// `GET /apps`.
pub async fn list(p: &impl Platform, req: &Request, operator: bool) -> Result<Response> {
    let Some(who) = actor(p, req, operator).await? else {
        return Ok(login_redirect());
    };
    let owner = match &who {
        Actor::Person { user_id, .. } => Some(user_id.as_str()),
        Actor::Operator => None,
    };
    let (list, _) = apps::list(p, owner, &apps::Filter::default(), None, 100).await?;
    render(p, req, &who, &list, None, None)
}

fn render(
    p: &impl Platform,
    req: &Request,
    who: &Actor,
    list: &[App],
    notice: Option<Markup>,
    error: Option<&str>,
) -> Result<Response> {
    let csrf = Csrf::for_request(p, req)?;
    let operator = matches!(who, Actor::Operator);
    let body = html! {
        @match who {
            Actor::Person { name, .. } => p { "Signed in as " (name) "." },
            Actor::Operator => p { "Operator view: every app." },
        }
        @if let Some(n) = notice { (n) }
        @if list.is_empty() {
            p { "No apps yet." }
        } @else {
            ul { @for a in list { (app_row(a, &csrf)) } }
        }
        (add_form(&csrf, error, operator))
    };
    Ok(page(
        &p.config().brand,
        if error.is_some() { 400 } else { 200 },
        "Your apps",
        body,
        Some(&csrf),
    ))
}

fn credentials(app: &App, secret: &str) -> Markup {
    html! {
        div role="status" {
            p { "Copy the secret now: it is not shown again." }
            p { "App ID: " code id="app-id" { (app.client_id) } }
            p { "App secret: " code id="app-secret" { (secret) } }
        }
    }
}

fn form_of(req: &Request) -> Option<Params> {
    (req.media_type().as_deref() == Some("application/x-www-form-urlencoded"))
        .then(|| Params::parse_form(&req.body).ok())
        .flatten()
}

/// What every form post here starts with: who acts (`None`: nobody is signed in, send them to
/// log in), the form, and the CSRF check (the operator's bearer header cannot be sent
/// cross-site, so it needs none). A form that is missing or expired is an error page.
async fn form_post(
    p: &impl Platform,
    req: &Request,
    operator: bool,
) -> Result<Option<(Actor, Params)>> {
    let Some(who) = actor(p, req, operator).await? else {
        return Ok(None);
    };
    let Some(f) = form_of(req) else {
        return Err(Error::page(
            ErrorCode::InvalidRequest,
            "Your apps",
            "Submit the form from this site.",
        ));
    };
    if !operator && !cookies::csrf_ok(req, f.get("csrf")) {
        return Err(Error::page(
            ErrorCode::AccessDenied,
            "Your apps",
            "The form expired. Go back and try again.",
        ));
    }
    Ok(Some((who, f)))
}

/// `POST /apps`: add an app.
pub async fn add(p: &impl Platform, req: &Request, operator: bool) -> Result<Response> {
    let Some((who, f)) = form_post(p, req, operator).await? else {
        return Ok(login_redirect());
    };
    let owner = match &who {
        Actor::Person { user_id, .. } => user_id.clone(),
        Actor::Operator => "operator".into(),
    };
    let list_owner = (!operator).then_some(owner.as_str());
    // Only operators vet apps: a person's app is self-service (issue 13 item 2), whatever the
    // form says; the trusted box is not even offered to them.
    let mut app = match &who {
        Actor::Operator => apps::blank(p, &owner)?,
        Actor::Person { .. } => apps::blank_self_service(p, &owner)?,
    };
    let g = |k| f.get(k).unwrap_or("").to_owned();
    app.name = g("name");
    app.description = g("description");
    app.homepage = g("homepage");
    app.image_uri = g("image_uri");
    app.admin_email = g("admin_email");
    app.admin_phone = g("admin_phone");
    match &who {
        Actor::Operator => app.trusted = f.get("trusted") == Some("yes"),
        Actor::Person { .. } => {
            if f.get("trusted").is_some() {
                let (list, _) = apps::list(p, list_owner, &apps::Filter::default(), None, 100).await?;
                return render(p, req, &who, &list, None, Some("only operators can make an app trusted"));
            }
        }
    }
    let uri = g("redirect_uri");
    if !uri.is_empty() {
        if let Err(e) = crate::rules::redirect_uri::validate(&uri, true) {
            let (list, _) = apps::list(p, list_owner, &apps::Filter::default(), None, 100).await?;
            return render(p, req, &who, &list, None, Some(&e.description));
        }
        app.redirect_uris = vec![uri];
    }
    apps::default_grants(&mut app);
    match apps::create(p, app, &who.label(), false).await {
        Ok(created) => {
            let (list, _) = apps::list(p, list_owner, &apps::Filter::default(), None, 100).await?;
            let notice = credentials(&created.app, created.secret.as_deref().unwrap_or(""));
            Ok(render(p, req, &who, &list, Some(notice), None)?.client(Some(&created.app.client_id)))
        }
        Err(e)
            if matches!(
                e.code,
                ErrorCode::InvalidRequest | ErrorCode::InvalidRedirectUri | ErrorCode::LimitReached
            ) =>
        {
            let (list, _) = apps::list(p, list_owner, &apps::Filter::default(), None, 100).await?;
            render(p, req, &who, &list, None, Some(&e.description))
        }
        Err(e) => Err(e),
    }
}

/// `POST /apps/{id}/regenerate` and `/apps/{id}/remove`: confirm first, then act.
pub async fn act(
    p: &impl Platform,
    req: &Request,
    operator: bool,
    id: &str,
    action: &str,
) -> Result<Response> {
    let Some((who, f)) = form_post(p, req, operator).await? else {
        return Ok(login_redirect());
    };
    let app = match apps::authoritative(p, id).await {
        Ok(app) if who.may_manage(&app) => app,
        _ => return Err(Error::page(ErrorCode::NotFound, "Your apps", "No such app.")),
    };
    let csrf = Csrf::for_request(p, req)?;
    if f.get("confirm") != Some("yes") {
        let what = if action == "remove" {
            "Remove this app? Its tokens stop working at once and it cannot be undone."
        } else {
            "Make a new secret? The old secret and every token the app holds stop working at once."
        };
        let body = html! {
            p { strong { (app.name) } " (" code { (app.client_id) } ")" }
            p { (what) }
            form method="post" action={ "/apps/" (app.client_id) "/" (action) } {
                (csrf.field())
                input type="hidden" name="confirm" value="yes";
                button type="submit" {
                    "Yes, " (if action == "remove" { "remove it" } else { "regenerate" })
                }
            }
            p { a href="/apps" { "Cancel" } }
        };
        return Ok(page(&p.config().brand, 200, "Please confirm", body, Some(&csrf)));
    }
    if action == "remove" {
        apps::delete(p, id, &who.label()).await?;
        return Ok(Response::see_other("/apps"));
    }
    let secret = apps::regenerate_secret(p, id, &who.label()).await?;
    let owner = match &who {
        Actor::Person { user_id, .. } => Some(user_id.as_str()),
        Actor::Operator => None,
    };
    let (list, _) = apps::list(p, owner, &apps::Filter::default(), None, 100).await?;
    render(
        p,
        req,
        &who,
        &list,
        Some(credentials(&app, &secret)),
        None,
    )
}
