//! The activity (provisioning) log: one record per authenticated SCIM request, with what
//! it did (created, updated, disabled, license assigned / waiting / released), the
//! tolerances that fired, and the error detail when it failed.
//!
//! Handlers fill an [`ActivityNote`] during the request; the HTTP middleware completes
//! it with status and latency and hands it to an [`ActivityWriter`], which inserts in
//! batches off the request path (a log row is not worth a client's latency). A graceful
//! shutdown writes what is queued; records still queued when the process is killed
//! (`kill -9`, a crash, the OOM killer) are lost.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::accounts::Principal;
use crate::journal::Exchange;
use crate::licensing::SeatChange;
use crate::scim::tolerance::{Leniency, Tolerance};
use crate::store::Store;

/// One row of the activity log (the request journal).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityRecord {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(skip)]
    pub account_id: String,
    pub configuration_id: Option<String>,
    /// The configuration's name when the request was made.
    pub configuration_name: Option<String>,
    /// Microseconds since the epoch; RFC 3339 in JSON.
    #[serde(serialize_with = "crate::journal::serialize_time")]
    pub at: i64,
    pub request_id: Option<String>,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub latency_us: i64,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub outcome: Option<String>,
    pub detail: Option<String>,
    pub tolerances: Vec<Tolerance>,
    pub user_agent: Option<String>,
    /// What was exchanged (headers and bodies, redacted), when capture is on.
    #[serde(flatten)]
    pub exchange: Exchange,
    /// The injected fault that answered or delayed the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub injected: Option<String>,
}

#[derive(Debug, Default)]
struct Note {
    account_id: Option<String>,
    configuration_id: Option<String>,
    configuration_name: Option<String>,
    injected: Option<String>,
    resource_type: Option<&'static str>,
    resource_id: Option<String>,
    outcomes: Vec<String>,
    tolerances: Vec<Tolerance>,
}

/// What a request did, filled in by the extractors and handlers that know.
#[derive(Debug, Clone, Default)]
pub struct ActivityNote(Arc<Mutex<Note>>);

impl ActivityNote {
    fn with<R>(&self, f: impl FnOnce(&mut Note) -> R) -> R {
        let mut note = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut note)
    }

    /// The request authenticated as this configuration (only such requests are logged).
    pub fn principal(&self, principal: &Principal) {
        self.with(|n| {
            n.account_id = Some(principal.account.id.to_string());
            n.configuration_id = Some(principal.configuration.id.to_string());
            n.configuration_name = Some(principal.configuration.name.clone());
        });
    }

    /// The request was refused for a revoked token, which named this configuration.
    pub fn revoked(&self, token: &crate::store::RevokedToken) {
        self.with(|n| {
            n.account_id = Some(token.account_id.clone());
            n.configuration_id = Some(token.configuration_id.clone());
            n.configuration_name = Some(token.configuration_name.clone());
        });
    }

    /// A fault was injected into the request (see `crate::faults`).
    pub fn injected(&self, fault: String) {
        self.with(|n| n.injected = Some(fault));
    }

    pub fn resource(&self, resource_type: &'static str, id: &str) {
        self.with(|n| {
            n.resource_type = Some(resource_type);
            n.resource_id = Some(id.to_owned());
        });
    }

    pub fn outcome(&self, outcome: impl Into<String>) {
        self.with(|n| n.outcomes.push(outcome.into()));
    }

    pub fn seats(&self, change: &SeatChange) {
        if let Some(outcome) = change.describe() {
            self.outcome(outcome);
        }
    }

    /// The tolerances that fired while interpreting the request.
    pub fn tolerances(&self, leniency: &Leniency) {
        self.with(|n| {
            for t in &leniency.fired {
                if !n.tolerances.contains(t) {
                    n.tolerances.push(*t);
                }
            }
        });
    }

    /// The tolerances noted so far, in the order they fired.
    pub fn fired(&self) -> Vec<Tolerance> {
        self.with(|n| n.tolerances.clone())
    }

    /// The finished record, or `None` for a request that never authenticated.
    pub fn finish(&self, request: RequestFacts) -> Option<ActivityRecord> {
        self.with(|n| {
            Some(ActivityRecord {
                id: None,
                account_id: n.account_id.clone()?,
                configuration_id: n.configuration_id.clone(),
                configuration_name: n.configuration_name.clone(),
                at: request.at,
                request_id: request.request_id,
                method: request.method,
                path: request.path,
                status: request.status,
                latency_us: request.latency_us,
                resource_type: n.resource_type.map(str::to_owned),
                resource_id: n.resource_id.clone(),
                outcome: (!n.outcomes.is_empty()).then(|| n.outcomes.join("; ")),
                detail: request.detail,
                tolerances: n.tolerances.clone(),
                user_agent: request.user_agent,
                exchange: request.exchange,
                injected: n.injected.clone(),
            })
        })
    }
}

