//! `POST /tenants/{tenant}/personio/{account}/employees`: a person added to (the fake) Personio
//! with the stored credentials, checked first, Personio's refusal shown as it said it.

use crate::support::Harness;
use serde_json::json;

const ADD: &str = "/tenants/{tenant}/personio/{account}/employees";

#[tokio::test]
async fn a_person_is_checked_then_added_to_personio_and_refusals_say_why() {
    let h = Harness::new().await;
    let tenant = h.tenant(4, 81).await;
    let params = [("tenant", tenant.id.as_str()), ("account", "main")];

    let invalid = h
        .json(
            "POST",
            ADD,
            &params,
            &json!({"email": "ada", "first_name": "", "last_name": "Lovelace",
                    "attributes": {"salary": "1"}}),
        )
        .await;
    assert_eq!(invalid.status, 422, "{}", invalid.text());
    assert_eq!(invalid.code(), "invalid_person");
    assert_eq!(
        invalid.json()["error"]["problems"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(tenant.fake.stats().write_requests, 0, "nothing sent");

    let person = json!({"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace",
                        "attributes": {"position": "Analyst", "hire_date": "2026-12-01"}});
    let added = h.json("POST", ADD, &params, &person).await;
    assert_eq!(added.status, 201, "{}", added.text());
    let id = added.json()["id"].as_u64().expect("an id");
    let stored = tenant
        .fake
        .company()
        .employee(id)
        .cloned()
        .expect("in Personio");
    assert_eq!(stored.email, "ada@example.com");
    assert_eq!(stored.position, "Analyst");

    let twice = h.json("POST", ADD, &params, &person).await;
    assert_eq!(twice.status, 422, "{}", twice.text());
    assert_eq!(twice.code(), "personio_refused");
    assert!(
        twice.message().contains("already been taken"),
        "{}",
        twice.message()
    );

    tenant.fake.set_write_access(false);
    let mut other = person.clone();
    other["email"] = json!("grace@example.com");
    let read_only = h.json("POST", ADD, &params, &other).await;
    assert_eq!(read_only.status, 409, "{}", read_only.text());
    assert_eq!(read_only.code(), "stored_credentials_read_only");
}
