//! When a radiology report on a case was issued: the times turnaround audits
//! measure, read from the RIS's FHIR reports and HL7 v2 results.

use jiff::Timestamp;

use crate::{DomainError, Pseudonym};

named_enum! {
    /// A report's status when its time was sent.
    pub enum ReportStatus: "report status" {
        /// Issued before verification (FHIR `preliminary`, HL7 OBR-25 `P`).
        Preliminary = "preliminary",
        /// Verified (FHIR `final`, HL7 `F`).
        Final = "final",
        /// Changed after it was final (FHIR `amended`).
        Amended = "amended",
        /// Corrected after it was final (FHIR `corrected`, HL7 `C`).
        Corrected = "corrected",
    }
}

named_enum! {
    /// How a report's time arrived.
    pub enum ReportChannel: "report channel" {
        Fhir = "fhir",
        Hl7 = "hl7",
    }
}

/// One report's times on a case, known by its accession number's
/// pseudonym. A case can have several (a preliminary report, then the
/// final one, then an amendment), each issued at its own time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTiming {
    case: Pseudonym,
    status: ReportStatus,
    examined_at: Option<Timestamp>,
    issued_at: Timestamp,
    reader: Option<Pseudonym>,
}

impl ReportTiming {
    /// A report's times: the examination's (when known) cannot follow the
    /// report's issue.
    pub fn new(
        case: Pseudonym,
        status: ReportStatus,
        examined_at: Option<Timestamp>,
        issued_at: Timestamp,
    ) -> Result<ReportTiming, DomainError> {
        if let Some(examined_at) = examined_at.filter(|examined| *examined > issued_at) {
            return Err(DomainError::ReportBeforeExamination {
                examined_at,
                issued_at,
            });
        }
        Ok(ReportTiming {
            case,
            status,
            examined_at,
            issued_at,
            reader: None,
        })
    }

    /// The same report, reported by `reader` (a pseudonym of the RIS's
    /// identifier of the clinician).
    pub fn with_reader(self, reader: Pseudonym) -> ReportTiming {
        ReportTiming {
            reader: Some(reader),
            ..self
        }
    }

    /// Who reported it, when the RIS says.
    pub fn reader(&self) -> Option<&Pseudonym> {
        self.reader.as_ref()
    }

    /// The case: its accession number's pseudonym.
    pub fn case(&self) -> &Pseudonym {
        &self.case
    }

    pub fn status(&self) -> ReportStatus {
        self.status
    }

    /// When the examination was done, when the report says.
    pub fn examined_at(&self) -> Option<Timestamp> {
        self.examined_at
    }

    /// When the report was issued.
    pub fn issued_at(&self) -> Timestamp {
        self.issued_at
    }

    /// The time from examination to report, when the examination's time is
    /// known.
    pub fn turnaround(&self) -> Option<jiff::SignedDuration> {
        self.examined_at
            .map(|examined| self.issued_at.duration_since(examined))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{IdentifierKind, PseudonymKey, pseudonymise};

    fn case() -> Pseudonym {
        let key = PseudonymKey::from_hex(&"ab".repeat(32)).expect("key");
        pseudonymise(&key, IdentifierKind::Accession, "ACC-1").expect("pseudonym")
    }

    #[test]
    fn an_examination_after_its_report_is_refused() {
        let examined: Timestamp = "2026-11-30T09:00:00Z".parse().expect("time");
        let issued: Timestamp = "2026-11-30T10:05:00Z".parse().expect("time");
        let timing = ReportTiming::new(case(), ReportStatus::Final, Some(examined), issued)
            .expect("in order");
        assert_eq!(
            timing.turnaround(),
            Some(jiff::SignedDuration::from_mins(65))
        );
        let error = ReportTiming::new(case(), ReportStatus::Final, Some(issued), examined)
            .expect_err("out of order");
        assert_eq!(
            error.to_string(),
            "a report's examination (2026-11-30T10:05:00Z) cannot be after its issue (2026-11-30T09:00:00Z)"
        );
        let unknown = ReportTiming::new(case(), ReportStatus::Preliminary, None, issued)
            .expect("no examination time");
        assert_eq!(unknown.turnaround(), None);
    }

    #[test]
    fn statuses_are_read_by_name() {
        assert_eq!(ReportStatus::parse(" Final "), Ok(ReportStatus::Final));
        assert!(ReportStatus::parse("registered").is_err());
    }
}
