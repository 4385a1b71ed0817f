//! Secrets never reach the journal: credentials in headers, and passwords, tokens and
//! secrets in JSON bodies (also a PATCH operation whose path names one).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_json::Value;

pub(crate) const REDACTED: &str = "[redacted]";

/// What a name contains when it says its value is a secret (lower case).
const SECRET_WORDS: [&str; 7] = [
    "password",
    "token",
    "secret",
    "cookie",
    "api-key",
    "apikey",
    "authorization",
];

/// A name that says its value is a secret.
fn secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|s| name.contains(s))
}

/// Headers, as (name, value) pairs in the order received, as name → value (repeated
/// headers joined with ", "), credentials redacted; `Authorization` keeps its scheme
/// (`Bearer [redacted]`), which tests may assert on.
pub fn redact_headers<'h>(
    headers: impl IntoIterator<Item = (&'h str, &'h [u8])>,
) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let text = String::from_utf8_lossy(value);
        let shown = if name.eq_ignore_ascii_case("authorization") {
            match text.split_once(' ') {
                Some((scheme, _)) => format!("{scheme} {REDACTED}"),
                None => REDACTED.to_owned(),
            }
        } else if secret_name(name) {
            REDACTED.to_owned()
        } else {
            text.into_owned()
        };
        out.entry(name.to_ascii_lowercase())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&shown);
            })
            .or_insert(shown);
    }
    out
}

/// A body as text with its secrets redacted. Whole JSON is redacted by structure; a body
/// that is not JSON (or was cut at the cap) by pattern: every `"…secret name…": "value"`.
pub fn redact_body(bytes: &[u8]) -> String {
    // Most bodies (every user read) name no secret: kept as they are, without a parse.
    // A JSON escape could spell a secret name, so a body with one takes the full path.
    static MAYBE_SECRET: LazyLock<Option<regex::bytes::Regex>> = LazyLock::new(|| {
        let words: Vec<String> = SECRET_WORDS.iter().map(|w| regex::escape(w)).collect();
        regex::bytes::Regex::new(&format!(r"(?i){}|\\u", words.join("|"))).ok()
    });
    if let (Some(re), Ok(text)) = (MAYBE_SECRET.as_ref(), std::str::from_utf8(bytes))
        && !re.is_match(bytes)
    {
        return text.to_owned();
    }
    if let Ok(mut value) = serde_json::from_slice::<Value>(bytes) {
        redact_value(&mut value);
        return value.to_string();
    }
    static SECRET_MEMBER: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
        regex::Regex::new(r#"(?i)("[^"]*(?:password|token|secret)[^"]*"\s*:\s*)"(?:[^"\\]|\\.)*("|$)"#).ok()
    });
    let text = String::from_utf8_lossy(bytes);
    match SECRET_MEMBER.as_ref() {
        Some(re) => re
            .replace_all(&text, format!("${{1}}\"{REDACTED}\""))
            .into_owned(),
        // The pattern is a constant that compiles; without it, keep nothing rather than leak.
        None => REDACTED.to_owned(),
    }
}

fn redact_value(value: &mut Value) {
    match value {
        Value::Object(members) => {
            let names_secret = members
                .get("path")
                .and_then(Value::as_str)
                .is_some_and(secret_name);
            for (name, member) in members.iter_mut() {
                if secret_name(name) || (names_secret && name.eq_ignore_ascii_case("value")) {
                    *member = Value::String(REDACTED.to_owned());
                } else {
                    redact_value(member);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_value),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_secrets_are_redacted_by_structure() {
        let body = br#"{"userName":"a","password":"p1","Operations":[{"op":"replace","path":"password","value":"p2"},{"op":"add","value":{"Password":"p3"}}]}"#;
        let shown = redact_body(body);
        assert!(
            !shown.contains("p1") && !shown.contains("p2") && !shown.contains("p3"),
            "{shown}"
        );
        assert!(shown.contains(r#""userName":"a""#), "{shown}");
    }

    #[test]
    fn bodies_without_a_secret_name_are_kept_as_sent() {
        let body = br#"{ "userName": "a", "emails": [{"value": "a@example.com"}] }"#;
        assert_eq!(redact_body(body), String::from_utf8_lossy(body));
        // An escaped secret name is still found and redacted.
        let shown = redact_body(br#"{"userName":"a","\u0070assword":"hunter2"}"#);
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn cut_bodies_are_redacted_by_pattern() {
        let shown = redact_body(br#"{"userName":"a","password":"hunter2","emails":[{"va"#);
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(redact_body(br#"{"x":1,"accessToken":"abc"#).ends_with(r#""accessToken":"[redacted]""#));
    }

    #[test]
    fn credentials_in_headers_are_redacted() {
        let headers: [(&str, &[u8]); 4] = [
            ("Authorization", b"Bearer abc"),
            ("x-api-token", b"abc"),
            ("user-agent", b"Okta SCIM Client"),
            ("accept", b"application/scim+json"),
        ];
        let shown = redact_headers(headers);
        assert_eq!(shown["authorization"], "Bearer [redacted]");
        assert_eq!(shown["x-api-token"], REDACTED);
        assert_eq!(shown["user-agent"], "Okta SCIM Client");
        assert_eq!(shown["accept"], "application/scim+json");
    }
}
