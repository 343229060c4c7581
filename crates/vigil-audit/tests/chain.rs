//! Tampering with a stored chain is reported at the exact entry, with the exact reason.

use vigil_audit::{
    AuditError, AuditRecord, BreakReason, CANONICAL_PREFIX, ChainHash, Checkpoint, CheckpointKey,
    RecordedHead, StoredEntry, Verification, canonical_bytes, chain_hash, format_timestamp,
    next_entry, parse_timestamp, verify, verify_against_checkpoint,
    verify_against_trusted_checkpoint,
};

const CHAIN_LENGTH: u64 = 20;

fn timestamp(text: &str) -> jiff::Timestamp {
    parse_timestamp(text).expect("test timestamps are canonical")
}

/// A chain of `length` entries built as a store would build it, with its recorded head.
fn build_chain(length: u64) -> (Vec<StoredEntry>, RecordedHead) {
    let start = timestamp("2026-11-23T09:00:00.000000Z");
    let mut entries = Vec::new();
    let mut previous: Option<(u64, ChainHash)> = None;
    for index in 1..=length {
        let recorded_at = start
            + jiff::SignedDuration::from_nanos(
                i64::try_from(index).expect("small") * 61_000_123_457,
            );
        let (record, hash) = next_entry(
            previous.as_ref().map(|(sequence, hash)| (sequence, hash)),
            recorded_at,
            format!("user{}", index % 3),
            "clinical_safety_officer".to_owned(),
            "rw3".to_owned(),
            "deployment.transition".to_owned(),
            format!("deployment:{}", index % 4),
            format!(r#"{{"from":"shadow","to":"live","note":"step {index}"}}"#),
        );
        assert_eq!(record.sequence, index);
        let previous_hash = previous.map_or(ChainHash::GENESIS, |(_, hash)| hash);
        entries.push(StoredEntry::new(record, &previous_hash, &hash));
        previous = Some((index, hash));
    }
    let head = previous.map_or(
        RecordedHead {
            sequence: 0,
            hash: ChainHash::GENESIS.to_hex(),
        },
        |(sequence, hash)| RecordedHead {
            sequence,
            hash: hash.to_hex(),
        },
    );
    (entries, head)
}

/// Re-hashes a (rewritten) chain consistently from entry 1, as an attacker with database access could.
fn rehash(entries: &mut [StoredEntry]) -> RecordedHead {
    let mut previous = ChainHash::GENESIS;
    for entry in entries.iter_mut() {
        let hash = chain_hash(&previous, &entry.record);
        entry.previous_hash = previous.to_hex();
        entry.hash = hash.to_hex();
        previous = hash;
    }
    RecordedHead {
        sequence: entries.last().map_or(0, |entry| entry.record.sequence),
        hash: previous.to_hex(),
    }
}

/// Whether the recorded head is kept (possibly rewritten by the tampering) or dropped.
enum HeadUse {
    Recorded,
    Absent,
}

/// Applies `tamper` to a fresh chain and asserts `verify` gives exactly `expected`.
fn check(
    name: &str,
    tamper: impl FnOnce(&mut Vec<StoredEntry>, &mut RecordedHead),
    head_use: HeadUse,
    expected: Verification,
) {
    let (mut entries, mut head) = build_chain(CHAIN_LENGTH);
    tamper(&mut entries, &mut head);
    let head = match head_use {
        HeadUse::Recorded => Some(&head),
        HeadUse::Absent => None,
    };
    let actual = verify(entries, head);
    assert_eq!(actual, expected, "{name}: got \"{actual}\"");
}

fn broken(sequence: u64, reason: BreakReason) -> Verification {
    Verification::Broken { sequence, reason }
}

#[test]
fn an_untouched_chain_is_intact() {
    let (entries, head) = build_chain(CHAIN_LENGTH);
    let expected_head = ChainHash::from_hex(&head.hash).expect("well formed");
    let expected = Verification::Intact {
        entries: CHAIN_LENGTH,
        head: expected_head,
    };
    assert_eq!(verify(entries.clone(), Some(&head)), expected);
    assert_eq!(expected.to_string(), "ok: 20 entries");
}

#[test]
fn a_chain_without_its_recorded_head_is_broken_at_its_last_entry() {
    let (entries, _) = build_chain(CHAIN_LENGTH);
    let verification = verify(entries.clone(), None);
    assert_eq!(verification, broken(CHAIN_LENGTH, BreakReason::HeadMissing));
    assert!(!verification.is_intact());
    assert_eq!(
        verification.to_string(),
        "broken at entry 20: the recorded head of the chain is missing, so entries removed from the end could not be detected"
    );
    // A single entry without a head is broken at that entry.
    let (one, _) = build_chain(1);
    assert_eq!(verify(one, None), broken(1, BreakReason::HeadMissing));
    // A problem inside the chain is reported first: it is the earlier entry.
    let mut edited = entries;
    edited[6].record.actor = "mallory".into();
    assert_eq!(verify(edited, None), broken(7, BreakReason::ContentEdited));
}

#[test]
fn an_empty_chain_is_intact() {
    let empty = Verification::Intact {
        entries: 0,
        head: ChainHash::GENESIS,
    };
    assert_eq!(verify(Vec::new(), None), empty);
    let (entries, head) = build_chain(0);
    assert!(entries.is_empty());
    assert_eq!(verify(entries, Some(&head)), empty);
}

#[test]
fn an_empty_chain_whose_head_names_an_entry_is_truncated() {
    let (entries, _) = build_chain(1);
    let head = RecordedHead {
        sequence: 1,
        hash: entries[0].hash.clone(),
    };
    assert_eq!(
        verify(Vec::new(), Some(&head)),
        broken(
            1,
            BreakReason::Truncated {
                recorded_head: 1,
                last_present: 0,
            }
        )
    );
    // Even when the head's hash is not a hash: the missing entries come first.
    let nonsense = RecordedHead {
        sequence: 3,
        hash: "zz".into(),
    };
    assert_eq!(
        verify(Vec::new(), Some(&nonsense)),
        broken(
            1,
            BreakReason::Truncated {
                recorded_head: 3,
                last_present: 0,
            }
        )
    );
}

#[test]
fn each_tampering_is_reported_at_the_exact_entry() {
    use BreakReason::*;
    use HeadUse::{Absent, Recorded};
    let k: usize = 7;
    let k_sequence = 7_u64;

    check(
        "edit payload of k",
        |entries, _| entries[k - 1].record.payload = r#"{"from":"shadow","to":"retired"}"#.into(),
        Recorded,
        broken(k_sequence, ContentEdited),
    );
    check(
        "edit actor of k",
        |entries, _| entries[k - 1].record.actor = "mallory".into(),
        Recorded,
        broken(k_sequence, ContentEdited),
    );
    check(
        "edit timestamp of k by one microsecond",
        |entries, _| {
            entries[k - 1].record.recorded_at += jiff::SignedDuration::from_micros(1);
        },
        Recorded,
        broken(k_sequence, ContentEdited),
    );
    check(
        "edit stored hash of k",
        |entries, _| {
            entries[k - 1].hash = chain_hash(&ChainHash::GENESIS, &entries[0].record).to_hex()
        },
        Recorded,
        broken(k_sequence, ContentEdited),
    );
    check(
        "edit stored hash of k to non-hex text",
        |entries, _| entries[k - 1].hash = "not a hash".into(),
        Recorded,
        broken(k_sequence, MalformedHash),
    );
    check(
        "uppercase the stored hash of k",
        |entries, _| entries[k - 1].hash = entries[k - 1].hash.to_uppercase(),
        Recorded,
        broken(k_sequence, MalformedHash),
    );
    check(
        "edit previous hash of k",
        |entries, _| entries[k - 1].previous_hash = "ab".repeat(32),
        Recorded,
        broken(k_sequence, LinkBroken),
    );
    check(
        "edit k's content and re-hash k only",
        |entries, _| {
            entries[k - 1].record.subject = "deployment:99".into();
            let previous = ChainHash::from_hex(&entries[k - 2].hash).expect("well formed");
            entries[k - 1].hash = chain_hash(&previous, &entries[k - 1].record).to_hex();
        },
        Recorded,
        broken(k_sequence + 1, LinkBroken),
    );
    check(
        "delete k",
        |entries, _| {
            entries.remove(k - 1);
        },
        Recorded,
        broken(
            k_sequence,
            Missing {
                expected_sequence: k_sequence,
                found_sequence: k_sequence + 1,
            },
        ),
    );
    check(
        "delete the first entry",
        |entries, _| {
            entries.remove(0);
        },
        Recorded,
        broken(
            1,
            Missing {
                expected_sequence: 1,
                found_sequence: 2,
            },
        ),
    );
    check(
        "delete k and k+1",
        |entries, _| {
            entries.drain(k - 1..=k);
        },
        Recorded,
        broken(
            k_sequence,
            Missing {
                expected_sequence: k_sequence,
                found_sequence: k_sequence + 2,
            },
        ),
    );
    check(
        "swap k and k+1",
        |entries, _| entries.swap(k - 1, k),
        Recorded,
        broken(
            k_sequence,
            Reordered {
                expected_sequence: k_sequence,
                found_sequence: k_sequence + 1,
            },
        ),
    );
    check(
        "move k to the end",
        |entries, _| {
            let moved = entries.remove(k - 1);
            entries.push(moved);
        },
        Recorded,
        broken(
            k_sequence,
            Reordered {
                expected_sequence: k_sequence,
                found_sequence: k_sequence + 1,
            },
        ),
    );
    check(
        "duplicate k",
        |entries, _| {
            let copy = entries[k - 1].clone();
            entries.insert(k, copy);
        },
        Recorded,
        broken(
            k_sequence + 1,
            Reordered {
                expected_sequence: k_sequence + 1,
                found_sequence: k_sequence,
            },
        ),
    );
    check(
        "swap the content of k and k+1 but keep the sequence numbers in place",
        |entries, _| {
            let (first, second) = (entries[k - 1].clone(), entries[k].clone());
            entries[k - 1] = StoredEntry {
                record: AuditRecord {
                    sequence: first.record.sequence,
                    ..second.record.clone()
                },
                ..second
            };
            entries[k] = StoredEntry {
                record: AuditRecord {
                    sequence: second.record.sequence,
                    ..first.record.clone()
                },
                ..first
            };
        },
        Recorded,
        // Row k now links to k's own hash, which is not yet accepted: the link is broken.
        broken(k_sequence, LinkBroken),
    );
    check(
        "point k's previous hash at an earlier entry",
        |entries, _| entries[k - 1].previous_hash = entries[2].hash.clone(),
        Recorded,
        broken(
            k_sequence,
            Reordered {
                expected_sequence: k_sequence,
                found_sequence: 4,
            },
        ),
    );
    check(
        "truncate the tail after m, head kept",
        |entries, _| entries.truncate(12),
        Recorded,
        broken(
            13,
            Truncated {
                recorded_head: CHAIN_LENGTH,
                last_present: 12,
            },
        ),
    );
    check(
        "truncate the whole chain, head kept",
        |entries, _| entries.clear(),
        Recorded,
        broken(
            1,
            Truncated {
                recorded_head: CHAIN_LENGTH,
                last_present: 0,
            },
        ),
    );
    check(
        "truncate the tail after m without a recorded head",
        |entries, _| entries.truncate(12),
        Absent,
        broken(12, HeadMissing),
    );
    check(
        "delete the recorded head",
        |_, _| {},
        Absent,
        broken(CHAIN_LENGTH, HeadMissing),
    );
    check(
        "edit k and delete the recorded head",
        |entries, _| entries[k - 1].record.actor = "mallory".into(),
        Absent,
        broken(k_sequence, ContentEdited),
    );
    check(
        "delete k and the recorded head",
        |entries, _| {
            entries.remove(k - 1);
        },
        Absent,
        broken(
            k_sequence,
            Missing {
                expected_sequence: k_sequence,
                found_sequence: k_sequence + 1,
            },
        ),
    );
    check(
        "truncate the tail and the head consistently",
        |entries, head| {
            entries.truncate(12);
            *head = RecordedHead {
                sequence: 12,
                hash: entries[11].hash.clone(),
            };
        },
        Recorded,
        Verification::Intact {
            entries: 12,
            head: ChainHash::from_hex(&build_chain(12).1.hash).expect("well formed"),
        },
    );
    check(
        "edit the recorded head's hash",
        |_, head| head.hash = ChainHash::GENESIS.to_hex(),
        Recorded,
        broken(CHAIN_LENGTH, HeadMismatch),
    );
    check(
        "make the recorded head's hash malformed",
        |_, head| head.hash = "zz".into(),
        Recorded,
        broken(CHAIN_LENGTH, MalformedHash),
    );
    check(
        "move the recorded head back one entry, keeping a consistent hash",
        |entries, head| {
            *head = RecordedHead {
                sequence: CHAIN_LENGTH - 1,
                hash: entries[CHAIN_LENGTH as usize - 2].hash.clone(),
            };
        },
        Recorded,
        broken(CHAIN_LENGTH, HeadMismatch),
    );
    check(
        "rewrite the whole history consistently",
        |entries, head| {
            entries[k - 1].record.payload = r#"{"from":"shadow","to":"retired"}"#.into();
            *head = rehash(entries);
        },
        Recorded,
        Verification::Intact {
            entries: CHAIN_LENGTH,
            head: {
                let (mut entries, _) = build_chain(CHAIN_LENGTH);
                entries[k - 1].record.payload = r#"{"from":"shadow","to":"retired"}"#.into();
                ChainHash::from_hex(&rehash(&mut entries).hash).expect("well formed")
            },
        },
    );
}

#[test]
fn broken_verifications_read_as_sentences() {
    let text = broken(
        7,
        BreakReason::Missing {
            expected_sequence: 7,
            found_sequence: 8,
        },
    )
    .to_string();
    assert_eq!(
        text,
        "broken at entry 7: entry 7 is missing and entry 8 comes next, so entries were deleted"
    );
    assert!(
        broken(3, BreakReason::ContentEdited)
            .to_string()
            .starts_with("broken at entry 3: the stored hash does not match")
    );
    assert_eq!(
        broken(12, BreakReason::HeadMissing).to_string(),
        "broken at entry 12: the recorded head of the chain is missing, so entries removed from the end could not be detected"
    );
}

/// One value of every reason.
const ALL_REASONS: [BreakReason; 8] = [
    BreakReason::ContentEdited,
    BreakReason::LinkBroken,
    BreakReason::Missing {
        expected_sequence: 4,
        found_sequence: 5,
    },
    BreakReason::Reordered {
        expected_sequence: 4,
        found_sequence: 5,
    },
    BreakReason::MalformedHash,
    BreakReason::Truncated {
        recorded_head: 9,
        last_present: 4,
    },
    BreakReason::HeadMismatch,
    BreakReason::HeadMissing,
];

#[test]
fn break_reasons_have_stable_distinct_codes() {
    let codes: Vec<&str> = ALL_REASONS.iter().map(BreakReason::code).collect();
    assert_eq!(
        codes,
        [
            "content_edited",
            "link_broken",
            "missing",
            "reordered",
            "malformed_hash",
            "truncated",
            "head_mismatch",
            "head_missing",
        ]
    );
    let distinct: std::collections::HashSet<&str> = codes.iter().copied().collect();
    assert_eq!(distinct.len(), codes.len());
    for code in codes {
        assert!(
            !code.is_empty()
                && code
                    .bytes()
                    .all(|byte| byte.is_ascii_lowercase() || byte == b'_'),
            "{code}"
        );
    }
    // The code does not depend on the reason's data.
    assert_eq!(
        BreakReason::Missing {
            expected_sequence: 1,
            found_sequence: 2
        }
        .code(),
        "missing"
    );
}

#[test]
fn a_break_is_described_by_sequence_code_and_sentence() {
    let (entries, head) = build_chain(CHAIN_LENGTH);
    assert_eq!(verify(entries.clone(), Some(&head)).describe_break(), None);
    for reason in ALL_REASONS {
        let verification = broken(7, reason);
        assert_eq!(
            verification.describe_break(),
            Some((7, reason.code(), reason.to_string()))
        );
    }
    assert_eq!(
        verify(entries, None).describe_break(),
        Some((
            CHAIN_LENGTH,
            "head_missing",
            "the recorded head of the chain is missing, so entries removed from the end could not be detected"
                .to_owned()
        ))
    );
}

#[test]
fn canonical_bytes_are_pinned() {
    let record = AuditRecord {
        sequence: 7,
        recorded_at: timestamp("2026-11-23T15:04:05.123456Z"),
        actor: "alice".into(),
        role: "cso".into(),
        organisation: "rw3".into(),
        action: "deployment.transition".into(),
        subject: "deployment:12".into(),
        payload: r#"{"to":"live"}"#.into(),
    };
    let expected: &[u8] = b"vigil-audit-v1\n\
1:7\n\
27:2026-11-23T15:04:05.123456Z\n\
5:alice\n\
3:cso\n\
3:rw3\n\
21:deployment.transition\n\
13:deployment:12\n\
13:{\"to\":\"live\"}\n";
    assert_eq!(canonical_bytes(&record), expected);
    assert!(expected.starts_with(CANONICAL_PREFIX.as_bytes()));

    // Lengths count UTF-8 bytes, not characters; colons and newlines inside fields need no escaping.
    let unicode = AuditRecord {
        sequence: 12_345,
        recorded_at: timestamp("1999-01-02T03:04:05.000000Z"),
        actor: "Zoë".into(),
        role: "".into(),
        organisation: "a:b".into(),
        action: "x\ny".into(),
        subject: "🩻".into(),
        payload: "{}".into(),
    };
    let expected_unicode = "vigil-audit-v1\n5:12345\n27:1999-01-02T03:04:05.000000Z\n4:Zoë\n0:\n3:a:b\n3:x\ny\n4:🩻\n2:{}\n";
    assert_eq!(canonical_bytes(&unicode), expected_unicode.as_bytes());

    // The chain hash is SHA-256 over the previous hash bytes and the canonical bytes; pin one value.
    assert_eq!(
        chain_hash(&ChainHash::GENESIS, &record).to_hex(),
        "f13fb2cbfa6cffc7b2756af15069c5d39492faec20f67c04e1bb45f27f657cab"
    );
}

#[test]
fn timestamps_round_trip_exactly_at_microsecond_precision() {
    let fine: jiff::Timestamp = "2026-11-23T15:04:05.123456789Z".parse().expect("valid");
    let text = format_timestamp(fine);
    assert_eq!(text, "2026-11-23T15:04:05.123456Z");
    let read = parse_timestamp(&text).expect("canonical");
    assert_eq!(read, vigil_audit::canonical_timestamp(fine));
    assert_eq!(format_timestamp(read), text);

    assert_eq!(
        format_timestamp("2026-01-01T00:00:00Z".parse().expect("valid")),
        "2026-01-01T00:00:00.000000Z"
    );
    // Before 1970 truncation is still towards the past, so the written digits are the leading digits.
    let early: jiff::Timestamp = "1969-12-31T23:59:59.999999999Z".parse().expect("valid");
    assert_eq!(format_timestamp(early), "1969-12-31T23:59:59.999999Z");
    assert_eq!(
        parse_timestamp("1969-12-31T23:59:59.999999Z").expect("canonical"),
        vigil_audit::canonical_timestamp(early)
    );

    // Hashing a record with a finer timestamp gives the same hash as its truncated form.
    let (truncated_record, hash) = next_entry(
        None,
        fine,
        "a".into(),
        "b".into(),
        "c".into(),
        "d".into(),
        "e".into(),
        "{}".into(),
    );
    assert_eq!(truncated_record.recorded_at, read);
    assert_eq!(chain_hash(&ChainHash::GENESIS, &truncated_record), hash);

    for non_canonical in [
        "2026-11-23T15:04:05Z",
        "2026-11-23T15:04:05.123Z",
        "2026-11-23T15:04:05.123456789Z",
        "2026-11-23T15:04:05.123456z",
        "2026-11-23T15:04:05.123456+00:00",
        "2026-11-23T16:04:05.123456+01:00",
    ] {
        assert!(
            matches!(
                parse_timestamp(non_canonical),
                Err(AuditError::NonCanonicalTimestamp { .. })
            ),
            "{non_canonical} should be refused as non-canonical"
        );
    }
    for invalid in ["", "yesterday", "2026-13-01T00:00:00.000000Z"] {
        assert!(
            matches!(
                parse_timestamp(invalid),
                Err(AuditError::InvalidTimestamp { .. })
            ),
            "{invalid} should be refused as invalid"
        );
    }
}

#[test]
fn chain_hashes_have_one_spelling() {
    let hash = chain_hash(&ChainHash::GENESIS, &build_chain(1).0[0].record);
    let text = hash.to_hex();
    assert_eq!(text.len(), 64);
    assert_eq!(text.parse::<ChainHash>(), Ok(hash));
    assert_eq!(hash.to_string(), text);
    assert_eq!(ChainHash::GENESIS.to_hex(), "0".repeat(64));
    for bad in [
        String::new(),
        text.to_uppercase(),
        format!(" {text}"),
        text[..63].to_owned(),
        format!("{text}0"),
        "g".repeat(64),
        "é".repeat(32),
    ] {
        assert!(
            matches!(
                ChainHash::from_hex(&bad),
                Err(AuditError::MalformedHash { .. })
            ),
            "{bad:?} should be refused"
        );
    }
    let json = serde_json::to_string(&hash).expect("serialisable");
    assert_eq!(json, format!("\"{text}\""));
    assert_eq!(
        serde_json::from_str::<ChainHash>(&json).expect("readable"),
        hash
    );
}

#[test]
fn checkpoint_keys_round_trip_through_their_file_and_stay_secret_in_debug() {
    let key = CheckpointKey::generate().expect("the test machine has randomness");
    let text = key.to_file_text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0], "vigil-checkpoint-key-v1");
    assert_eq!(lines[1].len(), 64);
    assert!(text.ends_with('\n'));
    let read = CheckpointKey::from_file_text(&text).expect("valid key file");
    assert_eq!(read.public_key_hex(), key.public_key_hex());
    assert_eq!(key.public_key_hex().len(), 64);
    let windows = text.replace('\n', "\r\n");
    assert!(CheckpointKey::from_file_text(&windows).is_ok());
    assert!(CheckpointKey::from_file_text(text.trim_end()).is_ok());

    let debug = format!("{key:?}");
    assert!(!debug.contains(lines[1]), "Debug must not show the secret");
    assert!(debug.contains("redacted"));

    for bad in [
        "",
        "vigil-checkpoint-key-v1\n",
        "vigil-checkpoint-key-v2\n0000000000000000000000000000000000000000000000000000000000000000\n",
        "vigil-checkpoint-key-v1\n00\n",
        "vigil-checkpoint-key-v1\n0000000000000000000000000000000000000000000000000000000000000000\nextra\n",
    ] {
        let error = CheckpointKey::from_file_text(bad).expect_err("invalid key file");
        assert!(matches!(error, AuditError::InvalidKeyFile { .. }));
    }
    let secret = "ab".repeat(32);
    let error = CheckpointKey::from_file_text(&format!("vigil-checkpoint-key-v1\n{secret}0\n"))
        .expect_err("secret one character too long");
    assert!(
        !error.to_string().contains(&secret),
        "errors must not repeat the secret"
    );
}

