//! The Account Center's resources: accounts, application instances, license pools, SCIM
//! configurations, users, groups. Every handler parses, calls [`crate::center::Center`]
//! (which the web UI and the CLI call too) and renders.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Admin, account, body_as};
use crate::accounts::Account;
use crate::center::{
    AccountChange, Center, CenterError, GroupView, IssuedToken, NewAccount, NewPool, NewScimConfiguration,
    PoolView, UserSearch, UserView,
};
use crate::clock::rfc3339;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ScimJson, query_params};
use crate::ids::{GroupId, PoolId, UserId};
use crate::scim::error::ProtocolError;
use crate::store::{ConfigurationState, Instance};

impl AppState {
    /// The Account Center over this server's store and clock.
    pub(crate) fn center(&self) -> Center {
        Center::new(self.store.clone(), self.clock.clone())
    }
}

impl From<CenterError> for ApiError {
    fn from(e: CenterError) -> Self {
        match e {
            invalid @ CenterError::Invalid { .. } => {
                ApiError::Protocol(ProtocolError::invalid_value(invalid.to_string()))
            }
            CenterError::NotFound(detail) => ApiError::NotFound(detail),
            CenterError::Conflict(detail) => ApiError::Conflict(detail),
            CenterError::Seats(detail) => ApiError::SeatConflict(detail),
            CenterError::Forbidden(detail) => ApiError::Forbidden(detail),
            CenterError::Store(e) => e.into(),
        }
    }
}

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/api/accounts", post(create_account))
        .route(
            "/admin/api/accounts/{account}",
            get(get_account).patch(update_account).delete(delete_account),
        )
        .route(
            "/admin/api/accounts/{account}/instances",
            get(instances).post(add_instance),
        )
        .route("/admin/api/accounts/{account}/pools", post(add_pool))
        .route(
            "/admin/api/accounts/{account}/configurations",
            get(configurations).post(create_configuration),
        )
        .route(
            "/admin/api/accounts/{account}/configurations/{configuration}",
            get(configuration).delete(delete_configuration),
        )
        .route(
            "/admin/api/accounts/{account}/configurations/{configuration}/rate-limit",
            get(rate_limit).put(set_rate_limit).delete(remove_rate_limit),
        )
        .route("/admin/api/accounts/{account}/users", get(users))
        .route("/admin/api/accounts/{account}/users/deletion", post(delete_users))
        .route("/admin/api/accounts/{account}/users/{user}", get(user))
        .route(
            "/admin/api/accounts/{account}/users/{user}/licenses/{product}/move",
            post(move_license),
        )
        .route("/admin/api/accounts/{account}/groups", get(groups))
        .route("/admin/api/accounts/{account}/groups/{group}", get(group))
        .route(
            "/admin/api/accounts/{account}/groups/{group}/members/{user}",
            delete(remove_member),
        )
}

/// An account as the admin API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct AccountView {
    name: String,
    /// The fidelity settings in force (docs/fidelity.md).
    #[schema(value_type = Object)]
    fidelity: crate::accounts::Fidelity,
}

impl From<Account> for AccountView {
    fn from(a: Account) -> Self {
        AccountView {
            name: a.name,
            fidelity: a.fidelity,
        }
    }
}

/// An application instance: one product contract of the account.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct InstanceView {
    /// `sales_navigator`, `learning`, `elevate`, … (lower-case letters, digits, `_`).
    product: String,
    name: String,
}

impl From<Instance> for InstanceView {
    fn from(i: Instance) -> Self {
        InstanceView {
            product: i.product.to_string(),
            name: i.name,
        }
    }
}

/// A SCIM configuration and its token's state; never the token.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct ConfigurationView {
    name: String,
    auto_assign: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    instance: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    product: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    license_type: Option<String>,
    /// `entra`, `okta`, `strict` or `lenient` (docs/client-profiles.md).
    client_profile: String,
    /// `resource` (200 with the resource) or `no_content` (204).
    patch_response: String,
    created_at: String,
    token: TokenStateView,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct TokenStateView {
    /// When the current token was issued; absent for a token from a seed file.
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
    /// The latest request authenticated with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    last_used_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
    /// `seed` or `runtime`: a seed re-applied at start-up keeps a runtime token.
    source: &'static str,
}

impl From<ConfigurationState> for ConfigurationView {
    fn from(c: ConfigurationState) -> Self {
        ConfigurationView {
            auto_assign: c.auto_assign_pool_id.is_some(),
            name: c.name,
            instance: c.instance,
            product: c.product.map(|p| p.to_string()),
            license_type: c.license_type,
            client_profile: c.client_profile.as_str().to_owned(),
            patch_response: c.patch_response.as_str().to_owned(),
            created_at: rfc3339(c.created_at),
            token: TokenStateView {
                created_at: c.token_created_at.map(rfc3339),
                last_used_at: c.token_last_used_at.map(rfc3339),
                expires_at: c.token_expires_at.map(rfc3339),
                source: if c.token_set_at_runtime { "runtime" } else { "seed" },
            },
        }
    }
}

