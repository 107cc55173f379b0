//! Scope: which people get an account, by status and by allowed values of any attribute (all
//! rules must match).

use crate::config::ScopeConfig;
use crate::employee::{Employee, EmploymentStatus};
use std::collections::BTreeMap;

/// Whether a person is in scope, and if not, why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScopeDecision {
    /// In scope.
    In,
    /// Out of scope, with the reason for the summary.
    Out(String),
}

/// Decides scope for one person. Status `inactive` is not decided here: leavers are a lifecycle
/// matter, deactivated whether or not `inactive` is a synced status.
pub fn decide(
    employee: &Employee,
    scope: &ScopeConfig,
    universal_ids: &BTreeMap<String, String>,
) -> ScopeDecision {
    let status = employee.status.unwrap_or(EmploymentStatus::Active);
    if status != EmploymentStatus::Inactive && !scope.statuses.contains(&status) {
        return ScopeDecision::Out(format!("status {} is not synced", status.as_str()));
    }
    for rule in &scope.rules {
        let value = rule
            .attribute
            .value(employee, universal_ids)
            .and_then(|value| value.to_text())
            .unwrap_or_default();
        let allowed = rule
            .allowed
            .iter()
            .any(|allowed| allowed.trim().eq_ignore_ascii_case(value.trim()));
        if !allowed {
            return ScopeDecision::Out(format!(
                "{} is not one of the allowed values",
                rule.attribute
            ));
        }
    }
    ScopeDecision::In
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ScopeRule;
    use crate::employee::{AttrValue, NamedRef};
    use crate::ids::{AccountId, PersonKey, PersonioId};
    use crate::mapping::SourceRef;

    fn person(status: EmploymentStatus, department: &str) -> Employee {
        Employee {
            key: PersonKey::new(AccountId::default(), PersonioId::new(1)),
            status: Some(status),
            hire_date: None,
            termination_date: None,
            supervisor: None,
            attributes: crate::employee::Attributes::from([(
                "department".into(),
                AttrValue::Object(NamedRef {
                    id: None,
                    name: department.to_owned(),
                }),
            )]),
        }
    }

    #[test]
    fn rules_must_all_match_case_insensitively() {
        let scope = ScopeConfig {
            rules: vec![ScopeRule {
                attribute: SourceRef::Key("department".into()),
                allowed: vec!["engineering".into(), "Sales".into()],
            }],
            ..ScopeConfig::default()
        };
        let none = BTreeMap::new();
        assert_eq!(
            decide(
                &person(EmploymentStatus::Active, "Engineering"),
                &scope,
                &none
            ),
            ScopeDecision::In
        );
        assert!(matches!(
            decide(&person(EmploymentStatus::Active, "Finance"), &scope, &none),
            ScopeDecision::Out(_)
        ));
    }

    #[test]
    fn active_only_scope_leaves_onboarding_out_but_not_leavers() {
        let scope = ScopeConfig {
            statuses: [EmploymentStatus::Active, EmploymentStatus::Leave].into(),
            ..ScopeConfig::default()
        };
        let none = BTreeMap::new();
        assert!(matches!(
            decide(&person(EmploymentStatus::Onboarding, "X"), &scope, &none),
            ScopeDecision::Out(_)
        ));
        assert_eq!(
            decide(&person(EmploymentStatus::Inactive, "X"), &scope, &none),
            ScopeDecision::In
        );
    }
}
