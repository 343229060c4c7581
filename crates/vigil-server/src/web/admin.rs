//! The administration page: the users and API tokens of the signed-in
//! administrator's organisation and below, with forms to add users, change
//! their role, disable or re-enable them, and create or revoke tokens. Every
//! change goes through the same checks as the API's (scope, the roles a
//! caller may grant) and is audited by the store.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Router};
use maud::{Markup, html};
use serde::Deserialize;
use vigil_api_types::wire::{NewToken, NewUser, UserChangeRequest};
use vigil_domain::Role;
use vigil_store::Store;

use super::{Person, csrf_of, layout, page, person_with_form, problem, server_failed, when};
use crate::AppState;
use crate::access::{Permission, Scope};
use crate::api::registry::{add_token_as, add_user_as, change_user_as, revoke_token_as};
use crate::auth::Principal;
use crate::error::ApiError;

/// The administration routes.
pub(super) fn routes<S: Store + 'static>() -> Router<Arc<AppState<S>>> {
    use axum::routing::{get, post};
    Router::new()
        .route("/admin", get(admin_page::<S>))
        .route("/admin/users", post(add_user_action::<S>))
        .route("/admin/users/{id}", post(change_user_action::<S>))
        .route("/admin/tokens", post(add_token_action::<S>))
        .route("/admin/tokens/{id}/revoke", post(revoke_token_action::<S>))
}

/// Whether the role may use the administration page at all.
pub(super) fn may_administer(role: Role) -> bool {
    Permission::ManageUsers.granted_to(role) || Permission::ManageTokens.granted_to(role)
}

fn refuse_non_administrator(principal: &Principal) -> Option<Response> {
    (!may_administer(principal.actor.role)).then(|| {
        problem(
            StatusCode::FORBIDDEN,
            Some(principal),
            &format!(
                "The role {} may not manage users or API tokens.",
                principal.actor.role.as_str()
            ),
        )
    })
}

/// The administrator who sent a form with their session's CSRF token; else
/// the refusal to show.
async fn administrator_of_form<S: Store>(
    state: &AppState<S>,
    headers: &HeaderMap,
    presented_csrf: &str,
) -> Result<Principal, Response> {
    let principal = person_with_form(state, headers, presented_csrf).await?;
    match refuse_non_administrator(&principal) {
        Some(refusal) => Err(refusal),
        None => Ok(principal),
    }
}

/// The page for a change the API core refused: its message (written for
/// the client) with its status; internal detail goes to the log only.
fn refused_change(principal: &Principal, error: ApiError) -> Response {
    let status =
        StatusCode::from_u16(error.code().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        return server_failed(principal, "an administration change", &format!("{error:?}"));
    }
    problem(
        status,
        Some(principal),
        &format!("Nothing was changed: {}.", error.message()),
    )
}

fn back_to_admin(anchor: &str) -> Response {
    let mut response = Redirect::to(&format!("/admin#{anchor}")).into_response();
    *response.status_mut() = StatusCode::SEE_OTHER;
    response
}

async fn admin_scope<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
) -> Result<Scope, Response> {
    crate::api::scope_of(state, principal)
        .await
        .map_err(|error| refused_change(principal, error))
}

/// Roles offered in the forms: those the caller may grant (a national
/// administrator only by another).
fn grantable_roles(principal: &Principal) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|role| *role != Role::NationalAdmin || principal.actor.role == Role::NationalAdmin)
        .collect()
}

