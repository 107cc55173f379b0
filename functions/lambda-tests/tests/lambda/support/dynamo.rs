//! The table as it is, read and changed with plain DynamoDB calls past the store (to see which
//! items exist, or to lose some as a crash would), and the DynamoDB writes moto's recorder saw.

use super::stack::Stack;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;
use std::collections::HashMap;
use sync_core::ids::{PersonKey, TenantId};

/// The sort keys of `tenant`'s items that start with `prefix`, in key order.
pub async fn sort_keys(stack: &Stack, tenant: &TenantId, prefix: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut start: Option<HashMap<String, AttributeValue>> = None;
    loop {
        let page = stack
            .deps
            .clients
            .dynamodb
            .query()
            .table_name(stack.deps.store.table_name())
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(format!("TENANT#{tenant}")))
            .expression_attribute_values(":prefix", AttributeValue::S(prefix.to_owned()))
            .consistent_read(true)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .expect("query the table");
        keys.extend(
            page.items()
                .iter()
                .filter_map(|item| item.get("sk")?.as_s().ok().cloned()),
        );
        match page.last_evaluated_key {
            Some(last) if !last.is_empty() => start = Some(last),
            _ => return keys,
        }
    }
}

/// Deletes `tenant`'s link of `person`, as if the run that wrote the user had crashed before
/// saving it.
pub async fn lose_link(stack: &Stack, tenant: &TenantId, person: &PersonKey) {
    stack
        .deps
        .clients
        .dynamodb
        .delete_item()
        .table_name(stack.deps.store.table_name())
        .key("pk", AttributeValue::S(format!("TENANT#{tenant}")))
        .key(
            "sk",
            AttributeValue::S(format!("LINK#{}#{}", person.account, person.id)),
        )
        .send()
        .await
        .expect("delete a link item");
}

/// One item write a recorded DynamoDB request made.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ItemWrite {
    /// The API operation (`PutItem`, `BatchWriteItem`, …) and, inside batches and
    /// transactions, the kind of write (`PutItem/Put`).
    pub operation: String,
    /// The table.
    pub table: String,
    /// The item's partition key.
    pub pk: String,
    /// The item's sort key.
    pub sk: String,
}

impl std::fmt::Display for ItemWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} / {}", self.operation, self.pk, self.sk)
    }
}

/// Operations that change items.
const WRITES: [&str; 5] = [
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
];

/// Every item write among `recording` (moto's recorder, one JSON object per request), and the
/// names of every DynamoDB operation seen, reads included, in order.
pub fn item_writes(recording: &[Value]) -> (Vec<ItemWrite>, Vec<String>) {
    let mut writes = Vec::new();
    let mut operations = Vec::new();
    for request in recording {
        let target = request["headers"]
            .as_object()
            .and_then(|headers| {
                headers
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case("x-amz-target"))
            })
            .and_then(|(_, value)| value.as_str())
            .unwrap_or_default();
        let Some(operation) = target.strip_prefix("DynamoDB_20120810.") else {
            continue;
        };
        operations.push(operation.to_owned());
        if !WRITES.contains(&operation) {
            continue;
        }
        let body = body_of(request);
        let item_write = |kind: &str, table: &str, keys: &Value| ItemWrite {
            operation: kind.to_owned(),
            table: table.to_owned(),
            pk: keys["pk"]["S"].as_str().unwrap_or("?").to_owned(),
            sk: keys["sk"]["S"].as_str().unwrap_or("?").to_owned(),
        };
        let table = body["TableName"].as_str().unwrap_or_default();
        match operation {
            "PutItem" => writes.push(item_write(operation, table, &body["Item"])),
            "UpdateItem" | "DeleteItem" => writes.push(item_write(operation, table, &body["Key"])),
            "BatchWriteItem" => {
                for (table, requests) in body["RequestItems"].as_object().into_iter().flatten() {
                    for request in requests.as_array().into_iter().flatten() {
                        if let Some(put) = request.get("PutRequest") {
                            writes.push(item_write("BatchWriteItem/Put", table, &put["Item"]));
                        }
                        if let Some(delete) = request.get("DeleteRequest") {
                            writes.push(item_write("BatchWriteItem/Delete", table, &delete["Key"]));
                        }
                    }
                }
            }
            _ => {
                for item in body["TransactItems"].as_array().into_iter().flatten() {
                    for (kind, keys) in [("Put", "Item"), ("Update", "Key"), ("Delete", "Key")] {
                        if let Some(write) = item.get(kind) {
                            let table = write["TableName"].as_str().unwrap_or_default();
                            let kind = format!("TransactWriteItems/{kind}");
                            writes.push(item_write(&kind, table, &write[keys]));
                        }
                    }
                }
            }
        }
    }
    (writes, operations)
}

/// The JSON body of a recorded request (the recorder base64-encodes bytes).
fn body_of(request: &Value) -> Value {
    let body = request["body"].as_str().unwrap_or_default();
    let text = if request["body_encoded"].as_bool().unwrap_or(false) {
        String::from_utf8(test_support::mail::decode_base64(body)).unwrap_or_default()
    } else {
        body.to_owned()
    };
    serde_json::from_str(&text).unwrap_or(Value::Null)
}
