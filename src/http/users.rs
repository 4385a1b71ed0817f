//! `/Users`: create, read, list/search, replace, patch, delete. What Users and Groups
//! share lives in `kind.rs`; this file holds what only users do.

use async_trait::async_trait;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{Authenticated, BaseUrl, ScimJson, ScimQuery};
use super::kind::{self, Kind, created, leniency, log_tolerances, modify, respond};
use crate::accounts::UserDelete;
use crate::scim::catalog::user_schema;
use crate::scim::list::ListRequest;
use crate::scim::patch::apply_patch;
use crate::scim::resource::{apply_replace, normalize};
use crate::scim::schema::ResourceSchema;
use crate::store::{Change, Micros, Page, References, ResourceRecord, Store, StoreResult};

pub(super) struct Users;

#[async_trait]
impl Kind for Users {
    const RESOURCE_TYPE: &'static str = "User";
    const ENDPOINT: &'static str = "Users";
    const RELATED: &'static str = "groups";
    const RELATED_ENDPOINT: &'static str = "Groups";
    /// Every membership is direct: groups do not nest.
    const RELATED_TYPE: &'static str = "direct";
    type Update = Value;

    fn schema() -> &'static ResourceSchema {
        user_schema()
    }
    async fn get(store: &dyn Store, account_id: &str, id: &str) -> StoreResult<Option<ResourceRecord>> {
        store.get_user(account_id, id).await
    }
    async fn list(
        store: &dyn Store,
        account_id: &str,
        query: &ListRequest,
    ) -> StoreResult<Page<ResourceRecord>> {
        store.list_users(account_id, query).await
    }
    async fn modify(
        store: &dyn Store,
        account_id: &str,
        id: &str,
        now: Micros,
        change: &mut Change<'_, Value>,
    ) -> StoreResult<ResourceRecord> {
        store.modify_user(account_id, id, now, change).await
    }
    async fn delete(store: &dyn Store, account_id: &str, id: &str, now: Micros) -> StoreResult<bool> {
        store.delete_user(account_id, id, now).await
    }
    async fn related(store: &dyn Store, account_id: &str, ids: &[String]) -> StoreResult<References> {
        store.user_groups(account_id, ids).await
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/Users", get(kind::list::<Users>).post(create))
        .route("/Users/.search", post(kind::search::<Users>))
        .route(
            "/Users/{id}",
            get(kind::fetch::<Users>).put(replace).patch(patch).delete(remove),
        )
}

async fn create(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    BaseUrl(base): BaseUrl,
    ScimQuery(params): ScimQuery,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let mut leniency = leniency(&principal);
    let mut doc = normalize(body, user_schema(), &mut leniency)?;
    log_tolerances(&leniency);
    // A provisioned user is active unless the client says otherwise (Okta's SPEC test
    // creates without `active` and expects `active: true`).
    if let Some(map) = doc.as_object_mut() {
        map.entry("active").or_insert(Value::Bool(true));
    }
    let record = state
        .store
        .create_user(&principal.account.id, &doc, state.clock.now_micros())
        .await?;
    created::<Users>(&state, &principal, &base, &record, &params).await
}

async fn replace(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
    ScimQuery(params): ScimQuery,
    headers: HeaderMap,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let mut leniency = leniency(&principal);
    let incoming = normalize(body, user_schema(), &mut leniency)?;
    log_tolerances(&leniency);
    let record = modify::<Users, _>(&state, &principal, &id, &headers, |current| {
        Ok(Some(apply_replace(
            &current.doc,
            incoming.clone(),
            user_schema(),
        )?))
    })
    .await?;
    respond::<Users>(
        &state,
        &principal,
        &base,
        &record,
        &params.projection()?,
        StatusCode::OK,
        None,
    )
    .await
}

async fn patch(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
    ScimQuery(params): ScimQuery,
    headers: HeaderMap,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let mut fired = leniency(&principal);
    let record = modify::<Users, _>(&state, &principal, &id, &headers, |current| {
        let mut leniency = leniency(&principal);
        let outcome = apply_patch(
            &current.doc,
            &body,
            user_schema(),
            &[],
            &current.id,
            &mut leniency,
        )?;
        let doc = normalize(outcome.resource, user_schema(), &mut leniency)?;
        fired = leniency;
        Ok((doc != current.doc).then_some(doc))
    })
    .await?;
    log_tolerances(&fired);
    respond::<Users>(
        &state,
        &principal,
        &base,
        &record,
        &params.projection()?,
        StatusCode::OK,
        None,
    )
    .await
}

async fn remove(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    match principal.account.fidelity.user_delete {
        UserDelete::Delete => kind::delete::<Users>(&state, &principal, &id, &headers).await,
        UserDelete::Deactivate => {
            modify::<Users, _>(&state, &principal, &id, &headers, |current| {
                let mut doc = current.doc.clone();
                match doc.as_object_mut() {
                    Some(map) if map.get("active") != Some(&Value::Bool(false)) => {
                        map.insert("active".into(), Value::Bool(false));
                        Ok(Some(doc))
                    }
                    _ => Ok(None),
                }
            })
            .await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        UserDelete::Refuse => {
            kind::load::<Users>(&state, &principal, &id).await?;
            Err(ApiError::NotImplemented(
                "this account does not delete users over SCIM: deprovision with active=false".into(),
            ))
        }
    }
}
