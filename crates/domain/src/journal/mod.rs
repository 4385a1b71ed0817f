//! The request journal: the activity log as a test oracle. Each SCIM request's record
//! also keeps what was exchanged — headers and bodies with secrets redacted, bodies cut
//! at a size cap ([`Exchange`](crate::activity::Exchange)) — so a connector's test can
//! ask what its client sent ([`expect`]). How a request is captured (the body tee) is the
//! application's (`http/capture.rs`).

pub mod diff;
pub mod expect;
mod pattern;
mod redact;

pub use redact::{redact_body, redact_headers};

/// What the journal captures (`journal_capture`, `journal_body_limit`).
#[derive(Debug, Clone, Copy)]
pub struct CaptureSettings {
    /// Headers and bodies are kept; off, a record has only the request line, status,
    /// outcome and timing.
    pub enabled: bool,
    /// Bytes of each body kept; the rest is counted as truncated.
    pub body_limit: usize,
}
