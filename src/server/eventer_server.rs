//! The eventer server: hat-event 0.9.44's `eventer/server.py`,
//! `server/eventer_server.py` and the engine runner's status sequence of
//! `server/engine_runner.py`, in front of an [`Engine`].
//!
//! Behaviour kept from the reference. A connection's first message must be
//! `MsgInitReq`; a client token that is set and differs from the server
//! token is refused with `"invalid client token"` (a client without a token
//! is accepted). With an engine running, `('event', '<server_id>',
//! 'eventer', '<client_name>')` `"CONNECTED"` is registered before the init
//! response and `"DISCONNECTED"` after the connection is gone, so neither
//! reaches the client it is about. Register requests with `last` set get no
//! response; without an engine (any status but OPERATIONAL) a register
//! fails. Events reach a connection when the backend reports them
//! registered (non-persisted connections) or flushed (persisted ones),
//! filtered by its subscription and server id. Events acks are accepted
//! and ignored (the reference's main runner never asks for one). Pings are
//! answered; after `ping_delay` without a message the server pings, and
//! after `ping_timeout` more it drops the connection.
//!
//! Differences. The backend lives inside the engine here, so a query
//! without an engine (STANDBY, STARTING) is answered with no events, where
//! the reference asks its backend; a query the backend fails closes the
//! connection, as the reference's exception does. A module's restart
//! request is logged and ignored (the reference recreates the engine over
//! the backend it keeps; ours would lose a memory backend's events). Not
//! done: monitor component, synchronisation between servers.
//!
//! I/O model: two threads per connection, a reader (with a stack of
//! [`READER_STACK`]) that decodes and calls the engine, and a writer (with
//! [`WRITER_STACK`]) that drains the connection's outbox. Nothing that
//! notifies ever blocks on a socket: the backend's callbacks only encode
//! and append to outboxes, so a slow reader never stalls the engine or the
//! other clients; an outbox past [`Limits::max_queued_bytes`] drops its
//! connection. Memory per idle connection is two mostly-untouched stacks
//! (virtual 576 KiB; resident, the pages touched, about 30 KiB measured
//! by `benches/eventer_server.py`), one descriptor and the kernel's socket
//! buffers; at most `max_connections` of them (1,000 idle clients: about
//! 30 MiB resident, 576 MiB of address space). This was chosen over an event loop crate for
//! its simplicity with a blocking engine: a module or backend call blocks
//! only its own connection.

use std::collections::{BTreeMap, VecDeque};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::collection::{Collection, TreeCollection};
use crate::event::{Event, EventPayload, RegisterEvent, ServerId, ServerStatus, Source, SourceType};
use crate::event_type::EventType;
use crate::eventer::chatter::{self, ChatterMsg, ReadTimeout};
use crate::json::JsonPayload;
use crate::message::{Message, MessageKind};
use crate::query::QueryResult;
use crate::sbs::{self, MsgInitReq, MsgInitRes, Sbs};
use crate::server::engine::{Engine, EngineHooks};
use crate::server::id_map::IdMap;
use crate::server::registry::{PluginError, Resolver};
use crate::subscription::Subscription;

/// Stack of a connection's reader thread: it runs the engine's session
/// (modules, backend, C plug-ins), so it is not tiny; untouched pages cost
/// no memory.
pub const READER_STACK: usize = 512 * 1024;
/// Stack of a connection's writer thread (it only writes bytes).
pub const WRITER_STACK: usize = 64 * 1024;
/// Bytes read from a socket at a time, into the reader's stack; the bytes
/// of a frame not yet complete are kept on the heap (up to
/// [`Limits::max_frame`]), and nothing once it is.
pub const READ_CHUNK: usize = 8 * 1024;

/// What one peer may cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// The largest frame accepted; a larger announced length closes the
    /// connection before its body is read. 4 MiB by default: a register of
    /// 10,000 events of 400 bytes; hat's client accepts 64 MiB, but decoded
    /// events take several times their encoded size.
    pub max_frame: usize,
    /// The most event type segments of one connection's subscription (each
    /// costs about 150 bytes in the subscription's index); 65,536 by default.
    pub max_subscription_segments: usize,
    /// The most connections at once; further ones are closed on accept.
    pub max_connections: usize,
    /// The most bytes waiting in one connection's outbox; past it the
    /// connection is dropped as a slow consumer. 16 MiB by default.
    pub max_queued_bytes: usize,
    /// Silence after which the server pings (hat's `ping_delay`, 20 s).
    pub ping_delay: Duration,
    /// Silence after a ping after which the connection is dropped (hat's
    /// `ping_timeout`, 20 s); also the bound on one blocked socket write.
    pub ping_timeout: Duration,
    /// How long a refused client is given to close, and how long closing
    /// the server waits for outboxes to drain (hat's `close_timeout`, 0.5 s).
    pub close_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_frame: 4 << 20,
            max_subscription_segments: 65_536,
            max_connections: 1024,
            max_queued_bytes: 16 << 20,
            ping_delay: Duration::from_secs(20),
            ping_timeout: Duration::from_secs(20),
            close_timeout: Duration::from_millis(500),
        }
    }
}

/// How the server logs: a level and a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error,
    Warning,
    Info,
    Debug,
}

/// Where log lines go.
pub type Logger = Arc<dyn Fn(LogLevel, &str) + Send + Sync>;

/// A logger writing `level: line` to stderr for levels up to `max`.
pub fn stderr_logger(max: LogLevel) -> Logger {
    Arc::new(move |level, line| {
        if level <= max {
            eprintln!("hat-event-c-server {}: {line}", format!("{level:?}").to_lowercase());
        }
    })
}

/// The server's configuration (from hat's server configuration:
/// `eventer_server`, `server_id`, `server_token`).
#[derive(Clone)]
pub struct ServerConf {
    /// `host:port` to listen on (port 0 picks a free one).
    pub address: String,
    pub server_id: ServerId,
    pub server_token: Option<String>,
    pub limits: Limits,
    pub logger: Logger,
}

impl ServerConf {
    /// A configuration with default limits, logging warnings to stderr.
    pub fn new(address: impl Into<String>, server_id: ServerId) -> ServerConf {
        ServerConf {
            address: address.into(),
            server_id,
            server_token: None,
            limits: Limits::default(),
            logger: stderr_logger(LogLevel::Warning),
        }
    }
}

/// Why the server could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {address}: {source}")]
    Listen { address: String, source: std::io::Error },
    #[error("{0}")]
    InvalidStatus(String),
    #[error(transparent)]
    Engine(#[from] PluginError),
}

/// One initialised connection, as hat's `ConnectionInfo`.
#[derive(Clone, Debug)]
pub struct ConnectionInfo {
    /// From 1, in accept order; the eventer source id of its sessions.
    pub id: i64,
    pub client_name: String,
    pub client_token: Option<String>,
    pub subscription: Subscription,
    pub server_id: Option<ServerId>,
    pub persisted: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum OutState {
    Open,
    /// Write what is queued, then close.
    Draining,
    /// Close now; queued bytes are dropped.
    Dead,
}

struct Outbox {
    frames: VecDeque<Vec<u8>>,
    bytes: usize,
    next_msg_id: i64,
    state: OutState,
    /// A thread is writing a batch taken from `frames`.
    writing: bool,
}

struct Conn {
    id: i64,
    peer: SocketAddr,
    stream: TcpStream,
    out: Mutex<Outbox>,
    ready: Condvar,
    info: OnceLock<ConnectionInfo>,
}

/// Which conversation a message belongs to: a new one the server opens, or
/// the peer's conversation it answers.
#[derive(Clone, Copy)]
enum Conv {
    New { last: bool },
    Reply { owner: bool, first: i64 },
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Who writes a queued message out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flush {
    /// The writer thread, woken for it.
    Writer,
    /// The connection's reader thread, which calls [`Conn::flush_inline`]
    /// before it next blocks: waking the writer would only make a third
    /// thread runnable per request (and a futex call) for nothing. Should
    /// the writer be mid-batch, it finds the message when it looks again.
    Inline,
}

impl Conn {
    /// Queues a message; false when the connection is closing. Past the
    /// byte bound the connection is dropped.
    fn send(&self, hub: &Hub, data_type: &str, data: Vec<u8>, conv: Conv) -> bool {
        self.send_by(hub, data_type, data, conv, Flush::Writer)
    }

