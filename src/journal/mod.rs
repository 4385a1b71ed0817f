//! The request journal: the activity log as a test oracle. Each SCIM request's record
//! also keeps what was exchanged — headers and bodies with secrets redacted, bodies cut
//! at a size cap — so a connector's test can ask what its client sent ([`expect`]).
//!
//! Capturing never buffers a request: the request body is copied as the handler reads
//! it, up to the cap ([`TeeBody`]); a response body of known size up to the cap is
//! copied whole (SCIM responses are built in memory), a larger or streamed one is copied
//! as it is sent and recorded when it ends.

pub mod expect;
mod redact;

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use serde::{Deserialize, Serialize};

pub use redact::{redact_body, redact_headers};

/// What a request and its response carried, as the journal keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Exchange {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_headers: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_body: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub request_body_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_headers: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub response_body_truncated: bool,
}

/// Store microseconds as RFC 3339 in JSON.
pub(crate) fn serialize_time<S: serde::Serializer>(micros: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::clock::rfc3339(*micros))
}

/// What the journal captures (`journal_capture`, `journal_body_limit`).
#[derive(Debug, Clone, Copy)]
pub struct CaptureSettings {
    /// Headers and bodies are kept; off, a record has only the request line, status,
    /// outcome and timing.
    pub enabled: bool,
    /// Bytes of each body kept; the rest is counted as truncated.
    pub body_limit: usize,
}

/// The first bytes of a body, as far as it was read.
#[derive(Debug, Default)]
pub struct Captured {
    pub bytes: Vec<u8>,
    pub truncated: bool,
}

impl Captured {
    fn take(&mut self, data: &[u8], limit: usize) {
        let room = limit.saturating_sub(self.bytes.len());
        if data.len() > room {
            self.truncated = true;
        }
        self.bytes.extend_from_slice(&data[..data.len().min(room)]);
    }
}

/// A shared capture a [`TeeBody`] writes into.
pub type SharedCapture = Arc<Mutex<Captured>>;

pub(crate) fn lock(capture: &SharedCapture) -> std::sync::MutexGuard<'_, Captured> {
    capture.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A body that copies the first `limit` bytes passing through it into `capture`, and
/// runs `on_end` once when it ends or is dropped (a response's record is written then).
pub struct TeeBody<B> {
    inner: B,
    capture: SharedCapture,
    limit: usize,
    on_end: Option<Box<dyn FnOnce() + Send>>,
}

impl<B> TeeBody<B> {
    pub fn new(inner: B, capture: SharedCapture, limit: usize) -> Self {
        TeeBody {
            inner,
            capture,
            limit,
            on_end: None,
        }
    }

    pub fn on_end(mut self, f: impl FnOnce() + Send + 'static) -> Self {
        self.on_end = Some(Box::new(f));
        self
    }

    fn end(&mut self) {
        if let Some(f) = self.on_end.take() {
            f();
        }
    }
}

impl<B> Drop for TeeBody<B> {
    fn drop(&mut self) {
        self.end();
    }
}

impl<B> Body for TeeBody<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let limit = self.limit;
                    lock(&self.capture).take(data, limit);
                }
            }
            Poll::Ready(None) => self.end(),
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// How often the journal is pruned to its retention.
pub const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Prune the journal to `retention` now and every [`PRUNE_EVERY`], in a task of its own
/// (requests never wait for it; the deletes are small). Abort the handle at shutdown.
pub fn start_pruning(
    store: Arc<dyn crate::store::Store>,
    clock: Arc<dyn crate::clock::Clock>,
    retention: crate::store::Retention,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PRUNE_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match store.prune_activity(&retention, clock.now_micros()).await {
                Ok(0) => {}
                Ok(pruned) => tracing::debug!(pruned, "journal pruned to its retention"),
                Err(e) => tracing::warn!(error = %e, "journal pruning failed; retrying later"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capture_keeps_only_up_to_its_limit() {
        let mut c = Captured::default();
        c.take(b"hello ", 8);
        c.take(b"world", 8);
        assert_eq!(c.bytes, b"hello wo");
        assert!(c.truncated);
    }
}
