//! Per-product status (docs/licensing.md, "Per-product status"): each product's IdP reads
//! and writes its own `active`, deactivation through one product leaves the others
//! alone, the person is inactive only when no product holds them active, and lists
//! through a product show that product's users while lookups find the person anywhere.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::Backend;
use crate::helpers::acme::{LEARNING, SALESNAV, SYNC, acme, pair, patch_active, pool, states};
use crate::helpers::{TestApp, id_of, user_body};

/// A person provisioned by both products' IdPs.
async fn licensed_in_both(app: &TestApp, user_name: &str) -> String {
    let user = app.create_user_as(SALESNAV, &user_body(user_name)).await;
    let id = id_of(&user);
    let both = patch_active(app, LEARNING, &id, true).await;
    assert_eq!(
        states(&both),
        vec![pair("learning", "assigned"), pair("sales_navigator", "assigned")]
    );
    id
}

async fn active_as(app: &TestApp, token: &str, id: &str) -> Value {
    app.get_ok_as(token, &format!("/Users/{id}")).await["active"].clone()
}

async fn one_product_s_deactivation_is_invisible_to_the_other(backend: Backend) {
    for profile in ["linkedin", "rfc"] {
        let app = acme(backend, profile).await;
        let id = licensed_in_both(&app, "a@acme.com").await;
        let after = patch_active(&app, LEARNING, &id, false).await;
        assert_eq!(after["active"], false, "{profile}: Learning reads its own status");
        assert_eq!(
            states(&after),
            vec![pair("sales_navigator", "assigned")],
            "{profile}"
        );
        assert_eq!(
            active_as(&app, SALESNAV, &id).await,
            true,
            "{profile}: Sales Navigator still holds the person active, with its seat"
        );
        assert_eq!(pool(&app, "Advanced Plus").await["used"], 1, "{profile}");
        // Filters and lists through Sales Navigator see the same `active: true`.
        let found = app
            .get_ok_as(SALESNAV, "/Users?filter=userName%20eq%20%22a%40acme.com%22")
            .await;
        assert_eq!(found["Resources"][0]["active"], true, "{profile}");

        // A filter on `active` compares the product's status too.
        for (token, active, found) in [
            (LEARNING, "false", 1),
            (LEARNING, "true", 0),
            (SALESNAV, "true", 1),
        ] {
            let page = app
                .get_ok_as(
                    token,
                    &format!("/Users?filter=externalId%20eq%20%22ext-a%40acme.com%22%20and%20active%20eq%20{active}"),
                )
                .await;
            assert_eq!(
                page["totalResults"], found,
                "{profile}: {token} active eq {active}"
            );
        }

        // And the other way round.
        let id = licensed_in_both(&app, "b@acme.com").await;
        patch_active(&app, SALESNAV, &id, false).await;
        assert_eq!(active_as(&app, LEARNING, &id).await, true, "{profile}");
        assert_eq!(active_as(&app, SALESNAV, &id).await, false, "{profile}");
        assert_eq!(pool(&app, "LinkedIn Learning").await["used"], 1, "{profile}");

        // Sorting by `active` orders by the product's status as well (false first).
        if profile == "rfc" {
            for (token, first) in [(LEARNING, "a@acme.com"), (SALESNAV, "b@acme.com")] {
                let page = app
                    .get_ok_as(
                        token,
                        "/Users?filter=userName%20ew%20%22%40acme.com%22&sortBy=active",
                    )
                    .await;
                let order: Vec<&str> = page["Resources"]
                    .as_array()
                    .expect("resources")
                    .iter()
                    .filter_map(|u| u["userName"].as_str())
                    .collect();
                assert_eq!(order.first(), Some(&first), "{token}: {order:?}");
            }
        }
    }
}

/// Okta's routine PUT echoes the whole user as its app knows it, `active: true`
/// included: through one product it never reactivates the person for another.
async fn an_echoed_put_through_one_product_never_changes_the_other(backend: Backend) {
    let app = acme(backend, "linkedin").await;
    let id = licensed_in_both(&app, "a@acme.com").await;
    patch_active(&app, LEARNING, &id, false).await;
    let mut echoed = app.get_ok_as(SALESNAV, &format!("/Users/{id}")).await;
    assert_eq!(echoed["active"], true);
    echoed["title"] = json!("Account Executive");
    let response = app
        .send_json_as(SALESNAV, Method::PUT, &format!("/Users/{id}"), &echoed)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        active_as(&app, LEARNING, &id).await,
        false,
        "Learning stays deactivated"
    );
    assert_eq!(
        pool(&app, "LinkedIn Learning").await["used"],
        0,
        "no Learning seat reclaimed"
    );
    // Learning's own echo (active: false) leaves Sales Navigator active.
    let echoed = app.get_ok_as(LEARNING, &format!("/Users/{id}")).await;
    assert_eq!(echoed["title"], "Account Executive", "one person, one document");
    let response = app
        .send_json_as(LEARNING, Method::PUT, &format!("/Users/{id}"), &echoed)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(active_as(&app, SALESNAV, &id).await, true);
    assert_eq!(pool(&app, "Advanced Plus").await["used"], 1);
}

