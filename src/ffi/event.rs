//! Events in C: ids, sources and status as plain values; payloads, events
//! and register events as opaque handles with accessors.
use std::sync::Arc;

use super::boundary::{
    borrowed_handle, borrowed_shared, bytes_arg, free_handle, free_shared, guard_status, guard_value, handle_arg,
    handle_opt, hat_event_bytes_t, hat_event_status_t, hat_event_str_t, new_handle, new_shared, out_arg, shared_arc,
    str_arg, Boxed, Counted, FfiError, Opaque,
};
use super::buffer::{hat_event_buffer_t, Buffer};
use super::event_type::{event_type_arg, hat_event_event_type_t};
use super::timestamp::{hat_event_timestamp_t, opt_timestamp_arg, timestamp_arg};
use crate::event::{Event, EventId, EventPayload, RegisterEvent, Source, SourceType};

/// Identifies an event: server, session and instance. A plain value.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct hat_event_event_id_t {
    pub server: i64,
    pub session: i64,
    pub instance: i64,
}

impl From<hat_event_event_id_t> for EventId {
    fn from(id: hat_event_event_id_t) -> EventId {
        EventId { server: id.server, session: id.session, instance: id.instance }
    }
}

impl From<EventId> for hat_event_event_id_t {
    fn from(id: EventId) -> hat_event_event_id_t {
        hat_event_event_id_t { server: id.server, session: id.session, instance: id.instance }
    }
}

/// Compares ids lexicographically by (server, session, instance): negative,
/// 0 or positive. Thread-safe.
#[no_mangle]
pub extern "C" fn hat_event_event_id_compare(a: hat_event_event_id_t, b: hat_event_event_id_t) -> i32 {
    EventId::from(a).cmp(&EventId::from(b)) as i32
}

/// The event server's status (`HAT_EVENT_SERVER_STATUS_*`). An integer so
/// that any value read from C is safe; functions taking one refuse unknown
/// values with `HAT_EVENT_ERR_INVALID_ARGUMENT`.
pub type hat_event_server_status_t = u32;
/// Standby: another server is active.
pub const HAT_EVENT_SERVER_STATUS_STANDBY: hat_event_server_status_t = 0;
/// Starting: becoming operational.
pub const HAT_EVENT_SERVER_STATUS_STARTING: hat_event_server_status_t = 1;
/// Operational: accepting registrations.
pub const HAT_EVENT_SERVER_STATUS_OPERATIONAL: hat_event_server_status_t = 2;
/// Stopping: shutting down.
pub const HAT_EVENT_SERVER_STATUS_STOPPING: hat_event_server_status_t = 3;

/// The kind of component that registered events (`HAT_EVENT_SOURCE_TYPE_*`,
/// the reference's `SourceType` values).
pub type hat_event_source_type_t = u32;
/// An eventer client.
pub const HAT_EVENT_SOURCE_TYPE_EVENTER: hat_event_source_type_t = 1;
/// An engine module.
pub const HAT_EVENT_SOURCE_TYPE_MODULE: hat_event_source_type_t = 2;
/// The engine itself.
pub const HAT_EVENT_SOURCE_TYPE_ENGINE: hat_event_source_type_t = 3;
/// The event server.
pub const HAT_EVENT_SOURCE_TYPE_SERVER: hat_event_source_type_t = 4;

/// Who registered events: a source type and an id. A plain value.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct hat_event_source_t {
    pub r#type: hat_event_source_type_t,
    pub id: i64,
}

