//! Subscriptions in C: immutable, reference-counted handles.

use std::sync::Arc;

use super::boundary::{
    borrowed_handle, free_handle, free_shared, guard_status, guard_status_inline, guard_value, handle_arg, handle_opt,
    hat_event_status_t, hat_event_str_t, new_handle, new_shared, out_arg, slice_arg, Boxed, Counted, FfiError,
    FfiResult, Opaque,
};
use super::event_type::{checked_types, hat_event_event_type_t, hat_event_event_type_view_t, with_probe};
use crate::event_type::EventType;
use crate::subscription::Subscription;

/// An immutable set of query types. Thread-safe: share one handle between
/// threads freely (every function only reads it). `_clone` is cheap (a
/// reference count); each handle from `_create`, `_clone`, `_union` or
/// `_intersection` is released with `hat_event_subscription_destroy`.
pub struct hat_event_subscription_t {
    _private: [u8; 0],
}

impl Opaque for hat_event_subscription_t {
    type Inner = Subscription;
    type Ownership = Counted;
}

/// An owned list of event types (e.g. a subscription's query types).
/// Release with `hat_event_event_type_list_destroy`.
pub struct hat_event_event_type_list_t {
    _private: [u8; 0],
}

impl Opaque for hat_event_event_type_list_t {
    type Inner = Vec<EventType>;
    type Ownership = Boxed;
}

/// Creates a subscription from `count` query types (copied), sanitised as
/// the reference does: a trailing `"*"` absorbs everything below it,
/// duplicates vanish. The caller owns `*out`. No limit on segments per
/// type: no subscription or collection call recurses per segment, and
/// memory stays linear in the query types (about 300 bytes per segment at
/// most, for any call).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_UTF8`;
/// `HAT_EVENT_ERR_INVALID_ARGUMENT` ("invalid query event type") for a
/// `"*"` that is not last (unless an earlier `"*"` query type already covers
/// it, as in the reference).
#[no_mangle]
pub unsafe extern "C" fn hat_event_subscription_create(
    query_types: *const hat_event_event_type_view_t,
    count: usize,
    out: *mut *mut hat_event_subscription_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // Borrowed, checked in place: the subscription copies only what it keeps.
        // SAFETY: query_types holds count readable views, as documented.
        let query_types = unsafe { checked_types(query_types, count, "query_types") }?;
        out.write(new_shared(Arc::new(Subscription::from_slice(&query_types)?)));
        Ok(())
    })
}

/// A new reference to the same subscription: `*out` is the same pointer
/// and the caller owns one more reference (no copy is made).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_subscription_clone(
    subscription: *const hat_event_subscription_t,
    out: *mut *mut hat_event_subscription_t,
) -> hat_event_status_t {
    // SAFETY: a live handle or NULL and a writable out or NULL, as documented.
    unsafe { super::event::clone_shared(subscription, out, "subscription") }
}

/// Drops one reference (the subscription is freed with its last one);
/// NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn hat_event_subscription_destroy(subscription: *mut hat_event_subscription_t) {
    // SAFETY: an owned reference or NULL, not used again, as documented.
    guard_value((), || unsafe { free_shared(subscription) })
}

/// `*out_matches =` whether `event_type` (`len` segments) matches any of the
/// subscription's query types. Does not allocate for up to 16 segments.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_subscription_matches(
    subscription: *const hat_event_subscription_t,
    event_type: *const hat_event_str_t,
    len: usize,
    out_matches: *mut bool,
) -> hat_event_status_t {
    guard_status_inline(|| {
        // SAFETY: out_matches is NULL or writable, as documented.
        let out = unsafe { out_arg(out_matches, "out_matches") }?;
        // SAFETY: a live handle or NULL, as documented.
        let subscription = unsafe { handle_arg(subscription, "subscription") }?;
        // SAFETY: event_type holds len readable views, as documented.
        out.write(unsafe {
            with_probe(event_type, len, "event_type", |probe, et| subscription.matches_probe(probe, et))
        }?);
        Ok(())
    })
}

/// Matches `count` event types in one call (`out_matches[i]` for
/// `event_types[i]`): the per-call costs of the boundary are paid once,
/// which matters most to callers behind an FFI such as Python's cffi.
/// `out_matches` is written only if every event type is valid.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_UTF8`
/// (the message names the event type and segment).
#[no_mangle]
pub unsafe extern "C" fn hat_event_subscription_matches_many(
    subscription: *const hat_event_subscription_t,
    event_types: *const hat_event_event_type_view_t,
    count: usize,
    out_matches: *mut bool,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: a live handle or NULL, as documented.
        let subscription = unsafe { handle_arg(subscription, "subscription") }?;
        // SAFETY: event_types holds count readable views, as documented.
        let views = unsafe { slice_arg(event_types, count, "event_types") }?;
        if count > 0 && out_matches.is_null() {
            return Err(FfiError::null("out_matches"));
        }
        // Validate everything before writing anything.
        let mut results = Vec::with_capacity(count);
        for (i, v) in views.iter().enumerate() {
            // SAFETY: each view describes readable segment views, as documented.
            let m = unsafe {
                with_probe(v.segments, v.len, "event_types", |probe, et| subscription.matches_probe(probe, et))
            }
            .map_err(|e| e.at_index("event_types", i))?;
            results.push(m);
        }
        if count > 0 {
            // SAFETY: out_matches is non-NULL with room for count bools, as documented.
            unsafe { std::ptr::copy_nonoverlapping(results.as_ptr(), out_matches, count) };
        }
        Ok(())
    })
}

