//! Malformed and hostile input: each gives its own specific error, never a
//! panic or a large allocation.

use std::path::{Path, PathBuf};

use vigil_structures::{
    ImageGrid, RtStruct, SliceGeometry, StructuresError, read_nifti_labels,
    read_nifti_labels_from_bytes, read_rtstruct, read_seg_from_bytes,
};

fn data(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data")).join(name)
}

/// Asserts that `result` is an error for which `matches` holds, and that its
/// message mentions every one of `words`.
fn check<T: std::fmt::Debug>(
    case: &str,
    result: Result<T, StructuresError>,
    matches: fn(&StructuresError) -> bool,
    words: &[&str],
) {
    let error = match result {
        Ok(value) => panic!("{case}: expected an error, got {value:?}"),
        Err(error) => error,
    };
    assert!(matches(&error), "{case}: wrong error {error:?}");
    let message = error.to_string();
    for word in words {
        assert!(
            message.contains(word),
            "{case}: '{message}' does not mention '{word}'"
        );
    }
}

fn copy_series(from: &Path, to: &Path, keep: impl Fn(usize) -> bool) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(from)
        .expect("readable")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "dcm"))
        .collect();
    files.sort();
    for (index, file) in files.iter().enumerate() {
        if keep(index) {
            std::fs::copy(file, to.join(file.file_name().expect("name"))).expect("copy");
        }
    }
}

fn axial_grid() -> ImageGrid {
    ImageGrid::from_series_dir(data("ct")).expect("the CT series reads")
}

#[test]
fn truncated_rtstruct() {
    let bytes = std::fs::read(data("rtstruct.dcm")).expect("readable");
    for cut in [
        0,
        10,
        131,
        200,
        bytes.len() / 3,
        bytes.len() / 2,
        bytes.len() - 7,
    ] {
        check(
            &format!("truncated at {cut}"),
            RtStruct::from_bytes(&bytes[..cut]),
            |e| matches!(e, StructuresError::NotDicom { .. }),
            &["not a readable DICOM file"],
        );
    }
}

#[test]
fn contour_point_count_mismatch() {
    check(
        "NumberOfContourPoints 5",
        RtStruct::parse(data("hostile/contour_count_mismatch.dcm")),
        |e| matches!(e, StructuresError::ContourPointCount { declared: 5, values, expected: 15, .. } if *values != 15),
        &["ROI 1 'GTV'", "NumberOfContourPoints is 5"],
    );
}

#[test]
fn contour_off_every_slice() {
    check(
        "contour 100 mm above",
        read_rtstruct(data("hostile/contour_off_slice.dcm"), &axial_grid()),
        |e| matches!(e, StructuresError::ContourOffSlice { roi_number: 1, .. }),
        &["ROI 1 'GTV'", "not within half a slice spacing"],
    );
}

#[test]
fn huge_rows_and_columns() {
    check(
        "65535 × 65535",
        ImageGrid::from_series_dir(data("hostile/huge_grid")),
        |e| matches!(e, StructuresError::TooLarge { .. }),
        &["65535 rows × 65535 columns", "at most 2147483648"],
    );
}

#[test]
fn uneven_slices() {
    let dir = tempfile::tempdir().expect("temporary directory");
    // image05.dcm holds slice 9; without it slices 8 and 10 are 5 mm apart.
    copy_series(&data("ct"), dir.path(), |index| index != 5);
    check(
        "a missing slice",
        ImageGrid::from_series_dir(dir.path()),
        |e| matches!(e, StructuresError::UnevenSlices { .. }),
        &["unevenly spaced", "within 1 %"],
    );
}

#[test]
fn several_series_in_one_folder() {
    let dir = tempfile::tempdir().expect("temporary directory");
    copy_series(&data("ct"), dir.path(), |_| true);
    std::fs::copy(data("oblique_ct/image00.dcm"), dir.path().join("other.dcm")).expect("copy");
    check(
        "axial and oblique",
        ImageGrid::from_series_dir(dir.path()),
        |e| matches!(e, StructuresError::SeveralSeries { count: 2, .. }),
        &["2 series", "one series in a directory"],
    );
}

