//! Property tests: the length-prefixed encoding is injective, and nothing panics on any input.

use proptest::prelude::*;
use vigil_audit::{
    AuditRecord, ChainHash, Checkpoint, CheckpointKey, RecordedHead, StoredEntry, Verification,
    canonical_bytes, chain_hash, next_entry, parse_timestamp, verify,
};

/// Characters that matter to a naive encoding (separators, newlines, digits), plus arbitrary Unicode.
fn awkward_character() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => prop::sample::select(vec![':', '\n', '\r', '0', '1', '9', ' ', '"', '{', '}', '\0', 'é', '🩻', '\u{2028}']),
        2 => any::<char>(),
    ]
}

fn awkward_string() -> impl Strategy<Value = String> {
    prop::collection::vec(awkward_character(), 0..24)
        .prop_map(|characters| characters.into_iter().collect())
}

fn any_timestamp() -> impl Strategy<Value = jiff::Timestamp> {
    // Whole microseconds across roughly 1900–2200, the values a store can hold.
    (-2_208_988_800_000_000_i64..7_258_118_400_000_000_i64).prop_map(|microseconds| {
        jiff::Timestamp::from_microsecond(microseconds).expect("inside jiff's range")
    })
}

fn any_record() -> impl Strategy<Value = AuditRecord> {
    (
        any::<u64>(),
        any_timestamp(),
        prop::collection::vec(awkward_string(), 6),
    )
        .prop_map(|(sequence, recorded_at, fields)| AuditRecord {
            sequence,
            recorded_at,
            actor: fields[0].clone(),
            role: fields[1].clone(),
            organisation: fields[2].clone(),
            action: fields[3].clone(),
            subject: fields[4].clone(),
            payload: fields[5].clone(),
        })
}

/// Reads a canonical encoding back into its eight field texts, or fails; a decoder existing proves the encoding injective.
fn decode(bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut rest = bytes.strip_prefix(b"vigil-audit-v1\n")?;
    let mut fields = Vec::new();
    for _ in 0..8 {
        let colon = rest.iter().position(|&byte| byte == b':')?;
        let length: usize = std::str::from_utf8(&rest[..colon]).ok()?.parse().ok()?;
        let after_colon = &rest[colon + 1..];
        let field = after_colon.get(..length)?;
        if after_colon.get(length) != Some(&b'\n') {
            return None;
        }
        fields.push(field.to_vec());
        rest = &after_colon[length + 1..];
    }
    rest.is_empty().then_some(fields)
}

