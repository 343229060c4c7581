//! The clinical hazard log of a deployment (DCB0160): each hazard with its
//! cause, effect and controls, rated before and after its controls on the
//! 5×5 matrix of the NHS clinical risk management standards.
//!
//! A risk rating comes from the severity of the harm and its likelihood
//! through the matrix of the DCB0129/DCB0160 implementation guidance
//! (rows: likelihood, columns: severity):
//!
//! | likelihood \ severity | minor | significant | considerable | major | catastrophic |
//! | --- | --- | --- | --- | --- | --- |
//! | very high | 3 | 4 | 4 | 5 | 5 |
//! | high | 2 | 3 | 3 | 4 | 5 |
//! | medium | 2 | 2 | 3 | 3 | 4 |
//! | low | 1 | 2 | 2 | 3 | 4 |
//! | very low | 1 | 1 | 2 | 2 | 3 |
//!
//! 1 is acceptable, 2 acceptable where further reduction costs more than it
//! gains, 3 undesirable (tolerable only when further reduction is
//! impracticable), 4 and 5 unacceptable.

use serde::{Deserialize, Serialize};

use crate::{DomainError, EvidenceReference, NonEmptyText};

named_enum! {
    /// How bad the harm would be.
    pub enum Severity: "hazard severity" {
        /// Minor injury or inconvenience, no lasting harm.
        Minor = "minor",
        /// Minor injury needing treatment, or several patients affected.
        Significant = "significant",
        /// Severe injury or lasting harm to one patient.
        Considerable = "considerable",
        /// Death or permanent harm to one patient, or severe harm to many.
        Major = "major",
        /// Deaths or permanent harm to many patients.
        Catastrophic = "catastrophic",
    }
}

named_enum! {
    /// How likely the harm is, with the controls counted.
    pub enum Likelihood: "hazard likelihood" {
        VeryLow = "very_low" | "very low",
        Low = "low",
        Medium = "medium",
        High = "high",
        VeryHigh = "very_high" | "very high",
    }
}

named_enum! {
    /// Where a hazard stands.
    pub enum HazardStatus: "hazard status" {
        /// Identified; its controls are not yet all in place.
        Open = "open",
        /// Its controls are in place and its residual risk is accepted.
        Controlled = "controlled",
        /// An alert has put it back under review: its rating is in doubt.
        UnderReview = "under_review" | "under review",
        /// No longer applies (the cause is gone).
        Closed = "closed",
    }
}

/// A risk rating from 1 (acceptable) to 5 (unacceptable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RiskRating(u8);

impl RiskRating {
    /// The rating of a severity at a likelihood, from the matrix above.
    pub fn of(severity: Severity, likelihood: Likelihood) -> RiskRating {
        const MATRIX: [[u8; 5]; 5] = [
            // very low, low, medium, high, very high (rows); severities in
            // columns from minor to catastrophic.
            [1, 1, 2, 2, 3],
            [1, 2, 2, 3, 4],
            [2, 2, 3, 3, 4],
            [2, 3, 3, 4, 5],
            [3, 4, 4, 5, 5],
        ];
        let row = Likelihood::ALL
            .iter()
            .position(|candidate| *candidate == likelihood)
            .unwrap_or(0);
        let column = Severity::ALL
            .iter()
            .position(|candidate| *candidate == severity)
            .unwrap_or(0);
        RiskRating(MATRIX[row][column])
    }

    /// The rating, 1 to 5.
    pub fn get(self) -> u8 {
        self.0
    }

    /// What the rating asks for.
    pub fn acceptability(self) -> &'static str {
        match self.0 {
            1 => "acceptable",
            2 => "acceptable where further reduction costs more than it gains",
            3 => "undesirable: tolerable only when further reduction is impracticable",
            _ => "unacceptable: the risk must be reduced",
        }
    }
}

/// A severity with its likelihood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskAssessment {
    pub severity: Severity,
    pub likelihood: Likelihood,
}

impl RiskAssessment {
    pub fn rating(self) -> RiskRating {
        RiskRating::of(self.severity, self.likelihood)
    }
}

/// A control on a hazard, with the evidence that it works: a passing
/// validation (`evaluation:12`), a monitoring rule (`rule:sensitivity`), a
/// test or a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Control {
    pub description: NonEmptyText,
    #[serde(default)]
    pub evidence: Vec<EvidenceReference>,
}

/// One hazard of a deployment's log. Built only by [`Hazard::new`], which
/// refuses a residual risk above the initial one (controls do not add risk)
/// and a controlled hazard whose residual risk is unacceptable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "HazardFields", into = "HazardFields")]
pub struct Hazard {
    fields: HazardFields,
}

/// The fields of a hazard as written (JSON), before their checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HazardFields {
    pub title: NonEmptyText,
    pub cause: NonEmptyText,
    pub effect: NonEmptyText,
    #[serde(default)]
    pub controls: Vec<Control>,
    pub initial: RiskAssessment,
    pub residual: RiskAssessment,
    pub owner: NonEmptyText,
    pub status: HazardStatus,
}

impl Hazard {
    /// Checks the hazard's ratings against its status.
    pub fn new(fields: HazardFields) -> Result<Hazard, DomainError> {
        let (initial, residual) = (fields.initial.rating(), fields.residual.rating());
        if residual > initial {
            return Err(DomainError::HazardRating {
                title: fields.title.as_str().to_owned(),
                reason: format!(
                    "its residual risk ({}) is above its initial risk ({}); controls cannot add risk",
                    residual.get(),
                    initial.get()
                ),
            });
        }
        if fields.status == HazardStatus::Controlled && residual.get() >= 4 {
            return Err(DomainError::HazardRating {
                title: fields.title.as_str().to_owned(),
                reason: format!(
                    "it is marked controlled with an unacceptable residual risk ({}); reduce it or leave it open",
                    residual.get()
                ),
            });
        }
        if fields.status == HazardStatus::Controlled && fields.controls.is_empty() {
            return Err(DomainError::HazardRating {
                title: fields.title.as_str().to_owned(),
                reason: "it is marked controlled but names no control".to_owned(),
            });
        }
        Ok(Hazard { fields })
    }

