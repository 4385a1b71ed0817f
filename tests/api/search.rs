//! `POST /.search` at the root (RFC 7644 §3.4.3): searches every resource type.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, assert_scim_error, user_body};

const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

async fn root_search_finds_users_and_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for name in ["ann@x.io", "bob@x.io", "amy@x.io"] {
        app.create_user(&user_body(name)).await;
    }
    let response = app
        .post(
            "/.search",
            &json!({
                "schemas": [SEARCH_REQUEST],
                "filter": "userName sw \"a\"",
                "sortBy": "userName",
                "attributes": ["userName"],
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let list: Value = response.json().await.expect("json");
    assert_eq!(list["totalResults"], 2);
    assert_eq!(list["Resources"][0]["userName"], "amy@x.io");
    assert_eq!(list["Resources"][1]["userName"], "ann@x.io");
    assert!(list["Resources"][0].get("emails").is_none(), "projection applies");

    let page: Value = app
        .post(
            "/.search",
            &json!({"schemas": [SEARCH_REQUEST], "startIndex": 2, "count": 1}),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        (page["totalResults"].clone(), page["startIndex"].clone()),
        (json!(3), json!(2))
    );
    assert_eq!(page["itemsPerPage"], 1);
    let totals: Value = app
        .post("/.search", &json!({"schemas": [SEARCH_REQUEST], "count": 0}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        (totals["totalResults"].clone(), totals["Resources"].clone()),
        (json!(3), json!([]))
    );
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

backend_tests!(
    root_search_finds_users_and_pages,
    root_search_refuses_bad_requests
);
