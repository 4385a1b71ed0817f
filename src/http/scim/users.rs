//! `/Users`. The endpoints are the generic ones of `endpoints.rs`; this file says what is
//! particular to users: licensing (the seat a write asks for, the read-only license
//! extension), and where LinkedIn's listing and DELETE fidelity decisions apply.

use async_trait::async_trait;
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::endpoints::{self, AttributeSelection, ResourceKind, Written, modify};
use crate::accounts::Principal;
use crate::accounts::fidelity::{ListAnswer, UserDeletion, deactivated};
use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::http::extract::Scim;
use crate::ids::{AccountId, UserId};
use crate::licensing::status;
use crate::licensing::{License, Product, SeatChange};
use crate::provisioning::{self, external_id, seat_request};
use crate::scim::catalog::{ENTERPRISE_USER, LICENSE_USER, ResourceType, user_schema};
use crate::scim::error::ProtocolError;
use crate::scim::list::{ListRequest, SortOrder};
use crate::scim::patch::{DeferredOp, names_extension};
use crate::scim::projection::needs_attribute;
use crate::store::{
    Change, Micros, Page, References, ResourceRecord, Store, StoreError, StoreResult, UserWrite,
};

pub(super) struct Users;

#[async_trait]
impl ResourceKind for Users {
    const RESOURCE_TYPE: ResourceType = ResourceType::User;
    const RELATED: &'static str = "groups";
    const RELATED_RESOURCE_TYPE: ResourceType = ResourceType::Group;
    /// Every membership is direct: groups do not nest.
    const RELATED_TYPE: &'static str = "direct";
    const DELETED: &'static str = "deleted (licenses released)";
    type Update = Value;

    fn replaced(current: &ResourceRecord, incoming: &Value) -> Result<Option<Value>, ProtocolError> {
        provisioning::replaced_user(&current.doc, incoming)
    }

    fn patched(
        current: &ResourceRecord,
        doc: Value,
        _deferred: Vec<DeferredOp>,
    ) -> Result<Option<Value>, ProtocolError> {
        Ok(provisioning::patched_user(&current.doc, doc))
    }

