//! Event types in C: segment views in, owned handles out, and matching.

use super::boundary::{
    free_handle, guard_status, guard_value, handle_arg, handle_opt, hat_event_status_t, hat_event_str_t, new_handle,
    out_arg, slice_arg, str_arg, Boxed, FfiResult, Opaque,
};
use crate::event_type::{matches_query_type, EventType};
use crate::type_index::{is_ascii_short, Probe, PROBE_BUF};

/// An event type (a sequence of UTF-8 segments). Created with
/// `hat_event_event_type_create`, or borrowed from an event, register
/// event, query or subscription. Immutable: safe to read from several
/// threads at once. The segments are shared, in one allocation: `_clone`
/// is O(1) (a new handle sharing them, never a copy of the strings), so a
/// type borrowed from an event can be kept cheaply without the event.
pub struct hat_event_event_type_t {
    _private: [u8; 0],
}

impl Opaque for hat_event_event_type_t {
    type Inner = EventType;
    type Ownership = Boxed;
}

/// A borrowed event type: `len` segment views at `segments` (NULL only if
/// `len` is 0). Used to pass lists of event types in one call.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct hat_event_event_type_view_t {
    pub segments: *const hat_event_str_t,
    pub len: usize,
}

/// The segments of a C event type, UTF-8-checked, borrowed.
///
/// # Safety
/// Unless NULL, `segments` points to `len` views of readable bytes.
pub(crate) unsafe fn segments_arg<'a>(
    segments: *const hat_event_str_t,
    len: usize,
    name: &str,
) -> FfiResult<Vec<&'a str>> {
    // SAFETY: forwarded from the caller.
    Ok(unsafe { checked_segments(segments, len, name) }?.iter().map(AsRef::as_ref).collect())
}

/// A segment view already checked by [`checked_segments`] or [`with_probe`] (non-NULL unless
/// empty, valid UTF-8), readable as `&str` without checking again.
/// Transparent over the C view so that a checked array of views is used in
/// place, without copying. Never constructed elsewhere; not `Clone`.
#[repr(transparent)]
pub(crate) struct CheckedSegment(hat_event_str_t);

impl AsRef<str> for CheckedSegment {
    #[inline]
    fn as_ref(&self) -> &str {
        if self.0.len == 0 {
            return "";
        }
        // SAFETY: checked_segments or with_probe checked that the view points to `len` readable bytes of UTF-8, which the caller keeps alive for the call that borrows this.
        unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(self.0.ptr.cast::<u8>(), self.0.len)) }
    }
}

/// Views reinterpreted as checked segments, in place.
///
/// # Safety
/// Every view is empty or points to `len` readable bytes of UTF-8.
unsafe fn as_checked(views: &[hat_event_str_t]) -> &[CheckedSegment] {
    // SAFETY: CheckedSegment is a transparent wrapper of hat_event_str_t; the views are checked, as the caller promises.
    unsafe { &*(std::ptr::from_ref::<[hat_event_str_t]>(views) as *const [CheckedSegment]) }
}

/// The segments of a C event type, NULL- and UTF-8-checked in place (no
/// copy, no allocation): the hot path of matching and routing.
///
/// # Safety
/// As for [`segments_arg`]; the views and their bytes outlive `'a`.
pub(crate) unsafe fn checked_segments<'a>(
    segments: *const hat_event_str_t,
    len: usize,
    name: &str,
) -> FfiResult<&'a [CheckedSegment]> {
    // SAFETY: forwarded from the caller.
    let views = unsafe { slice_arg(segments, len, name) }?;
    for (i, view) in views.iter().enumerate() {
        if view.len == 0 {
            continue;
        }
        if !view.ptr.is_null() {
            // SAFETY: a non-NULL view of `len` readable bytes, as the caller promises.
            let bytes = unsafe { std::slice::from_raw_parts(view.ptr.cast::<u8>(), view.len) };
            if is_ascii_short(bytes) {
                continue;
            }
        }
        // The slow path names the problem: NULL, or where the UTF-8 breaks.
        // SAFETY: forwarded from the caller.
        unsafe { str_arg(*view, name) }.map_err(|e| e.at_index(name, i))?;
    }
    // SAFETY: every view was just checked.
    Ok(unsafe { as_checked(views) })
}

/// Runs `f` on the lookup probe and the checked segments of a C event
/// type, from one pass over the segments in the usual case (all ASCII):
/// the words the hash reads also show whether a byte is not ASCII.
/// Anything else (NULL, non-ASCII) is checked by [`checked_segments`],
/// which names the problem.
///
/// # Safety
/// As for [`segments_arg`].
#[inline(always)]
pub(crate) unsafe fn with_probe<R>(
    segments: *const hat_event_str_t,
    len: usize,
    name: &str,
    f: impl FnOnce(&Probe<'_>, &[CheckedSegment]) -> R,
) -> FfiResult<R> {
    // SAFETY: forwarded from the caller.
    let views = unsafe { slice_arg(segments, len, name) }?;
    let mut key = [0; PROBE_BUF];
    let mut probe = Probe::new(&mut key);
    let mut plain = true;
    for view in views {
        if !view.ptr.is_null() {
            // SAFETY: a non-NULL view of `len` readable bytes (any length, 0 included), as the caller promises.
            probe.push(unsafe { std::slice::from_raw_parts(view.ptr.cast::<u8>(), view.len) });
        } else if view.len == 0 {
            probe.push(&[]);
        } else {
            plain = false;
            break;
        }
    }
    let checked = if probe.finish() && plain {
        // SAFETY: every view is empty or non-NULL ASCII.
        unsafe { as_checked(views) }
    } else {
        // Not ASCII (the hash read every byte, so it stands once the
        // UTF-8 is checked), or a NULL view of non-zero length, where the
        // probe stopped: checked_segments refuses that, naming the problem.
        // SAFETY: forwarded from the caller.
        let checked = unsafe { checked_segments(segments, len, name) }?;
        debug_assert!(plain, "checked_segments accepted a NULL view");
        checked
    };
    // One call of `f`, so that it is inlined.
    Ok(f(&probe, checked))
}

/// Checked event types from C event type views (one allocation for the
/// list, none per type); the message of a failure names the type and the
/// segment.
///
/// # Safety
/// Unless NULL, `types` points to `len` views, each valid as for
/// [`segments_arg`], outliving `'a`.
pub(crate) unsafe fn checked_types<'a>(
    types: *const hat_event_event_type_view_t,
    len: usize,
    name: &str,
) -> FfiResult<Vec<&'a [CheckedSegment]>> {
    // SAFETY: forwarded from the caller.
    let views = unsafe { slice_arg(types, len, name) }?;
    views
        .iter()
        .enumerate()
        // SAFETY: each view describes readable segment views, forwarded from the caller.
        .map(|(i, v)| unsafe { checked_segments(v.segments, v.len, name) }.map_err(|e| e.at_index(name, i)))
        .collect()
}

