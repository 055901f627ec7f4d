//! Eventer protocol messages in C: build, encode, decode and read any
//! `HatEventer.Msg*` through one opaque handle.

use std::ffi::c_char;
use std::sync::Arc;

use super::boundary::{
    borrowed_handle, borrowed_shared, bytes_arg, free_handle, guard_status, guard_value, handle_arg, handle_opt,
    hat_event_bytes_t, hat_event_status_t, hat_event_str_t, new_handle, out_arg, shared_arcs_arg, slice_arg, str_arg,
    Boxed, FfiError, FfiResult, Opaque,
};
use super::buffer::{hat_event_buffer_t, Buffer};
use super::event::{
    hat_event_event_t, hat_event_register_event_t, hat_event_server_status_t, HAT_EVENT_SERVER_STATUS_OPERATIONAL,
    HAT_EVENT_SERVER_STATUS_STANDBY, HAT_EVENT_SERVER_STATUS_STARTING, HAT_EVENT_SERVER_STATUS_STOPPING,
};
use super::event_type::{event_types_arg, hat_event_event_type_t, hat_event_event_type_view_t};
use super::query::{hat_event_query_params_t, hat_event_query_result_t};
use crate::event::{Event, RegisterEvent, ServerStatus};
use crate::message::{Message, MessageKind};
use crate::sbs::{MsgInitReq, MsgInitRes, MsgRegisterRes};

/// Which eventer message (`HAT_EVENT_MSG_*`, in `HatEventer` schema order).
pub type hat_event_msg_kind_t = u32;
/// `HatEventer.MsgInitReq`: client name, token, subscriptions, server id, persisted.
pub const HAT_EVENT_MSG_INIT_REQ: hat_event_msg_kind_t = 0;
/// `HatEventer.MsgInitRes`: the server status, or an error text.
pub const HAT_EVENT_MSG_INIT_RES: hat_event_msg_kind_t = 1;
/// `HatEventer.MsgStatusNotify`: the server status.
pub const HAT_EVENT_MSG_STATUS_NOTIFY: hat_event_msg_kind_t = 2;
/// `HatEventer.MsgEventsNotify`: events matching the subscription.
pub const HAT_EVENT_MSG_EVENTS_NOTIFY: hat_event_msg_kind_t = 3;
/// `HatEventer.MsgEventsAck`: no content.
pub const HAT_EVENT_MSG_EVENTS_ACK: hat_event_msg_kind_t = 4;
/// `HatEventer.MsgRegisterReq`: register events.
pub const HAT_EVENT_MSG_REGISTER_REQ: hat_event_msg_kind_t = 5;
/// `HatEventer.MsgRegisterRes`: the registered events, or failure.
pub const HAT_EVENT_MSG_REGISTER_RES: hat_event_msg_kind_t = 6;
/// `HatEventer.MsgQueryReq`: query parameters.
pub const HAT_EVENT_MSG_QUERY_REQ: hat_event_msg_kind_t = 7;
/// `HatEventer.MsgQueryRes`: a query result.
pub const HAT_EVENT_MSG_QUERY_RES: hat_event_msg_kind_t = 8;

/// One eventer message. Owned by the caller; release with
/// `hat_event_msg_destroy`. Immutable: safe to read from several threads.
pub struct hat_event_msg_t {
    _private: [u8; 0],
}

impl Opaque for hat_event_msg_t {
    type Inner = Message;
    type Ownership = Boxed;
}

fn kind_arg(kind: hat_event_msg_kind_t) -> FfiResult<MessageKind> {
    MessageKind::try_from(kind).map_err(|kind| FfiError::invalid(format!("unknown message kind {kind}")))
}

fn kind_code(kind: MessageKind) -> hat_event_msg_kind_t {
    kind.into()
}

pub(crate) fn status_arg(status: hat_event_server_status_t) -> FfiResult<ServerStatus> {
    ServerStatus::try_from(status).map_err(|other| FfiError::invalid(format!("unknown server status {other}")))
}

pub(crate) fn status_code(status: ServerStatus) -> hat_event_server_status_t {
    status.into()
}

// The C values are the core's (one mapping, beside the core type).
const _: () = {
    assert!(HAT_EVENT_SERVER_STATUS_STANDBY == 0 && HAT_EVENT_SERVER_STATUS_STARTING == 1);
    assert!(HAT_EVENT_SERVER_STATUS_OPERATIONAL == 2 && HAT_EVENT_SERVER_STATUS_STOPPING == 3);
};

