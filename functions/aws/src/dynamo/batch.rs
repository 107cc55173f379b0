//! Batch writes: `BatchWriteItem` takes at most 25 puts or deletes, and may hand some back as
//! `UnprocessedItems` when the table is throttled (HTTP 200, so the SDK's retry does not see it).
//! Those are sent again with [`sync_core::retry`]'s back-off until none is left or the attempts
//! run out.

use super::items::Item;
use super::DynamoStore;
use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, WriteRequest};
use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use sync_core::ports::StoreError;
use sync_core::retry::{Backoff, Failed, GaveUp, RetryAfter};

/// Most requests one `BatchWriteItem` call may carry.
pub const BATCH_SIZE: usize = 25;

/// How unprocessed items are retried by default: 10 calls per batch, from 50 ms doubling up to
/// 3 s. About 15 s in all before giving up: long enough to ride out a throttling burst of an
/// on-demand table, short enough to leave a Lambda time to save its progress.
pub const BATCH_BACKOFF: Backoff = Backoff {
    max_attempts: 10,
    base: Duration::from_millis(50),
    cap: Duration::from_secs(3),
    // DynamoDB says nothing of when to come back; the variant does not matter.
    retry_after: RetryAfter::WithinCap,
};

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
    // What is still unprocessed, handed from one attempt to the next.
    let pending = &Mutex::new(batch);
    let outcome = backoff
        .retry(|_| {
            let sent = send(std::mem::take(&mut *lock(pending)));
            async move {
                let left = sent.await.map_err(Failed::Final)?;
                if left.is_empty() {
                    return Ok(());
                }
                let count = left.len();
                tracing::debug!(unprocessed = count, "DynamoDB left writes unprocessed");
                *lock(pending) = left;
                Err(Failed::transient(count))
            }
        })
        .await;
    outcome.map_err(|gave_up| match gave_up {
        GaveUp::Final(error) => error,
        GaveUp::Exhausted {
            failure: left,
            attempts,
        }
        | GaveUp::TooLongToWait {
            failure: left,
            attempts,
            ..
        } => StoreError::Io {
            action: "write",
            location: location.to_owned(),
            detail: format!(
                "DynamoDB still left {left} items unprocessed after {attempts} attempts (the \
                 table is throttled); the run will be tried again"
            ),
        },
    })
}

/// The pending requests; a panic elsewhere cannot leave them half-written, so poisoning is moot.
fn lock(pending: &Mutex<Vec<WriteRequest>>) -> MutexGuard<'_, Vec<WriteRequest>> {
    pending.lock().unwrap_or_else(PoisonError::into_inner)
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
        let result = send_with_retries(requests(25), BATCH_BACKOFF, "t", |batch| {
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
            max_attempts: 4,
            ..BATCH_BACKOFF
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
}
