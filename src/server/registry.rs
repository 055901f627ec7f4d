//! Plug-ins: what a backend or module implementation exposes (its info),
//! the one in-process registry of infos by name, and the errors plug-ins and
//! the engine report. The counterpart of hat-event's `BackendInfo`,
//! `ModuleInfo`, `import_backend_info` and `import_module_info`.
//!
//! One registry holds built-in and C plug-ins alike. A built-in backend
//! (memory, lmdb) is a plain Rust [`Backend`] registered here by name
//! when the registry is first used. A C plug-in, registered with
//! `hat_event_backend_register`/`_module_register`, is wrapped by the one
//! generic adapter of `ffi/server/registry.rs` into the same [`BackendInfo`]
//! or [`ModuleInfo`], which keeps the C info as its [`Foreign`] part so that
//! `hat_event_import_*_info` can give it back. No Rust backend is exposed as
//! a C info: a built-in has no [`Foreign`] part, and importing it from C is
//! refused. Shared libraries named by a path are not names: the FFI layer
//! loads them (`dlopen`) and wraps their infos with the same adapter.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{bounded_message, Quoted};
use crate::event::Source;
use crate::server::backend::{Backend, BackendCallbacks};
use crate::server::backends::lmdb::{LmdbBackend, LMDB_BACKEND_NAME, LMDB_SCHEMA_ID};
use crate::server::backends::memory::MemoryBackend;
use crate::server::engine::EngineRef;
use crate::server::module::Module;

/// Why a plug-in or engine operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    /// The engine configuration is malformed (not the shape hat's server
    /// configuration has).
    #[error("invalid configuration: {0}")]
    Config(String),

    /// A plug-in could not be imported (unknown name, missing file or
    /// symbol, ABI version mismatch).
    #[error("{0}")]
    Import(String),

    /// A plug-in's configuration does not follow its JSON schema.
    #[error("configuration does not follow schema {}: {}", Quoted(.id), bounded_message(.message, VALIDATOR_MESSAGE_LIMIT))]
    Schema { id: String, message: String },

    /// A plug-in's JSON schema cannot validate anything: its id is not in
    /// its repository, or it does not compile.
    #[error("json_schema_id {} cannot be used: {}", Quoted(.id), bounded_message(.message, VALIDATOR_MESSAGE_LIMIT))]
    UnusableSchema { id: String, message: String },

    /// A plug-in callback reported a failure.
    #[error("{0}")]
    Failed(String),

    /// The engine is closed.
    #[error("engine closed")]
    Closed,

    /// A hook the host gave the engine answered something unusable (see
    /// the `client_names` hook).
    #[error("{0}")]
    Host(String),

    /// A call that would deadlock: `register` from inside a module or
    /// backend callback of a session on the same thread, or `query` from
    /// inside a backend callback.
    #[error("{0}")]
    Reentrant(String),
}

/// Creates a backend from its configuration and the host's callbacks.
pub type CreateBackend =
    Arc<dyn Fn(&serde_json::Value, BackendCallbacks) -> Result<Box<dyn Backend>, PluginError> + Send + Sync>;

/// Creates a module from its configuration, the engine it runs in and its
/// source (`Module`, index in the configuration).
pub type CreateModule =
    Arc<dyn Fn(&serde_json::Value, EngineRef, Source) -> Result<Box<dyn Module>, PluginError> + Send + Sync>;

/// A JSON schema a plug-in's configuration is validated against: `id` in
/// the repository `repo`, hat's JSON form of a schema repository (an object
/// mapping schema ids to schemas). As in hat, a plug-in's configuration is
/// validated only when it declares both.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfSchema {
    pub id: String,
    pub repo: serde_json::Value,
}

/// What the adapter that made an info from a foreign (C) plug-in keeps with
/// it: the plug-in's own info, for giving it back in the plug-in's terms.
/// Opaque to the core.
pub type Foreign = Arc<dyn Any + Send + Sync>;

/// What a backend implementation exposes (hat's `BackendInfo`).
#[derive(Clone)]
pub struct BackendInfo {
    pub create: CreateBackend,
    pub schema: Option<ConfSchema>,
    /// `None` for a built-in (Rust) backend; for a C plug-in, what its
    /// adapter keeps (see [`Foreign`]).
    pub foreign: Option<Foreign>,
}

/// What a module implementation exposes (hat's `ModuleInfo`).
#[derive(Clone)]
pub struct ModuleInfo {
    pub create: CreateModule,
    pub schema: Option<ConfSchema>,
    /// As [`BackendInfo::foreign`].
    pub foreign: Option<Foreign>,
}

