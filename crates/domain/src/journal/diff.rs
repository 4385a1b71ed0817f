//! What differs between a request and a pattern, as data: one [`Difference`] per way
//! it departs, each with the JSON path it is at, so a failed `expect` can say
//! "`Operations[0].op` is `Replace`, expected `replace`" rather than "the body does not
//! contain the JSON {…}". [`json`] diffs a body against the JSON a pattern asks it to
//! contain, with the containment rules of [`json_contains`]: objects by member, arrays by
//! each pattern element matching some element, anything else by equality.

use serde::Serialize;
use serde_json::Value;

/// One way a request departs from a pattern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Difference {
    /// The pattern's member that is not met: `method`, `path`, `status`, `bodyJson`,
    /// `headers`, `tolerated`, `outcome`, `injected`, …
    pub criterion: &'static str,
    /// Where, for `bodyJson` (a JSON path: `Operations[0].op`, empty for the whole
    /// body) and `headers` (the header's name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// What the request has there (absent: nothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<serde_json::Value>))]
    pub actual: Option<Value>,
    /// What the pattern asks for.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<serde_json::Value>))]
    pub expected: Option<Value>,
    /// The difference in words.
    pub message: String,
    /// How far off this is, for ranking near misses: 1, or the pattern's leaves when a
    /// whole value is absent.
    #[serde(skip)]
    pub weight: u64,
}

impl Difference {
    /// A difference of a criterion that is met or not (no JSON path), in words.
    pub fn of(criterion: &'static str, message: String) -> Difference {
        Difference {
            criterion,
            path: None,
            actual: None,
            expected: None,
            message,
            weight: 1,
        }
    }

    pub fn values(mut self, actual: Option<Value>, expected: Option<Value>) -> Difference {
        self.actual = actual;
        self.expected = expected;
        self
    }

    pub fn at(mut self, path: impl Into<String>) -> Difference {
        self.path = Some(path.into());
        self
    }
}

/// Does `value` contain `pattern` (see the module's rules)?
pub fn json_contains(value: &Value, pattern: &Value) -> bool {
    match (value, pattern) {
        (Value::Object(v), Value::Object(p)) => p
            .iter()
            .all(|(k, pv)| v.get(k).is_some_and(|vv| json_contains(vv, pv))),
        (Value::Array(v), Value::Array(p)) => p.iter().all(|pv| v.iter().any(|vv| json_contains(vv, pv))),
        _ => value == pattern,
    }
}

/// What keeps `value` from containing `pattern`, in document order (empty: it
/// contains it). A pattern element that matches no array element is diffed against the
/// closest element (fewest differences; among equals, the one at the same index, then
/// the first).
pub fn json(value: &Value, pattern: &Value) -> Vec<Difference> {
    let mut out = Vec::new();
    diff_at(&mut String::new(), value, pattern, &mut out);
    out
}

fn diff_at(path: &mut String, value: &Value, pattern: &Value, out: &mut Vec<Difference>) {
    match (value, pattern) {
        (Value::Object(v), Value::Object(p)) => {
            for (key, pv) in p {
                let len = path.len();
                push_member(path, key);
                match v.get(key) {
                    Some(vv) => diff_at(path, vv, pv, out),
                    None => out.push(Difference {
                        criterion: "bodyJson",
                        path: Some(path.clone()),
                        actual: None,
                        expected: Some(pv.clone()),
                        message: format!("`{}` is missing, expected {}", shown(path), render(pv)),
                        weight: leaves(pv),
                    }),
                }
                path.truncate(len);
            }
        }
        (Value::Array(v), Value::Array(p)) => {
            let unmatched: Vec<(usize, &Value)> = p
                .iter()
                .enumerate()
                .filter(|(_, pv)| !v.iter().any(|vv| json_contains(vv, pv)))
                .collect();
            if unmatched.is_empty() {
                return;
            }
            if v.len() < p.len() {
                out.push(Difference {
                    criterion: "bodyJson",
                    path: Some(path.clone()),
                    actual: Some(Value::from(v.len())),
                    expected: Some(Value::from(p.len())),
                    message: format!(
                        "`{}` has {} element(s), expected at least {}",
                        shown(path),
                        v.len(),
                        p.len()
                    ),
                    weight: 1,
                });
            }
            if v.is_empty() {
                return;
            }
            for (i, pv) in unmatched {
                let closest = v
                    .iter()
                    .enumerate()
                    .map(|(j, vv)| {
                        let mut at = format!("{path}[{j}]");
                        let mut found = Vec::new();
                        diff_at(&mut at, vv, pv, &mut found);
                        (found, j)
                    })
                    .min_by_key(|(found, j)| (cost(found), *j != i, *j));
                if let Some((found, _)) = closest {
                    out.extend(found);
                }
            }
        }
        _ if value == pattern => {}
        _ => out.push(Difference {
            criterion: "bodyJson",
            path: Some(path.clone()),
            actual: Some(value.clone()),
            expected: Some(pattern.clone()),
            message: if kind(value) == kind(pattern) {
                format!(
                    "`{}` is {}, expected {}",
                    shown(path),
                    render(value),
                    render(pattern)
                )
            } else {
                format!(
                    "`{}` is {} {}, expected {} {}",
                    shown(path),
                    kind(value),
                    render(value),
                    kind(pattern),
                    render(pattern)
                )
            },
            weight: leaves(pattern),
        }),
    }
}

