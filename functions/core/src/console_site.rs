//! Where a deployment's console is and the keys its links are signed with: how the summary
//! email (through [`RunLinks`]) and the admin API give admins a link into it.
//!
//! In AWS the keys are one Secrets Manager secret of the deployment, JSON:
//!
//! ```json
//! {"id": "k2", "key": "<at least 32 characters>", "previous": {"id": "k1", "key": "…"}}
//! ```
//!
//! `id` and `key` sign new links; `previous` (optional) still verifies what it signed, during a
//! rotation. The key's text is its bytes (the template generates 64 letters and digits).

use crate::history::{RunRecord, RunStatus};
use crate::ids::TenantId;
use crate::links::{Access, Grant, KeyError, LinkKey, LinkKeys};
use crate::ports::RunLinks;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

/// How long the links in summary emails work.
pub const EMAIL_LINK_DAYS: i64 = 7;

/// Where the link keys come from: fixed (a file read once), or a secret read again now and then
/// so that a rotation reaches warm functions.
#[async_trait]
pub trait KeySource: Send + Sync {
    /// The keys as they are now.
    async fn link_keys(&self) -> Result<LinkKeys, KeySourceError>;
}

/// The keys could not be read; the message says what to fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeySourceError(pub String);

#[async_trait]
impl KeySource for LinkKeys {
    async fn link_keys(&self) -> Result<LinkKeys, KeySourceError> {
        Ok(self.clone())
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyJson {
    id: String,
    key: String,
    #[serde(default)]
    previous: Option<Box<KeyJson>>,
}

impl KeyJson {
    fn key(&self) -> Result<LinkKey, KeyError> {
        LinkKey::new(&self.id, self.key.as_bytes().to_vec())
    }
}

/// The keys in the secret's JSON (see the module's documentation). The error never quotes the
/// text: it is a secret.
pub fn keys_from_json(text: &str) -> Result<LinkKeys, String> {
    let json: KeyJson = serde_json::from_str(text).map_err(|error| {
        format!(
            "it is not {{\"id\": …, \"key\": …, \"previous\"?: {{…}}}} (line {}, column {})",
            error.line(),
            error.column()
        )
    })?;
    let current = json.key().map_err(|error| error.to_string())?;
    let previous = match &json.previous {
        Some(previous) if previous.previous.is_some() => {
            return Err("`previous` cannot have a `previous` of its own".to_owned())
        }
        Some(previous) => Some(previous.key().map_err(|error| error.to_string())?),
        None => None,
    };
    if previous
        .as_ref()
        .is_some_and(|previous| previous.id() == current.id())
    {
        return Err("`previous` needs an id of its own".to_owned());
    }
    Ok(LinkKeys::new(current, previous))
}

/// Where a deployment's console is served, and where its keys come from: what the worker and the
/// admin API are given at cold start.
#[derive(Clone)]
pub struct ConsoleAddress {
    /// The address the console is served at (https, or http on loopback), without a trailing `/`.
    pub url: String,
    /// Its keys.
    pub keys: std::sync::Arc<dyn KeySource>,
}

impl ConsoleAddress {
    /// The site with its keys as they are now.
    pub async fn site(&self) -> Result<ConsoleSite, KeySourceError> {
        Ok(ConsoleSite {
            url: self.url.clone(),
            keys: self.keys.link_keys().await?,
        })
    }
}

/// A deployment's console: its address (https, or http on loopback) and its keys, as read for
/// one run or one request.
#[derive(Clone, Debug)]
pub struct ConsoleSite {
    /// The address the console is served at, without a trailing `/`.
    pub url: String,
    /// Its keys.
    pub keys: LinkKeys,
}

impl ConsoleSite {
    /// A link that opens tenant `tenant`'s console with `access` until `expires`, landing on
    /// `to` (a path of that tenant's pages) when given.
    pub fn link(
        &self,
        tenant: &TenantId,
        access: Access,
        expires: DateTime<Utc>,
        to: Option<&str>,
    ) -> String {
        let grant = Grant {
            tenant: tenant.clone(),
            access,
            expires,
        };
        let mut link = format!("{}/open?link={}", self.url, self.keys.link(&grant));
        if let Some(to) = to {
            link.push_str("&to=");
            link.push_str(to);
        }
        link
    }
}

impl RunLinks for ConsoleSite {
    /// A 7-day link to the run's report; a held run's link may act (approve or reject), the
    /// others view.
    fn run_link(&self, tenant: &TenantId, run: &RunRecord) -> Option<String> {
        let access = if run.status == RunStatus::Held {
            Access::Act
        } else {
            Access::View
        };
        let to = format!("/tenants/{tenant}/runs/{}", run.id);
        Some(self.link(
            tenant,
            access,
            Utc::now() + Duration::days(EMAIL_LINK_DAYS),
            Some(&to),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01";

    #[test]
    fn the_secrets_json_gives_the_keys_and_a_rotation_keeps_old_links_open() {
        let old = keys_from_json(&format!(r#"{{"id": "k1", "key": "{KEY}"}}"#)).unwrap();
        let grant = Grant {
            tenant: TenantId::parse("acme").unwrap(),
            access: Access::View,
            expires: Utc::now() + Duration::days(1),
        };
        let signed_before = old.link(&grant);
        let new_key = KEY.replace('0', "z");
        let rotated = keys_from_json(&format!(
            r#"{{"id": "k2", "key": "{new_key}", "previous": {{"id": "k1", "key": "{KEY}"}}}}"#
        ))
        .unwrap();
        let opened = rotated.open_link(&signed_before, Utc::now()).unwrap();
        assert_eq!(
            (opened.tenant, opened.access),
            (grant.tenant.clone(), grant.access)
        );
        assert!(rotated.link(&grant).contains(".k2."));
    }

    #[test]
    fn a_bad_secret_is_refused_without_quoting_it() {
        for (text, says) in [
            ("not json", "line 1"),
            (r#"{"id": "k1", "key": "short"}"#, "at least 32"),
            (
                r#"{"id": "K 1", "key": "0123456789abcdefghijklmnopqrstuvwxyz"}"#,
                "key id",
            ),
            (
                r#"{"id": "k1", "key": "0123456789abcdefghijklmnopqrstuvwxyz", "previous": {"id": "k1", "key": "0123456789abcdefghijklmnopqrstuvwxyz"}}"#,
                "id of its own",
            ),
        ] {
            let error = keys_from_json(text).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
            assert!(!error.contains("0123456789"), "{error}");
        }
    }
}
