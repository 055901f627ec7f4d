//! The engine in C: created by the host from JSON configuration, called by
//! the host and by the modules running in it.

use std::ffi::c_void;
use std::sync::Arc;

use super::backend::event_ptrs_of;
use super::registry::CResolver;
use crate::event::{Event, Source};
use crate::ffi::boundary::{
    free_handle, guard_status, guard_value, handle_arg, handle_opt, hat_event_finalize_user_data_t, hat_event_status_t,
    hat_event_str_t, new_handle, out_arg, slice_arg, str_arg, take_sized, Boxed, FfiError, FfiResult, GrowingStruct,
    Opaque, OwnedUserData, HAT_EVENT_ERR_CLOSED, HAT_EVENT_ERR_IMPORT, HAT_EVENT_ERR_INVALID_ARGUMENT,
    HAT_EVENT_ERR_INVALID_JSON, HAT_EVENT_ERR_PLUGIN, HAT_EVENT_ERR_REENTRANT, HAT_EVENT_ERR_SCHEMA,
};
use crate::ffi::event::{hat_event_event_t, hat_event_register_event_t, hat_event_source_t};
use crate::ffi::query::{hat_event_query_params_t, hat_event_query_result_t};
use crate::server::engine::{Engine, EngineHooks, EngineRef};
use crate::server::registry::PluginError;

impl From<PluginError> for FfiError {
    fn from(e: PluginError) -> FfiError {
        let status = match e {
            PluginError::Config(_) => HAT_EVENT_ERR_INVALID_ARGUMENT,
            PluginError::Import(_) => HAT_EVENT_ERR_IMPORT,
            PluginError::Schema { .. } | PluginError::UnusableSchema { .. } => HAT_EVENT_ERR_SCHEMA,
            PluginError::Failed(_) => HAT_EVENT_ERR_PLUGIN,
            PluginError::Closed => HAT_EVENT_ERR_CLOSED,
            PluginError::Reentrant(_) => HAT_EVENT_ERR_REENTRANT,
            PluginError::Host(_) => HAT_EVENT_ERR_INVALID_ARGUMENT,
        };
        FfiError::new(status, e.to_string())
    }
}

