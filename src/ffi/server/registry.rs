//! Plug-ins in C: their infos, their registration into the core's one
//! registry, loading by path with `dlopen`, and the plug-in error message.
//! The vtables and their adapters are in `backend.rs` and `module.rs`.
//!
//! A plug-in is a struct of optional function pointers with an `instance`
//! pointer passed first to each (wasmtime's `{env, slots, finalizer}`
//! model), copied by value into a Rust wrapper whose `Drop` runs the
//! `finalize` slot. The wrappers are `Send` and not `Sync`: the engine calls
//! a plug-in from one thread at a time, which is the contract plug-ins are
//! written against.

use std::collections::HashMap;
use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::{Arc, Mutex, OnceLock};

use super::backend::hat_event_backend_create_t;
use super::backend::{hat_event_backend_host_t, hat_event_backend_t, CBackend};
use super::engine::{hat_event_engine_t, EngineHandle};
use super::module::hat_event_module_create_t;
use super::module::{hat_event_module_t, CModule};
use crate::error::{bounded_message, Quoted};
use crate::ffi::boundary::{
    guard_status, hat_event_finalize_user_data_t, hat_event_status_str, hat_event_status_t, hat_event_str_t,
    new_handle, out_arg, read_growing, slice_arg, str_arg, take_growing, FfiError, FfiResult, GrowingStruct,
    OwnedUserData, HAT_EVENT_ERR_INVALID_JSON, HAT_EVENT_OK,
};
use crate::ffi::event::hat_event_source_t;
use crate::server::backend::Backend;
use crate::server::module::Module;
use crate::server::registry::{
    self as registry, check_schema, BackendInfo, ConfSchema, Foreign, ModuleInfo, PluginError, Registered, Resolver,
};
use crate::subscription::Subscription;

/// The layout of `hat_event_backend_info_t` and `hat_event_module_info_t`
/// this header describes; an info carries it in `abi_version` so that a
/// plug-in built against another layout is refused, not misread. Version 2
/// added `struct_size` (after `abi_version`) and `finalize_user_data`.
/// Infos of version 1 (hat-event-c 0.1: `{abi_version, user_data, create,
/// json_schema_id, json_schema_repo}`, no `struct_size`) are still read, as
/// that layout, without a finalizer; any other version is refused.
pub const HAT_EVENT_PLUGIN_ABI_VERSION: u32 = 2;

/// The first `abi_version` of the infos: 0.1's layout, without `struct_size`.
const PLUGIN_ABI_VERSION_0_1: u32 = 1;

/// The symbol a backend shared library exports (the header declares it as
/// `hat_event_backend_info`, of type `hat_event_backend_info_fn`).
pub(crate) const HAT_EVENT_BACKEND_INFO_SYMBOL: &str = "hat_event_backend_info";
/// The symbol a module shared library exports (the header declares it as
/// `hat_event_module_info`, of type `hat_event_module_info_fn`).
pub(crate) const HAT_EVENT_MODULE_INFO_SYMBOL: &str = "hat_event_module_info";

/// What a backend implementation exposes (hat's `BackendInfo`).
/// `json_schema_id` and `json_schema_repo` (hat's JSON form of a schema
/// repository: an object of schemas by id) are optional (`{NULL, 0}`); when
/// both are given, the configuration is validated before create. Copied by
/// `hat_event_backend_register` (views included); a library's info, which
/// its export returns, must stay valid for the life of the process.
///
/// `user_data` belongs to the library from the call that receives the info
/// (`hat_event_backend_register`, or the first import of a library by path,
/// which calls its export once): from then on `finalize_user_data`, if set,
/// runs exactly once, on every path: at once if that call fails, otherwise
/// when the registration is replaced (the same name registered again) and
/// no instance created from it remains. A library loaded by path is never
/// unloaded, so a library's `user_data` is finalised only if its import
/// fails. Not finalised, because not read: a NULL info, an unknown
/// `abi_version`, a `struct_size` below the first released layout (the
/// caller keeps `user_data` then); an info refused for a larger
/// `struct_size` is finalised. `user_data` must be usable from any
/// thread until finalised.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct hat_event_backend_info_t {
    /// `HAT_EVENT_PLUGIN_ABI_VERSION` (1: 0.1's layout, read as such).
    pub abi_version: u32,
    /// `sizeof(hat_event_backend_info_t)` as the plug-in was compiled; read
    /// as `hat_event_backend_t.struct_size` is (refused: `HAT_EVENT_ERR_IMPORT`).
    pub struct_size: usize,
    /// Passed to `create` as is.
    pub user_data: *mut c_void,
    /// Required: makes an instance (see `hat_event_backend_create_t`).
    pub create: hat_event_backend_create_t,
    /// Optional: the id of the configuration's schema in `json_schema_repo`.
    pub json_schema_id: hat_event_str_t,
    /// Optional: JSON text, an object of schemas by id (hat's repository form).
    pub json_schema_repo: hat_event_str_t,
    /// Optional: releases `user_data` (see above).
    pub finalize_user_data: hat_event_finalize_user_data_t,
}

