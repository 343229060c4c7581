//! The JSON API in process: sign-in and sessions, API tokens, the role ×
//! endpoint matrix generated from the API description, tenant isolation
//! with canary rows, governance decisions, evaluations, limits, and the
//! contract snapshot.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use support::{Auth, CANARY, Harness, PASSWORD, operations, user_name};
use vigil_domain::Role;
use vigil_server::ServerConfig;
use vigil_store::Store;

/// What the issue's role list grants each permission to, written out
/// independently of the server's table.
fn expected_allowed(permission: &str, role: Role) -> bool {
    use Role::*;
    match permission {
        "signed_in" | "read_registry" => true,
        "manage_organisations" | "manage_users" | "manage_tokens" => {
            [OrganisationAdmin, NationalAdmin].contains(&role)
        }
        "register_products" | "manage_deployments" => {
            [AiLead, ProcurementLead, OrganisationAdmin, NationalAdmin].contains(&role)
        }
        "sign_off" | "record_decisions" => [
            AiLead,
            ProcurementLead,
            ClinicalSafetyOfficer,
            ClinicalLead,
            MedicalPhysicsExpert,
        ]
        .contains(&role),
        "run_evaluations" | "ingest_events" => [AiLead, MedicalPhysicsExpert].contains(&role),
        "read_audit" => [ClinicalSafetyOfficer, OrganisationAdmin, NationalAdmin].contains(&role),
        "manage_monitoring" => {
            [AiLead, MedicalPhysicsExpert, ClinicalSafetyOfficer].contains(&role)
        }
        "respond_to_alerts" => [
            AiLead,
            MedicalPhysicsExpert,
            ClinicalSafetyOfficer,
            ClinicalLead,
            Clinician,
        ]
        .contains(&role),
        "read_intake" => [
            AiLead,
            MedicalPhysicsExpert,
            ClinicalSafetyOfficer,
            OrganisationAdmin,
            NationalAdmin,
        ]
        .contains(&role),
        "manage_hazards" => [
            ClinicalSafetyOfficer,
            ClinicalLead,
            MedicalPhysicsExpert,
            AiLead,
        ]
        .contains(&role),
        "sign_safety_case" => role == ClinicalSafetyOfficer,
        "assess_procurement" => [
            ProcurementLead,
            AiLead,
            ClinicalLead,
            ClinicalSafetyOfficer,
            MedicalPhysicsExpert,
        ]
        .contains(&role),
        other => panic!("the test does not know the permission {other}"),
    }
}

/// Whose objects a request names: Trust A's (the caller's), Trust B's, or
/// objects that do not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    TrustA,
    TrustB,
    Missing,
}

const MISSING_ID: i64 = 987_654;

/// The path of an operation with its `{id}` filled for the target's object
/// of the right kind.
fn concrete(harness: &Harness, path: &str, target: Target) -> String {
    let pick = |a: i64, b: i64| match target {
        Target::TrustA => a,
        Target::TrustB => b,
        Target::Missing => MISSING_ID,
    };
    let id = if path.starts_with("/api/v1/deployments/") {
        pick(harness.deployment_a, harness.deployment_b)
    } else if path.starts_with("/api/v1/evaluations/") {
        pick(harness.evaluation_a, harness.evaluation_b)
    } else if path.starts_with("/api/v1/users/") {
        pick(harness.user_a, harness.user_b)
    } else if path.starts_with("/api/v1/tokens/") {
        pick(harness.token_a, harness.token_b)
    } else if path.starts_with("/api/v1/alerts/") {
        pick(harness.alert_a, harness.alert_b)
    } else if path.starts_with("/api/v1/hazards/") {
        pick(harness.hazard_a, harness.hazard_b)
    } else if path.starts_with("/api/v1/assessments/") {
        pick(harness.assessment_a, harness.assessment_b)
    } else {
        harness.product
    };
    path.replace("{id}", &id.to_string())
        .replace("{code}", codes(target).0)
        .replace("{study}", "1.2.826.0.1.3680043.10.1234.9")
        .replace(
            "{sha256}",
            match target {
                Target::TrustA => &harness.attachment_a,
                Target::TrustB => &harness.attachment_b,
                Target::Missing => {
                    "0000000000000000000000000000000000000000000000000000000000000000"
                }
            },
        )
}

/// The codes of the target's Trust and site.
fn codes(target: Target) -> (&'static str, &'static str) {
    match target {
        Target::TrustA => ("trust-a", "trust-a-main"),
        Target::TrustB => ("trust-b", "trust-b-main"),
        Target::Missing => ("trust-z", "trust-z-main"),
    }
}

/// A valid body for a write, naming the target's organisations; `serial`
/// keeps names unique.
fn body_for(
    harness: &Harness,
    method: &str,
    path: &str,
    target: Target,
    serial: usize,
) -> Option<Value> {
    if !matches!(method, "POST" | "PUT" | "PATCH") {
        return None;
    }
    let (trust, site) = codes(target);
    let body = match (method, path) {
        ("POST", "/api/v1/session") => json!({"user_name": "nobody", "password": "not a password"}),
        ("POST", "/api/v1/organisations") => {
            json!({"code": format!("new-site-{serial}"), "name": "New site", "kind": "site", "parent": trust})
        }
        ("POST", "/api/v1/users") => json!({
            "user_name": format!("new-user-{serial}"), "display_name": "New user", "role": "viewer", "organisation": trust,
        }),
        ("PATCH", "/api/v1/users/{id}") => json!({"disabled": false}),
        ("PUT", "/api/v1/session/password") => {
            json!({"current_password": "not the password", "new_password": "another long password"})
        }
        ("PUT", "/api/v1/users/{id}/password") => json!({"password": "another long password"}),
        ("POST", "/api/v1/tokens") => {
            json!({"name": format!("token {serial}"), "organisation": trust, "role": "viewer"})
        }
        ("POST", "/api/v1/products") => json!({
            "vendor": format!("Vendor {serial}"), "name": "Product", "intended_purpose": "Detection",
            "modality": "ct", "body_part": "head", "task_type": "detection", "regulatory_class": "IIb", "marking": "UKCA",
        }),
        ("POST", "/api/v1/products/{id}/versions") => json!({
            "version": format!("1.{serial}"), "release_date": "2026-03-01", "change_notes": "fixes", "change_kind": "bug_fix",
        }),
        ("POST", "/api/v1/deployments") => {
            json!({"version": harness.version, "site": site, "owning_team": "Team", "thresholds": [{"name": "default", "value": 0.5}]})
        }
        ("POST", "/api/v1/deployments/{id}/upgrade") => json!({"version": harness.version}),
        ("POST", "/api/v1/deployments/{id}/sign-offs") => {
            json!({"to": "procurement", "revision": 0})
        }
        ("POST", "/api/v1/deployments/{id}/transitions") => {
            json!({"from": "proposed", "to": "procurement", "revision": 0, "rationale": "approved"})
        }
        // JSON is not a batch format, nor multipart/related: an allowed
        // caller gets 415.
        (
            "POST",
            "/api/v1/deployments/{id}/events"
            | "/api/v1/deployments/{id}/outcomes"
            | "/dicomweb/studies"
            | "/dicomweb/studies/{study}",
        ) => json!({}),
        // Not a FHIR resource: an allowed caller gets 400.
        ("POST", "/fhir") => json!({}),
        ("PUT", "/api/v1/deployments/{id}/rules") => json!({
            "rules_toml": "[baseline]\nsource = \"hand\"\n", "reason": "matrix", "expected_version": 0,
        }),
        ("POST", "/api/v1/deployments/{id}/assessment") => json!({"as_of": "2026-11-30"}),
        ("POST", "/api/v1/deployments/{id}/hazards") => {
            json!({"hazard": support::hazard_json("matrix")})
        }
        ("PUT", "/api/v1/hazards/{id}") => json!({
            "hazard": support::hazard_json("matrix"), "reason": "matrix", "expected_revision": 0,
        }),
        ("POST", "/api/v1/alerts/{id}/hazards") => json!({
            "hazard": match target {
                Target::TrustA => harness.hazard_a,
                Target::TrustB => harness.hazard_b,
                Target::Missing => MISSING_ID,
            },
            "note": "matrix",
        }),
        ("POST", "/api/v1/assessments") => {
            json!({"version": harness.version, "organisation": trust})
        }
        ("PUT", "/api/v1/assessments/{id}/answers") => {
            json!({"answers": [], "expected_revision": 1})
        }
        ("POST", "/api/v1/assessments/{id}/complete") => json!({"expected_revision": 1}),
        // Not an evidence file type: an allowed caller gets 415.
        ("POST", "/api/v1/attachments") => json!({}),
        ("POST", "/api/v1/deployments/{id}/safety-case/signatures") => {
            json!({"log_sha256": "0".repeat(64), "statement": "matrix"})
        }
        ("PUT", "/api/v1/deployments/{id}/success-criteria") => json!({
            "criteria": [{"kind": "median_turnaround_reduction", "cases": "all", "minutes": 10}],
            "rationale": "matrix",
        }),
        ("POST", "/api/v1/alerts/{id}/acknowledge" | "/api/v1/alerts/{id}/resolve") => {
            json!({"note": "seen"})
        }
        ("POST", "/api/v1/webhooks") => json!({
            "organisation": trust, "url": "https://hooks.example.nhs.uk/vigil", "secret": "a long shared secret",
        }),
        ("POST", "/api/v1/deployments/{id}/evaluations") => {
            json!({"cases_csv": "label,score\n1,0.9\n0,0.1\n1,0.8\n0,0.3\n"})
        }
        (method, path) => panic!("the test has no body for {method} {path}"),
    };
    Some(body)
}

#[tokio::test]
async fn every_route_answers_403_exactly_when_the_role_lacks_its_permission() {
    let harness = Harness::new().await;
    let operations = operations();
    assert!(operations.len() >= 30, "{} operations", operations.len());
    let mut checked = 0;
    for (method, path, permission) in &operations {
        if permission == "public" {
            continue;
        }
        let target = concrete(&harness, path, Target::TrustA);
        let anonymous = harness
            .call(
                method,
                &target,
                &Auth::None,
                body_for(&harness, method, path, Target::TrustA, checked),
            )
            .await;
        assert_eq!(
            anonymous.status,
            StatusCode::UNAUTHORIZED,
            "{method} {path} without credentials: {}",
            anonymous.text
        );
        for role in Role::ALL {
            checked += 1;
            let body = body_for(&harness, method, path, Target::TrustA, checked);
            let answer = harness
                .call(method, &target, &harness.bearer(role), body)
                .await;
            let allowed = expected_allowed(permission, role);
            if allowed {
                assert!(
                    answer.status != StatusCode::FORBIDDEN
                        && answer.status != StatusCode::UNAUTHORIZED,
                    "{role} should reach {method} {path}: {} {}",
                    answer.status,
                    answer.text
                );
                assert!(
                    answer.status.as_u16() < 500,
                    "{role} {method} {path}: {}",
                    answer.text
                );
            } else {
                assert_eq!(
                    (answer.status, answer.code()),
                    (StatusCode::FORBIDDEN, "forbidden"),
                    "{role} must be refused {method} {path}: {}",
                    answer.text
                );
            }
        }
    }
    assert!(checked >= 9 * 28, "{checked} checks");
    // Every refusal is in the audit trail.
    let actions = harness.audit_actions().await;
    assert!(actions.iter().filter(|a| *a == "access.denied").count() > 50);
    assert!(actions.iter().any(|a| a == "access.unauthenticated"));
}

