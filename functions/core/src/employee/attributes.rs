//! An employee's attributes by key: a sorted vector, not a map.
//!
//! A person has a few dozen attributes, built once in key order, read by binary search and mostly
//! moved out by the mapping. A `BTreeMap` spent three nodes of ~700 bytes on each person (about
//! 200 MB for 100,000 people, the peak of a full fetch), and its lookups and removals were a
//! quarter of map + scope's time (issue 17). A vector with exactly the room it needs is a third
//! of that memory, and searching twenty keys in one cache line or two is faster than a tree walk.

use super::{AttrKey, AttrValue};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// Attribute key → value, sorted by key, each key once.
#[derive(Clone, Default, PartialEq)]
pub struct Attributes(Vec<(AttrKey, AttrValue)>);

impl Attributes {
    /// No attributes.
    pub fn new() -> Self {
        Self::default()
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(name, _)| name.as_str().cmp(key))
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&AttrValue> {
        self.position(key).ok().map(|index| &self.0[index].1)
    }

    /// The value of the interned name `key`: pointers compared, not text (names are interned,
    /// so equal text is the same pointer), in one pass over a few dozen keys.
    pub fn get_name(&self, key: &AttrKey) -> Option<&AttrValue> {
        self.0
            .iter()
            .find(|(name, _)| name.is(key))
            .map(|(_, value)| value)
    }

    /// Removes the interned name `key` and returns its value; see [`Attributes::get_name`].
    pub fn remove_name(&mut self, key: &AttrKey) -> Option<AttrValue> {
        let index = self.0.iter().position(|(name, _)| name.is(key))?;
        Some(self.0.remove(index).1)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// Sets `key` to `value`; returns the value it replaced.
    pub fn insert(&mut self, key: AttrKey, value: AttrValue) -> Option<AttrValue> {
        match self.position(key.as_str()) {
            Ok(index) => Some(std::mem::replace(&mut self.0[index].1, value)),
            Err(index) => {
                self.0.insert(index, (key, value));
                None
            }
        }
    }

    /// Removes `key` and returns its value.
    pub fn remove(&mut self, key: &str) -> Option<AttrValue> {
        self.remove_entry(key).map(|(_, value)| value)
    }

    /// Removes `key` and returns it with its value.
    pub fn remove_entry(&mut self, key: &str) -> Option<(AttrKey, AttrValue)> {
        self.position(key).ok().map(|index| self.0.remove(index))
    }

    /// Keeps only the attributes `keep` accepts, and gives back the room of the others.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.0.retain(|(key, _)| keep(key.as_str()));
        self.0.shrink_to_fit();
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &AttrKey> {
        self.0.iter().map(|(key, _)| key)
    }

    /// Key and value pairs in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&AttrKey, &AttrValue)> {
        self.0.iter().map(|(key, value)| (key, value))
    }

    /// How many attributes there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// From pairs already sorted by key without repeats (as normalisation reads a JSON object):
    /// no sort, and no room beyond what they fill. Falls back to sorting when they are not.
    pub fn from_sorted(mut pairs: Vec<(AttrKey, AttrValue)>) -> Self {
        if !pairs.windows(2).all(|pair| pair[0].0 < pair[1].0) {
            return pairs.into_iter().collect();
        }
        pairs.shrink_to_fit();
        Self(pairs)
    }
}

impl std::fmt::Debug for Attributes {
    // Keys only: values are personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.keys()).finish()
    }
}

impl std::ops::Index<&str> for Attributes {
    type Output = AttrValue;
    /// The value of `key`; panics when it is absent, as a map's index does.
    fn index(&self, key: &str) -> &AttrValue {
        match self.get(key) {
            Some(value) => value,
            None => panic!("no attribute `{key}`"),
        }
    }
}

