use super::kv::{Kv, MemKv};
use super::protocol::{self, Op};
use super::*;
use crate::error::{ErrorCode, Result};
use crate::model::{App, AppRecord};
use account::AccountRecord;
use grants::{CodeRecord, NewGrant};

/// Runs `op` through the wire form, exactly as the Durable Object adapter does.
fn run<O: Op>(kv: &mut MemKv, now: i64, op: O) -> Result<O::Reply> {
    let cmd = protocol::encode(op)?;
    protocol::decode(&protocol::run(kv, now, cmd.as_bytes()))
}

fn code_of<T: std::fmt::Debug>(r: Result<T>) -> ErrorCode {
    r.expect_err("an error").code
}

fn app_record(public: bool) -> AppRecord {
    let mut app = App::example();
    app.token_endpoint_auth_method = if public { "none" } else { "client_secret_basic" }.into();
    AppRecord {
        app,
        secret_hash: (!public).then(|| "h".repeat(64)),
        epoch: 0,
        registration_hash: None,
        revision: 0,
    }
}

fn create(kv: &mut MemKv, now: i64, public: bool) {
    run(kv, now, app::Create { record: app_record(public) }).unwrap();
}

fn code(challenge: Option<&str>) -> CodeRecord {
    CodeRecord {
        user_id: "u1".into(),
        redirect_uri: "https://a.example/cb".into(),
        redirect_uri_sent: true,
        scopes: vec!["public".into()],
        aud: "aud".into(),
        challenge: challenge.map(str::to_owned),
        method: challenge.map(|_| "plain".to_owned()),
        expires_at: 160,
        used: false,
        gid: None,
        nonce: None,
        authn: None,
    }
}

fn new(gid: &str, rt: &str) -> NewGrant {
    NewGrant {
        gid: gid.into(),
        refresh_hash: rt.into(),
        refresh_ttl: 1000,
        grant_ttl: 5000,
    }
}

/// The client of the grants in these tests.
const CLIENT: &str = "client-1";

fn grant(kv: &mut MemKv, now: i64, gid: &str, rt: &str) {
    let op = grants::CreateGrant {
        client_id: CLIENT.into(),
        epoch: 0,
        user_id: "u".into(),
        scopes: vec!["public".into()],
        aud: "a".into(),
        new: new(gid, rt),
    };
    run(kv, now, op).unwrap();
}

fn refresh(kv: &mut MemKv, now: i64, old: &str, next: &str, scopes: Option<Vec<String>>) -> Result<grants::Granted> {
    refresh_as(kv, now, CLIENT, 0, old, next, scopes)
}

fn refresh_as(kv: &mut MemKv, now: i64, client: &str, epoch: u64, old: &str, next: &str, scopes: Option<Vec<String>>) -> Result<grants::Granted> {
    let op = grants::Refresh {
        client_id: client.into(),
        epoch,
        refresh_hash: old.into(),
        new_refresh_hash: next.into(),
        refresh_ttl: 1000,
        scopes,
    };
    run(kv, now, op)
}

fn live(kv: &mut MemKv, now: i64, gid: &str) -> bool {
    live_as(kv, now, CLIENT, gid)
}

fn live_as(kv: &mut MemKv, now: i64, client: &str, gid: &str) -> bool {
    run(kv, now, grants::GrantAlive { client_id: client.into(), gid: gid.into() }).unwrap()
}

fn issue(kv: &mut MemKv, hash: &str, record: CodeRecord) {
    run(kv, 100, grants::IssueCode { client_id: CLIENT.into(), code_hash: hash.into(), record }).unwrap();
}

fn reserve(kv: &mut MemKv, app_id: &str, limit: u32) -> Result<()> {
    run(kv, 0, owner::Reserve { app_id: app_id.into(), limit })
}

#[test]
fn reserve_stops_at_the_limit_and_release_frees_a_slot() {
    let mut kv = MemKv::default();
    for i in 0..3 {
        reserve(&mut kv, &format!("a{i}"), 3).unwrap();
    }
    assert_eq!(code_of(reserve(&mut kv, "a3", 3)), ErrorCode::LimitReached);
    for _ in 0..2 {
        run(&mut kv, 0, owner::Release { app_id: "a1".into() }).unwrap();
    }
    reserve(&mut kv, "a3", 3).unwrap();
    assert_eq!(code_of(reserve(&mut kv, "a4", 3)), ErrorCode::LimitReached);
}

