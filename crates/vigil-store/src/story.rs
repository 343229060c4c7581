//! The story test suite: the behaviour every backend must show, written once
//! and run by each backend's tests through [`story_tests!`](crate::story_tests).
//!
//! Each story receives a fresh, migrated, empty store.

use std::sync::Arc;

use jiff::Timestamp;
use vigil_audit::{Verification, verify};
use vigil_domain::{
    ChangeControlPlan, ChangeKind, Code, Deployment, EvidenceReference, LifecycleState, Modality,
    NonEmptyText, OperatingThreshold, Organisation, OrganisationKind, Product, ProductVersion,
    RegulatoryClass, Role, SignOff, SignOffPolicy, TaskType, TransitionError, TransitionRequest,
};

use crate::{
    Actor, ChangeContext, DecisionRecord, DeploymentId, NewApiToken, NewEvaluation, NewUser,
    ProductId, Store, StoreError, UserChange, VersionId,
};

fn text(value: &str) -> NonEmptyText {
    NonEmptyText::parse(value).expect("valid text")
}

fn code(value: &str) -> Code {
    Code::parse(value).expect("valid code")
}

/// A change by `name` in `role`, at a fixed moment plus `seconds`.
pub fn context(name: &str, role: Role, seconds: i64) -> ChangeContext {
    let at = Timestamp::from_second(1_790_000_000 + seconds).expect("valid time");
    ChangeContext::at(
        Actor {
            name: text(name),
            role,
            organisation: code("rw3"),
        },
        at,
    )
}

fn admin() -> ChangeContext {
    context("admin", Role::OrganisationAdmin, 0)
}

/// nation → region → Trust → two sites.
pub async fn seed_organisations(store: &impl Store) {
    let nation = Organisation::new(
        code("england"),
        text("NHS England"),
        OrganisationKind::Nation,
        None,
    )
    .expect("nation");
    let region = Organisation::new(
        code("north-west"),
        text("North West Imaging Network"),
        OrganisationKind::Region,
        Some((&nation.code, OrganisationKind::Nation)),
    )
    .expect("region");
    let trust = Organisation::new(
        code("rw3"),
        text("Example Teaching Hospitals NHS Foundation Trust"),
        OrganisationKind::Trust,
        Some((&region.code, OrganisationKind::Region)),
    )
    .expect("trust");
    let mut organisations = vec![nation, region, trust.clone()];
    for (site, name) in [
        ("rw3-main", "Main Hospital"),
        ("rw3-cancer", "Cancer Centre"),
    ] {
        organisations.push(
            Organisation::new(
                code(site),
                text(name),
                OrganisationKind::Site,
                Some((&trust.code, OrganisationKind::Trust)),
            )
            .expect("site"),
        );
    }
    for organisation in &organisations {
        store
            .add_organisation(&admin(), organisation)
            .await
            .expect("add organisation");
    }
}

fn chest_triage() -> Product {
    Product {
        vendor: text("Example AI Ltd"),
        name: text("ChestFlag"),
        intended_purpose: text("Prioritise abnormal adult chest radiographs for reporting"),
        modality: Modality::Radiography,
        body_part: text("chest"),
        task_type: TaskType::Triage,
        regulatory_class: RegulatoryClass::ClassIIa,
        marking: text("UKCA"),
    }
}

fn auto_contouring() -> Product {
    Product {
        vendor: text("Example RT Ltd"),
        name: text("ContourAssist"),
        intended_purpose: text(
            "Propose organ-at-risk contours on planning CT for clinician review",
        ),
        modality: Modality::Radiotherapy,
        body_part: text("head and neck"),
        task_type: TaskType::Segmentation,
        regulatory_class: RegulatoryClass::ClassIIb,
        marking: text("UKCA"),
    }
}

fn version(number: &str, change: ChangeKind) -> ProductVersion {
    ProductVersion {
        version: text(number),
        release_date: "2026-06-01".parse().expect("date"),
        change_notes: text("release notes"),
        change_kind: change,
    }
}

fn deployment_at(site: &str, plan: ChangeControlPlan) -> Deployment {
    Deployment {
        site: code(site),
        owning_team: text("Imaging AI team"),
        thresholds: vec![(
            text("default"),
            OperatingThreshold::parse(0.35).expect("threshold"),
        )],
        change_control: plan,
    }
}

/// A product with one version deployed at the main site.
pub async fn seed_deployment(
    store: &impl Store,
    product: Product,
    plan: ChangeControlPlan,
) -> (ProductId, VersionId, DeploymentId) {
    seed_organisations(store).await;
    let product_id = store
        .add_product(&admin(), &product)
        .await
        .expect("add product");
    let version_id = store
        .add_version(&admin(), product_id, &version("1.0.0", ChangeKind::Initial))
        .await
        .expect("add version");
    let deployment_id = store
        .add_deployment(&admin(), version_id, &deployment_at("rw3-main", plan))
        .await
        .expect("add deployment");
    (product_id, version_id, deployment_id)
}

fn sign(actor: &str, role: Role) -> SignOff {
    SignOff {
        actor: text(actor),
        role,
    }
}

/// A request with the default policy's sign-offs for the step.
pub fn request(from: LifecycleState, to: LifecycleState, radiotherapy: bool) -> TransitionRequest {
    let sign_offs = SignOffPolicy::default()
        .required_roles(from, to, radiotherapy)
        .into_iter()
        .map(|role| sign(&format!("{}-signer", role.as_str()), role))
        .collect();
    TransitionRequest {
        from,
        to,
        sign_offs,
        rationale: text(&format!("{from} to {to} after review")),
        evidence: vec![EvidenceReference::parse("evaluation:1").expect("evidence")],
        proposed_by_alert: false,
    }
}

/// Walks a deployment from proposed to `target` along the main path.
pub async fn walk_to(
    store: &impl Store,
    deployment: DeploymentId,
    target: LifecycleState,
    radiotherapy: bool,
) {
    use LifecycleState::*;
    let path = [Proposed, Procurement, Validation, Shadow, Live];
    for (step, pair) in path.windows(2).enumerate() {
        if pair[0] == target {
            return;
        }
        if pair == [Procurement, Validation] {
            let version = store
                .deployment(deployment)
                .await
                .expect("deployment")
                .version;
            complete_assessment(store, version, 3).await;
        }
        store
            .transition(
                &context("ai-lead", Role::AiLead, 10 + step as i64),
                deployment,
                request(pair[0], pair[1], radiotherapy),
                None,
            )
            .await
            .expect("transition along the main path");
    }
}

/// Completes a procurement assessment of `version` by the Trust rw3 on the
/// default template, every question scored `score` (3 passes, 1 fails the
/// gates); answers its id. Three audit entries: created, answered, completed.
pub async fn complete_assessment(store: &impl Store, version: VersionId, score: u8) -> i64 {
    let buyer = context("procurement-lead", Role::ProcurementLead, 5);
    let answers: Vec<vigil_domain::procurement::Answer> =
        vigil_domain::procurement::Template::default_template()
            .question_keys()
            .into_iter()
            .map(|question| vigil_domain::procurement::Answer {
                question,
                score,
                note: None,
                attachments: Vec::new(),
            })
            .collect();
    store
        .record_assessment(
            &buyer,
            version,
            &code("rw3"),
            vigil_domain::procurement::DEFAULT_TEMPLATE,
            &answers,
        )
        .await
        .expect("assessment recorded")
        .id
}

async fn audit_is_intact(store: &impl Store) -> u64 {
    let trail = store.audit_trail().await.expect("audit trail");
    match verify(trail.entries, trail.head.as_ref()) {
        Verification::Intact { entries, .. } => entries,
        broken => panic!("the audit chain is broken: {broken}"),
    }
}

pub async fn organisation_tree_round_trips(store: impl Store) {
    seed_organisations(&store).await;
    let organisations = store.organisations().await.expect("list");
    let codes: Vec<&str> = organisations.iter().map(|o| o.code.as_str()).collect();
    assert_eq!(
        codes,
        ["england", "north-west", "rw3", "rw3-cancer", "rw3-main"]
    );
    assert_eq!(
        organisations[4].parent.as_ref().map(Code::as_str),
        Some("rw3")
    );
    let duplicate = store.add_organisation(&admin(), &organisations[0]).await;
    assert!(
        matches!(
            duplicate,
            Err(StoreError::AlreadyExists {
                what: "organisation",
                ..
            })
        ),
        "{duplicate:?}"
    );
    let orphan = Organisation::new(
        code("rxx"),
        text("Orphan Trust"),
        OrganisationKind::Trust,
        Some((&code("nowhere"), OrganisationKind::Region)),
    )
    .expect("valid shape");
    let orphan = store.add_organisation(&admin(), &orphan).await;
    assert!(
        matches!(orphan, Err(StoreError::InvalidReference(_))),
        "{orphan:?}"
    );
    assert_eq!(
        audit_is_intact(&store).await,
        5,
        "one audit entry per organisation, none for refused ones"
    );
}

pub async fn products_versions_and_users(store: impl Store) {
    seed_organisations(&store).await;
    let product = store
        .add_product(&admin(), &chest_triage())
        .await
        .expect("product");
    store
        .add_version(&admin(), product, &version("1.0.0", ChangeKind::Initial))
        .await
        .expect("v1");
    store
        .add_version(
            &admin(),
            product,
            &version("1.1.0", ChangeKind::PerformanceUpdate),
        )
        .await
        .expect("v1.1");
    let duplicate = store
        .add_version(&admin(), product, &version("1.1.0", ChangeKind::BugFix))
        .await;
    assert!(
        matches!(
            duplicate,
            Err(StoreError::AlreadyExists {
                what: "version",
                ..
            })
        ),
        "{duplicate:?}"
    );
    let missing = store
        .add_version(
            &admin(),
            ProductId(999),
            &version("1.0.0", ChangeKind::Initial),
        )
        .await;
    assert!(
        matches!(
            missing,
            Err(StoreError::NotFound {
                what: "product",
                ..
            })
        ),
        "{missing:?}"
    );
    let shown = store.product(product).await.expect("show");
    assert_eq!(shown.product, chest_triage());
    let versions: Vec<&str> = shown
        .versions
        .iter()
        .map(|v| v.version.version.as_str())
        .collect();
    assert_eq!(versions, ["1.0.0", "1.1.0"]);
    assert_eq!(store.products().await.expect("list").len(), 1);
    assert!(matches!(
        store.product(ProductId(42)).await,
        Err(StoreError::NotFound { .. })
    ));
    let user = NewUser {
        user_name: text("a.physicist"),
        display_name: text("A. Physicist"),
        role: Role::AiLead,
        organisation: code("rw3"),
    };
    let created = store.add_user(&admin(), &user).await.expect("user");
    assert_eq!(created.role, Role::AiLead);
    assert!(matches!(
        store.add_user(&admin(), &user).await,
        Err(StoreError::AlreadyExists { what: "user", .. })
    ));
    assert_eq!(store.users().await.expect("users").len(), 1);
    assert_eq!(audit_is_intact(&store).await, 5 + 1 + 2 + 1);
}

pub async fn deployments_need_a_site(store: impl Store) {
    seed_organisations(&store).await;
    let product = store
        .add_product(&admin(), &chest_triage())
        .await
        .expect("product");
    let version_id = store
        .add_version(&admin(), product, &version("1.0.0", ChangeKind::Initial))
        .await
        .expect("version");
    let at_trust = store
        .add_deployment(
            &admin(),
            version_id,
            &deployment_at("rw3", ChangeControlPlan::none()),
        )
        .await;
    assert!(
        matches!(at_trust, Err(StoreError::InvalidReference(ref m)) if m.contains("is a trust")),
        "{at_trust:?}"
    );
    let nowhere = store
        .add_deployment(
            &admin(),
            version_id,
            &deployment_at("rxx-site", ChangeControlPlan::none()),
        )
        .await;
    assert!(
        matches!(nowhere, Err(StoreError::InvalidReference(_))),
        "{nowhere:?}"
    );
    let no_version = store
        .add_deployment(
            &admin(),
            VersionId(77),
            &deployment_at("rw3-main", ChangeControlPlan::none()),
        )
        .await;
    assert!(
        matches!(
            no_version,
            Err(StoreError::NotFound {
                what: "version",
                ..
            })
        ),
        "{no_version:?}"
    );
    let id = store
        .add_deployment(
            &admin(),
            version_id,
            &deployment_at("rw3-main", ChangeControlPlan::none()),
        )
        .await
        .expect("deployment");
    let record = store.deployment(id).await.expect("show");
    assert_eq!(record.state, LifecycleState::Proposed);
    assert_eq!(record.deployment.thresholds[0].1.get(), 0.35);
}

pub async fn the_lifecycle_records_every_decision(store: impl Store) {
    let (_, version_id, id) =
        seed_deployment(&store, chest_triage(), ChangeControlPlan::none()).await;
    walk_to(&store, id, LifecycleState::Live, false).await;
    let record = store.deployment(id).await.expect("show");
    assert_eq!(record.state, LifecycleState::Live);
    assert_eq!(record.revision, 4);
    let steps: Vec<(LifecycleState, LifecycleState)> = record
        .decisions
        .iter()
        .map(|d| (d.decision.from, d.decision.to))
        .collect();
    let expected = [
        (LifecycleState::Proposed, LifecycleState::Procurement),
        (LifecycleState::Procurement, LifecycleState::Validation),
        (LifecycleState::Validation, LifecycleState::Shadow),
        (LifecycleState::Shadow, LifecycleState::Live),
    ];
    assert_eq!(steps, expected);
    let go_live = &record.decisions[3];
    let roles: Vec<Role> = go_live.decision.sign_offs.iter().map(|s| s.role).collect();
    assert!(roles.contains(&Role::ClinicalSafetyOfficer) && roles.contains(&Role::ClinicalLead));
    assert_eq!(go_live.version, version_id);
    assert_eq!(go_live.recorded_by, "ai-lead");
    assert_eq!(go_live.decision.evidence[0].as_str(), "evaluation:1");
    let entries = store.audit_trail().await.expect("entries").entries;
    let audited = &entries[go_live.audit_sequence as usize - 1];
    assert_eq!(audited.record.action, "deployment.transition");
    assert!(
        audited.record.payload.contains("\"to\":\"live\""),
        "{}",
        audited.record.payload
    );
    // Organisations, product, version and deployment, the procurement
    // assessment before validation (created, answered, completed), four
    // decisions, and the default rules made at go-live.
    assert_eq!(audit_is_intact(&store).await, 5 + 3 + 3 + 4 + 1);
    assert_eq!(
        entries.last().map(|entry| entry.record.action.as_str()),
        Some("rules.set")
    );
}

