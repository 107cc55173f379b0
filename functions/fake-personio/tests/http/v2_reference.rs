//! v2 reference data: an employment's ids resolve to the names v1 shows.

use super::v2::*;
use super::*;
use std::collections::BTreeMap;

/// Every item of a reference list by id → name, through pages of `limit`.
async fn names(
    client: &Client,
    fake: &FakePersonio,
    token: &str,
    list: &str,
    limit: usize,
) -> BTreeMap<String, Value> {
    let mut items = BTreeMap::new();
    let mut url = Some(format!("/v2/{list}?limit={limit}"));
    let mut pages = 0;
    while let Some(current) = url {
        let (status, _, page) = v2_get(client, fake, &current, token).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for item in page["_data"].as_array().expect("_data") {
            let id = item["id"].as_str().expect("string id").to_owned();
            assert!(items.insert(id, item.clone()).is_none(), "served twice");
        }
        url = next_link(&page);
        pages += 1;
    }
    assert!(
        pages > 1,
        "{list} should need more than one page of {limit}"
    );
    items
}

/// The `name` of the v1 object attribute `key`.
fn v1_name<'a>(attributes: &'a Value, key: &str) -> &'a Value {
    &attributes[key]["value"]["attributes"]["name"]
}

#[tokio::test]
async fn employment_ids_resolve_to_the_v1_names() {
    let fake = spawn(60).await;
    let client = client();
    let token = v2_login(&fake, &client).await;
    let v1_token = login(&fake, &client).await;
    let workplaces = names(&client, &fake, &token, "workplaces", 2).await;
    let entities = names(&client, &fake, &token, "legal-entities", 3).await;
    let centers = names(&client, &fake, &token, "cost-centers", 4).await;
    assert_eq!(entities["7033"]["country"], "DE");
    let (_, _, v1) = get(&client, &fake, "/v1/company/employees?limit=100", &v1_token).await;
    let mut resolved = 0;
    for employee in v1["data"].as_array().expect("data") {
        let a = &employee["attributes"];
        let id = a["id"]["value"].as_u64().expect("id");
        let path = format!("/v2/persons/{id}/employments");
        let (_, _, list) = v2_get(&client, &fake, &path, &token).await;
        let e = &list["_data"][0];
        if let Some(office) = e["office"]["id"].as_str() {
            assert_eq!(&workplaces[office]["name"], v1_name(a, "office"));
        }
        if let Some(entity) = e["legal_entity"]["id"].as_str() {
            assert_eq!(&entities[entity]["name"], v1_name(a, "subcompany"));
        }
        for (center, v1_center) in e["cost_centers"]
            .as_array()
            .expect("list")
            .iter()
            .zip(a["cost_centers"]["value"].as_array().into_iter().flatten())
        {
            let center = center["id"].as_str().expect("id");
            assert_eq!(centers[center]["name"], v1_center["attributes"]["name"]);
        }
        for unit in e["org_units"].as_array().expect("list") {
            let kind = unit["type"].as_str().expect("type");
            let path = format!(
                "/v2/org-units/{}?type={kind}",
                unit["id"].as_str().expect("id")
            );
            let (status, _, body) = v2_get(&client, &fake, &path, &token).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert_eq!(body["type"], kind);
            assert_eq!(body["id"], unit["id"]);
            assert_eq!(&body["name"], v1_name(a, kind));
            resolved += 1;
        }
    }
    assert!(resolved > 60, "departments and teams should resolve");
}

#[tokio::test]
async fn reference_errors_and_tokens() {
    let fake = spawn(5).await;
    let client = client();
    let token = v2_login(&fake, &client).await;
    let company = fake.company();
    let department = company.departments[0].id;
    let (status, _, body) = v2_get(
        &client,
        &fake,
        &format!("/v2/org-units/{department}"),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["type"], "department");
    for path in [
        format!("/v2/org-units/{department}?type=team"),
        "/v2/org-units/1".to_owned(),
        "/v2/legal-entities/1".to_owned(),
    ] {
        let (status, _, body) = v2_get(&client, &fake, &path, &token).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_v2_error(&body, "common.resource_not_found");
    }
    let (_, _, persons) = v2_get(&client, &fake, "/v2/persons?limit=1", &token).await;
    let persons_cursor = next_link(&persons).expect("a next page");
    let persons_cursor = persons_cursor.split("cursor=").nth(1).expect("cursor");
    for path in [
        format!("/v2/org-units/{department}?type=office"),
        "/v2/legal-entities?limit=101".to_owned(),
        "/v2/legal-entities?limit=0".to_owned(),
        "/v2/workplaces?limit=201".to_owned(),
        "/v2/cost-centers?cursor=cur_00".to_owned(),
        format!("/v2/workplaces?cursor={persons_cursor}"),
    ] {
        let (status, _, body) = v2_get(&client, &fake, &path, &token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_v2_error(&body, "common.bad_request");
    }
    let entity = company.subcompanies[1].id;
    let (status, _, body) = v2_get(
        &client,
        &fake,
        &format!("/v2/legal-entities/{entity}"),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["name"], company.subcompanies[1].name.as_str());
    let path = format!("/v2/cost-centers?id={}", company.cost_centers[2].id);
    let (_, _, page) = v2_get(&client, &fake, &path, &token).await;
    assert_eq!(v2_ids(&page), [company.cost_centers[2].id]);
    let (_, _, page) = v2_get(&client, &fake, "/v2/workplaces", &token).await;
    assert_eq!(v2_ids(&page).len(), company.offices.len());
    assert_eq!(next_link(&page), None);
    // Reference data needs a v2 token, not the persons read right.
    let v1_token = login(&fake, &client).await;
    let (status, _, body) = v2_get(&client, &fake, "/v2/workplaces", &v1_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_v2_error(&body, "common.unauthorized");
    fake.set_employee_access(false);
    assert_eq!(
        v2_get(&client, &fake, "/v2/workplaces", &token).await.0,
        StatusCode::OK
    );
    assert_eq!(fake.stats().v2_reference_requests, 15);
    assert_eq!(fake.stats().v2_person_requests, 1);
}
