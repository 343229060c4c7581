//! The portable archive: every row of a Vigil database, with the audit
//! chain. It moves a Trust between backends (SQLite to PostgreSQL) with ids
//! and the chain intact.
//!
//! An archive's first line is the registry and the audit trail ([`Archive`],
//! one JSON object); the other tables follow it one row a line
//! ([`crate::archive_tables`]). Archives of the first format
//! (`vigil-archive-v1`) are the registry alone, as one JSON document; they
//! are still read.

use serde::{Deserialize, Serialize};
use vigil_audit::{RecordedHead, StoredEntry, Verification, verify};

use crate::StoreError;
use crate::consistency::MonitoringLedger;
use crate::rows::{
    ApiTokenRow, AuditHeadRow, AuditRow, CredentialRow, DecisionRow, DeploymentRow, EvaluationRow,
    OrganisationRow, PendingSignOffRow, PolicyRow, ProductRow, UserRow, VersionRow,
};

/// The archive format's name and version: the registry's line, then the
/// tables.
pub const ARCHIVE_FORMAT: &str = "vigil-archive-v2";

/// The first format: the registry alone, as one JSON document.
pub const REGISTRY_ONLY_ARCHIVE_FORMAT: &str = "vigil-archive-v1";

/// What an export wrote or an import stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveCounts {
    /// Entries of the audit trail.
    pub audit_entries: u64,
    /// Rows of the tables after the registry ([`crate::archive_tables`]).
    pub table_rows: u64,
}

/// The registry and the audit trail: an archive's first line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Archive {
    pub format: String,
    pub exported_at: String,
    pub source_backend: String,
    pub organisations: Vec<OrganisationRow>,
    pub users: Vec<UserRow>,
    pub products: Vec<ProductRow>,
    pub product_versions: Vec<VersionRow>,
    pub deployments: Vec<DeploymentRow>,
    pub decisions: Vec<DecisionRow>,
    #[serde(default)]
    pub sign_off_policies: Vec<PolicyRow>,
    /// Stored evaluations (absent in archives made before they existed).
    #[serde(default)]
    pub evaluations: Vec<EvaluationRow>,
    /// Signatures given ahead of decisions.
    #[serde(default)]
    pub pending_sign_offs: Vec<PendingSignOffRow>,
    /// API tokens (their SHA-256 only).
    #[serde(default)]
    pub api_tokens: Vec<ApiTokenRow>,
    /// Password hashes (argon2id). Sessions are not archived.
    #[serde(default)]
    pub user_credentials: Vec<CredentialRow>,
    pub audit_log: Vec<AuditRow>,
    pub audit_head: Option<AuditHeadRow>,
    /// The monitoring tables' batches and row counts, read with the
    /// registry from the same snapshot when a database is verified
    /// ([`Archive::audit_verdict`] then checks them against the trail).
    /// Never part of an archive's line: an archive's tables carry the rows
    /// themselves, and an import counts them as it reads them.
    #[serde(skip)]
    pub monitoring: Option<MonitoringLedger>,
}

impl Archive {
    /// Parses an archive and checks its format name.
    pub fn from_json(text: &str) -> Result<Archive, StoreError> {
        let archive: Archive = serde_json::from_str(text).map_err(|error| {
            StoreError::ImportRefused(format!("the archive is not valid: {error}"))
        })?;
        if archive.format != ARCHIVE_FORMAT && archive.format != REGISTRY_ONLY_ARCHIVE_FORMAT {
            return Err(StoreError::ImportRefused(format!(
                "the archive's format is {:?}; this version of Vigil reads {ARCHIVE_FORMAT:?} and {REGISTRY_ONLY_ARCHIVE_FORMAT:?}",
                archive.format
            )));
        }
        Ok(archive)
    }

    /// Reads an archive's registry from the start of `input`, leaving
    /// `input` at its tables when [`Archive::carries_tables`]: the first
    /// line when it is a whole JSON object (the current format), else the
    /// whole input (the first format).
    pub fn read_head(input: &mut impl std::io::BufRead) -> Result<Archive, StoreError> {
        let unreadable = |error: std::io::Error| {
            StoreError::ImportRefused(format!("cannot read the archive: {error}"))
        };
        let mut first_line = String::new();
        input.read_line(&mut first_line).map_err(unreadable)?;
        if serde_json::from_str::<serde_json::Value>(&first_line).is_ok() {
            let archive = Archive::from_json(&first_line)?;
            if !archive.carries_tables() {
                // A document of the first format written on one line.
                let mut rest = String::new();
                input.read_to_string(&mut rest).map_err(unreadable)?;
                if !rest.trim().is_empty() {
                    return Err(StoreError::ImportRefused(format!(
                        "an archive of format {REGISTRY_ONLY_ARCHIVE_FORMAT:?} is one JSON document, but this one continues after it"
                    )));
                }
            }
            return Ok(archive);
        }
        let mut rest = String::new();
        input.read_to_string(&mut rest).map_err(unreadable)?;
        first_line.push_str(&rest);
        let archive = Archive::from_json(&first_line)?;
        if archive.carries_tables() {
            return Err(StoreError::ImportRefused(format!(
                "an archive of format {ARCHIVE_FORMAT:?} starts with its registry on one line"
            )));
        }
        Ok(archive)
    }

