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

backend_tests!(
    forms_need_the_session_and_its_csrf_token,
    the_forms_reach_the_account_center
);
