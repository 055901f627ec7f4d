//! Backends in C (`server/backend.rs`): the vtable a C backend fills, the
//! host side it reports to, and `CBackend`, the adapter that makes a C
//! backend a core [`Backend`] (the only one: no Rust backend is exposed as
//! a C vtable).

use std::ffi::c_void;
use std::sync::Arc;

use super::registry::{check, clear_plugin_error};
use crate::event::{Event, EventId, ServerId};
use crate::ffi::boundary::{
    borrowed_handle, borrowed_shared, guard_status, handle_arg, hat_event_status_t, hat_event_str_t, shared_arcs_arg,
    Boxed, GrowingStruct, Opaque, OwnedUserData,
};
use crate::ffi::event::{hat_event_event_id_t, hat_event_event_t};
use crate::ffi::query::{hat_event_query_params_t, hat_event_query_result_t};
use crate::query::{QueryParams, QueryResult};
use crate::server::backend::{Backend, BackendCallbacks};
use crate::server::registry::PluginError;

/// The host side of a backend, given to the backend's create: the
/// registered/flushed callbacks. Valid until the backend's `finalize`
/// returns; thread-safe (call it from any thread).
pub struct hat_event_backend_host_t {
    _private: [u8; 0],
}

impl Opaque for hat_event_backend_host_t {
    type Inner = BackendCallbacks;
    type Ownership = Boxed;
}

/// A backend instance: its slots, filled by the backend's create.
///
/// Every slot takes `instance` first. The engine calls the slots one at a
/// time (never concurrently), from whichever host thread is registering or
/// querying. Borrowed arguments are valid for the call only. A slot returns
/// `HAT_EVENT_OK` or a failure status (call `hat_event_plugin_set_error`
/// first to give the message): a failure fails the host's call that caused
/// it (engine creation, `register`, `query`, `close`) with
/// `HAT_EVENT_ERR_PLUGIN` and that message; the engine stays usable.
/// Backend slots must not call back into the engine (`register` and
/// `query` fail there with `HAT_EVENT_ERR_REENTRANT`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct hat_event_backend_t {
    /// `sizeof(hat_event_backend_t)` as the plug-in was compiled. The
    /// struct grows by appending slots: a smaller size of a released layout
    /// reads only the slots it has (the later ones are absent); a size below
    /// the first released layout, or above this header's, fails the create.
    pub struct_size: usize,
    /// The backend's own state, passed to every slot.
    pub instance: *mut c_void,
    /// Optional (absent: `{server_id, 0, 0}`): the greatest event id of
    /// `server_id` stored so far, or `{server_id, 0, 0}` if none, into `*out`.
    pub get_last_event_id: Option<
        unsafe extern "C" fn(
            instance: *mut c_void,
            server_id: i64,
            out: *mut hat_event_event_id_t,
        ) -> hat_event_status_t,
    >,
    /// Required (hat's `Backend.register`; `register` is a C keyword, and
    /// these are events with ids, not `hat_event_register_event_t`s):
    /// store `count` events (borrowed for the call: keep one with
    /// `hat_event_event_clone`, an O(1) new reference, not a copy), all of
    /// one session in id order, then call `hat_event_backend_host_registered`
    /// (and `_flushed` once durable).
    pub register_events: Option<
        unsafe extern "C" fn(
            instance: *mut c_void,
            events: *const *const hat_event_event_t,
            count: usize,
        ) -> hat_event_status_t,
    >,
    /// Required: answer `params` (borrowed) with a result made by
    /// `hat_event_query_result_create`, handed to the engine in `*out`.
    pub query: Option<
        unsafe extern "C" fn(
            instance: *mut c_void,
            params: *const hat_event_query_params_t,
            out: *mut *mut hat_event_query_result_t,
        ) -> hat_event_status_t,
    >,
    /// Optional: make everything stored so far durable.
    pub flush: Option<unsafe extern "C" fn(instance: *mut c_void) -> hat_event_status_t>,
    /// Optional: release the instance; called once, last.
    pub finalize: Option<unsafe extern "C" fn(instance: *mut c_void)>,
}

/// Creates a backend instance: `conf` is the backend's configuration object
/// as JSON text (borrowed for the call), `host` the callbacks to report
/// registered/flushed events with. Fill `*out` (zeroed by the engine) and
/// return `HAT_EVENT_OK`; on failure release what you made and return a
/// failure status. Called on the thread creating the engine.
pub type hat_event_backend_create_t = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        conf: hat_event_str_t,
        host: *mut hat_event_backend_host_t,
        out: *mut hat_event_backend_t,
    ) -> hat_event_status_t,
>;

// SAFETY: every field is an integer, a raw pointer, a view or an Option of a function.
unsafe impl GrowingStruct for hat_event_backend_t {
    const NAME: &'static str = "hat_event_backend_t";
    const LAYOUTS: &'static [usize] = &[std::mem::size_of::<hat_event_backend_t>()];
}

