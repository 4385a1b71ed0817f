//! Liveness (`/healthz`: the process serves HTTP) and readiness (`/readyz`: the
//! database answers too), for load balancers and orchestrators.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;

use super::AppState;
use super::error::ApiError;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
}

/// How long `/readyz` waits for the database: a probe must answer within a second.
const READY_TIMEOUT: Duration = Duration::from_millis(800);

async fn ready(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    match tokio::time::timeout(READY_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => Ok("ready"),
        Ok(Err(e)) => Err(ApiError::Unavailable(format!(
            "the database is not answering: {e}"
        ))),
        Err(_) => Err(ApiError::Unavailable(
            "the database did not answer within 800 ms".into(),
        )),
    }
}
