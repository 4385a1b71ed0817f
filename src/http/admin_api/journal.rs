//! The request journal over the admin API: query with filters and paging, export as
//! JSON lines, assert with `expect`, prune now. Each call first waits for the records
//! queued so far to be written, so a test reads its own requests.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::auth::{Admin, account, body_as};
use crate::center::ActivityFilter;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ScimJson, query_params};
use crate::journal::expect::{Expectation, Gap, Matcher, Range};
use crate::scim::error::ProtocolError;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/api/accounts/{account}/journal", get(journal))
        .route("/admin/api/accounts/{account}/journal/expect", post(expect))
        .route("/admin/api/journal/prune", post(prune))
}

/// The journal's filters; records come oldest first.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct JournalParams {
    /// Records after this id (the `next` of the previous page).
    after: Option<i64>,
    /// RFC 3339: requests at or after this time.
    since: Option<String>,
    /// A SCIM configuration's name.
    configuration: Option<String>,
    method: Option<String>,
    /// The path (with its query) starts with this.
    path: Option<String>,
    status: Option<u16>,
    resource_id: Option<String>,
    /// Page size, 1-1000 (default 100).
    limit: Option<u32>,
    /// `jsonl`: every matching record, one JSON object a line.
    format: Option<String>,
}

const PAGE: u32 = 1000;

#[utoipa::path(get, path = "/admin/api/accounts/{account}/journal", tag = "harness", params(JournalParams), responses((status = 200, body = Object, description = "`{\"records\": [...], \"next\": id}`, or JSON lines with `format=jsonl`"), (status = 400), (status = 404)))]
pub(super) async fn journal(
    State(state): State<AppState>,
    _: Admin,
    Path(name): Path<String>,
    params: Result<Query<JournalParams>, QueryRejection>,
) -> ApiResult<Response> {
    let params = query_params(params, "journal")?;
    let account = account(&state, &name).await?;
    state.activity.flush().await;
    let mut filter = ActivityFilter {
        limit: params.limit,
        after: params.after,
        since: params.since,
        configuration: params.configuration,
        method: params.method,
        path: params.path,
        status: params.status,
        resource_id: params.resource_id,
        oldest_first: true,
        with_exchange: true,
        ..ActivityFilter::default()
    };
    match params.format.as_deref() {
        None | Some("json") => {
            let records = state.center().activity(&account, &filter).await?;
            let next = records.last().and_then(|r| r.id).or(filter.after);
            Ok(axum::Json(json!({ "records": records, "next": next })).into_response())
        }
        Some("jsonl") => {
            filter.limit = Some(PAGE);
            let mut lines = String::new();
            loop {
                let records = state.center().activity(&account, &filter).await?;
                for record in &records {
                    lines.push_str(
                        &serde_json::to_string(record).map_err(|e| ApiError::Internal(e.to_string()))?,
                    );
                    lines.push('\n');
                }
                match records.last().and_then(|r| r.id) {
                    Some(last) if records.len() == PAGE as usize => filter.after = Some(last),
                    _ => break,
                }
            }
            Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], lines).into_response())
        }
        Some(other) => {
            Err(ProtocolError::invalid_value(format!("format {other:?}: use json or jsonl")).into())
        }
    }
}

#[utoipa::path(post, path = "/admin/api/accounts/{account}/journal/expect", tag = "harness", request_body = Expectation,
    responses(
        (status = 200, body = Object, description = "satisfied: `{satisfied, expected, matched, examined, range, complete, requests}`, and for a sequence `steps` (each step's `expected` and matched `request`)"),
        (status = 417, body = Object, description = "not satisfied: a `detail` sentence, the `closest` requests (closest first) each with its `mismatches` (a sentence per criterion not met) and `differences` (`Difference`: criterion, JSON path, actual, expected, message), and for a sequence the `failedStep`; or the range too long or incomplete to judge (`complete: false`)"),
        (status = 400)))]