    fn send_by(&self, hub: &Hub, data_type: &str, data: Vec<u8>, conv: Conv, flush: Flush) -> bool {
        let mut out = lock(&self.out);
        if out.state != OutState::Open {
            return false;
        }
        let id = out.next_msg_id;
        out.next_msg_id += 1;
        let (first, owner, last) = match conv {
            Conv::New { last } => (id, true, last),
            Conv::Reply { owner, first } => (first, !owner, true),
        };
        let msg = ChatterMsg { id, first, owner, token: true, last, data_type: data_type.into(), data };
        let mut frame = Vec::with_capacity(msg.data.len() + msg.data_type.len() + 32);
        chatter::write_frame(&mut frame, &msg);
        if out.bytes + frame.len() > hub.conf.limits.max_queued_bytes {
            out.state = OutState::Dead;
            out.frames.clear();
            out.bytes = 0;
            drop(out);
            hub.log(
                LogLevel::Warning,
                &format!(
                    "connection {} ({}): slow consumer, more than {} bytes queued; closing",
                    self.id, self.peer, hub.conf.limits.max_queued_bytes
                ),
            );
            let _ = self.stream.shutdown(Shutdown::Both);
            self.ready.notify_all();
            return false;
        }
        out.bytes += frame.len();
        out.frames.push_back(frame);
        // A batch being written (by either thread) is followed by a look at
        // the queue, so only an idle writer needs the wake-up.
        let wake = flush == Flush::Writer && !out.writing;
        drop(out);
        if wake {
            self.ready.notify_one();
        }
        true
    }

    fn send_message(&self, hub: &Hub, message: &Message, conv: Conv) -> bool {
        self.send_message_by(hub, message, conv, Flush::Writer)
    }

    fn send_message_by(&self, hub: &Hub, message: &Message, conv: Conv, flush: Flush) -> bool {
        match message.encode() {
            Ok(data) => self.send_by(hub, message.kind().name(), data, conv, flush),
            Err(e) => {
                hub.log(LogLevel::Error, &format!("connection {}: cannot encode {:?}: {e}", self.id, message.kind()));
                false
            }
        }
    }

    fn set_state(&self, state: OutState) {
        let mut out = lock(&self.out);
        if out.state == OutState::Open || state == OutState::Dead {
            out.state = state;
        }
        drop(out);
        self.ready.notify_all();
    }
}

struct State {
    status: ServerStatus,
    engine: Option<Arc<Engine>>,
    conns: BTreeMap<i64, Arc<Conn>>,
    /// The subscriptions of initialised connections, by connection id, for
    /// non-persisted (0) and persisted (1) notification: one collection
    /// lookup per event finds its subscribers, instead of one subscription
    /// match per event and connection.
    routes: [TreeCollection; 2],
}

impl State {
    fn remove_conn(&mut self, id: i64) {
        self.conns.remove(&id);
        for routes in &mut self.routes {
            routes.remove(id as u64);
        }
    }
}

struct Hub {
    conf: ServerConf,
    state: Mutex<State>,
    next_conn_id: AtomicI64,
    closing: AtomicBool,
    /// Connection threads alive; closing waits for none.
    threads: Mutex<usize>,
    threads_done: Condvar,
    /// Serialises engine starts and stops (the engine runner's loop).
    runner: Mutex<()>,
}

struct ThreadCount(Arc<Hub>);

impl ThreadCount {
    fn new(hub: &Arc<Hub>) -> ThreadCount {
        *lock(&hub.threads) += 1;
        ThreadCount(hub.clone())
    }
}

impl Drop for ThreadCount {
    fn drop(&mut self) {
        let mut n = lock(&self.0.threads);
        *n -= 1;
        if *n == 0 {
            self.0.threads_done.notify_all();
        }
    }
}

fn sbs_array_of<'a>(out: &mut Vec<u8>, events: impl ExactSizeIterator<Item = &'a [u8]>) {
    sbs::write_integer(out, events.len() as i64);
    for e in events {
        out.extend_from_slice(e);
    }
}

impl Hub {
    fn log(&self, level: LogLevel, line: &str) {
        (self.conf.logger)(level, line)
    }

    fn engine(&self) -> Option<Arc<Engine>> {
        lock(&self.state).engine.clone()
    }

    /// The backend's registered (`persisted` false) or flushed callback:
    /// encodes each event once, then queues to every matching connection.
    fn notify(&self, events: &[Arc<Event>], persisted: bool) {
        if events.is_empty() {
            return;
        }
        let state = lock(&self.state);
        let routes = &state.routes[usize::from(persisted)];
        if routes.is_empty() {
            return;
        }
        // The events each subscriber gets, in event order: (connection id,
        // event indices), with an index by connection id.
        let mut chosen: Vec<(i64, Vec<usize>)> = Vec::new();
        let mut slots: IdMap<i64, usize> = IdMap::default();
        let mut found = Vec::new();
        for (i, event) in events.iter().enumerate() {
            routes.get_type(&event.type_, &mut found);
            for &id in &found {
                let id = id as i64;
                let slot = *slots.entry(id).or_insert_with(|| {
                    chosen.push((id, Vec::new()));
                    chosen.len() - 1
                });
                chosen[slot].1.push(i);
            }
        }
        // In connection order, as before.
        chosen.sort_unstable_by_key(|(id, _)| *id);
        let mut encoded: Vec<Option<Vec<u8>>> = vec![None; events.len()];
        for (id, mut indices) in chosen {
            let Some(conn) = state.conns.get(&id) else { continue };
            let Some(info) = conn.info.get() else { continue };
            if let Some(server) = info.server_id {
                indices.retain(|&i| events[i].id.server == server);
            }
            if indices.is_empty() {
                continue;
            }
            for &i in &indices {
                if encoded[i].is_none() {
                    let mut bytes = Vec::new();
                    // An event that was registered encodes.
                    let _ = events[i].encode(&mut bytes);
                    encoded[i] = Some(bytes);
                }
            }
            let mut data = Vec::with_capacity(indices.iter().map(|&i| encoded[i].as_ref().map_or(0, Vec::len)).sum());
            sbs_array_of(&mut data, indices.iter().map(|&i| encoded[i].as_deref().unwrap_or_default()));
            conn.send(self, MessageKind::EventsNotify.name(), data, Conv::New { last: true });
        }
    }

    fn client_names(&self) -> Vec<(Source, String)> {
        let state = lock(&self.state);
        state
            .conns
            .values()
            .filter_map(|c| c.info.get())
            .map(|i| (eventer_source(i.id), i.client_name.clone()))
            .collect()
    }

    /// hat's `Server.set_status`: notifies every initialised connection of
    /// a change.
    fn set_status(&self, status: ServerStatus, engine: Option<Arc<Engine>>) -> Option<Arc<Engine>> {
        let mut state = lock(&self.state);
        let old = std::mem::replace(&mut state.engine, engine);
        if state.status != status {
            state.status = status;
            for conn in state.conns.values().filter(|c| c.info.get().is_some()) {
                conn.send_message(self, &Message::StatusNotify(status), Conv::New { last: true });
            }
        }
        old
    }

