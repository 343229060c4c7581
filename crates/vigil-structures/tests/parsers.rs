//! The readers of outside input never panic: mutated and truncated copies of
//! the test files, and arbitrary bytes, give a value or an error (the same
//! property the `rtstruct` fuzz target checks at length).

use std::path::PathBuf;

use proptest::prelude::*;
use vigil_structures::{
    ImageGrid, RtStruct, SliceGeometry, read_nifti_labels_from_bytes, read_seg_from_bytes,
};

fn bytes(name: &str) -> Vec<u8> {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data")).join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// A copy of `original` with a few bytes overwritten and possibly cut short.
fn mutated(original: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let length = original.len();
    (
        proptest::collection::vec((0..length, any::<u8>()), 1..8),
        prop_oneof![Just(length), 0..length],
    )
        .prop_map(move |(edits, cut)| {
            let mut copy = original.clone();
            for (at, value) in edits {
                copy[at] = value;
            }
            copy.truncate(cut);
            copy
        })
}

fn small_grid() -> ImageGrid {
    let geometry = SliceGeometry {
        orientation: [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
        pixel_spacing_mm: [0.9765625, 0.9765625],
        rows: 64,
        columns: 64,
    };
    let positions: Vec<[f64; 3]> = (0..12)
        .map(|k| [-31.5, -40.25, 12.5 + 2.5 * k as f64])
        .collect();
    ImageGrid::new(geometry, &positions, None).expect("a valid grid")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn mutated_rtstruct(data in mutated(bytes("rtstruct.dcm"))) {
        if let Ok(rtstruct) = RtStruct::from_bytes(&data) {
            let _ = rtstruct.rasterise(&small_grid());
        }
    }

    #[test]
    fn mutated_pydicom_rtstruct(data in mutated(bytes("pydicom_rtstruct.dcm"))) {
        if let Ok(rtstruct) = RtStruct::from_bytes(&data) {
            let _ = rtstruct.rasterise(&small_grid());
        }
    }

    #[test]
    fn mutated_seg(data in mutated(bytes("seg.dcm"))) {
        let _ = read_seg_from_bytes(&data);
    }

    #[test]
    fn mutated_nifti(data in mutated(bytes("labels.nii.gz"))) {
        let _ = read_nifti_labels_from_bytes(&data, "mutated.nii.gz");
    }

    #[test]
    fn mutated_plain_nifti(data in mutated(bytes("hostile/float_labels.nii"))) {
        let _ = read_nifti_labels_from_bytes(&data, "mutated.nii");
    }

    #[test]
    fn arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = RtStruct::from_bytes(&data);
        let _ = read_seg_from_bytes(&data);
        let _ = read_nifti_labels_from_bytes(&data, "arbitrary.nii");
        let mut with_prefix = vec![0u8; 128];
        with_prefix.extend_from_slice(b"DICM");
        with_prefix.extend_from_slice(&data);
        let _ = RtStruct::from_bytes(&with_prefix);
    }
}
