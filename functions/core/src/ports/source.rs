//! The source port: where employees come from (one Personio account), what one fetch
//! produces, and how a run prepares people as they are read.

use crate::employee::{AttributeInfo, Employee};
use crate::history::RecordError;
use crate::ids::PersonioId;
use crate::people::Person;
use async_trait::async_trait;
use std::collections::BTreeMap;

/// Everything one fetch from one Personio account produced: employees as read, or (`T` =
/// [`Person`]) already mapped and scoped by [`Source::read_prepared`].
#[derive(Debug)]
pub struct SourceBatch<T = Employee> {
    /// Employees that parsed.
    pub employees: Vec<T>,
    /// `universal_id` → attribute key, as Personio reported it (`date_of_birth` → `dynamic_180883`).
    pub universal_ids: BTreeMap<String, String>,
    /// Employees (or attributes) that could not be parsed. Each person named here is left alone
    /// this run: not updated, and not treated as a leaver.
    pub errors: Vec<RecordError>,
    /// Ids of the employees in `errors`, so the plan can protect them.
    pub unreadable: Vec<PersonioId>,
}

impl<T> Default for SourceBatch<T> {
    fn default() -> Self {
        Self {
            employees: Vec::new(),
            universal_ids: BTreeMap::new(),
            errors: Vec::new(),
            unreadable: Vec::new(),
        }
    }
}

/// What a run keeps of each employee, made as the employee is read (`people::prepare`): given
/// the employee and the universal ids (and resolved labels) known so far.
pub type Prepare<'a> = dyn FnMut(Employee, &BTreeMap<String, String>) -> Person + Send + 'a;

/// A batch of people mapped and scoped as they were read, with how many had each attribute
/// (counted before mapping, for the drift guard).
#[derive(Debug, Default)]
pub struct PreparedBatch {
    /// The people, the universal ids and who could not be read.
    pub batch: SourceBatch<Person>,
    /// Attribute key → how many of the people had it.
    pub attribute_presence: BTreeMap<String, usize>,
}

impl PreparedBatch {
    /// Prepares a batch read whole: what [`Source::read_prepared`] does by default.
    pub fn of(batch: SourceBatch, prepare: &mut Prepare<'_>) -> Self {
        let mut attribute_presence = BTreeMap::new();
        let SourceBatch {
            employees,
            universal_ids,
            errors,
            unreadable,
        } = batch;
        let people = employees
            .into_iter()
            .map(|employee| {
                count_presence(&mut attribute_presence, &employee);
                prepare(employee, &universal_ids)
            })
            .collect();
        Self {
            batch: SourceBatch {
                employees: people,
                universal_ids,
                errors,
                unreadable,
            },
            attribute_presence,
        }
    }
}

/// Counts each attribute `employee` has.
pub fn count_presence(presence: &mut BTreeMap<String, usize>, employee: &Employee) {
    for key in employee.attributes.keys() {
        // Looked up before inserting: one String per attribute, not per person.
        match presence.get_mut(key.as_str()) {
            Some(count) => *count += 1,
            None => {
                presence.insert(key.to_string(), 1);
            }
        }
    }
}

/// Why a fetch from Personio failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Personio refused the credentials.
    #[error("Personio rejected the credentials (client id or secret) of account {account}: {detail}; check them in the tenant's secret and in Personio's API settings")]
    Unauthorized {
        /// The Personio account name.
        account: String,
        /// What Personio said.
        detail: String,
    },
    /// The credentials are valid but may not read employees.
    #[error("Personio's credentials for account {account} may not read employees ({detail}); allow 'Read' for Employees on the API credential in Personio")]
    Forbidden {
        /// The Personio account name.
        account: String,
        /// What Personio said.
        detail: String,
    },
    /// The credentials may not write what was asked (write-back, adding a person).
    #[error("Personio's credentials for account {account} may not write employees ({detail}); allow 'Write' for Employees (and the attribute) on the API credential in Personio")]
    WriteForbidden {
        /// The Personio account name.
        account: String,
        /// What Personio said.
        detail: String,
    },
    /// Personio refused a write it was sent (an unknown attribute or supervisor, a taken email).
    #[error("Personio refused the change: {detail}")]
    Refused {
        /// Personio's own message, with the status.
        detail: String,
    },
    /// Rate limited or failing after every retry.
    #[error("Personio did not answer successfully after {attempts} attempts ({detail}); the run will be tried again later")]
    Unavailable {
        /// Attempts made.
        attempts: u32,
        /// Last status or error.
        detail: String,
    },
    /// The employee list kept changing while it was paged.
    #[error("Personio's employee list changed while it was read, {attempts} times in a row (expected {expected} people, read {read}); try the run again")]
    Inconsistent {
        /// Fetch attempts.
        attempts: u32,
        /// `total_elements` Personio reported.
        expected: usize,
        /// Distinct people read.
        read: usize,
    },
    /// A response that is not what the API documents.
    #[error("Personio sent a response this service cannot read ({detail})")]
    Malformed {
        /// What was wrong.
        detail: String,
    },
    /// A `label:` attribute of the config names no attribute of this account, or several.
    #[error(
        "the config names the Personio attribute `label:{label}`, but account {account} {problem}"
    )]
    Label {
        /// The Personio account name.
        account: String,
        /// The label as configured.
        label: String,
        /// What is wrong, with the candidates.
        problem: String,
    },
    /// Could not connect.
    #[error("could not reach Personio at {url}: {detail}")]
    Transport {
        /// The URL (no credentials in it).
        url: String,
        /// The error.
        detail: String,
    },
}

/// Where employees come from: one Personio account.
#[async_trait]
pub trait Source: Send + Sync {
    /// Every employee the credential may read.
    async fn employees(&self) -> Result<SourceBatch, SourceError>;
    /// The employees Personio says changed after `since` (v1 `updated_since`), for an incremental
    /// run. People deleted from Personio are not among them.
    async fn employees_changed_since(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<SourceBatch, SourceError>;
    /// Everyone (`since` = `None`) or the people changed after `since`, each prepared for the
    /// run as it is read. A source that reads page by page prepares each page as it arrives, so
    /// a full fetch never holds every raw employee at once; this default reads the whole batch
    /// first.
    async fn read_prepared(
        &self,
        since: Option<chrono::DateTime<chrono::Utc>>,
        prepare: &mut Prepare<'_>,
    ) -> Result<PreparedBatch, SourceError> {
        let batch = match since {
            Some(since) => self.employees_changed_since(since).await?,
            None => self.employees().await?,
        };
        Ok(PreparedBatch::of(batch, prepare))
    }
    /// One employee; `Ok(None)` when Personio says there is no such person.
    async fn employee(&self, id: PersonioId) -> Result<Option<SourceBatch>, SourceError>;
    /// The attributes the credential may read, custom ones included.
    async fn attributes(&self) -> Result<Vec<AttributeInfo>, SourceError>;
    /// The person's profile picture `width` pixels wide, as Personio serves it (PNG); `Ok(None)`
    /// when they have none or the credential may not read it (Personio answers both with 404).
    async fn picture(&self, id: PersonioId, width: u32) -> Result<Option<Vec<u8>>, SourceError>;
    /// Writes one custom attribute (`dynamic_*`) of one employee: write-back, the only write a
    /// run makes to Personio.
    async fn write_attribute(
        &self,
        id: PersonioId,
        key: &str,
        value: &str,
    ) -> Result<(), SourceError>;
    /// Adds an employee (an admin's request, checked before); their new id.
    async fn add_employee(
        &self,
        employee: &crate::personio::add::NewEmployee,
    ) -> Result<PersonioId, SourceError>;
}
