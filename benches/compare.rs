//! Our side of benches/compare.py (the side-by-side comparison with
//! hat-event): a worker that times each case through the C ABI, the same
//! `extern "C"` functions a C program links against. Not meant to be run by
//! hand: `benches/run` builds it (`cargo bench --bench compare --no-run`)
//! and compare.py drives it.
//!
//!     compare <data dir>                       serve requests from stdin
//!     compare <data dir> --memory <dataset>    bytes per query type (RSS growth)
//!
//! Requests are JSON lines (see compare.py); inputs are the files compare.py
//! wrote (event types one per line, segments tab-separated; SBS bytes and
//! JSON text made by hat-event), read by every side alike. Replies are JSON
//! lines: `{"check": ...}` after the untimed warm-up pass, `{"ns_per_op": ...}`
//! after a timed round.

use std::collections::HashMap;
use std::hint::black_box;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

use serde_json::{json, Value};

use hat_event::ffi::boundary::hat_event_status_t;
use hat_event::ffi::boundary::{hat_event_bytes_t, hat_event_str_t, HAT_EVENT_OK};
use hat_event::ffi::buffer::*;
use hat_event::ffi::collection::*;
use hat_event::ffi::event::*;
use hat_event::ffi::event_type::{
    hat_event_event_type_create, hat_event_event_type_destroy, hat_event_event_type_t, hat_event_event_type_view_t,
};
use hat_event::ffi::json_form::hat_event_query_result_to_json;
use hat_event::ffi::query::*;
use hat_event::ffi::sbs::*;
use hat_event::ffi::server::engine::*;
use hat_event::ffi::server::module::*;
use hat_event::ffi::server::registry::*;
use hat_event::ffi::subscription::*;
use hat_event::ffi::timestamp::hat_event_timestamp_t;
use std::ffi::c_void;

#[path = "views/mod.rs"]
mod views;
use views::Views;

type Types = Rc<Vec<Vec<String>>>;

fn ok(status: u32) {
    assert_eq!(status, HAT_EVENT_OK, "hat_event call failed");
}

/// Owned handles, released when the case that made them is done.
struct Sub(*mut hat_event_subscription_t);
impl Sub {
    fn new(types: &[hat_event_event_type_view_t]) -> Sub {
        let mut out = std::ptr::null_mut();
        // SAFETY: views point into live strings; out is a local.
        ok(unsafe { hat_event_subscription_create(types.as_ptr(), types.len(), &mut out) });
        Sub(out)
    }
}
impl Sub {
    fn ptr(&self) -> *mut hat_event_subscription_t {
        self.0
    }
}
impl Drop for Sub {
    fn drop(&mut self) {
        // SAFETY: an owned handle, released once.
        unsafe { hat_event_subscription_destroy(self.0) }
    }
}

struct Coll(*mut hat_event_collection_t, *mut hat_event_values_t);
impl Coll {
    fn coll(&self) -> *mut hat_event_collection_t {
        self.0
    }
    fn values(&self) -> *mut hat_event_values_t {
        self.1
    }
}
impl Drop for Coll {
    fn drop(&mut self) {
        // SAFETY: owned handles, released once.
        unsafe {
            hat_event_values_destroy(self.1);
            hat_event_collection_destroy(self.0);
        }
    }
}

struct Ev(*mut hat_event_event_t);
impl Ev {
    fn ptr(&self) -> *mut hat_event_event_t {
        self.0
    }
}
impl Drop for Ev {
    fn drop(&mut self) {
        // SAFETY: an owned handle, released once.
        unsafe { hat_event_event_destroy(self.0) }
    }
}

/// An owned event type handle.
struct EvType(*mut hat_event_event_type_t);
impl EvType {
    fn new(segments: &[String]) -> EvType {
        let views: Vec<hat_event_str_t> =
            segments.iter().map(|s| hat_event_str_t { ptr: s.as_ptr().cast(), len: s.len() }).collect();
        let mut out = std::ptr::null_mut();
        // SAFETY: views of live strings; out is a local.
        ok(unsafe { hat_event_event_type_create(views.as_ptr(), views.len(), &mut out) });
        EvType(out)
    }
}
impl Drop for EvType {
    fn drop(&mut self) {
        // SAFETY: an owned handle, released once.
        unsafe { hat_event_event_type_destroy(self.0) }
    }
}

