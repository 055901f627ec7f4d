//! Conditions on what is stored (`backends/lmdb/conditions.py`): for every
//! configured subscription that matches an event's type, its condition
//! must hold, or the event is not stored (and events already stored that
//! fail it are left out of queries).

use serde_json::Value;

use crate::event::{Event, EventPayload};
use crate::json::Document;
use crate::subscription::Subscription;

use super::ConfError;

/// The configured conditions.
pub struct Conditions {
    conditions: Vec<(Subscription, Condition)>,
}

enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Json { path: Vec<PathItem>, data_type: Option<DataType>, data_value: Option<Document> },
}

enum PathItem {
    Key(String),
    Index(i64),
}

#[derive(Clone, Copy)]
enum DataType {
    Null,
    Boolean,
    String,
    Number,
    Array,
    Object,
}

impl Conditions {
    /// From the `conditions` member of the configuration.
    pub fn new(conf: &Value) -> Result<Conditions, ConfError> {
        let items = conf.as_array().ok_or_else(|| ConfError::new("'conditions' must be an array"))?;
        let mut conditions = Vec::with_capacity(items.len());
        for item in items {
            let subscription = super::subscription_from_conf(&item["subscriptions"], "conditions subscriptions")?;
            conditions.push((subscription, Condition::new(&item["condition"])?));
        }
        Ok(Conditions { conditions })
    }

    /// Whether `event` may be stored.
    pub fn matches(&self, event: &Event) -> bool {
        self.conditions
            .iter()
            .all(|(subscription, condition)| !subscription.matches_type(&event.type_) || condition.matches(event))
    }

    /// Whether no condition is configured (every event matches).
    pub fn is_empty(&self) -> bool {
        self.conditions.is_empty()
    }
}

impl Condition {
    fn new(conf: &Value) -> Result<Condition, ConfError> {
        let kind = conf["type"].as_str().ok_or_else(|| ConfError::new("condition without a 'type'"))?;
        let nested = || -> Result<Vec<Condition>, ConfError> {
            conf["conditions"]
                .as_array()
                .ok_or_else(|| ConfError::new(format!("condition '{kind}' needs 'conditions'")))?
                .iter()
                .map(Condition::new)
                .collect()
        };
        match kind {
            "all" => Ok(Condition::All(nested()?)),
            "any" => Ok(Condition::Any(nested()?)),
            "json" => {
                let mut path = Vec::new();
                if let Some(data_path) = conf.get("data_path") {
                    flatten_path(data_path, &mut path)?;
                }
                let data_type = match conf.get("data_type") {
                    None => None,
                    Some(t) => Some(match t.as_str() {
                        Some("null") => DataType::Null,
                        Some("boolean") => DataType::Boolean,
                        Some("string") => DataType::String,
                        Some("number") => DataType::Number,
                        Some("array") => DataType::Array,
                        Some("object") => DataType::Object,
                        _ => return Err(ConfError::new(format!("unsupported data_type {t}"))),
                    }),
                };
                let data_value = match conf.get("data_value") {
                    None => None,
                    Some(v) => {
                        let text =
                            crate::json::to_python_json(v).map_err(|e| ConfError::new(format!("data_value: {e}")))?;
                        Some(Document::parse(&text).map_err(|e| ConfError::new(format!("data_value: {e}")))?)
                    }
                };
                Ok(Condition::Json { path, data_type, data_value })
            }
            other => Err(ConfError::new(format!("unsupported condition type '{other}'"))),
        }
    }

    fn matches(&self, event: &Event) -> bool {
        match self {
            Condition::All(conditions) => conditions.iter().all(|c| c.matches(event)),
            Condition::Any(conditions) => conditions.iter().any(|c| c.matches(event)),
            Condition::Json { path, data_type, data_value } => {
                let Some(EventPayload::Json(payload)) = event.payload.as_deref() else {
                    return false;
                };
                let Ok(document) = payload.document() else {
                    return false;
                };
                let node = get(&document, path);
                if let Some(data_type) = data_type {
                    if !has_type(&document, node, *data_type) {
                        return false;
                    }
                }
                match data_value {
                    None => true,
                    // `json.get` gives None (null) for a missing path.
                    Some(value) => match node {
                        Some(node) => Document::python_eq(value, Document::ROOT, &document, node),
                        None => value.is_null(Document::ROOT),
                    },
                }
            }
        }
    }
}

