//! Groups: list them with their members, and add or remove members by hand (origin
//! `admin`, which an IdP's re-push leaves in place).

use serde::Serialize;

use super::{Center, CenterError, CenterResult, MAX_USERS_PAGE, invalid};
use crate::accounts::Account;
use crate::ids::{GroupId, UserId};
use crate::membership::{MemberOp, MemberOrigin};
use crate::scim::list::RawListParams;
use crate::scim::tolerance::{ClientProfile, Leniency};
use crate::store::{Member, ResourceRecord, StoreError};

/// A group with its members and their origin.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupView {
    pub id: String,
    pub display_name: String,
    pub members: Vec<MemberView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    pub id: String,
    pub user_name: String,
    /// `scim` (written by the IdP) or `admin` (added in the Account Center).
    pub origin: &'static str,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        MemberView {
            id: m.id.into(),
            user_name: m.user_name,
            origin: m.origin.as_str(),
        }
    }
}

impl Center {
    pub async fn groups(&self, account: &Account) -> CenterResult<Vec<GroupView>> {
        let request = RawListParams::default()
            .parse(
                MAX_USERS_PAGE,
                crate::scim::catalog::group_schema(),
                &mut Leniency::new(ClientProfile::Strict),
            )
            .map_err(|e| invalid("filter", e.detail))?;
        let page = self.store.list_groups(&account.id, &request).await?;
        let mut groups = Vec::with_capacity(page.items.len());
        for record in page.items {
            groups.push(self.group_view(account, record).await?);
        }
        Ok(groups)
    }

    pub async fn group(&self, account: &Account, group_id: &GroupId) -> CenterResult<GroupView> {
        let record = self
            .store
            .get_group(&account.id, group_id)
            .await?
            .ok_or_else(|| CenterError::NotFound(format!("Group {group_id} not found")))?;
        self.group_view(account, record).await
    }

    async fn group_view(&self, account: &Account, record: ResourceRecord) -> CenterResult<GroupView> {
        let members = self
            .store
            .members(&account.id, &GroupId::from(record.id.as_str()))
            .await?;
        Ok(GroupView {
            display_name: record
                .doc
                .get("displayName")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            id: record.id,
            members: members.into_iter().map(MemberView::from).collect(),
        })
    }

    /// Members added directly in the Account Center: origin `admin`, so an IdP's
    /// re-push of the group (Okta's "Push Now") leaves them in place, as LinkedIn does.
    pub async fn add_members(
        &self,
        account: &Account,
        group_id: &GroupId,
        user_ids: &[UserId],
    ) -> CenterResult<u64> {
        if user_ids.is_empty() {
            return Err(invalid("members", "name at least one user id"));
        }
        self.store
            .add_members(&account.id, group_id, user_ids, MemberOrigin::Admin, self.now())
            .await
            .map_err(|e| match e {
                StoreError::NotFound => CenterError::NotFound(format!("Group {group_id} not found")),
                other => other.into(),
            })
    }

    /// Remove one member, whatever its origin.
    pub async fn remove_member(
        &self,
        account: &Account,
        group_id: &GroupId,
        user_id: &UserId,
    ) -> CenterResult<()> {
        let members = self.store.members(&account.id, group_id).await?;
        if !members.iter().any(|m| m.id == *user_id) {
            self.group(account, group_id).await?;
            return Err(CenterError::NotFound(format!(
                "User {user_id} is not a member of group {group_id}"
            )));
        }
        let remove = vec![user_id.clone()];
        self.store
            .modify_group(&account.id, group_id, self.now(), &mut |_| {
                Ok(Some(crate::provisioning::GroupUpdate {
                    doc: None,
                    members: vec![MemberOp::Remove(remove.clone())],
                }))
            })
            .await?;
        Ok(())
    }
}
