//! Groups and the membership table: the ops of `membership` carried out in SQL.

use std::collections::HashSet;

use async_trait::async_trait;
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{QueryBuilder, Transaction};

use super::Db;
use crate::dialect::Dialect;
use crate::query::FilterSql;
use crate::sql::{
    CHUNK, GROUPS, ListView, RECORD_COLUMNS, RecordRow, SqlStore, distinct, member_violation, or_conflict,
    prefixed, push_in,
};
use crate::targets::{MEMBERS, groups_target};
use crate::{
    Change, GroupColumns, GroupStore, GroupUpdate, ListRequest, Micros, Page, References, ResourceRecord,
    StoreError, StoreResult,
};
use domain::ids::{AccountId, GroupId, UserId};
use domain::membership::{MemberOp, MemberOrigin, diff_scim_replace};
use scim::filter::Filter;

impl SqlStore<Db> {
    fn display_name_taken(columns: &GroupColumns) -> StoreError {
        StoreError::Conflict(format!(
            "displayName {:?} is already taken by another group in this account",
            columns.display_name
        ))
    }

    /// Which of these ids are users of the account: `UnknownMembers` names the
    /// others. Runs before any membership insert so a bad id writes nothing.
    async fn check_users(
        tx: &mut Transaction<'static, Db>,
        account_id: &AccountId,
        ids: &[&str],
    ) -> StoreResult<()> {
        let mut found = HashSet::new();
        for chunk in ids.chunks(CHUNK) {
            let mut qb = QueryBuilder::<Db>::new("select id from users where account_id = ");
            qb.push_bind(account_id.to_owned());
            qb.push(" and ");
            push_in(&mut qb, "id", chunk);
            let rows: Vec<String> = qb.build_query_scalar().fetch_all(&mut **tx).await?;
            found.extend(rows);
        }
        let missing: Vec<String> = ids
            .iter()
            .filter(|id| !found.contains(**id))
            .map(|id| (*id).to_owned())
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(StoreError::UnknownMembers(missing))
        }
    }

    /// A user document's `manager.value` (enterprise extension) must be a user of the
    /// account, as a group's members must (issue 30: it is stored as a bare id, and
    /// could name another account's user). Checked only when it changes from `before`'s,
    /// so a user whose manager was deleted can still be updated.
    pub(super) async fn check_manager(
        tx: &mut Transaction<'static, Db>,
        account_id: &AccountId,
        doc: &Value,
        before: Option<&Value>,
    ) -> StoreResult<()> {
        fn manager_of(doc: &Value) -> Option<&str> {
            doc.get(scim::catalog::ENTERPRISE_USER)?
                .get("manager")?
                .get("value")?
                .as_str()
                .filter(|id| !id.is_empty())
        }
        let Some(manager) = manager_of(doc) else {
            return Ok(());
        };
        if before.and_then(manager_of) == Some(manager) {
            return Ok(());
        }
        let found: Option<String> =
            sqlx::query_scalar("select id from users where account_id = $1 and id = $2")
                .bind(account_id)
                .bind(manager)
                .fetch_optional(&mut **tx)
                .await?;
        match found {
            Some(_) => Ok(()),
            None => Err(StoreError::Query(scim::error::ProtocolError::invalid_value(
                format!("manager.value: no user of this account has the id {manager}"),
            ))),
        }
    }

    /// Insert memberships (existing ones are left as they are); returns how many
    /// rows were added.
    async fn insert_members(
        tx: &mut Transaction<'static, Db>,
        account_id: &AccountId,
        group_id: &GroupId,
        ids: &[UserId],
        origin: MemberOrigin,
        now: Micros,
    ) -> StoreResult<u64> {
        let ids = distinct(ids);
        Self::check_users(tx, account_id, &ids).await?;
        let mut added = 0;
        for chunk in ids.chunks(CHUNK) {
            let mut qb = QueryBuilder::<Db>::new(
                "insert into group_members (group_id, member_id, account_id, origin, created_at) ",
            );
            qb.push_values(chunk, |mut row, id| {
                row.push_bind(group_id.to_owned())
                    .push_bind((*id).to_owned())
                    .push_bind(account_id.to_owned())
                    .push_bind(origin.as_str())
                    .push_bind(now);
            });
            qb.push(" on conflict (group_id, member_id) do nothing");
            added += qb
                .build()
                .execute(&mut **tx)
                .await
                .map_err(member_violation)?
                .rows_affected();
        }
        Ok(added)
    }

    async fn delete_members(
        tx: &mut Transaction<'static, Db>,
        group_id: &str,
        ids: &[&str],
    ) -> StoreResult<u64> {
        let mut removed = 0;
        for chunk in ids.chunks(CHUNK) {
            let mut qb = QueryBuilder::<Db>::new("delete from group_members where group_id = ");
            qb.push_bind(group_id.to_owned());
            qb.push(" and ");
            push_in(&mut qb, "member_id", chunk);
            removed += qb.build().execute(&mut **tx).await?.rows_affected();
        }
        Ok(removed)
    }

    /// Carry out one membership change; returns how many rows it changed.
    async fn apply_member_op(
        tx: &mut Transaction<'static, Db>,
        account_id: &AccountId,
        group_id: &GroupId,
        op: &MemberOp,
        now: Micros,
    ) -> StoreResult<u64> {
        match op {
            MemberOp::Add(ids) => {
                Self::insert_members(tx, account_id, group_id, ids, MemberOrigin::Scim, now).await
            }
            MemberOp::Remove(ids) => Self::delete_members(tx, group_id, &distinct(ids)).await,
            MemberOp::RemoveWhere(filter) => Self::delete_members_where(tx, group_id, filter).await,
            MemberOp::ReplaceScim(ids) => {
                let current: Vec<UserId> = sqlx::query_scalar(
                    "select member_id from group_members where group_id = $1 and origin = 'scim'",
                )
                .bind(group_id)
                .fetch_all(&mut **tx)
                .await?;
                let diff = diff_scim_replace(&current, ids);
                let removed = Self::delete_members(tx, group_id, &distinct(&diff.remove)).await?;
                let added =
                    Self::insert_members(tx, account_id, group_id, &diff.add, MemberOrigin::Scim, now)
                        .await?;
                Ok(removed + added)
            }
        }
    }

    async fn delete_members_where(
        tx: &mut Transaction<'static, Db>,
        group_id: &GroupId,
        filter: &Filter,
    ) -> StoreResult<u64> {
        let target = groups_target();
        let mut qb = QueryBuilder::<Db>::new("delete from group_members where group_id = ");
        qb.push_bind(group_id.to_owned());
        // The relation's SQL is relative to a group row `r`: select that row.
        qb.push(format!(
            " and member_id in (select gm.member_id from groups r, {} and r.id = ",
            MEMBERS.from_where
        ));
        qb.push_bind(group_id.to_owned());
        qb.push(" and (");
        FilterSql::new(&target).push_related(&mut qb, MEMBERS.attribute, filter)?;
        qb.push("))");
        Ok(qb.build().execute(&mut **tx).await?.rows_affected())
    }
}

