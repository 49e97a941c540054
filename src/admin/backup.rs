//! Backups of a tenant (issue 19): `GET /admin/export` (paged JSON of records) and
//! `POST /admin/import` (NDJSON batches of those records). The frame (header, version, tenant,
//! checksums, limits) is `rules::backup`; here is what each record holds, the rules it must pass
//! to be restored (the rules of creating it), and the writes. Owners only
//! (`rules::operator_roles::Action::Backup`); each request is an audit event.
//!
//! **In an export:** apps (the whole record: metadata, redirect URIs, scopes, grant types, public
//! keys, bot user, status, the SHA-256 of the client secret and of the registration access
//! token, the epoch), people (account: user id, email, name, the argon2id password hash,
//! created, verified; disabled; passkeys' public keys and counters; whether they had a second
//! factor), console operators (email, name, role, argon2id hash), and an organisation's settings
//! (name, quotas, policies, brand, its custom domains' names).
//!
//! **Not in an export:** signing keys (never: a restored tenant signs with its new keys, so every
//! token from before stops verifying), TOTP secrets (kept as they are, so not exported: people
//! turn their second factor on again), recovery codes, sessions, grants, codes, refresh and
//! access tokens, consents, counters, upstream identity links, organisations' operator tokens,
//! audit events.
//!
//! **Restore never overwrites.** A record whose id (or email) is already taken by the same
//! record is `unchanged`, by anything else a `conflict` left as it is; so an import can be run
//! again, and cannot take over an account or app that exists. The one exception is an
//! organisation's settings, which only the platform operator's `ADMIN_TOKEN` restores (an
//! organisation's own operator may not set its quotas).

use crate::error::{Error, ErrorCode, Result};
use crate::http::params::Params;
use crate::http::{Request, Response};
use crate::model::{App, AppRecord, Status as AppStatus, Tenant};
use crate::objects::account::{self, AccountRecord};
use crate::objects::audit::{Event, EventType, Outcome};
use crate::objects::operator::{self, OperatorAccount, Restored};
use crate::objects::passkey::{self, PasskeyRecord};
use crate::objects::people::{self, Status as PersonStatus};
use crate::objects::user;
use crate::objects::{app as app_object, org, quota, totp};
use crate::platform::tenant::Scoped;
use crate::platform::{AppStore, Audit, Clock, Objects, Platform};
use crate::rules::backup::{self as format, Header, Kind, Line, Refusal};
use crate::rules::fields;
use serde::{Deserialize, Serialize};

/// Apps per export page (one object call each).
const APPS_PER_PAGE: usize = 100;
/// People per export page (five object calls each).
const PEOPLE_PER_PAGE: usize = 40;
/// The marker of a password an operator made unusable until it is reset (`admin::users`).
const UNUSABLE: &str = "!reset-required";

/// An app as a backup holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppData {
    pub app: App,
    pub secret_hash: Option<String>,
    pub registration_hash: Option<String>,
    pub epoch: u64,
}

/// A person as a backup holds them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonData {
    pub account: AccountRecord,
    pub disabled: bool,
    pub passkeys: Vec<PasskeyRecord>,
    /// They had a second factor (TOTP), which a backup does not hold.
    pub two_factor: bool,
}

/// An organisation's settings as a backup holds them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsData {
    pub name: String,
    pub quotas: org::Quotas,
    pub policies: org::Policies,
    pub brand: org::Branding,
    pub domains: Vec<String>,
}

fn tenant_word(t: &Tenant) -> String {
    format::tenant_word(t.label())
}

fn actor_word(actor: &str) -> String {
    if actor == "token" {
        "operator".to_owned()
    } else {
        format!("operator:{actor}")
    }
}

/// Where an export page starts.
#[derive(Debug, Clone, PartialEq)]
enum Cursor {
    Start,
    Apps(Option<String>),
    People(Option<String>),
}

