//! `organisation:<label>` and `organisations`: the registry of organisations (tenancy). One
//! object per organisation holds its record (so creating a label is atomic and each request's
//! lookup goes to that organisation's own object); the `organisations` index holds the labels,
//! for listing. Both live in the default (platform) tenant.

use super::protocol::{kind, load, op, save, Kind, Name};
use crate::error::{Error, ErrorCode, Result};
use serde::{Deserialize, Serialize};

kind!(Org = "organisation",
    /// The registry object of the organisation `label`.
    object);
kind!(OrgIndex = "organisations");
kind!(Domain = "domain");

/// The claim object of the custom domain `host` (normalised by `rules::tenant::custom_domain`):
/// one organisation holds a domain at a time.
pub fn domain(host: &str) -> Name<Domain> {
    Name::of(host)
}

/// The index of every organisation's label.
pub fn index() -> Name<OrgIndex> {
    Name::raw(OrgIndex::PREFIX.to_owned())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgStatus {
    Active,
    Suspended,
    /// Marked deleted: its host answers 404; its label stays taken (its data is not removed yet).
    Deleted,
}

/// An organisation's quotas; `None` is no limit. Apps and people are counted atomically in
/// the tenant's quota object, requests per minute in this object ([`Admit`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quotas {
    #[serde(default)]
    pub max_apps: Option<u32>,
    #[serde(default)]
    pub max_people: Option<u32>,
    #[serde(default)]
    pub max_requests_per_minute: Option<u32>,
}

/// An organisation's policies; `None` keeps the deployment's setting.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policies {
    /// RFC 7591 registration: `open`, `token` (an operator's token) or `off`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_client_registration: Option<bool>,
    /// May apps that opted in use the password grant?
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_grant: Option<bool>,
    /// The scope catalogue every app's scopes come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// The scopes a self-service app may hold until an operator approves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_service_scopes: Option<Vec<String>>,
}

/// What the organisation's pages show; the name defaults to the organisation's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Branding {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_email: Option<String>,
}

/// The organisation's public record (what the platform operator sees). Its signing keys and
/// operator token hashes are kept apart, under their own keys, and never shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgRecord {
    pub label: String,
    pub name: String,
    pub status: OrgStatus,
    pub created_at: i64,
    #[serde(default)]
    pub quotas: Quotas,
    #[serde(default)]
    pub policies: Policies,
    #[serde(default)]
    pub brand: Branding,
    /// Custom domains that serve this organisation (each claimed in its [`domain`] object).
    #[serde(default)]
    pub domains: Vec<String>,
    /// When a deleted organisation's data was all erased (`crate::tenancy::erase`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<i64>,
    /// Bumped by every change to the record, its keys or its operators: an isolate that holds
    /// this version holds the organisation's current state ([`Admit`]).
    #[serde(default)]
    pub version: u64,
}

/// One operator of an organisation: a bearer token for its own host's admin API, kept as a
/// SHA-256 (the token is 32 random bytes, shown once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operator {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token_sha256: String,
}

/// Everything an isolate needs to serve the organisation: its record, its signing keys
/// (PKCS#8 PEMs, the signing key first) and its operators' token hashes. Travels only between
/// this object and the worker; never stored in KV, never logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub record: OrgRecord,
    pub keys: Vec<String>,
    pub operator_hashes: Vec<String>,
}

/// The answer to [`Admit`]: whether the organisation is served, and its state when the caller
/// does not hold the current version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Admission {
    /// `None`: no such organisation.
    pub status: Option<OrgStatus>,
    pub version: u64,
    /// Seconds until the next minute window when its request quota is used up.
    pub retry_after: Option<i64>,
    pub snapshot: Option<Snapshot>,
}

const RECORD: &str = "org";
const KEYS: &str = "keys";
const OPERATORS: &str = "operators";
const REQUESTS: &str = "requests";
/// Keys kept after a rotation: the signing one and two before it (their tokens still verify).
pub const KEYS_KEPT: usize = 3;
/// Operators per organisation.
pub const MAX_OPERATORS: usize = 50;

fn no_such_org() -> Error {
    Error::not_found("no such organisation")
}

fn live(kv: &dyn super::kv::Kv) -> Result<OrgRecord> {
    load::<OrgRecord>(kv, RECORD)?
        .filter(|r| r.status != OrgStatus::Deleted)
        .ok_or_else(no_such_org)
}

/// Saves the record with its version bumped (every change goes through here).
fn bump(kv: &mut dyn super::kv::Kv, mut record: OrgRecord) -> Result<OrgRecord> {
    record.version = record.version.saturating_add(1);
    save(kv, RECORD, &record, None)?;
    Ok(record)
}

fn snapshot(kv: &dyn super::kv::Kv, record: OrgRecord) -> Result<Snapshot> {
    let operators: Vec<Operator> = load(kv, OPERATORS)?.unwrap_or_default();
    Ok(Snapshot {
        record,
        keys: load(kv, KEYS)?.unwrap_or_default(),
        operator_hashes: operators.into_iter().map(|o| o.token_sha256).collect(),
    })
}

