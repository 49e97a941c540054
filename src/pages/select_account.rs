//! `prompt=select_account` (OpenID Connect Core 1.0 §3.1.2.1): who is signed in, with "Continue
//! as …" (the request goes on without asking again) and "Use another account" (the log-in
//! page, whose new session replaces this one in the browser).

use super::page;
use crate::config::Brand;
use crate::http::Response;
use crate::model::App;
use crate::objects::session::SessionRecord;
use maud::html;

/// `go_on`: the request without `select_account`; `other`: the log-in page coming back to it.
pub fn render(brand: &Brand, app: &App, session: &SessionRecord, go_on: &str, other: &str) -> Response {
    let body = html! {
        p { strong { (app.name) } " asks which account to use." }
        p { "Signed in as " strong { (session.name) } " (" (session.email) ")." }
        p {
            a id="continue" href=(go_on) { "Continue as " (session.name) }
        }
        p {
            a id="another" href=(other) { "Use another account" }
        }
    };
    page(brand, 200, "Choose an account", body, None)
}
