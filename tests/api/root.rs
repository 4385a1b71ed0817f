//! The server root: a query across every resource type (RFC 7644 §3.4.2.1, §3.4.3) is
//! not implemented, and says so with 501 (RFC 7644 §3.12), not 404. Found by
//! scim2-tester's `search_with_attributes`, which treats 404 as a missing endpoint and
//! 501 as "not supported" (see docs/conformance.md).

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, assert_scim_error};

async fn root_search_is_501_not_implemented(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "attributes": ["displayName"],
    });
    assert_scim_error(
        app.post("/.search", &body).await,
        StatusCode::NOT_IMPLEMENTED,
        None,
    )
    .await;
    // LinkedIn's documented tenant URL has no /v2.
    let response = app
        .client
        .post(format!("{}/scim/.search", app.address))
        .bearer_auth(&app.token)
        .header("content-type", "application/scim+json")
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::NOT_IMPLEMENTED, None).await;
}

async fn root_query_is_501_not_implemented(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .scim(Method::GET, "")
        .query(&[("filter", "userName pr")])
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::NOT_IMPLEMENTED, None).await;
}

async fn root_search_requires_the_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .client
        .post(format!("{}/.search", app.base()))
        .header("content-type", "application/scim+json")
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::UNAUTHORIZED, None).await;
}

async fn bulk_and_me_are_501_as_advertised(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let bulk = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": []});
    assert_scim_error(app.post("/Bulk", &bulk).await, StatusCode::NOT_IMPLEMENTED, None).await;
    assert_scim_error(app.get("/Me").await, StatusCode::NOT_IMPLEMENTED, None).await;
}

async fn an_unsupported_method_is_a_scim_405(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app
        .create_user(&crate::helpers::user_body("alice@acme.com"))
        .await;
    let response = app
        .post(
            &format!("/Users/{}", user["id"].as_str().expect("id")),
            &json!({}),
        )
        .await;
    assert_scim_error(response, StatusCode::METHOD_NOT_ALLOWED, None).await;
}

backend_tests!(
    bulk_and_me_are_501_as_advertised,
    an_unsupported_method_is_a_scim_405,
    root_search_is_501_not_implemented,
    root_query_is_501_not_implemented,
    root_search_requires_the_token,
);
