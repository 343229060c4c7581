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
use crate::rows::AuditRow;

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
fn compare(
    kind: &str,
    expected: &Expected,
    stored: BTreeMap<String, Value>,
) -> Result<(), Divergence> {
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

fn key_of(payload: &Value, field: &str) -> String {
    match payload.get(field) {
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
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
    for entry in &archive.audit_log {
        let sequence = u64::try_from(entry.sequence).unwrap_or(0);
        let body = payload(entry)?;
        match entry.action.as_str() {
            "organisation.add" => {
                organisations.insert(
                    key_of(&body, "code"),
                    (pick(&body, &["code", "name", "kind", "parent"]), sequence),
                );
            }
            "user.add" => {
                users.insert(
                    key_of(&body, "id"),
                    (
                        pick(
                            &body,
                            &["id", "user_name", "display_name", "role", "organisation"],
                        ),
                        sequence,
                    ),
                );
            }
            "product.add" => {
                products.insert(
                    key_of(&body, "id"),
                    (
                        pick(
                            &body,
                            &[
                                "id",
                                "vendor",
                                "name",
                                "intended_purpose",
                                "modality",
                                "body_part",
                                "task_type",
                                "regulatory_class",
                                "marking",
                            ],
                        ),
                        sequence,
                    ),
                );
            }
            "version.add" => {
                versions.insert(
                    key_of(&body, "id"),
                    (
                        pick(
                            &body,
                            &[
                                "id",
                                "product",
                                "version",
                                "release_date",
                                "change_kind",
                                "change_notes",
                            ],
                        ),
                        sequence,
                    ),
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
                implied["revision"] = Value::from(implied["revision"].as_i64().unwrap_or(0) + 1);
                deployments.insert(key, (implied, sequence));
            }
            "policy.set" => {
                policies.insert(
                    key_of(&body, "version"),
                    (pick(&body, &["version", "entries"]), sequence),
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
                    serde_json::json!({"version": row.version, "entries": json_text(&row.entries)}),
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
                (row.code.clone(), serde_json::json!({"code": row.code, "name": row.name, "kind": row.kind, "parent": parent}))
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
                    serde_json::json!({"id": row.id, "user_name": row.user_name, "display_name": row.display_name, "role": row.role, "organisation": row.organisation}),
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
                        "regulatory_class": row.regulatory_class, "marking": row.marking,
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
                        "change_kind": row.change_kind, "change_notes": row.change_notes,
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
                        "deployment": row.deployment_id, "version": row.version_id,
                    }),
                )
            })
            .collect(),
    )
}
