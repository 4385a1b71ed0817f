//! Filters in the database, held to the reference evaluator.
//!
//! * `sql_agrees_with_the_evaluator`: proptest generates users within the User schema
//!   (small alphabets, mixed case, shared prefixes, so comparisons hit) and filters over
//!   every attribute kind and operator; the ids `GET /Users?filter=` returns must be
//!   exactly the created resources for which `scim::filter::matches` is true.
//! * `garbage_filters_get_200_or_400`: 10 000 random, mutated and pathological filter
//!   strings; every answer is 200 or 400, never a 5xx or a hang.
//!
//! Both run against one spawned app per backend (a fresh account per case keeps cases
//! apart), so they are plain `#[test]`s that drive their own runtime: proptest's runner
//! is synchronous.
//!
//! Only filters the SQL translator accepts are generated: it answers 400 `invalidFilter`
//! for unknown attributes and type-mismatched comparisons, which the evaluator treats as
//! non-matching (`docs/filter.md`).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, SecondsFormat};
use linkedin_scim::accounts::{BearerToken, FidelityPreset};
use linkedin_scim::licensing::Product;
use linkedin_scim::scim::catalog::user_schema;
use linkedin_scim::scim::filter::{CompareOp, Filter, matches, parse_filter_with_schema};
use linkedin_scim::scim::schema::AttrPath;
use linkedin_scim::scim::tolerance::{ClientProfile, Leniency};
use linkedin_scim::store::{NewConfiguration, Store};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::helpers::{Backend, ENTERPRISE_SCHEMA, TestApp, USER_SCHEMA, postgres_available};

// ---------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------

/// One backend's app, a second handle on its database (to open accounts), and a runtime.
struct Rig {
    rt: tokio::runtime::Runtime,
    app: TestApp,
    store: Arc<dyn Store>,
    /// Filters compared, and those that split the users (some match, some do not): the
    /// second shows that the generator produces comparisons that actually hit.
    compared: AtomicUsize,
    splitting: AtomicUsize,
}

impl Rig {
    /// `None` when the backend is Postgres and it is unreachable (reported loudly).
    fn start(backend: Backend) -> Option<Rig> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .expect("runtime");
        if backend == Backend::Postgres && !rt.block_on(postgres_available()) {
            return None;
        }
        let app = rt.block_on(TestApp::spawn(backend));
        let store = rt
            .block_on(linkedin_scim::store::connect(&app.database_url))
            .expect("store");
        Some(Rig {
            rt,
            app,
            store,
            compared: AtomicUsize::new(0),
            splitting: AtomicUsize::new(0),
        })
    }

    /// A fresh account with its own token: cases never see each other's users. Its
    /// configuration auto-assigns from a pool of 3 seats, so active users get licenses
    /// (`assigned`, or `waiting` once the pool is full) for the license filters.
    async fn tenant(&self) -> String {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let account = self
            .store
            .ensure_account(&format!("prop-{id}"), FidelityPreset::Rfc.settings(), 0)
            .await
            .expect("account");
        let instance = self
            .store
            .put_instance(
                &account.id,
                &Product::sales_navigator(),
                "Prop Sales Navigator",
                0,
            )
            .await
            .expect("instance");
        let pool = self
            .store
            .put_pool(&account.id, &instance.id, "Core", 3, 0)
            .await
            .expect("pool");
        let token = format!("prop-token-{id}");
        let parsed = BearerToken::parse(&token).expect("token");
        self.store
            .put_configuration(
                NewConfiguration {
                    account_id: &account.id,
                    name: "prop",
                    client_profile: ClientProfile::Strict,
                    token_hash: &parsed.hash(),
                    token_expires_at: None,
                    auto_assign_pool_id: Some(&pool.id),
                    patch_response: Default::default(),
                },
                0,
            )
            .await
            .expect("configuration");
        token
    }
}

fn runner(default_cases: u32) -> TestRunner {
    let mut config = Config::with_cases(default_cases);
    // PROPTEST_CASES / PROPTEST_RNG_SEED override; without them the run is reproducible.
    if let Some(cases) = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()) {
        config.cases = cases;
    }
    config.rng_seed = match std::env::var("PROPTEST_RNG_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        Some(seed) => RngSeed::Fixed(seed),
        None => RngSeed::Fixed(0x5c1a_f11e),
    };
    config.failure_persistence = None;
    config.max_shrink_iters = 2_000;
    TestRunner::new(config)
}

// ---------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------

