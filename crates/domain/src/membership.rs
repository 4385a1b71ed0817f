//! Group membership rules: where a member came from, the membership changes a SCIM
//! write asks for, and what an IdP's re-push of a member list changes. Pure: the store
//! carries the ops out inside the group's write.

use std::collections::{BTreeSet, HashSet};

use serde_json::Value;

use crate::ids::UserId;
use scim::case_insensitive::fold_case;
use scim::error::ProtocolError;
use scim::filter::{CompareOp, Filter};
use scim::patch::DeferredOp;

/// Where a group membership came from (stored as `scim` / `admin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum MemberOrigin {
    /// Written by an IdP over SCIM.
    Scim,
    /// Added in the Account Center (admin API). A SCIM replace of members keeps these:
    /// LinkedIn keeps members added directly in LinkedIn when an IdP re-pushes a group.
    Admin,
}

impl MemberOrigin {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<MemberOrigin> {
        match s {
            "scim" => Some(MemberOrigin::Scim),
            "admin" => Some(MemberOrigin::Admin),
            _ => None,
        }
    }
}

/// One change to a group's membership, carried out inside the group's write. Never needs
/// the member list: each op costs the same whatever the group's size.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberOp {
    /// Add these users as `scim` members; existing members are left as they are.
    Add(Vec<UserId>),
    /// Remove these members, whatever their origin: the IdP named them.
    Remove(Vec<UserId>),
    /// Remove the members matching this filter (paths relative to one member:
    /// `value`, `display`, `type`).
    RemoveWhere(Filter),
    /// Make the `scim` members exactly these users; `admin` members stay (PUT, PATCH
    /// `replace` of members, PATCH `remove` of all members).
    ReplaceScim(Vec<UserId>),
}

impl MemberOp {
    /// The users the operation names (none for a filtered removal).
    pub fn named(&self) -> &[UserId] {
        match self {
            MemberOp::Add(ids) | MemberOp::Remove(ids) | MemberOp::ReplaceScim(ids) => ids,
            MemberOp::RemoveWhere(_) => &[],
        }
    }

    /// The store's form of a PATCH operation on `members` (see `scim::patch`).
    /// `remove` of every member is a replace with none: like any SCIM replace it keeps the
    /// `admin` members. `members[value eq "u"]` becomes a removal by id (a primary-key
    /// delete); other filters are run against the membership table.
    pub fn from_deferred(op: DeferredOp) -> Result<MemberOp, ProtocolError> {
        Ok(match op {
            DeferredOp::Add(items) => MemberOp::Add(member_ids(&items)?),
            DeferredOp::Remove(items) => MemberOp::Remove(member_ids(&items)?),
            DeferredOp::RemoveAll => MemberOp::ReplaceScim(Vec::new()),
            DeferredOp::Replace(items) => MemberOp::ReplaceScim(member_ids(&items)?),
            DeferredOp::RemoveWhere(filter) => match &filter {
                Filter::Compare {
                    path,
                    op: CompareOp::Eq,
                    value: Value::String(id),
                } if path.urn.is_none() && path.sub.is_none() && path.name.eq_ignore_ascii_case("value") => {
                    // members.value is caseExact=false; ids are generated lower-case.
                    MemberOp::Remove(vec![UserId::new(fold_case(id))])
                }
                _ => MemberOp::RemoveWhere(filter),
            },
        })
    }
}

/// The user ids of `members` values (`{"value": id, …}`). Only users can be members
/// (LinkedIn groups hold people): a `type` other than `User` is `invalidValue`. Other
/// sub-attributes (`display`, `$ref`) are the server's to fill in and are ignored, also
/// when a `remove` lists them.
pub fn member_ids(items: &[Value]) -> Result<Vec<UserId>, ProtocolError> {
    items
        .iter()
        .map(|item| {
            let id = item
                .get("value")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty())
                .ok_or_else(|| {
                    ProtocolError::invalid_value("members: every member needs a \"value\" (a user id)")
                })?;
            match item.get("type").and_then(Value::as_str) {
                Some(t) if !t.eq_ignore_ascii_case("User") => Err(ProtocolError::invalid_value(format!(
                    "members: {id} has type {t:?}; groups hold users only (no nested groups)"
                ))),
                _ => Ok(UserId::from(id)),
            }
        })
        .collect()
}

