//! Timestamps: seconds and microseconds since 1970-01-01 UTC, with the
//! conversions of `hat.event.common` (bytes, float, datetime) plus RFC 3339.
//!
//! Float conversions reproduce Python's arithmetic step by step (the same
//! double operations, round-half-to-even), so that they agree with the
//! reference on every finite double.

use crate::error::{Error, Quoted, Result};

const US_PER_S: i64 = 1_000_000;

/// Seconds since 1970-01-01 UTC (may be negative) plus microseconds in
/// `0..1_000_000`. Ordered, compared and hashed by `(s, us)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp {
    s: i64,
    us: u32,
}

/// A broken-down UTC calendar time, years 1..=9999 (Python's `datetime`
/// range). Signed like the C struct it mirrors, so that an out-of-range
/// value is reported as the caller gave it (`hour -1`, not `4294967295`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime {
    pub year: i32,
    pub month: i32,
    pub day: i32,
    pub hour: i32,
    pub minute: i32,
    pub second: i32,
    pub microsecond: i32,
}

/// Seconds of 0001-01-01T00:00:00Z.
const DATETIME_MIN_S: i64 = -62_135_596_800;
/// Seconds of 9999-12-31T23:59:59Z.
const DATETIME_MAX_S: i64 = 253_402_300_799;

impl Timestamp {
    /// The smallest byte-serialisable timestamp, `(-2^63, 0)`.
    pub const MIN: Timestamp = Timestamp { s: i64::MIN, us: 0 };
    /// The largest byte-serialisable timestamp, `(2^63 - 1, 999_999)`.
    pub const MAX: Timestamp = Timestamp { s: i64::MAX, us: 999_999 };

    /// A timestamp from its parts; `us` must be below 1_000_000.
    pub fn new(s: i64, us: u32) -> Result<Timestamp> {
        if i64::from(us) >= US_PER_S {
            return Err(Error::OutOfRange(format!("timestamp microseconds {us} not in 0..=999999")));
        }
        Ok(Timestamp { s, us })
    }

    pub fn s(self) -> i64 {
        self.s
    }

    pub fn us(self) -> u32 {
        self.us
    }

    /// Total microseconds since the epoch; exact for every timestamp.
    fn total_us(self) -> i128 {
        i128::from(self.s) * i128::from(US_PER_S) + i128::from(self.us)
    }

    fn from_total_us(total: i128) -> Result<Timestamp> {
        let s = total.div_euclid(i128::from(US_PER_S));
        let us = total.rem_euclid(i128::from(US_PER_S));
        let s = i64::try_from(s).map_err(|_| overflow())?;
        // rem_euclid of a positive modulus is in 0..1_000_000
        Ok(Timestamp { s, us: us as u32 })
    }

