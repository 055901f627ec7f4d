//! Backend instances in C: any registered backend (built-in or C plug-in)
//! created and driven directly, without an engine, as hat's Python API
//! allows (`info.create(conf, registered_events_cb, flushed_events_cb)`,
//! then `register`, `query`, `get_last_event_id`, `flush`, `async_close`).
//! The caller chooses the events' ids: nothing is assigned here.

use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::engine::events_hook;
use super::registry::CResolver;
use crate::ffi::boundary::{
    free_handle, guard_status, guard_value, handle_arg, hat_event_finalize_user_data_t, hat_event_status_t,
    hat_event_str_t, new_handle, out_arg, shared_arcs_arg, str_arg, take_sized, Boxed, FfiError, GrowingStruct, Opaque,
    OwnedUserData, HAT_EVENT_ERR_INVALID_JSON,
};
use crate::ffi::event::{hat_event_event_id_t, hat_event_event_t};
use crate::ffi::query::{hat_event_query_params_t, hat_event_query_result_t};
use crate::server::backend::{Backend, BackendCallbacks};
use crate::server::registry::{validate_conf, PluginError, Resolver};

const REENTRANT: &str =
    "backend instance called from inside one of its own callbacks on the same thread; it would deadlock";

thread_local! {
    /// This thread's token for [`Instance::lock`] (0 is nobody).
    static THREAD_TOKEN: u64 = {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        NEXT.fetch_add(1, Ordering::Relaxed)
    };
}

/// A backend behind a mutex that knows which thread holds it, so that a
/// call from one of the backend's callbacks on that thread fails with
/// `HAT_EVENT_ERR_REENTRANT` instead of deadlocking. `None` once closed.
pub(crate) struct Instance {
    backend: Mutex<Option<Box<dyn Backend>>>,
    owner: AtomicU64,
    /// The callbacks' `user_data`, released after the backend (field order).
    _user_data: Arc<OwnedUserData>,
}

/// The backend's lock, marked as held by this thread until dropped (also
/// when a backend call panics: the next call is not taken for re-entrant).
struct Held<'a> {
    guard: MutexGuard<'a, Option<Box<dyn Backend>>>,
    owner: &'a AtomicU64,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.owner.store(0, Ordering::Relaxed);
    }
}

impl Instance {
    fn lock(&self) -> Result<Held<'_>, PluginError> {
        let me = THREAD_TOKEN.with(|t| *t);
        if self.owner.load(Ordering::Relaxed) == me {
            return Err(PluginError::Reentrant(REENTRANT.into()));
        }
        let guard = self.backend.lock().unwrap_or_else(|e| e.into_inner());
        self.owner.store(me, Ordering::Relaxed);
        Ok(Held { guard, owner: &self.owner })
    }

    /// Runs `f` on the open backend, one call at a time.
    fn with<T>(&self, f: impl FnOnce(&mut dyn Backend) -> Result<T, PluginError>) -> Result<T, PluginError> {
        let mut held = self.lock()?;
        match held.guard.as_mut() {
            Some(backend) => f(backend.as_mut()),
            None => Err(PluginError::Closed),
        }
    }

    /// Flushes and finalises the backend; later calls fail with
    /// [`PluginError::Closed`], closing again does nothing.
    fn close(&self) -> Result<(), PluginError> {
        let mut held = self.lock()?;
        match held.guard.take() {
            Some(mut backend) => {
                let flushed = backend.flush();
                // The backend is finalised here, with the lock held: its
                // last callbacks cannot race a new call.
                drop(backend);
                flushed
            }
            None => Ok(()),
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// A backend created directly by the host (see
/// `hat_event_backend_instance_create`), with no engine in front of it.
/// Thread-safe: any thread may call it; calls are serialised (one at a
/// time, the others wait). Created by `hat_event_backend_instance_create`,
/// released by `hat_event_backend_instance_destroy`.
pub struct hat_event_backend_instance_t {
    _private: [u8; 0],
}

impl Opaque for hat_event_backend_instance_t {
    type Inner = Instance;
    type Ownership = Boxed;
}

/// The host's callbacks for a backend instance (hat's `registered_events_cb`
/// and `flushed_events_cb`), both optional (NULL). Each gets `user_data`
/// first and the events the backend reports, borrowed for the call (take a
/// count with `hat_event_event_clone` to keep one). `registered` runs on
/// the thread of the `hat_event_backend_instance_register` call that stores
/// them; `flushed` runs on whichever thread makes them durable: for the
/// `lmdb` backend its own flush thread, and the instance may be waiting for
/// that thread then (in `_flush`, `_close` or `_destroy`): that callback
/// must not call the instance. A callback that calls its instance on the
/// thread running it gets `HAT_EVENT_ERR_REENTRANT`.
///
/// Fill it with `hat_event_backend_instance_hooks_init` first. `user_data`
/// belongs to the instance from the call to
/// `hat_event_backend_instance_create` that receives the hooks:
/// `finalize_user_data`, if set, runs exactly once, after the last callback
/// has returned: when that call fails, before it returns; otherwise when
/// `hat_event_backend_instance_destroy` returns at the latest. Hooks whose
/// `struct_size` is not this header's size are refused (and, when larger,
/// finalised).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct hat_event_backend_instance_hooks_t {
    /// `sizeof(hat_event_backend_instance_hooks_t)` as the caller was
    /// compiled (set by `hat_event_backend_instance_hooks_init`). The
    /// struct grows by appending slots, as `hat_event_engine_hooks_t`.
    pub struct_size: usize,
    /// Passed first to every callback.
    pub user_data: *mut c_void,
    /// The backend registered these events.
    pub registered:
        Option<unsafe extern "C" fn(user_data: *mut c_void, events: *const *const hat_event_event_t, count: usize)>,
    /// The backend made these events durable.
    pub flushed:
        Option<unsafe extern "C" fn(user_data: *mut c_void, events: *const *const hat_event_event_t, count: usize)>,
    /// Optional: releases `user_data` (see above).
    pub finalize_user_data: hat_event_finalize_user_data_t,
}

const _: () =
    assert!(std::mem::offset_of!(hat_event_backend_instance_hooks_t, struct_size) == 0, "take_sized reads it first");

// SAFETY: every field is an integer, a raw pointer or an Option of a function.
unsafe impl GrowingStruct for hat_event_backend_instance_hooks_t {
    const NAME: &'static str = "hat_event_backend_instance_hooks_t";
    const LAYOUTS: &'static [usize] = &[std::mem::size_of::<hat_event_backend_instance_hooks_t>()];
}

/// Fills `*hooks` for this header: `struct_size` set, every other field
/// NULL. Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_backend_instance_hooks_init(
    hooks: *mut hat_event_backend_instance_hooks_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: NULL or writable, as documented.
        let out = unsafe { out_arg(hooks, "hooks") }?;
        out.write(hat_event_backend_instance_hooks_t {
            struct_size: std::mem::size_of::<hat_event_backend_instance_hooks_t>(),
            user_data: std::ptr::null_mut(),
            registered: None,
            flushed: None,
            finalize_user_data: None,
        });
        Ok(())
    })
}

