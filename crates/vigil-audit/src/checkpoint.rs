//! Ed25519-signed checkpoints of the chain head, and the key that signs them.
//!
//! The key file, the signed message and the checkpoint file are specified in
//! the crate documentation under "Checkpoints".

use std::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::error::{AuditError, quoted_excerpt};
use crate::hash::ChainHash;
use crate::record::{format_timestamp, parse_timestamp};
use crate::verify::{BreakReason, RecordedHead, StoredEntry, Verification, walk};

/// The first line of a checkpoint key file.
pub const KEY_FILE_HEADER: &str = "vigil-checkpoint-key-v1";

/// The first line of the message a checkpoint signs.
pub const CHECKPOINT_MESSAGE_PREFIX: &str = "vigil-audit-checkpoint-v1\n";

/// An Ed25519 signing key for checkpoints. Its `Debug` output shows the public key only.
///
/// Keep the key file outside the database, readable only by the people who
/// sign checkpoints: whoever holds it can sign a checkpoint for a rewritten
/// history.
pub struct CheckpointKey(SigningKey);

impl CheckpointKey {
    /// Generates a new key from the operating system's random number source.
    pub fn generate() -> Result<Self, AuditError> {
        let mut secret = [0_u8; 32];
        getrandom::fill(&mut secret).map_err(|error| AuditError::RandomnessUnavailable {
            reason: error.to_string(),
        })?;
        Ok(CheckpointKey(SigningKey::from_bytes(&secret)))
    }

    /// Wraps an existing Ed25519 signing key.
    pub fn from_signing_key(key: SigningKey) -> Self {
        CheckpointKey(key)
    }

    /// The key file's text: `"vigil-checkpoint-key-v1\n"`, then the 32-byte secret as 64 lowercase hex characters and `'\n'`.
    pub fn to_file_text(&self) -> String {
        format!("{KEY_FILE_HEADER}\n{}\n", hex::encode(self.0.to_bytes()))
    }

    /// Reads a key file written by [`CheckpointKey::to_file_text`].
    ///
    /// Line endings may be `\n` or `\r\n`, and the final line ending may be
    /// absent; anything else is refused. Error messages never repeat the secret.
    pub fn from_file_text(text: &str) -> Result<Self, AuditError> {
        let mut lines = text.lines();
        if lines.next() != Some(KEY_FILE_HEADER) {
            return Err(AuditError::InvalidKeyFile {
                reason: "the first line is not \"vigil-checkpoint-key-v1\"",
            });
        }
        let Some(secret_line) = lines.next() else {
            return Err(AuditError::InvalidKeyFile {
                reason: "the secret key line is absent",
            });
        };
        if lines.next().is_some() {
            return Err(AuditError::InvalidKeyFile {
                reason: "there is text after the secret key line",
            });
        }
        let well_formed = secret_line.len() == 64
            && secret_line
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
        let mut secret = [0_u8; 32];
        if !well_formed || hex::decode_to_slice(secret_line, &mut secret).is_err() {
            return Err(AuditError::InvalidKeyFile {
                reason: "the secret key line is not 64 lowercase hexadecimal characters",
            });
        }
        Ok(CheckpointKey(SigningKey::from_bytes(&secret)))
    }

    /// The public key, to publish and to pass as the trusted key when verifying: 64 lowercase hex characters.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.0.verifying_key().to_bytes())
    }

    /// The public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.0.verifying_key()
    }
}

impl fmt::Debug for CheckpointKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("CheckpointKey")
            .field("public_key", &self.public_key_hex())
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// A signed statement that the chain's entry `sequence` has hash `head`.
///
/// The exported checkpoint file is [`Checkpoint::to_json`]: this struct as
/// pretty JSON, fields in declaration order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// The sequence number of the entry the checkpoint vouches for (0 for an empty chain).
    pub sequence: u64,
    /// That entry's hash, as 64 lowercase hex characters.
    pub head: String,
    /// When the checkpoint was signed, in the canonical timestamp form (RFC 3339 UTC, microseconds, 'Z').
    pub created_at: String,
    /// The signer's Ed25519 public key, as 64 lowercase hex characters.
    pub public_key: String,
    /// The Ed25519 signature of the checkpoint message, as 128 lowercase hex characters.
    pub signature: String,
}

