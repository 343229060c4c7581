//! Organisations, users, API tokens, products, versions, deployments and the
//! sign-off policy. Every object outside the caller's organisation is
//! answered exactly as one that does not exist.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use vigil_api_types::ErrorCode;
use vigil_api_types::wire::{
    CreatedToken, DeploymentView, NewDeployment, NewOrganisation, NewProduct, NewToken,
    NewUser as NewUserBody, NewVersion, OrganisationView, PasswordRequest, PolicyRequirement,
    PolicyView, ProductView, TokenView, UpgradeRequest, UserChangeRequest, UserView, VersionView,
};
use vigil_domain::{
    ChangeControlPlan, ChangeKind, Deployment, Modality, OperatingThreshold, Organisation,
    OrganisationKind, Product, ProductVersion, RegulatoryClass, Role, TaskType,
};
use vigil_store::{
    DeploymentId, NewApiToken, NewUser, ProductId, Store, UserChange, UserRecord, VersionId,
};

use super::{ApiJson, invalid, parse_code, parse_text, scope_of, views};
use crate::AppState;
use crate::access::Scope;
use crate::auth::{self, Principal};
use crate::error::ApiError;

type AppStateOf<S> = State<Arc<AppState<S>>>;

fn not_found(what: &str, id: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("{what} {id} does not exist"))
}

/// A governance rule refuses the change (403 is kept for the route's
/// permission, checked by the middleware).
fn refused(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::Refused, message)
}

fn internal(error: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::Internal, "the server failed; see its log").internal(error)
}

/// Refuses to give the national administrator role to anyone but by a
/// national administrator, and only at the nation.
fn check_granted_role(
    principal: &Principal,
    scope: &Scope,
    role: Role,
    organisation: &vigil_domain::Code,
) -> Result<(), ApiError> {
    if role == Role::NationalAdmin {
        if principal.actor.role != Role::NationalAdmin {
            return Err(refused(
                "only a national administrator may give the national_admin role",
            ));
        }
        if scope.tree.get(organisation).map(|o| o.kind) != Some(OrganisationKind::Nation) {
            return Err(invalid(
                "organisation",
                "a national administrator belongs to the nation",
            ));
        }
    }
    Ok(())
}

/// The organisations within the caller's, parents first.
#[utoipa::path(get, path = "/api/v1/organisations", tag = "organisations",
    responses((status = 200, description = "Organisations within the caller's", body = Vec<OrganisationView>)))]
pub async fn list_organisations<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<Vec<OrganisationView>>, ApiError> {
    let scope = scope_of(&state, &principal).await?;
    Ok(Json(
        scope
            .tree
            .iter()
            .filter(|organisation| scope.includes(&organisation.code))
            .map(views::organisation)
            .collect(),
    ))
}

/// Adds an organisation below one within the caller's.
#[utoipa::path(post, path = "/api/v1/organisations", tag = "organisations", request_body = NewOrganisation,
    responses((status = 201, description = "Added", body = OrganisationView)))]
pub async fn add_organisation<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    ApiJson(body): ApiJson<NewOrganisation>,
) -> Result<(StatusCode, Json<OrganisationView>), ApiError> {
    let scope = scope_of(&state, &principal).await?;
    let code = parse_code("code", &body.code)?;
    let name = parse_text("name", &body.name)?;
    let kind = OrganisationKind::parse(&body.kind).map_err(|error| invalid("kind", error))?;
    let parent = parse_code("parent", &body.parent)?;
    if !scope.includes(&parent) {
        return Err(not_found("organisation", &parent));
    }
    let parent_kind = scope
        .tree
        .get(&parent)
        .map(|organisation| organisation.kind)
        .ok_or_else(|| not_found("organisation", &parent))?;
    let organisation = Organisation::new(code, name, kind, Some((&parent, parent_kind)))
        .map_err(|error| invalid("kind", error))?;
    state
        .store
        .add_organisation(&principal.context(), &organisation)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(views::organisation(&organisation)),
    ))
}

