//! Everything the process logs, captured by `test_support::logs` (every event at DEBUG and above,
//! every crate, with span fields), and [`LogScan`], which searches it after each scenario for what
//! must never be logged: the fake Personio's client secret, the SCIM token, Personio access
//! tokens, and every person's email and name.

use std::collections::HashSet;

/// Installs the capturing subscriber (once per process): every event at DEBUG and above, of
/// every crate, with span fields.
pub fn capture() {
    test_support::logs::capture("debug");
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
        let text = test_support::logs::take();
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