impl Checkpoint {
    /// Signs a checkpoint of the chain at entry `sequence` with hash `head`.
    ///
    /// The signed message is `"vigil-audit-checkpoint-v1\n{sequence}\n{head}\n{created_at}\n"`,
    /// with the sequence in decimal, the head in lowercase hex and `created_at`
    /// in the canonical timestamp form (truncated to microseconds).
    pub fn sign(
        key: &CheckpointKey,
        sequence: u64,
        head: &ChainHash,
        created_at: jiff::Timestamp,
    ) -> Checkpoint {
        let head = head.to_hex();
        let created_at = format_timestamp(created_at);
        let signature = key
            .0
            .sign(&checkpoint_message(sequence, &head, &created_at));
        Checkpoint {
            sequence,
            head,
            created_at,
            public_key: key.public_key_hex(),
            signature: hex::encode(signature.to_bytes()),
        }
    }

    /// The exact bytes the checkpoint's signature covers.
    pub fn signed_message(&self) -> Vec<u8> {
        checkpoint_message(self.sequence, &self.head, &self.created_at)
    }

    /// Checks the fields' forms and the signature; if `trusted_public_key` is given, also that the checkpoint was signed by it.
    ///
    /// Without a trusted key this proves only that the checkpoint is
    /// unaltered since its signer signed it — anyone can sign a checkpoint of
    /// a rewritten history with a key of their own. Give the trusted key
    /// (case-insensitive hex) whenever the checkpoint is used as evidence.
    pub fn verify_signature(&self, trusted_public_key: Option<&str>) -> Result<(), AuditError> {
        ChainHash::from_hex(&self.head).map_err(|error| AuditError::InvalidCheckpointField {
            field: "head",
            reason: error.to_string(),
        })?;
        parse_timestamp(&self.created_at).map_err(|error| AuditError::InvalidCheckpointField {
            field: "created_at",
            reason: error.to_string(),
        })?;
        let public_key_bytes = decode_fixed::<32>(&self.public_key).ok_or_else(|| {
            AuditError::InvalidCheckpointField {
                field: "public_key",
                reason: "it is not 64 hexadecimal characters".to_owned(),
            }
        })?;
        let verifying_key = VerifyingKey::from_bytes(&public_key_bytes).map_err(|_| {
            AuditError::InvalidCheckpointField {
                field: "public_key",
                reason: "it is not a valid Ed25519 public key".to_owned(),
            }
        })?;
        let signature_bytes = decode_fixed::<64>(&self.signature).ok_or_else(|| {
            AuditError::InvalidCheckpointField {
                field: "signature",
                reason: "it is not 128 hexadecimal characters".to_owned(),
            }
        })?;
        let signature = Signature::from_bytes(&signature_bytes);
        verifying_key
            .verify_strict(&self.signed_message(), &signature)
            .map_err(|_| AuditError::BadCheckpointSignature)?;

        if let Some(trusted) = trusted_public_key {
            let trusted_text = trusted.trim();
            let trusted_bytes =
                decode_fixed::<32>(trusted_text).ok_or_else(|| AuditError::InvalidTrustedKey {
                    found: quoted_excerpt(trusted_text),
                    reason: "it is not 64 hexadecimal characters",
                })?;
            if trusted_bytes != public_key_bytes {
                return Err(AuditError::UntrustedCheckpointKey {
                    checkpoint_key: self.public_key.clone(),
                    trusted_key: hex::encode(trusted_bytes),
                });
            }
        }
        Ok(())
    }

