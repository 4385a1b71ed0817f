//! The Account Center CLI: the real binary against the running server's database, the
//! way a script uses it while the server runs.

use reqwest::{Method, StatusCode};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, expect_json, refused_within_a_second, user_body};

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// The binary with only `PATH` and the database URL `url`, run with `args`.
async fn cli_on(url: &str, args: &[&str]) -> Run {
    let output = crate::helpers::process::ServerProcess::isolated()
        .args(args)
        .env("LINKEDIN_SCIM_DATABASE_URL", url)
        .output()
        .await
        .expect("run the binary");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

async fn cli(app: &TestApp, args: &[&str]) -> Run {
    cli_on(&app.database_url, args).await
}

async fn ok(app: &TestApp, args: &[&str]) -> String {
    let run = cli(app, args).await;
    assert_eq!(run.code, Some(0), "{args:?}: {}", run.stderr);
    run.stdout
}

async fn the_cli_sets_up_an_account_and_its_token_while_the_server_runs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    ok(&app, &["account", "create", "acme"]).await;
    let again = cli(&app, &["account", "create", "acme"]).await;
    assert_eq!(again.code, Some(4), "a taken name is refused");
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    let bad = cli(&app, &["account", "create", "a b"]).await;
    assert_eq!(bad.code, Some(2));
    assert!(bad.stderr.contains("name:"), "{}", bad.stderr);
    assert!(ok(&app, &["account", "list"]).await.lines().any(|l| l == "acme"));

    ok(
        &app,
        &[
            "instance",
            "add",
            "-a",
            "acme",
            "--product",
            "sales_navigator",
            "Acme SN",
        ],
    )
    .await;
    ok(
        &app,
        &[
            "pool",
            "add",
            "-a",
            "acme",
            "--instance",
            "Acme SN",
            "--license-type",
            "Advanced Plus",
            "--seats",
            "3",
        ],
    )
    .await;
    let pools = ok(&app, &["pool", "list", "-a", "acme"]).await;
    assert!(pools.contains("Acme SN\tAdvanced Plus\t3\t0\t0\t0\t3"), "{pools}");

    // Clap refuses auto-assign without its instance and license type (usage error: 2).
    let half = cli(
        &app,
        &["config", "create", "-a", "acme", "Entra ID", "--auto-assign"],
    )
    .await;
    assert_eq!(half.code, Some(2));
    let wrong = cli(
        &app,
        &[
            "config",
            "create",
            "-a",
            "acme",
            "Entra ID",
            "--auto-assign",
            "--instance",
            "Acme SN",
            "--license-type",
            "Core",
        ],
    )
    .await;
    assert_eq!(wrong.code, Some(2));
    assert!(wrong.stderr.contains("licenseType"), "{}", wrong.stderr);
    let created = cli(
        &app,
        &[
            "config",
            "create",
            "-a",
            "acme",
            "Entra ID",
            "--auto-assign",
            "--instance",
            "Acme SN",
            "--license-type",
            "Advanced Plus",
            "--client-profile",
            "entra",
        ],
    )
    .await;
    assert_eq!(created.code, Some(0), "{}", created.stderr);
    assert!(created.stderr.contains("shown only once"), "{}", created.stderr);
    let token = created.stdout.trim().to_owned();

    // The server takes the token at once and assigns a seat.
    let user = app
        .send_json_as(&token, Method::POST, "/Users", &user_body("ann@acme.com"))
        .await;
    let user = expect_json(user, StatusCode::CREATED, "user").await;
    assert_eq!(
        user["urn:linkedin-scim:schemas:extension:license:2.0:User"]["licenses"][0]["state"],
        "assigned"
    );
    let csv = ok(&app, &["users", "export", "-a", "acme", "--csv"]).await;
    assert!(
        csv.contains("ann@acme.com,ext-ann@acme.com,,true,sales_navigator,Acme SN,Advanced Plus,assigned"),
        "{csv}"
    );
    let mut tail = String::new();
    for _ in 0..50 {
        tail = ok(&app, &["activity", "tail", "-a", "acme"]).await;
        if tail.contains("POST /scim/v2/Users\t201") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        tail.contains("POST /scim/v2/Users\t201\tcreated; license assigned"),
        "{tail}"
    );
    let listed = ok(&app, &["config", "list", "-a", "acme"]).await;
    assert!(listed.contains("Entra ID\tAcme SN / Advanced Plus"), "{listed}");
    assert!(!listed.contains(&token), "the token is never printed again");

    // Refresh: the old token gets 401 (the CLI is another process: within a second,
    // docs/account-center.md), the new one works.
    let refreshed = ok(&app, &["token", "refresh", "-a", "acme", "Entra ID"]).await;
    let changed = std::time::Instant::now();
    let refreshed = refreshed.trim();
    assert_ne!(refreshed, token);
    let client = reqwest::Client::new();
    refused_within_a_second(&client, &app.base(), &token, changed).await;
    let probe = "/Users?filter=userName%20eq%20%22ann%40acme.com%22";
    let new = app
        .scim_as(refreshed, Method::GET, probe)
        .send()
        .await
        .expect("request");
    assert_eq!(new.status(), StatusCode::OK);

    let missing = cli(&app, &["token", "refresh", "-a", "nobody", "Entra ID"]).await;
    assert_eq!(missing.code, Some(3));
    assert!(
        missing.stderr.contains("no account \"nobody\""),
        "{}",
        missing.stderr
    );
    ok(&app, &["config", "delete", "-a", "acme", "Entra ID"]).await;
    refused_within_a_second(&client, &app.base(), refreshed, std::time::Instant::now()).await;
}

