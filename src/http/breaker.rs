//! The database circuit breaker: once a request has met the database down (its
//! connection refused or reset, no connection within the acquire timeout) and a new
//! connection made outside the pool fails too, every request is answered 503 +
//! `Retry-After` at once instead of each waiting the full `database_acquire_timeout_ms`.
//! A probe retries a connection every [`PROBE_EVERY`] and closes the breaker when one
//! succeeds. A saturated pool does not open it: the probe's own connection succeeds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, DatabaseDown};
use crate::store::Store;

/// How often an open breaker tries the database again.
const PROBE_EVERY: Duration = Duration::from_millis(250);
/// How long one probe's connection may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

pub(crate) struct Breaker {
    store: Arc<dyn Store>,
    open: AtomicBool,
    probing: AtomicBool,
}

impl Breaker {
    pub(crate) fn new(store: Arc<dyn Store>) -> Breaker {
        Breaker {
            store,
            open: AtomicBool::new(false),
            probing: AtomicBool::new(false),
        }
    }

    /// A request met the database down: probe it, and open the breaker while the probe
    /// fails (one probe at a time).
    fn tripped(self: &Arc<Self>) {
        if self.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        let breaker = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                let reachable = matches!(
                    tokio::time::timeout(PROBE_TIMEOUT, breaker.store.probe()).await,
                    Ok(Ok(()))
                );
                if reachable {
                    if breaker.open.swap(false, Ordering::AcqRel) {
                        tracing::info!("the database answers again: requests are served");
                    }
                    break;
                }
                if !breaker.open.swap(true, Ordering::AcqRel) {
                    tracing::warn!(
                        "the database is down: requests are answered 503 at once until it answers"
                    );
                }
                tokio::time::sleep(PROBE_EVERY).await;
            }
            breaker.probing.store(false, Ordering::Release);
        });
    }
}

pub(crate) async fn guard(State(breaker): State<Arc<Breaker>>, request: Request, next: Next) -> Response {
    if breaker.open.load(Ordering::Acquire) {
        tracing::debug!("request refused: the database is known to be down");
        return ApiError::DatabaseUnavailable.into_response();
    }
    let response = next.run(request).await;
    if response.extensions().get::<DatabaseDown>().is_some() {
        breaker.tripped();
    }
    response
}
