//! COSE public keys (RFC 9052/9053, RFC 8230) of the three algorithms passkeys are accepted
//! with: ES256 (EC2, P-256), EdDSA (OKP, Ed25519) and RS256 (RSA, 2048 to 4096 bits).
//!
//! The key must name its algorithm (`alg`, WebAuthn §6.5.1.1), the key type must be that
//! algorithm's and every parameter it needs must be there, of the right size; unknown labels
//! are allowed (RFC 9052 §7), repeated ones are not (the CBOR reader refuses them). Point and
//! modulus validity are the verifier's (`crypto::cose`), which refuses keys it cannot use.

use super::cbor::{self, int_key, Value};

/// COSE algorithm identifiers (IANA "COSE Algorithms").
pub const ES256: i64 = -7;
pub const EDDSA: i64 = -8;
pub const RS256: i64 = -257;

/// The algorithms offered in `pubKeyCredParams`, most preferred first.
pub const ALGORITHMS: [i64; 3] = [EDDSA, ES256, RS256];

/// A parsed credential public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoseKey {
    /// ES256: the affine coordinates of a P-256 point, big-endian.
    Es256 { x: [u8; 32], y: [u8; 32] },
    /// EdDSA over Ed25519: the public key.
    Ed25519 { x: [u8; 32] },
    /// RS256: modulus and public exponent, big-endian.
    Rs256 { n: Vec<u8>, e: Vec<u8> },
}

impl CoseKey {
    pub fn alg(&self) -> i64 {
        match self {
            CoseKey::Es256 { .. } => ES256,
            CoseKey::Ed25519 { .. } => EDDSA,
            CoseKey::Rs256 { .. } => RS256,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    Cbor(cbor::CborError),
    NotAMap,
    /// No `alg`, or one other than ES256, EdDSA and RS256.
    Algorithm,
    /// The key type or curve does not go with the algorithm.
    KeyType,
    /// A coordinate, the modulus or the exponent is missing or of the wrong size.
    Parameter,
}

impl KeyError {
    pub fn describe(self) -> &'static str {
        match self {
            KeyError::Cbor(e) => e.describe(),
            KeyError::NotAMap => "the credential public key is not a COSE key",
            KeyError::Algorithm => "the credential public key's algorithm is not ES256, EdDSA or RS256",
            KeyError::KeyType => "the credential public key's type does not go with its algorithm",
            KeyError::Parameter => "a parameter of the credential public key is missing or of the wrong size",
        }
    }
}

const KTY: i64 = 1;
const ALG: i64 = 3;
const CRV: i64 = -1;
const X: i64 = -2;
const Y: i64 = -3;
const RSA_N: i64 = -1;
const RSA_E: i64 = -2;
const KTY_OKP: i64 = 1;
const KTY_EC2: i64 = 2;
const KTY_RSA: i64 = 3;
const CRV_P256: i64 = 1;
const CRV_ED25519: i64 = 6;

fn bytes32(map: &[(Value<'_>, Value<'_>)], label: i64) -> Result<[u8; 32], KeyError> {
    int_key(map, label)
        .and_then(Value::as_bytes)
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or(KeyError::Parameter)
}

/// Reads a COSE key from a decoded CBOR value.
pub fn from_value(v: &Value<'_>) -> Result<CoseKey, KeyError> {
    let map = v.as_map().ok_or(KeyError::NotAMap)?;
    let alg = int_key(map, ALG).and_then(Value::as_int).ok_or(KeyError::Algorithm)?;
    let kty = int_key(map, KTY).and_then(Value::as_int).ok_or(KeyError::KeyType)?;
    let crv = int_key(map, CRV).and_then(Value::as_int);
    match (alg, kty) {
        (ES256, KTY_EC2) => {
            if crv != Some(CRV_P256) {
                return Err(KeyError::KeyType);
            }
            Ok(CoseKey::Es256 {
                x: bytes32(map, X)?,
                y: bytes32(map, Y)?,
            })
        }
        (EDDSA, KTY_OKP) => {
            if crv != Some(CRV_ED25519) {
                return Err(KeyError::KeyType);
            }
            Ok(CoseKey::Ed25519 { x: bytes32(map, X)? })
        }
        (RS256, KTY_RSA) => {
            let field = |label| int_key(map, label).and_then(Value::as_bytes).ok_or(KeyError::Parameter);
            let (n, e) = (field(RSA_N)?, field(RSA_E)?);
            // 2048 to 4096 bits, no leading zero byte; an exponent of at most 8 bytes, odd, > 1.
            let n_ok = (256..=512).contains(&n.len()) && n.first().is_some_and(|&b| b != 0);
            let e_ok = (1..=8).contains(&e.len())
                && e.first().is_some_and(|&b| b != 0)
                && e.last().is_some_and(|&b| b & 1 == 1)
                && e != [1];
            if !n_ok || !e_ok {
                return Err(KeyError::Parameter);
            }
            Ok(CoseKey::Rs256 {
                n: n.to_vec(),
                e: e.to_vec(),
            })
        }
        (ES256 | EDDSA | RS256, _) => Err(KeyError::KeyType),
        _ => Err(KeyError::Algorithm),
    }
}

/// Reads a COSE key that is the whole of `bytes` (as stored with a passkey).
pub fn parse(bytes: &[u8]) -> Result<CoseKey, KeyError> {
    from_value(&cbor::decode(bytes).map_err(KeyError::Cbor)?)
}

/// The COSE encoding of a key (tests: a software authenticator's credential public key).
#[cfg(any(test, feature = "memory"))]
pub fn encode(key: &CoseKey) -> Vec<u8> {
    use super::cbor::write::{encode, int};
    let entries = match key {
        CoseKey::Es256 { x, y } => vec![
            (int(KTY), int(KTY_EC2)),
            (int(ALG), int(ES256)),
            (int(CRV), int(CRV_P256)),
            (int(X), Value::Bytes(x)),
            (int(Y), Value::Bytes(y)),
        ],
        CoseKey::Ed25519 { x } => vec![
            (int(KTY), int(KTY_OKP)),
            (int(ALG), int(EDDSA)),
            (int(CRV), int(CRV_ED25519)),
            (int(X), Value::Bytes(x)),
        ],
        CoseKey::Rs256 { n, e } => vec![
            (int(KTY), int(KTY_RSA)),
            (int(ALG), int(RS256)),
            (int(RSA_N), Value::Bytes(n)),
            (int(RSA_E), Value::Bytes(e)),
        ],
    };
    encode(&Value::Map(entries))
}

#[cfg(test)]
mod tests {
    use super::super::cbor::write::{encode as enc, int};
    use super::*;

