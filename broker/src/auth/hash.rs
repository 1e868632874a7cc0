//! Password hashes: the two Mosquitto formats, read unchanged, and argon2id
//! (PHC string), which every new entry gets.
//!
//! Mosquitto (`src/password_mosq.c`, 1.x and 2.x) writes
//! - `$6$<salt>$<hash>`: SHA-512 over the password then the salt;
//! - `$7$<iterations>$<salt>$<hash>`: PBKDF2-HMAC-SHA512, the 2.x default
//!   (101 iterations),
//!
//! with salt (12 bytes) and hash (64 bytes) in standard, padded base64.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash as Phc, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

/// Why a stored hash cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// No `$` prefix: the file holds a clear-text password.
    #[error(
        "the password is stored in clear text; hash it with `courtier passwd` (or `mosquitto_passwd -U`)"
    )]
    Plaintext,
    /// A `$id$` we do not know.
    #[error("unknown hash type `{0}` (expected $6$, $7$ or $argon2id$)")]
    UnknownType(String),
    /// A new hash could not be made (no system randomness).
    #[error("cannot hash the password: {0}")]
    Hashing(String),
    /// The fields of a known type are malformed.
    #[error("malformed {kind} hash: {problem}")]
    Malformed {
        /// Which format.
        kind: &'static str,
        /// What is wrong.
        problem: &'static str,
    },
}

/// SHA-512 output length: Mosquitto's hashes are always this long.
const SHA512_LEN: usize = 64;

/// A parsed, verifiable password hash.
#[derive(Clone, PartialEq, Eq)]
pub enum StoredHash {
    /// Mosquitto `$6$`: SHA-512(password ‖ salt).
    Sha512 {
        /// Raw salt bytes.
        salt: Vec<u8>,
        /// Raw digest.
        hash: [u8; SHA512_LEN],
    },
    /// Mosquitto `$7$`: PBKDF2-HMAC-SHA512.
    Pbkdf2Sha512 {
        /// Iteration count (at least 1).
        iterations: u32,
        /// Raw salt bytes.
        salt: Vec<u8>,
        /// Raw derived key.
        hash: [u8; SHA512_LEN],
    },
    /// An argon2 PHC string (`$argon2id$v=19$m=..,t=..,p=..$salt$hash`),
    /// kept as text: it carries its own parameters and re-parses cheaply.
    Argon2(String),
}

// Never print hashes or salts, even in debug logs.
impl std::fmt::Debug for StoredHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Sha512 { .. } => "StoredHash::Sha512",
            Self::Pbkdf2Sha512 { .. } => "StoredHash::Pbkdf2Sha512",
            Self::Argon2(_) => "StoredHash::Argon2",
        })
    }
}

impl StoredHash {
    /// Parse the part of a password-file line after `user:`.
    pub fn parse(text: &str) -> Result<Self, HashError> {
        let Some(rest) = text.strip_prefix('$') else {
            return Err(HashError::Plaintext);
        };
        let (kind, body) = rest.split_once('$').unwrap_or((rest, ""));
        match kind {
            "6" => {
                let malformed = |problem| HashError::Malformed {
                    kind: "$6$ (SHA-512)",
                    problem,
                };
                let (salt, hash) = body
                    .split_once('$')
                    .ok_or(malformed("expected $6$<salt>$<hash>"))?;
                Ok(Self::Sha512 {
                    salt: decode_salt(salt).ok_or(malformed("salt is not base64"))?,
                    hash: decode_digest(hash).ok_or(malformed("hash is not 64 bytes of base64"))?,
                })
            }
            "7" => {
                let malformed = |problem| HashError::Malformed {
                    kind: "$7$ (PBKDF2-SHA512)",
                    problem,
                };
                let mut fields = body.split('$');
                let (Some(iterations), Some(salt), Some(hash), None) =
                    (fields.next(), fields.next(), fields.next(), fields.next())
                else {
                    return Err(malformed("expected $7$<iterations>$<salt>$<hash>"));
                };
                let iterations = iterations
                    .parse::<u32>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or(malformed("iterations must be a positive number"))?;
                Ok(Self::Pbkdf2Sha512 {
                    iterations,
                    salt: decode_salt(salt).ok_or(malformed("salt is not base64"))?,
                    hash: decode_digest(hash).ok_or(malformed("hash is not 64 bytes of base64"))?,
                })
            }
            "argon2id" | "argon2i" | "argon2d" => {
                // A PHC string parses without salt or hash; neither can verify.
                let phc = Phc::new(text)
                    .ok()
                    .filter(|p| p.salt.is_some() && p.hash.is_some());
                if phc.is_none() {
                    return Err(HashError::Malformed {
                        kind: "argon2",
                        problem: "not a valid PHC string with salt and hash",
                    });
                }
                Ok(Self::Argon2(text.to_owned()))
            }
            other => Err(HashError::UnknownType(other.to_owned())),
        }
    }

