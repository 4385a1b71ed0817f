//! An expectation as written ([`Expectation`]) and one request pattern of it, compiled:
//! the criteria a journal record must meet, and what differs when it does not ([`Miss`]). Paths (and faults' paths) are
//! matched as the client meant them ([`decoded_path`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

use scim::tolerance::{ClientProfile, Leniency, Tolerance};

use super::diff::{self, Difference};
use crate::activity::ActivityRecord;

/// A pattern and how many requests must match it, or a sequence of patterns.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Expectation {
    /// The HTTP method (any case).
    pub method: Option<String>,
    /// The path with its query, `*` matching any run of characters
    /// (`/scim/v2/Users/*`, `/scim/v2/Users?filter=*`).
    pub path: Option<String>,
    /// A regular expression the path with its query must match somewhere.
    pub path_regex: Option<String>,
    pub status: Option<u16>,
    /// A SCIM configuration's name (for the query; see the admin endpoint).
    pub configuration: Option<String>,
    pub resource_id: Option<String>,
    /// Request headers: name (any case) → value, `*` matching any run of characters.
    /// Credentials are matched as the journal keeps them (`Bearer [redacted]`).
    pub headers: Option<BTreeMap<String, String>>,
    /// Text the (redacted) request body contains.
    pub body_contains: Option<String>,
    /// A JSON value the request body contains: every member given matches, arrays by
    /// elements that each match some element.
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<serde_json::Value>))]
    pub body_json: Option<Value>,
    /// Tolerances that fired (`X-Scim-Tolerated`), by name: each given fired; `[]`:
    /// none fired.
    pub tolerated: Option<Vec<String>>,
    /// Text the record's outcome contains, any case (`license assigned`, `waiting`).
    pub outcome: Option<String>,
    /// `true`: a fault hit the request; `false`: none did; text: the fault's
    /// description holds it (`error 503`, `throttle`).
    pub injected: Option<Injected>,
    /// Only requests after this journal id.
    pub since_id: Option<i64>,
    /// Only requests at or after this time (RFC 3339).
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<String>, format = DateTime))]
    pub since: Option<DateTime<Utc>>,
    pub at_least: Option<u64>,
    pub at_most: Option<u64>,
    pub exactly: Option<u64>,
    /// No matching request may have been received.
    #[serde(default)]
    pub none: bool,
    /// Patterns (without counts or range) that requests must match in this order, each
    /// after the previous one's match: "GET lookup, then POST, then PATCH". Beside it,
    /// only `sinceId` and `since`.
    #[cfg_attr(feature = "utoipa", schema(no_recursion))]
    pub sequence: Option<Vec<Expectation>>,
}

impl Expectation {
    /// Whether any criterion (not a count, range or sequence) is given.
    pub(super) fn has_criteria(&self) -> bool {
        let e = self;
        e.method.is_some()
            || e.path.is_some()
            || e.path_regex.is_some()
            || e.status.is_some()
            || e.configuration.is_some()
            || e.resource_id.is_some()
            || e.headers.is_some()
            || e.body_contains.is_some()
            || e.body_json.is_some()
            || e.tolerated.is_some()
            || e.outcome.is_some()
            || e.injected.is_some()
    }

    pub(super) fn has_count(&self) -> bool {
        self.at_least.is_some() || self.at_most.is_some() || self.exactly.is_some() || self.none
    }
}

/// `injected`: whether a fault hit the request, or which (text its description holds).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub enum Injected {
    Any(bool),
    Text(String),
}

/// An expectation's criteria, ready to match.
#[derive(Debug)]
pub(super) struct Pattern {
    criteria: Expectation,
    path: Option<Regex>,
    path_regex: Option<Regex>,
    /// Header names (lower case), their globs and the values as given.
    headers: Vec<(String, Regex, String)>,
    tolerated: Option<Vec<Tolerance>>,
}

/// What differs between a record and a pattern: a sentence per criterion not met, and
/// the differences in detail (the body's member by member).
#[derive(Debug, Default)]
pub(super) struct Miss {
    pub(super) mismatches: Vec<String>,
    pub(super) differences: Vec<Difference>,
}

