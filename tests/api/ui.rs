//! The web UI over plain HTTP (the browser test drives the happy path in Chromium):
//! session cookie attributes, CSRF on every form, no action without a session, and the
//! forms the browser flow does not touch, and the flash line, carried in the session and
//! never in the URL.

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

pub(crate) fn csrf_of(html: &str) -> String {
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

/// The flash line of a page: `ok` (a notice) or `err`, and its text as written in HTML.
fn flash(html: &str) -> Option<(&'static str, String)> {
    ["ok", "err"].into_iter().find_map(|kind| {
        let marker = format!("<p class=\"flash {kind}\"");
        let start = html.find(&marker)?;
        let text = html[start..].split_once('>')?.1.split("</p>").next()?;
        Some((kind, text.to_owned()))
    })
}

/// The flash line shows a notice containing `text`.
fn notice(flash: &Option<(&'static str, String)>, text: &str) -> bool {
    matches!(flash, Some(("ok", t)) if t.contains(text))
}

/// The flash line shows an error containing `text`.
fn error(flash: &Option<(&'static str, String)>, text: &str) -> bool {
    matches!(flash, Some(("err", t)) if t.contains(text))
}

impl Visitor {
    /// Sign in to the test app, a SCIM token refused first.
    async fn sign_in(app: &TestApp) -> Visitor {
        Visitor::sign_in_to(&app.address, &app.admin_token, Some(&app.token)).await
    }

    /// Sign in to the server at `origin` with its admin token, after trying `wrong`
    /// (refused) when given.
    async fn sign_in_to(origin: &str, admin_token: &str, wrong: Option<&str>) -> Visitor {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let form = client
            .get(format!("{origin}/admin/login"))
            .send()
            .await
            .expect("request");
        let login_cookie = cookie(&form, "lscim_login");
        let csrf = csrf_of(&form.text().await.expect("html"));
        let post = |token: &str| {
            client
                .post(format!("{origin}/admin/login"))
                .header(COOKIE, &login_cookie)
                .form(&[("token", token), ("csrf", csrf.as_str())])
                .send()
        };
        if let Some(wrong) = wrong {
            let refused = post(wrong).await.expect("request");
            assert_eq!(refused.status(), StatusCode::FORBIDDEN);
            let refused = flash(&refused.text().await.expect("html"));
            assert!(
                error(&refused, "not this server"),
                "a SCIM token is not the admin token: {refused:?}"
            );
        }
        let signed_in = post(admin_token).await.expect("request");
        Visitor::signed_in(client.clone(), origin.to_owned(), signed_in)
    }

    fn signed_in(client: reqwest::Client, origin: String, signed_in: reqwest::Response) -> Visitor {
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
        assert_eq!(signed_in.headers()[LOCATION], "/admin/accounts");
        let cookie = cookie(&signed_in, "lscim_session");
        Visitor {
            client,
            origin,
            cookie,
        }
    }

    /// The same session cookie, shown to the server at `origin`.
    fn at(&self, origin: &str) -> Visitor {
        Visitor {
            client: self.client.clone(),
            origin: origin.to_owned(),
            cookie: self.cookie.clone(),
        }
    }

    /// Is this session signed in (its pages open, not redirected to the sign-in page)?
    async fn signed_in_now(&self) -> bool {
        let page = self.get("/admin/accounts").await;
        match page.status() {
            StatusCode::OK => true,
            StatusCode::SEE_OTHER => {
                assert_eq!(page.headers()[LOCATION], "/admin/login");
                false
            }
            other => panic!("/admin/accounts answered {other}"),
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

    /// Submit a form, then open the page it redirects to: the target and that page's
    /// flash line.
    async fn submit(&self, path: &str, form: &[(&str, &str)]) -> (String, Option<(&'static str, String)>) {
        let (status, to) = self.post(path, form).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
        let page = self.get(&to).await.text().await.expect("html");
        (to, flash(&page))
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
        .submit(
            "/admin/accounts",
            &[("name", "acme"), ("profile", "rfc"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        made,
        (
            "/admin/accounts/acme".to_owned(),
            Some(("ok", "Account &quot;acme&quot; created".to_owned()))
        )
    );
    let taken = visitor
        .submit(
            "/admin/accounts",
            &[("name", "acme"), ("profile", "rfc"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(taken.0, "/admin/accounts");
    assert!(error(&taken.1, "name:"), "{taken:?}");
    let missing = visitor.get("/admin/accounts/nobody/users").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // Settings → Account: rename, apply a preset, delete.
    let renamed = visitor
        .submit(
            "/admin/accounts/acme/rename",
            &[("name", "acme-2"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(renamed.0, "/admin/accounts/acme-2/settings");
    assert!(notice(&renamed.1, "renamed"), "{renamed:?}");
    let preset = visitor
        .submit(
            "/admin/accounts/acme-2/fidelity",
            &[("profile", "linkedin"), ("csrf", &csrf)],
        )
        .await;
    assert!(notice(&preset.1, "applied"), "{preset:?}");
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
        .submit("/admin/accounts/acme-2/delete", &[("csrf", &csrf)])
        .await;
    assert_eq!(deleted.0, "/admin/accounts");
    assert!(notice(&deleted.1, "deleted"), "{deleted:?}");
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
    let (_, shown) = visitor
        .submit(
            &format!("/admin/accounts/demo/pools/{pool}"),
            &[("seats", "-1"), ("csrf", &csrf)],
        )
        .await;
    assert!(error(&shown, "seats:"), "{shown:?}");
    // A cleared or non-numeric field is said in the page, not a raw deserialization error.
    for typed in ["", "ten"] {
        let (_, shown) = visitor
            .submit(
                &format!("/admin/accounts/demo/pools/{pool}"),
                &[("seats", typed), ("csrf", &csrf)],
            )
            .await;
        assert!(
            error(&shown, "Seats must be a whole number"),
            "{typed:?}: {shown:?}"
        );
    }
    let (_, shown) = visitor
        .submit(
            &format!("/admin/accounts/demo/pools/{pool}"),
            &[("seats", "12"), ("csrf", &csrf)],
        )
        .await;
    assert!(notice(&shown, "now has 12 seats"), "{shown:?}");
    // Fewer seats than in use: the pool is named by its license type, with the numbers,
    // and the advice holds under either preset.
    for i in 0..2 {
        app.create_user(&user_body(&format!("holder{i}@acme.com"))).await;
    }
    let advanced = pools
        .as_array()
        .and_then(|p| p.iter().find(|p| p["licenseType"] == "Advanced Plus"))
        .and_then(|p| p["id"].as_str())
        .expect("the demo's Advanced Plus pool");
    let (_, shown) = visitor
        .submit(
            &format!("/admin/accounts/demo/pools/{advanced}"),
            &[("seats", "1"), ("csrf", &csrf)],
        )
        .await;
    assert!(
        error(
            &shown,
            "Advanced Plus cannot have fewer seats than are in use (2 in use, asked for 1)"
        ) && error(&shown, "in the IdP"),
        "{shown:?}"
    );

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
    let (_, shown) = visitor
        .submit(
            &format!("/admin/accounts/demo/users/{ann}/licenses/sales_navigator/activate"),
            &[("csrf", &csrf)],
        )
        .await;
    assert!(notice(&shown, "license activated"), "{shown:?}");
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
    let (_, shown) = visitor
        .submit(
            &format!("/admin/accounts/demo/users/{ann}/licenses/sales_navigator/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
    assert!(notice(&shown, "license revoked"), "{shown:?}");
    let (_, shown) = visitor
        .submit(
            "/admin/accounts/demo/users/deletion",
            &[("ids", &ann), ("csrf", &csrf)],
        )
        .await;
    assert!(notice(&shown, "1 user(s) deleted"), "{shown:?}");
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
    let (_, shown) = visitor
        .submit(
            &format!("/admin/accounts/demo/groups/{group}/members/{bob}/remove"),
            &[("csrf", &csrf)],
        )
        .await;
    assert!(notice(&shown, "Member removed"), "{shown:?}");

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
    let (_, shown) = visitor
        .submit(
            "/admin/accounts/demo/configurations/Okta/delete",
            &[("csrf", &csrf)],
        )
        .await;
    assert!(notice(&shown, "deleted: its token no longer works"), "{shown:?}");
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
/// cached (Back after sign-out shows no users page); assets may be cached. The policy
/// allows no inline script or style, and no page has any.
async fn pages_carry_the_security_headers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let visitor = Visitor::sign_in(&app).await;
    let pages = [
        "/admin/login",
        "/admin/accounts",
        "/admin/accounts/demo",
        "/admin/accounts/demo/settings",
        "/admin/accounts/demo/users",
        "/admin/accounts/demo/groups",
        "/admin/accounts/demo/activity",
    ];
    for path in pages {
        let page = visitor.get(path).await;
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        let headers = page.headers().clone();
        let csp = headers["content-security-policy"].to_str().expect("csp");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("style-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
        assert_eq!(headers["cache-control"], "no-store", "{path}");
        assert!(
            headers.get("strict-transport-security").is_none(),
            "HSTS only over TLS"
        );
        let html = page.text().await.expect("html");
        assert!(
            !html.contains(" style="),
            "{path}: an inline style the CSP blocks"
        );
        assert!(!html.contains("<style"), "{path}: an inline style sheet");
        assert_eq!(
            html.matches("<script").count(),
            html.matches("<script src=\"/admin/assets/app.js\"").count(),
            "{path}: an inline script the CSP blocks"
        );
    }
    // Redirects and refusals carry them too.
    let signed_out = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(format!("{}/admin/accounts/demo/users", app.address))
        .send()
        .await
        .expect("request");
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_out.headers()["cache-control"], "no-store");
    assert_eq!(signed_out.headers()["x-frame-options"], "DENY");
    let css = visitor.get("/admin/assets/app.css").await;
    assert_eq!(css.headers()["x-content-type-options"], "nosniff");
    assert!(css.headers().get("cache-control").is_none());
}

/// The admin API signs out everywhere too (no browser needed), and none of its answers
/// may be kept by a browser or a proxy.
async fn the_admin_api_ends_every_session_and_is_never_cached(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let laptop = Visitor::sign_in(&app).await;
    let phone = Visitor::sign_in(&app).await;
    assert!(laptop.signed_in_now().await && phone.signed_in_now().await);
    let ended = app
        .admin(Method::DELETE, "/sessions")
        .send()
        .await
        .expect("request");
    assert_eq!(ended.headers()["cache-control"], "no-store");
    let ended = expect_json(ended, StatusCode::OK, "end sessions").await;
    assert_eq!(ended, json!({"ended": 2}));
    assert!(!laptop.signed_in_now().await && !phone.signed_in_now().await);

    let anonymous = app
        .client
        .delete(format!("{}/admin/api/sessions", app.address))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers()["cache-control"], "no-store");
    for path in ["/accounts", "/accounts/demo/users", "/accounts/demo/activity"] {
        let answer = app.admin(Method::GET, path).send().await.expect("request");
        assert_eq!(answer.status(), StatusCode::OK, "{path}");
        assert_eq!(answer.headers()["cache-control"], "no-store", "{path}");
    }
}

/// A session lives in the database: it works on every server process on it (replicas,
/// or the server after a restart with the same admin token), ends on all of them at
/// sign-out, and ends by itself after 12 hours of the server's clock; an expired one is
/// deleted at the next sign-in.
async fn a_session_is_shared_by_replicas_until_it_ends_or_expires(backend: Backend) {
    use crate::replicas::{REPLICA_ADMIN_TOKEN, server_on};
    let app = TestApp::spawn(backend).await;
    let first = server_on(&app.database_url, &[]).await;
    let second = server_on(&app.database_url, &[]).await;
    let manual = server_on(&app.database_url, &["--clock", "manual"]).await;

    let signed_out = Visitor::sign_in_to(&first.origin, REPLICA_ADMIN_TOKEN, None).await;
    let kept = Visitor::sign_in_to(&first.origin, REPLICA_ADMIN_TOKEN, None).await;
    for visitor in [&signed_out, &kept] {
        for server in [&first, &second, &manual] {
            assert!(
                visitor.at(&server.origin).signed_in_now().await,
                "{}",
                server.origin
            );
        }
    }
    // Signed out on the second server: refused by the first and every other.
    let on_second = signed_out.at(&second.origin);
    let csrf = on_second.csrf("/admin/accounts").await;
    let (status, _) = on_second.post("/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    for server in [&first, &second, &manual] {
        assert!(
            !signed_out.at(&server.origin).signed_in_now().await,
            "{}",
            server.origin
        );
        assert!(kept.at(&server.origin).signed_in_now().await, "{}", server.origin);
    }
    // Twelve hours later by the manual clock, the session has expired there; still
    // valid by the others' clocks until a sign-in on the manual server prunes it.
    let advanced = reqwest::Client::new()
        .post(format!("{}/admin/api/clock/advance", manual.origin))
        .bearer_auth(REPLICA_ADMIN_TOKEN)
        .json(&json!({"seconds": 12 * 60 * 60 + 60}))
        .send()
        .await
        .expect("request");
    assert_eq!(advanced.status(), StatusCode::OK);
    assert!(!kept.at(&manual.origin).signed_in_now().await, "expired");
    assert!(kept.at(&first.origin).signed_in_now().await);
    let fresh = Visitor::sign_in_to(&manual.origin, REPLICA_ADMIN_TOKEN, None).await;
    assert!(!kept.at(&first.origin).signed_in_now().await, "pruned at sign-in");
    assert!(fresh.at(&manual.origin).signed_in_now().await);
    // A server with another admin token reads no cookie of these.
    let other = server_on(
        &app.database_url,
        &["--admin-token", "another-admin-token-0123456789abcdefgh"],
    )
    .await;
    assert!(!fresh.at(&other.origin).signed_in_now().await);
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

/// The flash line comes from the session, shown once by the page an action redirects
/// to; a crafted `?error=` or `?notice=` in a link shows nothing, signed in or not.
async fn a_flash_message_comes_from_the_session_not_the_url(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let crafted = "?error=Your+token+was+compromised%3A+paste+it+at+evil.example&notice=Signed+in";
    let anonymous = reqwest::Client::new()
        .get(format!("{}/admin/login{crafted}", app.address))
        .send()
        .await
        .expect("request");
    let login = anonymous.text().await.expect("html");
    assert!(login.contains("Sign in with the admin token"), "{login}");
    assert_eq!(flash(&login), None, "{login}");
    assert!(!login.contains("compromised"), "{login}");

    let visitor = Visitor::sign_in(&app).await;
    for path in [
        "/admin/accounts",
        "/admin/accounts/demo/settings",
        "/admin/accounts/demo/users",
    ] {
        let page = visitor.get(&format!("{path}{crafted}")).await;
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        let html = page.text().await.expect("html");
        assert_eq!(flash(&html), None, "{path}: {html}");
        assert!(!html.contains("compromised"), "{path}");
    }

    // A refusal's flash shows on the page redirected to, and only once.
    let csrf = visitor.csrf("/admin/accounts").await;
    let (to, shown) = visitor
        .submit(
            "/admin/accounts",
            &[("name", "demo"), ("profile", "rfc"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(to, "/admin/accounts", "the redirect carries no message");
    assert!(error(&shown, "name:"), "{shown:?}");
    let reloaded = visitor.get(&to).await.text().await.expect("html");
    assert_eq!(flash(&reloaded), None, "shown once");
    // Another session does not see this one's flash.
    let other = Visitor::sign_in(&app).await;
    let (status, _) = visitor
        .post(
            "/admin/accounts",
            &[("name", "demo"), ("profile", "rfc"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let elsewhere = other.get("/admin/accounts").await.text().await.expect("html");
    assert_eq!(flash(&elsewhere), None, "another session's flash");
    let mine = visitor.get("/admin/accounts").await.text().await.expect("html");
    assert!(error(&flash(&mine), "name:"), "{mine}");
}

/// The access token a page shows (the value of `#access-token`), if it shows one.
fn shown_token(html: &str) -> Option<String> {
    let field = &html[html.find("id=\"access-token\"")?..];
    let value = &field[field.find("value=\"")? + "value=\"".len()..];
    value.split('"').next().map(str::to_owned)
}

/// What the sessions' pending token views hold in the database.
async fn stored_token_views(app: &TestApp, backend: Backend) -> Vec<String> {
    use sqlx::Connection;
    let sql = "select token_view from admin_sessions where token_view is not null";
    match backend {
        Backend::Sqlite => {
            let mut db = sqlx::SqliteConnection::connect(&app.database_url)
                .await
                .expect("sqlite");
            sqlx::query_scalar(sql).fetch_all(&mut db).await.expect("query")
        }
        Backend::Postgres => {
            let mut db = sqlx::PgConnection::connect(&app.database_url)
                .await
                .expect("postgres");
            sqlx::query_scalar(sql).fetch_all(&mut db).await.expect("query")
        }
    }
}

/// Refresh token asks first (the confirmation page rotates nothing), then POST → 303 →
/// the Settings page shows the new token once: a reload shows no token and mints none,
/// so the token just copied keeps working. Until it is viewed, the database holds it
/// only sealed. Generate token (a new configuration) goes the same way.
async fn a_refreshed_token_is_confirmed_first_and_shown_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let visitor = Visitor::sign_in(&app).await;
    let settings = visitor
        .get("/admin/accounts/demo/settings")
        .await
        .text()
        .await
        .expect("html");
    let confirm_path = "/admin/accounts/demo/configurations/Demo/token";
    assert!(
        settings.contains(&format!(
            "<a class=\"button\" href=\"{confirm_path}\">Refresh token</a>"
        )),
        "Refresh token is a link to the confirmation: {settings}"
    );

    let confirm = visitor.get(confirm_path).await;
    assert_eq!(confirm.status(), StatusCode::OK);
    let confirm = confirm.text().await.expect("html");
    assert!(
        confirm.contains("The current token stops working at once."),
        "{confirm}"
    );
    assert_eq!(
        app.get("/Users").await.status(),
        StatusCode::OK,
        "asking rotates nothing"
    );
    let missing = visitor
        .get("/admin/accounts/demo/configurations/Nobody/token")
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let csrf = csrf_of(&confirm);
    let (status, to) = visitor.post(confirm_path, &[("csrf", &csrf)]).await;
    assert_eq!(
        (status, to.as_str()),
        (StatusCode::SEE_OTHER, "/admin/accounts/demo/settings")
    );
    assert_eq!(
        app.get("/Users").await.status(),
        StatusCode::UNAUTHORIZED,
        "the old token is revoked"
    );
    let sealed = stored_token_views(&app, backend).await;
    assert_eq!(sealed.len(), 1, "{sealed:?}");

    let view = visitor.get(&to).await.text().await.expect("html");
    let token = shown_token(&view).expect("the new token, shown");
    assert!(view.contains("Save your access token"), "{view}");
    assert!(notice(&flash(&view), "the old one no longer works"), "{view}");
    assert!(
        !sealed[0].contains(&token),
        "the database held the token readable"
    );
    assert_eq!(app.get_as(&token, "/Users").await.status(), StatusCode::OK);
    assert!(
        stored_token_views(&app, backend).await.is_empty(),
        "taken by the view"
    );

    let reloaded = visitor.get(&to).await.text().await.expect("html");
    assert_eq!(shown_token(&reloaded), None, "a reload shows no token");
    assert!(!reloaded.contains(&token));
    assert!(!reloaded.contains("Save your access token"));
    assert_eq!(flash(&reloaded), None);
    assert_eq!(
        app.get_as(&token, "/Users").await.status(),
        StatusCode::OK,
        "a reload mints no other token"
    );

    // Generate token: the same one-time view.
    let (status, to) = visitor
        .post(
            "/admin/accounts/demo/configurations",
            &[
                ("name", "Okta"),
                ("client_profile", "okta"),
                ("patch_response", "resource"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(
        (status, to.as_str()),
        (StatusCode::SEE_OTHER, "/admin/accounts/demo/settings")
    );
    let view = visitor.get(&to).await.text().await.expect("html");
    let okta = shown_token(&view).expect("the generated token");
    assert!(view.contains("Access token for Okta"), "{view}");
    assert_eq!(app.get_as(&okta, "/Users").await.status(), StatusCode::OK);
    let reloaded = visitor.get(&to).await.text().await.expect("html");
    assert_eq!(shown_token(&reloaded), None);
}

/// The rules page edits a configuration's license rules as the CLI's `--rule` lines: the
/// admin API then shows them, a team move follows them, and a bad line changes nothing
/// and names the rule at fault.
async fn license_rules_are_edited_on_their_page(backend: Backend) {
    use crate::helpers::acme::{LICENSES, SALESNAV, acme};
    let app = acme(backend, "rfc").await;
    let visitor = Visitor::sign_in(&app).await;
    let settings = visitor
        .get("/admin/accounts/acme/settings")
        .await
        .text()
        .await
        .expect("html");
    let page = "/admin/accounts/acme/configurations/Sales%20Navigator/rules";
    assert!(settings.contains(&format!("href=\"{page}\"")), "{settings}");
    let csrf = visitor.csrf(page).await;
    let rule = "TeamLink Extend=title sw \"Partner\"";
    let (to, saved) = visitor
        .submit(page, &[("rules", &format!("\r\n{rule}\r\n")), ("csrf", &csrf)])
        .await;
    assert_eq!(to, page);
    assert!(notice(&saved, "1 license rule(s) saved"), "{saved:?}");
    let stored = app
        .admin_get_ok("/accounts/acme/configurations/Sales%20Navigator/license-rules")
        .await;
    assert_eq!(
        stored["rules"],
        json!([{"filter": "title sw \"Partner\"", "licenseType": "TeamLink Extend"}])
    );
    let shown = visitor.get(page).await.text().await.expect("html");
    assert!(
        shown.contains("title sw &quot;Partner&quot;</textarea>"),
        "{shown}"
    );
    // The rule applies: a partner gets TeamLink Extend through the Sales Navigator token.
    let mut partner = user_body("partner@acme.com");
    partner["title"] = json!("Partner, EMEA");
    let created = app.create_user_as(SALESNAV, &partner).await;
    assert_eq!(
        created[LICENSES]["licenses"][0]["licenseType"], "TeamLink Extend",
        "{created}"
    );

    // A line without `=` or naming no license type of the instance changes nothing.
    for (bad, reason) in [
        ("title pr", "LICENSE TYPE=SCIM FILTER"),
        ("Core=title pr", "no license type"),
    ] {
        let (_, refused) = visitor.submit(page, &[("rules", bad), ("csrf", &csrf)]).await;
        assert!(
            error(&refused, "rule 1") && error(&refused, reason),
            "{bad}: {refused:?}"
        );
    }
    let unchanged = app
        .admin_get_ok("/accounts/acme/configurations/Sales%20Navigator/license-rules")
        .await;
    assert_eq!(unchanged, stored);
    // An empty box removes every rule.
    let (_, cleared) = visitor.submit(page, &[("rules", " "), ("csrf", &csrf)]).await;
    assert!(notice(&cleared, "no license rules"), "{cleared:?}");
    let none = app
        .admin_get_ok("/accounts/acme/configurations/Sales%20Navigator/license-rules")
        .await;
    assert_eq!(none["rules"], json!([]));
}

backend_tests!(
    the_pages_show_the_queue,
    license_rules_are_edited_on_their_page,
    a_refreshed_token_is_confirmed_first_and_shown_once,
    a_flash_message_comes_from_the_session_not_the_url,
    forms_need_the_session_and_its_csrf_token,
    the_forms_reach_the_account_center,
    a_cookie_replayed_after_sign_out_is_refused,
    sign_out_everywhere_ends_every_session,
    pages_carry_the_security_headers,
    the_admin_api_ends_every_session_and_is_never_cached,
    a_session_is_shared_by_replicas_until_it_ends_or_expires,
    a_form_from_another_origin_is_refused
);
