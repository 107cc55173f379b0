//! The tenant's webhook secret (`Secrets::webhook`, in AWS `personio-sync/<tenant>/webhook`): the
//! token Personio sends, and which Personio companies may send it.
//!
//! This is the one reader of the stored secret: every `Secrets` adapter hands the webhook receiver
//! the whole stored value through [`WebhookSecret::from_stored`], so rotation and company pinning
//! cannot be lost on the way (the admin API's rotation writes the JSON form).
//!
//! Two forms are accepted:
//!
//! - the bare token, as text: any company id is accepted and events belong to the tenant's only
//!   Personio account;
//! - JSON, which also pins the company (a delivery naming another company is refused with 400) and
//!   allows a second token while a rotation settles:
//!
//! ```json
//! {"token": "…", "previous_token": "…", "company_id": "123456", "account": "main"}
//! {"token": "…", "companies": {"123456": "de", "654321": "at"}}
//! ```
//!
//! `account` (default: the tenant's only account) names the tenant's Personio account that
//! `company_id` is; `companies` maps several company ids to accounts, for a tenant that connects
//! one Personio company per legal entity with the same token. Company ids may be JSON strings or
//! numbers.
//!
//! Tokens are compared in constant time, as SHA-256 digests so that not even their length leaks.

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use subtle::ConstantTimeEq;

use crate::ids::AccountId;
use crate::ports::SecretsError;

/// Why a stored webhook secret cannot be used. Never contains the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the webhook secret is not usable: {0}; store the bare token or JSON like {{\"token\": \"…\", \"company_id\": \"…\"}}")]
pub struct SecretFormatError(String);

/// A parsed webhook secret.
pub struct WebhookSecret {
    /// SHA-256 of each accepted token.
    digests: Vec<[u8; 32]>,
    /// Company id → the account it is (`None`: the tenant's only account). Empty: any company.
    companies: BTreeMap<String, Option<AccountId>>,
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSecret")
            .field("tokens", &self.digests.len())
            .field("companies", &self.companies)
            .finish()
    }
}

/// Where a company's events go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompanyCheck {
    /// The secret names no companies: any company id is accepted.
    Unpinned,
    /// The company is this tenant's; `Some` names its account.
    Known(Option<AccountId>),
    /// The secret names other companies only.
    Foreign,
}

impl WebhookSecret {
    /// Reads the stored secret `name` for a `Secrets` adapter: an unusable value is
    /// [`SecretsError::Malformed`], named but never quoted.
    pub fn from_stored(name: &str, value: &SecretString) -> Result<Self, SecretsError> {
        Self::parse(value).map_err(|error| SecretsError::Malformed {
            name: name.to_owned(),
            detail: error.to_string(),
        })
    }

    /// Reads a stored secret: JSON when it starts with `{`, else the bare token.
    pub fn parse(value: &SecretString) -> Result<Self, SecretFormatError> {
        let text = value.expose_secret().trim();
        if !text.starts_with('{') {
            return Ok(Self {
                digests: vec![digest(token(Some(text), "the token")?)],
                companies: BTreeMap::new(),
            });
        }
        let json: Value = serde_json::from_str(text)
            // serde's message would quote the secret; only the position is kept.
            .map_err(|error| {
                SecretFormatError(format!(
                    "it is not valid JSON (line {}, column {})",
                    error.line(),
                    error.column()
                ))
            })?;
        let mut digests = vec![digest(token(
            json.get("token").and_then(Value::as_str),
            "\"token\"",
        )?)];
        if let Some(previous) = json.get("previous_token") {
            digests.push(digest(token(previous.as_str(), "\"previous_token\"")?));
        }
        let mut companies = BTreeMap::new();
        if let Some(company) = json.get("company_id") {
            let account = match json.get("account") {
                None => None,
                Some(account) => Some(account_id(account)?),
            };
            companies.insert(company_text(company)?, account);
        }
        if let Some(map) = json.get("companies") {
            let map = map.as_object().ok_or_else(|| {
                SecretFormatError("\"companies\" must map company ids to account names".to_owned())
            })?;
            for (company, account) in map {
                companies.insert(company.clone(), Some(account_id(account)?));
            }
        }
        Ok(Self { digests, companies })
    }

