//! `/admin/api/accounts/{account}/snapshot`: an account's whole state out as one JSON
//! document and back; restoring then exporting gives the same bytes.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::acme::{SALESNAV, TEAMLINK, acme, pair, states};
use crate::helpers::{Backend, TestApp, group_with, id_of, user_body};

async fn export(app: &TestApp, query: &str) -> String {
    let response = app
        .admin(Method::GET, &format!("/accounts/acme/snapshot{query}"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.expect("text")
}

async fn restore(app: &TestApp, snapshot: &str) -> reqwest::Response {
    app.admin(Method::PUT, "/accounts/acme/snapshot")
        .header("content-type", "application/json")
        .body(snapshot.to_owned())
        .send()
        .await
        .expect("request")
}

async fn a_restored_snapshot_exports_byte_for_byte_the_same(backend: Backend) {
    let app = acme(backend, "rfc").await;
    let a = app.create_user_as(SALESNAV, &user_body("a@acme.com")).await;
    let b = app.create_user_as(TEAMLINK, &user_body("b@acme.com")).await;
    let c = app.create_user_as(TEAMLINK, &user_body("c@acme.com")).await;
    assert_eq!(states(&c), vec![pair("sales_navigator", "waiting")]);
    let group = app
        .send_json_as(
            SALESNAV,
            Method::POST,
            "/Groups",
            &group_with("Sales", &[id_of(&a), id_of(&b)]),
        )
        .await;
    assert_eq!(group.status(), StatusCode::CREATED);
    let activate = app
        .admin(
            Method::POST,
            &format!(
                "/accounts/acme/users/{}/licenses/sales_navigator/activate",
                id_of(&a)
            ),
        )
        .send()
        .await
        .expect("request");
    assert!(activate.status().is_success());

    let before = export(&app, "?tokenHashes=true").await;
    let document: Value = serde_json::from_str(&before).expect("json");
    assert_eq!(document["format"], "linkedin-scim-snapshot/1");
    assert_eq!(document["tables"]["users"].as_array().map(Vec::len), Some(3));
    let origins: Vec<&Value> = document["tables"]["group_members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| &m["origin"])
        .collect();
    assert_eq!(origins, [&json!("scim"), &json!("scim")]);
    assert!(
        !export(&app, "").await.contains("token_hash"),
        "hashes only when asked"
    );

    // Change everything, then go back.
    let reset = app
        .admin(Method::POST, "/accounts/acme/reset")
        .send()
        .await
        .expect("request");
    assert!(reset.status().is_success());
    app.create_user_as(SALESNAV, &user_body("z@acme.com")).await;
    assert_eq!(restore(&app, &before).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(export(&app, "?tokenHashes=true").await, before);

    // The restored account works: the same tokens, ids and waiting order.
    let c_now = app.get_ok_as(TEAMLINK, &format!("/Users/{}", id_of(&c))).await;
    assert_eq!(states(&c_now), vec![pair("sales_navigator", "waiting")]);
    let deleted = app.delete_as(TEAMLINK, &format!("/Users/{}", id_of(&b))).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let c_now = app.get_ok_as(TEAMLINK, &format!("/Users/{}", id_of(&c))).await;
    assert_eq!(
        states(&c_now),
        vec![pair("sales_navigator", "assigned")],
        "FCFS promotion"
    );
}

async fn a_bad_snapshot_is_refused_and_changes_nothing(backend: Backend) {
    let app = acme(backend, "rfc").await;
    app.create_user_as(SALESNAV, &user_body("a@acme.com")).await;
    let before = export(&app, "?tokenHashes=true").await;
    let mut document: Value = serde_json::from_str(&before).expect("json");
    document["tables"]["users"][0]["colour"] = json!("red");
    assert_eq!(
        restore(&app, &document.to_string()).await.status(),
        StatusCode::BAD_REQUEST
    );
    let mut document: Value = serde_json::from_str(&before).expect("json");
    document["format"] = json!("something-else/9");
    assert_eq!(
        restore(&app, &document.to_string()).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(export(&app, "?tokenHashes=true").await, before);
    // Without hashes, a restored configuration needs a new token.
    assert_eq!(
        restore(&app, &export(&app, "").await).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get_as(SALESNAV, "/Users?count=1").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// A snapshot exported before the queue may show a free seat beside a waiting user (and
/// a `promote_waiting` column): restoring it hands the seat to the longest waiting.
async fn a_restored_snapshot_serves_the_queue(backend: Backend) {
    let app = acme(backend, "rfc").await;
    for name in ["a", "b", "c", "d"] {
        app.create_user_as(SALESNAV, &user_body(&format!("{name}@acme.com")))
            .await;
    }
    let mut document: Value = serde_json::from_str(&export(&app, "").await).expect("json");
    let pools = document["tables"]["license_pools"].as_array_mut().expect("pools");
    for pool in pools.iter_mut().filter(|p| p["license_type"] == "Advanced Plus") {
        pool["seats"] = json!(3);
        pool["promote_waiting"] = json!(false);
    }
    let response = restore(&app, &document.to_string()).await;
    assert_eq!(
        response.status(),
        StatusCode::NO_CONTENT,
        "{:?}",
        response.text().await
    );
    let usage = crate::helpers::acme::pool(&app, "Advanced Plus").await;
    assert_eq!(
        (usage["used"].as_i64(), usage["waiting"].as_i64()),
        (Some(3), Some(1)),
        "{usage}"
    );
    let promoted = app.activity_of("acme", "?method=PROMOTE", 1).await;
    assert!(
        promoted[0]["outcome"]
            .as_str()
            .is_some_and(|o| o.contains("c@acme.com got a seat of Advanced Plus")),
        "{promoted:?}"
    );
}

async fn a_snapshot_over_its_bound_is_refused_413(backend: Backend) {
    let app = TestApp::builder(backend)
        .settings(|s| s.snapshot_max_bytes = 16 * 1024)
        .spawn()
        .await;
    app.create_user(&user_body("a@acme.com")).await;
    let snapshot = app
        .admin(Method::GET, "/accounts/demo/snapshot")
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    assert!(snapshot.len() < 16 * 1024, "{}", snapshot.len());
    let put = |body: String| {
        app.admin(Method::PUT, "/accounts/demo/snapshot")
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let mut padded: Value = serde_json::from_str(&snapshot).expect("json");
    padded["padding"] = json!("x".repeat(20 * 1024));
    let refused = put(padded.to_string()).await.expect("request");
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let restored = put(snapshot).await.expect("request");
    assert_eq!(restored.status(), StatusCode::NO_CONTENT);
}

backend_tests!(
    a_snapshot_over_its_bound_is_refused_413,
    a_restored_snapshot_serves_the_queue,
    a_restored_snapshot_exports_byte_for_byte_the_same,
    a_bad_snapshot_is_refused_and_changes_nothing,
);
