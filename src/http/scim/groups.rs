//! `/Groups`. The endpoints are the generic ones of `endpoints.rs`; this file says what is
//! particular to groups. Members live in the membership table, never in the group's
//! document: a PATCH hands its `members` operations to the store as [`MemberOp`]s and
//! never reads the member list, so adding one member costs the same for a 10-member and
//! a 100 000-member group.
//!
//! Responses carry `members` when the projection keeps them (one query for the member
//! list). A PATCH answers, as RFC 7644 §3.5.2 says, with the whole group subject to
//! `attributes`/`excludedAttributes`, or with 204 when the SCIM configuration's
//! `patch_response` is `no_content`: what Entra advises for groups ("returning all
//! members isn't advisable"), and what keeps a member change O(1) on a large group.

use async_trait::async_trait;
use axum::Router;
use axum::routing::{get, post};
use serde_json::Value;

use super::endpoints::{self, ResourceKind, Written};
use super::users::{reassign_members, rules_follow_groups, writing_product};
use crate::accounts::Principal;
use crate::accounts::fidelity::ListAnswer;
use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::http::extract::Scim;
use crate::ids::{AccountId, GroupId, UserId};
use crate::licensing::SeatChange;
use crate::membership::MemberOp;
use crate::provisioning::{self, GroupUpdate, MEMBERS, split_members};
use crate::scim::catalog::ResourceType;
use crate::scim::error::ProtocolError;
use crate::scim::list::ListRequest;
use crate::scim::patch::DeferredOp;
use crate::store::{Change, Micros, Page, References, ResourceRecord, Store, StoreResult};

pub(super) struct Groups;

#[async_trait]
impl ResourceKind for Groups {
    const RESOURCE_TYPE: ResourceType = ResourceType::Group;
    const RELATED: &'static str = MEMBERS;
    const RELATED_RESOURCE_TYPE: ResourceType = ResourceType::User;
    const RELATED_TYPE: &'static str = "User";
    const DEFERRED: &'static [&'static str] = &[MEMBERS];
    const DELETED: &'static str = "deleted (memberships removed, users kept)";
    type Update = GroupUpdate;

    fn replaced(current: &ResourceRecord, incoming: &Value) -> Result<Option<GroupUpdate>, ProtocolError> {
        provisioning::replaced_group(&current.doc, incoming).map(Some)
    }

    fn patched(
        current: &ResourceRecord,
        doc: Value,
        deferred: Vec<DeferredOp>,
    ) -> Result<Option<GroupUpdate>, ProtocolError> {
        provisioning::patched_group(&current.doc, doc, deferred).map(Some)
    }

    /// LinkedIn fidelity: a product that lists no users lists no groups either, but for
    /// a lookup of a known group.
    fn check_list(principal: &Principal, request: &ListRequest) -> ApiResult<ListAnswer> {
        Ok(principal
            .account
            .fidelity
            .group_list(writing_product(principal), request.filter.as_ref())?)
    }

    /// A product that lists no users is not shown the members (users) of a group.
    fn shows_related(principal: &Principal) -> bool {
        principal
            .account
            .fidelity
            .names_members(writing_product(principal))
    }

    async fn create(scim: &Scim, doc: Value) -> StoreResult<Written> {
        let (doc, members) = split_members(doc)?;
        let now = scim.state.clock.now_micros();
        let record = scim
            .state
            .store
            .create_group(scim.account_id(), &doc, &members, now)
            .await?;
        reassign_members(scim, &members).await?;
        Ok((record, SeatChange::Unchanged))
    }
    async fn get(store: &dyn Store, account_id: &AccountId, id: &str) -> StoreResult<Option<ResourceRecord>> {
        store.get_group(account_id, &GroupId::from(id)).await
    }
    async fn list(scim: &Scim, query: &ListRequest) -> StoreResult<Page<ResourceRecord>> {
        scim.state.store.list_groups(scim.account_id(), query).await
    }
    async fn modify(scim: &Scim, id: &str, change: &mut Change<'_, GroupUpdate>) -> StoreResult<Written> {
        let now = scim.state.clock.now_micros();
        let group = GroupId::from(id);
        // The members before, when license rules may follow them (a replace or a
        // filtered removal names no ids).
        let before = if rules_follow_groups(&scim.principal) {
            members_of(scim, id).await?
        } else {
            Vec::new()
        };
        let mut named: Vec<UserId> = Vec::new();
        let mut watched = |current: &ResourceRecord| {
            let update = change(current)?;
            named = update
                .iter()
                .flat_map(|u| u.members.iter())
                .flat_map(MemberOp::named)
                .cloned()
                .collect();
            Ok(update)
        };
        let record = scim
            .state
            .store
            .modify_group(scim.account_id(), &group, now, &mut watched)
            .await?;
        if rules_follow_groups(&scim.principal) {
            let mut affected = before;
            affected.extend(named);
            affected.extend(members_of(scim, id).await?);
            affected.sort();
            affected.dedup();
            reassign_members(scim, &affected).await?;
        }
        Ok((record, SeatChange::Unchanged))
    }
    async fn delete(scim: &Scim, id: &str, _now: Micros) -> StoreResult<bool> {
        let members = if rules_follow_groups(&scim.principal) {
            members_of(scim, id).await?
        } else {
            Vec::new()
        };
        let deleted = scim
            .state
            .store
            .delete_group(scim.account_id(), &GroupId::from(id))
            .await?;
        // Its members are no longer in it: a rule on the group may now pick another pool.
        reassign_members(scim, &members).await?;
        Ok(deleted)
    }
    async fn related(store: &dyn Store, account_id: &AccountId, ids: &[String]) -> StoreResult<References> {
        store.group_members(account_id, ids).await
    }
}

/// The ids of the group's members.
async fn members_of(scim: &Scim, id: &str) -> StoreResult<Vec<UserId>> {
    let members = scim
        .state
        .store
        .group_members(scim.account_id(), &[id.to_owned()])
        .await?;
    Ok(members
        .into_values()
        .flatten()
        .map(|r| UserId::from(r.id.as_str()))
        .collect())
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/Groups",
            get(endpoints::list::<Groups>).post(endpoints::create::<Groups>),
        )
        .route("/Groups/.search", post(endpoints::search::<Groups>))
        .route(
            "/Groups/{id}",
            get(endpoints::fetch::<Groups>)
                .put(endpoints::replace::<Groups>)
                .patch(endpoints::patch::<Groups>)
                .delete(endpoints::remove::<Groups>),
        )
}
