//! `/admin/api/accounts` and `/admin/api/accounts/{account}`: create, rename, change
//! fidelity, delete; the test-harness reset of an account.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{account_with_pool, assert_field_error, scim_configuration};
use crate::backend_tests;
use crate::helpers::{Backend, TestApp, assert_scim_error, expect_json, group_with, id_of, user_body};

async fn resetting_an_account_empties_it_and_frees_every_seat(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.create_user(&user_body("alice@acme.com")).await;
    let alice_id = id_of(&alice);
    app.create_group(&group_with("Sales", &[alice_id])).await;
    let response = app
        .admin(Method::POST, "/accounts/demo/reset")
        .send()
        .await
        .expect("request");
    let counts = expect_json(response, StatusCode::OK, "reset").await;
    assert_eq!(
        (counts["users"].as_u64(), counts["groups"].as_u64()),
        (Some(1), Some(1))
    );

    assert_eq!(app.get_ok("/Users?count=0").await["totalResults"], 0);
    assert_eq!(app.get_ok("/Groups?count=0").await["totalResults"], 0);
    let pools = app.pools("demo").await;
    assert!(
        pools
            .as_array()
            .expect("pools")
            .iter()
            .all(|p| p["used"] == 0 && p["waiting"] == 0),
        "{pools}"
    );
    // The token still works and the same person can be provisioned again.
    let again = app.create_user(&user_body("alice@acme.com")).await;
    assert_eq!(
        again["urn:linkedin-scim:schemas:extension:license:2.0:User"]["licenses"][0]["state"],
        "assigned"
    );
    let response = app
        .admin(Method::POST, "/accounts/nobody/reset")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

async fn accounts_are_created_renamed_and_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    account_with_pool(&app).await;
    let again = app
        .admin_json(Method::POST, "/accounts", json!({"name": "acme"}))
        .await;
    assert_scim_error(again, StatusCode::CONFLICT, Some("uniqueness")).await;
    assert_field_error(
        app.admin_json(Method::POST, "/accounts", json!({"name": "a b"}))
            .await,
        "name",
    )
    .await;
    assert_field_error(
        app.admin_json(Method::POST, "/accounts", json!({"name": "x", "colour": 1}))
            .await,
        "colour",
    )
    .await;
    assert_field_error(
        app.admin_json(
            Method::POST,
            "/accounts",
            json!({"name": "x", "fidelity": {"token_ttl_seconds": -1}}),
        )
        .await,
        "fidelity.token_ttl_seconds",
    )
    .await;
    let names: Vec<Value> = app
        .admin_get("/accounts")
        .await
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| a["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("acme"), json!("demo")], "nothing half-written");

    // Fidelity preset and overrides.
    let rfc = app
        .admin_json(
            Method::POST,
            "/accounts",
            json!({"name": "plain", "profile": "rfc", "fidelity": {"lock_admin_edits": true}}),
        )
        .await;
    let rfc = expect_json(rfc, StatusCode::CREATED, "rfc account").await;
    assert_eq!(rfc["fidelity"]["user_delete"], "delete");
    assert_eq!(rfc["fidelity"]["lock_admin_edits"], true);
    let renamed = app
        .admin_json(
            Method::PATCH,
            "/accounts/plain",
            json!({"name": "plain-2", "profile": "linkedin"}),
        )
        .await;
    let renamed = expect_json(renamed, StatusCode::OK, "rename").await;
    assert_eq!(renamed["fidelity"]["user_delete"], "deactivate");
    let taken = app
        .admin_json(Method::PATCH, "/accounts/plain-2", json!({"name": "acme"}))
        .await;
    assert_scim_error(taken, StatusCode::CONFLICT, Some("uniqueness")).await;
    assert_eq!(app.admin_get("/accounts/plain-2").await["name"], "plain-2");
    let gone = app
        .admin(Method::GET, "/accounts/plain")
        .send()
        .await
        .expect("request");
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);

    // Deleting an account ends its tokens at once.
    let token = scim_configuration(&app, "Okta").await;
    let ok = app
        .scim_as(&token, Method::GET, "/Users?filter=userName%20eq%20%22x%22")
        .send()
        .await
        .expect("request");
    assert_eq!(ok.status(), StatusCode::OK);
    let deleted = app
        .admin(Method::DELETE, "/accounts/acme")
        .send()
        .await
        .expect("request");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let refused = app
        .scim_as(&token, Method::GET, "/Users?filter=userName%20eq%20%22x%22")
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let again = app
        .admin(Method::DELETE, "/accounts/acme")
        .send()
        .await
        .expect("request");
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

backend_tests!(
    accounts_are_created_renamed_and_deleted,
    resetting_an_account_empties_it_and_frees_every_seat
);
