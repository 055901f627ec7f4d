//! The eventer client in C: connect to a running Hat event server, register,
//! query and receive the events of a subscription.

use std::ffi::c_void;
use std::sync::Arc;
use std::time::Duration;

use super::boundary::{
    free_handle, guard_status, guard_value, handle_arg, handle_opt, hat_event_finalize_user_data_t, hat_event_status_t,
    hat_event_str_t, new_handle, out_arg, slice_arg, str_arg, take_sized, Boxed, FfiError, FfiResult, GrowingStruct,
    Opaque, OwnedUserData, HAT_EVENT_ERR_CLOSED, HAT_EVENT_ERR_IO, HAT_EVENT_ERR_PROTOCOL, HAT_EVENT_ERR_REFUSED,
    HAT_EVENT_ERR_TIMEOUT,
};
use super::event::{hat_event_event_t, hat_event_register_event_t, hat_event_server_status_t};
use super::event_type::{event_types_arg, hat_event_event_type_view_t};
use super::message::{hat_event_msg_t, status_code};
use super::query::{hat_event_query_params_t, hat_event_query_result_t};
use crate::event::{Event, ServerStatus};
use crate::eventer::client::MAX_RESPONSE_SPIN;
use crate::eventer::{Client, ClientError, ClientOptions, Handler};
use crate::message::Message;
use crate::sbs::MsgRegisterRes;

/// Called on the reader thread when the server reports a new status.
pub type hat_event_client_status_cb_t =
    Option<unsafe extern "C" fn(user_data: *mut c_void, status: hat_event_server_status_t)>;

/// Called on the reader thread with `count` events of the subscription,
/// borrowed for the duration of the call (clone what you keep).
pub type hat_event_client_events_cb_t =
    Option<unsafe extern "C" fn(user_data: *mut c_void, events: *const *const hat_event_event_t, count: usize)>;

/// Called on the reader thread, once and last, when the connection ends
/// for a reason other than `hat_event_client_close`/`_destroy`: `reason`
/// is the status later calls return (`HAT_EVENT_ERR_CLOSED`,
/// `_TIMEOUT`, `_PROTOCOL`, `_IO`), `message` says why (borrowed for the call).
pub type hat_event_client_closed_cb_t =
    Option<unsafe extern "C" fn(user_data: *mut c_void, reason: hat_event_status_t, message: hat_event_str_t)>;

