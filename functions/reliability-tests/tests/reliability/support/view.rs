//! [`AppView`]: what an app holds, as content that two different destinations can be compared on.
//! Each user by `externalId` with its `userName`, `active`, every neutral field that has a SCIM
//! home (read back through the same [`SchemaMap`] the adapter writes with) and its manager's
//! `externalId`; each group by name with its members' `externalId`s. The destination's own ids
//! and timestamps are left out, and so is anything a clean run could not have written.
//!
//! The faulty tenant lives in scim2-server; its clean reference writes into a JSON directory (no
//! SCIM server time spent on references). Both go through the same engine and mapping, so a
//! field the reference holds is the value Personio's data calls for.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use sync_local::DirectoryDestination;
use sync_scim::SchemaMap;
use test_support::scim::ScimReader;

/// One user as content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserView {
    /// `userName`, lower-cased (servers compare it case-insensitively).
    pub user_name: String,
    /// May the user sign in.
    pub active: bool,
    /// Neutral field → text, for the fields with a SCIM home.
    pub fields: BTreeMap<String, String>,
    /// The manager's `externalId`.
    pub manager: Option<String>,
}

/// An app's users and groups as content.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppView {
    /// Users by `externalId` (users without one by `? <id>`).
    pub users: BTreeMap<String, UserView>,
    /// `externalId`s and `userName`s held by more than one user, and groups created twice.
    pub duplicates: Vec<String>,
    /// Group name → members' `externalId`s.
    pub groups: BTreeMap<String, BTreeSet<String>>,
}

/// Which Personio attribute each compared field is mapped from by default.
const FIELD_SOURCES: &[(&str, &str)] = &[
    ("user_name", "email"),
    ("email", "email"),
    ("given_name", "first_name"),
    ("family_name", "last_name"),
    ("title", "position"),
    ("department", "department"),
    ("location", "office"),
    ("cost_center", "cost_centers"),
    ("photo_url", "profile_picture"),
    ("employee_type", "employment_type"),
    ("employee_number", "id"),
];

fn schema() -> SchemaMap {
    SchemaMap::new(&BTreeMap::new()).expect("the default SCIM paths")
}

impl AppView {
    /// The people whose users differ between `self` and `other` (or exist in one only).
    pub fn differing(&self, other: &AppView) -> BTreeSet<String> {
        self.users
            .keys()
            .chain(other.users.keys())
            .filter(|key| self.users.get(*key) != other.users.get(*key))
            .cloned()
            .collect()
    }

    /// How `key`'s user differs between `self` and `other`, in a few words (no values of fields
    /// that agree).
    pub fn describe_difference(&self, key: &str, other: &AppView) -> String {
        let (Some(mine), Some(theirs)) = (self.users.get(key), other.users.get(key)) else {
            return format!(
                "{key}: app has {}, reference has {}",
                presence(self.users.get(key)),
                presence(other.users.get(key))
            );
        };
        let mut parts = Vec::new();
        if mine.active != theirs.active {
            parts.push(format!(
                "active {} (reference {})",
                mine.active, theirs.active
            ));
        }
        if mine.user_name != theirs.user_name {
            parts.push("userName differs".to_owned());
        }
        if mine.manager != theirs.manager {
            parts.push(format!(
                "manager {:?} (reference {:?})",
                mine.manager, theirs.manager
            ));
        }
        let fields: BTreeSet<&String> = mine.fields.keys().chain(theirs.fields.keys()).collect();
        for field in fields {
            if mine.fields.get(field) != theirs.fields.get(field) {
                parts.push(format!(
                    "{field} {} (reference {})",
                    if mine.fields.contains_key(field) {
                        "set"
                    } else {
                        "missing"
                    },
                    if theirs.fields.contains_key(field) {
                        "set"
                    } else {
                        "missing"
                    },
                ));
            }
        }
        format!("{key}: {}", parts.join(", "))
    }

    /// Whether every way `key`'s user differs from `other`'s follows from Personio attributes
    /// the run could not read: the fields mapped from them, the manager from `supervisor`, or —
    /// from `status`, `hire_date` or `termination_date` — less access than the reference gives.
    pub fn explained_by(&self, key: &str, other: &AppView, unreadable: &BTreeSet<String>) -> bool {
        if unreadable.is_empty() {
            return false;
        }
        let lifecycle = ["status", "hire_date", "termination_date"]
            .iter()
            .any(|attribute| unreadable.contains(*attribute));
        let (mine, theirs) = (self.users.get(key), other.users.get(key));
        let access = |user: Option<&UserView>| user.is_some_and(|user| user.active);
        if access(mine) && !access(theirs) {
            return false;
        }
        let (Some(mine), Some(theirs)) = (mine, theirs) else {
            return lifecycle;
        };
        if mine.active != theirs.active && !lifecycle {
            return false;
        }
        if mine.manager != theirs.manager && !unreadable.contains("supervisor") {
            return false;
        }
        let fields: BTreeSet<&String> = mine.fields.keys().chain(theirs.fields.keys()).collect();
        fields
            .into_iter()
            .filter(|field| mine.fields.get(*field) != theirs.fields.get(*field))
            .all(|field| {
                FIELD_SOURCES
                    .iter()
                    .any(|(target, source)| target == field && unreadable.contains(*source))
            })
            && (mine.user_name == theirs.user_name || unreadable.contains("email"))
    }

