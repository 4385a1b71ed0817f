use super::*;
use crate::scim::tolerance::ClientProfile;

fn strict() -> Leniency {
    Leniency::new(ClientProfile::Strict)
}

#[test]
fn smoke() {
    for s in [
        r#"userName eq "x""#,
        r#"id eq "g" and members eq "u""#,
        r#"emails[type eq "work" and value co "@acme"] or not (title pr)"#,
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m""#,
    ] {
        let f = parse_filter(s, &mut strict()).unwrap();
        println!("{s}\n  => {f}\n  => {f:?}");
        assert_eq!(parse_filter(&f.to_string(), &mut strict()).unwrap(), f);
    }
    for s in [r#"emails[type eq "work"].value"#, r#"members[value eq "u"]"#, "name.givenName"] {
        let p = parse_path(s).unwrap();
        println!("{s} => {p} {p:?}");
    }
    for s in [r#"userName equals "x""#, "a eq", "(a pr", "a pr \"x\"", "externalId eq jyoung", "a[b[c pr]]", "emails[type eq \"w\"].value eq \"x\""] {
        println!("{s} => {}", parse_filter(s, &mut strict()).unwrap_err());
    }
}
