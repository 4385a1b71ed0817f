//! PATCH /Users: RFC 7644 §3.5.2 plus the request bodies Entra ID and Okta really send
//! (see shared/reference/idp-clients.md).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{
    Backend, ENTERPRISE_SCHEMA, TestApp, assert_scim_error, concurrently, id_of, patch_body, user_body,
};

async fn patched(app: &TestApp, id: &str, operations: Value) -> Value {
    app.patch_ok(&format!("/Users/{id}"), operations).await
}

async fn new_user(app: &TestApp) -> String {
    id_of(&app.create_user(&user_body("alice@acme.com")).await)
}

async fn entra_default_job_updates_with_capitalised_ops(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = new_user(&app).await;
    let user = patched(
        &app,
        &id,
        json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "alice.new@acme.com"},
            {"op": "Replace", "path": "name.familyName", "value": "Smith"},
            {"op": "Replace", "path": "userName", "value": "alice.new@acme.com"},
            {"op": "Add", "path": "nickName", "value": "Ali"},
            {"op": "Replace", "path": format!("{ENTERPRISE_SCHEMA}:employeeNumber"), "value": "E-42"},
        ]),
    )
    .await;
    assert_eq!(
        user["emails"],
        json!([{"value": "alice.new@acme.com", "type": "work", "primary": true}])
    );
    assert_eq!(user["name"]["familyName"], "Smith");
    assert_eq!(user["userName"], "alice.new@acme.com");
    assert_eq!(user["nickName"], "Ali");
    assert_eq!(user[ENTERPRISE_SCHEMA]["employeeNumber"], "E-42");
    assert!(
        user["schemas"]
            .as_array()
            .expect("schemas")
            .iter()
            .any(|s| s == ENTERPRISE_SCHEMA)
    );
    assert_eq!(user["meta"]["version"], "W/\"2\"");
    // The new email is what index-backed filters see.
    let list = app.list_users("emails.value eq \"ALICE.NEW@acme.com\"").await;
    assert_eq!(list["totalResults"], 1);
}

async fn entra_disables_with_the_string_false_and_reenables(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = new_user(&app).await;
    let user = patched(
        &app,
        &id,
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    )
    .await;
    assert_eq!(user["active"], false);
    let list = app.list_users("active eq false").await;
    assert_eq!(list["totalResults"], 1);
    let user = patched(
        &app,
        &id,
        json!([{"op": "replace", "path": "active", "value": true}]),
    )
    .await;
    assert_eq!(user["active"], true);
}

async fn entra_flagged_path_less_replace_with_dotted_keys(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = new_user(&app).await;
    let user = patched(
        &app,
        &id,
        json!([{"op": "replace", "value": {
            "displayName": "Alice Smith",
            "name.givenName": "Alicia",
            "name.familyName": "Smith",
            format!("{ENTERPRISE_SCHEMA}:department"): "Sales",
        }}]),
    )
    .await;
    assert_eq!(user["displayName"], "Alice Smith");
    assert_eq!(user["name"]["givenName"], "Alicia");
    assert_eq!(user["name"]["familyName"], "Smith");
    assert!(
        user.get("name.givenName").is_none(),
        "no literal dotted key: {user}"
    );
    assert_eq!(user[ENTERPRISE_SCHEMA]["department"], "Sales");
}

async fn entra_sets_and_clears_the_manager_as_a_bare_string(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = new_user(&app).await;
    let manager = app.create_user(&user_body("boss@acme.com")).await;
    let manager_id = manager["id"].as_str().expect("id");
    let path = format!("{ENTERPRISE_SCHEMA}:manager");
    let user = patched(
        &app,
        &id,
        json!([{"op": "Add", "path": path, "value": manager_id}]),
    )
    .await;
    assert_eq!(user[ENTERPRISE_SCHEMA]["manager"]["value"], manager_id);
    let user = patched(&app, &id, json!([{"op": "Remove", "path": path}])).await;
    assert!(
        user.get(ENTERPRISE_SCHEMA)
            .is_none_or(|e| e.get("manager").is_none()),
        "{user}"
    );
}

async fn okta_deactivates_with_a_path_less_replace(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = new_user(&app).await;
    let user = patched(&app, &id, json!([{"op": "replace", "value": {"active": false}}])).await;
    assert_eq!(user["active"], false);
}

async fn strict_profile_answers_entra_quirks_with_rfc_errors(backend: Backend) {
    let app = TestApp::builder(backend)
        .configuration("demo", "strict-client-token", "strict")
        .spawn()
        .await;
    let id = new_user(&app).await;
    let path = format!("/Users/{id}");
    let strict = "strict-client-token";
    let body = patch_body(json!([{"op": "Replace", "path": "nickName", "value": "x"}]));
    let response = app.send_json_as(strict, Method::PATCH, &path, &body).await;
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidSyntax")).await;
    let body = patch_body(json!([{"op": "replace", "path": "active", "value": "False"}]));
    let response = app.send_json_as(strict, Method::PATCH, &path, &body).await;
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    // The lenient demo token accepts both.
    patched(
        &app,
        &id,
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    )
    .await;
}

