//! [`AwsProxy`]: a reverse proxy on 127.0.0.1 in front of moto that counts every AWS call the real
//! adapters send through it, by service, operation and tenant, and prices DynamoDB's in request
//! units ([`super::dynamo_units`]). A stack's clients reach it by being built with the proxy as
//! their endpoint (`Stack::deps_of`), so what is counted is what the Lambdas' own clients send.
//!
//! The operation is the `X-Amz-Target` header of the JSON protocols (DynamoDB, SQS, Secrets
//! Manager) or the `Action` of a query-protocol form (SES). The tenant is the first `TENANT#<id>`
//! key or `personio-sync/<id>/` secret name in the request; calls naming none (the schedule
//! index, the queue) count under no tenant.

use super::dynamo_units::{item_size, items_of, read_units, value_size, write_units};
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::Router;
use serde_json::Value;
use std::collections::BTreeMap;
use std::ops::AddAssign;
use std::sync::{Arc, Mutex};

/// What a set of calls cost.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tally {
    /// Requests.
    pub calls: u64,
    /// Items read or written (DynamoDB), entries (batches), else 0.
    pub items: u64,
    /// Read request units (DynamoDB), eventually consistent reads at half.
    pub read_units: f64,
    /// The part of `read_units` read eventually consistent.
    pub eventual_read_units: f64,
    /// Write request units (DynamoDB).
    pub write_units: f64,
    /// Item bytes read or written (DynamoDB).
    pub bytes: u64,
}

impl AddAssign for Tally {
    fn add_assign(&mut self, other: Self) {
        self.calls += other.calls;
        self.items += other.items;
        self.read_units += other.read_units;
        self.eventual_read_units += other.eventual_read_units;
        self.write_units += other.write_units;
        self.bytes += other.bytes;
    }
}

/// (tenant, `service:Operation`).
pub type Key = (Option<String>, String);

struct Shared {
    upstream: String,
    http: reqwest::Client,
    tallies: Mutex<BTreeMap<Key, Tally>>,
}

/// A counting proxy to moto.
pub struct AwsProxy {
    /// `http://127.0.0.1:PORT`: the endpoint to build clients with.
    pub url: String,
    shared: Arc<Shared>,
}

impl AwsProxy {
    /// Starts a proxy to `upstream` (moto's URL) in this test's runtime.
    pub async fn start(upstream: &str) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            tallies: Mutex::new(BTreeMap::new()),
        });
        let router = Router::new()
            .fallback(forward)
            .with_state(Arc::clone(&shared));
        let url = super::serve(router).await;
        Self { url, shared }
    }

    /// Everything counted since the last `take`, and a fresh start.
    pub fn take(&self) -> BTreeMap<Key, Tally> {
        std::mem::take(&mut *self.shared.tallies.lock().expect("tallies lock"))
    }
}

async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_default();
    let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let operation = operation(parts.headers.get("x-amz-target"), &body);
    let mut upstream = shared
        .http
        .request(parts.method.clone(), format!("{}{path}", shared.upstream))
        .body(body.clone());
    for (name, value) in &parts.headers {
        if name != header::HOST && name != header::CONTENT_LENGTH {
            upstream = upstream.header(name, value);
        }
    }
    let Ok(answer) = upstream.send().await else {
        return bad_gateway();
    };
    let status = answer.status();
    let mut response = Response::builder().status(status);
    for (name, value) in answer.headers() {
        if name != header::TRANSFER_ENCODING && name != header::CONTENT_LENGTH {
            response = response.header(name, value);
        }
    }
    let answered = answer.bytes().await.unwrap_or_default();
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let tally = if status.is_success() && operation.starts_with("dynamodb:") {
        let answer: Value = serde_json::from_slice(&answered).unwrap_or(Value::Null);
        price(&operation["dynamodb:".len()..], &request, &answer)
    } else {
        // A batch's entries (`SendMessageBatch`, `DeleteMessageBatch`).
        let entries = request["Entries"].as_array().map_or(0, Vec::len);
        Tally {
            items: entries as u64,
            ..Tally::default()
        }
    };
    let tally = if request["ConsistentRead"].as_bool() == Some(true) {
        tally
    } else {
        Tally {
            eventual_read_units: tally.read_units,
            ..tally
        }
    };
    let key = (tenant_in(&request), operation);
    *shared
        .tallies
        .lock()
        .expect("tallies lock")
        .entry(key)
        .or_default() += Tally { calls: 1, ..tally };
    response
        .body(Body::from(answered))
        .unwrap_or_else(|_| bad_gateway())
}