pub async fn refused_transitions_change_nothing(store: impl Store) {
    let (_, _, id) = seed_deployment(&store, chest_triage(), ChangeControlPlan::none()).await;
    walk_to(&store, id, LifecycleState::Shadow, false).await;
    let before = audit_is_intact(&store).await;
    let mut missing = request(LifecycleState::Shadow, LifecycleState::Live, false);
    missing
        .sign_offs
        .retain(|s| s.role != Role::ClinicalSafetyOfficer);
    let refused = store
        .transition(&context("x", Role::AiLead, 50), id, missing, None)
        .await;
    match refused {
        Err(StoreError::Transition(TransitionError::MissingSignOff { missing, .. })) => {
            assert_eq!(missing, [Role::ClinicalSafetyOfficer]);
        }
        other => panic!("expected a missing sign-off, got {other:?}"),
    }
    let invalid = store
        .transition(
            &context("x", Role::AiLead, 51),
            id,
            request(LifecycleState::Shadow, LifecycleState::Suspended, false),
            None,
        )
        .await;
    assert!(
        matches!(
            invalid,
            Err(StoreError::Transition(TransitionError::NotAllowed { .. }))
        ),
        "{invalid:?}"
    );
    let stale = store
        .transition(
            &context("x", Role::AiLead, 52),
            id,
            request(LifecycleState::Validation, LifecycleState::Shadow, false),
            None,
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    let missing_deployment = store
        .transition(
            &context("x", Role::AiLead, 53),
            DeploymentId(99),
            request(LifecycleState::Shadow, LifecycleState::Live, false),
            None,
        )
        .await;
    assert!(
        matches!(missing_deployment, Err(StoreError::NotFound { .. })),
        "{missing_deployment:?}"
    );
    let stale_revision = store
        .transition(
            &context("x", Role::AiLead, 54),
            id,
            request(LifecycleState::Shadow, LifecycleState::Live, false),
            Some(2),
        )
        .await;
    assert!(
        matches!(stale_revision, Err(StoreError::Conflict(ref m)) if m.contains("revision 3")),
        "{stale_revision:?}"
    );
    let record = store.deployment(id).await.expect("show");
    assert_eq!(record.state, LifecycleState::Shadow);
    assert_eq!(record.decisions.len(), 3);
    assert_eq!(
        audit_is_intact(&store).await,
        before,
        "no audit entry for a refused decision"
    );
}

pub async fn radiotherapy_go_live_needs_the_medical_physics_expert(store: impl Store) {
    let (_, _, id) = seed_deployment(&store, auto_contouring(), ChangeControlPlan::none()).await;
    walk_to(&store, id, LifecycleState::Shadow, true).await;
    let without_mpe = request(LifecycleState::Shadow, LifecycleState::Live, false);
    let refused = store
        .transition(&context("x", Role::AiLead, 60), id, without_mpe, None)
        .await;
    match refused {
        Err(StoreError::Transition(TransitionError::MissingSignOff { missing, .. })) => {
            assert_eq!(missing, [Role::MedicalPhysicsExpert]);
        }
        other => panic!("expected the MPE to be missing, got {other:?}"),
    }
    store
        .transition(
            &context("x", Role::AiLead, 61),
            id,
            request(LifecycleState::Shadow, LifecycleState::Live, true),
            None,
        )
        .await
        .expect("go-live with the MPE");
}

pub async fn concurrent_decisions_have_one_winner<S: Store + 'static>(store: S) {
    let (_, _, id) = seed_deployment(&store, chest_triage(), ChangeControlPlan::none()).await;
    walk_to(&store, id, LifecycleState::Shadow, false).await;
    let store = Arc::new(store);
    let mut tasks = Vec::new();
    for (index, to) in [
        LifecycleState::Live,
        LifecycleState::Retired,
        LifecycleState::Validation,
        LifecycleState::Live,
    ]
    .into_iter()
    .enumerate()
    {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            store
                .transition(
                    &context("racer", Role::AiLead, 70 + index as i64),
                    id,
                    request(LifecycleState::Shadow, to, false),
                    None,
                )
                .await
        }));
    }
    let mut winners = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(_) => winners += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(other) => panic!("expected success or a conflict, got {other:?}"),
        }
    }
    assert_eq!(winners, 1, "exactly one of the concurrent decisions wins");
    let record = store.deployment(id).await.expect("show");
    assert_eq!(
        record.decisions.len(),
        4,
        "three main-path decisions and the winner"
    );
    assert_eq!(record.revision, 4);
    audit_is_intact(store.as_ref()).await;
}

pub async fn a_new_version_reenters_validation_unless_covered(store: impl Store) {
    let plan = ChangeControlPlan::new([ChangeKind::BugFix]).expect("plan");
    let (product, _, id) = seed_deployment(&store, chest_triage(), plan).await;
    walk_to(&store, id, LifecycleState::Live, false).await;
    let bug_fix = store
        .add_version(&admin(), product, &version("1.0.1", ChangeKind::BugFix))
        .await
        .expect("bug fix");
    let upgraded = store
        .upgrade_deployment(&admin(), id, bug_fix)
        .await
        .expect("upgrade");
    assert_eq!(
        (upgraded.state, upgraded.version),
        (LifecycleState::Live, bug_fix),
        "covered by the plan"
    );
    let retrained = store
        .add_version(
            &admin(),
            product,
            &version("2.0.0", ChangeKind::PerformanceUpdate),
        )
        .await
        .expect("v2");
    let upgraded = store
        .upgrade_deployment(&admin(), id, retrained)
        .await
        .expect("upgrade");
    assert_eq!(
        (upgraded.state, upgraded.version),
        (LifecycleState::Validation, retrained),
        "not covered: back to validation"
    );
    // Back to live, then a bug fix released after an uncovered retraining:
    // jumping straight to it still includes the retraining.
    for (step, (from, to)) in [
        (LifecycleState::Validation, LifecycleState::Shadow),
        (LifecycleState::Shadow, LifecycleState::Live),
    ]
    .into_iter()
    .enumerate()
    {
        store
            .transition(
                &context("x", Role::AiLead, 90 + step as i64),
                id,
                request(from, to, false),
                None,
            )
            .await
            .expect("back to live");
    }
    let retrained_again = store
        .add_version(
            &admin(),
            product,
            &version("3.0.0", ChangeKind::PerformanceUpdate),
        )
        .await
        .expect("v3");
    let fix_after = store
        .add_version(&admin(), product, &version("3.0.1", ChangeKind::BugFix))
        .await
        .expect("v3.0.1");
    let skipped = store
        .upgrade_deployment(&admin(), id, fix_after)
        .await
        .expect("upgrade");
    assert_eq!(
        skipped.state,
        LifecycleState::Validation,
        "a skipped retraining is still a retraining"
    );
    assert_ne!(retrained_again, fix_after);
    // Rolling back to an earlier version is never covered by the plan.
    let rolled_back = store
        .upgrade_deployment(&admin(), id, bug_fix)
        .await
        .expect("rollback");
    assert_eq!(
        (rolled_back.state, rolled_back.version),
        (LifecycleState::Validation, bug_fix)
    );
    let again = store.upgrade_deployment(&admin(), id, bug_fix).await;
    assert!(
        matches!(again, Err(StoreError::InvalidReference(_))),
        "{again:?}"
    );
    let other = store
        .add_product(&admin(), &auto_contouring())
        .await
        .expect("other product");
    let foreign = store
        .add_version(&admin(), other, &version("1.0.0", ChangeKind::Initial))
        .await
        .expect("foreign");
    assert!(matches!(
        store.upgrade_deployment(&admin(), id, foreign).await,
        Err(StoreError::InvalidReference(_))
    ));
    let entries = store.audit_trail().await.expect("entries").entries;
    let upgrades: Vec<&str> = entries
        .iter()
        .filter(|e| e.record.action == "deployment.upgrade")
        .map(|e| e.record.payload.as_str())
        .collect();
    assert_eq!(upgrades.len(), 4);
    assert!(
        upgrades[1].contains("\"state_after\":\"validation\""),
        "{}",
        upgrades[1]
    );
    audit_is_intact(&store).await;
}

/// The registry replayed from the trail equals the tables.
async fn registry_is_consistent(store: &impl Store) {
    let archive = store.export_archive().await.expect("export");
    crate::consistency::check_registry(&archive).expect("the tables agree with the trail");
}

fn new_evaluation(deployment: DeploymentId) -> NewEvaluation {
    NewEvaluation {
        deployment,
        verdict: "pass".to_owned(),
        protocol: "[operating_point]\nthreshold = 0.5\n".to_owned(),
        options: "{\"label_column\":\"label\"}".to_owned(),
        cases_sha256: "ab".repeat(32),
        cases_bytes: 1234,
        result: "{\"n\": 100}".to_owned(),
        report: "<!doctype html><title>report</title>".to_owned(),
    }
}

pub async fn sign_in_sessions_and_tokens(store: impl Store) {
    seed_organisations(&store).await;
    let user = store
        .add_user(
            &admin(),
            &NewUser {
                user_name: text("a.physicist"),
                display_name: text("A Physicist"),
                role: Role::AiLead,
                organisation: code("rw3"),
            },
        )
        .await
        .expect("add user");
    assert!(!user.disabled);
    let login = store
        .login_record("a.physicist")
        .await
        .expect("login record")
        .expect("the user exists");
    assert_eq!(login.password_hash, None);
    assert_eq!(store.login_record("nobody").await.expect("lookup"), None);
    store
        .set_password_hash(
            &admin(),
            user.id,
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        )
        .await
        .expect("set password");
    let login = store
        .login_record("a.physicist")
        .await
        .expect("login")
        .expect("user");
    assert_eq!(
        login.password_hash.as_deref(),
        Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA")
    );

    let signed_in = context("a.physicist", Role::AiLead, 5);
    store
        .create_session(&signed_in, user.id, &"11".repeat(32))
        .await
        .expect("session");
    let session = store
        .session(&"11".repeat(32))
        .await
        .expect("session lookup")
        .expect("the session exists");
    assert_eq!(session.user.id, user.id);
    assert_eq!(session.created_at, signed_in.at);
    let later = signed_in.at + jiff::SignedDuration::from_secs(60);
    store
        .touch_session(&"11".repeat(32), later)
        .await
        .expect("touch");
    assert_eq!(
        store
            .session(&"11".repeat(32))
            .await
            .expect("lookup")
            .expect("session")
            .last_seen_at,
        later
    );
    assert_eq!(store.session(&"22".repeat(32)).await.expect("lookup"), None);

    // A role change ends the user's sessions.
    let changed = store
        .update_user(
            &admin(),
            user.id,
            UserChange {
                role: Some(Role::MedicalPhysicsExpert),
                disabled: None,
            },
        )
        .await
        .expect("change role");
    assert_eq!(changed.role, Role::MedicalPhysicsExpert);
    assert_eq!(store.session(&"11".repeat(32)).await.expect("lookup"), None);
    // So does disabling.
    store
        .create_session(&signed_in, user.id, &"33".repeat(32))
        .await
        .expect("session");
    let disabled = store
        .update_user(
            &admin(),
            user.id,
            UserChange {
                role: None,
                disabled: Some(true),
            },
        )
        .await
        .expect("disable");
    assert!(disabled.disabled);
    assert_eq!(disabled.role, Role::MedicalPhysicsExpert);
    assert_eq!(store.session(&"33".repeat(32)).await.expect("lookup"), None);
    let missing = store
        .update_user(&admin(), 999, UserChange::default())
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );

    // Logging out ends a session once.
    store
        .update_user(
            &admin(),
            user.id,
            UserChange {
                role: None,
                disabled: Some(false),
            },
        )
        .await
        .expect("enable");
    store
        .create_session(&signed_in, user.id, &"44".repeat(32))
        .await
        .expect("session");
    let logout = (&signed_in, "session.logout");
    assert!(
        store
            .end_session(Some(logout), &"44".repeat(32))
            .await
            .expect("logout")
    );
    assert!(
        !store
            .end_session(Some(logout), &"44".repeat(32))
            .await
            .expect("logout again")
    );

    // API tokens: hash only, revocable once.
    let token = store
        .add_api_token(
            &admin(),
            &NewApiToken {
                name: text("ingest from PACS"),
                token_hash: "55".repeat(32),
                organisation: code("rw3"),
                role: Role::AiLead,
            },
        )
        .await
        .expect("token");
    assert_eq!(token.last_used_at, None);
    assert_eq!(token.created_by, "admin");
    let found = store
        .api_token_by_hash(&"55".repeat(32))
        .await
        .expect("lookup")
        .expect("the token exists");
    assert_eq!(found, token);
    store.touch_api_token(token.id, later).await.expect("touch");
    let revoked = store
        .revoke_api_token(&admin(), token.id)
        .await
        .expect("revoke");
    assert_eq!(revoked.last_used_at, Some(later));
    assert!(revoked.revoked_at.is_some());
    let again = store.revoke_api_token(&admin(), token.id).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(store.api_tokens().await.expect("tokens").len(), 1);

    let event = store
        .record_event(
            &signed_in,
            "access.denied",
            "route:POST /api/v1/users",
            &serde_json::json!({"status": 403}),
        )
        .await
        .expect("event");
    let trail = store.audit_trail().await.expect("trail");
    let actions: Vec<&str> = trail
        .entries
        .iter()
        .map(|entry| entry.record.action.as_str())
        .collect();
    for action in [
        "user.password",
        "session.login",
        "user.update",
        "session.logout",
        "token.add",
        "token.revoke",
        "access.denied",
    ] {
        assert!(
            actions.contains(&action),
            "{action} is not in the trail: {actions:?}"
        );
    }
    assert_eq!(trail.entries.last().expect("entry").record.sequence, event);
    // Neither the password hash nor a token hash is in the trail.
    for entry in &trail.entries {
        assert!(
            !entry.record.payload.contains("argon2"),
            "{}",
            entry.record.payload
        );
        assert!(
            !entry.record.payload.contains(&"55".repeat(32)),
            "{}",
            entry.record.payload
        );
    }
    audit_is_intact(&store).await;
    registry_is_consistent(&store).await;
    // A revoked token made valid again, or a password set, in the tables.
    let archive = store.export_archive().await.expect("export");
    let mut edited = archive.clone();
    edited.api_tokens[0].revoked_at = None;
    let divergence = crate::consistency::check_registry(&edited).expect_err("an un-revoked token");
    assert!(
        divergence.to_string().contains("revoked_at"),
        "{divergence}"
    );
    let mut edited = archive.clone();
    edited.api_tokens[0].role = "national_admin".to_owned();
    assert!(crate::consistency::check_registry(&edited).is_err());
    let mut edited = archive;
    edited.user_credentials.push(crate::rows::CredentialRow {
        user_id: 99,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$YQ$Yg".to_owned(),
        set_at: "2026-01-01T00:00:00.000000Z".to_owned(),
    });
    let divergence = crate::consistency::check_registry(&edited).expect_err("a planted password");
    assert!(
        divergence.to_string().contains("no audit entry created it"),
        "{divergence}"
    );
    // A user disabled in the table, behind Vigil's back.
    let mut edited = store.export_archive().await.expect("export");
    edited.users.iter_mut().for_each(|user| user.disabled = 1);
    let divergence =
        crate::consistency::check_registry(&edited).expect_err("a user disabled in the table");
    assert!(divergence.to_string().contains("disabled"), "{divergence}");
}

pub async fn sign_offs_and_evaluations_are_recorded(store: impl Store) {
    use LifecycleState::*;
    let (_, version, id) = seed_deployment(&store, chest_triage(), ChangeControlPlan::none()).await;
    let signer = context("a.procurer", Role::ProcurementLead, 20);
    let stale = store.add_sign_off(&signer, id, 7, Procurement).await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    let skipping = store.add_sign_off(&signer, id, 0, Live).await;
    assert!(
        matches!(
            skipping,
            Err(StoreError::Transition(TransitionError::NotAllowed { .. }))
        ),
        "{skipping:?}"
    );
    let signed = store
        .add_sign_off(&signer, id, 0, Procurement)
        .await
        .expect("sign");
    assert_eq!(signed.role, Role::ProcurementLead);
    assert_eq!(signed.to, Procurement);
    let twice = store.add_sign_off(&signer, id, 0, Procurement).await;
    assert!(
        matches!(twice, Err(StoreError::AlreadyExists { .. })),
        "{twice:?}"
    );
    assert_eq!(
        store.pending_sign_offs(id).await.expect("pending"),
        vec![signed]
    );
    walk_to(&store, id, Procurement, false).await;
    assert_eq!(store.pending_sign_offs(id).await.expect("pending"), vec![]);

    let stored = store
        .add_evaluation(&context("ai-lead", Role::AiLead, 30), &new_evaluation(id))
        .await
        .expect("store evaluation");
    assert_eq!(stored.version, version);
    assert_eq!(stored.result, "", "listings carry no result");
    let full = store.evaluation(stored.id).await.expect("evaluation");
    assert_eq!(full.result, "{\"n\": 100}");
    assert!(full.report.starts_with("<!doctype html>"));
    assert_eq!(full.created_by, "ai-lead");
    let second = store
        .add_evaluation(&context("ai-lead", Role::AiLead, 31), &new_evaluation(id))
        .await
        .expect("store another");
    assert!(second.id > stored.id);
    assert_eq!(store.evaluations(Some(id)).await.expect("list").len(), 2);
    assert_eq!(
        store
            .evaluations(Some(DeploymentId(999)))
            .await
            .expect("list")
            .len(),
        0
    );
    let missing = store.evaluation(999).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );
    let nowhere = store
        .add_evaluation(
            &context("ai-lead", Role::AiLead, 32),
            &new_evaluation(DeploymentId(999)),
        )
        .await;
    assert!(
        matches!(nowhere, Err(StoreError::NotFound { .. })),
        "{nowhere:?}"
    );
    audit_is_intact(&store).await;
    registry_is_consistent(&store).await;

    // A stored report, verdict or sign-off edited behind Vigil's back no
    // longer matches the trail.
    let archive = store.export_archive().await.expect("export");
    let mut edited = archive.clone();
    edited.evaluations[0].report.push_str("<p>edited</p>");
    let divergence = crate::consistency::check_registry(&edited).expect_err("an edited report");
    assert!(
        divergence.to_string().contains("report_sha256"),
        "{divergence}"
    );
    let mut edited = archive.clone();
    edited.evaluations[1].verdict = "fail".to_owned();
    let divergence = crate::consistency::check_registry(&edited).expect_err("an edited verdict");
    assert!(divergence.to_string().contains("verdict"), "{divergence}");
    let mut edited = archive;
    edited.pending_sign_offs[0].role = "clinical_safety_officer".to_owned();
    let divergence = crate::consistency::check_registry(&edited).expect_err("an edited sign-off");
    assert!(divergence.to_string().contains("role"), "{divergence}");
}

