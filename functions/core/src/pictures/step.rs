//! The run's picture step: read the due pictures, store what changed, and give every mapped
//! record the URL the app can fetch.

use super::{due, Hosted, Picture, PictureError, PictureIndex, PictureStore, PHOTO_FIELD};
use crate::config::PicturesConfig;
use crate::ids::{AccountId, PersonKey, TenantId};
use crate::people::Person;
use crate::plan::Skip;
use crate::ports::Source;
use crate::record::FieldValue;
use crate::scope::ScopeDecision;
use crate::state::Link;
use chrono::NaiveDate;
use futures::StreamExt;
use std::collections::BTreeMap;

/// Downloads in flight at once: the source's limiter paces them; a few hide its latency.
const CONCURRENT_DOWNLOADS: usize = 4;

/// What the step works with.
pub struct Hosting<'a> {
    /// Where pictures go.
    pub store: &'a dyn PictureStore,
    /// Whose.
    pub tenant: &'a TenantId,
    /// The tenant's `[pictures]`.
    pub settings: &'a PicturesConfig,
    /// The run's day in the tenant's zone.
    pub today: NaiveDate,
    /// Read and store pictures; `false` (a dry run) uses only what is hosted already.
    pub write: bool,
    /// Start no download after this instant (the run's deadline).
    pub deadline: Option<std::time::Instant>,
}

/// What the step did.
#[derive(Debug, Default)]
pub struct PictureOutcome {
    /// Pictures read from Personio.
    pub downloaded: usize,
    /// Pictures stored (new or changed).
    pub stored: usize,
    /// People whose picture could not be hosted, and why.
    pub warnings: Vec<Skip>,
}

/// Hosts the pictures of `people` and rewrites their `photo_url`: the hosted URL; until there is
/// one, what the app was sent before (`links`); nothing when Personio has no picture.
pub async fn host(
    hosting: &Hosting<'_>,
    sources: &[(AccountId, &dyn Source)],
    people: &mut [Person],
    links: &BTreeMap<PersonKey, Link>,
) -> Result<PictureOutcome, PictureError> {
    let mut index = hosting.store.index(hosting.tenant).await?;
    let before = index.clone();
    let mut outcome = PictureOutcome::default();
    let with_picture: Vec<&PersonKey> = people
        .iter()
        .filter(|person| matches!(person.scope, ScopeDecision::In) && has_photo(person))
        .map(Person::key)
        .collect();
    let due = if hosting.write {
        due(with_picture, &index, hosting.today, hosting.settings)
    } else {
        Vec::new()
    };
    let width = hosting.settings.width;
    let mut reads = futures::stream::iter(due)
        .map(|key| async move {
            let source = sources
                .iter()
                .find(|(account, _)| *account == key.account)
                .map(|(_, source)| *source);
            let past_deadline = hosting
                .deadline
                .is_some_and(|deadline| std::time::Instant::now() >= deadline);
            let read = match source {
                _ if past_deadline => None,
                Some(source) => Some(source.picture(key.id, width).await),
                None => None,
            };
            (key, read)
        })
        .buffer_unordered(CONCURRENT_DOWNLOADS);
    while let Some((key, read)) = reads.next().await {
        let Some(read) = read else { continue };
        outcome.downloaded += 1;
        let warn = |reason: String| Skip {
            key: key.clone(),
            reason,
        };
        match read {
            Err(error) => outcome.warnings.push(warn(format!(
                "profile picture not read from Personio ({error}); the app keeps the picture it has, and the next run tries again"
            ))),
            Ok(None) => {
                index.people.remove(&key);
                outcome.warnings.push(warn(
                    "Personio lists a profile picture but serves none (404); the app keeps the picture it has, if any, and the next run reads it again".to_owned(),
                ));
            }
            Ok(Some(bytes)) => match Picture::new(hosting.tenant, bytes) {
                None => outcome.warnings.push(warn(
                    "Personio's profile picture is not a PNG or JPEG image; the app keeps the picture it has".to_owned(),
                )),
                Some(picture) => {
                    let unchanged = index
                        .people
                        .get(&key)
                        .filter(|hosted| hosted.key == picture.key)
                        .map(|hosted| hosted.url.clone());
                    let url = match unchanged {
                        Some(url) => url,
                        None => {
                            outcome.stored += 1;
                            hosting.store.put(hosting.tenant, &picture).await?
                        }
                    };
                    let checked = hosting.today;
                    let key_of_picture = picture.key;
                    index.people.insert(
                        key,
                        Hosted {
                            url,
                            key: key_of_picture,
                            checked,
                        },
                    );
                }
            },
        }
    }
    drop(reads);
    let nothing_served: Vec<PersonKey> = rewrite(people, &index, links);
    for key in nothing_served {
        index.people.remove(&key);
    }
    if hosting.write && index != before {
        hosting.store.save_index(hosting.tenant, &index).await?;
    }
    Ok(outcome)
}

/// For a preview, which reads no picture and has no store: each mapped `photo_url` becomes what
/// the app was sent before, as in a dry run, so that hosted pictures are not shown as changes.
pub fn as_sent(people: &mut [Person], links: &BTreeMap<PersonKey, Link>) {
    rewrite(people, &PictureIndex::default(), links);
}

fn has_photo(person: &Person) -> bool {
    person
        .record
        .as_ref()
        .is_ok_and(|record| record.get(PHOTO_FIELD).is_some())
}

/// Sets each mapped `photo_url`: the hosted URL, else the link's (what the app has), else none.
/// Returns the people Personio shows without a picture, whose hosted one is no longer theirs.
fn rewrite(
    people: &mut [Person],
    index: &PictureIndex,
    links: &BTreeMap<PersonKey, Link>,
) -> Vec<PersonKey> {
    let mut without = Vec::new();
    for person in people.iter_mut() {
        let key = person.employee.key.clone();
        let Ok(record) = person.record.as_mut() else {
            continue;
        };
        if record.get(PHOTO_FIELD).is_none() {
            if index.people.contains_key(&key) {
                without.push(key);
            }
            continue;
        }
        let url = match index.people.get(&key) {
            Some(hosted) => Some(FieldValue::Text(hosted.url.clone())),
            None => links
                .get(&key)
                .and_then(|link| link.record.get(PHOTO_FIELD))
                .cloned(),
        };
        match url {
            Some(url) => record.set(PHOTO_FIELD, url),
            None => {
                record.remove(PHOTO_FIELD);
            }
        }
    }
    without
}
