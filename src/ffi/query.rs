//! Query parameters and results in C: opaque handles built with the
//! reference's defaults, then adjusted with setters and read with getters.

use super::boundary::{
    borrowed_handle, borrowed_shared, free_handle, guard_status, guard_value, handle_mut, handle_opt,
    hat_event_status_t, new_handle, out_arg, shared_arc, Boxed, FfiError, FfiResult, Opaque,
};
use super::event::{clone_handle, hat_event_event_id_t, hat_event_event_t, write_opt_timestamp};
use super::event_type::{event_types_arg, hat_event_event_type_t, hat_event_event_type_view_t};
use super::timestamp::{hat_event_timestamp_t, opt_timestamp_arg};
use crate::event::EventId;
use crate::query::{
    Order, OrderBy, QueryLatestParams, QueryParams, QueryResult, QueryServerParams, QueryTimeseriesParams,
};
use crate::timestamp::Timestamp;

/// Result order (`HAT_EVENT_ORDER_*`).
pub type hat_event_order_t = u32;
/// Newest first (the default).
pub const HAT_EVENT_ORDER_DESCENDING: hat_event_order_t = 0;
/// Oldest first.
pub const HAT_EVENT_ORDER_ASCENDING: hat_event_order_t = 1;

/// Which timestamp orders and filters results (`HAT_EVENT_ORDER_BY_*`).
pub type hat_event_order_by_t = u32;
/// By the server's timestamp (the default).
pub const HAT_EVENT_ORDER_BY_TIMESTAMP: hat_event_order_by_t = 0;
/// By the source timestamp; events without one are left out.
pub const HAT_EVENT_ORDER_BY_SOURCE_TIMESTAMP: hat_event_order_by_t = 1;

/// Which kind of query parameters (`HAT_EVENT_QUERY_*`).
pub type hat_event_query_kind_t = u32;
/// Latest event of each type.
pub const HAT_EVENT_QUERY_LATEST: hat_event_query_kind_t = 0;
/// Events over time.
pub const HAT_EVENT_QUERY_TIMESERIES: hat_event_query_kind_t = 1;
/// Events of one server.
pub const HAT_EVENT_QUERY_SERVER: hat_event_query_kind_t = 2;

/// Query parameters of one of three kinds: latest (`event_types`),
/// timeseries (`event_types`, `t_from`, `t_to`, `source_t_from`,
/// `source_t_to`, `order`, `order_by`, `max_results`, `last_event_id`) or
/// server (`server_id`, `persisted`, `max_results`, `last_event_id`).
/// A setter for a field the kind lacks returns `HAT_EVENT_ERR_INVALID_ARGUMENT`;
/// a getter for it returns "none". Owned by the caller (release with
/// `hat_event_query_params_destroy`); not synchronised: do not modify while
/// another thread reads.
pub struct hat_event_query_params_t {
    _private: [u8; 0],
}

impl Opaque for hat_event_query_params_t {
    type Inner = QueryParams;
    type Ownership = Boxed;
}

/// A query result: events and a `more_follows` flag. Owned by the caller
/// (release with `hat_event_query_result_destroy`); not synchronised.
pub struct hat_event_query_result_t {
    _private: [u8; 0],
}

impl Opaque for hat_event_query_result_t {
    type Inner = QueryResult;
    type Ownership = Boxed;
}

/// # Safety
/// `out` is NULL or writable.
unsafe fn create_params(out: *mut *mut hat_event_query_params_t, params: QueryParams) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented on every creator.
        let out = unsafe { out_arg(out, "out") }?;
        out.write(new_handle(params));
        Ok(())
    })
}

/// Runs a setter on a params handle (NULL-checked).
///
/// # Safety
/// `params` is NULL or a live owned handle that no other thread uses during the call; the pointers `set` reads are valid.
unsafe fn set_params(
    params: *mut hat_event_query_params_t,
    set: impl FnOnce(&mut QueryParams) -> FfiResult<()>,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: every setter documents params as a live owned handle or NULL.
        set(unsafe { handle_mut(params, "params") }?)
    })
}

