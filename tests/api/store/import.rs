//! `UserStore::import_users`: the batch import seeds and the benchmark use, and the query
//! plans of the indexed lookups.

use linkedin_scim::store::StoreError;
use serde_json::{Value, json};

use super::{TestStore, users_query};
use crate::backend_tests;
use crate::helpers::{Backend, USER_SCHEMA};

pub fn doc(i: usize) -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "userName": format!("user{i}@import.example"),
        "externalId": format!("ext-{i}"),
        "active": true,
        "emails": [{"value": format!("User{i}@Import.example"), "primary": true}],
    })
}

async fn total(t: &TestStore, filter: Option<&str>) -> u64 {
    t.store
        .list_users(t.account_id(), &users_query(filter, Some(0)), None)
        .await
        .expect("list")
        .total
}

async fn imported_users_are_listed_filtered_and_unique(backend: Backend) {
    let t = TestStore::open(backend).await;
    // More than one multi-row statement's worth.
    let docs: Vec<Value> = (0..2_500).map(doc).collect();
    assert_eq!(
        t.store
            .import_users(t.account_id(), &docs, &Default::default(), 1)
            .await
            .expect("import"),
        2_500
    );

    assert_eq!(total(&t, None).await, 2_500);
    let found = t
        .store
        .list_users(
            t.account_id(),
            &users_query(Some("emails[value eq \"user1234@import.EXAMPLE\"]"), None),
            None,
        )
        .await
        .expect("list");
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].doc["externalId"], "ext-1234");
    assert_eq!(total(&t, Some("externalId eq \"ext-7\"")).await, 1);

    // All or nothing: one taken userName refuses the whole batch.
    let clash = t
        .store
        .import_users(t.account_id(), &[doc(10_000), doc(42)], &Default::default(), 2)
        .await;
    assert!(matches!(clash, Err(StoreError::Conflict(_))), "{clash:?}");
    assert_eq!(
        total(&t, Some("userName eq \"user10000@import.example\"")).await,
        0
    );
    assert_eq!(total(&t, None).await, 2_500);

    // The unfiltered total is the account's user count, kept by every insert and delete.
    let seven = t
        .store
        .list_users(
            t.account_id(),
            &users_query(Some("externalId eq \"ext-7\""), None),
            None,
        )
        .await
        .expect("list")
        .items
        .remove(0);
    assert!(
        t.store
            .delete_user(t.account_id(), &super::user_id(&seven), 3)
            .await
            .expect("delete")
    );
    assert_eq!(total(&t, None).await, 2_499);
    t.user("one-more@import.example").await;
    assert_eq!(total(&t, None).await, 2_500);
    assert_eq!(total(&t, Some("userName ew \"@import.example\"")).await, 2_500);
}

async fn imports_stay_in_their_account(backend: Backend) {
    let t = TestStore::open(backend).await;
    let other = t.other_account("globex").await;
    t.store
        .import_users(&other.id, &[doc(1)], &Default::default(), 1)
        .await
        .expect("import");
    // The same userName is free in another account.
    t.store
        .import_users(t.account_id(), &[doc(1)], &Default::default(), 1)
        .await
        .expect("import");
    assert_eq!(total(&t, None).await, 1);
    assert_eq!(total(&t, Some("userName eq \"user1@import.example\"")).await, 1);
}

async fn indexed_lookups_use_indexes(backend: Backend) {
    let t = TestStore::open(backend).await;
    let docs: Vec<Value> = (0..2_000).map(doc).collect();
    t.store
        .import_users(t.account_id(), &docs, &Default::default(), 1)
        .await
        .expect("import");
    for filter in [
        "userName eq \"user5@import.example\"",
        "externalId eq \"ext-5\"",
        "emails[value eq \"user5@import.example\"]",
        "emails.value eq \"user5@import.example\"",
        "displayName eq \"x\"",
    ] {
        let plan = t
            .store
            .explain_list_users(t.account_id(), &users_query(Some(filter), Some(100)))
            .await
            .expect("explain")
            .join("\n");
        // A full scan of users reads every row of every account.
        let full_scan = match backend {
            Backend::Sqlite => plan.lines().any(|l| l.trim_start().starts_with("SCAN r")),
            Backend::Postgres => plan.contains("Seq Scan on users"),
        };
        assert!(!full_scan, "{filter} scans users:\n{plan}");
    }
}

backend_tests!(
    imported_users_are_listed_filtered_and_unique,
    imports_stay_in_their_account,
    indexed_lookups_use_indexes
);
