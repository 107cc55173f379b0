//! Tenant configuration: what each tenant decides (mapping, scope, matching, lifecycle, invites,
//! guards, groups, email, schedule). Parsed from TOML (CLI) or JSON (DynamoDB) into one typed struct;
//! every default lives in these modules, and [`TenantConfig::validate`] lists every problem at once.
//!
//! - `sources`: where people come from and go to (Personio accounts, the destination).
//! - `sections`: the rest of the tenant's decisions, one struct per TOML section.
//!
//! Secrets are never part of it: credentials come from the environment, a file or Secrets Manager.

mod personio_writes;
mod sections;
mod sources;

pub use personio_writes::*;
pub use sections::*;
pub use sources::*;

use crate::ids::TenantId;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A configuration that cannot be used, with every problem found.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The text does not parse (syntax, unknown key, wrong type); the message names the key.
    #[error("the configuration does not parse: {0}")]
    Parse(String),
    /// It parses but makes no sense.
    #[error("the configuration has {} problem(s): {}", .0.len(), .0.join("; "))]
    Invalid(Vec<String>),
}

/// Everything one tenant configures.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// The tenant's id.
    pub tenant: TenantId,
    /// A disabled tenant keeps its config and history but gets no runs (scheduled, webhook or
    /// queued) until it is enabled again.
    #[serde(default = "sections::yes")]
    pub enabled: bool,
    /// The tenant's time zone: "today" for hire and termination dates.
    #[serde(default = "default_timezone")]
    pub timezone: Tz,
    /// The Personio accounts to read.
    pub personio: PersonioConfig,
    /// Where users go.
    pub destination: DestinationConfig,
    /// Field mapping.
    #[serde(default)]
    pub mapping: MappingConfig,
    /// Who is synced.
    #[serde(default)]
    pub scope: ScopeConfig,
    /// How existing destination users are matched on first sync.
    #[serde(default)]
    pub matching: MatchingConfig,
    /// Joiner and leaver timing.
    #[serde(default)]
    pub lifecycle: LifecycleConfig,
    /// Welcome emails for joiners.
    #[serde(default)]
    pub invite: InviteConfig,
    /// Safety thresholds.
    #[serde(default)]
    pub guard: GuardConfig,
    /// Which groups are kept.
    #[serde(default)]
    pub groups: GroupsConfig,
    /// The summary email.
    #[serde(default)]
    pub email: EmailConfig,
    /// When scheduled runs happen (used by the AWS scheduler).
    #[serde(default)]
    pub schedule: ScheduleConfig,
    /// How writes are applied.
    #[serde(default)]
    pub apply: ApplyConfig,
    /// The admins' console.
    #[serde(default)]
    pub console: ConsoleConfig,
    /// Profile pictures the app can show.
    #[serde(default)]
    pub pictures: PicturesConfig,
    /// Write-back of the app's user id or name to Personio (off unless an attribute is set).
    #[serde(default)]
    pub write_back: WriteBackConfig,
    /// What an admin may set when adding a person to Personio.
    #[serde(default)]
    pub add_person: AddPersonConfig,
}

fn default_timezone() -> Tz {
    chrono_tz::Europe::Berlin
}

/// Removes what configs stored before `DestinationConfig` became an enum carry and a tenant config
/// no longer has: the CLI's secret sources (`client_id_env`, `client_secret_env`,
/// `credentials_file`, `token_env`, `token_file`) and the unused destination keys, stored as
/// `null`. Without this, every tenant stored by an earlier version would stop parsing.
fn drop_local_keys(value: &mut serde_json::Value) {
    if let Some(destination) = value
        .get_mut("destination")
        .and_then(serde_json::Value::as_object_mut)
    {
        destination.retain(|key, field| {
            !(field.is_null() || matches!(key.as_str(), "token_env" | "token_file"))
        });
    }
    let accounts = value
        .get_mut("personio")
        .and_then(|personio| personio.get_mut("accounts"))
        .and_then(serde_json::Value::as_array_mut);
    for account in accounts.into_iter().flatten() {
        if let Some(account) = account.as_object_mut() {
            for key in ["client_id_env", "client_secret_env", "credentials_file"] {
                account.remove(key);
            }
        }
    }
}

impl TenantConfig {
    /// A fingerprint of what decides a run's writes: everything but when runs happen and who gets
    /// the email. A scheduled run reads everyone when it differs from the last full run's.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut relevant = self.clone();
        relevant.schedule = ScheduleConfig::default();
        relevant.email = EmailConfig::default();
        // Every map in the config is ordered, so the same config gives the same JSON.
        let json = serde_json::to_vec(&relevant).unwrap_or_default();
        Sha256::digest(&json)
            .iter()
            .take(12)
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// Every field a run may write to a user: the mapping's targets and the invitation flag.
    pub fn field_targets(&self) -> Vec<String> {
        self.mapping
            .effective_fields()
            .into_iter()
            .map(|rule| rule.target)
            .chain(self.invite.field.clone())
            .collect()
    }

