//! The manual clock over the admin API (`/admin/api/clock`): read it, set it, advance it.
//! Only a server started with `--clock manual` lets its clock be moved.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::auth::{Admin, body_as};
use crate::clock::{ClockMode, ManualClock, rfc3339};
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::ScimJson;
use crate::scim::error::ProtocolError;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/api/clock", get(show).put(set))
        .route("/admin/api/clock/advance", post(advance))
}

/// The server's clock.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ClockView {
    mode: ClockMode,
    /// RFC 3339, microseconds.
    now: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetClock {
    /// RFC 3339.
    now: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceClock {
    /// Whole seconds; negative moves the clock back.
    seconds: i64,
}

fn view(state: &AppState) -> Response {
    let mode = if state.clock.manual().is_some() {
        ClockMode::Manual
    } else {
        ClockMode::System
    };
    axum::Json(ClockView {
        mode,
        now: rfc3339(state.clock.now_micros()),
    })
    .into_response()
}

fn manual(state: &AppState) -> ApiResult<&ManualClock> {
    state.clock.manual().ok_or_else(|| {
        ApiError::WrongState(
            "the server runs on the system clock: start it with --clock manual to move time".into(),
        )
    })
}

#[utoipa::path(get, path = "/admin/api/clock", tag = "harness", responses((status = 200, body = Object, description = "`{\"mode\": \"manual\", \"now\": RFC 3339}`")))]
pub(super) async fn show(State(state): State<AppState>, _: Admin) -> Response {
    view(&state)
}

#[utoipa::path(put, path = "/admin/api/clock", tag = "harness", request_body = Object, responses((status = 200, body = Object), (status = 400), (status = 409, description = "the server runs on the system clock")))]
pub(super) async fn set(
    State(state): State<AppState>,
    _: Admin,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let SetClock { now } = body_as(body, r#"{"now": "<RFC 3339 time>"}"#)?;
    manual(&state)?.set(now);
    Ok(view(&state))
}

#[utoipa::path(post, path = "/admin/api/clock/advance", tag = "harness", request_body = Object, responses((status = 200, body = Object), (status = 400), (status = 409)))]
pub(super) async fn advance(
    State(state): State<AppState>,
    _: Admin,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let AdvanceClock { seconds } = body_as(body, r#"{"seconds": <integer>}"#)?;
    let clock = manual(&state)?;
    chrono::Duration::try_seconds(seconds)
        .and_then(|by| clock.advance(by))
        .ok_or_else(|| {
            ProtocolError::invalid_value("seconds: the clock would leave the representable range")
        })?;
    Ok(view(&state))
}
