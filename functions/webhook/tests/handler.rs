//! Every answer of the webhook handler over real HTTP on 127.0.0.1: bad input gets the right 4xx
//! and queues nothing; good deliveries queue the run their event asks for, once.

mod support;

use serde_json::json;
use support::*;
use sync_core::config::TenantConfig;
use sync_core::history::Trigger;
use sync_core::ports::{EventLog, JobTarget};

const JSON: &str = "application/json";

/// A harness with a second tenant, `globex`, whose token is `globex-token`.
async fn two_tenants() -> Harness {
    let harness = Harness::start(3).await;
    let globex: TenantConfig = config("globex", &harness.fake.url(), &harness.path().join("g"));
    harness.ports.configs.insert(globex);
    harness
        .ports
        .secrets
        .set_webhook(&tenant("globex"), "globex-token");
    harness
}

fn person_updated(id: u64) -> String {
    envelope("person.updated", json!({"id": id.to_string()}))
}

/// Nothing queued and no delivery remembered.
fn assert_nothing_happened(harness: &Harness) {
    assert!(harness.ports.jobs.pending().is_empty());
    let events = harness.ports.store.events_dir(&tenant(TENANT));
    let remembered = std::fs::read_dir(events).map_or(0, |dir| dir.count());
    assert_eq!(
        remembered, 0,
        "no fingerprint may be recorded for bad input"
    );
}

#[tokio::test]
async fn a_person_update_queues_one_person_run() {
    let harness = Harness::start(3).await;
    let (status, body) = deliver(&harness.url(), Some(TOKEN), JSON, person_updated(1042)).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body, json!({"status": "queued_person"}));
    let jobs = harness.ports.jobs.pending();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].tenant, tenant(TENANT));
    assert_eq!(jobs[0].target, JobTarget::Person { person: key(1042) });
    assert_eq!(
        jobs[0].trigger,
        Trigger::Webhook {
            event: "person.updated".to_owned()
        }
    );
    assert!(!jobs[0].dry_run);
}

#[tokio::test]
async fn a_redelivered_body_is_acknowledged_as_a_duplicate_and_queues_nothing_more() {
    let harness = Harness::start(3).await;
    let body = person_updated(1042);
    assert_eq!(
        deliver(&harness.url(), Some(TOKEN), JSON, body.clone())
            .await
            .0,
        202
    );
    let (status, answer) = deliver(&harness.url(), Some(TOKEN), JSON, body).await;
    assert_eq!((status, answer), (200, json!({"status": "duplicate"})));
    assert_eq!(harness.ports.jobs.pending().len(), 1);
}

#[tokio::test]
async fn a_ping_is_acknowledged_and_queues_nothing() {
    let harness = Harness::start(3).await;
    let (status, body) = deliver(
        &harness.url(),
        Some(TOKEN),
        JSON,
        envelope("ping", json!({})),
    )
    .await;
    assert_eq!((status, body), (200, json!({"status": "pong"})));
    assert_nothing_happened(&harness);
}

#[tokio::test]
async fn unknown_tenants_and_every_bad_token_get_the_same_401() {
    let harness = two_tenants().await;
    let body = person_updated(1);
    let acme = harness.url();
    let cases = [
        ("missing token", acme.clone(), None),
        ("wrong token", acme.clone(), Some("not-the-token")),
        (
            "token with a prefix",
            acme.clone(),
            Some(&*format!("Bearer {TOKEN}")),
        ),
        ("another tenant's token", acme.clone(), Some("globex-token")),
        (
            "unknown tenant",
            format!("{}nobody", harness.receiver),
            Some(TOKEN),
        ),
        (
            "malformed tenant id",
            format!("{}Not_A..Tenant", harness.receiver),
            Some(TOKEN),
        ),
    ]
    .map(|(case, url, token)| (case, url, token.map(str::to_owned)));
    let mut answers = Vec::new();
    for (case, url, token) in cases {
        let (status, answer) = deliver(&url, token.as_deref(), JSON, body.clone()).await;
        assert_eq!(status, 401, "{case}");
        answers.push(answer);
    }
    assert!(
        answers.windows(2).all(|pair| pair[0] == pair[1]),
        "{answers:?}"
    );
    assert_eq!(answers[0], json!({"error": "unauthorized"}));
    assert_nothing_happened(&harness);
    // Globex's own token still works for globex.
    let globex = format!("{}globex", harness.receiver);
    assert_eq!(
        deliver(&globex, Some("globex-token"), JSON, body).await.0,
        202
    );
}

