//! The server side in C, mirroring `server/`: the engine; the backend and
//! module vtables with the one adapter each that makes a C plug-in a core
//! one (`backend.rs`, `module.rs`); the plug-in infos, their registration
//! into the core's one registry and loading by path (`registry.rs`); and
//! the query rules for C backends (`query.rs`).

// Header order: plug-in infos and registry, then the backend and module
// vtables, the query rules for backends, and the engine last.
pub mod registry;
pub mod backend;
pub mod module;
pub mod query;
pub mod engine;
