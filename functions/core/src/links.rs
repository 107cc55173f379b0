//! Signed, expiring links: how a tenant's admin reaches the console from an email without a
//! login. A link is a capability: it names one tenant, what it allows ([`Access`]), when it
//! expires and which key signed it, and carries an HMAC-SHA256 over all of that. Whoever holds it
//! may do what it says until it expires; nothing else is needed, and nothing else is granted.
//!
//! The same format signs the console's session cookie, with another purpose so that neither can
//! stand in for the other, and a CSRF token bound to the session.
//!
//! Keys belong to the deployment (Secrets Manager in AWS, a file in the local state folder), with
//! an id each: during a rotation the previous key still verifies what it signed, and new links are
//! signed with the current one. A token is text of the URL-safe alphabet:
//!
//! ```text
//! <purpose>.<key id>.<tenant>.<access>.<expires, unix seconds>[.<nonce>].<signature, base64url>
//! ```

use crate::ids::TenantId;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Shortest key accepted: 256 bits, the size of the HMAC's hash.
pub const MIN_KEY_BYTES: usize = 32;

/// What a link lets its holder do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Read the tenant's pages.
    View,
    /// Read, and approve, reject, sync now and dry run (each a POST with the session's CSRF
    /// token).
    Act,
}

impl Access {
    fn as_str(self) -> &'static str {
        match self {
            Self::View => "view",
            Self::Act => "act",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "view" => Some(Self::View),
            "act" => Some(Self::Act),
            _ => None,
        }
    }

    /// Whether this access includes acting.
    pub fn may_act(self) -> bool {
        self == Self::Act
    }
}

/// What a link or a session grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The one tenant it opens.
    pub tenant: TenantId,
    /// What it allows there.
    pub access: Access,
    /// When it stops working (to the second).
    pub expires: DateTime<Utc>,
}

/// One signing key.
#[derive(Clone)]
pub struct LinkKey {
    id: String,
    secret: Vec<u8>,
}

impl std::fmt::Debug for LinkKey {
    // The secret never reaches a log or a test failure.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl LinkKey {
    /// A key named `id` (1-20 of `a-z 0-9 -`) with `secret` (at least [`MIN_KEY_BYTES`]).
    pub fn new(id: &str, secret: Vec<u8>) -> Result<Self, KeyError> {
        let valid_id = (1..=20).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid_id {
            return Err(KeyError::Id);
        }
        if secret.len() < MIN_KEY_BYTES {
            return Err(KeyError::Short {
                bytes: secret.len(),
            });
        }
        Ok(Self {
            id: id.to_owned(),
            secret,
        })
    }

    /// The key's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn mac(&self, text: &str) -> HmacSha256 {
        // HMAC takes a key of any length; `new` has checked it is long enough to be worth one.
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("HMAC accepts any key size");
        mac.update(text.as_bytes());
        mac
    }
}

/// Why a key was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// A bad key id.
    #[error("a link key id is 1-20 characters of a-z, 0-9 and '-'")]
    Id,
    /// Too short to sign with.
    #[error("a link key needs at least {MIN_KEY_BYTES} random bytes; this one has {bytes}")]
    Short {
        /// Its length.
        bytes: usize,
    },
}

/// The deployment's keys: the current one signs, both verify.
#[derive(Clone, Debug)]
pub struct LinkKeys {
    current: LinkKey,
    previous: Option<LinkKey>,
}

impl LinkKeys {
    /// Keys signing with `current`, and still accepting what `previous` signed.
    pub fn new(current: LinkKey, previous: Option<LinkKey>) -> Self {
        Self { current, previous }
    }

