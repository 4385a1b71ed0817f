//! Test-harness controls of the admin API.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, assert_scim_error, expect_json, group_with, user_body};

async fn resetting_an_account_empties_it_and_frees_every_seat(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.create_user(&user_body("alice@acme.com")).await;
    let alice_id = alice["id"].as_str().expect("id").to_owned();
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
    let pools: Value = expect_json(
        app.admin(Method::GET, "/accounts/demo/pools")
            .send()
            .await
            .expect("request"),
        StatusCode::OK,
        "pools",
    )
    .await;
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

async fn bad_admin_input_gets_a_scim_error(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .admin(Method::GET, "/accounts/demo/activity?limit=many")
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    let pool = expect_json(
        app.admin(Method::GET, "/accounts/demo/pools")
            .send()
            .await
            .expect("request"),
        StatusCode::OK,
        "pools",
    )
    .await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let response = app
        .admin(Method::PATCH, &format!("/accounts/demo/pools/{pool}"))
        .header("content-type", "application/json")
        .body(r#"{"seat": 3}"#)
        .send()
        .await
        .expect("request");
    let body = assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("promoteWaiting")),
        "{body}"
    );
}

backend_tests!(
    resetting_an_account_empties_it_and_frees_every_seat,
    bad_admin_input_gets_a_scim_error
);
