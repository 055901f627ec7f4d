//! Checks shared by the fuzz targets (`fuzz/fuzz_targets/*.rs`, which pull
//! this file in with `#[path = "../../tests/fuzz_support/mod.rs"] mod checks;`)
//! and by `tests/fuzz_corpus.rs`, which replays the committed corpus through
//! them in a plain `cargo test`. It lives in a directory so that cargo does
//! not build it as a test crate of its own.
//!
//! Only `hat_event` and std are used: the fuzz crate has no other dependency
//! in common with the main crate's tests.
//!
//! [`check`] is the property every target asserts for each type it decodes;
//! it panics (a fuzzer crash) when a property fails:
//!
//! 1. `decode_prefix` agrees with `decode_exact`: if the exact decode
//!    succeeds, the prefix decode gives the same value and consumed the whole
//!    input; if the prefix decode stops early, the exact decode fails with
//!    `TrailingBytes { count, offset }` naming the rest; any other error is
//!    the same error from both.
//! 2. Every decode error names an offset within the input.
//! 3. Whatever the prefix decode took (`data[..n]`) decodes exactly, to the
//!    same value.
//! 4. Round trip: the value encodes (the one allowed failure is
//!    `UnencodableJson` for a value holding a JSON payload, since JSON text
//!    such as `1e400` decodes but, as in the reference, does not encode),
//!    the encoding decodes exactly to an equal value, and that value
//!    encodes to the same bytes (decode → encode → decode is stable).
//! 5. Canonical form: for a value without JSON payloads the encoding is the
//!    very bytes that were decoded (the decoder refuses every non-minimal
//!    integer and boolean, so SBS outside JSON text has one encoding). JSON
//!    text is re-written as Python's `json.dumps` writes it, so it may differ.
//! 6. The encoding takes at least `T::MIN_LEN` bytes, and an Array holding
//!    just that one value decodes (array counts are bounded with `MIN_LEN`,
//!    so an overstated `MIN_LEN` would refuse valid arrays).
//! 7. Memory: where the crate installs [`Counting`] as its global allocator
//!    (the fuzz targets and `tests/fuzz_corpus.rs` do), the bytes a decode
//!    holds at its peak (freed or not by the end) stay within
//!    [`MEMORY_PER_BYTE`] times the input length plus [`MEMORY_SLACK`]:
//!    `src/sbs.rs` promises memory bounded by a constant multiple of the
//!    input. (libFuzzer's `-malloc_limit_mb` only bounds single allocations
//!    absolutely; this bounds the total relative to the input.)
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
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

/// A type the checks run on: SBS, comparable, printable, and able to tell
/// whether it holds a JSON payload (whose text need not round-trip byte for
/// byte).
pub trait Checked: Sbs + PartialEq + Debug {
    fn has_json(&self) -> bool;

    /// Panics unless every JSON payload holds exactly the text hat-event
    /// would write for its value (the decoder keeps text it judges already
    /// canonical as it is: this checks that judgement against a full parse
    /// and rewrite).
    fn check_json_texts(&self) {}
}

/// The JSON payload check of [`Checked::check_json_texts`].
fn check_json_text(payload: &EventPayload) {
    if let EventPayload::Json(json) = payload {
        if let Ok(text) = json.text() {
            // rewrite() parses the text and writes it as json.dumps does.
            assert_eq!(
                Ok(text.to_owned()),
                hat_event::json::rewrite(text).map_err(|e| e.to_string()),
                "payload text kept as canonical is not what json.dumps writes"
            );
        }
    }
}

macro_rules! no_json {
    ($($t:ty),* $(,)?) => {
        $(impl Checked for $t {
            fn has_json(&self) -> bool {
                false
            }
        })*
    };
}

no_json!((), i64, bool, String, Timestamp, EventId, ServerStatus, Order, OrderBy, MsgInitReq, MsgInitRes);
no_json!(QueryLatestParams, QueryTimeseriesParams, QueryServerParams, QueryParams);

impl<T: Checked> Checked for Vec<T> {
    fn has_json(&self) -> bool {
        self.iter().any(Checked::has_json)
    }

    fn check_json_texts(&self) {
        self.iter().for_each(Checked::check_json_texts);
    }
}

