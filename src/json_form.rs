//! The JSON form of events and query results: what hat-event's manager
//! (`hat.event.manager.common.event_to_json`, `query_result_to_json`)
//! prints, and back.
//!
//! ```text
//! {"id": {"server": 1, "session": 2, "instance": 3}, "type": ["a", "b"],
//!  "timestamp": {"s": 5, "us": 6}, "source_timestamp": null | {"s", "us"},
//!  "payload": null | {"data_type": "binary", "binary_type": "t", "data": "<hex>"}
//!                  | {"data_type": "json", "data": <value>}}
//! {"events": [<event>...], "more_follows": false}
//! ```
//! Text is written as hat-event writes it (Python's `json.dumps`, see
//! [`crate::json`]). Reading uses [`crate::json::Document`], which reads
//! what Python's `json.loads` reads at any depth, so every text written here
//! reads back; a JSON payload's `"data"` becomes its payload directly.
//! Reading is strict: every member must be present with the right type,
//! and unknown members are refused, so that a typo cannot pass silently;
//! strings that must become Rust strings (event type segments, the binary
//! type and data) must not hold lone surrogate escapes. Errors name the
//! member at fault.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::event::{Event, EventId, EventPayload};
use crate::json::{bounded, write_string, Document, JsonPayload};
use crate::query::QueryResult;
use crate::timestamp::Timestamp;

fn object(members: impl IntoIterator<Item = (&'static str, Value)>) -> Value {
    Value::Object(members.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<Map<_, _>>())
}

fn timestamp_value(t: Timestamp) -> Value {
    object([("s", t.s().into()), ("us", t.us().into())])
}

/// The JSON value of an event, members in the manager's order; an error
/// for a JSON payload a `serde_json::Value` cannot hold (see
/// [`JsonPayload::value`]).
pub fn event_to_value(event: &Event) -> Result<Value> {
    let payload = match event.payload.as_deref() {
        None => Value::Null,
        Some(EventPayload::Binary { type_, data }) => object([
            ("data_type", "binary".into()),
            ("binary_type", type_.as_str().into()),
            ("data", data.iter().map(|b| format!("{b:02x}")).collect::<String>().into()),
        ]),
        Some(EventPayload::Json(payload)) => object([("data_type", "json".into()), ("data", payload.value()?)]),
    };
    Ok(object([
        (
            "id",
            object([
                ("server", event.id.server.into()),
                ("session", event.id.session.into()),
                ("instance", event.id.instance.into()),
            ]),
        ),
        ("type", event.type_.iter().map(Value::from).collect()),
        ("timestamp", timestamp_value(event.timestamp)),
        ("source_timestamp", event.source_timestamp.map_or(Value::Null, timestamp_value)),
        ("payload", payload),
    ]))
}

/// The JSON value of a query result (errors as [`event_to_value`]).
pub fn query_result_to_value(result: &QueryResult) -> Result<Value> {
    Ok(object([
        ("events", result.events.iter().map(|e| event_to_value(e)).collect::<Result<_>>()?),
        ("more_follows", result.more_follows.into()),
    ]))
}

/// An event's JSON text, byte for byte as hat-event's manager prints it.
pub fn event_to_json(event: &Event) -> Result<String> {
    let mut out = String::with_capacity(256);
    write_event(&mut out, event)?;
    Ok(out)
}

/// A query result's JSON text, byte for byte as hat-event's manager prints it.
pub fn query_result_to_json(result: &QueryResult) -> Result<String> {
    let mut out = String::with_capacity(64 + 256 * result.events.len());
    out.push_str("{\"events\": [");
    for (i, event) in result.events.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_event(&mut out, event)?;
    }
    out.push_str("], \"more_follows\": ");
    out.push_str(if result.more_follows { "true" } else { "false" });
    out.push('}');
    Ok(out)
}