fn fixed_key(byte: u8) -> CheckpointKey {
    CheckpointKey::from_file_text(&format!(
        "vigil-checkpoint-key-v1\n{}\n",
        hex::encode([byte; 32])
    ))
    .expect("valid key file")
}

#[test]
fn checkpoints_sign_and_verify() {
    let key = fixed_key(7);
    let (entries, head) = build_chain(CHAIN_LENGTH);
    let head_hash = ChainHash::from_hex(&head.hash).expect("well formed");
    let created_at: jiff::Timestamp = "2026-11-23T18:00:00.987654321Z".parse().expect("valid");
    let checkpoint = Checkpoint::sign(&key, CHAIN_LENGTH, &head_hash, created_at);
    assert_eq!(checkpoint.created_at, "2026-11-23T18:00:00.987654Z");
    assert_eq!(checkpoint.head, head.hash);
    assert_eq!(checkpoint.public_key, key.public_key_hex());
    assert_eq!(checkpoint.signature.len(), 128);
    assert_eq!(
        checkpoint.signed_message(),
        format!(
            "vigil-audit-checkpoint-v1\n20\n{}\n2026-11-23T18:00:00.987654Z\n",
            head.hash
        )
        .into_bytes()
    );

    assert_eq!(checkpoint.verify_signature(None), Ok(()));
    assert_eq!(
        checkpoint.verify_signature(Some(&key.public_key_hex())),
        Ok(())
    );
    assert_eq!(
        checkpoint.verify_signature(Some(&key.public_key_hex().to_uppercase())),
        Ok(())
    );

    let json = checkpoint.to_json();
    assert!(json.starts_with("{\n  \"sequence\": 20,\n  \"head\": \""));
    assert!(json.ends_with("}\n"));
    assert_eq!(Checkpoint::from_json(&json), Ok(checkpoint.clone()));

    let intact = Verification::Intact {
        entries: CHAIN_LENGTH,
        head: head_hash,
    };
    assert_eq!(
        verify_against_checkpoint(entries.clone(), Some(&head), &checkpoint),
        Ok(intact)
    );
    assert_eq!(
        verify_against_trusted_checkpoint(
            entries.clone(),
            Some(&head),
            &checkpoint,
            Some(&key.public_key_hex())
        ),
        Ok(intact)
    );

    // A checkpoint of an earlier entry still holds after later appends.
    let earlier_hash = ChainHash::from_hex(&entries[9].hash).expect("well formed");
    let earlier = Checkpoint::sign(&key, 10, &earlier_hash, created_at);
    assert_eq!(
        verify_against_checkpoint(entries.clone(), Some(&head), &earlier),
        Ok(intact)
    );
    // A checkpoint of the empty chain holds for any intact chain.
    let empty = Checkpoint::sign(&key, 0, &ChainHash::GENESIS, created_at);
    assert_eq!(
        verify_against_checkpoint(entries, Some(&head), &empty),
        Ok(intact)
    );
}

