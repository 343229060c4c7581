//! An event's content hash is stored with it, and an event resent under
//! the same id must hash the same to be taken for a duplicate rather than
//! refused as changed: the text hashed is pinned here, so that a change to
//! how events are encoded cannot silently turn every resent event of an
//! existing database into a conflict.

use jiff::Timestamp;
use vigil_store::rows::sha256_hex;
use vigil_store::sql::event_rows;
use vigil_store::vigil_monitor::{EventFormat, parse_batch};

/// Parses one NDJSON event (without a key: the case is already a pseudonym)
/// and checks the hash its row carries, with the day and time as stored.
fn check(line: &str, hashed_text: &str, occurred_at: &str, day: &str) {
    let events = parse_batch(
        line.as_bytes(),
        EventFormat::Ndjson,
        None,
        Timestamp::from_second(1_800_000_000).expect("time"),
    )
    .expect("a valid event")
    .events;
    let rows = event_rows(&events);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].content, hashed_text, "{line}");
    assert_eq!(rows[0].content_sha256, sha256_hex(hashed_text));
    assert_eq!(rows[0].occurred_at, occurred_at);
    assert_eq!(rows[0].day, day);
}

#[test]
fn the_hashed_content_of_an_event_keeps_its_form() {
    check(
        r#"{"event_id": "e1", "case_id": "psn:0123456789abcdef0123456789abcdef", "occurred_at": "2026-11-30T23:15:00+01:00", "model_version": "2.3.0", "score": 0.91, "decision": "positive", "scanner_manufacturer": "Siemens", "scanner_model": "Ysio Max", "protocol": "CXR PA", "slice_thickness_mm": 2.5, "kvp": 125, "age_band": "40-59", "sex": "F", "site": "rw3-main"}"#,
        r#"["e1","psn:0123456789abcdef0123456789abcdef","2026-11-30T22:15:00.000000Z","2026-11-30","2.3.0",0.91,1,"Siemens","Ysio Max","CXR PA",2.5,125.0,"40-59","female","rw3-main""#,
        "2026-11-30T22:15:00.000000Z",
        "2026-11-30",
    );
    check(
        r#"{"event_id": "e2", "case_id": "psn:0123456789abcdef0123456789abcdef", "occurred_at": "2026-12-01T00:30:00Z", "model_version": "2.3.0", "decision": "negative"}"#,
        r#"["e2","psn:0123456789abcdef0123456789abcdef","2026-12-01T00:30:00.000000Z","2026-12-01","2.3.0",null,0,null,null,null,null,null,null,null,null"#,
        "2026-12-01T00:30:00.000000Z",
        "2026-12-01",
    );
}
