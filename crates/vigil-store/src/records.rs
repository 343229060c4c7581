//! What the store hands back: domain objects with their ids and history.

use std::fmt;

use jiff::Timestamp;
use vigil_domain::{
    Code, Decision, Deployment, LifecycleState, NonEmptyText, Product, ProductVersion, Role,
};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, String> {
                text.trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .map($name)
                    .ok_or_else(|| format!("{text:?} is not an id (a positive whole number)"))
            }
        }
    };
}

id_type!(
    /// A product's id.
    ProductId
);
id_type!(
    /// A product version's id.
    VersionId
);
id_type!(
    /// A deployment's id.
    DeploymentId
);

/// Who makes a change, in which role, for which organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    pub name: NonEmptyText,
    pub role: Role,
    pub organisation: Code,
}

/// The actor and the moment of a change; the moment is truncated to whole
/// microseconds, the precision of the audit trail.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeContext {
    pub actor: Actor,
    pub at: Timestamp,
}

impl ChangeContext {
    /// A change made now.
    pub fn now(actor: Actor) -> Self {
        ChangeContext::at(actor, Timestamp::now())
    }

    /// A change made at a given moment.
    pub fn at(actor: Actor, at: Timestamp) -> Self {
        ChangeContext {
            actor,
            at: vigil_audit::canonical_timestamp(at),
        }
    }
}

/// A user to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    pub user_name: NonEmptyText,
    pub display_name: NonEmptyText,
    pub role: Role,
    pub organisation: Code,
}

/// A stored user.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub id: i64,
    pub user_name: NonEmptyText,
    pub display_name: NonEmptyText,
    pub role: Role,
    pub organisation: Code,
    pub created_at: Timestamp,
    /// A disabled user cannot sign in.
    pub disabled: bool,
}

/// A change to a user's role or status; absent fields stay as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UserChange {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
}

/// What signing in needs: the user and their password hash, if one is set.
#[derive(Debug, Clone, PartialEq)]
pub struct LoginRecord {
    pub user: UserRecord,
    /// The argon2id hash in PHC string form.
    pub password_hash: Option<String>,
}

/// A signed-in session, found by the SHA-256 of its token.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub user: UserRecord,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

/// An API token to create: only the SHA-256 of the secret is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewApiToken {
    pub name: NonEmptyText,
    pub token_hash: String,
    pub organisation: Code,
    pub role: Role,
}

/// A stored API token (never its secret).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiTokenRecord {
    pub id: i64,
    pub name: NonEmptyText,
    pub organisation: Code,
    pub role: Role,
    pub created_by: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// A signature given ahead of a decision by a signed-in user, for one
/// transition of a deployment at one revision.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingSignOff {
    pub deployment: DeploymentId,
    pub revision: i64,
    pub to: LifecycleState,
    pub user_name: NonEmptyText,
    pub role: Role,
    pub signed_at: Timestamp,
}

/// An evaluation to store against a deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvaluation {
    pub deployment: DeploymentId,
    /// "pass", "fail" or "not_assessed".
    pub verdict: String,
    /// The protocol's TOML text, or empty when there was none.
    pub protocol: String,
    /// The options as JSON text.
    pub options: String,
    /// The SHA-256 of the case table, hex.
    pub cases_sha256: String,
    pub cases_bytes: i64,
    /// The result's JSON text (the `vigil evaluate --json` contract).
    pub result: String,
    /// The self-contained HTML report.
    pub report: String,
}

/// A stored evaluation; `result` and `report` are empty in listings.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationRecord {
    pub id: i64,
    pub deployment: DeploymentId,
    /// The product version deployed when the evaluation was stored.
    pub version: VersionId,
    pub verdict: String,
    pub protocol: String,
    pub options: String,
    pub cases_sha256: String,
    pub cases_bytes: i64,
    pub result: String,
    pub report: String,
    pub created_by: String,
    pub created_at: Timestamp,
    pub audit_sequence: u64,
}

/// What storing a batch of inference events did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestSummary {
    /// The batch's id.
    pub batch: i64,
    /// Events in the batch.
    pub received: u64,
    /// Events stored now.
    pub stored: u64,
    /// Events already stored by an earlier batch (same `event_id`).
    pub duplicates: u64,
}

/// What storing a batch of outcomes did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutcomeIngestSummary {
    /// The batch's id.
    pub batch: i64,
    /// Outcomes in the batch.
    pub received: u64,
    /// Outcomes stored now.
    pub stored: u64,
    /// Outcomes already stored by an earlier batch (same case and source).
    pub duplicates: u64,
    /// Stored events whose counts in the day aggregates changed.
    pub events_updated: u64,
}

/// One version of a deployment's monitoring rules.
#[derive(Debug, Clone, PartialEq)]
pub struct RulesRecord {
    pub deployment: DeploymentId,
    pub version: i64,
    pub rules: vigil_monitor::RuleSet,
    pub reason: String,
    pub created_by: String,
    pub created_at: Timestamp,
    pub audit_sequence: u64,
}

