//! Tenant configuration: what each tenant decides (mapping, scope, matching, lifecycle, invites,
//! guards, groups, email, schedule). Parsed from TOML (CLI) or JSON (DynamoDB) into one typed struct;
//! every default lives here, and [`TenantConfig::validate`] lists every problem at once.
//!
//! Secrets are never part of it: credentials come from the environment, a file or Secrets Manager.

use crate::ids::{AccountId, TenantId};
use crate::mapping::{default_fields, FieldRule, SourceRef};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

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
    #[serde(default = "yes")]
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
}

fn default_timezone() -> Tz {
    chrono_tz::Europe::Berlin
}

/// The Personio side.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonioConfig {
    /// One entry per Personio account (legal entity); they feed one destination.
    pub accounts: Vec<AccountConfig>,
}

/// One Personio account.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// Its name within the tenant; part of every link key, so never rename it.
    #[serde(default)]
    pub name: AccountId,
    /// API base URL without `/v1` (Personio is moving domains, so it is configurable).
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Requests per minute to the employees endpoint (Personio: 300).
    #[serde(default = "default_per_minute")]
    pub rate_limit_per_minute: u32,
    /// Burst of requests per second (Personio: 15).
    #[serde(default = "default_burst")]
    pub rate_limit_burst: u32,
    /// Sent as `X-Personio-Partner-ID` when set.
    #[serde(default)]
    pub partner_id: Option<String>,
    /// Sent as `X-Personio-App-ID` when set.
    #[serde(default)]
    pub app_id: Option<String>,
}

fn default_base_url() -> String {
    "https://api.personio.de".to_owned()
}
fn default_per_minute() -> u32 {
    300
}
fn default_burst() -> u32 {
    15
}

/// Where users go. Each kind carries exactly what it needs; where the secrets come from is not
/// part of it (Secrets Manager in AWS; the CLI's own keys, see the CLI's `secret_sources`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DestinationConfig {
    /// A folder with one JSON file per user and group: local runs with the CLI only (relative
    /// paths are relative to the config file).
    Directory {
        /// The folder.
        path: String,
    },
    /// A SCIM 2.0 server.
    Scim {
        /// The base URL, e.g. `https://app.example/scim/v2`.
        base_url: String,
        /// Where each neutral field lands, overriding or adding to the defaults.
        #[serde(default)]
        attribute_paths: BTreeMap<String, String>,
    },
}

/// Field mapping: the 18 defaults of the seeds, then the tenant's own rules.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingConfig {
    /// Start from the default fields (a rule with the same target replaces its default).
    #[serde(default = "yes")]
    pub defaults: bool,
    /// Link each person's supervisor as their manager.
    #[serde(default = "yes")]
    pub manager: bool,
    /// The tenant's rules.
    #[serde(default)]
    pub fields: Vec<FieldRule>,
}

fn yes() -> bool {
    true
}

impl Default for MappingConfig {
    fn default() -> Self {
        Self {
            defaults: true,
            manager: true,
            fields: Vec::new(),
        }
    }
}

impl MappingConfig {
    /// The effective rules: defaults (unless switched off) with the tenant's rules replacing those
    /// of the same target, in target order; disabled rules dropped.
    pub fn effective_fields(&self) -> Vec<FieldRule> {
        let mut rules: BTreeMap<String, FieldRule> = BTreeMap::new();
        if self.defaults {
            for rule in default_fields() {
                rules.insert(rule.target.clone(), rule);
            }
        }
        for rule in &self.fields {
            rules.insert(rule.target.clone(), rule.clone());
        }
        rules.into_values().filter(|rule| rule.enabled).collect()
    }
}

/// What to do with a linked person who leaves scope (but not the company).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutOfScope {
    /// Deactivate them.
    #[default]
    Deactivate,
    /// Leave them as they are (no updates either).
    Leave,
}

/// One scope rule: the person's attribute must have one of the allowed values.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeRule {
    /// The Personio attribute (`department`, `employment_type`, `dynamic_123`, `universal:…`).
    pub attribute: SourceRef,
    /// Allowed values, compared trimmed and case-insensitively.
    pub allowed: Vec<String>,
}

/// Who is synced.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeConfig {
    /// Statuses that get an account: `active`, `leave`, `onboarding`, `inactive`. With
    /// `inactive` listed, leavers that were never synced are created inactive.
    #[serde(default = "default_statuses")]
    pub statuses: BTreeSet<crate::employee::EmploymentStatus>,
    /// All must match (AND).
    #[serde(default)]
    pub rules: Vec<ScopeRule>,
    /// Linked people who leave scope: deactivate or leave alone.
    #[serde(default)]
    pub out_of_scope: OutOfScope,
}

fn default_statuses() -> BTreeSet<crate::employee::EmploymentStatus> {
    use crate::employee::EmploymentStatus::*;
    BTreeSet::from([Active, Leave, Onboarding])
}

impl Default for ScopeConfig {
    fn default() -> Self {
        Self {
            statuses: default_statuses(),
            rules: Vec::new(),
            out_of_scope: OutOfScope::Deactivate,
        }
    }
}

