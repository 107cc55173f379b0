//! The small traits the engine reaches the world through. Adapters implement them: Personio over
//! HTTP (`personio`), the local folder, JSON directory and outbox (`sync-local`), SCIM
//! (`sync-scim`), and AWS (`sync-aws`). Tests use those same adapters against real local peers.
//!
//! The engine takes `&dyn Trait` everywhere: one compiled engine serves every adapter, and the
//! cost of dynamic dispatch is nothing next to a network call.

use crate::email::Email;
use crate::history::RunRecord;
use crate::ids::{RunId, TenantId};
use crate::personio::webhooks::WebhookSecret;
use crate::plan::Plan;
use crate::state::{GroupLink, Link, Snapshot, SourceStats};
use async_trait::async_trait;

// ---------------------------------------------------------------------------------------------
// Source: `ports/source.rs`

mod source;
pub use source::{count_presence, Prepare, PreparedBatch, Source, SourceBatch, SourceError};

mod destination;
pub use destination::{Destination, DestinationError, DestinationUser, FieldPlacement, NewUser};

// ---------------------------------------------------------------------------------------------
// Store

/// State storage failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Reading or writing failed.
    #[error("could not {action} the state at {location}: {detail}")]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// File or table.
        location: String,
        /// The error.
        detail: String,
    },
    /// Stored data does not parse (hand-edited or from an incompatible version).
    #[error("the state at {location} is damaged ({detail}); restore it from a backup or remove it to start over")]
    Corrupt {
        /// File or item.
        location: String,
        /// The parse error.
        detail: String,
    },
    /// Another writer got there first (a second run of the same tenant, a config edited twice).
    #[error("{what} was changed by someone else meanwhile; reload and try again")]
    Conflict {
        /// What raced.
        what: String,
    },
}

/// A run held by a guard, kept until an admin approves or rejects it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct HeldRun {
    /// The held run.
    pub run_id: RunId,
    /// The plan that will be applied on approval.
    pub plan: Plan,
    /// Source facts to remember once it is applied.
    pub source_stats: SourceStats,
}

/// The tenant's memory: snapshot, import history, held runs.
#[async_trait]
pub trait Store: Send + Sync {
    /// Loads links, groups and the last source stats.
    async fn snapshot(&self, tenant: &TenantId) -> Result<Snapshot, StoreError>;
    /// Saves one link (after one successful action).
    async fn save_link(&self, tenant: &TenantId, link: &Link) -> Result<(), StoreError>;
    /// Forgets one link (after its user was deleted by retention); a missing link is not an
    /// error.
    async fn remove_link(
        &self,
        tenant: &TenantId,
        key: &crate::ids::PersonKey,
    ) -> Result<(), StoreError>;
    /// Saves one group link.
    async fn save_group(&self, tenant: &TenantId, group: &GroupLink) -> Result<(), StoreError>;
    /// Saves the facts of the last applied fetch.
    async fn save_source_stats(
        &self,
        tenant: &TenantId,
        stats: &SourceStats,
    ) -> Result<(), StoreError>;
    /// Creates or replaces a run record.
    async fn save_run(&self, tenant: &TenantId, run: &RunRecord) -> Result<(), StoreError>;
    /// Run records, newest first, at most `limit`.
    async fn runs(&self, tenant: &TenantId, limit: usize) -> Result<Vec<RunRecord>, StoreError>;
    /// One run record.
    async fn run(&self, tenant: &TenantId, run_id: &RunId)
        -> Result<Option<RunRecord>, StoreError>;
    /// Keeps a held run's plan.
    async fn save_held(&self, tenant: &TenantId, held: &HeldRun) -> Result<(), StoreError>;
    /// A held run's plan, if it is still held.
    async fn held(&self, tenant: &TenantId, run_id: &RunId) -> Result<Option<HeldRun>, StoreError>;
    /// Claims held run `run_id` for one approval or rejection, `by` naming it (the approving
    /// run's id). `true` when it is now claimed by `by` (also when `by` had claimed it before:
    /// a redelivered approval job goes on); `false` when the run is not held or another claimed
    /// it. Atomic: of two concurrent claims, one wins. The held run stays (and keeps blocking the
    /// tenant's other runs) until it is removed.
    async fn claim_held(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        by: &str,
    ) -> Result<bool, StoreError>;
    /// Gives up `by`'s claim on a held run (an approval that could not be queued); a claim by
    /// another, or none, is left as it is.
    async fn release_held(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        by: &str,
    ) -> Result<(), StoreError>;
    /// Keeps what a run changed, link by link before and after, for undoing it.
    async fn save_journal(
        &self,
        tenant: &TenantId,
        journal: &crate::journal::RunJournal,
    ) -> Result<(), StoreError>;
    /// The journal of run `run_id`; `None` when it changed nothing (or ran before journals were
    /// kept).
    async fn journal(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
    ) -> Result<Option<crate::journal::RunJournal>, StoreError>;
    /// Forgets a held run (approved or rejected).
    async fn remove_held(&self, tenant: &TenantId, run_id: &RunId) -> Result<(), StoreError>;
    /// The runs that are held now, oldest first (read from the held runs themselves, so no number
    /// of later runs hides one).
    async fn held_runs(&self, tenant: &TenantId) -> Result<Vec<RunId>, StoreError>;
}

