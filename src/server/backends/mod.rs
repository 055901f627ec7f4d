//! The built-in backends: plain Rust [`Backend`](crate::server::backend::Backend)
//! implementations, registered by name in the
//! [`registry`](crate::server::registry) (hat-event's `backends/`).

pub mod lmdb;
pub mod memory;