/// Pieces of every string: ASCII letters in both cases, non-ASCII letters whose case
/// ASCII folding must not touch, LIKE wildcards, shared prefixes, and the words the
/// server writes into licenses (state, product, license type).
const PIECES: &[&str] = &[
    "a",
    "A",
    "ab",
    "aB",
    "b",
    "B",
    "z",
    "é",
    "É",
    "ß",
    "@x.io",
    "@X.IO",
    " ",
    "0",
    "%",
    "_",
    "assigned",
    "Waiting",
    "sales_",
    "navigator",
    "Core",
];

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..4).prop_map(|p| p.concat())
}

fn opt<S: Strategy>(s: S) -> impl Strategy<Value = Option<S::Value>> {
    prop::option::weighted(0.6, s)
}

/// A JSON object of the given members, leaving out the unassigned ones.
fn object(members: Vec<(&str, Option<Value>)>) -> Value {
    Value::Object(
        members
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
            .collect::<Map<String, Value>>(),
    )
}

fn kind() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["work", "Work", "home", "other", "wo"]).prop_map(str::to_owned)
}

/// An element of emails / phoneNumbers: any of value, type, primary may be missing.
fn contact() -> impl Strategy<Value = Value> {
    (opt(text()), opt(kind()), opt(any::<bool>()), opt(text())).prop_map(|(value, kind, primary, display)| {
        object(vec![
            ("value", value.map(Value::from)),
            ("type", kind.map(Value::from)),
            ("primary", primary.map(Value::from)),
            ("display", display.map(Value::from)),
        ])
    })
}

fn address() -> impl Strategy<Value = Value> {
    (opt(text()), opt(text()), opt(kind()), opt(any::<bool>())).prop_map(
        |(locality, country, kind, primary)| {
            object(vec![
                ("locality", locality.map(Value::from)),
                ("country", country.map(Value::from)),
                ("type", kind.map(Value::from)),
                ("primary", primary.map(Value::from)),
            ])
        },
    )
}

fn certificate() -> impl Strategy<Value = Value> {
    (opt(text()), opt(text())).prop_map(|(value, display)| {
        object(vec![
            ("value", value.map(Value::from)),
            ("display", display.map(Value::from)),
        ])
    })
}

fn list(element: impl Strategy<Value = Value>, max: usize) -> impl Strategy<Value = Option<Value>> {
    opt(prop::collection::vec(element, 0..=max).prop_map(Value::from))
}

fn enterprise() -> impl Strategy<Value = Value> {
    (opt(text()), opt(text()), opt(text())).prop_map(|(department, number, manager)| {
        object(vec![
            ("department", department.map(Value::from)),
            ("employeeNumber", number.map(Value::from)),
            ("manager", manager.map(|m| json!({ "value": m }))),
        ])
    })
}

/// A POST /Users body within the User schema.
fn user() -> impl Strategy<Value = Value> {
    let identity = (
        text(),
        opt(text()),
        opt(text()),
        opt(text()),
        opt(text()),
        opt(any::<bool>()),
        opt((opt(text()), opt(text()))),
    );
    let multi = (
        list(contact(), 3),
        list(contact(), 2),
        list(address(), 2),
        list(certificate(), 2),
        opt(enterprise()),
    );
    (identity, multi).prop_map(
        |(
            (user_name, external_id, display_name, title, nick_name, active, name),
            (emails, phones, addresses, certificates, enterprise),
        )| {
            let mut body = object(vec![
                ("schemas", Some(json!([USER_SCHEMA, ENTERPRISE_SCHEMA]))),
                ("userName", Some(Value::from(user_name))),
                ("externalId", external_id.map(Value::from)),
                ("displayName", display_name.map(Value::from)),
                ("title", title.map(Value::from)),
                ("nickName", nick_name.map(Value::from)),
                ("active", active.map(Value::from)),
                (
                    "name",
                    name.map(|(given, family)| {
                        object(vec![
                            ("givenName", given.map(Value::from)),
                            ("familyName", family.map(Value::from)),
                        ])
                    }),
                ),
                ("emails", emails),
                ("phoneNumbers", phones),
                ("addresses", addresses),
                ("x509Certificates", certificates),
            ]);
            if let Some(ext) = enterprise {
                body[ENTERPRISE_SCHEMA] = ext;
            }
            body
        },
    )
}

// ---------------------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// A string (or reference/binary) attribute.
    Text,
    Boolean,
    DateTime,
    /// `id`: compared with (a variation of) one created user's id.
    Id,
    /// A complex attribute with a `value` sub-attribute, compared without one.
    Valued,
    /// A complex attribute without `value`: only `pr` / `eq null`.
    Opaque,
}

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const LICENSE_SCHEMA: &str = "urn:linkedin-scim:schemas:extension:license:2.0:User";