/// An owned event type from C segment views.
///
/// # Safety
/// As for [`segments_arg`].
pub(crate) unsafe fn event_type_arg(segments: *const hat_event_str_t, len: usize, name: &str) -> FfiResult<EventType> {
    // SAFETY: forwarded from the caller.
    Ok(EventType::new(unsafe { checked_segments(segments, len, name) }?))
}

/// Owned event types from C event type views.
///
/// # Safety
/// Unless NULL, `types` points to `len` views, each valid as for [`segments_arg`].
pub(crate) unsafe fn event_types_arg(
    types: *const hat_event_event_type_view_t,
    len: usize,
    name: &str,
) -> FfiResult<Vec<EventType>> {
    // SAFETY: forwarded from the caller.
    let types = unsafe { checked_types(types, len, name) }?;
    Ok(types.iter().map(|t| EventType::new(t)).collect())
}

/// Creates an event type from `len` segments (copied; each checked for UTF-8).
/// The caller owns `*out` and releases it with `hat_event_event_type_destroy`.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_type_create(
    segments: *const hat_event_str_t,
    len: usize,
    out: *mut *mut hat_event_event_type_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: segments describe readable views, as documented.
        let event_type = unsafe { event_type_arg(segments, len, "segments") }?;
        out.write(new_handle(event_type));
        Ok(())
    })
}

/// A new owned handle to `event_type` (owned or borrowed). O(1): the new
/// handle shares the segments (event types are immutable and shared); a
/// new pointer, destroyed on its own with `hat_event_event_type_destroy`.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_type_clone(
    event_type: *const hat_event_event_type_t,
    out: *mut *mut hat_event_event_type_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: a live handle or NULL, as documented.
        let event_type = unsafe { handle_arg(event_type, "event_type") }?;
        out.write(new_handle(event_type.clone()));
        Ok(())
    })
}

/// Releases an event type made by `_create` or `_clone`; NULL is ignored.
/// Never pass a borrowed event type (one read from an event or a query).
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_type_destroy(event_type: *mut hat_event_event_type_t) {
    // SAFETY: an owned handle or NULL, not used again, as documented.
    guard_value((), || unsafe { free_handle(event_type) })
}

/// The number of segments; 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_type_len(event_type: *const hat_event_event_type_t) -> usize {
    // SAFETY: a live handle or NULL, as documented.
    guard_value(0, || unsafe { handle_opt(event_type) }.map_or(0, EventType::len))
}

/// Segment `index` as a view valid while `event_type` lives; `{NULL, 0}`
/// if `event_type` is NULL or `index` is out of range (an empty segment has
/// a non-NULL pointer).
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_type_segment(
    event_type: *const hat_event_event_type_t,
    index: usize,
) -> hat_event_str_t {
    guard_value(hat_event_str_t::EMPTY, || {
        // SAFETY: a live handle or NULL, as documented.
        unsafe { handle_opt(event_type) }
            .and_then(|t| t.get(index))
            .map_or(hat_event_str_t::EMPTY, hat_event_str_t::from_str)
    })
}

/// True if both are non-NULL and have equal segments.
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_type_equal(
    a: *const hat_event_event_type_t,
    b: *const hat_event_event_type_t,
) -> bool {
    guard_value(false, || {
        // SAFETY: live handles or NULL, as documented.
        match unsafe { (handle_opt(a), handle_opt(b)) } {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
    })
}

/// `*out_matches = ` whether the event type matches the query type, by the
/// reference's rules: `"?"` matches exactly one segment, a trailing `"*"`
/// matches zero or more, any other segment (including a `"*"` that is not
/// last) matches an equal segment; `()` matches only `()`. Thread-safe.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_matches_query_type(
    event_type: *const hat_event_str_t,
    event_type_len: usize,
    query_type: *const hat_event_str_t,
    query_type_len: usize,
    out_matches: *mut bool,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out_matches is NULL or writable, as documented.
        let out = unsafe { out_arg(out_matches, "out_matches") }?;
        // SAFETY: both arrays describe readable views, as documented.
        let event_type = unsafe { segments_arg(event_type, event_type_len, "event_type") }?;
        // SAFETY: as above.
        let query_type = unsafe { segments_arg(query_type, query_type_len, "query_type") }?;
        out.write(matches_query_type(&event_type, &query_type));
        Ok(())
    })
}
