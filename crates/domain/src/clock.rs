//! Time, injected: handlers and stores never read the system clock themselves, so tests
//! can fix or advance time (token expiry, `meta.lastModified`, first-come-first-served
//! order). `clippy.toml` bans `Utc::now` everywhere else.

use std::sync::Mutex;

use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;

    /// Microseconds since the Unix epoch, the store's timestamp unit.
    fn now_micros(&self) -> i64 {
        self.now().timestamp_micros()
    }

    /// The clock the admin API and CLI may move, when this is one (`--clock manual`).
    fn manual(&self) -> Option<&ManualClock> {
        None
    }
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[expect(
        clippy::disallowed_methods,
        reason = "the one place that reads the system clock"
    )]
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to (tests, deterministic demos).
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock(Mutex::new(start))
    }

    /// Move the clock forward by `by` (backward when negative); returns the new time, or
    /// `None` (and the clock stays) when that time is out of range.
    pub fn advance(&self, by: chrono::Duration) -> Option<DateTime<Utc>> {
        let mut now = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *now = now.checked_add_signed(by)?;
        Some(*now)
    }

    /// Put the clock at `to` (also backward: a test may rewind).
    pub fn set(&self, to: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn manual(&self) -> Option<&ManualClock> {
        Some(self)
    }
}

/// Which clock the server runs on (`--clock`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum ClockMode {
    /// The system clock.
    #[default]
    System,
    /// A clock that stands still until the admin API or the CLI sets or advances it.
    Manual,
}

impl ClockMode {
    /// The clock to run on; a manual clock starts at `start`, else at the system time.
    pub fn clock(self, start: Option<DateTime<Utc>>) -> std::sync::Arc<dyn Clock> {
        match self {
            ClockMode::System => std::sync::Arc::new(SystemClock),
            ClockMode::Manual => {
                std::sync::Arc::new(ManualClock::new(start.unwrap_or_else(|| SystemClock.now())))
            }
        }
    }
}

/// Render store microseconds as the RFC 3339 form SCIM uses in `meta`.
pub fn rfc3339(micros: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(micros)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Serialize store microseconds as RFC 3339 (`#[serde(serialize_with = …)]`).
pub fn serialize_rfc3339<S: serde::Serializer>(micros: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_advances_only_when_told() {
        let start = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).expect("valid");
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(chrono::Duration::seconds(5));
        assert_eq!(clock.now_micros(), 1_700_000_005_000_000);
        assert!(clock.manual().is_some() && SystemClock.manual().is_none());
        clock.set(start);
        assert_eq!(clock.now(), start);
        clock.advance(chrono::Duration::seconds(5));
        assert_eq!(rfc3339(clock.now_micros()), "2023-11-14T22:13:25.000000Z");
    }
}
