//! Authenticator data (WebAuthn Level 3 §6.1), read strictly: the fixed 37 bytes, then the
//! attested credential data exactly when the AT flag says so, then the extensions exactly when
//! ED says so, and nothing after them.

use super::cbor::{self, Value};
use super::cose::{self, CoseKey, KeyError};

pub const FLAG_UP: u8 = 0x01;
pub const FLAG_UV: u8 = 0x04;
pub const FLAG_BE: u8 = 0x08;
pub const FLAG_BS: u8 = 0x10;
pub const FLAG_AT: u8 = 0x40;
pub const FLAG_ED: u8 = 0x80;

/// WebAuthn §5.8.3: credential ids are at most 1023 bytes. At least 16 (ours are random and
/// every authenticator's are longer), which also keeps ids unguessable.
pub const MAX_CREDENTIAL_ID: usize = 1023;
pub const MIN_CREDENTIAL_ID: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestedCredential {
    pub aaguid: [u8; 16],
    pub credential_id: Vec<u8>,
    /// The COSE key exactly as the authenticator encoded it (what is stored).
    pub public_key_cose: Vec<u8>,
    pub public_key: CoseKey,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthData {
    pub rp_id_hash: [u8; 32],
    pub flags: u8,
    pub sign_count: u32,
    pub attested: Option<AttestedCredential>,
}

impl AuthData {
    pub fn user_present(&self) -> bool {
        self.flags & FLAG_UP != 0
    }
    pub fn user_verified(&self) -> bool {
        self.flags & FLAG_UV != 0
    }
    /// Backup eligible: the credential may be synced (a multi-device passkey).
    pub fn backup_eligible(&self) -> bool {
        self.flags & FLAG_BE != 0
    }
    pub fn backed_up(&self) -> bool {
        self.flags & FLAG_BS != 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthDataError {
    /// Shorter than its fixed part or than what its flags and lengths announce.
    Truncated,
    /// Bytes after the last part the flags announce.
    TrailingBytes,
    /// BS (backed up) without BE (backup eligible): WebAuthn §6.1.3 says this cannot be.
    BackupState,
    CredentialIdLength,
    Key(KeyError),
    /// The extensions are not a CBOR map with text keys.
    Extensions(Option<cbor::CborError>),
}

impl AuthDataError {
    pub fn describe(self) -> &'static str {
        match self {
            AuthDataError::Truncated => "the authenticator data is truncated",
            AuthDataError::TrailingBytes => "bytes follow the authenticator data",
            AuthDataError::BackupState => "the authenticator data says backed up but not backup eligible",
            AuthDataError::CredentialIdLength => "the credential id is not 16 to 1023 bytes",
            AuthDataError::Key(e) => e.describe(),
            AuthDataError::Extensions(Some(e)) => e.describe(),
            AuthDataError::Extensions(None) => "the authenticator extensions are not a map",
        }
    }
}

fn split(bytes: &[u8], n: usize) -> Result<(&[u8], &[u8]), AuthDataError> {
    if bytes.len() < n {
        Err(AuthDataError::Truncated)
    } else {
        Ok(bytes.split_at(n))
    }
}

pub fn parse(bytes: &[u8]) -> Result<AuthData, AuthDataError> {
    let (rp_id_hash, rest) = split(bytes, 32)?;
    let (flags, rest) = split(rest, 1)?;
    let (count, mut rest) = split(rest, 4)?;
    let flags = flags.first().copied().unwrap_or(0);
    if flags & FLAG_BS != 0 && flags & FLAG_BE == 0 {
        return Err(AuthDataError::BackupState);
    }
    let mut sign_count = [0u8; 4];
    sign_count.copy_from_slice(count);
    let mut rp = [0u8; 32];
    rp.copy_from_slice(rp_id_hash);
    let attested = if flags & FLAG_AT != 0 {
        let (aaguid, r) = split(rest, 16)?;
        let (len, r) = split(r, 2)?;
        let len = usize::from(u16::from_be_bytes([
            len.first().copied().unwrap_or(0),
            len.get(1).copied().unwrap_or(0),
        ]));
        if !(MIN_CREDENTIAL_ID..=MAX_CREDENTIAL_ID).contains(&len) {
            return Err(AuthDataError::CredentialIdLength);
        }
        let (id, r) = split(r, len)?;
        let (key, after) = cbor::decode_prefix(r).map_err(|e| match e {
            cbor::CborError::Truncated => AuthDataError::Truncated,
            e => AuthDataError::Key(KeyError::Cbor(e)),
        })?;
        let public_key = cose::from_value(&key).map_err(AuthDataError::Key)?;
        let cose_len = r.len() - after.len();
        let mut guid = [0u8; 16];
        guid.copy_from_slice(aaguid);
        rest = after;
        Some(AttestedCredential {
            aaguid: guid,
            credential_id: id.to_vec(),
            public_key_cose: r.get(..cose_len).unwrap_or_default().to_vec(),
            public_key,
        })
    } else {
        None
    };
    if flags & FLAG_ED != 0 {
        let (ext, after) = cbor::decode_prefix(rest).map_err(|e| AuthDataError::Extensions(Some(e)))?;
        let text_keys = ext
            .as_map()
            .is_some_and(|m| m.iter().all(|(k, _)| matches!(k, Value::Text(_))));
        if !text_keys {
            return Err(AuthDataError::Extensions(None));
        }
        rest = after;
    }
    if !rest.is_empty() {
        return Err(AuthDataError::TrailingBytes);
    }
    Ok(AuthData {
        rp_id_hash: rp,
        flags,
        sign_count: u32::from_be_bytes(sign_count),
        attested,
    })
}

/// Authenticator data as an authenticator writes it (tests: the software authenticator).
#[cfg(any(test, feature = "memory"))]
pub fn encode(rp_id_hash: &[u8; 32], flags: u8, sign_count: u32, attested: Option<(&[u8; 16], &[u8], &[u8])>) -> Vec<u8> {
    let mut out = rp_id_hash.to_vec();
    out.push(flags);
    out.extend_from_slice(&sign_count.to_be_bytes());
    if let Some((aaguid, id, key)) = attested {
        out.extend_from_slice(aaguid);
        out.extend_from_slice(&(id.len() as u16).to_be_bytes());
        out.extend_from_slice(id);
        out.extend_from_slice(key);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Vec<u8> {
        cose::encode(&CoseKey::Ed25519 { x: [9; 32] })
    }

    #[test]
    fn reads_each_part_the_flags_announce() {
        let rp = [5u8; 32];
        let plain = encode(&rp, FLAG_UP | FLAG_UV, 7, None);
        let a = parse(&plain).unwrap();
        assert_eq!((a.rp_id_hash, a.sign_count, a.attested.clone()), (rp, 7, None));
        assert!(a.user_present() && a.user_verified() && !a.backup_eligible());

        let id = [1u8; 32];
        let with_key = encode(&rp, FLAG_UP | FLAG_AT | FLAG_BE | FLAG_BS, 0, Some((&[2; 16], &id, &key())));
        let a = parse(&with_key).unwrap();
        let att = a.attested.unwrap();
        assert_eq!(att.credential_id, id);
        assert_eq!(att.public_key_cose, key());
        assert_eq!(att.aaguid, [2; 16]);
        assert!(a.flags & FLAG_BS != 0);

        // Extensions after the key, as a text-keyed map.
        let mut ext = encode(&rp, FLAG_UP | FLAG_AT | FLAG_ED, 0, Some((&[0; 16], &id, &key())));
        ext.extend_from_slice(&[0xa1, 0x6b]);
        ext.extend_from_slice(b"credProtect");
        ext.push(0x02);
        assert!(parse(&ext).is_ok());
    }

    #[test]
    fn what_the_flags_do_not_announce_is_refused() {
        let rp = [5u8; 32];
        let id = [1u8; 32];
        let good = encode(&rp, FLAG_UP | FLAG_AT, 0, Some((&[0; 16], &id, &key())));
        // Every truncation of valid authenticator data fails.
        for n in 0..good.len() {
            assert!(parse(&good[..n]).is_err(), "{n}");
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(parse(&trailing), Err(AuthDataError::TrailingBytes));
        // A key without the AT flag is trailing bytes; AT without a key is truncated.
        let mut no_at = good.clone();
        no_at[32] = FLAG_UP;
        assert_eq!(parse(&no_at), Err(AuthDataError::TrailingBytes));
        let at_only = encode(&rp, FLAG_UP | FLAG_AT, 0, None);
        assert_eq!(parse(&at_only), Err(AuthDataError::Truncated));
        // ED without extensions, extensions that are not a map.
        let ed = encode(&rp, FLAG_UP | FLAG_ED, 0, None);
        assert!(matches!(parse(&ed), Err(AuthDataError::Extensions(_))));
        let mut ed_list = ed.clone();
        ed_list.push(0x80);
        assert_eq!(parse(&ed_list), Err(AuthDataError::Extensions(None)));
        // BS without BE.
        assert_eq!(parse(&encode(&rp, FLAG_UP | FLAG_BS, 0, None)), Err(AuthDataError::BackupState));
        // Credential ids: too short, too long (announced), longer than the data.
        let short = encode(&rp, FLAG_UP | FLAG_AT, 0, Some((&[0; 16], &[1; 15], &key())));
        assert_eq!(parse(&short), Err(AuthDataError::CredentialIdLength));
        let mut long = encode(&rp, FLAG_UP | FLAG_AT, 0, None);
        long.extend_from_slice(&[0; 16]);
        long.extend_from_slice(&1024u16.to_be_bytes());
        assert_eq!(parse(&long), Err(AuthDataError::CredentialIdLength));
        let mut over = encode(&rp, FLAG_UP | FLAG_AT, 0, None);
        over.extend_from_slice(&[0; 16]);
        over.extend_from_slice(&500u16.to_be_bytes());
        over.extend_from_slice(&[1; 40]);
        assert_eq!(parse(&over), Err(AuthDataError::Truncated));
        // A key of another algorithm.
        let bad_key = [0xa1, 0x03, 0x26]; // {3: -7} without kty
        let bad = encode(&rp, FLAG_UP | FLAG_AT, 0, Some((&[0; 16], &id, &bad_key)));
        assert_eq!(parse(&bad), Err(AuthDataError::Key(KeyError::KeyType)));
    }
}
