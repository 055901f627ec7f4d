//! The server side, laid out as hat-event's `server/` and `backends/`: the
//! in-process [`engine`], the [`backend::Backend`] and [`module::Module`]
//! interfaces, the one plug-in [`registry`] (built-in backends and C
//! plug-ins alike), the query rules every backend shares ([`query`]) and
//! the built-in [`backends`], and the [`eventer_server`] that serves the
//! eventer protocol in front of an engine. The LMDB backend belongs here too.

pub mod backend;
pub mod backends;
pub mod engine;
pub mod eventer_server;
pub(crate) mod id_map;
pub mod module;
pub mod query;
pub mod registry;
