//! Preview: who is in scope, why, and what the next run would do for each person, without writing
//! anything. The admin API's `GET /tenants/{id}/preview` and the CLI's `preview` both use it.
//!
//! It runs the real engine steps — map and scope ([`Intake`]), the guards, lifecycle
//! (`lifecycle::desired`) and the plan itself — against the stored snapshot, so its answer is the
//! plan's answer, "held" included. What it leaves out: the destination is not read, so a person a first sync would
//! *adopt* (an existing app user with the same user name) shows as `create`; and manager and group
//! changes are not listed per person.

use crate::config::TenantConfig;
use crate::guard::{self, GuardInput};
use crate::history::RecordError;
use crate::ids::{AccountId, PersonKey};
use crate::lifecycle::{self, Desired};
use crate::people::{display_name, Intake};
use crate::plan::{self, ActionKind, PlanInput};
use crate::ports::{Source, SourceBatch, SourceError};
use crate::scope::ScopeDecision;
use crate::state::Snapshot;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the next run would do for one person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Would {
    /// Create a user (or adopt an existing one with the same user name).
    Create,
    /// Write changed fields.
    Update,
    /// Activate the user (hire date reached, rehired, back in scope).
    Activate,
    /// Deactivate the user.
    Deactivate,
    /// Delete the (inactive) user: a leaver's retention is over.
    Delete,
    /// Nothing: up to date, or nobody to create.
    Nothing,
    /// Leave the person alone on purpose, or because their record has an error.
    Skip,
}

impl Would {
    /// The value as text, as the API and the CLI show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Activate => "activate",
            Self::Deactivate => "deactivate",
            Self::Delete => "delete",
            Self::Nothing => "nothing",
            Self::Skip => "skip",
        }
    }

    /// Parses the text form.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Create,
            Self::Update,
            Self::Activate,
            Self::Deactivate,
            Self::Delete,
            Self::Nothing,
            Self::Skip,
        ]
        .into_iter()
        .find(|would| would.as_str() == text)
    }
}

/// One person of the preview.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewRow {
    /// Account and Personio id.
    pub person: PersonKey,
    /// Display name from the mapped record, when it maps (personal data: never logged).
    pub name: Option<String>,
    /// In scope and not gone: the person has, or gets, an active or pre-hire user.
    pub in_scope: bool,
    /// Why, in the words of the run summary.
    pub reason: String,
    /// What the next run would do.
    pub would: Would,
}

/// The whole preview, one row per person, ordered by person key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Preview {
    /// Every person read from Personio, and linked people Personio no longer returns.
    pub rows: Vec<PreviewRow>,
    /// Employees read from Personio.
    pub fetched: usize,
    /// Why the run would be held, as the run summary says it; empty when it would apply.
    pub held_because: Vec<String>,
}

impl Preview {
    /// How many rows would do each thing.
    pub fn counts(&self) -> BTreeMap<Would, usize> {
        let mut counts = BTreeMap::new();
        for row in &self.rows {
            *counts.entry(row.would).or_insert(0) += 1;
        }
        counts
    }

    /// How many people are in scope.
    pub fn in_scope(&self) -> usize {
        self.rows.iter().filter(|row| row.in_scope).count()
    }
}

/// Reads every employee of every source, then previews them. Fails when a source does.
pub async fn fetch_and_preview(
    sources: &[(AccountId, &dyn Source)],
    config: &TenantConfig,
    snapshot: &Snapshot,
    now: DateTime<Utc>,
) -> Result<Preview, SourceError> {
    let mut batches = Vec::with_capacity(sources.len());
    for (account, source) in sources {
        batches.push((account.clone(), source.employees().await?));
    }
    Ok(preview(config, batches, snapshot, now))
}

/// What each person was before the plan took their record.
struct Before {
    name: Option<String>,
    scope: ScopeDecision,
    desired: Desired,
}

/// The preview of `batches` (one per account) against `snapshot` at `now`. Pure.
///
/// The same steps as a run's, in the same order: [`Intake`] maps and scopes, [`guard::protect`]
/// decides who is left alone, the plan decides, and [`guard::check`] says whether the run would
/// be held.
pub fn preview(
    config: &TenantConfig,
    batches: Vec<(AccountId, SourceBatch)>,
    snapshot: &Snapshot,
    now: DateTime<Utc>,
) -> Preview {
    preview_of(config, batches, None, snapshot, now, true)
}