#[test]
fn no_series_in_folder() {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("notes.txt"), "not DICOM").expect("write");
    std::fs::copy(data("rtstruct.dcm"), dir.path().join("rtstruct.dcm")).expect("copy");
    check(
        "only an RTSTRUCT",
        ImageGrid::from_series_dir(dir.path()),
        |e| matches!(e, StructuresError::NoSeries { .. }),
        &["no DICOM image"],
    );
}

#[test]
fn wrong_kinds() {
    let seg = std::fs::read(data("seg.dcm")).expect("readable");
    check(
        "a SEG as RTSTRUCT",
        RtStruct::from_bytes(&seg),
        |e| matches!(e, StructuresError::WrongKind { .. }),
        &["SEG", "RT Structure Set"],
    );
    let rtstruct = std::fs::read(data("rtstruct.dcm")).expect("readable");
    check(
        "an RTSTRUCT as SEG",
        read_seg_from_bytes(&rtstruct),
        |e| matches!(e, StructuresError::WrongKind { .. }),
        &["RTSTRUCT", "Segmentation"],
    );
}

#[test]
fn truncated_seg_pixel_data() {
    let bytes = std::fs::read(data("seg.dcm")).expect("readable");
    check(
        "SEG cut short",
        read_seg_from_bytes(&bytes[..bytes.len() - 100]),
        |e| matches!(e, StructuresError::NotDicom { .. }),
        &["declares"],
    );
}

#[test]
fn declared_length_beyond_the_file() {
    // A file meta group and one Patient Name element declaring 4 GiB − 2.
    let mut bytes = vec![0u8; 128];
    bytes.extend_from_slice(b"DICM");
    let ts = b"1.2.840.10008.1.2.1\0";
    bytes.extend_from_slice(&[0x02, 0x00, 0x10, 0x00, b'U', b'I']);
    bytes.extend_from_slice(&(ts.len() as u16).to_le_bytes());
    bytes.extend_from_slice(ts);
    bytes.extend_from_slice(&[0x10, 0x00, 0x10, 0x00, b'U', b'T', 0, 0]);
    bytes.extend_from_slice(&0xFFFF_FFFEu32.to_le_bytes());
    bytes.extend_from_slice(b"short");
    check(
        "a 4 GiB string",
        RtStruct::from_bytes(&bytes),
        |e| matches!(e, StructuresError::NotDicom { .. }),
        &["declares 4294967294 bytes"],
    );
}

#[test]
fn float_labels_that_are_not_integers() {
    check(
        "label 1.5",
        read_nifti_labels(data("hostile/float_labels.nii")),
        |e| matches!(e, StructuresError::NonIntegerLabel { value, .. } if *value == 1.5),
        &["1.5", "not a whole number"],
    );
}

/// A NIfTI-1 header with the given dimensions, uint8 data and no voxels.
fn nifti_header(dims: [i16; 3]) -> Vec<u8> {
    let mut header = vec![0u8; 352];
    header[0..4].copy_from_slice(&348i32.to_le_bytes());
    header[40..42].copy_from_slice(&3i16.to_le_bytes());
    for (axis, extent) in dims.iter().enumerate() {
        header[42 + 2 * axis..44 + 2 * axis].copy_from_slice(&extent.to_le_bytes());
    }
    header[70..72].copy_from_slice(&2i16.to_le_bytes());
    for axis in 0..4 {
        header[76 + 4 * axis..80 + 4 * axis].copy_from_slice(&1f32.to_le_bytes());
    }
    header[108..112].copy_from_slice(&352f32.to_le_bytes());
    header[344..348].copy_from_slice(b"n+1\0");
    header
}

