//! Monitoring above the store: judging a deployment's rules on its stored
//! aggregates and raising the alerts due, and the message an alert sends
//! to webhooks. The command line, the API and the server's background
//! monitor all go through [`assess_deployment`].

use jiff::civil::Date;

use crate::{AlertRecord, ChangeContext, DeploymentId, Store, StoreError};

/// What judging a deployment's rules gave.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentAssessment {
    /// The version of the rules judged (`None`: the deployment has none).
    pub rules_version: Option<i64>,
    pub as_of: Date,
    pub assessments: Vec<vigil_monitor::Assessment>,
    /// The alerts raised by this assessment (a rule with an open alert
    /// raises no second one).
    pub raised: Vec<AlertRecord>,
}

/// Judges the rules in force for a deployment on the day `as_of` and, when
/// `raise` is set, raises the alerts due.
pub async fn assess_deployment<S: Store>(
    store: &S,
    context: &ChangeContext,
    deployment: DeploymentId,
    as_of: Date,
    raise: bool,
) -> Result<DeploymentAssessment, StoreError> {
    let Some(rules) = store.rules(deployment).await? else {
        store.deployment(deployment).await?;
        return Ok(DeploymentAssessment {
            rules_version: None,
            as_of,
            assessments: Vec::new(),
            raised: Vec::new(),
        });
    };
    let aggregates = store.daily_aggregates(deployment).await?;
    let days = vigil_monitor::Days::new(aggregates.iter().map(|(key, aggregate)| (key, aggregate)));
    let assessments = vigil_monitor::assess(&rules.rules, &days, as_of);
    let raised = if raise {
        store
            .raise_alerts(context, deployment, rules.version, &assessments)
            .await?
    } else {
        Vec::new()
    };
    Ok(DeploymentAssessment {
        rules_version: Some(rules.version),
        as_of,
        assessments,
        raised,
    })
}

/// The JSON body sent to a webhook about an alert: the event
/// (`alert.raised`, `alert.acknowledged`, `alert.resolved`), the alert with
/// its evidence, and the deployment's site.
pub fn alert_message(event: &str, alert: &AlertRecord, site: &str) -> String {
    serde_json::json!({
        "event": event,
        "alert": {
            "id": alert.id,
            "deployment": alert.deployment.0,
            "site": site,
            "rule": alert.rule,
            "rules_version": alert.rules_version,
            "state": alert.state.as_str(),
            "proposes_suspension": alert.proposes_suspension,
            "raised_at": crate::rows::stored_timestamp(alert.raised_at),
            "assessment": alert.assessment,
            "acknowledgement": alert.acknowledgement,
            "resolution": alert.resolution,
        },
    })
    .to_string()
}