    /// The checkpoint file's text: pretty JSON of the struct, with a final newline.
    pub fn to_json(&self) -> String {
        // Serialising strings and an integer into JSON cannot fail, so the fallback is never taken.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a checkpoint file. The signature is not checked here: call [`Checkpoint::verify_signature`].
    pub fn from_json(text: &str) -> Result<Self, AuditError> {
        serde_json::from_str(text).map_err(|error| AuditError::InvalidCheckpointFile {
            reason: error.to_string(),
        })
    }
}

/// The message a checkpoint signs.
fn checkpoint_message(sequence: u64, head: &str, created_at: &str) -> Vec<u8> {
    format!("{CHECKPOINT_MESSAGE_PREFIX}{sequence}\n{head}\n{created_at}\n").into_bytes()
}

/// Decodes exactly `LENGTH` bytes of hexadecimal (either case), or nothing.
fn decode_fixed<const LENGTH: usize>(text: &str) -> Option<[u8; LENGTH]> {
    let mut bytes = [0_u8; LENGTH];
    hex::decode_to_slice(text, &mut bytes).ok()?;
    Some(bytes)
}

/// Proves the history up to a checkpoint has not been rewritten, and verifies the whole chain.
///
/// Equivalent to [`verify_against_trusted_checkpoint`] with no trusted key:
/// the signature is checked against the key the checkpoint names. Prefer the
/// trusted form whenever the signer's public key is known.
pub fn verify_against_checkpoint(
    entries: impl IntoIterator<Item = StoredEntry>,
    head: Option<&RecordedHead>,
    checkpoint: &Checkpoint,
) -> Result<Verification, AuditError> {
    verify_against_trusted_checkpoint(entries, head, checkpoint, None)
}

/// Verifies the chain as [`verify`](crate::verify) does, and proves that the chain's entry at the checkpoint's sequence has the checkpoint's hash.
///
/// In order:
/// 1. the checkpoint's signature (and, if given, its signer) is checked —
///    an `Err` if it fails;
/// 2. the chain is walked; if the walk reached the checkpoint's sequence
///    intact and the hash there differs from the checkpoint's, that is
///    [`AuditError::CheckpointHashMismatch`] (history rewritten);
/// 3. a chain shorter than the checkpoint whose entries are otherwise intact
///    — the walk found no problem, or its only problem is a missing recorded
///    head ([`BreakReason::HeadMissing`](crate::BreakReason::HeadMissing)) —
///    is [`AuditError::ChainShorterThanCheckpoint`] (newest entries cut back
///    together with the recorded head, or with the head deleted); the
///    checkpoint proves exactly which entries went, which says more than
///    either the intact walk or the missing head alone;
/// 4. otherwise the walk's outcome is returned: a broken chain (including a
///    missing recorded head, as [`verify`](crate::verify) reports it) as
///    `Ok(Verification::Broken)`, an intact one as `Ok(Verification::Intact)`.
///
/// So this never calls a chain intact that [`verify`](crate::verify) calls
/// broken.
///
/// Entries appended after the checkpoint are covered by the chain and the
/// recorded head only; sign checkpoints regularly.
pub fn verify_against_trusted_checkpoint(
    entries: impl IntoIterator<Item = StoredEntry>,
    head: Option<&RecordedHead>,
    checkpoint: &Checkpoint,
    trusted_public_key: Option<&str>,
) -> Result<Verification, AuditError> {
    checkpoint.verify_signature(trusted_public_key)?;
    let checkpoint_hash = ChainHash::from_hex(&checkpoint.head).map_err(|error| {
        AuditError::InvalidCheckpointField {
            field: "head",
            reason: error.to_string(),
        }
    })?;
    let walked = walk(entries, head, Some(checkpoint.sequence));
    if let Some(chain_hash) = walked.watched_hash
        && chain_hash != checkpoint_hash
    {
        return Err(AuditError::CheckpointHashMismatch {
            sequence: checkpoint.sequence,
            checkpoint_hash: checkpoint.head.clone(),
            chain_hash: chain_hash.to_hex(),
        });
    }
    // The number of entries the walk accepted, when nothing but their number
    // (and perhaps the missing head) is in doubt.
    let accepted_entries = match walked.outcome {
        Verification::Intact { entries, .. } => Some(entries),
        // Reported at the last entry, after all of them were accepted.
        Verification::Broken {
            sequence,
            reason: BreakReason::HeadMissing,
        } => Some(sequence),
        Verification::Broken { .. } => None,
    };
    match accepted_entries {
        Some(entries) if entries < checkpoint.sequence => {
            Err(AuditError::ChainShorterThanCheckpoint {
                checkpoint_sequence: checkpoint.sequence,
                chain_entries: entries,
                first_missing: entries.saturating_add(1),
            })
        }
        _ => Ok(walked.outcome),
    }
}