    /// The current time, truncated to microseconds.
    pub fn now() -> Timestamp {
        let now = std::time::SystemTime::now();
        match now.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => Timestamp { s: d.as_secs() as i64, us: d.subsec_micros() },
            // Before 1970: floor to whole microseconds.
            Err(e) => {
                let d = e.duration();
                let total = -(i128::from(d.as_secs()) * 1_000_000
                    + i128::from(d.subsec_nanos()).div_euclid(1000)
                    + i128::from(d.subsec_nanos() % 1000 != 0));
                Timestamp::from_total_us(total).unwrap_or(Timestamp::MIN)
            }
        }
    }

    /// `Timestamp.add(seconds)` of the reference: the fractional part is
    /// rounded half-to-even to microseconds, then carried with floor division.
    // hat's `Timestamp.add(seconds)`; fallible, so not `std::ops::Add`.
    #[allow(clippy::should_implement_trait)]
    pub fn add(self, seconds: f64) -> Result<Timestamp> {
        if !seconds.is_finite() {
            return Err(Error::OutOfRange(format!("cannot add {seconds} seconds to a timestamp")));
        }
        let whole = seconds.trunc();
        // Beyond this the sum cannot fit in i64 anyway; checking first keeps
        // the i128 arithmetic below free of overflow.
        if whole.abs() > 2f64.powi(64) {
            return Err(overflow());
        }
        let frac_us = ((seconds - whole) * 1e6).round_ties_even() as i128;
        let total = self.total_us() + (whole as i128) * i128::from(US_PER_S) + frac_us;
        Timestamp::from_total_us(total)
    }

    /// The 12-byte form: big-endian `u64(s + 2^63)` then big-endian `u32(us)`.
    pub fn to_bytes(self) -> [u8; 12] {
        let mut out = [0u8; 12];
        out[..8].copy_from_slice(&((self.s as u64) ^ (1 << 63)).to_be_bytes());
        out[8..].copy_from_slice(&self.us.to_be_bytes());
        out
    }

    /// Inverse of [`Timestamp::to_bytes`]; microseconds >= 1_000_000 are
    /// refused (the reference accepts them and builds an invalid timestamp).
    pub fn from_bytes(bytes: &[u8]) -> Result<Timestamp> {
        let bytes: &[u8; 12] = bytes.try_into().map_err(|_| {
            Error::InvalidArgument(format!("timestamp bytes must be 12 bytes long, got {}", bytes.len()))
        })?;
        let mut s = [0u8; 8];
        s.copy_from_slice(&bytes[..8]);
        let mut us = [0u8; 4];
        us.copy_from_slice(&bytes[8..]);
        Timestamp::new((u64::from_be_bytes(s) ^ (1 << 63)) as i64, u32::from_be_bytes(us))
    }

    /// `s + us * 1e-6` in double arithmetic, as the reference computes it.
    pub fn to_float(self) -> f64 {
        self.s as f64 + f64::from(self.us) * 1e-6
    }

    /// `timestamp_from_float` of the reference, operation for operation:
    /// `s = int(ts)`, minus one if `ts < 0`; `us = round((ts - s) * 1e6)`.
    ///
    /// Below -2^53 the reference's `ts - s` loses precision and can produce
    /// `us == 2_000_000`; the reference then returns that un-normalised pair,
    /// which this type cannot hold, so the same instant is returned carried
    /// into range (same total microseconds as the reference's answer).
    pub fn from_float(ts: f64) -> Result<Timestamp> {
        if !ts.is_finite() {
            return Err(Error::OutOfRange(format!("{ts} is not a finite number of seconds")));
        }
        let whole = ts.trunc();
        if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&whole) {
            return Err(Error::OutOfRange(format!("{ts} seconds is outside the 64-bit timestamp range")));
        }
        let mut s = whole as i128;
        if ts < 0.0 {
            s -= 1;
        }
        // Python converts the int `s` to the nearest double (ties to even),
        // as Rust's `as` does.
        let us = ((ts - s as f64) * 1e6).round_ties_even() as i128;
        Timestamp::from_total_us(s * i128::from(US_PER_S) + us)
    }

    /// The UTC calendar time of this timestamp; years outside 1..=9999 are
    /// an error (as in the reference, whose `datetime` cannot hold them).
    pub fn to_datetime(self) -> Result<DateTime> {
        if !(DATETIME_MIN_S..=DATETIME_MAX_S).contains(&self.s) {
            return Err(Error::OutOfRange(format!("timestamp {} s is outside years 1..9999", self.s)));
        }
        let days = self.s.div_euclid(86_400);
        // Every field is bounded by the calendar (at most 999_999): fits i32.
        let secs = self.s.rem_euclid(86_400) as i32;
        let (year, month, day) = civil_from_days(days);
        Ok(DateTime {
            year,
            month: month as i32,
            day: day as i32,
            hour: secs / 3600,
            minute: secs / 60 % 60,
            second: secs % 60,
            microsecond: self.us as i32,
        })
    }

    /// The timestamp of a UTC calendar time. Exact for every valid
    /// `DateTime` (the reference goes through a float and is off by one
    /// second for some negative and far-future times).
    pub fn from_datetime(dt: &DateTime) -> Result<Timestamp> {
        check_field("year", i64::from(dt.year), 1, 9999)?;
        check_field("month", i64::from(dt.month), 1, 12)?;
        // month is in 1..=12 from here on
        let month = dt.month as u32;
        check_field("day", i64::from(dt.day), 1, i64::from(days_in_month(dt.year, month)))?;
        check_field("hour", i64::from(dt.hour), 0, 23)?;
        check_field("minute", i64::from(dt.minute), 0, 59)?;
        check_field("second", i64::from(dt.second), 0, 59)?;
        check_field("microsecond", i64::from(dt.microsecond), 0, 999_999)?;
        let days = days_from_civil(dt.year, month, dt.day as u32);
        let s = days * 86_400 + i64::from(dt.hour) * 3600 + i64::from(dt.minute) * 60 + i64::from(dt.second);
        Timestamp::new(s, dt.microsecond as u32)
    }

    /// RFC 3339 text in UTC with six fractional digits,
    /// `2024-01-02T03:04:05.000006Z`; years outside 1..=9999 are an error.
    pub fn to_rfc3339(self) -> Result<String> {
        let dt = self.to_datetime()?;
        Ok(format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond
        ))
    }

    /// Parses RFC 3339 date-time text: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`
    /// (`T` may also be `t` or a space, `Z` may be `z`). The fraction may
    /// have any number of digits, but digits beyond microseconds must be zero:
    /// a timestamp cannot hold them, and dropping them silently would lose data.
    /// Leap seconds (`:60`) are refused.
    pub fn parse_rfc3339(text: &str) -> Result<Timestamp> {
        let err = |why: &str| Error::Parse(format!("invalid RFC 3339 timestamp {}: {why}", Quoted(text)));
        let b = text.as_bytes();
        let digits = |at: usize, n: usize| -> Result<i32> {
            let part = b.get(at..at + n).ok_or_else(|| err("text ends early"))?;
            if !part.iter().all(u8::is_ascii_digit) {
                return Err(err(&format!("expected {n} digits at byte {at}")));
            }
            Ok(part.iter().fold(0, |acc, d| acc * 10 + i32::from(d - b'0')))
        };
        let expect = |at: usize, allowed: &[u8]| -> Result<()> {
            match b.get(at) {
                Some(c) if allowed.contains(c) => Ok(()),
                _ => Err(err(&format!("expected one of {:?} at byte {at}", String::from_utf8_lossy(allowed)))),
            }
        };
        let year = digits(0, 4)?;
        expect(4, b"-")?;
        let month = digits(5, 2)?;
        expect(7, b"-")?;
        let day = digits(8, 2)?;
        expect(10, b"Tt ")?;
        let hour = digits(11, 2)?;
        expect(13, b":")?;
        let minute = digits(14, 2)?;
        expect(16, b":")?;
        let second = digits(17, 2)?;
        let mut at = 19;
        let mut microsecond = 0;
        if b.get(at) == Some(&b'.') {
            at += 1;
            let start = at;
            while b.get(at).is_some_and(u8::is_ascii_digit) {
                let d = i32::from(b[at] - b'0');
                let place = at - start;
                if place < 6 {
                    microsecond += d * 10i32.pow(5 - place as u32);
                } else if d != 0 {
                    return Err(err("more precision than microseconds"));
                }
                at += 1;
            }
            if at == start {
                return Err(err("no digits after '.'"));
            }
        }
        let offset_s: i64 = match b.get(at) {
            Some(b'Z' | b'z') => {
                at += 1;
                0
            }
            Some(sign @ (b'+' | b'-')) => {
                let sign = if *sign == b'+' { 1 } else { -1 };
                let oh = digits(at + 1, 2)?;
                expect(at + 3, b":")?;
                let om = digits(at + 4, 2)?;
                if oh > 23 || om > 59 {
                    return Err(err("offset out of range"));
                }
                at += 6;
                sign * i64::from(oh * 3600 + om * 60)
            }
            _ => return Err(err("missing 'Z' or UTC offset")),
        };
        if at != b.len() {
            return Err(err(&format!("unexpected text at byte {at}")));
        }
        let local = Timestamp::from_datetime(&DateTime { year, month, day, hour, minute, second, microsecond })
            .map_err(|e| err(&e.to_string()))?;
        Ok(Timestamp { s: local.s - offset_s, us: local.us })
    }
}

