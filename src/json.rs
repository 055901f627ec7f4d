//! JSON text exactly as hat-event writes it: Python's
//! `json.dumps(value, allow_nan=False)` with its defaults — `", "` and
//! `": "` separators, ASCII-only output (`\uXXXX` escapes, surrogate pairs
//! above U+FFFF), Python's float repr, integers of any size as written,
//! object members in order.

use std::fmt::Write;

use serde_json::{Number, Value};

use crate::error::{Error, Result};

/// A JSON payload's value, kept as the text hat-event writes for it
/// (`json.dumps`, see [`to_python_json`]): what the SBS wire carries and C
/// reads, so encoding is a copy and decoding what hat-event wrote is one
/// validating pass ([`is_canonical`]) without building a tree. The value
/// is parsed only when asked for ([`JsonPayload::value`], equality).
#[derive(Clone, Debug)]
pub struct JsonPayload(JsonRepr);

#[derive(Clone, Debug)]
enum JsonRepr {
    /// Shared: cloning an event (into a session, a query result) copies no
    /// payload bytes.
    Text(std::sync::Arc<str>),
    /// A value Python holds but cannot write (a number beyond a double,
    /// which it reads as infinity): kept parsed, and writing it fails as it
    /// fails in hat-event.
    Unwritable(Box<Value>),
}

impl JsonPayload {
    /// From JSON text holding exactly one value (any formatting).
    pub fn from_text(text: &str) -> Result<JsonPayload> {
        if is_canonical(text) {
            return Ok(JsonPayload(JsonRepr::Text(text.into())));
        }
        let value: Value = serde_json::from_str(text).map_err(|e| Error::InvalidJson(e.to_string()))?;
        Ok(JsonPayload::from_value(value))
    }

    pub fn from_value(value: Value) -> JsonPayload {
        match to_python_json(&value) {
            Ok(text) => JsonPayload(JsonRepr::Text(text.into())),
            Err(_) => JsonPayload(JsonRepr::Unwritable(Box::new(value))),
        }
    }

    /// The text `json.dumps` writes; an error for a value it cannot write.
    pub fn text(&self) -> Result<&str> {
        match &self.0 {
            JsonRepr::Text(text) => Ok(text),
            JsonRepr::Unwritable(value) => Err(to_python_json(value).err().unwrap_or_else(|| {
                Error::InvalidJson("the value cannot be written as JSON".into())
            })),
        }
    }

    /// The parsed value (member order and big integers preserved).
    pub fn value(&self) -> Value {
        match &self.0 {
            // Canonical text is valid JSON, so this cannot fail.
            JsonRepr::Text(text) => serde_json::from_str(text).unwrap_or(Value::Null),
            JsonRepr::Unwritable(value) => (**value).clone(),
        }
    }
}

/// Python's `==` on the values (see [`python_eq`]); equal texts need no parse.
impl PartialEq for JsonPayload {
    fn eq(&self, other: &JsonPayload) -> bool {
        if let (JsonRepr::Text(a), JsonRepr::Text(b)) = (&self.0, &other.0) {
            if a == b {
                return true;
            }
        }
        python_eq(&self.value(), &other.value())
    }
}

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
    write_repr_layout(out, sign, digits, exp);
}

