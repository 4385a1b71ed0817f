//! What a SCIM write means, decided without HTTP or a database: the document a create
//! keeps, the update a PUT or PATCH makes of the stored one, what the activity log says
//! it did, the seat it asks for, and the warning when two products' IdPs disagree on a
//! user's externalId. The HTTP layer parses and renders around these; the store
//! executes them.

use scim::catalog::{ENTERPRISE_USER, group_schema, user_schema};
use scim::error::ProtocolError;
use scim::filter::{CompareOp, Filter};
use scim::normalize::apply_replace;
use scim::patch::DeferredOp;
use scim::schema::AttrPath;
use serde_json::Value;

use crate::accounts::Principal;
use crate::ids::UserId;
use crate::licensing::SeatRequest;
use crate::licensing::status::doc_active;
use crate::membership::{MemberOp, member_ids};

/// The attribute of a group kept in the membership table, never in its document.
pub const MEMBERS: &str = "members";

/// A user as a create keeps it: active unless the client says otherwise (RFC 7643
/// leaves a missing `active` to the provider; Okta's SPEC test creates without it and
/// expects `active: true`).
pub fn provisioned_user(mut doc: Value) -> Value {
    if let Some(map) = doc.as_object_mut() {
        map.entry("active").or_insert(Value::Bool(true));
    }
    without_derived_manager(doc)
}

/// The document without the manager's `$ref` and `displayName`: the server derives both
/// from `manager.value` when it renders (RFC 7643 §4.3), so an IdP echoing them back
/// changes nothing.
fn without_derived_manager(mut doc: Value) -> Value {
    if let Some(manager) = doc
        .get_mut(ENTERPRISE_USER)
        .and_then(|e| e.get_mut("manager"))
        .and_then(Value::as_object_mut)
    {
        manager.remove("$ref");
        manager.remove("displayName");
    }
    doc
}

/// The document a PUT makes of the stored user (mutability honoured).
pub fn replaced_user(current: &Value, incoming: &Value) -> Result<Option<Value>, ProtocolError> {
    let replaced = without_derived_manager(apply_replace(current, incoming.clone(), user_schema())?);
    // A PUT that changes nothing keeps the version and lastModified (RFC 7644 §3.14:
    // the ETag changes only with the resource).
    Ok((replaced != *current).then_some(replaced))
}

/// `id eq "a" or id eq "b" or …` for these ids (a balanced tree: a page of managers
/// stays shallow), or `None` for none. A lookup of known users by id.
pub fn any_id(ids: &[String]) -> Option<Filter> {
    match ids {
        [] => None,
        [id] => Some(Filter::compare(AttrPath::new("id"), CompareOp::Eq, id.as_str())),
        _ => {
            let (left, right) = ids.split_at(ids.len() / 2);
            Some(Filter::or(any_id(left)?, any_id(right)?))
        }
    }
}

/// The document a PATCH made, when it changed anything.
pub fn patched_user(current: &Value, patched: Value) -> Option<Value> {
    let patched = without_derived_manager(patched);
    (patched != *current).then_some(patched)
}

/// What the activity log says a user write did: "disabled" / "reactivated" when it
/// flips `active`, else "updated".
pub fn user_write_outcome(before: &Value, after: &Value) -> &'static str {
    match (doc_active(before), doc_active(after)) {
        (true, false) => "disabled",
        (false, true) => "reactivated",
        _ => "updated",
    }
}

/// The seat a write through this configuration asks for: its auto-assigned pool, if
/// any, and what the account does when that pool is full.
pub fn seat_request(principal: &Principal) -> SeatRequest {
    let auto_assign = principal.configuration.auto_assign.as_ref();
    SeatRequest {
        product: auto_assign.map(|a| a.product.clone()),
        pool_id: auto_assign.map(|a| a.pool_id.clone()),
        rules: auto_assign.map_or_else(|| std::sync::Arc::from([]), |a| a.rules.clone()),
        when_full: principal.account.fidelity.when_pool_full,
    }
}

/// A user document's externalId.
pub fn external_id(doc: &Value) -> Option<&str> {
    doc.get("externalId").and_then(Value::as_str)
}

/// The activity log's warning when `writer` changed an externalId that configuration
/// `other` had set: the guides require one identity across products, so two IdPs
/// disagreeing on it is worth an admin's look (docs/fidelity.md, "Identifier clashes").
pub fn external_id_clash(before: &str, after: Option<&str>, writer: &str, other: &str) -> String {
    format!(
        "warning: externalId changed from {before:?} to {} by {writer:?}; configuration {other:?} had set it",
        after.map_or_else(|| "nothing".to_owned(), |v| format!("{v:?}")),
    )
}

/// What a group write changes: the document (`None`: unchanged) and the membership.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupUpdate {
    pub doc: Option<Value>,
    pub members: Vec<MemberOp>,
}

/// A normalized POST/PUT body split into the document the store keeps and the member
/// ids, which go to the membership table.
pub fn split_members(mut doc: Value) -> Result<(Value, Vec<UserId>), ProtocolError> {
    let members = match doc.as_object_mut().and_then(|map| map.remove(MEMBERS)) {
        Some(Value::Array(items)) => member_ids(&items)?,
        _ => Vec::new(),
    };
    Ok((doc, members))
}

