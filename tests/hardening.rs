//! Issue 13, classes 1 and 2: event types of a million segments through
//! every subscription, collection and backend-query path. None may recurse
//! per segment (the test thread has Rust's default 2 MiB stack; the old
//! code overflowed at 29,000-48,000 segments) and each stays within a
//! memory bound measured here with a counting allocator (the old union of
//! one N-segment literal with itself took O(N^2): 1.3 GB at N = 2,000).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use hat_event::collection::{Collection, ListCollection, TreeCollection};
use hat_event::event::{Event, EventId};
use hat_event::query::{QueryLatestParams, QueryParams, QueryTimeseriesParams};
use hat_event::server::backend::Backend;
use hat_event::server::backends::memory::MemoryBackend;
use hat_event::subscription::Subscription;
use hat_event::timestamp::Timestamp;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// The counters are process-wide: the tests take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

// SAFETY: delegates every call to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: ptr came from System.alloc with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let live = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size - layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        // SAFETY: as for realloc's caller.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Segments per type: a million in release builds; 200,000 in debug ones
/// (`cargo test`), still far beyond the old crash thresholds, to keep the
/// unoptimised run short.
const N: usize = if cfg!(debug_assertions) { 200_000 } else { 1_000_000 };

/// Bytes per segment any one operation may add to the heap at its peak,
/// over what the inputs already hold. Measured at N = 10^6: at most 255
/// (an intersection of two wildcard types: both operands' arena trees, the
/// result's tree and its compiled trie, about 50 bytes a node each); 23-160
/// for the other operations.
const BYTES_PER_SEGMENT: usize = 300;

/// Runs `f` and returns its result with the heap growth at its peak.
fn peak_of<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let r = f();
    (r, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

fn bounded<R>(what: &str, f: impl FnOnce() -> R) -> R {
    let (r, peak) = peak_of(f);
    let bound = BYTES_PER_SEGMENT * N;
    eprintln!("{what}: peak {:.1} MB (bound {:.0} MB)", peak as f64 / 1e6, bound as f64 / 1e6);
    assert!(peak <= bound, "{what}: peak heap {peak} B over the bound {bound} B");
    r
}

fn kinds() -> Vec<(&'static str, Vec<String>)> {
    let repeat = |s: &str, n: usize| vec![s.to_owned(); n];
    let with_star = |mut t: Vec<String>| {
        t.push("*".into());
        t
    };
    vec![
        ("literal", repeat("a", N)),
        ("question marks", repeat("?", N)),
        ("literal then star", with_star(repeat("a", N - 1))),
        ("question marks then star", with_star(repeat("?", N - 1))),
    ]
}

#[test]
fn million_segment_types_go_through_every_subscription_and_collection_path() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let event_type = vec!["a".to_owned(); N];
    let other_type = vec!["b".to_owned(); N];
    for (kind, query_type) in kinds() {
        let s = bounded(&format!("{kind}: create"), || Subscription::new([&query_type]).unwrap());
        assert!(s.matches(&event_type), "{kind}");
        assert!(!s.matches(&other_type[..N - 2]), "{kind}");
        let types = bounded(&format!("{kind}: query types"), || s.query_types());
        assert_eq!(types, std::slice::from_ref(&query_type), "{kind}");
        drop(types);
        for (op, result) in [
            ("union", bounded(&format!("{kind}: union with itself"), || s.union([&s]))),
            ("intersection", bounded(&format!("{kind}: intersection with itself"), || s.intersection([&s]))),
        ] {
            assert_eq!(result.len(), 1, "{kind} {op}");
            assert!(result.matches(&event_type), "{kind} {op}");
        }
        assert!(!bounded(&format!("{kind}: isdisjoint"), || s.isdisjoint(&s)), "{kind}");
        let all = Subscription::new([["*"]]).unwrap();
        assert_eq!(bounded(&format!("{kind}: intersection with ('*',)"), || s.intersection([&all])).len(), 1);

        let mut tree = TreeCollection::default();
        let mut list = ListCollection::default();
        bounded(&format!("{kind}: tree collection add twice"), || {
            tree.add(&s, 1);
            tree.add(&s, 1);
        });
        bounded(&format!("{kind}: list collection add twice"), || {
            list.add(&s, 1);
            list.add(&s, 1);
        });
        let mut out = Vec::new();
        for c in [&tree as &dyn GetFor, &list] {
            c.get_for(&event_type, &mut out);
            assert_eq!(out, [1], "{kind}");
        }
        tree.remove(1);
        tree.get(&event_type, &mut out);
        assert!(out.is_empty(), "{kind}");
    }
}

/// Object-safe `get`, to loop over both flavours.
trait GetFor {
    fn get_for(&self, event_type: &[String], out: &mut Vec<u64>);
}

impl<C: Collection> GetFor for C {
    fn get_for(&self, event_type: &[String], out: &mut Vec<u64>) {
        self.get(event_type, out);
    }
}

#[test]
fn million_segment_query_types_go_through_memory_backend_queries() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut backend = MemoryBackend::default();
    let event = Event {
        id: EventId { server: 1, session: 1, instance: 1 },
        type_: vec!["a".to_owned(); N].into(),
        timestamp: Timestamp::new(1, 0).unwrap(),
        source_timestamp: None,
        payload: None,
    };
    backend.register(&[std::sync::Arc::new(event)]).unwrap();
    for (kind, query_type) in kinds() {
        let latest = QueryParams::Latest(QueryLatestParams { event_types: Some(vec![query_type.clone().into()]) });
        let result = bounded(&format!("{kind}: latest query"), || backend.query(&latest).unwrap());
        assert_eq!(result.events.len(), 1, "{kind}");
        let series = QueryParams::Timeseries(QueryTimeseriesParams {
            event_types: Some(vec![query_type.clone().into()]),
            ..Default::default()
        });
        let result = bounded(&format!("{kind}: timeseries query"), || backend.query(&series).unwrap());
        assert_eq!(result.events.len(), 1, "{kind}");
    }
}
