//! Fuzzes the DICOM SEG reader: any bytes give a structure set or a
//! `StructuresError`, never a panic, and every mask of an accepted set has
//! the set's grid.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(set) = vigil_structures::read_seg_from_bytes(data) else {
        return;
    };
    if let Some(first) = set.structures.first() {
        for structure in &set.structures {
            assert_eq!(structure.mask.dims(), first.mask.dims());
        }
    }
});