impl From<Source> for hat_event_source_t {
    fn from(source: Source) -> hat_event_source_t {
        hat_event_source_t { r#type: source.type_.into(), id: source.id }
    }
}

/// An unknown source type is given back as the error.
impl TryFrom<hat_event_source_t> for Source {
    type Error = u32;
    fn try_from(source: hat_event_source_t) -> Result<Source, u32> {
        Ok(Source { type_: SourceType::try_from(source.r#type)?, id: source.id })
    }
}

// The C values are the core's (one mapping, beside the core types).
const _: () = assert!(SourceType::Eventer as u32 == HAT_EVENT_SOURCE_TYPE_EVENTER);
const _: () = assert!(SourceType::Module as u32 == HAT_EVENT_SOURCE_TYPE_MODULE);
const _: () = assert!(SourceType::Engine as u32 == HAT_EVENT_SOURCE_TYPE_ENGINE);
const _: () = assert!(SourceType::Server as u32 == HAT_EVENT_SOURCE_TYPE_SERVER);

/// Which variant a payload is (`HAT_EVENT_PAYLOAD_*`).
pub type hat_event_payload_kind_t = u32;
/// Binary payload: a type name and bytes.
pub const HAT_EVENT_PAYLOAD_BINARY: hat_event_payload_kind_t = 0;
/// JSON payload: one JSON value.
pub const HAT_EVENT_PAYLOAD_JSON: hat_event_payload_kind_t = 1;

/// An event payload, binary or JSON. Immutable and reference-counted, as
/// events are: `_create_*` returns one reference, `hat_event_payload_clone`
/// adds one (O(1), the same pointer) and `hat_event_payload_destroy` drops
/// one. A payload read from an event or register event is borrowed (valid
/// while that lives) and can be cloned to keep it. Events and register
/// events made with a payload share it. Safe to read, clone and destroy
/// from several threads at once.
pub struct hat_event_payload_t {
    _private: [u8; 0],
}

impl Opaque for hat_event_payload_t {
    type Inner = EventPayload;
    type Ownership = Counted;
}

/// An event: id, type, timestamp, optional source timestamp, optional
/// payload. Immutable and reference-counted: `_create` returns a handle
/// with one reference, `hat_event_event_clone` adds one (O(1), the same
/// pointer) and `hat_event_event_destroy` drops one; the event is freed
/// with its last reference. A borrowed event (read from a query result, a
/// message, an engine's or client's callback, a backend's
/// `register_events`) can be cloned too: that is how a plug-in keeps an
/// event beyond the call, without copying it. Safe to read, clone and
/// destroy from several threads at once.
pub struct hat_event_event_t {
    _private: [u8; 0],
}

impl Opaque for hat_event_event_t {
    type Inner = Event;
    type Ownership = Counted;
}

/// An event to register: type, optional source timestamp, optional payload.
/// Immutable: safe to read from several threads at once.
pub struct hat_event_register_event_t {
    _private: [u8; 0],
}

impl Opaque for hat_event_register_event_t {
    type Inner = RegisterEvent;
    type Ownership = Boxed;
}

/// Copies an optional payload argument (NULL means none).
///
/// # Safety
/// Unless NULL, `payload` is a live payload handle.
unsafe fn opt_payload_arg(payload: *const hat_event_payload_t) -> Option<Arc<EventPayload>> {
    if payload.is_null() {
        return None;
    }
    // SAFETY: forwarded from the caller; not NULL, so this cannot fail.
    unsafe { shared_arc(payload, "payload") }.ok()
}

/// Writes a deep copy of the handle's value to `*out`; shared by the
/// `_clone` of every [`Boxed`] handle.
///
/// # Safety
/// `value` is a live handle of type `H` or NULL; `out` is NULL or writable.
pub(crate) unsafe fn clone_handle<H: Opaque<Ownership = Boxed>>(
    value: *const H,
    out: *mut *mut H,
    name: &str,
) -> hat_event_status_t
where
    H::Inner: Clone,
{
    guard_status(|| {
        // SAFETY: forwarded from the caller.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: forwarded from the caller.
        let value = unsafe { handle_arg(value, name) }?;
        out.write(new_handle(value.clone()));
        Ok(())
    })
}

/// Writes a new count of a [`Counted`] handle to `*out`: the O(1) `_clone`
/// of events and subscriptions (the same pointer, one more owner).
///
/// # Safety
/// `value` is a live handle of type `H` or NULL; `out` is NULL or writable.
pub(crate) unsafe fn clone_shared<H: Opaque<Ownership = Counted>>(
    value: *const H,
    out: *mut *mut H,
    name: &str,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: forwarded from the caller.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: forwarded from the caller.
        out.write(new_shared(unsafe { shared_arc(value, name) }?));
        Ok(())
    })
}

/// Equality of two handles' values; false if either is NULL.
///
/// # Safety
/// `a` and `b` are live handles of type `H` or NULL.
pub(crate) unsafe fn equal_handles<H: Opaque>(a: *const H, b: *const H) -> bool
where
    H::Inner: PartialEq,
{
    guard_value(false, || {
        // SAFETY: forwarded from the caller.
        match unsafe { (handle_opt(a), handle_opt(b)) } {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
    })
}

/// Creates a binary payload; `type` and `data` are copied.
/// The caller owns `*out` (release with `hat_event_payload_destroy`).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_payload_create_binary(
    r#type: hat_event_str_t,
    data: hat_event_bytes_t,
    out: *mut *mut hat_event_payload_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: the views describe readable bytes, as documented.
        let (type_name, data) = unsafe { (str_arg(r#type, "type")?, bytes_arg(data, "data")?) };
        out.write(new_shared(Arc::new(EventPayload::Binary { type_: type_name.to_owned(), data: data.to_vec() })));
        Ok(())
    })
}

/// Creates a JSON payload by parsing `json_text` (exactly one JSON value;
/// member order and integers of any size are kept), reading what Python's
/// `json.loads` reads: `\uXXXX` escapes of lone surrogates (kept, and
/// written back as they are), nesting of any depth (no limit but memory,
/// which stays within a small multiple of the text length; no recursion),
/// a member name given twice (its first position, its last value), and
/// NaN, Infinity and numbers beyond a double, which are held but cannot be
/// written (`hat_event_payload_json_text` and SBS encoding fail, as in
/// hat-event). The caller owns `*out` (release with
/// `hat_event_payload_destroy`).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_UTF8`,
/// `HAT_EVENT_ERR_INVALID_JSON` (the message gives the byte offset, line
/// and column).
#[no_mangle]
pub unsafe extern "C" fn hat_event_payload_create_json(
    json_text: hat_event_str_t,
    out: *mut *mut hat_event_payload_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: the view describes readable bytes, as documented.
        let text = unsafe { str_arg(json_text, "json_text") }?;
        out.write(new_shared(Arc::new(EventPayload::json_from_text(text)?)));
        Ok(())
    })
}

/// A new reference to a payload (owned or borrowed): `*out` is the same
/// pointer and the caller owns one more reference. O(1): nothing is copied.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_payload_clone(
    payload: *const hat_event_payload_t,
    out: *mut *mut hat_event_payload_t,
) -> hat_event_status_t {
    // SAFETY: a live handle or NULL and a writable out or NULL, as documented.
    unsafe { clone_shared(payload, out, "payload") }
}

