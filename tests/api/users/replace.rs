use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::acme::{SALESNAV, spawn_with_clock};
use crate::helpers::{Backend, TestApp, USER_SCHEMA, assert_scim_error, user_body};

async fn put_replaces_the_whole_user_like_okta(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.create_user(&user_body("alice@acme.com")).await;
    let id = created["id"].as_str().expect("id");
    // Okta echoes the resource (id, meta, groups, a password placeholder) with edits.
    let mut echoed = created.clone();
    echoed["name"] = json!({"givenName": "Alicia", "middleName": "M", "familyName": "User"});
    echoed["groups"] = json!([]);
    echoed["password"] = json!("placeholder");
    echoed.as_object_mut().expect("object").remove("emails");
    let response = app.put(&format!("/Users/{id}"), &echoed).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["etag"], "W/\"2\"");
    let user: Value = response.json().await.expect("json");
    assert_eq!(user["id"], id);
    assert_eq!(user["name"]["givenName"], "Alicia");
    assert_eq!(user["name"]["middleName"], "M");
    assert!(
        user.get("emails").is_none(),
        "omitted attributes are cleared: {user}"
    );
    assert!(user.get("password").is_none());
    assert_eq!(user["meta"]["created"], created["meta"]["created"]);
    assert_eq!(user["meta"]["version"], "W/\"2\"");
}

async fn put_deactivates_and_the_user_stays_readable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.create_user(&user_body("alice@acme.com")).await;
    let id = created["id"].as_str().expect("id");
    let mut body = user_body("alice@acme.com");
    body["active"] = json!(false);
    let response = app.put(&format!("/Users/{id}"), &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let user: Value = app.get(&format!("/Users/{id}")).await.json().await.expect("json");
    assert_eq!(user["active"], false);
}

async fn put_to_a_taken_user_name_is_409(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user(&user_body("alice@acme.com")).await;
    let bob = app.create_user(&user_body("bob@acme.com")).await;
    let response = app
        .put(
            &format!("/Users/{}", bob["id"].as_str().expect("id")),
            &user_body("ALICE@acme.com"),
        )
        .await;
    assert_scim_error(response, StatusCode::CONFLICT, Some("uniqueness")).await;
}

async fn put_with_stale_if_match_is_412(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.create_user(&user_body("alice@acme.com")).await;
    let path = format!("/Users/{}", created["id"].as_str().expect("id"));
    let response = app
        .scim(Method::PUT, &path)
        .header("content-type", "application/scim+json")
        .header("if-match", "W/\"7\"")
        .body(user_body("alice@acme.com").to_string())
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::PRECONDITION_FAILED, None).await;
    let response = app
        .scim(Method::PUT, &path)
        .header("content-type", "application/scim+json")
        .header("if-match", "W/\"1\"")
        .body(user_body("alice@acme.com").to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
}

async fn put_unknown_user_is_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .put(
            "/Users/00000000-0000-0000-0000-000000000000",
            &json!({"schemas": [USER_SCHEMA], "userName": "x@acme.com"}),
        )
        .await;
    assert_scim_error(response, StatusCode::NOT_FOUND, None).await;
}

/// A strict ETag client (an IdP echoing what it read, licensed through Sales Navigator)
/// sees no change where there is none: an identical PUT keeps `meta.version` and
/// `meta.lastModified`; a real change moves both.
async fn put_that_changes_nothing_keeps_version_and_last_modified(backend: Backend) {
    let start = chrono::DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
        .expect("time")
        .to_utc();
    let (app, clock) = spawn_with_clock(backend, "linkedin", "", start).await;
    let created = app.create_user_as(SALESNAV, &user_body("alice@acme.com")).await;
    let path = format!("/Users/{}", created["id"].as_str().expect("id"));
    clock.advance(chrono::Duration::minutes(5));
    let read = app.get_ok_as(SALESNAV, &path).await;
    for echo in [read.clone(), user_body("alice@acme.com")] {
        let response = app.send_json_as(SALESNAV, Method::PUT, &path, &echo).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["etag"], "W/\"1\"", "{echo}");
        let user: Value = response.json().await.expect("json");
        assert_eq!(user["meta"]["version"], "W/\"1\"");
        assert_eq!(user["meta"]["lastModified"], created["meta"]["lastModified"]);
    }
    let again = app.get_ok_as(SALESNAV, &path).await;
    assert_eq!(again["meta"], read["meta"], "the stored resource did not move");
    let mut changed = read.clone();
    changed["title"] = json!("Engineer");
    let response = app.send_json_as(SALESNAV, Method::PUT, &path, &changed).await;
    assert_eq!(response.headers()["etag"], "W/\"2\"");
    let user: Value = response.json().await.expect("json");
    assert_ne!(user["meta"]["lastModified"], created["meta"]["lastModified"]);
}

backend_tests!(
    put_that_changes_nothing_keeps_version_and_last_modified,
    put_replaces_the_whole_user_like_okta,
    put_deactivates_and_the_user_stays_readable,
    put_to_a_taken_user_name_is_409,
    put_with_stale_if_match_is_412,
    put_unknown_user_is_404,
);
