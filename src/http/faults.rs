//! Fault injection over HTTP: the middleware that injects a fault into a SCIM request
//! (the admin API that sets and clears faults is `admin_api/faults.rs`).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Frame;

use super::AppState;
use super::activity::NoAnswer;
use super::error::ApiError;
use super::extract::bearer_token;
use crate::accounts::admit;
use crate::activity::ActivityNote;
use crate::faults::{FaultKind, Target};

/// Inject the fault that hits this request, if one is set. Costs nothing while none is:
/// only then is the token looked up here (before the handler does) to know the
/// configuration.
pub(crate) async fn inject(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !state.faults.any() {
        return next.run(request).await;
    }
    let Some(kind) = fault_for(&state, probe(&request)).await else {
        return next.run(request).await;
    };
    // The body first, as a client sends it before it waits: the journal keeps the body
    // of every faulted request, whether a handler reads it or not (a retry's body can be
    // compared with it) and whether or not the client stays for the answer.
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, state.settings.max_body_bytes).await {
        Ok(body) => body,
        Err(e) => {
            return ApiError::PayloadTooLarge(format!(
                "the request body could not be read within the server's limit: {e}"
            ))
            .into_response();
        }
    };
    match kind {
        FaultKind::Latency { millis } => {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            next.run(Request::from_parts(parts, Body::from(body))).await
        }
        FaultKind::Error { status } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            ApiError::Injected(status, format!("injected fault: {status}")).into_response()
        }
        FaultKind::Throttle { retry_after_seconds } => {
            let mut response = ApiError::Injected(
                StatusCode::TOO_MANY_REQUESTS,
                "injected fault: too many requests, retry later".into(),
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
            response
        }
        // A body that fails at once: the server closes the connection without an answer.
        FaultKind::Drop {} => {
            let mut response = Response::new(Body::new(Dropped));
            response
                .extensions_mut()
                .insert(NoAnswer("dropped: the connection was closed without an answer"));
            response
        }
    }
}

/// What a fault looks at in a request, taken out of it (a `&Request` cannot be held
/// across an await).
struct Probe {
    hash: crate::accounts::TokenHash,
    method: String,
    path: String,
    note: Option<ActivityNote>,
}

fn probe(request: &Request) -> Option<Probe> {
    Some(Probe {
        hash: bearer_token(request.headers()).ok()?.hash(),
        method: request.method().as_str().to_owned(),
        path: request
            .extensions()
            .get::<OriginalUri>()
            .and_then(|OriginalUri(uri)| uri.path_and_query())
            .map_or_else(String::new, |p| p.as_str().to_owned()),
        note: request.extensions().get::<ActivityNote>().cloned(),
    })
}

/// The fault for this request: its token's configuration, method and path.
async fn fault_for(state: &AppState, probe: Option<Probe>) -> Option<FaultKind> {
    let Probe {
        hash,
        method,
        path,
        note,
    } = probe?;
    let (method, path) = (method.as_str(), path.as_str());
    let now = state.clock.now_micros();
    let found = state.store.find_token(&hash).await.ok()?;
    let principal = admit(&hash, found, now).ok()?;
    let kind = state.faults.hit(Target {
        account_id: &principal.account.id,
        configuration: &principal.configuration.name,
        method,
        path,
        now,
    })?;
    if let Some(note) = note {
        note.principal(&principal);
        note.injected(kind.describe());
    }
    Some(kind)
}

/// A response body that errors on its first poll.
struct Dropped;

impl http_body::Body for Dropped {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "injected fault: connection dropped",
        ))))
    }
}