fn quota_reserve(kv: &mut MemKv, resource: quota::Resource, member: &str, limit: u32) -> Result<()> {
    run(kv, 0, quota::Reserve { resource, member: member.into(), limit, note: String::new() })
}

fn quota_release(kv: &mut MemKv, resource: quota::Resource, member: &str) {
    run(kv, 0, quota::Release { resource, member: member.into() }).unwrap();
}

fn quota_used(kv: &mut MemKv, resource: quota::Resource) -> u32 {
    run(kv, 0, quota::Used { resource }).unwrap().used
}

/// The tenant quota stops exactly at its limit; a retried reservation or a repeated release
/// of one member does not move the count; apps and people are counted apart.
#[test]
fn tenant_quota_reserve_and_release_are_idempotent_per_member() {
    use quota::Resource::{Apps, People};
    let mut kv = MemKv::default();
    for i in 0..3 {
        quota_reserve(&mut kv, Apps, &format!("a{i}"), 3).unwrap();
    }
    // A retried reservation of a counted member succeeds (even when full) and counts nothing.
    quota_reserve(&mut kv, Apps, "a1", 3).unwrap();
    assert_eq!(quota_used(&mut kv, Apps), 3);
    let full = quota_reserve(&mut kv, Apps, "a3", 3).expect_err("full");
    assert_eq!(full.code, ErrorCode::LimitReached);
    assert!(full.description.contains("limit is 3"), "{}", full.description);
    assert_eq!(quota_used(&mut kv, Apps), 3);
    // Released twice, freed once.
    quota_release(&mut kv, Apps, "a1");
    quota_release(&mut kv, Apps, "a1");
    assert_eq!(quota_used(&mut kv, Apps), 2);
    // Releasing a member never counted changes nothing.
    quota_release(&mut kv, Apps, "never");
    assert_eq!(quota_used(&mut kv, Apps), 2);
    quota_reserve(&mut kv, Apps, "a3", 3).unwrap();
    assert_eq!(code_of(quota_reserve(&mut kv, Apps, "a4", 3)), ErrorCode::LimitReached);
    // People have their own count, and the same member id means nothing across resources.
    assert_eq!(quota_used(&mut kv, People), 0);
    quota_reserve(&mut kv, People, "a0", 1).unwrap();
    assert_eq!(code_of(quota_reserve(&mut kv, People, "u2", 1)), ErrorCode::LimitReached);
    assert_eq!(quota_used(&mut kv, Apps), 3);
    // A lowered limit refuses new members but keeps the ones counted.
    assert_eq!(code_of(quota_reserve(&mut kv, Apps, "a5", 2)), ErrorCode::LimitReached);
    quota_reserve(&mut kv, Apps, "a0", 2).unwrap();
    assert_eq!(quota_used(&mut kv, Apps), 3);
    // A limit of 0 refuses everyone new.
    let mut empty = MemKv::default();
    assert_eq!(code_of(quota_reserve(&mut empty, Apps, "x", 0)), ErrorCode::LimitReached);
}

#[test]
fn list_owned_pages() {
    let mut kv = MemKv::default();
    for i in 0..5 {
        reserve(&mut kv, &format!("a{i}"), 10).unwrap();
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = run(&mut kv, 0, owner::List { after, limit: 2 }).unwrap();
        assert!(page.ids.len() <= 2);
        seen.extend(page.ids);
        if page.next.is_none() {
            break;
        }
        after = page.next;
    }
    assert_eq!(seen, vec!["a0", "a1", "a2", "a3", "a4"]);
}

#[test]
fn dev_key_is_stored_once() {
    let mut kv = MemKv::default();
    let key = |kv: &mut MemKv, c: Option<&str>| {
        run(kv, 0, issuer::DevKey { candidate: c.map(str::to_owned) }).unwrap()
    };
    assert_eq!(key(&mut kv, None), None);
    assert_eq!(key(&mut kv, Some("A")).as_deref(), Some("A"));
    assert_eq!(key(&mut kv, Some("B")).as_deref(), Some("A"));
}

