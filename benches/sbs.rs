//! SBS encode/decode benchmarks through the C ABI (the same `extern "C"`
//! functions a C program links against). Plain harness: each case runs
//! several rounds and prints the median ns/op.
//!
//!     cargo bench --bench sbs            # all cases
//!     cargo bench --bench sbs -- decode  # cases whose name contains "decode"
//!
//! benches/hat_sbs.py times the same cases with hat-event, the reference:
//!
//!     /tmp/venv/bin/python benches/hat_sbs.py
//!
//! Data: a typical event (type of 4 segments, id (1, 2, 3), timestamp and
//! source timestamp, a small JSON object payload) and a QueryResult of
//! 1,000 such events (last type segment, value, instance and timestamps
//! vary per event), as in hat_sbs.py. Before timing, our bytes are checked
//! against the reference's (see `HAT_EVENT_HEX`).

mod harness;
use harness::{measure, time};

use std::hint::black_box;

use hat_event::ffi::boundary::{hat_event_bytes_t, hat_event_str_t, HAT_EVENT_OK};
use hat_event::ffi::buffer::*;
use hat_event::ffi::event::*;
use hat_event::ffi::query::*;
use hat_event::ffi::sbs::*;
use hat_event::ffi::timestamp::hat_event_timestamp_t;

/// The typical event as hat-event 0.9.44 encodes it:
/// `sbs_repo.encode('HatEventer.Event', common.event_to_sbs(event))`.
/// Generated once with the reference (`HAT sbs_event_hex=` in the output of
/// benches/hat_sbs.py); our encoding must equal it byte for byte.
const HAT_EVENT_HEX: &str = "81828384876761746577617987646576696365318b6d6561737572656d656e748b74656d706572\
    6174757265062a4f62800744c081062a4f6280060da08181b87b2276616c7565223a2032312e352c20227175616c6974\
    79223a2022676f6f64222c20227473223a20313730303030303030302e3132337d";

/// Length and FNV-1a 64 hash of the 1,000-event QueryResult as hat-event
/// encodes it (`HAT sbs_query_result_size` and `HAT sbs_query_result_fnv1a64`
/// in the output of benches/hat_sbs.py, generated once with the reference).
const HAT_QUERY_RESULT_LEN: usize = 126_076;
const HAT_QUERY_RESULT_FNV1A64: u64 = 0xa2f0_1923_8dce_1609;

const RESULT_EVENTS: usize = 1000;

