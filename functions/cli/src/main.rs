//! `personio-sync`: runs the sync engine on one machine, with state in a folder, users in a JSON
//! directory or a SCIM server, and summary emails as `.eml` files — no AWS, no cloud credentials.
//!
//! Exit codes: 0 done, 1 error (one line on stderr says what to do), 3 the run was held by a guard
//! and waits for `approve` or `reject`.

/// `println!` that ignores a closed stdout (`personio-sync runs | head`) instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod admin;
mod commands;
mod console;
mod demo;
mod output;
mod personio;
mod progress;
mod webhook;
mod wiring;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Keeps an app's user directory in step with Personio.
#[derive(Parser)]
#[command(name = "personio-sync", version, about)]
struct Cli {
    /// Log level filter (`info`, `debug`, `warn`, …), or set RUST_LOG.
    #[arg(long, global = true, default_value = "warn")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

/// Where the tenant config and its local state live.
#[derive(clap::Args, Clone)]
struct Place {
    /// The tenant configuration (TOML; see docs/configuration.md).
    #[arg(
        long,
        short,
        default_value = "personio-sync.toml",
        env = "PERSONIO_SYNC_CONFIG"
    )]
    config: PathBuf,
    /// The state folder (snapshot, run history, held runs). Default: `state` beside the config.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Where summary emails are written as .eml files. Default: `outbox` beside the config.
    #[arg(long)]
    outbox: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Sync now: everyone, or one person.
    Run {
        #[command(flatten)]
        place: Place,
        /// Plan only: show what would change and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Run as the schedule does (for cron): between full runs (every
        /// `schedule.full_every_hours`), read only the people changed since the last clean run.
        #[arg(long, conflicts_with = "person")]
        scheduled: bool,
        /// Sync one person, by Personio employee id.
        #[arg(long)]
        person: Option<String>,
        /// The Personio account of `--person` (default: the first account).
        #[arg(long)]
        account: Option<String>,
        /// Pretend the run happens at this moment (RFC 3339), to replay a day.
        #[arg(long, hide = true)]
        now: Option<String>,
    },
    /// List past runs, newest first.
    Runs {
        #[command(flatten)]
        place: Place,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Show one run: counts, changes and errors.
    ShowRun {
        #[command(flatten)]
        place: Place,
        /// The run id, as `runs` lists it.
        run_id: String,
    },
    /// Apply a held run's plan.
    Approve {
        #[command(flatten)]
        place: Place,
        /// The held run.
        run_id: String,
        /// Pretend the approval happens at this moment (RFC 3339).
        #[arg(long, hide = true)]
        now: Option<String>,
    },
    /// Drop a held run; nothing is written.
    Reject {
        #[command(flatten)]
        place: Place,
        /// The held run.
        run_id: String,
    },
    /// Undo a run as a new run: users it created are deactivated, users it changed get their
    /// values, active flag, manager and groups back. Try --dry-run first.
    Undo {
        #[command(flatten)]
        place: Place,
        /// The run to undo, as `runs` lists it.
        run_id: String,
        /// Plan only: show what the undo would change and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Leave people a later run changed since as they are.
        #[arg(long)]
        only_unchanged: bool,
        /// Pretend the undo happens at this moment (RFC 3339).
        #[arg(long, hide = true)]
        now: Option<String>,
    },
    /// Decide a held rehire: give the departed profile's user to the new profile (--relink), or
    /// give the new profile a user of its own (--create-new). The next run applies it.
    Rehire {
        #[command(flatten)]
        place: Place,
        /// The new Personio profile, held as a possible rehire: `account:id` (`main:2001`).
        #[arg(long)]
        person: String,
        /// The departed profile whose user it matches, as the held person's reason names it.
        #[arg(long)]
        previous: String,
        /// Re-link the departed profile's user to the new profile.
        #[arg(
            long,
            conflicts_with = "create_new",
            required_unless_present = "create_new"
        )]
        relink: bool,
        /// Give the new profile a user of its own.
        #[arg(long)]
        create_new: bool,
    },
    /// Check the configuration; with --online also the credentials and attribute whitelist.
    CheckConfig {
        #[command(flatten)]
        place: Place,
        /// Also call Personio: verify the credentials and that every mapped attribute is readable.
        #[arg(long)]
        online: bool,
    },
    /// Sync a generated sample company from an in-process fake Personio into a folder.
    Demo {
        /// The demo folder (config, state, directory, outbox). A repeated demo is the next run.
        #[arg(long, default_value = "demo")]
        dir: PathBuf,
        /// Employees in the sample company (first run only).
        #[arg(long, default_value_t = 500)]
        employees: usize,
        /// Seed of the sample company (first run only).
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Who is in scope, why, and what the next run would do, per person; writes nothing.
    Preview(admin::PreviewArgs),
    /// Write to Personio: `personio add` adds a person.
    Personio {
        #[command(subcommand)]
        command: personio::PersonioCommand,
    },
    /// A run's error list as CSV, the same file the summary email attaches.
    ErrorsCsv(admin::ErrorsCsvArgs),
    /// Subscribe this tenant to Personio's webhooks; prints the new token once.
    RegisterWebhook(webhook::RegisterWebhook),
    /// Give the tenant's Personio webhook a new token; prints it once.
    RotateWebhookToken(webhook::RotateWebhookToken),
    /// Serve the admins' console on 127.0.0.1; prints a signed link to it first.
    Console {
        #[command(flatten)]
        place: Place,
        /// Port on 127.0.0.1 (0: any free port).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// How many days the printed link works.
        #[arg(long, default_value_t = 7)]
        days: u16,
    },
    /// Serve the fake Personio API (for trying the CLI against something real-looking).
    FakePersonio {
        /// Port on 127.0.0.1 (0: any free port).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Employees in the generated company.
        #[arg(long, default_value_t = 500)]
        employees: usize,
        /// Seed of the generated company.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Requests per minute before 429 (0: no limit).
        #[arg(long, default_value_t = 300)]
        rate_limit: u32,
        /// Burst of requests per second.
        #[arg(long, default_value_t = 15)]
        burst: u32,
    },
}

