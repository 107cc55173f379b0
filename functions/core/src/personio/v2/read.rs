//! Reading people through v2 (personio-api.md §2.2–§2.7): the persons list page by page (its
//! cursor allows nothing else), each person's current employment (one request each, as many at
//! once as the client's concurrency and the pacer allow), and the names of the departments,
//! teams, offices, legal entities and cost centers they refer to, each resolved once per read.

use super::convert::{Kind, Names};
use super::wire::{id_text, Employment, ListPage, Named, Person};
use crate::personio::session::{Answer, NotFound, Session};
use crate::ports::SourceError;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use std::collections::{BTreeSet, HashSet};

/// Persons and employments per page: v2's maximum for both (§2.2, §2.4).
const PAGE: &str = "50";

/// A v2 read over `session`.
pub(in crate::personio) struct Reader<'a> {
    /// The v2 session.
    pub session: &'a Session,
    /// Scheme and host, without a trailing `/`: `next` links must stay on it.
    pub base_url: &'a str,
    /// Requests in flight at once.
    pub concurrency: usize,
}

/// A person and their current employment, when Personio has one.
pub(in crate::personio) type Entry = (Person, Option<Employment>);

impl Reader<'_> {
    /// Everyone, or the people changed after `since` (`updated_at.gt`), with their employments.
    pub async fn people(&self, since: Option<DateTime<Utc>>) -> Result<Vec<Entry>, SourceError> {
        let persons = self.persons(since).await?;
        stream::iter(persons)
            .map(|person| async move {
                let employment = self.employment(&person).await?;
                Ok::<_, SourceError>((person, employment))
            })
            .buffered(self.concurrency.max(1))
            .try_collect()
            .await
    }

    /// One person with their employment; `None` when Personio has no such person.
    pub async fn person(&self, id: &str) -> Result<Option<Entry>, SourceError> {
        let path = format!("/v2/persons/{id}");
        let person: Person = match self.session.get(&path, &[], NotFound::IsAnAnswer).await? {
            Answer::Found(person) => person,
            Answer::NotFound => return Ok(None),
        };
        let employment = self.employment(&person).await?;
        Ok(Some((person, employment)))
    }

    /// The names of what `people`'s employments refer to.
    pub async fn names(&self, people: &[Entry]) -> Result<Names, SourceError> {
        let wanted: BTreeSet<(Kind, String)> = people
            .iter()
            .filter_map(|(_, employment)| employment.as_ref())
            .flat_map(super::convert::references)
            .collect();
        let mut names = Names::default();
        let units: Vec<(Kind, String)> = wanted
            .iter()
            .filter(|(kind, _)| matches!(kind, Kind::Department | Kind::Team))
            .cloned()
            .collect();
        let resolved: Vec<Option<(Kind, String, String)>> = stream::iter(units)
            .map(|(kind, id)| async move {
                let unit = if kind == Kind::Department {
                    "department"
                } else {
                    "team"
                };
                let path = format!("/v2/org-units/{id}");
                let query = [("type", unit.to_owned())];
                Ok::<_, SourceError>(
                    match self
                        .session
                        .get::<Named>(&path, &query, NotFound::IsAnAnswer)
                        .await?
                    {
                        Answer::Found(named) => named.name.map(|name| (kind, id, name)),
                        Answer::NotFound => None,
                    },
                )
            })
            .buffer_unordered(self.concurrency.max(1))
            .try_collect()
            .await?;
        for (kind, id, name) in resolved.into_iter().flatten() {
            names.insert(kind, id, name);
        }
        for (kind, path) in [
            (Kind::Office, "/v2/workplaces"),
            (Kind::LegalEntity, "/v2/legal-entities"),
            (Kind::CostCenter, "/v2/cost-centers"),
        ] {
            if wanted.iter().any(|(wanted, _)| *wanted == kind) {
                for named in self
                    .list::<Named>(path, Vec::new(), NotFound::IsAnAnswer)
                    .await?
                {
                    if let (Some(id), Some(name)) = (id_text(&named.id), named.name) {
                        names.insert(kind, id, name);
                    }
                }
            }
        }
        Ok(names)
    }

    async fn persons(&self, since: Option<DateTime<Utc>>) -> Result<Vec<Person>, SourceError> {
        let mut query = vec![("limit".to_owned(), PAGE.to_owned())];
        if let Some(since) = since {
            let since = since.to_rfc3339_opts(SecondsFormat::Secs, true);
            query.push(("updated_at.gt".to_owned(), since));
        }
        // Not found is no answer here: read as an empty company, a full run would deactivate all.
        self.list("/v2/persons", query, NotFound::IsAnError).await
    }

    /// The most recent of `person`'s employments (v2 lists them newest first).
    async fn employment(&self, person: &Person) -> Result<Option<Employment>, SourceError> {
        let Some(id) = id_text(&person.id) else {
            return Ok(None);
        };
        let path = format!("/v2/persons/{id}/employments");
        let query = [("limit", PAGE.to_owned())];
        match self
            .session
            .get::<ListPage<Employment>>(&path, &query, NotFound::IsAnAnswer)
            .await?
        {
            Answer::Found(page) => Ok(page.data.into_iter().next()),
            // Removed while the list was read: the person comes without an employment.
            Answer::NotFound => Ok(None),
        }
    }

    /// Every item of a cursor-paged list, following `next` links that stay on Personio's host;
    /// with [`NotFound::IsAnAnswer`], a list not found has no items.
    async fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        query: Vec<(String, String)>,
        not_found: NotFound,
    ) -> Result<Vec<T>, SourceError> {
        let mut items = Vec::new();
        let (mut path, mut query) = (path.to_owned(), query);
        let mut seen = HashSet::new();
        loop {
            let pairs: Vec<(&str, String)> = query
                .iter()
                .map(|(key, value)| (key.as_str(), value.clone()))
                .collect();
            let page: ListPage<T> = match self.session.get(&path, &pairs, not_found).await? {
                Answer::Found(page) => page,
                // A reference list the account does not have (a beta endpoint, a missing
                // feature): no names.
                Answer::NotFound => return Ok(items),
            };
            let next = page.next().map(str::to_owned);
            items.extend(page.data);
            let Some(next) = next else {
                return Ok(items);
            };
            // Personio once sent a `next` that pointed at its own page (§2.5): stop, loudly.
            if !seen.insert(next.clone()) {
                return Err(SourceError::Malformed {
                    detail: format!("{path} repeats its next link"),
                });
            }
            (path, query) = self.split(&next)?;
        }
    }

    /// A `next` link (absolute or relative) as a path and query on the base URL.
    fn split(&self, href: &str) -> Result<(String, Vec<(String, String)>), SourceError> {
        let base = reqwest::Url::parse(self.base_url).map_err(|error| SourceError::Malformed {
            detail: format!("the Personio base URL is not a URL: {error}"),
        })?;
        let url = base.join(href).map_err(|error| SourceError::Malformed {
            detail: format!("a next link is not a URL: {error}"),
        })?;
        // The token goes wherever the link points: only to Personio's own host.
        if url.origin() != base.origin() {
            return Err(SourceError::Malformed {
                detail: format!("a next link leaves {} for another host", self.base_url),
            });
        }
        let query = url
            .query_pairs()
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect();
        Ok((url.path().to_owned(), query))
    }
}
