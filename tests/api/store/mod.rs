//! The store on both backends, without HTTP: each test opens the store on a database of
//! its own (removed afterwards) and calls the store traits the way the handlers do.

mod activity;
pub mod import;
mod members;
mod seat_maths;
mod seats;
mod tokens;

use std::sync::Arc;

use linkedin_scim::accounts::{Account, FidelityPreset};
use linkedin_scim::ids::{AccountId, PoolId, UserId};
use linkedin_scim::licensing::{Product, SeatRequest, WhenFull};
use linkedin_scim::scim::catalog::{group_schema, user_schema};
use linkedin_scim::scim::list::RawListParams;
use linkedin_scim::scim::schema::ResourceSchema;
use linkedin_scim::scim::tolerance::{ClientProfile, Leniency};
use linkedin_scim::store::{ListRequest, PoolUsage, ResourceRecord, Store};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestDatabase, USER_SCHEMA};

/// An open store over a fresh database, with one account (`acme`, RFC preset).
pub struct TestStore {
    pub store: Arc<dyn Store>,
    pub account: Account,
    pub database: TestDatabase,
}

impl TestStore {
    pub async fn open(backend: Backend) -> TestStore {
        let database = TestDatabase::create(backend).await;
        let store = linkedin_scim::store::connect(&database.url).await.expect("store");
        let account = store
            .ensure_account("acme", FidelityPreset::Rfc.settings(), 0)
            .await
            .expect("account");
        TestStore {
            store,
            account,
            database,
        }
    }

    /// Another account (RFC preset) in the same database.
    pub async fn other_account(&self, name: &str) -> Account {
        self.store
            .ensure_account(name, FidelityPreset::Rfc.settings(), 0)
            .await
            .expect("account")
    }

    pub fn account_id(&self) -> &AccountId {
        &self.account.id
    }

    /// A Sales Navigator pool of `seats` seats, and the seat request of a configuration
    /// auto-assigning it.
    pub async fn pool(&self, seats: i64, when_full: WhenFull) -> (PoolUsage, SeatRequest) {
        let instance = self
            .store
            .put_instance(
                self.account_id(),
                &Product::sales_navigator(),
                "Acme Sales Navigator",
                0,
            )
            .await
            .expect("instance");
        let pool = self
            .store
            .put_pool(self.account_id(), &instance.id, "Advanced Plus", seats, 0)
            .await
            .expect("pool");
        let request = SeatRequest {
            product: Some(Product::sales_navigator()),
            pool_id: Some(pool.id.clone()),
            rules: Default::default(),
            when_full,
        };
        (pool, request)
    }

    /// The account's pool `id` as it is now.
    pub async fn pool_usage(&self, id: &PoolId) -> PoolUsage {
        let pools = self.store.pools(self.account_id()).await.expect("pools");
        pools.into_iter().find(|p| p.id == *id).expect("pool")
    }

    /// Create an active user with no seat request; its id.
    pub async fn user(&self, user_name: &str) -> UserId {
        let record = self
            .store
            .create_user(
                self.account_id(),
                &user_doc(user_name),
                &SeatRequest::none(),
                None,
                1,
            )
            .await
            .expect("create user")
            .record;
        user_id(&record)
    }
}

/// The id of a user record.
pub fn user_id(record: &ResourceRecord) -> UserId {
    UserId::from(record.id.as_str())
}

pub fn user_doc(user_name: &str) -> Value {
    json!({"schemas": [USER_SCHEMA], "userName": user_name, "active": true})
}

fn list(schema: &'static ResourceSchema, filter: Option<&str>, count: Option<u64>) -> ListRequest {
    RawListParams {
        filter: filter.map(str::to_owned),
        count: count.map(|c| c.to_string()),
        ..Default::default()
    }
    .parse(1000, schema, &mut Leniency::new(ClientProfile::Strict))
    .expect("valid list request")
}

/// A users query (`count=0`: totals only).
pub fn users_query(filter: Option<&str>, count: Option<u64>) -> ListRequest {
    list(user_schema(), filter, count)
}

pub fn groups_query(filter: Option<&str>) -> ListRequest {
    list(group_schema(), filter, None)
}
