//! The one error type for values that fail to parse or break a domain rule.
//!
//! Every message names the field or value that is wrong and the rule it
//! breaks, in words meant for the person who supplied it. Messages about
//! patient identifiers and pseudonym keys never repeat the secret or
//! identifying text itself.

use std::fmt::Display;

use crate::lifecycle::LifecycleState;
use crate::organisation::OrganisationKind;
use crate::product::ChangeKind;
use crate::pseudonym::IdentifierKind;
use crate::text::Code;

/// Why a value could not become a domain type.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    /// A required text is empty or only whitespace.
    #[error("{field} is empty; a non-blank value is required")]
    EmptyText {
        /// What the text is, for example "product name".
        field: &'static str,
    },

    /// A text is longer than its limit.
    #[error("{field} is {length} characters long; the limit is {max} characters")]
    TextTooLong {
        /// What the text is.
        field: &'static str,
        /// Its length in characters, after trimming.
        length: usize,
        /// The largest length allowed.
        max: usize,
    },

    /// A text contains a control character that is not a line break or tab.
    #[error(
        "{field} contains the control character U+{code_point:04X} at character {position}; \
         only line breaks and tabs are allowed"
    )]
    ControlCharacter {
        /// What the text is.
        field: &'static str,
        /// The offending character's Unicode scalar value.
        code_point: u32,
        /// Its 1-based position in characters, after trimming.
        position: usize,
    },

    /// A one-line text contains a line break.
    #[error("{field} contains a line break; it must be a single line")]
    LineBreak {
        /// What the text is.
        field: &'static str,
    },

    /// An organisation code breaks the code format.
    #[error("code {value:?} is invalid: {rule}")]
    InvalidCode {
        /// The text given, shortened if it is very long.
        value: String,
        /// The rule it breaks.
        rule: String,
    },

    /// A name that should be one of a fixed set of words is not.
    #[error("{value:?} is not a known {field}; expected one of: {expected}")]
    UnknownName {
        /// What kind of name it is, for example "lifecycle state".
        field: &'static str,
        /// The text given, shortened if it is very long.
        value: String,
        /// The accepted names, comma separated.
        expected: String,
    },

    /// An organisation's parent is of the wrong kind.
    #[error(
        "organisation {code} is a {kind}, so its parent must be a {expected}, \
         but its parent {parent} is a {parent_kind}"
    )]
    ParentKindMismatch {
        /// The organisation.
        code: Code,
        /// Its kind.
        kind: OrganisationKind,
        /// The parent it names.
        parent: Code,
        /// The parent's kind.
        parent_kind: OrganisationKind,
        /// The kind its parent must be.
        expected: OrganisationKind,
    },

    /// A nation names a parent.
    #[error(
        "organisation {code} is a nation and may have no parent, but its parent is given as {parent}"
    )]
    NationWithParent {
        /// The nation.
        code: Code,
        /// The parent it names.
        parent: Code,
    },

    /// A region, Trust or site names no parent.
    #[error("organisation {code} is a {kind} and needs a parent {expected}, but none is given")]
    MissingParent {
        /// The organisation.
        code: Code,
        /// Its kind.
        kind: OrganisationKind,
        /// The kind its parent must be.
        expected: OrganisationKind,
    },

    /// An organisation names itself as its parent.
    #[error("organisation {code} names itself as its parent")]
    SelfParent {
        /// The organisation.
        code: Code,
    },

    /// Two organisations in one tree share a code.
    #[error("organisation code {code} appears more than once; codes must be unique")]
    DuplicateOrganisation {
        /// The repeated code.
        code: Code,
    },

    /// An organisation names a parent that is not in the tree.
    #[error(
        "organisation {code} names parent {parent}, which is not among the organisations given"
    )]
    UnknownParent {
        /// The organisation.
        code: Code,
        /// The missing parent.
        parent: Code,
    },

    /// An organisation tree does not have exactly one nation at its root.
    #[error("an organisation tree needs exactly one nation at its root; found {count}")]
    NationCount {
        /// How many nations were given.
        count: usize,
    },

    /// A change-control plan names a change it may never cover.
    #[error("a change-control plan cannot cover {kind}: {reason}")]
    ChangeNotCoverable {
        /// The change kind.
        kind: ChangeKind,
        /// Why not.
        reason: &'static str,
    },

    /// An operating threshold is NaN or infinite.
    #[error("operating threshold {value} is not a finite number")]
    NonFiniteThreshold {
        /// The value given.
        value: f64,
    },

    /// A sign-off policy names a pair of states that is not an allowed transition.
    #[error("the sign-off policy names {from} → {to}, which is not an allowed transition; {}", allowed_phrase(*.from, .allowed))]
    PolicyTransitionNotAllowed {
        /// The state moved from.
        from: LifecycleState,
        /// The state moved to.
        to: LifecycleState,
        /// The states that may follow `from`.
        allowed: Vec<LifecycleState>,
    },

    /// A sign-off policy entry requires no role at all.
    #[error(
        "the sign-off policy for {from} → {to} lists no role; every transition needs at least one signing role"
    )]
    EmptyRoleRequirement {
        /// The state moved from.
        from: LifecycleState,
        /// The state moved to.
        to: LifecycleState,
    },

    /// A sign-off policy key is not of the form "FROM->TO".
    #[error(
        "sign-off policy key {key:?} is not of the form FROM->TO \
         (for example \"shadow->live\", \"*->retired\" or \"radiotherapy:shadow->live\")"
    )]
    MalformedPolicyKey {
        /// The key given.
        key: String,
    },

    /// A sign-off policy key appears twice.
    #[error("sign-off policy key {key:?} appears more than once")]
    DuplicatePolicyEntry {
        /// The repeated key.
        key: String,
    },

    /// A "*->TO" policy key matches no transition.
    #[error("sign-off policy key \"*->{to}\" matches no transition: no state may move to {to}")]
    WildcardMatchesNothing {
        /// The target state.
        to: LifecycleState,
    },

    /// A pseudonym key is not 64 hexadecimal characters.
    #[error("pseudonym key is invalid: {reason}")]
    InvalidPseudonymKey {
        /// What is wrong, without repeating any of the key.
        reason: String,
    },

    /// An NHS number is not 10 digits in the accepted layout.
    #[error("NHS number is not in the accepted form: {reason}")]
    NhsNumberFormat {
        /// What is wrong, without repeating the number.
        reason: &'static str,
    },

    /// An NHS number does not have exactly 10 digits.
    #[error(
        "NHS number is not in the accepted form: an NHS number has 10 digits, this has {found}"
    )]
    NhsNumberDigitCount {
        /// How many digits were given (a count, never the digits themselves).
        found: usize,
    },

    /// An NHS number fails its modulus 11 check digit. Neither the message
    /// nor the `Debug` form shows any digit of the number.
    #[error(
        "NHS number is not valid: the NHS number's check digit is wrong (modulus 11); \
         check it for a typing error"
    )]
    NhsNumberCheckDigit,

    /// A patient identifier to pseudonymise is empty.
    #[error("{kind} identifier is empty; there is nothing to pseudonymise")]
    EmptyIdentifier {
        /// The kind of identifier.
        kind: IdentifierKind,
    },

    /// A text that should be a pseudonym is not one.
    #[error(
        "text is not a pseudonym: expected \"psn:\" followed by 32 lowercase hexadecimal characters"
    )]
    NotAPseudonym,

    /// A report's examination is after its issue.
    #[error("a report's examination ({examined_at}) cannot be after its issue ({issued_at})")]
    ReportBeforeExamination {
        examined_at: jiff::Timestamp,
        issued_at: jiff::Timestamp,
    },

    /// A hazard's ratings contradict each other or its status.
    #[error("hazard {title:?} cannot be recorded: {reason}")]
    HazardRating { title: String, reason: String },

    /// A procurement assessment template is not valid.
    #[error("the assessment template is not valid: {reason}")]
    ProcurementTemplate { reason: String },

    /// Answers do not fit their assessment template.
    #[error("the answers do not fit the template: {problems}")]
    ProcurementAnswers { problems: String },
}

