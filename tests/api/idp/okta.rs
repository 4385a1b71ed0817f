//! Okta's SCIM 2.0 SPEC test (Runscope), step by step, then its profile-update and
//! deactivation flow (OIN apps: GET, PUT of the whole user; PATCH active=false).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use linkedin_scim::accounts::FidelityPreset;

use crate::backend_tests;
use crate::helpers::{
    Backend, PATCH_SCHEMA, TestApp, USER_SCHEMA, assert_scim_error, expect_json, user_body,
};

fn is_integer(v: &Value) -> bool {
    v.as_u64().is_some()
}

/// A GET as Okta's SCIM client sends it, expecting 200.
async fn okta_get(app: &TestApp, path: &str) -> Value {
    let response = app
        .scim(Method::GET, path)
        .header("user-agent", "Okta SCIM Client 1.0.0")
        .send()
        .await
        .expect("request");
    expect_json(response, StatusCode::OK, path).await
}

/// The SPEC test under `preset`. Under `linkedin` the demo configuration is Sales
/// Navigator's, which lists no users: step 1 (Okta's "Test API Credentials" request too)
/// gets a well-formed empty page, and step 2 fetches the user the test made.
async fn okta_spec_test(backend: Backend, preset: FidelityPreset) {
    let app = TestApp::builder(backend).profile(preset).spawn().await;
    // The SPEC test assumes users already exist.
    let existing = app.create_user(&user_body("existing@acme.com")).await;
    let client = |method, path: &str| {
        app.scim(method, path)
            .header("user-agent", "Okta SCIM Client 1.0.0")
    };

    // 1. GET /Users?count=1&startIndex=1
    let page: Value = okta_get(&app, "/Users?count=1&startIndex=1").await;
    assert!(page["schemas"].as_array().is_some_and(|s| {
        s.iter()
            .any(|u| u == "urn:ietf:params:scim:api:messages:2.0:ListResponse")
    }));
    assert!(
        is_integer(&page["itemsPerPage"])
            && is_integer(&page["startIndex"])
            && is_integer(&page["totalResults"])
    );
    let first = match preset {
        FidelityPreset::Rfc => &page["Resources"][0],
        FidelityPreset::Linkedin => {
            assert_eq!(
                (&page["totalResults"], &page["Resources"]),
                (&json!(0), &json!([]))
            );
            &existing
        }
    };
    for field in ["id", "userName", "active"] {
        assert!(!first[field].is_null(), "{field} missing: {first}");
    }
    assert!(first["name"]["familyName"].is_string() && first["name"]["givenName"].is_string());
    assert!(first["emails"][0]["value"].is_string());

    // 2. GET /Users/{id}
    let id = first["id"].as_str().expect("id");
    let user: Value = okta_get(&app, &format!("/Users/{id}")).await;
    assert_eq!(user["id"], id);

    // 3. and 5. a random userName → 0 results
    for _ in 0..2 {
        let random = format!("{}@example.com", uuid::Uuid::new_v4());
        let list: Value = client(
            Method::GET,
            &format!("/Users?filter=userName%20eq%20%22{random}%22"),
        )
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
        assert_eq!(list["totalResults"], 0);
    }

    // 4. an invalid id → 404 with a detail
    let response = client(Method::GET, "/Users/010101001010101")
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::NOT_FOUND, None).await;

    // 6. create (no password) → 201, active, the same userName and name
    let login = format!("okta.{}@example.com", uuid::Uuid::new_v4().simple());
    let body = json!({
        "schemas": [USER_SCHEMA],
        "userName": login,
        "name": {"givenName": "Okta", "familyName": "Tester"},
        "emails": [{"primary": true, "value": login, "type": "work"}],
        "displayName": "Okta Tester",
        "active": true
    });
    let response = client(Method::POST, "/Users")
        .header("content-type", "application/scim+json")
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.expect("json");
    assert_eq!(created["active"], true);
    assert_eq!(created["userName"], login);
    assert_eq!(created["name"]["familyName"], "Tester");
    assert!(
        created["schemas"]
            .as_array()
            .is_some_and(|s| s.iter().any(|u| u == USER_SCHEMA))
    );

    // 7. GET the new user
    let new_id = created["id"].as_str().expect("id");
    let fetched: Value = okta_get(&app, &format!("/Users/{new_id}")).await;
    assert_eq!(fetched["userName"], login);

    // 8. the same POST again → 409 with an error body
    let response = client(Method::POST, "/Users")
        .header("content-type", "application/scim+json")
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::CONFLICT, Some("uniqueness")).await;

    // 9. the upper-cased userName finds the user (userName is caseExact=false)
    let upper = login.to_uppercase();
    let list: Value = client(
        Method::GET,
        &format!("/Users?filter=userName%20eq%20%22{upper}%22"),
    )
    .send()
    .await
    .expect("request")
    .json()
    .await
    .expect("json");
    assert_eq!(list["totalResults"], 1);

    // The 401 check of the transcriptions.
    let response = app
        .scim_as("wrong-token-123", Method::GET, "/Users")
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::UNAUTHORIZED, None).await;
}

