//! The portable archive: every row of a Vigil database, with the audit
//! chain, as one JSON document. It moves a Trust between backends (SQLite to
//! PostgreSQL) with ids and the chain intact.

use serde::{Deserialize, Serialize};
use vigil_audit::{RecordedHead, StoredEntry, Verification, verify};

use crate::StoreError;
use crate::rows::{
    ApiTokenRow, AuditHeadRow, AuditRow, CredentialRow, DecisionRow, DeploymentRow, EvaluationRow,
    OrganisationRow, PendingSignOffRow, PolicyRow, ProductRow, UserRow, VersionRow,
};

/// The archive format's name and version.
pub const ARCHIVE_FORMAT: &str = "vigil-archive-v1";

/// Every table of the system of record.
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
}

impl Archive {
    /// Parses an archive and checks its format name.
    pub fn from_json(text: &str) -> Result<Archive, StoreError> {
        let archive: Archive = serde_json::from_str(text).map_err(|error| {
            StoreError::ImportRefused(format!("the archive is not valid: {error}"))
        })?;
        if archive.format != ARCHIVE_FORMAT {
            return Err(StoreError::ImportRefused(format!(
                "the archive's format is {:?}; this version of Vigil reads {ARCHIVE_FORMAT:?}",
                archive.format
            )));
        }
        Ok(archive)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
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
