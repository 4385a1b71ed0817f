//! The admin JSON API (`/admin/api`): what an Account Center admin does. License pools
//! and seat counts, token refresh, license activation (emulating the user accepting
//! it) and revocation. Authenticated with the admin token, not a SCIM token; errors use
//! the same error body as SCIM.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde::Deserialize;
use serde_json::json;

use super::auth::{Admin, account, body_as};
use crate::center::ActivityFilter;
use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::http::extract::{ScimJson, query_params};
use crate::ids::{GroupId, PoolId, UserId};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/api/accounts", get(accounts))
        .route("/admin/api/accounts/{account}/pools", get(pools))
        .route("/admin/api/accounts/{account}/reset", post(reset))
        .route("/admin/api/accounts/{account}/activity", get(activity))
        .route("/admin/api/accounts/{account}/pools/{pool}", patch(update_pool))
        .route(
            "/admin/api/accounts/{account}/groups/{group}/members",
            post(add_group_members),
        )
        .route(
            "/admin/api/accounts/{account}/configurations/{configuration}/token",
            post(refresh_token),
        )
        .route(
            "/admin/api/accounts/{account}/users/{user}/licenses",
            get(user_licenses),
        )
        .route(
            "/admin/api/accounts/{account}/users/{user}/licenses/{product}",
            axum::routing::delete(revoke_license),
        )
        .route(
            "/admin/api/accounts/{account}/users/{user}/licenses/{product}/activate",
            post(activate_license),
        )
}

#[utoipa::path(get, path = "/admin/api/accounts", tag = "accounts",
    responses((status = 200, body = Vec<super::resources::AccountView>)))]
pub(super) async fn accounts(State(state): State<AppState>, _: Admin) -> ApiResult<Response> {
    let accounts = state.center().accounts().await?;
    let body: Vec<_> = accounts
        .into_iter()
        .map(super::resources::AccountView::from)
        .collect();
    Ok(axum::Json(body).into_response())
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(super) struct ActivityParams {
    limit: Option<u32>,
    before: Option<i64>,
    status: Option<u16>,
    method: Option<String>,
    resource_id: Option<String>,
    /// A SCIM configuration's name.
    configuration: Option<String>,
    /// RFC 3339: requests at or after this time.
    since: Option<String>,
    /// Only requests where a client departed from the RFC.
    #[serde(default)]
    tolerances: bool,
    /// `csv` for a spreadsheet export; JSON otherwise.
    format: Option<String>,
}

/// The provisioning log, newest first; `?format=csv` exports it.
#[utoipa::path(get, path = "/admin/api/accounts/{account}/activity", tag = "activity", params(ActivityParams),
    responses((status = 200, body = Vec<Object>), (status = 400), (status = 404)))]
pub(super) async fn activity(
    State(state): State<AppState>,
    _: Admin,
    Path(name): Path<String>,
    params: Result<Query<ActivityParams>, QueryRejection>,
) -> ApiResult<Response> {
    let params = query_params(params, "activity")?;
    let account = account(&state, &name).await?;
    let filter = ActivityFilter {
        limit: params.limit,
        before: params.before,
        status: params.status,
        method: params.method,
        resource_id: params.resource_id,
        configuration: params.configuration,
        since: params.since,
        tolerances: params.tolerances,
        ..ActivityFilter::default()
    };
    if params.format.as_deref() == Some("csv") {
        let csv = state.center().export_activity(&account, &filter).await?;
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response());
    }
    let records = state.center().activity(&account, &filter).await?;
    Ok(axum::Json(records).into_response())
}

/// Test-harness control: empty the account between two test runs of an IdP connector
/// (users, groups, licenses, activity), keeping its configurations, tokens and pools.
#[utoipa::path(post, path = "/admin/api/accounts/{account}/reset", tag = "accounts",
    responses((status = 200, body = Object, description = r#"{"users": n, "groups": n} removed"#), (status = 404)))]
pub(super) async fn reset(
    State(state): State<AppState>,
    _: Admin,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let (users, groups) = state.center().reset_account(&name).await?;
    Ok(axum::Json(json!({ "users": users, "groups": groups })).into_response())
}

/// License pools with their seats: assigned / activated / waiting / free.
#[utoipa::path(get, path = "/admin/api/accounts/{account}/pools", tag = "licensing",
    responses((status = 200, body = Vec<crate::center::PoolView>), (status = 404)))]
