//! The 32-byte SHA-256 value that links the chain, and its hexadecimal text form.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{AuditError, quoted_excerpt};

/// A SHA-256 chain hash.
///
/// Its text form, used in storage, checkpoints and messages, is exactly 64
/// lowercase hexadecimal characters. Reading is strict: uppercase, whitespace
/// or any other length is rejected, so every hash has one spelling.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChainHash([u8; 32]);

impl ChainHash {
    /// The "previous hash" of the first entry: 32 zero bytes.
    pub const GENESIS: ChainHash = ChainHash([0; 32]);

    /// Wraps 32 raw bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        ChainHash(bytes)
    }

    /// The 32 raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Reads exactly 64 lowercase hexadecimal characters.
    pub fn from_hex(text: &str) -> Result<Self, AuditError> {
        let well_formed = text.len() == 64
            && text
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
        let mut bytes = [0; 32];
        if !well_formed || hex::decode_to_slice(text, &mut bytes).is_err() {
            return Err(AuditError::MalformedHash {
                found: quoted_excerpt(text),
            });
        }
        Ok(ChainHash(bytes))
    }

    /// The 64 lowercase hexadecimal characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for ChainHash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ChainHash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "ChainHash({})", self.to_hex())
    }
}

impl FromStr for ChainHash {
    type Err = AuditError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ChainHash::from_hex(text)
    }
}

impl Serialize for ChainHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for ChainHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ChainHash::from_hex(&text).map_err(serde::de::Error::custom)
    }
}
