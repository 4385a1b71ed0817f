//! The license state machine as pure decisions: given what the user holds, what the
//! write asks and what the pool answered, what to write. The store executes them inside
//! the write's transaction and keeps in SQL only what the seat invariant across replicas
//! needs (the guarded `used < seats` update, the check constraint, the lock order).

use super::{LicenseState, NoChange, PoolId, SeatChange, SeatRequest, WhenFull};

/// What a user write means for the user's licenses, before the pool is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatPlan<'a> {
    /// A user made inactive by an auto-assigning configuration gives up that
    /// configuration's product license only: another product may be managed by another
    /// IdP, whose deprovisioning is its own.
    Release { pool_id: &'a PoolId },
    /// The write asks for no seat and manages none (auto-assign off: "only user data is
    /// synced", so a deactivation there releases nothing; or an admin action).
    Nothing,
    /// An active user written by an auto-assigning configuration: it holds (or waits
    /// for) one seat of this pool's product.
    Claim {
        pool_id: &'a PoolId,
        when_full: WhenFull,
    },
}

impl SeatRequest {
    /// The plan for a write that leaves the user `active` (or not).
    pub fn plan(&self, active: bool) -> SeatPlan<'_> {
        match (&self.pool_id, active) {
            (Some(pool_id), false) => SeatPlan::Release { pool_id },
            (None, _) => SeatPlan::Nothing,
            (Some(pool_id), true) => SeatPlan::Claim {
                pool_id,
                when_full: self.when_full,
            },
        }
    }
}

/// Must the store ask the pool for a seat (one per product per user)? Only for a user
/// without a license of the product. A waiting user is in the queue already: the next
/// freed seat comes to her through the queue, in arrival order, not through her next
/// write (which would let whoever the IdP writes first overtake the others).
pub fn needs_seat(current: Option<LicenseState>) -> bool {
    current.is_none()
}

/// What to write for a claim once the pool answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignment {
    /// Nothing: the user holds a seat of the product already (one per product).
    Holds,
    /// Nothing: the user's waiting license still waits.
    StillWaiting,
    /// A new license in this state: `assigned` with the seat just taken, or `waiting`
    /// at the back of the queue (the pool is full, or others wait already).
    Record(LicenseState),
}

impl Assignment {
    /// What the write did, for the response and the activity log; `held_type`: the
    /// license type of the license the user held before.
    pub fn seat_change(self, product: &str, held_type: Option<&str>) -> SeatChange {
        match self {
            Assignment::Holds => SeatChange::Kept(NoChange::Holds {
                product: product.to_owned(),
                license_type: held_type.unwrap_or(product).to_owned(),
            }),
            Assignment::StillWaiting => SeatChange::Kept(NoChange::StillWaiting(product.to_owned())),
            Assignment::Record(LicenseState::Waiting) => SeatChange::Waiting(product.to_owned()),
            Assignment::Record(_) => SeatChange::Assigned(product.to_owned()),
        }
    }
}

/// Why a licensing action is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The pool is full and the account refuses the write rather than wait.
    #[error("no {0} seat is free in this configuration's license pool")]
    PoolFull(String),
    /// The user holds no license of the product.
    #[error("the user holds no {0} license")]
    NoLicense(String),
    #[error("the {0} license is waiting for a seat and cannot be activated yet")]
    StillWaiting(String),
}

/// Settle a claim: `current` is the user's license for the product, `seat_taken`
/// whether the guarded update took a seat (only tried when [`needs_seat`], under the
/// pool's lock and after the queue was served). First come, first served: a newcomer
/// gets a seat only when nobody waits; otherwise its license joins the back of the
/// queue, or the write is refused when the account says so.
pub fn assign(
    product: &str,
    current: Option<LicenseState>,
    seat_taken: bool,
    when_full: WhenFull,
) -> Result<Assignment, Refusal> {
    Ok(match current {
        Some(state) if state.holds_seat() => Assignment::Holds,
        Some(_) => Assignment::StillWaiting,
        None if seat_taken => Assignment::Record(LicenseState::Assigned),
        None => match when_full {
            WhenFull::Wait => Assignment::Record(LicenseState::Waiting),
            WhenFull::Refuse => return Err(Refusal::PoolFull(product.to_owned())),
        },
    })
}

/// Does removing `removed` (the state of the license deleted, if there was one) give a
/// seat back? Its pool then hands it to the longest-waiting user, in the same
/// transaction: no pool keeps a free seat beside a waiting user.
pub fn release(removed: Option<LicenseState>) -> bool {
    removed.is_some_and(LicenseState::holds_seat)
}

/// An admin moves a license (in `state`) to another pool of its product; `seat_taken`:
/// whether the guarded update took a seat there. A license holding a seat needs one in
/// the new pool; a waiting one waits there, or gets the free seat. The new state, and
/// whether the old pool gets a seat back.
pub fn relocate(
    product: &str,
    state: LicenseState,
    seat_taken: bool,
) -> Result<(LicenseState, bool), Refusal> {
    match (state.holds_seat(), seat_taken) {
        (true, true) => Ok((state, true)),
        (true, false) => Err(Refusal::PoolFull(product.to_owned())),
        (false, true) => Ok((LicenseState::Assigned, false)),
        (false, false) => Ok((LicenseState::Waiting, false)),
    }
}

