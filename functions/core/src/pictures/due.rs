//! Whose pictures a run reads from Personio: a pure decision over who has one and what is hosted.

use super::PictureIndex;
use crate::config::PicturesConfig;
use crate::ids::PersonKey;
use chrono::NaiveDate;

/// The people of `with_picture` whose picture to read today, at most `settings.per_run`: first
/// those with none hosted (in the order given), then those whose last read is `refresh_days` or
/// more old, the oldest first (a budget cut never starves the same people twice running).
pub fn due<'a>(
    with_picture: impl IntoIterator<Item = &'a PersonKey>,
    index: &PictureIndex,
    today: NaiveDate,
    settings: &PicturesConfig,
) -> Vec<PersonKey> {
    let refresh = chrono::Days::new(u64::from(settings.refresh_days));
    let mut new = Vec::new();
    let mut stale = Vec::new();
    for key in with_picture {
        match index.people.get(key) {
            None => new.push(key.clone()),
            Some(hosted)
                if hosted
                    .checked
                    .checked_add_days(refresh)
                    .is_some_and(|at| at <= today) =>
            {
                stale.push((hosted.checked, key.clone()))
            }
            Some(_) => {}
        }
    }
    stale.sort();
    new.extend(stale.into_iter().map(|(_, key)| key));
    new.truncate(settings.per_run);
    new
}
