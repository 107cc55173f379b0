//! Measures creates, updates and a full listing against a running SCIM server, for
//! `docs/benchmarks.md`. Not a test: figures depend on the machine.
//!
//! ```sh
//! eval "$(bash infra/scim2-server.sh)"
//! cargo run -p sync-scim --example scim_rate -- 500 4     # users, concurrency
//! kill "$SCIM2_SERVER_PID"
//! ```

use futures::stream::{self, StreamExt, TryStreamExt};
use secrecy::SecretString;
use std::time::Instant;
use sync_core::ports::{Destination, NewUser};
use sync_core::record::{FieldChange, FieldValue, UserRecord};
use sync_scim::{ScimDestination, ScimSettings};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("SCIM2_SERVER_URL")
        .map_err(|_| "set SCIM2_SERVER_URL (eval \"$(bash infra/scim2-server.sh)\")")?;
    let token = std::env::var("SCIM2_SERVER_TOKEN").map_err(|_| "set SCIM2_SERVER_TOKEN")?;
    let mut args = std::env::args().skip(1);
    let users: usize = args.next().map_or(Ok(500), |a| a.parse())?;
    let concurrency: usize = args.next().map_or(Ok(4), |a| a.parse())?;
    let tenant = format!("rate-{}", std::process::id());
    let mut settings = ScimSettings::new(
        "rate",
        format!("{url}/{tenant}/v2"),
        SecretString::from(token),
    );
    settings.concurrency = concurrency;
    let destination = ScimDestination::new(settings)?;

    let text = |v: String| FieldValue::Text(v);
    let started = Instant::now();
    let ids: Vec<_> = stream::iter(0..users)
        .map(|n| {
            let mut record = UserRecord::new();
            record.set("user_name", text(format!("user{n}@acme.example")));
            record.set("given_name", text(format!("Given{n}")));
            record.set("family_name", text(format!("Family{n}")));
            record.set("email", text(format!("user{n}@acme.example")));
            record.set("department", text("R&D".into()));
            record.set("employee_number", text(n.to_string()));
            let user = NewUser {
                external_id: format!("main:{n}"),
                record,
                active: true,
            };
            let destination = &destination;
            async move { destination.create(&user).await }
        })
        .buffer_unordered(concurrency * 2)
        .try_collect()
        .await?;
    let create = started.elapsed();

    let started = Instant::now();
    stream::iter(&ids)
        .map(|id| {
            let change = FieldChange {
                field: "title".into(),
                old: None,
                new: Some(text("Lead".into())),
            };
            let destination = &destination;
            async move { destination.update(id, &[change]).await }
        })
        .buffer_unordered(concurrency * 2)
        .try_collect::<Vec<_>>()
        .await?;
    let update = started.elapsed();

    let started = Instant::now();
    let listed = destination.users().await?.len();
    let list = started.elapsed();

    let per_second = |n: usize, d: std::time::Duration| n as f64 / d.as_secs_f64();
    println!("users={users} concurrency={concurrency}");
    println!(
        "create: {:.2} s, {:.0}/s",
        create.as_secs_f64(),
        per_second(users, create)
    );
    println!(
        "update (GET+PATCH): {:.2} s, {:.0}/s",
        update.as_secs_f64(),
        per_second(users, update)
    );
    println!("list {listed}: {:.2} s", list.as_secs_f64());
    println!("requests: {:?}", destination.requests());
    Ok(())
}