impl BackendInfo {
    /// A built-in backend's info: no foreign part.
    pub fn builtin(create: CreateBackend, schema: Option<ConfSchema>) -> BackendInfo {
        BackendInfo { create, schema, foreign: None }
    }
}

impl ModuleInfo {
    /// A Rust module's info: no foreign part.
    pub fn builtin(create: CreateModule, schema: Option<ConfSchema>) -> ModuleInfo {
        ModuleInfo { create, schema, foreign: None }
    }
}

/// Finds plug-in infos by the name in a configuration's `module` field.
pub trait Resolver {
    fn backend_info(&self, name: &str) -> Result<BackendInfo, PluginError>;
    fn module_info(&self, name: &str) -> Result<ModuleInfo, PluginError>;
}

/// The name the memory backend is registered under, as in hat-event.
pub const MEMORY_BACKEND_NAME: &str = "hat.event.backends.memory";

#[derive(Default)]
struct Registry {
    backends: HashMap<String, BackendInfo>,
    modules: HashMap<String, ModuleInfo>,
}

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut r = Registry::default();
        let memory = BackendInfo::builtin(
            Arc::new(|_conf, callbacks| Ok(Box::new(MemoryBackend::new(callbacks)) as Box<dyn Backend>)),
            None,
        );
        r.backends.insert(MEMORY_BACKEND_NAME.into(), memory.clone());
        r.backends.insert("memory".into(), memory);
        let lmdb = BackendInfo::builtin(
            Arc::new(|conf, callbacks| Ok(Box::new(LmdbBackend::create(conf, callbacks)?) as Box<dyn Backend>)),
            Some(ConfSchema { id: LMDB_SCHEMA_ID.into(), repo: shipped_schema_repo() }),
        );
        r.backends.insert(LMDB_BACKEND_NAME.into(), lmdb.clone());
        r.backends.insert("lmdb".into(), lmdb);
        Mutex::new(r)
    })
}

/// hat-event's JSON schema repository, as shipped in `src/schemas/`.
fn shipped_schema_repo() -> serde_json::Value {
    serde_json::from_str(include_str!("../schemas/json_schema_repo.json")).unwrap_or_default()
}

fn lock() -> std::sync::MutexGuard<'static, Registry> {
    registry().lock().unwrap_or_else(|e| e.into_inner())
}

/// Registers (or replaces) a backend under `name` for this process; returns
/// the info it replaced (drop it where no lock of yours is held: a C
/// plug-in's finalizer may run then). The memory backend is registered as
/// `"hat.event.backends.memory"` and `"memory"` (a later registration under
/// either name replaces it, as for any name).
pub fn register_backend(name: &str, info: BackendInfo) -> Option<BackendInfo> {
    lock().backends.insert(name.into(), info)
}

/// Registers (or replaces) a module under `name` for this process; as
/// [`register_backend`].
pub fn register_module(name: &str, info: ModuleInfo) -> Option<ModuleInfo> {
    lock().modules.insert(name.into(), info)
}

/// The process registry as a [`Resolver`].
pub struct Registered;

impl Resolver for Registered {
    fn backend_info(&self, name: &str) -> Result<BackendInfo, PluginError> {
        lock()
            .backends
            .get(name)
            .cloned()
            .ok_or_else(|| PluginError::Import(format!("no backend registered as {}", Quoted(name))))
    }

    fn module_info(&self, name: &str) -> Result<ModuleInfo, PluginError> {
        lock()
            .modules
            .get(name)
            .cloned()
            .ok_or_else(|| PluginError::Import(format!("no module registered as {}", Quoted(name))))
    }
}

/// The most bytes of a validator's message kept in a [`PluginError::Schema`]
/// message: the validator quotes the offending values whole.
pub const VALIDATOR_MESSAGE_LIMIT: usize = 256;

/// Checks that `schema` can validate: its id is in its repository and
/// compiles. Done when a plug-in is registered or imported, so that a
/// broken schema is reported then, naming the id as the plug-in gave it,
/// and not at the first engine that uses the plug-in.
pub fn check_schema(schema: &ConfSchema) -> Result<(), PluginError> {
    crate::json_schema::check(&schema.id, &schema.repo)
        .map_err(|message| PluginError::UnusableSchema { id: schema.id.clone(), message })
}

/// Validates `conf` against `schema` (see [`crate::json_schema`]).
pub fn validate_conf(schema: &ConfSchema, conf: &serde_json::Value) -> Result<(), PluginError> {
    crate::json_schema::validate(&schema.id, &schema.repo, conf)
        .map_err(|message| PluginError::Schema { id: schema.id.clone(), message })
}
