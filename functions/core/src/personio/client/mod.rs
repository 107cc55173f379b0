//! [`PersonioClient`]: the Personio v1 API behind [`Source`].
//!
//! A full fetch asks for page 0, learns `total_pages` from it, then sends the remaining pages
//! concurrently; every request waits its turn on the session's adaptive pacer (`pacing`), which
//! starts from Personio's documented burst and learns from the 429s it meets how the documented
//! limit is really enforced (personio-api.md §1.12).
//! When the people read do not add up to `total_elements` (someone was hired or left while the
//! list was paged), the whole list is read again. Auth, retries and the limiter live in `session`;
//! reading attribute shapes lives in `normalise`.

use super::labels;
use super::normalise::normalise_selected;
use super::paging::{Collector, Page, Rest};
use super::session::{Answer, Auth, NotFound, Session, SessionConfig};
use super::wire::{AttributesResponse, ListResponse, SingleResponse, WireAttribute};
use crate::employee::{AttributeInfo, Employee};
use crate::ids::{AccountId, PersonKey, PersonioId};
use crate::ports::{Prepare, PreparedBatch, Source, SourceBatch, SourceError};
use crate::retry::{Backoff, RetryAfter};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use secrecy::SecretString;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

const EMPLOYEES: &str = "/v1/company/employees";

/// The largest profile picture read: Personio's are small PNGs, and a run may read many.
pub const MAX_PICTURE_BYTES: usize = 5 * 1024 * 1024;

/// Personio's documented rate limit for `GET /company/employees` (personio-api.md §1.12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests per minute, sustained.
    pub per_minute: u32,
    /// Requests that may go out at once.
    pub burst: u32,
}

impl Default for RateLimit {
    /// 300 requests per minute with a burst of 15.
    fn default() -> Self {
        Self {
            per_minute: 300,
            burst: 15,
        }
    }
}

/// How to reach one Personio account. Build with [`PersonioSettings::new`], then change fields.
#[derive(Clone)]
pub struct PersonioSettings {
    /// Our name for the account; part of every person's key.
    pub account: AccountId,
    /// Scheme and host, e.g. `https://api.personio.de` (configurable: Personio is moving
    /// domains). The client appends `/v1/…`.
    pub base_url: String,
    /// The API credential's client id.
    pub client_id: String,
    /// The API credential's secret.
    pub client_secret: SecretString,
    /// Personio's limit for employee reads; the client stays a hair under it.
    pub rate_limit: RateLimit,
    /// Employees per page: 100, Personio's maximum since 2025-01-31.
    pub page_size: u32,
    /// Pages in flight at once (they still wait their turn on the rate limiter): 15, Personio's
    /// burst, so the first burst goes out at once; at 15 requests a second that covers answers of
    /// up to a second. Each page in flight holds its raw JSON (about 2 MB parsed), so more only
    /// costs memory.
    pub concurrency: usize,
    /// Attempts per request before giving up on 429, 5xx, timeouts and unreadable bodies: 6.
    pub max_attempts: u32,
    /// Time limit of one request: 30 s.
    pub request_timeout: Duration,
    /// The most bytes of one answer read into memory: [`crate::http::DEFAULT_BODY_LIMIT`]
    /// (32 MiB, some 15 times a full page). A larger answer is an error, not a retry.
    pub max_body_bytes: usize,
    /// First retry delay scale (doubles per attempt, with jitter): 500 ms.
    pub retry_base: Duration,
    /// Longest wait between attempts, `Retry-After` included: 30 s.
    pub retry_cap: Duration,
    /// Reads of the whole list before a list that keeps changing is reported: 3.
    pub max_fetch_attempts: u32,
    /// Attribute keys or universal ids to keep (the tenant's mapped and scoped attributes);
    /// `None` keeps all. `id` is always kept; a tenant passes `UsedAttributes::fetch_filter`. Attributes
    /// left out are neither stored nor checked. Memory: about 5 KB per person with all ~40
    /// attributes (250 MB at 50,000 people), about 3 KB with 20.
    pub keep_attributes: Option<BTreeSet<String>>,
    /// Sent as `X-Personio-Partner-ID` when set.
    pub partner_id: Option<String>,
    /// Sent as `X-Personio-App-ID` when set.
    pub app_id: Option<String>,
    /// Which API people are read through: v1 (default) or v2.
    pub api: Api,
}