/// What a module implementation exposes (hat's `ModuleInfo`); as
/// `hat_event_backend_info_t`, `user_data` and its finalizer included
/// (`hat_event_module_register`, or the first import of a library by path).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct hat_event_module_info_t {
    /// `HAT_EVENT_PLUGIN_ABI_VERSION` (1: 0.1's layout, read as such).
    pub abi_version: u32,
    /// `sizeof(hat_event_module_info_t)` as the plug-in was compiled; as
    /// `hat_event_backend_info_t.struct_size`.
    pub struct_size: usize,
    /// Passed to `create` as is.
    pub user_data: *mut c_void,
    /// Required: makes an instance (see `hat_event_module_create_t`).
    pub create: hat_event_module_create_t,
    /// Optional: the id of the configuration's schema in `json_schema_repo`.
    pub json_schema_id: hat_event_str_t,
    /// Optional: JSON text, an object of schemas by id (hat's repository form).
    pub json_schema_repo: hat_event_str_t,
    /// Optional: releases `user_data` (see `hat_event_backend_info_t`).
    pub finalize_user_data: hat_event_finalize_user_data_t,
}

// SAFETY: every field is an integer, a raw pointer, a view or an Option of a function.
// Version 2 is the first layout with a struct_size.
unsafe impl GrowingStruct for hat_event_backend_info_t {
    const NAME: &'static str = "hat_event_backend_info_t";
    const LAYOUTS: &'static [usize] = &[std::mem::size_of::<hat_event_backend_info_t>()];
}

// SAFETY: as above.
unsafe impl GrowingStruct for hat_event_module_info_t {
    const NAME: &'static str = "hat_event_module_info_t";
    const LAYOUTS: &'static [usize] = &[std::mem::size_of::<hat_event_module_info_t>()];
}

/// An info of `abi_version` 1 (hat-event-c 0.1), frozen.
#[repr(C)]
#[derive(Clone, Copy)]
struct InfoV1<F> {
    abi_version: u32,
    user_data: *mut c_void,
    create: F,
    json_schema_id: hat_event_str_t,
    json_schema_repo: hat_event_str_t,
}

/// What reading a plug-in info needs of its type.
trait PluginInfo: GrowingStruct {
    type Create: Copy;
    fn from_v1(v1: InfoV1<Self::Create>) -> Self;
    fn user_data(&self) -> (*mut c_void, hat_event_finalize_user_data_t);
    /// The copy the registry keeps and hands out: its `user_data` stays the
    /// registry's, so the finalizer is not handed out.
    fn without_finalizer(self) -> Self;
}

macro_rules! plugin_info {
    ($info:ty, $create:ty) => {
        impl PluginInfo for $info {
            type Create = $create;
            fn from_v1(v1: InfoV1<$create>) -> Self {
                Self {
                    abi_version: HAT_EVENT_PLUGIN_ABI_VERSION,
                    struct_size: std::mem::size_of::<Self>(),
                    user_data: v1.user_data,
                    create: v1.create,
                    json_schema_id: v1.json_schema_id,
                    json_schema_repo: v1.json_schema_repo,
                    finalize_user_data: None,
                }
            }
            fn user_data(&self) -> (*mut c_void, hat_event_finalize_user_data_t) {
                (self.user_data, self.finalize_user_data)
            }
            fn without_finalizer(self) -> Self {
                Self { finalize_user_data: None, ..self }
            }
        }
    };
}
plugin_info!(hat_event_backend_info_t, hat_event_backend_create_t);
plugin_info!(hat_event_module_info_t, hat_event_module_create_t);

/// Reads a plug-in's info by its `abi_version` and `struct_size`; from a
/// successful read on, the returned guard owns its `user_data`.
///
/// # Safety
/// `info` points to an info whose `abi_version` and, for version 2 and
/// later, `struct_size` bytes are readable.
unsafe fn read_info<T: PluginInfo>(info: *const T, what: &str) -> FfiResult<(T, Arc<OwnedUserData>)> {
    // SAFETY: abi_version, a u32, is the first field of every layout.
    let abi_version = unsafe { info.cast::<u32>().read() };
    let c = match abi_version {
        // SAFETY: the caller's info is of the 0.1 layout, all of it readable.
        PLUGIN_ABI_VERSION_0_1 => T::from_v1(unsafe { info.cast::<InfoV1<T::Create>>().read() }),
        HAT_EVENT_PLUGIN_ABI_VERSION => {
            // SAFETY: struct_size is at the same offset in both infos (checked by a test).
            let declared = unsafe { info.cast::<u8>().add(std::mem::offset_of!(hat_event_backend_info_t, struct_size)).cast::<usize>().read() };
            // SAFETY: declared bytes are readable, as the caller promises.
            let (c, user_data) = unsafe { take_growing(info, declared, &format!("{what}: "), T::user_data) }
                .map_err(|e| plugin_import_error(e.message.clone()))?;
            return Ok((c.without_finalizer(), Arc::new(user_data)));
        }
        other => {
            return Err(plugin_import_error(format!(
                "{what} has ABI version {other}; this library reads {HAT_EVENT_PLUGIN_ABI_VERSION} and {PLUGIN_ABI_VERSION_0_1}"
            )))
        }
    };
    let (ptr, finalize) = c.user_data();
    Ok((c.without_finalizer(), Arc::new(OwnedUserData::new(ptr, finalize))))
}