    fn eventer_event(&self, client_name: &str, status: &str) -> RegisterEvent {
        RegisterEvent {
            type_: EventType::new(&["event", &self.conf.server_id.to_string(), "eventer", client_name]),
            source_timestamp: None,
            payload: Some(Arc::new(EventPayload::Json(JsonPayload::from_value(serde_json::Value::String(
                status.into(),
            ))))),
        }
    }
}

fn eventer_source(id: i64) -> Source {
    Source { type_: SourceType::Eventer, id }
}

/// A listening eventer server. Dropping it closes it (see [`EventerServer::close`]).
pub struct EventerServer {
    hub: Arc<Hub>,
    local_addr: SocketAddr,
    accept: Mutex<Option<JoinHandle<()>>>,
}

impl EventerServer {
    /// Listens on `conf.address` with status STANDBY and no engine.
    pub fn listen(conf: ServerConf) -> Result<EventerServer, ServerError> {
        let address = conf.address.clone();
        let listen_err = |source| ServerError::Listen { address: address.clone(), source };
        let addrs: Vec<SocketAddr> = conf.address.to_socket_addrs().map_err(listen_err)?.collect();
        let listener = TcpListener::bind(&addrs[..]).map_err(listen_err)?;
        let local_addr = listener.local_addr().map_err(listen_err)?;
        let hub = Arc::new(Hub {
            conf,
            state: Mutex::new(State {
                status: ServerStatus::Standby,
                engine: None,
                conns: BTreeMap::new(),
                routes: Default::default(),
            }),
            next_conn_id: AtomicI64::new(1),
            closing: AtomicBool::new(false),
            threads: Mutex::new(0),
            threads_done: Condvar::new(),
            runner: Mutex::new(()),
        });
        hub.log(LogLevel::Info, &format!("listening on {local_addr}"));
        let h = hub.clone();
        let accept = std::thread::Builder::new()
            .name("eventer-accept".into())
            .spawn(move || accept_loop(h, listener))
            .map_err(listen_err)?;
        Ok(EventerServer { hub, local_addr, accept: Mutex::new(Some(accept)) })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The current status.
    pub fn status(&self) -> ServerStatus {
        lock(&self.hub.state).status
    }

    /// Hooks for an engine serving this server: the backend's registered
    /// and flushed events go to the connections, and the engine's client
    /// names are this server's clients. They hold no reference to the
    /// server.
    pub fn engine_hooks(&self) -> EngineHooks {
        let (a, b, c, d) = (
            Arc::downgrade(&self.hub),
            Arc::downgrade(&self.hub),
            Arc::downgrade(&self.hub),
            Arc::downgrade(&self.hub),
        );
        let upgrade = |w: &Weak<Hub>| w.upgrade();
        EngineHooks {
            registered: Some(Box::new(move |events: &[Arc<Event>]| {
                if let Some(hub) = upgrade(&a) {
                    hub.notify(events, false)
                }
            })),
            flushed: Some(Box::new(move |events: &[Arc<Event>]| {
                if let Some(hub) = upgrade(&b) {
                    hub.notify(events, true)
                }
            })),
            client_names: Some(Box::new(move || Ok(upgrade(&c).map_or_else(Vec::new, |h| h.client_names())))),
            // hat's runner recreates the engine over the same backend; here
            // the backend lives in the engine, and a memory backend would
            // lose every event: refused, visibly.
            restart: Some(Box::new(move || {
                if let Some(hub) = upgrade(&d) {
                    hub.log(LogLevel::Warning, "a module asked for an engine restart: not supported; ignored")
                }
            })),
            ..Default::default()
        }
    }

    /// hat's `EventerServer.set_status`: an engine with OPERATIONAL and only
    /// then. Returns the engine it held before (the caller closes it).
    pub fn set_status(
        &self,
        status: ServerStatus,
        engine: Option<Arc<Engine>>,
    ) -> Result<Option<Arc<Engine>>, ServerError> {
        if (status == ServerStatus::Operational) != engine.is_some() {
            return Err(ServerError::InvalidStatus("invalid status/engine".into()));
        }
        Ok(self.hub.set_status(status, engine))
    }

    /// The engine runner's start: STARTING, then an engine created from
    /// `engine_conf` (hat's server configuration: `server_id`, `backend`,
    /// `modules`) with this server's hooks, then OPERATIONAL. On failure the
    /// status goes back to STANDBY. Does nothing when an engine runs.
    pub fn start_engine(&self, engine_conf: &serde_json::Value, resolver: &dyn Resolver) -> Result<(), ServerError> {
        let _runner = lock(&self.hub.runner);
        if self.hub.engine().is_some() {
            return Ok(());
        }
        if self.hub.closing.load(Ordering::Acquire) {
            return Err(ServerError::Engine(PluginError::Closed));
        }
        self.hub.set_status(ServerStatus::Starting, None);
        match Engine::create(engine_conf, resolver, self.engine_hooks()) {
            Ok(engine) => {
                self.hub.set_status(ServerStatus::Operational, Some(Arc::new(engine)));
                Ok(())
            }
            Err(e) => {
                self.hub.log(LogLevel::Error, &format!("engine not started: {e}"));
                self.hub.set_status(ServerStatus::Standby, None);
                Err(e.into())
            }
        }
    }

    /// The engine runner's stop: STOPPING, the engine closed (its
    /// `"STOPPED"` event registered, the backend flushed and finalised),
    /// STANDBY. Registers racing it fail. Does nothing without an engine.
    pub fn stop_engine(&self) -> Result<(), ServerError> {
        let _runner = lock(&self.hub.runner);
        // Without an engine the status is STANDBY already: nothing to notify.
        if self.hub.engine().is_none() {
            return Ok(());
        }
        let Some(engine) = self.hub.set_status(ServerStatus::Stopping, None) else { return Ok(()) };
        let result = engine.close();
        // Connection threads may still hold the engine for a moment; it is
        // closed, and the last of them drops it.
        drop(engine);
        self.hub.set_status(ServerStatus::Standby, None);
        if let Err(e) = &result {
            self.hub.log(LogLevel::Error, &format!("engine close: {e}"));
        }
        Ok(result?)
    }

    /// The initialised connections, in accept order.
    pub fn connection_infos(&self) -> Vec<ConnectionInfo> {
        let state = lock(&self.hub.state);
        state.conns.values().filter_map(|c| c.info.get().cloned()).collect()
    }

    /// Connections accepted and not yet gone (initialised or not).
    pub fn connection_count(&self) -> usize {
        lock(&self.hub.state).conns.len()
    }

    /// Connection threads still running.
    pub fn thread_count(&self) -> usize {
        *lock(&self.hub.threads)
    }

    /// Graceful close, as hat's main runner: stop accepting, stop the
    /// engine (STOPPING, STOPPED, flush, STANDBY), then close every
    /// connection after its outbox is written (at most `close_timeout`,
    /// then the rest are cut). Idempotent; returns the engine's close result.
    pub fn close(&self) -> Result<(), ServerError> {
        let Some(accept) = lock(&self.accept).take() else { return Ok(()) };
        self.hub.closing.store(true, Ordering::Release);
        // Wake the blocking accept.
        let mut wake = self.local_addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(if wake.is_ipv4() { [127, 0, 0, 1].into() } else { std::net::Ipv6Addr::LOCALHOST.into() });
        }
        let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
        let _ = accept.join();
        let result = self.stop_engine();
        let conns: Vec<Arc<Conn>> = lock(&self.hub.state).conns.values().cloned().collect();
        for c in &conns {
            c.set_state(OutState::Draining);
        }
        drop(conns);
        let limits = &self.hub.conf.limits;
        if !self.wait_threads(limits.close_timeout) {
            let conns: Vec<Arc<Conn>> = lock(&self.hub.state).conns.values().cloned().collect();
            for c in &conns {
                c.set_state(OutState::Dead);
                let _ = c.stream.shutdown(Shutdown::Both);
            }
            drop(conns);
            if !self.wait_threads(limits.ping_timeout) {
                self.hub.log(LogLevel::Error, "connection threads still running after close");
            }
        }
        self.hub.log(LogLevel::Info, "closed");
        result
    }

