use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, ENTERPRISE_SCHEMA, TestApp, USER_SCHEMA, assert_scim_error, user_body};

async fn get_by_id_returns_the_user(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.create_user(&user_body("alice@acme.com")).await;
    let id = created["id"].as_str().expect("id");
    let response = app.get(&format!("/Users/{id}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["etag"], "W/\"1\"");
    let user: Value = response.json().await.expect("json");
    assert_eq!(user, created);
}

async fn unknown_id_is_404_with_detail(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.get("/Users/00000000-0000-0000-0000-000000000000").await;
    assert_scim_error(response, StatusCode::NOT_FOUND, None).await;
    let response = app.get("/Users/not-even-a-uuid").await;
    assert_scim_error(response, StatusCode::NOT_FOUND, None).await;
}

async fn if_none_match_with_current_version_is_304(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.create_user(&user_body("alice@acme.com")).await;
    let path = format!("/Users/{}", created["id"].as_str().expect("id"));
    let version = created["meta"]["version"].as_str().expect("version");
    let response = app
        .scim(Method::GET, &path)
        .header("if-none-match", version)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    let response = app
        .scim(Method::GET, &path)
        .header("if-none-match", "W/\"999\"")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
}

async fn attributes_and_excluded_attributes_project_the_response(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.create_user(&user_body("alice@acme.com")).await;
    let id = created["id"].as_str().expect("id");
    let user: Value = app
        .get(&format!("/Users/{id}?attributes=name.givenName"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(user["id"], id);
    assert_eq!(user["name"], serde_json::json!({"givenName": "Test"}));
    assert!(user.get("userName").is_none(), "{user}");
    let user: Value = app
        .get(&format!("/Users/{id}?excludedAttributes=emails,name"))
        .await
        .json()
        .await
        .expect("json");
    assert!(
        user.get("emails").is_none() && user.get("name").is_none(),
        "{user}"
    );
    assert_eq!(user["userName"], "alice@acme.com");
}

async fn another_accounts_user_is_invisible(backend: Backend) {
    let app = TestApp::builder(backend)
        .configuration("other", "other-account-token", "okta")
        .spawn()
        .await;
    let created = app.create_user(&user_body("alice@acme.com")).await;
    let id = created["id"].as_str().expect("id");
    let response = app
        .scim_as("other-account-token", Method::GET, &format!("/Users/{id}"))
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::NOT_FOUND, None).await;
    let response = app
        .scim_as(
            "other-account-token",
            Method::GET,
            "/Users?filter=userName%20eq%20%22alice@acme.com%22",
        )
        .send()
        .await
        .expect("request");
    let list: Value = response.json().await.expect("json");
    assert_eq!(list["totalResults"], 0);
    // The same userName is free in the other account: accounts are separate tenants.
    let response = app
        .send_json_as(
            "other-account-token",
            Method::POST,
            "/Users",
            &user_body("alice@acme.com"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

/// RFC 7643 §4.3: the enterprise `manager` comes back with its `$ref` and the
/// read-only `displayName` of the manager, whatever the client sent for them, in every
/// response; an IdP echoing them back changes nothing.
async fn the_manager_carries_its_ref_and_display_name(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut boss = user_body("boss@acme.com");
    boss["displayName"] = json!("Boss Person");
    let boss = app.create_user(&boss).await;
    let boss_id = boss["id"].as_str().expect("id");
    let mut body = user_body("alice@acme.com");
    body["schemas"] = json!([USER_SCHEMA, ENTERPRISE_SCHEMA]);
    body[ENTERPRISE_SCHEMA] =
        json!({"manager": {"value": boss_id, "$ref": "https://elsewhere/x", "displayName": "Made Up"}});
    let created = app.create_user(&body).await;
    let path = format!("/Users/{}", created["id"].as_str().expect("id"));
    let expected = json!({
        "value": boss_id,
        "$ref": format!("{}/Users/{boss_id}", app.base()),
        "displayName": "Boss Person",
    });
    assert_eq!(created[ENTERPRISE_SCHEMA]["manager"], expected, "POST");
    let read = app.get_ok(&path).await;
    assert_eq!(read[ENTERPRISE_SCHEMA]["manager"], expected, "GET");
    let page = app.list_users("userName eq \"alice@acme.com\"").await;
    assert_eq!(
        page["Resources"][0][ENTERPRISE_SCHEMA]["manager"], expected,
        "list"
    );
    let response = app.put(&path, &read).await;
    assert_eq!(response.headers()["etag"], "W/\"1\"", "an echo changes nothing");
    let put: Value = response.json().await.expect("json");
    assert_eq!(put[ENTERPRISE_SCHEMA]["manager"], expected, "PUT");
    let only = app
        .get_ok(&format!("{path}?attributes={ENTERPRISE_SCHEMA}:manager.value"))
        .await;
    assert_eq!(only[ENTERPRISE_SCHEMA]["manager"], json!({"value": boss_id}));
    // A manager who is no user here any more (deleted since) keeps only its value.
    let deleted = app
        .scim(reqwest::Method::DELETE, &format!("/Users/{boss_id}"))
        .send()
        .await
        .expect("request");
    assert_eq!(deleted.status(), reqwest::StatusCode::NO_CONTENT);
    let read = app.get_ok(&path).await;
    assert_eq!(read[ENTERPRISE_SCHEMA]["manager"], json!({"value": boss_id}));
}

backend_tests!(
    the_manager_carries_its_ref_and_display_name,
    get_by_id_returns_the_user,
    unknown_id_is_404_with_detail,
    if_none_match_with_current_version_is_304,
    attributes_and_excluded_attributes_project_the_response,
    another_accounts_user_is_invisible,
);
