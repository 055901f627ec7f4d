//! The C boundary: status codes, the thread-local last error, panic
//! catching, and the checked conversions of raw pointers. Every exported
//! function runs its body through `guard_status` or `guard_value`, and
//! turns raw pointers into references only through the helpers here.

use std::cell::RefCell;
use std::ffi::{c_char, c_void, CString};
use std::mem::MaybeUninit;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::error::Error;

/// Status returned by every fallible function: `HAT_EVENT_OK` (0) or one of
/// the `HAT_EVENT_ERR_*` codes. A fixed-width integer, not an enum, so that
/// values coming back from C are never trusted as Rust enums. On failure,
/// `hat_event_last_error_message()` describes what went wrong.
pub type hat_event_status_t = u32;

/// Success.
pub const HAT_EVENT_OK: hat_event_status_t = 0;
/// A pointer argument that must not be NULL was NULL.
pub const HAT_EVENT_ERR_NULL_ARGUMENT: hat_event_status_t = 1;
/// A string argument was not valid UTF-8.
pub const HAT_EVENT_ERR_INVALID_UTF8: hat_event_status_t = 2;
/// A value lies outside its allowed range (timestamp overflow,
/// microseconds >= 1000000, a calendar field, an index, ...).
pub const HAT_EVENT_ERR_OUT_OF_RANGE: hat_event_status_t = 3;
/// An argument is well-formed but not acceptable here (an unknown enum
/// code, a setter applied to the wrong kind of query, a wrong length).
pub const HAT_EVENT_ERR_INVALID_ARGUMENT: hat_event_status_t = 4;
/// JSON text could not be parsed.
pub const HAT_EVENT_ERR_INVALID_JSON: hat_event_status_t = 5;
/// Text does not follow its grammar (e.g. an RFC 3339 timestamp).
pub const HAT_EVENT_ERR_PARSE: hat_event_status_t = 6;
/// A caller-supplied buffer is too small for the result.
pub const HAT_EVENT_ERR_BUFFER_TOO_SMALL: hat_event_status_t = 7;
/// Bytes are not a valid SBS encoding of the expected type (truncated,
/// overlong or out-of-range integer, bad length or choice index, invalid
/// UTF-8, trailing bytes, ...); the message names the problem and its byte
/// offset.
pub const HAT_EVENT_ERR_DECODE: hat_event_status_t = 8;
/// Eventer client: connecting, reading or writing failed at the socket
/// level (refused connection, reset, unresolvable host).
pub const HAT_EVENT_ERR_IO: hat_event_status_t = 20;
/// Eventer client: nothing arrived in time (connect, init, a response, a
/// ping).
pub const HAT_EVENT_ERR_TIMEOUT: hat_event_status_t = 21;
/// The object is closed: an eventer client's connection (by the server,
/// after an error, or by `hat_event_client_close`; the message says why),
/// or an engine after `hat_event_engine_close`.
pub const HAT_EVENT_ERR_CLOSED: hat_event_status_t = 22;
/// Eventer client: the server broke the protocol (a malformed or oversized
/// frame, an unexpected message).
pub const HAT_EVENT_ERR_PROTOCOL: hat_event_status_t = 23;
/// Eventer client: the server refused the client's init request (e.g. an
/// invalid client token); the message carries the server's text.
pub const HAT_EVENT_ERR_REFUSED: hat_event_status_t = 24;
/// A plug-in could not be imported: an unknown name, a shared library that
/// cannot be loaded, a missing symbol, a wrong ABI version or struct size;
/// the message names the cause.
pub const HAT_EVENT_ERR_IMPORT: hat_event_status_t = 25;
/// A plug-in's configuration does not follow its JSON schema (the message
/// is the validator's), or a plug-in's schema cannot validate at all (its
/// id is not in its repository, or it does not compile), found when the
/// plug-in is registered or imported.
pub const HAT_EVENT_ERR_SCHEMA: hat_event_status_t = 26;
/// A plug-in (backend or module) reported a failure; the message carries
/// the one it set with `hat_event_plugin_set_error`.
pub const HAT_EVENT_ERR_PLUGIN: hat_event_status_t = 27;
/// The call would deadlock: an engine's `register` from inside one of its
/// sessions on the same thread, or `query` from inside a backend callback.
pub const HAT_EVENT_ERR_REENTRANT: hat_event_status_t = 28;
/// A bug inside the library was caught at the boundary (a Rust panic).
/// Out-parameters are untouched; the library stays usable.
pub const HAT_EVENT_ERR_INTERNAL: hat_event_status_t = 100;

