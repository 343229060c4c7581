//! The clinical safety case above the store: a deployment's hazard log with
//! each control's evidence resolved (`evaluation:N` a passing validation of
//! the deployment, `rule:ID` a monitoring rule in force, anything else
//! outside Vigil), the alerts linked and open, the log's digest and the
//! latest signature. The API, the dashboard and the demonstration all build
//! the report (`vigil_reports::safety_case`) from [`safety_case_inputs`].

use vigil_domain::Hazard;

use crate::rows::stored_timestamp;
use crate::{
    AlertRecord, AlertState, DeploymentId, DeploymentRecord, RulesRecord, Store, StoreError,
    hazard_log_sha256,
};

/// What one piece of cited evidence was found to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvidenceState {
    /// It exists and supports the control (a passing validation, a rule in
    /// force), with a description.
    Supports(String),
    /// It exists but does not support the control (a failed validation),
    /// or could not be found; with the reason.
    Missing(String),
    /// A document or test outside Vigil: listed, not checked.
    External,
}

/// A hazard of the log with what its evidence was found to be and the
/// alerts linked to it.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseHazard {
    pub id: i64,
    pub revision: i64,
    pub hazard: Hazard,
    /// For each control (in order), each evidence reference with its state.
    pub evidence: Vec<Vec<(String, EvidenceState)>>,
    /// Linked alerts as (id, rule, state).
    pub alerts: Vec<(i64, String, String)>,
}

/// A signature of the safety case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseSignature {
    pub signed_by: String,
    pub signed_at: String,
    pub statement: String,
    pub log_sha256: String,
}

/// Everything the report is made from.
#[derive(Debug, Clone, PartialEq)]
pub struct SafetyCaseInputs {
    /// Product, version and site, in words.
    pub deployment: String,
    pub deployment_id: i64,
    pub lifecycle_state: String,
    pub hazards: Vec<CaseHazard>,
    /// Open alerts of the deployment as (id, rule, state).
    pub open_alerts: Vec<(i64, String, String)>,
    /// The digest of the log the report is made from.
    pub log_sha256: String,
    /// The latest signature, if any.
    pub signature: Option<CaseSignature>,
}

/// What a control's evidence reference was found to be: `evaluation:N` a
/// validation of this deployment (supporting when it passed its protocol),
/// `rule:ID` a rule in force; anything else is outside Vigil.
async fn evidence_state<S: Store>(
    store: &S,
    deployment: DeploymentId,
    rules: Option<&RulesRecord>,
    reference: &str,
) -> Result<EvidenceState, StoreError> {
    if let Some(id) = reference.strip_prefix("evaluation:") {
        let Ok(id) = id.trim().parse::<i64>() else {
            return Ok(EvidenceState::Missing(
                "does not name an evaluation by its number".to_owned(),
            ));
        };
        return Ok(match store.evaluation(id).await {
            Ok(record) if record.deployment != deployment => {
                EvidenceState::Missing("is a validation of another deployment".to_owned())
            }
            Ok(record) if record.verdict == "pass" => EvidenceState::Supports(format!(
                "validation {id} passed its protocol ({})",
                stored_timestamp(record.created_at)
            )),
            Ok(record) => EvidenceState::Missing(format!(
                "is validation {id}, whose verdict is {}",
                record.verdict
            )),
            Err(StoreError::NotFound { .. }) => {
                EvidenceState::Missing("names no stored validation".to_owned())
            }
            Err(error) => return Err(error),
        });
    }
    if let Some(rule) = reference.strip_prefix("rule:") {
        let rule = rule.trim();
        return Ok(match rules {
            Some(record)
                if record
                    .rules
                    .rules
                    .iter()
                    .any(|candidate| candidate.id == rule) =>
            {
                EvidenceState::Supports(format!(
                    "monitoring rule {rule} is in force (rules version {})",
                    record.version
                ))
            }
            _ => EvidenceState::Missing(format!(
                "names rule {rule}, which is not among the monitoring rules in force"
            )),
        });
    }
    Ok(EvidenceState::External)
}

/// What a deployment's safety case is made from, as of now: its hazard log,
/// each control's evidence resolved against the store, the alerts linked
/// and open, the log's digest and the latest signature.
pub async fn safety_case_inputs<S: Store>(
    store: &S,
    deployment: &DeploymentRecord,
) -> Result<SafetyCaseInputs, StoreError> {
    let id = deployment.id;
    let hazards = store.hazards(id).await?;
    let rules = store.rules(id).await?;
    let alerts = store.alerts(id).await?;
    let alert_words = |alert: &AlertRecord| {
        (
            alert.id,
            alert.rule.clone(),
            alert.state.as_str().to_owned(),
        )
    };
    let mut cases = Vec::with_capacity(hazards.len());
    for record in &hazards {
        let mut evidence = Vec::new();
        for control in &record.hazard.fields().controls {
            let mut states = Vec::new();
            for reference in &control.evidence {
                let found = evidence_state(store, id, rules.as_ref(), reference.as_str()).await?;
                states.push((reference.as_str().to_owned(), found));
            }
            evidence.push(states);
        }
        cases.push(CaseHazard {
            id: record.id,
            revision: record.revision,
            hazard: record.hazard.clone(),
            evidence,
            alerts: alerts
                .iter()
                .filter(|alert| record.alerts.contains(&alert.id))
                .map(alert_words)
                .collect(),
        });
    }
    let product = store.product(deployment.product).await?;
    let version = product
        .versions
        .iter()
        .find(|version| version.id == deployment.version)
        .map(|version| version.version.version.as_str().to_owned())
        .unwrap_or_default();
    let signature = store
        .safety_case_signatures(id)
        .await?
        .into_iter()
        .next()
        .map(|signature| CaseSignature {
            signed_by: signature.signed_by,
            signed_at: stored_timestamp(signature.signed_at),
            statement: signature.statement,
            log_sha256: signature.log_sha256,
        });
    let inputs = SafetyCaseInputs {
        deployment: format!(
            "{} {version} at {}",
            product.product.name.as_str(),
            deployment.deployment.site
        ),
        deployment_id: id.0,
        lifecycle_state: deployment.state.as_str().to_owned(),
        hazards: cases,
        open_alerts: alerts
            .iter()
            .filter(|alert| alert.state != AlertState::Resolved)
            .map(alert_words)
            .collect(),
        log_sha256: hazard_log_sha256(&hazards),
        signature,
    };
    Ok(inputs)
}
