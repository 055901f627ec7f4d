//! Library-owned output bytes (JSON text now; encoded messages later).

use super::boundary::{free_handle, handle_opt, Boxed, Opaque};

/// Bytes produced by the library (e.g. JSON text). Owned by the caller once
/// returned; release with `hat_event_buffer_destroy`. The data is always
/// followed by one NUL byte not counted in the length, so text can be used
/// as a C string directly.
pub struct hat_event_buffer_t {
    _private: [u8; 0],
}

/// The Rust side of a buffer: the content plus the trailing NUL.
pub(crate) struct Buffer(Vec<u8>);

impl Buffer {
    pub(crate) fn new(mut content: Vec<u8>) -> Buffer {
        content.push(0);
        Buffer(content)
    }
}

impl Opaque for hat_event_buffer_t {
    type Inner = Buffer;
    type Ownership = Boxed;
}

/// The bytes of `buffer` (NUL-terminated; the NUL is not part of the
/// length); valid until the buffer is destroyed. NULL for a NULL buffer.
#[no_mangle]
pub unsafe extern "C" fn hat_event_buffer_data(buffer: *const hat_event_buffer_t) -> *const u8 {
    // SAFETY: the caller passes a live buffer handle or NULL.
    match unsafe { handle_opt(buffer) } {
        Some(b) => b.0.as_ptr(),
        None => std::ptr::null(),
    }
}

/// The number of bytes in `buffer`, not counting the trailing NUL; 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn hat_event_buffer_len(buffer: *const hat_event_buffer_t) -> usize {
    // SAFETY: the caller passes a live buffer handle or NULL.
    unsafe { handle_opt(buffer) }.map_or(0, |b| b.0.len() - 1)
}

/// Releases `buffer`; NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn hat_event_buffer_destroy(buffer: *mut hat_event_buffer_t) {
    // SAFETY: the caller passes an owned buffer handle or NULL, not used again.
    unsafe { free_handle(buffer) }
}