/// Runs a getter on a params handle; NULL reads as `None` of the right kind.
///
/// # Safety
/// `params` is NULL or a live handle not modified during the call; the pointers `get` uses are valid.
unsafe fn get_params<T>(
    params: *const hat_event_query_params_t,
    fallback: T,
    get: impl FnOnce(Option<&QueryParams>) -> T,
) -> T {
    // SAFETY: every getter documents params as a live handle or NULL.
    guard_value(fallback, || get(unsafe { handle_opt(params) }))
}

/// Creates latest-query parameters with the reference's defaults (all event
/// types). The caller owns `*out`. Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_create_latest(
    out: *mut *mut hat_event_query_params_t,
) -> hat_event_status_t {
    // SAFETY: out is NULL or writable, as documented.
    unsafe { create_params(out, QueryParams::Latest(QueryLatestParams::default())) }
}

/// Creates timeseries-query parameters with the reference's defaults: no
/// filters, `HAT_EVENT_ORDER_DESCENDING`, `HAT_EVENT_ORDER_BY_TIMESTAMP`, no
/// limit. The caller owns `*out`. Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_create_timeseries(
    out: *mut *mut hat_event_query_params_t,
) -> hat_event_status_t {
    // SAFETY: out is NULL or writable, as documented.
    unsafe { create_params(out, QueryParams::Timeseries(QueryTimeseriesParams::default())) }
}

/// Creates server-query parameters for `server_id` with the reference's
/// defaults: not persisted only, no limit, from the start. The caller owns
/// `*out`. Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_create_server(
    server_id: i64,
    out: *mut *mut hat_event_query_params_t,
) -> hat_event_status_t {
    // SAFETY: out is NULL or writable, as documented.
    unsafe { create_params(out, QueryParams::Server(QueryServerParams::new(server_id))) }
}

/// Copies query parameters into a new owned handle.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_clone(
    params: *const hat_event_query_params_t,
    out: *mut *mut hat_event_query_params_t,
) -> hat_event_status_t {
    // SAFETY: a live handle or NULL and a writable out or NULL, as documented.
    unsafe { clone_handle(params, out, "params") }
}

/// Releases query parameters; NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_destroy(params: *mut hat_event_query_params_t) {
    // SAFETY: an owned handle or NULL, not used again, as documented.
    guard_value((), || unsafe { free_handle(params) })
}

/// The kind (`HAT_EVENT_QUERY_*`); `UINT32_MAX` for NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_kind(
    params: *const hat_event_query_params_t,
) -> hat_event_query_kind_t {
    // SAFETY: params is a live handle or NULL (and any other pointer as documented).
    unsafe {
        get_params(params, u32::MAX, |p| match p {
            Some(QueryParams::Latest(_)) => HAT_EVENT_QUERY_LATEST,
            Some(QueryParams::Timeseries(_)) => HAT_EVENT_QUERY_TIMESERIES,
            Some(QueryParams::Server(_)) => HAT_EVENT_QUERY_SERVER,
            None => u32::MAX,
        })
    }
}

/// True if both are non-NULL and equal.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_equal(
    a: *const hat_event_query_params_t,
    b: *const hat_event_query_params_t,
) -> bool {
    // SAFETY: live handles or NULL, as documented.
    unsafe { super::event::equal_handles(a, b) }
}

/// Sets `event_types` (latest and timeseries): `types == NULL` means none
/// (every type); otherwise `count` event types are copied (a non-NULL
/// `types` with `count == 0` is an empty list, which matches nothing).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_UTF8`,
/// `HAT_EVENT_ERR_INVALID_ARGUMENT` (server kind). Unchanged on error.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_set_event_types(
    params: *mut hat_event_query_params_t,
    types: *const hat_event_event_type_view_t,
    count: usize,
) -> hat_event_status_t {
    // SAFETY: params is a live owned handle or NULL (and any other pointer as documented).
    unsafe {
        set_params(params, |p| {
            let slot = p.event_types_mut()?;
            *slot = if types.is_null() {
                if count != 0 {
                    return Err(FfiError::null("types"));
                }
                None
            } else {
                // SAFETY: types holds count readable views, as documented.
                Some(event_types_arg(types, count, "types")?)
            };
            Ok(())
        })
    }
}

