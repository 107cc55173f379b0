//! Which Personio attributes a tenant uses: one answer, from the tenant config, for every step that
//! asks — the fetch filter (what normalisation keeps), the drift guard (what must not vanish), and
//! the plan (what a person keeps after mapping, for groups and time zones).
//!
//! Before this module five lists answered the question and disagreed (the fetch kept `supervisor`
//! for a tenant without managers, the guard did not watch it); now each is a view of
//! [`UsedAttributes`].

use crate::config::TenantConfig;
use crate::mapping::{FieldRule, SourceRef};
use std::collections::{BTreeMap, BTreeSet};

/// Attributes without which the lifecycle cannot be decided: who works there, since and until when.
pub const LIFECYCLE: [&str; 3] = ["status", "hire_date", "termination_date"];

/// Read besides the mapped fields, each for a reason of its own: the supervisor for manager links,
/// department, team and office for groups, office for "today" in the office's time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Relation {
    /// `supervisor`: the manager link.
    Supervisor,
    /// `department`: department groups.
    Department,
    /// `team`: team groups.
    Team,
    /// `office`: office groups, or office time zones.
    Office,
    /// `cost_centers`: cost center groups.
    CostCenters,
    /// `subcompany`: legal entity groups.
    Subcompany,
    /// `position`: position groups.
    Position,
}

impl Relation {
    /// The Personio attribute key.
    pub fn key(self) -> &'static str {
        match self {
            Self::Supervisor => "supervisor",
            Self::Department => "department",
            Self::Team => "team",
            Self::Office => "office",
            Self::CostCenters => "cost_centers",
            Self::Subcompany => "subcompany",
            Self::Position => "position",
        }
    }
}

/// The Personio attributes one tenant config reads, by what reads them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsedAttributes {
    /// What the mapping and the scope rules name (keys or universal ids).
    sources: BTreeSet<SourceRef>,
    /// What the engine reads outside the mapping, as the config switches them on.
    relations: BTreeSet<Relation>,
    /// The keys of those relations the plan reads after mapping (asked once per attribute of
    /// every person, so a short list rather than a walk of `relations`).
    kept_after_mapping: Vec<&'static str>,
}

impl UsedAttributes {
    /// The attributes `config` uses.
    pub fn of(config: &TenantConfig) -> Self {
        let mut sources: BTreeSet<SourceRef> = config
            .mapping
            .effective_fields()
            .iter()
            .filter_map(FieldRule::reads)
            .collect();
        sources.extend(config.scope.rules.iter().map(|rule| rule.attribute.clone()));
        sources.extend(config.groups.attributes.iter().cloned());
        let relations = [
            (config.mapping.manager, Relation::Supervisor),
            (config.groups.departments, Relation::Department),
            (config.groups.teams, Relation::Team),
            (
                config.groups.offices || !config.lifecycle.office_timezones.is_empty(),
                Relation::Office,
            ),
            (config.groups.cost_centers, Relation::CostCenters),
            (config.groups.legal_entities, Relation::Subcompany),
            (config.groups.positions, Relation::Position),
        ]
        .into_iter()
        .filter_map(|(on, relation)| on.then_some(relation))
        .collect::<BTreeSet<Relation>>();
        let kept_after_mapping = relations
            .iter()
            .filter(|relation| **relation != Relation::Supervisor)
            .map(|relation| relation.key())
            .collect();
        Self {
            sources,
            relations,
            kept_after_mapping,
        }
    }

    /// The fetch filter: keys and universal ids that normalisation keeps (everything else is
    /// dropped at once, so 50,000 employees fit in memory). Always has `id` and [`LIFECYCLE`].
    pub fn fetch_filter(&self) -> BTreeSet<String> {
        let mut keep: BTreeSet<String> = self
            .sources
            .iter()
            .map(|source| match source {
                // A label travels as `label:…`: the client resolves it to a key before fetching.
                SourceRef::Key(key) | SourceRef::Label(key) => key.clone(),
                SourceRef::Universal(id) => id.clone(),
            })
            .collect();
        keep.insert("id".to_owned());
        keep.extend(LIFECYCLE.map(str::to_owned));
        keep.extend(
            self.relations
                .iter()
                .map(|relation| relation.key().to_owned()),
        );
        keep
    }

