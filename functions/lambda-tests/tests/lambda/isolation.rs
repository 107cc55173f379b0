//! Tenants on one stack (one table, one queue, one worker) never see each other's data: people,
//! links, runs, mail and secrets stay with their tenant, and a secret holding another tenant's
//! credentials opens nothing.

use crate::support::dynamo;
use crate::support::stack::Stack;
use crate::support::tenant::{company, fake_config, Spec, Tenant};
use chrono::Utc;
use secrecy::ExposeSecret;
use std::collections::BTreeSet;
use sync_core::history::{RunStatus, Trigger};
use sync_core::ids::AccountId;
use sync_core::ports::Secrets;
use test_support::moto::unique;

#[tokio::test]
async fn two_tenants_never_see_each_others_people_links_runs_mail_or_secrets() {
    let stack = Stack::new().await;
    // Two companies with their own domain, credentials and config (the second keeps no groups).
    let domain = format!("{}.example", unique("globex"));
    let mut globex = company(10, 32);
    for employee in &mut globex.employees {
        employee.email = employee.email.replace(&globex.domain, &domain);
    }
    globex.domain = domain.clone();
    let acme = Spec {
        fake: fake_config("acme"),
        ..Spec::new(8, 31)
    };
    let acme_domain = acme.company.domain.clone();
    let acme = Tenant::onboard(&stack, acme).await;
    let globex = Spec {
        company: globex,
        fake: fake_config("globex"),
        extra: "[groups]\ndepartments = false\n".to_owned(),
        ..Spec::new(0, 0)
    };
    let globex = Tenant::onboard(&stack, globex).await;
    assert_ne!(
        acme.fake_config.client_secret,
        globex.fake_config.client_secret
    );

    acme.enqueue(&stack, Trigger::Manual, "sync").await;
    globex.enqueue(&stack, Trigger::Manual, "sync").await;
    let messages = stack.receive_exactly(2).await;
    let batch: Vec<_> = messages.iter().collect();
    let response = stack.deliver(&batch, None).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");

    let acme_users = acme.users().await;
    let globex_users = globex.users().await;
    for (tenant, users, own, foreign) in [
        (&acme, &acme_users, &acme_domain, &domain),
        (&globex, &globex_users, &domain, &acme_domain),
    ] {
        let synced: BTreeSet<String> = users.iter().filter_map(|u| u.external_id.clone()).collect();
        assert_eq!(synced, tenant.expected_external_ids());
        assert!(
            users.iter().all(|u| u.user_name.ends_with(own.as_str())),
            "{}",
            tenant.id
        );
        assert!(!users.iter().any(|u| u.user_name.contains(foreign.as_str())));

        let runs = tenant.runs(&stack).await;
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].status, RunStatus::Completed);
        assert_eq!(runs[0].counts.created, users.len());
        assert_eq!(
            dynamo::sort_keys(&stack, &tenant.id, "LINK#").await.len(),
            users.len()
        );

        let mails = stack.mail_to(&tenant.admins).await;
        assert_eq!(mails.len(), 1, "one summary for {}", tenant.id);
        let text = format!("{}\n{}", mails[0].raw, mails[0].text());
        assert_eq!(
            mails[0].destinations,
            tenant.admins.iter().cloned().collect()
        );
        assert!(
            !text.contains(foreign.as_str()),
            "{} got another tenant's people",
            tenant.id
        );
    }
    // Links point into the tenant's own app only.
    let acme_ids: BTreeSet<&str> = acme_users.iter().map(|u| u.id.as_str()).collect();
    let globex_ids: BTreeSet<&str> = globex_users.iter().map(|u| u.id.as_str()).collect();
    for (tenant, own, other) in [
        (&acme, &acme_ids, &globex_ids),
        (&globex, &globex_ids, &acme_ids),
    ] {
        for link in tenant.snapshot(&stack).await.links.values() {
            assert!(own.contains(link.destination_id.as_str()));
            assert!(!other.contains(link.destination_id.as_str()));
        }
    }
    let acme_mail = stack.mail_to(&acme.admins).await;
    assert!(!acme_mail[0].raw.contains(globex.id.as_str()));
    let globex_mail = stack.mail_to(&globex.admins).await;
    assert!(!globex_mail[0].raw.contains(acme.id.as_str()));
    // Each tenant's own config: groups for one, none for the other.
    assert!(!acme.groups().await.is_empty());
    assert!(globex.groups().await.is_empty());

    // Each tenant's secret holds its own credentials.
    let secrets = &stack.deps.secrets;
    let main = AccountId::default();
    let acme_secret = secrets.personio(&acme.id, &main).await.unwrap();
    let globex_secret = secrets.personio(&globex.id, &main).await.unwrap();
    assert_eq!(acme_secret.client_id, acme.fake_config.client_id);
    assert_eq!(
        acme_secret.client_secret.expose_secret(),
        acme.fake_config.client_secret
    );
    assert_eq!(globex_secret.client_id, globex.fake_config.client_id);
    assert_eq!(
        globex_secret.client_secret.expose_secret(),
        globex.fake_config.client_secret
    );
}

