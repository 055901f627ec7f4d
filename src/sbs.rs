//! SBS ("simple binary serialization", the `hat-sbs` package): the wire
//! format of the Hat eventer protocol, for every type of the `HatEventer`
//! schema module (`hat.event.common.sbs_repo`).
//!
//! # Format
//!
//! - Integer: big-endian two's complement in 7-bit groups, one group a
//!   byte; the last byte has its top bit (0x80) set; the sign is bit 0x40 of
//!   the first group. Encoding uses the fewest groups (at most 10 for an
//!   `i64`).
//! - Float: 8 bytes, big-endian IEEE 754. Boolean: one byte, 0 or 1.
//! - String, Bytes: Integer byte length, then the bytes (UTF-8 for String).
//! - Array: Integer count, then the elements. Record: the fields in schema
//!   order. Choice: Integer index (0-based, schema order), then the chosen
//!   value. `Optional(T)` = Choice {none: None, value: T}. None: no bytes.
//!
//! Encoding gives the same bytes as the reference,
//! `sbs_repo.encode('HatEventer.<Type>', common.<type>_to_sbs(value))`,
//! including the JSON text of JSON payloads ([`crate::json::to_python_json`]).
//!
//! # Hostile input
//!
//! Decoding checks every byte it reads and fails with an [`SbsError`] that
//! names the byte offset; it never panics and never reads out of bounds.
//! Where the reference is lax we are strict (**Differs**):
//! - integers must use the fewest groups (a redundant leading `0x00` group
//!   before a group with bit 0x40 clear, or `0x7f` before one with bit 0x40
//!   set, is refused) and must fit in an `i64` (the reference's C
//!   serializer silently wraps, its Python one returns big ints);
//! - a Boolean byte other than 0 or 1 is refused (the reference reads any
//!   non-zero byte as true);
//! - timestamps with microseconds outside `0..1_000_000` are refused;
//! - [`decode_exact`] refuses trailing bytes (the reference ignores them);
//!   [`decode_prefix`] returns the consumed length instead.
//!
//! Allocation is bounded by the input: a length or count is checked against
//! the remaining input before anything is allocated (an array element takes
//! at least [`Sbs::MIN_LEN`] bytes, and at least one byte is assumed even for
//! element types that may take none). So the memory a decode holds stays
//! within a constant multiple of the input length: an element takes at most
//! about 40 times its smallest encoding in memory (a 3-byte `RegisterEvent`
//! is 120 bytes, a 1-byte empty string 24), and arrays nest at most three
//! deep in the schema (`MsgQueryRes` events, their types, the segments).
//! JSON payload text that is not already exactly what hat-event writes is
//! parsed by [`crate::json::Document`] (text hat-event wrote is only
//! checked): a node of 24 bytes for each value of at least one byte of
//! text, and token text at most six times as long as what it was read from
//! (a raw DEL becomes `\u007f`), so the worst cases are nested arrays
//! (`[[[...]]]`, a node and an open-container entry for each byte) and
//! one-digit arrays (`[0,0,...]`, a node for each two bytes). The corpus
//! replay (`tests/fuzz_corpus.rs`) fails any input above
//! `MEMORY_PER_BYTE` bytes per byte plus 16 KiB (see
//! `tests/fuzz_support/mod.rs` for the figures measured).
//!
//! Nesting: the `HatEventer` schema has no recursive types, so the depth of
//! decoding is fixed by the schema. The only unbounded nesting is inside
//! the JSON text of a JSON payload, which is read without recursion and
//! without a depth limit other than memory (the reference, limited by
//! Python's recursion limit, reads about 1,000 levels).
//!
//! JSON payload text is read as Python's `json.loads` reads it: lone
//! surrogate escapes (`"\ud800"`) are kept and written back as they are;
//! `NaN`, `Infinity`, `-Infinity` and numbers beyond a double decode but,
//! as in the reference, cannot be encoded ([`SbsError::UnencodableJson`]).

use std::sync::Arc;

use crate::event::{Event, EventId, EventPayload, RegisterEvent, ServerStatus};
use crate::event_type::{Builder, EventType};
use crate::json::JsonPayload;
use crate::query::{
    Order, OrderBy, QueryLatestParams, QueryParams, QueryResult, QueryServerParams, QueryTimeseriesParams,
};
use crate::timestamp::Timestamp;

/// The most bytes an `i64` takes as an SBS Integer.
pub const MAX_INTEGER_LEN: usize = 10;

