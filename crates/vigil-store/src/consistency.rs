//! Checks that the registry and monitoring tables say what the audit trail
//! says.
//!
//! The hash chain proves that the audit entries were not rewritten; this
//! check proves that the tables they describe were not either. Replaying the
//! trail (creations, decisions, upgrades) gives the registry it implies,
//! which must equal the stored one row for row: a deployment whose state was
//! edited in place, a decision whose sign-offs were changed, a product whose
//! modality was altered, or a row added or deleted outside Vigil, is a
//! divergence named with the entry it contradicts. Each batch of events or
//! outcomes was recorded by an entry that says how many rows it stored; the
//! tables must hold that batch, and exactly that many of its rows. Where
//! the database finds events through key tables of the store's own (SQLite,
//! migration 0016), those keys must name every event once and nothing else.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::Archive;
use crate::archive_tables::{ArchivedTable, ArchivedValue};
use crate::rows::{AuditRow, sha256_hex};

/// Which tables a divergence was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckedTables {
    /// Organisations, users, products, deployments, decisions and the rest
    /// of the registry ([`check_registry`]).
    Registry,
    /// The batches of events and outcomes and their rows
    /// ([`check_monitoring`]).
    Monitoring,
    /// The key tables through which the store finds events
    /// ([`EventKeyLedger`]).
    EventKeys,
}

/// Where the stored tables depart from their audit trail (or, for the
/// event keys, from the events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    pub tables: CheckedTables,
    /// The audit entry the table contradicts, where there is one.
    pub sequence: Option<u64>,
    pub message: String,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tables = match self.tables {
            CheckedTables::Registry => "the registry diverges",
            CheckedTables::Monitoring => "the monitoring tables diverge",
            CheckedTables::EventKeys => {
                return write!(
                    formatter,
                    "the event keys diverge from the events: {}",
                    self.message
                );
            }
        };
        match self.sequence {
            Some(sequence) => write!(
                formatter,
                "{tables} from the audit trail at entry {sequence}: {}",
                self.message
            ),
            None => write!(formatter, "{tables} from the audit trail: {}", self.message),
        }
    }
}

fn diverge(sequence: Option<u64>, message: String) -> Divergence {
    Divergence {
        tables: CheckedTables::Registry,
        sequence,
        message,
    }
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

/// One batch of monitoring rows (events or outcomes) as its table records
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRecord {
    pub id: i64,
    pub deployment: i64,
    pub received_at: String,
    pub received_by: String,
    pub body_sha256: String,
    pub rows_received: i64,
    pub rows_stored: i64,
    pub audit_sequence: i64,
}

/// The batches of the monitoring tables and how many rows each holds: what
/// is compared with the trail's `events.ingest` and `outcomes.ingest`
/// entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonitoringLedger {
    pub event_batches: Vec<BatchRecord>,
    pub outcome_batches: Vec<BatchRecord>,
    /// The number of stored events by the batch and deployment they name.
    pub events_by_batch: BTreeMap<(i64, i64), u64>,
    /// The number of stored outcomes by the batch and deployment they name.
    pub outcomes_by_batch: BTreeMap<(i64, i64), u64>,
    /// How the store's own key tables match the events, where the database
    /// keeps such tables (SQLite); `None` for PostgreSQL, whose indexes it
    /// keeps itself, and for an archive, which carries no keys.
    pub event_keys: Option<EventKeyLedger>,
}

/// What the key tables through which SQLite finds events (migration 0016:
/// event keys by event id and case keys by case prefix, each in a recent
/// and a large level) hold against the events. A key matches when it names
/// its event's row, deployment and id (or case prefix). The keys name every
/// event exactly once and nothing else when each kind has as many keys as
/// there are events, every one of them matching, and no key is held by both
/// levels: within a level a table's primary key lets no two matching keys
/// name one event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventKeyLedger {
    pub events: u64,
    pub event_keys: u64,
    pub event_keys_matching: u64,
    pub event_keys_in_both_levels: u64,
    pub case_keys: u64,
    pub case_keys_matching: u64,
    pub case_keys_in_both_levels: u64,
}

/// Checks that the key tables name every event once and nothing else (see
/// [`EventKeyLedger`]). A key missing, added or altered outside Vigil would
/// let an event be stored twice, or hide it from a lookup by case and from
/// an export (which reads the events through their keys).
fn check_event_keys(keys: &EventKeyLedger) -> Result<(), Divergence> {
    let problem = |kind: &str, named: &str, held: u64, matching: u64, in_both_levels: u64| {
        (held != keys.events || matching != keys.events || in_both_levels != 0).then(|| {
            format!(
                "{} events, {held} {kind} keys, {matching} of them naming their event's row, deployment and \
                 {named}, {in_both_levels} held by both levels",
                keys.events
            )
        })
    };
    match problem(
        "event",
        "id",
        keys.event_keys,
        keys.event_keys_matching,
        keys.event_keys_in_both_levels,
    )
    .or_else(|| {
        problem(
            "case",
            "case",
            keys.case_keys,
            keys.case_keys_matching,
            keys.case_keys_in_both_levels,
        )
    }) {
        Some(message) => Err(Divergence {
            tables: CheckedTables::EventKeys,
            sequence: None,
            message,
        }),
        None => Ok(()),
    }
}

