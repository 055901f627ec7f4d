//! The server side in C, mirroring `server/`: the engine, the plug-in
//! registry with its vtables and the one adapter that wraps a C backend or
//! module as a core one, and the query rules for C backends.

pub mod engine;
pub mod query;
pub mod registry;
