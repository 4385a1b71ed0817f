use reqwest::StatusCode;
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, assert_scim_error, expect_json};

async fn service_provider_config_advertises_what_is_implemented(backend: Backend) {
    let app = TestApp::builder(backend).max_page_size(250).spawn().await;
    let response = app.get("/ServiceProviderConfig").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/scim+json");
    let spc: Value = response.json().await.expect("json");
    assert_eq!(
        spc["schemas"][0],
        "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
    );
    assert_eq!(spc["patch"]["supported"], true);
    // The rfc preset offers Bulk, with the limits POST /Bulk enforces (tests/api/bulk.rs).
    assert_eq!(spc["bulk"]["supported"], true);
    assert_eq!(spc["bulk"]["maxOperations"], 1000);
    assert_eq!(spc["bulk"]["maxPayloadSize"], 1024 * 1024);
    assert_eq!(spc["filter"]["supported"], true);
    assert_eq!(spc["filter"]["maxResults"], 250);
    assert_eq!(spc["sort"]["supported"], true);
    assert_eq!(spc["etag"]["supported"], true);
    assert_eq!(spc["changePassword"]["supported"], false);
    assert_eq!(spc["authenticationSchemes"][0]["type"], "oauthbearertoken");
}

async fn resource_types_and_schemas_are_listed_and_fetchable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let types: Value = app.get("/ResourceTypes").await.json().await.expect("json");
    let user = types["Resources"]
        .as_array()
        .expect("array")
        .iter()
        .find(|t| t["id"] == "User")
        .expect("User type")
        .clone();
    assert_eq!(user["endpoint"], "/Users");
    assert_eq!(user["schema"], "urn:ietf:params:scim:schemas:core:2.0:User");
    let one: Value = app.get("/ResourceTypes/User").await.json().await.expect("json");
    assert_eq!(one["id"], "User");

    let schemas: Value = app.get("/Schemas").await.json().await.expect("json");
    let ids: Vec<&str> = schemas["Resources"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    for urn in [
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "urn:ietf:params:scim:schemas:core:2.0:Group",
    ] {
        assert!(ids.contains(&urn), "{urn} missing from {ids:?}");
    }
    let user_schema: Value = app
        .get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User")
        .await
        .json()
        .await
        .expect("json");
    let user_name = user_schema["attributes"]
        .as_array()
        .expect("attributes")
        .iter()
        .find(|a| a["name"] == "userName")
        .expect("userName");
    assert_eq!(user_name["uniqueness"], "server");
    assert_eq!(user_name["caseExact"], false);
    assert_eq!(user_name["required"], true);
    let password = user_schema["attributes"]
        .as_array()
        .expect("attributes")
        .iter()
        .find(|a| a["name"] == "password")
        .expect("password");
    assert_eq!(password["returned"], "never");
    assert_eq!(password["mutability"], "writeOnly");
}

/// The discovery documents exactly as served, as snapshots under `snapshots/` (review a
/// change with `cargo insta review`). `meta.location` keeps its path; the server's
/// address (a random port) becomes `[base]`.
async fn discovery_documents_match_their_snapshots(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (name, path, location) in [
        (
            "service_provider_config",
            "/ServiceProviderConfig",
            ".meta.location",
        ),
        ("resource_types", "/ResourceTypes", ".Resources[].meta.location"),
        ("schemas", "/Schemas", ".Resources[].meta.location"),
    ] {
        let document = expect_json(app.get(path).await, StatusCode::OK, path).await;
        let base = app.base();
        insta::assert_json_snapshot!(name, document, {
            location => insta::dynamic_redaction(move |value, _| {
                value
                    .as_str()
                    .map_or(value.clone(), |url| url.replacen(&base, "[base]", 1).into())
            }),
        });
    }
}

async fn unknown_schema_and_resource_type_are_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_scim_error(app.get("/Schemas/urn:nope").await, StatusCode::NOT_FOUND, None).await;
    assert_scim_error(app.get("/ResourceTypes/Nope").await, StatusCode::NOT_FOUND, None).await;
}

backend_tests!(
    service_provider_config_advertises_what_is_implemented,
    resource_types_and_schemas_are_listed_and_fetchable,
    unknown_schema_and_resource_type_are_404,
    discovery_documents_match_their_snapshots,
);