/// How an unlinked person is matched to an existing destination user.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchingConfig {
    /// The mapped field compared (case-insensitively) with the destination's userName/email:
    /// `user_name` (default), `email` or `employee_number`.
    #[serde(default = "default_match_field")]
    pub field: String,
    /// Adopt a matching user on first sync. Off: such a person becomes an error instead.
    #[serde(default = "yes")]
    pub adopt: bool,
}

fn default_match_field() -> String {
    crate::record::USER_NAME.to_owned()
}

impl Default for MatchingConfig {
    fn default() -> Self {
        Self {
            field: default_match_field(),
            adopt: true,
        }
    }
}

/// Joiner and leaver timing.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifecycleConfig {
    /// Create joiners (inactive) this many days before their hire date.
    #[serde(default = "default_pre_hire_days")]
    pub pre_hire_days: u32,
    /// Office name → time zone, when "today" should follow the office rather than the tenant.
    #[serde(default)]
    pub office_timezones: BTreeMap<String, Tz>,
}

fn default_pre_hire_days() -> u32 {
    7
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        Self {
            pre_hire_days: default_pre_hire_days(),
            office_timezones: BTreeMap::new(),
        }
    }
}

/// When joiners get a welcome email.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitePolicy {
    /// Never (the app invites people itself, or the tenant does).
    #[default]
    Never,
    /// When the user is created (pre-hires included).
    OnCreation,
    /// When the user becomes active on the hire date.
    OnHireDate,
}

/// Welcome emails.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteConfig {
    /// When.
    #[serde(default)]
    pub policy: InvitePolicy,
    /// Subject; `{field}` placeholders take the person's mapped fields (`{given_name}`).
    #[serde(default = "default_invite_subject")]
    pub subject: String,
    /// Text body with the same placeholders.
    #[serde(default = "default_invite_body")]
    pub body: String,
    /// A destination field set to `"true"` when the invitation is due, for apps that send their own.
    #[serde(default)]
    pub field: Option<String>,
}

fn default_invite_subject() -> String {
    "Welcome, {given_name}!".to_owned()
}
fn default_invite_body() -> String {
    "Hello {given_name},\n\nyour account has been created. Sign in with {email}.\n".to_owned()
}

impl Default for InviteConfig {
    fn default() -> Self {
        Self {
            policy: InvitePolicy::Never,
            subject: default_invite_subject(),
            body: default_invite_body(),
            field: None,
        }
    }
}

/// Safety thresholds that hold a run before anything is written.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardConfig {
    /// Hold when a run would deactivate more than this many people.
    #[serde(default = "default_max_deactivations")]
    pub max_deactivations: usize,
    /// Hold when a run would deactivate more than this percentage of the active linked users.
    #[serde(default = "default_max_deactivation_percent")]
    pub max_deactivation_percent: f64,
    /// Hold when Personio returns fewer than this percentage of the people of the last run.
    #[serde(default = "default_min_source_percent")]
    pub min_source_percent: f64,
    /// Hold when a mapped attribute returned for most people last run is now returned for less
    /// than this percentage of them (Personio drops attributes that are not whitelisted).
    #[serde(default = "default_vanished_percent")]
    pub min_attribute_percent: f64,
}

fn default_max_deactivations() -> usize {
    25
}
fn default_max_deactivation_percent() -> f64 {
    10.0
}
fn default_min_source_percent() -> f64 {
    50.0
}
fn default_vanished_percent() -> f64 {
    50.0
}

impl Default for GuardConfig {
    fn default() -> Self {
        Self {
            max_deactivations: default_max_deactivations(),
            max_deactivation_percent: default_max_deactivation_percent(),
            min_source_percent: default_min_source_percent(),
            min_attribute_percent: default_vanished_percent(),
        }
    }
}

/// Which groups are kept in step.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupsConfig {
    /// One group per department.
    #[serde(default = "yes")]
    pub departments: bool,
    /// One group per team.
    #[serde(default)]
    pub teams: bool,
    /// One group per office.
    #[serde(default)]
    pub offices: bool,
}

impl Default for GroupsConfig {
    fn default() -> Self {
        Self {
            departments: true,
            teams: false,
            offices: false,
        }
    }
}

/// When the summary email goes out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendWhen {
    /// After every run.
    #[default]
    Always,
    /// When something changed, a run was held, or there were errors.
    ChangesOrErrors,
    /// Only when there were errors or a run was held.
    Errors,
}

/// The summary email.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// The tenant's admins.
    #[serde(default)]
    pub to: Vec<String>,
    /// Sender (a verified SES identity on AWS).
    #[serde(default)]
    pub from: Option<String>,
    /// When.
    #[serde(default)]
    pub send: SendWhen,
}

/// When scheduled runs happen.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// Every this many minutes (at least 5).
    #[serde(default)]
    pub every_minutes: Option<u32>,
    /// Or daily at this local time, `HH:MM` in the tenant's time zone.
    #[serde(default)]
    pub daily_at: Option<String>,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self {
            every_minutes: None,
            daily_at: Some("06:00".to_owned()),
        }
    }
}

