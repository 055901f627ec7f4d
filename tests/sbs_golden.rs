//! SBS golden vectors: bytes written by the reference (hat-event 0.9.44,
//! `tests/golden/make_vectors.py`) must be what we write, and must decode
//! to the values they describe. See the script for the file's form.

use std::fmt::Debug;

use hat_event::event::{Event, EventId, EventPayload, RegisterEvent, ServerStatus};
use hat_event::query::{
    Order, OrderBy, QueryLatestParams, QueryParams, QueryResult, QueryServerParams, QueryTimeseriesParams,
};
use hat_event::sbs::{
    decode_exact, decode_prefix, encode_to_vec, MsgEventsAck, MsgEventsNotify, MsgInitReq, MsgInitRes, MsgQueryReq,
    MsgQueryRes, MsgRegisterReq, MsgRegisterRes, MsgStatusNotify, Sbs, SbsError,
};
use hat_event::timestamp::Timestamp;
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/sbs_vectors.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("vector file is JSON")
}

fn section<'a>(all: &'a Value, name: &str) -> &'a Vec<Value> {
    all[name].as_array().unwrap_or_else(|| panic!("no section {name}"))
}

fn unhex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd hex length");
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex")).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------
// The vector file's value form -> our types

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an i64: {v}"))
}

fn boolean(v: &Value) -> bool {
    v.as_bool().unwrap_or_else(|| panic!("not a bool: {v}"))
}

fn string(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}")).to_owned()
}

fn list<T>(v: &Value, f: impl Fn(&Value) -> T) -> Vec<T> {
    v.as_array().unwrap_or_else(|| panic!("not an array: {v}")).iter().map(f).collect()
}

fn opt<T>(v: &Value, f: impl Fn(&Value) -> T) -> Option<T> {
    (!v.is_null()).then(|| f(v))
}

/// The one member of a single-member object, as (name, value).
fn choice(v: &Value) -> (&str, &Value) {
    let members = v.as_object().unwrap_or_else(|| panic!("not an object: {v}"));
    assert_eq!(members.len(), 1, "choice {v}");
    let (k, v) = members.iter().next().unwrap();
    (k.as_str(), v)
}

fn timestamp(v: &Value) -> Timestamp {
    Timestamp::new(int(&v["s"]), u32::try_from(int(&v["us"])).unwrap()).unwrap()
}

fn event_id(v: &Value) -> EventId {
    EventId { server: int(&v["server"]), session: int(&v["session"]), instance: int(&v["instance"]) }
}

fn status(v: &Value) -> ServerStatus {
    match v.as_str() {
        Some("standby") => ServerStatus::Standby,
        Some("starting") => ServerStatus::Starting,
        Some("operational") => ServerStatus::Operational,
        Some("stopping") => ServerStatus::Stopping,
        _ => panic!("status {v}"),
    }
}

fn order(v: &Value) -> Order {
    match v.as_str() {
        Some("descending") => Order::Descending,
        Some("ascending") => Order::Ascending,
        _ => panic!("order {v}"),
    }
}

fn order_by(v: &Value) -> OrderBy {
    match v.as_str() {
        Some("timestamp") => OrderBy::Timestamp,
        Some("sourceTimestamp") => OrderBy::SourceTimestamp,
        _ => panic!("order_by {v}"),
    }
}

fn event_type(v: &Value) -> hat_event::event_type::EventType {
    list(v, string).into()
}

fn payload(v: &Value) -> EventPayload {
    match choice(v) {
        ("binary", b) => EventPayload::Binary { type_: string(&b["type"]), data: unhex(b["data"].as_str().unwrap()) },
        ("json", data) => EventPayload::Json(hat_event::json::JsonPayload::from_value(data.clone())),
        ("json_text", text) => EventPayload::json_from_text(text.as_str().unwrap()).unwrap(),
        (k, _) => panic!("payload kind {k}"),
    }
}

fn event(v: &Value) -> Event {
    Event {
        id: event_id(&v["id"]),
        type_: event_type(&v["type"]),
        timestamp: timestamp(&v["timestamp"]),
        source_timestamp: opt(&v["source_timestamp"], timestamp),
        payload: opt(&v["payload"], payload).map(std::sync::Arc::new),
    }
}

fn register_event(v: &Value) -> RegisterEvent {
    RegisterEvent {
        type_: event_type(&v["type"]),
        source_timestamp: opt(&v["source_timestamp"], timestamp),
        payload: opt(&v["payload"], payload).map(std::sync::Arc::new),
    }
}

fn event_types(v: &Value) -> Option<Vec<hat_event::event_type::EventType>> {
    opt(v, |t| list(t, event_type))
}