/// Checks the monitoring tables against the trail: every batch of events
/// or outcomes was recorded by one audit entry, which names its deployment,
/// its body's hash and how many rows it received and stored, and the table
/// holds exactly that many rows of the batch. An event or outcome deleted,
/// added or moved to another batch outside Vigil, or a batch record edited,
/// is a divergence named with the entry it contradicts. The store's own
/// event keys, where it keeps them, must name every event once
/// ([`EventKeyLedger`]). Call it on a chain that `vigil_audit::verify` found
/// intact.
pub fn check_monitoring(
    audit_log: &[AuditRow],
    ledger: &MonitoringLedger,
) -> Result<(), Divergence> {
    compare_monitoring(audit_log, ledger).map_err(|divergence| Divergence {
        tables: CheckedTables::Monitoring,
        ..divergence
    })?;
    ledger.event_keys.as_ref().map_or(Ok(()), check_event_keys)
}

fn compare_monitoring(audit_log: &[AuditRow], ledger: &MonitoringLedger) -> Result<(), Divergence> {
    for (action, kind, rows_kind, batches, rows_by_batch) in [
        (
            "events.ingest",
            "event batch",
            "events",
            &ledger.event_batches,
            &ledger.events_by_batch,
        ),
        (
            "outcomes.ingest",
            "outcome batch",
            "outcomes",
            &ledger.outcome_batches,
            &ledger.outcomes_by_batch,
        ),
    ] {
        let mut expected = Expected::new();
        for entry in audit_log.iter().filter(|entry| entry.action == action) {
            let sequence = u64::try_from(entry.sequence).unwrap_or(0);
            let body = payload(entry)?;
            let mut implied = pick(
                &body,
                &[
                    "deployment",
                    "batch",
                    "rows_received",
                    "rows_stored",
                    "body_sha256",
                ],
            );
            implied["received_at"] = text(&entry.recorded_at);
            implied["received_by"] = text(&entry.actor);
            implied["audit_sequence"] = Value::from(entry.sequence);
            if expected
                .insert(key_of(&body, "batch"), (implied, sequence))
                .is_some()
            {
                return Err(diverge(
                    Some(sequence),
                    format!(
                        "{kind} {} is recorded by two entries",
                        key_of(&body, "batch")
                    ),
                ));
            }
        }
        compare(
            kind,
            &expected,
            batches
                .iter()
                .map(|row| {
                    (
                        row.id.to_string(),
                        serde_json::json!({
                            "deployment": row.deployment, "batch": row.id, "rows_received": row.rows_received,
                            "rows_stored": row.rows_stored, "body_sha256": row.body_sha256,
                            "received_at": row.received_at, "received_by": row.received_by,
                            "audit_sequence": row.audit_sequence,
                        }),
                    )
                })
                .collect(),
        )?;
        for row in batches {
            let held = rows_by_batch
                .get(&(row.id, row.deployment))
                .copied()
                .unwrap_or(0);
            if i64::try_from(held).ok() != Some(row.rows_stored) {
                return Err(diverge(
                    u64::try_from(row.audit_sequence).ok(),
                    format!(
                        "{kind} {} stored {} {rows_kind} but the table holds {held} for it",
                        row.id, row.rows_stored
                    ),
                ));
            }
        }
        let known: std::collections::BTreeSet<(i64, i64)> =
            batches.iter().map(|row| (row.id, row.deployment)).collect();
        if let Some(((batch, deployment), held)) =
            rows_by_batch.iter().find(|(key, _)| !known.contains(key))
        {
            return Err(diverge(
                None,
                format!(
                    "the {rows_kind} table holds {held} row{} of {kind} {batch} for deployment {deployment}, \
                     which no batch record holds",
                    if *held == 1 { "" } else { "s" }
                ),
            ));
        }
    }
    Ok(())
}

impl MonitoringLedger {
    /// Notes one row read from an archive's `table`, before it is stored: a
    /// batch record is kept, an event or outcome counted against its batch,
    /// and the rows of other tables are not looked at. A value missing from
    /// a batch record leaves the record out; the database refuses such a
    /// row (its columns are `NOT NULL`) in the same import.
    pub fn note_archived_row(&mut self, table: &ArchivedTable, row: &[ArchivedValue]) {
        let value = |column: &str| {
            table
                .columns
                .iter()
                .position(|(name, _)| *name == column)
                .and_then(|index| row.get(index))
        };
        let integer = |column: &str| match value(column) {
            Some(ArchivedValue::Integer(number)) => Some(*number),
            _ => None,
        };
        let text = |column: &str| match value(column) {
            Some(ArchivedValue::Text(text)) => Some(text.clone()),
            _ => None,
        };
        let (batches, rows_by_batch) = match table.name {
            "event_batches" => (Some(&mut self.event_batches), None),
            "outcome_batches" => (Some(&mut self.outcome_batches), None),
            "inference_events" => (None, Some(&mut self.events_by_batch)),
            "outcomes" => (None, Some(&mut self.outcomes_by_batch)),
            _ => (None, None),
        };
        if let Some(batches) = batches {
            let record = (|| {
                Some(BatchRecord {
                    id: integer("id")?,
                    deployment: integer("deployment_id")?,
                    received_at: text("received_at")?,
                    received_by: text("received_by")?,
                    body_sha256: text("body_sha256")?,
                    rows_received: integer("rows_received")?,
                    rows_stored: integer("rows_stored")?,
                    audit_sequence: integer("audit_sequence")?,
                })
            })();
            batches.extend(record);
        }
        if let (Some(rows_by_batch), Some(batch), Some(deployment)) =
            (rows_by_batch, integer("batch_id"), integer("deployment_id"))
        {
            *rows_by_batch.entry((batch, deployment)).or_default() += 1;
        }
    }
}