    fn outcome(current: &ResourceRecord, update: &Value) -> &'static str {
        provisioning::user_write_outcome(&current.doc, update)
    }

    /// LinkedIn fidelity: the account's settings say how each product answers a list
    /// that is not a lookup of a known user.
    fn check_list(principal: &Principal, request: &ListRequest) -> ApiResult<ListAnswer> {
        Ok(principal
            .account
            .fidelity
            .user_list(writing_product(principal), request.filter.as_ref())?)
    }

    async fn create(scim: &Scim, doc: Value) -> StoreResult<Written> {
        let doc = provisioning::provisioned_user(doc);
        let now = scim.state.clock.now_micros();
        let UserWrite { record, seats } = scim
            .state
            .store
            .create_user(
                scim.account_id(),
                &doc,
                &seat_request(&scim.principal),
                Some(&scim.principal.configuration.id),
                now,
            )
            .await?;
        Ok((record, seats))
    }
    async fn get(store: &dyn Store, account_id: &AccountId, id: &str) -> StoreResult<Option<ResourceRecord>> {
        store.get_user(account_id, &UserId::from(id)).await
    }
    /// As the configuration's product lists: its `active`, and (but for a lookup) its
    /// users only.
    async fn list(scim: &Scim, query: &ListRequest) -> StoreResult<Page<ResourceRecord>> {
        let product = writing_product(&scim.principal);
        scim.state
            .store
            .list_users(scim.account_id(), query, product)
            .await
    }
    async fn modify(scim: &Scim, id: &str, change: &mut Change<'_, Value>) -> StoreResult<Written> {
        let now = scim.state.clock.now_micros();
        let mut before: Option<Option<String>> = None;
        let mut watched = |current: &ResourceRecord| {
            before = Some(external_id(&current.doc).map(str::to_owned));
            change(current)
        };
        let UserWrite { record, seats } = scim
            .state
            .store
            .modify_user(
                scim.account_id(),
                &UserId::from(id),
                &seat_request(&scim.principal),
                now,
                &mut watched,
            )
            .await?;
        if let Some(before) = before
            && before.as_deref() != external_id(&record.doc)
        {
            record_external_id_writer(scim, &record, before.as_deref()).await?;
        }
        Ok((record, seats))
    }
    async fn delete(scim: &Scim, id: &str, now: Micros) -> StoreResult<bool> {
        scim.state
            .store
            .delete_user(scim.account_id(), &UserId::from(id), now)
            .await
    }
    async fn related(store: &dyn Store, account_id: &AccountId, ids: &[String]) -> StoreResult<References> {
        store.user_groups(account_id, ids).await
    }

    /// The user's licenses, when the PATCH names the license extension.
    async fn server_held(scim: &Scim, id: &str, body: &Value) -> ApiResult<Option<(&'static str, Value)>> {
        if !names_extension(body, LICENSE_USER) {
            return Ok(None);
        }
        let licenses = scim
            .state
            .store
            .licenses(scim.account_id(), &[UserId::from(id)])
            .await?;
        if licenses.is_empty() {
            return Ok(None);
        }
        let held: Vec<&License> = licenses.iter().map(|(_, l)| l).collect();
        Ok(Some((LICENSE_USER, json!({ "licenses": held }))))
    }

    /// `active` as the configuration's product sees it, and the read-only license
    /// extension, from the license tables (one query per page).
    async fn extend(
        scim: &Scim,
        records: &[ResourceRecord],
        (attributes, excluded): &AttributeSelection,
        docs: &mut [Value],
    ) -> ApiResult<()> {
        let product = writing_product(&scim.principal);
        for (record, doc) in records.iter().zip(docs.iter_mut()) {
            if let Some(attached) = &record.attached {
                status::view(doc, &attached.statuses, product);
            }
        }
        if needs_attribute(
            user_schema(),
            attributes,
            excluded,
            &format!("{ENTERPRISE_USER}:manager"),
        ) {
            fill_managers(scim, docs).await?;
        }
        if !needs_attribute(
            user_schema(),
            attributes,
            excluded,
            &format!("{LICENSE_USER}:licenses"),
        ) {
            return Ok(());
        }
        // Records read with their licenses attached need no second query.
        let licenses = if records.iter().any(|r| r.attached.is_none()) {
            let ids: Vec<UserId> = records.iter().map(|r| UserId::from(r.id.as_str())).collect();
            scim.state.store.licenses(scim.account_id(), &ids).await?
        } else {
            Vec::new()
        };
        for (record, doc) in records.iter().zip(docs.iter_mut()) {
            let held: Vec<&License> = match &record.attached {
                Some(attached) => attached.licenses.iter().collect(),
                None => licenses
                    .iter()
                    .filter(|(id, _)| id.as_str() == record.id)
                    .map(|(_, l)| l)
                    .collect(),
            };
            if let (Some(map), false) = (doc.as_object_mut(), held.is_empty()) {
                map.insert(LICENSE_USER.to_owned(), json!({ "licenses": held }));
            }
        }
        Ok(())
    }
}