// ---------------------------------------------------------------------------------------------
// Mailer

/// Sending an email failed.
#[derive(Debug, thiserror::Error)]
#[error("could not send the email: {detail}")]
pub struct MailError {
    /// The error, without recipients or content.
    pub detail: String,
    /// Whether sending later may succeed (the mail service throttled or did not answer); a
    /// summary that failed so is sent again by the tenant's next run.
    pub transient: bool,
}

/// Sends summary and welcome emails: SES in AWS, `.eml` files in an outbox folder locally.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one message.
    async fn send(&self, email: &Email) -> Result<(), MailError>;
}

// ---------------------------------------------------------------------------------------------
// Secrets

/// The client id and secret of one Personio account.
#[derive(Clone)]
pub struct PersonioCredentials {
    /// The API credential's client id.
    pub client_id: String,
    /// Its secret.
    pub client_secret: secrecy::SecretString,
    /// The origin (`https://host[:port]`, see [`crate::http::credential_origin`]) of the base URL
    /// the credential was entered for: a run refuses to send it anywhere else. `None` for one
    /// stored before origins were kept, or given to the command line, whose user writes the
    /// config as well.
    pub origin: Option<String>,
}

/// The destination's bearer token and, like [`PersonioCredentials::origin`], the origin of the
/// base URL it was entered for.
#[derive(Clone)]
pub struct DestinationToken {
    /// The token.
    pub token: secrecy::SecretString,
    /// The origin it may be sent to; `None`: not recorded.
    pub origin: Option<String>,
}

impl std::fmt::Debug for DestinationToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DestinationToken")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for PersonioCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonioCredentials(<redacted>)")
    }
}

/// A secret could not be read. Messages name the secret, never its value.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// No such secret.
    #[error("the secret {name} does not exist; store it with the admin API or in Secrets Manager")]
    Missing {
        /// The secret's name.
        name: String,
    },
    /// The secret exists but is not in the expected shape.
    #[error("the secret {name} is not usable: {detail}")]
    Malformed {
        /// The secret's name.
        name: String,
        /// What is wrong (never the value).
        detail: String,
    },
    /// A local run was not given a secret (the CLI reads them from the environment or files).
    #[error("{what} is missing: {fix}")]
    NotGiven {
        /// What is missing (never a value).
        what: String,
        /// Where to give it.
        fix: String,
    },
    /// The secret store could not be reached.
    #[error("could not read the secret {name}: {detail}")]
    Unavailable {
        /// The secret's name.
        name: String,
        /// The error.
        detail: String,
    },
}

