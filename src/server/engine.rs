//! The in-process engine: hat-event's `server/engine.py` without asyncio.
//!
//! A register call opens a session: session id + 1, instances from 1, one
//! timestamp for every event of the session. Every module whose
//! subscription matches an event processes it, modules in configuration
//! order; the events they return are processed in turn until none are
//! produced; then the backend registers all events of the session at once.
//! At creation the engine registers `('event', '<server_id>', 'engine')`
//! with payload `"STARTED"` (a session modules see) and at close the same
//! type with `"STOPPED"` (straight to the backend, as the reference does).
//!
//! Threads. Sessions are serialised by one lock, so any number of threads
//! may call [`Engine::register`] at once; each session's ids are gapless.
//! Backend calls are serialised by a second lock taken after the first.
//! Re-entrancy is defined, not left to deadlock: on the thread running a
//! session, `register` (from a module's callbacks or the backend's
//! registered/flushed callbacks) fails with [`PluginError::Reentrant`]
//! and leaves the session as it was; `query` works from module callbacks
//! (the backend lock is free while modules run) and fails with
//! `Reentrant` from the backend's own callbacks.
//!
//! Failures. A module or backend failure fails that register call with the
//! plug-in's message; nothing of the session is registered and its session
//! id is not reused; the engine stays open. (The reference closes the
//! engine when a module raises, and returns `None` when the backend does.)

use std::borrow::Borrow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::event::{Event, EventId, EventPayload, RegisterEvent, ServerId, Source, SourceType};
use crate::event_type::EventType;
use crate::json::JsonPayload;
use crate::query::{QueryParams, QueryResult};
use crate::server::backend::{Backend, BackendCallbacks, EventsCallback};
use crate::server::module::Module;
use crate::server::registry::{validate_conf, PluginError, Resolver};
use crate::timestamp::Timestamp;

/// The host's list of eventer clients as (source, client name), or why the
/// host could not give it ([`PluginError::Host`]).
pub type ClientNamesHook = Box<dyn Fn() -> Result<Vec<(Source, String)>, PluginError> + Send + Sync>;

/// What the host gives the engine besides its configuration: the backend's
/// registered/flushed callbacks and the engine's own (hat's `restart_cb`,
/// `reset_monitor_ready_cb`, and the eventer server's client names).
#[derive(Default)]
pub struct EngineHooks {
    pub registered: Option<EventsCallback>,
    pub flushed: Option<EventsCallback>,
    pub restart: Option<Box<dyn Fn() + Send + Sync>>,
    pub reset_monitor_ready: Option<Box<dyn Fn() + Send + Sync>>,
    pub client_names: Option<ClientNamesHook>,
}

/// The engine's configuration, hat's server configuration in small:
/// `{"server_id": 1, "backend": {"module": "..."}, "modules": [{"module": "..."}]}`.
/// Each plug-in receives its whole object (including `module`) as its
/// configuration, as in hat.
#[derive(Clone, Debug, PartialEq)]
pub struct EngineConf {
    pub server_id: ServerId,
    pub backend: serde_json::Value,
    pub modules: Vec<serde_json::Value>,
}

fn plugin_name<'a>(conf: &'a serde_json::Value, what: &str) -> Result<&'a str, PluginError> {
    conf.get("module")
        .and_then(|m| m.as_str())
        .ok_or_else(|| PluginError::Config(format!("{what} needs a string 'module'")))
}

impl EngineConf {
    /// Reads the configuration from its JSON form.
    pub fn from_json(conf: &serde_json::Value) -> Result<EngineConf, PluginError> {
        let server_id = conf
            .get("server_id")
            .and_then(|v| v.as_i64())
            .ok_or_else(|| PluginError::Config("'server_id' must be an integer".into()))?;
        let backend = conf.get("backend").cloned().ok_or_else(|| PluginError::Config("'backend' is missing".into()))?;
        plugin_name(&backend, "'backend'")?;
        let modules = match conf.get("modules") {
            None => Vec::new(),
            Some(serde_json::Value::Array(m)) => m.clone(),
            Some(_) => return Err(PluginError::Config("'modules' must be an array".into())),
        };
        for (i, m) in modules.iter().enumerate() {
            plugin_name(m, &format!("'modules[{i}]'"))?;
        }
        Ok(EngineConf { server_id, backend, modules })
    }
}

thread_local! {
    static THREAD_TOKEN: u64 = {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        NEXT.fetch_add(1, Ordering::Relaxed)
    };
}

fn thread_token() -> u64 {
    THREAD_TOKEN.with(|t| *t)
}

/// A mutex that knows which thread holds it, so that a re-entrant attempt
/// fails instead of deadlocking.
struct OwnedMutex<T> {
    inner: Mutex<T>,
    owner: AtomicU64,
}

struct OwnedGuard<'a, T> {
    guard: MutexGuard<'a, T>,
    owner: &'a AtomicU64,
}

impl<T> OwnedMutex<T> {
    fn new(value: T) -> Self {
        OwnedMutex { inner: Mutex::new(value), owner: AtomicU64::new(0) }
    }