impl Cursor {
    fn parse(s: &str) -> Result<Cursor> {
        let bad = || Error::invalid_request("the cursor is not one this server gave");
        let (phase, after) = s.split_once(':').ok_or_else(bad)?;
        let after = (!after.is_empty()).then(|| after.to_owned());
        let kind = match phase {
            "apps" => Kind::App,
            "people" => Kind::Person,
            _ => return Err(bad()),
        };
        if after.as_deref().is_some_and(|a| !format::id_ok(kind, a)) {
            return Err(bad());
        }
        Ok(if kind == Kind::App {
            Cursor::Apps(after)
        } else {
            Cursor::People(after)
        })
    }
}

/// `GET /admin/export?cursor=`: one page of the tenant's records, `next_cursor` until the last.
pub async fn export<P: Platform + AppStore>(
    p: &Scoped<'_, P>,
    req: &Request,
    actor: &str,
) -> Result<Response> {
    let q = Params::from_query(req)?;
    if let Some((k, _)) = q.iter().find(|(k, _)| *k != "cursor") {
        return Err(Error::invalid_request(format!(
            "unknown parameter '{}'; the export takes only cursor",
            k.chars().take(40).collect::<String>()
        )));
    }
    let cursor = match q.get("cursor") {
        Some(c) => Cursor::parse(c)?,
        None if q.sent_empty("cursor") => return Err(Error::invalid_request("cursor must not be empty")),
        None => Cursor::Start,
    };
    let tenant = tenant_word(p.tenant());
    let mut records = Vec::new();
    let next = match &cursor {
        Cursor::Start => {
            if let Tenant::Org(label) = p.tenant() {
                if let Some(r) = p.deployment().call(&org::object(label), org::Get {}).await? {
                    let data = SettingsData {
                        name: r.name,
                        quotas: r.quotas,
                        policies: r.policies,
                        brand: r.brand,
                        domains: r.domains,
                    };
                    records.push(Line::new(Kind::Settings, &tenant, label, to_value(&data)?));
                }
            }
            for a in p.call(&operator::operators(), operator::Export {}).await? {
                let id = a.id.clone();
                records.push(Line::new(Kind::Operator, &tenant, &id, to_value(&a)?));
            }
            Some("apps:".to_owned())
        }
        Cursor::Apps(after) => {
            let page = members(p, quota::Resource::Apps, after.clone(), APPS_PER_PAGE).await?;
            for (id, _) in &page.members {
                if !crate::model::valid_client_id(id) {
                    continue;
                }
                let rec = match p.call(&app_object::object(id), app_object::Snapshot {}).await {
                    Ok(r) => r,
                    Err(e) if e.code == ErrorCode::NotFound => continue,
                    Err(e) => return Err(e),
                };
                if rec.app.status == AppStatus::Deleted {
                    continue;
                }
                let data = AppData {
                    app: rec.app,
                    secret_hash: rec.secret_hash,
                    registration_hash: rec.registration_hash,
                    epoch: rec.epoch,
                };
                records.push(Line::new(Kind::App, &tenant, id, to_value(&data)?));
            }
            Some(
                page.next
                    .map_or_else(|| "people:".to_owned(), |n| format!("apps:{n}")),
            )
        }
        Cursor::People(after) => {
            let page = members(p, quota::Resource::People, after.clone(), PEOPLE_PER_PAGE).await?;
            for (id, email) in &page.members {
                if let Some(data) = person(p, id, email).await? {
                    records.push(Line::new(Kind::Person, &tenant, id, to_value(&data)?));
                }
            }
            page.next.map(|n| format!("people:{n}"))
        }
    };
    let mut e = Event::new(EventType::BackupExport, actor_word(actor), Outcome::Success).detail(format!(
        "{} records from {}",
        records.len(),
        match &cursor {
            Cursor::Start => "the start".to_owned(),
            Cursor::Apps(_) => "apps".to_owned(),
            Cursor::People(_) => "people".to_owned(),
        }
    ));
    if let Some(l) = p.tenant().label() {
        e = e.org(l.to_owned());
    }
    p.record(e);
    let header = Header {
        format: format::FORMAT.into(),
        version: format::VERSION,
        tenant,
        issuer: p.issuer(&req.origin),
        exported_at: p.now(),
    };
    let mut body = serde_json::json!({ "header": header, "records": records });
    if let Some(n) = next {
        crate::util::set(&mut body, "next_cursor", n);
    }
    Ok(Response::json(200, &body).no_store())
}

