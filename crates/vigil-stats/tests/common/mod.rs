//! Shared loading and comparison for the known-answer tests.
//!
//! The fixtures are produced by `tests/reference/generate.py` from
//! scikit-learn, SciPy and R (pROC, rms); see `tests/reference/README.md`.

#![allow(dead_code)]

use serde_json::Value;

/// The whole fixture document.
pub fn fixtures() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/fixtures.json");
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"));
    serde_json::from_str(&text).expect("fixtures.json is valid JSON")
}

/// The list of cases in one section of the fixtures.
pub fn section<'a>(fixtures: &'a Value, name: &str) -> &'a [Value] {
    fixtures[name]
        .as_array()
        .unwrap_or_else(|| panic!("fixtures.json has no section {name:?}"))
}

pub fn number(case: &Value, key: &str) -> f64 {
    case[key]
        .as_f64()
        .unwrap_or_else(|| panic!("case {} has no number {key:?}", case["name"]))
}

pub fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .expect("an array of numbers")
        .iter()
        .map(|v| v.as_f64().expect("a number"))
        .collect()
}

/// Asserts `actual` agrees with `expected` to a relative tolerance, with an
/// absolute floor for values near zero.
#[track_caller]
pub fn check(case: &str, quantity: &str, actual: f64, expected: f64, relative: f64) {
    let absolute_floor = 1e-14;
    let difference = (actual - expected).abs();
    let allowed = relative * expected.abs().max(actual.abs()) + absolute_floor;
    assert!(
        difference <= allowed,
        "{case}: {quantity} = {actual:.17e}, reference {expected:.17e} (difference {difference:.3e}, allowed {allowed:.3e})"
    );
}

/// Element-wise [`check`] of two equally long sequences.
#[track_caller]
pub fn check_all(case: &str, quantity: &str, actual: &[f64], expected: &[f64], relative: f64) {
    assert_eq!(
        actual.len(),
        expected.len(),
        "{case}: {quantity} has {} values, reference {}",
        actual.len(),
        expected.len()
    );
    for (index, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        check(case, &format!("{quantity}[{index}]"), a, e, relative);
    }
}