/// Every attribute the generator filters on at the resource root.
fn root_attributes() -> Vec<(String, Kind)> {
    let mut attrs: Vec<(String, Kind)> = [
        ("userName", Kind::Text),
        ("urn:ietf:params:scim:schemas:core:2.0:User:userName", Kind::Text),
        ("externalId", Kind::Text),
        ("displayName", Kind::Text),
        ("title", Kind::Text),
        ("nickName", Kind::Text),
        ("name.givenName", Kind::Text),
        ("name.familyName", Kind::Text),
        ("emails.value", Kind::Text),
        ("emails.type", Kind::Text),
        ("emails.display", Kind::Text),
        ("emails.primary", Kind::Boolean),
        ("phoneNumbers.value", Kind::Text),
        ("phoneNumbers.type", Kind::Text),
        ("phoneNumbers.primary", Kind::Boolean),
        ("addresses.locality", Kind::Text),
        ("addresses.country", Kind::Text),
        ("addresses.primary", Kind::Boolean),
        ("x509Certificates.value", Kind::Text),
        ("x509Certificates.display", Kind::Text),
        ("active", Kind::Boolean),
        ("meta.created", Kind::DateTime),
        ("meta.lastModified", Kind::DateTime),
        ("meta.resourceType", Kind::Text),
        ("meta.version", Kind::Text),
        ("id", Kind::Id),
        ("emails", Kind::Valued),
        ("phoneNumbers", Kind::Valued),
        ("x509Certificates", Kind::Valued),
        ("name", Kind::Opaque),
        ("addresses", Kind::Opaque),
        ("meta", Kind::Opaque),
    ]
    .into_iter()
    .map(|(p, k)| (p.to_owned(), k))
    .collect();
    for (name, kind) in [
        ("department", Kind::Text),
        ("employeeNumber", Kind::Text),
        ("manager.value", Kind::Text),
        ("manager", Kind::Valued),
    ] {
        attrs.push((format!("{ENT}:{name}"), kind));
    }
    for (name, kind) in [
        ("licenses", Kind::Opaque),
        ("licenses.product", Kind::Text),
        ("licenses.licenseType", Kind::Text),
        ("licenses.state", Kind::Text),
        ("licenses.assignedAt", Kind::DateTime),
        ("licenses.activatedAt", Kind::DateTime),
    ] {
        attrs.push((format!("{LICENSE_SCHEMA}:{name}"), kind));
    }
    attrs
}