    /// The attribute keys a fetch with these `universal_ids` must return, for the drift guard:
    /// mapped and scoped attributes, [`LIFECYCLE`] and the relations in use.
    pub fn resolved(&self, universal_ids: &BTreeMap<String, String>) -> BTreeSet<String> {
        let mut keys: BTreeSet<String> = self
            .sources
            .iter()
            .filter_map(|source| source.resolve(universal_ids))
            .map(str::to_owned)
            .collect();
        keys.extend(LIFECYCLE.map(str::to_owned));
        keys.extend(
            self.relations
                .iter()
                .map(|relation| relation.key().to_owned()),
        );
        keys
    }

    /// Whether a person keeps attribute `key` after mapping: the plan reads the group and office
    /// attributes in use, the mapped record holds the rest.
    pub fn kept_after_mapping(&self, key: &str) -> bool {
        self.kept_after_mapping.contains(&key)
    }

    /// The keys [`UsedAttributes::kept_after_mapping`] keeps.
    pub fn kept_after_mapping_keys(&self) -> &[&'static str] {
        &self.kept_after_mapping
    }
}

impl TenantConfig {
    /// The Personio attributes this config reads; see [`UsedAttributes`].
    pub fn attributes(&self) -> UsedAttributes {
        UsedAttributes::of(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> TenantConfig {
        TenantConfig::from_toml(&format!(
            "tenant = \"acme\"\n[[personio.accounts]]\n[destination]\nkind = \"directory\"\npath = \"d\"\n{extra}"
        ))
        .unwrap()
    }

    fn every_view(
        config: &TenantConfig,
    ) -> (BTreeSet<String>, BTreeSet<String>, Vec<&'static str>) {
        let used = config.attributes();
        let universal = BTreeMap::from([("date_of_birth".to_owned(), "dynamic_9".to_owned())]);
        let kept = ["department", "team", "office", "supervisor"]
            .into_iter()
            .filter(|key| used.kept_after_mapping(key))
            .collect();
        (used.fetch_filter(), used.resolved(&universal), kept)
    }

    #[test]
    fn defaults_read_the_mapped_fields_lifecycle_supervisor_and_department() {
        let (fetch, guard, kept) = every_view(&config(""));
        for key in [
            "id",
            "status",
            "hire_date",
            "termination_date",
            "supervisor",
        ] {
            assert!(fetch.contains(key), "{key} fetched");
        }
        for key in [
            "first_name",
            "email",
            "position",
            "department",
            "supervisor",
        ] {
            assert!(fetch.contains(key) && guard.contains(key), "{key} in both");
        }
        assert!(!fetch.contains("team") && !guard.contains("team"));
        assert_eq!(kept, ["department"]);
    }

    #[test]
    fn changing_the_config_changes_every_view_together() {
        let (fetch, guard, kept) = every_view(&config(
            "[mapping]\ndefaults = false\nmanager = false\n[[mapping.fields]]\ntarget = \"user_name\"\nsource = \"email\"\n[[mapping.fields]]\ntarget = \"birthday\"\nsource = \"universal:date_of_birth\"\n\
             [[scope.rules]]\nattribute = \"dynamic_77\"\nallowed = [\"x\"]\n\
             [groups]\ndepartments = false\nteams = true\n[lifecycle.office_timezones]\nLondon = \"Europe/London\"\n",
        ));
        for (key, expected) in [
            ("supervisor", false),
            ("department", false),
            ("team", true),
            ("office", true),
            ("dynamic_77", true),
        ] {
            assert_eq!(fetch.contains(key), expected, "fetch filter: {key}");
            assert_eq!(guard.contains(key), expected, "drift guard: {key}");
        }
        // The fetch keeps a universal id by name; the guard watches the key it resolves to.
        assert!(fetch.contains("date_of_birth"));
        assert!(guard.contains("dynamic_9") && !guard.contains("date_of_birth"));
        assert_eq!(kept, ["team", "office"]);
    }
}
