//! Sensor tokens: `wfs_<token id>_<64 hex digits of 256 random bits>`.
//!
//! The store keeps SHA-256 of the secret part. The secret has 256 bits of entropy, so a fast
//! hash is enough (a slow KDF like argon2 protects guessable passwords, which these are not).
//! The token id in clear lets authentication fetch one row by primary key and then compare
//! hashes in constant time, rather than looking a secret-derived value up in an index.

use sha2::{Digest, Sha256};

pub const PREFIX: &str = "wfs_";
/// Personal (user) API tokens: `wfu_<token id>_<64 hex>`, same construction.
pub const USER_PREFIX: &str = "wfu_";

/// A fresh secret (64 hex digits); the caller builds the token once it knows the id.
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw)?;
    Ok(hex(&raw))
}

pub fn format_token(token_id: i64, secret: &str) -> String {
    format!("{PREFIX}{token_id}_{secret}")
}

/// The token id and secret, if the string has the shape of a token at all.
pub fn split(token: &str) -> Option<(i64, &str)> {
    split_with(PREFIX, token)
}

pub fn split_with<'a>(prefix: &str, token: &'a str) -> Option<(i64, &'a str)> {
    let rest = token.strip_prefix(prefix)?;
    let (id, secret) = rest.split_once('_')?;
    if secret.len() != 64 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some((id.parse().ok()?, secret))
}

pub fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Compares without an early exit, so the time taken says nothing about where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape() {
        let secret = new_secret().unwrap();
        let tok = format_token(42, &secret);
        assert_eq!(split(&tok), Some((42, secret.as_str())));
        assert_eq!(split("wfs_42_abc"), None);
        assert_eq!(split("Bearer x"), None);
        assert!(constant_time_eq(&hash(&secret), &hash(&secret)));
        assert!(!constant_time_eq(&hash(&secret), &hash("0")));
        assert_ne!(new_secret().unwrap(), secret);
    }
}