/// Which of Personio's APIs an account's people are read through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// `GET /v1/company/employees`: 100 people a request.
    #[default]
    V1,
    /// `GET /v2/persons` and each person's employments: where Personio is heading.
    V2,
}

impl PersonioSettings {
    /// Settings with every default.
    pub fn new(
        account: AccountId,
        base_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: SecretString,
    ) -> Self {
        Self {
            account,
            base_url: base_url.into(),
            client_id: client_id.into(),
            client_secret,
            rate_limit: RateLimit::default(),
            page_size: 100,
            concurrency: 15,
            max_attempts: 6,
            request_timeout: Duration::from_secs(30),
            max_body_bytes: crate::http::DEFAULT_BODY_LIMIT,
            retry_base: Duration::from_millis(500),
            retry_cap: Duration::from_secs(30),
            max_fetch_attempts: 3,
            keep_attributes: None,
            partner_id: None,
            app_id: None,
            api: Api::V1,
        }
    }
}

/// How far a full fetch has come, for a progress bar. Reported after each page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FetchProgress {
    /// Pages read in this pass over the list.
    pub pages_done: u64,
    /// Pages the list has, as far as known (a re-read starts over).
    pub pages_total: u64,
}

/// Called with each [`FetchProgress`].
pub type ProgressFn = Arc<dyn Fn(FetchProgress) + Send + Sync>;

/// The Personio v1 client for one account.
pub struct PersonioClient {
    account: AccountId,
    page_size: u64,
    concurrency: usize,
    max_fetch_attempts: u32,
    keep_attributes: Option<BTreeSet<String>>,
    /// The `label:` references of `keep_attributes`, resolved at the first fetch.
    labels: OnceCell<Labels>,
    session: Session,
    /// The v2 session, for an account that reads people through v2.
    v2: Option<Session>,
    /// Scheme and host, for v2's `next` links.
    base_url: String,
    progress: Option<ProgressFn>,
}

/// The resolved labels of a client.
struct Labels {
    /// `label:…` → attribute key, reported in every batch beside the universal ids.
    keys: BTreeMap<String, String>,
    /// `keep_attributes` with the resolved keys: what normalisation keeps.
    keep: Option<BTreeSet<String>>,
}

impl PersonioClient {
    /// Builds the client. Sends nothing yet; see [`PersonioClient::verify_credentials`].
    pub fn new(settings: PersonioSettings) -> Result<Self, SourceError> {
        let base_url = settings.base_url.trim().trim_end_matches('/').to_owned();
        // The client secret and the token travel to this URL: never in clear text.
        if let Err(problem) = crate::http::credential_url(&base_url) {
            return Err(SourceError::Transport {
                url: base_url,
                detail: format!(
                    "the Personio base URL is not usable: {problem} (e.g. https://api.personio.de)"
                ),
            });
        }
        let http = crate::http::client(settings.request_timeout).map_err(|error| {
            SourceError::Transport {
                url: base_url.clone(),
                detail: format!("could not set up the HTTP client: {error}"),
            }
        })?;
        let config = |auth| SessionConfig {
            account: settings.account.to_string(),
            base_url: base_url.clone(),
            client_id: settings.client_id.clone(),
            client_secret: settings.client_secret.clone(),
            rate_limit: settings.rate_limit,
            backoff: Backoff {
                max_attempts: settings.max_attempts.max(1),
                base: settings.retry_base,
                cap: settings.retry_cap,
                retry_after: RetryAfter::WithinCap,
            },
            partner_id: settings.partner_id.clone(),
            app_id: settings.app_id.clone(),
            body_limit: settings.max_body_bytes,
            auth,
        };
        // v2 reads people with its own token and limits; pictures, attributes and writes stay v1.
        let v2 = (settings.api == Api::V2).then(|| Session::new(http.clone(), config(Auth::V2)));
        let session = Session::new(http, config(Auth::V1));
        Ok(Self {
            v2,
            base_url,
            account: settings.account,
            page_size: u64::from(settings.page_size.max(1)),
            concurrency: settings.concurrency.max(1),
            max_fetch_attempts: settings.max_fetch_attempts.max(1),
            keep_attributes: settings.keep_attributes,
            labels: OnceCell::new(),
            session,
            progress: None,
        })
    }

