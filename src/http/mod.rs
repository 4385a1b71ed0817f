//! HTTP: routing, extractors, SCIM media types and error rendering. Handlers stay thin:
//! parse, call the protocol layer and the store, render.

mod activity;
mod admin;
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
mod render;
mod root;
mod search;
mod snapshot;
mod ui;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::accounts::TokenHash;
use crate::activity::ActivityWriter;
use crate::clock::Clock;
use crate::config::Settings;
use crate::store::Store;
use error::ApiError;

/// What every handler can reach.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) settings: Arc<Settings>,
    /// Hash of the admin API token.
    pub(crate) admin_token: Arc<TokenHash>,
    pub(crate) activity: ActivityWriter,
    /// Faults injected on purpose (off until one is set).
    pub(crate) faults: Arc<crate::faults::Faults>,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The SCIM endpoints, mounted at both `/scim/v2` and `/scim` (LinkedIn's documented
/// tenant URL is `https://api.linkedin.com/scim`).
fn scim_routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(users::router())
        .merge(groups::router())
        .merge(search::router())
        .merge(discovery::router())
        .merge(root::router())
        .fallback(|| async { ApiError::NotFound("no such SCIM endpoint".into()) })
        .method_not_allowed_fallback(|| async {
            ApiError::MethodNotAllowed("this endpoint does not support that HTTP method".into())
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
    Router::new()
        .nest("/scim/v2", scim_routes(&state))
        .nest("/scim", scim_routes(&state))
        .merge(health::router())
        .merge(admin::router())
        .merge(center_api::router())
        .merge(clock::router())
        .merge(journal::router())
        .merge(faults::router())
        .merge(snapshot::router())
        .merge(ui::router())
        .fallback(|| async { ApiError::NotFound("not found".into()) })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let request_id = request
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
            }),
        )
        .layer(axum::middleware::from_fn(hygiene::refuse_nul))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::from_fn(hygiene::request_id))
        .with_state(state)
}
