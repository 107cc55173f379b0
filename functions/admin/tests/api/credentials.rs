//! Credentials: Personio's checked before they are stored, with different answers for a wrong
//! secret and a credential that may not read employees; tokens stored write-only; the webhook
//! token rotated without a gap.

use crate::support::Harness;
use chrono::Utc;
use secrecy::SecretString;
use serde_json::json;
use test_support::logs;
use webhook::{WebhookDeps, WebhookRequest, WebhookSecret};

const PERSONIO: &str = "/tenants/{tenant}/credentials/personio/{account}";
const ROTATE: &str = "/tenants/{tenant}/credentials/webhook/rotate";

#[tokio::test]
async fn personio_credentials_are_stored_only_after_personio_accepts_them() {
    let h = Harness::new().await;
    let tenant = h.tenant(3, 11).await;
    let secret_name = format!("personio-sync/{}/personio/main", tenant.id);
    let stored = h.secret_value(&secret_name).await.expect("stored");
    let stored: serde_json::Value = serde_json::from_str(&stored).expect("JSON");
    assert_eq!(stored["client_id"], tenant.fake_config.client_id.as_str());
    assert_eq!(
        stored["client_secret"],
        tenant.fake_config.client_secret.as_str()
    );
    // With the origin it was entered for, which runs hold it to.
    let origin = sync_core::http::credential_origin(&tenant.fake.url()).unwrap();
    assert_eq!(stored["origin"], origin.as_str());
    let read = h.get("/tenants/{tenant}", &tenant.params()).await.json();
    assert_eq!(read["credentials"]["personio"]["main"], true);
    assert_eq!(h.bodies_containing(&tenant.fake_config.client_secret), 0);
    logs::assert_free_of(&[&tenant.fake_config.client_secret]);
}

#[tokio::test]
async fn a_changed_personio_address_is_refused_until_the_credential_is_entered_for_it() {
    let h = Harness::new().await;
    let tenant = h.tenant(3, 15).await;
    let elsewhere = fake_personio::FakePersonio::start(
        crate::support::company(3, 15),
        tenant.fake_config.clone(),
    )
    .await
    .unwrap();
    let mut config = tenant.config.clone();
    config["personio"]["accounts"][0]["base_url"] = json!(elsewhere.url());
    let moved = h
        .put_matching("/tenants/{tenant}", &tenant.params(), &config, "\"1\"")
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text());

    let preview = h.get("/tenants/{tenant}/preview", &tenant.params()).await;
    assert_eq!(
        (preview.status, preview.code().as_str()),
        (409, "credential_origin_changed"),
        "{}",
        preview.text()
    );
    assert!(
        preview.text().contains(&elsewhere.url()),
        "{}",
        preview.text()
    );
    assert_eq!(
        elsewhere.stats().auth_requests,
        0,
        "the secret never went there"
    );

    let again = h
        .json(
            "PUT",
            PERSONIO,
            &[("tenant", &tenant.id), ("account", "main")],
            &json!({
                "client_id": tenant.fake_config.client_id,
                "client_secret": tenant.fake_config.client_secret,
            }),
        )
        .await;
    assert_eq!(again.status, 204, "{}", again.text());
    let preview = h.get("/tenants/{tenant}/preview", &tenant.params()).await;
    assert_eq!(preview.status, 200, "{}", preview.text());
}