#[test]
fn revoked_jti_expires_with_the_token() {
    let mut kv = MemKv::default();
    run(&mut kv, 100, app::RevokeJti { jti: "j".into(), exp: 200 }).unwrap();
    assert!(kv.get("rev:j").unwrap().is_some());
    run(&mut kv, 201, app::RevokeJti { jti: "k".into(), exp: 300 }).unwrap();
    assert!(kv.get("rev:j").unwrap().is_none());
}

#[test]
fn code_is_single_use_and_replay_revokes_the_grant() {
    let mut kv = MemKv::default();
    issue(&mut kv, "h1", code(None));
    let redeem = |kv: &mut MemKv, gid: &str| {
        let op = grants::RedeemCode {
            client_id: CLIENT.into(),
            epoch: 0,
            code_hash: "h1".into(),
            redirect_uri: Some("https://a.example/cb".into()),
            verifier: None,
            new: new(gid, &format!("rt-{gid}")),
        };
        run(kv, 110, op)
    };
    let granted = redeem(&mut kv, "g1").unwrap();
    assert_eq!(granted.user_id, "u1");
    assert!(live(&mut kv, 110, "g1"));
    assert_eq!(code_of(redeem(&mut kv, "g2")), ErrorCode::InvalidGrant);
    assert!(!live(&mut kv, 110, "g1"), "replay must revoke the first grant");
    // The refresh token of the revoked grant is dead too.
    assert_eq!(code_of(refresh(&mut kv, 111, "rt-g1", "x", None)), ErrorCode::InvalidGrant);
}

#[test]
fn code_checks_redirect_uri_pkce_and_expiry() {
    let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    // One code per grant object: each case has an object of its own.
    let redeem = |h: &str, uri: Option<&str>, verifier: Option<&str>, at: i64, i: usize| {
        let mut kv = MemKv::default();
        issue(&mut kv, h, code(Some(v)));
        let op = grants::RedeemCode {
            client_id: CLIENT.into(),
            epoch: 0,
            code_hash: h.into(),
            redirect_uri: uri.map(str::to_owned),
            verifier: verifier.map(str::to_owned),
            new: new(&format!("g{i}"), &format!("r{i}")),
        };
        run(&mut kv, at, op)
    };
    let wrong = "x".repeat(43);
    for (i, (uri, verifier, at)) in [
        (Some("https://a.example/other"), Some(v), 110),
        (Some("https://a.example/cb"), None, 110),
        (Some("https://a.example/cb"), Some(wrong.as_str()), 110),
        (Some("https://a.example/cb"), Some(v), 200),
        (None, Some(v), 110),
    ]
    .into_iter()
    .enumerate()
    {
        let r = redeem(&format!("h{i}"), uri, verifier, at, i);
        assert_eq!(code_of(r), ErrorCode::InvalidGrant, "case {i}");
    }
    redeem("good", Some("https://a.example/cb"), Some(v), 110, 9).unwrap();
}

#[test]
fn refresh_rotates_and_reuse_kills_the_grant() {
    let mut kv = MemKv::default();
    grant(&mut kv, 100, "g", "r0");
    let wider = refresh(&mut kv, 120, "r0", "rx", Some(vec!["admin".into()]));
    assert_eq!(code_of(wider), ErrorCode::InvalidScope);
    refresh(&mut kv, 120, "r0", "r1", None).unwrap();
    refresh(&mut kv, 120, "r1", "r2", None).unwrap();
    assert!(live(&mut kv, 120, "g"));
    assert_eq!(code_of(refresh(&mut kv, 120, "r1", "r3", None)), ErrorCode::InvalidGrant);
    assert!(!live(&mut kv, 120, "g"));
    assert_eq!(
        code_of(refresh(&mut kv, 120, "r2", "r4", None)),
        ErrorCode::InvalidGrant,
        "the current token dies with the grant"
    );
}

