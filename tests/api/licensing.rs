//! LinkedIn licensing over SCIM: first come, first served seats per pool, waiting,
//! release on deactivation and deletion, promotion, one identity across products, and
//! pools that refuse when full.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::acme::{
    LEARNING, LICENSES, SALESNAV, SYNC, TEAMLINK, acme, pair, patch_active, pool, seed, states,
};
use crate::helpers::{Backend, TestApp, assert_scim_error, id_of, user_body};

async fn seats_go_first_come_first_served_and_a_full_pool_means_waiting(backend: Backend) {
    let app = acme(backend, "rfc").await;
    let a = app.create_user_as(SALESNAV, &user_body("a@acme.com")).await;
    let b = app.create_user_as(SALESNAV, &user_body("b@acme.com")).await;
    let c = app.create_user_as(SALESNAV, &user_body("c@acme.com")).await;
    assert_eq!(states(&a), vec![pair("sales_navigator", "assigned")]);
    assert_eq!(states(&b), vec![pair("sales_navigator", "assigned")]);
    assert_eq!(
        states(&c),
        vec![pair("sales_navigator", "waiting")],
        "user data syncs, the license waits"
    );
    let license = &a[LICENSES]["licenses"][0];
    assert_eq!(license["instance"], "Acme Sales Navigator");
    assert_eq!(license["licenseType"], "Advanced Plus");
    assert!(license["assignedAt"].as_str().is_some());
    let usage = pool(&app, "Advanced Plus").await;
    assert_eq!(
        (
            usage["seats"].as_i64(),
            usage["used"].as_i64(),
            usage["waiting"].as_i64()
        ),
        (Some(2), Some(2), Some(1))
    );
    // The license state is filterable.
    let response = app
        .scim_as(SALESNAV, Method::GET, "/Users")
        .query(&[("filter", format!("{LICENSES}:licenses.state eq \"waiting\""))])
        .send()
        .await
        .expect("request");
    let list: Value = response.json().await.expect("json");
    assert_eq!(list["totalResults"], 1, "{list}");
    assert_eq!(list["Resources"][0]["id"], c["id"]);
}

async fn deactivation_releases_the_seat_and_reactivation_requests_one_again(backend: Backend) {
    let app = acme(backend, "rfc").await;
    let a = app.create_user_as(SALESNAV, &user_body("a@acme.com")).await;
    app.create_user_as(SALESNAV, &user_body("b@acme.com")).await;
    let c = app.create_user_as(SALESNAV, &user_body("c@acme.com")).await;
    let a_off = patch_active(&app, SALESNAV, &id_of(&a), false).await;
    assert_eq!(states(&a_off), vec![]);
    let usage = pool(&app, "Advanced Plus").await;
    assert_eq!(usage["used"], 1);
    // Without promotion (LinkedIn's default), the waiting user keeps waiting …
    let c_now = app.get_ok_as(SALESNAV, &format!("/Users/{}", id_of(&c))).await;
    assert_eq!(states(&c_now), vec![pair("sales_navigator", "waiting")]);
    // … and the next request that comes in takes the free seat: c, touched by the IdP.
    let c_touched = patch_active(&app, SALESNAV, &id_of(&c), true).await;
    assert_eq!(states(&c_touched), vec![pair("sales_navigator", "assigned")]);
    // a is reactivated: the pool is full again, so a waits.
    let a_on = patch_active(&app, SALESNAV, &id_of(&a), true).await;
    assert_eq!(states(&a_on), vec![pair("sales_navigator", "waiting")]);
}

