//! What every admin API handler starts from: the admin token (not a SCIM token), the
//! account named in the path, and a request body of the expected shape.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::accounts::Account;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::bearer_token;
use crate::scim::error::ProtocolError;

/// A request carrying the admin token.
pub(crate) struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match bearer_token(&parts.headers) {
            Ok(token) if state.admin_token.matches(&token.hash().0) => Ok(Admin),
            _ => Err(ApiError::Unauthorized(
                "the admin API needs the admin bearer token".into(),
            )),
        }
    }
}

/// The account named in the path, or 404.
pub(super) async fn account(state: &AppState, name: &str) -> ApiResult<Account> {
    Ok(state.center().account(name).await?)
}

/// An admin request body of the shape `expected` (named in the 400 when it is not).
/// A member at fault is named first (`seats: invalid type …`); errors about the whole
/// object (a missing or unknown member) name it in the message.
pub(super) fn body_as<T: serde::de::DeserializeOwned>(
    body: serde_json::Value,
    expected: &str,
) -> ApiResult<T> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        let detail = if path == "." {
            format!("{} (expected {expected})", e.inner())
        } else {
            format!("{path}: {} (expected {expected})", e.inner())
        };
        ApiError::Protocol(ProtocolError::invalid_value(detail))
    })
}
