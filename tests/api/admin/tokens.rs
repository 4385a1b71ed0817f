//! `/admin/api/accounts/{account}/configurations/{configuration}/token`: token refresh
//! (the old token gets 401 at once; another account cannot refresh it).

use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::{account_with_pool, scim_configuration};
use crate::backend_tests;
use crate::helpers::acme::{LEARNING, SALESNAV, acme};
use crate::helpers::{Backend, TestApp, assert_scim_error, expect_json};

async fn refreshing_a_token_revokes_the_old_one_at_once(backend: Backend) {
    let app = acme(backend, "linkedin").await;
    let response = app.refresh_token("acme", "Sales%20Navigator").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.expect("json");
    let new_token = body["token"].as_str().expect("token").to_owned();
    assert!(
        body["expiresAt"].as_str().is_some(),
        "LinkedIn tokens expire: {body}"
    );
    let old = app
        .scim_as(SALESNAV, Method::GET, "/Users?filter=userName%20eq%20%22x%22")
        .send()
        .await
        .expect("request");
    assert_scim_error(old, StatusCode::UNAUTHORIZED, None).await;
    assert_eq!(
        app.get_as(&new_token, "/Users?filter=userName%20eq%20%22x%22")
            .await
            .status(),
        StatusCode::OK
    );
    // Several IdPs may share one token: the other configurations are untouched.
    assert_eq!(app.get_as(LEARNING, "/Users").await.status(), StatusCode::OK);
}

async fn a_refreshed_token_replaces_the_old_one_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    account_with_pool(&app).await;
    let old = scim_configuration(&app, "Entra ID").await;
    let refreshed = app.refresh_token("acme", "Entra%20ID").await;
    let refreshed = expect_json(refreshed, StatusCode::CREATED, "refresh").await;
    let new = refreshed["token"].as_str().expect("token");
    assert_ne!(new, old);
    let probe = "/Users?filter=userName%20eq%20%22x%22";
    let status = |token: String| {
        let app = &app;
        async move {
            app.scim_as(&token, Method::GET, probe)
                .send()
                .await
                .expect("request")
                .status()
        }
    };
    assert_eq!(status(old.clone()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status(new.to_owned()).await, StatusCode::OK);
    // Another account cannot refresh it.
    let other = app.refresh_token("demo", "Entra%20ID").await;
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    assert_eq!(status(new.to_owned()).await, StatusCode::OK);
}

backend_tests!(
    a_refreshed_token_replaces_the_old_one_at_once,
    refreshing_a_token_revokes_the_old_one_at_once,
);