#[async_trait]
impl GroupStore for SqlStore<Db> {
    async fn create_group(
        &self,
        account_id: &AccountId,
        doc: &Value,
        members: &[UserId],
        now: Micros,
    ) -> StoreResult<ResourceRecord> {
        let columns = GroupColumns::from_doc(doc)?;
        let id = GroupId::generate();
        let mut tx = self.begin_write().await?;
        let row: RecordRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "insert into groups (id, account_id, display_name, display_name_key, external_id, doc, version,
                                 created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, 1, $7, $7)
             returning {RECORD_COLUMNS}"
        )))
        .bind(&id)
        .bind(account_id)
        .bind(&columns.display_name)
        .bind(&columns.display_name_key)
        .bind(&columns.external_id)
        .bind(Json(doc))
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(or_conflict(|| Self::display_name_taken(&columns)))?;
        Self::insert_members(&mut tx, account_id, &id, members, MemberOrigin::Scim, now).await?;
        tx.commit().await?;
        Ok(row.into())
    }

    async fn get_group(&self, account_id: &AccountId, id: &GroupId) -> StoreResult<Option<ResourceRecord>> {
        self.get_record(GROUPS, account_id, id).await
    }

    async fn modify_group(
        &self,
        account_id: &AccountId,
        id: &GroupId,
        now: Micros,
        change: &mut Change<'_, GroupUpdate>,
    ) -> StoreResult<ResourceRecord> {
        let mut tx = self.begin_write().await?;
        let current = Self::lock_record(&mut tx, GROUPS, account_id, id).await?;
        let Some(update) = change(&current)? else {
            return Ok(current);
        };
        let mut members_changed = false;
        for op in &update.members {
            members_changed |= Self::apply_member_op(&mut tx, account_id, id, op, now).await? > 0;
        }
        let record = match update.doc.filter(|doc| *doc != current.doc) {
            Some(doc) => {
                let columns = GroupColumns::from_doc(&doc)?;
                let row: RecordRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "update groups set display_name = $3, display_name_key = $4, external_id = $5, doc = $6,
                                       version = version + 1, updated_at = $7
                     where account_id = $1 and id = $2
                     returning {RECORD_COLUMNS}"
                )))
                .bind(account_id)
                .bind(id)
                .bind(&columns.display_name)
                .bind(&columns.display_name_key)
                .bind(&columns.external_id)
                .bind(Json(&doc))
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(or_conflict(|| Self::display_name_taken(&columns)))?;
                row.into()
            }
            None if members_changed => Self::touch_record(&mut tx, GROUPS, account_id, id, now).await?,
            None => return Ok(current),
        };
        tx.commit().await?;
        Ok(record)
    }

    async fn delete_group(&self, account_id: &AccountId, id: &GroupId) -> StoreResult<bool> {
        self.delete_record(GROUPS, account_id, id).await
    }

    async fn list_groups(
        &self,
        account_id: &AccountId,
        query: &ListRequest,
    ) -> StoreResult<Page<ResourceRecord>> {
        self.list_records::<RecordRow>(
            GROUPS,
            &prefixed(RECORD_COLUMNS),
            &groups_target(),
            account_id,
            query,
            ListView::default(),
        )
        .await
    }

    async fn group_members(&self, account_id: &AccountId, group_ids: &[String]) -> StoreResult<References> {
        let display = Db::json_text("u.doc", &["displayName"]);
        let select = format!(
            "select gm.group_id as owner, gm.member_id as id, coalesce({display}, u.user_name) as display
             from group_members gm join users u on u.id = gm.member_id where"
        );
        self.references(
            &select,
            "gm.group_id",
            "gm.group_id, gm.member_id",
            account_id,
            group_ids,
        )
        .await
    }

    async fn user_groups(&self, account_id: &AccountId, user_ids: &[String]) -> StoreResult<References> {
        let select = "select gm.member_id as owner, g.id as id, g.display_name as display
                      from group_members gm join groups g on g.id = gm.group_id where";
        self.references(select, "gm.member_id", "gm.member_id, g.id", account_id, user_ids)
            .await
    }

    async fn add_members(
        &self,
        account_id: &AccountId,
        group_id: &GroupId,
        user_ids: &[UserId],
        origin: MemberOrigin,
        now: Micros,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        Self::lock_record(&mut tx, GROUPS, account_id, group_id).await?;
        let added = Self::insert_members(&mut tx, account_id, group_id, user_ids, origin, now).await?;
        if added > 0 {
            Self::touch_record(&mut tx, GROUPS, account_id, group_id, now).await?;
        }
        tx.commit().await?;
        Ok(added)
    }
}