async fn the_cli_says_when_the_database_is_unreachable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_linkedin-scim"))
        .args(["account", "list"])
        .env_clear()
        .env("LINKEDIN_SCIM_DATABASE_URL", "mysql://nowhere/db")
        .env("LINKEDIN_SCIM_CONFIG", "/nonexistent/linkedin-scim.toml")
        .output()
        .await
        .expect("run the binary");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unsupported database URL"));
    // The running server is untouched.
    assert!(ok(&app, &["account", "list"]).await.contains("demo"));
}

async fn the_cli_moves_a_running_servers_manual_clock(backend: Backend) {
    let start = chrono::DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z").expect("valid");
    let clock = std::sync::Arc::new(linkedin_scim::clock::ManualClock::new(start.to_utc()));
    let app = TestApp::builder(backend).clock(clock).spawn().await;
    let remote = [
        "--server",
        app.address.as_str(),
        "--admin-token",
        app.admin_token.as_str(),
    ];
    let advance = [&["clock", "advance", "1h 30m"][..], &remote].concat();
    assert_eq!(ok(&app, &advance).await, "2027-01-01T01:30:00.000000Z\tmanual\n");
    let set = [&["clock", "set", "2028-02-29T12:00:00Z"][..], &remote].concat();
    ok(&app, &set).await;
    let user = app.create_user(&user_body("leap@example.com")).await;
    assert_eq!(user["meta"]["created"], "2028-02-29T12:00:00.000000Z");
    // Without the admin token the command says what it needs.
    let denied = cli(&app, &["clock", "show", "--server", app.address.as_str()]).await;
    assert_eq!(denied.code, Some(2));
    assert!(denied.stderr.contains("--admin-token"), "{}", denied.stderr);
}