#[test]
fn nifti_hostile_headers() {
    check(
        "32767³ voxels",
        read_nifti_labels_from_bytes(&nifti_header([32767, 32767, 32767]), "huge.nii"),
        |e| matches!(e, StructuresError::TooLarge { .. }),
        &["32767 × 32767 × 32767"],
    );
    check(
        "data missing",
        read_nifti_labels_from_bytes(&nifti_header([4, 4, 4]), "short.nii"),
        |e| matches!(e, StructuresError::InvalidNifti { .. }),
        &["holds 0 bytes of voxel data", "need 64"],
    );
    check(
        "negative dimension",
        read_nifti_labels_from_bytes(&nifti_header([4, -1, 4]), "negative.nii"),
        |e| matches!(e, StructuresError::InvalidNifti { .. }),
        &["dim[2] is -1"],
    );
    check(
        "not NIfTI",
        read_nifti_labels_from_bytes(b"hello", "hello.nii"),
        |e| matches!(e, StructuresError::InvalidNifti { .. }),
        &["348-byte"],
    );
}

#[test]
fn invalid_geometry() {
    let geometry = SliceGeometry {
        orientation: [1.0, 0.0, 0.0, 0.5, 0.5, 0.0],
        pixel_spacing_mm: [1.0, 1.0],
        rows: 4,
        columns: 4,
    };
    check(
        "non-orthogonal orientation",
        ImageGrid::new(geometry, &[[0.0; 3], [0.0, 0.0, 1.0]], None),
        |e| matches!(e, StructuresError::InvalidOrientation { .. }),
        &["not two orthogonal unit vectors"],
    );
    let geometry = SliceGeometry {
        orientation: [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
        ..geometry
    };
    check(
        "duplicate slice",
        ImageGrid::new(geometry, &[[0.0; 3], [0.0; 3]], None),
        |e| matches!(e, StructuresError::DuplicateSlice { .. }),
        &["same position"],
    );
    check(
        "shifted slice",
        ImageGrid::new(geometry, &[[0.0; 3], [3.0, 0.0, 1.0]], None),
        |e| matches!(e, StructuresError::SlicesNotStacked { .. }),
        &["shifted in-plane by 3 mm"],
    );
}

#[test]
fn contour_coordinate_that_is_not_a_number() {
    let mut bytes = std::fs::read(data("rtstruct.dcm")).expect("readable");
    // The first ContourData element (3006,0050), explicit VR DS: its first
    // value becomes "nan" padded with spaces to the same length.
    let header = [0x06, 0x30, 0x50, 0x00, b'D', b'S'];
    let at = bytes
        .windows(header.len())
        .position(|window| window == header)
        .expect("a ContourData element");
    let start = at + 8;
    let end = start
        + bytes[start..]
            .iter()
            .position(|&b| b == b'\\')
            .expect("several values");
    for (offset, byte) in bytes[start..end].iter_mut().enumerate() {
        *byte = if offset < 3 { b"nan"[offset] } else { b' ' };
    }
    check(
        "ContourData holds nan",
        RtStruct::from_bytes(&bytes),
        |e| {
            matches!(
                e,
                StructuresError::NonFiniteContour {
                    roi_number: 1,
                    contour: 0,
                    ..
                }
            )
        },
        &["ROI 1 'GTV', contour 0", "not a finite number"],
    );
}

#[test]
fn slice_positions_at_the_limits_of_a_double() {
    // The gap between them overflows to infinity; the grid must refuse it
    // rather than hand an infinite spacing to a mask.
    let geometry = SliceGeometry {
        orientation: [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
        pixel_spacing_mm: [1.0, 1.0],
        rows: 4,
        columns: 4,
    };
    check(
        "positions ±1.7e308",
        ImageGrid::new(geometry, &[[0.0, 0.0, -1.7e308], [0.0, 0.0, 1.7e308]], None),
        |error| {
            matches!(
                error,
                StructuresError::SlicesNotStacked { .. } | StructuresError::InvalidAttribute { .. }
            )
        },
        &[],
    );
}
