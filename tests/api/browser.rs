//! The Account Center in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`, installed by `scripts/browser-setup.sh`), driven over WebDriver:
//! the setup guides' flow from login to a working token, then a token refresh (confirmed
//! first, shown once: a reload shows no token and mints none), the pages drawn under the
//! CSP, a framed Settings page refused, and sign-out (Back shows no cached page, a
//! replayed session cookie opens nothing). Saves
//! screenshots to `$LSCIM_SCREENSHOTS` (default `target/screenshots`; the README's come
//! from `LSCIM_SCREENSHOTS=docs/screenshots`).
//!
//! Without chromedriver the test is skipped with a loud message, except with `CI=true`,
//! where it fails.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, user_body};

/// chromedriver, stopped when the test ends.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find(binary: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| PathBuf::from(dir).join(binary))
        .find(|p| p.is_file())
}

/// Start chromedriver, or say why not (a failure under CI).
async fn driver() -> Option<Driver> {
    let (Some(chromedriver), Some(_)) = (find("chromedriver"), find("chromium")) else {
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!("CI=true but chromium or chromedriver is missing: run scripts/browser-setup.sh");
        }
        eprintln!(
            "\n*** SKIPPING the browser test: chromium or chromedriver is missing. Run scripts/browser-setup.sh (scripts/test.sh does). ***\n"
        );
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    let driver = Driver { child, url };
    for _ in 0..100 {
        if reqwest::get(format!("{}/status", driver.url)).await.is_ok() {
            return Some(driver);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not answer on {}", driver.url);
}

async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": find("chromium").expect("chromium"),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900", "--hide-scrollbars", "--lang=en-US"]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("WebDriver session")
}

fn screenshots() -> PathBuf {
    let dir = std::env::var_os("LSCIM_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots"));
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(screenshots().join(format!("{name}.png")), png).expect("write screenshot");
}

async fn fill(client: &Client, id: &str, text: &str) {
    let field = client.find(Locator::Id(id)).await.expect(id);
    field.clear().await.expect("clear");
    field.send_keys(text).await.expect("type");
}

async fn choose(client: &Client, id: &str, value: &str) {
    client
        .find(Locator::Id(id))
        .await
        .expect(id)
        .select_by_value(value)
        .await
        .expect("select");
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .expect(css)
        .click()
        .await
        .expect("click");
}

async fn value(client: &Client, id: &str) -> String {
    client
        .find(Locator::Id(id))
        .await
        .expect(id)
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default()
}