/// Drops one reference made by `_create_*` or `_clone` (the payload is
/// freed with its last one); NULL is ignored. Never pass a borrowed payload
/// you did not clone.
#[no_mangle]
pub unsafe extern "C" fn hat_event_payload_destroy(payload: *mut hat_event_payload_t) {
    // SAFETY: an owned reference or NULL, not used again, as documented.
    guard_value((), || unsafe { free_shared(payload) })
}

/// `HAT_EVENT_PAYLOAD_BINARY` or `HAT_EVENT_PAYLOAD_JSON`; `UINT32_MAX` for NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_payload_get_kind(payload: *const hat_event_payload_t) -> hat_event_payload_kind_t {
    guard_value(u32::MAX, || {
        // SAFETY: a live handle or NULL, as documented.
        match unsafe { handle_opt(payload) } {
            Some(EventPayload::Binary { .. }) => HAT_EVENT_PAYLOAD_BINARY,
            Some(EventPayload::Json(_)) => HAT_EVENT_PAYLOAD_JSON,
            None => u32::MAX,
        }
    })
}

/// The type name of a binary payload, valid while the payload lives;
/// `{NULL, 0}` for NULL or a JSON payload.
#[no_mangle]
pub unsafe extern "C" fn hat_event_payload_binary_type(payload: *const hat_event_payload_t) -> hat_event_str_t {
    guard_value(hat_event_str_t::EMPTY, || {
        // SAFETY: a live handle or NULL, as documented.
        match unsafe { handle_opt(payload) } {
            Some(EventPayload::Binary { type_, .. }) => hat_event_str_t::from_str(type_),
            _ => hat_event_str_t::EMPTY,
        }
    })
}

