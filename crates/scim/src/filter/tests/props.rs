//! Property tests: the parser never panics, and `Display` round-trips.

use proptest::prelude::*;
use serde_json::Value;

use super::fixtures::{CORE_USER, ENTERPRISE, full_user, group, group_schema, user_schema};
use crate::filter::*;
use crate::schema::AttrPath;
use crate::tolerance::{ClientProfile, Leniency};

const VALID: &[&str] = &[
    r#"userName eq "bjensen""#,
    r#"name.familyName co "O'Malley""#,
    r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
    "title pr and userType eq \"Employee\"",
    r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
    r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
    r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m\u00e9\"x""#,
    r#"id eq "g" and members eq "u" or (a gt -1.5e3 and b le 7) or c eq null or d ne TRUE"#,
    "externalId eq jyoung",
];

fn leniency(lenient: bool) -> Leniency {
    Leniency::new(if lenient {
        ClientProfile::Lenient
    } else {
        ClientProfile::Strict
    })
}

/// Parse must not panic; when it succeeds, the canonical form must parse to the same AST
/// and evaluation must not panic either.
fn exercise(input: &str, lenient: bool) {
    let result = parse_filter(input, &mut leniency(lenient));
    match result {
        Ok(f) => {
            let text = f.to_string();
            let again = parse_filter(&text, &mut leniency(false));
            assert_eq!(again.as_ref(), Ok(&f), "{input:?} -> {text:?}");
            let _ = matches(&f, &full_user(), &user_schema());
            let _ = matches(&f, &group(), &group_schema());
        }
        Err(e) => {
            assert!(e.position <= input.len(), "{input:?}: {e}");
            let _ = crate::error::ProtocolError::from(e);
        }
    }
    let _ = parse_path(input);
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, char),
    Duplicate(usize, usize),
    Swap(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let structural = prop::sample::select(vec![
        '(', ')', '[', ']', '"', '\\', ' ', '.', ':', '-', '$', 'e', 'q', 'n', 'o', 't', '0', 'é',
    ]);
    prop_oneof![
        (any::<usize>(), 0usize..8).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (any::<usize>(), prop_oneof![structural, any::<char>()]).prop_map(|(a, c)| Mutation::Insert(a, c)),
        (any::<usize>(), 1usize..12).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
    ]
}

fn apply(s: &str, m: &Mutation) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let len = chars.len().max(1);
    match *m {
        Mutation::Delete(a, n) => {
            let a = a % len;
            let b = (a + n).min(chars.len());
            if a < b {
                chars.drain(a..b);
            }
        }
        Mutation::Insert(a, c) => chars.insert(a % (chars.len() + 1), c),
        Mutation::Duplicate(a, n) => {
            let a = a % len;
            let b = (a + n).min(chars.len());
            if a < b {
                let piece: Vec<char> = chars[a..b].to_vec();
                for (i, c) in piece.into_iter().enumerate() {
                    chars.insert(b + i, c);
                }
            }
        }
        Mutation::Swap(a, b) => {
            if !chars.is_empty() {
                let (a, b) = (a % chars.len(), b % chars.len());
                chars.swap(a, b);
            }
        }
    }
    chars.into_iter().collect()
}

// ---- AST generators for the round trip ----

fn attr_name() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[a-zA-Z][a-zA-Z0-9_-]{0,7}",
        1 => Just("$ref".to_string()),
        1 => prop::sample::select(vec!["not", "and", "or", "pr", "eq", "true", "null"]).prop_map(str::to_string),
    ]
}

fn resource_path() -> impl Strategy<Value = AttrPath> {
    let urn = prop::option::weighted(
        0.3,
        prop::sample::select(vec![CORE_USER, ENTERPRISE, "urn:example:params:x-1.0:Thing"]),
    );
    (urn, attr_name(), prop::option::weighted(0.4, attr_name())).prop_map(|(urn, name, sub)| AttrPath {
        urn: urn.map(str::to_string),
        name,
        sub,
    })
}

fn element_path() -> impl Strategy<Value = AttrPath> {
    attr_name().prop_map(AttrPath::new)
}

