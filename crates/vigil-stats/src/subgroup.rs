//! Splitting a sample by a categorical column, with minimum-size guards.

use std::collections::BTreeMap;

/// A value computed only when the group is large enough.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Guarded<T> {
    /// The group met every minimum.
    Estimate(T),
    /// Too few of something to report a number: `n` of `what` (for example
    /// "cases" or "positive cases") against the `minimum`.
    InsufficientData {
        what: &'static str,
        n: usize,
        minimum: usize,
    },
}

impl<T> Guarded<T> {
    /// Computes `value` when `n ≥ minimum`, otherwise records why not.
    pub fn when_at_least(
        what: &'static str,
        n: usize,
        minimum: usize,
        value: impl FnOnce() -> T,
    ) -> Self {
        if n >= minimum {
            Guarded::Estimate(value())
        } else {
            Guarded::InsufficientData { what, n, minimum }
        }
    }

    /// Applies a further guarded step to an estimate; the first guard that
    /// failed is kept.
    pub fn and_then<U>(self, next: impl FnOnce(T) -> Guarded<U>) -> Guarded<U> {
        match self {
            Guarded::Estimate(value) => next(value),
            Guarded::InsufficientData { what, n, minimum } => {
                Guarded::InsufficientData { what, n, minimum }
            }
        }
    }

    pub fn estimate(&self) -> Option<&T> {
        match self {
            Guarded::Estimate(value) => Some(value),
            Guarded::InsufficientData { .. } => None,
        }
    }

    pub fn into_estimate(self) -> Option<T> {
        match self {
            Guarded::Estimate(value) => Some(value),
            Guarded::InsufficientData { .. } => None,
        }
    }
}

/// Row indices of each distinct key, keys in sorted order.
pub fn partition<K: Ord>(keys: impl IntoIterator<Item = K>) -> Vec<(K, Vec<usize>)> {
    let mut groups: BTreeMap<K, Vec<usize>> = BTreeMap::new();
    for (index, key) in keys.into_iter().enumerate() {
        groups.entry(key).or_default().push(index);
    }
    groups.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_failing_guard_is_reported() {
        let guarded = Guarded::when_at_least("cases", 40, 30, || ())
            .and_then(|()| Guarded::when_at_least("positive cases", 3, 5, || ()))
            .and_then(|()| Guarded::when_at_least("negative cases", 0, 5, || 1.0));
        assert_eq!(
            guarded,
            Guarded::InsufficientData {
                what: "positive cases",
                n: 3,
                minimum: 5
            }
        );
        let passed = Guarded::when_at_least("cases", 40, 30, || 2)
            .and_then(|two| Guarded::when_at_least("positive cases", 10, 5, move || two * 3));
        assert_eq!(passed.into_estimate(), Some(6));
    }

    #[test]
    fn partition_groups_rows_by_key_in_order() {
        let groups = partition([(false, "b"), (true, "a"), (false, "a"), (false, "b")]);
        assert_eq!(
            groups,
            vec![
                ((false, "a"), vec![2]),
                ((false, "b"), vec![0, 3]),
                ((true, "a"), vec![1]),
            ]
        );
    }
}
