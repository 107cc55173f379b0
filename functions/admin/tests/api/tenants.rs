//! Tenants: create, read, replace with optimistic concurrency, enable and disable, delete, and
//! the 4xx answers bad input gets.

use crate::support::Harness;
use serde_json::json;
use test_support::logs;

const TENANT: &str = "/tenants/{tenant}";

#[tokio::test]
async fn a_created_tenant_reads_back_with_its_version_as_etag_and_a_schedule_entry() {
    let h = Harness::new().await;
    let tenant = h.tenant_without_credentials(3, 1).await;
    let answer = h.get(TENANT, &tenant.params()).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("etag").as_deref(), Some("\"1\""));
    let body = answer.json();
    assert_eq!(body["version"], 1);
    assert_eq!(body["config"]["tenant"], tenant.id.as_str());
    assert_eq!(body["config"]["enabled"], true);
    assert_eq!(
        body["credentials"],
        json!({"personio": {"main": false}, "destination": false, "webhook": false})
    );
    assert_eq!(h.schedule_entries(&tenant.id).await.len(), 1);

    let again = h.json("POST", "/tenants", &[], &tenant.config).await;
    assert_eq!(
        (again.status, again.code().as_str()),
        (409, "tenant_exists")
    );
}

#[tokio::test]
async fn a_replace_needs_the_current_etag_and_a_stale_one_is_refused_with_412() {
    let h = Harness::new().await;
    let tenant = h.tenant_without_credentials(3, 2).await;
    let mut config = tenant.config.clone();
    config["guard"] = json!({"max_deactivations": 3});

    let missing = h.json("PUT", TENANT, &tenant.params(), &config).await;
    assert_eq!(
        (missing.status, missing.code().as_str()),
        (428, "if_match_required")
    );

    let first = h
        .put_matching(TENANT, &tenant.params(), &config, "\"1\"")
        .await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(first.json()["config"]["guard"]["max_deactivations"], 3);

    // A second editor who read version 1 loses: nothing of theirs is saved.
    config["guard"] = json!({"max_deactivations": 99});
    let stale = h
        .put_matching(TENANT, &tenant.params(), &config, "\"1\"")
        .await;
    assert_eq!(
        (stale.status, stale.code().as_str()),
        (412, "version_mismatch")
    );
    assert!(stale.message().contains("version 2"), "{}", stale.message());
    let now = h.get(TENANT, &tenant.params()).await.json();
    assert_eq!(now["version"], 2);
    assert_eq!(now["config"]["guard"]["max_deactivations"], 3);
}

#[tokio::test]
async fn a_config_that_fails_validation_lists_every_problem_and_saves_nothing() {
    let h = Harness::new().await;
    let tenant = h.tenant_without_credentials(3, 3).await;
    let mut config = tenant.config.clone();
    config["personio"] = json!({"accounts": []});
    config["destination"] = json!({"kind": "scim", "base_url": ""});
    config["matching"] = json!({"field": "nickname"});
    config["schedule"] = json!({"every_minutes": 1});
    let answer = h
        .put_matching(TENANT, &tenant.params(), &config, "\"1\"")
        .await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (422, "invalid_config")
    );
    let problems = answer.json()["error"]["problems"].clone();
    let problems: Vec<&str> = problems
        .as_array()
        .expect("problems")
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    for expected in [
        "personio.accounts",
        "destination.base_url",
        "matching.field",
        "schedule.every_minutes",
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(expected)),
            "{expected} missing from {problems:?}"
        );
    }
    assert_eq!(h.stored_version(&tenant.id).await, Some(1), "nothing saved");

    // A destination without what its kind needs does not even parse: the answer names the key.
    let mut unparsable = tenant.config.clone();
    unparsable["destination"] = json!({"kind": "scim"});
    let answer = h
        .put_matching(TENANT, &tenant.params(), &unparsable, "\"1\"")
        .await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.json()["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("base_url")),
        "{}",
        answer.json()
    );

    // The same config is refused at creation too, and no tenant appears.
    config["tenant"] = json!("never-created");
    let create = h.json("POST", "/tenants", &[], &config).await;
    assert_eq!(create.status, 422);
    assert_eq!(h.stored_version("never-created").await, None);
}