/// Copies of the values behind an array of handles.
///
/// # Safety
/// `items` holds `count` live handles of type `H` (NULL only if `count` is 0).
unsafe fn handles_arg<H: Opaque<Ownership = Boxed>>(
    items: *const *const H,
    count: usize,
    name: &str,
) -> FfiResult<Vec<H::Inner>>
where
    H::Inner: Clone,
{
    // SAFETY: forwarded from the caller.
    let ptrs = unsafe { slice_arg(items, count, name) }?;
    ptrs.iter()
        .enumerate()
        // SAFETY: each is a live handle or NULL, forwarded from the caller.
        .map(|(i, p)| unsafe { handle_arg(*p, name) }.map_err(|e| e.at_index(name, i)).cloned())
        .collect()
}

/// # Safety
/// `out` is NULL or writable; the pointers `build` reads are valid.
unsafe fn create(out: *mut *mut hat_event_msg_t, build: impl FnOnce() -> FfiResult<Message>) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: every creator documents out as NULL or writable.
        let out = unsafe { out_arg(out, "out") }?;
        out.write(new_handle(build()?));
        Ok(())
    })
}

/// Creates a `MsgInitReq`. `client_token` and `server_id` may be NULL for
/// none; `subscriptions` holds `count` query types (copied).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_create_init_req(
    client_name: hat_event_str_t,
    client_token: *const hat_event_str_t,
    subscriptions: *const hat_event_event_type_view_t,
    count: usize,
    server_id: *const i64,
    persisted: bool,
    out: *mut *mut hat_event_msg_t,
) -> hat_event_status_t {
    // SAFETY: out is NULL or writable (and any other pointer as documented).
    unsafe {
        create(out, || {
            // The documented contract: readable views, NULL or readable pointers.
            Ok(Message::InitReq(MsgInitReq {
                client_name: str_arg(client_name, "client_name")?.to_owned(),
                client_token: match client_token.as_ref() {
                    Some(t) => Some(str_arg(*t, "client_token")?.to_owned()),
                    None => None,
                },
                subscriptions: event_types_arg(subscriptions, count, "subscriptions")?,
                server_id: server_id.as_ref().copied(),
                persisted,
            }))
        })
    }
}

/// Creates a successful `MsgInitRes` carrying the server `status`.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_ARGUMENT` (status).
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_create_init_res_success(
    status: hat_event_server_status_t,
    out: *mut *mut hat_event_msg_t,
) -> hat_event_status_t {
    // SAFETY: out is NULL or writable (and any other pointer as documented).
    unsafe { create(out, || Ok(Message::InitRes(MsgInitRes::Success(status_arg(status)?)))) }
}

/// Creates a failed `MsgInitRes` with an error text (copied).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_create_init_res_error(
    error: hat_event_str_t,
    out: *mut *mut hat_event_msg_t,
) -> hat_event_status_t {
    // SAFETY: out is NULL or writable; the view describes readable bytes, as documented.
    unsafe { create(out, || Ok(Message::InitRes(MsgInitRes::Error(str_arg(error, "error")?.to_owned())))) }
}

/// Creates a `MsgStatusNotify`.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_ARGUMENT` (status).
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_create_status_notify(
    status: hat_event_server_status_t,
    out: *mut *mut hat_event_msg_t,
) -> hat_event_status_t {
    // SAFETY: out is NULL or writable (and any other pointer as documented).
    unsafe { create(out, || Ok(Message::StatusNotify(status_arg(status)?))) }
}

/// Creates a `MsgEventsNotify` from `count` events (new references, not copies).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT` (also for a NULL element).
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_create_events_notify(
    events: *const *const hat_event_event_t,
    count: usize,
    out: *mut *mut hat_event_msg_t,
) -> hat_event_status_t {
    // SAFETY: out is NULL or writable; events holds count live handles, as documented.
    unsafe { create(out, || Ok(Message::EventsNotify(shared_arcs_arg(events, count, "events")?))) }
}

/// Creates a `MsgEventsAck`. Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_create_events_ack(out: *mut *mut hat_event_msg_t) -> hat_event_status_t {
    // SAFETY: out is NULL or writable (and any other pointer as documented).
    unsafe { create(out, || Ok(Message::EventsAck)) }
}

