//! `vigil monitor`: a deployment's monitoring rules, assessments and alerts
//! from the command line, straight on the database (the same store calls
//! as the API, with the same role rules).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use vigil_domain::Role;
use vigil_monitor::{Assessment, RuleSet, Verdict};
use vigil_server::access::Permission;
use vigil_store::rows::stored_timestamp;
use vigil_store::{AlertRecord, AlertState, DeploymentId, Store};

use crate::registry::{ActorArgs, actor_context, print, require_within_tree};

/// Commands of `vigil monitor`.
#[derive(Debug, Subcommand)]
pub enum MonitorCommand {
    /// Shows the rules in force for a deployment (TOML, or JSON with --json).
    Rules {
        #[arg(long, value_name = "ID")]
        deployment: i64,
    },
    /// Stores a new version of a deployment's rules from a TOML or JSON file.
    SetRules(SetRulesArgs),
    /// Judges a deployment's rules on a day and, with --raise, raises the
    /// alerts due. Exit code 1 when a rule signals.
    Assess(AssessArgs),
    /// Lists a deployment's alerts, newest first.
    Alerts {
        #[arg(long, value_name = "ID")]
        deployment: i64,
    },
    /// Acknowledges a raised alert.
    Acknowledge(AlertArgs),
    /// Resolves an acknowledged alert.
    Resolve(AlertArgs),
}

#[derive(Debug, Args)]
pub struct SetRulesArgs {
    #[command(flatten)]
    actor: ActorArgs,
    /// The rule set: TOML (.toml) or JSON (.json).
    file: PathBuf,
    #[arg(long, value_name = "ID")]
    deployment: i64,
    /// Why the rules change (kept in the audit trail).
    #[arg(long, value_name = "TEXT")]
    reason: String,
    /// The version the edit starts from (0 for none): an edit stored
    /// meanwhile makes this one fail rather than be overwritten.
    #[arg(long, value_name = "N")]
    expected_version: i64,
}

#[derive(Debug, Args)]
pub struct AssessArgs {
    #[command(flatten)]
    actor: ActorArgs,
    #[arg(long, value_name = "ID")]
    deployment: i64,
    /// The day judged (YYYY-MM-DD, UTC); today by default.
    #[arg(long, value_name = "DAY")]
    as_of: Option<String>,
    /// Raise the alerts due (as the server's scheduled assessment does).
    #[arg(long)]
    raise: bool,
}

#[derive(Debug, Args)]
pub struct AlertArgs {
    #[command(flatten)]
    actor: ActorArgs,
    /// The alert's id.
    alert: i64,
    /// What was found or done (kept with the alert and in the audit trail).
    #[arg(long, value_name = "TEXT")]
    note: String,
}

/// Refuses an actor whose role lacks `permission`, by the one table of
/// permissions the API enforces too.
fn require(context: &vigil_store::ChangeContext, permission: Permission, what: &str) -> Result<()> {
    if permission.granted_to(context.actor.role) {
        return Ok(());
    }
    let names: Vec<&str> = Role::ALL
        .into_iter()
        .filter(|role| permission.granted_to(*role))
        .map(Role::as_str)
        .collect();
    bail!(
        "{} ({}) may not {what}; that needs one of: {}",
        context.actor.name,
        context.actor.role,
        names.join(", ")
    )
}

fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Signal => "SIGNAL",
        Verdict::Clear => "clear",
        Verdict::NotEnoughData => "not enough data",
        Verdict::Unavailable => "unavailable",
    }
}

fn alert_json(alert: &AlertRecord) -> Value {
    json!({
        "id": alert.id,
        "deployment": alert.deployment.0,
        "rule": alert.rule,
        "rules_version": alert.rules_version,
        "state": alert.state.as_str(),
        "proposes_suspension": alert.proposes_suspension,
        "raised_at": stored_timestamp(alert.raised_at),
        "assessment": alert.assessment,
        "acknowledgement": alert.acknowledgement,
        "resolution": alert.resolution,
    })
}

fn alert_line(alert: &AlertRecord) -> String {
    format!(
        "alert {} [{}] rule {} (rules v{}) raised {}: {}{}\n",
        alert.id,
        alert.state.as_str(),
        alert.rule,
        alert.rules_version,
        stored_timestamp(alert.raised_at),
        alert.assessment.evidence.explanation,
        if alert.proposes_suspension {
            " — proposes suspension"
        } else {
            ""
        }
    )
}

fn assessment_line(assessment: &Assessment) -> String {
    format!(
        "{:<28} {:<16} {} to {}: {}\n",
        assessment.rule,
        verdict_name(assessment.verdict),
        assessment.window_from,
        assessment.window_to,
        assessment.evidence.explanation
    )
}

