//! Users imported with the store's batch import (`UserStore::import_users`, see
//! `tests/api/store/import.rs`) are ordinary users over HTTP.

use linkedin_scim::accounts::FidelityPreset;
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::store::import::doc;

/// Imported as users of the demo account's Sales Navigator, whose token lists them.
fn demo_products() -> linkedin_scim::licensing::status::ProductStatuses {
    [(
        linkedin_scim::licensing::Product::SALES_NAVIGATOR.to_owned(),
        Some(true),
    )]
    .into()
}

async fn imported_users_are_listed_filtered_and_deleted_over_http(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let store = linkedin_scim::store::connect(&app.database_url)
        .await
        .expect("store");
    let account = store
        .ensure_account(
            linkedin_scim::center::seed::DEMO_ACCOUNT,
            FidelityPreset::Rfc.settings(),
            0,
        )
        .await
        .expect("demo account");
    let docs: Vec<Value> = (0..1_200).map(doc).collect();
    assert_eq!(
        store
            .import_users(&account.id, &docs, &demo_products(), 1)
            .await
            .expect("import"),
        1_200
    );

    let all: Value = app.get("/Users?count=0").await.json().await.expect("json");
    assert_eq!(all["totalResults"], 1_200);
    let found = app
        .list_users("emails[value eq \"user1111@import.EXAMPLE\"]")
        .await;
    assert_eq!(found["Resources"][0]["externalId"], "ext-1111");

    let id = app.list_users("externalId eq \"ext-7\"").await["Resources"][0]["id"].clone();
    let gone = app.delete(&format!("/Users/{}", id.as_str().expect("id"))).await;
    assert_eq!(gone.status(), reqwest::StatusCode::NO_CONTENT);
    app.create_user(&crate::helpers::user_body("one-more@import.example"))
        .await;
    let all: Value = app.get("/Users?count=0").await.json().await.expect("json");
    assert_eq!(all["totalResults"], 1_200);
    assert_eq!(
        app.list_users("userName ew \"@import.example\"").await["totalResults"],
        1_200
    );
}

backend_tests!(imported_users_are_listed_filtered_and_deleted_over_http);
