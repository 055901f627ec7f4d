//! The benchmarks' one engine module (benches/engine.rs, benches/lmdb.rs,
//! examples/type_counts.rs): subscribed to `('sensor', '*')`, it processes
//! every event and derives nothing, so that an engine case measures the
//! engine's own work per event.

use std::sync::Arc;

use hat_event::event::{Event, RegisterEvent, Source};
use hat_event::server::engine::EngineRef;
use hat_event::server::module::Module;
use hat_event::server::registry::{register_module, ModuleInfo, PluginError};
use hat_event::subscription::Subscription;

struct Sink {
    subscription: Subscription,
}

impl Module for Sink {
    fn subscription(&self) -> &Subscription {
        &self.subscription
    }
    fn process(&mut self, _source: Source, _event: &Arc<Event>) -> Result<Vec<RegisterEvent>, PluginError> {
        Ok(Vec::new())
    }
}

/// Registers the module under `name`.
pub fn register(name: &str) {
    register_module(
        name,
        ModuleInfo {
            create: Arc::new(|_conf, _engine: EngineRef, _source| {
                Ok(Box::new(Sink { subscription: Subscription::new([["sensor", "*"]]).unwrap() }) as Box<dyn Module>)
            }),
            schema: None,
            foreign: None,
        },
    );
}
