//! Known-answer tests: the files and expectations written by
//! `tests/data/generate.py` (matplotlib's point-in-polygon test, combined with
//! exclusive or), read back through every reader of the crate.

use std::path::PathBuf;

use serde_json::Value;
use vigil_contours::Mask;
use vigil_structures::{
    ImageGrid, RtStruct, StructureSet, read_nifti_labels, read_rtstruct, read_seg, read_seg_on_grid,
};

fn data(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data")).join(name)
}

fn expected() -> Value {
    let path = data("expected.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_json::from_str(&text).expect("expected.json is valid JSON")
}

fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_f64().expect("a number"))
        .collect()
}

/// Asserts that `set` holds exactly the expected structures of `case`, voxel
/// for voxel.
fn check(case: &str, set: &StructureSet, expected: &Value) {
    let dims: Vec<usize> = numbers(&expected["dims"])
        .iter()
        .map(|&n| n as usize)
        .collect();
    let spacing = numbers(&expected["spacing_mm"]);
    let structures = expected["structures"].as_array().expect("structures");
    assert_eq!(
        set.structures.len(),
        structures.len(),
        "{case}: structure count ({:?})",
        set.names()
    );
    for (structure, want) in set.structures.iter().zip(structures) {
        let name = want["name"].as_str().expect("name");
        let what = format!("{case}, {name}");
        assert_eq!(structure.mask.dims().to_vec(), dims, "{what}: dims");
        for (actual, wanted) in structure.mask.spacing().as_array().iter().zip(&spacing) {
            assert!(
                (actual - wanted).abs() < 1e-9,
                "{what}: spacing {actual} vs {wanted}"
            );
        }
        let inside: Vec<usize> = structure
            .mask
            .voxels()
            .iter()
            .enumerate()
            .filter_map(|(index, &inside)| inside.then_some(index))
            .collect();
        let wanted_inside: Vec<usize> = want["inside"]
            .as_array()
            .expect("inside")
            .iter()
            .map(|v| v.as_u64().expect("an index") as usize)
            .collect();
        let missing: Vec<_> = wanted_inside
            .iter()
            .filter(|i| !inside.contains(i))
            .take(5)
            .collect();
        let extra: Vec<_> = inside
            .iter()
            .filter(|i| !wanted_inside.contains(i))
            .take(5)
            .collect();
        assert_eq!(
            structure.mask.voxel_count() as u64,
            want["voxel_count"].as_u64().expect("count"),
            "{what}: voxel count (missing e.g. {missing:?}, extra e.g. {extra:?})"
        );
        assert_eq!(
            inside, wanted_inside,
            "{what}: inside voxels (missing e.g. {missing:?}, extra e.g. {extra:?})"
        );
    }
}

fn axial_grid() -> ImageGrid {
    ImageGrid::from_series_dir(data("ct")).expect("the CT series reads")
}

#[test]
fn ct_series_geometry() {
    let grid = axial_grid();
    let expected = expected();
    assert_eq!(grid.dims(), [12, 64, 64]);
    assert_eq!(grid.pixel_spacing_mm(), [0.9765625, 0.9765625]);
    assert!((grid.slice_spacing_mm() - 2.5).abs() < 1e-12);
    assert_eq!(
        grid.origin_mm().to_vec(),
        numbers(&expected["axial"]["origin_mm"])
    );
    assert_eq!(grid.normal(), [0.0, 0.0, 1.0]);
    assert_eq!(
        grid.series_instance_uid(),
        expected["axial"]["series_instance_uid"].as_str()
    );
    assert_eq!(
        grid.voxel_centre_mm(1, 2, 3),
        [-31.5 + 3.0 * 0.9765625, -40.25 + 2.0 * 0.9765625, 15.0]
    );
    let spacing = grid.spacing();
    assert_eq!(spacing.as_array(), [2.5, 0.9765625, 0.9765625]);
}

