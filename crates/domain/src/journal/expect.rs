//! Assertions on the journal, the way WireMock's `verify` works: "a request matching
//! this pattern was received (at least / at most / exactly N times, or never)", or "requests
//! matching these patterns were received in this order" (a `sequence`). A failed
//! assertion explains itself with the closest requests, ranked by how far off they are,
//! and what differed, member by member ([`super::diff`]).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::diff::{self, Difference};
use super::pattern::{Miss, Pattern};
use crate::activity::ActivityRecord;

pub use super::diff::json_contains;
pub use super::pattern::{Expectation, Injected, decoded_path, glob};

/// How many matches an expectation asks for: at least `min`, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub min: u64,
    pub max: Option<u64>,
}

impl Count {
    fn holds(self, n: u64) -> bool {
        n >= self.min && self.max.is_none_or(|max| n <= max)
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.min, self.max) {
            (min, Some(max)) if min == max => write!(f, "exactly {min}"),
            (0, Some(max)) => write!(f, "at most {max}"),
            (min, Some(max)) => write!(f, "between {min} and {max}"),
            (min, None) => write!(f, "at least {min}"),
        }
    }
}

/// What an expectation asks.
#[derive(Debug)]
enum Ask {
    Count(Box<Pattern>, Count),
    Sequence(Vec<Pattern>),
}

/// An expectation ready to match.
#[derive(Debug)]
pub struct Matcher {
    ask: Ask,
}

/// A near miss: a request and what differed from the pattern.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NearMiss {
    /// A sentence per criterion not met.
    pub mismatches: Vec<String>,
    /// What differed, one entry per differing criterion, and per differing member of the
    /// body (`bodyJson`), with its JSON path.
    pub differences: Vec<Difference>,
    pub request: ActivityRecord,
}

impl NearMiss {
    /// Closest first: fewest criteria not met, then fewest differing members; among
    /// equals, the latest request.
    fn rank(&self) -> (usize, u64, std::cmp::Reverse<Option<i64>>) {
        (
            self.mismatches.len(),
            diff::cost(&self.differences),
            std::cmp::Reverse(self.request.id),
        )
    }
}

