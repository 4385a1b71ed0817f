//! Snapshots over the admin API: `GET /admin/api/accounts/{account}/snapshot` exports
//! the account's state, `PUT` replaces it with a snapshot's.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::auth::{Admin, account, body_as};
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ScimJson, query_params};
use crate::scim::error::ProtocolError;
use crate::snapshot::Snapshot;

/// `max_bytes`: the largest snapshot a restore accepts (`snapshot_max_bytes`, a whole
/// account rather than one SCIM request); larger is refused 413 once that much is read.
pub(super) fn router(max_bytes: usize) -> Router<AppState> {
    Router::new().route(
        "/admin/api/accounts/{account}/snapshot",
        get(export).put(restore).layer(DefaultBodyLimit::max(max_bytes)),
    )
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct ExportParams {
    /// Include the configurations' token hashes (tokens then keep working after a
    /// restore); never the tokens themselves.
    #[serde(default)]
    token_hashes: bool,
}

#[utoipa::path(get, path = "/admin/api/accounts/{account}/snapshot", tag = "harness", params(ExportParams), responses((status = 200, body = Object)))]
pub(super) async fn export(
    State(state): State<AppState>,
    _: Admin,
    Path(name): Path<String>,
    params: Result<Query<ExportParams>, QueryRejection>,
) -> ApiResult<Response> {
    let params = query_params(params, "snapshot")?;
    let account = account(&state, &name).await?;
    let snapshot = state.store.export_snapshot(&account, params.token_hashes).await?;
    let text = snapshot
        .to_json()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], text).into_response())
}

#[utoipa::path(put, path = "/admin/api/accounts/{account}/snapshot", tag = "harness", request_body = Object, responses((status = 204), (status = 400)))]
pub(super) async fn restore(
    State(state): State<AppState>,
    _: Admin,
    Path(name): Path<String>,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let snapshot: Snapshot = body_as(body, "a snapshot exported by GET …/snapshot")?;
    let snapshot = snapshot.validated().map_err(ProtocolError::invalid_value)?;
    let account = account(&state, &name).await?;
    let now = state.clock.now_micros();
    state.store.restore_snapshot(&account, &snapshot, now).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
