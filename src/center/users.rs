//! Users: the Account Center's user list (search or SCIM filter), one user, the CSV
//! export and LinkedIn's CSV deletion tool.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Center, CenterError, CenterResult, export, invalid};
use crate::accounts::Account;
use crate::ids::UserId;
use crate::licensing::License;
use crate::licensing::status::ProductStatuses;
use crate::scim::catalog::user_schema;
use crate::scim::list::{ListRequest, RawListParams};
use crate::scim::tolerance::{ClientProfile, Leniency};
use crate::store::{Page, QueuePlace, ResourceRecord, StoreError};

/// A user as the Account Center lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: String,
    pub user_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The person's status: active while any product holds them active.
    pub active: bool,
    /// Each product's own status, as its IdP reads `active` (docs/licensing.md,
    /// "Per-product status").
    #[schema(value_type = Object)]
    pub products: ProductStatuses,
    /// One per product: product, instance, licenseType, state (assigned / activated / waiting).
    #[schema(value_type = Vec<Object>)]
    pub licenses: Vec<License>,
    /// Product → place in its pool's queue (1: next in line), for each waiting license.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(value_type = Object)]
    pub queue_positions: BTreeMap<String, u64>,
}

/// Which users to list: a search over userName and externalId, or a SCIM filter.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSearch {
    /// userName starting with, or externalId equal to, this text.
    pub q: Option<String>,
    /// A SCIM filter (RFC 7644 §3.4.2.2), e.g. `externalId eq "42"`.
    pub filter: Option<String>,
    pub start_index: Option<u64>,
    pub count: Option<u64>,
}

/// The largest page of users the Account Center lists.
pub const MAX_USERS_PAGE: u32 = 500;

/// `record` with its `licenses` and the account's `queue`.
fn user_view(record: ResourceRecord, licenses: Vec<License>, queue: &[QueuePlace]) -> UserView {
    let queue_positions = queue
        .iter()
        .filter(|place| place.user_id.as_str() == record.id)
        .map(|place| (place.product.clone(), place.position))
        .collect();
    let text = |key: &str| {
        record
            .doc
            .get(key)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    UserView {
        user_name: text("userName").unwrap_or_default(),
        external_id: text("externalId"),
        display_name: text("displayName"),
        active: record
            .doc
            .get("active")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(true),
        products: record.attached.map(|a| a.statuses).unwrap_or_default(),
        id: record.id,
        licenses,
        queue_positions,
    }
}

impl Center {
    /// A page of users with their licenses.
    pub async fn users(&self, account: &Account, search: &UserSearch) -> CenterResult<Page<UserView>> {
        let filter = match (search.q.as_deref().map(str::trim), &search.filter) {
            (Some(q), _) if !q.is_empty() => {
                let quoted = serde_json::Value::String(q.to_owned()).to_string();
                Some(format!("userName sw {quoted} or externalId eq {quoted}"))
            }
            (_, filter) => filter.clone(),
        };
        let raw = RawListParams {
            filter,
            start_index: search.start_index.map(|n| n.to_string()),
            count: search.count.map(|n| n.to_string()),
            ..RawListParams::default()
        };
        let request: ListRequest = raw
            .parse(
                MAX_USERS_PAGE,
                user_schema(),
                &mut Leniency::new(ClientProfile::Strict),
            )
            .map_err(|e| invalid("filter", e.detail))?;
        let page = self.store.list_users(&account.id, &request, None).await?;
        let ids: Vec<UserId> = page.items.iter().map(|r| UserId::from(r.id.as_str())).collect();
        let licenses = self.store.licenses(&account.id, &ids).await?;
        let queue = self.store.queue(&account.id).await?;
        let items = page
            .items
            .into_iter()
            .map(|record| {
                let mine: Vec<License> = licenses
                    .iter()
                    .filter(|(user, _)| user.as_str() == record.id)
                    .map(|(_, l)| l.clone())
                    .collect();
                user_view(record, mine, &queue)
            })
            .collect();
        Ok(Page {
            total: page.total,
            items,
            more: page.more,
        })
    }

    /// LinkedIn's manual export: every user and license as CSV.
    pub async fn export_users(&self, account: &Account) -> CenterResult<String> {
        let mut users = Vec::new();
        loop {
            let search = UserSearch {
                start_index: Some(users.len() as u64 + 1),
                count: Some(u64::from(MAX_USERS_PAGE)),
                ..UserSearch::default()
            };
            let page = self.users(account, &search).await?;
            let done = page.items.is_empty() || users.len() + page.items.len() >= page.total as usize;
            users.extend(page.items);
            if done {
                break;
            }
        }
        export::users_csv(&users).map_err(|e| CenterError::Store(StoreError::Invalid(e.to_string())))
    }

    pub async fn user(&self, account: &Account, user_id: &UserId) -> CenterResult<UserView> {
        let record = self
            .store
            .get_user(&account.id, user_id)
            .await?
            .ok_or_else(|| CenterError::NotFound(format!("User {user_id} not found")))?;
        let licenses = self
            .store
            .licenses(&account.id, std::slice::from_ref(user_id))
            .await?
            .into_iter()
            .map(|(_, l)| l)
            .collect();
        let queue = self.store.queue(&account.id).await?;
        Ok(user_view(record, licenses, &queue))
    }

    /// LinkedIn's CSV deletion tool: remove these users for good (SCIM DELETE only
    /// deactivates in LinkedIn mode). Unknown ids are a 404 before anything is removed.
    pub async fn delete_users(&self, account: &Account, ids: &[UserId]) -> CenterResult<u64> {
        if ids.is_empty() {
            return Err(invalid("ids", "name at least one user id"));
        }
        for id in ids {
            if self.store.get_user(&account.id, id).await?.is_none() {
                return Err(CenterError::NotFound(format!("User {id} not found")));
            }
        }
        let mut deleted = 0;
        for id in ids {
            if self.store.delete_user(&account.id, id, self.now()).await? {
                deleted += 1;
            }
        }
        Ok(deleted)
    }
}
