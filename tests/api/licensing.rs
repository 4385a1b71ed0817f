//! LinkedIn licensing over SCIM: first come, first served seats per pool, the waiting
//! queue and its promotions, release on deactivation and deletion, one identity across
//! products, and pools that refuse when full.

use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::acme::{
    LEARNING, LICENSES, SALESNAV, SYNC, TEAMLINK, acme, pair, patch_active, pool, seed, spawn_with_clock,
    states,
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
    // The freed seat went to c, the first in line, in the same transaction: c was not
    // written again.
    assert_eq!(queue(&app).await, (2, 0, 0));
    let c_now = app.get_ok_as(SALESNAV, &format!("/Users/{}", id_of(&c))).await;
    assert_eq!(states(&c_now), vec![pair("sales_navigator", "assigned")]);
    // a is reactivated: the pool is full again, so a waits.
    let a_on = patch_active(&app, SALESNAV, &id_of(&a), true).await;
    assert_eq!(states(&a_on), vec![pair("sales_navigator", "waiting")]);
}

async fn a_deleted_holder_s_seat_goes_to_the_first_in_line(backend: Backend) {
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

/// The Advanced Plus pool as (used, waiting, free), asserting the queue's invariant: no
/// free seat beside a waiting user.
async fn queue(app: &TestApp) -> (i64, i64, i64) {
    let usage = pool(app, "Advanced Plus").await;
    let [used, waiting, free] = ["used", "waiting", "free"].map(|k| usage[k].as_i64().unwrap_or(-1));
    assert!(
        free == 0 || waiting == 0,
        "a free seat beside a waiting user: {usage}"
    );
    (used, waiting, free)
}

/// The license state of `user_name` as the Sales Navigator IdP reads it.
async fn sales_navigator_state(app: &TestApp, user_name: &str) -> Vec<(String, String)> {
    let list = app
        .get_ok_as(
            SALESNAV,
            &format!("/Users?filter=userName%20eq%20%22{user_name}%22"),
        )
        .await;
    states(&list["Resources"][0])
}

/// The promotions the activity log shows for the queue, oldest first.
async fn promotions(app: &TestApp, n: usize) -> Vec<String> {
    let records = app.activity_of("acme", "?method=PROMOTE", n).await;
    records
        .iter()
        .rev()
        .map(|r| r["outcome"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Issue 22's scenario: a 2-seat pool, 4 users (2 hold, 2 wait); a holder is
/// deactivated, then a deactivated user is reactivated and a newcomer created. The
/// longest waiters hold the seats, the reactivated user and the newcomer wait at the
/// back, in that order, and every promotion is in the activity log.
async fn the_longest_waiting_get_freed_seats_and_latecomers_queue_at_the_back(backend: Backend) {
    let start = DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
        .expect("time")
        .with_timezone(&Utc);
    let (app, clock) = spawn_with_clock(backend, "linkedin", "", start).await;
    let minutes = |n| {
        clock.advance(chrono::Duration::minutes(n));
    };
    let mut off = user_body("off@acme.com");
    off["active"] = json!(false);
    let off = app.create_user_as(SALESNAV, &off).await;
    let mut ids = Vec::new();
    for name in ["a", "b", "c", "d"] {
        minutes(1);
        let user = app
            .create_user_as(SALESNAV, &user_body(&format!("{name}@acme.com")))
            .await;
        ids.push(id_of(&user));
    }
    assert_eq!(queue(&app).await, (2, 2, 0));
    // a leaves: c, who waited longest, gets the seat at once.
    minutes(10);
    patch_active(&app, SALESNAV, &ids[0], false).await;
    assert_eq!(queue(&app).await, (2, 1, 0));
    // The deactivated user comes back and a newcomer arrives: both behind d.
    minutes(1);
    let back = patch_active(&app, SALESNAV, &id_of(&off), true).await;
    assert_eq!(states(&back), vec![pair("sales_navigator", "waiting")]);
    minutes(1);
    let newcomer = app.create_user_as(SALESNAV, &user_body("new@acme.com")).await;
    assert_eq!(states(&newcomer), vec![pair("sales_navigator", "waiting")]);
    assert_eq!(queue(&app).await, (2, 3, 0));
    // Who is next, and each waiting user's place, as the admin API shows them.
    let usage = pool(&app, "Advanced Plus").await;
    assert_eq!(usage["nextInLine"]["userName"], "d@acme.com", "{usage}");
    assert_eq!(usage["nextInLine"]["waitingSince"], "2026-03-02T09:04:00.000000Z");
    for (id, position) in [(&ids[3], 1), (&id_of(&off), 2), (&id_of(&newcomer), 3)] {
        let user = app.admin_get_ok(&format!("/accounts/acme/users/{id}")).await;
        assert_eq!(user["queuePositions"]["sales_navigator"], position, "{user}");
    }
    let holder = app
        .admin_get_ok(&format!("/accounts/acme/users/{}", ids[1]))
        .await;
    assert!(holder.get("queuePositions").is_none(), "{holder}");
    for (name, expected) in [("b", "assigned"), ("c", "assigned"), ("d", "waiting")] {
        assert_eq!(
            sales_navigator_state(&app, &format!("{name}@acme.com")).await,
            vec![pair("sales_navigator", expected)],
            "{name}"
        );
    }
    // b leaves: d is next, then the reactivated user, then the newcomer.
    minutes(2);
    patch_active(&app, SALESNAV, &ids[1], false).await;
    assert_eq!(
        sales_navigator_state(&app, "d@acme.com").await,
        vec![pair("sales_navigator", "assigned")]
    );
    minutes(3);
    patch_active(&app, SALESNAV, &ids[2], false).await;
    assert_eq!(
        sales_navigator_state(&app, "off@acme.com").await,
        vec![pair("sales_navigator", "assigned")]
    );
    assert_eq!(
        sales_navigator_state(&app, "new@acme.com").await,
        vec![pair("sales_navigator", "waiting")]
    );
    assert_eq!(queue(&app).await, (2, 1, 0));
    let usage = pool(&app, "Advanced Plus").await;
    assert_eq!(usage["nextInLine"]["userName"], "new@acme.com", "{usage}");
    assert_eq!(
        promotions(&app, 3).await,
        [
            "license assigned from the queue: c@acme.com got a seat of Advanced Plus (sales_navigator) after waiting 11m",
            "license assigned from the queue: d@acme.com got a seat of Advanced Plus (sales_navigator) after waiting 14m",
            "license assigned from the queue: off@acme.com got a seat of Advanced Plus (sales_navigator) after waiting 6m",
        ]
    );
    // Each promotion is filed under the promoted user.
    let c_log = app
        .activity_of("acme", &format!("?resourceId={}&method=PROMOTE", ids[2]), 1)
        .await;
    assert_eq!(c_log.len(), 1, "{c_log:?}");
    // The deactivation's own outcome names the released license.
    let released = app
        .activity_of("acme", &format!("?resourceId={}&method=PATCH", ids[0]), 1)
        .await;
    assert_eq!(
        released[0]["outcome"],
        "disabled; license released: Advanced Plus (sales_navigator)"
    );
}

/// Seats an admin adds, and a license an admin revokes, go to the queue in order.
async fn added_and_revoked_seats_go_to_the_queue_in_order(backend: Backend) {
    let app = acme(backend, "rfc").await;
    let mut ids = Vec::new();
    for name in ["a", "b", "c", "d", "e"] {
        let user = app
            .create_user_as(SALESNAV, &user_body(&format!("{name}@acme.com")))
            .await;
        ids.push(id_of(&user));
    }
    assert_eq!(queue(&app).await, (2, 3, 0));
    let pool_id = id_of(&pool(&app, "Advanced Plus").await);
    let response = app
        .admin_json(
            Method::PATCH,
            &format!("/accounts/acme/pools/{pool_id}"),
            json!({"seats": 3}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(queue(&app).await, (3, 2, 0));
    assert_eq!(
        sales_navigator_state(&app, "c@acme.com").await,
        vec![pair("sales_navigator", "assigned")]
    );
    assert_eq!(
        sales_navigator_state(&app, "d@acme.com").await,
        vec![pair("sales_navigator", "waiting")]
    );
    // Revoking a's license hands its seat to d, then e is first in line.
    let response = app
        .admin(
            Method::DELETE,
            &format!("/accounts/acme/users/{}/licenses/sales_navigator", ids[0]),
        )
        .send()
        .await
        .expect("request");
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(queue(&app).await, (3, 1, 0));
    assert_eq!(
        sales_navigator_state(&app, "d@acme.com").await,
        vec![pair("sales_navigator", "assigned")]
    );
    assert_eq!(
        sales_navigator_state(&app, "e@acme.com").await,
        vec![pair("sales_navigator", "waiting")]
    );
    let log = promotions(&app, 2).await;
    assert!(
        log[0].contains("c@acme.com got a seat of Advanced Plus"),
        "{log:?}"
    );
    assert!(
        log[1].contains("d@acme.com got a seat of Advanced Plus"),
        "{log:?}"
    );
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
/// auto-assign releases nothing. Each product reads its own `active`.
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
    assert_eq!(
        after["active"], true,
        "Sales Navigator still holds the person active"
    );
    assert_eq!(states(&after), vec![pair("sales_navigator", "assigned")]);
    let learning = app.get_ok_as(LEARNING, &format!("/Users/{id}")).await;
    assert_eq!(learning["active"], false);
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
    // The queue gave b's seat to d, the first in line.
    let taken = patch_active(&app, SALESNAV, &id_of(&d), true).await;
    assert_eq!(states(&taken), vec![pair("sales_navigator", "assigned")]);
    assert_eq!(taken, read(&d).await, "the freed seat went to the first in line");
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
    a_deleted_holder_s_seat_goes_to_the_first_in_line,
    the_longest_waiting_get_freed_seats_and_latecomers_queue_at_the_back,
    added_and_revoked_seats_go_to_the_queue_in_order,
    deleting_a_user_releases_its_seats,
    auto_assign_off_syncs_user_data_only,
    one_person_is_one_user_with_a_license_per_product,
    strict_pools_refuse_the_write_when_full,
);