    fn wait_threads(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut n = lock(&self.hub.threads);
        while *n > 0 {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            n = self.hub.threads_done.wait_timeout(n, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
        true
    }
}

impl Drop for EventerServer {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

fn accept_loop(hub: Arc<Hub>, listener: TcpListener) {
    loop {
        let accepted = listener.accept();
        if hub.closing.load(Ordering::Acquire) {
            return;
        }
        let (stream, peer) = match accepted {
            Ok(s) => s,
            Err(e) => {
                hub.log(LogLevel::Warning, &format!("accept: {e}"));
                // Out of descriptors and the like: do not spin.
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        if let Err(e) = start_connection(&hub, stream, peer) {
            hub.log(LogLevel::Warning, &format!("connection from {peer} refused: {e}"));
        }
    }
}

fn start_connection(hub: &Arc<Hub>, stream: TcpStream, peer: SocketAddr) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    stream.set_write_timeout(Some(hub.conf.limits.ping_timeout))?;
    let id = hub.next_conn_id.fetch_add(1, Ordering::Relaxed);
    let conn = Arc::new(Conn {
        id,
        peer,
        stream,
        out: Mutex::new(Outbox {
            frames: VecDeque::new(),
            bytes: 0,
            next_msg_id: 1,
            state: OutState::Open,
            writing: false,
        }),
        ready: Condvar::new(),
        info: OnceLock::new(),
    });
    {
        let mut state = lock(&hub.state);
        if state.conns.len() >= hub.conf.limits.max_connections {
            return Err(std::io::Error::other(format!("{} connections, the limit", hub.conf.limits.max_connections)));
        }
        state.conns.insert(id, conn.clone());
    }
    let spawn = |name: String, stack: usize, f: Box<dyn FnOnce() + Send>| {
        let count = ThreadCount::new(hub);
        std::thread::Builder::new().name(name).stack_size(stack).spawn(move || {
            let _count = count;
            f()
        })
    };
    let (h, c) = (hub.clone(), conn.clone());
    if let Err(e) = spawn(format!("eventer-w{id}"), WRITER_STACK, Box::new(move || write_loop(&h, &c))) {
        lock(&hub.state).remove_conn(id);
        return Err(e);
    }
    let (h, c) = (hub.clone(), conn.clone());
    if let Err(e) = spawn(format!("eventer-r{id}"), READER_STACK, Box::new(move || read_loop(&h, &c))) {
        lock(&hub.state).remove_conn(id);
        conn.set_state(OutState::Dead);
        return Err(e);
    }
    hub.log(LogLevel::Debug, &format!("connection {id} from {peer}"));
    Ok(())
}

/// Writes `batch` out; on failure the connection is dead (false).
fn write_batch(hub: &Hub, conn: &Conn, batch: &mut VecDeque<Vec<u8>>) -> bool {
    // One descriptor per connection: both threads use the Conn's stream.
    let result = write_all_frames(&conn.stream, batch);
    batch.clear();
    if let Err(e) = result {
        if !matches!(e.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset | ErrorKind::NotConnected) {
            hub.log(LogLevel::Warning, &format!("connection {} ({}): write: {e}; closing", conn.id, conn.peer));
        }
        conn.set_state(OutState::Dead);
        let _ = conn.stream.shutdown(Shutdown::Both);
        return false;
    }
    true
}

/// Frames smaller than this are copied together and leave in one send
/// (a response and the notifications queued with it); larger ones are
/// sent as they are.
const GATHER_BYTES: usize = 64 * 1024;

/// Writes every frame, in order, in few system calls. Not `writev`: it
/// raises SIGPIPE on a peer that has gone, which kills a host program that
/// does not ignore the signal (hat-event-c-server's C `main`, whose
/// conformance test caught it); std's `write` sends with MSG_NOSIGNAL.
fn write_all_frames(mut stream: &TcpStream, frames: &VecDeque<Vec<u8>>) -> std::io::Result<()> {
    if let (1, Some(frame)) = (frames.len(), frames.front()) {
        return stream.write_all(frame);
    }
    let mut gathered = Vec::new();
    for frame in frames {
        if !gathered.is_empty() && gathered.len() + frame.len() > GATHER_BYTES {
            stream.write_all(&gathered)?;
            gathered.clear();
        }
        if frame.len() >= GATHER_BYTES {
            stream.write_all(frame)?;
        } else {
            gathered.extend_from_slice(frame);
        }
    }
    if !gathered.is_empty() {
        stream.write_all(&gathered)?;
    }
    Ok(())
}

impl Conn {
    /// The reader's shortcut for its own responses: writes what is queued
    /// on this thread when the writer is idle, saving a thread hand-off per
    /// request. It may block on a peer that does not read; that stalls
    /// only this connection, for at most the write timeout. False when the
    /// connection failed.
    fn flush_inline(&self, hub: &Hub, batch: &mut VecDeque<Vec<u8>>) -> bool {
        let mut out = lock(&self.out);
        if out.writing || out.frames.is_empty() || out.state == OutState::Dead {
            return out.state != OutState::Dead;
        }
        std::mem::swap(batch, &mut out.frames);
        out.bytes = 0;
        out.writing = true;
        drop(out);
        let ok = write_batch(hub, self, batch);
        let mut out = lock(&self.out);
        out.writing = false;
        // The writer waited while this thread wrote; it has work only if
        // frames came meanwhile or the connection is closing.
        let wake = !out.frames.is_empty() || out.state != OutState::Open;
        drop(out);
        if wake {
            self.ready.notify_all();
        }
        ok
    }
}

fn write_loop(hub: &Hub, conn: &Conn) {
    let mut batch: VecDeque<Vec<u8>> = VecDeque::new();
    loop {
        let mut out = lock(&conn.out);
        while out.state != OutState::Dead && (out.writing || (out.frames.is_empty() && out.state == OutState::Open)) {
            out = conn.ready.wait(out).unwrap_or_else(|e| e.into_inner());
        }
        if out.state == OutState::Dead || out.frames.is_empty() {
            break;
        }
        std::mem::swap(&mut batch, &mut out.frames);
        out.bytes = 0;
        out.writing = true;
        drop(out);
        let ok = write_batch(hub, conn, &mut batch);
        lock(&conn.out).writing = false;
        if !ok {
            return;
        }
    }
    let _ = conn.stream.shutdown(Shutdown::Both);
}

/// Why a connection's reader stopped.
enum End {
    /// The peer closed or the socket failed (no log line: a normal end).
    Closed,
    /// A protocol violation or a failure worth a log line.
    Error(String),
}

struct Reader<'a> {
    hub: &'a Hub,
    conn: &'a Conn,
    stream: &'a TcpStream,
    buf: Vec<u8>,
    start: usize,
    last_msg: Instant,
    pinged: bool,
    timeout: ReadTimeout,
}

impl Reader<'_> {
    /// The next message that is not a ping or pong (pings answered, and
    /// sent after silence).
    fn next(&mut self) -> Result<ChatterMsg, End> {
        let limits = &self.hub.conf.limits;
        loop {
            match chatter::parse_frame(&self.buf[self.start..], limits.max_frame) {
                Ok(Some((msg, used))) => {
                    self.start += used;
                    self.last_msg = Instant::now();
                    self.pinged = false;
                    match msg.data_type.as_str() {
                        chatter::PING => {
                            let conv = Conv::Reply { owner: msg.owner, first: msg.first };
                            self.conn.send(self.hub, chatter::PONG, Vec::new(), conv);
                        }
                        chatter::PONG => {}
                        _ => return Ok(msg),
                    }
                    continue;
                }
                Ok(None) => {}
                Err(e) => return Err(End::Error(e.to_string())),
            }
            if self.start > 0 {
                self.buf.drain(..self.start);
                self.start = 0;
                if self.buf.is_empty() && self.buf.capacity() > READ_CHUNK {
                    self.buf = Vec::new();
                }
            }
            let wait = if self.pinged { limits.ping_timeout } else { limits.ping_delay };
            let elapsed = self.last_msg.elapsed();
            if elapsed >= wait {
                if self.pinged {
                    return Err(End::Error("ping timeout".into()));
                }
                self.pinged = true;
                self.last_msg = Instant::now();
                self.conn.send(self.hub, chatter::PING, Vec::new(), Conv::New { last: false });
                continue;
            }
            let _ = self.timeout.apply(self.stream, Some(wait - elapsed));
            // Read into the stack and keep only what waits for the rest of
            // a frame: an idle connection holds no read buffer.
            let mut chunk = [0u8; READ_CHUNK];
            match { self.stream }.read(&mut chunk) {
                Ok(0) => return Err(End::Closed),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) => {
                    if !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) {
                        return Err(End::Closed);
                    }
                }
            }
        }
    }

