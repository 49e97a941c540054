//! The consent page: which app asks (`app_card`), for what, in words, and where the person will
//! be sent; "Not you?" to log in as someone else; Allow or Deny.

use super::{page, Csrf};
use crate::http::Response;
use crate::model::App;
use crate::objects::session::SessionRecord;
use maud::html;

/// What a claim asked for by itself (the `claims` parameter) tells the app, in words.
pub fn describe_claim(claim: &str) -> String {
    match claim {
        "name" => "See your name".into(),
        "email" => "See your email address".into(),
        "email_verified" => "See whether your email address is verified".into(),
        "created_at" => "See when you created your account".into(),
        other => format!("See your “{other}”"),
    }
}

/// What a scope lets the app do, in words.
pub fn describe(scope: &str) -> String {
    match scope {
        "public" => "See your public profile (name)".into(),
        "openid" => "Know who you are (your account identifier)".into(),
        "profile" => "See your name".into(),
        "email" => "See your email address".into(),
        "offline_access" => "Stay signed in when you are away (refresh access)".into(),
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

#[allow(clippy::too_many_arguments)]
pub fn render(
    cfg: &crate::config::Config,
    app: &App,
    scopes: &[String],
    claims: &[String],
    hidden: &[(&str, &str)],
    session: &SessionRecord,
    csrf: &Csrf,
    destination: Option<&str>,
    switch: &str,
) -> Response {
    let body = html! {
        (super::app_card::card(app, html! { (super::app_card::name(app)) " wants to access your account." }, destination))
        p { "Signed in as " strong { (session.name) } " (" (session.email) "). " a href=(switch) id="not-you" { "Not you?" } }
        p { "It will be able to:" }
        ul class="scopes" {
            @for s in scopes {
                li { (cfg.scope_descriptions.iter().find(|(k, _)| k == s).map_or_else(|| describe(s), |(_, d)| d.clone())) }
            }
            @for c in claims { li { (describe_claim(c)) } }
        }
        "\n"
        form method="post" action="/oauth/authorize" {
            (csrf.field())
            @for (k, v) in hidden { input type="hidden" name=(k) value=(v); }
            "\n"
            button type="submit" name="decision" value="allow" { "Allow" }
            button type="submit" class="secondary" name="decision" value="deny" { "Deny" }
        }
    };
    page(&cfg.brand, 200, "Allow access?", body, Some(csrf))
}