/// A C backend, finalised on drop.
pub(super) struct CBackend {
    pub(super) vtable: hat_event_backend_t,
    /// Owned by the wrapper: the backend may use it until finalize returns.
    pub(super) host: *mut hat_event_backend_host_t,
    /// The info's user_data, released (if last) after the instance.
    pub(super) _user_data: Arc<OwnedUserData>,
}

// SAFETY: the documented contract: slots are called from any thread, one at a time.
unsafe impl Send for CBackend {}

/// Borrowed handles to shared events, for a C callback.
pub(crate) fn event_ptrs_of(events: &[Arc<Event>]) -> Vec<*const hat_event_event_t> {
    events.iter().map(borrowed_shared::<hat_event_event_t>).collect()
}

impl Backend for CBackend {
    fn get_last_event_id(&mut self, server_id: ServerId) -> Result<EventId, PluginError> {
        let Some(f) = self.vtable.get_last_event_id else {
            return Ok(EventId { server: server_id, session: 0, instance: 0 });
        };
        let mut out = hat_event_event_id_t { server: server_id, session: 0, instance: 0 };
        clear_plugin_error();
        // SAFETY: the slot of a live instance; out is a local.
        check("backend get_last_event_id", unsafe { f(self.vtable.instance, server_id, &mut out) })?;
        Ok(EventId { server: out.server, session: out.session, instance: out.instance })
    }

    fn register(&mut self, events: &[Arc<Event>]) -> Result<(), PluginError> {
        let f = self.vtable.register_events.expect("checked at create");
        let ptrs = event_ptrs_of(events);
        clear_plugin_error();
        // SAFETY: the slot of a live instance; ptrs point to events alive for the call.
        check("backend register", unsafe { f(self.vtable.instance, ptrs.as_ptr(), ptrs.len()) })
    }

    fn query(&mut self, params: &QueryParams) -> Result<QueryResult, PluginError> {
        let f = self.vtable.query.expect("checked at create");
        let mut out: *mut hat_event_query_result_t = std::ptr::null_mut();
        clear_plugin_error();
        // SAFETY: the slot of a live instance; params is alive for the call; out is a local.
        check("backend query", unsafe { f(self.vtable.instance, borrowed_handle(params), &mut out) })?;
        if out.is_null() {
            return Err(PluginError::Failed("backend query returned HAT_EVENT_OK without a result".into()));
        }
        // SAFETY: a result made by hat_event_query_result_create, now owned here.
        Ok(*unsafe { Box::from_raw(out.cast::<QueryResult>()) })
    }

    fn flush(&mut self) -> Result<(), PluginError> {
        let Some(f) = self.vtable.flush else { return Ok(()) };
        clear_plugin_error();
        // SAFETY: the slot of a live instance.
        check("backend flush", unsafe { f(self.vtable.instance) })
    }
}

impl Drop for CBackend {
    fn drop(&mut self) {
        if let Some(f) = self.vtable.finalize {
            // SAFETY: called once, last, as documented.
            unsafe { f(self.vtable.instance) };
        }
        // SAFETY: made by new_handle in backend_create; the backend is gone.
        unsafe { crate::ffi::boundary::free_handle(self.host) };
    }
}

// ---------------------------------------------------------------------------
// What backends call.

/// Reports events a backend has registered (`count` borrowed events) to the
/// host's registered callback, if any. Call from the backend's
/// `register_events` slot (or later, from any thread, while the backend lives).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_backend_host_registered(
    host: *mut hat_event_backend_host_t,
    events: *const *const hat_event_event_t,
    count: usize,
) -> hat_event_status_t {
    // SAFETY: forwarded; as documented.
    unsafe { host_report(host, events, count, |h| h.registered.as_ref()) }
}

/// Reports events a backend has made durable to the host's flushed
/// callback, if any; as `hat_event_backend_host_registered`.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_backend_host_flushed(
    host: *mut hat_event_backend_host_t,
    events: *const *const hat_event_event_t,
    count: usize,
) -> hat_event_status_t {
    // SAFETY: forwarded; as documented.
    unsafe { host_report(host, events, count, |h| h.flushed.as_ref()) }
}

/// # Safety
/// `host` is a live host handle or NULL; `events` holds `count` live event
/// handles (NULL only if `count` is 0).
unsafe fn host_report(
    host: *mut hat_event_backend_host_t,
    events: *const *const hat_event_event_t,
    count: usize,
    pick: impl Fn(&BackendCallbacks) -> Option<&crate::server::backend::EventsCallback>,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: forwarded from the caller.
        let host = unsafe { handle_arg(host, "host") }?;
        // SAFETY: forwarded from the caller.
        let events = unsafe { shared_arcs_arg(events, count, "events") }?;
        if let Some(cb) = pick(host) {
            cb(&events);
        }
        Ok(())
    })
}
