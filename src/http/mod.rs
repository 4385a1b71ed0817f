//! HTTP: routing, extractors, SCIM media types and error rendering. Handlers stay thin:
//! parse, call the protocol layer and the store, render.

mod activity;
mod admin;
mod bulk;
mod capture;
mod center_api;
mod clock;
mod discovery;
mod endpoints;
mod error;
mod extract;
mod faults;
mod groups;
mod health;
mod hygiene;
mod journal;
mod metrics;
mod overload;
mod paths;
mod render;
mod root;
mod search;
mod snapshot;
mod throttle;
mod ui;
mod users;

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
use error::ApiError;

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
    /// Faults injected on purpose (off until one is set).
    pub(crate) faults: Arc<crate::faults::Faults>,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The SCIM endpoints, mounted at `/scim/v2`, `/scim` (LinkedIn's documented tenant URL
/// is `https://api.linkedin.com/scim`) and the server root (the guides also give bare
/// hosts, so an IdP sends `/Users`).
fn scim_endpoints() -> Router<AppState> {
    Router::new()
        .merge(users::router())
        .merge(groups::router())
        .merge(search::router())
        .merge(discovery::router())
        .merge(root::router())
}

fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed("this endpoint does not support that HTTP method".into())
}

/// The endpoints with `/Bulk`, whose operations go through the other endpoints as
/// requests of their own (journaled one by one).
fn scim_endpoints_with_bulk(state: &AppState) -> Router<AppState> {
    let operations: Router = scim_endpoints()
        .method_not_allowed_fallback(|| async { method_not_allowed() })
        .fallback(|| async { ApiError::NotFound("no such SCIM endpoint".into()) })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            activity::record,
        ))
        .with_state(state.clone());
    scim_endpoints()
        .route(
            "/Bulk",
            axum::routing::post(
                move |scim: extract::Scim,
                      uri: axum::extract::OriginalUri,
                      headers: axum::http::HeaderMap,
                      body: extract::ScimJson| {
                    bulk::bulk(operations.clone(), scim, uri, headers, body)
                },
            ),
        )
        .method_not_allowed_fallback(|| async { method_not_allowed() })
}

/// One mount of the SCIM endpoints: unrouted paths may be variants of an endpoint
/// (`paths.rs`); every authenticated request is journaled.
fn scim_routes(state: &AppState) -> Router<AppState> {
    let exact = scim_endpoints_with_bulk(state).with_state(state.clone());
    let fallback_state = state.clone();
    scim_endpoints_with_bulk(state)
        .fallback(move |request: axum::extract::Request| {
            paths::variant(fallback_state.clone(), exact.clone(), request)
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            faults::inject,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            activity::record,
        ))
}

pub(crate) fn router(state: AppState) -> Router {
    let body_limit = state.settings.max_body_bytes;
    let in_flight = Arc::new(tokio::sync::Semaphore::new(
        usize::try_from(state.settings.max_in_flight_requests.max(1)).unwrap_or(usize::MAX),
    ));
    let request_timeout = std::time::Duration::from_secs(state.settings.request_timeout_secs.max(1));
    Router::new()
        .nest("/scim/v2", scim_routes(&state))
        .nest("/scim", scim_routes(&state))
        .merge(admin::router())
        .merge(center_api::router())
        .merge(clock::router())
        .merge(journal::router())
        .merge(faults::router())
        .merge(snapshot::router())
        .merge(ui::router())
        // Whatever the routes above do not take is the root mount's: /admin and the
        // health routes are never shadowed.
        .fallback_service(scim_routes(&state).with_state(state.clone()))
        .layer(axum::middleware::from_fn_with_state(request_timeout, overload::deadline))
        .layer(axum::middleware::from_fn_with_state(in_flight, overload::limit_in_flight))
        // Outside the load shedding: probes and scrapes answer while requests are refused.
        .merge(health::router())
        .merge(metrics::router(state.settings.metrics_public))
        .route_layer(axum::middleware::from_fn(metrics::track))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
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
        .with_state(state)
}
