//! hat-event-c: the common layer of Hat Open's event system
//! (`hat.event.common` of the Python package `hat-event`) in Rust, exported
//! as a C ABI library with the generated header `include/hat/event.h`.
//!
//! Module map. The safe core, one file per concept, free of FFI types and
//! of `unsafe`, except where a crate makes a call unsafe: the LMDB
//! backend's opening of its file and its cursor delete (heed marks both
//! unsafe; each is allowed on its one function with the reason it is
//! sound):
//! - [`error`]: the core's error enum.
//! - [`timestamp`]: timestamps and their conversions (bytes, float,
//!   calendar, RFC 3339).
//! - [`event_type`]: event types and `matches_query_type`.
//! - [`event`]: event ids, payloads, events, register events, sources,
//!   server status, and the event orders.
//! - [`query`]: query parameters and results.
//! - [`json`]: JSON text exactly as hat-event reads it (Python's `json.loads`: any
//!   depth, lone surrogates) and writes it (`json.dumps`).
//! - [`json_form`]: events and query results as hat-event's manager prints them, and back.
//! - [`message`]: eventer protocol messages (`HatEventer.Msg*`) as one type.
//! - [`sbs`]: the SBS wire codec of the `HatEventer` protocol types and messages.
//! - [`subscription`]: sets of query types; matching and set operations.
//! - [`collection`]: subscriptions mapped to caller values (event routing).
//! - [`eventer`]: a client of a running Hat event server (chatter framing,
//!   the eventer protocol, a reader thread).
//! - `type_index`, `trie`: the lookup structures those two share;
//!   `type_set`: the compact set of a subscription's literal query types.
//! - [`server`]: the server side, as hat-event lays it out: the in-process
//!   engine (`server::engine`), the backend and module interfaces
//!   (`server::backend`, `server::module`), the one plug-in registry
//!   (`server::registry`: infos, names, plug-in errors), the query rules
//!   every backend shares (`server::query`) and the built-in backends
//!   (`server::backends`: memory).
//! - [`json_schema`]: validation of plug-in configurations.
//!
//! The `extern "C"` layer, [`ffi`], mirrors those files one to one
//! (`ffi/server/` mirroring `server/`) and adds
//! `ffi/boundary.rs`, the single place that holds status codes, the
//! thread-local last error, panic catching and pointer checks.
#![deny(unsafe_code)]

pub mod collection;
pub mod error;
pub mod event;
pub mod event_type;
pub mod eventer;
pub mod json;
pub mod json_form;
pub mod json_schema;
pub mod message;
pub mod query;
pub mod sbs;
pub mod server;
pub mod subscription;
#[cfg(test)]
mod test_rng;
pub mod timestamp;
mod trie;
mod type_index;
mod type_set;

#[allow(unsafe_code)]
pub mod ffi;