/// Why bytes could not be decoded (or, for JSON payloads, a value encoded).
/// Every decode error carries the byte offset (from the start of the input)
/// of the item at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SbsError {
    /// The input ends inside the item that starts at `offset`.
    #[error("truncated input at byte {offset}")]
    Truncated { offset: usize },

    /// An Integer has a redundant leading group.
    #[error("overlong integer at byte {offset}")]
    OverlongInteger { offset: usize },

    /// An Integer does not fit in 64 bits.
    #[error("integer out of the 64-bit range at byte {offset}")]
    IntegerOutOfRange { offset: usize },

    /// A Boolean byte other than 0 or 1.
    #[error("invalid boolean byte {value} at byte {offset}")]
    InvalidBoolean { value: u8, offset: usize },

    /// A String or Bytes length that is negative or exceeds the remaining input.
    #[error("invalid length {length} at byte {offset} ({remaining} bytes remain)")]
    InvalidLength { length: i64, offset: usize, remaining: usize },

    /// An Array count that is negative or cannot fit in the remaining input.
    #[error("invalid array count {count} at byte {offset} ({remaining} bytes remain)")]
    InvalidCount { count: i64, offset: usize, remaining: usize },

    /// A Choice index outside the choice's alternatives.
    #[error("invalid choice index {index} for {type_name} at byte {offset}")]
    InvalidChoice { index: i64, type_name: &'static str, offset: usize },

    /// A String that is not UTF-8; `offset` is the first invalid byte.
    #[error("invalid UTF-8 in string at byte {offset}")]
    InvalidUtf8 { offset: usize },

    /// The text of a JSON payload (starting at `offset`) is not JSON text
    /// Python's `json.loads` reads; the message gives the byte offset
    /// within the text.
    #[error("invalid JSON in payload at byte {offset}: {message}")]
    InvalidJson { offset: usize, message: String },

    /// A well-formed value the type does not allow (such as timestamp
    /// microseconds of 1_000_000 or more).
    #[error("invalid {what} at byte {offset}: {message}")]
    InvalidValue { what: &'static str, offset: usize, message: String },

    /// Bytes are left after a complete value ([`decode_exact`] only).
    #[error("trailing bytes: {count} after byte {offset}")]
    TrailingBytes { count: usize, offset: usize },

    /// Encoding only: a JSON payload holds a value hat-event's JSON writer
    /// refuses (NaN, an infinity, a number beyond the range of a double).
    #[error("cannot encode JSON payload: {0}")]
    UnencodableJson(String),
}

impl SbsError {
    /// The byte offset the error refers to (None for encoding errors).
    pub fn offset(&self) -> Option<usize> {
        match *self {
            SbsError::Truncated { offset }
            | SbsError::OverlongInteger { offset }
            | SbsError::IntegerOutOfRange { offset }
            | SbsError::InvalidBoolean { offset, .. }
            | SbsError::InvalidLength { offset, .. }
            | SbsError::InvalidCount { offset, .. }
            | SbsError::InvalidChoice { offset, .. }
            | SbsError::InvalidUtf8 { offset }
            | SbsError::InvalidJson { offset, .. }
            | SbsError::InvalidValue { offset, .. }
            | SbsError::TrailingBytes { offset, .. } => Some(offset),
            SbsError::UnencodableJson(_) => None,
        }
    }
}

/// Result of an SBS operation.
pub type Result<T> = std::result::Result<T, SbsError>;

/// A type with an SBS encoding.
pub trait Sbs: Sized {
    /// The fewest bytes any value of the type encodes to; bounds array
    /// counts against the remaining input.
    const MIN_LEN: usize;

    /// Appends the encoding of `self` to `out`. On error `out` may hold a
    /// partial encoding.
    fn encode(&self, out: &mut Vec<u8>) -> Result<()>;

    /// Reads one value at the decoder's position.
    fn decode(d: &mut Decoder<'_>) -> Result<Self>;
}

/// The encoding of `value`.
pub fn encode_to_vec<T: Sbs>(value: &T) -> Result<Vec<u8>> {
    // Room for a typical event without regrowing.
    let mut out = Vec::with_capacity(256);
    value.encode(&mut out)?;
    Ok(out)
}

/// Decodes a value that must take all of `data`.
pub fn decode_exact<T: Sbs>(data: &[u8]) -> Result<T> {
    let mut d = Decoder::new(data);
    let value = T::decode(&mut d)?;
    d.finish()?;
    Ok(value)
}

/// Decodes a value at the start of `data`; returns it and the number of
/// bytes it took (anything after it is left alone).
pub fn decode_prefix<T: Sbs>(data: &[u8]) -> Result<(T, usize)> {
    let mut d = Decoder::new(data);
    let value = T::decode(&mut d)?;
    Ok((value, d.position()))
}

// ---------------------------------------------------------------------------
// Decoder

/// Reads SBS items from a byte slice, front to back.
#[derive(Clone, Debug)]
pub struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    pub fn new(data: &'a [u8]) -> Decoder<'a> {
        Decoder { data, pos: 0 }
    }

    /// Offset of the next byte to read.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// Fails with [`SbsError::TrailingBytes`] unless every byte has been read.
    pub fn finish(&self) -> Result<()> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(SbsError::TrailingBytes { count, offset: self.pos }),
        }
    }

    #[inline]
    // Lazy: an unused SbsError still runs its drop glue (measured).
    #[allow(clippy::unnecessary_lazy_evaluations)]
    fn byte(&mut self, item_offset: usize) -> Result<u8> {
        let b = *self.data.get(self.pos).ok_or_else(|| SbsError::Truncated { offset: item_offset })?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(SbsError::Truncated { offset: self.pos });
        }
        let slice = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    /// An Integer.
    #[inline]
    pub fn read_integer(&mut self) -> Result<i64> {
        let start = self.pos;
        match self.data.get(start) {
            // One group (-64..=63): most counts, lengths, indexes and flags.
            Some(&first) if first & 0x80 != 0 => {
                self.pos += 1;
                Ok(i64::from(((first << 1) as i8) >> 1))
            }
            _ => self.read_long_integer(),
        }
    }

    /// [`read_integer`](Self::read_integer) of more than one group (or of
    /// none): up to nine groups (63 bits, timestamps' seconds and
    /// microseconds) read from a fixed-size window without a check per
    /// byte; anything else (longer, near the end of the input, overlong)
    /// the slow way.
    #[inline(never)]
    fn read_long_integer(&mut self) -> Result<i64> {
        let start = self.pos;
        if let Some((value, len)) = self.data.get(start..).and_then(window_integer) {
            self.pos = start + len;
            return Ok(value);
        }
        self.read_integer_checked()
    }

    /// [`read_integer`](Self::read_integer), every byte checked.
    #[cold]
    fn read_integer_checked(&mut self) -> Result<i64> {
        let start = self.pos;
        let first = self.byte(start)?;
        #[allow(clippy::unnecessary_lazy_evaluations)]
        {
            // Not the last group: the next group must not make this one redundant.
            let next = *self.data.get(self.pos).ok_or_else(|| SbsError::Truncated { offset: start })?;
            if (first == 0x00 && next & 0x40 == 0) || (first == 0x7f && next & 0x40 != 0) {
                return Err(SbsError::OverlongInteger { offset: start });
            }
        }
        // Up to 9 groups (63 bits) fit an i64 as they come; a 10th group is
        // checked in 128 bits.
        let mut value: i64 = if first & 0x40 != 0 { -1 } else { 0 };
        let mut b = first;
        let mut groups = 1;
        loop {
            value = (value << 7) | i64::from(b & 0x7f);
            if b & 0x80 != 0 {
                return Ok(value);
            }
            if groups == MAX_INTEGER_LEN - 1 {
                break;
            }
            b = self.byte(start)?;
            groups += 1;
        }
        b = self.byte(start)?;
        if b & 0x80 == 0 {
            // A minimal encoding of more than 10 groups needs more than 64 bits.
            return Err(SbsError::IntegerOutOfRange { offset: start });
        }
        let wide = (i128::from(value) << 7) | i128::from(b & 0x7f);
        i64::try_from(wide).map_err(|_| SbsError::IntegerOutOfRange { offset: start })
    }

    /// A Float.
    pub fn read_float(&mut self) -> Result<f64> {
        let bytes = self.take(8)?;
        let mut buf = [0u8; 8];
        buf.copy_from_slice(bytes);
        Ok(f64::from_be_bytes(buf))
    }

    /// A Boolean (byte 0 or 1).
    pub fn read_boolean(&mut self) -> Result<bool> {
        let offset = self.pos;
        match self.byte(offset)? {
            0 => Ok(false),
            1 => Ok(true),
            value => Err(SbsError::InvalidBoolean { value, offset }),
        }
    }

    /// Bytes, borrowed from the input.
    pub fn read_bytes(&mut self) -> Result<&'a [u8]> {
        let offset = self.pos;
        let length = self.read_integer()?;
        let remaining = self.remaining();
        match usize::try_from(length) {
            Ok(n) if n <= remaining => self.take(n),
            _ => Err(SbsError::InvalidLength { length, offset, remaining }),
        }
    }

    /// A String, borrowed from the input.
    pub fn read_str(&mut self) -> Result<&'a str> {
        let bytes = self.read_bytes()?;
        let start = self.pos - bytes.len();
        std::str::from_utf8(bytes).map_err(|e| SbsError::InvalidUtf8 { offset: start + e.valid_up_to() })
    }

    /// A String.
    pub fn read_string(&mut self) -> Result<String> {
        self.read_str().map(str::to_owned)
    }

    /// A Choice index, checked against the `count` alternatives of `type_name`.
    pub fn read_choice(&mut self, type_name: &'static str, count: usize) -> Result<usize> {
        let offset = self.pos;
        let index = self.read_integer()?;
        match usize::try_from(index) {
            Ok(i) if i < count => Ok(i),
            _ => Err(SbsError::InvalidChoice { index, type_name, offset }),
        }
    }

    /// An Array count whose elements (each at least `min_len` bytes, taken
    /// as at least 1) fit in the remaining input.
    pub fn read_count(&mut self, min_len: usize) -> Result<usize> {
        let offset = self.pos;
        let count = self.read_integer()?;
        let remaining = self.remaining();
        match usize::try_from(count) {
            Ok(n) if n <= remaining / min_len.max(1) => Ok(n),
            _ => Err(SbsError::InvalidCount { count, offset, remaining }),
        }
    }

    /// An Array of `T`.
    pub fn read_array<T: Sbs>(&mut self) -> Result<Vec<T>> {
        let count = self.read_count(T::MIN_LEN)?;
        let mut items = Vec::with_capacity(count);
        for _ in 0..count {
            items.push(T::decode(self)?);
        }
        Ok(items)
    }

    /// An `Optional(T)`.
    pub fn read_optional<T: Sbs>(&mut self) -> Result<Option<T>> {
        match self.read_choice("Optional", 2)? {
            0 => Ok(None),
            _ => T::decode(self).map(Some),
        }
    }
}

// ---------------------------------------------------------------------------
// Encoder: functions appending to a Vec<u8>.

