//! The journal's capture of a request and its response (see the domain's `journal`):
//! capturing never buffers a request. The request body is copied as the handler reads
//! it, up to the cap ([`TeeBody`]); a response body of known size up to the cap is
//! copied whole (SCIM responses are built in memory), a larger or streamed one is copied
//! as it is sent and recorded when it ends.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::Bytes;
use axum::http::HeaderMap;
use http_body::{Body, Frame, SizeHint};

/// Headers as the journal's redaction reads them: (name, value) pairs.
pub(crate) fn header_pairs(headers: &HeaderMap) -> impl Iterator<Item = (&str, &[u8])> {
    headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
}

/// The first bytes of a body, as far as it was read.
#[derive(Debug, Default)]
pub(crate) struct Captured {
    pub(crate) bytes: Vec<u8>,
    pub(crate) truncated: bool,
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
pub(crate) type SharedCapture = Arc<Mutex<Captured>>;

pub(crate) fn lock(capture: &SharedCapture) -> std::sync::MutexGuard<'_, Captured> {
    capture.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A body that copies the first `limit` bytes passing through it into `capture`, and
/// runs `on_end` once when it ends or is dropped (a response's record is written then).
pub(crate) struct TeeBody<B> {
    inner: B,
    capture: SharedCapture,
    limit: usize,
    on_end: Option<Box<dyn FnOnce() + Send>>,
}

impl<B> TeeBody<B> {
    pub(crate) fn new(inner: B, capture: SharedCapture, limit: usize) -> Self {
        TeeBody {
            inner,
            capture,
            limit,
            on_end: None,
        }
    }

    pub(crate) fn on_end(mut self, f: impl FnOnce() + Send + 'static) -> Self {
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