/// A failure on its way to C: the status to return and the message to record.
/// Boxed so that `FfiResult<&str>` stays two words on the hot path.
#[derive(Debug)]
pub(crate) struct FfiError(Box<FfiErrorInner>);

#[derive(Debug)]
pub(crate) struct FfiErrorInner {
    pub(crate) status: hat_event_status_t,
    pub(crate) message: String,
}

impl std::ops::Deref for FfiError {
    type Target = FfiErrorInner;

    fn deref(&self) -> &FfiErrorInner {
        &self.0
    }
}

pub(crate) type FfiResult<T> = Result<T, FfiError>;

impl FfiError {
    #[cold]
    pub(crate) fn new(status: hat_event_status_t, message: impl Into<String>) -> FfiError {
        FfiError(Box::new(FfiErrorInner { status, message: message.into() }))
    }

    pub(crate) fn null(name: &str) -> FfiError {
        FfiError::new(HAT_EVENT_ERR_NULL_ARGUMENT, format!("argument {name} is NULL"))
    }

    pub(crate) fn invalid(message: impl Into<String>) -> FfiError {
        FfiError::new(HAT_EVENT_ERR_INVALID_ARGUMENT, message)
    }

    /// Names element `index` of array argument `name` in the message
    /// ("argument x" becomes "argument x[3]"). Applied on the error path
    /// only, so that checking arrays formats nothing when all is well.
    #[cold]
    pub(crate) fn at_index(self, name: &str, index: usize) -> FfiError {
        let message = self.message.replacen(&format!("argument {name}"), &format!("argument {name}[{index}]"), 1);
        FfiError::new(self.status, message)
    }
}

impl From<Error> for FfiError {
    fn from(e: Error) -> FfiError {
        let status = match e {
            Error::OutOfRange(_) => HAT_EVENT_ERR_OUT_OF_RANGE,
            Error::InvalidArgument(_) => HAT_EVENT_ERR_INVALID_ARGUMENT,
            Error::InvalidJson(_) => HAT_EVENT_ERR_INVALID_JSON,
            Error::Parse(_) => HAT_EVENT_ERR_PARSE,
        };
        FfiError::new(status, e.to_string())
    }
}

impl From<crate::sbs::SbsError> for FfiError {
    fn from(e: crate::sbs::SbsError) -> FfiError {
        use crate::sbs::SbsError;
        let status = match e {
            SbsError::InvalidJson { .. } | SbsError::UnencodableJson(_) => HAT_EVENT_ERR_INVALID_JSON,
            _ => HAT_EVENT_ERR_DECODE,
        };
        FfiError::new(status, e.to_string())
    }
}

thread_local! {
    static LAST_ERROR: RefCell<(hat_event_status_t, CString)> =
        RefCell::new((HAT_EVENT_OK, CString::default()));
}

fn record(status: hat_event_status_t, message: &str) {
    let message = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    LAST_ERROR.with(|last| *last.borrow_mut() = (status, message));
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("unknown panic");
    format!("internal error in hat_event (please report): {what}")
}

/// Runs the body of a status-returning function: an `Err` becomes its
/// status and the thread's last error; a panic becomes `HAT_EVENT_ERR_INTERNAL`.
pub(crate) fn guard_status(body: impl FnOnce() -> FfiResult<()>) -> hat_event_status_t {
    guard_status_inline(body)
}

/// [`guard_status`] inlined into its caller, for the hottest calls (a
/// subscription match): LLVM left each instance out of line, and the call
/// cost its caller's arguments spilled to the stack and read back, about
/// 20 instructions.
#[inline(always)]
pub(crate) fn guard_status_inline(body: impl FnOnce() -> FfiResult<()>) -> hat_event_status_t {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => HAT_EVENT_OK,
        Ok(Err(e)) => {
            record(e.status, &e.message);
            e.status
        }
        Err(payload) => {
            record(HAT_EVENT_ERR_INTERNAL, &panic_message(payload.as_ref()));
            HAT_EVENT_ERR_INTERNAL
        }
    }
}