    fn decode(&self, msg: &ChatterMsg) -> Result<Message, End> {
        let kind = MessageKind::from_name(&msg.data_type)
            .ok_or_else(|| End::Error(format!("unsupported message type {:?}", msg.data_type)))?;
        Message::decode(kind, &msg.data, true)
            .map(|(m, _)| m)
            .map_err(|e| End::Error(format!("malformed {}: {e}", kind.name())))
    }
}

fn read_loop(hub: &Arc<Hub>, conn: &Arc<Conn>) {
    let mut reader = Reader {
        hub,
        conn,
        stream: &conn.stream,
        buf: Vec::new(),
        start: 0,
        last_msg: Instant::now(),
        pinged: false,
        timeout: ReadTimeout::default(),
    };
    let end = serve(hub, conn, &mut reader);
    if let End::Error(reason) = &end {
        hub.log(LogLevel::Warning, &format!("connection {} ({}): {reason}; closing", conn.id, conn.peer));
    }
    lock(&hub.state).remove_conn(conn.id);
    conn.set_state(OutState::Draining);
    if let Some(info) = conn.info.get() {
        hub.log(LogLevel::Debug, &format!("connection {} ({}) closed", conn.id, info.client_name));
        if let Some(engine) = hub.engine() {
            let event = hub.eventer_event(&info.client_name, "DISCONNECTED");
            if let Err(e) = engine.register(eventer_source(conn.id), &[event]) {
                hub.log(LogLevel::Warning, &format!("connection {}: DISCONNECTED not registered: {e}", conn.id));
            }
        }
    }
}

fn init_info(hub: &Hub, id: i64, req: MsgInitReq) -> Result<ConnectionInfo, String> {
    let segments: usize = req.subscriptions.iter().map(EventType::len).sum();
    if segments > hub.conf.limits.max_subscription_segments {
        return Err(format!(
            "subscription of {segments} segments, the limit is {}",
            hub.conf.limits.max_subscription_segments
        ));
    }
    let subscription = Subscription::from_types(&req.subscriptions).map_err(|e| e.to_string())?;
    if req.client_token.is_some() && req.client_token != hub.conf.server_token {
        return Err("invalid client token".into());
    }
    Ok(ConnectionInfo {
        id,
        client_name: req.client_name,
        client_token: req.client_token,
        subscription,
        server_id: req.server_id,
        persisted: req.persisted,
    })
}

fn serve(hub: &Arc<Hub>, conn: &Arc<Conn>, reader: &mut Reader<'_>) -> End {
    let first = match reader.next() {
        Ok(m) => m,
        Err(e) => return e,
    };
    let reply = |m: &ChatterMsg| Conv::Reply { owner: m.owner, first: m.first };
    let req = match reader.decode(&first) {
        Ok(Message::InitReq(req)) => req,
        Ok(_) => return End::Error("invalid init request type".into()),
        Err(e) => return e,
    };
    // The connection starts receiving notifications (its route added,
    // its info set, its init response queued first) under the state lock,
    // so a status change is notified after the response, never lost
    // between them; with an engine, also inside the session of its
    // CONNECTED event, so it gets every event registered after that one
    // and none before (as the reference, whose loop adds the connection
    // before it next yields): a client that sees CONNECTED and registers
    // at once reaches the new client.
    let activate = |info: ConnectionInfo| {
        let mut state = lock(&hub.state);
        state.routes[usize::from(info.persisted)].add(&info.subscription, conn.id as u64);
        let _ = conn.info.set(info);
        conn.send_message_by(hub, &Message::InitRes(MsgInitRes::Success(state.status)), reply(&first), Flush::Inline);
    };
    let started = init_info(hub, conn.id, req).and_then(|info| match hub.engine() {
        Some(engine) => {
            let event = hub.eventer_event(&info.client_name, "CONNECTED");
            engine
                .register_then(eventer_source(conn.id), &[event], |_| activate(info))
                .map(drop)
                .map_err(|e| e.to_string())
        }
        None => {
            activate(info);
            Ok(())
        }
    });
    if let Err(message) = started {
        hub.log(LogLevel::Warning, &format!("connection {} ({}): initialization error: {message}", conn.id, conn.peer));
        conn.send_message(hub, &Message::InitRes(MsgInitRes::Error(message)), reply(&first));
        // As the reference: give the client close_timeout to close.
        let _ = reader.stream.set_read_timeout(Some(hub.conf.limits.close_timeout));
        let deadline = Instant::now() + hub.conf.limits.close_timeout;
        let mut sink = [0u8; 1024];
        while Instant::now() < deadline {
            match { reader.stream }.read(&mut sink) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        return End::Closed;
    }
    let mut batch = VecDeque::new();
    loop {
        if !conn.flush_inline(hub, &mut batch) {
            return End::Closed;
        }
        let msg = match reader.next() {
            Ok(m) => m,
            Err(e) => return e,
        };
        match reader.decode(&msg) {
            Ok(Message::EventsAck) => {}
            Ok(Message::RegisterReq(events)) => {
                let result = match hub.engine() {
                    Some(engine) => match engine.register_owned(eventer_source(conn.id), events) {
                        Ok(events) => Some(events),
                        Err(e) => {
                            hub.log(LogLevel::Warning, &format!("connection {}: register failed: {e}", conn.id));
                            None
                        }
                    },
                    None => None,
                };
                if msg.last {
                    continue;
                }
                let mut data = Vec::new();
                match &result {
                    Some(events) => {
                        sbs::write_choice(&mut data, 0);
                        sbs::write_integer(&mut data, events.len() as i64);
                        for e in events {
                            // An event that was registered encodes.
                            let _ = e.encode(&mut data);
                        }
                    }
                    None => sbs::write_choice(&mut data, 1),
                }
                conn.send_by(hub, MessageKind::RegisterRes.name(), data, reply(&msg), Flush::Inline);
            }
            Ok(Message::QueryReq(params)) => {
                let result = match hub.engine() {
                    Some(engine) => match engine.query(&params) {
                        Ok(r) => r,
                        Err(e) => return End::Error(format!("query failed: {e}")),
                    },
                    None => QueryResult::default(),
                };
                conn.send_message_by(hub, &Message::QueryRes(result), reply(&msg), Flush::Inline);
            }
            Ok(_) => return End::Error(format!("unsupported message type {:?}", msg.data_type)),
            Err(e) => return e,
        }
    }
}

/// hat-event 0.9.44's schema repository (`hat-event://server.yaml` and
/// what it refers to).
const SCHEMA_REPO: &str = include_str!("../schemas/json_schema_repo.json");

/// hat's server configuration, read by [`read_conf`].
#[derive(Clone)]
pub struct HatConf {
    /// Address, server id and token (limits default, warnings to stderr).
    pub server: ServerConf,
    /// What the engine needs: the whole configuration (`server_id`,
    /// `backend`, `modules`).
    pub engine: serde_json::Value,
    /// Sections this server does not implement that the configuration has
    /// (`monitor_component`, `adminer_server`): it runs without them.
    pub unsupported: Vec<&'static str>,
}

/// Our limits from `eventer_server` (members hat ignores, so the same file
/// serves both): `max_frame`, `max_subscription_segments`,
/// `max_connections`, `max_queued_bytes` (positive integers) and
/// `ping_delay`, `ping_timeout`, `close_timeout` (seconds, positive).
fn read_limits(eventer: &serde_json::Value, limits: &mut Limits) -> Result<(), String> {
    let count = |name: &str, slot: &mut usize| -> Result<(), String> {
        if let Some(v) = eventer.get(name) {
            *slot = v
                .as_u64()
                .filter(|n| *n > 0)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| format!("eventer_server.{name} must be a positive integer"))?;
        }
        Ok(())
    };
    count("max_frame", &mut limits.max_frame)?;
    count("max_subscription_segments", &mut limits.max_subscription_segments)?;
    count("max_connections", &mut limits.max_connections)?;
    count("max_queued_bytes", &mut limits.max_queued_bytes)?;
    let seconds = |name: &str, slot: &mut Duration| -> Result<(), String> {
        if let Some(v) = eventer.get(name) {
            *slot = v
                .as_f64()
                .filter(|s| *s > 0.0)
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
                .ok_or_else(|| format!("eventer_server.{name} must be a positive number of seconds"))?;
        }
        Ok(())
    };
    seconds("ping_delay", &mut limits.ping_delay)?;
    seconds("ping_timeout", &mut limits.ping_timeout)?;
    seconds("close_timeout", &mut limits.close_timeout)
}

/// Reads hat's server configuration from JSON or YAML text and validates
/// it against `hat-event://server.yaml`.
pub fn read_conf(text: &str) -> Result<HatConf, String> {
    let conf: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(json_err) => serde_yaml_ng::from_str(text)
            .map_err(|e| format!("configuration is neither JSON ({json_err}) nor YAML ({e})"))?,
    };
    let repo: serde_json::Value = serde_json::from_str(SCHEMA_REPO).map_err(|e| e.to_string())?;
    crate::json_schema::validate("hat-event://server.yaml", &repo, &conf)
        .map_err(|e| format!("configuration does not follow hat-event://server.yaml: {e}"))?;
    // The schema guarantees the shapes read here.
    let eventer = &conf["eventer_server"];
    let host = eventer["host"].as_str().unwrap_or("127.0.0.1");
    let port =
        eventer["port"].as_i64().filter(|p| (0..=65535).contains(p)).ok_or("eventer_server.port out of range")?;
    let address = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let mut server = ServerConf::new(address, conf["server_id"].as_i64().unwrap_or_default());
    server.server_token = conf.get("server_token").and_then(|t| t.as_str()).map(String::from);
    read_limits(eventer, &mut server.limits)?;
    let unsupported = ["monitor_component", "adminer_server"].into_iter().filter(|k| conf.get(k).is_some()).collect();
    Ok(HatConf { server, engine: conf, unsupported })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eventer::client::{Client, ClientOptions, Handler};
    use crate::query::{QueryLatestParams, QueryParams};
    use crate::server::registry::Registered;
    use serde_json::json;
    use std::sync::mpsc;