/// One version of a deployment's success criteria: what its productivity
/// audit must show for it to scale.
#[derive(Debug, Clone, PartialEq)]
pub struct SuccessCriteriaRecord {
    pub deployment: DeploymentId,
    pub version: i64,
    pub criteria: Vec<vigil_monitor::productivity::SuccessCriterion>,
    pub rationale: String,
    pub registered_by: String,
    pub registered_at: Timestamp,
    pub audit_sequence: u64,
}

/// What a deployment's productivity audit is computed from: its latest move
/// to live and every case it saw, with the reports issued on it at the
/// deployment's Trust.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductivityInputs {
    pub go_live_at: Option<Timestamp>,
    pub cases: Vec<vigil_monitor::productivity::AuditedCase>,
}

/// A hazard of a deployment's log at its current revision, with the alerts
/// linked to it.
#[derive(Debug, Clone, PartialEq)]
pub struct HazardRecord {
    pub id: i64,
    pub deployment: DeploymentId,
    pub revision: i64,
    pub hazard: vigil_domain::Hazard,
    pub updated_by: String,
    pub updated_at: Timestamp,
    pub audit_sequence: u64,
    /// The alerts linked to the hazard, oldest first.
    pub alerts: Vec<i64>,
}

/// One revision of a hazard: what it said and why it changed (an edit, an
/// alert that put it under review, or the reassessment on resolving one).
#[derive(Debug, Clone, PartialEq)]
pub struct HazardRevision {
    pub hazard_id: i64,
    pub revision: i64,
    pub hazard: vigil_domain::Hazard,
    pub reason: String,
    pub alert: Option<i64>,
    pub recorded_by: String,
    pub recorded_at: Timestamp,
    pub audit_sequence: u64,
}

/// A clinical safety officer's signature of a deployment's safety case.
#[derive(Debug, Clone, PartialEq)]
pub struct SafetyCaseSignature {
    pub id: i64,
    pub deployment: DeploymentId,
    /// The digest of the hazard log the signed report was made from.
    pub log_sha256: String,
    /// The SHA-256 of the signed report's bytes.
    pub report_sha256: String,
    pub statement: String,
    pub signed_by: String,
    pub role: String,
    pub signed_at: Timestamp,
    pub audit_sequence: u64,
}

/// The digest of a deployment's hazard log: SHA-256 over each hazard's id,
/// revision and the SHA-256 of its JSON, one line each, in id order. Any
/// change to any hazard (a new revision) changes it.
pub fn hazard_log_sha256(hazards: &[HazardRecord]) -> String {
    let mut lines = String::new();
    let mut sorted: Vec<&HazardRecord> = hazards.iter().collect();
    sorted.sort_by_key(|record| record.id);
    for record in sorted {
        let json = serde_json::to_string(&record.hazard).unwrap_or_default();
        lines.push_str(&format!(
            "{}\t{}\t{}\n",
            record.id,
            record.revision,
            crate::rows::sha256_hex(&json)
        ));
    }
    crate::rows::sha256_hex(&lines)
}

/// A procurement assessment of a product version by an organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct AssessmentRecord {
    pub id: i64,
    pub version: VersionId,
    pub organisation: String,
    /// The template's TOML, as used.
    pub template_toml: String,
    pub template: vigil_domain::procurement::Template,
    pub answers: Vec<vigil_domain::procurement::Answer>,
    /// `draft` or `completed`.
    pub state: String,
    /// `pass` or `fail` once completed.
    pub outcome: Option<String>,
    pub total_percent: Option<f64>,
    pub revision: i64,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_by: String,
    pub updated_at: Timestamp,
    pub audit_sequence: u64,
}

/// An evidence file kept by an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRecord {
    pub organisation: String,
    pub sha256: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub uploaded_by: String,
    pub uploaded_at: Timestamp,
}

/// Where an alert is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertState {
    Raised,
    Acknowledged,
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Raised => "raised",
            AlertState::Acknowledged => "acknowledged",
            AlertState::Resolved => "resolved",
        }
    }

    pub fn parse(text: &str) -> Option<AlertState> {
        match text {
            "raised" => Some(AlertState::Raised),
            "acknowledged" => Some(AlertState::Acknowledged),
            "resolved" => Some(AlertState::Resolved),
            _ => None,
        }
    }
}

/// A stored alert with its evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRecord {
    pub id: i64,
    pub deployment: DeploymentId,
    pub rule: String,
    pub rules_version: i64,
    pub state: AlertState,
    pub assessment: vigil_monitor::Assessment,
    pub proposes_suspension: bool,
    pub raised_at: Timestamp,
    pub raised_by: String,
    pub acknowledged_at: Option<Timestamp>,
    pub acknowledged_by: Option<String>,
    pub acknowledgement: Option<String>,
    pub resolved_at: Option<Timestamp>,
    pub resolved_by: Option<String>,
    pub resolution: Option<String>,
}

