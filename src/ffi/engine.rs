//! The engine in C: created by the host from JSON configuration, called by
//! the host and by the modules running in it.

use std::ffi::c_void;
use std::sync::Arc;

use super::boundary::{
    free_handle, guard_status, guard_value, handle_arg, handle_opt, new_handle, out_arg, slice_arg, str_arg, FfiError,
    FfiResult, Opaque, hat_event_status_t, hat_event_str_t, HAT_EVENT_ERR_CLOSED, HAT_EVENT_ERR_IMPORT,
    HAT_EVENT_ERR_INVALID_ARGUMENT, HAT_EVENT_ERR_INVALID_JSON, HAT_EVENT_ERR_PLUGIN, HAT_EVENT_ERR_REENTRANT,
    HAT_EVENT_ERR_SCHEMA,
};
use super::event::{hat_event_event_t, hat_event_register_event_t, hat_event_source_t};
use super::plugin::{event_ptrs_of, CResolver};
use super::query::{hat_event_query_params_t, hat_event_query_result_t};
use crate::engine::{Engine, EngineHooks, EngineRef};
use crate::event::{Event, Source, SourceType};
use crate::plugin::PluginError;

impl From<PluginError> for FfiError {
    fn from(e: PluginError) -> FfiError {
        let status = match e {
            PluginError::Config(_) => HAT_EVENT_ERR_INVALID_ARGUMENT,
            PluginError::Import(_) => HAT_EVENT_ERR_IMPORT,
            PluginError::Schema { .. } => HAT_EVENT_ERR_SCHEMA,
            PluginError::Failed(_) => HAT_EVENT_ERR_PLUGIN,
            PluginError::Closed => HAT_EVENT_ERR_CLOSED,
            PluginError::Reentrant(_) => HAT_EVENT_ERR_REENTRANT,
        };
        FfiError::new(status, e.to_string())
    }
}

/// Which engine a handle speaks to: the host's own (which closes it when
/// destroyed) or a module's view of it.
pub(crate) enum EngineHandle {
    Owned(Engine),
    Ref(EngineRef),
}

impl EngineHandle {
    fn engine_ref(&self) -> EngineRef {
        match self {
            EngineHandle::Owned(e) => e.as_ref(),
            EngineHandle::Ref(r) => r.clone(),
        }
    }
}

/// An engine: its backend, its modules and its sessions (see
/// `hat_event_engine_create`). Thread-safe: any number of threads may call
/// `register`, `query` and the getters at once (sessions run one at a time).
/// The host's handle comes from `hat_event_engine_create` and is released
/// with `hat_event_engine_destroy`; a module's handle is given to its create
/// and is owned by the engine.
pub struct hat_event_engine_t {
    _private: [u8; 0],
}

impl Opaque for hat_event_engine_t {
    type Inner = EngineHandle;
}

/// An owned list of events (what `hat_event_engine_register` returns).
/// Release with `hat_event_event_list_destroy`.
pub struct hat_event_event_list_t {
    _private: [u8; 0],
}

impl Opaque for hat_event_event_list_t {
    type Inner = Vec<Arc<Event>>;
}

/// The host's callbacks, all optional (NULL). Each gets `user_data` first.
/// `registered`/`flushed` receive the events the backend reports (borrowed
/// for the call), on whichever thread runs that backend call (a thread in
/// `hat_event_engine_register`, `_create` or `_close`), one call at a time;
/// `restart`/`reset_monitor_ready` on the thread of the module asking (hat's
/// `restart_cb`/`reset_monitor_ready_cb`). None may call
/// `hat_event_engine_register` or `_query` of this engine on that thread
/// (they fail with `HAT_EVENT_ERR_REENTRANT`). `user_data` must stay valid
/// until `hat_event_engine_destroy` returns.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct hat_event_engine_hooks_t {
    /// `sizeof(hat_event_engine_hooks_t)`, so that the struct can grow.
    pub struct_size: usize,
    /// Passed first to every hook.
    pub user_data: *mut c_void,
    /// The backend registered these events.
    pub registered: Option<unsafe extern "C" fn(user_data: *mut c_void, events: *const *const hat_event_event_t, count: usize)>,
    /// The backend made these events durable.
    pub flushed: Option<unsafe extern "C" fn(user_data: *mut c_void, events: *const *const hat_event_event_t, count: usize)>,
    /// A module asks for an engine restart.
    pub restart: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
    /// A module asks to reset the monitor's ready flag.
    pub reset_monitor_ready: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
    /// A module asks for the names of the clients of the host's eventer
    /// server (hat's `get_client_names`): write up to `capacity` of them to
    /// `out` (names borrowed until the hook returns) and return how many
    /// there are in all; the engine calls again with room for all when
    /// `capacity` was too small. NULL: no clients.
    pub client_names:
        Option<unsafe extern "C" fn(user_data: *mut c_void, out: *mut hat_event_client_name_t, capacity: usize) -> usize>,
}

