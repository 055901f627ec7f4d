//! The LMDB backend's durability promise, tested by killing: a child
//! process registers sessions in a loop with a short flush period and prints
//! each batch the backend reports flushed; the parent kills it with SIGKILL
//! at a random moment, reopens the file and checks that every reported
//! event is there, that sessions are whole (one flush is one transaction),
//! and that the next child's ids continue after the last stored one.
//! At least 100 kills, within a time bound the test sets itself. Every
//! other child registers in a storm, without pausing, so that the flush
//! thread stages changes into its open transaction between flushes and
//! kills land while it writes them.
//!
//! One binary plays both parts (`harness = false`): with
//! `HAT_EVENT_LMDB_CHILD=<path>` in its environment it is the child.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hat_event::event::{Event, EventId, EventPayload};
use hat_event::query::{QueryParams, QueryServerParams};
use hat_event::server::backend::{Backend, BackendCallbacks};
use hat_event::server::backends::lmdb::LmdbBackend;
use hat_event::timestamp::Timestamp;

const CHILD: &str = "HAT_EVENT_LMDB_CHILD";
/// Set for a storm child.
const STORM: &str = "HAT_EVENT_LMDB_STORM";
const SERVER: i64 = 1;
const PER_SESSION: i64 = 3;
const KILLS: usize = 100;
const TIME_BOUND: Duration = Duration::from_secs(300);

/// A storm child's flush period is long enough for thousands of events,
/// which the flush thread stages before the commit.
fn conf(path: &Path, storm: bool) -> serde_json::Value {
    let flush_period = if storm { 0.06 } else { 0.005 };
    serde_json::json!({
        "db_path": path.to_str().unwrap(), "identifier": "durability",
        "flush_period": flush_period, "cleanup_period": 3600, "conditions": [],
        "latest": {"subscriptions": [["*"]]},
        "timeseries": [{"order_by": "TIMESTAMP", "subscriptions": [["*"]]}]
    })
}

fn session_events(session: i64) -> Vec<Arc<Event>> {
    (1..=PER_SESSION)
        .map(|instance| {
            Arc::new(Event {
                id: EventId { server: SERVER, session, instance },
                type_: vec!["d".to_string(), (session % 7).to_string()].into(),
                timestamp: Timestamp::now(),
                source_timestamp: None,
                payload: Some(Arc::new(EventPayload::json_from_text(&format!("{{\"s\": {session}}}")).unwrap())),
            })
        })
        .collect()
}

/// Registers sessions until killed; prints `start S` (its first session)
/// and `flushed S` for each batch the backend reports durable.
fn child(path: &Path, storm: bool) {
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let report = Arc::clone(&out);
    let callbacks = BackendCallbacks {
        registered: None,
        flushed: Some(Box::new(move |events: &[Arc<Event>]| {
            let mut out = report.lock().unwrap();
            if let Some(last) = events.last() {
                writeln!(out, "flushed {}", last.id.session).unwrap();
                out.flush().unwrap();
            }
        })),
    };
    let mut backend = LmdbBackend::create(&conf(path, storm), callbacks).expect("child opens the file");
    let mut session = backend.get_last_event_id(SERVER).unwrap().session + 1;
    {
        let mut out = out.lock().unwrap();
        writeln!(out, "start {session}").unwrap();
        out.flush().unwrap();
    }
    loop {
        backend.register(&session_events(session)).unwrap();
        session += 1;
        if !storm {
            std::thread::sleep(Duration::from_micros(300));
        }
    }
}

/// Sessions stored after `after`, each whole, in order.
fn stored_sessions(backend: &mut LmdbBackend, after: i64) -> Vec<i64> {
    let mut sessions = Vec::new();
    let mut last = (after > 0).then_some(EventId { server: SERVER, session: after, instance: PER_SESSION });
    loop {
        let params = QueryParams::Server(QueryServerParams {
            server_id: SERVER,
            persisted: true,
            max_results: Some(4096),
            last_event_id: last,
        });
        let result = backend.query(&params).unwrap();
        for event in result.events.iter() {
            if event.id.instance == 1 {
                sessions.push(event.id.session);
            }
            let expected_instance = if event.id.instance == 1 { 1 } else { last.unwrap().instance + 1 };
            assert_eq!(event.id.instance, expected_instance, "session {} is whole", event.id.session);
            last = Some(event.id);
        }
        if !result.more_follows {
            break;
        }
    }
    if let Some(last) = last {
        assert_eq!(last.instance, PER_SESSION, "the last session is whole");
    }
    sessions
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn parent() {
    let dir = std::env::temp_dir().join(format!("hat-event-lmdb-durability-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join("db");
    let seed = std::env::var("HAT_EVENT_LMDB_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_1234_u64);
    let mut rng = Rng(seed | 1);
    let started = Instant::now();
    let mut verified = 0i64; // sessions 1..=verified checked present
    let mut kills = 0;
    let mut lost_unreported = 0i64;
    while kills < KILLS {
        assert!(started.elapsed() < TIME_BOUND, "only {kills} kills within {TIME_BOUND:?}");
        let storm = kills % 2 == 1;
        let mut command = Command::new(std::env::current_exe().unwrap());
        if storm {
            command.env(STORM, "1");
        }
        let mut child = command.env(CHILD, &path).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let reader_lines = Arc::clone(&lines);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(line) => reader_lines.lock().unwrap().push(line),
                    Err(_) => break,
                }
            }
        });
        std::thread::sleep(Duration::from_millis(10 + rng.below(150)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        kills += 1;

        let lines = lines.lock().unwrap().clone();
        let start: Option<i64> = lines.iter().find_map(|l| l.strip_prefix("start ").map(|s| s.parse().unwrap()));
        let reported = lines.iter().filter_map(|l| l.strip_prefix("flushed ").map(|s| s.parse::<i64>().unwrap())).max();

        let mut backend = LmdbBackend::create(&conf(&path, false), BackendCallbacks::default())
            .unwrap_or_else(|e| panic!("kill {kills}: the file reopens: {e}"));
        let last = backend.get_last_event_id(SERVER).unwrap();
        if let Some(start) = start {
            assert_eq!(start, verified + 1, "kill {kills}: ids continue after the last stored session");
        }
        let sessions = stored_sessions(&mut backend, verified);
        let expected_from = verified + 1;
        for (i, s) in sessions.iter().enumerate() {
            assert_eq!(*s, expected_from + i as i64, "kill {kills}: sessions stored without a gap");
        }
        let stored_to = sessions.last().copied().unwrap_or(verified);
        if let Some(reported) = reported {
            assert!(stored_to >= reported, "kill {kills}: session {reported} was reported flushed, {stored_to} stored");
            lost_unreported += stored_to - reported;
        }
        let instance = if stored_to > 0 { PER_SESSION } else { 0 };
        assert_eq!(last, EventId { server: SERVER, session: stored_to, instance }, "kill {kills}: last event id");
        verified = stored_to;
        drop(backend);
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "lmdb durability: {kills} kills in {:.1?}, {verified} sessions stored, every reported flush found \
         ({lost_unreported} sessions stored beyond the last report, seed {seed:#x})",
        started.elapsed()
    );
}

fn main() {
    if let Some(path) = std::env::var_os(CHILD) {
        child(Path::new(&path), std::env::var_os(STORM).is_some());
        return;
    }
    // `cargo test` passes filters; this binary has one test.
    if std::env::args().skip(1).any(|a| a == "--list") {
        println!("lmdb_durability: test");
        return;
    }
    print!("test lmdb_durability ... ");
    parent();
    println!("ok");
}
