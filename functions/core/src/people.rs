//! Map and scope: the pipeline step between fetching and planning. Each employee Personio returned
//! is scoped, then mapped into a destination record, and becomes a [`Person`]; [`Intake`] collects
//! them per account with what the guards need to know about the fetch (who could not be read, who
//! is gone, which attributes came back for how many people).
//!
//! `run` and `preview` both build their people here, so they see the same people.

use crate::attributes::UsedAttributes;
use crate::config::TenantConfig;
use crate::employee::{Employee, EmploymentStatus};
use crate::history::RecordError;
use crate::ids::{AccountId, PersonKey};
use crate::lifecycle::{self, Desired};
use crate::mapping::Mapping;
use crate::ports::{PreparedBatch, SourceBatch};
use crate::record::UserRecord;
use crate::scope::{self, ScopeDecision};
use crate::state::SourceStats;
use std::collections::{BTreeMap, BTreeSet};

/// One person from Personio, mapped and scoped, ready to plan.
#[derive(Clone, Debug)]
pub struct Person {
    /// The employee as normalised.
    pub employee: Employee,
    /// The mapped record, or why it could not be mapped.
    pub record: Result<UserRecord, Vec<RecordError>>,
    /// In or out of scope.
    pub scope: ScopeDecision,
    /// The names of the attribute-value groups (`[groups] attributes`) the person belongs in.
    pub attribute_groups: Vec<String>,
}

impl Person {
    /// The person's key.
    pub fn key(&self) -> &PersonKey {
        &self.employee.key
    }

    /// The display name from the mapped record (personal data: never logged).
    pub fn display_name(&self) -> Option<String> {
        match &self.record {
            Ok(record) => display_name(record),
            // What did map names them (see `Mapping::map_owned`).
            Err(errors) => errors.iter().find_map(|error| error.name.clone()),
        }
    }

    /// Whether a plan at `now` could create (or adopt) a user for this person: only then is it
    /// worth looking for an existing destination user to match.
    pub fn may_need_account(
        &self,
        config: &TenantConfig,
        now: chrono::DateTime<chrono::Utc>,
    ) -> bool {
        if self.record.is_err() || !matches!(self.scope, ScopeDecision::In) {
            return false;
        }
        let today = lifecycle::today_in(config.timezone_for(self.employee.office()), now);
        match lifecycle::desired(&self.employee, today, config.lifecycle.pre_hire_days) {
            Desired::Active | Desired::PreHire { .. } => true,
            Desired::Gone(_) => config.scope.statuses.contains(&EmploymentStatus::Inactive),
            Desired::NotYet { .. } => false,
        }
    }
}

/// "Given Family" from a mapped record, when it has either.
pub fn display_name(record: &UserRecord) -> Option<String> {
    let parts: Vec<String> = ["given_name", "family_name"]
        .iter()
        .filter_map(|field| record.text(field))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Scopes, then maps one employee (scope first: mapping may move values out of the attributes).
///
/// Afterwards the employee keeps only the attributes the plan reads (groups, office time zones):
/// the mapped record holds the rest, and 50,000 people must fit in little memory.
pub fn prepare(
    mut employee: Employee,
    mapping: &Mapping,
    used: &UsedAttributes,
    config: &TenantConfig,
    universal_ids: &BTreeMap<String, String>,
) -> Person {
    let scope = scope::decide(&employee, &config.scope, universal_ids);
    // Before mapping, which may move values out of the attributes.
    let attribute_groups = attribute_groups(&employee, config, universal_ids);
    let record = mapping.map_owned(&mut employee, universal_ids);
    employee
        .attributes
        .retain(|key| used.kept_after_mapping(key));
    Person {
        employee,
        record,
        scope,
        attribute_groups,
    }
}

/// `Title: value` for each value of each `[groups] attributes` attribute the person has.
fn attribute_groups(
    employee: &Employee,
    config: &TenantConfig,
    universal_ids: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut names = Vec::new();
    for source in &config.groups.attributes {
        let title = crate::config::GroupsConfig::attribute_title(source);
        if let Some(value) = source.value(employee, universal_ids) {
            for value in crate::plan::group_values(value) {
                names.push(format!("{title}: {value}"));
            }
        }
    }
    names
}

/// Everyone a run fetched, mapped and scoped, with the facts about the fetch.
pub struct Intake<'a> {
    config: &'a TenantConfig,
    mapping: Mapping,
    used: UsedAttributes,
    /// The people, in fetch order.
    pub people: Vec<Person>,
    /// People Personio could not be read for: left exactly as they are.
    pub protected: BTreeSet<PersonKey>,
    /// People Personio says are gone (a one-person run for a deleted person).
    pub gone: BTreeSet<PersonKey>,
    /// Errors found while reading, reported with the run.
    pub errors: Vec<RecordError>,
    /// How many employees came back, and with which attributes.
    pub stats: SourceStats,
    /// The attribute keys the tenant uses, as this fetch's universal ids resolve them.
    pub used_attributes: BTreeSet<String>,
}