impl<T: Checked> Checked for Option<T> {
    fn has_json(&self) -> bool {
        self.as_ref().is_some_and(Checked::has_json)
    }

    fn check_json_texts(&self) {
        self.iter().for_each(Checked::check_json_texts);
    }
}

impl Checked for EventPayload {
    fn has_json(&self) -> bool {
        matches!(self, EventPayload::Json(_))
    }

    fn check_json_texts(&self) {
        check_json_text(self);
    }
}

impl Checked for Event {
    fn has_json(&self) -> bool {
        self.payload.has_json()
    }

    fn check_json_texts(&self) {
        self.payload.check_json_texts();
    }
}

impl Checked for RegisterEvent {
    fn has_json(&self) -> bool {
        self.payload.has_json()
    }

    fn check_json_texts(&self) {
        self.payload.check_json_texts();
    }
}

impl Checked for QueryResult {
    fn has_json(&self) -> bool {
        self.events.has_json()
    }

    fn check_json_texts(&self) {
        self.events.check_json_texts();
    }
}

impl Checked for MsgRegisterRes {
    fn has_json(&self) -> bool {
        match self {
            MsgRegisterRes::Events(events) => events.has_json(),
            MsgRegisterRes::Failure => false,
        }
    }

    fn check_json_texts(&self) {
        if let MsgRegisterRes::Events(events) = self {
            events.check_json_texts();
        }
    }
}

// ---------------------------------------------------------------------------
// Memory accounting

/// The most bytes a decode may hold at its peak per input byte, on top of
/// [`MEMORY_SLACK`]. The largest cost per byte is JSON payload text parsed
/// by `hat_event::json::Document` (text that is not already canonical): a
/// 24-byte node for each value and, while an array or object is open, a
/// 16-byte entry, so `[[[...` costs 40 bytes for each byte of input, plus
/// what growing a vector holds while it moves. Measured
/// (`deep_and_dense_json_payloads_pass_the_fuzz_checks` in
/// `tests/fuzz_corpus.rs`): at most 55 bytes per byte (a million
/// unclosed `[`); the committed corpus at most 42; SBS arrays without JSON
/// at most 40 (`Array(RegisterEvent)` of 3-byte events).
pub const MEMORY_PER_BYTE: usize = 96;
/// Fixed allowance on top of [`MEMORY_PER_BYTE`] per input byte.
pub const MEMORY_SLACK: usize = 16 * 1024;

thread_local! {
    // Const-initialised and without destructors: safe to touch from the
    // allocator at any time.
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
    static WORST: Cell<(usize, usize)> = const { Cell::new((0, 1)) };
}

/// The decode of at least 256 bytes (by this thread) that held the most
/// bytes per input byte so far, as (bytes held at the peak, input length).
pub fn worst_memory() -> (usize, usize) {
    WORST.with(Cell::get)
}

/// A global allocator that counts, per thread, the bytes allocated and not
/// yet freed, and their peak. Install with
/// `#[global_allocator] static ALLOC: Counting = Counting;`.
pub struct Counting;

fn grew(by: usize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get().wrapping_add(by);
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

fn shrank(by: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get().wrapping_sub(by)));
}

// SAFETY: every call is passed on to `System` unchanged; the counting only
// touches const-initialised thread-locals and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Counted as the new block arriving before the old one leaves,
            // as when realloc has to move.
            grew(new_size);
            shrank(layout.size());
        }
        p
    }
}

/// Runs `f` and returns its result and the most bytes this thread held at
/// once during it, beyond what it held before (0 without [`Counting`]).
pub fn peak_memory<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let r = f();
    (r, PEAK.with(Cell::get).saturating_sub(base))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes `data` as a `T` and asserts the properties listed in the module
