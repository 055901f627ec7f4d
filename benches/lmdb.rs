//! Our LMDB backend, the cases benches/lmdb_compare.py sets beside hat's
//! LmdbBackend (benches/hat_lmdb.py measures hat's the same way):
//! register + flush throughput (100 events a session), latest queries, a
//! timeseries query of 1,000 events from `--stored` stored events, file
//! size per stored event and peak RSS; and the engine on this backend
//! (beside hat's Engine on its LmdbBackend): register throughput counted
//! until the backend reports the events flushed, 100 and 1 events a call.
//! Prints one JSON object per case.
//!
//!   cargo bench --bench lmdb -- [--events N] [--stored N] [--dir DIR]

#[path = "sink/mod.rs"]
mod sink;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use hat_event::event::{Event, EventId, EventPayload, RegisterEvent, Source, SourceType};
use hat_event::query::{QueryLatestParams, QueryParams, QueryTimeseriesParams};
use hat_event::server::backend::{Backend, BackendCallbacks};
use hat_event::server::backends::lmdb::LmdbBackend;
use hat_event::server::engine::{Engine, EngineHooks};
use hat_event::server::registry::Registered;
use hat_event::timestamp::Timestamp;

const TYPES: i64 = 100;
const SESSION: i64 = 100;
const BASE_S: i64 = 1_700_000_000;
/// Latest queries take microseconds: enough of them that a round lasts
/// milliseconds on either side (hat_lmdb.py uses the same count).
const LATEST_ROUNDS: u32 = 5_000;

fn conf(path: &Path) -> serde_json::Value {
    serde_json::json!({
        "db_path": path.to_str().unwrap(), "identifier": "bench",
        "flush_period": 3600, "cleanup_period": 3600, "conditions": [],
        "latest": {"subscriptions": [["*"]]},
        "timeseries": [{"order_by": "TIMESTAMP", "subscriptions": [["*"]]}]
    })
}

/// Register event `n` (from 0): type `('sensor', n % 100)`, JSON payload
/// `{"value": n}`.
fn register_event(n: i64) -> RegisterEvent {
    RegisterEvent {
        type_: vec!["sensor".to_string(), (n % TYPES).to_string()].into(),
        source_timestamp: None,
        payload: Some(Arc::new(EventPayload::json_from_text(&format!("{{\"value\": {n}}}")).unwrap())),
    }
}

/// Event `n` (from 0): register event `n` in session `n / 100 + 1`, one
/// microsecond after event `n - 1`.
fn event(n: i64) -> Arc<Event> {
    let RegisterEvent { type_, source_timestamp, payload } = register_event(n);
    Arc::new(Event {
        id: EventId { server: 1, session: n / SESSION + 1, instance: n % SESSION + 1 },
        type_,
        timestamp: Timestamp::new(BASE_S + n / 1_000_000, (n % 1_000_000) as u32).unwrap(),
        source_timestamp,
        payload,
    })
}

fn remove_db(path: &Path) {
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(format!("{}-lock", path.display()));
}

/// Events per second through an engine with one module (`Sink`) on the
/// LMDB backend (a new file at `path`, configured by `conf`), `batch`
/// register events a call (made before the clock starts, moved in as a
/// server that decoded them does): from the first call until the backend
/// reports the last of them flushed. The engine's close asks for that
/// flush (hat_lmdb.py calls its backend's flush).
fn engine_register(path: &Path, events: i64, batch: i64) -> f64 {
    remove_db(path);
    let mut backend = conf(path);
    backend["module"] = "lmdb".into();
    let engine_conf = serde_json::json!({"server_id": 1, "backend": backend, "modules": [{"module": "bench.sink"}]});
    let flushed_at = Arc::new(Mutex::new(None));
    let flushed = AtomicI64::new(0);
    let stamp = Arc::clone(&flushed_at);
    let hooks = EngineHooks {
        flushed: Some(Box::new(move |batch: &[Arc<Event>]| {
            let sensors = batch.iter().filter(|e| e.type_.get(0) == Some("sensor")).count() as i64;
            if flushed.fetch_add(sensors, Ordering::Relaxed) + sensors >= events {
                stamp.lock().unwrap().get_or_insert_with(Instant::now);
            }
        })),
        ..Default::default()
    };
    let engine = Engine::create(&engine_conf, &Registered, hooks).unwrap();
    let source = Source { type_: SourceType::Eventer, id: 1 };
    let calls: Vec<Vec<RegisterEvent>> = (0..events)
        .step_by(batch as usize)
        .map(|n| (n..(n + batch).min(events)).map(register_event).collect())
        .collect();
    let start = Instant::now();
    for call in calls {
        engine.register_owned(source, call).unwrap();
    }
    engine.close().unwrap();
    let end = flushed_at.lock().unwrap().expect("the engine's close flushed every event");
    drop(engine);
    remove_db(path);
    events as f64 / (end - start).as_secs_f64()
}

