//! The activity (provisioning) log: one record per authenticated SCIM request, with what
//! it did (created, updated, disabled, license assigned / waiting / released), the
//! tolerances that fired, and the error detail when it failed.
//!
//! Handlers fill an [`ActivityNote`] during the request; the HTTP middleware completes
//! it with status and latency ([`RequestFacts`]) and hands the record to the
//! application's writer task.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use scim::tolerance::{Leniency, Tolerance};
use serde::{Deserialize, Serialize};

use crate::accounts::{Principal, RevokedToken};
use crate::licensing::{Promotion, SeatChange};

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
    #[serde(serialize_with = "crate::clock::serialize_rfc3339")]
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

/// The `method` of a promotion's record: it is no request of its own.
pub const PROMOTION_METHOD: &str = "PROMOTE";

impl ActivityRecord {
    /// The record of a waiting user handed a seat by the queue. It is written in the
    /// transaction that freed the seat (a deactivation, a revoke, a delete, seats added,
    /// a license moved away), so an admin action that promotes leaves one too; it is
    /// filed under the promoted user (`resourceId`) and the pool (`path`).
    pub fn promotion(account_id: &str, promotion: &Promotion) -> ActivityRecord {
        ActivityRecord {
            account_id: account_id.to_owned(),
            at: promotion.promoted_at,
            method: PROMOTION_METHOD.to_owned(),
            path: format!("/pools/{}", promotion.pool_id),
            status: 200,
            resource_type: Some("User".to_owned()),
            resource_id: Some(promotion.user_id.to_string()),
            outcome: Some(promotion.describe()),
            ..ActivityRecord::default()
        }
    }
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
    pub fn revoked(&self, token: &RevokedToken) {
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

/// What a request and its response carried, as the journal keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Exchange {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_headers: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_body: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub request_body_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_headers: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub response_body_truncated: bool,
}
