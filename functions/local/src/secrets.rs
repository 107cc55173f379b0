//! Where a local run (the CLI) finds a tenant's secrets: the environment, or files named in the
//! TOML beside the tenant settings — `client_id_env`, `client_secret_env` and `credentials_file` in each
//! `[[personio.accounts]]`, `token_env` and `token_file` under `[destination]`.
//!
//! They are a CLI layer, not tenant config: [`split`] takes them out of the text before the rest
//! parses as a [`TenantConfig`] (so they never reach a config stored in DynamoDB), and
//! [`LocalSecrets`] serves them to the adapter factory through the same `Secrets` port that
//! Secrets Manager serves in AWS.

use secrecy::SecretString;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use sync_core::config::{ConfigError, TenantConfig};
use sync_core::ids::{AccountId, TenantId};
use sync_core::personio::webhooks::WebhookSecret;
use sync_core::ports::{PersonioCredentials, Secrets, SecretsError};

/// The CLI-only keys, each a string on a line of its own.
const KEYS: [&str; 5] = [
    "client_id_env",
    "client_secret_env",
    "credentials_file",
    "token_env",
    "token_file",
];

/// Where one Personio account's client id and secret come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountSecrets {
    /// Environment variable with the client id (default `PERSONIO_CLIENT_ID`).
    pub client_id_env: String,
    /// Environment variable with the client secret (default `PERSONIO_CLIENT_SECRET`).
    pub client_secret_env: String,
    /// A JSON file `{"client_id": …, "client_secret": …}`, instead of the environment.
    pub credentials_file: Option<String>,
}

/// Where the SCIM token comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSource {
    /// Environment variable with the bearer token (default `SCIM_TOKEN`).
    pub token_env: String,
    /// A file with the token, instead of the environment.
    pub token_file: Option<String>,
}

/// Where every secret of a local config comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretSources {
    /// Per Personio account.
    pub accounts: BTreeMap<AccountId, AccountSecrets>,
    /// The destination token.
    pub token: TokenSource,
}

fn text(table: Option<&toml::Table>, key: &str) -> Option<String> {
    table?.get(key)?.as_str().map(str::to_owned)
}

