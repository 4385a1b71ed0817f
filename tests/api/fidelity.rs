//! LinkedIn fidelity settings seen over SCIM: a refused DELETE and the refused
//! unfiltered user list.

use reqwest::{Method, StatusCode};

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

async fn unfiltered_listing_follows_the_fidelity_profile(backend: Backend) {
    let app = acme(backend, "linkedin").await;
    let response = app
        .scim_as(SALESNAV, Method::GET, "/Users")
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("tooMany")).await;
    assert_eq!(
        app.get_as(SALESNAV, "/Users?filter=userName%20eq%20%22x%22")
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get_as(LEARNING, "/Users").await.status(),
        StatusCode::OK,
        "Learning lists users (Okta import)"
    );
    let rfc = acme(backend, "rfc").await;
    let response = rfc
        .scim_as(SALESNAV, Method::GET, "/Users")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
}

backend_tests!(
    delete_can_be_refused_by_the_fidelity_profile,
    unfiltered_listing_follows_the_fidelity_profile,
);
