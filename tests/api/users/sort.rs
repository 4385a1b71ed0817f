//! `sortBy` / `sortOrder` (RFC 7644 §3.4.2.3): multi-valued attributes sort by their
//! primary value, else their first; users without a value sort last ascending (first
//! descending); `id` breaks ties.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, ENTERPRISE_SCHEMA, TestApp, USER_SCHEMA};

async fn create(app: &TestApp, user_name: &str, extra: Value) -> String {
    let mut body = json!({"schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA], "userName": user_name});
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    app.create_user(&body).await["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

async fn sorted_user_names(app: &TestApp, query: &str) -> Vec<String> {
    let page = app.get_ok(&format!("/Users?{query}")).await;
    page["Resources"]
        .as_array()
        .unwrap_or_else(|| panic!("{query}: {page}"))
        .iter()
        .map(|r| r["userName"].as_str().expect("userName").to_owned())
        .collect()
}

async fn multi_valued_attributes_sort_by_primary_then_first_value(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // The primary email is the key, wherever it is in the list.
    create(
        &app,
        "primary-z",
        json!({"emails": [{"value": "b@x.io"}, {"value": "Z@x.io", "primary": true}]}),
    )
    .await;
    // No primary: the first email.
    create(
        &app,
        "first-c",
        json!({"emails": [{"value": "c@x.io"}, {"value": "a@x.io"}]}),
    )
    .await;
    // Case-insensitive (emails.value is caseExact=false), like filters.
    create(
        &app,
        "upper-a",
        json!({"emails": [{"value": "A@x.io", "type": "work"}]}),
    )
    .await;
    create(&app, "no-emails", json!({})).await;
    // A tie with first-c: id decides, so both orders list the two the same way.
    let tie = create(
        &app,
        "tie-c",
        json!({"emails": [{"value": "C@x.io", "primary": false}]}),
    )
    .await;
    let first_c: Value = app.list_users("userName eq \"first-c\"").await;
    let first_c = first_c["Resources"][0]["id"].as_str().expect("id").to_owned();
    let ties: Vec<String> = if first_c < tie {
        vec!["first-c".into(), "tie-c".into()]
    } else {
        vec!["tie-c".into(), "first-c".into()]
    };

    let mut ascending = vec!["upper-a".to_owned()];
    ascending.extend(ties.clone());
    ascending.extend(["primary-z".to_owned(), "no-emails".to_owned()]);
    for sort_by in ["emails.value", "emails", "EMAILS.Value"] {
        assert_eq!(
            sorted_user_names(&app, &format!("sortBy={sort_by}")).await,
            ascending,
            "{sort_by}"
        );
    }
    let mut descending = vec!["no-emails".to_owned(), "primary-z".to_owned()];
    descending.extend(ties);
    descending.push("upper-a".to_owned());
    assert_eq!(
        sorted_user_names(&app, "sortBy=emails&sortOrder=descending").await,
        descending
    );
    // Paging through the sorted list visits every user once, in order.
    let mut paged = Vec::new();
    for start in [1, 3, 5] {
        paged.extend(
            sorted_user_names(&app, &format!("sortBy=emails.value&startIndex={start}&count=2")).await,
        );
    }
    assert_eq!(paged, ascending);
}

async fn sub_attributes_extensions_and_booleans_sort(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create(
        &app,
        "u1",
        json!({"name": {"familyName": "b"}, "active": true, ENTERPRISE_SCHEMA: {"department": "Zeta"}}),
    )
    .await;
    create(&app, "u2", json!({"name": {"familyName": "A"}, "active": false})).await;
    create(
        &app,
        "u3",
        json!({"active": true, ENTERPRISE_SCHEMA: {"department": "alpha"}}),
    )
    .await;
    assert_eq!(
        sorted_user_names(&app, "sortBy=name.familyName").await,
        ["u2", "u1", "u3"]
    );
    assert_eq!(
        sorted_user_names(
            &app,
            &format!("sortBy={ENTERPRISE_SCHEMA}:department&sortOrder=descending")
        )
        .await,
        ["u2", "u1", "u3"]
    );
    // false before true; ties by id.
    let names = sorted_user_names(&app, "sortBy=active").await;
    assert_eq!(names[0], "u2");
    let unknown = app.get("/Users?sortBy=nosuch").await;
    assert_eq!(unknown.status(), reqwest::StatusCode::BAD_REQUEST);
    let complex = app.get("/Users?sortBy=name").await;
    assert_eq!(complex.status(), reqwest::StatusCode::BAD_REQUEST);
}

backend_tests!(
    multi_valued_attributes_sort_by_primary_then_first_value,
    sub_attributes_extensions_and_booleans_sort,
);
