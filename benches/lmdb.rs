//! Our LMDB backend, the cases benches/lmdb_compare.py sets beside hat's
//! LmdbBackend (benches/hat_lmdb.py measures hat's the same way):
//! register + flush throughput (100 events a session), latest queries, a
//! timeseries query of 1,000 events from `--stored` stored events, file
//! size per stored event and peak RSS. Prints one JSON object per case.
//!
//!   cargo bench --bench lmdb -- [--events N] [--stored N] [--dir DIR]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use hat_event::event::{Event, EventId, EventPayload};
use hat_event::query::{QueryLatestParams, QueryParams, QueryTimeseriesParams};
use hat_event::server::backend::{Backend, BackendCallbacks};
use hat_event::server::backends::lmdb::LmdbBackend;
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

/// Event `n` (from 0): session `n / 100 + 1`, one microsecond after event
/// `n - 1`, type `('sensor', n % 100)`, JSON payload `{"value": n}`.
fn event(n: i64) -> Arc<Event> {
    Arc::new(Event {
        id: EventId { server: 1, session: n / SESSION + 1, instance: n % SESSION + 1 },
        type_: vec!["sensor".to_string(), (n % TYPES).to_string()].into(),
        timestamp: Timestamp::new(BASE_S + n / 1_000_000, (n % 1_000_000) as u32).unwrap(),
        source_timestamp: None,
        payload: Some(Arc::new(EventPayload::json_from_text(&format!("{{\"value\": {n}}}")).unwrap())),
    })
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
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(dir.join("ours.db-lock"));

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
    if std::env::var_os("KEEP").is_some() {
        return;
    }
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(dir.join("ours.db-lock"));
}
