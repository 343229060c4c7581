//! Rows as the databases hold them (text, integers and JSON text), and their
//! conversion to and from domain types. Backends only move rows; parsing
//! stored text back into domain types happens here, once.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use vigil_audit::{format_timestamp, parse_timestamp};
use vigil_domain::{
    ChangeControlPlan, ChangeKind, Code, Decision, Deployment, EvidenceReference, LifecycleState,
    Modality, NonEmptyText, OperatingThreshold, Organisation, OrganisationKind, Product,
    ProductVersion, RegulatoryClass, Role, SignOff, TaskType,
};

use crate::StoreError;
use crate::records::{
    ApiTokenRecord, DecisionRecord, DeploymentId, DeploymentRecord, EvaluationRecord,
    PendingSignOff, ProductId, ProductRecord, UserRecord, VersionId, VersionRecord,
};

fn text(what: &'static str, value: &str) -> Result<NonEmptyText, StoreError> {
    NonEmptyText::parse(value).map_err(|error| StoreError::corrupt(what, error))
}

fn code(what: &'static str, value: &str) -> Result<Code, StoreError> {
    Code::parse(value).map_err(|error| StoreError::corrupt(what, error))
}

/// Reads a stored moment, naming what it is when it cannot be read.
pub fn timestamp(what: &'static str, value: &str) -> Result<Timestamp, StoreError> {
    parse_timestamp(value).map_err(|error| StoreError::corrupt(what, error))
}

/// Formats a moment as stored: RFC 3339 UTC with microseconds.
pub fn stored_timestamp(at: Timestamp) -> String {
    format_timestamp(at)
}

/// A row of `organisations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganisationRow {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent: Option<String>,
    pub created_at: String,
}

impl OrganisationRow {
    pub fn new(organisation: &Organisation, at: Timestamp) -> Self {
        OrganisationRow {
            code: organisation.code.as_str().to_owned(),
            name: organisation.name.as_str().to_owned(),
            kind: organisation.kind.as_str().to_owned(),
            parent: organisation
                .parent
                .as_ref()
                .map(|parent| parent.as_str().to_owned()),
            created_at: stored_timestamp(at),
        }
    }

    pub fn to_domain(&self) -> Result<Organisation, StoreError> {
        Ok(Organisation {
            code: code("organisation code", &self.code)?,
            name: text("organisation name", &self.name)?,
            kind: OrganisationKind::parse(&self.kind)
                .map_err(|error| StoreError::corrupt("organisation kind", error))?,
            parent: self
                .parent
                .as_deref()
                .map(|parent| code("organisation parent", parent))
                .transpose()?,
        })
    }
}

/// A row of `users`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub user_name: String,
    pub display_name: String,
    pub role: String,
    pub organisation: String,
    pub created_at: String,
    /// 1 for a disabled user; absent in archives made before sign-in
    /// existed.
    #[serde(default)]
    pub disabled: i64,
}

impl UserRow {
    pub fn to_domain(&self) -> Result<UserRecord, StoreError> {
        Ok(UserRecord {
            id: self.id,
            user_name: text("user name", &self.user_name)?,
            display_name: text("user display name", &self.display_name)?,
            role: Role::parse(&self.role)
                .map_err(|error| StoreError::corrupt("user role", error))?,
            organisation: code("user organisation", &self.organisation)?,
            created_at: timestamp("user creation time", &self.created_at)?,
            disabled: match self.disabled {
                0 => false,
                1 => true,
                other => {
                    return Err(StoreError::corrupt(
                        "user status",
                        format!("disabled = {other}"),
                    ));
                }
            },
        })
    }
}

/// A row of `products`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductRow {
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
}

