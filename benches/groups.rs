//! Group membership at scale: is adding or removing one member, and reading a group
//! without its members, as fast for a 100 000-member group as for a 10-member one?
//!
//! `cargo bench --bench groups` starts the real application in-process (as the tests
//! do, through `Application::build`), loads groups of 10, 10 000 and 100 000 members
//! through the store (batch SQL, not 100k HTTP calls), then measures over HTTP, one
//! request at a time (the sizes taking turns), the p50/p99 latency of: PATCH add one
//! member, PATCH remove one member (`members[value eq "…"]`), GET
//! `?excludedAttributes=members`. The SCIM configuration answers PATCH with 204
//! (`patch_response = "no_content"`, what Entra advises for groups): with `resource`,
//! RFC 7644 has the response carry the whole group, every member included. It runs on
//! SQLite and on Postgres (`BENCH_DATABASE_URL`, default the local server; skipped with
//! a message when unreachable). `BENCH_ITERATIONS` sets the samples per operation.

use std::sync::Arc;
use std::time::{Duration, Instant};

use linkedin_scim::Application;
use linkedin_scim::accounts::{BearerToken, FidelityPreset, admit};
use linkedin_scim::clock::{Clock, SystemClock};
use linkedin_scim::config::Settings;
use linkedin_scim::ids::{AccountId, GroupId, UserId};
use linkedin_scim::licensing::SeatRequest;
use linkedin_scim::membership::MemberOrigin;
use linkedin_scim::store::Store;
use serde_json::{Value, json};
use sqlx::Connection;

const SIZES: [usize; 3] = [10, 10_000, 100_000];
const TOKEN: &str = "bench-token-0123456789";
const WARMUP: usize = 20;

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

struct Row {
    backend: &'static str,
    size: usize,
    op: &'static str,
    p50: Duration,
    p99: Duration,
}

#[tokio::main]
async fn main() -> BenchResult<()> {
    let iterations: usize = std::env::var("BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let started = Instant::now();
    let mut rows = Vec::new();
    let sqlite = std::env::temp_dir().join(format!("lscim-bench-{}.db", uuid::Uuid::new_v4()));
    rows.extend(run("sqlite", &format!("sqlite://{}", sqlite.display()), iterations).await?);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", sqlite.display()));
    }
    let pg = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    match sqlx::PgConnection::connect(&pg).await {
        Ok(mut conn) => {
            let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
            sqlx::query(sqlx::AssertSqlSafe(format!("create schema {schema}")))
                .execute(&mut conn)
                .await?;
            let sep = if pg.contains('?') { '&' } else { '?' };
            let url = format!("{pg}{sep}options[search_path]={schema}");
            let result = run("postgres", &url, iterations).await;
            sqlx::query(sqlx::AssertSqlSafe(format!("drop schema {schema} cascade")))
                .execute(&mut conn)
                .await?;
            rows.extend(result?);
        }
        Err(e) => eprintln!("skipping Postgres: {pg} is unreachable ({e}); set BENCH_DATABASE_URL"),
    }
    print_table(&rows, iterations);
    eprintln!("total {:.0?}", started.elapsed());
    Ok(())
}

