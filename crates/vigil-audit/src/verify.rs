//! Verification of a chain read back from storage.
//!
//! The rules, and the order in which they are checked, are stated in the
//! crate documentation under "Verification".

use std::collections::HashMap;
use std::fmt;

use crate::hash::ChainHash;
use crate::record::{AuditRecord, chain_hash};

/// A row as read back from storage, in ascending physical order.
///
/// The hashes are the stored text, which may have been tampered with; they
/// are parsed during verification, and a malformed one is reported as
/// [`BreakReason::MalformedHash`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    /// The entry's content.
    pub record: AuditRecord,
    /// The stored hash of the entry before it, as hex text.
    pub previous_hash: String,
    /// The stored hash of this entry, as hex text.
    pub hash: String,
}

impl StoredEntry {
    /// The entry a store writes for `record`, given the previous hash and this entry's hash.
    pub fn new(record: AuditRecord, previous_hash: &ChainHash, hash: &ChainHash) -> Self {
        StoredEntry {
            record,
            previous_hash: previous_hash.to_hex(),
            hash: hash.to_hex(),
        }
    }
}

/// The head a store records separately (a one-row table), updated in the same transaction as each append.
///
/// It catches deletion of the newest entries, which leaves the rest of the
/// chain internally consistent. An empty chain's head is sequence 0 with the
/// hash [`ChainHash::GENESIS`]. A chain with entries but no recorded head is
/// reported as [`BreakReason::HeadMissing`]: deleting the head row must not
/// be a way to switch the tail check off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedHead {
    /// The sequence number of the last entry appended.
    pub sequence: u64,
    /// That entry's hash, as hex text.
    pub hash: String,
}

/// Why a chain is broken at a given entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BreakReason {
    /// The stored hash does not match the hash recomputed from this entry's content: the content or the hash was edited.
    ContentEdited,
    /// The stored previous hash does not equal the previous entry's hash, nor that of any earlier entry.
    LinkBroken,
    /// A gap: the entry expected here is absent from the rest of the chain, so entries were deleted.
    Missing {
        /// The sequence number that should have come next.
        expected_sequence: u64,
        /// The sequence number found in its place.
        found_sequence: u64,
    },
    /// Entries are out of order or duplicated.
    ///
    /// Either the sequence number goes backwards or repeats; or it skips
    /// forward while the expected entry appears later in the chain; or the
    /// sequence number is right but the previous hash is that of a different,
    /// earlier entry — then `found_sequence` is the position that link places
    /// this entry at (one after the entry it links to).
    Reordered {
        /// The sequence number that should have come next.
        expected_sequence: u64,
        /// The sequence number found in its place (see above).
        found_sequence: u64,
    },
    /// A stored hash (this entry's, its previous hash, or the recorded head's) is not 64 lowercase hexadecimal characters.
    MalformedHash,
    /// The recorded head names an entry beyond the end of the chain: the newest entries were removed.
    Truncated {
        /// The sequence number the recorded head names.
        recorded_head: u64,
        /// The sequence number of the last entry present.
        last_present: u64,
    },
    /// The recorded head's hash differs from the chain's hash at that sequence, or the chain continues past the recorded head.
    HeadMismatch,
    /// The chain has entries but no recorded head, so removal of the newest entries could not be detected.
    ///
    /// Reported at the sequence number of the last entry present, the entry
    /// the head should have named. Only reported when every entry passed its
    /// own checks; an empty chain with no head is intact.
    HeadMissing,
}

impl BreakReason {
    /// A stable snake_case code for the reason, for machine-readable output
    /// (the [`Display`](fmt::Display) sentence is for people and may change).
    ///
    /// The codes are `content_edited`, `link_broken`, `missing`,
    /// `reordered`, `malformed_hash`, `truncated`, `head_mismatch` and
    /// `head_missing`; they are part of the public interface and will not
    /// be renamed.
    pub fn code(&self) -> &'static str {
        match self {
            BreakReason::ContentEdited => "content_edited",
            BreakReason::LinkBroken => "link_broken",
            BreakReason::Missing { .. } => "missing",
            BreakReason::Reordered { .. } => "reordered",
            BreakReason::MalformedHash => "malformed_hash",
            BreakReason::Truncated { .. } => "truncated",
            BreakReason::HeadMismatch => "head_mismatch",
            BreakReason::HeadMissing => "head_missing",
        }
    }
}

