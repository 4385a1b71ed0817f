//! The admin JSON API (`/admin/api`): what an Account Center admin does. License pools
//! and seat counts, token refresh, license activation (emulating the user accepting
//! it) and revocation. Authenticated with the admin token, not a SCIM token; errors use
//! the same error body as SCIM.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{ScimJson, bearer_token};
use crate::accounts::fidelity::LicenseEdit;
use crate::accounts::token_expiry;
use crate::accounts::{Account, BearerToken};
use crate::activity::ActivityRecord;
use crate::ids::{GroupId, PoolId, UserId};
use crate::licensing::Product;
use crate::membership::MemberOrigin;
use crate::scim::error::ProtocolError;
use crate::store::{ActivityQuery, StoreError, StoreResult};

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

/// A request carrying the admin token.
pub(crate) struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match bearer_token(&parts.headers) {
            Ok(token) if state.admin_token.matches(&token.hash().0) => Ok(Admin),
            _ => Err(ApiError::Unauthorized(
                "the admin API needs the admin bearer token".into(),
            )),
        }
    }
}

async fn account(state: &AppState, name: &str) -> ApiResult<Account> {
    state
        .store
        .account_by_name(name)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no account {name:?}")))
}

/// An admin request body of the shape `expected` (named in the 400 when it is not).
fn body_as<T: serde::de::DeserializeOwned>(body: serde_json::Value, expected: &str) -> ApiResult<T> {
    serde_json::from_value(body)
        .map_err(|e| ApiError::Protocol(ProtocolError::invalid_value(format!("expected {expected}: {e}"))))
}

fn product(text: String) -> ApiResult<Product> {
    Product::try_from(text).map_err(|e| ApiError::Protocol(ProtocolError::invalid_value(e)))
}

async fn accounts(State(state): State<AppState>, _: Admin) -> ApiResult<Response> {
    let accounts = state.store.list_accounts().await?;
    let body: Vec<_> = accounts
        .iter()
        .map(|a| json!({"name": a.name, "fidelity": a.fidelity}))
        .collect();
    Ok(axum::Json(body).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActivityParams {
    limit: Option<u32>,
    before: Option<i64>,
    status: Option<u16>,
    method: Option<String>,
    resource_id: Option<String>,
    /// Only requests where a client departed from the RFC.
    #[serde(default)]
    tolerances: bool,
    /// `csv` for a spreadsheet export; JSON otherwise.
    format: Option<String>,
}

/// The provisioning log, newest first; `?format=csv` exports it.
async fn activity(
    State(state): State<AppState>,
    _: Admin,
    Path(name): Path<String>,
    params: Result<Query<ActivityParams>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(params) =
        params.map_err(|e| ProtocolError::invalid_value(format!("bad activity query: {}", e.body_text())))?;
    let account = account(&state, &name).await?;
    let query = ActivityQuery {
        limit: params.limit.unwrap_or(100).clamp(1, 1000),
        before_id: params.before,
        status: params.status,
        method: params.method,
        resource_id: params.resource_id,
        with_tolerances: params.tolerances,
    };
    let records = state.store.activity(&account.id, &query).await?;
    if params.format.as_deref() == Some("csv") {
        let csv = activity_csv(&records).map_err(|e| ApiError::Internal(e.to_string()))?;
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response());
    }
    Ok(axum::Json(records).into_response())
}

fn activity_csv(records: &[ActivityRecord]) -> Result<String, Box<dyn std::error::Error>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "id",
        "time",
        "method",
        "path",
        "status",
        "latency_ms",
        "resource_type",
        "resource_id",
        "outcome",
        "tolerances",
        "detail",
        "request_id",
    ])?;
    for r in records {
        let tolerances: Vec<&str> = r.tolerances.iter().map(|t| t.description()).collect();
        out.write_record([
            r.id.map(|i| i.to_string()).unwrap_or_default(),
            crate::clock::rfc3339(r.at),
            r.method.clone(),
            r.path.clone(),
            r.status.to_string(),
            format!("{:.3}", r.latency_us as f64 / 1000.0),
            r.resource_type.clone().unwrap_or_default(),
            r.resource_id.clone().unwrap_or_default(),
            r.outcome.clone().unwrap_or_default(),
            tolerances.join("; "),
            r.detail.clone().unwrap_or_default(),
            r.request_id.clone().unwrap_or_default(),
        ])?;
    }
    Ok(String::from_utf8(out.into_inner()?)?)
}

