//! Live monitoring of a deployed clinical AI tool.
//!
//! [`events`] reads a batch of inference events (NDJSON or CSV) and
//! validates it whole before anything is stored: every bad value is named
//! by row and field, case identifiers are pseudonymised on arrival with the
//! Trust's key, and a batch is either accepted entire or refused entire.
//! [`aggregate`] folds events into per-day, per-model-version aggregates
//! (counts, a score histogram, decision counts, metadata category counts)
//! that merge by addition, so that the sum of two sites' aggregates is the
//! region's and rules never rescan raw events.
//!
//! [`rules`] reads a deployment's monitoring rules (TOML or JSON) and makes
//! the defaults of go-live; [`assess`] judges them on the aggregates, each
//! verdict with its evidence.
//!
//! The crate does no I/O: callers hand it bytes and store what it returns.

pub mod aggregate;
pub mod assess;
pub mod events;
pub mod outcomes;
pub mod productivity;
pub mod rows;
pub mod rules;

pub use aggregate::{
    CountedProportion, DayAggregate, DayKey, EventSummary, InconsistentAggregate,
    LABELLED_SCORE_BINS, MAXIMUM_CATEGORY_VALUES, OTHER_VALUES, OutcomeCounts, SCORE_BINS,
    aggregate_by_day, aggregate_with_outcomes, apply_outcome_change, utc_day,
};
pub use assess::{
    Assessment, ControlKind, ControlPoint, ControlTrace, Days, Evidence, Verdict, assess,
    control_trace,
};
pub use events::{Event, EventBatch, Metadata, Sex, parse_batch};
pub use outcomes::{CaseTruth, Outcome, OutcomeBatch, OutcomeSource, parse_outcomes};
pub use rows::{BatchError, EventFormat, RowError};
pub use rules::{Baseline, Rule, RuleSet, RulesError};