#[tokio::test]
async fn bad_input_gets_a_4xx_that_names_the_problem() {
    let h = Harness::new().await;
    let tenant = h.tenant_without_credentials(3, 4).await;

    let malformed = h
        .send("POST", "/tenants", &[], "", b"{\"tenant\": ".to_vec(), &[])
        .await;
    assert_eq!(
        (malformed.status, malformed.code().as_str()),
        (400, "malformed_json")
    );

    let mut unknown = tenant.config.clone();
    unknown["tenant"] = json!("another-one");
    unknown["gaurd"] = json!({});
    let answer = h.json("POST", "/tenants", &[], &unknown).await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (400, "invalid_body")
    );
    assert!(answer.message().contains("gaurd"), "{}", answer.message());

    let bad_id = h.get(TENANT, &[("tenant", "Not_A_Tenant")]).await;
    assert_eq!((bad_id.status, bad_id.code().as_str()), (400, "invalid_id"));

    let unknown_tenant = h.get(TENANT, &[("tenant", "no-such-tenant")]).await;
    assert_eq!(
        (unknown_tenant.status, unknown_tenant.code().as_str()),
        (404, "tenant_not_found")
    );

    let bad_run = h
        .get(
            "/tenants/{tenant}/runs/{run}",
            &[("tenant", &tenant.id), ("run", "yesterday")],
        )
        .await;
    assert_eq!(bad_run.status, 400);

    let bad_query = h
        .get_query("/tenants/{tenant}/runs", &tenant.params(), "limit=5000")
        .await;
    assert_eq!(
        (bad_query.status, bad_query.code().as_str()),
        (400, "invalid_query")
    );
    let typo = h
        .get_query("/tenants/{tenant}/runs", &tenant.params(), "befor=x")
        .await;
    assert!(typo.message().contains("befor"), "{}", typo.message());

    let mismatch = {
        let mut config = tenant.config.clone();
        config["tenant"] = json!("someone-else");
        h.put_matching(TENANT, &tenant.params(), &config, "\"1\"")
            .await
    };
    assert_eq!(mismatch.status, 422);
}

#[tokio::test]
async fn disable_and_enable_flip_the_switch_once_and_a_disabled_tenant_cannot_sync_now() {
    let h = Harness::new().await;
    let tenant = h.tenant_without_credentials(3, 5).await;
    let disabled = h
        .json(
            "POST",
            "/tenants/{tenant}/disable",
            &tenant.params(),
            &json!(null),
        )
        .await;
    assert_eq!(disabled.status, 200);
    assert_eq!(disabled.json()["config"]["enabled"], false);
    assert_eq!(disabled.json()["version"], 2);
    let again = h
        .json(
            "POST",
            "/tenants/{tenant}/disable",
            &tenant.params(),
            &json!(null),
        )
        .await;
    assert_eq!(
        again.json()["version"],
        2,
        "already disabled: nothing written"
    );

    let run = h
        .json(
            "POST",
            "/tenants/{tenant}/runs",
            &tenant.params(),
            &json!({}),
        )
        .await;
    assert_eq!((run.status, run.code().as_str()), (409, "tenant_disabled"));

    let enabled = h
        .json(
            "POST",
            "/tenants/{tenant}/enable",
            &tenant.params(),
            &json!(null),
        )
        .await;
    assert_eq!(enabled.json()["config"]["enabled"], true);
    assert_eq!(enabled.json()["version"], 3);
}

#[tokio::test]
async fn delete_removes_config_state_schedule_and_secrets_but_leaves_the_app_alone() {
    let h = Harness::new().await;
    let tenant = h.tenant(6, 6).await;
    let token = "dest-token-never-shown-42";
    let stored = h
        .json(
            "PUT",
            "/tenants/{tenant}/credentials/destination",
            &tenant.params(),
            &json!({"token": token}),
        )
        .await;
    assert_eq!(stored.status, 204);
    let rotated = h
        .json(
            "POST",
            "/tenants/{tenant}/credentials/webhook/rotate",
            &tenant.params(),
            &json!(null),
        )
        .await;
    assert_eq!(rotated.status, 200);
    // A run leaves links, a run record and stats; a held-run-free tenant also keeps a queued note.
    let run = h
        .json(
            "POST",
            "/tenants/{tenant}/runs",
            &tenant.params(),
            &json!({}),
        )
        .await;
    assert_eq!(run.status, 202);
    assert_eq!(h.run_queued_jobs().await, 1);
    assert!(h.items(&tenant.id).await.len() > 3);
    assert_eq!(h.secret_names(&tenant.id).await.len(), 3);
    let app_users = std::fs::read_dir(tenant.dir.path().join("app"))
        .map(|dir| dir.count())
        .unwrap_or(0);
    assert!(app_users > 0);

    let deleted = h
        .json("DELETE", TENANT, &tenant.params(), &json!(null))
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    assert_eq!(h.items(&tenant.id).await, Vec::<String>::new());
    assert!(h.schedule_entries(&tenant.id).await.is_empty());
    assert!(h.secret_names(&tenant.id).await.is_empty());
    let gone = h.get(TENANT, &tenant.params()).await;
    assert_eq!(gone.status, 404);
    let again = h
        .json("DELETE", TENANT, &tenant.params(), &json!(null))
        .await;
    assert_eq!(again.status, 404);
    let left = std::fs::read_dir(tenant.dir.path().join("app"))
        .map(|dir| dir.count())
        .unwrap_or(0);
    assert_eq!(left, app_users, "the destination is untouched");

    // The tenant can be created again at once: its secret names are free.
    let created = h.json("POST", "/tenants", &[], &tenant.config).await;
    assert_eq!(created.status, 201);
    assert_eq!(h.bodies_containing(token), 0);
    logs::assert_free_of(&[token, &tenant.fake_config.client_secret]);
}

