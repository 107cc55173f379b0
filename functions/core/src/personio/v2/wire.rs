//! The JSON of Personio's v2 persons and employments (personio-api.md §2.2–§2.5): what the v2
//! source reads. Every field is optional, as the specs declare none required and a credential
//! without access to a field gets it left out (§2.8); unknown fields are ignored.

use serde::Deserialize;
use serde_json::Value;

/// A cursor-paged list: `_data` and `_meta.links.next.href` (some endpoints spell them `data`
/// and `meta`, §2.5).
#[derive(Debug, Deserialize)]
pub struct ListPage<T> {
    /// The items of this page.
    #[serde(rename = "_data", alias = "data", default = "Vec::new")]
    pub data: Vec<T>,
    /// The links, with `next` absent on the last page.
    #[serde(rename = "_meta", alias = "meta", default)]
    pub meta: Option<ListMeta>,
}

impl<T> ListPage<T> {
    /// The next page's address, absolute or relative, when there is one.
    pub fn next(&self) -> Option<&str> {
        let href = self
            .meta
            .as_ref()?
            .links
            .as_ref()?
            .next
            .as_ref()?
            .href
            .as_str();
        (!href.trim().is_empty()).then_some(href)
    }
}

/// `_meta` of a list.
#[derive(Debug, Default, Deserialize)]
pub struct ListMeta {
    /// `links`.
    #[serde(default)]
    pub links: Option<Links>,
}

/// `_meta.links`.
#[derive(Debug, Default, Deserialize)]
pub struct Links {
    /// The next page.
    #[serde(default)]
    pub next: Option<Href>,
}

/// `{"href": …}`.
#[derive(Debug, Deserialize)]
pub struct Href {
    /// The address.
    pub href: String,
}

/// `{"id": …}`: ids are strings in v2, numbers in some examples.
#[derive(Clone, Debug, Deserialize)]
pub struct IdRef {
    /// The id as sent.
    #[serde(default)]
    pub id: Value,
}

impl IdRef {
    /// The id as text, `None` when absent or empty.
    pub fn text(&self) -> Option<String> {
        id_text(&self.id)
    }
}

/// An id sent as a string or a number, as text.
pub fn id_text(id: &Value) -> Option<String> {
    match id {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// A person (`Person` of `persons-service-api-v2`).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Person {
    /// The person's id, the v1 employee id as text.
    #[serde(default)]
    pub id: Value,
    /// Work email.
    pub email: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Preferred name.
    pub preferred_name: Option<String>,
    /// `MALE`, `FEMALE`, `DIVERSE`, `UNSPECIFIED`.
    pub gender: Option<String>,
    /// When the person was created (UTC).
    pub created_at: Option<String>,
    /// When the person was last changed (UTC).
    pub updated_at: Option<String>,
    /// `{url}` of the profile picture.
    pub profile_picture: Option<ProfilePicture>,
    /// Custom attributes (`dynamic_*`).
    #[serde(default)]
    pub custom_attributes: Vec<CustomAttribute>,
}

/// `profile_picture`.
#[derive(Clone, Debug, Deserialize)]
pub struct ProfilePicture {
    /// Where the picture is (a v1 address).
    pub url: Option<String>,
}

/// One custom attribute of a person (§2.3).
#[derive(Clone, Debug, Deserialize)]
pub struct CustomAttribute {
    /// The v1 key, `dynamic_305`.
    pub id: Option<String>,
    /// The type, upper or lower case: `string`, `int`, `double`, `date`, `boolean`, `string_list`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The v1 `universal_id`, when it has one.
    pub global_id: Option<String>,
    /// Its label.
    pub label: Option<String>,
    /// Its value: text, a number, a boolean, or a list.
    #[serde(default)]
    pub value: Value,
}

/// An employment (`Employment` of `employment-contract-v2`).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Employment {
    /// `ONBOARDING`, `ACTIVE`, `LEAVE`, `INACTIVE`, `UNSPECIFIED`.
    pub status: Option<String>,
    /// `{title}`.
    pub position: Option<Position>,
    /// `INTERNAL`, `EXTERNAL`, `UNSPECIFIED`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Hours a week.
    #[serde(default)]
    pub weekly_working_hours: Value,
    /// The hire date.
    pub employment_start_date: Option<String>,
    /// The end of a fixed-term contract.
    pub contract_end_date: Option<String>,
    /// The end of probation.
    pub probation_end_date: Option<String>,
    /// The supervisor, a person.
    pub supervisor: Option<IdRef>,
    /// The office (workplace).
    pub office: Option<IdRef>,
    /// Departments and teams.
    #[serde(default)]
    pub org_units: Vec<OrgUnitRef>,
    /// The legal entity (v1 `subcompany`).
    pub legal_entity: Option<IdRef>,
    /// Cost centers and their weights.
    #[serde(default)]
    pub cost_centers: Vec<CostCenterRef>,
    /// The termination, when there is one.
    pub termination: Option<Termination>,
}

/// `position`.
#[derive(Clone, Debug, Deserialize)]
pub struct Position {
    /// The job title.
    pub title: Option<String>,
}

/// One of `org_units`.
#[derive(Clone, Debug, Deserialize)]
pub struct OrgUnitRef {
    /// `department` or `team`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Its id.
    #[serde(default)]
    pub id: Value,
}

/// One of `cost_centers`.
#[derive(Clone, Debug, Deserialize)]
pub struct CostCenterRef {
    /// Its id.
    #[serde(default)]
    pub id: Value,
    /// Its share in percent.
    #[serde(default)]
    pub weight: Value,
}

/// `termination`. The changelog names the fields differently from the spec (§2.4): both are read.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Termination {
    /// The termination date.
    pub termination_date: Option<String>,
    /// The last working day.
    #[serde(alias = "last_working_date")]
    pub last_working_day: Option<String>,
    /// The kind of termination.
    #[serde(rename = "type", alias = "termination_type")]
    pub kind: Option<String>,
    /// Why.
    #[serde(alias = "termination_reason")]
    pub reason: Option<String>,
}

/// An item of a reference list (org unit, workplace, legal entity, cost center): its id and name.
#[derive(Clone, Debug, Deserialize)]
pub struct Named {
    /// Its id.
    #[serde(default)]
    pub id: Value,
    /// Its name.
    pub name: Option<String>,
}
