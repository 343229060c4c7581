//! The storage interface of Vigil's system of record.
//!
//! [`Store`] is implemented by one crate per database (`vigil-store-sqlite`,
//! `vigil-store-postgres`). Backends move rows; this crate owns everything
//! that is the same whatever the database: the row types ([`rows`]), their
//! conversion to and from domain types, the audit payloads, the governance
//! checks made inside a write transaction ([`governance`]), the portable
//! archive ([`archive`]) and the story test suite that every backend must
//! pass (`story`, behind the `story` feature).
//!
//! Every write appends to the hash-chained audit trail in the same
//! transaction as the change, and updates the recorded head of the chain.

pub mod archive;
pub mod archive_tables;
pub mod consistency;
#[cfg(feature = "sqlx")]
pub mod decode;
mod error;
pub mod governance;
pub mod monitoring;
pub mod records;
pub mod rows;
pub mod safety;
#[cfg(feature = "sqlx")]
pub mod sql;
#[cfg(feature = "story")]
pub mod story;

use std::future::Future;

use jiff::Timestamp;
use vigil_audit::{RecordedHead, StoredEntry};
use vigil_domain::{
    Deployment, LifecycleState, Organisation, Product, ProductVersion, SignOffPolicy,
    TransitionRequest,
};

pub use archive::Archive;
pub use error::StoreError;
#[cfg(feature = "sqlx")]
#[doc(hidden)]
pub use futures_core;
pub use records::hazard_log_sha256;
pub use records::{
    Actor, AlertRecord, AlertState, ApiTokenRecord, AssessmentRecord, AttachmentRecord,
    ChangeContext, DecisionRecord, DeploymentId, DeploymentRecord, DicomDisposition,
    DicomInstanceQuery, DicomInstanceRecord, DicomRecorded, DueDelivery, EvaluationRecord,
    HazardRecord, HazardRevision, IngestSummary, LoginRecord, NewApiToken, NewEvaluation, NewUser,
    OutcomeIngestSummary, PendingSignOff, ProductId, ProductRecord, ProductivityInputs,
    ReportTimeQuery, ReportTimeRecord, RulesRecord, SafetyCaseSignature, SessionRecord,
    SuccessCriteriaRecord, UserChange, UserRecord, VersionId, VersionRecord, WebhookRecord,
};
/// Re-exported for the backends, whose SQL (written here) stores events.
pub use vigil_monitor;

/// The stored audit trail and its recorded head, read together.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditTrail {
    pub entries: Vec<StoredEntry>,
    pub head: Option<RecordedHead>,
    /// Whether the registry holds anything (organisations or users): an
    /// empty chain beside a non-empty registry means the chain was removed.
    pub registry_is_empty: bool,
}

/// The sign-off policy in force.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPolicy {
    /// 0 for the built-in defaults.
    pub version: i64,
    /// The configuration entries (empty for the defaults).
    pub entries: Vec<(String, Vec<String>)>,
    pub policy: SignOffPolicy,
}

/// What every database backend provides. Each mutating method runs in one
/// transaction that also appends its audit entry: it either happens
/// completely, audit entry included, or not at all.
pub trait Store: Send + Sync {
    /// A short name for messages, e.g. "sqlite".
    fn backend_name(&self) -> &'static str;