    /// Whether `presented` (the whole `Authorization` value) is one of the accepted tokens.
    /// Every accepted token is compared, whatever the first comparison found.
    pub fn verify(&self, presented: &str) -> bool {
        let presented = Sha256::digest(presented.as_bytes());
        self.digests
            .iter()
            .fold(subtle::Choice::from(0), |found, accepted| {
                found | accepted.as_slice().ct_eq(presented.as_slice())
            })
            .into()
    }

    /// What the secret says about events of `company_id`.
    pub fn check_company(&self, company_id: &str) -> CompanyCheck {
        if self.companies.is_empty() {
            return CompanyCheck::Unpinned;
        }
        match self.companies.get(company_id) {
            Some(account) => CompanyCheck::Known(account.clone()),
            None => CompanyCheck::Foreign,
        }
    }
}

fn token<'a>(value: Option<&'a str>, what: &str) -> Result<&'a str, SecretFormatError> {
    match value {
        Some(token) if !token.trim().is_empty() => Ok(token),
        Some(_) => Err(SecretFormatError(format!("{what} is empty"))),
        None => Err(SecretFormatError(format!("{what} is missing or not text"))),
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn account_id(value: &Value) -> Result<AccountId, SecretFormatError> {
    value
        .as_str()
        .and_then(|name| AccountId::parse(name).ok())
        .ok_or_else(|| {
            SecretFormatError("an account name is not one of the tenant's account names".to_owned())
        })
}

/// A company id as text, from a JSON string or number: the one reading of `company_id` for the
/// secret and the webhook envelope alike.
pub fn company_text(value: &Value) -> Result<String, SecretFormatError> {
    match value {
        Value::String(text) if !text.trim().is_empty() => Ok(text.trim().to_owned()),
        Value::Number(number) => Ok(number.to_string()),
        _ => Err(SecretFormatError(
            "\"company_id\" must be a string or a number".to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> WebhookSecret {
        WebhookSecret::parse(&SecretString::from(text.to_owned())).unwrap()
    }

    #[test]
    fn a_bare_token_accepts_itself_and_any_company() {
        let secret = secret("tok-1");
        assert!(secret.verify("tok-1"));
        assert!(!secret.verify("tok-2"));
        assert!(!secret.verify("Bearer tok-1"));
        assert!(!secret.verify(""));
        assert_eq!(secret.check_company("42"), CompanyCheck::Unpinned);
    }

    #[test]
    fn json_pins_the_company_and_accepts_the_previous_token() {
        let secret = secret(r#"{"token": "new", "previous_token": "old", "company_id": 42}"#);
        assert!(secret.verify("new"));
        assert!(secret.verify("old"));
        assert!(!secret.verify("other"));
        assert_eq!(secret.check_company("42"), CompanyCheck::Known(None));
        assert_eq!(secret.check_company("43"), CompanyCheck::Foreign);
    }

    #[test]
    fn several_companies_map_to_accounts() {
        let secret = secret(r#"{"token": "t", "companies": {"1": "de", "2": "at"}}"#);
        let at = AccountId::parse("at").unwrap();
        assert_eq!(secret.check_company("2"), CompanyCheck::Known(Some(at)));
        assert_eq!(secret.check_company("3"), CompanyCheck::Foreign);
    }

    #[test]
    fn unusable_secrets_are_refused_without_quoting_them() {
        for text in [
            "",
            "{\"token\": \"\"}",
            "{\"company_id\": \"1\"}",
            "{\"token\": \"sup3r-secret\", \"company_id\": []}",
            "{\"token\": \"sup3r-secret\", \"companies\": {\"1\": \"Not An Account\"}}",
            "{\"token\": \"sup3r-secret\"",
        ] {
            let error = WebhookSecret::parse(&SecretString::from(text.to_owned())).unwrap_err();
            assert!(!error.to_string().contains("sup3r"), "{error}");
        }
    }

    #[test]
    fn an_unusable_stored_secret_is_malformed_and_named() {
        let error = WebhookSecret::from_stored(
            "personio-sync/acme/webhook",
            &SecretString::from("{\"token\": 42}".to_owned()),
        )
        .unwrap_err();
        assert!(
            matches!(&error, SecretsError::Malformed { name, .. } if name == "personio-sync/acme/webhook"),
            "{error}"
        );
    }
}
