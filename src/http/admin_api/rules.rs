//! A SCIM configuration's license assignment rules (docs/licensing.md, "License rules").

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Admin, account, body_as};
use crate::center::LicenseRuleView;
use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::http::extract::ScimJson;

pub(super) fn router() -> Router<AppState> {
    Router::new().route(
        "/admin/api/accounts/{account}/configurations/{configuration}/license-rules",
        get(rules).put(set_rules),
    )
}

/// The rules, in the order they are tried.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct LicenseRules {
    rules: Vec<LicenseRuleView>,
}

/// The configuration's license assignment rules (empty: its license type for everyone).
#[utoipa::path(get, path = "/admin/api/accounts/{account}/configurations/{configuration}/license-rules", tag = "licensing",
    responses((status = 200, body = LicenseRules), (status = 404)))]
pub(super) async fn rules(
    State(state): State<AppState>,
    _: Admin,
    Path((name, configuration)): Path<(String, String)>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    let center = state.center();
    let configuration = center.configuration(&account, &configuration).await?;
    let rules = center.license_rules(&account, &configuration).await?;
    Ok(axum::Json(LicenseRules { rules }).into_response())
}

/// Replace the rules: the first whose filter matches a user picks its license type, the
/// configuration's own is the fallback. A user's license moves at its next write or
/// group change when its rule now picks another pool.
#[utoipa::path(put, path = "/admin/api/accounts/{account}/configurations/{configuration}/license-rules", tag = "licensing",
    request_body = LicenseRules, responses((status = 200, body = LicenseRules), (status = 400), (status = 404)))]
pub(super) async fn set_rules(
    State(state): State<AppState>,
    _: Admin,
    Path((name, configuration)): Path<(String, String)>,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let LicenseRules { rules } = body_as(
        body,
        r#"{"rules": [{"filter": "<SCIM filter>", "licenseType": "<license type>"}, …]}"#,
    )?;
    let account = account(&state, &name).await?;
    let rules = state
        .center()
        .set_license_rules(&account, &configuration, &rules)
        .await?;
    Ok(axum::Json(LicenseRules { rules }).into_response())
}