#[test]
fn secret_rotation_ends_grants() {
    // The app's object moves to a new epoch; the grant's object hears it from the next caller.
    let mut app_kv = MemKv::default();
    create(&mut app_kv, 100, false);
    let rotated = run(&mut app_kv, 100, app::RotateSecret { secret_hash: "n".repeat(64), expect: Some(1) }).unwrap();
    assert_eq!(rotated.epoch, 1);
    let mut kv = MemKv::default();
    grant(&mut kv, 100, "g", "r0");
    // A caller that raced the change (an older epoch than the grant's) is refused, no more.
    let mut older = MemKv::default();
    run(&mut older, 100, grants::CreateGrant {
        client_id: CLIENT.into(), epoch: 3, user_id: "u".into(), scopes: vec![], aud: "a".into(), new: new("g3", "s0"),
    }).unwrap();
    assert_eq!(code_of(refresh_as(&mut older, 120, CLIENT, 2, "s0", "s1", None)), ErrorCode::InvalidGrant);
    assert!(live(&mut older, 120, "g3"));
    // The new epoch ends the grant for good: even the old epoch cannot use it after.
    assert_eq!(code_of(refresh_as(&mut kv, 120, CLIENT, rotated.epoch, "r0", "r1", None)), ErrorCode::InvalidGrant);
    assert!(!live(&mut kv, 120, "g"));
    assert_eq!(code_of(refresh(&mut kv, 120, "r0", "r1", None)), ErrorCode::InvalidGrant);
}

#[test]
fn revoking_a_refresh_token_ends_its_grant() {
    let mut kv = MemKv::default();
    grant(&mut kv, 100, "g", "r0");
    // Another client's revocation does nothing.
    run(&mut kv, 100, grants::RevokeRefresh { client_id: "client-2".into(), refresh_hash: "r0".into() }).unwrap();
    assert!(live(&mut kv, 100, "g"));
    run(&mut kv, 100, grants::RevokeRefresh { client_id: CLIENT.into(), refresh_hash: "r0".into() }).unwrap();
    assert!(!live(&mut kv, 100, "g"));
}

#[test]
fn a_grant_object_answers_another_client_as_if_it_held_nothing() {
    let mut kv = MemKv::default();
    issue(&mut kv, "h", code(None));
    let redeem = |kv: &mut MemKv, client: &str| {
        let op = grants::RedeemCode {
            client_id: client.into(),
            epoch: 0,
            code_hash: "h".into(),
            redirect_uri: Some("https://a.example/cb".into()),
            verifier: None,
            new: new("g", "r0"),
        };
        run(kv, 110, op)
    };
    // A stranger's attempt leaves the code unused.
    assert_eq!(code_of(redeem(&mut kv, "client-2")), ErrorCode::InvalidGrant);
    redeem(&mut kv, CLIENT).unwrap();
    assert!(!live_as(&mut kv, 110, "client-2", "g"));
    assert!(live(&mut kv, 110, "g"));
    assert_eq!(code_of(refresh_as(&mut kv, 111, "client-2", 0, "r0", "r1", None)), ErrorCode::InvalidGrant);
    // The stranger's refresh did not rotate the token.
    refresh(&mut kv, 111, "r0", "r1", None).unwrap();
    // A used object takes no second grant.
    let again = grants::CreateGrant {
        client_id: CLIENT.into(), epoch: 0, user_id: "u".into(), scopes: vec![], aud: "a".into(), new: new("g", "r9"),
    };
    assert_eq!(code_of(run(&mut kv, 112, again)), ErrorCode::ServerError);
}

#[test]
fn credentials_name_their_grant() {
    let c = grants::credential("AbC-_9", "secret");
    let (gid, name) = grants::object_of(&c).unwrap();
    assert_eq!(gid, "AbC-_9");
    assert_eq!(name.as_str(), "grant:AbC-_9");
    for bad in ["", "nodot", ".secret", "gid.", "g:d.x", "g/d.x", &format!("{}.x", "a".repeat(65))] {
        assert!(grants::object_of(bad).is_none(), "{bad:?}");
    }
    assert!(grants::object_of_gid("a:b").is_none());
}

#[test]
fn failed_attempts_block_within_the_window_then_reset() {
    let mut kv = MemKv::default();
    for _ in 0..3 {
        run(&mut kv, 120, counter::Reserve { limit: 3 }).unwrap();
    }
    let e = run(&mut kv, 125, counter::Reserve { limit: 3 }).unwrap_err();
    assert_eq!(e.code, ErrorCode::RateLimited);
    assert!(e.headers.contains(&("retry-after", "55".to_owned())), "{e:?}");
    run(&mut kv, 181, counter::Reserve { limit: 3 }).unwrap();
}

