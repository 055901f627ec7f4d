//! JSON text exactly as hat-event writes it: Python's
//! `json.dumps(value, allow_nan=False)` with its defaults — `", "` and
//! `": "` separators, ASCII-only output (`\uXXXX` escapes, surrogate pairs
//! above U+FFFF), Python's float repr, integers of any size as written,
//! object members in order.

use std::fmt::Write;

use serde_json::{Number, Value};

use crate::error::{Error, Result};

/// `json.dumps(value, allow_nan=False)`. Numbers too large for a double
/// (Python reads `1e400` as infinity) are refused, as Python refuses them.
pub fn to_python_json(value: &Value) -> Result<String> {
    let mut out = String::new();
    write_value(&mut out, value)?;
    Ok(out)
}

/// Equality as Python's `==` on the values `json.loads` makes: numbers by
/// numeric value (`1 == 1.0`, `0.0 == -0.0`, `1E5 == 100000.0`; an int and a
/// float exactly, as Python compares them), objects regardless of member
/// order, everything else structurally.
pub fn python_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => numbers_eq(x.as_str(), y.as_str()),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| python_eq(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| python_eq(v, w)))
        }
        _ => a == b,
    }
}

fn is_int(text: &str) -> bool {
    !text.contains(['.', 'e', 'E'])
}

/// The canonical digits of an integer text: no sign on zero.
fn int_digits(text: &str) -> &str {
    if text == "-0" {
        "0"
    } else {
        text
    }
}

/// The exact integer a float holds, as digits; None if it has a fraction or
/// is not finite.
fn float_as_int(f: f64) -> Option<String> {
    (f.is_finite() && f.fract() == 0.0).then(|| {
        let digits = format!("{f:.0}");
        if digits == "-0" {
            "0".to_owned()
        } else {
            digits
        }
    })
}

fn numbers_eq(x: &str, y: &str) -> bool {
    // Python parses float text to the nearest double, as Rust does.
    let float = |t: &str| t.parse::<f64>().unwrap_or(f64::NAN);
    match (is_int(x), is_int(y)) {
        (true, true) => int_digits(x) == int_digits(y),
        (false, false) => float(x) == float(y),
        (true, false) => float_as_int(float(y)).is_some_and(|d| d == int_digits(x)),
        (false, true) => float_as_int(float(x)).is_some_and(|d| d == int_digits(y)),
    }
}