#[test]
fn a_tampered_checkpoint_is_refused() {
    let key = fixed_key(7);
    let (entries, head) = build_chain(CHAIN_LENGTH);
    let head_hash = ChainHash::from_hex(&head.hash).expect("well formed");
    let created_at = timestamp("2026-11-23T18:00:00.000000Z");
    let checkpoint = Checkpoint::sign(&key, CHAIN_LENGTH, &head_hash, created_at);

    let mut flipped = checkpoint.clone();
    let last = flipped.signature.pop().expect("non-empty");
    flipped.signature.push(if last == '0' { '1' } else { '0' });
    assert_eq!(
        flipped.verify_signature(None),
        Err(AuditError::BadCheckpointSignature)
    );
    assert_eq!(
        verify_against_checkpoint(entries.clone(), Some(&head), &flipped),
        Err(AuditError::BadCheckpointSignature)
    );

    let mut moved_back = checkpoint.clone();
    moved_back.sequence = 12;
    moved_back.head = entries[11].hash.clone();
    assert_eq!(
        moved_back.verify_signature(None),
        Err(AuditError::BadCheckpointSignature)
    );

    let mut redated = checkpoint.clone();
    redated.created_at = "2027-01-01T00:00:00.000000Z".into();
    assert_eq!(
        redated.verify_signature(None),
        Err(AuditError::BadCheckpointSignature)
    );

    let mut short_signature = checkpoint.clone();
    short_signature.signature.truncate(100);
    assert!(matches!(
        short_signature.verify_signature(None),
        Err(AuditError::InvalidCheckpointField {
            field: "signature",
            ..
        })
    ));

    let mut bad_time = checkpoint.clone();
    bad_time.created_at = "2026-11-23T18:00:00Z".into();
    assert!(matches!(
        bad_time.verify_signature(None),
        Err(AuditError::InvalidCheckpointField {
            field: "created_at",
            ..
        })
    ));

    for bad_json in [
        "",
        "[]",
        "{\"sequence\": 1}",
        "{\"sequence\": -1, \"head\": \"\", \"created_at\": \"\", \"public_key\": \"\", \"signature\": \"\"}",
    ] {
        assert!(matches!(
            Checkpoint::from_json(bad_json),
            Err(AuditError::InvalidCheckpointFile { .. })
        ));
    }
    let with_extra = checkpoint
        .to_json()
        .replacen('{', "{\n  \"comment\": \"hello\",", 1);
    assert!(matches!(
        Checkpoint::from_json(&with_extra),
        Err(AuditError::InvalidCheckpointFile { .. })
    ));
}