#[tokio::test]
async fn a_wrong_secret_and_a_credential_without_employee_access_get_different_answers_and_nothing_is_saved(
) {
    let h = Harness::new().await;
    let tenant = h.tenant_without_credentials(3, 12).await;
    let params = [("tenant", tenant.id.as_str()), ("account", "main")];
    let wrong_secret = "definitely-not-the-secret-0815";
    let wrong = h
        .json(
            "PUT",
            PERSONIO,
            &params,
            &json!({"client_id": tenant.fake_config.client_id, "client_secret": wrong_secret}),
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.code().as_str()),
        (422, "personio_credentials_rejected")
    );
    assert!(
        wrong.message().contains("client id or client secret"),
        "{}",
        wrong.message()
    );

    tenant.fake.set_employee_access(false);
    let denied = h
        .json(
            "PUT",
            PERSONIO,
            &params,
            &json!({
                "client_id": tenant.fake_config.client_id,
                "client_secret": tenant.fake_config.client_secret,
            }),
        )
        .await;
    assert_eq!(
        (denied.status, denied.code().as_str()),
        (422, "personio_access_denied")
    );
    assert!(
        denied.message().contains("may not read employees"),
        "{}",
        denied.message()
    );
    assert_ne!(wrong.message(), denied.message());
    assert!(h.secret_names(&tenant.id).await.is_empty(), "nothing saved");

    let unknown_account = h
        .json(
            "PUT",
            PERSONIO,
            &[("tenant", tenant.id.as_str()), ("account", "at")],
            &json!({"client_id": "x", "client_secret": "y"}),
        )
        .await;
    assert_eq!(unknown_account.status, 404);

    // A body with the wrong type never quotes the value back.
    let typed = h
        .json(
            "PUT",
            PERSONIO,
            &params,
            &json!({"client_id": "x", "client_secret": 4_815_162_342_u64}),
        )
        .await;
    assert_eq!(typed.status, 400);
    assert!(!typed.text().contains("4815162342"), "{}", typed.text());

    for secret in [wrong_secret, tenant.fake_config.client_secret.as_str()] {
        assert_eq!(h.bodies_containing(secret), 0);
    }
    logs::assert_free_of(&[
        wrong_secret,
        &tenant.fake_config.client_secret,
        "4815162342",
    ]);
}

#[tokio::test]
async fn personio_that_cannot_be_reached_is_a_502_and_nothing_is_saved() {
    let h = Harness::new().await;
    let tenant = h.tenant_without_credentials(1, 13).await;
    tenant.fake.shutdown();
    // The fake stops accepting connections once its server task sees the signal.
    let mut answer = None;
    for _ in 0..50 {
        let attempt = h
            .json(
                "PUT",
                PERSONIO,
                &[("tenant", tenant.id.as_str()), ("account", "main")],
                &json!({"client_id": "a", "client_secret": "b"}),
            )
            .await;
        if attempt.status == 502 {
            answer = Some(attempt);
            break;
        }
        tokio::task::yield_now().await;
    }
    let answer = answer.expect("a 502 once the fake is down");
    assert_eq!(answer.code(), "personio_unavailable");
    assert!(h.secret_names(&tenant.id).await.is_empty());
}

#[tokio::test]
async fn the_destination_token_is_stored_and_never_shown() {
    let h = Harness::new().await;
    let tenant = h.tenant_without_credentials(1, 14).await;
    let token = "scim-bearer-token-xyz-987";
    let answer = h
        .json(
            "PUT",
            "/tenants/{tenant}/credentials/destination",
            &tenant.params(),
            &json!({"token": token}),
        )
        .await;
    assert_eq!(answer.status, 204);
    let name = format!("personio-sync/{}/destination", tenant.id);
    assert_eq!(h.secret_value(&name).await.as_deref(), Some(token));
    let read = h.get("/tenants/{tenant}", &tenant.params()).await.json();
    assert_eq!(read["credentials"]["destination"], true);

    let empty = h
        .json(
            "PUT",
            "/tenants/{tenant}/credentials/destination",
            &tenant.params(),
            &json!({"token": "  "}),
        )
        .await;
    assert_eq!(empty.status, 400);
    assert_eq!(h.bodies_containing(token), 0);
    logs::assert_free_of(&[token]);
}

