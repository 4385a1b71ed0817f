//! The web UI over plain HTTP (the browser test drives the happy path in Chromium):
//! session cookie attributes, CSRF on every form, no action without a session, and the
//! forms the browser flow does not touch.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, expect_json, user_body};

/// A browser without JavaScript: follows no redirect, keeps the session cookie.
struct Visitor {
    client: reqwest::Client,
    origin: String,
    cookie: String,
}

fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
    html[start..].split('"').next().expect("token").to_owned()
}

/// The `name=value` of the `Set-Cookie` for `name`, asserting its attributes.
fn cookie(response: &reqwest::Response, name: &str) -> String {
    let header = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .to_owned();
    assert!(header.contains("HttpOnly"), "{header}");
    assert!(header.contains("SameSite=Strict"), "{header}");
    assert!(header.contains("Path=/admin"), "{header}");
    header.split(';').next().expect("pair").to_owned()
}

impl Visitor {
    async fn sign_in(app: &TestApp) -> Visitor {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let origin = app.address.clone();
        let form = client
            .get(format!("{origin}/admin/login"))
            .send()
            .await
            .expect("request");
        let login_cookie = cookie(&form, "lscim_login");
        let csrf = csrf_of(&form.text().await.expect("html"));
        let wrong = client
            .post(format!("{origin}/admin/login"))
            .header(COOKIE, &login_cookie)
            .form(&[("token", app.token.as_str()), ("csrf", csrf.as_str())])
            .send()
            .await
            .expect("request");
        assert_eq!(wrong.status(), StatusCode::SEE_OTHER);
        assert!(
            wrong.headers()[LOCATION]
                .to_str()
                .expect("location")
                .contains("error="),
            "a SCIM token is not the admin token"
        );
        let signed_in = client
            .post(format!("{origin}/admin/login"))
            .header(COOKIE, &login_cookie)
            .form(&[("token", app.admin_token.as_str()), ("csrf", csrf.as_str())])
            .send()
            .await
            .expect("request");
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
        assert_eq!(signed_in.headers()[LOCATION], "/admin/accounts");
        let cookie = cookie(&signed_in, "lscim_session");
        Visitor {
            client,
            origin,
            cookie,
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.origin))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .expect("request")
    }

    async fn csrf(&self, path: &str) -> String {
        csrf_of(&self.get(path).await.text().await.expect("html"))
    }

    /// Submit a form; the redirect's target.
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let response = self
            .client
            .post(format!("{}{path}", self.origin))
            .header(COOKIE, &self.cookie)
            .form(form)
            .send()
            .await
            .expect("request");
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (response.status(), location)
    }
}

async fn forms_need_the_session_and_its_csrf_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // No session: the pages and the forms send the visitor to the login page.
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = anonymous
        .get(format!("{}/admin/accounts/demo", app.address))
        .send()
        .await
        .expect("request");
    assert_eq!(
        (page.status(), page.headers()[LOCATION].to_str().ok()),
        (StatusCode::SEE_OTHER, Some("/admin/login"))
    );
    let post = anonymous
        .post(format!("{}/admin/accounts", app.address))
        .form(&[("name", "sneaky"), ("profile", "rfc"), ("csrf", "x")])
        .send()
        .await
        .expect("request");
    assert_eq!(post.status(), StatusCode::SEE_OTHER);

    let visitor = Visitor::sign_in(&app).await;
    let forged = visitor
        .post(
            "/admin/accounts",
            &[("name", "forged"), ("profile", "rfc"), ("csrf", "guess")],
        )
        .await;
    assert_eq!(forged.0, StatusCode::FORBIDDEN);
    let names = expect_json(
        app.admin(Method::GET, "/accounts").send().await.expect("request"),
        StatusCode::OK,
        "accounts",
    )
    .await;
    assert_eq!(
        names.as_array().map(Vec::len),
        Some(1),
        "nothing was created: {names}"
    );

    let csrf = visitor.csrf("/admin/accounts").await;
    let made = visitor
        .post(
            "/admin/accounts",
            &[("name", "acme"), ("profile", "rfc"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        made,
        (
            StatusCode::SEE_OTHER,
            "/admin/accounts/acme?notice=Account+%22acme%22+created".to_owned()
        )
    );
    let taken = visitor
        .post(
            "/admin/accounts",
            &[("name", "acme"), ("profile", "rfc"), ("csrf", &csrf)],
        )
        .await;
    assert!(taken.1.starts_with("/admin/accounts?error=name%3A"), "{taken:?}");
    let missing = visitor.get("/admin/accounts/nobody/users").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // Settings → Account: rename, apply a preset, delete.
    let renamed = visitor
        .post(
            "/admin/accounts/acme/rename",
            &[("name", "acme-2"), ("csrf", &csrf)],
        )
        .await;
    assert!(
        renamed.1.starts_with("/admin/accounts/acme-2/settings?notice="),
        "{renamed:?}"
    );
    let preset = visitor
        .post(
            "/admin/accounts/acme-2/fidelity",
            &[("profile", "linkedin"), ("csrf", &csrf)],
        )
        .await;
    assert!(preset.1.contains("notice="), "{preset:?}");
    let account = expect_json(
        app.admin(Method::GET, "/accounts/acme-2")
            .send()
            .await
            .expect("request"),
        StatusCode::OK,
        "account",
    )
    .await;
    assert_eq!(account["fidelity"]["user_delete"], "deactivate");
    let deleted = visitor
        .post("/admin/accounts/acme-2/delete", &[("csrf", &csrf)])
        .await;
    assert!(deleted.1.starts_with("/admin/accounts?notice="), "{deleted:?}");
    assert_eq!(
        visitor.get("/admin/accounts/acme-2").await.status(),
        StatusCode::NOT_FOUND
    );

    // Sign out ends the session for this cookie's holder.
    let (status, to) = visitor.post("/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/admin/login"));
}

