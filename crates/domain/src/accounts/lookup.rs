//! Which list filters are lookups of known resources: what a product that lists nothing
//! (Sales Navigator under the `linkedin` preset) still serves. A lookup is a filter
//! whose every `or` branch pins one identifier with `eq` on a string; `and` with any
//! other filter only narrows it (`docs/fidelity.md`, "A lookup of a known user").

use scim::filter::{CompareOp, Filter};
use scim::schema::AttrPath;

/// An identifier a lookup may pin: an attribute, and for a multi-valued attribute the
/// sub-attribute that identifies (`emails.value`).
pub type Identifier = (&'static str, Option<&'static str>);

/// The user attributes whose `eq` names one known user: what IdPs match on (Entra:
/// `externalId`/`userName`; Okta: `userName`) and what SaaS managers look users up by.
pub const USER_IDENTIFIERS: &[Identifier] = &[
    ("userName", None),
    ("externalId", None),
    ("id", None),
    ("emails", Some("value")),
];

/// The group attributes whose `eq` names one known group: LinkedIn's group matching
/// attribute (`displayName`, what Okta's group push and Entra match on), `externalId`
/// and `id`.
pub const GROUP_IDENTIFIERS: &[Identifier] = &[("displayName", None), ("externalId", None), ("id", None)];

fn is_identifier(identifiers: &[Identifier], path: &AttrPath, sub: Option<&str>) -> bool {
    let sub = path.sub.as_deref().or(sub);
    identifiers.iter().any(|(name, wanted)| {
        path.name.eq_ignore_ascii_case(name)
            && match (sub, wanted) {
                (None, None) => true,
                (Some(sub), Some(wanted)) => sub.eq_ignore_ascii_case(wanted),
                _ => false,
            }
    })
}

/// Is `filter` a lookup of resources the client already knows, by these `identifiers`?
/// Every `or` branch must be a lookup; an `and` is one when either side is. Anything
/// else (`pr`, `sw`, `ne`, `not`, `eq null`, `active eq true`) can reveal resources the
/// client does not know.
pub fn is_lookup(filter: &Filter, identifiers: &[Identifier]) -> bool {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } => value.is_string() && is_identifier(identifiers, path, None),
        Filter::ValuePath { attr, filter } => pins_within(filter, attr, identifiers),
        Filter::And(left, right) => is_lookup(left, identifiers) || is_lookup(right, identifiers),
        Filter::Or(left, right) => is_lookup(left, identifiers) && is_lookup(right, identifiers),
        _ => false,
    }
}

/// The same inside a value path `attr[…]`: `emails[type eq "work" and value eq "x"]`.
fn pins_within(filter: &Filter, attr: &AttrPath, identifiers: &[Identifier]) -> bool {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } => value.is_string() && path.sub.is_none() && is_identifier(identifiers, attr, Some(&path.name)),
        Filter::And(left, right) => {
            pins_within(left, attr, identifiers) || pins_within(right, attr, identifiers)
        }
        Filter::Or(left, right) => {
            pins_within(left, attr, identifiers) && pins_within(right, attr, identifiers)
        }
        _ => false,
    }
}

/// A lookup of known users ([`USER_IDENTIFIERS`]).
pub fn is_user_lookup(filter: &Filter) -> bool {
    is_lookup(filter, USER_IDENTIFIERS)
}

/// A lookup of known groups ([`GROUP_IDENTIFIERS`]).
pub fn is_group_lookup(filter: &Filter) -> bool {
    is_lookup(filter, GROUP_IDENTIFIERS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use scim::tolerance::{ClientProfile, Leniency};

    fn filter(text: &str) -> Filter {
        let mut strict = Leniency::new(ClientProfile::Strict);
        scim::filter::parse_filter(text, &mut strict).unwrap_or_else(|e| panic!("{text}: {e:?}"))
    }

    #[test]
    fn only_eq_on_an_identifier_in_every_branch_is_a_lookup_of_known_users() {
        for lookup in [
            "userName eq \"a@acme.com\"",
            "USERNAME eq \"a@acme.com\"",
            "externalId eq \"00u1\"",
            "id eq \"42\"",
            "emails.value eq \"a@acme.com\"",
            "emails[value eq \"a@acme.com\"]",
            "emails[type eq \"work\" and value eq \"a@acme.com\"]",
            "emails[value eq \"a\" or value eq \"b\"]",
            "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"a@acme.com\"",
            "userName eq \"a@acme.com\" and active eq true",
            "active eq true and externalId eq \"00u1\"",
            "userName eq \"a\" or userName eq \"b\"",
            "userName eq \"a\" or externalId eq \"b\" or emails[type eq \"work\" and value eq \"c\"]",
            "(userName eq \"a\" or id eq \"b\") and active eq true",
        ] {
            assert!(is_user_lookup(&filter(lookup)), "{lookup}");
        }
        for list in [
            "userName pr",
            "userName sw \"\"",
            "userName co \"a\"",
            "userName ne \"a@acme.com\"",
            "active eq true",
            "displayName eq \"A\"",
            "emails.type eq \"work\"",
            "emails[type eq \"work\"]",
            "emails[value eq \"a\" or type eq \"work\"]",
            "emails[not (value eq \"a\")]",
            "userName eq \"a\" or active eq true",
            "userName eq \"a\" or userName pr",
            "not (userName eq \"a\")",
            "userName eq null",
            "userName eq \"a\" or userName eq null",
            "name.givenName eq \"A\"",
        ] {
            assert!(!is_user_lookup(&filter(list)), "{list}");
        }
    }

    #[test]
    fn a_group_lookup_pins_display_name_external_id_or_id() {
        for lookup in [
            "displayName eq \"Sales\"",
            "externalId eq \"g1\"",
            "id eq \"42\"",
            "displayName eq \"Sales\" or displayName eq \"Ops\"",
            "displayName eq \"Sales\" and members.value eq \"u1\"",
        ] {
            assert!(is_group_lookup(&filter(lookup)), "{lookup}");
        }
        for list in [
            "displayName pr",
            "displayName sw \"S\"",
            "members.value eq \"u1\"",
            "members[value eq \"u1\"]",
            "userName eq \"a\"",
            "displayName eq \"Sales\" or members pr",
            "not (displayName eq \"Sales\")",
        ] {
            assert!(!is_group_lookup(&filter(list)), "{list}");
        }
    }
}