#[tokio::test]
async fn a_rotation_answers_the_new_token_once_and_keeps_the_old_one_valid() {
    let h = Harness::new().await;
    let tenant = h.tenant_without_credentials(1, 15).await;
    let name = format!("personio-sync/{}/webhook", tenant.id);
    let first = h.json("POST", ROTATE, &tenant.params(), &json!(null)).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(first.json()["previous_token_kept"], false);
    let token1 = first.json()["token"].as_str().expect("token").to_owned();

    let second = h.json("POST", ROTATE, &tenant.params(), &json!({})).await;
    assert_eq!(second.json()["previous_token_kept"], true);
    let token2 = second.json()["token"].as_str().expect("token").to_owned();
    assert_ne!(token1, token2);

    // The webhook receiver's own parser accepts both tokens during the changeover.
    let stored = h.secret_value(&name).await.expect("stored");
    let secret = WebhookSecret::parse(&SecretString::from(stored)).expect("the receiver reads it");
    assert!(secret.verify(&token2));
    assert!(secret.verify(&token1));
    assert!(!secret.verify("something-else"));

    // A third rotation drops the first token.
    let third = h.json("POST", ROTATE, &tenant.params(), &json!(null)).await;
    let stored = h.secret_value(&name).await.expect("stored");
    let secret = WebhookSecret::parse(&SecretString::from(stored)).expect("parses");
    assert!(!secret.verify(&token1));
    assert!(secret.verify(&token2));
    let token3 = third.json()["token"].as_str().expect("token").to_owned();

    for token in [&token1, &token2, &token3] {
        assert_eq!(h.bodies_containing(token), 1, "shown exactly once");
    }
    logs::assert_free_of(&[&token1, &token2, &token3]);
    let unknown_field = h
        .json("POST", ROTATE, &tenant.params(), &json!({"token": "mine"}))
        .await;
    assert_eq!(unknown_field.status, 400);
}

/// A `person.updated` delivery for person `person`, with `token` in `Authorization`.
fn delivery(tenant: &str, token: &str, person: u64) -> WebhookRequest {
    let body = json!({
        "company_id": "4711",
        "event_name": "person.updated",
        "occurred_at": Utc::now().to_rfc3339(),
        "payload": {"id": person.to_string()},
    });
    WebhookRequest {
        tenant_id: tenant.to_owned(),
        authorization: Some(token.to_owned()),
        content_type: Some("application/json".to_owned()),
        body: serde_json::to_vec(&body).expect("json"),
    }
}

#[tokio::test]
async fn after_a_rotation_the_webhook_receiver_on_secrets_manager_accepts_the_new_and_the_previous_token(
) {
    let h = Harness::new().await;
    let tenant = h.tenant_without_credentials(1, 15).await;
    let token = |answer: crate::support::Answer| {
        answer.json()["token"].as_str().expect("a token").to_owned()
    };
    let first = token(h.json("POST", ROTATE, &tenant.params(), &json!(null)).await);
    let second = token(h.json("POST", ROTATE, &tenant.params(), &json!(null)).await);

    // The receiver as the webhook Lambda wires it: the secret read through Secrets Manager.
    let deps = WebhookDeps {
        configs: &h.aws.store,
        secrets: &h.aws.secrets,
        events: &h.aws.store,
        jobs: &h.aws.jobs,
        misses: &webhook::Misses::default(),
        now: Utc::now(),
    };
    let answer = webhook::handle(&deps, delivery(&tenant.id, &second, 1)).await;
    assert_eq!(answer.status, 202, "the new token: {}", answer.body);
    let answer = webhook::handle(&deps, delivery(&tenant.id, &first, 2)).await;
    assert_eq!(answer.status, 202, "the previous token: {}", answer.body);
    let answer = webhook::handle(&deps, delivery(&tenant.id, "not-the-token", 3)).await;
    assert_eq!(answer.status, 401, "{}", answer.body);

    // The next rotation ends the previous token's grace.
    let third = token(h.json("POST", ROTATE, &tenant.params(), &json!(null)).await);
    let answer = webhook::handle(&deps, delivery(&tenant.id, &first, 4)).await;
    assert_eq!(
        answer.status, 401,
        "the token two rotations ago: {}",
        answer.body
    );
    let answer = webhook::handle(&deps, delivery(&tenant.id, &third, 5)).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    logs::assert_free_of(&[&first, &second, &third]);
}

