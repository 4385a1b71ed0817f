//! Token buckets that answer 429 with `Retry-After`, in this process (with several
//! replicas each enforces its share of the traffic, docs/operations.md):
//!
//! - [`Throttle`]: per-configuration rate limits (LinkedIn-style throttling), off unless
//!   set through the admin API or the CLI. Their buckets refill by the injected clock: on
//!   a manual clock a drained bucket stays drained until the clock is advanced.
//! - [`AuthFailures`]: wrong credentials per client address (a bearer token on SCIM or
//!   the admin API, the admin token at sign-in), against guessing.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::Extensions;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::ApiError;
use crate::accounts::RateLimit;
use crate::clock::Clock;
use crate::ids::ConfigurationId;
use crate::store::Store;

/// How long a configuration's limit is trusted before it is read again, so a change made
/// by the CLI or another replica takes effect without a restart.
const REREAD_AFTER: Duration = Duration::from_secs(2);

/// The server's clock as governor reads it: the time since the epoch.
#[derive(Clone)]
struct InjectedClock(Arc<dyn Clock>);

impl governor::clock::Clock for InjectedClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        Duration::from_micros(u64::try_from(self.0.now_micros()).unwrap_or(0))
    }
}

type ConfigurationLimiter = RateLimiter<NotKeyed, InMemoryState, InjectedClock, NoOpMiddleware<Duration>>;

#[derive(Clone)]
struct Bucket {
    limit: Option<RateLimit>,
    limiter: Option<Arc<ConfigurationLimiter>>,
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
        clock: &Arc<dyn Clock>,
        configuration: &ConfigurationId,
    ) -> Result<(), ApiError> {
        let bucket = match self.cached(configuration) {
            Some(bucket) => bucket,
            None => {
                let limit = store.rate_limit(configuration).await?;
                self.refresh(configuration, limit, clock)
            }
        };
        let Some(limiter) = &bucket.limiter else {
            return Ok(());
        };
        limiter.check().map_err(|not_until| {
            let now = governor::clock::Clock::now(&InjectedClock(clock.clone()));
            ApiError::Throttled {
                retry_after_secs: whole_seconds(not_until.wait_time_from(now)),
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
    fn refresh(
        &self,
        configuration: &ConfigurationId,
        limit: Option<RateLimit>,
        clock: &Arc<dyn Clock>,
    ) -> Bucket {
        let mut buckets = self.buckets();
        let limiter = match buckets.get(configuration) {
            Some(old) if old.limit == limit => old.limiter.clone(),
            _ => limit.map(|l| Arc::new(limiter(l, clock))),
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

/// Wrong credentials a client may present at once, and how fast the budget refills.
const FAILURE_BURST: u32 = 20;
const FAILURES_PER_MINUTE: u32 = 10;
/// Clients remembered before the idle ones are forgotten (bounds the memory a spray of
/// addresses can take).
const TRACKED_CLIENTS: usize = 10_000;

/// Wrong credentials per client address: [`FAILURE_BURST`] at once, then
/// [`FAILURES_PER_MINUTE`]. A client over its budget is refused every credential, the
/// right one too, until the bucket refills: were a right guess let through, guessing
/// would go on at full speed with each hit told apart by its answer. A request whose
/// credential is accepted costs nothing, so a busy IdP is never throttled here. IPv6
/// clients are counted per /64, the block one host usually holds.
pub(crate) struct AuthFailures {
    failures: DefaultKeyedRateLimiter<IpAddr>,
    /// Clients over their budget, and when they may try again.
    refused: Mutex<HashMap<IpAddr, Instant>>,
}

impl Default for AuthFailures {
    fn default() -> AuthFailures {
        let per_minute = NonZeroU32::new(FAILURES_PER_MINUTE).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(FAILURE_BURST).unwrap_or(NonZeroU32::MIN);
        AuthFailures {
            failures: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            refused: Mutex::default(),
        }
    }
}

/// How long a refused client is asked to wait, in whole seconds (at least one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wait(pub(crate) u64);

impl Wait {
    fn until(at: Instant) -> Wait {
        Wait(whole_seconds(at.saturating_duration_since(Instant::now())))
    }
}

/// A wait in whole seconds, rounded up, at least one (`Retry-After`).
fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

impl From<Wait> for ApiError {
    fn from(wait: Wait) -> ApiError {
        ApiError::TooManyFailures {
            retry_after_secs: wait.0,
        }
    }
}

impl AuthFailures {
    /// May `client` present a credential now? A request that did not come through the
    /// network edge (no address) is not counted.
    pub(crate) fn admit(&self, client: Option<IpAddr>) -> Result<(), Wait> {
        let Some(client) = client.map(counted_as) else {
            return Ok(());
        };
        let mut refused = self.refused();
        match refused.get(&client) {
            Some(&until) if until > Instant::now() => Err(Wait::until(until)),
            Some(_) => {
                refused.remove(&client);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Count a wrong credential of `client`; refused (429) when it goes over the budget.
    pub(crate) fn failed(&self, client: Option<IpAddr>) -> Result<(), Wait> {
        let Some(client) = client.map(counted_as) else {
            return Ok(());
        };
        if self.failures.len() > TRACKED_CLIENTS {
            self.failures.retain_recent();
            let now = Instant::now();
            self.refused().retain(|_, until| *until > now);
        }
        self.failures.check_key(&client).map_err(|not_until| {
            let until = not_until.earliest_possible();
            self.refused().insert(client, until);
            tracing::warn!(%client, "too many wrong credentials: refused for a while");
            Wait::until(until)
        })
    }

    fn refused(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Instant>> {
        self.refused.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The address a request came from, as the network edge recorded it.
pub(crate) fn client_address(extensions: &Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip())
}

/// What a client is counted as: its IPv4 address, or its IPv6 /64.
fn counted_as(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !u128::from(u64::MAX);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

fn limiter(limit: RateLimit, clock: &Arc<dyn Clock>) -> ConfigurationLimiter {
    let per_minute = NonZeroU32::new(limit.requests_per_minute).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
    RateLimiter::direct_with_clock(
        Quota::per_minute(per_minute).allow_burst(burst),
        InjectedClock(clock.clone()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("v6");
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().expect("v6");
        let other: IpAddr = "2001:db8:1:3::1".parse().expect("v6");
        assert_eq!(counted_as(a), counted_as(b));
        assert_ne!(counted_as(a), counted_as(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("mapped");
        assert_eq!(counted_as(mapped), "192.0.2.7".parse::<IpAddr>().expect("v4"));
    }

    #[test]
    fn the_failure_past_the_budget_is_refused_and_so_is_the_next_attempt() {
        let failures = AuthFailures::default();
        let client = Some("192.0.2.1".parse().expect("v4"));
        for _ in 0..FAILURE_BURST {
            assert_eq!(failures.admit(client), Ok(()));
            assert_eq!(failures.failed(client), Ok(()));
        }
        let wait = failures.failed(client).expect_err("over the budget");
        assert!((1..=6).contains(&wait.0), "{wait:?}");
        assert!(failures.admit(client).is_err());
        assert_eq!(failures.admit(Some("192.0.2.2".parse().expect("v4"))), Ok(()));
        assert_eq!(failures.admit(None), Ok(()));
    }
}
