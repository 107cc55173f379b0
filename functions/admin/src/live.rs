//! Checks a mapping or scope against the attributes Personio really returns for the tenant's
//! credentials (`Source::attributes`, per account), so that a mapped attribute Personio does not
//! send — not whitelisted for the credential, or a custom attribute of another company — is named
//! before it is saved instead of silently leaving a field empty on every run.
//!
//! Problems (the change is refused): a rule of the tenant's own `mapping.fields`, a default rule
//! that is `required`, or a scope rule reading an attribute an account does not return. Warnings
//! (saved, reported): an optional default field that will stay empty, and allowed scope values
//! that are not among a list attribute's options.

use crate::error::ApiError;
use crate::wiring;
use crate::AdminDeps;
use std::collections::{BTreeMap, BTreeSet};
use sync_core::config::TenantConfig;
use sync_core::employee::AttributeInfo;
use sync_core::ids::AccountId;
use sync_core::mapping::{default_fields, SourceRef};
use sync_core::personio::labels;
use sync_core::ports::Source;

/// The attributes one account's credential may read.
pub struct Readable {
    account: AccountId,
    keys: BTreeSet<String>,
    universal_ids: BTreeSet<String>,
    options: BTreeMap<String, Vec<String>>,
    /// Every attribute, for `label:` references.
    attributes: Vec<AttributeInfo>,
}

impl Readable {
    /// Why this account cannot serve `source`, if it cannot.
    fn lacks(&self, source: &SourceRef) -> Option<String> {
        let account = self.account.to_string();
        match source {
            // Personio always sends the id; the attribute list leaves it out.
            SourceRef::Key(key) => (key != "id" && !self.keys.contains(key)).then_some(account),
            SourceRef::Universal(id) => (!self.universal_ids.contains(id)).then_some(account),
            SourceRef::Label(label) => {
                labels::resolve(&account, &[label.as_str()], &self.attributes)
                    .err()
                    .map(|error| format!("{account} ({error})"))
            }
        }
    }

    fn options(&self, source: &SourceRef) -> Option<&[String]> {
        let resolved;
        let key = match source {
            SourceRef::Key(key) => key.as_str(),
            SourceRef::Universal(id) => id.as_str(),
            SourceRef::Label(label) => {
                resolved = labels::resolve("", &[label.as_str()], &self.attributes).ok()?;
                resolved.get(label)?.as_str()
            }
        };
        self.options
            .get(key)
            .map(Vec::as_slice)
            .filter(|options| !options.is_empty())
    }
}

/// Reads each account's attributes with the tenant's stored credentials.
pub async fn readable(deps: &AdminDeps, config: &TenantConfig) -> Result<Vec<Readable>, ApiError> {
    let clients = wiring::personio_clients(deps, config).await?;
    let mut all = Vec::new();
    for (account, client) in &clients {
        let attributes = client
            .attributes()
            .await
            .map_err(|error| ApiError::personio(&error))?;
        let mut readable = Readable {
            account: account.clone(),
            keys: BTreeSet::new(),
            universal_ids: BTreeSet::new(),
            options: BTreeMap::new(),
            attributes: attributes.clone(),
        };
        for attribute in attributes {
            if let Some(universal) = &attribute.universal_id {
                readable.universal_ids.insert(universal.clone());
                readable
                    .options
                    .insert(universal.clone(), attribute.options.clone());
            }
            readable
                .options
                .insert(attribute.key.clone(), attribute.options);
            readable.keys.insert(attribute.key);
        }
        all.push(readable);
    }
    Ok(all)
}

fn missing(readable: &[Readable], source: &SourceRef) -> Vec<String> {
    readable
        .iter()
        .filter_map(|account| account.lacks(source))
        .collect()
}

const WHITELIST_HINT: &str = "whitelist it under the API credential's readable attributes in Personio, or read another attribute";

/// Problems and warnings of `config.mapping` against `readable`.
pub fn check_mapping(config: &TenantConfig, readable: &[Readable]) -> (Vec<String>, Vec<String>) {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    for (index, rule) in config.mapping.fields.iter().enumerate() {
        let Some(source) = rule.source.as_ref().filter(|_| rule.enabled) else {
            continue;
        };
        let accounts = missing(readable, source);
        if !accounts.is_empty() {
            problems.push(format!(
                "mapping.fields[{index}] (`{}`): Personio does not return attribute `{source}` for account(s) {}; {WHITELIST_HINT}",
                rule.target,
                accounts.join(", ")
            ));
        }
    }
    if config.mapping.defaults {
        let own: BTreeSet<&str> = config
            .mapping
            .fields
            .iter()
            .map(|rule| rule.target.as_str())
            .collect();
        for rule in default_fields() {
            let Some(source) = rule.source.as_ref() else {
                continue;
            };
            if own.contains(rule.target.as_str()) {
                continue;
            }
            let accounts = missing(readable, source);
            if accounts.is_empty() {
                continue;
            }
            if rule.required {
                problems.push(format!(
                    "mapping (default `{}` ← `{source}`): Personio does not return this required attribute for account(s) {}, so nobody could be synced; {WHITELIST_HINT}",
                    rule.target,
                    accounts.join(", ")
                ));
            } else {
                warnings.push(format!(
                    "mapping (default `{}` ← `{source}`): Personio does not return it for account(s) {}; the field stays empty",
                    rule.target,
                    accounts.join(", ")
                ));
            }
        }
    }
    (problems, warnings)
}

/// Problems and warnings of `config.scope` against `readable`.
pub fn check_scope(config: &TenantConfig, readable: &[Readable]) -> (Vec<String>, Vec<String>) {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    for (index, rule) in config.scope.rules.iter().enumerate() {
        let accounts = missing(readable, &rule.attribute);
        if !accounts.is_empty() {
            problems.push(format!(
                "scope.rules[{index}]: Personio does not return attribute `{}` for account(s) {}, so nobody would be in scope; {WHITELIST_HINT}",
                rule.attribute,
                accounts.join(", ")
            ));
            continue;
        }
        for account in readable {
            let Some(options) = account.options(&rule.attribute) else {
                continue;
            };
            let unknown: Vec<&str> = rule
                .allowed
                .iter()
                .filter(|allowed| {
                    !options
                        .iter()
                        .any(|option| option.trim().eq_ignore_ascii_case(allowed.trim()))
                })
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() {
                warnings.push(format!(
                    "scope.rules[{index}]: {} not among the options of `{}` in account {}",
                    unknown
                        .iter()
                        .map(|value| format!("`{value}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    rule.attribute,
                    account.account
                ));
            }
        }
    }
    (problems, warnings)
}
