//! `POST /admin/api/accounts/{account}/journal/expect` as an oracle that cannot lie:
//! every request of the range examined (or a failure saying it could not be), queries
//! matched as the client meant them, and faulted or unanswered requests journaled with
//! their bodies and their real outcome.

use std::time::Duration;

use linkedin_scim::activity::ActivityRecord;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, user_body};

/// `expect` on the demo account.
async fn expect(app: &TestApp, pattern: Value) -> (StatusCode, Value) {
    super::journal::expect(app, "demo", pattern).await
}

/// A fault on the demo configuration.
async fn set_fault(app: &TestApp, fault: Value) {
    let mut fault = fault;
    fault["configuration"] = json!("Demo");
    super::faults::set_fault_in(app, "demo", fault).await;
}

/// Create a user, as a client that gives up after `patience`.
async fn post_user(app: &TestApp, user_name: &str, patience: Duration) -> reqwest::Result<reqwest::Response> {
    app.scim(Method::POST, "/Users")
        .header("content-type", "application/scim+json")
        .timeout(patience)
        .body(user_body(user_name).to_string())
        .send()
        .await
}

/// Records as the journal writer stores them, straight into the app's database: a
/// 10,000-request sync through HTTP would take minutes on the 2-core CI machine.
async fn journal_directly(app: &TestApp, records: impl Iterator<Item = (&'static str, u16)>) {
    let store = linkedin_scim::store::connect(&app.database_url)
        .await
        .expect("store");
    let account = store
        .account_by_name("demo")
        .await
        .expect("account")
        .expect("demo");
    let records: Vec<ActivityRecord> = records
        .map(|(method, status)| ActivityRecord {
            account_id: account.id.to_string(),
            at: 1,
            method: method.into(),
            path: "/scim/v2/Users".into(),
            status,
            ..ActivityRecord::default()
        })
        .collect();
    for chunk in records.chunks(2000) {
        store.record_activity(chunk).await.expect("insert");
    }
}

async fn expect_examines_every_request_past_ten_thousand(backend: Backend) {
    // The default settings: the cap an assertion runs under by default is exercised.
    let app = TestApp::spawn(backend).await;
    // The oldest request is a DELETE, then 10,200 creates: a window of the newest
    // 10,000 saw neither the DELETE nor 200 of the creates.
    journal_directly(
        &app,
        std::iter::once(("DELETE", 204)).chain(std::iter::repeat_n(("POST", 201), 10_200)),
    )
    .await;
    app.create_user(&user_body("last@acme.com")).await;

    let (status, body) = expect(&app, json!({"method": "POST", "exactly": 10_201})).await;
    assert_eq!(status, StatusCode::OK, "{}", body["detail"]);
    assert_eq!(body["matched"], 10_201);
    assert_eq!(body["examined"], 10_202);
    assert_eq!(body["complete"], true);
    assert_eq!(body["requests"].as_array().map(Vec::len), Some(50));
    let through = body["range"]["throughId"].as_i64().expect("throughId");
    assert_eq!(body["range"]["sinceId"], Value::Null);

    let (status, body) = expect(&app, json!({"method": "DELETE", "none": true})).await;
    assert_eq!(status, StatusCode::EXPECTATION_FAILED, "{body}");
    assert_eq!(body["matched"], 1);
    assert_eq!(body["examined"], 10_202);

    // A range from sinceId: the records after it, through the newest.
    let (status, body) = expect(
        &app,
        json!({"method": "POST", "sinceId": through - 3, "exactly": 3}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["examined"], 3);
    assert_eq!(
        body["range"],
        json!({"sinceId": through - 3, "throughId": through})
    );
}

async fn a_range_longer_than_the_cap_fails_saying_so(backend: Backend) {
    let app = TestApp::builder(backend)
        .settings(|s| s.journal_expect_max_records = 5)
        .spawn()
        .await;
    journal_directly(&app, std::iter::repeat_n(("POST", 201), 5)).await;
    // Exactly the cap: examined to its end.
    let (status, body) = expect(&app, json!({"method": "POST", "exactly": 5})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["complete"], true);
    let through = body["range"]["throughId"].as_i64().expect("throughId");

    journal_directly(&app, std::iter::once(("GET", 200))).await;
    // One more than the cap: no verdict, whatever matched among the five examined.
    let (status, body) = expect(&app, json!({"method": "POST", "atLeast": 1})).await;
    assert_eq!(status, StatusCode::EXPECTATION_FAILED, "{body}");
    assert_eq!(body["satisfied"], false);
    assert_eq!(body["complete"], false);
    assert_eq!(body["examined"], 5);
    assert_eq!(body["matched"], 5);
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("more than the 5 requests") && detail.contains("sinceId"),
        "{detail}"
    );

    let (status, body) = expect(&app, json!({"method": "GET", "sinceId": through, "exactly": 1})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["examined"], 1);
}

async fn an_empty_journal_is_an_empty_range(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = expect(&app, json!({"none": true})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["examined"], 0);
    assert_eq!(body["range"]["throughId"], Value::Null);
    let (status, body) = expect(&app, json!({"method": "GET"})).await;
    assert_eq!(status, StatusCode::EXPECTATION_FAILED, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("no requests in range")),
        "{body}"
    );
}