/// The bytes of a binary payload, valid while the payload lives;
/// `{NULL, 0}` for NULL or a JSON payload.
#[no_mangle]
pub unsafe extern "C" fn hat_event_payload_binary_data(payload: *const hat_event_payload_t) -> hat_event_bytes_t {
    guard_value(hat_event_bytes_t::EMPTY, || {
        // SAFETY: a live handle or NULL, as documented.
        match unsafe { handle_opt(payload) } {
            Some(EventPayload::Binary { data, .. }) => hat_event_bytes_t::from_slice(data),
            _ => hat_event_bytes_t::EMPTY,
        }
    })
}

/// Serialises a JSON payload's value as JSON text into a new buffer the
/// caller owns (release with `hat_event_buffer_destroy`), byte for byte as
/// hat-event writes it (Python's `json.dumps`: `", "` and `": "`
/// separators, ASCII with `\uXXXX` escapes, Python float repr, members in
/// order, integers with every digit).
/// Lone surrogate escapes are written as `\udXXX` (lowercase), as Python
/// writes them.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`; `HAT_EVENT_ERR_INVALID_ARGUMENT`
/// for a binary payload; `HAT_EVENT_ERR_INVALID_JSON` for NaN, an infinity
/// or a number beyond a double (e.g. `1e400`; Python cannot write them
/// either).
#[no_mangle]
pub unsafe extern "C" fn hat_event_payload_json_text(
    payload: *const hat_event_payload_t,
    out: *mut *mut hat_event_buffer_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: a live handle or NULL, as documented.
        let EventPayload::Json(json) = unsafe { handle_arg(payload, "payload") }? else {
            return Err(FfiError::invalid("payload is binary, not JSON"));
        };
        let text = json.text_bytes()?;
        out.write(new_handle(Buffer::new(text.to_vec())));
        Ok(())
    })
}

/// True if both are non-NULL and equal: same kind; same type and bytes, or
/// JSON values equal as Python compares them (`1 == 1.0`, `-0.0 == 0.0`,
/// `true == 1`, objects regardless of member order; unlike Python, NaN
/// equals NaN, so that a payload equals its copy). Any depth, no recursion.
#[no_mangle]
pub unsafe extern "C" fn hat_event_payload_equal(a: *const hat_event_payload_t, b: *const hat_event_payload_t) -> bool {
    // SAFETY: live handles or NULL, as documented.
    unsafe { equal_handles(a, b) }
}

/// Creates an event. `type` holds `type_len` segments; `source_timestamp`
/// and `payload` may be NULL for none. Everything is copied: the caller
/// keeps ownership of `payload`. The caller owns `*out`, one reference
/// (release with `hat_event_event_destroy`).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_UTF8`,
/// `HAT_EVENT_ERR_OUT_OF_RANGE` (a timestamp's microseconds).
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_create(
    id: hat_event_event_id_t,
    r#type: *const hat_event_str_t,
    type_len: usize,
    timestamp: hat_event_timestamp_t,
    source_timestamp: *const hat_event_timestamp_t,
    payload: *const hat_event_payload_t,
    out: *mut *mut hat_event_event_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        let event = Event {
            id: id.into(),
            // SAFETY: `type` describes readable views, as documented.
            type_: unsafe { event_type_arg(r#type, type_len, "type") }?,
            timestamp: timestamp_arg(timestamp, "timestamp")?,
            // SAFETY: NULL or a readable timestamp, as documented.
            source_timestamp: unsafe { opt_timestamp_arg(source_timestamp, "source_timestamp") }?,
            // SAFETY: NULL or a live payload handle, as documented.
            payload: unsafe { opt_payload_arg(payload) },
        };
        out.write(new_shared(Arc::new(event)));
        Ok(())
    })
}

/// A new reference to an event (owned or borrowed): `*out` is the same
/// pointer as `event`, and the caller owns one more reference (release
/// with `hat_event_event_destroy`). O(1): nothing is copied.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_clone(
    event: *const hat_event_event_t,
    out: *mut *mut hat_event_event_t,
) -> hat_event_status_t {
    // SAFETY: a live handle or NULL and a writable out or NULL, as documented.
    unsafe { clone_shared(event, out, "event") }
}

