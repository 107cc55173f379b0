//! Batch writes: `BatchWriteItem` takes at most 25 puts or deletes, and may hand some back as
//! `UnprocessedItems` when the table is throttled (HTTP 200, so the SDK's retry does not see it).
//! Those are sent again with exponential back-off and jitter until none is left or the attempts
//! run out.

use super::items::Item;
use super::DynamoStore;
use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, WriteRequest};
use rand::Rng;
use std::future::Future;
use std::time::Duration;
use sync_core::ports::StoreError;

/// Most requests one `BatchWriteItem` call may carry.
pub const BATCH_SIZE: usize = 25;

/// How unprocessed items are retried.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    /// Calls per batch, the first one included.
    pub attempts: u32,
    /// Delay before the first retry; doubled per retry.
    pub initial: Duration,
    /// Longest delay.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        // About 15 s in all before giving up: long enough to ride out a throttling burst of an
        // on-demand table, short enough to leave a Lambda time to save its progress.
        Self {
            attempts: 10,
            initial: Duration::from_millis(50),
            max: Duration::from_secs(3),
        }
    }
}

impl Backoff {
    /// The delay before retry `retry` (0-based): exponential, capped, with "equal jitter" (half
    /// fixed, half random) so that concurrent writers spread out.
    fn delay(&self, retry: u32) -> Duration {
        let exp = self.initial.saturating_mul(1u32 << retry.min(16));
        let capped = exp.min(self.max);
        let half = capped / 2;
        let jitter_ms = rand::thread_rng().gen_range(0..=half.as_millis() as u64);
        half + Duration::from_millis(jitter_ms)
    }
}

/// A put request of `item`.
pub fn put(item: Item) -> WriteRequest {
    WriteRequest::builder()
        .put_request(
            PutRequest::builder()
                .set_item(Some(item))
                .build()
                .expect("item is set"),
        )
        .build()
}

/// A delete request of the item with these keys.
pub fn delete(pk: &str, sk: &str) -> WriteRequest {
    let key = super::items::item(pk, sk);
    WriteRequest::builder()
        .delete_request(
            DeleteRequest::builder()
                .set_key(Some(key))
                .build()
                .expect("key is set"),
        )
        .build()
}

impl DynamoStore {
    /// Writes `requests` in batches of 25, retrying unprocessed items with back-off.
    pub(crate) async fn write_all(
        &self,
        requests: Vec<WriteRequest>,
        location: &str,
    ) -> Result<(), StoreError> {
        let mut requests = requests.into_iter().peekable();
        while requests.peek().is_some() {
            let batch: Vec<WriteRequest> = requests.by_ref().take(BATCH_SIZE).collect();
            send_with_retries(batch, self.backoff, location, |batch| async move {
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(self.table.clone(), batch)
                    .send()
                    .await
                    .map_err(|err| super::sdk_error("write", location, err))?;
                Ok(output
                    .unprocessed_items
                    .and_then(|mut tables| tables.remove(&self.table))
                    .unwrap_or_default())
            })
            .await?;
        }
        Ok(())
    }
}

/// Sends `batch` through `send`, which returns the requests DynamoDB left unprocessed, and sends
/// those again after a back-off until none is left.
pub async fn send_with_retries<F, Fut>(
    batch: Vec<WriteRequest>,
    backoff: Backoff,
    location: &str,
    mut send: F,
) -> Result<(), StoreError>
where
    F: FnMut(Vec<WriteRequest>) -> Fut,
    Fut: Future<Output = Result<Vec<WriteRequest>, StoreError>>,
{
    let mut pending = batch;
    for attempt in 0..backoff.attempts.max(1) {
        if attempt > 0 {
            let delay = backoff.delay(attempt - 1);
            tracing::debug!(
                unprocessed = pending.len(),
                delay_ms = delay.as_millis() as u64,
                "retrying unprocessed DynamoDB writes"
            );
            tokio::time::sleep(delay).await;
        }
        pending = send(pending).await?;
        if pending.is_empty() {
            return Ok(());
        }
    }
    Err(StoreError::Io {
        action: "write",
        location: location.to_owned(),
        detail: format!(
            "DynamoDB still left {} items unprocessed after {} attempts (the table is throttled); \
             the run will be tried again",
            pending.len(),
            backoff.attempts
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn requests(count: usize) -> Vec<WriteRequest> {
        (0..count)
            .map(|n| delete("TENANT#t", &format!("X#{n}")))
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn unprocessed_items_are_sent_again_until_none_is_left() {
        let calls = AtomicU32::new(0);
        let sizes = std::sync::Mutex::new(Vec::new());
        let result = send_with_retries(requests(25), Backoff::default(), "t", |batch| {
            let call = calls.fetch_add(1, Ordering::SeqCst);
            sizes.lock().unwrap().push(batch.len());
            async move {
                // DynamoDB hands back part of the batch twice, then takes the rest.
                Ok(match call {
                    0 => batch.into_iter().skip(15).collect(),
                    1 => batch.into_iter().skip(7).collect(),
                    _ => Vec::new(),
                })
            }
        })
        .await;
        assert!(result.is_ok());
        assert_eq!(*sizes.lock().unwrap(), vec![25, 10, 3]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_table_that_never_catches_up_fails_with_the_count_left() {
        let backoff = Backoff {
            attempts: 4,
            ..Backoff::default()
        };
        let calls = AtomicU32::new(0);
        let err = send_with_retries(requests(5), backoff, "table t", |batch| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move { Ok(batch) }
        })
        .await
        .unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        assert!(
            err.to_string()
                .contains("5 items unprocessed after 4 attempts"),
            "{err}"
        );
    }

    #[test]
    fn back_off_grows_and_stays_under_the_cap() {
        let backoff = Backoff::default();
        for retry in 0..20 {
            let delay = backoff.delay(retry);
            assert!(delay <= backoff.max);
            let floor = backoff
                .initial
                .saturating_mul(1 << retry.min(16))
                .min(backoff.max)
                / 2;
            assert!(delay >= floor);
        }
    }
}