/// Which engine a handle speaks to: the host's own (which closes it when
/// destroyed, then releases the hooks' `user_data` if nothing else holds
/// it) or a module's view of it.
pub(crate) enum EngineHandle {
    /// The hooks' `user_data`, held for its `Drop` (after the engine's).
    Owned(Engine, #[allow(dead_code)] Arc<OwnedUserData>),
    Ref(EngineRef),
}

impl EngineHandle {
    fn engine_ref(&self) -> EngineRef {
        match self {
            EngineHandle::Owned(e, _) => e.as_ref(),
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
    type Ownership = Boxed;
}

/// An owned list of events (what `hat_event_engine_register` returns).
/// Release with `hat_event_event_list_destroy`.
pub struct hat_event_event_list_t {
    _private: [u8; 0],
}

impl Opaque for hat_event_event_list_t {
    type Inner = Vec<Arc<Event>>;
    type Ownership = Boxed;
}

/// The host's callbacks, all optional (NULL). Each gets `user_data` first.
/// `registered`/`flushed` receive the events the backend reports (borrowed
/// for the call), on whichever thread runs that backend call (a thread in
/// `hat_event_engine_register`, `_create` or `_close`), one call at a time;
/// the `lmdb` backend reports `flushed` from its own flush thread, after
/// the commit (still one call at a time with `registered`), and the engine
/// may be waiting for that thread then: that hook must not call the engine.
/// `restart`/`reset_monitor_ready` on the thread of the module asking (hat's
/// `restart_cb`/`reset_monitor_ready_cb`). None may call
/// `hat_event_engine_register` or `_query` of this engine on that thread
/// (they fail with `HAT_EVENT_ERR_REENTRANT`).
///
/// Fill it with `hat_event_engine_hooks_init` first. `user_data` belongs to
/// the engine from the call to `hat_event_engine_create` that receives the
/// hooks: `finalize_user_data`, if set, runs exactly once, after the last
/// hook has returned: when that call fails, before it returns; otherwise
/// when `hat_event_engine_destroy` returns at the latest. Not finalised,
/// because not read: hooks whose `struct_size` is below the first released
/// layout (the caller keeps `user_data` then); hooks refused for a larger
/// `struct_size` are finalised.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct hat_event_engine_hooks_t {
    /// `sizeof(hat_event_engine_hooks_t)` as the caller was compiled (set by
    /// `hat_event_engine_hooks_init`). The struct grows by appending slots:
    /// the size of an older released layout reads only the slots it has (the
    /// later ones are absent: 0.1's has no `finalize_user_data`); a size
    /// below 0.1's, or above this header's, is refused.
    pub struct_size: usize,
    /// Passed first to every hook.
    pub user_data: *mut c_void,
    /// The backend registered these events.
    pub registered:
        Option<unsafe extern "C" fn(user_data: *mut c_void, events: *const *const hat_event_event_t, count: usize)>,
    /// The backend made these events durable.
    pub flushed:
        Option<unsafe extern "C" fn(user_data: *mut c_void, events: *const *const hat_event_event_t, count: usize)>,
    /// A module asks for an engine restart.
    pub restart: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
    /// A module asks to reset the monitor's ready flag.
    pub reset_monitor_ready: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
    /// A module asks for the names of the clients of the host's eventer
    /// server (hat's `get_client_names`): write up to `capacity` of them to
    /// `out` (names borrowed until the hook returns) and return how many
    /// there are in all; the engine calls again with room for all when
    /// `capacity` was too small, at most `HAT_EVENT_CLIENT_NAMES_CALLS`
    /// calls in all. NULL: no clients.
    /// The engine refuses the answer, and `hat_event_engine_get_client_names`
    /// fails with `HAT_EVENT_ERR_INVALID_ARGUMENT` naming the cause, if the
    /// hook returns more than `HAT_EVENT_CLIENT_NAMES_MAX`, still asks for
    /// more room on its last call, or fills an entry with an unknown source
    /// type or a name that is not a valid view (NULL with a non-zero length,
    /// or not UTF-8; `{NULL, 0}` is the empty name, as everywhere). No
    /// entry is ever dropped silently.
    pub client_names: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            out: *mut hat_event_engine_client_name_t,
            capacity: usize,
        ) -> usize,
    >,
    /// Optional: releases `user_data` (see above). Not in 0.1's layout.
    pub finalize_user_data: hat_event_finalize_user_data_t,
}

const _: () = assert!(std::mem::offset_of!(hat_event_engine_hooks_t, struct_size) == 0, "take_sized reads it first");

// SAFETY: every field is an integer, a raw pointer or an Option of a function.
unsafe impl GrowingStruct for hat_event_engine_hooks_t {
    const NAME: &'static str = "hat_event_engine_hooks_t";
    /// 0.1's layout ended with `client_names`.
    const LAYOUTS: &'static [usize] = &[
        std::mem::offset_of!(hat_event_engine_hooks_t, finalize_user_data),
        std::mem::size_of::<hat_event_engine_hooks_t>(),
    ];
}

/// Fills `*hooks` for this header: `struct_size` set, every other field
/// NULL. Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_engine_hooks_init(hooks: *mut hat_event_engine_hooks_t) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: NULL or writable, as documented.
        let out = unsafe { out_arg(hooks, "hooks") }?;
        out.write(hat_event_engine_hooks_t {
            struct_size: std::mem::size_of::<hat_event_engine_hooks_t>(),
            user_data: std::ptr::null_mut(),
            registered: None,
            flushed: None,
            restart: None,
            reset_monitor_ready: None,
            client_names: None,
            finalize_user_data: None,
        });
        Ok(())
    })
}

/// One client of an eventer server: its source and its name (a view).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct hat_event_engine_client_name_t {
    pub source: hat_event_source_t,
    pub name: hat_event_str_t,
}

