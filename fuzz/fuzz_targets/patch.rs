//! The PATCH engine: any JSON body against a user (every client profile) and a group
//! (members deferred); a PATCH that applies is then normalized and checked as a stored
//! document would be.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim::catalog::{group_schema, user_schema};
use scim::limits::check_document;
use scim::normalize::normalize;
use scim::patch::apply_patch;
use scim::tolerance::{ClientProfile, Leniency};
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    let Ok(request) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "userName": "bjensen@example.com",
        "name": {"givenName": "Barbara"},
        "emails": [{"value": "b@example.com", "type": "work", "primary": true}, {"value": "h@example.com", "type": "home"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Tour", "manager": {"value": "m1"}},
    });
    let group =
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Tour Guides"});
    for profile in [
        ClientProfile::Strict,
        ClientProfile::Lenient,
        ClientProfile::Entra,
        ClientProfile::Okta,
    ] {
        for (doc, schema, deferred) in [
            (&user, user_schema(), &[][..]),
            (&group, group_schema(), &["members"][..]),
        ] {
            let mut leniency = Leniency::new(profile);
            if let Ok(outcome) = apply_patch(doc, &request, schema, deferred, "id-1", &mut leniency)
                && let Ok(stored) = normalize(outcome.resource, schema, &mut leniency)
            {
                let _ = check_document(&stored, schema, deferred);
            }
        }
    }
});
