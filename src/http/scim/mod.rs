//! The SCIM endpoints (RFC 7644): `/Users`, `/Groups`, `.search`, `/Bulk`, discovery and
//! the root. `endpoints.rs` writes each operation once, generic over the resource kind;
//! `users.rs` and `groups.rs` say what differs. Mounted at `/scim/v2`, `/scim` and the
//! server root by the HTTP router.

mod bulk;
mod discovery;
mod endpoints;
mod groups;
mod paths;
mod root;
mod search;
mod users;

use axum::Router;

use crate::http::AppState;
use crate::http::error::ApiError;

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
            crate::http::activity::record,
        ))
        .with_state(state.clone());
    scim_endpoints()
        .route(
            "/Bulk",
            axum::routing::post(
                move |scim: crate::http::extract::Scim,
                      uri: axum::extract::OriginalUri,
                      headers: axum::http::HeaderMap,
                      body: crate::http::extract::ScimJson| {
                    bulk::bulk(operations.clone(), scim, uri, headers, body)
                },
            ),
        )
        .method_not_allowed_fallback(|| async { method_not_allowed() })
}

/// One mount of the SCIM endpoints: unrouted paths may be variants of an endpoint
/// (`paths.rs`); every authenticated request is journaled.
pub(super) fn routes(state: &AppState) -> Router<AppState> {
    let exact = scim_endpoints_with_bulk(state).with_state(state.clone());
    let fallback_state = state.clone();
    scim_endpoints_with_bulk(state)
        .fallback(move |request: axum::extract::Request| {
            paths::variant(fallback_state.clone(), exact.clone(), request)
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::faults::inject,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::activity::record,
        ))
}