async fn the_forms_reach_the_account_center(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let visitor = Visitor::sign_in(&app).await;
    let csrf = visitor.csrf("/admin/accounts/demo").await;
    let pools = expect_json(
        app.admin(Method::GET, "/accounts/demo/pools")
            .send()
            .await
            .expect("request"),
        StatusCode::OK,
        "pools",
    )
    .await;
    let pool = pools[0]["id"].as_str().expect("pool").to_owned();
    let (_, to) = visitor
        .post(
            &format!("/admin/accounts/demo/pools/{pool}"),
            &[("seats", "-1"), ("csrf", &csrf)],
        )
        .await;
    assert!(to.contains("error=seats%3A"), "{to}");
    let (_, to) = visitor
        .post(
            &format!("/admin/accounts/demo/pools/{pool}"),
            &[("seats", "12"), ("csrf", &csrf)],
        )
        .await;
    assert!(to.contains("notice="), "{to}");

    // Users: activate, revoke (the RFC preset allows it), export, delete.
    let ann = app.create_user(&user_body("ann@acme.com")).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let users = visitor
        .get("/admin/accounts/demo/users?q=ann")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        users.contains("ann@acme.com") && users.contains("state-assigned"),
        "{users}"
    );
    let (_, to) = visitor
        .post(
            &format!("/admin/accounts/demo/users/{ann}/licenses/sales_navigator/activate"),
            &[("csrf", &csrf)],
        )
        .await;
    assert!(to.contains("notice="), "{to}");
    let csv = visitor.get("/admin/accounts/demo/users.csv").await;
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/csv")
    );
    assert!(
        csv.text()
            .await
            .expect("csv")
            .contains("ann@acme.com,ext-ann@acme.com,,true,sales_navigator")
    );
    let (_, to) = visitor
        .post(
            &format!("/admin/accounts/demo/users/{ann}/licenses/sales_navigator/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
    assert!(to.contains("notice="), "{to}");
    let (_, to) = visitor
        .post(
            "/admin/accounts/demo/users/deletion",
            &[("ids", &ann), ("csrf", &csrf)],
        )
        .await;
    assert!(to.contains("notice=1+user"), "{to}");
    assert_eq!(
        app.get(&format!("/Users/{ann}")).await.status(),
        StatusCode::NOT_FOUND
    );

    // Groups: remove a member.
    let bob = app.create_user(&user_body("bob@acme.com")).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let group = app
        .create_group(&crate::helpers::group_with("Sales", std::slice::from_ref(&bob)))
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (_, to) = visitor
        .post(
            &format!("/admin/accounts/demo/groups/{group}/members/{bob}/remove"),
            &[("csrf", &csrf)],
        )
        .await;
    assert!(to.contains("notice=Member+removed"), "{to}");

    // The activity log's rows (what the page polls), filtered by configuration.
    let rows = visitor
        .get("/admin/accounts/demo/activity?configuration=Demo&method=POST&rows=1")
        .await
        .text()
        .await
        .expect("rows");
    assert!(
        rows.starts_with("<tr>") && rows.contains("POST /scim/v2/Users"),
        "{rows}"
    );
    let bad = visitor
        .get("/admin/accounts/demo/activity?since=yesterday")
        .await
        .text()
        .await
        .expect("html");
    assert!(bad.contains("since: use an RFC 3339 time"), "{bad}");

    // Deleting a configuration from its settings page ends its token.
    let created = app
        .admin(Method::POST, "/accounts/demo/configurations")
        .header("content-type", "application/json")
        .body(json!({"name": "Okta"}).to_string())
        .send()
        .await
        .expect("request");
    let token = expect_json(created, StatusCode::CREATED, "configuration").await["token"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (_, to) = visitor
        .post(
            "/admin/accounts/demo/configurations/Okta/delete",
            &[("csrf", &csrf)],
        )
        .await;
    assert!(to.contains("notice="), "{to}");
    let refused = app
        .scim_as(&token, Method::GET, "/Users?filter=userName%20eq%20%22x%22")
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}

/// Sign-out ends the session server-side: the same cookie, replayed afterwards (copied
/// before sign-out), is sent to the login page and can change nothing.
async fn a_cookie_replayed_after_sign_out_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let visitor = Visitor::sign_in(&app).await;
    let csrf = visitor.csrf("/admin/accounts").await;
    let (status, to) = visitor.post("/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/admin/login"));

    let page = visitor.get("/admin/accounts/demo/users").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()[LOCATION], "/admin/login");
    let (status, to) = visitor
        .post(
            "/admin/accounts",
            &[
                ("name", "after-sign-out"),
                ("profile", "linkedin"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/admin/login"));
    let missing = app
        .admin(Method::GET, "/accounts/after-sign-out")
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND, "no account was created");
}

/// "Sign out everywhere" ends the other browsers' sessions too.
async fn sign_out_everywhere_ends_every_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let laptop = Visitor::sign_in(&app).await;
    let phone = Visitor::sign_in(&app).await;
    assert_eq!(phone.get("/admin/accounts").await.status(), StatusCode::OK);
    let csrf = laptop.csrf("/admin/accounts").await;
    let (status, to) = laptop.post("/admin/logout/everywhere", &[("csrf", &csrf)]).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/admin/login"));
    for visitor in [&laptop, &phone] {
        let page = visitor.get("/admin/accounts").await;
        assert_eq!(page.status(), StatusCode::SEE_OTHER);
        assert_eq!(page.headers()[LOCATION], "/admin/login");
    }
}