async fn a_promoting_pool_hands_a_freed_seat_to_the_first_waiting_user(backend: Backend) {
    let app = acme(backend, "rfc").await;
    let a = app.create_user_as(TEAMLINK, &user_body("a@acme.com")).await;
    let b = app.create_user_as(TEAMLINK, &user_body("b@acme.com")).await;
    let c = app.create_user_as(TEAMLINK, &user_body("c@acme.com")).await;
    assert_eq!(states(&b), vec![pair("sales_navigator", "waiting")]);
    assert_eq!(states(&c), vec![pair("sales_navigator", "waiting")]);
    assert_eq!(
        app.delete_as(TEAMLINK, &format!("/Users/{}", id_of(&a)))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    for (user, expected) in [(&b, "assigned"), (&c, "waiting")] {
        let now = app.get_ok_as(TEAMLINK, &format!("/Users/{}", id_of(user))).await;
        assert_eq!(
            states(&now),
            vec![pair("sales_navigator", expected)],
            "FCFS promotion"
        );
    }
}

async fn deleting_a_user_releases_its_seats(backend: Backend) {
    let app = acme(backend, "rfc").await;
    let a = app.create_user_as(SALESNAV, &user_body("a@acme.com")).await;
    assert_eq!(pool(&app, "Advanced Plus").await["used"], 1);
    assert_eq!(
        app.delete_as(SALESNAV, &format!("/Users/{}", id_of(&a)))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(pool(&app, "Advanced Plus").await["used"], 0);
}

async fn auto_assign_off_syncs_user_data_only(backend: Backend) {
    let app = acme(backend, "rfc").await;
    let user = app.create_user_as(SYNC, &user_body("a@acme.com")).await;
    assert!(user.get(LICENSES).is_none(), "{user}");
    assert_eq!(pool(&app, "Advanced Plus").await["used"], 0);
}

async fn one_person_is_one_user_with_a_license_per_product(backend: Backend) {
    let app = acme(backend, "rfc").await;
    let user = app.create_user_as(LEARNING, &user_body("a@acme.com")).await;
    assert_eq!(states(&user), vec![pair("learning", "assigned")]);
    // The Sales Navigator IdP matches the same person by externalId …
    let response = app
        .scim_as(SALESNAV, Method::GET, "/Users")
        .query(&[("filter", "externalId eq \"ext-a@acme.com\"")])
        .send()
        .await
        .expect("request");
    let list: Value = response.json().await.expect("json");
    assert_eq!(list["totalResults"], 1);
    assert_eq!(list["Resources"][0]["id"], user["id"]);
    // … and a POST of the same person is a conflict, not a second identity.
    let response = app
        .send_json_as(SALESNAV, Method::POST, "/Users", &user_body("a@acme.com"))
        .await;
    assert_scim_error(response, StatusCode::CONFLICT, Some("uniqueness")).await;
    // Its update claims a Sales Navigator seat for the same user.
    let both = patch_active(&app, SALESNAV, &id_of(&user), true).await;
    assert_eq!(
        states(&both),
        vec![pair("learning", "assigned"), pair("sales_navigator", "assigned")]
    );
}

async fn strict_pools_refuse_the_write_when_full(backend: Backend) {
    let app = TestApp::builder(backend)
        .seed(&seed("rfc", "fidelity = { when_pool_full = \"refuse\" }"))
        .spawn()
        .await;
    app.create_user_as(SALESNAV, &user_body("a@acme.com")).await;
    app.create_user_as(SALESNAV, &user_body("b@acme.com")).await;
    let response = app
        .send_json_as(SALESNAV, Method::POST, "/Users", &user_body("c@acme.com"))
        .await;
    // 403, not 409: Entra reads 409 as "the user already exists" (docs/licensing.md).
    let body = assert_scim_error(response, StatusCode::FORBIDDEN, None).await;
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("no sales_navigator seat is free")),
        "{body}"
    );
    let list = app
        .get_ok_as(SALESNAV, "/Users?filter=userName%20eq%20%22c@acme.com%22")
        .await;
    assert_eq!(list["totalResults"], 0, "nothing was written");
}

