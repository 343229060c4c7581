//! A deterministic synthetic national dataset for demonstrating Vigil.
//!
//! [`seed`] fills an empty store through the same [`Store`] methods the
//! server and the command line use, so everything it writes is audited,
//! pseudonymised and aggregated exactly as real data would be: three
//! regions, eleven Trusts and fifteen sites ([`plan`]), six products, 31
//! deployments walked through procurement, local validation (a real
//! evaluation against a protocol), shadow running and go-live with their
//! sign-offs, and 52 weeks of inference events with the outcomes that
//! follow them ([`generate`]). The server's monitor is run on the stored
//! aggregates every week of the history, so the alerts are the ones the
//! rules really raise.
//!
//! Four stories are planted: a scanner replacement at one Trust that
//! shifts the inputs and lowers specificity; a vendor's model update
//! mid-year, taken under the deployments' change control plans; a site
//! whose sensitivity makes it the outlier of its product's funnel plot;
//! and a deployment suspended after its sensitivity alert.
//!
//! The same seed and end date give the same data, byte for byte, except
//! for the random session and token secrets no demo creates.

pub mod generate;
pub mod plan;

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use vigil_domain::{
    ChangeControlPlan, ChangeKind, Code, Deployment, DomainError, EvidenceReference,
    LifecycleState, NonEmptyText, OperatingThreshold, Organisation, OrganisationKind, Product,
    ProductVersion, PseudonymKey, Role, SignOff, SignOffPolicy, TransitionRequest,
};
use vigil_domain::{
    Control, Hazard, HazardFields, HazardStatus, Likelihood, RiskAssessment, Severity,
};
use vigil_evaluation::protocol::Protocol;
use vigil_evaluation::run::{NamedProtocol, RunOptions};
use vigil_monitor::productivity::{CaseGroup, SuccessCriterion};
use vigil_store::{
    Actor, AlertState, ChangeContext, DeploymentId, NewEvaluation, NewUser, Store, StoreError,
    VersionId,
};

use crate::generate::{WeekContext, at};
use crate::plan::{
    CHEST_UPDATE_WEEK, DEPLOYMENTS, DeploymentPlan, NATION, PRODUCTS, REGIONS, SITES, Story,
    TRUSTS, WEEKS, first_day_of_week,
};

/// The password of every demo user. The demo database is for showing
/// Vigil, never for patient data.
pub const DEMO_PASSWORD: &str = "vigil-demo-password";

/// The first week of the timeline: registration and procurement start up
/// to ten weeks before the history of events.
const FIRST_WEEK: i64 = -12;

/// What the dataset is drawn from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemoOptions {
    /// Drives every random draw.
    pub seed: u64,
    /// The last day of the history.
    pub end: Date,
    /// The share of their daily volume the ordinary deployments produce
    /// (1 for the demonstration; less for quick trials and tests). The
    /// deployments that tell a story always run at full volume.
    pub ordinary_volume: f64,
}

/// A demo user: their user name, role and organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLogin {
    pub user_name: String,
    pub role: Role,
    pub organisation: String,
}

/// What [`seed`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub organisations: usize,
    pub products: usize,
    pub deployments: usize,
    pub events: u64,
    pub outcomes: u64,
    pub alerts: usize,
    pub users: Vec<DemoLogin>,
}

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the demonstration data are invalid: {0}")]
    Domain(#[from] DomainError),
    #[error("a demonstration validation failed to run: {0}")]
    Evaluation(String),
    #[error("the story of deployment {site} was not told: {what}")]
    StoryNotTold { site: &'static str, what: String },
}

/// The number of events [`seed`] writes.
pub fn planned_events(options: &DemoOptions) -> u64 {
    plan::planned_events(options.ordinary_volume)
}

/// Hands out the moments of changes: never earlier than asked, and always
/// after the previous one, so that the audit trail runs forward in time.
struct Clock {
    last: Timestamp,
}

impl Clock {
    /// A change by `name` in `role` for `organisation`, at `wanted` or
    /// just after the previous change.
    fn context(
        &mut self,
        name: &str,
        role: Role,
        organisation: &str,
        wanted: Timestamp,
    ) -> Result<ChangeContext, DomainError> {
        Ok(ChangeContext::at(
            Actor {
                name: text(name)?,
                role,
                organisation: code(organisation)?,
            },
            self.at(wanted),
        ))
    }

    fn at(&mut self, wanted: Timestamp) -> Timestamp {
        let next = if wanted > self.last {
            wanted
        } else {
            self.last
                .checked_add(1.second())
                .expect("a moment within range")
        };
        self.last = next;
        next
    }
}

fn text(value: &str) -> Result<NonEmptyText, DomainError> {
    NonEmptyText::parse(value)
}

fn code(value: &str) -> Result<Code, DomainError> {
    Code::parse(value)
}

/// The Trust a site belongs to.
fn trust_of(site: &str) -> &'static str {
    SITES
        .iter()
        .find(|candidate| candidate.code == site)
        .and_then(|candidate| candidate.parent)
        .expect("every planned site has a Trust")
}

