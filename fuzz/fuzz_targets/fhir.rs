//! Fuzzes FHIR reading: any bytes give readings or an error, never a panic;
//! every outcome's case is a pseudonym.

#![no_main]

use libfuzzer_sys::fuzz_target;

const ROUTES: &str = r#"
[[route]]
deployment = 1
positive = ["SCT:50960005"]
negative = ["SCT:281900007"]
source = "report"
"#;

fuzz_target!(|data: &[u8]| {
    let routes = vigil_fhir::Routes::from_toml(ROUTES).expect("routes");
    let key = vigil_domain::PseudonymKey::from_bytes([1; 32]);
    let at = jiff::Timestamp::from_second(1_790_000_000).expect("time");
    if let Ok(readings) = vigil_fhir::read_outcomes(data, &routes, &key, at) {
        for reading in readings {
            for (_, outcome) in reading.result.unwrap_or_default() {
                assert!(vigil_domain::is_pseudonym(outcome.case.as_str()));
            }
        }
    }
});