/// Complex attributes that take a value filter `attr[…]`, with their sub-attributes.
fn value_path_attributes() -> Vec<(String, Vec<(&'static str, Kind)>)> {
    let contact = vec![
        ("value", Kind::Text),
        ("type", Kind::Text),
        ("display", Kind::Text),
        ("primary", Kind::Boolean),
    ];
    vec![
        ("emails".to_owned(), contact.clone()),
        ("phoneNumbers".to_owned(), contact),
        (
            "addresses".to_owned(),
            vec![
                ("locality", Kind::Text),
                ("country", Kind::Text),
                ("type", Kind::Text),
                ("primary", Kind::Boolean),
            ],
        ),
        (
            "x509Certificates".to_owned(),
            vec![("value", Kind::Text), ("display", Kind::Text)],
        ),
        (
            "name".to_owned(),
            vec![("givenName", Kind::Text), ("familyName", Kind::Text)],
        ),
        (format!("{ENT}:manager"), vec![("value", Kind::Text)]),
        (
            format!("{LICENSE_SCHEMA}:licenses"),
            vec![
                ("product", Kind::Text),
                ("instance", Kind::Text),
                ("state", Kind::Text),
                ("assignedAt", Kind::DateTime),
                ("activatedAt", Kind::DateTime),
            ],
        ),
    ]
}

/// Attribute names are case-insensitive: flip the case of some letters.
fn recase(path: String) -> impl Strategy<Value = String> {
    let len = path.len();
    prop::collection::vec(prop::bool::weighted(0.15), len).prop_map(move |flips| {
        path.chars()
            .zip(flips)
            .map(|(c, flip)| match (flip, c.is_ascii_lowercase()) {
                (false, _) => c,
                (true, true) => c.to_ascii_uppercase(),
                (true, false) => c.to_ascii_lowercase(),
            })
            .collect()
    })
}

fn parse_path(text: &str) -> AttrPath {
    AttrPath::parse(text).expect("generator paths are valid")
}

/// Placeholders resolved once the users exist (their ids and timestamps are the server's).
const ID_MARK: &str = "\u{e000}id";
const TIME_MARK: &str = "\u{e000}time";

fn id_operand() -> impl Strategy<Value = Value> {
    (0usize..8, 0u8..4).prop_map(|(user, mode)| Value::from(format!("{ID_MARK}:{user}:{mode}")))
}

fn time_operand() -> impl Strategy<Value = Value> {
    let shifts = prop::sample::select(vec![
        0i64,
        1,
        -1,
        500,
        -500,
        1_000,
        -1_000,
        1_000_000,
        -1_000_000,
        1_000_000_000,
        -1_000_000_000,
        86_400_000_000_000,
    ]);
    (0usize..8, any::<bool>(), shifts, 0u8..3).prop_map(|(user, created, nanos, format)| {
        Value::from(format!("{TIME_MARK}:{user}:{created}:{nanos}:{format}"))
    })
}

fn comparison(
    path: AttrPath,
    ops: &'static [CompareOp],
    operand: BoxedStrategy<Value>,
) -> BoxedStrategy<Filter> {
    (prop::sample::select(ops), operand)
        .prop_map(move |(op, value)| Filter::compare(path.clone(), op, value))
        .boxed()
}

const ALL_OPS: &[CompareOp] = &CompareOp::ALL;
const EQUALITY: &[CompareOp] = &[CompareOp::Eq, CompareOp::Ne];
const ORDERED: &[CompareOp] = &[
    CompareOp::Eq,
    CompareOp::Ne,
    CompareOp::Gt,
    CompareOp::Ge,
    CompareOp::Lt,
    CompareOp::Le,
];

/// One attribute expression on `path` (`pr`, `eq/ne null`, or a comparison valid for `kind`).
fn expression(path: AttrPath, kind: Kind) -> BoxedStrategy<Filter> {
    let present = Just(Filter::Present(path.clone())).boxed();
    let null = comparison(path.clone(), EQUALITY, Just(Value::Null).boxed());
    let compare = match kind {
        Kind::Text | Kind::Valued => comparison(path, ALL_OPS, text().prop_map(Value::from).boxed()),
        Kind::Boolean => comparison(path, EQUALITY, any::<bool>().prop_map(Value::from).boxed()),
        Kind::DateTime => comparison(path, ORDERED, time_operand().boxed()),
        Kind::Id => comparison(path, ALL_OPS, id_operand().boxed()),
        // The parser refuses any comparison, even with null, on a complex attribute
        // that has no `value` (`name eq null`).
        Kind::Opaque => return present,
    };
    prop_oneof![1 => present, 1 => null, 6 => compare].boxed()
}

fn root_expression() -> BoxedStrategy<Filter> {
    prop::sample::select(root_attributes())
        .prop_flat_map(|(path, kind)| recase(path).prop_flat_map(move |p| expression(parse_path(&p), kind)))
        .boxed()
}

/// `a and b`, `a or b`, `not (a)` over `leaf`, up to a small depth.
fn combine(leaf: BoxedStrategy<Filter>, depth: u32) -> BoxedStrategy<Filter> {
    leaf.prop_recursive(depth, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::and(a, b)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::or(a, b)),
            inner.prop_map(Filter::negate),
        ]
    })
    .boxed()
}

fn value_path() -> BoxedStrategy<Filter> {
    prop::sample::select(value_path_attributes())
        .prop_flat_map(|(attr, subs)| {
            let inner = prop::sample::select(subs)
                .prop_flat_map(|(sub, kind)| {
                    recase(sub.to_owned()).prop_flat_map(move |s| expression(AttrPath::new(s), kind))
                })
                .boxed();
            (recase(attr), combine(inner, 2)).prop_map(|(attr, filter)| Filter::ValuePath {
                attr: parse_path(&attr),
                filter: Box::new(filter),
            })
        })
        .boxed()
}

fn filter() -> BoxedStrategy<Filter> {
    combine(prop_oneof![3 => root_expression(), 1 => value_path()].boxed(), 3)
}

