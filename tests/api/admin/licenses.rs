//! `/admin/api/accounts/{account}/users/{user}/licenses`: activation (the user accepting
//! the license) and revocation under the admin lock.

use reqwest::{Method, StatusCode};

use crate::backend_tests;
use crate::helpers::acme::{SALESNAV, acme, pool};
use crate::helpers::{Backend, assert_scim_error, id_of, user_body};

async fn activation_is_an_admin_action_and_waiting_licenses_cannot_activate(backend: Backend) {
    let app = acme(backend, "linkedin").await;
    let a = app.create_user_as(SALESNAV, &user_body("a@acme.com")).await;
    let path = format!(
        "/accounts/acme/users/{}/licenses/sales_navigator/activate",
        id_of(&a)
    );
    assert_eq!(
        app.admin(Method::POST, &path)
            .send()
            .await
            .expect("request")
            .status(),
        StatusCode::NO_CONTENT
    );
    let licenses = app
        .admin_get_ok(&format!("/accounts/acme/users/{}/licenses", id_of(&a)))
        .await;
    assert_eq!(licenses[0]["state"], "activated");
    assert!(licenses[0]["activatedAt"].as_str().is_some());
    app.create_user_as(SALESNAV, &user_body("b@acme.com")).await;
    let c = app.create_user_as(SALESNAV, &user_body("c@acme.com")).await;
    let path = format!(
        "/accounts/acme/users/{}/licenses/sales_navigator/activate",
        id_of(&c)
    );
    let response = app.admin(Method::POST, &path).send().await.expect("request");
    assert_scim_error(response, StatusCode::CONFLICT, None).await;
    // The admin API needs its own token.
    let response = app
        .client
        .get(format!("{}/admin/api/accounts", app.address))
        .bearer_auth(SALESNAV)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

async fn admin_revocation_is_locked_under_linkedin_and_allowed_under_rfc(backend: Backend) {
    for (profile, expected) in [
        ("linkedin", StatusCode::FORBIDDEN),
        ("rfc", StatusCode::NO_CONTENT),
    ] {
        let app = acme(backend, profile).await;
        let a = app.create_user_as(SALESNAV, &user_body("a@acme.com")).await;
        let path = format!("/accounts/acme/users/{}/licenses/sales_navigator", id_of(&a));
        let response = app.admin(Method::DELETE, &path).send().await.expect("request");
        assert_eq!(response.status(), expected, "{profile}");
        let used = pool(&app, "Advanced Plus").await["used"].as_i64();
        assert_eq!(used, Some(if expected == StatusCode::NO_CONTENT { 0 } else { 1 }));
    }
}

backend_tests!(
    activation_is_an_admin_action_and_waiting_licenses_cannot_activate,
    admin_revocation_is_locked_under_linkedin_and_allowed_under_rfc,
);
