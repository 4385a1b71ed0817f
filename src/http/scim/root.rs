//! The server root (RFC 7644 §3.4.2.1): `GET /` with a query would search every
//! resource type at once. Not implemented: answered with 501, which RFC 7644 §3.12
//! defines for an unsupported operation, instead of 404, which would say the endpoint
//! does not exist. Authentication comes first, as on every SCIM endpoint. (`POST
//! /.search`, the other form of a root query, is implemented in `search.rs`; `/Bulk` in
//! `bulk.rs`.)

use axum::Router;
use axum::routing::get;

use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::Authenticated;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(not_implemented))
        .route("/Me", axum::routing::any(me))
}

/// A bearer token here belongs to a SCIM configuration (an IdP), not to a user, so there
/// is no "me" (RFC 7644 §3.11 allows 501).
async fn me(_auth: Authenticated) -> ApiError {
    ApiError::NotImplemented("/Me is not supported: tokens identify SCIM configurations, not users".into())
}

async fn not_implemented(_auth: Authenticated) -> ApiError {
    ApiError::NotImplemented(
        "GET at the server root is not supported: use POST /.search to query every \
         resource type, or GET /Users"
            .into(),
    )
}