/// How writes are applied.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyConfig {
    /// Writes in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

fn default_concurrency() -> usize {
    4
}

impl Default for ApplyConfig {
    fn default() -> Self {
        Self {
            concurrency: default_concurrency(),
        }
    }
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
            if !(account.base_url.starts_with("https://")
                || account.base_url.starts_with("http://"))
            {
                problems.push(format!(
                    "personio.accounts.{}.base_url must start with https:// (got `{}`)",
                    account.name, account.base_url
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
        if let Some(every) = self.schedule.every_minutes {
            if every < 5 {
                problems.push("schedule.every_minutes: at least 5".to_owned());
            }
        }
        if let Some(at) = &self.schedule.daily_at {
            if chrono::NaiveTime::parse_from_str(at, "%H:%M").is_err() {
                problems.push(format!(
                    "schedule.daily_at: `{at}` is not a time like 06:00"
                ));
            }
        }
        if self.apply.concurrency == 0 || self.apply.concurrency > 64 {
            problems.push("apply.concurrency: between 1 and 64".to_owned());
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
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        tenant = "acme"
        [[personio.accounts]]
        [destination]
        kind = "directory"
        path = "directory"
    "#;

    #[test]
    fn minimal_config_gets_the_defaults() {
        let config = TenantConfig::from_toml(MINIMAL).unwrap();
        assert_eq!(config.personio.accounts[0].name.as_str(), "main");
        assert_eq!(config.personio.accounts[0].rate_limit_per_minute, 300);
        assert_eq!(config.lifecycle.pre_hire_days, 7);
        // 17 seed fields (the 18th, supervisor, is the manager link) plus user_name.
        assert_eq!(config.mapping.effective_fields().len(), 18);
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = TenantConfig::from_toml(&format!("{MINIMAL}\n[guard]\nmax_deactivation = 3\n"))
            .unwrap_err();
        assert!(err.to_string().contains("max_deactivation"), "{err}");
    }

    #[test]
    fn every_problem_is_listed_at_once() {
        let text = r#"
            tenant = "acme"
            [personio]
            accounts = []
            [destination]
            kind = "scim"
            base_url = " "
            [matching]
            field = "nickname"
        "#;
        let err = TenantConfig::from_toml(text).unwrap_err().to_string();
        assert!(err.contains("personio.accounts"), "{err}");
        assert!(err.contains("destination.base_url"), "{err}");
        assert!(err.contains("matching.field"), "{err}");
    }

    #[test]
    fn a_destination_carries_what_its_kind_needs_and_nothing_else() {
        let scim_without_url = MINIMAL.replace(
            "kind = \"directory\"\n        path = \"directory\"",
            "kind = \"scim\"",
        );
        let err = TenantConfig::from_toml(&scim_without_url)
            .unwrap_err()
            .to_string();
        assert!(err.contains("base_url"), "{err}");
        let directory_with_url = MINIMAL.replace(
            "path = \"directory\"",
            "path = \"d\"\n        base_url = \"https://x\"",
        );
        let err = TenantConfig::from_toml(&directory_with_url)
            .unwrap_err()
            .to_string();
        assert!(err.contains("base_url"), "{err}");
        let with_token_env = MINIMAL.replace(
            "path = \"directory\"",
            "path = \"d\"\n        token_env = \"T\"",
        );
        assert!(
            TenantConfig::from_toml(&with_token_env).is_err(),
            "a secret's source is not tenant config"
        );
    }

    #[test]
    fn a_config_stored_by_an_earlier_version_still_parses_without_its_secret_sources() {
        let stored = r#"{"tenant": "acme",
            "personio": {"accounts": [{"name": "main", "client_id_env": "PERSONIO_CLIENT_ID",
                "client_secret_env": "PERSONIO_CLIENT_SECRET", "credentials_file": null}]},
            "destination": {"kind": "scim", "path": null, "base_url": "https://app.example/scim/v2",
                "token_env": "SCIM_TOKEN", "token_file": null, "attribute_paths": {}}}"#;
        let config = TenantConfig::from_json(stored).unwrap();
        assert_eq!(
            config.destination,
            DestinationConfig::Scim {
                base_url: "https://app.example/scim/v2".to_owned(),
                attribute_paths: BTreeMap::new()
            }
        );
        let saved = serde_json::to_string(&config).unwrap();
        assert!(
            !saved.contains("token_env") && !saved.contains("client_id_env"),
            "{saved}"
        );
    }

    #[test]
    fn office_time_zone_wins_over_the_tenant_one() {
        let text = format!("{MINIMAL}\n[lifecycle.office_timezones]\nLondon = \"Europe/London\"\n");
        let config = TenantConfig::from_toml(&text).unwrap();
        assert_eq!(
            config.timezone_for(Some("London")),
            chrono_tz::Europe::London
        );
        assert_eq!(
            config.timezone_for(Some("Berlin")),
            chrono_tz::Europe::Berlin
        );
        assert_eq!(config.timezone_for(None), chrono_tz::Europe::Berlin);
    }
}
