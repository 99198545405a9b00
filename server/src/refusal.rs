//! Why the server refused a request, in terms every transport can answer with: a class (which the
//! REST API turns into its status), a stable code for programs and a sentence for people.

use std::fmt;

/// What kind of refusal it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The request is malformed or out of bounds.
    Invalid,
    /// The caller may not do this.
    Forbidden,
    /// What it names does not exist.
    NotFound,
    /// It contradicts the current state (the message says why).
    Conflict,
    /// It would take something past a size limit.
    TooLarge,
    /// The server cannot do it right now; retrying later may work.
    Unavailable,
    /// Something the server should have prevented.
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub class: Class,
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    pub fn new(class: Class, code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            class,
            code,
            message: message.into(),
        }
    }

    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Class::Invalid, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Class::Conflict, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Class::NotFound, code, message)
    }

    pub fn internal(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Class::Internal, code, message)
    }

    /// Storage failed: the caller may retry.
    pub fn storage(e: impl fmt::Display) -> Self {
        Self::new(
            Class::Unavailable,
            "storage_unavailable",
            format!("storage is unavailable: {e}; retry later"),
        )
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Refusal {}