/// An owned list of (source, client name) pairs. Release with
/// `hat_event_engine_client_names_destroy`.
pub struct hat_event_engine_client_names_t {
    _private: [u8; 0],
}

impl Opaque for hat_event_engine_client_names_t {
    type Inner = Vec<(Source, String)>;
    type Ownership = Boxed;
}

/// The most clients a `client_names` hook may report (a larger count is
/// refused, never allocated for).
pub const HAT_EVENT_CLIENT_NAMES_MAX: usize = 65536;

/// The most calls the engine makes to a `client_names` hook for one answer
/// (the first with room for 16, then with room for the count reported).
pub const HAT_EVENT_CLIENT_NAMES_CALLS: usize = 4;

type ClientNamesHook = unsafe extern "C" fn(*mut c_void, *mut hat_event_engine_client_name_t, usize) -> usize;

fn client_names_hook(
    f: Option<ClientNamesHook>,
    user_data: &Arc<OwnedUserData>,
) -> Option<crate::server::engine::ClientNamesHook> {
    let f = f?;
    let user_data = user_data.clone();
    Some(Box::new(move || {
        // SAFETY: the host's hook and its user_data, as documented.
        unsafe { call_client_names(f, user_data.ptr()) }
    }))
}

fn host_error(message: String) -> PluginError {
    PluginError::Host(format!("the host's client_names hook {message}"))
}

