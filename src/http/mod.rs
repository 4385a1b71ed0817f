//! HTTP: routing, extractors, SCIM media types and error rendering. Handlers stay thin:
//! parse, call the protocol layer and the store, render.

mod activity;
mod admin_api;
mod breaker;
mod capture;
mod connection;
mod error;
mod extract;
mod faults;
mod health;
mod hygiene;
mod metrics;
mod overload;
mod render;
mod scim;
mod throttle;
mod ui;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::accounts::TokenHash;
use crate::clock::Clock;
use crate::config::Settings;
use crate::store::Store;
use crate::tasks::ActivityWriter;

/// What every handler can reach. Every middleware layer and extractor clones it per
/// request, so it is one shared allocation: a clone is one reference count, not one per
/// handle.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Handles>);

impl AppState {
    pub(crate) fn new(handles: Handles) -> AppState {
        AppState(Arc::new(handles))
    }
}

impl std::ops::Deref for AppState {
    type Target = Handles;

    fn deref(&self) -> &Handles {
        &self.0
    }
}

/// The shared handles behind [`AppState`].
pub(crate) struct Handles {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) settings: Arc<Settings>,
    /// Hash of the admin API token.
    pub(crate) admin_token: Arc<TokenHash>,
    pub(crate) activity: ActivityWriter,
    /// Per-configuration rate limits (this process's buckets).
    pub(crate) throttle: Arc<throttle::Throttle>,
    /// Wrong credentials per client address (this process's buckets).
    pub(crate) auth_failures: Arc<throttle::AuthFailures>,
    /// Faults injected on purpose (off until one is set).
    pub(crate) faults: Arc<crate::faults::Faults>,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub(crate) fn router(state: AppState) -> Router {
    let body_limit = state.settings.max_body_bytes;
    let slots = Arc::new(overload::Slots::from_settings(&state.settings));
    let breaker = Arc::new(breaker::Breaker::new(state.store.clone()));
    let request_timeout = std::time::Duration::from_secs(state.settings.request_timeout_secs.max(1));
    Router::new()
        .nest("/scim/v2", scim::routes(&state))
        .nest("/scim", scim::routes(&state))
        .merge(admin_api::router(&state))
        .merge(ui::router(&state))
        // Whatever the routes above do not take is the root mount's: /admin and the
        // health routes are never shadowed.
        .fallback_service(scim::routes(&state).with_state(state.clone()))
        .layer(axum::middleware::from_fn_with_state(breaker, breaker::guard))
        .layer(axum::middleware::from_fn_with_state(request_timeout, overload::deadline))
        .layer(axum::middleware::from_fn_with_state(slots.clone(), overload::limit_in_flight))
        // Outside the load shedding: probes and scrapes answer while requests are refused.
        .merge(health::router(slots))
        .merge(metrics::router(state.settings.metrics_public))
        .route_layer(axum::middleware::from_fn(metrics::track))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(
            TraceLayer::new_for_http()
                // A 5xx is logged where it is decided, once (a 500 at ERROR, a database
                // outage's 503 at WARN): not a second time here, at ERROR.
                .on_failure(())
                .make_span_with(|request: &Request<_>| {
                let request_id = request
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                // Debug level: at the default `info` the span costs nothing per request.
                tracing::debug_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
            }),
        )
        .layer(axum::middleware::from_fn(hygiene::refuse_nul))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::from_fn(hygiene::request_id))
        .layer(axum::middleware::from_fn(connection::close_if_unread))
        .with_state(state)
}
