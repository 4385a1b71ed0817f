//! DELETE /Groups/{id} removes memberships, not users; deleting a user removes its
//! memberships.

use reqwest::{Method, StatusCode};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, assert_scim_error, group_body, group_with, ids_of};

async fn deleting_a_group_keeps_its_users(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let users = app.create_users(&["alice@acme.com", "bob@acme.com"]).await;
    let group = app.create_group(&group_with("Sales", &users)).await;
    let path = format!("/Groups/{}", group["id"].as_str().expect("id"));
    let response = app.delete(&path).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_scim_error(app.get(&path).await, StatusCode::NOT_FOUND, None).await;
    assert_scim_error(app.delete(&path).await, StatusCode::NOT_FOUND, None).await;
    for user in &users {
        let fetched = app.get_ok(&format!("/Users/{user}")).await;
        assert!(fetched.get("groups").is_none(), "{fetched}");
    }
    // The name is free again.
    app.create_group(&group_body("Sales")).await;
}

async fn deleting_a_user_drops_its_memberships(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let users = app.create_users(&["alice@acme.com", "bob@acme.com"]).await;
    let group = app.create_group(&group_with("Sales", &users)).await;
    let path = format!("/Groups/{}", group["id"].as_str().expect("id"));
    let response = app.delete(&format!("/Users/{}", users[0])).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let fetched = app.get_ok(&path).await;
    assert_eq!(ids_of(&fetched["members"]), vec![users[1].clone()]);
    assert_eq!(fetched["meta"]["version"], "W/\"2\"", "membership changed");
}

async fn delete_honours_if_match(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let group = app.create_group(&group_body("Sales")).await;
    let path = format!("/Groups/{}", group["id"].as_str().expect("id"));
    let response = app
        .scim(Method::DELETE, &path)
        .header("if-match", "W/\"2\"")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    let response = app
        .scim(Method::DELETE, &path)
        .header("if-match", "W/\"1\"")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

backend_tests!(
    deleting_a_group_keeps_its_users,
    deleting_a_user_drops_its_memberships,
    delete_honours_if_match,
);