// ---------------------------------------------------------------------------
// Plug-in errors: the message a failing slot leaves for the engine.

thread_local! {
    static PLUGIN_ERROR: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Called by a plug-in slot just before it returns a failure status: the
/// message (copied) becomes part of the error the host sees. Thread-local;
/// a message not consumed by the next failing slot on this thread is
/// replaced by the next call. Invalid UTF-8 is replaced, never refused.
/// A message longer than `HAT_EVENT_PLUGIN_ERROR_MAX` bytes is cut to that
/// (the cut says how long the whole was).
#[no_mangle]
pub unsafe extern "C" fn hat_event_plugin_set_error(message: hat_event_str_t) {
    crate::ffi::boundary::guard_value((), || {
        // SAFETY: message is a readable view, as documented.
        let bytes = unsafe { slice_arg(message.ptr.cast::<u8>(), message.len, "message") }.unwrap_or(b"(NULL message)");
        let text = if bytes.len() <= HAT_EVENT_PLUGIN_ERROR_MAX {
            String::from_utf8_lossy(bytes).into_owned()
        } else {
            // Only the part kept is converted: a huge message costs nothing.
            let mut kept = String::from_utf8_lossy(&bytes[..HAT_EVENT_PLUGIN_ERROR_MAX]).into_owned();
            // Replacement characters may have made it longer.
            let mut end = kept.len().min(HAT_EVENT_PLUGIN_ERROR_MAX);
            while !kept.is_char_boundary(end) {
                end -= 1;
            }
            kept.truncate(end);
            format!("{kept}... ({} bytes in all)", bytes.len())
        };
        PLUGIN_ERROR.with(|e| *e.borrow_mut() = Some(text));
    })
}

/// The most bytes of a plug-in's message (`hat_event_plugin_set_error`)
/// kept in the error the host sees.
pub const HAT_EVENT_PLUGIN_ERROR_MAX: usize = 1024;

pub(super) fn clear_plugin_error() {
    PLUGIN_ERROR.with(|e| e.borrow_mut().take());
}

/// The core error for a slot that returned `status`.
fn slot_error(what: &str, status: hat_event_status_t) -> PluginError {
    let message = PLUGIN_ERROR.with(|e| e.borrow_mut().take()).unwrap_or_else(|| {
        // SAFETY: hat_event_status_str returns a static NUL-terminated string.
        unsafe { CStr::from_ptr(hat_event_status_str(status)) }.to_string_lossy().into_owned()
    });
    PluginError::Failed(format!("{what} failed (status {status}): {message}"))
}

pub(super) fn check(what: &str, status: hat_event_status_t) -> Result<(), PluginError> {
    if status == HAT_EVENT_OK {
        Ok(())
    } else {
        Err(slot_error(what, status))
    }
}

// ---------------------------------------------------------------------------
// From C infos to core infos.

/// The schema of an info, checked: both views or neither, and a schema
/// that can validate (its id in its repository, compiling), so that a
/// broken schema fails the registration or import, not a later engine.
///
/// # Safety
/// The views are readable, as the info's documentation requires.
unsafe fn schema_of(id: hat_event_str_t, repo: hat_event_str_t) -> FfiResult<Option<ConfSchema>> {
    // SAFETY: forwarded from the caller.
    let (id, repo) = unsafe { (str_arg(id, "json_schema_id")?, str_arg(repo, "json_schema_repo")?) };
    if id.is_empty() || repo.is_empty() {
        return Ok(None);
    }
    let repo = serde_json::from_str(repo)
        .map_err(|e| FfiError::new(HAT_EVENT_ERR_INVALID_JSON, format!("json_schema_repo is not JSON: {e}")))?;
    let schema = ConfSchema { id: id.to_owned(), repo };
    check_schema(&schema)?;
    Ok(Some(schema))
}

fn plugin_import_error(message: String) -> FfiError {
    FfiError::from(PluginError::Import(message))
}

type CBackendCreate = unsafe extern "C" fn(
    *mut c_void,
    hat_event_str_t,
    *mut hat_event_backend_host_t,
    *mut hat_event_backend_t,
) -> hat_event_status_t;
type CModuleCreate = unsafe extern "C" fn(
    *mut c_void,
    hat_event_str_t,
    *mut hat_event_engine_t,
    hat_event_source_t,
    *mut hat_event_module_t,
) -> hat_event_status_t;

fn conf_text(conf: &serde_json::Value) -> String {
    serde_json::to_string(conf).unwrap_or_default()
}

/// A zeroed `T` with room after it, for a create to fill: a plug-in built
/// against a newer, larger layout writes into the room, not past the
/// buffer, and is then refused by its `struct_size`.
#[repr(C)]
struct Slack<T> {
    value: T,
    _room: [usize; 32],
}

impl<T: GrowingStruct> Slack<T> {
    fn zeroed() -> Box<Slack<T>> {
        // SAFETY: zero is valid for T (GrowingStruct) and for the room.
        Box::new(unsafe { std::mem::MaybeUninit::<Slack<T>>::zeroed().assume_init() })
    }

    /// The pointer the plug-in fills: to the whole buffer, room included.
    fn out(&mut self) -> *mut T {
        (self as *mut Slack<T>).cast()
    }

    /// The struct the plug-in filled, read by its `struct_size` (the first
    /// field of every vtable); `Err` with the whole buffer as filled, for
    /// finalising the instance, if the size is refused.
    fn read(&self, what: &str) -> Result<T, (T, PluginError)> {
        // SAFETY: struct_size, a usize, is the first field of every vtable.
        let declared = unsafe { (self as *const Slack<T>).cast::<usize>().read() };
        // SAFETY: the buffer holds size_of::<T>() + room readable bytes, more than any accepted declared size.
        unsafe { read_growing(&self.value, declared, &format!("{what}: ")) }
            .map_err(|e| (self.value, PluginError::Import(e.message.clone())))
    }
}

/// # Safety
/// `info` is a valid info whose views are readable and whose function
/// pointers stay callable for the life of the process; `user_data` is its.
unsafe fn backend_info_from_c(
    info: &hat_event_backend_info_t,
    user_data: Arc<OwnedUserData>,
) -> FfiResult<BackendInfo> {
    let create: CBackendCreate = info.create.ok_or_else(|| FfiError::null("info->create"))?;
    // SAFETY: forwarded from the caller.
    let schema = unsafe { schema_of(info.json_schema_id, info.json_schema_repo) }?;
    Ok(BackendInfo {
        create: Arc::new(move |conf, callbacks| {
            let text = conf_text(conf);
            let host = new_handle::<hat_event_backend_host_t>(callbacks);
            let mut out = Slack::<hat_event_backend_t>::zeroed();
            clear_plugin_error();
            // SAFETY: the plug-in's create, with a live host handle and a zeroed out.
            let status = unsafe { create(user_data.ptr(), hat_event_str_t::from_str(&text), host, out.out()) };
            if status != HAT_EVENT_OK {
                // SAFETY: the failed create made no instance that could still use host.
                unsafe { crate::ffi::boundary::free_handle(host) };
                return Err(slot_error("backend create", status));
            }
            // From here on the wrapper owns host (and finalises the instance).
            let (vtable, refused) = match out.read("backend create") {
                Ok(vtable) => (vtable, None),
                Err((as_filled, e)) => (as_filled, Some(e)),
            };
            let backend = CBackend { vtable, host, _user_data: user_data.clone() };
            if let Some(e) = refused {
                drop(backend);
                return Err(e);
            }
            if vtable.register_events.is_none() || vtable.query.is_none() {
                drop(backend);
                return Err(PluginError::Import(
                    "backend create left the required slot register_events or query NULL".into(),
                ));
            }
            Ok(Box::new(backend) as Box<dyn Backend>)
        }),
        schema,
        foreign: None,
    })
}

/// # Safety
/// As for [`backend_info_from_c`].
unsafe fn module_info_from_c(info: &hat_event_module_info_t, user_data: Arc<OwnedUserData>) -> FfiResult<ModuleInfo> {
    let create: CModuleCreate = info.create.ok_or_else(|| FfiError::null("info->create"))?;
    // SAFETY: forwarded from the caller.
    let schema = unsafe { schema_of(info.json_schema_id, info.json_schema_repo) }?;
    Ok(ModuleInfo {
        create: Arc::new(move |conf, engine, source| {
            let text = conf_text(conf);
            let engine = new_handle::<hat_event_engine_t>(EngineHandle::Ref(engine));
            let mut out = Slack::<hat_event_module_t>::zeroed();
            clear_plugin_error();
            // SAFETY: the plug-in's create, with a live engine handle and a zeroed out.
            let status =
                unsafe { create(user_data.ptr(), hat_event_str_t::from_str(&text), engine, source.into(), out.out()) };
            if status != HAT_EVENT_OK {
                // SAFETY: the failed create made no instance that could still use engine.
                unsafe { crate::ffi::boundary::free_handle(engine) };
                return Err(slot_error("module create", status));
            }
            let (vtable, refused) = match out.read("module create") {
                Ok(vtable) => (vtable, None),
                Err((as_filled, e)) => (as_filled, Some(e)),
            };
            // Take the subscription first, so that it is released whatever happens next.
            let subscription = if vtable.subscription.is_null() {
                None
            } else {
                // SAFETY: a subscription reference the module hands over, as documented:
                // its count becomes this Arc's.
                Some(unsafe { Arc::from_raw(vtable.subscription.cast_const().cast::<Subscription>()) })
            };
            let module = CModule {
                vtable,
                subscription: subscription.clone().unwrap_or_default(),
                engine,
                _user_data: user_data.clone(),
            };
            if let Some(e) = refused {
                drop(module);
                return Err(e);
            }
            if subscription.is_none() || vtable.process.is_none() {
                drop(module);
                return Err(PluginError::Import("module create left subscription or the process slot NULL".into()));
            }
            Ok(Box::new(module) as Box<dyn Module>)
        }),
        schema,
        foreign: None,
    })
}

// ---------------------------------------------------------------------------
// Registration into the core's one registry, loading by path, and the
// resolver the engine uses.

/// The foreign part of a core info made from a registered C info (see
/// [`crate::server::registry::Foreign`]): the info as registered, without
/// its finalizer (the registration's `user_data` guard lives in the core
/// info's create), and the strings its views point into.
struct Stored<T> {
    c: T,
    /// Keeps the views of `c` alive.
    _strings: (Box<str>, Box<str>),
}

// SAFETY: the documented contract: user_data is usable from any thread;
// the views point into the owned strings, never written after creation.
unsafe impl<T> Send for Stored<T> {}
// SAFETY: as above; a Stored is never modified after it is made.
unsafe impl<T> Sync for Stored<T> {}

/// The C info of a registered name, if the name is a C plug-in's.
fn stored_info<T: Copy + 'static>(foreign: Option<&Foreign>) -> Option<T> {
    foreign.and_then(|f| f.downcast_ref::<Stored<T>>()).map(|stored| stored.c)
}

