//! Attribute paths: a PATCH `path` and a `sortBy`/`attributes` attribute path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim::filter::parse_path;
use scim::schema::AttrPath;

fuzz_target!(|text: &str| {
    let _ = parse_path(text);
    let _ = AttrPath::parse(text);
});
