//! `/admin/api/accounts/{account}/configurations/{configuration}/token`: token refresh.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::acme::{LEARNING, SALESNAV, acme};
use crate::helpers::{Backend, assert_scim_error};

async fn refreshing_a_token_revokes_the_old_one_at_once(backend: Backend) {
    let app = acme(backend, "linkedin").await;
    let response = app
        .admin(
            Method::POST,
            "/accounts/acme/configurations/Sales%20Navigator/token",
        )
        .send()
        .await
        .expect("request");
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

backend_tests!(refreshing_a_token_revokes_the_old_one_at_once,);