    fn lock(&self, reentrant: &str) -> Result<OwnedGuard<'_, T>, PluginError> {
        let me = thread_token();
        if self.owner.load(Ordering::Relaxed) == me {
            return Err(PluginError::Reentrant(reentrant.into()));
        }
        let guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        self.owner.store(me, Ordering::Relaxed);
        Ok(OwnedGuard { guard, owner: &self.owner })
    }
}

impl<T> Drop for OwnedGuard<'_, T> {
    fn drop(&mut self) {
        self.owner.store(0, Ordering::Relaxed);
    }
}

impl<T> std::ops::Deref for OwnedGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> std::ops::DerefMut for OwnedGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

struct Session {
    last_event_id: EventId,
    modules: Vec<(Source, Box<dyn Module>)>,
}

struct Shared {
    server_id: ServerId,
    session: OwnedMutex<Session>,
    backend: OwnedMutex<Option<Box<dyn Backend>>>,
    closed: AtomicBool,
    restart: Option<Box<dyn Fn() + Send + Sync>>,
    reset_monitor_ready: Option<Box<dyn Fn() + Send + Sync>>,
    client_names: Option<ClientNamesHook>,
}

const REENTRANT_REGISTER: &str =
    "register called from inside a session on the same thread (a module or backend callback); it would deadlock";
const REENTRANT_QUERY: &str = "query called from inside a backend call on the same thread; it would deadlock";

/// The engine, owned by the host; dropping it closes it (see [`Engine::close`]).
pub struct Engine {
    shared: Arc<Shared>,
}

/// The engine as a module sees it: does not keep the engine alive; every
/// call fails with [`PluginError::Closed`] once the engine is gone.
#[derive(Clone)]
pub struct EngineRef {
    shared: Weak<Shared>,
}

impl Shared {
    fn status_event(&self, status: &str) -> RegisterEvent {
        RegisterEvent {
            type_: EventType::new(&["event", &self.server_id.to_string(), "engine"]),
            source_timestamp: None,
            payload: Some(Arc::new(EventPayload::Json(JsonPayload::from_value(serde_json::Value::String(
                status.into(),
            ))))),
        }
    }

    fn register(&self, source: Source, register_events: impl SessionInput) -> Result<Vec<Arc<Event>>, PluginError> {
        self.register_then(source, register_events, |_| {})
    }

    /// [`register`](Self::register), then `then` with the caller's events
    /// before the session ends: no other session runs in between.
    fn register_then(
        &self,
        source: Source,
        register_events: impl SessionInput,
        then: impl FnOnce(&[Arc<Event>]),
    ) -> Result<Vec<Arc<Event>>, PluginError> {
        let count = register_events.count();
        if count == 0 {
            return Ok(Vec::new());
        }
        let mut session = self.session.lock(REENTRANT_REGISTER)?;
        if self.closed.load(Ordering::Acquire) {
            return Err(PluginError::Closed);
        }
        let mut events = process_session(&mut session, source, register_events)?;
        let mut backend = self.backend.lock(REENTRANT_REGISTER)?;
        backend.as_mut().ok_or(PluginError::Closed)?.register(&events)?;
        events.truncate(count);
        then(&events);
        Ok(events)
    }

    fn query(&self, params: &QueryParams) -> Result<QueryResult, PluginError> {
        let mut backend = self.backend.lock(REENTRANT_QUERY)?;
        backend.as_mut().ok_or(PluginError::Closed)?.query(params)
    }
}

/// The register events a session starts from: borrowed ones are copied
/// into the session's events, owned ones moved (no copy of their types).
pub trait SessionInput {
    /// How many register events there are.
    fn count(&self) -> usize;
    /// Each as the next event of the session.
    fn into_events(self, last: &mut EventId, timestamp: Timestamp) -> Vec<Arc<Event>>;
}

impl<R: Borrow<RegisterEvent>> SessionInput for &[R] {
    fn count(&self) -> usize {
        <[R]>::len(self)
    }
    fn into_events(self, last: &mut EventId, timestamp: Timestamp) -> Vec<Arc<Event>> {
        self.iter().map(|e| Arc::new(next_event(last, timestamp, e.borrow().clone()))).collect()
    }
}

impl SessionInput for Vec<RegisterEvent> {
    fn count(&self) -> usize {
        Vec::len(self)
    }
    fn into_events(self, last: &mut EventId, timestamp: Timestamp) -> Vec<Arc<Event>> {
        self.into_iter().map(|e| Arc::new(next_event(last, timestamp, e))).collect()
    }
}

fn next_event(last: &mut EventId, timestamp: Timestamp, e: RegisterEvent) -> Event {
    last.instance += 1;
    Event { id: *last, type_: e.type_, timestamp, source_timestamp: e.source_timestamp, payload: e.payload }
}

fn module_error(source: Source, e: PluginError) -> PluginError {
    match e {
        PluginError::Failed(m) => PluginError::Failed(format!("module {}: {m}", source.id)),
        other => other,
    }
}