/// The update a PUT makes of a group: the document and the `scim` members are replaced
/// (Okta's AIW push); `admin` members stay, as LinkedIn keeps members added directly in
/// LinkedIn.
pub fn replaced_group(current: &Value, incoming: &Value) -> Result<GroupUpdate, ProtocolError> {
    let (incoming, members) = split_members(incoming.clone())?;
    Ok(GroupUpdate {
        doc: Some(apply_replace(current, incoming, group_schema())?),
        members: vec![MemberOp::ReplaceScim(members)],
    })
}

/// The update a PATCH makes of a group: its document when changed, and the member
/// operations the PATCH engine handed back instead of applying.
pub fn patched_group(
    current: &Value,
    patched: Value,
    deferred: Vec<DeferredOp>,
) -> Result<GroupUpdate, ProtocolError> {
    Ok(GroupUpdate {
        doc: (patched != *current).then_some(patched),
        members: deferred
            .into_iter()
            .map(MemberOp::from_deferred)
            .collect::<Result<_, _>>()?,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_manager_keeps_only_its_value_and_any_id_is_a_shallow_lookup() {
        let sent = json!({"userName": "a", ENTERPRISE_USER: {"manager": {"value": "m", "$ref": "x", "displayName": "B"}}});
        assert_eq!(
            provisioned_user(sent.clone())[ENTERPRISE_USER],
            json!({"manager": {"value": "m"}})
        );
        let stored = replaced_user(&json!({}), &sent)
            .expect("replaces")
            .expect("changed");
        assert_eq!(stored[ENTERPRISE_USER], json!({"manager": {"value": "m"}}));
        assert_eq!(
            replaced_user(&stored, &sent).expect("replaces"),
            None,
            "an echo changes nothing"
        );
        let mut patched = stored.clone();
        patched[ENTERPRISE_USER]["manager"]["$ref"] = json!("https://elsewhere/Users/m");
        assert_eq!(patched_user(&stored, patched), None);
        assert_eq!(any_id(&[]), None);
        let ids: Vec<String> = (0..8).map(|i| i.to_string()).collect();
        let filter = any_id(&ids).expect("filter");
        assert!(crate::accounts::lookup::is_user_lookup(&filter));
        fn depth(f: &Filter) -> usize {
            match f {
                Filter::Or(a, b) => 1 + depth(a).max(depth(b)),
                _ => 0,
            }
        }
        assert_eq!(depth(&filter), 3, "{filter}");
    }

    #[test]
    fn a_created_user_is_active_unless_the_client_says_otherwise() {
        assert_eq!(provisioned_user(json!({"userName": "a"}))["active"], true);
        assert_eq!(
            provisioned_user(json!({"userName": "a", "active": false}))["active"],
            false
        );
    }

    #[test]
    fn a_write_that_flips_active_is_a_deactivation_or_a_reactivation() {
        let on = json!({"userName": "a", "active": true});
        let off = json!({"userName": "a", "active": false});
        let unsaid = json!({"userName": "a"});
        assert_eq!(user_write_outcome(&on, &off), "disabled");
        assert_eq!(user_write_outcome(&off, &unsaid), "reactivated");
        assert_eq!(user_write_outcome(&unsaid, &on), "updated");
        assert_eq!(user_write_outcome(&off, &off), "updated");
    }

    #[test]
    fn a_patch_that_changes_nothing_writes_nothing() {
        let doc = json!({"userName": "a"});
        assert_eq!(patched_user(&doc, doc.clone()), None);
        assert!(patched_user(&doc, json!({"userName": "b"})).is_some());
    }

    #[test]
    fn a_clash_names_both_configurations_and_both_values() {
        let warning = external_id_clash("e-1", Some("e-2"), "Okta", "Entra ID");
        assert_eq!(
            warning,
            r#"warning: externalId changed from "e-1" to "e-2" by "Okta"; configuration "Entra ID" had set it"#
        );
        assert!(external_id_clash("e-1", None, "Okta", "Entra ID").contains("to nothing"));
    }

    #[test]
    fn group_members_leave_the_document_for_the_membership_table() {
        let (doc, members) = split_members(json!({
            "displayName": "Sales",
            "members": [{"value": "u-1"}, {"value": "u-2"}]
        }))
        .expect("splits");
        assert_eq!(doc, json!({"displayName": "Sales"}));
        assert_eq!(members, vec![UserId::from("u-1"), UserId::from("u-2")]);
    }

    #[test]
    fn a_group_put_replaces_only_the_members_the_idp_wrote() {
        let update = replaced_group(
            &json!({"displayName": "Sales"}),
            &json!({"displayName": "Sales EMEA", "members": [{"value": "u-1"}]}),
        )
        .expect("replaces");
        let doc = update.doc.expect("a PUT always writes the document");
        assert_eq!(doc["displayName"], "Sales EMEA");
        assert!(doc.get("members").is_none(), "{doc}");
        assert_eq!(
            update.members,
            vec![MemberOp::ReplaceScim(vec![UserId::from("u-1")])]
        );
    }

    #[test]
    fn a_group_patch_of_members_only_leaves_the_document_alone() {
        let doc = json!({"displayName": "Sales"});
        let update = patched_group(&doc, doc.clone(), Vec::new()).expect("patches");
        assert_eq!(update, GroupUpdate::default());
    }
}
