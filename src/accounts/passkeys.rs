//! Passkeys (WebAuthn): registering one for the signed-in person, and logging in with one, no
//! password or email needed (a discoverable credential names its account by its user handle).
//!
//! The relying party is the tenant's issuer: its origin is the only origin accepted and its
//! host is the RP ID, so a passkey of one organisation is not a passkey at another (and its
//! objects are the tenant's too). Challenges are 32 random bytes kept, by hash, in their own
//! object (`objects::passkey`) for [`CHALLENGE_TTL`] seconds, bound to what they are for (the
//! person for a registration) and to the browser they were issued to (its CSRF cookie), and
//! taken once: a replayed ceremony finds nothing. The checks themselves are
//! `rules::webauthn`; the signature arithmetic `crypto::cose`.

use super::cookies;
use crate::crypto::cose as verify;
use crate::error::{Error, ErrorCode, Result};
use crate::http::Request;
use crate::objects::counter;
use crate::objects::passkey::{self, ChallengeRecord, PasskeyRecord, Purpose};
use crate::objects::session::SessionRecord;
use crate::objects::user::{self, Profile};
use crate::platform::Platform;
use crate::rules::webauthn::{self, client_data, cose, cose::CoseKey, RelyingParty};
use crate::util::{b64url, b64url_decode, hex, sha256_hex};
use serde::Deserialize;
use serde_json::{json, Value};

/// How long a ceremony may take, from the options to the answer (seconds).
pub const CHALLENGE_TTL: i64 = 300;

/// The relying party of a tenant whose issuer is `issuer`: its origin and its host.
pub struct Rp {
    pub origin: String,
    pub rp_id: String,
}

impl Rp {
    pub fn of(issuer: &str) -> Result<Rp> {
        let url = url::Url::parse(issuer).map_err(|_| Error::server("the issuer is not a URL"))?;
        let rp_id = url
            .host_str()
            .ok_or_else(|| Error::server("the issuer has no host"))?
            .to_owned();
        Ok(Rp {
            origin: url.origin().ascii_serialization(),
            rp_id,
        })
    }
    fn rules(&self) -> RelyingParty<'_> {
        RelyingParty {
            origin: &self.origin,
            rp_id: &self.rp_id,
        }
    }
}

fn refused(r: webauthn::Refusal) -> Error {
    Error::new(ErrorCode::AccessDenied, r.describe())
}

fn malformed(what: &str) -> Error {
    Error::invalid_request(format!("{what} is missing or malformed"))
}

/// The browser a challenge is bound to: the hash of its CSRF cookie (the JSON endpoints check
/// that cookie against the request's `csrf` first).
fn browser_of(req: &Request) -> Result<String> {
    cookies::get(req, &cookies::csrf_name(req))
        .map(sha256_hex)
        .ok_or_else(|| Error::new(ErrorCode::AccessDenied, "this browser has no CSRF cookie"))
}

async fn issue(p: &impl Platform, req: &Request, purpose: Purpose, user_id: Option<&str>) -> Result<String> {
    let mut bytes = [0u8; 32];
    p.fill_random(&mut bytes)?;
    let record = ChallengeRecord {
        purpose,
        user_id: user_id.map(str::to_owned),
        browser: browser_of(req)?,
        expires_at: p.now() + CHALLENGE_TTL,
    };
    let name = passkey::challenge(&hex(&crate::util::sha256(&bytes)));
    p.call(&name, passkey::Issue { record }).await?;
    Ok(b64url(&bytes))
}

/// Takes the challenge the client data names, and checks it was issued for `purpose`, to this
/// browser (and, for a registration, to `user_id`). Taken whatever follows: one try each.
async fn take(p: &impl Platform, req: &Request, cd: &client_data::ClientData, purpose: Purpose, user_id: Option<&str>) -> Result<()> {
    let name = passkey::challenge(&hex(&crate::util::sha256(&cd.challenge)));
    let found = p.call(&name, passkey::Take {}).await?;
    let expired = || Error::new(ErrorCode::AccessDenied, "the passkey request expired or was already used: try again");
    let c = found.ok_or_else(expired)?;
    let ok = c.purpose == purpose
        && crate::util::ct_eq(c.browser.as_bytes(), browser_of(req)?.as_bytes())
        && c.user_id.as_deref() == user_id;
    if ok {
        Ok(())
    } else {
        Err(expired())
    }
}

fn credential_descriptor(id: &str) -> Value {
    json!({"type": "public-key", "id": id})
}

