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
no_json!(hat_event::eventer::chatter::ChatterMsg);
no_json!(QueryLatestParams, QueryTimeseriesParams, QueryServerParams, QueryParams, hat_event::event_type::EventType);

impl<T: Checked> Checked for Vec<T> {
    fn has_json(&self) -> bool {
        self.iter().any(Checked::has_json)
    }

    fn check_json_texts(&self) {
        self.iter().for_each(Checked::check_json_texts);
    }
}

impl<T: Checked> Checked for std::sync::Arc<T> {
    fn has_json(&self) -> bool {
        (**self).has_json()
    }

    fn check_json_texts(&self) {
        (**self).check_json_texts()
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
        // SAFETY: the caller's contract for `alloc`, passed on unchanged.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc_zeroed`, passed on unchanged.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator, with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from `System` through this allocator, with `layout`.
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
    "EventType" => hat_event::event_type::EventType,
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
    ("subscriptions", subscriptions),
    ("chatter_frames", chatter_frames),
];

// ---------------------------------------------------------------------------
// Subscriptions and collections (target `subscriptions`)
//
// Input: up to three query-type lists A, B, C, each the SBS encoding of an
// `Array(EventType)` (as `MsgInitReq.subscriptions` and
// `QueryLatestParams.event_types` carry them), read one after the other with
// `decode_prefix`; decoding stops at the first list that does not decode
// (the missing lists are empty). The bytes after the last list decoded are
// a script of collection operations (see [`collection_script`]); an empty
// script stands for [`DEFAULT_SCRIPT`].
//
// The properties (each a panic when it fails):
//
// S1. `Subscription::new(list)` fails exactly when the reference's rule
//     refuses some query type ([`first_refused`]: a `*` that is not last,
//     where no earlier accepted query type `P + ['*']` with `P` a prefix of
//     it up to that `*` absorbed the position), and then with
//     `InvalidArgument("invalid query event type")`. The list without the
//     refused query types ([`accepted`]) is then used, and must be accepted.
// S2. `query_types()` is the reference's sanitised set, computed by brute
//     force ([`sanitised`]: the accepted query types no other accepted one
//     absorbs, each once); `len()` is its size; rebuilding a subscription
//     from it gives the same set.
// S3. On every probe event type ([`probes`]), `matches` agrees with
//     `matches_query_type` over the accepted query types; the union of A,
//     B, C (and of A with B) matches a ∨ b (∨ c) and its query types are the
//     sanitised concatenation; the intersection matches a ∧ b (∧ c), its
//     query types are sanitised (no duplicates, no `*` but last, none absorbs
//     another) and its `len()` is `query_types().len()`; a subscription
//     rebuilt from any result's query types matches the same probes.
// S4. `isdisjoint` is symmetric; false when some probe matches both sides;
//     and, when both sides have at most [`MEET_LIMIT`] sanitised query
//     types (so that the probes include the meet of every pair of them, an
//     event type matching both whenever one exists), true exactly when no
//     probe matches both. `a.isdisjoint(a)` is `a.is_empty()`.
// S5. `TreeCollection` and `ListCollection`, run through the same script,
//     answer `get` for every probe with the same values, each once, and the
//     values a model expects (value -> the subscriptions added for it, a
//     value matching when any of them matches); `get` clears its output and
//     `get_into` appends to it.
// S6. Memory: each library call (create, query_types, union, intersection,
//     isdisjoint, collection add) holds at its peak at most
//     [`SUBSCRIPTION_MEMORY_PER_BYTE`] bytes per byte of input plus
//     [`MEMORY_SLACK`], where "input" is the fuzz input plus, for the
//     intersection (whose result can be as large as the product of its
//     operands) and for adding an intersection to a collection, the SBS size
//     of the intersection's query types (for A ∩ B ∩ C also that of A ∩ B,
//     which it computes first).

use std::collections::{BTreeSet, HashSet};

use hat_event::collection::{Collection, ListCollection, TreeCollection};
use hat_event::error::Error;
use hat_event::event_type::matches_query_type;

/// The model's event type: plain segments (the crate's `EventType` is converted at
/// its API).
type EventType = Vec<String>;

/// A subscription's query types as the model's.
fn query_types(s: &Subscription) -> Vec<EventType> {
    s.query_types().iter().map(|t| t.to_vec()).collect()
}
use hat_event::subscription::Subscription;

/// Query-type lists read from the input.
pub const SUBSCRIPTION_LISTS: usize = 3;
/// Script operations run at most.
pub const SCRIPT_LIMIT: usize = 32;
/// Query types of each source that probes are derived from.
pub const PROBE_SOURCES: usize = 32;
/// Sanitised query types of each side whose pairwise meets become probes.
pub const MEET_LIMIT: usize = 16;
/// Probes run through the collections after each script operation (all of
/// them after the last).
pub const PROBES_PER_STEP: usize = 16;
/// Intersections with more query types than this are not added to the
/// collections (each addition costs time proportional to its size).
pub const COLLECTION_TYPES_LIMIT: usize = 4096;
/// See property S6. The library documents at most 300 bytes per segment
/// for set operations; an SBS segment takes at least one input byte.
pub const SUBSCRIPTION_MEMORY_PER_BYTE: usize = 300;
/// A segment no input is likely to hold, standing for "any other value".
pub const FRESH: &str = "\u{0}fresh";
/// The script used when the input leaves none: add A to 1, B to 2, C to 3,
/// A to 1 again, the union to 4, B to 1 (widening it), remove 2, the
/// intersection to 5, the empty subscription to 6, remove 4.
pub const DEFAULT_SCRIPT: &[u8] = &[1, 8 | 2, 16 | 3, 1, 24 | 4, 8 | 1, 48 | 2, 32 | 5, 40 | 6, 56 | 4];

thread_local! {
    static WORST_SUBSCRIPTION: Cell<(usize, usize, &'static str)> = const { Cell::new((0, 1, "")) };
}

/// The subscription call (on at least 64 bytes of input) that held the most
/// bytes per input byte, as (peak bytes, input bytes, call).
pub fn worst_subscription_memory() -> (usize, usize, &'static str) {
    WORST_SUBSCRIPTION.with(Cell::get)
}

/// Runs `f`, asserting property S6 for an input of `input_len` bytes.
fn bounded<R>(what: &'static str, input_len: usize, f: impl FnOnce() -> R) -> R {
    let (r, peak) = peak_memory(f);
    let (worst_peak, worst_len, _) = WORST_SUBSCRIPTION.with(Cell::get);
    if input_len >= 64 && peak * worst_len > worst_peak * input_len {
        WORST_SUBSCRIPTION.with(|w| w.set((peak, input_len, what)));
    }
    let allowed = SUBSCRIPTION_MEMORY_PER_BYTE * input_len + MEMORY_SLACK;
    assert!(peak <= allowed, "{what}: held {peak} bytes at once for {input_len} bytes of input (allowed {allowed})");
    r
}

/// SBS size of a list of query types (count, then each type's count and
/// segments): what the input would need to carry them.
fn sbs_size(types: &[EventType]) -> usize {
    let integer = |n: usize| {
        let mut len = 1;
        let mut v = n >> 6;
        while v > 0 {
            len += 1;
            v >>= 7;
        }
        len
    };
    integer(types.len())
        + types
            .iter()
            .map(|t| integer(t.len()) + t.iter().map(|s| integer(s.len()) + s.len()).sum::<usize>())
            .sum::<usize>()
}

/// The fixed part of a query type and whether it ends in `*` (a `*` elsewhere
/// is an ordinary segment, as in `matches_query_type`).
fn split_star(q: &[String]) -> (&[String], bool) {
    match q.split_last() {
        Some((last, rest)) if last == "*" => (rest, true),
        _ => (q, false),
    }
}

/// Whether `p` absorbs `q` when sanitising: `p` is `P + ['*']` with no `*`
/// in `P`, `q` starts with `P`, and `q` is not `p` itself. (An accepted
/// query type with a `*` in `P` was itself absorbed by one without.)
fn absorbs(p: &[String], q: &[String]) -> bool {
    let (prefix, star) = split_star(p);
    star && p != q && q.len() >= prefix.len() && q[..prefix.len()] == *prefix && !prefix.iter().any(|s| s == "*")
}

/// Whether `Subscription::new` refuses `q` after accepting `before`: `q`
/// has a `*` that is not last, and no accepted `P + ['*']` with `P` a prefix
/// of `q` ending at or before that `*` absorbed it first.
fn refused(before: &[&EventType], q: &[String]) -> bool {
    let Some(i) = q.iter().position(|s| s == "*") else { return false };
    if i + 1 == q.len() {
        return false;
    }
    !before.iter().any(|p| {
        let (prefix, star) = split_star(p);
        star && prefix.len() <= i && q[..prefix.len()] == *prefix
    })
}

/// The index of the first query type `Subscription::new` refuses.
pub fn first_refused(list: &[EventType]) -> Option<usize> {
    let mut before = Vec::new();
    for (i, q) in list.iter().enumerate() {
        if refused(&before, q) {
            return Some(i);
        }
        before.push(q);
    }
    None
}

/// `list` without the query types `Subscription::new` refuses (each judged
/// after the ones kept before it).
pub fn accepted(list: &[EventType]) -> Vec<EventType> {
    let mut kept: Vec<&EventType> = Vec::new();
    for q in list {
        if !refused(&kept, q) {
            kept.push(q);
        }
    }
    kept.into_iter().cloned().collect()
}

/// The reference's sanitised set of accepted query types: those no other
/// absorbs, each once.
pub fn sanitised(accepted: &[EventType]) -> BTreeSet<EventType> {
    let stars: Vec<&EventType> = accepted.iter().filter(|p| split_star(p).1).collect();
    accepted.iter().filter(|q| !stars.iter().any(|p| absorbs(p, q))).cloned().collect()
}

fn set_of(s: &Subscription) -> BTreeSet<EventType> {
    query_types(s).into_iter().collect()
}

/// Brute force: does any of `query_types` match `e`?
fn model_matches(query_types: &[EventType], e: &[String]) -> bool {
    query_types.iter().any(|q| matches_query_type(e, q))
}

/// Event types that exercise `q`: `?` replaced by a fresh segment and by a
/// literal `?`, a trailing `*` by zero to two segments (one more segment
/// otherwise), a prefix, and `q` itself read literally.
fn push_probes_of(q: &[String], out: &mut Vec<EventType>) {
    let (fixed, star) = split_star(q);
    out.push(q.to_vec());
    for wild in [FRESH, "?"] {
        let base: EventType = fixed.iter().map(|s| if s == "?" { wild.to_owned() } else { s.clone() }).collect();
        if let Some((_, prefix)) = base.split_last() {
            out.push(prefix.to_vec());
        }
        out.push(base.clone());
        let mut longer = base.clone();
        longer.push(FRESH.to_owned());
        out.push(longer.clone());
        if star {
            longer.push(String::new());
            out.push(longer);
        }
    }
}

/// An event type both `p` and `q` match, if any: segment by segment the
/// literal one (where both are literal they must be equal), a fresh segment
/// where both are `?`; as long as the longer fixed part where a `*` allows
/// it.
fn meet(p: &[String], q: &[String]) -> Option<EventType> {
    let ((pf, ps), (qf, qs)) = (split_star(p), split_star(q));
    let len = match (ps, qs) {
        (false, false) if pf.len() == qf.len() => pf.len(),
        (true, false) if qf.len() >= pf.len() => qf.len(),
        (false, true) if pf.len() >= qf.len() => pf.len(),
        (true, true) => pf.len().max(qf.len()),
        _ => return None,
    };
    (0..len)
        .map(|i| {
            let segment = match (pf.get(i), qf.get(i)) {
                (Some(a), Some(b)) if a == "?" => b,
                (Some(a), Some(b)) if b == "?" || a == b => a,
                (Some(_), Some(_)) => return None,
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => unreachable!("len is at most the longer fixed part"),
            };
            Some(if segment == "?" { FRESH.to_owned() } else { segment.clone() })
        })
        .collect()
}

/// The probes: the empty event type, [`push_probes_of`] for the first
/// [`PROBE_SOURCES`] query types of each source, and the meets of the first
/// [`MEET_LIMIT`] of each pair of `meet_sides`; deduplicated, in a fixed
/// order.
fn probes(sources: &[&[EventType]], meet_sides: &[&[EventType]]) -> Vec<EventType> {
    let mut out = vec![Vec::new()];
    for source in sources {
        for q in source.iter().take(PROBE_SOURCES) {
            push_probes_of(q, &mut out);
        }
    }
    for (i, a) in meet_sides.iter().enumerate() {
        for b in &meet_sides[i + 1..] {
            for p in a.iter().take(MEET_LIMIT) {
                for q in b.iter().take(MEET_LIMIT) {
                    out.extend(meet(p, q));
                }
            }
        }
    }
    let mut seen = HashSet::new();
    out.retain(|e| seen.insert(e.clone()));
    out
}

/// A subscription checked against its source list: S1, S2.
struct SubscriptionChecked {
    sub: Subscription,
    /// The accepted query types (the model matches with these).
    accepted: Vec<EventType>,
    /// `query_types()`, sorted.
    sorted: Vec<EventType>,
}

fn checked_subscription(name: &str, list: &[EventType], input_len: usize) -> SubscriptionChecked {
    // S1.
    let result = bounded("Subscription::new", input_len, || Subscription::new(list));
    let refused_at = first_refused(list);
    match (&result, refused_at) {
        (Ok(_), None) => {}
        (Ok(s), Some(i)) => panic!("{name}: Subscription::new accepted {:?} (query type {i}); got {s:?}", list[i]),
        (Err(e), None) => panic!("{name}: Subscription::new refused a valid list: {e:?}\nlist: {list:?}"),
        (Err(e), Some(_)) => assert_eq!(
            *e,
            Error::InvalidArgument("invalid query event type".into()),
            "{name}: Subscription::new failed with another error"
        ),
    }
    let accepted = accepted(list);
    let sub = match result {
        Ok(s) => s,
        Err(_) => match Subscription::new(&accepted) {
            Ok(s) => s,
            Err(e) => panic!("{name}: the accepted query types are refused: {e:?}\naccepted: {accepted:?}"),
        },
    };
    // S2.
    let types = bounded("query_types", input_len, || query_types(&sub));
    let set: BTreeSet<EventType> = types.iter().cloned().collect();
    assert_eq!(set.len(), types.len(), "{name}: query_types() repeats a query type: {types:?}");
    assert_eq!(sub.len(), types.len(), "{name}: len() differs from query_types().len()");
    assert_eq!(sub.is_empty(), types.is_empty(), "{name}: is_empty()");
    assert_eq!(set, sanitised(&accepted), "{name}: query_types() is not the sanitised set of {accepted:?}");
    SubscriptionChecked { sub, accepted, sorted: set.into_iter().collect() }
}

/// A set-operation result's own consistency (S2, S3 in part): query types
/// unique, sanitised, `len()` their number, and a subscription rebuilt from
/// them has the same query types.
fn check_result(name: &str, s: &Subscription) -> Vec<EventType> {
    let types = query_types(s);
    let set: BTreeSet<EventType> = types.iter().cloned().collect();
    assert_eq!(set.len(), types.len(), "{name}: query_types() repeats a query type");
    assert_eq!(s.len(), types.len(), "{name}: len() differs from query_types().len()");
    for q in &types {
        assert!(!q.iter().rev().skip(1).any(|seg| seg == "*"), "{name}: query type {q:?} has a '*' that is not last");
    }
    let as_list: Vec<EventType> = set.iter().cloned().collect();
    assert_eq!(sanitised(&as_list), set, "{name}: some query type absorbs another: {types:?}");
    let rebuilt = Subscription::new(&types).unwrap_or_else(|e| panic!("{name}: own query types refused: {e:?}"));
    assert_eq!(set_of(&rebuilt), set, "{name}: rebuilt from its query types, the set differs");
    as_list
}

/// Reads the query-type lists; returns them and the rest of the input.
pub fn split_query_type_lists(data: &[u8]) -> (Vec<Vec<EventType>>, &[u8]) {
    let mut lists = Vec::new();
    let mut rest = data;
    while lists.len() < SUBSCRIPTION_LISTS {
        match decode_prefix::<Vec<EventType>>(rest) {
            Ok((list, n)) => {
                lists.push(list);
                rest = &rest[n..];
            }
            Err(_) => break,
        }
    }
    lists.resize_with(SUBSCRIPTION_LISTS, Vec::new);
    (lists, rest)
}

/// The body of the `subscriptions` target: properties S1-S6.
pub fn subscriptions(data: &[u8]) {
    let n = data.len();
    let (lists, script) = split_query_type_lists(data);
    let [a, b, c] = [0, 1, 2].map(|i| checked_subscription(["A", "B", "C"][i], &lists[i], n));

    // Set operations.
    let union_ab = bounded("union", n, || a.sub.union([&b.sub]));
    let union_abc = bounded("union", n, || a.sub.union([&b.sub, &c.sub]));
    let union_a = a.sub.union([]);
    let inter_ab = a.sub.intersection([&b.sub]);
    let inter_ab_types = check_result("A ∩ B", &inter_ab);
    let inter_abc = a.sub.intersection([&b.sub, &c.sub]);
    let inter_abc_types = check_result("A ∩ B ∩ C", &inter_abc);
    // S6 for the intersections, now that their sizes are known.
    bounded("intersection", n + sbs_size(&inter_ab_types), || a.sub.intersection([&b.sub]));
    // A ∩ B ∩ C is computed as (A ∩ B) ∩ C, in the reference's order (the
    // query types depend on it): its peak may hold A ∩ B, which the
    // documented bound (the product of the operands' sizes) allows unless
    // C is empty (the product is then 0, and so is the allowance).
    let a_b = if c.sub.is_empty() { 0 } else { sbs_size(&inter_ab_types) };
    bounded("intersection", n + a_b + sbs_size(&inter_abc_types), || a.sub.intersection([&b.sub, &c.sub]));
    let inter_a = a.sub.intersection([]);
    let union_ab_types = check_result("A ∪ B", &union_ab);
    let union_abc_types = check_result("A ∪ B ∪ C", &union_abc);
    let concat =
        |lists: &[&Vec<EventType>]| -> Vec<EventType> { lists.iter().flat_map(|l| l.iter().cloned()).collect() };
    assert_eq!(
        union_ab_types.iter().cloned().collect::<BTreeSet<_>>(),
        sanitised(&concat(&[&a.accepted, &b.accepted])),
        "A ∪ B: query types"
    );
    assert_eq!(
        union_abc_types.iter().cloned().collect::<BTreeSet<_>>(),
        sanitised(&concat(&[&a.accepted, &b.accepted, &c.accepted])),
        "A ∪ B ∪ C: query types"
    );
    assert_eq!(set_of(&union_a), set_of(&a.sub), "A.union([]) differs from A");
    assert_eq!(set_of(&inter_a), set_of(&a.sub), "A.intersection([]) differs from A");

    // S3 on the probes.
    let all_probes = probes(
        &[&lists[0], &lists[1], &lists[2], &a.sorted, &b.sorted, &c.sorted, &inter_ab_types, &inter_abc_types]
            .map(Vec::as_slice),
        &[&a.sorted, &b.sorted, &c.sorted].map(Vec::as_slice),
    );
    let rebuilt: Vec<(&str, Subscription, &Subscription)> = [
        ("A", &a.sub),
        ("B", &b.sub),
        ("C", &c.sub),
        ("A ∩ B", &inter_ab),
        ("A ∩ B ∩ C", &inter_abc),
        ("A ∪ B ∪ C", &union_abc),
    ]
    .into_iter()
    .map(|(name, s)| (name, Subscription::new(query_types(s)).expect("checked above"), s))
    .collect();
    for e in &all_probes {
        let [ma, mb, mc] = [&a, &b, &c].map(|x| {
            let m = x.sub.matches(e);
            assert_eq!(
                m,
                model_matches(&x.accepted, e),
                "matches({e:?}) differs from matches_query_type over {:?}",
                x.accepted
            );
            m
        });
        assert_eq!(union_ab.matches(e), ma || mb, "A ∪ B matches({e:?})");
        assert_eq!(union_abc.matches(e), ma || mb || mc, "A ∪ B ∪ C matches({e:?})");
        assert_eq!(inter_ab.matches(e), ma && mb, "A ∩ B matches({e:?}); A ∩ B = {inter_ab:?}");
        assert_eq!(inter_abc.matches(e), ma && mb && mc, "A ∩ B ∩ C matches({e:?}); A ∩ B ∩ C = {inter_abc:?}");
        assert_eq!(union_a.matches(e), ma, "A.union([]) matches({e:?})");
        assert_eq!(inter_a.matches(e), ma, "A.intersection([]) matches({e:?})");
        for (name, again, s) in &rebuilt {
            assert_eq!(again.matches(e), s.matches(e), "{name} rebuilt from its query types: matches({e:?})");
        }
    }

    // S4.
    let sides: [(&str, &Subscription, &[EventType]); 5] = [
        ("A", &a.sub, &a.sorted),
        ("B", &b.sub, &b.sorted),
        ("C", &c.sub, &c.sorted),
        ("A ∩ B", &inter_ab, &inter_ab_types),
        ("A ∪ B", &union_ab, &union_ab_types),
    ];
    for (i, (x_name, x, x_types)) in sides.iter().enumerate() {
        let own = bounded("isdisjoint", n, || x.isdisjoint(x));
        assert_eq!(own, x.is_empty(), "{x_name}.isdisjoint({x_name}) with {} query types", x.len());
        for (j, (y_name, y, y_types)) in sides.iter().enumerate().skip(i + 1) {
            let size = if i >= 3 || j >= 3 { n + sbs_size(x_types) + sbs_size(y_types) } else { n };
            let disjoint = bounded("isdisjoint", size, || x.isdisjoint(y));
            assert_eq!(disjoint, y.isdisjoint(x), "{x_name}.isdisjoint({y_name}) is not symmetric");
            let shared = all_probes.iter().find(|e| x.matches(e) && y.matches(e));
            if let Some(e) = shared {
                assert!(!disjoint, "{x_name}.isdisjoint({y_name}) but both match {e:?}");
            } else if i < 3 && j < 3 && x_types.len() <= MEET_LIMIT && y_types.len() <= MEET_LIMIT {
                // Every pair's meet is a probe: none matches both, so none exists.
                assert!(disjoint, "{x_name}.isdisjoint({y_name}) is false, but no pair of query types meets");
            }
        }
    }

    // S5.
    let inter_for_collection =
        if inter_ab.len() <= COLLECTION_TYPES_LIMIT { inter_ab.clone() } else { Subscription::default() };
    let size = if inter_for_collection.is_empty() { n } else { n + sbs_size(&inter_ab_types) };
    let empty = Subscription::default();
    let subs = [&a.sub, &b.sub, &c.sub, &union_ab, &inter_for_collection, &empty];
    collection_script(if script.is_empty() { DEFAULT_SCRIPT } else { script }, &subs, size, &all_probes);
}

/// Runs the collection script: each byte (at most [`SCRIPT_LIMIT`]) is an
/// operation on value `byte & 7`; `byte >> 3 & 7` picks it: 0-4 add
/// `subs[k]` (A, B, C, A ∪ B, A ∩ B), 5 adds the empty subscription, 6 and 7
/// remove. After each, checks S5 on the first [`PROBES_PER_STEP`] probes
/// (all of them after the last).
/// `size` is the input size for the memory bound (S6) of every addition
/// (a value's subscription in `ListCollection` is the union of all added
/// for it, the intersection among them).
fn collection_script(script: &[u8], subs: &[&Subscription], size: usize, all_probes: &[EventType]) {
    let mut tree = TreeCollection::default();
    let mut list = ListCollection::default();
    // value -> indices into subs added for it.
    let mut model: Vec<(u64, Vec<usize>)> = Vec::new();
    let script = &script[..script.len().min(SCRIPT_LIMIT)];
    let mut out = Vec::new();
    // Bit k of a probe's mask: subs[k] matches it.
    let masks: Vec<u32> = all_probes
        .iter()
        .map(|e| subs.iter().enumerate().filter(|(_, s)| s.matches(e)).map(|(k, _)| 1 << k).sum())
        .collect();
    for (step, &byte) in script.iter().enumerate() {
        let value = u64::from(byte & 7);
        match usize::from(byte >> 3 & 7) {
            k @ 0..=5 => {
                let sub = subs[k];
                bounded("TreeCollection::add", size, || tree.add(sub, value));
                bounded("ListCollection::add", size, || list.add(sub, value));
                match model.iter_mut().find(|(v, _)| *v == value) {
                    Some((_, added)) => added.push(k),
                    None => model.push((value, vec![k])),
                }
            }
            _ => {
                tree.remove(value);
                list.remove(value);
                model.retain(|(v, _)| *v != value);
            }
        }
        let last = step + 1 == script.len();
        for (e, &matching) in all_probes.iter().zip(&masks).take(if last { usize::MAX } else { PROBES_PER_STEP }) {
            let mut expected: Vec<u64> = model
                .iter()
                .filter(|(_, added)| added.iter().any(|&k| matching & 1 << k != 0))
                .map(|(v, _)| *v)
                .collect();
            expected.sort_unstable();
            for (flavour, got) in
                [("TreeCollection", get_sorted(&tree, e, &mut out)), ("ListCollection", get_sorted(&list, e, &mut out))]
            {
                assert_eq!(got, expected, "{flavour}.get({e:?}) after step {step} of script {script:?}");
            }
            // get_into appends, keeping what was there.
            out.clear();
            out.push(u64::MAX);
            tree.get_into(e, &mut out);
            assert_eq!(out.first(), Some(&u64::MAX), "TreeCollection.get_into dropped what out held");
            assert_eq!(out.len(), expected.len() + 1, "TreeCollection.get_into({e:?}) appended {:?}", &out[1..]);
        }
    }
}

/// `c.get(e)` into an `out` that held junk before, sorted; panics on a
/// value given twice.
fn get_sorted(c: &impl Collection, e: &[String], out: &mut Vec<u64>) -> Vec<u64> {
    out.clear();
    out.extend([u64::MAX, 1 << 40]);
    c.get(e, out);
    let mut got = out.clone();
    got.sort_unstable();
    let unique = got.len();
    got.dedup();
    assert_eq!(got.len(), unique, "get({e:?}) gave a value twice: {out:?}");
    got
}

// ---------------------------------------------------------------------------
// Chatter frames (target `chatter_frames`)
//
// What an eventer server's connection reader and the client's reader do with
// a peer's bytes: `chatter::parse_frame` on a growing buffer, then the
// message's data decoded as the eventer message its type names.
//
// Input: a selector byte (the frame size limit, `FRAME_LIMITS[b % 6]`, and
// the chunk pattern in which the stream arrives, `b / 6 % 4`), then the byte
// stream. Properties:
//
// F1. Arrival does not matter: the stream parsed whole and the stream fed in
//     chunks (as a socket delivers it, parsing after each read as the
//     readers do) give the same messages and end the same way (more bytes
//     needed, or the same error).
// F2. An oversized frame is refused as soon as its length field is complete:
//     with its body not yet arrived.
// F3. Every frame's body passes [`check`] as a `HatChatter.Msg`, and the
//     frame is what `write_frame` writes for that message when its length
//     field is minimal (as hat writes it); a frame consumed `1 + field +
//     body` bytes.
// F4. A message whose data type names an eventer message: its data passes
//     [`check`] as that type, and `Message::decode` (the readers' call)
//     accepts it exactly when that check does.

use hat_event::eventer::chatter::{self, ChatterMsg, FrameError};
use hat_event::message::{Message, MessageKind};

/// Frame size limits the selector chooses from (the server's default is in
/// `Limits`; small ones exercise the refusal).
pub const FRAME_LIMITS: [usize; 6] = [0, 1, 16, 64, 1024, 1 << 20];

/// How a parse of a stream ended.
#[derive(Debug, PartialEq)]
enum FrameEnd {
    /// The rest is an incomplete frame (possibly empty).
    NeedMore,
    Error(FrameError),
}

/// Parses whole frames from the start of `buf`: the messages, the bytes they
/// took, and why parsing stopped.
fn parse_all(buf: &[u8], limit: usize, out: &mut Vec<(ChatterMsg, usize)>) -> (usize, FrameEnd) {
    let mut at = 0;
    loop {
        match chatter::parse_frame(&buf[at..], limit) {
            Ok(Some((msg, used))) => {
                assert!(used > 0 && at + used <= buf.len(), "parse_frame took {used} bytes at {at} of {}", buf.len());
                out.push((msg, at));
                at += used;
            }
            Ok(None) => return (at, FrameEnd::NeedMore),
            Err(e) => return (at, FrameEnd::Error(e)),
        }
    }
}

/// The length field of the frame at the start of `frame` (its first byte
/// says how long the field is), if complete.
fn length_field(frame: &[u8]) -> Option<&[u8]> {
    let n = usize::from(*frame.first()?);
    frame.get(1..1 + n)
}

pub fn chatter_frames(data: &[u8]) {
    let Some((&selector, stream)) = data.split_first() else { return };
    let limit = FRAME_LIMITS[usize::from(selector) % FRAME_LIMITS.len()];
    let pattern = usize::from(selector) / FRAME_LIMITS.len() % 4;

    let mut whole = Vec::new();
    let (taken, end) = parse_all(stream, limit, &mut whole);

    // F1 and F2: the same stream arriving in chunks.
    let chunk = |i: usize| match pattern {
        0 => 1,
        1 => 1 + i % 7,
        2 => [1, 2, 3, 5, 8, 13, 64][i % 7],
        _ => 4096,
    };
    let mut fed = 0;
    let mut buf: Vec<u8> = Vec::new();
    let mut pieces = Vec::new();
    let mut chunked_end = FrameEnd::NeedMore;
    let mut i = 0;
    while fed < stream.len() {
        let n = chunk(i).min(stream.len() - fed);
        buf.extend_from_slice(&stream[fed..fed + n]);
        fed += n;
        i += 1;
        let mut got = Vec::new();
        let (used, end) = parse_all(&buf, limit, &mut got);
        let base = fed - buf.len();
        pieces.extend(got.into_iter().map(|(m, at)| (m, base + at)));
        buf.drain(..used);
        if let FrameEnd::Error(e) = end {
            if let FrameError::Oversized { field_len, .. } = e {
                // F2: at most the header of the refused frame had to arrive.
                let start = fed - buf.len();
                assert!(
                    fed - n < start + 1 + field_len,
                    "oversized frame at {start} refused only after {fed} bytes (header {} bytes)",
                    1 + field_len
                );
            }
            chunked_end = FrameEnd::Error(e);
            break;
        }
    }
    assert_eq!(pieces, whole, "frames differ when the stream arrives in pieces (pattern {pattern})");
    assert_eq!(chunked_end, end, "the parse ends differently when the stream arrives in pieces");
    if chunked_end == FrameEnd::NeedMore {
        assert_eq!(fed - buf.len(), taken, "whole and chunked parses took different lengths");
    }

    // F3 and F4, frame by frame.
    for (k, (msg, at)) in whole.iter().enumerate() {
        let next = whole.get(k + 1).map_or(taken, |(_, a)| *a);
        let frame = &stream[*at..next];
        let field = length_field(frame).expect("a parsed frame has its length field");
        let body = &frame[1 + field.len()..];
        assert!(check::<ChatterMsg>(body), "a frame's body {} is not exactly one HatChatter.Msg", hex(body));
        let minimal = field.len() == 1 || field[0] != 0;
        if minimal {
            let mut written = Vec::new();
            chatter::write_frame(&mut written, msg);
            assert_eq!(hex(&written), hex(frame), "write_frame differs from a frame with a minimal length field");
        }
        let Some(kind) = MessageKind::from_name(&msg.data_type) else { continue };
        let name = kind.name().strip_prefix("HatEventer.").unwrap_or(kind.name());
        let entry = ALL.iter().chain(MESSAGES).find(|e| e.name == name).expect("every message kind has checks");
        let (decoded, peak) = peak_memory(|| Message::decode(kind, &msg.data, true));
        let allowed = MEMORY_PER_BYTE * msg.data.len() + MEMORY_SLACK;
        assert!(peak <= allowed, "{name}: decoding {} bytes held {peak} (allowed {allowed})", msg.data.len());
        let exact = (entry.check)(&msg.data);
        assert_eq!(
            decoded.is_ok(),
            exact,
            "{name}: Message::decode and the exact decode disagree on {}",
            hex(&msg.data)
        );
        if let Ok((m, used)) = decoded {
            assert_eq!(used, msg.data.len());
            assert_eq!(m.kind(), kind);
        }
    }
}