/// Every page forbids framing, sniffing, referrers and foreign scripts, and is never
/// cached (Back after sign-out shows no users page); assets may be cached.
async fn pages_carry_the_security_headers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let visitor = Visitor::sign_in(&app).await;
    for path in ["/admin/login", "/admin/accounts", "/admin/accounts/demo/users"] {
        let page = visitor.get(path).await;
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        let headers = page.headers();
        let csp = headers["content-security-policy"].to_str().expect("csp");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
        assert_eq!(headers["cache-control"], "no-store", "{path}");
        assert!(
            headers.get("strict-transport-security").is_none(),
            "HSTS only over TLS"
        );
    }
    let css = visitor.get("/admin/assets/app.css").await;
    assert_eq!(css.headers()["x-content-type-options"], "nosniff");
    assert!(css.headers().get("cache-control").is_none());
}

/// Behind the CSRF token, a form posted from another origin (a page on another port of
/// the same host) is refused before it reaches the Account Center.
async fn a_form_from_another_origin_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let visitor = Visitor::sign_in(&app).await;
    let csrf = visitor.csrf("/admin/accounts").await;
    let host = app.address.trim_start_matches("http://").to_owned();
    let post = |origin: String, name: &'static str| {
        visitor
            .client
            .post(format!("{}/admin/accounts", visitor.origin))
            .header(COOKIE, &visitor.cookie)
            .header("origin", origin)
            .form(&[("name", name), ("profile", "linkedin"), ("csrf", csrf.as_str())])
            .send()
    };
    let foreign = post("http://127.0.0.1:1".to_owned(), "framed")
        .await
        .expect("request");
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    let missing = app
        .admin(Method::GET, "/accounts/framed")
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let own = post(format!("http://{host}"), "same-origin")
        .await
        .expect("request");
    assert_eq!(own.status(), StatusCode::SEE_OTHER);
    let created = app
        .admin(Method::GET, "/accounts/same-origin")
        .send()
        .await
        .expect("request");
    assert_eq!(created.status(), StatusCode::OK);
}

/// The dashboard names who is next in line for each pool, the users page each waiting
/// user's place.
async fn the_pages_show_the_queue(backend: Backend) {
    use crate::helpers::acme::{SALESNAV, acme};
    let app = acme(backend, "rfc").await;
    for name in ["a", "b", "c", "d"] {
        app.create_user_as(SALESNAV, &user_body(&format!("{name}@acme.com")))
            .await;
    }
    let visitor = Visitor::sign_in(&app).await;
    let dashboard = visitor
        .get("/admin/accounts/acme")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        dashboard.contains("Next in line: <strong>c@acme.com</strong>"),
        "{dashboard}"
    );
    let users = visitor
        .get("/admin/accounts/acme/users")
        .await
        .text()
        .await
        .expect("html");
    assert!(users.contains("waiting · #1 in line"), "{users}");
    assert!(users.contains("waiting · #2 in line"), "{users}");
}

backend_tests!(
    the_pages_show_the_queue,
    forms_need_the_session_and_its_csrf_token,
    the_forms_reach_the_account_center,
    a_cookie_replayed_after_sign_out_is_refused,
    sign_out_everywhere_ends_every_session,
    pages_carry_the_security_headers,
    a_form_from_another_origin_is_refused
);
