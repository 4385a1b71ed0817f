//! Client profiles: the default accepts only what Entra ID and Okta send in production,
//! a profile that names the rest accepts it, the demo configuration's profile is chosen
//! at start-up, and the client is told which tolerances fired (`X-Scim-Tolerated`).

use linkedin_scim::scim::tolerance::ClientProfile;
use reqwest::{Method, Response, StatusCode};
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, PATCH_SCHEMA, TestApp, assert_scim_error, id_of, patch_body, user_body};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn tolerated(response: &Response) -> Option<String> {
    response
        .headers()
        .get("x-scim-tolerated")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Microsoft's validator sends a PatchOp with no operations; only old Entra docs show an
/// unquoted filter value. Neither is production traffic, so the default refuses both.
async fn the_default_profile_refuses_what_no_production_client_sends(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = id_of(&app.create_user(&user_body("a@acme.com")).await);
    for body in [
        json!({"schemas": [PATCH_SCHEMA], "Operations": []}),
        json!({"schemas": [PATCH_SCHEMA]}),
    ] {
        let response = app.patch(&format!("/Users/{id}"), &body).await;
        assert_eq!(tolerated(&response), None);
        assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidSyntax")).await;
    }
    let response = app.get("/Users?filter=externalId%20eq%20jyoung").await;
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidFilter")).await;
}

/// `--demo-client-profile validator`: the profile that names both accepts them, and says so.
async fn a_profile_that_names_them_accepts_them_and_says_so(backend: Backend) {
    let app = TestApp::builder(backend)
        .demo_client_profile(ClientProfile::Validator)
        .spawn()
        .await;
    let id = id_of(&app.create_user(&user_body("a@acme.com")).await);
    let response = app
        .patch(
            &format!("/Users/{id}"),
            &json!({"schemas": [PATCH_SCHEMA], "Operations": []}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(tolerated(&response).as_deref(), Some("empty_operations"));
    let response = app.get("/Users?filter=externalId%20eq%20jyoung").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(tolerated(&response).as_deref(), Some("unquoted_filter_value"));
}

async fn tolerated_departures_are_named_in_a_response_header(backend: Backend) {
    let app = TestApp::builder(backend)
        .configuration("demo", "strict-client-token", "strict")
        .spawn()
        .await;
    let id = id_of(&app.create_user(&user_body("a@acme.com")).await);
    let path = format!("/Users/{id}");
    let entra = patch_body(json!([{"op": "Replace", "path": "active", "value": "False"}]));
    let response = app.patch(&path, &entra).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        tolerated(&response).as_deref(),
        Some("capitalised_op,string_boolean")
    );
    // An RFC request carries no header; a refused one neither (nothing was tolerated).
    let clean = patch_body(json!([{"op": "replace", "path": "active", "value": true}]));
    assert_eq!(tolerated(&app.patch(&path, &clean).await), None);
    let refused = app
        .send_json_as("strict-client-token", Method::PATCH, &path, &entra)
        .await;
    assert_eq!(tolerated(&refused), None);
    assert_scim_error(refused, StatusCode::BAD_REQUEST, Some("invalidSyntax")).await;
}

/// RFC 7643 §3: `schemas` names the schemas of the JSON structure it is in; an
/// extension's PATCH value that carries it (a copied resource fragment) writes nothing
/// with it: `strict` accepts it.
async fn strict_accepts_a_schemas_member_in_an_extension_patch_value(backend: Backend) {
    let app = TestApp::builder(backend)
        .configuration("demo", "strict-client-token", "strict")
        .spawn()
        .await;
    let id = id_of(&app.create_user(&user_body("a@acme.com")).await);
    let path = format!("/Users/{id}");
    for operation in [
        json!({"op": "add", "path": ENTERPRISE, "value": {"schemas": [ENTERPRISE], "department": "Sales"}}),
        json!({"op": "replace", "value": {ENTERPRISE: {"schemas": [ENTERPRISE], "department": "Sales"}}}),
    ] {
        let response = app
            .send_json_as(
                "strict-client-token",
                Method::PATCH,
                &path,
                &patch_body(json!([operation])),
            )
            .await;
        let status = response.status();
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(status, StatusCode::OK, "{operation}: {body}");
        assert_eq!(body[ENTERPRISE]["department"], "Sales");
        assert!(body[ENTERPRISE].get("schemas").is_none(), "{body}");
    }
    // Any other unknown member is still refused under strict.
    let bad = json!([{"op": "add", "path": ENTERPRISE, "value": {"nosuch": 1}}]);
    let response = app
        .send_json_as("strict-client-token", Method::PATCH, &path, &patch_body(bad))
        .await;
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
}

backend_tests!(
    the_default_profile_refuses_what_no_production_client_sends,
    a_profile_that_names_them_accepts_them_and_says_so,
    tolerated_departures_are_named_in_a_response_header,
    strict_accepts_a_schemas_member_in_an_extension_patch_value,
);