/// Issue 13 item 5: check-and-count is one command, so however many guesses race, at most
/// `limit` pass the check in a window; a success gives its attempt back.
#[test]
fn reserved_attempts_never_exceed_the_limit_and_success_releases() {
    let mut kv = MemKv::default();
    let passed = (0..30)
        .filter(|_| run(&mut kv, 120, counter::Reserve { limit: 10 }).is_ok())
        .count();
    assert_eq!(passed, 10);
    run(&mut kv, 121, counter::Release {}).unwrap();
    run(&mut kv, 121, counter::Reserve { limit: 10 }).unwrap();
    assert_eq!(code_of(run(&mut kv, 121, counter::Reserve { limit: 10 })), ErrorCode::RateLimited);
    // Looking up an account reserves too, and a successful log-in gives the attempt back.
    let mut kv = MemKv::default();
    for _ in 0..2 {
        assert_eq!(run(&mut kv, 0, account::Get { limit: 2 }).unwrap(), None);
    }
    assert_eq!(code_of(run(&mut kv, 0, account::Get { limit: 2 })), ErrorCode::RateLimited);
    run(&mut kv, 0, account::ReleaseLogin {}).unwrap();
    run(&mut kv, 0, account::Get { limit: 2 }).unwrap();
}

fn auth(kv: &mut MemKv, now: i64, secret: Option<&str>, address: &str) -> Result<app::Client> {
    let op = app::Authenticate {
        secret_hash: secret.map(str::to_owned),
        rate_limit: 1000,
        address: address.into(),
        failure_limit: 3,
    };
    run(kv, now, op)
}

/// Issue 13 item 6: a stranger's wrong secrets get the stranger's address a 429; the real
/// client, from another address, keeps working, and its successes are not failures.
#[test]
fn failed_authentication_is_counted_per_address_apart_from_successes() {
    let mut kv = MemKv::default();
    create(&mut kv, 0, false);
    let good = "h".repeat(64);
    for _ in 0..3 {
        assert_eq!(code_of(auth(&mut kv, 10, Some("wrong"), "203.0.113.9")), ErrorCode::InvalidClient);
    }
    assert_eq!(code_of(auth(&mut kv, 10, Some(&good), "203.0.113.9")), ErrorCode::RateLimited);
    for _ in 0..20 {
        auth(&mut kv, 10, Some(&good), "198.51.100.1").unwrap();
    }
    auth(&mut kv, 70, Some(&good), "203.0.113.9").unwrap();
}

/// Issue 13 items 7 and 16: a secret is refused for an app that authenticates otherwise, and
/// every failure says the same words.
#[test]
fn switching_to_private_key_jwt_drops_the_secret() {
    let mut kv = MemKv::default();
    create(&mut kv, 0, false);
    let good = "h".repeat(64);
    let mut app = app_record(false).app;
    app.token_endpoint_auth_method = "private_key_jwt".into();
    // A change that fenced no replicas (an older worker's) is refused.
    assert!(run(&mut kv, 5, app::Update { app: app.clone(), expect: None }).is_err());
    let updated = run(&mut kv, 5, app::Update { app: app.clone(), expect: Some(1) }).unwrap();
    assert_eq!(updated.epoch, 1, "changing the auth method ends earlier tokens");
    for secret in ["wrong", good.as_str()] {
        let e = auth(&mut kv, 6, Some(secret), "a").unwrap_err();
        assert_eq!((e.code, e.description.as_str()), (ErrorCode::InvalidClient, "client authentication failed"));
    }
    // Back to a secret method: no secret until one is regenerated, and regeneration works.
    app.token_endpoint_auth_method = "client_secret_basic".into();
    run(&mut kv, 7, app::Update { app, expect: Some(2) }).unwrap();
    assert_eq!(code_of(auth(&mut kv, 8, Some(&good), "a")), ErrorCode::InvalidClient);
    run(&mut kv, 8, app::RotateSecret { secret_hash: "n".repeat(64), expect: Some(3) }).unwrap();
    auth(&mut kv, 9, Some(&"n".repeat(64)), "b").unwrap();
}

