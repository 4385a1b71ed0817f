//! Snapshots: an account's whole state — instances, pools, SCIM configurations (token
//! hashes only when asked), users, groups with their members' origins, licenses and
//! their states — as one JSON document, and back. Restoring a snapshot and exporting
//! again gives the same bytes: rows are ordered by key, members by name, and JSON
//! documents are kept as JSON.
//!
//! Ids are kept, so the ids a connector stored stay valid after a restore; a snapshot
//! therefore restores into the account it came from (or one of the same name in another
//! database). The activity journal is not part of it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The document's `format` member.
pub const FORMAT: &str = "linkedin-scim-snapshot/1";

/// How a column is stored and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    Int,
    Bool,
    /// JSON in the database (jsonb on Postgres), JSON in the snapshot.
    Json,
}

/// A table of the account's state, with the columns a snapshot keeps (never
/// `account_id`, which is the account restored into).
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, ColumnType)],
    /// Key order of the rows (stable across a restore).
    pub order_by: &'static str,
}

use ColumnType::{Bool, Int, Json, Text};

/// Columns a snapshot exported by an earlier server may carry, which a restore ignores:
/// `license_pools.promote_waiting` (every pool queues since migration 0080).
pub const RETIRED: &[(&str, &str)] = &[("license_pools", "promote_waiting")];

/// In the order they are restored (references first).
pub const TABLES: &[Table] = &[
    Table {
        name: "instances",
        columns: &[
            ("id", Text),
            ("product", Text),
            ("name", Text),
            ("created_at", Int),
            ("updated_at", Int),
        ],
        order_by: "id",
    },
    Table {
        name: "license_pools",
        columns: &[
            ("id", Text),
            ("instance_id", Text),
            ("license_type", Text),
            ("seats", Int),
            ("used", Int),
            ("created_at", Int),
            ("updated_at", Int),
        ],
        order_by: "id",
    },
    Table {
        name: "scim_configurations",
        columns: &[
            ("id", Text),
            ("name", Text),
            ("client_profile", Text),
            ("patch_response", Text),
            ("auto_assign_pool_id", Text),
            ("license_rules", Json),
            (TOKEN_HASH, Text),
            ("token_expires_at", Int),
            ("token_created_at", Int),
            ("token_source", Text),
            ("rate_limit_per_minute", Int),
            ("rate_limit_burst", Int),
            ("created_at", Int),
            ("updated_at", Int),
        ],
        order_by: "id",
    },
    Table {
        name: "users",
        columns: &[
            ("id", Text),
            ("user_name", Text),
            ("user_name_key", Text),
            ("external_id", Text),
            ("external_id_set_by", Text),
            ("display_name_key", Text),
            ("active", Bool),
            ("doc", Json),
            ("products", Json),
            ("version", Int),
            ("created_at", Int),
            ("updated_at", Int),
        ],
        order_by: "id",
    },
    Table {
        name: "user_emails",
        columns: &[("user_id", Text), ("value_key", Text)],
        order_by: "user_id, value_key",
    },
    Table {
        name: "groups",
        columns: &[
            ("id", Text),
            ("display_name", Text),
            ("display_name_key", Text),
            ("external_id", Text),
            ("doc", Json),
            ("version", Int),
            ("created_at", Int),
            ("updated_at", Int),
        ],
        order_by: "id",
    },
    Table {
        name: "group_members",
        columns: &[
            ("group_id", Text),
            ("member_id", Text),
            ("origin", Text),
            ("created_at", Int),
        ],
        order_by: "group_id, member_id",
    },
    Table {
        // First come, first served: restored in waiting order, which renumbers the
        // insertion sequence the same way (so it is not kept itself).
        name: "license_assignments",
        columns: &[
            ("id", Text),
            ("user_id", Text),
            ("pool_id", Text),
            ("product", Text),
            ("state", Text),
            ("requested_at", Int),
            ("assigned_at", Int),
            ("activated_at", Int),
        ],
        order_by: "requested_at, requested_seq",
    },
];

/// The configuration column a snapshot leaves out unless asked.
pub const TOKEN_HASH: &str = "token_hash";

/// A row: column name → value.
pub type Row = BTreeMap<String, Value>;

/// The snapshot document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub format: String,
    /// The account's name when exported (informational) and fidelity settings.
    pub account: SnapshotAccount,
    /// Table name → rows.
    pub tables: BTreeMap<String, Vec<Row>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotAccount {
    pub name: String,
    pub fidelity: Value,
}

impl Snapshot {
    /// The document as pretty JSON with a final newline (what export writes).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        Ok(text)
    }

    /// The document checked for a restore (the error says what is wrong), its rows
    /// brought up to date: a snapshot exported before per-product status (migration
    /// 0100) has users without `products`; each licensed product then starts from the
    /// user's status, as the migration did. One from before license rules (0110) has
    /// configurations without `license_rules`: none.
    pub fn validated(mut self) -> Result<Snapshot, String> {
        self.validate()?;
        for configuration in self.tables.get_mut("scim_configurations").into_iter().flatten() {
            configuration
                .entry("license_rules".to_owned())
                .or_insert_with(|| Value::Array(Vec::new()));
        }
        let licensed: Vec<(String, String)> = self
            .tables
            .get("license_assignments")
            .into_iter()
            .flatten()
            .filter_map(|row| {
                let text = |c: &str| row.get(c).and_then(Value::as_str).map(str::to_owned);
                Some((text("user_id")?, text("product")?))
            })
            .collect();
        for user in self.tables.get_mut("users").into_iter().flatten() {
            if user.contains_key("products") {
                continue;
            }
            let id = user.get("id").and_then(Value::as_str).unwrap_or_default();
            let active = user.get("active").and_then(Value::as_bool).unwrap_or(true);
            let products: serde_json::Map<String, Value> = licensed
                .iter()
                .filter(|(user_id, _)| user_id == id)
                .map(|(_, product)| (product.clone(), Value::Bool(active)))
                .collect();
            user.insert("products".to_owned(), Value::Object(products));
        }
        Ok(self)
    }

    fn validate(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!("format {:?}: this server reads {FORMAT:?}", self.format));
        }
        for name in self.tables.keys() {
            if !TABLES.iter().any(|t| t.name == name) {
                return Err(format!("tables: unknown table {name:?}"));
            }
        }
        for table in TABLES {
            for row in self.tables.get(table.name).into_iter().flatten() {
                for column in row.keys() {
                    let retired = RETIRED.contains(&(table.name, column.as_str()));
                    if !retired && !table.columns.iter().any(|(c, _)| c == column) {
                        return Err(format!("tables.{}: unknown column {column:?}", table.name));
                    }
                }
            }
        }
        Ok(())
    }
}
