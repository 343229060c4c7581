//! Fuzzes the case-table CSV reader: any bytes give a table or a `LoadError`,
//! never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_evaluation::cases::{CaseTable, CaseTableSpec};

fuzz_target!(|data: &[u8]| {
    let spec = CaseTableSpec {
        compare_column: Some("b".to_owned()),
        subgroup_columns: vec!["g".to_owned()],
        drop_missing: data.first().is_some_and(|byte| byte & 1 == 1),
        ..CaseTableSpec::default()
    };
    if let Ok(table) = CaseTable::read(data, "fuzz.csv", &spec, &mut |_| {}) {
        assert_eq!(table.scores.len(), table.labels.len());
        assert!(table.scores.iter().all(|score| score.is_finite()));
    }
});
