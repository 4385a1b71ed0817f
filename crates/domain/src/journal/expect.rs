//! Assertions on the journal, the way WireMock's `verify` works: "a request matching
//! this pattern was received (at least / exactly N times, or never)". A failed assertion
//! explains itself with the closest requests and what differed.

use chrono::{DateTime, Utc};
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use scim::tolerance::{ClientProfile, Leniency};

use crate::activity::ActivityRecord;

/// A pattern and how many requests must match it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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
    /// Text the (redacted) request body contains.
    pub body_contains: Option<String>,
    /// A JSON value the request body contains: every member given matches, arrays by
    /// elements that each match some element.
    pub body_json: Option<Value>,
    /// Only requests after this journal id.
    pub since_id: Option<i64>,
    /// Only requests at or after this time.
    pub since: Option<DateTime<Utc>>,
    pub at_least: Option<u64>,
    pub exactly: Option<u64>,
    /// No matching request may have been received.
    #[serde(default)]
    pub none: bool,
}

/// How many matches an expectation asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    AtLeast(u64),
    Exactly(u64),
}

impl Count {
    fn holds(self, n: u64) -> bool {
        match self {
            Count::AtLeast(min) => n >= min,
            Count::Exactly(k) => n == k,
        }
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Count::AtLeast(n) => write!(f, "at least {n}"),
            Count::Exactly(n) => write!(f, "exactly {n}"),
        }
    }
}

/// An expectation ready to match.
#[derive(Debug)]
pub struct Matcher {
    expectation: Expectation,
    path: Option<Regex>,
    path_regex: Option<Regex>,
    pub count: Count,
}

/// A near miss: a request and what differed from the pattern.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NearMiss {
    pub mismatches: Vec<String>,
    pub request: ActivityRecord,
}

/// The journal records an assertion ran over: those after `sinceId` (and at or after
/// `since`) up to `throughId`, the account's newest record when it started.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Range {
    pub since_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// `None`: the account's journal was empty.
    pub through_id: Option<i64>,
}

/// The answer to an expectation.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub satisfied: bool,
    /// What was asked, in words.
    pub expected: String,
    pub matched: u64,
    /// How many requests of the range were looked at: all of them, unless `complete` is
    /// false.
    pub examined: u64,
    pub range: Range,
    /// False when the range held more requests than an assertion examines: the verdict
    /// is then a failure, whatever matched.
    pub complete: bool,
    /// Why it failed, in words (absent when satisfied).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The matching requests (oldest first, at most [`SHOWN`]).
    pub requests: Vec<ActivityRecord>,
    /// When unsatisfied by too few matches: the requests closest to the pattern.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub closest: Vec<NearMiss>,
}

/// Why a range was not examined whole, so no verdict is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gap {
    /// Longer than an assertion examines.
    TooLong,
    /// Requests of the range that were never journaled.
    NotJournaled(Lost),
}

/// An account's requests that never reached the journal: how many, and the time (`at`)
/// of the newest. Kept by the journal's writer; an assertion whose range may hold one
/// cannot be judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lost {
    pub records: u64,
    pub last_at: i64,
}

/// An expectation judged one record at a time, so a range of any length is examined in
/// constant memory: it keeps the count, the first matches and the nearest misses.
#[derive(Debug)]
pub struct Tally<'m> {
    matcher: &'m Matcher,
    matched: u64,
    examined: u64,
    shown: Vec<ActivityRecord>,
    closest: Vec<NearMiss>,
}