/// A step of a sequence, in the verdict.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// The step's pattern in words.
    pub expected: String,
    /// The request that matched it (after the previous step's), or none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<ActivityRecord>,
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
    /// The requests that matched; for a sequence, the steps matched in order.
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
    /// The matching requests (oldest first, at most [`SHOWN`]); for a sequence, each
    /// matched step's.
    pub requests: Vec<ActivityRecord>,
    /// A sequence's steps, with the request each matched.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    /// A sequence's first step (from 1) with no match after the previous one's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<usize>,
    /// When unsatisfied by too few matches: the requests closest to the pattern (for a
    /// sequence, to the failed step's, among those after the previous step's match),
    /// closest first.
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
/// constant memory: it keeps the count (or the steps matched so far), the first matches
/// and the nearest misses.
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
        let pattern = match &self.matcher.ask {
            Ask::Count(pattern, _) => pattern.as_ref(),
            // The earliest match of each step after the previous one's: if the steps
            // match in order anywhere in the range, they do so this way.
            Ask::Sequence(steps) => match usize::try_from(self.matched).ok().and_then(|i| steps.get(i)) {
                Some(step) => step,
                None => return,
            },
        };
        let Miss {
            mismatches,
            differences,
        } = pattern.miss(&record);
        if mismatches.is_empty() {
            self.matched += 1;
            if self.shown.len() < SHOWN {
                self.shown.push(record);
            }
            if matches!(self.matcher.ask, Ask::Sequence(_)) {
                // The next step's near misses are those after this match.
                self.closest.clear();
            }
            return;
        }
        let miss = NearMiss {
            mismatches,
            differences,
            request: record,
        };
        if self.closest.len() < CLOSEST
            || self
                .closest
                .last()
                .is_some_and(|worst| miss.rank() < worst.rank())
        {
            self.closest.push(miss);
            self.closest.sort_by_key(NearMiss::rank);
            self.closest.truncate(CLOSEST);
        }
    }

    /// The verdict over what was added; a `gap` when the range was not examined whole.
    pub fn verdict(self, range: Range, gap: Option<Gap>) -> Verdict {
        let n = self.matched;
        let expected = self.matcher.describe();
        let complete = gap.is_none();
        let (holds, too_few) = match &self.matcher.ask {
            Ask::Count(_, count) => (count.holds(n), n < count.min),
            Ask::Sequence(steps) => {
                let all = n == steps.len() as u64;
                (all, !all)
            }
        };
        let satisfied = complete && holds;
        let closest = if !satisfied && too_few {
            self.closest
        } else {
            Vec::new()
        };
        let (steps, failed_step) = match &self.matcher.ask {
            Ask::Sequence(patterns) => {
                let mut matched = self.shown.iter().cloned();
                let steps = patterns
                    .iter()
                    .map(|p| Step {
                        expected: p.describe(),
                        request: matched.next(),
                    })
                    .collect();
                let failed = usize::try_from(n)
                    .ok()
                    .filter(|&i| i < patterns.len())
                    .map(|i| i + 1);
                (steps, failed)
            }
            Ask::Count(..) => (Vec::new(), None),
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
            let mut text = match (failed_step, steps.as_slice()) {
                (Some(1), [first, ..]) => format!(
                    "expected {expected}, but step 1 ({}) had no match in the range",
                    first.expected
                ),
                (Some(k), _) => {
                    let previous = steps.get(k - 2).and_then(|s| s.request.as_ref());
                    format!(
                        "expected {expected}, but step {k} ({}) had no match after step {}'s request{}",
                        steps.get(k - 1).map_or("", |s| s.expected.as_str()),
                        k - 1,
                        previous.map_or(String::new(), |r| format!(
                            " #{} ({} {})",
                            r.id.unwrap_or_default(),
                            r.method,
                            r.path
                        ))
                    )
                }
                (None, _) => format!("expected {expected}, but {n} matched"),
            };
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
            steps,
            failed_step,
            closest,
        }
    }
}

/// Matching requests (and near misses) an answer shows at most.
pub const SHOWN: usize = 50;
const CLOSEST: usize = 3;
/// Steps a sequence may have.
const STEPS: usize = 20;

impl Matcher {
    /// Check the expectation; the error says what is wrong with it.
    pub fn new(expectation: Expectation) -> Result<Matcher, String> {
        if let Some(steps) = &expectation.sequence {
            if expectation.has_criteria() || expectation.has_count() {
                return Err("beside a sequence give only sinceId and since: criteria go in its steps".into());
            }
            if steps.is_empty() || steps.len() > STEPS {
                return Err(format!("a sequence has 1 to {STEPS} steps"));
            }
            let steps = steps
                .iter()
                .enumerate()
                .map(|(i, step)| {
                    if step.has_count()
                        || step.sequence.is_some()
                        || step.since_id.is_some()
                        || step.since.is_some()
                    {
                        return Err(format!(
                            "sequence[{i}]: a step is a pattern alone (no count, range or sequence)"
                        ));
                    }
                    Pattern::new(step).map_err(|e| format!("sequence[{i}].{e}"))
                })
                .collect::<Result<_, _>>()?;
            return Ok(Matcher {
                ask: Ask::Sequence(steps),
            });
        }
        let e = &expectation;
        let count = match (e.at_least, e.at_most, e.exactly, e.none) {
            (None, None, None, false) => Count { min: 1, max: None },
            (min, max, None, false) => Count {
                min: min.unwrap_or(0),
                max,
            },
            (None, None, Some(n), false) => Count { min: n, max: Some(n) },
            (None, None, None, true) => Count { min: 0, max: Some(0) },
            _ => return Err("give exactly, none, or atLeast and/or atMost".into()),
        };
        if count.max.is_some_and(|max| max < count.min) {
            return Err(format!("atMost is less than atLeast ({count})"));
        }
        Ok(Matcher {
            ask: Ask::Count(Box::new(Pattern::new(e)?), count),
        })
    }

