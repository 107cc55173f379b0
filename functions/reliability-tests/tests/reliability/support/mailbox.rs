//! [`Mailbox`]: a `Mailer` that keeps every summary email it is handed (and hands it on to a real
//! mailer when it has one, recording whether that accepted it), so a scenario can check that each
//! run's email names its failure and lists every error, without parsing MIME.

use std::sync::{Arc, Mutex};
use sync_core::email::Email;
use sync_core::ports::{MailError, Mailer};

/// One email handed to the mailbox.
#[derive(Clone, Debug)]
pub struct Sent {
    /// The email.
    pub email: Email,
    /// Whether the real mailer (if any) accepted it.
    pub delivered: bool,
}

impl Sent {
    /// The rows of the `errors.csv` attachment (the header is not a row).
    pub fn csv_rows(&self) -> usize {
        self.email
            .attachments
            .iter()
            .find(|a| a.filename == "errors.csv")
            .map(|a| {
                csv::Reader::from_reader(a.bytes.as_slice())
                    .records()
                    .count()
            })
            .unwrap_or(0)
    }

    /// Whether this is the summary of run `run_id`.
    pub fn is_for(&self, run_id: &str) -> bool {
        self.email.text.contains(&format!("Run {run_id} "))
    }
}

/// A mailer that remembers.
#[derive(Clone, Default)]
pub struct Mailbox {
    inner: Option<Arc<dyn Mailer>>,
    sent: Arc<Mutex<Vec<Sent>>>,
}

impl Mailbox {
    /// Keeps emails without sending them anywhere.
    pub fn new() -> Self {
        Self::default()
    }

    /// Hands every email on to `inner` (SES) as well.
    pub fn sending_through(inner: Arc<dyn Mailer>) -> Self {
        Self {
            inner: Some(inner),
            sent: Arc::default(),
        }
    }

    /// Everything handed over so far.
    pub fn sent(&self) -> Vec<Sent> {
        self.sent.lock().expect("mailbox lock").clone()
    }
}

#[async_trait::async_trait]
impl Mailer for Mailbox {
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        let result = match &self.inner {
            Some(inner) => inner.send(email).await,
            None => Ok(()),
        };
        self.sent.lock().expect("mailbox lock").push(Sent {
            email: email.clone(),
            delivered: result.is_ok(),
        });
        result
    }
}
