//! The licensing rules as the store carries them out: first come, first served seats,
//! waiting, refusal, release, promotion and activation, and the seat invariant under
//! concurrent writers.

use std::sync::Arc;

use linkedin_scim::licensing::{LicenseState, NoChange, Product, SeatChange, SeatRequest, WhenFull};
use linkedin_scim::store::{StoreError, UserWrite};
use serde_json::json;

use linkedin_scim::ids::UserId;

use super::{TestStore, user_doc, user_id};
use crate::backend_tests;
use crate::helpers::Backend;

async fn create(t: &TestStore, user_name: &str, seat: &SeatRequest) -> UserWrite {
    t.store
        .create_user(t.account_id(), &user_doc(user_name), seat, None, 1)
        .await
        .expect("create user")
}

/// Set `active` through `modify_user`, as a PATCH would.
async fn set_active(t: &TestStore, id: &UserId, active: bool, seat: &SeatRequest, now: i64) -> SeatChange {
    t.store
        .modify_user(t.account_id(), id, seat, now, &mut |current| {
            let mut doc = current.doc.clone();
            doc["active"] = json!(active);
            Ok(Some(doc))
        })
        .await
        .expect("modify user")
        .seats
}

async fn state(t: &TestStore, id: &UserId) -> Option<LicenseState> {
    let licenses = t
        .store
        .licenses(t.account_id(), std::slice::from_ref(id))
        .await
        .expect("licenses");
    licenses.first().map(|(_, license)| license.state)
}

async fn seats_go_first_come_first_served_and_a_full_pool_makes_users_wait(backend: Backend) {
    let t = TestStore::open(backend).await;
    let (pool, seat) = t.pool(1, WhenFull::Wait).await;
    let first = create(&t, "first@acme.example", &seat).await;
    assert_eq!(first.seats, SeatChange::Assigned(Product::SALES_NAVIGATOR.into()));
    let second = create(&t, "second@acme.example", &seat).await;
    assert_eq!(second.seats, SeatChange::Waiting(Product::SALES_NAVIGATOR.into()));
    assert_eq!(
        state(&t, &user_id(&second.record)).await,
        Some(LicenseState::Waiting)
    );
    let usage = t.pool_usage(&pool.id).await;
    assert_eq!((usage.used, usage.waiting), (1, 1));

    // Touching a user that holds its seat changes nothing; one that waits keeps waiting.
    let touch = |id: UserId| {
        let t = &t;
        let seat = &seat;
        async move {
            t.store
                .modify_user(t.account_id(), &id, seat, 2, &mut |_| Ok(None))
                .await
                .expect("touch")
                .seats
        }
    };
    assert_eq!(
        touch(user_id(&first.record)).await,
        SeatChange::Kept(NoChange::Holds {
            product: Product::SALES_NAVIGATOR.into(),
            license_type: "Advanced Plus".into()
        })
    );
    assert_eq!(
        touch(user_id(&second.record)).await,
        SeatChange::Kept(NoChange::StillWaiting(Product::SALES_NAVIGATOR.into()))
    );

    // The freed seat goes to the waiting user in the same transaction: she need not be
    // written again, and nobody who writes next can take it.
    assert_eq!(
        set_active(&t, &user_id(&first.record), false, &seat, 3).await,
        SeatChange::Released {
            product: Product::SALES_NAVIGATOR.into(),
            license_type: "Advanced Plus".into()
        }
    );
    assert_eq!(state(&t, &user_id(&first.record)).await, None);
    assert_eq!(
        state(&t, &user_id(&second.record)).await,
        Some(LicenseState::Assigned)
    );
    let usage = t.pool_usage(&pool.id).await;
    assert_eq!((usage.used, usage.waiting), (1, 0));
    // The first user, reactivated, joins the back of the queue.
    assert_eq!(
        set_active(&t, &user_id(&first.record), true, &seat, 4).await,
        SeatChange::Waiting(Product::SALES_NAVIGATOR.into())
    );
}