    /// Parses TOML and validates it.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|error| {
            // toml's Display draws the offending line over several lines; admins get one.
            let line = error
                .span()
                .map(|span| text[..span.start.min(text.len())].lines().count().max(1));
            let message = error.message().trim().replace('\n', " ");
            ConfigError::Parse(match line {
                Some(line) => format!("line {line}: {message}"),
                None => message,
            })
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Parses JSON and validates it.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let config = Self::from_stored(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Parses a config as stored (JSON, validated when it was saved), dropping what earlier
    /// versions stored and a config no longer has.
    pub fn from_stored(text: &str) -> Result<Self, ConfigError> {
        let mut value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        drop_local_keys(&mut value);
        serde_json::from_value(value).map_err(|e| ConfigError::Parse(e.to_string()))
    }

    /// Every problem that parsing cannot catch, listed together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        if self.personio.accounts.is_empty() {
            problems.push("personio.accounts: add at least one Personio account".to_owned());
        }
        let mut names = BTreeSet::new();
        for account in &self.personio.accounts {
            if !names.insert(account.name.clone()) {
                problems.push(format!(
                    "personio.accounts: the name `{}` is used twice; each account needs its own",
                    account.name
                ));
            }
            if let Err(problem) = crate::http::credential_url(&account.base_url) {
                problems.push(format!(
                    "personio.accounts.{}.base_url: {problem}",
                    account.name
                ));
            }
            if account.rate_limit_per_minute == 0 || account.rate_limit_burst == 0 {
                problems.push(format!(
                    "personio.accounts.{}: rate_limit_per_minute and rate_limit_burst must be above 0",
                    account.name
                ));
            }
        }
        match &self.destination {
            DestinationConfig::Directory { path } if path.trim().is_empty() => problems
                .push("destination.path: a directory destination needs a folder path".to_owned()),
            DestinationConfig::Scim { base_url, .. } if base_url.trim().is_empty() => problems
                .push(
                    "destination.base_url: a SCIM destination needs the SCIM base URL".to_owned(),
                ),
            DestinationConfig::Scim { base_url, .. } => {
                if let Err(problem) = crate::http::credential_url(base_url) {
                    problems.push(format!("destination.base_url: {problem}"));
                }
            }
            _ => {}
        }
        let fields = self.mapping.effective_fields();
        let targets: BTreeSet<&str> = fields.iter().map(|rule| rule.target.as_str()).collect();
        for rule in &fields {
            problems.extend(rule.problems());
        }
        if !targets.contains(crate::record::USER_NAME) {
            problems.push(format!(
                "mapping.fields: no rule fills `{}`; every user needs a user name",
                crate::record::USER_NAME
            ));
        }
        if !targets.contains(self.matching.field.as_str()) {
            problems.push(format!(
                "matching.field: `{}` is not a mapped field",
                self.matching.field
            ));
        }
        for rule in &self.scope.rules {
            if rule.allowed.is_empty() {
                problems.push(format!(
                    "scope.rules: the rule on `{}` allows no value, so nobody would be in scope",
                    rule.attribute
                ));
            }
        }
        if self.scope.statuses.is_empty() {
            problems.push("scope.statuses: list at least one status".to_owned());
        }
        if self.guard.max_deactivation_percent < 0.0
            || !(0.0..=100.0).contains(&self.guard.min_source_percent)
            || !(0.0..=100.0).contains(&self.guard.min_attribute_percent)
        {
            problems.push("guard: percentages must be between 0 and 100".to_owned());
        }
        if self.invite.policy != InvitePolicy::Never && self.email.from.is_none() {
            problems.push("email.from: welcome emails need a sender address".to_owned());
        }
        for to in &self.email.to {
            if !to.contains('@') || to.contains(char::is_whitespace) {
                problems.push(format!("email.to: `{to}` is not an email address"));
            }
        }
        if !(1..=168).contains(&self.schedule.full_every_hours) {
            problems.push(
                "schedule.full_every_hours: between 1 and 168 (a week); turn incremental runs off with incremental = false".to_owned(),
            );
        }
        if let Some(every) = self.schedule.every_minutes {
            if every < 5 {
                problems.push("schedule.every_minutes: at least 5".to_owned());
            }
        }
        if let Some(day) = &self.schedule.weekly_on {
            if self.schedule.weekday().is_none() {
                problems.push(format!(
                    "schedule.weekly_on: `{day}` is not a day of the week like monday"
                ));
            }
            if self.schedule.every_minutes.is_some() {
                problems.push(
                    "schedule: every_minutes and weekly_on both say when to run; keep one"
                        .to_owned(),
                );
            }
        }
        if self.schedule.manual
            && (self.schedule.every_minutes.is_some() || self.schedule.weekly_on.is_some())
        {
            problems.push(
                "schedule: manual = true means no scheduled runs; remove every_minutes and weekly_on, or manual"
                    .to_owned(),
            );
        }
        if let Some(at) = &self.schedule.daily_at {
            if chrono::NaiveTime::parse_from_str(at, "%H:%M").is_err() {
                problems.push(format!(
                    "schedule.daily_at: `{at}` is not a time like 06:00"
                ));
            }
        }
        if self.lifecycle.delete_after_days == Some(0) {
            problems.push(
                "lifecycle.delete_after_days: at least 1 (leave it out to never delete)".to_owned(),
            );
        }
        if self.apply.concurrency == 0 || self.apply.concurrency > 64 {
            problems.push("apply.concurrency: between 1 and 64".to_owned());
        }
        problems.extend(self.write_back.problems());
        problems.extend(self.add_person.problems());
        if !(16..=2048).contains(&self.pictures.width) {
            problems.push("pictures.width: between 16 and 2048 pixels".to_owned());
        }
        if self.pictures.refresh_days == 0 || self.pictures.per_run == 0 {
            problems.push(
                "pictures: refresh_days and per_run must be above 0 (host = false turns hosting off)"
                    .to_owned(),
            );
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }

    /// The time zone that decides "today" for a person in `office`.
    pub fn timezone_for(&self, office: Option<&str>) -> Tz {
        office
            .and_then(|office| self.lifecycle.office_timezones.get(office))
            .copied()
            .unwrap_or(self.timezone)
    }
}

#[cfg(test)]
mod tests;