/// Runs the body of an infallible getter; a panic records the last error
/// and returns `fallback`.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(payload) => {
            record(HAT_EVENT_ERR_INTERNAL, &panic_message(payload.as_ref()));
            fallback
        }
    }
}

/// A static, NUL-terminated name of `status` (e.g. `"HAT_EVENT_ERR_NULL_ARGUMENT:
/// argument is NULL"`); unknown codes give `"unknown status"`. Never NULL,
/// never freed. Thread-safe.
#[no_mangle]
pub extern "C" fn hat_event_status_str(status: hat_event_status_t) -> *const c_char {
    let s: &'static [u8] = match status {
        HAT_EVENT_OK => b"HAT_EVENT_OK: success\0",
        HAT_EVENT_ERR_NULL_ARGUMENT => b"HAT_EVENT_ERR_NULL_ARGUMENT: a required pointer argument is NULL\0",
        HAT_EVENT_ERR_INVALID_UTF8 => b"HAT_EVENT_ERR_INVALID_UTF8: a string is not valid UTF-8\0",
        HAT_EVENT_ERR_OUT_OF_RANGE => b"HAT_EVENT_ERR_OUT_OF_RANGE: a value is out of range\0",
        HAT_EVENT_ERR_INVALID_ARGUMENT => b"HAT_EVENT_ERR_INVALID_ARGUMENT: an argument is not acceptable\0",
        HAT_EVENT_ERR_INVALID_JSON => b"HAT_EVENT_ERR_INVALID_JSON: invalid JSON text\0",
        HAT_EVENT_ERR_PARSE => b"HAT_EVENT_ERR_PARSE: text does not follow its grammar\0",
        HAT_EVENT_ERR_BUFFER_TOO_SMALL => b"HAT_EVENT_ERR_BUFFER_TOO_SMALL: the output buffer is too small\0",
        HAT_EVENT_ERR_DECODE => b"HAT_EVENT_ERR_DECODE: malformed SBS input\0",
        HAT_EVENT_ERR_IO => b"HAT_EVENT_ERR_IO: a socket operation failed\0",
        HAT_EVENT_ERR_TIMEOUT => b"HAT_EVENT_ERR_TIMEOUT: the operation timed out\0",
        HAT_EVENT_ERR_CLOSED => b"HAT_EVENT_ERR_CLOSED: the connection or engine is closed\0",
        HAT_EVENT_ERR_PROTOCOL => b"HAT_EVENT_ERR_PROTOCOL: the peer broke the eventer protocol\0",
        HAT_EVENT_ERR_REFUSED => b"HAT_EVENT_ERR_REFUSED: the server refused the client\0",
        HAT_EVENT_ERR_IMPORT => b"HAT_EVENT_ERR_IMPORT: a plug-in could not be imported\0",
        HAT_EVENT_ERR_SCHEMA => b"HAT_EVENT_ERR_SCHEMA: a configuration does not follow its schema\0",
        HAT_EVENT_ERR_PLUGIN => b"HAT_EVENT_ERR_PLUGIN: a plug-in reported a failure\0",
        HAT_EVENT_ERR_REENTRANT => b"HAT_EVENT_ERR_REENTRANT: a re-entrant call would deadlock\0",
        HAT_EVENT_ERR_INTERNAL => b"HAT_EVENT_ERR_INTERNAL: internal error in hat_event\0",
        _ => b"unknown status\0",
    };
    s.as_ptr().cast()
}

/// The message of the last failure of a `hat_event_*` call on the calling
/// thread, NUL-terminated UTF-8 (`""` if none failed yet). Owned by the
/// library: valid until the next failing call on this thread; copy it to
/// keep it. Successful calls leave it unchanged. Never NULL.
#[no_mangle]
pub extern "C" fn hat_event_last_error_message() -> *const c_char {
    guard_value(c"".as_ptr(), || LAST_ERROR.with(|last| last.borrow().1.as_ptr()))
}

