//! `cargo bench --bench patch`: does the PATCH engine's cost grow linearly with its
//! operations? Runs the pure engine (`apply_patch` then `normalize`, what a PATCH request
//! spends CPU on, without HTTP or database) on a user for 2k, 4k and 10k `add` operations
//! of one email each, and for as many filtered `replace`s on a user holding that many
//! emails, and prints the median of `BENCH_SAMPLES` (default 3) runs and the time per
//! operation.

#![expect(
    clippy::unwrap_used,
    reason = "test and bench helpers report a failure by panicking"
)]

use std::time::{Duration, Instant};

use scim::catalog::user_schema;
use scim::normalize::normalize;
use scim::patch::{PATCH_OP_SCHEMA, apply_patch};
use scim::tolerance::{ClientProfile, Leniency};
use serde_json::{Value, json};

fn user(emails: usize) -> Value {
    let emails: Vec<Value> = (0..emails)
        .map(|i| json!({"value": format!("e{i}@bench.example"), "type": "work"}))
        .collect();
    json!({"schemas": [user_schema().core.id], "userName": "bench@bench.example", "active": true, "emails": emails})
}

fn add_emails(n: usize) -> Value {
    let ops: Vec<Value> = (0..n)
        .map(|i| json!({"op": "add", "path": "emails", "value": [{"value": format!("a{i}@bench.example"), "type": "home"}]}))
        .collect();
    json!({"schemas": [PATCH_OP_SCHEMA], "Operations": ops})
}

fn filtered_replaces(n: usize) -> Value {
    let ops: Vec<Value> = (0..n)
        .map(|i| json!({"op": "replace", "path": format!("emails[value eq \"e{i}@bench.example\"].type"), "value": "other"}))
        .collect();
    json!({"schemas": [PATCH_OP_SCHEMA], "Operations": ops})
}

fn run(resource: &Value, request: &Value) -> Duration {
    let start = Instant::now();
    let mut leniency = Leniency::new(ClientProfile::Strict);
    let outcome = apply_patch(resource, request, user_schema(), &[], "id", &mut leniency).unwrap();
    normalize(outcome.resource, user_schema(), &mut leniency).unwrap();
    start.elapsed()
}

fn median(resource: &Value, request: &Value, samples: usize) -> Duration {
    let mut times: Vec<Duration> = (0..samples).map(|_| run(resource, request)).collect();
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let samples = std::env::var("BENCH_SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    println!("{:<34} {:>8} {:>12} {:>12}", "case", "ops", "median", "per op");
    for n in [2_000, 4_000, 10_000] {
        let time = median(&user(1), &add_emails(n), samples);
        report("add one email", n, time);
    }
    for n in [2_000, 4_000, 10_000] {
        let time = median(&user(n), &filtered_replaces(n), samples);
        report("filtered replace (n emails)", n, time);
    }
}

fn report(case: &str, n: usize, time: Duration) {
    println!(
        "{case:<34} {n:>8} {:>10.1}ms {:>10.2}µs",
        time.as_secs_f64() * 1e3,
        time.as_secs_f64() * 1e6 / n as f64
    );
}
