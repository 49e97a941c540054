//! The server's own RSA arithmetic (`crypto::rsa_kernel`, Montgomery over 28-bit limbs), which
//! verifies every RS256 signature: `PublicKey::new(n, e)` + `public_op(sig)` against
//! `BigUint::modpow` from the `rsa` crate's bignum library, for any odd modulus up to 4080 bits
//! (signing is the `rs256_sign` target).
//!
//! Input: byte 0 = modulus length in bytes (1-255 → 8-2040 bits; bit 7 of byte 1 doubles it
//! up to 4080 bits), bytes 1-3 = public exponent (24 bits), then the modulus, then the
//! signature representative (padded or cut to the modulus length unless byte 1 bit 6 is set).
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis::crypto::rsa_kernel;
use rsa::BigUint;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let mut n_len = (data[0] as usize).max(1);
    if data[1] & 0x80 != 0 {
        n_len *= 2;
    }
    let exact_len = data[1] & 0x40 == 0;
    let e = u32::from_be_bytes([0, data[1] & 0x3f, data[2], data[3]]);
    let rest = &data[4..];
    if rest.len() < n_len {
        return;
    }
    let (n_be, sig_in) = rest.split_at(n_len);
    let mut n_be = n_be.to_vec();
    *n_be.last_mut().unwrap() |= 1; // odd: Montgomery needs it
    let e_be = e.to_be_bytes();

    let Some(k) = rsa_kernel::PublicKey::new(&n_be, &e_be) else {
        // Refused shapes (by design): exponent below 3, a modulus below 3 bits or too long for
        // the kernel's 127 limbs.
        let n = BigUint::from_bytes_be(&n_be);
        assert!(
            e < 3 || n.bits() < 3 || n.bits() > 127 * 28 - 4,
            "kernel refused n ({} bits), e={e}",
            n.bits()
        );
        return;
    };
    let n = BigUint::from_bytes_be(&n_be);
    assert_eq!(k.size(), n.bits().div_ceil(8));
    let mut sig = sig_in.to_vec();
    if exact_len {
        sig.resize(k.size(), 0);
    }
    let out = k.public_op(&sig);
    let s = BigUint::from_bytes_be(&sig);
    if sig.len() != k.size() || s >= n {
        assert!(out.is_none(), "public_op took a non-representative");
        return;
    }
    let out = out.expect("public_op refused a representative");
    let want = s.modpow(&BigUint::from(e), &n).to_bytes_be();
    let mut want_padded = vec![0u8; k.size() - want.len()];
    want_padded.extend_from_slice(&want);
    assert_eq!(
        out,
        want_padded,
        "sig^e mod n differs (n = {} bits, e = {e})",
        n.bits()
    );
});