fn latest(v: &Value) -> QueryLatestParams {
    QueryLatestParams { event_types: event_types(&v["event_types"]) }
}

fn timeseries(v: &Value) -> QueryTimeseriesParams {
    QueryTimeseriesParams {
        event_types: event_types(&v["event_types"]),
        t_from: opt(&v["t_from"], timestamp),
        t_to: opt(&v["t_to"], timestamp),
        source_t_from: opt(&v["source_t_from"], timestamp),
        source_t_to: opt(&v["source_t_to"], timestamp),
        order: order(&v["order"]),
        order_by: order_by(&v["order_by"]),
        max_results: opt(&v["max_results"], int),
        last_event_id: opt(&v["last_event_id"], event_id),
    }
}

fn server(v: &Value) -> QueryServerParams {
    QueryServerParams {
        server_id: int(&v["server_id"]),
        persisted: boolean(&v["persisted"]),
        max_results: opt(&v["max_results"], int),
        last_event_id: opt(&v["last_event_id"], event_id),
    }
}

fn query_params(v: &Value) -> QueryParams {
    match choice(v) {
        ("latest", p) => QueryParams::Latest(latest(p)),
        ("timeseries", p) => QueryParams::Timeseries(timeseries(p)),
        ("server", p) => QueryParams::Server(server(p)),
        (k, _) => panic!("query params kind {k}"),
    }
}

fn query_result(v: &Value) -> QueryResult {
    QueryResult {
        events: std::sync::Arc::new(list(&v["events"], |v| std::sync::Arc::new(event(v)))),
        more_follows: boolean(&v["more_follows"]),
    }
}

fn init_req(v: &Value) -> MsgInitReq {
    MsgInitReq {
        client_name: string(&v["client_name"]),
        client_token: opt(&v["client_token"], string),
        subscriptions: list(&v["subscriptions"], event_type),
        server_id: opt(&v["server_id"], int),
        persisted: boolean(&v["persisted"]),
    }
}

fn init_res(v: &Value) -> MsgInitRes {
    match choice(v) {
        ("success", s) => MsgInitRes::Success(status(s)),
        ("error", e) => MsgInitRes::Error(string(e)),
        (k, _) => panic!("MsgInitRes kind {k}"),
    }
}

fn register_res(v: &Value) -> MsgRegisterRes {
    match choice(v) {
        ("events", e) => MsgRegisterRes::Events(list(e, |v| std::sync::Arc::new(event(v)))),
        ("failure", _) => MsgRegisterRes::Failure,
        (k, _) => panic!("MsgRegisterRes kind {k}"),
    }
}

fn events_ack(v: &Value) -> MsgEventsAck {
    assert!(v.is_null());
}

/// Calls `$f::<T>($args, expected)` with the Rust type and the expected
/// value that the vector's type name and value form describe.
macro_rules! dispatch {
    ($ty:expr, $value:expr, $f:ident($($arg:expr),*)) => {{
        let v: &Value = $value;
        match $ty {
            "Timestamp" => $f::<Timestamp>($($arg,)* timestamp(v)),
            "EventId" => $f::<EventId>($($arg,)* event_id(v)),
            "Status" => $f::<ServerStatus>($($arg,)* status(v)),
            "Order" => $f::<Order>($($arg,)* order(v)),
            "OrderBy" => $f::<OrderBy>($($arg,)* order_by(v)),
            "EventType" => $f::<hat_event::event_type::EventType>($($arg,)* event_type(v)),
            "EventPayload" => $f::<EventPayload>($($arg,)* payload(v)),
            "Event" => $f::<Event>($($arg,)* event(v)),
            "RegisterEvent" => $f::<RegisterEvent>($($arg,)* register_event(v)),
            "QueryLatestParams" => $f::<QueryLatestParams>($($arg,)* latest(v)),
            "QueryTimeseriesParams" => $f::<QueryTimeseriesParams>($($arg,)* timeseries(v)),
            "QueryServerParams" => $f::<QueryServerParams>($($arg,)* server(v)),
            "QueryParams" => $f::<QueryParams>($($arg,)* query_params(v)),
            "QueryResult" => $f::<QueryResult>($($arg,)* query_result(v)),
            "MsgInitReq" => $f::<MsgInitReq>($($arg,)* init_req(v)),
            "MsgInitRes" => $f::<MsgInitRes>($($arg,)* init_res(v)),
            "MsgStatusNotify" => $f::<MsgStatusNotify>($($arg,)* status(v)),
            "MsgEventsNotify" => $f::<MsgEventsNotify>($($arg,)* list(v, |v| std::sync::Arc::new(event(v)))),
            "MsgEventsAck" => $f::<MsgEventsAck>($($arg,)* events_ack(v)),
            "MsgRegisterReq" => $f::<MsgRegisterReq>($($arg,)* list(v, register_event)),
            "MsgRegisterRes" => $f::<MsgRegisterRes>($($arg,)* register_res(v)),
            "MsgQueryReq" => $f::<MsgQueryReq>($($arg,)* query_params(v)),
            "MsgQueryRes" => $f::<MsgQueryRes>($($arg,)* query_result(v)),
            other => panic!("unknown type {other}"),
        }
    }};
}

