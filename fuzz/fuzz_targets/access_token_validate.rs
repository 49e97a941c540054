//! `oauth::mint::validate` (and `check`, which asks the app's shard about liveness) over the
//! in-memory platform: never panics; whatever it accepts was signed by the server's key, is
//! `typ: at+jwt`, names this issuer and is unexpired.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis::oauth::mint;
use portcullis::platform::memory::block_on;
use portcullis_fuzz::{Fixture, ISSUER, NOW};
use std::cell::OnceCell;

thread_local! {
    static FIXTURE: OnceCell<Fixture> = const { OnceCell::new() };
}

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    FIXTURE.with(|f| {
        let fx = f.get_or_init(Fixture::new);
        fx.reset();
        let Some(c) = mint::validate(&fx.p, ISSUER, token) else {
            assert!(block_on(mint::check(&fx.p, ISSUER, token)).unwrap().is_none());
            return;
        };
        assert_eq!(c.iss, ISSUER);
        assert!(c.exp > NOW);
        let t = portcullis::crypto::jwt::decode(token).expect("validated tokens decode");
        assert_eq!(t.header.typ.as_deref(), Some("at+jwt"));
        assert!(fx.p.keys.verify(&t));
        let live = block_on(mint::check(&fx.p, ISSUER, token)).expect("liveness answers");
        if let Some(live) = live {
            assert_eq!(live, c);
        }
        // Another issuer never accepts it.
        assert!(mint::validate(&fx.p, "https://other.example", token).is_none());
    });
});
