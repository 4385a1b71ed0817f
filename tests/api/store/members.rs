//! Group membership as the store carries out `membership::MemberOp`s: origins, the
//! re-push diff, removals by id and by filter, and unknown members.

use linkedin_scim::ids::{GroupId, UserId};
use linkedin_scim::membership::{MemberOp, MemberOrigin};
use linkedin_scim::scim::filter::parse_filter;
use linkedin_scim::scim::tolerance::Leniency;
use linkedin_scim::store::{GroupUpdate, ResourceRecord, StoreError};
use serde_json::json;

use super::{TestStore, groups_query};
use crate::backend_tests;
use crate::helpers::{Backend, GROUP_SCHEMA};

async fn group(t: &TestStore, name: &str, members: &[UserId]) -> ResourceRecord {
    t.store
        .create_group(
            t.account_id(),
            &json!({"schemas": [GROUP_SCHEMA], "displayName": name}),
            members,
            1,
        )
        .await
        .expect("create group")
}

fn gid(group: &ResourceRecord) -> GroupId {
    GroupId::from(group.id.as_str())
}

async fn apply(
    t: &TestStore,
    group_id: &GroupId,
    ops: Vec<MemberOp>,
    now: i64,
) -> Result<ResourceRecord, StoreError> {
    let mut ops = Some(ops);
    t.store
        .modify_group(t.account_id(), group_id, now, &mut |_| {
            Ok(Some(GroupUpdate {
                doc: None,
                members: ops.take().unwrap_or_default(),
            }))
        })
        .await
}

async fn members(t: &TestStore, group_id: &GroupId) -> Vec<UserId> {
    let refs = t
        .store
        .group_members(t.account_id(), &[group_id.to_string()])
        .await
        .expect("members");
    refs.get(group_id.as_str())
        .map(|list| list.iter().map(|r| UserId::from(r.id.as_str())).collect())
        .unwrap_or_default()
}

async fn users(t: &TestStore, n: usize) -> Vec<UserId> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(t.user(&format!("member{i}@acme.example")).await);
    }
    ids
}

fn sorted(ids: &[UserId]) -> Vec<UserId> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

async fn a_replace_keeps_admin_members_and_a_same_re_push_keeps_the_version(backend: Backend) {
    let t = TestStore::open(backend).await;
    let u = users(&t, 4).await;
    let g = group(&t, "Sales", &u[..2]).await;
    let added = t
        .store
        .add_members(t.account_id(), &gid(&g), &[u[3].clone()], MemberOrigin::Admin, 2)
        .await
        .expect("admin member");
    assert_eq!(added, 1);

    // Okta re-pushes the same list: nothing changes, not even the version.
    let before = t
        .store
        .get_group(t.account_id(), &gid(&g))
        .await
        .expect("get")
        .expect("group");
    let same = apply(
        &t,
        &gid(&g),
        vec![MemberOp::ReplaceScim(vec![u[1].clone(), u[0].clone()])],
        3,
    )
    .await
    .expect("re-push");
    assert_eq!(same.version, before.version);

    // A new list: u0 goes, u2 comes, the admin member u3 stays.
    let changed = apply(
        &t,
        &gid(&g),
        vec![MemberOp::ReplaceScim(vec![u[1].clone(), u[2].clone()])],
        4,
    )
    .await
    .expect("replace");
    assert!(changed.version > before.version);
    assert_eq!(members(&t, &gid(&g)).await, sorted(&u[1..]));

    // Removing every member is a replace with none: the admin member stays.
    apply(&t, &gid(&g), vec![MemberOp::ReplaceScim(Vec::new())], 5)
        .await
        .expect("clear");
    assert_eq!(members(&t, &gid(&g)).await, vec![u[3].clone()]);
}

async fn members_are_removed_by_id_or_by_filter_whatever_their_origin(backend: Backend) {
    let t = TestStore::open(backend).await;
    let u = users(&t, 3).await;
    let g = group(&t, "Support", &u[..2]).await;
    t.store
        .add_members(t.account_id(), &gid(&g), &[u[2].clone()], MemberOrigin::Admin, 2)
        .await
        .expect("admin member");
    apply(
        &t,
        &gid(&g),
        vec![MemberOp::Remove(vec![u[2].clone(), u[2].clone()])],
        3,
    )
    .await
    .expect("remove");
    assert_eq!(members(&t, &gid(&g)).await, sorted(&u[..2]));
    let filter =
        parse_filter("display eq \"MEMBER0@acme.example\"", &mut Leniency::default()).expect("filter");
    apply(&t, &gid(&g), vec![MemberOp::RemoveWhere(filter)], 4)
        .await
        .expect("remove where");
    let remaining = members(&t, &gid(&g)).await;
    assert_eq!(remaining, vec![u[1].clone()]);
}

async fn unknown_members_write_nothing(backend: Backend) {
    let t = TestStore::open(backend).await;
    let u = users(&t, 1).await;
    let unknown = vec![u[0].clone(), UserId::from("no-such-user")];
    let create = t
        .store
        .create_group(t.account_id(), &json!({"displayName": "Ghosts"}), &unknown, 1)
        .await;
    assert!(
        matches!(&create, Err(StoreError::UnknownMembers(ids)) if ids == &["no-such-user".to_owned()]),
        "{create:?}"
    );
    assert_eq!(
        t.store
            .list_groups(t.account_id(), &groups_query(None))
            .await
            .expect("list")
            .total,
        0
    );
    let g = group(&t, "Real", &[]).await;
    let add = apply(&t, &gid(&g), vec![MemberOp::Add(unknown)], 2).await;
    assert!(matches!(add, Err(StoreError::UnknownMembers(_))), "{add:?}");
    assert!(members(&t, &gid(&g)).await.is_empty());
    // Another account's user is unknown here too.
    let other = t.other_account("globex").await;
    let stranger = t
        .store
        .create_user(
            &other.id,
            &super::user_doc("stranger@globex.example"),
            &linkedin_scim::licensing::SeatRequest::none(),
            None,
            1,
        )
        .await
        .expect("user")
        .record;
    let cross = t
        .store
        .add_members(
            t.account_id(),
            &gid(&g),
            &[super::user_id(&stranger)],
            MemberOrigin::Admin,
            3,
        )
        .await;
    assert!(matches!(cross, Err(StoreError::UnknownMembers(_))), "{cross:?}");
}

async fn deleting_a_member_moves_its_groups_version_on(backend: Backend) {
    let t = TestStore::open(backend).await;
    let u = users(&t, 2).await;
    let g = group(&t, "Ops", &u).await;
    assert!(
        t.store
            .delete_user(t.account_id(), &u[0], 9)
            .await
            .expect("delete")
    );
    let after = t
        .store
        .get_group(t.account_id(), &gid(&g))
        .await
        .expect("get")
        .expect("group");
    assert!(after.version > g.version);
    assert_eq!(after.updated_at, 9);
    assert_eq!(members(&t, &gid(&g)).await, vec![u[1].clone()]);
    let ids: Vec<String> = u.iter().map(UserId::to_string).collect();
    let groups = t
        .store
        .user_groups(t.account_id(), &ids)
        .await
        .expect("user groups");
    assert!(!groups.contains_key(u[0].as_str()));
    assert_eq!(groups[u[1].as_str()][0].display, "Ops");
}

backend_tests!(
    a_replace_keeps_admin_members_and_a_same_re_push_keeps_the_version,
    members_are_removed_by_id_or_by_filter_whatever_their_origin,
    unknown_members_write_nothing,
    deleting_a_member_moves_its_groups_version_on
);
