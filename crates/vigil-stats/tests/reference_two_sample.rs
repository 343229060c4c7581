//! Known-answer tests of the two-sample comparisons (Mann–Whitney U, exact
//! and asymptotic, and the medians) against SciPy and NumPy; fixtures from
//! `tests/reference/generate_two_sample.py`.

mod common;

use common::{check, number, numbers};
use serde_json::Value;
use vigil_stats::ConfidenceLevel;
use vigil_stats::two_sample::{UTestMethod, mann_whitney_u, median_difference};

/// The same definitions must agree to 1e-9 (relative, with no absolute floor
/// for p-values, so that a tiny p-value is checked as closely as a large
/// one).
const SAME_DEFINITION: f64 = 1e-9;

fn cases() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/two_sample.json"
    );
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"));
    let document: Value = serde_json::from_str(&text).expect("two_sample.json is valid JSON");
    document["mann_whitney"]
        .as_array()
        .expect("a list of cases")
        .clone()
}

#[track_caller]
fn check_p(case: &str, quantity: &str, actual: f64, expected: f64) {
    let relative = (actual - expected).abs() / expected.abs().max(f64::MIN_POSITIVE);
    assert!(
        relative <= SAME_DEFINITION,
        "{case}: {quantity} = {actual:.17e}, SciPy {expected:.17e} (relative difference {relative:.3e})"
    );
}

#[test]
fn mann_whitney_matches_scipy() {
    let cases = cases();
    assert!(cases.len() >= 9);
    let mut exact_cases = 0;
    for case in &cases {
        let name = case["name"].as_str().expect("a name");
        let first = numbers(&case["first"]);
        let second = numbers(&case["second"]);
        let asymptotic =
            mann_whitney_u(&first, &second, UTestMethod::Asymptotic).expect("a U test");
        assert_eq!(asymptotic.method, UTestMethod::Asymptotic, "{name}");
        check(name, "U", asymptotic.u_first, number(case, "u_first"), 0.0);
        check(
            name,
            "U of the second sample",
            asymptotic.u_second,
            first.len() as f64 * second.len() as f64 - number(case, "u_first"),
            0.0,
        );
        check_p(
            name,
            "asymptotic p",
            asymptotic.p_value,
            number(case, "p_asymptotic"),
        );
        let automatic = mann_whitney_u(&first, &second, UTestMethod::Automatic).expect("a U test");
        match case.get("p_exact") {
            Some(expected) => {
                exact_cases += 1;
                let expected = expected.as_f64().expect("a number");
                let exact = mann_whitney_u(&first, &second, UTestMethod::Exact).expect("a U test");
                assert_eq!(exact.method, UTestMethod::Exact, "{name}");
                check_p(name, "exact p", exact.p_value, expected);
                // Small samples without ties take the exact path by default.
                assert_eq!(automatic, exact, "{name}");
            }
            None => {
                assert!(
                    mann_whitney_u(&first, &second, UTestMethod::Exact).is_err(),
                    "{name}: tied values have no exact p-value"
                );
                assert_eq!(automatic, asymptotic, "{name}");
            }
        }
        let medians = median_difference(&first, &second, 200, 1, ConfidenceLevel::NINETY_FIVE)
            .expect("a median difference");
        check(
            name,
            "median of the first",
            medians.median_first,
            number(case, "median_first"),
            0.0,
        );
        check(
            name,
            "median of the second",
            medians.median_second,
            number(case, "median_second"),
            0.0,
        );
        assert!(medians.difference.low <= medians.difference.high, "{name}");
    }
    assert!(exact_cases >= 5, "the exact path is exercised");
}
