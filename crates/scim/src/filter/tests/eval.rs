//! Evaluator tests against the RFC 7643 §8.2 user and a small group.

use serde_json::{Value, json};

use super::fixtures::{ENTERPRISE, full_user, group, group_schema, strict, user_schema};
use crate::filter::*;
use crate::schema::{AttrPath, ResourceSchema};

fn check(schema: &ResourceSchema, resource: &Value, filter: &str) -> bool {
    let f = match parse_filter(filter, &mut strict()) {
        Ok(f) => f,
        Err(e) => panic!("{filter:?}: {e}"),
    };
    let result = matches(&f, resource, schema);
    // The negation always gives the opposite answer (two-valued logic).
    assert_eq!(matches(&Filter::negate(f), resource, schema), !result, "{filter}");
    result
}

fn user(filter: &str) -> bool {
    check(&user_schema(), &full_user(), filter)
}

fn assert_user(cases: &[(&str, bool)]) {
    for (filter, expected) in cases {
        assert_eq!(user(filter), *expected, "{filter}");
    }
}

#[test]
fn rfc7644_example_filters() {
    assert_user(&[
        (r#"userName eq "bjensen""#, false),
        (r#"userName eq "bjensen@example.com""#, true),
        (r#"name.familyName co "O'Malley""#, false),
        (r#"name.familyName co "ens""#, true),
        (r#"userName sw "J""#, false),
        (r#"userName sw "B""#, true),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
            false,
        ),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "BJ""#,
            true,
        ),
        ("title pr", true),
        (r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, false),
        (r#"meta.lastModified ge "2011-05-13T04:42:34Z""#, true),
        (r#"meta.lastModified lt "2011-05-13T04:42:34Z""#, false),
        (r#"meta.lastModified le "2011-05-13T04:42:34Z""#, true),
        (r#"title pr and userType eq "Employee""#, true),
        (r#"title pr or userType eq "Intern""#, true),
        (
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
            true,
        ),
        (
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:other:2.0:User""#,
            false,
        ),
        (
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            true,
        ),
        (
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            false,
        ),
        (r#"userType eq "Employee" and (emails.type eq "work")"#, true),
        (
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            true,
        ),
        (
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
            true,
        ),
        (
            r#"emails[type eq "home" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
            false,
        ),
    ]);
}

#[test]
fn every_operator_on_strings() {
    assert_user(&[
        (r#"title eq "Tour Guide""#, true),
        (r#"title ne "Tour Guide""#, false),
        (r#"title ne "Pilot""#, true),
        (r#"title co "our G""#, true),
        (r#"title sw "tour""#, true),
        (r#"title ew "GUIDE""#, true),
        (r#"title ew "Tour""#, false),
        (r#"title gt "Tour""#, true),
        (r#"title gt "tour guide""#, false),
        (r#"title ge "tour guide""#, true),
        (r#"title lt "u""#, true),
        (r#"title le "TOUR GUIDE""#, true),
        (r#"title lt "Tour""#, false),
    ]);
}

#[test]
fn case_exactness_comes_from_the_schema() {
    assert_user(&[
        // userName: caseExact false.
        (r#"userName eq "BJensen@Example.COM""#, true),
        // id and externalId (RFC 7643 common attributes): caseExact true.
        (r#"id eq "2819c223-7f76-453a-919d-413861904646""#, true),
        (r#"id eq "2819C223-7F76-453A-919D-413861904646""#, false),
        // meta.resourceType caseExact true (schemas/common.json).
        (r#"meta.resourceType eq "User""#, true),
        (r#"meta.resourceType eq "user""#, false),
        // Unknown attributes compare case-insensitively.
        (r#"timezone eq "america/los_angeles""#, true),
    ]);
    // Folding is ASCII-only, on purpose (SQL agrees).
    let r = json!({"title": "ÄRZTIN"});
    let s = user_schema();
    assert!(!check(&s, &r, r#"title eq "ärztin""#));
    assert!(check(&s, &r, r#"title eq "Ärztin""#));
    assert!(check(&s, &r, r#"title eq "ÄRZTIN""#));
}

#[test]
fn attribute_names_are_case_insensitive_in_filter_and_json() {
    assert_user(&[
        (r#"USERNAME eq "bjensen@example.com""#, true),
        (r#"Name.FamilyName eq "jensen""#, true),
        (r#"EMAILS[TYPE eq "work"]"#, true),
    ]);
    let r = json!({"USERNAME": "x", "Emails": [{"Value": "a@b", "TYPE": "work"}], "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {"Department": "d"}});
    let s = user_schema();
    assert!(check(&s, &r, r#"userName eq "x""#));
    assert!(check(&s, &r, r#"emails[type eq "work" and value eq "a@b"]"#));
    assert!(check(&s, &r, r#"emails eq "A@B""#));
    assert!(check(&s, &r, &format!("{ENTERPRISE}:department eq \"D\"")));
}

#[test]
fn extension_attributes() {
    assert_user(&[
        (&format!("{ENTERPRISE}:department eq \"Tour Operations\""), true),
        (
            &format!("{}:DEPARTMENT eq \"tour operations\"", ENTERPRISE.to_uppercase()),
            true,
        ),
        (
            &format!("{ENTERPRISE}:manager.value eq \"26118915-6090-4610-87e4-49d8ca9f808d\""),
            true,
        ),
        (
            &format!("{ENTERPRISE}:manager eq \"26118915-6090-4610-87e4-49d8ca9f808d\""),
            true,
        ),
        (&format!("{ENTERPRISE}:manager[displayName sw \"john\"]"), true),
        (&format!("{ENTERPRISE}:manager.displayName pr"), true),
        (&format!("{ENTERPRISE}:costCenter eq \"4130\""), true),
        // Unqualified extension names are core names: not found.
        ("department eq \"Tour Operations\"", false),
        ("department pr", false),
        // An extension the resource does not carry.
        ("urn:example:ext:1.0:Thing:x pr", false),
    ]);
}

#[test]
fn multi_valued_any_semantics_and_ne() {
    assert_user(&[
        (r#"emails.type eq "home""#, true),
        (r#"emails.type eq "other""#, false),
        // ne = no value equals.
        (r#"emails.type ne "work""#, false),
        (r#"emails.type ne "other""#, true),
        (r#"emails ne "babs@jensen.org""#, false),
        (r#"emails.primary eq true"#, true),
        (r#"emails[type eq "home" and primary eq true]"#, false),
        (r#"emails[type eq "work" and primary eq true]"#, true),
        (
            r#"phoneNumbers[type eq "mobile"] and emails[type eq "home"]"#,
            true,
        ),
        (r#"groups.display eq "tour guides""#, true),
    ]);
}

#[test]
fn absent_attributes_and_null() {
    assert_user(&[
        (r#"nonexistent eq "x""#, false),
        (r#"nonexistent ne "x""#, true),
        (r#"nonexistent co "x""#, false),
        (r#"nonexistent gt "x""#, false),
        ("nonexistent pr", false),
        ("nonexistent eq null", true),
        ("nonexistent ne null", false),
        ("title eq null", false),
        ("title ne null", true),
        ("name.honorificSuffix pr", true),
        ("name.nothing pr", false),
    ]);
    let s = user_schema();
    let r = json!({"title": "", "nickName": null, "emails": [], "ims": [{}], "phoneNumbers": [null],
                   "name": {}, "displayName": [], "userType": {"a": null}});
    for attr in [
        "title",
        "nickName",
        "emails",
        "ims",
        "phoneNumbers",
        "name",
        "displayName",
        "missing",
    ] {
        assert!(!check(&s, &r, &format!("{attr} pr")), "{attr} pr");
        assert!(check(&s, &r, &format!("{attr} eq null")), "{attr} eq null");
        assert!(check(&s, &r, &format!("{attr} ne \"x\"")), "{attr} ne");
    }
    assert!(check(&s, &r, "userType pr"));
}

#[test]
fn booleans() {
    assert_user(&[
        ("active eq true", true),
        ("active eq false", false),
        ("active ne false", true),
        ("active ne true", false),
        ("active pr", true),
        // Type mismatch never matches.
        (r#"active eq "true""#, false),
    ]);
    let s = user_schema();
    assert!(check(&s, &json!({"active": false}), "active eq false"));
    assert!(check(&s, &json!({"active": false}), "active pr"));
    assert!(!check(&s, &json!({"active": "False"}), "active eq false"));
}

#[test]
fn numbers() {
    let s = user_schema();
    let r = json!({"loginCount": 42, "score": 2.5, "big": 18446744073709551615_u64, "tags": [1, 5, 9], "code": "42"});
    let cases = [
        ("loginCount eq 42", true),
        ("loginCount eq 42.0", true),
        ("loginCount ne 42", false),
        ("loginCount gt 41.5", true),
        ("loginCount ge 42", true),
        ("loginCount lt 42", false),
        ("loginCount le 42", true),
        ("loginCount lt -1", false),
        ("score gt 2", true),
        ("score lt 3", true),
        ("score eq 2.5e0", true),
        ("big gt 9223372036854775807", true),
        ("big eq 18446744073709551615", true),
        ("tags gt 8", true),
        ("tags lt 1", false),
        ("tags eq 5", true),
        // A number never equals a string, nor takes co/sw/ew.
        ("code eq 42", false),
        (r#"loginCount eq "42""#, false),
        (r#"loginCount co "4""#, false),
    ];
    for (f, expected) in cases {
        assert_eq!(check(&s, &r, f), expected, "{f}");
    }
}

#[test]
fn date_times_compare_as_instants() {
    assert_user(&[
        (r#"meta.lastModified eq "2011-05-13T04:42:34.000Z""#, true),
        (r#"meta.lastModified eq "2011-05-13T06:42:34+02:00""#, true),
        (r#"meta.lastModified gt "2011-05-13T06:42:33+02:00""#, true),
        (r#"meta.lastModified lt "2011-05-13T05:00:00+00:00""#, true),
        (r#"meta.created lt "2011-01-01T00:00:00Z""#, true),
        (r#"meta.created gt "2010-01-23T04:56:21.999Z""#, true),
        (r#"meta.lastModified ne "2011-05-13T04:42:34Z""#, false),
        // Unparseable operand: plain (case-folded) string comparison.
        (r#"meta.lastModified gt "2011""#, true),
        (r#"meta.lastModified lt "2012""#, true),
        (r#"meta.lastModified eq "yesterday""#, false),
        (r#"meta.lastModified sw "2011-05""#, true),
        (r#"meta.lastModified co "t04:42""#, true),
    ]);
    // Without a dateTime definition, strings are just strings.
    let s = user_schema();
    let r = json!({"when": "2011-05-13T04:42:34Z"});
    assert!(!check(&s, &r, r#"when eq "2011-05-13T04:42:34.000Z""#));
}

#[test]
fn complex_without_sub_attribute_compares_value() {
    assert_user(&[
        (r#"emails co "@jensen.org""#, true),
        (r#"emails eq "BJENSEN@example.com""#, true),
        (r#"emails sw "babs""#, true),
        (r#"emails eq "work""#, false),
        // `name` has no `value`: nothing to compare.
        (r#"name eq "Barbara""#, false),
        ("name pr", true),
        ("emails pr", true),
    ]);
}

#[test]
fn value_path_on_single_complex_attribute() {
    assert_user(&[
        (r#"name[givenName eq "barbara" and familyName eq "Jensen"]"#, true),
        (r#"name[givenName eq "Barbara" and familyName eq "Smith"]"#, false),
        (r#"name[not (middleName pr)]"#, false),
    ]);
}

#[test]
fn groups_and_idp_queries() {
    let s = group_schema();
    let g = group();
    let cases = [
        (r#"displayName eq "Tour Guides""#, true),
        (r#"displayName eq "tour guides""#, true),
        (r#"externalId eq "0a1b2c""#, true),
        (r#"externalId eq "0A1B2C""#, false),
        (r#"id eq "g1" and members eq "u2""#, true),
        (r#"id eq "g1" and members eq "u3""#, false),
        // members.value is caseExact in the group schema.
        (r#"members eq "U2""#, false),
        (r#"members[value eq "u1"]"#, true),
        (r#"members[value eq "u1" and display sw "mandy"]"#, false),
        (r#"members.display co "pepper""#, true),
        (r#"meta.resourceType eq "Group""#, true),
        (r#"meta.lastModified ge "2011-05-13T04:42:34+00:00""#, true),
    ];
    for (f, expected) in cases {
        assert_eq!(check(&s, &g, f), expected, "{f}");
    }
    // Entra's Test Connection: a random GUID matches nobody.
    assert!(!user(r#"userName eq "8e2a0f43-3dbe-4b44-a1b5-33c2fd6f04f5""#));
    assert!(user(r#"externalId eq "701984""#));
}

#[test]
fn matches_element_for_patch_filters() {
    let s = user_schema();
    let emails = AttrPath::new("emails");
    let work = json!({"value": "bjensen@example.com", "type": "work", "primary": true});
    let home = json!({"value": "babs@jensen.org", "type": "home"});
    let pp = parse_path(r#"emails[type eq "WORK"].value"#).unwrap();
    let f = pp.filter.as_ref().unwrap();
    assert!(matches_element(f, &pp.attr, &work, &s));
    assert!(!matches_element(f, &pp.attr, &home, &s));

    let f = parse_filter(
        r#"value ew "@JENSEN.org" and not (primary eq true)"#,
        &mut strict(),
    )
    .unwrap();
    assert!(matches_element(&f, &emails, &home, &s));
    assert!(!matches_element(&f, &emails, &work, &s));

    let members = AttrPath::new("members");
    let gs = group_schema();
    let pp = parse_path(r#"members[value eq "u1"]"#).unwrap();
    let f = pp.filter.as_ref().unwrap();
    assert!(matches_element(f, &members, &json!({"value": "u1"}), &gs));
    assert!(!matches_element(f, &members, &json!({"value": "U1"}), &gs));
    assert!(!matches_element(f, &members, &json!("u1"), &gs));
    assert!(!matches_element(f, &members, &Value::Null, &gs));

    let manager = AttrPath {
        urn: Some(ENTERPRISE.into()),
        name: "manager".into(),
        sub: None,
    };
    let f = parse_filter(r#"value eq "m1""#, &mut strict()).unwrap();
    assert!(matches_element(&f, &manager, &json!({"value": "m1"}), &s));
}

#[test]
fn odd_documents_do_not_match_and_do_not_panic() {
    let s = user_schema();
    for doc in [
        json!(null),
        json!([]),
        json!("userName"),
        json!({"userName": ["a", null, 3, {"value": "b"}]}),
        json!({"emails": {"value": "single@x"}}),
        json!({"emails": [[{"value": "nested@x"}]]}),
        json!({ENTERPRISE: "not an object"}),
    ] {
        for f in [
            r#"userName eq "a""#,
            r#"emails[value eq "single@x"]"#,
            r#"emails co "@x""#,
            &format!("{ENTERPRISE}:department pr"),
        ] {
            let _ = check(&s, &doc, f);
        }
    }
    assert!(check(
        &s,
        &json!({"userName": ["a", null, 3]}),
        r#"userName eq "A""#
    ));
    assert!(check(
        &s,
        &json!({"emails": {"value": "single@x"}}),
        r#"emails[value eq "single@x"]"#
    ));
}

#[test]
fn common_attributes_are_typed_by_common_json_for_every_resource_type() {
    use crate::catalog;
    // meta.created is a dateTime: instants compare, whatever the offset written.
    let meta = json!({"meta": {"created": "2011-05-13T04:42:34Z", "location": "https://x/Users/1"}});
    for schema in [catalog::user_schema(), catalog::group_schema(), &group_schema()] {
        assert!(check(
            schema,
            &meta,
            r#"meta.created eq "2011-05-13T06:42:34+02:00""#
        ));
        assert!(check(schema, &meta, r#"meta.created lt "2011-05-13T04:42:35Z""#));
        // meta.location is caseExact false in common.json.
        assert!(check(schema, &meta, r#"meta.location eq "HTTPS://X/USERS/1""#));
    }
}