async fn query_patterns_match_what_the_client_meant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Encoded the way Python's urlencode and curl's --data-urlencode do it.
    for query in [
        "filter=userName+eq+%22x%40acme.com%22",
        "filter=userName%20eq%20%22y%40acme.com%22&count=1",
    ] {
        let response = app
            .scim(Method::GET, &format!("/Users?{query}"))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK);
    }
    let matched = |path: &'static str| {
        let app = &app;
        async move {
            let (_, body) = expect(app, json!({"method": "GET", "path": path})).await;
            body["matched"].clone()
        }
    };
    assert_eq!(
        matched(r#"/scim/v2/Users?filter=userName eq "x@acme.com""#).await,
        1
    );
    // Spacing, operator case and quoting are the parsed filter's, not the text's.
    assert_eq!(
        matched(r#"/scim/v2/Users?filter=userName   EQ "x@acme.com""#).await,
        1
    );
    assert_eq!(
        matched(r#"/scim/v2/Users?filter=userName eq "y@acme.com"&count=1"#).await,
        1
    );
    assert_eq!(matched(r#"/scim/v2/Users?filter=userName eq "x*""#).await, 1);
    assert_eq!(matched("/scim/v2/Users?filter=*").await, 2);
    assert_eq!(
        matched(r#"/scim/v2/Users?filter=userName eq "z@acme.com""#).await,
        0
    );
    let (_, body) = expect(
        &app,
        json!({"pathRegex": r#"filter=userName eq "y@"#, "exactly": 1}),
    )
    .await;
    assert_eq!(body["satisfied"], true, "{body}");
    // A near miss shows the decoded path.
    let (_, body) = expect(
        &app,
        json!({"path": r#"/scim/v2/Users?filter=userName eq "z@acme.com""#}),
    )
    .await;
    let miss = body["closest"][0]["mismatches"][0].as_str().unwrap_or_default();
    assert!(miss.contains(r#"filter=userName eq "y@acme.com""#), "{body}");
}

async fn a_faulted_request_keeps_its_body_and_the_retry_can_be_compared(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    set_fault(
        &app,
        json!({"kind": "error", "status": 503, "method": "POST", "count": 1}),
    )
    .await;
    let post = || post_user(&app, "retried@acme.com", Duration::from_secs(10));
    assert_eq!(
        post().await.expect("request").status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(post().await.expect("request").status(), StatusCode::CREATED);

    // "The connector re-sent the same body after a 503."
    let pattern = |status: u16| {
        json!({"method": "POST", "path": "/scim/v2/Users", "status": status,
               "bodyJson": {"userName": "retried@acme.com"}, "exactly": 1})
    };
    let (status, first) = expect(&app, pattern(503)).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["requests"][0]["injected"], "error 503");
    let (status, retry) = expect(&app, pattern(201)).await;
    assert_eq!(status, StatusCode::OK, "{retry}");
    assert_eq!(
        first["requests"][0]["requestBody"], retry["requests"][0]["requestBody"],
        "the two attempts' bodies"
    );
}

async fn a_dropped_connection_is_journaled_as_dropped(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    set_fault(&app, json!({"kind": "drop", "count": 1})).await;
    let sent = post_user(&app, "dropped@acme.com", Duration::from_secs(10)).await;
    assert!(sent.is_err(), "a dropped connection answered: {sent:?}");
    let (status, body) = expect(
        &app,
        json!({"method": "POST", "status": 0, "bodyJson": {"userName": "dropped@acme.com"}, "exactly": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let record = &body["requests"][0];
    assert_eq!(record["injected"], "dropped connection");
    assert!(
        record["outcome"]
            .as_str()
            .is_some_and(|o| o.contains("closed without an answer")),
        "{record}"
    );
    let (status, _) = expect(&app, json!({"status": 200})).await;
    assert_eq!(status, StatusCode::EXPECTATION_FAILED);
}

async fn a_client_that_gives_up_is_journaled_without_an_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    set_fault(&app, json!({"kind": "latency", "millis": 2000, "count": 1})).await;
    let sent = post_user(&app, "impatient@acme.com", Duration::from_millis(300)).await;
    assert!(sent.is_err(), "the request did not time out: {sent:?}");
    // The server notices the closed connection when it next reads it: wait for it.
    let mut body = Value::Null;
    for _ in 0..50 {
        let (status, answer) = expect(
            &app,
            json!({"method": "POST", "status": 0, "bodyJson": {"userName": "impatient@acme.com"}}),
        )
        .await;
        body = answer;
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(body["satisfied"], true, "{body}");
    let record = &body["requests"][0];
    assert_eq!(record["injected"], "latency 2000 ms");
    assert!(
        record["outcome"]
            .as_str()
            .is_some_and(|o| o.contains("client closed the connection")),
        "{record}"
    );
    // The request never reached the handler: nobody was created.
    let list = app.list_users(r#"userName eq "impatient@acme.com""#).await;
    assert_eq!(list["totalResults"], 0);
}

async fn a_request_past_its_deadline_is_journaled_as_timed_out(backend: Backend) {
    let app = TestApp::builder(backend)
        .settings(|s| s.request_timeout_secs = 1)
        .spawn()
        .await;
    set_fault(&app, json!({"kind": "latency", "millis": 1500, "count": 1})).await;
    let response = post_user(&app, "late@acme.com", Duration::from_secs(10))
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let (status, body) = expect(
        &app,
        json!({"method": "POST", "status": 503, "bodyJson": {"userName": "late@acme.com"}, "exactly": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["requests"][0]["outcome"]
            .as_str()
            .is_some_and(|o| o.starts_with("timed out")),
        "{body}"
    );
}

/// Another connection holding the journal's table, as a long transaction would: the
/// journal's writer waits on Postgres and gives up at the busy timeout on SQLite.
enum Hold {
    Postgres(sqlx::PgConnection),
    Sqlite(sqlx::SqliteConnection),
}

impl Hold {
    async fn take(backend: Backend, url: &str) -> Hold {
        use sqlx::Connection;
        match backend {
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
                sqlx::raw_sql("begin; lock table activity in exclusive mode")
                    .execute(&mut conn)
                    .await
                    .expect("lock");
                Hold::Postgres(conn)
            }
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
                sqlx::raw_sql("begin immediate")
                    .execute(&mut conn)
                    .await
                    .expect("lock");
                Hold::Sqlite(conn)
            }
        }
    }

    async fn release(self) {
        match self {
            Hold::Postgres(mut conn) => sqlx::raw_sql("commit").execute(&mut conn).await.map(drop),
            Hold::Sqlite(mut conn) => sqlx::raw_sql("commit").execute(&mut conn).await.map(drop),
        }
        .expect("release");
    }
}

async fn requests_that_never_reached_the_journal_leave_no_verdict(backend: Backend) {
    let start = chrono::DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")
        .expect("valid")
        .to_utc();
    let clock = std::sync::Arc::new(linkedin_scim::clock::ManualClock::new(start));
    let app = TestApp::builder(backend)
        .clock(clock.clone())
        .settings(|s| s.journal_queue_capacity = 1)
        .database_acquire_timeout_ms(300)
        .spawn()
        .await;
    let hold = Hold::take(backend, &app.database_url).await;
    // The writer takes what arrives within its 5 ms linger, then waits on the table;
    // one more is queued and the rest overflow the queue of one.
    for _ in 0..20 {
        assert_eq!(
            app.get("/Users/no-such-user").await.status(),
            StatusCode::NOT_FOUND
        );
    }
    hold.release().await;
    // Written (or refused) before the clock moves: a journal read flushes the writer.
    app.admin_get_ok("/accounts/demo/journal?limit=1").await;
    clock.advance(chrono::Duration::hours(1));
    assert_eq!(
        app.get("/Users/nor-this-one").await.status(),
        StatusCode::NOT_FOUND
    );

    let (status, body) = expect(&app, json!({"status": 404, "atLeast": 1})).await;
    assert_eq!(status, StatusCode::EXPECTATION_FAILED, "{body}");
    assert_eq!(body["complete"], false);
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("never reached the journal") && detail.contains("2027-01-01T00:00:00"),
        "{detail}"
    );
    // A range that starts after the losses is whole again.
    let (status, body) = expect(
        &app,
        json!({"status": 404, "since": "2027-01-01T01:00:00Z", "exactly": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["complete"], true);
}

backend_tests!(
    requests_that_never_reached_the_journal_leave_no_verdict,
    a_request_past_its_deadline_is_journaled_as_timed_out,
    expect_examines_every_request_past_ten_thousand,
    a_range_longer_than_the_cap_fails_saying_so,
    an_empty_journal_is_an_empty_range,
    query_patterns_match_what_the_client_meant,
    a_faulted_request_keeps_its_body_and_the_retry_can_be_compared,
    a_dropped_connection_is_journaled_as_dropped,
    a_client_that_gives_up_is_journaled_without_an_answer,
);
