//! The admin API (`/admin/api`): one file per part of its URL tree under
//! `/accounts/{account}`; what holds for every endpoint (bad input is a SCIM error) here.

mod accounts;
mod activity;
mod licenses;
mod pools;
mod tokens;

use reqwest::{Method, StatusCode};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, assert_scim_error, id_of};

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
            .is_some_and(|d| d.contains("promoteWaiting")),
        "{body}"
    );
}

backend_tests!(bad_admin_input_gets_a_scim_error);
