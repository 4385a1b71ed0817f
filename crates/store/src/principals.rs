//! What each bearer token stands for, kept in process memory so an authenticated request
//! does not read four tables before it starts (issue 14: 1.5x on GET alone).
//!
//! Freshness (docs/account-center.md, "Token changes take effect at once"):
//! - the process that changes a token, a configuration, an account or an instance drops
//!   every entry as soon as the write commits, so it refuses the old token at once;
//! - other processes sharing a Postgres database drop theirs when the writer's
//!   `NOTIFY` arrives (milliseconds), and in any case an entry is trusted for at most
//!   [`PRINCIPAL_TTL`]: the bound for SQLite (a CLI writing the same file) and for a
//!   lost notification;
//! - expiry is not cached: `accounts::admit` checks it against the clock per request.
//!
//! A lookup that raced with a change must not re-insert what it read before the
//! change: each change bumps a generation, and an entry is stored only when the
//! generation it was read under is still current. Unknown tokens are not cached.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use domain::accounts::{StoredToken, TokenHash};

/// How long a cached principal is trusted without a change notification.
pub(crate) const PRINCIPAL_TTL: Duration = Duration::from_millis(500);

/// The Postgres channel on which writers announce principal changes.
pub(crate) const PRINCIPALS_CHANNEL: &str = "linkedin_scim_principals";

/// More tokens than any deployment has configurations: a bound, not a tuning knob.
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub(crate) struct PrincipalCache {
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    generation: u64,
    by_hash: HashMap<String, (Instant, StoredToken)>,
}

/// A cache miss: read the database, then offer the result under this generation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Miss(u64);

impl PrincipalCache {
    fn entries(&self) -> MutexGuard<'_, Entries> {
        // The critical sections cannot panic halfway; a poisoned lock holds valid data.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn get(&self, hash: &TokenHash) -> Result<StoredToken, Miss> {
        let entries = self.entries();
        match entries.by_hash.get(&hash.0) {
            Some((at, found)) if at.elapsed() < PRINCIPAL_TTL => Ok(found.clone()),
            _ => Err(Miss(entries.generation)),
        }
    }

    pub(crate) fn put(&self, miss: Miss, found: &StoredToken) {
        let mut entries = self.entries();
        if entries.generation != miss.0 {
            return;
        }
        if entries.by_hash.len() >= MAX_ENTRIES {
            entries.by_hash.clear();
        }
        entries
            .by_hash
            .insert(found.token_hash.0.clone(), (Instant::now(), found.clone()));
    }

    /// Something a principal is made of changed: forget every entry.
    pub(crate) fn invalidate(&self) {
        let mut entries = self.entries();
        entries.generation = entries.generation.wrapping_add(1);
        entries.by_hash.clear();
    }
}
