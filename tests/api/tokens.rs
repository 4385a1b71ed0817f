//! Token lifetime over SCIM: LinkedIn's tokens expire, RFC-preset tokens do not.

use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};

use crate::backend_tests;
use crate::helpers::acme::{SALESNAV, spawn_with_clock};
use crate::helpers::{Backend, assert_scim_error};

async fn tokens_expire_after_their_lifetime(backend: Backend) {
    let start = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("valid");
    let (app, clock) = spawn_with_clock(
        backend,
        "linkedin",
        "fidelity = { token_ttl_seconds = 60 }",
        start,
    )
    .await;
    let path = "/Users?filter=userName%20eq%20%22x%22";
    assert_eq!(
        app.scim_as(SALESNAV, Method::GET, path)
            .send()
            .await
            .expect("request")
            .status(),
        StatusCode::OK
    );
    clock.advance(chrono::Duration::seconds(61));
    let response = app
        .scim_as(SALESNAV, Method::GET, path)
        .send()
        .await
        .expect("request");
    let body = assert_scim_error(response, StatusCode::UNAUTHORIZED, None).await;
    assert!(
        body["detail"].as_str().is_some_and(|d| d.contains("expired")),
        "{body}"
    );
}

async fn rfc_tokens_do_not_expire(backend: Backend) {
    let start = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("valid");
    let (app, clock) = spawn_with_clock(backend, "rfc", "", start).await;
    clock.advance(chrono::Duration::days(3 * 365));
    assert_eq!(
        app.get_as(SALESNAV, "/Users?count=0").await.status(),
        StatusCode::OK
    );
}

backend_tests!(tokens_expire_after_their_lifetime, rfc_tokens_do_not_expire,);
