//! Fuzzes the RTSTRUCT reader: any bytes give a structure set or a
//! `StructuresError`, never a panic, and an accepted structure set
//! rasterises onto a small grid without a panic either.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_structures::{ImageGrid, RtStruct, SliceGeometry};

fuzz_target!(|data: &[u8]| {
    let Ok(rtstruct) = RtStruct::from_bytes(data) else {
        return;
    };
    let summary = rtstruct.summary();
    assert_eq!(summary.rois.len(), rtstruct.rois().len());
    for roi in rtstruct.rois() {
        for contour in &roi.contours {
            assert!(!contour.points_mm.is_empty());
            assert!(contour.points_mm.iter().flatten().all(|v| v.is_finite()));
        }
    }
    let geometry = SliceGeometry {
        orientation: [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
        pixel_spacing_mm: [2.0, 2.0],
        rows: 16,
        columns: 16,
    };
    let positions: Vec<[f64; 3]> = (0..4).map(|k| [-16.0, -16.0, 2.5 * k as f64]).collect();
    let grid = ImageGrid::new(geometry, &positions, None).expect("a valid grid");
    if let Ok(set) = rtstruct.rasterise(&grid) {
        for structure in &set.structures {
            assert_eq!(structure.mask.dims(), grid.dims());
        }
    }
});