    /// What a test client's handler saw: events, or a status.
    type Sight = Result<Vec<Arc<Event>>, ServerStatus>;

    struct Seen(mpsc::Sender<Sight>);
    impl Handler for Seen {
        fn on_status(&mut self, s: ServerStatus) {
            let _ = self.0.send(Err(s));
        }
        fn on_events(&mut self, e: &[Arc<Event>]) {
            let _ = self.0.send(Ok(e.to_vec()));
        }
    }

    fn quiet(limits: Limits) -> ServerConf {
        let mut conf = ServerConf::new("127.0.0.1:0", 1);
        conf.limits = limits;
        conf.logger = Arc::new(|_, _| {});
        conf
    }

    fn running(conf: ServerConf) -> EventerServer {
        let server = EventerServer::listen(conf).unwrap();
        server.start_engine(&json!({"server_id": 1, "backend": {"module": "memory"}}), &Registered).unwrap();
        server
    }

    fn client(
        server: &EventerServer,
        name: &str,
        f: impl FnOnce(&mut ClientOptions),
    ) -> (Client, mpsc::Receiver<Sight>) {
        let mut o = ClientOptions::new("127.0.0.1", server.local_addr().port(), name);
        f(&mut o);
        let (tx, rx) = mpsc::channel();
        (Client::connect(&o, Box::new(Seen(tx))).unwrap(), rx)
    }

    fn reg(t: &str) -> RegisterEvent {
        RegisterEvent { type_: t.split('/').map(String::from).collect(), source_timestamp: None, payload: None }
    }

    fn types(events: &[Arc<Event>]) -> Vec<String> {
        events.iter().map(|e| e.type_.join("/")).collect()
    }

    const T: Option<Duration> = Some(Duration::from_secs(5));
    const W: Duration = Duration::from_secs(5);

