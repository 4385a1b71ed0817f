//! The Account Center's sessions over the admin API: sign out everywhere
//! (`DELETE /admin/api/sessions`), as the button beside "Sign out" does, for an admin
//! who is not at a browser (a session cookie left on a shared machine).

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::delete;
use serde::Serialize;

use super::auth::Admin;
use crate::http::AppState;
use crate::http::error::ApiResult;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/admin/api/sessions", delete(end_all_sessions))
}

/// How many Account Center sessions ended.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct SessionsEnded {
    ended: u64,
}

/// End every Account Center session of this server (every replica on the database):
/// each signed-in browser is sent to the sign-in page at its next request.
#[utoipa::path(delete, path = "/admin/api/sessions", tag = "sessions",
    responses((status = 200, body = SessionsEnded)))]
pub(super) async fn end_all_sessions(State(state): State<AppState>, _: Admin) -> ApiResult<Response> {
    let ended = state.store.end_all_sessions().await?;
    tracing::info!(sessions = ended, "every Account Center session ended (admin API)");
    Ok(axum::Json(SessionsEnded { ended }).into_response())
}
