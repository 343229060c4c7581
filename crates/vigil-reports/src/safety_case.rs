//! The clinical safety case report of a deployment (DCB0160), generated from
//! its hazard log and the evidence each control cites, as self-contained
//! HTML like the evaluation report.
//!
//! The report is a function of its inputs only (no clock, no randomness), so
//! the same log gives the same bytes. It names the digest of the log it was
//! made from (`log_sha256`), which is what the clinical safety officer
//! signs: any change to the log makes a new digest, and the signature then
//! covers an earlier log, which the report says.

use std::fmt::Write as _;

use vigil_domain::{HazardStatus, RiskRating};
pub use vigil_store::safety::{CaseHazard, CaseSignature, EvidenceState, SafetyCaseInputs};

use crate::html::{STYLE, escape};

/// The case's overall position, from its hazards and alerts.
pub fn safety_position(inputs: &SafetyCaseInputs) -> (bool, Vec<String>) {
    let mut concerns = Vec::new();
    if inputs.hazards.is_empty() {
        concerns.push("the hazard log is empty".to_owned());
    }
    for case in &inputs.hazards {
        let fields = case.hazard.fields();
        let title = fields.title.as_str();
        let residual = fields.residual.rating();
        match case.hazard.status() {
            HazardStatus::UnderReview => {
                concerns.push(format!("hazard {} ({title}) is under review", case.id));
            }
            HazardStatus::Open if residual.get() >= 3 => concerns.push(format!(
                "hazard {} ({title}) is open with a residual risk of {}",
                case.id,
                residual.get()
            )),
            _ => {}
        }
        for evidence in case.evidence.iter().flatten() {
            if let (reference, EvidenceState::Missing(reason)) = evidence {
                concerns.push(format!(
                    "hazard {} ({title}): evidence {reference} {reason}",
                    case.id
                ));
            }
        }
    }
    (concerns.is_empty(), concerns)
}

fn rating_cell(rating: RiskRating) -> String {
    let class = match rating.get() {
        1 | 2 => "pass",
        3 => "",
        _ => "fail",
    };
    format!(
        "<td class=\"number {class}\" title=\"{}\">{}</td>",
        escape(rating.acceptability()),
        rating.get()
    )
}

