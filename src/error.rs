//! Errors of the safe core. The FFI layer maps each variant to one status code.

/// Every way an operation of the core can fail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A value lies outside the range its type or operation allows.
    #[error("{0}")]
    OutOfRange(String),

    /// An argument is well-formed but not acceptable here.
    #[error("{0}")]
    InvalidArgument(String),

    /// JSON text could not be parsed.
    #[error("invalid JSON: {0}")]
    InvalidJson(String),

    /// Text (such as an RFC 3339 timestamp) does not follow its grammar.
    #[error("{0}")]
    Parse(String),
}

/// Result of a core operation.
pub type Result<T> = std::result::Result<T, Error>;

/// The most bytes of caller or wire input an error message quotes (after
/// escaping), so that a message stays small whatever the input's size.
pub const QUOTE_LIMIT: usize = 64;

/// Caller or wire input quoted for an error message: in single quotes,
/// with quotes, backslashes and unprintable characters escaped as Rust
/// does, and cut on a character boundary so that the escaped text is at
/// most [`QUOTE_LIMIT`] bytes; a cut is followed by `...` and the length of
/// the whole input (`'2024-01-...'... (100000000 bytes)`).
///
/// Every message of the library that quotes input goes through this, so
/// that a 100 MB input gives a message of about 100 bytes, not 500 MB.
#[derive(Clone, Copy)]
pub struct Quoted<'a>(pub &'a str);

impl std::fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = String::with_capacity(QUOTE_LIMIT + 2);
        out.push('\'');
        let mut cut = false;
        let mut escaped = String::new();
        for c in self.0.chars() {
            escaped.clear();
            match c {
                '\'' => escaped.push_str("\\'"),
                '"' => escaped.push('"'),
                _ => escaped.extend(c.escape_debug()),
            }
            if out.len() - 1 + escaped.len() > QUOTE_LIMIT {
                cut = true;
                break;
            }
            out.push_str(&escaped);
        }
        out.push('\'');
        f.write_str(&out)?;
        if cut {
            write!(f, "... ({} bytes)", self.0.len())?;
        }
        Ok(())
    }
}

/// A message from outside the library (a validator's, the dynamic
/// loader's, a peer's) cut to at most `limit` bytes on a character
/// boundary, with `... (N bytes in all)` after a cut: such text can quote
/// input at any length.
pub fn bounded_message(message: &str, limit: usize) -> String {
    if message.len() <= limit {
        return message.to_owned();
    }
    let mut end = limit;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes in all)", &message[..end], message.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_input_is_quoted_whole_and_escaped() {
        assert_eq!(Quoted("abc").to_string(), "'abc'");
        assert_eq!(Quoted("a'b\\c\n\u{1}\"é").to_string(), "'a\\'b\\\\c\\n\\u{1}\"é'");
        assert_eq!(Quoted("").to_string(), "''");
        let exact = "x".repeat(QUOTE_LIMIT);
        assert_eq!(Quoted(&exact).to_string(), format!("'{exact}'"));
    }

    #[test]
    fn long_input_is_cut_on_a_char_boundary_and_its_length_given() {
        let long = "x".repeat(QUOTE_LIMIT + 1);
        assert_eq!(Quoted(&long).to_string(), format!("'{}'... (65 bytes)", "x".repeat(QUOTE_LIMIT)));
        // escapes count towards the limit: 0x01 escapes to six bytes
        let controls = "\u{1}".repeat(100_000_000);
        let quoted = Quoted(&controls).to_string();
        assert!(quoted.len() < 100, "{quoted}");
        assert!(quoted.ends_with("... (100000000 bytes)"), "{quoted}");
        // a multi-byte character is never split
        let wide = "é".repeat(100);
        let quoted = Quoted(&wide).to_string();
        assert!(quoted.starts_with(&format!("'{}'", "é".repeat(QUOTE_LIMIT / 2))), "{quoted}");
    }

    #[test]
    fn bounded_message_cuts_long_text_only() {
        assert_eq!(bounded_message("short", 10), "short");
        assert_eq!(bounded_message("ééééé", 3), "é... (10 bytes in all)");
    }
}