/// The status of the last failure on the calling thread (`HAT_EVENT_OK` if
/// none failed yet); pairs with `hat_event_last_error_message()`.
#[no_mangle]
pub extern "C" fn hat_event_last_error_status() -> hat_event_status_t {
    guard_value(HAT_EVENT_ERR_INTERNAL, || LAST_ERROR.with(|last| last.borrow().0))
}

/// A borrowed UTF-8 string: `len` bytes at `ptr`, not NUL-terminated.
/// `ptr` may be NULL only when `len` is 0. Strings passed in are checked for
/// UTF-8 (`HAT_EVENT_ERR_INVALID_UTF8`); strings handed out are always UTF-8
/// and live as long as the handle they were read from.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct hat_event_str_t {
    pub ptr: *const c_char,
    pub len: usize,
}

/// Borrowed bytes: `len` bytes at `ptr`; `ptr` may be NULL only when `len` is 0.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct hat_event_bytes_t {
    pub ptr: *const u8,
    pub len: usize,
}

impl hat_event_str_t {
    pub(crate) fn from_str(s: &str) -> hat_event_str_t {
        hat_event_str_t { ptr: s.as_ptr().cast(), len: s.len() }
    }

    pub(crate) const EMPTY: hat_event_str_t = hat_event_str_t { ptr: std::ptr::null(), len: 0 };
}

impl hat_event_bytes_t {
    pub(crate) fn from_slice(b: &[u8]) -> hat_event_bytes_t {
        hat_event_bytes_t { ptr: b.as_ptr(), len: b.len() }
    }

    pub(crate) const EMPTY: hat_event_bytes_t = hat_event_bytes_t { ptr: std::ptr::null(), len: 0 };
}

/// A view of a NUL-terminated C string (its length found with `strlen`);
/// `{NULL, 0}` for NULL. A convenience for string literals; the view
/// borrows `s`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_str_from_cstr(s: *const c_char) -> hat_event_str_t {
    guard_value(hat_event_str_t::EMPTY, || {
        if s.is_null() {
            return hat_event_str_t::EMPTY;
        }
        // SAFETY: the caller passes a NUL-terminated string, as documented.
        let len = unsafe { std::ffi::CStr::from_ptr(s) }.to_bytes().len();
        hat_event_str_t { ptr: s, len }
    })
}

/// A slice from a C pointer and count; NULL is accepted only for count 0.
///
/// # Safety
/// Unless NULL, `ptr` points to `len` initialised `T`s that outlive `'a`.
pub(crate) unsafe fn slice_arg<'a, T>(ptr: *const T, len: usize, name: &str) -> FfiResult<&'a [T]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(FfiError::null(name));
    }
    // SAFETY: non-NULL, and the caller vouches for `len` elements.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// The bytes of a view, NULL-checked.
///
/// # Safety
/// As for [`slice_arg`].
pub(crate) unsafe fn bytes_arg<'a>(view: hat_event_bytes_t, name: &str) -> FfiResult<&'a [u8]> {
    // SAFETY: forwarded from the caller.
    unsafe { slice_arg(view.ptr, view.len, name) }
}

/// The text of a view, NULL- and UTF-8-checked.
///
/// # Safety
/// As for [`slice_arg`].
pub(crate) unsafe fn str_arg<'a>(view: hat_event_str_t, name: &str) -> FfiResult<&'a str> {
    // SAFETY: forwarded from the caller.
    let bytes = unsafe { slice_arg(view.ptr.cast::<u8>(), view.len, name) }?;
    // Event types are nearly always ASCII: check that inline, word at a time.
    if bytes.is_ascii() {
        // SAFETY: ASCII is valid UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).map_err(|e| {
        FfiError::new(
            HAT_EVENT_ERR_INVALID_UTF8,
            format!("argument {name} is not valid UTF-8 (at byte {})", e.valid_up_to()),
        )
    })
}

/// An out-parameter, NULL-checked before any work is done so that nothing
/// is built (and leaked) for a result that cannot be delivered.
///
/// # Safety
/// Unless NULL, `ptr` is valid for writing a `T` (it need not be initialised).
pub(crate) unsafe fn out_arg<'a, T>(ptr: *mut T, name: &str) -> FfiResult<&'a mut MaybeUninit<T>> {
    // SAFETY: MaybeUninit<T> has T's layout; writability is the caller's promise.
    unsafe { ptr.cast::<MaybeUninit<T>>().as_mut() }.ok_or_else(|| FfiError::null(name))
}

