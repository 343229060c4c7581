//! Request and response bodies of the JSON API under `/api/v1/`.
//!
//! Values with a fixed vocabulary (roles, lifecycle states, modalities) are
//! sent as their snake_case names and parsed by the server, which answers
//! `invalid_request` naming the field and the accepted values. Times are
//! RFC 3339 UTC. Requests refuse unknown fields, so that a misspelt field is
//! an error rather than silently ignored.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Signing in with a user name and password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub user_name: String,
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("LoginRequest")
            .field("user_name", &self.user_name)
            .field("password", &"***")
            .finish()
    }
}

/// Who the caller is, and how they are signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionInfo {
    /// The signed-in user; absent for an API token.
    pub user: Option<UserView>,
    /// The name the caller acts under in the audit trail.
    pub actor: String,
    pub role: String,
    pub organisation: String,
    /// "session" (cookie) or "token" (bearer).
    pub authenticated_by: String,
    /// For a cookie session: send it back in the `x-csrf-token` header of
    /// every request that changes something.
    pub csrf_token: Option<String>,
    /// For a cookie session: when it ends at the latest.
    pub expires_at: Option<String>,
    /// What the caller's role may do.
    pub permissions: Vec<String>,
}

/// An organisation: nation, region (imaging network), Trust or site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrganisationView {
    pub code: String,
    pub name: String,
    /// nation, region, trust or site.
    pub kind: String,
    pub parent: Option<String>,
}

/// A new organisation below an existing one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    pub code: String,
    pub name: String,
    /// region, trust or site.
    pub kind: String,
    pub parent: String,
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub user_name: String,
    pub display_name: String,
    pub role: String,
    pub organisation: String,
    pub disabled: bool,
    pub created_at: String,
}

/// A new user; with a password, they can sign in at once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub user_name: String,
    pub display_name: String,
    pub role: String,
    pub organisation: String,
    #[serde(default)]
    pub password: Option<String>,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("NewUser")
            .field("user_name", &self.user_name)
            .field("display_name", &self.display_name)
            .field("role", &self.role)
            .field("organisation", &self.organisation)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// A change to a user's role or status; absent fields stay as they are.
/// Either change ends the user's sessions.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChangeRequest {
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// A new password (at least 12 characters); ends the user's sessions.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    pub password: String,
}

impl std::fmt::Debug for PasswordRequest {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("PasswordRequest { password: *** }")
    }
}

/// Changing one's own password: the current one, and the new one (at least
/// 12 characters). Every session of the user ends, this one included.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnPasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

impl std::fmt::Debug for OwnPasswordRequest {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("OwnPasswordRequest { current_password: ***, new_password: *** }")
    }
}

/// An API token for a machine client; never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub organisation: String,
    pub role: String,
    pub created_by: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A new API token, scoped to one organisation and role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    pub organisation: String,
    pub role: String,
}

/// A created token with its secret, shown this once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreatedToken {
    pub token: TokenView,
    /// Send as `Authorization: Bearer SECRET`. It is stored only as a hash
    /// and cannot be shown again.
    pub secret: String,
}

impl std::fmt::Debug for CreatedToken {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("CreatedToken")
            .field("token", &self.token)
            .field("secret", &"***")
            .finish()
    }
}

/// A product version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VersionView {
    pub id: i64,
    pub product: i64,
    pub version: String,
    /// YYYY-MM-DD.
    pub release_date: String,
    pub change_notes: String,
    pub change_kind: String,
    pub created_at: String,
}

/// A registered product with its versions, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProductView {
    pub id: i64,
    pub vendor: String,
    pub name: String,
    pub intended_purpose: String,
    pub modality: String,
    pub body_part: String,
    pub task_type: String,
    pub regulatory_class: String,
    pub marking: String,
    pub created_at: String,
    pub versions: Vec<VersionView>,
}

