//! The eventer server in C: a Hat event server a C/C++ host embeds
//! (`server/eventer_server.rs` behind handles).

use std::ffi::c_void;
use std::sync::Arc;

use super::registry::CResolver;
use crate::event::ServerStatus;
use crate::ffi::boundary::{
    free_handle, guard_status, guard_value, handle_arg, handle_opt, hat_event_status_t, hat_event_str_t, new_handle,
    out_arg, str_arg, Boxed, FfiError, Opaque, HAT_EVENT_ERR_INVALID_ARGUMENT, HAT_EVENT_ERR_IO,
    HAT_EVENT_ERR_OUT_OF_RANGE,
};
use crate::ffi::event::{hat_event_server_status_t, HAT_EVENT_SERVER_STATUS_STANDBY};
use crate::server::eventer_server::{
    read_conf, stderr_logger, ConnectionInfo, EventerServer, LogLevel, Logger, ServerError,
};

impl From<ServerError> for FfiError {
    fn from(e: ServerError) -> FfiError {
        match e {
            ServerError::Listen { .. } => FfiError::new(HAT_EVENT_ERR_IO, e.to_string()),
            ServerError::InvalidStatus(m) => FfiError::new(HAT_EVENT_ERR_INVALID_ARGUMENT, m),
            ServerError::Engine(e) => e.into(),
        }
    }
}

/// A log line's level.
pub type hat_event_server_log_level_t = u32;
/// Something failed (a connection's engine call, the engine's start or close).
pub const HAT_EVENT_SERVER_LOG_ERROR: hat_event_server_log_level_t = 0;
/// A peer was dropped (malformed or unexpected message, slow consumer,
/// ping timeout, refused init) or a limit was hit.
pub const HAT_EVENT_SERVER_LOG_WARNING: hat_event_server_log_level_t = 1;
/// Listening, closed.
pub const HAT_EVENT_SERVER_LOG_INFO: hat_event_server_log_level_t = 2;
/// Every connection opened and closed.
pub const HAT_EVENT_SERVER_LOG_DEBUG: hat_event_server_log_level_t = 3;

/// Receives the server's log lines: `line` is borrowed for the call. Called
/// from any of the server's threads, possibly several at once, possibly
/// while the server holds its locks: it must return quickly and call no
/// `hat_event_server_*` function.
pub type hat_event_server_log_cb_t =
    Option<unsafe extern "C" fn(user_data: *mut c_void, level: hat_event_server_log_level_t, line: hat_event_str_t)>;

impl From<LogLevel> for hat_event_server_log_level_t {
    fn from(level: LogLevel) -> hat_event_server_log_level_t {
        match level {
            LogLevel::Error => HAT_EVENT_SERVER_LOG_ERROR,
            LogLevel::Warning => HAT_EVENT_SERVER_LOG_WARNING,
            LogLevel::Info => HAT_EVENT_SERVER_LOG_INFO,
            LogLevel::Debug => HAT_EVENT_SERVER_LOG_DEBUG,
        }
    }
}

struct LogTarget {
    cb: unsafe extern "C" fn(*mut c_void, hat_event_server_log_level_t, hat_event_str_t),
    user_data: *mut c_void,
}

// SAFETY: the host promises, in hat_event_server_create's contract, that its
// log callback may be called with user_data from any thread at once.
unsafe impl Send for LogTarget {}
// SAFETY: as above.
unsafe impl Sync for LogTarget {}

impl LogTarget {
    fn log(&self, level: LogLevel, line: &str) {
        // SAFETY: the host's callback, callable from any thread with its
        // user_data, as hat_event_server_create documents.
        unsafe { (self.cb)(self.user_data, level.into(), hat_event_str_t::from_str(line)) }
    }
}

/// The server and what its conf named for the engine.
pub(crate) struct ServerHandle {
    server: EventerServer,
    engine_conf: serde_json::Value,
}

/// An eventer server: listens, serves hat's eventer protocol, and runs an
/// engine (the configuration's backend and modules) while OPERATIONAL.
/// Created by `hat_event_server_create`, released by
/// `hat_event_server_destroy`. Thread-safe: any thread may call the
/// functions taking it, except that `_destroy` must be the last call.
pub struct hat_event_server_t {
    _private: [u8; 0],
}

impl Opaque for hat_event_server_t {
    type Inner = ServerHandle;
    type Ownership = Boxed;
}