/// A SCIM tenant's first full sync is queued by the call that completes its credentials (not
/// before), runs through the real worker into scim2-server, and is not queued again once the
/// tenant has a history.
#[tokio::test]
async fn the_first_sync_is_queued_when_the_credentials_are_complete_and_only_then() {
    let h = Harness::new().await;
    let fake_config = fake_personio::FakeConfig {
        client_id: test_support::moto::unique("client"),
        client_secret: test_support::moto::unique("personio-secret"),
        rate_limit: Some(fake_personio::RateLimit {
            per_minute: 60_000,
            burst: 100,
        }),
        ..fake_personio::FakeConfig::default()
    };
    let fake =
        fake_personio::FakePersonio::start(crate::support::company(8, 51), fake_config.clone())
            .await
            .expect("start the fake Personio");
    let id = test_support::moto::unique("t");
    let dir = tempfile::tempdir().expect("temp dir");
    let base_url = test_support::scim::tenant_url("first");
    let mut config = crate::support::config_json(&id, &fake, &dir, &h.aws.config.sender);
    config["destination"] = json!({"kind": "scim", "base_url": base_url});
    let created = h.json("POST", "/tenants", &[], &config).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let params = [("tenant", id.as_str())];
    let personio = [("tenant", id.as_str()), ("account", "main")];
    let credentials = json!({
        "client_id": fake_config.client_id,
        "client_secret": fake_config.client_secret,
    });

    // Personio's credentials alone: the app's token is missing, nothing is queued.
    let answer = h.json("PUT", PERSONIO, &personio, &credentials).await;
    assert_eq!(answer.status, 204, "{}", answer.text());
    assert_eq!(h.run_queued_jobs().await, 0);

    // The token completes the set: the first sync is queued and fills the app.
    let token = test_support::scim::scim_server().token.clone();
    let answer = h
        .json(
            "PUT",
            "/tenants/{tenant}/credentials/destination",
            &params,
            &json!({"token": token}),
        )
        .await;
    assert_eq!(answer.status, 204, "{}", answer.text());
    assert_eq!(h.run_queued_jobs().await, 1);
    let runs = h.get("/tenants/{tenant}/runs", &params).await.json();
    let runs = runs["runs"].as_array().expect("runs").clone();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["trigger"]["kind"], "first_sync");
    assert_eq!(runs[0]["status"], "completed");
    let users = test_support::scim::ScimReader::with_token(&base_url, &token)
        .users()
        .await;
    assert!(users.len() >= 5, "{} users", users.len());

    // Credentials stored again (a rotation): the tenant has a history, nothing is queued.
    let answer = h.json("PUT", PERSONIO, &personio, &credentials).await;
    assert_eq!(answer.status, 204);
    assert_eq!(h.run_queued_jobs().await, 0);
}

/// Every file under `dir` with its bytes: the app's users as the directory destination keeps them.
fn files(dir: &std::path::Path) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read the app's folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let bytes = std::fs::read(&path).expect("read a file");
                files.insert(path, bytes);
            }
        }
    }
    files
}