impl<'a> Intake<'a> {
    /// An empty intake for `config` on a run at `now` (the day derived values such as tenure
    /// count to).
    pub fn new(config: &'a TenantConfig, now: chrono::DateTime<chrono::Utc>) -> Self {
        let used = config.attributes();
        Self {
            config,
            mapping: Mapping::of(config).on(crate::mapping::Derivation::of(config, now)),
            used,
            people: Vec::new(),
            protected: BTreeSet::new(),
            gone: BTreeSet::new(),
            errors: Vec::new(),
            stats: SourceStats::default(),
            used_attributes: BTreeSet::new(),
        }
    }

    /// Maps and scopes one account's batch.
    pub fn add(&mut self, account: &AccountId, mut batch: SourceBatch) {
        self.take_facts(account, &mut batch);
        for employee in batch.employees {
            crate::ports::count_presence(&mut self.stats.attribute_presence, &employee);
            self.people.push(prepare(
                employee,
                &self.mapping,
                &self.used,
                self.config,
                &batch.universal_ids,
            ));
        }
    }

    /// What the run keeps of each employee as a source reads them: see [`Source::read_prepared`]
    /// (`crate::ports::Source`), then [`Intake::add_prepared`].
    pub fn preparer(
        &self,
    ) -> impl FnMut(Employee, &BTreeMap<String, String>) -> Person + Send + '_ {
        |employee, universal_ids| {
            prepare(
                employee,
                &self.mapping,
                &self.used,
                self.config,
                universal_ids,
            )
        }
    }

    /// Adds one account's people, mapped and scoped as they were read.
    pub fn add_prepared(&mut self, account: &AccountId, prepared: PreparedBatch) {
        let PreparedBatch {
            mut batch,
            attribute_presence,
        } = prepared;
        self.take_facts(account, &mut batch);
        for (key, count) in attribute_presence {
            *self.stats.attribute_presence.entry(key).or_default() += count;
        }
        if self.people.is_empty() {
            // Taken as it is: extending an empty vector would copy 100,000 people into a new one.
            self.people = batch.employees;
        } else {
            self.people.extend(batch.employees);
        }
    }

    /// Keeps what a batch says besides its people: who could not be read, its errors, the
    /// attributes it resolved and its headcount.
    fn take_facts<T>(&mut self, account: &AccountId, batch: &mut SourceBatch<T>) {
        self.protected.extend(
            batch
                .unreadable
                .iter()
                .map(|id| PersonKey::new(account.clone(), *id)),
        );
        self.errors.append(&mut batch.errors);
        self.used_attributes
            .extend(self.used.resolved(&batch.universal_ids));
        self.stats.employees += batch.employees.len();
    }

    /// Records that Personio no longer knows `key`.
    pub fn add_gone(&mut self, key: PersonKey) {
        self.gone.insert(key);
    }

    /// Display names by person, for the summary email.
    pub fn names(&self) -> BTreeMap<PersonKey, String> {
        self.people
            .iter()
            .filter_map(|person| Some((person.key().clone(), person.display_name()?)))
            .collect()
    }
}