#[tokio::test]
async fn a_tenant_without_a_webhook_secret_is_refused_like_an_unknown_one() {
    let harness = Harness::start(3).await;
    let lonely = config("lonely", &harness.fake.url(), &harness.path().join("l"));
    harness.ports.configs.insert(lonely);
    let url = format!("{}lonely", harness.receiver);
    let (status, body) = deliver(&url, Some(TOKEN), JSON, person_updated(1)).await;
    assert_eq!((status, body), (401, json!({"error": "unauthorized"})));
}

#[tokio::test]
async fn a_secret_without_a_tenant_config_is_refused_like_an_unknown_tenant() {
    let harness = Harness::start(3).await;
    harness
        .ports
        .secrets
        .set_webhook(&tenant("ghost"), "{\"token\": 42}");
    let url = format!("{}ghost", harness.receiver);
    let (status, body) = deliver(&url, Some(TOKEN), JSON, person_updated(1)).await;
    assert_eq!((status, body), (401, json!({"error": "unauthorized"})));
}

#[tokio::test]
async fn another_companys_event_is_refused() {
    let harness = Harness::start(3).await;
    let body = json!({
        "company_id": "11111", "event_name": "person.updated",
        "occurred_at": "2026-11-23T12:00:00Z", "payload": {"id": 1}, "meta": {},
    });
    let (status, answer) = deliver(&harness.url(), Some(TOKEN), JSON, body.to_string()).await;
    assert_eq!(
        (status, answer),
        (400, json!({"error": "company_mismatch"}))
    );
    assert_nothing_happened(&harness);
}

#[tokio::test]
async fn malformed_json_and_incomplete_envelopes_are_refused() {
    let harness = Harness::start(3).await;
    let bodies = [
        "{\"company_id\": ".to_owned(),
        "[]".to_owned(),
        json!({"event_name": "person.updated", "occurred_at": "x", "payload": {}}).to_string(),
        json!({"company_id": COMPANY, "occurred_at": "x", "payload": {}}).to_string(),
        json!({"company_id": COMPANY, "event_name": "person.updated", "payload": {}}).to_string(),
        json!({"company_id": COMPANY, "event_name": "person.updated", "occurred_at": "x"})
            .to_string(),
    ];
    for body in bodies {
        let (status, answer) = deliver(&harness.url(), Some(TOKEN), JSON, body.clone()).await;
        assert_eq!(
            (status, answer),
            (400, json!({"error": "malformed_envelope"})),
            "{body}"
        );
    }
    assert_nothing_happened(&harness);
}

#[tokio::test]
async fn an_undocumented_event_is_accepted_and_ignored_so_personio_does_not_retry_it() {
    // A 4xx makes Personio deliver again for three days and may disable the webhook; an event
    // Personio added after our catalog deserves neither.
    let harness = Harness::start(3).await;
    let body = envelope("person.teleported", json!({"id": 1}));
    let (status, answer) = deliver(&harness.url(), Some(TOKEN), JSON, body).await;
    assert_eq!(
        (status, answer),
        (202, json!({"status": "ignored_unknown_event"}))
    );
    assert_nothing_happened(&harness);
}

#[tokio::test]
async fn a_body_over_64_kib_is_refused_before_anything_reads_it() {
    let harness = Harness::start(3).await;
    let huge = vec![b'x'; 64 * 1024 + 1];
    // Without a token and with a wrong type: the size is checked first.
    let (status, answer) = deliver(&harness.url(), None, "text/plain", huge).await;
    assert_eq!(
        (status, answer),
        (413, json!({"error": "payload_too_large"}))
    );
    let padded = envelope(
        "person.updated",
        json!({"id": 1, "pad": "y".repeat(64 * 1024)}),
    );
    assert_eq!(
        deliver(&harness.url(), Some(TOKEN), JSON, padded).await.0,
        413
    );
    assert_nothing_happened(&harness);
}

#[tokio::test]
async fn only_json_content_is_accepted_with_or_without_a_charset() {
    let harness = Harness::start(3).await;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/jsonp",
    ] {
        let (status, answer) =
            deliver(&harness.url(), Some(TOKEN), content_type, person_updated(1)).await;
        assert_eq!(
            (status, answer),
            (415, json!({"error": "unsupported_media_type"}))
        );
    }
    assert_nothing_happened(&harness);
    let charset = "application/json; charset=utf-8";
    assert_eq!(
        deliver(&harness.url(), Some(TOKEN), charset, person_updated(1))
            .await
            .0,
        202
    );
}

