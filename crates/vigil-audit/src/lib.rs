//! The tamper-evident audit trail's pure core: canonical encoding, SHA-256
//! hash chain, verification of a stored chain, and Ed25519-signed checkpoints.
//!
//! Nothing here touches a database, a file or a clock: stores call
//! [`next_entry`] inside their write transaction and [`verify`] on what they
//! read back; the command line reads and writes the key and checkpoint texts.
//! Every format below is public and versioned, so that anyone can re-check a
//! Vigil audit trail with their own tools.
//!
//! # Canonical encoding (`vigil-audit-v1`)
//!
//! The bytes hashed for an [`AuditRecord`] ([`canonical_bytes`]) are the 15
//! ASCII bytes `vigil-audit-v1` followed by a line feed (`0x0A`), then, for
//! each of the eight fields in this order —
//!
//! 1. `sequence`, written in decimal ASCII digits without sign or leading zeros;
//! 2. `recorded_at`, written in the canonical timestamp form below;
//! 3. `actor`, 4. `role`, 5. `organisation`, 6. `action`, 7. `subject`,
//!    8. `payload`, each as its UTF-8 bytes exactly as stored (the payload is
//!    JSON text already in its stored form and is never re-serialised) —
//!
//! the field's length *in UTF-8 bytes* written in decimal ASCII digits, a
//! colon (`:`, `0x3A`), the field's bytes, and a line feed (`0x0A`). There is
//! no other separator and no trailing data. Because every field is length
//! prefixed, a field may contain any character, including `:` and line
//! feeds, and two different records never share an encoding.
//!
//! For example, the record with sequence 7 recorded at
//! 2026-11-23T15:04:05.123456Z by `alice` as `cso` of `rw3`, action
//! `deployment.transition` on `deployment:12` with payload `{"to":"live"}`
//! encodes as:
//!
//! ```text
//! vigil-audit-v1
//! 1:7
//! 27:2026-11-23T15:04:05.123456Z
//! 5:alice
//! 3:cso
//! 3:rw3
//! 21:deployment.transition
//! 13:deployment:12
//! 13:{"to":"live"}
//! ```
//!
//! (each line ending in a single line feed, including the last).
//!
//! # Canonical timestamps
//!
//! A timestamp is written as RFC 3339 in UTC with exactly six fractional
//! digits and an uppercase `Z`: `2026-11-23T15:04:05.123456Z`. Finer
//! precision is truncated towards the past ([`canonical_timestamp`]) *before*
//! a record is stored, so the stored instant and the hashed text agree.
//! Stores write [`format_timestamp`] to their text column and read it back
//! with [`parse_timestamp`], which accepts only this one spelling, so round
//! trips are exact. (Years outside 0000–9999 use jiff's signed six-digit
//! extended-year form; they do not occur in practice.)
//!
//! # Hash chain
//!
//! Entry *i*'s hash is `SHA-256(previous_hash_bytes ‖ canonical_bytes(record_i))`
//! ([`chain_hash`]), where `previous_hash_bytes` are the 32 raw bytes of entry
//! *i − 1*'s hash, or 32 zero bytes ([`ChainHash::GENESIS`]) for entry 1.
//! Hashes are stored and exchanged as 64 lowercase hexadecimal characters.
//! Each stored row holds the record, its previous hash and its hash; the
//! store also keeps the head (last sequence and hash) in a separate one-row
//! table, written in the same transaction as each append ([`RecordedHead`]).
//!
//! # Verification
//!
//! [`verify`] walks the rows in physical order and stops at the first
//! problem, reporting the 1-based position of the bad entry (the sequence
//! number it should have had). At position *p*, with entries 1 … *p − 1*
//! accepted, it checks in order:
//!
//! 1. the stored sequence *s*: *s* < *p* is
//!    [`Reordered`](BreakReason::Reordered) (it went backwards or repeats);
//!    *s* > *p* is `Reordered` if an entry numbered *p* appears later in the
//!    rows, and [`Missing`](BreakReason::Missing) otherwise;
//! 2. both stored hash texts are well formed, else
//!    [`MalformedHash`](BreakReason::MalformedHash);
//! 3. the stored previous hash equals entry *p − 1*'s hash; if instead it is
//!    the hash of a different earlier entry *j* (or genesis, *j* = 0) it is
//!    `Reordered { expected p, found j + 1 }`, otherwise
//!    [`LinkBroken`](BreakReason::LinkBroken);
//! 4. the stored hash equals the hash recomputed from the content, else
//!    [`ContentEdited`](BreakReason::ContentEdited).
//!
//! After the last row, with *m* the last entry's sequence (0 if there are no
//! rows): no recorded head at all is
//! [`HeadMissing`](BreakReason::HeadMissing) at *m* when *m* > 0 (without
//! the head a cut tail cannot be seen, so its absence is itself a break),
//! and intact when *m* = 0; a recorded head naming sequence *n* > *m* is
//! [`Truncated`](BreakReason::Truncated) at *m + 1* (also when there are no
//! rows); a head whose hash differs from the chain's at *n* is
//! [`HeadMismatch`](BreakReason::HeadMismatch) at *n*, or at 1 when *n* = 0;
//! a chain continuing past a matching head is `HeadMismatch` at *n + 1*. So
//! an edited row *k* is reported at *k*, a deleted row *k* at *k*
//! (`Missing { k, k + 1 }`), rows *k* and *k + 1* swapped at *k*
//! (`Reordered { k, k + 1 }`), a duplicated row *k* at *k + 1*
//! (`Reordered { k + 1, k }`), a tail cut after *m* at *m + 1*, and a
//! deleted head row at *m*.
//!
//! Each [`BreakReason`] has a stable snake_case [`code`](BreakReason::code)
//! for machine-readable output: `content_edited`, `link_broken`, `missing`,
//! `reordered`, `malformed_hash`, `truncated`, `head_mismatch`,
//! `head_missing`.
//!
//! # Checkpoints
//!
//! Cutting the newest entries *and* rewriting the recorded head to match, or
//! rewriting the whole history and re-hashing it consistently, leaves a
//! chain that verifies. A checkpoint, signed with a key held outside the
//! database and kept outside it too, catches both
//! ([`verify_against_checkpoint`]).
//!
//! - Key file ([`CheckpointKey`]): the line `vigil-checkpoint-key-v1`, then
//!   the 32-byte Ed25519 secret key as 64 lowercase hex characters, each line
//!   ending in a line feed.
//! - Signed message: `vigil-audit-checkpoint-v1\n{sequence}\n{head}\n{created_at}\n`
//!   with the sequence in decimal, the head hash in lowercase hex and
//!   `created_at` in the canonical timestamp form.
//! - Checkpoint file ([`Checkpoint`]): pretty JSON with the fields
//!   `sequence` (number), `head`, `created_at`, `public_key` (64 hex
//!   characters) and `signature` (128 hex characters, Ed25519 as in
//!   RFC 8032, verified strictly), and a final line feed.

mod checkpoint;
mod error;
mod hash;
mod record;
mod verify;

pub use checkpoint::{
    CHECKPOINT_MESSAGE_PREFIX, Checkpoint, CheckpointKey, KEY_FILE_HEADER,
    verify_against_checkpoint, verify_against_trusted_checkpoint,
};
pub use error::AuditError;
pub use hash::ChainHash;
pub use record::{
    AuditRecord, CANONICAL_PREFIX, canonical_bytes, canonical_timestamp, chain_hash,
    format_timestamp, next_entry, parse_timestamp,
};
pub use verify::{BreakReason, RecordedHead, StoredEntry, Verification, verify};
