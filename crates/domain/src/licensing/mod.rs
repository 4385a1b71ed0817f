//! LinkedIn licensing: products, license states, what a SCIM write asks of the seat
//! pools, and the rules deciding assignment, waiting, refusal, release, promotion and
//! activation (`rules`). The store carries the decisions out inside the write's
//! transaction (`store/sql/licenses.rs`), where the seat invariant is enforced across
//! server replicas.

pub mod assignment;
pub mod rules;
pub mod status;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::ids::UserId;
pub use crate::ids::{InstanceId, PoolId};

pub use rules::{Activation, Assignment, Refusal, SeatPlan};

/// A LinkedIn product (`sales_navigator`, `learning`, `elevate`, …): lower-case ASCII
/// letters, digits and `_`, so new products need no code change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Product(String);

impl Product {
    pub const SALES_NAVIGATOR: &'static str = "sales_navigator";
    pub const LEARNING: &'static str = "learning";
    pub const ELEVATE: &'static str = "elevate";

    pub fn sales_navigator() -> Product {
        Product(Self::SALES_NAVIGATOR.to_owned())
    }

    pub fn learning() -> Product {
        Product(Self::LEARNING.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Product {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(Product(s))
        } else {
            Err(format!(
                "invalid product {s:?}: use lower-case letters, digits and _ (e.g. sales_navigator)"
            ))
        }
    }
}

impl From<Product> for String {
    fn from(p: Product) -> String {
        p.0
    }
}

impl std::fmt::Display for Product {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a user's license for one product stands (stored and shown lower-case).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum LicenseState {
    /// Provisioned over SCIM; the user has not accepted it yet.
    Assigned,
    /// The user accepted the license (emulated by the admin API).
    Activated,
    /// No seat was free when it was requested; first come, first served.
    Waiting,
}

impl LicenseState {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Does this state occupy a seat?
    pub fn holds_seat(self) -> bool {
        !matches!(self, LicenseState::Waiting)
    }
}

/// What to do when the pool a configuration auto-assigns from is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum WhenFull {
    /// Sync the user anyway and record the license as waiting, at the back of the pool's
    /// queue (LinkedIn's behaviour as far as it is known: user data always syncs).
    #[default]
    Wait,
    /// Refuse the write with 409, so a connector sees the shortage as an error.
    Refuse,
}

/// The seat a SCIM write asks for: the pool its configuration auto-assigns from, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct SeatRequest {
    /// The product of the writing configuration (its auto-assigned pool's): whose
    /// status the write's `active` is ([`status`]). `None`: the person's own.
    pub product: Option<Product>,
    pub pool_id: Option<PoolId>,
    pub when_full: WhenFull,
    /// The configuration's license assignment rules (`assignment`): with any, the pool
    /// follows the user (a team move moves the license); `pool_id` is the fallback.
    pub rules: Arc<[assignment::LicenseRule]>,
}

impl SeatRequest {
    /// A write that syncs user data only (auto-assign off, or an admin action).
    pub fn none() -> Self {
        SeatRequest {
            product: None,
            pool_id: None,
            when_full: WhenFull::Wait,
            rules: Arc::from([]),
        }
    }

    /// The pool this user's license comes from (the first matching rule's, else the
    /// configuration's) and the rule that picked it; `user` as
    /// [`assignment::rule_view`] shows it.
    pub fn pool_for(&self, user: &serde_json::Value) -> Option<(&PoolId, Option<&assignment::LicenseRule>)> {
        let fallback = self.pool_id.as_ref()?;
        Some(assignment::pick(&self.rules, fallback, user))
    }
}

/// What a write did to the user's licenses: for the activity log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeatChange {
    /// No licensing applies (a group write).
    Unchanged,
    /// A user write that changed no license, and why.
    Kept(NoChange),
    /// A seat of `product` was taken.
    Assigned(String),
    /// The pool was full: the user joins the back of the queue for a seat of `product`.
    Waiting(String),
    /// A deactivation gave back the user's license of `product`, from the pool of
    /// `license_type` (its seat, if it held one, went to that pool's queue).
    Released { product: String, license_type: String },
    /// A license assignment rule moved the user's license of `product` from the pool of
    /// `from` to the pool of `to` (the old seat went to its queue); `waiting`: the new
    /// pool was full, the license waits at the back of its queue.
    Moved {
        product: String,
        from: String,
        to: String,
        waiting: bool,
        rule: Option<String>,
    },
}

/// Why a user write changed no license: every no-op licensing decision says what and
/// why in the activity log, so an admin need not guess.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoChange {
    /// The configuration does not auto-assign: only user data is synced.
    NoAutoAssign,
    /// One license per product: the user already holds one of `product`, from the pool
    /// of `license_type` (perhaps another configuration's).
    Holds { product: String, license_type: String },
    /// The user's license of `product` is waiting and no seat is free yet.
    StillWaiting(String),
    /// A deactivation through the configuration of `product`; the user holds none.
    NothingToRelease(String),
    /// The configuration's pool no longer exists.
    NoPool,
}

