//! POST /Groups: Okta's and Entra's create bodies, uniqueness, members at creation.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{
    Backend, ENTRA_GROUP_SCHEMA, GROUP_SCHEMA, TestApp, assert_scim_error, group_body, ids_of, member_values,
};

async fn okta_push_creates_a_group_with_no_members(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.post("/Groups", &group_body("Sales EMEA")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert_eq!(response.headers()["etag"], "W/\"1\"");
    let group: Value = response.json().await.expect("json");
    let id = group["id"].as_str().expect("id");
    assert_eq!(location, format!("{}/Groups/{id}", app.base()));
    assert_eq!(group["schemas"], json!([GROUP_SCHEMA]));
    assert_eq!(group["displayName"], "Sales EMEA");
    assert_eq!(group["meta"]["resourceType"], "Group");
    assert_eq!(group["meta"]["location"], location);
    assert_eq!(group["meta"]["version"], "W/\"1\"");
    assert!(group.get("members").is_none(), "no members, no key: {group}");
}

async fn entra_create_with_the_microsoft_schema_marker_is_accepted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let group = app
        .create_group(&json!({
            "schemas": [GROUP_SCHEMA, ENTRA_GROUP_SCHEMA],
            "externalId": "8b3a5d4e-0f6a-4c1e-9d2b-1f0e2d3c4b5a",
            "displayName": "Learning Pilots",
            "meta": {"resourceType": "Group"},
        }))
        .await;
    assert_eq!(group["externalId"], "8b3a5d4e-0f6a-4c1e-9d2b-1f0e2d3c4b5a");
    // The marker has no attributes: it is not echoed back.
    assert_eq!(group["schemas"], json!([GROUP_SCHEMA]));
}

async fn members_given_at_creation_are_stored_and_returned(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ids = app.create_users(&["alice@acme.com", "bob@acme.com"]).await;
    let group = app
        .create_group(&json!({
            "schemas": [GROUP_SCHEMA],
            "displayName": "Sales",
            "members": [{"value": ids[0], "display": "ignored"}, {"value": ids[1]}, {"value": ids[1]}],
        }))
        .await;
    assert_eq!(ids_of(&group["members"]), {
        let mut sorted = ids.clone();
        sorted.sort();
        sorted
    });
    let alice = group["members"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["value"] == ids[0].as_str())
        .expect("alice");
    // display is the server's: the user's displayName, else its userName.
    assert_eq!(alice["display"], "alice@acme.com");
    assert_eq!(alice["type"], "User");
    assert_eq!(alice["$ref"], format!("{}/Users/{}", app.base(), ids[0]));
}

async fn unknown_member_is_400_and_nothing_is_written(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ids = app.create_users(&["alice@acme.com"]).await;
    let mut members = member_values(&ids);
    members
        .as_array_mut()
        .expect("array")
        .push(json!({"value": "00000000-0000-0000-0000-000000000000"}));
    let response = app
        .post(
            "/Groups",
            &json!({"schemas": [GROUP_SCHEMA], "displayName": "Sales", "members": members}),
        )
        .await;
    let error = assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    assert!(
        error["detail"]
            .as_str()
            .is_some_and(|d| d.contains("00000000-0000-0000-0000-000000000000")),
        "{error}"
    );
    let list = app.list_groups("displayName eq \"Sales\"", &[]).await;
    assert_eq!(list["totalResults"], 0, "no partial write: {list}");
    // A nested group is not a user either.
    let response = app
        .post(
            "/Groups",
            &json!({"schemas": [GROUP_SCHEMA], "displayName": "Nested",
                    "members": [{"value": ids[0], "type": "Group"}]}),
        )
        .await;
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
}

async fn display_name_is_unique_case_insensitively(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_group(&group_body("Sales")).await;
    let response = app.post("/Groups", &group_body("SALES")).await;
    assert_scim_error(response, StatusCode::CONFLICT, Some("uniqueness")).await;
    let other = app.create_group(&group_body("Marketing")).await;
    let response = app
        .patch(
            &format!("/Groups/{}", other["id"].as_str().expect("id")),
            &crate::helpers::patch_body(json!([{"op": "replace", "path": "displayName", "value": "sales"}])),
        )
        .await;
    assert_scim_error(response, StatusCode::CONFLICT, Some("uniqueness")).await;
}

async fn a_group_without_display_name_is_400(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .post("/Groups", &json!({"schemas": [GROUP_SCHEMA], "members": []}))
        .await;
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
}

backend_tests!(
    okta_push_creates_a_group_with_no_members,
    entra_create_with_the_microsoft_schema_marker_is_accepted,
    members_given_at_creation_are_stored_and_returned,
    unknown_member_is_400_and_nothing_is_written,
    display_name_is_unique_case_insensitively,
    a_group_without_display_name_is_400,
);
