//! The eventer client, after hat-event's `hat.event.eventer.client`.
//!
//! One reader thread per client reads frames, answers pings, sends its own
//! pings when the server is silent, dispatches responses to the callers
//! waiting for them, runs the [`Handler`] for notifications and
//! acknowledges events notifications that ask for it. Callers send from
//! their own threads; a mutex keeps frames whole.
//!
//! The sequence (hat-event 0.9.44): the client opens a conversation with
//! `MsgInitReq` (last = false); the server answers `MsgInitRes` in it.
//! `MsgRegisterReq` is sent with last = true when no response is wanted,
//! else last = false and the server answers `MsgRegisterRes` in the same
//! conversation; `MsgQueryReq` likewise with `MsgQueryRes`. The server
//! opens a conversation per `MsgStatusNotify` and `MsgEventsNotify`; an
//! events notification sent with last = false expects a `MsgEventsAck` in
//! its conversation once the events have been handled.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle, ThreadId};
use std::time::{Duration, Instant};

use super::chatter::{self, parse_frame, write_frame, ChatterMsg, FrameError, ReadTimeout};
use crate::error::Quoted;
use crate::event::{Event, RegisterEvent, ServerStatus};
use crate::event_type::EventType;
use crate::message::{Message, MessageKind};
use crate::query::{QueryParams, QueryResult};
use crate::sbs::{self, MsgInitReq, MsgInitRes, MsgRegisterRes, Sbs};

/// Why a client call failed or the connection ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// Connecting, reading or writing failed at the socket level.
    #[error("{0}")]
    Io(String),
    /// Nothing arrived in time (connect, init, a response, a ping).
    #[error("{0}")]
    Timeout(String),
    /// The connection is closed (by the server, or by `close`).
    #[error("{0}")]
    Closed(String),
    /// The peer broke the protocol: a malformed or oversized frame, an
    /// unexpected message.
    #[error("{0}")]
    Protocol(String),
    /// The server answered the init request with an error.
    #[error("the server refused the client: {0}")]
    Refused(String),
    /// An argument cannot be used here.
    #[error("{0}")]
    InvalidArgument(String),
    /// A value cannot be encoded (a JSON payload number beyond a double).
    #[error("{0}")]
    Encode(#[from] sbs::SbsError),
}

/// How to connect.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Server host name or address, and port.
    pub host: String,
    pub port: u16,
    /// Identifies the client to the server (`clientName`, `clientToken`).
    pub client_name: String,
    pub client_token: Option<String>,
    /// Query types of the events to be notified of; empty for none.
    pub subscriptions: Vec<EventType>,
    /// Only events of this server id are notified (all when `None`).
    pub server_id: Option<i64>,
    /// Notify events once persisted rather than once registered.
    pub persisted: bool,
    /// Limit for connecting and for the init exchange.
    pub connect_timeout: Duration,
    /// Silence after which a ping is sent; `None` sends no pings.
    pub ping_delay: Option<Duration>,
    /// Silence after a ping after which the server is taken for dead.
    pub ping_timeout: Duration,
    /// Largest frame accepted from the server, in bytes.
    pub max_frame_size: usize,
    /// How long a caller waiting for its response checks for it before it
    /// sleeps, while round trips are that short ([`DEFAULT_RESPONSE_SPIN`]
    /// by default); zero never spins. At most [`MAX_RESPONSE_SPIN`].
    pub response_spin: Duration,
}

impl ClientOptions {
    /// hat's defaults (pings after 20 s of silence, 20 s to answer), a 5 s
    /// connect timeout and a 64 MiB frame limit.
    pub fn new(host: impl Into<String>, port: u16, client_name: impl Into<String>) -> ClientOptions {
        ClientOptions {
            host: host.into(),
            port,
            client_name: client_name.into(),
            client_token: None,
            subscriptions: Vec::new(),
            server_id: None,
            persisted: false,
            connect_timeout: Duration::from_secs(5),
            ping_delay: Some(Duration::from_secs(20)),
            ping_timeout: Duration::from_secs(20),
            max_frame_size: 64 << 20,
            response_spin: DEFAULT_RESPONSE_SPIN,
        }
    }
}

/// What the reader thread calls. Every method runs on the reader thread,
/// one at a time; while one runs, no frame is read.
pub trait Handler: Send + 'static {
    /// The server's status changed (`MsgStatusNotify`).
    fn on_status(&mut self, _status: ServerStatus) {}
    /// Events of the subscription arrived. An acknowledgement, if the
    /// server asked for one, is sent after this returns.
    fn on_events(&mut self, _events: &[Arc<Event>]) {}
    /// The connection ended for a reason other than [`Client::close`];
    /// called once, last.
    fn on_closed(&mut self, _reason: &ClientError) {}
}

/// A response a caller waits for.
enum Response {
    Register(MsgRegisterRes),
    Query(QueryResult),
}

