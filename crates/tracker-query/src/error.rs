//! The one error type of the parser.

use thiserror::Error;

/// Why a query could not be parsed. Every variant carries the byte offset (0-based) into the query
/// where the problem starts, so the server can answer `400` with a message that points at it; the
/// `Display` text is meant to be that message verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// A token that the grammar does not allow where it stands.
    #[error("Unexpected token \"{token}\" at position {position}")]
    UnexpectedToken { token: String, position: usize },
    /// The query stopped where something more was required (a value after `:`, a closing `)`…).
    #[error("Unexpected end of query at position {position}")]
    UnexpectedEnd { position: usize },
    /// A `"` without its closing partner.
    #[error("Unterminated string starting at position {position}")]
    UnterminatedString { position: usize },
    /// `name(` where `name` is not one of the documented functions.
    #[error("Unknown function \"{name}()\" at position {position}")]
    UnknownFunction { name: String, position: usize },
    /// A documented function used where it has no meaning, e.g. `Created: > empty()`.
    #[error("Function \"{name}()\" cannot be used here at position {position}")]
    FunctionNotAllowed { name: String, position: usize },
    /// Date arithmetic whose right-hand side is not a duration like `1w 2d 3h 4m 5s`.
    #[error("Invalid time interval \"{token}\" at position {position}")]
    InvalidDuration { token: String, position: usize },
    /// Parentheses nested deeper than [`crate::MAX_DEPTH`]; guards the stack against hostile input.
    #[error("Query is nested too deeply at position {position}")]
    TooDeep { position: usize },
}

impl ParseError {
    /// Byte offset into the query where the problem starts.
    pub fn position(&self) -> usize {
        match self {
            ParseError::UnexpectedToken { position, .. }
            | ParseError::UnexpectedEnd { position }
            | ParseError::UnterminatedString { position }
            | ParseError::UnknownFunction { position, .. }
            | ParseError::FunctionNotAllowed { position, .. }
            | ParseError::InvalidDuration { position, .. }
            | ParseError::TooDeep { position } => *position,
        }
    }
}