/// What a [`MemberOp::ReplaceScim`] changes, given the group's current `scim` members.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScimReplace {
    /// Current `scim` members the new list leaves out, in the current order.
    pub remove: Vec<UserId>,
    /// Users of the new list that are not `scim` members yet, in id order, once each.
    pub add: Vec<UserId>,
}

/// Diff a replace against the current `scim` members. A replace carries the whole list,
/// so reading the current `scim` members is within its cost; the diff keeps unchanged
/// rows (and the group's version) as they are when Okta re-pushes the same list. An
/// `admin` member named in the list is in `add`: inserting it leaves its row as it is.
pub fn diff_scim_replace(current_scim: &[UserId], wanted: &[UserId]) -> ScimReplace {
    let wanted: BTreeSet<&UserId> = wanted.iter().collect();
    let remove = current_scim
        .iter()
        .filter(|id| !wanted.contains(id))
        .cloned()
        .collect();
    let current: HashSet<&UserId> = current_scim.iter().collect();
    let add = wanted
        .iter()
        .filter(|id| !current.contains(**id))
        .map(|id| (*id).clone())
        .collect();
    ScimReplace { remove, add }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ids(list: &[&str]) -> Vec<UserId> {
        list.iter().map(|s| UserId::from(*s)).collect()
    }

    #[test]
    fn deferred_member_ops_become_store_ops() {
        let filter = |text: &str| {
            scim::filter::parse_filter(text, &mut scim::tolerance::Leniency::default()).expect("filter")
        };
        assert_eq!(
            MemberOp::from_deferred(DeferredOp::Add(vec![json!({"value": "u1", "display": "x"})])),
            Ok(MemberOp::Add(ids(&["u1"])))
        );
        assert_eq!(
            MemberOp::from_deferred(DeferredOp::RemoveWhere(filter("value eq \"U2\""))),
            Ok(MemberOp::Remove(ids(&["u2"])))
        );
        let general = filter("display sw \"a\"");
        assert_eq!(
            MemberOp::from_deferred(DeferredOp::RemoveWhere(general.clone())),
            Ok(MemberOp::RemoveWhere(general))
        );
        assert_eq!(
            MemberOp::from_deferred(DeferredOp::RemoveAll),
            Ok(MemberOp::ReplaceScim(Vec::new()))
        );
        assert_eq!(
            MemberOp::from_deferred(DeferredOp::Replace(vec![json!({"value": "u3"})])),
            Ok(MemberOp::ReplaceScim(ids(&["u3"])))
        );
        assert!(
            MemberOp::from_deferred(DeferredOp::Add(vec![json!({"value": "g", "type": "Group"})])).is_err()
        );
        assert!(member_ids(&[json!({"display": "x"})]).is_err());
        assert!(member_ids(&[json!({"value": ""})]).is_err());
        assert_eq!(
            member_ids(&[json!({"value": "u", "type": "user"})]),
            Ok(ids(&["u"]))
        );
    }

    #[test]
    fn a_re_push_of_the_same_list_changes_nothing() {
        let current = ids(&["u1", "u2"]);
        assert_eq!(
            diff_scim_replace(&current, &ids(&["u2", "u1", "u1"])),
            ScimReplace::default()
        );
    }

    #[test]
    fn a_replace_removes_the_left_out_and_adds_the_new_once() {
        let diff = diff_scim_replace(&ids(&["u3", "u1", "u2"]), &ids(&["u4", "u2", "u4", "u0"]));
        assert_eq!(diff.remove, ids(&["u3", "u1"]));
        assert_eq!(diff.add, ids(&["u0", "u4"]));
        let cleared = diff_scim_replace(&ids(&["u1"]), &[]);
        assert_eq!(cleared.remove, ids(&["u1"]));
        assert!(cleared.add.is_empty());
    }

    #[test]
    fn origins_are_stored_lower_case() {
        assert_eq!(MemberOrigin::Scim.as_str(), "scim");
        assert_eq!(MemberOrigin::Admin.as_str(), "admin");
    }
}
