//! The server side in C, mirroring `server/`: the engine; the backend and
//! module vtables with the one adapter each that makes a C plug-in a core
//! one (`backend.rs`, `module.rs`); the plug-in infos, their registration
//! into the core's one registry and loading by path (`registry.rs`); the
//! query rules for C backends (`query.rs`); and the eventer server
//! (`eventer_server.rs`).

// Header order: plug-in infos and registry, then the backend vtable,
// backend instances driven directly, the module vtable, the query rules for
// backends, the engine, and the eventer server in front of it.
pub mod registry;
pub mod backend;
pub mod backend_instance;
pub mod module;
pub mod query;
pub mod engine;
pub mod eventer_server;