async fn okta_spec_test_passes_in_order(backend: Backend) {
    okta_spec_test(backend, FidelityPreset::Rfc).await;
}

async fn okta_spec_test_passes_under_the_linkedin_preset(backend: Backend) {
    okta_spec_test(backend, FidelityPreset::Linkedin).await;
}

/// Profile update, deactivation and import under `preset`. Under `linkedin` the demo
/// configuration (Sales Navigator) answers import with an empty page.
async fn okta_update_deactivate_import(backend: Backend, preset: FidelityPreset) {
    let app = TestApp::builder(backend).profile(preset).spawn().await;
    let created = app
        .create_user(&json!({
            "schemas": [USER_SCHEMA],
            "userName": "jane@acme.com",
            "name": {"givenName": "Jane", "familyName": "Doe"},
            "emails": [{"primary": true, "value": "jane@acme.com", "type": "work"}],
            "displayName": "Jane Doe",
            "locale": "en-US",
            "externalId": "00u1jane",
            "groups": [],
            "password": "1mz050nq",
            "active": true
        }))
        .await;
    let path = format!("/Users/{}", created["id"].as_str().expect("id"));
    // GET, then PUT the echoed resource with the change (and Okta's extra fields).
    let mut echoed = app.get_ok(&path).await;
    echoed["name"]["middleName"] = json!("Q");
    echoed["groups"] = json!([]);
    echoed["emails"][0]["display"] = json!("jane@acme.com");
    echoed["password"] = json!("1mz050nq");
    let response = app.put(&path, &echoed).await;
    assert_eq!(response.status(), StatusCode::OK);
    let updated: Value = response.json().await.expect("json");
    assert_eq!(updated["name"]["middleName"], "Q");
    assert_eq!(updated["externalId"], "00u1jane");
    assert!(updated.get("password").is_none());
    // Deactivate: path-less replace, lower-case op.
    let response = app
        .patch(&path, &json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "value": {"active": false}}]}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let user: Value = response.json().await.expect("json");
    assert_eq!(user["active"], false);
    // Reactivate.
    let response = app
        .patch(
            &path,
            &json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "value": {"active": true}}]}),
        )
        .await;
    let user: Value = response.json().await.expect("json");
    assert_eq!(user["active"], true);
    // Import users: pages in a stable order until totalResults.
    for i in 0..4 {
        app.create_user(&user_body(&format!("import{i}@acme.com"))).await;
    }
    let mut seen = Vec::new();
    let mut start = 1;
    loop {
        let page = app.get_ok(&format!("/Users?startIndex={start}&count=2")).await;
        let resources = page["Resources"].as_array().cloned().unwrap_or_default();
        seen.extend(
            resources
                .iter()
                .filter_map(|r| r["id"].as_str().map(str::to_owned)),
        );
        start += 2;
        if start > page["totalResults"].as_u64().expect("total") {
            break;
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    let listed = match preset {
        FidelityPreset::Rfc => 5,
        FidelityPreset::Linkedin => 0,
    };
    assert_eq!((seen.len(), unique.len()), (listed, listed), "every user once");
}

async fn okta_profile_update_is_get_then_put_and_deactivation_is_a_path_less_patch(backend: Backend) {
    okta_update_deactivate_import(backend, FidelityPreset::Rfc).await;
}

async fn okta_update_deactivation_and_import_pass_under_the_linkedin_preset(backend: Backend) {
    okta_update_deactivate_import(backend, FidelityPreset::Linkedin).await;
}

backend_tests!(
    okta_spec_test_passes_in_order,
    okta_spec_test_passes_under_the_linkedin_preset,
    okta_profile_update_is_get_then_put_and_deactivation_is_a_path_less_patch,
    okta_update_deactivation_and_import_pass_under_the_linkedin_preset,
);