/// Revoking Personio access deletes the credentials from Secrets Manager, stops every kind of
/// run (schedule, sync now) without touching the app, and the next email tells the admins; new
/// credentials and enabling the tenant resume it.
#[tokio::test]
async fn revoking_personio_access_deletes_the_credentials_stops_runs_and_tells_the_admins() {
    let h = Harness::new().await;
    let tenant = h.tenant(6, 61).await;
    let params = tenant.params();
    let secret_name = format!("personio-sync/{}/personio/main", tenant.id);
    let started = h
        .json("POST", "/tenants/{tenant}/runs", &params, &json!({}))
        .await;
    assert_eq!(started.status, 202, "{}", started.text());
    assert_eq!(h.run_queued_jobs().await, 1);
    let app = tenant.dir.path().join("app");
    let before = files(&app);
    assert!(!before.is_empty(), "the first run filled the app");
    assert!(h.secret_value(&secret_name).await.is_some());

    let revoked = h
        .send(
            "DELETE",
            "/tenants/{tenant}/credentials/personio",
            &params,
            "",
            Vec::new(),
            &[],
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.text());
    let revoked = revoked.json();
    assert_eq!(revoked["revoked"], json!(["main"]));
    assert_eq!(revoked["enabled"], false);
    let notice = revoked["notice_run"]
        .as_str()
        .expect("a notice run")
        .to_owned();

    // Gone from Secrets Manager, and the tenant says so.
    assert_eq!(h.secret_value(&secret_name).await, None);
    let read = h.get("/tenants/{tenant}", &params).await.json();
    assert_eq!(read["credentials"]["personio"]["main"], false);
    assert_eq!(read["config"]["enabled"], false);

    // The notice: recorded in the history and emailed; Personio is not asked anything.
    let calls = |stats: fake_personio::Stats| {
        stats.auth_requests + stats.list_requests + stats.single_requests + stats.attribute_requests
    };
    let personio_calls = calls(tenant.fake.stats());
    assert_eq!(h.run_queued_jobs().await, 1);
    assert_eq!(calls(tenant.fake.stats()), personio_calls);
    let run = h
        .get(
            "/tenants/{tenant}/runs/{run}",
            &[("tenant", &tenant.id), ("run", &notice)],
        )
        .await
        .json();
    assert_eq!(run["trigger"]["kind"], "revocation");
    let failure = run["failure"].as_str().expect("the notice's text");
    assert!(failure.contains("Personio access was revoked"), "{failure}");
    assert!(
        failure.contains("store new Personio credentials and enable the tenant"),
        "{failure}"
    );
    let admin = format!("admin@{}.example", tenant.id);
    let mails = test_support::mail::sent_to(
        &test_support::moto::data_at(&test_support::moto::shared().url).await,
        std::slice::from_ref(&admin),
    );
    let subjects: Vec<String> = mails
        .iter()
        .filter_map(|mail| mail.message.header("subject").map(str::to_owned))
        .collect();
    assert!(
        subjects.iter().any(|subject| subject
            == &format!(
                "[personio-sync] {}: Personio access revoked, runs stopped",
                tenant.id
            )),
        "{subjects:?}"
    );

    // No run starts: not on schedule, not on request.
    let due = scheduler::handle(
        &h.aws.store,
        &h.aws.jobs,
        Utc::now() + chrono::Duration::days(2),
    )
    .await
    .expect("a schedule tick");
    let id = sync_core::ids::TenantId::parse(&tenant.id).expect("a tenant id");
    assert!(!due.contains(&id), "{due:?}");
    let refused = h
        .json("POST", "/tenants/{tenant}/runs", &params, &json!({}))
        .await;
    assert_eq!(refused.status, 409, "{}", refused.text());
    assert_eq!(h.run_queued_jobs().await, 0);
    assert_eq!(calls(tenant.fake.stats()), personio_calls);
    assert_eq!(files(&app), before, "the app's accounts are untouched");

    // New credentials and the tenant enabled: runs again.
    let answer = h
        .json(
            "PUT",
            PERSONIO,
            &[("tenant", &tenant.id), ("account", "main")],
            &json!({
                "client_id": tenant.fake_config.client_id,
                "client_secret": tenant.fake_config.client_secret,
            }),
        )
        .await;
    assert_eq!(answer.status, 204, "{}", answer.text());
    let enabled = h
        .json("POST", "/tenants/{tenant}/enable", &params, &json!(null))
        .await;
    assert_eq!(enabled.status, 200, "{}", enabled.text());
    let started = h
        .json("POST", "/tenants/{tenant}/runs", &params, &json!({}))
        .await;
    assert_eq!(started.status, 202, "{}", started.text());
    assert_eq!(h.run_queued_jobs().await, 1);
    let runs = h.get("/tenants/{tenant}/runs", &params).await.json();
    assert_eq!(runs["runs"][0]["status"], "completed", "{runs}");
}
