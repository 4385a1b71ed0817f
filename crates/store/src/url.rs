//! Database URLs as a person may see them.

/// `url` with its password (userinfo or a `password=` query parameter) replaced by `***`,
/// for banners and logs: a database URL is shown, its secret never.
pub fn redacted_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        // Not a URL we can take apart: show only its scheme.
        return match url.split_once(':') {
            Some((scheme, _)) => format!("{scheme}:***"),
            None => "***".to_owned(),
        };
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    if parsed
        .query_pairs()
        .any(|(k, _)| k.eq_ignore_ascii_case("password"))
    {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let v = if k.eq_ignore_ascii_case("password") {
                    "***".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_urls_keep_everything_but_the_password() {
        assert_eq!(
            redacted_url("postgres://scim:s3cret@db.example.com:5432/scim"),
            "postgres://scim:***@db.example.com:5432/scim"
        );
        assert_eq!(
            redacted_url("postgres://scim@db/scim?sslmode=require&password=s3cret"),
            "postgres://scim@db/scim?sslmode=require&password=***"
        );
        assert_eq!(redacted_url("sqlite://data/x.db"), "sqlite://data/x.db");
        assert!(!redacted_url("postgres://u:p%40ss@h/d").contains("p%40ss"));
    }
}