/// How `hat_event_client_connect` connects. Fill it with
/// `hat_event_client_options_init` first (hat's defaults), then set the
/// fields you need. Everything is copied by `hat_event_client_connect`.
///
/// `user_data` belongs to the client from the call to
/// `hat_event_client_connect` that receives the options:
/// `finalize_user_data`, if set, runs exactly once, after the last
/// callback has returned: when that call fails, before it returns;
/// otherwise when the reader thread ends (on that thread, or in
/// `hat_event_client_close`/`_destroy`), when `hat_event_client_destroy`
/// returns at the latest (called from a callback: once that callback has
/// returned). Not finalised, because not read: options whose `struct_size`
/// is below the first layout with one (the caller keeps `user_data` then);
/// options refused for a larger `struct_size` are finalised.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct hat_event_client_options_t {
    /// `sizeof(hat_event_client_options_t)` as the caller was compiled (set
    /// by `hat_event_client_options_init`). The struct grows by appending
    /// fields: the size of an older released layout reads only the fields
    /// it has (the later ones take their zero value); a size below the
    /// first layout with `struct_size` (0.2's: 0.1's options had none, and
    /// are refused), or above this header's, is refused.
    pub struct_size: usize,
    /// Server host name or address (required).
    pub host: hat_event_str_t,
    /// Server port (hat-event-server's default is 23012).
    pub port: u16,
    /// The client's name, as the server reports it (required).
    pub client_name: hat_event_str_t,
    /// The client token the server checks against its `server_token`; NULL for none.
    pub client_token: *const hat_event_str_t,
    /// Query types of the events to be notified of (`subscriptions_len` of
    /// them; NULL only when 0). None: no notifications.
    pub subscriptions: *const hat_event_event_type_view_t,
    /// The number of `subscriptions`.
    pub subscriptions_len: usize,
    /// Only events of this server id are notified; NULL for all.
    pub server_id: *const i64,
    /// Notify events once persisted (flushed) rather than once registered.
    pub persisted: bool,
    /// Seconds allowed for connecting and the init exchange (default 5; > 0, finite).
    pub connect_timeout: f64,
    /// Seconds of silence from the server after which a ping is sent
    /// (default 20, hat's); 0 sends no pings. As in hat's chatter, only a
    /// complete message breaks the silence: bytes of a frame still
    /// arriving do not.
    pub ping_delay: f64,
    /// Seconds after a ping within which the server must complete a
    /// message, else the connection ends with `HAT_EVENT_ERR_TIMEOUT`
    /// (default 20). A dead server, or one trickling a frame that never
    /// ends, is thus detected within `ping_delay + ping_timeout`.
    pub ping_timeout: f64,
    /// Largest frame accepted from the server, in bytes (default 64 MiB);
    /// a larger one ends the connection with `HAT_EVENT_ERR_PROTOCOL`.
    pub max_frame_size: usize,
    /// Server status changes (NULL: none). Runs on the reader thread.
    pub status_cb: hat_event_client_status_cb_t,
    /// Events of the subscription (NULL: none). Runs on the reader thread.
    pub events_cb: hat_event_client_events_cb_t,
    /// The connection ended by itself (NULL: none). Runs on the reader thread.
    pub closed_cb: hat_event_client_closed_cb_t,
    /// Passed to every callback; the library never reads it.
    pub user_data: *mut c_void,
    /// Optional: releases `user_data` (see above).
    pub finalize_user_data: hat_event_finalize_user_data_t,
    /// Seconds a caller of `hat_event_client_register_wait` / `_query`
    /// checks for its response before it sleeps, while the client's last
    /// response came within that time (see `hat_event_client_t`): default
    /// 60e-6; 0 never spins (no CPU spent waiting, each wait pays a
    /// thread wake-up); finite, >= 0 and at most 0.01.
    pub response_spin: f64,
}

const _: () = assert!(std::mem::offset_of!(hat_event_client_options_t, struct_size) == 0, "take_sized reads it first");

// SAFETY: every field is an integer, a float, a bool, a raw pointer, a view
// or an Option of a function. This is the first layout with a struct_size.
unsafe impl GrowingStruct for hat_event_client_options_t {
    const NAME: &'static str = "hat_event_client_options_t";
    const LAYOUTS: &'static [usize] = &[std::mem::size_of::<hat_event_client_options_t>()];
}

/// A connection to a Hat event server's eventer interface. Owned by the
/// caller (release with `hat_event_client_destroy`). Internally
/// synchronised: `_register`, `_register_wait`, `_query`, the getters and
/// `_close` may be called from several threads at once; `_destroy` must not
/// race with any other call on the same client.
///
/// One background thread (the reader) per client reads from the server,
/// answers and sends pings, acknowledges events notifications when the
/// server asks for it (after `events_cb` returns) and runs every callback,
/// one at a time. Callbacks may call `_register`, the getters and `_close`
/// on their client (and anything on other handles); they must not wait for
/// a response from their own client (`_register_wait` and `_query` return
/// `HAT_EVENT_ERR_INVALID_ARGUMENT` there) and should return promptly:
/// nothing is read while one runs. No callback runs after `_close` or
/// `_destroy` returns, except when called from a callback: then the
/// connection is closed at once and the reader ends as soon as the
/// callback returns, calling nothing more.
///
/// A caller of `_register_wait` or `_query` checks for its response for up
/// to 60 µs (`options->response_spin`) before it sleeps, while the
/// client's last response came within that time (a server on the same
/// host): waking a sleeping thread costs as much as such a round trip.
/// Responses slower than that switch it off until a fast one comes again.
pub struct hat_event_client_t {
    _private: [u8; 0],
}