    fn map(entries: Vec<(i64, Value<'static>)>) -> Vec<u8> {
        enc(&Value::Map(entries.into_iter().map(|(k, v)| (int(k), v)).collect()))
    }

    #[test]
    fn the_three_algorithms_round_trip() {
        let keys = [
            CoseKey::Es256 { x: [1; 32], y: [2; 32] },
            CoseKey::Ed25519 { x: [3; 32] },
            CoseKey::Rs256 {
                n: vec![0xc5; 256],
                e: vec![1, 0, 1],
            },
        ];
        for k in keys {
            assert_eq!(parse(&encode(&k)), Ok(k.clone()));
        }
    }

    #[test]
    fn keys_that_do_not_fit_are_refused() {
        static X: [u8; 32] = [7; 32];
        static SHORT: [u8; 31] = [7; 31];
        static N: [u8; 256] = [0xc5; 256];
        static N_SMALL: [u8; 128] = [0xc5; 128];
        let ec = |alg: i64, kty: i64, crv: i64, x: &'static [u8]| {
            map(vec![(1, int(kty)), (3, int(alg)), (-1, int(crv)), (-2, Value::Bytes(x)), (-3, Value::Bytes(&X))])
        };
        let cases: Vec<(Vec<u8>, KeyError)> = vec![
            (ec(ES256, 2, 1, &X).into_iter().chain([0]).collect(), KeyError::Cbor(cbor::CborError::TrailingBytes)),
            (enc(&Value::Array(vec![])), KeyError::NotAMap),
            (map(vec![(1, int(2)), (-1, int(1))]), KeyError::Algorithm), // no alg
            (ec(-35, 2, 2, &X), KeyError::Algorithm),                      // ES384
            (ec(-36, 2, 3, &X), KeyError::Algorithm),
            (ec(ES256, 2, 2, &X), KeyError::KeyType), // P-384 curve
            (ec(ES256, 1, 1, &X), KeyError::KeyType), // OKP with ES256
            (ec(EDDSA, 1, 4, &X), KeyError::KeyType), // X25519 is not a signing curve
            (ec(ES256, 2, 1, &SHORT), KeyError::Parameter),
            (map(vec![(1, int(2)), (3, int(ES256)), (-1, int(1)), (-2, Value::Bytes(&X))]), KeyError::Parameter),
            (map(vec![(1, Value::Text("EC2")), (3, int(ES256))]), KeyError::KeyType),
            (map(vec![(1, int(3)), (3, int(RS256)), (-1, Value::Bytes(&N_SMALL)), (-2, Value::Bytes(&[1, 0, 1]))]), KeyError::Parameter),
            (map(vec![(1, int(3)), (3, int(RS256)), (-1, Value::Bytes(&N)), (-2, Value::Bytes(&[1]))]), KeyError::Parameter),
            (map(vec![(1, int(3)), (3, int(RS256)), (-1, Value::Bytes(&N)), (-2, Value::Bytes(&[2]))]), KeyError::Parameter),
            (map(vec![(1, int(3)), (3, int(RS256)), (-1, Value::Bytes(&N))]), KeyError::Parameter),
        ];
        for (bytes, want) in cases {
            assert_eq!(parse(&bytes), Err(want), "{bytes:02x?}");
        }
        // Unknown labels (a `kid`) are allowed; a repeated label is not.
        let with_kid = map(vec![(1, int(1)), (2, Value::Bytes(b"kid")), (3, int(EDDSA)), (-1, int(6)), (-2, Value::Bytes(&X))]);
        assert_eq!(parse(&with_kid), Ok(CoseKey::Ed25519 { x: X }));
        let repeated = map(vec![(1, int(1)), (3, int(EDDSA)), (-1, int(6)), (-2, Value::Bytes(&X)), (3, int(EDDSA))]);
        assert_eq!(parse(&repeated), Err(KeyError::Cbor(cbor::CborError::DuplicateKey)));
    }
}
