//! The LMDB backend through its Rust API: the behaviours hat-event's own
//! backend tests check (`test_pytest/test_backends/test_lmdb/test_backend.py`
//! and `test_conditions.py` of hat-event 0.9.44: configuration validated by
//! the schema, last event id, the same answers before and after a flush,
//! the cleanup thread, each condition kind), written for ours, and what the
//! flush thread promises (flushed only after the commit, a drop flushes).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hat_event::event::{Event, EventId, EventPayload};
use hat_event::query::{QueryLatestParams, QueryParams, QueryServerParams, QueryTimeseriesParams};
use hat_event::server::backend::{Backend, BackendCallbacks};
use hat_event::server::backends::lmdb::{LmdbBackend, LMDB_BACKEND_NAME, LMDB_SCHEMA_ID};
use hat_event::server::registry::{validate_conf, Registered, Resolver};
use hat_event::timestamp::Timestamp;
use serde_json::{json, Value};

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("hat-event-lmdb-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn db(&self) -> PathBuf {
        self.0.join("db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// hat's test configuration: both timeseries orders over everything.
fn conf(path: &Path) -> Value {
    json!({"db_path": path.to_str().unwrap(), "identifier": null, "flush_period": 1, "cleanup_period": 1,
           "conditions": [], "latest": {"subscriptions": [["*"]]},
           "timeseries": [{"order_by": "TIMESTAMP", "subscriptions": [["*"]]},
                          {"order_by": "SOURCE_TIMESTAMP", "subscriptions": [["*"]]}]})
}

fn event(id: EventId, type_: &[&str], payload: Option<&str>) -> Arc<Event> {
    Arc::new(Event {
        id,
        type_: type_.iter().map(|s| s.to_string()).collect(),
        timestamp: Timestamp::now(),
        source_timestamp: None,
        payload: payload.map(|p| Arc::new(EventPayload::json_from_text(p).unwrap())),
    })
}

fn id(session: i64, instance: i64) -> EventId {
    EventId { server: 1, session, instance }
}

fn all_queries() -> [QueryParams; 3] {
    [
        QueryParams::Latest(QueryLatestParams::default()),
        QueryParams::Timeseries(QueryTimeseriesParams::default()),
        QueryParams::Server(QueryServerParams::new(1)),
    ]
}

#[test]
fn configuration_follows_hats_schema_and_the_name_is_registered() {
    let dir = TempDir::new("schema");
    let info = Registered.backend_info(LMDB_BACKEND_NAME).unwrap();
    let schema = info.schema.clone().expect("the lmdb backend declares its schema");
    assert_eq!(schema.id, LMDB_SCHEMA_ID);
    validate_conf(&schema, &conf(&dir.db())).unwrap();
    let mut missing = conf(&dir.db());
    missing.as_object_mut().unwrap().remove("flush_period");
    assert!(validate_conf(&schema, &missing).is_err());
    assert!(Registered.backend_info("lmdb").is_ok());
}

#[test]
fn get_last_event_id_follows_registered_events_and_survives_reopening() {
    let dir = TempDir::new("last-id");
    let mut backend = LmdbBackend::create(&conf(&dir.db()), BackendCallbacks::default()).unwrap();
    assert_eq!(backend.get_last_event_id(1).unwrap(), id(0, 0));
    backend.register(&[event(id(123, 321), &["a"], None)]).unwrap();
    assert_eq!(backend.get_last_event_id(1).unwrap(), id(123, 321));
    backend.register(&[event(id(123, 322), &["a"], None)]).unwrap();
    assert_eq!(backend.get_last_event_id(1).unwrap(), id(123, 322));
    // An older id is skipped, as hat skips it.
    backend.register(&[event(id(100, 1), &["a"], None)]).unwrap();
    assert_eq!(backend.get_last_event_id(1).unwrap(), id(123, 322));
    assert_eq!(backend.get_last_event_id(2).unwrap(), EventId { server: 2, session: 0, instance: 0 });
    drop(backend); // flushes
    let mut backend = LmdbBackend::create(&conf(&dir.db()), BackendCallbacks::default()).unwrap();
    assert_eq!(backend.get_last_event_id(1).unwrap(), id(123, 322));
}

#[test]
fn queries_answer_the_same_before_and_after_a_flush() {
    let dir = TempDir::new("query");
    let mut backend = LmdbBackend::create(&conf(&dir.db()), BackendCallbacks::default()).unwrap();
    let e = event(id(123, 321), &["a"], None);
    backend.register(&[Arc::clone(&e)]).unwrap();
    for _ in 0..2 {
        for params in all_queries() {
            let result = backend.query(&params).unwrap();
            assert_eq!(*result.events, vec![Arc::clone(&e)], "{params:?}");
            assert!(!result.more_follows);
        }
        backend.flush().unwrap();
    }
}

#[test]
fn a_latest_query_of_every_type_follows_each_register_and_keeps_its_own_answer() {
    let dir = TempDir::new("latest-all");
    let mut backend = LmdbBackend::create(&conf(&dir.db()), BackendCallbacks::default()).unwrap();
    let all = QueryParams::Latest(QueryLatestParams { event_types: None });
    let (a1, b1, a2) = (event(id(1, 1), &["a"], None), event(id(1, 2), &["b"], None), event(id(1, 3), &["a"], None));
    backend.register(&[Arc::clone(&a1)]).unwrap();
    let first = backend.query(&all).unwrap();
    assert_eq!(*first.events, vec![Arc::clone(&a1)]);
    // Asked again with no change: the same list, shared.
    assert!(Arc::ptr_eq(&first.events, &backend.query(&all).unwrap().events));
    backend.register(&[Arc::clone(&b1)]).unwrap();
    assert_eq!(*backend.query(&all).unwrap().events, vec![Arc::clone(&a1), Arc::clone(&b1)]);
    backend.register(&[Arc::clone(&a2)]).unwrap();
    // hat's dict order: a type keeps the position where it was first kept.
    assert_eq!(*backend.query(&all).unwrap().events, vec![Arc::clone(&a2), Arc::clone(&b1)]);
    backend.flush().unwrap();
    assert_eq!(*backend.query(&all).unwrap().events, vec![Arc::clone(&a2), Arc::clone(&b1)]);
    // An answer already given does not change with later registers.
    assert_eq!(*first.events, vec![a1]);
}

#[test]
fn the_cleanup_thread_applies_the_limits_every_period() {
    let dir = TempDir::new("cleanup");
    let mut c = conf(&dir.db());
    c["flush_period"] = json!(0.001);
    c["cleanup_period"] = json!(0.001);
    c["latest"]["subscriptions"] = json!([]);
    c["timeseries"] = json!([{"order_by": "TIMESTAMP", "subscriptions": [["*"]], "limit": {"max_entries": 0}}]);
    let mut backend = LmdbBackend::create(&c, BackendCallbacks::default()).unwrap();
    backend.register(&[event(id(123, 321), &["a"], None)]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answers: Vec<usize> = all_queries()[1..].iter().map(|p| backend.query(p).unwrap().events.len()).collect();
        if answers == [0, 0] {
            break;
        }
        assert!(Instant::now() < deadline, "still stored after 10 s: {answers:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// (That the report comes only after the commit is what
/// tests/lmdb_durability.rs checks by killing.)
#[test]
fn flushed_is_reported_by_flush_and_by_drop_and_means_persisted() {
    let dir = TempDir::new("flushed");
    let path = dir.db();
    let seen: Arc<Mutex<Vec<EventId>>> = Arc::default();
    let report = Arc::clone(&seen);
    let callbacks = BackendCallbacks {
        registered: None,
        flushed: Some(Box::new(move |events: &[Arc<Event>]| report.lock().unwrap().push(events[0].id))),
    };
    let mut c = conf(&path);
    c["flush_period"] = json!(3600);
    let mut backend = LmdbBackend::create(&c, callbacks).unwrap();
    backend.register(&[event(id(1, 1), &["a"], Some("1"))]).unwrap();
    assert!(seen.lock().unwrap().is_empty(), "nothing is flushed before the period or a flush");
    let persisted = QueryParams::Server(QueryServerParams { server_id: 1, persisted: true, ..Default::default() });
    assert!(backend.query(&persisted).unwrap().events.is_empty());
    backend.flush().unwrap();
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert_eq!(backend.query(&persisted).unwrap().events.len(), 1, "flushed means persisted");
    backend.register(&[event(id(2, 1), &["a"], Some("2"))]).unwrap();
    drop(backend);
    assert_eq!(*seen.lock().unwrap(), [id(1, 1), id(2, 1)], "the drop flushed and reported");
    let mut backend = LmdbBackend::create(&conf(&path), BackendCallbacks::default()).unwrap();
    assert_eq!(backend.query(&persisted).unwrap().events.len(), 2);
}

/// hat-event's conditions cases: (condition, payloads that match, payloads
/// that do not), for an event of type ('a',); `None` is no payload, `b` a
/// binary one.
#[test]
fn each_condition_kind_filters_as_hats() {
    type Payloads = Vec<Option<&'static str>>;
    let cases: Vec<(Value, Payloads, Payloads)> = vec![
        (json!({"type": "json"}), vec![Some("null")], vec![None, Some("b")]),
        (
            json!({"type": "any", "conditions": [{"type": "json", "data_value": 1}, {"type": "json", "data_value": 2}]}),
            vec![Some("1"), Some("2")],
            vec![Some("3")],
        ),
        (
            json!({"type": "all", "conditions": [{"type": "json", "data_path": "x", "data_value": 1},
                                                 {"type": "json", "data_path": "y", "data_value": 2}]}),
            vec![Some(r#"{"x": 1, "y": 2}"#)],
            vec![Some(r#"{"x": 1}"#), Some(r#"{"y": 2}"#)],
        ),
        (json!({"type": "json", "data_type": "null"}), vec![Some("null")], vec![Some("1")]),
        (json!({"type": "json", "data_type": "boolean"}), vec![Some("true")], vec![Some("1")]),
        (json!({"type": "json", "data_type": "string"}), vec![Some(r#""abc""#)], vec![Some("null")]),
        (json!({"type": "json", "data_type": "number"}), vec![Some("123")], vec![Some("true")]),
        (json!({"type": "json", "data_type": "array"}), vec![Some("[1, 2, 3]")], vec![Some("null")]),
        (json!({"type": "json", "data_type": "object"}), vec![Some("{}")], vec![Some("null")]),
    ];
    let dir = TempDir::new("conditions");
    for (n, (condition, matching, not_matching)) in cases.into_iter().enumerate() {
        let mut c = conf(&dir.0.join(format!("db-{n}")));
        c["conditions"] = json!([{"subscriptions": [["a"]], "condition": condition}]);
        let mut backend = LmdbBackend::create(&c, BackendCallbacks::default()).unwrap();
        let mut instance = 0;
        let mut register = |backend: &mut LmdbBackend, type_: &str, payload: Option<&str>| -> bool {
            instance += 1;
            let mut e = (*event(id(1, instance), &[type_], None)).clone();
            e.payload = match payload {
                Some("b") => Some(Arc::new(EventPayload::Binary { type_: String::new(), data: Vec::new() })),
                Some(text) => Some(Arc::new(EventPayload::json_from_text(text).unwrap())),
                None => None,
            };
            backend.register(&[Arc::new(e)]).unwrap();
            backend.get_last_event_id(1).unwrap().instance == instance
        };
        for payload in matching {
            assert!(register(&mut backend, "a", payload), "case {n}: {payload:?} is stored");
        }
        for payload in not_matching {
            assert!(!register(&mut backend, "a", payload), "case {n}: {payload:?} is not stored");
        }
        assert!(register(&mut backend, "b", None), "case {n}: no condition for ('b',)");
    }
}

/// Between flushes the flush thread writes the waiting changes into its
/// open transaction every few thousand events (staging). While some are
/// staged, queries see every registered event exactly once; nothing is
/// persisted or reported before the flush; a staged event whose only ref
/// (latest) is replaced later leaves the server query, as hat drops an
/// event whose refs all went before its flush. The same answers after the
/// flush, and after reopening.
#[test]
fn staged_changes_are_seen_once_and_persisted_only_by_the_flush() {
    const COUNT: i64 = 30_000;
    let dir = TempDir::new("staged");
    let path = dir.db();
    let reported = Arc::new(Mutex::new(0usize));
    let report = Arc::clone(&reported);
    let callbacks = BackendCallbacks {
        registered: None,
        flushed: Some(Box::new(move |events: &[Arc<Event>]| *report.lock().unwrap() += events.len())),
    };
    let conf = json!({"db_path": path.to_str().unwrap(), "identifier": null, "flush_period": 3600,
                      "cleanup_period": 3600, "conditions": [], "latest": {"subscriptions": [["*"]]},
                      "timeseries": [{"order_by": "TIMESTAMP", "subscriptions": [["ts", "*"]]}],
                      "timeseries_max_results": 1_000_000});
    let mut backend = LmdbBackend::create(&conf, callbacks).unwrap();
    // Even events go to the partition and latest; odd ones only to latest,
    // seven types of them, so most are replaced before the flush.
    let make = |n: i64| {
        let type_ = if n % 2 == 0 {
            vec!["ts".to_string(), (n % 50).to_string()]
        } else {
            vec!["only".to_string(), (n % 7).to_string()]
        };
        Arc::new(Event {
            id: id(1 + n / 100, 1 + n % 100),
            type_: type_.into(),
            timestamp: Timestamp::new(1_700_000_000 + n / 1_000_000, (n % 1_000_000) as u32).unwrap(),
            source_timestamp: None,
            payload: Some(Arc::new(EventPayload::json_from_text(&n.to_string()).unwrap())),
        })
    };
    for start in (0..COUNT).step_by(100) {
        backend.register(&(start..start + 100).map(make).collect::<Vec<_>>()).unwrap();
        if start % 5_000 == 0 {
            // Time for the thread to stage what is waiting.
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let last_only: Vec<i64> = (0..7).map(|t| (0..COUNT).rev().find(|n| n % 2 == 1 && n % 7 == t).unwrap()).collect();
    let expected_server: Vec<EventId> =
        (0..COUNT).filter(|n| n % 2 == 0 || last_only.contains(n)).map(|n| make(n).id).collect();
    let expected_timeseries: Vec<EventId> = (0..COUNT).rev().filter(|n| n % 2 == 0).map(|n| make(n).id).collect();
    let server_ids = |backend: &mut LmdbBackend, persisted: bool| {
        let mut ids = Vec::new();
        let mut last_event_id = None;
        loop {
            let params = QueryServerParams { server_id: 1, persisted, last_event_id, ..Default::default() };
            let result = backend.query(&QueryParams::Server(params)).unwrap();
            ids.extend(result.events.iter().map(|e| e.id));
            last_event_id = ids.last().copied();
            if !result.more_follows {
                return ids;
            }
        }
    };
    let timeseries_ids = |backend: &mut LmdbBackend| {
        let result = backend.query(&QueryParams::Timeseries(QueryTimeseriesParams::default())).unwrap();
        assert!(!result.more_follows);
        result.events.iter().map(|e| e.id).collect::<Vec<_>>()
    };
    let latest_count = |backend: &mut LmdbBackend| {
        backend.query(&QueryParams::Latest(QueryLatestParams::default())).unwrap().events.len()
    };
    assert_eq!(server_ids(&mut backend, false), expected_server, "waiting, staged or not");
    assert!(server_ids(&mut backend, true).is_empty(), "nothing persisted before the flush");
    assert_eq!(timeseries_ids(&mut backend), expected_timeseries);
    assert_eq!(latest_count(&mut backend), 25 + 7);
    assert_eq!(*reported.lock().unwrap(), 0, "nothing reported before the flush");
    backend.flush().unwrap();
    assert_eq!(*reported.lock().unwrap(), COUNT as usize);
    for persisted in [false, true] {
        assert_eq!(server_ids(&mut backend, persisted), expected_server, "after the flush, persisted={persisted}");
    }
    assert_eq!(timeseries_ids(&mut backend), expected_timeseries);
    drop(backend);
    let mut backend = LmdbBackend::create(&conf, BackendCallbacks::default()).unwrap();
    assert_eq!(server_ids(&mut backend, true), expected_server, "after reopening");
    assert_eq!(timeseries_ids(&mut backend), expected_timeseries);
    assert_eq!(latest_count(&mut backend), 25 + 7);
}
