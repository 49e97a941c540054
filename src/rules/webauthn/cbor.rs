//! A small strict CBOR (RFC 8949) reader for the subset WebAuthn uses: the attestation object,
//! the COSE key and the extensions in authenticator data.
//!
//! Strict where it matters and bounded everywhere: definite lengths only (indefinite lengths,
//! reserved additional-information values and break codes are refused), text must be UTF-8,
//! a map must not repeat a key, nesting is at most [`MAX_DEPTH`] deep, a container holds at
//! most [`MAX_ITEMS`] entries and one decode reads at most [`MAX_NODES`] items, so no input can
//! make it allocate much more than its own size. Byte and text strings borrow the input.
//! Floats and tags are read (a `none` attestation never has them, other formats may) but not
//! interpreted.

/// Containers deeper than this are refused.
pub const MAX_DEPTH: usize = 16;
/// Entries of one array or map.
pub const MAX_ITEMS: u64 = 128;
/// Items read by one [`decode`] / [`decode_prefix`].
pub const MAX_NODES: usize = 2048;

#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// Major type 0.
    Uint(u64),
    /// Major type 1: the value is `-1 - n`.
    Nint(u64),
    Bytes(&'a [u8]),
    Text(&'a str),
    Array(Vec<Value<'a>>),
    Map(Vec<(Value<'a>, Value<'a>)>),
    Tag(u64, Box<Value<'a>>),
    Bool(bool),
    Null,
    Undefined,
    /// A half, single or double float, by its bits (never compared as a number).
    Float(u64),
}

impl<'a> Value<'a> {
    /// The integer, when it is one that fits an `i64`.
    pub fn as_int(&self) -> Option<i64> {
        match *self {
            Value::Uint(n) => i64::try_from(n).ok(),
            Value::Nint(n) => i64::try_from(n).ok().map(|n| -1 - n),
            _ => None,
        }
    }
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match *self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }
    pub fn as_text(&self) -> Option<&'a str> {
        match *self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }
    pub fn as_map(&self) -> Option<&[(Value<'a>, Value<'a>)]> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
}

/// In a map, the value under the integer key `key`.
pub fn int_key<'v, 'a>(map: &'v [(Value<'a>, Value<'a>)], key: i64) -> Option<&'v Value<'a>> {
    map.iter().find(|(k, _)| k.as_int() == Some(key)).map(|(_, v)| v)
}

/// In a map, the value under the text key `key`.
pub fn text_key<'v, 'a>(map: &'v [(Value<'a>, Value<'a>)], key: &str) -> Option<&'v Value<'a>> {
    map.iter().find(|(k, _)| k.as_text() == Some(key)).map(|(_, v)| v)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CborError {
    /// The input ended inside an item.
    Truncated,
    /// Bytes follow the one item the input was to hold.
    TrailingBytes,
    /// Indefinite lengths, reserved values, a stray break code or an unknown simple value.
    Unsupported,
    InvalidUtf8,
    DuplicateKey,
    TooDeep,
    TooLarge,
}

impl CborError {
    pub fn describe(self) -> &'static str {
        match self {
            CborError::Truncated => "CBOR ends inside an item",
            CborError::TrailingBytes => "bytes follow the CBOR item",
            CborError::Unsupported => "CBOR uses an encoding that is not accepted",
            CborError::InvalidUtf8 => "a CBOR text string is not UTF-8",
            CborError::DuplicateKey => "a CBOR map repeats a key",
            CborError::TooDeep => "CBOR is nested too deeply",
            CborError::TooLarge => "CBOR holds too many items",
        }
    }
}

struct Reader<'a> {
    rest: &'a [u8],
    nodes: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, CborError> {
        let (&b, rest) = self.rest.split_first().ok_or(CborError::Truncated)?;
        self.rest = rest;
        Ok(b)
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], CborError> {
        let n = usize::try_from(n).map_err(|_| CborError::Truncated)?;
        if n > self.rest.len() {
            return Err(CborError::Truncated);
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    /// The argument of a head whose additional information is `info` (RFC 8949 §3).
    fn argument(&mut self, info: u8) -> Result<u64, CborError> {
        let width = match info {
            0..=23 => return Ok(u64::from(info)),
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            _ => return Err(CborError::Unsupported),
        };
        Ok(self
            .take(width)?
            .iter()
            .fold(0u64, |acc, &b| acc << 8 | u64::from(b)))
    }

    fn count(&mut self, n: u64) -> Result<usize, CborError> {
        // Every entry takes at least one byte, so a count beyond what is left is truncation.
        if n > MAX_ITEMS {
            return Err(CborError::TooLarge);
        }
        let n = n as usize;
        if n > self.rest.len() {
            return Err(CborError::Truncated);
        }
        Ok(n)
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>, CborError> {
        if depth > MAX_DEPTH {
            return Err(CborError::TooDeep);
        }
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(CborError::TooLarge);
        }
        let head = self.byte()?;
        let (major, info) = (head >> 5, head & 0x1f);
        if major == 7 {
            return match info {
                20 => Ok(Value::Bool(false)),
                21 => Ok(Value::Bool(true)),
                22 => Ok(Value::Null),
                23 => Ok(Value::Undefined),
                25..=27 => Ok(Value::Float(self.argument(info)?)),
                // Other simple values (unassigned, one-byte simple, break) are refused.
                _ => Err(CborError::Unsupported),
            };
        }
        let arg = self.argument(info)?;
        match major {
            0 => Ok(Value::Uint(arg)),
            1 => Ok(Value::Nint(arg)),
            2 => Ok(Value::Bytes(self.take(arg)?)),
            3 => {
                let raw = self.take(arg)?;
                std::str::from_utf8(raw)
                    .map(Value::Text)
                    .map_err(|_| CborError::InvalidUtf8)
            }
            4 => {
                let n = self.count(arg)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.value(depth + 1)?);
                }
                Ok(Value::Array(items))
            }
            5 => {
                let n = self.count(arg)?;
                let mut entries: Vec<(Value<'a>, Value<'a>)> = Vec::with_capacity(n);
                for _ in 0..n {
                    let k = self.value(depth + 1)?;
                    if entries.iter().any(|(seen, _)| *seen == k) {
                        return Err(CborError::DuplicateKey);
                    }
                    let v = self.value(depth + 1)?;
                    entries.push((k, v));
                }
                Ok(Value::Map(entries))
            }
            // Major type 6; 0..=5 and 7 are handled above.
            _ => Ok(Value::Tag(arg, Box::new(self.value(depth + 1)?))),
        }
    }
}