/// Asks the host's hook for its clients: a bounded number of calls, a
/// bounded allocation, every entry checked.
///
/// # Safety
/// `f` is the host's hook, callable with `user_data`; the names it writes
/// are readable until it is called again.
unsafe fn call_client_names(f: ClientNamesHook, user_data: *mut c_void) -> Result<Vec<(Source, String)>, PluginError> {
    let empty = hat_event_engine_client_name_t {
        source: hat_event_source_t { r#type: 0, id: 0 },
        name: hat_event_str_t::EMPTY,
    };
    let mut buf = vec![empty; 16];
    let (mut asked, mut offered) = (0, 0);
    for _ in 0..HAT_EVENT_CLIENT_NAMES_CALLS {
        offered = buf.len();
        // SAFETY: the host's hook with its user_data and room for buf.len() entries.
        let n = unsafe { f(user_data, buf.as_mut_ptr(), buf.len()) };
        if n > HAT_EVENT_CLIENT_NAMES_MAX {
            return Err(host_error(format!(
                "reported {n} clients; at most HAT_EVENT_CLIENT_NAMES_MAX = {HAT_EVENT_CLIENT_NAMES_MAX} are accepted"
            )));
        }
        if n <= buf.len() {
            return buf[..n]
                .iter()
                .enumerate()
                // SAFETY: the names are readable until the hook's next call.
                .map(|(i, c)| unsafe { client_name_entry(c, i) })
                .collect();
        }
        asked = n;
        buf.try_reserve_exact(n - buf.len())
            .map_err(|_| host_error(format!("reported {n} clients; there is no memory for them")))?;
        buf.resize(n, empty);
    }
    Err(host_error(format!(
        "still asked for more room after {HAT_EVENT_CLIENT_NAMES_CALLS} calls (last: {asked} clients for a capacity of {offered})"
    )))
}

/// One entry the host's hook wrote, checked.
///
/// # Safety
/// The entry's name view is readable, if it is a valid view.
unsafe fn client_name_entry(c: &hat_event_engine_client_name_t, index: usize) -> Result<(Source, String), PluginError> {
    let entry = |e: FfiError| host_error(format!("wrote an unusable out[{index}]: {}", e.message));
    let source = source_arg(c.source).map_err(entry)?;
    // SAFETY: forwarded from the caller.
    let name = unsafe { str_arg(c.name, "name") }.map_err(entry)?;
    Ok((source, name.to_owned()))
}

/// The C type of a `registered`/`flushed` hook.
pub(super) type EventsHook = unsafe extern "C" fn(*mut c_void, *const *const hat_event_event_t, usize);

/// A host's `registered`/`flushed` hook as a core callback, holding its `user_data`.
pub(super) fn events_hook(
    f: Option<EventsHook>,
    user_data: &Arc<OwnedUserData>,
) -> Option<crate::server::backend::EventsCallback> {
    let f = f?;
    let user_data = user_data.clone();
    Some(Box::new(move |events: &[Arc<Event>]| {
        let ptrs = event_ptrs_of(events);
        // SAFETY: the host's callback with its user_data and events alive for the call.
        unsafe { f(user_data.ptr(), ptrs.as_ptr(), ptrs.len()) }
    }))
}

fn plain_hook(
    f: Option<unsafe extern "C" fn(*mut c_void)>,
    user_data: &Arc<OwnedUserData>,
) -> Option<Box<dyn Fn() + Send + Sync>> {
    let f = f?;
    let user_data = user_data.clone();
    Some(Box::new(move || {
        // SAFETY: the host's callback with its user_data.
        unsafe { f(user_data.ptr()) }
    }))
}

/// Creates an engine from `conf`, JSON text shaped like hat's server
/// configuration: `{"server_id": 1, "backend": {"module": "memory"},
/// "modules": [{"module": "./libcounter.so", ...}, ...]}`. Each `module` is
/// a registered name or a path (see `hat_event_import_backend_info`); each
/// plug-in's configuration is validated against its schema, then it is
/// created (backend first, modules in order, on this thread); then the
/// `('event', '<server_id>', 'engine')` `"STARTED"` session is registered.
/// `hooks` may be NULL; the engine takes ownership of `hooks->user_data`
/// here, on failure too (see `hat_event_engine_hooks_t`). The caller owns
/// `*out`.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_UTF8`,
/// `HAT_EVENT_ERR_INVALID_JSON`, `HAT_EVENT_ERR_INVALID_ARGUMENT` (the
/// configuration's shape, or a refused `hooks->struct_size`), `HAT_EVENT_ERR_IMPORT`
/// (also for a library named by path whose schema is not JSON or cannot
/// validate), `HAT_EVENT_ERR_SCHEMA` (the validator's message), `HAT_EVENT_ERR_PLUGIN`
/// (a plug-in's create or first calls failed). On failure everything
/// created so far is finalised.
#[no_mangle]
pub unsafe extern "C" fn hat_event_engine_create(
    conf: hat_event_str_t,
    hooks: *const hat_event_engine_hooks_t,
    out: *mut *mut hat_event_engine_t,
) -> hat_event_status_t {
    guard_status(|| {
        // The hooks first: from a successful read on, their user_data is
        // the engine's, and every failure below finalises it.
        // SAFETY: NULL, or hooks readable up to their struct_size, the first field (asserted below).
        let (h, user_data) = unsafe { take_sized(hooks, "hooks->", |h| (h.user_data, h.finalize_user_data)) }?;
        let user_data = Arc::new(user_data);
        let mut engine_hooks = EngineHooks::default();
        if let Some(h) = h {
            engine_hooks.registered = events_hook(h.registered, &user_data);
            engine_hooks.flushed = events_hook(h.flushed, &user_data);
            engine_hooks.restart = plain_hook(h.restart, &user_data);
            engine_hooks.reset_monitor_ready = plain_hook(h.reset_monitor_ready, &user_data);
            engine_hooks.client_names = client_names_hook(h.client_names, &user_data);
        }
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: a readable view, as documented.
        let text = unsafe { str_arg(conf, "conf") }?;
        let conf: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| FfiError::new(HAT_EVENT_ERR_INVALID_JSON, format!("conf is not JSON: {e}")))?;
        let engine = Engine::create(&conf, &CResolver, engine_hooks)?;
        out.write(new_handle(EngineHandle::Owned(engine, user_data)));
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
/// The engine counts as closed from the moment close begins: a `register`
/// racing it on another thread fails with `HAT_EVENT_ERR_CLOSED`, while a
/// `query` is still answered until the backend is finalised.
/// Flushing: this is the only time the engine calls the backend's `flush`
/// slot. A backend that must make events durable sooner (hat's backends
/// flush on a period of their own) flushes on its own schedule and reports
/// it through the host's `flushed` callback.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_ARGUMENT`
/// (a module's handle), `HAT_EVENT_ERR_REENTRANT` (from inside a session),
/// `HAT_EVENT_ERR_PLUGIN` (the backend's register or flush failed; the
/// engine is closed all the same).
#[no_mangle]
pub unsafe extern "C" fn hat_event_engine_close(engine: *mut hat_event_engine_t) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: a live handle or NULL, as documented.
        match unsafe { handle_arg(engine, "engine") }? {
            EngineHandle::Owned(e, _) => Ok(e.close()?),
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
    Source::try_from(source).map_err(|other| FfiError::invalid(format!("argument source has unknown type {other}")))
}

/// Registers (the verb: hat's `register`) `count` register events (the
/// noun: `hat_event_register_event_t`, borrowed) from `source` as one
/// session, processed by the modules and then stored by the backend; on
/// success `*out` (owned by the caller) holds the caller's events with
/// their ids and the session's timestamp, in order (the events modules
/// derive are registered too but not returned). `count` 0 opens no session
/// and gives an empty list. Thread-safe. A session that fails still uses
/// up its session number (as in hat's engine): the next one is numbered
/// one higher, so session ids in the backend can have gaps.
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
            EngineHandle::Owned(e, _) => e.register(source, &register_events),
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
            EngineHandle::Owned(e, _) => e.query(params),
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
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`; `HAT_EVENT_ERR_INVALID_ARGUMENT`
/// when the host's hook answers something unusable (see
/// `hat_event_engine_hooks_t.client_names`; the message says what).
#[no_mangle]
pub unsafe extern "C" fn hat_event_engine_get_client_names(
    engine: *const hat_event_engine_t,
    out: *mut *mut hat_event_engine_client_names_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: a live handle or NULL, as documented.
        let names = unsafe { handle_arg(engine, "engine") }?.engine_ref().client_names()?;
        out.write(new_handle(names));
        Ok(())
    })
}

/// The number of clients in `names` (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn hat_event_engine_client_names_len(names: *const hat_event_engine_client_names_t) -> usize {
    // SAFETY: a live handle or NULL, as documented.
    guard_value(0, || unsafe { handle_opt(names) }.map_or(0, Vec::len))
}

/// Client `index` of `names`: its source and its name, a view borrowed
/// from `names`; `{{0, 0}, {NULL, 0}}` if out of range or NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_engine_client_names_get(
    names: *const hat_event_engine_client_names_t,
    index: usize,
) -> hat_event_engine_client_name_t {
    let none = hat_event_engine_client_name_t {
        source: hat_event_source_t { r#type: 0, id: 0 },
        name: hat_event_str_t::EMPTY,
    };
    guard_value(none, || {
        // SAFETY: a live handle or NULL, as documented.
        unsafe { handle_opt(names) }.and_then(|n| n.get(index)).map_or(none, |(source, name)| {
            hat_event_engine_client_name_t { source: (*source).into(), name: hat_event_str_t::from_str(name) }
        })
    })
}

/// Releases a client name list; NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn hat_event_engine_client_names_destroy(names: *mut hat_event_engine_client_names_t) {
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
pub unsafe extern "C" fn hat_event_event_list_get(
    list: *const hat_event_event_list_t,
    index: usize,
) -> *const hat_event_event_t {
    guard_value(std::ptr::null(), || {
        // SAFETY: a live handle or NULL, as documented.
        unsafe { handle_opt(list) }
            .and_then(|l| l.get(index))
            .map_or(std::ptr::null(), crate::ffi::boundary::borrowed_shared::<hat_event_event_t>)
    })
}

/// Releases an event list and its events; NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_list_destroy(list: *mut hat_event_event_list_t) {
    // SAFETY: an owned handle or NULL, not used again, as documented.
    guard_value((), || unsafe { free_handle(list) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// What a test hook does: how many clients it reports for a capacity,
    /// and the name it writes into each entry it fills.
    struct Script {
        calls: AtomicUsize,
        report: fn(usize) -> usize,
        name: hat_event_str_t,
    }

    unsafe extern "C" fn scripted(
        user_data: *mut c_void,
        out: *mut hat_event_engine_client_name_t,
        capacity: usize,
    ) -> usize {
        // SAFETY: the tests pass a live Script.
        let script = unsafe { &*(user_data as *const Script) };
        script.calls.fetch_add(1, Ordering::Relaxed);
        let n = (script.report)(capacity);
        for i in 0..n.min(capacity) {
            // SAFETY: the engine gives room for `capacity` entries.
            unsafe {
                out.add(i).write(hat_event_engine_client_name_t {
                    source: hat_event_source_t { r#type: 1, id: i as i64 },
                    name: script.name,
                })
            };
        }
        n
    }

    fn run(report: fn(usize) -> usize, name: &'static [u8]) -> (Result<Vec<(Source, String)>, PluginError>, usize) {
        let script = Script {
            calls: AtomicUsize::new(0),
            report,
            name: hat_event_str_t { ptr: name.as_ptr().cast(), len: name.len() },
        };
        // SAFETY: a hook that writes at most `capacity` entries of a static name.
        let result = unsafe { call_client_names(scripted, &script as *const Script as *mut c_void) };
        (result, script.calls.load(Ordering::Relaxed))
    }

    #[test]
    fn a_hook_asking_for_more_room_is_called_again_with_room_for_all() {
        let (names, calls) = run(|_| 20, b"c");
        let names = names.unwrap();
        assert_eq!((names.len(), calls), (20, 2));
        assert_eq!(names[19], (Source { type_: crate::event::SourceType::Eventer, id: 19 }, "c".to_string()));
    }

    #[test]
    fn a_hook_that_never_settles_is_called_a_bounded_number_of_times() {
        let (names, calls) = run(|capacity| capacity + 1, b"c");
        let e = names.unwrap_err();
        assert_eq!(calls, HAT_EVENT_CLIENT_NAMES_CALLS);
        assert!(e.to_string().contains("still asked for more room after 4 calls"), "{e}");
        assert_eq!(FfiError::from(e).status, HAT_EVENT_ERR_INVALID_ARGUMENT);
    }

    #[test]
    fn an_absurd_count_is_refused_before_any_allocation() {
        let (names, calls) = run(|_| 1 << 40, b"c");
        let e = names.unwrap_err().to_string();
        assert_eq!(calls, 1);
        assert!(e.contains("reported 1099511627776 clients; at most HAT_EVENT_CLIENT_NAMES_MAX = 65536"), "{e}");
        let (names, _) = run(|_| usize::MAX, b"c");
        assert!(names.is_err());
        let (names, _) = run(|_| HAT_EVENT_CLIENT_NAMES_MAX, b"c");
        assert_eq!(names.unwrap().len(), HAT_EVENT_CLIENT_NAMES_MAX);
    }

    #[test]
    fn entries_with_unusable_names_are_refused_not_dropped() {
        let (names, _) = run(|_| 3, b"ok\xff");
        let e = names.unwrap_err().to_string();
        assert!(e.contains("out[0]") && e.contains("not valid UTF-8"), "{e}");

        let script = Script {
            calls: AtomicUsize::new(0),
            report: |_| 2,
            name: hat_event_str_t { ptr: std::ptr::null(), len: 4 },
        };
        // SAFETY: as in run.
        let e =
            unsafe { call_client_names(scripted, &script as *const Script as *mut c_void) }.unwrap_err().to_string();
        assert!(e.contains("out[0]") && e.contains("NULL"), "{e}");

        // {NULL, 0} is the empty name, as everywhere in the API
        let script = Script { calls: AtomicUsize::new(0), report: |_| 1, name: hat_event_str_t::EMPTY };
        // SAFETY: as in run.
        let names = unsafe { call_client_names(scripted, &script as *const Script as *mut c_void) }.unwrap();
        assert_eq!(names[0].1, "");
    }
}