impl ProductRow {
    /// A row for a new product; `id` is assigned by the database.
    pub fn new(product: &Product, at: Timestamp) -> Self {
        ProductRow {
            id: 0,
            vendor: product.vendor.as_str().to_owned(),
            name: product.name.as_str().to_owned(),
            intended_purpose: product.intended_purpose.as_str().to_owned(),
            modality: product.modality.as_str().to_owned(),
            body_part: product.body_part.as_str().to_owned(),
            task_type: product.task_type.as_str().to_owned(),
            regulatory_class: product.regulatory_class.as_str().to_owned(),
            marking: product.marking.as_str().to_owned(),
            created_at: stored_timestamp(at),
        }
    }

    pub fn to_domain(&self, versions: Vec<VersionRecord>) -> Result<ProductRecord, StoreError> {
        let corrupt =
            |what| move |error: vigil_domain::DomainError| StoreError::corrupt(what, error);
        Ok(ProductRecord {
            id: ProductId(self.id),
            product: Product {
                vendor: text("product vendor", &self.vendor)?,
                name: text("product name", &self.name)?,
                intended_purpose: text("product intended purpose", &self.intended_purpose)?,
                modality: Modality::parse(&self.modality).map_err(corrupt("product modality"))?,
                body_part: text("product body part", &self.body_part)?,
                task_type: TaskType::parse(&self.task_type)
                    .map_err(corrupt("product task type"))?,
                regulatory_class: RegulatoryClass::parse(&self.regulatory_class)
                    .map_err(corrupt("product regulatory class"))?,
                marking: text("product marking", &self.marking)?,
            },
            created_at: timestamp("product creation time", &self.created_at)?,
            versions,
        })
    }
}

/// A row of `product_versions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionRow {
    pub id: i64,
    pub product_id: i64,
    pub version: String,
    pub release_date: String,
    pub change_notes: String,
    pub change_kind: String,
    pub created_at: String,
}

impl VersionRow {
    pub fn new(product: ProductId, version: &ProductVersion, at: Timestamp) -> Self {
        VersionRow {
            id: 0,
            product_id: product.0,
            version: version.version.as_str().to_owned(),
            release_date: version.release_date.to_string(),
            change_notes: version.change_notes.as_str().to_owned(),
            change_kind: version.change_kind.as_str().to_owned(),
            created_at: stored_timestamp(at),
        }
    }

    pub fn to_domain(&self) -> Result<VersionRecord, StoreError> {
        Ok(VersionRecord {
            id: VersionId(self.id),
            product: ProductId(self.product_id),
            version: ProductVersion {
                version: text("version string", &self.version)?,
                release_date: self
                    .release_date
                    .parse()
                    .map_err(|error| StoreError::corrupt("version release date", error))?,
                change_notes: text("version change notes", &self.change_notes)?,
                change_kind: ChangeKind::parse(&self.change_kind)
                    .map_err(|error| StoreError::corrupt("version change kind", error))?,
            },
            created_at: timestamp("version creation time", &self.created_at)?,
        })
    }
}

/// A row of `deployments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentRow {
    pub id: i64,
    pub product_id: i64,
    pub version_id: i64,
    pub site: String,
    pub owning_team: String,
    /// JSON: `[{"name": "default", "threshold": 0.35}]`.
    pub thresholds: String,
    /// JSON: the change kinds the change-control plan covers.
    pub change_control: String,
    pub state: String,
    pub revision: i64,
    pub created_at: String,
}

#[derive(Serialize, Deserialize)]
struct ThresholdJson {
    name: String,
    threshold: f64,
}

impl DeploymentRow {
    pub fn new(
        product: ProductId,
        version: VersionId,
        deployment: &Deployment,
        at: Timestamp,
    ) -> Self {
        let thresholds: Vec<ThresholdJson> = deployment
            .thresholds
            .iter()
            .map(|(name, threshold)| ThresholdJson {
                name: name.as_str().to_owned(),
                threshold: threshold.get(),
            })
            .collect();
        let kinds: Vec<&str> = deployment
            .change_control
            .kinds()
            .map(|kind| kind.as_str())
            .collect();
        DeploymentRow {
            id: 0,
            product_id: product.0,
            version_id: version.0,
            site: deployment.site.as_str().to_owned(),
            owning_team: deployment.owning_team.as_str().to_owned(),
            thresholds: serde_json::to_string(&thresholds).unwrap_or_else(|_| "[]".to_owned()),
            change_control: serde_json::to_string(&kinds).unwrap_or_else(|_| "[]".to_owned()),
            state: LifecycleState::Proposed.as_str().to_owned(),
            revision: 0,
            created_at: stored_timestamp(at),
        }
    }

