//! Events per second through the in-process engine: one module (subscribed
//! to ('sensor', '*'), deriving nothing) and the memory backend, events
//! registered from one thread one per session and 100 per session. The
//! same cases through hat-event's Engine: benches/hat_engine.py.
//!
//! `engine_c_backend_*`: the same, with the backend a C plug-in (vtable
//! slots written here against the public C API, as a C backend would be)
//! that keeps every event it is given (`hat_event_event_clone`), reports
//! it registered (`hat_event_backend_host_registered`) and answers queries
//! with `hat_event_query_evaluate`: the cost of events crossing the
//! plug-in boundary. No hat counterpart.
//!
//!   cargo bench --bench engine [filter]

#[path = "harness/mod.rs"]
mod harness;

#[path = "sink/mod.rs"]
mod sink;
use std::sync::Arc;

use hat_event::event::{RegisterEvent, Source, SourceType};
use hat_event::server::engine::{Engine, EngineHooks};
use hat_event::server::registry::Registered;

mod c_backend {
    //! A C backend written against the public C API only.
    use std::ffi::c_void;

    use hat_event::ffi::boundary::{hat_event_status_t, hat_event_str_t, HAT_EVENT_OK};
    use hat_event::ffi::event::{hat_event_event_clone, hat_event_event_destroy, hat_event_event_t};
    use hat_event::ffi::query::{hat_event_query_params_t, hat_event_query_result_t};
    use hat_event::ffi::server::backend::{
        hat_event_backend_host_registered, hat_event_backend_host_t, hat_event_backend_t,
    };
    use hat_event::ffi::server::query::hat_event_query_evaluate;
    use hat_event::ffi::server::registry::{
        hat_event_backend_info_t, hat_event_backend_register, HAT_EVENT_PLUGIN_ABI_VERSION,
    };

    struct Store {
        host: *mut hat_event_backend_host_t,
        events: Vec<*mut hat_event_event_t>,
    }

    unsafe extern "C" fn create(
        _user_data: *mut c_void,
        _conf: hat_event_str_t,
        host: *mut hat_event_backend_host_t,
        out: *mut hat_event_backend_t,
    ) -> hat_event_status_t {
        let store = Box::into_raw(Box::new(Store { host, events: Vec::new() }));
        // SAFETY: out is the engine's zeroed vtable, writable for the call.
        let out = unsafe { &mut *out };
        out.struct_size = std::mem::size_of::<hat_event_backend_t>();
        out.instance = store.cast();
        out.register_events = Some(register_events);
        out.query = Some(query);
        out.finalize = Some(finalize);
        HAT_EVENT_OK
    }

    unsafe extern "C" fn register_events(
        instance: *mut c_void,
        events: *const *const hat_event_event_t,
        count: usize,
    ) -> hat_event_status_t {
        // SAFETY: the instance made by create; slots are called one at a time.
        let store = unsafe { &mut *instance.cast::<Store>() };
        for i in 0..count {
            let mut kept = std::ptr::null_mut();
            // SAFETY: events holds count live borrowed handles for the call.
            let status = unsafe { hat_event_event_clone(*events.add(i), &mut kept) };
            assert_eq!(status, HAT_EVENT_OK);
            store.events.push(kept);
        }
        // SAFETY: the live host and the borrowed events of this call.
        unsafe { hat_event_backend_host_registered(store.host, events, count) }
    }

    unsafe extern "C" fn query(
        instance: *mut c_void,
        params: *const hat_event_query_params_t,
        out: *mut *mut hat_event_query_result_t,
    ) -> hat_event_status_t {
        // SAFETY: the instance made by create.
        let store = unsafe { &*instance.cast::<Store>() };
        // SAFETY: handles owned by the store, params and out from the engine.
        unsafe { hat_event_query_evaluate(params, store.events.as_ptr().cast(), store.events.len(), out) }
    }

    unsafe extern "C" fn finalize(instance: *mut c_void) {
        // SAFETY: the instance made by create, finalised once.
        let store = unsafe { Box::from_raw(instance.cast::<Store>()) };
        for e in store.events {
            // SAFETY: owned handles made by hat_event_event_clone.
            unsafe { hat_event_event_destroy(e) };
        }
    }

    pub fn register(name: &str) {
        let info = hat_event_backend_info_t {
            abi_version: HAT_EVENT_PLUGIN_ABI_VERSION,
            struct_size: std::mem::size_of::<hat_event_backend_info_t>(),
            user_data: std::ptr::null_mut(),
            create: Some(create),
            json_schema_id: hat_event_str_t { ptr: std::ptr::null(), len: 0 },
            json_schema_repo: hat_event_str_t { ptr: std::ptr::null(), len: 0 },
            finalize_user_data: None,
        };
        let name = hat_event_str_t { ptr: name.as_ptr().cast(), len: name.len() };
        // SAFETY: a complete info; the name is borrowed for the call.
        assert_eq!(unsafe { hat_event_backend_register(name, &info) }, HAT_EVENT_OK);
    }
}

fn main() {
    let filter = harness::filter();
    c_backend::register("bench.c_store");
    sink::register("bench.sink");
    let conf =
        serde_json::json!({"server_id": 1, "backend": {"module": "memory"}, "modules": [{"module": "bench.sink"}]});
    let source = Source { type_: SourceType::Eventer, id: 1 };
    let event = RegisterEvent {
        type_: ["sensor", "temperature"].into(),
        source_timestamp: None,
        payload: Some(Arc::new(hat_event::event::EventPayload::Json(hat_event::json::JsonPayload::from_value(
            serde_json::json!(21.5),
        )))),
    };
    let c_conf = serde_json::json!({"server_id": 1, "backend": {"module": "bench.c_store"}, "modules": [{"module": "bench.sink"}]});
    for (name, conf) in [("engine_register", &conf), ("engine_c_backend", &c_conf)] {
        for batch in [1usize, 100] {
            const EVENTS: usize = 20_000;
            harness::measure(&format!("{name}_batch_{batch}"), &filter, || {
                let engine = Engine::create(conf, &Registered, EngineHooks::default()).unwrap();
                let events = vec![event.clone(); batch];
                let r = harness::time(|| {
                    for _ in 0..EVENTS / batch {
                        engine.register(source, &events).unwrap();
                    }
                    EVENTS
                });
                drop(engine);
                r
            });
        }
    }
    // The server's case: a decoded MsgRegisterReq (100 events) registered
    // borrowed (the engine copies each event's type and payload) or owned
    // (moved into the events).
    let bytes = hat_event::sbs::encode_to_vec(&vec![event.clone(); 100]).unwrap();
    for owned in [false, true] {
        const EVENTS: usize = 20_000;
        let name = if owned { "engine_decoded_owned_batch_100" } else { "engine_decoded_borrowed_batch_100" };
        harness::measure(name, &filter, || {
            let engine = Engine::create(&conf, &Registered, EngineHooks::default()).unwrap();
            let r = harness::time(|| {
                for _ in 0..EVENTS / 100 {
                    let events: Vec<RegisterEvent> = hat_event::sbs::decode_exact(&bytes).unwrap();
                    if owned {
                        engine.register_owned(source, events).unwrap();
                    } else {
                        engine.register(source, &events).unwrap();
                    }
                }
                EVENTS
            });
            drop(engine);
            r
        });
    }
}