struct Res(*mut hat_event_query_result_t);
impl Res {
    fn ptr(&self) -> *mut hat_event_query_result_t {
        self.0
    }
}
impl Drop for Res {
    fn drop(&mut self) {
        // SAFETY: an owned handle, released once.
        unsafe { hat_event_query_result_destroy(self.0) }
    }
}

/// Copies a buffer's bytes out and releases it.
fn take(buffer: *mut hat_event_buffer_t) -> Vec<u8> {
    // SAFETY: a live buffer from an encode call, released once here.
    unsafe {
        let bytes = std::slice::from_raw_parts(hat_event_buffer_data(buffer), hat_event_buffer_len(buffer)).to_vec();
        hat_event_buffer_destroy(buffer);
        bytes
    }
}

fn bytes_view(b: &[u8]) -> hat_event_bytes_t {
    hat_event_bytes_t { ptr: b.as_ptr(), len: b.len() }
}

struct Data {
    dir: PathBuf,
    cache: HashMap<String, Types>,
}

impl Data {
    fn types(&mut self, name: &str) -> Types {
        let dir = &self.dir;
        self.cache.entry(name.to_owned()).or_insert_with(|| Rc::new(read_types(dir, name))).clone()
    }

    fn raw(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }
}

fn read_types(dir: &Path, name: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(dir.join(format!("{name}.types"))).unwrap_or_else(|e| panic!("{name}: {e}"));
    text.lines().map(|l| l.split('\t').map(str::to_owned).collect()).collect()
}

type Pass = Box<dyn FnMut()>;

/// A case from its pass: run once for the check value, then timed.
fn case<T: Into<Value>>(mut run: impl FnMut() -> T + 'static, ops: usize) -> (Pass, usize, Value) {
    let check = run().into();
    (
        Box::new(move || {
            black_box(run());
        }),
        ops,
        check,
    )
}

/// An empty tree collection and its values buffer.
fn new_coll() -> Coll {
    let mut c = Coll(std::ptr::null_mut(), std::ptr::null_mut());
    // SAFETY: locals as out-parameters.
    unsafe {
        ok(hat_event_collection_create(HAT_EVENT_COLLECTION_TREE, &mut c.0));
        ok(hat_event_values_create(&mut c.1));
    }
    c
}

/// How many values `c` holds for the event type `q`.
fn coll_count(c: &Coll, q: &[hat_event_str_t]) -> usize {
    // SAFETY: live handles and views.
    unsafe {
        hat_event_collection_get(c.coll(), q.as_ptr(), q.len(), c.values());
        hat_event_values_len(c.values())
    }
}

