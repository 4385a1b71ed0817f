//! The test harness: `TestApp::spawn(backend)` starts the real application (the Router
//! from `lib.rs`) on a random port over its own database (a fresh SQLite file, or a
//! fresh Postgres schema) and talks HTTP to it.
//!
//! Each app's files (its SQLite database and seed files) live in a temporary directory
//! that is removed when the `TestApp` is dropped; a Postgres schema is dropped then too.
//!
//! Postgres comes from `TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). Without a reachable Postgres the
//! Postgres half of the suite is skipped with a loud message, except with `CI=true`,
//! where it fails.

pub mod acme;
pub mod process;
pub mod raw;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use linkedin_scim::Application;
use linkedin_scim::accounts::FidelityPreset;
use linkedin_scim::clock::{Clock, SystemClock};
use linkedin_scim::config::Settings;
use linkedin_scim::scim::tolerance::ClientProfile;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::Connection;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The marker Entra adds to every group it creates (no attributes).
pub const ENTRA_GROUP_SCHEMA: &str =
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

fn postgres_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Whether Postgres tests can run; panics under CI when they cannot.
pub async fn postgres_available() -> bool {
    match sqlx::PgConnection::connect(&postgres_url()).await {
        Ok(_) => true,
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!("CI=true but Postgres at {} is unreachable: {e}", postgres_url());
            }
            eprintln!(
                "\n*** SKIPPING Postgres test: {} unreachable ({e}). Set TEST_DATABASE_URL or start Postgres. ***\n",
                postgres_url()
            );
            false
        }
    }
}

/// A change to a spawned app's settings.
type SettingsTweak = Box<dyn FnOnce(&mut Settings) + Send>;

/// Options for a spawned app.
pub struct TestAppBuilder {
    backend: Backend,
    profile: FidelityPreset,
    demo_client_profile: ClientProfile,
    seed: Option<PathBuf>,
    clock: Arc<dyn Clock>,
    max_body_bytes: usize,
    max_page_size: u32,
    /// Changes to the settings beyond the ones above (journal, faults …).
    tweaks: Vec<SettingsTweak>,
    bulk_max_operations: u32,
    database_acquire_timeout_ms: u64,
    /// Holds the SQLite database and the seed files; removed with the `TestApp`.
    files: tempfile::TempDir,
}

impl TestAppBuilder {
    pub fn profile(mut self, profile: FidelityPreset) -> Self {
        self.profile = profile;
        self
    }
    /// The demo configuration's client profile (`--demo-client-profile`).
    pub fn demo_client_profile(mut self, profile: ClientProfile) -> Self {
        self.demo_client_profile = profile;
        self
    }
    pub fn seed(mut self, seed_toml: &str) -> Self {
        let path = self
            .files
            .path()
            .join(format!("seed-{}.toml", uuid::Uuid::new_v4()));
        std::fs::write(&path, seed_toml).expect("write seed");
        self.seed = Some(path);
        self
    }
    /// Seed one more SCIM configuration with a known token and client profile, in the
    /// account `account` (`demo` is the default token's account).
    pub fn configuration(self, account: &str, token: &str, client_profile: &str) -> Self {
        self.seed(&format!(
            "[[accounts]]\nname = \"{account}\"\n[[accounts.configurations]]\n\
             name = \"{token}\"\ntoken = \"{token}\"\nclient_profile = \"{client_profile}\"\n"
        ))
    }
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
    pub fn max_page_size(mut self, n: u32) -> Self {
        self.max_page_size = n;
        self
    }
    /// Change any other setting.
    pub fn settings(mut self, tweak: impl FnOnce(&mut Settings) + Send + 'static) -> Self {
        self.tweaks.push(Box::new(tweak));
        self
    }
    pub fn bulk_max_operations(mut self, n: u32) -> Self {
        self.bulk_max_operations = n;
        self
    }
    /// How long a request waits for a connection (and, on SQLite, for the write lock).
    pub fn database_acquire_timeout_ms(mut self, ms: u64) -> Self {
        self.database_acquire_timeout_ms = ms;
        self
    }

