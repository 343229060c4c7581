//! Audit records, their canonical byte encoding, the chain hash and the canonical timestamp text.
//!
//! The encoding is specified in the crate documentation; this module is its
//! only implementation.

use sha2::{Digest, Sha256};

use crate::error::{AuditError, quoted_excerpt};
use crate::hash::ChainHash;

/// The first line of every canonical encoding, naming the format and its version.
pub const CANONICAL_PREFIX: &str = "vigil-audit-v1\n";

/// One audit entry's content, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuditRecord {
    /// The entry's position in the chain: 1, 2, 3, … with no gaps.
    pub sequence: u64,
    /// When the entry was recorded, already truncated to microseconds by [`canonical_timestamp`].
    pub recorded_at: jiff::Timestamp,
    /// Who acted: a user name, or "system".
    pub actor: String,
    /// The role the actor acted in, such as "clinical_safety_officer".
    pub role: String,
    /// The organisation code, such as "rw3".
    pub organisation: String,
    /// What was done, such as "deployment.transition".
    pub action: String,
    /// What it was done to, such as "deployment:12".
    pub subject: String,
    /// JSON text exactly as stored; it is hashed byte for byte and never re-serialised.
    pub payload: String,
}

/// Truncates a timestamp to whole microseconds (towards the past), the precision the audit trail stores.
///
/// Stores call this before storing, so the value they hold and the value
/// that was hashed are the same instant. [`next_entry`] does it for them.
pub fn canonical_timestamp(timestamp: jiff::Timestamp) -> jiff::Timestamp {
    let nanoseconds = timestamp.as_nanosecond();
    let truncated = nanoseconds - nanoseconds.rem_euclid(1_000);
    // Flooring to a whole microsecond cannot leave jiff's range, whose ends are whole seconds;
    // should it ever, the input is returned unchanged rather than panicking.
    jiff::Timestamp::from_nanosecond(truncated).unwrap_or(timestamp)
}

/// The canonical text of a timestamp: RFC 3339 in UTC with exactly six fractional digits and a 'Z' suffix.
///
/// Finer precision is truncated first, so `2026-11-23T15:04:05.123456789Z`
/// is written `2026-11-23T15:04:05.123456Z`. This is the text stores write to
/// their timestamp column and the text that is hashed.
pub fn format_timestamp(timestamp: jiff::Timestamp) -> String {
    format!("{:.6}", canonical_timestamp(timestamp))
}

/// Reads the canonical timestamp text written by [`format_timestamp`], and nothing else.
///
/// Any other spelling of an instant (an offset other than 'Z', fewer or more
/// fractional digits, lowercase 'z') is refused, so that reading and writing
/// again gives back exactly the same text.
pub fn parse_timestamp(text: &str) -> Result<jiff::Timestamp, AuditError> {
    let timestamp: jiff::Timestamp =
        text.parse()
            .map_err(|error: jiff::Error| AuditError::InvalidTimestamp {
                found: quoted_excerpt(text),
                reason: error.to_string(),
            })?;
    let canonical = format_timestamp(timestamp);
    if canonical != text {
        return Err(AuditError::NonCanonicalTimestamp {
            found: quoted_excerpt(text),
            canonical,
        });
    }
    Ok(timestamp)
}

/// The canonical byte encoding of a record, as specified in the crate documentation.
///
/// `"vigil-audit-v1\n"`, then for each field in the order sequence,
/// recorded_at, actor, role, organisation, action, subject, payload: the
/// field's UTF-8 byte length in decimal, `':'`, the field's bytes, `'\n'`.
pub fn canonical_bytes(record: &AuditRecord) -> Vec<u8> {
    let sequence = record.sequence.to_string();
    let recorded_at = format_timestamp(record.recorded_at);
    let fields: [&str; 8] = [
        &sequence,
        &recorded_at,
        &record.actor,
        &record.role,
        &record.organisation,
        &record.action,
        &record.subject,
        &record.payload,
    ];
    let content_length: usize = fields.iter().map(|field| field.len() + 22).sum();
    let mut bytes = Vec::with_capacity(CANONICAL_PREFIX.len() + content_length);
    bytes.extend_from_slice(CANONICAL_PREFIX.as_bytes());
    for field in fields {
        bytes.extend_from_slice(field.len().to_string().as_bytes());
        bytes.push(b':');
        bytes.extend_from_slice(field.as_bytes());
        bytes.push(b'\n');
    }
    bytes
}

/// The hash of one entry: SHA-256 of the previous entry's 32 hash bytes followed by this record's canonical bytes.
///
/// The first entry's previous hash is [`ChainHash::GENESIS`].
pub fn chain_hash(previous: &ChainHash, record: &AuditRecord) -> ChainHash {
    let mut hasher = Sha256::new();
    hasher.update(previous.as_bytes());
    hasher.update(canonical_bytes(record));
    ChainHash::from_bytes(hasher.finalize().into())
}

/// Builds the next entry for an append, for a store to call inside its write transaction.
///
/// `previous` is the current head, the last entry's sequence and hash, or
/// `None` for an empty chain. The new record takes the next sequence number
/// (1 for an empty chain) and `recorded_at` truncated by
/// [`canonical_timestamp`]; the returned hash is the one to store with it and
/// to record as the new head. The store writes the returned record's fields,
/// `previous`'s hash (or [`ChainHash::GENESIS`]) and the returned hash.
///
/// A chain cannot realistically reach `u64::MAX` entries; if one ever did,
/// the sequence number would repeat rather than wrap, and [`verify`](crate::verify)
/// would report the repeat.
#[expect(
    clippy::too_many_arguments,
    reason = "one argument per record field keeps the store's call site explicit"
)]
pub fn next_entry(
    previous: Option<(&u64, &ChainHash)>,
    recorded_at: jiff::Timestamp,
    actor: String,
    role: String,
    organisation: String,
    action: String,
    subject: String,
    payload: String,
) -> (AuditRecord, ChainHash) {
    let (sequence, previous_hash) = match previous {
        Some((sequence, hash)) => (sequence.saturating_add(1), *hash),
        None => (1, ChainHash::GENESIS),
    };
    let record = AuditRecord {
        sequence,
        recorded_at: canonical_timestamp(recorded_at),
        actor,
        role,
        organisation,
        action,
        subject,
        payload,
    };
    let hash = chain_hash(&previous_hash, &record);
    (record, hash)
}