struct State {
    /// Conversations (by first message id) with a caller waiting.
    pending: HashMap<i64, Option<Response>>,
    /// Set once, when the connection ends.
    closed: Option<ClientError>,
    /// `close` was called: end without calling the handler again.
    closed_by_user: bool,
    /// The reader thread has finished: no handler method runs any more.
    reader_done: bool,
    server_status: ServerStatus,
}

struct Writer {
    stream: TcpStream,
    next_id: i64,
    frame: Vec<u8>,
}

impl Writer {
    /// Sends a message; returns its id.
    fn send(&mut self, conv: Option<(i64, bool)>, last: bool, kind: &str, data: Vec<u8>) -> std::io::Result<i64> {
        let id = self.next_id;
        self.next_id += 1;
        let (first, owner) = conv.unwrap_or((id, true));
        let msg = ChatterMsg { id, first, owner, token: true, last, data_type: kind.to_owned(), data };
        self.frame.clear();
        write_frame(&mut self.frame, &msg);
        self.stream.write_all(&self.frame)?;
        if self.frame.capacity() > 1 << 20 {
            self.frame = Vec::new();
        }
        Ok(id)
    }
}

struct Shared {
    writer: Mutex<Writer>,
    state: Mutex<State>,
    changed: Condvar,
    /// For shutting the socket down without the writer lock.
    socket: TcpStream,
    reader_thread: Mutex<Option<ThreadId>>,
    /// How long the last response took, in µs: a caller spins only while
    /// round trips are short (see [`DEFAULT_RESPONSE_SPIN`]).
    last_wait_us: AtomicU64,
    /// [`ClientOptions::response_spin`].
    spin: Duration,
}

/// How long, by default, a caller waiting for a response checks for it
/// before it sleeps on the condition variable. A loopback round trip takes
/// about 20 µs, and on a virtual machine the wake-up of a sleeping caller
/// (whose idle CPU halts) costs as much again: measured on this project's
/// 2-core VM, `register_wait` went from p50/p99 31-47/61-88 µs to
/// 20-31/37-52 µs. Only while the last round trip took less than this
/// does a caller spin, so a distant server (or a slow one) costs no
/// spinning.
pub const DEFAULT_RESPONSE_SPIN: Duration = Duration::from_micros(60);

/// The longest [`ClientOptions::response_spin`]: beyond a few
/// milliseconds sleeping costs nothing that spinning would save.
pub const MAX_RESPONSE_SPIN: Duration = Duration::from_millis(10);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock leaves plain data behind: carry on.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    /// Ends the connection with `reason` (the first reason wins); wakes
    /// every waiting caller. Returns whether this call ended it.
    fn end(&self, reason: ClientError, by_user: bool) -> bool {
        let mut st = lock(&self.state);
        if by_user {
            st.closed_by_user = true;
        }
        let first = st.closed.is_none();
        if first {
            st.closed = Some(reason);
        }
        drop(st);
        let _ = self.socket.shutdown(Shutdown::Both);
        self.changed.notify_all();
        first
    }

    fn on_reader_thread(&self) -> bool {
        *lock(&self.reader_thread) == Some(thread::current().id())
    }

    fn closed_error(&self) -> Option<ClientError> {
        lock(&self.state).closed.as_ref().map(closed_because)
    }

    /// Sends in a new conversation; with `want_response`, registers the
    /// conversation so that the reader keeps its response.
    fn send_request(&self, kind: MessageKind, data: Vec<u8>, want_response: bool) -> Result<i64, ClientError> {
        if want_response && self.on_reader_thread() {
            // The reader thread would have to deliver the response itself.
            return Err(ClientError::InvalidArgument(
                "a callback cannot wait for a response (it runs on the reader thread that receives it)".into(),
            ));
        }
        let mut w = lock(&self.writer);
        if let Some(e) = self.closed_error() {
            return Err(e);
        }
        let id = w.next_id;
        if want_response {
            lock(&self.state).pending.insert(id, None);
        }
        match w.send(None, !want_response, kind.name(), data) {
            Ok(id) => Ok(id),
            Err(e) => {
                drop(w);
                let reason = ClientError::Io(format!("sending {} failed: {e}", kind.name()));
                self.end(reason.clone(), false);
                lock(&self.state).pending.remove(&id);
                Err(self.closed_error().unwrap_or(reason))
            }
        }
    }

    fn wait_response(&self, id: i64, timeout: Option<Duration>) -> Result<Response, ClientError> {
        let start = Instant::now();
        let deadline = timeout.and_then(|t| start.checked_add(t));
        if self.spins() {
            self.spin_for_response(id, start + self.spin.min(timeout.unwrap_or(self.spin)));
        }
        let mut st = lock(&self.state);
        loop {
            if let Some(Some(_)) = st.pending.get(&id) {
                if let Some(Some(r)) = st.pending.remove(&id) {
                    let took = start.elapsed().as_micros().min(u128::from(u64::MAX)) as u64;
                    self.last_wait_us.store(took, Ordering::Relaxed);
                    return Ok(r);
                }
            }
            if let Some(reason) = &st.closed {
                let e = closed_because(reason);
                st.pending.remove(&id);
                return Err(e);
            }
            st = match deadline {
                None => self.changed.wait(st).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        st.pending.remove(&id);
                        return Err(ClientError::Timeout(format!(
                            "no response within {:.3} s",
                            timeout.unwrap_or_default().as_secs_f64()
                        )));
                    }
                    self.changed.wait_timeout(st, d - now).unwrap_or_else(|e| e.into_inner()).0
                }
            };
        }
    }

    /// Whether a caller spins before sleeping: while the last round trip
    /// took less than the spin (so never when it is zero).
    fn spins(&self) -> bool {
        self.last_wait_us.load(Ordering::Relaxed) < self.spin.as_micros() as u64
    }

    /// Checks for the response to `id` (or the end of the connection) until
    /// `until`, without sleeping: see [`DEFAULT_RESPONSE_SPIN`].
    fn spin_for_response(&self, id: i64, until: Instant) {
        loop {
            {
                let st = lock(&self.state);
                if matches!(st.pending.get(&id), Some(Some(_))) || st.closed.is_some() {
                    return;
                }
            }
            if Instant::now() >= until {
                return;
            }
            // About a microsecond between looks, leaving the lock to the reader.
            for _ in 0..64 {
                std::hint::spin_loop();
            }
        }
    }
}