/// Python's float repr layout of `sign` `0.`-less significant `digits`
/// (first one non-zero, no trailing zeros) times 10^`exp` (of the first
/// digit): fixed notation for exponents -4..=15, scientific otherwise.
fn write_repr_layout(out: &mut impl Write, sign: &str, digits: &str, exp: i32) {
    const ZEROS: &str = "0000000000000000";
    let _ = out.write_str(sign);
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        let _ = if point <= 0 {
            out.write_str("0.").and(out.write_str(&ZEROS[..(-point) as usize])).and(out.write_str(digits))
        } else if point as usize >= digits.len() {
            out.write_str(digits).and(out.write_str(&ZEROS[..point as usize - digits.len()])).and(out.write_str(".0"))
        } else {
            let (int, frac) = digits.split_at(point as usize);
            out.write_str(int).and(out.write_str(".")).and(out.write_str(frac))
        };
    } else {
        let _ = out.write_str(&digits[..1]);
        if digits.len() > 1 {
            let _ = out.write_str(".").and(out.write_str(&digits[1..]));
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

/// Nesting beyond which [`is_canonical`] leaves the decision to the full
/// parser (which refuses 128 levels and more).
const CANONICAL_MAX_DEPTH: usize = 100;

/// Whether `text` is already exactly what [`to_python_json`] writes for the
/// value it holds: valid JSON, `", "` and `": "` separators and no other
/// whitespace, escapes and `\uXXXX` (lowercase) only where `json.dumps`
/// puts them, integers without `-0`, floats in Python repr, no duplicate
/// member names. Conservative: `false` means "parse and rewrite it", never
/// "invalid". One pass, no tree: what hat-event (and this library) write
/// is accepted without building a value.
pub(crate) fn is_canonical(text: &str) -> bool {
    let mut at = 0;
    canonical_value(text.as_bytes(), &mut at, 0) && at == text.len()
}

fn canonical_value(b: &[u8], at: &mut usize, depth: usize) -> bool {
    match b.get(*at) {
        Some(b'n') => canonical_literal(b, at, b"null"),
        Some(b't') => canonical_literal(b, at, b"true"),
        Some(b'f') => canonical_literal(b, at, b"false"),
        Some(b'"') => canonical_string(b, at),
        Some(b'-' | b'0'..=b'9') => canonical_number(b, at),
        Some(b'[') if depth < CANONICAL_MAX_DEPTH => {
            *at += 1;
            if b.get(*at) == Some(&b']') {
                *at += 1;
                return true;
            }
            loop {
                if !canonical_value(b, at, depth + 1) {
                    return false;
                }
                if b.get(*at) == Some(&b']') {
                    *at += 1;
                    return true;
                }
                if b.get(*at..*at + 2) != Some(b", ") {
                    return false;
                }
                *at += 2;
            }
        }
        Some(b'{') if depth < CANONICAL_MAX_DEPTH => {
            *at += 1;
            if b.get(*at) == Some(&b'}') {
                *at += 1;
                return true;
            }
            // Member names seen, to refuse duplicates (Python keeps the
            // last value, so the text would change): canonical names are
            // equal exactly when their texts are.
            // (start, end) of each, half the stack a slice each would take.
            let mut names = [(0u32, 0u32); 32];
            let mut count = 0;
            loop {
                let start = *at;
                if b.get(*at) != Some(&b'"') || !canonical_string(b, at) {
                    return false;
                }
                let name = &b[start..*at];
                if count == names.len()
                    || names[..count].iter().any(|&(s, e)| b[s as usize..e as usize] == *name)
                    || u32::try_from(*at).is_err()
                {
                    return false; // a duplicate; or a large object, left to the parser
                }
                names[count] = (start as u32, *at as u32);
                count += 1;
                if b.get(*at..*at + 2) != Some(b": ") {
                    return false;
                }
                *at += 2;
                if !canonical_value(b, at, depth + 1) {
                    return false;
                }
                if b.get(*at) == Some(&b'}') {
                    *at += 1;
                    return true;
                }
                if b.get(*at..*at + 2) != Some(b", ") {
                    return false;
                }
                *at += 2;
            }
        }
        _ => false,
    }
}

fn canonical_literal(b: &[u8], at: &mut usize, word: &[u8]) -> bool {
    let ok = b.get(*at..*at + word.len()) == Some(word);
    *at += word.len();
    ok
}

/// Four lowercase hex digits at `at`.
fn lower_hex4(b: &[u8], at: usize) -> Option<u32> {
    let digits = b.get(at..at + 4)?;
    digits.iter().try_fold(0u32, |acc, &d| {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => return None,
        };
        Some(acc * 16 + u32::from(v))
    })
}

fn canonical_string(b: &[u8], at: &mut usize) -> bool {
    // A local index (kept in a register), written back once at the end.
    let mut i = *at + 1; // past the opening quote
    let ok = loop {
        match b.get(i) {
            // raw control characters, DEL and non-ASCII are escaped by json.dumps
            Some(&c) if (0x20..=0x7e).contains(&c) && c != b'"' && c != b'\\' => i += 1,
            Some(b'"') => {
                i += 1;
                break true;
            }
            Some(b'\\') => match b.get(i + 1) {
                Some(b'"' | b'\\' | b'n' | b'r' | b't' | b'b' | b'f') => i += 2,
                Some(b'u') => {
                    let Some(unit) = lower_hex4(b, i + 2) else {
                        break false;
                    };
                    i += 6;
                    match unit {
                        // printable ASCII is written as itself; these five have short escapes
                        0x20..=0x7e | 0x08 | 0x09 | 0x0a | 0x0c | 0x0d => break false,
                        0xd800..=0xdbff => {
                            // a high surrogate, then its low one
                            if b.get(i..i + 2) != Some(b"\\u") {
                                break false;
                            }
                            match lower_hex4(b, i + 2) {
                                Some(0xdc00..=0xdfff) => i += 6,
                                _ => break false,
                            }
                        }
                        0xdc00..=0xdfff => break false,
                        _ => {}
                    }
                }
                _ => break false,
            },
            _ => break false,
        }
    };
    *at = i;
    ok
}

fn canonical_number(b: &[u8], at: &mut usize) -> bool {
    let start = *at;
    // A local index (kept in a register), written back on success (on
    // failure the whole check fails, wherever it stopped).
    let mut i = *at;
    let digits = |i: &mut usize| {
        let from = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > from
    };
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    let int_start = i;
    if !digits(&mut i) || (b[int_start] == b'0' && i - int_start > 1) {
        return false;
    }
    let int_end = i;
    let mut frac = None;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let frac_start = i;
        if !digits(&mut i) {
            return false;
        }
        frac = Some(&b[frac_start..i]);
    }
    let has_exponent = matches!(b.get(i), Some(b'e' | b'E'));
    if has_exponent {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    *at = i;
    let token = &b[start..i];
    if !has_exponent {
        match frac {
            None => return token != b"-0", // Python writes the int -0 as 0
            Some(frac) => {
                if let Some(canonical) = fixed_float_is_repr(&b[int_start..int_end], frac) {
                    return canonical;
                }
            }
        }
    }
    if let Some(canonical) = float_token_is_repr(token) {
        return canonical;
    }
    // ASCII by construction.
    let Ok(f) = std::str::from_utf8(token).unwrap_or("").parse::<f64>() else {
        return false;
    };
    if !f.is_finite() {
        return false;
    }
    let mut repr = String::with_capacity(24);
    write_float(&mut repr, f);
    repr.as_bytes() == token
}

/// [`float_token_is_repr`] for the common layout, digits `int.frac`
/// without an exponent, decided from the two digit runs already scanned
/// (no second pass): `None` where that needs the general rule.
#[inline]
fn fixed_float_is_repr(int: &[u8], frac: &[u8]) -> Option<bool> {
    if frac == b"0" {
        // an integral value: repr writes "<int>.0" up to 16 integer digits
        // (15 significant digits and the shortcut's limit, to stay exact)
        return (int.len() <= 15).then_some(true);
    }
    if frac.last() == Some(&b'0') {
        return Some(false); // repr has no trailing zeros
    }
    let significant = if int == b"0" {
        // 0.000ddd: repr switches to an exponent below 1e-4
        let zeros = frac.iter().take_while(|&&c| c == b'0').count();
        if zeros > 3 {
            return Some(false);
        }
        frac.len() - zeros
    } else {
        if int.len() > 16 {
            return Some(false); // 1e16 and up have an exponent
        }
        int.len() + frac.len()
    };
    (significant <= 15).then_some(true)
}

/// Whether a JSON float token is Python's repr of its value, decided
/// without converting it when it has at most 15 significant digits and a
/// normal exponent: such a decimal is the only one of its length (or
/// shorter) that reads as its double (15 digits always round-trip), so it
/// is the repr's digits, and only the layout remains to compare. `None`:
/// decide by converting.
fn float_token_is_repr(token: &[u8]) -> Option<bool> {
    let body = token.strip_prefix(b"-").unwrap_or(token);
    let (mantissa, exponent) = match body.iter().position(|&c| c == b'e' || c == b'E') {
        Some(i) => (&body[..i], Some(&body[i..])),
        None => (body, None),
    };
    let (int_part, frac_part) = match mantissa.iter().position(|&c| c == b'.') {
        Some(i) => (&mantissa[..i], Some(&mantissa[i + 1..])),
        None => (mantissa, None),
    };
    let frac = frac_part.unwrap_or(b"");
    let e: i32 = match exponent {
        None => 0,
        Some(text) if text.len() <= 6 => std::str::from_utf8(&text[1..]).ok()?.parse().ok()?,
        Some(_) => return None,
    };
    let digit = |i: usize| if i < int_part.len() { int_part[i] } else { frac[i - int_part.len()] };
    let total = int_part.len() + frac.len();
    let Some(first) = (0..total).find(|&i| digit(i) != b'0') else {
        // zero: Python writes 0.0 and -0.0
        return Some(body == b"0.0");
    };
    let last = (0..total).rev().find(|&i| digit(i) != b'0')?;
    let exp = int_part.len() as i32 - 1 - first as i32 + e;
    if last - first + 1 > 15 || !(-307..=308).contains(&exp) {
        return None;
    }
    // The digits are the repr's; compare the layout.
    Some(if (-4..16).contains(&exp) {
        // fixed: no exponent; a fraction without trailing zeros, or ".0"
        // when every digit is in the integer part
        exponent.is_none()
            && match frac_part {
                Some(b"0") => last < int_part.len(),
                Some(f) => f.last().is_some_and(|&c| c != b'0'),
                None => false,
            }
    } else {
        // scientific: one non-zero digit, the rest after a point without
        // trailing zeros, then e, a sign and at least two exponent digits
        let exponent = exponent.unwrap_or(b"");
        let exp_digits = exponent.get(2..).unwrap_or(b"");
        int_part.len() == 1
            && first == 0
            && match frac_part {
                None => last == 0,
                Some(f) => f.last().is_some_and(|&c| c != b'0'),
            }
            && exponent.len() >= 4
            && exponent[0] == b'e'
            && (exponent[1] == b'+' || exponent[1] == b'-')
            && (exp_digits.len() == 2 || exp_digits[0] != b'0')
    })
}

/// A JSON string as `json.dumps` writes it (ASCII, Python's escapes).
pub(crate) fn write_string(out: &mut String, s: &str) {
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
    fn canonical_texts_are_recognised_by_hand() {
        for text in [
            "null", "true", "0", "-1", "123456789012345678901234567890", "1.0", "-0.0", "1e+16", "1e-05", "0.1",
            r#""""#, r#""a/b""#, r#""\u00e9""#, r#""\ud83d\ude00""#, r#""\u007f""#, r#""\u001f""#, r#""\n\t\"\\""#,
            "[]", "{}", "[1, [2, {}]]", r#"{"a": 1, "b": {"a": null}}"#,
        ] {
            assert!(is_canonical(text), "{text}");
            assert_eq!(dumps(text), text);
        }
        for text in [
            "", " 1", "1 ", "-0", "01", "1.", "1e16", "1E+16", "1.50", "100000.0e0", "[1,2]", "[1,  2]", "{\"a\":1}",
            r#"{"a": 1, "a": 2}"#, r#""é""#, r#""\u0041""#, r#""\u000a""#, r#""\u00E9""#, r#""\ud83d""#,
            r#""\ude00""#, r#""\/""#, "\"\u{7f}\"", "nul", "[", "{\"a\": }", "NaN", "1e400",
        ] {
            assert!(!is_canonical(text), "{text}");
        }
    }

    /// Random values written as json.dumps writes them are canonical; random
    /// respellings are accepted only when they are exactly that text.
    #[test]
    fn canonical_check_agrees_with_writing_the_parsed_value() {
        use crate::test_rng::Rng;
        const PIECES: [&str; 24] = [
            "0", "-0", "7", "-12", "1.5", "1e+16", "1e16", "0.1", "2.50", "1E-5", "123456789012345678901",
            r#""a""#, r#""\u00e9""#, r#""é""#, r#""\u0041""#, r#""\ud83d\ude00""#, r#""\n""#, "true", "null",
            "[]", "{}", r#""\u001f""#, r#""x\/y""#, "false",
        ];
        fn build(rng: &mut Rng, depth: usize, out: &mut String) {
            let spaced = rng.below(8) != 0;
            let (comma, colon) = if spaced { (", ", ": ") } else { (",", ":") };
            match if depth > 3 { 0 } else { rng.below(4) } {
                0 | 1 => out.push_str(PIECES[rng.below(PIECES.len())]),
                2 => {
                    out.push('[');
                    for i in 0..rng.below(4) {
                        if i > 0 {
                            out.push_str(comma);
                        }
                        build(rng, depth + 1, out);
                    }
                    out.push(']');
                }
                _ => {
                    out.push('{');
                    for i in 0..rng.below(4) {
                        if i > 0 {
                            out.push_str(comma);
                        }
                        out.push_str(["\"k\"", "\"l\"", "\"\\u00e9\""][rng.below(3)]);
                        out.push_str(colon);
                        build(rng, depth + 1, out);
                    }
                    out.push('}');
                }
            }
        }
        let mut rng = Rng(0x15ca_0011_ca15_0001);
        let (mut canonical, mut other) = (0, 0);
        for _ in 0..20_000 {
            let mut text = String::new();
            build(&mut rng, 0, &mut text);
            let value: Value = serde_json::from_str(&text).unwrap();
            let written = to_python_json(&value).unwrap();
            assert!(is_canonical(&written), "{written}");
            if is_canonical(&text) {
                assert_eq!(written, text);
                canonical += 1;
            } else {
                assert_ne!(written, text, "canonical but refused: {text}");
                other += 1;
            }
        }
        assert!(canonical > 2_000 && other > 2_000, "{canonical} {other}");
    }

    /// The shortcut for floats decides as converting would, wherever it
    /// decides: on Python reprs of random doubles and respellings of them.
    #[test]
    fn float_shortcut_agrees_with_converting() {
        use crate::test_rng::Rng;
        let slow = |token: &str| {
            let f: f64 = token.parse().unwrap();
            let mut repr = String::new();
            write_float(&mut repr, f);
            f.is_finite() && repr == token
        };
        let mut rng = Rng(0xf10a_7000_0000_0001);
        let (mut decided, mut total) = (0, 0);
        for i in 0..50_000 {
            let f = match i % 3 {
                0 => f64::from_bits(rng.next()),
                1 => (rng.below(2_000_000) as f64 - 1e6) / 10f64.powi(rng.below(12) as i32),
                _ => (rng.next() >> 11) as f64 * 10f64.powi(rng.below(40) as i32 - 20),
            };
            if !f.is_finite() {
                continue;
            }
            let mut repr = String::new();
            write_float(&mut repr, f);
            let mantissa_exp = format!("{f:e}");
            let variants = [
                repr.clone(),
                format!("{repr}0"),
                repr.replace("e+", "e"),
                repr.replace('e', "E"),
                format!("{f}"),
                mantissa_exp.clone(),
                mantissa_exp.replace('e', ".0e"),
                format!("{f:.3}"),
            ];
            for token in variants {
                // only JSON number tokens with a fraction or exponent
                if !token.contains(['.', 'e', 'E']) || token.ends_with('.') || token.contains(".e") || token.starts_with('.') {
                    continue;
                }
                if !token.parse::<f64>().is_ok_and(f64::is_finite) || token.matches('.').count() > 1 {
                    continue;
                }
                total += 1;
                if let Some(fast) = float_token_is_repr(token.as_bytes()) {
                    decided += 1;
                    assert_eq!(fast, slow(&token), "{token} (from {f:e})");
                }
            }
        }
        assert!(decided * 3 > total, "the shortcut decided {decided} of {total}");
    }

    #[test]
    fn numbers_beyond_a_double_are_refused() {
        let v: Value = serde_json::from_str("1e400").unwrap();
        assert!(matches!(to_python_json(&v), Err(Error::InvalidJson(_))));
    }
}