/// What importing a loaded library gave, by its `dlopen` handle: its export
/// is called once per library, whatever path names it.
type Loaded<T, I> = HashMap<usize, Result<(T, I), (hat_event_status_t, String)>>;

#[derive(Default)]
struct Libraries {
    backends: Loaded<hat_event_backend_info_t, BackendInfo>,
    modules: Loaded<hat_event_module_info_t, ModuleInfo>,
}

// SAFETY: as for Stored: the infos' user_data is usable from any thread and
// their views point into libraries that are never unloaded.
unsafe impl Send for Libraries {}

fn libraries() -> std::sync::MutexGuard<'static, Libraries> {
    static LIBRARIES: OnceLock<Mutex<Libraries>> = OnceLock::new();
    LIBRARIES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner())
}

/// Copies the schema views of an info into owned strings and points the
/// copy's views at them.
///
/// # Safety
/// The views are readable.
unsafe fn own_views(id: &mut hat_event_str_t, repo: &mut hat_event_str_t) -> FfiResult<(Box<str>, Box<str>)> {
    // SAFETY: forwarded from the caller.
    let (i, r): (Box<str>, Box<str>) =
        unsafe { (str_arg(*id, "json_schema_id")?.into(), str_arg(*repo, "json_schema_repo")?.into()) };
    *id = hat_event_str_t::from_str(&i);
    *repo = hat_event_str_t::from_str(&r);
    Ok((i, r))
}