#[tokio::test]
async fn another_trusts_objects_look_exactly_like_missing_ones() {
    let harness = Harness::new().await;
    let mut serial = 0;
    let mut compared = 0;
    for (method, path, permission) in operations() {
        let names_an_organisation = matches!(
            (method.as_str(), path.as_str()),
            (
                "POST",
                "/api/v1/organisations"
                    | "/api/v1/users"
                    | "/api/v1/tokens"
                    | "/api/v1/deployments"
            )
        );
        let names_an_object = (path.contains("{id}") || path.contains("{sha256}"))
            && !path.starts_with("/api/v1/products");
        if permission == "public" || !(names_an_organisation || names_an_object) {
            continue;
        }
        for role in Role::ALL {
            if !expected_allowed(&permission, role) {
                continue;
            }
            serial += 1;
            let other = harness
                .call(
                    &method,
                    &concrete(&harness, &path, Target::TrustB),
                    &harness.bearer(role),
                    body_for(&harness, &method, &path, Target::TrustB, serial),
                )
                .await;
            if role == Role::NationalAdmin {
                // The national administrator sees Trust B: the object is real.
                assert_ne!(
                    other.status,
                    StatusCode::NOT_FOUND,
                    "{method} {path}: {}",
                    other.text
                );
                continue;
            }
            serial += 1;
            let missing = harness
                .call(
                    &method,
                    &concrete(&harness, &path, Target::Missing),
                    &harness.bearer(role),
                    body_for(&harness, &method, &path, Target::Missing, serial),
                )
                .await;
            assert_eq!(
                (other.status, other.code()),
                (StatusCode::NOT_FOUND, "not_found"),
                "{role} {method} {path} on Trust B: {}",
                other.text
            );
            let b_id = concrete(&harness, &path, Target::TrustB)
                .rsplit('/')
                .find_map(|part| part.parse::<i64>().ok())
                .map(|id| id.to_string());
            let normalise = |text: &str, codes: (&str, &str), id: Option<&str>| {
                let mut text = text.replace(codes.1, "SITE").replace(codes.0, "TRUST");
                if let Some(id) = id {
                    text = text.replace(id, "ID");
                }
                text
            };
            assert_eq!(
                normalise(&other.text, codes(Target::TrustB), b_id.as_deref()),
                normalise(
                    &missing.text,
                    codes(Target::Missing),
                    Some(&MISSING_ID.to_string())
                ),
                "{role} {method} {path}"
            );
            compared += 1;
        }
    }
    assert!(compared > 40, "{compared} comparisons");
    // Every one of those was a denied request, and is in the trail.
    let not_found = harness
        .audit_actions()
        .await
        .iter()
        .filter(|a| *a == "access.not_found")
        .count();
    assert!(not_found >= 2 * compared, "{not_found} of {compared}");
}

#[tokio::test]
async fn canary_rows_of_another_trust_appear_in_no_answer() {
    let harness = Harness::new().await;
    let mut answers = 0;
    for (method, path, permission) in operations() {
        if method != "GET" || permission == "public" {
            continue;
        }
        for role in Role::ALL {
            if role == Role::NationalAdmin {
                continue;
            }
            for target in [Target::TrustA, Target::TrustB] {
                let answer = harness
                    .call(
                        &method,
                        &concrete(&harness, &path, target),
                        &harness.bearer(role),
                        None,
                    )
                    .await;
                assert!(
                    !answer.text.contains(CANARY),
                    "{role} {method} {path} leaked another Trust's row: {}",
                    answer.text
                );
                answers += 1;
            }
        }
    }
    assert!(answers > 100, "{answers}");
    // The national administrator does see them (the canary is real).
    let listing = harness
        .call(
            "GET",
            "/api/v1/deployments",
            &harness.bearer(Role::NationalAdmin),
            None,
        )
        .await;
    assert!(listing.text.contains(CANARY), "{}", listing.text);
}

#[tokio::test]
async fn sign_in_sets_a_safe_cookie_rotates_it_and_csrf_guards_every_change() {
    let harness = Harness::new().await;
    let admin = user_name("a", Role::OrganisationAdmin);
    harness.set_password(&admin).await;
    let answer = harness
        .call(
            "POST",
            "/api/v1/session",
            &Auth::None,
            Some(json!({"user_name": admin, "password": PASSWORD})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let cookie = answer.headers[header::SET_COOKIE].to_str().expect("cookie");
    let token = cookie
        .strip_prefix("vigil_session=")
        .and_then(|rest| rest.split(';').next())
        .expect("token");
    assert!(
        token.len() >= 32 && token.chars().all(|c| c.is_ascii_hexdigit()),
        "{token}"
    );
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP on loopback: {cookie}"
    );
    assert_eq!(answer.json["user"]["user_name"], admin);
    assert_eq!(answer.json["authenticated_by"], "session");
    let csrf = answer.json["csrf_token"].as_str().expect("csrf").to_owned();

    // The database holds only the token's hash.
    let stored: Vec<String> = sqlx_rows(&harness, "SELECT token_hash FROM sessions").await;
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token);

    let session = Auth::Session {
        cookie: token.to_owned(),
        csrf: None,
    };
    let me = harness.call("GET", "/api/v1/session", &session, None).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    let site =
        json!({"code": "trust-a-annex", "name": "Annex", "kind": "site", "parent": "trust-a"});
    let without = harness
        .call(
            "POST",
            "/api/v1/organisations",
            &session,
            Some(site.clone()),
        )
        .await;
    assert_eq!(
        (without.status, without.code()),
        (StatusCode::FORBIDDEN, "forbidden"),
        "{}",
        without.text
    );
    let wrong = Auth::Session {
        cookie: token.to_owned(),
        csrf: Some("0".repeat(64)),
    };
    let with_wrong = harness
        .call("POST", "/api/v1/organisations", &wrong, Some(site.clone()))
        .await;
    assert_eq!(with_wrong.status, StatusCode::FORBIDDEN);
    let good = Auth::Session {
        cookie: token.to_owned(),
        csrf: Some(csrf.clone()),
    };
    let created = harness
        .call("POST", "/api/v1/organisations", &good, Some(site))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);

    // Signing in again with the old cookie ends the old session.
    let mut request = Request::builder()
        .method("POST")
        .uri("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::COOKIE, format!("vigil_session={token}"))
        .body(Body::from(
            json!({"user_name": admin, "password": PASSWORD}).to_string(),
        ))
        .expect("request");
    request
        .headers_mut()
        .insert("x-request-id", "rotation".parse().expect("id"));
    let rotated = harness.send(request).await;
    assert_eq!(rotated.status, StatusCode::OK);
    let new_cookie = rotated.headers[header::SET_COOKIE]
        .to_str()
        .expect("cookie")
        .to_owned();
    assert!(!new_cookie.contains(token));
    assert_eq!(
        harness
            .call("GET", "/api/v1/session", &session, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // Signing out ends the session and removes the cookie.
    let new_token = new_cookie
        .strip_prefix("vigil_session=")
        .and_then(|rest| rest.split(';').next())
        .expect("token")
        .to_owned();
    let new_session = Auth::Session {
        cookie: new_token.clone(),
        csrf: rotated.json["csrf_token"].as_str().map(str::to_owned),
    };
    let out = harness
        .call("DELETE", "/api/v1/session", &new_session, None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text);
    assert!(
        out.headers[header::SET_COOKIE]
            .to_str()
            .expect("cookie")
            .contains("Max-Age=0")
    );
    let after = harness
        .call("GET", "/api/v1/session", &new_session, None)
        .await;
    assert_eq!(
        (after.status, after.code()),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );

    let actions = harness.audit_actions().await;
    for action in [
        "session.login",
        "access.denied",
        "organisation.add",
        "session.logout",
        "access.unauthenticated",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} not audited: {actions:?}"
        );
    }
}

/// The values of one text column.
async fn sqlx_rows(harness: &Harness, query: &str) -> Vec<String> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(query))
        .fetch_all(harness.store.pool())
        .await
        .expect("query")
}