/// The users of the caller's organisation and below.
#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, description = "Users within the caller's organisation", body = Vec<UserView>)))]
pub async fn list_users<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<Vec<UserView>>, ApiError> {
    let scope = scope_of(&state, &principal).await?;
    let users = state.store.users().await?;
    Ok(Json(
        users
            .iter()
            .filter(|user| scope.includes(&user.organisation))
            .map(views::user)
            .collect(),
    ))
}

/// Adds a user within the caller's organisation, with a password if given.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserBody,
    responses((status = 201, description = "Added", body = UserView)))]
pub async fn add_user<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    ApiJson(body): ApiJson<NewUserBody>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let user = add_user_as(&state, &principal, body).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Adds a user on behalf of `principal` (the API's and the dashboard's
/// way): within their organisation, with a role they may grant.
pub(crate) async fn add_user_as<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
    body: NewUserBody,
) -> Result<UserView, ApiError> {
    let scope = scope_of(state, principal).await?;
    let user = NewUser {
        user_name: parse_text("user_name", &body.user_name)?,
        display_name: parse_text("display_name", &body.display_name)?,
        role: Role::parse(&body.role).map_err(|error| invalid("role", error))?,
        organisation: parse_code("organisation", &body.organisation)?,
    };
    if !scope.includes(&user.organisation) {
        return Err(not_found("organisation", &user.organisation));
    }
    check_granted_role(principal, &scope, user.role, &user.organisation)?;
    let context = principal.context();
    let record = match &body.password {
        Some(password) => {
            auth::check_new_password(password).map_err(|error| invalid("password", error))?;
            let hash = hash_off_thread(password.clone()).await?;
            state
                .store
                .add_user_with_password(&context, &user, &hash)
                .await?
        }
        None => state.store.add_user(&context, &user).await?,
    };
    Ok(views::user(&record))
}

async fn hash_off_thread(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(internal)?
        .map_err(internal)
}

/// The user with this id, if the caller's organisation includes theirs.
async fn user_in_scope<S: Store>(
    state: &AppState<S>,
    scope: &Scope,
    id: i64,
) -> Result<UserRecord, ApiError> {
    state
        .store
        .users()
        .await?
        .into_iter()
        .find(|user| user.id == id && scope.includes(&user.organisation))
        .ok_or_else(|| not_found("user", id))
}

/// Changes a user's role or disables (or re-enables) their account; either
/// ends their sessions at once.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = UserChangeRequest,
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, description = "Changed", body = UserView)))]
pub async fn change_user<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<UserChangeRequest>,
) -> Result<Json<UserView>, ApiError> {
    change_user_as(&state, &principal, id, body).await.map(Json)
}

/// Changes a user's role or disabled flag on behalf of `principal`.
pub(crate) async fn change_user_as<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
    id: i64,
    body: UserChangeRequest,
) -> Result<UserView, ApiError> {
    let scope = scope_of(state, principal).await?;
    let user = user_in_scope(state, &scope, id).await?;
    let role = body
        .role
        .as_deref()
        .map(|role| Role::parse(role).map_err(|error| invalid("role", error)))
        .transpose()?;
    if let Some(role) = role {
        check_granted_role(principal, &scope, role, &user.organisation)?;
    }
    if user.role == Role::NationalAdmin && principal.actor.role != Role::NationalAdmin {
        return Err(refused(
            "only a national administrator may change a national administrator",
        ));
    }
    let record = state
        .store
        .update_user(
            &principal.context(),
            id,
            UserChange {
                role,
                disabled: body.disabled,
            },
        )
        .await?;
    Ok(views::user(&record))
}

/// Sets a user's password (at least 12 characters); ends their sessions.
#[utoipa::path(put, path = "/api/v1/users/{id}/password", tag = "users", request_body = PasswordRequest,
    params(("id" = i64, Path, description = "User id")),
    responses((status = 204, description = "Set")))]