impl Miss {
    fn push(&mut self, difference: Difference) {
        self.mismatches.push(difference.message.clone());
        self.differences.push(difference);
    }
}

/// Differences of the body a sentence names before "and N more".
const NAMED: usize = 3;

impl Pattern {
    /// Compile the criteria of `e` (counts and range are the caller's).
    pub(super) fn new(e: &Expectation) -> Result<Pattern, String> {
        let path = e
            .path
            .as_deref()
            .map(|p| glob(&decoded_path(p, true)))
            .transpose()
            .map_err(|e| format!("path: {e}"))?;
        let path_regex = e
            .path_regex
            .as_deref()
            .map(Regex::new)
            .transpose()
            .map_err(|e| format!("pathRegex: {e}"))?;
        let headers = e
            .headers
            .iter()
            .flatten()
            .map(|(name, value)| {
                glob(value)
                    .map(|g| (name.to_ascii_lowercase(), g, value.clone()))
                    .map_err(|err| format!("headers.{name}: {err}"))
            })
            .collect::<Result<_, _>>()?;
        let tolerated = e
            .tolerated
            .as_ref()
            .map(|names| names.iter().map(|n| tolerance(n)).collect::<Result<Vec<_>, _>>())
            .transpose()?;
        Ok(Pattern {
            criteria: e.clone(),
            path,
            path_regex,
            headers,
            tolerated,
        })
    }

    /// The pattern in words: `POST /scim/v2/Users status 201 body contains "x"`.
    pub(super) fn describe(&self) -> String {
        let e = &self.criteria;
        let mut parts = vec![
            e.method
                .clone()
                .map_or("any method".to_owned(), |m| m.to_ascii_uppercase()),
            e.path.clone().unwrap_or_else(|| "any path".to_owned()),
        ];
        if let Some(r) = &e.path_regex {
            parts.push(format!("path ~ /{r}/"));
        }
        if let Some(s) = e.status {
            parts.push(format!("status {s}"));
        }
        if let Some(c) = &e.configuration {
            parts.push(format!("configuration {c:?}"));
        }
        if let Some(r) = &e.resource_id {
            parts.push(format!("resource {r}"));
        }
        for (name, _, value) in &self.headers {
            parts.push(format!("header {name}: {value}"));
        }
        if let Some(t) = &e.body_contains {
            parts.push(format!("body contains {t:?}"));
        }
        if let Some(j) = &e.body_json {
            parts.push(format!("body matches {j}"));
        }
        match &self.tolerated {
            Some(t) if t.is_empty() => parts.push("no tolerance".to_owned()),
            Some(t) => parts.push(format!("tolerated {}", names(t))),
            None => {}
        }
        if let Some(o) = &e.outcome {
            parts.push(format!("outcome contains {o:?}"));
        }
        match &e.injected {
            Some(Injected::Any(true)) => parts.push("a fault injected".to_owned()),
            Some(Injected::Any(false)) => parts.push("no fault injected".to_owned()),
            Some(Injected::Text(t)) => parts.push(format!("fault {t:?} injected")),
            None => {}
        }
        parts.join(" ")
    }

