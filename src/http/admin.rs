//! The admin JSON API (`/admin/api`): what an Account Center admin does. License pools
//! and seat counts, token refresh, license activation (emulating the user accepting
//! it) and revocation. Authenticated with the admin token, not a SCIM token; errors use
//! the same error body as SCIM.

use axum::Router;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::ScimJson;
use crate::accounts::{Account, BearerToken};
use crate::licensing::Product;
use crate::scim::error::ProtocolError;
use crate::token_expiry;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/api/accounts", get(accounts))
        .route("/admin/api/accounts/{account}/pools", get(pools))
        .route("/admin/api/accounts/{account}/pools/{pool}", patch(update_pool))
        .route(
            "/admin/api/accounts/{account}/configurations/{configuration}/token",
            post(refresh_token),
        )
        .route(
            "/admin/api/accounts/{account}/users/{user}/licenses",
            get(user_licenses),
        )
        .route(
            "/admin/api/accounts/{account}/users/{user}/licenses/{product}",
            axum::routing::delete(revoke_license),
        )
        .route(
            "/admin/api/accounts/{account}/users/{user}/licenses/{product}/activate",
            post(activate_license),
        )
}

/// A request carrying the admin token.
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .and_then(|t| BearerToken::parse(t.trim()));
        match presented {
            Some(token) if state.admin_token.matches(&token.hash().0) => Ok(Admin),
            _ => Err(ApiError::Unauthorized(
                "the admin API needs the admin bearer token".into(),
            )),
        }
    }
}

async fn account(state: &AppState, name: &str) -> ApiResult<Account> {
    state
        .store
        .account_by_name(name)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no account {name:?}")))
}

fn product(text: String) -> ApiResult<Product> {
    Product::try_from(text).map_err(|e| ApiError::Protocol(ProtocolError::invalid_value(e)))
}

async fn accounts(State(state): State<AppState>, _: Admin) -> ApiResult<Response> {
    let accounts = state.store.list_accounts().await?;
    let body: Vec<_> = accounts
        .iter()
        .map(|a| json!({"name": a.name, "fidelity": a.fidelity}))
        .collect();
    Ok(axum::Json(body).into_response())
}

async fn pools(State(state): State<AppState>, _: Admin, Path(name): Path<String>) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    Ok(axum::Json(state.store.pools(&account.id).await?).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PoolChange {
    seats: Option<i64>,
    promote_waiting: Option<bool>,
}

async fn update_pool(
    State(state): State<AppState>,
    _: Admin,
    Path((name, pool)): Path<(String, String)>,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let change: PoolChange = serde_json::from_value(body).map_err(|e| {
        ProtocolError::invalid_value(format!(
            "expected {{\"seats\": n, \"promoteWaiting\": bool}}: {e}"
        ))
    })?;
    if change.seats.is_some_and(|s| s < 0) {
        return Err(ProtocolError::invalid_value("seats cannot be negative").into());
    }
    let account = account(&state, &name).await?;
    let usage = state
        .store
        .set_pool(
            &account.id,
            &pool,
            change.seats,
            change.promote_waiting,
            state.clock.now_micros(),
        )
        .await?;
    Ok(axum::Json(usage).into_response())
}

/// Generate a new token for a configuration: shown once, and the old one stops working
/// at once (every IdP using it must be updated, as on LinkedIn).
async fn refresh_token(
    State(state): State<AppState>,
    _: Admin,
    Path((name, configuration)): Path<(String, String)>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    let token = BearerToken::generate();
    let now = state.clock.now_micros();
    let expires_at = token_expiry(&account.fidelity, now);
    if !state
        .store
        .replace_token(&account.id, &configuration, &token.hash(), expires_at, now)
        .await?
    {
        return Err(ApiError::NotFound(format!(
            "no SCIM configuration {configuration:?}"
        )));
    }
    let body = json!({
        "token": token.expose(),
        "expiresAt": expires_at.map(crate::clock::rfc3339),
    });
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

async fn user_licenses(
    State(state): State<AppState>,
    _: Admin,
    Path((name, user)): Path<(String, String)>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    if state.store.get_user(&account.id, &user).await?.is_none() {
        return Err(ApiError::NotFound(format!("User {user} not found")));
    }
    let licenses: Vec<_> = state
        .store
        .licenses(&account.id, std::slice::from_ref(&user))
        .await?
        .into_iter()
        .map(|(_, license)| license)
        .collect();
    Ok(axum::Json(licenses).into_response())
}

/// The user accepts the license: `assigned` → `activated`. Activation is the user's
/// own act on LinkedIn, so it is allowed even while SCIM manages the user.
async fn activate_license(
    State(state): State<AppState>,
    _: Admin,
    Path((name, user, product_name)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    let product = product(product_name)?;
    state
        .store
        .activate_license(&account.id, &user, &product, state.clock.now_micros())
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound => {
                ApiError::NotFound(format!("User {user} holds no {product} license"))
            }
            other => other.into(),
        })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn revoke_license(
    State(state): State<AppState>,
    _: Admin,
    Path((name, user, product_name)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    let product = product(product_name)?;
    if account.fidelity.lock_admin_edits {
        return Err(ApiError::Forbidden(
            "licenses of SCIM-managed users are edited in the IdP: this account locks admin edits".into(),
        ));
    }
    state
        .store
        .revoke_license(&account.id, &user, &product, state.clock.now_micros())
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound => {
                ApiError::NotFound(format!("User {user} holds no {product} license"))
            }
            other => other.into(),
        })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
