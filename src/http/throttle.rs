//! Per-configuration rate limits (LinkedIn-style throttling): a token sending faster
//! than its configuration allows gets 429 with `Retry-After`. Off unless set through
//! the admin API or the CLI. The buckets live in this process: with several replicas,
//! each enforces the limit on its own share of the traffic (docs/operations.md).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::error::ApiError;
use crate::accounts::RateLimit;
use crate::ids::ConfigurationId;
use crate::store::Store;

/// How long a configuration's limit is trusted before it is read again, so a change made
/// by the CLI or another replica takes effect without a restart.
const REREAD_AFTER: Duration = Duration::from_secs(2);

#[derive(Clone)]
struct Bucket {
    limit: Option<RateLimit>,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    read_at: Instant,
}

#[derive(Default)]
pub(crate) struct Throttle {
    buckets: Mutex<HashMap<ConfigurationId, Bucket>>,
}

impl Throttle {
    /// Admit one request of `configuration`, or refuse it with 429 and the wait.
    pub(crate) async fn admit(
        &self,
        store: &dyn Store,
        configuration: &ConfigurationId,
    ) -> Result<(), ApiError> {
        let bucket = match self.cached(configuration) {
            Some(bucket) => bucket,
            None => {
                let limit = store.rate_limit(configuration).await?;
                self.refresh(configuration, limit)
            }
        };
        let Some(limiter) = &bucket.limiter else {
            return Ok(());
        };
        limiter.check().map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::Throttled {
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }

    /// Forget a configuration's limit so the next request reads it again (after a change
    /// through this process).
    pub(crate) fn forget(&self, configuration: &ConfigurationId) {
        self.buckets().remove(configuration);
    }

    fn cached(&self, configuration: &ConfigurationId) -> Option<Bucket> {
        self.buckets()
            .get(configuration)
            .filter(|b| b.read_at.elapsed() < REREAD_AFTER)
            .cloned()
    }

    /// Keep the bucket (and its state) when the limit is unchanged, else start a new one.
    fn refresh(&self, configuration: &ConfigurationId, limit: Option<RateLimit>) -> Bucket {
        let mut buckets = self.buckets();
        let limiter = match buckets.get(configuration) {
            Some(old) if old.limit == limit => old.limiter.clone(),
            _ => limit.map(|l| Arc::new(limiter(l))),
        };
        let bucket = Bucket {
            limit,
            limiter,
            read_at: Instant::now(),
        };
        buckets.insert(configuration.clone(), bucket.clone());
        bucket
    }

    fn buckets(&self) -> std::sync::MutexGuard<'_, HashMap<ConfigurationId, Bucket>> {
        self.buckets.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn limiter(limit: RateLimit) -> DefaultDirectRateLimiter {
    let per_minute = NonZeroU32::new(limit.requests_per_minute).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
    RateLimiter::direct(Quota::per_minute(per_minute).allow_burst(burst))
}