pub async fn audit_pages_run_newest_first_by_organisation(store: impl Store) {
    seed_organisations(&store).await;
    for (index, organisation) in ["rw3", "rw3-main", "north-west", "rw3"].iter().enumerate() {
        let mut at = context("someone", Role::Viewer, 100 + index as i64);
        at.actor.organisation = code(organisation);
        store
            .record_event(
                &at,
                "access.denied",
                "route:GET /x",
                &serde_json::json!({"n": index}),
            )
            .await
            .expect("event");
    }
    let all = store.audit_trail().await.expect("trail").entries;
    let total = all.len() as u64;
    let page = store.audit_page(None, 3, None).await.expect("page");
    let sequences: Vec<u64> = page.iter().map(|entry| entry.record.sequence).collect();
    assert_eq!(sequences, [total, total - 1, total - 2]);
    assert_eq!(page[0], all[all.len() - 1], "entries come back as stored");
    let older = store
        .audit_page(Some(total - 2), 100, None)
        .await
        .expect("page");
    assert_eq!(older.len() as u64, total - 3);
    assert_eq!(older[0].record.sequence, total - 3);
    let trust = ["rw3".to_owned(), "rw3-main".to_owned()];
    let scoped = store
        .audit_page(None, 100, Some(&trust))
        .await
        .expect("page");
    assert!(
        scoped
            .iter()
            .all(|entry| trust.contains(&entry.record.organisation))
    );
    let from_trust = all
        .iter()
        .filter(|entry| trust.contains(&entry.record.organisation))
        .count();
    assert_eq!(scoped.len(), from_trust);
    assert!(
        store
            .audit_page(None, 100, Some(&[]))
            .await
            .expect("page")
            .is_empty()
    );
    assert!(
        store
            .audit_page(Some(1), 100, None)
            .await
            .expect("page")
            .is_empty()
    );
}

fn event_lines(ids: &[u32]) -> String {
    ids.iter()
        .map(|id| {
            format!(
                r#"{{"event_id": "e{id}", "case_id": "ACC{id}", "occurred_at": "2026-11-{:02}T10:00:00Z", "model_version": "2.3.0", "score": 0.{id}, "decision": {}, "sex": "F", "site": "rw3-main"}}"#,
                1 + id % 3,
                id % 2 == 0
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn events(ids: &[u32]) -> Vec<vigil_monitor::Event> {
    vigil_monitor::parse_batch(
        event_lines(ids).as_bytes(),
        vigil_monitor::EventFormat::Ndjson,
        Some(&vigil_domain::PseudonymKey::from_bytes([9; 32])),
        Timestamp::from_second(1_800_000_000).expect("time"),
    )
    .expect("a valid batch")
    .events
}

fn outcomes(lines: &str) -> Vec<vigil_monitor::Outcome> {
    vigil_monitor::parse_outcomes(
        lines.as_bytes(),
        vigil_monitor::EventFormat::Ndjson,
        Some(&vigil_domain::PseudonymKey::from_bytes([9; 32])),
        Timestamp::from_second(1_800_000_000).expect("time"),
    )
    .expect("a valid batch")
    .outcomes
}

fn outcome_line(case: u32, label: bool, source: &str) -> String {
    format!(
        r#"{{"case_id": "ACC{case}", "label": {label}, "source": "{source}", "recorded_at": "2026-12-20T10:00:00Z"}}"#
    )
}

/// Every batch of events or outcomes has the record and the audit entry its
/// ingestion wrote, and holds the rows that entry says it stored: what
/// verification reads of the monitoring tables agrees with the trail, and a
/// row added, removed or moved to another batch, or a batch record edited or
/// lost, is a divergence named with its entry.
pub async fn monitoring_tables_agree_with_their_audit_entries(store: impl Store) {
    use crate::consistency::MonitoringLedger;
    let (_, _, id) = seed_deployment(&store, chest_triage(), ChangeControlPlan::none()).await;
    let ingest = context("ris-feed", Role::AiLead, 50);
    store
        .ingest_events(&ingest, id, &events(&[1, 2, 3, 4]), &"b1".repeat(32))
        .await
        .expect("events");
    // Two of these were stored before: the batch stores one.
    store
        .ingest_events(&ingest, id, &events(&[3, 4, 5]), &"b2".repeat(32))
        .await
        .expect("overlapping events");
    let lines = [
        outcome_line(1, true, "report"),
        outcome_line(2, false, "report"),
    ];
    store
        .ingest_outcomes(&ingest, id, &outcomes(&lines.join("\n")), &"b3".repeat(32))
        .await
        .expect("outcomes");
    let archive = store.export_archive().await.expect("export");
    let ledger = archive
        .monitoring
        .clone()
        .expect("the monitoring tables are read");
    let counted = |batches: &[crate::consistency::BatchRecord]| -> Vec<(i64, i64)> {
        batches
            .iter()
            .map(|batch| (batch.rows_received, batch.rows_stored))
            .collect()
    };
    assert_eq!(counted(&ledger.event_batches), [(4, 4), (3, 1)]);
    assert_eq!(counted(&ledger.outcome_batches), [(2, 2)]);
    let held = |by_batch: &std::collections::BTreeMap<(i64, i64), u64>| {
        by_batch.values().copied().collect::<Vec<_>>()
    };
    assert_eq!(held(&ledger.events_by_batch), [4, 1]);
    assert_eq!(held(&ledger.outcomes_by_batch), [2]);
    let verdict =
        |archive: &crate::Archive| archive.audit_verdict(|entries, head| Ok(verify(entries, head)));
    assert!(
        matches!(verdict(&archive), Ok(Verification::Intact { .. })),
        "{:?}",
        verdict(&archive)
    );

    let (first, second) = (&ledger.event_batches[0], &ledger.event_batches[1]);
    let outcome_batch = &ledger.outcome_batches[0];
    let at = |batch: &crate::consistency::BatchRecord| {
        format!(
            "the monitoring tables diverge from the audit trail at entry {}",
            batch.audit_sequence
        )
    };
    let check = |edit: &dyn Fn(&mut MonitoringLedger), expected: String| {
        let mut edited = archive.clone();
        edit(edited.monitoring.as_mut().expect("ledger"));
        assert_eq!(verdict(&edited), Err(expected));
    };
    // An event deleted, or moved to the next batch.
    let one_short = format!(
        "{}: event batch {} stored 4 events but the table holds 3 for it",
        at(first),
        first.id
    );
    check(
        &|ledger| {
            *ledger
                .events_by_batch
                .get_mut(&(first.id, id.0))
                .expect("counted") -= 1
        },
        one_short.clone(),
    );
    check(
        &|ledger| {
            *ledger
                .events_by_batch
                .get_mut(&(first.id, id.0))
                .expect("counted") -= 1;
            *ledger
                .events_by_batch
                .get_mut(&(second.id, id.0))
                .expect("counted") += 1;
        },
        one_short,
    );
    check(
        &|ledger| {
            ledger
                .outcomes_by_batch
                .insert((outcome_batch.id + 1, id.0), 1);
        },
        format!(
            "the monitoring tables diverge from the audit trail: the outcomes table holds 1 row of outcome batch {} \
             for deployment {id}, which no batch record holds",
            outcome_batch.id + 1
        ),
    );
    // An outcome moved to another deployment.
    check(
        &|ledger| {
            ledger.outcomes_by_batch.clear();
            ledger.outcomes_by_batch.insert((outcome_batch.id, id.0), 1);
            ledger
                .outcomes_by_batch
                .insert((outcome_batch.id, id.0 + 1), 1);
        },
        format!(
            "{}: outcome batch {} stored 2 outcomes but the table holds 1 for it",
            at(outcome_batch),
            outcome_batch.id
        ),
    );
    check(
        &|ledger| ledger.event_batches[1].rows_stored = 3,
        format!(
            "{}: event batch {}: rows_stored is 3 in the table but 1 in the trail",
            at(second),
            second.id
        ),
    );
    check(
        &|ledger| ledger.event_batches[0].received_by = "mallory".to_owned(),
        format!(
            "{}: event batch {}: received_by is \"mallory\" in the table but \"ris-feed\" in the trail",
            at(first),
            first.id
        ),
    );
    check(
        &|ledger| ledger.outcome_batches.clear(),
        format!(
            "{}: outcome batch {} was recorded in the trail but is missing from the table",
            at(outcome_batch),
            outcome_batch.id
        ),
    );
}

/// Batches sent at once — each overlapping its neighbours, every other one
/// in reverse order — while outcomes arrive store every event once and count
/// it once, against whichever outcomes were recorded before or after it.
/// PostgreSQL stores the batches' rows at the same time, SQLite one batch
/// after another.
pub async fn concurrent_event_batches_store_each_event_once<S: Store + 'static>(store: S) {
    let (_, _, id) = seed_deployment(&store, chest_triage(), ChangeControlPlan::none()).await;
    let store = Arc::new(store);
    let mut tasks = Vec::new();
    for index in 0..6_u32 {
        let mut ids: Vec<u32> = (index * 150 + 1..=index * 150 + 300).collect();
        if index % 2 == 1 {
            ids.reverse();
        }
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            store
                .ingest_events(
                    &context("pacs-feed", Role::AiLead, 50 + i64::from(index)),
                    id,
                    &events(&ids),
                    &format!("{index:02}").repeat(32),
                )
                .await
        }));
    }
    let labelled_cases: Vec<u32> = (1..=1_050).step_by(7).collect();
    let outcome_lines = labelled_cases
        .iter()
        .map(|case| outcome_line(*case, case % 2 == 0, "report"))
        .collect::<Vec<_>>()
        .join("\n");
    let outcome_task = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            store
                .ingest_outcomes(
                    &context("ris-feed", Role::AiLead, 60),
                    id,
                    &outcomes(&outcome_lines),
                    &"0f".repeat(32),
                )
                .await
        })
    };
    let mut stored = 0;
    let mut batches = std::collections::BTreeSet::new();
    for task in tasks {
        let summary = task.await.expect("task").expect("ingest");
        assert_eq!(summary.received, 300);
        stored += summary.stored;
        batches.insert(summary.batch);
    }
    let outcome_summary = outcome_task.await.expect("task").expect("outcomes");
    assert_eq!(outcome_summary.stored, labelled_cases.len() as u64);
    assert_eq!(
        stored, 1_050,
        "each of events 1 to 1,050 stored by one batch"
    );
    assert_eq!(batches.len(), 6, "each batch has its own id");
    assert_eq!(store.event_count(id).await.expect("count"), 1_050);
    let all = events(&(1..=1_050).collect::<Vec<_>>());
    // Event n is case n's; `all` holds events 1 to 1,050 in order.
    let truth_of: std::collections::HashMap<&str, bool> = labelled_cases
        .iter()
        .map(|case| (all[*case as usize - 1].case.as_str(), case % 2 == 0))
        .collect();
    let expected: Vec<_> = vigil_monitor::aggregate_with_outcomes(&all, |event| {
        truth_of
            .get(event.case.as_str())
            .map(|label| vigil_monitor::CaseTruth {
                label: Some(*label),
                reader_label: None,
                reader_agrees: None,
            })
    })
    .into_iter()
    .collect();
    let aggregates = store.daily_aggregates(id).await.expect("aggregates");
    assert_eq!(aggregates, expected);
    let labelled: u64 = aggregates
        .iter()
        .map(|(_, day)| day.outcomes.labelled)
        .sum();
    assert_eq!(labelled, labelled_cases.len() as u64);
    audit_is_intact(&*store).await;
    registry_is_consistent(&*store).await;
}

/// Runs `future` until it has been woken `steps` times, then drops it
/// unfinished (unless it finished first): a request cancelled at its
/// `steps`-th await, as when its client goes away.
async fn cancel_after<F: Future>(future: F, steps: u32) {
    let mut future = std::pin::pin!(future);
    let mut polls = 0;
    std::future::poll_fn(|context| {
        if polls > steps {
            return std::task::Poll::Ready(());
        }
        polls += 1;
        future.as_mut().poll(context).map(|_| ())
    })
    .await;
}

/// Batches whose requests are dropped at every step of their storing (a
/// client gone) leave the store as if each had been stored whole or not at
/// all: the batch after each is stored, the day aggregates count exactly
/// the events stored, and the audit chain holds.
pub async fn cancelled_event_batches_leave_the_store_whole(store: impl Store) {
    let (_, _, id) = seed_deployment(&store, chest_triage(), ChangeControlPlan::none()).await;
    // Each of the first 40 steps of storing a batch is where three of the
    // batches are dropped.
    let attempts = 120_u32;
    for attempt in 0..attempts {
        cancel_after(
            store.ingest_events(
                &context("pacs-feed", Role::AiLead, 100),
                id,
                &events(&[10_000 + attempt]),
                &format!("{:064x}", 10_000 + attempt),
            ),
            attempt % 40,
        )
        .await;
        let summary = store
            .ingest_events(
                &context("pacs-feed", Role::AiLead, 101),
                id,
                &events(&[attempt + 1]),
                &format!("{:064x}", attempt + 1),
            )
            .await
            .unwrap_or_else(|error| {
                panic!("attempt {attempt}: the batch after a cancelled one is stored: {error}")
            });
        assert_eq!(summary.stored, 1, "attempt {attempt}");
    }
    let stored = store.event_count(id).await.expect("count");
    assert!(
        (u64::from(attempts)..=2 * u64::from(attempts)).contains(&stored),
        "{stored} events stored"
    );
    let aggregated: u64 = store
        .daily_aggregates(id)
        .await
        .expect("aggregates")
        .iter()
        .map(|(_, day)| day.events)
        .sum();
    assert_eq!(
        aggregated, stored,
        "the aggregates count exactly the events stored"
    );
    audit_is_intact(&store).await;
    registry_is_consistent(&store).await;
}