/// If `event_types` is set, writes their number to `*out_count` (when not
/// NULL) and returns true; false if none is set, for the server kind and for NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_event_types(
    params: *const hat_event_query_params_t,
    out_count: *mut usize,
) -> bool {
    // SAFETY: params is a live handle or NULL (and any other pointer as documented).
    unsafe {
        get_params(params, false, |p| match p.and_then(QueryParams::event_types) {
            Some(types) => {
                if !out_count.is_null() {
                    // SAFETY: out_count is non-NULL and writable, as documented.
                    (out_count.write(types.len()));
                }
                true
            }
            None => false,
        })
    }
}

/// Event type `index` of `event_types`, borrowed: valid until the params are
/// modified or destroyed; NULL if out of range, unset or NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_event_type(
    params: *const hat_event_query_params_t,
    index: usize,
) -> *const hat_event_event_type_t {
    // SAFETY: params is a live handle or NULL (and any other pointer as documented).
    unsafe {
        get_params(params, std::ptr::null(), |p| {
            p.and_then(QueryParams::event_types)
                .and_then(|types| types.get(index))
                .map_or(std::ptr::null(), borrowed_handle)
        })
    }
}

/// # Safety
/// As for `set_params`; `t` is NULL or readable.
unsafe fn set_timeseries_timestamp(
    params: *mut hat_event_query_params_t,
    t: *const hat_event_timestamp_t,
    field: &'static str,
    slot: fn(&mut QueryTimeseriesParams) -> &mut Option<Timestamp>,
) -> hat_event_status_t {
    // SAFETY: params is a live owned handle or NULL (and any other pointer as documented).
    unsafe {
        set_params(params, |p| {
            // SAFETY: t is NULL or readable, as documented on every timestamp setter.
            let value = opt_timestamp_arg(t, field)?;
            *slot(p.timeseries_mut(field)?) = value;
            Ok(())
        })
    }
}

/// # Safety
/// As for `get_params`; `out` is NULL or writable.
unsafe fn get_timeseries_timestamp(
    params: *const hat_event_query_params_t,
    out: *mut hat_event_timestamp_t,
    field: fn(&QueryTimeseriesParams) -> Option<Timestamp>,
) -> bool {
    // SAFETY: params is a live handle or NULL; out is NULL or writable, as documented on every timestamp getter.
    unsafe {
        get_params(params, false, |p| write_opt_timestamp(p.and_then(QueryParams::timeseries).and_then(field), out))
    }
}

/// Sets `t_from` (timeseries only; inclusive lower bound on timestamp);
/// `t == NULL` unsets it. Errors: `HAT_EVENT_ERR_NULL_ARGUMENT` (params),
/// `HAT_EVENT_ERR_OUT_OF_RANGE`, `HAT_EVENT_ERR_INVALID_ARGUMENT` (kind).
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_set_t_from(
    params: *mut hat_event_query_params_t,
    t: *const hat_event_timestamp_t,
) -> hat_event_status_t {
    // SAFETY: params is a live owned handle or NULL and t NULL or readable, as documented.
    unsafe { set_timeseries_timestamp(params, t, "t_from", |q| &mut q.t_from) }
}

/// Sets `t_to` (timeseries only; inclusive upper bound on timestamp); as
/// `hat_event_query_params_set_t_from`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_set_t_to(
    params: *mut hat_event_query_params_t,
    t: *const hat_event_timestamp_t,
) -> hat_event_status_t {
    // SAFETY: params is a live owned handle or NULL and t NULL or readable, as documented.
    unsafe { set_timeseries_timestamp(params, t, "t_to", |q| &mut q.t_to) }
}

