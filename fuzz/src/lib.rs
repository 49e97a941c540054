//! Fixtures shared by the fuzz targets: a fixed signing key (test only), an in-memory platform
//! with one registered app whose public key is that key, and helpers to sign tokens for seeds.
//!
//! Everything is deterministic across runs (fixed key, fixed clock, fixed app) so that a crash
//! found once reproduces from its input file alone.

use portcullis::config::{Config, Secret};
use portcullis::crypto::keys::{rsa_public_jwk, rsa_thumbprint, SigningKeys};
use portcullis::model::{App, AppRecord, BotUser, Status};
use portcullis::platform::memory::{block_on, MemPlatform};
use portcullis::objects::app;
use portcullis::platform::{Directory, Objects};
use rsa::pkcs8::DecodePrivateKey;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// A 2048-bit RSA key made for fuzzing only (never used by a server): signs the seed tokens.
pub const KEY_PEM: &str = include_str!("../keys/fuzz-only-signing-key.pem");

/// The issuer the fixtures use (`iss` of seed tokens, the `origin` of fuzzed requests).
pub const ISSUER: &str = "https://as.example";

/// The client id of the one registered app (32 URL-safe characters, as the server makes them).
pub const CLIENT_ID: &str = "fuzzclient0000000000000000000001";

/// The fixed clock of every platform (`MemPlatform`'s default).
pub const NOW: i64 = 1_795_000_000;

/// The CSRF cookie the router target sends (a form's `csrf` field must repeat it).
pub const CSRF: &str = "csrf0csrf0csrf0csrf0csrf0csrf0csrf0csrf0csr";

/// The admin token of the fuzzing platform.
pub const ADMIN_TOKEN: &str = "fuzz-admin-token";

pub fn signing_keys() -> SigningKeys {
    SigningKeys::from_pems(KEY_PEM, true).expect("the fuzz key parses")
}

/// [`KEY_PEM`], parsed once per process (parsing costs milliseconds).
pub fn private_key() -> &'static rsa::RsaPrivateKey {
    static KEY: OnceLock<rsa::RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| rsa::RsaPrivateKey::from_pkcs8_pem(KEY_PEM).expect("the fuzz key parses"))
}

/// The public JWK of [`KEY_PEM`], `kid` = its RFC 7638 thumbprint (what the server stores).
pub fn public_jwk() -> &'static serde_json::Value {
    static JWK: OnceLock<serde_json::Value> = OnceLock::new();
    JWK.get_or_init(|| {
        let public = private_key().to_public_key();
        rsa_public_jwk(&public, &rsa_thumbprint(&public))
    })
}

pub fn config() -> Config {
    Config {
        issuer: Some(ISSUER.into()),
        admin_token: Some(Secret(ADMIN_TOKEN.into())),
        gateway_routes: portcullis::gateway::parse_routes(
            r#"[{"prefix":"/api","scopes":["public"],"origin":"http://origin.invalid"},{"prefix":"/api/admin","scopes":["users:write"],"origin":"http://origin.invalid"}]"#,
        )
        .unwrap_or_default(),
        ..Config::default()
    }
}

/// The registered app: confidential (secret `fuzz-secret`), code flow, refresh, client
/// credentials, jwt-bearer, password, the fixed key, two redirect URIs.
pub fn app() -> App {
    App {
        client_id: CLIENT_ID.into(),
        name: "Fuzz app".into(),
        description: String::new(),
        homepage: String::new(),
        image_uri: String::new(),
        admin_email: String::new(),
        admin_phone: String::new(),
        owner: "operator".into(),
        redirect_uris: vec!["https://client.example/cb".into(), "http://127.0.0.1/cb".into()],
        grant_types: vec![
            "authorization_code".into(),
            "refresh_token".into(),
            "client_credentials".into(),
            "password".into(),
            "urn:ietf:params:oauth:grant-type:jwt-bearer".into(),
        ],
        scopes: vec!["public".into(), "users:read".into()],
        default_scopes: None,
        post_logout_redirect_uris: Vec::new(),
        backchannel_logout_uri: None,
        backchannel_logout_session_required: false,
        id_token_signed_response_alg: None,
        subject_type: None,
        default_max_age: None,
        require_auth_time: false,
        require_pushed_authorization_requests: false,
        trusted: true,
        self_service: false,
        approved: false,
        introspection: false,
        api: String::new(),
        token_lifetime: None,
        token_endpoint_auth_method: "client_secret_basic".into(),
        keys: vec![public_jwk().clone()],
        bot_user: BotUser {
            id: format!("bot_{CLIENT_ID}"),
            name: "Fuzz app (bot)".into(),
        },
        status: Status::Active,
        created_at: NOW - 100,
        updated_at: NOW - 100,
    }
}

