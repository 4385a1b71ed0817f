//! The admin API (`/admin/api`): one file per part of its URL tree under
//! `/accounts/{account}`; what holds for every endpoint (bad input is a SCIM error) here.

mod accounts;
mod activity;
mod clock;
mod configurations;
mod expect;
mod export;
mod faults;
mod groups;
mod instances;
mod journal;
mod licenses;
mod matchers;
mod pools;
mod snapshot;
mod tokens;
mod users;

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, assert_scim_error, expect_json, id_of};

async fn bad_admin_input_gets_a_scim_error(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .admin(Method::GET, "/accounts/demo/activity?limit=many")
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    let pool = id_of(&app.pools("demo").await[0]);
    let response = app
        .admin(Method::PATCH, &format!("/accounts/demo/pools/{pool}"))
        .header("content-type", "application/json")
        .body(r#"{"seat": 3}"#)
        .send()
        .await
        .expect("request");
    let body = assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains(r#"{"seats": n}"#)),
        "{body}"
    );
}

impl TestApp {
    pub(super) async fn admin_json(&self, method: Method, path: &str, body: Value) -> Response {
        self.admin(method, path)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("request")
    }

    pub(super) async fn admin_get(&self, path: &str) -> Value {
        let response = self.admin(Method::GET, path).send().await.expect("request");
        expect_json(response, StatusCode::OK, path).await
    }
}

/// A 400 whose detail starts with the field at fault (`seats: …`), or names it as the
/// missing or unknown member (`unknown field \`colour\``).
pub(super) async fn assert_field_error(response: Response, field: &str) {
    let body = assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with(&format!("{field}:")) || detail.contains(&format!("`{field}`")),
        "the error should name {field}: {body}"
    );
}

/// An account `acme` with a Sales Navigator instance and an Advanced Plus pool of 2.
pub(super) async fn account_with_pool(app: &TestApp) {
    let created = app
        .admin_json(
            Method::POST,
            "/accounts",
            json!({"name": "acme", "profile": "linkedin"}),
        )
        .await;
    expect_json(created, StatusCode::CREATED, "account").await;
    let instance = app
        .admin_json(
            Method::POST,
            "/accounts/acme/instances",
            json!({"product": "sales_navigator", "name": "Acme SN"}),
        )
        .await;
    expect_json(instance, StatusCode::CREATED, "instance").await;
    let pool = app
        .admin_json(
            Method::POST,
            "/accounts/acme/pools",
            json!({"instance": "Acme SN", "licenseType": "Advanced Plus", "seats": 2}),
        )
        .await;
    let pool = expect_json(pool, StatusCode::CREATED, "pool").await;
    assert_eq!(
        (pool["seats"].as_i64(), pool["free"].as_i64()),
        (Some(2), Some(2))
    );
}

/// Create a configuration auto-assigning Advanced Plus; its token.
pub(super) async fn scim_configuration(app: &TestApp, name: &str) -> String {
    let response = app
        .admin_json(
            Method::POST,
            "/accounts/acme/configurations",
            json!({"name": name, "autoAssign": true, "instance": "Acme SN", "licenseType": "Advanced Plus",
                   "clientProfile": "entra"}),
        )
        .await;
    let body = expect_json(response, StatusCode::CREATED, "configuration").await;
    assert_eq!(body["configuration"]["autoAssign"], true);
    assert_eq!(body["configuration"]["clientProfile"], "entra");
    body["token"]["token"].as_str().expect("token").to_owned()
}

