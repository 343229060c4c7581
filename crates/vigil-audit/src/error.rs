//! The one error type of the audit crate.

/// Why an audit operation could not be completed.
///
/// The messages are written for the operator who runs a verification or
/// handles a key or checkpoint file, and say what to do where that is not
/// obvious. A *broken chain* is not an error: it is a
/// [`Verification::Broken`](crate::Verification::Broken) result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    /// A text that should be a chain hash is not 64 lowercase hexadecimal characters.
    #[error(
        "\"{found}\" is not a chain hash: a chain hash is exactly 64 lowercase hexadecimal characters"
    )]
    MalformedHash {
        /// The offending text, shortened to its first 80 characters.
        found: String,
    },
    /// A text that should be a timestamp could not be read as one.
    #[error(
        "\"{found}\" is not a timestamp: {reason} (expected RFC 3339 in UTC with microseconds, such as 2026-11-23T15:04:05.123456Z)"
    )]
    InvalidTimestamp {
        /// The offending text, shortened to its first 80 characters.
        found: String,
        /// What the timestamp parser objected to.
        reason: String,
    },
    /// A timestamp is valid but not written in the one canonical form, so it would not round-trip exactly.
    #[error(
        "the timestamp \"{found}\" is not in canonical form: it must be written exactly as \"{canonical}\" (UTC, exactly six fractional digits, a 'Z' suffix)"
    )]
    NonCanonicalTimestamp {
        /// The offending text, shortened to its first 80 characters.
        found: String,
        /// The canonical spelling of the same instant (truncated to microseconds).
        canonical: String,
    },
    /// The operating system could not supply random bytes for a new key.
    #[error(
        "could not generate a checkpoint key: the operating system's random number source failed ({reason})"
    )]
    RandomnessUnavailable {
        /// The operating system's description of the failure.
        reason: String,
    },
    /// A checkpoint key file is not in the expected format. The message never repeats the file's content.
    #[error(
        "the checkpoint key file is not valid: {reason}; a key file is the line \"vigil-checkpoint-key-v1\" followed by a line of 64 lowercase hexadecimal characters"
    )]
    InvalidKeyFile {
        /// What is wrong with the file.
        reason: &'static str,
    },
    /// A checkpoint file is not valid JSON of the expected shape.
    #[error("the checkpoint file is not valid: {reason}")]
    InvalidCheckpointFile {
        /// The JSON parser's description of the problem.
        reason: String,
    },
    /// A field of a checkpoint has the wrong form.
    #[error("the checkpoint's {field} is not valid: {reason}")]
    InvalidCheckpointField {
        /// The field's name as it appears in the checkpoint file.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The checkpoint's signature does not verify against the public key it names.
    #[error(
        "the checkpoint's signature is not valid: the checkpoint file was altered after signing, or was not signed by the key it names"
    )]
    BadCheckpointSignature,
    /// A trusted public key given by the operator is not 64 hexadecimal characters of a valid Ed25519 key.
    #[error("the trusted public key \"{found}\" is not valid: {reason}")]
    InvalidTrustedKey {
        /// The offending text, shortened to its first 80 characters.
        found: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The checkpoint was signed by a key other than the trusted one.
    #[error(
        "the checkpoint was signed by public key {checkpoint_key}, not by the trusted key {trusted_key}: do not rely on it"
    )]
    UntrustedCheckpointKey {
        /// The public key named in the checkpoint, in hex.
        checkpoint_key: String,
        /// The trusted public key, in lowercase hex.
        trusted_key: String,
    },
    /// The chain ends before the checkpoint's sequence: entries covered by the checkpoint have been removed.
    #[error(
        "the chain has only {chain_entries} entries but the checkpoint vouches for entry {checkpoint_sequence}: entries {first_missing} to {checkpoint_sequence} were removed after the checkpoint was signed"
    )]
    ChainShorterThanCheckpoint {
        /// The sequence number the checkpoint was signed at.
        checkpoint_sequence: u64,
        /// The number of entries in the (otherwise intact) chain.
        chain_entries: u64,
        /// The first entry the checkpoint vouches for that is absent.
        first_missing: u64,
    },
    /// The chain's hash at the checkpoint's sequence is not the hash the checkpoint recorded.
    #[error(
        "the chain's hash at entry {sequence} is {chain_hash}, but the checkpoint recorded {checkpoint_hash}: the history up to entry {sequence} was rewritten after the checkpoint was signed"
    )]
    CheckpointHashMismatch {
        /// The checkpoint's sequence number.
        sequence: u64,
        /// The hash the checkpoint recorded.
        checkpoint_hash: String,
        /// The hash the chain has at that sequence.
        chain_hash: String,
    },
}

/// Shortens text quoted in an error message so a huge or hostile input cannot flood the operator's terminal.
pub(crate) fn quoted_excerpt(text: &str) -> String {
    const LIMIT: usize = 80;
    let mut characters = text.chars();
    let excerpt: String = characters.by_ref().take(LIMIT).collect();
    if characters.next().is_some() {
        format!("{excerpt}…")
    } else {
        excerpt
    }
}