/// Renders the safety case report.
pub fn safety_case_report(inputs: &SafetyCaseInputs) -> String {
    let mut html = String::new();
    let title = format!("Clinical safety case: {}", inputs.deployment);
    let (acceptable, concerns) = safety_position(inputs);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>",
        escape(&title)
    );
    let _ = write!(
        html,
        "<h1>{}</h1><p class=\"note\">Deployment {} · lifecycle state {} · made from the hazard log with digest <code>{}</code> (DCB0160).</p>",
        escape(&title),
        inputs.deployment_id,
        escape(&inputs.lifecycle_state),
        escape(&inputs.log_sha256)
    );
    let (class, words) = if acceptable {
        (
            "pass",
            "Every hazard is controlled or closed, or open with a residual risk of 2 or less, and every control's evidence in Vigil supports it.",
        )
    } else {
        ("fail", "The safety position needs attention:")
    };
    let _ = write!(html, "<div class=\"verdict {class}\">{words}</div>");
    if !concerns.is_empty() {
        html.push_str("<ul>");
        for concern in &concerns {
            let _ = write!(html, "<li>{}</li>", escape(concern));
        }
        html.push_str("</ul>");
    }

    html.push_str("<h2>Sign-off</h2>");
    match &inputs.signature {
        Some(signature) if signature.log_sha256 == inputs.log_sha256 => {
            let _ = write!(
                html,
                "<p class=\"pass\">Signed by {} (clinical safety officer) at {}: “{}”</p>",
                escape(&signature.signed_by),
                escape(&signature.signed_at),
                escape(&signature.statement)
            );
        }
        Some(signature) => {
            let _ = write!(
                html,
                "<p class=\"warning\">Not signed since the hazard log changed: the latest signature, by {} at {}, covers the log with digest <code>{}</code>.</p>",
                escape(&signature.signed_by),
                escape(&signature.signed_at),
                escape(&signature.log_sha256)
            );
        }
        None => {
            html.push_str("<p class=\"warning\">Not yet signed by the clinical safety officer.</p>")
        }
    }

    html.push_str("<h2>Hazard log</h2>");
    if inputs.hazards.is_empty() {
        html.push_str("<p>No hazard has been recorded.</p>");
    } else {
        html.push_str(
            "<table><thead><tr><th scope=\"col\">Hazard</th><th scope=\"col\">Cause</th><th scope=\"col\">Effect</th>\
             <th scope=\"col\">Initial risk</th><th scope=\"col\">Residual risk</th><th scope=\"col\">Status</th><th scope=\"col\">Owner</th></tr></thead><tbody>",
        );
        for case in &inputs.hazards {
            let fields = case.hazard.fields();
            let _ = write!(
                html,
                "<tr><th scope=\"row\">H{} (rev. {}) {}</th><td>{}</td><td>{}</td>{}{}<td>{}</td><td>{}</td></tr>",
                case.id,
                case.revision,
                escape(fields.title.as_str()),
                escape(fields.cause.as_str()),
                escape(fields.effect.as_str()),
                rating_cell(fields.initial.rating()),
                rating_cell(fields.residual.rating()),
                escape(case.hazard.status().as_str()),
                escape(fields.owner.as_str())
            );
        }
        html.push_str("</tbody></table>");
        html.push_str(
            "<p class=\"note\">Risk ratings from the 5×5 matrix of the DCB0129/DCB0160 guidance: 1 acceptable, 2 acceptable where further reduction costs more than it gains, 3 undesirable, 4 and 5 unacceptable.</p>",
        );
    }

    html.push_str("<h2>Controls and their evidence</h2>");
    for case in &inputs.hazards {
        let fields = case.hazard.fields();
        let _ = write!(
            html,
            "<h3>H{} {}</h3>",
            case.id,
            escape(fields.title.as_str())
        );
        if fields.controls.is_empty() {
            html.push_str("<p>No control is recorded.</p>");
        } else {
            html.push_str("<ol>");
            for (index, control) in fields.controls.iter().enumerate() {
                let _ = write!(html, "<li>{}", escape(control.description.as_str()));
                let evidence = case.evidence.get(index).map(Vec::as_slice).unwrap_or(&[]);
                if evidence.is_empty() {
                    html.push_str(" <span class=\"note\">(no evidence cited)</span>");
                } else {
                    html.push_str("<ul>");
                    for (reference, state) in evidence {
                        let (class, words) = match state {
                            EvidenceState::Supports(description) => ("pass", description.clone()),
                            EvidenceState::Missing(reason) => ("fail", reason.clone()),
                            EvidenceState::External => {
                                ("", "outside Vigil: to be checked by the reader".to_owned())
                            }
                        };
                        let _ = write!(
                            html,
                            "<li><code>{}</code>: <span class=\"{class}\">{}</span></li>",
                            escape(reference),
                            escape(&words)
                        );
                    }
                    html.push_str("</ul>");
                }
                html.push_str("</li>");
            }
            html.push_str("</ol>");
        }
        if !case.alerts.is_empty() {
            html.push_str("<p>Alerts linked to this hazard: ");
            let linked: Vec<String> = case
                .alerts
                .iter()
                .map(|(id, rule, state)| format!("{id} ({}, {})", escape(rule), escape(state)))
                .collect();
            html.push_str(&linked.join("; "));
            html.push_str("</p>");
        }
    }

    html.push_str("<h2>Open alerts</h2>");
    if inputs.open_alerts.is_empty() {
        html.push_str("<p>No alert of this deployment is open.</p>");
    } else {
        html.push_str("<ul>");
        for (id, rule, state) in &inputs.open_alerts {
            let _ = write!(
                html,
                "<li>Alert {id}: rule {} ({})</li>",
                escape(rule),
                escape(state)
            );
        }
        html.push_str("</ul>");
    }
    html.push_str("</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use vigil_domain::{
        Control, EvidenceReference, Hazard, HazardFields, Likelihood, NonEmptyText, RiskAssessment,
        Severity,
    };

    use super::*;

    fn text(value: &str) -> NonEmptyText {
        NonEmptyText::parse(value).expect("text")
    }

    fn hazard(title: &str, status: HazardStatus, residual: Likelihood) -> Hazard {
        Hazard::new(HazardFields {
            title: text(title),
            cause: text("Darker images from a new detector <b>"),
            effect: text("A missed pneumothorax"),
            controls: vec![Control {
                description: text("Radiologist reports every study"),
                evidence: vec![
                    EvidenceReference::parse("evaluation:3").expect("reference"),
                    EvidenceReference::parse("https://trust.example/sop.pdf").expect("reference"),
                ],
            }],
            initial: RiskAssessment {
                severity: Severity::Major,
                likelihood: Likelihood::Medium,
            },
            residual: RiskAssessment {
                severity: Severity::Major,
                likelihood: residual,
            },
            owner: text("CSO"),
            status,
        })
        .expect("hazard")
    }

    fn inputs(status: HazardStatus, evidence: EvidenceState) -> SafetyCaseInputs {
        SafetyCaseInputs {
            deployment: "Chest triage 2.3.0 at Main Hospital".to_owned(),
            deployment_id: 4,
            lifecycle_state: "live".to_owned(),
            hazards: vec![CaseHazard {
                id: 1,
                revision: 2,
                hazard: hazard("Missed pneumothorax", status, Likelihood::VeryLow),
                evidence: vec![vec![
                    ("evaluation:3".to_owned(), evidence),
                    (
                        "https://trust.example/sop.pdf".to_owned(),
                        EvidenceState::External,
                    ),
                ]],
                alerts: vec![(9, "sensitivity".to_owned(), "acknowledged".to_owned())],
            }],
            open_alerts: vec![(9, "sensitivity".to_owned(), "acknowledged".to_owned())],
            log_sha256: "ab".repeat(32),
            signature: None,
        }
    }

    #[test]
    fn the_report_states_the_position_and_escapes_what_people_wrote() {
        let good = inputs(
            HazardStatus::Controlled,
            EvidenceState::Supports("validation 3 passed its protocol".to_owned()),
        );
        let (acceptable, concerns) = safety_position(&good);
        assert!(acceptable, "{concerns:?}");
        let html = safety_case_report(&good);
        assert!(html.contains("Every hazard is controlled or closed"));
        assert!(html.contains("Darker images from a new detector &lt;b&gt;"));
        assert!(!html.contains("<b>"));
        assert!(html.contains("Not yet signed"));
        assert!(html.contains(&"ab".repeat(32)));
        // The same inputs give the same bytes.
        assert_eq!(safety_case_report(&good), html);

        let reviewing = inputs(
            HazardStatus::UnderReview,
            EvidenceState::Missing("failed its protocol".to_owned()),
        );
        let (acceptable, concerns) = safety_position(&reviewing);
        assert!(!acceptable);
        assert_eq!(
            concerns,
            vec![
                "hazard 1 (Missed pneumothorax) is under review".to_owned(),
                "hazard 1 (Missed pneumothorax): evidence evaluation:3 failed its protocol"
                    .to_owned(),
            ]
        );
    }

    #[test]
    fn a_signature_of_another_log_is_reported_as_stale() {
        let mut signed = inputs(
            HazardStatus::Controlled,
            EvidenceState::Supports("validation 3 passed".to_owned()),
        );
        signed.signature = Some(CaseSignature {
            signed_by: "rw3.cso".to_owned(),
            signed_at: "2026-11-30T10:00:00.000000Z".to_owned(),
            statement: "The residual risks are acceptable".to_owned(),
            log_sha256: "ab".repeat(32),
        });
        assert!(safety_case_report(&signed).contains("Signed by rw3.cso"));
        signed.log_sha256 = "cd".repeat(32);
        let stale = safety_case_report(&signed);
        assert!(stale.contains("Not signed since the hazard log changed"));
        assert!(!stale.contains("Signed by rw3.cso"));
    }
}
