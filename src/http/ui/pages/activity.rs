//! An account's activity log: the SCIM requests it received, filtered by configuration,
//! status, method and time; the page's script polls the table rows to show new ones live.

use axum::extract::Query;
use axum::http::header;
use axum::response::IntoResponse;
use maud::html;
use serde::Deserialize;

use super::Heading::Shown;
use super::{AccountPage, Page, account_url, failed, field, table};
use crate::center::{ActivityFilter, CenterError};
use crate::http::ui::{Flash, Tab, page, when};

#[derive(Debug, Default, Deserialize)]
pub(in crate::http::ui) struct ActivityQueryForm {
    configuration: Option<String>,
    status: Option<String>,
    method: Option<String>,
    since: Option<String>,
    /// Only the table rows (what the page's script polls).
    rows: Option<String>,
}

pub(in crate::http::ui) async fn activity(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    Query(query): Query<ActivityQueryForm>,
) -> Page {
    let center = state.center();
    let configurations = center
        .configurations(&account)
        .await
        .map_err(|e| failed(&session, e))?;
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    // The time field of the form is a `datetime-local` (no zone): read as UTC.
    let since = given(&query.since).map(|t| {
        if t.len() == 16 {
            format!("{t}:00Z")
        } else if t.ends_with('Z') {
            t
        } else {
            format!("{t}Z")
        }
    });
    let status = given(&query.status).and_then(|s| s.parse::<u16>().ok());
    let filter = ActivityFilter {
        limit: Some(200),
        configuration: given(&query.configuration),
        status,
        method: given(&query.method),
        since,
        ..ActivityFilter::default()
    };
    let (records, error) = match center.activity(&account, &filter).await {
        Ok(r) => (r, None),
        Err(e @ CenterError::Invalid { .. }) => (Vec::new(), Some(e.to_string())),
        Err(e) => return Err(failed(&session, e)),
    };
    let config_name = |id: &Option<String>| {
        id.as_ref()
            .and_then(|id| configurations.iter().find(|c| c.id.as_str() == id))
            .map_or("—".to_owned(), |c| c.name.clone())
    };
    let rows = html! {
        @if records.is_empty() {
            tr { td colspan="7" { span.muted { "No request yet: requests authenticated with a SCIM token appear here as they arrive." } } }
        }
        @for r in &records {
            tr {
                td { time datetime=(crate::clock::rfc3339(r.at)) { (when(r.at)) } }
                td { (config_name(&r.configuration_id)) }
                td.request { code { (r.method) " " (percent_encoding::percent_decode_str(&r.path).decode_utf8_lossy()) } }
                // Status 0: the client got no answer (a dropped connection).
                td { span class=(if (1..400).contains(&r.status) { "badge ok" } else { "badge err" }) { (r.status) } }
                td {
                    // A warning (an identifier clash) stands out from what was done.
                    @for (i, part) in r.outcome.as_deref().unwrap_or("").split("; ").enumerate() {
                        @if i > 0 { "; " }
                        @if part.starts_with("warning:") { span.badge.warn role="alert" { (part) } } @else { (part) }
                    }
                }
                td { @for t in &r.tolerances { span.badge.warn title=(t.description()) { (t.description()) } " " } }
                td.detail { (r.detail.as_deref().unwrap_or("")) }
            }
        }
    };
    if query.rows.is_some() {
        return Ok(([(header::CACHE_CONTROL, "no-store")], rows).into_response());
    }
    let base = account_url(&account, Tab::Dashboard);
    let refresh = format!(
        "{base}/activity?{}",
        serde_urlencoded::to_string([
            ("configuration", query.configuration.as_deref().unwrap_or("")),
            ("status", query.status.as_deref().unwrap_or("")),
            ("method", query.method.as_deref().unwrap_or("")),
            ("since", query.since.as_deref().unwrap_or("")),
            ("rows", "1"),
        ])
        .unwrap_or_default()
    );
    let selected = |v: &Option<String>, option: &str| v.as_deref() == Some(option);
    let content = html! {
        h1 { "Activity log" }
        section.card {
            form.filters method="get" action=(format!("{base}/activity")) {
                (field("filter-configuration", "Configuration", html! {
                    select #filter-configuration name="configuration" {
                        option value="" { "All" }
                        @for c in &configurations { option value=(c.name) selected[selected(&query.configuration, &c.name)] { (c.name) } }
                    }
                }))
                (field("filter-status", "Status", html! {
                    input #filter-status.narrow name="status" inputmode="numeric" pattern="[0-9]{3}" value=(query.status.as_deref().unwrap_or("")) placeholder="401";
                }))
                (field("filter-method", "Method", html! {
                    select #filter-method name="method" {
                        option value="" { "All" }
                        @for m in ["GET", "POST", "PUT", "PATCH", "DELETE", crate::activity::PROMOTION_METHOD] { option value=(m) selected[selected(&query.method, m)] { (m) } }
                    }
                }))
                (field("filter-since", "Since (UTC)", html! {
                    input #filter-since type="datetime-local" name="since" value=(query.since.as_deref().unwrap_or(""));
                }))
                div.actions { button type="submit" { "Filter" } a.button href=(format!("{base}/activity")) { "Clear" } }
            }
            @if let Some(e) = &error { p.flash.err role="alert" { (e) } }
            p.muted.live { span.pulse aria-hidden="true" {} "Live: new requests appear as they arrive." }
            div.table-wrap {
                (table(Some("activity"), &[Shown("Time"), Shown("Configuration"), Shown("Request"), Shown("Status"), Shown("Outcome"), Shown("Tolerances"), Shown("Error detail")], html! {
                    tbody #activity-rows data-refresh=(refresh) aria-live="polite" { (rows) }
                }))
            }
        }
    };
    let flash = Flash::default();
    Ok(page(
        "Activity log",
        &session,
        Some((&account.name, Tab::Activity)),
        &flash,
        content,
    )
    .into_response())
}
