//! Rendering stored resources as SCIM JSON (`id`, `meta`, projection), versions as
//! weak ETags, and the conditional-request headers.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::SCIM_MEDIA_TYPE;
use crate::clock::rfc3339;
use crate::store::ResourceRecord;

/// The weak ETag of a stored version (RFC 7644 §3.14).
pub(crate) fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// The full SCIM representation of a record (before projection). The document moves
/// out of the record (left `null`) rather than being copied.
pub(crate) fn render(
    record: &mut ResourceRecord,
    resource_type: &str,
    endpoint: &str,
    base_url: &str,
) -> Value {
    let mut doc = match record.doc.take() {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    doc.insert("id".into(), json!(record.id));
    doc.insert(
        "meta".into(),
        json!({
            "resourceType": resource_type,
            "created": rfc3339(record.created_at),
            "lastModified": rfc3339(record.updated_at),
            "location": format!("{base_url}/{endpoint}/{}", record.id),
            "version": etag(record.version),
        }),
    );
    Value::Object(doc)
}

/// A SCIM JSON response with the SCIM media type.
pub(crate) fn scim_json(status: StatusCode, body: &Value) -> Response {
    // Straight to bytes; serializing a `Value` cannot fail.
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = (status, bytes).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_MEDIA_TYPE));
    response
}

/// A single-resource response: `ETag` always, `Location` on create.
pub(crate) fn resource_response(
    status: StatusCode,
    body: &Value,
    version: i64,
    location: Option<&str>,
) -> Response {
    let mut response = scim_json(status, body);
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag(version)) {
        headers.insert(header::ETAG, v);
    }
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        headers.insert(header::LOCATION, location);
    }
    response
}

/// 204 for a write whose client asked for no body; the `ETag` still tells the version.
pub(crate) fn no_content(version: i64) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(version)) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

/// Does an `If-Match` / `If-None-Match` header list name this version? `*` names any.
fn header_names_version(headers: &HeaderMap, name: header::HeaderName, version: i64) -> Option<bool> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if values.is_empty() {
        return None;
    }
    let current = etag(version);
    let strong = format!("\"{version}\"");
    Some(
        values
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .any(|tag| tag == "*" || tag == current || tag == strong),
    )
}

/// `If-Match` on a write: does the client's precondition fail for this version? A
/// failed precondition is answered with 412 (RFC 7644 §3.14).
pub(crate) fn if_match_fails(headers: &HeaderMap, version: i64) -> bool {
    header_names_version(headers, header::IF_MATCH, version) == Some(false)
}

/// `If-None-Match` on a read: the client already has this version.
pub(crate) fn not_modified(headers: &HeaderMap, version: i64) -> bool {
    header_names_version(headers, header::IF_NONE_MATCH, version) == Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditional_headers_compare_weak_and_strong_tags() {
        let mut headers = HeaderMap::new();
        assert!(!if_match_fails(&headers, 3));
        headers.insert(header::IF_MATCH, HeaderValue::from_static("W/\"2\", W/\"3\""));
        assert!(!if_match_fails(&headers, 3));
        assert!(if_match_fails(&headers, 4));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"4\""));
        assert!(not_modified(&headers, 4));
        assert!(!not_modified(&headers, 5));
    }
}
