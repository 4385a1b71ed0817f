//! What every admin API handler starts from: the admin token (not a SCIM token), the
//! account named in the path, and a request body of the expected shape.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::accounts::Account;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{BearerProblem, bearer_token};
use crate::http::throttle::client_address;
use crate::scim::error::ProtocolError;

/// A request carrying the admin token.
pub(crate) struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let client = client_address(&parts.extensions);
        state.auth_failures.admit(client)?;
        let presented = bearer_token(&parts.headers);
        if presented
            .as_ref()
            .is_ok_and(|token| state.admin_token.matches(&token.hash().0))
        {
            return Ok(Admin);
        }
        // Only a guess counts against the client: no Authorization header guesses
        // nothing, and a SCIM token at the wrong door is a mistake.
        let guess = match &presented {
            Err(BearerProblem::Missing) => false,
            Err(_) => true,
            Ok(token) => !matches!(state.store.find_token(&token.hash()).await, Ok(Some(_))),
        };
        if guess {
            state.auth_failures.failed(client)?;
        }
        Err(ApiError::Unauthorized(
            "the admin API needs the admin bearer token".into(),
        ))
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
