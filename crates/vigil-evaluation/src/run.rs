//! One evaluation from its inputs: the options a person chooses, the
//! protocol (if any), and the case table, checked against each other before
//! the data are read.
//!
//! The command line (`vigil evaluate`) and the HTTP API both run
//! evaluations through [`run`], so the rules — a protocol with criteria must
//! fix its operating point, a comparison criterion needs a comparison
//! column, a protocol's threshold cannot be overridden — hold everywhere.

use std::io::Read;

use vigil_stats::ConfidenceLevel;
use vigil_stats::operating_point::OperatingPointRule;

use crate::cases::{CaseTable, CaseTableSpec, LoadError};
use crate::evaluate::{EvaluateError, Evaluation, EvaluationSettings, ThresholdSource, evaluate};
use crate::protocol::{OperatingPoint, Protocol};

/// What the person running an evaluation chooses, besides the protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// The reference-standard column.
    pub label_column: String,
    /// The tool's score column.
    pub score_column: String,
    /// The label value that means positive, when it is not 1/true/yes.
    pub positive_label: Option<String>,
    /// A second score to compare with (DeLong's paired test).
    pub compare_column: Option<String>,
    /// A threshold, when the protocol does not fix one.
    pub threshold: Option<f64>,
    /// Subgroup columns besides the protocol's.
    pub subgroup_columns: Vec<String>,
    /// Drop rows with a missing score or label instead of failing.
    pub drop_missing: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            label_column: "label".to_owned(),
            score_column: "score".to_owned(),
            positive_label: None,
            compare_column: None,
            threshold: None,
            subgroup_columns: Vec::new(),
            drop_missing: false,
        }
    }
}

/// Why an evaluation could not be run. Every variant is the user's to
/// correct; the messages name the input concerned.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The threshold is not a finite number.
    #[error("the threshold must be a finite number")]
    ThresholdNotFinite,
    /// The protocol has criteria but leaves the threshold to be chosen
    /// after the data are seen.
    #[error(
        "{source_name}: the protocol has acceptance criteria but no [operating_point]; the threshold must be fixed in the protocol before the data are seen, or the criteria would be judged at a threshold chosen afterwards (add [operating_point] with threshold = X, or a rule)"
    )]
    CriteriaWithoutOperatingPoint { source_name: String },
    /// A threshold was given although the protocol fixes the operating
    /// point.
    #[error(
        "{source_name}: the protocol fixes the operating point; do not give a threshold, or edit the protocol"
    )]
    ThresholdOverridesProtocol { source_name: String },
    /// A comparison criterion without a comparison column.
    #[error(
        "{source_name}: criterion {criterion:?} needs a comparison score; name a comparison column or remove the criterion"
    )]
    ComparisonColumnMissing {
        source_name: String,
        criterion: String,
    },
    /// The protocol's confidence level is not usable.
    #[error("confidence level: {0}")]
    ConfidenceLevel(String),
    /// The case table could not be read.
    #[error(transparent)]
    Cases(#[from] LoadError),
    /// The statistics could not be computed on these cases.
    #[error(transparent)]
    Evaluate(#[from] EvaluateError),
}

/// A protocol together with the name it is known by in messages.
#[derive(Debug, Clone, Copy)]
pub struct NamedProtocol<'a> {
    pub protocol: &'a Protocol,
    pub source_name: &'a str,
}

/// Checks the options against the protocol, before any data are read.
pub fn check_usage(
    options: &RunOptions,
    protocol: Option<NamedProtocol<'_>>,
) -> Result<(), RunError> {
    if options
        .threshold
        .is_some_and(|threshold| !threshold.is_finite())
    {
        return Err(RunError::ThresholdNotFinite);
    }
    let Some(NamedProtocol {
        protocol,
        source_name,
    }) = protocol
    else {
        return Ok(());
    };
    if !protocol.criteria.is_empty() && protocol.operating_point.is_none() {
        return Err(RunError::CriteriaWithoutOperatingPoint {
            source_name: source_name.to_owned(),
        });
    }
    if options.threshold.is_some() && protocol.operating_point.is_some() {
        return Err(RunError::ThresholdOverridesProtocol {
            source_name: source_name.to_owned(),
        });
    }
    if options.compare_column.is_none()
        && let Some(criterion) = protocol.comparison_criteria().next()
    {
        return Err(RunError::ComparisonColumnMissing {
            source_name: source_name.to_owned(),
            criterion: criterion.text.clone(),
        });
    }
    Ok(())
}

