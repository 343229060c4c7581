//! Fuzzes the outcome batch reader (NDJSON and CSV): any bytes give a
//! validated batch or a `BatchError`, never a panic, and an accepted batch
//! keeps only pseudonyms, one outcome a case and source, and reader
//! agreement only on a reader's outcome.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_domain::PseudonymKey;
use vigil_monitor::{EventFormat, OutcomeSource, parse_outcomes};

fuzz_target!(|data: &[u8]| {
    let key = PseudonymKey::from_bytes([3; 32]);
    let arrival = jiff::Timestamp::from_second(1_800_000_000).expect("time");
    for format in [EventFormat::Ndjson, EventFormat::Csv] {
        if let Ok(batch) = parse_outcomes(data, format, Some(&key), arrival) {
            let mut seen = std::collections::HashSet::new();
            for outcome in &batch.outcomes {
                assert!(outcome.case.as_str().starts_with("psn:"));
                assert!(seen.insert((outcome.case.clone(), outcome.source)));
                assert!(
                    outcome.reader_agrees.is_none() || outcome.source == OutcomeSource::Reader
                );
            }
        }
    }
});