/// How a handle type owns its value (rustls-ffi's `Castable::Ownership`).
///
/// [`Boxed`]: an owned handle is a `Box` (released by its `_destroy`);
/// a borrowed handle points into a value Rust owns (a field of another
/// handle's value) and is never released by C.
pub(crate) struct Boxed;

/// [`Counted`]: the value is immutable and reference-counted. Every
/// pointer of the handle type, owned or borrowed, points into an `Arc`
/// allocation: an owned handle is one strong count (`Arc::into_raw`),
/// `_clone` adds a count and returns the same pointer, `_destroy` drops
/// one; a borrowed handle points into an `Arc` some other holder keeps
/// alive. So any handle can be cloned in O(1), and values cross the
/// plug-in boundary without copies.
pub(crate) struct Counted;

/// Ties an opaque C handle type to the Rust value behind it and to how it
/// owns it ([`Boxed`] or [`Counted`]).
pub(crate) trait Opaque: Sized {
    type Inner;
    type Ownership;
}

/// Makes an owned handle the way its ownership says, for code generic over
/// handle types (the SBS decoders).
pub(crate) trait Ownership {
    fn make<H: Opaque<Ownership = Self>>(value: H::Inner) -> *mut H;
}

impl Ownership for Boxed {
    fn make<H: Opaque<Ownership = Self>>(value: H::Inner) -> *mut H {
        new_handle(value)
    }
}

impl Ownership for Counted {
    fn make<H: Opaque<Ownership = Self>>(value: H::Inner) -> *mut H {
        new_shared(Arc::new(value))
    }
}

/// An owned handle to a new `value`, boxed or counted as `H` is.
pub(crate) fn owned_handle<H: Opaque>(value: H::Inner) -> *mut H
where
    H::Ownership: Ownership,
{
    H::Ownership::make::<H>(value)
}

/// Moves `value` to the heap and hands C the pointer; freed by [`free_handle`].
pub(crate) fn new_handle<H: Opaque<Ownership = Boxed>>(value: H::Inner) -> *mut H {
    Box::into_raw(Box::new(value)).cast()
}

/// A pointer to a value owned by Rust, given out as a borrowed handle.
pub(crate) fn borrowed_handle<H: Opaque<Ownership = Boxed>>(value: &H::Inner) -> *const H {
    (value as *const H::Inner).cast()
}

/// Hands C one strong count of `value` as an owned handle; released by
/// [`free_shared`].
pub(crate) fn new_shared<H: Opaque<Ownership = Counted>>(value: Arc<H::Inner>) -> *mut H {
    Arc::into_raw(value).cast_mut().cast()
}

/// A borrowed handle to a value in an `Arc` that the caller keeps alive.
pub(crate) fn borrowed_shared<H: Opaque<Ownership = Counted>>(value: &Arc<H::Inner>) -> *const H {
    Arc::as_ptr(value).cast()
}

/// The `Arc` behind a counted handle (owned or borrowed), as a new strong
/// count: the O(1) `_clone`. NULL-checked.
///
/// # Safety
/// Unless NULL, `ptr` came from [`new_shared`] or [`borrowed_shared`] for
/// the same `H` and is still alive.
pub(crate) unsafe fn shared_arc<H: Opaque<Ownership = Counted>>(ptr: *const H, name: &str) -> FfiResult<Arc<H::Inner>> {
    if ptr.is_null() {
        return Err(FfiError::null(name));
    }
    let ptr = ptr.cast::<H::Inner>();
    // SAFETY: ptr points into a live Arc allocation (the Counted invariant):
    // add a count, then take ownership of exactly that count.
    Ok(unsafe {
        Arc::increment_strong_count(ptr);
        Arc::from_raw(ptr)
    })
}