/// Test-harness control: empty the account between two test runs of an IdP connector
/// (users, groups, licenses, activity), keeping its configurations, tokens and pools.
async fn reset(State(state): State<AppState>, _: Admin, Path(name): Path<String>) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    let (users, groups) = state.store.reset_account(&account.id).await?;
    Ok(axum::Json(json!({ "users": users, "groups": groups })).into_response())
}

async fn pools(State(state): State<AppState>, _: Admin, Path(name): Path<String>) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    Ok(axum::Json(state.store.pools(&account.id).await?).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PoolChange {
    seats: Option<i64>,
    promote_waiting: Option<bool>,
}

async fn update_pool(
    State(state): State<AppState>,
    _: Admin,
    Path((name, pool)): Path<(String, PoolId)>,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let change: PoolChange = body_as(body, r#"{"seats": n, "promoteWaiting": bool}"#)?;
    if change.seats.is_some_and(|s| s < 0) {
        return Err(ProtocolError::invalid_value("seats cannot be negative").into());
    }
    let account = account(&state, &name).await?;
    let usage = state
        .store
        .set_pool(
            &account.id,
            &pool,
            change.seats,
            change.promote_waiting,
            state.clock.now_micros(),
        )
        .await?;
    Ok(axum::Json(usage).into_response())
}

/// Generate a new token for a configuration: shown once, and the old one stops working
/// at once (every IdP using it must be updated, as on LinkedIn).
async fn refresh_token(
    State(state): State<AppState>,
    _: Admin,
    Path((name, configuration)): Path<(String, String)>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    let token = BearerToken::generate();
    let now = state.clock.now_micros();
    let expires_at = token_expiry(&account.fidelity, now);
    if !state
        .store
        .replace_token(&account.id, &configuration, &token.hash(), expires_at, now)
        .await?
    {
        return Err(ApiError::NotFound(format!(
            "no SCIM configuration {configuration:?}"
        )));
    }
    let body = json!({
        "token": token.expose(),
        "expiresAt": expires_at.map(crate::clock::rfc3339),
    });
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewMembers {
    /// User ids.
    members: Vec<UserId>,
}

/// Members added directly in the Account Center: origin `admin`, so a SCIM replace of
/// members (Okta's "Push Now") leaves them in place, as LinkedIn does.
async fn add_group_members(
    State(state): State<AppState>,
    _: Admin,
    Path((name, group)): Path<(String, GroupId)>,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let new: NewMembers = body_as(body, r#"{"members": ["<user id>", …]}"#)?;
    let account = account(&state, &name).await?;
    let added = state
        .store
        .add_members(
            &account.id,
            &group,
            &new.members,
            MemberOrigin::Admin,
            state.clock.now_micros(),
        )
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::NotFound(format!("Group {group} not found")),
            other => other.into(),
        })?;
    Ok(axum::Json(json!({ "added": added })).into_response())
}

async fn user_licenses(
    State(state): State<AppState>,
    _: Admin,
    Path((name, user)): Path<(String, UserId)>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    if state.store.get_user(&account.id, &user).await?.is_none() {
        return Err(ApiError::NotFound(format!("User {user} not found")));
    }
    let licenses: Vec<_> = state
        .store
        .licenses(&account.id, std::slice::from_ref(&user))
        .await?
        .into_iter()
        .map(|(_, license)| license)
        .collect();
    Ok(axum::Json(licenses).into_response())
}

/// The user accepts the license: `assigned` → `activated` (allowed under the admin lock:
/// see [`Fidelity::check_license_edit`](crate::accounts::Fidelity::check_license_edit)).
async fn activate_license(
    State(state): State<AppState>,
    _: Admin,
    Path((name, user, product_name)): Path<(String, UserId, String)>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    let product = product(product_name)?;
    account.fidelity.check_license_edit(LicenseEdit::Activate)?;
    let done = state
        .store
        .activate_license(&account.id, &user, &product, state.clock.now_micros())
        .await;
    license_changed(done, &user, &product)
}

/// 204, or the store's refusal; "not found" names the missing license.
fn license_changed(done: StoreResult<()>, user: &str, product: &Product) -> ApiResult<Response> {
    done.map_err(|e| match e {
        StoreError::NotFound => ApiError::NotFound(format!("User {user} holds no {product} license")),
        other => other.into(),
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn revoke_license(
    State(state): State<AppState>,
    _: Admin,
    Path((name, user, product_name)): Path<(String, UserId, String)>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    let product = product(product_name)?;
    account.fidelity.check_license_edit(LicenseEdit::Revoke)?;
    let done = state
        .store
        .revoke_license(&account.id, &user, &product, state.clock.now_micros())
        .await;
    license_changed(done, &user, &product)
}