    pub fn state(&self) -> Result<LifecycleState, StoreError> {
        LifecycleState::parse(&self.state)
            .map_err(|error| StoreError::corrupt("deployment state", error))
    }

    pub fn change_control(&self) -> Result<ChangeControlPlan, StoreError> {
        let kinds: Vec<String> = serde_json::from_str(&self.change_control)
            .map_err(|error| StoreError::corrupt("deployment change-control plan", error))?;
        let kinds = kinds
            .iter()
            .map(|kind| ChangeKind::parse(kind))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| StoreError::corrupt("deployment change-control plan", error))?;
        ChangeControlPlan::new(kinds)
            .map_err(|error| StoreError::corrupt("deployment change-control plan", error))
    }

    pub fn to_domain(
        &self,
        decisions: Vec<DecisionRecord>,
    ) -> Result<DeploymentRecord, StoreError> {
        let thresholds: Vec<ThresholdJson> = serde_json::from_str(&self.thresholds)
            .map_err(|error| StoreError::corrupt("deployment thresholds", error))?;
        let thresholds = thresholds
            .into_iter()
            .map(|entry| {
                Ok((
                    text("threshold name", &entry.name)?,
                    OperatingThreshold::parse(entry.threshold)
                        .map_err(|error| StoreError::corrupt("deployment threshold", error))?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(DeploymentRecord {
            id: DeploymentId(self.id),
            product: ProductId(self.product_id),
            version: VersionId(self.version_id),
            deployment: Deployment {
                site: code("deployment site", &self.site)?,
                owning_team: text("deployment owning team", &self.owning_team)?,
                thresholds,
                change_control: self.change_control()?,
            },
            state: self.state()?,
            revision: self.revision,
            created_at: timestamp("deployment creation time", &self.created_at)?,
            decisions,
        })
    }
}

/// A row of `decisions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRow {
    pub id: i64,
    pub deployment_id: i64,
    pub from_state: String,
    pub to_state: String,
    pub version_id: i64,
    /// JSON: `[{"actor": "...", "role": "..."}]`.
    pub sign_offs: String,
    pub rationale: String,
    /// JSON: list of evidence references.
    pub evidence: String,
    pub decided_by: String,
    pub decided_at: String,
    pub audit_sequence: i64,
}

#[derive(Serialize, Deserialize)]
struct SignOffJson {
    actor: String,
    role: String,
}

impl DecisionRow {
    pub fn new(
        deployment: DeploymentId,
        version: VersionId,
        decision: &Decision,
        decided_by: &str,
        audit_sequence: u64,
    ) -> Self {
        DecisionRow {
            id: 0,
            deployment_id: deployment.0,
            from_state: decision.from.as_str().to_owned(),
            to_state: decision.to.as_str().to_owned(),
            version_id: version.0,
            sign_offs: sign_offs_json(&decision.sign_offs).to_string(),
            rationale: decision.rationale.as_str().to_owned(),
            evidence: evidence_json(&decision.evidence).to_string(),
            decided_by: decided_by.to_owned(),
            decided_at: stored_timestamp(decision.decided_at),
            audit_sequence: audit_sequence as i64,
        }
    }

    pub fn to_domain(&self) -> Result<DecisionRecord, StoreError> {
        let state = |what, value: &str| {
            LifecycleState::parse(value).map_err(|error| StoreError::corrupt(what, error))
        };
        let sign_offs: Vec<SignOffJson> = serde_json::from_str(&self.sign_offs)
            .map_err(|error| StoreError::corrupt("decision sign-offs", error))?;
        let sign_offs = sign_offs
            .iter()
            .map(|entry| {
                Ok(SignOff {
                    actor: text("sign-off actor", &entry.actor)?,
                    role: Role::parse(&entry.role)
                        .map_err(|error| StoreError::corrupt("sign-off role", error))?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let evidence: Vec<String> = serde_json::from_str(&self.evidence)
            .map_err(|error| StoreError::corrupt("decision evidence", error))?;
        let evidence = evidence
            .iter()
            .map(|reference| {
                EvidenceReference::parse(reference)
                    .map_err(|error| StoreError::corrupt("evidence reference", error))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(DecisionRecord {
            id: self.id,
            deployment: DeploymentId(self.deployment_id),
            version: VersionId(self.version_id),
            decision: Decision {
                from: state("decision from-state", &self.from_state)?,
                to: state("decision to-state", &self.to_state)?,
                sign_offs,
                rationale: text("decision rationale", &self.rationale)?,
                evidence,
                decided_at: timestamp("decision time", &self.decided_at)?,
            },
            recorded_by: self.decided_by.clone(),
            audit_sequence: u64::try_from(self.audit_sequence)
                .map_err(|error| StoreError::corrupt("decision audit sequence", error))?,
        })
    }
}

/// Sign-offs as JSON, in the decision's order.
pub fn sign_offs_json(sign_offs: &[SignOff]) -> serde_json::Value {
    json!(
        sign_offs
            .iter()
            .map(
                |sign_off| json!({"actor": sign_off.actor.as_str(), "role": sign_off.role.as_str()})
            )
            .collect::<Vec<_>>()
    )
}

/// Evidence references as JSON.
pub fn evidence_json(evidence: &[EvidenceReference]) -> serde_json::Value {
    json!(
        evidence
            .iter()
            .map(|reference| reference.as_str())
            .collect::<Vec<_>>()
    )
}

/// A row of `audit_log`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub sequence: i64,
    pub recorded_at: String,
    pub actor: String,
    pub role: String,
    pub organisation: String,
    pub action: String,
    pub subject: String,
    pub payload: String,
    pub previous_hash: String,
    pub hash: String,
}

impl AuditRow {
    /// The stored entry for verification. A row whose text no longer parses
    /// still yields an entry (with a sentinel timestamp) so that verification
    /// reports the exact entry as edited rather than failing to read.
    pub fn to_stored_entry(&self) -> vigil_audit::StoredEntry {
        vigil_audit::StoredEntry {
            record: vigil_audit::AuditRecord {
                sequence: u64::try_from(self.sequence).unwrap_or(u64::MAX),
                recorded_at: parse_timestamp(&self.recorded_at).unwrap_or(Timestamp::UNIX_EPOCH),
                actor: self.actor.clone(),
                role: self.role.clone(),
                organisation: self.organisation.clone(),
                action: self.action.clone(),
                subject: self.subject.clone(),
                payload: self.payload.clone(),
            },
            previous_hash: self.previous_hash.clone(),
            hash: self.hash.clone(),
        }
    }
}

/// The one row of `audit_head`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditHeadRow {
    pub sequence: i64,
    pub hash: String,
}

/// A row of `sign_off_policies`: one version of the sign-off policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyRow {
    pub version: i64,
    /// JSON: `[["shadow->live", ["clinical_safety_officer", "clinical_lead"]], …]`,
    /// the configuration entries as given.
    pub entries: String,
    pub set_by: String,
    pub set_at: String,
    pub audit_sequence: i64,
}

impl PolicyRow {
    /// The configuration entries of this version.
    pub fn entries(&self) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        serde_json::from_str(&self.entries)
            .map_err(|error| StoreError::corrupt("sign-off policy", error))
    }

    /// The policy this version configures.
    pub fn to_policy(&self) -> Result<vigil_domain::SignOffPolicy, StoreError> {
        vigil_domain::SignOffPolicy::parse_toml_like(&self.entries()?)
            .map_err(|error| StoreError::corrupt("sign-off policy", error))
    }
}

/// A row of `api_tokens`. The hash is of a 256-bit random secret, so the
/// archive may carry it: it cannot be reversed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiTokenRow {
    pub id: i64,
    pub name: String,
    pub token_hash: String,
    pub organisation: String,
    pub role: String,
    pub created_by: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl ApiTokenRow {
    pub fn to_domain(&self) -> Result<ApiTokenRecord, StoreError> {
        Ok(ApiTokenRecord {
            id: self.id,
            name: text("token name", &self.name)?,
            organisation: code("token organisation", &self.organisation)?,
            role: Role::parse(&self.role)
                .map_err(|error| StoreError::corrupt("token role", error))?,
            created_by: self.created_by.clone(),
            created_at: timestamp("token creation time", &self.created_at)?,
            last_used_at: self
                .last_used_at
                .as_deref()
                .map(|at| timestamp("token last use", at))
                .transpose()?,
            revoked_at: self
                .revoked_at
                .as_deref()
                .map(|at| timestamp("token revocation time", at))
                .transpose()?,
        })
    }
}

/// A row of `user_credentials`: an argon2id hash, carried by the archive so
/// that a Trust moved to another database keeps its sign-ins.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialRow {
    pub user_id: i64,
    pub password_hash: String,
    pub set_at: String,
}

impl std::fmt::Debug for CredentialRow {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("CredentialRow")
            .field("user_id", &self.user_id)
            .field("password_hash", &"***")
            .field("set_at", &self.set_at)
            .finish()
    }
}

/// A row of `pending_sign_offs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingSignOffRow {
    pub deployment_id: i64,
    pub revision: i64,
    pub to_state: String,
    pub user_name: String,
    pub role: String,
    pub signed_at: String,
    pub audit_sequence: i64,
}

impl PendingSignOffRow {
    pub fn to_domain(&self) -> Result<PendingSignOff, StoreError> {
        Ok(PendingSignOff {
            deployment: DeploymentId(self.deployment_id),
            revision: self.revision,
            to: LifecycleState::parse(&self.to_state)
                .map_err(|error| StoreError::corrupt("sign-off state", error))?,
            user_name: text("sign-off user", &self.user_name)?,
            role: Role::parse(&self.role)
                .map_err(|error| StoreError::corrupt("sign-off role", error))?,
            signed_at: timestamp("sign-off time", &self.signed_at)?,
        })
    }
}

/// A row of `evaluations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationRow {
    pub id: i64,
    pub deployment_id: i64,
    pub version_id: i64,
    pub verdict: String,
    pub protocol: String,
    pub options: String,
    pub cases_sha256: String,
    pub cases_bytes: i64,
    pub result: String,
    pub report: String,
    pub created_by: String,
    pub created_at: String,
    pub audit_sequence: i64,
}

impl EvaluationRow {
    pub fn to_domain(&self) -> Result<EvaluationRecord, StoreError> {
        Ok(EvaluationRecord {
            id: self.id,
            deployment: DeploymentId(self.deployment_id),
            version: VersionId(self.version_id),
            verdict: self.verdict.clone(),
            protocol: self.protocol.clone(),
            options: self.options.clone(),
            cases_sha256: self.cases_sha256.clone(),
            cases_bytes: self.cases_bytes,
            result: self.result.clone(),
            report: self.report.clone(),
            created_by: self.created_by.clone(),
            created_at: timestamp("evaluation time", &self.created_at)?,
            audit_sequence: u64::try_from(self.audit_sequence)
                .map_err(|error| StoreError::corrupt("evaluation audit entry", error))?,
        })
    }
}

/// The SHA-256 of a text, hex: how the audit trail pins an evaluation's
/// stored protocol, result and report.
pub fn sha256_hex(text: &str) -> String {
    sha256_hex_bytes(text.as_bytes())
}

/// The SHA-256 of bytes, hex.
pub fn sha256_hex_bytes(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