/// The `Arc`s behind `count` counted handles (new strong counts; nothing
/// is copied), NULL-checked, naming the index of a NULL element.
///
/// # Safety
/// `items` holds `count` handles (NULL only if `count` is 0), each NULL or
/// as for [`shared_arc`].
pub(crate) unsafe fn shared_arcs_arg<H: Opaque<Ownership = Counted>>(
    items: *const *const H,
    count: usize,
    name: &str,
) -> FfiResult<Vec<Arc<H::Inner>>> {
    // SAFETY: forwarded from the caller.
    let ptrs = unsafe { slice_arg(items, count, name) }?;
    ptrs.iter()
        .enumerate()
        // SAFETY: each is a live handle or NULL, forwarded from the caller.
        .map(|(i, p)| unsafe { shared_arc(*p, name) }.map_err(|e| e.at_index(name, i)))
        .collect()
}

/// Releases one strong count given out by [`new_shared`]; NULL is ignored.
///
/// # Safety
/// Unless NULL, `ptr` came from [`new_shared`] (or a `_clone`) for the same
/// `H` and this count is not used again.
pub(crate) unsafe fn free_shared<H: Opaque<Ownership = Counted>>(ptr: *mut H) {
    if !ptr.is_null() {
        // SAFETY: the count taken by Arc::into_raw in new_shared.
        drop(unsafe { Arc::from_raw(ptr.cast_const().cast::<H::Inner>()) });
    }
}

/// The value behind a handle, NULL-checked.
///
/// # Safety
/// Unless NULL, `ptr` came from [`new_handle`], [`borrowed_handle`],
/// [`new_shared`] or [`borrowed_shared`] for the same `H` and is still
/// alive for `'a`.
pub(crate) unsafe fn handle_arg<'a, H: Opaque>(ptr: *const H, name: &str) -> FfiResult<&'a H::Inner> {
    // SAFETY: forwarded from the caller; the cast undoes the one that made the handle.
    unsafe { ptr.cast::<H::Inner>().as_ref() }.ok_or_else(|| FfiError::null(name))
}

/// The value behind a handle for a getter: `None` for NULL.
///
/// # Safety
/// As for [`handle_arg`].
pub(crate) unsafe fn handle_opt<'a, H: Opaque>(ptr: *const H) -> Option<&'a H::Inner> {
    // SAFETY: forwarded from the caller.
    unsafe { ptr.cast::<H::Inner>().as_ref() }
}

/// The value behind an owned, mutable handle, NULL-checked.
///
/// # Safety
/// Unless NULL, `ptr` came from [`new_handle`] for the same `H`, is alive,
/// and no other reference to it is in use.
pub(crate) unsafe fn handle_mut<'a, H: Opaque<Ownership = Boxed>>(
    ptr: *mut H,
    name: &str,
) -> FfiResult<&'a mut H::Inner> {
    // SAFETY: forwarded from the caller.
    unsafe { ptr.cast::<H::Inner>().as_mut() }.ok_or_else(|| FfiError::null(name))
}

/// Frees a handle made by [`new_handle`]; NULL is ignored.
///
/// # Safety
/// Unless NULL, `ptr` came from [`new_handle`] for the same `H` and is not
/// used again.
pub(crate) unsafe fn free_handle<H: Opaque<Ownership = Boxed>>(ptr: *mut H) {
    if !ptr.is_null() {
        // SAFETY: the pointer came from Box::into_raw in new_handle.
        drop(unsafe { Box::from_raw(ptr.cast::<H::Inner>()) });
    }
}

/// Releases a `user_data` the caller handed to the library (the optional
/// `finalize_user_data` slot of the plug-in infos, the engine hooks and the
/// client options): called exactly once, with that `user_data`, once the
/// library no longer uses it, including when the call that received it
/// fails (each struct's documentation says when). It may run on any thread;
/// it must not call back into the object being released.
pub type hat_event_finalize_user_data_t = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// A caller's `user_data` the library owns: its finalizer runs once, when
/// the last holder drops it (share it with `Arc`).
pub(crate) struct OwnedUserData {
    ptr: *mut c_void,
    finalize: hat_event_finalize_user_data_t,
}

// SAFETY: the documented contract of every struct carrying a user_data: it
// and its finalizer may be used from any thread.
unsafe impl Send for OwnedUserData {}
// SAFETY: as above; the library only passes the pointer on.
unsafe impl Sync for OwnedUserData {}

impl OwnedUserData {
    pub(crate) fn new(ptr: *mut c_void, finalize: hat_event_finalize_user_data_t) -> OwnedUserData {
        OwnedUserData { ptr, finalize }
    }

