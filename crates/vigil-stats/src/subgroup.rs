//! Splitting a sample by a categorical column, with a minimum-size guard.

use std::collections::BTreeMap;

/// A value computed only when the group is large enough.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Guarded<T> {
    /// The group met the minimum size.
    Estimate(T),
    /// Too few cases (or too few of one class) to report a number.
    InsufficientData { n: usize, minimum: usize },
}

impl<T> Guarded<T> {
    /// Computes `value` when `n ≥ minimum`, otherwise records why not.
    pub fn when_at_least(n: usize, minimum: usize, value: impl FnOnce() -> T) -> Self {
        if n >= minimum {
            Guarded::Estimate(value())
        } else {
            Guarded::InsufficientData { n, minimum }
        }
    }

    pub fn estimate(&self) -> Option<&T> {
        match self {
            Guarded::Estimate(value) => Some(value),
            Guarded::InsufficientData { .. } => None,
        }
    }
}

/// Row indices of each distinct category, categories in sorted order.
pub fn partition<'k>(categories: impl IntoIterator<Item = &'k str>) -> Vec<(&'k str, Vec<usize>)> {
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, category) in categories.into_iter().enumerate() {
        groups.entry(category).or_default().push(index);
    }
    groups.into_iter().collect()
}