    pub fn fields(&self) -> &HazardFields {
        &self.fields
    }

    pub fn status(&self) -> HazardStatus {
        self.fields.status
    }

    /// The same hazard with another status (an alert puts it under
    /// review; a reassessment settles it), checked again.
    pub fn with_status(&self, status: HazardStatus) -> Result<Hazard, DomainError> {
        Hazard::new(HazardFields {
            status,
            ..self.fields.clone()
        })
    }
}

impl TryFrom<HazardFields> for Hazard {
    type Error = DomainError;

    fn try_from(fields: HazardFields) -> Result<Self, Self::Error> {
        Hazard::new(fields)
    }
}

impl From<Hazard> for HazardFields {
    fn from(hazard: Hazard) -> Self {
        hazard.fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> NonEmptyText {
        NonEmptyText::parse(value).expect("text")
    }

    fn fields(
        initial: (Severity, Likelihood),
        residual: (Severity, Likelihood),
        status: HazardStatus,
    ) -> HazardFields {
        HazardFields {
            title: text("Missed haemorrhage"),
            cause: text("The tool misses a small bleed on thin-slice reconstructions"),
            effect: text("Delayed treatment of an intracranial haemorrhage"),
            controls: vec![Control {
                description: text("Every head CT is still reported by a radiologist"),
                evidence: vec![EvidenceReference::parse("rule:sensitivity").expect("reference")],
            }],
            initial: RiskAssessment {
                severity: initial.0,
                likelihood: initial.1,
            },
            residual: RiskAssessment {
                severity: residual.0,
                likelihood: residual.1,
            },
            owner: text("Clinical safety officer"),
            status,
        }
    }

    #[test]
    fn the_matrix_matches_the_guidance_at_its_corners_and_is_monotone() {
        use Likelihood::*;
        use Severity::*;
        assert_eq!(RiskRating::of(Minor, VeryLow).get(), 1);
        assert_eq!(RiskRating::of(Catastrophic, VeryHigh).get(), 5);
        assert_eq!(RiskRating::of(Catastrophic, VeryLow).get(), 3);
        assert_eq!(RiskRating::of(Minor, VeryHigh).get(), 3);
        assert_eq!(RiskRating::of(Major, Medium).get(), 3);
        assert_eq!(RiskRating::of(Considerable, High).get(), 3);
        // More severe or more likely never rates lower.
        for (row, likelihood) in Likelihood::ALL.iter().enumerate() {
            for (column, severity) in Severity::ALL.iter().enumerate() {
                let rating = RiskRating::of(*severity, *likelihood);
                if let Some(next) = Severity::ALL.get(column + 1) {
                    assert!(RiskRating::of(*next, *likelihood) >= rating);
                }
                if let Some(next) = Likelihood::ALL.get(row + 1) {
                    assert!(RiskRating::of(*severity, *next) >= rating);
                }
            }
        }
    }

    #[test]
    fn ratings_are_checked_against_the_status() {
        use Likelihood::*;
        use Severity::*;
        let hazard = Hazard::new(fields(
            (Major, High),
            (Major, VeryLow),
            HazardStatus::Controlled,
        ))
        .expect("a controlled hazard");
        assert_eq!(hazard.fields().residual.rating().get(), 2);
        let worse = Hazard::new(fields((Major, Low), (Major, High), HazardStatus::Open))
            .expect_err("residual above initial");
        assert!(
            worse.to_string().contains("controls cannot add risk"),
            "{worse}"
        );
        let unacceptable = Hazard::new(fields(
            (Catastrophic, High),
            (Catastrophic, Medium),
            HazardStatus::Controlled,
        ))
        .expect_err("controlled at 4");
        assert!(
            unacceptable
                .to_string()
                .contains("unacceptable residual risk (4)"),
            "{unacceptable}"
        );
        // The same ratings may stand while the hazard is open or under review.
        let open = Hazard::new(fields(
            (Catastrophic, High),
            (Catastrophic, Medium),
            HazardStatus::Open,
        ))
        .expect("open");
        assert_eq!(
            open.with_status(HazardStatus::UnderReview)
                .map(|hazard| hazard.status()),
            Ok(HazardStatus::UnderReview)
        );
        assert!(open.with_status(HazardStatus::Controlled).is_err());
    }

    #[test]
    fn hazards_are_read_from_json_through_their_checks() {
        let json = r#"{"title":"Missed bleed","cause":"Thin slices","effect":"Delay","initial":{"severity":"major","likelihood":"medium"},"residual":{"severity":"major","likelihood":"very low"},"owner":"CSO","status":"open"}"#;
        let hazard: Hazard = serde_json::from_str(json).expect("a hazard");
        assert_eq!(hazard.fields().residual.likelihood, Likelihood::VeryLow);
        let round_trip: Hazard =
            serde_json::from_str(&serde_json::to_string(&hazard).expect("json")).expect("again");
        assert_eq!(round_trip, hazard);
        let bad = json.replace("very low", "high");
        assert!(serde_json::from_str::<Hazard>(&bad).is_err());
        let unknown = json.replace("\"owner\"", "\"extra\":1,\"owner\"");
        assert!(serde_json::from_str::<Hazard>(&unknown).is_err());
    }
}
