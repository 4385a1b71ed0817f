use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, USER_SCHEMA, assert_scim_error, user_body};

async fn malformed_json_is_400_invalid_syntax(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for body in ["{", "not json", "{\"userName\": }", ""] {
        let response = app
            .scim(Method::POST, "/Users")
            .header("content-type", "application/scim+json")
            .body(body)
            .send()
            .await
            .expect("request");
        assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidSyntax")).await;
    }
    let response = app.post("/Users", &json!(["an", "array"])).await;
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidSyntax")).await;
}

async fn unsupported_content_type_is_415(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .scim(Method::POST, "/Users")
        .header("content-type", "text/plain")
        .body(user_body("a@acme.com").to_string())
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::UNSUPPORTED_MEDIA_TYPE, None).await;
}

async fn json_and_scim_json_with_charset_are_both_accepted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (i, content_type) in ["application/json", "application/scim+json; charset=utf-8"]
        .iter()
        .enumerate()
    {
        let response = app
            .scim(Method::POST, "/Users")
            .header("content-type", *content_type)
            .body(user_body(&format!("u{i}@acme.com")).to_string())
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::CREATED, "{content_type}");
        assert_eq!(response.headers()["content-type"], "application/scim+json");
    }
}

async fn body_over_the_limit_is_413(backend: Backend) {
    let app = TestApp::builder(backend).max_body_bytes(2048).spawn().await;
    let mut body = json!({"schemas": [USER_SCHEMA], "userName": "big@acme.com"});
    body["displayName"] = json!("x".repeat(4096));
    let response = app.post("/Users", &body).await;
    assert_scim_error(response, StatusCode::PAYLOAD_TOO_LARGE, None).await;
}

async fn unknown_endpoint_is_a_scim_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_scim_error(app.get("/Nope").await, StatusCode::NOT_FOUND, None).await;
}

async fn health_and_readiness_answer_without_a_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (path, body) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let response = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.text().await.expect("text"), body);
    }
}

backend_tests!(
    malformed_json_is_400_invalid_syntax,
    unsupported_content_type_is_415,
    json_and_scim_json_with_charset_are_both_accepted,
    body_over_the_limit_is_413,
    unknown_endpoint_is_a_scim_404,
    health_and_readiness_answer_without_a_token,
);
