//! Resource normalization: any JSON body as a POST/PUT of a user and of a group, under
//! every client profile; a body that normalizes is normalized again (it must stay put)
//! and checked against the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim::catalog::{group_schema, user_schema};
use scim::limits::check_document;
use scim::normalize::normalize;
use scim::tolerance::{ClientProfile, Leniency};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    for profile in [ClientProfile::Strict, ClientProfile::Lenient] {
        for schema in [user_schema(), group_schema()] {
            let mut leniency = Leniency::new(profile);
            if let Ok(doc) = normalize(body.clone(), schema, &mut leniency) {
                let _ = check_document(&doc, schema, &["members"]);
                let again = normalize(doc.clone(), schema, &mut Leniency::new(ClientProfile::Strict));
                assert_eq!(
                    again.as_ref().ok(),
                    Some(&doc),
                    "normalizing a normalized document changed it"
                );
            }
        }
    }
});
