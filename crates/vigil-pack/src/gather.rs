//! Reads a deployment's governance record from the store into a [`Pack`].

use std::collections::BTreeMap;

use serde_json::Value;
use vigil_audit::{Verification, verify};
use vigil_domain::HazardStatus;
use vigil_reports::monitoring::{WeeklySeries, rate_chart, weekly_series};
use vigil_reports::safety_case::safety_position;
use vigil_store::safety::{EvidenceState, safety_case_inputs};
use vigil_store::vigil_monitor::productivity::{Milestone, SuccessCriteria, audit};
use vigil_store::{AlertState, DeploymentId, DeploymentRecord, Store, StoreError};

use crate::{Block, Pack, Section};

/// A time as the pack shows it: minutes, UTC.
fn when(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// "0.912 (0.880 to 0.940)" from an object with `estimate`, `ci_low` and
/// `ci_high`, or a dash.
fn estimate_with_interval(value: Option<&Value>) -> String {
    let Some(object) = value.filter(|value| value.is_object()) else {
        return "–".to_owned();
    };
    let number = |key: &str| object.get(key).and_then(Value::as_f64);
    match (number("estimate"), number("ci_low"), number("ci_high")) {
        (Some(estimate), Some(low), Some(high)) => format!("{estimate:.3} ({low:.3} to {high:.3})"),
        (Some(estimate), ..) => format!("{estimate:.3}"),
        _ => "–".to_owned(),
    }
}

/// The name serde gives a unit variant, or the `kind` of a tagged one.
fn serde_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(name)) => name,
        Ok(Value::Object(object)) => object
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    }
}