/// Replace the id and time placeholders with values derived from the created users.
fn resolve(filter: &Filter, users: &[Value]) -> Filter {
    match filter {
        Filter::Compare { path, op, value } => Filter::Compare {
            path: path.clone(),
            op: *op,
            value: value
                .as_str()
                .map_or_else(|| value.clone(), |s| resolve_operand(s, users)),
        },
        Filter::Present(_) => filter.clone(),
        Filter::ValuePath { attr, filter } => Filter::ValuePath {
            attr: attr.clone(),
            filter: Box::new(resolve(filter, users)),
        },
        Filter::And(a, b) => Filter::and(resolve(a, users), resolve(b, users)),
        Filter::Or(a, b) => Filter::or(resolve(a, users), resolve(b, users)),
        Filter::Not(a) => Filter::negate(resolve(a, users)),
    }
}

fn resolve_operand(text: &str, users: &[Value]) -> Value {
    let parts: Vec<&str> = text.split(':').collect();
    let pick = |i: &str| -> Option<&Value> {
        let i: usize = i.parse().ok()?;
        (!users.is_empty()).then(|| &users[i % users.len()])
    };
    match parts.as_slice() {
        [ID_MARK, user, mode] => {
            let id = pick(user)
                .and_then(|u| u["id"].as_str())
                .unwrap_or("00000000-no-such-user");
            Value::from(match *mode {
                "0" => id.to_owned(),
                "1" => id.to_ascii_uppercase(),
                "2" => id[..8.min(id.len())].to_owned(),
                _ => id[id.len().saturating_sub(6)..].to_owned(),
            })
        }
        [TIME_MARK, user, created, nanos, format] => {
            let field = if *created == "true" {
                "created"
            } else {
                "lastModified"
            };
            let base = pick(user)
                .and_then(|u| u["meta"][field].as_str())
                .unwrap_or("2024-02-29T12:00:00Z");
            let base = DateTime::parse_from_rfc3339(base).expect("server timestamps are RFC 3339");
            let shifted = base + chrono::Duration::nanoseconds(nanos.parse().expect("nanos"));
            Value::from(match *format {
                "0" => shifted.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                "1" => shifted.to_rfc3339_opts(SecondsFormat::Nanos, true),
                _ => shifted
                    .with_timezone(&FixedOffset::east_opt(5 * 3600 + 1800).expect("offset"))
                    .to_rfc3339_opts(SecondsFormat::AutoSi, false),
            })
        }
        _ => Value::from(text),
    }
}

// ---------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Case {
    users: Vec<Value>,
    filters: Vec<Filter>,
    /// `sortBy`, and whether descending.
    sort: (String, bool),
}

const SORT_KEYS: &[&str] = &[
    "userName",
    "externalId",
    "displayName",
    "title",
    "name.familyName",
    "emails",
    "emails.value",
    "emails.type",
    "phoneNumbers.value",
    "x509Certificates.value",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
];

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(user(), 1..8),
        prop::collection::vec(filter(), 1..10),
        (
            prop::sample::select(SORT_KEYS).prop_flat_map(|k| recase(k.to_owned())),
            any::<bool>(),
        ),
    )
        .prop_map(|(users, filters, sort)| Case { users, filters, sort })
}

/// The reference sort key (RFC 7644 §3.4.2.3 as `docs/filter.md` states it): a
/// multi-valued attribute's primary element, else its first; strings folded like filters
/// unless caseExact, compared byte-wise.
fn sort_key(resource: &Value, path: &str) -> Option<String> {
    let resolved = user_schema().resolve(&parse_path(path))?;
    let container = resolved.extension.map_or(resource, |urn| &resource[urn]);
    let attribute = &container[&resolved.attribute.name];
    let (value, def) = if resolved.attribute.multi_valued {
        let elements = attribute.as_array()?;
        let chosen = elements
            .iter()
            .find(|e| e["primary"] == json!(true))
            .or(elements.first())?;
        let sub = resolved
            .sub_attribute
            .or(resolved.attribute.sub_attribute("value"))?;
        (&chosen[&sub.name], sub)
    } else {
        match resolved.sub_attribute {
            Some(sub) => (&attribute[&sub.name], sub),
            None => (attribute, resolved.attribute),
        }
    };
    let text = value.as_str()?;
    Some(if def.case_exact {
        text.to_owned()
    } else {
        text.to_ascii_lowercase()
    })
}