/// A product to register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    pub vendor: String,
    pub name: String,
    pub intended_purpose: String,
    pub modality: String,
    pub body_part: String,
    pub task_type: String,
    pub regulatory_class: String,
    pub marking: String,
}

/// A version of a product to register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVersion {
    pub version: String,
    /// YYYY-MM-DD.
    pub release_date: String,
    pub change_notes: String,
    pub change_kind: String,
}

/// A named operating threshold of a deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdView {
    pub name: String,
    pub value: f64,
}

/// One signature on a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SignOffView {
    pub actor: String,
    pub role: String,
}

/// A recorded governance decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DecisionView {
    pub id: i64,
    /// The product version deployed when the decision was made.
    pub version: i64,
    pub from: String,
    pub to: String,
    pub sign_offs: Vec<SignOffView>,
    pub rationale: String,
    pub evidence: Vec<String>,
    pub decided_at: String,
    pub recorded_by: String,
    /// The audit entry that records it.
    pub audit_sequence: u64,
}

/// A deployment of a product version at a site, with its decisions (in
/// listings, without).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeploymentView {
    pub id: i64,
    pub product: i64,
    pub version: i64,
    pub site: String,
    pub owning_team: String,
    pub thresholds: Vec<ThresholdView>,
    /// The change kinds the change-control plan covers.
    pub change_control: Vec<String>,
    pub state: String,
    /// Incremented by every change of state; name it in sign-offs and
    /// transitions so that a decision made on stale information is refused.
    pub revision: i64,
    pub created_at: String,
    pub decisions: Vec<DecisionView>,
}

/// A deployment to register; it starts as `proposed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDeployment {
    pub version: i64,
    pub site: String,
    pub owning_team: String,
    #[serde(default)]
    pub thresholds: Vec<ThresholdView>,
    #[serde(default)]
    pub change_control: Vec<String>,
}

/// Moving a deployment to a newer version of its product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpgradeRequest {
    pub version: i64,
}

/// The caller's signature, in their role, for moving the deployment to
/// `to` from the state it is in at `revision`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignOffRequest {
    pub to: String,
    pub revision: i64,
}

/// A signature given ahead of a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PendingSignOffView {
    pub user_name: String,
    pub role: String,
    pub to: String,
    pub revision: i64,
    pub signed_at: String,
}

/// A governance decision to record. The caller signs in their own role;
/// the signatures given ahead for the same transition and revision are
/// collected with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    pub from: String,
    pub to: String,
    pub revision: i64,
    pub rationale: String,
    #[serde(default)]
    pub evidence: Vec<String>,
    /// The open alert whose proposal this suspension follows (live to
    /// suspended only); it is cited as evidence.
    #[serde(default)]
    pub alert: Option<i64>,
}

/// A local validation to run and store against a deployment: the case
/// table (CSV text), the protocol (TOML text) and the options of
/// `vigil evaluate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationRequest {
    pub cases_csv: String,
    #[serde(default)]
    pub protocol_toml: Option<String>,
    #[serde(default)]
    pub label_column: Option<String>,
    #[serde(default)]
    pub score_column: Option<String>,
    #[serde(default)]
    pub positive_label: Option<String>,
    #[serde(default)]
    pub compare_column: Option<String>,
    #[serde(default)]
    pub threshold: Option<f64>,
    #[serde(default)]
    pub subgroup_columns: Vec<String>,
    #[serde(default)]
    pub drop_missing: bool,
}

/// A stored evaluation. `result` (the JSON contract of `vigil evaluate`)
/// is present when one evaluation is fetched, absent in listings; the HTML
/// report is at `/api/v1/evaluations/{id}/report`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvaluationView {
    pub id: i64,
    pub deployment: i64,
    pub version: i64,
    /// pass, fail or not_assessed.
    pub verdict: String,
    pub cases_sha256: String,
    pub cases_bytes: i64,
    pub created_by: String,
    pub created_at: String,
    pub audit_sequence: u64,
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntryView {
    pub sequence: u64,
    pub recorded_at: String,
    pub actor: String,
    pub role: String,
    pub organisation: String,
    pub action: String,
    pub subject: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub hash: String,
}

