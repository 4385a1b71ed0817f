//! `/Groups`: create, read, list/search, replace, patch, delete. Members live in the
//! membership table, never in the group's document: a PATCH hands its `members`
//! operations to the store as [`MemberOp`]s and never reads the member list, so adding
//! one member costs the same for a 10-member and a 100 000-member group.
//!
//! Responses carry `members` when the projection keeps them (one query for the member
//! list), except PATCH: its response leaves `members` out unless `attributes` asks for
//! them. RFC 7644 §3.5.2 lets a PATCH answer with the resource "subject to the
//! attributes query parameter" or with 204; Entra advises against returning all members
//! ("isn't advisable") and Okta accepts a group without them, while echoing 100 000
//! members on every single-member change would make the change cost O(members).

use async_trait::async_trait;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::Value;

use super::AppState;
use super::error::ApiResult;
use super::extract::{Authenticated, BaseUrl, ScimJson, ScimQuery};
use super::kind::{self, Kind, Projection, created, leniency, log_tolerances, modify, respond};
use crate::scim::catalog::group_schema;
use crate::scim::error::ProtocolError;
use crate::scim::list::{ListRequest, RawListParams};
use crate::scim::patch::apply_patch;
use crate::scim::resource::{apply_replace, normalize};
use crate::scim::schema::{AttrPath, ResourceSchema};
use crate::store::{
    Change, GroupUpdate, MemberOp, Micros, Page, References, ResourceRecord, Store, StoreResult, member_ids,
};

const MEMBERS: &str = "members";

pub(super) struct Groups;

#[async_trait]
impl Kind for Groups {
    const RESOURCE_TYPE: &'static str = "Group";
    const ENDPOINT: &'static str = "Groups";
    const RELATED: &'static str = MEMBERS;
    const RELATED_ENDPOINT: &'static str = "Users";
    const RELATED_TYPE: &'static str = "User";
    type Update = GroupUpdate;

    fn schema() -> &'static ResourceSchema {
        group_schema()
    }
    async fn get(store: &dyn Store, account_id: &str, id: &str) -> StoreResult<Option<ResourceRecord>> {
        store.get_group(account_id, id).await
    }
    async fn list(
        store: &dyn Store,
        account_id: &str,
        query: &ListRequest,
    ) -> StoreResult<Page<ResourceRecord>> {
        store.list_groups(account_id, query).await
    }
    async fn modify(
        store: &dyn Store,
        account_id: &str,
        id: &str,
        now: Micros,
        change: &mut Change<'_, GroupUpdate>,
    ) -> StoreResult<ResourceRecord> {
        store.modify_group(account_id, id, now, change).await
    }
    async fn delete(store: &dyn Store, account_id: &str, id: &str, _now: Micros) -> StoreResult<bool> {
        store.delete_group(account_id, id).await
    }
    async fn related(store: &dyn Store, account_id: &str, ids: &[String]) -> StoreResult<References> {
        store.group_members(account_id, ids).await
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/Groups", get(kind::list::<Groups>).post(create))
        .route("/Groups/.search", post(kind::search::<Groups>))
        .route(
            "/Groups/{id}",
            get(kind::fetch::<Groups>)
                .put(replace)
                .patch(patch)
                .delete(remove),
        )
}

/// A normalized POST/PUT body split into the document the store keeps and the member
/// ids, which go to the membership table.
fn split_members(mut doc: Value) -> Result<(Value, Vec<String>), ProtocolError> {
    let members = match doc.as_object_mut().and_then(|map| map.remove(MEMBERS)) {
        Some(Value::Array(items)) => member_ids(&items)?,
        _ => Vec::new(),
    };
    Ok((doc, members))
}

async fn create(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    BaseUrl(base): BaseUrl,
    ScimQuery(params): ScimQuery,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let mut leniency = leniency(&principal);
    let doc = normalize(body, group_schema(), &mut leniency)?;
    log_tolerances(&leniency);
    let (doc, members) = split_members(doc)?;
    let record = state
        .store
        .create_group(&principal.account.id, &doc, &members, state.clock.now_micros())
        .await?;
    created::<Groups>(&state, &principal, &base, &record, &params).await
}

/// PUT replaces the document and the `scim` members (Okta's AIW push); `admin` members
/// stay, as LinkedIn keeps members added directly in LinkedIn.
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
    let incoming = normalize(body, group_schema(), &mut leniency)?;
    log_tolerances(&leniency);
    let (incoming, members) = split_members(incoming)?;
    let record = modify::<Groups, _>(&state, &principal, &id, &headers, |current| {
        Ok(Some(GroupUpdate {
            doc: Some(apply_replace(&current.doc, incoming.clone(), group_schema())?),
            members: vec![MemberOp::ReplaceScim(members.clone())],
        }))
    })
    .await?;
    respond::<Groups>(
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
    let projection = patch_projection(&params)?;
    let mut fired = leniency(&principal);
    let record = modify::<Groups, _>(&state, &principal, &id, &headers, |current| {
        let mut leniency = leniency(&principal);
        let outcome = apply_patch(
            &current.doc,
            &body,
            group_schema(),
            &[MEMBERS],
            &current.id,
            &mut leniency,
        )?;
        let doc = normalize(outcome.resource, group_schema(), &mut leniency)?;
        let members = outcome
            .deferred
            .into_iter()
            .map(MemberOp::from_deferred)
            .collect::<Result<Vec<_>, _>>()?;
        fired = leniency;
        Ok(Some(GroupUpdate {
            doc: (doc != current.doc).then_some(doc),
            members,
        }))
    })
    .await?;
    log_tolerances(&fired);
    respond::<Groups>(
        &state,
        &principal,
        &base,
        &record,
        &projection,
        StatusCode::OK,
        None,
    )
    .await
}

/// A PATCH response leaves `members` out unless `attributes` is given (see the module
/// docs): then it is honoured as on any other response.
fn patch_projection(params: &RawListParams) -> ApiResult<Projection> {
    let (attributes, mut excluded) = params.projection()?;
    if attributes.is_empty() {
        excluded.push(AttrPath::new(MEMBERS));
    }
    Ok((attributes, excluded))
}

async fn remove(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    kind::delete::<Groups>(&state, &principal, &id, &headers).await
}