/// Appends an Integer.
#[inline]
pub fn write_integer(out: &mut Vec<u8>, value: i64) {
    if (-64..64).contains(&value) {
        // One group: most counts, lengths, indexes and flags.
        out.push((value as u8 & 0x7f) | 0x80);
    } else {
        write_long_integer(out, value);
    }
}

/// [`write_integer`] of more than one group.
#[inline(never)]
fn write_long_integer(out: &mut Vec<u8>, value: i64) {
    let mut buf = [0u8; MAX_INTEGER_LEN];
    let mut start = MAX_INTEGER_LEN;
    let mut rest = value;
    loop {
        let group = (rest & 0x7f) as u8;
        start -= 1;
        buf[start] = if start == MAX_INTEGER_LEN - 1 { group | 0x80 } else { group };
        rest >>= 7; // arithmetic: the sign fills in
        if (rest == 0 && group & 0x40 == 0) || (rest == -1 && group & 0x40 != 0) {
            break;
        }
    }
    out.extend_from_slice(&buf[start..]);
}

/// Appends a Float.
pub fn write_float(out: &mut Vec<u8>, value: f64) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// Appends a Boolean.
pub fn write_boolean(out: &mut Vec<u8>, value: bool) {
    out.push(u8::from(value));
}

/// Appends a length or count (never beyond `i64::MAX` for an in-memory value).
fn write_len(out: &mut Vec<u8>, len: usize) {
    write_integer(out, i64::try_from(len).unwrap_or(i64::MAX));
}

/// Appends Bytes.
pub fn write_bytes(out: &mut Vec<u8>, value: &[u8]) {
    write_len(out, value.len());
    out.extend_from_slice(value);
}

/// Appends a String.
pub fn write_string(out: &mut Vec<u8>, value: &str) {
    write_bytes(out, value.as_bytes());
}

/// Appends a Choice index.
pub fn write_choice(out: &mut Vec<u8>, index: usize) {
    write_len(out, index);
}

/// Appends an Array of `T`.
pub fn write_array<T: Sbs>(out: &mut Vec<u8>, items: &[T]) -> Result<()> {
    write_len(out, items.len());
    items.iter().try_for_each(|item| item.encode(out))
}

/// Appends an `Optional(T)`.
pub fn write_optional<T: Sbs>(out: &mut Vec<u8>, value: Option<&T>) -> Result<()> {
    match value {
        None => {
            write_choice(out, 0);
            Ok(())
        }
        Some(v) => {
            write_choice(out, 1);
            v.encode(out)
        }
    }
}

// ---------------------------------------------------------------------------
// Primitive and generic types

/// None.
impl Sbs for () {
    const MIN_LEN: usize = 0;
    fn encode(&self, _out: &mut Vec<u8>) -> Result<()> {
        Ok(())
    }
    fn decode(_d: &mut Decoder<'_>) -> Result<()> {
        Ok(())
    }
}

/// Integer.
impl Sbs for i64 {
    const MIN_LEN: usize = 1;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        write_integer(out, *self);
        Ok(())
    }
    fn decode(d: &mut Decoder<'_>) -> Result<i64> {
        d.read_integer()
    }
}

/// Float.
impl Sbs for f64 {
    const MIN_LEN: usize = 8;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        write_float(out, *self);
        Ok(())
    }
    fn decode(d: &mut Decoder<'_>) -> Result<f64> {
        d.read_float()
    }
}

/// Boolean.
impl Sbs for bool {
    const MIN_LEN: usize = 1;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        write_boolean(out, *self);
        Ok(())
    }
    fn decode(d: &mut Decoder<'_>) -> Result<bool> {
        d.read_boolean()
    }
}

/// String.
impl Sbs for String {
    const MIN_LEN: usize = 1;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        write_string(out, self);
        Ok(())
    }
    fn decode(d: &mut Decoder<'_>) -> Result<String> {
        d.read_string()
    }
}

/// Array(T). (Bytes are not `Vec<u8>` here: see [`write_bytes`] and
/// [`Decoder::read_bytes`].)
impl<T: Sbs> Sbs for Vec<T> {
    const MIN_LEN: usize = 1;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        write_array(out, self)
    }
    fn decode(d: &mut Decoder<'_>) -> Result<Vec<T>> {
        d.read_array()
    }
}

/// A shared value encodes as the value itself (events are shared between
/// the engine, backends, messages and C handles as `Arc<Event>`).
impl<T: Sbs> Sbs for Arc<T> {
    const MIN_LEN: usize = T::MIN_LEN;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        (**self).encode(out)
    }
    fn decode(d: &mut Decoder<'_>) -> Result<Arc<T>> {
        T::decode(d).map(Arc::new)
    }
}

/// Optional(T).
impl<T: Sbs> Sbs for Option<T> {
    const MIN_LEN: usize = 1;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        write_optional(out, self.as_ref())
    }
    fn decode(d: &mut Decoder<'_>) -> Result<Option<T>> {
        d.read_optional()
    }
}

// ---------------------------------------------------------------------------
// HatEventer types.

/// `EventType` = Array(String): decoded into one allocation (the segments
/// are borrowed from the input until the type is built), with the errors
/// and offsets of `Vec<String>`'s decoding.
impl Sbs for EventType {
    const MIN_LEN: usize = 1;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        write_len(out, self.len());
        self.iter().for_each(|s| write_string(out, s));
        Ok(())
    }
    fn decode(d: &mut Decoder<'_>) -> Result<EventType> {
        let start = d.clone();
        let count = d.read_count(String::MIN_LEN)?;
        let first = d.pos;
        let mut builder = Builder::new();
        for _ in 0..count {
            match d.read_bytes() {
                Ok(segment) => builder.push(segment),
                Err(_) => return Err(segment_error(start)),
            }
        }
        // The segments are read again from the input (cheaper than keeping them).
        let strings = &d.data[first..d.pos];
        builder.build_sbs(strings, Strings(strings)).map_err(|()| segment_error(start))
    }
}

/// SBS Strings already checked, back to back: their bytes, in order.
#[derive(Clone)]
struct Strings<'a>(&'a [u8]);

impl<'a> Iterator for Strings<'a> {
    type Item = &'a [u8];

    #[inline(always)]
    fn next(&mut self) -> Option<&'a [u8]> {
        let (&first, after) = self.0.split_first()?;
        let (len, after) = if first & 0xc0 == 0x80 {
            // One group, not negative: most lengths.
            (usize::from(first & 0x3f), after)
        } else {
            let mut d = Decoder::new(self.0);
            let len = d.read_integer().ok().and_then(|n| usize::try_from(n).ok())?;
            (len, &self.0[d.pos..])
        };
        let (segment, rest) = after.split_at_checked(len)?;
        self.0 = rest;
        Some(segment)
    }
}

/// The first error of decoding the event type at `start` segment by
/// segment, as `Vec<String>` decodes: a segment that is not UTF-8 is
/// reported before a later segment's error.
#[cold]
#[inline(never)]
fn segment_error(mut d: Decoder<'_>) -> SbsError {
    let mut strings = || -> Result<()> {
        for _ in 0..d.read_count(String::MIN_LEN)? {
            d.read_str()?;
        }
        Ok(())
    };
    // Only reached after an error, which this walk meets again; should it
    // not, the segments' bytes are still what was refused.
    strings().err().unwrap_or(SbsError::InvalidUtf8 { offset: d.pos })
}

