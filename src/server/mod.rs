//! The server side, laid out as hat-event's `server/` and `backends/`: the
//! in-process [`engine`], the [`backend::Backend`] and [`module::Module`]
//! interfaces, the one plug-in [`registry`] (built-in backends and C
//! plug-ins alike), the query rules every backend shares ([`query`]) and
//! the built-in [`backends`]. The eventer server and the LMDB backend
//! belong here too.

pub mod backend;
pub mod backends;
pub mod engine;
pub mod module;
pub mod query;
pub mod registry;
