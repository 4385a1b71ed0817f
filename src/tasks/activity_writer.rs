//! The activity log's writer: handlers and middleware queue finished records
//! ([`ActivityRecord`]) and a background task inserts them in batches, off the request
//! path (a log row is not worth a client's latency). A graceful shutdown writes what is
//! queued; records still queued when the process is killed (`kill -9`, a crash, the OOM
//! killer) are lost.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::activity::ActivityRecord;
use crate::journal::expect::Lost;
use crate::store::{Store, StoreError};

/// Queues records for a background task that writes them in batches.
#[derive(Debug, Clone)]
pub struct ActivityWriter {
    queue: mpsc::Sender<Queued>,
    /// Per account, the records that never reached the journal: an assertion over a
    /// range that may hold one says it cannot judge it.
    lost: Arc<Mutex<HashMap<String, Lost>>>,
}

#[derive(Debug)]
enum Queued {
    Record(Box<ActivityRecord>),
    /// Answer once every record queued before this one is written (or dropped).
    Flush(oneshot::Sender<()>),
}

const BATCH: usize = 256;
/// Counter of dropped activity records, by reason (`/metrics`).
const DROPPED: &str = "activity_records_dropped_total";
/// How long a batch that is not full waits for more records: under load, a few
/// milliseconds turn many one-row inserts into one insert.
const LINGER: Duration = Duration::from_millis(5);

impl ActivityWriter {
    /// Start the writer task on the current runtime, `capacity` records waiting to be
    /// written before new ones are dropped (and counted). The task ends once every
    /// writer is dropped and the queue is written: await the handle to flush at shutdown.
    pub fn start(store: Arc<dyn Store>, capacity: usize) -> (ActivityWriter, JoinHandle<()>) {
        let (queue, mut incoming) = mpsc::channel::<Queued>(capacity.max(1));
        let lost = Arc::default();
        let writer = ActivityWriter {
            queue,
            lost: Arc::clone(&lost),
        };
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
                write_batch(store.as_ref(), &batch, &lost).await;
                batch.clear();
                for done in flushed.drain(..) {
                    let _ = done.send(());
                }
            }
        });
        (writer, task)
    }

    /// Queue a record (dropped, with a log line, when the queue is full).
    pub fn record(&self, record: ActivityRecord) {
        if let Err(full) = self.queue.try_send(Queued::Record(Box::new(record))) {
            metrics::counter!(DROPPED, "reason" => "queue_full").increment(1);
            if let Some(suppressed) = QUEUE_FULL.allow() {
                tracing::warn!(suppressed, "activity log queue full: a record was dropped");
            }
            if let Queued::Record(record) = full.into_inner() {
                lose(&self.lost, &record);
            }
        }
    }

    /// The account's records that never reached the journal, since this process started.
    pub fn lost(&self, account_id: &str) -> Option<Lost> {
        lock(&self.lost).get(account_id).copied()
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
async fn write_batch(store: &dyn Store, batch: &[ActivityRecord], lost: &Mutex<HashMap<String, Lost>>) {
    let Err(batch_error) = store.record_activity(batch).await else {
        return;
    };
    if let [record] = batch {
        dropped(record, &batch_error, lost);
        return;
    }
    tracing::debug!(error = %batch_error, records = batch.len(), "activity batch refused: writing its records one by one");
    for record in batch {
        if let Err(e) = store.record_activity(std::slice::from_ref(record)).await {
            dropped(record, &e, lost);
        }
    }
}

fn dropped(record: &ActivityRecord, error: &StoreError, lost: &Mutex<HashMap<String, Lost>>) {
    metrics::counter!(DROPPED, "reason" => "refused").increment(1);
    lose(lost, record);
    let Some(suppressed) = REFUSED.allow() else {
        return;
    };
    tracing::warn!(
        %error,
        suppressed,
        account_id = %record.account_id,
        method = %record.method,
        path = %record.path,
        status = record.status,
        "activity record dropped: the database refused it"
    );
}

/// A warning logged at most once per [`WARN_EVERY`]: a flood of bad records (or a full
/// queue) is one line a period, saying how many were not logged since the last one
/// (`/metrics` counts every one).
struct Throttled {
    started: Instant,
    /// Milliseconds since `started` before which the warning is not logged again.
    next: AtomicU64,
    suppressed: AtomicU64,
}

const WARN_EVERY: Duration = Duration::from_secs(10);

static REFUSED: LazyLock<Throttled> = LazyLock::new(Throttled::new);
static QUEUE_FULL: LazyLock<Throttled> = LazyLock::new(Throttled::new);

impl Throttled {
    fn new() -> Throttled {
        Throttled {
            started: Instant::now(),
            next: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// Whether to log now, and how many were suppressed since the last time.
    fn allow(&self) -> Option<u64> {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let next = self.next.load(Ordering::Acquire);
        let period = u64::try_from(WARN_EVERY.as_millis()).unwrap_or(u64::MAX);
        if now >= next
            && self
                .next
                .compare_exchange(
                    next,
                    now.saturating_add(period),
                    Ordering::AcqRel,
                    Ordering::Acquire,
                )
                .is_ok()
        {
            return Some(self.suppressed.swap(0, Ordering::AcqRel));
        }
        self.suppressed.fetch_add(1, Ordering::AcqRel);
        None
    }
}

fn lock(lost: &Mutex<HashMap<String, Lost>>) -> std::sync::MutexGuard<'_, HashMap<String, Lost>> {
    lost.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Count a record that never reached the journal against its account.
fn lose(lost: &Mutex<HashMap<String, Lost>>, record: &ActivityRecord) {
    let mut lost = lock(lost);
    let entry = lost.entry(record.account_id.clone()).or_insert(Lost {
        records: 0,
        last_at: record.at,
    });
    entry.records += 1;
    entry.last_at = entry.last_at.max(record.at);
}