/// Drops one reference made by `_create` or `_clone` (the event is freed
/// with its last one); NULL is ignored. Never pass a borrowed event you
/// did not clone.
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_destroy(event: *mut hat_event_event_t) {
    // SAFETY: an owned reference or NULL, not used again, as documented.
    guard_value((), || unsafe { free_shared(event) })
}

/// The event's id; all zero for NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_get_id(event: *const hat_event_event_t) -> hat_event_event_id_t {
    guard_value(EventId::default().into(), || {
        // SAFETY: a live handle or NULL, as documented.
        unsafe { handle_opt(event) }.map_or(EventId::default(), |e| e.id).into()
    })
}

/// The event's type, borrowed: valid while the event lives; NULL for NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_get_type(event: *const hat_event_event_t) -> *const hat_event_event_type_t {
    guard_value(std::ptr::null(), || {
        // SAFETY: a live handle or NULL, as documented.
        unsafe { handle_opt(event) }.map_or(std::ptr::null(), |e| borrowed_handle(&e.type_))
    })
}

/// The event's timestamp; `{0, 0}` for NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_timestamp(event: *const hat_event_event_t) -> hat_event_timestamp_t {
    guard_value(hat_event_timestamp_t { s: 0, us: 0 }, || {
        // SAFETY: a live handle or NULL, as documented.
        unsafe { handle_opt(event) }.map_or(hat_event_timestamp_t { s: 0, us: 0 }, |e| e.timestamp.into())
    })
}

/// If the event has a source timestamp, writes it to `*out` (when `out` is
/// not NULL) and returns true; otherwise returns false. False for NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_source_timestamp(
    event: *const hat_event_event_t,
    out: *mut hat_event_timestamp_t,
) -> bool {
    // SAFETY: a live handle or NULL, and out NULL or writable, as documented.
    guard_value(false, || unsafe { write_opt_timestamp(handle_opt(event).and_then(|e| e.source_timestamp), out) })
}

/// The event's payload, borrowed: valid while the event lives; NULL if the
/// event has none or is NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_payload(event: *const hat_event_event_t) -> *const hat_event_payload_t {
    guard_value(std::ptr::null(), || {
        // SAFETY: a live handle or NULL, as documented.
        unsafe { handle_opt(event) }.and_then(|e| e.payload.as_ref()).map_or(std::ptr::null(), borrowed_shared)
    })
}

/// True if both are non-NULL and every field is equal.
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_equal(a: *const hat_event_event_t, b: *const hat_event_event_t) -> bool {
    // SAFETY: live handles or NULL, as documented.
    unsafe { equal_handles(a, b) }
}

/// The reference's natural order `a < b` (`Event.__lt__`): false if the ids
/// are equal; if the servers are equal, compares ids; else if the
/// timestamps differ, compares timestamps; else true ("a registered first").
/// Not a total order: sort with `hat_event_event_compare`. False if either is NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_natural_lt(a: *const hat_event_event_t, b: *const hat_event_event_t) -> bool {
    guard_value(false, || {
        // SAFETY: live handles or NULL, as documented.
        match unsafe { (handle_opt(a), handle_opt(b)) } {
            (Some(a), Some(b)) => a.natural_lt(b),
            _ => false,
        }
    })
}

/// The reference's natural order `a > b` (`Event.__gt__`): as
/// `hat_event_event_natural_lt` with the comparisons reversed, and false
/// where timestamps tie across servers. False if either is NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_natural_gt(a: *const hat_event_event_t, b: *const hat_event_event_t) -> bool {
    guard_value(false, || {
        // SAFETY: live handles or NULL, as documented.
        match unsafe { (handle_opt(a), handle_opt(b)) } {
            (Some(a), Some(b)) => a.natural_gt(b),
            _ => false,
        }
    })
}