fn string_value() -> impl Strategy<Value = Value> {
    prop_oneof![any::<String>(), "[ -~]{0,12}"].prop_map(Value::String)
}

fn any_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => string_value(),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        1 => (any::<i32>(), 0u32..6).prop_map(|(m, e)| Value::from(f64::from(m) / f64::from(1u32 << e))),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
    ]
}

fn comparison(path: BoxedStrategy<AttrPath>) -> impl Strategy<Value = Filter> {
    (
        path,
        prop::sample::select(CompareOp::ALL.to_vec()),
        any_value(),
        string_value(),
    )
        .prop_map(|(path, op, value, string)| {
            let needs_string =
                op.is_substring() || (op.is_ordering() && matches!(value, Value::Bool(_) | Value::Null));
            let value = if needs_string { string } else { value };
            Filter::Compare { path, op, value }
        })
}

fn logic(leaf: BoxedStrategy<Filter>) -> BoxedStrategy<Filter> {
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::and(a, b)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::or(a, b)),
            inner.prop_map(Filter::negate),
        ]
    })
    .boxed()
}

fn element_filter() -> BoxedStrategy<Filter> {
    let leaf = prop_oneof![
        3 => comparison(element_path().boxed()),
        1 => element_path().prop_map(Filter::Present),
    ]
    .boxed();
    logic(leaf)
}

fn filter() -> BoxedStrategy<Filter> {
    let value_path = (resource_path(), element_filter()).prop_map(|(mut attr, f)| {
        attr.sub = None;
        Filter::ValuePath {
            attr,
            filter: Box::new(f),
        }
    });
    let leaf = prop_oneof![
        4 => comparison(resource_path().boxed()),
        1 => resource_path().prop_map(Filter::Present),
        1 => value_path,
    ]
    .boxed();
    logic(leaf)
}

proptest! {
    // 2000 cases per property; `PROPTEST_CASES=N` raises it for a soak run.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(2000),
        ..ProptestConfig::default()
    })]

    #[test]
    fn never_panics_on_arbitrary_strings(s in any::<String>(), lenient in any::<bool>()) {
        exercise(&s, lenient);
    }

    #[test]
    fn never_panics_on_filter_like_strings(
        s in r#"[a-zA-Z0-9 ()\[\]".:$\\_-]{0,40}|((not|and|or|eq|pr|co|gt|[()\[\]"]| |[a-z]{1,4}|-?[0-9.eE]{1,5}|\\u[0-9a-fA-F]{0,4}|é|😀)){0,16}"#,
        lenient in any::<bool>(),
    ) {
        exercise(&s, lenient);
    }

    #[test]
    fn never_panics_on_mutated_valid_filters(
        base in prop::sample::select(VALID.to_vec()),
        mutations in prop::collection::vec(mutation(), 1..5),
        lenient in any::<bool>(),
    ) {
        let mut s = base.to_string();
        for m in &mutations {
            s = apply(&s, m);
        }
        exercise(&s, lenient);
    }

    #[test]
    fn display_round_trips(f in filter()) {
        let text = f.to_string();
        let parsed = parse_filter(&text, &mut leniency(false));
        prop_assert_eq!(parsed.as_ref(), Ok(&f), "{}", text);
    }

    #[test]
    fn patch_path_display_round_trips(
        attr in resource_path(),
        f in prop::option::of(element_filter()),
        sub in prop::option::of(attr_name()),
    ) {
        let mut attr = attr;
        if f.is_some() {
            attr.sub = sub;
        }
        let pp = PatchPath { attr, filter: f };
        let text = pp.to_string();
        prop_assert_eq!(parse_path(&text), Ok(pp), "{}", text);
    }

    #[test]
    fn evaluation_is_total_and_not_negates(f in filter(), lenient in any::<bool>()) {
        let _ = lenient;
        for (resource, schema) in [(full_user(), user_schema()), (group(), group_schema())] {
            let m = matches(&f, &resource, &schema);
            prop_assert_eq!(matches(&Filter::negate(f.clone()), &resource, &schema), !m);
        }
    }
}