#[test]
fn one_account_per_email() {
    let mut kv = MemKv::default();
    let rec = AccountRecord {
        user_id: "u".into(),
        email: "a@b.c".into(),
        name: "A".into(),
        password_hash: "x".into(),
        created_at: 0,
        email_verified: false,
    };
    run(&mut kv, 0, account::Create { record: rec.clone() }).unwrap();
    assert_eq!(code_of(run(&mut kv, 0, account::Create { record: rec })), ErrorCode::LimitReached);
}

/// Names are made by each kind's module and keep the layout stored state already has.
#[test]
fn object_names_keep_their_stored_layout() {
    assert_eq!(app::object("c1").as_str(), "app:c1");
    assert_eq!(owner::object("o").as_str(), "owner:o");
    assert_eq!(account::object("a@b.c").as_str(), "email:a@b.c");
    assert_eq!(user::object("u").as_str(), "user:u");
    assert_eq!(session::object("ab").as_str(), "session:ab");
    assert_eq!(counter::login_address("1.2.3.4").as_str(), "ip:1.2.3.4");
    assert_eq!(counter::registration_address("1.2.3.4").as_str(), "reg:1.2.3.4");
    assert_eq!(issuer::rsa().as_str(), "issuer");
    assert_eq!(issuer::ed25519().as_str(), "issuer:ed25519");
    assert_eq!(org::object("acme").as_str(), "organisation:acme");
    assert_eq!(org::index().as_str(), "organisations");
    assert_eq!(quota::object().as_str(), "quota");
}

#[test]
fn an_organisation_s_label_is_taken_once_and_its_status_changes_until_deleted() {
    use org::{OrgRecord, OrgStatus, Quotas};
    let mut kv = MemKv::default();
    let record = OrgRecord {
        label: "acme".into(),
        name: "Acme".into(),
        status: OrgStatus::Active,
        created_at: 0,
        quotas: Quotas { max_apps: Some(3), ..Quotas::default() },
        policies: Default::default(),
        brand: Default::default(),
        domains: Vec::new(),
        erased_at: None,
        version: 0,
    };
    let made = run(&mut kv, 50, org::Create { record: record.clone() }).unwrap();
    assert_eq!(made.created_at, 50);
    assert_eq!(code_of(run(&mut kv, 60, org::Create { record })), ErrorCode::LimitReached);
    assert_eq!(run(&mut kv, 60, org::Suspend {}).unwrap().status, OrgStatus::Suspended);
    assert_eq!(run(&mut kv, 60, org::Resume {}).unwrap().status, OrgStatus::Active);
    assert_eq!(run(&mut kv, 60, org::Delete {}).unwrap().status, OrgStatus::Deleted);
    assert_eq!(code_of(run(&mut kv, 60, org::Resume {})), ErrorCode::NotFound);
    assert_eq!(run(&mut kv, 60, org::Get {}).unwrap().unwrap().status, OrgStatus::Deleted);
    let mut empty = MemKv::default();
    assert_eq!(code_of(run(&mut empty, 60, org::Suspend {})), ErrorCode::NotFound);
    assert!(run(&mut empty, 60, org::Get {}).unwrap().is_none());

    let mut index = MemKv::default();
    for l in ["b", "a", "c", "a"] {
        run(&mut index, 0, org::IndexAdd { label: l.into() }).unwrap();
    }
    let page = run(&mut index, 0, org::IndexList { after: None, limit: 2 }).unwrap();
    assert_eq!((page.labels, page.next.clone()), (vec!["a".to_owned(), "b".to_owned()], Some("b".to_owned())));
    let rest = run(&mut index, 0, org::IndexList { after: page.next, limit: 2 }).unwrap();
    assert_eq!((rest.labels, rest.next), (vec!["c".to_owned()], None));
}