/// docs. Returns whether `data` is exactly one `T`.
pub fn check<T: Checked>(data: &[u8]) -> bool {
    let type_name = std::any::type_name::<T>();
    let (exact, peak) = peak_memory(|| decode_exact::<T>(data));
    let prefix = decode_prefix::<T>(data);

    // 7. Memory bounded by the input.
    let (worst_peak, worst_len) = WORST.with(Cell::get);
    if data.len() >= 256 && peak * worst_len > worst_peak * data.len() {
        WORST.with(|w| w.set((peak, data.len())));
    }
    let allowed = MEMORY_PER_BYTE * data.len() + MEMORY_SLACK;
    assert!(
        peak <= allowed,
        "{type_name}: decoding {} bytes held {peak} bytes at once (allowed {allowed})",
        data.len()
    );

    // 1. decode_prefix agrees with decode_exact.
    match (&exact, &prefix) {
        (Ok(v), Ok((p, n))) => {
            assert_eq!(*n, data.len(), "{type_name}: exact decode ok but prefix consumed {n} of {}", data.len());
            assert_eq!(v, p, "{type_name}: exact and prefix decodes differ");
        }
        (Ok(v), Err(e)) => panic!("{type_name}: exact decode gave {v:?} but prefix decode failed: {e:?}"),
        (Err(e), Ok((_, n))) => {
            assert!(*n < data.len(), "{type_name}: prefix consumed all {n} bytes but exact decode failed: {e:?}");
            assert_eq!(
                *e,
                SbsError::TrailingBytes { count: data.len() - n, offset: *n },
                "{type_name}: prefix decode took {n} bytes, exact decode failed otherwise"
            );
        }
        (Err(e), Err(f)) => assert_eq!(e, f, "{type_name}: exact and prefix decodes fail differently"),
    }

    // 2. Error offsets lie within the input.
    for e in [exact.as_ref().err(), prefix.as_ref().err()].into_iter().flatten() {
        match e.offset() {
            Some(offset) => assert!(offset <= data.len(), "{type_name}: {e:?} beyond the {} input bytes", data.len()),
            None => panic!("{type_name}: decode error without an offset: {e:?}"),
        }
    }

    if let Ok((value, n)) = &prefix {
        // 3. The consumed prefix alone decodes to the same value.
        let taken = &data[..*n];
        match decode_exact::<T>(taken) {
            Ok(again) => assert_eq!(&again, value, "{type_name}: the consumed prefix decodes differently"),
            Err(e) => panic!("{type_name}: prefix decode took {n} bytes, which alone fail: {e:?}"),
        }
        check_roundtrip(value, taken);
    }
    exact.is_ok()
}

/// Properties 4-6 for a decoded `value` that was decoded from `source`.
pub fn check_roundtrip<T: Checked>(value: &T, source: &[u8]) {
    let type_name = std::any::type_name::<T>();
    value.check_json_texts();
    // 4. Encode, decode, compare, encode again.
    let encoded = match encode_to_vec(value) {
        Ok(bytes) => bytes,
        Err(SbsError::UnencodableJson(_)) if value.has_json() => return,
        Err(e) => panic!("{type_name}: decoded value does not encode: {e:?}\nvalue: {value:?}"),
    };
    let again: T = match decode_exact(&encoded) {
        Ok(v) => v,
        Err(e) => panic!("{type_name}: own encoding {} does not decode: {e:?}\nvalue: {value:?}", hex(&encoded)),
    };
    assert_eq!(&again, value, "{type_name}: decode(encode(v)) != v; encoding {}", hex(&encoded));
    match encode_to_vec(&again) {
        Ok(bytes) => assert_eq!(
            hex(&bytes),
            hex(&encoded),
            "{type_name}: re-encoding is not stable\nvalue: {value:?}\nagain: {again:?}"
        ),
        Err(e) => panic!("{type_name}: value decoded from own encoding does not encode: {e:?}"),
    }

    // 5. Canonical outside JSON text.
    if !value.has_json() {
        assert_eq!(
            hex(&encoded),
            hex(source),
            "{type_name}: encoding differs from the decoded bytes\nvalue: {value:?}"
        );
    }

    // 6. MIN_LEN is a lower bound; a one-element Array of the value decodes.
    assert!(encoded.len() >= T::MIN_LEN, "{type_name}: {} bytes < MIN_LEN {}", encoded.len(), T::MIN_LEN);
    if T::MIN_LEN > 0 {
        // (Elements that may take no bytes are counted as one byte each.)
        let mut array = vec![0x81];
        array.extend_from_slice(&encoded);
        match decode_exact::<Vec<T>>(&array) {
            Ok(items) => {
                assert!(items.len() == 1 && items[0] == *value, "{type_name}: one-element array decodes to {items:?}")
            }
            Err(e) => panic!("{type_name}: one-element array {} does not decode: {e:?}", hex(&array)),
        }
    }
}