/// A page of the audit trail, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditEntryView>,
    /// Pass as `before` for the next (older) page; absent on the last.
    pub next_before: Option<u64>,
}

/// The result of checking the whole audit trail. The trail is the whole
/// database's: its size, head and problem are told to national
/// administrators only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditVerification {
    /// "intact" or "broken".
    pub status: String,
    pub entries: Option<u64>,
    /// The hash of the last entry, when intact.
    pub head_hash: Option<String>,
    /// What is wrong, when broken.
    pub problem: Option<String>,
}

/// The roles one transition requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PolicyRequirement {
    pub from: String,
    pub to: String,
    pub roles: Vec<String>,
    /// Required as well for radiotherapy tools.
    pub radiotherapy_roles: Vec<String>,
}

/// The sign-off policy in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PolicyView {
    /// 0 for the built-in defaults.
    pub version: i64,
    pub requirements: Vec<PolicyRequirement>,
}

/// What storing a batch of inference events did. A resent batch stores
/// nothing twice: its events count as duplicates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IngestResult {
    pub batch: i64,
    pub received: u64,
    pub stored: u64,
    pub duplicates: u64,
}

/// What storing a batch of outcomes did. A resent outcome (same case and
/// source, same content) counts as a duplicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OutcomeIngestResult {
    pub batch: i64,
    pub received: u64,
    pub stored: u64,
    pub duplicates: u64,
    /// Stored events whose counts changed with these outcomes.
    pub events_updated: u64,
}

/// A day's events counted against the outcomes of their cases (the ground
/// truth is the most authoritative source: pathology, follow-up, report,
/// reader).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OutcomeCountsView {
    /// Events whose case has a ground truth.
    pub labelled: u64,
    /// Of those, events whose case is positive.
    pub positives: u64,
    pub true_positives: u64,
    pub false_positives: u64,
    pub true_negatives: u64,
    pub false_negatives: u64,
    /// Scores of events whose case is positive, in 100 bins over [0, 1].
    pub positive_scores: Vec<u64>,
    /// Scores of events whose case is negative, in 100 bins.
    pub negative_scores: Vec<u64>,
    /// Events a reader reviewed (agreement known) and those where the
    /// reader disagreed with the tool.
    pub reader_reviewed: u64,
    pub reader_disagreed: u64,
}

/// The counts of one day's events of one model version: events, a 20-bin
/// score histogram over [0, 1], decisions, metadata category counts, and
/// what the outcomes recorded so far say of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DayAggregateView {
    /// YYYY-MM-DD, the UTC date of `occurred_at`.
    pub day: String,
    pub model_version: String,
    pub events: u64,
    pub scored: u64,
    /// Bin i holds scores in [i/20, (i+1)/20); the last also 1.
    pub score_histogram: Vec<u64>,
    pub decided: u64,
    pub positive_decisions: u64,
    /// For each categorical field, the count of each value.
    #[schema(value_type = Object)]
    pub categories: std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
    /// For `slice_thickness_mm` and `kvp`, the count of each value (three
    /// decimals).
    #[schema(value_type = Object)]
    pub measurements: std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
    pub outcomes: OutcomeCountsView,
}

/// One version of a deployment's monitoring rules. `rules` is the rule set
/// as JSON (`baseline` and `rules`; see `vigil_monitor::rules`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RulesView {
    pub deployment: i64,
    pub version: i64,
    pub reason: String,
    pub created_by: String,
    pub created_at: String,
    #[schema(value_type = Object)]
    pub rules: serde_json::Value,
}

/// A new version of a deployment's rules: the rule set as JSON (`rules`) or
/// as TOML text (`rules_toml`), exactly one of them; why it changes; and
/// the version the editor started from (0 for none), so that an edit made
/// meanwhile is not overwritten.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulesEdit {
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub rules: Option<serde_json::Value>,
    #[serde(default)]
    pub rules_toml: Option<String>,
    pub reason: String,
    pub expected_version: i64,
}