pub async fn set_password<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<PasswordRequest>,
) -> Result<StatusCode, ApiError> {
    let scope = scope_of(&state, &principal).await?;
    let user = user_in_scope(&state, &scope, id).await?;
    if user.role == Role::NationalAdmin && principal.actor.role != Role::NationalAdmin {
        return Err(refused(
            "only a national administrator may set a national administrator's password",
        ));
    }
    auth::check_new_password(&body.password).map_err(|error| invalid("password", error))?;
    let hash = hash_off_thread(body.password).await?;
    state
        .store
        .set_password_hash(&principal.context(), id, &hash)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The API tokens of the caller's organisation and below (never secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses((status = 200, description = "Tokens", body = Vec<TokenView>)))]
pub async fn list_tokens<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    let scope = scope_of(&state, &principal).await?;
    let tokens = state.store.api_tokens().await?;
    Ok(Json(
        tokens
            .iter()
            .filter(|token| scope.includes(&token.organisation))
            .map(views::token)
            .collect(),
    ))
}

/// Creates an API token for a machine client, scoped to one organisation
/// and role; its secret is answered this once.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewToken,
    responses((status = 201, description = "Created; the secret is shown once", body = CreatedToken)))]
pub async fn add_token<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    ApiJson(body): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let created = add_token_as(&state, &principal, body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Creates an API token on behalf of `principal`; the answer holds its
/// secret, which is never stored.
pub(crate) async fn add_token_as<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
    body: NewToken,
) -> Result<CreatedToken, ApiError> {
    let scope = scope_of(state, principal).await?;
    let organisation = parse_code("organisation", &body.organisation)?;
    if !scope.includes(&organisation) {
        return Err(not_found("organisation", &organisation));
    }
    let role = Role::parse(&body.role).map_err(|error| invalid("role", error))?;
    check_granted_role(principal, &scope, role, &organisation)?;
    let secret = format!(
        "{}{}",
        auth::TOKEN_PREFIX,
        auth::random_secret().map_err(internal)?
    );
    let token = state
        .store
        .add_api_token(
            &principal.context(),
            &NewApiToken {
                name: parse_text("name", &body.name)?,
                token_hash: auth::secret_hash(&secret),
                organisation,
                role,
            },
        )
        .await?;
    Ok(CreatedToken {
        token: views::token(&token),
        secret,
    })
}

/// Revokes an API token at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    params(("id" = i64, Path, description = "Token id")),
    responses((status = 200, description = "Revoked", body = TokenView)))]
pub async fn revoke_token<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<TokenView>, ApiError> {
    revoke_token_as(&state, &principal, id).await.map(Json)
}

/// Revokes an API token on behalf of `principal`.
pub(crate) async fn revoke_token_as<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
    id: i64,
) -> Result<TokenView, ApiError> {
    let scope = scope_of(state, principal).await?;
    let in_scope = state
        .store
        .api_tokens()
        .await?
        .into_iter()
        .any(|token| token.id == id && scope.includes(&token.organisation));
    if !in_scope {
        return Err(not_found("API token", id));
    }
    let token = state
        .store
        .revoke_api_token(&principal.context(), id)
        .await?;
    Ok(views::token(&token))
}

/// The product catalogue, shared by every organisation.
#[utoipa::path(get, path = "/api/v1/products", tag = "products",
    responses((status = 200, description = "Products with their versions", body = Vec<ProductView>)))]
pub async fn list_products<S: Store>(
    State(state): AppStateOf<S>,
) -> Result<Json<Vec<ProductView>>, ApiError> {
    Ok(Json(
        state
            .store
            .products()
            .await?
            .iter()
            .map(views::product)
            .collect(),
    ))
}

/// Registers a product.
#[utoipa::path(post, path = "/api/v1/products", tag = "products", request_body = NewProduct,
    responses((status = 201, description = "Registered", body = ProductView)))]