/// Writes the text of [`event_to_value`] straight out (the same bytes as
/// `to_python_json(&event_to_value(event))`, checked by a test), with a
/// JSON payload's text copied rather than parsed and rewritten.
fn write_event(out: &mut String, event: &Event) -> Result<()> {
    use std::fmt::Write;
    let id = event.id;
    let _ = write!(
        out,
        "{{\"id\": {{\"server\": {}, \"session\": {}, \"instance\": {}}}, \"type\": [",
        id.server, id.session, id.instance
    );
    for (i, segment) in event.type_.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_string(out, segment);
    }
    let write_timestamp = |out: &mut String, t: Timestamp| {
        let _ = write!(out, "{{\"s\": {}, \"us\": {}}}", t.s(), t.us());
    };
    out.push_str("], \"timestamp\": ");
    write_timestamp(out, event.timestamp);
    out.push_str(", \"source_timestamp\": ");
    match event.source_timestamp {
        Some(t) => write_timestamp(out, t),
        None => out.push_str("null"),
    }
    out.push_str(", \"payload\": ");
    match event.payload.as_deref() {
        None => out.push_str("null"),
        Some(EventPayload::Binary { type_, data }) => {
            out.push_str("{\"data_type\": \"binary\", \"binary_type\": ");
            write_string(out, type_);
            out.push_str(", \"data\": \"");
            for b in data {
                let _ = write!(out, "{b:02x}");
            }
            out.push_str("\"}");
        }
        Some(EventPayload::Json(payload)) => {
            out.push_str("{\"data_type\": \"json\", \"data\": ");
            out.push_str(payload.text()?);
            out.push('}');
        }
    }
    out.push('}');
    Ok(())
}

/// Reads an event from its JSON text.
pub fn event_from_json(text: &str) -> Result<Event> {
    let doc = Document::parse(text)?;
    event_from_node(&doc, Document::ROOT, "event")
}

/// Reads a query result from its JSON text.
pub fn query_result_from_json(text: &str) -> Result<QueryResult> {
    let doc = Document::parse(text)?;
    let m = members(&doc, Document::ROOT, "query result", &["events", "more_follows"])?;
    let events = array(&doc, m[0], "query result.events")?
        .into_iter()
        .enumerate()
        .map(|(i, e)| event_from_node(&doc, e, &format!("query result.events[{i}]")).map(std::sync::Arc::new))
        .collect::<Result<_>>()?;
    let more_follows = doc.as_bool(m[1]).ok_or_else(|| wrong("query result.more_follows", "a boolean"))?;
    Ok(QueryResult { events: std::sync::Arc::new(events), more_follows })
}

fn wrong(path: &str, expected: &str) -> Error {
    Error::InvalidJson(format!("{path} must be {expected}"))
}

/// The value nodes of the members `names` (in that order) of an object that
/// must have exactly those members.
fn members(doc: &Document, node: usize, path: &str, names: &[&str]) -> Result<Vec<usize>> {
    let m = doc.object_members(node).ok_or_else(|| wrong(path, "an object"))?;
    // Our names are printable ASCII: their JSON text is the name quoted.
    let is = |key: &str, name: &str| key.len() == name.len() + 2 && &key[1..key.len() - 1] == name;
    let found = names
        .iter()
        .map(|name| {
            m.iter()
                .find(|(key, _)| is(key, name))
                .map(|&(_, value)| value)
                .ok_or_else(|| Error::InvalidJson(format!("{path} lacks member \"{name}\"")))
        })
        .collect::<Result<Vec<_>>>()?;
    if let Some((extra, _)) = m.iter().find(|(key, _)| !names.iter().any(|name| is(key, name))) {
        return Err(Error::InvalidJson(format!("{path} has unknown member {}", bounded(extra))));
    }
    Ok(found)
}

fn array(doc: &Document, node: usize, path: &str) -> Result<Vec<usize>> {
    doc.array_items(node).ok_or_else(|| wrong(path, "an array"))
}

fn int(doc: &Document, node: usize, path: &str) -> Result<i64> {
    // Only integer texts: 1.0 is a float in Python, not an id.
    let digits = doc.int_text(node).ok_or_else(|| wrong(path, "an integer"))?;
    digits.parse().map_err(|_| wrong(path, "an integer in the 64-bit range"))
}

