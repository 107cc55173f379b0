//! The stack's IAM policies allow every DynamoDB operation the store makes, and the S3 calls of
//! the picture adapter. moto does not check IAM, so no other test would notice a call the
//! deployed functions are denied (the held-run claim added `UpdateItem`).

use std::collections::BTreeSet;
use std::path::Path;

/// The SDK's operation builders and the IAM action each needs. `TransactWriteItems` is
/// authorised per item (as `PutItem`/`DeleteItem`), so it adds no action of its own.
const OPERATIONS: [(&str, &str); 6] = [
    (".get_item()", "dynamodb:GetItem"),
    (".put_item()", "dynamodb:PutItem"),
    (".delete_item()", "dynamodb:DeleteItem"),
    (".update_item()", "dynamodb:UpdateItem"),
    (".query()", "dynamodb:Query"),
    (".batch_write_item()", "dynamodb:BatchWriteItem"),
];

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .expect("the workspace root")
}

/// The IAM actions the DynamoDB store's code needs.
fn actions_in_code() -> BTreeSet<&'static str> {
    let dir = workspace().join("functions/aws/src/dynamo");
    let mut code = String::new();
    for entry in std::fs::read_dir(&dir).expect("the dynamo sources") {
        let path = entry.expect("an entry").path();
        code.push_str(&std::fs::read_to_string(&path).expect("a source file"));
    }
    OPERATIONS
        .iter()
        .filter(|(call, _)| code.contains(call))
        .map(|(_, action)| *action)
        .collect()
}

/// The lines of resource `name` in template.yaml, up to the next top-level resource.
fn resource(template: &str, name: &str) -> String {
    let header = format!("  {name}:");
    let mut lines = template.lines().skip_while(|line| *line != header);
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("{name} in template.yaml"));
    let is_resource = |line: &str| {
        line.strip_prefix("  ")
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
    };
    std::iter::once(first)
        .chain(lines.take_while(|line| !is_resource(line)))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_worker_and_the_admin_api_may_make_every_dynamodb_call_the_store_makes() {
    let template = std::fs::read_to_string(workspace().join("template.yaml")).expect("template");
    let needed = actions_in_code();
    assert!(needed.contains("dynamodb:UpdateItem"), "{needed:?}");
    for function in ["WorkerFunction", "AdminFunction"] {
        let policy = resource(&template, function);
        let missing: Vec<_> = needed
            .iter()
            .filter(|action| !policy.contains(*action))
            .collect();
        assert!(
            missing.is_empty(),
            "{function} is not allowed {missing:?}, which the store calls"
        );
    }
}

/// The webhook's event log reads and writes marks (`GetItem`, `PutItem`) and reads the config
/// (`GetItem`); it deletes nothing since a delivery is recorded only after its run is queued.
#[test]
fn the_webhook_may_read_and_write_its_marks_and_nothing_more() {
    let template = std::fs::read_to_string(workspace().join("template.yaml")).expect("template");
    let policy = resource(&template, "WebhookFunction");
    let handler = std::fs::read_to_string(workspace().join("functions/webhook/src/handler.rs"))
        .expect("the webhook handler's source");
    assert!(
        !handler.contains(".forget(") && !handler.contains("clear_full_run_pending"),
        "the webhook removes a mark: it needs dynamodb:DeleteItem again"
    );
    for action in ["dynamodb:GetItem", "dynamodb:PutItem"] {
        assert!(policy.contains(action), "WebhookFunction lacks {action}");
    }
    for action in [
        "dynamodb:DeleteItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
    ] {
        assert!(
            !policy.contains(action),
            "WebhookFunction needs no {action}"
        );
    }
}

/// The S3 calls of the picture adapter (functions/aws/src/pictures.rs) and the IAM action each
/// needs (`HeadObject` is authorised as `GetObject`).
const S3_OPERATIONS: [(&str, &str); 4] = [
    (".get_object()", "s3:GetObject"),
    (".head_object()", "s3:GetObject"),
    (".put_object()", "s3:PutObject"),
    (".delete_object()", "s3:DeleteObject"),
];

/// The worker stores pictures and indexes and reads them back, and deletes pictures (of users
/// retention deleted) but never an index; the console reads pictures, never an index, and writes
/// nothing. Both may list the bucket, without which
/// S3 answers a missing object 403 instead of 404.
#[test]
fn the_worker_and_the_console_may_make_the_picture_calls_and_no_more() {
    let template = std::fs::read_to_string(workspace().join("template.yaml")).expect("template");
    let code = std::fs::read_to_string(workspace().join("functions/aws/src/pictures.rs"))
        .expect("the picture adapter's source");
    let needed: BTreeSet<&str> = S3_OPERATIONS
        .iter()
        .filter(|(call, _)| code.contains(call))
        .map(|(_, action)| *action)
        .collect();
    assert_eq!(
        needed,
        BTreeSet::from(["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]),
        "the adapter's calls changed: update the template's policies and this test"
    );
    let worker = resource(&template, "WorkerFunction");
    for action in [
        "s3:GetObject",
        "s3:PutObject",
        "s3:ListBucket",
        "s3:DeleteObject",
    ] {
        assert!(worker.contains(action), "WorkerFunction lacks {action}");
    }
    // Deleting is allowed on pictures only.
    let delete = worker
        .split("- Effect: Allow")
        .find(|statement| statement.contains("s3:DeleteObject"))
        .expect("the delete statement");
    assert!(
        delete.contains("${PicturesBucket.Arn}/pictures/*"),
        "{delete}"
    );
    assert!(!delete.contains("/index/"), "{delete}");
    assert!(worker.contains("${PicturesBucket.Arn}/index/*"));
    assert!(worker.contains("PICTURES_BUCKET: !Ref PicturesBucket"));
    let console = resource(&template, "ConsoleFunction");
    for action in ["s3:GetObject", "s3:ListBucket"] {
        assert!(console.contains(action), "ConsoleFunction lacks {action}");
    }
    assert!(console.contains("PICTURES_BUCKET: !Ref PicturesBucket"));
    assert!(console.contains("Path: /pictures/{tenant}/{file}"));
    for denied in [
        "s3:PutObject",
        "s3:DeleteObject",
        "${PicturesBucket.Arn}/index/*",
        "${PicturesBucket.Arn}/*\"",
    ] {
        assert!(
            !console.contains(denied),
            "ConsoleFunction needs no {denied}"
        );
    }
}

/// The jobs adapter's SQS calls: `SendMessageBatch` has no IAM action of its own, each entry is
/// authorised as `sqs:SendMessage`, so the scheduler's batches need nothing more than a single
/// send does.
#[test]
fn every_function_that_queues_jobs_may_send_to_the_queue() {
    let template = std::fs::read_to_string(workspace().join("template.yaml")).expect("template");
    let code = std::fs::read_to_string(workspace().join("functions/aws/src/jobs.rs"))
        .expect("the jobs adapter's source");
    let calls: Vec<&str> = [".send_message()", ".send_message_batch()"]
        .into_iter()
        .filter(|call| code.contains(call))
        .collect();
    assert_eq!(
        calls,
        [".send_message()", ".send_message_batch()"],
        "the adapter's calls changed: update the template's policies and this test"
    );
    for function in ["SchedulerFunction", "WebhookFunction", "WorkerFunction"] {
        let policy = resource(&template, function);
        assert!(
            policy.contains("sqs:SendMessage") && policy.contains("JobsQueue.Arn"),
            "{function} may not send to the jobs queue"
        );
    }
}
