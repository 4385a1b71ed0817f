//! The filter parser, with and without a schema, under every client profile; a filter
//! that parses also runs through the limits and the reference evaluator.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim::catalog::{group_schema, user_schema};
use scim::filter::{matches, parse_filter, parse_filter_with_schema};
use scim::limits::check_filter_work;
use scim::tolerance::{ClientProfile, Leniency};
use serde_json::json;

fuzz_target!(|text: &str| {
    for profile in [ClientProfile::Strict, ClientProfile::Lenient] {
        let _ = parse_filter(text, &mut Leniency::new(profile));
        for schema in [user_schema(), group_schema()] {
            if let Ok(filter) = parse_filter_with_schema(text, &mut Leniency::new(profile), schema) {
                let _ = check_filter_work(&filter, schema);
                let _ = filter.to_string();
                let user = json!({"userName": "a", "emails": [{"value": "a@x.io", "type": "work"}]});
                let _ = matches(&filter, &user, schema);
            }
        }
    }
});