/// A deactivation through one product's configuration releases that product's license
/// only (another IdP may manage the other product); one through a configuration without
/// auto-assign releases nothing. The person's `active` is one attribute of one identity.
async fn deprovisioning_is_per_product(backend: Backend) {
    for profile in ["rfc", "linkedin"] {
        let app = acme(backend, profile).await;
        let user = app.create_user_as(SALESNAV, &user_body("a@acme.com")).await;
        let id = id_of(&user);
        patch_active(&app, LEARNING, &id, true).await;
        let after = patch_active(&app, LEARNING, &id, false).await;
        assert_eq!(after["active"], false, "{profile}");
        assert_eq!(
            states(&after),
            vec![pair("sales_navigator", "assigned")],
            "{profile}: the Learning deactivation leaves Sales Navigator alone"
        );
        assert_eq!(pool(&app, "LinkedIn Learning").await["used"], 0, "{profile}");
        assert_eq!(pool(&app, "Advanced Plus").await["used"], 1, "{profile}");
        // A configuration that syncs user data only releases no license.
        let synced = patch_active(&app, SYNC, &id, false).await;
        assert_eq!(
            states(&synced),
            vec![pair("sales_navigator", "assigned")],
            "{profile}"
        );
        // The TeamLink configuration manages Sales Navigator too: one license per product.
        let released = patch_active(&app, TEAMLINK, &id, false).await;
        assert!(states(&released).is_empty(), "{profile}: {released}");
        assert_eq!(pool(&app, "Advanced Plus").await["used"], 0, "{profile}");
    }
    // LinkedIn's DELETE deactivates through the same rule.
    let app = acme(backend, "linkedin").await;
    let user = app.create_user_as(SALESNAV, &user_body("b@acme.com")).await;
    let id = id_of(&user);
    patch_active(&app, LEARNING, &id, true).await;
    let response = app.delete_as(LEARNING, &format!("/Users/{id}")).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let after = app.get_ok_as(SALESNAV, &format!("/Users/{id}")).await;
    assert_eq!(after["active"], false);
    assert_eq!(states(&after), vec![pair("sales_navigator", "assigned")]);
}

/// Every licensing no-op says what and why in the activity log.
async fn licensing_no_ops_say_why_in_the_activity_log(backend: Backend) {
    let app = acme(backend, "rfc").await;
    let user = app.create_user_as(SALESNAV, &user_body("a@acme.com")).await;
    let id = id_of(&user);
    // One license per product: TeamLink Extend writes an Advanced Plus holder.
    patch_active(&app, TEAMLINK, &id, true).await;
    let why = |n: usize| {
        let app = &app;
        async move {
            let records = app.activity_of("acme", "", n).await;
            records[0]["outcome"].as_str().unwrap_or_default().to_owned()
        }
    };
    assert_eq!(
        why(2).await,
        "unchanged; no license: one license per product, holds Advanced Plus (sales_navigator)"
    );
    patch_active(&app, SYNC, &id, true).await;
    assert_eq!(
        why(3).await,
        "unchanged; no license: this configuration does not auto-assign (only user data is synced)"
    );
    patch_active(&app, LEARNING, &id, false).await;
    assert_eq!(
        why(4).await,
        "disabled; no license released: the user holds no learning license"
    );
    // A full pool: the third Advanced Plus user waits, and a later write says it still does.
    app.create_user_as(SALESNAV, &user_body("b@acme.com")).await;
    let c = app.create_user_as(SALESNAV, &user_body("c@acme.com")).await;
    patch_active(&app, SALESNAV, &id_of(&c), true).await;
    assert_eq!(
        why(7).await,
        "unchanged; no license: still waiting for a sales_navigator seat (the pool is full)"
    );
}

/// The license extension is the server's: removing it while it holds licenses is a
/// `mutability` error; removing it when it holds none changes nothing, as adding or
/// replacing it with an empty value does.
async fn the_license_extension_is_removed_like_it_is_emptied(backend: Backend) {
    let app = acme(backend, "rfc").await;
    let unlicensed = id_of(&app.create_user_as(SYNC, &user_body("a@acme.com")).await);
    let licensed = id_of(&app.create_user_as(SALESNAV, &user_body("b@acme.com")).await);
    let empty = serde_json::json!({"schemas": [LICENSES]});
    for operation in [
        serde_json::json!({"op": "remove", "path": LICENSES}),
        serde_json::json!({"op": "add", "path": LICENSES, "value": empty}),
        serde_json::json!({"op": "replace", "path": LICENSES, "value": empty}),
    ] {
        let user = app
            .patch_ok_as(
                SYNC,
                &format!("/Users/{unlicensed}"),
                serde_json::json!([operation]),
            )
            .await;
        assert!(states(&user).is_empty(), "{operation}");
        assert_eq!(user["meta"]["version"], "W/\"1\"", "{operation}: nothing changed");
    }
    let body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": LICENSES}],
    });
    let response = app
        .send_json_as(SALESNAV, Method::PATCH, &format!("/Users/{licensed}"), &body)
        .await;
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("mutability")).await;
    let user = app.get_ok_as(SALESNAV, &format!("/Users/{licensed}")).await;
    assert_eq!(states(&user), vec![pair("sales_navigator", "assigned")]);
}

