//! LinkedIn's "manual export": users and their licenses as CSV, one row per license (a
//! user without one gets one row with empty license columns).

use super::UserView;

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
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(USERS_CSV_HEADER)?;
    for user in users {
        let base = [
            user.id.as_str(),
            user.user_name.as_str(),
            user.external_id.as_deref().unwrap_or_default(),
            user.display_name.as_deref().unwrap_or_default(),
            if user.active { "true" } else { "false" },
        ];
        if user.licenses.is_empty() {
            out.write_record(base.iter().copied().chain(["", "", "", ""]))?;
        }
        for license in &user.licenses {
            out.write_record(base.iter().copied().chain([
                license.product.as_str(),
                license.instance.as_str(),
                license.license_type.as_str(),
                license.state.as_str(),
            ]))?;
        }
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::licensing::{License, LicenseState};

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
