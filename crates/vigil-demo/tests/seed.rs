//! Seeds the demonstration into a real SQLite database, with the ordinary
//! deployments silent (the story deployments run at full volume), and
//! checks that the registry, the stories and the audit trail come out as
//! the dataset promises.

use vigil_audit::{Verification, verify};
use vigil_demo::plan::{DEPLOYMENTS, Story};
use vigil_demo::{DemoOptions, seed};
use vigil_domain::LifecycleState;
use vigil_store::{AlertState, DeploymentRecord, Store};
use vigil_store_sqlite::SqliteStore;

fn options() -> DemoOptions {
    DemoOptions {
        seed: 2026,
        end: "2026-11-30".parse().expect("date"),
        ordinary_volume: 0.0,
    }
}

/// The deployment with this story, and its stored record.
async fn deployment_with(
    store: &SqliteStore,
    deployments: &[DeploymentRecord],
    story: fn(&Story) -> bool,
) -> DeploymentRecord {
    let index = DEPLOYMENTS
        .iter()
        .position(|plan| story(&plan.story))
        .expect("a deployment with the story");
    // Deployments are registered by the week of their first decision, not
    // in plan order: find it by site and product.
    let plan = &DEPLOYMENTS[index];
    let products = store.products().await.expect("products");
    let product = products
        .iter()
        .find(|product| product.product.name.as_str() == plan.product().name)
        .expect("the product");
    let listed = deployments
        .iter()
        .find(|record| record.deployment.site.as_str() == plan.site && record.product == product.id)
        .expect("the deployment");
    store.deployment(listed.id).await.expect("deployment")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demonstration_tells_its_stories() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let path = directory.path().join("demo.db");
    let store = SqliteStore::create_for_bulk_load(&path)
        .await
        .expect("new database");
    let mut reported = 0;
    let summary = seed(
        &store,
        &options(),
        "$argon2id$not-a-real-hash",
        &mut |events| {
            assert!(events >= reported, "progress only grows");
            reported = events;
        },
    )
    .await
    .expect("seeding");
    store.close().await;
    assert_eq!(summary.events, vigil_demo::planned_events(&options()));
    assert_eq!(reported, summary.events);
    assert_eq!(
        (summary.organisations, summary.products, summary.deployments),
        (30, 6, 31)
    );
    assert!(summary.outcomes > summary.events / 2, "{summary:?}");
    assert!(summary.users.len() > 80, "{}", summary.users.len());

    // Reopened as a server opens it.
    let store = SqliteStore::open_existing(&path).await.expect("reopen");
    let deployments = store.deployments().await.expect("deployments");
    let mut states: Vec<(String, usize)> = Vec::new();
    for state in [
        LifecycleState::Live,
        LifecycleState::Suspended,
        LifecycleState::Shadow,
        LifecycleState::Validation,
        LifecycleState::Procurement,
        LifecycleState::Proposed,
    ] {
        let count = deployments
            .iter()
            .filter(|record| record.state == state)
            .count();
        states.push((state.to_string(), count));
    }
    assert_eq!(
        states,
        [
            ("live".to_owned(), 26),
            ("suspended".to_owned(), 1),
            ("shadow".to_owned(), 1),
            ("validation".to_owned(), 1),
            ("procurement".to_owned(), 1),
            ("proposed".to_owned(), 1),
        ]
    );

    // The suspension cites the sensitivity alert that proposed it, and
    // the clinical safety officer decided it.
    let suspended = deployment_with(&store, &deployments, |story| {
        matches!(story, Story::SuspendedAfterAlert { .. })
    })
    .await;
    assert_eq!(suspended.state, LifecycleState::Suspended);
    let last = suspended.decisions.last().expect("decisions");
    assert_eq!(last.decision.to, LifecycleState::Suspended);
    assert_eq!(last.recorded_by, "rsg.clinical-safety-officer");
    let alerts = store.alerts(suspended.id).await.expect("alerts");
    let cited = alerts
        .iter()
        .find(|alert| alert.rule == "sensitivity")
        .expect("the sensitivity alert");
    assert!(cited.proposes_suspension);
    assert!(
        last.decision
            .evidence
            .iter()
            .any(|evidence| evidence.as_str() == format!("alert:{}", cited.id))
    );

    // The scanner replacement is seen in the inputs and stays open.
    let replaced = deployment_with(&store, &deployments, |story| {
        matches!(story, Story::ScannerReplacement { .. })
    })
    .await;
    let alerts = store.alerts(replaced.id).await.expect("alerts");
    let scanner = alerts
        .iter()
        .find(|alert| alert.rule == "input-scanner-model")
        .expect("an input drift alert on the scanner model");
    assert_ne!(scanner.state, AlertState::Resolved);
    assert!(
        alerts.iter().any(|alert| alert.rule == "specificity"),
        "{:?}",
        alerts.iter().map(|alert| &alert.rule).collect::<Vec<_>>()
    );

    // The funnel-plot outlier misses far more bleeds than validated.
    let outlier = deployment_with(&store, &deployments, |story| {
        matches!(story, Story::FunnelOutlier)
    })
    .await;
    let (mut detected, mut missed) = (0, 0);
    for (_, day) in store
        .daily_aggregates(outlier.id)
        .await
        .expect("aggregates")
    {
        detected += day.outcomes.true_positives;
        missed += day.outcomes.false_negatives;
    }
    let sensitivity = detected as f64 / (detected + missed) as f64;
    assert!((0.55..0.8).contains(&sensitivity), "{sensitivity}");

    let trail = store.audit_trail().await.expect("audit trail");
    match verify(trail.entries, trail.head.as_ref()) {
        Verification::Intact { .. } => {}
        broken => panic!("the audit chain is broken: {broken}"),
    }
}
