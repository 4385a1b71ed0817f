//! `cargo bench --bench users`: how user lookups and paging scale from 10k to 1M users.
//!
//! For each backend (SQLite in `target/bench/`, and Postgres from `BENCH_DATABASE_URL` or
//! the local default, in its own schema; skipped with a message when unreachable), the
//! benchmark grows one account to 10k, 100k and 1M users with `UserStore::import_users`,
//! starts the real application in-process on that database and measures through HTTP,
//! one request at a time after a warm-up, the latency of:
//! `userName eq`, `externalId eq`, `emails[value eq …]` (random existing users), and a
//! page of 100 users from `startIndex=5001`, and cursor pages (RFC 9865) of 100: the
//! first, and one 200 users from the end (the deepest page). It prints each lookup's
//! query plan and a table of p50/p99 with the ratio to the 10k figure.
//!
//! `BENCH_SIZES=10000,100000` and `BENCH_SAMPLES=500` shorten a run.

#![expect(
    clippy::expect_used,
    reason = "test and bench helpers report a failure by panicking"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use linkedin_scim::Application;
use linkedin_scim::accounts::FidelityPreset;
use linkedin_scim::clock::{Clock, SystemClock};
use linkedin_scim::config::Settings;
use linkedin_scim::scim::catalog::user_schema;
use linkedin_scim::scim::cursor::{Cursor, Position, fingerprint};
use linkedin_scim::scim::list::RawListParams;
use linkedin_scim::scim::tolerance::{ClientProfile, Leniency};
use linkedin_scim::store::Store;
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::Connection;

const TOKEN: &str = "bench-token-0123456789";
const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Users per `import_users` call (one transaction each).
const IMPORT_BATCH: usize = 20_000;
const PAGE_START: usize = 5_001;

/// A user as an IdP would provision it; every `i` gives unique userName, externalId and
/// emails.
fn user(i: usize) -> Value {
    json!({
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "userName": format!("user{i:07}@bench.example"),
        "externalId": format!("ext-{i:07}"),
        "displayName": format!("Bench User {i}"),
        "active": true,
        "name": {"givenName": "Bench", "familyName": format!("User{i}")},
        "emails": [
            {"value": format!("user{i:07}.work@bench.example"), "type": "work", "primary": true},
            {"value": format!("user{i:07}.home@bench.example"), "type": "home"},
        ],
        "title": "Engineer",
        ENTERPRISE: {"department": format!("Dept {}", i % 50), "employeeNumber": format!("{i}")},
    })
}

#[derive(Clone, Copy)]
enum Query {
    UserName,
    ExternalId,
    Email,
    Page,
    CursorFirst,
    CursorDeep,
}

impl Query {
    const ALL: [Query; 6] = [
        Query::UserName,
        Query::ExternalId,
        Query::Email,
        Query::Page,
        Query::CursorFirst,
        Query::CursorDeep,
    ];

    fn label(self) -> &'static str {
        match self {
            Query::UserName => "userName eq",
            Query::ExternalId => "externalId eq",
            Query::Email => "emails[value eq]",
            Query::Page => "page: startIndex=5001&count=100",
            Query::CursorFirst => "cursor page: first, count=100",
            Query::CursorDeep => "cursor page: 200 from the end",
        }
    }

    fn filter(self, i: usize) -> Option<String> {
        match self {
            Query::UserName => Some(format!("userName eq \"user{i:07}@bench.example\"")),
            Query::ExternalId => Some(format!("externalId eq \"ext-{i:07}\"")),
            Query::Email => Some(format!("emails[value eq \"user{i:07}.work@bench.example\"]")),
            Query::Page | Query::CursorFirst | Query::CursorDeep => None,
        }
    }

    /// `deep_cursor`: the cursor of the page 200 users from the end.
    fn params(self, i: usize, deep_cursor: &str) -> Vec<(String, String)> {
        let page = |key: &str, value: String| vec![(key.into(), value), ("count".into(), "100".into())];
        match (self, self.filter(i)) {
            (_, Some(f)) => vec![("filter".into(), f)],
            (Query::CursorFirst, None) => page("cursor", String::new()),
            (Query::CursorDeep, None) => page("cursor", deep_cursor.to_owned()),
            (_, None) => page("startIndex", PAGE_START.to_string()),
        }
    }

    fn is_page(self) -> bool {
        matches!(self, Query::Page | Query::CursorFirst | Query::CursorDeep)
    }
}