/// Creates a server from `conf`, hat-event's server configuration as JSON
/// or YAML text, validated against `hat-event://server.yaml`: it listens
/// on `eventer_server.host`/`port` (port 0 picks a free port, see
/// `hat_event_server_port`) with status STANDBY and no engine; start the
/// engine with `hat_event_server_set_status(..., OPERATIONAL)`.
/// `server_token` is checked against the clients' tokens. `eventer_server`
/// may also set this server's limits (hat ignores them): `max_frame`
/// (bytes, default 4 MiB), `max_subscription_segments` (65,536),
/// `max_connections` (1,024), `max_queued_bytes` (per connection, 16 MiB),
/// `ping_delay`, `ping_timeout` (seconds, 20 each), `close_timeout` (0.5).
/// `monitor_component`
/// and `adminer_server` are accepted and ignored (with a warning).
/// `log` may be NULL: lines of WARNING and above then go to stderr. When
/// set, it receives every line with `user_data`, which the caller keeps
/// alive until `hat_event_server_destroy` returns. The caller owns `*out`.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_UTF8`,
/// `HAT_EVENT_ERR_INVALID_ARGUMENT` (not JSON or YAML, or not following
/// the schema), `HAT_EVENT_ERR_IO` (cannot listen).
#[no_mangle]
pub unsafe extern "C" fn hat_event_server_create(
    conf: hat_event_str_t,
    log: hat_event_server_log_cb_t,
    user_data: *mut c_void,
    out: *mut *mut hat_event_server_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: a readable view, as documented.
        let text = unsafe { str_arg(conf, "conf") }?;
        let mut conf = read_conf(text).map_err(FfiError::invalid)?;
        let logger: Logger = match log {
            None => stderr_logger(LogLevel::Warning),
            Some(cb) => {
                let target = LogTarget { cb, user_data };
                Arc::new(move |level: LogLevel, line: &str| target.log(level, line))
            }
        };
        conf.server.logger = logger.clone();
        for section in &conf.unsupported {
            logger(LogLevel::Warning, &format!("'{section}' is not supported by this server; ignored"));
        }
        let server = EventerServer::listen(conf.server)?;
        out.write(new_handle(ServerHandle { server, engine_conf: conf.engine }));
        Ok(())
    })
}

/// Closes the server (see `hat_event_server_close`) and releases it; NULL
/// is ignored.
#[no_mangle]
pub unsafe extern "C" fn hat_event_server_destroy(server: *mut hat_event_server_t) {
    // SAFETY: an owned handle or NULL, not used again, as documented.
    guard_value((), || unsafe { free_handle(server) })
}

/// Sets the status as hat's engine runner does. OPERATIONAL: STARTING is
/// notified, the engine is created from the configuration's `server_id`,
/// `backend` and `modules` (names registered in this process or paths, as
/// `hat_event_engine_create`), then OPERATIONAL is notified; on failure the
/// status returns to STANDBY. STANDBY: STOPPING, the engine closed (its
/// `"STOPPED"` event registered, the backend flushed), STANDBY. Setting the
/// current status does nothing. Blocks until done. The backend lives in
/// the engine: STANDBY then OPERATIONAL starts a new backend (hat keeps
/// one across engines), so a memory backend starts empty again.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_ARGUMENT`
/// (STARTING, STOPPING or an unknown value), the errors of
/// `hat_event_engine_create` (OPERATIONAL) and of `hat_event_engine_close`
/// (STANDBY), `HAT_EVENT_ERR_CLOSED` (the server is closed).
#[no_mangle]
pub unsafe extern "C" fn hat_event_server_set_status(
    server: *const hat_event_server_t,
    status: hat_event_server_status_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: a live handle or NULL, as documented.
        let h = unsafe { handle_arg(server, "server") }?;
        match ServerStatus::try_from(status) {
            Ok(ServerStatus::Operational) => Ok(h.server.start_engine(&h.engine_conf, &CResolver)?),
            Ok(ServerStatus::Standby) => Ok(h.server.stop_engine()?),
            _ => Err(FfiError::invalid(format!(
                "argument status must be HAT_EVENT_SERVER_STATUS_OPERATIONAL or _STANDBY, not {status}"
            ))),
        }
    })
}