/// A configuration just created, with its first token (shown once).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct CreatedConfiguration {
    configuration: ConfigurationView,
    token: IssuedToken,
}

/// A page of users with their licenses per product.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct UserPage {
    total_results: u64,
    users: Vec<UserView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct LicenseMove {
    /// The id of another pool of the same product.
    #[schema(value_type = String)]
    pool: PoolId,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UserIds {
    /// User ids to delete for good.
    #[schema(value_type = Vec<String>)]
    ids: Vec<UserId>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(super) struct UserParams {
    /// userName starting with, or externalId equal to, this text.
    q: Option<String>,
    /// A SCIM filter, e.g. `externalId eq "42"`.
    filter: Option<String>,
    /// 1-based.
    start_index: Option<u64>,
    count: Option<u64>,
    /// `csv`: LinkedIn's manual export of every user (one row per license; the search
    /// and paging parameters do not apply).
    format: Option<String>,
}

/// Create an account with a fidelity preset and overrides.
#[utoipa::path(post, path = "/admin/api/accounts", tag = "accounts",
    request_body = NewAccount,
    responses((status = 201, body = AccountView), (status = 400), (status = 409)))]
async fn create_account(
    State(state): State<AppState>,
    _: Admin,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let new: NewAccount = body_as(
        body,
        r#"{"name": "…", "profile": "linkedin"|"rfc", "fidelity": {…}}"#,
    )?;
    let account = state.center().create_account(&new).await?;
    Ok((StatusCode::CREATED, axum::Json(AccountView::from(account))).into_response())
}

#[utoipa::path(get, path = "/admin/api/accounts/{account}", tag = "accounts",
    responses((status = 200, body = AccountView), (status = 404)))]
async fn get_account(
    State(state): State<AppState>,
    _: Admin,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    Ok(axum::Json(AccountView::from(account(&state, &name).await?)).into_response())
}

/// Rename an account or change its fidelity (a new `profile` resets to that preset).
#[utoipa::path(patch, path = "/admin/api/accounts/{account}", tag = "accounts",
    request_body = AccountChange,
    responses((status = 200, body = AccountView), (status = 400), (status = 404), (status = 409)))]
async fn update_account(
    State(state): State<AppState>,
    _: Admin,
    Path(name): Path<String>,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let change: AccountChange = body_as(body, r#"{"name": "…", "profile": "…", "fidelity": {…}}"#)?;
    let account = state.center().update_account(&name, &change).await?;
    Ok(axum::Json(AccountView::from(account)).into_response())
}

/// Delete an account and everything in it; its tokens get 401 at once.
#[utoipa::path(delete, path = "/admin/api/accounts/{account}", tag = "accounts",
    responses((status = 204), (status = 404)))]
async fn delete_account(
    State(state): State<AppState>,
    _: Admin,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    state.center().delete_account(&name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/admin/api/accounts/{account}/instances", tag = "licensing",
    responses((status = 200, body = Vec<InstanceView>), (status = 404)))]
async fn instances(State(state): State<AppState>, _: Admin, Path(name): Path<String>) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    let instances = state.center().instances(&account).await?;
    Ok(axum::Json(instances.into_iter().map(InstanceView::from).collect::<Vec<_>>()).into_response())
}

/// Add an application instance (product and name).
#[utoipa::path(post, path = "/admin/api/accounts/{account}/instances", tag = "licensing",
    request_body = InstanceView,
    responses((status = 201, body = InstanceView), (status = 400), (status = 404), (status = 409)))]
async fn add_instance(
    State(state): State<AppState>,
    _: Admin,
    Path(name): Path<String>,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let new: InstanceView = body_as(body, r#"{"product": "sales_navigator", "name": "…"}"#)?;
    let account = account(&state, &name).await?;
    let instance = state
        .center()
        .add_instance(&account, &new.product, &new.name)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(InstanceView::from(instance))).into_response())
}

/// Add a license pool (license type and seats) to an instance.
#[utoipa::path(post, path = "/admin/api/accounts/{account}/pools", tag = "licensing",
    request_body = NewPool,
    responses((status = 201, body = PoolView),
        (status = 400), (status = 404), (status = 409)))]