async fn run(backend: &'static str, url: &str, iterations: usize) -> BenchResult<Vec<Row>> {
    eprintln!("{backend}: loading {} users…", SIZES[2]);
    let seed = std::env::temp_dir().join(format!("lscim-bench-seed-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(
        &seed,
        format!(
            "[[accounts]]\nname = \"bench\"\nprofile = \"rfc\"\n[[accounts.configurations]]\n\
             name = \"Entra\"\ntoken = \"{TOKEN}\"\nclient_profile = \"entra\"\npatch_response = \"no_content\"\n"
        ),
    )?;
    let settings = Settings {
        database_url: url.to_owned(),
        bind: "127.0.0.1:0".parse()?,
        seed: Some(seed.clone()),
        profile: FidelityPreset::Rfc,
        ..Settings::default()
    };
    let app = Application::build(settings, Arc::new(SystemClock)).await?;
    let _ = std::fs::remove_file(&seed);
    let base = format!("http://127.0.0.1:{}/scim/v2", app.port());
    let store = app.store.clone();
    tokio::spawn(app.run_until_stopped());
    let token = BearerToken::parse(TOKEN).ok_or("bad token")?;
    let hash = token.hash();
    let found = store.find_token(&hash).await?;
    let account = admit(&hash, found, SystemClock.now_micros())
        .map_err(|_| "token rejected")?
        .account
        .id;

    let loading = Instant::now();
    let users = create_users(&store, &account, SIZES[2] + SIZES.len()).await?;
    let (members, probes) = users.split_at(SIZES[2]);
    let client = reqwest::Client::new();
    let mut rows = Vec::new();
    let mut groups = Vec::new();
    for size in SIZES {
        let group = store
            .create_group(
                &account,
                &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": format!("Group of {size}")}),
                &[],
                SystemClock.now_micros(),
            )
            .await?;
        store
            .add_members(
                &account,
                &GroupId::from(group.id.as_str()),
                &members[..size],
                MemberOrigin::Scim,
                SystemClock.now_micros(),
            )
            .await?;
        groups.push(group.id);
    }
    eprintln!("{backend}: loaded in {:.1?}; measuring", loading.elapsed());

    // Sizes take turns request by request, so background work of the database (a
    // checkpoint, autovacuum after the bulk load) weighs on every size alike.
    let targets: Vec<Target> = groups
        .iter()
        .zip(probes)
        .map(|(group, probe)| Target::new(&base, group, probe))
        .collect();
    let mut samples = vec![[Vec::new(), Vec::new(), Vec::new()]; SIZES.len()];
    for i in 0..WARMUP + iterations {
        for (target, samples) in targets.iter().zip(samples.iter_mut()) {
            let timings = target.round(&client).await?;
            if i >= WARMUP {
                for (kept, t) in samples.iter_mut().zip(timings) {
                    kept.push(t);
                }
            }
        }
    }
    for ((size, group), samples) in SIZES.into_iter().zip(&groups).zip(samples) {
        for (op, samples) in OPERATIONS.into_iter().zip(samples) {
            let (p50, p99) = percentiles(samples);
            rows.push(Row {
                backend,
                size,
                op,
                p50,
                p99,
            });
        }
        // The member count is what we think it is (and the probe left no trace).
        let members = store.group_members(&account, std::slice::from_ref(group)).await?;
        let members = members.get(group).map_or(0, Vec::len);
        if members != size {
            return Err(format!("group of {size} has {members} members").into());
        }
    }
    Ok(rows)
}

const OPERATIONS: [&str; 3] = [
    "PATCH add 1 member",
    "PATCH remove 1 member",
    "GET excludedAttributes=members",
];

/// One group under measurement and the user that is added to it and removed again.
struct Target {
    path: String,
    add: Value,
    remove: Value,
}

impl Target {
    fn new(base: &str, group: &str, probe: &str) -> Target {
        let patch = |op: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [op]});
        Target {
            path: format!("{base}/Groups/{group}"),
            add: patch(json!({"op": "add", "path": "members", "value": [{"value": probe}]})),
            remove: patch(json!({"op": "remove", "path": format!("members[value eq \"{probe}\"]")})),
        }
    }

    /// One of each operation, timed, in [`OPERATIONS`] order.
    async fn round(&self, client: &reqwest::Client) -> BenchResult<[Duration; 3]> {
        let add = timed(send(client, reqwest::Method::PATCH, &self.path, Some(&self.add))).await?;
        let remove = timed(send(
            client,
            reqwest::Method::PATCH,
            &self.path,
            Some(&self.remove),
        ))
        .await?;
        let get = format!("{}?excludedAttributes=members", self.path);
        let get = timed(send(client, reqwest::Method::GET, &get, None)).await?;
        Ok([add, remove, get])
    }
}

/// Users go in through the store, many at a time: this is set-up, not what is measured.
async fn create_users(store: &Arc<dyn Store>, account: &AccountId, n: usize) -> BenchResult<Vec<UserId>> {
    const WORKERS: usize = 16;
    let mut tasks = Vec::new();
    for worker in 0..WORKERS {
        let store = store.clone();
        let account = account.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in (worker..n).step_by(WORKERS) {
                let doc = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                 "userName": format!("user{i:06}@bench.example"), "active": true});
                let user = store
                    .create_user(
                        &account,
                        &doc,
                        &SeatRequest::none(),
                        None,
                        SystemClock.now_micros(),
                    )
                    .await?;
                ids.push((i, UserId::from(user.record.id)));
            }
            Ok::<_, linkedin_scim::store::StoreError>(ids)
        }));
    }
    let mut all = Vec::with_capacity(n);
    for task in tasks {
        all.extend(task.await??);
    }
    all.sort();
    Ok(all.into_iter().map(|(_, id)| id).collect())
}

async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<&Value>,
) -> BenchResult<()> {
    let mut request = client.request(method, url).bearer_auth(TOKEN);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/scim+json")
            .body(body.to_string());
    }
    let response = request.send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    if !status.is_success() {
        return Err(format!("{url}: {status} {}", String::from_utf8_lossy(&body)).into());
    }
    Ok(())
}

async fn timed(request: impl Future<Output = BenchResult<()>>) -> BenchResult<Duration> {
    let start = Instant::now();
    request.await?;
    Ok(start.elapsed())
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.50), at(0.99))
}

fn print_table(rows: &[Row], iterations: usize) {
    println!(
        "\n{iterations} samples per operation, one request at a time, after {WARMUP} warm-up requests.\n"
    );
    println!("| backend | operation | members | p50 | p99 | p50 vs 10 members | p99 vs 10 members |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    let mut ordered: Vec<&Row> = rows.iter().collect();
    // Group by backend (in run order), then operation, then size.
    let backend_rank = |b: &str| rows.iter().position(|r| r.backend == b).unwrap_or(0);
    let op_rank = |op: &str| rows.iter().position(|r| r.op == op).unwrap_or(0);
    ordered.sort_by_key(|r| (backend_rank(r.backend), op_rank(r.op), r.size));
    for row in ordered {
        let Some(small) = rows
            .iter()
            .find(|r| r.backend == row.backend && r.op == row.op && r.size == SIZES[0])
        else {
            continue;
        };
        println!(
            "| {} | {} | {} | {} | {} | {:.2}x | {:.2}x |",
            row.backend,
            row.op,
            row.size,
            millis(row.p50),
            millis(row.p99),
            row.p50.as_secs_f64() / small.p50.as_secs_f64(),
            row.p99.as_secs_f64() / small.p99.as_secs_f64(),
        );
    }
}

fn millis(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}
