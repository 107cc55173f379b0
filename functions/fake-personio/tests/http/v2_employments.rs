//! v2 persons and employments carry the same data as v1, and the whitelist hides the same.

use super::v2::*;
use super::*;
use std::collections::BTreeMap;

/// Everyone's v1 attributes by id.
async fn v1_people(client: &Client, fake: &FakePersonio) -> BTreeMap<String, Value> {
    let token = login(fake, client).await;
    let (status, _, page) = get(client, fake, "/v1/company/employees?limit=100", &token).await;
    assert_eq!(status, StatusCode::OK);
    page["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|employee| {
            let attributes = employee["attributes"].clone();
            (attributes["id"]["value"].to_string(), attributes)
        })
        .collect()
}

/// Everyone's v2 person, through every page.
async fn v2_people(client: &Client, fake: &FakePersonio, token: &str) -> Vec<Value> {
    let mut people = Vec::new();
    let mut url = Some("/v2/persons?limit=50".to_owned());
    while let Some(current) = url {
        let (status, _, page) = v2_get(client, fake, &current, token).await;
        assert_eq!(status, StatusCode::OK);
        people.extend(page["_data"].as_array().expect("_data").iter().cloned());
        url = next_link(&page);
    }
    people
}

/// The v2 employment of a person, through the link the person carries.
async fn employment_of(client: &Client, fake: &FakePersonio, token: &str, person: &Value) -> Value {
    let href = person["_meta"]["links"]["employments"]["href"]
        .as_str()
        .expect("employments link");
    let (status, _, list) = v2_get(client, fake, href, token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["_data"].as_array().map(Vec::len), Some(1));
    assert_eq!(list["_meta"]["links"]["self"]["href"], href);
    assert_eq!(list["_data"][0]["id"], person["employments"][0]["id"]);
    list["_data"][0].clone()
}

/// A v1 date attribute's day, or null.
fn v1_day(attributes: &Value, key: &str) -> Value {
    match attributes[key]["value"].as_str() {
        Some(text) => json!(text[..10]),
        None => Value::Null,
    }
}

/// The id of a v1 object attribute (office, department, …) as v2 writes ids, or null.
fn v1_object_id(attributes: &Value, key: &str) -> Value {
    match attributes[key]["value"]["attributes"]["id"].as_u64() {
        Some(id) => json!({ "id": id.to_string() }),
        None => Value::Null,
    }
}

#[tokio::test]
async fn every_person_and_employment_carries_the_v1_data() {
    let fake = spawn(70).await;
    let client = client();
    let token = v2_login(&fake, &client).await;
    let v1 = v1_people(&client, &fake).await;
    let people = v2_people(&client, &fake, &token).await;
    assert_eq!(people.len(), v1.len());
    let company = fake.company();
    let mut terminations = 0;
    for person in &people {
        let id = person["id"].as_str().expect("string id");
        let a = &v1[id];
        for key in ["email", "first_name", "last_name", "preferred_name"] {
            assert_eq!(person[key], a[key]["value"], "{id} {key}");
        }
        let gender = a["gender"]["value"]
            .as_str()
            .expect("gender")
            .to_uppercase();
        assert_eq!(person["gender"], gender.as_str());
        let v1_status = a["status"]["value"].as_str().expect("status");
        let active = ["onboarding", "active", "leave"].contains(&v1_status);
        assert_eq!(person["status"], if active { "ACTIVE" } else { "INACTIVE" });
        assert_eq!(
            person["profile_picture"]["url"],
            a["profile_picture"]["value"]
        );
        let updated = person["updated_at"].as_str().expect("updated_at");
        assert!(updated.ends_with('Z'));
        assert_eq!(
            updated[..19],
            a["last_modified_at"]["value"].as_str().expect("v1")[..19]
        );
        // Custom attributes: the values v1 sends, tags as a list.
        let employee = company
            .employee(id.parse().expect("numeric"))
            .expect("exists");
        let entries = person["custom_attributes"].as_array().expect("list");
        assert_eq!(entries.len(), employee.custom.len(), "{id}");
        for entry in entries {
            let key = entry["id"].as_str().expect("key");
            let v1_value = &a[key]["value"];
            match entry["type"].as_str() {
                Some("string_list") => {
                    let list = entry["value"].as_array().expect("a list");
                    let text = v1_value.as_str().expect("v1 tags text");
                    assert!(list
                        .iter()
                        .all(|tag| text.contains(tag.as_str().expect("text"))));
                }
                _ => assert_eq!(&entry["value"], v1_value, "{id} {key}"),
            }
            assert_eq!(entry["label"], a[key]["label"]);
            assert_eq!(entry["global_id"], a[key]["universal_id"]);
        }
        let e = employment_of(&client, &fake, &token, person).await;
        assert_eq!(e["person"]["id"], id);
        assert_eq!(e["status"], v1_status.to_uppercase().as_str());
        assert_eq!(e["position"]["title"], a["position"]["value"]);
        let kind = a["employment_type"]["value"].as_str().expect("type");
        assert_eq!(e["type"], kind.to_uppercase().as_str());
        let hours: f64 = a["weekly_working_hours"]["value"]
            .as_str()
            .expect("hours")
            .parse()
            .expect("number");
        assert_eq!(e["weekly_working_hours"].as_f64(), Some(hours));
        assert_eq!(e["employment_start_date"], v1_day(a, "hire_date"));
        assert_eq!(e["contract_end_date"], v1_day(a, "contract_end_date"));
        assert_eq!(e["probation_end_date"], v1_day(a, "probation_period_end"));
        assert_eq!(e["employment_end_date"], v1_day(a, "termination_date"));
        match a["supervisor"]["value"]["attributes"]["id"]["value"].as_u64() {
            Some(boss) => {
                assert_eq!(e["supervisor"], json!({ "id": boss.to_string() }));
                let link = format!("{}/v2/persons/{boss}", fake.url());
                assert_eq!(e["_meta"]["links"]["supervisor"]["href"], link.as_str());
            }
            None => assert_eq!(e["supervisor"], Value::Null),
        }
        assert_eq!(e["office"], v1_object_id(a, "office"));
        assert_eq!(e["legal_entity"], v1_object_id(a, "subcompany"));
        let mut units = Vec::new();
        for kind in ["department", "team"] {
            if let Value::Object(unit) = v1_object_id(a, kind) {
                units.push(json!({ "type": kind, "id": unit["id"] }));
            }
        }
        assert_eq!(e["org_units"], Value::Array(units));
        let centers: Vec<Value> = a["cost_centers"]["value"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| json!({ "id": c["attributes"]["id"].to_string(), "weight": c["attributes"]["percentage"] }))
            .collect();
        assert_eq!(e["cost_centers"], Value::Array(centers));
        if a["termination_date"]["value"].is_string() {
            terminations += 1;
            let t = &e["termination"];
            assert_eq!(t["termination_date"], v1_day(a, "termination_date"));
            assert_eq!(t["last_working_day"], v1_day(a, "last_working_day"));
            assert_eq!(t["reason"], a["termination_reason"]["value"]);
        } else {
            assert!(e.get("termination").is_none());
        }
        // The single endpoints give the same objects bare.
        let (_, _, single) = v2_get(&client, &fake, &format!("/v2/persons/{id}"), &token).await;
        assert_eq!(&single, person);
        let path = format!(
            "/v2/persons/{id}/employments/{}",
            e["id"].as_str().expect("id")
        );
        let (_, _, single) = v2_get(&client, &fake, &path, &token).await;
        assert_eq!(single, e);
    }
    assert!(terminations > 0, "the company should have leavers");
    assert_eq!(fake.stats().v2_employment_requests, 140);
}

