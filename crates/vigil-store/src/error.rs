//! Errors of the store, split between what the user can correct and what is
//! internal.

use vigil_domain::{DomainError, TransitionError};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist.
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },
    /// A unique key is already taken.
    #[error("{what} {key} already exists")]
    AlreadyExists { what: &'static str, key: String },
    /// A reference to another object is wrong (for example a parent
    /// organisation that does not exist, or a version of another product).
    #[error("{0}")]
    InvalidReference(String),
    /// Someone else changed the object first; reload and decide again.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The lifecycle rules refuse the transition.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// A value breaks a domain rule.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The import was refused; nothing was written.
    #[error("import refused: {0}")]
    ImportRefused(String),
    /// The archive being exported could not be written.
    #[error("cannot write the archive: {0}")]
    ArchiveOutput(std::io::Error),
    /// Stored data no longer parse: the database was changed outside Vigil.
    #[error("stored {what} is invalid: {detail}")]
    Corrupt { what: &'static str, detail: String },
    /// The database failed; the detail is for the log, not the user.
    #[error("database error: {0}")]
    Database(Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// True for errors the user caused and can correct.
    pub fn is_user_error(&self) -> bool {
        !matches!(self, StoreError::Database(_) | StoreError::Corrupt { .. })
    }

    pub fn corrupt(what: &'static str, detail: impl std::fmt::Display) -> Self {
        StoreError::Corrupt {
            what,
            detail: detail.to_string(),
        }
    }
}
