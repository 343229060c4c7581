//! Hostile bytes: each is refused with a clear error, quickly and without
//! allocating what it declares, or read without trusting its counts.

use std::io::Write;
use std::path::PathBuf;

use vigil_dicom::read::{EXPLICIT_LITTLE_ENDIAN, IMPLICIT_LITTLE_ENDIAN};
use vigil_dicom::{ReadError, ReadLimits, parse_data_set, parse_part10};

/// An explicit VR little endian element header with a 4-byte length.
fn long_header(group: u16, element: u16, vr: &[u8; 2], length: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&group.to_le_bytes());
    bytes.extend_from_slice(&element.to_le_bytes());
    bytes.extend_from_slice(vr);
    bytes.extend_from_slice(&[0, 0]);
    bytes.extend_from_slice(&length.to_le_bytes());
    bytes
}

/// A short explicit VR little endian element with its value.
fn short_element(group: u16, element: u16, vr: &[u8; 2], value: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&group.to_le_bytes());
    bytes.extend_from_slice(&element.to_le_bytes());
    bytes.extend_from_slice(vr);
    bytes.extend_from_slice(&(value.len() as u16).to_le_bytes());
    bytes.extend_from_slice(value);
    bytes
}

/// A Part 10 file: preamble, DICM, a meta group naming the transfer
/// syntax, then the data set bytes.
fn part10(transfer_syntax: &str, data_set: &[u8]) -> Vec<u8> {
    let mut uid = transfer_syntax.as_bytes().to_vec();
    if uid.len() % 2 == 1 {
        uid.push(0);
    }
    let mut bytes = vec![0u8; 128];
    bytes.extend_from_slice(b"DICM");
    bytes.extend(short_element(0x0002, 0x0010, b"UI", &uid));
    bytes.extend_from_slice(data_set);
    bytes
}

#[track_caller]
fn check_malformed(outcome: Result<impl std::fmt::Debug, ReadError>, expected_start: &str) {
    match outcome {
        Err(ReadError::Malformed(reason)) => {
            assert!(reason.starts_with(expected_start), "{reason}");
        }
        other => panic!("expected a malformed-input error, got {other:?}"),
    }
}

#[test]
fn a_million_nested_sequences_are_refused() {
    let mut bytes = Vec::with_capacity(16_000_000);
    for _ in 0..1_000_000 {
        // ContentSequence, undefined length, holding one undefined-length item.
        bytes.extend(long_header(0x0040, 0xA730, b"SQ", u32::MAX));
        bytes.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
    }
    let started = std::time::Instant::now();
    check_malformed(
        parse_data_set(&bytes, EXPLICIT_LITTLE_ENDIAN, ReadLimits::default(), false),
        "sequences are nested more than 64 deep",
    );
    assert!(started.elapsed().as_secs() < 2, "{:?}", started.elapsed());
}

#[test]
fn a_declared_length_beyond_the_data_is_refused() {
    // TextValue (UT) declaring almost 4 GiB, followed by ten bytes.
    let mut bytes = long_header(0x0040, 0xA160, b"UT", 0xFFFF_FFF0);
    bytes.extend_from_slice(b"0123456789");
    check_malformed(
        parse_data_set(&bytes, EXPLICIT_LITTLE_ENDIAN, ReadLimits::default(), false),
        "element (0040,A160) at byte 0 declares 4294967280 bytes but only 10 remain",
    );
    // The same in implicit VR, and inside a Part 10 file.
    let mut implicit = Vec::new();
    implicit.extend_from_slice(&[0x10, 0x00, 0x10, 0x00]);
    implicit.extend_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
    implicit.extend_from_slice(b"Doe^J");
    check_malformed(
        parse_data_set(
            &implicit,
            IMPLICIT_LITTLE_ENDIAN,
            ReadLimits::default(),
            false,
        ),
        "element (0010,0010) at byte 0 declares 2147483647 bytes",
    );
    check_malformed(
        parse_part10(
            &part10(EXPLICIT_LITTLE_ENDIAN, &bytes),
            ReadLimits::default(),
            false,
        ),
        "element (0040,A160)",
    );
}