/// Creates a `MsgRegisterReq` from `count` register events (copied).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT` (also for a NULL element).
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_create_register_req(
    events: *const *const hat_event_register_event_t,
    count: usize,
    out: *mut *mut hat_event_msg_t,
) -> hat_event_status_t {
    // SAFETY: out is NULL or writable; events holds count live handles, as documented.
    unsafe { create(out, || Ok(Message::RegisterReq(handles_arg(events, count, "events")?))) }
}

/// Creates a successful `MsgRegisterRes` from `count` events (new
/// references, not copies).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT` (also for a NULL element).
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_create_register_res_events(
    events: *const *const hat_event_event_t,
    count: usize,
    out: *mut *mut hat_event_msg_t,
) -> hat_event_status_t {
    // SAFETY: out is NULL or writable; events holds count live handles, as documented.
    unsafe {
        create(out, || Ok(Message::RegisterRes(MsgRegisterRes::Events(shared_arcs_arg(events, count, "events")?))))
    }
}

/// Creates a failed `MsgRegisterRes`. Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_create_register_res_failure(
    out: *mut *mut hat_event_msg_t,
) -> hat_event_status_t {
    // SAFETY: out is NULL or writable (and any other pointer as documented).
    unsafe { create(out, || Ok(Message::RegisterRes(MsgRegisterRes::Failure))) }
}

/// Creates a `MsgQueryReq` (the parameters are copied).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_create_query_req(
    params: *const hat_event_query_params_t,
    out: *mut *mut hat_event_msg_t,
) -> hat_event_status_t {
    // SAFETY: out is NULL or writable; a live handle or NULL, as documented.
    unsafe { create(out, || Ok(Message::QueryReq(handle_arg(params, "params")?.clone()))) }
}

/// Creates a `MsgQueryRes` (the result is copied).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_create_query_res(
    result: *const hat_event_query_result_t,
    out: *mut *mut hat_event_msg_t,
) -> hat_event_status_t {
    // SAFETY: out is NULL or writable; a live handle or NULL, as documented.
    unsafe { create(out, || Ok(Message::QueryRes(handle_arg(result, "result")?.clone()))) }
}

/// Releases a message; NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_destroy(msg: *mut hat_event_msg_t) {
    // SAFETY: an owned handle or NULL, not used again, as documented.
    guard_value((), || unsafe { free_handle(msg) })
}

/// The message's kind; `UINT32_MAX` for NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_get_kind(msg: *const hat_event_msg_t) -> hat_event_msg_kind_t {
    // SAFETY: a live handle or NULL, as documented.
    guard_value(u32::MAX, || unsafe { handle_opt(msg) }.map_or(u32::MAX, |m| kind_code(m.kind())))
}

/// The SBS type name of a kind (e.g. `"HatEventer.MsgInitReq"`, what the
/// chatter layer puts in a frame's data type), static and NUL-terminated;
/// NULL for an unknown kind.
#[no_mangle]
pub extern "C" fn hat_event_msg_kind_name(kind: hat_event_msg_kind_t) -> *const c_char {
    const NAMES: [&[u8]; 9] = [
        b"HatEventer.MsgInitReq\0",
        b"HatEventer.MsgInitRes\0",
        b"HatEventer.MsgStatusNotify\0",
        b"HatEventer.MsgEventsNotify\0",
        b"HatEventer.MsgEventsAck\0",
        b"HatEventer.MsgRegisterReq\0",
        b"HatEventer.MsgRegisterRes\0",
        b"HatEventer.MsgQueryReq\0",
        b"HatEventer.MsgQueryRes\0",
    ];
    NAMES.get(kind as usize).map_or(std::ptr::null(), |n| n.as_ptr().cast())
}

/// Encodes the message as SBS (byte for byte as hat-event) into a new
/// buffer the caller owns. Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`;
/// `HAT_EVENT_ERR_INVALID_JSON` for a JSON payload beyond a double.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_encode(
    msg: *const hat_event_msg_t,
    out: *mut *mut hat_event_buffer_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: a live handle or NULL, as documented.
        let bytes = unsafe { handle_arg(msg, "msg") }?.encode()?;
        out.write(new_handle(Buffer::new(bytes)));
        Ok(())
    })
}

