//! Every log line of the test process, captured: one global `tracing` subscriber (with the
//! caller's filter) writes into one buffer, so tests can assert that no line carries a secret or a
//! person's data.
//!
//! The subscriber is global because the code under test logs from many tasks and threads (HTTP
//! connection tasks, the servers in the process); a thread-local one would miss them. One test
//! binary installs it once, with one filter: the first [`capture`] wins.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// The captured log text.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    fn bytes(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        // A test that panicked while logging must not hide the lines of every other test.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.bytes().extend_from_slice(bytes);
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

static BUFFER: OnceLock<Buffer> = OnceLock::new();

/// Starts capturing every event `filter` (`EnvFilter` directives, e.g. `"debug"` or
/// `"info,admin=trace"`) lets through, once per process; later calls change nothing.
pub fn capture(filter: &str) {
    BUFFER.get_or_init(|| {
        let buffer = Buffer::default();
        // `try_init` also routes the `log` crate's records (rustls, some HTTP crates) here.
        let installed = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_ansi(false)
            .with_writer(buffer.clone())
            .try_init();
        // Only this module installs a subscriber in a test binary, so it cannot be taken; if it
        // were, nothing would be captured, which `assert_free_of` and the callers' canaries say.
        drop(installed);
        buffer
    });
}

fn buffer() -> &'static Buffer {
    BUFFER
        .get()
        .expect("logs::capture(filter) is called before logs are read")
}

/// Everything logged so far by every test of the process (and not taken).
pub fn text() -> String {
    String::from_utf8_lossy(&buffer().bytes()).into_owned()
}

/// Everything logged since the last `take`, removed from the buffer: for a reader that scans
/// each line once.
pub fn take() -> String {
    let bytes = std::mem::take(&mut *buffer().bytes());
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Asserts that no log line so far contains any of `secrets`.
pub fn assert_free_of(secrets: &[&str]) {
    let text = text();
    assert!(!text.is_empty(), "nothing was logged: is capture() on?");
    for secret in secrets {
        assert!(
            !text.contains(secret),
            "a log line contains a secret: {}",
            text.lines()
                .find(|line| line.contains(secret))
                .unwrap_or_default()
        );
    }
}