impl Opaque for hat_event_client_t {
    type Inner = Client;
    type Ownership = Boxed;
}

impl From<ClientError> for FfiError {
    fn from(e: ClientError) -> FfiError {
        let status = match &e {
            ClientError::Io(_) => HAT_EVENT_ERR_IO,
            ClientError::Timeout(_) => HAT_EVENT_ERR_TIMEOUT,
            ClientError::Closed(_) => HAT_EVENT_ERR_CLOSED,
            ClientError::Protocol(_) => HAT_EVENT_ERR_PROTOCOL,
            ClientError::Refused(_) => HAT_EVENT_ERR_REFUSED,
            ClientError::InvalidArgument(m) => return FfiError::invalid(m.clone()),
            ClientError::Encode(sbs) => return FfiError::from(sbs.clone()),
        };
        FfiError::new(status, e.to_string())
    }
}

/// The C callbacks behind the core's handler.
struct CallbackHandler {
    status_cb: hat_event_client_status_cb_t,
    events_cb: hat_event_client_events_cb_t,
    closed_cb: hat_event_client_closed_cb_t,
    /// Finalised when the handler is dropped, after its last callback.
    user_data: OwnedUserData,
    views: Vec<*const hat_event_event_t>,
}

// SAFETY: the caller of hat_event_client_connect promises that the callbacks
// and user_data may be used from the reader thread (documented there).
unsafe impl Send for CallbackHandler {}

impl Handler for CallbackHandler {
    fn on_status(&mut self, status: ServerStatus) {
        if let Some(cb) = self.status_cb {
            // SAFETY: a C function given by the caller for this purpose.
            unsafe { cb(self.user_data.ptr(), status_code(status)) };
        }
    }

    fn on_events(&mut self, events: &[Arc<Event>]) {
        if let Some(cb) = self.events_cb {
            self.views.clear();
            self.views.extend(events.iter().map(super::boundary::borrowed_shared::<hat_event_event_t>));
            // SAFETY: a C function given by the caller; the views outlive the call.
            unsafe { cb(self.user_data.ptr(), self.views.as_ptr(), self.views.len()) };
        }
    }

    fn on_closed(&mut self, reason: &ClientError) {
        if let Some(cb) = self.closed_cb {
            let e = FfiError::from(reason.clone());
            // SAFETY: a C function given by the caller; the message outlives the call.
            unsafe { cb(self.user_data.ptr(), e.status, hat_event_str_t::from_str(&e.message)) };
        }
    }
}

fn seconds(value: f64, name: &str, allow_zero: bool) -> FfiResult<Duration> {
    let ok = value.is_finite() && (value > 0.0 || (allow_zero && value == 0.0));
    if !ok {
        let want = if allow_zero { ">= 0" } else { "> 0" };
        return Err(FfiError::invalid(format!("{name} must be finite and {want} seconds, got {value}")));
    }
    Duration::try_from_secs_f64(value).map_err(|e| FfiError::invalid(format!("{name}: {e}")))
}

/// A wait limit: INFINITY for none; otherwise finite and >= 0.
fn timeout_arg(value: f64) -> FfiResult<Option<Duration>> {
    if value == f64::INFINITY {
        return Ok(None);
    }
    if !value.is_finite() || value < 0.0 {
        return Err(FfiError::invalid(format!("timeout must be >= 0 seconds or INFINITY, got {value}")));
    }
    // A limit beyond Duration's range is no limit.
    Ok(Duration::try_from_secs_f64(value).ok())
}