async fn freed_and_added_seats_go_to_the_longest_waiting(backend: Backend) {
    let t = TestStore::open(backend).await;
    let (pool, seat) = t.pool(1, WhenFull::Wait).await;
    let holder = create(&t, "holder@acme.example", &seat).await;
    let early = create(&t, "early@acme.example", &seat).await;
    let late = t
        .store
        .create_user(t.account_id(), &user_doc("late@acme.example"), &seat, None, 5)
        .await
        .expect("create");
    assert!(
        t.store
            .delete_user(t.account_id(), &user_id(&holder.record), 6)
            .await
            .expect("delete")
    );
    assert_eq!(
        state(&t, &user_id(&early.record)).await,
        Some(LicenseState::Assigned)
    );
    assert_eq!(
        state(&t, &user_id(&late.record)).await,
        Some(LicenseState::Waiting)
    );

    // More seats promote the rest at once.
    let usage = t
        .store
        .set_pool(t.account_id(), &pool.id, Some(3), 7)
        .await
        .expect("set pool");
    assert_eq!((usage.used, usage.waiting), (2, 0));
    assert_eq!(
        state(&t, &user_id(&late.record)).await,
        Some(LicenseState::Assigned)
    );
    // Fewer seats than are in use is refused by the check constraint.
    let shrink = t.store.set_pool(t.account_id(), &pool.id, Some(1), 8).await;
    assert!(matches!(shrink, Err(StoreError::Seats(_))), "{shrink:?}");
}

async fn a_full_pool_refuses_the_write_when_the_account_says_so(backend: Backend) {
    let t = TestStore::open(backend).await;
    let (pool, seat) = t.pool(1, WhenFull::Refuse).await;
    create(&t, "first@acme.example", &seat).await;
    let refused = t
        .store
        .create_user(t.account_id(), &user_doc("second@acme.example"), &seat, None, 2)
        .await;
    assert!(
        matches!(&refused, Err(StoreError::PoolFull(detail)) if detail.contains("no sales_navigator seat is free")),
        "{refused:?}"
    );
    // Nothing was written: the user does not exist and no one waits.
    let page = t
        .store
        .list_users(t.account_id(), &super::users_query(None, None), None)
        .await
        .expect("list");
    assert_eq!(page.total, 1);
    assert_eq!(t.pool_usage(&pool.id).await.waiting, 0);
    // An inactive user needs no seat, so it syncs.
    let mut inactive = user_doc("inactive@acme.example");
    inactive["active"] = json!(false);
    let write = t
        .store
        .create_user(t.account_id(), &inactive, &seat, None, 3)
        .await
        .expect("inactive user");
    assert_eq!(
        write.seats,
        SeatChange::Kept(NoChange::NothingToRelease(Product::SALES_NAVIGATOR.into()))
    );
}

async fn only_an_assigned_license_is_activated_and_revoking_frees_its_seat(backend: Backend) {
    let t = TestStore::open(backend).await;
    let (pool, seat) = t.pool(1, WhenFull::Wait).await;
    let product = Product::sales_navigator();
    let holder = create(&t, "holder@acme.example", &seat).await;
    let waiting = create(&t, "waiting@acme.example", &seat).await;
    let none = t.user("none@acme.example").await;

    let activate = |id: UserId| {
        let t = &t;
        let product = &product;
        async move { t.store.activate_license(t.account_id(), &id, product, 4).await }
    };
    activate(user_id(&holder.record)).await.expect("activate");
    assert_eq!(
        state(&t, &user_id(&holder.record)).await,
        Some(LicenseState::Activated)
    );
    // Activating twice is fine.
    activate(user_id(&holder.record)).await.expect("activate again");
    let early = activate(user_id(&waiting.record)).await;
    assert!(
        matches!(&early, Err(StoreError::Seats(d)) if d.contains("waiting for a seat")),
        "{early:?}"
    );
    assert!(matches!(activate(none.clone()).await, Err(StoreError::NotFound)));

    t.store
        .revoke_license(t.account_id(), &user_id(&holder.record), &product, 5)
        .await
        .expect("revoke");
    // The revoked seat went to the waiting user, who may now accept it.
    let usage = t.pool_usage(&pool.id).await;
    assert_eq!((usage.used, usage.waiting), (1, 0));
    activate(user_id(&waiting.record))
        .await
        .expect("activate the promoted");
    let again = t
        .store
        .revoke_license(t.account_id(), &user_id(&holder.record), &product, 6)
        .await;
    assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
}

