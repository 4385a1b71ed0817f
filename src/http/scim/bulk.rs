//! `POST /Bulk` (RFC 7644 §3.7). Each operation is sent, as a request of its own,
//! through the same SCIM routes a single request takes: the same handlers, licensing,
//! fidelity settings and activity journal (one record per operation, plus one for the
//! Bulk request). This file only orders the operations, resolves `bulkId` references
//! and gathers the BulkResponse.

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::extract::{OriginalUri, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::accounts::fidelity::FidelityRefusal;
use crate::http::error::{ApiError, ApiResult, ERROR_SCHEMA, SCIM_MEDIA_TYPE};
use crate::http::extract::{Scim, ScimJson};
use crate::http::render::scim_json;
use crate::scim::bulk::{BULK_RESPONSE, BulkOperation, BulkRequest, Next, next};

/// Headers of the Bulk request each operation carries too: who is calling, where the
/// client reached the server, and the request id that ties the journal records together.
const FORWARDED: [header::HeaderName; 3] = [
    header::AUTHORIZATION,
    header::HOST,
    header::HeaderName::from_static("x-request-id"),
];

pub(super) async fn bulk(
    operations: Router,
    scim: Scim,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    if !scim.principal.account.fidelity.bulk {
        return Err(FidelityRefusal::Bulk.into());
    }
    let request = BulkRequest::parse(&body)?;
    let max = scim.state.settings.bulk_max_operations;
    // RFC 7644 §3.7.4: past either limit the answer is 413, naming the limit. (The
    // payload limit, maxPayloadSize, is the body limit every request has.)
    if request.operations.len() > max as usize {
        return Err(ApiError::PayloadTooLarge(format!(
            "the BulkRequest has {} operations; maxOperations is {max}",
            request.operations.len()
        )));
    }
    // The mount the client used (`/scim/v2`, `/scim` or none): each operation is
    // located under it, as it would be as a single request.
    let mount = uri
        .path()
        .trim_end_matches('/')
        .rsplit_once('/')
        .map_or("", |(mount, _)| mount)
        .to_owned();
    let requested = request.operations.len();
    // A cycle of references adds, per POST it splits, the PATCH completing it (run
    // later, reported in that POST's entry: the client did not send it).
    let mut ops = request.operations;
    let mut references: Vec<_> = ops.iter().map(BulkOperation::references).collect();
    let mut pending: Vec<usize> = (0..ops.len()).collect();
    let mut completes: HashMap<usize, usize> = HashMap::new();
    let mut created: HashMap<String, String> = HashMap::new();
    let mut results: Vec<Value> = Vec::with_capacity(ops.len());
    let mut errors = 0_u64;
    while let Some(step) = next(&ops, &references, &pending, &created) {
        let (index, result) = match step {
            Next::Run(index) => {
                let op = ops[index].resolved(&created);
                let (result, id) = run(&operations, &headers, &mount, &op).await;
                if let (Some(bulk_id), Some(id)) = (&op.bulk_id, id) {
                    created.insert(bulk_id.clone(), id);
                }
                (index, result)
            }
            Next::Split(index, split) => {
                let op = split.create.resolved(&created);
                let (result, id) = run(&operations, &headers, &mount, &op).await;
                if let (Some(bulk_id), Some(id)) = (&op.bulk_id, id) {
                    created.insert(bulk_id.clone(), id);
                    completes.insert(ops.len(), results.len());
                    pending.push(ops.len());
                    references.push(split.complete.references());
                    ops.push(split.complete);
                }
                (index, result)
            }
            Next::Unresolvable(index, bulk_id) => (
                index,
                failed(
                    &ops[index],
                    StatusCode::BAD_REQUEST,
                    Some("invalidValue"),
                    &format!("bulkId:{bulk_id} names no resource created in this request"),
                ),
            ),
            Next::Circular(index) => (
                index,
                failed(
                    &ops[index],
                    StatusCode::CONFLICT,
                    None,
                    "the bulkId references of the remaining operations form a cycle",
                ),
            ),
        };
        pending.retain(|&i| i != index);
        let failure = result["status"].as_str().is_some_and(|s| !s.starts_with('2'));
        if failure {
            errors += 1;
        }
        match completes.get(&index).and_then(|&entry| results.get_mut(entry)) {
            Some(entry) => complete(entry, result, failure),
            None => results.push(result),
        }
        // RFC 7644 §3.7.3: after failOnErrors errors, stop and answer what was done.
        if request.fail_on_errors.is_some_and(|limit| errors >= limit) {
            break;
        }
    }
    scim.note.outcome(format!(
        "bulk: {} of {requested} operation(s) run, {errors} failed",
        results.len(),
    ));
    Ok(scim_json(
        StatusCode::OK,
        &json!({"schemas": [BULK_RESPONSE], "Operations": results}),
    ))
}

/// Fold the result of the PATCH completing a split POST into that POST's entry: its
/// `version` is the resource's version after the PATCH; a failed PATCH makes the entry
/// that failure (the resource exists, at `location`, without the references).
fn complete(entry: &mut Value, patch: Value, failure: bool) {
    if failure {
        entry["status"] = patch["status"].clone();
        entry["response"] = patch["response"].clone();
    } else if let Some(version) = patch.get("version") {
        entry["version"] = version.clone();
    }
}

/// The BulkResponse entry of an operation that failed before it could run.
fn failed(op: &BulkOperation, status: StatusCode, scim_type: Option<&str>, detail: &str) -> Value {
    let mut response = json!({
        "schemas": [ERROR_SCHEMA],
        "status": status.as_u16().to_string(),
        "detail": detail,
    });
    if let Some(t) = scim_type {
        response["scimType"] = json!(t);
    }
    let mut entry = json!({"method": op.method, "status": status.as_u16().to_string(), "response": response});
    if let Some(bulk_id) = &op.bulk_id {
        entry["bulkId"] = json!(bulk_id);
    }
    entry
}

/// Send one operation through the SCIM routes; its BulkResponse entry and, for a
/// created resource, its id.
async fn run(
    operations: &Router,
    headers: &HeaderMap,
    mount: &str,
    op: &BulkOperation,
) -> (Value, Option<String>) {
    let body = op
        .data
        .as_ref()
        .map_or_else(Body::empty, |data| Body::from(data.to_string()));
    let mut request = Request::new(body);
    *request.method_mut() = op.method.parse().unwrap_or_default();
    let internal_error = |detail: &str| {
        (
            failed(op, StatusCode::BAD_REQUEST, Some("invalidValue"), detail),
            None,
        )
    };
    let (Ok(path), Ok(original)) = (
        op.path.parse::<Uri>(),
        format!("{mount}{}", op.path).parse::<Uri>(),
    ) else {
        return internal_error("path is not a valid URI path");
    };
    *request.uri_mut() = path;
    request.extensions_mut().insert(OriginalUri(original));
    let forwarded = request.headers_mut();
    for name in FORWARDED {
        if let Some(value) = headers.get(&name) {
            forwarded.insert(name, value.clone());
        }
    }
    forwarded.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_MEDIA_TYPE));
    if let Some(version) = op.version.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
        forwarded.insert(header::IF_MATCH, version);
    }
    let response = match operations.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let (parts, body) = response.into_parts();
    let status = parts.status;
    let header_text = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let location = header_text(header::LOCATION);
    let version = header_text(header::ETAG);
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let body: Option<Value> = serde_json::from_slice(&bytes).ok();
    let mut entry = json!({"method": op.method, "status": status.as_u16().to_string()});
    if let Some(bulk_id) = &op.bulk_id {
        entry["bulkId"] = json!(bulk_id);
    }
    if let Some(location) = location {
        entry["location"] = json!(location);
    }
    if let Some(version) = version {
        entry["version"] = json!(version);
    }
    let mut created = None;
    if status.is_success() {
        created = body
            .as_ref()
            .and_then(|b| b.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned);
    } else if let Some(body) = body {
        // RFC 7644 §3.7.3: a non-2xx operation MUST carry its response body.
        entry["response"] = body;
    }
    (entry, created)
}
