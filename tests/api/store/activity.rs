//! The activity writer: one bad record never costs the records batched with it.

use std::time::Duration;

use linkedin_scim::activity::ActivityRecord;
use linkedin_scim::store::ActivityQuery;
use linkedin_scim::tasks::ActivityWriter;

use super::TestStore;
use crate::backend_tests;
use crate::helpers::Backend;

fn record(account_id: &str, path: &str) -> ActivityRecord {
    ActivityRecord {
        id: None,
        account_id: account_id.to_owned(),
        configuration_id: None,
        at: 1,
        request_id: None,
        method: "GET".into(),
        path: path.into(),
        status: 200,
        latency_us: 1,
        resource_type: None,
        resource_id: None,
        outcome: None,
        detail: None,
        tolerances: Vec::new(),
        ..ActivityRecord::default()
    }
}

async fn a_bad_record_costs_only_itself(backend: Backend) {
    let store = TestStore::open(backend).await;
    let other = store.other_account("globex").await;
    let (writer, _task) = ActivityWriter::start(store.store.clone(), 16);
    let acme = store.account_id().to_string();
    // A record the database refuses on both backends (its account does not exist),
    // queued between two good records of two accounts: one batch.
    writer.record(record(&acme, "/scim/v2/Users/1"));
    writer.record(record("no-such-account", "/scim/v2/Users/bad"));
    writer.record(record(other.id.as_ref(), "/scim/v2/Users/2"));
    let query = ActivityQuery {
        limit: 10,
        ..ActivityQuery::default()
    };
    let mut written = (Vec::new(), Vec::new());
    for _ in 0..150 {
        written = (
            store.store.activity(store.account_id(), &query).await.unwrap(),
            store.store.activity(&other.id, &query).await.unwrap(),
        );
        if !written.0.is_empty() && !written.1.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(written.0.len(), 1, "acme's record was lost");
    assert_eq!(written.1.len(), 1, "globex's record was lost");
    assert_eq!(written.1[0].path, "/scim/v2/Users/2");
}

backend_tests!(a_bad_record_costs_only_itself);