/// Runs one session through the modules; all its events, the caller's first.
fn process_session(
    session: &mut Session,
    source: Source,
    register_events: impl SessionInput,
) -> Result<Vec<Arc<Event>>, PluginError> {
    let Session { last_event_id, modules } = session;
    last_event_id.session += 1;
    last_event_id.instance = 0;
    let session_id = last_event_id.session;
    let timestamp = Timestamp::now();
    for (s, m) in modules.iter_mut() {
        m.on_session_start(session_id).map_err(|e| module_error(*s, e))?;
    }
    // Each event in its own Arc from the start: the backend keeps another
    // reference and the caller gets these, with no copy and no second list.
    let mut events = register_events.into_events(last_event_id, timestamp);
    let mut input: Vec<(Source, usize)> = (0..events.len()).map(|i| (source, i)).collect();
    while !input.is_empty() {
        let mut output = Vec::new();
        for (module_source, module) in modules.iter_mut() {
            for &(input_source, i) in &input {
                if !module.subscription().matches_type(&events[i].type_) {
                    continue;
                }
                let produced = module.process(input_source, &events[i]).map_err(|e| module_error(*module_source, e))?;
                for e in produced {
                    output.push((*module_source, events.len()));
                    events.push(Arc::new(next_event(last_event_id, timestamp, e)));
                }
            }
        }
        input = output;
    }
    for (s, m) in modules.iter_mut() {
        m.on_session_stop(session_id).map_err(|e| module_error(*s, e))?;
    }
    Ok(events)
}

impl Engine {
    /// Creates the backend and the modules of `conf` (found through
    /// `resolver`, each configuration validated against the plug-in's
    /// schema first), then registers the `"STARTED"` session.
    pub fn create(
        conf: &serde_json::Value,
        resolver: &dyn Resolver,
        hooks: EngineHooks,
    ) -> Result<Engine, PluginError> {
        let conf = EngineConf::from_json(conf)?;
        let backend_info = resolver.backend_info(plugin_name(&conf.backend, "'backend'")?)?;
        if let Some(schema) = &backend_info.schema {
            validate_conf(schema, &conf.backend)?;
        }
        let mut backend = (backend_info.create)(
            &conf.backend,
            BackendCallbacks { registered: hooks.registered, flushed: hooks.flushed },
        )?;
        let last_event_id = backend.get_last_event_id(conf.server_id)?;
        let shared = Arc::new(Shared {
            server_id: conf.server_id,
            session: OwnedMutex::new(Session { last_event_id, modules: Vec::new() }),
            backend: OwnedMutex::new(Some(backend)),
            closed: AtomicBool::new(false),
            restart: hooks.restart,
            reset_monitor_ready: hooks.reset_monitor_ready,
            client_names: hooks.client_names,
        });
        let engine = Engine { shared };
        let started = (|| {
            let mut modules = Vec::with_capacity(conf.modules.len());
            for (i, module_conf) in conf.modules.iter().enumerate() {
                let source = Source { type_: SourceType::Module, id: i as i64 };
                let info = resolver.module_info(plugin_name(module_conf, "module")?)?;
                if let Some(schema) = &info.schema {
                    validate_conf(schema, module_conf)?;
                }
                let engine_ref = engine.as_ref();
                modules.push((
                    source,
                    (info.create)(module_conf, engine_ref, source).map_err(|e| module_error(source, e))?,
                ));
            }
            engine.shared.session.lock(REENTRANT_REGISTER)?.modules = modules;
            let started = engine.shared.status_event("STARTED");
            engine.shared.register(Source { type_: SourceType::Engine, id: 0 }, vec![started])
        })();
        if let Err(e) = started {
            // An engine that never started registers no STOPPED: dropping it
            // finalises the modules created so far, then the backend.
            engine.shared.closed.store(true, Ordering::Release);
            return Err(e);
        }
        Ok(engine)
    }

    /// A handle for modules (and hosts) that does not keep the engine alive.
    pub fn as_ref(&self) -> EngineRef {
        EngineRef { shared: Arc::downgrade(&self.shared) }
    }

    /// The configured server id.
    pub fn server_id(&self) -> ServerId {
        self.shared.server_id
    }

    /// Registers `events` from `source` as one session (plus whatever the
    /// modules derive); returns the caller's events with their ids and
    /// timestamp. An empty list opens no session. The register events are
    /// borrowed (`&[RegisterEvent]`, or `&[&RegisterEvent]` to avoid copies).
    pub fn register<R: Borrow<RegisterEvent>>(
        &self,
        source: Source,
        events: &[R],
    ) -> Result<Vec<Arc<Event>>, PluginError> {
        self.shared.register(source, events)
    }

    /// As [`register`](Self::register), taking the register events by
    /// value: their types and payloads move into the events instead of
    /// being copied (what a server that decoded them does).
    pub fn register_owned(&self, source: Source, events: Vec<RegisterEvent>) -> Result<Vec<Arc<Event>>, PluginError> {
        self.shared.register(source, events)
    }