pub async fn add_product<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    ApiJson(body): ApiJson<NewProduct>,
) -> Result<(StatusCode, Json<ProductView>), ApiError> {
    let product = Product {
        vendor: parse_text("vendor", &body.vendor)?,
        name: parse_text("name", &body.name)?,
        intended_purpose: parse_text("intended_purpose", &body.intended_purpose)?,
        modality: Modality::parse(&body.modality).map_err(|error| invalid("modality", error))?,
        body_part: parse_text("body_part", &body.body_part)?,
        task_type: TaskType::parse(&body.task_type).map_err(|error| invalid("task_type", error))?,
        regulatory_class: RegulatoryClass::parse(&body.regulatory_class)
            .map_err(|error| invalid("regulatory_class", error))?,
        marking: parse_text("marking", &body.marking)?,
    };
    let id = state
        .store
        .add_product(&principal.context(), &product)
        .await?;
    let record = state.store.product(id).await?;
    Ok((StatusCode::CREATED, Json(views::product(&record))))
}

/// One product with its versions.
#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "products",
    params(("id" = i64, Path, description = "Product id")),
    responses((status = 200, description = "The product", body = ProductView)))]
pub async fn get_product<S: Store>(
    State(state): AppStateOf<S>,
    Path(id): Path<i64>,
) -> Result<Json<ProductView>, ApiError> {
    let record = state.store.product(ProductId(id)).await?;
    Ok(Json(views::product(&record)))
}

/// Registers a new version of a product. Deployments move to it by
/// `POST /deployments/{id}/upgrade`.
#[utoipa::path(post, path = "/api/v1/products/{id}/versions", tag = "products", request_body = NewVersion,
    params(("id" = i64, Path, description = "Product id")),
    responses((status = 201, description = "Registered", body = VersionView)))]
pub async fn add_version<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<NewVersion>,
) -> Result<(StatusCode, Json<VersionView>), ApiError> {
    let version =
        ProductVersion {
            version: parse_text("version", &body.version)?,
            release_date: body.release_date.trim().parse().map_err(|error| {
                invalid("release_date", format!("{error}; expected YYYY-MM-DD"))
            })?,
            change_notes: parse_text("change_notes", &body.change_notes)?,
            change_kind: ChangeKind::parse(&body.change_kind)
                .map_err(|error| invalid("change_kind", error))?,
        };
    let version_id = state
        .store
        .add_version(&principal.context(), ProductId(id), &version)
        .await?;
    let record = state.store.product(ProductId(id)).await?;
    let view = views::product(&record)
        .versions
        .into_iter()
        .find(|version| version.id == version_id.0)
        .ok_or_else(|| internal("a stored version is missing from its product"))?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Filters of the deployment list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeploymentFilter {
    /// Only deployments of this product.
    product: Option<i64>,
}

/// The deployments at sites within the caller's organisation.
#[utoipa::path(get, path = "/api/v1/deployments", tag = "deployments", params(DeploymentFilter),
    responses((status = 200, description = "Deployments (without decisions)", body = Vec<DeploymentView>)))]
pub async fn list_deployments<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Query(filter): Query<DeploymentFilter>,
) -> Result<Json<Vec<DeploymentView>>, ApiError> {
    let scope = scope_of(&state, &principal).await?;
    Ok(Json(
        state
            .store
            .deployments()
            .await?
            .iter()
            .filter(|record| scope.includes(&record.deployment.site))
            .filter(|record| {
                filter
                    .product
                    .is_none_or(|product| record.product.0 == product)
            })
            .map(views::deployment)
            .collect(),
    ))
}

/// The deployment with this id, if it is within the caller's organisation;
/// otherwise the same `not_found` as for an id that does not exist.
pub(crate) async fn deployment_in_scope<S: Store>(
    state: &AppState<S>,
    scope: &Scope,
    id: i64,
) -> Result<vigil_store::DeploymentRecord, ApiError> {
    let record = match state.store.deployment(DeploymentId(id)).await {
        Ok(record) => record,
        Err(vigil_store::StoreError::NotFound { .. }) => return Err(not_found("deployment", id)),
        Err(error) => return Err(error.into()),
    };
    if scope.includes(&record.deployment.site) {
        Ok(record)
    } else {
        Err(not_found("deployment", id))
    }
}

