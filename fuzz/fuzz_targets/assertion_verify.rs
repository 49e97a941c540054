//! `oauth::assertion::verify`: app-signed JWTs (`/application/token`, the jwt-bearer grant and
//! `private_key_jwt`). The first input byte picks the rule set. Never panics; what it accepts
//! was signed by the registered app key and is accepted once only (replay refused).
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis::oauth::assertion::{self, Rules};
use portcullis::platform::memory::block_on;
use portcullis_fuzz::{Fixture, CLIENT_ID, ISSUER};
use std::cell::OnceCell;

thread_local! {
    static FIXTURE: OnceCell<Fixture> = const { OnceCell::new() };
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(token) = std::str::from_utf8(rest) else {
        return;
    };
    let audiences = vec![ISSUER.to_owned(), format!("{ISSUER}/oauth/token")];
    let rules = Rules {
        require_aud: flags & 1 != 0,
        require_iat: flags & 2 != 0,
        require_sub_is_iss: flags & 4 != 0,
        require_sub: flags & 8 != 0,
        audiences: &audiences,
    };
    FIXTURE.with(|f| {
        let fx = f.get_or_init(Fixture::new);
        fx.reset();
        let Ok(v) = block_on(assertion::verify(&fx.p, token, &rules)) else {
            return;
        };
        assert_eq!(v.app.client_id, CLIENT_ID);
        assert_eq!(v.kid, portcullis_fuzz::kid());
        let t = portcullis::crypto::jwt::decode(token).expect("accepted tokens decode");
        assert_eq!(t.header.alg, "RS256");
        assert_eq!(t.str_claim("iss"), Some(CLIENT_ID));
        if rules.require_sub_is_iss {
            assert_eq!(t.str_claim("sub"), Some(CLIENT_ID));
        }
        if rules.require_sub {
            assert!(t.str_claim("sub").is_some_and(|s| !s.is_empty()));
        }
        // Accepted assertions always expire within the allowed lifetime of now.
        let exp = t.time_claim("exp").ok().flatten().expect("accepted tokens have exp");
        assert!(exp <= portcullis_fuzz::NOW + 660, "exp {exp}");
        if rules.require_aud {
            assert!(t.claims.contains_key("aud"));
        }
        if rules.require_iat {
            assert!(t.claims.contains_key("iat"));
        }
        assert!(
            block_on(assertion::verify(&fx.p, token, &rules)).is_err(),
            "an assertion was accepted twice"
        );
    });
});