pub(super) async fn pools(
    State(state): State<AppState>,
    _: Admin,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    Ok(axum::Json(state.center().pools(&account).await?).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct PoolChange {
    seats: Option<i64>,
}

/// Change a pool's seats (409 when more are in use); seats added go to the queue.
#[utoipa::path(patch, path = "/admin/api/accounts/{account}/pools/{pool}", tag = "licensing",
    request_body = PoolChange,
    responses((status = 200, body = crate::center::PoolView), (status = 400), (status = 404), (status = 409)))]
pub(super) async fn update_pool(
    State(state): State<AppState>,
    _: Admin,
    Path((name, pool)): Path<(String, PoolId)>,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let change: PoolChange = body_as(body, r#"{"seats": n}"#)?;
    let account = account(&state, &name).await?;
    let usage = state.center().update_pool(&account, &pool, change.seats).await?;
    Ok(axum::Json(usage).into_response())
}

/// Generate a new token for a configuration: shown once, and the old one stops working
/// at once (every IdP using it must be updated, as on LinkedIn).
#[utoipa::path(post, path = "/admin/api/accounts/{account}/configurations/{configuration}/token", tag = "scim",
    responses((status = 201, body = crate::center::IssuedToken), (status = 404)))]
pub(super) async fn refresh_token(
    State(state): State<AppState>,
    _: Admin,
    Path((name, configuration)): Path<(String, String)>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    let issued = state.center().refresh_token(&account, &configuration).await?;
    Ok((StatusCode::CREATED, axum::Json(issued)).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewMembers {
    /// User ids.
    members: Vec<UserId>,
}

/// Members added directly in the Account Center: origin `admin`, so a SCIM replace of
/// members (Okta's "Push Now") leaves them in place, as LinkedIn does.
#[utoipa::path(post, path = "/admin/api/accounts/{account}/groups/{group}/members", tag = "groups",
    request_body = NewMembers,
    responses((status = 200, body = Object, description = r#"{"added": n}"#), (status = 400), (status = 404)))]
pub(super) async fn add_group_members(
    State(state): State<AppState>,
    _: Admin,
    Path((name, group)): Path<(String, GroupId)>,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let new: NewMembers = body_as(body, r#"{"members": ["<user id>", …]}"#)?;
    let account = account(&state, &name).await?;
    let added = state.center().add_members(&account, &group, &new.members).await?;
    Ok(axum::Json(json!({ "added": added })).into_response())
}

#[utoipa::path(get, path = "/admin/api/accounts/{account}/users/{user}/licenses", tag = "users",
    responses((status = 200, body = Vec<Object>), (status = 404)))]
pub(super) async fn user_licenses(
    State(state): State<AppState>,
    _: Admin,
    Path((name, user)): Path<(String, UserId)>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    Ok(axum::Json(state.center().user(&account, &user).await?.licenses).into_response())
}

/// The user accepts the license: `assigned` → `activated`. Activation is the user's
/// own act on LinkedIn, so it is allowed even while SCIM manages the user.
#[utoipa::path(post, path = "/admin/api/accounts/{account}/users/{user}/licenses/{product}/activate", tag = "users",
    responses((status = 204), (status = 404), (status = 409)))]
pub(super) async fn activate_license(
    State(state): State<AppState>,
    _: Admin,
    Path((name, user, product)): Path<(String, UserId, String)>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    state.center().activate_license(&account, &user, &product).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// An admin takes a license away, freeing its seat (403 when the account locks admin edits).
#[utoipa::path(delete, path = "/admin/api/accounts/{account}/users/{user}/licenses/{product}", tag = "users",
    responses((status = 204), (status = 403), (status = 404)))]
pub(super) async fn revoke_license(
    State(state): State<AppState>,
    _: Admin,
    Path((name, user, product)): Path<(String, UserId, String)>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    state.center().revoke_license(&account, &user, &product).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
