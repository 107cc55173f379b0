//! Everything the process logs, captured: one global `tracing` subscriber writes every event (at
//! DEBUG and above, every crate, with span fields) into a buffer, and [`LogScan`] searches it for
//! what must never be logged — the fake Personio's client secret, the SCIM token, Personio access
//! tokens, and every person's email and name — after each scenario.
//!
//! The subscriber is global because the engine's work runs on many tasks and threads (HTTP
//! connection tasks, the servers in this process); a thread-local one would miss them.

use std::collections::HashSet;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// The captured log text not scanned yet.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buffer {
    type Writer = Buffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn buffer() -> &'static Buffer {
    static BUFFER: OnceLock<Buffer> = OnceLock::new();
    BUFFER.get_or_init(|| {
        let buffer = Buffer::default();
        // `try_init` also routes the `log` crate's records (rustls, some HTTP crates) here.
        let installed = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(buffer.clone())
            .try_init();
        // Only this module installs a subscriber in this binary, so it cannot be taken; if it
        // were, the canary check of the suite would say so.
        drop(installed);
        buffer
    })
}

/// Installs the capturing subscriber (once per process).
pub fn capture() {
    buffer();
}

/// The secrets and personal data of every scenario so far.
///
/// Lookups are by token, so that thousands of people cost nothing per log line: emails are
/// looked up as tokens of `[A-Za-z0-9@._+-]`, one-word names as case-sensitive whole words;
/// only the few multi-word names and the secrets are searched as substrings.
#[derive(Default)]
pub struct LogScan {
    texts: Vec<String>,
    words: HashSet<String>,
    emails: HashSet<String>,
    lines_scanned: u64,
}

impl LogScan {
    /// A scan over the captured logs (installing the capture).
    pub fn new() -> Self {
        capture();
        let mut scan = Self::default();
        // Personio access tokens start with `papi-` and must never be logged, whoever's they are.
        scan.text("papi-");
        scan
    }

    /// Never logged, anywhere in a line.
    pub fn text(&mut self, text: &str) {
        let text = text.trim();
        if text.len() >= 3 && !self.texts.iter().any(|known| known == text) {
            self.texts.push(text.to_owned());
        }
    }

    /// A name: never logged as a whole word (a multi-word or hyphenated name as a whole).
    pub fn name(&mut self, name: &str) {
        let name = name.trim();
        if name.contains(|c: char| c.is_whitespace() || c == '-') {
            self.text(name);
        } else if name.chars().count() >= 2 {
            self.words.insert(name.to_owned());
        }
    }

    /// An email address: never logged.
    pub fn email(&mut self, email: &str) {
        self.emails.insert(email.trim().to_lowercase());
    }

    /// A person: email, first, last and preferred name.
    pub fn person(&mut self, first: &str, last: &str, preferred: &str, email: &str) {
        self.email(email);
        self.name(first);
        self.name(last);
        for part in preferred.split_whitespace() {
            self.name(part);
        }
    }

    /// Scans the logs captured since the last scan; returns the leaking lines found.
    pub fn scan(&mut self) -> Vec<String> {
        let bytes = std::mem::take(&mut *buffer().0.lock().unwrap_or_else(|p| p.into_inner()));
        let text = String::from_utf8_lossy(&bytes);
        let mut found = Vec::new();
        for line in text.lines() {
            self.lines_scanned += 1;
            if let Some(secret) = self.leak(line) {
                found.push(format!("`{secret}` in: {line}"));
            }
        }
        found
    }

    fn leak(&self, line: &str) -> Option<String> {
        if let Some(text) = self.texts.iter().find(|t| line.contains(t.as_str())) {
            return Some(text.clone());
        }
        let email_token = |c: char| !(c.is_ascii_alphanumeric() || "@._+-".contains(c));
        if let Some(email) = line
            .split(email_token)
            .filter(|token| token.contains('@'))
            .map(|token| token.trim_matches('.').to_lowercase())
            .find(|token| self.emails.contains(token))
        {
            return Some(email);
        }
        line.split(|c: char| !c.is_alphanumeric() && c != '\'')
            .find(|word| self.words.contains(*word))
            .map(str::to_owned)
    }

    /// Log lines scanned so far.
    pub fn lines_scanned(&self) -> u64 {
        self.lines_scanned
    }
}