    fn by_id(&self, id: &str) -> Option<&LinkKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|key| key.id == id)
    }

    /// A link token granting `grant`.
    pub fn link(&self, grant: &Grant) -> String {
        self.sign(Purpose::Link, grant, None)
    }

    /// Verifies a link token at `now`.
    pub fn open_link(&self, token: &str, now: DateTime<Utc>) -> Result<Grant, LinkError> {
        self.verify(Purpose::Link, token, now)
            .map(|(grant, _)| grant)
    }

    /// A session cookie value granting `grant`, with its CSRF token `csrf` (URL-safe text, as
    /// [`new_csrf_token`] makes).
    pub fn session(&self, grant: &Grant, csrf: &str) -> String {
        self.sign(Purpose::Session, grant, Some(csrf))
    }

    /// Verifies a session cookie value at `now`: its grant and CSRF token.
    pub fn open_session(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<(Grant, String), LinkError> {
        self.verify(Purpose::Session, token, now)
            .and_then(|(grant, csrf)| csrf.map(|csrf| (grant, csrf)).ok_or(LinkError::Malformed))
    }

    fn sign(&self, purpose: Purpose, grant: &Grant, nonce: Option<&str>) -> String {
        let mut text = format!(
            "{}.{}.{}.{}.{}",
            purpose.as_str(),
            self.current.id,
            grant.tenant,
            grant.access.as_str(),
            grant.expires.timestamp()
        );
        if let Some(nonce) = nonce {
            text.push('.');
            text.push_str(nonce);
        }
        let signature = URL_SAFE_NO_PAD.encode(self.current.mac(&text).finalize().into_bytes());
        format!("{text}.{signature}")
    }

    fn verify(
        &self,
        purpose: Purpose,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<(Grant, Option<String>), LinkError> {
        if token.len() > 512 {
            return Err(LinkError::Malformed);
        }
        let (text, signature) = token.rsplit_once('.').ok_or(LinkError::Malformed)?;
        let parts: Vec<&str> = text.split('.').collect();
        let (fields, nonce) = match (purpose, parts.len()) {
            (Purpose::Link, 5) => (&parts[..], None),
            (Purpose::Session, 6) => (&parts[..5], Some(parts[5])),
            _ => return Err(LinkError::Malformed),
        };
        if fields[0] != purpose.as_str() {
            return Err(LinkError::Malformed);
        }
        let key = self.by_id(fields[1]).ok_or(LinkError::UnknownKey)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| LinkError::Tampered)?;
        // Constant time: the comparison tells an attacker nothing about how close they were.
        key.mac(text)
            .verify_slice(&signature)
            .map_err(|_| LinkError::Tampered)?;
        // Signed by us from here on: what follows cannot fail for a token we minted.
        let tenant = TenantId::parse(fields[2]).map_err(|_| LinkError::Malformed)?;
        let access = Access::parse(fields[3]).ok_or(LinkError::Malformed)?;
        let expires = fields[4]
            .parse::<i64>()
            .ok()
            .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
            .ok_or(LinkError::Malformed)?;
        if expires <= now {
            return Err(LinkError::Expired { at: expires });
        }
        Ok((
            Grant {
                tenant,
                access,
                expires,
            },
            nonce.map(str::to_owned),
        ))
    }
}

/// A fresh CSRF token: 128 random bits, base64url.
pub fn new_csrf_token() -> String {
    let bytes: [u8; 16] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether a form's CSRF token is the session's, in constant time.
pub fn csrf_matches(session: &str, form: &str) -> bool {
    use subtle::ConstantTimeEq;
    session.len() == form.len() && bool::from(session.as_bytes().ct_eq(form.as_bytes()))
}

/// What a token is for; part of what is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    Link,
    Session,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Link => "l1",
            Self::Session => "s1",
        }
    }
}