async fn the_cli_exports_the_journal_and_asserts_on_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user(&user_body("alice@example.com")).await;
    let remote = [
        "--server",
        app.address.as_str(),
        "--admin-token",
        app.admin_token.as_str(),
    ];
    let export = [
        &["journal", "export", "-a", "demo", "--method", "POST"][..],
        &remote,
    ]
    .concat();
    let lines = ok(&app, &export).await;
    let records: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(records.len(), 1, "{lines}");
    assert_eq!(records[0]["path"], "/scim/v2/Users");
    let held = [
        &[
            "journal",
            "expect",
            "-a",
            "demo",
            r#"{"method":"POST","bodyContains":"alice"}"#,
        ][..],
        &remote,
    ]
    .concat();
    assert!(ok(&app, &held).await.contains(r#""satisfied":true"#));
    let failed = [
        &["journal", "expect", "-a", "demo", r#"{"method":"DELETE"}"#][..],
        &remote,
    ]
    .concat();
    let run = cli(&app, &failed).await;
    assert_eq!(run.code, Some(5), "{}", run.stderr);
    assert!(
        run.stderr.contains("method is POST, not DELETE"),
        "{}",
        run.stderr
    );
}

async fn the_cli_sets_and_clears_faults(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let remote = [
        "--server",
        app.address.as_str(),
        "--admin-token",
        app.admin_token.as_str(),
    ];
    let add = [
        &[
            "fault",
            "add",
            "-a",
            "demo",
            r#"{"configuration":"Demo","kind":"error","status":503}"#,
        ][..],
        &remote,
    ]
    .concat();
    let fault: serde_json::Value = serde_json::from_str(&ok(&app, &add).await).expect("json");
    assert_eq!(fault["id"], 1);
    assert_eq!(
        app.get("/Users?count=1").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let list = [&["fault", "list", "-a", "demo"][..], &remote].concat();
    assert!(ok(&app, &list).await.contains(r#""status":503"#));
    let clear = [&["fault", "clear", "-a", "demo", "1"][..], &remote].concat();
    ok(&app, &clear).await;
    assert_eq!(app.get("/Users?count=1").await.status(), StatusCode::OK);
    let again = cli(&app, &clear).await;
    assert_eq!(again.code, Some(3), "{}", again.stderr);
}

async fn snapshots_export_restore_and_seed_an_account(backend: Backend) {
    use crate::helpers::acme::{SALESNAV, acme, seed};
    let app = acme(backend, "rfc").await;
    let a = app.create_user_as(SALESNAV, &user_body("a@acme.com")).await;
    let remote = [
        "--server",
        app.address.as_str(),
        "--admin-token",
        app.admin_token.as_str(),
    ];
    let export = [
        &["snapshot", "export", "-a", "acme", "--token-hashes"][..],
        &remote,
    ]
    .concat();
    let snapshot = ok(&app, &export).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("acme.json");
    std::fs::write(&file, &snapshot).expect("write");

    // A new server whose seed starts acme from the snapshot: same users, same tokens.
    let extra = format!("snapshot = {:?}", file.display().to_string());
    let seeded = TestApp::builder(backend).seed(&seed("rfc", &extra)).spawn().await;
    let id = a["id"].as_str().expect("id");
    assert_eq!(
        seeded.get_as(SALESNAV, &format!("/Users/{id}")).await.status(),
        StatusCode::OK
    );

    // Restoring by CLI puts the account back as it was.
    seeded.create_user_as(SALESNAV, &user_body("b@acme.com")).await;
    let remote = [
        "--server",
        seeded.address.as_str(),
        "--admin-token",
        seeded.admin_token.as_str(),
    ];
    let path = file.display().to_string();
    let restore = [&["snapshot", "restore", "-a", "acme", path.as_str()][..], &remote].concat();
    ok(&seeded, &restore).await;
    let again = [
        &["snapshot", "export", "-a", "acme", "--token-hashes"][..],
        &remote,
    ]
    .concat();
    assert_eq!(ok(&seeded, &again).await, snapshot);
}

/// `pool list` names who is next in line, `pool queue` every waiting user's place.
async fn the_cli_shows_the_queue(backend: Backend) {
    use crate::helpers::acme::{SALESNAV, acme};
    let app = acme(backend, "rfc").await;
    for name in ["a", "b", "c", "d"] {
        app.create_user_as(SALESNAV, &user_body(&format!("{name}@acme.com")))
            .await;
    }
    let pools = ok(&app, &["pool", "list", "-a", "acme"]).await;
    assert!(
        pools.contains("Acme Sales Navigator\tAdvanced Plus\t2\t2\t0\t2\t0\tc@acme.com"),
        "{pools}"
    );
    let rules = ok(
        &app,
        &[
            "config",
            "rules",
            "-a",
            "acme",
            "Sales Navigator",
            "--rule",
            "TeamLink Extend=title sw \"Partner\"",
        ],
    )
    .await;
    assert_eq!(rules, "1\tTeamLink Extend\ttitle sw \"Partner\"\n");
    let bad = cli(
        &app,
        &[
            "config",
            "rules",
            "-a",
            "acme",
            "Sales Navigator",
            "--rule",
            "Core=title pr",
        ],
    )
    .await;
    assert_eq!(bad.code, Some(2), "invalid input, as elsewhere");
    assert!(bad.stderr.contains("no license type \"Core\""), "{}", bad.stderr);
    let queue = ok(&app, &["pool", "queue", "-a", "acme"]).await;
    let rows: Vec<Vec<&str>> = queue
        .lines()
        .skip(1)
        .map(|l| l.split('\t').take(4).collect())
        .collect();
    assert_eq!(
        rows,
        [
            ["Acme Sales Navigator", "Advanced Plus", "1", "c@acme.com"],
            ["Acme Sales Navigator", "Advanced Plus", "2", "d@acme.com"],
        ],
        "{queue}"
    );
}

async fn health_asks_the_running_servers_readyz(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(
        ok(&app, &["health", "--server", app.address.as_str()]).await,
        "ready\n"
    );
    // Not the readiness endpoint's 200: not healthy.
    let elsewhere = format!("{}/no-such-mount", app.address);
    let run = cli(&app, &["health", "--server", &elsewhere]).await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("/no-such-mount/readyz"), "{}", run.stderr);
    // Nobody listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let run = cli(&app, &["health", "--server", &format!("http://127.0.0.1:{port}")]).await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("cannot reach the server"), "{}", run.stderr);
}

/// A command on a database that is not there (a mistyped SQLite path, a Postgres
/// database the server never set up) fails and creates nothing, naming the database
/// with its password redacted; `--create` creates it; `migrate` still does.
async fn the_cli_never_creates_a_database_by_mistake(backend: Backend) {
    let database = crate::helpers::TestDatabase::create(backend).await;
    let url = match backend {
        Backend::Sqlite => database.url.replace(".db", "/typo/linkedin-scim.db"),
        // Postgres here trusts local connections: the password only has to stay unprinted.
        Backend::Postgres => database.url.replacen("postgres@", "postgres:s3cret-pw@", 1),
    };
    let file = url.strip_prefix("sqlite://").map(std::path::PathBuf::from);
    for args in [&["account", "list"][..], &["account", "create", "acme"]] {
        let refused = cli_on(&url, args).await;
        assert_eq!(refused.code, Some(1), "{args:?}: {}", refused.stderr);
        assert!(
            refused.stderr.contains("no linkedin-scim database at"),
            "{}",
            refused.stderr
        );
        assert!(refused.stderr.contains("--create"), "{}", refused.stderr);
        assert!(!refused.stderr.contains("s3cret-pw"), "{}", refused.stderr);
        assert_eq!(refused.stdout, "");
    }
    if let Some(file) = &file {
        assert!(!file.exists(), "no file was created");
        assert!(!file.parent().expect("dir").exists(), "no directory either");
        assert!(
            cli_on(&url, &["account", "list"])
                .await
                .stderr
                .contains(&file.display().to_string())
        );
    } else {
        let stderr = cli_on(&url, &["account", "list"]).await.stderr;
        assert!(
            stderr.contains("postgres:***@"),
            "redacted as serve does: {stderr}"
        );
    }
    // Still nothing there: the refusals created no tables.
    let again = cli_on(&url, &["account", "list"]).await;
    assert_eq!(again.code, Some(1), "{}", again.stderr);

    let created = cli_on(&url, &["--create", "account", "create", "acme"]).await;
    assert_eq!(created.code, Some(0), "{}", created.stderr);
    assert!(
        created.stderr.contains("database: "),
        "names the database: {}",
        created.stderr
    );
    assert!(!created.stderr.contains("s3cret-pw"), "{}", created.stderr);
    let listed = cli_on(&url, &["account", "list"]).await;
    assert_eq!(listed.code, Some(0), "{}", listed.stderr);
    assert!(listed.stdout.contains("acme"), "{}", listed.stdout);
    if let Some(dir) = file.as_ref().and_then(|f| f.parent()?.parent()) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

backend_tests!(
    the_cli_shows_the_queue,
    health_asks_the_running_servers_readyz,
    the_cli_never_creates_a_database_by_mistake,
    snapshots_export_restore_and_seed_an_account,
    the_cli_sets_and_clears_faults,
    the_cli_exports_the_journal_and_asserts_on_it,
    the_cli_sets_up_an_account_and_its_token_while_the_server_runs,
    the_cli_says_when_the_database_is_unreachable,
    the_cli_moves_a_running_servers_manual_clock,
);