/// `Timestamp` = Record {s: Integer, us: Integer}.
impl Sbs for Timestamp {
    const MIN_LEN: usize = 2;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        write_integer(out, self.s());
        write_integer(out, i64::from(self.us()));
        Ok(())
    }
    #[inline(always)]
    fn decode(d: &mut Decoder<'_>) -> Result<Timestamp> {
        // Both Integers from one fixed window, without a Result per
        // Integer; anything else (near the end of the input, an overlong
        // or ten-group Integer, microseconds out of range) the checked way.
        let start = d.pos;
        if let Some(window) = d.data.get(start..).and_then(<[u8]>::first_chunk::<{ 2 * (MAX_INTEGER_LEN - 1) }>) {
            let (head, _) = window.split_at(MAX_INTEGER_LEN - 1);
            if let Some((s, s_len)) = window_integer(head) {
                if let Some((us, us_len)) = window_integer(&window[s_len..s_len + MAX_INTEGER_LEN - 1]) {
                    if let Some(timestamp) = u32::try_from(us).ok().and_then(|us| Timestamp::new(s, us).ok()) {
                        d.pos = start + s_len + us_len;
                        return Ok(timestamp);
                    }
                }
            }
        }
        timestamp_checked(d)
    }
}

/// An Integer of at most nine groups at the start of `window` and its
/// length, read from a fixed nine-byte window without a check per byte;
/// `None` if the window is shorter, or the Integer longer or overlong
/// (the checked read then says which).
#[inline(always)]
fn window_integer(window: &[u8]) -> Option<(i64, usize)> {
    let window = window.first_chunk::<{ MAX_INTEGER_LEN - 1 }>()?;
    let (first, next) = (window[0], window[1]);
    if first & 0x80 == 0 && ((first == 0x00 && next & 0x40 == 0) || (first == 0x7f && next & 0x40 != 0)) {
        return None;
    }
    let mut value: i64 = if first & 0x40 != 0 { -1 } else { 0 };
    for (k, &b) in window.iter().enumerate() {
        value = (value << 7) | i64::from(b & 0x7f);
        if b & 0x80 != 0 {
            return Some((value, k + 1));
        }
    }
    None
}

/// [`Timestamp`]'s decoding, every Integer checked with its own error.
#[cold]
#[inline(never)]
fn timestamp_checked(d: &mut Decoder<'_>) -> Result<Timestamp> {
    let s = d.read_integer()?;
    let offset = d.position();
    let us = d.read_integer()?;
    u32::try_from(us).ok().and_then(|us| Timestamp::new(s, us).ok()).ok_or_else(|| SbsError::InvalidValue {
        what: "timestamp",
        offset,
        message: format!("microseconds {us} not in 0..=999999"),
    })
}

/// `EventId` = Record {server, session, instance: Integer}.
impl Sbs for EventId {
    const MIN_LEN: usize = 3;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        write_integer(out, self.server);
        write_integer(out, self.session);
        write_integer(out, self.instance);
        Ok(())
    }
    fn decode(d: &mut Decoder<'_>) -> Result<EventId> {
        Ok(EventId { server: d.read_integer()?, session: d.read_integer()?, instance: d.read_integer()? })
    }
}

/// `Status` = Choice {standby, starting, operational, stopping: None}.
impl Sbs for ServerStatus {
    const MIN_LEN: usize = 1;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        write_choice(out, u32::from(*self) as usize);
        Ok(())
    }
    fn decode(d: &mut Decoder<'_>) -> Result<ServerStatus> {
        // read_choice refuses an index beyond the 4 choices.
        let index = d.read_choice("Status", 4)?;
        Ok(ServerStatus::try_from(index as u32).unwrap_or(ServerStatus::Stopping))
    }
}

/// `Order` = Choice {descending, ascending: None}.
impl Sbs for Order {
    const MIN_LEN: usize = 1;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        write_choice(out, if *self == Order::Descending { 0 } else { 1 });
        Ok(())
    }
    fn decode(d: &mut Decoder<'_>) -> Result<Order> {
        Ok(if d.read_choice("Order", 2)? == 0 { Order::Descending } else { Order::Ascending })
    }
}

/// `OrderBy` = Choice {timestamp, sourceTimestamp: None}.
impl Sbs for OrderBy {
    const MIN_LEN: usize = 1;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        write_choice(out, if *self == OrderBy::Timestamp { 0 } else { 1 });
        Ok(())
    }
    fn decode(d: &mut Decoder<'_>) -> Result<OrderBy> {
        Ok(if d.read_choice("OrderBy", 2)? == 0 { OrderBy::Timestamp } else { OrderBy::SourceTimestamp })
    }
}

/// `EventPayload` = Choice {binary: Record {type: String, data: Bytes},
/// json: String (JSON text as Python's `json.dumps` writes it)}.
impl Sbs for EventPayload {
    const MIN_LEN: usize = 2;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        match self {
            EventPayload::Binary { type_, data } => {
                write_choice(out, 0);
                write_string(out, type_);
                write_bytes(out, data);
            }
            EventPayload::Json(payload) => {
                let text = payload.text_bytes().map_err(|e| SbsError::UnencodableJson(e.to_string()))?;
                write_choice(out, 1);
                write_bytes(out, text);
            }
        }
        Ok(())
    }
    fn decode(d: &mut Decoder<'_>) -> Result<EventPayload> {
        match d.read_choice("EventPayload", 2)? {
            0 => {
                let type_ = d.read_string()?;
                let data = d.read_bytes()?.to_vec();
                Ok(EventPayload::Binary { type_, data })
            }
            _ => {
                let bytes = d.read_bytes()?;
                let offset = d.position() - bytes.len();
                // Text hat-event wrote is ASCII: checked once, as JSON.
                match JsonPayload::from_canonical_bytes(bytes) {
                    Some(payload) => Ok(EventPayload::Json(payload)),
                    None => json_payload(bytes, offset),
                }
            }
        }
    }
}

/// A JSON payload's text that is not what hat-event writes: checked as
/// UTF-8 (a String's error first), then read and rewritten.
#[cold]
#[inline(never)]
fn json_payload(bytes: &[u8], offset: usize) -> Result<EventPayload> {
    let text = std::str::from_utf8(bytes).map_err(|e| SbsError::InvalidUtf8 { offset: offset + e.valid_up_to() })?;
    JsonPayload::from_text(text).map(EventPayload::Json).map_err(|e| SbsError::InvalidJson {
        offset,
        message: match e {
            crate::error::Error::InvalidJson(message) => message,
            other => other.to_string(),
        },
    })
}

/// `Event` = Record {id: EventId, type: EventType, timestamp: Timestamp,
/// sourceTimestamp: Optional(Timestamp), payload: Optional(EventPayload)}.
impl Sbs for Event {
    const MIN_LEN: usize = EventId::MIN_LEN + 1 + Timestamp::MIN_LEN + 1 + 1;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        self.id.encode(out)?;
        self.type_.encode(out)?;
        self.timestamp.encode(out)?;
        self.source_timestamp.encode(out)?;
        self.payload.encode(out)
    }
    fn decode(d: &mut Decoder<'_>) -> Result<Event> {
        Ok(Event {
            id: Sbs::decode(d)?,
            type_: Sbs::decode(d)?,
            timestamp: Sbs::decode(d)?,
            source_timestamp: Sbs::decode(d)?,
            payload: Sbs::decode(d)?,
        })
    }
}

/// `RegisterEvent` = Record {type: EventType, sourceTimestamp:
/// Optional(Timestamp), payload: Optional(EventPayload)}.
impl Sbs for RegisterEvent {
    const MIN_LEN: usize = 3;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        self.type_.encode(out)?;
        self.source_timestamp.encode(out)?;
        self.payload.encode(out)
    }
    fn decode(d: &mut Decoder<'_>) -> Result<RegisterEvent> {
        Ok(RegisterEvent { type_: Sbs::decode(d)?, source_timestamp: Sbs::decode(d)?, payload: Sbs::decode(d)? })
    }
}

