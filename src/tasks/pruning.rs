//! Journal pruning: the journal is kept to its retention by a task of its own.

use std::sync::Arc;

use crate::clock::Clock;
use crate::store::{Retention, Store};

/// How often the journal is pruned to its retention.
pub const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Prune the journal to `retention` now and every [`PRUNE_EVERY`], in a task of its own
/// (requests never wait for it; the deletes are small). Abort the handle at shutdown.
pub fn start_pruning(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    retention: Retention,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PRUNE_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match store.prune_activity(&retention, clock.now_micros()).await {
                Ok(0) => {}
                Ok(pruned) => tracing::debug!(pruned, "journal pruned to its retention"),
                Err(e) => tracing::warn!(error = %e, "journal pruning failed; retrying later"),
            }
        }
    })
}