impl std::fmt::Display for NoChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoChange::NoAutoAssign => {
                f.write_str("no license: this configuration does not auto-assign (only user data is synced)")
            }
            NoChange::Holds {
                product,
                license_type,
            } => write!(
                f,
                "no license: one license per product, holds {license_type} ({product})"
            ),
            NoChange::StillWaiting(product) => {
                write!(
                    f,
                    "no license: still waiting for a {product} seat (the pool is full)"
                )
            }
            NoChange::NothingToRelease(product) => {
                write!(f, "no license released: the user holds no {product} license")
            }
            NoChange::NoPool => f.write_str("no license: the configuration's pool no longer exists"),
        }
    }
}

impl SeatChange {
    pub fn describe(&self) -> Option<String> {
        match self {
            SeatChange::Unchanged => None,
            SeatChange::Kept(why) => Some(why.to_string()),
            SeatChange::Assigned(p) => Some(format!("license assigned ({p})")),
            SeatChange::Waiting(p) => Some(format!("no seat free ({p}): waiting")),
            SeatChange::Released {
                product,
                license_type,
            } => Some(format!("license released: {license_type} ({product})")),
            SeatChange::Moved {
                product,
                from,
                to,
                waiting,
                rule,
            } => Some(format!(
                "license moved: {from} → {to} ({product}){}{}",
                rule.as_ref().map_or_else(
                    || " (no rule matches: the configuration's license type)".to_owned(),
                    |r| format!(" by rule {r}")
                ),
                if *waiting { "; no seat free: waiting" } else { "" },
            )),
        }
    }
}

/// A waiting user handed a freed seat by the queue (first come, first served), in the
/// transaction that freed it: one activity record each, so an admin sees who got which
/// pool's seat and how long they waited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promotion {
    pub user_id: UserId,
    pub user_name: String,
    pub pool_id: PoolId,
    pub product: String,
    pub license_type: String,
    /// Microseconds since the epoch: when the user joined the queue.
    pub requested_at: i64,
    /// Microseconds since the epoch: when the seat was handed over.
    pub promoted_at: i64,
}

impl Promotion {
    /// The activity log's outcome.
    pub fn describe(&self) -> String {
        let Promotion {
            user_name,
            product,
            license_type,
            ..
        } = self;
        let waited = waited(self.promoted_at.saturating_sub(self.requested_at));
        format!(
            "license assigned from the queue: {user_name} got a seat of {license_type} ({product}) after waiting {waited}"
        )
    }
}

/// Microseconds as a short human duration ("2d 3h", "4m 5s", "0s").
fn waited(micros: i64) -> String {
    let secs = micros.max(0) / 1_000_000;
    let parts = [
        (secs / 86_400, "d"),
        (secs % 86_400 / 3_600, "h"),
        (secs % 3_600 / 60, "m"),
        (secs % 60, "s"),
    ];
    // The two largest units that matter: a wait of days does not need its seconds.
    let shown: Vec<String> = parts
        .iter()
        .skip_while(|(n, _)| *n == 0)
        .take(2)
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if shown.is_empty() {
        "0s".to_owned()
    } else {
        shown.join(" ")
    }
}

/// One license of a user, as shown on the SCIM User and in the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct License {
    pub product: String,
    pub instance: String,
    pub license_type: String,
    pub state: LicenseState,
    /// RFC 3339, when a seat was assigned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activated_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_are_validated_slugs() {
        assert!(Product::try_from("sales_navigator".to_owned()).is_ok());
        assert!(Product::try_from("Sales Navigator".to_owned()).is_err());
        assert!(Product::try_from(String::new()).is_err());
    }

    #[test]
    fn states_round_trip_and_waiting_holds_no_seat() {
        for s in [
            LicenseState::Assigned,
            LicenseState::Activated,
            LicenseState::Waiting,
        ] {
            assert_eq!(s.as_str().parse::<LicenseState>(), Ok(s));
            assert_eq!(serde_json::to_value(s).ok(), Some(serde_json::json!(s.as_str())));
        }
        assert!("Assigned".parse::<LicenseState>().is_err());
        assert!(!LicenseState::Waiting.holds_seat());
        assert!(LicenseState::Activated.holds_seat());
    }

    #[test]
    fn promotions_and_releases_name_the_user_the_pool_and_the_wait() {
        let promotion = Promotion {
            user_id: UserId::from("u1"),
            user_name: "c@acme.com".into(),
            pool_id: PoolId::from("p1"),
            product: "sales_navigator".into(),
            license_type: "Advanced Plus".into(),
            requested_at: 1_000_000,
            promoted_at: 1_000_000 + 3_725_000_000,
        };
        assert_eq!(
            promotion.describe(),
            "license assigned from the queue: c@acme.com got a seat of Advanced Plus (sales_navigator) after waiting 1h 2m"
        );
        assert_eq!(waited(0), "0s");
        assert_eq!(waited(61_000_000), "1m 1s");
        assert_eq!(waited(86_400_000_000 + 5_000_000), "1d");
        let released = SeatChange::Released {
            product: "learning".into(),
            license_type: "Learning".into(),
        };
        assert_eq!(
            released.describe().as_deref(),
            Some("license released: Learning (learning)")
        );
    }
}
