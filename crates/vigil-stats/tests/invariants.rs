//! Property tests of statistical invariants that hold for any input.

use proptest::prelude::*;
use vigil_stats::bootstrap::{BootstrapConfig, bootstrap};
use vigil_stats::confusion::{ConfusionMatrix, IntervalMethod};
use vigil_stats::interval::Proportion;
use vigil_stats::roc::{SortedByClass, delong, delong_paired};
use vigil_stats::{BinarySample, ConfidenceLevel};

/// Scores on a coarse integer grid (so ties are common and transforms are
/// exact) with labels containing both classes.
fn scored_cases() -> impl Strategy<Value = (Vec<f64>, Vec<bool>)> {
    (2_usize..120).prop_flat_map(|n| {
        (
            proptest::collection::vec((0_u32..40).prop_map(f64::from), n),
            proptest::collection::vec(any::<bool>(), n),
        )
            .prop_filter("both classes", |(_, labels)| {
                labels.iter().any(|&l| l) && labels.iter().any(|&l| !l)
            })
    })
}

/// AUC by counting every positive–negative pair, ties one half.
fn brute_force_auc(scores: &[f64], labels: &[bool]) -> f64 {
    let mut sum = 0.0;
    let mut pairs = 0.0;
    for (i, &x) in scores.iter().enumerate() {
        for (j, &y) in scores.iter().enumerate() {
            if labels[i] && !labels[j] {
                pairs += 1.0;
                sum += if x > y {
                    1.0
                } else if x == y {
                    0.5
                } else {
                    0.0
                };
            }
        }
    }
    sum / pairs
}

fn auc_and_variance(scores: &[f64], labels: &[bool]) -> (f64, f64) {
    let sample = BinarySample::new(scores, labels).expect("valid sample");
    let result = delong(&SortedByClass::new(&sample));
    (result.auc, result.variance)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs()))
}

proptest! {
    #[test]
    fn auc_equals_the_pairwise_count((scores, labels) in scored_cases()) {
        let (auc, _) = auc_and_variance(&scores, &labels);
        prop_assert!(close(auc, brute_force_auc(&scores, &labels)));
    }

    #[test]
    fn reversing_scores_complements_the_auc((scores, labels) in scored_cases()) {
        let reversed: Vec<f64> = scores.iter().map(|s| 1.0 - s).collect();
        let (auc, variance) = auc_and_variance(&scores, &labels);
        let (auc_reversed, variance_reversed) = auc_and_variance(&reversed, &labels);
        prop_assert!(close(auc_reversed, 1.0 - auc));
        prop_assert!(close(variance_reversed, variance));
    }

    #[test]
    fn auc_is_invariant_under_increasing_transforms((scores, labels) in scored_cases()) {
        let transformed: Vec<f64> = scores.iter().map(|s| s * s * s + 3.0 * s - 7.0).collect();
        let (auc, variance) = auc_and_variance(&scores, &labels);
        let (auc_t, variance_t) = auc_and_variance(&transformed, &labels);
        prop_assert!(close(auc, auc_t));
        prop_assert!(close(variance, variance_t));
    }

    #[test]
    fn permuting_rows_changes_nothing((scores, labels) in scored_cases(), seed in any::<u64>()) {
        let mut order: Vec<usize> = (0..scores.len()).collect();
        // A seeded Fisher–Yates shuffle.
        let mut state = seed | 1;
        for i in (1..order.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            order.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let shuffled_scores: Vec<f64> = order.iter().map(|&i| scores[i]).collect();
        let shuffled_labels: Vec<bool> = order.iter().map(|&i| labels[i]).collect();
        let (auc, variance) = auc_and_variance(&scores, &labels);
        let (auc_s, variance_s) = auc_and_variance(&shuffled_scores, &shuffled_labels);
        prop_assert!(close(auc, auc_s));
        prop_assert!(close(variance, variance_s));
        let sample = BinarySample::new(&scores, &labels).expect("valid");
        let shuffled = BinarySample::new(&shuffled_scores, &shuffled_labels).expect("valid");
        prop_assert_eq!(ConfusionMatrix::at_threshold(&sample, 20.0), ConfusionMatrix::at_threshold(&shuffled, 20.0));
    }

    #[test]
    fn intervals_contain_their_estimates((scores, labels) in scored_cases(), level in 0.5_f64..0.999) {
        let level = ConfidenceLevel::new(level).expect("level");
        let sample = BinarySample::new(&scores, &labels).expect("valid");
        let result = delong(&SortedByClass::new(&sample));
        prop_assert!(result.interval(level).contains_estimate());
        let matrix = ConfusionMatrix::at_threshold(&sample, 20.0);
        for method in [IntervalMethod::Wilson, IntervalMethod::ClopperPearson] {
            for rate in [matrix.sensitivity(level, method), matrix.specificity(level, method)].into_iter().flatten() {
                prop_assert!(rate.interval.contains_estimate(), "{:?}", rate);
                prop_assert!(rate.interval.low >= 0.0 && rate.interval.high <= 1.0);
            }
        }
    }

    #[test]
    fn proportion_intervals_are_ordered(successes in 0_u64..500, extra in 0_u64..500) {
        let proportion = Proportion::new(successes, successes + extra.max(1)).expect("valid");
        let exact = proportion.clopper_pearson(ConfidenceLevel::default()).expect("valid beta parameters");
        for interval in [proportion.wilson(ConfidenceLevel::default()), exact] {
            prop_assert!(interval.contains_estimate(), "{:?}", interval);
        }
    }

    #[test]
    fn a_score_compared_with_itself_differs_by_nothing((scores, labels) in scored_cases()) {
        let result = delong_paired(&scores, &scores, &labels).expect("paired");
        prop_assert_eq!(result.difference, 0.0);
        prop_assert_eq!(result.z, 0.0);
        prop_assert_eq!(result.p_value, 1.0);
    }
}

#[test]
fn bootstrap_is_identical_on_one_and_many_threads() {
    let scores: Vec<f64> = (0..3000)
        .map(|i| f64::from((i * 7919) % 1000) / 1000.0)
        .collect();
    let labels: Vec<bool> = (0..3000)
        .map(|i| (i * 31) % 7 < 2 || scores[i] > 0.93)
        .collect();
    let sample = BinarySample::new(&scores, &labels).expect("valid");
    let config = BootstrapConfig::new(400, 20_261_123, ConfidenceLevel::default()).expect("config");
    let run_on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool")
            .install(|| {
                bootstrap(&sample, config, |resample| Some(resample.auc())).expect("bootstrap")
            })
    };
    let one = run_on(1);
    let four = run_on(4);
    assert_eq!(one, four);
    assert!(one.interval.contains_estimate());
    assert_eq!(one.undefined_replicates, 0);
    // A different seed gives different replicates.
    let other_seed = BootstrapConfig::new(400, 1, ConfidenceLevel::default()).expect("config");
    let other = bootstrap(&sample, other_seed, |resample| Some(resample.auc())).expect("bootstrap");
    assert_ne!(one.replicates, other.replicates);
}