pub async fn outcomes_update_the_days_of_their_events_whenever_they_arrive(store: impl Store) {
    let (_, _, id) = seed_deployment(&store, chest_triage(), ChangeControlPlan::none()).await;
    let ingest = context("ris-feed", Role::AiLead, 50);
    // Case 1's report arrives before its event; the others after.
    let early = store
        .ingest_outcomes(
            &ingest,
            id,
            &outcomes(&outcome_line(1, true, "report")),
            &"a1".repeat(32),
        )
        .await
        .expect("early outcome");
    assert_eq!((early.stored, early.events_updated), (1, 0));
    store
        .ingest_events(&ingest, id, &events(&[1, 2, 3, 4]), &"a2".repeat(32))
        .await
        .expect("events");
    let late = [
        outcome_line(2, false, "report"),
        outcome_line(3, true, "report"),
        outcome_line(4, true, "reader"),
    ]
    .join("\n");
    let summary = store
        .ingest_outcomes(&ingest, id, &outcomes(&late), &"a3".repeat(32))
        .await
        .expect("late outcomes");
    assert_eq!(
        (summary.received, summary.stored, summary.events_updated),
        (3, 3, 3)
    );
    // Pathology overrides case 3's report; a resent outcome is a duplicate.
    let overriding = [
        outcome_line(3, false, "pathology"),
        outcome_line(2, false, "report"),
    ]
    .join("\n");
    let summary = store
        .ingest_outcomes(&ingest, id, &outcomes(&overriding), &"a4".repeat(32))
        .await
        .expect("override");
    assert_eq!(
        (summary.stored, summary.duplicates, summary.events_updated),
        (1, 1, 1)
    );
    // The aggregates are those of the events counted against the final
    // truths from the start.
    let truths = [
        (1, Some(true), None),
        (2, Some(false), None),
        (3, Some(false), None),
        (4, Some(true), Some(true)),
    ];
    let all = events(&[1, 2, 3, 4]);
    let expected: Vec<_> = vigil_monitor::aggregate_with_outcomes(&all, |event| {
        let index = all
            .iter()
            .position(|other| other.case == event.case)
            .expect("case");
        let (_, label, reader_label) = truths[index];
        Some(vigil_monitor::CaseTruth {
            label,
            reader_label,
            reader_agrees: None,
        })
    })
    .into_iter()
    .collect();
    let stored = store.daily_aggregates(id).await.expect("aggregates");
    assert_eq!(stored, expected);
    let labelled: u64 = stored.iter().map(|(_, day)| day.outcomes.labelled).sum();
    assert_eq!(labelled, 4);
    // Event 4 (decision true) was read by a reader who said positive: agreement.
    let disagreed: u64 = stored
        .iter()
        .map(|(_, day)| day.outcomes.reader_disagreed)
        .sum();
    let reviewed: u64 = stored
        .iter()
        .map(|(_, day)| day.outcomes.reader_reviewed)
        .sum();
    assert_eq!((reviewed, disagreed), (1, 0));
    // An outcome resent with another label is refused, with its batch.
    let entries_before = store.audit_trail().await.expect("trail").entries.len();
    let changed = [
        outcome_line(5, true, "report"),
        outcome_line(1, false, "report"),
    ]
    .join("\n");
    match store
        .ingest_outcomes(&ingest, id, &outcomes(&changed), &"a5".repeat(32))
        .await
    {
        Err(StoreError::Conflict(message)) => assert!(
            message.starts_with("1 outcome was stored before with other content for the same case and source (outcome 2 in the order sent)"),
            "{message}"
        ),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        store.audit_trail().await.expect("trail").entries.len(),
        entries_before
    );
    assert_eq!(
        store.daily_aggregates(id).await.expect("aggregates"),
        stored
    );
    // A deployment that does not exist takes nothing.
    let nowhere = store
        .ingest_outcomes(
            &ingest,
            DeploymentId(999),
            &outcomes(&outcome_line(1, true, "report")),
            &"a6".repeat(32),
        )
        .await;
    assert!(
        matches!(nowhere, Err(StoreError::NotFound { .. })),
        "{nowhere:?}"
    );
    let trail = store.audit_trail().await.expect("trail");
    let ingests = trail
        .entries
        .iter()
        .filter(|entry| entry.record.action == "outcomes.ingest")
        .count();
    assert_eq!(ingests, 3);
    audit_is_intact(&store).await;
    registry_is_consistent(&store).await;
}

/// Events `e{id}` on the given day, positive decisions for the first
/// `positives` of them.
fn decided_events(
    ids: std::ops::Range<u32>,
    day: &str,
    positives: u32,
) -> Vec<vigil_monitor::Event> {
    let first = ids.start;
    let lines: Vec<String> = ids
        .map(|id| {
            format!(
                r#"{{"event_id": "d{id}", "case_id": "CASE{id}", "occurred_at": "{day}T09:00:00Z", "model_version": "1.0.0", "score": 0.{:02}, "decision": {}, "scanner_model": "Ysio"}}"#,
                id % 100,
                id - first < positives
            )
        })
        .collect();
    vigil_monitor::parse_batch(
        lines.join("\n").as_bytes(),
        vigil_monitor::EventFormat::Ndjson,
        Some(&vigil_domain::PseudonymKey::from_bytes([9; 32])),
        Timestamp::from_second(1_900_000_000).expect("time"),
    )
    .expect("a valid batch")
    .events
}

pub async fn going_live_sets_default_rules_and_signals_raise_one_alert_each(store: impl Store) {
    use crate::AlertState;
    let (_, _, id) = seed_deployment(&store, chest_triage(), ChangeControlPlan::none()).await;
    walk_to(&store, id, LifecycleState::Shadow, false).await;
    let lead = context("ai-lead", Role::AiLead, 100);
    let mut evaluation = new_evaluation(id);
    evaluation.result = r#"{"threshold": 0.5, "auc": {"estimate": 0.93}, "sensitivity": {"estimate": 0.9, "tp": 90, "fp": 40, "tn": 360, "fn": 10}, "specificity": {"estimate": 0.9}, "ppv": {"estimate": 0.69}}"#.to_owned();
    store
        .add_evaluation(&lead, &evaluation)
        .await
        .expect("evaluation");
    // Shadow running before go-live (the contexts' day is 2026-09-21):
    // 100 events a day on two days, 20% positive.
    for day in ["2026-09-01", "2026-09-02"] {
        let base = if day.ends_with('1') { 0 } else { 100 };
        store
            .ingest_events(
                &lead,
                id,
                &decided_events(base..base + 100, day, 20),
                &"a7".repeat(32),
            )
            .await
            .expect("shadow events");
    }
    assert_eq!(store.rules(id).await.expect("rules"), None);
    store
        .transition(
            &lead,
            id,
            request(LifecycleState::Shadow, LifecycleState::Live, false),
            None,
        )
        .await
        .expect("go live");
    let defaults = store
        .rules(id)
        .await
        .expect("rules")
        .expect("defaults at go-live");
    assert_eq!(
        (defaults.version, defaults.reason.as_str()),
        (1, "defaults at go-live")
    );
    let baseline = &defaults.rules.baseline;
    assert_eq!(baseline.sensitivity, Some(0.9));
    assert_eq!(baseline.threshold, Some(0.5));
    assert_eq!(
        baseline.positive_rate,
        Some(0.2),
        "the shadow period's rate"
    );
    assert_eq!(
        baseline.reference_from,
        Some("2026-09-01".parse().expect("date"))
    );
    assert_eq!(
        baseline.reference_to,
        Some("2026-09-20".parse().expect("date"))
    );
    assert_eq!(
        baseline
            .score_histogram
            .as_ref()
            .map(|histogram| histogram.iter().sum::<u64>()),
        Some(200)
    );
    assert!(
        defaults
            .rules
            .rules
            .iter()
            .any(|rule| rule.id == "sensitivity" && rule.propose_suspension)
    );
    // Edits are versioned; an edit from a stale version is refused.
    let mut edited = defaults.rules.clone();
    edited.rules.retain(|rule| rule.id == "positive-rate");
    edited.rules[0].minimum_cases = 50;
    let stale = store
        .set_rules(&lead, id, &edited, "tighter", Some(0))
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    let version = store
        .set_rules(&lead, id, &edited, "only the positive rate", Some(1))
        .await
        .expect("edit");
    assert_eq!(version.version, 2);
    assert_eq!(store.rule_history(id).await.expect("history").len(), 2);
    // A webhook of the Trust hears of every alert of its sites.
    let hook = store
        .add_webhook(
            &admin(),
            &code("rw3"),
            "https://alerts.example.nhs.uk/hook?token=abc",
            "shared secret",
        )
        .await
        .expect("webhook");
    assert_eq!(
        store
            .webhooks(Some(&["rw3".to_owned()]))
            .await
            .expect("hooks"),
        vec![hook.clone()]
    );
    // Live: 60 of 100 positive on 2026-09-25.
    store
        .ingest_events(
            &lead,
            id,
            &decided_events(1000..1100, "2026-09-25", 60),
            &"a8".repeat(32),
        )
        .await
        .expect("live events");
    let as_of: jiff::civil::Date = "2026-09-25".parse().expect("date");
    let monitor = context("monitor", Role::AiLead, 200);
    let first = crate::monitoring::assess_deployment(&store, &monitor, id, as_of, true)
        .await
        .expect("assess");
    assert_eq!(first.rules_version, Some(2));
    assert_eq!(first.assessments.len(), 1);
    assert_eq!(first.assessments[0].verdict, vigil_monitor::Verdict::Signal);
    assert_eq!(first.raised.len(), 1);
    let alert = &first.raised[0];
    assert_eq!(
        (alert.state, alert.rule.as_str(), alert.rules_version),
        (AlertState::Raised, "positive-rate", 2)
    );
    assert_eq!(alert.assessment.evidence.value, Some(0.6));
    // The rule still signals, but its alert is open: no second alert.
    let again = crate::monitoring::assess_deployment(&store, &monitor, id, as_of, true)
        .await
        .expect("assess");
    assert!(again.raised.is_empty());
    assert_eq!(store.alerts(id).await.expect("alerts").len(), 1);
    // raised -> acknowledged -> resolved, and no other way.
    let skip = store
        .advance_alert(&lead, alert.id, AlertState::Resolved, "done")
        .await;
    assert!(matches!(skip, Err(StoreError::Conflict(_))), "{skip:?}");
    let acknowledged = store
        .advance_alert(
            &lead,
            alert.id,
            AlertState::Acknowledged,
            "looking at the scanner change",
        )
        .await
        .expect("acknowledge");
    assert_eq!(acknowledged.acknowledged_by.as_deref(), Some("ai-lead"));
    let twice = store
        .advance_alert(&lead, alert.id, AlertState::Acknowledged, "again")
        .await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
    let resolved = store
        .advance_alert(&lead, alert.id, AlertState::Resolved, "protocol corrected")
        .await
        .expect("resolve");
    assert_eq!(resolved.resolution.as_deref(), Some("protocol corrected"));
    let after = crate::monitoring::assess_deployment(&store, &monitor, id, as_of, true)
        .await
        .expect("assess");
    assert_eq!(
        after.raised.len(),
        1,
        "a resolved alert's rule may raise again"
    );
    // Each step was queued for the webhook, in order, and the secret
    // and query never reached the trail.
    let later = Timestamp::from_second(1_800_000_000).expect("time");
    let due = store.due_deliveries(later, 100).await.expect("due");
    let events: Vec<&str> = due.iter().map(|delivery| delivery.event.as_str()).collect();
    assert_eq!(
        events,
        [
            "alert.raised",
            "alert.acknowledged",
            "alert.resolved",
            "alert.raised"
        ]
    );
    assert!(
        due.iter()
            .all(|delivery| delivery.webhook == hook.id && delivery.secret == "shared secret")
    );
    let body: serde_json::Value = serde_json::from_str(&due[0].body).expect("JSON body");
    assert_eq!(body["alert"]["rule"], "positive-rate");
    assert_eq!(body["alert"]["site"], "rw3-main");
    store
        .record_delivery(due[0].id, later, Ok(()))
        .await
        .expect("delivered");
    let retry_at = Timestamp::from_second(1_800_000_060).expect("time");
    store
        .record_delivery(
            due[1].id,
            later,
            Err(("HTTP 503".to_owned(), Some(retry_at))),
        )
        .await
        .expect("retry later");
    store
        .record_delivery(due[2].id, later, Err(("HTTP 410".to_owned(), None)))
        .await
        .expect("given up");
    let still_due: Vec<i64> = store
        .due_deliveries(later, 100)
        .await
        .expect("due")
        .iter()
        .map(|delivery| delivery.id)
        .collect();
    assert_eq!(still_due, [due[3].id]);
    let retried = store.due_deliveries(retry_at, 100).await.expect("due");
    assert_eq!(
        retried
            .iter()
            .map(|delivery| delivery.id)
            .collect::<Vec<_>>(),
        [due[1].id, due[3].id]
    );
    assert_eq!(retried[0].attempts, 1);
    let trail = store.audit_trail().await.expect("trail");
    let actions: Vec<&str> = trail
        .entries
        .iter()
        .map(|entry| entry.record.action.as_str())
        .collect();
    for action in [
        "rules.set",
        "webhook.add",
        "alert.raise",
        "alert.acknowledge",
        "alert.resolve",
    ] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
    let everything = serde_json::to_string(
        &trail
            .entries
            .iter()
            .map(|entry| entry.record.payload.clone())
            .collect::<Vec<_>>(),
    )
    .expect("payloads");
    assert!(!everything.contains("shared secret") && !everything.contains("token=abc"));
    audit_is_intact(&store).await;
    registry_is_consistent(&store).await;
}