#[tokio::test]
async fn a_person_event_without_a_usable_id_queues_one_debounced_full_run() {
    let harness = Harness::start(3).await;
    for payload in [
        json!({}),
        json!({"id": "n/a"}),
        json!({"person": {"name": "x"}}),
    ] {
        let body = envelope("person.updated", payload);
        let (status, answer) = deliver(&harness.url(), Some(TOKEN), JSON, body).await;
        assert_eq!(
            (status, answer),
            (202, json!({"status": "queued_full_run"}))
        );
    }
    let body = envelope("absence-period.created", json!({"id": 5}));
    assert_eq!(
        deliver(&harness.url(), Some(TOKEN), JSON, body).await.0,
        202
    );
    // Four distinct deliveries while the first full run has not started collapse into one.
    let jobs = harness.ports.jobs.pending();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].target, JobTarget::Everyone);
}

#[tokio::test]
async fn employment_events_use_the_person_id_never_the_employment_id() {
    let harness = Harness::start(3).await;
    let with_person = envelope("employment.updated", json!({"id": 9, "person_id": 1042}));
    assert_eq!(
        deliver(&harness.url(), Some(TOKEN), JSON, with_person)
            .await
            .0,
        202
    );
    let employment_only = envelope("employment.started", json!({"id": 9}));
    assert_eq!(
        deliver(&harness.url(), Some(TOKEN), JSON, employment_only)
            .await
            .0,
        202
    );
    let targets: Vec<JobTarget> = harness
        .ports
        .jobs
        .pending()
        .into_iter()
        .map(|j| j.target)
        .collect();
    assert_eq!(
        targets,
        [JobTarget::Person { person: key(1042) }, JobTarget::Everyone]
    );
}

#[tokio::test]
async fn a_deleted_person_gets_a_one_person_run() {
    let harness = Harness::start(3).await;
    let body = envelope("person.deleted", json!({"id": 77}));
    assert_eq!(
        deliver(&harness.url(), Some(TOKEN), JSON, body).await.0,
        202
    );
    assert_eq!(
        harness.ports.jobs.pending()[0].target,
        JobTarget::Person { person: key(77) }
    );
}

#[tokio::test]
async fn a_queue_outage_is_a_503_so_personio_retries() {
    let harness = Harness::start(3).await;
    harness.ports.jobs.set_broken(true);
    let (status, answer) = deliver(&harness.url(), Some(TOKEN), JSON, person_updated(1)).await;
    assert_eq!(
        (status, answer),
        (503, json!({"error": "temporarily_unavailable"}))
    );
}

#[tokio::test]
async fn a_full_run_that_could_not_be_queued_leaves_no_pending_mark_behind() {
    let harness = Harness::start(3).await;
    harness.ports.jobs.set_broken(true);
    let first = envelope("absence-period.created", json!({"id": 1}));
    assert_eq!(
        deliver(&harness.url(), Some(TOKEN), JSON, first).await.0,
        503
    );

    // Had the mark stayed, this event would wait for a run that was never queued.
    harness.ports.jobs.set_broken(false);
    let second = envelope("absence-period.created", json!({"id": 2}));
    assert_eq!(
        deliver(&harness.url(), Some(TOKEN), JSON, second).await,
        (202, json!({"status": "queued_full_run"}))
    );
    let jobs = harness.ports.jobs.pending();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].target, JobTarget::Everyone);
}

#[tokio::test]
async fn an_unusable_stored_secret_is_refused_as_any_token_not_answered_with_a_5xx() {
    let harness = Harness::start(3).await;
    harness
        .ports
        .secrets
        .set_webhook(&tenant(TENANT), "{\"token\": 42}");
    let (status, answer) = deliver(&harness.url(), Some(TOKEN), JSON, person_updated(1)).await;
    assert_eq!((status, answer), (401, json!({"error": "unauthorized"})));
    assert_nothing_happened(&harness);
}