/// Like `dispatch!`, for checks that need the type only.
macro_rules! dispatch_type {
    ($ty:expr, $f:ident($($arg:expr),*)) => {{
        match $ty {
            "Timestamp" => $f::<Timestamp>($($arg),*),
            "EventId" => $f::<EventId>($($arg),*),
            "Status" => $f::<ServerStatus>($($arg),*),
            "Order" => $f::<Order>($($arg),*),
            "OrderBy" => $f::<OrderBy>($($arg),*),
            "EventType" => $f::<Vec<String>>($($arg),*),
            "EventPayload" => $f::<EventPayload>($($arg),*),
            "Event" => $f::<Event>($($arg),*),
            "RegisterEvent" => $f::<RegisterEvent>($($arg),*),
            "QueryLatestParams" => $f::<QueryLatestParams>($($arg),*),
            "QueryTimeseriesParams" => $f::<QueryTimeseriesParams>($($arg),*),
            "QueryServerParams" => $f::<QueryServerParams>($($arg),*),
            "QueryParams" => $f::<QueryParams>($($arg),*),
            "QueryResult" => $f::<QueryResult>($($arg),*),
            "MsgInitReq" => $f::<MsgInitReq>($($arg),*),
            "MsgInitRes" => $f::<MsgInitRes>($($arg),*),
            "MsgStatusNotify" => $f::<MsgStatusNotify>($($arg),*),
            "MsgEventsNotify" => $f::<MsgEventsNotify>($($arg),*),
            "MsgEventsAck" => $f::<MsgEventsAck>($($arg),*),
            "MsgRegisterReq" => $f::<MsgRegisterReq>($($arg),*),
            "MsgRegisterRes" => $f::<MsgRegisterRes>($($arg),*),
            "MsgQueryReq" => $f::<MsgQueryReq>($($arg),*),
            "MsgQueryRes" => $f::<MsgQueryRes>($($arg),*),
            other => panic!("unknown type {other}"),
        }
    }};
}

// ---------------------------------------------------------------------------
// Checks; each returns a description of the first failure.

type Check = Result<(), String>;

/// Encoding `expected` gives `bytes` exactly; decoding `bytes` gives
/// `expected`, takes all of them, and re-encodes to `bytes`; prefix decoding
/// ignores what follows; every strict prefix is refused.
fn round_trip<T: Sbs + PartialEq + Debug>(bytes: &[u8], expected: T) -> Check {
    let ours = encode_to_vec(&expected).map_err(|e| format!("encode: {e}"))?;
    if ours != bytes {
        return Err(format!("encode: got {}, want {}", hex(&ours), hex(bytes)));
    }
    let decoded: T = decode_exact(bytes).map_err(|e| format!("decode: {e}"))?;
    if decoded != expected {
        return Err(format!("decode: got {decoded:?}, want {expected:?}"));
    }
    let again = encode_to_vec(&decoded).map_err(|e| format!("re-encode: {e}"))?;
    if again != bytes {
        return Err(format!("re-encode: got {}, want {}", hex(&again), hex(bytes)));
    }
    let mut longer = bytes.to_vec();
    longer.extend_from_slice(&[0x80, 0x00, 0xff]);
    match decode_prefix::<T>(&longer) {
        Ok((v, n)) if n == bytes.len() && v == expected => {}
        other => return Err(format!("decode_prefix with trailing bytes: {other:?}")),
    }
    match decode_exact::<T>(&longer) {
        Err(SbsError::TrailingBytes { count: 3, offset }) if offset == bytes.len() => {}
        other => return Err(format!("decode_exact with trailing bytes: {other:?}")),
    }
    for n in 0..bytes.len() {
        if let Ok(v) = decode_exact::<T>(&bytes[..n]) {
            return Err(format!("prefix of {n} bytes decoded: {v:?}"));
        }
    }
    Ok(())
}