async fn check_sort(
    rig: &Rig,
    token: &str,
    created: &[Value],
    (path, descending): &(String, bool),
) -> Result<(), TestCaseError> {
    let mut expected: Vec<(Option<String>, String)> = created
        .iter()
        .map(|r| (sort_key(r, path), r["id"].as_str().unwrap_or_default().to_owned()))
        .collect();
    // Missing values last ascending, first descending; id ascending breaks ties.
    expected.sort_by(|(ka, ia), (kb, ib)| {
        let keys = match (ka, kb) {
            (None, None) => std::cmp::Ordering::Equal,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(_), None) => std::cmp::Ordering::Less,
            (Some(a), Some(b)) => a.as_bytes().cmp(b.as_bytes()),
        };
        (if *descending { keys.reverse() } else { keys }).then_with(|| ia.cmp(ib))
    });
    let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
    let order = if *descending { "descending" } else { "ascending" };
    let response = rig
        .app
        .scim_as(token, Method::GET, "/Users")
        .query(&[("sortBy", path.as_str()), ("sortOrder", order), ("count", "1000")])
        .send()
        .await
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let body: Value = response
        .json()
        .await
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let actual: Vec<String> = body["Resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect();
    prop_assert_eq!(actual, expected, "sortBy={} sortOrder={}: {}", path, order, body);
    Ok(())
}