/// How a command ended, when it did not fail.
pub enum Done {
    /// Finished.
    Ok,
    /// A run was held by a guard.
    Held,
}

// jemalloc, as every binary of the project (docs/decisions/0021-jemalloc.md).
use sync_allocator as _;

fn main() -> ExitCode {
    let cli = Cli::parse();
    wiring::init_logging(&cli.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli.command)) {
        Ok(Done::Ok) => ExitCode::SUCCESS,
        Ok(Done::Held) => ExitCode::from(3),
        Err(error) => {
            // One line an admin can act on; causes are joined, not dumped as a backtrace.
            eprintln!("error: {}", output::one_line(&error));
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command) -> anyhow::Result<Done> {
    match command {
        Command::Run {
            place,
            dry_run,
            scheduled,
            person,
            account,
            now,
        } => {
            commands::run(
                &place,
                dry_run,
                scheduled,
                person.as_deref(),
                account.as_deref(),
                now.as_deref(),
            )
            .await
        }
        Command::Runs { place, limit } => commands::runs(&place, limit).await,
        Command::ShowRun { place, run_id } => commands::show_run(&place, &run_id).await,
        Command::Approve { place, run_id, now } => {
            commands::approve(&place, &run_id, now.as_deref()).await
        }
        Command::Reject { place, run_id } => commands::reject(&place, &run_id).await,
        Command::Undo {
            place,
            run_id,
            dry_run,
            only_unchanged,
            now,
        } => commands::undo(&place, &run_id, dry_run, only_unchanged, now.as_deref()).await,
        Command::Rehire {
            place,
            person,
            previous,
            relink,
            create_new: _,
        } => commands::rehire(&place, &person, &previous, relink).await,
        Command::CheckConfig { place, online } => commands::check_config(&place, online).await,
        Command::Demo {
            dir,
            employees,
            seed,
        } => demo::demo(&dir, employees, seed).await,
        Command::Preview(args) => admin::preview(args).await,
        Command::Personio { command } => personio::dispatch(command).await,
        Command::ErrorsCsv(args) => admin::errors_csv(args).await,
        Command::RegisterWebhook(args) => webhook::register(args).await,
        Command::RotateWebhookToken(args) => webhook::rotate(args).await,
        Command::Console { place, port, days } => console::console(&place, port, days).await,
        Command::FakePersonio {
            port,
            employees,
            seed,
            rate_limit,
            burst,
        } => demo::fake_personio(port, employees, seed, rate_limit, burst).await,
    }
}