/// The error a call gets on a connection that ended with `reason`.
fn closed_because(reason: &ClientError) -> ClientError {
    match reason {
        ClientError::Closed(m) => ClientError::Closed(m.clone()),
        other => ClientError::Closed(format!("connection closed: {other}")),
    }
}

/// Reads frames off a socket into a buffer.
struct FrameReader {
    stream: TcpStream,
    buf: Vec<u8>,
    start: usize,
    limit: usize,
    chunk: Box<[u8]>,
    timeout: ReadTimeout,
}

enum ReadStep {
    Msg(ChatterMsg),
    /// Bytes arrived, no whole frame yet. Not a sign of life: a peer that
    /// trickles bytes without ever completing a frame is as dead as a
    /// silent one.
    Progress,
    /// The read timed out.
    Idle,
}

impl FrameReader {
    fn new(stream: TcpStream, limit: usize) -> FrameReader {
        FrameReader {
            stream,
            buf: Vec::new(),
            start: 0,
            limit,
            chunk: vec![0; 64 * 1024].into_boxed_slice(),
            timeout: ReadTimeout::default(),
        }
    }

    /// The next message, reading at most once and waiting at most `wait`.
    fn next(&mut self, wait: Option<Duration>) -> Result<ReadStep, ClientError> {
        if let Some((msg, used)) = parse_frame(&self.buf[self.start..], self.limit).map_err(frame_error)? {
            self.start += used;
            if self.start == self.buf.len() {
                self.buf.clear();
                self.start = 0;
            }
            return Ok(ReadStep::Msg(msg));
        }
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.timeout.apply(&self.stream, wait).map_err(|e| ClientError::Io(format!("setting a read timeout: {e}")))?;
        match self.stream.read(&mut self.chunk) {
            Ok(0) => Err(ClientError::Closed("the server closed the connection".into())),
            Ok(n) => {
                self.buf.extend_from_slice(&self.chunk[..n]);
                Ok(ReadStep::Progress)
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(ReadStep::Idle),
            Err(e) if e.kind() == ErrorKind::Interrupted => Ok(ReadStep::Progress),
            Err(e) => Err(ClientError::Io(format!("reading from the server failed: {e}"))),
        }
    }
}

fn frame_error(e: FrameError) -> ClientError {
    ClientError::Protocol(e.to_string())
}

fn decode_data(msg: &ChatterMsg) -> Result<Message, ClientError> {
    let kind = MessageKind::from_name(&msg.data_type)
        .ok_or_else(|| ClientError::Protocol(format!("unsupported message type {}", Quoted(&msg.data_type))))?;
    Message::decode(kind, &msg.data, true)
        .map(|(m, _)| m)
        .map_err(|e| ClientError::Protocol(format!("malformed {}: {e}", msg.data_type)))
}

/// A connected eventer client. Dropping it closes it.
pub struct Client {
    shared: Arc<Shared>,
    reader: Mutex<Option<JoinHandle<()>>>,
}

impl Client {
    /// Connects, sends the init request and waits for the server's answer
    /// (all within `options.connect_timeout`), then starts the reader
    /// thread that calls `handler`.
    pub fn connect(options: &ClientOptions, handler: Box<dyn Handler>) -> Result<Client, ClientError> {
        if let Some(d) = options.ping_delay {
            if d.is_zero() {
                return Err(ClientError::InvalidArgument("ping delay must be positive or none".into()));
            }
        }
        if options.response_spin > MAX_RESPONSE_SPIN {
            return Err(ClientError::InvalidArgument(format!(
                "response spin must be at most {} µs, got {} µs",
                MAX_RESPONSE_SPIN.as_micros(),
                options.response_spin.as_micros()
            )));
        }
        let deadline = Instant::now() + options.connect_timeout;
        let where_ = format!("{} port {}", Quoted(&options.host), options.port);
        let addrs = (options.host.as_str(), options.port)
            .to_socket_addrs()
            .map_err(|e| ClientError::Io(format!("cannot resolve {where_}: {e}")))?;
        let mut last_error = None;
        let mut stream = None;
        for addr in addrs {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                last_error = Some(ClientError::Timeout(format!("connecting to {where_} timed out")));
                break;
            }
            match TcpStream::connect_timeout(&addr, left) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) if e.kind() == ErrorKind::TimedOut => {
                    last_error = Some(ClientError::Timeout(format!("connecting to {addr} timed out")))
                }
                Err(e) => last_error = Some(ClientError::Io(format!("cannot connect to {addr}: {e}"))),
            }
        }
        let stream = stream
            .ok_or_else(|| last_error.unwrap_or_else(|| ClientError::Io(format!("{where_} resolves to no address"))))?;
        let io = |e: std::io::Error| ClientError::Io(format!("socket setup failed: {e}"));
        stream.set_nodelay(true).map_err(io)?;
        // A server that stops reading must not block senders for ever.
        stream.set_write_timeout(Some(options.ping_timeout.max(Duration::from_secs(1)))).map_err(io)?;
        let mut writer = Writer { stream: stream.try_clone().map_err(io)?, next_id: 1, frame: Vec::new() };
        let mut reader = FrameReader::new(stream.try_clone().map_err(io)?, options.max_frame_size);

        let init = MsgInitReq {
            client_name: options.client_name.clone(),
            client_token: options.client_token.clone(),
            subscriptions: options.subscriptions.clone(),
            server_id: options.server_id,
            persisted: options.persisted,
        };
        let data = sbs::encode_to_vec(&init)?;
        let init_id = writer
            .send(None, false, MessageKind::InitReq.name(), data)
            .map_err(|e| ClientError::Io(format!("sending the init request failed: {e}")))?;
        let status = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ClientError::Timeout(format!("no init response from {where_} in time")));
            }
            let msg = match reader.next(Some(left))? {
                ReadStep::Msg(m) => m,
                ReadStep::Progress | ReadStep::Idle => continue,
            };
            if msg.data_type == chatter::PING {
                writer
                    .send(Some((msg.first, !msg.owner)), true, chatter::PONG, Vec::new())
                    .map_err(|e| ClientError::Io(format!("sending a pong failed: {e}")))?;
                continue;
            }
            if msg.data_type == chatter::PONG {
                continue;
            }
            let is_response = msg.first == init_id && !msg.owner;
            match decode_data(&msg)? {
                Message::InitRes(MsgInitRes::Success(s)) if is_response => break s,
                Message::InitRes(MsgInitRes::Error(e)) if is_response => {
                    return Err(ClientError::Refused(Quoted(&e).to_string()))
                }
                _ => {
                    return Err(ClientError::Protocol(format!(
                        "invalid init response: {} (conversation {}, owner {})",
                        Quoted(&msg.data_type),
                        msg.first,
                        msg.owner
                    )))
                }
            }
        };

        let shared = Arc::new(Shared {
            last_wait_us: AtomicU64::new(0),
            spin: options.response_spin,
            writer: Mutex::new(writer),
            state: Mutex::new(State {
                pending: HashMap::new(),
                closed: None,
                closed_by_user: false,
                reader_done: false,
                server_status: status,
            }),
            changed: Condvar::new(),
            socket: stream,
            reader_thread: Mutex::new(None),
        });
        let ping = options.ping_delay.map(|d| (d, options.ping_timeout));
        let thread_shared = Arc::clone(&shared);
        // Holding the lock until the id is stored: the thread cannot run a
        // callback that asks "am I the reader?" before the answer is known.
        let mut reader_id = lock(&shared.reader_thread);
        let join = thread::Builder::new()
            .name("hat-event-client".into())
            .spawn(move || run_reader(thread_shared, reader, handler, ping))
            .map_err(|e| ClientError::Io(format!("cannot start the reader thread: {e}")))?;
        *reader_id = Some(join.thread().id());
        drop(reader_id);
        Ok(Client { shared, reader: Mutex::new(Some(join)) })
    }

    /// The server's status as last reported (init response or status
    /// notification).
    pub fn server_status(&self) -> ServerStatus {
        lock(&self.shared.state).server_status
    }

    /// Whether the connection is still open.
    pub fn is_open(&self) -> bool {
        lock(&self.shared.state).closed.is_none()
    }

    /// Why the connection ended, if it has.
    pub fn close_reason(&self) -> Option<ClientError> {
        lock(&self.shared.state).closed.clone()
    }

    /// Waits until the connection has ended and, unless called from a
    /// handler method, the reader thread has finished with the handler
    /// (`on_closed` included), or `timeout` passes; returns whether it has.
    pub fn wait_closed(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let on_reader = self.shared.on_reader_thread();
        let mut st = lock(&self.shared.state);
        while !(st.reader_done || (on_reader && st.closed.is_some())) {
            st = match deadline {
                None => self.shared.changed.wait(st).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    self.shared.changed.wait_timeout(st, d - now).unwrap_or_else(|e| e.into_inner()).0
                }
            };
        }
        true
    }

    /// Registers events without waiting for the server's response.
    pub fn register<'a, I>(&self, events: I) -> Result<(), ClientError>
    where
        I: IntoIterator<Item = &'a RegisterEvent>,
        I::IntoIter: ExactSizeIterator,
    {
        let data = encode_register(events)?;
        self.shared.send_request(MessageKind::RegisterReq, data, false).map(|_| ())
    }

    /// Registers events and waits (at most `timeout`, for ever if `None`)
    /// for the server's response: the registered events, or `None` when
    /// the server reports failure.
    pub fn register_with_response<'a, I>(
        &self,
        events: I,
        timeout: Option<Duration>,
    ) -> Result<Option<Vec<Arc<Event>>>, ClientError>
    where
        I: IntoIterator<Item = &'a RegisterEvent>,
        I::IntoIter: ExactSizeIterator,
    {
        let data = encode_register(events)?;
        let id = self.shared.send_request(MessageKind::RegisterReq, data, true)?;
        match self.shared.wait_response(id, timeout)? {
            Response::Register(MsgRegisterRes::Events(e)) => Ok(Some(e)),
            Response::Register(MsgRegisterRes::Failure) => Ok(None),
            Response::Query(_) => Err(self.protocol_failure("a register request was answered with MsgQueryRes")),
        }
    }

    /// Queries and waits (at most `timeout`, for ever if `None`).
    pub fn query(&self, params: &QueryParams, timeout: Option<Duration>) -> Result<QueryResult, ClientError> {
        let data = sbs::encode_to_vec(params)?;
        let id = self.shared.send_request(MessageKind::QueryReq, data, true)?;
        match self.shared.wait_response(id, timeout)? {
            Response::Query(r) => Ok(r),
            Response::Register(_) => Err(self.protocol_failure("a query request was answered with MsgRegisterRes")),
        }
    }

    fn protocol_failure(&self, what: &str) -> ClientError {
        let e = ClientError::Protocol(what.into());
        self.shared.end(e.clone(), false);
        e
    }

    /// Closes the connection; idempotent. From any thread but the reader
    /// thread, it returns once the reader thread has ended, so no handler
    /// method runs after it. From a handler method (the reader thread), it
    /// closes the connection and returns at once; the reader thread ends
    /// when the handler method returns, calling nothing more.
    pub fn close(&self) {
        self.shared.end(ClientError::Closed("the client was closed".into()), true);
        if self.shared.on_reader_thread() {
            return;
        }
        if let Some(join) = lock(&self.reader).take() {
            let _ = join.join();
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.close();
    }
}