/// `QueryLatestParams` = Record {eventTypes: Optional(Array(EventType))}.
impl Sbs for QueryLatestParams {
    const MIN_LEN: usize = 1;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        self.event_types.encode(out)
    }
    fn decode(d: &mut Decoder<'_>) -> Result<QueryLatestParams> {
        Ok(QueryLatestParams { event_types: Sbs::decode(d)? })
    }
}

/// `QueryTimeseriesParams` = Record {eventTypes: Optional(Array(EventType)),
/// tFrom, tTo, sourceTFrom, sourceTTo: Optional(Timestamp), order: Order,
/// orderBy: OrderBy, maxResults: Optional(Integer), lastEventId:
/// Optional(EventId)}.
impl Sbs for QueryTimeseriesParams {
    const MIN_LEN: usize = 9;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        self.event_types.encode(out)?;
        self.t_from.encode(out)?;
        self.t_to.encode(out)?;
        self.source_t_from.encode(out)?;
        self.source_t_to.encode(out)?;
        self.order.encode(out)?;
        self.order_by.encode(out)?;
        self.max_results.encode(out)?;
        self.last_event_id.encode(out)
    }
    fn decode(d: &mut Decoder<'_>) -> Result<QueryTimeseriesParams> {
        Ok(QueryTimeseriesParams {
            event_types: Sbs::decode(d)?,
            t_from: Sbs::decode(d)?,
            t_to: Sbs::decode(d)?,
            source_t_from: Sbs::decode(d)?,
            source_t_to: Sbs::decode(d)?,
            order: Sbs::decode(d)?,
            order_by: Sbs::decode(d)?,
            max_results: Sbs::decode(d)?,
            last_event_id: Sbs::decode(d)?,
        })
    }
}

/// `QueryServerParams` = Record {serverId: Integer, persisted: Boolean,
/// maxResults: Optional(Integer), lastEventId: Optional(EventId)}.
impl Sbs for QueryServerParams {
    const MIN_LEN: usize = 4;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        write_integer(out, self.server_id);
        write_boolean(out, self.persisted);
        self.max_results.encode(out)?;
        self.last_event_id.encode(out)
    }
    fn decode(d: &mut Decoder<'_>) -> Result<QueryServerParams> {
        Ok(QueryServerParams {
            server_id: d.read_integer()?,
            persisted: d.read_boolean()?,
            max_results: Sbs::decode(d)?,
            last_event_id: Sbs::decode(d)?,
        })
    }
}

/// `QueryParams` = Choice {latest: QueryLatestParams, timeseries:
/// QueryTimeseriesParams, server: QueryServerParams}.
impl Sbs for QueryParams {
    const MIN_LEN: usize = 2;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        match self {
            QueryParams::Latest(p) => {
                write_choice(out, 0);
                p.encode(out)
            }
            QueryParams::Timeseries(p) => {
                write_choice(out, 1);
                p.encode(out)
            }
            QueryParams::Server(p) => {
                write_choice(out, 2);
                p.encode(out)
            }
        }
    }
    fn decode(d: &mut Decoder<'_>) -> Result<QueryParams> {
        Ok(match d.read_choice("QueryParams", 3)? {
            0 => QueryParams::Latest(Sbs::decode(d)?),
            1 => QueryParams::Timeseries(Sbs::decode(d)?),
            _ => QueryParams::Server(Sbs::decode(d)?),
        })
    }
}

/// `QueryResult` = Record {events: Array(Event), moreFollows: Boolean}.
impl Sbs for QueryResult {
    const MIN_LEN: usize = 2;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        self.events.encode(out)?;
        write_boolean(out, self.more_follows);
        Ok(())
    }
    fn decode(d: &mut Decoder<'_>) -> Result<QueryResult> {
        Ok(QueryResult { events: Arc::new(Sbs::decode(d)?), more_follows: d.read_boolean()? })
    }
}

// ---------------------------------------------------------------------------
// HatEventer messages

/// `MsgInitReq` = Record {clientName: String, clientToken: Optional(String),
/// subscriptions: Array(EventType), serverId: Optional(Integer), persisted:
/// Boolean}.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MsgInitReq {
    pub client_name: String,
    pub client_token: Option<String>,
    pub subscriptions: Vec<crate::event_type::EventType>,
    pub server_id: Option<i64>,
    pub persisted: bool,
}

impl Sbs for MsgInitReq {
    const MIN_LEN: usize = 5;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        write_string(out, &self.client_name);
        self.client_token.encode(out)?;
        self.subscriptions.encode(out)?;
        self.server_id.encode(out)?;
        write_boolean(out, self.persisted);
        Ok(())
    }
    fn decode(d: &mut Decoder<'_>) -> Result<MsgInitReq> {
        Ok(MsgInitReq {
            client_name: d.read_string()?,
            client_token: Sbs::decode(d)?,
            subscriptions: Sbs::decode(d)?,
            server_id: Sbs::decode(d)?,
            persisted: d.read_boolean()?,
        })
    }
}

/// `MsgInitRes` = Choice {success: Status, error: String}.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MsgInitRes {
    Success(ServerStatus),
    Error(String),
}

impl Sbs for MsgInitRes {
    const MIN_LEN: usize = 2;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        match self {
            MsgInitRes::Success(status) => {
                write_choice(out, 0);
                status.encode(out)
            }
            MsgInitRes::Error(message) => {
                write_choice(out, 1);
                write_string(out, message);
                Ok(())
            }
        }
    }
    fn decode(d: &mut Decoder<'_>) -> Result<MsgInitRes> {
        Ok(match d.read_choice("MsgInitRes", 2)? {
            0 => MsgInitRes::Success(Sbs::decode(d)?),
            _ => MsgInitRes::Error(d.read_string()?),
        })
    }
}

/// `MsgStatusNotify` = Status.
pub type MsgStatusNotify = ServerStatus;
/// `MsgEventsNotify` = Array(Event).
pub type MsgEventsNotify = Vec<Arc<Event>>;
/// `MsgEventsAck` = None (zero bytes).
pub type MsgEventsAck = ();
/// `MsgRegisterReq` = Array(RegisterEvent).
pub type MsgRegisterReq = Vec<RegisterEvent>;
/// `MsgQueryReq` = QueryParams.
pub type MsgQueryReq = QueryParams;
/// `MsgQueryRes` = QueryResult.
pub type MsgQueryRes = QueryResult;

/// `MsgRegisterRes` = Choice {events: Array(Event), failure: None}.
#[derive(Clone, Debug, PartialEq)]
pub enum MsgRegisterRes {
    Events(Vec<Arc<Event>>),
    Failure,
}

