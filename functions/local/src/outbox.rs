//! [`OutboxMailer`]: "sends" email by writing each message's MIME bytes as an `.eml` file, the
//! same bytes SES would send, so a local run's summary can be opened in any mail client.
//!
//! Files are named `<UTC time>-<n>.eml` (`20261123T150000Z-000000.eml`): they sort in sending
//! order, and `n` makes names unique within a second. Two mailers on one folder (a second process,
//! a restart within the same second) never overwrite each other: the final rename refuses to
//! replace an existing file and the next `n` is tried.

use crate::files;
use async_trait::async_trait;
use chrono::Utc;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use sync_core::email::Email;
use sync_core::ports::{MailError, Mailer};

/// A mailer that writes `.eml` files into a folder.
#[derive(Debug)]
pub struct OutboxMailer {
    dir: PathBuf,
    /// The next `n` to try; shared by concurrent sends of this mailer so they rarely collide.
    next: AtomicU64,
}

impl OutboxMailer {
    /// A mailer writing into `dir`, which is created on the first send.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            next: AtomicU64::new(0),
        }
    }

    /// The outbox folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The `.eml` files in the outbox, oldest first; empty when nothing was sent yet.
    pub fn messages(&self) -> io::Result<Vec<PathBuf>> {
        let mut messages = files::data_files(&self.dir, "eml")?;
        messages.sort();
        Ok(messages)
    }
}

/// The file name of message `n` of second `stamp`.
fn message_name(stamp: &str, n: u64) -> String {
    format!("{stamp}-{n:06}.eml")
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        let mime = email.to_mime();
        let stamp = Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        let first = self.next.fetch_add(1, Ordering::Relaxed);
        let dir = self.dir.clone();
        let written = tokio::task::spawn_blocking(move || {
            files::write_new(&dir, &mime, first, |n| message_name(&stamp, n))
                .map_err(|err| format!("could not write to the outbox {}: {err}", dir.display()))
        })
        .await
        .unwrap_or_else(|join| Err(format!("the outbox task stopped unexpectedly: {join}")));
        match written {
            Ok(path) => {
                // The file name holds only a time and a counter, never a recipient.
                tracing::info!(file = %path.display(), "email written to the outbox");
                Ok(())
            }
            Err(detail) => Err(MailError {
                detail,
                transient: false,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::email::Attachment;

    fn email(subject: &str) -> Email {
        Email {
            from: "sync@vendor.example".into(),
            to: vec!["it@acme.example".into()],
            subject: subject.into(),
            text: "1 user created".into(),
            html: "<p>1 user created</p>".into(),
            attachments: vec![Attachment {
                filename: "errors.csv".into(),
                content_type: "text/csv".into(),
                bytes: b"person,action,message,hint\n".to_vec(),
            }],
        }
    }

    #[tokio::test]
    async fn two_emails_become_two_eml_files_with_subject_and_attachment() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = OutboxMailer::new(dir.path().join("outbox"));
        assert!(outbox.messages().unwrap().is_empty());
        outbox
            .send(&email("personio-sync: first run"))
            .await
            .unwrap();
        outbox
            .send(&email("personio-sync: second run"))
            .await
            .unwrap();
        let messages = outbox.messages().unwrap();
        assert_eq!(messages.len(), 2);
        let first = std::fs::read_to_string(&messages[0]).unwrap();
        let second = std::fs::read_to_string(&messages[1]).unwrap();
        assert!(
            first.contains("Subject: personio-sync: first run"),
            "{first}"
        );
        assert!(
            second.contains("Subject: personio-sync: second run"),
            "{second}"
        );
        assert!(first.contains("filename=\"errors.csv\""));
        assert!(second.contains("filename=\"errors.csv\""));
    }

    #[tokio::test]
    async fn a_restarted_mailer_does_not_overwrite_earlier_messages() {
        let dir = tempfile::tempdir().unwrap();
        for run in 0..3 {
            // A new mailer starts counting at 0 again, like a new process would.
            let outbox = OutboxMailer::new(dir.path());
            outbox.send(&email(&format!("run {run}"))).await.unwrap();
        }
        let outbox = OutboxMailer::new(dir.path());
        let messages = outbox.messages().unwrap();
        assert_eq!(messages.len(), 3);
        for (run, path) in messages.iter().enumerate() {
            let text = std::fs::read_to_string(path).unwrap();
            assert!(text.contains(&format!("Subject: run {run}")), "{text}");
        }
    }

    #[test]
    fn messages_of_one_second_take_the_next_free_number() {
        let dir = tempfile::tempdir().unwrap();
        let name = |n| message_name("20261123T150000Z", n);
        let a = files::write_new(dir.path(), b"a", 0, name).unwrap();
        let b = files::write_new(dir.path(), b"b", 0, name).unwrap();
        assert_eq!(a.file_name().unwrap(), "20261123T150000Z-000000.eml");
        assert_eq!(b.file_name().unwrap(), "20261123T150000Z-000001.eml");
    }

    #[tokio::test]
    async fn concurrent_sends_all_land_in_distinct_files() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = std::sync::Arc::new(OutboxMailer::new(dir.path()));
        let mut tasks = Vec::new();
        for n in 0..20 {
            let outbox = outbox.clone();
            tasks.push(tokio::spawn(async move {
                outbox.send(&email(&format!("message {n}"))).await
            }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(outbox.messages().unwrap().len(), 20);
    }
}
