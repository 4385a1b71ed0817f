//! Fault injection: make the server misbehave on purpose so a connector's retry and
//! error handling can be tested. Off until a fault is set (admin API, CLI or seed file).
//!
//! A fault applies to one SCIM configuration (by name), optionally only to requests of a
//! method and a path pattern; it adds latency, answers a 5xx, throttles with 429 +
//! `Retry-After`, or drops the connection — for every matching request or at a rate,
//! for the next N of them, for a time span (by the server's clock) or until cleared.
//! With a `seed`, which requests a rate picks is the same on every run.
//!
//! Faults live in the server process, like the manual clock: the CLI sets them through
//! the admin API.

use std::sync::Mutex;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::ids::AccountId;
use crate::journal::expect::{decoded_path, glob};

/// What a fault does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum FaultKind {
    /// Answer after an extra delay (then normally).
    #[serde(rename_all = "camelCase")]
    Latency { millis: u64 },
    /// Answer with this 5xx status and a SCIM error.
    #[serde(rename_all = "camelCase")]
    Error { status: u16 },
    /// Answer 429 with `Retry-After: retry_after_seconds`.
    #[serde(rename_all = "camelCase")]
    Throttle { retry_after_seconds: u64 },
    /// Close the connection without an answer.
    Drop {},
}

impl FaultKind {
    /// How the journal names it (`injected`).
    pub fn describe(&self) -> String {
        match self {
            FaultKind::Latency { millis } => format!("latency {millis} ms"),
            FaultKind::Error { status } => format!("error {status}"),
            FaultKind::Throttle { retry_after_seconds } => {
                format!("throttle 429, Retry-After {retry_after_seconds}")
            }
            FaultKind::Drop {} => "dropped connection".to_owned(),
        }
    }
}

/// A fault as it is set (admin API body, seed file entry). Unknown members are refused
/// by [`FaultKind`], which receives every member this struct does not name.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultSpec {
    /// The SCIM configuration's name.
    pub configuration: String,
    /// Only requests with this method (any case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Only requests whose path (with its query) matches; `*` matches any run of
    /// characters. Matched decoded, as `expect` matches (`filter=userName eq "x"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Share of the matching requests it hits, 0-1 (default 1: every one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Only the next N requests it hits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// Only for this many seconds from when it is set (by the server's clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<u64>,
    /// Seed of the rate's randomness: the same requests are hit on every run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// A fault in force.
#[derive(Debug)]
struct Fault {
    id: u64,
    account_id: AccountId,
    spec: FaultSpec,
    path: Option<Regex>,
    /// Hits left (`count`).
    remaining: Option<u64>,
    /// Microseconds: in force before this instant (`seconds`).
    until: Option<i64>,
    rng: StdRng,
}

/// A fault as the admin API shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultView {
    pub id: u64,
    #[serde(flatten)]
    pub spec: FaultSpec,
    /// Hits left, when limited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u64>,
    /// RFC 3339: in force until then, when limited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// The faults in force, in the order they were set.
#[derive(Debug, Default)]
pub struct Faults {
    table: Mutex<Table>,
}

#[derive(Debug, Default)]
struct Table {
    next_id: u64,
    faults: Vec<Fault>,
}

/// A request, as far as faults look at it.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub account_id: &'a AccountId,
    pub configuration: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub now: i64,
}

impl Faults {
    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether any fault is set (the SCIM path checks this before anything else).
    pub fn any(&self) -> bool {
        !self.table().faults.is_empty()
    }

    /// Set a fault for `account_id`; the error says what is wrong with the spec.
    pub fn add(&self, account_id: AccountId, spec: FaultSpec, now: i64) -> Result<FaultView, String> {
        if let FaultKind::Error { status } = spec.kind
            && !(500..=599).contains(&status)
        {
            return Err(format!("status: {status} is not a 5xx status"));
        }
        if let Some(rate) = spec.rate
            && !(0.0..=1.0).contains(&rate)
        {
            return Err(format!("rate: {rate} is not between 0 and 1"));
        }
        let path = spec
            .path
            .as_deref()
            .map(|p| glob(&decoded_path(p, true)))
            .transpose()
            .map_err(|e| format!("path: {e}"))?;
        let until = spec
            .seconds
            .map(|s| now.saturating_add(i64::try_from(s).unwrap_or(i64::MAX).saturating_mul(1_000_000)));
        let rng = spec
            .seed
            .map_or_else(rand::make_rng::<StdRng>, StdRng::seed_from_u64);
        let mut table = self.table();
        table.next_id += 1;
        let fault = Fault {
            id: table.next_id,
            account_id,
            remaining: spec.count,
            spec,
            path,
            until,
            rng,
        };
        let view = fault.view();
        table.faults.push(fault);
        Ok(view)
    }

    /// The faults of an account still in force at `now`.
    pub fn list(&self, account_id: &AccountId, now: i64) -> Vec<FaultView> {
        let mut table = self.table();
        table.expire(now);
        table
            .faults
            .iter()
            .filter(|f| &f.account_id == account_id)
            .map(Fault::view)
            .collect()
    }

    /// Clear one fault (`Some(id)`) or all of an account's; returns how many went.
    pub fn clear(&self, account_id: &AccountId, id: Option<u64>) -> usize {
        let mut table = self.table();
        let before = table.faults.len();
        table
            .faults
            .retain(|f| &f.account_id != account_id || id.is_some_and(|id| f.id != id));
        before - table.faults.len()
    }

    /// The fault that hits this request, if any: the first in force that matches and
    /// whose rate picks it (a hit uses up one of its `count`).
    pub fn hit(&self, target: Target<'_>) -> Option<FaultKind> {
        let mut table = self.table();
        table.expire(target.now);
        let mut hit = None;
        for fault in table.faults.iter_mut().filter(|f| f.matches(&target)) {
            let rate = fault.spec.rate;
            if rate.is_none_or(|rate| fault.rng.random_bool(rate)) {
                if let Some(left) = &mut fault.remaining {
                    *left = left.saturating_sub(1);
                }
                hit = Some(fault.spec.kind.clone());
                break;
            }
        }
        let kind = hit?;
        table.expire(target.now);
        Some(kind)
    }
}

impl Table {
    /// Drop the faults used up or past their time.
    fn expire(&mut self, now: i64) {
        self.faults
            .retain(|f| f.remaining != Some(0) && f.until.is_none_or(|until| now < until));
    }
}

impl Fault {
    fn matches(&self, t: &Target<'_>) -> bool {
        &self.account_id == t.account_id
            && self.spec.configuration == t.configuration
            && self
                .spec
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(t.method))
            && self
                .path
                .as_ref()
                .is_none_or(|p| p.is_match(&decoded_path(t.path, false)))
    }

    fn view(&self) -> FaultView {
        FaultView {
            id: self.id,
            spec: self.spec.clone(),
            remaining: self.remaining,
            until: self.until.map(crate::clock::rfc3339),
        }
    }
}
