//! Measures `FolderStore`: how long loading a snapshot of many links takes, and what one atomic
//! `save_link` costs. Not a test: figures depend on the machine and belong in the docs.
//!
//! ```text
//! cargo run -p sync-local --example snapshot_load -- [links, default 50000]
//! ```

use std::time::Instant;
use sync_core::ids::{AccountId, DestinationId, PersonKey, PersonioId, TenantId};
use sync_core::ports::Store;
use sync_core::record::{FieldValue, UserRecord};
use sync_core::state::{Link, LinkState};
use sync_local::FolderStore;

fn link(id: u64) -> Link {
    let mut record = UserRecord::new();
    record.set(
        "user_name",
        FieldValue::Text(format!("person{id}@acme.example")),
    );
    record.set(
        "email",
        FieldValue::Text(format!("person{id}@acme.example")),
    );
    record.set("given_name", FieldValue::Text("Given".into()));
    record.set("family_name", FieldValue::Text("Family".into()));
    record.set("title", FieldValue::Text("Engineer".into()));
    record.set(
        "department",
        FieldValue::Text("Research & Development".into()),
    );
    record.set("hire_date", FieldValue::Date(chrono::NaiveDate::MIN));
    Link {
        key: PersonKey::new(AccountId::default(), PersonioId::new(id)),
        destination_id: DestinationId::parse(&format!("u-{id:012x}"))
            .unwrap_or_else(|_| unreachable!()),
        state: LinkState::Active,
        record,
        manager: Some(PersonKey::new(AccountId::default(), PersonioId::new(1))),
        invited_on: None,
        origin: None,
        inactive_since: None,
        relinked_from: None,
        rehire_declined: Default::default(),
        written_back: None,
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: u64 = std::env::args()
        .nth(1)
        .map_or(Ok(50_000), |arg| arg.parse())?;
    let root = tempfile::tempdir()?;
    let store = FolderStore::new(root.path());
    let tenant = TenantId::parse("bench")?;

    // Seeded with plain writes: the point is to measure loading, not 50,000 fsyncs.
    let started = Instant::now();
    for id in 0..count {
        let link = link(id);
        let path = store.link_path(&tenant, &link.key);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_vec_pretty(&link)?)?;
    }
    println!("seeded {count} link files in {:?}", started.elapsed());

    for attempt in 1..=3 {
        let started = Instant::now();
        let snapshot = store.snapshot(&tenant).await?;
        println!(
            "load {attempt}: {} links in {:?}",
            snapshot.links.len(),
            started.elapsed()
        );
    }

    let saves = 1_000;
    let started = Instant::now();
    for id in 0..saves {
        store.save_link(&tenant, &link(id)).await?;
    }
    println!(
        "save_link: {:?} each (atomic, fsynced)",
        started.elapsed() / saves as u32
    );
    Ok(())
}