/// Creates the backend registered as `name` (`"memory"`, `"lmdb"`, hat's
/// module names of both, a C plug-in's registered name, or a shared
/// library's path, as an engine configuration's `"module"`) from `conf`,
/// the JSON text of its configuration: what an engine configuration has as
/// `"backend"`, given to the backend as the engine gives it, so an object
/// without a `"module"` member gets `"module": name` added (a `"module"`
/// member present is left as it is, and not read). `conf` is validated
/// against the backend's JSON schema first, as the engine does.
/// `hooks` may be NULL; the instance takes ownership of `hooks->user_data`
/// here, on failure too (see `hat_event_backend_instance_hooks_t`). The
/// caller owns `*out` (release it with `hat_event_backend_instance_destroy`).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_UTF8`,
/// `HAT_EVENT_ERR_INVALID_JSON`, `HAT_EVENT_ERR_INVALID_ARGUMENT` (a
/// refused `hooks->struct_size`), `HAT_EVENT_ERR_IMPORT` (no backend of
/// that name), `HAT_EVENT_ERR_SCHEMA` (the validator's message),
/// `HAT_EVENT_ERR_PLUGIN` (the backend's create failed).
#[no_mangle]
pub unsafe extern "C" fn hat_event_backend_instance_create(
    name: hat_event_str_t,
    conf: hat_event_str_t,
    hooks: *const hat_event_backend_instance_hooks_t,
    out: *mut *mut hat_event_backend_instance_t,
) -> hat_event_status_t {
    guard_status(|| {
        // The hooks first: from a successful read on, their user_data is
        // the instance's, and every failure below finalises it.
        // SAFETY: NULL, or hooks readable up to their struct_size, the first field (asserted below).
        let (h, user_data) = unsafe { take_sized(hooks, "hooks->", |h| (h.user_data, h.finalize_user_data)) }?;
        let user_data = Arc::new(user_data);
        let mut callbacks = BackendCallbacks::default();
        if let Some(h) = h {
            callbacks.registered = events_hook(h.registered, &user_data);
            callbacks.flushed = events_hook(h.flushed, &user_data);
        }
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: readable views, as documented.
        let (name, text) = unsafe { (str_arg(name, "name")?, str_arg(conf, "conf")?) };
        let mut conf: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| FfiError::new(HAT_EVENT_ERR_INVALID_JSON, format!("conf is not JSON: {e}")))?;
        if let Some(object) = conf.as_object_mut() {
            object.entry("module").or_insert_with(|| name.into());
        }
        let info = CResolver.backend_info(name)?;
        if let Some(schema) = &info.schema {
            validate_conf(schema, &conf)?;
        }
        let backend = (info.create)(&conf, callbacks)?;
        out.write(new_handle(Instance {
            backend: Mutex::new(Some(backend)),
            owner: AtomicU64::new(0),
            _user_data: user_data,
        }));
        Ok(())
    })
}