async fn seats_in_use_never_exceed_seats_under_concurrent_creates(backend: Backend) {
    let t = TestStore::open(backend).await;
    let (pool, seat) = t.pool(3, WhenFull::Wait).await;
    // A second store on the same database: another server process's pool.
    let replica = linkedin_scim::store::connect(&t.database.url)
        .await
        .expect("second store");
    let stores = [t.store.clone(), replica];
    let seat = Arc::new(seat);
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = stores[i % 2].clone();
        let seat = seat.clone();
        let account = t.account_id().to_owned();
        tasks.push(tokio::spawn(async move {
            store
                .create_user(
                    &account,
                    &user_doc(&format!("u{i}@acme.example")),
                    &seat,
                    None,
                    i as i64,
                )
                .await
                .expect("create")
                .seats
        }));
    }
    let mut assigned = 0;
    for task in tasks {
        if matches!(task.await.expect("task"), SeatChange::Assigned(_)) {
            assigned += 1;
        }
    }
    assert_eq!(assigned, 3);
    let usage = t.pool_usage(&pool.id).await;
    assert_eq!((usage.used, usage.waiting), (3, 13));
}

/// A waiting license an admin moves to another pool joins the back of that pool's
/// queue, however early it asked for its first pool.
async fn a_moved_waiting_license_joins_the_back_of_the_new_queue(backend: Backend) {
    let t = TestStore::open(backend).await;
    let (advanced, seat) = t.pool(1, WhenFull::Wait).await;
    let teamlink = t
        .store
        .put_pool(t.account_id(), &advanced.instance_id, "TeamLink Extend", 1, 0)
        .await
        .expect("pool");
    let teamlink_seat = SeatRequest {
        product: Some(Product::sales_navigator()),
        pool_id: Some(teamlink.id.clone()),
        rules: Default::default(),
        when_full: WhenFull::Wait,
    };
    create(&t, "advanced@acme.example", &seat).await;
    let moved = user_id(&create(&t, "moved@acme.example", &seat).await.record);
    let holder = user_id(&create(&t, "holder@acme.example", &teamlink_seat).await.record);
    let early = user_id(&create(&t, "early@acme.example", &teamlink_seat).await.record);
    let product = Product::sales_navigator();
    t.store
        .move_license(t.account_id(), &moved, &product, &teamlink.id, 5)
        .await
        .expect("move");
    let usage = t.pool_usage(&teamlink.id).await;
    assert_eq!((usage.used, usage.waiting), (1, 2));
    // The TeamLink seat frees: it goes to the one who waited there first.
    t.store
        .revoke_license(t.account_id(), &holder, &product, 6)
        .await
        .expect("revoke");
    assert_eq!(state(&t, &early).await, Some(LicenseState::Assigned));
    assert_eq!(state(&t, &moved).await, Some(LicenseState::Waiting));
}

/// Creates, deactivations and reactivations from two server processes at once: the
/// seats are never oversubscribed and no seat is left free beside a waiting user.
async fn no_seat_stays_free_beside_a_waiting_user_under_concurrent_writers(backend: Backend) {
    let t = TestStore::open(backend).await;
    let (pool, seat) = t.pool(3, WhenFull::Wait).await;
    let replica = linkedin_scim::store::connect(&t.database.url)
        .await
        .expect("second store");
    let stores = [t.store.clone(), replica];
    let mut ids = Vec::new();
    for i in 0..8 {
        ids.push(user_id(
            &create(&t, &format!("u{i}@acme.example"), &seat).await.record,
        ));
    }
    let seat = Arc::new(seat);
    let mut tasks = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let store = stores[i % 2].clone();
        let seat = seat.clone();
        let account = t.account_id().to_owned();
        let id = id.clone();
        // Holders and waiters alike go off and on again, newcomers arrive meanwhile.
        tasks.push(tokio::spawn(async move {
            for (step, active) in [false, true].into_iter().enumerate() {
                store
                    .modify_user(&account, &id, &seat, 10 + step as i64, &mut |current| {
                        let mut doc = current.doc.clone();
                        doc["active"] = json!(active);
                        Ok(Some(doc))
                    })
                    .await
                    .expect("modify");
            }
            store
                .create_user(
                    &account,
                    &user_doc(&format!("new{i}@acme.example")),
                    &seat,
                    None,
                    20,
                )
                .await
                .expect("create");
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    let usage = t.pool_usage(&pool.id).await;
    assert_eq!((usage.seats, usage.used, usage.waiting), (3, 3, 13), "{usage:?}");
}

backend_tests!(
    seats_go_first_come_first_served_and_a_full_pool_makes_users_wait,
    freed_and_added_seats_go_to_the_longest_waiting,
    no_seat_stays_free_beside_a_waiting_user_under_concurrent_writers,
    a_moved_waiting_license_joins_the_back_of_the_new_queue,
    a_full_pool_refuses_the_write_when_the_account_says_so,
    only_an_assigned_license_is_activated_and_revoking_frees_its_seat,
    seats_in_use_never_exceed_seats_under_concurrent_creates
);