    /// What differs between `record` and the pattern (empty: it matches).
    pub(super) fn miss(&self, record: &ActivityRecord) -> Miss {
        let e = &self.criteria;
        let mut out = Miss::default();
        if let Some(m) = &e.method
            && !m.eq_ignore_ascii_case(&record.method)
        {
            let expected = m.to_ascii_uppercase();
            out.push(
                Difference::of("method", format!("method is {}, not {expected}", record.method))
                    .values(Some(record.method.clone().into()), Some(expected.into())),
            );
        }
        if self.path.is_some() || self.path_regex.is_some() {
            let path = decoded_path(&record.path, false);
            if let Some(p) = &self.path
                && !p.is_match(&path)
            {
                let pattern = e.path.clone().unwrap_or_default();
                out.push(
                    Difference::of("path", format!("path {path} does not match {pattern}"))
                        .values(Some(path.clone().into()), Some(pattern.into())),
                );
            }
            if let Some(p) = &self.path_regex
                && !p.is_match(&path)
            {
                out.push(
                    Difference::of(
                        "pathRegex",
                        format!("path {path} does not match /{}/", p.as_str()),
                    )
                    .values(Some(path.clone().into()), Some(p.as_str().into())),
                );
            }
        }
        if let Some(s) = e.status
            && s != record.status
        {
            out.push(
                Difference::of("status", format!("status is {}, not {s}", record.status))
                    .values(Some(record.status.into()), Some(s.into())),
            );
        }
        if let Some(c) = &e.configuration
            && record.configuration_name.as_deref() != Some(c.as_str())
        {
            out.push(
                Difference::of(
                    "configuration",
                    format!(
                        "configuration is {:?}, not {c:?}",
                        record.configuration_name.as_deref().unwrap_or("none")
                    ),
                )
                .values(
                    record.configuration_name.clone().map(Value::from),
                    Some(c.clone().into()),
                ),
            );
        }
        if let Some(r) = &e.resource_id
            && record.resource_id.as_deref() != Some(r.as_str())
        {
            out.push(
                Difference::of(
                    "resourceId",
                    format!(
                        "resource is {}, not {r}",
                        record.resource_id.as_deref().unwrap_or("none")
                    ),
                )
                .values(
                    record.resource_id.clone().map(Value::from),
                    Some(r.clone().into()),
                ),
            );
        }
        self.headers_miss(record, &mut out);
        let body = record.exchange.request_body.as_deref();
        if let Some(t) = &e.body_contains
            && !body.is_some_and(|b| b.contains(t.as_str()))
        {
            out.push(
                Difference::of("bodyContains", format!("body does not contain {t:?}"))
                    .values(None, Some(t.clone().into())),
            );
        }
        if let Some(j) = &e.body_json {
            body_json_miss(record, j, &mut out);
        }
        self.facts_miss(record, &mut out);
        out
    }

    fn headers_miss(&self, record: &ActivityRecord, out: &mut Miss) {
        if self.headers.is_empty() {
            return;
        }
        let Some(sent) = &record.exchange.request_headers else {
            out.push(Difference::of(
                "headers",
                "headers were not captured (journal_capture is off)".to_owned(),
            ));
            return;
        };
        for (name, glob, value) in &self.headers {
            let difference = match sent.get(name) {
                Some(actual) if glob.is_match(actual) => continue,
                Some(actual) => Difference::of(
                    "headers",
                    format!("header {name} is `{actual}`, expected `{value}`"),
                )
                .values(Some(actual.clone().into()), Some(value.clone().into())),
                None => Difference::of("headers", format!("header {name} is missing, expected `{value}`"))
                    .values(None, Some(value.clone().into())),
            };
            out.push(difference.at(name.clone()));
        }
    }

    /// The criteria on what the server did: tolerances, outcome, injected fault.
    fn facts_miss(&self, record: &ActivityRecord, out: &mut Miss) {
        let e = &self.criteria;
        if let Some(wanted) = &self.tolerated {
            let fired = &record.tolerances;
            let lacking: Vec<Tolerance> = wanted.iter().filter(|t| !fired.contains(t)).copied().collect();
            let message = if wanted.is_empty() && !fired.is_empty() {
                Some(format!("tolerated {}, expected none", names(fired)))
            } else if lacking.is_empty() {
                None
            } else if fired.is_empty() {
                Some(format!("no tolerance fired, expected {}", names(&lacking)))
            } else {
                Some(format!(
                    "tolerated {}, expected {} too",
                    names(fired),
                    names(&lacking)
                ))
            };
            if let Some(message) = message {
                let list = |t: &[Tolerance]| Value::from(t.iter().map(|t| t.as_str()).collect::<Vec<_>>());
                out.push(Difference::of("tolerated", message).values(Some(list(fired)), Some(list(wanted))));
            }
        }
        if let Some(o) = &e.outcome {
            let actual = record.outcome.as_deref();
            if !actual.is_some_and(|a| a.to_lowercase().contains(&o.to_lowercase())) {
                let message = match actual {
                    Some(a) => format!("outcome is `{a}`, expected it to contain `{o}`"),
                    None => format!("no outcome, expected one containing `{o}`"),
                };
                out.push(
                    Difference::of("outcome", message)
                        .values(actual.map(Value::from), Some(o.clone().into())),
                );
            }
        }
        if let Some(i) = &e.injected {
            let actual = record.injected.as_deref();
            let message = match (i, actual) {
                (Injected::Any(true), None) => Some("no fault was injected, expected one".to_owned()),
                (Injected::Any(false), Some(a)) => Some(format!("fault `{a}` was injected, expected none")),
                (Injected::Text(t), None) => Some(format!("no fault was injected, expected `{t}`")),
                (Injected::Text(t), Some(a)) if !a.contains(t.as_str()) => {
                    Some(format!("fault `{a}` was injected, expected `{t}`"))
                }
                _ => None,
            };
            if let Some(message) = message {
                let expected = match i {
                    Injected::Any(b) => Value::from(*b),
                    Injected::Text(t) => Value::from(t.clone()),
                };
                out.push(Difference::of("injected", message).values(actual.map(Value::from), Some(expected)));
            }
        }
    }
}

