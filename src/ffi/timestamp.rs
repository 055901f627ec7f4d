//! Timestamps in C: a plain value struct and the conversions of the core.

use std::ffi::c_char;

use super::boundary::{
    bytes_arg, guard_status, hat_event_bytes_t, hat_event_status_t, hat_event_str_t, out_arg, str_arg, FfiError,
    FfiResult, HAT_EVENT_ERR_BUFFER_TOO_SMALL,
};
use crate::timestamp::{DateTime, Timestamp};

/// Seconds since 1970-01-01 UTC (may be negative) and microseconds, which
/// must be in 0..999999: functions given a timestamp with `us >= 1000000`
/// return `HAT_EVENT_ERR_OUT_OF_RANGE`. A plain value; copy it freely.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct hat_event_timestamp_t {
    pub s: i64,
    pub us: u32,
}

/// A broken-down UTC calendar time. Valid ranges: year 1..9999, month 1..12,
/// day 1..(days in month), hour 0..23, minute 0..59, second 0..59 (no leap
/// seconds), microsecond 0..999999.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct hat_event_datetime_t {
    pub year: i32,
    pub month: i32,
    pub day: i32,
    pub hour: i32,
    pub minute: i32,
    pub second: i32,
    pub microsecond: i32,
}

/// Length of the 12-byte form of a timestamp.
pub const HAT_EVENT_TIMESTAMP_BYTES_LEN: usize = 12;

/// Buffer size that always fits `hat_event_timestamp_to_rfc3339` output
/// (27 characters plus the NUL).
pub const HAT_EVENT_TIMESTAMP_RFC3339_SIZE: usize = 28;

impl From<Timestamp> for hat_event_timestamp_t {
    fn from(t: Timestamp) -> hat_event_timestamp_t {
        hat_event_timestamp_t { s: t.s(), us: t.us() }
    }
}

/// A validated core timestamp from a C one.
pub(crate) fn timestamp_arg(t: hat_event_timestamp_t, name: &str) -> FfiResult<Timestamp> {
    Timestamp::new(t.s, t.us).map_err(|e| {
        let e = FfiError::from(e);
        FfiError::new(e.status, format!("argument {name}: {}", e.message))
    })
}

impl From<hat_event_datetime_t> for DateTime {
    fn from(dt: hat_event_datetime_t) -> DateTime {
        DateTime {
            year: dt.year,
            month: dt.month,
            day: dt.day,
            hour: dt.hour,
            minute: dt.minute,
            second: dt.second,
            microsecond: dt.microsecond,
        }
    }
}

impl From<DateTime> for hat_event_datetime_t {
    fn from(dt: DateTime) -> hat_event_datetime_t {
        hat_event_datetime_t {
            year: dt.year,
            month: dt.month,
            day: dt.day,
            hour: dt.hour,
            minute: dt.minute,
            second: dt.second,
            microsecond: dt.microsecond,
        }
    }
}

/// The smallest timestamp, `{INT64_MIN, 0}`.
#[no_mangle]
pub extern "C" fn hat_event_timestamp_min() -> hat_event_timestamp_t {
    Timestamp::MIN.into()
}

/// The largest timestamp, `{INT64_MAX, 999999}`.
#[no_mangle]
pub extern "C" fn hat_event_timestamp_max() -> hat_event_timestamp_t {
    Timestamp::MAX.into()
}

/// True if `t.us` is in 0..999999 (every `s` is valid).
#[no_mangle]
pub extern "C" fn hat_event_timestamp_is_valid(t: hat_event_timestamp_t) -> bool {
    Timestamp::new(t.s, t.us).is_ok()
}

/// Compares by `(s, us)`: negative if `a < b`, 0 if equal, positive if
/// `a > b`. Defined for any field values. Thread-safe.
#[no_mangle]
pub extern "C" fn hat_event_timestamp_compare(a: hat_event_timestamp_t, b: hat_event_timestamp_t) -> i32 {
    (a.s, a.us).cmp(&(b.s, b.us)) as i32
}