    /// Hash `password` with argon2id (default parameters, random 16-byte
    /// salt) into a PHC string.
    pub fn argon2id(password: &[u8]) -> Result<Self, HashError> {
        let hashing = |e: &dyn std::fmt::Display| HashError::Hashing(e.to_string());
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| hashing(&e))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| hashing(&e))?;
        let phc = Argon2::default()
            .hash_password(password, &salt)
            .map_err(|e| hashing(&e))?;
        Ok(Self::Argon2(phc.to_string()))
    }

    /// Whether `password` matches, compared in constant time.
    pub fn verify(&self, password: &[u8]) -> bool {
        match self {
            Self::Sha512 { salt, hash } => {
                let mut digest = Sha512::new();
                digest.update(password);
                digest.update(salt);
                digest.finalize().as_slice().ct_eq(hash).into()
            }
            Self::Pbkdf2Sha512 {
                iterations,
                salt,
                hash,
            } => {
                let mut out = [0u8; SHA512_LEN];
                pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, *iterations, &mut out);
                out.ct_eq(hash).into()
            }
            // argon2's verifier compares in constant time itself.
            Self::Argon2(phc) => {
                Phc::new(phc).is_ok_and(|h| Argon2::default().verify_password(password, &h).is_ok())
            }
        }
    }

    /// The text stored after `user:` in the file.
    pub fn to_file_text(&self) -> String {
        match self {
            Self::Sha512 { salt, hash } => {
                format!("$6${}${}", STANDARD.encode(salt), STANDARD.encode(hash))
            }
            Self::Pbkdf2Sha512 {
                iterations,
                salt,
                hash,
            } => format!(
                "$7${iterations}${}${}",
                STANDARD.encode(salt),
                STANDARD.encode(hash)
            ),
            Self::Argon2(phc) => phc.clone(),
        }
    }
}

fn decode_salt(b64: &str) -> Option<Vec<u8>> {
    STANDARD.decode(b64).ok().filter(|s| !s.is_empty())
}

fn decode_digest(b64: &str) -> Option<[u8; SHA512_LEN]> {
    STANDARD.decode(b64).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One data-driven check: `stored` parses (or fails with `Err(text)`),
    /// and verifies `good` but not `bad`.
    fn check(stored: &str, good: &str, bad: &str) {
        let hash = StoredHash::parse(stored).unwrap_or_else(|e| panic!("{stored}: {e}"));
        assert!(
            hash.verify(good.as_bytes()),
            "{stored} should accept {good}"
        );
        assert!(!hash.verify(bad.as_bytes()), "{stored} should refuse {bad}");
        assert_eq!(hash.to_file_text(), stored, "round trip");
    }

    fn check_err(stored: &str, expect: &str) {
        let err = StoredHash::parse(stored).expect_err(stored).to_string();
        assert!(err.contains(expect), "{stored}: {err}");
    }

    #[test]
    fn mosquitto_hashes_verify() {
        // Vectors from Python's hashlib, salt = bytes 0..12, as Mosquitto lays them out.
        check(
            "$6$AAECAwQFBgcICQoL$JqsxEv/ucyxjA5DKsQ+Y8CDWaQDNQI9FpAkmfwAqWfwZLk/JEGgM0EpylrJHAZKKyFQjJeZ3nFaHjPzOzPPmPw==",
            "secret",
            "Secret",
        );
        check(
            "$7$101$AAECAwQFBgcICQoL$l8zqSPOVOsX6BzXddvHVSUz51tfFGYiwZgYMerEYSK2kmFD86m93us2E5cM8HAComZhsUAqG/9HmFNzmBd+GRQ==",
            "pw",
            "pw ",
        );
    }

    #[test]
    fn argon2id_entries_round_trip() {
        let hash = StoredHash::argon2id(b"hunter2").expect("hash");
        let text = hash.to_file_text();
        assert!(text.starts_with("$argon2id$v=19$"), "{text}");
        check(&text, "hunter2", "hunter3");
    }

    #[test]
    fn bad_entries_are_refused_with_reasons() {
        for (stored, expect) in [
            ("hunter2", "clear text"),
            ("", "clear text"),
            ("$5$abc$def", "unknown hash type `5`"),
            ("$6$onlysalt", "expected $6$<salt>$<hash>"),
            ("$6$!!$AAAA", "salt is not base64"),
            ("$6$AAAA$AAAA", "hash is not 64 bytes"),
            ("$7$0$AAAA$AAAA", "iterations must be a positive number"),
            ("$7$x$AAAA$AAAA", "iterations must be a positive number"),
            ("$7$101$AAAA", "expected $7$<iterations>"),
            ("$argon2id$nonsense", "not a valid PHC string"),
        ] {
            check_err(stored, expect);
        }
    }

    #[test]
    fn debug_never_shows_the_hash() {
        let hash = StoredHash::argon2id(b"x").expect("hash");
        assert_eq!(format!("{hash:?}"), "StoredHash::Argon2");
    }
}