fn string(doc: &Document, node: usize, path: &str) -> Result<String> {
    match doc.string(node) {
        Some(Ok(s)) => Ok(s),
        Some(Err(unit)) => Err(Error::InvalidJson(format!(
            "{path} must be Unicode text: it holds the lone surrogate \\u{unit:04x} ({} as JSON)",
            bounded(doc.string_text(node).unwrap_or_default())
        ))),
        None => Err(wrong(path, "a string")),
    }
}

fn timestamp(doc: &Document, node: usize, path: &str) -> Result<Timestamp> {
    let m = members(doc, node, path, &["s", "us"])?;
    let us = int(doc, m[1], &format!("{path}.us"))?;
    let us = u32::try_from(us).map_err(|_| wrong(&format!("{path}.us"), "in 0..999999"))?;
    Timestamp::new(int(doc, m[0], &format!("{path}.s"))?, us).map_err(|e| Error::InvalidJson(format!("{path}: {e}")))
}

fn hex(text: &str, path: &str) -> Result<Vec<u8>> {
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    if !text.len().is_multiple_of(2) {
        return Err(wrong(path, "hexadecimal text of even length"));
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| match (digit(pair[0]), digit(pair[1])) {
            (Some(h), Some(l)) => Ok(h << 4 | l),
            _ => Err(wrong(path, "hexadecimal text")),
        })
        .collect()
}

