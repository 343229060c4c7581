//! Checks that the registry tables say what the audit trail says.
//!
//! The hash chain proves that the audit entries were not rewritten; this
//! check proves that the tables they describe were not either. Replaying the
//! trail (creations, decisions, upgrades) gives the registry it implies,
//! which must equal the stored one row for row: a deployment whose state was
//! edited in place, a decision whose sign-offs were changed, a product whose
//! modality was altered, or a row added or deleted outside Vigil, is a
//! divergence named with the entry it contradicts.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::Archive;
use crate::rows::{AuditRow, sha256_hex};

/// Where the stored registry departs from its audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    /// The audit entry the table contradicts, where there is one.
    pub sequence: Option<u64>,
    pub message: String,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.sequence {
            Some(sequence) => write!(
                formatter,
                "the registry diverges from the audit trail at entry {sequence}: {}",
                self.message
            ),
            None => write!(
                formatter,
                "the registry diverges from the audit trail: {}",
                self.message
            ),
        }
    }
}

fn diverge(sequence: Option<u64>, message: String) -> Divergence {
    Divergence { sequence, message }
}

/// What the trail says one object is, and the entry that last said so.
type Expected = BTreeMap<String, (Value, u64)>;

fn text(value: &str) -> Value {
    Value::String(value.to_owned())
}

fn json_text(value: &str) -> Value {
    serde_json::from_str(value).unwrap_or_else(|_| text(value))
}

/// Compares the stored objects of one kind with what the trail implies.
fn compare(kind: &str, expected: &Expected, rows: Vec<(String, Value)>) -> Result<(), Divergence> {
    let mut stored = BTreeMap::new();
    for (key, value) in rows {
        if stored.insert(key.clone(), value).is_some() {
            return Err(diverge(
                None,
                format!("{kind} {key} appears twice in the table"),
            ));
        }
    }
    for (key, value) in &stored {
        match expected.get(key) {
            None => {
                return Err(diverge(
                    None,
                    format!("{kind} {key} is in the table but no audit entry created it"),
                ));
            }
            Some((implied, sequence)) if implied != value => {
                let fields: Vec<String> = match (implied, value) {
                    (Value::Object(implied), Value::Object(value)) => implied
                        .iter()
                        .filter(|(field, implied)| value.get(*field) != Some(*implied))
                        .map(|(field, implied)| {
                            format!(
                                "{field} is {} in the table but {implied} in the trail",
                                value
                                    .get(field)
                                    .map_or("absent".to_owned(), Value::to_string)
                            )
                        })
                        .collect(),
                    _ => vec!["its content differs".to_owned()],
                };
                return Err(diverge(
                    Some(*sequence),
                    format!("{kind} {key}: {}", fields.join("; ")),
                ));
            }
            Some(_) => {}
        }
    }
    for (key, (_, sequence)) in expected {
        if !stored.contains_key(key) {
            return Err(diverge(
                Some(*sequence),
                format!("{kind} {key} was recorded in the trail but is missing from the table"),
            ));
        }
    }
    Ok(())
}

fn payload(entry: &AuditRow) -> Result<Value, Divergence> {
    serde_json::from_str(&entry.payload).map_err(|error| {
        diverge(
            u64::try_from(entry.sequence).ok(),
            format!(
                "the payload of entry {} is not JSON: {error}",
                entry.sequence
            ),
        )
    })
}

fn pick(payload: &Value, fields: &[&str]) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|field| {
                (
                    (*field).to_owned(),
                    payload.get(*field).cloned().unwrap_or(Value::Null),
                )
            })
            .collect(),
    )
}

/// The implied object of a creating entry, with the entry's time as its
/// creation time.
fn created(mut implied: Value, body: &Value) -> Value {
    implied["created_at"] = body["created_at"].clone();
    implied
}