/// The enterprise `manager` as RFC 7643 §4.3 describes it: its `$ref` and the read-only
/// `displayName` of the manager, read from the account's users (one query per page;
/// a `value` naming no user keeps only its `value`).
async fn fill_managers(scim: &Scim, docs: &mut [Value]) -> ApiResult<()> {
    let manager_of = |doc: &Value| {
        doc.pointer(&format!("/{ENTERPRISE_USER}/manager/value"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let mut ids: Vec<String> = docs.iter().filter_map(manager_of).collect();
    ids.sort();
    ids.dedup();
    let Some(filter) = provisioning::any_id(&ids) else {
        return Ok(());
    };
    let query = ListRequest {
        filter: Some(filter),
        sort_by: None,
        sort_order: SortOrder::Ascending,
        start_index: 1,
        count: u64::try_from(ids.len()).unwrap_or(u64::MAX),
        attributes: Vec::new(),
        excluded_attributes: Vec::new(),
        cursor: None,
    };
    let managers = scim
        .state
        .store
        .list_users(scim.account_id(), &query, None)
        .await?;
    for doc in docs.iter_mut() {
        let Some(id) = manager_of(doc) else { continue };
        let found = managers.items.iter().find(|m| m.id == id);
        let Some(manager) = doc
            .get_mut(ENTERPRISE_USER)
            .and_then(|e| e.get_mut("manager"))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        // Both are the server's, never what a client sent.
        manager.remove("$ref");
        manager.remove("displayName");
        if let Some(found) = found {
            manager.insert("$ref".into(), json!(format!("{}/Users/{id}", scim.base)));
            if let Some(name) = found.doc.get("displayName").filter(|n| n.is_string()) {
                manager.insert("displayName".into(), name.clone());
            }
        }
    }
    Ok(())
}

/// After a group write through this configuration, apply its license rules to the
/// members it added or removed, when a rule names groups: a team move by group moves
/// the license (one transaction per user, each move in the activity log).
pub(super) async fn reassign_members(scim: &Scim, members: &[UserId]) -> StoreResult<()> {
    if !rules_follow_groups(&scim.principal) {
        return Ok(());
    }
    let seat = seat_request(&scim.principal);
    let now = scim.state.clock.now_micros();
    for member in members {
        let written = scim
            .state
            .store
            .modify_user(scim.account_id(), member, &seat, now, &mut |_| Ok(None))
            .await;
        match written {
            Ok(UserWrite { seats, .. }) => {
                if let (Some(outcome), false) = (seats.describe(), matches!(seats, SeatChange::Kept(_))) {
                    scim.note.outcome(format!("user {member}: {outcome}"));
                }
            }
            // A member deleted meanwhile has no license to move.
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Does a license rule of this configuration look at the user's groups?
pub(super) fn rules_follow_groups(principal: &Principal) -> bool {
    principal
        .configuration
        .auto_assign
        .as_ref()
        .is_some_and(|a| a.rules.iter().any(|rule| rule.names_groups()))
}

/// The product whose status a configuration reads and writes as `active`: the product
/// of its auto-assigned pool (none without auto-assign).
pub(super) fn writing_product(principal: &Principal) -> Option<&Product> {
    principal.configuration.auto_assign.as_ref().map(|a| &a.product)
}

/// Note that this configuration wrote the user's externalId; when it replaced a value
/// another configuration had set (`before`), warn in the activity log.
async fn record_external_id_writer(
    scim: &Scim,
    record: &ResourceRecord,
    before: Option<&str>,
) -> StoreResult<()> {
    let now = external_id(&record.doc);
    let writer = now.map(|_| &scim.principal.configuration.id);
    let clash = scim
        .state
        .store
        .record_external_id_writer(scim.account_id(), &UserId::from(record.id.as_str()), writer)
        .await?;
    if let (Some(other), Some(before)) = (clash, before) {
        scim.note.outcome(provisioning::external_id_clash(
            before,
            now,
            &scim.principal.configuration.name,
            &other,
        ));
    }
    Ok(())
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/Users",
            get(endpoints::list::<Users>).post(endpoints::create::<Users>),
        )
        .route("/Users/.search", post(endpoints::search::<Users>))
        .route(
            "/Users/{id}",
            get(endpoints::fetch::<Users>)
                .put(endpoints::replace::<Users>)
                .patch(endpoints::patch::<Users>)
                .delete(remove),
        )
}

/// `DELETE /Users/{id}`, as the account's fidelity settings decide.
async fn remove(scim: Scim, Path(id): Path<String>, headers: HeaderMap) -> ApiResult<Response> {
    match scim.principal.account.fidelity.user_deletion() {
        Ok(UserDeletion::Remove) => endpoints::remove::<Users>(scim, Path(id), headers).await,
        Ok(UserDeletion::Deactivate) => {
            modify::<Users, _>(&scim, &id, &headers, |current| Ok(deactivated(&current.doc))).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Err(refusal) => {
            // An unknown user is still a 404.
            endpoints::load::<Users>(&scim, &id).await?;
            Err(refusal.into())
        }
    }
}
