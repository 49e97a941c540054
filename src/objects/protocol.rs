//! The typed protocol between the core and its Durable Objects.
//!
//! Every object has a [`Kind`] (app, grant, owner, account, user, session, counter, issuer) and a
//! typed [`Name`] that only the kind's module can make, so no caller builds an object name from
//! strings. Every command is a struct implementing [`Op`] (declared with [`op!`]): it names the
//! kind it runs in and the type of its reply, and its `apply` is the code that runs inside the
//! object. So
//! `objects.call(&app::object(id), app::Get {})` can only go to an app object and can only
//! answer an [`app::Client`](super::app::Client): a wrong reply does not compile.
//!
//! On the wire (worker ⇄ object, in-memory platform ⇄ `MemKv`) a command travels as one
//! [`Command`] (JSON, tagged by `op`) and comes back as an [`Outcome`] of its reply type.

use super::kv::Kv;
use crate::error::{Error, ErrorCode, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

/// A kind of Durable Object: what it guards decides its name.
pub trait Kind {
    /// Names of this kind start with this, then `:` and the id (the issuer's default key
    /// object is the bare prefix).
    const PREFIX: &'static str;
}

/// The name of one object of kind `K`. Made only by the kind's own module (`app::object`,
/// `owner::object`, …); the tenancy of a name is decided here, once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name<K: Kind> {
    name: String,
    kind: PhantomData<K>,
}

impl<K: Kind> Name<K> {
    pub(super) fn of(id: &str) -> Self {
        Self::raw(format!("{}:{id}", K::PREFIX))
    }
    pub(super) fn raw(name: String) -> Self {
        Name {
            name,
            kind: PhantomData,
        }
    }
    /// This object's name within `tenant`: unchanged for the default tenant, `org:<label>:<name>`
    /// for an organisation. Only the tenant-bound platform (`platform::tenant::Scoped`) calls it,
    /// on every object call, so no endpoint can name another tenant's object.
    pub fn in_tenant(&self, tenant: &crate::model::Tenant) -> Name<K> {
        match tenant {
            crate::model::Tenant::Default => Self::raw(self.name.clone()),
            crate::model::Tenant::Org(_) => Self::raw(format!("{}{}", tenant.prefix(), self.name)),
        }
    }
    /// The object's name as the Durable Object namespace sees it (`idFromName`).
    pub fn as_str(&self) -> &str {
        &self.name
    }
}

