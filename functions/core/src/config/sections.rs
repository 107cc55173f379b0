//! The tenant's decisions besides sources and destination, one struct per TOML section, each with
//! its defaults.

use crate::mapping::{default_fields, FieldRule, SourceRef};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

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

pub(super) fn yes() -> bool {
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
    /// Retention: delete a leaver's deactivated user this many days after their termination
    /// date (or, without one, the day we deactivated it), counted in the tenant's time zone;
    /// `None` (the default): users are only ever deactivated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_after_days: Option<u32>,
    /// Whether retention also deletes users this service adopted (matched on first sync)
    /// rather than created, and users linked before the origin was recorded.
    #[serde(default)]
    pub delete_adopted: bool,
}

fn default_pre_hire_days() -> u32 {
    7
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        Self {
            pre_hire_days: default_pre_hire_days(),
            office_timezones: BTreeMap::new(),
            delete_after_days: None,
            delete_adopted: false,
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
    /// One group per cost center (`Cost center: …`).
    #[serde(default)]
    pub cost_centers: bool,
    /// One group per legal entity, Personio's subcompany (`Legal entity: …`).
    #[serde(default)]
    pub legal_entities: bool,
    /// One group per position, the job title (`Position: …`).
    #[serde(default)]
    pub positions: bool,
    /// Attributes with one group per value (`Shirt size: M`): list, text or tags attributes,
    /// named like a mapping's source (key, `universal:…` or `label:…`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<SourceRef>,
}

impl GroupsConfig {
    /// The title an attribute's groups carry before the value: the label, else the key.
    pub fn attribute_title(source: &SourceRef) -> &str {
        match source {
            SourceRef::Label(text) => text
                .strip_prefix(crate::personio::labels::PREFIX)
                .unwrap_or(text),
            SourceRef::Key(key) | SourceRef::Universal(key) => key,
        }
    }
}

impl Default for GroupsConfig {
    fn default() -> Self {
        Self {
            departments: true,
            teams: false,
            offices: false,
            cost_centers: false,
            legal_entities: false,
            positions: false,
            attributes: Vec::new(),
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
    /// Or weekly: on this day (`monday` … `sunday`), at `daily_at` (06:00 when not set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekly_on: Option<String>,
    /// No scheduled runs at all: only sync now, approvals and webhooks start runs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub manual: bool,
    /// With `every_minutes`, scheduled runs between full runs read only the people Personio says
    /// changed since the last clean run (decision 0019). On by default; daily and weekly runs
    /// always read everyone.
    #[serde(default = "yes")]
    pub incremental: bool,
    /// A scheduled run reads everyone when the last full run is this many hours old (1–168),
    /// and at the first run of each day in the tenant's time zone; it finds who was deleted from
    /// Personio and acts on dates that arrived. Default 24.
    #[serde(default = "default_full_every_hours")]
    pub full_every_hours: u32,
}

fn default_full_every_hours() -> u32 {
    24
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self {
            every_minutes: None,
            daily_at: Some("06:00".to_owned()),
            weekly_on: None,
            manual: false,
            incremental: true,
            full_every_hours: default_full_every_hours(),
        }
    }
}

impl ScheduleConfig {
    /// The day of `weekly_on`, when it names one (English, any case, `mon` or `monday`).
    pub fn weekday(&self) -> Option<chrono::Weekday> {
        self.weekly_on.as_deref()?.trim().parse().ok()
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

/// Profile pictures the app can show (`[pictures]`): Personio's picture address works only with
/// Personio credentials, so the run downloads each picture and gives the app a URL of its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PicturesConfig {
    /// Host pictures where the deployment has a picture store; `false` sends Personio's address
    /// as it is (the behaviour before hosting).
    #[serde(default = "yes")]
    pub host: bool,
    /// The width in pixels asked of Personio.
    #[serde(default = "default_picture_width")]
    pub width: u32,
    /// Days after which a hosted picture is read from Personio again to see whether it changed
    /// (Personio's address does not change with the picture).
    #[serde(default = "default_refresh_days")]
    pub refresh_days: u32,
    /// Pictures read from Personio at most per run; the rest follow in the next runs, so that a
    /// first run of a large company does not spend its time and rate limit on pictures.
    #[serde(default = "default_pictures_per_run")]
    pub per_run: usize,
}

fn default_picture_width() -> u32 {
    256
}

fn default_refresh_days() -> u32 {
    7
}

fn default_pictures_per_run() -> usize {
    200
}

impl Default for PicturesConfig {
    fn default() -> Self {
        Self {
            host: true,
            width: default_picture_width(),
            refresh_days: default_refresh_days(),
            per_run: default_pictures_per_run(),
        }
    }
}

/// The admins' console of the tenant.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Whether the console's pages may act (approve, reject, sync now, dry run) for a session
    /// opened from an `act` link; `false` makes every link of the tenant view only.
    #[serde(default = "yes")]
    pub actions: bool,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self { actions: true }
    }
}
