//! Where the SCIM endpoints answer: `/scim/v2`, `/scim` and the server root (the guides
//! give bare hosts as tenant URLs), without shadowing `/admin` or the health routes; and
//! the paths people type (`/users`, `/Users/`) under every profile but `strict`.

use reqwest::{Method, Response, StatusCode};
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, assert_scim_error, expect_json, id_of, user_body};

/// A request to `path` on the server itself (no mount) with `token`.
fn at_root(app: &TestApp, token: &str, method: Method, path: &str) -> reqwest::RequestBuilder {
    app.client
        .request(method, format!("{}{path}", app.address))
        .bearer_auth(token)
}

fn tolerated(response: &Response) -> Option<&str> {
    response
        .headers()
        .get("x-scim-tolerated")
        .and_then(|v| v.to_str().ok())
}

async fn scim_answers_at_the_server_root_too(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = at_root(&app, &app.token, Method::POST, "/Users")
        .json(&user_body("root@acme.com"))
        .send()
        .await
        .expect("request");
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let user = expect_json(response, StatusCode::CREATED, "POST /Users").await;
    let id = id_of(&user);
    // Resources are located under the mount the client used: here, none.
    assert_eq!(location, Some(format!("{}/Users/{id}", app.address)));
    assert_eq!(user["meta"]["location"], format!("{}/Users/{id}", app.address));
    for path in [
        "/Users",
        "/Groups",
        "/ServiceProviderConfig",
        "/ResourceTypes",
        "/Schemas",
    ] {
        let response = at_root(&app, &app.token, Method::GET, path)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(tolerated(&response), None, "{path}");
    }
    // The same user through every mount.
    for mount in ["", "/scim", "/scim/v2"] {
        let response = at_root(&app, &app.token, Method::GET, &format!("{mount}/Users/{id}"))
            .send()
            .await
            .expect("request");
        let body = expect_json(response, StatusCode::OK, mount).await;
        assert_eq!(body["id"], id);
    }
    // /admin and the health routes are not shadowed.
    let health = app.get_unauthenticated("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.text().await.expect("body"), "ok");
    let accounts = app.admin_get_ok("/accounts").await;
    assert!(accounts.as_array().is_some_and(|a| !a.is_empty()), "{accounts}");
    // A SCIM token is no admin token.
    let response = at_root(&app, &app.token, Method::GET, "/admin/api/accounts")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // Unknown paths are still 404, with or without a token.
    let response = at_root(&app, &app.token, Method::GET, "/nosuch")
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::NOT_FOUND, None).await;
}

async fn typed_path_variants_are_tolerated_and_ids_stay_exact(backend: Backend) {
    let app = TestApp::builder(backend)
        .configuration("demo", "strict-client-token", "strict")
        .spawn()
        .await;
    let id = id_of(&app.create_user(&user_body("a@acme.com")).await);
    for path in [
        "/scim/v2/users".to_owned(),
        "/scim/v2/Users/".to_owned(),
        "/scim/USERS".to_owned(),
        "/users/".to_owned(),
        format!("/scim/v2/users/{id}"),
        format!("/Users/{id}/"),
    ] {
        let response = at_root(&app, &app.token, Method::GET, &path)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(tolerated(&response), Some("path_variant"), "{path}");
        let body: Value = response.json().await.expect("json");
        assert!(
            body["id"] == id.as_str() || body["totalResults"] == 1,
            "{path}: {body}"
        );
    }
    // A variant POST reaches the same handler.
    let response = at_root(&app, &app.token, Method::POST, "/scim/v2/users/")
        .json(&user_body("b@acme.com"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::CREATED);
    // Ids are compared exactly.
    let response = at_root(
        &app,
        &app.token,
        Method::GET,
        &format!("/scim/v2/users/{}", id.to_uppercase()),
    )
    .send()
    .await
    .expect("request");
    assert_scim_error(response, StatusCode::NOT_FOUND, None).await;
    // Under strict, a path is exact: 404 naming the endpoint meant.
    let response = at_root(&app, "strict-client-token", Method::GET, "/scim/v2/users")
        .send()
        .await
        .expect("request");
    let body = assert_scim_error(response, StatusCode::NOT_FOUND, None).await;
    assert!(
        body["detail"].as_str().is_some_and(|d| d.contains("/Users")),
        "{body}"
    );
    // A variant still needs the token.
    let response = app
        .client
        .get(format!("{}/scim/v2/users", app.address))
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::UNAUTHORIZED, None).await;
    // The journal says which tolerance fired.
    let records = app.activity_of("demo", "?tolerances=true", 1).await;
    assert_eq!(records[0]["tolerances"], serde_json::json!(["path_variant"]));
}

backend_tests!(
    scim_answers_at_the_server_root_too,
    typed_path_variants_are_tolerated_and_ids_stay_exact,
);