    /// As [`register`](Self::register), then calls `then` with the
    /// returned events while the session still holds the engine: after the
    /// backend has registered them (and so after every subscriber was
    /// notified of them) and before any other session starts. A server
    /// uses it to start notifying a new client of what is registered after
    /// the client's CONNECTED event and of nothing before, as the
    /// reference's single-threaded loop does. `then` runs while the
    /// session holds the engine: a register or query from it fails with
    /// [`PluginError::Reentrant`], and one from another thread waits.
    pub fn register_then<R: Borrow<RegisterEvent>>(
        &self,
        source: Source,
        events: &[R],
        then: impl FnOnce(&[Arc<Event>]),
    ) -> Result<Vec<Arc<Event>>, PluginError> {
        self.shared.register_then(source, events, then)
    }

    /// Queries the backend.
    pub fn query(&self, params: &QueryParams) -> Result<QueryResult, PluginError> {
        self.shared.query(params)
    }

    /// Closes the engine: waits for a running session, registers the
    /// `"STOPPED"` event straight to the backend, finalises the modules (in
    /// order), flushes and finalises the backend. Later calls fail with
    /// [`PluginError::Closed`]; closing again does nothing.
    pub fn close(&self) -> Result<(), PluginError> {
        let mut session = self.shared.session.lock("close called from inside a session")?;
        if self.shared.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let Session { last_event_id, modules } = &mut *session;
        last_event_id.session += 1;
        last_event_id.instance = 0;
        let stopped = next_event(last_event_id, Timestamp::now(), self.shared.status_event("STOPPED"));
        let modules = std::mem::take(modules);
        let mut backend = self.shared.backend.lock(REENTRANT_REGISTER)?;
        let mut result = backend.as_mut().ok_or(PluginError::Closed)?.register(&[Arc::new(stopped)]);
        drop(backend);
        drop(session);
        // Module finalisers may call the engine: they find it closed.
        drop(modules);
        let backend = self.shared.backend.lock(REENTRANT_REGISTER)?.take();
        if let Some(mut backend) = backend {
            let flushed = backend.flush();
            result = result.and(flushed);
        }
        result
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

impl EngineRef {
    fn shared(&self) -> Result<Arc<Shared>, PluginError> {
        self.shared.upgrade().ok_or(PluginError::Closed)
    }

    /// The configured server id (0 once the engine is gone).
    pub fn server_id(&self) -> ServerId {
        self.shared.upgrade().map_or(0, |s| s.server_id)
    }

    /// As [`Engine::register`]; from inside this engine's session on the
    /// same thread it fails with [`PluginError::Reentrant`].
    pub fn register<R: Borrow<RegisterEvent>>(
        &self,
        source: Source,
        events: &[R],
    ) -> Result<Vec<Arc<Event>>, PluginError> {
        self.shared()?.register(source, events)
    }

    /// As [`Engine::query`].
    pub fn query(&self, params: &QueryParams) -> Result<QueryResult, PluginError> {
        self.shared()?.query(params)
    }

    /// Asks the host to restart the engine (hat's `restart`); does nothing
    /// if the host gave no restart hook.
    pub fn restart(&self) {
        if let Some(cb) = self.shared.upgrade().as_ref().and_then(|s| s.restart.as_ref()) {
            cb()
        }
    }

    /// Asks the host to reset the monitor's ready flag (hat's `reset_monitor_ready`).
    pub fn reset_monitor_ready(&self) {
        if let Some(cb) = self.shared.upgrade().as_ref().and_then(|s| s.reset_monitor_ready.as_ref()) {
            cb()
        }
    }

    /// The names of the clients of the host's eventer server; empty if the
    /// host gave no such hook. Fails only when the host's hook does.
    pub fn client_names(&self) -> Result<Vec<(Source, String)>, PluginError> {
        self.shared.upgrade().as_ref().and_then(|s| s.client_names.as_ref()).map_or_else(|| Ok(Vec::new()), |cb| cb())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::SessionId;
    use crate::query::QueryServerParams;
    use crate::server::backends::memory::MemoryBackend;
    use crate::server::registry::{BackendInfo, ConfSchema, ModuleInfo, Registered};
    use crate::subscription::Subscription;
    use serde_json::json;
    use std::collections::HashMap;
    use std::sync::mpsc;

    /// A memory backend the test keeps a handle to, surviving engines.
    #[derive(Clone, Default)]
    struct Store(Arc<Mutex<MemoryBackend>>);

    impl Backend for Store {
        fn get_last_event_id(&mut self, server_id: ServerId) -> Result<EventId, PluginError> {
            self.0.lock().unwrap().get_last_event_id(server_id)
        }
        fn register(&mut self, events: &[Arc<Event>]) -> Result<(), PluginError> {
            self.0.lock().unwrap().register(events)
        }
        fn query(&mut self, params: &QueryParams) -> Result<QueryResult, PluginError> {
            self.0.lock().unwrap().query(params)
        }
        fn flush(&mut self) -> Result<(), PluginError> {
            Ok(())
        }
    }

    impl Store {
        fn all(&self, server_id: ServerId) -> Vec<Arc<Event>> {
            self.0
                .lock()
                .unwrap()
                .query(&QueryParams::Server(QueryServerParams::new(server_id)))
                .unwrap()
                .events
                .to_vec()
        }
    }

    type ProcessFn = Box<dyn FnMut(&EngineRef, Source, &Event) -> Result<Vec<RegisterEvent>, PluginError> + Send>;

    struct TestModule {
        engine: EngineRef,
        subscription: Subscription,
        process: ProcessFn,
        sessions: mpsc::Sender<(&'static str, SessionId)>,
    }

    impl Module for TestModule {
        fn subscription(&self) -> &Subscription {
            &self.subscription
        }
        fn on_session_start(&mut self, id: SessionId) -> Result<(), PluginError> {
            let _ = self.sessions.send(("start", id));
            Ok(())
        }
        fn on_session_stop(&mut self, id: SessionId) -> Result<(), PluginError> {
            let _ = self.sessions.send(("stop", id));
            Ok(())
        }
        fn process(&mut self, source: Source, event: &Arc<Event>) -> Result<Vec<RegisterEvent>, PluginError> {
            (self.process)(&self.engine, source, event)
        }
    }

    #[derive(Default)]
    struct Plugins {
        store: Store,
        modules: HashMap<String, ModuleInfo>,
    }

    impl Resolver for Plugins {
        fn backend_info(&self, name: &str) -> Result<BackendInfo, PluginError> {
            if name == "store" {
                let store = self.store.clone();
                return Ok(BackendInfo {
                    create: Arc::new(move |_, _| Ok(Box::new(store.clone()) as Box<dyn Backend>)),
                    schema: None,
                    foreign: None,
                });
            }
            Registered.backend_info(name)
        }
        fn module_info(&self, name: &str) -> Result<ModuleInfo, PluginError> {
            self.modules.get(name).cloned().ok_or_else(|| PluginError::Import(format!("no module {name}")))
        }
    }

    fn ty(s: &str) -> EventType {
        s.split('/').collect()
    }

    fn reg(t: &str) -> RegisterEvent {
        RegisterEvent { type_: ty(t), source_timestamp: None, payload: None }
    }

    const EVENTER: Source = Source { type_: SourceType::Eventer, id: 123 };

    /// A module subscribed to `query_types`, running `process` (a function of
    /// the input event) and reporting its sessions on the returned channel.
    fn module(
        plugins: &mut Plugins,
        name: &str,
        query_types: &[&str],
        process: impl Fn(&EngineRef, Source, &Event) -> Result<Vec<RegisterEvent>, PluginError>
            + Send
            + Sync
            + Clone
            + 'static,
    ) -> mpsc::Receiver<(&'static str, SessionId)> {
        let (tx, rx) = mpsc::channel();
        let tx = Arc::new(Mutex::new(tx));
        let qs: Vec<Vec<String>> = query_types.iter().map(|q| ty(q).to_vec()).collect();
        plugins.modules.insert(
            name.into(),
            ModuleInfo {
                create: Arc::new(move |_conf, engine, _source| {
                    let p = process.clone();
                    Ok(Box::new(TestModule {
                        engine,
                        subscription: Subscription::new(&qs).unwrap(),
                        process: Box::new(move |e, s, ev| p(e, s, ev)),
                        sessions: tx.lock().unwrap().clone(),
                    }) as Box<dyn Module>)
                }),
                schema: None,
                foreign: None,
            },
        );
        rx
    }

    fn conf(modules: &[&str]) -> serde_json::Value {
        json!({"server_id": 1, "backend": {"module": "store"},
               "modules": modules.iter().map(|m| json!({"module": m})).collect::<Vec<_>>()})
    }

    fn status(e: &Event) -> (EventId, EventType, Option<Arc<EventPayload>>) {
        (e.id, e.type_.clone(), e.payload.clone())
    }

    #[test]
    fn started_and_stopped_events_open_and_close_sessions() {
        let plugins = Plugins::default();
        let engine =
            Engine::create(&json!({"server_id": 7, "backend": {"module": "store"}}), &plugins, EngineHooks::default())
                .unwrap();
        assert_eq!(engine.server_id(), 7);
        let events = plugins.store.all(7);
        assert_eq!(events.len(), 1);
        assert_eq!(
            status(&events[0]),
            (
                EventId { server: 7, session: 1, instance: 1 },
                ty("event/7/engine"),
                Some(Arc::new(EventPayload::Json(JsonPayload::from_value(json!("STARTED")))))
            )
        );
        assert_eq!(events[0].source_timestamp, None);
        drop(engine);
        let events = plugins.store.all(7);
        assert_eq!(
            status(&events[1]),
            (
                EventId { server: 7, session: 2, instance: 1 },
                ty("event/7/engine"),
                Some(Arc::new(EventPayload::Json(JsonPayload::from_value(json!("STOPPED")))))
            )
        );
    }

    #[test]
    fn a_restarted_engine_continues_the_numbering() {
        let plugins = Plugins::default();
        let engine = Engine::create(&conf(&[]), &plugins, EngineHooks::default()).unwrap();
        engine.register(EVENTER, &[reg("a")]).unwrap();
        drop(engine);
        let engine = Engine::create(&conf(&[]), &plugins, EngineHooks::default()).unwrap();
        let e = engine.register(EVENTER, &[reg("a")]).unwrap();
        assert_eq!(e[0].id, EventId { server: 1, session: 5, instance: 1 });
    }

    #[test]
    fn modules_get_sources_by_index_and_see_the_started_event() {
        let mut plugins = Plugins::default();
        let (tx, rx) = mpsc::channel();
        let tx = Arc::new(Mutex::new(tx));
        for name in ["m0", "m1", "m2"] {
            let tx = tx.clone();
            module(&mut plugins, name, &["*"], move |_, source, event| {
                tx.lock().unwrap().send((source, event.type_.clone())).unwrap();
                Ok(vec![])
            });
        }
        let _engine = Engine::create(&conf(&["m0", "m1", "m2"]), &plugins, EngineHooks::default()).unwrap();
        let seen: Vec<_> = rx.try_iter().collect();
        assert_eq!(seen, vec![(Source { type_: SourceType::Engine, id: 0 }, ty("event/1/engine")); 3]);
        let created = Arc::new(Mutex::new(Vec::new()));
        let c = created.clone();
        plugins.modules.insert(
            "conf".into(),
            ModuleInfo {
                create: Arc::new(move |conf, _engine, source| {
                    c.lock().unwrap().push((conf["index"].clone(), source));
                    Err(PluginError::Failed("no".into()))
                }),
                schema: None,
                foreign: None,
            },
        );
        let err = Engine::create(
            &json!({"server_id": 1, "backend": {"module": "store"},
                                         "modules": [{"module": "m0"}, {"module": "conf", "index": 1}]}),
            &plugins,
            EngineHooks::default(),
        )
        .err()
        .unwrap();
        assert_eq!(err, PluginError::Failed("module 1: no".into()));
        assert_eq!(*created.lock().unwrap(), [(json!(1), Source { type_: SourceType::Module, id: 1 })]);
    }

    #[test]
    fn register_returns_the_callers_events_and_modules_add_to_the_session() {
        let mut plugins = Plugins::default();
        let (tx, rx) = mpsc::channel();
        let tx = Arc::new(Mutex::new(tx));
        let _ = module(&mut plugins, "m", &["*"], move |_, source, event| {
            tx.lock().unwrap().send((source, event.clone())).unwrap();
            Ok(if source == EVENTER { vec![reg("x/y/z")] } else { vec![] })
        });
        let engine = Engine::create(&conf(&["m"]), &plugins, EngineHooks::default()).unwrap();
        let _started = rx.recv().unwrap();
        let input = RegisterEvent {
            type_: ty("a/b/c"),
            source_timestamp: Some(Timestamp::now()),
            payload: Some(Arc::new(EventPayload::Json(JsonPayload::from_value(json!(42))))),
        };
        let result = engine.register(EVENTER, std::slice::from_ref(&input)).unwrap();
        assert_eq!(result.len(), 1);
        assert_eq!(
            (result[0].type_.clone(), result[0].source_timestamp, result[0].payload.clone()),
            (input.type_.clone(), input.source_timestamp, input.payload.clone())
        );
        assert_eq!(result[0].id, EventId { server: 1, session: 2, instance: 1 });
        let (source, event) = rx.recv().unwrap();
        assert_eq!((source, &event), (EVENTER, &*result[0]));
        let (source, event) = rx.recv().unwrap();
        assert_eq!(source, Source { type_: SourceType::Module, id: 0 });
        assert_eq!(
            (event.type_.clone(), event.id, event.timestamp),
            (ty("x/y/z"), EventId { server: 1, session: 2, instance: 2 }, result[0].timestamp)
        );
        assert!(rx.try_recv().is_err());
        assert_eq!(plugins.store.all(1).len(), 3);
        assert!(engine.register::<RegisterEvent>(EVENTER, &[]).unwrap().is_empty());
        assert_eq!(plugins.store.all(1).len(), 3, "an empty register opens no session");
    }

    #[test]
    fn session_start_and_stop_get_the_session_id() {
        let mut plugins = Plugins::default();
        let rx = module(&mut plugins, "m", &["nothing"], |_, _, _| Ok(vec![]));
        let engine = Engine::create(&conf(&["m"]), &plugins, EngineHooks::default()).unwrap();
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), [("start", 1), ("stop", 1)]);
        engine.register(EVENTER, &[reg("a/b/c")]).unwrap();
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), [("start", 2), ("stop", 2)]);
        drop(engine);
        assert!(rx.try_iter().next().is_none(), "STOPPED is not a session modules see");
    }