/// Joins displayable items with ", ".
pub(crate) fn join<T: Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Says which states may follow `from`, or that none may.
pub(crate) fn allowed_phrase(from: LifecycleState, allowed: &[LifecycleState]) -> String {
    if allowed.is_empty() {
        format!("{from} is final and no transition is allowed from it")
    } else {
        format!("allowed from {from}: {}", join(allowed))
    }
}

/// Shortens a quoted value for an error message so a pasted document does
/// not flood the terminal.
pub(crate) fn shorten(value: &str) -> String {
    const LIMIT: usize = 80;
    if value.chars().count() <= LIMIT {
        value.to_owned()
    } else {
        let mut shortened: String = value.chars().take(LIMIT).collect();
        shortened.push('…');
        shortened
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_separates_with_commas() {
        assert_eq!(join(&["a", "b", "c"]), "a, b, c");
        assert_eq!(join::<&str>(&[]), "");
    }

    #[test]
    fn allowed_phrase_says_when_a_state_is_final() {
        assert_eq!(
            allowed_phrase(LifecycleState::Retired, &[]),
            "retired is final and no transition is allowed from it"
        );
        assert_eq!(
            allowed_phrase(
                LifecycleState::Live,
                &[LifecycleState::Suspended, LifecycleState::Retired]
            ),
            "allowed from live: suspended, retired"
        );
    }

    #[test]
    fn shorten_keeps_short_values_and_cuts_long_ones() {
        assert_eq!(shorten("rw3"), "rw3");
        let long = "x".repeat(200);
        let shortened = shorten(&long);
        assert_eq!(shortened.chars().count(), 81);
        assert!(shortened.ends_with('…'));
    }

    #[test]
    fn messages_name_the_field_and_the_rule() {
        let error = DomainError::TextTooLong {
            field: "rationale",
            length: 5000,
            max: 4000,
        };
        assert_eq!(
            error.to_string(),
            "rationale is 5000 characters long; the limit is 4000 characters"
        );
        let error = DomainError::ControlCharacter {
            field: "product name",
            code_point: 7,
            position: 3,
        };
        assert_eq!(
            error.to_string(),
            "product name contains the control character U+0007 at character 3; \
             only line breaks and tabs are allowed"
        );
    }
}
