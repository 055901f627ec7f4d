//! The JSON form of events and query results in C (hat-event manager's format).

use super::boundary::{
    guard_status, handle_arg, hat_event_status_t, hat_event_str_t, new_handle, new_shared, out_arg, str_arg,
};
use super::buffer::{hat_event_buffer_t, Buffer};
use super::event::hat_event_event_t;
use super::query::hat_event_query_result_t;
use crate::json_form::{event_from_json, event_to_json, query_result_from_json, query_result_to_json};

/// Writes `event` as JSON text, byte for byte as hat-event's manager prints
/// it (`{"id": {...}, "type": [...], "timestamp": {"s", "us"},
/// "source_timestamp": ..., "payload": ...}`, binary data as hex), into a
/// new buffer the caller owns.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`; `HAT_EVENT_ERR_INVALID_JSON` for a
/// JSON payload holding NaN, an infinity or a number beyond a double
/// (which hat-event cannot write either).
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_to_json(
    event: *const hat_event_event_t,
    out: *mut *mut hat_event_buffer_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: a live handle or NULL, as documented.
        let text = event_to_json(unsafe { handle_arg(event, "event") }?)?;
        out.write(new_handle(Buffer::new(text.into_bytes())));
        Ok(())
    })
}

/// Reads an event from its JSON form into a new handle the caller owns.
/// The text is read as Python's `json.loads` reads it, at any nesting depth
/// (so everything `hat_event_event_to_json` writes reads back); the payload
/// `"data"` of a JSON payload becomes the payload as it is, lone surrogate
/// escapes included. Every member must be present with the right type;
/// unknown members are refused; event type segments and binary payload
/// members must not hold lone surrogate escapes (they become UTF-8).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_UTF8`,
/// `HAT_EVENT_ERR_INVALID_JSON` (the message names the member at fault, or
/// gives the byte offset of a syntax error).
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_from_json(
    json_text: hat_event_str_t,
    out: *mut *mut hat_event_event_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: the view describes readable bytes, as documented.
        let text = unsafe { str_arg(json_text, "json_text") }?;
        out.write(new_shared(std::sync::Arc::new(event_from_json(text)?)));
        Ok(())
    })
}

/// Writes `result` as JSON text (`{"events": [...], "more_follows": ...}`),
/// byte for byte as hat-event's manager prints it, into a new buffer the
/// caller owns. Errors: as `hat_event_event_to_json`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_result_to_json(
    result: *const hat_event_query_result_t,
    out: *mut *mut hat_event_buffer_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: a live handle or NULL, as documented.
        let text = query_result_to_json(unsafe { handle_arg(result, "result") }?)?;
        out.write(new_handle(Buffer::new(text.into_bytes())));
        Ok(())
    })
}

/// Reads a query result from its JSON form into a new handle the caller
/// owns. Errors: as `hat_event_event_from_json`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_result_from_json(
    json_text: hat_event_str_t,
    out: *mut *mut hat_event_query_result_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: the view describes readable bytes, as documented.
        let text = unsafe { str_arg(json_text, "json_text") }?;
        out.write(new_handle(query_result_from_json(text)?));
        Ok(())
    })
}
