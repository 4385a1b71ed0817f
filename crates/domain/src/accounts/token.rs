//! Bearer tokens: shown once at generation, stored only as a SHA-256 hash; when a token
//! issued now expires, and whether a presented token admits its request.

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{Fidelity, Principal};

/// A token as the client presents it. Never logged: `Debug` is redacted.
#[derive(Clone)]
pub struct BearerToken(SecretString);

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

impl BearerToken {
    /// A fresh random token: 244 bits from two v4 UUIDs (the OS RNG via `getrandom`),
    /// prefixed so it is recognisable in a secret scanner.
    pub fn generate() -> Self {
        let token = format!(
            "lscim_{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        BearerToken(SecretString::from(token))
    }

    /// Parse a client-supplied or configured token: printable ASCII, 8–512 characters.
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = (8..=512).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| BearerToken(SecretString::from(raw.to_owned())))
    }

    /// Parse an admin token chosen on the command line. It opens every account, so it
    /// must be hard to guess: at least [`ADMIN_TOKEN_MIN_LEN`] characters with at least
    /// [`ADMIN_TOKEN_MIN_DISTINCT`] different ones (no `aaaa…`, no word repeated).
    pub fn parse_admin(raw: &str) -> Result<Self, WeakAdminToken> {
        if raw.len() < ADMIN_TOKEN_MIN_LEN {
            return Err(WeakAdminToken::Short(raw.len()));
        }
        let token = Self::parse(raw).ok_or(WeakAdminToken::Unprintable)?;
        let distinct = raw.bytes().collect::<std::collections::HashSet<u8>>().len();
        if distinct < ADMIN_TOKEN_MIN_DISTINCT {
            return Err(WeakAdminToken::Repetitive(distinct));
        }
        Ok(token)
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The hex SHA-256 stored at rest and used to look the token up.
    pub fn hash(&self) -> TokenHash {
        TokenHash(hex::encode(Sha256::digest(self.expose().as_bytes())))
    }
}

/// The shortest admin token accepted (a generated one has 70 characters).
pub const ADMIN_TOKEN_MIN_LEN: usize = 32;
/// The fewest different characters an admin token may have.
pub const ADMIN_TOKEN_MIN_DISTINCT: usize = 10;

/// Why a chosen admin token is refused; the message says how to make a good one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WeakAdminToken {
    #[error(
        "{0} characters is too short to resist guessing: use at least {ADMIN_TOKEN_MIN_LEN} (e.g. `openssl rand -hex 24`)"
    )]
    Short(usize),
    #[error("use printable ASCII characters only, no spaces, at most 512 (e.g. `openssl rand -hex 24`)")]
    Unprintable,
    #[error(
        "only {0} different characters: too easy to guess; use at least {ADMIN_TOKEN_MIN_DISTINCT} different ones (e.g. `openssl rand -hex 24`)"
    )]
    Repetitive(usize),
}

/// Hex SHA-256 of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHash(pub String);

impl TokenHash {
    /// Constant-time comparison, so a lookup hit is confirmed without a timing side channel.
    pub fn matches(&self, other: &str) -> bool {
        self.0.as_bytes().ct_eq(other.as_bytes()).into()
    }
}

/// When a token issued at `now` (microseconds) expires under the account's fidelity
/// settings; `None`: never.
pub fn token_expiry(fidelity: &Fidelity, now: i64) -> Option<i64> {
    fidelity
        .token_ttl_seconds
        .map(|ttl| now.saturating_add(ttl.saturating_mul(1_000_000)))
}

/// What the store found for a presented token's hash: the configuration it belongs to,
/// the hash stored with it, and when it expires.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredToken {
    pub principal: Principal,
    pub token_hash: TokenHash,
    pub expires_at: Option<i64>,
}

/// Why a presented token does not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    Unknown,
    Expired,
}

