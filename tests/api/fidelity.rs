//! LinkedIn fidelity settings seen over SCIM: a refused DELETE and how Sales Navigator
//! answers user lists.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::backend_tests;
use crate::helpers::acme::{LEARNING, SALESNAV, acme, pair, seed, states};
use crate::helpers::{Backend, TestApp, assert_scim_error, id_of, user_body};

async fn delete_can_be_refused_by_the_fidelity_profile(backend: Backend) {
    let app = TestApp::builder(backend)
        .seed(&seed("linkedin", "fidelity = { user_delete = \"refuse\" }"))
        .spawn()
        .await;
    let a = app.create_user_as(SALESNAV, &user_body("a@acme.com")).await;
    let response = app
        .scim_as(SALESNAV, Method::DELETE, &format!("/Users/{}", id_of(&a)))
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::NOT_IMPLEMENTED, None).await;
    let still = app.get_ok_as(SALESNAV, &format!("/Users/{}", id_of(&a))).await;
    assert_eq!(still["active"], true);
    assert_eq!(states(&still), vec![pair("sales_navigator", "assigned")]);
}

/// Okta's "Test API Credentials" (`GET /Users?startIndex=1&count=2`) and "Import users"
/// pass for Sales Navigator under the default `linkedin` preset: 200 with an empty page,
/// as the SaaS managers' guides say Sales Navigator serves no user list. Lookups of a known
/// user are served; every other filter lists nothing.
async fn sales_navigator_lists_no_users_but_serves_lookups(backend: Backend) {
    let app = acme(backend, "linkedin").await;
    let a = app.create_user_as(SALESNAV, &user_body("a@acme.com")).await;
    for list in [
        "/Users?startIndex=1&count=2",
        "/Users?startIndex=1&count=100",
        "/Users",
        "/Users?filter=userName%20pr",
        "/Users?filter=userName%20sw%20%22%22",
        "/Users?filter=active%20eq%20true",
        "/Users?filter=userName%20eq%20%22a%40acme.com%22%20or%20active%20eq%20true",
    ] {
        let page = app.get_ok_as(SALESNAV, list).await;
        assert_eq!(page["totalResults"], 0, "{list}");
        assert_eq!(page["Resources"], json!([]), "{list}");
        assert!(page["startIndex"].is_u64(), "{list}");
    }
    for lookup in [
        "/Users?filter=userName%20eq%20%22a%40acme.com%22&startIndex=1&count=100",
        "/Users?filter=externalId%20eq%20%22ext-a%40acme.com%22%20and%20active%20eq%20true",
        "/Users?filter=emails%5Bvalue%20eq%20%22a%40acme.com%22%5D",
    ] {
        let page = app.get_ok_as(SALESNAV, lookup).await;
        assert_eq!(page["totalResults"], 1, "{lookup}");
        assert_eq!(page["Resources"][0]["id"], a["id"], "{lookup}");
    }
    // Learning lists its own users (an Okta import), not Sales Navigator's.
    let page = app.get_ok_as(LEARNING, "/Users").await;
    assert_eq!(
        page["totalResults"], 0,
        "a Sales Navigator user is not Learning's"
    );
    let b = app.create_user_as(LEARNING, &user_body("b@acme.com")).await;
    let page = app.get_ok_as(LEARNING, "/Users").await;
    assert_eq!(page["totalResults"], 1, "Learning lists users (Okta import)");
    assert_eq!(page["Resources"][0]["id"], b["id"]);
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]});
    let response = app
        .send_json_as(SALESNAV, Method::POST, "/Users/.search", &body)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let search: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        search["totalResults"], 0,
        ".search lists no Sales Navigator users"
    );
}

async fn the_listing_mode_is_a_setting(backend: Backend) {
    let app = TestApp::builder(backend)
        .seed(&seed(
            "linkedin",
            "fidelity = { user_listing = { sales_navigator = \"refuse\" } }",
        ))
        .spawn()
        .await;
    app.create_user_as(SALESNAV, &user_body("a@acme.com")).await;
    for list in ["/Users", "/Users?filter=userName%20pr"] {
        let response = app
            .scim_as(SALESNAV, Method::GET, list)
            .send()
            .await
            .expect("request");
        assert_scim_error(response, StatusCode::BAD_REQUEST, Some("tooMany")).await;
    }
    let page = app
        .get_ok_as(SALESNAV, "/Users?filter=userName%20eq%20%22a%40acme.com%22")
        .await;
    assert_eq!(page["totalResults"], 1);
    let rfc = acme(backend, "rfc").await;
    rfc.create_user_as(SALESNAV, &user_body("a@acme.com")).await;
    let page = rfc.get_ok_as(SALESNAV, "/Users?startIndex=1&count=2").await;
    assert_eq!(page["totalResults"], 1, "the rfc preset serves lists");
}

backend_tests!(
    delete_can_be_refused_by_the_fidelity_profile,
    sales_navigator_lists_no_users_but_serves_lookups,
    the_listing_mode_is_a_setting,
);
