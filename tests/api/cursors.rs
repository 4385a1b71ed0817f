//! Cursor paging (RFC 9865): `cursor` / `nextCursor` / `previousCursor` on list and
//! `.search`, stable under concurrent inserts, advertised in discovery, and opaque
//! cursors that refuse edits with 400 `invalidCursor`.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, assert_scim_error, id_of, user_body};

const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

fn ids(page: &Value) -> Vec<String> {
    page["Resources"]
        .as_array()
        .map(|r| r.iter().map(id_of).collect())
        .unwrap_or_default()
}

/// A cursor-paged list of users (cursors are hex: no escaping needed).
fn query(cursor: &str, count: u32) -> String {
    format!("/Users?count={count}&cursor={cursor}")
}

/// Pages through every user while other users are being created: each user that
/// existed before appears exactly once, in creation order; nothing appears twice.
async fn cursor_pages_are_stable_under_concurrent_inserts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut existing = Vec::new();
    for i in 0..9 {
        existing.push(id_of(
            &app.create_user(&user_body(&format!("u{i}@acme.com"))).await,
        ));
    }
    let inserter = {
        let (address, token) = (app.address.clone(), app.token.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0..12 {
                let response = client
                    .post(format!("{address}/scim/v2/Users"))
                    .bearer_auth(&token)
                    .json(&user_body(&format!("new{i}@acme.com")))
                    .send()
                    .await
                    .expect("insert");
                assert_eq!(response.status(), StatusCode::CREATED);
            }
        })
    };
    let mut seen = Vec::new();
    let mut cursor = String::new();
    let mut pages = Vec::new();
    loop {
        let page = app.get_ok(&query(&cursor, 2)).await;
        assert!(page.get("startIndex").is_none(), "{page}");
        assert!(page["itemsPerPage"].as_u64().is_some_and(|n| n <= 2));
        seen.extend(ids(&page));
        pages.push(page.clone());
        match page["nextCursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    inserter.await.expect("inserter");
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no duplicates: {seen:?}");
    let pre_existing: Vec<&String> = seen.iter().filter(|id| existing.contains(id)).collect();
    assert_eq!(
        pre_existing,
        existing.iter().collect::<Vec<_>>(),
        "no gaps, creation order"
    );
    assert!(
        pages[0].get("previousCursor").is_none(),
        "the first page has none"
    );

    // previousCursor leads back to the page before.
    let second = &pages[1];
    let back = app
        .get_ok(&query(
            second["previousCursor"].as_str().expect("previousCursor"),
            2,
        ))
        .await;
    assert_eq!(ids(&back), ids(&pages[0]));
    assert!(back.get("previousCursor").is_none(), "{back}");
    assert!(back["nextCursor"].is_string());
    // The same paging through POST /Users/.search, with a filter.
    let search = |cursor: &str| json!({"schemas": [SEARCH_REQUEST], "filter": "userName sw \"u\"", "count": 5, "cursor": cursor});
    let first = app.post("/Users/.search", &search("")).await;
    let first: Value = first.json().await.expect("json");
    assert_eq!(ids(&first), existing[..5].to_vec());
    let next = first["nextCursor"].as_str().expect("nextCursor");
    let rest: Value = app
        .post("/Users/.search", &search(next))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(ids(&rest), existing[5..].to_vec());
    assert!(rest.get("nextCursor").is_none(), "{rest}");
    assert_eq!(rest["totalResults"], 9);
}

async fn invalid_cursors_are_400_invalid_cursor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for i in 0..3 {
        app.create_user(&user_body(&format!("u{i}@acme.com"))).await;
    }
    let first = app.get_ok(&query("", 1)).await;
    let next = first["nextCursor"].as_str().expect("nextCursor").to_owned();
    let mut edited = next.clone().into_bytes();
    edited[0] = if edited[0] == b'6' { b'7' } else { b'6' };
    let edited = String::from_utf8(edited).expect("ascii");
    for bad in [edited.as_str(), "garbage", &next[..next.len() - 1]] {
        let response = app.get(&query(bad, 1)).await;
        assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidCursor")).await;
    }
    // A cursor belongs to its query: another filter refuses it.
    let other = app
        .get(&format!("/Users?count=1&filter=userName%20pr&cursor={next}"))
        .await;
    assert_scim_error(other, StatusCode::BAD_REQUEST, Some("invalidCursor")).await;
    // Index and cursor paging do not mix; the root search pages by index only.
    let mixed = app.get(&format!("/Users?startIndex=2&cursor={next}")).await;
    assert_scim_error(mixed, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    let root = app
        .send_json_as(
            &app.token,
            Method::POST,
            "/.search",
            &json!({"schemas": [SEARCH_REQUEST], "cursor": ""}),
        )
        .await;
    assert_scim_error(root, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
}

async fn cursor_paging_is_advertised(backend: Backend) {
    let app = TestApp::builder(backend).max_page_size(50).spawn().await;
    let spc = app.get_ok("/ServiceProviderConfig").await;
    assert_eq!(
        spc["pagination"],
        json!({"cursor": true, "index": true, "defaultPaginationMethod": "index",
               "defaultPageSize": 50, "maxPageSize": 50})
    );
}

/// Under a clock that stands still every user has the same `created`: the insertion
/// sequence, not the random id, orders them. So the rule holds every time: a user
/// created during a forward walk is met on a later page of it (and in creation order),
/// one created during a backward walk never is; nothing repeats or goes missing.
async fn under_a_standing_clock_a_user_created_mid_walk_is_seen_by_rule(backend: Backend) {
    let start = chrono::DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")
        .expect("valid")
        .to_utc();
    let clock = std::sync::Arc::new(linkedin_scim::clock::ManualClock::new(start));
    let app = TestApp::builder(backend).clock(clock).spawn().await;
    let mut created = Vec::new();
    for i in 0..10 {
        created.push(id_of(
            &app.create_user(&user_body(&format!("u{i}@acme.com"))).await,
        ));
    }
    // Forward: one user created after each page.
    let (mut seen, mut cursor, mut pages) = (Vec::new(), String::new(), Vec::new());
    loop {
        let page = app.get_ok(&query(&cursor, 2)).await;
        seen.extend(ids(&page));
        pages.push(page.clone());
        let Some(next) = page["nextCursor"].as_str() else {
            break;
        };
        cursor = next.to_owned();
        let n = created.len();
        created.push(id_of(
            &app.create_user(&user_body(&format!("mid{n}@acme.com"))).await,
        ));
    }
    assert_eq!(seen, created, "every user once, in creation order");

    // Backward from the last page: a user created meanwhile sorts after the walk's start.
    let mut back = Vec::new();
    let mut page = pages.last().cloned().expect("a page");
    while let Some(previous) = page["previousCursor"].as_str().map(str::to_owned) {
        app.create_user(&user_body(&format!("late{}@acme.com", back.len())))
            .await;
        page = app.get_ok(&query(&previous, 2)).await;
        back.splice(0..0, ids(&page));
    }
    let last = ids(pages.last().expect("a page"));
    back.extend(last);
    assert_eq!(back, seen, "the backward walk meets none of the late users");
}

backend_tests!(
    under_a_standing_clock_a_user_created_mid_walk_is_seen_by_rule,
    cursor_pages_are_stable_under_concurrent_inserts,
    invalid_cursors_are_400_invalid_cursor,
    cursor_paging_is_advertised,
);