/// Declares a kind of object: its marker type and name prefix, and, with `object`, the
/// function that names one object of the kind by its id.
macro_rules! kind {
    ($kind:ident = $prefix:literal) => {
        pub struct $kind;
        impl $crate::objects::protocol::Kind for $kind {
            const PREFIX: &'static str = $prefix;
        }
    };
    ($kind:ident = $prefix:literal, $(#[$doc:meta])* object) => {
        kind!($kind = $prefix);
        $(#[$doc])*
        pub fn object(id: &str) -> $crate::objects::protocol::Name<$kind> {
            $crate::objects::protocol::Name::of(id)
        }
    };
}
pub(super) use kind;

/// One command of one kind of object, with its reply type and the code that runs inside the
/// object. `apply` never awaits, so inside a Durable Object it runs atomically.
pub trait Op: Serialize + Into<Command> {
    type Kind: Kind;
    type Reply: Serialize + DeserializeOwned;
    fn apply(self, kv: &mut dyn Kv, now: i64) -> Result<Self::Reply>;
}

/// Declares one command: the struct that travels to the object (its fields), the kind of object
/// it runs in, its reply type, and the code that runs inside the object, given the command, the
/// object's storage and the time (seconds):
///
/// ```ignore
/// op! {
///     /// Doc of the command.
///     Get in App => Client {}
///     |_, kv, _now| { load(kv, APP)?.ok_or_else(not_found) }
/// }
/// ```
macro_rules! op {
    ($(#[$doc:meta])* $name:ident in $kind:ty => $reply:ty { $($fields:tt)* }
     |$cmd:pat_param, $kv:ident, $now:pat_param| $body:block) => {
        $(#[$doc])*
        #[derive(Debug, serde::Serialize, serde::Deserialize)]
        pub struct $name { $($fields)* }
        impl $crate::objects::protocol::Op for $name {
            type Kind = $kind;
            type Reply = $reply;
            fn apply(
                self,
                $kv: &mut dyn $crate::objects::kv::Kv,
                $now: i64,
            ) -> $crate::error::Result<$reply> {
                let $cmd = self;
                $body
            }
        }
    };
}
pub(super) use op;

/// What an object answers: the command's reply, or the error it ended with.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome<R> {
    Ok(R),
    Err(WireError),
}

#[derive(Debug, Serialize, Deserialize)]
pub struct WireError {
    code: ErrorCode,
    description: String,
    retry_after: Option<i64>,
}

impl From<Error> for WireError {
    fn from(e: Error) -> Self {
        let retry_after = e
            .headers
            .iter()
            .find(|(k, _)| *k == "retry-after")
            .and_then(|(_, v)| v.parse().ok());
        WireError {
            code: e.code,
            description: e.description,
            retry_after,
        }
    }
}

impl From<WireError> for Error {
    fn from(w: WireError) -> Self {
        let e = Error::new(w.code, w.description);
        match w.retry_after {
            Some(s) => e.with_header("retry-after", s.to_string()),
            None => e,
        }
    }
}

/// Encodes a command for the wire.
pub fn encode<O: Op>(op: O) -> Result<String> {
    serde_json::to_string(&op.into()).map_err(|_| Error::server("cannot encode an object command"))
}

/// Decodes an object's answer to a command whose reply type is `R`.
pub fn decode<R: DeserializeOwned>(text: &str) -> Result<R> {
    match serde_json::from_str::<Outcome<R>>(text) {
        Ok(Outcome::Ok(r)) => Ok(r),
        Ok(Outcome::Err(e)) => Err(e.into()),
        Err(_) => Err(Error::server("a Durable Object answered something unreadable")),
    }
}

fn answer<R: Serialize>(r: Result<R>) -> String {
    let outcome = match r {
        Ok(r) => Outcome::Ok(r),
        Err(e) => Outcome::Err(e.into()),
    };
    serde_json::to_string(&outcome).unwrap_or_else(|_| {
        r#"{"err":{"code":"ServerError","description":"cannot encode a reply","retry_after":null}}"#.into()
    })
}

/// Reads a JSON value stored under `key`.
pub(super) fn load<T: DeserializeOwned>(kv: &dyn Kv, key: &str) -> Result<Option<T>> {
    match kv.get(key)? {
        None => Ok(None),
        Some(s) => serde_json::from_str(&s)
            .map(Some)
            .map_err(|_| Error::server(format!("stored '{key}' is unreadable"))),
    }
}

pub(super) fn save<T: Serialize>(
    kv: &mut dyn Kv,
    key: &str,
    value: &T,
    expires_at: Option<i64>,
) -> Result<()> {
    let s = serde_json::to_string(value).map_err(|_| Error::server("cannot encode record"))?;
    kv.put(key, &s, expires_at)
}

/// The wire form of every command of every kind, and the dispatch inside an object.
macro_rules! commands {
    ($($variant:ident = $module:ident :: $op:ident),* $(,)?) => {
        /// Every command, as it travels to an object (`{"op": "<Variant>", …fields}`).
        #[derive(Debug, Serialize, Deserialize)]
        #[serde(tag = "op")]
        pub enum Command {
            $(
                $variant(super::$module::$op),
            )*
        }

        $(
            impl From<super::$module::$op> for Command {
                fn from(op: super::$module::$op) -> Self {
                    Command::$variant(op)
                }
            }
        )*

        /// Runs one wire command against one object's storage and answers its [`Outcome`] as
        /// JSON. Expired entries are purged first.
        pub fn run(kv: &mut dyn Kv, now: i64, command: &[u8]) -> String {
            let cmd = match serde_json::from_slice::<Command>(command) {
                Ok(c) => c,
                Err(_) => return answer::<()>(Err(Error::server("malformed object command"))),
            };
            if let Err(e) = kv.purge_expired(now) {
                return answer::<()>(Err(e));
            }
            match cmd {
                $( Command::$variant(op) => answer(op.apply(kv, now)), )*
            }
        }
    };
}

commands! {
    AppCreate = app::Create, AppGet = app::Get, AppUpdate = app::Update, AppDelete = app::Delete,
    AppRotateSecret = app::RotateSecret, AppAddKey = app::AddKey, AppRemoveKey = app::RemoveKey,
    AppAuthenticate = app::Authenticate, AppCheckRegistration = app::CheckRegistration,
    AppUseAssertion = app::UseAssertion, AppCheckToken = app::CheckToken,
    AppRevokeJti = app::RevokeJti, AppSnapshot = app::Snapshot, AppTouch = app::Touch,
    AppAssertionKey = app::AssertionKey,
    ShardFence = app_shard::Fence, ShardFenced = app_shard::Fenced, ShardInstall = app_shard::Install,
    ShardAuthenticate = app_shard::Authenticate, ShardCheckToken = app_shard::CheckToken,
    ShardRevokeJti = app_shard::RevokeJti, ShardUseAssertion = app_shard::UseAssertion,
    IssueCode = grants::IssueCode, RedeemCode = grants::RedeemCode,
    CreateGrant = grants::CreateGrant, Refresh = grants::Refresh,
    RevokeRefresh = grants::RevokeRefresh, GrantAlive = grants::GrantAlive, GrantUser = grants::GrantUser,
    OwnerReserve = owner::Reserve, OwnerRelease = owner::Release, OwnerList = owner::List,
    AccountCreate = account::Create, AccountGet = account::Get,
    AccountReleaseLogin = account::ReleaseLogin,
    UserPutProfile = user::PutProfile, UserGetProfile = user::GetProfile,
    UserGetConsent = user::GetConsent, UserSaveConsent = user::SaveConsent,
    SessionCreate = session::Create, SessionGet = session::Get, SessionDelete = session::Delete,
    SessionTake = session::Take, UserTrackSession = user::TrackSession,
    UserListSessions = user::ListSessions, UserForgetSessions = user::ForgetSessions,
    LoginAppsAdd = login_apps::Add, LoginAppsTake = login_apps::Take,
    CounterReserve = counter::Reserve, CounterRelease = counter::Release,
    IssuerDevKey = issuer::DevKey,
    QuotaReserve = quota::Reserve, QuotaRelease = quota::Release, QuotaUsed = quota::Used, QuotaMembers = quota::Members, Erase = erase::Erase,
    OrgCreate = org::Create, OrgGet = org::Get, OrgSuspend = org::Suspend,
    OrgResume = org::Resume, OrgDelete = org::Delete, OrgAdmit = org::Admit,
    OrgOfferKey = org::OfferKey, OrgRotateKey = org::RotateKey, OrgUpdate = org::Update,
    OrgAddOperator = org::AddOperator, OrgListOperators = org::ListOperators,
    OrgRemoveOperator = org::RemoveOperator, OrgAddDomain = org::AddDomain,
    OrgRemoveDomain = org::RemoveDomain, DomainClaim = org::Claim, OrgMarkErased = org::MarkErased, DomainRelease = org::Release,
    OrgIndexAdd = org::IndexAdd, OrgIndexList = org::IndexList,
    UserTrackGrant = user::TrackGrant, UserConnectedApps = user::ConnectedApps,
    UserGrantIds = user::GrantIds, UserForgetApp = user::ForgetApp, UserSetName = user::SetName,
    AccountRename = account::Rename, AccountRemove = account::Remove, EndGrant = grants::EndGrant,
    IdGetLink = identity::GetLink, IdCreateLink = identity::CreateLink,
    IdPutTicket = identity::PutTicket, IdGetTicket = identity::GetTicket,
    IdTakeTicket = identity::TakeTicket,
    PasskeyAdd = passkey::Add, PasskeyList = passkey::List, PasskeyGet = passkey::Get,
    PasskeyRemove = passkey::Remove, PasskeyUse = passkey::Use,
    ChallengeIssue = passkey::Issue, ChallengeTake = passkey::Take,
    TotpGetStatus = totp::GetStatus, TotpBegin = totp::Begin, TotpGetPending = totp::GetPending,
    TotpConfirm = totp::Confirm, TotpVerify = totp::Verify, TotpRegenerate = totp::Regenerate,
    TotpDisable = totp::Disable,
    LoginTicketCreate = login_ticket::Create, LoginTicketPeek = login_ticket::Peek,
    LoginTicketTry = login_ticket::Try, LoginTicketTake = login_ticket::Take,
    AccountPeek = account::Peek, AccountSetPassword = account::SetPassword,
    AccountMarkVerified = account::MarkVerified,
    TicketCreate = ticket::Create, TicketPeek = ticket::Peek, TicketTake = ticket::Take,
    PushedCreate = pushed::Create, PushedOpen = pushed::Open, PushedTake = pushed::Take,
    OutboxPut = outbox::Put, OutboxList = outbox::List,
    AuditAppend = audit::Append, AuditQuery = audit::Query, AuditNoteDay = audit::NoteDay, AuditMarkNoted = audit::MarkNoted,
    AuditDays = audit::Days,
    PeopleList = people::List, PeopleSetStatus = people::SetStatus, UserSetDisabled = people::SetDisabled,
    UserDisabled = people::Disabled, PeopleSetEmail = people::SetEmail,
    UserMarkReset = people::MarkReset, UserStartedBeforeReset = people::StartedBeforeReset,
    OperatorBootstrap = operator::Bootstrap, OperatorAdd = operator::Add, OperatorList = operator::List,
    OperatorGet = operator::Get, OperatorSetRole = operator::SetRole, OperatorRemove = operator::Remove,
    OperatorBeginSignIn = operator::BeginSignIn, OperatorSignedIn = operator::SignedIn,
    ConsoleCreate = operator::CreateSession, ConsoleGet = operator::GetSession, ConsoleEnd = operator::EndSession,
    OperatorExport = operator::Export, OperatorRestore = operator::Restore,
}