async fn admin_page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Person(principal): Person,
) -> Response {
    if let Some(refusal) = refuse_non_administrator(&principal) {
        return refusal;
    }
    let scope = match admin_scope(&state, &principal).await {
        Ok(scope) => scope,
        Err(refusal) => return refusal,
    };
    let users = match state.store.users().await {
        Ok(users) => users,
        Err(error) => return server_failed(&principal, "listing users", &error.to_string()),
    };
    let tokens = match state.store.api_tokens().await {
        Ok(tokens) => tokens,
        Err(error) => return server_failed(&principal, "listing tokens", &error.to_string()),
    };
    let csrf = csrf_of(&principal);
    let roles = grantable_roles(&principal);
    let mut organisations = vec![principal.actor.organisation.clone()];
    organisations.extend(
        scope
            .tree
            .descendants(&principal.actor.organisation)
            .into_iter()
            .map(|organisation| organisation.code.clone()),
    );
    let name_of = |code: &vigil_domain::Code| {
        scope
            .tree
            .get(code)
            .map(|organisation| organisation.name.to_string())
            .unwrap_or_else(|| code.to_string())
    };
    let role_options = |selected: Option<Role>| {
        html! {
            @for role in &roles {
                option value=(role.as_str()) selected[selected == Some(*role)] { (role.as_str()) }
            }
        }
    };
    let organisation_options = html! {
        @for code in &organisations {
            option value=(code) { (name_of(code)) " (" (code) ")" }
        }
    };
    let users_in_scope: Vec<_> = users
        .iter()
        .filter(|user| scope.includes(&user.organisation))
        .collect();
    let tokens_in_scope: Vec<_> = tokens
        .iter()
        .filter(|token| scope.includes(&token.organisation))
        .collect();
    page(
        StatusCode::OK,
        layout(
            "Administration",
            Some(&principal),
            html! {
                h1 { "Administration" }
                p.muted { "Users and API tokens of " (name_of(&principal.actor.organisation)) " and the organisations below it. Every change is recorded in the audit trail." }
                section.card aria-labelledby="users" id="user-list" {
                    h2 id="users" { "Users (" (users_in_scope.len()) ")" }
                    table {
                        thead { tr {
                            th scope="col" { "User name" } th scope="col" { "Name" } th scope="col" { "Organisation" }
                            th scope="col" { "Role" } th scope="col" { "Status" } th scope="col" { "Added" } th scope="col" { "Change" }
                        } }
                        tbody {
                            @for user in &users_in_scope {
                                tr {
                                    td { (user.user_name) }
                                    td { (user.display_name) }
                                    td { (name_of(&user.organisation)) }
                                    td { (user.role.as_str()) }
                                    td { @if user.disabled { span.alert-open { "disabled" } } @else { "active" } }
                                    td { (when(user.created_at)) }
                                    td {
                                        form.inline method="post" action={ "/admin/users/" (user.id) } {
                                            input type="hidden" name="csrf" value=(csrf);
                                            label.visually-hidden for={ "role-" (user.id) } { "New role for " (user.user_name) }
                                            select id={ "role-" (user.id) } name="role" { (role_options(Some(user.role))) }
                                            button type="submit" name="change" value="role" { "Set role" }
                                            @if user.disabled {
                                                button type="submit" name="change" value="enable" { "Enable" }
                                            } @else {
                                                button type="submit" name="change" value="disable" { "Disable" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                section.card aria-labelledby="add-user" {
                    h2 id="add-user" { "Add a user" }
                    form.stacked method="post" action="/admin/users" {
                        input type="hidden" name="csrf" value=(csrf);
                        label for="new-user-name" { "User name" }
                        input type="text" id="new-user-name" name="user_name" required autocomplete="off";
                        label for="new-display-name" { "Full name" }
                        input type="text" id="new-display-name" name="display_name" required;
                        label for="new-organisation" { "Organisation" }
                        select id="new-organisation" name="organisation" { (organisation_options) }
                        label for="new-role" { "Role" }
                        select id="new-role" name="role" { (role_options(Some(Role::Viewer))) }
                        label for="new-password" { "Password (at least 12 characters; leave empty to set it later)" }
                        input type="password" id="new-password" name="password" autocomplete="new-password";
                        button.primary type="submit" { "Add the user" }
                    }
                }
                section.card aria-labelledby="tokens" id="token-list" {
                    h2 id="tokens" { "API tokens (" (tokens_in_scope.len()) ")" }
                    p.muted { "Tokens let programs (an ingestion feed, a PACS bridge) call the API with one organisation's scope and one role. Secrets are shown once, when created, and stored only as hashes." }
                    @if tokens_in_scope.is_empty() {
                        p { "No tokens." }
                    } @else {
                        table {
                            thead { tr {
                                th scope="col" { "Name" } th scope="col" { "Organisation" } th scope="col" { "Role" }
                                th scope="col" { "Created" } th scope="col" { "Last used" } th scope="col" { "Status" }
                            } }
                            tbody {
                                @for token in &tokens_in_scope {
                                    tr {
                                        td { (token.name) }
                                        td { (name_of(&token.organisation)) }
                                        td { (token.role.as_str()) }
                                        td { (when(token.created_at)) " by " (token.created_by) }
                                        td { @if let Some(used) = token.last_used_at { (when(used)) } @else { "never" } }
                                        td {
                                            @if let Some(revoked) = token.revoked_at {
                                                "revoked " (when(revoked))
                                            } @else {
                                                form.inline method="post" action={ "/admin/tokens/" (token.id) "/revoke" } {
                                                    input type="hidden" name="csrf" value=(csrf);
                                                    button type="submit" aria-label={ "Revoke the token " (token.name) } { "Revoke" }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                section.card aria-labelledby="add-token" {
                    h2 id="add-token" { "Create an API token" }
                    form.stacked method="post" action="/admin/tokens" {
                        input type="hidden" name="csrf" value=(csrf);
                        label for="token-name" { "Name (what uses it)" }
                        input type="text" id="token-name" name="name" required;
                        label for="token-organisation" { "Organisation" }
                        select id="token-organisation" name="organisation" { (organisation_options) }
                        label for="token-role" { "Role" }
                        select id="token-role" name="role" { (role_options(Some(Role::AiLead))) }
                        button.primary type="submit" { "Create the token" }
                    }
                }
            },
        ),
    )
}

#[derive(Deserialize)]
struct AddUserForm {
    csrf: String,
    user_name: String,
    display_name: String,
    organisation: String,
    role: String,
    #[serde(default)]
    password: String,
}

async fn add_user_action<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Form(form): Form<AddUserForm>,
) -> Response {
    let principal = match administrator_of_form(&state, &headers, &form.csrf).await {
        Ok(principal) => principal,
        Err(refusal) => return refusal,
    };
    let body = NewUser {
        user_name: form.user_name.trim().to_owned(),
        display_name: form.display_name.trim().to_owned(),
        role: form.role,
        organisation: form.organisation,
        password: (!form.password.is_empty()).then_some(form.password),
    };
    match add_user_as(&state, &principal, body).await {
        Ok(_) => back_to_admin("user-list"),
        Err(error) => refused_change(&principal, error),
    }
}

#[derive(Deserialize)]
struct ChangeUserForm {
    csrf: String,
    /// `role`, `disable` or `enable`: which button was pressed.
    change: String,
    #[serde(default)]
    role: String,
}

async fn change_user_action<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<ChangeUserForm>,
) -> Response {
    let principal = match administrator_of_form(&state, &headers, &form.csrf).await {
        Ok(principal) => principal,
        Err(refusal) => return refusal,
    };
    let change = match form.change.as_str() {
        "role" => UserChangeRequest {
            role: Some(form.role),
            disabled: None,
        },
        "disable" | "enable" => UserChangeRequest {
            role: None,
            disabled: Some(form.change == "disable"),
        },
        _ => {
            return problem(
                StatusCode::BAD_REQUEST,
                Some(&principal),
                "The change must be role, disable or enable.",
            );
        }
    };
    let own_account = principal.user.as_ref().is_some_and(|user| user.id == id);
    if change.disabled == Some(true) && own_account {
        return problem(
            StatusCode::CONFLICT,
            Some(&principal),
            "Nothing was changed: you cannot disable your own account.",
        );
    }
    match change_user_as(&state, &principal, id, change).await {
        Ok(_) => back_to_admin("user-list"),
        Err(error) => refused_change(&principal, error),
    }
}

#[derive(Deserialize)]
struct AddTokenForm {
    csrf: String,
    name: String,
    organisation: String,
    role: String,
}

async fn add_token_action<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Form(form): Form<AddTokenForm>,
) -> Response {
    let principal = match administrator_of_form(&state, &headers, &form.csrf).await {
        Ok(principal) => principal,
        Err(refusal) => return refusal,
    };
    let body = NewToken {
        name: form.name.trim().to_owned(),
        organisation: form.organisation,
        role: form.role,
    };
    match add_token_as(&state, &principal, body).await {
        Ok(created) => page(
            StatusCode::CREATED,
            created_token_page(&principal, &created.token.name, &created.secret),
        ),
        Err(error) => refused_change(&principal, error),
    }
}

/// The one page that shows a token's secret (never stored; not cached).
fn created_token_page(principal: &Principal, name: &str, secret: &str) -> Markup {
    layout(
        "Token created",
        Some(principal),
        html! {
            h1 { "Token created" }
            section.card {
                p { "The secret of the token " strong { (name) } " is shown on this page only. Copy it now into the program that will use it; Vigil keeps only its hash." }
                label for="secret" { "Secret" }
                input type="text" id="secret" readonly value=(secret) size="70";
                p { "Send it as " code { "Authorization: Bearer SECRET" } "." }
                p { a href="/admin#token-list" { "Back to administration" } }
            }
        },
    )
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn revoke_token_action<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let principal = match administrator_of_form(&state, &headers, &form.csrf).await {
        Ok(principal) => principal,
        Err(refusal) => return refusal,
    };
    match revoke_token_as(&state, &principal, id).await {
        Ok(_) => back_to_admin("token-list"),
        Err(error) => refused_change(&principal, error),
    }
}