/// Splits the CLI's TOML into the tenant config and where its secrets come from. The secret keys'
/// lines are blanked rather than removed, so a parse error still names the line of the file.
pub fn split(toml_text: &str) -> Result<(TenantConfig, SecretSources), ConfigError> {
    let tenant_text: String = toml_text
        .lines()
        .map(|line| {
            let key = line.split('=').next().unwrap_or_default().trim();
            if line.contains('=') && KEYS.contains(&key) {
                ""
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let config = TenantConfig::from_toml(&tenant_text)?;
    // It parsed once with the keys blanked, so it parses with them.
    let table: toml::Table = toml::from_str(toml_text)
        .map_err(|error| ConfigError::Parse(error.message().to_owned()))?;
    let accounts_table = table
        .get("personio")
        .and_then(|personio| personio.get("accounts"))
        .and_then(toml::Value::as_array);
    let mut accounts = BTreeMap::new();
    for (account, raw) in config
        .personio
        .accounts
        .iter()
        .zip(accounts_table.into_iter().flatten())
    {
        let raw = raw.as_table();
        accounts.insert(
            account.name.clone(),
            AccountSecrets {
                client_id_env: text(raw, "client_id_env")
                    .unwrap_or_else(|| "PERSONIO_CLIENT_ID".to_owned()),
                client_secret_env: text(raw, "client_secret_env")
                    .unwrap_or_else(|| "PERSONIO_CLIENT_SECRET".to_owned()),
                credentials_file: text(raw, "credentials_file"),
            },
        );
    }
    let destination = table.get("destination").and_then(toml::Value::as_table);
    let token = TokenSource {
        token_env: text(destination, "token_env").unwrap_or_else(|| "SCIM_TOKEN".to_owned()),
        token_file: text(destination, "token_file"),
    };
    Ok((config, SecretSources { accounts, token }))
}

/// The secrets of a local run, read when asked from the environment and files (relative to the
/// config file's folder).
pub struct LocalSecrets {
    sources: SecretSources,
    base: PathBuf,
}

#[derive(serde::Deserialize)]
struct CredentialsFile {
    client_id: String,
    client_secret: String,
}

impl LocalSecrets {
    /// Secrets from `sources`, with files relative to `base`.
    pub fn new(sources: SecretSources, base: &Path) -> Self {
        Self {
            sources,
            base: base.to_path_buf(),
        }
    }

    /// The client id and secret of `account`.
    pub fn personio_credentials(
        &self,
        account: &AccountId,
    ) -> Result<PersonioCredentials, SecretsError> {
        let sources = self
            .sources
            .accounts
            .get(account)
            .ok_or_else(|| SecretsError::NotGiven {
                what: format!("the Personio account `{account}`"),
                fix: "add it to [[personio.accounts]] in the configuration".to_owned(),
            })?;
        if let Some(file) = &sources.credentials_file {
            let path = self.base.join(file);
            let name = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|error| SecretsError::NotGiven {
                what: format!("the Personio credentials file {name}"),
                fix: format!("it cannot be read ({error}); check credentials_file"),
            })?;
            let parsed: CredentialsFile =
                serde_json::from_str(&text).map_err(|_| SecretsError::Malformed {
                    name,
                    detail: "it must be JSON like {\"client_id\": \"…\", \"client_secret\": \"…\"}"
                        .to_owned(),
                })?;
            return Ok(PersonioCredentials {
                client_id: parsed.client_id,
                client_secret: SecretString::from(parsed.client_secret),
                // The command line's user writes the config too: nothing to pin.
                origin: None,
            });
        }
        let read = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        match (
            read(&sources.client_id_env),
            read(&sources.client_secret_env),
        ) {
            (Some(client_id), Some(secret)) => Ok(PersonioCredentials {
                client_id,
                client_secret: SecretString::from(secret),
                origin: None,
            }),
            _ => Err(SecretsError::NotGiven {
                what: format!("the Personio credentials of account `{account}`"),
                fix: format!(
                    "set {} and {}, or credentials_file in the configuration",
                    sources.client_id_env, sources.client_secret_env
                ),
            }),
        }
    }

    /// The SCIM bearer token.
    pub fn token(&self) -> Result<SecretString, SecretsError> {
        let source = &self.sources.token;
        if let Some(file) = &source.token_file {
            let path = self.base.join(file);
            return std::fs::read_to_string(&path)
                .map(|text| SecretString::from(text.trim().to_owned()))
                .map_err(|error| SecretsError::NotGiven {
                    what: format!("the SCIM token file {}", path.display()),
                    fix: format!("it cannot be read ({error}); check destination.token_file"),
                });
        }
        std::env::var(&source.token_env)
            .ok()
            .filter(|value| !value.is_empty())
            .map(SecretString::from)
            .ok_or_else(|| SecretsError::NotGiven {
                what: "the SCIM token".to_owned(),
                fix: format!("set {} or destination.token_file", source.token_env),
            })
    }
}

#[async_trait::async_trait]
impl Secrets for LocalSecrets {
    async fn personio(
        &self,
        _tenant: &TenantId,
        account: &AccountId,
    ) -> Result<PersonioCredentials, SecretsError> {
        self.personio_credentials(account)
    }

    async fn destination_token(
        &self,
        _tenant: &TenantId,
    ) -> Result<sync_core::ports::DestinationToken, SecretsError> {
        Ok(sync_core::ports::DestinationToken {
            token: self.token()?,
            origin: None,
        })
    }

    async fn webhook(&self, _tenant: &TenantId) -> Result<WebhookSecret, SecretsError> {
        Err(SecretsError::NotGiven {
            what: "a webhook token".to_owned(),
            fix: "webhooks are received by the deployed service, not the CLI".to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"
tenant = "acme"

[[personio.accounts]]
name = "main"
credentials_file = "creds.json"

[[personio.accounts]]
name = "second"
client_id_env = "SECOND_ID"

[destination]
kind = "scim"
base_url = "https://app.example/scim/v2"
token_env = "APP_TOKEN"
"#;

    #[test]
    fn secret_sources_are_taken_out_of_the_tenant_config() {
        let (config, sources) = split(TEXT).unwrap();
        let stored = serde_json::to_string(&config).unwrap();
        for key in KEYS {
            assert!(!stored.contains(key), "{key} in {stored}");
        }
        let main = &sources.accounts[&AccountId::parse("main").unwrap()];
        assert_eq!(main.credentials_file.as_deref(), Some("creds.json"));
        let second = &sources.accounts[&AccountId::parse("second").unwrap()];
        assert_eq!(second.client_id_env, "SECOND_ID");
        assert_eq!(second.client_secret_env, "PERSONIO_CLIENT_SECRET");
        assert_eq!(sources.token.token_env, "APP_TOKEN");
    }

    #[test]
    fn a_parse_error_still_names_the_line_of_the_file() {
        let broken = TEXT.replace("kind = \"scim\"", "kind = scim");
        let error = split(&broken).unwrap_err().to_string();
        assert!(error.contains("line 13"), "{error}");
    }

    #[test]
    fn a_missing_secret_says_where_to_give_it() {
        let (_, sources) = split(TEXT).unwrap();
        let secrets = LocalSecrets::new(sources, Path::new("/nonexistent"));
        let error = secrets
            .personio_credentials(&AccountId::parse("second").unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("SECOND_ID") && error.contains("PERSONIO_CLIENT_SECRET"),
            "{error}"
        );
    }
}
