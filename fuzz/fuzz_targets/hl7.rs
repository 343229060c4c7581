//! Fuzzes HL7 v2 reading: any bytes give a message (and its readings and
//! ACK) or an error, never a panic; the ACK is one MSH and one MSA segment.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_fhir::hl7::{AckCode, Message, ack, read_oru};

const ROUTES: &str = r#"
[[route]]
deployment = 1
positive = ["SCT:50960005"]
source = "report"
"#;

fuzz_target!(|data: &[u8]| {
    let routes = vigil_fhir::Routes::from_toml(ROUTES).expect("routes");
    let key = vigil_domain::PseudonymKey::from_bytes([1; 32]);
    let at = jiff::Timestamp::from_second(1_790_000_000).expect("time");
    let message = Message::parse(data).ok();
    if let Some(message) = &message {
        let _ = read_oru(message, &routes, &key, &jiff::tz::TimeZone::UTC, at);
    }
    let answer = ack(message.as_ref(), AckCode::Error, "fuzz", at);
    let text = String::from_utf8(answer).expect("an ACK is text");
    assert_eq!(text.matches('\r').count(), 2, "{text:?}");
});
