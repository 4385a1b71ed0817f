//! The store's batch import (`UserStore::import_users`) and its query plans: imported
//! users are ordinary users over HTTP, and the indexed lookups use their indexes.

use linkedin_scim::accounts::FidelityPreset;
use linkedin_scim::scim::catalog::user_schema;
use linkedin_scim::scim::list::RawListParams;
use linkedin_scim::scim::tolerance::{ClientProfile, Leniency};
use std::sync::Arc;

use linkedin_scim::store::{Store, StoreError};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, USER_SCHEMA};

fn doc(i: usize) -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "userName": format!("user{i}@import.example"),
        "externalId": format!("ext-{i}"),
        "active": true,
        "emails": [{"value": format!("User{i}@Import.example"), "primary": true}],
    })
}

/// An app, a second handle on its database, and the demo account's id.
async fn demo_store(backend: Backend) -> (TestApp, Arc<dyn Store>, String) {
    let app = TestApp::spawn(backend).await;
    let store = linkedin_scim::store::connect(&app.database_url)
        .await
        .expect("store");
    let account = store
        .ensure_account(
            linkedin_scim::accounts::seed::DEMO_ACCOUNT,
            FidelityPreset::Rfc.settings(),
            0,
        )
        .await
        .expect("demo account");
    (app, store, account.id)
}

async fn imported_users_are_listed_filtered_and_unique(backend: Backend) {
    let (app, store, account_id) = demo_store(backend).await;
    // More than one multi-row statement's worth.
    let docs: Vec<Value> = (0..2_500).map(doc).collect();
    assert_eq!(
        store.import_users(&account_id, &docs, 1).await.expect("import"),
        2_500
    );

    let all: Value = app.get("/Users?count=0").await.json().await.expect("json");
    assert_eq!(all["totalResults"], 2_500);
    let found = app
        .list_users("emails[value eq \"user1234@import.EXAMPLE\"]")
        .await;
    assert_eq!(found["Resources"][0]["externalId"], "ext-1234");
    assert_eq!(app.list_users("externalId eq \"ext-7\"").await["totalResults"], 1);

    // All or nothing: one taken userName refuses the whole batch.
    let clash = store.import_users(&account_id, &[doc(10_000), doc(42)], 2).await;
    assert!(matches!(clash, Err(StoreError::Conflict(_))), "{clash:?}");
    assert_eq!(
        app.list_users("userName eq \"user10000@import.example\"").await["totalResults"],
        0
    );

    // The unfiltered total is the account's user count, kept by every insert and delete.
    let id = app.list_users("externalId eq \"ext-7\"").await["Resources"][0]["id"].clone();
    let gone = app.delete(&format!("/Users/{}", id.as_str().expect("id"))).await;
    assert_eq!(gone.status(), reqwest::StatusCode::NO_CONTENT);
    app.create_user(&crate::helpers::user_body("one-more@import.example"))
        .await;
    let all: Value = app.get("/Users?count=0").await.json().await.expect("json");
    assert_eq!(all["totalResults"], 2_500);
    let filtered = app.list_users("userName ew \"@import.example\"").await;
    assert_eq!(filtered["totalResults"], 2_500);
}

async fn indexed_lookups_use_indexes(backend: Backend) {
    let (_app, store, account_id) = demo_store(backend).await;
    let docs: Vec<Value> = (0..2_000).map(doc).collect();
    store.import_users(&account_id, &docs, 1).await.expect("import");
    for filter in [
        "userName eq \"user5@import.example\"",
        "externalId eq \"ext-5\"",
        "emails[value eq \"user5@import.example\"]",
        "emails.value eq \"user5@import.example\"",
        "displayName eq \"x\"",
    ] {
        let raw = RawListParams {
            filter: Some(filter.into()),
            ..Default::default()
        };
        let request = raw
            .parse(100, user_schema(), &mut Leniency::new(ClientProfile::Strict))
            .expect("valid");
        let plan = store
            .explain_list_users(&account_id, &request)
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
    indexed_lookups_use_indexes
);