async fn bad_patches_get_precise_errors_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = new_user(&app).await;
    let cases = [
        (
            json!([{"op": "replace", "path": "id", "value": "x"}]),
            "mutability",
        ),
        (
            json!([{"op": "replace", "path": "nosuch", "value": "x"}]),
            "invalidPath",
        ),
        (
            json!([{"op": "replace", "path": "emails[type eq", "value": "x"}]),
            "invalidPath",
        ),
        (json!([{"op": "remove"}]), "noTarget"),
        (
            json!([{"op": "remove", "path": "urn:linkedin-scim:schemas:extension:license:2.0:User"}]),
            "mutability",
        ),
        (json!([{"op": "jump", "path": "nickName"}]), "invalidSyntax"),
        (
            json!([{"op": "replace", "path": "nickName", "value": "ok"}, {"op": "replace", "path": "meta", "value": {}}]),
            "mutability",
        ),
    ];
    for (operations, scim_type) in cases {
        let response = app.patch(&format!("/Users/{id}"), &patch_body(operations)).await;
        assert_scim_error(response, StatusCode::BAD_REQUEST, Some(scim_type)).await;
    }
    let user: Value = app.get(&format!("/Users/{id}")).await.json().await.expect("json");
    assert!(user.get("nickName").is_none(), "all-or-nothing: {user}");
    assert_eq!(user["meta"]["version"], "W/\"1\"");
    let response = app
        .patch(
            "/Users/00000000-0000-0000-0000-000000000000",
            &patch_body(json!([])),
        )
        .await;
    assert_scim_error(response, StatusCode::NOT_FOUND, None).await;
}

async fn patch_to_a_taken_user_name_is_409(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = new_user(&app).await;
    app.create_user(&user_body("bob@acme.com")).await;
    let response = app
        .patch(
            &format!("/Users/{id}"),
            &patch_body(json!([{"op": "replace", "path": "userName", "value": "BOB@acme.com"}])),
        )
        .await;
    assert_scim_error(response, StatusCode::CONFLICT, Some("uniqueness")).await;
}

async fn fifty_concurrent_patches_lose_no_update(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = new_user(&app).await;
    let path = format!("/Users/{id}");
    let requests = (0..50)
        .map(|i| {
            let body = patch_body(json!([{"op": "add", "path": "phoneNumbers", "value": [{"value": format!("+1-555-{i:04}"), "type": "work"}]}]));
            app.scim(Method::PATCH, &path)
                .header("content-type", "application/scim+json")
                .body(body.to_string())
        })
        .collect();
    for status in concurrently(requests).await {
        assert_eq!(status, StatusCode::OK);
    }
    let user: Value = app.get(&path).await.json().await.expect("json");
    assert_eq!(
        user["phoneNumbers"].as_array().map(Vec::len),
        Some(50),
        "every add survived"
    );
    assert_eq!(user["meta"]["version"], "W/\"51\"");
}

async fn concurrent_patches_with_the_same_if_match_let_exactly_one_through(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = new_user(&app).await;
    let path = format!("/Users/{id}");
    let requests = (0..20)
        .map(|i| {
            let body = patch_body(json!([{"op": "replace", "path": "title", "value": format!("Title {i}")}]));
            app.scim(Method::PATCH, &path)
                .header("content-type", "application/scim+json")
                .header("if-match", "W/\"1\"")
                .body(body.to_string())
        })
        .collect();
    let statuses = concurrently(requests).await;
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::PRECONDITION_FAILED)
        .count();
    assert_eq!((ok, refused), (1, 19), "{statuses:?}");
    let user: Value = app.get(&path).await.json().await.expect("json");
    assert_eq!(user["meta"]["version"], "W/\"2\"");
}

async fn a_configuration_can_ask_for_204_on_patch(backend: Backend) {
    let app = TestApp::builder(backend)
        .seed(
            r#"
[[accounts]]
name = "demo"
[[accounts.configurations]]
name = "Entra"
token = "entra-no-content-token"
client_profile = "entra"
patch_response = "no_content"
"#,
        )
        .spawn()
        .await;
    let id = new_user(&app).await;
    let response = app
        .send_json_as(
            "entra-no-content-token",
            Method::PATCH,
            &format!("/Users/{id}"),
            &patch_body(json!([{"op": "Replace", "path": "displayName", "value": "Alice"}])),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(response.headers()["etag"], "W/\"2\"");
    let user: Value = app.get(&format!("/Users/{id}")).await.json().await.expect("json");
    assert_eq!(user["displayName"], "Alice");
}

backend_tests!(
    a_configuration_can_ask_for_204_on_patch,
    entra_default_job_updates_with_capitalised_ops,
    entra_disables_with_the_string_false_and_reenables,
    entra_flagged_path_less_replace_with_dotted_keys,
    entra_sets_and_clears_the_manager_as_a_bare_string,
    okta_deactivates_with_a_path_less_replace,
    strict_profile_answers_entra_quirks_with_rfc_errors,
    bad_patches_get_precise_errors_and_change_nothing,
    patch_to_a_taken_user_name_is_409,
    fifty_concurrent_patches_lose_no_update,
    concurrent_patches_with_the_same_if_match_let_exactly_one_through,
);
