//! Bearer tokens: shown once at generation, stored only as a SHA-256 hash.

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

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

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The hex SHA-256 stored at rest and used to look the token up.
    pub fn hash(&self) -> TokenHash {
        TokenHash(hex::encode(Sha256::digest(self.expose().as_bytes())))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