/// # Safety
/// `data` describes readable bytes; `out` and `consumed` are NULL or writable.
unsafe fn decode(
    kind: hat_event_msg_kind_t,
    data: hat_event_bytes_t,
    out: *mut *mut hat_event_msg_t,
    consumed: Option<*mut usize>,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: forwarded from the caller.
        let out = unsafe { out_arg(out, "out") }?;
        let consumed = match consumed {
            // SAFETY: forwarded from the caller.
            Some(p) => Some(unsafe { out_arg(p, "out_consumed") }?),
            None => None,
        };
        let kind = kind_arg(kind)?;
        // SAFETY: forwarded from the caller.
        let data = unsafe { bytes_arg(data, "data") }?;
        let (msg, used) = Message::decode(kind, data, consumed.is_none())?;
        out.write(new_handle(msg));
        if let Some(c) = consumed {
            c.write(used);
        }
        Ok(())
    })
}

/// Decodes SBS bytes holding exactly one message of `kind` into a new
/// handle the caller owns. Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`,
/// `HAT_EVENT_ERR_INVALID_ARGUMENT` (kind), `HAT_EVENT_ERR_DECODE`,
/// `HAT_EVENT_ERR_INVALID_JSON`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_decode(
    kind: hat_event_msg_kind_t,
    data: hat_event_bytes_t,
    out: *mut *mut hat_event_msg_t,
) -> hat_event_status_t {
    // SAFETY: the documented contract is forwarded.
    unsafe { decode(kind, data, out, None) }
}

/// Decodes one message of `kind` at the start of `data` and writes the
/// bytes it took to `*out_consumed`. Errors: as `hat_event_msg_decode`,
/// without the trailing-bytes error.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_decode_prefix(
    kind: hat_event_msg_kind_t,
    data: hat_event_bytes_t,
    out: *mut *mut hat_event_msg_t,
    out_consumed: *mut usize,
) -> hat_event_status_t {
    // SAFETY: the documented contract is forwarded.
    unsafe { decode(kind, data, out, Some(out_consumed)) }
}

/// Runs a getter: `fallback` for NULL, another kind (`f` gives None) or a panic.
///
/// # Safety
/// `msg` is NULL or a live handle not modified during the call; the pointers `f` uses are valid.
unsafe fn read_or<T: Copy>(msg: *const hat_event_msg_t, fallback: T, f: impl FnOnce(&Message) -> Option<T>) -> T {
    // SAFETY: every getter documents msg as a live handle or NULL.
    guard_value(fallback, || unsafe { handle_opt(msg) }.and_then(f).unwrap_or(fallback))
}

/// Writes `value` to an optional out-parameter.
///
/// # Safety
/// `out` is NULL or writable.
unsafe fn write_opt<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-NULL and writable, forwarded from the caller.
        unsafe { out.write(value) };
    }
}

/// `MsgInitReq` client name, borrowed from the message; `{NULL, 0}` for
/// other kinds and NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_init_req_client_name(msg: *const hat_event_msg_t) -> hat_event_str_t {
    // SAFETY: msg is a live handle or NULL (and any other pointer as documented).
    unsafe {
        read_or(msg, hat_event_str_t::EMPTY, |m| match m {
            Message::InitReq(r) => Some(hat_event_str_t::from_str(&r.client_name)),
            _ => None,
        })
    }
}

/// If a `MsgInitReq` carries a client token, writes it (borrowed) to
/// `*out` (when not NULL) and returns true.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_init_req_client_token(
    msg: *const hat_event_msg_t,
    out: *mut hat_event_str_t,
) -> bool {
    // SAFETY: msg is a live handle or NULL (and any other pointer as documented).
    unsafe {
        read_or(msg, false, |m| match m {
            Message::InitReq(MsgInitReq { client_token: Some(t), .. }) => {
                // SAFETY: out is NULL or writable, as documented.
                (write_opt(out, hat_event_str_t::from_str(t)));
                Some(true)
            }
            _ => None,
        })
    }
}

/// The number of subscriptions (query types) of a `MsgInitReq`; 0 otherwise.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_init_req_subscriptions_len(msg: *const hat_event_msg_t) -> usize {
    // SAFETY: msg is a live handle or NULL (and any other pointer as documented).
    unsafe {
        read_or(msg, 0, |m| match m {
            Message::InitReq(r) => Some(r.subscriptions.len()),
            _ => None,
        })
    }
}