    /// The expectation in words: `at least 1 request(s): POST /scim/v2/Users status 201`.
    pub fn describe(&self) -> String {
        match &self.ask {
            Ask::Count(pattern, count) => format!("{count} request(s): {}", pattern.describe()),
            Ask::Sequence(steps) => format!(
                "in order: {}",
                steps
                    .iter()
                    .enumerate()
                    .map(|(i, s)| format!("{}. {}", i + 1, s.describe()))
                    .collect::<Vec<_>>()
                    .join(", then ")
            ),
        }
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

    fn matcher(pattern: serde_json::Value) -> Matcher {
        Matcher::new(serde_json::from_value(pattern).expect("an expectation")).expect("valid")
    }

    fn numbered(mut records: Vec<ActivityRecord>) -> Vec<ActivityRecord> {
        for (i, r) in records.iter_mut().enumerate() {
            r.id = Some(i as i64 + 1);
        }
        records
    }

    #[test]
    fn near_misses_rank_by_criteria_then_members_and_carry_the_diff() {
        let records = numbered(vec![
            record("GET", "/scim/v2/Users", 200, None),
            record(
                "PATCH",
                "/scim/v2/Users/1",
                200,
                Some(r#"{"Operations":[{"op":"Replace","path":"title","value":"x"}]}"#),
            ),
            record(
                "PATCH",
                "/scim/v2/Users/2",
                200,
                Some(r#"{"Operations":[{"op":"Replace","path":"active","value":false}]}"#),
            ),
            record("PATCH", "/scim/v2/Users/3", 400, Some(r#"{"Operations":[]}"#)),
        ]);
        let m = matcher(json!({"method": "PATCH", "status": 200,
            "bodyJson": {"Operations": [{"op": "replace", "path": "active", "value": false}]}}));
        let v = judge(&m, &records);
        assert!(!v.satisfied);
        let order: Vec<Option<i64>> = v.closest.iter().map(|c| c.request.id).collect();
        // One criterion, one member; one criterion, two members; two criteria.
        assert_eq!(order, vec![Some(3), Some(2), Some(4)]);
        let nearest = &v.closest[0];
        assert_eq!(
            nearest.mismatches,
            vec!["body: `Operations[0].op` is `Replace`, expected `replace`"]
        );
        assert_eq!(nearest.differences.len(), 1);
        assert_eq!(nearest.differences[0].criterion, "bodyJson");
        assert_eq!(nearest.differences[0].path.as_deref(), Some("Operations[0].op"));
        let detail = v.detail.expect("detail");
        assert!(
            detail.contains("PATCH /scim/v2/Users/2 (200): body: `Operations[0].op` is `Replace`"),
            "{detail}"
        );
    }

    #[test]
    fn at_most_and_ranges_of_counts() {
        let records = numbered(vec![
            record("POST", "/scim/v2/Users", 201, None),
            record("POST", "/scim/v2/Users", 201, None),
        ]);
        assert!(judge(&matcher(json!({"method": "POST", "atMost": 2})), &records).satisfied);
        let v = judge(&matcher(json!({"method": "POST", "atMost": 1})), &records);
        assert!(!v.satisfied && v.closest.is_empty());
        assert_eq!(v.expected, "at most 1 request(s): POST any path");
        assert_eq!(v.requests.len(), 2);
        assert!(
            judge(
                &matcher(json!({"method": "POST", "atLeast": 1, "atMost": 3})),
                &records
            )
            .satisfied
        );
        assert!(judge(&matcher(json!({"method": "GET", "atMost": 0})), &records).satisfied);
        for bad in [
            json!({"atLeast": 3, "atMost": 2}),
            json!({"exactly": 1, "atMost": 2}),
            json!({"none": true, "atMost": 2}),
        ] {
            assert!(Matcher::new(serde_json::from_value(bad).expect("parses")).is_err());
        }
    }

    #[test]
    fn headers_tolerances_outcomes_and_faults() {
        let mut r = record("PATCH", "/scim/v2/Users/1", 200, None);
        r.exchange.request_headers = Some(
            [("user-agent".to_owned(), "Azure AD SCIM 1.0".to_owned())]
                .into_iter()
                .collect(),
        );
        r.tolerances = vec![scim::tolerance::Tolerance::CapitalisedOp];
        r.outcome = Some("updated; license assigned (Sales Navigator)".into());
        r.injected = Some("latency 300 ms".into());
        let records = vec![r];
        let ok = |p: serde_json::Value| judge(&matcher(p), &records).satisfied;
        assert!(ok(json!({"headers": {"User-Agent": "Azure AD*"}})));
        assert!(!ok(json!({"headers": {"user-agent": "Okta*"}})));
        assert!(!ok(json!({"headers": {"x-request-id": "*"}})));
        assert!(ok(json!({"tolerated": ["capitalised_op"]})));
        assert!(!ok(json!({"tolerated": []})));
        assert!(!ok(json!({"tolerated": ["string_boolean"]})));
        assert!(ok(json!({"outcome": "License assigned"})));
        assert!(!ok(json!({"outcome": "waiting"})));
        assert!(ok(json!({"injected": true})));
        assert!(ok(json!({"injected": "latency"})));
        assert!(!ok(json!({"injected": false})));
        assert!(!ok(json!({"injected": "error"})));
        let v = judge(
            &matcher(json!({"headers": {"user-agent": "Okta*"}, "tolerated": ["string_boolean"]})),
            &records,
        );
        assert_eq!(
            v.closest[0].mismatches,
            vec![
                "header user-agent is `Azure AD SCIM 1.0`, expected `Okta*`",
                "tolerated capitalised_op, expected string_boolean too",
            ]
        );
        assert_eq!(v.closest[0].differences[0].path.as_deref(), Some("user-agent"));
        let unknown = Matcher::new(serde_json::from_value(json!({"tolerated": ["nope"]})).expect("parses"));
        assert!(unknown.is_err_and(|e| e.contains("capitalised_op")));
    }

    #[test]
    fn a_sequence_matches_in_order_and_names_the_step_without_a_match() {
        let records = numbered(vec![
            record("POST", "/scim/v2/Users", 201, None),
            record("GET", "/scim/v2/Users?filter=userName%20eq%20%22a%22", 200, None),
            record("POST", "/scim/v2/Users", 201, None),
            record("PATCH", "/scim/v2/Groups/g", 204, None),
        ]);
        let steps = |last: &str| {
            matcher(json!({"sequence": [
                {"method": "GET", "path": "/scim/v2/Users?filter=*"},
                {"method": "POST"},
                {"method": "PATCH", "path": last},
            ]}))
        };
        let v = judge(&steps("/scim/v2/Groups/*"), &records);
        assert!(v.satisfied, "{:?}", v.detail);
        assert_eq!(v.matched, 3);
        let ids: Vec<Option<i64>> = v
            .steps
            .iter()
            .map(|s| s.request.as_ref().and_then(|r| r.id))
            .collect();
        assert_eq!(ids, vec![Some(2), Some(3), Some(4)]);

        let v = judge(&steps("/scim/v2/Users/*"), &records);
        assert!(!v.satisfied);
        assert_eq!(v.failed_step, Some(3));
        assert_eq!(v.examined, 4);
        let detail = v.detail.expect("detail");
        assert!(
            detail.contains("step 3 (PATCH /scim/v2/Users/*) had no match after step 2's request #3"),
            "{detail}"
        );
        // The near misses are those after step 2's match only.
        assert_eq!(v.closest.len(), 1);
        assert_eq!(v.closest[0].request.id, Some(4));

        // The POST before the GET does not count: order matters.
        let v = judge(
            &matcher(json!({"sequence": [{"method": "PATCH"}, {"method": "POST"}]})),
            &records,
        );
        assert_eq!(v.failed_step, Some(2));
        for bad in [
            json!({"sequence": []}),
            json!({"sequence": [{"method": "GET", "atLeast": 2}]}),
            json!({"method": "GET", "sequence": [{"method": "GET"}]}),
        ] {
            assert!(Matcher::new(serde_json::from_value(bad).expect("parses")).is_err());
        }
    }
}