async fn list_ids(app: &TestApp, token: &str, filter: &str) -> Result<BTreeSet<String>, String> {
    let response = app
        .scim_as(token, Method::GET, "/Users")
        .query(&[("filter", filter), ("count", "1000")])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body: Value = response.json().await.map_err(|e| e.to_string())?;
    if status != StatusCode::OK {
        return Err(format!("{status}: {body}"));
    }
    let ids: BTreeSet<String> = body["Resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect();
    if body["totalResults"] != json!(ids.len()) {
        return Err(format!(
            "totalResults {} but {} resources",
            body["totalResults"],
            ids.len()
        ));
    }
    Ok(ids)
}

async fn check(rig: &Rig, case: &Case) -> Result<(), TestCaseError> {
    let token = rig.tenant().await;
    let mut created: Vec<Value> = Vec::new();
    let mut taken = BTreeSet::new();
    for (i, body) in case.users.iter().enumerate() {
        let mut body = body.clone();
        // userName is unique per account, case-insensitively.
        let name = body["userName"].as_str().unwrap_or_default().to_owned();
        if !taken.insert(name.to_ascii_lowercase()) {
            body["userName"] = Value::from(format!("{name}#{i}"));
        }
        // A manager must be a user of the account: an earlier user of the case, or none.
        if let Some(extension) = body
            .get_mut("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
            .and_then(Value::as_object_mut)
            && extension.contains_key("manager")
        {
            match created.get(i % created.len().max(1)) {
                Some(earlier) => {
                    extension.insert("manager".into(), json!({"value": earlier["id"]}));
                }
                None => {
                    extension.remove("manager");
                }
            }
        }
        let response = rig
            .app
            .client
            .post(format!("{}/Users", rig.app.base()))
            .bearer_auth(&token)
            .header("content-type", "application/scim+json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let status = response.status();
        let resource: Value = response
            .json()
            .await
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(status, StatusCode::CREATED, "create {}: {}", body, resource);
        created.push(resource);
    }
    check_sort(rig, &token, &created, &case.sort).await?;
    for generated in &case.filters {
        let filter = resolve(generated, &created);
        let text = filter.to_string();
        // The server parses the canonical text; evaluate what it parses.
        let parsed =
            parse_filter_with_schema(&text, &mut Leniency::new(ClientProfile::Strict), user_schema())
                .map_err(|e| TestCaseError::fail(format!("generated filter {text:?} does not parse: {e}")))?;
        let expected: BTreeSet<String> = created
            .iter()
            .filter(|r| matches(&parsed, r, user_schema()))
            .filter_map(|r| r["id"].as_str().map(str::to_owned))
            .collect();
        rig.compared.fetch_add(1, Ordering::Relaxed);
        if !expected.is_empty() && expected.len() < created.len() {
            rig.splitting.fetch_add(1, Ordering::Relaxed);
        }
        let actual = list_ids(&rig.app, &token, &text)
            .await
            .map_err(|e| TestCaseError::fail(format!("filter {text}: {e}")))?;
        if actual != expected {
            let differing: Vec<&Value> = created
                .iter()
                .filter(|r| {
                    r["id"]
                        .as_str()
                        .is_some_and(|id| actual.contains(id) != expected.contains(id))
                })
                .collect();
            return Err(TestCaseError::fail(format!(
                "filter {text}\nSQL: {} ids, evaluator: {} ids\nusers where they differ (evaluator says {}):\n{}",
                actual.len(),
                expected.len(),
                differing
                    .first()
                    .and_then(|r| r["id"].as_str())
                    .is_some_and(|id| expected.contains(id)),
                serde_json::to_string_pretty(&differing).unwrap_or_default()
            )));
        }
    }
    Ok(())
}

fn sql_agrees_with_the_evaluator(backend: Backend) {
    let Some(rig) = Rig::start(backend) else { return };
    let mut runner = runner(600);
    let started = std::time::Instant::now();
    let result = runner.run(&case(), |case| rig.rt.block_on(check(&rig, &case)));
    eprintln!(
        "{backend:?}: {} property cases, {} filters compared ({} matched some users but not all) in {:.1}s",
        runner.config().cases,
        rig.compared.load(Ordering::Relaxed),
        rig.splitting.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    match result {
        Ok(()) => {}
        Err(proptest::test_runner::TestError::Fail(reason, case)) => panic!(
            "{backend:?}: SQL and the reference evaluator disagree: {reason}\nminimal case: users {}\nfilters {:?}",
            case.users
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
            case.filters.iter().map(ToString::to_string).collect::<Vec<_>>()
        ),
        Err(e) => panic!("{backend:?}: {e}"),
    }
}

// ---------------------------------------------------------------------------------------
// Fuzz
// ---------------------------------------------------------------------------------------

const TOKENS: &[&str] = &[
    "userName",
    "emails",
    "emails.value",
    "name.givenName",
    "meta.lastModified",
    "id",
    "active",
    "members",
    "urn:ietf:params:scim:schemas:core:2.0:User:",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:",
    "urn:",
    "urn:x:y",
    "$ref",
    ".",
    ":",
    " ",
    "  ",
    "eq",
    "ne",
    "co",
    "sw",
    "ew",
    "gt",
    "ge",
    "lt",
    "le",
    "pr",
    "and",
    "or",
    "not",
    "AND",
    "Not",
    "(",
    ")",
    "[",
    "]",
    "\"",
    "\"x\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\\",
    "\"\\\"",
    "true",
    "false",
    "null",
    "1e400",
    "-0",
    "18446744073709551616",
    "1.7976931348623157e309",
    "0.1",
    "-9223372036854775809",
    "\"2024-01-01T00:00:00Z\"",
    "\"0000-01-01T00:00:00Z\"",
    "\"9999-12-31T23:59:60Z\"",
    "\"2024-13-45T99:99:99+25:00\"",
    "é",
    "\u{0}",
    "\u{7f}",
    "\u{feff}",
    "😀",
    "%",
    "_",
    "'",
    ";",
    "--",
    "/*",
    "\n",
    "\t",
];

/// Filters known to be hard on a translator: NUL (which Postgres text cannot hold), dates
/// at the edges of the calendar, numbers beyond i64/f64, the nesting limits.
const NASTY: &[&str] = &[
    r#"userName eq "\u0000""#,
    r#"emails[value eq "a\u0000b"]"#,
    r#"externalId gt "\u0000""#,
    r#"name.givenName co "\u0000""#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department sw "\u0000""#,
    r#"meta.created gt "0000-01-01T00:00:00Z""#,
    r#"meta.lastModified lt "9999-12-31T23:59:60.999999999+23:59""#,
    r#"urn:linkedin-scim:schemas:extension:license:2.0:User:licenses.assignedAt gt "0000-01-01T00:00:00Z""#,
    r#"urn:linkedin-scim:schemas:extension:license:2.0:User:licenses[assignedAt le "9999-12-31T23:59:60Z"]"#,
    r#"urn:linkedin-scim:schemas:extension:license:2.0:User:licenses.activatedAt eq "2024-02-29T24:00:00Z""#,
    r#"userName eq 1e400"#,
    r#"userName gt 18446744073709551616"#,
    r#"emails.primary eq "true""#,
    r#"active gt true"#,
    r#"meta.location eq "x""#,
    r#"meta.version sw "W/""#,
    r#"schemas eq "urn:ietf:params:scim:schemas:core:2.0:User""#,
    r#"nosuch[x eq "y"]"#,
    r#"emails[nosuch eq "y"]"#,
    r#"emails[value eq "x"].value eq "y""#,
    r#"name[givenName[x eq "y"]]"#,
];

/// Random garbage: token soup, arbitrary Unicode, mutated valid filters, deep nesting.
fn garbage() -> BoxedStrategy<String> {
    let soup = prop::collection::vec(prop::sample::select(TOKENS), 0..24).prop_map(|t| t.concat());
    let unicode = any::<String>();
    let bytes =
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| String::from_utf8_lossy(&b).into_owned());
    let mutated = (
        filter(),
        prop::collection::vec(
            (any::<prop::sample::Index>(), 0u8..3, prop::sample::select(TOKENS)),
            1..4,
        ),
    )
        .prop_map(|(f, edits)| {
            let mut text = f.to_string();
            for (at, edit, token) in edits {
                let mut cut = at.index(text.len() + 1);
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                match edit {
                    0 => text.insert_str(cut, token),
                    1 => text.truncate(cut),
                    _ => {
                        text.replace_range(cut.., &text[cut..].chars().skip(3).collect::<String>());
                    }
                }
            }
            text
        });
    let nested = (
        1usize..400,
        prop::sample::select(vec!["(", "not (", "emails[", "[", "(not ("]),
        any::<bool>(),
    )
        .prop_map(|(depth, open, closed)| {
            let close = match open {
                "emails[" | "[" => "]",
                "(not (" => "))",
                _ => ")",
            };
            let mut s = open.repeat(depth);
            s.push_str("userName eq \"x\"");
            if closed {
                s.push_str(&close.repeat(depth));
            }
            s
        });
    let long_chain = (1usize..600, prop::sample::select(vec![" and ", " or "]))
        .prop_map(|(n, joiner)| vec!["userName eq \"a\""; n].join(joiner));
    prop_oneof![
        3 => soup,
        1 => unicode,
        1 => bytes,
        3 => mutated,
        1 => nested,
        1 => long_chain,
    ]
    .boxed()
}

fn garbage_filters_get_200_or_400(backend: Backend) {
    let Some(rig) = Rig::start(backend) else { return };
    let mut runner = runner(0);
    let strategy = garbage();
    let total = std::env::var("FUZZ_FILTERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000usize);
    let mut inputs: Vec<String> = NASTY.iter().map(|s| (*s).to_owned()).collect();
    inputs.extend(["(", "not (", "emails["].iter().flat_map(|open| {
        [63, 64, 65].map(|depth| {
            format!(
                "{}userName pr{}",
                open.repeat(depth),
                if *open == "emails[" { "]" } else { ")" }.repeat(depth)
            )
        })
    }));
    inputs.extend((inputs.len()..total).map(|_| strategy.new_tree(&mut runner).expect("generate").current()));
    let started = std::time::Instant::now();
    let failures = rig.rt.block_on(async {
        // Some users, so that filters that parse also run against rows.
        for name in ["alice@x.io", "Bob", "é"] {
            rig.app.create_user(&crate::helpers::user_body(name)).await;
        }
        let limit = Arc::new(tokio::sync::Semaphore::new(32));
        let mut tasks = tokio::task::JoinSet::new();
        for input in inputs {
            let permit = limit.clone().acquire_owned().await.expect("semaphore");
            let request = rig
                .app
                .scim(Method::GET, "/Users")
                .query(&[("filter", input.as_str())])
                .timeout(Duration::from_secs(20));
            tasks.spawn(async move {
                let outcome = request.send().await;
                drop(permit);
                match outcome {
                    Ok(r) if matches!(r.status(), StatusCode::OK | StatusCode::BAD_REQUEST) => Ok(r.status()),
                    Ok(r) => Err(format!(
                        "{input:?} → {} {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    )),
                    Err(e) => Err(format!("{input:?} → {e}")),
                }
            });
        }
        let (mut failures, mut ok) = (Vec::new(), 0usize);
        while let Some(done) = tasks.join_next().await {
            match done.expect("task") {
                Ok(StatusCode::OK) => ok += 1,
                Ok(_) => {}
                Err(failure) => failures.push(failure),
            }
        }
        (failures, ok)
    });
    let (failures, ok) = failures;
    eprintln!(
        "{backend:?}: {total} garbage filters ({ok} answered 200, the rest 400) in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of {total} filters got neither 200 nor 400, e.g.:\n{}",
        failures.len(),
        failures.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
    );
}

mod sqlite {
    use super::*;

    #[test]
    fn sql_agrees_with_the_evaluator() {
        super::sql_agrees_with_the_evaluator(Backend::Sqlite);
    }

    #[test]
    fn garbage_filters_get_200_or_400() {
        super::garbage_filters_get_200_or_400(Backend::Sqlite);
    }
}

mod postgres {
    use super::*;

    #[test]
    fn sql_agrees_with_the_evaluator() {
        super::sql_agrees_with_the_evaluator(Backend::Postgres);
    }

    #[test]
    fn garbage_filters_get_200_or_400() {
        super::garbage_filters_get_200_or_400(Backend::Postgres);
    }
}