/// `PublicKeyCredentialCreationOptions` (as JSON, binary fields base64url) for the signed-in
/// person: a discoverable credential with user verification, no attestation, the person's
/// passkeys excluded. `rp_name` is what the authenticator shows (the tenant's brand name).
pub async fn registration_options(p: &impl Platform, issuer: &str, req: &Request, s: &SessionRecord, rp_name: &str) -> Result<Value> {
    let rp = Rp::of(issuer)?;
    let existing = list(p, &s.user_id).await?;
    if existing.len() >= passkey::MAX_PASSKEYS {
        return Err(Error::new(
            ErrorCode::LimitReached,
            format!("at most {} passkeys per account: remove one first", passkey::MAX_PASSKEYS),
        ));
    }
    let challenge = issue(p, req, Purpose::Register, Some(&s.user_id)).await?;
    let params: Vec<Value> = cose::ALGORITHMS
        .iter()
        .map(|alg| json!({"type": "public-key", "alg": alg}))
        .collect();
    Ok(json!({"publicKey": {
        "rp": {"id": rp.rp_id, "name": rp_name},
        "user": {"id": b64url(s.user_id.as_bytes()), "name": s.email, "displayName": s.name},
        "challenge": challenge,
        "pubKeyCredParams": params,
        "timeout": CHALLENGE_TTL * 1000,
        "attestation": "none",
        "authenticatorSelection": {"residentKey": "required", "requireResidentKey": true, "userVerification": "required"},
        "excludeCredentials": existing.iter().map(|k| credential_descriptor(&k.id)).collect::<Vec<_>>(),
    }}))
}

/// `PublicKeyCredentialRequestOptions` for a log-in with any of this site's passkeys.
pub async fn login_options(p: &impl Platform, issuer: &str, req: &Request) -> Result<Value> {
    let rp = Rp::of(issuer)?;
    let challenge = issue(p, req, Purpose::Login, None).await?;
    Ok(json!({"publicKey": {
        "challenge": challenge,
        "rpId": rp.rp_id,
        "timeout": CHALLENGE_TTL * 1000,
        "userVerification": "required",
        "allowCredentials": [],
    }}))
}

/// A `PublicKeyCredential` as the page's script sends it (binary fields base64url).
#[derive(Deserialize)]
pub struct Credential {
    id: String,
    #[serde(rename = "rawId")]
    raw_id: String,
    #[serde(rename = "type")]
    kind: String,
    response: CredentialResponse,
}

#[derive(Deserialize)]
struct CredentialResponse {
    #[serde(rename = "clientDataJSON")]
    client_data_json: String,
    #[serde(rename = "attestationObject", default)]
    attestation_object: Option<String>,
    #[serde(default)]
    transports: Vec<String>,
    #[serde(rename = "authenticatorData", default)]
    authenticator_data: Option<String>,
    #[serde(default)]
    signature: Option<String>,
    #[serde(rename = "userHandle", default)]
    user_handle: Option<String>,
}

fn field(v: Option<&String>, what: &str) -> Result<Vec<u8>> {
    v.and_then(|s| b64url_decode(s)).ok_or_else(|| malformed(what))
}

impl Credential {
    pub fn from_json(v: &Value) -> Result<Credential> {
        let c: Credential = serde_json::from_value(v.clone()).map_err(|_| malformed("the credential"))?;
        if c.kind != "public-key" || c.id != c.raw_id {
            return Err(malformed("the credential"));
        }
        Ok(c)
    }
    fn raw_id(&self) -> Result<Vec<u8>> {
        let id = field(Some(&self.raw_id), "the credential id")?;
        if !(webauthn::auth_data::MIN_CREDENTIAL_ID..=webauthn::auth_data::MAX_CREDENTIAL_ID).contains(&id.len()) {
            return Err(malformed("the credential id"));
        }
        Ok(id)
    }
    fn client_data(&self) -> Result<(Vec<u8>, client_data::ClientData)> {
        let raw = field(Some(&self.response.client_data_json), "clientDataJSON")?;
        let cd = client_data::parse(&raw).ok_or_else(|| malformed("clientDataJSON"))?;
        Ok((raw, cd))
    }
}

/// A display name for a passkey: trimmed, printable, at most 60 characters; "Passkey" when
/// none is given.
fn passkey_name(name: Option<&str>) -> Result<String> {
    let name = name.map(str::trim).filter(|n| !n.is_empty()).unwrap_or("Passkey");
    crate::rules::fields::name("name", name, 60)?;
    Ok(name.to_owned())
}