op! {
    /// Records a new organisation; `limit_reached` (409) when its label is taken (also by a
    /// deleted organisation, whose data is not removed yet).
    Create in Org => OrgRecord {
        pub record: OrgRecord,
    }
    |cmd, kv, now| {
        if load::<OrgRecord>(kv, RECORD)?.is_some() {
            return Err(Error::new(
                ErrorCode::LimitReached,
                format!("the label '{}' is already taken", cmd.record.label),
            ));
        }
        bump(kv, OrgRecord { created_at: now, version: 0, ..cmd.record })
    }
}

op! {
    /// The organisation's record, deleted or not.
    Get in Org => Option<OrgRecord> {}
    |_, kv, _now| { load(kv, RECORD) }
}

op! {
    /// Whether the organisation is served, counting this request against its per-minute quota
    /// (check and count in one step), with its state when `known` is not the current version.
    /// One call per request on an organisation's host.
    Admit in Org => Admission {
        pub known: Option<u64>,
    }
    |cmd, kv, now| {
        let Some(record) = load::<OrgRecord>(kv, RECORD)? else {
            return Ok(Admission { status: None, version: 0, retry_after: None, snapshot: None });
        };
        let mut retry_after = None;
        if let (OrgStatus::Active, Some(limit)) = (record.status, record.quotas.max_requests_per_minute) {
            match super::counter::check(kv, now, REQUESTS, limit) {
                Ok(()) => super::counter::add(kv, now, REQUESTS)?,
                Err(_) => {
                    let w = super::counter::WINDOW;
                    retry_after = Some((w - now.rem_euclid(w)).max(1));
                }
            }
        }
        let (status, version) = (record.status, record.version);
        let snapshot = match (status, cmd.known == Some(version)) {
            (OrgStatus::Active, false) => Some(snapshot(kv, record)?),
            _ => None,
        };
        Ok(Admission { status: Some(status), version, retry_after, snapshot })
    }
}

op! {
    /// Stores `pem` as the organisation's first signing key unless it has one (racing isolates
    /// agree: the first offer wins), and answers the current state.
    OfferKey in Org => Snapshot {
        pub pem: String,
    }
    |cmd, kv, _now| {
        let mut record = live(kv)?;
        let keys: Vec<String> = load(kv, KEYS)?.unwrap_or_default();
        if keys.is_empty() {
            save(kv, KEYS, &vec![cmd.pem], None)?;
            record = bump(kv, record)?;
        }
        snapshot(kv, record)
    }
}

op! {
    /// Makes `pem` the signing key; the previous ones still verify, up to [`KEYS_KEPT`] in all.
    RotateKey in Org => Snapshot {
        pub pem: String,
        /// Rotate only if the record is still at this version (isolates that all saw the same
        /// stale key set rotate once, not once each).
        #[serde(default)]
        pub if_version: Option<u64>,
    }
    |cmd, kv, _now| {
        let record = live(kv)?;
        if cmd.if_version.is_some_and(|v| v != record.version) {
            return snapshot(kv, record);
        }
        let mut keys: Vec<String> = load(kv, KEYS)?.unwrap_or_default();
        keys.insert(0, cmd.pem);
        keys.truncate(KEYS_KEPT);
        save(kv, KEYS, &keys, None)?;
        let record = bump(kv, record)?;
        snapshot(kv, record)
    }
}

op! {
    /// Changes what is given: the name, and each of quotas, policies and brand as a whole.
    Update in Org => OrgRecord {
        pub name: Option<String>,
        pub quotas: Option<Quotas>,
        pub policies: Option<Policies>,
        pub brand: Option<Branding>,
    }
    |cmd, kv, _now| {
        let mut record = live(kv)?;
        if let Some(n) = cmd.name { record.name = n; }
        if let Some(q) = cmd.quotas { record.quotas = q; }
        if let Some(p) = cmd.policies { record.policies = p; }
        if let Some(b) = cmd.brand { record.brand = b; }
        bump(kv, record)
    }
}

op! {
    /// Adds an operator (at most [`MAX_OPERATORS`]).
    AddOperator in Org => () {
        pub operator: Operator,
    }
    |cmd, kv, _now| {
        let record = live(kv)?;
        let mut operators: Vec<Operator> = load(kv, OPERATORS)?.unwrap_or_default();
        if operators.len() >= MAX_OPERATORS {
            return Err(Error::new(
                ErrorCode::LimitReached,
                format!("an organisation has at most {MAX_OPERATORS} operators"),
            ));
        }
        operators.push(cmd.operator);
        save(kv, OPERATORS, &operators, None)?;
        bump(kv, record).map(|_| ())
    }
}

op! {
    /// The operators, without their token hashes.
    ListOperators in Org => Vec<Operator> {}
    |_, kv, _now| {
        live(kv)?;
        let operators: Vec<Operator> = load(kv, OPERATORS)?.unwrap_or_default();
        Ok(operators.into_iter().map(|o| Operator { token_sha256: String::new(), ..o }).collect())
    }
}