    #[test]
    fn frames_written_together_arrive_whole_and_in_order() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let sender = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut receiver, _) = listener.accept().unwrap();
        // Small frames gathered past GATHER_BYTES, empty ones among them,
        // some larger than a socket buffer (written as they are).
        let frames: VecDeque<Vec<u8>> =
            (0..300).map(|i| vec![i as u8; if i % 50 == 7 { 300_000 } else { i % 3 * 1000 }]).collect();
        let expected: Vec<u8> = frames.iter().flatten().copied().collect();
        let reading = std::thread::spawn(move || {
            let mut got = Vec::new();
            receiver.read_to_end(&mut got).unwrap();
            got
        });
        write_all_frames(&sender, &frames).unwrap();
        sender.shutdown(Shutdown::Write).unwrap();
        assert!(reading.join().unwrap() == expected);
    }

    #[test]
    fn responses_written_by_the_reader_and_notifications_by_the_writer_all_arrive() {
        // The subscriber's own responses leave from its reader thread while
        // notifications of another client's events, queued from that
        // client's thread, leave from its writer thread: neither may be
        // lost or wait for the next request.
        let server = running(quiet(Limits::default()));
        let (sub, rx) = client(&server, "sub", |o| o.subscriptions = vec![crate::event_type::EventType::from(["n"])]);
        let (other, _) = client(&server, "other", |_| {});
        const N: usize = 300;
        let notifying = std::thread::spawn(move || {
            for _ in 0..N {
                other.register(&[reg("n")]).unwrap();
            }
            other.register_with_response(&[reg("n")], T).unwrap().unwrap();
        });
        for _ in 0..N {
            assert!(sub.register_with_response(&[reg("mine")], T).unwrap().is_some());
        }
        notifying.join().unwrap();
        let mut instances = Vec::new();
        while instances.len() < N + 1 {
            let events = rx.recv_timeout(W).expect("every notification arrives").unwrap();
            instances.extend(events.iter().map(|e| e.id.session));
        }
        assert!(instances.windows(2).all(|w| w[0] < w[1]), "in order");
    }

    #[test]
    fn subscribers_see_registers_and_other_clients_connecting_but_not_themselves() {
        let server = running(quiet(Limits::default()));
        let (watcher, rx) =
            client(&server, "watcher", |o| o.subscriptions = vec![crate::event_type::EventType::from(["*"])]);
        assert_eq!(watcher.server_status(), ServerStatus::Operational);
        let (c, _) = client(&server, "c1", |_| {});
        assert_eq!(types(&rx.recv_timeout(W).unwrap().unwrap()), ["event/1/eventer/c1"]);
        let res = c.register_with_response(&[reg("a/b"), reg("a/c")], T).unwrap().unwrap();
        assert_eq!(types(&res), ["a/b", "a/c"]);
        assert_eq!(res[0].id.session, res[1].id.session);
        assert_eq!(rx.recv_timeout(W).unwrap().unwrap(), res, "notified as registered");
        c.register(&[reg("x")]).unwrap();
        assert_eq!(types(&rx.recv_timeout(W).unwrap().unwrap()), ["x"]);
        let infos = server.connection_infos();
        assert_eq!(
            infos.iter().map(|i| (i.id, i.client_name.as_str())).collect::<Vec<_>>(),
            [(1, "watcher"), (2, "c1")]
        );
        let q = c
            .query(
                &QueryParams::Latest(QueryLatestParams {
                    event_types: Some(vec![crate::event_type::EventType::from(["a", "*"])]),
                }),
                T,
            )
            .unwrap();
        assert_eq!(types(&q.events), ["a/b", "a/c"]);
        c.close();
        let e = rx.recv_timeout(W).unwrap().unwrap();
        assert_eq!(
            (types(&e), e[0].payload.clone()),
            (
                vec!["event/1/eventer/c1".to_string()],
                Some(Arc::new(EventPayload::Json(JsonPayload::from_value(json!("DISCONNECTED")))))
            )
        );
        server.close().unwrap();
        assert_eq!(rx.recv_timeout(W).unwrap(), Err(ServerStatus::Stopping));
        assert_eq!(types(&rx.recv_timeout(W).unwrap().unwrap()), ["event/1/engine"]);
        assert_eq!(rx.recv_timeout(W).unwrap(), Err(ServerStatus::Standby));
        assert_eq!(server.thread_count(), 0);
    }

    #[test]
    fn a_wrong_token_is_refused_with_hats_text_and_no_token_is_accepted() {
        let mut conf = quiet(Limits::default());
        conf.server_token = Some("secret".into());
        let server = running(conf);
        let mut o = ClientOptions::new("127.0.0.1", server.local_addr().port(), "x");
        o.client_token = Some("wrong".into());
        let err = Client::connect(&o, Box::new(Seen(mpsc::channel().0))).err().unwrap();
        assert!(err.to_string().contains("invalid client token"), "{err}");
        o.client_token = Some("secret".into());
        assert!(Client::connect(&o, Box::new(Seen(mpsc::channel().0))).is_ok());
        o.client_token = None;
        assert!(Client::connect(&o, Box::new(Seen(mpsc::channel().0))).is_ok());
    }

    #[test]
    fn server_id_and_persisted_filter_notifications() {
        let server = running(quiet(Limits::default()));
        let (_other, rx_other) = client(&server, "o", |o| {
            o.subscriptions = vec![crate::event_type::EventType::from(["a"])];
            o.server_id = Some(2);
        });
        let (_p, rx_p) = client(&server, "p", |o| {
            o.subscriptions = vec![crate::event_type::EventType::from(["a"])];
            o.persisted = true;
        });
        let (c, _) = client(&server, "c", |_| {});
        c.register_with_response(&[reg("a")], T).unwrap().unwrap();
        // the memory backend flushes on register: the persisted client sees it
        assert_eq!(types(&rx_p.recv_timeout(W).unwrap().unwrap()), ["a"]);
        assert!(rx_other.recv_timeout(Duration::from_millis(200)).is_err());
    }

    #[test]
    fn without_an_engine_registers_fail_and_status_follows_the_runner() {
        let server = EventerServer::listen(quiet(Limits::default())).unwrap();
        let (c, rx) = client(&server, "c", |_| {});
        assert_eq!(c.server_status(), ServerStatus::Standby);
        assert_eq!(c.register_with_response(&[reg("a")], T).unwrap(), None);
        server.stop_engine().unwrap();
        assert!(rx.try_recv().is_err(), "stopping no engine notifies nothing");
        server.start_engine(&json!({"server_id": 1, "backend": {"module": "memory"}}), &Registered).unwrap();
        assert_eq!(rx.recv_timeout(W).unwrap(), Err(ServerStatus::Starting));
        assert_eq!(rx.recv_timeout(W).unwrap(), Err(ServerStatus::Operational));
        assert!(c.register_with_response(&[reg("a")], T).unwrap().is_some());
        server.stop_engine().unwrap();
        assert_eq!(rx.recv_timeout(W).unwrap(), Err(ServerStatus::Stopping));
        assert_eq!(rx.recv_timeout(W).unwrap(), Err(ServerStatus::Standby));
        assert_eq!(c.register_with_response(&[reg("a")], T).unwrap(), None);
        assert!(server.set_status(ServerStatus::Operational, None).is_err());
    }

    #[test]
    fn hats_configuration_reads_from_yaml_and_json_and_is_validated() {
        let yaml = "name: s\nserver_id: 3\nserver_token: tok\nbackend: {module: memory}\nmodules: []\n\
                    eventer_server: {host: 127.0.0.1, port: 23012}\nmonitor_component: {host: h, port: 1, group: g}\n";
        let c = read_conf(yaml).unwrap();
        assert_eq!((c.server.address.as_str(), c.server.server_id), ("127.0.0.1:23012", 3));
        assert_eq!(c.server.server_token.as_deref(), Some("tok"));
        assert_eq!(c.unsupported, ["monitor_component"]);
        assert_eq!(c.engine["backend"], json!({"module": "memory"}));
        let json = r#"{"name": "s", "server_id": 1, "backend": {"module": "memory"}, "modules": [],
                       "eventer_server": {"host": "::1", "port": 5}}"#;
        assert_eq!(read_conf(json).unwrap().server.address, "[::1]:5");
        let e = read_conf("name: s\nserver_id: x\n").err().unwrap();
        assert!(e.contains("hat-event://server.yaml"), "{e}");
        assert!(read_conf("{[").is_err());
        let limits = r#"{"name": "s", "server_id": 1, "backend": {"module": "memory"}, "modules": [],
                         "eventer_server": {"host": "127.0.0.1", "port": 5, "max_frame": 1024,
                                            "max_connections": 3, "ping_delay": 0.5}}"#;
        let l = read_conf(limits).unwrap().server.limits;
        assert_eq!((l.max_frame, l.max_connections, l.ping_delay), (1024, 3, Duration::from_millis(500)));
        assert_eq!(l.max_queued_bytes, Limits::default().max_queued_bytes);
        let bad = limits.replace("\"max_frame\": 1024", "\"max_frame\": 0");
        assert_eq!(read_conf(&bad).err().unwrap(), "eventer_server.max_frame must be a positive integer");
    }

    #[test]
    fn garbage_closes_only_that_connection_and_leaves_no_thread() {
        let server = running(quiet(Limits { max_frame: 1024, ..Limits::default() }));
        let (c, _) = client(&server, "c", |_| {});
        for garbage in [&[0u8, 1, 2][..], &[2, 0xff, 0xff], &[1, 5, 0x81, 0x81, 0x81, 0x81, 0x81]] {
            let mut s = TcpStream::connect(server.local_addr()).unwrap();
            s.write_all(garbage).unwrap();
            s.set_read_timeout(Some(W)).unwrap();
            assert_eq!(s.read(&mut [0; 16]).unwrap_or(0), 0, "closed by the server");
        }
        for _ in 0..200 {
            drop(TcpStream::connect(server.local_addr()).unwrap());
        }
        assert!(c.register_with_response(&[reg("a")], T).unwrap().is_some());
        let deadline = Instant::now() + W;
        while server.thread_count() != 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!((server.thread_count(), server.connection_count()), (2, 1));
    }

    #[test]
    fn a_subscriber_that_stops_reading_is_dropped_and_others_go_on() {
        let server = running(quiet(Limits { max_queued_bytes: 1 << 20, ..Limits::default() }));
        let (slow, _) = client(&server, "slow", |o| o.subscriptions = vec![crate::event_type::EventType::from(["*"])]);
        let mut o = ClientOptions::new("127.0.0.1", server.local_addr().port(), "fast");
        o.subscriptions = vec![crate::event_type::EventType::from(["*"])];
        struct Count(Arc<AtomicI64>);
        impl Handler for Count {
            fn on_events(&mut self, e: &[Arc<Event>]) {
                self.0.fetch_add(e.len() as i64, Ordering::Relaxed);
            }
        }
        let count = Arc::new(AtomicI64::new(0));
        let _fast = Client::connect(&o, Box::new(Count(count.clone()))).unwrap();
        drop(slow);
        // A raw client that initialises with a '*' subscription, then never reads.
        let mut raw = TcpStream::connect(server.local_addr()).unwrap();
        let init = MsgInitReq {
            client_name: "raw".into(),
            client_token: None,
            subscriptions: vec![crate::event_type::EventType::from(["*"])],
            server_id: None,
            persisted: false,
        };
        let mut frame = Vec::new();
        chatter::write_frame(
            &mut frame,
            &ChatterMsg {
                id: 1,
                first: 1,
                owner: true,
                token: true,
                last: false,
                data_type: MessageKind::InitReq.name().into(),
                data: sbs::encode_to_vec(&init).unwrap(),
            },
        );
        raw.write_all(&frame).unwrap();
        let (c, _) = client(&server, "c", |_| {});
        let big = RegisterEvent {
            type_: crate::event_type::EventType::from(["big"]),
            source_timestamp: None,
            payload: Some(Arc::new(EventPayload::Binary { type_: "x".into(), data: vec![0; 8192] })),
        };
        let batch = vec![big; 16];
        for i in 1..=200 {
            c.register_with_response(&batch, T).unwrap().unwrap();
            // Paced by the reading subscriber, so that on a loaded machine
            // it never falls a queue bound behind (it would rightly be
            // dropped too); the raw one never reads and passes the bound.
            let deadline = Instant::now() + W;
            while count.load(Ordering::Relaxed) < i * 16 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        let deadline = Instant::now() + W;
        while server.connection_infos().iter().any(|i| i.client_name == "raw") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(server.connection_infos().iter().all(|i| i.client_name != "raw"), "the slow consumer is dropped");
        let deadline = Instant::now() + W;
        while count.load(Ordering::Relaxed) < 200 * 16 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(count.load(Ordering::Relaxed) >= 200 * 16, "the reading subscriber got everything");
    }

    fn raw_frame(id: i64, last: bool, data_type: &str, data: Vec<u8>) -> Vec<u8> {
        let mut frame = Vec::new();
        let msg = ChatterMsg { id, first: id, owner: true, token: true, last, data_type: data_type.into(), data };
        chatter::write_frame(&mut frame, &msg);
        frame
    }

    fn init_frame(name: &str, subscriptions: Vec<Vec<String>>) -> Vec<u8> {
        let init = MsgInitReq {
            client_name: name.into(),
            client_token: None,
            subscriptions: subscriptions.into_iter().map(EventType::from).collect(),
            server_id: None,
            persisted: false,
        };
        raw_frame(1, false, MessageKind::InitReq.name(), sbs::encode_to_vec(&init).unwrap())
    }

    /// Reads the next frame (None when the server closed).
    fn read_raw(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<ChatterMsg> {
        loop {
            if let Some((msg, used)) = chatter::parse_frame(buf, 1 << 20).unwrap() {
                buf.drain(..used);
                return Some(msg);
            }
            let mut chunk = [0u8; 4096];
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    #[test]
    fn pings_are_answered_and_a_silent_peer_is_pinged_then_dropped() {
        let limits = Limits {
            ping_delay: Duration::from_millis(200),
            ping_timeout: Duration::from_millis(200),
            ..Limits::default()
        };
        let server = running(quiet(limits));
        let mut s = TcpStream::connect(server.local_addr()).unwrap();
        s.set_read_timeout(Some(W)).unwrap();
        let mut buf = Vec::new();
        s.write_all(&init_frame("silent", vec![])).unwrap();
        assert_eq!(read_raw(&mut s, &mut buf).unwrap().data_type, MessageKind::InitRes.name());
        s.write_all(&raw_frame(2, false, chatter::PING, vec![])).unwrap();
        let pong = read_raw(&mut s, &mut buf).unwrap();
        assert_eq!((pong.data_type.as_str(), pong.first, pong.owner, pong.last), (chatter::PONG, 2, false, true));
        let started = Instant::now();
        let their_ping = read_raw(&mut s, &mut buf).unwrap();
        assert_eq!((their_ping.data_type.as_str(), their_ping.owner, their_ping.last), (chatter::PING, true, false));
        assert!(started.elapsed() >= Duration::from_millis(150), "{:?}", started.elapsed());
        assert!(read_raw(&mut s, &mut buf).is_none(), "dropped after the ping timeout");
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    }

    #[test]
    fn connections_past_the_limit_are_closed_on_accept() {
        let server = running(quiet(Limits { max_connections: 2, ..Limits::default() }));
        let (a, _) = client(&server, "a", |_| {});
        let (_b, _) = client(&server, "b", |_| {});
        let mut o = ClientOptions::new("127.0.0.1", server.local_addr().port(), "c");
        o.connect_timeout = Duration::from_secs(2);
        assert!(Client::connect(&o, Box::new(Seen(mpsc::channel().0))).is_err());
        assert!(a.register_with_response(&[reg("x")], T).unwrap().is_some());
        drop(a);
        let deadline = Instant::now() + W;
        while server.connection_count() > 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(Client::connect(&o, Box::new(Seen(mpsc::channel().0))).is_ok(), "a freed slot is usable");
    }

    #[test]
    fn a_subscription_past_the_segment_limit_is_refused_at_init() {
        let server = running(quiet(Limits { max_subscription_segments: 3, ..Limits::default() }));
        let mut o = ClientOptions::new("127.0.0.1", server.local_addr().port(), "big");
        o.subscriptions =
            vec![crate::event_type::EventType::from(["a", "b"]), crate::event_type::EventType::from(["c", "*"])];
        let err = Client::connect(&o, Box::new(Seen(mpsc::channel().0))).err().unwrap().to_string();
        assert!(err.contains("subscription of 4 segments, the limit is 3"), "{err}");
        o.subscriptions.pop();
        assert!(Client::connect(&o, Box::new(Seen(mpsc::channel().0))).is_ok());
    }

    #[test]
    fn the_first_message_must_be_an_init_request_and_last_registers_get_no_response() {
        let server = running(quiet(Limits::default()));
        let register = sbs::encode_to_vec(&vec![reg("a")]).unwrap();
        let mut s = TcpStream::connect(server.local_addr()).unwrap();
        s.set_read_timeout(Some(W)).unwrap();
        s.write_all(&raw_frame(1, false, MessageKind::RegisterReq.name(), register.clone())).unwrap();
        let mut buf = Vec::new();
        assert!(read_raw(&mut s, &mut buf).is_none(), "closed without an answer");

        let mut s = TcpStream::connect(server.local_addr()).unwrap();
        s.set_read_timeout(Some(W)).unwrap();
        s.write_all(&init_frame("r", vec![])).unwrap();
        assert_eq!(read_raw(&mut s, &mut buf).unwrap().data_type, MessageKind::InitRes.name());
        s.write_all(&raw_frame(2, true, MessageKind::RegisterReq.name(), register.clone())).unwrap();
        s.write_all(&raw_frame(3, false, MessageKind::RegisterReq.name(), register)).unwrap();
        let res = read_raw(&mut s, &mut buf).unwrap();
        assert_eq!((res.data_type.as_str(), res.first), (MessageKind::RegisterRes.name(), 3));
        let (Message::RegisterRes(sbs::MsgRegisterRes::Events(events)), _) =
            Message::decode(MessageKind::RegisterRes, &res.data, true).unwrap()
        else {
            panic!("not events")
        };
        // the unanswered register was session 3 (STARTED 1, CONNECTED 2)
        assert_eq!(events[0].id.session, 4);
    }
}