fn write_value(out: &mut String, value: &Value) -> Result<()> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n)?,
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item)?;
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (key, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(out, key);
                out.push_str(": ");
                write_value(out, item)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_number(out: &mut String, n: &Number) -> Result<()> {
    // With arbitrary_precision the number keeps its JSON text; Python
    // reads text without '.', 'e' or 'E' as an int (any size), else a float.
    let text = n.as_str();
    if !text.contains(['.', 'e', 'E']) {
        // Python prints ints without a sign on zero and without leading zeros
        // (JSON allows neither leading zeros nor '+', so only "-0" differs).
        out.push_str(if text == "-0" { "0" } else { text });
        return Ok(());
    }
    let f: f64 = text.parse().map_err(|_| Error::InvalidJson(format!("invalid number {text}")))?;
    if !f.is_finite() {
        return Err(Error::InvalidJson(format!("number {text} is out of the range of a double")));
    }
    write_float(out, f);
    Ok(())
}

/// Python's `float.__repr__`: the shortest digits that round-trip, in
/// fixed notation for exponents -4..=15 (with `.0` for integral values) and
/// scientific notation otherwise (`1e+16`, `1.5e-05`).
pub(crate) fn write_float(out: &mut String, f: f64) {
    if f == 0.0 {
        out.push_str(if f.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    // Rust's `{:e}` gives the shortest round-trip digits, but from 16 digits
    // on it may pick a candidate other than the closest one (or, on an exact
    // tie, the odd one), where Python's repr takes the closest (ties to an
    // even digit): printing that many digits in exact mode gives that one.
    let mut sci = StackText::default();
    let _ = write!(sci, "{f:e}");
    let digit_count = sci.as_str().split('e').next().unwrap_or("").bytes().filter(u8::is_ascii_digit).count();
    if digit_count >= 16 {
        // Python picks the closest round-tripping candidate; near a power of
        // two the closest one may round to the neighbouring double, and then
        // the shortest-mode digits are the only candidate.
        let mut exact = StackText::default();
        let _ = write!(exact, "{:.*e}", digit_count - 1, f);
        if exact.as_str().parse::<f64>() == Ok(f) {
            sci = exact;
        }
    }
    let (mantissa, exp) = sci.as_str().split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let mut digit_buf = [0u8; 24];
    let mut n = 0;
    for d in mantissa.bytes().filter(u8::is_ascii_digit) {
        digit_buf[n] = d;
        n += 1;
    }
    // ASCII digits only.
    let digits = std::str::from_utf8(&digit_buf[..n]).unwrap_or("0");
    out.push_str(sign);
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        if point <= 0 {
            out.push_str("0.");
            out.push_str(&"0".repeat((-point) as usize));
            out.push_str(&digits);
        } else if point as usize >= digits.len() {
            out.push_str(&digits);
            out.push_str(&"0".repeat(point as usize - digits.len()));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..point as usize]);
            out.push('.');
            out.push_str(&digits[point as usize..]);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
}

/// Formatting space on the stack: a float's `{:e}` text is at most 24 bytes.
#[derive(Default)]
struct StackText {
    buf: [u8; 32],
    len: usize,
}

impl StackText {
    fn as_str(&self) -> &str {
        // Only `write_str` fills it, with whole UTF-8 strings.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    // Printable ASCII without quotes or backslashes goes out as it is.
    if s.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\') {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dumps(text: &str) -> String {
        to_python_json(&serde_json::from_str(text).unwrap()).unwrap()
    }

    // Expected values are Python 3.11's json.dumps(json.loads(text)).
    #[test]
    fn separators_and_member_order_follow_python() {
        assert_eq!(dumps(r#"{"b":1,"a":[1,2,{}],"c":{"x":null}}"#), r#"{"b": 1, "a": [1, 2, {}], "c": {"x": null}}"#);
        assert_eq!(dumps("[]"), "[]");
        assert_eq!(dumps("[true,false,null]"), "[true, false, null]");
    }

    #[test]
    fn floats_use_python_repr() {
        for (text, python) in [
            ("1.0", "1.0"),
            ("1e16", "1e+16"),
            ("1E15", "1000000000000000.0"),
            ("1e-05", "1e-05"),
            ("0.0001", "0.0001"),
            ("0.1", "0.1"),
            ("-0.0", "-0.0"),
            ("1.5e300", "1.5e+300"),
            ("123456789.125", "123456789.125"),
            ("2.5e-7", "2.5e-07"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
            ("5e-324", "5e-324"),
            ("12345678901234567.0", "1.2345678901234568e+16"),
            ("100.0", "100.0"),
            // A tie at 17 digits: Python rounds half to even.
            ("26755133183000.8125", "26755133183000.812"),
            // Found by fuzzing: the closest 16 digits would not round-trip.
            ("5.444517870735016e+39", "5.444517870735016e+39"),
            ("5.960464477539063e-08", "5.960464477539063e-08"),
        ] {
            assert_eq!(dumps(text), python, "{text}");
        }
    }

    #[test]
    fn integers_keep_every_digit() {
        assert_eq!(dumps("123456789012345678901234567890"), "123456789012345678901234567890");
        assert_eq!(dumps("-9223372036854775809"), "-9223372036854775809");
        assert_eq!(dumps("-0"), "0");
    }

    #[test]
    fn strings_are_ascii_with_python_escapes() {
        assert_eq!(dumps(r#""a\"b\\c\/d""#), r#""a\"b\\c/d""#);
        assert_eq!(dumps("\"\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f\""), r#""\n\r\t\b\f\u0001\u001f\u007f""#);
        assert_eq!(dumps("\"žé日\""), r#""\u017e\u00e9\u65e5""#);
        assert_eq!(dumps("\"😀\""), r#""\ud83d\ude00""#);
        assert_eq!(dumps(r#"{"ключ": 1}"#), r#"{"\u043a\u043b\u044e\u0447": 1}"#);
    }

    #[test]
    fn equality_is_pythons() {
        let eq = |a: &str, b: &str| python_eq(&serde_json::from_str(a).unwrap(), &serde_json::from_str(b).unwrap());
        for (a, b) in [
            ("0", "-0"),
            ("1E-5", "1e-05"),
            ("1e23", "100000000000000000000000.0"),
            ("1e400", "1e401"),
            ("2e-324", "0.0"),
            ("-0.0", "0.0"),
            ("1", "1.0"),
            ("0", "0.0"),
            (r#"{"a": 1, "b": [2]}"#, r#"{"b": [2.0], "a": 1}"#),
        ] {
            assert!(eq(a, b), "{a} == {b}");
        }
        for (a, b) in [
            ("9007199254740993", "9007199254740992.0"),
            ("1", "1.5"),
            ("1", "true"),
            ("[1, 2]", "[2, 1]"),
            (r#"{"a": 1}"#, r#"{"a": 1, "b": 2}"#),
            (r#""1""#, "1"),
        ] {
            assert!(!eq(a, b), "{a} != {b}");
        }
    }

    #[test]
    fn numbers_beyond_a_double_are_refused() {
        let v: Value = serde_json::from_str("1e400").unwrap();
        assert!(matches!(to_python_json(&v), Err(Error::InvalidJson(_))));
    }
}