/// The user name of a Trust's user in a role.
fn user_name(trust: &str, role: Role) -> String {
    format!("{trust}.{}", role.as_str().replace('_', "-"))
}

/// The roles every Trust has a user in.
const TRUST_ROLES: [Role; 7] = [
    Role::AiLead,
    Role::ClinicalSafetyOfficer,
    Role::ClinicalLead,
    Role::Clinician,
    Role::ProcurementLead,
    Role::OrganisationAdmin,
    Role::Viewer,
];

fn users() -> Vec<DemoLogin> {
    let mut users = vec![
        DemoLogin {
            user_name: "national.admin".to_owned(),
            role: Role::NationalAdmin,
            organisation: NATION.code.to_owned(),
        },
        DemoLogin {
            user_name: "national.ai-lead".to_owned(),
            role: Role::AiLead,
            organisation: NATION.code.to_owned(),
        },
    ];
    for region in REGIONS {
        users.push(DemoLogin {
            user_name: format!("{}.ai-lead", region.code),
            role: Role::AiLead,
            organisation: region.code.to_owned(),
        });
    }
    for trust in TRUSTS {
        let mut roles = TRUST_ROLES.to_vec();
        if SITES
            .iter()
            .any(|site| site.parent == Some(trust.code) && site.code.ends_with("-cancer"))
        {
            roles.push(Role::MedicalPhysicsExpert);
        }
        for role in roles {
            users.push(DemoLogin {
                user_name: user_name(trust.code, role),
                role,
                organisation: trust.code.to_owned(),
            });
        }
    }
    users
}

/// Where a deployment is in its life while the history is written.
struct Running {
    id: DeploymentId,
    version: VersionId,
    version_name: &'static str,
    state: LifecycleState,
    evaluation: Option<i64>,
}

/// An alert raised during the history and what the Trust does about it.
struct Follow {
    id: i64,
    index: usize,
    raised_week: i64,
    rule: String,
}