impl Sbs for MsgRegisterRes {
    const MIN_LEN: usize = 1;
    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        match self {
            MsgRegisterRes::Events(events) => {
                write_choice(out, 0);
                events.encode(out)
            }
            MsgRegisterRes::Failure => {
                write_choice(out, 1);
                Ok(())
            }
        }
    }
    fn decode(d: &mut Decoder<'_>) -> Result<MsgRegisterRes> {
        Ok(match d.read_choice("MsgRegisterRes", 2)? {
            0 => MsgRegisterRes::Events(Sbs::decode(d)?),
            _ => MsgRegisterRes::Failure,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int_bytes(v: i64) -> Vec<u8> {
        let mut out = Vec::new();
        write_integer(&mut out, v);
        out
    }

    fn read_int(bytes: &[u8]) -> Result<i64> {
        decode_exact::<i64>(bytes)
    }

    /// The fewest 7-bit groups holding `v` in two's complement.
    fn minimal_groups(v: i64) -> usize {
        (1..=MAX_INTEGER_LEN)
            .find(|&n| {
                let bits = 7 * n as u32;
                bits >= 64 || (-(1i128 << (bits - 1))..(1i128 << (bits - 1))).contains(&i128::from(v))
            })
            .unwrap()
    }

    #[test]
    fn integers_match_the_reference_bytes() {
        // From hat-sbs 0.9.44's encoder.
        for (v, hex) in [
            (0, "80"),
            (-1, "ff"),
            (63, "bf"),
            (64, "00c0"),
            (-64, "c0"),
            (-65, "7fbf"),
            (8191, "3fff"),
            (8192, "004080"),
            (i64::MAX, "007f7f7f7f7f7f7f7fff"),
            (i64::MIN, "7f000000000000000080"),
        ] {
            let bytes = int_bytes(v);
            let got: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(got, hex, "{v}");
            assert_eq!(read_int(&bytes), Ok(v));
        }
    }

    #[test]
    fn integers_round_trip_with_minimal_length() {
        let mut values: Vec<i64> = (-70_000..70_000).collect();
        for shift in 0..64 {
            let p = 1i64.wrapping_shl(shift);
            values.extend([p, p.wrapping_sub(1), p.wrapping_neg(), p.wrapping_neg().wrapping_sub(1)]);
        }
        values.extend([i64::MIN, i64::MIN + 1, i64::MAX, i64::MAX - 1]);
        for v in values {
            let bytes = int_bytes(v);
            assert_eq!(bytes.len(), minimal_groups(v), "{v}");
            assert!(bytes[..bytes.len() - 1].iter().all(|b| b & 0x80 == 0));
            assert_eq!(bytes[bytes.len() - 1] & 0x80, 0x80);
            assert_eq!(read_int(&bytes), Ok(v), "{v}");
            // Followed by more input: read through the fast window.
            for pad in [0x00, 0xff] {
                let mut padded = bytes.clone();
                padded.extend([pad; MAX_INTEGER_LEN]);
                let mut d = Decoder::new(&padded);
                assert_eq!((d.read_integer(), d.position()), (Ok(v), bytes.len()), "{v} {pad:#x}");
            }
        }
    }

    #[test]
    fn truncated_integers_are_refused() {
        assert_eq!(read_int(&[]), Err(SbsError::Truncated { offset: 0 }));
        assert_eq!(read_int(&[0x01]), Err(SbsError::Truncated { offset: 0 }));
        assert_eq!(read_int(&[0x01, 0x02, 0x03]), Err(SbsError::Truncated { offset: 0 }));
        // Every strict prefix of a long encoding.
        let full = int_bytes(i64::MIN);
        for n in 0..full.len() {
            assert_eq!(read_int(&full[..n]), Err(SbsError::Truncated { offset: 0 }), "{n}");
        }
        // The offset names the integer, not the input's start.
        let mut d = Decoder::new(&[0x80, 0x81, 0x05]);
        assert_eq!(d.read_integer(), Ok(0));
        assert_eq!(d.read_integer(), Ok(1));
        assert_eq!(d.read_integer(), Err(SbsError::Truncated { offset: 2 }));
    }

    #[test]
    fn overlong_integers_are_refused() {
        for bytes in [
            &[0x00, 0x80][..],   // 0 in two groups
            &[0x00, 0xbf],       // 63 in two groups
            &[0x7f, 0xff],       // -1 in two groups
            &[0x7f, 0xc0],       // -64 in two groups
            &[0x00, 0x00, 0xc0], // 64 in three groups
            &[0x7f, 0x7f, 0xbf], // -65 in three groups
            &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80],
        ] {
            assert_eq!(read_int(bytes), Err(SbsError::OverlongInteger { offset: 0 }), "{bytes:02x?}");
            let padded = [bytes, &[0x80; MAX_INTEGER_LEN]].concat();
            assert_eq!(read_int(&padded[..]).err(), Some(SbsError::OverlongInteger { offset: 0 }), "{bytes:02x?}");
        }
        // Not redundant: the leading group carries the sign.
        assert_eq!(read_int(&[0x00, 0xc0]), Ok(64));
        assert_eq!(read_int(&[0x7f, 0xbf]), Ok(-65));
        let err = decode_exact::<EventId>(&[0x80, 0x80, 0x00, 0x80]).unwrap_err();
        assert_eq!(err, SbsError::OverlongInteger { offset: 2 });
        assert_eq!(err.to_string(), "overlong integer at byte 2");
    }

    #[test]
    fn integers_beyond_64_bits_are_refused() {
        let out = |bytes: &[u8]| read_int(bytes) == Err(SbsError::IntegerOutOfRange { offset: 0 });
        assert!(out(&[0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x80])); // 2^63
        assert!(out(&[0x7e, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0xff])); // -2^63 - 1
        assert!(out(&[0x3f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0xff])); // 2^69 - 1
        assert!(out(&[0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80])); // 2^70: eleven groups
                                                                // Refused at the eleventh group, before reading on.
        let mut long = vec![0x01u8];
        long.extend(std::iter::repeat_n(0u8, 1000));
        assert!(out(&long));
        assert_eq!(SbsError::IntegerOutOfRange { offset: 0 }.to_string(), "integer out of the 64-bit range at byte 0");
    }

    #[test]
    fn floats_and_booleans() {
        let bytes = encode_to_vec(&-1.5f64).unwrap();
        assert_eq!(bytes, (-1.5f64).to_be_bytes());
        assert_eq!(decode_exact::<f64>(&bytes), Ok(-1.5));
        assert_eq!(decode_exact::<f64>(&bytes[..7]), Err(SbsError::Truncated { offset: 0 }));
        assert_eq!(decode_exact::<bool>(&[0]), Ok(false));
        assert_eq!(decode_exact::<bool>(&[1]), Ok(true));
        assert_eq!(decode_exact::<bool>(&[2]), Err(SbsError::InvalidBoolean { value: 2, offset: 0 }));
        assert_eq!(decode_exact::<bool>(&[0xff]), Err(SbsError::InvalidBoolean { value: 255, offset: 0 }));
        assert_eq!(decode_exact::<bool>(&[]), Err(SbsError::Truncated { offset: 0 }));
    }

    #[test]
    fn lengths_beyond_the_input_or_negative_are_refused() {
        assert_eq!(
            decode_exact::<String>(&[0x85, b'a', b'b']),
            Err(SbsError::InvalidLength { length: 5, offset: 0, remaining: 2 })
        );
        assert_eq!(
            decode_exact::<String>(&[0xff]),
            Err(SbsError::InvalidLength { length: -1, offset: 0, remaining: 0 })
        );
        let mut huge = int_bytes(i64::MAX);
        huge.extend_from_slice(b"abc");
        assert_eq!(
            decode_exact::<String>(&huge),
            Err(SbsError::InvalidLength { length: i64::MAX, offset: 0, remaining: 3 })
        );
        let mut min = int_bytes(i64::MIN);
        min.push(0);
        assert!(matches!(decode_exact::<String>(&min), Err(SbsError::InvalidLength { length: i64::MIN, .. })));
        // Bytes inside a binary payload: choice, type "", then a length of 3 with 2 bytes.
        let err = decode_exact::<EventPayload>(&[0x80, 0x80, 0x83, 1, 2]).unwrap_err();
        assert_eq!(err, SbsError::InvalidLength { length: 3, offset: 2, remaining: 2 });
        assert_eq!(err.to_string(), "invalid length 3 at byte 2 (2 bytes remain)");
        assert_eq!(decode_exact::<String>(&[0x80]), Ok(String::new()));
    }

    #[test]
    fn array_counts_must_fit_in_the_input() {
        // Each string takes at least one byte: 3 strings in 3 bytes pass, 4 do not.
        assert_eq!(decode_exact::<Vec<String>>(&[0x83, 0x80, 0x80, 0x80]), Ok(vec![String::new(); 3]));
        assert_eq!(
            decode_exact::<Vec<String>>(&[0x84, 0x80, 0x80, 0x80]),
            Err(SbsError::InvalidCount { count: 4, offset: 0, remaining: 3 })
        );
        assert!(matches!(decode_exact::<Vec<String>>(&[0xff]), Err(SbsError::InvalidCount { count: -1, .. })));
        // Events take at least Event::MIN_LEN bytes each.
        let one_event = [0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80];
        assert_eq!(one_event.len() - 1, Event::MIN_LEN);
        assert_eq!(decode_exact::<MsgEventsNotify>(&one_event).map(|v| v.len()), Ok(1));
        let mut two = one_event;
        two[0] = 0x82;
        assert!(matches!(decode_exact::<MsgEventsNotify>(&two), Err(SbsError::InvalidCount { count: 2, .. })));
    }

    #[test]
    fn huge_counts_with_tiny_input_fail_before_allocating() {
        // Would be exabytes if trusted; the check runs before any allocation.
        for count in [i64::MAX, 1 << 40, 1 << 20] {
            let mut bytes = int_bytes(count);
            bytes.extend_from_slice(&[0x80; 4]);
            assert!(matches!(decode_exact::<MsgEventsNotify>(&bytes), Err(SbsError::InvalidCount { .. })));
            assert!(matches!(decode_exact::<Vec<Vec<String>>>(&bytes), Err(SbsError::InvalidCount { .. })));
            assert!(matches!(decode_exact::<Vec<()>>(&bytes), Err(SbsError::InvalidCount { .. })));
            let mut res = vec![0x80u8];
            res.extend_from_slice(&bytes);
            assert!(matches!(decode_exact::<MsgRegisterRes>(&res), Err(SbsError::InvalidCount { offset: 1, .. })));
        }
    }

    #[test]
    fn invalid_choice_indices_are_refused() {
        assert_eq!(decode_exact::<ServerStatus>(&[0x83]), Ok(ServerStatus::Stopping));
        assert_eq!(
            decode_exact::<ServerStatus>(&[0x84]),
            Err(SbsError::InvalidChoice { index: 4, type_name: "Status", offset: 0 })
        );
        assert!(matches!(decode_exact::<ServerStatus>(&[0xff]), Err(SbsError::InvalidChoice { index: -1, .. })));
        assert!(matches!(decode_exact::<Order>(&[0x82]), Err(SbsError::InvalidChoice { type_name: "Order", .. })));
        assert!(matches!(decode_exact::<OrderBy>(&[0x82]), Err(SbsError::InvalidChoice { type_name: "OrderBy", .. })));
        assert!(matches!(decode_exact::<QueryParams>(&[0x83]), Err(SbsError::InvalidChoice { .. })));
        assert!(matches!(decode_exact::<MsgInitRes>(&[0x82]), Err(SbsError::InvalidChoice { .. })));
        assert!(matches!(decode_exact::<MsgRegisterRes>(&[0x82]), Err(SbsError::InvalidChoice { .. })));
        assert!(matches!(
            decode_exact::<Option<i64>>(&[0x82, 0x80]),
            Err(SbsError::InvalidChoice { type_name: "Optional", .. })
        ));
        // Event with payload Optional = value, then EventPayload index 7 at byte 10.
        let bytes = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x87, 0x80];
        let err = decode_exact::<Event>(&bytes[..9]).unwrap_err();
        assert_eq!(err.to_string(), "invalid choice index 7 for EventPayload at byte 8");
        let err = decode_exact::<Event>(&bytes).unwrap_err();
        assert_eq!(err.offset(), Some(8));
    }

    #[test]
    fn invalid_utf8_is_refused() {
        assert_eq!(decode_exact::<String>(&[0x82, 0xff, 0xfe]), Err(SbsError::InvalidUtf8 { offset: 1 }));
        // A UTF-8-encoded surrogate (CESU) and a truncated sequence, after valid text.
        assert_eq!(decode_exact::<String>(&[0x84, b'a', 0xed, 0xa0, 0x80]), Err(SbsError::InvalidUtf8 { offset: 2 }));
        assert_eq!(decode_exact::<String>(&[0x83, b'a', b'b', 0xc3]), Err(SbsError::InvalidUtf8 { offset: 3 }));
        assert_eq!(SbsError::InvalidUtf8 { offset: 5 }.to_string(), "invalid UTF-8 in string at byte 5");
        // Inside an event type, and in a payload's JSON text.
        assert_eq!(decode_exact::<Vec<String>>(&[0x81, 0x81, 0x80]), Err(SbsError::InvalidUtf8 { offset: 2 }));
        assert_eq!(decode_exact::<EventPayload>(&[0x81, 0x81, 0xff]), Err(SbsError::InvalidUtf8 { offset: 2 }));
    }

    /// An event type decodes to one allocation, but with exactly the
    /// results (values, errors and their offsets) of `Vec<String>`'s
    /// segment-by-segment decoding: every truncation and every one-byte
    /// change of a few encodings, with 16 segments or fewer and more.
    #[test]
    fn event_types_decode_as_lists_of_strings_do() {
        let long = "L".repeat(200);
        let many: Vec<String> = (0..20).map(|i| format!("s{i}")).collect();
        let types: Vec<Vec<String>> = vec![vec![], vec!["a".into(), "".into(), "ž日".into(), long.clone()], many];
        for t in types {
            let bytes = encode_to_vec(&t).unwrap();
            let et = decode_exact::<EventType>(&bytes).unwrap();
            assert_eq!(et, t);
            assert_eq!(encode_to_vec(&et).unwrap(), bytes);
            let check = |input: &[u8]| {
                let ours = decode_exact::<EventType>(input).map(|e| e.to_vec());
                assert_eq!(ours, decode_exact::<Vec<String>>(input), "{input:?}");
            };
            for n in 0..bytes.len() {
                check(&bytes[..n]);
            }
            for at in 0..bytes.len().min(80) {
                for value in [0x00, 0x7f, 0x80, 0x81, 0xc3, 0xed, 0xff] {
                    let mut changed = bytes.clone();
                    changed[at] = value;
                    check(&changed);
                }
            }
        }
    }

    /// A decoded type is the very layout `EventType::new` builds (the
    /// short-segment path copies the key from the input), for segments
    /// around the 64-byte limit of one-byte lengths and layouts around the
    /// 128 bytes built on the stack.
    #[test]
    fn decoded_event_types_are_built_as_from_segments() {
        let mut types: Vec<Vec<String>> = vec![vec![], vec![String::new()], vec!["ž日本🎉".into(), "e\u{301}".into()]];
        for len in [0, 1, 62, 63, 64, 65, 100, 111, 112, 127, 128, 200] {
            types.push(vec!["x".repeat(len)]);
            types.push(vec!["a".into(), "y".repeat(len), "".into()]);
        }
        for count in [1, 10, 37, 38, 39, 40, 57, 58, 59, 60, 100] {
            types.push((0..count).map(|i| "s".repeat(i % 3)).collect());
        }
        for total in 100..=130 {
            // One layout byte more each time, across the stack limit.
            types.push(vec!["q".repeat(total - 12 - 4 - 2), "r".into()]);
        }
        for t in types {
            let bytes = encode_to_vec(&t).unwrap();
            let decoded = decode_exact::<EventType>(&bytes).unwrap();
            assert_eq!(decoded, EventType::from(&t), "{t:?}");
            assert_eq!(decoded.to_vec(), t);
            assert_eq!(decoded.hash_value(), EventType::from(&t).hash_value());
        }
    }

    fn json_payload(text: &str) -> Vec<u8> {
        let mut out = vec![0x81];
        write_string(&mut out, text);
        out
    }

    #[test]
    fn invalid_json_text_is_refused() {
        for text in ["", "{", "[1,]", "-NaN", "1 2", "'a'", "\"\\u12\"", "\"\\x\"", "\"a\u{1}\""] {
            match decode_exact::<EventPayload>(&json_payload(text)) {
                Err(SbsError::InvalidJson { offset: 2, .. }) => {}
                other => panic!("{text:?}: {other:?}"),
            }
        }
        let err = decode_exact::<EventPayload>(&json_payload("{")).unwrap_err();
        assert!(err.to_string().starts_with("invalid JSON in payload at byte 2: "), "{err}");
        // Whitespace around the value is JSON; so is a paired surrogate escape.
        assert!(decode_exact::<EventPayload>(&json_payload(" [1, 2]\n")).is_ok());
        assert!(decode_exact::<EventPayload>(&json_payload("\"\\ud83d\\ude00\"")).is_ok());
    }

    /// What Python's json.loads reads, hat-event sends: lone surrogate
    /// escapes come back byte for byte; NaN and the infinities decode but,
    /// as in hat-event, do not encode.
    #[test]
    fn json_text_python_reads_is_decoded() {
        for text in ["\"\\ud800\"", "\"x\\udc00y\"", "{\"\\udfff\": [\"\\ud83d\"]}", "\"\\ud800\\ud800\\udc00\""] {
            let bytes = json_payload(text);
            let payload = decode_exact::<EventPayload>(&bytes).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(encode_to_vec(&payload).unwrap(), bytes, "{text}");
        }
        let respelled = decode_exact::<EventPayload>(&json_payload("[\"\\uD800\\u0041\"]")).unwrap();
        assert_eq!(encode_to_vec(&respelled).unwrap(), json_payload("[\"\\ud800A\"]"));
        for text in ["NaN", "Infinity", "-Infinity", "[1e400]"] {
            let payload = decode_exact::<EventPayload>(&json_payload(text)).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert!(matches!(encode_to_vec(&payload), Err(SbsError::UnencodableJson(_))), "{text}");
        }
    }

    #[test]
    fn json_nesting_has_no_limit_but_memory() {
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        for depth in [1, 127, 128, 1000, 100_000, 1_000_000] {
            let bytes = json_payload(&nested(depth));
            let payload = decode_exact::<EventPayload>(&bytes).unwrap_or_else(|e| panic!("{depth}: {e}"));
            assert!(encode_to_vec(&payload).unwrap() == bytes, "{depth}");
        }
        // Not canonical (no space after ':'), so through the full parser.
        let objects = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
        let payload = decode_exact::<EventPayload>(&json_payload(&objects)).unwrap();
        let expected = format!("{}1{}", "{\"a\": ".repeat(100_000), "}".repeat(100_000));
        assert!(encode_to_vec(&payload).unwrap() == json_payload(&expected));
        // Unbalanced: an error, not a crash.
        assert!(matches!(
            decode_exact::<EventPayload>(&json_payload(&"[".repeat(100_000))),
            Err(SbsError::InvalidJson { .. })
        ));
    }

    #[test]
    fn unencodable_json_is_an_error() {
        let payload = EventPayload::json_from_text("[1e400]").unwrap();
        assert!(matches!(encode_to_vec(&payload), Err(SbsError::UnencodableJson(_))));
    }

    #[test]
    fn trailing_bytes_are_reported_and_prefix_decoding_skips_them() {
        let mut bytes = encode_to_vec(&ServerStatus::Operational).unwrap();
        bytes.extend_from_slice(&[1, 2, 3]);
        let err = decode_exact::<MsgStatusNotify>(&bytes).unwrap_err();
        assert_eq!(err, SbsError::TrailingBytes { count: 3, offset: 1 });
        assert_eq!(err.to_string(), "trailing bytes: 3 after byte 1");
        assert_eq!(decode_prefix::<MsgStatusNotify>(&bytes), Ok((ServerStatus::Operational, 1)));
        // None takes no bytes at all.
        assert_eq!(decode_exact::<MsgEventsAck>(&[]), Ok(()));
        assert_eq!(decode_exact::<MsgEventsAck>(&[0]), Err(SbsError::TrailingBytes { count: 1, offset: 0 }));
        assert_eq!(decode_prefix::<MsgEventsAck>(&[0]), Ok(((), 0)));
    }

    #[test]
    fn timestamps_with_invalid_microseconds_are_refused() {
        let ts = |s: i64, us: i64| {
            let mut out = int_bytes(s);
            write_integer(&mut out, us);
            out
        };
        assert_eq!(decode_exact::<Timestamp>(&ts(-5, 999_999)), Ok(Timestamp::new(-5, 999_999).unwrap()));
        for us in [1_000_000, -1, i64::MAX, i64::MIN, 1 << 32] {
            let err = decode_exact::<Timestamp>(&ts(7, us)).unwrap_err();
            assert!(matches!(err, SbsError::InvalidValue { what: "timestamp", offset: 1, .. }), "{us}: {err:?}");
        }
        assert_eq!(
            decode_exact::<Timestamp>(&ts(0, 1_000_000)).unwrap_err().to_string(),
            "invalid timestamp at byte 1: microseconds 1000000 not in 0..=999999"
        );
    }

    /// The window path of Timestamp decoding (18 or more bytes left) gives
    /// exactly what the checked path gives: values, lengths, errors and
    /// their offsets, for valid, out-of-range, overlong and ten-group
    /// Integers, followed by bytes of every kind.
    #[test]
    fn timestamps_decode_from_the_window_as_checked() {
        let mut encodings: Vec<Vec<u8>> = Vec::new();
        for s in [0, 1, -1, 63, 64, -65, 1_700_000_000, -1_700_000_000, i64::MAX, i64::MIN, 1 << 62, -(1 << 62)] {
            for us in [0, 1, 63, 64, 123_000, 999_999, 1_000_000, -1, i64::MAX, i64::MIN] {
                let mut out = int_bytes(s);
                write_integer(&mut out, us);
                encodings.push(out);
            }
        }
        // Overlong Integers, in either position.
        encodings.push(vec![0x00, 0x81, 0x85]);
        encodings.push(vec![0x7f, 0xff, 0x85]);
        encodings.push(vec![0x85, 0x00, 0x81]);
        encodings.push(vec![0x85, 0x7f, 0xc1]);
        // Bytes without a final group.
        encodings.push(vec![0x01; 12]);
        for bytes in encodings {
            for fill in [0x00u8, 0x80, 0xff, 0x7f] {
                let mut input = bytes.clone();
                input.resize(bytes.len() + 2 * MAX_INTEGER_LEN, fill);
                let ours = decode_prefix::<Timestamp>(&input);
                let checked = {
                    let mut d = Decoder::new(&input);
                    timestamp_checked(&mut d).map(|t| (t, d.position()))
                };
                assert_eq!(ours, checked, "{input:02x?}");
            }
        }
    }

    #[test]
    fn every_strict_prefix_of_a_message_is_refused() {
        let event = Event {
            id: EventId { server: 1, session: -2, instance: i64::MAX },
            type_: crate::event_type::EventType::from(["a", "ž"]),
            timestamp: Timestamp::new(i64::MIN, 5).unwrap(),
            source_timestamp: Some(Timestamp::new(3, 999_999).unwrap()),
            payload: Some(Arc::new(EventPayload::json_from_text(r#"{"x": [1, 2.5, "y"]}"#).unwrap())),
        };
        let event = Arc::new(event);
        let msg = MsgRegisterRes::Events(vec![event.clone(), event]);
        let bytes = encode_to_vec(&msg).unwrap();
        assert_eq!(decode_exact::<MsgRegisterRes>(&bytes).as_ref(), Ok(&msg));
        for n in 0..bytes.len() {
            assert!(decode_exact::<MsgRegisterRes>(&bytes[..n]).is_err(), "{n}");
            assert!(decode_prefix::<MsgRegisterRes>(&bytes[..n]).is_err(), "{n}");
        }
    }
}