/// Query type `index` of a `MsgInitReq`'s subscriptions, borrowed; NULL if
/// out of range, another kind or NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_init_req_subscription(
    msg: *const hat_event_msg_t,
    index: usize,
) -> *const hat_event_event_type_t {
    // SAFETY: msg is a live handle or NULL (and any other pointer as documented).
    unsafe {
        read_or(msg, std::ptr::null(), |m| match m {
            Message::InitReq(r) => r.subscriptions.get(index).map(borrowed_handle),
            _ => None,
        })
    }
}

/// If a `MsgInitReq` names a server id, writes it to `*out` (when not NULL)
/// and returns true.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_init_req_server_id(msg: *const hat_event_msg_t, out: *mut i64) -> bool {
    // SAFETY: msg is a live handle or NULL (and any other pointer as documented).
    unsafe {
        read_or(msg, false, |m| match m {
            Message::InitReq(MsgInitReq { server_id: Some(id), .. }) => {
                // SAFETY: out is NULL or writable, as documented.
                (write_opt(out, *id));
                Some(true)
            }
            _ => None,
        })
    }
}

/// `persisted` of a `MsgInitReq`; false otherwise.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_init_req_persisted(msg: *const hat_event_msg_t) -> bool {
    // SAFETY: msg is a live handle or NULL (and any other pointer as documented).
    unsafe {
        read_or(msg, false, |m| match m {
            Message::InitReq(r) => Some(r.persisted),
            _ => None,
        })
    }
}

/// For a successful `MsgInitRes` or a `MsgStatusNotify`, writes the server
/// status to `*out` (when not NULL) and returns true; false otherwise.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_server_status(
    msg: *const hat_event_msg_t,
    out: *mut hat_event_server_status_t,
) -> bool {
    // SAFETY: msg is a live handle or NULL (and any other pointer as documented).
    unsafe {
        read_or(msg, false, |m| match m {
            Message::InitRes(MsgInitRes::Success(s)) | Message::StatusNotify(s) => {
                // SAFETY: out is NULL or writable, as documented.
                (write_opt(out, status_code(*s)));
                Some(true)
            }
            _ => None,
        })
    }
}

/// If a `MsgInitRes` is an error, writes its text (borrowed) to `*out`
/// (when not NULL) and returns true; false otherwise.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_init_res_error(msg: *const hat_event_msg_t, out: *mut hat_event_str_t) -> bool {
    // SAFETY: msg is a live handle or NULL (and any other pointer as documented).
    unsafe {
        read_or(msg, false, |m| match m {
            Message::InitRes(MsgInitRes::Error(e)) => {
                // SAFETY: out is NULL or writable, as documented.
                (write_opt(out, hat_event_str_t::from_str(e)));
                Some(true)
            }
            _ => None,
        })
    }
}

fn events_of(m: &Message) -> Option<&Vec<Arc<Event>>> {
    match m {
        Message::EventsNotify(e) | Message::RegisterRes(MsgRegisterRes::Events(e)) => Some(e),
        _ => None,
    }
}

/// The number of events of a `MsgEventsNotify` or successful
/// `MsgRegisterRes`; 0 otherwise.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_events_len(msg: *const hat_event_msg_t) -> usize {
    // SAFETY: msg is a live handle or NULL (and any other pointer as documented).
    unsafe { read_or(msg, 0, |m| events_of(m).map(Vec::len)) }
}

/// Event `index` of a `MsgEventsNotify` or successful `MsgRegisterRes`,
/// borrowed; NULL if out of range, another kind or NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_event(msg: *const hat_event_msg_t, index: usize) -> *const hat_event_event_t {
    // SAFETY: msg is a live handle or NULL (and any other pointer as documented).
    unsafe { read_or(msg, std::ptr::null(), |m| events_of(m).and_then(|e| e.get(index)).map(borrowed_shared)) }
}

/// True for a failed `MsgRegisterRes`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_register_res_failed(msg: *const hat_event_msg_t) -> bool {
    // SAFETY: msg is a live handle or NULL (and any other pointer as documented).
    unsafe { read_or(msg, false, |m| Some(matches!(m, Message::RegisterRes(MsgRegisterRes::Failure)))) }
}

fn register_events_of(m: &Message) -> Option<&Vec<RegisterEvent>> {
    match m {
        Message::RegisterReq(e) => Some(e),
        _ => None,
    }
}