/// A platform over the fixed key and config with [`app`] registered (its Durable Object and
/// its KV copy), built once per process; [`Fixture::reset`] restores that state per input.
pub struct Fixture {
    pub p: MemPlatform,
    /// A signed-in person's session cookie value (see [`Fixture::with_session`]).
    pub session: Option<String>,
    shards: HashMap<String, portcullis::objects::kv::MemKv>,
    kv: BTreeMap<String, App>,
}

impl Fixture {
    pub fn new() -> Fixture {
        let p = MemPlatform::new(config(), signing_keys());
        let record = AppRecord {
            app: app(),
            secret_hash: Some(portcullis::util::sha256_hex("fuzz-secret")),
            epoch: 0,
            registration_hash: None,
            revision: 0,
        };
        block_on(p.call(&app::object(CLIENT_ID), app::Create { record }))
            .expect("the fixture app is created");
        block_on(p.put_app_meta(&app())).expect("KV write");
        let shards = p.shards.borrow().clone();
        let kv = p.kv.borrow().clone();
        Fixture {
            p,
            session: None,
            shards,
            kv,
        }
    }

    /// [`Fixture::new`] plus one account (`person@fuzz.example`) signed in: its session
    /// cookie value is [`Fixture::session`]. Runs argon2id once.
    pub fn with_session() -> Fixture {
        let mut fx = Fixture::new();
        let profile = block_on(portcullis::accounts::sign_up(
            &fx.p,
            "person@fuzz.example",
            "correct horse battery",
            "Fuzz Person",
        ))
        .expect("sign-up")
        .expect("a new account");
        let token = block_on(portcullis::accounts::start_session(&fx.p, &portcullis::http::Request::default(), &profile, &["pwd"])).expect("session");
        fx.session = Some(token);
        fx.shards = fx.p.shards.borrow().clone();
        fx.kv = fx.p.kv.borrow().clone();
        fx
    }

    /// Back to the state right after [`Fixture::new`]: the same app, nothing else stored.
    pub fn reset(&self) {
        *self.p.shards.borrow_mut() = self.shards.clone();
        *self.p.kv.borrow_mut() = self.kv.clone();
        self.p.liveness.clear();
        self.p.origin_requests.borrow_mut().clear();
        self.p.audit_log.borrow_mut().clear();
        self.p.clock.set(NOW);
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

/// Signs `claims` with [`KEY_PEM`] under an arbitrary JSON header (for seeds). RS256 by the
/// `rsa` crate directly, independent of the server's own signing code.
pub fn sign(header: &serde_json::Value, claims: &serde_json::Value) -> String {
    let input = format!(
        "{}.{}",
        portcullis::util::b64url(header.to_string().as_bytes()),
        portcullis::util::b64url(claims.to_string().as_bytes())
    );
    let sig = rs256_reference_sign(private_key(), input.as_bytes());
    format!("{input}.{}", portcullis::util::b64url(&sig))
}

/// RSASSA-PKCS1-v1_5 with SHA-256 by the `rsa` crate: the reference the fuzzers compare with.
pub fn rs256_reference_sign(key: &rsa::RsaPrivateKey, msg: &[u8]) -> Vec<u8> {
    use rsa::signature::{SignatureEncoding, Signer};
    rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key.clone())
        .sign(msg)
        .to_vec()
}

/// The `rsa` crate's RS256 verification: the reference the fuzzers compare with.
pub fn rs256_reference_verify(key: &rsa::RsaPublicKey, msg: &[u8], sig: &[u8]) -> bool {
    use rsa::signature::Verifier;
    let Ok(sig) = rsa::pkcs1v15::Signature::try_from(sig) else {
        return false;
    };
    rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.clone())
        .verify(msg, &sig)
        .is_ok()
}

/// The `kid` of [`KEY_PEM`].
pub fn kid() -> &'static str {
    public_jwk()["kid"].as_str().unwrap_or_default()
}