#[tokio::test]
async fn removing_an_account_deletes_its_credentials_and_adding_it_back_starts_without_them() {
    let h = Harness::new().await;
    let tenant = h.tenant(3, 7).await;
    let mut config = tenant.config.clone();
    let main = config["personio"]["accounts"][0].clone();
    let mut second = main.clone();
    second["name"] = json!("second");
    config["personio"]["accounts"] = json!([main.clone(), second]);
    let added = h
        .put_matching(TENANT, &tenant.params(), &config, "\"1\"")
        .await;
    assert_eq!(added.status, 200, "{}", added.text());
    // The second account reads the same fake Personio, with its credentials.
    let secret = tenant.fake_config.client_secret.as_str();
    let stored = h
        .json(
            "PUT",
            "/tenants/{tenant}/credentials/personio/{account}",
            &[("tenant", &tenant.id), ("account", "second")],
            &json!({"client_id": tenant.fake_config.client_id, "client_secret": secret}),
        )
        .await;
    assert_eq!(stored.status, 204, "{}", stored.text());
    assert_eq!(h.secret_names(&tenant.id).await.len(), 2);

    config["personio"]["accounts"] = json!([main.clone()]);
    let removed = h
        .put_matching(TENANT, &tenant.params(), &config, "\"2\"")
        .await;
    assert_eq!(removed.status, 200, "{}", removed.text());
    let names = h.secret_names(&tenant.id).await;
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].ends_with("/personio/main"), "{names:?}");

    // The same name again is a new account: nothing of the old one's credentials comes back.
    let mut second = main.clone();
    second["name"] = json!("second");
    config["personio"]["accounts"] = json!([main, second]);
    let again = h
        .put_matching(TENANT, &tenant.params(), &config, "\"3\"")
        .await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(
        again.json()["credentials"]["personio"],
        json!({"main": true, "second": false})
    );
    logs::assert_free_of(&[secret]);
}

#[tokio::test]
async fn a_deployed_admin_api_refuses_a_directory_destination_when_it_is_entered() {
    let h = Harness::deployed().await;
    let id = test_support::moto::unique("t");
    let dir = tempfile::tempdir().unwrap();
    let fake = fake_personio::FakePersonio::start(
        crate::support::company(1, 1),
        fake_personio::FakeConfig::default(),
    )
    .await
    .unwrap();
    let config = crate::support::config_json(&id, &fake, &dir, "sync@vendor.example");
    let refused = h.json("POST", "/tenants", &[], &config).await;
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (422, "invalid_config"),
        "{}",
        refused.text()
    );
    assert!(
        refused.text().contains("kind = \\\"scim\\\""),
        "{}",
        refused.text()
    );
    assert_eq!(h.get(TENANT, &[("tenant", &id)]).await.status, 404);
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_json_errors() {
    let h = Harness::new().await;
    // Neither is in the contract, so they go past the checking helper.
    let patch = h.unchecked("PATCH", "/tenants/some-tenant").await;
    assert_eq!(
        (patch.status, patch.code().as_str()),
        (405, "method_not_allowed")
    );
    let nowhere = h.unchecked("GET", "/nowhere").await;
    assert_eq!(
        (nowhere.status, nowhere.code().as_str()),
        (404, "no_such_endpoint")
    );
}

#[tokio::test]
async fn the_caller_arn_the_lambda_passes_on_is_logged_with_the_request() {
    let h = Harness::new().await;
    let arn = format!(
        "arn:aws:sts::123456789012:assumed-role/{}/backend",
        test_support::moto::unique("role")
    );
    let mut request = axum::http::Request::builder()
        .uri("/tenants/no-such-tenant")
        .body(axum::body::Body::empty())
        .expect("a request");
    request.extensions_mut().insert(admin::Caller(arn.clone()));
    let answer = h.call(request).await;
    assert_eq!(answer.status, 404);
    let logs = logs::text();
    let line = logs
        .lines()
        .find(|line| line.contains(&arn))
        .expect("a log line with the caller");
    assert!(
        line.contains("/tenants/{tenant}") && line.contains("404"),
        "{line}"
    );
}
