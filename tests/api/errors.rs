use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, USER_SCHEMA, assert_scim_error, patch_body, user_body};

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

/// One error body of each kind, exactly as served, as snapshots under `snapshots/`
/// (review a change with `cargo insta review`). Each is also checked as an RFC 7644
/// §3.12 error.
async fn error_bodies_match_their_snapshots(backend: Backend) {
    let app = TestApp::builder(backend).max_body_bytes(2048).spawn().await;
    let user = app.create_user(&user_body("taken@acme.com")).await;
    let id = user["id"].as_str().expect("id").to_owned();
    let post_raw = |content_type: &'static str, body: String| {
        app.scim(Method::POST, "/Users")
            .header("content-type", content_type)
            .body(body)
    };
    let mut big = user_body("big@acme.com");
    big["displayName"] = json!("x".repeat(4096));
    let cases = [
        (
            "malformed_json",
            post_raw("application/scim+json", "{\"userName\": }".into())
                .send()
                .await
                .expect("request"),
            StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
        ),
        (
            "missing_schemas",
            app.post("/Users", &json!({"userName": "a@acme.com"})).await,
            StatusCode::BAD_REQUEST,
            Some("invalidValue"),
        ),
        (
            "user_name_taken",
            app.post("/Users", &user_body("taken@acme.com")).await,
            StatusCode::CONFLICT,
            Some("uniqueness"),
        ),
        (
            "invalid_filter",
            app.get("/Users?filter=userName%20eq").await,
            StatusCode::BAD_REQUEST,
            Some("invalidFilter"),
        ),
        (
            "malformed_attributes",
            app.get("/Users?attributes=emails%5Btype%20eq%20%22work%22%5D")
                .await,
            StatusCode::BAD_REQUEST,
            Some("invalidValue"),
        ),
        (
            "malformed_excluded_attributes",
            app.get(&format!("/Users/{id}?excludedAttributes=name..givenName"))
                .await,
            StatusCode::BAD_REQUEST,
            Some("invalidValue"),
        ),
        (
            "patch_unknown_path",
            app.patch(
                &format!("/Users/{id}"),
                &patch_body(json!([{"op": "replace", "path": "nope", "value": 1}])),
            )
            .await,
            StatusCode::BAD_REQUEST,
            Some("invalidPath"),
        ),
        (
            "patch_read_only",
            app.patch(
                &format!("/Users/{id}"),
                &patch_body(json!([{"op": "replace", "path": "id", "value": "x"}])),
            )
            .await,
            StatusCode::BAD_REQUEST,
            Some("mutability"),
        ),
        (
            "stale_if_match",
            app.scim(Method::PUT, &format!("/Users/{id}"))
                .header("if-match", "W/\"7\"")
                .json(&user_body("taken@acme.com"))
                .send()
                .await
                .expect("request"),
            StatusCode::PRECONDITION_FAILED,
            None,
        ),
        (
            "user_not_found",
            app.get("/Users/no-such-user").await,
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            "unknown_endpoint",
            app.get("/Nope").await,
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            "method_not_allowed",
            app.scim(Method::DELETE, "/ServiceProviderConfig")
                .send()
                .await
                .expect("request"),
            StatusCode::METHOD_NOT_ALLOWED,
            None,
        ),
        (
            "no_token",
            app.client
                .get(format!("{}/Users", app.base()))
                .send()
                .await
                .expect("request"),
            StatusCode::UNAUTHORIZED,
            None,
        ),
        (
            "body_too_large",
            post_raw("application/scim+json", big.to_string())
                .send()
                .await
                .expect("request"),
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
        ),
        (
            "unsupported_media_type",
            post_raw("text/plain", user_body("a@acme.com").to_string())
                .send()
                .await
                .expect("request"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
        ),
    ];
    for (name, response, status, scim_type) in cases {
        let body = assert_scim_error(response, status, scim_type).await;
        insta::assert_json_snapshot!(name, body);
    }
}

backend_tests!(
    malformed_json_is_400_invalid_syntax,
    unsupported_content_type_is_415,
    json_and_scim_json_with_charset_are_both_accepted,
    body_over_the_limit_is_413,
    unknown_endpoint_is_a_scim_404,
    health_and_readiness_answer_without_a_token,
    error_bodies_match_their_snapshots,
);
