//! The indexed columns of a user or group row, derived from its document in one place so
//! that they can never disagree with the JSON.

use serde_json::Value;

use crate::{StoreError, StoreResult, fold_case};
use domain::licensing::status::doc_active;

/// The indexed columns derived from a user document: computed in one place so that the
/// columns can never disagree with the JSON.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UserColumns {
    pub user_name: String,
    pub user_name_key: String,
    pub external_id: Option<String>,
    pub display_name_key: Option<String>,
    pub active: bool,
    pub email_keys: Vec<String>,
}

/// The indexed columns derived from a group document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GroupColumns {
    pub display_name: String,
    pub display_name_key: String,
    pub external_id: Option<String>,
}

impl GroupColumns {
    pub(crate) fn from_doc(doc: &Value) -> StoreResult<GroupColumns> {
        let text = |key: &str| doc.get(key).and_then(Value::as_str).map(str::to_owned);
        let display_name =
            text("displayName").ok_or_else(|| StoreError::Invalid("group without displayName".into()))?;
        if doc.get("members").is_some() {
            // Members live in their own table; a document carrying them is a bug upstream.
            return Err(StoreError::Invalid("group document with members".into()));
        }
        Ok(GroupColumns {
            display_name_key: fold_case(&display_name),
            display_name,
            external_id: text("externalId"),
        })
    }
}

impl UserColumns {
    pub(crate) fn from_doc(doc: &Value) -> StoreResult<UserColumns> {
        let text = |key: &str| doc.get(key).and_then(Value::as_str).map(str::to_owned);
        let user_name =
            text("userName").ok_or_else(|| StoreError::Invalid("user without userName".into()))?;
        let mut email_keys: Vec<String> = doc
            .get("emails")
            .and_then(Value::as_array)
            .map(|emails| {
                emails
                    .iter()
                    .filter_map(|e| e.get("value").and_then(Value::as_str))
                    .map(fold_case)
                    .collect()
            })
            .unwrap_or_default();
        email_keys.sort();
        email_keys.dedup();
        Ok(UserColumns {
            user_name_key: fold_case(&user_name),
            user_name,
            external_id: text("externalId"),
            display_name_key: text("displayName").as_deref().map(fold_case),
            // RFC 7643 leaves a missing `active` to the provider; a provisioned user is active.
            active: doc_active(doc),
            email_keys,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_columns_come_from_the_document() {
        let cols = UserColumns::from_doc(&json!({
            "userName": "Alice@Example.com",
            "externalId": "A1",
            "emails": [{"value": "Alice@Example.com"}, {"value": "alice@example.com"}, {"type": "x"}],
            "active": false
        }))
        .expect("columns");
        assert_eq!(cols.user_name_key, "alice@example.com");
        assert_eq!(cols.email_keys, vec!["alice@example.com".to_string()]);
        assert!(!cols.active);
        assert_eq!(cols.external_id.as_deref(), Some("A1"));
        assert!(UserColumns::from_doc(&json!({})).is_err());
    }

    #[test]
    fn group_columns_refuse_members_in_the_document() {
        let cols = GroupColumns::from_doc(&json!({"displayName": "Sales EMEA", "externalId": "e"}))
            .expect("columns");
        assert_eq!(cols.display_name_key, "sales emea");
        assert!(GroupColumns::from_doc(&json!({"displayName": "x", "members": []})).is_err());
        assert!(GroupColumns::from_doc(&json!({})).is_err());
    }
}