async fn add_pool(
    State(state): State<AppState>,
    _: Admin,
    Path(name): Path<String>,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let new: NewPool = body_as(body, r#"{"instance": "…", "licenseType": "…", "seats": n}"#)?;
    let account = account(&state, &name).await?;
    let pool: PoolView = state.center().add_pool(&account, &new).await?;
    Ok((StatusCode::CREATED, axum::Json(pool)).into_response())
}

#[utoipa::path(get, path = "/admin/api/accounts/{account}/configurations", tag = "scim",
    responses((status = 200, body = Vec<ConfigurationView>), (status = 404)))]
async fn configurations(
    State(state): State<AppState>,
    _: Admin,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    let list = state.center().configurations(&account).await?;
    Ok(axum::Json(list.into_iter().map(ConfigurationView::from).collect::<Vec<_>>()).into_response())
}

#[utoipa::path(get, path = "/admin/api/accounts/{account}/configurations/{configuration}", tag = "scim",
    responses((status = 200, body = ConfigurationView), (status = 404)))]
async fn configuration(
    State(state): State<AppState>,
    _: Admin,
    Path((name, configuration)): Path<(String, String)>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    let config = state.center().configuration(&account, &configuration).await?;
    Ok(axum::Json(ConfigurationView::from(config)).into_response())
}

/// "+ Add new SCIM configuration": name, auto-assign (instance and license type), client
/// profile, PATCH response mode. Answers with the first token, shown once.
#[utoipa::path(post, path = "/admin/api/accounts/{account}/configurations", tag = "scim",
    request_body = NewScimConfiguration,
    responses((status = 201, body = CreatedConfiguration), (status = 400), (status = 404), (status = 409)))]
async fn create_configuration(
    State(state): State<AppState>,
    _: Admin,
    Path(name): Path<String>,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let new: NewScimConfiguration = body_as(
        body,
        r#"{"name": "…", "autoAssign": bool, "instance": "…", "licenseType": "…", "clientProfile": "…", "patchResponse": "…"}"#,
    )?;
    let account = account(&state, &name).await?;
    let (config, token) = state.center().create_configuration(&account, &new).await?;
    let body = CreatedConfiguration {
        configuration: config.into(),
        token,
    };
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

/// Delete a configuration: its token gets 401 from the next request on.
#[utoipa::path(delete, path = "/admin/api/accounts/{account}/configurations/{configuration}", tag = "scim",
    responses((status = 204), (status = 404)))]
async fn delete_configuration(
    State(state): State<AppState>,
    _: Admin,
    Path((name, configuration)): Path<(String, String)>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    state
        .center()
        .delete_configuration(&account, &configuration)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A SCIM configuration's rate limit: `requestsPerMinute` sustained, up to `burst` at
/// once; beyond it the token gets 429 with `Retry-After`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct RateLimitView {
    requests_per_minute: u32,
    burst: u32,
}

/// The configuration's rate limit; 404 when it is not throttled (the default).
#[utoipa::path(get, path = "/admin/api/accounts/{account}/configurations/{configuration}/rate-limit", tag = "scim",
    responses((status = 200, body = RateLimitView), (status = 404)))]
async fn rate_limit(
    State(state): State<AppState>,
    _: Admin,
    Path((name, configuration)): Path<(String, String)>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    match state.center().rate_limit(&account, &configuration).await? {
        Some(limit) => Ok(axum::Json(RateLimitView {
            requests_per_minute: limit.requests_per_minute,
            burst: limit.burst,
        })
        .into_response()),
        None => Err(ApiError::NotFound(format!(
            "SCIM configuration {configuration:?} has no rate limit"
        ))),
    }
}

/// Throttle the configuration's token (per server process).
#[utoipa::path(put, path = "/admin/api/accounts/{account}/configurations/{configuration}/rate-limit", tag = "scim",
    request_body = RateLimitView, responses((status = 200, body = RateLimitView), (status = 400), (status = 404)))]
async fn set_rate_limit(
    State(state): State<AppState>,
    _: Admin,
    Path((name, configuration)): Path<(String, String)>,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let view: RateLimitView = body_as(body, r#"{"requestsPerMinute": n, "burst": n}"#)?;
    let limit = crate::accounts::RateLimit {
        requests_per_minute: view.requests_per_minute,
        burst: view.burst,
    };
    change_rate_limit(&state, &name, &configuration, Some(limit)).await?;
    Ok(axum::Json(view).into_response())
}

/// Stop throttling the configuration's token.
#[utoipa::path(delete, path = "/admin/api/accounts/{account}/configurations/{configuration}/rate-limit", tag = "scim",
    responses((status = 204), (status = 404)))]
