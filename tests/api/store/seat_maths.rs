//! Seat maths under random interleavings: rounds of concurrent creates, deactivations,
//! reactivations, team moves (a license rule on `department`), seat changes and revokes,
//! split over two stores on one database (two server processes). After every round the
//! pools are checked against three rules: never more seats used than the pool has, never
//! a free seat beside a waiting user, and nobody overtakes a user who kept waiting.
//!
//! The plan is random (proptest's generator, seeded); a failure prints the seed, and
//! `SEAT_MATHS_SEED=<hex>` replays the same plan (the interleaving within a round is the
//! scheduler's).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use linkedin_scim::accounts::FidelityPreset;
use linkedin_scim::ids::{AccountId, PoolId, UserId};
use linkedin_scim::licensing::assignment::LicenseRule;
use linkedin_scim::licensing::{LicenseState, Product, SeatRequest, WhenFull};
use linkedin_scim::store::{Store, StoreError};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};

use super::{TestStore, user_id};
use crate::backend_tests;
use crate::helpers::{Backend, USER_SCHEMA};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The departments users move between; the rule sends "Support" to TeamLink Extend.
const DEPARTMENTS: [&str; 2] = ["Sales", "Support"];
const USERS_PER_PLAN: usize = 10;
const ROUNDS: usize = 25;
const OPS_PER_ROUND: usize = 4;

/// One thing an IdP or an admin does.
#[derive(Debug, Clone)]
enum Op {
    /// Create the plan's `n`th user (a no-op once it exists) in a department.
    Create { user: usize, department: usize },
    /// Deactivate or reactivate it through the configuration (a PATCH of `active`).
    SetActive { user: usize, active: bool },
    /// A team move: its department changes, so the rule may pick the other pool.
    Move { user: usize, department: usize },
    /// An admin sets a pool's seats (refused below what is in use).
    SetSeats { pool: usize, seats: i64 },
    /// An admin revokes its license.
    Revoke { user: usize },
}