/// Lengths are read as dicom-rs reads them, so that what the check lets
/// through is what the parser then allocates: a VR the standard does not
/// know has a 4-byte length (as UN), and an undefined length that is not
/// pixel data opens a sequence whatever its VR says.
#[test]
fn lengths_are_read_as_the_parser_reads_them() {
    let item = |length: u32| {
        let mut bytes = vec![0xFE, 0xFF, 0x00, 0xE0];
        bytes.extend_from_slice(&length.to_le_bytes());
        bytes
    };
    // An unknown VR "ZZ" declaring almost 4 GiB.
    let mut unknown_vr = long_header(0x0009, 0x0010, b"ZZ", 0xFFFF_FFF0);
    unknown_vr.extend_from_slice(b"0123456789");
    // Private OB of undefined length: a sequence to dicom-rs, whose item
    // holds a text declaring almost 4 GiB.
    let mut undefined_ob = long_header(0x0009, 0x1000, b"OB", u32::MAX);
    undefined_ob.extend(item(22));
    undefined_ob.extend(long_header(0x0040, 0xA160, b"UT", 0xFFFF_FFF0));
    undefined_ob.extend_from_slice(b"0123456789");
    // Rows (US) of 3 bytes, explicit and implicit: dicom-rs would read one
    // number and then lose its place by a byte.
    let odd_explicit = short_element(0x0028, 0x0010, b"US", &[1, 2, 3]);
    let mut odd_implicit = vec![0x28, 0x00, 0x10, 0x00, 3, 0, 0, 0, 1, 2, 3];
    odd_implicit.extend_from_slice(&[0; 8]);
    let cases = [
        (
            odd_explicit,
            "element (0028,0010) at byte 0 is 3 bytes long, not a whole number of its US values of 2 bytes",
        ),
        (
            unknown_vr,
            "element (0009,0010) at byte 0 declares 4294967280 bytes but only 10 remain",
        ),
        (
            undefined_ob,
            "element (0040,A160) at byte 20 declares 4294967280 bytes but only 10 remain",
        ),
    ];
    for (bytes, expected) in cases {
        check_malformed(
            parse_data_set(&bytes, EXPLICIT_LITTLE_ENDIAN, ReadLimits::default(), false),
            expected,
        );
    }
    check_malformed(
        parse_data_set(
            &odd_implicit,
            IMPLICIT_LITTLE_ENDIAN,
            ReadLimits::default(),
            false,
        ),
        "element (0028,0010) at byte 0 is 3 bytes long, not a whole number of its US values of 2 bytes",
    );
    // Found by the fuzzer: an implicit VR group length (UL) of 157 bytes,
    // after which dicom-rs read a length of almost 4 GiB.
    let found = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/fuzz/implicit_group_length_157.bin"),
    )
    .expect("file");
    check_malformed(
        parse_data_set(&found, IMPLICIT_LITTLE_ENDIAN, ReadLimits::default(), false),
        "element (0000,0000) at byte 40 is 157 bytes long",
    );
}

/// The process's peak resident memory so far (`VmHWM`), in bytes; `None`
/// where /proc does not tell.
fn peak_resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kilobytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes * 1024)
}

/// Inputs the fuzzer found that made the parser allocate gigabytes (it read
/// a length where the check had read none): each is now refused, quickly,
/// and the peak resident memory grows by less than 256 MiB.
#[test]
fn what_the_fuzzer_found_is_refused() {
    let peak_before = peak_resident_bytes();
    let cases = [
        // A SEG whose mutated VRs, unknown to the standard, hid 540 MB.
        ("seg_unknown_vr_length.dcm", None, "element ("),
        // An implicit VR group length (UL) of 157 bytes, after which the
        // parser read a length of almost 4 GiB.
        (
            "implicit_group_length_157.bin",
            Some(IMPLICIT_LITTLE_ENDIAN),
            "element (0000,0000) at byte 40 is 157 bytes long",
        ),
        // An item outside any sequence, which the parser reads as a value
        // and the check had entered: the length after it is now seen.
        (
            "sr_top_level_item.dcm",
            None,
            "element (0000,6177) at byte 804 declares 1952671092 bytes",
        ),
        // (FFFE,0000) among an item's elements: a value of 3.7 GB to the
        // parser, nothing to the check.
        (
            "rtstruct_group_fffe_element.dcm",
            None,
            "element (FFFE,0000)",
        ),
    ];
    for (name, syntax, expected) in cases {
        let bytes = std::fs::read(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/fuzz")
                .join(name),
        )
        .expect("file");
        let started = std::time::Instant::now();
        match syntax {
            Some(syntax) => check_malformed(
                parse_data_set(&bytes, syntax, ReadLimits::default(), false),
                expected,
            ),
            None => check_malformed(parse_part10(&bytes, ReadLimits::default(), false), expected),
        }
        assert!(
            started.elapsed().as_secs() < 2,
            "{name}: {:?}",
            started.elapsed()
        );
    }
    if let (Some(before), Some(after)) = (peak_before, peak_resident_bytes()) {
        let growth = after.saturating_sub(before);
        assert!(
            growth < 256 << 20,
            "peak resident memory grew by {growth} bytes"
        );
    }
}