/// Loads a library (never unloaded: its function pointers must outlive
/// every instance).
fn dlopen_library(path: &str) -> FfiResult<*mut c_void> {
    let c_path =
        CString::new(path).map_err(|_| plugin_import_error(format!("path {} contains a NUL byte", Quoted(path))))?;
    // SAFETY: a plain libc call with a NUL-terminated string.
    let handle = unsafe { libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        return Err(plugin_import_error(format!("cannot load {}: {}", Quoted(path), dl_error(path))));
    }
    Ok(handle)
}

/// Calls a loaded library's export `symbol` for its info.
///
/// # Safety
/// `handle` is a loaded library; its symbol, if found, has the type the
/// header declares for it (`hat_event_backend_info_fn` or `_module_info_fn`).
unsafe fn call_export<T>(handle: *mut c_void, path: &str, symbol: &str) -> FfiResult<*const T> {
    let c_symbol = CString::new(symbol).expect("no NUL in symbol names");
    // SAFETY: handle is a live library; c_symbol is NUL-terminated.
    let sym = unsafe { libc::dlsym(handle, c_symbol.as_ptr()) };
    if sym.is_null() {
        return Err(plugin_import_error(format!("{} does not export the symbol {symbol}", Quoted(path))));
    }
    // SAFETY: the symbol is the declared function returning the info.
    let get: unsafe extern "C" fn() -> *const T =
        unsafe { std::mem::transmute::<*mut c_void, unsafe extern "C" fn() -> *const T>(sym) };
    // SAFETY: calling the plug-in's exported function.
    let info = unsafe { get() };
    if info.is_null() {
        return Err(plugin_import_error(format!("{symbol}() of {} returned NULL", Quoted(path))));
    }
    Ok(info)
}

