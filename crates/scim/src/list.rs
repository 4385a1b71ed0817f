//! List and search requests (RFC 7644 §3.4.2, §3.4.3): query parameters or a
//! `SearchRequest` body, parsed into one validated request; and the ListResponse.

use serde::Deserialize;
use serde_json::{Value, json};

use super::cursor::{Cursor, fingerprint};
use super::error::ProtocolError;
use super::filter::{Filter, parse_filter_with_schema};
use super::limits::{check_filter_text, check_filter_work};
use super::projection::parse_attribute_list;
use super::schema::{AttrPath, ResourceSchema};
use super::tolerance::Leniency;

pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Ascending,
    Descending,
}

/// The list parameters as the client sent them, before validation. Query strings give
/// text; a SearchRequest body gives JSON, converted by [`RawListParams::from_search_body`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawListParams {
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub start_index: Option<String>,
    pub count: Option<String>,
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
    /// RFC 9865: present (even empty) asks for cursor paging.
    pub cursor: Option<String>,
}

/// A validated list request.
#[derive(Debug, Clone)]
pub struct ListRequest {
    pub filter: Option<Filter>,
    pub sort_by: Option<AttrPath>,
    pub sort_order: SortOrder,
    /// 1-based.
    pub start_index: u64,
    pub count: u64,
    pub attributes: Vec<AttrPath>,
    pub excluded_attributes: Vec<AttrPath>,
    /// Cursor paging (RFC 9865) in creation order, instead of `startIndex`.
    pub cursor: Option<Cursor>,
}

fn integer(name: &str, text: &str) -> Result<i64, ProtocolError> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| ProtocolError::invalid_value(format!("{name} must be an integer, got {text:?}")))
}

fn attribute_list(text: &Option<String>) -> Result<Vec<AttrPath>, ProtocolError> {
    match text.as_deref() {
        None => Ok(Vec::new()),
        Some(t) => parse_attribute_list(t),
    }
}

impl RawListParams {
    /// Read a `POST …/.search` body (RFC 7644 §3.4.3).
    pub fn from_search_body(body: &Value) -> Result<RawListParams, ProtocolError> {
        let Value::Object(map) = body else {
            return Err(ProtocolError::invalid_syntax(
                "a SearchRequest must be a JSON object",
            ));
        };
        let schemas_ok = map
            .get("schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|u| u.as_str() == Some(SEARCH_REQUEST)));
        if !schemas_ok {
            return Err(ProtocolError::invalid_syntax(format!(
                "schemas must contain {SEARCH_REQUEST}"
            )));
        }
        let text = |key: &str| -> Result<Option<String>, ProtocolError> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| {
                        i.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| ProtocolError::invalid_value(format!("{key} must list strings")))
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(|v| Some(v.join(","))),
                Some(_) => Err(ProtocolError::invalid_value(format!("{key} has the wrong type"))),
            }
        };
        Ok(RawListParams {
            filter: text("filter")?,
            sort_by: text("sortBy")?,
            sort_order: text("sortOrder")?,
            start_index: text("startIndex")?,
            count: text("count")?,
            attributes: text("attributes")?,
            excluded_attributes: text("excludedAttributes")?,
            cursor: text("cursor")?,
        })
    }

    /// Just `attributes` and `excludedAttributes`, for single-resource responses.
    pub fn projection(&self) -> Result<(Vec<AttrPath>, Vec<AttrPath>), ProtocolError> {
        Ok((
            attribute_list(&self.attributes)?,
            attribute_list(&self.excluded_attributes)?,
        ))
    }

    /// `startIndex` and `count` alone (see [`RawListParams::parse`]): what a search across
    /// resource types pages by.
    pub fn paging(&self, max_page_size: u32) -> Result<(u64, u64), ProtocolError> {
        let start_index = match &self.start_index {
            None => 1,
            Some(s) => integer("startIndex", s)?.max(1) as u64,
        };
        let count = match &self.count {
            None => u64::from(max_page_size),
            Some(s) => (integer("count", s)?.max(0) as u64).min(u64::from(max_page_size)),
        };
        Ok((start_index, count))
    }

    /// Validate. `startIndex` < 1 means 1 and a negative `count` means 0 (RFC 7644
    /// §3.4.2.4); a count above `max_page_size` is lowered to it (RFC: the provider
    /// may return fewer results than asked, `itemsPerPage` tells).
    pub fn parse(
        &self,
        max_page_size: u32,
        schema: &ResourceSchema,
        leniency: &mut Leniency,
    ) -> Result<ListRequest, ProtocolError> {
        let filter = match self.filter.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => {
                check_filter_text(text)?;
                let filter = parse_filter_with_schema(text, leniency, schema).map_err(ProtocolError::from)?;
                check_filter_work(&filter, schema)?;
                Some(filter)
            }
        };
        let sort_by = match self.sort_by.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(AttrPath::parse(text)?),
        };
        let sort_order = match self.sort_order.as_deref().map(str::trim) {
            None | Some("") => SortOrder::Ascending,
            Some(o) if o.eq_ignore_ascii_case("ascending") => SortOrder::Ascending,
            Some(o) if o.eq_ignore_ascii_case("descending") => SortOrder::Descending,
            Some(o) => {
                return Err(ProtocolError::invalid_value(format!(
                    "sortOrder must be \"ascending\" or \"descending\", got {o:?}"
                )));
            }
        };
        let (start_index, count) = self.paging(max_page_size)?;
        let cursor = match &self.cursor {
            None => None,
            // RFC 9865 §2: a request pages by index or by cursor, not both. Cursor
            // pages follow creation order (the keyset the store pages on).
            Some(_) if self.start_index.is_some() => {
                return Err(ProtocolError::invalid_value(
                    "cursor and startIndex cannot be combined: page by one or the other",
                ));
            }
            Some(_) if sort_by.is_some() => {
                return Err(ProtocolError::invalid_value(
                    "cursor paging follows creation order: sortBy cannot be combined with cursor",
                ));
            }
            Some(token) => Some(Cursor::decode(token, &fingerprint(filter.as_ref()))?),
        };
        Ok(ListRequest {
            filter,
            sort_by,
            sort_order,
            start_index,
            count,
            attributes: attribute_list(&self.attributes)?,
            excluded_attributes: attribute_list(&self.excluded_attributes)?,
            cursor,
        })
    }
}

