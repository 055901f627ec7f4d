//! Fixed workloads for instruction counts under callgrind (deterministic,
//! unlike wall clock on a shared machine): run a case twice with different
//! repetition counts and divide the difference by the difference of counts,
//! which cancels start-up and set-up.
//!
//!     cargo build --release --example type_counts
//!     for n in 1000 11000; do
//!         valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$n \
//!             target/release/examples/type_counts decode_event $n
//!     done
//!     # (Ir at 11000 - Ir at 1000) / 10000 = instructions per operation
//!
//! Cases: `decode_event` (SBS decode of the typical event of benches/sbs.rs:
//! a 4-segment type, timestamps and a small JSON payload), `decode_event_c`
//! (the same through `hat_event_event_decode` and `hat_event_event_destroy`,
//! the path benches/run's `sbs_event_decode` times), `encode_event`
//! (its SBS encoding, which reads the payload's text), `decode_type`
//! (SBS decode of its type alone), `matches_literal` / `matches_wild`
//! (`Subscription` match of a decoded event's type against 1,000 literal
//! query types / a wildcard query type), `matches_segments` (the same
//! literal match from borrowed segments, the C API's path: hash and key
//! built on the stack), `matches_10` (the 10-segment dataset of
//! benches/compare.py, 100,000 types of which every five share all but the
//! last segment, matched from segments), `isdisjoint` / `intersection`
//! (the two subscriptions of benches/compare.py's set operations, 10,000
//! 3-segment types each, sharing half; isdisjoint finds a shared type at
//! the first), `engine_register` (one event per
//! session through the engine with one module and the memory backend, as
//! benches/engine.rs `engine_register_batch_1`), `c_matches_1` /
//! `c_matches_3` / `c_matches_10` (benches/run's `subscription_matches
//! size=S count=10000 order=generated` worker loop: every type of the
//! subscription matched in turn through `hat_event_subscription_matches`
//! with segment views), `fanout_match` (benches/run's
//! `server_fanout_matches clients=1000`: one client's wildcard
//! subscription against an event type), `fanout_coll` (benches/run's
//! `server_fanout_collection clients=1000`: 60 values a lookup from two
//! query types, so duplicates are dropped), `collection_get_c`
//! (benches/run's `collection_get series=100` lookup through
//! `hat_event_collection_get`), `json_text`
//! (`JsonPayload::from_text` of the text in the environment variable
//! `JSON_TEXT`: the canonical check and the payload it builds).

#[path = "../benches/sink/mod.rs"]
mod sink;
#[path = "../benches/types/mod.rs"]
mod types;
#[path = "../benches/views/mod.rs"]
mod views;
use std::hint::black_box;
use std::sync::Arc;
use types::hat_event_types;
use views::Views;

use hat_event::event::{Event, EventId, EventPayload, RegisterEvent, Source, SourceType};
use hat_event::event_type::EventType;
use hat_event::server::engine::{Engine, EngineHooks};
use hat_event::server::registry::Registered;
use hat_event::subscription::Subscription;
use hat_event::timestamp::Timestamp;

/// Client `i` of benches/compare.py's server fan-out: two query types (one
/// client in 50 takes everything).
fn fanout_client(i: u64) -> Subscription {
    let (a, b) = (format!("{}", i % 25), format!("{i}"));
    if i.is_multiple_of(50) {
        Subscription::new([["*"], ["*"]]).unwrap()
    } else {
        Subscription::new([vec!["gw", &a, "*"], vec!["ui", "?", &b, "*"]]).unwrap()
    }
}

/// The 100 event types of benches/compare.py's server fan-out.
fn fanout_events() -> Vec<EventType> {
    (0..100)
        .map(|k| EventType::from(vec!["gw".into(), (k % 25).to_string(), "dev".into(), k.to_string(), "value".into()]))
        .collect()
}