    #[test]
    fn derived_events_cascade_through_modules_in_order_until_none() {
        let mut plugins = Plugins::default();
        // m0: a -> b, b -> c; m1: a -> d, c -> e. Per round, modules in order,
        // and within a module the round's events in order.
        let _ = module(&mut plugins, "m0", &["a", "b"], |_, _, e| {
            Ok(vec![reg(if e.type_ == ty("a") { "b" } else { "c" })])
        });
        let _ = module(&mut plugins, "m1", &["a", "c"], |_, _, e| {
            Ok(vec![reg(if e.type_ == ty("a") { "d" } else { "e" })])
        });
        let engine = Engine::create(&conf(&["m0", "m1"]), &plugins, EngineHooks::default()).unwrap();
        let result = engine.register(EVENTER, &[reg("a")]).unwrap();
        assert_eq!(result.len(), 1);
        let session: Vec<_> = plugins
            .store
            .all(1)
            .into_iter()
            .filter(|e| e.id.session == 2)
            .map(|e| (e.id.instance, e.type_.join("/")))
            .collect();
        assert_eq!(session, [(1, "a".into()), (2, "b".into()), (3, "d".into()), (4, "c".into()), (5, "e".into())]);
    }

    #[test]
    fn a_failing_module_fails_the_register_and_registers_nothing() {
        let mut plugins = Plugins::default();
        let _ = module(&mut plugins, "m", &["bad"], |_, _, _| Err(PluginError::Failed("refused".into())));
        let engine = Engine::create(&conf(&["m"]), &plugins, EngineHooks::default()).unwrap();
        assert_eq!(
            engine.register(EVENTER, &[reg("bad")]).unwrap_err(),
            PluginError::Failed("module 0: refused".into())
        );
        assert_eq!(plugins.store.all(1).len(), 1);
        let e = engine.register(EVENTER, &[reg("good")]).unwrap();
        assert_eq!(e[0].id.session, 3, "the failed session's id is not reused");
    }