#[tokio::test]
async fn unknown_persons_and_employments_are_404_and_limits_are_checked() {
    let fake = spawn(5).await;
    let client = client();
    let token = v2_login(&fake, &client).await;
    let id = fake.company().employees[0].id;
    for path in [
        "/v2/persons/999999/employments".to_owned(),
        format!("/v2/persons/{id}/employments/00000000-0000-4000-8000-000000000000"),
    ] {
        let (status, _, body) = v2_get(&client, &fake, &path, &token).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_v2_error(&body, "common.resource_not_found");
    }
    for query in ["limit=0", "limit=51", "cursor=cur_nope"] {
        let path = format!("/v2/persons/{id}/employments?{query}");
        let (status, _, body) = v2_get(&client, &fake, &path, &token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_v2_error(&body, "common.bad_request");
    }
    let path = format!("/v2/persons/{id}/employments?limit=50");
    assert_eq!(
        v2_get(&client, &fake, &path, &token).await.0,
        StatusCode::OK
    );
    let v1_token = login(&fake, &client).await;
    let (status, _, body) = v2_get(&client, &fake, &path, &v1_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_v2_error(&body, "common.unauthorized");
}

#[tokio::test]
async fn fields_outside_the_whitelist_are_omitted() {
    let fake = spawn(120).await;
    let company = fake.company();
    let mut readable = company.attribute_keys();
    for key in [
        "email",
        "position",
        "department",
        "office",
        "hire_date",
        "termination_date",
        "supervisor",
        "cost_centers",
        "last_modified_at",
        "dynamic_180883",
    ] {
        readable.remove(key);
    }
    fake.set_whitelist(Some(readable));
    let client = client();
    let token = v2_login(&fake, &client).await;
    let leaver = company
        .employees
        .iter()
        .find(|e| {
            e.termination_date.is_some()
                && e.team.is_some()
                && e.custom.contains_key("dynamic_180883")
        })
        .expect("a leaver in a team with the attribute");
    let (_, _, person) = v2_get(
        &client,
        &fake,
        &format!("/v2/persons/{}", leaver.id),
        &token,
    )
    .await;
    assert_eq!(person["id"], leaver.id.to_string());
    assert!(person.get("email").is_none() && person.get("updated_at").is_none());
    assert_eq!(person["first_name"], leaver.first_name.as_str());
    let keys: Vec<&str> = person["custom_attributes"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|entry| entry["id"].as_str())
        .collect();
    assert!(
        !keys.is_empty() && !keys.contains(&"dynamic_180883"),
        "{keys:?}"
    );
    let e = employment_of(&client, &fake, &token, &person).await;
    for field in [
        "position",
        "office",
        "employment_start_date",
        "employment_end_date",
        "termination",
        "supervisor",
        "cost_centers",
        "updated_at",
    ] {
        assert!(e.get(field).is_none(), "{field} shown: {e}");
    }
    assert!(e["_meta"]["links"].get("supervisor").is_none());
    let units = e["org_units"].as_array().expect("teams stay readable");
    assert_eq!(units.len(), 1);
    assert_eq!(units[0]["type"], "team");
    assert!(e["status"].is_string() && e["legal_entity"].is_object());
}
