//! The dashboard's pages in process: signing in with the form, what a
//! Trust's people see (and do not see), and responding to an alert with a
//! form that must carry the session's CSRF token.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use support::{Answer, CANARY, Harness, PASSWORD, user_name};
use vigil_domain::Role;
use vigil_store::{AlertState, Store};

/// Sends a page request, with a session cookie when given.
async fn get(harness: &Harness, path: &str, cookie: Option<&str>) -> Answer {
    let mut request = Request::builder().method("GET").uri(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, format!("vigil_session={cookie}"));
    }
    harness
        .send(request.body(Body::empty()).expect("request"))
        .await
}

/// Posts a form (fields already URL-encoded).
async fn post_form(harness: &Harness, path: &str, cookie: Option<&str>, form: &str) -> Answer {
    let mut request = Request::builder()
        .method("POST")
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, format!("vigil_session={cookie}"));
    }
    harness
        .send(request.body(Body::from(form.to_owned())).expect("request"))
        .await
}

fn location(answer: &Answer) -> &str {
    answer
        .headers
        .get(header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
}

/// The sign-in form's token and its cookie, as a browser gets them.
async fn sign_in_form_token(harness: &Harness) -> (String, String) {
    let form = get(harness, "/login", None).await;
    let cookie = form.headers[header::SET_COOKIE]
        .to_str()
        .expect("cookie")
        .to_owned();
    assert!(cookie.starts_with("vigil_sign_in="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let cookie_token = cookie
        .strip_prefix("vigil_sign_in=")
        .and_then(|rest| rest.split(';').next())
        .expect("token")
        .to_owned();
    let marker = r#"name="sign_in_token" value=""#;
    let start = form.text.find(marker).expect("the form's token") + marker.len();
    let field = form.text[start..].split('"').next().expect("token");
    assert_eq!(field, cookie_token);
    (cookie_token, field.to_owned())
}

/// Posts the sign-in form with the given token cookie and fields.
async fn post_sign_in(harness: &Harness, cookie_token: Option<&str>, fields: &str) -> Answer {
    let mut request = Request::builder()
        .method("POST")
        .uri("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(token) = cookie_token {
        request = request.header(header::COOKIE, format!("vigil_sign_in={token}"));
    }
    harness
        .send(
            request
                .body(Body::from(fields.to_owned()))
                .expect("request"),
        )
        .await
}

/// Signs in with the form and returns the session cookie's value.
async fn sign_in_with_form(harness: &Harness, user: &str) -> String {
    harness.set_password(user).await;
    let (cookie_token, field) = sign_in_form_token(harness).await;
    let answer = post_sign_in(
        harness,
        Some(&cookie_token),
        &format!(
            "sign_in_token={field}&user_name={user}&password={}",
            PASSWORD.replace(' ', "+")
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
    assert_eq!(location(&answer), "/");
    let cookie = answer.headers[header::SET_COOKIE].to_str().expect("cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    cookie
        .strip_prefix("vigil_session=")
        .and_then(|rest| rest.split(';').next())
        .expect("session cookie")
        .to_owned()
}

#[tokio::test]
async fn pages_need_a_session_and_the_sign_in_form_says_what_failed() {
    let harness = Harness::new().await;
    for path in ["/", &format!("/deployments/{}", harness.deployment_a)] {
        let answer = get(&harness, path, None).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&answer), "/login", "{path}");
    }
    let form = get(&harness, "/login", None).await;
    assert_eq!(form.status, StatusCode::OK);
    for expected in [
        r#"<label for="user_name">User name</label>"#,
        r#"<label for="password">Password</label>"#,
        r#"autocomplete="current-password""#,
    ] {
        assert!(form.text.contains(expected), "{expected}");
    }
    let policy = form.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("policy");
    assert!(policy.contains("default-src 'none'"), "{policy}");
    let lead = user_name("a", Role::AiLead);
    harness.set_password(&lead).await;
    let (cookie_token, field) = sign_in_form_token(&harness).await;
    let wrong = post_sign_in(
        &harness,
        Some(&cookie_token),
        &format!("sign_in_token={field}&user_name={lead}&password=nope"),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.text.contains("role=\"alert\""), "{}", wrong.text);
    assert!(wrong.text.contains("the user name or password is wrong"));
    let no_session = |answer: &Answer| {
        answer
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .all(|cookie| !cookie.to_str().unwrap_or("").starts_with("vigil_session="))
    };
    assert!(no_session(&wrong));
    // A sign-in form from elsewhere (no token, a token without its cookie,
    // another browser's token) signs nobody in, even with the right
    // password, and the refusal is audited.
    let (other_cookie, _) = sign_in_form_token(&harness).await;
    let right = format!("user_name={lead}&password={}", PASSWORD.replace(' ', "+"));
    for (cookie, fields) in [
        (None, right.clone()),
        (None, format!("sign_in_token={field}&{right}")),
        (
            Some(other_cookie.as_str()),
            format!("sign_in_token={field}&{right}"),
        ),
        (
            Some(cookie_token.as_str()),
            format!("sign_in_token=&{right}"),
        ),
    ] {
        let forged = post_sign_in(&harness, cookie, &fields).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{fields}");
        assert!(forged.text.contains("stale or came from another site"));
        assert!(no_session(&forged));
    }
    let trail = harness.store.audit_trail().await.expect("trail");
    let denied = trail
        .entries
        .iter()
        .filter(|entry| {
            entry.record.action == "access.denied" && entry.record.subject == "route:POST /login"
        })
        .count();
    assert_eq!(denied, 4, "each forged sign-in is audited");
    let css = get(&harness, "/assets/vigil.css", None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.text.contains("--brand"));
}

#[tokio::test]
async fn a_trust_sees_its_own_deployments_and_nothing_of_another_trust() {
    let harness = Harness::new().await;
    let cookie = sign_in_with_form(&harness, &user_name("a", Role::AiLead)).await;
    let overview = get(&harness, "/", Some(&cookie)).await;
    assert_eq!(overview.status, StatusCode::OK, "{}", overview.text);
    assert!(
        overview
            .text
            .contains(&format!("href=\"/deployments/{}\"", harness.deployment_a)),
        "{}",
        overview.text
    );
    assert!(
        !overview
            .text
            .contains(&format!("href=\"/deployments/{}\"", harness.deployment_b))
    );
    assert!(!overview.text.contains(CANARY));
    // The Trust's sites are listed below it; a site's own overview leads
    // back up; another Trust cannot be looked at.
    assert!(
        overview.text.contains("Organisations below"),
        "{}",
        overview.text
    );
    assert!(
        overview
            .text
            .contains("href=\"/?organisation=trust-a-main\"")
    );
    let site = get(&harness, "/?organisation=trust-a-main", Some(&cookie)).await;
    assert_eq!(site.status, StatusCode::OK, "{}", site.text);
    assert!(
        site.text.contains("href=\"/?organisation=trust-a\""),
        "{}",
        site.text
    );
    for outside in [
        "trust-b",
        "trust-b-main",
        "north",
        "no-such-code",
        "BAD CODE",
    ] {
        let refused = get(
            &harness,
            &format!("/?organisation={}", outside.replace(' ', "+")),
            Some(&cookie),
        )
        .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{outside}");
        assert!(!refused.text.contains(CANARY));
    }
    let own = get(
        &harness,
        &format!("/deployments/{}", harness.deployment_a),
        Some(&cookie),
    )
    .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert!(
        own.text.contains(&format!(
            "/api/v1/evaluations/{}/report",
            harness.evaluation_a
        )),
        "{}",
        own.text
    );
    for expected in [
        "Local validation",
        "Clinical safety",
        "not yet signed",
        "Monitoring by week",
        "Alerts",
        "Lifecycle decisions",
    ] {
        assert!(own.text.contains(expected), "{expected}");
    }
    assert!(own.text.contains(&format!(
        "/api/v1/deployments/{}/safety-case",
        harness.deployment_a
    )));
    assert!(
        own.text
            .contains(&format!("H{} trust A's missed finding", harness.hazard_a))
    );
    assert!(!own.text.contains(CANARY));
    let rules = get(
        &harness,
        &format!("/deployments/{}/rules", harness.deployment_a),
        Some(&cookie),
    )
    .await;
    assert_eq!(rules.status, StatusCode::OK, "{}", rules.text);
    assert!(rules.text.contains("Rules judged today"));
    for path in [
        format!("/deployments/{}", harness.deployment_b),
        format!("/deployments/{}/rules", harness.deployment_b),
    ] {
        let other = get(&harness, &path, Some(&cookie)).await;
        assert_eq!(other.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!other.text.contains(CANARY));
    }
    // The product page shows the shared catalogue entry, and only the
    // Trust's own deployments (and funnel points) of it.
    let product = get(
        &harness,
        &format!("/products/{}", harness.product),
        Some(&cookie),
    )
    .await;
    assert_eq!(product.status, StatusCode::OK, "{}", product.text);
    for expected in ["Catalogue entry", "Versions", "Across sites: funnel plots"] {
        assert!(product.text.contains(expected), "{expected}");
    }
    assert!(
        product
            .text
            .contains(&format!("href=\"/deployments/{}\"", harness.deployment_a))
    );
    assert!(
        !product
            .text
            .contains(&format!("href=\"/deployments/{}\"", harness.deployment_b))
    );
    assert!(!product.text.contains(CANARY));
    let catalogue = get(&harness, "/products", Some(&cookie)).await;
    assert_eq!(catalogue.status, StatusCode::OK, "{}", catalogue.text);
    assert!(
        catalogue
            .text
            .contains(&format!("href=\"/products/{}\"", harness.product))
    );
    assert!(!catalogue.text.contains(CANARY));
    let missing = get(&harness, "/products/999999", Some(&cookie)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn alerts_are_acknowledged_with_a_genuine_form_by_a_role_that_may() {
    let harness = Harness::new().await;
    let path = format!(
        "/deployments/{}/alerts/{}",
        harness.deployment_a, harness.alert_a
    );
    let state = |harness: &Harness| {
        let store = harness.store.clone();
        let id = harness.alert_a;
        async move { store.alert(id).await.expect("alert").state }
    };
    // A viewer may read the page but not respond.
    let viewer = sign_in_with_form(&harness, &user_name("a", Role::Viewer)).await;
    let page = get(
        &harness,
        &format!("/deployments/{}", harness.deployment_a),
        Some(&viewer),
    )
    .await;
    assert!(!page.text.contains(&format!("action=\"{path}\"")));
    let csrf = csrf_of_page(&page.text);
    let refused = post_form(
        &harness,
        &path,
        Some(&viewer),
        &format!("csrf={csrf}&action=acknowledge&note=seen"),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(state(&harness).await, AlertState::Raised);
    // An AI lead's form without the token, or with another, changes nothing.
    let lead = sign_in_with_form(&harness, &user_name("a", Role::AiLead)).await;
    let page = get(
        &harness,
        &format!("/deployments/{}", harness.deployment_a),
        Some(&lead),
    )
    .await;
    assert!(
        page.text.contains(&format!("action=\"{path}\"")),
        "{}",
        page.text
    );
    let csrf = csrf_of_page(&page.text);
    for form in [
        "action=acknowledge&note=seen".to_owned(),
        format!("csrf={}&action=acknowledge&note=seen", "0".repeat(64)),
    ] {
        let answer = post_form(&harness, &path, Some(&lead), &form).await;
        assert!(
            matches!(
                answer.status,
                StatusCode::FORBIDDEN | StatusCode::UNPROCESSABLE_ENTITY
            ),
            "{form}: {}",
            answer.status
        );
        assert_eq!(state(&harness).await, AlertState::Raised);
    }
    let done = post_form(
        &harness,
        &path,
        Some(&lead),
        &format!("csrf={csrf}&action=acknowledge&note=Reviewing+the+week%27s+cases"),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    assert_eq!(state(&harness).await, AlertState::Acknowledged);
    let alert = harness.store.alert(harness.alert_a).await.expect("alert");
    assert_eq!(
        alert.acknowledgement.as_deref(),
        Some("Reviewing the week's cases")
    );
    assert_eq!(
        alert.acknowledged_by.as_deref(),
        Some(user_name("a", Role::AiLead).as_str())
    );
    // Trust B's alert is out of reach through Trust A's deployment.
    let foreign = post_form(
        &harness,
        &format!(
            "/deployments/{}/alerts/{}",
            harness.deployment_a, harness.alert_b
        ),
        Some(&lead),
        &format!("csrf={csrf}&action=acknowledge&note=x"),
    )
    .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    // Signing out ends the session.
    let out = post_form(&harness, "/logout", Some(&lead), &format!("csrf={csrf}")).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let after = get(&harness, "/", Some(&lead)).await;
    assert_eq!(location(&after), "/login");
}

#[tokio::test]
async fn a_decision_is_recorded_with_the_form_by_a_role_the_policy_names() {
    let harness = Harness::new().await;
    let page_path = format!("/deployments/{}", harness.deployment_a);
    let decisions = format!("/deployments/{}/decisions", harness.deployment_a);
    let state = |harness: &Harness| {
        let store = harness.store.clone();
        let id = vigil_store::DeploymentId(harness.deployment_a);
        async move { store.deployment(id).await.expect("deployment").state }
    };
    // Proposed → procurement needs the procurement lead; an AI lead is told so.
    let lead = sign_in_with_form(&harness, &user_name("a", Role::AiLead)).await;
    let page = get(&harness, &page_path, Some(&lead)).await;
    assert!(
        page.text.contains("proposed → procurement"),
        "{}",
        page.text
    );
    assert!(page.text.contains("Signatures needed: procurement_lead"));
    assert!(page.text.contains("does not sign this move"));
    let csrf = csrf_of_page(&page.text);
    let refused = post_form(
        &harness,
        &decisions,
        Some(&lead),
        &format!(
            "csrf={csrf}&action=record&from=proposed&to=procurement&revision=0&rationale=Because"
        ),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert!(
        refused.text.contains("Nothing was recorded"),
        "{}",
        refused.text
    );
    assert_eq!(
        state(&harness).await,
        vigil_domain::LifecycleState::Proposed
    );
    // The procurement lead records it; a missing rationale is refused first.
    let buyer = sign_in_with_form(&harness, &user_name("a", Role::ProcurementLead)).await;
    let page = get(&harness, &page_path, Some(&buyer)).await;
    assert!(
        page.text.contains("Record the move to procurement"),
        "{}",
        page.text
    );
    let csrf = csrf_of_page(&page.text);
    let form = |rationale: &str| {
        format!(
            "csrf={csrf}&action=record&from=proposed&to=procurement&revision=0&rationale={rationale}&evidence="
        )
    };
    let empty = post_form(&harness, &decisions, Some(&buyer), &form("")).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.text.contains("rationale"), "{}", empty.text);
    assert_eq!(
        state(&harness).await,
        vigil_domain::LifecycleState::Proposed
    );
    let done = post_form(
        &harness,
        &decisions,
        Some(&buyer),
        &form("A+documented+need%3B+procurement+opened"),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    assert_eq!(
        state(&harness).await,
        vigil_domain::LifecycleState::Procurement
    );
    let page = get(&harness, &page_path, Some(&buyer)).await;
    assert!(page.text.contains("A documented need; procurement opened"));
    // A form for the old revision is stale now.
    let stale = post_form(&harness, &decisions, Some(&buyer), &form("again")).await;
    assert_eq!(
        stale.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        stale.text
    );
}

#[tokio::test]
async fn the_audit_page_shows_the_verdict_and_the_trusts_entries_to_roles_that_may_read_it() {
    let harness = Harness::new().await;
    let officer = sign_in_with_form(&harness, &user_name("a", Role::ClinicalSafetyOfficer)).await;
    let page = get(&harness, "/audit", Some(&officer)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("intact"), "{}", page.text);
    assert!(page.text.contains("session.login"), "{}", page.text);
    assert!(!page.text.contains(CANARY));
    assert!(
        !page.text.contains("trust-b"),
        "Trust B's entries are not shown to Trust A"
    );
    let viewer = sign_in_with_form(&harness, &user_name("a", Role::Viewer)).await;
    let refused = get(&harness, "/audit", Some(&viewer)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let outside = get(
        &harness,
        &format!("/deployments/{}", harness.deployment_b),
        Some(&viewer),
    )
    .await;
    assert_eq!(outside.status, StatusCode::NOT_FOUND);
    // The dashboard's refusals are audited as the API's are, with the
    // person who was refused.
    let trail = harness.store.audit_trail().await.expect("trail");
    let refusal = |action: &str, subject: &str| {
        trail.entries.iter().any(|entry| {
            entry.record.action == action
                && entry.record.subject == subject
                && entry.record.actor == user_name("a", Role::Viewer)
        })
    };
    assert!(refusal("access.denied", "route:GET /audit"));
    assert!(refusal("access.not_found", "route:GET /deployments/{id}"));
    let overview = get(&harness, "/", Some(&viewer)).await;
    assert!(
        !overview.text.contains("href=\"/audit\""),
        "no link for a role that may not read it"
    );
}

/// The CSRF token in a page's forms.
fn csrf_of_page(text: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = text.find(marker).expect("a form with a CSRF token") + marker.len();
    text[start..]
        .split('"')
        .next()
        .expect("the token")
        .to_owned()
}

#[tokio::test]
async fn administrators_manage_the_users_and_tokens_of_their_trust_only() {
    let harness = Harness::new().await;
    let admin = sign_in_with_form(&harness, &user_name("a", Role::OrganisationAdmin)).await;
    let page = get(&harness, "/admin", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains(&user_name("a", Role::Clinician)));
    assert!(page.text.contains("target A"));
    assert!(!page.text.contains(CANARY), "nothing of Trust B");
    assert!(
        !page.text.contains("value=\"national_admin\""),
        "an organisation administrator is not offered the national role"
    );
    let csrf = csrf_of_page(&page.text);
    let users = || async { harness.store.users().await.expect("users") };
    let tokens = || async { harness.store.api_tokens().await.expect("tokens") };
    let users_before = users().await;
    let tokens_before = tokens().await;

    // Every refusal changes nothing: a stale form, another Trust's
    // organisation, user or token, a role the caller may not grant, their
    // own account disabled.
    let own_id = users_before
        .iter()
        .find(|user| user.user_name.as_str() == user_name("a", Role::OrganisationAdmin))
        .expect("the administrator")
        .id;
    for (path, form, status) in [
        (
            "/admin/users".to_owned(),
            "csrf=forged&user_name=a-new&display_name=New&organisation=trust-a&role=viewer"
                .to_owned(),
            StatusCode::FORBIDDEN,
        ),
        (
            "/admin/users".to_owned(),
            format!(
                "csrf={csrf}&user_name=a-new&display_name=New&organisation=trust-b&role=viewer"
            ),
            StatusCode::NOT_FOUND,
        ),
        (
            "/admin/users".to_owned(),
            format!(
                "csrf={csrf}&user_name=a-new&display_name=New&organisation=trust-a&role=national_admin"
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/admin/users".to_owned(),
            format!(
                "csrf={csrf}&user_name=a-new&display_name=New&organisation=trust-a&role=viewer&password=short"
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/admin/users/{}", harness.user_b),
            format!("csrf={csrf}&change=disable"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/admin/users/{own_id}"),
            format!("csrf={csrf}&change=disable"),
            StatusCode::CONFLICT,
        ),
        (
            format!("/admin/users/{}", harness.user_a),
            format!("csrf={csrf}&change=promote"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/admin/tokens".to_owned(),
            format!("csrf={csrf}&name=bridge&organisation=trust-b&role=ai_lead"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/admin/tokens/{}/revoke", harness.token_b),
            format!("csrf={csrf}"),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let refused = post_form(&harness, &path, Some(&admin), &form).await;
        assert_eq!(refused.status, status, "{path} {form}: {}", refused.text);
        assert!(refused.text.contains("class=\"error\""), "{}", refused.text);
        assert!(!refused.text.contains(CANARY));
    }
    assert_eq!(users().await, users_before);
    assert_eq!(tokens().await, tokens_before);

    // What may be done is done, and leads back to the lists.
    let added = post_form(
        &harness,
        "/admin/users",
        Some(&admin),
        &format!(
            "csrf={csrf}&user_name=a-new-physicist&display_name=New+Physicist&organisation=trust-a-main&role=medical_physics_expert&password=a+long+enough+password"
        ),
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text);
    assert_eq!(location(&added), "/admin#user-list");
    let new_user = users()
        .await
        .into_iter()
        .find(|user| user.user_name.as_str() == "a-new-physicist")
        .expect("the new user");
    assert_eq!(new_user.role, Role::MedicalPhysicsExpert);
    assert_eq!(new_user.organisation.as_str(), "trust-a-main");
    let changed = post_form(
        &harness,
        &format!("/admin/users/{}", harness.user_a),
        Some(&admin),
        &format!("csrf={csrf}&change=role&role=clinician"),
    )
    .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.text);
    let disabled = post_form(
        &harness,
        &format!("/admin/users/{}", harness.user_a),
        Some(&admin),
        &format!("csrf={csrf}&change=disable"),
    )
    .await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER, "{}", disabled.text);
    let user_a = users()
        .await
        .into_iter()
        .find(|user| user.id == harness.user_a)
        .expect("user a");
    assert_eq!((user_a.role, user_a.disabled), (Role::Clinician, true));

    let created = post_form(
        &harness,
        "/admin/tokens",
        Some(&admin),
        &format!("csrf={csrf}&name=PACS+bridge&organisation=trust-a&role=ai_lead"),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let marker = "id=\"secret\" readonly value=\"";
    let start = created.text.find(marker).expect("the secret") + marker.len();
    let secret = created.text[start..].split('"').next().expect("secret");
    assert!(secret.starts_with("vigil_"), "{secret}");
    let token = tokens()
        .await
        .into_iter()
        .find(|token| token.name.as_str() == "PACS bridge")
        .expect("the token");
    assert_eq!(token.role, Role::AiLead);
    // The secret works for the API, and only until it is revoked.
    let bearer = |secret: &str| {
        Request::builder()
            .uri("/api/v1/session")
            .header(header::AUTHORIZATION, format!("Bearer {secret}"))
            .body(Body::empty())
            .expect("request")
    };
    assert_eq!(harness.send(bearer(secret)).await.status, StatusCode::OK);
    let revoked = post_form(
        &harness,
        &format!("/admin/tokens/{}/revoke", token.id),
        Some(&admin),
        &format!("csrf={csrf}"),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.text);
    assert_eq!(
        harness.send(bearer(secret)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let after = get(&harness, "/admin", Some(&admin)).await;
    assert!(after.text.contains("a-new-physicist"));
    assert!(after.text.contains("revoked"));

    // Roles that may not administer get neither the page nor the link.
    let lead = sign_in_with_form(&harness, &user_name("a", Role::AiLead)).await;
    assert_eq!(
        get(&harness, "/admin", Some(&lead)).await.status,
        StatusCode::FORBIDDEN
    );
    let lead_csrf = csrf_of_page(&get(&harness, "/", Some(&lead)).await.text);
    let refused = post_form(
        &harness,
        "/admin/tokens",
        Some(&lead),
        &format!("csrf={lead_csrf}&name=mine&organisation=trust-a&role=ai_lead"),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        !get(&harness, "/", Some(&lead))
            .await
            .text
            .contains("href=\"/admin\"")
    );
    assert!(
        get(&harness, "/", Some(&admin))
            .await
            .text
            .contains("href=\"/admin\"")
    );
}

#[tokio::test]
async fn procurement_assessments_are_opened_answered_completed_and_compared_in_the_dashboard() {
    let harness = Harness::new().await;
    let lead = sign_in_with_form(&harness, &user_name("a", Role::AiLead)).await;
    let listing = get(&harness, "/procurement", Some(&lead)).await;
    assert_eq!(listing.status, StatusCode::OK, "{}", listing.text);
    assert!(
        listing
            .text
            .contains(&format!("/assessments/{}", harness.assessment_a))
    );
    assert!(
        !listing
            .text
            .contains(&format!("/assessments/{}\"", harness.assessment_b)),
        "another Trust's assessment is not listed"
    );
    let csrf = csrf_of_page(&listing.text);
    let opened = post_form(
        &harness,
        "/procurement/assessments",
        Some(&lead),
        &format!(
            "csrf={csrf}&version={}&organisation=trust-a",
            harness.version
        ),
    )
    .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.text);
    let path = location(&opened).to_owned();
    let id: i64 = path
        .strip_prefix("/assessments/")
        .and_then(|id| id.parse().ok())
        .expect("the new assessment's page");
    let draft = get(&harness, &path, Some(&lead)).await;
    let questions = vigil_domain::procurement::Template::default_template().question_keys();
    assert_eq!(draft.text.matches("<select").count(), questions.len());
    // A score out of range is refused whole.
    let bad = post_form(
        &harness,
        &format!("{path}/answers"),
        Some(&lead),
        &format!("csrf={csrf}&revision=1&score%3Aclinical_need.need=7"),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    let mut fields = format!("csrf={csrf}&revision=1");
    for question in &questions {
        fields.push_str(&format!("&score%3A{question}=3&note%3A{question}=seen"));
    }
    let saved = post_form(&harness, &format!("{path}/answers"), Some(&lead), &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let stale = post_form(
        &harness,
        &format!("{path}/complete"),
        Some(&lead),
        &format!("csrf={csrf}&revision=1"),
    )
    .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text);
    let completed = post_form(
        &harness,
        &format!("{path}/complete"),
        Some(&lead),
        &format!("csrf={csrf}&revision=2"),
    )
    .await;
    assert_eq!(
        completed.status,
        StatusCode::SEE_OTHER,
        "{}",
        completed.text
    );
    let record = harness.store.assessment(id).await.expect("stored");
    assert_eq!(
        (
            record.outcome.as_deref(),
            record.total_percent,
            record.answers[0].note.as_deref()
        ),
        (Some("pass"), Some(75.0), Some("seen"))
    );
    let page = get(&harness, &path, Some(&lead)).await;
    assert!(
        page.text.contains("75.0%") && !page.text.contains("<select"),
        "read only once completed"
    );
    // Side by side with the Trust's other assessment; another Trust's is out of reach.
    let compared = get(
        &harness,
        &format!("/procurement/compare?ids={}&ids={id}", harness.assessment_a),
        Some(&lead),
    )
    .await;
    assert_eq!(compared.status, StatusCode::OK, "{}", compared.text);
    assert!(compared.text.contains("Environmental impact") && compared.text.contains("75.0%"));
    assert!(compared.text.contains("format=csv"));
    let elsewhere = get(
        &harness,
        &format!("/procurement/compare?ids={}&ids={id}", harness.assessment_b),
        Some(&lead),
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    // A viewer reads but may not assess.
    let viewer = sign_in_with_form(&harness, &user_name("a", Role::Viewer)).await;
    let viewer_page = get(&harness, "/procurement", Some(&viewer)).await;
    assert!(!viewer_page.text.contains("Open an assessment"));
    let refused = post_form(
        &harness,
        "/procurement/assessments",
        Some(&viewer),
        &format!(
            "csrf={}&version={}&organisation=trust-a",
            csrf_of_page(&viewer_page.text),
            harness.version
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_hazard_log_page_adds_hazards_links_alerts_and_takes_the_signature() {
    let harness = Harness::new().await;
    let officer = sign_in_with_form(&harness, &user_name("a", Role::ClinicalSafetyOfficer)).await;
    let path = format!("/deployments/{}/hazards", harness.deployment_a);
    let log = get(&harness, &path, Some(&officer)).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    assert!(log.text.contains(&format!("H{}", harness.hazard_a)));
    assert!(log.text.contains("not yet signed"));
    let csrf = csrf_of_page(&log.text);
    let hazard = "title=Wrong+patient+flagged&cause=A+result+is+routed+to+another+study&effect=A+report+is+prioritised+wrongly\
                  &control=Accession+checked+on+arrival&evidence=SOP-7\
                  &initial_severity=major&initial_likelihood=low&residual_severity=major&residual_likelihood=very_low\
                  &owner=PACS+manager&status=controlled";
    // A residual risk above the initial one is refused, with the reason.
    let worse = hazard.replace("residual_likelihood=very_low", "residual_likelihood=high");
    let refused = post_form(
        &harness,
        &path,
        Some(&officer),
        &format!("csrf={csrf}&{worse}"),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    let added = post_form(
        &harness,
        &path,
        Some(&officer),
        &format!("csrf={csrf}&{hazard}"),
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text);
    let forged = post_form(
        &harness,
        &path,
        Some(&officer),
        &format!("csrf=forged&{hazard}"),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let hazards = harness
        .store
        .hazards(vigil_store::DeploymentId(harness.deployment_a))
        .await
        .expect("hazards");
    assert_eq!(
        hazards.len(),
        2,
        "the refused and the forged forms added nothing"
    );
    let linked = post_form(
        &harness,
        &format!("{path}/link"),
        Some(&officer),
        &format!(
            "csrf={csrf}&alert={}&hazard={}&note=The+rate+doubled",
            harness.alert_a, hazards[1].id
        ),
    )
    .await;
    assert_eq!(linked.status, StatusCode::SEE_OTHER, "{}", linked.text);
    let another_trusts = post_form(
        &harness,
        &format!("{path}/link"),
        Some(&officer),
        &format!(
            "csrf={csrf}&alert={}&hazard={}&note=x",
            harness.alert_b, hazards[1].id
        ),
    )
    .await;
    assert_eq!(another_trusts.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = get(&harness, &path, Some(&officer)).await;
    assert!(page.text.contains("under review"), "{}", page.text);
    let marker = r#"name="log_sha256" value=""#;
    let start = page.text.find(marker).expect("the signing form") + marker.len();
    let digest = page.text[start..]
        .split('"')
        .next()
        .expect("digest")
        .to_owned();
    let signed = post_form(
        &harness,
        &format!("/deployments/{}/safety-case/sign", harness.deployment_a),
        Some(&officer),
        &format!("csrf={csrf}&log_sha256={digest}&statement=Reviewed+at+the+safety+board"),
    )
    .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.text);
    assert!(
        get(&harness, &path, Some(&officer))
            .await
            .text
            .contains("Reviewed at the safety board")
    );
    // Only the clinical safety officer signs; a viewer sees no forms.
    let viewer = sign_in_with_form(&harness, &user_name("a", Role::Viewer)).await;
    let viewer_page = get(&harness, &path, Some(&viewer)).await;
    assert!(
        !viewer_page.text.contains("Add a hazard")
            && !viewer_page.text.contains("Sign the safety case")
    );
    assert_eq!(
        get(
            &harness,
            &format!("/deployments/{}/hazards", harness.deployment_b),
            Some(&officer)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_productivity_page_judges_against_the_registered_criteria() {
    let harness = Harness::new().await;
    let lead = sign_in_with_form(&harness, &user_name("b", Role::AiLead)).await;
    let page = get(
        &harness,
        &format!("/deployments/{}/productivity", harness.deployment_b),
        Some(&lead),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text.contains("Recommendation: not live"),
        "{}",
        page.text
    );
    assert!(
        page.text.contains("Success criteria version 1"),
        "{}",
        page.text
    );
    assert!(page.text.contains("Workload per reader"), "{}", page.text);
    let other = sign_in_with_form(&harness, &user_name("a", Role::AiLead)).await;
    assert_eq!(
        get(
            &harness,
            &format!("/deployments/{}/productivity", harness.deployment_b),
            Some(&other)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let own = get(
        &harness,
        &format!("/deployments/{}/productivity", harness.deployment_a),
        Some(&other),
    )
    .await;
    assert!(
        own.text.contains("No success criteria were registered"),
        "{}",
        own.text
    );
}