    pub(crate) fn ptr(&self) -> *mut c_void {
        self.ptr
    }
}

impl Drop for OwnedUserData {
    fn drop(&mut self) {
        if let Some(f) = self.finalize {
            // SAFETY: the caller's finalizer for its own user_data, called once (this is Drop).
            unsafe { f(self.ptr) };
        }
    }
}

/// A struct the caller fills that starts its growth at a `struct_size`
/// field (Win32's `cbSize`): each release may append slots; a caller built
/// against an older header declares an older, smaller size.
///
/// # Safety
/// All-zero bytes are a valid value of the type (every field is an integer,
/// a float, a bool, a raw pointer, a view or an `Option` of a function).
pub(crate) unsafe trait GrowingStruct: Copy {
    /// The C name, for messages.
    const NAME: &'static str;
    /// `sizeof` of each released layout, oldest first; the last is the
    /// current `size_of::<Self>()`.
    const LAYOUTS: &'static [usize];
}

/// How many bytes of a caller's `T` declaring `declared` bytes the library
/// reads: the largest released layout not larger than `declared`. Below the
/// first released layout, and above the current one (a newer header whose
/// slots this library cannot honour), the struct is refused.
pub(crate) fn known_prefix<T: GrowingStruct>(declared: usize, what: &str) -> FfiResult<usize> {
    let first = T::LAYOUTS[0];
    let current = std::mem::size_of::<T>();
    if declared < first {
        return Err(FfiError::invalid(format!(
            "{what}struct_size is {declared}; the smallest {} this library reads has {first} bytes",
            T::NAME
        )));
    }
    if declared > current {
        return Err(FfiError::invalid(format!(
            "{what}struct_size is {declared}, more than sizeof({}) = {current} here: built against a newer header",
            T::NAME
        )));
    }
    Ok(T::LAYOUTS.iter().copied().filter(|&l| l <= declared).max().unwrap_or(first))
}

/// [`read_growing`] for a struct carrying a `user_data` with its finalizer:
/// from a successful read on, the returned guard owns it. A struct refused
/// for a size above the current one has its finalizer where ours is: it is
/// run before the error returns. Below the first layout nothing is known to
/// be a finalizer, and nothing is run.
///
/// # Safety
/// As for [`read_growing`].
pub(crate) unsafe fn take_growing<T: GrowingStruct>(
    ptr: *const T,
    declared: usize,
    what: &str,
    user_data: impl Fn(&T) -> (*mut c_void, hat_event_finalize_user_data_t),
) -> FfiResult<(T, OwnedUserData)> {
    // SAFETY: forwarded from the caller.
    match unsafe { read_growing(ptr, declared, what) } {
        Ok(value) => {
            let (p, f) = user_data(&value);
            Ok((value, OwnedUserData::new(p, f)))
        }
        Err(e) => {
            if declared > std::mem::size_of::<T>() {
                // SAFETY: more than size_of::<T>() bytes are readable, as the caller promises.
                let (p, f) = user_data(&unsafe { ptr.read() });
                drop(OwnedUserData::new(p, f));
            }
            Err(e)
        }
    }
}

/// [`take_growing`] for the structs whose first field is their `size_t
/// struct_size` (the engine and backend-instance hooks, the client
/// options): the declared size is read there. NULL gives `None`, with no
/// `user_data` to finalise.
///
/// # Safety
/// `T`'s first field is its `struct_size: usize` (each such struct asserts
/// it at compile time); unless NULL, `ptr` is as for [`read_growing`] with
/// that field's value as `declared`.
pub(crate) unsafe fn take_sized<T: GrowingStruct>(
    ptr: *const T,
    what: &str,
    user_data: impl Fn(&T) -> (*mut c_void, hat_event_finalize_user_data_t),
) -> FfiResult<(Option<T>, OwnedUserData)> {
    if ptr.is_null() {
        return Ok((None, OwnedUserData::new(std::ptr::null_mut(), None)));
    }
    // SAFETY: non-NULL, and its first field, a usize, is readable (the caller's promise).
    let declared = unsafe { ptr.cast::<usize>().read() };
    // SAFETY: forwarded from the caller.
    unsafe { take_growing(ptr, declared, what, user_data) }.map(|(value, owned)| (Some(value), owned))
}