/// One version of a deployment's success criteria: what its productivity
/// audit must show for it to scale. `criteria` is a list of criteria as
/// JSON, each with its `kind` (see `vigil_monitor::productivity`), e.g.
/// `{"kind": "median_turnaround_reduction", "cases": "flagged", "minutes": 30}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SuccessCriteriaView {
    pub deployment: i64,
    pub version: i64,
    #[schema(value_type = Vec<Object>)]
    pub criteria: serde_json::Value,
    pub rationale: String,
    pub registered_by: String,
    pub registered_at: String,
}

/// New success criteria for a deployment (registered before go-live), with
/// the reason for the bar they set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuccessCriteriaEdit {
    #[schema(value_type = Vec<Object>)]
    pub criteria: serde_json::Value,
    pub rationale: String,
}

/// A deployment's productivity audit: report turnaround of the cases it saw
/// before and after go-live, the cases it prioritised, each success
/// criterion's verdict and the recommendation (`audit`, as
/// `vigil_monitor::productivity::ProductivityAudit` in JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProductivityView {
    pub deployment: i64,
    /// The Trust whose report times were read.
    pub trust: String,
    #[schema(value_type = Object)]
    pub audit: serde_json::Value,
}

/// A hazard of a deployment's log at its current revision. `hazard` is the
/// hazard as written (`title`, `cause`, `effect`, `controls`, `initial` and
/// `residual` ratings, `owner`, `status`); the ratings on the 5×5 matrix
/// are given beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HazardView {
    pub id: i64,
    pub deployment: i64,
    pub revision: i64,
    #[schema(value_type = Object)]
    pub hazard: serde_json::Value,
    pub status: String,
    /// 1 (acceptable) to 5 (unacceptable), before the controls.
    pub initial_rating: u8,
    /// 1 to 5, with the controls.
    pub residual_rating: u8,
    /// What the residual rating asks for.
    pub residual_acceptability: String,
    pub updated_by: String,
    pub updated_at: String,
    /// The alerts linked to the hazard.
    pub alerts: Vec<i64>,
}

/// One revision of a hazard and why it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HazardRevisionView {
    pub revision: i64,
    #[schema(value_type = Object)]
    pub hazard: serde_json::Value,
    pub reason: String,
    pub alert: Option<i64>,
    pub recorded_by: String,
    pub recorded_at: String,
}

/// A new hazard for a deployment's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHazard {
    #[schema(value_type = Object)]
    pub hazard: serde_json::Value,
}

/// A new revision of a hazard: the whole hazard, why it changes, and the
/// revision the editor started from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HazardEdit {
    #[schema(value_type = Object)]
    pub hazard: serde_json::Value,
    pub reason: String,
    pub expected_revision: i64,
}

/// Links an alert to a hazard of its deployment, putting it under review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HazardLink {
    pub hazard: i64,
    pub note: String,
}

/// A signature of a deployment's clinical safety case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SafetyCaseSignatureView {
    pub id: i64,
    /// The digest of the hazard log the signed report was made from.
    pub log_sha256: String,
    pub report_sha256: String,
    pub statement: String,
    pub signed_by: String,
    pub role: String,
    pub signed_at: String,
}

/// Where a deployment's safety case stands: the digest of its hazard log
/// now, whether the latest signature covers it, and every signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SafetyCaseStatusView {
    pub deployment: i64,
    pub log_sha256: String,
    pub hazards: usize,
    /// Whether the latest signature covers the log as it is now.
    pub signed: bool,
    /// Whether every hazard is settled and every control's evidence in
    /// Vigil supports it; `concerns` says what is not.
    pub acceptable: bool,
    pub concerns: Vec<String>,
    /// Newest first.
    pub signatures: Vec<SafetyCaseSignatureView>,
}