    pub async fn spawn(self) -> TestApp {
        self.start(std::future::pending()).await.0
    }

    /// Spawn an app that shuts down gracefully when the returned `Stop` is called.
    pub async fn spawn_stoppable(self) -> (TestApp, Stop) {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (app, served) = self
            .start(async move {
                let _ = stopped.await;
            })
            .await;
        (app, Stop { stop, served })
    }

    async fn start(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> (
        TestApp,
        tokio::task::JoinHandle<Result<(), linkedin_scim::StartupError>>,
    ) {
        let database = TestDatabase::create(self.backend).await;
        let database_url = database.url.clone();
        let token = format!("test-token-{}", uuid::Uuid::new_v4().simple());
        let admin_token = format!("admin-token-{}", uuid::Uuid::new_v4().simple());
        let mut settings = Settings {
            database_url: database_url.clone(),
            bind: "127.0.0.1:0".parse().expect("addr"),
            demo_token: Some(SecretString::from(token.clone())),
            admin_token: Some(SecretString::from(admin_token.clone())),
            seed: self.seed.clone(),
            profile: self.profile,
            demo_client_profile: self.demo_client_profile,
            max_body_bytes: self.max_body_bytes,
            max_page_size: self.max_page_size,
            bulk_max_operations: self.bulk_max_operations,
            database_acquire_timeout_ms: self.database_acquire_timeout_ms,
            ..Settings::default()
        };
        for tweak in self.tweaks {
            tweak(&mut settings);
        }
        let app = Application::build(settings, self.clock).await.expect("build app");
        let address = format!("{}://127.0.0.1:{}", app.scheme(), app.port());
        let served = tokio::spawn(app.run_until(shutdown));
        let app = TestApp {
            address,
            token,
            admin_token,
            client: reqwest::Client::new(),
            database_url,
            seed: self.seed,
            _files: self.files,
            _database: database,
        };
        (app, served)
    }
}

/// Stops a stoppable app the way SIGTERM does: in-flight requests finish, the activity
/// log is written.
pub struct Stop {
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<Result<(), linkedin_scim::StartupError>>,
}

impl Stop {
    /// Shut down and wait until the server has.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.served.await.expect("server task").expect("server");
    }
}

/// A database of its own for one test: a fresh SQLite file, or a fresh Postgres schema.
/// Dropping it removes the file (and its WAL files) or the schema.
pub struct TestDatabase {
    pub url: String,
    sqlite_path: Option<PathBuf>,
    pg_schema: Option<String>,
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("lscim-test-{}.db", uuid::Uuid::new_v4()));
                TestDatabase {
                    url: format!("sqlite://{}", path.display()),
                    sqlite_path: Some(path),
                    pg_schema: None,
                }
            }
            Backend::Postgres => {
                let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&postgres_url())
                    .await
                    .expect("connect to Postgres");
                sqlx::query(sqlx::AssertSqlSafe(format!("create schema {schema}")))
                    .execute(&mut conn)
                    .await
                    .expect("create test schema");
                let base = postgres_url();
                let sep = if base.contains('?') { '&' } else { '?' };
                TestDatabase {
                    url: format!("{base}{sep}options[search_path]={schema}"),
                    sqlite_path: None,
                    pg_schema: Some(schema),
                }
            }
        }
    }
}

pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    /// The demo configuration's bearer token.
    pub token: String,
    /// The admin API's bearer token.
    pub admin_token: String,
    pub client: reqwest::Client,
    pub database_url: String,
    seed: Option<PathBuf>,
    _files: tempfile::TempDir,
    _database: TestDatabase,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(path) = self.sqlite_path.take() {
            // Open connections keep working on the unlinked file until they close.
            for suffix in ["", "-wal", "-shm"] {
                let mut file = path.clone().into_os_string();
                file.push(suffix);
                let _ = std::fs::remove_file(file);
            }
        }
        if let Some(schema) = self.pg_schema.take() {
            // Best effort: a leftover schema only costs disk on a developer's database.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                rt.block_on(async {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&postgres_url()).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "drop schema if exists {schema} cascade"
                        )))
                        .execute(&mut conn)
                        .await;
                    }
                });
                Ok::<_, std::io::Error>(())
            })
            .join();
        }
    }
}

impl TestApp {
    pub fn builder(backend: Backend) -> TestAppBuilder {
        TestAppBuilder {
            backend,
            profile: FidelityPreset::Rfc,
            demo_client_profile: ClientProfile::default(),
            seed: None,
            clock: Arc::new(SystemClock),
            max_body_bytes: 1024 * 1024,
            max_page_size: 1000,
            tweaks: Vec::new(),
            bulk_max_operations: 1000,
            database_acquire_timeout_ms: Settings::default().database_acquire_timeout_ms,
            files: tempfile::Builder::new()
                .prefix("lscim-test-")
                .tempdir()
                .expect("temporary directory"),
        }
    }

    /// The seed file the app started with.
    pub fn seed_file(&self) -> Option<&Path> {
        self.seed.as_deref()
    }

    /// The default app: RFC fidelity preset, system clock.
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::builder(backend).spawn().await
    }

    /// `http://127.0.0.1:PORT/scim/v2`
    pub fn base(&self) -> String {
        format!("{}/scim/v2", self.address)
    }

    /// A request to `path` under `/scim/v2` with the demo token.
    pub fn scim(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base()))
            .bearer_auth(&self.token)
    }

    pub fn scim_as(&self, token: &str, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base()))
            .bearer_auth(token)
    }

    /// A request to the admin API (`/admin/api{path}`) with the admin token.
    pub fn admin(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}/admin/api{path}", self.address))
            .bearer_auth(&self.admin_token)
    }

    /// POST to refresh a configuration's token (`configuration` as it stands in the path,
    /// URL-encoded).
    pub async fn refresh_token(&self, account: &str, configuration: &str) -> Response {
        self.admin(
            Method::POST,
            &format!("/accounts/{account}/configurations/{configuration}/token"),
        )
        .send()
        .await
        .expect("request")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.get_as(&self.token, path).await
    }

    /// GET a path outside the SCIM base (a probe, `/metrics`) with no token.
    pub async fn get_unauthenticated(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request")
    }

    /// GET with another configuration's token.
    pub async fn get_as(&self, token: &str, path: &str) -> Response {
        self.scim_as(token, Method::GET, path)
            .send()
            .await
            .expect("request")
    }

    pub async fn send_json(&self, method: Method, path: &str, body: &Value) -> Response {
        self.send_json_as(&self.token, method, path, body).await
    }

    /// A JSON request with another configuration's token.
    pub async fn send_json_as(&self, token: &str, method: Method, path: &str, body: &Value) -> Response {
        self.scim_as(token, method, path)
            .header("content-type", "application/scim+json")
            .body(body.to_string())
            .send()
            .await
            .expect("request")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.send_json(Method::POST, path, body).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Response {
        self.send_json(Method::PATCH, path, body).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.send_json(Method::PUT, path, body).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.delete_as(&self.token, path).await
    }

    /// DELETE with another configuration's token.
    pub async fn delete_as(&self, token: &str, path: &str) -> Response {
        self.scim_as(token, Method::DELETE, path)
            .send()
            .await
            .expect("request")
    }

    /// Create a user, asserting 201; returns the created resource.
    pub async fn create_user(&self, body: &Value) -> Value {
        self.create_user_as(&self.token, body).await
    }

    /// Create a user with another configuration's token, asserting 201.
    pub async fn create_user_as(&self, token: &str, body: &Value) -> Value {
        let response = self.send_json_as(token, Method::POST, "/Users", body).await;
        expect_json(response, StatusCode::CREATED, "create user").await
    }

    /// List users with a filter; returns the ListResponse.
    pub async fn list_users(&self, filter: &str) -> Value {
        let response = self
            .scim(Method::GET, "/Users")
            .query(&[("filter", filter)])
            .send()
            .await
            .expect("request");
        expect_json(response, StatusCode::OK, "list users").await
    }
}