/// The sum of the differences' weights: how far off a request is.
pub fn cost(differences: &[Difference]) -> u64 {
    differences.iter().map(|d| d.weight).sum()
}

/// The values a pattern names (an empty object or array counts as one).
fn leaves(pattern: &Value) -> u64 {
    match pattern {
        Value::Object(m) if !m.is_empty() => m.values().map(leaves).sum(),
        Value::Array(a) if !a.is_empty() => a.iter().map(leaves).sum(),
        _ => 1,
    }
}

/// `name`, or `["urn:…:User"]` when it is not a plain identifier.
fn push_member(path: &mut String, key: &str) {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if plain {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    } else {
        path.push('[');
        path.push_str(&Value::from(key).to_string());
        path.push(']');
    }
}

/// The path in a sentence: the root is the body itself.
fn shown(path: &str) -> &str {
    if path.is_empty() { "(the body)" } else { path }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "the boolean",
        Value::Number(_) => "the number",
        Value::String(_) => "the string",
        Value::Array(_) => "the array",
        Value::Object(_) => "the object",
    }
}

/// A value in a sentence: a string as its text, the rest as JSON, cut when long.
pub fn render(value: &Value) -> String {
    const LONG: usize = 80;
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match text.char_indices().nth(LONG) {
        Some((cut, _)) => format!("`{}…`", &text[..cut]),
        None => format!("`{text}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn messages(value: Value, pattern: Value) -> Vec<String> {
        json(&value, &pattern).into_iter().map(|d| d.message).collect()
    }

    #[test]
    fn names_the_member_that_differs_by_its_json_path() {
        let sent = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
        let pattern = json!({"Operations": [{"op": "replace", "path": "active", "value": false}]});
        assert_eq!(
            messages(sent.clone(), pattern.clone()),
            vec![
                "`Operations[0].op` is `Replace`, expected `replace`",
                "`Operations[0].value` is the string `False`, expected the boolean `false`",
            ]
        );
        let d = &json(&sent, &pattern)[0];
        assert_eq!(d.path.as_deref(), Some("Operations[0].op"));
        assert_eq!(d.actual, Some(json!("Replace")));
        assert_eq!(d.expected, Some(json!("replace")));
    }

    #[test]
    fn missing_members_urn_keys_and_array_lengths() {
        assert_eq!(
            messages(
                json!({"name": {"givenName": "A"}}),
                json!({"name": {"familyName": "B"}, "urn:x:User": {"department": "D"}})
            ),
            vec![
                "`name.familyName` is missing, expected `B`",
                "`[\"urn:x:User\"]` is missing, expected `{\"department\":\"D\"}`",
            ]
        );
        assert_eq!(
            messages(
                json!({"emails": [{"value": "a@x"}]}),
                json!({"emails": [{"value": "a@x"}, {"value": "b@x"}]})
            ),
            vec![
                "`emails` has 1 element(s), expected at least 2",
                "`emails[0].value` is `a@x`, expected `b@x`",
            ]
        );
        assert_eq!(
            messages(json!({"emails": []}), json!({"emails": [{"value": "b@x"}]})),
            vec!["`emails` has 0 element(s), expected at least 1"]
        );
        assert_eq!(
            messages(json!([1]), json!({"a": 1})),
            vec!["`(the body)` is the array `[1]`, expected the object `{\"a\":1}`"]
        );
    }

    #[test]
    fn an_unmatched_element_is_diffed_against_the_closest_element() {
        let sent = json!({"Operations": [
            {"op": "add", "path": "members", "value": [{"value": "1"}]},
            {"op": "replace", "path": "active", "value": true},
        ]});
        let pattern = json!({"Operations": [{"op": "replace", "path": "active", "value": false}]});
        assert_eq!(
            messages(sent, pattern),
            vec!["`Operations[1].value` is `true`, expected `false`"]
        );
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (0i64..4).prop_map(Value::from),
            "[ab]{0,2}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map("[abc]", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn no_difference_exactly_when_the_value_contains_the_pattern(value in any_json(), pattern in any_json()) {
            prop_assert_eq!(json(&value, &pattern).is_empty(), json_contains(&value, &pattern));
        }

        #[test]
        fn a_value_contains_itself(value in any_json()) {
            prop_assert!(json(&value, &value).is_empty());
        }

        #[test]
        fn every_difference_names_a_path_of_the_pattern(value in any_json(), pattern in any_json()) {
            for d in json(&value, &pattern) {
                prop_assert!(d.path.is_some() && d.weight >= 1 && !d.message.is_empty());
            }
        }
    }
}