/// Fills `*options` with `struct_size` and the defaults: no host, port 23012, no name, token,
/// subscriptions or server id, not persisted, `connect_timeout` 5,
/// `ping_delay` 20, `ping_timeout` 20, `max_frame_size` 64 MiB, no
/// callbacks, `response_spin` 60e-6. Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_client_options_init(options: *mut hat_event_client_options_t) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: NULL or writable, as documented.
        let out = unsafe { out_arg(options, "options") }?;
        let defaults = ClientOptions::new("", 23012, "");
        out.write(hat_event_client_options_t {
            struct_size: std::mem::size_of::<hat_event_client_options_t>(),
            host: hat_event_str_t::EMPTY,
            port: defaults.port,
            client_name: hat_event_str_t::EMPTY,
            client_token: std::ptr::null(),
            subscriptions: std::ptr::null(),
            subscriptions_len: 0,
            server_id: std::ptr::null(),
            persisted: false,
            connect_timeout: defaults.connect_timeout.as_secs_f64(),
            ping_delay: defaults.ping_delay.map_or(0.0, |d| d.as_secs_f64()),
            ping_timeout: defaults.ping_timeout.as_secs_f64(),
            max_frame_size: defaults.max_frame_size,
            status_cb: None,
            events_cb: None,
            closed_cb: None,
            user_data: std::ptr::null_mut(),
            finalize_user_data: None,
            response_spin: defaults.response_spin.as_secs_f64(),
        });
        Ok(())
    })
}

/// Connects to the server at `options->host`:`options->port`, sends the
/// init request and waits for its answer (within `connect_timeout`), then
/// starts the reader thread and writes a new client the caller owns to
/// `*out`. `user_data` and the callbacks are used from the reader thread
/// until `hat_event_client_close`/`_destroy` returns (or `closed_cb` has
/// run); the client takes ownership of `options->user_data` here, on
/// failure too (see `hat_event_client_options_t`).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_UTF8`,
/// `HAT_EVENT_ERR_INVALID_ARGUMENT` (a refused `struct_size`, an empty
/// host, a bad timeout, frame size or response spin), `HAT_EVENT_ERR_IO` (refused, unresolvable),
/// `HAT_EVENT_ERR_TIMEOUT`, `HAT_EVENT_ERR_CLOSED` (the server hung up),
/// `HAT_EVENT_ERR_PROTOCOL`, `HAT_EVENT_ERR_REFUSED` (the server's init
/// error, e.g. an invalid client token). Nothing is left behind on error.
#[no_mangle]
pub unsafe extern "C" fn hat_event_client_connect(
    options: *const hat_event_client_options_t,
    out: *mut *mut hat_event_client_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: NULL, or options readable up to their struct_size, the first field (asserted below).
        let (o, user_data) = unsafe { take_sized(options, "options->", |o| (o.user_data, o.finalize_user_data)) }?;
        let o = o.ok_or_else(|| FfiError::null("options"))?;
        // From here on user_data is the client's: every failure below finalises it.
        // SAFETY: NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: the views and pointers in the struct are readable, as documented.
        let (host, client_name, client_token, subscriptions, server_id) = unsafe {
            (
                str_arg(o.host, "options->host")?,
                str_arg(o.client_name, "options->client_name")?,
                match o.client_token.as_ref() {
                    Some(t) => Some(str_arg(*t, "options->client_token")?.to_owned()),
                    None => None,
                },
                event_types_arg(o.subscriptions, o.subscriptions_len, "options->subscriptions")?,
                o.server_id.as_ref().copied(),
            )
        };
        if host.is_empty() {
            return Err(FfiError::invalid("options->host is empty"));
        }
        if o.max_frame_size == 0 {
            return Err(FfiError::invalid("options->max_frame_size must be > 0"));
        }
        let mut opts = ClientOptions::new(host, o.port, client_name);
        opts.client_token = client_token;
        opts.subscriptions = subscriptions;
        opts.server_id = server_id;
        opts.persisted = o.persisted;
        opts.connect_timeout = seconds(o.connect_timeout, "options->connect_timeout", false)?;
        let ping_delay = seconds(o.ping_delay, "options->ping_delay", true)?;
        opts.ping_delay = (!ping_delay.is_zero()).then_some(ping_delay);
        opts.ping_timeout = seconds(o.ping_timeout, "options->ping_timeout", false)?;
        opts.max_frame_size = o.max_frame_size;
        opts.response_spin = seconds(o.response_spin, "options->response_spin", true)?;
        if opts.response_spin > MAX_RESPONSE_SPIN {
            return Err(FfiError::invalid(format!(
                "options->response_spin must be at most {} seconds, got {}",
                MAX_RESPONSE_SPIN.as_secs_f64(),
                o.response_spin
            )));
        }
        let handler = CallbackHandler {
            status_cb: o.status_cb,
            events_cb: o.events_cb,
            closed_cb: o.closed_cb,
            user_data,
            views: Vec::new(),
        };
        let client = Client::connect(&opts, Box::new(handler))?;
        out.write(new_handle(client));
        Ok(())
    })
}