fn record_fields(record: &AuditRecord) -> Vec<Vec<u8>> {
    vec![
        record.sequence.to_string().into_bytes(),
        vigil_audit::format_timestamp(record.recorded_at).into_bytes(),
        record.actor.clone().into_bytes(),
        record.role.clone().into_bytes(),
        record.organisation.clone().into_bytes(),
        record.action.clone().into_bytes(),
        record.subject.clone().into_bytes(),
        record.payload.clone().into_bytes(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encoding_decodes_back_to_the_fields(record in any_record()) {
        let bytes = canonical_bytes(&record);
        prop_assert_eq!(decode(&bytes), Some(record_fields(&record)));
    }

    #[test]
    fn distinct_records_never_share_an_encoding(first in any_record(), second in any_record()) {
        let same_encoding = canonical_bytes(&first) == canonical_bytes(&second);
        prop_assert_eq!(same_encoding, first == second);
        if first != second {
            prop_assert_ne!(
                chain_hash(&ChainHash::GENESIS, &first),
                chain_hash(&ChainHash::GENESIS, &second)
            );
        }
    }

    /// Moving text across a field boundary (which a plain concatenation would not notice) changes the encoding.
    #[test]
    fn moving_text_between_adjacent_fields_changes_the_encoding(
        record in any_record(),
        text in awkward_string(),
        split_first in 0_usize..32,
        split_second in 0_usize..32,
    ) {
        let boundaries: Vec<usize> = text.char_indices().map(|(index, _)| index).chain([text.len()]).collect();
        let first_split = boundaries[split_first % boundaries.len()];
        let second_split = boundaries[split_second % boundaries.len()];
        let with_split = |split: usize| AuditRecord {
            subject: text[..split].to_owned(),
            payload: text[split..].to_owned(),
            ..record.clone()
        };
        let first = with_split(first_split);
        let second = with_split(second_split);
        prop_assert_eq!(canonical_bytes(&first) == canonical_bytes(&second), first_split == second_split);
    }

    /// Payload edits anywhere in a chain are reported at that entry.
    #[test]
    fn an_edited_payload_is_found_at_its_entry(
        payloads in prop::collection::vec(awkward_string(), 1..12),
        position in 0_usize..12,
        replacement in awkward_string(),
    ) {
        let mut entries = Vec::new();
        let mut previous: Option<(u64, ChainHash)> = None;
        for payload in payloads {
            let (record, hash) = next_entry(
                previous.as_ref().map(|(sequence, hash)| (sequence, hash)),
                jiff::Timestamp::UNIX_EPOCH,
                "system".into(),
                "system".into(),
                "rw3".into(),
                "test".into(),
                "test:1".into(),
                payload,
            );
            entries.push(StoredEntry::new(record.clone(), &previous.map_or(ChainHash::GENESIS, |(_, hash)| hash), &hash));
            previous = Some((record.sequence, hash));
        }
        let (head_sequence, head_hash) = previous.expect("at least one entry");
        let head = RecordedHead { sequence: head_sequence, hash: head_hash.to_hex() };
        prop_assert_eq!(
            verify(entries.clone(), Some(&head)),
            Verification::Intact { entries: head_sequence, head: head_hash }
        );
        let position = position % entries.len();
        let changed = entries[position].record.payload != replacement;
        entries[position].record.payload = replacement;
        let expected = if changed {
            Verification::Broken {
                sequence: u64::try_from(position).expect("small") + 1,
                reason: vigil_audit::BreakReason::ContentEdited,
            }
        } else {
            Verification::Intact { entries: head_sequence, head: head_hash }
        };
        prop_assert_eq!(verify(entries, Some(&head)), expected);
    }

    /// Arbitrary rows, hashes and heads never make verification panic.
    #[test]
    fn verification_never_panics(
        rows in prop::collection::vec((any_record(), awkward_string(), prop::option::of("[0-9a-f]{64}")), 0..8),
        head in prop::option::of((any::<u64>(), awkward_string())),
    ) {
        let entries: Vec<StoredEntry> = rows
            .into_iter()
            .map(|(record, text, well_formed)| StoredEntry {
                record,
                previous_hash: well_formed.clone().unwrap_or_else(|| text.clone()),
                hash: well_formed.unwrap_or(text),
            })
            .collect();
        let head = head.map(|(sequence, hash)| RecordedHead { sequence, hash });
        let verification = verify(entries, head.as_ref());
        let _ = verification.to_string();
    }

    /// Parsers of outside text never panic.
    #[test]
    fn parsers_never_panic(text in awkward_string(), bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        let lossy = String::from_utf8_lossy(&bytes).into_owned();
        for input in [&text, &lossy] {
            let _ = parse_timestamp(input);
            let _ = ChainHash::from_hex(input);
            let _ = CheckpointKey::from_file_text(input);
            let _ = CheckpointKey::from_file_text(&format!("vigil-checkpoint-key-v1\n{input}\n"));
            if let Ok(checkpoint) = Checkpoint::from_json(input) {
                let _ = checkpoint.verify_signature(Some(input));
            }
            let checkpoint = Checkpoint {
                sequence: 1,
                head: input.clone(),
                created_at: input.clone(),
                public_key: input.clone(),
                signature: input.clone(),
            };
            let _ = checkpoint.verify_signature(Some(input));
        }
    }
}
