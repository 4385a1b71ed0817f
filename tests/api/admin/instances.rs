//! `/admin/api/accounts/{account}/instances` and new pools: validation, 409 on a taken
//! name, nothing half-written, another account's instances out of reach.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{account_with_pool, assert_field_error};
use crate::backend_tests;
use crate::helpers::{Backend, TestApp, assert_scim_error};

async fn instances_and_pools_are_validated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    account_with_pool(&app).await;
    let instances = app.admin_get("/accounts/acme/instances").await;
    assert_eq!(
        instances,
        json!([{"product": "sales_navigator", "name": "Acme SN"}])
    );
    let dup = app
        .admin_json(
            Method::POST,
            "/accounts/acme/instances",
            json!({"product": "learning", "name": "Acme SN"}),
        )
        .await;
    assert_scim_error(dup, StatusCode::CONFLICT, Some("uniqueness")).await;
    assert_field_error(
        app.admin_json(
            Method::POST,
            "/accounts/acme/instances",
            json!({"product": "Sales Navigator", "name": "x"}),
        )
        .await,
        "product",
    )
    .await;
    assert_field_error(
        app.admin_json(
            Method::POST,
            "/accounts/acme/pools",
            json!({"instance": "Acme SN", "licenseType": "Core", "seats": -1}),
        )
        .await,
        "seats",
    )
    .await;
    assert_field_error(
        app.admin_json(
            Method::POST,
            "/accounts/acme/pools",
            json!({"instance": "Nope", "licenseType": "Core", "seats": 1}),
        )
        .await,
        "instance",
    )
    .await;
    let dup_pool = app
        .admin_json(
            Method::POST,
            "/accounts/acme/pools",
            json!({"instance": "Acme SN", "licenseType": "Advanced Plus", "seats": 1}),
        )
        .await;
    assert_scim_error(dup_pool, StatusCode::CONFLICT, Some("uniqueness")).await;
    let pools = app.admin_get("/accounts/acme/pools").await;
    assert_eq!(
        pools.as_array().map(Vec::len),
        Some(1),
        "nothing half-written: {pools}"
    );
    assert_eq!(pools[0]["seats"], 2);
    // Another account's instances are not reachable through this one.
    let other = app.admin_get("/accounts/demo/instances").await;
    assert!(
        other
            .as_array()
            .expect("instances")
            .iter()
            .all(|i| i["name"] != "Acme SN")
    );
    let missing = app
        .admin(Method::GET, "/accounts/nobody/instances")
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

backend_tests!(instances_and_pools_are_validated,);