/// Borrowed register events from an array of handles.
///
/// # Safety
/// `events` holds `count` live handles (NULL only if `count` is 0).
unsafe fn register_events_arg<'a>(
    events: *const *const hat_event_register_event_t,
    count: usize,
) -> FfiResult<Vec<&'a crate::event::RegisterEvent>> {
    // SAFETY: forwarded from the caller.
    let ptrs = unsafe { slice_arg(events, count, "events") }?;
    ptrs.iter()
        .enumerate()
        // SAFETY: each is a live handle or NULL, forwarded from the caller.
        .map(|(i, p)| unsafe { handle_arg(*p, "events") }.map_err(|e| e.at_index("events", i)))
        .collect()
}

/// Registers (the verb: hat's `register`) `count` register events (the
/// noun: `hat_event_register_event_t`, an event without id and timestamp)
/// without waiting for the server's response (sent once this returns; the
/// register events are copied). Any thread, callbacks
/// included. Errors: `HAT_EVENT_ERR_NULL_ARGUMENT` (also for a NULL
/// element), `HAT_EVENT_ERR_CLOSED`, `HAT_EVENT_ERR_INVALID_JSON` (a
/// payload number beyond a double).
#[no_mangle]
pub unsafe extern "C" fn hat_event_client_register(
    client: *const hat_event_client_t,
    events: *const *const hat_event_register_event_t,
    count: usize,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: a live client or NULL, as documented.
        let client = unsafe { handle_arg(client, "client") }?;
        // SAFETY: events holds count live handles, as documented.
        let events = unsafe { register_events_arg(events, count) }?;
        client.register(events.iter().copied())?;
        Ok(())
    })
}

/// Registers `count` register events and waits at most `timeout` seconds
/// (`INFINITY`: no limit) for the server's response, written to `*out` as a
/// new `HAT_EVENT_MSG_REGISTER_RES` message the caller owns: read it with
/// `hat_event_msg_register_res_failed` (true when the server reports
/// failure, e.g. while not operational), `hat_event_msg_events_len` and
/// `hat_event_msg_event`. Not from a callback of the same client.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_ARGUMENT`
/// (a negative or NaN timeout; called from a callback), `HAT_EVENT_ERR_TIMEOUT`
/// (the connection stays open; a late response is dropped),
/// `HAT_EVENT_ERR_CLOSED`, `HAT_EVENT_ERR_INVALID_JSON`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_client_register_wait(
    client: *const hat_event_client_t,
    events: *const *const hat_event_register_event_t,
    count: usize,
    timeout: f64,
    out: *mut *mut hat_event_msg_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: a live client or NULL, as documented.
        let client = unsafe { handle_arg(client, "client") }?;
        // SAFETY: events holds count live handles, as documented.
        let events = unsafe { register_events_arg(events, count) }?;
        let timeout = timeout_arg(timeout)?;
        let response = match client.register_with_response(events.iter().copied(), timeout)? {
            Some(events) => MsgRegisterRes::Events(events),
            None => MsgRegisterRes::Failure,
        };
        out.write(new_handle(Message::RegisterRes(response)));
        Ok(())
    })
}

