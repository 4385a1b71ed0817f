//! Member lookup by attribute name. Attribute names are case-insensitive (RFC 7643 §2.1),
//! so every protocol module finds a JSON member through these functions, with one rule:
//!
//! **The key spelled exactly as asked wins; otherwise the first key, in the map's
//! iteration order, that equals the name ignoring ASCII case.** (serde_json's `Map` keeps
//! its keys sorted, so "first" is byte order: `NAME` before `Name` before `name`.) ASCII
//! folding only, like the SQL translation of filters.
//!
//! Documents this server stores are canonical (one spelling per attribute, see
//! [`normalize`](super::normalize)), so the rule matters only for what a client sent.

use serde_json::{Map, Value};

/// The case fold used for every case-insensitive comparison, in Rust and in SQL alike:
/// ASCII only, because SQLite's `lower()` is ASCII-only.
pub fn fold_case(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// The key of `map` that `name` finds.
pub fn key<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m str> {
    match map.get_key_value(name) {
        Some((key, _)) => Some(key.as_str()),
        None => map
            .keys()
            .find(|key| key.eq_ignore_ascii_case(name))
            .map(String::as_str),
    }
}

/// The value of the member `name` finds.
pub fn get<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m Value> {
    map.get(name).or_else(|| {
        map.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    })
}

/// Remove the member `name` finds (only that one) and return its value.
pub fn take(map: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let key = key(map, name)?.to_owned();
    map.remove(&key)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn the_exact_spelling_wins_over_other_cases() {
        let doc = map(json!({"NAME": 1, "Name": 2, "name": 3}));
        assert_eq!(key(&doc, "Name"), Some("Name"));
        assert_eq!(get(&doc, "name"), Some(&json!(3)));
    }

    #[test]
    fn otherwise_the_first_key_in_map_order_that_matches_ignoring_ascii_case() {
        let doc = map(json!({"userName": 1, "USERNAME": 2}));
        assert_eq!(key(&doc, "username"), Some("USERNAME"));
        assert_eq!(get(&doc, "Username"), Some(&json!(2)));
        assert_eq!(get(&doc, "displayName"), None);
    }

    #[test]
    fn folding_is_ascii_only() {
        let doc = map(json!({"straße": 1}));
        assert_eq!(get(&doc, "STRASSE"), None);
        assert_eq!(get(&doc, "STRAßE"), Some(&json!(1)));
    }

    #[test]
    fn take_removes_only_the_member_it_finds() {
        let mut doc = map(json!({"Schemas": ["a"], "schemas": ["b"]}));
        assert_eq!(take(&mut doc, "schemas"), Some(json!(["b"])));
        assert_eq!(doc, map(json!({"Schemas": ["a"]})));
        assert_eq!(take(&mut doc, "SCHEMAS"), Some(json!(["a"])));
        assert!(doc.is_empty());
        assert_eq!(take(&mut doc, "schemas"), None);
    }
}