/// One client of an eventer server: its source and its name (a view).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct hat_event_client_name_t {
    pub source: hat_event_source_t,
    pub name: hat_event_str_t,
}

/// An owned list of (source, client name) pairs. Release with
/// `hat_event_client_names_destroy`.
pub struct hat_event_client_names_t {
    _private: [u8; 0],
}

impl Opaque for hat_event_client_names_t {
    type Inner = Vec<(Source, String)>;
}

type ClientNamesHook = unsafe extern "C" fn(*mut c_void, *mut hat_event_client_name_t, usize) -> usize;

fn client_names_hook(f: Option<ClientNamesHook>, user_data: UserData) -> Option<crate::engine::ClientNamesHook> {
    let f = f?;
    Some(Box::new(move || {
        let user_data = user_data;
        let empty = hat_event_client_name_t {
            source: hat_event_source_t { type_: 0, id: 0 },
            name: hat_event_str_t::EMPTY,
        };
        let mut buf = vec![empty; 16];
        loop {
            // SAFETY: the host's hook with its user_data and room for buf.len() entries.
            let n = unsafe { f(user_data.0, buf.as_mut_ptr(), buf.len()) };
            if n > buf.len() {
                buf.resize(n, empty);
                continue;
            }
            // Entries the host filled badly (unknown source type, bad UTF-8) are skipped.
            return buf[..n]
                .iter()
                // SAFETY: the names are readable until the hook's next call.
                .filter_map(|c| Some((source_arg(c.source).ok()?, unsafe { str_arg(c.name, "name") }.ok()?.to_owned())))
                .collect();
        }
    }))
}

/// `user_data` made `Send + Sync` by the documented contract.
#[derive(Clone, Copy)]
struct UserData(*mut c_void);
// SAFETY: the documented contract: the hooks may be called from any thread.
unsafe impl Send for UserData {}
// SAFETY: as above.
unsafe impl Sync for UserData {}

type EventsHook = unsafe extern "C" fn(*mut c_void, *const *const hat_event_event_t, usize);

fn events_hook(f: Option<EventsHook>, user_data: UserData) -> Option<crate::backend::EventsCallback> {
    let f = f?;
    Some(Box::new(move |events: &[Arc<Event>]| {
        let user_data = user_data;
        let ptrs = event_ptrs_of(events);
        // SAFETY: the host's callback with its user_data and events alive for the call.
        unsafe { f(user_data.0, ptrs.as_ptr(), ptrs.len()) }
    }))
}

fn plain_hook(f: Option<unsafe extern "C" fn(*mut c_void)>, user_data: UserData) -> Option<Box<dyn Fn() + Send + Sync>> {
    let f = f?;
    Some(Box::new(move || {
        let user_data = user_data;
        // SAFETY: the host's callback with its user_data.
        unsafe { f(user_data.0) }
    }))
}

/// Creates an engine from `conf`, JSON text shaped like hat's server
/// configuration: `{"server_id": 1, "backend": {"module": "memory"},
/// "modules": [{"module": "./libcounter.so", ...}, ...]}`. Each `module` is
/// a registered name or a path (see `hat_event_import_backend_info`); each
/// plug-in's configuration is validated against its schema, then it is
/// created (backend first, modules in order, on this thread); then the
/// `('event', '<server_id>', 'engine')` `"STARTED"` session is registered.
/// `hooks` may be NULL. The caller owns `*out`.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_UTF8`,
/// `HAT_EVENT_ERR_INVALID_JSON`, `HAT_EVENT_ERR_INVALID_ARGUMENT` (the
/// configuration's shape, or `hooks->struct_size`), `HAT_EVENT_ERR_IMPORT`,
/// `HAT_EVENT_ERR_SCHEMA` (the validator's message), `HAT_EVENT_ERR_PLUGIN`
/// (a plug-in's create or first calls failed). On failure everything
/// created so far is finalised.
#[no_mangle]
pub unsafe extern "C" fn hat_event_engine_create(
    conf: hat_event_str_t,
    hooks: *const hat_event_engine_hooks_t,
    out: *mut *mut hat_event_engine_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: a readable view, as documented.
        let text = unsafe { str_arg(conf, "conf") }?;
        let conf: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| FfiError::new(HAT_EVENT_ERR_INVALID_JSON, format!("conf is not JSON: {e}")))?;
        let mut engine_hooks = EngineHooks::default();
        // SAFETY: hooks is NULL or readable, as documented.
        if let Some(h) = unsafe { hooks.as_ref() } {
            if h.struct_size != std::mem::size_of::<hat_event_engine_hooks_t>() {
                return Err(FfiError::invalid(format!(
                    "hooks->struct_size is {}; expected sizeof(hat_event_engine_hooks_t) = {}",
                    h.struct_size,
                    std::mem::size_of::<hat_event_engine_hooks_t>()
                )));
            }
            let user_data = UserData(h.user_data);
            engine_hooks.registered = events_hook(h.registered, user_data);
            engine_hooks.flushed = events_hook(h.flushed, user_data);
            engine_hooks.restart = plain_hook(h.restart, user_data);
            engine_hooks.reset_monitor_ready = plain_hook(h.reset_monitor_ready, user_data);
            engine_hooks.client_names = client_names_hook(h.client_names, user_data);
        }
        let engine = Engine::create(&conf, &CResolver, engine_hooks)?;
        out.write(new_handle(EngineHandle::Owned(engine)));
        Ok(())
    })
}

