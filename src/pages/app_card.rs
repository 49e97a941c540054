//! Who is asking: the app a log-in or consent is for — its logo, name and homepage — and
//! where the person will be sent afterwards, shown only from the app's registration (never
//! from an unchecked request: a redirect URI the app did not register is not named).

use crate::http::params::Params;
use crate::model::App;
use crate::platform::Platform;
use maud::{html, Markup};

/// The host (with its port, if any) of a URL, for "you will be sent to …".
pub fn host_of(uri: &str) -> Option<String> {
    let u = url::Url::parse(uri).ok()?;
    let host = u.host_str()?;
    Some(match u.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

/// Where a request for `app` will send the person: the redirect URI it names if the app
/// registered it, else the app's only registered one; `None` when that cannot be told.
pub fn destination(app: &App, asked: Option<&str>) -> Option<String> {
    let uri = match asked {
        Some(u) => app.redirect_uris.iter().find(|r| r.as_str() == u)?,
        None if app.redirect_uris.len() == 1 => app.redirect_uris.first()?,
        None => return None,
    };
    host_of(uri)
}

/// The app's name, as the cards show it.
pub fn name(app: &App) -> Markup {
    html! { strong id="app-name" { (app.name) } }
}

/// The card: logo (an `https:` image only), `line` (which names the app, see [`name`]),
/// homepage, destination.
pub fn card(app: &App, line: Markup, destination: Option<&str>) -> Markup {
    html! {
        div class="app" id="app-card" {
            @if app.image_uri.starts_with("https://") {
                img src=(app.image_uri) alt="";
            }
            p { (line) }
            @if app.homepage.starts_with("https://") || app.homepage.starts_with("http://") {
                p class="muted" { "Homepage: " a href=(app.homepage) rel="noopener noreferrer" { (host_of(&app.homepage).unwrap_or_else(|| app.homepage.clone())) } }
            }
            @if let Some(d) = destination {
                p class="muted" id="destination" { "Afterwards you will be sent to " strong { (d) } "." }
            }
        }
    }
}

/// The card for a log-in whose `return_to` is an authorization request (`/oauth/authorize`,
/// `/oauth/v2/authorize`) of an app that exists: "Log in to continue to …". Anything else
/// (another page, an unknown client) shows no card.
pub async fn for_return_to(p: &impl Platform, return_to: &str) -> Option<Markup> {
    let (path, query) = return_to.split_once('?')?;
    if path != "/oauth/authorize" && path != "/oauth/v2/authorize" {
        return None;
    }
    let q = Params::parse_form(query.as_bytes()).ok()?;
    let client_id = q.get("client_id").filter(|c| !c.is_empty() && c.len() <= 200)?;
    let app = p.app_meta(client_id).await.ok()??;
    if app.status != crate::model::Status::Active {
        return None;
    }
    let dest = destination(&app, q.get("redirect_uri"));
    Some(card(&app, html! { "Log in to continue to " (name(&app)) }, dest.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_destinations_come_from_the_registration() {
        assert_eq!(host_of("https://a.example/cb").as_deref(), Some("a.example"));
        assert_eq!(host_of("http://127.0.0.1:8080/cb").as_deref(), Some("127.0.0.1:8080"));
        assert_eq!(host_of("com.example.app:/cb"), None);
        assert_eq!(host_of("not a url"), None);
        let mut app = App::new("c1".into(), "user:u", 0);
        app.redirect_uris = vec!["https://a.example/cb".into(), "https://b.example/cb".into()];
        assert_eq!(destination(&app, Some("https://b.example/cb")).as_deref(), Some("b.example"));
        // Unregistered: not named, whatever it says.
        assert_eq!(destination(&app, Some("https://evil.example/cb")), None);
        // Two registered and none asked: cannot be told.
        assert_eq!(destination(&app, None), None);
        app.redirect_uris.truncate(1);
        assert_eq!(destination(&app, None).as_deref(), Some("a.example"));
    }
}