/// The person's own status, which a configuration without a product reads: active while
/// any product holds them active.
async fn the_person_is_inactive_only_when_no_product_holds_them_active(backend: Backend) {
    let app = acme(backend, "linkedin").await;
    let id = licensed_in_both(&app, "a@acme.com").await;
    patch_active(&app, LEARNING, &id, false).await;
    assert_eq!(active_as(&app, SYNC, &id).await, true);
    patch_active(&app, SALESNAV, &id, false).await;
    assert_eq!(active_as(&app, SYNC, &id).await, false);
    let inactive = app.get_ok_as(SYNC, "/Users?filter=active%20eq%20false").await;
    assert_eq!(inactive["totalResults"], 1);
    // Reactivated through one product: the person is active again, the other product
    // still reads its own deactivation.
    patch_active(&app, SALESNAV, &id, true).await;
    assert_eq!(active_as(&app, SYNC, &id).await, true);
    assert_eq!(active_as(&app, LEARNING, &id).await, false);
}

/// Lists through a product show that product's users; lookups (`userName eq`,
/// `externalId eq`, `id`) find the person whichever product provisioned them.
async fn lists_show_the_product_s_users_and_lookups_cross_products(backend: Backend) {
    let app = acme(backend, "linkedin").await;
    let seller = app.create_user_as(SALESNAV, &user_body("seller@acme.com")).await;
    let learner = app.create_user_as(LEARNING, &user_body("learner@acme.com")).await;
    app.create_user_as(SYNC, &user_body("synced@acme.com")).await;
    let ids = |page: &Value| -> Vec<Value> {
        page["Resources"]
            .as_array()
            .map(|rs| rs.iter().map(|r| r["id"].clone()).collect())
            .unwrap_or_default()
    };
    for list in [
        "/Users",
        "/Users?filter=userName%20sw%20%22%22",
        "/Users?startIndex=1&count=2",
    ] {
        let page = app.get_ok_as(LEARNING, list).await;
        assert_eq!(page["totalResults"], 1, "{list}");
        assert_eq!(ids(&page), vec![learner["id"].clone()], "{list}");
    }
    for lookup in [
        "/Users?filter=userName%20eq%20%22seller%40acme.com%22",
        "/Users?filter=externalId%20eq%20%22ext-seller%40acme.com%22",
    ] {
        let page = app.get_ok_as(LEARNING, lookup).await;
        assert_eq!(ids(&page), vec![seller["id"].clone()], "{lookup}");
    }
    let by_id = app.get_as(LEARNING, &format!("/Users/{}", id_of(&seller))).await;
    assert_eq!(by_id.status(), StatusCode::OK);
    // A configuration without a product sees every user of the account.
    let all = app.get_ok_as(SYNC, "/Users").await;
    assert_eq!(all["totalResults"], 3);
    // Once Learning writes the seller, she is Learning's too.
    patch_active(&app, LEARNING, &id_of(&seller), true).await;
    assert_eq!(app.get_ok_as(LEARNING, "/Users").await["totalResults"], 2);
}

/// A snapshot exported before per-product status has users without `products`: each
/// licensed product starts from the user's status, so Learning still lists its users.
async fn an_old_snapshot_restores_with_each_licensed_product_s_status(backend: Backend) {
    let app = acme(backend, "linkedin").await;
    let learner = app.create_user_as(LEARNING, &user_body("learner@acme.com")).await;
    let mut snapshot = app.admin_get_ok("/accounts/acme/snapshot?tokenHashes=true").await;
    let users = snapshot["tables"]["users"].as_array_mut().expect("users");
    for user in users.iter_mut() {
        assert_eq!(user["products"], json!({"learning": true}));
        user.as_object_mut().map(|u| u.remove("products"));
    }
    let response = app
        .admin(Method::PUT, "/accounts/acme/snapshot")
        .json(&snapshot)
        .send()
        .await
        .expect("restore");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let page = app.get_ok_as(LEARNING, "/Users").await;
    assert_eq!(page["Resources"][0]["id"], learner["id"]);
    let again = app.admin_get_ok("/accounts/acme/snapshot").await;
    assert_eq!(again["tables"]["users"][0]["products"], json!({"learning": true}));
}

backend_tests!(
    one_product_s_deactivation_is_invisible_to_the_other,
    an_echoed_put_through_one_product_never_changes_the_other,
    the_person_is_inactive_only_when_no_product_holds_them_active,
    lists_show_the_product_s_users_and_lookups_cross_products,
    an_old_snapshot_restores_with_each_licensed_product_s_status,
);