impl FromIterator<(AttrKey, AttrValue)> for Attributes {
    /// Sorted by key; of repeated keys the last wins, as inserting into a map one by one would.
    fn from_iter<I: IntoIterator<Item = (AttrKey, AttrValue)>>(pairs: I) -> Self {
        let mut pairs: Vec<(AttrKey, AttrValue)> = pairs.into_iter().collect();
        // Stable, so repeats keep their order and the last of each run is the latest.
        pairs.sort_by(|(a, _), (b, _)| a.cmp(b));
        let mut unique: Vec<(AttrKey, AttrValue)> = Vec::with_capacity(pairs.len());
        for (key, value) in pairs {
            match unique.last_mut() {
                Some(last) if last.0 == key => last.1 = value,
                _ => unique.push((key, value)),
            }
        }
        unique.shrink_to_fit();
        Self(unique)
    }
}

impl<const N: usize> From<[(AttrKey, AttrValue); N]> for Attributes {
    fn from(pairs: [(AttrKey, AttrValue); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl IntoIterator for Attributes {
    type Item = (AttrKey, AttrValue);
    type IntoIter = std::vec::IntoIter<(AttrKey, AttrValue)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl Serialize for Attributes {
    // A JSON object, as the map it replaced was.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<AttrKey, AttrValue>::deserialize(deserializer)?;
        Ok(Self(map.into_iter().collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> AttrValue {
        AttrValue::Text(value.to_owned())
    }

    #[test]
    fn reads_inserts_and_removes_by_key_in_order() {
        let mut attributes = Attributes::from([
            (AttrKey::new("team"), text("Core")),
            (AttrKey::new("email"), text("a@x")),
        ]);
        assert_eq!(attributes.get("email"), Some(&text("a@x")));
        assert_eq!(attributes.get("office"), None);
        assert_eq!(
            attributes.insert(AttrKey::new("office"), text("Berlin")),
            None
        );
        assert_eq!(
            attributes.insert(AttrKey::new("team"), text("Edge")),
            Some(text("Core"))
        );
        let keys: Vec<&str> = attributes.keys().map(AttrKey::as_str).collect();
        assert_eq!(keys, ["email", "office", "team"]);
        assert_eq!(attributes.remove("office"), Some(text("Berlin")));
        assert!(!attributes.contains_key("office"));
        assert_eq!(attributes.len(), 2);
    }

    #[test]
    fn interned_names_find_and_take_the_same_attributes_as_text() {
        let mut attributes = Attributes::from([
            (AttrKey::new("team"), text("Core")),
            (AttrKey::new("email"), text("a@x")),
        ]);
        let email = AttrKey::new(&String::from("email"));
        assert_eq!(attributes.get_name(&email), attributes.get("email"));
        assert_eq!(attributes.get_name(&AttrKey::new("office")), None);
        assert_eq!(attributes.remove_name(&email), Some(text("a@x")));
        assert_eq!(attributes.get("email"), None);
        assert_eq!(attributes.len(), 1);
    }

    #[test]
    fn repeated_keys_keep_the_last_value_as_a_map_would() {
        let attributes: Attributes = [
            (AttrKey::new("b"), text("1")),
            (AttrKey::new("a"), text("2")),
            (AttrKey::new("b"), text("3")),
        ]
        .into_iter()
        .collect();
        let pairs: Vec<(&str, &AttrValue)> = attributes
            .iter()
            .map(|(key, value)| (key.as_str(), value))
            .collect();
        assert_eq!(pairs, [("a", &text("2")), ("b", &text("3"))]);
        // Unsorted input to `from_sorted` is sorted rather than trusted.
        let unsorted = Attributes::from_sorted(vec![
            (AttrKey::new("b"), text("1")),
            (AttrKey::new("a"), text("2")),
        ]);
        assert_eq!(unsorted.keys().next().map(AttrKey::as_str), Some("a"));
    }

    #[test]
    fn serialises_as_the_json_object_the_map_was() {
        let attributes = Attributes::from([
            (AttrKey::new("last_name"), text("Lovelace")),
            (AttrKey::new("first_name"), text("Ada")),
        ]);
        let json = serde_json::to_value(&attributes).unwrap();
        let map: BTreeMap<AttrKey, AttrValue> = [
            (AttrKey::new("first_name"), text("Ada")),
            (AttrKey::new("last_name"), text("Lovelace")),
        ]
        .into();
        assert_eq!(json, serde_json::to_value(&map).unwrap());
        assert_eq!(
            serde_json::from_value::<Attributes>(json).unwrap(),
            attributes
        );
    }
}