#[test]
fn rtstruct_matches_the_python_rasterisation() {
    let set = read_rtstruct(data("rtstruct.dcm"), &axial_grid()).expect("the RTSTRUCT reads");
    check("axial RTSTRUCT", &set, &expected()["axial"]);
    assert_eq!(set.names(), ["GTV", "Esophagus", "Lungs", "LT PAROTID"]);
    assert_eq!(
        set.structures.iter().map(|s| s.number).collect::<Vec<_>>(),
        [1, 2, 3, 5]
    );
    assert_eq!(
        set.warnings,
        [
            "ROI 4 'Isocenter': 1 contour(s) skipped because they enclose no area (1 POINT)",
            "ROI 4 'Isocenter' has no CLOSED_PLANAR contour and is left out",
            "ROI 5 'LT PAROTID': 1 contour(s) skipped because they enclose no area (1 OPEN_PLANAR)",
        ]
    );
}

#[test]
fn one_roi_at_a_time_equals_the_whole_set() {
    let grid = axial_grid();
    let rtstruct = RtStruct::parse(data("rtstruct.dcm")).expect("parses");
    let set = rtstruct.rasterise(&grid).expect("rasterises");
    for structure in &set.structures {
        let one = rtstruct
            .rasterise_roi(&grid, structure.number)
            .expect("rasterises")
            .expect("an ROI with contours");
        assert_eq!(&one, structure);
    }
    assert_eq!(
        rtstruct.rasterise_roi(&grid, 4).expect("no error"),
        None,
        "a POINT ROI"
    );
    assert_eq!(
        rtstruct.rasterise_roi(&grid, 99).expect("no error"),
        None,
        "no such ROI"
    );
}

#[test]
fn rtstruct_summary_and_contours() {
    let rtstruct = RtStruct::parse(data("rtstruct.dcm")).expect("parses");
    let summary = rtstruct.summary();
    assert_eq!(summary.label.as_deref(), Some("Vigil test"));
    assert_eq!(
        summary.referenced_series_instance_uid.as_deref(),
        expected()["axial"]["series_instance_uid"].as_str()
    );
    let counts: Vec<(&str, usize, usize)> = summary
        .rois
        .iter()
        .map(|roi| (roi.name.as_str(), roi.closed_contours, roi.skipped_contours))
        .collect();
    assert_eq!(
        counts,
        [
            ("GTV", 10, 0),
            ("Esophagus", 14, 0),
            ("Lungs", 14, 0),
            ("Isocenter", 0, 1),
            ("LT PAROTID", 5, 1)
        ]
    );
    let hole = &rtstruct.rois()[1];
    assert_eq!(hole.contours[0].points_mm.len(), 36);
    assert_eq!(hole.contours[1].points_mm.len(), 20);
}

#[test]
fn from_bytes_equals_parse() {
    let bytes = std::fs::read(data("rtstruct.dcm")).expect("readable");
    let from_bytes = RtStruct::from_bytes(&bytes).expect("parses from memory");
    // Without the 128-byte preamble as well.
    let without_preamble = RtStruct::from_bytes(&bytes[128..]).expect("parses without preamble");
    let parsed = RtStruct::parse(data("rtstruct.dcm")).expect("parses");
    assert_eq!(from_bytes, parsed);
    assert_eq!(without_preamble, parsed);
}

#[test]
fn oblique_series_rasterises_in_its_own_index_space() {
    let grid = ImageGrid::from_series_dir(data("oblique_ct")).expect("the oblique CT reads");
    assert_eq!(grid.dims(), [8, 40, 48]);
    assert_eq!(grid.pixel_spacing_mm(), [1.1, 0.9]);
    assert!((grid.slice_spacing_mm() - 3.0).abs() < 1e-5);
    let normal = grid.normal();
    assert!(normal[2] < 0.99, "the series is not axial: {normal:?}");
    let set = read_rtstruct(data("oblique_rtstruct.dcm"), &grid).expect("the RTSTRUCT reads");
    let expected = expected();
    let mut oblique = expected["oblique"].clone();
    // The slice spacing is recovered from 6-decimal positions: compare it loosely.
    oblique["spacing_mm"][0] = serde_json::json!(grid.slice_spacing_mm());
    check("oblique RTSTRUCT", &set, &oblique);
}