/// `bodyJson`: the body's differences member by member, in one sentence.
fn body_json_miss(record: &ActivityRecord, pattern: &Value, out: &mut Miss) {
    let body = record.exchange.request_body.as_deref();
    let parsed = body.map(serde_json::from_str::<Value>);
    let whole = |message: String| Difference {
        weight: diff::cost(&diff::json(&Value::Null, pattern)).max(1),
        ..Difference::of("bodyJson", message).values(None, Some(pattern.clone()))
    };
    let found = match parsed {
        None => vec![whole("the request has no body".to_owned())],
        Some(Err(_)) if record.exchange.request_body_truncated => vec![whole(
            "the body was cut at journal_body_limit and does not parse as JSON".to_owned(),
        )],
        Some(Err(_)) => vec![whole("the body is not JSON".to_owned())],
        Some(Ok(value)) => diff::json(&value, pattern),
    };
    if found.is_empty() {
        return;
    }
    let mut sentence = format!(
        "body: {}",
        found
            .iter()
            .take(NAMED)
            .map(|d| d.message.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    );
    if found.len() > NAMED {
        sentence.push_str(&format!(" (and {} more)", found.len() - NAMED));
    }
    out.mismatches.push(sentence);
    out.differences.extend(found);
}

fn tolerance(name: &str) -> Result<Tolerance, String> {
    Tolerance::ALL
        .into_iter()
        .find(|t| t.as_str() == name)
        .ok_or_else(|| {
            format!(
                "tolerated: {name:?} is no tolerance; they are {}",
                names(&Tolerance::ALL)
            )
        })
}

fn names(tolerances: &[Tolerance]) -> String {
    tolerances
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A path with its query as the client meant it, so a pattern is written as text and
/// matches however the client encoded it: percent-escapes decoded (in the query `+` is a
/// space too), and a `filter` parameter that parses rendered canonically, so spacing,
/// operator case and quoting do not matter (`userName  EQ "x"` is `userName eq "x"`).
/// In a `pattern`, a filter holding `*` stays as written: its `*` are globs.
pub fn decoded_path(raw: &str, pattern: bool) -> String {
    let decode = |text: &str| {
        percent_encoding::percent_decode_str(text)
            .decode_utf8_lossy()
            .into_owned()
    };
    let Some((path, query)) = raw.split_once('?') else {
        return decode(raw);
    };
    let params: Vec<String> = query
        .split('&')
        .map(|param| {
            let param = decode(&param.replace('+', " "));
            match param.split_once('=') {
                Some((name, value))
                    if name.eq_ignore_ascii_case("filter") && !(pattern && value.contains('*')) =>
                {
                    let mut leniency = Leniency::new(ClientProfile::Lenient);
                    match scim::filter::parse_filter(value, &mut leniency) {
                        Ok(filter) => format!("{name}={filter}"),
                        Err(_) => param,
                    }
                }
                _ => param,
            }
        })
        .collect();
    format!("{}?{}", decode(path), params.join("&"))
}

/// A pattern where `*` matches any run of characters and the rest is literal.
pub fn glob(pattern: &str) -> Result<Regex, regex::Error> {
    let parts: Vec<String> = pattern.split('*').map(regex::escape).collect();
    Regex::new(&format!("^{}$", parts.join(".*")))
}
