//! Events per second through the in-process engine: one module (subscribed
//! to ('sensor', '*'), deriving nothing) and the memory backend, events
//! registered from one thread one per session and 100 per session. The
//! same cases through hat-event's Engine: benches/hat_engine.py.
//!
//!   cargo bench --bench engine [filter]

#[path = "harness/mod.rs"]
mod harness;

use std::sync::Arc;

use hat_event::event::{Event, RegisterEvent, Source, SourceType};
use hat_event::server::engine::{Engine, EngineHooks, EngineRef};
use hat_event::server::module::Module;
use hat_event::server::registry::{register_module, ModuleInfo, PluginError, Registered};
use hat_event::subscription::Subscription;

struct Sink {
    subscription: Subscription,
}

impl Module for Sink {
    fn subscription(&self) -> &Subscription {
        &self.subscription
    }
    fn process(&mut self, _source: Source, _event: &Event) -> Result<Vec<RegisterEvent>, PluginError> {
        Ok(Vec::new())
    }
}

fn main() {
    let filter = harness::filter();
    register_module(
        "bench.sink",
        ModuleInfo {
            create: Arc::new(|_conf, _engine: EngineRef, _source| {
                Ok(Box::new(Sink { subscription: Subscription::new([["sensor", "*"]]).unwrap() }) as Box<dyn Module>)
            }),
            schema: None,
            foreign: None,
        },
    );
    let conf =
        serde_json::json!({"server_id": 1, "backend": {"module": "memory"}, "modules": [{"module": "bench.sink"}]});
    let source = Source { type_: SourceType::Eventer, id: 1 };
    let event = RegisterEvent {
        type_: vec!["sensor".into(), "temperature".into()],
        source_timestamp: None,
        payload: Some(hat_event::event::EventPayload::Json(hat_event::json::JsonPayload::from_value(
            serde_json::json!(21.5),
        ))),
    };
    for batch in [1usize, 100] {
        const EVENTS: usize = 20_000;
        harness::measure(&format!("engine_register_batch_{batch}"), &filter, || {
            let engine = Engine::create(&conf, &Registered, EngineHooks::default()).unwrap();
            let events = vec![event.clone(); batch];
            let r = harness::time(|| {
                for _ in 0..EVENTS / batch {
                    engine.register(source, &events).unwrap();
                }
                EVENTS
            });
            drop(engine);
            r
        });
    }
}
