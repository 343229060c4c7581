//! The content-addressed store of original files: named by their SHA-256,
//! preamble zeroed, kept once, within their caps, and readable back as the
//! objects that were received.

use std::path::PathBuf;

use vigil_dicom::originals::{Kept, Originals, OriginalsSettings, part10};
use vigil_dicom::{Arrival, ReadLimits, Routes, receive_data_set, receive_part10};
use vigil_domain::PseudonymKey;

fn data(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .expect("test file")
}

/// The data set of a Part 10 file written by dcmtk or pydicom (after the
/// preamble, `DICM` and the meta group, whose length is its first element).
fn data_set_of(file: &[u8]) -> &[u8] {
    let group_length = u32::from_le_bytes(file[140..144].try_into().expect("length"));
    &file[144 + group_length as usize..]
}

fn open(directory: &std::path::Path, max_file_bytes: u64, max_total_bytes: u64) -> Originals {
    Originals::open(OriginalsSettings {
        directory: directory.to_path_buf(),
        max_file_bytes,
        max_total_bytes,
    })
    .expect("store")
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[test]
fn a_dimse_data_set_is_kept_once_as_a_part10_file_that_reads_back() {
    let directory = tempfile::tempdir().expect("directory");
    let store = open(directory.path(), 1 << 20, 1 << 30);
    let file = data("sr_positive.dcm");
    let data_set = data_set_of(&file);
    let (sop_class, sop_instance) = (
        "1.2.840.10008.5.1.4.1.1.88.34",
        "1.2.826.0.1.3680043.10.1234.2.1",
    );
    let kept = store
        .keep_data_set(sop_class, sop_instance, "1.2.840.10008.1.2.1", data_set)
        .expect("kept");
    let Kept::Stored { sha256 } = kept.clone() else {
        panic!("{kept:?}")
    };
    let written = std::fs::read(store.path_of(&sha256)).expect("the file");
    assert_eq!(
        sha256_hex(&written),
        sha256,
        "the name is the content's digest"
    );
    assert_eq!(
        store.path_of(&sha256),
        directory
            .path()
            .join(&sha256[..2])
            .join(&sha256[2..4])
            .join(format!("{sha256}.dcm"))
    );
    assert!(written[..128].iter().all(|byte| *byte == 0));
    assert_eq!(&written[128..132], b"DICM");
    assert_eq!(store.used_bytes(), written.len() as u64);
    // The file reads back as the object that was received.
    let key = PseudonymKey::from_bytes([7; 32]);
    let routes = Routes::default();
    let arrival = Arrival {
        key: &key,
        zone: &jiff::tz::TimeZone::UTC,
        calling_ae_title: "AI_BOX",
        received_at: "2026-12-01T12:00:00Z".parse().expect("time"),
        limits: ReadLimits::default(),
    };
    let from_file = receive_part10(&written, &routes, arrival).expect("the kept file");
    let from_data_set =
        receive_data_set(data_set, "1.2.840.10008.1.2.1", &routes, arrival).expect("data set");
    assert_eq!(from_file.instance, from_data_set.instance);
    // Sent again: kept once.
    assert_eq!(
        store
            .keep_data_set(sop_class, sop_instance, "1.2.840.10008.1.2.1", data_set)
            .expect("again"),
        Kept::AlreadyKept { sha256 }
    );
    assert_eq!(store.used_bytes(), written.len() as u64);
}

#[test]
fn a_part10_file_is_kept_with_its_preamble_zeroed() {
    let directory = tempfile::tempdir().expect("directory");
    let store = open(directory.path(), 1 << 20, 1 << 30);
    let mut file = data("sr_negative.dcm");
    // A preamble that would make the file a polyglot.
    file[..4].copy_from_slice(b"MZ\x90\x00");
    let kept = store.keep_part10(&file).expect("kept");
    let written = std::fs::read(store.path_of(kept.sha256().expect("kept"))).expect("file");
    assert!(written[..128].iter().all(|byte| *byte == 0));
    assert_eq!(written[128..], file[128..]);
}

#[test]
fn caps_on_a_file_and_on_the_store_are_kept_across_restarts() {
    let directory = tempfile::tempdir().expect("directory");
    let small = data("sr_positive.dcm");
    let large = data("CT_small.dcm");
    let store = open(directory.path(), 20_000, 10_000);
    assert_eq!(
        store.keep_part10(&large).expect("large"),
        Kept::TooLarge {
            bytes: large.len() as u64
        }
    );
    assert!(matches!(
        store.keep_part10(&small).expect("small"),
        Kept::Stored { .. }
    ));
    let used = store.used_bytes();
    assert_eq!(used, small.len() as u64);
    // Reopened, the store counts what it holds, and refuses what would
    // take it past its cap.
    let reopened = open(directory.path(), 20_000, used + 1_000);
    assert_eq!(reopened.used_bytes(), used);
    assert_eq!(
        reopened
            .keep_part10(&data("sr_negative.dcm"))
            .expect("refused"),
        Kept::Full
    );
    // The same bytes again are no new use of space, full or not.
    assert!(matches!(
        reopened.keep_part10(&small).expect("again"),
        Kept::AlreadyKept { .. }
    ));
}

#[test]
fn part10_pads_odd_uids_and_counts_its_meta_group() {
    let file = part10("1.2.3", "1.2.3.4", "1.2.840.10008.1.2", b"");
    assert_eq!(&file[128..132], b"DICM");
    let group_length = u32::from_le_bytes(file[140..144].try_into().expect("length"));
    assert_eq!(144 + group_length as usize, file.len());
    let text = String::from_utf8_lossy(&file);
    assert!(text.contains("1.2.3\0"), "odd UIDs end with a NUL pad");
    assert!(text.contains("1.2.840.10008.1.2\0"));
}