#[test]
fn a_checkpoint_from_another_key_is_not_trusted() {
    let trusted = fixed_key(7);
    let other = fixed_key(8);
    let (entries, head) = build_chain(CHAIN_LENGTH);
    let head_hash = ChainHash::from_hex(&head.hash).expect("well formed");
    let checkpoint = Checkpoint::sign(
        &other,
        CHAIN_LENGTH,
        &head_hash,
        timestamp("2026-11-23T18:00:00.000000Z"),
    );
    assert_eq!(checkpoint.verify_signature(None), Ok(()));
    let error = checkpoint
        .verify_signature(Some(&trusted.public_key_hex()))
        .expect_err("signed by another key");
    assert_eq!(
        error,
        AuditError::UntrustedCheckpointKey {
            checkpoint_key: other.public_key_hex(),
            trusted_key: trusted.public_key_hex(),
        }
    );
    assert_eq!(
        verify_against_trusted_checkpoint(
            entries,
            Some(&head),
            &checkpoint,
            Some(&trusted.public_key_hex())
        ),
        Err(error)
    );
    assert!(matches!(
        checkpoint.verify_signature(Some("not a key")),
        Err(AuditError::InvalidTrustedKey { .. })
    ));
}

#[test]
fn only_a_checkpoint_catches_a_consistent_truncation_of_tail_and_head() {
    let key = fixed_key(7);
    let (mut entries, head) = build_chain(CHAIN_LENGTH);
    let checkpoint = Checkpoint::sign(
        &key,
        CHAIN_LENGTH,
        &ChainHash::from_hex(&head.hash).expect("well formed"),
        timestamp("2026-11-23T18:00:00.000000Z"),
    );

    entries.truncate(12);
    let cut_head = RecordedHead {
        sequence: 12,
        hash: entries[11].hash.clone(),
    };
    assert!(verify(entries.clone(), Some(&cut_head)).is_intact());
    let error = verify_against_checkpoint(entries.clone(), Some(&cut_head), &checkpoint)
        .expect_err("the checkpoint vouches for entries that are gone");
    assert_eq!(
        error,
        AuditError::ChainShorterThanCheckpoint {
            checkpoint_sequence: CHAIN_LENGTH,
            chain_entries: 12,
            first_missing: 13,
        }
    );
    assert_eq!(
        error.to_string(),
        "the chain has only 12 entries but the checkpoint vouches for entry 20: entries 13 to 20 were removed after the checkpoint was signed"
    );

    // With the head left alone the chain itself already says where it was cut.
    assert_eq!(
        verify_against_checkpoint(entries, Some(&head), &checkpoint),
        Ok(broken(
            13,
            BreakReason::Truncated {
                recorded_head: CHAIN_LENGTH,
                last_present: 12,
            }
        ))
    );
}

