//! Identifiers, parsed once at the edge and trusted afterwards.
//!
//! Every id that reaches a file name, a DynamoDB key or a log line is one of these types, so a
//! malformed value is rejected where it enters (config, CLI argument, API response) with a message
//! that names it, and never travels further.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an identifier was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {value:?} is not valid: {rule}")]
pub struct IdError {
    kind: &'static str,
    value: String,
    rule: &'static str,
}

fn check_slug(
    kind: &'static str,
    value: &str,
    min: usize,
    max: usize,
    rule: &'static str,
) -> Result<(), IdError> {
    let ok_chars = value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let ok_ends = !value.starts_with('-') && !value.ends_with('-');
    if (min..=max).contains(&value.len()) && ok_chars && ok_ends {
        Ok(())
    } else {
        Err(IdError {
            kind,
            value: value.chars().take(60).collect(),
            rule,
        })
    }
}

/// Key of a tenant in config, state and logs: 3-40 of `a-z 0-9 -`, not starting or ending with `-`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl TenantId {
    /// Parses a tenant id.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        check_slug(
            "tenant id",
            value,
            3,
            40,
            "use 3-40 characters of a-z, 0-9 and '-'",
        )?;
        Ok(Self(value.to_owned()))
    }
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One Personio account of a tenant (a tenant may connect one per legal entity): 1-40 of
/// `a-z 0-9 -`. Part of every link key, so two accounts' employee ids never collide.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(std::sync::Arc<str>);

impl AccountId {
    /// Parses an account name.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        check_slug(
            "Personio account name",
            value,
            1,
            40,
            "use 1-40 characters of a-z, 0-9 and '-'",
        )?;
        // Shared, not copied: every person's key carries its account.
        Ok(Self(std::sync::Arc::from(value)))
    }
    /// The account name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for AccountId {
    /// The account of a tenant that connects only one Personio company.
    fn default() -> Self {
        static MAIN: std::sync::OnceLock<std::sync::Arc<str>> = std::sync::OnceLock::new();
        Self(MAIN.get_or_init(|| std::sync::Arc::from("main")).clone())
    }
}

/// A Personio employee id (v1 integer; the v2 person id carries the same number as a string).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonioId(u64);

impl PersonioId {
    /// Wraps a numeric id.
    pub const fn new(id: u64) -> Self {
        Self(id)
    }
    /// Parses an id given as text (a CLI argument, a v2 person id, a webhook payload).
    pub fn parse(value: &str) -> Result<Self, IdError> {
        value.trim().parse::<u64>().map(Self).map_err(|_| IdError {
            kind: "Personio employee id",
            value: value.chars().take(60).collect(),
            rule: "it must be a whole number",
        })
    }
    /// The numeric id.
    pub const fn get(self) -> u64 {
        self.0
    }
}

/// The link between one Personio person and one destination user: account plus employee id.
/// Ordered by id first: ids almost always differ, so comparisons rarely reach the account text.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PersonKey {
    /// The Personio account the person belongs to.
    pub account: AccountId,
    /// The person's id in that account.
    pub id: PersonioId,
}

impl PartialOrd for PersonKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PersonKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.id
            .cmp(&other.id)
            .then_with(|| self.account.cmp(&other.account))
    }
}

impl PersonKey {
    /// Builds a key.
    pub fn new(account: AccountId, id: PersonioId) -> Self {
        Self { account, id }
    }

    /// The value written to the destination's `externalId`: `<account>:<id>`, so that several
    /// Personio accounts can feed one destination without their ids colliding.
    pub fn external_id(&self) -> String {
        format!("{}:{}", self.account, self.id.0)
    }

    /// Parses an `externalId` written by [`PersonKey::external_id`].
    pub fn from_external_id(value: &str) -> Option<Self> {
        let (account, id) = value.split_once(':')?;
        Some(Self {
            account: AccountId::parse(account).ok()?,
            id: PersonioId::parse(id).ok()?,
        })
    }
}

/// The id a destination gave a user or group (a SCIM `id`, a file name in the local directory).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DestinationId(String);

impl DestinationId {
    /// Wraps an id the destination returned; empty ids are refused.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        if value.trim().is_empty() || value.len() > 512 {
            return Err(IdError {
                kind: "destination id",
                value: value.chars().take(60).collect(),
                rule: "it must be 1-512 characters",
            });
        }
        Ok(Self(value.to_owned()))
    }
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One run of one tenant: `YYYYMMDDTHHMMSS.mmmZ-xxxxxx`, so that ids sort by start time, to the
/// millisecond (two runs in one second still sort right).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RunId(String);

impl RunId {
    /// A new run id for a run starting at `started`, with a random suffix so that two runs
    /// started in the same second differ.
    pub fn new(started: chrono::DateTime<chrono::Utc>) -> Self {
        let suffix: u32 = rand::random::<u32>() & 0x00ff_ffff;
        Self(format!(
            "{}-{suffix:06x}",
            started.format("%Y%m%dT%H%M%S%.3fZ")
        ))
    }
    /// Parses a run id given by a user or read back from state.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        let bad = || IdError {
            kind: "run id",
            value: value.chars().take(60).collect(),
            rule:
                "expected the form 20261123T150000.000Z-1a2b3c, as `personio-sync runs` lists them",
        };
        let (stamp, suffix) = value.split_once('-').ok_or_else(bad)?;
        let stamp_ok = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%S%.3fZ").is_ok()
            || chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ").is_ok();
        let suffix_ok = suffix.len() == 6 && suffix.bytes().all(|b| b.is_ascii_hexdigit());
        if stamp_ok && suffix_ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(bad())
        }
    }
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! text_id {
    ($($ty:ident),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl TryFrom<String> for $ty {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }
        impl From<$ty> for String {
            fn from(value: $ty) -> String {
                (*value.0).to_owned()
            }
        }
    )*};
}
text_id!(TenantId, AccountId, RunId);

impl fmt::Display for DestinationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for PersonioId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for PersonKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.account, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_are_slugs() {
        assert!(TenantId::parse("acme-gmbh").is_ok());
        assert!(TenantId::parse("ab").is_err());
        assert!(TenantId::parse("Acme").is_err());
        assert!(TenantId::parse("-acme").is_err());
        assert!(TenantId::parse("../etc").is_err());
    }

    #[test]
    fn external_id_round_trips() {
        let key = PersonKey::new(AccountId::parse("de").unwrap(), PersonioId::new(42));
        assert_eq!(key.external_id(), "de:42");
        assert_eq!(PersonKey::from_external_id("de:42"), Some(key));
        assert_eq!(PersonKey::from_external_id("42"), None);
    }

    #[test]
    fn run_ids_sort_by_start_and_parse_back() {
        let early = RunId::new("2026-11-23T15:00:00Z".parse().unwrap());
        let late = RunId::new("2026-11-23T16:00:00Z".parse().unwrap());
        assert!(early < late);
        assert_eq!(RunId::parse(early.as_str()), Ok(early));
        assert!(RunId::parse("20261123T150000Z-zzzzzz").is_err());
        assert!(RunId::parse("yesterday").is_err());
    }
}