/// Does the token whose hash is `presented` admit a request at `now`? `found` is what
/// the store holds under that hash; the hit is confirmed in constant time, and a token
/// is expired from its expiry instant on.
pub fn admit(
    presented: &TokenHash,
    found: Option<StoredToken>,
    now: i64,
) -> Result<Principal, TokenRejection> {
    let found = found.ok_or(TokenRejection::Unknown)?;
    if !presented.matches(&found.token_hash.0) {
        return Err(TokenRejection::Unknown);
    }
    if found.expires_at.is_some_and(|at| at <= now) {
        return Err(TokenRejection::Expired);
    }
    Ok(found.principal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::{Account, FidelityPreset, PatchResponse, ScimConfiguration};

    #[test]
    fn an_admin_token_must_be_long_and_varied() {
        assert_eq!(
            BearerToken::parse_admin("ci-admin-token").map(|_| ()),
            Err(WeakAdminToken::Short(14))
        );
        assert_eq!(
            BearerToken::parse_admin(&"ab".repeat(20)).map(|_| ()),
            Err(WeakAdminToken::Repetitive(2))
        );
        assert_eq!(
            BearerToken::parse_admin(&"changeme".repeat(4)).map(|_| ()),
            Err(WeakAdminToken::Repetitive(7))
        );
        assert_eq!(
            BearerToken::parse_admin(&format!("{} with spaces", "x".repeat(32))).map(|_| ()),
            Err(WeakAdminToken::Unprintable)
        );
        assert!(BearerToken::parse_admin("ci-admin-token-for-tests-0123456789").is_ok());
        let generated = BearerToken::generate();
        assert!(BearerToken::parse_admin(generated.expose()).is_ok());
        assert!(WeakAdminToken::Short(8).to_string().contains("at least 32"));
    }

    #[test]
    fn generated_tokens_are_unique_and_parse_back() {
        let a = BearerToken::generate();
        let b = BearerToken::generate();
        assert_ne!(a.expose(), b.expose());
        assert!(BearerToken::parse(a.expose()).is_some());
        assert_eq!(a.hash().0.len(), 64);
    }

    #[test]
    fn rejects_short_or_non_printable_tokens() {
        assert!(BearerToken::parse("short").is_none());
        assert!(BearerToken::parse("has a space in it").is_none());
        assert!(BearerToken::parse("acme-salesnav-token").is_some());
    }

    #[test]
    fn hash_matches_in_constant_time() {
        let t = BearerToken::parse("acme-sync-token").expect("valid");
        let h = t.hash();
        assert!(h.matches(&t.hash().0));
        assert!(!h.matches("00"));
        assert!(!format!("{t:?}").contains("acme"));
    }

    fn stored(hash: &TokenHash, expires_at: Option<i64>) -> StoredToken {
        let fidelity = FidelityPreset::Rfc.settings();
        StoredToken {
            principal: Principal {
                account: Account {
                    id: "a1".into(),
                    name: "acme".into(),
                    fidelity,
                },
                configuration: ScimConfiguration {
                    id: "c1".into(),
                    account_id: "a1".into(),
                    name: "Okta".into(),
                    client_profile: Default::default(),
                    auto_assign: None,
                    patch_response: PatchResponse::Resource,
                },
            },
            token_hash: hash.clone(),
            expires_at,
        }
    }

    #[test]
    fn a_token_admits_until_its_expiry_instant() {
        let hash = BearerToken::parse("acme-sync-token").expect("valid").hash();
        assert_eq!(admit(&hash, None, 0), Err(TokenRejection::Unknown));
        let principal = admit(&hash, Some(stored(&hash, None)), i64::MAX).expect("no expiry");
        assert_eq!(principal.configuration.name, "Okta");
        assert!(admit(&hash, Some(stored(&hash, Some(10))), 9).is_ok());
        assert_eq!(
            admit(&hash, Some(stored(&hash, Some(10))), 10),
            Err(TokenRejection::Expired)
        );
        let other = BearerToken::parse("another-token").expect("valid").hash();
        assert_eq!(
            admit(&other, Some(stored(&hash, None)), 0),
            Err(TokenRejection::Unknown)
        );
    }

    #[test]
    fn expiry_follows_the_fidelity_ttl() {
        let linkedin = FidelityPreset::Linkedin.settings();
        assert_eq!(
            token_expiry(&linkedin, 5),
            Some(5 + super::super::TWO_YEARS_SECONDS * 1_000_000)
        );
        assert_eq!(token_expiry(&FidelityPreset::Rfc.settings(), 5), None);
        let mut huge = linkedin;
        huge.token_ttl_seconds = Some(i64::MAX);
        assert_eq!(token_expiry(&huge, 5), Some(i64::MAX));
    }
}

/// The configuration a revoked token (refreshed, or its configuration deleted) named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedToken {
    pub account_id: String,
    pub configuration_id: String,
    pub configuration_name: String,
}
