//! The middleware that writes one activity (journal) record per authenticated SCIM
//! request; the `Scim` extractor hands handlers the request's note to say what the
//! request did. With `journal_capture` on, the record also keeps the exchanged headers
//! and bodies (see `crate::journal`). It also tells the client which tolerances fired
//! (`X-Scim-Tolerated`) and logs them.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body::Body as _;

use super::AppState;
use super::capture::{Captured, SharedCapture, TeeBody, header_pairs, lock};
use super::error::ErrorDetail;
use super::overload::DeadlinePassed;
use crate::activity::Exchange;
use crate::activity::{ActivityNote, ActivityRecord, RequestFacts};
use crate::journal::{redact_body, redact_headers};
use crate::tasks::ActivityWriter;

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
    let request_id = header_text(request.headers(), "x-request-id");
    let user_agent = header_text(request.headers(), header::USER_AGENT.as_str());
    let capture = state.settings.journal_capture;
    let limit = state.settings.journal_body_limit;
    let request_body = SharedCapture::default();
    let request_headers = capture.then(|| redact_headers(header_pairs(request.headers())));
    if capture {
        request = request.map(|body| Body::new(TeeBody::new(body, request_body.clone(), limit)));
    }
    let at = state.clock.now_micros();
    let started = Instant::now();
    let deadline = request.extensions().get::<DeadlinePassed>().cloned();
    // Until the handler answers, a dropped future (the client went away, or the deadline
    // passed) is still journaled, with what the request sent.
    let mut pending = Unanswered {
        state: state.clone(),
        note: note.clone(),
        request_body: request_body.clone(),
        deadline,
        started,
        facts: Some(RequestFacts {
            at,
            request_id,
            method,
            path,
            status: 0,
            latency_us: 0,
            detail: None,
            user_agent,
            exchange: Exchange {
                request_headers,
                ..Exchange::default()
            },
        }),
    };
    let mut response = next.run(request).await;
    let Some(mut facts) = pending.facts.take() else {
        return response;
    };
    let fired = note.fired();
    if !fired.is_empty() {
        let names: Vec<&str> = fired.iter().map(|t| t.as_str()).collect();
        let names = names.join(",");
        tracing::info!(tolerances = %names, path = %facts.path, "client departed from RFC 7644");
        if let Ok(value) = HeaderValue::from_str(&names) {
            response.headers_mut().insert(TOLERATED, value);
        }
    }
    facts.latency_us = elapsed_micros(started);
    facts.detail = response.extensions().get::<ErrorDetail>().map(|d| d.0.clone());
    facts.status = match response.extensions().get::<NoAnswer>() {
        // The client gets no status line: the journal says so rather than the 200 of the
        // response that was never sent.
        Some(NoAnswer(why)) => {
            note.outcome(*why);
            0
        }
        None => response.status().as_u16(),
    };
    let request_headers = facts.exchange.request_headers.take();
    let Some(mut record) = note.finish(facts) else {
        return response;
    };
    super::metrics::tolerances_fired(&record.tolerances);
    if !capture {
        state.activity.record(record);
        return response;
    }
    let (request_body, request_body_truncated) = body_text(&lock(&pending.request_body));
    record.exchange = Exchange {
        request_headers,
        request_body,
        request_body_truncated,
        response_headers: Some(redact_headers(header_pairs(response.headers()))),
        ..Exchange::default()
    };
    let (parts, body) = response.into_parts();
    let known_small = body
        .size_hint()
        .exact()
        .is_some_and(|n| usize::try_from(n).is_ok_and(|n| n <= limit));
    if known_small {
        // Built in memory (every SCIM response): copy it and record before answering,
        // so a client that reads the journal next finds this request in it.
        let bytes = match axum::body::to_bytes(body, limit).await {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!(error = %e, "response body could not be read for the journal");
                axum::body::Bytes::new()
            }
        };
        (record.exchange.response_body, _) = body_text(&Captured {
            bytes: bytes.to_vec(),
            truncated: false,
        });
        state.activity.record(record);
        return Response::from_parts(parts, Body::from(bytes));
    }
    // Large or streamed: copy the first bytes as they are sent, record at the end.
    let response_body = SharedCapture::default();
    let writer = state.activity.clone();
    let tee = TeeBody::new(body, response_body.clone(), limit)
        .on_end(move || finish_streamed(&writer, record, &response_body));
    Response::from_parts(parts, Body::new(tee))
}

/// A response that is never sent: the connection closes instead (an injected `drop`
/// fault), and why, for the journal's outcome.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NoAnswer(pub(crate) &'static str);

/// The journal record of a request whose handler has not answered yet: written when
/// the request is dropped unanswered.
struct Unanswered {
    state: AppState,
    note: ActivityNote,
    request_body: SharedCapture,
    deadline: Option<DeadlinePassed>,
    started: Instant,
    /// Taken when the handler answers.
    facts: Option<RequestFacts>,
}

impl Drop for Unanswered {
    fn drop(&mut self) {
        let Some(mut facts) = self.facts.take() else {
            return;
        };
        facts.latency_us = elapsed_micros(self.started);
        if self.deadline.as_ref().is_some_and(DeadlinePassed::passed) {
            facts.status = 503;
            self.note
                .outcome("timed out: the server answered 503 at request_timeout_secs");
        } else {
            self.note
                .outcome("no answer: the client closed the connection first");
        }
        if self.state.settings.journal_capture {
            let (body, truncated) = body_text(&lock(&self.request_body));
            facts.exchange.request_body = body;
            facts.exchange.request_body_truncated = truncated;
        }
        if let Some(record) = self.note.finish(facts) {
            self.state.activity.record(record);
        }
    }
}

fn elapsed_micros(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX)
}

fn header_text(headers: &header::HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn finish_streamed(writer: &ActivityWriter, mut record: ActivityRecord, body: &SharedCapture) {
    let (text, truncated) = body_text(&lock(body));
    record.exchange.response_body = text;
    record.exchange.response_body_truncated = truncated;
    writer.record(record);
}

/// A captured body as redacted text (`None` when empty) and whether it was cut.
fn body_text(captured: &Captured) -> (Option<String>, bool) {
    if captured.bytes.is_empty() && !captured.truncated {
        return (None, false);
    }
    (Some(redact_body(&captured.bytes)), captured.truncated)
}