/// Why a token does not open anything. Each says what the admin can do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Not a token of ours (cut short by a mail client, say).
    #[error(
        "this link is incomplete or damaged; open it again from the email, or ask for a new one"
    )]
    Malformed,
    /// Signed with a key this deployment no longer has (rotated twice since).
    #[error("this link was signed with a key that has since been replaced; ask for a new link")]
    UnknownKey,
    /// Changed since it was signed.
    #[error(
        "this link has been altered and is not valid; open the link from the email as it was sent"
    )]
    Tampered,
    /// Past its time.
    #[error("this link expired at {at}; open the newest summary email or ask for a new link")]
    Expired {
        /// When it expired.
        at: DateTime<Utc>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn key(id: &str, byte: u8) -> LinkKey {
        LinkKey::new(id, vec![byte; 32]).unwrap()
    }

    fn grant(tenant: &str, access: Access, now: DateTime<Utc>) -> Grant {
        Grant {
            tenant: TenantId::parse(tenant).unwrap(),
            access,
            expires: DateTime::from_timestamp((now + Duration::days(7)).timestamp(), 0).unwrap(),
        }
    }

    #[test]
    fn a_link_opens_what_it_grants_until_it_expires() {
        let keys = LinkKeys::new(key("k1", 1), None);
        let now = Utc::now();
        let granted = grant("acme", Access::Act, now);
        let token = keys.link(&granted);
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
        assert_eq!(keys.open_link(&token, now), Ok(granted.clone()));
        assert_eq!(
            keys.open_link(&token, granted.expires),
            Err(LinkError::Expired {
                at: granted.expires
            })
        );
    }

    #[test]
    fn any_change_to_a_link_is_refused() {
        let keys = LinkKeys::new(key("k1", 1), None);
        let now = Utc::now();
        let token = keys.link(&grant("acme", Access::View, now));
        for (from, to) in [
            (".acme.", ".globex."),
            (".view.", ".act."),
            (".k1.", ".k2."),
        ] {
            let changed = token.replace(from, to);
            assert_ne!(changed, token);
            let opened = keys.open_link(&changed, now);
            assert!(
                matches!(opened, Err(LinkError::Tampered | LinkError::UnknownKey)),
                "{from} -> {to}: {opened:?}"
            );
        }
        let expires = grant("acme", Access::View, now).expires.timestamp();
        let later = token.replace(&expires.to_string(), &(expires + 86_400).to_string());
        assert_eq!(keys.open_link(&later, now), Err(LinkError::Tampered));
        let mut flipped = token.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(keys.open_link(&flipped, now), Err(LinkError::Tampered));
        for junk in ["", ".", "l1.k1", "x.y.z.w.v.u", &"a".repeat(600)] {
            assert!(keys.open_link(junk, now).is_err(), "{junk}");
        }
    }

    #[test]
    fn another_deployments_key_opens_nothing() {
        let ours = LinkKeys::new(key("k1", 1), None);
        let theirs = LinkKeys::new(key("k1", 2), None);
        let now = Utc::now();
        let token = theirs.link(&grant("acme", Access::Act, now));
        assert_eq!(ours.open_link(&token, now), Err(LinkError::Tampered));
    }

    #[test]
    fn during_a_rotation_both_keys_verify_and_the_new_one_signs() {
        let now = Utc::now();
        let before = LinkKeys::new(key("k1", 1), None);
        let old_link = before.link(&grant("acme", Access::View, now));
        let rotated = LinkKeys::new(key("k2", 2), Some(key("k1", 1)));
        assert!(rotated.open_link(&old_link, now).is_ok());
        let new_link = rotated.link(&grant("acme", Access::View, now));
        assert!(new_link.starts_with("l1.k2."));
        let again = LinkKeys::new(key("k3", 3), Some(key("k2", 2)));
        assert_eq!(again.open_link(&old_link, now), Err(LinkError::UnknownKey));
        assert!(again.open_link(&new_link, now).is_ok());
    }

    #[test]
    fn a_session_is_no_link_and_a_link_no_session() {
        let keys = LinkKeys::new(key("k1", 1), None);
        let now = Utc::now();
        let granted = grant("acme", Access::Act, now);
        let csrf = new_csrf_token();
        let session = keys.session(&granted, &csrf);
        assert_eq!(
            keys.open_session(&session, now),
            Ok((granted.clone(), csrf.clone()))
        );
        assert_eq!(keys.open_link(&session, now), Err(LinkError::Malformed));
        let link = keys.link(&granted);
        assert_eq!(keys.open_session(&link, now), Err(LinkError::Malformed));
        // The CSRF token is signed with the session: another one makes it invalid.
        let other = session.replace(&csrf, &new_csrf_token());
        assert_eq!(keys.open_session(&other, now), Err(LinkError::Tampered));
    }

    #[test]
    fn csrf_tokens_are_random_and_compared_whole() {
        let (a, b) = (new_csrf_token(), new_csrf_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 22);
        assert!(csrf_matches(&a, &a.clone()));
        assert!(!csrf_matches(&a, &b));
        assert!(!csrf_matches(&a, &a[..21]));
        assert!(!csrf_matches(&a, ""));
    }

    #[test]
    fn keys_must_be_long_and_well_named() {
        assert_eq!(
            LinkKey::new("k1", vec![0; 31]).unwrap_err(),
            KeyError::Short { bytes: 31 }
        );
        assert_eq!(LinkKey::new("K.1", vec![0; 32]).unwrap_err(), KeyError::Id);
        assert!(!format!("{:?}", key("k1", 7)).contains('7'));
    }
}