/// What the middleware knows about a finished request.
#[derive(Debug, Clone)]
pub struct RequestFacts {
    pub at: i64,
    pub request_id: Option<String>,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub latency_us: i64,
    pub detail: Option<String>,
    pub user_agent: Option<String>,
    pub exchange: Exchange,
}

/// Queues records for a background task that writes them in batches.
#[derive(Debug, Clone)]
pub struct ActivityWriter {
    queue: mpsc::Sender<Queued>,
}

#[derive(Debug)]
enum Queued {
    Record(Box<ActivityRecord>),
    /// Answer once every record queued before this one is written (or dropped).
    Flush(oneshot::Sender<()>),
}

/// Records waiting to be written before new ones are dropped (and counted in the log).
const QUEUE: usize = 10_000;
const BATCH: usize = 256;
/// Counter of dropped activity records, by reason (`/metrics`).
const DROPPED: &str = "activity_records_dropped_total";
/// How long a batch that is not full waits for more records: under load, a few
/// milliseconds turn many one-row inserts into one insert.
const LINGER: Duration = Duration::from_millis(5);

impl ActivityWriter {
    /// Start the writer task on the current runtime. The task ends once every writer is
    /// dropped and the queue is written: await the handle to flush at shutdown.
    pub fn start(store: Arc<dyn Store>) -> (ActivityWriter, JoinHandle<()>) {
        let (queue, mut incoming) = mpsc::channel::<Queued>(QUEUE);
        let task = tokio::spawn(async move {
            let mut received = Vec::with_capacity(BATCH);
            let mut batch = Vec::with_capacity(BATCH);
            let mut flushed = Vec::new();
            while incoming.recv_many(&mut received, BATCH).await > 0 {
                let linger = tokio::time::Instant::now() + LINGER;
                while received.len() < BATCH && !received.iter().any(|q| matches!(q, Queued::Flush(_))) {
                    let room = BATCH - received.len();
                    match tokio::time::timeout_at(linger, incoming.recv_many(&mut received, room)).await {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
                for queued in received.drain(..) {
                    match queued {
                        Queued::Record(record) => batch.push(*record),
                        Queued::Flush(done) => flushed.push(done),
                    }
                }
                write_batch(store.as_ref(), &batch).await;
                batch.clear();
                for done in flushed.drain(..) {
                    let _ = done.send(());
                }
            }
        });
        (ActivityWriter { queue }, task)
    }

    /// Queue a record (dropped, with a log line, when the queue is full).
    pub fn record(&self, record: ActivityRecord) {
        if self.queue.try_send(Queued::Record(Box::new(record))).is_err() {
            metrics::counter!(DROPPED, "reason" => "queue_full").increment(1);
            tracing::warn!("activity log queue full: a record was dropped");
        }
    }

    /// Records queued and not yet written.
    pub fn queue_depth(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }

    /// Wait until every record queued so far is written: a reader then sees them all
    /// (the journal's queries and assertions read their own requests).
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.queue.send(Queued::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

/// Write a batch in one insert; when that fails, write its records one by one so that
/// one bad record (of whichever account) costs only itself, and log what was dropped.
async fn write_batch(store: &dyn Store, batch: &[ActivityRecord]) {
    let Err(batch_error) = store.record_activity(batch).await else {
        return;
    };
    if let [record] = batch {
        dropped(record, &batch_error);
        return;
    }
    tracing::debug!(error = %batch_error, records = batch.len(), "activity batch refused: writing its records one by one");
    for record in batch {
        if let Err(e) = store.record_activity(std::slice::from_ref(record)).await {
            dropped(record, &e);
        }
    }
}

fn dropped(record: &ActivityRecord, error: &crate::store::StoreError) {
    metrics::counter!(DROPPED, "reason" => "refused").increment(1);
    tracing::warn!(
        %error,
        account_id = %record.account_id,
        method = %record.method,
        path = %record.path,
        status = record.status,
        "activity record dropped: the database refused it"
    );
}