/// The evaluation settings implied by the options and the protocol.
pub fn settings(
    options: &RunOptions,
    protocol: Option<&Protocol>,
) -> Result<EvaluationSettings, RunError> {
    let mut settings = EvaluationSettings::default();
    if let Some(level) = protocol.and_then(|protocol| protocol.confidence_level) {
        settings.level = ConfidenceLevel::new(level)
            .map_err(|error| RunError::ConfidenceLevel(error.to_string()))?;
    }
    if let Some(minimum) = protocol.and_then(|protocol| protocol.minimum_subgroup_size) {
        settings.minimum_subgroup_size = minimum;
    }
    if let Some(minimum) = protocol.and_then(|protocol| protocol.minimum_class_size) {
        settings.minimum_class_size = minimum;
    }
    let from_protocol = protocol.and_then(|protocol| protocol.operating_point);
    (settings.operating_point, settings.threshold_source) = match (options.threshold, from_protocol)
    {
        (Some(threshold), _) => (
            OperatingPointRule::Fixed(threshold),
            ThresholdSource::CommandLine,
        ),
        (None, Some(point)) => (
            match point {
                OperatingPoint::Threshold { threshold } => OperatingPointRule::Fixed(threshold),
                OperatingPoint::Youden => OperatingPointRule::Youden,
                OperatingPoint::TargetSensitivity { target } => {
                    OperatingPointRule::TargetSensitivity(target)
                }
                OperatingPoint::TargetSpecificity { target } => {
                    OperatingPointRule::TargetSpecificity(target)
                }
            },
            ThresholdSource::Protocol,
        ),
        (None, None) => (OperatingPointRule::Youden, ThresholdSource::DefaultYouden),
    };
    Ok(settings)
}

/// The subgroup columns to read: the options' first, then the protocol's
/// and those its criteria name, each once.
pub fn subgroup_columns(options: &RunOptions, protocol: Option<&Protocol>) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    let from_protocol = protocol.into_iter().flat_map(|protocol| {
        protocol
            .subgroups
            .iter()
            .map(String::as_str)
            .chain(protocol.criterion_subgroup_columns())
    });
    for column in options
        .subgroup_columns
        .iter()
        .map(String::as_str)
        .chain(from_protocol)
    {
        if !columns.iter().any(|existing| existing == column) {
            columns.push(column.to_owned());
        }
    }
    columns
}

/// Runs one evaluation: checks the options against the protocol, reads the
/// cases (`cases_name` names them in messages; `progress` is called with
/// the bytes read), computes every metric and judges the criteria.
pub fn run(
    options: &RunOptions,
    protocol: Option<NamedProtocol<'_>>,
    cases: impl Read,
    cases_name: &str,
    progress: &mut dyn FnMut(u64),
) -> Result<Evaluation, RunError> {
    check_usage(options, protocol)?;
    let protocol = protocol.map(|named| named.protocol);
    let settings = settings(options, protocol)?;
    let spec = CaseTableSpec {
        label_column: options.label_column.clone(),
        score_column: options.score_column.clone(),
        positive_label: options.positive_label.clone(),
        compare_column: options.compare_column.clone(),
        subgroup_columns: subgroup_columns(options, protocol),
        drop_missing: options.drop_missing,
    };
    let table = CaseTable::read(cases, cases_name, &spec, progress)?;
    let mut evaluation = evaluate(&table, &settings)?;
    if let Some(protocol) = protocol {
        evaluation.assess(protocol);
    }
    Ok(evaluation)
}
