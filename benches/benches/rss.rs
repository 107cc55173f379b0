//! Peak memory of a 100,000-person `personio-sync run --dry-run` (target: < 256 MB, issue 17;
//! it was 50,000 people before).
//!
//! Builds nothing itself: it runs the real CLI binary twice — once as `fake-personio` serving
//! 100,000 people without a rate limit, once as the dry run against it — and reads the dry run's
//! peak resident set from the kernel (`wait4` → `ru_maxrss`) when it exits.
//!
//! The binary is `$PERSONIO_SYNC_BIN`, or `personio-sync` next to this bench's own folder
//! (`target/release/`). Build it first with the bench profile, which shares that folder:
//!
//! ```text
//! cargo build --profile bench -p personio-sync
//! cargo bench -p benches --bench rss
//! ```

use anyhow::{bail, Context};
use benches::verdict;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The headcount of the target; another can be given after `--` (`… --bench rss -- 10000`).
const EMPLOYEES: usize = 100_000;
/// The target of DESIGN.md §6, in bytes (MB, not MiB).
const TARGET_BYTES: u64 = 256_000_000;
/// Generating 100,000 people takes a few seconds; a fake that says nothing for this long is stuck.
const FAKE_START_LIMIT: Duration = Duration::from_secs(120);

fn main() -> ExitCode {
    // Cargo passes `--bench`; a number among the arguments is the headcount.
    let employees = std::env::args()
        .skip(1)
        .find_map(|arg| arg.replace(['_', ','], "").parse().ok())
        .unwrap_or(EMPLOYEES);
    let binary = match binary() {
        Ok(binary) => binary,
        Err(error) => {
            eprintln!("error: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    let mut fake = match start_fake(&binary, employees) {
        Ok(fake) => fake,
        Err(error) => {
            eprintln!("error: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    let result = dry_run(&binary, &fake.url, employees);
    // The fake serves until killed; it is our child, so only it is stopped.
    if let Err(error) = fake.child.kill().and_then(|()| fake.child.wait().map(drop)) {
        eprintln!(
            "warning: could not stop the fake Personio (pid {}): {error}",
            fake.child.id()
        );
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The `personio-sync` binary to measure.
fn binary() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("PERSONIO_SYNC_BIN") {
        let path = PathBuf::from(path);
        if !path.is_file() {
            bail!(
                "PERSONIO_SYNC_BIN names {}, which is not a file",
                path.display()
            );
        }
        return Ok(path);
    }
    // This bench runs as target/release/deps/rss-<hash>; the CLI lands in target/release.
    let exe = std::env::current_exe().context("cannot tell where this bench binary lives")?;
    let path = exe
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("personio-sync"))
        .context("cannot tell the target folder from this bench binary's path")?;
    if !path.is_file() {
        bail!(
            "{} is missing: build it first with `cargo build --profile bench -p personio-sync`, or set PERSONIO_SYNC_BIN to a personio-sync binary",
            path.display()
        );
    }
    Ok(path)
}

struct Fake {
    child: Child,
    url: String,
}

/// Starts `personio-sync fake-personio` on a free port and reads its URL from its first line.
fn start_fake(binary: &Path, employees: usize) -> anyhow::Result<Fake> {
    let mut child = Command::new(binary)
        .args([
            "fake-personio",
            "--port",
            "0",
            "--rate-limit",
            "0",
            "--employees",
        ])
        .arg(employees.to_string())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {} fake-personio", binary.display()))?;
    let stdout = child
        .stdout
        .take()
        .context("the fake's stdout was not captured")?;
    let (sender, receiver) = mpsc::channel();
    // The reader keeps draining the fake's stdout until it exits, so it never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if !sent {
                if let Some(url) = line
                    .split_whitespace()
                    .find(|word| word.starts_with("http://"))
                {
                    sent = sender.send(url.to_owned()).is_ok();
                }
            }
        }
    });
    match receiver.recv_timeout(FAKE_START_LIMIT) {
        Ok(url) => Ok(Fake { child, url }),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "the fake Personio printed no URL within {} s",
                FAKE_START_LIMIT.as_secs()
            )
        }
    }
}