/// Imports the library at `path`: its export is called, and its info read
/// and checked, on the first import of that library only; later imports
/// get the same info or the same error.
///
/// # Safety
/// The library's export, if any, has the declared type for `T`, and the
/// info it returns stays valid for the life of the process.
unsafe fn import_library<T: PluginInfo, I: Clone>(
    path: &str,
    symbol: &str,
    kind: &str,
    loaded: fn(&mut Libraries) -> &mut Loaded<T, I>,
    core: unsafe fn(&T, Arc<OwnedUserData>) -> FfiResult<I>,
) -> FfiResult<(T, I)> {
    let handle = dlopen_library(path)?;
    // Held while the export runs, so that it runs once; exports only return their info.
    let mut libraries = libraries();
    if let Some(known) = loaded(&mut libraries).get(&(handle as usize)) {
        return known.clone().map_err(|(status, message)| FfiError::new(status, message));
    }
    let what = format!("{kind} {}", Quoted(path));
    let imported = (|| {
        // SAFETY: forwarded from the caller.
        let info = unsafe { call_export::<T>(handle, path, symbol) }?;
        // SAFETY: the info the export returned, valid as the caller promises.
        let (c, user_data) = unsafe { read_info(info, &what) }?;
        // SAFETY: as above.
        let core = unsafe { core(&c, user_data) }?;
        Ok((c, core))
    })();
    let entry = imported.as_ref().map(|(c, i)| (*c, i.clone())).map_err(|e: &FfiError| (e.status, e.message.clone()));
    loaded(&mut libraries).insert(handle as usize, entry);
    imported
}

/// The most bytes of the dynamic loader's message kept in ours.
const DL_ERROR_LIMIT: usize = 128;

/// The loader's message for `path`, without the path it starts with (ours
/// quotes it, bounded), itself bounded.
fn dl_error(path: &str) -> String {
    // SAFETY: dlerror returns NULL or a NUL-terminated string.
    let e = unsafe { libc::dlerror() };
    if e.is_null() {
        "unknown dlopen error".into()
    } else {
        // SAFETY: non-NULL, NUL-terminated.
        let message = unsafe { CStr::from_ptr::<'_>(e as *const c_char) }.to_string_lossy();
        let reason = message.strip_prefix(path).and_then(|m| m.strip_prefix(": ")).unwrap_or(&message);
        bounded_message(reason, DL_ERROR_LIMIT)
    }
}

fn is_path(name: &str) -> bool {
    name.contains('/')
}

/// Import by name (the one registry) or by path (a shared library).
fn import<T: CPlugin>(name: &str) -> FfiResult<(Option<T>, T::Core)> {
    if is_path(name) {
        // SAFETY: a library's export has the declared type; libraries stay loaded.
        let (c, info) = unsafe { import_library(name, T::SYMBOL, T::KIND, T::loaded, T::core) }?;
        return Ok((Some(c), info));
    }
    let mut info = T::registered(name).map_err(|_| {
        plugin_import_error(format!(
            "no {} registered as {} (a shared library is named by a path containing '/')",
            T::KIND,
            Quoted(name)
        ))
    })?;
    Ok((stored_info(T::foreign(&mut info).as_ref()), info))
}

/// The two kinds of C plug-in info, for the paths they share (register,
/// import by name or path).
trait CPlugin: PluginInfo + Copy + 'static {
    /// The core info a C info becomes.
    type Core: Clone;
    const KIND: &'static str;
    const SYMBOL: &'static str;
    /// # Safety
    /// As for [`backend_info_from_c`].
    unsafe fn core(info: &Self, user_data: Arc<OwnedUserData>) -> FfiResult<Self::Core>;
    fn schema_views(&mut self) -> (&mut hat_event_str_t, &mut hat_event_str_t);
    fn loaded(libraries: &mut Libraries) -> &mut Loaded<Self, Self::Core>;
    fn registered(name: &str) -> Result<Self::Core, PluginError>;
    fn foreign(core: &mut Self::Core) -> &mut Option<Foreign>;
    fn register(name: &str, core: Self::Core) -> Option<Self::Core>;
}

impl CPlugin for hat_event_backend_info_t {
    type Core = BackendInfo;
    const KIND: &'static str = "backend";
    const SYMBOL: &'static str = HAT_EVENT_BACKEND_INFO_SYMBOL;
    unsafe fn core(info: &Self, user_data: Arc<OwnedUserData>) -> FfiResult<BackendInfo> {
        // SAFETY: forwarded from the caller.
        unsafe { backend_info_from_c(info, user_data) }
    }
    fn schema_views(&mut self) -> (&mut hat_event_str_t, &mut hat_event_str_t) {
        (&mut self.json_schema_id, &mut self.json_schema_repo)
    }
    fn loaded(libraries: &mut Libraries) -> &mut Loaded<Self, BackendInfo> {
        &mut libraries.backends
    }
    fn registered(name: &str) -> Result<BackendInfo, PluginError> {
        Registered.backend_info(name)
    }
    fn foreign(core: &mut BackendInfo) -> &mut Option<Foreign> {
        &mut core.foreign
    }
    fn register(name: &str, core: BackendInfo) -> Option<BackendInfo> {
        registry::register_backend(name, core)
    }
}

