//! The activity (provisioning) log: one record per authenticated SCIM request, with the
//! outcome, licensing result, tolerances that fired and error detail.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, PATCH_SCHEMA, TestApp, user_body};

/// The demo account's activity, newest first, once at least `n` records are written.
async fn activity(app: &TestApp, query: &str, n: usize) -> Vec<Value> {
    app.activity_of("demo", query, n).await
}

async fn every_scim_request_is_logged_with_outcome_and_licensing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.create_user(&user_body("alice@acme.com")).await;
    let id = user["id"].as_str().expect("id");
    let records = activity(&app, "", 1).await;
    let created = &records[0];
    assert_eq!(created["method"], "POST");
    assert_eq!(created["path"], "/scim/v2/Users");
    assert_eq!(created["status"], 201);
    assert_eq!(created["resourceType"], "User");
    assert_eq!(created["resourceId"], id);
    assert_eq!(created["outcome"], "created; license assigned (sales_navigator)");
    assert!(created["latencyUs"].as_i64().is_some_and(|l| l > 0));
    assert!(created["requestId"].as_str().is_some());
}

async fn tolerances_that_fired_are_recorded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.create_user(&user_body("alice@acme.com")).await;
    let id = user["id"].as_str().expect("id");
    let body = json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    assert_eq!(
        app.patch(&format!("/Users/{id}"), &body).await.status(),
        StatusCode::OK
    );
    let records = activity(&app, "?tolerances=true", 1).await;
    let patched = &records[0];
    assert_eq!(patched["method"], "PATCH");
    assert_eq!(patched["tolerances"], json!(["capitalised_op", "string_boolean"]));
    assert_eq!(
        patched["outcome"],
        "disabled; license released: Advanced Plus (sales_navigator)"
    );
}

async fn failures_are_logged_with_their_detail_and_unauthenticated_requests_are_not(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user(&user_body("alice@acme.com")).await;
    let response = app.post("/Users", &user_body("ALICE@acme.com")).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let anonymous = app
        .client
        .get(format!("{}/Users", app.base()))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let records = activity(&app, "?status=409", 1).await;
    assert_eq!(records.len(), 1);
    assert!(
        records[0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("already taken")),
        "{}",
        records[0]
    );
    let all = activity(&app, "", 2).await;
    assert!(
        all.iter().all(|r| r["status"] != 401),
        "no tenant to log a 401 under"
    );
}

async fn the_log_exports_as_csv(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user(&user_body("alice@acme.com")).await;
    activity(&app, "", 1).await;
    let response = app
        .admin(Method::GET, "/accounts/demo/activity?format=csv")
        .send()
        .await
        .expect("request");
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    let text = response.text().await.expect("text");
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .is_some_and(|h| h.starts_with("id,time,method,path,status"))
    );
    assert!(
        lines
            .next()
            .is_some_and(|row| row.contains(",POST,/scim/v2/Users,201,")),
        "{text}"
    );
}

backend_tests!(
    every_scim_request_is_logged_with_outcome_and_licensing,
    tolerances_that_fired_are_recorded,
    failures_are_logged_with_their_detail_and_unauthenticated_requests_are_not,
    the_log_exports_as_csv,
);