    /// True when the archive's tables follow its registry (the current
    /// format); an archive of the first format is the registry alone.
    pub fn carries_tables(&self) -> bool {
        self.format == ARCHIVE_FORMAT
    }

    /// The registry as the pretty JSON document of the first format (for
    /// reading by people and tests; [`Archive::to_json_line`] is what an
    /// archive file starts with).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The registry as an archive's first line.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The archive's audit entries, as stored, and its recorded head.
    pub fn chain(&self) -> (Vec<StoredEntry>, Option<RecordedHead>) {
        let head = self.audit_head.as_ref().map(|head| RecordedHead {
            sequence: u64::try_from(head.sequence).unwrap_or(u64::MAX),
            hash: head.hash.clone(),
        });
        (
            self.audit_log
                .iter()
                .map(AuditRow::to_stored_entry)
                .collect(),
            head,
        )
    }

    /// The verdict on one snapshot of a database: `check_chain` judges the
    /// chain (plainly, or against a trusted checkpoint; `Err` says why it
    /// proves nothing); a registry without any trail is not proven; and an
    /// intact chain must also describe the tables as they are. Every caller
    /// that verifies — the command line, the API, an import — reads one
    /// snapshot and judges it here.
    pub fn audit_verdict(
        &self,
        check_chain: impl FnOnce(
            Vec<StoredEntry>,
            Option<&RecordedHead>,
        ) -> Result<Verification, String>,
    ) -> Result<Verification, String> {
        let (entries, head) = self.chain();
        let registry_is_empty = self.organisations.is_empty() && self.users.is_empty();
        if entries.is_empty() && head.is_none() && !registry_is_empty {
            return Err(
                "the audit trail is empty but the registry is not: the trail was removed"
                    .to_owned(),
            );
        }
        let verification = check_chain(entries, head.as_ref())?;
        if verification.is_intact() {
            crate::consistency::check_registry(self)
                .map_err(|divergence| divergence.to_string())?;
            if let Some(ledger) = &self.monitoring {
                crate::consistency::check_monitoring(&self.audit_log, ledger)
                    .map_err(|divergence| divergence.to_string())?;
            }
        }
        Ok(verification)
    }

    /// Verifies the archive's audit chain, and that its tables say what the
    /// chain says, before anything is imported.
    pub fn verify_chain(&self) -> Result<u64, StoreError> {
        match self.audit_verdict(|entries, head| Ok(verify(entries, head))) {
            Ok(Verification::Intact { entries, .. }) => Ok(entries),
            Ok(broken) => Err(StoreError::ImportRefused(format!(
                "the archive's audit trail is {broken}"
            ))),
            Err(problem) => Err(StoreError::ImportRefused(format!(
                "in the archive, {problem}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(format: &str) -> String {
        format!(
            r#"{{"format": "{format}", "exported_at": "2026-12-04T12:00:00Z", "source_backend": "sqlite",
            "organisations": [], "users": [], "products": [], "product_versions": [], "deployments": [],
            "decisions": [], "audit_log": [], "audit_head": null}}"#
        )
    }

    /// Reads the head of `text`, answering the archive's format and what
    /// is left unread, or the error.
    fn head(text: &str) -> Result<(String, String), String> {
        let mut input = text.as_bytes();
        let archive = Archive::read_head(&mut input).map_err(|error| error.to_string())?;
        Ok((archive.format, String::from_utf8_lossy(input).into_owned()))
    }

    #[test]
    fn the_head_is_the_first_line_or_the_whole_first_format_document() {
        let one_line = |format: &str| registry(format).replace('\n', "");
        let tables = "{\"table\": \"event_batches\"}\n";
        for (text, expected) in [
            // The current format: its first line, the tables left to read.
            (
                format!("{}\n{tables}", one_line(ARCHIVE_FORMAT)),
                Ok((ARCHIVE_FORMAT.to_owned(), tables.to_owned())),
            ),
            // The first format, pretty (as it was written) or on one line.
            (
                registry(REGISTRY_ONLY_ARCHIVE_FORMAT),
                Ok((REGISTRY_ONLY_ARCHIVE_FORMAT.to_owned(), String::new())),
            ),
            (
                format!("{}\n\n", one_line(REGISTRY_ONLY_ARCHIVE_FORMAT)),
                Ok((REGISTRY_ONLY_ARCHIVE_FORMAT.to_owned(), String::new())),
            ),
            (
                format!("{}\n{tables}", one_line(REGISTRY_ONLY_ARCHIVE_FORMAT)),
                Err("is one JSON document, but this one continues after it"),
            ),
            (
                registry(ARCHIVE_FORMAT),
                Err("starts with its registry on one line"),
            ),
            (
                one_line("vigil-archive-v9"),
                Err("this version of Vigil reads"),
            ),
            ("not an archive".to_owned(), Err("the archive is not valid")),
        ] {
            match (head(&text), expected) {
                (Ok(read), Ok(expected)) => assert_eq!(read, expected, "{text}"),
                (Err(error), Err(expected)) => {
                    assert!(error.contains(expected), "{error:?} lacks {expected:?}");
                }
                (read, expected) => panic!("{text}: read {read:?}, expected {expected:?}"),
            }
        }
    }
}
