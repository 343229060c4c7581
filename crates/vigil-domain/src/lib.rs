//! The Vigil domain model: what a clinical AI tool's governance is made of,
//! as types that can only hold valid values.
//!
//! - [`text`]: [`NonEmptyText`] for every name and rationale, [`Code`] for
//!   organisation codes.
//! - [`organisation`]: nation → region → Trust → site, and the
//!   [`OrganisationTree`] that answers "may a user of this organisation see
//!   that one?".
//! - [`product`]: [`Product`], [`ProductVersion`] with its [`ChangeKind`],
//!   and the [`ChangeControlPlan`] (PCCP) that decides which vendor updates
//!   skip re-validation.
//! - [`deployment`]: a version at a site, its [`OperatingThreshold`]s, and
//!   [`state_for_new_version`].
//! - [`role`]: the [`Role`]s people sign in.
//! - [`lifecycle`]: the [`LifecycleState`] machine, the [`SignOffPolicy`], and
//!   [`decide`], which turns a [`TransitionRequest`] into a [`Decision`] or a
//!   [`TransitionError`] that says what is missing.
//! - [`pseudonym`]: keyed [`Pseudonym`]s of patient identifiers and checked
//!   [`NhsNumber`]s.
//! - [`report`]: [`ReportTiming`], when a report on a case was issued (for
//!   turnaround audits).
//!
//! Values are parsed, not validated: each type with a rule has a `parse`
//! (or `new`) that checks it once and private fields, so holding a value
//! means it is valid. Serde goes through the same `parse`, so a stored value
//! that breaks a rule is an error when it is read back, not a surprise later.
//! Every failure is a [`DomainError`] (or a [`TransitionError`] from
//! [`decide`]) whose message names the field and the rule.
//!
//! This crate does no I/O, has no async code and knows no database or JSON:
//! the time of a decision is passed in, and storing is the store's job.

#[macro_use]
mod names;

pub mod deployment;
mod error;
pub mod hazard;
pub mod lifecycle;
pub mod organisation;
pub mod procurement;
pub mod product;
pub mod pseudonym;
pub mod report;
pub mod role;
pub mod text;

pub use deployment::{Deployment, OperatingThreshold, state_for_new_version};
pub use error::DomainError;
pub use hazard::{
    Control, Hazard, HazardFields, HazardStatus, Likelihood, RiskAssessment, RiskRating, Severity,
};
pub use lifecycle::{
    Decision, EvidenceReference, LifecycleState, SignOff, SignOffPolicy, TransitionError,
    TransitionRequest, TransitionRequirement, decide,
};
pub use organisation::{Organisation, OrganisationKind, OrganisationTree};
pub use product::{
    ChangeControlPlan, ChangeKind, Modality, Product, ProductVersion, RegulatoryClass, TaskType,
};
pub use pseudonym::{
    IdentifierKind, NhsNumber, Pseudonym, PseudonymKey, is_pseudonym, pseudonymise,
};
pub use report::{ReportChannel, ReportStatus, ReportTiming};
pub use role::Role;
pub use text::{Code, NonEmptyText};