#[tokio::test]
async fn deliveries_for_a_missing_tenant_or_secret_ask_the_secret_store_once_a_minute() {
    let harness = Harness::start(3).await;
    let nobody = format!("{}nobody", harness.receiver);
    for _ in 0..20 {
        let (status, answer) = deliver(&nobody, Some(TOKEN), JSON, person_updated(1)).await;
        assert_eq!((status, answer), (401, json!({"error": "unauthorized"})));
    }
    assert_eq!(harness.ports.secrets.webhook_reads(), 1);

    // A tenant with a config but no webhook secret yet: the same.
    let bare = config("bare", &harness.fake.url(), &harness.path().join("b"));
    harness.ports.configs.insert(bare);
    let bare_url = format!("{}bare", harness.receiver);
    for _ in 0..20 {
        let (status, _) = deliver(&bare_url, Some("bare-token"), JSON, person_updated(1)).await;
        assert_eq!(status, 401);
    }
    assert_eq!(harness.ports.secrets.webhook_reads(), 2);

    // Created since: `nobody` is looked at again at once (its config exists now).
    let nobody_config = config("nobody", &harness.fake.url(), &harness.path().join("n"));
    harness.ports.configs.insert(nobody_config);
    harness
        .ports
        .secrets
        .set_webhook(&tenant("nobody"), "nobody-token");
    let (status, _) = deliver(&nobody, Some("nobody-token"), JSON, person_updated(1)).await;
    assert_eq!(status, 202);
    // Given its secret: believed missing for up to `MISS_TTL` (the `misses` unit tests), so
    // refused meanwhile; Personio retries.
    harness
        .ports
        .secrets
        .set_webhook(&tenant("bare"), "bare-token");
    let (status, _) = deliver(&bare_url, Some("bare-token"), JSON, person_updated(1)).await;
    assert_eq!(status, 401);
    assert_eq!(
        harness.ports.secrets.webhook_reads(),
        3,
        "nobody's second look"
    );
}

#[tokio::test]
async fn during_a_rotation_the_previous_token_is_still_accepted() {
    let harness = Harness::start(3).await;
    harness.ports.secrets.set_webhook(
        &tenant(TENANT),
        &format!(
            r#"{{"token": "new-token", "previous_token": "{TOKEN}", "company_id": {COMPANY}}}"#
        ),
    );
    assert_eq!(
        deliver(&harness.url(), Some(TOKEN), JSON, person_updated(1))
            .await
            .0,
        202
    );
    assert_eq!(
        deliver(&harness.url(), Some("new-token"), JSON, person_updated(2))
            .await
            .0,
        202
    );
    assert_eq!(
        deliver(&harness.url(), Some("older"), JSON, person_updated(3))
            .await
            .0,
        401
    );
}

#[tokio::test]
async fn a_bare_token_secret_accepts_any_company() {
    let harness = Harness::start(3).await;
    harness.ports.secrets.set_webhook(&tenant(TENANT), TOKEN);
    let body = json!({
        "company_id": 5, "event_name": "person.created",
        "occurred_at": "2026-11-23T12:00:00Z", "payload": {"person_id": 3},
    });
    let (status, _) = deliver(&harness.url(), Some(TOKEN), JSON, body.to_string()).await;
    assert_eq!(status, 202);
    assert_eq!(
        harness.ports.jobs.pending()[0].target,
        JobTarget::Person { person: key(3) }
    );
}

#[tokio::test]
async fn the_delivery_is_remembered_by_the_sha256_of_its_body_for_72_hours() {
    let harness = Harness::start(3).await;
    let body = person_updated(5);
    let before = chrono::Utc::now();
    assert_eq!(
        deliver(&harness.url(), Some(TOKEN), JSON, body.clone())
            .await
            .0,
        202
    );
    let fingerprint: String = {
        use sha2::Digest;
        sha2::Sha256::digest(body.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let marker = harness
        .ports
        .store
        .event_path(&tenant(TENANT), &fingerprint);
    let marker: serde_json::Value =
        serde_json::from_slice(&std::fs::read(marker).expect("the marker exists")).unwrap();
    let expires: chrono::DateTime<chrono::Utc> =
        marker["expires_at"].as_str().unwrap().parse().unwrap();
    let remembered = expires - before;
    assert!(
        remembered >= chrono::Duration::hours(72)
            && remembered < chrono::Duration::hours(72) + chrono::Duration::minutes(1),
        "{remembered}"
    );
    let seen = harness
        .ports
        .store
        .first_seen(&tenant(TENANT), &fingerprint, expires)
        .await
        .unwrap();
    assert!(!seen);
}
