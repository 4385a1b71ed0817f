//! The Account Center web UI under `/admin`: server-rendered pages (maud) modelled on
//! LinkedIn's Account Center, so that the setup guides' steps ("Settings → Global
//! Settings → SCIM → + Add new SCIM configuration → Generate token") can be followed
//! literally. Every action calls [`crate::center::Center`], the code behind the admin
//! JSON API. CSS and the little JavaScript (copy buttons, the auto-assign toggle, live
//! activity log) are compiled into the binary.

mod guard;
mod pages;
mod session;

use session::Session;

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, html};

use super::AppState;
use crate::center::CenterError;

const CSS: &str = include_str!("assets/app.css");
const JS: &str = include_str!("assets/app.js");

pub(super) fn router(state: &AppState) -> Router<AppState> {
    let pages = Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/accounts") }))
        .route("/admin/", get(|| async { Redirect::to("/admin/accounts") }))
        .route(
            crate::http::overload::SIGN_IN,
            get(pages::login::login_form).post(pages::login::login).layer(
                axum::middleware::from_fn_with_state(
                    crate::http::overload::BodyBounds::sign_in(&state.settings),
                    crate::http::overload::bounded_body,
                ),
            ),
        )
        .route("/admin/logout", post(pages::login::logout))
        .route("/admin/logout/everywhere", post(pages::login::logout_everywhere))
        .route(
            "/admin/accounts",
            get(pages::accounts::accounts).post(pages::accounts::create_account),
        )
        .route("/admin/accounts/{account}", get(pages::dashboard::dashboard))
        .route(
            "/admin/accounts/{account}/instances",
            post(pages::dashboard::add_instance),
        )
        .route(
            "/admin/accounts/{account}/pools",
            post(pages::dashboard::add_pool),
        )
        .route(
            "/admin/accounts/{account}/pools/{pool}",
            post(pages::dashboard::update_pool),
        )
        .route(
            "/admin/accounts/{account}/settings",
            get(pages::settings::settings),
        )
        .route(
            "/admin/accounts/{account}/rename",
            post(pages::settings::rename_account),
        )
        .route(
            "/admin/accounts/{account}/fidelity",
            post(pages::settings::apply_preset),
        )
        .route(
            "/admin/accounts/{account}/delete",
            post(pages::settings::delete_account),
        )
        .route(
            "/admin/accounts/{account}/configurations",
            post(pages::settings::create_configuration),
        )
        .route(
            "/admin/accounts/{account}/configurations/{configuration}/token",
            get(pages::settings::confirm_refresh).post(pages::settings::refresh_token),
        )
        .route(
            "/admin/accounts/{account}/configurations/{configuration}/rules",
            get(pages::rules::rules).post(pages::rules::save_rules),
        )
        .route(
            "/admin/accounts/{account}/configurations/{configuration}/delete",
            post(pages::settings::delete_configuration),
        )
        .route("/admin/accounts/{account}/users", get(pages::users::users))
        .route(
            "/admin/accounts/{account}/users.csv",
            get(pages::users::users_csv),
        )
        .route(
            "/admin/accounts/{account}/users/{user}/licenses/{product}/{action}",
            post(pages::users::license_action),
        )
        .route(
            "/admin/accounts/{account}/users/deletion",
            post(pages::users::delete_users),
        )
        .route("/admin/accounts/{account}/groups", get(pages::groups::groups))
        .route(
            "/admin/accounts/{account}/groups/{group}/members",
            post(pages::groups::add_member),
        )
        .route(
            "/admin/accounts/{account}/groups/{group}/members/{user}/remove",
            post(pages::groups::remove_member),
        )
        .route(
            "/admin/accounts/{account}/activity",
            get(pages::activity::activity),
        )
        // Every page and form action, the sign-in page included.
        .layer(guard::no_store());
    let ui = Router::new()
        .route("/admin/assets/app.css", get(css))
        .route("/admin/assets/app.js", get(js))
        .merge(pages);
    guard::secured(ui, state.settings.tls_cert.is_some())
}

async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

