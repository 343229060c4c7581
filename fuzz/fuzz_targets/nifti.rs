//! Fuzzes the NIfTI-1 label-map reader (plain and gzip): any bytes give a
//! structure set or a `StructuresError`, never a panic or an allocation
//! the header's counts were not checked for.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(set) = vigil_structures::read_nifti_labels_from_bytes(data, "fuzz input") else {
        return;
    };
    for structure in &set.structures {
        assert!(structure.number > 0, "label 0 is background");
        assert!(!structure.mask.is_empty());
    }
});