/// Registers a deployment of a product version at a site within the
/// caller's organisation; it starts as `proposed`.
#[utoipa::path(post, path = "/api/v1/deployments", tag = "deployments", request_body = NewDeployment,
    responses((status = 201, description = "Registered", body = DeploymentView)))]
pub async fn add_deployment<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    ApiJson(body): ApiJson<NewDeployment>,
) -> Result<(StatusCode, Json<DeploymentView>), ApiError> {
    let scope = scope_of(&state, &principal).await?;
    let site = parse_code("site", &body.site)?;
    if !scope.includes(&site) {
        return Err(not_found("organisation", &site));
    }
    let thresholds = body
        .thresholds
        .iter()
        .map(|threshold| {
            Ok((
                parse_text("thresholds.name", &threshold.name)?,
                OperatingThreshold::parse(threshold.value)
                    .map_err(|error| invalid("thresholds.value", error))?,
            ))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let kinds = body
        .change_control
        .iter()
        .map(|kind| ChangeKind::parse(kind).map_err(|error| invalid("change_control", error)))
        .collect::<Result<Vec<_>, ApiError>>()?;
    let deployment = Deployment {
        site,
        owning_team: parse_text("owning_team", &body.owning_team)?,
        thresholds,
        change_control: ChangeControlPlan::new(kinds)
            .map_err(|error| invalid("change_control", error))?,
    };
    let id = state
        .store
        .add_deployment(&principal.context(), VersionId(body.version), &deployment)
        .await?;
    let record = state.store.deployment(id).await?;
    Ok((StatusCode::CREATED, Json(views::deployment(&record))))
}

/// One deployment with its decisions, oldest first.
#[utoipa::path(get, path = "/api/v1/deployments/{id}", tag = "deployments",
    params(("id" = i64, Path, description = "Deployment id")),
    responses((status = 200, description = "The deployment", body = DeploymentView)))]
pub async fn get_deployment<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<DeploymentView>, ApiError> {
    let scope = scope_of(&state, &principal).await?;
    let record = deployment_in_scope(&state, &scope, id).await?;
    Ok(Json(views::deployment(&record)))
}

/// Moves a deployment to a newer version of its product: it keeps its
/// state only where its change-control plan covers the change, and
/// otherwise re-enters validation.
#[utoipa::path(post, path = "/api/v1/deployments/{id}/upgrade", tag = "deployments", request_body = UpgradeRequest,
    params(("id" = i64, Path, description = "Deployment id")),
    responses((status = 200, description = "Upgraded", body = DeploymentView)))]
pub async fn upgrade_deployment<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<UpgradeRequest>,
) -> Result<Json<DeploymentView>, ApiError> {
    let scope = scope_of(&state, &principal).await?;
    deployment_in_scope(&state, &scope, id).await?;
    let record = state
        .store
        .upgrade_deployment(
            &principal.context(),
            DeploymentId(id),
            VersionId(body.version),
        )
        .await?;
    Ok(Json(views::deployment(&record)))
}

/// The sign-off policy in force: which roles each transition requires.
#[utoipa::path(get, path = "/api/v1/policy", tag = "deployments",
    responses((status = 200, description = "The policy", body = PolicyView)))]
pub async fn policy<S: Store>(State(state): AppStateOf<S>) -> Result<Json<PolicyView>, ApiError> {
    let stored = state.store.sign_off_policy().await?;
    let names = |roles: &[Role]| roles.iter().map(|role| role.as_str().to_owned()).collect();
    Ok(Json(PolicyView {
        version: stored.version,
        requirements: stored
            .policy
            .requirements()
            .iter()
            .map(|requirement| PolicyRequirement {
                from: requirement.from.as_str().to_owned(),
                to: requirement.to.as_str().to_owned(),
                roles: names(&requirement.roles),
                radiotherapy_roles: names(&requirement.radiotherapy_roles),
            })
            .collect(),
    }))
}