/// Gathers the pack of `deployment` from what the store holds now.
pub async fn gather<S: Store>(store: &S, deployment: DeploymentId) -> Result<Pack, StoreError> {
    let record = store.deployment(deployment).await?;
    let product = store.product(record.product).await?;
    let version = product
        .versions
        .iter()
        .find(|version| version.id == record.version)
        .map(|version| version.version.clone());
    let registered = store.organisations().await?;
    let organisations: BTreeMap<String, String> = registered
        .iter()
        .map(|organisation| {
            (
                organisation.code.as_str().to_owned(),
                organisation.name.as_str().to_owned(),
            )
        })
        .collect();
    // The site and the organisations above it: whose assessments count for
    // this deployment (and the only ones its readers may see).
    let mut chain = Vec::new();
    let mut next = Some(record.deployment.site.clone());
    while let Some(code) = next.take() {
        if chain.contains(&code) {
            break;
        }
        next = registered
            .iter()
            .find(|organisation| organisation.code == code)
            .and_then(|organisation| organisation.parent.clone());
        chain.push(code);
    }
    let organisation_name = |code: &str| {
        organisations
            .get(code)
            .map_or_else(|| code.to_owned(), |name| format!("{name} ({code})"))
    };
    let site = record.deployment.site.as_str();
    let version_text = version.as_ref().map_or_else(
        || record.version.to_string(),
        |version| version.version.as_str().to_owned(),
    );
    let title = format!(
        "Governance pack: {} {version_text} at {}",
        product.product.name.as_str(),
        organisations.get(site).map_or(site, String::as_str)
    );

    // The audit chain first: its head dates the pack.
    let trail = store.audit_trail().await?;
    let head_entry = trail.entries.last().map(|entry| entry.record.clone());
    let verdict = verify(trail.entries, trail.head.as_ref());
    let (as_of, as_of_timestamp) = match &head_entry {
        Some(entry) => (
            format!(
                "the registry as recorded up to audit entry {}, {}",
                entry.sequence,
                when(entry.recorded_at)
            ),
            entry.recorded_at.to_string(),
        ),
        None => (
            "an empty registry".to_owned(),
            jiff::Timestamp::UNIX_EPOCH.to_string(),
        ),
    };

    let thresholds = record
        .deployment
        .thresholds
        .iter()
        .map(|(name, threshold)| format!("{name} {}", threshold.get()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut facts = vec![
        (
            "Product".to_owned(),
            format!("{} by {}", product.product.name, product.product.vendor),
        ),
        (
            "Intended purpose".to_owned(),
            product.product.intended_purpose.as_str().to_owned(),
        ),
        (
            "Regulatory status".to_owned(),
            format!(
                "{} ({})",
                product.product.regulatory_class, product.product.marking
            ),
        ),
        ("Version".to_owned(), version_text.clone()),
        ("Site".to_owned(), organisation_name(site)),
        (
            "Owning team".to_owned(),
            record.deployment.owning_team.as_str().to_owned(),
        ),
        ("Operating thresholds".to_owned(), thresholds),
        (
            "Lifecycle state".to_owned(),
            record.state.as_str().to_owned(),
        ),
    ];
    if let Some(version) = &version {
        facts.push((
            "Version released".to_owned(),
            format!(
                "{} ({}: {})",
                version.release_date, version.change_kind, version.change_notes
            ),
        ));
    }

    let sections = vec![
        procurement_section(store, &record, &chain, &organisation_name).await?,
        validation_section(store, &record).await?,
        safety_section(store, &record).await?,
        monitoring_section(store, &record).await?,
        productivity_section(store, &record).await?,
        decisions_section(&record),
        audit_section(&verdict, trail.head.as_ref(), head_entry.as_ref()),
    ];
    Ok(Pack {
        title,
        deployment: record.id.0,
        as_of,
        as_of_timestamp,
        facts,
        sections,
    })
}

async fn procurement_section<S: Store>(
    store: &S,
    record: &DeploymentRecord,
    chain: &[vigil_domain::Code],
    organisation_name: &impl Fn(&str) -> String,
) -> Result<Section, StoreError> {
    let codes: Vec<String> = chain.iter().map(|code| code.as_str().to_owned()).collect();
    // Every version of the product: a deployment moved to a newer version
    // keeps the assessment it was bought on.
    let product = store.product(record.product).await?;
    let mut assessments = Vec::new();
    for version in &product.versions {
        assessments.extend(store.assessments(Some(&codes), Some(version.id)).await?);
    }
    assessments.sort_by_key(|assessment| std::cmp::Reverse(assessment.id));
    let version_name = |id: vigil_store::VersionId| {
        product
            .versions
            .iter()
            .find(|version| version.id == id)
            .map_or_else(
                || id.to_string(),
                |version| version.version.version.as_str().to_owned(),
            )
    };
    let mut blocks = Vec::new();
    if assessments.is_empty() {
        blocks.push(Block::paragraph(
            "No procurement assessment of this product is recorded.",
        ));
        return Ok(Section {
            title: "Procurement".to_owned(),
            blocks,
        });
    }
    blocks.push(Block::paragraph(format!(
        "Assessments of {} by {} against the procurement template (scores 0 absent to 4 excellent; a gate question below 2 fails the assessment). The deployment runs version {}.",
        product.product.name,
        codes.join(", "),
        version_name(record.version)
    )));
    let rows = assessments
        .iter()
        .map(|assessment| {
            vec![
                format!("A{}", assessment.id),
                version_name(assessment.version),
                organisation_name(&assessment.organisation),
                assessment.template.name.clone(),
                assessment
                    .outcome
                    .clone()
                    .unwrap_or_else(|| assessment.state.clone()),
                assessment
                    .total_percent
                    .map_or_else(|| "–".to_owned(), |total| format!("{total:.1}%")),
                format!("{}, {}", assessment.updated_by, when(assessment.updated_at)),
            ]
        })
        .collect();
    blocks.push(Block::table(
        "Procurement assessments of the product, newest first",
        &[
            ("Assessment", 3),
            ("Version", 2),
            ("Organisation", 5),
            ("Template", 5),
            ("Outcome", 2),
            ("Total", 2),
            ("Last change", 5),
        ],
        rows,
    ));
    if let Some(latest) = assessments
        .iter()
        .find(|assessment| assessment.state == "completed")
    {
        let scored = vigil_domain::procurement::score(&latest.template, &latest.answers);
        blocks.push(Block::heading(format!(
            "Assessment A{}: {} with {} (pass mark {}%)",
            latest.id,
            scored.outcome.as_str(),
            scored
                .total_percent
                .map_or_else(|| "no total".to_owned(), |total| format!("{total:.1}%")),
            scored.pass_mark
        )));
        let rows = scored
            .sections
            .iter()
            .map(|section| {
                vec![
                    section.title.clone(),
                    section.weight.to_string(),
                    section
                        .percent
                        .map_or_else(|| "–".to_owned(), |percent| format!("{percent:.1}%")),
                ]
            })
            .collect();
        blocks.push(Block::table(
            "Section scores",
            &[("Section", 8), ("Weight", 2), ("Score", 2)],
            rows,
        ));
        if !scored.failed_gates.is_empty() {
            blocks.push(Block::List {
                items: scored
                    .failed_gates
                    .iter()
                    .map(|gate| format!("Gate question {gate} scored below 2"))
                    .collect(),
            });
        }
    }
    Ok(Section {
        title: "Procurement".to_owned(),
        blocks,
    })
}

async fn validation_section<S: Store>(
    store: &S,
    record: &DeploymentRecord,
) -> Result<Section, StoreError> {
    // Listings leave out the results; each is read whole.
    let mut evaluations = Vec::new();
    for listed in store.evaluations(Some(record.id)).await? {
        evaluations.push(store.evaluation(listed.id).await?);
    }
    let mut blocks = Vec::new();
    if evaluations.is_empty() {
        blocks.push(Block::paragraph(
            "No local validation is stored for this deployment.",
        ));
        return Ok(Section {
            title: "Local validation".to_owned(),
            blocks,
        });
    }
    let mut rows = Vec::new();
    for evaluation in &evaluations {
        let result: Value = serde_json::from_str(&evaluation.result).unwrap_or(Value::Null);
        let cases = result
            .get("n")
            .and_then(Value::as_u64)
            .map_or_else(|| "–".to_owned(), |n| n.to_string());
        rows.push(vec![
            format!("evaluation:{}", evaluation.id),
            format!("{}, {}", evaluation.created_by, when(evaluation.created_at)),
            cases,
            estimate_with_interval(result.get("auc")),
            estimate_with_interval(result.get("sensitivity")),
            estimate_with_interval(result.get("specificity")),
            evaluation.verdict.clone(),
        ]);
    }
    blocks.push(Block::table(
        "Validations of the deployment, newest first (95% intervals unless the protocol says otherwise)",
        &[
            ("Evaluation", 3),
            ("Stored", 5),
            ("Cases", 2),
            ("AUC", 4),
            ("Sensitivity", 4),
            ("Specificity", 4),
            ("Verdict", 2),
        ],
        rows,
    ));
    let latest = &evaluations[0];
    let result: Value = serde_json::from_str(&latest.result).unwrap_or(Value::Null);
    if let Some(criteria) = result
        .get("criteria")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
    {
        let rows = criteria
            .iter()
            .map(|criterion| {
                let text = |key: &str| {
                    criterion
                        .get(key)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                vec![
                    text("criterion"),
                    criterion
                        .get("actual")
                        .and_then(Value::as_f64)
                        .map_or_else(|| "–".to_owned(), |actual| format!("{actual:.4}")),
                    text("detail"),
                    if criterion.get("passed").and_then(Value::as_bool) == Some(true) {
                        "met".to_owned()
                    } else {
                        "not met".to_owned()
                    },
                ]
            })
            .collect();
        blocks.push(Block::table(
            format!("The acceptance criteria of evaluation:{}", latest.id),
            &[
                ("Criterion", 4),
                ("Observed", 2),
                ("Detail", 8),
                ("Result", 2),
            ],
            rows,
        ));
    }
    blocks.push(Block::paragraph(format!(
        "The full report of each validation, with its charts and subgroups, is kept with it (GET /api/v1/evaluations/N/report); the cases validated are identified by their SHA-256 ({} for evaluation:{}).",
        latest.cases_sha256, latest.id
    )));
    Ok(Section {
        title: "Local validation".to_owned(),
        blocks,
    })
}

async fn safety_section<S: Store>(
    store: &S,
    record: &DeploymentRecord,
) -> Result<Section, StoreError> {
    let inputs = safety_case_inputs(store, record).await?;
    let (acceptable, concerns) = safety_position(&inputs);
    let mut blocks = vec![Block::paragraph(if acceptable {
        "Safety position: every hazard is closed or controlled to an acceptable residual risk, with its evidence in place.".to_owned()
    } else {
        format!(
            "Safety position: {} concern(s) stand in the way of an acceptable safety case.",
            concerns.len()
        )
    })];
    if !concerns.is_empty() {
        blocks.push(Block::List { items: concerns });
    }
    let rows = inputs
        .hazards
        .iter()
        .map(|case| {
            let fields = case.hazard.fields();
            let controls = fields
                .controls
                .iter()
                .zip(&case.evidence)
                .map(|(control, evidence)| {
                    let cited = evidence
                        .iter()
                        .map(|(reference, state)| match state {
                            EvidenceState::Supports(found) => format!("{reference}: {found}"),
                            EvidenceState::Missing(reason) => format!("{reference} {reason}"),
                            EvidenceState::External => format!("{reference} (outside Vigil)"),
                        })
                        .collect::<Vec<_>>()
                        .join("; ");
                    if cited.is_empty() {
                        control.description.as_str().to_owned()
                    } else {
                        format!("{} [{cited}]", control.description)
                    }
                })
                .collect::<Vec<_>>()
                .join(" · ");
            let status = match case.hazard.status() {
                HazardStatus::UnderReview => format!(
                    "under review (alert {})",
                    case.alerts
                        .iter()
                        .map(|(id, _, _)| id.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                status => status.as_str().to_owned(),
            };
            vec![
                format!("H{} {}", case.id, fields.title),
                format!("{} → {}", fields.cause, fields.effect),
                controls,
                fields.initial.rating().get().to_string(),
                fields.residual.rating().get().to_string(),
                status,
                fields.owner.as_str().to_owned(),
            ]
        })
        .collect::<Vec<Vec<String>>>();
    if rows.is_empty() {
        blocks.push(Block::paragraph("The hazard log is empty."));
    } else {
        blocks.push(Block::table(
            "The hazard log (DCB0160): risk ratings on the 5×5 matrix, 1 acceptable to 5 unacceptable",
            &[
                ("Hazard", 4),
                ("Cause → effect", 6),
                ("Controls [evidence]", 8),
                ("Initial", 2),
                ("Residual", 3),
                ("Status", 3),
                ("Owner", 3),
            ],
            rows,
        ));
    }
    blocks.push(Block::paragraph(match &inputs.signature {
        Some(signature) if signature.log_sha256 == inputs.log_sha256 => format!(
            "Signed by the clinical safety officer {} on {}: “{}” The signature covers the log as it stands (SHA-256 {}).",
            signature.signed_by, signature.signed_at, signature.statement, inputs.log_sha256
        ),
        Some(signature) => format!(
            "Last signed by {} on {}, but the log has changed since (signed SHA-256 {}, now {}): the safety case needs signing again.",
            signature.signed_by, signature.signed_at, signature.log_sha256, inputs.log_sha256
        ),
        None => format!(
            "The safety case has not been signed by a clinical safety officer (log SHA-256 {}).",
            inputs.log_sha256
        ),
    }));
    Ok(Section {
        title: "Clinical safety case".to_owned(),
        blocks,
    })
}

async fn monitoring_section<S: Store>(
    store: &S,
    record: &DeploymentRecord,
) -> Result<Section, StoreError> {
    let aggregates = store.daily_aggregates(record.id).await?;
    let rules = store.rules(record.id).await?;
    let alerts = store.alerts(record.id).await?;
    let mut blocks = Vec::new();
    let events: u64 = aggregates.iter().map(|(_, day)| day.events).sum();
    let with_outcome: u64 = aggregates
        .iter()
        .map(|(_, day)| day.outcomes.labelled)
        .sum();
    match (aggregates.first(), aggregates.last()) {
        (Some((first, _)), Some((last, _))) => blocks.push(Block::paragraph(format!(
            "{events} inference events from {} to {}, {with_outcome} of them with an outcome.",
            first.day, last.day
        ))),
        _ => blocks.push(Block::paragraph("No inference event has been received.")),
    }
    match &rules {
        Some(rules) => {
            blocks.push(Block::heading(format!(
                "Rules in force: version {}, set by {} on {} ({})",
                rules.version,
                rules.created_by,
                when(rules.created_at),
                rules.reason
            )));
            let rows = rules
                .rules
                .rules
                .iter()
                .map(|rule| {
                    vec![
                        rule.id.clone(),
                        serde_name(&rule.test),
                        format!("{} days", rule.window_days),
                        rule.minimum_cases.to_string(),
                        if rule.propose_suspension { "yes" } else { "no" }.to_owned(),
                    ]
                })
                .collect();
            blocks.push(Block::table(
                format!(
                    "Monitoring rules, judged against the baseline of {}",
                    rules.rules.baseline.source
                ),
                &[
                    ("Rule", 4),
                    ("Test", 4),
                    ("Window", 2),
                    ("Minimum cases", 2),
                    ("Proposes suspension", 2),
                ],
                rows,
            ));
        }
        None => blocks.push(Block::paragraph(
            "No monitoring rules are set (defaults are made at go-live).",
        )),
    }
    let WeeklySeries {
        positive_rate,
        sensitivity,
        markers,
        ..
    } = weekly_series(&aggregates, &record.decisions);
    let baseline = rules.as_ref().map(|rules| &rules.rules.baseline);
    if !positive_rate.is_empty() {
        blocks.push(Block::Chart {
            file: "positive-rate.svg".to_owned(),
            caption: "Positive rate by week with 95% Wilson intervals; dashed: the baseline; grey lines: model versions and decisions".to_owned(),
            svg: rate_chart(
                "Positive rate (share of cases the tool flags)",
                "Positive rate",
                &positive_rate,
                baseline.and_then(|baseline| baseline.positive_rate),
                &markers,
            ),
        });
    }
    if !sensitivity.is_empty() {
        blocks.push(Block::Chart {
            file: "sensitivity.svg".to_owned(),
            caption: "Sensitivity by week among cases with an outcome, with 95% Wilson intervals"
                .to_owned(),
            svg: rate_chart(
                "Sensitivity (cases with an outcome)",
                "Sensitivity",
                &sensitivity,
                baseline.and_then(|baseline| baseline.sensitivity),
                &markers,
            ),
        });
    }
    if alerts.is_empty() {
        blocks.push(Block::paragraph("No alert has been raised."));
    } else {
        let rows = alerts
            .iter()
            .map(|alert| {
                let outcome = match alert.state {
                    AlertState::Resolved => format!(
                        "resolved by {} on {}: {}",
                        alert.resolved_by.as_deref().unwrap_or_default(),
                        alert.resolved_at.map(when).unwrap_or_default(),
                        alert.resolution.as_deref().unwrap_or_default()
                    ),
                    AlertState::Acknowledged => format!(
                        "acknowledged by {}: {}",
                        alert.acknowledged_by.as_deref().unwrap_or_default(),
                        alert.acknowledgement.as_deref().unwrap_or_default()
                    ),
                    AlertState::Raised => "raised, not yet acknowledged".to_owned(),
                };
                vec![
                    alert.id.to_string(),
                    alert.rule.clone(),
                    when(alert.raised_at),
                    format!(
                        "{} to {}: {}",
                        alert.assessment.window_from,
                        alert.assessment.window_to,
                        alert.assessment.evidence.explanation
                    ),
                    outcome,
                ]
            })
            .collect();
        blocks.push(Block::table(
            "Alerts, newest first, with their evidence",
            &[
                ("Alert", 2),
                ("Rule", 3),
                ("Raised", 3),
                ("Evidence", 9),
                ("State", 6),
            ],
            rows,
        ));
    }
    Ok(Section {
        title: "Monitoring".to_owned(),
        blocks,
    })
}

async fn productivity_section<S: Store>(
    store: &S,
    record: &DeploymentRecord,
) -> Result<Section, StoreError> {
    let criteria = store.success_criteria(record.id).await?;
    let mut blocks = Vec::new();
    blocks.push(Block::paragraph(match &criteria {
        Some(criteria) => format!(
            "Success criteria version {}, registered by {} on {}: {}",
            criteria.version,
            criteria.registered_by,
            when(criteria.registered_at),
            criteria.rationale
        ),
        None => "No success criteria were registered, so there is nothing to judge scaling against; the figures below are descriptive.".to_owned(),
    }));
    let inputs = store
        .productivity_inputs(record.id, &trust_of(store, record).await?)
        .await?;
    let registered = criteria.as_ref().map(|criteria| SuccessCriteria {
        registered_at: criteria.registered_at,
        criteria: criteria.criteria.clone(),
    });
    let result = audit(
        &inputs.cases,
        inputs.go_live_at,
        registered.as_ref(),
        Milestone::VerifiedReport,
    );
    blocks.push(Block::paragraph(format!(
        "Recommendation: {}. {}",
        serde_name(&result.recommendation).replace('_', " "),
        result.summary
    )));
    let rows = [&result.all_cases, &result.flagged_cases]
        .into_iter()
        .map(|comparison| {
            let median = |value: Option<f64>| {
                value.map_or_else(|| "–".to_owned(), |minutes| format!("{minutes:.0} min"))
            };
            vec![
                serde_name(&comparison.cases),
                format!("{} / {}", comparison.before.cases, comparison.after.cases),
                median(comparison.before.median),
                median(comparison.after.median),
                comparison.change.as_ref().map_or_else(
                    || comparison.reason.clone().unwrap_or_else(|| "–".to_owned()),
                    |change| {
                        format!(
                            "{:.0} min ({:.0} to {:.0})",
                            change.median_difference, change.low, change.high
                        )
                    },
                ),
                comparison.change.as_ref().map_or_else(
                    || "–".to_owned(),
                    |change| format!("{:.3}", change.mann_whitney_p),
                ),
            ]
        })
        .collect();
    blocks.push(Block::table(
        "Turnaround from examination to verified report, before and after go-live (median difference after − before with its 95% bootstrap interval)",
        &[
            ("Cases", 3),
            ("Before / after", 3),
            ("Median before", 3),
            ("Median after", 3),
            ("Difference", 5),
            ("Mann–Whitney p", 3),
        ],
        rows,
    ));
    if result.readers.is_empty() {
        blocks.push(Block::paragraph(
            "No report names its reader, so workload per reader cannot be shown.",
        ));
    } else {
        let minutes = |value: Option<f64>| {
            value.map_or_else(|| "–".to_owned(), |minutes| format!("{minutes:.0} min"))
        };
        let rows = result
            .readers
            .iter()
            .map(|workload| {
                vec![
                    workload.reader.chars().take(12).collect(),
                    workload.before.cases.to_string(),
                    minutes(workload.before.median),
                    workload.after.cases.to_string(),
                    minutes(workload.after.median),
                    workload.flagged_after.to_string(),
                ]
            })
            .collect();
        blocks.push(Block::table(
            format!(
                "Workload per reader (the pseudonym of their RIS identifier, first 12 characters); {} timed reports name no reader",
                result.reports_without_reader
            ),
            &[
                ("Reader", 3),
                ("Reports before", 2),
                ("Median before", 2),
                ("Reports after", 2),
                ("Median after", 2),
                ("Flagged after", 2),
            ],
            rows,
        ));
    }
    Ok(Section {
        title: "Productivity audit".to_owned(),
        blocks,
    })
}

/// The Trust of a deployment's site: the site itself when it is a Trust,
/// else its parent.
async fn trust_of<S: Store>(
    store: &S,
    record: &DeploymentRecord,
) -> Result<vigil_domain::Code, StoreError> {
    let organisations = store.organisations().await?;
    let site = organisations
        .iter()
        .find(|organisation| organisation.code == record.deployment.site);
    Ok(match site {
        Some(organisation) if organisation.kind == vigil_domain::OrganisationKind::Site => {
            organisation
                .parent
                .clone()
                .unwrap_or_else(|| organisation.code.clone())
        }
        _ => record.deployment.site.clone(),
    })
}

fn decisions_section(record: &DeploymentRecord) -> Section {
    let rows = record
        .decisions
        .iter()
        .map(|decision| {
            let sign_offs = decision
                .decision
                .sign_offs
                .iter()
                .map(|sign_off| format!("{} ({})", sign_off.actor, sign_off.role))
                .collect::<Vec<_>>()
                .join(", ");
            let evidence = decision
                .decision
                .evidence
                .iter()
                .map(|reference| reference.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            vec![
                when(decision.decision.decided_at),
                format!("{} → {}", decision.decision.from, decision.decision.to),
                format!("{sign_offs}; recorded by {}", decision.recorded_by),
                decision.decision.rationale.as_str().to_owned(),
                if evidence.is_empty() {
                    "–".to_owned()
                } else {
                    evidence
                },
                decision.audit_sequence.to_string(),
            ]
        })
        .collect::<Vec<Vec<String>>>();
    let blocks = if rows.is_empty() {
        vec![Block::paragraph("No lifecycle decision has been recorded.")]
    } else {
        vec![Block::table(
            "Lifecycle decisions, oldest first, with their sign-offs and the audit entry recording each",
            &[
                ("Decided", 3),
                ("Step", 3),
                ("Signed by", 5),
                ("Rationale", 6),
                ("Evidence", 3),
                ("Entry", 2),
            ],
            rows,
        )]
    };
    Section {
        title: "Decisions and sign-offs".to_owned(),
        blocks,
    }
}

fn audit_section(
    verdict: &Verification,
    head: Option<&vigil_audit::RecordedHead>,
    head_entry: Option<&vigil_audit::AuditRecord>,
) -> Section {
    let mut blocks = vec![Block::paragraph(match verdict {
        Verification::Intact { entries, .. } => format!(
            "The audit chain was verified when this pack was made: {entries} entries, each hashed with the one before it, none missing, reordered or edited."
        ),
        broken => format!(
            "The audit chain is NOT intact: {broken}. Treat this pack's contents as unverified."
        ),
    })];
    let mut facts = Vec::new();
    if let Some(entry) = head_entry {
        facts.push(vec!["Last entry".to_owned(), entry.sequence.to_string()]);
        facts.push(vec!["Recorded".to_owned(), when(entry.recorded_at)]);
    }
    if let Some(head) = head {
        facts.push(vec!["Head hash (SHA-256)".to_owned(), head.hash.clone()]);
    }
    if !facts.is_empty() {
        blocks.push(Block::table(
            "The checkpoint: compare with `vigil audit verify` or a signed checkpoint to show nothing was removed since",
            &[("Field", 2), ("Value", 8)],
            facts,
        ));
    }
    Section {
        title: "Audit chain checkpoint".to_owned(),
        blocks,
    }
}
