//! What the filter translator (`query.rs`) needs to know about each resource table:
//! which attribute is backed by which column, and which multi-valued attributes live in
//! other tables.

use super::query::{Column, Relation, Target};
use scim::catalog::{LICENSE_USER, group_schema, user_schema};

pub(crate) fn users_target() -> Target {
    Target {
        schema: user_schema(),
        columns: &[
            ("id", None, Column::Exact("r.id")),
            ("userName", None, Column::Folded("r.user_name_key")),
            ("externalId", None, Column::Exact("r.external_id")),
            ("displayName", None, Column::Folded("r.display_name_key")),
            // Not `active`: its column reads a missing `active` as true (for licensing),
            // while the resource, and so the filter, has no value.
            ("meta", None, Column::Opaque),
            ("meta", Some("created"), Column::Instant("r.created_at")),
            ("meta", Some("lastModified"), Column::Instant("r.updated_at")),
            ("meta", Some("resourceType"), Column::Constant("User")),
            ("meta", Some("location"), Column::Opaque),
            // The weak ETag `render` shows (`http::render::etag`).
            (
                "meta",
                Some("version"),
                Column::Exact("('W/\"' || r.version || '\"')"),
            ),
        ],
        indexed_elements: &[(
            "emails",
            "value",
            "r.id in (select ue.user_id from user_emails ue where ue.account_id = {} and ue.value_key = {})",
        )],
        relations: &[
            Relation {
                extension: Some(LICENSE_USER),
                attribute: "licenses",
                from_where: "license_assignments l
                     join license_pools lp on lp.id = l.pool_id
                     join instances li on li.id = lp.instance_id
                     where l.user_id = r.id",
                columns: &[
                    ("product", Column::Text("l.product")),
                    ("instance", Column::Text("li.name")),
                    ("licenseType", Column::Text("lp.license_type")),
                    ("state", Column::Text("l.state")),
                    ("assignedAt", Column::Instant("l.assigned_at")),
                    ("activatedAt", Column::Instant("l.activated_at")),
                ],
            },
            Relation {
                extension: None,
                attribute: "groups",
                from_where: "group_members gm join groups g on g.id = gm.group_id where gm.member_id = r.id",
                // Ids are generated lower-case, so an id column is its own ASCII fold.
                columns: &[
                    ("value", Column::Folded("gm.group_id")),
                    ("display", Column::Folded("g.display_name_key")),
                    ("type", Column::Constant("direct")),
                ],
            },
        ],
    }
}

/// The membership table seen from a group: what `members` filters run against.
pub(crate) const MEMBERS: Relation = Relation {
    extension: None,
    attribute: "members",
    from_where: "group_members gm join users mu on mu.id = gm.member_id where gm.group_id = r.id",
    columns: &[
        ("value", Column::Folded("gm.member_id")),
        // A member's display is the user's displayName, else its userName.
        (
            "display",
            Column::Folded("coalesce(mu.display_name_key, mu.user_name_key)"),
        ),
        ("type", Column::Constant("User")),
    ],
};

pub(crate) fn groups_target() -> Target {
    Target {
        schema: group_schema(),
        columns: &[
            ("id", None, Column::Exact("r.id")),
            ("displayName", None, Column::Folded("r.display_name_key")),
            ("externalId", None, Column::Exact("r.external_id")),
            ("meta", Some("created"), Column::Instant("r.created_at")),
            ("meta", Some("lastModified"), Column::Instant("r.updated_at")),
            ("meta", Some("resourceType"), Column::Constant("Group")),
        ],
        indexed_elements: &[],
        relations: &[MEMBERS],
    }
}
