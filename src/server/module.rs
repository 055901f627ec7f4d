//! Modules: what processes the events of a session in the engine (hat-event's
//! `common.Module`). A C plug-in module is wrapped by the one adapter of
//! `ffi/server/registry.rs`.

use std::sync::Arc;

use crate::event::{Event, RegisterEvent, SessionId, Source};
use crate::server::registry::PluginError;
use crate::subscription::Subscription;

/// A module: processes the session events its subscription matches.
/// The engine calls a module from one thread at a time (whichever thread
/// runs the session), never concurrently.
pub trait Module: Send {
    /// The event types this module processes; constant for its lifetime.
    fn subscription(&self) -> &Subscription;

    /// Called before a session's events are processed.
    fn on_session_start(&mut self, _session_id: SessionId) -> Result<(), PluginError> {
        Ok(())
    }

    /// Called after a session's events are processed, before the backend
    /// registers them.
    fn on_session_stop(&mut self, _session_id: SessionId) -> Result<(), PluginError> {
        Ok(())
    }

    /// Processes one event of the session; the register events returned
    /// become events of the same session. The event is shared with the
    /// engine: keep it by cloning the `Arc`.
    fn process(&mut self, source: Source, event: &Arc<Event>) -> Result<Vec<RegisterEvent>, PluginError>;
}
