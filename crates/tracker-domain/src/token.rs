//! Token minting and hashing.
//!
//! Tokens are 256 random bits behind a prefix that names their kind, so a
//! leaked string is recognisable (secret scanners key on prefixes) and a token
//! of one kind is never accepted as another. Only the SHA-256 of a token is
//! ever stored.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// An OAuth token, sent as `Authorization: OAuth <token>`.
    OAuth,
    /// A short-lived IAM token, sent as `Authorization: Bearer <token>`.
    Iam,
}

impl TokenKind {
    pub fn prefix(self) -> &'static str {
        match self {
            TokenKind::OAuth => "y0_",
            TokenKind::Iam => "t1.",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::OAuth => "oauth",
            TokenKind::Iam => "iam",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "oauth" => Some(TokenKind::OAuth),
            "iam" => Some(TokenKind::Iam),
            _ => None,
        }
    }

    /// Mints a fresh token of this kind: the prefix and 256 random bits.
    pub fn mint(self) -> String {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        format!("{}{}", self.prefix(), URL_SAFE_NO_PAD.encode(bytes))
    }
}

/// A stored kind, read back (e.g. by a database row mapper).
impl TryFrom<String> for TokenKind {
    type Error = Unreadable;
    fn try_from(s: String) -> Result<Self, Unreadable> {
        TokenKind::parse(&s).ok_or_else(|| Unreadable(format!("token kind {s:?}")))
    }
}

/// A stored value that does not read back as what it should be.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unreadable {0}")]
pub struct Unreadable(pub String);

/// The SHA-256 of a token, the only form in which tokens are stored.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(s: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Self(out))
    }
}

/// A stored hash in hex, read back (e.g. by a database row mapper).
impl TryFrom<String> for TokenHash {
    type Error = Unreadable;
    fn try_from(hex: String) -> Result<Self, Unreadable> {
        TokenHash::from_hex(&hex).ok_or_else(|| Unreadable("token hash".into()))
    }
}

// Deliberately shows only a short fingerprint: a hash is not the secret, but
// logs have no need for the whole of it.
impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({}…)", &self.to_hex()[..8])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_tokens_carry_the_y0_prefix_and_256_random_bits() {
        let t = TokenKind::OAuth.mint();
        assert!(t.starts_with("y0_"));
        let body = URL_SAFE_NO_PAD.decode(&t[3..]).unwrap();
        assert_eq!(body.len(), 32);
    }

    #[test]
    fn iam_tokens_carry_the_t1_prefix() {
        let t = TokenKind::Iam.mint();
        assert!(t.starts_with("t1."));
        assert_eq!(URL_SAFE_NO_PAD.decode(&t[3..]).unwrap().len(), 32);
    }

    #[test]
    fn two_minted_tokens_differ() {
        assert_ne!(TokenKind::OAuth.mint(), TokenKind::OAuth.mint());
    }

    #[test]
    fn hashes_are_sha256_and_round_trip_through_hex() {
        let h = TokenHash::of("abc");
        assert_eq!(
            h.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(TokenHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(TokenHash::from_hex("zz"), None);
    }

    #[test]
    fn debug_output_never_shows_the_whole_hash() {
        let h = TokenHash::of("secret");
        assert!(!format!("{h:?}").contains(&h.to_hex()));
    }
}