impl TestApp {
    /// Create a group, asserting 201; returns the created resource.
    pub async fn create_group(&self, body: &Value) -> Value {
        let response = self.post("/Groups", body).await;
        expect_json(response, StatusCode::CREATED, "create group").await
    }

    /// GET `path` (with its query), asserting 200; returns the body.
    pub async fn get_ok(&self, path: &str) -> Value {
        self.get_ok_as(&self.token, path).await
    }

    /// GET `path` with another configuration's token, asserting 200.
    pub async fn get_ok_as(&self, token: &str, path: &str) -> Value {
        let response = self.get_as(token, path).await;
        expect_json(response, StatusCode::OK, &format!("GET {path}")).await
    }

    /// List groups with a filter and extra query parameters; returns the ListResponse.
    pub async fn list_groups(&self, filter: &str, extra: &[(&str, &str)]) -> Value {
        let mut query = vec![("filter", filter)];
        query.extend_from_slice(extra);
        let response = self
            .scim(Method::GET, "/Groups")
            .query(&query)
            .send()
            .await
            .expect("request");
        expect_json(response, StatusCode::OK, "list groups").await
    }

    /// PATCH `path` with these operations (demo token), asserting 200; returns the body.
    pub async fn patch_ok(&self, path: &str, operations: Value) -> Value {
        self.patch_ok_as(&self.token, path, operations).await
    }

    /// PATCH `path` with another configuration's token, asserting 200.
    pub async fn patch_ok_as(&self, token: &str, path: &str, operations: Value) -> Value {
        let response = self
            .send_json_as(token, Method::PATCH, path, &patch_body(operations))
            .await;
        expect_json(response, StatusCode::OK, &format!("PATCH {path}")).await
    }

    /// GET `path` of the admin API, asserting 200; returns the body.
    pub async fn admin_get_ok(&self, path: &str) -> Value {
        let response = self.admin(Method::GET, path).send().await.expect("request");
        expect_json(response, StatusCode::OK, &format!("GET /admin/api{path}")).await
    }

