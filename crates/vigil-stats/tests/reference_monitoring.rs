//! Known-answer tests of the monitoring statistics (drift, funnel limits and
//! confidence-based performance estimation) against SciPy, NumPy and
//! scikit-learn; fixtures from `tests/reference/generate.py`, definitions in
//! `tests/reference/README.md`.

mod common;

use common::{check, fixtures, number, numbers, section};
use serde_json::Value;
use vigil_stats::cbpe::estimate_performance;
use vigil_stats::control::funnel_limits;
use vigil_stats::drift::{
    KsMethod, KsPValueMethod, chi_square_contingency, jensen_shannon_distance, kolmogorov_smirnov,
    population_stability_index, wasserstein_distance,
};

/// Where the definitions are identical the results must agree to 1e-9.
const SAME_DEFINITION: f64 = 1e-9;

fn name(case: &Value) -> &str {
    case["name"].as_str().expect("every case has a name")
}

fn count(case: &Value, key: &str) -> u64 {
    case[key]
        .as_u64()
        .unwrap_or_else(|| panic!("case {} has no whole number {key:?}", name(case)))
}

#[test]
fn kolmogorov_smirnov_matches_scipy() {
    let all = fixtures();
    let cases = section(&all, "ks");
    assert!(!cases.is_empty());
    for case in cases {
        let case_name = name(case);
        let a = numbers(&case["a"]);
        let b = numbers(&case["b"]);
        let exact = kolmogorov_smirnov(&a, &b, KsMethod::Exact).expect("valid samples");
        assert_eq!(exact.method, KsPValueMethod::Exact, "{case_name}");
        check(
            case_name,
            "statistic",
            exact.statistic,
            number(case, "statistic"),
            SAME_DEFINITION,
        );
        check(
            case_name,
            "exact p",
            exact.p_value,
            number(case, "p_exact"),
            SAME_DEFINITION,
        );

        let asymptotic = kolmogorov_smirnov(&a, &b, KsMethod::Asymptotic).expect("valid samples");
        assert_eq!(asymptotic.method, KsPValueMethod::Asymptotic, "{case_name}");
        assert_eq!(asymptotic.statistic, exact.statistic, "{case_name}");
        check(
            case_name,
            "asymptotic p",
            asymptotic.p_value,
            number(case, "p_asymptotic"),
            SAME_DEFINITION,
        );

        // Every fixture has m·n ≤ 10⁷, so the automatic choice is exact.
        let automatic = kolmogorov_smirnov(&a, &b, KsMethod::Auto).expect("valid samples");
        assert_eq!(automatic, exact, "{case_name}");
    }
}

#[test]
fn chi_square_matches_scipy() {
    let all = fixtures();
    let cases = section(&all, "chi_square");
    assert!(!cases.is_empty());
    for case in cases {
        let case_name = name(case);
        let table: Vec<Vec<u64>> = case["table"]
            .as_array()
            .expect("a table of rows")
            .iter()
            .map(|row| {
                row.as_array()
                    .expect("a row of counts")
                    .iter()
                    .map(|cell| cell.as_u64().expect("a count"))
                    .collect()
            })
            .collect();
        let test = chi_square_contingency(&table).expect("valid table");
        check(
            case_name,
            "statistic",
            test.statistic,
            number(case, "statistic"),
            SAME_DEFINITION,
        );
        check(
            case_name,
            "p-value",
            test.p_value,
            number(case, "p_value"),
            SAME_DEFINITION,
        );
        assert_eq!(
            test.degrees_of_freedom,
            count(case, "dof"),
            "{case_name}: dof"
        );
    }
}

#[test]
fn jensen_shannon_matches_scipy() {
    let all = fixtures();
    let cases = section(&all, "jensen_shannon");
    assert!(!cases.is_empty());
    for case in cases {
        let case_name = name(case);
        let distance =
            jensen_shannon_distance(&numbers(&case["p"]), &numbers(&case["q"])).expect("valid");
        check(
            case_name,
            "distance",
            distance,
            number(case, "distance_base2"),
            SAME_DEFINITION,
        );
    }
}

#[test]
fn wasserstein_matches_scipy() {
    let all = fixtures();
    let cases = section(&all, "wasserstein");
    assert!(!cases.is_empty());
    for case in cases {
        let case_name = name(case);
        let distance =
            wasserstein_distance(&numbers(&case["a"]), &numbers(&case["b"])).expect("valid");
        check(
            case_name,
            "distance",
            distance,
            number(case, "distance"),
            SAME_DEFINITION,
        );
    }
}

#[test]
fn population_stability_index_matches_numpy() {
    let all = fixtures();
    let cases = section(&all, "psi");
    assert!(!cases.is_empty());
    for case in cases {
        let case_name = name(case);
        let bins = usize::try_from(count(case, "bins")).expect("a small number of bins");
        let psi = population_stability_index(
            &numbers(&case["reference"]),
            &numbers(&case["current"]),
            bins,
            number(case, "epsilon"),
        )
        .expect("valid samples");
        check(
            case_name,
            "psi",
            psi.value,
            number(case, "psi"),
            SAME_DEFINITION,
        );
        assert_eq!(psi.bins.len(), bins, "{case_name}: bins");
    }
}

#[test]
fn funnel_limits_match_scipy() {
    let all = fixtures();
    let cases = section(&all, "funnel");
    assert!(!cases.is_empty());
    for case in cases {
        let case_name = name(case);
        let limits = funnel_limits(
            number(case, "target"),
            count(case, "n"),
            number(case, "level"),
        )
        .expect("valid parameters");
        check(
            case_name,
            "low",
            limits.low,
            number(case, "low"),
            SAME_DEFINITION,
        );
        check(
            case_name,
            "high",
            limits.high,
            number(case, "high"),
            SAME_DEFINITION,
        );
    }
}

#[test]
fn cbpe_matches_the_definition_and_scikit_learn() {
    let all = fixtures();
    let cases = section(&all, "cbpe");
    assert!(!cases.is_empty());
    for case in cases {
        let case_name = name(case);
        let estimate = estimate_performance(&numbers(&case["scores"]), number(case, "threshold"))
            .expect("valid");
        let defined = |value: Option<f64>, what: &str| {
            value.unwrap_or_else(|| panic!("{case_name}: {what} is undefined"))
        };
        check(
            case_name,
            "sensitivity",
            defined(estimate.sensitivity, "sensitivity"),
            number(case, "sensitivity"),
            SAME_DEFINITION,
        );
        check(
            case_name,
            "specificity",
            defined(estimate.specificity, "specificity"),
            number(case, "specificity"),
            SAME_DEFINITION,
        );
        check(
            case_name,
            "ppv",
            defined(estimate.ppv, "ppv"),
            number(case, "ppv"),
            SAME_DEFINITION,
        );
        check(
            case_name,
            "auc",
            defined(estimate.auc, "auc"),
            number(case, "auc"),
            SAME_DEFINITION,
        );
    }
}
