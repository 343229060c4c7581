//! Authentication: passwords (argon2id), session cookies, API tokens, CSRF
//! tokens and sign-in throttling.
//!
//! - Passwords are hashed with argon2id (the `argon2` crate's defaults:
//!   19 MiB, 2 passes, 1 lane; OWASP's minimum) with a random 16-byte salt.
//!   A sign-in for an unknown user still verifies against a fixed hash, so
//!   that timing does not tell which user names exist.
//! - A session token is 32 random bytes (256 bits) from the operating
//!   system, sent as the `vigil_session` cookie (HttpOnly, SameSite=Strict,
//!   Secure when served over TLS or configured so) and stored only as its
//!   SHA-256. Each sign-in makes a new token (rotation) and ends the session
//!   the request came with.
//! - The CSRF token of a session is the SHA-256 of a label and the session
//!   token: the server recomputes it, a page script reads it from the
//!   sign-in answer, and another site can neither read the cookie nor
//!   compute it. Every cookie-authenticated request that changes something
//!   must carry it in `x-csrf-token`.
//! - An API token is `vigil_` and 32 random bytes in hex, stored only as its
//!   SHA-256, scoped to one organisation and role.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use vigil_store::{Actor, ChangeContext, UserRecord};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "vigil_session";
/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The prefix of API token secrets.
pub const TOKEN_PREFIX: &str = "vigil_";
/// The shortest password accepted.
pub const MINIMUM_PASSWORD_LENGTH: usize = 12;
/// The longest password accepted (argon2 would hash any length).
pub const MAXIMUM_PASSWORD_LENGTH: usize = 1024;

/// Why randomness or hashing failed (internal: the caller answers 500).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the operating system's randomness is unavailable: {0}")]
    Randomness(String),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

/// 32 random bytes from the operating system, in hex.
pub fn random_secret() -> Result<String, AuthError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| AuthError::Randomness(error.to_string()))?;
    Ok(hex::encode(bytes))
}

/// The SHA-256 of a secret, in hex: what the database holds.
pub fn secret_hash(secret: &str) -> String {
    vigil_store::rows::sha256_hex(secret)
}

/// The CSRF token of a session token.
pub fn csrf_token(session_token: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"vigil csrf token\0");
    hasher.update(session_token.as_bytes());
    hex::encode(hasher.finalize())
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_equal(left: &str, right: &str) -> bool {
    let (left, right) = (left.as_bytes(), right.as_bytes());
    left.len() == right.len()
        && left
            .iter()
            .zip(right)
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

/// Hashes a password with argon2id and a random salt (PHC string form).
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|error| AuthError::Randomness(error.to_string()))?;
    let salt =
        SaltString::encode_b64(&salt).map_err(|error| AuthError::Hashing(error.to_string()))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| AuthError::Hashing(error.to_string()))
}

/// A fixed argon2id hash of a random password, verified against when the
/// user does not exist, so that both cases take the same time.
const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$dmlnaWwgZGVjb3kgc2FsdA$xGfGnHUh0OC2NpM1jE1vX3cZVQm7yE0l0xG4xkq1tWk";

/// Whether `password` matches the stored hash; `None` (no user or no
/// password set) verifies against a decoy and answers false.
pub fn verify_password(stored: Option<&str>, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    let candidate = stored.unwrap_or(DECOY_HASH);
    let Ok(parsed) = PasswordHash::new(candidate) else {
        return false;
    };
    let matches = argon2::Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    matches && stored.is_some()
}

/// Checks a new password against the rules, saying what is wrong.
pub fn check_new_password(password: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < MINIMUM_PASSWORD_LENGTH {
        return Err(format!(
            "the password has {length} characters; use at least {MINIMUM_PASSWORD_LENGTH}"
        ));
    }
    if length > MAXIMUM_PASSWORD_LENGTH {
        return Err(format!(
            "the password is longer than {MAXIMUM_PASSWORD_LENGTH} characters"
        ));
    }
    Ok(())
}

/// The value of the named cookie in a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then_some(value)
    })
}

