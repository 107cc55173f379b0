//! What the JSON directory keeps on disk (a user file, a group file) and the in-memory index of
//! user names and emails that makes its uniqueness checks race-free.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use sync_core::ids::DestinationId;
use sync_core::ports::DestinationUser;
use sync_core::record::{UserRecord, EMAIL};

/// The neutral field that carries the employee number (SCIM enterprise `employeeNumber`).
pub const EMPLOYEE_NUMBER: &str = "employee_number";

/// One user file, `<dir>/users/<id>.json`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredUser {
    /// The directory's id (`u-` and 12 hex digits for users it created).
    pub id: DestinationId,
    /// The `externalId`: `<account>:<personio id>` once the sync created or adopted the user.
    pub external_id: Option<String>,
    /// The login name, unique without regard to case.
    pub user_name: String,
    /// Whether the user may sign in.
    pub active: bool,
    /// The manager's id.
    pub manager: Option<DestinationId>,
    /// Every field as the sync wrote it, under its neutral name.
    pub fields: UserRecord,
    /// When the file was created and last changed.
    pub meta: Meta,
}

impl StoredUser {
    /// The work email, if set.
    pub fn email(&self) -> Option<String> {
        self.fields.text(EMAIL)
    }

    /// The user as the `Destination` port reports it.
    pub fn to_destination_user(&self) -> DestinationUser {
        DestinationUser {
            id: self.id.clone(),
            user_name: self.user_name.clone(),
            email: self.email(),
            external_id: self.external_id.clone(),
            employee_number: self.fields.text(EMPLOYEE_NUMBER),
            active: self.active,
        }
    }

    /// Whether `other` differs from `self` in anything but `meta`: a write that changes nothing
    /// is not made.
    pub(crate) fn same_content(&self, other: &Self) -> bool {
        self.id == other.id
            && self.external_id == other.external_id
            && self.user_name == other.user_name
            && self.active == other.active
            && self.manager == other.manager
            && self.fields == other.fields
    }
}

impl fmt::Debug for StoredUser {
    // The user name and field values are personal data: only ids, flags and field names show.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredUser")
            .field("id", &self.id)
            .field("external_id", &self.external_id)
            .field("user_name", &"<redacted>")
            .field("active", &self.active)
            .field("manager", &self.manager)
            .field("fields", &self.fields)
            .field("meta", &self.meta)
            .finish()
    }
}

/// Timestamps of a user file, as SCIM's `meta` carries them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// When the user was created.
    pub created: DateTime<Utc>,
    /// When the user last changed.
    pub last_modified: DateTime<Utc>,
}

/// One group file, `<dir>/groups/<id>.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredGroup {
    /// The directory's id (`g-` and 12 hex digits).
    pub id: DestinationId,
    /// The name shown in the app (a department, team or office name).
    pub display_name: String,
    /// The creator's key for the group (`personio-sync:department:Sales`), if it set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Member user ids, in the order they joined.
    pub members: Vec<DestinationId>,
}

/// User names and emails of every user, folded to lower case, so that "is this name taken" and
/// "who has this email" need no file reads.
#[derive(Debug, Default)]
pub(crate) struct Index {
    by_user_name: HashMap<String, DestinationId>,
    // Emails are not unique in real directories, so one email may point at several users.
    by_email: HashMap<String, BTreeSet<DestinationId>>,
}

/// The form both sides of a case-insensitive comparison are brought to.
fn fold(text: &str) -> String {
    text.to_lowercase()
}

impl Index {
    /// An index of `users`. Should two files claim one name (edited by hand), the lower id wins.
    pub(crate) fn from_users<'a>(users: impl IntoIterator<Item = &'a StoredUser>) -> Self {
        let mut users: Vec<&StoredUser> = users.into_iter().collect();
        users.sort_by(|a, b| b.id.cmp(&a.id));
        let mut index = Self::default();
        for user in users {
            index.insert(user);
        }
        index
    }

    /// Records `user`'s name and email.
    pub(crate) fn insert(&mut self, user: &StoredUser) {
        self.by_user_name
            .insert(fold(&user.user_name), user.id.clone());
        if let Some(email) = user.email() {
            self.by_email
                .entry(fold(&email))
                .or_default()
                .insert(user.id.clone());
        }
    }

    /// Forgets `user`'s name and email (before they change).
    pub(crate) fn remove(&mut self, user: &StoredUser) {
        let name = fold(&user.user_name);
        if self.by_user_name.get(&name) == Some(&user.id) {
            self.by_user_name.remove(&name);
        }
        if let Some(email) = user.email() {
            let email = fold(&email);
            if let Some(ids) = self.by_email.get_mut(&email) {
                ids.remove(&user.id);
                if ids.is_empty() {
                    self.by_email.remove(&email);
                }
            }
        }
    }

    /// The user that holds `user_name`, compared without regard to case.
    pub(crate) fn owner_of(&self, user_name: &str) -> Option<&DestinationId> {
        self.by_user_name.get(&fold(user_name))
    }

    /// The user whose user name, or else email, is `name_or_email`.
    pub(crate) fn find(&self, name_or_email: &str) -> Option<&DestinationId> {
        let folded = fold(name_or_email);
        self.by_user_name
            .get(&folded)
            .or_else(|| self.by_email.get(&folded).and_then(|ids| ids.first()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::record::{FieldValue, USER_NAME};

    fn user(id: &str, user_name: &str, email: Option<&str>) -> StoredUser {
        let mut fields = UserRecord::new();
        fields.set(USER_NAME, FieldValue::Text(user_name.into()));
        if let Some(email) = email {
            fields.set(EMAIL, FieldValue::Text(email.into()));
        }
        let now = Utc::now();
        StoredUser {
            id: DestinationId::parse(id).unwrap(),
            external_id: None,
            user_name: user_name.into(),
            active: true,
            manager: None,
            fields,
            meta: Meta {
                created: now,
                last_modified: now,
            },
        }
    }

    #[test]
    fn index_finds_by_name_or_email_ignoring_case() {
        let jane = user("u-1", "Jane.Doe", Some("JANE@acme.example"));
        let index = Index::from_users([&jane]);
        assert_eq!(index.owner_of("jane.doe"), Some(&jane.id));
        assert_eq!(index.find("jane@ACME.example"), Some(&jane.id));
        assert_eq!(index.owner_of("jane@acme.example"), None);
    }

    #[test]
    fn removing_a_user_keeps_others_with_the_same_email() {
        let a = user("u-1", "a", Some("shared@acme.example"));
        let b = user("u-2", "b", Some("shared@acme.example"));
        let mut index = Index::from_users([&a, &b]);
        index.remove(&a);
        assert_eq!(index.owner_of("a"), None);
        assert_eq!(index.find("shared@acme.example"), Some(&b.id));
    }

    #[test]
    fn user_files_use_the_documented_json_names() {
        let json = serde_json::to_value(user("u-1", "jane", None)).unwrap();
        for key in [
            "id",
            "externalId",
            "userName",
            "active",
            "manager",
            "fields",
        ] {
            assert!(json.get(key).is_some(), "{key} missing");
        }
        assert!(json["meta"].get("lastModified").is_some());
        assert_eq!(json["externalId"], serde_json::Value::Null);
    }
}
