//! The faults of an account (`/admin/api/accounts/{account}/faults`): set, list and
//! clear what `http/faults.rs` injects into its SCIM requests.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde_json::json;

use super::auth::{Admin, account, body_as};
use crate::faults::FaultSpec;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::ScimJson;
use crate::scim::error::ProtocolError;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/api/accounts/{account}/faults",
            get(list).post(add).delete(clear),
        )
        .route("/admin/api/accounts/{account}/faults/{id}", delete(clear_one))
}

#[utoipa::path(get, path = "/admin/api/accounts/{account}/faults", tag = "harness", responses((status = 200, body = Vec<Object>)))]
pub(super) async fn list(
    State(state): State<AppState>,
    _: Admin,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    let faults = state.faults.list(&account.id, state.clock.now_micros());
    Ok(axum::Json(faults).into_response())
}

#[utoipa::path(post, path = "/admin/api/accounts/{account}/faults", tag = "harness", request_body = Object, responses((status = 201, body = Object), (status = 400)))]
pub(super) async fn add(
    State(state): State<AppState>,
    _: Admin,
    Path(name): Path<String>,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let spec: FaultSpec = body_as(
        body,
        r#"{"configuration", "kind": "latency" | "error" | "throttle" | "drop", "millis" | "status" | "retryAfterSeconds", "method", "path", "rate", "count", "seconds", "seed"}"#,
    )?;
    let account = account(&state, &name).await?;
    let configurations = state.center().configurations(&account).await?;
    if !configurations.iter().any(|c| c.name == spec.configuration) {
        return Err(ProtocolError::invalid_value(format!(
            "configuration: no SCIM configuration {:?}",
            spec.configuration
        ))
        .into());
    }
    let fault = state
        .faults
        .add(account.id, spec, state.clock.now_micros())
        .map_err(ProtocolError::invalid_value)?;
    Ok((StatusCode::CREATED, axum::Json(fault)).into_response())
}

#[utoipa::path(delete, path = "/admin/api/accounts/{account}/faults", tag = "harness", responses((status = 200, body = Object)))]
pub(super) async fn clear(
    State(state): State<AppState>,
    _: Admin,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    let cleared = state.faults.clear(&account.id, None);
    Ok(axum::Json(json!({ "cleared": cleared })).into_response())
}

#[utoipa::path(delete, path = "/admin/api/accounts/{account}/faults/{id}", tag = "harness", responses((status = 204), (status = 404)))]
pub(super) async fn clear_one(
    State(state): State<AppState>,
    _: Admin,
    Path((name, id)): Path<(String, u64)>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    match state.faults.clear(&account.id, Some(id)) {
        0 => Err(ApiError::NotFound(format!("no fault {id} is set"))),
        _ => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}
