//! Attributes named by their label as admins see it in Personio (`label:Shirt size`), resolved
//! to their keys through `GET /company/employees/attributes`, once per client (that is per run).
//! A label that names no attribute, or several, stops the fetch with the candidates listed: a
//! mapping that silently stays empty is worse than a run that says why it cannot start.

use crate::employee::AttributeInfo;
use crate::ports::SourceError;
use std::collections::{BTreeMap, BTreeSet};

/// How a label reference starts in a config and in a fetch filter.
pub const PREFIX: &str = "label:";

/// The label references among `keep` (`label:Shirt size`), in order.
pub fn wanted(keep: Option<&BTreeSet<String>>) -> Vec<&str> {
    keep.into_iter()
        .flatten()
        .filter(|entry| entry.starts_with(PREFIX))
        .map(String::as_str)
        .collect()
}

/// Each reference of `wanted` (`label:…`) → the key of the one attribute with that label,
/// compared without regard to case or surrounding space.
pub fn resolve(
    account: &str,
    wanted: &[&str],
    attributes: &[AttributeInfo],
) -> Result<BTreeMap<String, String>, SourceError> {
    let fold = |text: &str| text.trim().to_lowercase();
    let mut keys = BTreeMap::new();
    for reference in wanted {
        let label = reference.strip_prefix(PREFIX).unwrap_or(reference);
        let matches: Vec<&AttributeInfo> = attributes
            .iter()
            .filter(|attribute| fold(&attribute.label) == fold(label))
            .collect();
        match matches.as_slice() {
            [one] => {
                keys.insert((*reference).to_owned(), one.key.clone());
            }
            [] => {
                return Err(SourceError::Label {
                    account: account.to_owned(),
                    label: label.to_owned(),
                    problem: format!(
                        "has no attribute of that label; the labels its credential may read: {}",
                        candidates(attributes)
                    ),
                })
            }
            several => {
                let keys: Vec<&str> = several.iter().map(|a| a.key.as_str()).collect();
                return Err(SourceError::Label {
                    account: account.to_owned(),
                    label: label.to_owned(),
                    problem: format!(
                        "has {} attributes of that label ({}); name one by its key",
                        several.len(),
                        keys.join(", ")
                    ),
                });
            }
        }
    }
    Ok(keys)
}

/// The labels, sorted and without repeats, for an error message.
fn candidates(attributes: &[AttributeInfo]) -> String {
    let labels: BTreeSet<&str> = attributes.iter().map(|a| a.label.trim()).collect();
    labels.into_iter().collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attribute(key: &str, label: &str) -> AttributeInfo {
        AttributeInfo {
            key: key.into(),
            label: label.into(),
            kind: "list".into(),
            universal_id: None,
            options: Vec::new(),
        }
    }

    #[test]
    fn a_label_resolves_to_its_one_key_whatever_the_case() {
        let attributes = [
            attribute("dynamic_40001", "Shirt Size"),
            attribute("dynamic_1", "Desk"),
        ];
        let keys = resolve("main", &["label: shirt size "], &attributes).unwrap();
        assert_eq!(keys["label: shirt size "], "dynamic_40001");
    }

    #[test]
    fn unknown_and_ambiguous_labels_list_the_candidates() {
        let attributes = [
            attribute("dynamic_1", "Desk"),
            attribute("dynamic_2", "Desk"),
            attribute("dynamic_3", "Shirt size"),
        ];
        let unknown = resolve("main", &["label:Shirt sise"], &attributes)
            .unwrap_err()
            .to_string();
        assert!(unknown.contains("`label:Shirt sise`"), "{unknown}");
        assert!(unknown.contains("Desk, Shirt size"), "{unknown}");
        let ambiguous = resolve("main", &["label:desk"], &attributes)
            .unwrap_err()
            .to_string();
        assert!(ambiguous.contains("dynamic_1, dynamic_2"), "{ambiguous}");
    }
}