fn fnv1a64(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

fn str_view(s: &str) -> hat_event_str_t {
    hat_event_str_t { ptr: s.as_ptr().cast(), len: s.len() }
}

fn bytes_view(b: &[u8]) -> hat_event_bytes_t {
    hat_event_bytes_t { ptr: b.as_ptr(), len: b.len() }
}

/// The typical event; with `i`, event `i` of the QueryResult (as
/// hat_sbs.py's `typical_event`). The caller owns the handle.
fn event(i: Option<usize>) -> *mut hat_event_event_t {
    let (last, value, instance, s) = match i {
        None => ("temperature".to_owned(), "21.5".to_owned(), 3, 1_700_000_000),
        // `{:?}` writes the shortest text that reads back as the same double,
        // with ".0" when integral (as Python's repr; `{}` would write "20",
        // a JSON integer), so the payload holds the float Python computes
        // for `20.0 + i / 100`.
        Some(i) => (
            format!("temperature{i}"),
            format!("{:?}", 20.0 + i as f64 / 100.0),
            3 + i as i64,
            1_700_000_000 + i as i64,
        ),
    };
    let json = format!(r#"{{"value": {value}, "quality": "good", "ts": 1700000000.123}}"#);
    let segments = ["gateway", "device1", "measurement", last.as_str()].map(str_view);
    let source = hat_event_timestamp_t { s, us: 100_000 };
    let mut payload = std::ptr::null_mut();
    let mut out = std::ptr::null_mut();
    // SAFETY: the views point into live strings; outs are locals; the
    // payload is copied into the event and released here.
    unsafe {
        assert_eq!(hat_event_payload_create_json(str_view(&json), &mut payload), HAT_EVENT_OK);
        assert_eq!(
            hat_event_event_create(
                hat_event_event_id_t { server: 1, session: 2, instance },
                segments.as_ptr(),
                segments.len(),
                hat_event_timestamp_t { s, us: 123_456 },
                &source,
                payload,
                &mut out,
            ),
            HAT_EVENT_OK
        );
        hat_event_payload_destroy(payload);
    }
    out
}

/// Copies a buffer's bytes out and releases it.
fn take(buffer: *mut hat_event_buffer_t) -> Vec<u8> {
    // SAFETY: a live buffer from an _encode call, released once here.
    unsafe {
        let bytes = std::slice::from_raw_parts(hat_event_buffer_data(buffer), hat_event_buffer_len(buffer)).to_vec();
        hat_event_buffer_destroy(buffer);
        bytes
    }
}

fn encode_event(e: *const hat_event_event_t) -> Vec<u8> {
    let mut buf = std::ptr::null_mut();
    // SAFETY: a live handle; out is a local.
    assert_eq!(unsafe { hat_event_event_encode(e, &mut buf) }, HAT_EVENT_OK);
    take(buf)
}

fn encode_result(r: *const hat_event_query_result_t) -> Vec<u8> {
    let mut buf = std::ptr::null_mut();
    // SAFETY: a live handle; out is a local.
    assert_eq!(unsafe { hat_event_query_result_encode(r, &mut buf) }, HAT_EVENT_OK);
    take(buf)
}

fn main() {
    let filter = harness::filter();

    let ev = event(None);
    let event_bytes = encode_event(ev);
    assert_eq!(hex(&event_bytes), HAT_EVENT_HEX, "our encoding of the typical event differs from hat-event's");
    // A stream: the event followed by the next message's bytes (here the
    // same event again), as hat_sbs.py's prefix case.
    let stream = [event_bytes.as_slice(), event_bytes.as_slice()].concat();

    let mut result = std::ptr::null_mut();
    // SAFETY: out is a local; each event is copied into the result and released.
    unsafe {
        assert_eq!(hat_event_query_result_create(false, &mut result), HAT_EVENT_OK);
        for i in 0..RESULT_EVENTS {
            let e = event(Some(i));
            assert_eq!(hat_event_query_result_append(result, e), HAT_EVENT_OK);
            hat_event_event_destroy(e);
        }
    }
    let result_bytes = encode_result(result);
    assert_eq!(result_bytes.len(), HAT_QUERY_RESULT_LEN, "QueryResult length differs from hat-event's");
    assert_eq!(fnv1a64(&result_bytes), HAT_QUERY_RESULT_FNV1A64, "QueryResult bytes differ from hat-event's");

    // Round trips: decoding gives back what was encoded.
    // SAFETY: outs are locals; handles are live and released once.
    unsafe {
        let mut back = std::ptr::null_mut();
        assert_eq!(hat_event_event_decode(bytes_view(&event_bytes), &mut back), HAT_EVENT_OK);
        assert!(hat_event_event_equal(ev, back));
        hat_event_event_destroy(back);
        let mut consumed = 0;
        assert_eq!(hat_event_event_decode_prefix(bytes_view(&stream), &mut back, &mut consumed), HAT_EVENT_OK);
        assert!(hat_event_event_equal(ev, back));
        assert_eq!(consumed, event_bytes.len());
        hat_event_event_destroy(back);
        let mut rback = std::ptr::null_mut();
        assert_eq!(hat_event_query_result_decode(bytes_view(&result_bytes), &mut rback), HAT_EVENT_OK);
        assert!(hat_event_query_result_equal(result, rback));
        hat_event_query_result_destroy(rback);
    }

    println!("BENCH sbs_event_size bytes={}", event_bytes.len());
    println!("BENCH sbs_query_result_size events={RESULT_EVENTS} bytes={}", result_bytes.len());

    const EVENT_OPS: usize = 200_000;
    const RESULT_OPS: usize = 50;

    measure("sbs_event_encode", &filter, || {
        time(|| {
            for _ in 0..EVENT_OPS {
                let mut buf = std::ptr::null_mut();
                // SAFETY: a live handle; out is a local; the buffer is released.
                unsafe {
                    hat_event_event_encode(black_box(ev), &mut buf);
                    hat_event_buffer_destroy(black_box(buf));
                }
            }
            EVENT_OPS
        })
    });
    measure("sbs_event_decode", &filter, || {
        time(|| {
            for _ in 0..EVENT_OPS {
                let mut e = std::ptr::null_mut();
                // SAFETY: readable bytes; out is a local; the event is released.
                unsafe {
                    hat_event_event_decode(black_box(bytes_view(&event_bytes)), &mut e);
                    hat_event_event_destroy(black_box(e));
                }
            }
            EVENT_OPS
        })
    });
    measure("sbs_query_result_encode", &filter, || {
        time(|| {
            for _ in 0..RESULT_OPS {
                let mut buf = std::ptr::null_mut();
                // SAFETY: a live handle; out is a local; the buffer is released.
                unsafe {
                    hat_event_query_result_encode(black_box(result), &mut buf);
                    hat_event_buffer_destroy(black_box(buf));
                }
            }
            RESULT_OPS
        })
    });
    measure("sbs_query_result_decode", &filter, || {
        time(|| {
            for _ in 0..RESULT_OPS {
                let mut r = std::ptr::null_mut();
                // SAFETY: readable bytes; out is a local; the result is released.
                unsafe {
                    hat_event_query_result_decode(black_box(bytes_view(&result_bytes)), &mut r);
                    hat_event_query_result_destroy(black_box(r));
                }
            }
            RESULT_OPS
        })
    });
    measure("sbs_event_decode_prefix", &filter, || {
        time(|| {
            for _ in 0..EVENT_OPS {
                let mut e = std::ptr::null_mut();
                let mut consumed = 0;
                // SAFETY: readable bytes; outs are locals; the event is released.
                unsafe {
                    hat_event_event_decode_prefix(black_box(bytes_view(&stream)), &mut e, &mut consumed);
                    hat_event_event_destroy(black_box(e));
                }
                black_box(consumed);
            }
            EVENT_OPS
        })
    });

    // SAFETY: handles created above, released once.
    unsafe {
        hat_event_event_destroy(ev);
        hat_event_query_result_destroy(result);
    }
}