/// Every change bumps the version; `Admit` sends the state only to a caller that does not hold
/// the current version, counts requests against the per-minute quota, and sends nothing for a
/// suspended or deleted organisation. Keys: the first offer wins, rotation keeps three.
#[test]
fn an_organisation_is_admitted_with_its_state_and_its_request_quota() {
    use org::{Operator, OrgRecord, OrgStatus, Quotas};
    let mut kv = MemKv::default();
    let a = run(&mut kv, 0, org::Admit { known: None }).unwrap();
    assert_eq!((a.status, a.snapshot), (None, None));
    let record = OrgRecord {
        label: "acme".into(),
        name: "Acme".into(),
        status: OrgStatus::Active,
        created_at: 0,
        quotas: Quotas { max_requests_per_minute: Some(2), ..Quotas::default() },
        policies: Default::default(),
        brand: Default::default(),
        domains: Vec::new(),
        erased_at: None,
        version: 7,
    };
    let made = run(&mut kv, 120, org::Create { record }).unwrap();
    assert_eq!(made.version, 1);
    let a = run(&mut kv, 120, org::Admit { known: None }).unwrap();
    let snap = a.snapshot.unwrap();
    assert_eq!((a.status, a.version, snap.keys.len()), (Some(OrgStatus::Active), 1, 0));
    // The caller holds version 1 now: no state is sent again; the quota (2) is used up.
    let b = run(&mut kv, 121, org::Admit { known: Some(1) }).unwrap();
    assert_eq!((b.snapshot, b.retry_after), (None, None));
    let c = run(&mut kv, 130, org::Admit { known: Some(1) }).unwrap();
    assert_eq!(c.retry_after, Some(50));
    // The next minute admits again.
    assert_eq!(run(&mut kv, 180, org::Admit { known: Some(1) }).unwrap().retry_after, None);

    let s = run(&mut kv, 180, org::OfferKey { pem: "first".into() }).unwrap();
    assert_eq!((s.keys.clone(), s.record.version), (vec!["first".to_owned()], 2));
    let s = run(&mut kv, 180, org::OfferKey { pem: "racing".into() }).unwrap();
    assert_eq!((s.keys.clone(), s.record.version), (vec!["first".to_owned()], 2));
    for k in ["k2", "k3", "k4"] {
        run(&mut kv, 180, org::RotateKey { pem: k.into(), if_version: None }).unwrap();
    }
    let a = run(&mut kv, 180, org::Admit { known: Some(2) }).unwrap();
    assert_eq!(a.snapshot.unwrap().keys, vec!["k4", "k3", "k2"]);
    // A rotation conditional on a version that has moved changes nothing.
    let s = run(&mut kv, 180, org::RotateKey { pem: "late".into(), if_version: Some(2) }).unwrap();
    assert_eq!((s.keys[0].as_str(), s.record.version), ("k4", 5));

    let op = Operator { id: "o1".into(), name: "Ops".into(), created_at: 0, token_sha256: "aa".into() };
    run(&mut kv, 180, org::AddOperator { operator: op }).unwrap();
    let listed = run(&mut kv, 180, org::ListOperators {}).unwrap();
    assert_eq!((listed.len(), listed[0].token_sha256.as_str()), (1, ""));
    let a = run(&mut kv, 180, org::Admit { known: Some(5) }).unwrap();
    assert_eq!(a.snapshot.unwrap().operator_hashes, vec!["aa"]);
    run(&mut kv, 180, org::RemoveOperator { id: "o1".into() }).unwrap();
    assert_eq!(code_of(run(&mut kv, 180, org::RemoveOperator { id: "o1".into() })), ErrorCode::NotFound);

    // Suspended: no state, no counting; deleted: keys and operators gone.
    run(&mut kv, 180, org::Suspend {}).unwrap();
    let a = run(&mut kv, 180, org::Admit { known: None }).unwrap();
    assert_eq!((a.status, a.snapshot), (Some(OrgStatus::Suspended), None));
    run(&mut kv, 180, org::Delete {}).unwrap();
    assert_eq!(code_of(run(&mut kv, 180, org::OfferKey { pem: "x".into() })), ErrorCode::NotFound);
    assert!(kv.get("keys").unwrap().is_none());
}

/// A malformed command, or one an object does not know, is a server error, never a panic.
#[test]
fn malformed_commands_are_refused() {
    let mut kv = MemKv::default();
    for bad in [&b""[..], b"{}", b"{\"op\":\"Nope\"}", b"{\"op\":\"AppGet\",\"x\":", b"\xff\xfe"] {
        let e = protocol::decode::<()>(&protocol::run(&mut kv, 0, bad)).unwrap_err();
        assert_eq!(e.code, ErrorCode::ServerError);
    }
    assert_eq!(protocol::decode::<()>("not json").unwrap_err().code, ErrorCode::ServerError);
}
