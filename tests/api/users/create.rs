use reqwest::StatusCode;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, ENTERPRISE_SCHEMA, TestApp, USER_SCHEMA, assert_scim_error, id_of, user_body};

async fn create_returns_201_with_location_meta_and_etag(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.post("/Users", &user_body("alice@acme.com")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["content-type"], "application/scim+json");
    let location = response.headers()["location"].to_str().expect("ascii").to_owned();
    let etag = response.headers()["etag"].to_str().expect("ascii").to_owned();
    let user: serde_json::Value = response.json().await.expect("json");
    let id = user["id"].as_str().expect("id");
    assert_eq!(location, format!("{}/Users/{id}", app.base()));
    assert_eq!(user["userName"], "alice@acme.com");
    assert_eq!(user["name"]["givenName"], "Test");
    assert_eq!(user["active"], true);
    assert_eq!(user["meta"]["resourceType"], "User");
    assert_eq!(user["meta"]["location"], location);
    assert_eq!(user["meta"]["version"], etag);
    assert!(user["meta"]["created"].as_str().is_some_and(|c| c.ends_with('Z')));
    assert_eq!(user["meta"]["created"], user["meta"]["lastModified"]);
}

async fn create_without_active_makes_an_active_user(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app
        .create_user(&json!({"schemas": [USER_SCHEMA], "userName": "bob@acme.com"}))
        .await;
    assert_eq!(user["active"], true);
}

async fn okta_create_body_is_accepted_and_password_never_returned(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app
        .create_user(&json!({
            "schemas": [USER_SCHEMA],
            "userName": "okta.user@acme.com",
            "name": {"givenName": "Okta", "familyName": "User"},
            "emails": [{"primary": true, "value": "okta.user@acme.com", "type": "work"}],
            "displayName": "Okta User",
            "locale": "en-US",
            "externalId": "00u1abcd",
            "groups": [],
            "password": "1mz050nq",
            "active": true
        }))
        .await;
    assert!(user.get("password").is_none(), "{user}");
    let fetched: serde_json::Value = app
        .get(&format!(
            "/Users/{}?attributes=password,userName",
            user["id"].as_str().expect("id")
        ))
        .await
        .json()
        .await
        .expect("json");
    assert!(fetched.get("password").is_none(), "{fetched}");
    assert_eq!(fetched["userName"], "okta.user@acme.com");
}

async fn entra_create_body_with_client_meta_and_nulls_is_accepted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app
        .create_user(&json!({
            "schemas": [USER_SCHEMA, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_ab6490ee@contoso.com",
            "active": true,
            "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@contoso.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
            "roles": [],
            "title": null
        }))
        .await;
    assert_eq!(user["externalId"], "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef");
    assert!(user.get("title").is_none());
    assert_eq!(user["meta"]["resourceType"], "User");
}

async fn duplicate_user_name_is_409_uniqueness_case_insensitively(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user(&user_body("carol@acme.com")).await;
    let response = app.post("/Users", &user_body("CAROL@acme.com")).await;
    assert_scim_error(response, StatusCode::CONFLICT, Some("uniqueness")).await;
}

async fn missing_user_name_is_400_invalid_value(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .post(
            "/Users",
            &json!({"schemas": [USER_SCHEMA], "name": {"givenName": "x"}}),
        )
        .await;
    let body = assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    assert!(
        body["detail"].as_str().is_some_and(|d| d.contains("userName")),
        "{body}"
    );
}

async fn wrong_attribute_type_is_400_invalid_value(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .post(
            "/Users",
            &json!({"schemas": [USER_SCHEMA], "userName": "d@acme.com", "active": "sometimes"}),
        )
        .await;
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
}

async fn users_are_served_under_the_linkedin_scim_mount_too(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .client
        .post(format!("{}/scim/Users", app.address))
        .bearer_auth(&app.token)
        .header("content-type", "application/json")
        .body(user_body("erin@acme.com").to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().expect("ascii").to_owned();
    assert!(
        location.starts_with(&format!("{}/scim/Users/", app.address)),
        "{location}"
    );
}

/// `manager.value` is stored as a bare id: one that is not a user of the account (another
/// account's user, or nobody) is refused like an unknown group member, on create,
/// replace and PATCH; a user of the account is accepted.
async fn a_manager_must_be_a_user_of_the_account(backend: Backend) {
    let app = TestApp::builder(backend)
        .configuration("other", "other-account-token", "lenient")
        .spawn()
        .await;
    let stranger = app
        .create_user_as("other-account-token", &user_body("stranger@other.com"))
        .await;
    let stranger = id_of(&stranger);
    let boss = id_of(&app.create_user(&user_body("boss@acme.com")).await);
    let managed_by = |user_name: &str, manager: &str| {
        let mut user = user_body(user_name);
        user["schemas"] = json!([USER_SCHEMA, ENTERPRISE_SCHEMA]);
        user[ENTERPRISE_SCHEMA] = json!({"manager": {"value": manager}});
        user
    };
    for manager in [stranger.as_str(), "no-such-user"] {
        let refused = app.post("/Users", &managed_by("eve@acme.com", manager)).await;
        let body = assert_scim_error(refused, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
        assert!(
            body["detail"].as_str().unwrap().contains("manager.value"),
            "{body}"
        );
    }
    let created = app.post("/Users", &managed_by("ann@acme.com", &boss)).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let ann = id_of(&created.json().await.unwrap());

    let replaced = app
        .put(&format!("/Users/{ann}"), &managed_by("ann@acme.com", &stranger))
        .await;
    assert_scim_error(replaced, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    let patched = app
        .patch(
            &format!("/Users/{ann}"),
            &json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": format!("{ENTERPRISE_SCHEMA}:manager.value"), "value": stranger}]
            }),
        )
        .await;
    assert_scim_error(patched, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    let read = app.get_ok(&format!("/Users/{ann}")).await;
    assert_eq!(read[ENTERPRISE_SCHEMA]["manager"]["value"], boss.as_str());
    // Unchanged manager: another attribute can still be replaced.
    let renamed = app
        .put(&format!("/Users/{ann}"), &managed_by("ann.b@acme.com", &boss))
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
}

backend_tests!(
    a_manager_must_be_a_user_of_the_account,
    create_returns_201_with_location_meta_and_etag,
    create_without_active_makes_an_active_user,
    okta_create_body_is_accepted_and_password_never_returned,
    entra_create_body_with_client_meta_and_nulls_is_accepted,
    duplicate_user_name_is_409_uniqueness_case_insensitively,
    missing_user_name_is_400_invalid_value,
    wrong_attribute_type_is_400_invalid_value,
    users_are_served_under_the_linkedin_scim_mount_too,
);