async fn js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], JS).into_response()
}

/// The tabs of an account's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Dashboard,
    Users,
    Groups,
    Activity,
    Settings,
}

impl Tab {
    const ALL: [Tab; 5] = [
        Tab::Dashboard,
        Tab::Users,
        Tab::Groups,
        Tab::Activity,
        Tab::Settings,
    ];

    fn label(self) -> &'static str {
        match self {
            Tab::Dashboard => "Dashboard",
            Tab::Users => "Users",
            Tab::Groups => "Groups",
            Tab::Activity => "Activity log",
            Tab::Settings => "Settings",
        }
    }

    fn href(self, account: &str) -> String {
        let base = format!("/admin/accounts/{}", path_segment(account));
        match self {
            Tab::Dashboard => base,
            Tab::Users => format!("{base}/users"),
            Tab::Groups => format!("{base}/groups"),
            Tab::Activity => format!("{base}/activity"),
            Tab::Settings => format!("{base}/settings"),
        }
    }
}

/// A message shown above the page's content after an action, carried in the session
/// (never in the URL, where a crafted link could word a genuine-looking alert).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Flash {
    notice: Option<String>,
    error: Option<String>,
}

/// The page frame: top bar, the account's tabs, the flash message, the content.
fn page(
    title: &str,
    session: &Session,
    account: Option<(&str, Tab)>,
    flash: &Flash,
    content: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Account Center" }
                link rel="stylesheet" href="/admin/assets/app.css";
                script src="/admin/assets/app.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.topbar {
                    a.brand href="/admin/accounts" {
                        span.logo aria-hidden="true" { "in" }
                        span { "Account Center" }
                    }
                    @if let Some((name, _)) = account {
                        span.account-name { "Account: " strong { (name) } }
                    }
                    form.logout method="post" action="/admin/logout" {
                        input type="hidden" name="csrf" value=(session.csrf);
                        button.link type="submit" { "Sign out" }
                        button.link type="submit" formaction="/admin/logout/everywhere"
                            title="End every signed-in session of this server" { "Sign out everywhere" }
                    }
                }
                @if let Some((name, active)) = account {
                    nav.tabs aria-label="Account sections" {
                        @for tab in Tab::ALL {
                            a href=(tab.href(name)) aria-current=[(tab == active).then_some("page")] { (tab.label()) }
                        }
                    }
                }
                main #main {
                    @if let Some(notice) = &flash.notice {
                        p.flash.ok role="status" { (notice) }
                    }
                    @if let Some(error) = &flash.error {
                        p.flash.err role="alert" { (error) }
                    }
                    (content)
                }
            }
        }
    }
}

/// A page outside any session (the login form, errors before login).
fn bare_page(title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Account Center" }
                link rel="stylesheet" href="/admin/assets/app.css";
            }
            body.bare {
                main #main { (content) }
            }
        }
    }
}

/// What a path segment keeps unencoded (RFC 3986 unreserved characters).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A URL path segment: account and configuration names may hold spaces and the like.
fn path_segment(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, SEGMENT).to_string()
}

impl From<Result<String, CenterError>> for Flash {
    fn from(outcome: Result<String, CenterError>) -> Flash {
        match outcome {
            Ok(notice) => Flash {
                notice: Some(notice),
                error: None,
            },
            Err(e) => Flash {
                notice: None,
                error: Some(e.to_string()),
            },
        }
    }
}

/// Redirect (303) to `to`, whose flash line shows the outcome.
async fn back(
    state: &AppState,
    session: &Session,
    to: &str,
    outcome: Result<String, CenterError>,
) -> Response {
    session.leave(state, &Flash::from(outcome)).await;
    Redirect::to(to).into_response()
}

/// Microseconds as a readable UTC time.
fn when(micros: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_micros(micros)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(path_segment("Entra ID/1"), "Entra%20ID%2F1");
        assert_eq!(path_segment("acme-co_1"), "acme-co_1");
    }

    #[test]
    fn times_read_as_utc() {
        assert_eq!(when(0), "1970-01-01 00:00:00 UTC");
    }
}