#[test]
fn only_a_checkpoint_catches_a_rewritten_history() {
    let key = fixed_key(7);
    let (mut entries, head) = build_chain(CHAIN_LENGTH);
    let original_hash_at_15 = entries[14].hash.clone();
    let checkpoint = Checkpoint::sign(
        &key,
        15,
        &ChainHash::from_hex(&original_hash_at_15).expect("well formed"),
        timestamp("2026-11-23T18:00:00.000000Z"),
    );
    assert!(verify_against_checkpoint(entries.clone(), Some(&head), &checkpoint).is_ok());

    // Same length, one decision changed, everything re-hashed and the head rewritten to match.
    entries[4].record.payload = r#"{"from":"validation","to":"live"}"#.into();
    let rewritten_head = rehash(&mut entries);
    assert!(verify(entries.clone(), Some(&rewritten_head)).is_intact());
    let error = verify_against_checkpoint(entries.clone(), Some(&rewritten_head), &checkpoint)
        .expect_err("history before the checkpoint was rewritten");
    assert_eq!(
        error,
        AuditError::CheckpointHashMismatch {
            sequence: 15,
            checkpoint_hash: original_hash_at_15,
            chain_hash: entries[14].hash.clone(),
        }
    );
    assert!(error.to_string().contains("entry 15"));

    // A rewrite after the checkpoint's entry is outside what the checkpoint vouches for.
    let (mut entries, _) = build_chain(CHAIN_LENGTH);
    entries[17].record.actor = "mallory".into();
    let rewritten_head = rehash(&mut entries);
    assert!(verify_against_checkpoint(entries, Some(&rewritten_head), &checkpoint).is_ok());
}