impl fmt::Display for BreakReason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BreakReason::ContentEdited => formatter.write_str(
                "the stored hash does not match the entry's content, so the content or its hash was edited",
            ),
            BreakReason::LinkBroken => formatter.write_str(
                "the entry's previous hash is not the hash of the entry before it, so the link was edited",
            ),
            BreakReason::Missing {
                expected_sequence,
                found_sequence,
            } => write!(
                formatter,
                "entry {expected_sequence} is missing and entry {found_sequence} comes next, so entries were deleted"
            ),
            BreakReason::Reordered {
                expected_sequence,
                found_sequence,
            } => write!(
                formatter,
                "expected entry {expected_sequence} but found entry {found_sequence} in its place, so entries were reordered or duplicated"
            ),
            BreakReason::MalformedHash => formatter.write_str(
                "a stored hash is not 64 lowercase hexadecimal characters, so it was edited",
            ),
            BreakReason::Truncated {
                recorded_head,
                last_present,
            } => write!(
                formatter,
                "the recorded head is entry {recorded_head} but the chain ends at entry {last_present}, so the newest entries were deleted"
            ),
            BreakReason::HeadMismatch => formatter.write_str(
                "the separately recorded head does not match the chain at that entry, so the head or the chain was edited",
            ),
            BreakReason::HeadMissing => formatter.write_str(
                "the recorded head of the chain is missing, so entries removed from the end could not be detected",
            ),
        }
    }
}

/// The outcome of verifying a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verification {
    /// Every entry is present, in order, unedited, and agrees with the recorded head if one was given.
    Intact {
        /// The number of entries, which is also the last sequence number.
        entries: u64,
        /// The last entry's hash, or [`ChainHash::GENESIS`] for an empty chain.
        head: ChainHash,
    },
    /// The chain is broken; only the first problem is reported.
    Broken {
        /// The first bad entry's expected sequence number, that is its 1-based position.
        sequence: u64,
        /// What is wrong there.
        reason: BreakReason,
    },
}

impl Verification {
    /// Whether the chain is intact.
    pub fn is_intact(&self) -> bool {
        matches!(self, Verification::Intact { .. })
    }

    /// For a broken chain, the sequence number where it breaks, the reason's
    /// stable code ([`BreakReason::code`]) and the reason as a sentence;
    /// `None` for an intact chain. Meant for machine-readable output.
    pub fn describe_break(&self) -> Option<(u64, &'static str, String)> {
        match self {
            Verification::Intact { .. } => None,
            Verification::Broken { sequence, reason } => {
                Some((*sequence, reason.code(), reason.to_string()))
            }
        }
    }
}

impl fmt::Display for Verification {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verification::Intact { entries, .. } => write!(formatter, "ok: {entries} entries"),
            Verification::Broken { sequence, reason } => {
                write!(formatter, "broken at entry {sequence}: {reason}")
            }
        }
    }
}

/// Walks the entries in order and reports the first problem, or that the chain is intact.
///
/// `entries` must be in ascending physical order, as stored; `head` is the
/// separately recorded head. An empty chain with no recorded head is
/// `Intact { entries: 0, head: GENESIS }`. A chain whose entries all pass
/// their checks but which has no recorded head is
/// `Broken { sequence: m, reason: HeadMissing }`, where *m* is the last
/// entry's sequence number: without the head, deletion of the newest entries
/// cannot be seen. With the head, such a deletion is reported as
/// [`BreakReason::Truncated`]. Deleting the newest entries *and* rewriting
/// the head to match can only be caught by a signed checkpoint
/// ([`verify_against_checkpoint`](crate::verify_against_checkpoint)).
///
/// Memory grows by about 50 bytes per entry (the hashes seen so far, used to
/// tell a reordering from a broken link); the entries themselves are not kept.
pub fn verify(
    entries: impl IntoIterator<Item = StoredEntry>,
    head: Option<&RecordedHead>,
) -> Verification {
    walk(entries, head, None).outcome
}

/// The result of a walk, with the hash the chain has at a watched sequence if the walk accepted that entry.
pub(crate) struct Walk {
    pub(crate) outcome: Verification,
    pub(crate) watched_hash: Option<ChainHash>,
}