/// The ListResponse body of a cursor-paged request (RFC 9865 §2.2): no `startIndex`;
/// `nextCursor` / `previousCursor` when there is such a page.
pub fn cursor_list_response(
    total: u64,
    resources: Vec<Value>,
    next: Option<String>,
    previous: Option<String>,
) -> Value {
    let mut body = json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    if let Some(next) = next {
        body["nextCursor"] = json!(next);
    }
    if let Some(previous) = previous {
        body["previousCursor"] = json!(previous);
    }
    body
}

/// The ListResponse body (RFC 7644 §3.4.2); counters are JSON integers (Okta checks).
pub fn list_response(total: u64, start_index: u64, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tolerance::ClientProfile;

    fn parse(raw: RawListParams) -> Result<ListRequest, ProtocolError> {
        raw.parse(
            100,
            crate::catalog::user_schema(),
            &mut Leniency::new(ClientProfile::Strict),
        )
    }

    #[test]
    fn paging_follows_rfc_bounds() {
        let r = parse(RawListParams {
            start_index: Some("-4".into()),
            count: Some("-1".into()),
            ..Default::default()
        })
        .expect("valid");
        assert_eq!((r.start_index, r.count), (1, 0));
        let r = parse(RawListParams {
            count: Some("5000".into()),
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(r.count, 100);
        assert!(
            parse(RawListParams {
                count: Some("ten".into()),
                ..Default::default()
            })
            .is_err()
        );
    }

    #[test]
    fn search_body_becomes_params() {
        let raw = RawListParams::from_search_body(&json!({
            "schemas": [SEARCH_REQUEST],
            "filter": "userName eq \"a\"",
            "startIndex": 3,
            "attributes": ["userName", "name.givenName"],
        }))
        .expect("valid");
        assert_eq!(raw.start_index.as_deref(), Some("3"));
        assert_eq!(raw.attributes.as_deref(), Some("userName,name.givenName"));
        assert!(RawListParams::from_search_body(&json!({"filter": "x"})).is_err());
    }

    #[test]
    fn list_response_counts_are_integers() {
        let body = list_response(7, 1, vec![json!({"id": "1"})]);
        assert_eq!(body["totalResults"], json!(7));
        assert_eq!(body["itemsPerPage"], json!(1));
    }
}