#[tokio::test]
async fn a_tenant_whose_secret_holds_another_tenants_credentials_is_refused_and_reads_nothing() {
    let stack = Stack::new().await;
    let acme = Tenant::onboard(
        &stack,
        Spec {
            fake: fake_config("acme"),
            ..Spec::new(8, 31)
        },
    )
    .await;
    let globex = Tenant::onboard(
        &stack,
        Spec {
            fake: fake_config("globex"),
            ..Spec::new(6, 32)
        },
    )
    .await;
    // A tenant configured to read acme's Personio, with globex's credentials in its secret.
    let intruder = Spec {
        credentials: Some((
            globex.fake_config.client_id.clone(),
            globex.fake_config.client_secret.clone(),
        )),
        ..Spec::sharing(&acme)
    };
    let intruder = Tenant::onboard(&stack, intruder).await;
    let before = acme.fake.stats();

    let job = intruder.enqueue(&stack, Trigger::Manual, "sync").await;
    let error = worker::run_job(&stack.worker(), &job, Utc::now(), None)
        .await
        .expect_err("the run must fail");
    assert!(
        !error.is_retryable(),
        "bad credentials do not pass by themselves: {error}"
    );
    assert!(
        matches!(
            error,
            worker::JobError::Run(sync_core::run::RunError::Source(
                sync_core::ports::SourceError::Unauthorized { .. }
            ))
        ),
        "the cause is kept: {error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("rejected the credentials"), "{message}");
    assert!(!message.contains(&globex.fake_config.client_secret));

    // Through the handler: the job is consumed, not handed back for retries.
    let messages = stack.receive_exactly(1).await;
    let response = stack.deliver(&[&messages[0]], None).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert!(stack.receive(10, 1).await.is_empty());

    let after = acme.fake.stats();
    assert_eq!(
        after.list_requests, before.list_requests,
        "no employee was read"
    );
    assert_eq!(after.single_requests, before.single_requests);
    assert!(
        after.unauthorized >= before.unauthorized + 2,
        "{before:?} → {after:?}"
    );
    assert!(intruder.users().await.is_empty());
    assert!(intruder.snapshot(&stack).await.links.is_empty());
    let runs = intruder.runs(&stack).await;
    assert_eq!(runs.len(), 2);
    for run in &runs {
        assert_eq!(run.status, RunStatus::Failed);
        let failure = run.failure.as_deref().unwrap_or_default();
        assert!(failure.contains("rejected the credentials"), "{failure}");
    }
    // Neither real tenant ran or heard of it; the intruder's admins got the failures.
    assert!(acme.runs(&stack).await.is_empty() && globex.runs(&stack).await.is_empty());
    assert!(stack.mail_to(&acme.admins).await.is_empty());
    assert!(stack.mail_to(&globex.admins).await.is_empty());
    assert_eq!(stack.mail_to(&intruder.admins).await.len(), 2);
}
