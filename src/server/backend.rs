//! Backends: where an engine stores the events of its sessions and what it
//! queries. The [`Backend`] trait mirrors hat-event's `common.Backend`; the
//! built-in implementations are in [`crate::server::backends`], a C
//! plug-in is wrapped by the one adapter of `ffi/server/registry.rs`.

use std::sync::Arc;

use crate::event::{Event, EventId, ServerId};
use crate::query::{QueryParams, QueryResult};
use crate::server::registry::PluginError;

/// Called by a backend with the events it has just registered (or flushed).
pub type EventsCallback = Box<dyn Fn(&[Arc<Event>]) + Send + Sync>;

/// The host's callbacks a backend is created with (both optional, as in
/// the reference).
#[derive(Default)]
pub struct BackendCallbacks {
    pub registered: Option<EventsCallback>,
    pub flushed: Option<EventsCallback>,
}

/// A backend. The engine serialises every call (one at a time, from any
/// thread), so methods take `&mut self`.
pub trait Backend: Send {
    /// The greatest event id of `server_id` registered so far;
    /// `(server_id, 0, 0)` if none.
    fn get_last_event_id(&mut self, server_id: ServerId) -> Result<EventId, PluginError>;

    /// Stores `events` (all of one session, in id order) and calls the
    /// registered (and, once durable, flushed) callback.
    /// Events are shared with the engine (which returns them to its
    /// caller): keep them by cloning the `Arc`, not the event.
    fn register(&mut self, events: &[Arc<Event>]) -> Result<(), PluginError>;

    /// Answers a query.
    fn query(&mut self, params: &QueryParams) -> Result<QueryResult, PluginError>;

    /// Makes everything registered so far durable.
    fn flush(&mut self) -> Result<(), PluginError>;
}