/// What the next run would do for `key` alone: reads only that person from their account (one
/// Personio request), then plans them as a one-person run would. `None` when the tenant has no
/// such account, or Personio has no such person and the sync never linked them.
pub async fn preview_person(
    sources: &[(AccountId, &dyn Source)],
    config: &TenantConfig,
    snapshot: &Snapshot,
    key: &PersonKey,
    now: DateTime<Utc>,
) -> Result<Option<PreviewRow>, SourceError> {
    let Some((account, source)) = sources.iter().find(|(account, _)| *account == key.account)
    else {
        return Ok(None);
    };
    let (batches, gone) = match source.employee(key.id).await? {
        Some(batch) => (vec![(account.clone(), batch)], None),
        None => (Vec::new(), Some(key.clone())),
    };
    let preview = preview_of(config, batches, gone, snapshot, now, false);
    Ok(preview.rows.into_iter().find(|row| &row.person == key))
}

/// The preview of `batches`: a `complete` read of everyone, or of one person Personio returned
/// (`batches` holds only them) or says is gone (`gone`), whose read makes nobody else a leaver.
fn preview_of(
    config: &TenantConfig,
    batches: Vec<(AccountId, SourceBatch)>,
    gone: Option<PersonKey>,
    snapshot: &Snapshot,
    now: DateTime<Utc>,
    complete: bool,
) -> Preview {
    let mut intake = Intake::new(config, now);
    if let Some(key) = gone {
        intake.add_gone(key);
    }
    let mut unreadable: BTreeMap<PersonKey, String> = BTreeMap::new();
    for (account, batch) in batches {
        for error in &batch.errors {
            if let Some(key) = &error.person {
                unreadable
                    .entry(key.clone())
                    .or_insert_with(|| error.message.clone());
            }
        }
        intake.add(&account, batch);
    }
    if config.pictures.host {
        crate::pictures::as_sent(&mut intake.people, &snapshot.links);
    }
    guard::protect(&mut intake, snapshot, complete);
    let fetched = intake.people.len();
    let before: BTreeMap<PersonKey, Before> = intake
        .people
        .iter()
        .map(|person| {
            let today = lifecycle::today_in(config.timezone_for(person.employee.office()), now);
            let before = Before {
                name: person.display_name(),
                scope: person.scope.clone(),
                desired: lifecycle::desired(
                    &person.employee,
                    today,
                    config.lifecycle.pre_hire_days,
                ),
            };
            (person.key().clone(), before)
        })
        .collect();
    let candidates = BTreeMap::new();
    let mut plan = plan::plan(PlanInput {
        config,
        people: &mut intake.people,
        protected: &intake.protected,
        complete,
        gone: &intake.gone,
        snapshot,
        candidates: &candidates,
        now,
    });
    plan.errors.splice(0..0, std::mem::take(&mut intake.errors));
    let held_because = guard::check(&GuardInput {
        plan: &plan,
        snapshot,
        source: &intake.stats,
        used_attributes: &intake.used_attributes,
        complete,
        config: &config.guard,
    });
    let protected = &intake.protected;

    let mut rows: BTreeMap<PersonKey, PreviewRow> = BTreeMap::new();
    for (key, before) in &before {
        let in_scope = matches!(before.scope, ScopeDecision::In)
            && !matches!(before.desired, Desired::Gone(_));
        let reason = match unreadable.get(key) {
            Some(message) => format!("could not be read from Personio: {message}"),
            None => base_reason(before, snapshot.links.contains_key(key)),
        };
        rows.insert(
            key.clone(),
            PreviewRow {
                person: key.clone(),
                name: before.name.clone(),
                in_scope,
                reason,
                would: if protected.contains(key) {
                    Would::Skip
                } else {
                    Would::Nothing
                },
            },
        );
    }
    for action in &plan.actions {
        let would = match action.kind {
            ActionKind::Create { .. } | ActionKind::Adopt { .. } => Would::Create,
            ActionKind::Update { .. } => Would::Update,
            ActionKind::Activate { .. } => Would::Activate,
            ActionKind::Deactivate { .. } => Would::Deactivate,
            ActionKind::Delete { .. } => Would::Delete,
        };
        let row = rows
            .entry(action.key.clone())
            .or_insert_with(|| PreviewRow {
                // A linked person Personio no longer returns.
                person: action.key.clone(),
                name: snapshot
                    .links
                    .get(&action.key)
                    .and_then(|link| display_name(&link.record)),
                in_scope: false,
                reason: String::new(),
                would,
            });
        row.would = would;
        if !action.reason.is_empty() {
            row.reason = action.reason.clone();
        }
    }
    for skip in &plan.skips {
        if let Some(row) = rows.get_mut(&skip.key) {
            row.would = Would::Skip;
            row.reason = skip.reason.clone();
        }
    }
    for error in &plan.errors {
        skip_for_error(&mut rows, error);
    }
    Preview {
        rows: rows.into_values().collect(),
        fetched,
        held_because,
    }
}