fn to_value<T: Serialize>(t: &T) -> Result<serde_json::Value> {
    serde_json::to_value(t).map_err(|_| Error::server("cannot encode a backup record"))
}

async fn members(
    p: &impl Platform,
    resource: quota::Resource,
    after: Option<String>,
    limit: usize,
) -> Result<quota::MemberPage> {
    p.call(
        &quota::object(),
        quota::Members {
            resource,
            after,
            limit,
        },
    )
    .await
}

/// A person of the people index, as a backup holds them; `None` when their account is gone or
/// is someone else's now.
async fn person(p: &impl Platform, id: &str, email: &str) -> Result<Option<PersonData>> {
    let account = match p.call(&account::object(email), account::Peek {}).await? {
        Some(a) if a.user_id == id => a,
        _ => return Ok(None),
    };
    let disabled = p.call(&user::object(id), people::Disabled {}).await?;
    let passkeys = p.call(&passkey::object(id), passkey::List {}).await?;
    let two_factor = p.call(&totp::object(id), totp::GetStatus {}).await?.enrolled;
    Ok(Some(PersonData {
        account,
        disabled,
        passkeys,
        two_factor,
    }))
}

/// What became of one record of an import.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Outcome1 {
    line: usize,
    kind: Kind,
    id: String,
    /// `created`, `updated`, `unchanged`, `conflict`, `refused`; a dry run's `would_create`,
    /// `would_update`.
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

/// `POST /admin/import[?dry_run=true]`: an NDJSON batch (`rules::backup`), each record checked
/// with the rules of its creation and restored unless something holds its id.
pub async fn import<P: Platform + AppStore>(
    p: &Scoped<'_, P>,
    req: &Request,
    actor: &str,
) -> Result<Response> {
    if req.media_type().as_deref() != Some("application/x-ndjson") {
        return Err(Error::new(
            ErrorCode::UnsupportedMediaType,
            "send the export's lines as application/x-ndjson (portcullis import FILE does)",
        ));
    }
    let q = Params::from_query(req)?;
    if let Some((k, _)) = q.iter().find(|(k, _)| *k != "dry_run") {
        return Err(Error::invalid_request(format!(
            "unknown parameter '{}'; the import takes only dry_run",
            k.chars().take(40).collect::<String>()
        )));
    }
    let dry_run = match q.get("dry_run") {
        None if !q.sent_empty("dry_run") => false,
        Some("true") => true,
        Some("false") => false,
        _ => return Err(Error::invalid_request("dry_run is true or false")),
    };
    let tenant = tenant_word(p.tenant());
    let batch = format::parse(&req.body, &tenant)?;
    let platform_operator = is_platform_token(p, req);
    let mut results = Vec::new();
    let mut refusals = Vec::new();
    for line in batch.lines {
        match line {
            Ok((n, line)) => {
                let (kind, id) = (line.kind, line.id.clone());
                let (result, detail) = match restore(p, line, dry_run, platform_operator).await {
                    Ok(done) => done,
                    // A store that failed is the server's, not the record's: the import stops,
                    // and running it again goes on (what was restored is `unchanged`).
                    Err(e) if e.status() >= 500 => return Err(e),
                    Err(e) if e.code == ErrorCode::LimitReached => ("conflict", Some(e.description)),
                    Err(e) => ("refused", Some(e.description)),
                };
                results.push(Outcome1 {
                    line: n,
                    kind,
                    id,
                    result,
                    detail,
                });
            }
            Err(r) => refusals.push(r),
        }
    }
    let count = |w: &str| results.iter().filter(|r| r.result == w).count();
    let refused = count("refused").saturating_add(refusals.len());
    let created = count("created").saturating_add(count("would_create"));
    let updated = count("updated").saturating_add(count("would_update"));
    let (unchanged, conflict) = (count("unchanged"), count("conflict"));
    let mut e = Event::new(
        EventType::BackupImport,
        actor_word(actor),
        if refused == 0 && conflict == 0 { Outcome::Success } else { Outcome::Refused },
    )
    .detail(format!(
        "{}{created} created, {updated} updated, {unchanged} unchanged, {conflict} conflicts, {refused} refused",
        if dry_run { "dry run: " } else { "" }
    ));
    if let Some(l) = p.tenant().label() {
        e = e.org(l.to_owned());
    }
    p.record(e);
    let body = serde_json::json!({
        "version": format::VERSION,
        "dry_run": dry_run,
        "results": results,
        "refused": refusals.iter().map(refusal_view).collect::<Vec<_>>(),
        "counts": {
            "created": created, "updated": updated, "unchanged": unchanged,
            "conflict": conflict, "refused": refused,
        },
    });
    Ok(Response::json(200, &body).no_store())
}

