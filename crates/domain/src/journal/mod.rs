//! The request journal: the activity log as a test oracle. Each SCIM request's record
//! also keeps what was exchanged — headers and bodies with secrets redacted, bodies cut
//! at a size cap — so a connector's test can ask what its client sent ([`expect`]).
//! How a request is captured (the body tee) is the application's (`http/capture.rs`).

pub mod expect;
mod redact;

use std::collections::BTreeMap;

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
pub fn serialize_time<S: serde::Serializer>(micros: &i64, s: S) -> Result<S::Ok, S::Error> {
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