/// A webhook of an organisation (its secret is never read back).
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRecord {
    pub id: i64,
    pub organisation: Code,
    pub url: String,
    pub created_by: String,
    pub created_at: Timestamp,
    pub disabled: bool,
}

/// A message due to be sent to a webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct DueDelivery {
    pub id: i64,
    pub webhook: i64,
    pub url: String,
    pub secret: String,
    pub event: String,
    pub body: String,
    pub attempts: u32,
}

/// A stored product version.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRecord {
    pub id: VersionId,
    pub product: ProductId,
    pub version: ProductVersion,
    pub created_at: Timestamp,
}

/// A stored product with its versions, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductRecord {
    pub id: ProductId,
    pub product: Product,
    pub created_at: Timestamp,
    pub versions: Vec<VersionRecord>,
}

/// A stored lifecycle decision.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRecord {
    pub id: i64,
    pub deployment: DeploymentId,
    /// The product version deployed when the decision was made.
    pub version: VersionId,
    pub decision: Decision,
    /// The user who recorded the decision.
    pub recorded_by: String,
    /// The audit entry that records it.
    pub audit_sequence: u64,
}

/// A stored deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentRecord {
    pub id: DeploymentId,
    pub product: ProductId,
    pub version: VersionId,
    pub deployment: Deployment,
    pub state: LifecycleState,
    /// Incremented by every change of state; used to detect concurrent
    /// decisions.
    pub revision: i64,
    pub created_at: Timestamp,
    /// Oldest first; empty in listings.
    pub decisions: Vec<DecisionRecord>,
}

/// What became of a received DICOM instance.
#[derive(Debug, Clone, PartialEq)]
pub enum DicomDisposition {
    /// Read into an inference event of this deployment.
    Event { deployment: DeploymentId },
    /// An image whose acquisition metadata is kept for its study.
    Acquisition { metadata: vigil_monitor::Metadata },
    /// Kept aside for an administrator, with the reason.
    Quarantined { reason: String },
}

impl DicomDisposition {
    /// The stored name: `event`, `acquisition` or `quarantined`.
    pub fn as_str(&self) -> &'static str {
        match self {
            DicomDisposition::Event { .. } => "event",
            DicomDisposition::Acquisition { .. } => "acquisition",
            DicomDisposition::Quarantined { .. } => "quarantined",
        }
    }
}

/// A received DICOM instance, by its pseudonyms (no identifier is kept).
#[derive(Debug, Clone, PartialEq)]
pub struct DicomInstanceRecord {
    /// Assigned by the store; 0 in a record to be stored.
    pub id: i64,
    /// The Trust whose caller sent it.
    pub trust: Code,
    pub sop_instance: vigil_domain::Pseudonym,
    pub sop_class_uid: String,
    /// `sr`, `seg`, `rtstruct`, `image` or `other`.
    pub kind: String,
    pub study: vigil_domain::Pseudonym,
    pub series: Option<vigil_domain::Pseudonym>,
    pub accession: Option<vigil_domain::Pseudonym>,
    pub modality: Option<String>,
    /// The DIMSE caller's AE title (or `dicomweb:` and the client's name).
    pub calling_ae: String,
    pub received_at: Timestamp,
    pub disposition: DicomDisposition,
    /// The SHA-256 of its original file, when the server keeps originals
    /// (and kept this one).
    pub original_sha256: Option<String>,
}

/// What storing a received instance did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DicomRecorded {
    /// A new instance.
    Stored { id: i64 },
    /// Sent before and recorded alike: nothing changed.
    AlreadyStored { id: i64 },
    /// Sent before and quarantined; now routed (after a route was added).
    Released { id: i64 },
}

/// A report's times as stored: which Trust's RIS sent them, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportTimeRecord {
    pub id: i64,
    pub trust: Code,
    pub timing: vigil_domain::ReportTiming,
    pub channel: vigil_domain::ReportChannel,
    pub received_at: Timestamp,
}

/// Which report times to list, newest recorded first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportTimeQuery {
    /// Only these Trusts' reports (all when `None`).
    pub trusts: Option<Vec<String>>,
    /// Only those of this case (its pseudonym).
    pub case: Option<String>,
    /// Only those issued at or after this moment.
    pub issued_from: Option<Timestamp>,
    /// Only those issued before this moment.
    pub issued_before: Option<Timestamp>,
    /// Only those with a smaller id (the next page).
    pub before_id: Option<i64>,
    pub limit: u32,
}

/// Which received instances to list, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DicomInstanceQuery {
    /// Only these Trusts' instances (all when `None`).
    pub trusts: Option<Vec<String>>,
    /// Only `event`, `acquisition` or `quarantined` ones.
    pub disposition: Option<String>,
    /// Only those of this study (its pseudonym).
    pub study: Option<String>,
    /// Only those with a smaller id (the next page).
    pub before_id: Option<i64>,
    pub limit: u32,
}