/// Links to the admins' console, for the summary email: where the report of a run can be opened.
pub trait RunLinks: Send + Sync {
    /// A signed link to `run`'s report in the console of `tenant`, if the deployment has one.
    fn run_link(&self, tenant: &TenantId, run: &RunRecord) -> Option<String>;
}

/// Per-tenant secrets: Secrets Manager in AWS (`personio-sync/<tenant>/…`).
#[async_trait]
pub trait Secrets: Send + Sync {
    /// The Personio credentials of one account of a tenant.
    async fn personio(
        &self,
        tenant: &TenantId,
        account: &crate::ids::AccountId,
    ) -> Result<PersonioCredentials, SecretsError>;
    /// The destination's bearer token.
    async fn destination_token(&self, tenant: &TenantId) -> Result<DestinationToken, SecretsError>;
    /// The webhook secret: the token(s) Personio sends and the companies they are for, read from
    /// the whole stored value with [`WebhookSecret::from_stored`] (the one parser, so no adapter
    /// can drop the previous token or the company pinning).
    async fn webhook(&self, tenant: &TenantId) -> Result<WebhookSecret, SecretsError>;
    /// Drops any cached copy of the tenant's secrets, so that the next read goes to the store:
    /// called when Personio or the destination refused a credential that may have changed since
    /// it was read. Adapters without a cache need not do anything.
    async fn forget(&self, _tenant: &TenantId) {}
}

/// Opens a destination on this machine: a folder with one JSON file per user and group. The CLI
/// and tests have one; the Lambdas have no folder and do not link the adapter, so a deployed
/// tenant with `kind = "directory"` is refused with a clear message.
pub trait LocalDestinations: Send + Sync {
    /// The directory destination at `path`, or what is wrong with it.
    fn directory(&self, path: &str) -> Result<Box<dyn Destination>, String>;
}

// ---------------------------------------------------------------------------------------------
// Tenant configs

/// A tenant config with the version that guards concurrent edits.
#[derive(Clone, Debug)]
pub struct VersionedConfig {
    /// The config.
    pub config: crate::config::TenantConfig,
    /// Incremented on every write; writes name the version they replace.
    pub version: u64,
}

/// A tenant the schedule index says is due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueTenant {
    /// The tenant.
    pub tenant: TenantId,
    /// When its run is due (the index entry's time, to the second): the same for every tick that
    /// sees the entry until it moves, so those ticks can queue the run under one dedupe key.
    pub due_at: chrono::DateTime<chrono::Utc>,
}

/// Where tenant configs live (DynamoDB in AWS), with the schedule index.
#[async_trait]
pub trait ConfigStore: Send + Sync {
    /// One tenant's config.
    async fn config(&self, tenant: &TenantId) -> Result<Option<VersionedConfig>, StoreError>;
    /// Creates (`expected: None`) or replaces (`expected: Some(version)`) a config; returns the new
    /// version. [`StoreError::Conflict`] when the version moved meanwhile (or it already exists).
    async fn put_config(
        &self,
        config: &crate::config::TenantConfig,
        expected: Option<u64>,
    ) -> Result<u64, StoreError>;
    /// Tenants whose next scheduled run is due at or before `now`, without scanning the table,
    /// each once, with the time it is due.
    async fn due(&self, now: chrono::DateTime<chrono::Utc>) -> Result<Vec<DueTenant>, StoreError>;
    /// Records when a tenant's next scheduled run is due (replacing the previous entry).
    async fn set_next_due(
        &self,
        tenant: &TenantId,
        next: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError>;
}

// ---------------------------------------------------------------------------------------------
// Jobs

/// What a queued job asks for.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobTarget {
    /// A full run.
    Everyone,
    /// A one-person run.
    Person {
        /// The person.
        person: crate::ids::PersonKey,
    },
}

/// One queued run of one tenant.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Job {
    /// The tenant.
    pub tenant: TenantId,
    /// Everyone or one person.
    pub target: JobTarget,
    /// What started it.
    pub trigger: crate::history::Trigger,
    /// Plan only.
    #[serde(default)]
    pub dry_run: bool,
    /// The id the run will have, when the caller wants to point at it before it starts (the
    /// admin API answers "sync now" with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<crate::ids::RunId>,
}

