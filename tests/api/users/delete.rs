use linkedin_scim::accounts::FidelityPreset;
use reqwest::StatusCode;
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, assert_scim_error, user_body};

async fn rfc_delete_removes_the_user(backend: Backend) {
    let app = TestApp::builder(backend)
        .profile(FidelityPreset::Rfc)
        .spawn()
        .await;
    let created = app.create_user(&user_body("alice@acme.com")).await;
    let path = format!("/Users/{}", created["id"].as_str().expect("id"));
    let response = app.delete(&path).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_scim_error(app.get(&path).await, StatusCode::NOT_FOUND, None).await;
    assert_scim_error(app.delete(&path).await, StatusCode::NOT_FOUND, None).await;
    // The userName is free again.
    app.create_user(&user_body("alice@acme.com")).await;
}

async fn linkedin_delete_deactivates_and_keeps_the_user(backend: Backend) {
    let app = TestApp::builder(backend)
        .profile(FidelityPreset::Linkedin)
        .spawn()
        .await;
    let created = app.create_user(&user_body("alice@acme.com")).await;
    let path = format!("/Users/{}", created["id"].as_str().expect("id"));
    let response = app.delete(&path).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let user: Value = app.get(&path).await.json().await.expect("json");
    assert_eq!(user["active"], false);
    assert_eq!(user["userName"], "alice@acme.com");
    assert_eq!(
        app.delete(&path).await.status(),
        StatusCode::NO_CONTENT,
        "deactivating twice is idempotent"
    );
}

backend_tests!(
    rfc_delete_removes_the_user,
    linkedin_delete_deactivates_and_keeps_the_user
);
