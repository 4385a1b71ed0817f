//! Sign-in and sign-out: the login form (outside any session), its POST that checks the
//! admin token and starts a session, and the sign-out button of every page.

use axum::Form;
use axum::extract::State;
use axum::http::header::{self, HeaderValue};
use axum::http::{Extensions, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::PrivateCookieJar;
use maud::html;
use serde::Deserialize;

use super::{CsrfForm, Page, PageError};
use crate::accounts::BearerToken;
use crate::http::AppState;
use crate::http::throttle::{Wait, client_address};
use crate::http::ui::bare_page;
use crate::http::ui::session::{self, LOGIN_COOKIE, SESSION_COOKIE, Session};

#[derive(Debug, Deserialize)]
pub(in crate::http::ui) struct LoginForm {
    token: String,
    csrf: String,
}

pub(in crate::http::ui) async fn login_form(
    State(state): State<AppState>,
    jar: PrivateCookieJar,
) -> Response {
    login_page(&state, jar, StatusCode::OK, None)
}

/// The sign-in form with a fresh CSRF token; a refused sign-in shows why, in the answer
/// to its POST (never from the URL, where a crafted link could word the alert).
fn login_page(state: &AppState, jar: PrivateCookieJar, status: StatusCode, error: Option<&str>) -> Response {
    let csrf = session::random_token();
    let jar = jar.add(session::cookie(state, LOGIN_COOKIE, csrf.clone()));
    let content = html! {
        section.card.login {
            h1 { span.logo aria-hidden="true" { "in" } " Account Center" }
            p.muted { "Sign in with the admin token: the server prints it at start-up, or it is the one given with " code { "--admin-token" } "." }
            @if let Some(error) = error {
                p.flash.err role="alert" { (error) }
            }
            form method="post" action="/admin/login" {
                input type="hidden" name="csrf" value=(csrf);
                label for="token" { "Admin token" }
                input #token type="password" name="token" autocomplete="current-password" required autofocus;
                button.primary type="submit" { "Sign in" }
            }
        }
    };
    (status, jar, bare_page("Sign in", content)).into_response()
}

pub(in crate::http::ui) async fn login(
    State(state): State<AppState>,
    extensions: Extensions,
    jar: PrivateCookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    let client = client_address(&extensions);
    if let Err(wait) = state.auth_failures.admit(client) {
        return too_many_failures(&state, jar, wait);
    }
    let expected = jar.get(LOGIN_COOKIE).map(|c| c.value().to_owned());
    if expected.as_deref() != Some(form.csrf.as_str()) {
        return login_page(
            &state,
            jar,
            StatusCode::FORBIDDEN,
            Some("the sign-in form expired: try again"),
        );
    }
    let valid = BearerToken::parse(form.token.trim()).is_some_and(|t| state.admin_token.matches(&t.hash().0));
    if !valid {
        if let Err(wait) = state.auth_failures.failed(client) {
            return too_many_failures(&state, jar, wait);
        }
        return login_page(
            &state,
            jar,
            StatusCode::FORBIDDEN,
            Some("that is not this server's admin token"),
        );
    }
    let jar = jar.remove(session::cookie(&state, LOGIN_COOKIE, String::new()));
    match Session::start(&state, jar.clone()).await {
        Ok(jar) => (jar, Redirect::to("/admin/accounts")).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "admin session not recorded");
            login_page(
                &state,
                jar,
                StatusCode::SERVICE_UNAVAILABLE,
                Some("the database is not answering: try again in a moment"),
            )
        }
    }
}

/// 429 with `Retry-After`: this address gave too many wrong admin tokens.
fn too_many_failures(state: &AppState, jar: PrivateCookieJar, wait: Wait) -> Response {
    let message = format!(
        "too many wrong admin tokens from this address: try again in {} s",
        wait.0
    );
    let mut response = login_page(state, jar, StatusCode::TOO_MANY_REQUESTS, Some(&message));
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait.0));
    response
}

/// Sign out: the session ends server-side, so its cookie is worthless even if copied.
pub(in crate::http::ui) async fn logout(
    State(state): State<AppState>,
    session: Session,
    jar: PrivateCookieJar,
    Form(form): Form<CsrfForm>,
) -> Page {
    session.check(&form.csrf)?;
    session
        .end(&state)
        .await
        .map_err(|e| PageError::Failed(session.clone(), e.into()))?;
    let jar = jar.remove(session::cookie(&state, SESSION_COOKIE, String::new()));
    Ok((jar, Redirect::to("/admin/login")).into_response())
}

/// Sign out everywhere: every session of this server ends, this one included (a token
/// shown on a shared screen, a laptop left signed in).
pub(in crate::http::ui) async fn logout_everywhere(
    State(state): State<AppState>,
    session: Session,
    jar: PrivateCookieJar,
    Form(form): Form<CsrfForm>,
) -> Page {
    session.check(&form.csrf)?;
    let ended = state
        .store
        .end_all_sessions()
        .await
        .map_err(|e| PageError::Failed(session.clone(), e.into()))?;
    tracing::info!(sessions = ended, "every Account Center session ended");
    let jar = jar.remove(session::cookie(&state, SESSION_COOKIE, String::new()));
    Ok((jar, Redirect::to("/admin/login")).into_response())
}