async fn every_admin_endpoint_needs_the_admin_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let endpoints = [
        (Method::GET, "/accounts"),
        (Method::POST, "/accounts"),
        (Method::GET, "/accounts/demo"),
        (Method::PATCH, "/accounts/demo"),
        (Method::DELETE, "/accounts/demo"),
        (Method::GET, "/accounts/demo/instances"),
        (Method::POST, "/accounts/demo/instances"),
        (Method::GET, "/accounts/demo/pools"),
        (Method::POST, "/accounts/demo/pools"),
        (Method::GET, "/accounts/demo/configurations"),
        (Method::POST, "/accounts/demo/configurations"),
        (Method::GET, "/accounts/demo/configurations/Demo"),
        (Method::DELETE, "/accounts/demo/configurations/Demo"),
        (Method::POST, "/accounts/demo/configurations/Demo/token"),
        (Method::GET, "/accounts/demo/users"),
        (Method::POST, "/accounts/demo/users/deletion"),
        (Method::GET, "/accounts/demo/users/x"),
        (Method::GET, "/accounts/demo/groups"),
        (Method::GET, "/accounts/demo/groups/x"),
        (Method::DELETE, "/accounts/demo/groups/x/members/y"),
        (Method::GET, "/accounts/demo/activity"),
        (Method::POST, "/accounts/demo/reset"),
        (Method::GET, "/clock"),
        (Method::PUT, "/clock"),
        (Method::POST, "/clock/advance"),
        (Method::GET, "/accounts/demo/journal"),
        (Method::POST, "/accounts/demo/journal/expect"),
        (Method::POST, "/journal/prune"),
        (Method::GET, "/accounts/demo/faults"),
        (Method::POST, "/accounts/demo/faults"),
        (Method::DELETE, "/accounts/demo/faults"),
        (Method::DELETE, "/accounts/demo/faults/1"),
        (Method::GET, "/accounts/demo/snapshot"),
        (Method::PUT, "/accounts/demo/snapshot"),
    ];
    for (method, path) in endpoints {
        let url = format!("{}/admin/api{path}", app.address);
        let none = app
            .client
            .request(method.clone(), &url)
            .send()
            .await
            .expect("request");
        assert_eq!(
            none.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path} without a token"
        );
        let scim = app
            .client
            .request(method.clone(), &url)
            .bearer_auth(&app.token)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("request");
        assert_eq!(
            scim.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path} with a SCIM token"
        );
    }
    // The demo account is still there, with its configuration.
    assert_eq!(
        app.admin_get("/accounts/demo/configurations").await[0]["name"],
        "Demo"
    );
    let on_scim = app
        .scim_as(&app.admin_token, Method::GET, "/Users")
        .send()
        .await
        .expect("request");
    assert_eq!(on_scim.status(), StatusCode::UNAUTHORIZED);
}

async fn the_openapi_document_describes_the_admin_api(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .client
        .get(format!("{}/admin/api/openapi.json", app.address))
        .send()
        .await
        .expect("request");
    let doc = expect_json(response, StatusCode::OK, "openapi").await;
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );
    for path in [
        "/admin/api/accounts",
        "/admin/api/accounts/{account}",
        "/admin/api/accounts/{account}/instances",
        "/admin/api/accounts/{account}/pools",
        "/admin/api/accounts/{account}/pools/{pool}",
        "/admin/api/accounts/{account}/configurations",
        "/admin/api/accounts/{account}/configurations/{configuration}",
        "/admin/api/accounts/{account}/configurations/{configuration}/token",
        "/admin/api/accounts/{account}/users",
        "/admin/api/accounts/{account}/users/deletion",
        "/admin/api/accounts/{account}/users/{user}/licenses/{product}/activate",
        "/admin/api/accounts/{account}/groups/{group}/members",
        "/admin/api/accounts/{account}/activity",
        "/admin/api/accounts/{account}/reset",
        "/admin/api/clock",
        "/admin/api/clock/advance",
        "/admin/api/accounts/{account}/journal",
        "/admin/api/accounts/{account}/journal/expect",
        "/admin/api/journal/prune",
        "/admin/api/accounts/{account}/faults",
        "/admin/api/accounts/{account}/faults/{id}",
        "/admin/api/accounts/{account}/snapshot",
    ] {
        assert!(doc["paths"][path].is_object(), "OpenAPI lacks {path}");
    }
    assert!(doc["components"]["schemas"]["NewScimConfiguration"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["admin_token"]["scheme"],
        "bearer"
    );
}

backend_tests!(
    every_admin_endpoint_needs_the_admin_token,
    the_openapi_document_describes_the_admin_api,
    bad_admin_input_gets_a_scim_error
);