#[test]
fn a_deflate_bomb_stops_at_the_limit() {
    // 64 MiB of zeros deflate to about 64 KiB; the limit here is 1 MiB.
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        encoder.write_all(&zeros).expect("deflate");
    }
    let bomb = encoder.finish().expect("deflate");
    assert!(bomb.len() < 1 << 20);
    let limits = ReadLimits {
        max_inflated_bytes: 1 << 20,
    };
    let outcome = parse_part10(&part10("1.2.840.10008.1.2.1.99", &bomb), limits, false);
    assert_eq!(
        outcome.map(|_| ()),
        Err(ReadError::InflatesTooFar { limit: 1 << 20 })
    );
}

#[test]
fn unknown_transfer_syntaxes_and_non_dicom_are_refused() {
    assert_eq!(
        parse_data_set(b"", "1.2.3.4", ReadLimits::default(), false).map(|_| ()),
        Err(ReadError::UnsupportedTransferSyntax("1.2.3.4".to_owned()))
    );
    check_malformed(
        parse_part10(b"\x02\x00 not dicom", ReadLimits::default(), false),
        "the DICM prefix is missing, and the bytes do not open with a data element either",
    );
    // A PDF's first bytes happen to read as a data element header: its
    // declared length gives it away.
    check_malformed(
        parse_part10(b"%PDF-1.7 not dicom", ReadLimits::default(), false),
        "element (5025,4644) at byte 0 declares",
    );
    check_malformed(
        parse_part10(
            &part10(EXPLICIT_LITTLE_ENDIAN, &[0x08, 0x00]),
            ReadLimits::default(),
            false,
        ),
        "the file ends inside an element header",
    );
}

#[test]
fn image_dimensions_are_never_trusted() {
    // Rows × Columns × NumberOfFrames far beyond 32 bits, with eight bytes
    // of pixel data: the object reads, and nothing is sized by its counts.
    let mut bytes = Vec::new();
    bytes.extend(short_element(
        0x0008,
        0x0016,
        b"UI",
        b"1.2.840.10008.5.1.4.1.1.2\0",
    ));
    bytes.extend(short_element(0x0008, 0x0018, b"UI", b"1.2.3.4\0"));
    bytes.extend(short_element(0x0020, 0x000D, b"UI", b"1.2.3.5\0"));
    bytes.extend(short_element(0x0028, 0x0008, b"IS", b"99999999"));
    bytes.extend(short_element(
        0x0028,
        0x0010,
        b"US",
        &u16::MAX.to_le_bytes(),
    ));
    bytes.extend(short_element(
        0x0028,
        0x0011,
        b"US",
        &u16::MAX.to_le_bytes(),
    ));
    bytes.extend(long_header(0x7FE0, 0x0010, b"OW", 8));
    bytes.extend_from_slice(&[0; 8]);
    let object = parse_data_set(&bytes, EXPLICIT_LITTLE_ENDIAN, ReadLimits::default(), true)
        .expect("readable");
    // The pixel data was left unread.
    assert!(object.get(dicom_dictionary_std::tags::PIXEL_DATA).is_none());
    assert!(object.get(dicom_dictionary_std::tags::ROWS).is_some());
}

#[test]
fn every_truncation_of_a_report_is_an_error_or_a_reading_never_a_panic() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/sr_positive.dcm");
    let bytes = std::fs::read(path).expect("file");
    for length in 0..bytes.len() {
        let _ = parse_part10(&bytes[..length], ReadLimits::default(), false);
    }
    let deflated =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/sr_positive_deflated.dcm");
    let bytes = std::fs::read(deflated).expect("file");
    for length in 0..bytes.len() {
        let _ = parse_part10(&bytes[..length], ReadLimits::default(), false);
    }
}