op! {
    /// Removes the operator `id`: its token stops working at the next request.
    RemoveOperator in Org => () {
        pub id: String,
    }
    |cmd, kv, _now| {
        let record = live(kv)?;
        let mut operators: Vec<Operator> = load(kv, OPERATORS)?.unwrap_or_default();
        let before = operators.len();
        operators.retain(|o| o.id != cmd.id);
        if operators.len() == before {
            return Err(Error::not_found("no such operator"));
        }
        save(kv, OPERATORS, &operators, None)?;
        bump(kv, record).map(|_| ())
    }
}

op! {
    /// Lists `host` among the organisation's domains (at most `rules::tenant::MAX_DOMAINS`).
    AddDomain in Org => OrgRecord {
        pub host: String,
    }
    |cmd, kv, _now| {
        let mut record = live(kv)?;
        if record.domains.contains(&cmd.host) {
            return Ok(record);
        }
        let max = crate::rules::tenant::MAX_DOMAINS;
        if record.domains.len() >= max {
            return Err(Error::new(
                ErrorCode::LimitReached,
                format!("an organisation has at most {max} custom domains"),
            ));
        }
        record.domains.push(cmd.host);
        bump(kv, record)
    }
}

op! {
    /// Takes `host` off the organisation's domains (`not_found` when it is not one).
    RemoveDomain in Org => OrgRecord {
        pub host: String,
    }
    |cmd, kv, _now| {
        let mut record = live(kv)?;
        if !record.domains.contains(&cmd.host) {
            return Err(Error::not_found("no such domain for this organisation"));
        }
        record.domains.retain(|d| d != &cmd.host);
        bump(kv, record)
    }
}

const HOLDER: &str = "org";

op! {
    /// Claims the domain for the organisation `label`: first come, first served (idempotent
    /// for its holder; `limit_reached` when another organisation holds it).
    Claim in Domain => () {
        pub label: String,
    }
    |cmd, kv, _now| {
        match kv.get(HOLDER)? {
            Some(holder) if holder != cmd.label => Err(Error::new(
                ErrorCode::LimitReached,
                "this domain already serves another organisation",
            )),
            Some(_) => Ok(()),
            None => kv.put(HOLDER, &cmd.label, None),
        }
    }
}

op! {
    /// Gives up the domain, if `label` holds it.
    Release in Domain => () {
        pub label: String,
    }
    |cmd, kv, _now| {
        if kv.get(HOLDER)?.as_deref() == Some(cmd.label.as_str()) {
            kv.delete(HOLDER)?;
        }
        Ok(())
    }
}

fn set_status(kv: &mut dyn super::kv::Kv, status: OrgStatus) -> Result<OrgRecord> {
    let mut record = live(kv)?;
    record.status = status;
    bump(kv, record)
}

op! {
    /// Suspends an organisation: its host answers 403 until it is resumed.
    Suspend in Org => OrgRecord {}
    |_, kv, _now| { set_status(kv, OrgStatus::Suspended) }
}

op! {
    /// Serves a suspended organisation again.
    Resume in Org => OrgRecord {}
    |_, kv, _now| { set_status(kv, OrgStatus::Active) }
}

op! {
    /// Marks an organisation deleted: its host answers 404. Its keys and operators go at once.
    Delete in Org => OrgRecord {}
    |_, kv, _now| {
        let record = set_status(kv, OrgStatus::Deleted)?;
        kv.delete(KEYS)?;
        kv.delete(OPERATORS)?;
        Ok(record)
    }
}

op! {
    /// Records that a deleted organisation's data is all erased (only a deleted one).
    MarkErased in Org => OrgRecord {}
    |_, kv, now| {
        let record = load::<OrgRecord>(kv, RECORD)?
            .filter(|r| r.status == OrgStatus::Deleted)
            .ok_or_else(no_such_org)?;
        bump(kv, OrgRecord { erased_at: Some(now), ..record })
    }
}

fn label_key(label: &str) -> String {
    format!("label:{label}")
}

op! {
    /// Adds a label to the index (idempotent).
    IndexAdd in OrgIndex => () {
        pub label: String,
    }
    |cmd, kv, _now| { kv.put(&label_key(&cmd.label), "1", None) }
}

/// One page of labels, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    pub labels: Vec<String>,
    pub next: Option<String>,
}

op! {
    /// The labels after `after`, at most `limit`.
    IndexList in OrgIndex => Page {
        pub after: Option<String>,
        pub limit: usize,
    }
    |cmd, kv, _now| {
        let after = cmd.after.map(|a| label_key(&a));
        let rows = kv.list("label:", after.as_deref(), cmd.limit.saturating_add(1))?;
        let mut labels: Vec<String> = rows
            .into_iter()
            .filter_map(|(k, _)| k.strip_prefix("label:").map(str::to_owned))
            .collect();
        let next = if labels.len() > cmd.limit {
            labels.truncate(cmd.limit);
            labels.last().cloned()
        } else {
            None
        };
        Ok(Page { labels, next })
    }
}