fn typical_event() -> Event {
    let ts = Timestamp::new(1_700_000_000, 123_000).unwrap();
    Event {
        id: EventId { server: 1, session: 2, instance: 3 },
        type_: EventType::from(vec![
            "gateway".to_string(),
            "device1".into(),
            "measurement".into(),
            "temperature".into(),
        ]),
        timestamp: ts,
        source_timestamp: Some(ts),
        payload: Some(Arc::new(
            EventPayload::json_from_text(r#"{"value": 21.5, "quality": "good", "ts": 1700000000.123}"#).unwrap(),
        )),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let case = args.get(1).map(String::as_str).unwrap_or("decode_event");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let event = typical_event();
    let event_bytes = hat_event::sbs::encode_to_vec(&event).unwrap();
    let type_bytes = hat_event::sbs::encode_to_vec(&event.type_).unwrap();
    match case {
        "decode_event" => {
            for _ in 0..n {
                black_box(hat_event::sbs::decode_exact::<Event>(black_box(&event_bytes)).unwrap());
            }
        }
        "decode_event_c" => {
            use hat_event::ffi::boundary::{hat_event_bytes_t, HAT_EVENT_OK};
            use hat_event::ffi::event::hat_event_event_destroy;
            use hat_event::ffi::sbs::hat_event_event_decode;
            for _ in 0..n {
                let data = hat_event_bytes_t { ptr: event_bytes.as_ptr(), len: event_bytes.len() };
                let mut out = std::ptr::null_mut();
                // SAFETY: readable bytes; out is a local; the event is released once.
                unsafe {
                    assert_eq!(hat_event_event_decode(black_box(data), &mut out), HAT_EVENT_OK);
                    hat_event_event_destroy(black_box(out));
                }
            }
        }
        "encode_event" => {
            for _ in 0..n {
                black_box(hat_event::sbs::encode_to_vec(black_box(&event)).unwrap());
            }
        }
        "collection_get_c" => {
            // benches/compare.py collection_get series=100: one value per
            // ('a', 'b', 'c', str(i)), looked up through the C functions.
            use hat_event::ffi::boundary::{hat_event_str_t, HAT_EVENT_OK};
            use hat_event::ffi::collection::*;
            use hat_event::ffi::event_type::hat_event_event_type_view_t;
            use hat_event::ffi::subscription::{hat_event_subscription_create, hat_event_subscription_destroy};
            let view = |s: &str| hat_event_str_t { ptr: s.as_ptr().cast(), len: s.len() };
            let names: Vec<String> = (0..100).map(|i| i.to_string()).collect();
            let (mut coll, mut values) = (std::ptr::null_mut(), std::ptr::null_mut());
            // SAFETY: locals as out-parameters; views into live strings; handles released once.
            unsafe {
                assert_eq!(hat_event_collection_create(HAT_EVENT_COLLECTION_TREE, &mut coll), HAT_EVENT_OK);
                assert_eq!(hat_event_values_create(&mut values), HAT_EVENT_OK);
                for (i, name) in names.iter().enumerate() {
                    let segs = [view("a"), view("b"), view("c"), view(name)];
                    let tv = hat_event_event_type_view_t { segments: segs.as_ptr(), len: 4 };
                    let mut sub = std::ptr::null_mut();
                    assert_eq!(hat_event_subscription_create(&tv, 1, &mut sub), HAT_EVENT_OK);
                    assert_eq!(hat_event_collection_add(coll, sub, i as u64), HAT_EVENT_OK);
                    hat_event_subscription_destroy(sub);
                }
                let query = [view("a"), view("b"), view("c"), view("37")];
                let mut found = 0;
                for _ in 0..n {
                    hat_event_collection_get(coll, black_box(query.as_ptr()), 4, values);
                    found += hat_event_values_len(values);
                }
                assert_eq!(found, n);
                hat_event_values_destroy(values);
                hat_event_collection_destroy(coll);
            }
        }
        "fanout_match" => {
            // benches/compare.py server_fanout_matches clients=1000: each
            // event type against every client's subscription (per op: one
            // client's matches_type).
            let subs: Vec<Subscription> = (0..1000).map(fanout_client).collect();
            let events = fanout_events();
            let mut found = 0;
            for i in 0..n {
                found += usize::from(black_box(&subs[i % 1000]).matches_type(black_box(&events[i / 1000 % 100])));
            }
            black_box(found);
        }
        "fanout_coll" => {
            // benches/compare.py server_fanout_collection clients=1000: one
            // value per client, two query types each (one client in 50
            // takes everything), 100 event types looked up in turn.
            use hat_event::collection::{Collection, TreeCollection};
            let mut coll = TreeCollection::default();
            for i in 0..1000u64 {
                coll.add(&fanout_client(i), i);
            }
            let events = fanout_events();
            let mut out = Vec::new();
            let mut found = 0;
            for i in 0..n {
                coll.get_type(black_box(&events[i % 100]), &mut out);
                found += out.len();
            }
            // 20 clients take everything; 40 more share the event's second
            // segment (20 of them are the 20 when it is 0 mod 25).
            let expected: usize = (0..n).map(|i| if i % 100 % 25 == 0 { 40 } else { 60 }).sum();
            assert_eq!(found, expected);
        }
        "json_text" => {
            let text = std::env::var("JSON_TEXT").unwrap();
            for _ in 0..n {
                black_box(hat_event::json::JsonPayload::from_text(black_box(&text)).unwrap());
            }
        }
        "decode_type" => {
            for _ in 0..n {
                black_box(hat_event::sbs::decode_exact::<EventType>(black_box(&type_bytes)).unwrap());
            }
        }
        "matches_literal" | "matches_wild" => {
            let sub = if case == "matches_literal" {
                let types: Vec<Vec<String>> = (0..1000)
                    .map(|i| {
                        ["gateway", &format!("device{i}"), "measurement", "temperature"].map(String::from).to_vec()
                    })
                    .collect();
                Subscription::new(&types).unwrap()
            } else {
                Subscription::new([["gateway", "?", "measurement", "*"]]).unwrap()
            };
            let decoded: Event = hat_event::sbs::decode_exact(&event_bytes).unwrap();
            let mut hits = 0;
            for _ in 0..n {
                hits += usize::from(black_box(&sub).matches_type(black_box(&decoded.type_)));
            }
            assert_eq!(hits, n);
        }
        "matches_segments" => {
            let types: Vec<Vec<String>> = (0..1000)
                .map(|i| ["gateway", &format!("device{i}"), "measurement", "temperature"].map(String::from).to_vec())
                .collect();
            let sub = Subscription::new(&types).unwrap();
            let query = ["gateway", "device1", "measurement", "temperature"];
            let mut hits = 0;
            for _ in 0..n {
                hits += usize::from(black_box(&sub).matches(black_box(&query)));
            }
            assert_eq!(hits, n);
        }
        "matches_10" => {
            // hat_event_types(10, 100_000): ten base-5 digits, the last
            // varying fastest.
            let types = hat_event_types(10, 100_000);
            let sub = Subscription::new(&types).unwrap();
            let query: Vec<&str> = types[77_777].iter().map(String::as_str).collect();
            let mut hits = 0;
            for _ in 0..n {
                hits += usize::from(black_box(&sub).matches(black_box(&query)));
            }
            assert_eq!(hits, n);
        }
        "isdisjoint" | "intersection" => {
            // hat_event_types(3, 15_000): digits in base ceil(log3 15,000)
            // = 9, the first one unbounded.
            let types = hat_event_types(3, 15_000);
            let a = Subscription::new(&types[..10_000]).unwrap();
            let b = Subscription::new(&types[5_000..]).unwrap();
            let mut count = 0;
            for _ in 0..n {
                count += if case == "isdisjoint" {
                    usize::from(black_box(&a).isdisjoint(black_box(&b)))
                } else {
                    black_box(&a).intersection([black_box(&b)]).len()
                };
            }
            assert_eq!(count, if case == "isdisjoint" { 0 } else { 5_000 * n });
        }
        "engine_register" => {
            sink::register("counts.sink");
            let conf = serde_json::json!({"server_id": 1, "backend": {"module": "memory"}, "modules": [{"module": "counts.sink"}]});
            let engine = Engine::create(&conf, &Registered, EngineHooks::default()).unwrap();
            let source = Source { type_: SourceType::Eventer, id: 1 };
            let events = vec![RegisterEvent {
                type_: EventType::from(vec!["sensor".to_string(), "temperature".into()]),
                source_timestamp: None,
                payload: Some(Arc::new(EventPayload::json_from_text("21.5").unwrap())),
            }];
            for _ in 0..n {
                black_box(engine.register(source, &events).unwrap());
            }
        }
        "c_matches_1" | "c_matches_3" | "c_matches_10" => {
            use hat_event::ffi::subscription::{
                hat_event_subscription_create, hat_event_subscription_destroy, hat_event_subscription_matches,
            };
            let size: usize = case["c_matches_".len()..].parse().unwrap();
            let views = Views::new(&hat_event_types(size, 10_000));
            let type_views = views.type_views();
            let mut sub = std::ptr::null_mut();
            // SAFETY: views of live strings; the subscription is released at the end.
            unsafe { assert_eq!(hat_event_subscription_create(type_views.as_ptr(), type_views.len(), &mut sub), 0) };
            let mut hits = 0;
            for i in 0..n {
                let q = views.get(i % views.len());
                let mut m = false;
                // SAFETY: a live handle and views.
                unsafe { hat_event_subscription_matches(sub, q.as_ptr(), q.len(), &mut m) };
                hits += usize::from(black_box(m));
            }
            assert_eq!(hits, n);
            // SAFETY: the handle from create, released once.
            unsafe { hat_event_subscription_destroy(sub) };
        }
        _ => panic!("unknown case {case}"),
    }
}