#[test]
fn checkpoints_treat_a_missing_head_as_verify_does() {
    let key = fixed_key(7);
    let (entries, head) = build_chain(CHAIN_LENGTH);
    let created_at = timestamp("2026-11-23T18:00:00.000000Z");
    let at = |sequence: u64| {
        let hash = if sequence == 0 {
            ChainHash::GENESIS
        } else {
            ChainHash::from_hex(&entries[sequence as usize - 1].hash).expect("well formed")
        };
        Checkpoint::sign(&key, sequence, &hash, created_at)
    };
    let both = |entries: &[StoredEntry], checkpoint: &Checkpoint| {
        let untrusted = verify_against_checkpoint(entries.to_vec(), None, checkpoint);
        let trusted = verify_against_trusted_checkpoint(
            entries.to_vec(),
            None,
            checkpoint,
            Some(&key.public_key_hex()),
        );
        assert_eq!(untrusted, trusted);
        untrusted
    };

    // The whole chain, the head row deleted: broken, exactly as `verify` says.
    for sequence in [0, 10, CHAIN_LENGTH] {
        assert_eq!(
            both(&entries, &at(sequence)),
            Ok(broken(CHAIN_LENGTH, BreakReason::HeadMissing)),
            "checkpoint at {sequence}"
        );
    }
    // The tail cut and the head row deleted: the checkpoint proves which entries went.
    let cut = &entries[..12];
    assert_eq!(
        both(cut, &at(CHAIN_LENGTH)),
        Err(AuditError::ChainShorterThanCheckpoint {
            checkpoint_sequence: CHAIN_LENGTH,
            chain_entries: 12,
            first_missing: 13,
        })
    );
    // ... and when the cut is after the checkpoint, the missing head is what remains.
    assert_eq!(both(cut, &at(10)), Ok(broken(12, BreakReason::HeadMissing)));
    assert_eq!(both(cut, &at(12)), Ok(broken(12, BreakReason::HeadMissing)));
    // Everything cut, head row included: shorter than any non-empty checkpoint.
    assert_eq!(
        both(&[], &at(CHAIN_LENGTH)),
        Err(AuditError::ChainShorterThanCheckpoint {
            checkpoint_sequence: CHAIN_LENGTH,
            chain_entries: 0,
            first_missing: 1,
        })
    );
    // An empty chain with no head and a checkpoint of the empty chain is intact.
    assert_eq!(
        both(&[], &at(0)),
        Ok(Verification::Intact {
            entries: 0,
            head: ChainHash::GENESIS,
        })
    );
    // History rewritten before the checkpoint is still caught without a head.
    let mut rewritten = entries.clone();
    rewritten[4].record.payload = r#"{"from":"validation","to":"live"}"#.into();
    rehash(&mut rewritten);
    assert!(matches!(
        both(&rewritten, &at(15)),
        Err(AuditError::CheckpointHashMismatch { sequence: 15, .. })
    ));
    // An edit is reported as an edit, not as a short chain.
    let mut edited = entries[..12].to_vec();
    edited[4].record.actor = "mallory".into();
    assert_eq!(
        both(&edited, &at(CHAIN_LENGTH)),
        Ok(broken(5, BreakReason::ContentEdited))
    );
    // With the head present, nothing changes.
    assert_eq!(
        verify_against_checkpoint(entries.clone(), Some(&head), &at(CHAIN_LENGTH)),
        Ok(Verification::Intact {
            entries: CHAIN_LENGTH,
            head: ChainHash::from_hex(&head.hash).expect("well formed"),
        })
    );
}

#[test]
fn a_chain_broken_before_the_checkpoint_is_reported_as_broken() {
    let key = fixed_key(7);
    let (mut entries, head) = build_chain(CHAIN_LENGTH);
    let checkpoint = Checkpoint::sign(
        &key,
        15,
        &ChainHash::from_hex(&entries[14].hash).expect("well formed"),
        timestamp("2026-11-23T18:00:00.000000Z"),
    );
    entries[4].record.actor = "mallory".into();
    assert_eq!(
        verify_against_checkpoint(entries, Some(&head), &checkpoint),
        Ok(broken(5, BreakReason::ContentEdited))
    );
}
