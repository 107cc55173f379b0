//! A burst: 1,002 deliveries (334 events about 200 people, each delivered three times, as
//! Personio's retries would) in a seeded random order, ten at a time over HTTP, while a worker
//! runs the queued jobs every 100 deliveries. Every person ends with Personio's latest value,
//! duplicates queue no second job and write nothing, and no event is lost.

mod support;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde_json::json;
use std::collections::BTreeMap;
use support::*;
use sync_core::ports::JobTarget;
use tokio::task::JoinSet;

const PEOPLE: usize = 200;
/// People who change twice; the others change once. 200 + 134 = 334 events.
const TWICE: usize = 134;
const COPIES: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_repeated_events_in_random_order_syncs_everyone_once() {
    let harness = Harness::start(240).await;
    harness.full_run().await;
    let company = harness.fake.company();
    let mut people = Vec::new();
    for employee in company.employees.iter().filter(|e| e.status == "active") {
        if harness
            .user(employee.id)
            .await
            .is_some_and(|user| user.active)
        {
            people.push(employee.id);
        }
    }
    assert!(
        people.len() >= PEOPLE,
        "only {} people synced",
        people.len()
    );
    people.truncate(PEOPLE);

    // Each change in Personio is followed by one event; the latest value is what must arrive.
    let mut latest = BTreeMap::new();
    let mut events = Vec::new();
    for round in 1..=2 {
        let changed = if round == 1 { PEOPLE } else { TWICE };
        for &id in &people[..changed] {
            let title = format!("Title {id} v{round}");
            harness.fake.update(|company| {
                company.employee_mut(id).expect("person").position = title.clone();
            });
            latest.insert(id, title);
            events.push(json!({
                "company_id": COMPANY,
                "event_name": "person.updated",
                "occurred_at": format!("2026-11-23T12:{:02}:{:02}Z", events.len() / 60, events.len() % 60),
                "payload": {"id": id.to_string()},
                "meta": {},
            })
            .to_string());
        }
    }
    assert_eq!(events.len(), 334);
    let mut deliveries: Vec<String> = events
        .iter()
        .flat_map(|body| std::iter::repeat_n(body.clone(), COPIES))
        .collect();
    deliveries.shuffle(&mut StdRng::seed_from_u64(20_261_123));
    assert_eq!(deliveries.len(), 1_002);

    let writes_before = harness.directory.writes();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let mut queued = Vec::new();
    let mut updated = 0;
    for (n, batch) in deliveries.chunks(10).enumerate() {
        let mut sending = JoinSet::new();
        for body in batch {
            let url = harness.url();
            let body = body.clone();
            sending
                .spawn(async move { deliver(&url, Some(TOKEN), "application/json", body).await.0 });
        }
        while let Some(status) = sending.join_next().await {
            *statuses.entry(status.expect("delivery task")).or_default() += 1;
        }
        if (n + 1) % 10 == 0 || (n + 1) * 10 >= deliveries.len() {
            queued.extend(harness.ports.jobs.pending());
            for outcome in harness.run_queued().await {
                updated += outcome.record.counts.updated;
            }
        }
    }

    // A copy that races the first delivery of its event (both read the log before either is
    // recorded) is answered 202 too; the queue drops its job, as SQS FIFO does.
    let accepted = statuses.get(&202).copied().unwrap_or(0);
    let duplicates = statuses.get(&200).copied().unwrap_or(0);
    assert!(accepted >= 334, "{statuses:?}");
    assert_eq!(accepted + duplicates, 1_002, "{statuses:?}");
    assert_eq!(queued.len(), 334, "one job per distinct event, none lost");
    let mut jobs_per_person: BTreeMap<u64, usize> = BTreeMap::new();
    for job in &queued {
        match &job.target {
            JobTarget::Person { person } => {
                *jobs_per_person.entry(person.id.get()).or_default() += 1
            }
            JobTarget::Everyone => panic!("a person event queued a full run"),
        }
    }
    assert_eq!(jobs_per_person.len(), PEOPLE);
    for (id, title) in &latest {
        let user = harness.user(*id).await.expect("user");
        assert_eq!(
            user.fields.text("title").as_ref(),
            Some(title),
            "person {id}"
        );
    }
    // Each person's first run writes the latest title; later runs find nothing to change.
    assert_eq!(updated, PEOPLE);
    assert_eq!(harness.directory.writes() - writes_before, PEOPLE as u64);
}