fn event_from_node(doc: &Document, node: usize, path: &str) -> Result<Event> {
    let m = members(doc, node, path, &["id", "type", "timestamp", "source_timestamp", "payload"])?;
    let id_path = format!("{path}.id");
    let id = members(doc, m[0], &id_path, &["server", "session", "instance"])?;
    let type_path = format!("{path}.type");
    let type_ = array(doc, m[1], &type_path)?
        .into_iter()
        .enumerate()
        .map(|(i, s)| string(doc, s, &format!("{type_path}[{i}]")))
        .collect::<Result<_>>()?;
    let source_timestamp = match m[3] {
        n if doc.is_null(n) => None,
        n => Some(timestamp(doc, n, &format!("{path}.source_timestamp"))?),
    };
    let payload_path = format!("{path}.payload");
    let payload = match m[4] {
        n if doc.is_null(n) => None,
        n => {
            let kind = doc
                .object_members(n)
                .and_then(|p| p.iter().find(|(key, _)| *key == "\"data_type\"").map(|&(_, v)| v))
                .and_then(|v| doc.string_text(v));
            Some(match kind {
                Some("\"binary\"") => {
                    let p = members(doc, n, &payload_path, &["data_type", "binary_type", "data"])?;
                    let data_path = format!("{payload_path}.data");
                    EventPayload::Binary {
                        type_: string(doc, p[1], &format!("{payload_path}.binary_type"))?,
                        data: hex(&string(doc, p[2], &data_path)?, &data_path)?,
                    }
                }
                Some("\"json\"") => {
                    let p = members(doc, n, &payload_path, &["data_type", "data"])?;
                    EventPayload::Json(JsonPayload::from_document(doc, p[1]))
                }
                _ => return Err(wrong(&format!("{payload_path}.data_type"), "\"binary\" or \"json\"")),
            })
        }
    };
    Ok(Event {
        id: EventId {
            server: int(doc, id[0], &format!("{id_path}.server"))?,
            session: int(doc, id[1], &format!("{id_path}.session"))?,
            instance: int(doc, id[2], &format!("{id_path}.instance"))?,
        },
        type_,
        timestamp: timestamp(doc, m[2], &format!("{path}.timestamp"))?,
        source_timestamp,
        payload: payload.map(std::sync::Arc::new),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(payload: Option<EventPayload>, source: bool) -> Event {
        Event {
            id: EventId { server: 1, session: -2, instance: 3 },
            type_: crate::event_type::EventType::from(["a", "ž"]),
            timestamp: Timestamp::new(5, 6).unwrap(),
            source_timestamp: source.then(|| Timestamp::new(-7, 8).unwrap()),
            payload: payload.map(std::sync::Arc::new),
        }
    }

    // Expected texts are hat.json.encode(manager.common.event_to_json(...)).
    #[test]
    fn events_print_as_the_manager_prints_them() {
        let e = event(None, false);
        assert_eq!(
            event_to_json(&e).unwrap(),
            r#"{"id": {"server": 1, "session": -2, "instance": 3}, "type": ["a", "\u017e"], "timestamp": {"s": 5, "us": 6}, "source_timestamp": null, "payload": null}"#
        );
        let e = event(Some(EventPayload::Binary { type_: "t".into(), data: vec![0, 171, 255] }), true);
        assert!(event_to_json(&e).unwrap().ends_with(
            r#""source_timestamp": {"s": -7, "us": 8}, "payload": {"data_type": "binary", "binary_type": "t", "data": "00abff"}}"#
        ));
        let e = event(Some(EventPayload::json_from_text(r#"{"v": [1.5, null]}"#).unwrap()), false);
        assert!(event_to_json(&e)
            .unwrap()
            .ends_with(r#""payload": {"data_type": "json", "data": {"v": [1.5, null]}}}"#));
    }

    /// The direct writer gives the bytes of writing the value tree.
    #[test]
    fn direct_text_equals_the_value_tree_written() {
        let events = vec![
            event(None, false),
            event(Some(EventPayload::Binary { type_: "t\"ž\n".into(), data: (0..=255).collect() }), true),
            event(Some(EventPayload::json_from_text(r#"[1, "x\u00e9", {"a": 1e300, "b": -0}]"#).unwrap()), true),
            event(Some(EventPayload::json_from_text(r#"{"k":1.50,"k":"\ud83d\ude00"}"#).unwrap()), false),
        ];
        for e in &events {
            assert_eq!(event_to_json(e).unwrap(), crate::json::to_python_json(&event_to_value(e).unwrap()).unwrap());
        }
        let r = QueryResult {
            events: std::sync::Arc::new(events.into_iter().map(std::sync::Arc::new).collect()),
            more_follows: true,
        };
        assert_eq!(
            query_result_to_json(&r).unwrap(),
            crate::json::to_python_json(&query_result_to_value(&r).unwrap()).unwrap()
        );
    }

    #[test]
    fn events_and_results_round_trip() {
        let events = vec![
            event(None, false),
            event(Some(EventPayload::Binary { type_: "".into(), data: (0..=255).collect() }), true),
            event(Some(EventPayload::json_from_text("[1, \"x\", {\"a\": 1e300}]").unwrap()), true),
        ];
        for e in &events {
            assert_eq!(&event_from_json(&event_to_json(e).unwrap()).unwrap(), e);
        }
        let r = QueryResult {
            events: std::sync::Arc::new(events.into_iter().map(std::sync::Arc::new).collect()),
            more_follows: true,
        };
        assert_eq!(query_result_from_json(&query_result_to_json(&r).unwrap()).unwrap(), r);
        assert_eq!(query_result_to_json(&QueryResult::default()).unwrap(), r#"{"events": [], "more_follows": false}"#);
    }

    #[test]
    fn reading_is_strict_and_names_the_member() {
        let good = event_to_json(&event(None, false)).unwrap();
        let cases = [
            (good.replace("\"instance\": 3", "\"instance\": 3.0"), "id.instance must be an integer"),
            (good.replace("\"us\": 6", "\"us\": 1000000"), "event.timestamp"),
            (good.replace("\"payload\": null", "\"payload\": null, \"extra\": 1"), "unknown member \"extra\""),
            (good.replace(", \"payload\": null", ""), "lacks member \"payload\""),
            (good.replace("\"a\"", "1"), "event.type[0] must be a string"),
            (
                good.replace(
                    "\"payload\": null",
                    r#""payload": {"data_type": "binary", "binary_type": "t", "data": "0g"}"#,
                ),
                "hexadecimal",
            ),
            (good.replace("\"payload\": null", r#""payload": {"data_type": "sbs"}"#), "data_type"),
            (good.replace("\"server\": 1", "\"server\": 9223372036854775808"), "64-bit"),
            ("[]".to_owned(), "event must be an object"),
            ("{".to_owned(), "invalid JSON"),
        ];
        for (text, needle) in cases {
            let err = event_from_json(&text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
        assert!(query_result_from_json(r#"{"events": [], "more_follows": 1}"#).is_err());
    }
}