/// `MsgRegisterReq` = Array(RegisterEvent), from borrowed events.
fn encode_register<'a>(
    events: impl IntoIterator<Item = &'a RegisterEvent, IntoIter: ExactSizeIterator>,
) -> Result<Vec<u8>, ClientError> {
    let events = events.into_iter();
    let mut data = Vec::with_capacity(64 * events.len() + 1);
    sbs::write_integer(&mut data, events.len() as i64);
    for event in events {
        event.encode(&mut data)?;
    }
    Ok(data)
}

fn run_reader(
    shared: Arc<Shared>,
    mut reader: FrameReader,
    mut handler: Box<dyn Handler>,
    ping: Option<(Duration, Duration)>,
) {
    // A bug must still end the connection, or callers would wait for ever.
    let reason = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_loop(&shared, &mut reader, handler.as_mut(), ping)
    }))
    .unwrap_or_else(|_| ClientError::Io("internal error in the reader thread (please report)".into()));
    shared.end(reason.clone(), false);
    // The first reason stands, whichever thread ended the connection (a
    // caller whose send failed, say); only `close` silences the handler.
    let (reason, by_user) = {
        let st = lock(&shared.state);
        (st.closed.clone().unwrap_or(reason), st.closed_by_user)
    };
    if !by_user {
        handler.on_closed(&reason);
    }
    // Done with the handler (and the C user data it holds) before anyone
    // waiting for the end hears of it.
    drop(handler);
    lock(&shared.state).reader_done = true;
    shared.changed.notify_all();
}

