//! Fuzzes the STOW-RS multipart/related parser: any content type and body
//! give parts that lie within the body, or an error; never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|byte| *byte == b'\n').unwrap_or(data.len());
    let content_type = String::from_utf8_lossy(&data[..split]);
    let body = data.get(split + 1..).unwrap_or_default();
    let Ok(boundary) = vigil_dicom::multipart::boundary(&content_type) else {
        return;
    };
    if let Ok(parts) = vigil_dicom::multipart::parts(body, &boundary) {
        let range = body.as_ptr_range();
        for part in parts {
            let inner = part.body.as_ptr_range();
            assert!(range.start <= inner.start && inner.end <= range.end);
        }
    }
});
