//! Guessing credentials (issue 26 item 4): wrong tokens, on SCIM, on the admin API and
//! at sign-in, share one small budget per client address; past it the address gets 429
//! with `Retry-After` (for every credential, the right one too, or guessing would go on
//! at full speed), while requests whose token is accepted cost nothing and other
//! addresses are not affected. A chosen `--admin-token` must be long and varied.

use std::net::{IpAddr, Ipv4Addr};

use reqwest::header::{COOKIE, LOCATION, RETRY_AFTER, SET_COOKIE};
use reqwest::{Method, StatusCode};

use crate::backend_tests;
use crate::helpers::process::ServerProcess;
use crate::helpers::{Backend, TestApp, TestDatabase, assert_scim_error, expect_json};

/// The wrong credentials an address may present before it must wait (src/http/throttle.rs).
const BUDGET: usize = 20;

/// A client that connects from `127.0.0.2`: another address on the loopback.
fn other_address() -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()[RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds")
}

async fn wrong_tokens_from_one_address_get_429_and_other_addresses_do_not(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Accepted tokens cost nothing, however many.
    for _ in 0..3 * BUDGET {
        assert_eq!(app.get("/Users?count=1").await.status(), StatusCode::OK);
    }
    // Tokens this server issued, at the wrong door or revoked, are mistakes, not guesses.
    let revoked = app.token.clone();
    let refreshed = expect_json(
        app.refresh_token("demo", "Demo").await,
        StatusCode::CREATED,
        "refresh",
    )
    .await;
    let token = refreshed["token"].as_str().expect("token").to_owned();
    for _ in 0..2 * BUDGET {
        assert_eq!(
            app.get_as(&revoked, "/Users").await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.get_as(&app.admin_token, "/Users").await.status(),
            StatusCode::UNAUTHORIZED
        );
        let scim_on_admin = app
            .client
            .get(format!("{}/admin/api/accounts", app.address))
            .bearer_auth(&token)
            .send()
            .await
            .expect("request");
        assert_eq!(scim_on_admin.status(), StatusCode::UNAUTHORIZED);
    }
    // Wrong tokens on SCIM and on the admin API draw on one budget; no token is no guess.
    for i in 0..BUDGET {
        let wrong = if i % 2 == 0 {
            app.get_as(&format!("guess-{i:04}-scim-token"), "/Users").await
        } else {
            app.client
                .get(format!("{}/admin/api/accounts", app.address))
                .bearer_auth(format!("guess-{i:04}-admin-token"))
                .send()
                .await
                .expect("request")
        };
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "guess {i}");
        assert_eq!(
            app.get_unauthenticated("/Users").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let refused = app.get_as("one-guess-too-many", "/Users").await;
    let wait = retry_after(&refused);
    assert!((1..=6).contains(&wait), "Retry-After: {wait}");
    let body = assert_scim_error(refused, StatusCode::TOO_MANY_REQUESTS, None).await;
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("too many wrong tokens"),
        "{body}"
    );
    // While it waits, this address is refused every credential: the right one too.
    assert_eq!(
        app.get_as(&token, "/Users").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let admin = app.admin(Method::GET, "/accounts").send().await.expect("request");
    assert_eq!(admin.status(), StatusCode::TOO_MANY_REQUESTS);

    // Another address is untouched: its right token works, a wrong one is a plain 401.
    let other = other_address();
    let ok = other
        .get(format!("{}/Users?count=1", app.base()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request from 127.0.0.2");
    assert_eq!(ok.status(), StatusCode::OK);
    let wrong = other
        .get(format!("{}/Users", app.base()))
        .bearer_auth("another-address-guess")
        .send()
        .await
        .expect("request");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}

async fn wrong_admin_tokens_at_sign_in_are_throttled(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sign_in = |client: reqwest::Client, token: String| {
        let origin = app.address.clone();
        async move {
            let form = client
                .get(format!("{origin}/admin/login"))
                .send()
                .await
                .expect("request");
            let cookie = form.headers()[SET_COOKIE]
                .to_str()
                .expect("cookie")
                .split(';')
                .next()
                .expect("pair")
                .to_owned();
            let csrf = crate::ui::csrf_of(&form.text().await.expect("html"));
            client
                .post(format!("{origin}/admin/login"))
                .header(COOKIE, cookie)
                .form(&[("token", token.as_str()), ("csrf", csrf.as_str())])
                .send()
                .await
                .expect("request")
        }
    };
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for i in 0..BUDGET {
        let wrong = sign_in(client.clone(), format!("wrong-admin-token-{i:04}")).await;
        assert_eq!(wrong.status(), StatusCode::FORBIDDEN, "guess {i}");
    }
    let refused = sign_in(client.clone(), "one-guess-too-many".to_owned()).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!((1..=6).contains(&retry_after(&refused)));
    let page = refused.text().await.expect("html");
    assert!(
        page.contains("too many wrong admin tokens from this address"),
        "{page}"
    );
    let right = sign_in(client, app.admin_token.clone()).await;
    assert_eq!(
        right.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "no session while refused"
    );
    assert!(
        right
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .all(|c| !c.to_str().unwrap_or_default().starts_with("lscim_session=")),
        "no session cookie"
    );
    let elsewhere = sign_in(other_address(), app.admin_token.clone()).await;
    assert_eq!(
        elsewhere.status(),
        StatusCode::SEE_OTHER,
        "another address signs in"
    );
    assert_eq!(elsewhere.headers()[LOCATION], "/admin/accounts");
}

/// `serve` refuses a short or repetitive `--admin-token` with a message that says what
/// to use, before it touches the database.
async fn a_weak_admin_token_is_refused_at_start(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    for (token, says) in [
        ("ci-admin-token", "14 characters is too short"),
        ("changemechangemechangemechangeme", "only 7 different characters"),
    ] {
        let output = ServerProcess::isolated()
            .args(["--database-url", &database.url, "--bind", "127.0.0.1:0"])
            .args(["--admin-token", token, "serve"])
            .output()
            .await
            .expect("run the binary");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("--admin-token"), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert!(stderr.contains("openssl rand -hex 24"), "{stderr}");
        assert!(!stderr.contains(token), "the token is not printed: {stderr}");
    }
    if let Some(path) = database.url.strip_prefix("sqlite://") {
        assert!(!std::path::Path::new(path).exists(), "no database was created");
    }
    let mut strong = ServerProcess::isolated();
    strong
        .args(["--database-url", &database.url, "--bind", "127.0.0.1:0"])
        .args([
            "--admin-token",
            "a-long-and-varied-admin-token-0123456789",
            "serve",
        ]);
    let server = ServerProcess::start(strong).await;
    assert!(
        server.origin.starts_with("http://127.0.0.1:"),
        "{}",
        server.origin
    );
}

backend_tests!(
    wrong_tokens_from_one_address_get_429_and_other_addresses_do_not,
    wrong_admin_tokens_at_sign_in_are_throttled,
    a_weak_admin_token_is_refused_at_start,
);