/// (timed pass, operations per pass, check value).
fn setup(data: &mut Data, req: &Value) -> (Pass, usize, Value) {
    let kind = req["kind"].as_str().unwrap();
    let name = |key: &str| req[key].as_str().unwrap_or_else(|| panic!("{kind}: no {key}")).to_owned();
    match kind {
        "sub_create" => {
            let views = Views::new(&data.types(&name("types")));
            let tv = views.type_views();
            // SAFETY: a live handle.
            let check = unsafe { hat_event_subscription_len(Sub::new(&tv).0) };
            let ops = tv.len();
            // The views point into `views`: the pass keeps both.
            let run = move || {
                black_box(views.len());
                drop(black_box(Sub::new(&tv)));
            };
            (Box::new(run), ops, json!(check))
        }
        "sub_matches" => {
            let sub = Sub::new(&Views::new(&data.types(&name("sub"))).type_views());
            let queries = Views::new(&data.types(&name("queries")));
            let hits = move || {
                let mut hits = 0;
                for i in 0..queries.len() {
                    let q = queries.get(i);
                    let mut m = false;
                    // SAFETY: a live handle and views.
                    unsafe { hat_event_subscription_matches(sub.ptr(), q.as_ptr(), q.len(), &mut m) };
                    hits += usize::from(black_box(m));
                }
                hits
            };
            let check = hits();
            let ops = data.types(&name("queries")).len();
            (
                Box::new(move || {
                    black_box(hits());
                }),
                ops,
                json!(check),
            )
        }
        "sub_union" | "sub_intersection" | "sub_isdisjoint" => {
            let a = Sub::new(&Views::new(&data.types(&name("a"))).type_views());
            let b = Sub::new(&Views::new(&data.types(&name("b"))).type_views());
            if kind == "sub_isdisjoint" {
                let run = move || {
                    let mut d = false;
                    // SAFETY: live handles.
                    ok(unsafe { hat_event_subscription_isdisjoint(a.ptr(), b.ptr(), &mut d) });
                    black_box(d)
                };
                let check = run();
                return (
                    Box::new(move || {
                        black_box(run());
                    }),
                    1,
                    json!(check),
                );
            }
            let op =
                if kind == "sub_union" { hat_event_subscription_union } else { hat_event_subscription_intersection };
            let run = move || {
                let mut out = std::ptr::null_mut();
                let others = [b.ptr() as *const _];
                // SAFETY: live handles; the result is released right away.
                unsafe {
                    ok(op(a.ptr(), others.as_ptr(), 1, &mut out));
                    let n = hat_event_subscription_len(out);
                    hat_event_subscription_destroy(out);
                    n
                }
            };
            let check = run();
            (
                Box::new(move || {
                    black_box(run());
                }),
                1,
                json!(check),
            )
        }
        "fanout_match" | "fanout_coll" => {
            let clients = data.types(&name("clients"));
            let per = req["per_client"].as_u64().unwrap() as usize;
            let subs: Vec<Sub> = clients.chunks(per).map(|c| Sub::new(&Views::new(c).type_views())).collect();
            let events = data.types(&name("events"));
            let ops = events.len();
            // Event type handles, as a server holds the types of the events
            // it decoded.
            let types: Vec<EvType> = events.iter().map(|t| EvType::new(t)).collect();
            if kind == "fanout_match" {
                let run = move || {
                    let mut found = 0;
                    for t in &types {
                        for s in &subs {
                            let mut m = false;
                            // SAFETY: live handles; out is a local.
                            unsafe { hat_event_subscription_matches_type(s.ptr(), t.0, &mut m) };
                            found += usize::from(black_box(m));
                        }
                    }
                    found
                };
                return case(run, ops);
            }
            let c = new_coll();
            for (i, s) in subs.iter().enumerate() {
                // SAFETY: live handles.
                ok(unsafe { hat_event_collection_add(c.coll(), s.ptr(), i as u64) });
            }
            let run = move || {
                let mut found = 0;
                for t in &types {
                    // SAFETY: live handles.
                    unsafe {
                        hat_event_collection_get_type(c.coll(), t.0, c.values());
                        found += hat_event_values_len(c.values());
                    }
                }
                black_box(found)
            };
            case(run, ops)
        }
        "coll_get" | "coll_churn" => {
            let c = new_coll();
            let subs = Views::new(&data.types(&name("subs")));
            for (i, tv) in subs.type_views().iter().enumerate() {
                let sub = Sub::new(std::slice::from_ref(tv));
                // SAFETY: live handles.
                ok(unsafe { hat_event_collection_add(c.coll(), sub.ptr(), i as u64) });
            }
            let queries = Views::new(&data.types(&name("queries")));
            let repeat = req["repeat"].as_u64().unwrap_or(1) as usize;
            let extra = (kind == "coll_churn").then(|| Sub::new(&Views::new(&data.types(&name("extra"))).type_views()));
            let ops = repeat * queries.len();
            let run = move || {
                let mut found = 0;
                for _ in 0..repeat {
                    for i in 0..queries.len() {
                        if let Some(extra) = extra.as_ref().filter(|_| i % 100 == 0) {
                            // SAFETY: live handles.
                            unsafe {
                                hat_event_collection_add(c.coll(), extra.ptr(), 1 << 40);
                                hat_event_collection_remove(c.coll(), 1 << 40);
                            }
                        }
                        found += coll_count(&c, queries.get(i));
                    }
                }
                black_box(found)
            };
            case(run, ops)
        }
        "sbs_event_encode" | "sbs_event_decode" => {
            let raw = data.raw("event.sbs");
            let mut e = Ev(std::ptr::null_mut());
            // SAFETY: readable bytes; out is a local.
            ok(unsafe { hat_event_event_decode(bytes_view(&raw), &mut e.0) });
            if kind == "sbs_event_encode" {
                let run = move || {
                    let mut buf = std::ptr::null_mut();
                    // SAFETY: a live handle; out is a local.
                    ok(unsafe { hat_event_event_encode(black_box(e.ptr()), &mut buf) });
                    buf
                };
                let ours = take(run());
                assert_eq!(ours, raw, "our encoding of the typical event differs from hat-event's");
                // SAFETY: the buffer of this pass, released once.
                return (Box::new(move || unsafe { hat_event_buffer_destroy(black_box(run())) }), 1, json!(ours.len()));
            }
            let run = move || {
                let mut out = std::ptr::null_mut();
                // SAFETY: readable bytes; out is a local; the event is released.
                unsafe {
                    ok(hat_event_event_decode(black_box(bytes_view(&raw)), &mut out));
                    hat_event_event_destroy(black_box(out));
                }
            };
            (Box::new(run), 1, json!(1))
        }
        "sbs_result_encode" | "sbs_result_decode" | "json_result_encode" => {
            let raw = data.raw("result.sbs");
            let mut r = Res(std::ptr::null_mut());
            // SAFETY: readable bytes; out is a local.
            ok(unsafe { hat_event_query_result_decode(bytes_view(&raw), &mut r.0) });
            match kind {
                "sbs_result_encode" | "json_result_encode" => {
                    type Encode =
                        unsafe extern "C" fn(*const hat_event_query_result_t, *mut *mut hat_event_buffer_t) -> u32;
                    let (f, expected): (Encode, _) = if kind == "sbs_result_encode" {
                        (hat_event_query_result_encode, raw)
                    } else {
                        (hat_event_query_result_to_json, data.raw("result.json"))
                    };
                    let run = move || {
                        let mut buf = std::ptr::null_mut();
                        // SAFETY: a live handle; out is a local.
                        ok(unsafe { f(black_box(r.ptr()), &mut buf) });
                        buf
                    };
                    let ours = take(run());
                    assert!(ours == expected, "{kind}: our bytes differ from hat-event's");
                    // SAFETY: the buffer of this pass, released once.
                    (Box::new(move || unsafe { hat_event_buffer_destroy(black_box(run())) }), 1, json!(ours.len()))
                }
                _ => {
                    drop(r);
                    let run = move || {
                        let mut out = std::ptr::null_mut();
                        // SAFETY: readable bytes; out is a local; the result is released.
                        unsafe {
                            ok(hat_event_query_result_decode(black_box(bytes_view(&raw)), &mut out));
                            let n = hat_event_query_result_len(out);
                            hat_event_query_result_destroy(black_box(out));
                            n
                        }
                    };
                    let check = run();
                    (
                        Box::new(move || {
                            black_box(run());
                        }),
                        1,
                        json!(check),
                    )
                }
            }
        }
        "engine_register" => {
            // One engine with the memory backend and one module subscribed
            // to ('a', 'b', '*') that derives nothing (as hat's side); each
            // pass registers `events` register events of ('a', 'b', str(i))
            // with JSON payload i in one call (one session).
            let count = req["events"].as_u64().unwrap() as usize;
            let engine = Rc::new(EngineHandle::new());
            let events: Vec<*mut hat_event_register_event_t> = (0..count).map(register_event).collect();
            let events = Rc::new(RegisterEvents(events));
            let run = {
                let (engine, events) = (engine.clone(), events.clone());
                move || engine.register(&events.0)
            };
            let check = run();
            (
                Box::new(move || {
                    black_box(run());
                }),
                count,
                json!(check),
            )
        }
        other => panic!("unknown kind {other}"),
    }
}