    #[test]
    fn register_from_process_is_refused_and_query_works() {
        let mut plugins = Plugins::default();
        let outcome = Arc::new(Mutex::new(Vec::new()));
        let o = outcome.clone();
        let _ = module(&mut plugins, "m", &["a"], move |engine, source, _| {
            let r = engine.register(source, &[reg("nested")]);
            let q = engine.query(&QueryParams::Server(QueryServerParams::new(1))).map(|r| r.events.len());
            o.lock().unwrap().push((r.map(|e| e.len()), q));
            Ok(vec![reg("derived")])
        });
        let engine = Engine::create(&conf(&["m"]), &plugins, EngineHooks::default()).unwrap();
        let result = engine.register(EVENTER, &[reg("a")]).unwrap();
        assert_eq!(result[0].id, EventId { server: 1, session: 2, instance: 1 });
        let outcome = outcome.lock().unwrap();
        assert!(matches!(&outcome[0].0, Err(PluginError::Reentrant(_))), "{outcome:?}");
        assert_eq!(outcome[0].1, Ok(1), "the query sees what is registered, not the open session");
        let types: Vec<_> =
            plugins.store.all(1).iter().map(|e| (e.id.session, e.id.instance, e.type_.join("/"))).collect();
        assert_eq!(types[1..], [(2, 1, "a".into()), (2, 2, "derived".into())]);
    }