async fn remove_rate_limit(
    State(state): State<AppState>,
    _: Admin,
    Path((name, configuration)): Path<(String, String)>,
) -> ApiResult<Response> {
    change_rate_limit(&state, &name, &configuration, None).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Store the change, and apply it in this process from the next request on.
async fn change_rate_limit(
    state: &AppState,
    name: &str,
    configuration: &str,
    limit: Option<crate::accounts::RateLimit>,
) -> ApiResult<()> {
    let account = account(state, name).await?;
    let center = state.center();
    center.set_rate_limit(&account, configuration, limit).await?;
    let id = center.configuration(&account, configuration).await?.id;
    state.throttle.forget(&id);
    Ok(())
}

/// Users with their license state per product; `?format=csv` is the manual export.
#[utoipa::path(get, path = "/admin/api/accounts/{account}/users", tag = "users", params(UserParams),
    responses((status = 200, body = UserPage), (status = 400), (status = 404)))]
async fn users(
    State(state): State<AppState>,
    _: Admin,
    Path(name): Path<String>,
    params: Result<Query<UserParams>, QueryRejection>,
) -> ApiResult<Response> {
    let params = query_params(params, "users")?;
    let account = account(&state, &name).await?;
    let search = UserSearch {
        q: params.q,
        filter: params.filter,
        start_index: params.start_index,
        count: params.count,
    };
    if params.format.as_deref() == Some("csv") {
        let csv = state.center().export_users(&account).await?;
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response());
    }
    let page = state.center().users(&account, &search).await?;
    let body = UserPage {
        total_results: page.total,
        users: page.items,
    };
    Ok(axum::Json(body).into_response())
}

#[utoipa::path(get, path = "/admin/api/accounts/{account}/users/{user}", tag = "users",
    responses((status = 200, body = UserView), (status = 404)))]
async fn user(
    State(state): State<AppState>,
    _: Admin,
    Path((name, user)): Path<(String, UserId)>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    Ok(axum::Json(state.center().user(&account, &user).await?).into_response())
}

/// Move a license to another pool of the same product (403 when the account locks
/// admin edits, 409 when that pool is full). Answers the user with its licenses.
#[utoipa::path(post, path = "/admin/api/accounts/{account}/users/{user}/licenses/{product}/move", tag = "users",
    request_body = LicenseMove,
    responses((status = 200, body = UserView), (status = 400), (status = 403), (status = 404), (status = 409)))]
async fn move_license(
    State(state): State<AppState>,
    _: Admin,
    Path((name, user, product)): Path<(String, UserId, String)>,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let to: LicenseMove = body_as(body, r#"{"pool": "<pool id>"}"#)?;
    let account = account(&state, &name).await?;
    let center = state.center();
    center.move_license(&account, &user, &product, &to.pool).await?;
    Ok(axum::Json(center.user(&account, &user).await?).into_response())
}

/// Hard deletion of chosen users (LinkedIn's CSV deletion tool; a SCIM DELETE only
/// deactivates in LinkedIn mode). All ids must exist, else nothing is deleted.
#[utoipa::path(post, path = "/admin/api/accounts/{account}/users/deletion", tag = "users",
    request_body = UserIds,
    responses((status = 200, body = Object, description = r#"{"deleted": n}"#), (status = 400), (status = 404)))]
async fn delete_users(
    State(state): State<AppState>,
    _: Admin,
    Path(name): Path<String>,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let ids: UserIds = body_as(body, r#"{"ids": ["<user id>", …]}"#)?;
    let account = account(&state, &name).await?;
    let deleted = state.center().delete_users(&account, &ids.ids).await?;
    Ok(axum::Json(serde_json::json!({ "deleted": deleted })).into_response())
}

/// Groups with their members and each member's origin (`scim` or `admin`).
#[utoipa::path(get, path = "/admin/api/accounts/{account}/groups", tag = "groups",
    responses((status = 200, body = Vec<GroupView>), (status = 404)))]
async fn groups(State(state): State<AppState>, _: Admin, Path(name): Path<String>) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    let groups: Vec<GroupView> = state.center().groups(&account).await?;
    Ok(axum::Json(groups).into_response())
}

#[utoipa::path(get, path = "/admin/api/accounts/{account}/groups/{group}", tag = "groups",
    responses((status = 200, body = GroupView), (status = 404)))]
async fn group(
    State(state): State<AppState>,
    _: Admin,
    Path((name, group)): Path<(String, GroupId)>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    Ok(axum::Json(state.center().group(&account, &group).await?).into_response())
}

/// Remove one member (direct or from the IdP).
#[utoipa::path(delete, path = "/admin/api/accounts/{account}/groups/{group}/members/{user}", tag = "groups",
    responses((status = 204), (status = 404)))]
async fn remove_member(
    State(state): State<AppState>,
    _: Admin,
    Path((name, group, user)): Path<(String, GroupId, UserId)>,
) -> ApiResult<Response> {
    let account = account(&state, &name).await?;
    state.center().remove_member(&account, &group, &user).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