fn rss_bytes() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: f64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096.0
}

extern "C" {
    /// glibc: returns free heap memory to the system.
    fn malloc_trim(pad: usize) -> i32;
}

/// RSS growth from creating one subscription of the dataset's types, after
/// they are loaded: right after creation (transient peaks included) and
/// after `malloc_trim` (what stays). The same measurement as compare_py.py's.
fn memory(data: &mut Data, dataset: &str) {
    let types = data.types(dataset);
    let views = Views::new(&types);
    let tv = views.type_views();
    // SAFETY: a plain glibc call.
    unsafe { malloc_trim(0) };
    let before = rss_bytes();
    let sub = Sub::new(&tv);
    let after = rss_bytes();
    // SAFETY: a plain glibc call.
    unsafe { malloc_trim(0) };
    let trimmed = rss_bytes();
    let n = types.len() as f64;
    println!("{}", json!({"bytes_per_type": (after - before) / n, "trimmed_bytes_per_type": (trimmed - before) / n}));
    drop(sub);
}

/// RSS growth per event stored in the engine's memory backend (one module),
/// measured as compare_py.py's `backend_memory` measures hat's: the same
/// events, made batch by batch inside the measured span and destroyed after
/// registering, so that what remains is what the engine and backend keep.
fn backend_memory(count: usize) {
    const BATCH: usize = 1000;
    let engine = EngineHandle::new();
    // SAFETY: a plain glibc call.
    unsafe { malloc_trim(0) };
    let before = rss_bytes();
    for start in (0..count).step_by(BATCH) {
        let events = RegisterEvents((start..start + BATCH).map(stored_event).collect());
        assert_eq!(engine.register(&events.0), BATCH);
    }
    // SAFETY: a plain glibc call.
    unsafe { malloc_trim(0) };
    let after = rss_bytes();
    println!("{}", json!({"bytes_per_event": (after - before) / count as f64}));
}