/// The clinical safety officer's signature of the safety case made from the
/// hazard log with digest `log_sha256` (as read from the report or its
/// status), with their statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SafetyCaseSign {
    pub log_sha256: String,
    pub statement: String,
}

/// A procurement assessment of a product version, with its score.
/// `template` is the template used (`name`, `version`, `pass_mark`,
/// `section`s of `question`s); `answers` the answers so far; `score` each
/// section's percentage, the weighted total, failed gate questions,
/// unanswered questions and the outcome (`pass`, `fail`, `incomplete`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProcurementAssessmentView {
    pub id: i64,
    pub version: i64,
    pub organisation: String,
    /// `draft` or `completed`.
    pub state: String,
    pub revision: i64,
    #[schema(value_type = Object)]
    pub template: serde_json::Value,
    #[schema(value_type = Vec<Object>)]
    pub answers: serde_json::Value,
    #[schema(value_type = Object)]
    pub score: serde_json::Value,
    /// `pass` or `fail` once completed.
    pub outcome: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
}

/// A new draft assessment of a product version: by the caller's
/// organisation unless another within it is named, with the default
/// template unless `template_toml` gives one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAssessment {
    pub version: i64,
    #[serde(default)]
    pub organisation: Option<String>,
    #[serde(default)]
    pub template_toml: Option<String>,
}

/// The answers of a draft assessment (all of them, replacing the stored
/// ones), and the revision the editor started from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentAnswers {
    #[schema(value_type = Vec<Object>)]
    pub answers: serde_json::Value,
    pub expected_revision: i64,
}

/// Completes a draft assessment at the revision the caller read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentCompletion {
    pub expected_revision: i64,
}

/// An evidence file kept for the caller's organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AttachmentView {
    pub sha256: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub organisation: String,
    /// False when the organisation already kept the same file.
    pub new: bool,
}

/// Assessments side by side: one row per section (and the total), one
/// column per assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AssessmentComparison {
    /// One per assessment: id, product and version in words, organisation,
    /// state, outcome.
    #[schema(value_type = Vec<Object>)]
    pub assessments: serde_json::Value,
    /// Rows: `section`, `title`, and `percent` (one value or null per
    /// assessment).
    #[schema(value_type = Vec<Object>)]
    pub rows: serde_json::Value,
}

/// The evidence behind a rule's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvidenceView {
    pub statistic: String,
    pub value: Option<f64>,
    /// Low and high ends of the confidence interval of `value`.
    pub interval: Option<[f64; 2]>,
    pub baseline: Option<f64>,
    pub p_value: Option<f64>,
    pub effect_size: Option<f64>,
    /// The rule's condition, in words.
    pub threshold: String,
    pub cases: u64,
    pub reference_cases: Option<u64>,
    pub explanation: String,
}

/// One rule judged on one day: `verdict` is signal, clear,
/// not_enough_data or unavailable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AssessmentView {
    pub rule: String,
    pub kind: String,
    pub window_from: String,
    pub window_to: String,
    pub verdict: String,
    pub propose_suspension: bool,
    pub evidence: EvidenceView,
}

/// An alert with its evidence; `state` is raised, acknowledged or resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AlertView {
    pub id: i64,
    pub deployment: i64,
    pub rule: String,
    pub rules_version: i64,
    pub state: String,
    pub proposes_suspension: bool,
    pub assessment: AssessmentView,
    pub raised_at: String,
    pub raised_by: String,
    pub acknowledged_at: Option<String>,
    pub acknowledged_by: Option<String>,
    pub acknowledgement: Option<String>,
    pub resolved_at: Option<String>,
    pub resolved_by: Option<String>,
    pub resolution: Option<String>,
}

/// A deployment's rules judged on one day, and the alerts that raised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeploymentAssessmentView {
    /// The version of the rules judged; absent when the deployment has none.
    pub rules_version: Option<i64>,
    pub as_of: String,
    pub assessments: Vec<AssessmentView>,
    pub raised: Vec<AlertView>,
}