/// Verifies a registration answer for the signed-in person and keeps the passkey.
pub async fn register(p: &impl Platform, issuer: &str, req: &Request, s: &SessionRecord, credential: &Credential, name: Option<&str>) -> Result<PasskeyRecord> {
    let rp = Rp::of(issuer)?;
    let name = passkey_name(name)?;
    let raw_id = credential.raw_id()?;
    let (_, cd) = credential.client_data()?;
    let attestation = field(credential.response.attestation_object.as_ref(), "attestationObject")?;
    take(p, req, &cd, Purpose::Register, Some(&s.user_id)).await?;
    let r = webauthn::verify_registration(rp.rules(), &cd, &attestation, &raw_id).map_err(refused)?;
    let transports = credential
        .response
        .transports
        .iter()
        .filter(|t| t.len() <= 16 && t.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
        .take(8)
        .cloned()
        .collect();
    let record = PasskeyRecord {
        id: b64url(&r.credential_id),
        public_key: b64url(&r.public_key_cose),
        alg: r.public_key.alg(),
        sign_count: r.sign_count,
        name,
        created_at: p.now(),
        last_used_at: None,
        backup_eligible: r.backup_eligible,
        backed_up: r.backed_up,
        aaguid: hex(&r.aaguid),
        transports,
    };
    p.call(&passkey::object(&s.user_id), passkey::Add { record: record.clone() })
        .await?;
    Ok(record)
}

fn check_signature(key: &CoseKey, msg: &[u8], sig: &[u8]) -> bool {
    match key {
        CoseKey::Es256 { x, y } => verify::verify_es256(x, y, msg, sig),
        CoseKey::Ed25519 { x } => verify::verify_ed25519(x, msg, sig),
        CoseKey::Rs256 { n, e } => verify::verify_rs256(n, e, msg, sig),
    }
}

/// Who a log-in with a passkey proved, and how (RFC 8176 `amr`).
pub struct PasskeyLogin {
    pub profile: Profile,
    pub amr: Vec<String>,
}

/// Verifies a log-in answer: the challenge (taken), the person its user handle names, the
/// passkey among theirs, the WebAuthn checks and the signature, then the counter (again,
/// atomically, in the person's object). Attempts count against the address's log-in limit
/// as password log-ins do; a success gives its attempt back.
pub async fn log_in(p: &impl Platform, issuer: &str, req: &Request, credential: &Credential) -> Result<PasskeyLogin> {
    let rp = Rp::of(issuer)?;
    let raw_id = credential.raw_id()?;
    let (raw_cd, cd) = credential.client_data()?;
    let auth_data = field(credential.response.authenticator_data.as_ref(), "authenticatorData")?;
    let signature = field(credential.response.signature.as_ref(), "signature")?;
    if signature.len() > 1024 || auth_data.len() > 4096 {
        return Err(malformed("the credential"));
    }
    take(p, req, &cd, Purpose::Login, None).await?;
    let ip = counter::login_address(&super::address(req));
    p.call(&ip, counter::Reserve { limit: p.config().login_limit_address })
        .await?;
    let unknown = || Error::new(ErrorCode::AccessDenied, "this passkey is not registered here");
    // Discoverable credentials name their account: the user handle is the user id.
    let user_id = credential
        .response
        .user_handle
        .as_deref()
        .and_then(b64url_decode)
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|u| !u.is_empty() && u.len() <= 64 && u.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .ok_or_else(unknown)?;
    let id = b64url(&raw_id);
    let object = passkey::object(&user_id);
    let stored = p
        .call(&object, passkey::Get { id: id.clone() })
        .await?
        .ok_or_else(unknown)?;
    let key_bytes = b64url_decode(&stored.public_key).ok_or_else(|| Error::server("a stored passkey is unreadable"))?;
    let key = cose::parse(&key_bytes).map_err(|_| Error::server("a stored passkey is unreadable"))?;
    let asserted = webauthn::verify_assertion(
        rp.rules(),
        &cd,
        &raw_cd,
        &auth_data,
        &signature,
        webauthn::Stored {
            key: &key,
            sign_count: stored.sign_count,
            backup_eligible: stored.backup_eligible,
        },
        check_signature,
    )
    .map_err(refused)?;
    let used = passkey::Use {
        id,
        sign_count: asserted.sign_count,
        backed_up: asserted.backed_up,
    };
    p.call(&object, used).await?;
    let profile = p
        .call(&user::object(&user_id), user::GetProfile {})
        .await?
        .ok_or_else(unknown)?;
    p.call(&ip, counter::Release {}).await?;
    Ok(PasskeyLogin {
        profile,
        amr: webauthn::amr(asserted.user_verified, stored.backup_eligible),
    })
}

/// The person's passkeys.
pub async fn list(p: &impl Platform, user_id: &str) -> Result<Vec<PasskeyRecord>> {
    p.call(&passkey::object(user_id), passkey::List {}).await
}

/// Removes one of the person's passkeys; `false` when they had no such passkey.
pub async fn remove(p: &impl Platform, user_id: &str, id: &str) -> Result<bool> {
    if id.is_empty() || id.len() > 1400 {
        return Ok(false);
    }
    p.call(&passkey::object(user_id), passkey::Remove { id: id.to_owned() })
        .await
}
