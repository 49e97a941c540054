//! The Durable Objects layer: what each object holds and the commands it runs atomically.
//! One module per kind of object, each with its name, its keys, its commands and their rules:
//!
//! | object name         | kind module | holds                                                        |
//! |---------------------|-------------|--------------------------------------------------------------|
//! | `app:<client_id>`   | `app`       | the [`AppRecord`](crate::model::AppRecord) (secret hash, status, epoch); used assertion `jti`s; revoked access-token `jti`s; the app's call and failed-authentication counters |
//! | `appshard:<client_id>:<k>` | `app_shard` | a replica (k = 1…7) of the app's record, fenced by revision; its share of the call and failed-authentication counters; revoked `jti`s of the access tokens minted on it; assertion `jti`s that hash to it |
//! | `grant:<gid>`       | `grants`    | one grant of one app: its authorization code, the grant and its refresh tokens (code and refresh token are `<gid>.<secret>`, so they name their object) |
//! | `owner:<owner>`     | `owner`     | the ids of the owner's apps (the 1000-app limit is counted here) |
//! | `email:<email>`     | `account`   | the account of that email (uniqueness) and its failed log-ins |
//! | `user:<user id>`    | `user`      | the person's profile and consents                             |
//! | `session:<sha256>`  | `session`   | one log-in session                                            |
//! | `totp:<user id>`    | `totp`      | the person's second factor: TOTP secret, last accepted step, recovery-code hashes, wrong-code counter |
//! | `login2fa:<sha256>` | `login_ticket` | a log-in waiting for its second factor (5 minutes, single use) |
//! | `sid:<sid>`         | `login_apps` | the apps that got an ID token in the session of that OpenID Connect `sid` (back-channel logout) |
//! | `ip:<address>`, `reg:<address>` | `counter` | log-in attempts, registrations from one client address |
//! | `issuer`, `issuer:ed25519` | `issuer` | the development signing keys, when no `SIGNING_KEYS` secret is set |
//! | `quota`           | `quota`     | the tenant's counted apps and people (`MAX_APPS`, `MAX_PEOPLE`, an organisation's quotas) |
//! | `organisation:<label>`, `organisations` | `org` | an organisation's record (status, quotas, policies, brand, domains), its signing keys and operators' token hashes; the index of labels (default tenant only) |
//! | `operators`, `console:<sha256>` | `operator` | the tenant's console operators (email, role, password hash) and failed sign-ins; one console session |
//! | `domain:<host>`     | `org`       | which organisation holds a custom domain (default tenant only) |
//! | `idlink:<provider>:<sha256 of sub>`, `upstream:<sha256>` | `identity` | the account an upstream identity signs in to; single-use tickets of sign-ins with an upstream |
//! | `passkeys:<user id>`, `webauthn:<sha256>` | `passkey` | a person's passkeys (WebAuthn credentials, signature counters); one outstanding WebAuthn challenge |
//! | `ticket:<sha256>`   | `ticket`    | one emailed link (verify, reset, email change): single-use, short-lived |
//! | `pushed:<sha256>`   | `pushed`    | one pushed authorization request (RFC 9126): its client and parameters, until used or expired |
//! | `outbox`            | `outbox`    | development only: the email that would have been sent (`/dev/outbox`) |
//! | `mailfrom:<address>`, `mailto:<email>` | `counter` | emails asked for from one address, sent to one email |
//!
//! | `audit:<day>`, `audit_days` | `audit` | a tenant's audit events of one UTC day (indexed by app, person, type); the days that have events |
//!
//! Any object can be erased whole (`erase`), which is how a deleted organisation's data goes.
//!
//! `protocol` is the typed wire between the core and the objects: a command can only be sent
//! to its kind of object and can only answer its own reply type.

pub mod account;
pub mod app;
pub mod app_shard;
pub mod audit;
pub mod counter;
pub mod erase;
pub mod grants;
pub mod identity;
pub mod issuer;
pub mod kv;
pub mod login_apps;
pub mod login_ticket;
pub mod operator;
pub mod org;
pub mod outbox;
pub mod owner;
pub mod passkey;
pub mod people;
pub mod protocol;
pub mod pushed;
pub mod quota;
pub mod read_cache;
pub mod session;
pub mod totp;
pub mod ticket;
pub mod user;

pub use protocol::{Kind, Name, Op};

#[cfg(test)]
mod tests;