/// Closes the engine (see `hat_event_engine_close`) and releases the host's
/// handle; NULL is ignored. Do not call it on a module's handle. Waits for
/// a running session.
#[no_mangle]
pub unsafe extern "C" fn hat_event_engine_destroy(engine: *mut hat_event_engine_t) {
    // SAFETY: an owned handle or NULL, not used again, as documented.
    guard_value((), || unsafe { free_handle(engine) })
}

/// Closes the engine: waits for a running session, registers the
/// `"STOPPED"` event straight to the backend, finalises the modules in
/// order, flushes and finalises the backend. Afterwards `register` and
/// `query` fail with `HAT_EVENT_ERR_CLOSED`; closing again returns
/// `HAT_EVENT_OK`. Only the host's handle can close.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_ARGUMENT`
/// (a module's handle), `HAT_EVENT_ERR_REENTRANT` (from inside a session),
/// `HAT_EVENT_ERR_PLUGIN` (the backend's register or flush failed; the
/// engine is closed all the same).
#[no_mangle]
pub unsafe extern "C" fn hat_event_engine_close(engine: *mut hat_event_engine_t) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: a live handle or NULL, as documented.
        match unsafe { handle_arg(engine, "engine") }? {
            EngineHandle::Owned(e) => Ok(e.close()?),
            EngineHandle::Ref(_) => Err(FfiError::invalid("a module's engine handle cannot close the engine")),
        }
    })
}

/// The configured server id (0 for a NULL handle or a closed engine seen by
/// a module).
#[no_mangle]
pub unsafe extern "C" fn hat_event_engine_server_id(engine: *const hat_event_engine_t) -> i64 {
    // SAFETY: a live handle or NULL, as documented.
    guard_value(0, || unsafe { handle_opt(engine) }.map_or(0, |h| h.engine_ref().server_id()))
}

fn source_arg(source: hat_event_source_t) -> FfiResult<Source> {
    let type_ = match source.type_ {
        1 => SourceType::Eventer,
        2 => SourceType::Module,
        3 => SourceType::Engine,
        4 => SourceType::Server,
        other => return Err(FfiError::invalid(format!("argument source has unknown type {other}"))),
    };
    Ok(Source { type_, id: source.id })
}

/// Registers `count` register events (borrowed) from `source` as one
/// session, processed by the modules and then stored by the backend; on
/// success `*out` (owned by the caller) holds the caller's events with
/// their ids and the session's timestamp, in order (the events modules
/// derive are registered too but not returned). `count` 0 opens no session
/// and gives an empty list. Thread-safe.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_ARGUMENT`
/// (unknown source type), `HAT_EVENT_ERR_PLUGIN` (a module or the backend
/// failed: nothing of the session is registered), `HAT_EVENT_ERR_CLOSED`,
/// `HAT_EVENT_ERR_REENTRANT` (called from a module slot or backend callback
/// while that session runs on this thread: it would deadlock).
#[no_mangle]
pub unsafe extern "C" fn hat_event_engine_register(
    engine: *const hat_event_engine_t,
    source: hat_event_source_t,
    events: *const *const hat_event_register_event_t,
    count: usize,
    out: *mut *mut hat_event_event_list_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: a live handle or NULL, as documented.
        let handle = unsafe { handle_arg(engine, "engine") }?;
        let source = source_arg(source)?;
        // SAFETY: events holds count live handles, as documented.
        let ptrs = unsafe { slice_arg(events, count, "events") }?;
        let register_events = ptrs
            .iter()
            .enumerate()
            // SAFETY: each is a live handle or NULL, as documented.
            .map(|(i, p)| unsafe { handle_arg(*p, "events") }.map_err(|e| e.at_index("events", i)))
            .collect::<FfiResult<Vec<&crate::event::RegisterEvent>>>()?;
        let registered = match handle {
            EngineHandle::Owned(e) => e.register(source, &register_events),
            EngineHandle::Ref(r) => r.register(source, &register_events),
        }?;
        out.write(new_handle(registered));
        Ok(())
    })
}

