//! The CSV exports: LinkedIn's "manual export" of users and their licenses, one row per
//! license (a user without one gets one row with empty license columns), and the
//! activity log. Both write through [`SafeCsv`], so no cell an IdP wrote (a userName, a
//! displayName, a request id) opens in a spreadsheet as a formula.

use std::borrow::Cow;

use super::UserView;
use crate::activity::ActivityRecord;

/// A CSV writer whose every cell is neutralised as OWASP recommends against CSV
/// injection: a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
/// leading `'`, so Excel, LibreOffice and Google Sheets show it as text instead of
/// running it (`=HYPERLINK(…)`, `+cmd|…`). The csv crate quotes what needs quoting.
struct SafeCsv(csv::Writer<Vec<u8>>);

impl SafeCsv {
    fn new() -> SafeCsv {
        SafeCsv(csv::Writer::from_writer(Vec::new()))
    }

    fn row<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) -> Result<(), csv::Error> {
        self.0
            .write_record(cells.into_iter().map(|cell| neutralised(cell).into_owned()))
    }

    fn finish(self) -> Result<String, csv::Error> {
        let bytes = self.0.into_inner().map_err(|e| e.into_error())?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// The cell as text a spreadsheet will not evaluate.
fn neutralised(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

pub const USERS_CSV_HEADER: [&str; 9] = [
    "id",
    "userName",
    "externalId",
    "displayName",
    "active",
    "product",
    "instance",
    "licenseType",
    "licenseState",
];

pub fn users_csv(users: &[UserView]) -> Result<String, csv::Error> {
    let mut out = SafeCsv::new();
    out.row(USERS_CSV_HEADER)?;
    for user in users {
        let base = [
            user.id.as_str(),
            user.user_name.as_str(),
            user.external_id.as_deref().unwrap_or_default(),
            user.display_name.as_deref().unwrap_or_default(),
            if user.active { "true" } else { "false" },
        ];
        if user.licenses.is_empty() {
            out.row(base.iter().copied().chain(["", "", "", ""]))?;
        }
        for license in &user.licenses {
            out.row(base.iter().copied().chain([
                license.product.as_str(),
                license.instance.as_str(),
                license.license_type.as_str(),
                license.state.as_str(),
            ]))?;
        }
    }
    out.finish()
}

pub const ACTIVITY_CSV_HEADER: [&str; 12] = [
    "id",
    "time",
    "method",
    "path",
    "status",
    "latency_ms",
    "resource_type",
    "resource_id",
    "outcome",
    "tolerances",
    "detail",
    "request_id",
];

pub fn activity_csv(records: &[ActivityRecord]) -> Result<String, csv::Error> {
    let mut out = SafeCsv::new();
    out.row(ACTIVITY_CSV_HEADER)?;
    for r in records {
        let tolerances: Vec<&str> = r.tolerances.iter().map(|t| t.description()).collect();
        let cells = [
            r.id.map(|i| i.to_string()).unwrap_or_default(),
            crate::clock::rfc3339(r.at),
            r.method.clone(),
            r.path.clone(),
            r.status.to_string(),
            format!("{:.3}", r.latency_us as f64 / 1000.0),
            r.resource_type.clone().unwrap_or_default(),
            r.resource_id.clone().unwrap_or_default(),
            r.outcome.clone().unwrap_or_default(),
            tolerances.join("; "),
            r.detail.clone().unwrap_or_default(),
            r.request_id.clone().unwrap_or_default(),
        ];
        out.row(cells.iter().map(String::as_str))?;
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::licensing::{License, LicenseState};

    #[test]
    fn cells_that_a_spreadsheet_would_run_are_text() {
        for formula in [
            "=HYPERLINK(\"http://x\")",
            "+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(neutralised(formula), format!("'{formula}"));
        }
        for plain in ["ann@acme.com", "/scim/v2/Users", "12.5", "", "a=b"] {
            assert_eq!(neutralised(plain), plain);
        }
    }

    #[test]
    fn one_row_per_license_and_one_for_a_user_without() {
        let license = License {
            product: "sales_navigator".into(),
            instance: "Sales".into(),
            license_type: "Advanced Plus".into(),
            state: LicenseState::Assigned,
            assigned_at: None,
            activated_at: None,
        };
        let users = [
            UserView {
                id: "u1".into(),
                user_name: "ann@acme.com".into(),
                external_id: Some("42".into()),
                display_name: None,
                active: true,
                products: Default::default(),
                licenses: vec![license],
                queue_positions: Default::default(),
            },
            UserView {
                id: "u2".into(),
                user_name: "bob, jr@acme.com".into(),
                external_id: None,
                display_name: None,
                active: false,
                products: Default::default(),
                licenses: Vec::new(),
                queue_positions: Default::default(),
            },
        ];
        let csv = users_csv(&users).expect("csv");
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[1],
            "u1,ann@acme.com,42,,true,sales_navigator,Sales,Advanced Plus,assigned"
        );
        assert_eq!(lines[2], "u2,\"bob, jr@acme.com\",,,false,,,,");
    }
}