    #[test]
    fn register_from_the_registered_callback_is_refused() {
        let plugins = Plugins::default();
        let (tx, rx) = mpsc::channel();
        let slot: Arc<Mutex<Option<EngineRef>>> = Arc::default();
        let s = slot.clone();
        let tx = Mutex::new(tx);
        let hooks = EngineHooks {
            registered: Some(Box::new(move |events: &[Arc<Event>]| {
                if let Some(engine) = s.lock().unwrap().as_ref() {
                    let r = engine.register(EVENTER, &[reg("x")]).map(|_| ());
                    let q = engine.query(&QueryParams::Server(QueryServerParams::new(1))).map(|_| ());
                    tx.lock().unwrap().send((events.len(), r, q)).unwrap();
                }
            })),
            ..Default::default()
        };
        let engine =
            Engine::create(&json!({"server_id": 1, "backend": {"module": "memory"}}), &plugins, hooks).unwrap();
        *slot.lock().unwrap() = Some(engine.as_ref());
        engine.register(EVENTER, &[reg("a"), reg("b")]).unwrap();
        let (n, r, q) = rx.recv().unwrap();
        assert_eq!(n, 2);
        assert!(matches!(r, Err(PluginError::Reentrant(_))) && matches!(q, Err(PluginError::Reentrant(_))));
        // The engine is still usable afterwards.
        *slot.lock().unwrap() = None;
        assert_eq!(engine.register(EVENTER, &[reg("c")]).unwrap()[0].id.session, 3);
    }

    #[test]
    fn register_then_runs_before_any_other_session() {
        let plugins = Plugins::default();
        let engine = Engine::create(&conf(&[]), &plugins, EngineHooks::default()).unwrap();
        let then_done = AtomicBool::new(false);
        let (in_then, other_may_start) = mpsc::channel();
        std::thread::scope(|scope| {
            let (engine, then_done) = (&engine, &then_done);
            let other = scope.spawn(move || {
                other_may_start.recv().unwrap();
                let events = engine.register(EVENTER, &[reg("b")]).unwrap();
                (events[0].id.session, then_done.load(Ordering::SeqCst))
            });
            let first = engine
                .register_then(EVENTER, &[reg("a")], |events| {
                    assert_eq!(events.len(), 1);
                    assert!(matches!(engine.register(EVENTER, &[reg("x")]), Err(PluginError::Reentrant(_))));
                    let query = engine.query(&QueryParams::Server(QueryServerParams::new(1)));
                    assert!(matches!(query, Err(PluginError::Reentrant(_))));
                    in_then.send(()).unwrap();
                    // Long enough for the other session to finish, were it not held off.
                    std::thread::sleep(std::time::Duration::from_millis(200));
                    then_done.store(true, Ordering::SeqCst);
                })
                .unwrap();
            let (other_session, saw_then_done) = other.join().unwrap();
            assert!(saw_then_done, "another session ran while `then` was running");
            assert_eq!(other_session, first[0].id.session + 1);
        });
    }