/// What the user's acceptance of a license writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `assigned` → `activated`.
    Activate,
    /// Activated already: nothing to write.
    AlreadyActive,
}

/// The user accepts its license of `product` (`current`: its state, if it holds one).
pub fn activate(product: &str, current: Option<LicenseState>) -> Result<Activation, Refusal> {
    match current {
        None => Err(Refusal::NoLicense(product.to_owned())),
        Some(LicenseState::Waiting) => Err(Refusal::StillWaiting(product.to_owned())),
        Some(LicenseState::Activated) => Ok(Activation::AlreadyActive),
        Some(LicenseState::Assigned) => Ok(Activation::Activate),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LicenseState::{Activated, Assigned, Waiting};

    #[test]
    fn a_moved_license_keeps_its_state_and_needs_a_seat_if_it_held_one() {
        assert_eq!(relocate("sn", Activated, true), Ok((Activated, true)));
        assert_eq!(
            relocate("sn", Assigned, false),
            Err(Refusal::PoolFull("sn".into()))
        );
        assert_eq!(relocate("sn", Waiting, true), Ok((Assigned, false)));
        assert_eq!(relocate("sn", Waiting, false), Ok((Waiting, false)));
    }

    fn request(pool: Option<&str>, when_full: WhenFull) -> SeatRequest {
        SeatRequest {
            product: None,
            pool_id: pool.map(PoolId::from),
            when_full,
            rules: std::sync::Arc::from([]),
        }
    }

    #[test]
    fn inactive_users_release_their_product_and_active_ones_claim_when_asked() {
        let auto = request(Some("p1"), WhenFull::Refuse);
        assert_eq!(
            auto.plan(false),
            SeatPlan::Release {
                pool_id: &PoolId::from("p1")
            }
        );
        assert_eq!(SeatRequest::none().plan(false), SeatPlan::Nothing);
        assert_eq!(SeatRequest::none().plan(true), SeatPlan::Nothing);
        assert_eq!(
            auto.plan(true),
            SeatPlan::Claim {
                pool_id: &PoolId::from("p1"),
                when_full: WhenFull::Refuse
            }
        );
    }

    #[test]
    fn a_seat_is_needed_only_without_one() {
        assert!(needs_seat(None));
        assert!(!needs_seat(Some(Waiting)));
        assert!(!needs_seat(Some(Assigned)));
        assert!(!needs_seat(Some(Activated)));
    }

    #[test]
    fn a_new_license_takes_a_seat_or_waits_or_is_refused() {
        let granted = Ok(Assignment::Record(Assigned));
        assert_eq!(assign("sn", None, true, WhenFull::Wait), granted);
        assert_eq!(assign("sn", None, true, WhenFull::Refuse), granted);
        assert_eq!(
            assign("sn", None, false, WhenFull::Wait),
            Ok(Assignment::Record(Waiting))
        );
        let refused = assign("sn", None, false, WhenFull::Refuse);
        assert_eq!(refused, Err(Refusal::PoolFull("sn".into())));
        assert_eq!(
            refused.map_err(|e| e.to_string()),
            Err("no sn seat is free in this configuration's license pool".into())
        );
    }

    #[test]
    fn a_held_seat_stays_and_a_waiting_license_waits_for_the_queue() {
        for state in [Assigned, Activated] {
            assert_eq!(
                assign("sn", Some(state), false, WhenFull::Refuse),
                Ok(Assignment::Holds)
            );
        }
        // A waiting license keeps waiting, even when the account refuses: only the
        // queue promotes it, in arrival order.
        for when_full in [WhenFull::Wait, WhenFull::Refuse] {
            assert_eq!(
                assign("sn", Some(Waiting), false, when_full),
                Ok(Assignment::StillWaiting)
            );
        }
    }

    #[test]
    fn assignments_describe_their_seat_change() {
        assert_eq!(
            Assignment::Record(Assigned).seat_change("sn", None),
            SeatChange::Assigned("sn".into())
        );
        assert_eq!(
            Assignment::Record(Waiting).seat_change("sn", None),
            SeatChange::Waiting("sn".into())
        );
        let holds = Assignment::Holds.seat_change("sn", Some("Advanced Plus"));
        assert_eq!(
            holds.describe().as_deref(),
            Some("no license: one license per product, holds Advanced Plus (sn)")
        );
        assert_eq!(
            Assignment::StillWaiting.seat_change("sn", None),
            SeatChange::Kept(NoChange::StillWaiting("sn".into()))
        );
    }

    #[test]
    fn only_a_held_seat_is_given_back() {
        assert!(release(Some(Assigned)));
        assert!(release(Some(Activated)));
        assert!(!release(Some(Waiting)));
        assert!(!release(None));
    }

    #[test]
    fn only_an_assigned_license_is_activated() {
        assert_eq!(activate("sn", Some(Assigned)), Ok(Activation::Activate));
        assert_eq!(activate("sn", Some(Activated)), Ok(Activation::AlreadyActive));
        assert_eq!(
            activate("sn", Some(Waiting)),
            Err(Refusal::StillWaiting("sn".into()))
        );
        assert_eq!(activate("sn", None), Err(Refusal::NoLicense("sn".into())));
        assert_eq!(
            Refusal::StillWaiting("sn".into()).to_string(),
            "the sn license is waiting for a seat and cannot be activated yet"
        );
    }
}
