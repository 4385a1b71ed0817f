//! Cursor paging (RFC 9865): the opaque cursors `nextCursor` / `previousCursor` carry.
//! A cursor is the keyset position of a page edge (the creation time and insertion
//! sequence of the resource there, the order every cursor-paged list uses), its direction, and a
//! fingerprint of the query it belongs to, hex-encoded with a checksum. Decoding
//! refuses anything this server did not issue for the same query with 400
//! `invalidCursor` (RFC 9865 §5). The checksum detects edits, not forgeries: a forged
//! cursor only moves the page within the caller's own account, which a filter can do.

use sha2::{Digest, Sha256};

use super::error::{ProtocolError, ScimType};
use super::filter::Filter;

/// Where a cursor-paged list request starts (`cursor` empty: the first page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    First,
    /// The page after this position (`nextCursor`).
    After(Position),
    /// The page before this position (`previousCursor`).
    Before(Position),
}

/// A resource's place in creation order: the keyset the store pages on. The insertion
/// sequence breaks ties of a clock that stands still (a manual clock) in the order the
/// resources were created, so where a resource created during a walk falls is a rule,
/// not a random id's luck.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub created_at: i64,
    pub seq: i64,
}

/// v2: positions by insertion sequence (v1's, by id, are refused as invalid).
const CHECK: &str = "linkedin-scim cursor v2";

fn checksum(payload: &str) -> String {
    let digest = Sha256::new_with_prefix(CHECK).chain_update(payload).finalize();
    hex::encode(&digest[..8])
}

/// What ties a cursor to its query: the filter (the page size may change between pages).
pub fn fingerprint(filter: Option<&Filter>) -> String {
    let digest = Sha256::digest(format!("{filter:?}"));
    hex::encode(&digest[..8])
}

impl Cursor {
    /// The opaque token for `nextCursor` (`After`) or `previousCursor` (`Before`).
    pub fn encode(&self, fingerprint: &str) -> Option<String> {
        let (direction, position) = match self {
            Cursor::First => return None,
            Cursor::After(p) => ('n', p),
            Cursor::Before(p) => ('p', p),
        };
        let payload = format!(
            "{direction}:{}:{fingerprint}:{}",
            position.created_at, position.seq
        );
        Some(format!("{}{}", hex::encode(&payload), checksum(&payload)))
    }

    /// Read a `cursor` parameter: empty is the first page; anything else must be a
    /// cursor this server issued for a query with this `fingerprint`.
    pub fn decode(token: &str, fingerprint: &str) -> Result<Cursor, ProtocolError> {
        let token = token.trim();
        if token.is_empty() {
            return Ok(Cursor::First);
        }
        let invalid = || {
            ProtocolError::new(
                ScimType::InvalidCursor,
                "the cursor is not valid for this query: send an empty cursor for the first page, \
                 then the nextCursor or previousCursor of the previous response",
            )
        };
        let split = token.len().checked_sub(16).ok_or_else(invalid)?;
        let (body, check) = (token.get(..split).ok_or_else(invalid)?, &token[split..]);
        let payload = hex::decode(body)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(invalid)?;
        if checksum(&payload) != check {
            return Err(invalid());
        }
        let mut parts = payload.splitn(4, ':');
        let (Some(direction), Some(created_at), Some(print), Some(seq)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        if print != fingerprint {
            return Err(invalid());
        }
        let position = Position {
            created_at: created_at.parse().map_err(|_| invalid())?,
            seq: seq.parse().map_err(|_| invalid())?,
        };
        match direction {
            "n" => Ok(Cursor::After(position)),
            "p" => Ok(Cursor::Before(position)),
            _ => Err(invalid()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_edits_and_other_queries() {
        let print = fingerprint(None);
        let next = Cursor::After(Position {
            created_at: 1_700_000_000_000_000,
            seq: 42,
        });
        let token = next.encode(&print).expect("token");
        assert_eq!(Cursor::decode(&token, &print), Ok(next));
        assert_eq!(Cursor::decode("", &print), Ok(Cursor::First));
        // One changed character, a truncated token, another query's cursor: refused.
        let mut edited = token.clone().into_bytes();
        edited[3] = if edited[3] == b'0' { b'1' } else { b'0' };
        let edited = String::from_utf8(edited).expect("ascii");
        for bad in [edited.as_str(), &token[1..], "zz", "not a cursor at all, no"] {
            let error = Cursor::decode(bad, &print).expect_err(bad);
            assert_eq!(error.scim_type, ScimType::InvalidCursor, "{bad}");
        }
        let other = fingerprint(Some(
            &crate::filter::parse_filter("userName pr", &mut crate::tolerance::Leniency::default())
                .expect("filter"),
        ));
        assert!(Cursor::decode(&token, &other).is_err());
    }
}
