//! [`drain`]: Lambda's SQS event source mapping in front of the worker, at a `MaximumConcurrency`
//! of one task per [`Stack`] given: each task is one warm worker instance (its own clients and
//! secret cache, as `Deps::from_env` builds them at a cold start) that receives one message at a
//! time (`BatchSize: 1` in template.yaml), runs the real `worker::handle` on it with the
//! function's deadline, and settles it (deletes it, or releases it when the worker reported it as
//! a batch item failure).
//!
//! Each job runs on clients of its tenant's table (`Stack::with_table`, built per invocation and
//! not timed): the simulation keeps tenants in tables of their own for moto's sake.
//!
//! The instances stop once as many jobs completed as the scheduler queued: that number is only known
//! when its tick returns, and the workers start before, as they do in AWS.

use super::stack::{group_of, Stack};
use super::template::FunctionSettings;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// One worker invocation.
#[derive(Clone, Debug)]
pub struct Invocation {
    /// The tenant (the message's group).
    pub tenant: String,
    /// From the handler's start to its answer: what Lambda bills.
    pub duration: Duration,
    /// Whether the job completed (else the message went back to the queue).
    pub completed: bool,
    /// When it answered.
    pub finished: Instant,
}

/// Runs the instances until `expected` (once it is `Some`) jobs completed, failing at `deadline`;
/// every invocation, in no particular order.
///
/// Each instance runs on a thread and runtime of its own, as a Lambda instance is a process of
/// its own: the handler's future is not `Send` for every lifetime (a compiler limit with the
/// borrowed event), so it cannot be a task of the test's runtime, and it should not share that
/// runtime's threads with the fakes and proxies anyway.
pub async fn drain(
    instances: Vec<Stack>,
    tables: Arc<BTreeMap<String, String>>,
    function: FunctionSettings,
    endpoint: String,
    expected: watch::Receiver<Option<usize>>,
    deadline: Instant,
) -> Vec<Invocation> {
    let done = Arc::new(AtomicUsize::new(0));
    let mut answers = Vec::new();
    for (n, stack) in instances.into_iter().enumerate() {
        let done = Arc::clone(&done);
        let expected = expected.clone();
        let tables = Arc::clone(&tables);
        let function = function.clone();
        let endpoint = endpoint.clone();
        let (answer, answered) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name(format!("worker-{n}"))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the worker instance");
                let route = Route {
                    tables: &tables,
                    function: &function,
                    endpoint: &endpoint,
                };
                let invocations =
                    runtime.block_on(serve(&stack, &route, &expected, deadline, &done));
                let _ = answer.send(invocations);
            })
            .expect("start a worker instance");
        answers.push(answered);
    }
    let mut all = Vec::new();
    for answered in answers {
        all.extend(
            answered
                .await
                .expect("a worker instance ended without answering"),
        );
    }
    all
}

/// Where a tenant's job runs: on `function`'s clients of the tenant's table, through `endpoint`.
struct Route<'a> {
    tables: &'a BTreeMap<String, String>,
    function: &'a FunctionSettings,
    endpoint: &'a str,
}

/// One instance's loop: receive, handle, settle, until the jobs are done.
async fn serve(
    stack: &Stack,
    route: &Route<'_>,
    expected: &watch::Receiver<Option<usize>>,
    deadline: Instant,
    done: &AtomicUsize,
) -> Vec<Invocation> {
    let mut invocations = Vec::new();
    loop {
        let target = *expected.borrow();
        if target.is_some_and(|target| done.load(Ordering::SeqCst) >= target) {
            return invocations;
        }
        assert!(
            Instant::now() < deadline,
            "the workers completed {} jobs before the deadline, of {target:?}",
            done.load(Ordering::SeqCst)
        );
        // A long poll of a second: an idle instance waits in moto, not in a loop here.
        let messages = stack.receive(1, 1).await;
        let Some(message) = messages.first() else {
            continue;
        };
        let tenant = group_of(message);
        let table = route
            .tables
            .get(&tenant)
            .unwrap_or_else(|| panic!("a job of unknown tenant {tenant}"));
        let runner = stack
            .with_table(table, route.function, route.endpoint)
            .await;
        let started = Instant::now();
        let event = stack.sqs_event(&[message]);
        let deadline = Some(started + route.function.timeout);
        let response = worker::handle(&runner.worker(), event, deadline).await;
        let duration = started.elapsed();
        stack.settle(&[message], &response).await;
        let completed = response.batch_item_failures.is_empty();
        if completed {
            done.fetch_add(1, Ordering::SeqCst);
        }
        invocations.push(Invocation {
            tenant,
            duration,
            completed,
            finished: Instant::now(),
        });
    }
}
