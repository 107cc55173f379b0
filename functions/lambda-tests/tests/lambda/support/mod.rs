//! Test support: one test's stack on moto (`test_support::moto`) ([`stack`]), tenants onboarded
//! with a fake Personio and a real destination ([`tenant`]), a counting proxy to scim2-server
//! ([`scim_proxy`]), the table read past the store ([`dynamo`]), a function's settings from
//! `template.yaml` ([`template`]) and an endpoint that never answers ([`hung`]). For the tenant
//! simulation: a counting proxy to moto that prices DynamoDB calls ([`aws_proxy`],
//! [`dynamo_units`]), HR changes ([`churn`]), the schedule index in a table of its own
//! ([`split_schedule`]), concurrent worker instances ([`worker_pool`]) and the report
//! ([`sim_report`], [`markdown`]); the simulated tenants and their checks ([`sim_tenants`]).
//!
//! Every test builds its own [`stack::Stack`] (table, queue, sender) and its own tenants (ids,
//! admins, SCIM tenant paths), so tests run in parallel on one moto and one scim2-server.

#![allow(dead_code)] // Each test uses a different part of the support.

pub mod aws_proxy;
pub mod churn;
pub mod dynamo;
pub mod dynamo_units;
pub mod hung;
pub mod markdown;
pub mod scim_proxy;
pub mod sim_report;
pub mod sim_tenants;
pub mod split_schedule;
pub mod stack;
pub mod template;
pub mod tenant;
pub mod worker_pool;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::Value;
use std::collections::BTreeMap;
use tenant::Tenant;

/// Serves `app` on a free port of 127.0.0.1 in this test's runtime; its `http://` URL.
pub async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// The moment of a test's scheduler tick: now, to the second.
pub fn tick_time() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// The event EventBridge sends the scheduler for its `rate(5 minutes)` rule at `time`.
pub fn scheduled_event(time: DateTime<Utc>) -> EventBridgeEvent {
    let json = serde_json::json!({
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "region": stack::REGION,
        "resources": ["arn:aws:events:eu-central-1:123456789012:rule/personio-sync-schedule"],
        "detail": {}
    });
    serde_json::from_value(json).expect("an EventBridge scheduled event")
}

/// A tenant's app as content: each user by external id, with the app's own ids and timestamps
/// left out and references to other users (the manager) written as their external ids; and each
/// group with its members' external ids. Two tenants synced from one company compare equal.
pub async fn app_content(
    tenant: &Tenant,
) -> (BTreeMap<String, Value>, BTreeMap<String, Vec<String>>) {
    let users = tenant.users().await;
    let external: BTreeMap<String, String> = users
        .iter()
        .map(|user| {
            (
                user.id.clone(),
                user.external_id.clone().unwrap_or_default(),
            )
        })
        .collect();
    let content = users
        .iter()
        .map(|user| {
            let key = user
                .external_id
                .clone()
                .unwrap_or_else(|| format!("? {}", user.id));
            (key, neutral(&user.body, &external))
        })
        .collect();
    let groups = tenant
        .groups()
        .await
        .into_iter()
        .map(|(name, members)| (name, members.into_iter().collect()))
        .collect();
    (content, groups)
}

/// `value` without `id`, `meta` and `$ref`, with user ids replaced by external ids.
fn neutral(value: &Value, external: &BTreeMap<String, String>) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, _)| !matches!(key.as_str(), "id" | "meta" | "$ref"))
                .map(|(key, value)| (key.clone(), neutral(value, external)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| neutral(v, external)).collect()),
        Value::String(text) => match external.get(text) {
            Some(external_id) => Value::String(format!("user {external_id}")),
            None => value.clone(),
        },
        _ => value.clone(),
    }
}