/// Queries the server and waits at most `timeout` seconds (`INFINITY`: no
/// limit) for the result, written to `*out` as a new result the caller
/// owns. Not from a callback of the same client.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_ARGUMENT`
/// (a negative or NaN timeout; called from a callback),
/// `HAT_EVENT_ERR_TIMEOUT`, `HAT_EVENT_ERR_CLOSED`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_client_query(
    client: *const hat_event_client_t,
    params: *const hat_event_query_params_t,
    timeout: f64,
    out: *mut *mut hat_event_query_result_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: live handles or NULL, as documented.
        let (client, params) = unsafe { (handle_arg(client, "client")?, handle_arg(params, "params")?) };
        let timeout = timeout_arg(timeout)?;
        let result = client.query(params, timeout)?;
        out.write(new_handle(result));
        Ok(())
    })
}

/// The server's status as last reported (`HAT_EVENT_SERVER_STATUS_*`);
/// `UINT32_MAX` for NULL. Any thread.
#[no_mangle]
pub unsafe extern "C" fn hat_event_client_server_status(
    client: *const hat_event_client_t,
) -> hat_event_server_status_t {
    // SAFETY: a live client or NULL, as documented.
    guard_value(u32::MAX, || unsafe { handle_opt(client) }.map_or(u32::MAX, |c| status_code(c.server_status())))
}

/// Whether the connection is open; false for NULL. Any thread.
#[no_mangle]
pub unsafe extern "C" fn hat_event_client_is_open(client: *const hat_event_client_t) -> bool {
    // SAFETY: a live client or NULL, as documented.
    guard_value(false, || unsafe { handle_opt(client) }.is_some_and(Client::is_open))
}

/// Waits at most `timeout` seconds (`INFINITY`: no limit) for the
/// connection to end and the reader thread to finish (`closed_cb` has
/// returned; from a callback: for the connection to end). Returns
/// `HAT_EVENT_OK` once it has (whatever the reason; the next `_register` or
/// `_query` reports it as `HAT_EVENT_ERR_CLOSED`), `HAT_EVENT_ERR_TIMEOUT`
/// if not.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_ARGUMENT`
/// (a negative or NaN timeout), `HAT_EVENT_ERR_TIMEOUT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_client_wait_closed(
    client: *const hat_event_client_t,
    timeout: f64,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: a live client or NULL, as documented.
        let client = unsafe { handle_arg(client, "client") }?;
        let timeout = timeout_arg(timeout)?;
        if client.wait_closed(timeout) {
            Ok(())
        } else {
            Err(FfiError::new(HAT_EVENT_ERR_TIMEOUT, "the connection is still open"))
        }
    })
}

/// Closes the connection (idempotent; NULL is ignored) and, unless called
/// from a callback, waits for the reader thread to end: no callback runs
/// after this returns and `closed_cb` is not called. Later calls return
/// `HAT_EVENT_ERR_CLOSED`; the handle stays valid until `_destroy`.
/// Non-const, as `hat_event_engine_close`: it changes the client's state.
/// It may still be called while other threads use the client (their
/// calls then fail with `HAT_EVENT_ERR_CLOSED`).
#[no_mangle]
pub unsafe extern "C" fn hat_event_client_close(client: *mut hat_event_client_t) {
    // SAFETY: a live client or NULL, as documented.
    guard_value((), || unsafe { handle_opt(client) }.map_or((), Client::close))
}

/// Closes the client as `hat_event_client_close` does and releases it;
/// NULL is ignored. Called from one of its own callbacks, the reader
/// thread finishes on its own once the callback returns.
#[no_mangle]
pub unsafe extern "C" fn hat_event_client_destroy(client: *mut hat_event_client_t) {
    // SAFETY: an owned handle or NULL, not used again, as documented.
    guard_value((), || unsafe { free_handle(client) })
}