/// The number of register events of a `MsgRegisterReq`; 0 otherwise.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_register_events_len(msg: *const hat_event_msg_t) -> usize {
    // SAFETY: msg is a live handle or NULL (and any other pointer as documented).
    unsafe { read_or(msg, 0, |m| register_events_of(m).map(Vec::len)) }
}

/// Register event `index` of a `MsgRegisterReq`, borrowed; NULL if out of
/// range, another kind or NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_register_event(
    msg: *const hat_event_msg_t,
    index: usize,
) -> *const hat_event_register_event_t {
    // SAFETY: msg is a live handle or NULL (and any other pointer as documented).
    unsafe { read_or(msg, std::ptr::null(), |m| register_events_of(m).and_then(|e| e.get(index)).map(borrowed_handle)) }
}

/// The parameters of a `MsgQueryReq`, borrowed; NULL otherwise.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_query_params(msg: *const hat_event_msg_t) -> *const hat_event_query_params_t {
    // SAFETY: msg is a live handle or NULL (and any other pointer as documented).
    unsafe {
        read_or(msg, std::ptr::null(), |m| match m {
            Message::QueryReq(p) => Some(borrowed_handle(p)),
            _ => None,
        })
    }
}

/// The result of a `MsgQueryRes`, borrowed; NULL otherwise.
#[no_mangle]
pub unsafe extern "C" fn hat_event_msg_query_result(msg: *const hat_event_msg_t) -> *const hat_event_query_result_t {
    // SAFETY: msg is a live handle or NULL (and any other pointer as documented).
    unsafe {
        read_or(msg, std::ptr::null(), |m| match m {
            Message::QueryRes(r) => Some(borrowed_handle(r)),
            _ => None,
        })
    }
}

#[cfg(test)]
mod kind_tests {
    use super::*;

    /// The C constants are the positions in `MessageKind::ALL`, each named
    /// after its kind's SBS name (`HatEventer.MsgInitReq` is
    /// `HAT_EVENT_MSG_INIT_REQ`), and the header declares exactly these.
    #[test]
    fn one_list_drives_names_constants_and_c_values() {
        let constants = [
            ("HAT_EVENT_MSG_INIT_REQ", HAT_EVENT_MSG_INIT_REQ),
            ("HAT_EVENT_MSG_INIT_RES", HAT_EVENT_MSG_INIT_RES),
            ("HAT_EVENT_MSG_STATUS_NOTIFY", HAT_EVENT_MSG_STATUS_NOTIFY),
            ("HAT_EVENT_MSG_EVENTS_NOTIFY", HAT_EVENT_MSG_EVENTS_NOTIFY),
            ("HAT_EVENT_MSG_EVENTS_ACK", HAT_EVENT_MSG_EVENTS_ACK),
            ("HAT_EVENT_MSG_REGISTER_REQ", HAT_EVENT_MSG_REGISTER_REQ),
            ("HAT_EVENT_MSG_REGISTER_RES", HAT_EVENT_MSG_REGISTER_RES),
            ("HAT_EVENT_MSG_QUERY_REQ", HAT_EVENT_MSG_QUERY_REQ),
            ("HAT_EVENT_MSG_QUERY_RES", HAT_EVENT_MSG_QUERY_RES),
        ];
        assert_eq!(constants.len(), MessageKind::ALL.len());
        for (kind, (c_name, c_value)) in MessageKind::ALL.into_iter().zip(constants) {
            let camel = kind.name().strip_prefix("HatEventer.Msg").unwrap();
            let mut upper = String::from("HAT_EVENT_MSG");
            for ch in camel.chars() {
                if ch.is_ascii_uppercase() {
                    upper.push('_');
                }
                upper.push(ch.to_ascii_uppercase());
            }
            assert_eq!(upper, c_name);
            assert_eq!(kind_code(kind), c_value, "{c_name}");
            assert_eq!(kind_arg(c_value).unwrap(), kind);
        }
        assert!(kind_arg(MessageKind::ALL.len() as u32).is_err());
        let header = include_str!("../../include/hat/event.h");
        let declared = header.lines().filter(|l| l.starts_with("#define HAT_EVENT_MSG_")).count();
        assert_eq!(declared, MessageKind::ALL.len());
    }
}
