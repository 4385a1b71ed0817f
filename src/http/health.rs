//! Liveness (`/healthz`: the process serves HTTP) and readiness (`/readyz`: the
//! database answers and the in-flight slots of authenticated requests are not all
//! taken), for load balancers and orchestrators.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;

use super::AppState;
use super::error::ApiError;
use super::overload::Slots;

pub(crate) fn router(slots: Arc<Slots>) -> Router<AppState> {
    Router::new().route("/healthz", get(|| async { "ok" })).route(
        "/readyz",
        get(move |state: State<AppState>| ready(state, slots.clone())),
    )
}

/// How long `/readyz` waits for the database: a probe must answer within a second.
const READY_TIMEOUT: Duration = Duration::from_millis(800);

async fn ready(State(state): State<AppState>, slots: Arc<Slots>) -> Result<&'static str, ApiError> {
    let (in_flight, cap) = slots.authenticated_in_flight();
    if in_flight >= cap {
        return Err(ApiError::Unavailable(format!(
            "saturated: {in_flight} of {cap} in-flight request slots are taken"
        )));
    }
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