    /// The members of `group` that differ between `self` and `other`.
    pub fn member_difference(&self, group: &str, other: &AppView) -> BTreeSet<String> {
        let empty = BTreeSet::new();
        let mine = self.groups.get(group).unwrap_or(&empty);
        let theirs = other.groups.get(group).unwrap_or(&empty);
        mine.symmetric_difference(theirs).cloned().collect()
    }

    /// The groups that differ between `self` and `other`.
    pub fn differing_groups(&self, other: &AppView) -> BTreeSet<String> {
        self.groups
            .keys()
            .chain(other.groups.keys())
            .filter(|key| self.groups.get(*key) != other.groups.get(*key))
            .cloned()
            .collect()
    }

    /// Reads a tenant of scim2-server.
    pub async fn of_scim(reader: &ScimReader) -> Self {
        let schema = schema();
        let resources: Vec<Value> = reader.users().await.into_iter().map(|u| u.body).collect();
        let external: BTreeMap<String, String> = resources
            .iter()
            .map(|body| (text(&body["id"]), external_key(body)))
            .collect();
        let mut view = AppView::default();
        let mut names: BTreeMap<String, usize> = BTreeMap::new();
        for body in &resources {
            let fields = schema
                .paths()
                .filter_map(|(field, path)| {
                    let value = path.get(body)?.as_str()?;
                    Some((field.to_owned(), value.to_owned()))
                })
                .collect();
            let manager = body[sync_scim::ENTERPRISE_USER]["manager"]["value"]
                .as_str()
                .map(|id| {
                    external
                        .get(id)
                        .cloned()
                        .unwrap_or_else(|| format!("? {id}"))
                });
            let user = UserView {
                user_name: text(&body["userName"]).to_lowercase(),
                active: body["active"].as_bool().unwrap_or(true),
                fields,
                manager,
            };
            *names.entry(user.user_name.clone()).or_default() += 1;
            let key = external_key(body);
            if view.users.insert(key.clone(), user).is_some() {
                view.duplicates.push(format!("externalId {key}"));
            }
        }
        view.duplicates.extend(
            names
                .into_iter()
                .filter(|(_, n)| *n > 1)
                .map(|(name, n)| format!("userName {name} ×{n}")),
        );
        for group in reader.groups().await {
            let members = group
                .members
                .iter()
                .map(|id| {
                    external
                        .get(id)
                        .cloned()
                        .unwrap_or_else(|| format!("? {id}"))
                })
                .collect();
            if view
                .groups
                .insert(group.display_name.clone(), members)
                .is_some()
            {
                view.duplicates
                    .push(format!("group {} created twice", group.display_name));
            }
        }
        view
    }

    /// Reads a JSON directory (the reference).
    pub async fn of_directory(directory: &DirectoryDestination) -> Self {
        let schema = schema();
        let users = directory
            .read_all_users()
            .await
            .expect("read the directory");
        let external: BTreeMap<String, String> = users
            .iter()
            .map(|user| {
                let key = user
                    .external_id
                    .clone()
                    .unwrap_or_else(|| format!("? {}", user.id));
                (user.id.to_string(), key)
            })
            .collect();
        let mut view = AppView::default();
        for user in &users {
            let fields = schema
                .paths()
                .filter_map(|(field, _)| {
                    Some((field.to_owned(), user.fields.get(field)?.to_text()))
                })
                .collect();
            let manager = user.manager.as_ref().map(|id| {
                external
                    .get(id.as_str())
                    .cloned()
                    .unwrap_or_else(|| format!("? {id}"))
            });
            let key = external[user.id.as_str()].clone();
            let user = UserView {
                user_name: user.user_name.to_lowercase(),
                active: user.active,
                fields,
                manager,
            };
            if view.users.insert(key.clone(), user).is_some() {
                view.duplicates.push(format!("externalId {key}"));
            }
        }
        for group in directory.read_all_groups().await.expect("read the groups") {
            let members = group
                .members
                .iter()
                .map(|id| {
                    external
                        .get(id.as_str())
                        .cloned()
                        .unwrap_or_else(|| format!("? {id}"))
                })
                .collect();
            view.groups.insert(group.display_name, members);
        }
        view
    }
}

fn presence(user: Option<&UserView>) -> &'static str {
    match user {
        None => "no user",
        Some(user) if user.active => "an active user",
        Some(_) => "an inactive user",
    }
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn external_key(body: &Value) -> String {
    body["externalId"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("? {}", text(&body["id"])))
}
