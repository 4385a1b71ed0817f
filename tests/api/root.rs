//! The server root: `POST /.search` searches every resource type (RFC 7644 §3.4.3);
//! `GET /` with a query (§3.4.2.1) is not implemented and says so with 501 (RFC 7644
//! §3.12), not 404. `/Me` answers 501.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, assert_scim_error, expect_json, group_body, group_with, user_body};

const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// `POST /.search` with these SearchRequest members, asserting 200.
async fn search(app: &TestApp, members: Value) -> Value {
    let mut body = json!({"schemas": [SEARCH_REQUEST]});
    for (k, v) in members.as_object().expect("object") {
        body[k] = v.clone();
    }
    expect_json(app.post("/.search", &body).await, StatusCode::OK, "root search").await
}

async fn root_search_finds_users_and_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for name in ["ann@x.io", "bob@x.io", "amy@x.io"] {
        app.create_user(&user_body(name)).await;
    }
    let list = search(
        &app,
        json!({"filter": "userName sw \"a\"", "sortBy": "userName", "attributes": ["userName"]}),
    )
    .await;
    assert_eq!(list["totalResults"], 2);
    assert_eq!(list["Resources"][0]["userName"], "amy@x.io");
    assert_eq!(list["Resources"][1]["userName"], "ann@x.io");
    assert!(list["Resources"][0].get("emails").is_none(), "projection applies");

    let page = search(&app, json!({"startIndex": 2, "count": 1})).await;
    assert_eq!(
        (page["totalResults"].clone(), page["startIndex"].clone()),
        (json!(3), json!(2))
    );
    assert_eq!(page["itemsPerPage"], 1);
    let totals = search(&app, json!({"count": 0})).await;
    assert_eq!(
        (totals["totalResults"].clone(), totals["Resources"].clone()),
        (json!(3), json!([]))
    );
}

async fn root_search_covers_users_then_groups(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ann = app.create_user(&user_body("ann@x.io")).await;
    app.create_group(&group_with("Admins", &[ann["id"].as_str().expect("id")]))
        .await;
    app.create_group(&group_body("all")).await;
    let body = search(&app, json!({"filter": "externalId pr or displayName pr"})).await;
    assert_eq!(body["totalResults"], 3, "{body}");
    let kinds: Vec<&str> = body["Resources"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|r| r["meta"]["resourceType"].as_str())
        .collect();
    assert_eq!(kinds, ["User", "Group", "Group"]);
    // Paging runs across the two: the second and third resources are the groups.
    let page = search(&app, json!({"startIndex": 2, "count": 5})).await;
    assert_eq!(page["itemsPerPage"], 2);
    assert_eq!(page["Resources"][0]["meta"]["resourceType"], "Group");
    // An attribute only groups have: users cannot match, so only groups come back.
    let members = search(&app, json!({"filter": "members pr"})).await;
    assert_eq!(members["totalResults"], 1, "{members}");
    assert_eq!(members["Resources"][0]["displayName"], "Admins");
}

async fn root_search_refuses_bad_requests(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let bad_filter = app
        .post(
            "/.search",
            &json!({"schemas": [SEARCH_REQUEST], "filter": "userName eq"}),
        )
        .await;
    assert_scim_error(bad_filter, StatusCode::BAD_REQUEST, Some("invalidFilter")).await;
    let no_schema = app.post("/.search", &json!({"filter": "userName pr"})).await;
    assert_scim_error(no_schema, StatusCode::BAD_REQUEST, Some("invalidSyntax")).await;
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

/// (`/Bulk` is offered by the preset: tests/api/bulk.rs.)
async fn me_is_501(backend: Backend) {
    let app = TestApp::spawn(backend).await;
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
    me_is_501,
    an_unsupported_method_is_a_scim_405,
    root_search_finds_users_and_pages,
    root_search_refuses_bad_requests,
    root_search_covers_users_then_groups,
    root_query_is_501_not_implemented,
    root_search_requires_the_token,
);