#[tokio::test]
async fn failed_sign_ins_are_refused_alike_throttled_and_audited() {
    let harness = Harness::new().await;
    let viewer = user_name("a", Role::Viewer);
    harness.set_password(&viewer).await;
    let attempt = |user: String, password: &'static str| {
        let harness = &harness;
        async move {
            harness
                .call(
                    "POST",
                    "/api/v1/session",
                    &Auth::None,
                    Some(json!({"user_name": user, "password": password})),
                )
                .await
        }
    };
    let unknown = attempt("nobody".to_owned(), "whatever it is").await;
    let wrong = attempt(viewer.clone(), "not the password").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        unknown.text, wrong.text,
        "the answer does not tell which users exist"
    );
    for _ in 0..4 {
        assert_eq!(
            attempt(viewer.clone(), "not the password").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let throttled = attempt(viewer.clone(), PASSWORD).await;
    assert_eq!(
        (throttled.status, throttled.code()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        "{}",
        throttled.text
    );
    let retry: u64 = throttled.headers[header::RETRY_AFTER]
        .to_str()
        .expect("header")
        .parse()
        .expect("seconds");
    assert!((1..=900).contains(&retry), "{retry}");
    // Another user is not locked out by this user's failures.
    let other = user_name("a", Role::AiLead);
    harness.set_password(&other).await;
    assert_eq!(attempt(other, PASSWORD).await.status, StatusCode::OK);
    let failures = harness
        .audit_actions()
        .await
        .iter()
        .filter(|a| *a == "session.login_failed")
        .count();
    assert_eq!(failures, 7, "six failures and one throttled attempt");
}

#[tokio::test]
async fn disabling_a_user_or_changing_their_role_ends_their_sessions() {
    let harness = Harness::new().await;
    let viewer = user_name("a", Role::Viewer);
    harness.set_password(&viewer).await;
    let admin = harness.bearer(Role::OrganisationAdmin);
    let (cookie, _) = harness.sign_in(&viewer).await;
    let session = Auth::Session { cookie, csrf: None };
    let path = format!("/api/v1/users/{}", harness.user_a);
    let disabled = harness
        .call("PATCH", &path, &admin, Some(json!({"disabled": true})))
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.text);
    assert_eq!(disabled.json["disabled"], true);
    let sessions: Vec<String> = sqlx_rows(
        &harness,
        &format!(
            "SELECT token_hash FROM sessions WHERE user_id = {}",
            harness.user_a
        ),
    )
    .await;
    assert!(
        sessions.is_empty(),
        "disabling ends the sessions: {sessions:?}"
    );
    assert_eq!(
        harness
            .call("GET", "/api/v1/session", &session, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let refused = harness
        .call(
            "POST",
            "/api/v1/session",
            &Auth::None,
            Some(json!({"user_name": viewer, "password": PASSWORD})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    harness
        .call("PATCH", &path, &admin, Some(json!({"disabled": false})))
        .await;
    let (cookie, _) = harness.sign_in(&viewer).await;
    let session = Auth::Session { cookie, csrf: None };
    assert_eq!(
        harness
            .call("GET", "/api/v1/session", &session, None)
            .await
            .status,
        StatusCode::OK
    );
    let promoted = harness
        .call("PATCH", &path, &admin, Some(json!({"role": "clinician"})))
        .await;
    assert_eq!(promoted.json["role"], "clinician", "{}", promoted.text);
    assert_eq!(
        harness
            .call("GET", "/api/v1/session", &session, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Only a national administrator gives the national_admin role.
    let escalate = harness
        .call(
            "PATCH",
            &path,
            &admin,
            Some(json!({"role": "national_admin"})),
        )
        .await;
    assert_eq!(
        (escalate.status, escalate.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "refused"),
        "{}",
        escalate.text
    );
}

#[tokio::test]
async fn idle_and_old_sessions_end() {
    let harness = Harness::new().await;
    let viewer = user_name("a", Role::Viewer);
    harness.set_password(&viewer).await;
    for column in ["last_seen_at", "created_at"] {
        let (cookie, _) = harness.sign_in(&viewer).await;
        let session = Auth::Session { cookie, csrf: None };
        assert_eq!(
            harness
                .call("GET", "/api/v1/session", &session, None)
                .await
                .status,
            StatusCode::OK
        );
        sqlx::query(::sqlx::AssertSqlSafe(format!(
            "UPDATE sessions SET {column} = '2020-01-01T00:00:00.000000Z'"
        )))
        .execute(harness.store.pool())
        .await
        .expect("age the session");
        let answer = harness.call("GET", "/api/v1/session", &session, None).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "{column}: {}",
            answer.text
        );
    }
    let expired = harness
        .audit_actions()
        .await
        .iter()
        .filter(|a| *a == "session.expired")
        .count();
    assert_eq!(expired, 2);
}

#[tokio::test]
async fn api_tokens_are_shown_once_stored_hashed_used_and_revoked() {
    let harness = Harness::new().await;
    let admin = harness.bearer(Role::OrganisationAdmin);
    let created = harness
        .call(
            "POST",
            "/api/v1/tokens",
            &admin,
            Some(json!({"name": "PACS ingest", "organisation": "trust-a-main", "role": "ai_lead"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let secret = created.json["secret"].as_str().expect("secret").to_owned();
    assert!(
        secret.starts_with("vigil_") && secret.len() == 70,
        "{secret}"
    );
    let id = created.json["token"]["id"].as_i64().expect("id");
    let listing = harness.call("GET", "/api/v1/tokens", &admin, None).await;
    assert!(!listing.text.contains(&secret));
    assert!(!listing.text.contains("secret"), "{}", listing.text);
    let hashes: Vec<String> = sqlx_rows(&harness, "SELECT token_hash FROM api_tokens").await;
    assert!(hashes.iter().all(|hash| !hash.contains(&secret[6..])));
    let trail = harness.store.audit_trail().await.expect("trail");
    assert!(
        trail
            .entries
            .iter()
            .all(|entry| !entry.record.payload.contains(&secret[6..]))
    );

    let token = Auth::Bearer(secret.clone());
    let me = harness.call("GET", "/api/v1/session", &token, None).await;
    assert_eq!(me.json["role"], "ai_lead", "{}", me.text);
    assert_eq!(me.json["organisation"], "trust-a-main");
    assert_eq!(me.json["authenticated_by"], "token");
    let used = harness.call("GET", "/api/v1/tokens", &admin, None).await;
    let entry = used
        .json
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["id"] == id)
        .expect("token")
        .clone();
    assert!(entry["last_used_at"].is_string(), "{entry}");
    // A token for a site sees that site, not its Trust or the Trust's
    // other sites.
    let organisations = harness
        .call("GET", "/api/v1/organisations", &token, None)
        .await;
    let codes: Vec<&str> = organisations
        .json
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|o| o["code"].as_str())
        .collect();
    assert_eq!(codes, ["trust-a-main"], "{}", organisations.text);

    let revoked = harness
        .call("DELETE", &format!("/api/v1/tokens/{id}"), &admin, None)
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert!(revoked.json["revoked_at"].is_string());
    assert_eq!(
        harness
            .call("GET", "/api/v1/session", &token, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let again = harness
        .call("DELETE", &format!("/api/v1/tokens/{id}"), &admin, None)
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "conflict")
    );
    let garbage = harness
        .call(
            "GET",
            "/api/v1/session",
            &Auth::Bearer("vigil_nonsense".to_owned()),
            None,
        )
        .await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn decisions_collect_authenticated_sign_offs_from_the_deploying_trust() {
    let harness = Harness::new().await;
    let deployment = format!("/api/v1/deployments/{}", harness.deployment_a);
    let mut sessions = std::collections::BTreeMap::new();
    for role in [
        Role::ProcurementLead,
        Role::AiLead,
        Role::ClinicalSafetyOfficer,
        Role::ClinicalLead,
    ] {
        let name = user_name("a", role);
        harness.set_password(&name).await;
        let (cookie, csrf) = harness.sign_in(&name).await;
        sessions.insert(
            role,
            Auth::Session {
                cookie,
                csrf: Some(csrf),
            },
        );
    }
    let steps = [
        (Role::ProcurementLead, "proposed", "procurement"),
        (Role::AiLead, "procurement", "validation"),
        (Role::AiLead, "validation", "shadow"),
    ];
    for (revision, (role, from, to)) in steps.iter().enumerate() {
        if *to == "validation" {
            // Local validation waits for a completed, passing procurement
            // assessment of the version by the Trust.
            let waiting = harness
                .call(
                    "POST",
                    &format!("{deployment}/transitions"),
                    &sessions[role],
                    Some(json!({"from": from, "to": to, "revision": revision, "rationale": "reviewed"})),
                )
                .await;
            assert_eq!(
                (waiting.status, waiting.code()),
                (StatusCode::UNPROCESSABLE_ENTITY, "refused"),
                "{}",
                waiting.text
            );
            assert!(
                waiting.text.contains(&format!(
                    "assessment {} is still a draft",
                    harness.assessment_a
                )),
                "{}",
                waiting.text
            );
            harness.pass_assessment_a().await;
        }
        let answer = harness
            .call(
                "POST",
                &format!("{deployment}/transitions"),
                &sessions[role],
                Some(json!({"from": from, "to": to, "revision": revision, "rationale": "reviewed", "evidence": ["evaluation:1"]})),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "{from} → {to}: {}",
            answer.text
        );
        assert_eq!(answer.json["sign_offs"][0]["actor"], user_name("a", *role));
    }
    // Go-live needs the clinical safety officer and the clinical lead.
    let alone = harness
        .call(
            "POST",
            &format!("{deployment}/transitions"),
            &sessions[&Role::ClinicalLead],
            Some(json!({"from": "shadow", "to": "live", "revision": 3, "rationale": "shadow agreement 96%"})),
        )
        .await;
    assert_eq!(
        (alone.status, alone.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "refused"),
        "{}",
        alone.text
    );
    assert!(
        alone.text.contains("clinical_safety_officer"),
        "{}",
        alone.text
    );
    let stale = harness
        .call(
            "POST",
            &format!("{deployment}/sign-offs"),
            &sessions[&Role::ClinicalSafetyOfficer],
            Some(json!({"to": "live", "revision": 2})),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text);
    let signed = harness
        .call(
            "POST",
            &format!("{deployment}/sign-offs"),
            &sessions[&Role::ClinicalSafetyOfficer],
            Some(json!({"to": "live", "revision": 3})),
        )
        .await;
    assert_eq!(signed.status, StatusCode::CREATED, "{}", signed.text);
    let pending = harness
        .call(
            "GET",
            &format!("{deployment}/sign-offs"),
            &harness.bearer(Role::Viewer),
            None,
        )
        .await;
    assert_eq!(
        pending.json[0]["role"], "clinical_safety_officer",
        "{}",
        pending.text
    );
    // An API token cannot sign: sign-offs are people's.
    let by_token = harness
        .call(
            "POST",
            &format!("{deployment}/sign-offs"),
            &harness.bearer(Role::ClinicalSafetyOfficer),
            Some(json!({"to": "live", "revision": 3})),
        )
        .await;
    assert_eq!(
        (by_token.status, by_token.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "refused"),
        "{}",
        by_token.text
    );
    let live = harness
        .call(
            "POST",
            &format!("{deployment}/transitions"),
            &sessions[&Role::ClinicalLead],
            Some(json!({"from": "shadow", "to": "live", "revision": 3, "rationale": "shadow agreement 96%"})),
        )
        .await;
    assert_eq!(live.status, StatusCode::CREATED, "{}", live.text);
    let roles: Vec<&str> = live.json["sign_offs"]
        .as_array()
        .expect("sign-offs")
        .iter()
        .filter_map(|s| s["role"].as_str())
        .collect();
    assert_eq!(roles, ["clinical_safety_officer", "clinical_lead"]);
    let shown = harness
        .call("GET", &deployment, &harness.bearer(Role::Viewer), None)
        .await;
    assert_eq!(shown.json["state"], "live");
    assert_eq!(shown.json["decisions"].as_array().map(Vec::len), Some(4));
    // People of another Trust cannot even see it.
    let outsider = Auth::Bearer(harness.trust_b_ai_lead.clone());
    let hidden = harness.call("GET", &deployment, &outsider, None).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.text);
    let signs = harness
        .call("GET", &format!("{deployment}/sign-offs"), &outsider, None)
        .await;
    assert_eq!(signs.status, StatusCode::NOT_FOUND, "{}", signs.text);
    let verdict = harness
        .call(
            "GET",
            "/api/v1/audit/verify",
            &harness.bearer(Role::ClinicalSafetyOfficer),
            None,
        )
        .await;
    assert_eq!(verdict.json["status"], "intact", "{}", verdict.text);
    // The trail is the whole database's: its size and head are told to
    // national administrators only.
    assert!(verdict.json["entries"].is_null(), "{}", verdict.text);
    assert!(verdict.json["head_hash"].is_null(), "{}", verdict.text);
    let national = harness
        .call(
            "GET",
            "/api/v1/audit/verify",
            &harness.bearer(Role::NationalAdmin),
            None,
        )
        .await;
    assert_eq!(national.json["status"], "intact");
    let entries = national.json["entries"].as_u64().expect("entries");
    assert_eq!(entries, harness.audit_actions().await.len() as u64);
}

#[tokio::test]
async fn an_evaluation_sent_over_http_is_computed_stored_and_reported() {
    let harness = Harness::new().await;
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/chest-xray-triage");
    let cases = std::fs::read_to_string(root.join("cases.csv")).expect("cases");
    let protocol = std::fs::read_to_string(root.join("protocol.toml")).expect("protocol");
    let body = json!({"cases_csv": cases, "protocol_toml": protocol, "compare_column": "score_previous_version"});
    let path = format!("/api/v1/deployments/{}/evaluations", harness.deployment_a);
    let answer = harness
        .call("POST", &path, &harness.bearer(Role::AiLead), Some(body))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);

    // The stored result is the library's, computed the same way as the
    // command line computes it.
    let parsed =
        vigil_evaluation::protocol::Protocol::parse(&protocol, "protocol_toml").expect("protocol");
    let options = vigil_evaluation::run::RunOptions {
        compare_column: Some("score_previous_version".to_owned()),
        ..Default::default()
    };
    let expected = vigil_evaluation::run::run(
        &options,
        Some(vigil_evaluation::run::NamedProtocol {
            protocol: &parsed,
            source_name: "protocol_toml",
        }),
        cases.as_bytes(),
        "cases_csv",
        &mut |_| {},
    )
    .expect("evaluation");
    assert_eq!(
        answer.json["result"],
        serde_json::to_value(&expected).expect("json")
    );
    assert_eq!(
        answer.json["verdict"],
        serde_json::to_value(expected.verdict).expect("verdict")
    );
    assert_eq!(answer.json["cases_bytes"], cases.len());
    let id = answer.json["id"].as_i64().expect("id");

    let listed = harness
        .call("GET", &path, &harness.bearer(Role::Viewer), None)
        .await;
    let ids: Vec<i64> = listed
        .json
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|e| e["id"].as_i64())
        .collect();
    assert_eq!(ids, [harness.evaluation_a, id]);
    assert!(
        listed.json[1]["result"].is_null(),
        "listings carry no result"
    );
    let report = harness
        .call(
            "GET",
            &format!("/api/v1/evaluations/{id}/report"),
            &harness.bearer(Role::Viewer),
            None,
        )
        .await;
    assert_eq!(report.status, StatusCode::OK);
    assert!(
        report.headers[header::CONTENT_TYPE]
            .to_str()
            .expect("type")
            .starts_with("text/html")
    );
    assert!(
        report.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("csp")
            .contains("default-src 'none'")
    );
    assert_eq!(report.text, vigil_reports::evaluation_report(&expected));

    // A bad case table names the row and column, and stores nothing.
    let bad = "label,score\n1,0.9\n0,abc\n";
    let refused = harness
        .call(
            "POST",
            &path,
            &harness.bearer(Role::AiLead),
            Some(json!({"cases_csv": bad})),
        )
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::BAD_REQUEST, "invalid_request"),
        "{}",
        refused.text
    );
    assert!(refused.text.contains("cases_csv:3"), "{}", refused.text);
    let after = harness
        .call("GET", &path, &harness.bearer(Role::Viewer), None)
        .await;
    assert_eq!(after.json.as_array().map(Vec::len), Some(2));
    let actions = harness.audit_actions().await;
    assert_eq!(actions.iter().filter(|a| *a == "evaluation.add").count(), 3);
}

#[tokio::test]
async fn bodies_are_limited_in_size_depth_type_and_decompressed_size() {
    let config = ServerConfig {
        request_body_limit_bytes: 64 * 1024,
        ..ServerConfig::default()
    };
    let harness = Harness::with_config(config).await;
    let admin = harness.bearer(Role::OrganisationAdmin);
    let deep = format!("{{\"a\": {}{}}}", "[".repeat(200), "]".repeat(200));
    let mut request = Request::builder()
        .method("POST")
        .uri("/api/v1/organisations")
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            header::AUTHORIZATION,
            match &admin {
                Auth::Bearer(secret) => format!("Bearer {secret}"),
                _ => unreachable!(),
            },
        );
    let answer = harness
        .send(request.body(Body::from(deep)).expect("request"))
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::BAD_REQUEST, "invalid_request"),
        "{}",
        answer.text
    );
    assert!(answer.text.contains("nests deeper"), "{}", answer.text);

    let wrong_type = harness
        .send(
            Request::builder()
                .method("POST")
                .uri("/api/v1/session")
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("user_name=a"))
                .expect("request"),
        )
        .await;
    assert_eq!(
        (wrong_type.status, wrong_type.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );

    let too_big = harness
        .call(
            "POST",
            "/api/v1/session",
            &Auth::None,
            Some(json!({"user_name": "x".repeat(100_000), "password": "y"})),
        )
        .await;
    assert_eq!(
        (too_big.status, too_big.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        "{}",
        too_big.text
    );

    // A declared length over the limit is refused before the body is read,
    // in the same shape.
    let declared = harness
        .send(
            Request::builder()
                .method("POST")
                .uri("/api/v1/session")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_LENGTH, "100000000")
                .body(Body::from("{}"))
                .expect("request"),
        )
        .await;
    assert_eq!(
        (declared.status, declared.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        "{}",
        declared.text
    );
    let unknown_encoding = harness
        .send(
            Request::builder()
                .method("POST")
                .uri("/api/v1/session")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_ENCODING, "compress")
                .body(Body::from("{}"))
                .expect("request"),
        )
        .await;
    assert_eq!(
        (unknown_encoding.status, unknown_encoding.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        "{}",
        unknown_encoding.text
    );

    // 10 MB of zeros compress to about 10 kB: the limit applies after
    // decompression.
    let bomb = gzip(&vec![b' '; 10 << 20]);
    assert!(bomb.len() < 64 * 1024);
    request = Request::builder()
        .method("POST")
        .uri("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_ENCODING, "gzip");
    let exploded = harness
        .send(request.body(Body::from(bomb)).expect("request"))
        .await;
    assert_eq!(
        (exploded.status, exploded.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        "{}",
        exploded.text
    );

    // A small gzip body is read.
    harness.set_password(&user_name("a", Role::Viewer)).await;
    let login =
        json!({"user_name": user_name("a", Role::Viewer), "password": PASSWORD}).to_string();
    let zipped = harness
        .send(
            Request::builder()
                .method("POST")
                .uri("/api/v1/session")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_ENCODING, "gzip")
                .body(Body::from(gzip(login.as_bytes())))
                .expect("request"),
        )
        .await;
    assert_eq!(zipped.status, StatusCode::OK, "{}", zipped.text);

    // Responses are compressed for clients that accept it.
    let compressed = harness
        .send(
            Request::builder()
                .uri("/api/v1/openapi.json")
                .header(header::ACCEPT_ENCODING, "gzip")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(compressed.headers[header::CONTENT_ENCODING], "gzip");
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("compress");
    encoder.finish().expect("compress")
}

#[tokio::test]
async fn the_route_table_the_router_and_the_description_agree() {
    let harness = Harness::new().await;
    let described: std::collections::BTreeSet<(String, String)> = operations()
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let table: std::collections::BTreeSet<(String, String)> = vigil_server::api::ROUTES
        .iter()
        .map(|route| (route.method.to_owned(), route.path.to_owned()))
        .collect();
    assert_eq!(described, table);
    // Each described route is served: without credentials it answers 401
    // (or, if public, anything but 404 and 405).
    for (method, path) in &described {
        let answer = harness
            .call(
                method,
                &concrete(&harness, path, Target::TrustA),
                &Auth::None,
                body_for(&harness, method, path, Target::TrustA, 0),
            )
            .await;
        assert!(
            answer.status != StatusCode::NOT_FOUND
                && answer.status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} is described but not served: {}",
            answer.text
        );
    }
}

#[test]
fn the_api_description_is_the_contract() {
    let document = vigil_server::openapi::description();
    assert_eq!(document["openapi"], "3.1.0");
    insta::assert_json_snapshot!("openapi", document);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_sent_at_once_are_counted_before_they_are_checked() {
    let harness = Harness::new().await;
    let viewer = user_name("a", Role::Viewer);
    harness.set_password(&viewer).await;
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let app = harness.app.clone();
        let body = json!({"user_name": viewer, "password": "guess guess guess"}).to_string();
        attempts.spawn(async move {
            use tower::ServiceExt;
            let request = Request::builder()
                .method("POST")
                .uri("/api/v1/session")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))
                .expect("request");
            app.oneshot(request).await.expect("response").status()
        });
    }
    let statuses: Vec<StatusCode> = attempts.join_all().await;
    let wrong = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((wrong, throttled), (5, 11), "{statuses:?}");
}

#[tokio::test]
async fn an_overlong_user_name_or_password_is_refused_before_any_work() {
    let harness = Harness::new().await;
    for body in [
        json!({"user_name": "x".repeat(10_000), "password": "whatever it is"}),
        json!({"user_name": "someone", "password": "y".repeat(5_000)}),
    ] {
        let answer = harness
            .call("POST", "/api/v1/session", &Auth::None, Some(body))
            .await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{}",
            answer.text
        );
    }
    assert!(
        !harness
            .audit_actions()
            .await
            .iter()
            .any(|a| a == "session.login_failed")
    );
}