/// Reads one item that must be the whole input.
pub fn decode(input: &[u8]) -> Result<Value<'_>, CborError> {
    let (v, rest) = decode_prefix(input)?;
    if rest.is_empty() {
        Ok(v)
    } else {
        Err(CborError::TrailingBytes)
    }
}

/// Reads one item at the start of the input; answers it and what follows.
pub fn decode_prefix(input: &[u8]) -> Result<(Value<'_>, &[u8]), CborError> {
    let mut r = Reader { rest: input, nodes: 0 };
    let v = r.value(0)?;
    Ok((v, r.rest))
}

/// A minimal CBOR writer for tests (ours and the fuzz targets'): the canonical encodings of
/// what [`decode`] reads.
#[cfg(any(test, feature = "memory"))]
pub mod write {
    use super::Value;

    fn head(out: &mut Vec<u8>, major: u8, n: u64) {
        let m = major << 5;
        if n < 24 {
            out.push(m | n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[m | 24, n as u8]);
        } else if n <= 0xffff {
            out.push(m | 25);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(m | 26);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(m | 27);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }

    pub fn encode(v: &Value<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        put(&mut out, v);
        out
    }

    fn put(out: &mut Vec<u8>, v: &Value<'_>) {
        match v {
            Value::Uint(n) => head(out, 0, *n),
            Value::Nint(n) => head(out, 1, *n),
            Value::Bytes(b) => {
                head(out, 2, b.len() as u64);
                out.extend_from_slice(b);
            }
            Value::Text(t) => {
                head(out, 3, t.len() as u64);
                out.extend_from_slice(t.as_bytes());
            }
            Value::Array(items) => {
                head(out, 4, items.len() as u64);
                for i in items {
                    put(out, i);
                }
            }
            Value::Map(entries) => {
                head(out, 5, entries.len() as u64);
                for (k, v) in entries {
                    put(out, k);
                    put(out, v);
                }
            }
            Value::Tag(t, inner) => {
                head(out, 6, *t);
                put(out, inner);
            }
            Value::Bool(false) => out.push(0xf4),
            Value::Bool(true) => out.push(0xf5),
            Value::Null => out.push(0xf6),
            Value::Undefined => out.push(0xf7),
            Value::Float(bits) => {
                out.push(0xfb);
                out.extend_from_slice(&bits.to_be_bytes());
            }
        }
    }

    /// An integer as CBOR's major type 0 or 1.
    pub fn int(n: i64) -> Value<'static> {
        if n >= 0 {
            Value::Uint(n as u64)
        } else {
            Value::Nint((-1 - n) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::write::{encode, int};
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 8949 Appendix A examples (definite-length ones).
    #[test]
    fn rfc8949_examples() {
        let cases: &[(&str, Value)] = &[
            ("00", Value::Uint(0)),
            ("17", Value::Uint(23)),
            ("1818", Value::Uint(24)),
            ("1903e8", Value::Uint(1000)),
            ("1bffffffffffffffff", Value::Uint(u64::MAX)),
            ("20", Value::Nint(0)),
            ("3863", Value::Nint(99)),
            ("f4", Value::Bool(false)),
            ("f6", Value::Null),
            ("40", Value::Bytes(b"")),
            ("4401020304", Value::Bytes(&[1, 2, 3, 4])),
            ("6449455446", Value::Text("IETF")),
            ("62c3bc", Value::Text("ü")),
            ("83010203", Value::Array(vec![Value::Uint(1), Value::Uint(2), Value::Uint(3)])),
            (
                "a201020304",
                Value::Map(vec![(Value::Uint(1), Value::Uint(2)), (Value::Uint(3), Value::Uint(4))]),
            ),
            ("c060", Value::Tag(0, Box::new(Value::Text("")))),
            ("f93c00", Value::Float(0x3c00)),
        ];
        for (h, want) in cases {
            let bytes = hex(h);
            let got = decode(&bytes).unwrap_or_else(|e| panic!("{h}: {e:?}"));
            assert_eq!(&got, want, "{h}");
            if !matches!(want, Value::Float(_)) {
                assert_eq!(encode(&got), bytes, "{h} round trip");
            }
        }
        assert_eq!(decode(&hex("3863")).unwrap().as_int(), Some(-100));
        assert_eq!(int(-257).as_int(), Some(-257));
        assert_eq!(decode(&hex("3bffffffffffffffff")).unwrap().as_int(), None);
    }

    #[test]
    fn hostile_encodings_are_refused() {
        let cases: &[(&str, CborError)] = &[
            ("", CborError::Truncated),
            ("18", CborError::Truncated),
            ("1a0000", CborError::Truncated),
            ("45010203", CborError::Truncated),
            ("5f42010243030405ff", CborError::Unsupported), // indefinite bytes
            ("9fff", CborError::Unsupported),               // indefinite array
            ("bf61610161629f0203ffff", CborError::Unsupported),
            ("ff", CborError::Unsupported),   // stray break
            ("1c", CborError::Unsupported),   // reserved additional information
            ("f820", CborError::Unsupported), // one-byte simple value
            ("f0", CborError::Unsupported),   // unassigned simple value
            ("62c328", CborError::InvalidUtf8),
            ("a201020103", CborError::DuplicateKey),
            ("0000", CborError::TrailingBytes),
            ("9bffffffffffffffff", CborError::TooLarge),
            ("98ff", CborError::TooLarge),
            ("8a01", CborError::Truncated), // claims 10 items, has 1 byte
        ];
        for (h, want) in cases {
            assert_eq!(decode(&hex(h)), Err(*want), "{h}");
        }
        // Nesting: 16 levels are read, 17 are not.
        let deep = |n: usize| {
            let mut v = vec![0x81u8; n];
            v.push(0);
            v
        };
        assert!(decode(&deep(MAX_DEPTH)).is_ok());
        assert_eq!(decode(&deep(MAX_DEPTH + 1)), Err(CborError::TooDeep));
        // A tag chain is nesting too.
        let mut tags = vec![0xc0u8; 40];
        tags.push(0);
        assert_eq!(decode(&tags), Err(CborError::TooDeep));
        // Many small items: bounded by MAX_NODES.
        let mut wide = vec![0x98, 100];
        for _ in 0..100 {
            wide.extend_from_slice(&[0x98, 100]);
            wide.extend_from_slice(&[0u8; 100]);
        }
        assert_eq!(decode(&wide), Err(CborError::TooLarge));
        // A prefix leaves the rest.
        let bytes = hex("a10102ff00");
        let (v, rest) = decode_prefix(&bytes).unwrap();
        assert_eq!(int_key(v.as_map().unwrap(), 1), Some(&Value::Uint(2)));
        assert_eq!(rest, &[0xff, 0]);
    }
}