pub(super) async fn expect(
    State(state): State<AppState>,
    _: Admin,
    Path(name): Path<String>,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let expectation: Expectation = body_as(
        body,
        r#"{"method", "path", "pathRegex", "status", "configuration", "resourceId", "headers", "bodyContains", "bodyJson", "tolerated", "outcome", "injected", "sinceId", "since", "atLeast" and/or "atMost" | "exactly" | "none"}, or {"sequence": [pattern, …], "sinceId", "since"}"#,
    )?;
    let (since_id, since) = (expectation.since_id, expectation.since);
    let matcher = Matcher::new(expectation).map_err(ProtocolError::invalid_value)?;
    let account = account(&state, &name).await?;
    state.activity.flush().await;
    // The range ends at the newest record now: requests arriving while the pages are
    // read are not half counted.
    let newest = ActivityFilter {
        limit: Some(1),
        ..ActivityFilter::default()
    };
    let through_id = state
        .center()
        .activity(&account, &newest)
        .await?
        .first()
        .and_then(|r| r.id);
    let range = Range {
        since_id,
        since,
        through_id,
    };
    let mut filter = ActivityFilter {
        limit: Some(PAGE),
        after: range.since_id,
        before: through_id.map(|id| id.saturating_add(1)),
        since: range.since.map(|t| t.to_rfc3339()),
        oldest_first: true,
        with_exchange: true,
        ..ActivityFilter::default()
    };
    let cap = match state.settings.journal_expect_max_records {
        0 => u64::MAX,
        n => n,
    };
    let mut tally = matcher.tally();
    let mut complete = true;
    let mut oldest_at = None;
    // An empty journal is an empty range.
    while through_id.is_some() {
        // One record past the cap, to tell a range that ends there from a longer one.
        let limit = u32::try_from(cap.saturating_sub(tally.examined()).saturating_add(1))
            .map_or(PAGE, |n| n.min(PAGE));
        filter.limit = Some(limit);
        let page = state.center().activity(&account, &filter).await?;
        let full = page.len() == limit as usize;
        filter.after = page.last().and_then(|r| r.id).or(filter.after);
        oldest_at = oldest_at.or(page.first().map(|r| r.at));
        for record in page {
            if tally.examined() == cap {
                complete = false;
                break;
            }
            tally.add(record);
        }
        if !full || !complete {
            break;
        }
    }
    let gap = if complete {
        not_journaled(&state, &account, &range, oldest_at).await?
    } else {
        Some(Gap::TooLong)
    };
    let verdict = tally.verdict(range, gap);
    let status = if verdict.satisfied {
        StatusCode::OK
    } else {
        StatusCode::EXPECTATION_FAILED
    };
    Ok((status, axum::Json(verdict)).into_response())
}

/// Whether requests of the range never reached the journal: the account's newest lost
/// record is at or after the range's start (`since`, the time of record `sinceId`, or
/// else the oldest record examined: a loss before the whole journal is as gone as a
/// pruned record).
async fn not_journaled(
    state: &AppState,
    account: &crate::accounts::Account,
    range: &Range,
    oldest_at: Option<i64>,
) -> ApiResult<Option<Gap>> {
    let Some(lost) = state.activity.lost(account.id.as_ref()) else {
        return Ok(None);
    };
    let since_id_at = match range.since_id {
        Some(id) => {
            let at_or_before = ActivityFilter {
                limit: Some(1),
                before: Some(id.saturating_add(1)),
                ..ActivityFilter::default()
            };
            state
                .center()
                .activity(account, &at_or_before)
                .await?
                .first()
                .map(|r| r.at)
        }
        None => None,
    };
    let start = match (range.since.map(|t| t.timestamp_micros()), since_id_at) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (Some(t), None) | (None, Some(t)) => Some(t),
        (None, None) => oldest_at,
    };
    Ok(start
        .is_none_or(|start| lost.last_at >= start)
        .then_some(Gap::NotJournaled(lost)))
}

#[utoipa::path(post, path = "/admin/api/journal/prune", tag = "harness", responses((status = 200, body = Object)))]
pub(super) async fn prune(State(state): State<AppState>, _: Admin) -> ApiResult<Response> {
    state.activity.flush().await;
    let pruned = state
        .store
        .prune_activity(&state.settings.journal_retention(), state.clock.now_micros())
        .await?;
    Ok(axum::Json(json!({ "pruned": pruned })).into_response())
}