/// A request to judge a deployment's rules now: on `as_of` (YYYY-MM-DD,
/// UTC; today when absent). Alerts due are raised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentRequest {
    #[serde(default)]
    pub as_of: Option<String>,
}

/// A person's note on moving an alert on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertNote {
    pub note: String,
}

/// A webhook to add: an organisation's alerts (and those of every site
/// below it) are POSTed to `url` as JSON, signed with HMAC-SHA256 under
/// `secret` (header `X-Vigil-Signature: sha256=<hex>`).
#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookCreate {
    pub organisation: String,
    pub url: String,
    pub secret: String,
}

impl std::fmt::Debug for WebhookCreate {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("WebhookCreate")
            .field("organisation", &self.organisation)
            .field("url", &"(redacted)")
            .field("secret", &"(redacted)")
            .finish()
    }
}

/// A webhook (its secret is never shown).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookView {
    pub id: i64,
    pub organisation: String,
    pub url: String,
    pub created_by: String,
    pub created_at: String,
    pub disabled: bool,
}

/// One deployment on a product's funnel plot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FunnelUnitView {
    pub deployment: i64,
    pub site: String,
    pub events: u64,
    pub cases: u64,
    pub proportion: f64,
    /// Limits at 95% and 99.8%, each [low, high].
    pub limits_95: [f64; 2],
    pub limits_998: [f64; 2],
    /// within, above or below, at 95% and at 99.8%.
    pub position_95: String,
    pub position_998: String,
}

/// Funnel-plot data for a product over the deployments the caller may see:
/// each deployment's proportion against the pooled proportion (`target`)
/// with exact binomial limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FunnelView {
    pub product: i64,
    /// positive_rate, sensitivity, specificity, ppv or discordance.
    pub metric: String,
    pub from: String,
    pub to: String,
    pub target: Option<f64>,
    pub units: Vec<FunnelUnitView>,
}

/// A DICOM instance received from the hospital network, by its pseudonyms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DicomInstanceView {
    pub id: i64,
    /// The Trust whose caller sent it.
    pub trust: String,
    /// The SOP Instance UID's pseudonym.
    pub sop_instance: String,
    pub sop_class_uid: String,
    /// `sr`, `seg`, `rtstruct`, `image` or `other`.
    pub kind: String,
    /// The Study Instance UID's pseudonym.
    pub study: String,
    pub modality: Option<String>,
    pub calling_ae: String,
    pub received_at: String,
    /// `event`, `acquisition` or `quarantined`.
    pub disposition: String,
    /// The deployment whose event it became.
    pub deployment: Option<i64>,
    /// Why it was quarantined.
    pub reason: Option<String>,
    /// The SHA-256 of its original file, when the server keeps originals.
    pub original_sha256: Option<String>,
}

/// A report's times on a case, as the RIS sent them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportTimeView {
    pub id: i64,
    pub trust: String,
    /// The case: its accession number's pseudonym.
    pub case: String,
    /// `preliminary`, `final`, `amended` or `corrected`.
    pub status: String,
    /// When the examination was done, when the report said (RFC 3339).
    pub examined_at: Option<String>,
    /// When the report was issued (RFC 3339).
    pub issued_at: String,
    /// Minutes from examination to issue, when both are known.
    pub turnaround_minutes: Option<f64>,
    /// `fhir` or `hl7`.
    pub channel: String,
    pub received_at: String,
    /// Who reported it: the pseudonym of the RIS's identifier of the
    /// reader, when the RIS said.
    pub reader: Option<String>,
}

/// A page of report times, newest recorded first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportTimePage {
    pub times: Vec<ReportTimeView>,
    /// Pass as `before` for the next page; absent on the last.
    pub next_before: Option<i64>,
}

/// A page of received DICOM instances, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DicomInstancePage {
    pub instances: Vec<DicomInstanceView>,
    /// Pass as `before` for the next page; absent on the last.
    pub next_before: Option<i64>,
}