/// As `hat_event_subscription_matches`, for an event type handle (already
/// checked, so nothing is validated again: the fastest form for repeated use).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_subscription_matches_type(
    subscription: *const hat_event_subscription_t,
    event_type: *const hat_event_event_type_t,
    out_matches: *mut bool,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out_matches is NULL or writable, as documented.
        let out = unsafe { out_arg(out_matches, "out_matches") }?;
        // SAFETY: live handles or NULL, as documented.
        let (subscription, event_type) =
            unsafe { (handle_arg(subscription, "subscription")?, handle_arg(event_type, "event_type")?) };
        out.write(subscription.matches_type(event_type));
        Ok(())
    })
}

/// # Safety
/// `others` holds `count` live subscription handles (NULL only if `count` is 0).
unsafe fn others_arg<'a>(
    others: *const *const hat_event_subscription_t,
    count: usize,
) -> FfiResult<Vec<&'a Subscription>> {
    // SAFETY: forwarded from the caller.
    let ptrs = unsafe { slice_arg(others, count, "others") }?;
    ptrs.iter()
        .enumerate()
        // SAFETY: each is a live handle or NULL, forwarded from the caller.
        .map(|(i, p)| unsafe { handle_arg(*p, "others") }.map_err(|e| e.at_index("others", i)))
        .collect()
}

/// Shared body of union and intersection.
///
/// # Safety
/// `subscription` and the `count` pointers at `others` are live handles or
/// NULL; `out` is NULL or writable.
unsafe fn combine(
    subscription: *const hat_event_subscription_t,
    others: *const *const hat_event_subscription_t,
    count: usize,
    out: *mut *mut hat_event_subscription_t,
    op: fn(&Subscription, Vec<&Subscription>) -> Subscription,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: forwarded from the caller.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: forwarded from the caller.
        let (subscription, others) = unsafe { (handle_arg(subscription, "subscription")?, others_arg(others, count)?) };
        out.write(new_shared(Arc::new(op(subscription, others))));
        Ok(())
    })
}

/// A new subscription matching exactly what `subscription` or any of the
/// `count` subscriptions in `others` matches, in time and memory linear in
/// their query types. The caller owns `*out`.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT` (including any NULL in `others`).
#[no_mangle]
pub unsafe extern "C" fn hat_event_subscription_union(
    subscription: *const hat_event_subscription_t,
    others: *const *const hat_event_subscription_t,
    count: usize,
    out: *mut *mut hat_event_subscription_t,
) -> hat_event_status_t {
    // SAFETY: forwarded; the contract is documented above.
    unsafe { combine(subscription, others, count, out, |s, o| s.union(o)) }
}

/// A new subscription matching exactly the event types that `subscription`
/// and every one of the `count` subscriptions in `others` match. (This is
/// exact; hat-event's own intersection misses event types where a trailing
/// `"*"` must match nothing, e.g. `[('a',)] ∩ [('a','*')]`.) The caller owns `*out`.
/// Linear in the query types when either operand has no `"?"` or `"*"`;
/// otherwise bounded by the product of the operands' sizes, as the result
/// can be.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT` (including any NULL in `others`).
#[no_mangle]
pub unsafe extern "C" fn hat_event_subscription_intersection(
    subscription: *const hat_event_subscription_t,
    others: *const *const hat_event_subscription_t,
    count: usize,
    out: *mut *mut hat_event_subscription_t,
) -> hat_event_status_t {
    // SAFETY: forwarded; the contract is documented above.
    unsafe { combine(subscription, others, count, out, |s, o| s.intersection(o)) }
}

/// `*out_disjoint =` true exactly when no event type matches both
/// subscriptions. Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_subscription_isdisjoint(
    subscription: *const hat_event_subscription_t,
    other: *const hat_event_subscription_t,
    out_disjoint: *mut bool,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out_disjoint is NULL or writable, as documented.
        let out = unsafe { out_arg(out_disjoint, "out_disjoint") }?;
        // SAFETY: live handles or NULL, as documented.
        let (a, b) = unsafe { (handle_arg(subscription, "subscription")?, handle_arg(other, "other")?) };
        out.write(a.isdisjoint(b));
        Ok(())
    })
}

/// The sanitised query types, in no particular order, as a new list the
/// caller owns (release with `hat_event_event_type_list_destroy`).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_subscription_query_types(
    subscription: *const hat_event_subscription_t,
    out: *mut *mut hat_event_event_type_list_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: a live handle or NULL, as documented.
        let subscription = unsafe { handle_arg(subscription, "subscription") }?;
        out.write(new_handle(subscription.query_types()));
        Ok(())
    })
}