pub async fn event_batches_are_stored_once_with_their_day_aggregates(store: impl Store) {
    let (_, _, id) = seed_deployment(&store, chest_triage(), ChangeControlPlan::none()).await;
    let ingest = context("pacs-feed", Role::AiLead, 50);
    let first = store
        .ingest_events(&ingest, id, &events(&[1, 2, 3]), &"ab".repeat(32))
        .await
        .expect("ingest");
    assert_eq!((first.received, first.stored, first.duplicates), (3, 3, 0));
    let again = store
        .ingest_events(&ingest, id, &events(&[1, 2, 3]), &"ab".repeat(32))
        .await
        .expect("resend");
    assert_eq!((again.received, again.stored, again.duplicates), (3, 0, 3));
    assert!(again.batch > first.batch);
    let overlapping = store
        .ingest_events(&ingest, id, &events(&[3, 4, 5, 6, 7, 8]), &"cd".repeat(32))
        .await
        .expect("overlap");
    assert_eq!((overlapping.stored, overlapping.duplicates), (5, 1));
    assert_eq!(store.event_count(id).await.expect("count"), 8);
    // An event resent with other content is refused, with the whole batch.
    let mut corrected = events(&[2, 9]);
    corrected[0].score = Some(0.99);
    let entries_before = store.audit_trail().await.expect("trail").entries.len();
    let refused = store
        .ingest_events(&ingest, id, &corrected, &"ee".repeat(32))
        .await;
    match refused {
        Err(StoreError::Conflict(message)) => {
            assert!(
                message.starts_with(
                    "1 event was stored before with other content (event 1 in the order sent)"
                ),
                "{message}"
            )
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        store.event_count(id).await.expect("count"),
        8,
        "event 9 was not stored either"
    );
    assert_eq!(
        store.audit_trail().await.expect("trail").entries.len(),
        entries_before
    );
    // The same event twice in one call is refused.
    let twice = [events(&[20])[0].clone(), events(&[20])[0].clone()];
    let repeated = store
        .ingest_events(&ingest, id, &twice, &"ff".repeat(32))
        .await;
    assert!(
        matches!(repeated, Err(StoreError::InvalidReference(_))),
        "{repeated:?}"
    );
    // The stored aggregates are those of the distinct events.
    let distinct = events(&[1, 2, 3, 4, 5, 6, 7, 8]);
    let expected: Vec<_> = vigil_monitor::aggregate_by_day(&distinct)
        .into_iter()
        .collect();
    assert_eq!(
        store.daily_aggregates(id).await.expect("aggregates"),
        expected
    );
    // A batch for a deployment that does not exist stores nothing.
    let entries = store.audit_trail().await.expect("trail").entries.len();
    let nowhere = store
        .ingest_events(&ingest, DeploymentId(999), &events(&[9]), &"ef".repeat(32))
        .await;
    assert!(
        matches!(nowhere, Err(StoreError::NotFound { .. })),
        "{nowhere:?}"
    );
    assert_eq!(
        store.audit_trail().await.expect("trail").entries.len(),
        entries
    );
    assert_eq!(
        store.event_count(DeploymentId(999)).await.expect("count"),
        0
    );
    let trail = store.audit_trail().await.expect("trail");
    let ingests = trail
        .entries
        .iter()
        .filter(|entry| entry.record.action == "events.ingest")
        .count();
    assert_eq!(ingests, 3);
    audit_is_intact(&store).await;
    registry_is_consistent(&store).await;
}

pub async fn archives_round_trip(source: impl Store, target: impl Store) {
    let (_, _, id) = seed_deployment(&source, chest_triage(), ChangeControlPlan::none()).await;
    walk_to(&source, id, LifecycleState::Live, false).await;
    // A site whose code sorts before its Trust's: the archive must still
    // list parents first so that it can be re-inserted.
    let clinic = Organisation::new(
        code("a-clinic"),
        text("A Community Diagnostic Centre"),
        OrganisationKind::Site,
        Some((&code("rw3"), OrganisationKind::Trust)),
    )
    .expect("site");
    source
        .add_organisation(&admin(), &clinic)
        .await
        .expect("add site");
    // Evaluations, sign-offs and user changes travel with the archive.
    source
        .add_evaluation(&context("ai-lead", Role::AiLead, 40), &new_evaluation(id))
        .await
        .expect("evaluation");
    source
        .add_sign_off(
            &context("cso", Role::ClinicalSafetyOfficer, 41),
            id,
            4,
            LifecycleState::Suspended,
        )
        .await
        .expect("sign-off");
    // So do passwords and tokens, and a leaver's tokens stay revoked.
    let user = source
        .add_user_with_password(
            &admin(),
            &NewUser {
                user_name: text("leaver"),
                display_name: text("A Leaver"),
                role: Role::OrganisationAdmin,
                organisation: code("rw3"),
            },
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        )
        .await
        .expect("user");
    let kept = source
        .add_api_token(
            &admin(),
            &NewApiToken {
                name: text("PACS"),
                token_hash: "66".repeat(32),
                organisation: code("rw3"),
                role: Role::AiLead,
            },
        )
        .await
        .expect("token");
    let leavers = source
        .add_api_token(
            &context("leaver", Role::OrganisationAdmin, 42),
            &NewApiToken {
                name: text("made by the leaver"),
                token_hash: "77".repeat(32),
                organisation: code("rw3"),
                role: Role::OrganisationAdmin,
            },
        )
        .await
        .expect("token");
    source
        .update_user(
            &admin(),
            user.id,
            UserChange {
                role: None,
                disabled: Some(true),
            },
        )
        .await
        .expect("disable");
    let tokens = source.api_tokens().await.expect("tokens");
    let revoked: Vec<bool> = tokens.iter().map(|t| t.revoked_at.is_some()).collect();
    assert_eq!(
        tokens.iter().map(|t| t.id).collect::<Vec<_>>(),
        [kept.id, leavers.id]
    );
    assert_eq!(
        revoked,
        [false, true],
        "the leaver's token is revoked with them"
    );
    let exported = exported_archive(&source).await;
    let mut tables = exported.as_slice();
    let parsed = crate::Archive::read_head(&mut tables).expect("parse");
    target
        .import_archive(&parsed, Some(&mut tables))
        .await
        .expect("import");
    assert_eq!(
        audit_is_intact(&target).await,
        audit_is_intact(&source).await
    );
    assert_eq!(
        target.deployment(id).await.expect("show"),
        source.deployment(id).await.expect("show")
    );
    assert_eq!(
        target.products().await.expect("products"),
        source.products().await.expect("products")
    );
    assert_eq!(
        target.organisations().await.expect("orgs"),
        source.organisations().await.expect("orgs")
    );
    assert_eq!(
        target.evaluations(None).await.expect("evaluations"),
        source.evaluations(None).await.expect("evaluations")
    );
    assert_eq!(
        target.pending_sign_offs(id).await.expect("sign-offs").len(),
        1
    );
    assert_eq!(
        target.users().await.expect("users"),
        source.users().await.expect("users")
    );
    assert_eq!(
        target.api_tokens().await.expect("tokens"),
        source.api_tokens().await.expect("tokens")
    );
    assert_eq!(
        target.login_record("leaver").await.expect("login"),
        source.login_record("leaver").await.expect("login")
    );
    assert!(
        target
            .api_token_by_hash(&"66".repeat(32))
            .await
            .expect("lookup")
            .is_some()
    );
    registry_is_consistent(&target).await;
    let mut tables = exported.as_slice();
    let parsed = crate::Archive::read_head(&mut tables).expect("parse");
    let again = target.import_archive(&parsed, Some(&mut tables)).await;
    assert!(
        matches!(again, Err(StoreError::ImportRefused(_))),
        "{again:?}"
    );
    // New writes continue the imported chain and ids.
    let product = target
        .add_product(&admin(), &auto_contouring())
        .await
        .expect("new product");
    assert!(product.0 > 1);
    audit_is_intact(&target).await;
}

/// Imports an archive from its text, its registry's line read first.
async fn import_archive_text(
    target: &impl Store,
    text: &[u8],
) -> Result<crate::archive::ArchiveCounts, StoreError> {
    let mut input = text;
    let head = crate::Archive::read_head(&mut input).expect("head");
    target.import_archive(&head, Some(&mut input)).await
}

/// Checks that an import was refused with a message holding each of
/// `fragments`, and that nothing was imported.
async fn check_import_refused(
    target: &impl Store,
    refused: Result<crate::archive::ArchiveCounts, StoreError>,
    fragments: &[&str],
) {
    match &refused {
        Err(StoreError::ImportRefused(message)) => {
            for fragment in fragments {
                assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
            }
        }
        other => panic!("expected an import refused, got {other:?}"),
    }
    assert!(
        target.organisations().await.expect("orgs").is_empty(),
        "nothing was imported"
    );
}

pub async fn a_tampered_archive_is_refused(source: impl Store, target: impl Store) {
    seed_deployment(&source, chest_triage(), ChangeControlPlan::none()).await;
    let mut archive = source.export_archive().await.expect("export");
    archive.audit_log[2].payload = archive.audit_log[2].payload.replace("Trust", "Trusts");
    let refused = target.import_archive(&archive, None).await;
    check_import_refused(&target, refused, &["entry 3"]).await;
    // An archive whose tables were edited, with an intact chain, is refused too.
    let mut archive = source.export_archive().await.expect("export");
    archive.deployments[0].state = "live".to_owned();
    let refused = target.import_archive(&archive, None).await;
    check_import_refused(&target, refused, &["deployment 1: state is \"live\""]).await;
    // The current format's registry line without the tables after it is
    // refused too.
    let archive = source.export_archive().await.expect("export");
    let refused = target.import_archive(&archive, None).await;
    check_import_refused(&target, refused, &["tables are missing"]).await;
}

/// The whole archive of a store, as `vigil export` writes it.
async fn exported_archive(store: &impl Store) -> Vec<u8> {
    let mut out = Vec::new();
    store.export_archive_to(&mut out).await.expect("export");
    out
}

/// A deployment's whole life — events, outcomes, rules, an alert delivered
/// to a webhook and linked to a hazard, a signed safety case, a procurement
/// assessment with its evidence, DICOM and report records — moves to
/// another database: every archived table has rows, an archive cut short or
/// with a row the database refuses writes nothing, and the imported
/// database exports the same archive again.
pub async fn archives_carry_every_table(source: impl Store, target: impl Store) {
    use crate::archive_tables::ARCHIVED_TABLES;
    use crate::{AlertState, DicomDisposition, DicomInstanceRecord};
    use vigil_domain::{ReportChannel, ReportStatus, ReportTiming};
    let id = governed_deployment(&source).await;
    source
        .add_webhook(
            &admin(),
            &code("rw3"),
            "https://alerts.example.nhs.uk/hook",
            "shared secret",
        )
        .await
        .expect("webhook");
    // Outcomes, and events whose ids are pseudonyms (SQLite keeps those as
    // their bytes, and an archive as text).
    let lead = context("ai-lead", Role::AiLead, 290);
    let outcome_lines = [
        outcome_line(1000, true, "pathology"),
        outcome_line(1001, false, "report"),
    ];
    source
        .ingest_outcomes(
            &lead,
            id,
            &outcomes(&outcome_lines.join("\n")),
            &"0e".repeat(32),
        )
        .await
        .expect("outcomes");
    let pseudonymous_ids: Vec<String> =
        (0..3).map(|n| format!("psn:{:032x}", 0xabc0 + n)).collect();
    let lines: Vec<String> = pseudonymous_ids
        .iter()
        .map(|event_id| {
            format!(
                r#"{{"event_id": "{event_id}", "case_id": "ACC-{event_id}", "occurred_at": "2026-10-06T10:00:00Z", "model_version": "1.0.0", "score": 0.5, "decision": true}}"#
            )
        })
        .collect();
    let batch = vigil_monitor::parse_batch(
        lines.join("\n").as_bytes(),
        vigil_monitor::EventFormat::Ndjson,
        Some(&vigil_domain::PseudonymKey::from_bytes([9; 32])),
        Timestamp::from_second(1_900_000_000).expect("time"),
    )
    .expect("a valid batch");
    source
        .ingest_events(&lead, id, &batch.events, &"0d".repeat(32))
        .await
        .expect("events");
    let alert = source.alerts(id).await.expect("alerts")[0].id;
    source
        .advance_alert(
            &context("ai-lead", Role::AiLead, 300),
            alert,
            AlertState::Acknowledged,
            "looking at the detector change",
        )
        .await
        .expect("acknowledge");
    let key = vigil_domain::PseudonymKey::from_bytes([5; 32]);
    let pseudonym =
        |kind, raw: &str| vigil_domain::pseudonymise(&key, kind, raw).expect("pseudonym");
    let listener = context("dicom:AI_BOX", Role::AiLead, 310);
    source
        .record_dicom_instance(
            &listener,
            &DicomInstanceRecord {
                id: 0,
                trust: code("rw3"),
                sop_instance: pseudonym(vigil_domain::IdentifierKind::DicomUid, "1.2"),
                sop_class_uid: "1.2.840.10008.5.1.4.1.1.88.34".to_owned(),
                kind: "sr".to_owned(),
                study: pseudonym(vigil_domain::IdentifierKind::DicomUid, "9.2"),
                series: None,
                accession: None,
                modality: Some("SR".to_owned()),
                calling_ae: "AI_BOX".to_owned(),
                received_at: listener.at,
                disposition: DicomDisposition::Quarantined {
                    reason: "no route takes a sr from AI_BOX".to_owned(),
                },
                original_sha256: Some("ab".repeat(32)),
            },
        )
        .await
        .expect("dicom");
    let at = |text: &str| -> Timestamp { text.parse().expect("time") };
    source
        .record_report_times(
            &code("rw3"),
            ReportChannel::Fhir,
            at("2026-11-30T12:00:00Z"),
            &[ReportTiming::new(
                pseudonym(vigil_domain::IdentifierKind::Accession, "ACC-9"),
                ReportStatus::Final,
                Some(at("2026-11-30T09:00:00Z")),
                at("2026-11-30T10:00:00Z"),
            )
            .expect("times")],
        )
        .await
        .expect("report times");
    // Bytes of every value, a NUL and invalid UTF-8 among them.
    let evidence: Vec<u8> = (0..=255).collect();
    let (attachment, _) = source
        .add_attachment(
            &context("procurement-lead", Role::ProcurementLead, 320),
            &code("rw3"),
            "application/octet-stream",
            &evidence,
        )
        .await
        .expect("attachment");

    let archive = exported_archive(&source).await;
    let text = String::from_utf8(archive.clone()).expect("an archive is UTF-8");
    for table in ARCHIVED_TABLES {
        let end = text
            .lines()
            .find(|line| line.starts_with(&format!("{{\"end_of_table\":\"{}\"", table.name)))
            .expect("every table is closed");
        assert!(
            !end.ends_with("\"rows\":0}"),
            "{} has rows: {end}",
            table.name
        );
    }
    for event in &batch.events {
        let event_id = event.event_id.as_str();
        assert!(vigil_domain::is_pseudonym(event_id), "{event_id}");
        assert!(
            text.contains(&format!("[{},\"{event_id}\",", id.0)),
            "{event_id} is archived as text"
        );
    }
    // Cut short, inside a table or before the closing line.
    for cut in [text.len() / 2, text.trim_end().rfind('\n').expect("lines")] {
        let refused = import_archive_text(&target, &archive[..cut]).await;
        check_import_refused(&target, refused, &["cut short"]).await;
    }
    // A row the database refuses (an alert in no known state) is named by
    // its lines.
    let bad = text.replacen("\"acknowledged\",", "\"forgotten\",", 1);
    let refused = import_archive_text(&target, bad.as_bytes()).await;
    check_import_refused(&target, refused, &["the rows of table \"alerts\" on lines"]).await;

    // An event left out, its table's count made to agree: the batch that
    // stored it no longer holds what its audit entry says.
    let events_end = text
        .lines()
        .find(|line| line.starts_with("{\"end_of_table\":\"inference_events\""))
        .expect("the events' table is closed");
    let events_held: u64 =
        serde_json::from_str::<serde_json::Value>(events_end).expect("JSON")["rows"]
            .as_u64()
            .expect("a count");
    // The archive's line of the batch's event at `position`.
    let event_line = |position: usize| {
        let start = format!(
            "[{},\"{}\",",
            id.0,
            batch.events[position].event_id.as_str()
        );
        text.lines()
            .find(|line| line.starts_with(&start))
            .expect("the event's line")
    };
    let left_out = event_line(0);
    let short = text.replacen(&format!("{left_out}\n"), "", 1).replacen(
        events_end,
        &crate::archive_tables::table_end_line(
            ARCHIVED_TABLES
                .iter()
                .find(|table| table.name == "inference_events")
                .expect("events"),
            events_held - 1,
        ),
        1,
    );
    let entry = source
        .export_archive()
        .await
        .expect("export")
        .audit_log
        .into_iter()
        .rev()
        .find(|entry| entry.action == "events.ingest")
        .expect("the events' entry");
    let stored_by: serde_json::Value = serde_json::from_str(&entry.payload).expect("JSON");
    let refused = import_archive_text(&target, short.as_bytes()).await;
    check_import_refused(
        &target,
        refused,
        &[&format!(
            "in the archive, the monitoring tables diverge from the audit trail at entry {}: \
             event batch {} stored 3 events but the table holds 2 for it",
            entry.sequence, stored_by["batch"]
        )],
    )
    .await;

    // One event's line in place of another's of the same batch (the
    // counts agree): the event id is held twice, which the database refuses.
    let twice = text.replacen(event_line(1), left_out, 1);
    let refused = import_archive_text(&target, twice.as_bytes()).await;
    check_import_refused(
        &target,
        refused,
        &["the rows of table \"inference_events\""],
    )
    .await;

    let mut input = archive.as_slice();
    let head = crate::Archive::read_head(&mut input).expect("head");
    let counts = target
        .import_archive(&head, Some(&mut input))
        .await
        .expect("import");
    assert_eq!(counts.audit_entries, head.audit_log.len() as u64);
    assert_eq!(
        target.event_count(id).await.expect("events"),
        source.event_count(id).await.expect("events")
    );
    assert_eq!(
        target.daily_aggregates(id).await.expect("days"),
        source.daily_aggregates(id).await.expect("days")
    );
    assert_eq!(
        target.alerts(id).await.expect("alerts"),
        source.alerts(id).await.expect("alerts")
    );
    assert_eq!(
        target.hazards(id).await.expect("hazards"),
        source.hazards(id).await.expect("hazards")
    );
    let kept = target
        .attachment(&["rw3".to_owned()], &attachment.sha256)
        .await
        .expect("attachment")
        .expect("kept");
    assert_eq!(kept, (attachment, evidence));
    audit_is_intact(&target).await;
    // The imported database exports the same archive, but for when and
    // from where; its rows count what was imported.
    let again = exported_archive(&target).await;
    let again = String::from_utf8(again).expect("UTF-8");
    let rows = |text: &str| text.lines().skip(1).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(rows(&again), rows(&text));
    let registry = |text: &str| {
        let mut archive =
            crate::Archive::from_json(text.lines().next().expect("head")).expect("head");
        archive.exported_at = String::new();
        archive
    };
    assert_eq!(registry(&again), registry(&text));
    assert_eq!(
        counts.table_rows,
        rows(&text)
            .iter()
            .filter(|line| line.starts_with('['))
            .count() as u64
    );
}

pub async fn the_stored_policy_governs_decisions(store: impl Store) {
    let (_, _, id) = seed_deployment(&store, chest_triage(), ChangeControlPlan::none()).await;
    walk_to(&store, id, LifecycleState::Shadow, false).await;
    assert_eq!(
        store.sign_off_policy().await.expect("policy").version,
        0,
        "the defaults until one is stored"
    );
    let invalid = store
        .set_sign_off_policy(
            &admin(),
            &[("live->validation".to_owned(), vec!["ai_lead".to_owned()])],
        )
        .await;
    assert!(matches!(invalid, Err(StoreError::Domain(_))), "{invalid:?}");
    // A Trust whose go-live needs the clinical safety officer and the
    // medical physics expert, not the clinical lead.
    let entries = vec![(
        "shadow->live".to_owned(),
        vec![
            "clinical_safety_officer".to_owned(),
            "medical_physics_expert".to_owned(),
        ],
    )];
    assert_eq!(
        store
            .set_sign_off_policy(&admin(), &entries)
            .await
            .expect("set"),
        1
    );
    let stored = store.sign_off_policy().await.expect("policy");
    assert_eq!((stored.version, stored.entries.clone()), (1, entries));
    let mut with_the_default_roles = request(LifecycleState::Shadow, LifecycleState::Live, false);
    with_the_default_roles
        .sign_offs
        .retain(|s| s.role != Role::MedicalPhysicsExpert);
    let refused = store
        .transition(
            &context("x", Role::AiLead, 80),
            id,
            with_the_default_roles,
            None,
        )
        .await;
    match refused {
        Err(StoreError::Transition(TransitionError::MissingSignOff { missing, .. })) => {
            assert_eq!(missing, [Role::MedicalPhysicsExpert]);
        }
        other => panic!("the stored policy must apply, got {other:?}"),
    }
    let mut under_the_policy = request(LifecycleState::Shadow, LifecycleState::Live, false);
    under_the_policy.sign_offs = vec![
        sign("cso", Role::ClinicalSafetyOfficer),
        sign("mpe", Role::MedicalPhysicsExpert),
    ];
    let decision = store
        .transition(&context("x", Role::AiLead, 81), id, under_the_policy, None)
        .await
        .expect("go live");
    let entries = store.audit_trail().await.expect("trail").entries;
    let payload = &entries[decision.audit_sequence as usize - 1].record.payload;
    assert!(payload.contains("\"policy_version\":1"), "{payload}");
    assert!(
        payload.contains(
            "\"required_roles\":[\"clinical_safety_officer\",\"medical_physics_expert\"]"
        ),
        "{payload}"
    );
    audit_is_intact(&store).await;
}

pub async fn initialising_is_all_or_nothing(store: impl Store) {
    let nation = Organisation::new(
        code("england"),
        text("NHS England"),
        OrganisationKind::Nation,
        None,
    )
    .expect("nation");
    let orphan = Organisation::new(
        code("rxx"),
        text("Orphan Trust"),
        OrganisationKind::Trust,
        Some((&code("nowhere"), OrganisationKind::Region)),
    )
    .expect("valid shape");
    let administrator = NewUser {
        user_name: text("admin"),
        display_name: text("Admin"),
        role: Role::NationalAdmin,
        organisation: code("england"),
    };
    let failed = store
        .initialise(&admin(), &[nation.clone(), orphan], &administrator)
        .await;
    assert!(
        matches!(failed, Err(StoreError::InvalidReference(_))),
        "{failed:?}"
    );
    assert!(
        store.organisations().await.expect("orgs").is_empty(),
        "nothing was written"
    );
    assert!(
        store.audit_trail().await.expect("trail").entries.is_empty(),
        "no audit entry either"
    );
    store
        .initialise(&admin(), std::slice::from_ref(&nation), &administrator)
        .await
        .expect("initialise");
    assert_eq!(audit_is_intact(&store).await, 2);
    let again = store.initialise(&admin(), &[nation], &administrator).await;
    assert!(
        matches!(again, Err(StoreError::AlreadyExists { .. })),
        "{again:?}"
    );
}

/// Received DICOM instances are recorded once by their pseudonyms; a
/// quarantined one is audited and released when it is sent again and
/// routed; lists page newest first within the Trusts asked for.
pub async fn dicom_instances_are_recorded_once_and_quarantine_is_released(store: impl Store) {
    use crate::{DicomDisposition, DicomInstanceQuery, DicomInstanceRecord, DicomRecorded};
    let (_, _, deployment) =
        seed_deployment(&store, chest_triage(), ChangeControlPlan::none()).await;
    let key = vigil_domain::PseudonymKey::from_bytes([3; 32]);
    let uid = |raw: &str| {
        vigil_domain::pseudonymise(&key, vigil_domain::IdentifierKind::DicomUid, raw)
            .expect("pseudonym")
    };
    let listener = context("dicom:AI_BOX", Role::AiLead, 60);
    let instance = |sop: &str, study: &str, disposition: DicomDisposition| DicomInstanceRecord {
        id: 0,
        trust: code("rw3"),
        sop_instance: uid(sop),
        sop_class_uid: "1.2.840.10008.5.1.4.1.1.88.34".to_owned(),
        kind: "sr".to_owned(),
        study: uid(study),
        series: Some(uid("series")),
        accession: None,
        modality: Some("SR".to_owned()),
        calling_ae: "AI_BOX".to_owned(),
        received_at: listener.at,
        disposition,
        original_sha256: None,
    };
    let quarantined = DicomDisposition::Quarantined {
        reason: "no route takes a sr from AI_BOX made by Example AI".to_owned(),
    };
    let audit_before = store.audit_trail().await.expect("trail").entries.len();
    let first = store
        .record_dicom_instance(&listener, &instance("1.1", "9.1", quarantined.clone()))
        .await
        .expect("record");
    let DicomRecorded::Stored { id: quarantined_id } = first else {
        panic!("{first:?}")
    };
    // Sent again, still unrouted: nothing changes, nothing is audited.
    assert_eq!(
        store
            .record_dicom_instance(&listener, &instance("1.1", "9.1", quarantined.clone()))
            .await
            .expect("again"),
        DicomRecorded::AlreadyStored { id: quarantined_id }
    );
    let trail = store.audit_trail().await.expect("trail").entries;
    assert_eq!(trail.len(), audit_before + 1);
    let entry = trail.last().expect("entry");
    assert_eq!(entry.record.action, "dicom.quarantine");
    assert!(
        entry.record.payload.contains("no route takes a sr"),
        "{}",
        entry.record.payload
    );
    // Routed now: the record is released, once.
    let routed = DicomDisposition::Event { deployment };
    assert_eq!(
        store
            .record_dicom_instance(&listener, &instance("1.1", "9.1", routed.clone()))
            .await
            .expect("release"),
        DicomRecorded::Released { id: quarantined_id }
    );
    assert_eq!(
        store
            .record_dicom_instance(&listener, &instance("1.1", "9.1", routed.clone()))
            .await
            .expect("again"),
        DicomRecorded::AlreadyStored { id: quarantined_id }
    );
    let image = DicomDisposition::Acquisition {
        metadata: vigil_monitor::Metadata {
            scanner_manufacturer: Some("GE MEDICAL SYSTEMS".to_owned()),
            slice_thickness_mm: Some(5.0),
            kvp: Some(120.0),
            age_band: Some("60-79".to_owned()),
            sex: Some(vigil_monitor::Sex::Female),
            ..vigil_monitor::Metadata::default()
        },
    };
    // The first image's original file was kept.
    let kept = "5d41402abc4b2a76b9719d911017c592c8e9b5ba1dd5e2e5c21e3b6bd1c3c5a0";
    for number in 2..=4 {
        let mut record = instance(&format!("1.{number}"), "9.2", image.clone());
        record.original_sha256 = (number == 2).then(|| kept.to_owned());
        store
            .record_dicom_instance(&listener, &record)
            .await
            .expect("image");
    }
    // A result's event and record in one transaction: both, or (when the
    // event conflicts with one stored before) neither.
    let result = events(&[7]).remove(0);
    let before = store.event_count(deployment).await.expect("count");
    assert!(matches!(
        store
            .record_dicom_result(
                &listener,
                deployment,
                &result,
                &"b7".repeat(32),
                &instance("1.7", "9.4", routed.clone()),
            )
            .await
            .expect("result"),
        DicomRecorded::Stored { .. }
    ));
    assert_eq!(
        store.event_count(deployment).await.expect("count"),
        before + 1
    );
    let mut changed = result.clone();
    changed.score = Some(0.99);
    let conflict = store
        .record_dicom_result(
            &listener,
            deployment,
            &changed,
            &"b8".repeat(32),
            &instance("1.8", "9.4", routed.clone()),
        )
        .await;
    assert!(
        matches!(conflict, Err(StoreError::Conflict(_))),
        "{conflict:?}"
    );
    assert_eq!(
        store.event_count(deployment).await.expect("count"),
        before + 1
    );
    // An event for a deployment that does not exist is refused whole.
    let missing = store
        .record_dicom_instance(
            &listener,
            &instance(
                "1.9",
                "9.3",
                DicomDisposition::Event {
                    deployment: DeploymentId(999),
                },
            ),
        )
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );
    let all = store
        .dicom_instances(&DicomInstanceQuery {
            limit: 10,
            ..DicomInstanceQuery::default()
        })
        .await
        .expect("list");
    // Newest first: the result (1.7), the three images, the released one.
    assert_eq!(all.len(), 5);
    assert!(
        all.windows(2).all(|pair| pair[0].id > pair[1].id),
        "newest first"
    );
    assert_eq!(all[0].disposition, routed);
    assert_eq!(all[4].disposition, routed);
    assert_eq!(all[1].disposition, image, "metadata round-trips");
    assert_eq!(
        all.iter()
            .map(|record| record.original_sha256.as_deref())
            .collect::<Vec<_>>(),
        [None, None, None, Some(kept), None],
        "the original's digest round-trips"
    );
    assert_eq!(all[1].study, uid("9.2"));
    let page = store
        .dicom_instances(&DicomInstanceQuery {
            study: Some(uid("9.2").as_str().to_owned()),
            before_id: Some(all[1].id),
            limit: 1,
            ..DicomInstanceQuery::default()
        })
        .await
        .expect("page");
    assert_eq!(
        page.iter().map(|record| record.id).collect::<Vec<_>>(),
        [all[2].id]
    );
    for (trusts, disposition, expected) in [
        (Some(vec!["rw3".to_owned()]), Some("acquisition"), 3),
        (Some(vec!["rw3".to_owned()]), Some("quarantined"), 0),
        (Some(vec!["other-trust".to_owned()]), None, 0),
        (Some(Vec::new()), None, 0),
        (None, Some("event"), 2),
    ] {
        let found = store
            .dicom_instances(&DicomInstanceQuery {
                trusts: trusts.clone(),
                disposition: disposition.map(str::to_owned),
                limit: 10,
                ..DicomInstanceQuery::default()
            })
            .await
            .expect("filtered");
        assert_eq!(found.len(), expected, "{trusts:?} {disposition:?}");
    }
    audit_is_intact(&store).await;
}

