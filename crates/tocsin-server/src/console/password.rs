//! Console passwords: argon2id hashes in the PHC string format, the same text config files
//! carry (`tocsin user hash-password` prints one).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// Passwords shorter than this are refused when an account is made.
pub const MIN_PASSWORD: usize = 8;
/// Longer than this is refused outright: hashing cost must not be the client's to choose.
pub const MAX_PASSWORD: usize = 1024;

/// An argon2id hash with the crate's default cost (19 MiB, 2 passes) and a random salt.
pub fn hash(password: &str) -> String {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).expect("16 bytes is a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any password")
        .to_string()
}

/// Whether `password` matches `phc`; a malformed hash matches nothing.
pub fn verify(password: &str, phc: &str) -> bool {
    if password.len() > MAX_PASSWORD {
        return false;
    }
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Why a new password is refused, if it is.
pub fn weakness(password: &str) -> Option<String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD {
        Some(format!("password: at least {MIN_PASSWORD} characters"))
    } else if password.len() > MAX_PASSWORD {
        Some(format!("password: at most {MAX_PASSWORD} bytes"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("correct horse 电池");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse 电池", &h));
        assert!(!verify("correct horse", &h));
        assert!(!verify("correct horse 电池", "not a hash"));
        assert_ne!(h, hash("correct horse 电池"), "salts differ");
    }

    #[test]
    fn weak_and_huge_passwords_are_refused() {
        assert!(weakness("short").is_some());
        assert!(weakness(&"x".repeat(MAX_PASSWORD + 1)).is_some());
        assert!(weakness("longenough").is_none());
        assert!(weakness("八个汉字八个汉字").is_none());
    }
}
