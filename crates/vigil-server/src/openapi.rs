//! The OpenAPI 3.1 description of the API, generated from the handlers'
//! annotations and the wire types, then completed from the route table:
//! each operation gets the permission it declares (`x-vigil-permission`),
//! its security requirement, and the error responses it can give, all in
//! the one error shape. It is served at `/api/v1/openapi.json` and
//! snapshot-tested, so that a change of contract is always deliberate.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa::OpenApi;
use vigil_api_types::ErrorCode;

use crate::access::Permission;
use crate::api::{self, ROUTES};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Vigil",
        description = "Evaluation, governance and lifecycle monitoring of clinical AI tools in medical imaging and radiotherapy.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        api::session::sign_in,
        api::session::current,
        api::session::sign_out,
        api::session::change_own_password,
        api::registry::list_organisations,
        api::registry::add_organisation,
        api::registry::list_users,
        api::registry::add_user,
        api::registry::change_user,
        api::registry::set_password,
        api::registry::list_tokens,
        api::registry::add_token,
        api::registry::revoke_token,
        api::registry::list_products,
        api::registry::add_product,
        api::registry::get_product,
        api::registry::add_version,
        api::registry::list_deployments,
        api::registry::add_deployment,
        api::registry::get_deployment,
        api::registry::upgrade_deployment,
        api::registry::policy,
        api::governance::list_sign_offs,
        api::governance::sign,
        api::governance::transition,
        api::governance::list_evaluations,
        api::governance::run_evaluation,
        api::governance::get_evaluation,
        api::governance::evaluation_report,
        api::monitoring::ingest_events,
        api::monitoring::ingest_outcomes,
        api::monitoring::day_aggregates,
        api::monitoring::organisation_aggregates,
        api::alerts::get_rules,
        api::alerts::put_rules,
        api::alerts::rule_history,
        api::procurement::default_template,
        api::procurement::list_assessments,
        api::procurement::create_assessment,
        api::procurement::compare_assessments,
        api::procurement::get_assessment,
        api::procurement::save_answers,
        api::procurement::complete_assessment,
        api::procurement::add_attachment,
        api::procurement::get_attachment,
        api::hazards::list_hazards,
        api::hazards::add_hazard,
        api::hazards::get_hazard,
        api::hazards::update_hazard,
        api::hazards::hazard_history,
        api::hazards::link_alert,
        api::hazards::safety_case_report_page,
        api::pack::governance_pack,
        api::hazards::safety_case_status,
        api::hazards::sign_safety_case,
        api::productivity::get_success_criteria,
        api::productivity::put_success_criteria,
        api::productivity::productivity,
        api::alerts::get_assessment,
        api::alerts::run_assessment,
        api::alerts::list_alerts,
        api::alerts::get_alert,
        api::alerts::acknowledge_alert,
        api::alerts::resolve_alert,
        api::alerts::list_webhooks,
        api::dicom::list_instances,
        api::report_times::list_report_times,
        api::dicomweb::store_instances,
        api::dicomweb::store_study_instances,
        api::dicomweb::search_studies,
        api::dicomweb::search_instances,
        api::fhir::receive,
        api::alerts::add_webhook,
        api::alerts::funnel,
        api::governance::audit_entries,
        api::governance::verify_audit,
        openapi_document,
    ),
    components(schemas(vigil_api_types::ErrorBody, vigil_api_types::ErrorDetail, ErrorCode)),
    tags(
        (name = "session", description = "Signing in and out"),
        (name = "organisations", description = "The organisation tree: nation, regions, Trusts, sites"),
        (name = "users", description = "User accounts"),
        (name = "tokens", description = "API tokens for machine clients"),
        (name = "products", description = "The product catalogue"),
        (name = "deployments", description = "Deployments, their lifecycle decisions and sign-offs"),
        (name = "evaluations", description = "Local validations stored against deployments"),
        (name = "monitoring", description = "Inference events and their day aggregates"),
        (name = "fhir", description = "FHIR R4 reports and observations recorded as outcomes"),
        (name = "dicom", description = "DICOM instances received from the hospital network, and their quarantine"),
        (name = "procurement", description = "Procurement assessments of product versions, their evidence files, and comparisons"),
        (name = "safety", description = "The hazard log of each deployment (DCB0160), its revisions and the alerts that reopen it"),
        (name = "intake", description = "What the RIS sent: the times of reports, for turnaround audits"),
        (name = "audit", description = "The tamper-evident audit trail"),
        (name = "meta", description = "This description"),
    )
)]
struct ApiDescription;

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 description of the API", content_type = "application/json", body = Object)))]
#[allow(dead_code)]
fn openapi_document() {}

/// The error responses an operation with this permission and method can
/// give, as (status, code) pairs.
fn error_codes(permission: Permission, method: &str, has_path_id: bool) -> Vec<ErrorCode> {
    let mut codes = vec![ErrorCode::InvalidRequest];
    if permission != Permission::Public {
        codes.extend([ErrorCode::Unauthenticated, ErrorCode::Forbidden]);
    }
    if has_path_id || matches!(method, "POST" | "PUT" | "PATCH") && permission != Permission::Public
    {
        codes.push(ErrorCode::NotFound);
    }
    if matches!(method, "POST" | "PUT" | "PATCH" | "DELETE") {
        codes.push(ErrorCode::Conflict);
    }
    if matches!(method, "POST" | "PUT" | "PATCH") {
        codes.extend([
            ErrorCode::PayloadTooLarge,
            ErrorCode::UnsupportedMediaType,
            ErrorCode::Refused,
        ]);
    }
    if permission == Permission::Public && method == "POST" {
        // Signing in: a wrong password, and too many of them.
        codes.extend([ErrorCode::Unauthenticated, ErrorCode::RateLimited]);
    }
    codes.extend([
        ErrorCode::Internal,
        ErrorCode::Unavailable,
        ErrorCode::Timeout,
    ]);
    codes
}

/// The completed description as JSON.
pub fn description() -> Value {
    let mut document = serde_json::to_value(ApiDescription::openapi())
        .unwrap_or_else(|error| json!({"error": error.to_string()}));
    document["components"]["securitySchemes"] = json!({
        "session": {
            "type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE,
            "description": "The session cookie set by POST /api/v1/session. Changes also need the x-csrf-token header."
        },
        "token": {
            "type": "http", "scheme": "bearer",
            "description": "An API token created by POST /api/v1/tokens."
        },
    });
    document["info"]["version"] = json!(env!("CARGO_PKG_VERSION"));
    for route in ROUTES {
        let method = route.method.to_ascii_lowercase();
        let Some(operation) = document["paths"][route.path].get_mut(&method) else {
            continue;
        };
        operation["x-vigil-permission"] = json!(route.permission.as_str());
        if route.permission == Permission::Public {
            operation["security"] = json!([]);
        } else {
            operation["security"] = json!([{"session": []}, {"token": []}]);
        }
        let responses = &mut operation["responses"];
        for code in error_codes(route.permission, route.method, route.path.contains('{')) {
            let status = code.status().to_string();
            if responses.get(&status).is_none() {
                responses[&status] = json!({
                    "description": code.as_str(),
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
                });
            }
        }
    }
    document
}

/// The description, computed once.
pub fn description_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| serde_json::to_string_pretty(&description()).unwrap_or_default())
}

/// Serves the description.
pub async fn document() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        description_text(),
    )
        .into_response()
}