fn overflow() -> Error {
    Error::OutOfRange("timestamp seconds overflow the 64-bit range".into())
}

fn check_field(name: &str, value: i64, min: i64, max: i64) -> Result<()> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(Error::OutOfRange(format!("datetime {name} {value} not in {min}..={max}")))
    }
}

fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Days since 1970-01-01 of a proleptic Gregorian date, and back; the
// era-based algorithm (400-year cycles of 146_097 days) keeps every step in
// integers.
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year as i32, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64, us: u32) -> Timestamp {
        Timestamp::new(s, us).unwrap()
    }

    #[test]
    fn new_refuses_a_million_microseconds() {
        assert!(Timestamp::new(0, 999_999).is_ok());
        assert!(matches!(Timestamp::new(0, 1_000_000), Err(Error::OutOfRange(_))));
    }

    #[test]
    fn order_is_by_seconds_then_microseconds() {
        let sorted = [ts(-1, 0), ts(-1, 1), ts(-1, 999_999), ts(0, 0), ts(0, 1), ts(1, 0), ts(1, 1)];
        for (i, a) in sorted.iter().enumerate() {
            for (j, b) in sorted.iter().enumerate() {
                assert_eq!(a.cmp(b), i.cmp(&j), "{a:?} vs {b:?}");
            }
        }
    }

    // hat-event test_timestamp.py::test_timestamp_add
    #[test]
    fn add_matches_reference_cases() {
        let cases = [
            (ts(0, 0), 0.0, ts(0, 0)),
            (ts(0, 0), 0.001, ts(0, 1000)),
            (ts(0, 0), -0.001, ts(-1, 999_000)),
            (ts(0, 0), 1.0, ts(1, 0)),
            (ts(0, 0), 1.001, ts(1, 1000)),
            (ts(0, 0), -1.001, ts(-2, 999_000)),
        ];
        for (t1, s, t2) in cases {
            assert_eq!(t1.add(s).unwrap(), t2, "{t1:?} + {s}");
            assert_eq!(t2.add(-s).unwrap(), t1, "{t2:?} - {s}");
        }
    }

    #[test]
    fn add_rounds_half_to_even_and_carries() {
        // 0.5 us rounds to 0, 1.5 us to 2 (the fractions are exact in binary
        // only approximately, so pick values whose product is exactly .5)
        assert_eq!(ts(0, 0).add(0.5e-6 * 3.0).unwrap().us(), 2);
        assert_eq!(ts(0, 999_999).add(0.000_001).unwrap(), ts(1, 0));
        assert_eq!(ts(5, 0).add(-0.000_001).unwrap(), ts(4, 999_999));
    }

    #[test]
    fn add_refuses_overflow_and_non_finite() {
        assert!(Timestamp::MAX.add(1.0).is_err());
        assert!(Timestamp::MIN.add(-1.0).is_err());
        assert!(ts(0, 0).add(f64::NAN).is_err());
        assert!(ts(0, 0).add(f64::INFINITY).is_err());
        assert!(ts(0, 0).add(1e300).is_err());
        assert_eq!(Timestamp::MAX.add(-0.0).unwrap(), Timestamp::MAX);
    }

    // hat-event test_timestamp.py::test_timestamp_bytes
    #[test]
    fn bytes_match_reference_cases() {
        let cases: [(Timestamp, [u8; 12]); 3] = [
            (ts(0, 0), [0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            (ts(2_145_916_800, 99_999), [0x80, 0, 0, 0, 0x7f, 0xe8, 0x17, 0x80, 0, 0x01, 0x86, 0x9f]),
            (ts(12_321, 99_999), [0x80, 0, 0, 0, 0, 0, 0x30, 0x21, 0, 0x01, 0x86, 0x9f]),
        ];
        for (t, b) in cases {
            assert_eq!(t.to_bytes(), b);
            assert_eq!(Timestamp::from_bytes(&b).unwrap(), t);
        }
    }

    #[test]
    fn bytes_of_min_and_max_are_extremes_and_order_preserving() {
        assert_eq!(Timestamp::MIN.to_bytes(), [0; 12]);
        assert_eq!(Timestamp::MAX.to_bytes(), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0x0f, 0x42, 0x3f]);
        assert!(ts(-1, 5).to_bytes() < ts(0, 0).to_bytes());
        assert_eq!(Timestamp::from_bytes(&Timestamp::MAX.to_bytes()).unwrap(), Timestamp::MAX);
    }

    #[test]
    fn from_bytes_refuses_bad_length_and_microseconds() {
        assert!(matches!(Timestamp::from_bytes(&[0; 11]), Err(Error::InvalidArgument(_))));
        let mut b = ts(0, 0).to_bytes();
        b[8..].copy_from_slice(&1_000_000u32.to_be_bytes());
        assert!(matches!(Timestamp::from_bytes(&b), Err(Error::OutOfRange(_))));
    }

    // hat-event test_timestamp.py::test_timestamp_float
    #[test]
    fn float_matches_reference_cases() {
        let cases = [
            (ts(0, 0), 0.0),
            (ts(1, 0), 1.0),
            (ts(1_000, 10_000), 1_000.01),
            (ts(-473_385_600, 123), -473_385_600.0 + 123.0 * 1e-6),
            (ts(473_385_600, 123), 473_385_600.0 + 123.0 * 1e-6),
            (ts(4_099_680_000, 123), 4_099_680_000.0 + 123.0 * 1e-6),
            (ts(409_968, 999_999), 409_968.0 + 999_999.0 * 1e-6),
            (ts(409_968, 999_999), 409_968.0 + 9_999_994.0 * 1e-7),
            (ts(409_969, 0), 409_968.0 + 9_999_996.0 * 1e-7),
            (ts(409_969, 0), 409_968.0 + 9_999_999.0 * 1e-7),
            (ts(-409_969, 1), -409_968.0 - 9_999_994.0 * 1e-7),
            (ts(-409_969, 0), -409_968.0 - 9_999_996.0 * 1e-7),
            (ts(-409_968, 0), -409_968.0 - 4.0 * 1e-7),
            (ts(-409_969, 999_999), -409_968.0 - 6.0 * 1e-7),
        ];
        for (t, f) in cases {
            // math.isclose as the reference test uses it: rel_tol = abs_tol = 1e-9
            let (a, b) = (t.to_float(), f);
            assert!((a - b).abs() <= (1e-9 * a.abs().max(b.abs())).max(1e-9), "{t:?} -> {a}");
            assert_eq!(Timestamp::from_float(f).unwrap(), t, "{f}");
        }
    }

    #[test]
    fn from_float_of_negative_integers_carries() {
        assert_eq!(Timestamp::from_float(-1.0).unwrap(), ts(-1, 0));
        assert_eq!(Timestamp::from_float(-0.0).unwrap(), ts(0, 0));
        assert_eq!(Timestamp::from_float(-1e-7).unwrap(), ts(0, 0));
        assert_eq!(Timestamp::from_float(-1.5e-6).unwrap(), ts(-1, 999_998));
    }

    #[test]
    fn from_float_follows_reference_precision_loss_below_minus_2_pow_53() {
        // Values the reference (hat-event 0.9.44) returns for these inputs:
        // -(2^53)-4 -> (-9007199254740997, 0); -(2^54)-8 -> (-18014398509481993, 0);
        // -(2^53)-2 -> (-9007199254740995, 2000000), i.e. the instant below.
        assert_eq!(Timestamp::from_float(-(2f64.powi(53)) - 4.0).unwrap(), ts(-9_007_199_254_740_997, 0));
        assert_eq!(Timestamp::from_float(-(2f64.powi(54)) - 8.0).unwrap(), ts(-18_014_398_509_481_993, 0));
        assert_eq!(Timestamp::from_float(-(2f64.powi(53)) - 2.0).unwrap(), ts(-9_007_199_254_740_993, 0));
    }

    #[test]
    fn from_float_refuses_out_of_range() {
        assert!(Timestamp::from_float(f64::NAN).is_err());
        assert!(Timestamp::from_float(f64::NEG_INFINITY).is_err());
        assert!(Timestamp::from_float(9_223_372_036_854_775_808.0).is_err());
        // -2^63 itself: the reference computes s = -2^63 - 1, outside i64.
        assert!(Timestamp::from_float(-9_223_372_036_854_775_808.0).is_err());
        assert_eq!(Timestamp::from_float(9_223_372_036_854_774_784.0).unwrap(), ts(9_223_372_036_854_774_784, 0));
    }

    fn dt(year: i32, month: i32, day: i32, hour: i32, minute: i32, second: i32, microsecond: i32) -> DateTime {
        DateTime { year, month, day, hour, minute, second, microsecond }
    }

    // hat-event test_timestamp.py::test_timestamp_datetime
    #[test]
    fn datetime_matches_reference_cases() {
        let cases = [
            (ts(-2_208_988_800, 999_999), dt(1900, 1, 1, 0, 0, 0, 999_999)),
            (ts(0, 0), dt(1970, 1, 1, 0, 0, 0, 0)),
            (ts(0, 123), dt(1970, 1, 1, 0, 0, 0, 123)),
            (ts(2_145_916_800, 99_999), dt(2038, 1, 1, 0, 0, 0, 99_999)),
            (ts(4_133_980_799, 1), dt(2100, 12, 31, 23, 59, 59, 1)),
        ];
        for (t, d) in cases {
            assert_eq!(t.to_datetime().unwrap(), d);
            assert_eq!(Timestamp::from_datetime(&d).unwrap(), t);
        }
    }

    #[test]
    fn datetime_covers_years_1_to_9999_and_leap_days() {
        assert_eq!(ts(DATETIME_MIN_S, 0).to_datetime().unwrap(), dt(1, 1, 1, 0, 0, 0, 0));
        assert_eq!(ts(DATETIME_MAX_S, 999_999).to_datetime().unwrap(), dt(9999, 12, 31, 23, 59, 59, 999_999));
        assert!(ts(DATETIME_MIN_S - 1, 999_999).to_datetime().is_err());
        assert!(ts(DATETIME_MAX_S + 1, 0).to_datetime().is_err());
        assert_eq!(Timestamp::from_datetime(&dt(2000, 2, 29, 0, 0, 0, 0)).unwrap(), ts(951_782_400, 0));
        assert_eq!(Timestamp::from_datetime(&dt(2024, 2, 29, 12, 0, 0, 0)).unwrap(), ts(1_709_208_000, 0));
        assert!(Timestamp::from_datetime(&dt(1900, 2, 29, 0, 0, 0, 0)).is_err());
        assert!(Timestamp::from_datetime(&dt(2023, 2, 29, 0, 0, 0, 0)).is_err());
        assert!(Timestamp::from_datetime(&dt(0, 1, 1, 0, 0, 0, 0)).is_err());
        assert!(Timestamp::from_datetime(&dt(10000, 1, 1, 0, 0, 0, 0)).is_err());
        assert!(Timestamp::from_datetime(&dt(2000, 13, 1, 0, 0, 0, 0)).is_err());
        assert!(Timestamp::from_datetime(&dt(2000, 1, 1, 24, 0, 0, 0)).is_err());
        assert!(Timestamp::from_datetime(&dt(2000, 1, 1, 0, 0, 60, 0)).is_err());
        assert!(Timestamp::from_datetime(&dt(2000, 1, 1, 0, 0, 0, 1_000_000)).is_err());
    }

    #[test]
    fn datetime_round_trips_every_day_of_a_400_year_cycle() {
        let mut s = days_from_civil(1600, 1, 1) * 86_400;
        let end = days_from_civil(2000, 1, 1) * 86_400;
        while s < end {
            let t = ts(s + 3661, 7);
            assert_eq!(Timestamp::from_datetime(&t.to_datetime().unwrap()).unwrap(), t);
            s += 86_400;
        }
    }

    #[test]
    fn rfc3339_round_trips_with_six_digits() {
        let t = ts(1_704_164_645, 6);
        assert_eq!(t.to_rfc3339().unwrap(), "2024-01-02T03:04:05.000006Z");
        assert_eq!(Timestamp::parse_rfc3339("2024-01-02T03:04:05.000006Z").unwrap(), t);
        assert_eq!(ts(-1, 999_999).to_rfc3339().unwrap(), "1969-12-31T23:59:59.999999Z");
        assert!(Timestamp::MAX.to_rfc3339().is_err());
    }

    #[test]
    fn rfc3339_parses_offsets_fractions_and_lowercase() {
        let t = Timestamp::parse_rfc3339("2024-01-02T03:04:05Z").unwrap();
        assert_eq!(t, ts(1_704_164_645, 0));
        assert_eq!(Timestamp::parse_rfc3339("2024-01-02t05:04:05.5+02:00").unwrap(), ts(1_704_164_645, 500_000));
        assert_eq!(Timestamp::parse_rfc3339("2024-01-01 23:04:05-04:00").unwrap(), t);
        assert_eq!(Timestamp::parse_rfc3339("2024-01-02T03:04:05.123456000z").unwrap(), ts(1_704_164_645, 123_456));
    }

    #[test]
    fn rfc3339_refuses_malformed_text() {
        for bad in [
            "",
            "2024-01-02",
            "2024-01-02T03:04:05",
            "2024-01-02T03:04:05.Z",
            "2024-01-02T03:04:05.1234567Z",
            "2024-01-02T03:04:60Z",
            "2024-02-30T03:04:05Z",
            "2024-01-02T03:04:05+2:00",
            "2024-01-02T03:04:05Zjunk",
            "0000-01-01T00:00:00Z",
            "2024-01-02X03:04:05Z",
        ] {
            assert!(matches!(Timestamp::parse_rfc3339(bad), Err(Error::Parse(_))), "{bad:?}");
        }
    }

    #[test]
    fn a_huge_bad_rfc3339_input_gives_a_short_message() {
        let text = "\u{1}".repeat(100 << 20);
        let e = Timestamp::parse_rfc3339(&text).unwrap_err().to_string();
        assert!(e.len() < 200, "{} bytes", e.len());
        assert!(e.contains("(104857600 bytes)"), "{e}");
        let e =
            Timestamp::parse_rfc3339(&format!("2024-01-01T00:00:00Z{}", "9".repeat(10 << 20))).unwrap_err().to_string();
        assert!(e.len() < 200 && e.contains("unexpected text at byte 20"), "{e}");
    }

    #[test]
    fn range_messages_show_the_values_given_and_inclusive_bounds() {
        let e = Timestamp::new(0, 1_000_000).unwrap_err().to_string();
        assert_eq!(e, "timestamp microseconds 1000000 not in 0..=999999");
        let e = Timestamp::from_datetime(&dt(2000, 1, 1, -1, 0, 0, 0)).unwrap_err().to_string();
        assert_eq!(e, "datetime hour -1 not in 0..=23");
        let e = Timestamp::from_datetime(&dt(2000, 1, 1, 0, 0, 0, i32::MIN)).unwrap_err().to_string();
        assert_eq!(e, "datetime microsecond -2147483648 not in 0..=999999");
        let e = Timestamp::from_datetime(&dt(2000, -3, 1, 0, 0, 0, 0)).unwrap_err().to_string();
        assert_eq!(e, "datetime month -3 not in 1..=12");
    }
}