/// The `Set-Cookie` value that gives the browser a session.
pub fn session_cookie(token: &str, max_age_seconds: u64, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The cookie that carries the sign-in form's token (double submit: the
/// form's hidden field must equal it), so that another site cannot sign a
/// browser in to an account of its choosing.
pub const SIGN_IN_COOKIE: &str = "vigil_sign_in";

/// The `Set-Cookie` value of the sign-in form's token: sent back to
/// `/login` only, for an hour.
pub fn sign_in_cookie(token: &str, secure: bool) -> String {
    format!(
        "{SIGN_IN_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn expired_session_cookie(secure: bool) -> String {
    session_cookie("", 0, secure)
}

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq)]
pub enum Credential {
    /// A session cookie; the token's hash and the session's start.
    Session {
        token: String,
        created_at: jiff::Timestamp,
    },
    /// An API token, by id.
    Token { id: i64 },
}

/// An authenticated caller: whom they act as, and how they signed in.
#[derive(Debug, Clone)]
pub struct Principal {
    pub actor: Actor,
    /// The user behind a session; absent for an API token.
    pub user: Option<UserRecord>,
    pub credential: Credential,
}

impl Principal {
    /// A change made by this caller now.
    pub fn context(&self) -> ChangeContext {
        ChangeContext::now(self.actor.clone())
    }

    /// The session token, for a cookie session.
    pub fn session_token(&self) -> Option<&str> {
        match &self.credential {
            Credential::Session { token, .. } => Some(token),
            Credential::Token { .. } => None,
        }
    }
}

/// Counts recent sign-in attempts that did not succeed, per user name and
/// per client address, and refuses further attempts past a limit until the
/// window has passed.
///
/// An attempt is counted when it begins ([`Throttle::begin`], under one
/// lock), so that many attempts sent at once cannot all pass the check
/// before any of them is counted; a success takes its count back.
#[derive(Debug)]
pub struct Throttle {
    window: Duration,
    per_user: usize,
    per_client: usize,
    attempts: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// The most keys the throttle remembers; past it, expired keys are dropped
/// and, if that is not enough, the oldest half.
const THROTTLE_CAPACITY: usize = 100_000;

impl Throttle {
    pub fn new(window: Duration, per_user: usize, per_client: usize) -> Self {
        Throttle {
            window,
            per_user,
            per_client,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    fn user_key(user_name: &str) -> String {
        format!("user\0{}", user_name.to_lowercase())
    }

    fn client_key(client: &str) -> String {
        format!("client\0{client}")
    }

    /// Begins an attempt: counts it and answers `Ok`, or answers how long to
    /// wait when the user name or the client has used up its attempts.
    pub fn begin(&self, user_name: &str, client: &str, now: Instant) -> Result<(), Duration> {
        let mut attempts = self
            .attempts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let keys = [
            (Self::user_key(user_name), self.per_user),
            (Self::client_key(client), self.per_client),
        ];
        let mut wait: Option<Duration> = None;
        for (key, limit) in &keys {
            if let Some(times) = attempts.get_mut(key) {
                while times
                    .front()
                    .is_some_and(|first| now.duration_since(*first) >= self.window)
                {
                    times.pop_front();
                }
                if times.len() >= *limit {
                    let oldest = times.front().copied().unwrap_or(now);
                    let remaining = self.window.saturating_sub(now.duration_since(oldest));
                    wait = Some(wait.map_or(remaining, |other| other.max(remaining)));
                }
            }
        }
        if let Some(wait) = wait {
            return Err(wait);
        }
        if attempts.len() >= THROTTLE_CAPACITY {
            attempts.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|last| now.duration_since(*last) < self.window)
            });
            if attempts.len() >= THROTTLE_CAPACITY {
                let mut newest: Vec<(Instant, String)> = attempts
                    .iter()
                    .filter_map(|(key, times)| times.back().map(|last| (*last, key.clone())))
                    .collect();
                newest.sort_unstable();
                for (_, key) in newest.iter().take(newest.len() / 2) {
                    attempts.remove(key);
                }
            }
        }
        for (key, _) in keys {
            attempts.entry(key).or_default().push_back(now);
        }
        Ok(())
    }