impl CPlugin for hat_event_module_info_t {
    type Core = ModuleInfo;
    const KIND: &'static str = "module";
    const SYMBOL: &'static str = HAT_EVENT_MODULE_INFO_SYMBOL;
    unsafe fn core(info: &Self, user_data: Arc<OwnedUserData>) -> FfiResult<ModuleInfo> {
        // SAFETY: forwarded from the caller.
        unsafe { module_info_from_c(info, user_data) }
    }
    fn schema_views(&mut self) -> (&mut hat_event_str_t, &mut hat_event_str_t) {
        (&mut self.json_schema_id, &mut self.json_schema_repo)
    }
    fn loaded(libraries: &mut Libraries) -> &mut Loaded<Self, ModuleInfo> {
        &mut libraries.modules
    }
    fn registered(name: &str) -> Result<ModuleInfo, PluginError> {
        Registered.module_info(name)
    }
    fn foreign(core: &mut ModuleInfo) -> &mut Option<Foreign> {
        &mut core.foreign
    }
    fn register(name: &str, core: ModuleInfo) -> Option<ModuleInfo> {
        registry::register_module(name, core)
    }
}

/// The C info of an import, or the refusal for a built-in: a Rust plug-in
/// has no C info (no C shims over Rust plug-ins).
fn c_info_of<T>(kind: &str, name: &str, c: Option<T>) -> FfiResult<T> {
    c.ok_or_else(|| {
        plugin_import_error(format!(
            "{kind} {} is built in (a Rust {kind}): it has no C info; name it in an engine configuration's \"module\" \
             instead",
            Quoted(name)
        ))
    })
}

/// The engine's resolver: registered names and paths.
pub(crate) struct CResolver;

fn to_plugin_error(e: FfiError) -> PluginError {
    PluginError::Import(e.message.clone())
}

impl Resolver for CResolver {
    fn backend_info(&self, name: &str) -> Result<BackendInfo, PluginError> {
        import::<hat_event_backend_info_t>(name).map(|(_, info)| info).map_err(to_plugin_error)
    }

    fn module_info(&self, name: &str) -> Result<ModuleInfo, PluginError> {
        import::<hat_event_module_info_t>(name).map(|(_, info)| info).map_err(to_plugin_error)
    }
}

/// Registers (or replaces) a backend under `name` for this process, so that
/// an engine configuration's `"module": "<name>"` finds it. `*info` is
/// copied (its schema views too). The library takes ownership of
/// `info->user_data` here, on failure too (see `hat_event_backend_info_t`):
/// a replaced registration's `user_data` is finalised once no instance
/// created from it remains. Thread-safe.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_UTF8`,
/// `HAT_EVENT_ERR_IMPORT` (unknown `abi_version`, refused `struct_size`),
/// `HAT_EVENT_ERR_INVALID_JSON` (`json_schema_repo` is not JSON),
/// `HAT_EVENT_ERR_SCHEMA` (the schema cannot validate: `json_schema_id` is
/// not an id of `json_schema_repo`, or it does not compile; the message
/// names the id as given), `HAT_EVENT_ERR_INVALID_ARGUMENT` (an empty name
/// or one containing '/', which would read as a path).
#[no_mangle]
pub unsafe extern "C" fn hat_event_backend_register(
    name: hat_event_str_t,
    info: *const hat_event_backend_info_t,
) -> hat_event_status_t {
    // SAFETY: forwarded; the contract is documented above.
    guard_status(|| unsafe { register_c(name, info) })
}

/// Registers (or replaces) a module under `name`; as
/// `hat_event_backend_register`, ownership of `info->user_data` included.
/// Errors: as `hat_event_backend_register`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_module_register(
    name: hat_event_str_t,
    info: *const hat_event_module_info_t,
) -> hat_event_status_t {
    // SAFETY: forwarded; the contract is documented above.
    guard_status(|| unsafe { register_c(name, info) })
}

/// The body of `hat_event_backend_register` and `_module_register`.
///
/// # Safety
/// `name` is a readable view; `info` is NULL or readable up to its
/// struct_size, with readable views and create callable for the life of
/// the process.
unsafe fn register_c<T: CPlugin>(name: hat_event_str_t, info: *const T) -> FfiResult<()> {
    // SAFETY: forwarded from the caller.
    let (mut c, user_data) = unsafe { read_info(handle_info(info)?, "info") }?;
    // From here on every return finalises user_data, unless the registry keeps it.
    // SAFETY: forwarded from the caller.
    let name = unsafe { str_arg(name, "name") }?;
    name_check(name)?;
    let (id, repo) = c.schema_views();
    // SAFETY: the views are readable, as the caller promises.
    let strings = unsafe { own_views(id, repo) }?;
    // SAFETY: a valid info; its views now point into strings, kept with it.
    let mut core = unsafe { T::core(&c, user_data) }?;
    *T::foreign(&mut core) = Some(Arc::new(Stored { c, _strings: strings }));
    // Dropped outside the registry's lock: its finalizer may call the library.
    drop(T::register(name, core));
    Ok(())
}

/// # Safety
/// `info` is NULL or readable.
unsafe fn handle_info<'a, T>(info: *const T) -> FfiResult<&'a T> {
    // SAFETY: forwarded from the caller.
    unsafe { info.as_ref() }.ok_or_else(|| FfiError::null("info"))
}