/// Fills an empty store with the demonstration dataset. `password_hash` is
/// the argon2id hash of [`DEMO_PASSWORD`] (hashing belongs to the server);
/// `progress` hears the number of events written so far.
pub async fn seed<S: Store>(
    store: &S,
    options: &DemoOptions,
    password_hash: &str,
    progress: &mut dyn FnMut(u64),
) -> Result<DemoSummary, DemoError> {
    let end = options.end;
    let monday = |week: i64| first_day_of_week(end, week);
    let mut clock = Clock {
        last: at(monday(FIRST_WEEK - 1), 0),
    };
    let start = at(monday(FIRST_WEEK), 9 * 3_600);
    let admin = |clock: &mut Clock| {
        clock.context("national.admin", Role::NationalAdmin, NATION.code, start)
    };

    // The organisation tree and its users.
    let mut organisations = vec![Organisation::new(
        code(NATION.code)?,
        text(NATION.name)?,
        OrganisationKind::Nation,
        None,
    )?];
    for (level, kind, parent_kind) in [
        (
            &REGIONS[..],
            OrganisationKind::Region,
            OrganisationKind::Nation,
        ),
        (
            &TRUSTS[..],
            OrganisationKind::Trust,
            OrganisationKind::Region,
        ),
        (&SITES[..], OrganisationKind::Site, OrganisationKind::Trust),
    ] {
        for planned in level {
            let parent = code(
                planned
                    .parent
                    .expect("every planned organisation below the nation has a parent"),
            )?;
            organisations.push(Organisation::new(
                code(planned.code)?,
                text(planned.name)?,
                kind,
                Some((&parent, parent_kind)),
            )?);
        }
    }
    let logins = users();
    let first_user = &logins[0];
    let administrator = store
        .initialise(
            &admin(&mut clock)?,
            &organisations,
            &NewUser {
                user_name: text(&first_user.user_name)?,
                display_name: text("National administrator")?,
                role: first_user.role,
                organisation: code(&first_user.organisation)?,
            },
        )
        .await?;
    store
        .set_password_hash(&admin(&mut clock)?, administrator.id, password_hash)
        .await?;
    for login in &logins[1..] {
        store
            .add_user_with_password(
                &admin(&mut clock)?,
                &NewUser {
                    user_name: text(&login.user_name)?,
                    display_name: text(&display_name(login))?,
                    role: login.role,
                    organisation: code(&login.organisation)?,
                },
                password_hash,
            )
            .await?;
    }

    // The products and their first versions.
    let mut versions: BTreeMap<(usize, &'static str), VersionId> = BTreeMap::new();
    let mut product_ids = Vec::new();
    for (index, product) in PRODUCTS.iter().enumerate() {
        let id = store
            .add_product(
                &admin(&mut clock)?,
                &Product {
                    vendor: text(product.vendor)?,
                    name: text(product.name)?,
                    intended_purpose: text(product.intended_purpose)?,
                    modality: product.modality,
                    body_part: text(product.body_part)?,
                    task_type: product.task,
                    regulatory_class: product.class,
                    marking: text("UKCA")?,
                },
            )
            .await?;
        product_ids.push(id);
        let first = product.versions[0];
        let version = store
            .add_version(
                &admin(&mut clock)?,
                id,
                &ProductVersion {
                    version: text(first)?,
                    release_date: monday(FIRST_WEEK - 20),
                    change_notes: text("Version assessed at procurement")?,
                    change_kind: ChangeKind::Initial,
                },
            )
            .await?;
        versions.insert((index, first), version);
    }

    let key = demo_key(options.seed);
    let mut assessed: Vec<(&'static str, VersionId)> = Vec::new();
    let mut hazard_logs: Vec<Vec<i64>> = DEPLOYMENTS.iter().map(|_| Vec::new()).collect();
    let mut running: Vec<Option<Running>> = DEPLOYMENTS.iter().map(|_| None).collect();
    let mut pending: Vec<Vec<vigil_monitor::Outcome>> =
        DEPLOYMENTS.iter().map(|_| Vec::new()).collect();
    let mut follows: Vec<Follow> = Vec::new();
    let (mut events_written, mut outcomes_written, mut alerts_raised) = (0_u64, 0_u64, 0_usize);
    for week in FIRST_WEEK..WEEKS {
        let morning = |minutes: i64| at(monday(week), 9 * 3_600 + 60 * minutes);
        let week_end = monday(week).saturating_add(6.days());
        // The vendor's update.
        if week == CHEST_UPDATE_WEEK {
            let product = PRODUCTS
                .iter()
                .position(|product| product.key == "chest")
                .expect("the chest product");
            let update = PRODUCTS[product].versions[1];
            let version = store
                .add_version(
                    &clock.context("national.admin", Role::NationalAdmin, NATION.code, morning(0))?,
                    product_ids[product],
                    &ProductVersion {
                        version: text(update)?,
                        release_date: monday(week),
                        change_notes: text("Retrained on a larger multi-vendor dataset; same intended use and operating threshold")?,
                        change_kind: ChangeKind::PerformanceUpdate,
                    },
                )
                .await?;
            versions.insert((product, update), version);
        }
        // Lifecycle decisions, in deployment order.
        for (index, plan) in DEPLOYMENTS.iter().enumerate() {
            let trust = trust_of(plan.site);
            let lead = |clock: &mut Clock, minutes: i64| {
                clock.context(
                    &user_name(trust, Role::AiLead),
                    Role::AiLead,
                    trust,
                    morning(minutes),
                )
            };
            let product = plan.product();
            if week == plan.first_week - 1 {
                let version = versions[&(plan.product, product.versions[0])];
                let plan_kinds: Vec<ChangeKind> = if product.versions.len() > 1 {
                    vec![ChangeKind::BugFix, ChangeKind::PerformanceUpdate]
                } else {
                    vec![ChangeKind::BugFix]
                };
                let id = store
                    .add_deployment(
                        &lead(&mut clock, index as i64)?,
                        version,
                        &Deployment {
                            site: code(plan.site)?,
                            owning_team: text(if product.radiotherapy {
                                "Radiotherapy physics"
                            } else {
                                "Imaging AI team"
                            })?,
                            thresholds: vec![(
                                text("default")?,
                                OperatingThreshold::parse(product.threshold())?,
                            )],
                            change_control: ChangeControlPlan::new(plan_kinds)?,
                        },
                    )
                    .await?;
                running[index] = Some(Running {
                    id,
                    version,
                    version_name: product.versions[0],
                    state: LifecycleState::Proposed,
                    evaluation: None,
                });
            }
            let Some(deployment) = running[index].as_mut() else {
                continue;
            };
            let mut steps: Vec<LifecycleState> = Vec::new();
            let reached = |state: LifecycleState| {
                plan.live_week.is_some() || ordinal(plan.final_state) >= ordinal(state)
            };
            if week == plan.first_week && reached(LifecycleState::Procurement) {
                steps.push(LifecycleState::Procurement);
            }
            if week == plan.first_week + 3 && reached(LifecycleState::Validation) {
                steps.push(LifecycleState::Validation);
            }
            if week == plan.first_week + 5 && reached(LifecycleState::Validation) {
                let evaluation = validate(
                    store,
                    options.seed,
                    index,
                    plan,
                    deployment,
                    lead(&mut clock, 30 + index as i64)?,
                    monday(week),
                )
                .await?;
                deployment.evaluation = Some(evaluation);
            }
            if Some(week) == plan.shadow_week() {
                steps.push(LifecycleState::Shadow);
            }
            if Some(week) == plan.live_week {
                steps.push(LifecycleState::Live);
            }
            for to in steps {
                governance_before(
                    store,
                    &mut clock,
                    plan,
                    deployment,
                    to,
                    morning(35 + index as i64),
                    &mut assessed,
                    &mut hazard_logs[index],
                )
                .await?;
                let evidence = match (to, deployment.evaluation) {
                    (LifecycleState::Shadow | LifecycleState::Live, Some(evaluation)) => {
                        vec![format!("evaluation:{evaluation}")]
                    }
                    _ => Vec::new(),
                };
                let rationale = match to {
                    LifecycleState::Procurement => format!("{} meets a documented clinical need at {}; procurement assessment opened", product.name, plan.site),
                    LifecycleState::Validation => "Contract signed with a local acceptance test as a condition; validation protocol written before the data were seen".to_owned(),
                    LifecycleState::Shadow => "Local validation passed its protocol; silent running to confirm behaviour on live cases".to_owned(),
                    _ => "Shadow running matched the validated performance; safety case signed; go-live approved".to_owned(),
                };
                decide(
                    store,
                    deployment,
                    plan,
                    to,
                    &rationale,
                    &evidence,
                    false,
                    lead(&mut clock, 40 + index as i64)?,
                )
                .await?;
            }
            // The model update, a week or three after its release.
            let update_week = CHEST_UPDATE_WEEK + 1 + (index as i64 % 3);
            if product.versions.len() > 1
                && week == update_week
                && deployment.state == LifecycleState::Live
            {
                let update = product.versions[1];
                let record = store
                    .upgrade_deployment(
                        &lead(&mut clock, 50 + index as i64)?,
                        deployment.id,
                        versions[&(plan.product, update)],
                    )
                    .await?;
                deployment.version = record.version;
                deployment.version_name = update;
                if record.state != LifecycleState::Live {
                    return Err(DemoError::StoryNotTold {
                        site: plan.site,
                        what: format!("the update left the deployment {}", record.state),
                    });
                }
            }
            // The suspension after the sensitivity alert.
            if Some(week) == plan.suspension_week() {
                let alert = follows
                    .iter()
                    .find(|follow| follow.index == index && follow.rule == "sensitivity")
                    .map(|follow| follow.id)
                    .ok_or_else(|| DemoError::StoryNotTold {
                        site: plan.site,
                        what: "no sensitivity alert was raised after the fault".to_owned(),
                    })?;
                let officer = user_name(trust, Role::ClinicalSafetyOfficer);
                if let Some(&hazard) = hazard_logs[index].first() {
                    let reviewer = clock.context(
                        &officer,
                        Role::ClinicalSafetyOfficer,
                        trust,
                        morning(59 + index as i64),
                    )?;
                    store
                        .link_alert_to_hazard(
                            &reviewer,
                            alert,
                            hazard,
                            "Sensitivity alert after the reconstruction change: the missed-finding hazard's residual rating is in doubt",
                        )
                        .await?;
                }
                let suspender = clock.context(
                    &officer,
                    Role::ClinicalSafetyOfficer,
                    trust,
                    morning(60 + index as i64),
                )?;
                decide(
                    store,
                    deployment,
                    plan,
                    LifecycleState::Suspended,
                    "Sensitivity has fallen well below the validated level since the thin-slice reconstruction change; suspended pending investigation with the vendor",
                    &[format!("alert:{alert}")],
                    true,
                    suspender,
                )
                .await?;
            }
        }
        // A week of events, then the outcomes recorded by its end.
        for (index, plan) in DEPLOYMENTS.iter().enumerate() {
            let Some(deployment) = running[index].as_ref() else {
                continue;
            };
            let trust = trust_of(plan.site);
            if plan.running_in(week) {
                let drawn = generate::week(&WeekContext {
                    seed: options.seed,
                    end,
                    index,
                    plan,
                    week,
                    model_version: deployment.version_name,
                    ordinary_volume: options.ordinary_volume,
                    separation_bonus: if deployment.version_name == "2.4.0" {
                        0.15
                    } else {
                        0.0
                    },
                    key: &key,
                });
                let feed = clock.context(
                    &user_name(trust, Role::AiLead),
                    Role::AiLead,
                    trust,
                    at(week_end, 23 * 3_600),
                )?;
                let body = format!("demo events {} week {week}", plan.site);
                store
                    .ingest_events(
                        &feed,
                        deployment.id,
                        &drawn.events,
                        &vigil_store::rows::sha256_hex(&body),
                    )
                    .await?;
                events_written += drawn.events.len() as u64;
                pending[index].extend(drawn.outcomes);
                progress(events_written);
            }
            let due_by = at(week_end, 24 * 3_600);
            let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut pending[index])
                .into_iter()
                .partition(|outcome| outcome.recorded_at < due_by);
            pending[index] = later;
            if !due.is_empty() {
                let feed = clock.context(
                    &user_name(trust, Role::AiLead),
                    Role::AiLead,
                    trust,
                    at(week_end, 23 * 3_600 + 1_800),
                )?;
                let body = format!("demo outcomes {} week {week}", plan.site);
                store
                    .ingest_outcomes(
                        &feed,
                        deployment.id,
                        &due,
                        &vigil_store::rows::sha256_hex(&body),
                    )
                    .await?;
                outcomes_written += due.len() as u64;
            }
        }
        // The weekly monitor, then what the Trusts do about its alerts.
        if week >= 0 {
            for (index, plan) in DEPLOYMENTS.iter().enumerate() {
                let Some(deployment) = running[index].as_ref() else {
                    continue;
                };
                if deployment.state != LifecycleState::Live {
                    continue;
                }
                let monitor = clock.context(
                    "vigil-monitor",
                    Role::AiLead,
                    trust_of(plan.site),
                    at(week_end, 23 * 3_600 + 3_000),
                )?;
                let assessed = vigil_store::monitoring::assess_deployment(
                    store,
                    &monitor,
                    deployment.id,
                    week_end,
                    true,
                )
                .await?;
                for alert in assessed.raised {
                    alerts_raised += 1;
                    follows.push(Follow {
                        id: alert.id,
                        index,
                        raised_week: week,
                        rule: alert.rule.clone(),
                    });
                }
            }
            for follow in &follows {
                let plan = &DEPLOYMENTS[follow.index];
                let trust = trust_of(plan.site);
                let lead = user_name(trust, Role::AiLead);
                let story_alert = is_story_alert(plan, &follow.rule);
                if week == follow.raised_week + 1 {
                    let note = if story_alert {
                        "Confirmed on review of recent cases; investigating with the modality lead and the vendor"
                    } else {
                        "Seen; reviewing the cases of the window"
                    };
                    let acknowledger =
                        clock.context(&lead, Role::AiLead, trust, at(monday(week), 11 * 3_600))?;
                    store
                        .advance_alert(&acknowledger, follow.id, AlertState::Acknowledged, note)
                        .await?;
                }
                if week == follow.raised_week + 3 && !story_alert {
                    let resolver =
                        clock.context(&lead, Role::AiLead, trust, at(monday(week), 15 * 3_600))?;
                    store
                        .advance_alert(&resolver, follow.id, AlertState::Resolved, "Reviewed: within expected variation, no change in clinical performance; no action")
                        .await?;
                }
            }
        }
    }
    Ok(DemoSummary {
        organisations: organisations.len(),
        products: PRODUCTS.len(),
        deployments: DEPLOYMENTS.len(),
        events: events_written,
        outcomes: outcomes_written,
        alerts: alerts_raised,
        users: logins,
    })
}

/// Whether an alert belongs to a planted story (and so stays open).
fn is_story_alert(plan: &DeploymentPlan, rule: &str) -> bool {
    match plan.story {
        Story::ScannerReplacement { .. } => {
            rule.starts_with("input-")
                || rule.starts_with("specificity")
                || rule.starts_with("positive-rate")
                || rule.starts_with("cbpe")
                || rule == "score-drift"
                || rule == "ppv"
        }
        Story::SuspendedAfterAlert { .. } => true,
        _ => false,
    }
}

/// A readable name for a demo user.
fn display_name(login: &DemoLogin) -> String {
    let role = match login.role {
        Role::Viewer => "viewer",
        Role::Clinician => "consultant radiologist",
        Role::AiLead => "AI lead",
        Role::ClinicalSafetyOfficer => "clinical safety officer",
        Role::ClinicalLead => "clinical lead",
        Role::MedicalPhysicsExpert => "medical physics expert",
        Role::ProcurementLead => "procurement lead",
        Role::OrganisationAdmin => "administrator",
        Role::NationalAdmin => "national administrator",
    };
    format!("{} {role}", login.organisation.to_uppercase())
}

/// The order of the main lifecycle path.
fn ordinal(state: LifecycleState) -> u8 {
    match state {
        LifecycleState::Proposed => 0,
        LifecycleState::Procurement => 1,
        LifecycleState::Validation => 2,
        LifecycleState::Shadow => 3,
        LifecycleState::Live => 4,
        LifecycleState::Suspended => 5,
        LifecycleState::Retired => 6,
    }
}

/// The pseudonymisation key of the demo's cases, derived from the seed.
fn demo_key(seed: u64) -> PseudonymKey {
    let mut bytes = [0_u8; 32];
    for (index, byte) in bytes.iter_mut().enumerate() {
        *byte = (seed >> (8 * (index % 8))) as u8 ^ (0x5a_u8.wrapping_add(index as u8));
    }
    PseudonymKey::from_bytes(bytes)
}

/// What a Trust does before a lifecycle step besides deciding it: a
/// procurement assessment of the version (once per Trust and version)
/// before validation; success criteria before shadow running; the hazard
/// log and the signed safety case before go-live.
#[allow(clippy::too_many_arguments)]
async fn governance_before<S: Store>(
    store: &S,
    clock: &mut Clock,
    plan: &DeploymentPlan,
    deployment: &Running,
    to: LifecycleState,
    at: Timestamp,
    assessed: &mut Vec<(&'static str, VersionId)>,
    hazard_log: &mut Vec<i64>,
) -> Result<(), DemoError> {
    use vigil_domain::procurement::{Answer, DEFAULT_TEMPLATE, Template};
    let trust = trust_of(plan.site);
    let product = plan.product();
    match to {
        LifecycleState::Validation if !assessed.contains(&(trust, deployment.version)) => {
            assessed.push((trust, deployment.version));
            let buyer = clock.context(
                &user_name(trust, Role::ProcurementLead),
                Role::ProcurementLead,
                trust,
                at,
            )?;
            // Strong on evidence and safety, weaker on integration and the
            // environmental figures suppliers rarely report yet.
            let answers: Vec<Answer> = Template::default_template()
                .question_keys()
                .into_iter()
                .map(|question| {
                    let score = if question.starts_with("environment.") {
                        1
                    } else if question.starts_with("integration.")
                        || question.starts_with("commercial.")
                    {
                        2
                    } else {
                        3
                    };
                    Answer {
                        question,
                        score,
                        note: None,
                        attachments: Vec::new(),
                    }
                })
                .collect();
            store
                .record_assessment(
                    &buyer,
                    deployment.version,
                    &code(trust)?,
                    DEFAULT_TEMPLATE,
                    &answers,
                )
                .await?;
        }
        LifecycleState::Shadow => {
            let lead = clock.context(&user_name(trust, Role::AiLead), Role::AiLead, trust, at)?;
            store
                .register_success_criteria(
                    &lead,
                    deployment.id,
                    &[SuccessCriterion::MedianTurnaroundReduction {
                        cases: CaseGroup::Flagged,
                        minutes: 30.0,
                    }],
                    "Flagged studies reported at least half an hour sooner than in shadow running",
                )
                .await?;
        }
        LifecycleState::Live if hazard_log.is_empty() => {
            let officer = clock.context(
                &user_name(trust, Role::ClinicalSafetyOfficer),
                Role::ClinicalSafetyOfficer,
                trust,
                at,
            )?;
            let validation = deployment
                .evaluation
                .map(|id| format!("evaluation:{id}"))
                .unwrap_or_else(|| "local validation report".to_owned());
            let hazards = [
                (
                    format!("Missed finding by {}", product.name),
                    "The tool misses a finding on images unlike its training data (a new scanner, protocol or reconstruction)",
                    "A finding is not prioritised and its report is delayed",
                    vec![
                        (
                            "Every study is still reported by a radiologist in the usual order of the worklist",
                            Vec::new(),
                        ),
                        (
                            "Local validation before go-live, and sensitivity monitored weekly against it",
                            vec![validation.clone(), "rule:sensitivity".to_owned()],
                        ),
                    ],
                    (Severity::Major, Likelihood::Medium, Likelihood::VeryLow),
                ),
                (
                    format!("False alarms from {}", product.name),
                    "A change in the population or the scanners raises the tool's positive rate",
                    "Reporting time is spent on false alarms and trust in the tool falls",
                    vec![(
                        "The positive rate is watched by a CUSUM chart designed at go-live",
                        vec!["rule:positive-rate-cusum".to_owned()],
                    )],
                    (Severity::Minor, Likelihood::High, Likelihood::Low),
                ),
            ];
            for (title, cause, effect, controls, (severity, initial, residual)) in hazards {
                let controls = controls
                    .into_iter()
                    .map(|(description, evidence)| {
                        Ok(Control {
                            description: text(description)?,
                            evidence: evidence
                                .iter()
                                .map(|reference| EvidenceReference::parse(reference))
                                .collect::<Result<Vec<_>, _>>()?,
                        })
                    })
                    .collect::<Result<Vec<_>, DomainError>>()?;
                let hazard = Hazard::new(HazardFields {
                    title: text(&title)?,
                    cause: text(cause)?,
                    effect: text(effect)?,
                    controls,
                    initial: RiskAssessment {
                        severity,
                        likelihood: initial,
                    },
                    residual: RiskAssessment {
                        severity,
                        likelihood: residual,
                    },
                    owner: text("Clinical safety officer")?,
                    status: HazardStatus::Controlled,
                })?;
                hazard_log.push(store.add_hazard(&officer, deployment.id, &hazard).await?.id);
            }
            // The officer signs the report as it reads now.
            let record = store.deployment(deployment.id).await?;
            let inputs = vigil_store::safety::safety_case_inputs(store, &record).await?;
            let report = vigil_reports::safety_case::safety_case_report(&inputs);
            store
                .sign_safety_case(
                    &officer,
                    deployment.id,
                    &inputs.log_sha256,
                    &vigil_store::rows::sha256_hex(&report),
                    "The residual risks are acceptable for go-live with the controls in place",
                )
                .await?;
        }
        _ => {}
    }
    Ok(())
}

/// Records a decision with the sign-offs the default policy asks for, by
/// the Trust's users in those roles.
#[allow(clippy::too_many_arguments)]
async fn decide<S: Store>(
    store: &S,
    deployment: &mut Running,
    plan: &DeploymentPlan,
    to: LifecycleState,
    rationale: &str,
    evidence: &[String],
    proposed_by_alert: bool,
    context: ChangeContext,
) -> Result<(), DemoError> {
    let trust = trust_of(plan.site);
    let radiotherapy = plan.product().radiotherapy;
    let sign_offs = SignOffPolicy::default()
        .required_roles(deployment.state, to, radiotherapy)
        .into_iter()
        .map(|role| {
            Ok(SignOff {
                actor: text(&user_name(trust, role))?,
                role,
            })
        })
        .collect::<Result<Vec<_>, DomainError>>()?;
    let evidence = evidence
        .iter()
        .map(|reference| EvidenceReference::parse(reference))
        .collect::<Result<Vec<_>, _>>()?;
    store
        .transition(
            &context,
            deployment.id,
            TransitionRequest {
                from: deployment.state,
                to,
                sign_offs,
                rationale: text(rationale)?,
                evidence,
                proposed_by_alert,
            },
            None,
        )
        .await?;
    deployment.state = to;
    Ok(())
}

/// Runs the local validation of a deployment on its drawn cases against a
/// protocol written for the product, and stores it.
async fn validate<S: Store>(
    store: &S,
    seed: u64,
    index: usize,
    plan: &DeploymentPlan,
    deployment: &Running,
    context: ChangeContext,
    day: Date,
) -> Result<i64, DemoError> {
    let product = plan.product();
    let cases = generate::validation_cases(seed, index, plan);
    let expected_sensitivity =
        1.0 - vigil_stats::distributions::normal_cdf(product.negative_cutoff - product.separation);
    let expected_specificity = vigil_stats::distributions::normal_cdf(product.negative_cutoff);
    let protocol_text = format!(
        r#"[protocol]
title = "Local acceptance test: {name} {version} at {site}"
tool = "{vendor} {name}"
version = "{version}"
intended_use = "{purpose}"
reference_standard = "Consultant report or pathology, adjudicated on disagreement"
author = "AI lead, {trust}"
date = "{day}"

[operating_point]
threshold = {threshold}

[analysis]
confidence_level = 0.95
subgroups = ["scanner_model", "age_band"]
minimum_subgroup_size = 30

[acceptance]
criteria = [
  "auc.estimate >= 0.80",
  "sensitivity.estimate >= {sensitivity:.2}",
  "specificity.estimate >= {specificity:.2}",
]
"#,
        name = product.name,
        version = deployment.version_name,
        site = plan.site,
        vendor = product.vendor,
        purpose = product.intended_purpose,
        trust = trust_of(plan.site),
        threshold = product.threshold(),
        sensitivity = expected_sensitivity - 0.10,
        specificity = expected_specificity - 0.08,
    );
    let protocol = Protocol::parse(&protocol_text, "protocol.toml")
        .map_err(|error| DemoError::Evaluation(error.to_string()))?;
    let evaluation = vigil_evaluation::run::run(
        &RunOptions::default(),
        Some(NamedProtocol {
            protocol: &protocol,
            source_name: "protocol.toml",
        }),
        cases.as_bytes(),
        "validation-cases.csv",
        &mut |_| {},
    )
    .map_err(|error| DemoError::Evaluation(error.to_string()))?;
    let verdict = serde_json::to_value(evaluation.verdict)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .ok_or_else(|| DemoError::Evaluation("the verdict is not a name".to_owned()))?;
    if verdict != "pass" {
        return Err(DemoError::StoryNotTold {
            site: plan.site,
            what: format!("its local validation gave {verdict}"),
        });
    }
    let result = serde_json::to_string_pretty(&evaluation)
        .map_err(|error| DemoError::Evaluation(error.to_string()))?;
    let stored = store
        .add_evaluation(
            &context,
            &NewEvaluation {
                deployment: deployment.id,
                verdict,
                protocol: protocol_text,
                options: r#"{"label_column":"label","score_column":"score"}"#.to_owned(),
                cases_sha256: vigil_store::rows::sha256_hex(&cases),
                cases_bytes: cases.len() as i64,
                result,
                report: vigil_reports::evaluation_report(&evaluation),
            },
        )
        .await?;
    Ok(stored.id)
}
