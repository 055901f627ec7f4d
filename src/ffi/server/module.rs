//! Modules in C (`server/module.rs`): the vtable a C module fills, where
//! its `process` puts derived events, and `CModule`, the adapter that makes
//! a C module a core [`Module`].

use std::ffi::c_void;
use std::sync::Arc;

use super::engine::hat_event_engine_t;
use super::registry::{check, clear_plugin_error};
use crate::event::{Event, RegisterEvent, SessionId, Source};
use crate::ffi::boundary::{
    borrowed_shared, guard_status, handle_arg, hat_event_status_t, hat_event_str_t, Boxed, GrowingStruct, Opaque,
    OwnedUserData,
};
use crate::ffi::event::{hat_event_event_t, hat_event_register_event_t, hat_event_source_t};
use crate::ffi::subscription::hat_event_subscription_t;
use crate::server::module::Module;
use crate::server::registry::PluginError;
use crate::subscription::Subscription;

/// Where a module's `process` puts the register events it derives.
/// Owned by the engine; valid during that `process` call only.
pub struct hat_event_register_event_list_t {
    _private: [u8; 0],
}

impl Opaque for hat_event_register_event_list_t {
    type Inner = Vec<RegisterEvent>;
    type Ownership = Boxed;
}

/// A module instance: its slots, filled by the module's create.
///
/// The engine calls the slots one at a time, from whichever host thread
/// runs the session. Borrowed arguments are valid for the call only. A
/// failure status fails the register call of the session (`HAT_EVENT_ERR_PLUGIN`
/// with the message from `hat_event_plugin_set_error`): nothing of that
/// session is registered; the engine stays usable. From its slots a module
/// may call `hat_event_engine_query` and `hat_event_engine_server_id`;
/// `hat_event_engine_register` there fails with `HAT_EVENT_ERR_REENTRANT`
/// (call it from another thread, or derive events through `process`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct hat_event_module_t {
    /// `sizeof(hat_event_module_t)` as the plug-in was compiled; read as
    /// `hat_event_backend_t.struct_size` is.
    pub struct_size: usize,
    /// The module's own state, passed to every slot.
    pub instance: *mut c_void,
    /// Required: the event types the module processes. The engine takes
    /// ownership when create succeeds and destroys it after `finalize`.
    pub subscription: *mut hat_event_subscription_t,
    /// Optional: a session starts.
    pub on_session_start: Option<unsafe extern "C" fn(instance: *mut c_void, session_id: i64) -> hat_event_status_t>,
    /// Optional: a session's events are processed (before the backend
    /// registers them).
    pub on_session_stop: Option<unsafe extern "C" fn(instance: *mut c_void, session_id: i64) -> hat_event_status_t>,
    /// Required: process one event of the session (borrowed) that the
    /// subscription matches; append derived register events to `out` with
    /// `hat_event_register_event_list_append`.
    pub process: Option<
        unsafe extern "C" fn(
            instance: *mut c_void,
            source: hat_event_source_t,
            event: *const hat_event_event_t,
            out: *mut hat_event_register_event_list_t,
        ) -> hat_event_status_t,
    >,
    /// Optional: release the instance; called once, last (when the engine
    /// closes). It may call the engine, which fails with `HAT_EVENT_ERR_CLOSED`.
    pub finalize: Option<unsafe extern "C" fn(instance: *mut c_void)>,
}

/// Creates a module instance: `conf` is the module's configuration object
/// as JSON text (borrowed for the call), `engine` the engine it runs in
/// (valid until the module's `finalize` returns; never destroy it), `source`
/// its source (`HAT_EVENT_SOURCE_TYPE_MODULE`, its index in the
/// configuration). Fill `*out` (zeroed by the engine). Called on the thread
/// creating the engine.
pub type hat_event_module_create_t = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        conf: hat_event_str_t,
        engine: *mut hat_event_engine_t,
        source: hat_event_source_t,
        out: *mut hat_event_module_t,
    ) -> hat_event_status_t,
>;

// SAFETY: as above.
unsafe impl GrowingStruct for hat_event_module_t {
    const NAME: &'static str = "hat_event_module_t";
    const LAYOUTS: &'static [usize] = &[std::mem::size_of::<hat_event_module_t>()];
}

/// A C module, finalised on drop.
pub(super) struct CModule {
    pub(super) vtable: hat_event_module_t,
    pub(super) subscription: Arc<Subscription>,
    /// The engine handle the module was created with; freed after finalize.
    pub(super) engine: *mut hat_event_engine_t,
    /// The info's user_data, released (if last) after the instance.
    pub(super) _user_data: Arc<OwnedUserData>,
}

// SAFETY: the documented contract: slots are called from any thread, one at a time.
unsafe impl Send for CModule {}

impl Module for CModule {
    fn subscription(&self) -> &Subscription {
        &self.subscription
    }

    fn on_session_start(&mut self, session_id: SessionId) -> Result<(), PluginError> {
        let Some(f) = self.vtable.on_session_start else { return Ok(()) };
        clear_plugin_error();
        // SAFETY: the slot of a live instance.
        check("module on_session_start", unsafe { f(self.vtable.instance, session_id) })
    }

    fn on_session_stop(&mut self, session_id: SessionId) -> Result<(), PluginError> {
        let Some(f) = self.vtable.on_session_stop else { return Ok(()) };
        clear_plugin_error();
        // SAFETY: the slot of a live instance.
        check("module on_session_stop", unsafe { f(self.vtable.instance, session_id) })
    }

    fn process(&mut self, source: Source, event: &Arc<Event>) -> Result<Vec<RegisterEvent>, PluginError> {
        let f = self.vtable.process.expect("checked at create");
        let mut out: Vec<RegisterEvent> = Vec::new();
        clear_plugin_error();
        let list = (&mut out as *mut Vec<RegisterEvent>).cast::<hat_event_register_event_list_t>();
        // SAFETY: the slot of a live instance; event and list are alive for the call.
        check("module process", unsafe { f(self.vtable.instance, source.into(), borrowed_shared(event), list) })?;
        Ok(out)
    }
}

impl Drop for CModule {
    fn drop(&mut self) {
        if let Some(f) = self.vtable.finalize {
            // SAFETY: called once, last, as documented.
            unsafe { f(self.vtable.instance) };
        }
        // SAFETY: made by new_handle in module_create; the module is gone.
        unsafe { crate::ffi::boundary::free_handle(self.engine) };
    }
}

/// Appends a copy of `event` to a module's output (the caller keeps `event`).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_register_event_list_append(
    list: *mut hat_event_register_event_list_t,
    event: *const hat_event_register_event_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: live handles or NULL, as documented.
        let (list, event) = unsafe { (crate::ffi::boundary::handle_mut(list, "list")?, handle_arg(event, "event")?) };
        list.push(event.clone());
        Ok(())
    })
}
