//! The two things this service may write to Personio, both opt-in or limited by the tenant:
//! write-back of the app's user id or user name into one custom attribute (`[write_back]`), and
//! the attributes an admin may set when adding a person (`[add_person]`).

use serde::{Deserialize, Serialize};

/// Write-back to Personio (`[write_back]`), like Entra's write-back to Workday: after a user is
/// created (or adopted) or its user name changes, the value goes into one custom attribute of the
/// person in Personio. Off unless `attribute` is set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteBackConfig {
    /// The custom attribute written, by key (`dynamic_40010`); the only one ever written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// What goes into it.
    #[serde(default)]
    pub value: WriteBackValue,
}

/// What write-back writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteBackValue {
    /// The app's user id (SCIM `id`).
    #[default]
    UserId,
    /// The user's `userName`.
    UserName,
}

impl WriteBackConfig {
    /// The problems of the section, for the config's validation.
    pub fn problems(&self) -> Vec<String> {
        match &self.attribute {
            Some(key) if !is_custom_key(key) => vec![format!(
                "write_back.attribute: `{key}` is not a custom attribute key like dynamic_40010 (check-config --online lists the keys); only a custom attribute is ever written"
            )],
            _ => Vec::new(),
        }
    }
}

/// Attributes an admin may set when adding a person to Personio (`[add_person]`), besides first
/// name, last name and email, which are always asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddPersonConfig {
    /// Standard attributes from [`ADDABLE`] and custom `dynamic_*` keys.
    #[serde(default = "default_addable")]
    pub attributes: Vec<String>,
}

/// The standard attributes Personio's `POST /company/employees` takes besides the names and email.
pub const ADDABLE: &[&str] = &[
    "preferred_name",
    "gender",
    "position",
    "subcompany",
    "department",
    "office",
    "hire_date",
    "weekly_working_hours",
    "status",
    "supervisor_id",
];

fn default_addable() -> Vec<String> {
    ["position", "department", "office", "hire_date"]
        .map(str::to_owned)
        .to_vec()
}

impl Default for AddPersonConfig {
    fn default() -> Self {
        Self {
            attributes: default_addable(),
        }
    }
}

impl AddPersonConfig {
    /// The problems of the section, for the config's validation.
    pub fn problems(&self) -> Vec<String> {
        self.attributes
            .iter()
            .filter(|key| !ADDABLE.contains(&key.as_str()) && !is_custom_key(key))
            .map(|key| {
                format!(
                    "add_person.attributes: `{key}` cannot be set when adding a person; use one of {} or a custom key like dynamic_40010",
                    ADDABLE.join(", ")
                )
            })
            .collect()
    }
}

/// `dynamic_<digits>`.
pub fn is_custom_key(key: &str) -> bool {
    key.strip_prefix("dynamic_")
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}