/// Sets `source_t_from` (timeseries only); as `hat_event_query_params_set_t_from`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_set_source_t_from(
    params: *mut hat_event_query_params_t,
    t: *const hat_event_timestamp_t,
) -> hat_event_status_t {
    // SAFETY: params is a live owned handle or NULL and t NULL or readable, as documented.
    unsafe { set_timeseries_timestamp(params, t, "source_t_from", |q| &mut q.source_t_from) }
}

/// Sets `source_t_to` (timeseries only); as `hat_event_query_params_set_t_from`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_set_source_t_to(
    params: *mut hat_event_query_params_t,
    t: *const hat_event_timestamp_t,
) -> hat_event_status_t {
    // SAFETY: params is a live owned handle or NULL and t NULL or readable, as documented.
    unsafe { set_timeseries_timestamp(params, t, "source_t_to", |q| &mut q.source_t_to) }
}

/// If `t_from` is set, writes it to `*out` (when not NULL) and returns true.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_get_t_from(
    params: *const hat_event_query_params_t,
    out: *mut hat_event_timestamp_t,
) -> bool {
    // SAFETY: params is a live handle or NULL and out NULL or writable, as documented.
    unsafe { get_timeseries_timestamp(params, out, |q| q.t_from) }
}

/// If `t_to` is set, writes it to `*out` (when not NULL) and returns true.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_get_t_to(
    params: *const hat_event_query_params_t,
    out: *mut hat_event_timestamp_t,
) -> bool {
    // SAFETY: params is a live handle or NULL and out NULL or writable, as documented.
    unsafe { get_timeseries_timestamp(params, out, |q| q.t_to) }
}

/// If `source_t_from` is set, writes it to `*out` (when not NULL) and returns true.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_get_source_t_from(
    params: *const hat_event_query_params_t,
    out: *mut hat_event_timestamp_t,
) -> bool {
    // SAFETY: params is a live handle or NULL and out NULL or writable, as documented.
    unsafe { get_timeseries_timestamp(params, out, |q| q.source_t_from) }
}

/// If `source_t_to` is set, writes it to `*out` (when not NULL) and returns true.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_get_source_t_to(
    params: *const hat_event_query_params_t,
    out: *mut hat_event_timestamp_t,
) -> bool {
    // SAFETY: params is a live handle or NULL and out NULL or writable, as documented.
    unsafe { get_timeseries_timestamp(params, out, |q| q.source_t_to) }
}

/// Sets the result order (timeseries only).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`; `HAT_EVENT_ERR_INVALID_ARGUMENT`
/// for an unknown `order` or another kind.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_set_order(
    params: *mut hat_event_query_params_t,
    order: hat_event_order_t,
) -> hat_event_status_t {
    // SAFETY: params is a live owned handle or NULL (and any other pointer as documented).
    unsafe {
        set_params(params, |p| {
            let order = match order {
                HAT_EVENT_ORDER_DESCENDING => Order::Descending,
                HAT_EVENT_ORDER_ASCENDING => Order::Ascending,
                other => return Err(FfiError::invalid(format!("unknown order {other}"))),
            };
            p.timeseries_mut("order")?.order = order;
            Ok(())
        })
    }
}

/// The result order; `HAT_EVENT_ORDER_DESCENDING` (the default) for other
/// kinds and NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_order(params: *const hat_event_query_params_t) -> hat_event_order_t {
    // SAFETY: params is a live handle or NULL (and any other pointer as documented).
    unsafe {
        get_params(params, HAT_EVENT_ORDER_DESCENDING, |p| match p.and_then(QueryParams::timeseries).map(|q| q.order) {
            Some(Order::Ascending) => HAT_EVENT_ORDER_ASCENDING,
            _ => HAT_EVENT_ORDER_DESCENDING,
        })
    }
}

