//! `/admin/api/accounts/{account}`: the test-harness reset of an account.

use reqwest::{Method, StatusCode};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, expect_json, group_with, id_of, user_body};

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

backend_tests!(resetting_an_account_empties_it_and_frees_every_seat);
