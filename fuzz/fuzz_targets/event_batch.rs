//! Fuzzes the inference-event batch reader (NDJSON and CSV): any bytes give
//! a validated batch or a `BatchError`, never a panic, and an accepted batch
//! keeps only pseudonyms and scores in [0, 1].

#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_domain::PseudonymKey;
use vigil_monitor::{EventFormat, parse_batch};

fuzz_target!(|data: &[u8]| {
    let key = PseudonymKey::from_bytes([3; 32]);
    let arrival = jiff::Timestamp::from_second(1_800_000_000).expect("time");
    for format in [EventFormat::Ndjson, EventFormat::Csv] {
        if let Ok(batch) = parse_batch(data, format, Some(&key), arrival) {
            for event in &batch.events {
                assert!(event.case.as_str().starts_with("psn:"));
                assert!(event.score.is_none_or(|score| (0.0..=1.0).contains(&score)));
            }
        }
    }
});
