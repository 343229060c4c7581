//! Fuzzes DICOM reading and routing as the listener and STOW-RS do it: any
//! bytes, as a Part 10 file or as a bare data set in each transfer syntax,
//! give a routed instance or an error, never a panic, and an instance's
//! identifiers are pseudonyms.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_dicom::{Arrival, ReadLimits, Routes};

const ROUTES: &str = r#"
[[route]]
deployment = 1
score = "DCM:111047"
decision = "DCM:121071"
positive = ["SCT:263654008"]

[[route]]
deployment = 2
kinds = ["seg", "rtstruct"]
model_version = "fixed:1"
positive_when_segments = true
"#;

fuzz_target!(|data: &[u8]| {
    let routes = Routes::from_toml(ROUTES).expect("routes");
    let key = vigil_domain::PseudonymKey::from_bytes([1; 32]);
    let arrival = Arrival {
        key: &key,
        zone: &jiff::tz::TimeZone::UTC,
        calling_ae_title: "FUZZ",
        received_at: jiff::Timestamp::from_second(1_790_000_000).expect("time"),
        limits: ReadLimits { max_inflated_bytes: 16 << 20 },
    };
    let check = |received: Result<vigil_dicom::Received, vigil_dicom::ReceiveError>| {
        if let Ok(received) = received {
            assert!(vigil_domain::is_pseudonym(received.instance.sop_instance.as_str()));
            assert!(vigil_domain::is_pseudonym(received.instance.study.as_str()));
        }
    };
    check(vigil_dicom::receive_part10(data, &routes, arrival));
    for syntax in [
        "1.2.840.10008.1.2",
        "1.2.840.10008.1.2.1",
        "1.2.840.10008.1.2.2",
        "1.2.840.10008.1.2.1.99",
    ] {
        check(vigil_dicom::receive_data_set(data, syntax, &routes, arrival));
    }
});