    #[test]
    fn concurrent_registers_give_unique_gapless_ids_per_session() {
        const THREADS: usize = 4;
        const EVENTS_PER_THREAD: usize = 25_000;
        let mut plugins = Plugins::default();
        // Every 'in' event derives one 'count' event in the same session.
        let _ = module(&mut plugins, "m", &["in", "*"], |_, _, e| {
            Ok(if e.type_.segment(0) == "in" { vec![reg("count")] } else { vec![] })
        });
        let engine = Engine::create(&conf(&["m"]), &plugins, EngineHooks::default()).unwrap();
        std::thread::scope(|scope| {
            for t in 0..THREADS {
                let engine = &engine;
                scope.spawn(move || {
                    let mut sent = 0;
                    let mut batch = 1 + t;
                    while sent < EVENTS_PER_THREAD {
                        let n = batch.min(EVENTS_PER_THREAD - sent);
                        let events: Vec<_> = (0..n).map(|i| reg(&format!("in/{t}/{}", sent + i))).collect();
                        let result = engine.register(EVENTER, &events).unwrap();
                        assert_eq!(result.len(), n);
                        assert!(result.iter().enumerate().all(|(i, e)| e.id.instance == i as i64 + 1));
                        sent += n;
                        batch = batch % 7 + 1;
                    }
                });
            }
        });
        drop(engine);
        let events = plugins.store.all(1);
        let mut by_session: std::collections::BTreeMap<i64, Vec<&Event>> = Default::default();
        for e in &events {
            by_session.entry(e.id.session).or_default().push(e);
        }
        let inputs = events.iter().filter(|e| e.type_.segment(0) == "in").count();
        assert_eq!(inputs, THREADS * EVENTS_PER_THREAD);
        let sessions: Vec<i64> = by_session.keys().copied().collect();
        assert_eq!(sessions, (1..=sessions.len() as i64).collect::<Vec<_>>(), "sessions are gapless");
        for (session, evs) in &by_session {
            let instances: Vec<i64> = evs.iter().map(|e| e.id.instance).collect();
            assert_eq!(instances, (1..=evs.len() as i64).collect::<Vec<_>>(), "session {session}");
            assert!(evs.iter().all(|e| e.timestamp == evs[0].timestamp), "one timestamp per session");
            let n_in = evs.iter().filter(|e| e.type_.segment(0) == "in").count();
            if n_in > 0 {
                assert_eq!(evs.len(), 2 * n_in, "each input derived one event in its session");
                assert!(evs[..n_in].iter().all(|e| e.type_.segment(0) == "in"));
            }
        }
    }

    #[test]
    fn configuration_errors_are_named() {
        let plugins = Plugins::default();
        let err =
            |c: serde_json::Value| Engine::create(&c, &plugins, EngineHooks::default()).err().unwrap().to_string();
        assert_eq!(
            err(json!({"backend": {"module": "memory"}})),
            "invalid configuration: 'server_id' must be an integer"
        );
        assert_eq!(err(json!({"server_id": 1})), "invalid configuration: 'backend' is missing");
        assert_eq!(
            err(json!({"server_id": 1, "backend": {}})),
            "invalid configuration: 'backend' needs a string 'module'"
        );
        assert_eq!(err(json!({"server_id": 1, "backend": {"module": "nope"}})), "no backend registered as 'nope'");
        assert_eq!(
            err(json!({"server_id": 1, "backend": {"module": "memory"}, "modules": [{"module": "m"}]})),
            "no module m"
        );
    }

    #[test]
    fn a_schema_invalid_module_configuration_is_refused_before_create() {
        let mut plugins = Plugins::default();
        let created = Arc::new(AtomicBool::new(false));
        let c = created.clone();
        plugins.modules.insert(
            "m".into(),
            ModuleInfo {
                create: Arc::new(move |_, _, _| {
                    c.store(true, Ordering::SeqCst);
                    Err(PluginError::Failed("unreachable".into()))
                }),
                schema: Some(ConfSchema {
                    id: "test://m.yaml".into(),
                    repo: json!({"test://m.yaml": {"type": "object", "required": ["limit"]}}),
                }),
                foreign: None,
            },
        );
        let err = Engine::create(&conf(&["m"]), &plugins, EngineHooks::default()).err().unwrap();
        assert!(
            matches!(&err, PluginError::Schema { id, message } if id == "test://m.yaml" && message.contains("limit")),
            "{err:?}"
        );
        assert!(!created.load(Ordering::SeqCst));
        assert_eq!(plugins.store.all(1).len(), 0, "nothing registered by an engine that never started");
    }
}