/// compare_py.py's stored event: ('gateway', 'device1', 'measurement',
/// f'temperature{i}'), a source timestamp, a three-field JSON payload.
fn stored_event(i: usize) -> *mut hat_event_register_event_t {
    let last = format!("temperature{i}");
    let json = format!(r#"{{"value": {:?}, "quality": "good", "ts": 1700000000.123}}"#, 20.0 + i as f64 / 100.0);
    let source_timestamp = hat_event_timestamp_t { s: 1_700_000_000 + i as i64, us: 100_000 };
    make_register_event(&["gateway", "device1", "measurement", &last], Some(&source_timestamp), &json)
}

/// A register event of `type_`, with a JSON payload (everything is copied).
fn make_register_event(
    type_: &[&str],
    source_timestamp: Option<&hat_event_timestamp_t>,
    json: &str,
) -> *mut hat_event_register_event_t {
    let segments: Vec<hat_event_str_t> = type_.iter().map(|s| str_view(s)).collect();
    let ts = source_timestamp.map_or(std::ptr::null(), std::ptr::from_ref);
    let (mut payload, mut out) = (std::ptr::null_mut(), std::ptr::null_mut());
    // SAFETY: the views, text and timestamp live across the calls; outs are locals; everything is copied.
    unsafe {
        assert_eq!(hat_event_payload_create_json(str_view(json), &mut payload), HAT_EVENT_OK);
        assert_eq!(
            hat_event_register_event_create(segments.as_ptr(), segments.len(), ts, payload, &mut out),
            HAT_EVENT_OK
        );
        hat_event_payload_destroy(payload);
    }
    out
}

// --- the engine case -----------------------------------------------------------

/// The module of the engine case: subscribed to ('a', 'b', '*'), derives nothing.
unsafe extern "C" fn sink_process(
    _instance: *mut c_void,
    _source: hat_event_source_t,
    _event: *const hat_event_event_t,
    _out: *mut hat_event_register_event_list_t,
) -> hat_event_status_t {
    HAT_EVENT_OK
}

unsafe extern "C" fn sink_create(
    _user_data: *mut c_void,
    _conf: hat_event_str_t,
    _engine: *mut hat_event_engine_t,
    _source: hat_event_source_t,
    out: *mut hat_event_module_t,
) -> hat_event_status_t {
    let segments = [str_view("a"), str_view("b"), str_view("*")];
    let types = [hat_event_event_type_view_t { segments: segments.as_ptr(), len: segments.len() }];
    let mut subscription = std::ptr::null_mut();
    // SAFETY: the views point into static strings; out was zeroed by the engine and is ours to fill.
    unsafe {
        assert_eq!(hat_event_subscription_create(types.as_ptr(), 1, &mut subscription), HAT_EVENT_OK);
        (*out).struct_size = std::mem::size_of::<hat_event_module_t>();
        (*out).subscription = subscription;
        (*out).process = Some(sink_process);
    }
    HAT_EVENT_OK
}

/// A view of `s`; the caller keeps `s` alive while the view is used.
fn str_view(s: &str) -> hat_event_str_t {
    hat_event_str_t { ptr: s.as_ptr().cast(), len: s.len() }
}

struct EngineHandle(*mut hat_event_engine_t);

impl EngineHandle {
    fn new() -> EngineHandle {
        let info = hat_event_module_info_t {
            abi_version: HAT_EVENT_PLUGIN_ABI_VERSION,
            struct_size: std::mem::size_of::<hat_event_module_info_t>(),
            user_data: std::ptr::null_mut(),
            create: Some(sink_create),
            json_schema_id: str_view(""),
            json_schema_repo: str_view(""),
            finalize_user_data: None,
        };
        let conf = r#"{"server_id": 1, "backend": {"module": "memory"}, "modules": [{"module": "bench.sink"}]}"#;
        let mut engine = std::ptr::null_mut();
        // SAFETY: info and conf outlive the calls; engine is a local out-parameter.
        unsafe {
            assert_eq!(hat_event_module_register(str_view("bench.sink"), &info), HAT_EVENT_OK);
            assert_eq!(hat_event_engine_create(str_view(conf), std::ptr::null(), &mut engine), HAT_EVENT_OK);
        }
        EngineHandle(engine)
    }

    /// One register call; the number of events the session registered.
    fn register(&self, events: &[*mut hat_event_register_event_t]) -> usize {
        let source = hat_event_source_t { r#type: HAT_EVENT_SOURCE_TYPE_EVENTER, id: 1 };
        let mut out = std::ptr::null_mut();
        // SAFETY: a live engine and live register events; out is a local.
        unsafe {
            let ptrs: Vec<*const hat_event_register_event_t> = events.iter().map(|e| e.cast_const()).collect();
            assert_eq!(hat_event_engine_register(self.0, source, ptrs.as_ptr(), ptrs.len(), &mut out), HAT_EVENT_OK);
            let n = hat_event_event_list_len(out);
            hat_event_event_list_destroy(out);
            n
        }
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        // SAFETY: created by new(), destroyed once.
        unsafe { hat_event_engine_destroy(self.0) };
    }
}

struct RegisterEvents(Vec<*mut hat_event_register_event_t>);

impl Drop for RegisterEvents {
    fn drop(&mut self) {
        for e in &self.0 {
            // SAFETY: each was created by register_event and is destroyed once.
            unsafe { hat_event_register_event_destroy(*e) };
        }
    }
}

/// The register event ('a', 'b', str(i)) with JSON payload i.
fn register_event(i: usize) -> *mut hat_event_register_event_t {
    let last = i.to_string();
    make_register_event(&["a", "b", &last], None, &last)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes --bench; the data directory is the first other argument.
    let mut rest = args[1..].iter().filter(|a| *a != "--bench");
    let dir = PathBuf::from(rest.next().expect("usage: compare <data dir> [--memory <dataset>]"));
    let mut data = Data { dir, cache: HashMap::new() };
    if rest.next().is_some_and(|a| a == "--memory") {
        let dataset = rest.next().expect("--memory <dataset>");
        match dataset.strip_prefix("backend-") {
            Some(n) => backend_memory(n.parse().expect("--memory backend-<count>")),
            None => memory(&mut data, dataset),
        }
        return;
    }

    let mut states: HashMap<String, (Pass, usize, usize)> = HashMap::new();
    let stdout = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        let req: Value = serde_json::from_str(&line.unwrap()).unwrap();
        let reply = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match req["op"].as_str() {
            Some("done") => {
                states.clear();
                data.cache.clear();
                json!({})
            }
            _ => {
                let case = req["case"].as_str().unwrap().to_owned();
                if req["warmup"].as_bool() == Some(true) {
                    let (mut run, ops, check) = setup(&mut data, &req);
                    let start = Instant::now();
                    run();
                    let once = start.elapsed().as_nanos().max(1) as f64;
                    let reps = (req["target_ms"].as_f64().unwrap() * 1e6 / once).ceil().max(1.0) as usize;
                    states.insert(case, (run, ops, reps));
                    json!({"check": check})
                } else {
                    let (run, ops, reps) = states.get_mut(&case).expect("no warm-up for this case");
                    let start = Instant::now();
                    for _ in 0..*reps {
                        run();
                    }
                    json!({"ns_per_op": start.elapsed().as_nanos() as f64 / (*reps * *ops) as f64})
                }
            }
        }))
        .unwrap_or_else(|e| {
            let msg = e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()));
            json!({"error": msg.unwrap_or_else(|| "panic".into())})
        });
        let mut out = stdout.lock();
        writeln!(out, "{reply}").unwrap();
        out.flush().unwrap();
    }
}