/// `service:Operation` of a request.
fn operation(target: Option<&axum::http::HeaderValue>, body: &[u8]) -> String {
    if let Some((prefix, action)) = target
        .and_then(|value| value.to_str().ok())
        .and_then(|target| target.split_once('.'))
    {
        let service = match prefix {
            "DynamoDB_20120810" => "dynamodb",
            "AmazonSQS" => "sqs",
            "secretsmanager" => "secretsmanager",
            other => other,
        };
        return format!("{service}:{action}");
    }
    // The query protocol (SES): `Action=SendRawEmail&Version=2010-12-01&…`.
    let form = String::from_utf8_lossy(body);
    let field = |name: &str| {
        form.split('&')
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .map(str::to_owned)
    };
    match (field("Action"), field("Version").as_deref()) {
        (Some(action), Some("2010-12-01")) => format!("ses:{action}"),
        (Some(action), _) => format!("query:{action}"),
        (None, _) => "other".to_owned(),
    }
}

/// The first tenant a request names: a `TENANT#<id>` key or a `personio-sync/<id>/` secret.
fn tenant_in(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => {
            let rest = text
                .strip_prefix("TENANT#")
                .or_else(|| text.strip_prefix("personio-sync/"))?;
            let id = rest.split(['#', '/']).next().unwrap_or_default();
            (!id.is_empty()).then(|| id.to_owned())
        }
        Value::Array(items) => items.iter().find_map(tenant_in),
        Value::Object(map) => map.values().find_map(tenant_in),
        _ => None,
    }
}

/// Units, items and bytes of one successful DynamoDB call (see `dynamo_units` for the rules and
/// what is priced low).
fn price(action: &str, request: &Value, answer: &Value) -> Tally {
    let consistent = request["ConsistentRead"].as_bool().unwrap_or(false);
    let write = |bytes: u64, factor: f64| Tally {
        items: 1,
        write_units: write_units(bytes) * factor,
        bytes,
        ..Tally::default()
    };
    match action {
        "GetItem" => match answer["Item"].as_object() {
            Some(item) => {
                let bytes = item_size(item);
                Tally {
                    items: 1,
                    read_units: read_units(bytes, consistent),
                    bytes,
                    ..Tally::default()
                }
            }
            None => Tally {
                read_units: read_units(0, consistent),
                ..Tally::default()
            },
        },
        "Query" | "Scan" => {
            let sizes: Vec<u64> = items_of(answer.get("Items")).map(item_size).collect();
            let bytes = sizes.iter().sum();
            Tally {
                items: sizes.len() as u64,
                read_units: read_units(bytes, consistent),
                bytes,
                ..Tally::default()
            }
        }
        "BatchGetItem" => {
            let mut tally = Tally::default();
            for (table, items) in answer["Responses"].as_object().into_iter().flatten() {
                let consistent = request["RequestItems"][table]["ConsistentRead"]
                    .as_bool()
                    .unwrap_or(false);
                for item in items_of(Some(items)) {
                    let bytes = item_size(item);
                    tally += Tally {
                        items: 1,
                        read_units: read_units(bytes, consistent),
                        bytes,
                        ..Tally::default()
                    };
                }
            }
            tally
        }
        "PutItem" => write(request["Item"].as_object().map_or(0, item_size), 1.0),
        "DeleteItem" => write(0, 1.0),
        "UpdateItem" => {
            let key = request["Key"].as_object().map_or(0, item_size);
            let values: u64 = request["ExpressionAttributeValues"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(_, value)| value_size(value))
                .sum();
            write(key + values, 1.0)
        }
        "BatchWriteItem" => {
            let mut tally = Tally::default();
            for requests in request["RequestItems"].as_object().into_iter().flatten() {
                for entry in requests.1.as_array().into_iter().flatten() {
                    let bytes = entry["PutRequest"]["Item"].as_object().map_or(0, item_size);
                    tally += write(bytes, 1.0);
                }
            }
            tally
        }
        "TransactWriteItems" => {
            let mut tally = Tally::default();
            for entry in request["TransactItems"].as_array().into_iter().flatten() {
                let bytes = entry["Put"]["Item"].as_object().map_or(0, item_size);
                tally += write(bytes, 2.0);
            }
            tally
        }
        _ => Tally::default(),
    }
}

fn bad_gateway() -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_tenant_is_found_in_keys_and_secret_names() {
        let query = json!({"ExpressionAttributeValues": {":pk": {"S": "TENANT#t-1#x"}}});
        assert_eq!(tenant_in(&query).as_deref(), Some("t-1"));
        let secret = json!({"SecretId": "personio-sync/t-2/personio/main"});
        assert_eq!(tenant_in(&secret).as_deref(), Some("t-2"));
        assert_eq!(tenant_in(&json!({"QueueUrl": "http://q"})), None);
    }

    #[test]
    fn transactions_cost_twice() {
        let request = json!({"TransactItems": [
            {"Put": {"Item": {"pk": {"S": "SCHEDULE"}}}},
            {"Delete": {"Key": {"pk": {"S": "SCHEDULE"}}}}
        ]});
        let tally = price("TransactWriteItems", &request, &Value::Null);
        assert_eq!((tally.items, tally.write_units), (2, 4.0));
    }
}