/// A type the targets can pick by name or by a selector byte.
pub struct Entry {
    pub name: &'static str,
    pub check: fn(&[u8]) -> bool,
}

macro_rules! entries {
    ($($name:literal => $t:ty),* $(,)?) => {
        &[$(Entry { name: $name, check: check::<$t> }),*]
    };
}

/// The eight protocol messages `decode_messages` chooses from (the first
/// input byte modulo 8 is the index). `MsgEventsAck` (None, no bytes) is left
/// to [`ALL`].
pub const MESSAGES: &[Entry] = entries![
    "MsgInitReq" => MsgInitReq,
    "MsgInitRes" => MsgInitRes,
    "MsgStatusNotify" => MsgStatusNotify,
    "MsgEventsNotify" => MsgEventsNotify,
    "MsgRegisterReq" => MsgRegisterReq,
    "MsgRegisterRes" => MsgRegisterRes,
    "MsgQueryReq" => MsgQueryReq,
    "MsgQueryRes" => MsgQueryRes,
];

/// Every `HatEventer` type (each distinct Rust type once; the Msg* aliases
/// of other types are named by their alias), for `roundtrip` (the first
/// input byte modulo the length is the index) and for the corpus test.
pub const ALL: &[Entry] = entries![
    "Timestamp" => Timestamp,
    "EventId" => EventId,
    "Status" => ServerStatus,
    "Order" => Order,
    "OrderBy" => OrderBy,
    "EventType" => Vec<String>,
    "EventPayload" => EventPayload,
    "Event" => Event,
    "RegisterEvent" => RegisterEvent,
    "QueryLatestParams" => QueryLatestParams,
    "QueryTimeseriesParams" => QueryTimeseriesParams,
    "QueryServerParams" => QueryServerParams,
    "MsgQueryReq" => QueryParams,
    "MsgQueryRes" => QueryResult,
    "MsgInitReq" => MsgInitReq,
    "MsgInitRes" => MsgInitRes,
    "MsgEventsNotify" => MsgEventsNotify,
    "MsgRegisterReq" => MsgRegisterReq,
    "MsgRegisterRes" => MsgRegisterRes,
    "MsgEventsAck" => MsgEventsAck,
];

/// The index in `table` of the type called `name` (seeds are written with it).
pub fn selector(table: &[Entry], name: &str) -> Option<u8> {
    table.iter().position(|e| e.name == name).and_then(|i| u8::try_from(i).ok())
}

/// Checks `data[1..]` as the type of `table` the first byte selects.
pub fn check_selected(table: &[Entry], data: &[u8]) {
    if let Some((&first, rest)) = data.split_first() {
        (table[usize::from(first) % table.len()].check)(rest);
    }
}

// ---------------------------------------------------------------------------
// The targets: each fuzz target's body is one of these.

pub fn decode_event(data: &[u8]) {
    check::<Event>(data);
    check::<EventId>(data);
    check::<Timestamp>(data);
    check::<Vec<String>>(data);
}

pub fn decode_register_event(data: &[u8]) {
    check::<RegisterEvent>(data);
    check::<MsgRegisterReq>(data);
}

pub fn decode_payload(data: &[u8]) {
    check::<EventPayload>(data);
}

pub fn decode_query_params(data: &[u8]) {
    check::<QueryParams>(data);
    check::<QueryLatestParams>(data);
    check::<QueryTimeseriesParams>(data);
    check::<QueryServerParams>(data);
}

pub fn decode_query_result(data: &[u8]) {
    check::<QueryResult>(data);
}

pub fn decode_messages(data: &[u8]) {
    check_selected(MESSAGES, data);
}

pub fn roundtrip(data: &[u8]) {
    check_selected(ALL, data);
}

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// Every target by name (the names of `fuzz/fuzz_targets/*.rs` and of the
/// corpus directories).
pub const TARGETS: &[(&str, Target)] = &[
    ("decode_event", decode_event),
    ("decode_register_event", decode_register_event),
    ("decode_payload", decode_payload),
    ("decode_query_params", decode_query_params),
    ("decode_query_result", decode_query_result),
    ("decode_messages", decode_messages),
    ("roundtrip", roundtrip),
];
