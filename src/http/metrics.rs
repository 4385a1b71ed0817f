//! Prometheus metrics at `/metrics` (the `metrics` facade and its Prometheus exporter):
//! requests by route template, method and status, latency histograms, and, computed at
//! scrape time, seats per pool, database connections and the activity queue. Guarded by
//! the admin token unless `metrics_public` is set.

use std::sync::OnceLock;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::AppState;
use super::admin_api::Admin;
use super::error::ApiResult;
use crate::scim::tolerance::Tolerance;

const REQUESTS: &str = "http_requests_total";
const REQUEST_SECONDS: &str = "http_request_duration_seconds";
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The process-wide recorder (the `metrics` facade has one), installed on first use;
/// `None` when another recorder was installed first.
fn recorder() -> Option<&'static PrometheusHandle> {
    static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    RECORDER
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(REQUEST_SECONDS.into()), &LATENCY_BUCKETS)
                .and_then(PrometheusBuilder::install_recorder)
                .map_err(|e| tracing::warn!(error = %e, "metrics are off: no recorder"))
                .ok()
        })
        .as_ref()
}

/// `/metrics`, open or behind the admin token.
pub(super) fn router(public: bool) -> Router<AppState> {
    // Install now, so requests before the first scrape are counted.
    if recorder().is_some() {
        describe();
    }
    Router::new().route(
        "/metrics",
        if public {
            get(|State(state): State<AppState>| async move { scrape(&state).await })
        } else {
            get(|State(state): State<AppState>, _: Admin| async move { scrape(&state).await })
        },
    )
}

/// The `# HELP` lines.
fn describe() {
    metrics::describe_counter!(REQUESTS, "HTTP requests by route template, method and status");
    metrics::describe_histogram!(
        REQUEST_SECONDS,
        metrics::Unit::Seconds,
        "HTTP request latency by route template and method"
    );
    metrics::describe_gauge!(
        "scim_pool_seats",
        "License seats per pool: total, used, waiting, free"
    );
    metrics::describe_gauge!(
        "db_pool_connections",
        "Database connections of this process, in use or idle"
    );
    metrics::describe_gauge!(
        "db_pool_max_connections",
        "Most database connections this process opens"
    );
    metrics::describe_gauge!(
        "activity_queue_depth",
        "Activity records queued and not yet written"
    );
    metrics::describe_counter!(
        "activity_records_dropped_total",
        "Activity records lost: queue full, or refused by the database"
    );
    metrics::describe_counter!(
        "scim_tolerances_fired_total",
        "Client departures from RFC 7644 the server accepted, by kind"
    );
}

/// Count a request and time it, labelled by the route template (never the raw path).
pub(super) async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(String::new, |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!(REQUEST_SECONDS, "route" => route.clone(), "method" => method.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!(REQUESTS, "route" => route, "method" => method, "status" => status).increment(1);
    response
}

/// Count the tolerances (client departures from the RFC) a request fired.
pub(super) fn tolerances_fired(tolerances: &[Tolerance]) {
    for tolerance in tolerances {
        let kind = serde_json::to_value(tolerance)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        metrics::counter!("scim_tolerances_fired_total", "kind" => kind).increment(1);
    }
}

async fn scrape(state: &AppState) -> ApiResult<Response> {
    let store = state.store.as_ref();
    for account in store.list_accounts().await? {
        for pool in store.pools(&account.id).await? {
            let labels = [
                ("account", account.name.clone()),
                ("instance", pool.instance.clone()),
                ("license_type", pool.license_type.clone()),
            ];
            let seats = |state: &'static str, n: i64| {
                let mut labels = labels.to_vec();
                labels.push(("state", state.to_owned()));
                metrics::gauge!("scim_pool_seats", &labels).set(n as f64);
            };
            seats("total", pool.seats);
            seats("used", pool.used);
            seats("waiting", pool.waiting);
            seats("free", (pool.seats - pool.used).max(0));
        }
    }
    let connections = store.connection_use();
    metrics::gauge!("db_pool_connections", "state" => "in_use")
        .set(f64::from(connections.open.saturating_sub(connections.idle)));
    metrics::gauge!("db_pool_connections", "state" => "idle").set(f64::from(connections.idle));
    metrics::gauge!("db_pool_max_connections").set(f64::from(connections.max));
    metrics::gauge!("activity_queue_depth").set(state.activity.queue_depth() as f64);
    let text = recorder()
        .map(|handle| {
            handle.run_upkeep();
            handle.render()
        })
        .unwrap_or_default();
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response())
}