    /// Reports fetch progress to `progress` (the CLI's progress bar).
    pub fn with_progress(mut self, progress: ProgressFn) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Checks the credentials with `POST /v1/auth` alone, and keeps the token for later calls.
    pub async fn verify_credentials(&self) -> Result<(), SourceError> {
        self.session.authenticate().await
    }

    fn report(&self, pages_done: u64, pages_total: u64) {
        if let Some(progress) = &self.progress {
            progress(FetchProgress {
                pages_done,
                pages_total,
            });
        }
    }

    /// Whether the credential may write employees (write-back, adding a person), asked without
    /// changing anything: an empty `PATCH` of employee 0, which no company has. Personio checks
    /// the credential's rights before it looks the employee up, so 403 means no write access and
    /// a 404 (or 422) means the write would be allowed.
    pub async fn may_write(&self) -> Result<bool, SourceError> {
        let path = format!("{EMPLOYEES}/0");
        let probe = serde_json::json!({"employee": {}});
        match self
            .session
            .send_json::<serde_json::Value>(reqwest::Method::PATCH, &path, &probe, 1)
            .await
        {
            Ok(_) | Err(SourceError::Refused { .. }) => Ok(true),
            Err(SourceError::WriteForbidden { .. }) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// The attribute labels the tenant names, resolved through `/company/employees/attributes`
    /// once (no request when it names none).
    async fn labels(&self) -> Result<&Labels, SourceError> {
        self.labels
            .get_or_try_init(|| async {
                let wanted = labels::wanted(self.keep_attributes.as_ref());
                if wanted.is_empty() {
                    return Ok(Labels {
                        keys: BTreeMap::new(),
                        keep: self.keep_attributes.clone(),
                    });
                }
                let attributes = self.attributes().await?;
                let keys = labels::resolve(self.account.as_str(), &wanted, &attributes)?;
                let mut keep = self.keep_attributes.clone();
                if let Some(keep) = &mut keep {
                    keep.extend(keys.values().cloned());
                }
                Ok(Labels { keys, keep })
            })
            .await
    }

    /// One page of the list (of the people changed after `since`, when given), normalised,
    /// keeping what `keep` selects.
    async fn page(
        &self,
        index: u64,
        offset: u64,
        keep: Option<&BTreeSet<String>>,
        since: Option<DateTime<Utc>>,
    ) -> Result<Page, SourceError> {
        let response = self.raw_page(index, offset, since).await?;
        Ok(Page::read(index, response, &self.account, keep))
    }

    /// One page of the list as Personio sent it.
    async fn raw_page(
        &self,
        index: u64,
        offset: u64,
        since: Option<DateTime<Utc>>,
    ) -> Result<ListResponse, SourceError> {
        let mut query = vec![
            ("limit", self.page_size.to_string()),
            ("offset", offset.to_string()),
        ];
        if let Some(since) = since {
            // The spec's format has no offset. Sent in UTC: read as UTC it asks for exactly
            // that; read as a European company's local time (at or ahead of UTC) it asks for
            // more, never less.
            query.push((
                "updated_since",
                since.format("%Y-%m-%dT%H:%M:%S").to_string(),
            ));
        }
        match self
            .session
            .get::<ListResponse>(EMPLOYEES, &query, NotFound::IsAnError)
            .await?
        {
            Answer::Found(response) => {
                tracing::debug!(
                    page = index,
                    people = response.data.len(),
                    "read a page of employees"
                );
                Ok(response)
            }
            Answer::NotFound => Err(SourceError::Malformed {
                detail: format!("{EMPLOYEES} answered 404"),
            }),
        }
    }

    /// Everyone, or the people changed after `since`: the list read again while it does not
    /// add up, as [`Source::employees`] says.
    ///
    /// Each person goes through `prepare` as their page arrives (and again on a pass read
    /// again); the batch comes with the attribute presence counted while reading.
    async fn read_all<T: Send>(
        &self,
        since: Option<DateTime<Utc>>,
        prepare: &mut (dyn FnMut(Employee, &BTreeMap<String, String>) -> T + Send + '_),
    ) -> Result<(SourceBatch<T>, BTreeMap<String, usize>), SourceError> {
        if let Some(v2) = &self.v2 {
            return self.read_v2(v2, since, prepare).await;
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let pass = self.read_list(since, prepare).await?;
            let tally = pass.tally();
            if tally.consistent {
                let (batch, presence) = pass.into_parts();
                tracing::info!(
                    employees = batch.employees.len(),
                    unreadable = batch.errors.len(),
                    passes = attempt,
                    changed_since = since.is_some(),
                    throttled = self.session.throttled(),
                    rate = self.session.rate(),
                    "read the employee list"
                );
                return Ok((batch, presence));
            }
            let expected = tally.expected.unwrap_or_default();
            tracing::warn!(
                attempt,
                expected,
                read = tally.read,
                "employee list changed while paged"
            );
            if attempt >= self.max_fetch_attempts {
                return Err(SourceError::Inconsistent {
                    attempts: attempt,
                    expected: usize::try_from(expected).unwrap_or(usize::MAX),
                    read: tally.read,
                });
            }
        }
    }

    /// One pass over the whole list, or over the people changed after `since`, with the labels
    /// it resolved. They are resolved once the first page shows someone to read: a quiet
    /// incremental read costs one request, not two.
    async fn read_list<T>(
        &self,
        since: Option<DateTime<Utc>>,
        prepare: &mut (dyn FnMut(Employee, &BTreeMap<String, String>) -> T + Send + '_),
    ) -> Result<Collector<T>, SourceError> {
        let raw = self.raw_page(0, 0, since).await?;
        let nobody = raw.data.is_empty()
            && raw
                .metadata
                .is_none_or(|metadata| metadata.total_elements == 0);
        let labels = if nobody {
            None
        } else {
            Some(self.labels().await?)
        };
        let keep = labels.map_or(self.keep_attributes.as_ref(), |labels| labels.keep.as_ref());
        // Resolved labels first: preparing a person maps `label:…` sources through them.
        let mut pass =
            Collector::knowing(labels.map(|labels| labels.keys.clone()).unwrap_or_default());
        let first = Page::read(0, raw, &self.account, keep);
        let rest = Rest::after(&first, self.page_size)?;
        pass.add_with(first, prepare);
        match rest {
            Rest::Pages(pages) => {
                let total = pages.len() as u64 + 1;
                self.report(1, total);
                let mut pending = stream::iter(pages)
                    .map(|(index, offset)| self.page(index, offset, keep, since))
                    .buffer_unordered(self.concurrency);
                let mut done = 1;
                while let Some(page) = pending.next().await {
                    pass.add_with(page?, prepare);
                    done += 1;
                    self.report(done, total);
                }
            }
            Rest::UntilShort { limit } => {
                tracing::warn!("Personio sent no paging metadata; reading pages one by one");
                let mut index = 1;
                loop {
                    self.report(index, index + 1);
                    let page = self.page(index, index * limit, keep, since).await?;
                    let short = (page.entries.len() as u64) < limit;
                    let read_before = pass.tally().read;
                    pass.add_with(page, prepare);
                    // A gateway that ignores `offset` sends the same people forever: stop when a
                    // page brings nobody new.
                    if short || pass.tally().read == read_before {
                        break;
                    }
                    index += 1;
                }
            }
        }
        Ok(pass)
    }
}

#[async_trait]
impl Source for PersonioClient {
    #[tracing::instrument(skip_all, fields(account = %self.account))]
    async fn employees(&self) -> Result<SourceBatch, SourceError> {
        Ok(self.read_all(None, &mut |employee, _| employee).await?.0)
    }

    #[tracing::instrument(skip_all, fields(account = %self.account))]
    async fn read_prepared(
        &self,
        since: Option<DateTime<Utc>>,
        prepare: &mut Prepare<'_>,
    ) -> Result<PreparedBatch, SourceError> {
        let (batch, attribute_presence) = self.read_all(since, prepare).await?;
        Ok(PreparedBatch {
            batch,
            attribute_presence,
        })
    }

    #[tracing::instrument(skip_all, fields(account = %self.account))]
    async fn employees_changed_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<SourceBatch, SourceError> {
        Ok(self
            .read_all(Some(since), &mut |employee, _| employee)
            .await?
            .0)
    }

    #[tracing::instrument(skip_all, fields(account = %self.account, person = id.get()))]
    async fn employee(&self, id: PersonioId) -> Result<Option<SourceBatch>, SourceError> {
        if let Some(v2) = &self.v2 {
            return self.employee_v2(v2, id).await;
        }
        let labels = self.labels().await?;
        let path = format!("{EMPLOYEES}/{id}");
        let response = match self
            .session
            .get::<SingleResponse>(&path, &[], NotFound::IsAnAnswer)
            .await?
        {
            Answer::Found(response) => response,
            Answer::NotFound => return Ok(None),
        };
        let mut batch = SourceBatch {
            universal_ids: labels.keys.clone(),
            ..SourceBatch::default()
        };
        match normalise_selected(
            &self.account,
            &response.data.attributes,
            labels.keep.as_ref(),
        ) {
            Ok(read) => {
                batch.universal_ids.extend(read.universal_ids);
                batch.employees.push(read.employee);
            }
            Err(mut error) => {
                // We asked for this id, so name it even when the record's own id is unreadable.
                let key = error
                    .person
                    .get_or_insert_with(|| PersonKey::new(self.account.clone(), id));
                batch.unreadable.push(key.id);
                batch.errors.push(error);
            }
        }
        Ok(Some(batch))
    }

    #[tracing::instrument(skip_all, fields(account = %self.account, person = id.get()))]
    async fn picture(&self, id: PersonioId, width: u32) -> Result<Option<Vec<u8>>, SourceError> {
        let path = format!("{EMPLOYEES}/{id}/profile-picture/{width}");
        let accept = "image/png, image/jpeg";
        match self
            .session
            .get_bytes(&path, accept, MAX_PICTURE_BYTES)
            .await?
        {
            Answer::Found(bytes) if !bytes.is_empty() => Ok(Some(bytes)),
            Answer::Found(_) | Answer::NotFound => Ok(None),
        }
    }

    #[tracing::instrument(skip_all, fields(account = %self.account))]
    async fn attributes(&self) -> Result<Vec<AttributeInfo>, SourceError> {
        let path = format!("{EMPLOYEES}/attributes");
        match self
            .session
            .get::<AttributesResponse>(&path, &[], NotFound::IsAnError)
            .await?
        {
            Answer::Found(response) => Ok(response
                .data
                .into_iter()
                .map(WireAttribute::into_info)
                .collect()),
            Answer::NotFound => Err(SourceError::Malformed {
                detail: format!("{path} answered 404"),
            }),
        }
    }

    #[tracing::instrument(skip_all, fields(account = %self.account, person = id.get()))]
    async fn write_attribute(
        &self,
        id: PersonioId,
        key: &str,
        value: &str,
    ) -> Result<(), SourceError> {
        let path = format!("{EMPLOYEES}/{id}");
        let body = serde_json::json!({"employee": {"custom_attributes": {key: value}}});
        // A PATCH of one value: repeating it changes nothing, so it is retried like a read.
        let attempts = self.session.max_attempts();
        self.session
            .send_json::<serde_json::Value>(reqwest::Method::PATCH, &path, &body, attempts)
            .await
            .map(drop)
    }

    #[tracing::instrument(skip_all, fields(account = %self.account))]
    async fn add_employee(
        &self,
        employee: &crate::personio::add::NewEmployee,
    ) -> Result<PersonioId, SourceError> {
        // One attempt: a create whose answer was lost may have been made, and a repeat would be
        // refused for the taken email at best.
        let answer: serde_json::Value = self
            .session
            .send_json(reqwest::Method::POST, EMPLOYEES, &employee.body(), 1)
            .await?;
        let id = answer
            .pointer("/data/id")
            .and_then(|id| id.as_u64().or_else(|| id.as_f64().map(|id| id as u64)))
            .ok_or_else(|| SourceError::Malformed {
                detail: format!("{EMPLOYEES} answered a create without data.id"),
            })?;
        tracing::info!(person = id, "added an employee to Personio");
        Ok(PersonioId::new(id))
    }
}

mod v2;