/// Registers events `from..to` a session at a time, flushing every 100,000
/// events and at the end (as a flush period would).
fn fill(backend: &mut LmdbBackend, from: i64, to: i64) -> f64 {
    let start = Instant::now();
    let mut n = from;
    while n < to {
        let session: Vec<Arc<Event>> = (n..(n + SESSION).min(to)).map(event).collect();
        backend.register(&session).unwrap();
        n += SESSION;
        if (n - from) % 100_000 == 0 {
            backend.flush().unwrap();
        }
    }
    backend.flush().unwrap();
    start.elapsed().as_secs_f64()
}

/// Seconds per query over `rounds` queries (after one untimed).
fn per_query(backend: &mut LmdbBackend, params: &QueryParams, expected: usize, rounds: u32) -> f64 {
    backend.query(params).unwrap();
    let start = Instant::now();
    for _ in 0..rounds {
        let result = backend.query(params).unwrap();
        assert_eq!(result.events.len(), expected);
    }
    start.elapsed().as_secs_f64() / rounds as f64
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let events: i64 = arg("--events").map_or(100_000, |v| v.parse().unwrap());
    let stored: i64 = arg("--stored").map_or(1_000_000, |v| v.parse().unwrap());
    let dir = PathBuf::from(arg("--dir").unwrap_or_else(|| "target/bench-data/lmdb".into()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ours.db");
    remove_db(&path);

    let mut backend = LmdbBackend::create(&conf(&path), BackendCallbacks::default()).unwrap();
    let seconds = fill(&mut backend, 0, events);
    println!(r#"{{"case": "register_flush", "events": {events}, "events_per_s": {:.0}}}"#, events as f64 / seconds);
    fill(&mut backend, events, stored.max(events));
    let stored = stored.max(events);

    let all = QueryParams::Latest(QueryLatestParams { event_types: None });
    println!(
        r#"{{"case": "latest_all", "us": {:.4}}}"#,
        per_query(&mut backend, &all, TYPES as usize, LATEST_ROUNDS) * 1e6
    );
    let one = QueryParams::Latest(QueryLatestParams { event_types: Some(vec![["sensor", "7"].into()]) });
    println!(r#"{{"case": "latest_one", "us": {:.4}}}"#, per_query(&mut backend, &one, 1, LATEST_ROUNDS) * 1e6);
    let mid = stored / 2;
    let timeseries = QueryParams::Timeseries(QueryTimeseriesParams {
        t_from: Some(event(mid).timestamp),
        t_to: Some(event(mid + 999).timestamp),
        max_results: Some(1000),
        ..Default::default()
    });
    println!(
        r#"{{"case": "timeseries_1000", "stored": {stored}, "us": {:.1}}}"#,
        per_query(&mut backend, &timeseries, 1000, 200) * 1e6
    );
    drop(backend);
    let size = std::fs::metadata(&path).unwrap().len();
    println!(r#"{{"case": "file", "bytes_per_event": {:.1}}}"#, size as f64 / stored as f64);
    println!(r#"{{"case": "rss", "peak_kib": {}}}"#, peak_rss_kib());
    // After the peak RSS, which is the backend cases'; each in a file of its own.
    sink::register("bench.sink");
    for batch in [100, 1] {
        let events_per_s = engine_register(&dir.join("ours-engine.db"), events, batch);
        println!(r#"{{"case": "engine_batch_{batch}", "events": {events}, "events_per_s": {events_per_s:.0}}}"#);
    }
    if std::env::var_os("KEEP").is_some() {
        return;
    }
    remove_db(&path);
}
