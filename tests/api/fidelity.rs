//! LinkedIn fidelity settings seen over SCIM: a refused DELETE and how Sales Navigator
//! answers user and group lists.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::backend_tests;
use crate::helpers::acme::{LEARNING, SALESNAV, acme, pair, seed, states};
use crate::helpers::{Backend, TestApp, assert_scim_error, group_with, id_of, user_body};

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

/// Lookups of several known users are lookups too: every `or` branch pins an
/// identifier, and `emails[type eq "work" and value eq …]` pins the address.
async fn sales_navigator_serves_lookups_that_name_only_known_users(backend: Backend) {
    let app = acme(backend, "linkedin").await;
    let a = app.create_user_as(SALESNAV, &user_body("a@acme.com")).await;
    let b = app.create_user_as(SALESNAV, &user_body("b@acme.com")).await;
    app.create_user_as(SALESNAV, &user_body("c@acme.com")).await;
    for (lookup, expected) in [
        (
            "userName eq \"a@acme.com\" or userName eq \"b@acme.com\"",
            vec![&a, &b],
        ),
        (
            "userName eq \"a@acme.com\" or externalId eq \"ext-b@acme.com\"",
            vec![&a, &b],
        ),
        ("emails[type eq \"work\" and value eq \"a@acme.com\"]", vec![&a]),
        (
            "(userName eq \"a@acme.com\" or id eq \"B\") and active eq true",
            vec![&a],
        ),
    ] {
        let page = app
            .get_ok_as(SALESNAV, &format!("/Users?filter={}", urlencoding(lookup)))
            .await;
        let mut ids: Vec<&str> = page["Resources"]
            .as_array()
            .expect("Resources")
            .iter()
            .map(|u| u["id"].as_str().expect("id"))
            .collect();
        ids.sort_unstable();
        let mut wanted: Vec<&str> = expected.iter().map(|u| u["id"].as_str().expect("id")).collect();
        wanted.sort_unstable();
        assert_eq!(ids, wanted, "{lookup}");
        assert_eq!(page["totalResults"], wanted.len(), "{lookup}");
    }
    for list in [
        "userName eq \"a@acme.com\" or userName pr",
        "emails[type eq \"work\"]",
        "emails[value eq \"a@acme.com\" or type eq \"work\"]",
    ] {
        let page = app
            .get_ok_as(SALESNAV, &format!("/Users?filter={}", urlencoding(list)))
            .await;
        assert_eq!(page["totalResults"], 0, "{list}");
    }
}

/// Sales Navigator's "no list" holds for groups: `GET /Groups` is an empty page (it
/// would name every member), lookups of a known group are served, and a group seen
/// through Sales Navigator names no members. Learning, which lists users, sees them.
async fn sales_navigator_lists_no_groups_and_names_no_members(backend: Backend) {
    let app = acme(backend, "linkedin").await;
    let a = app.create_user_as(SALESNAV, &user_body("a@acme.com")).await;
    let mut body = group_with("Sales", &[id_of(&a)]);
    body["externalId"] = json!("okta-sales");
    let response = app.send_json_as(SALESNAV, Method::POST, "/Groups", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let group: serde_json::Value = response.json().await.expect("json");
    assert!(group.get("members").is_none(), "{group}");
    let id = id_of(&group);
    for list in [
        "/Groups".to_owned(),
        "/Groups?startIndex=1&count=100".to_owned(),
        format!("/Groups?filter={}", urlencoding("displayName pr")),
        format!("/Groups?filter={}", urlencoding("displayName sw \"S\"")),
        format!(
            "/Groups?filter={}",
            urlencoding(&format!("members.value eq \"{}\"", id_of(&a)))
        ),
    ] {
        let page = app.get_ok_as(SALESNAV, &list).await;
        assert_eq!(page["totalResults"], 0, "{list}");
        assert_eq!(page["Resources"], json!([]), "{list}");
    }
    for lookup in [
        "displayName eq \"Sales\"".to_owned(),
        "externalId eq \"okta-sales\"".to_owned(),
        format!("id eq \"{id}\""),
        "displayName eq \"Sales\" or displayName eq \"Ops\"".to_owned(),
    ] {
        let page = app
            .get_ok_as(SALESNAV, &format!("/Groups?filter={}", urlencoding(&lookup)))
            .await;
        assert_eq!(page["totalResults"], 1, "{lookup}");
        assert_eq!(page["Resources"][0]["id"], id.as_str(), "{lookup}");
        assert!(page["Resources"][0].get("members").is_none(), "{lookup}: {page}");
    }
    for read in [
        format!("/Groups/{id}"),
        format!("/Groups/{id}?attributes=members"),
    ] {
        let group = app.get_ok_as(SALESNAV, &read).await;
        assert!(group.get("members").is_none(), "{read}: {group}");
    }
    let seen = app.get_ok_as(LEARNING, &format!("/Groups/{id}")).await;
    assert_eq!(
        seen["members"][0]["value"], a["id"],
        "Learning lists users: {seen}"
    );
    assert_eq!(app.get_ok_as(LEARNING, "/Groups").await["totalResults"], 1);

    let rfc = acme(backend, "rfc").await;
    let a = rfc.create_user_as(SALESNAV, &user_body("a@acme.com")).await;
    let response = rfc
        .send_json_as(
            SALESNAV,
            Method::POST,
            "/Groups",
            &group_with("Sales", &[id_of(&a)]),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let page = rfc.get_ok_as(SALESNAV, "/Groups").await;
    assert_eq!(page["totalResults"], 1, "the rfc preset lists groups");
    assert_eq!(page["Resources"][0]["members"][0]["value"], a["id"]);
}

/// `refuse` refuses group lists too, naming the group lookups.
async fn a_refused_listing_refuses_group_lists(backend: Backend) {
    let app = TestApp::builder(backend)
        .seed(&seed(
            "linkedin",
            "fidelity = { user_listing = { sales_navigator = \"refuse\" } }",
        ))
        .spawn()
        .await;
    let response = app
        .send_json_as(
            SALESNAV,
            Method::POST,
            "/Groups",
            &group_with("Sales", &[] as &[&str]),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = app
        .scim_as(SALESNAV, Method::GET, "/Groups")
        .send()
        .await
        .expect("request");
    let error = assert_scim_error(response, StatusCode::BAD_REQUEST, Some("tooMany")).await;
    assert!(
        error["detail"]
            .as_str()
            .is_some_and(|d| d.contains("displayName")),
        "{error}"
    );
    let page = app
        .get_ok_as(
            SALESNAV,
            &format!("/Groups?filter={}", urlencoding("displayName eq \"Sales\"")),
        )
        .await;
    assert_eq!(page["totalResults"], 1);
}

/// A filter as a query-string value.
fn urlencoding(filter: &str) -> String {
    percent_encoding::utf8_percent_encode(filter, percent_encoding::NON_ALPHANUMERIC).to_string()
}

backend_tests!(
    sales_navigator_serves_lookups_that_name_only_known_users,
    sales_navigator_lists_no_groups_and_names_no_members,
    a_refused_listing_refuses_group_lists,
    delete_can_be_refused_by_the_fidelity_profile,
    sales_navigator_lists_no_users_but_serves_lookups,
    the_listing_mode_is_a_setting,
);
