//! The journey-map document schema (`SCHEMA.md`): ranks, the typed model and the tolerant reader.

pub mod edit;
pub mod model;
pub mod rank;
pub mod read;
pub mod templates;
pub mod write;

pub use edit::{At, Collection, EditError, Editor};
pub use model::*;
pub use read::{Read, read, read_meta};
pub use write::write;