/// Sets which timestamp orders and filters (timeseries only).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`; `HAT_EVENT_ERR_INVALID_ARGUMENT`
/// for an unknown `order_by` or another kind.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_set_order_by(
    params: *mut hat_event_query_params_t,
    order_by: hat_event_order_by_t,
) -> hat_event_status_t {
    // SAFETY: params is a live owned handle or NULL (and any other pointer as documented).
    unsafe {
        set_params(params, |p| {
            let order_by = match order_by {
                HAT_EVENT_ORDER_BY_TIMESTAMP => OrderBy::Timestamp,
                HAT_EVENT_ORDER_BY_SOURCE_TIMESTAMP => OrderBy::SourceTimestamp,
                other => return Err(FfiError::invalid(format!("unknown order_by {other}"))),
            };
            p.timeseries_mut("order_by")?.order_by = order_by;
            Ok(())
        })
    }
}

/// Which timestamp orders; `HAT_EVENT_ORDER_BY_TIMESTAMP` (the default) for
/// other kinds and NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_order_by(
    params: *const hat_event_query_params_t,
) -> hat_event_order_by_t {
    // SAFETY: params is a live handle or NULL (and any other pointer as documented).
    unsafe {
        get_params(params, HAT_EVENT_ORDER_BY_TIMESTAMP, |p| {
            match p.and_then(QueryParams::timeseries).map(|q| q.order_by) {
                Some(OrderBy::SourceTimestamp) => HAT_EVENT_ORDER_BY_SOURCE_TIMESTAMP,
                _ => HAT_EVENT_ORDER_BY_TIMESTAMP,
            }
        })
    }
}

/// Sets `max_results` (timeseries and server); `max_results == NULL` unsets it.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT` (params), `HAT_EVENT_ERR_INVALID_ARGUMENT` (latest).
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_set_max_results(
    params: *mut hat_event_query_params_t,
    max_results: *const i64,
) -> hat_event_status_t {
    // SAFETY: params is a live owned handle or NULL (and any other pointer as documented).
    unsafe {
        set_params(params, |p| {
            // SAFETY: NULL or readable, as documented.
            let value = (max_results.as_ref()).copied();
            *p.paging_mut("max_results")?.0 = value;
            Ok(())
        })
    }
}

/// If `max_results` is set, writes it to `*out` (when not NULL) and returns true.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_max_results(
    params: *const hat_event_query_params_t,
    out: *mut i64,
) -> bool {
    // SAFETY: params is a live handle or NULL (and any other pointer as documented).
    unsafe {
        get_params(params, false, |p| match p.map_or((None, None), QueryParams::paging).0 {
            Some(v) => {
                if !out.is_null() {
                    // SAFETY: non-NULL and writable, as documented.
                    (out.write(v));
                }
                true
            }
            None => false,
        })
    }
}

/// Sets `last_event_id` (timeseries and server: continue after this event);
/// `id == NULL` unsets it.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT` (params), `HAT_EVENT_ERR_INVALID_ARGUMENT` (latest).
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_set_last_event_id(
    params: *mut hat_event_query_params_t,
    id: *const hat_event_event_id_t,
) -> hat_event_status_t {
    // SAFETY: params is a live owned handle or NULL (and any other pointer as documented).
    unsafe {
        set_params(params, |p| {
            // SAFETY: NULL or readable, as documented.
            let value = (id.as_ref()).map(|id| EventId::from(*id));
            *p.paging_mut("last_event_id")?.1 = value;
            Ok(())
        })
    }
}

/// If `last_event_id` is set, writes it to `*out` (when not NULL) and returns true.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_last_event_id(
    params: *const hat_event_query_params_t,
    out: *mut hat_event_event_id_t,
) -> bool {
    // SAFETY: params is a live handle or NULL (and any other pointer as documented).
    unsafe {
        get_params(params, false, |p| match p.map_or((None, None), QueryParams::paging).1 {
            Some(id) => {
                if !out.is_null() {
                    // SAFETY: non-NULL and writable, as documented.
                    (out.write(id.into()));
                }
                true
            }
            None => false,
        })
    }
}

/// The server id of server-kind params; 0 for other kinds and NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_server_id(params: *const hat_event_query_params_t) -> i64 {
    // SAFETY: params is a live handle or NULL (and any other pointer as documented).
    unsafe {
        get_params(params, 0, |p| match p {
            Some(QueryParams::Server(q)) => q.server_id,
            _ => 0,
        })
    }
}

