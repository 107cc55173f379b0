//! The AWS scenario's faults (`aws`): which one a scenario draws, and the fault proxy's rule
//! that strikes it.

use super::faults::{Aim, AnyFault, ScimFault};
use crate::support::aws;
use crate::support::fault_proxy::{Fault, Matcher, Pick, Rule};
use axum::http::Method;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;
use std::sync::Arc;

/// One AWS-side fault.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum AwsFault {
    /// DynamoDB calls answer `ThrottlingException`.
    DynamoThrottling { chance: f64, budget: u32 },
    /// `BatchWriteItem` processes nothing and hands every item back.
    DynamoUnprocessed { budget: u32 },
    /// SES answers `TooManyRequestsException`.
    SesThrottling { budget: u32 },
    /// SES rejects the recipient.
    SesRejection,
    /// Secrets Manager fails `budget` reads in a row on a cold-started worker (its cache empty),
    /// past the SDK's attempts when `budget` reaches them.
    SecretsUnavailable { budget: u32 },
    /// SQS fails `budget` sends in a row, and the run meets its deadline after `millis`, so its
    /// continuation is what SQS refuses.
    SqsUnavailable { budget: u32, millis: u64 },
    /// The message is delivered again after it succeeded.
    Redelivery,
    /// The worker is stopped after `millis` and the message delivered again.
    Killed { millis: u64 },
    /// The Lambda's deadline passes `millis` into the run.
    Deadline { millis: u64 },
    /// A light destination fault.
    Scim(ScimFault),
}

impl AwsFault {
    pub(super) fn label(&self) -> &'static str {
        match self {
            Self::DynamoThrottling { .. } => "dynamodb throttling",
            Self::DynamoUnprocessed { .. } => "dynamodb unprocessed items",
            Self::SesThrottling { .. } => "ses throttling",
            Self::SesRejection => "ses rejects recipient",
            Self::SecretsUnavailable { .. } => "secrets manager unavailable",
            Self::SqsUnavailable { .. } => "sqs unavailable for the continuation",
            Self::Redelivery => "sqs redelivery",
            Self::Killed { .. } => "worker killed mid-run",
            Self::Deadline { .. } => "lambda deadline",
            Self::Scim(fault) => AnyFault::Scim(fault.clone()).label(),
        }
    }
}

pub(super) fn draw_fault(rng: &mut StdRng) -> AwsFault {
    match rng.gen_range(0..10) {
        0 => AwsFault::DynamoThrottling {
            chance: *[0.1, 0.25, 0.5].choose(rng).expect("choices"),
            budget: rng.gen_range(2..=15),
        },
        1 => AwsFault::DynamoUnprocessed {
            budget: rng.gen_range(1..=4),
        },
        // The SDK makes 5 attempts: larger budgets outlast them.
        2 => AwsFault::SesThrottling {
            budget: rng.gen_range(1..=9),
        },
        3 => AwsFault::SesRejection,
        4 => AwsFault::Redelivery,
        5 => AwsFault::Killed {
            millis: rng.gen_range(20..=1200),
        },
        6 => AwsFault::Deadline {
            millis: rng.gen_range(0..=400),
        },
        7 => AwsFault::SecretsUnavailable {
            budget: rng.gen_range(2..=12),
        },
        8 => AwsFault::SqsUnavailable {
            budget: rng.gen_range(2..=10),
            millis: rng.gen_range(60..=500),
        },
        _ => AwsFault::Scim(match rng.gen_range(0..3) {
            0 => ScimFault::TooMany {
                retry_after: Some(0),
                chance: 0.1,
                budget: rng.gen_range(1..=4),
            },
            1 => ScimFault::ApplyThenServerError {
                aim: *[Aim::UserCreate, Aim::GroupCreate, Aim::Patch]
                    .choose(rng)
                    .expect("choices"),
                status: 502,
                nth: rng.gen_range(1..=6),
                budget: 1,
            },
            _ => ScimFault::Conflict {
                aim: Aim::UserCreate,
                nth: rng.gen_range(1..=6),
                budget: 1,
            },
        }),
    }
}

pub(super) fn rule(fault: &AwsFault, admin: &str) -> Option<Rule> {
    let by_target = |target: &'static str| Matcher {
        target: Some(target),
        ..Matcher::default()
    };
    let ses = Matcher {
        method: Some(Method::POST),
        target: Some("SendRawEmail"),
        ..Matcher::default()
    };
    Some(match fault {
        AwsFault::DynamoThrottling { chance, budget } => Rule {
            matcher: by_target("DynamoDB_20120810."),
            pick: Pick::Chance(*chance),
            fault: Fault::Refuse(aws::dynamodb_throttling()),
            budget: *budget,
        },
        AwsFault::DynamoUnprocessed { budget } => Rule {
            matcher: by_target("DynamoDB_20120810.BatchWriteItem"),
            pick: Pick::Chance(0.5),
            fault: Fault::RefuseWith(Arc::new(aws::dynamodb_unprocessed)),
            budget: *budget,
        },
        AwsFault::SesThrottling { budget } => Rule {
            matcher: ses,
            pick: Pick::Nth { first: 1, every: 1 },
            fault: Fault::Refuse(aws::ses_throttling()),
            budget: *budget,
        },
        AwsFault::SesRejection => Rule {
            matcher: ses,
            pick: Pick::Nth { first: 1, every: 1 },
            fault: Fault::Refuse(aws::ses_rejection(admin)),
            budget: 1,
        },
        AwsFault::SecretsUnavailable { budget } => Rule {
            matcher: by_target("secretsmanager.GetSecretValue"),
            pick: Pick::Nth { first: 1, every: 1 },
            fault: Fault::Refuse(aws::secrets_unavailable()),
            budget: *budget,
        },
        AwsFault::SqsUnavailable { budget, .. } => Rule {
            matcher: by_target("AmazonSQS.SendMessage"),
            pick: Pick::Nth { first: 1, every: 1 },
            fault: Fault::Refuse(aws::sqs_unavailable()),
            budget: *budget,
        },
        _ => return None,
    })
}