/// Writes the current UTC time, truncated to microseconds, to `*out`.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_timestamp_now(out: *mut hat_event_timestamp_t) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        out.write(Timestamp::now().into());
        Ok(())
    })
}

/// `*out = t + seconds`, as the reference's `Timestamp.add`: the fraction of
/// `seconds` is rounded half-to-even to microseconds.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`; `HAT_EVENT_ERR_OUT_OF_RANGE` for an
/// invalid `t`, a non-finite `seconds` or a result beyond 64-bit seconds.
#[no_mangle]
pub unsafe extern "C" fn hat_event_timestamp_add(
    t: hat_event_timestamp_t,
    seconds: f64,
    out: *mut hat_event_timestamp_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        out.write(timestamp_arg(t, "t")?.add(seconds)?.into());
        Ok(())
    })
}

/// Writes the 12-byte form of `t` to `out` (which must have room for
/// `HAT_EVENT_TIMESTAMP_BYTES_LEN` bytes): big-endian `s + 2^63` as u64,
/// then big-endian `us` as u32. Byte order equals timestamp order.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_OUT_OF_RANGE`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_timestamp_to_bytes(t: hat_event_timestamp_t, out: *mut u8) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or has room for 12 bytes, as documented.
        let out = unsafe { out_arg(out.cast::<[u8; HAT_EVENT_TIMESTAMP_BYTES_LEN]>(), "out") }?;
        out.write(timestamp_arg(t, "t")?.to_bytes());
        Ok(())
    })
}

/// Reads the 12-byte form (see `hat_event_timestamp_to_bytes`).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`; `HAT_EVENT_ERR_INVALID_ARGUMENT` if
/// `bytes.len != 12`; `HAT_EVENT_ERR_OUT_OF_RANGE` if the microseconds are
/// 1000000 or more.
#[no_mangle]
pub unsafe extern "C" fn hat_event_timestamp_from_bytes(
    bytes: hat_event_bytes_t,
    out: *mut hat_event_timestamp_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: the view describes readable bytes, as documented.
        let bytes = unsafe { bytes_arg(bytes, "bytes") }?;
        out.write(Timestamp::from_bytes(bytes)?.into());
        Ok(())
    })
}

/// `*out = t.s + t.us * 1e-6` in double arithmetic (as the reference).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_OUT_OF_RANGE`.
#[no_mangle]
pub unsafe extern "C" fn hat_event_timestamp_to_float(t: hat_event_timestamp_t, out: *mut f64) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        out.write(timestamp_arg(t, "t")?.to_float());
        Ok(())
    })
}

/// The timestamp of `seconds` since the epoch, computed exactly as the
/// reference's `timestamp_from_float` (so results agree with it bit for bit;
/// below -2^53 that includes its precision loss).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`; `HAT_EVENT_ERR_OUT_OF_RANGE` for
/// NaN, infinities and values outside the 64-bit seconds range.
#[no_mangle]
pub unsafe extern "C" fn hat_event_timestamp_from_float(
    seconds: f64,
    out: *mut hat_event_timestamp_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        out.write(Timestamp::from_float(seconds)?.into());
        Ok(())
    })
}

/// The UTC calendar time of `t`.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`; `HAT_EVENT_ERR_OUT_OF_RANGE` for an
/// invalid `t` or one outside years 1..9999.
#[no_mangle]
pub unsafe extern "C" fn hat_event_timestamp_to_datetime(
    t: hat_event_timestamp_t,
    out: *mut hat_event_datetime_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        out.write(timestamp_arg(t, "t")?.to_datetime()?.into());
        Ok(())
    })
}