    /// The activity of `account`, newest first, once at least `n` records are written
    /// (the log is written off the request path); `query` starts with `?` or is empty.
    pub async fn activity_of(&self, account: &str, query: &str, n: usize) -> Vec<Value> {
        for _ in 0..100 {
            let records = self
                .admin_get_ok(&format!("/accounts/{account}/activity{query}"))
                .await;
            let records = records.as_array().cloned().unwrap_or_default();
            if records.len() >= n {
                return records;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("fewer than {n} activity records appeared");
    }

    /// The license pools of `account` (admin API), asserting 200.
    pub async fn pools(&self, account: &str) -> Value {
        self.admin_get_ok(&format!("/accounts/{account}/pools")).await
    }

    /// Create users with these userNames; returns their ids.
    pub async fn create_users(&self, user_names: &[&str]) -> Vec<String> {
        let mut ids = Vec::new();
        for name in user_names {
            ids.push(id_of(&self.create_user(&user_body(name)).await));
        }
        ids
    }

    /// Add members through the admin API (origin `admin`); returns how many were new.
    pub async fn add_admin_members(&self, group_id: &str, user_ids: &[String]) -> u64 {
        let response = self
            .admin(Method::POST, &format!("/accounts/demo/groups/{group_id}/members"))
            .header("content-type", "application/json")
            .body(json!({ "members": user_ids }).to_string())
            .send()
            .await
            .expect("request");
        let body = expect_json(response, StatusCode::OK, "add admin members").await;
        body["added"].as_u64().expect("added")
    }
}

/// The JSON body of `response`, asserting its status (`what` names the request).
pub async fn expect_json(response: Response, status: StatusCode, what: &str) -> Value {
    let actual = response.status();
    let json: Value = response.json().await.expect("json body");
    assert_eq!(actual, status, "{what} failed: {json}");
    json
}

/// The status `token` gets from `base` (a SCIM base URL; a cheap authenticated request).
pub async fn status_as(client: &reqwest::Client, base: &str, token: &str) -> StatusCode {
    client
        .get(format!("{base}/Users?count=0"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
        .status()
}

/// Poll `base` until `token` is refused, as another process must within a second of a
/// token change (docs/account-center.md); fails when a request sent more than a second
/// after `changed` still gets in (a slow answer to an earlier request does not count).
pub async fn refused_within_a_second(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    changed: std::time::Instant,
) {
    loop {
        let sent = std::time::Instant::now();
        if status_as(client, base, token).await == StatusCode::UNAUTHORIZED {
            return;
        }
        assert!(
            sent.duration_since(changed) < std::time::Duration::from_secs(1),
            "the token is still accepted a second after it was changed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Send these requests at once (each on its own task) and return their statuses.
pub async fn concurrently(requests: Vec<RequestBuilder>) -> Vec<StatusCode> {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|request| tokio::spawn(async move { request.send().await.map(|r| r.status()) }))
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("join").expect("request"));
    }
    statuses
}

/// A resource's `id`.
pub fn id_of(resource: &Value) -> String {
    resource["id"].as_str().expect("id").to_owned()
}

/// A PatchOp request body.
pub fn patch_body(operations: Value) -> Value {
    json!({"schemas": [PATCH_SCHEMA], "Operations": operations})
}

/// Okta's group push create body.
pub fn group_body(display_name: &str) -> Value {
    group_with(display_name, &[] as &[&str])
}

/// A group create body with these members.
pub fn group_with<S: AsRef<str>>(display_name: &str, member_ids: &[S]) -> Value {
    json!({"schemas": [GROUP_SCHEMA], "displayName": display_name, "members": member_values(member_ids)})
}

/// `{"value": id}` for each id: the member list shape both IdPs send.
pub fn member_values<S: AsRef<str>>(ids: &[S]) -> Value {
    Value::Array(ids.iter().map(|id| json!({"value": id.as_ref()})).collect())
}

/// The ids in a resource's `members` (or a user's `groups`), sorted.
pub fn ids_of(values: &Value) -> Vec<String> {
    let mut ids: Vec<String> = values
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|m| m["value"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// Sorted copy of ids.
pub fn sorted(ids: &[&String]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|s| (*s).clone()).collect();
    ids.sort();
    ids
}

/// A typical IdP create body.
pub fn user_body(user_name: &str) -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "userName": user_name,
        "externalId": format!("ext-{user_name}"),
        "active": true,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"value": user_name, "type": "work", "primary": true}],
    })
}

/// Assert an RFC 7644 §3.12 error body: status as a string, optional scimType.
pub async fn assert_scim_error(response: Response, status: StatusCode, scim_type: Option<&str>) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/scim+json")
    );
    let body: Value = response.json().await.expect("error body");
    assert_eq!(body["schemas"], json!([ERROR_SCHEMA]), "{body}");
    assert_eq!(body["status"], json!(status.as_u16().to_string()), "{body}");
    assert_eq!(body["scimType"].as_str(), scim_type, "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
    body
}

/// Generates, for each listed `async fn name(backend: Backend)`, one test per backend:
/// `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::helpers::postgres_available().await {
                        super::$name($crate::helpers::Backend::Postgres).await
                    }
                }
            )*
        }
    };
}