#[test]
fn bootstrap_replicate_auc_matches_the_expanded_sample() {
    let scores: Vec<f64> = (0..200).map(|i| f64::from((i * 37) % 50)).collect();
    let labels: Vec<bool> = (0..200).map(|i| (i * 13) % 5 == 0).collect();
    let sample = BinarySample::new(&scores, &labels).expect("valid");
    let config = BootstrapConfig::new(20, 7, ConfidenceLevel::default()).expect("config");
    let checked = std::sync::atomic::AtomicUsize::new(0);
    bootstrap(&sample, config, |resample| {
        let (expanded_scores, expanded_labels) = resample.to_scores_and_labels();
        let direct = brute_force_auc(&expanded_scores, &expanded_labels);
        assert!(
            close(resample.auc(), direct),
            "weighted {} direct {direct}",
            resample.auc()
        );
        let expanded = BinarySample::new(&expanded_scores, &expanded_labels).expect("valid");
        assert_eq!(
            resample.confusion(25.0),
            ConfusionMatrix::at_threshold(&expanded, 25.0)
        );
        checked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(resample.auc())
    })
    .expect("bootstrap");
    assert_eq!(checked.into_inner(), 21);
}

#[test]
fn degenerate_samples_are_typed_errors() {
    use vigil_stats::StatsError;
    assert_eq!(BinarySample::new(&[], &[]).unwrap_err(), StatsError::Empty);
    assert_eq!(
        BinarySample::new(&[0.1, 0.2], &[true, true]).unwrap_err(),
        StatsError::OneClass {
            positives: 2,
            negatives: 0
        }
    );
    assert!(matches!(
        BinarySample::new(&[0.1, f64::NAN], &[true, false]).unwrap_err(),
        StatsError::NonFinite { index: 1, .. }
    ));
    assert!(matches!(
        BinarySample::new(&[0.1], &[true, false]).unwrap_err(),
        StatsError::LengthMismatch { .. }
    ));
    assert!(ConfidenceLevel::new(1.0).is_err());
    assert!(Proportion::new(0, 0).is_err());
    assert!(BootstrapConfig::new(1, 0, ConfidenceLevel::default()).is_err());
}