impl Tally<'_> {
    pub fn examined(&self) -> u64 {
        self.examined
    }

    /// Judge the next record of the range (oldest first).
    pub fn add(&mut self, record: ActivityRecord) {
        self.examined += 1;
        let mismatches = self.matcher.mismatches(&record);
        if mismatches.is_empty() {
            self.matched += 1;
            if self.shown.len() < SHOWN {
                self.shown.push(record);
            }
            return;
        }
        // Fewest differences first; among equals, the latest request.
        let rank = |m: &NearMiss| (m.mismatches.len(), std::cmp::Reverse(m.request.id));
        let miss = NearMiss {
            mismatches,
            request: record,
        };
        if self.closest.len() < CLOSEST || self.closest.last().is_some_and(|worst| rank(&miss) < rank(worst))
        {
            self.closest.push(miss);
            self.closest.sort_by_key(rank);
            self.closest.truncate(CLOSEST);
        }
    }

    /// The verdict over what was added; a `gap` when the range was not examined whole.
    pub fn verdict(self, range: Range, gap: Option<Gap>) -> Verdict {
        let n = self.matched;
        let expected = self.matcher.describe();
        let complete = gap.is_none();
        let satisfied = complete && self.matcher.count.holds(n);
        let too_few = match self.matcher.count {
            Count::AtLeast(k) | Count::Exactly(k) => n < k,
        };
        let closest = if !satisfied && too_few {
            self.closest
        } else {
            Vec::new()
        };
        let detail = (!satisfied).then(|| {
            match gap {
                Some(Gap::TooLong) => {
                    return format!(
                        "could not judge {expected}: the range holds more than the {} requests an assertion examines ({n} matched among them); narrow it with sinceId or since",
                        self.examined
                    );
                }
                Some(Gap::NotJournaled(lost)) => {
                    return format!(
                        "could not judge {expected}: {} request(s) of this account never reached the journal (its queue was full or the database refused them), the last at {}; narrow the range with since to after it",
                        lost.records,
                        crate::clock::rfc3339(lost.last_at)
                    );
                }
                None => {}
            }
            let mut text = format!("expected {expected}, but {n} matched");
            if let Some(nearest) = closest.first() {
                text.push_str(&format!(
                    "; the closest, {} {} ({}): {}",
                    nearest.request.method,
                    nearest.request.path,
                    nearest.request.status,
                    nearest.mismatches.join("; ")
                ));
            } else if self.examined == 0 {
                text.push_str("; the journal has no requests in range");
            }
            text
        });
        Verdict {
            satisfied,
            expected,
            matched: n,
            examined: self.examined,
            range,
            complete,
            detail,
            requests: self.shown,
            closest,
        }
    }
}

/// Matching requests (and near misses) an answer shows at most.
pub const SHOWN: usize = 50;
const CLOSEST: usize = 3;

impl Matcher {
    /// Check the expectation; the error says what is wrong with it.
    pub fn new(expectation: Expectation) -> Result<Matcher, String> {
        let count = match (expectation.at_least, expectation.exactly, expectation.none) {
            (None, None, false) => Count::AtLeast(1),
            (Some(n), None, false) => Count::AtLeast(n),
            (None, Some(n), false) => Count::Exactly(n),
            (None, None, true) => Count::Exactly(0),
            _ => return Err("give at most one of atLeast, exactly and none".into()),
        };
        let path = expectation
            .path
            .as_deref()
            .map(|p| glob(&decoded_path(p, true)))
            .transpose()
            .map_err(|e| format!("path: {e}"))?;
        let path_regex = expectation
            .path_regex
            .as_deref()
            .map(Regex::new)
            .transpose()
            .map_err(|e| format!("pathRegex: {e}"))?;
        Ok(Matcher {
            expectation,
            path,
            path_regex,
            count,
        })
    }

    /// The pattern in words: `POST /scim/v2/Users status 201 body contains "x"`.
    pub fn describe(&self) -> String {
        let e = &self.expectation;
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
        if let Some(t) = &e.body_contains {
            parts.push(format!("body contains {t:?}"));
        }
        if let Some(j) = &e.body_json {
            parts.push(format!("body matches {j}"));
        }
        format!("{} request(s): {}", self.count, parts.join(" "))
    }

    /// What differs between `record` and the pattern (empty: it matches).
    pub fn mismatches(&self, record: &ActivityRecord) -> Vec<String> {
        let e = &self.expectation;
        let mut out = Vec::new();
        if let Some(m) = &e.method
            && !m.eq_ignore_ascii_case(&record.method)
        {
            out.push(format!(
                "method is {}, not {}",
                record.method,
                m.to_ascii_uppercase()
            ));
        }
        if self.path.is_some() || self.path_regex.is_some() {
            let path = decoded_path(&record.path, false);
            if let Some(p) = &self.path
                && !p.is_match(&path)
            {
                out.push(format!(
                    "path {path} does not match {}",
                    e.path.as_deref().unwrap_or_default()
                ));
            }
            if let Some(p) = &self.path_regex
                && !p.is_match(&path)
            {
                out.push(format!("path {path} does not match /{}/", p.as_str()));
            }
        }
        if let Some(s) = e.status
            && s != record.status
        {
            out.push(format!("status is {}, not {s}", record.status));
        }
        if let Some(c) = &e.configuration
            && record.configuration_name.as_deref() != Some(c.as_str())
        {
            out.push(format!(
                "configuration is {:?}, not {c:?}",
                record.configuration_name.as_deref().unwrap_or("none")
            ));
        }
        if let Some(r) = &e.resource_id
            && record.resource_id.as_deref() != Some(r.as_str())
        {
            out.push(format!(
                "resource is {}, not {r}",
                record.resource_id.as_deref().unwrap_or("none")
            ));
        }
        let body = record.exchange.request_body.as_deref();
        if let Some(t) = &e.body_contains
            && !body.is_some_and(|b| b.contains(t.as_str()))
        {
            out.push(format!("body does not contain {t:?}"));
        }
        if let Some(j) = &e.body_json {
            let parsed = body.and_then(|b| serde_json::from_str::<Value>(b).ok());
            if !parsed.as_ref().is_some_and(|b| json_contains(b, j)) {
                out.push(format!("body does not contain the JSON {j}"));
            }
        }
        out
    }