/// hat's `json.flatten`: nested lists of path items are one path.
fn flatten_path(value: &Value, out: &mut Vec<PathItem>) -> Result<(), ConfError> {
    match value {
        Value::String(s) => out.push(PathItem::Key(s.clone())),
        Value::Number(n) if n.is_i64() => out.push(PathItem::Index(n.as_i64().unwrap_or_default())),
        Value::Array(items) => {
            for item in items {
                flatten_path(item, out)?;
            }
        }
        other => return Err(ConfError::new(format!("invalid data_path item {other}"))),
    }
    Ok(())
}

/// hat's `json.get` without a default: the node at `path`, `None` (Python's
/// `None`, which compares as null) when the path leads nowhere.
fn get(document: &Document, path: &[PathItem]) -> Option<usize> {
    let mut node = Document::ROOT;
    for item in path {
        node = match item {
            PathItem::Key(key) => {
                let mut quoted = String::with_capacity(key.len() + 2);
                crate::json::write_string(&mut quoted, key);
                let members = document.object_members(node)?;
                members.iter().find(|(name, _)| *name == quoted).map(|(_, value)| *value)?
            }
            PathItem::Index(i) => {
                let items = document.array_items(node)?;
                let len = items.len() as i64;
                let at = if *i < 0 { len + i } else { *i };
                if at < 0 || at >= len {
                    return None;
                }
                items[at as usize]
            }
        };
    }
    Some(node)
}

fn has_type(document: &Document, node: Option<usize>, data_type: DataType) -> bool {
    let Some(node) = node else {
        // None: only the null check passes.
        return matches!(data_type, DataType::Null);
    };
    let is_bool = document.as_bool(node).is_some();
    let is_string = document.string_text(node).is_some();
    let is_array = document.array_items(node).is_some();
    let is_object = document.object_members(node).is_some();
    let is_null = document.is_null(node);
    match data_type {
        DataType::Null => is_null,
        DataType::Boolean => is_bool,
        DataType::String => is_string,
        DataType::Array => is_array,
        DataType::Object => is_object,
        // What is left is a number (int or float, finite or not).
        DataType::Number => !(is_null || is_bool || is_string || is_array || is_object),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventId;
    use crate::timestamp::Timestamp;
    use serde_json::json;
    use std::sync::Arc;

    fn event(type_: &[&str], payload: Option<&str>) -> Event {
        Event {
            id: EventId::default(),
            type_: type_.iter().map(|s| s.to_string()).collect(),
            timestamp: Timestamp::default(),
            source_timestamp: None,
            payload: payload.map(|p| Arc::new(EventPayload::json_from_text(p).unwrap())),
        }
    }

    #[test]
    fn json_condition_follows_the_path_type_and_python_equality() {
        let conditions = Conditions::new(&json!([
            {"subscriptions": [["a", "*"]],
             "condition": {"type": "json", "data_path": ["x", [-1]], "data_type": "number", "data_value": 1}},
            {"subscriptions": [["b"]],
             "condition": {"type": "any", "conditions": [
                 {"type": "json", "data_type": "null"},
                 {"type": "all", "conditions": [{"type": "json", "data_path": "k", "data_type": "boolean"}]}]}}
        ]))
        .unwrap();
        assert!(conditions.matches(&event(&["a"], Some(r#"{"x": [0, 1.0]}"#))));
        assert!(!conditions.matches(&event(&["a"], Some(r#"{"x": [0, true]}"#))), "true is not a number there");
        assert!(!conditions.matches(&event(&["a", "b"], Some(r#"{"x": [1, 2]}"#))));
        assert!(!conditions.matches(&event(&["a"], None)));
        assert!(conditions.matches(&event(&["c"], None)), "no condition for c");
        assert!(conditions.matches(&event(&["b"], Some("null"))));
        assert!(conditions.matches(&event(&["b"], Some(r#"{"k": false}"#))));
        assert!(!conditions.matches(&event(&["b"], Some(r#"{"k": 0}"#))));
        assert!(!conditions.matches(&event(&["b"], Some(r#"{"j": 0}"#))));
    }
}