/// The current status (STANDBY for NULL).
#[no_mangle]
pub unsafe extern "C" fn hat_event_server_status(server: *const hat_event_server_t) -> hat_event_server_status_t {
    guard_value(HAT_EVENT_SERVER_STATUS_STANDBY, || {
        // SAFETY: a live handle or NULL, as documented.
        unsafe { handle_opt(server) }.map_or(HAT_EVENT_SERVER_STATUS_STANDBY, |h| h.server.status().into())
    })
}

/// The TCP port the server listens on (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn hat_event_server_port(server: *const hat_event_server_t) -> u16 {
    // SAFETY: a live handle or NULL, as documented.
    guard_value(0, || unsafe { handle_opt(server) }.map_or(0, |h| h.server.local_addr().port()))
}

/// Closes gracefully, as hat's server on SIGTERM: stops accepting, stops
/// the engine (STOPPING, `"STOPPED"`, backend flushed, STANDBY; see
/// `hat_event_server_set_status`), then closes every connection once what
/// was queued to it is written (0.5 s at most, then the rest are cut).
/// Registers racing the close fail; every register that was answered
/// before is in the backend and flushed. Closing again does nothing.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, the errors of
/// `hat_event_engine_close` (the server is closed all the same).
#[no_mangle]
pub unsafe extern "C" fn hat_event_server_close(server: *const hat_event_server_t) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: a live handle or NULL, as documented.
        let h = unsafe { handle_arg(server, "server") }?;
        Ok(h.server.close()?)
    })
}

/// One client's connection, as hat's `ConnectionInfo` (a view into the
/// list it came from). `client_token` has a NULL `ptr` when the client
/// sent none; `server_id` is meaningful only when `has_server_id`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct hat_event_server_connection_info_t {
    /// From 1, in accept order; the id of the eventer source of its events.
    pub id: i64,
    pub client_name: hat_event_str_t,
    pub client_token: hat_event_str_t,
    pub has_server_id: bool,
    pub server_id: i64,
    pub persisted: bool,
    /// How many query types its subscription has (after hat's sanitising).
    pub subscription_len: usize,
}

/// A snapshot of the initialised connections. Owned by the caller; release
/// with `hat_event_server_connection_infos_destroy`.
pub struct hat_event_server_connection_infos_t {
    _private: [u8; 0],
}

impl Opaque for hat_event_server_connection_infos_t {
    type Inner = Vec<ConnectionInfo>;
    type Ownership = Boxed;
}

/// The initialised connections now, in accept order, into `*out` (owned by
/// the caller). Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_server_connection_infos(
    server: *const hat_event_server_t,
    out: *mut *mut hat_event_server_connection_infos_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: a live handle or NULL, as documented.
        let h = unsafe { handle_arg(server, "server") }?;
        out.write(new_handle(h.server.connection_infos()));
        Ok(())
    })
}

/// How many connections the list holds (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn hat_event_server_connection_infos_len(
    infos: *const hat_event_server_connection_infos_t,
) -> usize {
    // SAFETY: a live handle or NULL, as documented.
    guard_value(0, || unsafe { handle_opt(infos) }.map_or(0, Vec::len))
}

/// The connection at `index` into `*out`; its strings are borrowed from
/// `infos` and live until it is destroyed.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_OUT_OF_RANGE`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_server_connection_infos_get(
    infos: *const hat_event_server_connection_infos_t,
    index: usize,
    out: *mut hat_event_server_connection_info_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: a live handle or NULL, as documented.
        let list = unsafe { handle_arg(infos, "infos") }?;
        let info = list.get(index).ok_or_else(|| {
            FfiError::new(HAT_EVENT_ERR_OUT_OF_RANGE, format!("index {index} is past the {} connections", list.len()))
        })?;
        out.write(hat_event_server_connection_info_t {
            id: info.id,
            client_name: hat_event_str_t::from_str(&info.client_name),
            client_token: info.client_token.as_deref().map_or(hat_event_str_t::EMPTY, hat_event_str_t::from_str),
            has_server_id: info.server_id.is_some(),
            server_id: info.server_id.unwrap_or_default(),
            persisted: info.persisted,
            subscription_len: info.subscription.len(),
        });
        Ok(())
    })
}

/// Releases a list from `hat_event_server_connection_infos`; NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn hat_event_server_connection_infos_destroy(infos: *mut hat_event_server_connection_infos_t) {
    // SAFETY: an owned handle or NULL, not used again, as documented.
    guard_value((), || unsafe { free_handle(infos) })
}
