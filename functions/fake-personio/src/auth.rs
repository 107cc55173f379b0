//! Bearer tokens as Personio issues them today: one stable `papi-` token per credential pair, valid
//! for 24 hours and returned again by every `/v1/auth` call in that window (personio-api.md §1.2).
//!
//! Checking credentials is the route's job; this module only issues, checks and revokes tokens.

use rand::distributions::Alphanumeric;
use rand::Rng;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// How long a token is valid, and what `/v1/auth` answers as `expires_in`.
pub(crate) const TOKEN_LIFETIME: Duration = Duration::from_secs(86_400);

/// Why a request's token was refused; each maps to a v1 401 message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenError {
    /// No `Authorization` header.
    Missing,
    /// A token we never issued, or a header that is not `Bearer …`.
    Unknown,
    /// A token revoked by [`crate::Fault::ExpireToken`].
    Blacklisted,
    /// A token older than [`TOKEN_LIFETIME`].
    Expired,
    /// A valid token of a credential without the "Read" right for Employees
    /// ([`crate::FakePersonio::set_employee_access`]); answered with 403.
    NoEmployeeAccess,
}

impl TokenError {
    /// The message Personio sends for this case (personio-api.md §1.11).
    pub fn message(self) -> &'static str {
        match self {
            Self::Missing => "Authorization is not provided",
            Self::Unknown => "Provided authorization is not valid",
            Self::Blacklisted => "The token has been blacklisted",
            Self::Expired => "The token has expired",
            // The spec's 403 example (personio-api.md §1.11); Personio documents no other wording.
            Self::NoEmployeeAccess => "Provided authorization is not valid",
        }
    }
}

/// The server's tokens: the current one and those revoked so far.
#[derive(Default)]
pub(crate) struct Tokens {
    current: Option<(String, Instant)>,
    revoked: HashSet<String>,
}

impl Tokens {
    /// The current token, or a new one when there is none or it has expired.
    pub fn issue(&mut self, now: Instant) -> String {
        if let Some((token, issued)) = &self.current {
            if now.duration_since(*issued) < TOKEN_LIFETIME {
                return token.clone();
            }
        }
        let random: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(48)
            .map(char::from)
            .collect();
        let token = format!("papi-{random}");
        self.current = Some((token.clone(), now));
        token
    }

    /// The token of an `Authorization: Bearer <token>` header value, if it is valid now.
    pub fn check(&self, header: Option<&str>, now: Instant) -> Result<String, TokenError> {
        let header = header.ok_or(TokenError::Missing)?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .ok_or(TokenError::Unknown)?;
        if self.revoked.contains(token) {
            return Err(TokenError::Blacklisted);
        }
        match &self.current {
            Some((current, issued)) if current == token => {
                if now.duration_since(*issued) < TOKEN_LIFETIME {
                    Ok(token.to_owned())
                } else {
                    Err(TokenError::Expired)
                }
            }
            _ => Err(TokenError::Unknown),
        }
    }

    /// Makes every token issued so far invalid; the next `/v1/auth` issues a new one.
    pub fn revoke_all(&mut self) {
        if let Some((token, _)) = self.current.take() {
            self.revoked.insert(token);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_token_is_issued_within_24_hours() {
        let mut tokens = Tokens::default();
        let start = Instant::now();
        let first = tokens.issue(start);
        assert!(first.starts_with("papi-"));
        assert_eq!(tokens.issue(start + Duration::from_secs(3600)), first);
        let renewed = tokens.issue(start + TOKEN_LIFETIME);
        assert_ne!(renewed, first);
    }

    #[test]
    fn an_old_token_is_refused_as_expired() {
        let mut tokens = Tokens::default();
        let start = Instant::now();
        let token = tokens.issue(start);
        let header = format!("Bearer {token}");
        assert_eq!(tokens.check(Some(&header), start), Ok(token));
        assert_eq!(
            tokens.check(Some(&header), start + TOKEN_LIFETIME),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn revoked_tokens_are_blacklisted_and_a_new_one_is_issued() {
        let mut tokens = Tokens::default();
        let now = Instant::now();
        let old = tokens.issue(now);
        tokens.revoke_all();
        let header = format!("Bearer {old}");
        assert_eq!(
            tokens.check(Some(&header), now),
            Err(TokenError::Blacklisted)
        );
        assert_ne!(tokens.issue(now), old);
    }

    #[test]
    fn missing_and_foreign_headers_are_refused() {
        let tokens = Tokens::default();
        let now = Instant::now();
        assert_eq!(tokens.check(None, now), Err(TokenError::Missing));
        assert_eq!(
            tokens.check(Some("Basic abc"), now),
            Err(TokenError::Unknown)
        );
        assert_eq!(
            tokens.check(Some("Bearer papi-x"), now),
            Err(TokenError::Unknown)
        );
    }
}