/// The number of sanitised query types; 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_subscription_len(subscription: *const hat_event_subscription_t) -> usize {
    // SAFETY: a live handle or NULL, as documented.
    guard_value(0, || unsafe { handle_opt(subscription) }.map_or(0, |s| s.len()))
}

/// The number of event types in `list`; 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_type_list_len(list: *const hat_event_event_type_list_t) -> usize {
    // SAFETY: a live handle or NULL, as documented.
    guard_value(0, || unsafe { handle_opt(list) }.map_or(0, Vec::len))
}

/// Event type `index` of `list`, borrowed: valid while the list lives; NULL
/// if out of range or NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_type_list_get(
    list: *const hat_event_event_type_list_t,
    index: usize,
) -> *const hat_event_event_type_t {
    guard_value(std::ptr::null(), || {
        // SAFETY: a live handle or NULL, as documented.
        unsafe { handle_opt(list) }.and_then(|l| l.get(index)).map_or(std::ptr::null(), borrowed_handle)
    })
}

/// Releases an event type list and the event types in it; NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn hat_event_event_type_list_destroy(list: *mut hat_event_event_type_list_t) {
    // SAFETY: an owned handle or NULL, not used again, as documented.
    guard_value((), || unsafe { free_handle(list) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::boundary::{HAT_EVENT_ERR_INVALID_UTF8, HAT_EVENT_OK};

    /// `hat_event_subscription_matches` on `segments` (raw bytes): its status and answer.
    fn c_matches(sub: &Arc<Subscription>, segments: &[&[u8]]) -> (hat_event_status_t, bool) {
        let handle: *mut hat_event_subscription_t = new_shared(sub.clone());
        let views: Vec<hat_event_str_t> =
            segments.iter().map(|s| hat_event_str_t { ptr: s.as_ptr().cast(), len: s.len() }).collect();
        let mut m = false;
        // SAFETY: a live handle, views of live bytes, a local out; the handle is released once.
        let status = unsafe {
            let status = hat_event_subscription_matches(handle, views.as_ptr(), views.len(), &mut m);
            free_shared(handle);
            status
        };
        (status, m)
    }

    #[test]
    fn the_c_fast_path_agrees_with_the_rust_path_at_every_length_and_position() {
        // Segment lengths 0-20 (around the 4-, 8- and 16-byte reads), after
        // prefixes that put the key's end on either side of what a probe
        // holds inline; ASCII and two-byte characters.
        let prefixes: Vec<Vec<String>> = vec![
            vec![],
            vec!["p".into()],
            vec!["p".repeat(100)],
            vec!["p".repeat(95)],
            (0..7).map(|i| format!("prefix {i:06}")).collect(),
        ];
        let segment = |n: usize, c: char| -> String { (0..n).map(|i| if i == n / 2 { c } else { 'a' }).collect() };
        let mut types: Vec<Vec<String>> = Vec::new();
        for p in &prefixes {
            for n in 0..=20 {
                for c in ['b', 'ž'] {
                    types.push([p.clone(), vec![segment(n, c)]].concat());
                    types.push([p.clone(), vec![segment(n, c), "end".into()]].concat());
                }
            }
        }
        let sub = Arc::new(Subscription::new(&types[..types.len() / 2]).unwrap());
        for t in &types {
            let bytes: Vec<&[u8]> = t.iter().map(|s| s.as_bytes()).collect();
            assert_eq!(c_matches(&sub, &bytes), (HAT_EVENT_OK, sub.matches(t)), "{t:?}");
            // One byte off anywhere in the last segment: not a member.
            let last = t.last().unwrap().as_bytes();
            for at in 0..last.len() {
                let mut changed = last.to_vec();
                if changed[at] == b'a' {
                    changed[at] = b'c';
                    let mut other = bytes.clone();
                    *other.last_mut().unwrap() = &changed;
                    assert_eq!(c_matches(&sub, &other), (HAT_EVENT_OK, false), "{t:?} at {at}");
                }
            }
        }
    }

    #[test]
    fn invalid_utf8_anywhere_in_a_view_is_refused() {
        let sub = Arc::new(Subscription::new([["a", "b"]]).unwrap());
        for n in 1..=20 {
            for at in 0..n {
                for bad in [0xff_u8, 0x80, 0xc3] {
                    let mut bytes = vec![b'a'; n];
                    bytes[at] = bad;
                    for segments in [vec![&bytes[..]], vec![b"a".as_slice(), &bytes[..]], vec![&bytes[..], b"b"]] {
                        assert_eq!(c_matches(&sub, &segments).0, HAT_EVENT_ERR_INVALID_UTF8, "length {n}, byte {at}");
                    }
                }
            }
        }
        // Valid non-ASCII is matched, not refused.
        let sub = Arc::new(Subscription::new([["a", "ž日本🎉"]]).unwrap());
        assert_eq!(c_matches(&sub, &["a".as_bytes(), "ž日本🎉".as_bytes()]), (HAT_EVENT_OK, true));
        assert_eq!(c_matches(&sub, &["a".as_bytes(), "ž日本".as_bytes()]), (HAT_EVENT_OK, false));
    }
}