/// Report times are recorded once per case, status and issue, by the
/// case's pseudonym; lists filter by Trust, case and issue time, newest
/// recorded first.
pub async fn report_times_are_recorded_once_and_listed_by_issue(store: impl Store) {
    use crate::ReportTimeQuery;
    use vigil_domain::{ReportChannel, ReportStatus, ReportTiming};
    seed_deployment(&store, chest_triage(), ChangeControlPlan::none()).await;
    let key = vigil_domain::PseudonymKey::from_bytes([4; 32]);
    let case = |raw: &str| {
        vigil_domain::pseudonymise(&key, vigil_domain::IdentifierKind::Accession, raw)
            .expect("pseudonym")
    };
    let at = |text: &str| -> Timestamp { text.parse().expect("time") };
    let timing = |accession: &str, status, examined: Option<&str>, issued: &str| {
        ReportTiming::new(case(accession), status, examined.map(at), at(issued)).expect("times")
    };
    let received = at("2026-11-30T12:00:00Z");
    let reader = vigil_domain::pseudonymise(&key, vigil_domain::IdentifierKind::Reader, "C4471")
        .expect("pseudonym");
    let first = [
        timing(
            "ACC-1",
            ReportStatus::Preliminary,
            Some("2026-11-30T09:00:00Z"),
            "2026-11-30T09:40:00Z",
        ),
        timing(
            "ACC-1",
            ReportStatus::Final,
            Some("2026-11-30T09:00:00Z"),
            "2026-11-30T10:05:00Z",
        )
        .with_reader(reader.clone()),
        timing("ACC-2", ReportStatus::Final, None, "2026-11-30T11:00:00Z"),
    ];
    let rw3 = code("rw3");
    assert_eq!(
        store
            .record_report_times(&rw3, ReportChannel::Hl7, received, &first)
            .await
            .expect("record"),
        3
    );
    // The same message again, with one correction: only the correction is new.
    let mut again = first.to_vec();
    again.push(timing(
        "ACC-2",
        ReportStatus::Corrected,
        None,
        "2026-11-30T11:30:00Z",
    ));
    assert_eq!(
        store
            .record_report_times(&rw3, ReportChannel::Fhir, received, &again)
            .await
            .expect("again"),
        1
    );
    let all = store
        .report_times(&ReportTimeQuery {
            limit: 10,
            ..ReportTimeQuery::default()
        })
        .await
        .expect("list");
    assert_eq!(all.len(), 4);
    assert!(all.windows(2).all(|pair| pair[0].id > pair[1].id));
    // The reader is kept as the pseudonym it came as; reports without one
    // have none.
    let readers: Vec<Option<&str>> = all
        .iter()
        .rev()
        .map(|record| record.timing.reader().map(vigil_domain::Pseudonym::as_str))
        .collect();
    assert_eq!(readers, [None, Some(reader.as_str()), None, None]);
    assert_eq!(all[0].channel, ReportChannel::Fhir);
    assert_eq!(all[0].timing.status(), ReportStatus::Corrected);
    assert_eq!(all[3].timing, first[0], "times round-trip");
    assert_eq!(all[3].trust, rw3);
    assert_eq!(all[3].received_at, received);
    assert_eq!(
        all[3].timing.turnaround(),
        Some(jiff::SignedDuration::from_mins(40))
    );
    for (query, expected) in [
        (
            ReportTimeQuery {
                case: Some(case("ACC-1").as_str().to_owned()),
                ..ReportTimeQuery::default()
            },
            2,
        ),
        (
            ReportTimeQuery {
                issued_from: Some(at("2026-11-30T10:05:00Z")),
                issued_before: Some(at("2026-11-30T11:30:00Z")),
                ..ReportTimeQuery::default()
            },
            2,
        ),
        (
            ReportTimeQuery {
                trusts: Some(vec!["other-trust".to_owned()]),
                ..ReportTimeQuery::default()
            },
            0,
        ),
        (
            ReportTimeQuery {
                trusts: Some(Vec::new()),
                ..ReportTimeQuery::default()
            },
            0,
        ),
        (
            ReportTimeQuery {
                before_id: Some(all[1].id),
                ..ReportTimeQuery::default()
            },
            2,
        ),
    ] {
        let found = store
            .report_times(&ReportTimeQuery {
                limit: 10,
                ..query.clone()
            })
            .await
            .expect("filtered");
        assert_eq!(found.len(), expected, "{query:?}");
    }
    // Nothing to record writes nothing; an unknown Trust is refused whole.
    assert_eq!(
        store
            .record_report_times(&rw3, ReportChannel::Hl7, received, &[])
            .await
            .expect("nothing"),
        0
    );
    let unknown = store
        .record_report_times(
            &code("nowhere"),
            ReportChannel::Hl7,
            received,
            &[timing(
                "ACC-3",
                ReportStatus::Final,
                None,
                "2026-11-30T11:00:00Z",
            )],
        )
        .await;
    assert!(unknown.is_err(), "{unknown:?}");
    assert_eq!(
        store
            .report_times(&ReportTimeQuery {
                limit: 10,
                ..ReportTimeQuery::default()
            })
            .await
            .expect("list")
            .len(),
        4
    );
}

