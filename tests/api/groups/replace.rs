//! PUT /Groups/{id}: Okta's AIW push sends the whole group; `admin` members survive.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{
    Backend, GROUP_SCHEMA, TestApp, assert_scim_error, group_body, group_with, id_of, ids_of, member_values,
};

async fn put_replaces_name_and_scim_members_but_keeps_admin_members(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let users = app
        .create_users(&["alice@acme.com", "bob@acme.com", "direct@acme.com"])
        .await;
    let group = app
        .create_group(
            &json!({"schemas": [GROUP_SCHEMA], "displayName": "Sales", "externalId": "e1",
                              "members": member_values(&users[..1])}),
        )
        .await;
    let gid = id_of(&group);
    app.add_admin_members(&gid, &users[2..]).await;
    // Okta echoes the group it read, with the new name and member list.
    let mut body = app.get_ok(&format!("/Groups/{gid}")).await;
    body["displayName"] = json!("Sales EMEA");
    body["members"] = json!([{"value": users[1], "display": "bob@acme.com"}]);
    let response = app.put(&format!("/Groups/{gid}"), &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let replaced: Value = response.json().await.expect("json");
    assert_eq!(replaced["displayName"], "Sales EMEA");
    assert!(
        replaced.get("externalId").is_some(),
        "echoed, so kept: {replaced}"
    );
    let mut expected = vec![users[1].clone(), users[2].clone()];
    expected.sort();
    assert_eq!(ids_of(&replaced["members"]), expected, "the admin member stays");
    assert_eq!(replaced["meta"]["version"], "W/\"3\"");
    // The same push again changes nothing in the membership.
    let again: Value = app
        .put(&format!("/Groups/{gid}"), &body)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(again["meta"]["version"], "W/\"3\"");
    // A PUT without members drops the scim members only.
    let response = app
        .put(
            &format!("/Groups/{gid}"),
            &json!({"schemas": [GROUP_SCHEMA], "displayName": "Sales EMEA"}),
        )
        .await;
    let replaced: Value = response.json().await.expect("json");
    assert_eq!(ids_of(&replaced["members"]), vec![users[2].clone()]);
    assert!(replaced.get("externalId").is_none(), "PUT replaces: {replaced}");
}

async fn put_with_an_unknown_member_or_a_taken_name_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let users = app.create_users(&["alice@acme.com"]).await;
    app.create_group(&group_body("Taken")).await;
    let group = app.create_group(&group_with("Sales", &users)).await;
    let path = format!("/Groups/{}", group["id"].as_str().expect("id"));
    let response = app
        .put(
            &path,
            &json!({"schemas": [GROUP_SCHEMA], "displayName": "Sales", "members": [{"value": "ghost"}]}),
        )
        .await;
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    let response = app
        .put(
            &path,
            &json!({"schemas": [GROUP_SCHEMA], "displayName": "TAKEN", "members": []}),
        )
        .await;
    assert_scim_error(response, StatusCode::CONFLICT, Some("uniqueness")).await;
    assert_eq!(app.get_ok(&path).await, group);
    let response = app
        .put("/Groups/00000000-0000-0000-0000-000000000000", &group_body("x"))
        .await;
    assert_scim_error(response, StatusCode::NOT_FOUND, None).await;
}

backend_tests!(
    put_replaces_name_and_scim_members_but_keeps_admin_members,
    put_with_an_unknown_member_or_a_taken_name_changes_nothing,
);