/// A copy of the first `known_prefix(declared)` bytes of `*ptr`, the slots
/// after them absent (zero). Nothing beyond `declared` bytes is read.
///
/// # Safety
/// `ptr` is aligned for `T` and at least `declared` bytes from it are
/// readable (they are when `declared` is the caller's `struct_size`).
pub(crate) unsafe fn read_growing<T: GrowingStruct>(ptr: *const T, declared: usize, what: &str) -> FfiResult<T> {
    let n = known_prefix::<T>(declared, what)?;
    let mut value = MaybeUninit::<T>::zeroed();
    // SAFETY: n <= declared bytes are readable at ptr and n <= size_of::<T>() fit in value.
    unsafe { std::ptr::copy_nonoverlapping(ptr.cast::<u8>(), value.as_mut_ptr().cast::<u8>(), n) };
    // SAFETY: zero is valid for every field (GrowingStruct), and the copied
    // bytes are whole fields of a T the caller wrote.
    Ok(unsafe { value.assume_init() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn last_message() -> String {
        // SAFETY: the library returns a NUL-terminated string valid until the next failure.
        unsafe { CStr::from_ptr(hat_event_last_error_message()) }.to_str().unwrap().to_owned()
    }

    #[test]
    fn a_panic_becomes_an_internal_status_and_a_message() {
        let status = guard_status(|| panic!("boom"));
        assert_eq!(status, HAT_EVENT_ERR_INTERNAL);
        assert_eq!(hat_event_last_error_status(), HAT_EVENT_ERR_INTERNAL);
        assert!(last_message().contains("boom"), "{}", last_message());
        assert_eq!(guard_value(7, || -> i32 { panic!("again") }), 7);
        assert!(last_message().contains("again"));
    }

    #[test]
    fn an_error_sets_status_and_message_and_success_keeps_them() {
        assert_eq!(guard_status(|| Err(FfiError::null("x"))), HAT_EVENT_ERR_NULL_ARGUMENT);
        assert_eq!(last_message(), "argument x is NULL");
        assert_eq!(guard_status(|| Ok(())), HAT_EVENT_OK);
        assert_eq!(last_message(), "argument x is NULL");
    }

    #[test]
    fn last_error_is_per_thread() {
        guard_status(|| Err(FfiError::invalid("here")));
        std::thread::spawn(|| assert_eq!(last_message(), "")).join().unwrap();
        assert_eq!(last_message(), "here");
    }

    #[test]
    fn messages_with_nul_bytes_are_kept_visible() {
        guard_status(|| Err(FfiError::invalid("a\0b")));
        assert_eq!(last_message(), "a\\0b");
    }

    #[test]
    fn every_status_has_a_name() {
        for s in [0, 1, 2, 3, 4, 5, 6, 7, 8, 20, 21, 22, 23, 24, 100] {
            // SAFETY: hat_event_status_str returns static NUL-terminated strings.
            let name = unsafe { CStr::from_ptr(hat_event_status_str(s)) }.to_str().unwrap();
            assert!(name.starts_with("HAT_EVENT_"), "{s}: {name}");
        }
        // SAFETY: as above.
        assert_eq!(unsafe { CStr::from_ptr(hat_event_status_str(12345)) }.to_str().unwrap(), "unknown status");
    }

    #[test]
    fn invalid_utf8_names_the_argument_and_byte() {
        let bad = b"ab\xff";
        let view = hat_event_str_t { ptr: bad.as_ptr().cast(), len: bad.len() };
        // SAFETY: the view describes a live local array.
        let err = unsafe { str_arg(view, "name") }.unwrap_err();
        assert_eq!(err.status, HAT_EVENT_ERR_INVALID_UTF8);
        assert_eq!(err.message, "argument name is not valid UTF-8 (at byte 2)");
        let null = hat_event_str_t { ptr: std::ptr::null(), len: 1 };
        // SAFETY: NULL is checked before any read.
        assert_eq!(unsafe { str_arg(null, "name") }.unwrap_err().status, HAT_EVENT_ERR_NULL_ARGUMENT);
        // SAFETY: len 0 never reads.
        assert_eq!(unsafe { str_arg(hat_event_str_t::EMPTY, "name") }.unwrap(), "");
    }
}