/// Sets `persisted` (server only: return only events already persisted).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_ARGUMENT` (kind).
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_set_persisted(
    params: *mut hat_event_query_params_t,
    persisted: bool,
) -> hat_event_status_t {
    // SAFETY: params is a live owned handle or NULL (and any other pointer as documented).
    unsafe {
        set_params(params, |p| match p {
            QueryParams::Server(q) => {
                q.persisted = persisted;
                Ok(())
            }
            _ => Err(p.no_field("persisted").into()),
        })
    }
}

/// `persisted` of server-kind params; false for other kinds and NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_params_persisted(params: *const hat_event_query_params_t) -> bool {
    // SAFETY: params is a live handle or NULL (and any other pointer as documented).
    unsafe { get_params(params, false, |p| matches!(p, Some(QueryParams::Server(q)) if q.persisted)) }
}

/// Creates an empty query result with the given `more_follows`. The caller
/// owns `*out`. Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_result_create(
    more_follows: bool,
    out: *mut *mut hat_event_query_result_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        out.write(new_handle(QueryResult { events: Default::default(), more_follows }));
        Ok(())
    })
}

/// Copies a query result into a new owned handle: a new list of the same
/// (shared, immutable) events.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_result_clone(
    result: *const hat_event_query_result_t,
    out: *mut *mut hat_event_query_result_t,
) -> hat_event_status_t {
    // SAFETY: a live handle or NULL and a writable out or NULL, as documented.
    unsafe { clone_handle(result, out, "result") }
}

/// Releases a query result and the events in it; NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_result_destroy(result: *mut hat_event_query_result_t) {
    // SAFETY: an owned handle or NULL, not used again, as documented.
    guard_value((), || unsafe { free_handle(result) })
}

/// Appends `event` (a new reference, not a copy: the caller keeps its own).
/// Events borrowed from this result before the call may be invalidated.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_result_append(
    result: *mut hat_event_query_result_t,
    event: *const hat_event_event_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: live handles or NULL, as documented.
        let (result, event) = unsafe { (handle_mut(result, "result")?, shared_arc(event, "event")?) };
        std::sync::Arc::make_mut(&mut result.events).push(event);
        Ok(())
    })
}

/// Sets `more_follows`. Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_result_set_more_follows(
    result: *mut hat_event_query_result_t,
    more_follows: bool,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: a live owned handle or NULL, as documented.
        unsafe { handle_mut(result, "result") }?.more_follows = more_follows;
        Ok(())
    })
}

/// The number of events; 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_result_len(result: *const hat_event_query_result_t) -> usize {
    // SAFETY: a live handle or NULL, as documented.
    guard_value(0, || unsafe { handle_opt(result) }.map_or(0, |r| r.events.len()))
}

/// Event `index`, borrowed: valid until the result is modified or destroyed;
/// NULL if out of range or NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_result_event(
    result: *const hat_event_query_result_t,
    index: usize,
) -> *const hat_event_event_t {
    guard_value(std::ptr::null(), || {
        // SAFETY: a live handle or NULL, as documented.
        unsafe { handle_opt(result) }.and_then(|r| r.events.get(index)).map_or(std::ptr::null(), borrowed_shared)
    })
}

/// `more_follows`: true if the query has more results than returned; false for NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_result_more_follows(result: *const hat_event_query_result_t) -> bool {
    // SAFETY: a live handle or NULL, as documented.
    guard_value(false, || unsafe { handle_opt(result) }.is_some_and(|r| r.more_follows))
}

/// True if both are non-NULL and equal.
#[no_mangle]
pub unsafe extern "C" fn hat_event_query_result_equal(
    a: *const hat_event_query_result_t,
    b: *const hat_event_query_result_t,
) -> bool {
    // SAFETY: live handles or NULL, as documented.
    unsafe { super::event::equal_handles(a, b) }
}
