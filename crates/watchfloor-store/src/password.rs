//! Password hashing: argon2id with OWASP's current minimum (m = 19 MiB, t = 2, p = 1) and a
//! random 16-byte salt per hash, as a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`).
//! Verification reads the parameters from the stored string, so raising them later keeps
//! old hashes valid. Both calls cost tens of milliseconds of CPU: call them off async threads.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password is too short (at least {MIN_LEN} characters)")]
    TooShort,
    #[error("the password is too long (at most {MAX_LEN} bytes)")]
    TooLong,
    #[error("no randomness for a salt: {0}")]
    Random(getrandom::Error),
    #[error("argon2: {0}")]
    Hash(String),
}

pub const MIN_LEN: usize = 12;
/// Bounds the work an unauthenticated request can cause.
pub const MAX_LEN: usize = 1024;

fn hasher() -> Result<Argon2<'static>, PasswordError> {
    let params =
        Params::new(19 * 1024, 2, 1, None).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Checks the length policy and hashes.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_LEN {
        return Err(PasswordError::TooShort);
    }
    if password.len() > MAX_LEN {
        return Err(PasswordError::TooLong);
    }
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(PasswordError::Random)?;
    let salt = SaltString::encode_b64(&raw).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| PasswordError::Hash(e.to_string()))?
        .to_string())
}

/// Whether `password` matches the stored PHC string. A malformed stored string or an
/// over-long password is simply "no".
pub fn verify(password: &str, stored: &str) -> bool {
    if password.len() > MAX_LEN {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    if parsed.algorithm.as_str() != "argon2id" {
        return false;
    }
    match hasher() {
        Ok(h) => h.verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A hash of a random password, verified against when the account does not exist so that
/// an unknown email costs as much time as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut raw = [0u8; 24];
        let _ = getrandom::fill(&mut raw);
        let pw: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        hash(&pw).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owasp_parameters_salted_and_verifiable() {
        let a = hash("correct horse battery").unwrap();
        let b = hash("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "a fresh salt per hash");
        assert!(!a.contains("correct horse"));
        assert!(verify("correct horse battery", &a));
        assert!(!verify("correct horse batterY", &a));
        assert!(!verify("x", "not a phc string"));
        assert!(matches!(hash("short"), Err(PasswordError::TooShort)));
        assert!(!verify("anything at all", dummy_hash()));
    }
}