/// Decoding `bytes` gives `expected`; encoding that gives `canonical`.
fn decodes_to<T: Sbs + PartialEq + Debug>(bytes: &[u8], canonical: &[u8], expected: T) -> Check {
    let decoded: T = decode_exact(bytes).map_err(|e| format!("decode: {e}"))?;
    if decoded != expected {
        return Err(format!("decode: got {decoded:?}, want {expected:?}"));
    }
    let ours = encode_to_vec(&decoded).map_err(|e| format!("encode: {e}"))?;
    if ours != canonical {
        return Err(format!("encode: got {}, want {}", hex(&ours), hex(canonical)));
    }
    Ok(())
}

/// Decoding `bytes` fails with the `SbsError` variant named `kind`.
fn refuses<T: Sbs + Debug>(bytes: &[u8], kind: &str) -> Check {
    match decode_exact::<T>(bytes) {
        Err(e) if format!("{e:?}").starts_with(kind) && e.offset().is_some() => Ok(()),
        other => Err(format!("want {kind}, got {other:?}")),
    }
}

/// Decoding damaged bytes returns, never panics; what decodes re-encodes.
fn survives_damage<T: Sbs + Debug>(bytes: &[u8]) -> Check {
    let mut damaged = bytes.to_vec();
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x3f, 0x40, 0x80, 0xff] {
            damaged[i] = bytes[i] ^ mask;
            if let Ok(v) = decode_exact::<T>(&damaged) {
                // JSON text may decode but not re-encode (say `1e999`).
                if let Err(e) = encode_to_vec(&v) {
                    if !matches!(e, SbsError::UnencodableJson(_)) {
                        return Err(format!("byte {i} ^ {mask:#x}: re-encode: {e}"));
                    }
                }
            }
        }
        damaged[i] = bytes[i];
    }
    Ok(())
}

fn run_all(entries: &[Value], check: impl Fn(&Value) -> Check) -> usize {
    let mut failures = Vec::new();
    for entry in entries {
        if let Err(e) = check(entry) {
            failures.push(format!("{} {}: {e}", entry["type"], entry["name"]));
        }
    }
    assert!(failures.is_empty(), "{} of {} failed:\n{}", failures.len(), entries.len(), failures.join("\n"));
    entries.len()
}

// ---------------------------------------------------------------------------

#[test]
fn reference_bytes_round_trip() {
    let all = vectors();
    let entries = section(&all, "vectors");
    let n = run_all(entries, |e| {
        let ty = e["type"].as_str().unwrap();
        let bytes = unhex(e["hex"].as_str().unwrap());
        dispatch!(ty, &e["value"], round_trip(&bytes))
    });
    assert!(n > 300, "only {n} vectors");
}

#[test]
fn every_type_and_message_has_vectors() {
    let all = vectors();
    let types: std::collections::BTreeSet<&str> =
        section(&all, "vectors").iter().map(|e| e["type"].as_str().unwrap()).collect();
    for ty in [
        "Timestamp",
        "EventId",
        "Status",
        "Order",
        "OrderBy",
        "EventType",
        "EventPayload",
        "Event",
        "RegisterEvent",
        "QueryLatestParams",
        "QueryTimeseriesParams",
        "QueryServerParams",
        "QueryParams",
        "QueryResult",
        "MsgInitReq",
        "MsgInitRes",
        "MsgStatusNotify",
        "MsgEventsNotify",
        "MsgEventsAck",
        "MsgRegisterReq",
        "MsgRegisterRes",
        "MsgQueryReq",
        "MsgQueryRes",
    ] {
        assert!(types.contains(ty), "no vectors for {ty}");
    }
}

#[test]
fn reference_decodes_of_non_canonical_json_text() {
    let all = vectors();
    run_all(section(&all, "decode_only"), |e| {
        let ty = e["type"].as_str().unwrap();
        let bytes = unhex(e["hex"].as_str().unwrap());
        let canonical = unhex(e["canonical_hex"].as_str().unwrap());
        dispatch!(ty, &e["value"], decodes_to(&bytes, &canonical))
    });
}

#[test]
fn bytes_we_refuse_on_purpose() {
    let all = vectors();
    run_all(section(&all, "errors"), |e| {
        let ty = e["type"].as_str().unwrap();
        let bytes = unhex(e["hex"].as_str().unwrap());
        let kind = e["error"].as_str().unwrap();
        dispatch_type!(ty, refuses(&bytes, kind))
    });
}

#[test]
fn damaged_reference_bytes_never_panic() {
    let all = vectors();
    let small: Vec<Value> =
        section(&all, "vectors").iter().filter(|e| e["hex"].as_str().unwrap().len() <= 2 * 600).cloned().collect();
    let n = run_all(&small, |e| {
        let ty = e["type"].as_str().unwrap();
        let bytes = unhex(e["hex"].as_str().unwrap());
        dispatch_type!(ty, survives_damage(&bytes))
    });
    assert!(n > 200, "only {n} vectors");
}