fn same_masks(case: &str, actual: &StructureSet, reference: &StructureSet, names: &[&str]) {
    assert_eq!(
        actual.structures.len(),
        reference.structures.len(),
        "{case}: structure count"
    );
    for ((structure, wanted), name) in actual
        .structures
        .iter()
        .zip(&reference.structures)
        .zip(names)
    {
        assert_eq!(structure.name, *name, "{case}: name");
        assert_eq!(
            structure.mask.dims(),
            wanted.mask.dims(),
            "{case}, {name}: dims"
        );
        let spacing = structure.mask.spacing().as_array();
        for (a, b) in spacing.iter().zip(wanted.mask.spacing().as_array()) {
            assert!((a - b).abs() < 1e-9, "{case}, {name}: spacing {spacing:?}");
        }
        assert_eq!(
            structure.mask.voxels(),
            wanted.mask.voxels(),
            "{case}, {name}: voxels"
        );
    }
}

#[test]
fn seg_gives_the_rtstruct_masks() {
    let reference = read_rtstruct(data("rtstruct.dcm"), &axial_grid()).expect("RTSTRUCT");
    let seg = read_seg(data("seg.dcm")).expect("the SEG reads");
    same_masks(
        "SEG",
        &seg,
        &reference,
        &["GTV", "Esophagus", "Lungs", "LT PAROTID"],
    );
    assert_eq!(
        seg.structures.iter().map(|s| s.number).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    let grid = seg.grid.as_ref().expect("a SEG has a grid");
    let ct = axial_grid();
    assert_eq!(grid.dims(), ct.dims());
    assert_eq!(grid.origin_mm(), ct.origin_mm());
    assert!(seg.warnings.is_empty(), "{:?}", seg.warnings);
}

#[test]
fn sparse_seg_spans_its_frames_and_fits_the_ct_grid() {
    let ct = axial_grid();
    let reference = read_rtstruct(data("rtstruct.dcm"), &ct).expect("RTSTRUCT");
    let names = ["GTV", "Esophagus", "Lungs", "LT PAROTID"];
    // On its own grid the SEG spans slices 1 to 10 of the CT, where its
    // non-empty frames are.
    let sparse = read_seg(data("seg_sparse.dcm")).expect("the sparse SEG reads");
    let grid = sparse.grid.as_ref().expect("grid");
    assert_eq!(grid.dims(), [10, 64, 64]);
    assert_eq!(grid.slice_positions_mm()[0], 15.0);
    let plane = 64 * 64;
    for (structure, wanted) in sparse.structures.iter().zip(&reference.structures) {
        assert_eq!(
            structure.mask.voxels(),
            &wanted.mask.voxels()[plane..11 * plane],
            "{}",
            structure.name
        );
    }
    // On the CT grid it gives the RTSTRUCT masks exactly.
    let on_ct = read_seg_on_grid(data("seg_sparse.dcm"), &ct).expect("fits the CT grid");
    same_masks("sparse SEG on the CT grid", &on_ct, &reference, &names);
    // The oblique CT is not the SEG's grid.
    let oblique = ImageGrid::from_series_dir(data("oblique_ct")).expect("oblique CT");
    let error = read_seg_on_grid(data("seg_sparse.dcm"), &oblique).expect_err("another grid");
    assert!(
        error.to_string().contains("Rows is 64 in the SEG but 40"),
        "{error}"
    );
}

#[test]
fn fractional_seg_thresholds_at_one_half() {
    let reference = read_rtstruct(data("rtstruct.dcm"), &axial_grid()).expect("RTSTRUCT");
    let fractional = read_seg(data("seg_fractional.dcm")).expect("the fractional SEG reads");
    same_masks(
        "fractional SEG",
        &fractional,
        &reference,
        &["GTV", "Esophagus", "Lungs", "LT PAROTID"],
    );
}

#[test]
fn nifti_gives_the_rtstruct_masks() {
    let reference = read_rtstruct(data("rtstruct.dcm"), &axial_grid()).expect("RTSTRUCT");
    let nifti = read_nifti_labels(data("labels.nii.gz")).expect("the label map reads");
    same_masks(
        "NIfTI",
        &nifti,
        &reference,
        &["label-1", "label-2", "label-3", "label-5"],
    );
    assert_eq!(
        nifti
            .structures
            .iter()
            .map(|s| s.number)
            .collect::<Vec<_>>(),
        [1, 2, 3, 5]
    );
    assert!(nifti.grid.is_none());
}

#[test]
fn nifti_uncompressed_equals_compressed() {
    use std::io::Read;
    let compressed = std::fs::read(data("labels.nii.gz")).expect("readable");
    let mut raw = Vec::new();
    flate2_free_gunzip(&compressed, &mut raw);
    let plain = vigil_structures::read_nifti_labels_from_bytes(&raw, "labels.nii").expect("reads");
    let gz = read_nifti_labels(data("labels.nii.gz")).expect("reads");
    assert_eq!(plain, gz);

    /// Gunzip through the reader itself is what is under test, so decompress
    /// with the standard library's help only: gzip via `std::process` is not
    /// portable, hence a tiny use of the same crate the reader uses.
    fn flate2_free_gunzip(bytes: &[u8], out: &mut Vec<u8>) {
        let mut decoder = flate2::read::GzDecoder::new(bytes);
        decoder.read_to_end(out).expect("gunzip");
    }
}

#[test]
fn pydicom_rtstruct_parses_without_an_image() {
    let rtstruct =
        RtStruct::parse(data("pydicom_rtstruct.dcm")).expect("pydicom's rtstruct.dcm parses");
    let summary: Vec<(i64, &str, usize, usize, usize)> = rtstruct
        .summary()
        .rois
        .iter()
        .map(|roi| {
            (
                roi.number,
                roi.name.as_str(),
                roi.closed_contours,
                roi.skipped_contours,
                roi.points,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, "patient", 3, 0, 17),
            (2, "Isocenter 1", 0, 1, 0),
            (3, "Isocenter 2", 0, 1, 0)
        ]
    );
    assert_eq!(
        rtstruct.summary().referenced_series_instance_uid.as_deref(),
        Some("1.2.826.0.1.3680043.8.498.2010020400001.2.1.1")
    );
}

#[test]
fn pydicom_rtstruct_rasterises_on_a_made_up_grid() {
    // Its three rectangles (400 × 300 mm at z = −200, −190, −180) cover the
    // whole of a small grid centred on the origin.
    let rtstruct = RtStruct::parse(data("pydicom_rtstruct.dcm")).expect("parses");
    let geometry = vigil_structures::SliceGeometry {
        orientation: [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
        pixel_spacing_mm: [1.0, 1.0],
        rows: 16,
        columns: 16,
    };
    let positions = [
        [-8.0, -8.0, -200.0],
        [-8.0, -8.0, -190.0],
        [-8.0, -8.0, -180.0],
    ];
    let grid = ImageGrid::new(geometry, &positions, None).expect("grid");
    let set = rtstruct.rasterise(&grid).expect("rasterises");
    assert_eq!(set.names(), ["patient"]);
    let mask: &Mask = &set.structures[0].mask;
    assert_eq!(mask.voxel_count(), 3 * 16 * 16);
    assert_eq!(set.warnings.len(), 4, "{:?}", set.warnings);
}