    /// Start judging a range of the journal.
    pub fn tally(&self) -> Tally<'_> {
        Tally {
            matcher: self,
            matched: 0,
            examined: 0,
            shown: Vec::new(),
            closest: Vec::new(),
        }
    }
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

/// A path pattern where `*` matches any run of characters and the rest is literal.
pub fn glob(pattern: &str) -> Result<Regex, regex::Error> {
    let parts: Vec<String> = pattern.split('*').map(regex::escape).collect();
    Regex::new(&format!("^{}$", parts.join(".*")))
}

/// Does `value` contain `pattern`: objects by member (recursively), arrays by each
/// pattern element matching some element, anything else by equality.
pub fn json_contains(value: &Value, pattern: &Value) -> bool {
    match (value, pattern) {
        (Value::Object(v), Value::Object(p)) => p
            .iter()
            .all(|(k, pv)| v.get(k).is_some_and(|vv| json_contains(vv, pv))),
        (Value::Array(v), Value::Array(p)) => p.iter().all(|pv| v.iter().any(|vv| json_contains(vv, pv))),
        _ => value == pattern,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The verdict over the whole of `records`.
    fn judge(m: &Matcher, records: &[ActivityRecord]) -> Verdict {
        let mut tally = m.tally();
        records.iter().cloned().for_each(|r| tally.add(r));
        tally.verdict(Range::default(), None)
    }

    fn record(method: &str, path: &str, status: u16, body: Option<&str>) -> ActivityRecord {
        ActivityRecord {
            id: Some(1),
            method: method.into(),
            path: path.into(),
            status,
            exchange: crate::activity::Exchange {
                request_body: body.map(str::to_owned),
                ..Default::default()
            },
            ..ActivityRecord::default()
        }
    }

    #[test]
    fn globs_bodies_and_counts() {
        let records = vec![
            record(
                "POST",
                "/scim/v2/Users",
                201,
                Some(r#"{"userName":"a","emails":[{"value":"a@x"}]}"#),
            ),
            record("GET", "/scim/v2/Users?filter=userName%20eq%20%22a%22", 200, None),
        ];
        let m = Matcher::new(Expectation {
            method: Some("post".into()),
            path: Some("/scim/v2/Users".into()),
            body_json: Some(json!({"emails": [{"value": "a@x"}]})),
            ..Expectation::default()
        })
        .expect("valid");
        assert!(judge(&m, &records).satisfied);
        let m = Matcher::new(Expectation {
            path: Some("/scim/v2/Users?filter=*".into()),
            exactly: Some(1),
            ..Expectation::default()
        })
        .expect("valid");
        assert!(judge(&m, &records).satisfied);
        let m = Matcher::new(Expectation {
            method: Some("POST".into()),
            status: Some(409),
            ..Expectation::default()
        })
        .expect("valid");
        let v = judge(&m, &records);
        assert!(!v.satisfied);
        assert_eq!(v.closest[0].mismatches, vec!["status is 201, not 409"]);
        assert!(
            Matcher::new(Expectation {
                none: true,
                at_least: Some(1),
                ..Expectation::default()
            })
            .is_err()
        );
    }

    #[test]
    fn queries_match_decoded_and_filters_parsed() {
        let sent = [
            record(
                "GET",
                "/scim/v2/Users?filter=userName+eq+%22x%40acme.com%22",
                200,
                None,
            ),
            record(
                "GET",
                "/scim/v2/Users?filter=userName%20eq%20%22x%40acme.com%22&count=1",
                200,
                None,
            ),
        ];
        let count = |path: &str| {
            let m = Matcher::new(Expectation {
                path: Some(path.into()),
                ..Expectation::default()
            })
            .expect("valid");
            judge(&m, &sent).matched
        };
        assert_eq!(count(r#"/scim/v2/Users?filter=userName eq "x@acme.com""#), 1);
        assert_eq!(count(r#"/scim/v2/Users?filter=userName  EQ "x@acme.com""#), 1);
        assert_eq!(
            count(r#"/scim/v2/Users?filter=userName eq "x@acme.com"&count=1"#),
            1
        );
        assert_eq!(count("/scim/v2/Users?filter=userName eq *"), 2);
        assert_eq!(count("/scim/v2/Users?filter=userName+eq+%22x%40acme.com%22"), 1);
        assert_eq!(count(r#"/scim/v2/Users?filter=userName eq "y@acme.com""#), 0);
    }
}
