//! The pages and form actions of the web UI, one module per page; what they share (the
//! [`AccountPage`] extractor, the [`PageError`] every page renders the same way, form
//! and table helpers) is here. GET handlers render; POST handlers check the CSRF token,
//! call the Account Center and redirect back with a notice or an error, left in the
//! session (a token just issued too, for the one view of it).

pub(super) mod accounts;
pub(super) mod activity;
pub(super) mod dashboard;
pub(super) mod groups;
pub(super) mod login;
pub(super) mod rules;
pub(super) mod settings;
pub(super) mod users;

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::session::{CsrfMismatch, Session};
use super::{Flash, Tab, page};
use crate::accounts::Account;
use crate::center::{Center, CenterError};
use crate::http::AppState;
use crate::licensing::Product;

/// What a page or form action answers: the page, a redirect, … or the error page.
type Page = Result<Response, PageError>;

/// Why a page could not be shown. Form actions that the Account Center refuses are not
/// errors here: they redirect back with the refusal in the flash line.
pub(super) enum PageError {
    /// A form without this session's CSRF token: 403.
    Csrf,
    /// The account named in the path: 404 if there is none, 500 if it could not be read.
    NotFound(Session, CenterError),
    /// An unexpected failure while rendering (the database is down, …): 500.
    Failed(Session, CenterError),
}

impl From<CsrfMismatch> for PageError {
    fn from(_: CsrfMismatch) -> PageError {
        PageError::Csrf
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Csrf => (
                StatusCode::FORBIDDEN,
                "the form's CSRF token does not match this session: reload the page and try again",
            )
                .into_response(),
            PageError::NotFound(session, e) => {
                let status = match e {
                    CenterError::NotFound(_) => StatusCode::NOT_FOUND,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                };
                let content = html! {
                    h1 { "Not found" }
                    p { (e.to_string()) ". " a href="/admin/accounts" { "Back to the accounts" } }
                };
                (
                    status,
                    page("Not found", &session, None, &Flash::default(), content),
                )
                    .into_response()
            }
            PageError::Failed(session, e) => {
                tracing::error!(error = %e, "admin page failed");
                let content = html! { h1 { "Something went wrong" } p { (e.to_string()) } };
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    page("Error", &session, None, &Flash::default(), content),
                )
                    .into_response()
            }
        }
    }
}

/// What every page of one account starts from: a session, and the account named in the
/// path (or a 404 page).
pub(super) struct AccountPage {
    state: AppState,
    session: Session,
    account: Account,
}

impl FromRequestParts<AppState> for AccountPage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state).await?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let name = params.get("account").map(String::as_str).unwrap_or_default();
        let account = account(&state.center(), &session, name)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(AccountPage {
            state: state.clone(),
            session,
            account,
        })
    }
}

/// The account named `name`, or a 404 page.
async fn account(center: &Center, session: &Session, name: &str) -> Result<Account, PageError> {
    center
        .account(name)
        .await
        .map_err(|e| PageError::NotFound(session.clone(), e))
}

/// An unexpected failure while rendering (the database is down, …).
fn failed(session: &Session, e: CenterError) -> PageError {
    PageError::Failed(session.clone(), e)
}

/// A form that carries only the session's CSRF token (sign-out, deletions, token refresh).
#[derive(Debug, Deserialize)]
pub(super) struct CsrfForm {
    csrf: String,
}

fn csrf_field(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

/// A form field: the label, then its control (which carries the id `id`).
fn field(id: &str, label: &str, control: Markup) -> Markup {
    html! { div.field { label for=(id) { (label) } (control) } }
}

/// A column's heading: `Hidden` ones are for screen readers only (a checkbox or actions column).
enum Heading {
    Shown(&'static str),
    Hidden(&'static str),
}

/// A table with a header row of `headings`; `body` is its `tbody`.
fn table(class: Option<&str>, headings: &[Heading], body: Markup) -> Markup {
    html! {
        table class=[class] {
            thead { tr {
                @for heading in headings {
                    @match heading {
                        Heading::Shown(text) => th scope="col" { (text) },
                        Heading::Hidden(text) => th scope="col" { span.sr { (text) } },
                    }
                }
            } }
            (body)
        }
    }
}

fn account_url(account: &Account, tab: Tab) -> String {
    tab.href(&account.name)
}

/// A product's name as LinkedIn shows it (the dashboard's instances, the users' licenses).
fn product_label(product: &str) -> &str {
    match product {
        Product::SALES_NAVIGATOR => "Sales Navigator",
        Product::LEARNING => "LinkedIn Learning",
        Product::ELEVATE => "Elevate",
        other => other,
    }
}
