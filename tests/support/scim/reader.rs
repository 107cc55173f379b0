//! Reading a tenant of the SCIM server back with plain HTTP and the server's token: users (paged,
//! by `externalId`, by `userName`) and groups, picked apart into [`ScimUser`] and [`ScimGroup`].
//! It also puts users there that are not ours.

use super::scim_server;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeSet;
use sync_scim::ENTERPRISE_USER;

/// A user as the server holds it, with the attributes the tests look at picked out.
#[derive(Clone, Debug, PartialEq)]
pub struct ScimUser {
    /// The server's id.
    pub id: String,
    /// `userName`.
    pub user_name: String,
    /// `externalId`.
    pub external_id: Option<String>,
    /// `active`, when the server holds one.
    pub active: Option<bool>,
    /// `title`.
    pub title: Option<String>,
    /// Enterprise `department`.
    pub department: Option<String>,
    /// Enterprise `employeeNumber`.
    pub employee_number: Option<String>,
    /// Enterprise `manager.value`: the manager's SCIM id.
    pub manager: Option<String>,
    /// `meta.version`, the server's ETag.
    pub version: Option<String>,
    /// The whole resource.
    pub body: Value,
}

impl ScimUser {
    /// Picks a user resource apart.
    pub fn from_json(body: Value) -> Self {
        let text = |value: &Value| value.as_str().map(str::to_owned);
        let enterprise = &body[ENTERPRISE_USER];
        Self {
            id: text(&body["id"]).expect("a user has an id"),
            user_name: text(&body["userName"]).expect("a user has a userName"),
            external_id: text(&body["externalId"]),
            active: body["active"].as_bool(),
            title: text(&body["title"]),
            department: text(&enterprise["department"]),
            employee_number: text(&enterprise["employeeNumber"]),
            manager: text(&enterprise["manager"]["value"]),
            version: text(&body["meta"]["version"]),
            body,
        }
    }
}

/// A group as the server holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScimGroup {
    /// The server's id.
    pub id: String,
    /// `displayName`.
    pub display_name: String,
    /// The members' SCIM ids.
    pub members: BTreeSet<String>,
}

/// Plain HTTP against one tenant of the server, to read back what it holds (and to put users
/// there that are not ours).
pub struct ScimReader {
    http: reqwest::Client,
    base_url: String,
    token: String,
}

impl ScimReader {
    /// A reader of the tenant at `base_url` with the server's token.
    pub fn new(base_url: &str) -> Self {
        Self::with_token(base_url, &scim_server().token)
    }

    /// A reader with another token (of a server the test started itself).
    pub fn with_token(base_url: &str, token: &str) -> Self {
        // reqwest is built without a TLS provider; plain http needs none, but building a client
        // checks for one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            http: reqwest::Client::new(),
            base_url: base_url.to_owned(),
            token: token.to_owned(),
        }
    }

    /// The token it reads with.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The tenant's base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `GET base/path?query`, asserting success.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Value {
        let response = self
            .http
            .get(format!("{}/{path}", self.base_url))
            .query(query)
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("GET from scim2-server");
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.expect("a JSON body")
    }

    /// Every resource of `collection` matching `filter`, page by page (RFC 7644 §3.4.2.4).
    async fn list(&self, collection: &str, filter: Option<&str>) -> Vec<Value> {
        let mut resources = Vec::new();
        loop {
            let mut query = vec![
                ("startIndex", (resources.len() + 1).to_string()),
                ("count", "100".to_owned()),
            ];
            query.extend(filter.map(|filter| ("filter", filter.to_owned())));
            let page = self.get(collection, &query).await;
            let total = page["totalResults"].as_u64().expect("totalResults") as usize;
            let items = page["Resources"].as_array().cloned().unwrap_or_default();
            let empty = items.is_empty();
            resources.extend(items);
            if empty || resources.len() >= total {
                return resources;
            }
        }
    }

    /// Every user of the tenant.
    pub async fn users(&self) -> Vec<ScimUser> {
        let users = self.list("Users", None).await;
        users.into_iter().map(ScimUser::from_json).collect()
    }

    /// The users matching `filter` (RFC 7644 §3.4.2.2), as the server holds them.
    pub async fn users_where(&self, filter: &str) -> Vec<Value> {
        self.list("Users", Some(filter)).await
    }

    /// The users carrying `external_id`.
    pub async fn users_with_external_id(&self, external_id: &str) -> Vec<ScimUser> {
        let filter = format!("externalId eq \"{external_id}\"");
        let users = self.users_where(&filter).await;
        users.into_iter().map(ScimUser::from_json).collect()
    }

    /// The users whose `userName` is `user_name` (compared case-insensitively by the server).
    pub async fn users_named(&self, user_name: &str) -> Vec<ScimUser> {
        let filter = format!("userName eq \"{user_name}\"");
        let users = self.list("Users", Some(&filter)).await;
        users.into_iter().map(ScimUser::from_json).collect()
    }

    /// The user with this SCIM id, if the server still has it.
    pub async fn user(&self, id: &str) -> Option<ScimUser> {
        let response = self
            .http
            .get(format!("{}/Users/{id}", self.base_url))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("GET a user from scim2-server");
        if response.status() == StatusCode::NOT_FOUND {
            return None;
        }
        assert!(response.status().is_success(), "{}", response.status());
        Some(ScimUser::from_json(response.json().await.expect("JSON")))
    }

    /// Every group of the tenant.
    pub async fn groups(&self) -> Vec<ScimGroup> {
        let groups = self.list("Groups", None).await;
        groups
            .into_iter()
            .map(|group| ScimGroup {
                id: group["id"].as_str().expect("a group has an id").to_owned(),
                display_name: group["displayName"].as_str().unwrap_or_default().to_owned(),
                members: group["members"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|member| member["value"].as_str().map(str::to_owned))
                    .collect(),
            })
            .collect()
    }

    /// The members of the group named `display_name`; empty when there is no such group.
    pub async fn members_of(&self, display_name: &str) -> BTreeSet<String> {
        let groups = self.groups().await;
        let mut named = groups
            .into_iter()
            .filter(|g| g.display_name == display_name);
        let group = named.next();
        assert!(named.next().is_none(), "two groups named {display_name}");
        group.map(|group| group.members).unwrap_or_default()
    }

    /// `POST /Users` of a raw body, for users that are not ours; returns the user as created.
    pub async fn post_user(&self, body: Value) -> ScimUser {
        let response = self
            .http
            .post(format!("{}/Users", self.base_url))
            .bearer_auth(&self.token)
            .header("Content-Type", "application/scim+json")
            .json(&body)
            .send()
            .await
            .expect("POST /Users to scim2-server");
        assert_eq!(response.status(), StatusCode::CREATED);
        ScimUser::from_json(response.json().await.expect("JSON"))
    }
}

/// A user body that is not ours: core schema only, and an `externalId` only when given.
pub fn foreign_user(user_name: &str, external_id: Option<&str>) -> Value {
    let mut body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Not", "familyName": "Ours"},
        "emails": [{"type": "work", "value": user_name, "primary": true}],
        "title": "Someone else's user",
        "active": true
    });
    if let Some(external_id) = external_id {
        body["externalId"] = Value::String(external_id.to_owned());
    }
    body
}