fn key_of(payload: &Value, field: &str) -> String {
    match payload.get(field) {
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// Marks a token revoked at the time of the entry that revoked it.
fn revoke(tokens: &mut Expected, key: &str, body: &Value, sequence: u64) -> Result<(), Divergence> {
    let (mut implied, _) = tokens.get(key).cloned().ok_or_else(|| {
        diverge(
            Some(sequence),
            format!("a revocation of API token {key}, which no entry created"),
        )
    })?;
    implied["revoked_at"] = body["created_at"].clone();
    tokens.insert(key.to_owned(), (implied, sequence));
    Ok(())
}

/// Replays the archive's audit trail and compares every table with it.
/// Call it on a chain that `vigil_audit::verify` found intact.
pub fn check_registry(archive: &Archive) -> Result<(), Divergence> {
    let mut organisations = Expected::new();
    let mut users = Expected::new();
    let mut products = Expected::new();
    let mut versions = Expected::new();
    let mut deployments = Expected::new();
    let mut decisions = Expected::new();
    let mut policies = Expected::new();
    let mut evaluations = Expected::new();
    let mut tokens = Expected::new();
    let mut credentials = Expected::new();
    let mut sign_offs = Expected::new();
    for entry in &archive.audit_log {
        let sequence = u64::try_from(entry.sequence).unwrap_or(0);
        let mut body = payload(entry)?;
        // Who and when come from the entry itself, so that the tables'
        // creation times and recorders are checked too.
        if let Value::Object(fields) = &mut body {
            fields.insert("created_at".to_owned(), text(&entry.recorded_at));
            fields.insert("recorded_by".to_owned(), text(&entry.actor));
            fields.insert("audit_sequence".to_owned(), Value::from(entry.sequence));
        }
        match entry.action.as_str() {
            "organisation.add" => {
                let implied = pick(&body, &["code", "name", "kind", "parent"]);
                organisations.insert(key_of(&body, "code"), (created(implied, &body), sequence));
            }
            "user.add" => {
                let implied = pick(
                    &body,
                    &["id", "user_name", "display_name", "role", "organisation"],
                );
                let mut implied = created(implied, &body);
                implied["disabled"] = Value::Bool(false);
                users.insert(key_of(&body, "id"), (implied, sequence));
            }
            "user.update" => {
                let key = key_of(&body, "id");
                let (mut implied, _) = users.get(&key).cloned().ok_or_else(|| {
                    diverge(
                        Some(sequence),
                        format!("a change to user {key}, whom no entry created"),
                    )
                })?;
                implied["role"] = body["role"].clone();
                implied["disabled"] = body["disabled"].clone();
                users.insert(key, (implied, sequence));
                for token in body["revoked_tokens"].as_array().into_iter().flatten() {
                    revoke(&mut tokens, &token.to_string(), &body, sequence)?;
                }
            }
            "user.password" => {
                let key = key_of(&body, "id");
                credentials.insert(
                    key.clone(),
                    (
                        serde_json::json!({"user_id": body["id"], "set_at": body["created_at"]}),
                        sequence,
                    ),
                );
            }
            "token.add" => {
                let mut implied = pick(&body, &["id", "name", "organisation", "role"]);
                implied["created_by"] = body["recorded_by"].clone();
                implied["created_at"] = body["created_at"].clone();
                implied["revoked_at"] = Value::Null;
                tokens.insert(key_of(&body, "id"), (implied, sequence));
            }
            "token.revoke" => revoke(&mut tokens, &key_of(&body, "id"), &body, sequence)?,
            "evaluation.add" => {
                let fields = [
                    "id",
                    "deployment",
                    "version",
                    "verdict",
                    "protocol_sha256",
                    "options_sha256",
                    "cases_sha256",
                    "cases_bytes",
                    "result_sha256",
                    "report_sha256",
                    "recorded_by",
                    "created_at",
                    "audit_sequence",
                ];
                evaluations.insert(key_of(&body, "id"), (pick(&body, &fields), sequence));
            }
            "deployment.sign_off" => {
                let fields = [
                    "deployment",
                    "revision",
                    "to",
                    "user_name",
                    "role",
                    "created_at",
                    "audit_sequence",
                ];
                sign_offs.insert(sequence.to_string(), (pick(&body, &fields), sequence));
            }
            "product.add" => {
                let fields = [
                    "id",
                    "vendor",
                    "name",
                    "intended_purpose",
                    "modality",
                    "body_part",
                    "task_type",
                    "regulatory_class",
                    "marking",
                ];
                products.insert(
                    key_of(&body, "id"),
                    (created(pick(&body, &fields), &body), sequence),
                );
            }
            "version.add" => {
                let fields = [
                    "id",
                    "product",
                    "version",
                    "release_date",
                    "change_kind",
                    "change_notes",
                ];
                versions.insert(
                    key_of(&body, "id"),
                    (created(pick(&body, &fields), &body), sequence),
                );
            }
            "deployment.add" => {
                let mut implied = pick(
                    &body,
                    &[
                        "id",
                        "product",
                        "version",
                        "site",
                        "owning_team",
                        "thresholds",
                        "change_control",
                        "state",
                    ],
                );
                implied["revision"] = Value::from(0);
                let implied = created(implied, &body);
                deployments.insert(key_of(&body, "id"), (implied, sequence));
            }
            "deployment.transition" => {
                let key = key_of(&body, "deployment");
                let (implied, _) = deployments.get(&key).cloned().ok_or_else(|| {
                    diverge(
                        Some(sequence),
                        format!("a decision on deployment {key}, which no entry created"),
                    )
                })?;
                let mut implied = implied;
                implied["state"] = body["to"].clone();
                implied["revision"] = body["revision"].clone();
                deployments.insert(key.clone(), (implied, sequence));
                decisions.insert(
                    sequence.to_string(),
                    (
                        {
                            let mut decision = pick(
                                &body,
                                &[
                                    "from",
                                    "to",
                                    "sign_offs",
                                    "rationale",
                                    "evidence",
                                    "decided_at",
                                ],
                            );
                            decision["deployment"] = body["deployment"].clone();
                            decision["version"] = body["version"].clone();
                            decision["recorded_by"] = body["recorded_by"].clone();
                            decision
                        },
                        sequence,
                    ),
                );
            }
            "deployment.upgrade" => {
                let key = key_of(&body, "deployment");
                let (implied, _) = deployments.get(&key).cloned().ok_or_else(|| {
                    diverge(
                        Some(sequence),
                        format!("an upgrade of deployment {key}, which no entry created"),
                    )
                })?;
                let mut implied = implied;
                implied["state"] = body["state_after"].clone();
                implied["version"] = body["to_version"].clone();
                implied["revision"] =
                    Value::from(implied["revision"].as_i64().unwrap_or(0).saturating_add(1));
                deployments.insert(key, (implied, sequence));
            }
            "policy.set" => {
                policies.insert(
                    key_of(&body, "version"),
                    (
                        pick(
                            &body,
                            &[
                                "version",
                                "entries",
                                "recorded_by",
                                "created_at",
                                "audit_sequence",
                            ],
                        ),
                        sequence,
                    ),
                );
            }
            _ => {}
        }
    }
    compare(
        "sign-off policy version",
        &policies,
        archive
            .sign_off_policies
            .iter()
            .map(|row| {
                (
                    row.version.to_string(),
                    serde_json::json!({
                        "version": row.version,
                        "entries": json_text(&row.entries),
                        "recorded_by": row.set_by,
                        "created_at": row.set_at,
                        "audit_sequence": row.audit_sequence,
                    }),
                )
            })
            .collect(),
    )?;

    compare(
        "organisation",
        &organisations,
        archive
            .organisations
            .iter()
            .map(|row| {
                let parent = row.parent.as_deref().map_or(Value::Null, text);
                (row.code.clone(), serde_json::json!({"code": row.code, "name": row.name, "kind": row.kind, "parent": parent, "created_at": row.created_at}))
            })
            .collect(),
    )?;
    compare(
        "user",
        &users,
        archive
            .users
            .iter()
            .map(|row| {
                (
                    row.id.to_string(),
                    serde_json::json!({
                        "id": row.id, "user_name": row.user_name, "display_name": row.display_name, "role": row.role,
                        "organisation": row.organisation, "created_at": row.created_at, "disabled": row.disabled != 0,
                    }),
                )
            })
            .collect(),
    )?;
    compare(
        "product",
        &products,
        archive
            .products
            .iter()
            .map(|row| {
                (
                    row.id.to_string(),
                    serde_json::json!({
                        "id": row.id, "vendor": row.vendor, "name": row.name, "intended_purpose": row.intended_purpose,
                        "modality": row.modality, "body_part": row.body_part, "task_type": row.task_type,
                        "regulatory_class": row.regulatory_class, "marking": row.marking, "created_at": row.created_at,
                    }),
                )
            })
            .collect(),
    )?;
    compare(
        "version",
        &versions,
        archive
            .product_versions
            .iter()
            .map(|row| {
                (
                    row.id.to_string(),
                    serde_json::json!({
                        "id": row.id, "product": row.product_id, "version": row.version, "release_date": row.release_date,
                        "change_kind": row.change_kind, "change_notes": row.change_notes, "created_at": row.created_at,
                    }),
                )
            })
            .collect(),
    )?;
    compare(
        "deployment",
        &deployments,
        archive
            .deployments
            .iter()
            .map(|row| {
                (
                    row.id.to_string(),
                    serde_json::json!({
                        "id": row.id, "product": row.product_id, "version": row.version_id, "site": row.site,
                        "owning_team": row.owning_team, "thresholds": json_text(&row.thresholds),
                        "change_control": json_text(&row.change_control), "state": row.state, "revision": row.revision,
                        "created_at": row.created_at,
                    }),
                )
            })
            .collect(),
    )?;
    compare(
        "decision recorded by entry",
        &decisions,
        archive
            .decisions
            .iter()
            .map(|row| {
                (
                    row.audit_sequence.to_string(),
                    serde_json::json!({
                        "from": row.from_state, "to": row.to_state, "sign_offs": json_text(&row.sign_offs),
                        "rationale": row.rationale, "evidence": json_text(&row.evidence), "decided_at": row.decided_at,
                        "deployment": row.deployment_id, "version": row.version_id, "recorded_by": row.decided_by,
                    }),
                )
            })
            .collect(),
    )?;
    compare(
        "evaluation",
        &evaluations,
        archive
            .evaluations
            .iter()
            .map(|row| {
                (
                    row.id.to_string(),
                    serde_json::json!({
                        "id": row.id, "deployment": row.deployment_id, "version": row.version_id, "verdict": row.verdict,
                        "protocol_sha256": sha256_hex(&row.protocol), "options_sha256": sha256_hex(&row.options),
                        "cases_sha256": row.cases_sha256, "cases_bytes": row.cases_bytes,
                        "result_sha256": sha256_hex(&row.result), "report_sha256": sha256_hex(&row.report),
                        "recorded_by": row.created_by, "created_at": row.created_at, "audit_sequence": row.audit_sequence,
                    }),
                )
            })
            .collect(),
    )?;
    compare(
        "sign-off recorded by entry",
        &sign_offs,
        archive
            .pending_sign_offs
            .iter()
            .map(|row| {
                (
                    row.audit_sequence.to_string(),
                    serde_json::json!({
                        "deployment": row.deployment_id, "revision": row.revision, "to": row.to_state,
                        "user_name": row.user_name, "role": row.role, "created_at": row.signed_at,
                        "audit_sequence": row.audit_sequence,
                    }),
                )
            })
            .collect(),
    )?;
    compare(
        "API token",
        &tokens,
        archive
            .api_tokens
            .iter()
            .map(|row| {
                (
                    row.id.to_string(),
                    serde_json::json!({
                        "id": row.id, "name": row.name, "organisation": row.organisation, "role": row.role,
                        "created_by": row.created_by, "created_at": row.created_at, "revoked_at": row.revoked_at,
                    }),
                )
            })
            .collect(),
    )?;
    compare(
        "password of user",
        &credentials,
        archive
            .user_credentials
            .iter()
            .map(|row| {
                (
                    row.user_id.to_string(),
                    serde_json::json!({"user_id": row.user_id, "set_at": row.set_at}),
                )
            })
            .collect(),
    )?;
    // Decisions are listed by id: ids must follow the order of their entries.
    let mut by_entry: Vec<(i64, i64)> = archive
        .decisions
        .iter()
        .map(|row| (row.audit_sequence, row.id))
        .collect();
    by_entry.sort_unstable();
    if let Some(pair) = by_entry.windows(2).find(|pair| pair[1].1 <= pair[0].1) {
        return Err(diverge(
            u64::try_from(pair[1].0).ok(),
            format!(
                "decision {} is numbered before decision {}, which an earlier entry recorded",
                pair[1].1, pair[0].1
            ),
        ));
    }
    Ok(())
}
