//! Load shedding: a cap on requests in flight and a deadline per request, both answered
//! 503 + `Retry-After` with a SCIM error body. Health probes are mounted outside them so
//! an orchestrator still sees the process alive under load.
//!
//! Slots are taken per route class: a request without credentials, or one to the
//! sign-in form (whose body is read before anyone is authenticated), takes one of the
//! few anonymous slots, so slow anonymous clients cannot hold the slots SCIM and admin
//! API clients need (issue 30). A body read before authentication is bounded in size
//! and in time ([`bounded_body`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::error::ApiError;
use crate::config::Settings;

/// The in-flight slots, per route class.
pub(crate) struct Slots {
    /// Requests with credentials (a bearer token or a session cookie).
    authenticated: Semaphore,
    authenticated_cap: usize,
    /// Requests without, and every request to the sign-in form.
    anonymous: Semaphore,
    anonymous_cap: usize,
}

/// The sign-in form: its body is read before anyone is authenticated.
pub(crate) const SIGN_IN: &str = "/admin/login";

impl Slots {
    /// `max_in_flight_requests` in all, `max_anonymous_in_flight_requests` of them (at
    /// most half) for anonymous requests.
    pub(crate) fn from_settings(settings: &Settings) -> Slots {
        let to_usize = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
        let total = to_usize(settings.max_in_flight_requests.max(2));
        let anonymous_cap = to_usize(settings.max_anonymous_in_flight_requests.max(1)).min(total / 2);
        let authenticated_cap = total - anonymous_cap;
        Slots {
            authenticated: Semaphore::new(authenticated_cap),
            authenticated_cap,
            anonymous: Semaphore::new(anonymous_cap),
            anonymous_cap,
        }
    }

    /// Requests in flight of the authenticated class, and its cap (`/readyz`).
    pub(crate) fn authenticated_in_flight(&self) -> (usize, usize) {
        (
            self.authenticated_cap - self.authenticated.available_permits(),
            self.authenticated_cap,
        )
    }

    fn anonymous(request: &Request) -> bool {
        let headers = request.headers();
        request.uri().path() == SIGN_IN
            || (!headers.contains_key(header::AUTHORIZATION) && !headers.contains_key(header::COOKIE))
    }
}

/// Refuse a request when its class's slots are all taken.
pub(crate) async fn limit_in_flight(
    State(slots): State<Arc<Slots>>,
    request: Request,
    next: Next,
) -> Response {
    let anonymous = Slots::anonymous(&request);
    let class = if anonymous {
        &slots.anonymous
    } else {
        &slots.authenticated
    };
    match class.try_acquire() {
        Ok(_slot) => next.run(request).await,
        Err(_) => {
            let cap = if anonymous {
                slots.anonymous_cap
            } else {
                slots.authenticated_cap
            };
            tracing::warn!(anonymous, cap, "request refused: too many requests in flight");
            ApiError::Unavailable("the server is handling too many requests: retry later".into())
                .into_response()
        }
    }
}

/// The bounds of a body read before authentication (the sign-in form's):
/// `login_max_body_bytes` and `login_body_timeout_secs`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyBounds {
    pub(crate) max_bytes: usize,
    pub(crate) timeout: Duration,
}

impl BodyBounds {
    pub(crate) fn sign_in(settings: &Settings) -> BodyBounds {
        BodyBounds {
            max_bytes: settings.login_max_body_bytes.max(1),
            timeout: Duration::from_secs(settings.login_body_timeout_secs.max(1)),
        }
    }
}

/// Read the whole body within its bounds before the handler runs: a larger body is
/// answered 413 and a slower one 408, both closing the connection (the rest of the
/// body is never read).
pub(crate) async fn bounded_body(State(bounds): State<BodyBounds>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let refused = |status: StatusCode, text: String| {
        tracing::debug!(%status, "sign-in form body refused");
        (status, [(header::CONNECTION, "close")], text).into_response()
    };
    match tokio::time::timeout(bounds.timeout, axum::body::to_bytes(body, bounds.max_bytes)).await {
        Ok(Ok(bytes)) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Ok(Err(e)) if is_length_limit(&e) => refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the form is larger than {} bytes", bounds.max_bytes),
        ),
        Ok(Err(_)) => refused(StatusCode::BAD_REQUEST, "the form could not be read".into()),
        Err(_) => refused(
            StatusCode::REQUEST_TIMEOUT,
            format!("the form was not sent within {} s", bounds.timeout.as_secs()),
        ),
    }
}

/// Whether reading a body stopped at its length limit.
fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(error) = source {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = error.source();
    }
    false
}

/// Set when a request's deadline passed: the journal's record of a request dropped
/// then says it timed out (503), not that the client left.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeadlinePassed(Arc<AtomicBool>);

impl DeadlinePassed {
    pub(crate) fn passed(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Answer 503 when a request (its body upload included) outlives `request_timeout_secs`.
pub(crate) async fn deadline(State(limit): State<Duration>, mut request: Request, next: Next) -> Response {
    let passed = DeadlinePassed::default();
    request.extensions_mut().insert(passed.clone());
    // Pinned here, so the request is dropped when this returns, after the flag is set.
    let run = next.run(request);
    tokio::pin!(run);
    match tokio::time::timeout(limit, run.as_mut()).await {
        Ok(response) => response,
        Err(_) => {
            passed.0.store(true, Ordering::Relaxed);
            tracing::warn!(seconds = limit.as_secs(), "request timed out");
            ApiError::Unavailable(format!(
                "the request did not complete within {} s: retry later",
                limit.as_secs()
            ))
            .into_response()
        }
    }
}
