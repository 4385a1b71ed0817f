//! Input hygiene applied before any handler: request ids the server will echo and log,
//! and the NUL character, which Postgres cannot store in text (it answered 500) and no
//! SCIM value needs.

use axum::extract::Request;
use axum::http::{HeaderValue, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::REQUEST_ID;
use super::error::ApiError;
use crate::scim::error::ProtocolError;

/// Longest client-sent `X-Request-Id` kept; longer or unprintable ones are replaced by a
/// generated id (the header is echoed and stored in the activity log).
pub(crate) const MAX_REQUEST_ID: usize = 128;

fn acceptable_request_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty() && bytes.len() <= MAX_REQUEST_ID && bytes.iter().all(u8::is_ascii_graphic)
}

/// Drop an `X-Request-Id` the server will not echo, so the request-id layer (which runs
/// next) generates one.
pub(crate) async fn request_id(mut request: Request, next: Next) -> Response {
    if request
        .headers()
        .get(&REQUEST_ID)
        .is_some_and(|v| !acceptable_request_id(v))
    {
        request.headers_mut().remove(&REQUEST_ID);
    }
    next.run(request).await
}

/// Whether the URI's path or query carries an encoded NUL (`%00`; a raw NUL cannot
/// appear in a URI).
fn uri_has_nul(uri: &Uri) -> bool {
    uri.path_and_query()
        .is_some_and(|p| p.as_str().as_bytes().windows(3).any(|w| w == b"%00"))
}

pub(crate) const NUL_REFUSAL: &str =
    "the NUL character (U+0000) is not allowed in SCIM values, paths or query parameters";

/// Refuse a request whose path or query holds a NUL, before it reaches the database.
pub(crate) async fn refuse_nul(request: Request, next: Next) -> Response {
    if uri_has_nul(request.uri()) {
        return ApiError::Protocol(ProtocolError::invalid_value(NUL_REFUSAL)).into_response();
    }
    next.run(request).await
}

/// Whether any string (value or member name) of a JSON document holds a NUL.
pub(crate) fn json_has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(json_has_nul),
        Value::Object(members) => members.iter().any(|(k, v)| k.contains('\0') || json_has_nul(v)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_ids_are_short_printable_ascii() {
        assert!(acceptable_request_id(&HeaderValue::from_static("abc-123_x.y")));
        assert!(!acceptable_request_id(&HeaderValue::from_static("")));
        assert!(!acceptable_request_id(&HeaderValue::from_static("with space")));
        let long = "a".repeat(MAX_REQUEST_ID + 1);
        assert!(!acceptable_request_id(
            &HeaderValue::from_str(&long).expect("a long ASCII header value")
        ));
    }

    #[test]
    fn nul_is_found_in_uris_and_nested_json() {
        assert!(uri_has_nul(&Uri::from_static("/scim/v2/Users/%00")));
        assert!(uri_has_nul(&Uri::from_static(
            "/scim/v2/Users?filter=userName%20eq%20%22a%00%22"
        )));
        assert!(!uri_has_nul(&Uri::from_static("/scim/v2/Users/%2500")));
        assert!(json_has_nul(&json!({"members": [{"value": "a\u{0}b"}]})));
        assert!(json_has_nul(&json!({"a\u{0}": 1})));
        assert!(!json_has_nul(&json!({"userName": "a@b", "active": true})));
    }
}