fn read_loop(
    shared: &Shared,
    reader: &mut FrameReader,
    handler: &mut dyn Handler,
    ping: Option<(Duration, Duration)>,
) -> ClientError {
    // As hat's chatter: only a complete message counts as life.
    let mut last_heard = Instant::now();
    let mut ping_sent: Option<Instant> = None;
    loop {
        if let Some(e) = lock(&shared.state).closed.clone() {
            return e;
        }
        let now = Instant::now();
        let wait = match (ping, ping_sent) {
            (None, _) => None,
            (Some((delay, _)), None) => Some((last_heard + delay).saturating_duration_since(now)),
            (Some((_, timeout)), Some(sent)) => Some((sent + timeout).saturating_duration_since(now)),
        };
        let msg = match reader.next(wait) {
            Ok(ReadStep::Msg(m)) => {
                last_heard = Instant::now();
                ping_sent = None;
                m
            }
            // Partial frames and silence alike: is a ping or its timeout due?
            Ok(ReadStep::Progress | ReadStep::Idle) => {
                let Some((delay, timeout)) = ping else { continue };
                let now = Instant::now();
                match ping_sent {
                    Some(sent) if now >= sent + timeout => {
                        return ClientError::Timeout(format!(
                            "the server did not answer a ping within {:.3} s",
                            timeout.as_secs_f64()
                        ))
                    }
                    None if now >= last_heard + delay => {
                        if let Err(e) = lock(&shared.writer).send(None, false, chatter::PING, Vec::new()) {
                            return ClientError::Io(format!("sending a ping failed: {e}"));
                        }
                        ping_sent = Some(now);
                    }
                    _ => {}
                }
                continue;
            }
            Err(e) => return e,
        };
        if let Err(e) = dispatch(shared, handler, msg) {
            return e;
        }
    }
}