fn name_check(name: &str) -> FfiResult<()> {
    if name.is_empty() || is_path(name) {
        return Err(FfiError::invalid(format!(
            "plug-in name {} is empty or contains '/' (names with '/' are paths)",
            Quoted(name)
        )));
    }
    Ok(())
}

/// The C info of the backend named `name`, copied into `*out`: a name
/// registered with `hat_event_backend_register`, or a path (containing
/// '/') to a shared library exporting `hat_event_backend_info` (loaded with
/// `dlopen`, never unloaded; its export is called on the first import of
/// that library only). Its schema views stay valid for the life of the
/// process (registered names: until re-registered). The copy's `user_data`
/// still belongs to the registration (valid while it lasts) and its
/// `finalize_user_data` is NULL: never finalise it yourself. Thread-safe.
/// A plug-in library links the shared libhat_event; load plug-ins only into
/// hosts using that same shared library (a host linked with the static one
/// would run a second copy of the library).
/// A built-in backend (`"memory"`, `"hat.event.backends.memory"`) is a Rust
/// backend inside the engine, not a C plug-in: it has no C info and is
/// refused (`HAT_EVENT_ERR_IMPORT`, the message says it is built in); name
/// it in an engine configuration instead. A C backend that wants the
/// built-in query rules calls `hat_event_query_evaluate` over its events.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_UTF8`,
/// `HAT_EVENT_ERR_IMPORT` (unknown name, a built-in, missing file, missing
/// symbol, wrong ABI version; the message names the cause),
/// `HAT_EVENT_ERR_INVALID_JSON` (the library's schema repository is not
/// JSON), `HAT_EVENT_ERR_SCHEMA` (its schema cannot validate), as for
/// `hat_event_backend_register`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_import_backend_info(
    name: hat_event_str_t,
    out: *mut hat_event_backend_info_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: a readable view, as documented.
        let name = unsafe { str_arg(name, "name") }?;
        out.write(c_info_of("backend", name, import::<hat_event_backend_info_t>(name)?.0)?);
        Ok(())
    })
}

/// The module info named `name`, copied into `*out`: a registered name or a
/// path to a shared library exporting `hat_event_module_info`; as
/// `hat_event_import_backend_info`.
/// Errors: as `hat_event_import_backend_info`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_import_module_info(
    name: hat_event_str_t,
    out: *mut hat_event_module_info_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: a readable view, as documented.
        let name = unsafe { str_arg(name, "name") }?;
        out.write(c_info_of("module", name, import::<hat_event_module_info_t>(name)?.0)?);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::boundary::known_prefix;

    #[test]
    fn both_infos_keep_abi_version_and_struct_size_where_read_info_looks() {
        use std::mem::offset_of;
        assert_eq!(offset_of!(hat_event_backend_info_t, abi_version), 0);
        assert_eq!(offset_of!(hat_event_module_info_t, abi_version), 0);
        assert_eq!(offset_of!(hat_event_backend_info_t, struct_size), offset_of!(hat_event_module_info_t, struct_size));
        // 0.1's infos, frozen: the fields they share keep their types
        assert_eq!(std::mem::size_of::<InfoV1<hat_event_backend_create_t>>(), 56);
    }

    #[test]
    fn sizes_between_layouts_read_the_older_layout_and_others_are_refused() {
        use crate::ffi::server::engine::hat_event_engine_hooks_t as H;
        let (old, current) = (H::LAYOUTS[0], std::mem::size_of::<H>());
        assert!(old < current);
        assert_eq!(known_prefix::<H>(old, "").unwrap(), old);
        assert_eq!(known_prefix::<H>(current - 1, "").unwrap(), old);
        assert_eq!(known_prefix::<H>(current, "").unwrap(), current);
        assert!(known_prefix::<H>(old - 1, "").unwrap_err().message.contains("smallest hat_event_engine_hooks_t"));
        assert!(known_prefix::<H>(current + 8, "").unwrap_err().message.contains("newer header"));
        for last in [
            *hat_event_backend_t::LAYOUTS.last().unwrap() == std::mem::size_of::<hat_event_backend_t>(),
            *hat_event_module_t::LAYOUTS.last().unwrap() == std::mem::size_of::<hat_event_module_t>(),
            *H::LAYOUTS.last().unwrap() == current,
        ] {
            assert!(last);
        }
    }

    #[test]
    fn a_plugins_huge_message_is_cut_and_its_length_given() {
        let huge = "m".repeat(10 << 20);
        // SAFETY: a view of a live string.
        unsafe { hat_event_plugin_set_error(hat_event_str_t::from_str(&huge)) };
        let e = slot_error("module process", 27).to_string();
        assert!(e.len() < HAT_EVENT_PLUGIN_ERROR_MAX + 100, "{}", e.len());
        assert!(e.ends_with("... (10485760 bytes in all)"), "{}", &e[e.len() - 40..]);
        // SAFETY: as above.
        unsafe { hat_event_plugin_set_error(hat_event_str_t::from_str("short")) };
        assert_eq!(slot_error("module process", 27).to_string(), "module process failed (status 27): short");
    }
}