    /// Takes back the count of an attempt that succeeded, and forgets the
    /// user name's earlier failures.
    pub fn succeeded(&self, user_name: &str, client: &str) {
        let mut attempts = self
            .attempts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        attempts.remove(&Self::user_key(user_name));
        if let Some(times) = attempts.get_mut(&Self::client_key(client)) {
            times.pop_back();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse battery staple").expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(verify_password(Some(&hash), "correct horse battery staple"));
        assert!(!verify_password(
            Some(&hash),
            "correct horse battery stapler"
        ));
        assert!(!verify_password(None, "correct horse battery staple"));
        assert!(!verify_password(Some("not a hash"), "anything"));
        let again = hash_password("correct horse battery staple").expect("hash");
        assert_ne!(hash, again, "each hash has its own salt");
    }

    #[test]
    fn secrets_are_256_bit_and_distinct() {
        let first = random_secret().expect("secret");
        let second = random_secret().expect("secret");
        assert_eq!(first.len(), 64);
        assert_ne!(first, second);
        assert_eq!(secret_hash(&first).len(), 64);
        assert_ne!(secret_hash(&first), first);
        assert_ne!(csrf_token(&first), csrf_token(&second));
        assert_ne!(csrf_token(&first), secret_hash(&first));
    }

    #[test]
    fn cookies_are_read_and_written_with_their_attributes() {
        assert_eq!(
            cookie_value("a=1; vigil_session=abc; b=2", SESSION_COOKIE),
            Some("abc")
        );
        assert_eq!(cookie_value("vigil_sessionx=abc", SESSION_COOKIE), None);
        let cookie = session_cookie("abc", 3600, true);
        assert_eq!(
            cookie,
            "vigil_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600; Secure"
        );
        assert!(!session_cookie("abc", 3600, false).contains("Secure"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("twelve chars").is_ok());
    }

    #[test]
    fn the_throttle_counts_per_user_and_per_client_within_the_window() {
        let throttle = Throttle::new(Duration::from_secs(60), 3, 5);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(throttle.begin("alice", "10.0.0.1", start), Ok(()));
        }
        assert!(throttle.begin("Alice", "10.0.0.2", start).is_err());
        // Another user from the same client still has two attempts.
        assert_eq!(throttle.begin("bob", "10.0.0.1", start), Ok(()));
        assert_eq!(throttle.begin("bob", "10.0.0.1", start), Ok(()));
        assert!(throttle.begin("carol", "10.0.0.1", start).is_err());
        let later = start + Duration::from_secs(61);
        assert_eq!(throttle.begin("alice", "10.0.0.1", later), Ok(()));
        // A success takes its own count back and forgets the user's failures.
        throttle.succeeded("alice", "10.0.0.1");
        for _ in 0..3 {
            assert_eq!(throttle.begin("alice", "10.0.0.3", later), Ok(()));
        }
    }

    #[test]
    fn the_throttle_forgets_the_oldest_keys_when_full() {
        let throttle = Throttle::new(Duration::from_secs(60), 1, usize::MAX);
        let start = Instant::now();
        for index in 0..THROTTLE_CAPACITY {
            let at = start + Duration::from_nanos(index as u64);
            assert_eq!(
                throttle.begin(&format!("user{index}"), "one client", at),
                Ok(())
            );
        }
        let full = throttle
            .attempts
            .lock()
            .map(|attempts| attempts.len())
            .unwrap_or(0);
        assert!(full <= THROTTLE_CAPACITY, "{full}");
        // The newest user is still remembered.
        let last = format!("user{}", THROTTLE_CAPACITY - 1);
        assert!(
            throttle
                .begin(&last, "one client", start + Duration::from_secs(1))
                .is_err()
        );
    }

    #[test]
    fn constant_time_comparison_compares() {
        assert!(constant_time_equal("abc", "abc"));
        assert!(!constant_time_equal("abc", "abd"));
        assert!(!constant_time_equal("abc", "abcd"));
    }
}