fn skip_for_error(rows: &mut BTreeMap<PersonKey, PreviewRow>, error: &RecordError) {
    let Some(row) = error.person.as_ref().and_then(|key| rows.get_mut(key)) else {
        return;
    };
    // Several errors of one person (two required fields missing) are listed together.
    if row.would == Would::Skip && row.reason.starts_with("error: ") {
        row.reason.push_str("; ");
        row.reason.push_str(&error.message);
    } else {
        row.would = Would::Skip;
        row.reason = format!("error: {} ({})", error.message, error.hint);
    }
}

fn base_reason(before: &Before, linked: bool) -> String {
    if let ScopeDecision::Out(why) = &before.scope {
        if !matches!(before.desired, Desired::Gone(_)) {
            return format!("out of scope: {why}");
        }
    }
    match before.desired {
        Desired::Gone(reason) => reason.describe(),
        Desired::NotYet {
            hire_date: Some(date),
        } => format!("starts on {date}"),
        Desired::NotYet { hire_date: None } => "onboarding without a hire date".to_owned(),
        Desired::PreHire { hire_date } => format!("starts on {hire_date}; created ahead, inactive"),
        Desired::Active if linked => "in scope; the app is up to date".to_owned(),
        Desired::Active => "in scope".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::employee::{AttrValue, Employee, EmploymentStatus};
    use crate::ids::PersonioId;

    fn config(extra: &str) -> TenantConfig {
        TenantConfig::from_toml(&format!(
            "tenant = \"acme\"\n[[personio.accounts]]\n[destination]\nkind = \"directory\"\npath = \"d\"\n{extra}"
        ))
        .unwrap()
    }

    fn employee(id: u64, status: EmploymentStatus, email: Option<&str>) -> Employee {
        let text = |value: &str| AttrValue::Text(value.to_owned());
        let mut attributes = crate::employee::Attributes::from([
            ("first_name".into(), text("Ada")),
            ("last_name".into(), text(&format!("L{id}"))),
            ("status".into(), text(status.as_str())),
        ]);
        if let Some(email) = email {
            attributes.insert("email".into(), text(email));
        }
        Employee {
            key: PersonKey::new(AccountId::default(), PersonioId::new(id)),
            status: Some(status),
            hire_date: Some("2020-01-01".parse().unwrap()),
            termination_date: None,
            supervisor: None,
            attributes,
        }
    }

    fn batch(employees: Vec<Employee>) -> Vec<(AccountId, SourceBatch)> {
        vec![(
            AccountId::default(),
            SourceBatch {
                employees,
                ..SourceBatch::default()
            },
        )]
    }

    #[test]
    fn every_person_gets_a_row_with_what_the_run_would_do_and_why() {
        let config = config("[scope]\nstatuses = [\"active\"]\n");
        let people = vec![
            employee(1, EmploymentStatus::Active, Some("a1@acme.example")),
            employee(2, EmploymentStatus::Onboarding, Some("a2@acme.example")),
            employee(3, EmploymentStatus::Active, None),
        ];
        let now = "2026-11-23T12:00:00Z".parse().unwrap();
        let preview = preview(&config, batch(people), &Snapshot::default(), now);
        assert_eq!(preview.fetched, 3);
        let rows = &preview.rows;
        assert_eq!(rows.len(), 3);
        assert_eq!(
            (rows[0].would, rows[0].in_scope),
            (Would::Create, true),
            "{rows:?}"
        );
        assert_eq!(rows[0].name.as_deref(), Some("Ada L1"));
        assert_eq!((rows[1].would, rows[1].in_scope), (Would::Nothing, false));
        assert!(
            rows[1].reason.contains("out of scope"),
            "{}",
            rows[1].reason
        );
        assert_eq!(
            rows[2].would,
            Would::Skip,
            "no email: the record does not map"
        );
        assert!(rows[2].reason.starts_with("error: "), "{}", rows[2].reason);
        assert_eq!(preview.counts()[&Would::Create], 1);
        assert_eq!(preview.in_scope(), 2);
    }

    #[test]
    fn would_values_round_trip_as_text() {
        for would in [Would::Create, Would::Delete, Would::Skip, Would::Nothing] {
            assert_eq!(Would::parse(would.as_str()), Some(would));
        }
        assert_eq!(Would::parse("remove"), None);
    }
}
