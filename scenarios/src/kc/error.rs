//! Errors in a kernel-C scheme, each at a position of the `.c` file, printed
//! the way gcc prints them so editors jump to the line.

use std::fmt;

/// One error in a `.c` scheme: `file.c:LINE:COL: error: MESSAGE`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct KcError {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line (0 when the error is about the whole file).
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What is wrong, and what to write instead where there is a fix.
    pub message: String,
}

impl fmt::Display for KcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: error: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: error: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

impl KcError {
    /// An error at `line:column` of `file`.
    pub fn at(file: &str, line: u32, column: u32, message: impl Into<String>) -> KcError {
        KcError {
            file: file.to_string(),
            line,
            column,
            message: message.into(),
        }
    }
}

/// A result whose error is a [`KcError`].
pub type Result<T> = std::result::Result<T, KcError>;