/// The greatest event id of `server_id` the backend holds (hat's
/// `get_last_event_id`), `{server_id, 0, 0}` if none, in `*out`.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_PLUGIN` (the
/// backend failed), `HAT_EVENT_ERR_CLOSED`, `HAT_EVENT_ERR_REENTRANT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_backend_instance_get_last_event_id(
    instance: *const hat_event_backend_instance_t,
    server_id: i64,
    out: *mut hat_event_event_id_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: a live handle or NULL, as documented.
        let instance = unsafe { handle_arg(instance, "instance") }?;
        let id = instance.with(|b| b.get_last_event_id(server_id))?;
        out.write(id.into());
        Ok(())
    })
}

/// Stores `count` events (borrowed handles; the backend keeps its own
/// counts), as they are: ids, timestamps and all are the caller's (hat's
/// `register`; the engine gives one call the events of one session, in id
/// order, and backends may rely on that). The `registered` callback runs
/// before this returns. `count` 0 is passed on as an empty call.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT` (also a NULL element, naming its
/// index), `HAT_EVENT_ERR_PLUGIN` (the backend failed), `HAT_EVENT_ERR_CLOSED`,
/// `HAT_EVENT_ERR_REENTRANT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_backend_instance_register(
    instance: *const hat_event_backend_instance_t,
    events: *const *const hat_event_event_t,
    count: usize,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: a live handle or NULL, as documented.
        let instance = unsafe { handle_arg(instance, "instance") }?;
        // SAFETY: events holds count live handles, as documented.
        let events = unsafe { shared_arcs_arg(events, count, "events") }?;
        Ok(instance.with(|b| b.register(&events))?)
    })
}

/// Queries the backend with `params` (borrowed); the caller owns `*out`.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_PLUGIN` (the
/// backend failed), `HAT_EVENT_ERR_CLOSED`, `HAT_EVENT_ERR_REENTRANT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_backend_instance_query(
    instance: *const hat_event_backend_instance_t,
    params: *const hat_event_query_params_t,
    out: *mut *mut hat_event_query_result_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: live handles or NULL, as documented.
        let (instance, params) = unsafe { (handle_arg(instance, "instance")?, handle_arg(params, "params")?) };
        let result = instance.with(|b| b.query(params))?;
        out.write(new_handle(result));
        Ok(())
    })
}

/// Makes everything registered so far durable (hat's `flush`); the
/// `flushed` callback reports what it wrote.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_PLUGIN` (the
/// backend failed), `HAT_EVENT_ERR_CLOSED`, `HAT_EVENT_ERR_REENTRANT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_backend_instance_flush(
    instance: *const hat_event_backend_instance_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: a live handle or NULL, as documented.
        let instance = unsafe { handle_arg(instance, "instance") }?;
        Ok(instance.with(|b| b.flush())?)
    })
}

/// Closes the instance (hat's `async_close`), as an engine closes its
/// backend: waits for a running call, flushes, then finalises the backend
/// (for `lmdb`: stops its threads and closes the environment). Afterwards
/// every call but `_destroy` fails with `HAT_EVENT_ERR_CLOSED`; closing
/// again returns `HAT_EVENT_OK`. The callbacks' `user_data` is finalised by
/// `_destroy`, not here.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_REENTRANT` (from a
/// callback), `HAT_EVENT_ERR_PLUGIN` (the flush failed; the backend is
/// finalised all the same).
#[no_mangle]
pub unsafe extern "C" fn hat_event_backend_instance_close(
    instance: *const hat_event_backend_instance_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: a live handle or NULL, as documented.
        let instance = unsafe { handle_arg(instance, "instance") }?;
        Ok(instance.close()?)
    })
}

/// Closes the instance if it is open (see `_close`; a flush failure is
/// not reported: close first to see it), finalises the callbacks'
/// `user_data` and releases the handle; NULL is ignored. Must not be called
/// from the instance's own callbacks, nor while another thread uses the
/// handle.
#[no_mangle]
pub unsafe extern "C" fn hat_event_backend_instance_destroy(instance: *mut hat_event_backend_instance_t) {
    // SAFETY: an owned handle or NULL, not used again, as documented.
    guard_value((), || unsafe { free_handle(instance) })
}
