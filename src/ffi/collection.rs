//! Event-type collections in C, and the reusable value buffer `get` fills.

use super::boundary::{
    free_handle, guard_status, guard_value, handle_arg, handle_mut, handle_opt, hat_event_status_t, hat_event_str_t,
    new_handle, out_arg, Boxed, FfiError, Opaque,
};
use super::event_type::{checked_types, hat_event_event_type_t, hat_event_event_type_view_t, with_probe};
use super::subscription::hat_event_subscription_t;
use crate::collection::{AnyCollection, Collection, CollectionKind};

/// Which collection implementation (`HAT_EVENT_COLLECTION_*`).
pub type hat_event_collection_kind_t = u32;
/// Hash table of literal query types plus a wildcard trie: the fast one.
pub const HAT_EVENT_COLLECTION_TREE: hat_event_collection_kind_t = 0;
/// A linear list of (value, subscription): a simple reference.
pub const HAT_EVENT_COLLECTION_LIST: hat_event_collection_kind_t = 1;

/// A map from subscriptions to caller values (`uint64_t`; store a pointer
/// as `(uint64_t)(uintptr_t)ptr`). The collection never dereferences or
/// frees values. Thread-safety: `hat_event_collection_get` may run on
/// several threads at once (each with its own values buffer); `_add`,
/// `_remove` and `_destroy` need exclusive access — use a read-write lock
/// if other threads may be reading.
pub struct hat_event_collection_t {
    _private: [u8; 0],
}

impl Opaque for hat_event_collection_t {
    type Inner = AnyCollection;
    type Ownership = Boxed;
}

/// A growable array of values owned by the library and reused across
/// `hat_event_collection_get` calls, so that routing allocates nothing once
/// it has grown. Release with `hat_event_values_destroy`. One thread at a time.
pub struct hat_event_values_t {
    _private: [u8; 0],
}

impl Opaque for hat_event_values_t {
    type Inner = Vec<u64>;
    type Ownership = Boxed;
}

/// Creates an empty collection of the given kind. The caller owns `*out`.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`; `HAT_EVENT_ERR_INVALID_ARGUMENT`
/// for an unknown kind.
#[no_mangle]
pub unsafe extern "C" fn hat_event_collection_create(
    kind: hat_event_collection_kind_t,
    out: *mut *mut hat_event_collection_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        let kind = match kind {
            HAT_EVENT_COLLECTION_TREE => CollectionKind::Tree,
            HAT_EVENT_COLLECTION_LIST => CollectionKind::List,
            other => return Err(FfiError::invalid(format!("unknown collection kind {other}"))),
        };
        out.write(new_handle(AnyCollection::new(kind)));
        Ok(())
    })
}

/// Releases a collection; NULL is ignored. Values are not touched.
#[no_mangle]
pub unsafe extern "C" fn hat_event_collection_destroy(collection: *mut hat_event_collection_t) {
    // SAFETY: an owned handle or NULL, not used again, as documented.
    guard_value((), || unsafe { free_handle(collection) })
}

/// Adds `subscription` for `value`; if `value` is already present, its
/// subscription becomes the union of both. The subscription's query types
/// are copied; the caller keeps its handle.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_collection_add(
    collection: *mut hat_event_collection_t,
    subscription: *const hat_event_subscription_t,
    value: u64,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: live handles or NULL, as documented.
        let (collection, subscription) =
            unsafe { (handle_mut(collection, "collection")?, handle_arg(subscription, "subscription")?) };
        collection.add(subscription, value);
        Ok(())
    })
}

/// Removes `value` and its subscription; an absent value is ignored.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_collection_remove(
    collection: *mut hat_event_collection_t,
    value: u64,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: a live handle or NULL, as documented.
        unsafe { handle_mut(collection, "collection") }?.remove(value);
        Ok(())
    })
}

