//! Hat's query rules for C backends (`server/query.rs`): a backend keeps
//! its events as it likes and answers queries exactly as the built-in
//! memory backend does.

use crate::ffi::boundary::{
    guard_status, handle_arg, hat_event_status_t, new_handle, out_arg, shared_arcs_arg, FfiError,
    HAT_EVENT_ERR_INVALID_ARGUMENT,
};
use crate::ffi::event::hat_event_event_t;
use crate::ffi::query::{hat_event_query_params_t, hat_event_query_result_t};
use crate::server::query::query_events;

/// Answers the query `params` over the `count` events of `events`, with
/// the rules of the built-in memory backend, into a new result `*out` (the
/// caller owns it; a backend's `query` slot hands it to the engine as is).
/// Give the events in registration order: a latest query keeps each type's
/// newest event (hat's natural order: within a server by id, across
/// servers by timestamp, the later registered on a tie) with types in the
/// order they first appear; timeseries and server queries sort, so their
/// order does not matter there.
///
/// The rules (hat-event 0.9.44's backends, with the reference memory
/// backend's bugs fixed): latest: `event_types` filter; timeseries:
/// `event_types`, inclusive `t_from`/`t_to` and `source_t_from`/
/// `source_t_to` filters (a source filter, or `order_by` source timestamp,
/// drops events without a source timestamp), ordered by the chosen
/// timestamp then timestamp then id, `order` descending or ascending,
/// then everything up to and including `last_event_id` skipped (an id not
/// among the results gives no events); server: the events of `server_id`
/// with an id greater than `last_event_id`, in id order; both then cut to
/// `max_results` (a negative one counts from the end, as Python's slices)
/// with `more_follows` set when anything was cut.
///
/// Everything is borrowed for the call; the result holds new references
/// to the events that answer it (no copies). Thread-safe
/// (no state). Cost: a pass over `events` and a sort of what matches.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT` (`params`, `out`, `events` with a
/// non-zero `count`, or one of the events is NULL; the message gives its
/// index), `HAT_EVENT_ERR_INVALID_ARGUMENT` (query event types a
/// subscription refuses: a `*` that is not last).
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_evaluate(
    params: *const hat_event_query_params_t,
    events: *const *const hat_event_event_t,
    count: usize,
    out: *mut *mut hat_event_query_result_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: a live handle or NULL, as documented.
        let params = unsafe { handle_arg(params, "params") }?;
        // SAFETY: events holds count live handles (NULL only if count is 0), as documented.
        let events = unsafe { shared_arcs_arg(events, count, "events") }?;
        let result = query_events(&events, params)
            .map_err(|e| FfiError::new(HAT_EVENT_ERR_INVALID_ARGUMENT, format!("query event types: {e}")))?;
        out.write(new_handle(result));
        Ok(())
    })
}
