//! The server side in C, mirroring `server/`: the engine, and the plug-in
//! registry with its vtables and the one adapter that wraps a C backend or
//! module as a core one.

pub mod engine;
pub mod registry;