/// Queueing a job failed.
#[derive(Debug, thiserror::Error)]
#[error("could not queue the job: {detail}")]
pub struct JobsError {
    /// The error.
    pub detail: String,
}

/// One job of a [`Jobs::enqueue_batch`], with its dedupe key.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchJob {
    /// The job.
    pub job: Job,
    /// As for [`Jobs::enqueue`].
    pub dedupe_key: String,
}

/// The job queue: SQS FIFO in AWS, one message group per tenant so a tenant's runs never overlap.
#[async_trait]
pub trait Jobs: Send + Sync {
    /// Queues `job`; jobs with the same `dedupe_key` within the queue's window collapse into one.
    async fn enqueue(&self, job: &Job, dedupe_key: &str) -> Result<(), JobsError>;

    /// Queues every job of `jobs` as [`Jobs::enqueue`] would, in as few calls as the queue
    /// allows: one outcome per job, in the order given, so a job the queue refused fails alone.
    /// The default queues them one by one.
    async fn enqueue_batch(&self, jobs: &[BatchJob]) -> Vec<Result<(), JobsError>> {
        let mut outcomes = Vec::with_capacity(jobs.len());
        for entry in jobs {
            outcomes.push(self.enqueue(&entry.job, &entry.dedupe_key).await);
        }
        outcomes
    }
}

// ---------------------------------------------------------------------------------------------
// Webhook deduplication

/// Remembers which webhook deliveries were seen, so Personio's retries (up to 14 deliveries of one
/// event over 3 days, with no event id) are dropped.
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Records `fingerprint` for `tenant` until `expires`; `true` when it was new, `false` when it
    /// was already recorded and has not expired. Atomic: of two concurrent calls, one gets `true`.
    async fn first_seen(
        &self,
        tenant: &TenantId,
        fingerprint: &str,
        expires: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError>;

    /// Whether `fingerprint` is recorded for `tenant` and has not expired. A read: the webhook
    /// records a delivery only once its job is queued, so a delivery cut short before that is
    /// taken again when Personio retries it.
    async fn seen(&self, tenant: &TenantId, fingerprint: &str) -> Result<bool, StoreError>;

    /// Forgets `fingerprint`, so a redelivery is accepted again.
    async fn forget(&self, tenant: &TenantId, fingerprint: &str) -> Result<(), StoreError>;

    /// The id of `tenant`'s pending full run: a full run queued and not started yet. When there
    /// is none (or it expired), the mark is created with `id` until `expires` and `id` is
    /// returned; else the existing mark's id. Every event until the worker clears the mark gets
    /// the same id and queues its run under it, and the queue keeps one message per id: a burst
    /// queues one run, and an event whose caller died between the mark and the queue leaves a
    /// mark the next event (or Personio's retry) queues under, so nothing waits on a run that was
    /// never queued. Of two concurrent first calls, both may queue (one run more, never less).
    ///
    /// Kept under a name no body fingerprint (hex) can take, so every event log stores it, and
    /// lets it expire, the way it stores deliveries.
    async fn pending_full_run(
        &self,
        tenant: &TenantId,
        id: &str,
        expires: chrono::DateTime<chrono::Utc>,
    ) -> Result<String, StoreError>;

    /// Clears the mark: the worker calls it as a queued full run starts, before it reads
    /// Personio, so that an event from then on queues one more run.
    async fn clear_full_run_pending(&self, tenant: &TenantId) -> Result<(), StoreError> {
        self.forget(tenant, FULL_RUN_PENDING).await
    }
}

/// The [`EventLog`] key of a tenant's "full run queued, not started" mark.
pub const FULL_RUN_PENDING: &str = "full-run-pending";
// The admin API's ports (tenant removal, history pages, secret writers) live in `ports/admin.rs`.
mod admin;
pub use admin::{SecretsAdmin, SecretsAdminError, StoredSecrets, TenantAdmin};
