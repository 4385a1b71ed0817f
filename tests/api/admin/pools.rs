//! `/admin/api/accounts/{account}/pools`: seat counts, and seats added going to the queue.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::acme::{SALESNAV, acme, pair, pool, states};
use crate::helpers::{Backend, assert_scim_error, id_of, user_body};

async fn seat_counts_change_but_never_below_the_seats_in_use(backend: Backend) {
    let app = acme(backend, "rfc").await;
    app.create_user_as(SALESNAV, &user_body("a@acme.com")).await;
    app.create_user_as(SALESNAV, &user_body("b@acme.com")).await;
    let c = app.create_user_as(SALESNAV, &user_body("c@acme.com")).await;
    let pool_id = id_of(&pool(&app, "Advanced Plus").await);
    let path = format!("/accounts/acme/pools/{pool_id}");
    let response = app
        .admin(Method::PATCH, &path)
        .header("content-type", "application/json")
        .body(json!({"seats": 1}).to_string())
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::CONFLICT, None).await;
    let response = app
        .admin(Method::PATCH, &path)
        .header("content-type", "application/json")
        .body(json!({"seats": 3}).to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let usage: Value = response.json().await.expect("json");
    assert_eq!(
        (
            usage["seats"].as_i64(),
            usage["used"].as_i64(),
            usage["waiting"].as_i64()
        ),
        (Some(3), Some(3), Some(0))
    );
    let c_now = app.get_ok_as(SALESNAV, &format!("/Users/{}", id_of(&c))).await;
    assert_eq!(states(&c_now), vec![pair("sales_navigator", "assigned")]);
}

backend_tests!(seat_counts_change_but_never_below_the_seats_in_use,);