/// The timestamp of a UTC calendar time; exact (the reference goes through a
/// float and can be a second off for times before 1970 or near year 9999).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`; `HAT_EVENT_ERR_OUT_OF_RANGE` naming
/// the first field outside its range.
#[no_mangle]
pub unsafe extern "C" fn hat_event_timestamp_from_datetime(
    dt: hat_event_datetime_t,
    out: *mut hat_event_timestamp_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        out.write(Timestamp::from_datetime(&dt.into())?.into());
        Ok(())
    })
}

/// Writes `t` as RFC 3339 UTC text with six fractional digits and a NUL,
/// e.g. `2024-01-02T03:04:05.000006Z`, into `buf` of `buf_size` bytes
/// (`HAT_EVENT_TIMESTAMP_RFC3339_SIZE` always suffices). If `out_len` is not
/// NULL it receives the text length without the NUL, on success and on
/// `HAT_EVENT_ERR_BUFFER_TOO_SMALL` alike (as `snprintf` returns it): the
/// buffer needed is `*out_len + 1` bytes.
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT` (buf); `HAT_EVENT_ERR_OUT_OF_RANGE`
/// for an invalid `t` or one outside years 1..9999 (`*out_len` untouched);
/// `HAT_EVENT_ERR_BUFFER_TOO_SMALL` (nothing written to `buf`; `*out_len`
/// set as above).
#[no_mangle]
pub unsafe extern "C" fn hat_event_timestamp_to_rfc3339(
    t: hat_event_timestamp_t,
    buf: *mut c_char,
    buf_size: usize,
    out_len: *mut usize,
) -> hat_event_status_t {
    guard_status(|| {
        if buf.is_null() {
            return Err(FfiError::null("buf"));
        }
        let text = timestamp_arg(t, "t")?.to_rfc3339()?;
        if !out_len.is_null() {
            // SAFETY: out_len is non-NULL and writable, as documented.
            unsafe { out_len.write(text.len()) };
        }
        if buf_size < text.len() + 1 {
            return Err(FfiError::new(
                HAT_EVENT_ERR_BUFFER_TOO_SMALL,
                format!(
                    "buf_size {buf_size} is too small: {} bytes needed (the text length, written to *out_len, plus the NUL)",
                    text.len() + 1
                ),
            ));
        }
        // SAFETY: buf is non-NULL with buf_size >= len + 1 writable bytes, as documented.
        let dst = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), text.len() + 1) };
        dst[..text.len()].copy_from_slice(text.as_bytes());
        dst[text.len()] = 0;
        Ok(())
    })
}

/// Parses RFC 3339 date-time text (`T`, `t` or space between date and time;
/// `Z`, `z` or a `+HH:MM`/`-HH:MM` offset; any number of fraction digits,
/// but digits past microseconds must be zero; no leap seconds).
/// Errors: `HAT_EVENT_ERR_NULL_ARGUMENT`, `HAT_EVENT_ERR_INVALID_UTF8`,
/// `HAT_EVENT_ERR_PARSE` (the message says where and why).
#[no_mangle]
pub unsafe extern "C" fn hat_event_timestamp_from_rfc3339(
    text: hat_event_str_t,
    out: *mut hat_event_timestamp_t,
) -> hat_event_status_t {
    guard_status(|| {
        // SAFETY: out is NULL or writable, as documented.
        let out = unsafe { out_arg(out, "out") }?;
        // SAFETY: the view describes readable bytes, as documented.
        let text = unsafe { str_arg(text, "text") }?;
        out.write(Timestamp::parse_rfc3339(text)?.into());
        Ok(())
    })
}

/// Copies an optional C timestamp argument (NULL means none).
///
/// # Safety
/// Unless NULL, `t` points to a readable timestamp.
pub(crate) unsafe fn opt_timestamp_arg(t: *const hat_event_timestamp_t, name: &str) -> FfiResult<Option<Timestamp>> {
    // SAFETY: forwarded from the caller.
    match unsafe { t.as_ref() } {
        Some(t) => Ok(Some(timestamp_arg(*t, name)?)),
        None => Ok(None),
    }
}
