//! Load shedding: a cap on requests in flight and a deadline per request, both answered
//! 503 + `Retry-After` with a SCIM error body. Health probes are mounted outside them so
//! an orchestrator still sees the process alive under load.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::error::ApiError;

/// Refuse a request when `max_in_flight_requests` are already being handled.
pub(crate) async fn limit_in_flight(
    State(slots): State<Arc<Semaphore>>,
    request: Request,
    next: Next,
) -> Response {
    match slots.try_acquire() {
        Ok(_slot) => next.run(request).await,
        Err(_) => {
            tracing::warn!("request refused: too many requests in flight");
            ApiError::Unavailable("the server is handling too many requests: retry later".into())
                .into_response()
        }
    }
}

/// Set when a request's deadline passed: the journal's record of a request dropped
/// then says it timed out (503), not that the client left.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeadlinePassed(Arc<AtomicBool>);

impl DeadlinePassed {
    pub(crate) fn passed(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Answer 503 when a request (its body upload included) outlives `request_timeout_secs`.
pub(crate) async fn deadline(State(limit): State<Duration>, mut request: Request, next: Next) -> Response {
    let passed = DeadlinePassed::default();
    request.extensions_mut().insert(passed.clone());
    // Pinned here, so the request is dropped when this returns, after the flag is set.
    let run = next.run(request);
    tokio::pin!(run);
    match tokio::time::timeout(limit, run.as_mut()).await {
        Ok(response) => response,
        Err(_) => {
            passed.0.store(true, Ordering::Relaxed);
            tracing::warn!(seconds = limit.as_secs(), "request timed out");
            ApiError::Unavailable(format!(
                "the request did not complete within {} s: retry later",
                limit.as_secs()
            ))
            .into_response()
        }
    }
}