fn refusal_view(r: &Refusal) -> serde_json::Value {
    let mut v = serde_json::json!({ "line": r.line, "result": "refused", "detail": r.error });
    if let Some(k) = r.kind {
        crate::util::set(&mut v, "kind", k.as_str());
    }
    if let Some(i) = &r.id {
        crate::util::set(&mut v, "id", i.clone());
    }
    v
}

/// Whether the request carries the platform operator's `ADMIN_TOKEN` (not an organisation's
/// operator token, not a console session). Constant time.
fn is_platform_token(p: &impl Platform, req: &Request) -> bool {
    use crate::util::{ct_eq, sha256};
    match (req.bearer(), &p.config().admin_token) {
        (Some(given), Some(t)) => ct_eq(&sha256(given.as_bytes()), &sha256(t.0.as_bytes())),
        _ => false,
    }
}

type Done = (&'static str, Option<String>);

fn refused(why: impl Into<String>) -> Error {
    Error::invalid_request(why)
}

fn conflict(why: impl Into<String>) -> Error {
    Error::new(ErrorCode::LimitReached, why)
}

fn decode<T: serde::de::DeserializeOwned>(line: &Line) -> Result<T> {
    serde_json::from_value(line.data.clone()).map_err(|e| {
        refused(format!(
            "not a {} record of this version: {}",
            line.kind.as_str(),
            e.to_string().chars().take(160).collect::<String>()
        ))
    })
}

async fn restore<P: Platform + AppStore>(
    p: &Scoped<'_, P>,
    line: Line,
    dry_run: bool,
    platform_operator: bool,
) -> Result<Done> {
    match line.kind {
        Kind::App => restore_app(p, decode(&line)?, &line.id, dry_run).await,
        Kind::Person => restore_person(p, decode(&line)?, &line.id, dry_run).await,
        Kind::Operator => restore_operator(p, decode(&line)?, &line.id, dry_run).await,
        Kind::Settings => restore_settings(p, decode(&line)?, &line.id, dry_run, platform_operator).await,
    }
}

fn hash_ok(h: &Option<String>) -> bool {
    h.as_deref().is_none_or(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// An app's record, checked with the rules of [`crate::apps::create`] and of adding keys.
pub fn check_app(p: &impl Platform, data: &AppData, id: &str) -> Result<AppRecord> {
    let mut app = data.app.clone();
    if app.client_id != id {
        return Err(refused("the record's id is not its app's client_id"));
    }
    if app.bot_user.id != format!("bot_{id}") {
        return Err(refused("the bot user's id must be bot_<client_id>"));
    }
    if !hash_ok(&data.secret_hash) || !hash_ok(&data.registration_hash) {
        return Err(refused(
            "secret_hash and registration_hash are SHA-256 in lower-case hex",
        ));
    }
    if data.secret_hash.is_some() && !app.uses_secret() {
        return Err(refused(
            "an app that does not authenticate by secret has no secret_hash",
        ));
    }
    if app.keys.len() > 10 {
        return Err(refused("an app holds at most 10 keys"));
    }
    let mut kids = std::collections::HashSet::new();
    for k in &app.keys {
        let normal = crate::crypto::app_keys::normalise(k)?;
        if normal != *k {
            return Err(refused(
                "a public key is not in the form this server stores (an RSA JWK with its thumbprint as kid)",
            ));
        }
        if !kids.insert(
            normal
                .get("kid")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned(),
        ) {
            return Err(refused("a public key appears twice"));
        }
    }
    crate::apps::check(p, &mut app)?;
    Ok(AppRecord {
        app,
        secret_hash: data.secret_hash.clone(),
        epoch: data.epoch,
        registration_hash: data.registration_hash.clone(),
        revision: 0,
    })
}

async fn restore_app<P: Platform + AppStore>(
    p: &Scoped<'_, P>,
    data: AppData,
    id: &str,
    dry_run: bool,
) -> Result<Done> {
    let record = check_app(p, &data, id)?;
    match p.call(&app_object::object(id), app_object::Snapshot {}).await {
        Ok(have) if have.app.status == AppStatus::Deleted => Err(conflict(
            "an app with this client_id was deleted here; a deleted id is not reused",
        )),
        Ok(have) => {
            let same = have.app == record.app
                && have.secret_hash == record.secret_hash
                && have.registration_hash == record.registration_hash;
            if same {
                Ok(("unchanged", None))
            } else {
                Err(conflict(
                    "an app with this client_id exists and differs; it is left as it is",
                ))
            }
        }
        Err(e) if e.code == ErrorCode::NotFound => {
            if dry_run {
                return Ok(("would_create", None));
            }
            crate::apps::restore(p, record).await?;
            Ok(("created", None))
        }
        Err(e) => Err(e),
    }
}

/// A person's record, checked with the rules of sign-up and of registering a passkey.
pub fn check_person(data: &PersonData, id: &str) -> Result<()> {
    let a = &data.account;
    if a.user_id != id {
        return Err(refused("the record's id is not its account's user_id"));
    }
    if crate::accounts::normalise_email(&a.email) != a.email {
        return Err(refused(
            "the email is not in its normalised form (trimmed, NFKC, lower case)",
        ));
    }
    fields::email("email", &a.email, true)?;
    if !a.name.is_empty() {
        fields::name("name", &a.name, 100)?;
    }
    // An argon2id hash, an account made by an upstream sign-in (no password), or one whose
    // password an operator made unusable until it is reset.
    if !(a.password_hash.is_empty()
        || a.password_hash == UNUSABLE
        || crate::accounts::password::well_formed(&a.password_hash))
    {
        return Err(refused(
            "the password hash is not an argon2id hash this server writes",
        ));
    }
    if data.passkeys.len() > passkey::MAX_PASSKEYS {
        return Err(refused(format!(
            "at most {} passkeys per person",
            passkey::MAX_PASSKEYS
        )));
    }
    let mut ids = std::collections::HashSet::new();
    for k in &data.passkeys {
        let id_ok = crate::util::b64url_decode(&k.id).is_some_and(|b| (16..=1023).contains(&b.len()));
        let key = crate::util::b64url_decode(&k.public_key)
            .and_then(|b| crate::rules::webauthn::cose::parse(&b).ok());
        if !id_ok || !key.is_some_and(|key| key.alg() == k.alg) {
            return Err(refused(
                "a passkey's id or public key is not one a registration would accept",
            ));
        }
        if !k.name.is_empty() {
            fields::name("passkey name", &k.name, 100)?;
        }
        if !ids.insert(k.id.clone()) {
            return Err(refused("a passkey appears twice"));
        }
    }
    Ok(())
}

async fn restore_person<P: Platform + AppStore>(
    p: &Scoped<'_, P>,
    data: PersonData,
    id: &str,
    dry_run: bool,
) -> Result<Done> {
    check_person(&data, id)?;
    let a = data.account.clone();
    match p.call(&account::object(&a.email), account::Peek {}).await? {
        Some(have) if have == a => return Ok(("unchanged", None)),
        Some(_) => {
            return Err(conflict(
                "this email has another account here; it is left as it is",
            ))
        }
        None => {}
    }
    if p.call(&user::object(id), user::GetProfile {}).await?.is_some() {
        return Err(conflict(
            "this user id belongs to a person here with another email; left as it is",
        ));
    }
    let detail = data.two_factor.then(|| {
        "had a second factor (TOTP), which backups do not hold: it is off until they turn it on again"
            .to_owned()
    });
    if dry_run {
        return Ok(("would_create", detail));
    }
    // The flag first: no log-in between the account appearing and the person being disabled.
    if data.disabled {
        p.call(&user::object(id), people::SetDisabled { disabled: true })
            .await?;
    }
    crate::accounts::reserve_person(p, id, &a.email).await?;
    match crate::accounts::create_reserved(p, id, Ok(a.clone())).await? {
        Some(_) => {}
        // The email's account appeared meanwhile (a sign-up raced the import).
        None => {
            return Err(conflict(
                "this email got an account here meanwhile; it is left as it is",
            ))
        }
    }
    for k in data.passkeys {
        match p.call(&passkey::object(id), passkey::Add { record: k }).await {
            Ok(()) => {}
            Err(e) if e.code == ErrorCode::LimitReached => {}
            Err(e) => return Err(e),
        }
    }
    if data.disabled {
        let status = PersonStatus::Disabled;
        p.call(
            &quota::object(),
            people::SetStatus {
                member: id.to_owned(),
                status,
            },
        )
        .await?;
    }
    Ok(("created", detail))
}

/// An operator's record, checked with the rules of adding an operator.
pub fn check_operator(a: &OperatorAccount, id: &str) -> Result<()> {
    if a.id != id {
        return Err(refused("the record's id is not its operator's id"));
    }
    if crate::accounts::normalise_email(&a.email) != a.email {
        return Err(refused("the email is not in its normalised form"));
    }
    fields::email("email", &a.email, true)?;
    fields::name("name", &a.name, 100)?;
    if !crate::accounts::password::well_formed(&a.password_hash) {
        return Err(refused(
            "the password hash is not an argon2id hash this server writes",
        ));
    }
    Ok(())
}

async fn restore_operator<P: Platform + AppStore>(
    p: &Scoped<'_, P>,
    a: OperatorAccount,
    id: &str,
    dry_run: bool,
) -> Result<Done> {
    check_operator(&a, id)?;
    match p
        .call(&operator::operators(), operator::Restore { account: a, dry_run })
        .await?
    {
        Restored::Unchanged => Ok(("unchanged", None)),
        Restored::Created if dry_run => Ok(("would_create", None)),
        Restored::Created => Ok(("created", None)),
    }
}

async fn restore_settings<P: Platform + AppStore>(
    p: &Scoped<'_, P>,
    s: SettingsData,
    id: &str,
    dry_run: bool,
    platform_operator: bool,
) -> Result<Done> {
    let Tenant::Org(label) = p.tenant() else {
        return Err(refused(
            "the default tenant's settings are its configuration (wrangler.toml), not data",
        ));
    };
    if id != label {
        return Err(refused("these settings are another organisation's"));
    }
    let have = p
        .deployment()
        .call(&org::object(label), org::Get {})
        .await?
        .ok_or_else(|| Error::not_found("no such organisation"))?;
    let domains = (!s.domains.is_empty()).then(|| {
        format!(
            "custom domains are not restored: the platform operator adds them again ({})",
            s.domains.join(", ")
        )
    });
    if have.name == s.name && have.quotas == s.quotas && have.policies == s.policies && have.brand == s.brand
    {
        return Ok(("unchanged", domains));
    }
    if !platform_operator {
        return Err(Error::new(
            ErrorCode::AccessDenied,
            "only the platform operator (ADMIN_TOKEN) restores an organisation's settings",
        ));
    }
    // The PATCH /admin/orgs/{label} rules, by the same function.
    let body =
        serde_json::json!({ "name": s.name, "quotas": s.quotas, "policies": s.policies, "brand": s.brand });
    let req = Request {
        method: "PATCH".into(),
        path: format!("/admin/orgs/{label}"),
        query: String::new(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
        origin: String::new(),
        remote_addr: String::new(),
    };
    if dry_run {
        crate::admin::orgs::check_update(p.deployment(), &req)?;
        return Ok(("would_update", domains));
    }
    crate::admin::orgs::update(p.deployment(), label, &req).await?;
    Ok(("updated", domains))
}