/// A total order for sorting (e.g. with `qsort`): by timestamp, then
/// server, session, instance. Negative, 0 or positive; NULL sorts first.
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_compare(a: *const hat_event_event_t, b: *const hat_event_event_t) -> i32 {
    guard_value(0, || {
        // SAFETY: live handles or NULL, as documented.
        match unsafe { (handle_opt(a), handle_opt(b)) } {
            (Some(a), Some(b)) => a.cmp_total(b) as i32,
            (a, b) => a.is_some().cmp(&b.is_some()) as i32,
        }
    })
}

/// Creates an event to register. `type` holds `type_len` segments;
/// `source_timestamp` and `payload` may be NULL for none. Everything is
/// copied. The caller owns `*out` (release with `hat_event_register_event_destroy`).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_UTF8`,
/// `HAT_EVENT_ERR_OUT_OF_RANGE`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_register_event_create(
    r#type: *const hat_event_str_t,
    type_len: usize,
    source_timestamp: *const hat_event_timestamp_t,
    payload: *const hat_event_payload_t,
    out: *mut *mut hat_event_register_event_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        let event = RegisterEvent {
            // SAFETY: `type` describes readable views, as documented.
            type_: unsafe { event_type_arg(r#type, type_len, "type") }?,
            // SAFETY: NULL or a readable timestamp, as documented.
            source_timestamp: unsafe { opt_timestamp_arg(source_timestamp, "source_timestamp") }?,
            // SAFETY: NULL or a live payload handle, as documented.
            payload: unsafe { opt_payload_arg(payload) },
        };
        out.write(new_handle(event));
        Ok(())
    })
}

/// Copies a register event into a new owned handle.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_register_event_clone(
    event: *const hat_event_register_event_t,
    out: *mut *mut hat_event_register_event_t,
) -> hat_event_status_t {
    // SAFETY: a live handle or NULL and a writable out or NULL, as documented.
    unsafe { clone_handle(event, out, "event") }
}

/// Releases a register event; NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn hat_event_register_event_destroy(event: *mut hat_event_register_event_t) {
    // SAFETY: an owned handle or NULL, not used again, as documented.
    guard_value((), || unsafe { free_handle(event) })
}

/// The register event's type, borrowed: valid while it lives; NULL for NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_register_event_type(
    event: *const hat_event_register_event_t,
) -> *const hat_event_event_type_t {
    guard_value(std::ptr::null(), || {
        // SAFETY: a live handle or NULL, as documented.
        unsafe { handle_opt(event) }.map_or(std::ptr::null(), |e| borrowed_handle(&e.type_))
    })
}

/// If the register event has a source timestamp, writes it to `*out` (when
/// `out` is not NULL) and returns true; otherwise false. False for NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_register_event_source_timestamp(
    event: *const hat_event_register_event_t,
    out: *mut hat_event_timestamp_t,
) -> bool {
    // SAFETY: a live handle or NULL, and out NULL or writable, as documented.
    guard_value(false, || unsafe { write_opt_timestamp(handle_opt(event).and_then(|e| e.source_timestamp), out) })
}

/// The register event's payload, borrowed; NULL if none or NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_register_event_payload(
    event: *const hat_event_register_event_t,
) -> *const hat_event_payload_t {
    guard_value(std::ptr::null(), || {
        // SAFETY: a live handle or NULL, as documented.
        unsafe { handle_opt(event) }.and_then(|e| e.payload.as_ref()).map_or(std::ptr::null(), borrowed_shared)
    })
}

/// True if both are non-NULL and every field is equal.
#[no_mangle]
pub unsafe extern "C" fn hat_event_register_event_equal(
    a: *const hat_event_register_event_t,
    b: *const hat_event_register_event_t,
) -> bool {
    // SAFETY: live handles or NULL, as documented.
    unsafe { equal_handles(a, b) }
}

/// Writes an optional timestamp to an optional out-parameter; returns
/// whether there was one. Shared by the `_source_timestamp` getters.
///
/// # Safety
/// `out` is NULL or writable.
pub(crate) unsafe fn write_opt_timestamp(
    t: Option<crate::timestamp::Timestamp>,
    out: *mut hat_event_timestamp_t,
) -> bool {
    match t {
        Some(t) => {
            if !out.is_null() {
                // SAFETY: non-NULL and writable, forwarded from the caller.
                unsafe { out.write(t.into()) };
            }
            true
        }
        None => false,
    }
}
