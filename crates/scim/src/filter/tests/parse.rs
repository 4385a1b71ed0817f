//! Parser tests: grammar, precedence, literals, PATCH paths, errors and limits.

use serde_json::{Value, json};

use super::fixtures::{ENTERPRISE, group_schema, strict, user_schema};
use crate::error::{ProtocolError, ScimType};
use crate::filter::*;
use crate::schema::AttrPath;
use crate::tolerance::{ClientProfile, Leniency, Tolerance};

fn parse(s: &str) -> Filter {
    match parse_filter(s, &mut strict()) {
        Ok(f) => f,
        Err(e) => panic!("{s:?} should parse: {e}"),
    }
}

fn err(s: &str) -> FilterError {
    match parse_filter(s, &mut strict()) {
        Ok(f) => panic!("{s:?} should not parse, got {f:?}"),
        Err(e) => e,
    }
}

fn p(name: &str) -> AttrPath {
    AttrPath::new(name)
}

fn cmp(name: &str, op: CompareOp, v: impl Into<Value>) -> Filter {
    Filter::compare(p(name), op, v)
}

#[test]
fn every_operator_case_insensitively() {
    for op in CompareOp::ALL {
        for spelling in [op.as_str().to_string(), op.as_str().to_uppercase()] {
            let f = parse(&format!(r#"title {spelling} "x""#));
            assert_eq!(f, cmp("title", op, "x"));
        }
    }
    assert_eq!(parse("title pr"), Filter::Present(p("title")));
    assert_eq!(parse("title PR"), Filter::Present(p("title")));
    assert_eq!(
        parse("title pr AND nickName Pr oR userName pR"),
        parse("title pr and nickName pr or userName pr")
    );
}

#[test]
fn and_binds_tighter_than_or() {
    let f = parse("a eq 1 or b eq 2 and c eq 3");
    assert_eq!(
        f,
        Filter::or(
            cmp("a", CompareOp::Eq, 1),
            Filter::and(cmp("b", CompareOp::Eq, 2), cmp("c", CompareOp::Eq, 3))
        )
    );
    let f = parse("a eq 1 and b eq 2 or c eq 3");
    assert_eq!(
        f,
        Filter::or(
            Filter::and(cmp("a", CompareOp::Eq, 1), cmp("b", CompareOp::Eq, 2)),
            cmp("c", CompareOp::Eq, 3)
        )
    );
}

#[test]
fn chains_are_left_associative() {
    let f = parse("a pr and b pr and c pr");
    assert_eq!(
        f,
        Filter::and(
            Filter::and(Filter::Present(p("a")), Filter::Present(p("b"))),
            Filter::Present(p("c"))
        )
    );
}

#[test]
fn grouping_and_not() {
    let f = parse("(a eq 1 or b eq 2) and c eq 3");
    assert_eq!(
        f,
        Filter::and(
            Filter::or(cmp("a", CompareOp::Eq, 1), cmp("b", CompareOp::Eq, 2)),
            cmp("c", CompareOp::Eq, 3)
        )
    );
    let f = parse("not (a pr) and NOT(b pr)");
    assert_eq!(
        f,
        Filter::and(
            Filter::negate(Filter::Present(p("a"))),
            Filter::negate(Filter::Present(p("b")))
        )
    );
    assert_eq!(parse("((a pr))"), Filter::Present(p("a")));
    assert_eq!(parse("  a pr  "), Filter::Present(p("a")));
    assert_eq!(parse("a eq\t1\nor\rb pr"), parse("a eq 1 or b pr"));
}

#[test]
fn keywords_can_be_attribute_names() {
    assert_eq!(parse("not eq 1"), cmp("not", CompareOp::Eq, 1));
    assert_eq!(parse("and pr or or pr"), parse("(and pr) or (or pr)"));
    assert_eq!(parse("a pr and ordinal pr"), parse("(a pr) and (ordinal pr)"));
    assert!(matches!(parse("not[value pr]"), Filter::ValuePath { .. }));
}

#[test]
fn attribute_paths() {
    assert_eq!(
        parse(r#"name.familyName co "O'Malley""#),
        Filter::compare(
            AttrPath::with_sub("name", "familyName"),
            CompareOp::Co,
            "O'Malley"
        )
    );
    let f = parse(&format!("{ENTERPRISE}:department eq \"Sales\""));
    assert_eq!(
        f,
        Filter::compare(
            AttrPath {
                urn: Some(ENTERPRISE.into()),
                name: "department".into(),
                sub: None
            },
            CompareOp::Eq,
            "Sales"
        )
    );
    let f = parse(&format!("{ENTERPRISE}:manager.value eq \"m\""));
    assert_eq!(
        f,
        Filter::compare(
            AttrPath {
                urn: Some(ENTERPRISE.into()),
                name: "manager".into(),
                sub: Some("value".into())
            },
            CompareOp::Eq,
            "m"
        )
    );
    let f = parse(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#);
    let Filter::Compare { path, .. } = f else {
        panic!("compare")
    };
    assert_eq!(
        path.urn.as_deref(),
        Some("urn:ietf:params:scim:schemas:core:2.0:User")
    );
    assert_eq!(path.name, "userName");
    assert_eq!(
        parse(r#"members.$ref eq "x""#),
        Filter::compare(AttrPath::with_sub("members", "$ref"), CompareOp::Eq, "x")
    );
    assert_eq!(parse("x_1-y pr"), Filter::Present(p("x_1-y")));
}

#[test]
fn literals() {
    let v = |s: &str| match parse(&format!("a eq {s}")) {
        Filter::Compare { value, .. } => value,
        other => panic!("{other:?}"),
    };
    assert_eq!(v(r#""plain""#), json!("plain"));
    assert_eq!(
        v(r#""q\" b\\ s\/ \b\f\n\r\t""#),
        json!("q\" b\\ s/ \u{8}\u{c}\n\r\t")
    );
    assert_eq!(v(r#""\u00e9\u00C9""#), json!("éÉ"));
    assert_eq!(v(r#""\ud83d\ude00""#), json!("😀"));
    assert_eq!(v(r#""ünïcödé 😀""#), json!("ünïcödé 😀"));
    assert_eq!(v(r#""with ) and ] inside""#), json!("with ) and ] inside"));
    assert_eq!(v("42"), json!(42));
    assert_eq!(v("-7"), json!(-7));
    assert_eq!(v("3.25"), json!(3.25));
    assert_eq!(v("-1.5e3"), json!(-1500.0));
    assert_eq!(v("2E-2"), json!(0.02));
    assert_eq!(v("-1.5e38"), json!(-1.5e38));
    assert_eq!(v("0.1"), json!(0.1));
    assert_eq!(v("-0"), json!(0));
    assert_eq!(v("9223372036854775808"), json!(9223372036854775808_u64));
    assert_eq!(v("1e2"), json!(100.0));
    assert_eq!(v("123456789012345678901234567890"), json!(1.2345678901234568e29));
    assert_eq!(v("true"), json!(true));
    assert_eq!(v("FALSE"), json!(false));
    assert_eq!(v("Null"), Value::Null);
    // A value may touch a closing parenthesis or bracket.
    assert_eq!(parse("(a eq 1)"), cmp("a", CompareOp::Eq, 1));
    assert_eq!(parse(r#"a eq"x""#), cmp("a", CompareOp::Eq, "x"));
}

#[test]
fn value_paths() {
    let f = parse(r#"emails[type eq "work" and value co "@acme"]"#);
    assert_eq!(
        f,
        Filter::ValuePath {
            attr: p("emails"),
            filter: Box::new(Filter::and(
                cmp("type", CompareOp::Eq, "work"),
                cmp("value", CompareOp::Co, "@acme")
            ))
        }
    );
    let f = parse(r#"userType eq "Employee" and not (emails[type eq "work"] or ims[type pr])"#);
    assert!(matches!(f, Filter::And(_, ref b) if matches!(**b, Filter::Not(_))));
    let f = parse(&format!("{ENTERPRISE}:manager[value eq \"m\"]"));
    let Filter::ValuePath { attr, .. } = f else {
        panic!("value path")
    };
    assert_eq!(attr.urn.as_deref(), Some(ENTERPRISE));
    assert_eq!(attr.name, "manager");
    assert_eq!(
        parse(r#"emails[not (type eq "work") or (value pr)]"#),
        Filter::ValuePath {
            attr: p("emails"),
            filter: Box::new(Filter::or(
                Filter::negate(cmp("type", CompareOp::Eq, "work")),
                Filter::Present(p("value"))
            ))
        }
    );
}

#[test]
fn idp_filters() {
    // Entra: Test Connection, matching on userName / externalId, groups, membership probe.
    assert_eq!(
        parse(r#"userName eq "2b47c6b5-1c8e-4f0d-a7d6-2d6e1c5f6a10""#),
        cmp("userName", CompareOp::Eq, "2b47c6b5-1c8e-4f0d-a7d6-2d6e1c5f6a10")
    );
    assert_eq!(
        parse(r#"externalId eq "jyoung""#),
        cmp("externalId", CompareOp::Eq, "jyoung")
    );
    assert_eq!(
        parse(r#"displayName eq "Group""#),
        cmp("displayName", CompareOp::Eq, "Group")
    );
    assert_eq!(
        parse(r#"id eq "g" and members eq "u""#),
        Filter::and(cmp("id", CompareOp::Eq, "g"), cmp("members", CompareOp::Eq, "u"))
    );
    // Okta: userName eq with an e-mail login.
    assert_eq!(
        parse(r#"userName eq "Bob.Smith@Example.com""#),
        cmp("userName", CompareOp::Eq, "Bob.Smith@Example.com")
    );
}

#[test]
fn unquoted_values_only_when_tolerated() {
    let e = parse_filter("externalId eq jyoung", &mut strict()).unwrap_err();
    assert_eq!(e.position, 14);
    assert!(e.message.contains("`jyoung`"), "{e}");
    assert!(e.message.contains("double quotes"), "{e}");

    // No production client sends it: only the profile that names it accepts it.
    for profile in [ClientProfile::Okta, ClientProfile::Entra, ClientProfile::Lenient] {
        let mut l = Leniency::new(profile);
        assert!(parse_filter("externalId eq jyoung", &mut l).is_err());
        assert!(l.fired.is_empty());
    }

    let mut l = Leniency::new(ClientProfile::Validator);
    let f = parse_filter("externalId eq jyoung and userName eq j@x.org", &mut l).unwrap();
    assert_eq!(
        f,
        Filter::and(
            cmp("externalId", CompareOp::Eq, "jyoung"),
            cmp("userName", CompareOp::Eq, "j@x.org")
        )
    );
    assert_eq!(l.fired, vec![Tolerance::UnquotedFilterValue]);
    // Quoted values and keywords never fire the tolerance.
    let mut l = Leniency::new(ClientProfile::Lenient);
    parse_filter(r#"a eq "x" or b eq true or c eq 1"#, &mut l).unwrap();
    assert!(l.fired.is_empty());
    // A bare token that is not a JSON number is a string when tolerated.
    let mut l = Leniency::new(ClientProfile::Validator);
    assert_eq!(
        parse_filter("externalId eq 00123", &mut l).unwrap(),
        cmp("externalId", CompareOp::Eq, "00123")
    );
}

#[test]
fn patch_paths() {
    let pp = parse_path(r#"emails[type eq "work"].value"#).unwrap();
    assert_eq!(pp.attr, AttrPath::with_sub("emails", "value"));
    assert_eq!(pp.filter, Some(cmp("type", CompareOp::Eq, "work")));
    assert_eq!(pp.to_string(), r#"emails[type eq "work"].value"#);

    let pp = parse_path(r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#).unwrap();
    assert_eq!(pp.attr, p("members"));
    assert_eq!(
        pp.filter,
        Some(cmp(
            "value",
            CompareOp::Eq,
            "2819c223-7f76-453a-919d-413861904646"
        ))
    );

    let pp = parse_path("name.givenName").unwrap();
    assert_eq!(
        pp,
        PatchPath {
            attr: AttrPath::with_sub("name", "givenName"),
            filter: None
        }
    );

    let pp = parse_path(&format!("{ENTERPRISE}:employeeNumber")).unwrap();
    assert_eq!(pp.attr.urn.as_deref(), Some(ENTERPRISE));
    assert_eq!(pp.attr.name, "employeeNumber");
    assert_eq!(pp.to_string(), format!("{ENTERPRISE}:employeeNumber"));

    let pp = parse_path(&format!("{ENTERPRISE}:manager.value")).unwrap();
    assert_eq!(pp.attr.sub.as_deref(), Some("value"));

    let pp = parse_path(&format!("{ENTERPRISE}:manager[value pr].displayName")).unwrap();
    assert_eq!(
        pp.to_string(),
        format!("{ENTERPRISE}:manager[value pr].displayName")
    );

    assert_eq!(parse_path("members").unwrap().attr, p("members"));
    assert_eq!(parse_path(" active ").unwrap().attr, p("active"));

    for bad in [
        "",
        "   ",
        "emails[type eq \"work\"",
        "emails[type eq work]",
        "name.givenName[value pr]",
        "emails[type eq \"work\"].",
        "emails[type eq \"work\"].value.x",
        "emails[type eq \"work\"] x",
        "a.b.c",
        "1abc",
        "members value",
        "emails[type[value pr]]",
    ] {
        let e = parse_path(bad).unwrap_err();
        assert!(e.position <= bad.len(), "{bad:?}: {e}");
        let pe = e.clone().into_invalid_path();
        assert_eq!(pe.scim_type, ScimType::InvalidPath);
        assert!(pe.detail.contains(&format!("position {}", e.position)));
    }
}

/// (input, position, fragment the message must contain)
const ERRORS: &[(&str, usize, &str)] = &[
    (
        r#"userName equals "x""#,
        9,
        "expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after `userName`, found `equals`",
    ),
    ("userName eq", 11, "expected a value"),
    (
        r#"userName eq "x" and"#,
        19,
        "expected an attribute name, `(` or `not (`, found end of input",
    ),
    (r#"userName eq "x" or )"#, 19, "found `)`"),
    (
        r#"(userName eq "x""#,
        16,
        "expected `)` to close the `(` at position 0, found end of input",
    ),
    (r#"userName eq "x")"#, 15, "unbalanced `)`"),
    (r#"userName eq "x"]"#, 15, "unbalanced `]`"),
    (
        r#"userName eq "x" userName eq "y""#,
        16,
        "expected `and`, `or` or the end of the filter, found `userName`",
    ),
    (r#"userName eq "unterminated"#, 12, "unterminated string"),
    (r#"userName eq "bad \q""#, 18, "invalid string literal"),
    ("userName eq 12abc", 12, "invalid number `12abc`"),
    ("userName eq 01", 12, "invalid number"),
    ("userName eq 1e400", 12, "invalid number `1e400`"),
    ("userName eq 1.", 12, "invalid number"),
    ("userName eq -", 12, "invalid number"),
    ("userName eq 1e+", 12, "invalid number"),
    ("userName eq bjensen", 12, "found `bjensen`"),
    (
        "title pr \"x\"",
        9,
        "the `pr` operator takes no value, found `\"x\"`",
    ),
    ("title pr true", 9, "takes no value"),
    ("active gt true", 10, "`gt` cannot compare with `true`"),
    ("active le null", 10, "`le` cannot compare with `null`"),
    ("title co 1", 9, "`co` needs a string value"),
    ("title sw null", 9, "`sw` needs a string value"),
    (
        r#"not userName eq "x""#,
        4,
        "expected `(` after `not`, found `userName`",
    ),
    (r#"name.given.x eq "a""#, 10, "more than one `.`"),
    (r#"1abc eq "a""#, 0, "invalid attribute name `1abc`"),
    (r#"name.1x eq "a""#, 5, "invalid attribute name `1x`"),
    (
        r#"urn:x: eq "a""#,
        6,
        "expected an attribute name after the schema URN",
    ),
    (r#"userName="a""#, 8, "found `=`"),
    (
        r#"emails[type eq "work""#,
        21,
        "expected `]` to close the `[` at position 6",
    ),
    (
        r#"emails[type eq "work" userName pr]"#,
        22,
        "expected `and`, `or` or `]` to close the `[`",
    ),
    (r#"emails[type[value pr]]"#, 11, "value filters cannot be nested"),
    (
        r#"emails[name.x eq "a"]"#,
        7,
        "name a sub-attribute of `emails` only",
    ),
    (r#"name.x[value pr]"#, 6, "not the sub-attribute `name.x`"),
    (
        r#"emails[type eq "work"].value eq "x""#,
        22,
        "cannot be followed by `.subAttribute`",
    ),
    ("", 0, "empty filter"),
    ("   ", 3, "empty filter"),
    ("ünïcode eq \"x\"", 0, "found `ü`"),
    ("() ", 1, "expected an attribute name"),
];

#[test]
fn errors_say_what_was_expected_and_where() {
    for (input, position, fragment) in ERRORS {
        let e = err(input);
        assert_eq!(e.position, *position, "{input:?}: {e}");
        assert!(
            e.message.contains(fragment),
            "{input:?}: {e}\n  wanted: {fragment}"
        );
        assert_eq!(e.to_string(), format!("{} at position {}", e.message, e.position));
    }
}

#[test]
fn errors_become_invalid_filter() {
    let e = err(r#"userName equals "x""#);
    let pe: ProtocolError = e.into();
    assert_eq!(pe.scim_type, ScimType::InvalidFilter);
    assert!(pe.detail.contains("position 9"), "{}", pe.detail);
    assert!(pe.detail.contains("`equals`"), "{}", pe.detail);
}

#[test]
fn long_excerpts_are_cut() {
    let input = format!("userName {} \"x\"", "x".repeat(200));
    let e = err(&input);
    assert!(e.message.len() < 200, "{e}");
    assert!(e.message.contains('…'));
}

#[test]
fn depth_limit() {
    let nested = |n: usize| format!("{}a pr{}", "(".repeat(n), ")".repeat(n));
    assert!(parse_filter(&nested(MAX_DEPTH), &mut strict()).is_ok());
    let e = err(&nested(MAX_DEPTH + 1));
    assert_eq!(e.position, MAX_DEPTH);
    assert!(e.message.contains("nested too deeply"), "{e}");

    let nots = |n: usize| format!("{}a pr{}", "not (".repeat(n), ")".repeat(n));
    assert!(parse_filter(&nots(MAX_DEPTH), &mut strict()).is_ok());
    assert!(err(&nots(MAX_DEPTH + 1)).message.contains("nested too deeply"));

    // Far past the limit: an error, not a stack overflow.
    let e = err(&"(".repeat(1_000_000));
    assert!(e.message.contains("nested too deeply"));
    let e = err(&"not (".repeat(200_000));
    assert!(e.message.contains("nested too deeply"));
    // Brackets count too.
    let e = err(&format!(
        "{}emails[value pr]{}",
        "(".repeat(MAX_DEPTH),
        ")".repeat(MAX_DEPTH)
    ));
    assert!(e.message.contains("nested too deeply"), "{e}");
}

#[test]
fn term_limit_and_long_chains() {
    let chain = |n: usize, op: &str| {
        (0..n)
            .map(|i| format!("userName eq \"u{i}\""))
            .collect::<Vec<_>>()
            .join(op)
    };
    let f = parse(&chain(MAX_TERMS, " or "));
    // Long chains display, evaluate and drop without trouble.
    let text = f.to_string();
    assert_eq!(parse(&text), f);
    let user = super::fixtures::full_user();
    assert!(!matches(&f, &user, &user_schema()));
    let e = err(&chain(MAX_TERMS + 1, " and "));
    assert!(e.message.contains("too many expressions"), "{e}");
}

#[test]
fn display_is_canonical() {
    let cases = [
        ("A EQ 1 OR b Eq 2 AND c eq 3", "A eq 1 or b eq 2 and c eq 3"),
        ("(a eq 1 or b eq 2) and c eq 3", "(a eq 1 or b eq 2) and c eq 3"),
        ("a pr and (b pr and c pr)", "a pr and (b pr and c pr)"),
        ("a pr or (b pr or c pr)", "a pr or (b pr or c pr)"),
        ("((a pr or b pr)) or c pr", "a pr or b pr or c pr"),
        ("not(a pr)", "not (a pr)"),
        (
            r#"emails[type eq "work" or (value co "x")]"#,
            r#"emails[type eq "work" or value co "x"]"#,
        ),
        (r#"a eq "\u00e9\n""#, "a eq \"é\\n\""),
        ("a eq TRUE", "a eq true"),
        ("a eq 1.50", "a eq 1.5"),
    ];
    for (input, canonical) in cases {
        assert_eq!(parse(input).to_string(), canonical, "{input}");
    }
}

#[test]
fn schema_checks() {
    let users = user_schema();
    let check = |s: &str| parse_filter_with_schema(s, &mut strict(), &users);
    // Complex attributes with a `value` sub-attribute may be compared directly.
    assert!(check(r#"emails co "@x""#).is_ok());
    assert!(check(r#"emails[type eq "work"] and name.givenName eq "B""#).is_ok());
    assert!(check(&format!("{ENTERPRISE}:manager eq \"m\"")).is_ok());
    // Unknown attributes are not errors.
    assert!(check(r#"favouriteColour eq "blue" and id eq "x""#).is_ok());

    let e = check(r#"userName pr and name eq "Babs""#).unwrap_err();
    assert_eq!(e.position, 16);
    assert!(e.message.contains("`name` is a complex attribute"), "{e}");
    assert!(e.message.contains("`name.formatted`"), "{e}");
    // …but `pr` on it is fine.
    assert!(check("name pr").is_ok());

    let e = check(r#"active co "t""#).unwrap_err();
    assert!(e.message.contains("`active` is a boolean"), "{e}");
    let e = check(r#"emails[primary gt "a"]"#).unwrap_err();
    assert!(e.message.contains("`primary` is a boolean"), "{e}");
    assert!(check("emails[primary eq true]").is_ok());

    let e = check(r#"userName[value eq "x"]"#).unwrap_err();
    assert_eq!(e.position, 0);
    assert!(e.message.contains("not a complex attribute"), "{e}");

    let groups = group_schema();
    assert!(parse_filter_with_schema(r#"id eq "g" and members eq "u""#, &mut strict(), &groups).is_ok());
}

#[test]
fn worst_case_filters_fit_a_small_stack() {
    // MAX_TERMS expressions, with the `or` chain nested MAX_DEPTH - 1 levels deep and a
    // value path at the bottom: parse, display, evaluate, clone, compare and drop on a
    // 512 KiB stack (tokio's worker threads have 2 MiB).
    let handle = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(|| {
            let depth = MAX_DEPTH - 1;
            // The value path and its inner expression count as two terms.
            let chain = (0..MAX_TERMS - 2)
                .map(|i| format!("userName eq \"u{i}\""))
                .collect::<Vec<_>>()
                .join(" or ");
            let input = format!(
                "{}{chain} or emails[value pr]{}",
                "not (".repeat(depth),
                ")".repeat(depth)
            );
            let f = parse_filter(&input, &mut strict()).map_err(|e| e.to_string())?;
            let text = f.to_string();
            let again = parse_filter(&text, &mut strict()).map_err(|e| e.to_string())?;
            let user = super::fixtures::full_user();
            let m = matches(&f, &user, &user_schema());
            let copy = f.clone();
            Ok::<_, String>((copy == again, m))
        })
        .expect("spawn");
    let (same, m) = handle.join().expect("no stack overflow").expect("parses");
    assert!(same);
    // MAX_DEPTH - 1 = 63 `not`s around a chain that matches: false.
    assert!(!m);
}

#[test]
#[ignore = "timing probe; run with --ignored --nocapture"]
fn linear_time_probe() {
    for n in [100_000usize, 1_000_000, 4_000_000] {
        let inputs = [
            format!("a eq \"{}\"", "x".repeat(n)),
            format!(
                "{}a pr{}",
                "(".repeat(60),
                format!("{})", " ".repeat(n / 60)).repeat(60)
            ),
            format!("a eq {}", "1".repeat(n)),
            format!("{} eq 1", "a".repeat(n)),
            format!("a pr and {}", "b".repeat(n)),
            "a pr and ".repeat(n / 9),
        ];
        for (i, input) in inputs.iter().enumerate() {
            let t = std::time::Instant::now();
            let ok = parse_filter(input, &mut strict()).is_ok();
            println!("n={n} case={i} ok={ok} {:?}", t.elapsed());
        }
    }
}