fn dispatch(shared: &Shared, handler: &mut dyn Handler, msg: ChatterMsg) -> Result<(), ClientError> {
    let reply = |last: bool, kind: &str| {
        lock(&shared.writer)
            .send(Some((msg.first, !msg.owner)), last, kind, Vec::new())
            .map_err(|e| ClientError::Io(format!("sending {kind} failed: {e}")))
    };
    if msg.data_type == chatter::PING {
        return reply(true, chatter::PONG).map(|_| ());
    }
    if msg.data_type == chatter::PONG {
        return Ok(());
    }
    let response = |r: Response| {
        let mut st = lock(&shared.state);
        // Only a conversation we opened, with a caller still waiting.
        if !msg.owner {
            if let Some(slot @ None) = st.pending.get_mut(&msg.first) {
                *slot = Some(r);
                drop(st);
                shared.changed.notify_all();
            }
        }
    };
    match decode_data(&msg)? {
        Message::StatusNotify(s) => {
            lock(&shared.state).server_status = s;
            if lock(&shared.state).closed.is_none() {
                handler.on_status(s);
            }
        }
        Message::EventsNotify(events) => {
            if lock(&shared.state).closed.is_some() {
                return Ok(());
            }
            handler.on_events(&events);
            if !msg.last {
                reply(true, MessageKind::EventsAck.name())?;
            }
        }
        Message::RegisterRes(r) => response(Response::Register(r)),
        Message::QueryRes(r) => response(Response::Query(r)),
        other => {
            return Err(ClientError::Protocol(format!("unexpected message {}", other.kind().name())));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventId;
    use crate::timestamp::Timestamp;
    use std::net::TcpListener;
    use std::sync::mpsc;

    /// The server side of a test: frames in and out over one connection.
    struct Peer {
        reader: FrameReader,
        stream: TcpStream,
        next_id: i64,
    }

    impl Peer {
        fn recv(&mut self) -> ChatterMsg {
            loop {
                if let ReadStep::Msg(m) = self.reader.next(Some(Duration::from_secs(10))).unwrap() {
                    return m;
                }
            }
        }

        fn send(&mut self, first: Option<i64>, owner: bool, last: bool, msg: &Message) -> i64 {
            let id = self.next_id;
            self.next_id += 1;
            let chatter = ChatterMsg {
                id,
                first: first.unwrap_or(id),
                owner,
                token: true,
                last,
                data_type: msg.kind().name().into(),
                data: msg.encode().unwrap(),
            };
            let mut frame = Vec::new();
            write_frame(&mut frame, &chatter);
            self.stream.write_all(&frame).unwrap();
            id
        }
    }

    fn serve(script: impl FnOnce(Peer) + Send + 'static) -> (u16, JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let join = thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let reader = FrameReader::new(stream.try_clone().unwrap(), 1 << 20);
            script(Peer { reader, stream, next_id: 1 });
        });
        (port, join)
    }

    #[derive(Debug)]
    enum Seen {
        Status(ServerStatus),
        Events(Vec<Arc<Event>>),
        Closed(ClientError),
    }

    struct Recorder(mpsc::Sender<Seen>);

    impl Handler for Recorder {
        fn on_status(&mut self, status: ServerStatus) {
            let _ = self.0.send(Seen::Status(status));
        }
        fn on_events(&mut self, events: &[Arc<Event>]) {
            let _ = self.0.send(Seen::Events(events.to_vec()));
        }
        fn on_closed(&mut self, reason: &ClientError) {
            let _ = self.0.send(Seen::Closed(reason.clone()));
        }
    }

    fn event(instance: i64) -> Arc<Event> {
        Arc::new(Event {
            id: EventId { server: 1, session: 1, instance },
            type_: crate::event_type::EventType::from(["a"]),
            timestamp: Timestamp::new(1, 2).unwrap(),
            source_timestamp: None,
            payload: None,
        })
    }

    #[test]
    fn a_session_inits_registers_acknowledges_and_reports_the_servers_end() {
        let (port, server) = serve(|mut peer| {
            let init = peer.recv();
            assert_eq!((init.id, init.first, init.owner, init.last), (1, 1, true, false));
            let Message::InitReq(req) = decode_data(&init).unwrap() else { panic!("not an init request") };
            assert_eq!(req.client_name, "rust");
            assert_eq!(req.subscriptions, vec![vec!["a".to_string(), "*".to_string()]]);
            peer.send(Some(init.id), false, true, &Message::InitRes(MsgInitRes::Success(ServerStatus::Standby)));

            peer.send(None, true, true, &Message::StatusNotify(ServerStatus::Operational));
            let notify = peer.send(None, true, false, &Message::EventsNotify(vec![event(1)]));
            // The ack follows the handler's return, which races with the
            // register the test sends once the handler has run.
            let (mut ack, mut req) = (peer.recv(), peer.recv());
            if ack.data_type != "HatEventer.MsgEventsAck" {
                std::mem::swap(&mut ack, &mut req);
            }
            assert_eq!(ack.data_type, "HatEventer.MsgEventsAck");
            assert_eq!((ack.first, ack.owner, ack.last), (notify, false, true));
            assert_eq!((req.data_type.as_str(), req.owner, req.last), ("HatEventer.MsgRegisterReq", true, false));
            let res = MsgRegisterRes::Events(vec![event(2)]);
            peer.send(Some(req.first), false, true, &Message::RegisterRes(res));
            let fire_and_forget = peer.recv();
            assert!(fire_and_forget.last);
            // the server goes away
        });
        let (tx, rx) = mpsc::channel();
        let mut options = ClientOptions::new("127.0.0.1", port, "rust");
        options.subscriptions = vec![crate::event_type::EventType::from(["a", "*"])];
        let client = Client::connect(&options, Box::new(Recorder(tx))).unwrap();
        let wait = Duration::from_secs(10);
        let seen = rx.recv_timeout(wait).unwrap();
        assert!(matches!(seen, Seen::Status(ServerStatus::Operational)), "{seen:?}");
        assert!(matches!(rx.recv_timeout(wait).unwrap(), Seen::Events(e) if e == vec![event(1)]));
        let register =
            RegisterEvent { type_: crate::event_type::EventType::from(["a"]), source_timestamp: None, payload: None };
        assert_eq!(client.register_with_response([&register], Some(wait)).unwrap(), Some(vec![event(2)]));
        client.register([&register]).unwrap();
        server.join().unwrap();
        assert!(client.wait_closed(Some(wait)));
        assert!(matches!(rx.recv_timeout(wait).unwrap(), Seen::Closed(ClientError::Closed(_))));
        assert!(matches!(client.register([&register]), Err(ClientError::Closed(_))));
        assert_eq!(client.server_status(), ServerStatus::Operational);
    }

    #[test]
    fn a_caller_spins_for_its_response_only_while_round_trips_are_short() {
        let (port, server) = serve(|mut peer| {
            let init = peer.recv();
            peer.send(Some(init.id), false, true, &Message::InitRes(MsgInitRes::Success(ServerStatus::Standby)));
            for delay in [0u64, 30, 0] {
                let req = peer.recv();
                thread::sleep(Duration::from_millis(delay));
                let res = MsgRegisterRes::Events(vec![event(req.first)]);
                peer.send(Some(req.first), false, true, &Message::RegisterRes(res));
            }
            let _ = peer.recv();
        });
        let (tx, _rx) = mpsc::channel();
        let client = Client::connect(&ClientOptions::new("127.0.0.1", port, "rust"), Box::new(Recorder(tx))).unwrap();
        let register =
            RegisterEvent { type_: crate::event_type::EventType::from(["a"]), source_timestamp: None, payload: None };
        let spins = |c: &Client| c.shared.spins();
        let wait = Some(Duration::from_secs(10));
        assert!(spins(&client), "a new client spins");
        assert!(client.register_with_response([&register], wait).unwrap().is_some());
        // A response 30 ms away: the wait is recorded and the next caller sleeps at once.
        assert!(client.register_with_response([&register], wait).unwrap().is_some());
        assert!(client.shared.last_wait_us.load(Ordering::Relaxed) >= 30_000);
        assert!(!spins(&client));
        // A fast one again: the record follows the last round trip (the
        // caller spins again once it is under the spin, which a loaded test
        // machine need not give).
        assert!(client.register_with_response([&register], wait).unwrap().is_some());
        assert!(client.shared.last_wait_us.load(Ordering::Relaxed) < 30_000);
        client.register([&register]).unwrap();
        server.join().unwrap();
    }

    #[test]
    fn the_response_spin_is_the_callers_choice() {
        let serve_two = || {
            serve(|mut peer| {
                let init = peer.recv();
                peer.send(Some(init.id), false, true, &Message::InitRes(MsgInitRes::Success(ServerStatus::Standby)));
                for delay in [0u64, 2] {
                    let req = peer.recv();
                    thread::sleep(Duration::from_millis(delay));
                    let res = MsgRegisterRes::Events(vec![event(req.first)]);
                    peer.send(Some(req.first), false, true, &Message::RegisterRes(res));
                }
                let _ = peer.recv();
            })
        };
        let register =
            RegisterEvent { type_: crate::event_type::EventType::from(["a"]), source_timestamp: None, payload: None };
        let wait = Some(Duration::from_secs(10));
        for spin in [Duration::ZERO, MAX_RESPONSE_SPIN] {
            let (port, server) = serve_two();
            let (tx, _rx) = mpsc::channel();
            let mut options = ClientOptions::new("127.0.0.1", port, "rust");
            options.response_spin = spin;
            let client = Client::connect(&options, Box::new(Recorder(tx))).unwrap();
            // Zero never spins, even after the fastest response.
            assert_eq!(client.shared.spins(), !spin.is_zero(), "{spin:?}");
            assert!(client.register_with_response([&register], wait).unwrap().is_some());
            assert_eq!(client.shared.spins(), !spin.is_zero(), "{spin:?}");
            // A response 2 ms away is short for a 10 ms spin (the default's
            // 60 µs would stop spinning after it), unless a loaded machine
            // made it take 10 ms.
            assert!(client.register_with_response([&register], wait).unwrap().is_some());
            let took = client.shared.last_wait_us.load(Ordering::Relaxed);
            assert!(took >= 2_000, "{took}");
            assert_eq!(client.shared.spins(), !spin.is_zero() && took < 10_000, "{spin:?} {took}");
            client.register([&register]).unwrap();
            server.join().unwrap();
        }
        let mut options = ClientOptions::new("127.0.0.1", 1, "rust");
        options.response_spin = MAX_RESPONSE_SPIN + Duration::from_micros(1);
        let (tx, _rx) = mpsc::channel();
        let refused = Client::connect(&options, Box::new(Recorder(tx)));
        assert!(matches!(&refused, Err(ClientError::InvalidArgument(m)) if m.contains("at most 10000 µs")));
    }

    #[test]
    fn close_joins_the_reader_and_silences_the_handler() {
        let (port, server) = serve(|mut peer| {
            let init = peer.recv();
            peer.send(Some(init.id), false, true, &Message::InitRes(MsgInitRes::Success(ServerStatus::Operational)));
            // reads until the client hangs up
            while peer.reader.next(Some(Duration::from_secs(10))).is_ok() {}
        });
        let (tx, rx) = mpsc::channel();
        let client = Client::connect(&ClientOptions::new("127.0.0.1", port, "rust"), Box::new(Recorder(tx))).unwrap();
        assert!(client.is_open());
        assert!(!client.wait_closed(Some(Duration::from_millis(20))));
        client.close();
        assert!(!client.is_open());
        assert!(client.wait_closed(Some(Duration::ZERO)));
        // the handler was dropped with the reader, without a call
        assert!(matches!(rx.recv_timeout(Duration::from_secs(1)), Err(mpsc::RecvTimeoutError::Disconnected)));
        server.join().unwrap();
    }

    #[test]
    fn a_server_trickling_a_frame_byte_by_byte_still_times_out_the_ping() {
        let (port, server) = serve(|mut peer| {
            let init = peer.recv();
            peer.send(Some(init.id), false, true, &Message::InitRes(MsgInitRes::Success(ServerStatus::Operational)));
            // A frame announcing 1000 bytes, then one byte every 20 ms, never
            // completing it, until the client hangs up (or 10 s pass).
            let mut bytes = vec![2u8, 0x03, 0xe8].into_iter().chain(std::iter::repeat(0x80));
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                if peer.stream.write_all(&[bytes.next().unwrap()]).is_err() {
                    return;
                }
                thread::sleep(Duration::from_millis(20));
            }
        });
        let (tx, rx) = mpsc::channel();
        let mut options = ClientOptions::new("127.0.0.1", port, "rust");
        options.ping_delay = Some(Duration::from_millis(100));
        options.ping_timeout = Duration::from_millis(200);
        let started = Instant::now();
        let client = Client::connect(&options, Box::new(Recorder(tx))).unwrap();
        assert!(client.wait_closed(Some(Duration::from_secs(5))), "the client took the trickle for life");
        // delay + timeout, plus scheduling slack
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
        let seen = rx.recv_timeout(Duration::from_secs(1)).unwrap();
        assert!(matches!(&seen, Seen::Closed(ClientError::Timeout(m)) if m.contains("ping")), "{seen:?}");
        drop(client);
        server.join().unwrap();
    }

    #[test]
    fn a_servers_long_texts_are_quoted_short() {
        let (port, server) = serve(|mut peer| {
            let init = peer.recv();
            peer.send(Some(init.id), false, true, &Message::InitRes(MsgInitRes::Error("x".repeat(10 << 20))));
        });
        let e = Client::connect(&ClientOptions::new("127.0.0.1", port, "rust"), Box::new(Recorder(mpsc::channel().0)))
            .err()
            .unwrap();
        assert!(matches!(e, ClientError::Refused(_)) && e.to_string().len() < 200, "{}", e.to_string().len());
        server.join().unwrap();
    }
}
