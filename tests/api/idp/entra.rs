//! Microsoft Entra ID's provisioning service for one user, in its order: Test
//! Connection, match, create, get, update (default job and `aadOptscim062020`), manager,
//! disable, enable, delete (shared/reference/idp-clients.md, MS-TUT and MS-KNOWN).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use linkedin_scim::accounts::FidelityPreset;

use crate::backend_tests;
use crate::helpers::{
    Backend, ENTERPRISE_SCHEMA, PATCH_SCHEMA, TestApp, USER_SCHEMA, assert_scim_error, expect_json, id_of,
};

/// Entra's GET /Users?filter=…: the feature flag rides on the tenant URL, and there is
/// no SCIM Accept header.
async fn entra_query(app: &TestApp, filter: &str) -> Value {
    let response = app
        .scim(Method::GET, "/Users")
        .query(&[("filter", filter), ("aadOptscim062020", "")])
        .send()
        .await
        .expect("request");
    expect_json(response, StatusCode::OK, filter).await
}

/// The replay under `preset`: under `linkedin` the final DELETE deactivates (LinkedIn does
/// not delete over SCIM) and the user stays readable.
async fn entra_provisions(backend: Backend, preset: FidelityPreset) {
    let app = TestApp::builder(backend).profile(preset).spawn().await;
    // Test Connection: a random GUID as userName → 200 and an empty ListResponse.
    let list: Value = entra_query(&app, "userName eq \"1d2e1a5c-0f6b-4d4c-8e2e-54c0e7d4f0a1\"").await;
    assert_eq!(
        (
            list["totalResults"].as_u64(),
            list["Resources"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );

    // Match on externalId: nobody yet.
    let list: Value = entra_query(&app, "externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\"").await;
    assert_eq!(list["totalResults"], 0);

    // Create.
    let response = app
        .scim(Method::POST, "/Users")
        .header("content-type", "application/scim+json; charset=utf-8")
        .body(
            json!({
                "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
                "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
                "userName": "Test_User_ab6490ee@contoso.com",
                "active": true,
                "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@contoso.com"}],
                "meta": {"resourceType": "User"},
                "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
                "roles": []
            })
            .to_string(),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::CREATED);
    let user: Value = response.json().await.expect("json");
    let id = id_of(&user);
    let path = format!("/Users/{id}");

    // Match again: found by externalId.
    let list: Value = entra_query(&app, "externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\"").await;
    assert_eq!(list["Resources"][0]["id"], id.as_str());

    // Update, default job: capitalised ops, a work email by filter, several ops.
    let response = app
        .patch(
            &path,
            &json!({"schemas": [PATCH_SCHEMA], "Operations": [
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
                {"op": "Replace", "path": "userName", "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"},
                {"op": "Add", "path": "nickName", "value": "Babs"},
                {"op": "Replace", "path": format!("{ENTERPRISE_SCHEMA}:employeeNumber"), "value": "Employee-42"}
            ]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let user: Value = response.json().await.expect("json");
    assert_eq!(
        user["emails"].as_array().map(Vec::len),
        Some(1),
        "the work email is replaced, not added"
    );
    assert_eq!(user["emails"][0]["value"], "updatedEmail@microsoft.com");
    assert_eq!(user["name"]["familyName"], "updatedFamilyName");

    // Update with aadOptscim062020: one path-less replace with dotted and URN keys.
    let response = app
        .patch(
            &path,
            &json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "value": {
                "displayName": "Updated Name",
                "name.givenName": "Updated",
                "name.familyName": "Name",
                format!("{ENTERPRISE_SCHEMA}:department"): "Sales"
            }}]}),
        )
        .await;
    let user: Value = response.json().await.expect("json");
    assert_eq!(
        (
            user["name"]["givenName"].as_str(),
            user[ENTERPRISE_SCHEMA]["department"].as_str()
        ),
        (Some("Updated"), Some("Sales"))
    );

    // Manager: read it back first (Example 4), then set it as a bare id string.
    let manager = app
        .create_user(&json!({"schemas": [USER_SCHEMA], "userName": "manager@contoso.com"}))
        .await;
    let manager_id = manager["id"].as_str().expect("id");
    let probe: Value = entra_query(
        &app,
        &format!("id eq \"{id}\" and {ENTERPRISE_SCHEMA}:manager.value eq \"{manager_id}\""),
    )
    .await;
    assert_eq!(probe["totalResults"], 0);
    let response = app
        .patch(
            &path,
            &json!({"schemas": [PATCH_SCHEMA], "Operations": [
                {"op": "Add", "path": format!("{ENTERPRISE_SCHEMA}:manager"), "value": manager_id}
            ]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let probe: Value = entra_query(
        &app,
        &format!("id eq \"{id}\" and {ENTERPRISE_SCHEMA}:manager.value eq \"{manager_id}\""),
    )
    .await;
    assert_eq!(probe["totalResults"], 1);

    // Disable with the string "False", then enable with "True"; the user stays readable.
    for (value, active) in [("False", false), ("True", true)] {
        let response = app
            .patch(&path, &json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "Replace", "path": "active", "value": value}]}))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let user: Value = app.get(&path).await.json().await.expect("json");
        assert_eq!(user["active"], active);
    }

    // Delete → 204, then the user is gone (rfc) or inactive (linkedin).
    assert_eq!(app.delete(&path).await.status(), StatusCode::NO_CONTENT);
    match preset {
        FidelityPreset::Rfc => {
            assert_scim_error(app.get(&path).await, StatusCode::NOT_FOUND, None).await;
        }
        FidelityPreset::Linkedin => {
            let user: Value = app.get(&path).await.json().await.expect("json");
            assert_eq!(user["active"], false);
        }
    }
}

async fn entra_provisions_a_user_end_to_end(backend: Backend) {
    entra_provisions(backend, FidelityPreset::Rfc).await;
}

async fn entra_provisions_a_user_under_the_linkedin_preset(backend: Backend) {
    entra_provisions(backend, FidelityPreset::Linkedin).await;
}

backend_tests!(
    entra_provisions_a_user_end_to_end,
    entra_provisions_a_user_under_the_linkedin_preset,
);
