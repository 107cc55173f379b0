//! Every log line of the test process, captured: a global `tracing` subscriber (our crates at
//! trace level, everything else at info, as close as a test gets to everything the Lambda could
//! log) writing into one buffer, so tests can assert that no line carries a secret.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn buffer() -> &'static Buffer {
    static BUFFER: OnceLock<Buffer> = OnceLock::new();
    BUFFER.get_or_init(|| {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let filter = tracing_subscriber::EnvFilter::new(
            "info,admin=trace,sync_core=trace,sync_aws=trace,worker=trace",
        );
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        buffer
    })
}

/// Starts capturing (once per process).
pub fn capture() {
    buffer();
}

/// Everything logged so far by every test of the process.
pub fn text() -> String {
    String::from_utf8_lossy(&buffer().0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
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