/// The verification walk, optionally remembering the accepted hash at `watched_sequence`.
pub(crate) fn walk(
    entries: impl IntoIterator<Item = StoredEntry>,
    head: Option<&RecordedHead>,
    watched_sequence: Option<u64>,
) -> Walk {
    let mut watched_hash = (watched_sequence == Some(0)).then_some(ChainHash::GENESIS);
    let broken = |sequence: u64, reason: BreakReason, watched_hash: Option<ChainHash>| Walk {
        outcome: Verification::Broken { sequence, reason },
        watched_hash,
    };

    let head_sequence = head.map(|head| head.sequence);
    let mut hash_at_head_sequence = (head_sequence == Some(0)).then_some(ChainHash::GENESIS);
    let mut accepted: u64 = 0;
    let mut last_hash = ChainHash::GENESIS;
    // Every accepted hash with its sequence number; the genesis value stands for "before entry 1".
    let mut seen: HashMap<ChainHash, u64> = HashMap::from([(ChainHash::GENESIS, 0)]);

    let mut remaining = entries.into_iter();
    while let Some(entry) = remaining.next() {
        let expected = accepted.saturating_add(1);
        let found = entry.record.sequence;
        if found < expected {
            let reason = BreakReason::Reordered {
                expected_sequence: expected,
                found_sequence: found,
            };
            return broken(expected, reason, watched_hash);
        }
        if found > expected {
            let appears_later = remaining.any(|later| later.record.sequence == expected);
            let reason = if appears_later {
                BreakReason::Reordered {
                    expected_sequence: expected,
                    found_sequence: found,
                }
            } else {
                BreakReason::Missing {
                    expected_sequence: expected,
                    found_sequence: found,
                }
            };
            return broken(expected, reason, watched_hash);
        }
        let (Ok(previous_hash), Ok(stored_hash)) = (
            ChainHash::from_hex(&entry.previous_hash),
            ChainHash::from_hex(&entry.hash),
        ) else {
            return broken(expected, BreakReason::MalformedHash, watched_hash);
        };
        if previous_hash != last_hash {
            let reason = match seen.get(&previous_hash) {
                Some(&linked) => BreakReason::Reordered {
                    expected_sequence: expected,
                    found_sequence: linked.saturating_add(1),
                },
                None => BreakReason::LinkBroken,
            };
            return broken(expected, reason, watched_hash);
        }
        if chain_hash(&last_hash, &entry.record) != stored_hash {
            return broken(expected, BreakReason::ContentEdited, watched_hash);
        }
        accepted = expected;
        last_hash = stored_hash;
        seen.insert(stored_hash, accepted);
        if head_sequence == Some(accepted) {
            hash_at_head_sequence = Some(stored_hash);
        }
        if watched_sequence == Some(accepted) {
            watched_hash = Some(stored_hash);
        }
    }

    let Some(head) = head else {
        if accepted > 0 {
            return broken(accepted, BreakReason::HeadMissing, watched_hash);
        }
        return Walk {
            outcome: Verification::Intact {
                entries: 0,
                head: ChainHash::GENESIS,
            },
            watched_hash,
        };
    };
    if head.sequence > accepted {
        let reason = BreakReason::Truncated {
            recorded_head: head.sequence,
            last_present: accepted,
        };
        return broken(accepted.saturating_add(1), reason, watched_hash);
    }
    // Sequence 0 means "before entry 1"; a problem there is reported at entry 1.
    let head_position = head.sequence.max(1);
    let Ok(recorded_hash) = ChainHash::from_hex(&head.hash) else {
        return broken(head_position, BreakReason::MalformedHash, watched_hash);
    };
    if hash_at_head_sequence != Some(recorded_hash) {
        return broken(head_position, BreakReason::HeadMismatch, watched_hash);
    }
    if head.sequence < accepted {
        // The chain continues past the recorded head: entries were added outside the store's append.
        return broken(
            head.sequence.saturating_add(1),
            BreakReason::HeadMismatch,
            watched_hash,
        );
    }

    Walk {
        outcome: Verification::Intact {
            entries: accepted,
            head: last_hash,
        },
        watched_hash,
    }
}
