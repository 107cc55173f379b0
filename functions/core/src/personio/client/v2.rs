//! The v2 side of [`PersonioClient`]: people read through persons and employments, normalised by
//! v1's reader so that both APIs give the same people.

use super::PersonioClient;
use crate::employee::Employee;
use crate::ids::PersonioId;
use crate::personio::normalise::normalise_known;
use crate::personio::paging::{Collector, Page};
use crate::personio::session::Session;
use crate::personio::v2::{self, read::Reader};
use crate::ports::{SourceBatch, SourceError};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

impl PersonioClient {
    /// A v2 reader over `session`.
    fn v2_reader<'a>(&'a self, session: &'a Session) -> Reader<'a> {
        Reader {
            session,
            base_url: &self.base_url,
            concurrency: self.concurrency,
        }
    }

    /// Everyone, or the people changed after `since`, through v2: persons, their employments and
    /// the names these refer to, read as v1 attributes so that both APIs give the same people.
    /// Each person goes through `prepare`, as [`PersonioClient::read_all`] says.
    pub(super) async fn read_v2<T>(
        &self,
        session: &Session,
        since: Option<DateTime<Utc>>,
        prepare: &mut (dyn FnMut(Employee, &BTreeMap<String, String>) -> T + Send + '_),
    ) -> Result<(SourceBatch<T>, BTreeMap<String, usize>), SourceError> {
        let reader = self.v2_reader(session);
        let people = reader.people(since).await?;
        let (batch, presence) = self.v2_batch(&reader, people, prepare).await?;
        tracing::info!(
            employees = batch.employees.len(),
            unreadable = batch.errors.len(),
            changed_since = since.is_some(),
            throttled = session.throttled(),
            "read the v2 persons"
        );
        Ok((batch, presence))
    }

    /// `people` read through v2, normalised as v1's people are.
    async fn v2_batch<T>(
        &self,
        reader: &Reader<'_>,
        people: Vec<v2::read::Entry>,
        prepare: &mut (dyn FnMut(Employee, &BTreeMap<String, String>) -> T + Send + '_),
    ) -> Result<(SourceBatch<T>, BTreeMap<String, usize>), SourceError> {
        let names = reader.names(&people).await?;
        let labels = if people.is_empty() {
            None
        } else {
            Some(self.labels().await?)
        };
        let keep = labels.map_or(self.keep_attributes.as_ref(), |labels| labels.keep.as_ref());
        let mut known = BTreeMap::new();
        let entries = people
            .iter()
            .map(|(person, employment)| {
                let attributes = v2::convert::v1_attributes(person, employment.as_ref(), &names);
                let read = normalise_known(&self.account, &attributes, keep, &known);
                if let Ok(read) = &read {
                    known.extend(read.universal_ids.iter().cloned());
                }
                read
            })
            .collect();
        let mut pass =
            Collector::knowing(labels.map(|labels| labels.keys.clone()).unwrap_or_default());
        pass.add_with(
            Page {
                index: 0,
                total_elements: None,
                total_pages: None,
                limit: None,
                entries,
            },
            prepare,
        );
        Ok(pass.into_parts())
    }

    /// One person through v2; `None` when Personio has no such person.
    pub(super) async fn employee_v2(
        &self,
        session: &Session,
        id: PersonioId,
    ) -> Result<Option<SourceBatch>, SourceError> {
        let reader = self.v2_reader(session);
        let Some(entry) = reader.person(&id.to_string()).await? else {
            return Ok(None);
        };
        let (batch, _) = self
            .v2_batch(&reader, vec![entry], &mut |employee, _| employee)
            .await?;
        Ok(Some(batch))
    }
}