/// Runs a `vigil monitor` command; exit code 1 when an assessment signals.
pub async fn run(
    store: &impl Store,
    command: MonitorCommand,
    json_output: bool,
) -> Result<std::process::ExitCode> {
    match command {
        MonitorCommand::Rules { deployment } => {
            let Some(record) = store.rules(DeploymentId(deployment)).await? else {
                store.deployment(DeploymentId(deployment)).await?;
                bail!(
                    "deployment {deployment} has no monitoring rules yet (they are made at go-live, or set with `vigil monitor set-rules`)"
                );
            };
            let rules: Value = serde_json::from_str(&record.rules.to_json())?;
            print(
                json_output,
                json!({"deployment": deployment, "version": record.version, "reason": record.reason, "rules": rules}),
                || {
                    format!(
                        "# rules version {} of deployment {deployment}: {}\n{}",
                        record.version,
                        record.reason,
                        record.rules.to_toml()
                    )
                },
            );
        }
        MonitorCommand::SetRules(arguments) => {
            let context = actor_context(store, &arguments.actor).await?;
            require(
                &context,
                Permission::ManageMonitoring,
                "edit monitoring rules",
            )?;
            let deployment = DeploymentId(arguments.deployment);
            let record = store.deployment(deployment).await?;
            require_within_tree(store, &context, &record.deployment.site).await?;
            let text = std::fs::read_to_string(&arguments.file)
                .with_context(|| format!("cannot read {}", arguments.file.display()))?;
            let is_json = arguments
                .file
                .extension()
                .is_some_and(|extension| extension.eq_ignore_ascii_case("json"));
            let rules = if is_json {
                RuleSet::from_json(&text)
            } else {
                RuleSet::from_toml(&text)
            }
            .with_context(|| arguments.file.display().to_string())?;
            let reason = arguments.reason.trim();
            if reason.is_empty() {
                bail!("--reason must say why the rules change");
            }
            let stored = store
                .set_rules(
                    &context,
                    deployment,
                    &rules,
                    reason,
                    Some(arguments.expected_version),
                )
                .await?;
            print(
                json_output,
                json!({"deployment": arguments.deployment, "version": stored.version}),
                || {
                    format!(
                        "stored rules version {} of deployment {}\n",
                        stored.version, arguments.deployment
                    )
                },
            );
        }
        MonitorCommand::Assess(arguments) => {
            let context = actor_context(store, &arguments.actor).await?;
            if arguments.raise {
                require(&context, Permission::ManageMonitoring, "raise alerts")?;
            }
            let deployment = DeploymentId(arguments.deployment);
            let record = store.deployment(deployment).await?;
            require_within_tree(store, &context, &record.deployment.site).await?;
            let as_of = match &arguments.as_of {
                Some(day) => day
                    .trim()
                    .parse()
                    .with_context(|| format!("--as-of {day:?} is not a date such as 2026-11-30"))?,
                None => vigil_monitor::utc_day(jiff::Timestamp::now()),
            };
            let assessment = vigil_store::monitoring::assess_deployment(
                store,
                &context,
                deployment,
                as_of,
                arguments.raise,
            )
            .await?;
            let Some(version) = assessment.rules_version else {
                bail!(
                    "deployment {} has no monitoring rules yet",
                    arguments.deployment
                );
            };
            print(
                json_output,
                json!({
                    "deployment": arguments.deployment,
                    "rules_version": version,
                    "as_of": as_of.to_string(),
                    "assessments": assessment.assessments,
                    "raised": assessment.raised.iter().map(alert_json).collect::<Vec<_>>(),
                }),
                || {
                    let mut text = format!(
                        "deployment {} on {as_of}, rules version {version}:\n",
                        arguments.deployment
                    );
                    for line in assessment.assessments.iter().map(assessment_line) {
                        text.push_str(&line);
                    }
                    for alert in &assessment.raised {
                        text.push_str(&format!("raised {}", alert_line(alert)));
                    }
                    text
                },
            );
            let signals = assessment
                .assessments
                .iter()
                .any(|assessment| assessment.verdict == Verdict::Signal);
            return Ok(if signals {
                std::process::ExitCode::from(1)
            } else {
                std::process::ExitCode::SUCCESS
            });
        }
        MonitorCommand::Alerts { deployment } => {
            store.deployment(DeploymentId(deployment)).await?;
            let alerts = store.alerts(DeploymentId(deployment)).await?;
            print(
                json_output,
                Value::Array(alerts.iter().map(alert_json).collect()),
                || {
                    if alerts.is_empty() {
                        format!("deployment {deployment} has no alerts\n")
                    } else {
                        alerts.iter().map(alert_line).collect()
                    }
                },
            );
        }
        MonitorCommand::Acknowledge(arguments) | MonitorCommand::Resolve(arguments)
            if arguments.note.trim().is_empty() =>
        {
            bail!("--note must say what was found or done");
        }
        MonitorCommand::Acknowledge(arguments) => {
            move_alert(store, arguments, AlertState::Acknowledged, json_output).await?;
        }
        MonitorCommand::Resolve(arguments) => {
            move_alert(store, arguments, AlertState::Resolved, json_output).await?;
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

async fn move_alert(
    store: &impl Store,
    arguments: AlertArgs,
    to: AlertState,
    json_output: bool,
) -> Result<()> {
    let context = actor_context(store, &arguments.actor).await?;
    require(&context, Permission::RespondToAlerts, "move alerts on")?;
    let alert = store.alert(arguments.alert).await?;
    let record = store.deployment(alert.deployment).await?;
    require_within_tree(store, &context, &record.deployment.site).await?;
    let moved = store
        .advance_alert(&context, arguments.alert, to, arguments.note.trim())
        .await?;
    print(json_output, alert_json(&moved), || alert_line(&moved));
    Ok(())
}
