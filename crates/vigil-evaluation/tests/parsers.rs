//! The parsers of outside input never panic, and what they accept keeps the
//! invariants the statistics rely on.

use proptest::prelude::*;
use vigil_evaluation::cases::{CaseTable, CaseTableSpec};
use vigil_evaluation::protocol::Protocol;

fn spec() -> CaseTableSpec {
    CaseTableSpec {
        compare_column: Some("b".to_owned()),
        subgroup_columns: vec!["g".to_owned()],
        ..CaseTableSpec::default()
    }
}

/// CSV-like text built from the characters that matter to the reader.
fn csv_like() -> impl Strategy<Value = String> {
    let cell = prop_oneof![
        Just(String::new()),
        Just("NA".to_owned()),
        Just("nan".to_owned()),
        Just("inf".to_owned()),
        Just("1e308".to_owned()),
        Just("-0".to_owned()),
        "[01]",
        "(true|false|yes|no|x)",
        "-?[0-9]{1,3}\\.[0-9]{0,4}",
        "\"[a-z,\n]{0,4}\"",
        "[ -~]{0,6}",
    ];
    let row = proptest::collection::vec(cell, 1..5).prop_map(|cells| cells.join(","));
    (
        prop_oneof![
            Just("label,score,b,g".to_owned()),
            Just("score,label,g,b,extra".to_owned()),
            "[a-z,]{0,12}"
        ],
        proptest::collection::vec(row, 0..12),
    )
        .prop_map(|(header, rows)| {
            let mut text = header;
            for row in rows {
                text.push('\n');
                text.push_str(&row);
            }
            text
        })
}

proptest! {
    #[test]
    fn the_case_reader_never_panics(text in csv_like(), drop_missing in any::<bool>()) {
        let spec = CaseTableSpec { drop_missing, ..spec() };
        if let Ok(table) = CaseTable::read(text.as_bytes(), "cases.csv", &spec, &mut |_| {}) {
            prop_assert_eq!(table.scores.len(), table.labels.len());
            prop_assert!(table.scores.iter().all(|score| score.is_finite()));
            prop_assert!(table.labels.iter().any(|&label| label));
            prop_assert!(table.labels.iter().any(|&label| !label));
            let compare = table.compare_scores.as_ref().map(Vec::len);
            prop_assert_eq!(compare, Some(table.len()));
            prop_assert!(table.subgroups.iter().all(|column| column.codes.len() == table.len()));
        }
    }

    #[test]
    fn the_case_reader_survives_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = CaseTable::read(bytes.as_slice(), "cases.csv", &spec(), &mut |_| {});
    }

    #[test]
    fn the_protocol_parser_never_panics(text in "[\\[\\]a-z_=\"\\.\\*<>0-9 \n,]{0,200}") {
        let _ = Protocol::parse(&text, "protocol.toml");
    }

    #[test]
    fn criteria_round_trip_through_their_text(
        metric in "(auc|sensitivity|specificity|ppv|npv|accuracy)",
        field in "(estimate|ci_low|ci_high)",
        operator in "(>=|<=|>|<)",
        bound in 0.0_f64..1.0,
    ) {
        let text = format!("[acceptance]\ncriteria = [\"{metric}.{field} {operator} {bound}\"]\n");
        let protocol = Protocol::parse(&text, "protocol.toml").expect("a valid criterion parses");
        prop_assert_eq!(protocol.criteria.len(), 1);
        prop_assert_eq!(protocol.criteria[0].bound, bound);
        prop_assert_eq!(&protocol.criteria[0].text, &format!("{metric}.{field} {operator} {bound}"));
    }
}
