//! The middleware that writes one activity record per authenticated SCIM request; the
//! `Scim` extractor hands handlers the request's note to say what the request did. It
//! also tells the client which tolerances fired (`X-Scim-Tolerated`) and logs them.

use std::time::Instant;

use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use super::error::ErrorDetail;
use crate::activity::{ActivityNote, RequestFacts};

/// The tolerances that fired for this request, comma-separated (`capitalised_op,string_boolean`),
/// so a connector author sees where the client left the RFC without the admin log.
const TOLERATED: HeaderName = HeaderName::from_static("x-scim-tolerated");

pub(crate) async fn record(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let note = ActivityNote::default();
    request.extensions_mut().insert(note.clone());
    let method = request.method().to_string();
    // Inside `nest`, the URI has lost its mount: log the path the client sent.
    let uri = request
        .extensions()
        .get::<OriginalUri>()
        .map(|OriginalUri(uri)| uri.clone())
        .unwrap_or_else(|| request.uri().clone());
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let at = state.clock.now_micros();
    let started = Instant::now();
    let mut response = next.run(request).await;
    let fired = note.fired();
    if !fired.is_empty() {
        let names: Vec<&str> = fired.iter().map(|t| t.as_str()).collect();
        let names = names.join(",");
        tracing::info!(tolerances = %names, %path, "client departed from RFC 7644");
        if let Ok(value) = HeaderValue::from_str(&names) {
            response.headers_mut().insert(TOLERATED, value);
        }
    }
    let facts = RequestFacts {
        at,
        request_id,
        method,
        path,
        status: response.status().as_u16(),
        latency_us: i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX),
        detail: response.extensions().get::<ErrorDetail>().map(|d| d.0.clone()),
    };
    if let Some(record) = note.finish(facts) {
        super::metrics::tolerances_fired(&record.tolerances);
        state.activity.record(record);
    }
    response
}
