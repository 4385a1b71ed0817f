//! Token authentication through the store: what it finds for a token hash, and what
//! `accounts::admit` then decides.

use linkedin_scim::accounts::{BearerToken, PatchResponse, TokenRejection, admit, token_expiry};
use linkedin_scim::scim::tolerance::ClientProfile;
use linkedin_scim::store::{NewConfiguration, StoreError};

use super::TestStore;
use crate::backend_tests;
use crate::helpers::Backend;

fn token(raw: &str) -> BearerToken {
    BearerToken::parse(raw).expect("valid token")
}

async fn configure(
    t: &TestStore,
    name: &str,
    token: &BearerToken,
    expires_at: Option<i64>,
) -> Result<(), StoreError> {
    t.store
        .put_configuration(
            NewConfiguration {
                account_id: t.account_id(),
                name,
                client_profile: ClientProfile::Okta,
                token_hash: &token.hash(),
                token_expires_at: expires_at,
                auto_assign_pool_id: None,
                patch_response: PatchResponse::NoContent,
            },
            1,
        )
        .await
        .map(|_| ())
}

async fn authenticate(t: &TestStore, token: &BearerToken, now: i64) -> Result<String, TokenRejection> {
    let hash = token.hash();
    let found = t.store.find_token(&hash).await.expect("find token");
    admit(&hash, found, now).map(|p| format!("{}/{}", p.account.name, p.configuration.name))
}

async fn a_token_authenticates_its_configuration_until_it_expires(backend: Backend) {
    let t = TestStore::open(backend).await;
    let okta = token("okta-token-0001");
    configure(&t, "Okta", &okta, Some(100)).await.expect("configure");
    assert_eq!(authenticate(&t, &okta, 99).await, Ok("acme/Okta".into()));
    assert_eq!(authenticate(&t, &okta, 100).await, Err(TokenRejection::Expired));
    assert_eq!(
        authenticate(&t, &token("never-issued"), 0).await,
        Err(TokenRejection::Unknown)
    );

    let found = t
        .store
        .find_token(&okta.hash())
        .await
        .expect("find")
        .expect("stored");
    assert_eq!(found.expires_at, Some(100));
    assert_eq!(found.principal.configuration.client_profile, ClientProfile::Okta);
    assert_eq!(
        found.principal.configuration.patch_response,
        PatchResponse::NoContent
    );
    assert_eq!(found.principal.account.id, t.account.id);
}

async fn a_refreshed_token_revokes_the_old_one_at_once(backend: Backend) {
    let t = TestStore::open(backend).await;
    let old = token("entra-token-old");
    configure(&t, "Entra", &old, None).await.expect("configure");
    let new = token("entra-token-new");
    let expiry = token_expiry(&t.account.fidelity, 5);
    assert!(
        t.store
            .issue_token(t.account_id(), "Entra", &new.hash(), expiry, 5)
            .await
            .expect("refresh")
    );
    assert_eq!(authenticate(&t, &old, 6).await, Err(TokenRejection::Unknown));
    assert_eq!(authenticate(&t, &new, i64::MAX).await, Ok("acme/Entra".into()));
    assert!(
        !t.store
            .issue_token(t.account_id(), "No such", &new.hash(), None, 7)
            .await
            .expect("refresh")
    );
}

async fn one_token_belongs_to_one_configuration(backend: Backend) {
    let t = TestStore::open(backend).await;
    let shared = token("shared-token-1");
    configure(&t, "First", &shared, None).await.expect("configure");
    let second = configure(&t, "Second", &shared, None).await;
    assert!(matches!(second, Err(StoreError::Conflict(_))), "{second:?}");
    // Re-applying a configuration by name updates it rather than creating another.
    configure(&t, "First", &token("shared-token-2"), None)
        .await
        .expect("update");
    assert_eq!(authenticate(&t, &shared, 0).await, Err(TokenRejection::Unknown));
}

async fn a_deleted_account_leaves_no_revoked_tokens(backend: Backend) {
    let t = TestStore::open(backend).await;
    let okta = token("okta-token-gone");
    configure(&t, "Okta", &okta, None).await.expect("configure");
    let refreshed = token("okta-token-next");
    t.store
        .issue_token(t.account_id(), "Okta", &refreshed.hash(), None, 5)
        .await
        .expect("refresh");
    let revoked = t.store.revoked_token(&okta.hash()).await.expect("lookup");
    assert!(revoked.is_some(), "a refreshed token is remembered as revoked");
    assert!(t.store.delete_account(t.account_id()).await.expect("delete"));
    // A refusal of either token must not be journaled against the gone account.
    for gone in [&okta, &refreshed] {
        let revoked = t.store.revoked_token(&gone.hash()).await.expect("lookup");
        assert!(revoked.is_none(), "{revoked:?}");
    }
}

backend_tests!(
    a_token_authenticates_its_configuration_until_it_expires,
    a_refreshed_token_revokes_the_old_one_at_once,
    one_token_belongs_to_one_configuration,
    a_deleted_account_leaves_no_revoked_tokens
);
