//! The consent page: which app asks, for what, in words; Allow or Deny.

use super::{esc, page, Csrf};
use crate::http::Response;
use crate::model::App;
use crate::objects::session::SessionRecord;

/// What a scope lets the app do, in words.
pub fn describe(scope: &str) -> String {
    match scope {
        "public" => "See your public profile (name)".into(),
        "email" => "See your email address".into(),
        "subscriptions:read" => "See your subscriptions".into(),
        "subscriptions:write" => "Change your subscriptions".into(),
        "subscriptions_batch:write" => "Change subscriptions in bulk".into(),
        "custom_attributes:read" => "See custom attributes".into(),
        "custom_attributes:write" => "Change custom attributes".into(),
        "users:read" => "See user accounts".into(),
        "users:read_by_email" => "Look up user accounts by email".into(),
        "users:change_email" => "Change email addresses".into(),
        "users:write" => "Change user accounts".into(),
        "newsletter_subscriptions:write" => "Change newsletter subscriptions".into(),
        other => format!("Use the “{other}” permission"),
    }
}

pub fn render(
    app: &App,
    scopes: &[String],
    hidden: &[(&str, &str)],
    session: &SessionRecord,
    csrf: &Csrf,
) -> Response {
    let image = if app.image_uri.starts_with("https://") {
        format!(r#"<img src="{}" alt="">"#, esc(&app.image_uri))
    } else {
        String::new()
    };
    let homepage = if app.homepage.is_empty() {
        String::new()
    } else {
        format!(
            r#"<p>Homepage: <a href="{0}" rel="noopener noreferrer">{0}</a></p>"#,
            esc(&app.homepage)
        )
    };
    let items: String = scopes
        .iter()
        .map(|s| format!("<li>{}</li>", esc(&describe(s))))
        .collect();
    let fields: String = hidden
        .iter()
        .map(|(k, v)| format!(r#"<input type="hidden" name="{}" value="{}">"#, esc(k), esc(v)))
        .collect();
    let body = format!(
        r#"<div class="app">{image}<p><strong>{}</strong> wants to access your account.</p>{homepage}</div>
<p>Signed in as {} ({}).</p><p>It will be able to:</p><ul class="scopes">{items}</ul>
<form method="post" action="/oauth/authorize">{}{fields}
<button type="submit" name="decision" value="allow">Allow</button><button type="submit" class="secondary" name="decision" value="deny">Deny</button></form>"#,
        esc(&app.name),
        esc(&session.name),
        esc(&session.email),
        csrf.field()
    );
    page(200, "Allow access?", &body, Some(csrf))
}
