//! Import history: the record of one run, and the per-record errors that go into `errors.csv`.

use crate::ids::{PersonKey, RunId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What started a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    /// The tenant's schedule.
    Schedule,
    /// An admin asked for a run now (CLI `run`, admin API "sync now").
    Manual,
    /// A Personio webhook about one person.
    Webhook {
        /// The Personio event name (`person.updated`).
        event: String,
    },
    /// The tenant's first full sync, queued once its config and credentials were complete.
    FirstSync,
    /// An admin revoked the service's Personio access: not a run but its notice, recorded and
    /// emailed like a run that could not start, so that every admin learns that runs stopped.
    Revocation,
    /// An admin undid a run: this run puts back what that one changed.
    Undo {
        /// The run undone.
        run: RunId,
        /// Whether people a later run changed since are left as they are.
        #[serde(default)]
        only_unchanged: bool,
    },
    /// An admin approved a held run.
    Approval {
        /// The run that was held.
        held_run: RunId,
    },
}

/// What a run is doing or did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Started, not finished.
    Running,
    /// Finished; every action applied or reported as an error.
    Completed,
    /// A dry run: the plan was made and nothing was written.
    DryRun,
    /// A guard stopped it before anything was written; waits for approve or reject.
    Held,
    /// A held run an admin approved; its plan was applied by the approving run.
    Approved,
    /// A held run an admin rejected; nothing was written.
    Rejected,
    /// Stopped by an error that affects the whole run (credentials, Personio down).
    Failed,
    /// Stopped at a deadline with writes left over; a continuation run does the rest.
    Partial,
}

impl RunStatus {
    /// The status as text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Completed => "completed",
            Self::DryRun => "dry_run",
            Self::Held => "held",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
            Self::Partial => "partial",
        }
    }
}

/// How many actions of each kind a run planned or applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Users created.
    pub created: usize,
    /// Existing destination users linked on first sync.
    pub adopted: usize,
    /// Users whose fields changed.
    pub updated: usize,
    /// Users deactivated.
    pub deactivated: usize,
    /// Leavers' users deleted when their retention was over.
    #[serde(default)]
    pub deleted: usize,
    /// Users reactivated (rehired, back in scope).
    pub reactivated: usize,
    /// Pre-hired users activated on their hire date.
    #[serde(default)]
    pub activated: usize,
    /// Manager links set or cleared.
    pub managers: usize,
    /// Groups created or whose members changed.
    pub groups: usize,
    /// Welcome emails sent.
    pub invited: usize,
    /// People whose app user id or name was written back to Personio (`[write_back]`).
    #[serde(default)]
    pub written_back: usize,
    /// People left alone on purpose (with a reason).
    pub skipped: usize,
    /// Per-record errors.
    pub errors: usize,
}

impl Counts {
    /// Whether the run changed anything in the destination.
    pub fn changed_anything(&self) -> bool {
        self.created
            + self.adopted
            + self.updated
            + self.deactivated
            + self.deleted
            + self.reactivated
            + self.activated
            + self.managers
            + self.groups
            > 0
    }
}

/// One record that could not be synced, with what to do about it. A row of `errors.csv`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordError {
    /// The person, when the error is about one.
    pub person: Option<PersonKey>,
    /// What was being done: `fetch`, `map`, `create`, `update`, `deactivate`, `manager`, `group`, …
    pub action: String,
    /// What went wrong, without personal data values.
    pub message: String,
    /// What an admin can do about it.
    pub hint: String,
    /// The person's name as Personio had it, filled in when the run is recorded (so that the
    /// stored `errors.csv` names everyone the emailed one did).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Someone a run left alone on purpose: a row of `warnings.csv`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkipItem {
    /// The person.
    pub person: PersonKey,
    /// Their name as Personio had it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Why they were left alone.
    pub reason: String,
}

/// One field of a [`ChangeItem`]: its name and, unless the field is sensitive, its values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedField {
    /// The neutral field name.
    pub field: String,
    /// The old value as text; `None` when unset or when the field is sensitive.
    pub old: Option<String>,
    /// The new value as text; `None` when unset or when the field is sensitive.
    pub new: Option<String>,
    /// A sensitive field: its values are never stored or shown, only that it changed.
    pub sensitive: bool,
}

/// One line of the itemised change list in the summary and the run history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeItem {
    /// The person.
    pub person: PersonKey,
    /// The person's display name, so admins know who it is (emails and history only, never logs).
    pub name: Option<String>,
    /// `create`, `adopt`, `update`, `activate`, `deactivate`, `manager`, `group`, `invite`.
    pub action: String,
    /// The human reason ("joined on 2026-11-02", "left on 2026-11-20").
    pub reason: String,
    /// Fields that changed.
    pub fields: Vec<ChangedField>,
}

/// How much of Personio a run read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reading {
    /// Everyone: a full run, which also finds who left Personio. Records written before runs
    /// could be incremental have no reading and count as this.
    #[default]
    Everyone,
    /// Only the people Personio says changed after `since` (an incremental scheduled run,
    /// decision 0019): it cannot see who was deleted from Personio.
    Changed {
        /// The moment asked for, the last clean run's start less a margin.
        since: DateTime<Utc>,
    },
    /// One person (a webhook, `run --person`).
    Person,
}

impl Reading {
    /// Whether the run read everyone.
    pub fn is_everyone(&self) -> bool {
        *self == Self::Everyone
    }
}

/// The record of one run: import history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The run.
    pub id: RunId,
    /// What started it.
    pub trigger: Trigger,
    /// Where it stands.
    pub status: RunStatus,
    /// Whether it was a dry run.
    pub dry_run: bool,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// Employees fetched from Personio.
    pub fetched: usize,
    /// Employees in scope.
    pub in_scope: usize,
    /// Planned (dry run, held) or applied counts.
    pub counts: Counts,
    /// Why the run was held, one line per tripped guard.
    pub held_because: Vec<String>,
    /// The error that stopped the run, when it failed.
    pub failure: Option<String>,
    /// Itemised changes.
    pub changes: Vec<ChangeItem>,
    /// Per-record errors.
    pub errors: Vec<RecordError>,
    /// The run's summary email is due and not yet sent. A finished record is saved with it set
    /// and saved again once the email went out, so that the summary of a run stopped in between
    /// is sent by the tenant's next run (`run::recovery`). Absent in records written before it
    /// existed: those count as sent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub summary_pending: bool,
    /// People the run left alone on purpose, and why (a hire date too far ahead, out of scope
    /// and left as they are, …): the warnings of the run report and `warnings.csv`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skips: Vec<SkipItem>,
    /// How much of Personio it read.
    #[serde(default, skip_serializing_if = "Reading::is_everyone")]
    pub reading: Reading,
    /// The fingerprint of the tenant's config the run used ([`crate::config::TenantConfig::fingerprint`]):
    /// a scheduled run after a config change reads everyone. Absent in older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_fingerprint: Option<String>,
}
