//! Field types shared by the rows, and readers for their NULLs.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// Attributes of a span, event, link or log line.
pub type Attributes = BTreeMap<String, String>;

/// Reads a value that may be NULL as its default (an empty list or map).
pub(super) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Reads a string map whose values may be NULL, dropping those entries.
pub(super) fn attributes<'de, D>(deserializer: D) -> Result<Attributes, D::Error>
where
    D: Deserializer<'de>,
{
    let map = Option::<BTreeMap<String, Option<String>>>::deserialize(deserializer)?;
    Ok(map
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(key, value)| value.map(|value| (key, value)))
        .collect())
}