#[tokio::test]
async fn tokens_lose_their_authority_with_the_person_who_made_them() {
    let harness = Harness::new().await;
    let admin = user_name("a", Role::OrganisationAdmin);
    harness.set_password(&admin).await;
    let (cookie, csrf) = harness.sign_in(&admin).await;
    let session = Auth::Session {
        cookie,
        csrf: Some(csrf),
    };
    let created = harness
        .call("POST", "/api/v1/tokens", &session, Some(json!({"name": "spare key", "organisation": "trust-a", "role": "organisation_admin"})))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let token = Auth::Bearer(created.json["secret"].as_str().expect("secret").to_owned());
    assert_eq!(
        harness
            .call("GET", "/api/v1/users", &token, None)
            .await
            .status,
        StatusCode::OK
    );
    let admin_id = harness
        .call(
            "GET",
            "/api/v1/users",
            &harness.bearer(Role::NationalAdmin),
            None,
        )
        .await
        .json
        .as_array()
        .expect("users")
        .iter()
        .find(|user| user["user_name"] == admin.as_str())
        .and_then(|user| user["id"].as_i64())
        .expect("the admin's id");
    let demoted = harness
        .call(
            "PATCH",
            &format!("/api/v1/users/{admin_id}"),
            &harness.bearer(Role::NationalAdmin),
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(demoted.status, StatusCode::OK, "{}", demoted.text);
    assert_eq!(
        harness
            .call("GET", "/api/v1/users", &token, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Tokens made by others are untouched.
    assert_eq!(
        harness
            .call(
                "GET",
                "/api/v1/users",
                &harness.bearer(Role::OrganisationAdmin),
                None
            )
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_audit_trail_is_read_in_pages_within_the_callers_organisation() {
    let harness = Harness::new().await;
    // Refusals by Trust A, Trust B and anonymous callers.
    harness
        .call("GET", "/api/v1/users", &harness.bearer(Role::Viewer), None)
        .await;
    harness
        .call(
            "GET",
            "/api/v1/users",
            &Auth::Bearer(harness.trust_b_ai_lead.clone()),
            None,
        )
        .await;
    harness
        .call("GET", "/api/v1/users", &Auth::None, None)
        .await;
    let officer = harness.bearer(Role::ClinicalSafetyOfficer);
    let mut seen = Vec::new();
    let mut before: Option<u64> = None;
    loop {
        let path = match before {
            Some(before) => format!("/api/v1/audit?limit=2&before={before}"),
            None => "/api/v1/audit?limit=2".to_owned(),
        };
        let page = harness.call("GET", &path, &officer, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let entries = page.json["entries"].as_array().expect("entries").clone();
        assert!(entries.len() <= 2);
        seen.extend(entries);
        match page.json["next_before"].as_u64() {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    let sequences: Vec<u64> = seen.iter().filter_map(|e| e["sequence"].as_u64()).collect();
    assert!(
        sequences.windows(2).all(|pair| pair[0] > pair[1]),
        "newest first: {sequences:?}"
    );
    assert!(
        seen.iter()
            .all(|e| e["organisation"] == "trust-a" || e["organisation"] == "trust-a-main"),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|e| e["action"] == "access.denied"),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|e| e["action"] == "evaluation.add"),
        "{seen:?}"
    );
    let national = harness
        .call(
            "GET",
            "/api/v1/audit?limit=1000",
            &harness.bearer(Role::NationalAdmin),
            None,
        )
        .await;
    let everyone = national.json["entries"].as_array().expect("entries");
    assert!(everyone.iter().any(|e| e["actor"] == "anonymous"));
    assert!(everyone.iter().any(|e| e["organisation"] == "trust-b"));
    let too_many = harness
        .call("GET", "/api/v1/audit?limit=5000", &officer, None)
        .await;
    assert_eq!(
        too_many.status,
        StatusCode::BAD_REQUEST,
        "{}",
        too_many.text
    );
}

#[tokio::test]
async fn people_change_their_own_password_with_the_current_one() {
    let harness = Harness::new().await;
    let viewer = user_name("a", Role::Viewer);
    harness.set_password(&viewer).await;
    let (cookie, csrf) = harness.sign_in(&viewer).await;
    let session = Auth::Session {
        cookie,
        csrf: Some(csrf),
    };
    let wrong = harness
        .call(
            "PUT",
            "/api/v1/session/password",
            &session,
            Some(json!({"current_password": "not it at all", "new_password": "a brand new passphrase"})),
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "refused"),
        "{}",
        wrong.text
    );
    let changed = harness
        .call(
            "PUT",
            "/api/v1/session/password",
            &session,
            Some(json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.text);
    assert_eq!(
        harness
            .call("GET", "/api/v1/session", &session, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let old = harness
        .call(
            "POST",
            "/api/v1/session",
            &Auth::None,
            Some(json!({"user_name": viewer, "password": PASSWORD})),
        )
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = harness
        .call(
            "POST",
            "/api/v1/session",
            &Auth::None,
            Some(json!({"user_name": viewer, "password": "a brand new passphrase"})),
        )
        .await;
    assert_eq!(new.status, StatusCode::OK, "{}", new.text);
    let by_token = harness
        .call(
            "PUT",
            "/api/v1/session/password",
            &harness.bearer(Role::Viewer),
            Some(json!({"current_password": "x", "new_password": "a brand new passphrase"})),
        )
        .await;
    assert_eq!(
        by_token.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        by_token.text
    );
}

/// NDJSON events `e{first}`… with case identifiers `ACC{n}`.
fn event_lines(ids: std::ops::Range<u32>) -> String {
    ids.map(|id| {
        format!(
            r#"{{"event_id": "e{id}", "case_id": "ACC{id}", "occurred_at": "2026-11-30T10:00:00Z", "model_version": "2.3.0", "score": 0.{id:02}, "sex": "F", "scanner_model": "Ysio Max"}}"#
        )
    })
    .collect::<Vec<_>>()
    .join("\n")
}

async fn send_events(
    harness: &Harness,
    deployment: i64,
    content_type: &str,
    body: Vec<u8>,
    auth: &Auth,
    gzip_it: bool,
) -> support::Answer {
    send_batch(
        harness,
        deployment,
        "events",
        content_type,
        body,
        auth,
        gzip_it,
    )
    .await
}

async fn send_batch(
    harness: &Harness,
    deployment: i64,
    kind: &str,
    content_type: &str,
    body: Vec<u8>,
    auth: &Auth,
    gzip_it: bool,
) -> support::Answer {
    let mut request = Request::builder()
        .method("POST")
        .uri(format!("/api/v1/deployments/{deployment}/{kind}"))
        .header(header::CONTENT_TYPE, content_type);
    if let Auth::Bearer(secret) = auth {
        request = request.header(header::AUTHORIZATION, format!("Bearer {secret}"));
    }
    let body = if gzip_it {
        request = request.header(header::CONTENT_ENCODING, "gzip");
        gzip(&body)
    } else {
        body
    };
    harness
        .send(request.body(Body::from(body)).expect("request"))
        .await
}

#[tokio::test]
async fn event_batches_are_stored_once_all_or_nothing_and_aggregated() {
    let harness = Harness::new().await;
    let feed = harness.bearer(Role::AiLead);
    let first = send_events(
        &harness,
        harness.deployment_a,
        "application/x-ndjson",
        event_lines(1..41).into_bytes(),
        &feed,
        false,
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(
        (
            first.json["received"].as_u64(),
            first.json["stored"].as_u64()
        ),
        (Some(40), Some(40))
    );
    // Resent, gzipped: nothing is stored twice.
    let again = send_events(
        &harness,
        harness.deployment_a,
        "application/x-ndjson",
        event_lines(1..41).into_bytes(),
        &feed,
        true,
    )
    .await;
    assert_eq!(
        (
            again.json["stored"].as_u64(),
            again.json["duplicates"].as_u64()
        ),
        (Some(0), Some(40)),
        "{}",
        again.text
    );
    // CSV, overlapping.
    // e40 again, exactly as before, and a new e41.
    let csv = "event_id,case_id,occurred_at,model_version,score,decision,sex,scanner_model\n\
               e40,ACC40,2026-11-30T10:00:00Z,2.3.0,0.40,,F,Ysio Max\n\
               e41,ACC41,2026-12-01T08:00:00Z,2.3.0,0.9,negative,,\n";
    let mixed = send_events(
        &harness,
        harness.deployment_a,
        "text/csv",
        csv.as_bytes().to_vec(),
        &feed,
        false,
    )
    .await;
    assert_eq!(
        (
            mixed.json["stored"].as_u64(),
            mixed.json["duplicates"].as_u64()
        ),
        (Some(1), Some(1)),
        "{}",
        mixed.text
    );
    // One bad row refuses the whole batch, naming it.
    let mut bad = event_lines(100..110);
    bad.push_str("\n{\"event_id\": \"e200\", \"case_id\": \"ACC-CANARY-77\", \"occurred_at\": \"2026-11-30T10:00:00Z\", \"model_version\": \"2.3.0\", \"score\": 1.7}");
    let refused = send_events(
        &harness,
        harness.deployment_a,
        "application/x-ndjson",
        bad.into_bytes(),
        &feed,
        false,
    )
    .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::BAD_REQUEST, "invalid_request"),
        "{}",
        refused.text
    );
    assert_eq!(refused.json["error"]["details"]["errors"][0]["row"], 11);
    assert_eq!(
        refused.json["error"]["details"]["errors"][0]["field"],
        "score"
    );
    assert!(
        refused
            .text
            .contains(r#"row 11: \"score\" 1.7 is outside [0, 1]"#),
        "{}",
        refused.text
    );
    assert!(!refused.text.contains("CANARY"), "{}", refused.text);
    let aggregates = harness
        .call(
            "GET",
            &format!("/api/v1/deployments/{}/aggregates", harness.deployment_a),
            &harness.bearer(Role::Viewer),
            None,
        )
        .await;
    let days = aggregates.json.as_array().expect("days");
    assert_eq!(days.len(), 2, "{}", aggregates.text);
    assert_eq!(days[0]["day"], "2026-11-30");
    assert_eq!(days[0]["events"], 40, "none of the refused batch");
    assert_eq!(days[0]["categories"]["sex"]["female"], 40);
    assert_eq!(
        days[0]["score_histogram"].as_array().map(Vec::len),
        Some(20)
    );
    assert_eq!(days[1]["positive_decisions"], 0);
    assert_eq!(days[1]["decided"], 1);
    // Another Trust's deployment does not exist for this feed.
    let elsewhere = send_events(
        &harness,
        harness.deployment_b,
        "application/x-ndjson",
        event_lines(1..3).into_bytes(),
        &feed,
        false,
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    let wrong_type = send_events(
        &harness,
        harness.deployment_a,
        "application/json",
        b"{}".to_vec(),
        &feed,
        false,
    )
    .await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // No case identifier reaches the database.
    let stored: Vec<String> =
        sqlx_rows(&harness, "SELECT case_pseudonym FROM inference_events").await;
    assert_eq!(stored.len(), 41);
    assert!(
        stored.iter().all(|case| case.starts_with("psn:")),
        "{stored:?}"
    );
    // An event resent with other content is a conflict, and nothing of its
    // batch is stored.
    let changed = event_lines(1..2).replace("0.01", "0.02") + "\n" + &event_lines(300..301);
    let conflict = send_events(
        &harness,
        harness.deployment_a,
        "application/x-ndjson",
        changed.into_bytes(),
        &feed,
        false,
    )
    .await;
    assert_eq!(
        (conflict.status, conflict.code()),
        (StatusCode::CONFLICT, "conflict"),
        "{}",
        conflict.text
    );
    let types: Vec<String> = sqlx_rows(
        &harness,
        "SELECT DISTINCT typeof(score) || ',' || typeof(decision) || ',' || typeof(sex) FROM inference_events ORDER BY 1",
    )
    .await;
    assert_eq!(
        types,
        ["real,integer,null", "real,null,text"],
        "values keep their types"
    );
    let dump: Vec<String> = sqlx_rows(
        &harness,
        &format!(
            "SELECT {} || case_pseudonym FROM inference_events",
            vigil_store_sqlite::SqliteStore::EVENT_ID_TEXT
        ),
    )
    .await;
    assert!(dump.iter().all(|row| !row.contains("ACC")), "{dump:?}");
    let event_id_types: Vec<String> = sqlx_rows(
        &harness,
        "SELECT DISTINCT typeof(event_id) || ',' || length(event_id) FROM inference_events",
    )
    .await;
    assert_eq!(
        event_id_types,
        ["blob,16"],
        "event ids, keyed hashes, are kept as their 16 bytes"
    );
}

#[tokio::test]
async fn outcomes_reach_the_days_of_their_events_all_or_nothing() {
    let harness = Harness::new().await;
    let feed = harness.bearer(Role::AiLead);
    // Events 1-10 on 30 November: scores 0.01-0.10, decisions positive for
    // even ids.
    let events = (1..11)
        .map(|id| {
            format!(
                r#"{{"event_id": "e{id}", "case_id": "ACC{id}", "occurred_at": "2026-11-30T10:00:00Z", "model_version": "2.3.0", "score": 0.{id:02}, "decision": {}}}"#,
                id % 2 == 0
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let stored = send_events(
        &harness,
        harness.deployment_a,
        "application/x-ndjson",
        events.into_bytes(),
        &feed,
        false,
    )
    .await;
    assert_eq!(stored.status, StatusCode::OK, "{}", stored.text);
    // Cases 1-4 positive by report, 5-8 negative; case 2 negative by
    // pathology, which overrides its report.
    let mut csv = String::from("case_id,label,source,recorded_at,reader_agrees\n");
    for id in 1..9 {
        csv.push_str(&format!(
            "ACC{id},{},report,2026-12-01T09:00:00Z,\n",
            if id <= 4 { "positive" } else { "negative" }
        ));
    }
    csv.push_str("ACC2,negative,pathology,2026-12-01T10:00:00Z,\n");
    csv.push_str("ACC9,positive,reader,2026-12-01T10:00:00Z,disagree\n");
    let answer = send_batch(
        &harness,
        harness.deployment_a,
        "outcomes",
        "text/csv",
        csv.clone().into_bytes(),
        &feed,
        true,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        (
            answer.json["received"].as_u64(),
            answer.json["stored"].as_u64(),
            answer.json["events_updated"].as_u64()
        ),
        (Some(10), Some(10), Some(9))
    );
    let again = send_batch(
        &harness,
        harness.deployment_a,
        "outcomes",
        "text/csv",
        csv.into_bytes(),
        &feed,
        false,
    )
    .await;
    assert_eq!(
        (
            again.json["stored"].as_u64(),
            again.json["duplicates"].as_u64(),
            again.json["events_updated"].as_u64()
        ),
        (Some(0), Some(10), Some(0)),
        "{}",
        again.text
    );
    let aggregates = harness
        .call(
            "GET",
            &format!("/api/v1/deployments/{}/aggregates", harness.deployment_a),
            &harness.bearer(Role::Viewer),
            None,
        )
        .await;
    let outcomes = &aggregates.json[0]["outcomes"];
    // Truth: 1, 3, 4, 9 positive; 2, 5-8 negative. Decisions: even ids positive.
    assert_eq!(outcomes["labelled"], 9, "{}", aggregates.text);
    assert_eq!(outcomes["positives"], 4);
    assert_eq!(outcomes["true_positives"], 1, "case 4");
    assert_eq!(outcomes["false_negatives"], 3, "cases 1, 3, 9");
    assert_eq!(outcomes["false_positives"], 3, "cases 2, 6, 8");
    assert_eq!(outcomes["true_negatives"], 2, "cases 5, 7");
    assert_eq!(
        (
            outcomes["reader_reviewed"].as_u64(),
            outcomes["reader_disagreed"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(
        outcomes["positive_scores"][1], 1,
        "case 1 (0.01) and 3 (0.03) fall in bin 1 and 3"
    );
    assert_eq!(
        outcomes["negative_scores"].as_array().map(Vec::len),
        Some(100)
    );
    // A bad batch is refused whole and changes nothing.
    let bad = "{\"case_id\": \"ACC-CANARY-5\", \"label\": \"positive\", \"source\": \"pathology\", \"recorded_at\": \"2026-12-01T10:00:00Z\"}\n\
               {\"case_id\": \"ACC6\", \"label\": \"perhaps\", \"source\": \"report\", \"recorded_at\": \"2026-12-01T10:00:00Z\"}";
    let refused = send_batch(
        &harness,
        harness.deployment_a,
        "outcomes",
        "application/x-ndjson",
        bad.as_bytes().to_vec(),
        &feed,
        false,
    )
    .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::BAD_REQUEST, "invalid_request"),
        "{}",
        refused.text
    );
    assert_eq!(
        refused.json["error"]["details"]["errors"][0]["field"],
        "label"
    );
    assert!(!refused.text.contains("CANARY"), "{}", refused.text);
    let unchanged = harness
        .call(
            "GET",
            &format!("/api/v1/deployments/{}/aggregates", harness.deployment_a),
            &harness.bearer(Role::Viewer),
            None,
        )
        .await;
    assert_eq!(unchanged.json, aggregates.json);
    // A changed outcome is a conflict; another Trust's deployment is not found.
    let changed = "case_id,label,source,recorded_at\nACC5,positive,report,2026-12-01T09:00:00Z\n";
    let conflict = send_batch(
        &harness,
        harness.deployment_a,
        "outcomes",
        "text/csv",
        changed.as_bytes().to_vec(),
        &feed,
        false,
    )
    .await;
    assert_eq!(conflict.status, StatusCode::CONFLICT, "{}", conflict.text);
    let elsewhere = send_batch(
        &harness,
        harness.deployment_b,
        "outcomes",
        "text/csv",
        changed.as_bytes().to_vec(),
        &feed,
        false,
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    let dump: Vec<String> = sqlx_rows(&harness, "SELECT case_pseudonym FROM outcomes").await;
    assert_eq!(dump.len(), 10);
    assert!(dump.iter().all(|case| case.starts_with("psn:")), "{dump:?}");
}

#[tokio::test]
async fn without_a_key_only_pseudonyms_are_accepted() {
    let harness = Harness::with_config(ServerConfig::default()).await;
    let feed = harness.bearer(Role::AiLead);
    let refused = send_events(
        &harness,
        harness.deployment_a,
        "application/x-ndjson",
        event_lines(1..3).into_bytes(),
        &feed,
        false,
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(
        refused.text.contains("is not a pseudonym"),
        "{}",
        refused.text
    );
    let pseudonym = vigil_domain::pseudonymise(
        &vigil_domain::PseudonymKey::from_bytes([5; 32]),
        vigil_domain::IdentifierKind::Accession,
        "ACC1",
    )
    .expect("pseudonym");
    let line = event_lines(1..2).replace("ACC1", pseudonym.as_str());
    let accepted = send_events(
        &harness,
        harness.deployment_a,
        "application/x-ndjson",
        line.into_bytes(),
        &feed,
        false,
    )
    .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
}

#[tokio::test]
async fn verification_reads_one_snapshot_and_catches_tables_edited_behind_its_back() {
    let harness = Harness::new().await;
    let national = harness
        .call(
            "GET",
            "/api/v1/audit/verify",
            &harness.bearer(Role::NationalAdmin),
            None,
        )
        .await;
    assert_eq!(national.json["status"], "intact", "{}", national.text);
    sqlx::query("UPDATE deployments SET state = 'live' WHERE id = $1")
        .bind(harness.deployment_a)
        .execute(harness.store.pool())
        .await
        .expect("edit the table");
    let national = harness
        .call(
            "GET",
            "/api/v1/audit/verify",
            &harness.bearer(Role::NationalAdmin),
            None,
        )
        .await;
    assert_eq!(national.json["status"], "broken", "{}", national.text);
    let problem = national.json["problem"].as_str().expect("the problem");
    assert!(
        problem.contains("state is \"live\" in the table"),
        "{problem}"
    );
    let officer = harness
        .call(
            "GET",
            "/api/v1/audit/verify",
            &harness.bearer(Role::ClinicalSafetyOfficer),
            None,
        )
        .await;
    assert_eq!(officer.json["status"], "broken");
    assert!(officer.json["problem"].is_null(), "{}", officer.text);
}

#[tokio::test]
async fn rules_are_versioned_assessments_raise_alerts_and_people_move_them_on() {
    let harness = Harness::new().await;
    let lead = harness.bearer(Role::AiLead);
    let rules_path = format!("/api/v1/deployments/{}/rules", harness.deployment_a);
    let none = harness.call("GET", &rules_path, &lead, None).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND, "{}", none.text);
    // A rule set with a problem is refused, naming it.
    let bad = harness
        .call(
            "PUT",
            &rules_path,
            &lead,
            Some(json!({"rules_toml": "[baseline]\nsource = \"hand\"\npositive_rate = 1.5\n", "reason": "first", "expected_version": 0})),
        )
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::BAD_REQUEST, "invalid_request"),
        "{}",
        bad.text
    );
    assert!(
        bad.text
            .contains("baseline positive_rate 1.5 is outside [0, 1]"),
        "{}",
        bad.text
    );
    let toml = "[baseline]\nsource = \"validation 1\"\npositive_rate = 0.2\n\n[[rules]]\nid = \"rate\"\nwindow_days = 7\nminimum_cases = 20\ntest = { kind = \"positive_rate\", tolerance = 0.05 }\n";
    let first = harness
        .call(
            "PUT",
            &rules_path,
            &lead,
            Some(json!({"rules_toml": toml, "reason": "first rules", "expected_version": 0})),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.json["version"], 1);
    assert_eq!(
        first.json["rules"]["rules"][0]["test"]["kind"],
        "positive_rate"
    );
    let stale = harness
        .call(
            "PUT",
            &rules_path,
            &lead,
            Some(json!({"rules": first.json["rules"], "reason": "again", "expected_version": 0})),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text);
    // 30 events on 30 November, 15 positive: a rate of 0.5 against 0.2.
    let events = (1..31)
        .map(|id| {
            format!(
                r#"{{"event_id": "r{id}", "case_id": "ACC{id}", "occurred_at": "2026-11-30T10:00:00Z", "model_version": "2.3.0", "decision": {}}}"#,
                id % 2 == 0
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let sent = send_events(
        &harness,
        harness.deployment_a,
        "application/x-ndjson",
        events.into_bytes(),
        &lead,
        false,
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    let assessment_path = format!("/api/v1/deployments/{}/assessment", harness.deployment_a);
    let read_only = harness
        .call(
            "GET",
            &format!("{assessment_path}?as_of=2026-11-30"),
            &harness.bearer(Role::Viewer),
            None,
        )
        .await;
    assert_eq!(
        read_only.json["assessments"][0]["verdict"], "signal",
        "{}",
        read_only.text
    );
    assert_eq!(read_only.json["raised"].as_array().map(Vec::len), Some(0));
    let run = harness
        .call(
            "POST",
            &assessment_path,
            &lead,
            Some(json!({"as_of": "2026-11-30"})),
        )
        .await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.text);
    let evidence = &run.json["assessments"][0]["evidence"];
    assert_eq!(evidence["value"], 0.5);
    assert_eq!(evidence["cases"], 30);
    assert_eq!(evidence["baseline"], 0.2);
    // The harness's deployment already has an open alert of another rule
    // ("positive-rate"); this rule ("rate") raises its own.
    let raised = &run.json["raised"][0];
    assert_eq!(
        (raised["rule"].as_str(), raised["state"].as_str()),
        (Some("rate"), Some("raised"))
    );
    let alert = raised["id"].as_i64().expect("alert id");
    let again = harness
        .call(
            "POST",
            &assessment_path,
            &lead,
            Some(json!({"as_of": "2026-11-30"})),
        )
        .await;
    assert_eq!(
        again.json["raised"].as_array().map(Vec::len),
        Some(0),
        "one open alert a rule"
    );
    // A viewer may not acknowledge; a clinician may; the CSO resolves.
    let note = Some(json!({"note": "checking the protocol change"}));
    let viewer = harness
        .call(
            "POST",
            &format!("/api/v1/alerts/{alert}/acknowledge"),
            &harness.bearer(Role::Viewer),
            note.clone(),
        )
        .await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);
    let early = harness
        .call(
            "POST",
            &format!("/api/v1/alerts/{alert}/resolve"),
            &harness.bearer(Role::ClinicalSafetyOfficer),
            note.clone(),
        )
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.text);
    let acknowledged = harness
        .call(
            "POST",
            &format!("/api/v1/alerts/{alert}/acknowledge"),
            &harness.bearer(Role::Clinician),
            note,
        )
        .await;
    assert_eq!(
        acknowledged.json["state"], "acknowledged",
        "{}",
        acknowledged.text
    );
    let resolved = harness
        .call(
            "POST",
            &format!("/api/v1/alerts/{alert}/resolve"),
            &harness.bearer(Role::ClinicalSafetyOfficer),
            Some(json!({"note": "protocol restored"})),
        )
        .await;
    assert_eq!(resolved.json["state"], "resolved", "{}", resolved.text);
    assert_eq!(resolved.json["resolution"], "protocol restored");
    let listed = harness
        .call(
            "GET",
            &format!("/api/v1/deployments/{}/alerts", harness.deployment_a),
            &harness.bearer(Role::Viewer),
            None,
        )
        .await;
    assert_eq!(listed.json.as_array().map(Vec::len), Some(2));
    let actions = harness.audit_actions().await;
    for action in [
        "rules.set",
        "alert.raise",
        "alert.acknowledge",
        "alert.resolve",
    ] {
        assert!(
            actions.iter().any(|recorded| recorded == action),
            "{action}"
        );
    }
    // Only an open alert that proposes suspension may be cited, and only
    // for a suspension (decisions are made by people signed in).
    let recorder = user_name("a", Role::ProcurementLead);
    harness.set_password(&recorder).await;
    let (cookie, csrf) = harness.sign_in(&recorder).await;
    let person = Auth::Session {
        cookie,
        csrf: Some(csrf),
    };
    let cited = harness
        .call(
            "POST",
            &format!("/api/v1/deployments/{}/transitions", harness.deployment_a),
            &person,
            Some(json!({"from": "proposed", "to": "procurement", "revision": 0, "rationale": "alerted", "alert": alert})),
        )
        .await;
    assert_eq!(cited.status, StatusCode::BAD_REQUEST, "{}", cited.text);
    assert!(
        cited
            .text
            .contains("is resolved or does not propose suspension"),
        "{}",
        cited.text
    );
    let proposing = harness
        .call(
            "POST",
            &format!("/api/v1/deployments/{}/transitions", harness.deployment_a),
            &person,
            Some(json!({"from": "proposed", "to": "procurement", "revision": 0, "rationale": "alerted", "alert": harness.alert_a})),
        )
        .await;
    assert_eq!(
        proposing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        proposing.text
    );
    assert!(
        proposing.text.contains("live → suspended"),
        "{}",
        proposing.text
    );
}

#[tokio::test]
async fn webhooks_are_checked_and_the_funnel_shows_only_what_the_caller_may_see() {
    let harness = Harness::new().await;
    let cso = harness.bearer(Role::ClinicalSafetyOfficer);
    let refused = harness
        .call("POST", "/api/v1/webhooks", &cso, Some(json!({"organisation": "trust-a", "url": "ftp://example", "secret": "a long shared secret"})))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    let short = harness
        .call("POST", "/api/v1/webhooks", &cso, Some(json!({"organisation": "trust-a", "url": "https://hooks.example/x", "secret": "short"})))
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST, "{}", short.text);
    for local in [
        "http://127.0.0.1:5432/",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0/",
    ] {
        let refused = harness
            .call(
                "POST",
                "/api/v1/webhooks",
                &cso,
                Some(json!({"organisation": "trust-a", "url": local, "secret": "a long shared secret"})),
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{local}: {}",
            refused.text
        );
        assert!(
            refused.text.contains("points at this machine"),
            "{}",
            refused.text
        );
    }
    let elsewhere = harness
        .call("POST", "/api/v1/webhooks", &cso, Some(json!({"organisation": "trust-b", "url": "https://hooks.example/x", "secret": "a long shared secret"})))
        .await;
    assert_eq!(
        elsewhere.status,
        StatusCode::NOT_FOUND,
        "{}",
        elsewhere.text
    );
    let added = harness
        .call("POST", "/api/v1/webhooks", &cso, Some(json!({"organisation": "trust-a", "url": "https://hooks.example/x", "secret": "a long shared secret"})))
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    assert!(!added.text.contains("shared secret"));
    let listed = harness.call("GET", "/api/v1/webhooks", &cso, None).await;
    assert_eq!(
        listed.json.as_array().map(Vec::len),
        Some(1),
        "{}",
        listed.text
    );
    // Decisions at both Trusts: A 8 of 40 positive, B 32 of 40.
    for (deployment, auth, positives) in [
        (harness.deployment_a, harness.bearer(Role::AiLead), 8),
        (
            harness.deployment_b,
            Auth::Bearer(harness.trust_b_ai_lead.clone()),
            32,
        ),
    ] {
        let events = (0..40)
            .map(|id| {
                format!(
                    r#"{{"event_id": "f{id}", "case_id": "ACC{id}", "occurred_at": "2026-11-20T10:00:00Z", "model_version": "2.3.0", "decision": {}}}"#,
                    id < positives
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        let sent = send_events(
            &harness,
            deployment,
            "application/x-ndjson",
            events.into_bytes(),
            &auth,
            false,
        )
        .await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    }
    let path = format!(
        "/api/v1/products/{}/funnel?from=2026-11-01&to=2026-11-30",
        harness.product
    );
    let national = harness
        .call("GET", &path, &harness.bearer(Role::NationalAdmin), None)
        .await;
    assert_eq!(national.json["target"], 0.5, "{}", national.text);
    let units = national.json["units"].as_array().expect("units");
    assert_eq!(units.len(), 2);
    assert_eq!(units[0]["proportion"], 0.2);
    // 8 of 40 against 0.5 lies below the 99.8% limits.
    assert_eq!(units[0]["position_998"], "below", "{}", national.text);
    assert_eq!(units[1]["position_998"], "above");
    let trust = harness
        .call("GET", &path, &harness.bearer(Role::Viewer), None)
        .await;
    let units = trust.json["units"].as_array().expect("units");
    assert_eq!(units.len(), 1, "{}", trust.text);
    assert_eq!(units[0]["deployment"], harness.deployment_a);
    // Aggregates sum by addition: the nation's day is the two Trusts' days.
    let summed = |auth: Auth, code: &str| {
        let path = format!(
            "/api/v1/organisations/{code}/aggregates?product={}&from=2026-11-01&to=2026-11-30",
            harness.product
        );
        let harness = &harness;
        async move { harness.call("GET", &path, &auth, None).await }
    };
    let nation = summed(harness.bearer(Role::NationalAdmin), "england").await;
    assert_eq!(nation.status, StatusCode::OK, "{}", nation.text);
    assert_eq!(nation.json[0]["events"], 80, "{}", nation.text);
    assert_eq!(nation.json[0]["positive_decisions"], 40);
    assert_eq!(nation.json[0]["model_version"], "all");
    let own = summed(harness.bearer(Role::Viewer), "trust-a").await;
    assert_eq!(own.json[0]["events"], 40, "{}", own.text);
    let hidden = summed(harness.bearer(Role::Viewer), "trust-b").await;
    let missing = summed(harness.bearer(Role::Viewer), "trust-z").await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(
        hidden.text.replace("trust-b", "X"),
        missing.text.replace("trust-z", "X")
    );
    // A bad day is named by its own field.
    let bad_day = harness
        .call(
            "GET",
            &format!("/api/v1/products/{}/funnel?to=30/11/2026", harness.product),
            &harness.bearer(Role::Viewer),
            None,
        )
        .await;
    assert_eq!(bad_day.status, StatusCode::BAD_REQUEST);
    assert!(
        bad_day.text.contains("to: is not a date"),
        "{}",
        bad_day.text
    );
    let bad_metric = harness
        .call(
            "GET",
            &format!("{path}&metric=vibes"),
            &harness.bearer(Role::Viewer),
            None,
        )
        .await;
    assert_eq!(bad_metric.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn success_criteria_are_registered_before_go_live_and_the_audit_answers() {
    use vigil_domain::{
        IdentifierKind, LifecycleState, ReportChannel, ReportStatus, ReportTiming, SignOff,
        SignOffPolicy, TransitionRequest,
    };
    use vigil_store::{Actor, ChangeContext, DeploymentId};
    let harness = Harness::new().await;
    let lead = harness.bearer(Role::AiLead);
    let id = harness.deployment_a;
    let criteria_path = format!("/api/v1/deployments/{id}/success-criteria");
    let audit_path = format!("/api/v1/deployments/{id}/productivity");
    // Registers a flagged-case reduction of `minutes` as `auth`.
    let register = |auth: Auth, minutes: f64, rationale: &'static str| {
        let body = json!({
            "criteria": [{"kind": "median_turnaround_reduction", "cases": "flagged", "minutes": minutes}],
            "rationale": rationale,
        });
        let path = criteria_path.clone();
        let harness = &harness;
        async move { harness.call("PUT", &path, &auth, Some(body)).await }
    };
    let none = harness.call("GET", &criteria_path, &lead, None).await;
    assert_eq!(
        (none.status, none.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    // Bad criteria are refused, each problem named, and nothing is stored.
    for (criteria, expected) in [
        (
            json!([{"kind": "median_turnaround_reduction", "cases": "flagged", "minutes": -5}]),
            "criterion 1: a turnaround reduction of -5 minutes",
        ),
        (
            json!([{"kind": "fewer_recalls"}]),
            "is not a list of success criteria",
        ),
        (json!([]), "must hold between 1 and 20 criteria"),
    ] {
        let refused = harness
            .call(
                "PUT",
                &criteria_path,
                &lead,
                Some(json!({"criteria": criteria, "rationale": "a bar"})),
            )
            .await;
        assert_eq!(
            (refused.status, refused.code()),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{}",
            refused.text
        );
        assert!(refused.text.contains(expected), "{}", refused.text);
    }
    let viewer = register(harness.bearer(Role::Viewer), 5.0, "a bar").await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);
    let registrations = |actions: Vec<String>| {
        actions
            .iter()
            .filter(|action| *action == "criteria.register")
            .count()
    };
    // Trust B's registration, made when the harness was built, only.
    assert_eq!(registrations(harness.audit_actions().await), 1);
    let registered = register(
        lead.clone(),
        30.0,
        "Flagged studies reported half an hour sooner",
    )
    .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.text
    );
    assert_eq!(registered.json["version"], 1);
    assert_eq!(registered.json["criteria"][0]["minutes"], 30.0);
    let read = harness.call("GET", &criteria_path, &lead, None).await;
    assert_eq!(read.json, registered.json);
    assert_eq!(registrations(harness.audit_actions().await), 2);

    // Thirty cases with reports before go-live: described, not judged.
    let sent = send_events(
        &harness,
        id,
        "application/x-ndjson",
        event_lines(0..30).into_bytes(),
        &lead,
        false,
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    let key = vigil_domain::PseudonymKey::from_bytes([5; 32]);
    let examined: jiff::Timestamp = "2026-11-30T10:00:00Z".parse().expect("time");
    let timings: Vec<ReportTiming> = (0..30)
        .map(|index| {
            let case =
                vigil_domain::pseudonymise(&key, IdentifierKind::Accession, &format!("ACC{index}"))
                    .expect("pseudonym");
            ReportTiming::new(
                case,
                ReportStatus::Final,
                Some(examined),
                examined + jiff::SignedDuration::from_mins(90 + index),
            )
            .expect("times")
        })
        .collect();
    harness
        .store
        .record_report_times(
            &support::code("trust-a"),
            ReportChannel::Fhir,
            jiff::Timestamp::now(),
            &timings,
        )
        .await
        .expect("report times");
    let before = harness.call("GET", &audit_path, &lead, None).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);
    assert_eq!(before.json["trust"], "trust-a");
    let audit = &before.json["audit"];
    assert_eq!(audit["audited_cases"], 30);
    assert_eq!(audit["all_cases"]["before"]["cases"], 30);
    assert_eq!(audit["all_cases"]["before"]["median"], 90.0 + 14.5);
    assert_eq!(audit["recommendation"], "not_live");
    let first = harness
        .call(
            "GET",
            &format!("{audit_path}?milestone=first_report"),
            &lead,
            None,
        )
        .await;
    assert_eq!(first.json["audit"]["milestone"], "first_report");
    let bad = harness
        .call("GET", &format!("{audit_path}?milestone=soon"), &lead, None)
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );

    // Live: the criteria stand, no new ones are taken, and the audit judges
    // against them (no case after go-live yet: keep collecting).
    let actor = Actor {
        name: support::text("trust-a.ai-lead"),
        role: Role::AiLead,
        organisation: support::code("trust-a"),
    };
    let path = [
        LifecycleState::Proposed,
        LifecycleState::Procurement,
        LifecycleState::Validation,
        LifecycleState::Shadow,
        LifecycleState::Live,
    ];
    harness.pass_assessment_a().await;
    for pair in path.windows(2) {
        harness
            .store
            .transition(
                &ChangeContext::at(actor.clone(), jiff::Timestamp::now()),
                DeploymentId(id),
                TransitionRequest {
                    from: pair[0],
                    to: pair[1],
                    sign_offs: SignOffPolicy::default()
                        .required_roles(pair[0], pair[1], false)
                        .into_iter()
                        .map(|role| SignOff {
                            actor: support::text(&format!("{}-signer", role.as_str())),
                            role,
                        })
                        .collect(),
                    rationale: support::text("agreed at the AI governance board"),
                    evidence: Vec::new(),
                    proposed_by_alert: false,
                },
                None,
            )
            .await
            .expect("transition");
    }
    let late = register(lead.clone(), 1.0, "a lower bar").await;
    assert_eq!(
        (late.status, late.code()),
        (StatusCode::CONFLICT, "conflict"),
        "{}",
        late.text
    );
    assert!(
        late.text.contains("registered before go-live"),
        "{}",
        late.text
    );
    let live = harness.call("GET", &audit_path, &lead, None).await;
    let audit = &live.json["audit"];
    assert_eq!(audit["criteria_registered_before_go_live"], true);
    assert_eq!(audit["verdicts"][0]["outcome"], "unavailable");
    assert_eq!(audit["recommendation"], "continue");
    assert_eq!(
        harness.call("GET", &criteria_path, &lead, None).await.json["version"],
        1
    );
}

#[tokio::test]
async fn the_hazard_log_is_checked_revised_and_reopened_by_alerts() {
    let harness = Harness::new().await;
    let officer = harness.bearer(Role::ClinicalSafetyOfficer);
    let lead = harness.bearer(Role::AiLead);
    let log_path = format!("/api/v1/deployments/{}/hazards", harness.deployment_a);
    let seeded = harness.call("GET", &log_path, &officer, None).await;
    assert_eq!(seeded.status, StatusCode::OK, "{}", seeded.text);
    assert_eq!(seeded.json.as_array().map(Vec::len), Some(1));
    // A residual risk above the initial one is refused, saying why.
    let mut worse = support::hazard_json("Wrong side");
    worse["residual"]["likelihood"] = json!("very_high");
    let refused = harness
        .call("POST", &log_path, &officer, Some(json!({"hazard": worse})))
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::BAD_REQUEST, "invalid_request"),
        "{}",
        refused.text
    );
    assert!(
        refused.text.contains("controls cannot add risk"),
        "{}",
        refused.text
    );
    let viewer = harness
        .call(
            "POST",
            &log_path,
            &harness.bearer(Role::Viewer),
            Some(json!({"hazard": support::hazard_json("Wrong side")})),
        )
        .await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);
    let added = harness
        .call(
            "POST",
            &log_path,
            &officer,
            Some(json!({"hazard": support::hazard_json("Wrong side")})),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    assert_eq!(
        (
            &added.json["revision"],
            &added.json["initial_rating"],
            &added.json["residual_rating"]
        ),
        (&json!(1), &json!(3), &json!(3))
    );
    let id = added.json["id"].as_i64().expect("an id");
    let hazard_path = format!("/api/v1/hazards/{id}");
    // Revisions: a stale one is a conflict; a current one is stored.
    let mut controlled = support::hazard_json("Wrong side");
    controlled["status"] = json!("controlled");
    controlled["residual"]["likelihood"] = json!("very_low");
    let stale = harness
        .call(
            "PUT",
            &hazard_path,
            &officer,
            Some(json!({"hazard": controlled, "reason": "controls verified", "expected_revision": 0})),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text);
    let revised = harness
        .call(
            "PUT",
            &hazard_path,
            &officer,
            Some(json!({"hazard": controlled, "reason": "controls verified", "expected_revision": 1})),
        )
        .await;
    assert_eq!(revised.status, StatusCode::OK, "{}", revised.text);
    assert_eq!(
        (&revised.json["status"], &revised.json["residual_rating"]),
        (&json!("controlled"), &json!(2))
    );
    // Trust B's alert is not Trust A's to link; Trust A's puts the hazard
    // under review, and resolving it records the reassessment.
    let link_b = harness
        .call(
            "POST",
            &format!("/api/v1/alerts/{}/hazards", harness.alert_b),
            &officer,
            Some(json!({"hazard": id, "note": "same cause?"})),
        )
        .await;
    assert_eq!(link_b.status, StatusCode::NOT_FOUND, "{}", link_b.text);
    let linked = harness
        .call(
            "POST",
            &format!("/api/v1/alerts/{}/hazards", harness.alert_a),
            &officer,
            Some(json!({"hazard": id, "note": "positive rate doubled since the detector changed"})),
        )
        .await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.text);
    assert_eq!(linked.json["status"], "under_review");
    assert_eq!(linked.json["alerts"], json!([harness.alert_a]));
    for step in ["acknowledge", "resolve"] {
        let moved = harness
            .call(
                "POST",
                &format!("/api/v1/alerts/{}/{step}", harness.alert_a),
                &lead,
                Some(json!({"note": "detector recalibrated; rate back to baseline"})),
            )
            .await;
        assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    }
    let settled = harness.call("GET", &hazard_path, &officer, None).await;
    assert_eq!(settled.json["status"], "controlled");
    let history = harness
        .call("GET", &format!("{hazard_path}/history"), &officer, None)
        .await;
    let reasons: Vec<&str> = history
        .json
        .as_array()
        .expect("revisions")
        .iter()
        .map(|revision| revision["reason"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert_eq!(reasons[0], "added to the hazard log");
    assert_eq!(reasons[1], "controls verified");
    assert!(
        reasons[2].starts_with("under review after alert"),
        "{reasons:?}"
    );
    assert_eq!(
        reasons[3],
        format!(
            "reassessed on resolving alert {}: detector recalibrated; rate back to baseline",
            harness.alert_a
        )
    );
    let actions = harness.audit_actions().await;
    for action in [
        "hazard.add",
        "hazard.update",
        "hazard.review",
        "hazard.reassess",
    ] {
        assert!(actions.contains(&action.to_owned()), "{action}");
    }

    // The safety case: made from the log, its evidence checked (Trust A's
    // deployment has no monitoring rules, so `rule:sensitivity` supports
    // nothing), signed by the clinical safety officer for the log as read.
    let case_path = format!("/api/v1/deployments/{}/safety-case", harness.deployment_a);
    let signatures_path = format!("{case_path}/signatures");
    let status = harness.call("GET", &signatures_path, &officer, None).await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.text);
    assert_eq!(
        (
            &status.json["signed"],
            &status.json["hazards"],
            &status.json["acceptable"]
        ),
        (&json!(false), &json!(2), &json!(false))
    );
    assert!(
        status
            .text
            .contains("names rule sensitivity, which is not among the monitoring rules in force"),
        "{}",
        status.text
    );
    let log = status.json["log_sha256"]
        .as_str()
        .expect("a digest")
        .to_owned();
    let page = harness.call("GET", &case_path, &officer, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.starts_with("<!DOCTYPE html>"));
    assert!(page.text.contains("Wrong side") && page.text.contains(&log));
    assert!(page.text.contains("Not yet signed"));
    let by_lead = harness
        .call(
            "POST",
            &signatures_path,
            &lead,
            Some(json!({"log_sha256": log, "statement": "acceptable"})),
        )
        .await;
    assert_eq!(by_lead.status, StatusCode::FORBIDDEN);
    let unread = harness
        .call(
            "POST",
            &signatures_path,
            &officer,
            Some(json!({"log_sha256": "ab".repeat(32), "statement": "acceptable"})),
        )
        .await;
    assert_eq!(unread.status, StatusCode::CONFLICT, "{}", unread.text);
    let signed = harness
        .call(
            "POST",
            &signatures_path,
            &officer,
            Some(json!({"log_sha256": log, "statement": "Residual risks are acceptable for go-live"})),
        )
        .await;
    assert_eq!(signed.status, StatusCode::CREATED, "{}", signed.text);
    assert_eq!(signed.json["role"], "clinical_safety_officer");
    assert_eq!(
        harness
            .call("GET", &signatures_path, &officer, None)
            .await
            .json["signed"],
        true
    );
    assert!(
        harness
            .audit_actions()
            .await
            .contains(&"safety_case.sign".to_owned())
    );
    // A change to the log leaves the signature behind.
    let mut closed = support::hazard_json("Wrong side");
    closed["status"] = json!("closed");
    let revised = harness
        .call(
            "PUT",
            &hazard_path,
            &officer,
            Some(json!({"hazard": closed, "reason": "detector withdrawn", "expected_revision": 4})),
        )
        .await;
    assert_eq!(revised.status, StatusCode::OK, "{}", revised.text);
    let after = harness.call("GET", &signatures_path, &officer, None).await;
    assert_eq!(after.json["signed"], false);
    assert_ne!(after.json["log_sha256"], json!(log));
    let page = harness.call("GET", &case_path, &officer, None).await;
    assert!(
        page.text
            .contains("Not signed since the hazard log changed")
    );
}

#[tokio::test]
async fn procurement_assessments_are_scored_with_their_evidence_and_compared() {
    let harness = Harness::new().await;
    let buyer = harness.bearer(Role::ProcurementLead);
    let template = harness
        .call("GET", "/api/v1/procurement/template", &buyer, None)
        .await;
    assert_eq!(template.status, StatusCode::OK);
    let questions: Vec<String> = template.json["template"]["section"]
        .as_array()
        .expect("sections")
        .iter()
        .flat_map(|section| {
            let key = section["key"].as_str().unwrap_or("").to_owned();
            section["question"]
                .as_array()
                .expect("questions")
                .iter()
                .map(move |question| format!("{key}.{}", question["key"].as_str().unwrap_or("")))
        })
        .collect();
    assert_eq!(questions.len(), 25);
    let created = harness
        .call(
            "POST",
            "/api/v1/assessments",
            &buyer,
            Some(json!({"version": harness.version})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["organisation"], "trust-a");
    assert_eq!(created.json["score"]["outcome"], "incomplete");
    let id = created.json["id"].as_i64().expect("an id");
    // Evidence: type-checked by content, kept once.
    let upload = |content_type: &'static str, body: &'static [u8]| {
        let request = Request::builder()
            .method("POST")
            .uri("/api/v1/attachments")
            .header(header::CONTENT_TYPE, content_type)
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", harness.tokens[&Role::ProcurementLead]),
            )
            .body(Body::from(body))
            .expect("request");
        harness.send(request)
    };
    let pdf: &'static [u8] = b"%PDF-1.7\n% the supplier's DCB0129 safety case\n";
    let kept = upload("application/pdf", pdf).await;
    assert_eq!(kept.status, StatusCode::CREATED, "{}", kept.text);
    let sha256 = kept.json["sha256"].as_str().expect("a digest").to_owned();
    assert_eq!(upload("application/pdf", pdf).await.status, StatusCode::OK);
    let disguised = upload("application/pdf", b"MZ\x90\x00 an executable").await;
    assert_eq!(
        (disguised.status, disguised.code()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    assert_eq!(
        upload("application/x-msdownload", b"MZ").await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let download = harness
        .call(
            "GET",
            &format!("/api/v1/attachments/{sha256}"),
            &buyer,
            None,
        )
        .await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.text.as_bytes(), pdf);
    assert_eq!(download.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    // Answers are checked whole; evidence must be kept by the organisation.
    let answers_path = format!("/api/v1/assessments/{id}/answers");
    let mut answers: Vec<Value> = questions
        .iter()
        .map(|question| json!({"question": question, "score": 3}))
        .collect();
    answers[15]["attachments"] = json!([harness.attachment_b]);
    let foreign = harness
        .call(
            "PUT",
            &answers_path,
            &buyer,
            Some(json!({"answers": answers, "expected_revision": 1})),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST, "{}", foreign.text);
    assert!(
        foreign.text.contains("which trust-a does not keep"),
        "{}",
        foreign.text
    );
    answers[15]["attachments"] = json!([sha256]);
    // A gate question below 2 fails the assessment whatever the total.
    answers[0]["score"] = json!(1);
    let saved = harness
        .call(
            "PUT",
            &answers_path,
            &buyer,
            Some(json!({"answers": answers, "expected_revision": 1})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    assert_eq!(
        saved.json["score"]["failed_gates"],
        json!(["clinical_need.need"])
    );
    let completed = harness
        .call(
            "POST",
            &format!("/api/v1/assessments/{id}/complete"),
            &buyer,
            Some(json!({"expected_revision": 2})),
        )
        .await;
    assert_eq!(completed.status, StatusCode::OK, "{}", completed.text);
    assert_eq!(
        (&completed.json["state"], &completed.json["outcome"]),
        (&json!("completed"), &json!("fail"))
    );
    // Side by side with the harness's draft; Trust B's is not Trust A's to
    // compare.
    let comparison = harness
        .call(
            "GET",
            &format!(
                "/api/v1/assessments/comparison?ids={id},{}",
                harness.assessment_a
            ),
            &buyer,
            None,
        )
        .await;
    assert_eq!(comparison.status, StatusCode::OK, "{}", comparison.text);
    let rows = comparison.json["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 10);
    assert_eq!(rows[9]["section"], "total");
    assert_eq!(rows[9]["percent"][1], Value::Null);
    let csv = harness
        .call(
            "GET",
            &format!("/api/v1/assessments/comparison?ids={id}&format=csv"),
            &buyer,
            None,
        )
        .await;
    assert!(
        csv.text.starts_with("section,title,\"assessment"),
        "{}",
        csv.text
    );
    assert!(
        csv.text.contains("\noutcome,Outcome,fail\n"),
        "{}",
        csv.text
    );
    let other = harness
        .call(
            "GET",
            &format!(
                "/api/v1/assessments/comparison?ids={id},{}",
                harness.assessment_b
            ),
            &buyer,
            None,
        )
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let actions = harness.audit_actions().await;
    for action in [
        "procurement.create",
        "procurement.answer",
        "procurement.complete",
        "attachment.add",
    ] {
        assert!(actions.contains(&action.to_owned()), "{action}");
    }
}

#[tokio::test]
async fn the_governance_pack_is_served_as_pdf_and_html_to_the_deployments_readers() {
    let harness = Harness::new().await;
    let path = format!(
        "/api/v1/deployments/{}/governance-pack",
        harness.deployment_a
    );
    let viewer = harness.bearer(Role::Viewer);
    let document = harness.call("GET", &path, &viewer, None).await;
    assert_eq!(document.status, StatusCode::OK, "{}", document.text);
    assert_eq!(document.headers[header::CONTENT_TYPE], "application/pdf");
    assert!(document.text.starts_with("%PDF-"));
    let again = harness.call("GET", &path, &viewer, None).await;
    assert!(
        again.text == document.text,
        "the same record gives the same bytes"
    );
    let page = harness
        .call("GET", &format!("{path}?format=html"), &viewer, None)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.headers[header::CONTENT_TYPE]
            .to_str()
            .expect("type")
            .starts_with("text/html")
    );
    assert!(
        page.text.contains("Clinical safety case") && page.text.contains("Audit chain checkpoint")
    );
    assert!(!page.text.contains(CANARY), "nothing of Trust B's");
    let bad = harness
        .call("GET", &format!("{path}?format=docx"), &viewer, None)
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    let elsewhere = harness
        .call(
            "GET",
            &format!(
                "/api/v1/deployments/{}/governance-pack",
                harness.deployment_b
            ),
            &viewer,
            None,
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
}