/// A tiny deterministic PRNG (xorshift): which users to look up.
struct Pick(u64);

impl Pick {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

struct Measured {
    p50: Duration,
    p99: Duration,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

async fn measure(
    client: &reqwest::Client,
    base: &str,
    query: Query,
    size: usize,
    samples: usize,
    deep_cursor: &str,
) -> Measured {
    let mut pick = Pick(0x9e37_79b9_7f4a_7c15);
    let samples = if query.is_page() { samples / 4 } else { samples }.max(20);
    let warm_up = samples / 5;
    let mut latencies = Vec::with_capacity(samples);
    for n in 0..warm_up + samples {
        let params = query.params(pick.below(size), deep_cursor);
        let started = Instant::now();
        let response = client
            .get(format!("{base}/Users"))
            .bearer_auth(TOKEN)
            .query(&params)
            .send()
            .await
            .expect("request");
        let status = response.status();
        let body: Value = response.json().await.expect("json");
        let elapsed = started.elapsed();
        assert!(status.is_success(), "{}: {status} {body}", query.label());
        let expected = if query.is_page() { 100 } else { 1 };
        assert_eq!(body["itemsPerPage"], json!(expected), "{}: {body}", query.label());
        if n >= warm_up {
            latencies.push(elapsed);
        }
    }
    latencies.sort();
    Measured {
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
    }
}

async fn print_plans(store: &dyn Store, account_id: &linkedin_scim::ids::AccountId, deep_cursor: &str) {
    for query in Query::ALL {
        let mut raw = RawListParams::default();
        for (key, value) in query.params(1, deep_cursor) {
            let slot = match key.as_str() {
                "filter" => &mut raw.filter,
                "cursor" => &mut raw.cursor,
                "startIndex" => &mut raw.start_index,
                _ => &mut raw.count,
            };
            *slot = Some(value);
        }
        let request = raw
            .parse(1000, user_schema(), &mut Leniency::new(ClientProfile::Strict))
            .expect("valid request");
        let plan = store
            .explain_list_users(account_id, &request)
            .await
            .expect("explain");
        println!("  plan for {}:", query.label());
        for line in plan.iter().filter(|l| !l.starts_with("-- ")) {
            println!("    {line}");
        }
    }
}

/// The cursor of the page after the user 201st from the end (found once by offset).
async fn deep_cursor(store: &dyn Store, account_id: &linkedin_scim::ids::AccountId, size: usize) -> String {
    let raw = RawListParams {
        start_index: Some((size - 200).to_string()),
        count: Some("1".into()),
        ..Default::default()
    };
    let request = raw
        .parse(1000, user_schema(), &mut Leniency::new(ClientProfile::Strict))
        .expect("valid request");
    let page = store.list_users(account_id, &request, None).await.expect("list");
    let edge = page.items.first().expect("a user at that depth");
    Cursor::After(Position {
        created_at: edge.created_at,
        seq: edge.created_seq.expect("read from a list"),
    })
    .encode(&fingerprint(None))
    .expect("a cursor")
}

struct Row {
    size: usize,
    query: Query,
    measured: Measured,
}

async fn run_backend(name: &str, database_url: &str, sizes: &[usize], samples: usize) -> Vec<Row> {
    let settings = Settings {
        database_url: database_url.to_owned(),
        bind: "127.0.0.1:0".parse().expect("address"),
        demo_token: Some(SecretString::from(TOKEN.to_owned())),
        ..Settings::default()
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let app = Application::build(settings, clock.clone())
        .await
        .expect("build app");
    let base = format!("http://127.0.0.1:{}/scim/v2", app.port());
    let store = app.store.clone();
    tokio::spawn(app.run_until_stopped());
    let account = store
        .ensure_account(
            linkedin_scim::center::seed::DEMO_ACCOUNT,
            FidelityPreset::Rfc.settings(),
            0,
        )
        .await
        .expect("demo account");
    let client = reqwest::Client::new();
    let mut rows = Vec::new();
    let mut loaded = 0;
    for &size in sizes {
        let started = Instant::now();
        while loaded < size {
            let end = (loaded + IMPORT_BATCH).min(size);
            let docs: Vec<Value> = (loaded..end).map(user).collect();
            store
                .import_users(&account.id, &docs, &Default::default(), clock.now_micros())
                .await
                .expect("import");
            loaded = end;
        }
        analyze(database_url).await;
        println!(
            "{name}: {size} users loaded ({:.1}s)",
            started.elapsed().as_secs_f64()
        );
        let deep = deep_cursor(store.as_ref(), &account.id, size).await;
        print_plans(store.as_ref(), &account.id, &deep).await;
        for query in Query::ALL {
            let measured = measure(&client, &base, query, size, samples, &deep).await;
            println!(
                "  {:<34} p50 {:>8.2} ms  p99 {:>8.2} ms",
                query.label(),
                ms(measured.p50),
                ms(measured.p99)
            );
            rows.push(Row {
                size,
                query,
                measured,
            });
        }
    }
    rows
}

/// Fresh planner statistics after a bulk load (what autovacuum would do shortly after).
async fn analyze(database_url: &str) {
    if database_url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(database_url)
            .await
            .expect("sqlite");
        // Fold the bulk load's write-ahead log into the database, as the automatic
        // checkpoints of a long-running server would have.
        for statement in ["analyze", "pragma wal_checkpoint(truncate)"] {
            sqlx::query(statement).execute(&mut conn).await.expect(statement);
        }
    } else {
        let mut conn = sqlx::PgConnection::connect(database_url).await.expect("postgres");
        sqlx::query("vacuum analyze users")
            .execute(&mut conn)
            .await
            .expect("vacuum");
        sqlx::query("vacuum analyze user_emails")
            .execute(&mut conn)
            .await
            .expect("vacuum");
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A Postgres URL whose connections use a freshly created schema `linkedin_scim_bench`.
async fn postgres_url() -> Option<String> {
    let base = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut conn = match sqlx::PgConnection::connect(&base).await {
        Ok(conn) => conn,
        Err(e) => {
            println!(
                "Postgres at {base} is unreachable ({e}): skipping the Postgres half. Set BENCH_DATABASE_URL."
            );
            return None;
        }
    };
    for statement in [
        "drop schema if exists linkedin_scim_bench cascade",
        "create schema linkedin_scim_bench",
    ] {
        sqlx::query(statement)
            .execute(&mut conn)
            .await
            .expect("bench schema");
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}options[search_path]=linkedin_scim_bench"))
}

fn sqlite_url() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let path = dir.join("users.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    format!("sqlite://{}", path.display())
}

fn print_table(backend: &str, rows: &[Row]) {
    println!("\n| {backend} | users | p50 ms | p99 ms | p50 / 10k | p99 / 10k |");
    println!("|---|---:|---:|---:|---:|---:|");
    for query in Query::ALL {
        let of = |r: &&Row| std::mem::discriminant(&r.query) == std::mem::discriminant(&query);
        let Some(first) = rows.iter().find(of) else {
            continue;
        };
        for row in rows.iter().filter(of) {
            println!(
                "| {} | {} | {:.2} | {:.2} | {:.2}x | {:.2}x |",
                query.label(),
                row.size,
                ms(row.measured.p50),
                ms(row.measured.p99),
                ms(row.measured.p50) / ms(first.measured.p50),
                ms(row.measured.p99) / ms(first.measured.p99),
            );
        }
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000, 1_000_000]);
    let samples: usize = std::env::var("BENCH_SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let started = Instant::now();
        let sqlite = run_backend("SQLite", &sqlite_url(), &sizes, samples).await;
        let postgres = match postgres_url().await {
            Some(url) => run_backend("Postgres", &url, &sizes, samples).await,
            None => Vec::new(),
        };
        print_table("SQLite", &sqlite);
        if !postgres.is_empty() {
            print_table("Postgres", &postgres);
        }
        println!("\nbenchmark took {:.0}s", started.elapsed().as_secs_f64());
    });
}