/// The page's visible text, read in one script call (no element to go stale while the
/// browser navigates); empty while no page is there.
async fn text(client: &Client) -> String {
    client
        .execute("return document.body ? document.body.innerText : '';", Vec::new())
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Wait (without reloading) until the page's main content shows `needle`.
async fn wait_for_text(client: &Client, needle: &str) -> String {
    for _ in 0..100 {
        let now = text(client).await;
        if now.contains(needle) {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never showed {needle:?}:\n{}", text(client).await);
}

/// Submit the sign-in form with `token`.
async fn sign_in(client: &Client, token: &str) {
    fill(client, "token", token).await;
    click(client, "form button[type=submit]").await;
}

async fn assert_on_login_page(client: &Client) {
    let url = client.current_url().await.expect("url");
    assert!(url.path().ends_with("/admin/login"), "{url}");
}

/// Add a license pool on the dashboard and wait for the page to confirm it.
async fn add_pool(client: &Client, instance: &str, license_type: &str, seats: u32) {
    choose(client, "pool-instance", instance).await;
    fill(client, "pool-license-type", license_type).await;
    fill(client, "pool-seats", &seats.to_string()).await;
    click(client, "form[action$='/pools'] button[type=submit]").await;
    wait_for_text(
        client,
        &format!("License pool \"{license_type}\" added with {seats} seats"),
    )
    .await;
}

/// A page on another origin (a free port of this host) whose iframe opens `target`.
async fn framing_page(target: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let origin = format!("http://{}", listener.local_addr().expect("address"));
    let page = format!(
        "<!doctype html><title>elsewhere</title><p>A page of another site</p>\
         <iframe src=\"{target}\" width=\"900\" height=\"600\"></iframe>"
    );
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || async move { axum::response::Html(page) }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    origin
}

/// The id of the user `user_name`, looked up over SCIM.
async fn users_id(app: &TestApp, token: &str, user_name: &str) -> String {
    let found = app
        .scim_as(token, Method::GET, "/Users")
        .query(&[("filter", format!("userName eq \"{user_name}\""))])
        .send()
        .await
        .expect("request");
    let found = crate::helpers::expect_json(found, StatusCode::OK, "lookup").await;
    found["Resources"][0]["id"].as_str().expect("id").to_owned()
}

async fn the_setup_guides_flow_works_in_a_browser(backend: Backend) {
    let Some(driver) = driver().await else { return };
    let app = TestApp::spawn(backend).await;
    let client = browser(&driver).await;
    let origin = &app.address;

    // Sign in with the admin token.
    client.goto(&format!("{origin}/admin")).await.expect("open");
    assert_on_login_page(&client).await;
    screenshot(&client, "login").await;
    sign_in(&client, "not-the-admin-token").await;
    wait_for_text(&client, "not this server's admin token").await;
    sign_in(&client, &app.admin_token).await;
    wait_for_text(&client, "Create account").await;

    // An account, an application instance and a pool.
    fill(&client, "account-name", "acme").await;
    choose(&client, "account-profile", "linkedin").await;
    click(&client, "form[action='/admin/accounts'] button[type=submit]").await;
    wait_for_text(&client, "Add application instance").await;
    choose(&client, "instance-product", "sales_navigator").await;
    fill(&client, "instance-name", "Acme Sales Navigator").await;
    click(&client, "form[action$='/instances'] button[type=submit]").await;
    wait_for_text(&client, "Application instance \"Acme Sales Navigator\" added").await;
    add_pool(&client, "Acme Sales Navigator", "Advanced Plus", 5).await;
    add_pool(&client, "Acme Sales Navigator", "TeamLink Extend", 2).await;

    // Settings → SCIM → + Add new SCIM configuration → Generate token.
    click(&client, "nav.tabs a[href$='/settings']").await;
    wait_for_text(&client, "SCIM Setup").await;
    click(&client, "details.add-config > summary").await;
    fill(&client, "config-name", "Entra ID").await;
    let toggle = client.find(Locator::Id("auto-assign")).await.expect("toggle");
    assert_eq!(
        toggle.prop("checked").await.expect("checked").as_deref(),
        Some("true")
    );
    choose(&client, "config-instance", "Acme Sales Navigator").await;
    choose(&client, "config-license-type", "Advanced Plus").await;
    click(&client, "#generate-token").await;
    let page = wait_for_text(&client, "Save your access token").await;
    assert!(page.contains("It is shown only once"), "{page}");
    let token = value(&client, "access-token").await;
    let tenant_url = value(&client, "tenant-url").await;
    assert!(token.len() > 20, "{token}");
    assert_eq!(tenant_url, format!("{origin}/scim/v2"));
    screenshot(&client, "scim-setup").await;

    // The IdP uses the token: Entra's connection test, then a user.
    let scim = |token: &str, method: Method, path: &str| {
        app.client
            .request(method, format!("{tenant_url}{path}"))
            .bearer_auth(token)
            .header("content-type", "application/scim+json")
    };
    let probe = scim(
        &token,
        Method::GET,
        "/Users?filter=userName%20eq%20%22probe%40acme.com%22",
    )
    .send()
    .await
    .expect("request");
    assert_eq!(probe.status(), StatusCode::OK);
    let created = scim(&token, Method::POST, "/Users")
        .body(user_body("ann@acme.com").to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(created.status(), StatusCode::CREATED);

    // The user holds a seat; the request is in the activity log.
    click(&client, "nav.tabs a[href$='/users']").await;
    let users = wait_for_text(&client, "ann@acme.com").await;
    assert!(
        users.contains("Advanced Plus") && users.contains("assigned"),
        "{users}"
    );
    screenshot(&client, "users").await;
    click(&client, "nav.tabs a[href$='/activity']").await;
    let log = wait_for_text(&client, "POST /scim/v2/Users").await;
    assert!(log.contains("Entra ID") && log.contains("201"), "{log}");
    // A new request appears without a reload.
    let second = scim(&token, Method::POST, "/Users")
        .body(user_body("bo@acme.com").to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(second.status(), StatusCode::CREATED);
    let denied = scim(&token, Method::POST, "/Users")
        .body(json!({"schemas": [crate::helpers::USER_SCHEMA]}).to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(denied.status(), StatusCode::BAD_REQUEST);
    wait_for_text(&client, "400").await;
    screenshot(&client, "activity").await;

    // A group from the IdP, and a member added directly in the Account Center.
    let ann_id = users_id(&app, &token, "ann@acme.com").await;
    let group = scim(&token, Method::POST, "/Groups")
        .body(crate::helpers::group_with("Sales EMEA", &[ann_id]).to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(group.status(), StatusCode::CREATED);
    click(&client, "nav.tabs a[href$='/groups']").await;
    wait_for_text(&client, "Sales EMEA").await;
    let member_select = client
        .find(Locator::Css("form[action$='/members'] select"))
        .await
        .expect("select");
    member_select
        .select_by_label("bo@acme.com")
        .await
        .expect("choose bo");
    click(&client, "form[action$='/members'] button[type=submit]").await;
    let groups = wait_for_text(&client, "Member added directly").await;
    assert!(
        groups.contains("From the IdP") && groups.contains("Added directly"),
        "{groups}"
    );
    screenshot(&client, "groups").await;

    click(&client, "nav.tabs a[href='/admin/accounts/acme']").await;
    let dashboard = wait_for_text(&client, "Advanced Plus").await;
    assert!(
        dashboard.contains("Assigned 2") && dashboard.contains("Free 3 of 5"),
        "{dashboard}"
    );
    assert!(
        dashboard.contains("Free 2 of 2"),
        "TeamLink Extend is untouched: {dashboard}"
    );
    screenshot(&client, "dashboard").await;

    // Refresh the token: asked first (asking rotates nothing), then the old one gets 401
    // at once and the new one, shown once, works; a reload shows it no more and mints none.
    click(&client, "nav.tabs a[href$='/settings']").await;
    wait_for_text(&client, "Refresh token").await;
    click(&client, "a[href$='/configurations/Entra%20ID/token']").await;
    wait_for_text(&client, "The current token stops working at once.").await;
    screenshot(&client, "refresh-confirm").await;
    let still = scim(&token, Method::GET, "/Users?count=1")
        .send()
        .await
        .expect("request");
    assert_eq!(still.status(), StatusCode::OK, "the confirmation rotates nothing");
    click(&client, "#confirm-refresh").await;
    wait_for_text(&client, "the old one no longer works").await;
    let refreshed = value(&client, "access-token").await;
    assert_ne!(refreshed, token);
    client.refresh().await.expect("reload");
    let reloaded = wait_for_text(&client, "Global Settings").await;
    assert!(!reloaded.contains("Save your access token"), "{reloaded}");
    assert!(
        client.find(Locator::Id("access-token")).await.is_err(),
        "a reload shows no token"
    );
    let old = scim(&token, Method::GET, "/Users/x")
        .send()
        .await
        .expect("request");
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let new = scim(
        &refreshed,
        Method::GET,
        "/Users?filter=userName%20eq%20%22ann%40acme.com%22",
    )
    .send()
    .await
    .expect("request");
    assert_eq!(new.status(), StatusCode::OK);

    // Narrow screens: the settings page still reads.
    client.set_window_size(390, 900).await.expect("resize");
    client
        .goto(&format!("{origin}/admin/accounts/acme/settings"))
        .await
        .expect("open");
    wait_for_text(&client, "SCIM Setup").await;
    screenshot(&client, "scim-setup-narrow").await;

    // Under the CSP the stylesheet and the seat bars (SVG, no inline style) still draw.
    client.set_window_size(1280, 900).await.expect("resize");
    client
        .goto(&format!("{origin}/admin/accounts/acme"))
        .await
        .expect("open");
    wait_for_text(&client, "Free 3 of 5").await;
    let drawn = client
        .execute(
            "const bar = document.querySelector('rect.seg.assigned');\
             return [bar.getBoundingClientRect().width, getComputedStyle(bar).fill];",
            Vec::new(),
        )
        .await
        .expect("script");
    assert!(drawn[0].as_f64().is_some_and(|w| w > 10.0), "{drawn}");
    assert_eq!(drawn[1], "rgb(112, 181, 249)", "the stylesheet applies: {drawn}");

    // A page on another origin (another port of this host) that frames Settings shows
    // nothing of it: no button to click through the frame.
    let framing = framing_page(format!("{origin}/admin/accounts/acme/settings")).await;
    client.goto(&framing).await.expect("open");
    wait_for_text(&client, "A page of another site").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    client.enter_frame(0).await.expect("the frame");
    let framed = text(&client).await;
    assert!(
        !framed.contains("SCIM Setup") && !framed.contains("Refresh token"),
        "the framed Settings page showed: {framed}"
    );
    client.enter_parent_frame().await.expect("back to the page");
    screenshot(&client, "framed-settings-refused").await;

    // Sign out: the pages need a new login; Back shows no cached users page, and the
    // session cookie, put back as an attacker who copied it would, opens nothing.
    client
        .goto(&format!("{origin}/admin/accounts/acme/users"))
        .await
        .expect("open");
    wait_for_text(&client, "ann@acme.com").await;
    let copied = client
        .get_named_cookie("lscim_session")
        .await
        .expect("the session cookie");
    click(&client, "form.logout button").await;
    wait_for_text(&client, "Sign in with the admin token").await;
    client.back().await.expect("back");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let back = wait_for_text(&client, "Sign in with the admin token").await;
    assert!(
        !back.contains("ann@acme.com"),
        "Back showed the users page: {back}"
    );
    assert_on_login_page(&client).await;
    client.add_cookie(copied).await.expect("replay the cookie");
    client
        .goto(&format!("{origin}/admin/accounts/acme/users"))
        .await
        .expect("open");
    assert_on_login_page(&client).await;
    let replayed = wait_for_text(&client, "Sign in with the admin token").await;
    assert!(!replayed.contains("ann@acme.com"), "{replayed}");
    client
        .goto(&format!("{origin}/admin/accounts/acme"))
        .await
        .expect("open");
    assert_on_login_page(&client).await;
    // The SCIM side never accepted the admin token.
    let admin_on_scim = app
        .scim_as(&app.admin_token, Method::GET, "/Users")
        .send()
        .await
        .expect("request");
    assert_eq!(admin_on_scim.status(), StatusCode::UNAUTHORIZED);
    client.close().await.expect("close");
}

backend_tests!(the_setup_guides_flow_works_in_a_browser);