impl Op {
    /// The user the op writes, if any: that user's place in a queue may change.
    fn user(&self) -> Option<usize> {
        match self {
            Op::Create { user, .. }
            | Op::SetActive { user, .. }
            | Op::Move { user, .. }
            | Op::Revoke { user } => Some(*user),
            Op::SetSeats { .. } => None,
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    let user = 0..USERS_PER_PLAN;
    let department = 0..DEPARTMENTS.len();
    proptest::prop_oneof![
        3 => (user.clone(), department.clone()).prop_map(|(user, department)| Op::Create { user, department }),
        3 => (user.clone(), proptest::bool::ANY).prop_map(|(user, active)| Op::SetActive { user, active }),
        2 => (user.clone(), department).prop_map(|(user, department)| Op::Move { user, department }),
        1 => (0..2usize, 0..5i64).prop_map(|(pool, seats)| Op::SetSeats { pool, seats }),
        1 => user.prop_map(|user| Op::Revoke { user }),
    ]
}

fn plan(seed: [u8; 32]) -> Vec<Vec<Op>> {
    let mut runner =
        TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    proptest::collection::vec(proptest::collection::vec(op(), OPS_PER_ROUND), ROUNDS)
        .new_tree(&mut runner)
        .expect("a plan")
        .current()
}

/// The seed from `SEAT_MATHS_SEED` (64 hex digits), else a fresh one.
fn seed(case: u8) -> [u8; 32] {
    if let Ok(hex) = std::env::var("SEAT_MATHS_SEED") {
        let bytes = hex::decode(hex.trim()).expect("SEAT_MATHS_SEED is 64 hex digits");
        return bytes.try_into().expect("SEAT_MATHS_SEED is 32 bytes");
    }
    // Two v4 UUIDs: 32 random bytes, the case number first so the three differ.
    let mut seed = [0u8; 32];
    seed[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    seed[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    seed[0] = case;
    seed
}

/// An account with one Sales Navigator instance, two small pools and a configuration
/// whose rule sends Support to TeamLink Extend (Advanced Plus otherwise).
struct Tenant {
    account: AccountId,
    pools: [PoolId; 2],
    seat: SeatRequest,
}

async fn tenant(t: &TestStore, name: &str) -> Tenant {
    let account = t
        .store
        .ensure_account(name, FidelityPreset::Rfc.settings(), 0)
        .await
        .expect("account")
        .id;
    let instance = t
        .store
        .put_instance(&account, &Product::sales_navigator(), "Acme Sales Navigator", 0)
        .await
        .expect("instance");
    let mut pools = Vec::new();
    for (license_type, seats) in [("Advanced Plus", 2), ("TeamLink Extend", 1)] {
        let pool = t
            .store
            .put_pool(&account, &instance.id, license_type, seats, 0)
            .await
            .expect("pool");
        pools.push(pool.id);
    }
    let pools: [PoolId; 2] = pools.try_into().expect("two pools");
    let rule = LicenseRule::parse(
        &format!("{ENTERPRISE}:department eq \"Support\""),
        pools[1].clone(),
    )
    .expect("rule");
    let seat = SeatRequest {
        product: Some(Product::sales_navigator()),
        pool_id: Some(pools[0].clone()),
        rules: Arc::from([rule]),
        when_full: WhenFull::Wait,
    };
    Tenant { account, pools, seat }
}

fn doc(user: usize, department: usize) -> Value {
    json!({
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "userName": format!("u{user}@acme.example"),
        "active": true,
        ENTERPRISE: {"department": DEPARTMENTS[department]},
    })
}

/// Carry out `op` through `store`; refusals the rules allow (a user not created yet, a
/// pool shrunk below its use, a revoke with nothing to revoke) are part of the plan.
async fn apply(
    store: &Arc<dyn Store>,
    tenant: &Tenant,
    ids: &[Option<UserId>],
    op: &Op,
    now: i64,
) -> Option<UserId> {
    let account = &tenant.account;
    let seat = &tenant.seat;
    let refused = |result: Result<(), StoreError>| match result {
        Ok(()) | Err(StoreError::NotFound | StoreError::Seats(_) | StoreError::Conflict(_)) => {}
        Err(other) => panic!("{op:?}: {other:?}"),
    };
    match *op {
        Op::Create { user, department } => {
            if ids[user].is_some() {
                return None;
            }
            return match store
                .create_user(account, &doc(user, department), seat, None, now)
                .await
            {
                Ok(write) => Some(user_id(&write.record)),
                // The same user created by the other replica in this round.
                Err(StoreError::Conflict(_)) => None,
                Err(other) => panic!("{op:?}: {other:?}"),
            };
        }
        Op::SetActive { user, active } => {
            if let Some(id) = &ids[user] {
                let modified = store
                    .modify_user(account, id, seat, now, &mut |current| {
                        let mut doc = current.doc.clone();
                        doc["active"] = json!(active);
                        Ok(Some(doc))
                    })
                    .await;
                refused(modified.map(drop));
            }
        }
        Op::Move { user, department } => {
            if let Some(id) = &ids[user] {
                let modified = store
                    .modify_user(account, id, seat, now, &mut |current| {
                        let mut doc = current.doc.clone();
                        doc[ENTERPRISE] = json!({"department": DEPARTMENTS[department]});
                        Ok(Some(doc))
                    })
                    .await;
                refused(modified.map(drop));
            }
        }
        Op::SetSeats { pool, seats } => {
            refused(
                store
                    .set_pool(account, &tenant.pools[pool], Some(seats), now)
                    .await
                    .map(drop),
            );
        }
        Op::Revoke { user } => {
            if let Some(id) = &ids[user] {
                refused(
                    store
                        .revoke_license(account, id, &Product::sales_navigator(), now)
                        .await,
                );
            }
        }
    }
    None
}

/// What the pools look like between rounds: each pool's queue (in order) and who holds
/// a seat in it, by license type.
#[derive(Debug, Default)]
struct Picture {
    queues: BTreeMap<String, Vec<UserId>>,
    holders: BTreeMap<String, BTreeSet<UserId>>,
}

async fn picture(store: &Arc<dyn Store>, tenant: &Tenant, ids: &[Option<UserId>], context: &str) -> Picture {
    let pools = store.pools(&tenant.account).await.expect("pools");
    let mut picture = Picture::default();
    let type_of: BTreeMap<_, _> = pools
        .iter()
        .map(|p| (p.id.clone(), p.license_type.clone()))
        .collect();
    for place in store.queue(&tenant.account).await.expect("queue") {
        picture
            .queues
            .entry(type_of[&place.pool_id].clone())
            .or_default()
            .push(place.user_id);
    }
    let users: Vec<UserId> = ids.iter().flatten().cloned().collect();
    for (user, license) in store.licenses(&tenant.account, &users).await.expect("licenses") {
        if license.state != LicenseState::Waiting {
            picture
                .holders
                .entry(license.license_type)
                .or_default()
                .insert(user);
        }
    }
    for pool in &pools {
        let holders = picture.holders.get(&pool.license_type).map_or(0, BTreeSet::len) as i64;
        let waiting = picture.queues.get(&pool.license_type).map_or(0, Vec::len) as i64;
        assert_eq!(
            (pool.used, pool.waiting),
            (holders, waiting),
            "{context}: counts agree with the rows: {pool:?}"
        );
        assert!(pool.used <= pool.seats, "{context}: oversubscribed: {pool:?}");
        assert!(
            pool.waiting == 0 || pool.used == pool.seats,
            "{context}: a free seat beside a waiting user: {pool:?}"
        );
    }
    picture
}

/// Nobody overtakes a user who waited through the round untouched: every user who
/// newly holds a seat of a pool stood ahead of the first such user in its queue.
fn check_order(before: &Picture, after: &Picture, touched: &BTreeSet<UserId>, context: &str) {
    for (license_type, queue) in &before.queues {
        let still_waiting = after.queues.get(license_type).cloned().unwrap_or_default();
        let Some(first_kept) = queue
            .iter()
            .position(|u| !touched.contains(u) && still_waiting.contains(u))
        else {
            continue;
        };
        let ahead: BTreeSet<&UserId> = queue[..first_kept].iter().collect();
        let held_before = before.holders.get(license_type).cloned().unwrap_or_default();
        for holder in after.holders.get(license_type).into_iter().flatten() {
            assert!(
                held_before.contains(holder) || ahead.contains(holder),
                "{context}: {holder} took a {license_type} seat while {}, ahead of it, kept waiting; queue before: {queue:?}",
                queue[first_kept],
            );
        }
    }
}

async fn random_interleavings_on_two_replicas_keep_the_seat_rules(backend: Backend) {
    let t = TestStore::open(backend).await;
    let replica = linkedin_scim::store::connect(&t.database.url)
        .await
        .expect("second store");
    let stores = [t.store.clone(), replica];
    let clock = Arc::new(AtomicI64::new(1));
    for case in 0..3u8 {
        let seed = seed(case);
        let plan = plan(seed);
        let tenant = Arc::new(tenant(&t, &format!("plan{case}")).await);
        let mut ids: Vec<Option<UserId>> = vec![None; USERS_PER_PLAN];
        let mut before = picture(&stores[0], &tenant, &ids, "start").await;
        for (round, ops) in plan.iter().enumerate() {
            let context = format!("seed {} round {round} {ops:?}", hex::encode(seed));
            let shared = Arc::new(ids.clone());
            let tasks: Vec<_> = ops
                .iter()
                .enumerate()
                .map(|(i, op)| {
                    let (store, tenant, ids, op) =
                        (stores[i % 2].clone(), tenant.clone(), shared.clone(), op.clone());
                    let now = clock.fetch_add(1, Ordering::SeqCst);
                    tokio::spawn(async move {
                        let created = apply(&store, &tenant, &ids, &op, now).await;
                        (op, created)
                    })
                })
                .collect();
            let mut touched = BTreeSet::new();
            for task in tasks {
                let (op, created) = task.await.unwrap_or_else(|e| panic!("{context}: {e}"));
                if let Some(user) = op.user() {
                    if let Some(id) = created {
                        ids[user] = Some(id);
                    }
                    touched.extend(ids[user].clone());
                }
            }
            let after = picture(&stores[round % 2], &tenant, &ids, &context).await;
            check_order(&before, &after, &touched, &context);
            before = after;
        }
    }
}

backend_tests!(random_interleavings_on_two_replicas_keep_the_seat_rules);