    /// Checks that the database answers (for readiness probes).
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Applies the embedded migrations that have not been applied yet.
    fn migrate(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn add_organisation(
        &self,
        context: &ChangeContext,
        organisation: &Organisation,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Creates the organisation tree and the first administrator of an
    /// empty database, all in one transaction: either everything is written
    /// or nothing.
    fn initialise(
        &self,
        context: &ChangeContext,
        organisations: &[Organisation],
        administrator: &NewUser,
    ) -> impl Future<Output = Result<UserRecord, StoreError>> + Send;

    /// All organisations, parents before children.
    fn organisations(&self) -> impl Future<Output = Result<Vec<Organisation>, StoreError>> + Send;

    fn add_user(
        &self,
        context: &ChangeContext,
        user: &NewUser,
    ) -> impl Future<Output = Result<UserRecord, StoreError>> + Send;

    fn users(&self) -> impl Future<Output = Result<Vec<UserRecord>, StoreError>> + Send;

    fn add_product(
        &self,
        context: &ChangeContext,
        product: &Product,
    ) -> impl Future<Output = Result<ProductId, StoreError>> + Send;

    /// All products with their versions.
    fn products(&self) -> impl Future<Output = Result<Vec<ProductRecord>, StoreError>> + Send;

    fn product(
        &self,
        id: ProductId,
    ) -> impl Future<Output = Result<ProductRecord, StoreError>> + Send;

    fn add_version(
        &self,
        context: &ChangeContext,
        product: ProductId,
        version: &ProductVersion,
    ) -> impl Future<Output = Result<VersionId, StoreError>> + Send;

    /// Deploys a product version at a site; the deployment starts as
    /// `proposed`.
    fn add_deployment(
        &self,
        context: &ChangeContext,
        version: VersionId,
        deployment: &Deployment,
    ) -> impl Future<Output = Result<DeploymentId, StoreError>> + Send;

    /// All deployments, without their decisions.
    fn deployments(&self)
    -> impl Future<Output = Result<Vec<DeploymentRecord>, StoreError>> + Send;

    /// One deployment with its decisions, oldest first.
    fn deployment(
        &self,
        id: DeploymentId,
    ) -> impl Future<Output = Result<DeploymentRecord, StoreError>> + Send;

    /// Moves a deployment through the lifecycle under the sign-off policy
    /// in force (read inside the same transaction). The request names the
    /// state the caller saw (`request.from`); if another decision changed it
    /// first, this is a [`StoreError::Conflict`] and nothing is written. With
    /// `expected_revision`, any change since that revision is a conflict too
    /// (even one that came back to the same state).
    fn transition(
        &self,
        context: &ChangeContext,
        id: DeploymentId,
        request: TransitionRequest,
        expected_revision: Option<i64>,
    ) -> impl Future<Output = Result<DecisionRecord, StoreError>> + Send;

    /// Stores a new version of the sign-off policy (configuration entries as
    /// read by `SignOffPolicy::parse_toml_like`), audited; returns its
    /// version number.
    fn set_sign_off_policy(
        &self,
        context: &ChangeContext,
        entries: &[(String, Vec<String>)],
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// The sign-off policy in force: the newest stored version, or the
    /// built-in defaults (version 0).
    fn sign_off_policy(&self) -> impl Future<Output = Result<StoredPolicy, StoreError>> + Send;

    /// Moves a deployment to a newer version of its product. It keeps its
    /// state only where its change-control plan covers the version's kind of
    /// change; otherwise it re-enters validation.
    fn upgrade_deployment(
        &self,
        context: &ChangeContext,
        id: DeploymentId,
        version: VersionId,
    ) -> impl Future<Output = Result<DeploymentRecord, StoreError>> + Send;

    /// Changes a user's role or status, audited; ends their sessions, so
    /// that a role change or a disabling takes effect at once, and then
    /// revokes the API tokens the user made (a token must not keep the
    /// authority its maker lost).
    fn update_user(
        &self,
        context: &ChangeContext,
        user: i64,
        change: UserChange,
    ) -> impl Future<Output = Result<UserRecord, StoreError>> + Send;

    /// Creates a user with a password hash in one transaction (two audit
    /// entries: `user.add`, `user.password`).
    fn add_user_with_password(
        &self,
        context: &ChangeContext,
        user: &NewUser,
        password_hash: &str,
    ) -> impl Future<Output = Result<UserRecord, StoreError>> + Send;

    /// Sets a user's password hash (argon2id, PHC string), audited without
    /// the hash; ends their sessions.
    fn set_password_hash(
        &self,
        context: &ChangeContext,
        user: i64,
        password_hash: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The user of a user name with their password hash, for signing in.
    fn login_record(
        &self,
        user_name: &str,
    ) -> impl Future<Output = Result<Option<LoginRecord>, StoreError>> + Send;

    /// Records a new session (by the SHA-256 of its token) for the actor of
    /// `context`, with its audit entry `session.login`.
    fn create_session(
        &self,
        context: &ChangeContext,
        user: i64,
        token_hash: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The session with this token hash and its user, if it exists.
    fn session(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<SessionRecord>, StoreError>> + Send;

    /// Records that a session was used at `at` (not audited).
    fn touch_session(
        &self,
        token_hash: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Ends a session. With a context, the ending is audited as `action`
    /// (`session.logout`, `session.expired`); returns whether it existed.
    fn end_session(
        &self,
        context: Option<(&ChangeContext, &str)>,
        token_hash: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Appends an audit entry that changes no table: a sign-in failure, a
    /// denied request. Returns its sequence number.
    fn record_event(
        &self,
        context: &ChangeContext,
        action: &str,
        subject: &str,
        payload: &serde_json::Value,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Creates an API token (its hash only), audited.
    fn add_api_token(
        &self,
        context: &ChangeContext,
        token: &NewApiToken,
    ) -> impl Future<Output = Result<ApiTokenRecord, StoreError>> + Send;

    /// Every API token, revoked ones included.
    fn api_tokens(&self) -> impl Future<Output = Result<Vec<ApiTokenRecord>, StoreError>> + Send;

    /// The API token with this hash, if it exists (revoked or not).
    fn api_token_by_hash(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<ApiTokenRecord>, StoreError>> + Send;

    /// Records that a token was used at `at` (not audited).
    fn touch_api_token(
        &self,
        id: i64,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Revokes an API token, audited; revoking twice is a conflict.
    fn revoke_api_token(
        &self,
        context: &ChangeContext,
        id: i64,
    ) -> impl Future<Output = Result<ApiTokenRecord, StoreError>> + Send;

    /// Records the actor's signature, in their role, for moving `deployment`
    /// to `to` from the state it is in at `revision`; audited. A revision
    /// that is no longer current is a conflict.
    fn add_sign_off(
        &self,
        context: &ChangeContext,
        deployment: DeploymentId,
        revision: i64,
        to: LifecycleState,
    ) -> impl Future<Output = Result<PendingSignOff, StoreError>> + Send;

    /// The signatures given for a deployment at its current revision.
    fn pending_sign_offs(
        &self,
        deployment: DeploymentId,
    ) -> impl Future<Output = Result<Vec<PendingSignOff>, StoreError>> + Send;

    /// Stores an evaluation against a deployment, audited with the SHA-256
    /// of its protocol, cases, result and report.
    fn add_evaluation(
        &self,
        context: &ChangeContext,
        evaluation: &NewEvaluation,
    ) -> impl Future<Output = Result<EvaluationRecord, StoreError>> + Send;

    /// The evaluations of a deployment (all when `None`), oldest first,
    /// without their result and report.
    fn evaluations(
        &self,
        deployment: Option<DeploymentId>,
    ) -> impl Future<Output = Result<Vec<EvaluationRecord>, StoreError>> + Send;

    /// One evaluation with its result and report.
    fn evaluation(
        &self,
        id: i64,
    ) -> impl Future<Output = Result<EvaluationRecord, StoreError>> + Send;

    /// Stores a validated batch of inference events for a deployment, all or
    /// nothing, in one transaction: the events not stored before (by
    /// `event_id`), the day aggregates they change, one batch row and its
    /// audit entry `events.ingest` (with the SHA-256 of the body as sent).
    /// A batch whose events were all stored before stores nothing but its
    /// batch row and entry.
    fn ingest_events(
        &self,
        context: &ChangeContext,
        deployment: DeploymentId,
        events: &[vigil_monitor::Event],
        body_sha256: &str,
    ) -> impl Future<Output = Result<IngestSummary, StoreError>> + Send;

    /// Stores a validated batch of outcomes for a deployment, all or
    /// nothing, in one transaction: the outcomes not stored before (by case
    /// and source; one stored before with other content is a conflict),
    /// the changes they make to the day aggregates of their cases' events,
    /// one batch row and its audit entry `outcomes.ingest`.
    fn ingest_outcomes(
        &self,
        context: &ChangeContext,
        deployment: DeploymentId,
        outcomes: &[vigil_monitor::Outcome],
        body_sha256: &str,
    ) -> impl Future<Output = Result<OutcomeIngestSummary, StoreError>> + Send;

    /// The rules in force for a deployment (its highest version), if any.
    fn rules(
        &self,
        deployment: DeploymentId,
    ) -> impl Future<Output = Result<Option<RulesRecord>, StoreError>> + Send;

    /// Every version of a deployment's rules, oldest first.
    fn rule_history(
        &self,
        deployment: DeploymentId,
    ) -> impl Future<Output = Result<Vec<RulesRecord>, StoreError>> + Send;

    /// Stores a new version of a deployment's rules, audited (`rules.set`)
    /// with its reason. `expected_version` (the version the editor saw; 0
    /// for none) guards against a lost update: another version stored
    /// since is a conflict.
    fn set_rules(
        &self,
        context: &ChangeContext,
        deployment: DeploymentId,
        rules: &vigil_monitor::RuleSet,
        reason: &str,
        expected_version: Option<i64>,
    ) -> impl Future<Output = Result<RulesRecord, StoreError>> + Send;

    /// The success criteria in force for a deployment (its highest
    /// version), if any.
    fn success_criteria(
        &self,
        deployment: DeploymentId,
    ) -> impl Future<Output = Result<Option<SuccessCriteriaRecord>, StoreError>> + Send;

    /// Registers a new version of a deployment's success criteria, audited
    /// (`criteria.register`) with its rationale. Refused while the
    /// deployment is live or retired: criteria are set before the results
    /// they judge are seen (a suspended deployment may register new ones
    /// before it goes live again).
    fn register_success_criteria(
        &self,
        context: &ChangeContext,
        deployment: DeploymentId,
        criteria: &[vigil_monitor::productivity::SuccessCriterion],
        rationale: &str,
    ) -> impl Future<Output = Result<SuccessCriteriaRecord, StoreError>> + Send;

    /// The inputs of a deployment's productivity audit: its latest move to
    /// live, and every case it saw (first event, whether any event called it
    /// positive) with the report times recorded for that case at `trust`.
    fn productivity_inputs(
        &self,
        deployment: DeploymentId,
        trust: &vigil_domain::Code,
    ) -> impl Future<Output = Result<ProductivityInputs, StoreError>> + Send;

    /// Adds a hazard to a deployment's log at revision 1, audited
    /// (`hazard.add`).
    fn add_hazard(
        &self,
        context: &ChangeContext,
        deployment: DeploymentId,
        hazard: &vigil_domain::Hazard,
    ) -> impl Future<Output = Result<HazardRecord, StoreError>> + Send;

    /// Records a new revision of a hazard with the reason for it, audited
    /// (`hazard.update`). `expected_revision` is the revision the editor
    /// saw: another revision stored since is a conflict.
    fn update_hazard(
        &self,
        context: &ChangeContext,
        id: i64,
        hazard: &vigil_domain::Hazard,
        reason: &str,
        expected_revision: i64,
    ) -> impl Future<Output = Result<HazardRecord, StoreError>> + Send;

    /// Links an alert to a hazard of the same deployment and puts the hazard
    /// under review (a new revision, audited as `hazard.review`); linking
    /// the same pair again changes nothing. When the alert is resolved, the
    /// hazard's status before the review is restored as a new revision
    /// whose reason is the resolution: the recorded reassessment.
    fn link_alert_to_hazard(
        &self,
        context: &ChangeContext,
        alert: i64,
        hazard: i64,
        note: &str,
    ) -> impl Future<Output = Result<HazardRecord, StoreError>> + Send;

    /// The hazards of a deployment, in the order they were added.
    fn hazards(
        &self,
        deployment: DeploymentId,
    ) -> impl Future<Output = Result<Vec<HazardRecord>, StoreError>> + Send;

    /// One hazard.
    fn hazard(&self, id: i64) -> impl Future<Output = Result<HazardRecord, StoreError>> + Send;

    /// Every revision of a hazard, oldest first.
    fn hazard_history(
        &self,
        id: i64,
    ) -> impl Future<Output = Result<Vec<HazardRevision>, StoreError>> + Send;

    /// Records the clinical safety officer's signature of a deployment's
    /// safety case, audited (`safety_case.sign`). `log_sha256` is the digest
    /// of the hazard log the signer read ([`hazard_log_sha256`]): if the log
    /// has changed since, the signature is refused as a conflict and
    /// nothing is written.
    fn sign_safety_case(
        &self,
        context: &ChangeContext,
        deployment: DeploymentId,
        log_sha256: &str,
        report_sha256: &str,
        statement: &str,
    ) -> impl Future<Output = Result<SafetyCaseSignature, StoreError>> + Send;

    /// The signatures of a deployment's safety case, newest first.
    fn safety_case_signatures(
        &self,
        deployment: DeploymentId,
    ) -> impl Future<Output = Result<Vec<SafetyCaseSignature>, StoreError>> + Send;

    /// Opens a draft procurement assessment of a product version by an
    /// organisation with a checked template (its TOML kept whole), audited
    /// (`procurement.create`).
    fn create_assessment(
        &self,
        context: &ChangeContext,
        version: VersionId,
        organisation: &vigil_domain::Code,
        template_toml: &str,
    ) -> impl Future<Output = Result<AssessmentRecord, StoreError>> + Send;

    /// Replaces a draft assessment's answers (checked against its template
    /// by the caller), audited (`procurement.answer`); a completed
    /// assessment or another revision since `expected_revision` is a
    /// conflict.
    fn save_answers(
        &self,
        context: &ChangeContext,
        id: i64,
        answers: &[vigil_domain::procurement::Answer],
        expected_revision: i64,
    ) -> impl Future<Output = Result<AssessmentRecord, StoreError>> + Send;

    /// Completes a draft assessment with its outcome (`pass` or `fail`) and
    /// total, audited (`procurement.complete`). The outcome is recomputed
    /// from the stored template and answers inside the transaction: an
    /// unanswered question is a conflict.
    fn complete_assessment(
        &self,
        context: &ChangeContext,
        id: i64,
        expected_revision: i64,
    ) -> impl Future<Output = Result<AssessmentRecord, StoreError>> + Send;

    /// Records an assessment whole — opened, answered and completed in one
    /// transaction, with the three audit entries of those steps — for an
    /// assessment made outside Vigil and entered at once: either it is
    /// stored completed, or (an unknown version or organisation, answers
    /// that do not fit the template, a question unanswered) nothing is.
    fn record_assessment(
        &self,
        context: &ChangeContext,
        version: VersionId,
        organisation: &vigil_domain::Code,
        template_toml: &str,
        answers: &[vigil_domain::procurement::Answer],
    ) -> impl Future<Output = Result<AssessmentRecord, StoreError>> + Send;

    /// One assessment.
    fn assessment(
        &self,
        id: i64,
    ) -> impl Future<Output = Result<AssessmentRecord, StoreError>> + Send;

    /// The assessments of the given organisations (all when `None`),
    /// optionally of one version, newest first.
    fn assessments(
        &self,
        organisations: Option<&[String]>,
        version: Option<VersionId>,
    ) -> impl Future<Output = Result<Vec<AssessmentRecord>, StoreError>> + Send;

    /// Keeps an evidence file for an organisation under its SHA-256; the
    /// same file kept again is the same attachment. Audited
    /// (`attachment.add`) when new. Returns the record and whether it is new.
    fn add_attachment(
        &self,
        context: &ChangeContext,
        organisation: &vigil_domain::Code,
        media_type: &str,
        content: &[u8],
    ) -> impl Future<Output = Result<(AttachmentRecord, bool), StoreError>> + Send;

    /// An attachment of one of the given organisations, with its content.
    fn attachment(
        &self,
        organisations: &[String],
        sha256: &str,
    ) -> impl Future<Output = Result<Option<(AttachmentRecord, Vec<u8>)>, StoreError>> + Send;

    /// Raises an alert for each assessment that signals and whose rule has
    /// no open alert, each audited (`alert.raise`) and queued for the
    /// webhooks of the deployment's site and the organisations above it,
    /// in one transaction. Returns the alerts raised now.
    fn raise_alerts(
        &self,
        context: &ChangeContext,
        deployment: DeploymentId,
        rules_version: i64,
        assessments: &[vigil_monitor::Assessment],
    ) -> impl Future<Output = Result<Vec<AlertRecord>, StoreError>> + Send;

    /// The alerts of a deployment, newest first.
    fn alerts(
        &self,
        deployment: DeploymentId,
    ) -> impl Future<Output = Result<Vec<AlertRecord>, StoreError>> + Send;

    /// One alert.
    fn alert(&self, id: i64) -> impl Future<Output = Result<AlertRecord, StoreError>> + Send;

    /// Moves an alert on — raised to acknowledged, or acknowledged to
    /// resolved — with the person's note, audited (`alert.acknowledge`,
    /// `alert.resolve`) and queued for the webhooks. Any other move is
    /// refused.
    fn advance_alert(
        &self,
        context: &ChangeContext,
        id: i64,
        to: AlertState,
        note: &str,
    ) -> impl Future<Output = Result<AlertRecord, StoreError>> + Send;

    /// Adds a webhook for an organisation's alerts (audited without its
    /// secret).
    fn add_webhook(
        &self,
        context: &ChangeContext,
        organisation: &vigil_domain::Code,
        url: &str,
        secret: &str,
    ) -> impl Future<Output = Result<WebhookRecord, StoreError>> + Send;

    /// Records a received DICOM instance (by its pseudonyms) and what became
    /// of it, idempotently: the same instance sent again by the same Trust
    /// is recorded once, unless it was quarantined and is now routed, when
    /// its record is released (audited `dicom.release`). A quarantined
    /// instance is audited (`dicom.quarantine`); the events of routed ones
    /// are stored beforehand with [`Store::ingest_events`], which audits
    /// them.
    fn record_dicom_instance(
        &self,
        context: &ChangeContext,
        instance: &DicomInstanceRecord,
    ) -> impl Future<Output = Result<DicomRecorded, StoreError>> + Send;

    /// Stores a received result's event (as [`Store::ingest_events`] does)
    /// and records its instance (as [`Store::record_dicom_instance`] does)
    /// in one transaction: both, or neither. `instance.disposition` is the
    /// event's. A conflict (the event was stored before with other content)
    /// changes nothing.
    fn record_dicom_result(
        &self,
        context: &ChangeContext,
        deployment: DeploymentId,
        event: &vigil_monitor::Event,
        body_sha256: &str,
        instance: &DicomInstanceRecord,
    ) -> impl Future<Output = Result<DicomRecorded, StoreError>> + Send;

    /// Received DICOM instances, newest first.
    fn dicom_instances(
        &self,
        query: &DicomInstanceQuery,
    ) -> impl Future<Output = Result<Vec<DicomInstanceRecord>, StoreError>> + Send;

    /// Records the times of reports a Trust's RIS sent, in one transaction;
    /// a time recorded before (same case, status and issue) is kept once.
    /// Returns how many were new. Report times are data, like events: not
    /// audited one by one.
    fn record_report_times(
        &self,
        trust: &vigil_domain::Code,
        channel: vigil_domain::ReportChannel,
        received_at: Timestamp,
        timings: &[vigil_domain::ReportTiming],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Recorded report times, newest recorded first.
    fn report_times(
        &self,
        query: &ReportTimeQuery,
    ) -> impl Future<Output = Result<Vec<ReportTimeRecord>, StoreError>> + Send;

    /// The webhooks of the given organisations (all when `None`).
    fn webhooks(
        &self,
        organisations: Option<&[String]>,
    ) -> impl Future<Output = Result<Vec<WebhookRecord>, StoreError>> + Send;

    /// Deliveries due at `now`, oldest first, at most `limit`.
    fn due_deliveries(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<DueDelivery>, StoreError>> + Send;

    /// Records an attempt at a delivery: delivered, or failed with the next
    /// attempt's time (`None`: given up).
    fn record_delivery(
        &self,
        id: i64,
        at: Timestamp,
        outcome: Result<(), (String, Option<Timestamp>)>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The day aggregates of a deployment, oldest day first.
    fn daily_aggregates(
        &self,
        deployment: DeploymentId,
    ) -> impl Future<
        Output = Result<Vec<(vigil_monitor::DayKey, vigil_monitor::DayAggregate)>, StoreError>,
    > + Send;

    /// How many inference events a deployment has.
    fn event_count(
        &self,
        deployment: DeploymentId,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// A page of the audit trail, newest first: at most `limit` entries
    /// with a sequence number below `before` (all when `None`), made by
    /// actors of the given organisations (any when `None`).
    fn audit_page(
        &self,
        before: Option<u64>,
        limit: u32,
        organisations: Option<&[String]>,
    ) -> impl Future<Output = Result<Vec<StoredEntry>, StoreError>> + Send;

    /// The audit trail in insertion order, as stored, and the separately
    /// recorded head of the chain, both read from one consistent snapshot.
    fn audit_trail(&self) -> impl Future<Output = Result<AuditTrail, StoreError>> + Send;

    /// The registry, the audit trail and the monitoring tables' batches
    /// with their row counts ([`Archive::monitoring`]), from one snapshot:
    /// what verifying the trail reads.
    fn export_archive(&self) -> impl Future<Output = Result<Archive, StoreError>> + Send;

    /// Writes everything, as a portable archive, to `out` from one
    /// snapshot: the registry's line, then every table of
    /// [`archive_tables::ARCHIVED_TABLES`] row by row as it is read.
    fn export_archive_to(
        &self,
        out: &mut (dyn std::io::Write + Send),
    ) -> impl Future<Output = Result<archive::ArchiveCounts, StoreError>> + Send;

    /// Loads an archive into an empty database, keeping ids and the audit
    /// chain: its registry, and then its tables from `tables` (the rest of
    /// the archive after [`Archive::read_head`]; `None` for an archive of
    /// the first format, which has none). Refuses a non-empty database, an
    /// archive whose chain is broken or whose tables are cut short or
    /// malformed, and then writes nothing.
    fn import_archive(
        &self,
        archive: &Archive,
        tables: Option<&mut (dyn std::io::BufRead + Send)>,
    ) -> impl Future<Output = Result<archive::ArchiveCounts, StoreError>> + Send;
}