/// Queries the backend with `params` (borrowed); the caller owns `*out`.
/// Thread-safe; callable from module slots.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_PLUGIN` (the
/// backend failed), `HAT_EVENT_ERR_CLOSED`, `HAT_EVENT_ERR_REENTRANT` (from
/// a backend callback).
#[no_mangle]
pub unsafe extern "C" fn hat_event_engine_query(
    engine: *const hat_event_engine_t,
    params: *const hat_event_query_params_t,
    out: *mut *mut hat_event_query_result_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: live handles or NULL, as documented.
        let (handle, params) = unsafe { (handle_arg(engine, "engine")?, handle_arg(params, "params")?) };
        let result = match handle {
            EngineHandle::Owned(e) => e.query(params),
            EngineHandle::Ref(r) => r.query(params),
        }?;
        out.write(new_handle(result));
        Ok(())
    })
}

/// Asks the host to restart the engine: calls the host's `restart` hook
/// (hat's `Engine.restart`), if any, on this thread. For modules.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_engine_restart(engine: *const hat_event_engine_t) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: a live handle or NULL, as documented.
        unsafe { handle_arg(engine, "engine") }?.engine_ref().restart();
        Ok(())
    })
}

/// Asks the host to reset the monitor's ready flag: calls the host's
/// `reset_monitor_ready` hook, if any, on this thread. For modules.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_engine_reset_monitor_ready(engine: *const hat_event_engine_t) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: a live handle or NULL, as documented.
        unsafe { handle_arg(engine, "engine") }?.engine_ref().reset_monitor_ready();
        Ok(())
    })
}

/// The clients of the host's eventer server (hat's `get_client_names`),
/// from the host's `client_names` hook (empty without one). The caller owns
/// `*out`. For modules.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_engine_client_names(
    engine: *const hat_event_engine_t,
    out: *mut *mut hat_event_client_names_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: a live handle or NULL, as documented.
        let names = unsafe { handle_arg(engine, "engine") }?.engine_ref().client_names();
        out.write(new_handle(names));
        Ok(())
    })
}

/// The number of clients in `names` (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn hat_event_client_names_len(names: *const hat_event_client_names_t) -> usize {
    // SAFETY: a live handle or NULL, as documented.
    guard_value(0, || unsafe { handle_opt(names) }.map_or(0, Vec::len))
}

/// Client `index` of `names`: its source and its name, a view borrowed
/// from `names`; `{{0, 0}, {NULL, 0}}` if out of range or NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_client_names_get(
    names: *const hat_event_client_names_t,
    index: usize,
) -> hat_event_client_name_t {
    let none = hat_event_client_name_t { source: hat_event_source_t { type_: 0, id: 0 }, name: hat_event_str_t::EMPTY };
    guard_value(none, || {
        // SAFETY: a live handle or NULL, as documented.
        unsafe { handle_opt(names) }.and_then(|n| n.get(index)).map_or(none, |(source, name)| hat_event_client_name_t {
            source: hat_event_source_t { type_: source.type_ as u32, id: source.id },
            name: hat_event_str_t::from_str(name),
        })
    })
}

/// Releases a client name list; NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn hat_event_client_names_destroy(names: *mut hat_event_client_names_t) {
    // SAFETY: an owned handle or NULL, not used again, as documented.
    guard_value((), || unsafe { free_handle(names) })
}

/// The number of events in `list` (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_list_len(list: *const hat_event_event_list_t) -> usize {
    // SAFETY: a live handle or NULL, as documented.
    guard_value(0, || unsafe { handle_opt(list) }.map_or(0, Vec::len))
}

/// Event `index` of `list`, borrowed from it (NULL if out of range or
/// `list` is NULL).
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_list_get(list: *const hat_event_event_list_t, index: usize) -> *const hat_event_event_t {
    guard_value(std::ptr::null(), || {
        // SAFETY: a live handle or NULL, as documented.
        unsafe { handle_opt(list) }
            .and_then(|l| l.get(index))
            .map_or(std::ptr::null(), |e| super::boundary::borrowed_handle::<hat_event_event_t>(e))
    })
}

/// Releases an event list and its events; NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_list_destroy(list: *mut hat_event_event_list_t) {
    // SAFETY: an owned handle or NULL, not used again, as documented.
    guard_value((), || unsafe { free_handle(list) })
}
