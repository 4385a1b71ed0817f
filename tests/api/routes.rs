//! The route table and the admin API's OpenAPI document as snapshots: a restructuring of
//! the HTTP layer must leave both unchanged (`cargo insta review` after an intended change).

use std::fmt::Write as _;

use reqwest::Method;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};

const UNKNOWN: &str = "00000000-0000-4000-8000-000000000000";

/// Every path the server routes, as a client would write it (ids unknown on purpose).
fn paths() -> Vec<String> {
    let scim = [
        "/Users",
        "/Users/.search",
        &format!("/Users/{UNKNOWN}"),
        "/Groups",
        "/Groups/.search",
        &format!("/Groups/{UNKNOWN}"),
        "/.search",
        "/Bulk",
        "/Me",
        "/ServiceProviderConfig",
        "/ResourceTypes",
        "/ResourceTypes/User",
        "/Schemas",
        "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
        "/NoSuchEndpoint",
    ]
    .map(String::from);
    let mut paths: Vec<String> = Vec::new();
    for mount in ["/scim/v2", "/scim", ""] {
        paths.extend(scim.iter().map(|p| format!("{mount}{p}")));
    }
    // An account that does not exist: no probe changes state, and a handler's 404 names
    // the account while an unrouted path's names the endpoint.
    let account = "/admin/api/accounts/ghost";
    paths.extend(
        [
            "/healthz",
            "/readyz",
            "/metrics",
            "/admin",
            "/admin/login",
            "/admin/logout",
            "/admin/accounts",
            "/admin/accounts/ghost",
            "/admin/accounts/ghost/settings",
            "/admin/accounts/ghost/users",
            "/admin/accounts/ghost/users.csv",
            "/admin/accounts/ghost/groups",
            "/admin/accounts/ghost/activity",
            "/admin/assets/app.css",
            "/admin/api/openapi.json",
            "/admin/api/accounts",
            "/admin/api/clock",
            "/admin/api/clock/advance",
            "/admin/api/journal/prune",
        ]
        .map(String::from),
    );
    for tail in [
        "",
        "/instances",
        "/pools",
        "/pools/1",
        "/configurations",
        "/configurations/Demo",
        "/configurations/Demo/token",
        "/configurations/Demo/rate-limit",
        "/configurations/Demo/license-rules",
        "/users",
        "/users/deletion",
        &format!("/users/{UNKNOWN}"),
        &format!("/users/{UNKNOWN}/licenses"),
        &format!("/users/{UNKNOWN}/licenses/learning"),
        &format!("/users/{UNKNOWN}/licenses/learning/activate"),
        &format!("/users/{UNKNOWN}/licenses/learning/move"),
        "/groups",
        &format!("/groups/{UNKNOWN}"),
        &format!("/groups/{UNKNOWN}/members"),
        &format!("/groups/{UNKNOWN}/members/{UNKNOWN}"),
        "/activity",
        "/reset",
        "/journal",
        "/journal/expect",
        "/faults",
        "/faults/1",
        "/snapshot",
    ] {
        paths.push(format!("{account}{tail}"));
    }
    paths
}

/// For every path and method: the status an empty text body gets with the right
/// token (SCIM paths the demo token, admin paths the admin token). 404 for an unrouted
/// path and 405 for an unrouted method tell the route table apart from the handlers'.
async fn the_route_table_is_unchanged(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Redirects are part of the table (the sign-in page's 303s), not followed.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut table = String::new();
    for path in paths() {
        let token = if path.starts_with("/admin") {
            &app.admin_token
        } else {
            &app.token
        };
        write!(table, "{path}").expect("write");
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            let response = client
                .request(method.clone(), format!("{}{path}", app.address))
                .bearer_auth(token)
                .header("content-type", "text/plain")
                .body("")
                .send()
                .await
                .expect("request");
            let status = response.status().as_u16();
            write!(table, "\n  {method} {status}").expect("write");
            if status == 404 {
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                write!(table, " {}", body["detail"].as_str().unwrap_or("(no SCIM body)")).expect("write");
            }
        }
        table.push('\n');
    }
    insta::assert_snapshot!("route_table", table);
}

async fn the_openapi_document_is_unchanged(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let doc = app.get_unauthenticated("/admin/api/openapi.json").await;
    let doc: serde_json::Value = doc.json().await.expect("json");
    insta::assert_json_snapshot!("openapi", doc);
}

backend_tests!(the_route_table_is_unchanged, the_openapi_document_is_unchanged);
