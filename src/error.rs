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
