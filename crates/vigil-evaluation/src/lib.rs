//! Local validation (acceptance testing) of a classification or triage AI
//! tool on a labelled case table, judged against a protocol written before
//! the data were seen.
//!
//! The flow is: [`cases::CaseTable::read`] parses the CSV (every bad row is a
//! specific [`cases::LoadError`]), [`protocol::Protocol::parse`] reads the
//! TOML protocol, [`evaluate::evaluate`] computes every metric with its
//! interval, and [`evaluate::Evaluation::assess`] checks the acceptance
//! criteria. The [`evaluate::Evaluation`] serialises to the public JSON
//! contract of `vigil evaluate --json`.

pub mod cases;
pub mod evaluate;
pub mod protocol;
pub mod run;