/// Writes a tenant folder for the fake and measures one dry run in it.
fn dry_run(binary: &Path, url: &str, employees: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
    let config = dir.path().join("personio-sync.toml");
    std::fs::write(&config, tenant_config(url)?).context("cannot write the tenant config")?;
    std::fs::write(
        dir.path().join("personio-credentials.json"),
        r#"{"client_id": "fake-client-id", "client_secret": "fake-client-secret"}"#,
    )
    .context("cannot write the credentials file")?;
    let out = dir.path().join("stdout.txt");
    let err = dir.path().join("stderr.txt");

    let start = Instant::now();
    let child = Command::new(binary)
        .arg("run")
        .arg("--dry-run")
        .arg("-c")
        .arg(&config)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).context("cannot create the stdout file")?)
        .stderr(std::fs::File::create(&err).context("cannot create the stderr file")?)
        .spawn()
        .with_context(|| format!("cannot start {} run --dry-run", binary.display()))?;
    let (code, max_rss_kib) = wait_with_peak_rss(&child)?;
    let wall = start.elapsed();

    let stdout = std::fs::read_to_string(&out).unwrap_or_default();
    if code != Some(0) {
        let stderr = std::fs::read_to_string(&err).unwrap_or_default();
        bail!("the dry run exited with {code:?}: {}", stderr.trim());
    }
    let peak = max_rss_kib.saturating_mul(1024);
    println!(
        "rss n={employees}: {}",
        stdout
            .lines()
            .next()
            .unwrap_or("(the dry run printed nothing)")
    );
    if let Some(counts) = stdout.lines().nth(1) {
        println!("  {counts}");
    }
    println!(
        "  peak RSS {:.1} MB ({:.1} MiB, {max_rss_kib} KiB), wall {:.2} s",
        peak as f64 / 1e6,
        peak as f64 / (1024.0 * 1024.0),
        wall.as_secs_f64()
    );
    if employees == EMPLOYEES {
        println!(
            "  target peak RSS < {} MB: {}",
            TARGET_BYTES / 1_000_000,
            verdict(peak < TARGET_BYTES)
        );
    }
    Ok(())
}

/// The demo tenant's config pointed at the fake, with the credentials file beside it. The
/// client's rate limit is lifted so the run takes seconds, not 100 s: every page is kept until
/// the fetch ends either way, so the limit changes how long the run takes, and at most how many
/// of the 16 concurrent pages are in flight at once, not what the run holds.
fn tenant_config(url: &str) -> anyhow::Result<String> {
    let mut config: toml::Table = benches::DEMO_CONFIG
        .parse()
        .context("examples/demo.toml is not TOML")?;
    let account = config
        .get_mut("personio")
        .and_then(|personio| personio.get_mut("accounts"))
        .and_then(|accounts| accounts.get_mut(0))
        .and_then(toml::Value::as_table_mut)
        .context("examples/demo.toml has no [[personio.accounts]]")?;
    account.insert("base_url".into(), url.into());
    account.insert(
        "credentials_file".into(),
        "personio-credentials.json".into(),
    );
    account.insert("rate_limit_per_minute".into(), 600_000.into());
    account.insert("rate_limit_burst".into(), 1_000.into());
    toml::to_string(&config).context("cannot write the tenant config as TOML")
}

/// Waits for `child` and returns its exit code and peak resident set in KiB (Linux `ru_maxrss`).
fn wait_with_peak_rss(child: &Child) -> anyhow::Result<(Option<i32>, u64)> {
    let pid = libc::pid_t::try_from(child.id()).context("the child's pid does not fit pid_t")?;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is a plain C struct of integers, for which all-zero bytes are valid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are to live, writable locals of the types wait4 expects, and
        // `pid` is our own un-reaped child (std's `Child` is never waited on after this).
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            break;
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error).context("cannot wait for the dry run");
        }
    }
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Ok((code, u64::try_from(usage.ru_maxrss).unwrap_or(0)))
}