pub async fn success_criteria_are_registered_before_go_live_and_the_audit_reads_its_cases(
    store: impl Store,
) {
    use vigil_domain::{ReportChannel, ReportStatus, ReportTiming};
    use vigil_monitor::productivity::{
        CaseGroup, CriterionOutcome, Milestone, Recommendation, SuccessCriteria, SuccessCriterion,
        audit,
    };
    let (_, _, id) = seed_deployment(&store, chest_triage(), ChangeControlPlan::none()).await;
    walk_to(&store, id, LifecycleState::Shadow, false).await;
    let lead = context("ai-lead", Role::AiLead, 20);
    assert_eq!(store.success_criteria(id).await.expect("criteria"), None);
    let criteria = vec![SuccessCriterion::MedianTurnaroundReduction {
        cases: CaseGroup::Flagged,
        minutes: 30.0,
    }];
    let registered = store
        .register_success_criteria(
            &lead,
            id,
            &criteria,
            "Flagged chest X-rays reported at least half an hour sooner",
        )
        .await
        .expect("registered in shadow");
    assert_eq!(registered.version, 1);
    assert_eq!(
        store.success_criteria(id).await.expect("criteria"),
        Some(registered.clone())
    );
    // Forty shadow cases (twenty flagged) before go-live, forty live after.
    let shadow = decided_events(0..40, "2026-09-01", 20);
    let live = decided_events(100..140, "2026-10-05", 20);
    for (batch, hash) in [(&shadow, "b1"), (&live, "b2")] {
        store
            .ingest_events(&lead, id, batch, &hash.repeat(32))
            .await
            .expect("events");
    }
    store
        .transition(
            &context("ai-lead", Role::AiLead, 100),
            id,
            request(LifecycleState::Shadow, LifecycleState::Live, false),
            None,
        )
        .await
        .expect("go live");
    // Each case's final report: two hours before go-live, and after it an
    // hour sooner for the flagged cases; a preliminary report on every case.
    let mut timings = Vec::new();
    let mut flagged_minutes = (Vec::new(), Vec::new());
    for (index, event) in shadow.iter().chain(&live).enumerate() {
        let after = index >= 40;
        let flagged = event.decision == Some(true);
        let minutes = 120 + (index as i64 * 7) % 30 - if after && flagged { 60 } else { 0 };
        if flagged {
            let period = if after {
                &mut flagged_minutes.1
            } else {
                &mut flagged_minutes.0
            };
            period.push(minutes as f64);
        }
        let examined = event.occurred_at;
        timings.push(
            ReportTiming::new(
                event.case.clone(),
                ReportStatus::Preliminary,
                Some(examined),
                examined + jiff::SignedDuration::from_mins(10),
            )
            .expect("times"),
        );
        timings.push(
            ReportTiming::new(
                event.case.clone(),
                ReportStatus::Final,
                Some(examined),
                examined + jiff::SignedDuration::from_mins(minutes),
            )
            .expect("times"),
        );
    }
    let received = Timestamp::from_second(1_795_000_000).expect("time");
    store
        .record_report_times(&code("rw3"), ReportChannel::Hl7, received, &timings)
        .await
        .expect("report times");
    // A report at another organisation on a case of ours, and one on a case
    // the tool never saw, are not this deployment's.
    let key = vigil_domain::PseudonymKey::from_bytes([9; 32]);
    let unseen =
        vigil_domain::pseudonymise(&key, vigil_domain::IdentifierKind::Accession, "UNSEEN")
            .expect("pseudonym");
    let elsewhere = ReportTiming::new(shadow[0].case.clone(), ReportStatus::Final, None, received)
        .expect("times");
    let never_seen = ReportTiming::new(unseen, ReportStatus::Final, None, received).expect("times");
    store
        .record_report_times(
            &code("north-west"),
            ReportChannel::Fhir,
            received,
            &[elsewhere],
        )
        .await
        .expect("report times");
    store
        .record_report_times(&code("rw3"), ReportChannel::Fhir, received, &[never_seen])
        .await
        .expect("report times");

    let inputs = store
        .productivity_inputs(id, &code("rw3"))
        .await
        .expect("inputs");
    assert_eq!(
        inputs.go_live_at,
        Some(context("ai-lead", Role::AiLead, 100).at)
    );
    assert_eq!(inputs.cases.len(), 80);
    assert!(inputs.cases.iter().all(|case| case.reports.len() == 2));
    assert_eq!(inputs.cases.iter().filter(|case| case.flagged).count(), 40);
    let result = audit(
        &inputs.cases,
        inputs.go_live_at,
        Some(&SuccessCriteria {
            registered_at: registered.registered_at,
            criteria: registered.criteria.clone(),
        }),
        Milestone::VerifiedReport,
    );
    assert_eq!(result.audited_cases, 80);
    assert_eq!(result.cases_prioritised, 20);
    let change = result.flagged_cases.change.as_ref().expect("a comparison");
    let median = |minutes: &mut Vec<f64>| {
        minutes.sort_unstable_by(f64::total_cmp);
        (minutes[minutes.len() / 2 - 1] + minutes[minutes.len() / 2]) / 2.0
    };
    assert_eq!(flagged_minutes.0.len(), 20);
    assert_eq!(
        change.median_difference,
        median(&mut flagged_minutes.1) - median(&mut flagged_minutes.0)
    );
    assert!(change.high <= -30.0, "{change:?}");
    assert_eq!(result.verdicts[0].outcome, CriterionOutcome::Met);
    assert_eq!(result.recommendation, Recommendation::Scale);

    // Once live, criteria can no longer be registered, and nothing is
    // written by the attempt.
    let audited = audit_is_intact(&store).await;
    let refused = store
        .register_success_criteria(
            &context("ai-lead", Role::AiLead, 200),
            id,
            &criteria,
            "a lower bar now that the results are in",
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(audit_is_intact(&store).await, audited);
    assert_eq!(
        store.success_criteria(id).await.expect("criteria"),
        Some(registered)
    );
    // An unknown deployment is not found.
    assert!(matches!(
        store
            .productivity_inputs(DeploymentId(9_999), &code("rw3"))
            .await,
        Err(StoreError::NotFound { .. })
    ));
}

/// A signal of the positive-rate rule, as an assessment would give it.
fn positive_rate_signal(rule: &str) -> vigil_monitor::Assessment {
    vigil_monitor::Assessment {
        rule: rule.to_owned(),
        kind: "positive_rate".to_owned(),
        window_from: "2026-09-14".parse().expect("date"),
        window_to: "2026-09-20".parse().expect("date"),
        verdict: vigil_monitor::Verdict::Signal,
        propose_suspension: false,
        evidence: vigil_monitor::Evidence {
            statistic: "positive_rate".to_owned(),
            value: Some(0.4),
            interval: Some((0.35, 0.45)),
            baseline: Some(0.2),
            p_value: None,
            effect_size: Some(0.2),
            threshold: "positive rate at least 0.05 from the baseline".to_owned(),
            cases: 400,
            reference_cases: None,
            explanation: "the positive rate doubled".to_owned(),
        },
    }
}

/// A deployment with a whole governance record, for the reports made from
/// it: a passing procurement assessment, a validation with its criteria,
/// shadow events, success criteria, a hazard log of two hazards and a
/// signed safety case, go-live (with the default rules), live events with
/// outcomes, and an alert linked to a hazard. Answers the deployment.
pub async fn governed_deployment(store: &impl Store) -> DeploymentId {
    use vigil_domain::{
        Control, Hazard, HazardFields, HazardStatus, Likelihood, RiskAssessment, Severity,
    };
    let (_, _, id) = seed_deployment(store, chest_triage(), ChangeControlPlan::none()).await;
    walk_to(store, id, LifecycleState::Shadow, false).await;
    let lead = context("ai-lead", Role::AiLead, 100);
    let mut evaluation = new_evaluation(id);
    evaluation.result = r#"{"n": 500, "n_positive": 100, "threshold": 0.5, "auc": {"estimate": 0.93, "ci_low": 0.905, "ci_high": 0.951}, "sensitivity": {"estimate": 0.9, "ci_low": 0.826, "ci_high": 0.945, "tp": 90, "fp": 40, "tn": 360, "fn": 10}, "specificity": {"estimate": 0.9, "ci_low": 0.867, "ci_high": 0.926}, "ppv": {"estimate": 0.69}, "criteria": [{"criterion": "sensitivity", "passed": true, "actual": 0.9, "operator": ">=", "bound": 0.85, "detail": "sensitivity 0.9000 >= 0.85"}], "verdict": "pass"}"#.to_owned();
    let validation = store
        .add_evaluation(&lead, &evaluation)
        .await
        .expect("evaluation");
    for day in ["2026-09-01", "2026-09-02"] {
        let base = if day.ends_with('1') { 0 } else { 100 };
        store
            .ingest_events(
                &lead,
                id,
                &decided_events(base..base + 100, day, 20),
                &"a7".repeat(32),
            )
            .await
            .expect("shadow events");
    }
    store
        .register_success_criteria(
            &lead,
            id,
            &[
                vigil_monitor::productivity::SuccessCriterion::MedianTurnaroundReduction {
                    cases: vigil_monitor::productivity::CaseGroup::Flagged,
                    minutes: 30.0,
                },
            ],
            "Flagged studies reported half an hour sooner",
        )
        .await
        .expect("criteria");
    let officer = context("cso", Role::ClinicalSafetyOfficer, 110);
    let hazard = |title: &str, evidence: &str, status: HazardStatus| {
        Hazard::new(HazardFields {
            title: text(title),
            cause: text("Images from a new detector are darker than the training data"),
            effect: text("A finding is not flagged and its report is delayed"),
            controls: vec![Control {
                description: text("Every study is still reported by a radiologist"),
                evidence: vec![EvidenceReference::parse(evidence).expect("reference")],
            }],
            initial: RiskAssessment {
                severity: Severity::Major,
                likelihood: Likelihood::Medium,
            },
            residual: RiskAssessment {
                severity: Severity::Major,
                likelihood: Likelihood::VeryLow,
            },
            owner: text("Clinical safety officer"),
            status,
        })
        .expect("a hazard")
    };
    let missed = store
        .add_hazard(
            &officer,
            id,
            &hazard(
                "Missed pneumothorax",
                &format!("evaluation:{}", validation.id),
                HazardStatus::Controlled,
            ),
        )
        .await
        .expect("hazard");
    store
        .add_hazard(
            &officer,
            id,
            &hazard(
                "Worklist flooded with false positives",
                "SOP-RAD-114",
                HazardStatus::Closed,
            ),
        )
        .await
        .expect("hazard");
    let log_sha256 = crate::hazard_log_sha256(&store.hazards(id).await.expect("hazards"));
    store
        .sign_safety_case(
            &officer,
            id,
            &log_sha256,
            &"cd".repeat(32),
            "The residual risks are acceptable for go-live.",
        )
        .await
        .expect("signed");
    let mut go_live = request(LifecycleState::Shadow, LifecycleState::Live, false);
    go_live.evidence =
        vec![EvidenceReference::parse(&format!("evaluation:{}", validation.id)).expect("evidence")];
    store
        .transition(&lead, id, go_live, None)
        .await
        .expect("go live");
    for day in ["2026-09-28", "2026-09-29", "2026-10-06"] {
        let base = match day {
            "2026-09-28" => 1000,
            "2026-09-29" => 1100,
            _ => 1200,
        };
        store
            .ingest_events(
                &lead,
                id,
                &decided_events(base..base + 100, day, 35),
                &"b8".repeat(32),
            )
            .await
            .expect("live events");
    }
    let raised = store
        .raise_alerts(
            &context("vigil-monitor", Role::AiLead, 200),
            id,
            1,
            &[positive_rate_signal("positive-rate")],
        )
        .await
        .expect("alert");
    store
        .link_alert_to_hazard(
            &officer,
            raised[0].id,
            missed.id,
            "Is the tool missing fewer or flagging more?",
        )
        .await
        .expect("linked");
    id
}

pub async fn alerts_put_hazards_under_review_and_resolving_them_records_the_reassessment(
    store: impl Store,
) {
    use crate::AlertState;
    use vigil_domain::{
        Control, Hazard, HazardFields, HazardStatus, Likelihood, RiskAssessment, Severity,
    };
    let (_, _, id) = seed_deployment(&store, chest_triage(), ChangeControlPlan::none()).await;
    let officer = context("cso", Role::ClinicalSafetyOfficer, 30);
    let hazard = |status: HazardStatus, residual: Likelihood| {
        Hazard::new(HazardFields {
            title: text("Missed pneumothorax"),
            cause: text("A new detector's images are darker than the training data"),
            effect: text("A pneumothorax is not flagged and its report is delayed"),
            controls: vec![Control {
                description: text("Every chest X-ray is still reported by a radiologist; the sensitivity rule watches the tool"),
                evidence: vec![EvidenceReference::parse("rule:sensitivity").expect("reference")],
            }],
            initial: RiskAssessment {
                severity: Severity::Major,
                likelihood: Likelihood::Medium,
            },
            residual: RiskAssessment {
                severity: Severity::Major,
                likelihood: residual,
            },
            owner: text("Clinical safety officer"),
            status,
        })
        .expect("a hazard")
    };
    let added = store
        .add_hazard(
            &officer,
            id,
            &hazard(HazardStatus::Controlled, Likelihood::VeryLow),
        )
        .await
        .expect("added");
    assert_eq!((added.revision, added.alerts.len()), (1, 0));
    let other = store
        .add_hazard(&officer, id, &hazard(HazardStatus::Open, Likelihood::Low))
        .await
        .expect("a second hazard");
    assert_eq!(
        store
            .hazards(id)
            .await
            .expect("hazards")
            .iter()
            .map(|record| record.id)
            .collect::<Vec<_>>(),
        vec![added.id, other.id]
    );
    // A stale edit is refused and changes nothing.
    let stale = store
        .update_hazard(
            &officer,
            added.id,
            &hazard(HazardStatus::Controlled, Likelihood::Low),
            "again",
            0,
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    // Two alerts put the first hazard under review; linking twice is once.
    let raised = store
        .raise_alerts(
            &context("vigil-monitor", Role::AiLead, 40),
            id,
            1,
            &[
                positive_rate_signal("positive-rate"),
                positive_rate_signal("positive-rate-cusum"),
            ],
        )
        .await
        .expect("alerts");
    let (first, second) = (raised[0].id, raised[1].id);
    let reviewed = store
        .link_alert_to_hazard(
            &officer,
            first,
            added.id,
            "the new detector at the main site",
        )
        .await
        .expect("linked");
    assert_eq!(reviewed.hazard.status(), HazardStatus::UnderReview);
    assert_eq!(
        (reviewed.revision, reviewed.alerts.clone()),
        (2, vec![first])
    );
    assert_eq!(
        store
            .link_alert_to_hazard(&officer, first, added.id, "again")
            .await
            .expect("once"),
        reviewed
    );
    store
        .link_alert_to_hazard(&officer, second, added.id, "the same cause")
        .await
        .expect("linked");
    // Resolving the first alert records the reassessment, but the hazard
    // stays under review while the second is open.
    let lead = context("ai-lead", Role::AiLead, 50);
    for alert in [first, second] {
        store
            .advance_alert(&lead, alert, AlertState::Acknowledged, "seen")
            .await
            .expect("acknowledged");
    }
    store
        .advance_alert(
            &lead,
            first,
            AlertState::Resolved,
            "detector recalibrated by the vendor",
        )
        .await
        .expect("resolved");
    let still = store.hazard(added.id).await.expect("hazard");
    assert_eq!(
        (still.hazard.status(), still.revision),
        (HazardStatus::UnderReview, 4)
    );
    store
        .advance_alert(
            &lead,
            second,
            AlertState::Resolved,
            "positive rate back to baseline",
        )
        .await
        .expect("resolved");
    let settled = store.hazard(added.id).await.expect("hazard");
    assert_eq!(settled.hazard.status(), HazardStatus::Controlled);
    let history = store.hazard_history(added.id).await.expect("history");
    let reasons: Vec<(i64, &str, Option<i64>, &str)> = history
        .iter()
        .map(|revision| {
            (
                revision.revision,
                revision.reason.as_str(),
                revision.alert,
                revision.hazard.status().as_str(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        vec![
            (1, "added to the hazard log", None, "controlled"),
            (
                2,
                "under review after alert 1 (positive-rate): the new detector at the main site",
                Some(first),
                "under_review"
            ),
            (
                3,
                "under review after alert 2 (positive-rate-cusum): the same cause",
                Some(second),
                "under_review"
            ),
            (
                4,
                "reassessed on resolving alert 1: detector recalibrated by the vendor",
                Some(first),
                "under_review"
            ),
            (
                5,
                "reassessed on resolving alert 2: positive rate back to baseline",
                Some(second),
                "controlled"
            ),
        ]
    );
    // The other hazard was never linked; an alert of another deployment
    // cannot be linked; a resolved alert cannot be linked.
    assert_eq!(store.hazard(other.id).await.expect("hazard").revision, 1);
    let resolved = store
        .link_alert_to_hazard(&officer, first, other.id, "late")
        .await;
    assert!(
        matches!(resolved, Err(StoreError::Conflict(_))),
        "{resolved:?}"
    );
    assert!(matches!(
        store.hazard(9_999).await,
        Err(StoreError::NotFound { .. })
    ));
    let actions: Vec<String> = store
        .audit_trail()
        .await
        .expect("trail")
        .entries
        .iter()
        .map(|entry| entry.record.action.clone())
        .filter(|action| action.starts_with("hazard."))
        .collect();
    assert_eq!(
        actions,
        [
            "hazard.add",
            "hazard.add",
            "hazard.review",
            "hazard.review",
            "hazard.reassess",
            "hazard.reassess"
        ]
    );
    // The safety case is signed for the log as read; once the log changes,
    // a signature of the earlier log is refused and nothing is written.
    let log = crate::hazard_log_sha256(&store.hazards(id).await.expect("hazards"));
    let signature = store
        .sign_safety_case(
            &officer,
            id,
            &log,
            &"0f".repeat(32),
            "Residual risks acceptable",
        )
        .await
        .expect("signed");
    assert_eq!(
        (signature.log_sha256.as_str(), signature.role.as_str()),
        (log.as_str(), "clinical_safety_officer")
    );
    store
        .update_hazard(
            &officer,
            other.id,
            &hazard(HazardStatus::Controlled, Likelihood::VeryLow),
            "controls verified",
            1,
        )
        .await
        .expect("revised");
    let changed = crate::hazard_log_sha256(&store.hazards(id).await.expect("hazards"));
    assert_ne!(changed, log);
    let stale = store
        .sign_safety_case(&officer, id, &log, &"0f".repeat(32), "again")
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    assert_eq!(
        store.safety_case_signatures(id).await.expect("signatures"),
        vec![signature]
    );
    audit_is_intact(&store).await;
}

pub async fn procurement_assessments_are_answered_completed_and_kept_with_their_evidence(
    store: impl Store,
) {
    use vigil_domain::procurement::{Answer, DEFAULT_TEMPLATE, Template};
    let (_, version, _) = seed_deployment(&store, chest_triage(), ChangeControlPlan::none()).await;
    let buyer = context("procurement-lead", Role::ProcurementLead, 60);
    let created = store
        .create_assessment(&buyer, version, &code("rw3"), DEFAULT_TEMPLATE)
        .await
        .expect("created");
    assert_eq!(
        (
            created.state.as_str(),
            created.revision,
            created.answers.len()
        ),
        ("draft", 1, 0)
    );
    assert!(matches!(
        store
            .create_assessment(&buyer, version, &code("rw3"), "name = 1")
            .await,
        Err(StoreError::Domain(_))
    ));
    let template = Template::default_template();
    let answer = |question: &str, score: u8| Answer {
        question: question.to_owned(),
        score,
        note: None,
        attachments: Vec::new(),
    };
    // Answers that do not fit the template change nothing.
    let refused = store
        .save_answers(&buyer, created.id, &[answer("clinical_need.nothing", 3)], 1)
        .await;
    assert!(matches!(refused, Err(StoreError::Domain(_))), "{refused:?}");
    let partial = store
        .save_answers(&buyer, created.id, &[answer("clinical_need.need", 3)], 1)
        .await
        .expect("answers");
    assert_eq!(partial.revision, 2);
    assert!(matches!(
        store.save_answers(&buyer, created.id, &[], 1).await,
        Err(StoreError::Conflict(_))
    ));
    let incomplete = store.complete_assessment(&buyer, created.id, 2).await;
    assert!(
        matches!(incomplete, Err(StoreError::Conflict(_))),
        "{incomplete:?}"
    );
    let all: Vec<Answer> = template
        .question_keys()
        .iter()
        .map(|question| answer(question, 3))
        .collect();
    store
        .save_answers(&buyer, created.id, &all, 2)
        .await
        .expect("answers");
    let completed = store
        .complete_assessment(&buyer, created.id, 3)
        .await
        .expect("completed");
    assert_eq!(
        (
            completed.state.as_str(),
            completed.outcome.as_deref(),
            completed.total_percent
        ),
        ("completed", Some("pass"), Some(75.0))
    );
    assert!(matches!(
        store.save_answers(&buyer, created.id, &all, 4).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store
            .assessments(Some(&["rw3".to_owned()]), Some(version))
            .await
            .expect("list")
            .len(),
        1
    );
    assert!(
        store
            .assessments(Some(&["elsewhere".to_owned()]), None)
            .await
            .expect("list")
            .is_empty()
    );
    // Evidence is kept once per organisation and read only by it.
    let pdf = b"%PDF-1.7\n% a DTAC response\n";
    let (kept, new) = store
        .add_attachment(&buyer, &code("rw3"), "application/pdf", pdf)
        .await
        .expect("kept");
    assert!(new);
    assert_eq!(kept.size_bytes, pdf.len() as i64);
    let (again, new) = store
        .add_attachment(&buyer, &code("rw3"), "application/pdf", pdf)
        .await
        .expect("kept");
    assert!(!new);
    assert_eq!(again.sha256, kept.sha256);
    let read = store
        .attachment(&["rw3".to_owned()], &kept.sha256)
        .await
        .expect("read");
    assert_eq!(read.map(|(_, content)| content), Some(pdf.to_vec()));
    assert_eq!(
        store
            .attachment(&["rw3-main".to_owned()], &kept.sha256)
            .await
            .expect("read"),
        None
    );
    let actions: Vec<String> = store
        .audit_trail()
        .await
        .expect("trail")
        .entries
        .iter()
        .map(|entry| entry.record.action.clone())
        .filter(|action| action.starts_with("procurement.") || action.starts_with("attachment."))
        .collect();
    assert_eq!(
        actions,
        [
            "procurement.create",
            "procurement.answer",
            "procurement.answer",
            "procurement.complete",
            "attachment.add"
        ]
    );
    audit_is_intact(&store).await;
}

/// An assessment entered at once is stored completed with its three audit
/// entries, or, when any part of it is wrong, not at all.
pub async fn an_assessment_recorded_whole_is_stored_completed_or_not_at_all(store: impl Store) {
    use vigil_domain::procurement::{Answer, DEFAULT_TEMPLATE, Template};
    let (_, version, _) = seed_deployment(&store, chest_triage(), ChangeControlPlan::none()).await;
    let buyer = context("procurement-lead", Role::ProcurementLead, 60);
    let answer = |question: &str, score: u8| Answer {
        question: question.to_owned(),
        score,
        note: None,
        attachments: Vec::new(),
    };
    let all: Vec<Answer> = Template::default_template()
        .question_keys()
        .iter()
        .map(|question| answer(question, 3))
        .collect();
    let entries_before = store.audit_trail().await.expect("trail").entries.len();
    let refusals = [
        (
            "a question unanswered",
            (|error: &StoreError| matches!(error, StoreError::Conflict(_)))
                as fn(&StoreError) -> bool,
            store
                .record_assessment(&buyer, version, &code("rw3"), DEFAULT_TEMPLATE, &all[1..])
                .await,
        ),
        (
            "an answer to no question",
            |error: &StoreError| matches!(error, StoreError::Domain(_)),
            store
                .record_assessment(
                    &buyer,
                    version,
                    &code("rw3"),
                    DEFAULT_TEMPLATE,
                    &[answer("clinical_need.nothing", 3)],
                )
                .await,
        ),
        (
            "a template that does not parse",
            |error: &StoreError| matches!(error, StoreError::Domain(_)),
            store
                .record_assessment(&buyer, version, &code("rw3"), "name = 1", &all)
                .await,
        ),
        (
            "an unknown version",
            |error: &StoreError| matches!(error, StoreError::NotFound { .. }),
            store
                .record_assessment(
                    &buyer,
                    VersionId(9_999),
                    &code("rw3"),
                    DEFAULT_TEMPLATE,
                    &all,
                )
                .await,
        ),
        (
            "an unknown organisation",
            |error: &StoreError| matches!(error, StoreError::NotFound { .. }),
            store
                .record_assessment(&buyer, version, &code("nowhere"), DEFAULT_TEMPLATE, &all)
                .await,
        ),
    ];
    for (what, expected, refused) in refusals {
        assert!(refused.as_ref().is_err_and(expected), "{what}: {refused:?}");
        assert!(
            store
                .assessments(None, Some(version))
                .await
                .expect("assessments")
                .is_empty(),
            "{what} left an assessment behind"
        );
        assert_eq!(
            store.audit_trail().await.expect("trail").entries.len(),
            entries_before,
            "{what} was audited"
        );
    }
    let recorded = store
        .record_assessment(&buyer, version, &code("rw3"), DEFAULT_TEMPLATE, &all)
        .await
        .expect("recorded");
    assert_eq!(
        (
            recorded.state.as_str(),
            recorded.outcome.as_deref(),
            recorded.total_percent,
            recorded.revision,
            recorded.answers.len()
        ),
        ("completed", Some("pass"), Some(75.0), 3, all.len())
    );
    let trail = store.audit_trail().await.expect("trail");
    let actions: Vec<&str> = trail.entries[entries_before..]
        .iter()
        .map(|entry| entry.record.action.as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "procurement.create",
            "procurement.answer",
            "procurement.complete"
        ]
    );
    audit_is_intact(&store).await;
}

pub async fn validation_needs_a_passing_procurement_assessment_of_the_version(store: impl Store) {
    let (_, version, id) = seed_deployment(&store, chest_triage(), ChangeControlPlan::none()).await;
    walk_to(&store, id, LifecycleState::Procurement, false).await;
    let attempt = async |seconds: i64| {
        store
            .transition(
                &context("ai-lead", Role::AiLead, seconds),
                id,
                request(
                    LifecycleState::Procurement,
                    LifecycleState::Validation,
                    false,
                ),
                None,
            )
            .await
    };
    let refused_with = |outcome: Result<DecisionRecord, StoreError>| match outcome {
        Err(StoreError::Transition(TransitionError::MissingEvidence { needed, .. })) => needed,
        other => panic!("expected missing evidence, got {other:?}"),
    };
    let before = audit_is_intact(&store).await;
    let none = refused_with(attempt(40).await);
    assert!(none.contains("none has been started"), "{none}");
    assert!(
        none.contains("rw3-main, rw3, north-west, england"),
        "{none}"
    );
    // A failing assessment is not enough; neither is a draft.
    let failed = complete_assessment(&store, version, 1).await;
    let after_failure = refused_with(attempt(41).await);
    assert!(
        after_failure.contains(&format!("assessment {failed} failed")),
        "{after_failure}"
    );
    let buyer = context("procurement-lead", Role::ProcurementLead, 42);
    let draft = store
        .create_assessment(
            &buyer,
            version,
            &code("rw3"),
            vigil_domain::procurement::DEFAULT_TEMPLATE,
        )
        .await
        .expect("draft");
    let drafting = refused_with(attempt(43).await);
    assert!(
        drafting.contains(&format!("assessment {} is still a draft", draft.id)),
        "{drafting}"
    );
    // Another Trust's passing assessment does not count here.
    store
        .add_organisation(
            &admin(),
            &Organisation::new(
                code("rxx"),
                text("Another Trust"),
                OrganisationKind::Trust,
                Some((&code("north-west"), OrganisationKind::Region)),
            )
            .expect("Trust"),
        )
        .await
        .expect("another Trust");
    store
        .create_assessment(
            &buyer,
            version,
            &code("rxx"),
            vigil_domain::procurement::DEFAULT_TEMPLATE,
        )
        .await
        .expect("elsewhere");
    assert_eq!(
        store.deployment(id).await.expect("show").state,
        LifecycleState::Procurement
    );
    // Three entries for the failed assessment, one each for the draft, the
    // Trust and its draft: the refusals wrote nothing.
    assert_eq!(audit_is_intact(&store).await, before + 6);
    let passed = complete_assessment(&store, version, 3).await;
    let decided = attempt(44).await.expect("validation starts");
    assert_eq!(decided.decision.to, LifecycleState::Validation);
    let entries = store.audit_trail().await.expect("trail").entries;
    let audited = &entries[decided.audit_sequence as usize - 1];
    assert!(
        audited
            .record
            .payload
            .contains(&format!("\"procurement_assessment\":{passed}")),
        "{}",
        audited.record.payload
    );
}

/// Generates one `#[tokio::test]` per story. `$fresh` is an async expression
/// giving `Some((store, guard))` for a fresh store — the guard keeps its
/// database alive until the test ends (a temporary directory, a schema) —
/// or `None` to skip, after printing a notice.
#[macro_export]
macro_rules! story_tests {
    ($fresh:expr) => {
        $crate::story_tests!(@one $fresh; organisation_tree_round_trips, products_versions_and_users,
            deployments_need_a_site, the_lifecycle_records_every_decision, refused_transitions_change_nothing,
            radiotherapy_go_live_needs_the_medical_physics_expert, concurrent_decisions_have_one_winner,
            a_new_version_reenters_validation_unless_covered, the_stored_policy_governs_decisions, initialising_is_all_or_nothing,
            sign_in_sessions_and_tokens, sign_offs_and_evaluations_are_recorded,
            audit_pages_run_newest_first_by_organisation, event_batches_are_stored_once_with_their_day_aggregates,
            outcomes_update_the_days_of_their_events_whenever_they_arrive, monitoring_tables_agree_with_their_audit_entries,
            concurrent_event_batches_store_each_event_once, cancelled_event_batches_leave_the_store_whole,
            going_live_sets_default_rules_and_signals_raise_one_alert_each,
            dicom_instances_are_recorded_once_and_quarantine_is_released,
            report_times_are_recorded_once_and_listed_by_issue,
            success_criteria_are_registered_before_go_live_and_the_audit_reads_its_cases,
            alerts_put_hazards_under_review_and_resolving_them_records_the_reassessment,
            procurement_assessments_are_answered_completed_and_kept_with_their_evidence,
            validation_needs_a_passing_procurement_assessment_of_the_version,
            an_assessment_recorded_whole_is_stored_completed_or_not_at_all);
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn archives_round_trip() {
            let (Some((source, _source_guard)), Some((target, _target_guard))) = ($fresh, $fresh) else { return };
            $crate::story::archives_round_trip(source, target).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn archives_carry_every_table() {
            let (Some((source, _source_guard)), Some((target, _target_guard))) = ($fresh, $fresh) else { return };
            $crate::story::archives_carry_every_table(source, target).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_tampered_archive_is_refused() {
            let (Some((source, _source_guard)), Some((target, _target_guard))) = ($fresh, $fresh) else { return };
            $crate::story::a_tampered_archive_is_refused(source, target).await;
        }
    };
    (@one $fresh:expr; $($story:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $story() {
                let Some((store, _guard)) = $fresh else { return };
                $crate::story::$story(store).await;
            }
        )*
    };
}