/// Replaces the content of `out_values` with every value whose subscription
/// matches `event_type` (`len` segments), each once, in no particular order.
/// Allocates nothing once `out_values` has grown (for up to 16 segments).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_UTF8`
/// (`out_values` is unchanged on error).
#[no_mangle]
pub unsafe extern "C" fn hat_event_collection_get(
    collection: *const hat_event_collection_t,
    event_type: *const hat_event_str_t,
    len: usize,
    out_values: *mut hat_event_values_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: live handles or NULL, as documented; out_values is used by one thread.
        let (collection, values) =
            unsafe { (handle_arg(collection, "collection")?, handle_mut(out_values, "out_values")?) };
        // SAFETY: event_type holds len readable views, as documented.
        unsafe { with_probe(event_type, len, "event_type", |probe, et| collection.get_probe(probe, et, values)) }
    })
}

/// As `hat_event_collection_get`, for an event type handle (from
/// `hat_event_event_type_create`, or borrowed from a decoded event with
/// `hat_event_event_get_type`): already checked, and its table hash was
/// computed when it was made, so nothing is validated or hashed again.
/// The form for routing each received event to its subscribers.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT` (`out_values` is unchanged).
#[no_mangle]
pub unsafe extern "C" fn hat_event_collection_get_type(
    collection: *const hat_event_collection_t,
    event_type: *const hat_event_event_type_t,
    out_values: *mut hat_event_values_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: live handles or NULL, as documented; out_values is used by one thread.
        let (collection, event_type, values) = unsafe {
            (
                handle_arg(collection, "collection")?,
                handle_arg(event_type, "event_type")?,
                handle_mut(out_values, "out_values")?,
            )
        };
        collection.get_type(event_type, values);
        Ok(())
    })
}

/// Looks up `count` event types in one call: fills `out_values` with the
/// values of each in turn and `out_offsets` (`count + 1` entries, caller
/// owned) with where each one's values start, so that the values of
/// `event_types[i]` are `data[out_offsets[i] .. out_offsets[i + 1]]` of
/// `hat_event_values_data(out_values)` (each once, in no particular order).
/// Pays the boundary's per-call costs once, for callers behind an FFI.
/// Every event type is checked before anything is written.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_UTF8`
/// (the message names the event type and segment; the outputs are
/// unchanged on error).
#[no_mangle]
pub unsafe extern "C" fn hat_event_collection_get_many(
    collection: *const hat_event_collection_t,
    event_types: *const hat_event_event_type_view_t,
    count: usize,
    out_values: *mut hat_event_values_t,
    out_offsets: *mut usize,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: live handles or NULL, as documented; out_values is used by one thread.
        let (collection, values) =
            unsafe { (handle_arg(collection, "collection")?, handle_mut(out_values, "out_values")?) };
        if out_offsets.is_null() {
            return Err(FfiError::null("out_offsets"));
        }
        // SAFETY: event_types holds count readable views, as documented.
        let types = unsafe { checked_types(event_types, count, "event_types") }?;
        // SAFETY: non-NULL, and the caller provides count + 1 writable entries, as documented.
        let offsets = unsafe { std::slice::from_raw_parts_mut(out_offsets, count + 1) };
        values.clear();
        for (offset, et) in offsets.iter_mut().zip(&types) {
            *offset = values.len();
            collection.get_into(et, values);
        }
        offsets[count] = values.len();
        Ok(())
    })
}

/// Creates an empty values buffer. The caller owns `*out`.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_values_create(out: *mut *mut hat_event_values_t) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        out.write(new_handle(Vec::new()));
        Ok(())
    })
}

/// Releases a values buffer; NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn hat_event_values_destroy(values: *mut hat_event_values_t) {
    // SAFETY: an owned handle or NULL, not used again, as documented.
    guard_value((), || unsafe { free_handle(values) })
}

/// The number of values; 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_values_len(values: *const hat_event_values_t) -> usize {
    // SAFETY: a live handle or NULL, as documented.
    guard_value(0, || unsafe { handle_opt(values) }.map_or(0, Vec::len))
}

/// The values as an array of `hat_event_values_len(values)` elements, valid
/// until the buffer is next filled or destroyed; NULL for NULL (and possibly
/// for an empty buffer).
#[no_mangle]
pub unsafe extern "C" fn hat_event_values_data(values: *const hat_event_values_t) -> *const u64 {
    // SAFETY: a live handle or NULL, as documented.
    guard_value(std::ptr::null(), || unsafe { handle_opt(values) }.map_or(std::ptr::null(), |v| v.as_ptr()))
}
