//! The `sub` an app knows a person by (`rules::subject`): the user id, or for an app registered
//! with `subject_type: pairwise` its sector's pairwise subject. Every token and answer an app
//! gets says this: ID tokens, access tokens (so introspection and the gateway's `x-auth-subject`
//! too), userinfo and logout tokens; a hint naming a person (`id_token_hint`, a `claims` sub) is
//! compared with it.

use crate::config::Config;
use crate::model::App;
use crate::rules::subject;

/// Whether `app` is pairwise here (registered so, with a sector, and pairwise offered).
fn pairwise_of<'a>(cfg: &'a Config, app: &App) -> Option<(&'a str, String)> {
    if app.subject_type.as_deref() != Some("pairwise") {
        return None;
    }
    Some((cfg.pairwise_key()?, subject::sector(&app.redirect_uris)?))
}

/// The subject `app` knows the person `user_id` by.
pub fn of(cfg: &Config, app: &App, user_id: &str) -> String {
    match pairwise_of(cfg, app) {
        Some((key, sector)) => subject::pairwise(key, &cfg.pairwise_context, &sector, user_id),
        None => user_id.to_owned(),
    }
}

/// Whether `app`'s subjects are not the user ids (then a token's `sub` does not name the person
/// to look up: the grant does).
pub fn is_pairwise(cfg: &Config, app: &App) -> bool {
    pairwise_of(cfg, app).is_some()
}