/// A second product's IdP changing the externalId another configuration set is warned
/// about in the activity log (the guides require one identity across products).
async fn an_external_id_clash_between_products_is_a_warning(backend: Backend) {
    let app = acme(backend, "rfc").await;
    let id = id_of(&app.create_user_as(SALESNAV, &user_body("a@acme.com")).await);
    let set = |value: &str| serde_json::json!([{"op": "replace", "path": "externalId", "value": value}]);
    app.patch_ok_as(LEARNING, &format!("/Users/{id}"), set("learning-42"))
        .await;
    let records = app.activity_of("acme", "", 2).await;
    let outcome = records[0]["outcome"].as_str().unwrap_or_default();
    assert!(
        outcome.contains(
            "warning: externalId changed from \"ext-a@acme.com\" to \"learning-42\" by \"Learning\"; configuration \"Sales Navigator\" had set it"
        ),
        "{outcome}"
    );
    // The same configuration changing its own value, or a write that keeps it, is no clash.
    app.patch_ok_as(LEARNING, &format!("/Users/{id}"), set("learning-43"))
        .await;
    patch_active(&app, SALESNAV, &id, true).await;
    let records = app.activity_of("acme", "", 4).await;
    for record in &records[..2] {
        let outcome = record["outcome"].as_str().unwrap_or_default();
        assert!(!outcome.contains("warning"), "{outcome}");
    }
    // The admin API's activity view shows the warning with the request.
    let user_log = app
        .admin_get_ok(&format!("/accounts/acme/activity?resourceId={id}"))
        .await;
    let warned = user_log
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            r["outcome"]
                .as_str()
                .is_some_and(|o| o.contains("warning: externalId"))
        })
        .count();
    assert_eq!(warned, 1, "{user_log}");
}

/// A write answers with the licenses the seat sync left, without reading them again:
/// each answer must be what a read right after it returns.
async fn every_write_answers_with_the_licenses_a_read_then_shows(backend: Backend) {
    let app = acme(backend, "rfc").await;
    let read = |user: &Value| {
        let path = format!("/Users/{}", id_of(user));
        let app = &app;
        async move { app.get_ok_as(SALESNAV, &path).await }
    };
    let a = app.create_user_as(LEARNING, &user_body("a@acme.com")).await;
    assert_eq!(a, read(&a).await, "create, assigned");
    let b = app.create_user_as(SALESNAV, &user_body("b@acme.com")).await;
    let c = app.create_user_as(SALESNAV, &user_body("c@acme.com")).await;
    let d = app.create_user_as(SALESNAV, &user_body("d@acme.com")).await;
    assert_eq!(states(&d), vec![pair("sales_navigator", "waiting")]);
    assert_eq!(d, read(&d).await, "create, waiting");
    // A second product sorts before or after the first, as the read orders them.
    let both = patch_active(&app, SALESNAV, &id_of(&a), true).await;
    assert_eq!(
        states(&both),
        vec![pair("learning", "assigned"), pair("sales_navigator", "waiting")]
    );
    assert_eq!(both, read(&a).await, "claim of a second product");
    let released = patch_active(&app, SALESNAV, &id_of(&b), false).await;
    assert_eq!(states(&released), vec![]);
    assert_eq!(released, read(&b).await, "release");
    let taken = patch_active(&app, SALESNAV, &id_of(&d), true).await;
    assert_eq!(states(&taken), vec![pair("sales_navigator", "assigned")]);
    assert_eq!(taken, read(&d).await, "a waiting license takes the freed seat");
    let kept = patch_active(&app, SALESNAV, &id_of(&c), true).await;
    assert_eq!(kept, read(&c).await, "unchanged");
}

backend_tests!(
    every_write_answers_with_the_licenses_a_read_then_shows,
    an_external_id_clash_between_products_is_a_warning,
    the_license_extension_is_removed_like_it_is_emptied,
    licensing_no_ops_say_why_in_the_activity_log,
    deprovisioning_is_per_product,
    seats_go_first_come_first_served_and_a_full_pool_means_waiting,
    deactivation_releases_the_seat_and_reactivation_requests_one_again,
    a_promoting_pool_hands_a_freed_seat_to_the_first_waiting_user,
    deleting_a_user_releases_its_seats,
    auto_assign_off_syncs_user_data_only,
    one_person_is_one_user_with_a_license_per_product,
    strict_pools_refuse_the_write_when_full,
);
